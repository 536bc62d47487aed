//! An error about a response body names the request's real URL, never a
//! made-up one: a body cut off mid-way (after retries) is reported with the
//! address the request went to.

use std::time::Duration;

use convo_bird::{Client, MessagesQuery, PagingOptions, RetryPolicy, SecretString};
use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers every request with headers promising 1,000 bytes,
/// sends 10 and closes the connection. Stops after `budget` requests.
async fn cut_off_server(budget: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..budget {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(br#"{"results""#).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_cut_off_body_is_reported_with_the_request_url() {
    let base = cut_off_server(3).await;
    let client = Client::new(&base, convo_bird::Credentials::new(SecretString::from("key-1234"))).unwrap();
    let options = PagingOptions {
        retry: RetryPolicy { max_attempts: 2, initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() },
        ..PagingOptions::default()
    };
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        client.messages(MessagesQuery::new("ws", "conv"), options).try_collect::<Vec<_>>(),
    )
    .await
    .expect("bounded")
    .expect_err("the body never arrives whole");
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(e) = source {
        text.push_str(" | ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    assert!(!text.contains("no.url.provided"), "{text}");
    assert!(text.contains(&format!("{base}/workspaces/ws/conversations/conv/messages")), "{text}");
    assert!(!text.contains("key-1234"), "{text}");
}
