//! One rate budget shared by the clients of one credential, against a real
//! server on 127.0.0.1: every request waits for a token, and a 429 that
//! asks to wait pauses every client sharing the budget. Checked on the
//! arrivals the server records, never on how long the test takes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use convo_bird::{Client, ClientOptions, Credentials, MessagesQuery, PagingOptions, RetryPolicy};
use convo_runtime::RateBudget;
use convo_testkit::wiremock::matchers::any;
use convo_testkit::wiremock::{Mock, Request, Respond, ResponseTemplate};
use futures::TryStreamExt;

/// A one-page conversation; request `limited` (from 1) is answered 429
/// with `Retry-After: 1`. Records when each request arrived.
struct Server {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    limited: Option<usize>,
}

impl Respond for Server {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut arrivals = self.arrivals.lock().unwrap();
        arrivals.push(Instant::now());
        if Some(arrivals.len()) == self.limited {
            return ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(serde_json::json!({"code": "TooManyRequests", "message": "slow down"}));
        }
        let message = serde_json::json!({"id": format!("m{}", arrivals.len()), "sender": {"id": "s"}});
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": [message], "total": 1}))
    }
}

async fn serve(limited: Option<usize>) -> (convo_testkit::wiremock::MockServer, Arc<Mutex<Vec<Instant>>>) {
    let server = convo_testkit::server().await;
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    Mock::given(any()).respond_with(Server { arrivals: arrivals.clone(), limited }).mount(&server).await;
    (server, arrivals)
}

/// Two clients of one credential, side by side, each reading `reads`
/// conversations one after another.
async fn read(uri: &str, budget: Option<RateBudget>, reads: usize) {
    let options = ClientOptions { rate_budget: budget, ..ClientOptions::default() };
    let retry = RetryPolicy { max_retry_after: Duration::from_secs(5), ..RetryPolicy::default() };
    let paging = PagingOptions { retry, ..PagingOptions::default() };
    let clients: Vec<Client> =
        (0..2).map(|_| Client::with_options(uri, Credentials::new("key-1"), &options).unwrap()).collect();
    let each = clients.iter().map(|client| {
        let paging = paging.clone();
        async move {
            for i in 0..reads {
                let query = MessagesQuery::new("w", format!("c{i}"));
                let messages: Vec<_> = client.messages(query, paging.clone()).try_collect().await.unwrap();
                assert_eq!(messages.len(), 1);
            }
        }
    });
    futures::future::join_all(each).await;
}

/// The most arrivals in any span of `span`.
fn busiest(arrivals: &[Instant], span: Duration) -> usize {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    (0..sorted.len()).map(|i| sorted[i..].iter().take_while(|t| **t - sorted[i] < span).count()).max().unwrap_or(0)
}

#[tokio::test]
async fn clients_sharing_a_budget_stay_within_it_together() {
    // Without a budget, the 20 requests leave as fast as the server answers:
    // the check below can fail.
    let (server, arrivals) = serve(None).await;
    read(&server.uri(), None, 10).await;
    assert!(busiest(&arrivals.lock().unwrap(), Duration::from_millis(500)) > 7, "unbudgeted requests leave together");

    // 10 a second, 2 at once, shared by both clients: in any half second, at
    // most the burst and the five that refill.
    let (server, arrivals) = serve(None).await;
    read(&server.uri(), Some(RateBudget::new(10, Duration::from_secs(1), 2)), 10).await;
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 20);
    assert!(
        busiest(&arrivals, Duration::from_millis(500)) <= 2 + 5,
        "{:?}",
        busiest(&arrivals, Duration::from_millis(500))
    );
}

#[tokio::test]
async fn a_429_that_asks_to_wait_pauses_every_client_of_the_budget() {
    let (server, arrivals) = serve(Some(3)).await;
    read(&server.uri(), Some(RateBudget::new(100, Duration::from_secs(1), 100)), 5).await;
    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 11, "ten reads and the one retried");
    let limited = arrivals[2];
    // While the pause held (a little under its second, for the clock's
    // grain), at most the other client's request already on its way when
    // the 429 came; nothing started after it.
    let during = arrivals.iter().filter(|t| **t > limited && **t - limited < Duration::from_millis(900)).count();
    assert!(during <= 1, "{during} requests during the pause the 429 asked for");
}
