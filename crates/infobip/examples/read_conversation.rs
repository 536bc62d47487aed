//! Reads every message of one conversation and prints one line each; on
//! failure, one readable line and exit code 1.
//!
//! ```sh
//! cargo run -p convo-infobip --example read_conversation        # the built-in sandbox: no credentials needed
//! cargo run -p convo-infobip --example read_conversation -- <conversation-id>   # the real API: INFOBIP_BASE_URL and INFOBIP_API_KEY
//! ```

use std::process::ExitCode;

use convo_infobip::{Client, ClientOptions, MessagesQuery, PagingOptions};
use convo_sandbox::{Sandbox, Vendor, ids};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Keeps the sandbox serving while the example reads from it.
    let mut _sandbox = None;
    let (client, query) = match args.as_slice() {
        [conversation] => (Client::from_env()?, MessagesQuery::new(conversation)),
        _ => {
            let sandbox = _sandbox.insert(Sandbox::start(Default::default()).await?);
            let client = Client::from_vars(sandbox.vars(Vendor::Infobip), &ClientOptions::default())?;
            (client, MessagesQuery::new(ids::infobip::SAMPLE_CONVERSATION))
        }
    };
    let mut messages = client.messages(query, PagingOptions::default());
    while let Some(message) = messages.next().await {
        match message {
            // The typed message, or why it could not be decoded (its raw
            // JSON is kept either way: `message.raw()`).
            Ok(message) => match message.decoded() {
                Ok(m) => println!("{} {:?} {:?}", m.id, m.direction, m.content),
                Err(e) => eprintln!("undecodable message ({e}): {}", message.raw()),
            },
            // One line: the page, the status, the vendor's own words, the tries.
            Err(e) => {
                eprintln!("{e}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
