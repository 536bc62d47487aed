//! What a sync reads: numbered conversations, conversations that grow
//! while the sandbox runs, and a rate limit per vendor.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use convo_sandbox::{FaultKind, RateLimit, Sandbox, SandboxOptions, Vendor, ids};
use serde_json::Value;

async fn start_with(options: SandboxOptions) -> Sandbox {
    Sandbox::start(options).await.expect("the sandbox starts")
}

/// The id of generated message `index` of `vendor`.
fn message(vendor: Vendor, index: usize) -> String {
    match vendor {
        Vendor::Infobip => ids::infobip::generated_message(index),
        Vendor::Octopush => ids::octopush::generated_message(index),
        Vendor::Leadconnector => ids::leadconnector::generated_message(index),
        Vendor::Bird => ids::bird::generated_message(index),
    }
}

/// The key of a message's id in `vendor`'s messages.
fn id_key(vendor: Vendor) -> &'static str {
    if vendor == Vendor::Octopush { "message_id" } else { "id" }
}

/// Whether `vendor` lists newest first (by default).
fn newest_first(vendor: Vendor) -> bool {
    matches!(vendor, Vendor::Leadconnector | Vendor::Bird)
}

/// Where a vendor is after one page: the next page's number or cursor.
#[derive(Debug, Clone)]
enum Next {
    Page(usize),
    Cursor(String),
}

/// One page of `conversation`, `limit` messages, at `next` (`None` is the
/// first page): the answer, its messages, and where the next page is
/// (`None` after the last).
async fn page(
    sandbox: &Sandbox,
    vendor: Vendor,
    conversation: &str,
    limit: usize,
    next: Option<&Next>,
) -> (Answer, Vec<Value>, Option<Next>) {
    let limit_text = limit.to_string();
    match vendor {
        Vendor::Infobip => {
            let number = match next {
                Some(Next::Page(n)) => *n,
                _ => 0,
            };
            let page_text = number.to_string();
            let query = [("page", page_text.as_str()), ("limit", limit_text.as_str())];
            let answer = call(sandbox, vendor, &infobip_path(conversation), &query).await;
            let messages = messages(&answer, "messages");
            let more = answer.status == 200 && messages.len() == limit;
            (answer, messages, more.then_some(Next::Page(number + 1)))
        }
        Vendor::Octopush => {
            let number = match next {
                Some(Next::Page(n)) => *n,
                _ => 1,
            };
            let page_text = number.to_string();
            let query =
                [("conversation_id", conversation), ("page", page_text.as_str()), ("per_page", limit_text.as_str())];
            let answer = call(sandbox, vendor, OCTOPUSH_PATH, &query).await;
            let messages = messages(&answer, "");
            let more = answer.status == 200 && messages.len() == limit;
            (answer, messages, more.then_some(Next::Page(number + 1)))
        }
        Vendor::Leadconnector => {
            let mut query = vec![("limit", limit_text.as_str())];
            if let Some(Next::Cursor(cursor)) = next {
                query.push(("lastMessageId", cursor.as_str()));
            }
            let answer = call(sandbox, vendor, &leadconnector_path(conversation), &query).await;
            let messages = messages(&answer, "messages");
            let next = match answer.status == 200 && answer.json()["nextPage"] == true {
                true => Some(Next::Cursor(answer.json()["lastMessageId"].as_str().unwrap().to_owned())),
                false => None,
            };
            (answer, messages, next)
        }
        Vendor::Bird => {
            let mut query = vec![("limit", limit_text.as_str())];
            if let Some(Next::Cursor(cursor)) = next {
                query.push(("pageToken", cursor.as_str()));
            }
            let answer = call(sandbox, vendor, &bird_path(conversation), &query).await;
            let messages = messages(&answer, "results");
            let next = answer.json()["nextPageToken"].as_str().map(|t| Next::Cursor(t.to_owned()));
            (answer, messages, next)
        }
    }
}

/// The messages of a 200 answer, under `key` (`""`: the body is the list).
fn messages(answer: &Answer, key: &str) -> Vec<Value> {
    if answer.status != 200 {
        return Vec::new();
    }
    let body = answer.json();
    let list = if key.is_empty() { &body } else { &body[key] };
    list.as_array().expect("a message list").clone()
}

/// The ids of every message of `conversation`, in the vendor's order, read
/// `limit` at a time.
async fn read_all(sandbox: &Sandbox, vendor: Vendor, conversation: &str, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = None;
    for _ in 0..100 {
        let (answer, messages, after) = page(sandbox, vendor, conversation, limit, next.as_ref()).await;
        assert_eq!(answer.status, 200, "{vendor} {conversation}: {}", String::from_utf8_lossy(&answer.body));
        seen.extend(messages.iter().map(|m| m[id_key(vendor)].as_str().expect("a message id").to_owned()));
        match after {
            Some(after) => next = Some(after),
            None => return seen,
        }
    }
    panic!("{vendor} {conversation}: more than 100 pages");
}

/// The generated conversation's first `n` messages, in the vendor's order.
fn expected(vendor: Vendor, n: usize) -> Vec<String> {
    let mut ids: Vec<String> = (0..n).map(|i| message(vendor, i)).collect();
    if newest_first(vendor) {
        ids.reverse();
    }
    ids
}

/// The field of a message that names its conversation (Octopush's have none).
fn conversation_field(vendor: Vendor) -> Option<&'static str> {
    (vendor != Vendor::Octopush).then_some("conversationId")
}

#[tokio::test]
async fn numbered_conversations_are_served_and_the_next_one_is_not() {
    const MESSAGES: usize = 25;
    const CONVERSATIONS: usize = 3;
    let sandbox =
        start_with(SandboxOptions { messages: MESSAGES, conversations: CONVERSATIONS, ..SandboxOptions::default() })
            .await;
    for vendor in Vendor::ALL {
        let generated = read_all(&sandbox, vendor, ids::generated(vendor), 10).await;
        assert_eq!(generated, expected(vendor, MESSAGES), "{vendor}");
        let mut distinct = HashSet::new();
        for n in 0..CONVERSATIONS {
            let id = ids::numbered(vendor, n);
            assert!(distinct.insert(id.clone()), "{id}");
            assert_ne!(id, ids::generated(vendor));
            assert_eq!(read_all(&sandbox, vendor, &id, 10).await, generated, "{vendor} {id}");
            let (_, messages, _) = page(&sandbox, vendor, &id, 5, None).await;
            if let Some(field) = conversation_field(vendor) {
                assert!(messages.iter().all(|m| m[field] == id.as_str()), "{vendor}: the messages name {id}");
            }
        }

        let beyond = ids::numbered(vendor, CONVERSATIONS);
        let (answer, messages, _) = page(&sandbox, vendor, &beyond, 10, None).await;
        match vendor {
            Vendor::Infobip => {
                assert_eq!(answer.status, 404);
                assert_eq!(answer.json()["requestError"]["serviceException"]["messageId"], "NOT_FOUND");
            }
            // Octopush answers a selector that matches nothing with an empty list.
            Vendor::Octopush => assert_eq!((answer.status, answer.json()), (200, serde_json::json!([]))),
            Vendor::Leadconnector => {
                assert_eq!(answer.status, 400);
                assert_eq!(answer.json()["message"], "Conversation not found");
            }
            Vendor::Bird => {
                assert_eq!(answer.status, 404);
                assert_eq!(answer.json()["code"], "NotFound");
            }
        }
        assert!(messages.is_empty());
    }
}

#[tokio::test]
async fn numbered_conversations_are_served_empty_without_messages() {
    let sandbox = start_with(SandboxOptions { conversations: 1, ..SandboxOptions::default() }).await;
    for vendor in Vendor::ALL {
        assert_eq!(read_all(&sandbox, vendor, &ids::numbered(vendor, 0), 10).await, Vec::<String>::new());
        assert_eq!(read_all(&sandbox, vendor, ids::generated(vendor), 10).await, Vec::<String>::new());
    }
}

#[tokio::test]
async fn too_many_numbered_conversations_are_refused() {
    let options = SandboxOptions { conversations: ids::MAX_NUMBERED, ..SandboxOptions::default() };
    let error = Sandbox::start(options).await.expect_err("too many conversations");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[tokio::test]
async fn set_messages_grows_the_conversations_and_a_second_read_sees_the_new_messages() {
    let sandbox = start_with(SandboxOptions { messages: 25, conversations: 2, ..SandboxOptions::default() }).await;
    let conversations = |vendor| [ids::generated(vendor).to_owned(), ids::numbered(vendor, 1)];
    let mut before = Vec::new();
    for vendor in Vendor::ALL {
        for conversation in conversations(vendor) {
            let read = read_all(&sandbox, vendor, &conversation, 10).await;
            assert_eq!(read, expected(vendor, 25), "{vendor} {conversation}");
            before.push(read);
        }
    }

    sandbox.set_messages(40).expect("40 messages");
    assert_eq!(sandbox.messages(), 40);
    let mut before = before.into_iter();
    for vendor in Vendor::ALL {
        let new: Vec<String> = (25..40).map(|i| message(vendor, i)).collect();
        for conversation in conversations(vendor) {
            let old = before.next().unwrap();
            let after = read_all(&sandbox, vendor, &conversation, 10).await;
            assert_eq!(after.len(), 40, "{vendor} {conversation}");
            if newest_first(vendor) {
                // The new messages come first, newest first; the old ones follow, unchanged.
                assert_eq!(after[15..], old[..], "{vendor} {conversation}");
                assert_eq!(after[..15], new.iter().rev().cloned().collect::<Vec<_>>()[..], "{vendor} {conversation}");
            } else {
                assert_eq!(after[..25], old[..], "{vendor} {conversation}");
                assert_eq!(after[25..], new[..], "{vendor} {conversation}");
            }
        }
    }

    let error = sandbox.set_messages(u32::MAX as usize + 1).expect_err("above u32::MAX");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(sandbox.messages(), 40, "a refused size changes nothing");
}

#[tokio::test]
async fn growth_during_a_read_loses_and_repeats_nothing() {
    let sandbox = start_with(SandboxOptions { messages: 25, conversations: 1, ..SandboxOptions::default() }).await;
    let mut reads = Vec::new();
    for vendor in Vendor::ALL {
        let conversation = ids::numbered(vendor, 0);
        let (answer, messages, next) = page(&sandbox, vendor, &conversation, 10, None).await;
        assert_eq!(answer.status, 200);
        let seen: Vec<String> = messages.iter().map(|m| m[id_key(vendor)].as_str().unwrap().to_owned()).collect();
        reads.push((vendor, conversation, seen, next.expect("more pages")));
    }
    sandbox.set_messages(40).unwrap();
    for (vendor, conversation, mut seen, next) in reads {
        let mut next = Some(next);
        while let Some(at) = next.take() {
            let (answer, messages, after) = page(&sandbox, vendor, &conversation, 10, Some(&at)).await;
            assert_eq!(answer.status, 200, "{vendor}");
            seen.extend(messages.iter().map(|m| m[id_key(vendor)].as_str().unwrap().to_owned()));
            next = after;
            assert!(seen.len() <= 40, "{vendor}: the read ends");
        }
        // Newest first, a cursor walks on into the older messages: the new
        // ones are for the next read. Oldest first, the read goes on into them.
        let want = if newest_first(vendor) { expected(vendor, 25) } else { expected(vendor, 40) };
        assert_eq!(seen, want, "{vendor}");
    }
}

/// The first page of each vendor's generated conversation.
async fn first_page(sandbox: &Sandbox, vendor: Vendor) -> Answer {
    page(sandbox, vendor, ids::generated(vendor), 5, None).await.0
}

#[tokio::test]
async fn a_rate_limit_refuses_with_each_vendors_429_and_serves_again_after_the_window() {
    const REQUESTS: u32 = 3;
    // A window long enough for a slow machine to send four requests in it.
    const PER: Duration = Duration::from_secs(2);
    let limit = RateLimit { requests: REQUESTS, per: PER };
    let sandbox =
        start_with(SandboxOptions { messages: 30, rate_limit: Some(limit), ..SandboxOptions::default() }).await;

    for vendor in Vendor::ALL {
        for n in 1..=REQUESTS {
            let answer = first_page(&sandbox, vendor).await;
            assert_eq!(answer.status, 200, "{vendor}: request {n} is within the budget");
            if vendor == Vendor::Leadconnector {
                assert_eq!(answer.header("x-ratelimit-limit"), Some("3"));
                assert_eq!(answer.header("x-ratelimit-max"), Some("3"));
                assert_eq!(answer.header("x-ratelimit-remaining"), Some((REQUESTS - n).to_string().as_str()));
                assert_eq!(answer.header("x-ratelimit-interval-milliseconds"), Some("2000"));
            }
        }
        let answer = first_page(&sandbox, vendor).await;
        assert_eq!(answer.status, 429, "{vendor}: request 4 is beyond it");
        let body = answer.json();
        match vendor {
            Vendor::Infobip => {
                assert_eq!(body["requestError"]["serviceException"]["messageId"], "TOO_MANY_REQUESTS", "{body}");
            }
            Vendor::Octopush => assert_eq!(body["code"], 429, "{body}"),
            Vendor::Leadconnector => {
                assert_eq!(body["statusCode"], 429, "{body}");
                assert_eq!(body["error"], "Too Many Requests", "{body}");
            }
            Vendor::Bird => assert_eq!(body["code"], "TooManyRequests", "{body}"),
        }
        if vendor == Vendor::Leadconnector {
            assert_eq!(answer.header("retry-after"), None);
            assert_eq!(answer.header("x-ratelimit-limit"), Some("3"));
            assert_eq!(answer.header("x-ratelimit-remaining"), Some("0"));
            assert_eq!(answer.header("x-ratelimit-interval-milliseconds"), Some("2000"));
        } else {
            let seconds: u64 = answer.header("retry-after").expect("a Retry-After").parse().expect("whole seconds");
            assert!((1..=2).contains(&seconds), "{vendor}: Retry-After {seconds}");
        }
        assert_eq!(sandbox.rate_limited(vendor), 1, "{vendor}");
        assert_eq!(sandbox.requests(vendor), 4, "{vendor}: refused requests are requests");
    }

    // Every window began before this wait.
    tokio::time::sleep(PER + Duration::from_millis(100)).await;
    for vendor in Vendor::ALL {
        let answer = first_page(&sandbox, vendor).await;
        assert_eq!(answer.status, 200, "{vendor}: served again after the window");
        if vendor == Vendor::Leadconnector {
            assert_eq!(answer.header("x-ratelimit-remaining"), Some("2"));
        }
        assert_eq!(sandbox.rate_limited(vendor), 1, "{vendor}");
        assert_eq!(sandbox.requests(vendor), 5, "{vendor}");
    }
}

#[tokio::test]
async fn faults_and_delay_keep_working_under_a_rate_limit() {
    let delay = Duration::from_millis(50);
    let options = SandboxOptions {
        messages: 30,
        delay,
        faults: vec![
            fault(Vendor::Bird, 2, FaultKind::Status { status: 503, retry_after: None }),
            // A fault on a refused request does not happen.
            fault(Vendor::Bird, 3, FaultKind::DropConnection),
        ],
        rate_limit: Some(RateLimit { requests: 2, per: Duration::from_secs(60) }),
        ..SandboxOptions::default()
    };
    let sandbox = start_with(options).await;
    let started = Instant::now();
    assert_eq!(first_page(&sandbox, Vendor::Bird).await.status, 200);
    assert_eq!(first_page(&sandbox, Vendor::Bird).await.status, 503, "a faulty request takes its slot");
    let answer = first_page(&sandbox, Vendor::Bird).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.header("retry-after"), Some("60"));
    assert!(started.elapsed() >= delay * 3, "every answer is delayed, refusals too");
    assert_eq!((sandbox.requests(Vendor::Bird), sandbox.rate_limited(Vendor::Bird)), (3, 1));
    // The other vendors' budgets are their own.
    assert_eq!(first_page(&sandbox, Vendor::Infobip).await.status, 200);
    assert_eq!(sandbox.rate_limited(Vendor::Infobip), 0);
}

#[tokio::test]
async fn an_empty_rate_limit_is_refused() {
    for limit in
        [RateLimit { requests: 0, per: Duration::from_secs(1) }, RateLimit { requests: 1, per: Duration::ZERO }]
    {
        let options = SandboxOptions { rate_limit: Some(limit), ..SandboxOptions::default() };
        let error = Sandbox::start(options).await.expect_err("an empty budget");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{limit:?}");
    }
}
