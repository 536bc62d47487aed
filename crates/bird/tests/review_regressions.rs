//! Regressions from a review of the paging engine: tokens that skip or
//! cycle back must end the read with a typed error, never a wrong set.

use convo_bird::{Client, MessagesQuery, PagingOptions, RetryPolicy, SecretString};
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, Request, Respond, ResponseTemplate};
use futures::StreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

fn message(i: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("m{i:05}"), "conversationId": "c", "sender": {"id": "s", "type": "contact"},
        "status": "delivered", "body": {"type": "text", "text": {"text": format!("message {i}")}},
        "createdAt": format!("2024-11-15T13:34:{:02}.{:09}Z", i % 60, i),
    })
}

/// Token `tokN` = offset N. `next` maps (request number, offset, limit) to the next offset.
struct Conv {
    len: usize,
    total: Option<usize>,
    n: AtomicUsize,
    next: fn(usize, usize, usize) -> usize,
}
impl Respond for Conv {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        let q: std::collections::HashMap<String, String> = r.url.query_pairs().into_owned().collect();
        let start: usize = q
            .get("pageToken")
            .map(|t| t.trim_start_matches("tok").split('.').next().unwrap().parse().unwrap())
            .unwrap_or(0);
        let limit: usize = q.get("limit").map(|l| l.parse().unwrap()).unwrap_or(10);
        let end = (start + limit).min(self.len);
        let results: Vec<_> = (start..end).map(message).collect();
        let mut body = serde_json::json!({"results": results, "totalType": "exact"});
        if let Some(t) = self.total {
            body["total"] = t.into();
        }
        if end < self.len || n < 50 && self.total.is_none() {
            let nx = (self.next)(n, start, limit) % self.len;
            body["nextPageToken"] = format!("tok{nx}.{n}").into(); // fresh token every time
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn run(c: Conv, page: u64) -> (Vec<String>, Option<String>, usize) {
    let server = convo_testkit::server().await;
    let c = std::sync::Arc::new(c);
    struct R(std::sync::Arc<Conv>);
    impl Respond for R {
        fn respond(&self, r: &Request) -> ResponseTemplate {
            self.0.respond(r)
        }
    }
    Mock::given(any()).respond_with(R(c.clone())).mount(&server).await;
    let client = Client::new(&server.uri(), convo_bird::Credentials::new(SecretString::from("k"))).unwrap();
    let opts = PagingOptions {
        page_size: Some(page),
        retry: RetryPolicy { initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..PagingOptions::default()
    };
    let items: Vec<_> = client.messages(MessagesQuery::new("w", "c"), opts).take(500).collect().await;
    let mut ids = vec![];
    let mut err = None;
    for i in items {
        match i {
            Ok(m) => ids.push(m.value().unwrap().id.clone()),
            Err(e) => err = Some(e.to_string()),
        }
    }
    (ids, err, c.n.load(Ordering::SeqCst))
}

#[tokio::test]
async fn a_token_skipping_a_page_under_an_honest_total_ends_with_an_error() {
    // 50 messages, total 50; the token after page 2 skips 10 messages.
    let (ids, err, _) = run(
        Conv {
            len: 50,
            total: Some(50),
            n: AtomicUsize::new(0),
            next: |n, s, l| if n == 1 { s + 2 * l } else { s + l },
        },
        10,
    )
    .await;
    assert_eq!(ids.len(), 40);
    assert!(err.as_deref().is_some_and(|e| e.contains("fewer than the 50")), "{err:?}");
}

#[tokio::test]
async fn small_pages_cycling_back_without_a_total_end_with_an_error() {
    // 8 messages, pages of 2, fresh tokens that wrap around to the start: no total.
    let (ids, err, reqs) = run(Conv { len: 8, total: None, n: AtomicUsize::new(0), next: |_, s, l| s + l }, 2).await;
    let mut seen = std::collections::HashSet::new();
    let dups = ids.iter().filter(|i| !seen.insert(*i)).count();
    assert_eq!(dups, 0, "{ids:?}");
    assert!(err.is_some(), "the cycle is recognised");
    assert!(reqs < 20, "{reqs} requests");
}
