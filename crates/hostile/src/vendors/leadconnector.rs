//! LeadConnector: `GET /conversations/{conversationId}/messages`.
//!
//! `Authorization: Bearer <token>` and a `Version` header; newest first;
//! `lastMessageId` (the messages strictly after that id in this order),
//! `limit` (default 20). The body is `{lastMessageId, nextPage, messages}`,
//! or nested under `messages` with a sibling `traceId` (the live API).

use serde_json::{Value, json};

use super::{PageKind, PageRequest, Reply, authorization, cap, decode_segment, format_time};
use crate::server::{Recorded, State};
use crate::store::{Msg, View};
use crate::{Behaviour, Options, Vendor};

const DEFAULT_LIMIT: usize = 20;

fn reason(status: u16) -> &'static str {
    hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error")
}

pub(super) fn error(status: u16, text: &str) -> Reply {
    let message = if status == 422 { json!([text]) } else { json!(text) };
    Reply::json(status, &json!({"statusCode": status, "message": message, "error": reason(status)}))
}

pub(super) fn echo(status: u16, credential: &str) -> Reply {
    let text = if status == 401 {
        format!("Invalid token: access token {credential} is invalid")
    } else {
        format!("Bad Request: cannot read credential {credential}")
    };
    error(status, &text)
}

pub(super) fn parse(options: &Options, request: &Recorded) -> Result<PageRequest, Reply> {
    if authorization(request, &["Bearer"]).is_none() {
        return Err(error(401, "Invalid JWT"));
    }
    if request.header("version").is_none_or(|v| v.trim().is_empty()) {
        return Err(error(400, "version header was not found"));
    }
    let conversation = request
        .path
        .strip_prefix("/conversations/")
        .and_then(|rest| rest.strip_suffix("/messages"))
        .and_then(decode_segment)
        .ok_or_else(|| error(404, &format!("Cannot GET {}", request.path)))?;
    if conversation != options.conversation_id {
        return Err(error(404, "Conversation not found"));
    }
    let limit = match request.param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(n) if n >= 1.0 && n.fract() == 0.0 => n as usize,
            _ => return Err(error(422, "limit must be a positive integer")),
        },
    };
    let last_message_id = request.param("lastMessageId").filter(|id| !id.is_empty());
    Ok(PageRequest {
        view: View::default_for(Vendor::Leadconnector),
        limit,
        kind: PageKind::Cursor { last_message_id },
    })
}

fn message(options: &Options, m: &Msg) -> Value {
    json!({
        "id": m.id,
        "type": 2,
        "messageType": "TYPE_SMS",
        "locationId": "hstLocation000000001",
        "contactId": "hstContact0000000001",
        "conversationId": options.conversation_id,
        "dateAdded": format_time(m.created_ms, "Z"),
        "body": m.text(),
        "direction": if m.inbound() { "inbound" } else { "outbound" },
        "status": "delivered",
        "contentType": "text/plain",
        "source": "app",
    })
}

pub(super) fn serve(options: &Options, state: &mut State, page: &PageRequest, ordinal: usize) -> Reply {
    let PageKind::Cursor { last_message_id } = &page.kind else {
        return error(500, "hostile server: not a cursor page");
    };
    let items = page.view.list(&state.store.messages);
    let start = match last_message_id {
        None => 0,
        Some(id) => match items.iter().position(|m| &m.id == id) {
            Some(i) => i + 1,
            None => return error(400, "lastMessageId does not belong to this conversation"),
        },
    };
    let applied = cap(options).map_or(page.limit, |c| page.limit.min(c));
    let served: Vec<&Msg> = items.iter().skip(start).take(applied).collect();
    let next_page = start + served.len() < items.len();
    let mut cursor = served.last().map(|m| m.id.clone()).or_else(|| last_message_id.clone()).unwrap_or_default();
    if ordinal == 2 && next_page && !state.fired {
        match options.behaviour {
            Behaviour::CursorIntoSamePage if served.len() >= 2 => {
                state.fired = true;
                cursor = served[1].id.clone();
            }
            Behaviour::CursorIntoPreviousPage if state.previous_page.len() >= 2 => {
                state.fired = true;
                cursor = state.previous_page[1].clone();
            }
            _ => {}
        }
    }
    state.previous_page = served.iter().map(|m| m.id.clone()).collect();
    let page_body = json!({
        "lastMessageId": cursor,
        "nextPage": next_page,
        "messages": served.iter().map(|m| message(options, m)).collect::<Vec<_>>(),
    });
    let body = if options.nested {
        json!({"messages": page_body, "traceId": format!("hst-trace-{}", state.requests.len())})
    } else {
        page_body
    };
    Reply::json(200, &body)
}
