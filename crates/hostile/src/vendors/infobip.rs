//! Infobip: `GET /ccaas/1/conversations/{conversationId}/messages`.
//!
//! `Authorization: App <key>` (or Basic, IBSSO, Bearer); `limit` (default
//! 10, at most 999), `page` (from 0), `orderBy` (`id:asc` default, also
//! `createdAt`, direction in any case), `createdAfter` / `createdBefore`
//! (exclusive), `messageIds` (repeated keys, or comma-separated). The body
//! is `{messages, pagination: {totalItems, page, limit, orderBy}}`, where
//! `totalItems` counts the filtered set.

use serde_json::{Value, json};

use super::{
    PageKind, PageRequest, Reply, authorization, cap, decode_segment, format_time, missing, parse_time, understatement,
};
use crate::server::{Recorded, State};
use crate::store::{Msg, SortKey, View};
use crate::{Options, Vendor};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 999;

fn message_id_for(status: u16) -> &'static str {
    match status {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        429 => "TOO_MANY_REQUESTS",
        500 => "GENERAL_ERROR",
        _ => "ERROR",
    }
}

pub(super) fn error(status: u16, text: &str) -> Reply {
    Reply::json(
        status,
        &json!({"requestError": {"serviceException": {"messageId": message_id_for(status), "text": text}}}),
    )
}

pub(super) fn echo(status: u16, credential: &str) -> Reply {
    let text = if status == 401 {
        format!("Invalid key {credential}")
    } else {
        format!("Bad request: malformed credential {credential}")
    };
    error(status, &text)
}

fn bad(text: impl AsRef<str>) -> Reply {
    error(400, text.as_ref())
}

pub(super) fn parse(options: &Options, request: &Recorded) -> Result<PageRequest, Reply> {
    if authorization(request, &["App", "Basic", "IBSSO", "Bearer"]).is_none() {
        return Err(error(401, "Invalid login details"));
    }
    let conversation = request
        .path
        .strip_prefix("/ccaas/1/conversations/")
        .and_then(|rest| rest.strip_suffix("/messages"))
        .and_then(decode_segment)
        .ok_or_else(|| error(404, "Requested URL not found"))?;
    if conversation != options.conversation_id {
        return Err(error(404, "Conversation not found"));
    }
    let limit = match request.param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(bad(format!("limit must be a number from 1 to {MAX_LIMIT}"))),
        },
    };
    let number = match request.param("page") {
        None => 0,
        Some(text) => text.trim().parse::<usize>().map_err(|_| bad("page must be a number from 0"))?,
    };
    let (key, descending) =
        order_by(request.param("orderBy").as_deref().unwrap_or("id:asc")).ok_or_else(|| bad("Invalid orderBy"))?;
    let time = |name: &str| match request.param(name) {
        None => Ok(None),
        Some(text) => {
            parse_time(&text).map(Some).ok_or_else(|| bad(format!("{name} must be yyyy-MM-dd'T'HH:mm:ss.SSS+0000")))
        }
    };
    let after_ms = time("createdAfter")?;
    let before_ms = time("createdBefore")?;
    let ids: Vec<String> = request
        .param_all("messageIds")
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    let view = View { key, descending, after_ms, before_ms, from_ms: None, ids: (!ids.is_empty()).then_some(ids) };
    Ok(PageRequest { view, limit, kind: PageKind::Numbered { number, ordinal: (number > 0).then_some(number + 1) } })
}

/// `field:direction`, the direction in any case and optional.
fn order_by(text: &str) -> Option<(SortKey, bool)> {
    let (field, direction) = text.trim().split_once(':').unwrap_or((text.trim(), "asc"));
    let key = match field.trim() {
        f if f.eq_ignore_ascii_case("id") => SortKey::Id,
        f if f.eq_ignore_ascii_case("createdAt") => SortKey::Created,
        _ => return None,
    };
    let descending = match direction.trim() {
        d if d.eq_ignore_ascii_case("asc") => false,
        d if d.eq_ignore_ascii_case("desc") => true,
        _ => return None,
    };
    Some((key, descending))
}

fn order_by_echo(view: &View) -> String {
    let field = if view.key == SortKey::Created { "createdAt" } else { "id" };
    format!("{field}:{}", if view.descending { "DESC" } else { "ASC" })
}

fn message(options: &Options, m: &Msg) -> Value {
    let (ours, theirs) = ("447496389711", "447492263899");
    let (from, to) = if m.inbound() { (theirs, ours) } else { (ours, theirs) };
    json!({
        "id": m.id,
        "from": from,
        "to": to,
        "channel": "SMS",
        "direction": if m.inbound() { "INBOUND" } else { "OUTBOUND" },
        "conversationId": options.conversation_id,
        "createdAt": format_time(m.created_ms, "+00:00"),
        "updatedAt": format_time(m.created_ms, "+00:00"),
        "contentType": "TEXT",
        "content": {"text": m.text()},
    })
}

pub(super) fn serve(options: &Options, state: &mut State, page: &PageRequest, ordinal: usize) -> Reply {
    debug_assert_eq!(options.vendor, Vendor::Infobip);
    let PageKind::Numbered { number, .. } = page.kind else {
        return error(500, "hostile server: not a numbered page");
    };
    let items = page.view.list(&state.store.messages);
    let applied = cap(options).map_or(page.limit, |c| page.limit.min(c));
    let capped = applied < page.limit;
    let offset = number.saturating_mul(applied);
    let mut served: Vec<&Msg> = items.iter().skip(offset).take(applied).collect();
    served.truncate(served.len().saturating_sub(missing(options, ordinal)));
    let mut body = json!({"messages": served.iter().map(|m| message(options, m)).collect::<Vec<_>>()});
    if !capped {
        body["pagination"] = json!({
            "totalItems": items.len().saturating_sub(understatement(options)),
            "page": number,
            "limit": applied,
            "orderBy": order_by_echo(&page.view),
        });
    }
    Reply::json(200, &body)
}
