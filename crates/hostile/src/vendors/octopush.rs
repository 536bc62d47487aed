//! Octopush: `GET /v1/public/conversations/messages/list`.
//!
//! Headers `api-key` and `api-login`; `page` (from 1, default 1),
//! `per_page` (default 50), `conversation_id` (`cid_{uuid}`). A bare JSON
//! array, no timestamps; the last page is the short one. Like Octopush, a
//! parameter it cannot read is replaced by its default, and a selector that
//! matches nothing gives `[]`.

use serde_json::{Value, json};

use super::{PageKind, PageRequest, Reply, cap, missing};
use crate::server::{Recorded, State};
use crate::store::{Msg, View};
use crate::{Options, Vendor};

const DEFAULT_PER_PAGE: usize = 50;

pub(super) fn error(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({"code": status, "message": text}))
}

fn lenient(text: Option<String>) -> Option<usize> {
    text?.trim().parse::<usize>().ok().filter(|&n| n >= 1)
}

pub(super) fn parse(options: &Options, request: &Recorded) -> Result<PageRequest, Reply> {
    let present = |name: &str| request.header(name).is_some_and(|v| !v.trim().is_empty());
    if !present("api-key") || !present("api-login") {
        return Err(error(401, "Authentication failed: api-key and api-login are required"));
    }
    if request.path != "/v1/public/conversations/messages/list" {
        return Err(error(404, "Not found"));
    }
    let number = lenient(request.param("page")).unwrap_or(1);
    let limit = lenient(request.param("per_page")).unwrap_or(DEFAULT_PER_PAGE);
    let mut view = View::default_for(Vendor::Octopush);
    if request.param("conversation_id").as_deref() != Some(options.conversation_id.as_str()) {
        // Another conversation, or none selected: nothing of this one.
        view.ids = Some(Vec::new());
    }
    Ok(PageRequest { view, limit, kind: PageKind::Numbered { number, ordinal: Some(number) } })
}

fn message(m: &Msg) -> Value {
    json!({
        "message_id": m.id,
        "text": m.text(),
        "direction": if m.inbound() { "inbound" } else { "outbound" },
        "delivery_status": if m.inbound() { Value::Null } else { json!("sending") },
        "channel": "sms",
        "user_identifier": "+33600000001",
        "user_identifiers": {"phone_number": "+33600000001", "email": "agent@example.com", "facebook_page_id": null},
        "agent_assigned_to": null,
        "contact_name": "Hostile Contact",
        "contact_identifiers": {"phone_number": "+33611111111", "email": null, "facebook_id": null},
    })
}

pub(super) fn serve(options: &Options, state: &mut State, page: &PageRequest, ordinal: usize) -> Reply {
    let PageKind::Numbered { number, .. } = page.kind else {
        return error(500, "hostile server: not a numbered page");
    };
    let items = page.view.list(&state.store.messages);
    let applied = cap(options).map_or(page.limit, |c| page.limit.min(c));
    let offset = (number - 1).saturating_mul(applied);
    let mut served: Vec<&Msg> = items.iter().skip(offset).take(applied).collect();
    served.truncate(served.len().saturating_sub(missing(options, ordinal)));
    Reply::json(200, &Value::Array(served.iter().map(|m| message(m)).collect()))
}
