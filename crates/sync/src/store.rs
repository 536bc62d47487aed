//! Checkpoints: per conversation, where its read stands and what it has
//! written, kept by a [`StateStore`] (one JSON file written atomically,
//! [`FileStore`], or memory, [`MemoryStore`]).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use convo_normalize::fetch::Position;
use convo_normalize::{Message, Vendor};
use serde::{Deserialize, Serialize};

use crate::resume::{Resume, Written, raw_hash};

/// Where one conversation's reading stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The read under way, or `Complete`.
    pub read: Read,
    /// What was written of the conversation, across every run: how a later
    /// read tells what is new.
    #[serde(default)]
    pub mark: Mark,
    /// Messages written, across every run.
    #[serde(default)]
    pub messages: u64,
    /// The page size the read in progress asks for (`None`: the vendor's
    /// default): a position is a page of that size, so a read goes on only
    /// with the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// The most messages a page with more after it held, across every run:
    /// the size the vendor counts its page numbers in where it serves fewer
    /// than asked (a cap). A read that goes on from a page number (Octopush)
    /// asks for pages of that size, so that the number points where it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_page_size: Option<u64>,
    /// For an output that can be cut back (a file): its length once the
    /// messages counted here were written. A run killed after writing more
    /// (but before its checkpoint was saved) leaves a tail beyond it, which
    /// the next run cuts off before it reads again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_len: Option<u64>,
}

impl Checkpoint {
    /// The checkpoint that reads a conversation again from its start: no
    /// position, no mark, and an output that can be cut back cut back to
    /// nothing (a file the state knew is emptied by the next run before it
    /// is written again; one it did not know is still refused).
    pub fn restart(&self) -> Checkpoint {
        Checkpoint { output_len: self.output_len.map(|_| 0), ..Checkpoint::default() }
    }
}

/// A conversation's read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Read {
    /// Under way (or stopped early): it goes on from `resume` (`None`: from
    /// the start of its bound), still bounded by `bound`.
    InProgress {
        /// Where the read goes on; `None`: nothing of it was written yet.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume: Option<Resume>,
        /// Which messages this read is for (only the new ones, for a
        /// conversation read before).
        #[serde(default)]
        bound: Bound,
    },
    /// Read to its end: a later read is for what is new.
    Complete,
}

impl Default for Read {
    fn default() -> Self {
        Read::InProgress { resume: None, bound: Bound::default() }
    }
}

/// Which messages a read is for: every one (the default), or only those a
/// conversation read before did not have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    /// Only messages created at or after this time (the vendor's
    /// server-side filter where it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// Messages already written that `since` lets through again: skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written: Vec<String>,
    /// Messages without an id already written that the read lets through
    /// again (their time is unknown): skipped, known by a hash of their
    /// exact JSON (FNV-1a, 64 bits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub written_raw: Vec<u64>,
    /// Without times (Octopush), a read for what is new asks for the last
    /// page read again: its messages must begin with these ids, as listed
    /// then, or the listing has shifted (messages added before it, or
    /// removed) and new cannot be told from old.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listed: Vec<Listed>,
}

/// A message as listed on a page: its id, or for a message without one a
/// hash of its exact JSON (FNV-1a, 64 bits). In the state file an id is a
/// string and a hash a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Listed {
    /// The message's id.
    Id(String),
    /// A message without an id: a hash of its JSON.
    Raw(u64),
}

impl Listed {
    /// How `message` is listed.
    pub fn of(message: &Message) -> Self {
        match &message.id {
            Some(id) => Listed::Id(id.clone()),
            None => Listed::Raw(raw_hash(message)),
        }
    }
}

impl From<Listed> for Written {
    fn from(listed: Listed) -> Self {
        match listed {
            Listed::Id(id) => Written::Id(id),
            Listed::Raw(hash) => Written::Raw(hash),
        }
    }
}

/// What was written of a conversation, for telling new messages from old.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The newest creation time written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<DateTime<Utc>>,
    /// The ids written whose time lies within [`Mark::SLACK`] of `newest`,
    /// with their times: a later read asks from `newest - SLACK` and skips
    /// these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent: Vec<(String, DateTime<Utc>)>,
    /// Where the last page read begins again, after its last message
    /// written: for a vendor whose messages carry no time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<Resume>,
    /// That page as it was listed, every message of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tail_listed: Vec<Listed>,
    /// Messages written that a read for what is new cannot tell from new
    /// ones by their time, skipped by every later read: those written by a
    /// run that was then put back to its checkpoint from before it (to an
    /// output that cannot be cut back), and those without a creation time,
    /// or with one more than [`Mark::AHEAD`] in the future (by a vendor whose
    /// messages have one: Octopush's never do, and its last page is checked
    /// instead): no `since` can tell them from new ones, so every later
    /// read skips them by id, or by a hash of their JSON where they have
    /// none. One entry for each such message, kept for good.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeless: Vec<Written>,
    /// Messages written with a creation time ahead of this machine's clock
    /// (more than [`Mark::AHEAD`]) when they were written, with those times:
    /// such a time does not move `newest` (a message six hours ahead, a
    /// vendor's local time labelled UTC, would hide every message created
    /// in those six hours), so every later read lets them through again and
    /// skips them by id (or JSON hash), until `newest` passes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ahead: Vec<(Written, DateTime<Utc>)>,
}

impl Mark {
    /// How far before the newest time a later read starts. Vendors round
    /// times (Infobip to the millisecond) and do not say whether their
    /// "from" filter includes its bound (Bird's `dateFrom`): a millisecond
    /// of overlap, skipped by id, loses nothing at the boundary.
    pub const SLACK: Duration = Duration::milliseconds(1);

    /// How far ahead of this machine's clock a creation time may be and
    /// still move the newest time: a later one is kept in
    /// [`Mark::ahead`]. A second: a vendor's clock a little ahead of this
    /// one costs a few ids kept, not a message.
    pub const AHEAD: Duration = Duration::seconds(1);

    /// `newest` less the slack (the earliest time there is, at most).
    fn floor(newest: DateTime<Utc>) -> DateTime<Utc> {
        newest.checked_sub_signed(Self::SLACK).unwrap_or(newest)
    }

    /// Counts a written message in.
    pub fn wrote(&mut self, message: &Message) {
        if message.vendor == Vendor::Octopush {
            // No time: its last page is checked instead.
            return;
        }
        let Some(at) = message.created_at else {
            // No `since` can place it: skipped by every later read.
            self.timeless.push(Written::of(message));
            return;
        };
        if at > Utc::now() + Self::AHEAD {
            // Ahead of the clock: `newest` there would hide every message
            // created before that time and after this read.
            self.ahead.push((Written::of(message), at));
            return;
        }
        let Some(id) = &message.id else { return };
        if self.newest.is_none_or(|newest| at > newest) {
            self.newest = Some(at);
        }
        let floor = self.newest.map(Self::floor);
        if floor.is_none_or(|floor| at >= floor) {
            self.recent.push((id.clone(), at));
        }
        self.recent.retain(|(_, t)| floor.is_none_or(|floor| *t >= floor));
        // Those `since` no longer lets through.
        self.ahead.retain(|(_, t)| floor.is_none_or(|floor| *t >= floor));
    }

    /// Where a read for what is new since this mark starts, and its bound:
    /// from the newest time (less the slack) where messages carry times;
    /// else (Octopush) the last page read again, checked to be listed as it
    /// was, and what follows it; every message when nothing was written.
    pub fn next_read(&self, vendor: Vendor) -> (Option<Resume>, Bound) {
        match (self.newest, vendor) {
            (_, Vendor::Octopush) => {
                // Its messages are never timeless; what is there was written
                // by a run that was put back, and is skipped.
                let (written, written_raw) = split(&self.timeless);
                // The read that set the tail ended checked: the next one
                // checks from the tail on, not what that one delivered.
                let tail = self.tail.clone().map(|tail| Resume { page: tail.page.map(Position::forget_read), ..tail });
                (tail, Bound { listed: self.tail_listed.clone(), written, written_raw, ..Bound::default() })
            }
            (newest, _) => {
                let ahead: Vec<Written> = self.ahead.iter().map(|(message, _)| message.clone()).collect();
                let (timeless, mut written_raw) = split(&self.timeless);
                let (ahead_ids, ahead_raw) = split(&ahead);
                let mut written: Vec<String> = self.recent.iter().map(|(id, _)| id.clone()).collect();
                written.extend(timeless);
                written.extend(ahead_ids);
                written_raw.extend(ahead_raw);
                // With no time written (none, or every one without a
                // time), the read is the whole conversation again, less
                // what was written.
                (None, Bound { since: newest.map(Self::floor), written, written_raw, listed: Vec::new() })
            }
        }
    }
}

/// Ids and JSON hashes apart.
fn split(messages: &[Written]) -> (Vec<String>, Vec<u64>) {
    let (mut ids, mut hashes) = (Vec::new(), Vec::new());
    for message in messages {
        match message {
            Written::Id(id) => ids.push(id.clone()),
            Written::Raw(hash) => hashes.push(*hash),
        }
    }
    (ids, hashes)
}

/// Where checkpoints are kept. A small trait, so that a fleet can keep
/// them elsewhere (a database, a shared store); [`FileStore`] is the
/// default.
pub trait StateStore {
    /// The checkpoint of a conversation, if one was put.
    fn get(&self, conversation: &str) -> Option<Checkpoint>;
    /// Replaces a conversation's checkpoint (kept on [`StateStore::flush`]).
    fn put(&mut self, conversation: &str, checkpoint: Checkpoint);
    /// Makes every checkpoint put so far durable, all at once.
    fn flush(&mut self) -> Result<(), StoreError>;
}

/// A state store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("state file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a state file this version wrote.
    #[error("state file {path} is not a convo sync state file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file holds the state of another vendor or workspace.
    #[error("state file {path} is {found}'s, not {expected}'s: give each its own state file")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Whose state the run keeps.
        expected: String,
        /// Whose state the file holds.
        found: String,
    },
    /// Another sync has the state file open.
    #[error(
        "state file {path} is in use by another convo sync: wait for it to end, or give this one its own state file"
    )]
    InUse {
        /// The file.
        path: PathBuf,
    },
}

/// Checkpoints in memory: for tests, and for a caller that keeps them its
/// own way.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// The checkpoints, by conversation.
    pub checkpoints: BTreeMap<String, Checkpoint>,
}

impl StateStore for MemoryStore {
    fn get(&self, conversation: &str) -> Option<Checkpoint> {
        self.checkpoints.get(conversation).cloned()
    }

    fn put(&mut self, conversation: &str, checkpoint: Checkpoint) {
        self.checkpoints.insert(conversation.to_owned(), checkpoint);
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

const FORMAT: &str = "convo-sync/1";

/// The state file: whose it is, then every conversation's checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    format: String,
    /// The vendor, and Bird's workspace (`bird/<workspace>`).
    scope: String,
    conversations: BTreeMap<String, Checkpoint>,
}

/// Checkpoints in one JSON file, replaced atomically on every flush (a
/// temporary file beside it, synced, then renamed over it): a run killed at
/// any point leaves the previous state or the new one, never half of one.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    scope: String,
    checkpoints: BTreeMap<String, Checkpoint>,
    dirty: bool,
    /// `<path>.lock`, locked while this store is open: two syncs on one
    /// state would each save over the other's checkpoints, and write into
    /// the same files.
    _lock: std::fs::File,
}

impl FileStore {
    /// Opens the state file at `path` (a missing file is an empty state)
    /// for `scope` (the vendor, and Bird's workspace: `bird/<workspace>`);
    /// a file of another scope is refused.
    pub fn open(path: impl Into<PathBuf>, scope: impl Into<String>) -> Result<Self, StoreError> {
        let (path, scope) = (path.into(), scope.into());
        let lock = lock(&path)?;
        let checkpoints = match std::fs::read(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(StoreError::Io { path, source }),
            Ok(bytes) => {
                let file: StateFile = serde_json::from_slice(&bytes)
                    .map_err(|e| StoreError::Invalid { path: path.clone(), reason: e.to_string() })?;
                if file.format != FORMAT {
                    let reason = format!("its format is `{}`, this version reads `{FORMAT}`", file.format);
                    return Err(StoreError::Invalid { path, reason });
                }
                if file.scope != scope {
                    return Err(StoreError::Mismatch { path, expected: scope, found: file.scope });
                }
                file.conversations
            }
        };
        Ok(Self { path, scope, checkpoints, dirty: false, _lock: lock })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the state file's lock (`<path>.lock`, next to it; left in place),
/// or says who holds it.
fn lock(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let io = |source| StoreError::Io { path: lock_path.clone(), source };
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse { path: path.to_owned() }),
        Err(std::fs::TryLockError::Error(source)) => Err(io(source)),
    }
}

impl StateStore for FileStore {
    fn get(&self, conversation: &str) -> Option<Checkpoint> {
        self.checkpoints.get(conversation).cloned()
    }

    fn put(&mut self, conversation: &str, checkpoint: Checkpoint) {
        self.checkpoints.insert(conversation.to_owned(), checkpoint);
        self.dirty = true;
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        if !self.dirty {
            return Ok(());
        }
        let io = |source| StoreError::Io { path: self.path.clone(), source };
        let file = StateFile {
            format: FORMAT.to_owned(),
            scope: self.scope.clone(),
            conversations: std::mem::take(&mut self.checkpoints),
        };
        let json = serde_json::to_vec(&file);
        self.checkpoints = file.conversations;
        let json = json.map_err(|e| io(std::io::Error::other(e)))?;
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut out = std::fs::File::create(&temporary).map_err(io)?;
        out.write_all(&json).map_err(io)?;
        out.sync_all().map_err(io)?;
        drop(out);
        std::fs::rename(&temporary, &self.path).map_err(io)?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, at: &str) -> Message {
        let body = format!(r#"{{"results":[{{"id":"{id}","createdAt":"{at}"}}]}}"#);
        convo_normalize::normalize_page(Vendor::Bird, body.as_bytes()).unwrap().pop().unwrap()
    }

    #[test]
    fn a_mark_keeps_the_newest_time_and_the_ids_within_its_slack() {
        let mut mark = Mark::default();
        mark.wrote(&message("a", "2024-01-01T00:00:00.000Z"));
        mark.wrote(&message("b", "2024-01-01T00:00:01.000Z"));
        mark.wrote(&message("c", "2024-01-01T00:00:01.000500Z"));
        mark.wrote(&message("old", "2023-12-31T00:00:00Z"));
        let newest: DateTime<Utc> = "2024-01-01T00:00:01.000500Z".parse().unwrap();
        assert_eq!(mark.newest, Some(newest));
        let ids: Vec<_> = mark.recent.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["b", "c"], "`a` and `old` are more than a millisecond older");
        let (resume, bound) = mark.next_read(Vendor::Bird);
        assert_eq!(resume, None);
        assert_eq!(bound.since, Some(newest - Mark::SLACK));
        assert_eq!(bound.written, ["b", "c"]);
        // A message without a time is skipped by every later read, by its id
        // or, with none, by its JSON; it does not move the time.
        let mut timeless = message("t", "2024-01-01T00:00:00Z");
        timeless.created_at = None;
        mark.wrote(&timeless);
        timeless.id = None;
        mark.wrote(&timeless);
        assert_eq!(mark.newest, Some(newest));
        // Nor does one dated far in the future: it would hide every message
        // still to come.
        mark.wrote(&message("future", "2999-01-01T00:00:00Z"));
        assert_eq!(mark.newest, Some(newest));
        let (_, bound) = mark.next_read(Vendor::Bird);
        assert_eq!(bound.written, ["b", "c", "t", "future"]);
        assert_eq!(bound.written_raw, [crate::resume::raw_hash(&timeless)]);
        let mut only_timeless = Mark::default();
        only_timeless.wrote(&timeless);
        let (resume, bound) = only_timeless.next_read(Vendor::Leadconnector);
        assert_eq!((resume, bound.since), (None, None), "no time written: the whole conversation, less what was");
        assert_eq!(bound.written_raw.len(), 1);
        let mut octopush_message = timeless.clone();
        octopush_message.vendor = Vendor::Octopush;
        let mut octopush = Mark::default();
        octopush.wrote(&octopush_message);
        assert!(
            octopush.timeless.is_empty(),
            "Octopush's messages never have a time: its last page is checked instead"
        );
        // Octopush reads its last page again instead.
        let tail = Resume { page: Some(convo_normalize::fetch::Position::Page(3)), ..Resume::default() };
        let octopush = Mark {
            tail: Some(tail.clone()),
            tail_listed: vec![Listed::Id("x".into())],
            timeless: Vec::new(),
            ..mark.clone()
        };
        assert_eq!(
            octopush.next_read(Vendor::Octopush),
            (Some(tail.clone()), Bound { listed: vec![Listed::Id("x".into())], ..Bound::default() })
        );
        // What a run that was put back wrote is skipped there too.
        let put_back = Mark { timeless: vec![Written::Id("w".into()), Written::Raw(7)], ..octopush };
        assert_eq!(
            put_back.next_read(Vendor::Octopush),
            (
                Some(tail),
                Bound {
                    listed: vec![Listed::Id("x".into())],
                    written: vec!["w".into()],
                    written_raw: vec![7],
                    ..Bound::default()
                }
            )
        );
        assert_eq!(
            Mark::default().next_read(Vendor::Infobip),
            (None, Bound::default()),
            "nothing written: every message"
        );
    }

    #[test]
    fn a_time_ahead_of_the_clock_never_moves_the_mark_past_messages_still_to_come() {
        let at = |offset: Duration| (Utc::now() + offset).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut mark = Mark::default();
        mark.wrote(&message("now", &at(Duration::minutes(-1))));
        mark.wrote(&message("hours-ahead", &at(Duration::hours(6))));
        let now: DateTime<Utc> = at(Duration::minutes(-1)).parse().unwrap();
        assert!(mark.newest.is_some_and(|newest| newest <= now + Duration::seconds(1)), "{:?}", mark.newest);
        // The next read starts before the messages created in those six
        // hours, and skips the one ahead when it comes again.
        let (_, bound) = mark.next_read(Vendor::Infobip);
        assert!(bound.since.is_some_and(|since| since < Utc::now()));
        assert_eq!(bound.written, ["now", "hours-ahead"]);
        // Once the mark passes it (its time set back here, as the clock
        // moving on would leave it behind), `since` no longer lets it
        // through, and it is forgotten.
        mark.ahead[0].1 = Utc::now() - Duration::minutes(30);
        mark.wrote(&message("newer", &at(Duration::seconds(0))));
        assert!(mark.ahead.is_empty(), "{:?}", mark.ahead);
    }

    #[test]
    fn a_state_file_is_open_in_one_sync_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let first = FileStore::open(&path, "infobip").unwrap();
        let Err(err) = FileStore::open(&path, "infobip") else { panic!("the second open is refused") };
        assert!(matches!(&err, StoreError::InUse { .. }), "{err:?}");
        assert!(err.to_string().contains("in use by another convo sync"), "{err}");
        drop(first);
        FileStore::open(&path, "infobip").expect("free again once the first is closed");
    }

    #[test]
    fn a_file_store_round_trips_and_refuses_another_scope_or_a_foreign_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut store = FileStore::open(&path, "bird/w1").unwrap();
        assert_eq!(store.get("c1"), None);
        let checkpoint = Checkpoint { read: Read::Complete, messages: 3, output_len: Some(10), ..Default::default() };
        store.put("c1", checkpoint.clone());
        store.flush().unwrap();
        assert!(!dir.path().join("state.json.tmp").exists(), "the temporary file was renamed");
        drop(store);
        let store = FileStore::open(&path, "bird/w1").unwrap();
        assert_eq!(store.get("c1"), Some(checkpoint));
        drop(store);
        let err = FileStore::open(&path, "bird/w2").unwrap_err();
        assert!(matches!(err, StoreError::Mismatch { .. }), "{err}");
        std::fs::write(&path, b"[1, 2]").unwrap();
        let err = FileStore::open(&path, "bird/w1").unwrap_err();
        assert!(err.to_string().contains("not a convo sync state file"), "{err}");
    }
}
