//! The sync: conversations read concurrently, each by one task, their pages
//! written and checkpointed by one committer, in the order they arrive.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use tokio::sync::mpsc;

use convo_normalize::Vendor;
use convo_normalize::fetch::{
    BudgetStats, ErrorKind, FetchError, FetchOptions, NormalizedPage, PagingOptions, Position, RateBudget, RetryPolicy,
    Source,
};

use crate::resume::{Resume, Tracker, Written, raw_hash};
use crate::sink::Sink;
use crate::store::{Bound, Checkpoint, Listed, Read, StateStore, StoreError};

/// One conversation to sync: the key it is known by (in the state, the
/// output and the events; its id as given) and the source that reads it.
pub struct Conversation {
    /// The conversation's key.
    pub key: String,
    /// What reads it (every source of a sync shares its vendor's client and
    /// budget: [`Source::other`]).
    pub source: Source,
}

/// How to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Conversations read at once (at least 1).
    pub concurrency: usize,
    /// Messages per page (`None`: the largest the vendor allows).
    pub page_size: Option<u64>,
    /// Retries of each request.
    pub retry: RetryPolicy,
    /// The budget the sources' clients share; its counts go into the
    /// [`Summary`].
    pub budget: Option<RateBudget>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self { concurrency: 8, page_size: None, retry: RetryPolicy::default(), budget: None }
    }
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Conversations in the sync (a key given more than once counts once).
    pub conversations: usize,
    /// Conversations read to their end in this run.
    pub complete: usize,
    /// Of those, the ones that had nothing new.
    pub unchanged: usize,
    /// Conversations that failed, each with its error, in the order given.
    pub failed: Vec<(String, ConversationError)>,
    /// Messages written in this run.
    pub messages: u64,
    /// Of those, messages that could not be decoded (written with their raw
    /// JSON and `decode_error`).
    pub undecodable: u64,
    /// What the budget counted (requests, 429s, time spent waiting).
    pub budget: BudgetStats,
    /// The run's wall time.
    pub elapsed: Duration,
    /// The run was asked to stop before every conversation was done; what
    /// was written is checkpointed.
    pub interrupted: bool,
}

impl Summary {
    /// Whether every conversation was read to its end.
    pub fn succeeded(&self) -> bool {
        self.failed.is_empty() && !self.interrupted && self.complete == self.conversations
    }
}

/// What happens during a sync, for progress displays.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A page of a conversation was written and checkpointed.
    Page {
        /// The conversation.
        conversation: &'a str,
        /// Messages written of this page.
        messages: usize,
        /// Of those, messages that could not be decoded (written with their
        /// raw JSON and `decode_error`).
        undecodable: usize,
    },
    /// A conversation was read to its end.
    Complete {
        /// The conversation.
        conversation: &'a str,
        /// Messages written of it in this run.
        messages: u64,
    },
    /// A conversation failed; the others go on.
    Failed {
        /// The conversation.
        conversation: &'a str,
        /// Why.
        error: &'a ConversationError,
    },
}

/// Why one conversation of a sync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConversationError {
    /// Its read ended with the vendor's error (after retries).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Its checkpoint's position no longer holds the last message written.
    #[error("{0}")]
    Resume(String),
    /// Read for what is new, the last page read before is no longer listed
    /// as it was (messages were added before it, or removed): what is new
    /// cannot be told from what is not.
    #[error(
        "{vendor}: the last page read before is no longer listed as it was (messages added before it, or removed): new messages cannot be told from old ones; read it again from its start (`convo sync --restart`, `Checkpoint::restart`)"
    )]
    Shifted {
        /// The vendor.
        vendor: Vendor,
    },
    /// Its output could not be opened (e.g. a file the state does not know).
    #[error("output: {0}")]
    Output(std::io::Error),
    /// Its read stopped on a bug in this library (its task panicked; the
    /// panic's message went to the panic hook, standard error by default).
    /// What was written before is checkpointed; a later run goes on from
    /// there.
    #[error("its read stopped on a bug in convo (a panic); what was written before is checkpointed")]
    Panicked,
}

impl ConversationError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConversationError::Fetch(e) => e.kind(),
            ConversationError::Resume(_) | ConversationError::Shifted { .. } => ErrorKind::Listing,
            ConversationError::Output(_) => ErrorKind::InvalidQuery,
            ConversationError::Panicked => ErrorKind::Internal,
        }
    }

    /// Whether a later run can go on from the checkpoint (rather than
    /// only from what was checkpointed before this run).
    fn resumable(&self) -> bool {
        !matches!(self.kind(), ErrorKind::Listing | ErrorKind::InvalidQuery)
    }
}

/// Why a sync as a whole stopped: its output or its state could not be
/// written. What was checkpointed before stays true.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// Saving the checkpoints failed.
    #[error(transparent)]
    State(#[from] StoreError),
}

/// How one conversation's read starts, from its checkpoint.
struct Plan {
    resume: Option<Resume>,
    bound: Bound,
}

fn plan(vendor: Vendor, checkpoint: &Checkpoint) -> Plan {
    match &checkpoint.read {
        Read::InProgress { resume, bound } => Plan { resume: resume.clone(), bound: bound.clone() },
        Read::Complete => {
            let (resume, bound) = checkpoint.mark.next_read(vendor);
            Plan { resume, bound }
        }
    }
}

enum Note {
    /// A page, with the ids it was listed with (before anything was skipped).
    Page(usize, NormalizedPage, Vec<Listed>),
    End(usize, Result<(), ConversationError>),
}

/// Reads one conversation, sending its pages (filtered to what its plan
/// is for) to the committer; ends with one `End`.
async fn read(index: usize, source: Source, plan: Plan, paging: PagingOptions, notes: mpsc::Sender<Note>) {
    let vendor = source.vendor();
    let Plan { resume, bound } = plan;
    let options = FetchOptions {
        paging: PagingOptions { resume: resume.as_ref().and_then(|r| r.page.clone()), ..paging },
        since: bound.since,
    };
    let mut pages = convo_normalize::fetch::pages(source, options);
    let mut skip = resume;
    let mut first = true;
    // What was written before that this read lets through again.
    let written: HashSet<&str> = bound.written.iter().map(String::as_str).collect();
    let written_raw: HashSet<u64> = bound.written_raw.iter().copied().collect();
    while let Some(page) = pages.next().await {
        let mut page = match page {
            Ok(page) => page,
            Err(e) => {
                let _ = notes.send(Note::End(index, Err(e.into()))).await;
                return;
            }
        };
        let listed: Vec<Listed> = page.messages.iter().map(Listed::of).collect();
        if std::mem::take(&mut first) && !bound.listed.is_empty() {
            // The last page read before, asked again: it must begin as it
            // was listed, and what it listed then was written.
            if !listed.starts_with(&bound.listed) {
                let _ = notes.send(Note::End(index, Err(ConversationError::Shifted { vendor }))).await;
                return;
            }
            page.messages.drain(..bound.listed.len());
            skip = None;
        }
        if let Some(resume) = skip.take()
            && let Err(e) = resume.skip_written(&mut page.messages)
        {
            let _ = notes.send(Note::End(index, Err(ConversationError::Resume(e)))).await;
            return;
        }
        if !written.is_empty() || !written_raw.is_empty() {
            page.messages.retain(|m| match &m.id {
                Some(id) => !written.contains(id.as_str()),
                None => written_raw.is_empty() || !written_raw.contains(&raw_hash(m)),
            });
        }
        if notes.send(Note::Page(index, page, listed)).await.is_err() {
            return;
        }
    }
    let _ = notes.send(Note::End(index, Ok(()))).await;
}

/// Runs a conversation's read; if it panics, its `End` is still sent (the
/// committer holds a sender of its own, so it would otherwise wait for it
/// forever).
async fn guarded(index: usize, notes: mpsc::Sender<Note>, read: impl Future<Output = ()>) {
    use futures::FutureExt as _;
    if std::panic::AssertUnwindSafe(read).catch_unwind().await.is_err() {
        let _ = notes.send(Note::End(index, Err(ConversationError::Panicked))).await;
    }
}

/// A conversation being read: its checkpoint as it was before this run
/// (restored when its read fails in a way no checkpoint can go on from)
/// and as it is.
struct Live {
    key: String,
    before: Checkpoint,
    now: Checkpoint,
    tracker: Tracker,
    written: u64,
    /// For an output that cannot be cut back (the merged stream): what
    /// this run wrote, so that a conversation put back to its checkpoint
    /// from before the run skips it when read again (`None`: an output
    /// that is cut back instead, or more than [`PUT_BACK_MOST`]).
    wrote: Option<Vec<Listed>>,
}

/// The most messages of one conversation a run remembers to skip, should
/// it be put back with an output that cannot be cut back; beyond it, the
/// next run writes them again (the merged stream's limit, as after a kill).
const PUT_BACK_MOST: usize = 100_000;

/// The checkpoint a conversation goes back to when its read fails in a way
/// no checkpoint can go on from, its output not cut back: where it was
/// before the run, but with what this run wrote skipped by the next read.
fn put_back(before: Checkpoint, now: Checkpoint, wrote: Vec<Listed>) -> Checkpoint {
    let Checkpoint { read, mut mark, page_size, served_page_size, output_len, .. } = before;
    let read = match read {
        Read::InProgress { resume, mut bound } => {
            for listed in wrote {
                match listed {
                    Listed::Id(id) => bound.written.push(id),
                    Listed::Raw(hash) => bound.written_raw.push(hash),
                }
            }
            // The next read covers this run's bound again, so what this
            // run wrote counts for what is new after it.
            mark = now.mark;
            Read::InProgress { resume, bound }
        }
        Read::Complete => {
            // Read for what is new from the mark before this run (its
            // newest time must not move past messages not yet written);
            // what this run wrote is skipped for good.
            mark.timeless.extend(wrote.into_iter().map(Written::from));
            Read::Complete
        }
    };
    Checkpoint { read, mark, messages: now.messages, page_size, served_page_size, output_len }
}

/// Syncs `conversations`: at most `options.concurrency` read at once, each
/// by its own task (its own order, its own exactly-once checks); every page
/// is written to `sink` and checkpointed in `store` as it comes. A
/// conversation that fails is reported in the summary and the others go
/// on; `stop` resolving ends the sync between two pages, checkpointed.
///
/// A conversation with a complete checkpoint is read only for what is new
/// (see [`crate::Mark::next_read`]); one with a read in progress goes on from
/// its position, after its last message written.
pub async fn sync(
    conversations: Vec<Conversation>,
    store: &mut dyn StateStore,
    sink: &mut dyn Sink,
    options: SyncOptions,
    mut events: impl FnMut(Event<'_>),
    stop: impl Future<Output = ()>,
) -> Result<Summary, SyncError> {
    let started = Instant::now();
    let budget_before = options.budget.as_ref().map(RateBudget::stats).unwrap_or_default();
    // A key is a conversation's identity (its checkpoint, its output): one
    // given twice is read once, not twice into the same output.
    let mut keys = std::collections::HashSet::new();
    let conversations: Vec<Conversation> = conversations
        .into_iter()
        .filter(|conversation| {
            let first = keys.insert(conversation.key.clone());
            if !first {
                tracing::warn!(conversation = %conversation.key, "given more than once: read once");
            }
            first
        })
        .collect();
    let mut summary = Summary { conversations: conversations.len(), ..Summary::default() };
    // No more at once than there are conversations (so that no size below
    // overflows, whatever the option says), and at least one.
    let concurrency = options.concurrency.clamp(1, conversations.len().max(1));
    let paging =
        PagingOptions { page_size: options.page_size, concurrency: 1, retry: options.retry.clone(), resume: None };
    let (notes_tx, mut notes) = mpsc::channel::<Note>(concurrency * 2);
    let mut waiting: VecDeque<(usize, Conversation)> = conversations.into_iter().enumerate().collect();
    let mut live: Vec<Option<Live>> = (0..summary.conversations).map(|_| None).collect();
    let mut tasks = tokio::task::JoinSet::new();
    let mut failures: Vec<(usize, String, ConversationError)> = Vec::new();
    let mut running = 0usize;
    let mut opened_any = false;
    tokio::pin!(stop);

    loop {
        // Start conversations while there is room.
        while running < concurrency
            && let Some((index, conversation)) = waiting.pop_front()
        {
            let Conversation { key, source } = conversation;
            let mut before = store.get(&key).unwrap_or_default();
            let opened = match sink.open(&key, before.output_len) {
                Ok(opened) => opened,
                Err(e) => {
                    let error = ConversationError::Output(e);
                    events(Event::Failed { conversation: &key, error: &error });
                    failures.push((index, key, error));
                    continue;
                }
            };
            if opened.is_some() && before.output_len.is_none() && before.messages > 0 {
                // Its messages so far went to an output that cannot be cut
                // back (the merged stream): this one would hold only what
                // is new.
                let error = ConversationError::Output(std::io::Error::other(format!(
                    "{} of its messages were written by earlier runs to another output (the merged stream), not to this one: read it here whole with --restart (`Checkpoint::restart`)",
                    before.messages
                )));
                sink.close(&key)?;
                events(Event::Failed { conversation: &key, error: &error });
                failures.push((index, key, error));
                continue;
            }
            if let Read::InProgress { resume: Some(_), .. } = &before.read
                && before.page_size != options.page_size
            {
                let size = |s: Option<u64>| s.map_or("the vendor's default".to_owned(), |n| n.to_string());
                let error = ConversationError::Resume(format!(
                    "its read was checkpointed at a page size of {}, not {}: a position is a page of that size; go on with the same page size",
                    size(before.page_size),
                    size(options.page_size)
                ));
                sink.close(&key)?;
                events(Event::Failed { conversation: &key, error: &error });
                failures.push((index, key, error));
                continue;
            }
            let plan = plan(source.vendor(), &before);
            let mut now = before.clone();
            now.read = Read::InProgress { resume: plan.resume.clone(), bound: plan.bound.clone() };
            now.page_size = options.page_size;
            if before.output_len.is_none() && opened.is_some() {
                // The output is ours from now on: a run killed before its
                // first checkpoint leaves a file the next one may cut back.
                now.output_len = opened;
                // Going back to before this run keeps the output ours too.
                before.output_len = opened;
                store.put(&key, now.clone());
                opened_any = true;
            }
            // A page number counts pages of the size the vendor served: a
            // read that goes on from one asks for that size.
            let paging = match (&plan.resume, before.served_page_size) {
                (Some(Resume { page: Some(page), .. }), Some(served)) if served > 0 && page.page_number().is_some() => {
                    PagingOptions { page_size: Some(served), ..paging.clone() }
                }
                _ => paging.clone(),
            };
            let wrote = opened.is_none().then(Vec::new);
            live[index] = Some(Live { key, before, now, tracker: Tracker::default(), written: 0, wrote });
            running += 1;
            let notes = notes_tx.clone();
            tasks.spawn(guarded(index, notes.clone(), read(index, source, plan, paging, notes)));
        }
        if std::mem::take(&mut opened_any) {
            store.flush()?;
        }
        if running == 0 {
            break;
        }
        let note = tokio::select! {
            biased;
            () = &mut stop => {
                summary.interrupted = true;
                break;
            }
            note = notes.recv() => match note {
                Some(note) => note,
                None => break,
            },
        };
        // Everything that has arrived is written, then checkpointed at once.
        let mut next = Some(note);
        while let Some(note) = next.take() {
            match note {
                Note::Page(index, page, listed) => {
                    let Some(state) = live[index].as_mut() else { continue };
                    let count = page.messages.len();
                    let undecodable = page.messages.iter().filter(|m| m.decode_error.is_some()).count();
                    summary.undecodable += undecodable as u64;
                    if let Err(error) = commit_page(state, page, listed, sink, &mut summary) {
                        // The pages written before it keep their checkpoints;
                        // the conversations still open are closed, if they can be.
                        let _ = store.flush();
                        let _ = close_open(&mut live, sink);
                        return Err(error);
                    }
                    store.put(&state.key, state.now.clone());
                    events(Event::Page { conversation: &state.key, messages: count, undecodable });
                }
                Note::End(index, result) => {
                    let Some(mut state) = live[index].take() else { continue };
                    running -= 1;
                    sink.close(&state.key)?;
                    match result {
                        Ok(()) => {
                            state.now.read = Read::Complete;
                            store.put(&state.key, state.now);
                            summary.complete += 1;
                            if state.written == 0 {
                                summary.unchanged += 1;
                            }
                            events(Event::Complete { conversation: &state.key, messages: state.written });
                        }
                        Err(error) => {
                            // A read that can go on keeps its checkpoint; one
                            // that cannot (the listing could not be read
                            // exactly once) goes back to where this run
                            // started, output included where it can be cut.
                            if !error.resumable() {
                                let restored = match state.wrote {
                                    // It went on from an earlier run's check,
                                    // which the listing now contradicts: what
                                    // the earlier runs wrote cannot be told
                                    // sound, and going back to where this run
                                    // started would fail the same way again.
                                    // A file is read again from the start.
                                    _ if went_on_from_an_earlier_run(&state.before)
                                        && state.before.output_len.is_some() =>
                                    {
                                        state.before.restart()
                                    }
                                    Some(wrote) if !wrote.is_empty() => put_back(state.before, state.now, wrote),
                                    _ => state.before,
                                };
                                store.put(&state.key, restored);
                            }
                            events(Event::Failed { conversation: &state.key, error: &error });
                            failures.push((index, state.key, error));
                        }
                    }
                }
            }
            next = notes.try_recv().ok();
        }
        store.flush()?;
    }
    tasks.abort_all();
    // Stopped (or its notes ended) with conversations still open: each is
    // closed, as the `Sink` contract has it (its pages were committed).
    close_open(&mut live, sink)?;
    store.flush()?;
    failures.sort_by_key(|(index, ..)| *index);
    summary.failed = failures.into_iter().map(|(_, key, error)| (key, error)).collect();
    if let Some(budget) = &options.budget {
        let after = budget.stats();
        summary.budget = BudgetStats {
            requests: after.requests - budget_before.requests,
            rate_limited: after.rate_limited - budget_before.rate_limited,
            waited: after.waited.saturating_sub(budget_before.waited),
        };
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Closes every conversation still open (each is taken out of `live`), as
/// the `Sink` contract has it; the first error, after trying them all.
fn close_open(live: &mut [Option<Live>], sink: &mut dyn Sink) -> std::io::Result<()> {
    let mut first = Ok(());
    for state in live.iter_mut().filter_map(Option::take) {
        let closed = sink.close(&state.key);
        if first.is_ok() {
            first = closed;
        }
    }
    first
}

/// Whether a read in progress goes on from a position that carries an
/// earlier run's check (Octopush's [`Position::PageWithCheck`]).
fn went_on_from_an_earlier_run(checkpoint: &Checkpoint) -> bool {
    matches!(
        &checkpoint.read,
        Read::InProgress { resume: Some(Resume { page: Some(Position::PageWithCheck { .. }), .. }), .. }
    )
}

/// Writes one page of a conversation and advances its checkpoint: the
/// output first, then (once the sink has handed it on) the position.
fn commit_page(
    state: &mut Live,
    page: NormalizedPage,
    listed: Vec<Listed>,
    sink: &mut dyn Sink,
    summary: &mut Summary,
) -> Result<(), SyncError> {
    if page.next.is_some() {
        let held = listed.len() as u64;
        state.now.served_page_size = Some(state.now.served_page_size.map_or(held, |most| most.max(held)));
    }
    state.tracker.page(page.position.clone(), page.next.clone(), page.messages.len());
    let position = page.position.clone();
    let last = page.messages.last().map(Written::of);
    let vendor = page.messages.last().map(|m| m.vendor);
    for message in &page.messages {
        sink.write(&state.key, message)?;
        state.tracker.wrote(message);
        state.now.mark.wrote(message);
        if let Some(wrote) = &mut state.wrote {
            wrote.push(Listed::of(message));
            if wrote.len() > PUT_BACK_MOST {
                state.wrote = None;
            }
        }
    }
    state.tracker.page_done();
    let len = sink.commit(&state.key)?;
    let count = page.messages.len() as u64;
    state.written += count;
    summary.messages += count;
    state.now.messages += count;
    // `None` for an output that cannot be cut back, once it holds messages
    // of the conversation: a later run to a file then knows the file does
    // not hold them.
    if len.is_some() || count > 0 {
        state.now.output_len = len;
    }
    let checkpoint = state.tracker.checkpoint();
    // The last page with a message written, as it was listed (its last
    // message is the last one written): what a later read of this page
    // must find again, and skip. Only Octopush reads for what is new this
    // way (the others by time): the others' checkpoints do not carry a
    // page of ids each.
    if let Some(last) = last
        && vendor == Some(Vendor::Octopush)
    {
        state.now.mark.tail_listed = listed;
        state.now.mark.tail = Some(Resume { page: position, after: Some(last), ..Resume::default() });
    }
    if let Read::InProgress { resume, bound } = &mut state.now.read {
        *resume = checkpoint;
        // The first page was found listed as it was: a resumed read starts
        // elsewhere, with nothing to check.
        bound.listed.clear();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_that_panics_still_ends_its_conversation_with_a_typed_error() {
        let (notes, mut received) = mpsc::channel(1);
        let read = async { panic!("a bug in a read") };
        guarded(3, notes, read).await;
        let end = received.recv().await;
        assert!(matches!(end, Some(Note::End(3, Err(ConversationError::Panicked)))), "an End for conversation 3");
        assert_eq!(ConversationError::Panicked.kind(), ErrorKind::Internal);
        assert!(ConversationError::Panicked.resumable(), "what was checkpointed before the panic holds");
    }

    #[tokio::test]
    async fn a_read_that_ends_sends_nothing_more() {
        let (notes, mut received) = mpsc::channel(1);
        let sender = notes.clone();
        guarded(0, notes, async move { drop(sender) }).await;
        assert!(received.recv().await.is_none(), "no End of the guard's own");
    }
}
