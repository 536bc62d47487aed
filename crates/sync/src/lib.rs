//! Read many conversations of one vendor at once, under one rate budget,
//! with checkpoints: a rerun after a crash goes on where each conversation
//! stopped, and a later run reads only what is new.
//!
//! ```
//! use convo_normalize::fetch::{ClientOptions, RateBudget, Selector, Source};
//! use convo_sandbox::{Sandbox, SandboxOptions, Vendor, ids};
//! use convo_sync::{Conversation, MemoryStore, MergedNdjson, SyncOptions, sync};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let sandbox = Sandbox::start(SandboxOptions { messages: 120, ..Default::default() }).await?;
//!     // One client (and one budget) for every conversation of the credential.
//!     let budget = RateBudget::new(50, std::time::Duration::from_secs(1), 10);
//!     let options = ClientOptions { rate_budget: Some(budget.clone()), ..Default::default() };
//!     let selector = |id: &str| Selector {
//!         conversation: Some(id.to_owned()),
//!         workspace: Some(ids::bird::WORKSPACE.to_owned()),
//!         ..Default::default()
//!     };
//!     let first = Source::from_vars(Vendor::Bird, &selector(ids::bird::SAMPLE_CONVERSATION), sandbox.vars(Vendor::Bird), &options)?;
//!     let second = first.other(&selector(ids::bird::GENERATED_CONVERSATION))?;
//!     let conversations = vec![
//!         Conversation { key: ids::bird::SAMPLE_CONVERSATION.into(), source: first },
//!         Conversation { key: ids::bird::GENERATED_CONVERSATION.into(), source: second },
//!     ];
//!     let mut store = MemoryStore::default();
//!     let mut sink = MergedNdjson::new(Vec::new());
//!     let options = SyncOptions { budget: Some(budget), ..Default::default() };
//!     let summary = sync(conversations, &mut store, &mut sink, options, |_| {}, std::future::pending()).await?;
//!     assert!(summary.succeeded());
//!     assert_eq!(summary.messages, 2 + 120, "the sample's two messages and the 120 generated");
//!     Ok(())
//! }
//! ```
//!
//! # Exactly once, across runs
//!
//! Each conversation is read by one task, through the vendor crate's own
//! paging stream (its order, its exactly-once checks). One committer writes
//! every page to the [`Sink`] and only then records the conversation's
//! [`Checkpoint`] in the [`StateStore`]: the position of the page and the
//! last message written on it (the same token `convo fetch --resume`
//! prints). A run stopped by [`sync`]'s `stop` future ends between two
//! pages, everything written checkpointed. A run killed between a write and
//! its checkpoint leaves output the checkpoint does not count: a
//! [`Directory`] file is cut back to the checkpoint's length before the
//! next run appends (exactly once); a [`MergedNdjson`] stream cannot be cut,
//! so the next run writes that page again (each line names its
//! conversation and message id).
//!
//! # Only what is new
//!
//! A conversation read to its end is read next time for what is new
//! ([`Mark::next_read`]): from the newest time written, less a millisecond, with
//! the ids written within that millisecond skipped (Infobip's `createdAfter`
//! and Bird's `dateFrom` filter on the server; LeadConnector's newest-first
//! listing stops at the first older message, where its order was seen to
//! hold). A message written without a time is skipped by id (or by a hash
//! of its JSON) by every later read. Octopush's messages carry no
//! time: its last page is read again (and what follows it), refused with
//! [`ConversationError::Shifted`] unless it begins as it was listed (a
//! listing that grew at its start, or lost messages, cannot be read for
//! what is new). With nothing new, that is one request per conversation
//! (Octopush: its last page, the empty one after it, and its last page read
//! again), and nothing is written.

#![warn(missing_docs)]

mod engine;
mod resume;
mod sink;
mod store;

pub use engine::{Conversation, ConversationError, Event, Summary, SyncError, SyncOptions, sync};
pub use resume::{Resume, Tracker, Written};
pub use sink::{Directory, MergedNdjson, Sink, file_name};
pub use store::{Bound, Checkpoint, FileStore, Listed, Mark, MemoryStore, Read, StateStore, StoreError};
