//! Bird: `GET /workspaces/{workspaceId}/conversations/{conversationId}/messages`.
//!
//! `Authorization: AccessKey <key>`; newest first (`reverse=true`: oldest
//! first); `limit` (1 to 100, default 10); an opaque `pageToken` (standard
//! base64 of JSON: the key of the last message served, or an offset, and a
//! nonce that makes every token new); `dateFrom`. The body is `{results,
//! nextPageToken, total, totalType}`, with an empty `nextPageToken` on the
//! last page.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{
    PageKind, PageRequest, Reply, Token, authorization, cap, decode_segment, format_time, parse_time, understatement,
};
use crate::server::{Recorded, State};
use crate::store::{Msg, View};
use crate::{Behaviour, BirdTokens, Options, Vendor};

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

fn code_for(status: u16) -> &'static str {
    match status {
        400 => "InvalidArgument",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        429 => "TooManyRequests",
        _ => "InternalError",
    }
}

pub(super) fn error(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({"code": code_for(status), "message": text, "details": {}}))
}

pub(super) fn echo(status: u16, credential: &str) -> Reply {
    let text =
        if status == 401 { format!("bad key {credential}") } else { format!("malformed credential {credential}") };
    error(status, &text)
}

pub(super) fn parse(options: &Options, request: &Recorded) -> Result<PageRequest, Reply> {
    if authorization(request, &["AccessKey"]).is_none() {
        return Err(error(401, "missing or invalid access key"));
    }
    let not_found = || error(404, "The resource specified in the URL was not found");
    let rest = request.path.strip_prefix("/workspaces/").ok_or_else(not_found)?;
    let (workspace, rest) = rest.split_once("/conversations/").ok_or_else(not_found)?;
    let conversation = rest.strip_suffix("/messages").ok_or_else(not_found)?;
    let (workspace, conversation) = match (decode_segment(workspace), decode_segment(conversation)) {
        (Some(w), Some(c)) => (w, c),
        _ => return Err(not_found()),
    };
    if workspace != options.workspace_id {
        return Err(error(403, "User has no access to the requested resource"));
    }
    if conversation != options.conversation_id {
        return Err(not_found());
    }
    let limit = match request.param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(error(400, "limit must be between 1 and 100")),
        },
    };
    let mut view = View::default_for(Vendor::Bird);
    match request.param("reverse").as_deref() {
        None | Some("false") => {}
        Some("true") => view.descending = false,
        Some(_) => return Err(error(400, "reverse must be true or false")),
    }
    if let Some(text) = request.param("dateFrom") {
        view.from_ms = Some(parse_time(&text).ok_or_else(|| error(400, "dateFrom must be a date-time"))?);
    }
    let token = match request.param("pageToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(text) => Some(decode(&text).ok_or_else(|| error(400, "invalid pageToken"))?),
    };
    Ok(PageRequest { view, limit, kind: PageKind::Token { token } })
}

fn decode(text: &str) -> Option<Token> {
    let bytes = STANDARD.decode(text.as_bytes()).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(offset) = value.get("o").and_then(Value::as_u64) {
        return Some(Token::Offset(offset as usize));
    }
    let key = value.get("k")?.as_array()?;
    let nanos = key.first()?.as_i64()?;
    let id = key.get(1)?.as_str()?.to_owned();
    Some(Token::After { created_ms: nanos / 1_000_000, id })
}

fn encode(token: &Token, nonce: u64) -> String {
    let value = match token {
        Token::Offset(offset) => json!({"o": offset, "n": nonce}),
        Token::After { created_ms, id } => json!({"k": [created_ms * 1_000_000, id], "n": nonce}),
    };
    STANDARD.encode(value.to_string())
}

fn message(options: &Options, m: &Msg) -> Value {
    let (sender, sender_type, source) = if m.inbound() {
        ("3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a", "contact", "channels")
    } else {
        ("7e6d5c4b-3a29-4180-8f7e-6d5c4b3a2918", "user", "conversations")
    };
    json!({
        "id": m.id,
        "conversationId": options.conversation_id,
        "reference": "",
        "sender": {"id": sender, "type": sender_type, "status": "active", "displayName": "Hostile Sender", "avatarUrl": ""},
        "recipients": [{"type": "to", "id": "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9", "identifierKey": "phonenumber", "identifierValue": "+31600000000", "platformAddress": "+31600000000"}],
        "draft": false,
        "status": "delivered",
        "source": source,
        "body": {"type": "text", "text": {"text": m.text()}},
        "interactions": null,
        "createdAt": format_time(m.created_ms, "Z"),
        "updatedAt": format_time(m.created_ms, "Z"),
    })
}

pub(super) fn serve(options: &Options, state: &mut State, page: &PageRequest, _ordinal: usize) -> Reply {
    let PageKind::Token { token } = &page.kind else {
        return error(500, "hostile server: not a token page");
    };
    let items = page.view.list(&state.store.messages);
    let same_page = options.behaviour == Behaviour::SamePageFreshToken;
    let start = match token {
        _ if same_page => 0,
        None => 0,
        Some(Token::Offset(offset)) => (*offset).min(items.len()),
        Some(Token::After { created_ms, id }) => {
            let key = Msg { seq: 0, id: id.clone(), created_ms: *created_ms };
            items.iter().position(|m| page.view.cmp(m, &key).is_gt()).unwrap_or(items.len())
        }
    };
    let applied = cap(options).map_or(page.limit, |c| page.limit.min(c));
    let served: Vec<&Msg> = items.iter().skip(start).take(applied).collect();
    let end = start + served.len();
    let more = end < items.len();
    let one_early = options.behaviour == Behaviour::TokenOneEarly;
    let next = if more || same_page {
        let back = usize::from(one_early && served.len() >= 2);
        let next = match options.bird_tokens {
            BirdTokens::Offset => Token::Offset(end - back),
            BirdTokens::Keyset => match served.len().checked_sub(1 + back).and_then(|i| served.get(i)) {
                Some(m) => Token::After { created_ms: m.created_ms, id: m.id.clone() },
                None => Token::Offset(end),
            },
        };
        state.nonce += 1;
        encode(&next, state.nonce)
    } else {
        String::new()
    };
    Reply::json(
        200,
        &json!({
            "results": served.iter().map(|m| message(options, m)).collect::<Vec<_>>(),
            "nextPageToken": next,
            "total": items.len().saturating_sub(understatement(options)),
            "totalType": "exact",
        }),
    )
}
