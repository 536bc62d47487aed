//! Where a read that stopped early goes on (`convo fetch --resume`, and the
//! checkpoints of a sync), so that across the two runs every message is
//! written exactly once.
//!
//! The token is the position of the page to read next (as the vendor's
//! stream gave it) and, when the export stopped in the middle of a page, the
//! last message of that page already written: the resumed run reads the
//! page again and skips up to and including that message. If that message
//! is no longer on the page, the resumed run refuses to guess and says so.
//! After a page written whole, the token is that page again after its last
//! message, as above, or, where the stream's next position carries its own
//! check (Octopush's `PageWithCheck`), that next position: the resumed
//! stream then finds the last message delivered itself, wherever messages
//! added at the head pushed it.
//! The token is base64url JSON and a checksum of it (FNV-1a, 64 bits): one
//! shell word, nothing to quote; a token cut short or edited is refused (a
//! checksum, not a signature: it catches accidents and casual edits, not a
//! forger who computes it again).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use convo_normalize::Message;
use convo_normalize::fetch::Position;
use serde::{Deserialize, Serialize};

/// Where an export goes on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    /// The page to read first; `None`: the vendor's first page.
    pub page: Option<Position>,
    /// On that page, the messages up to and including this one were
    /// written already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Written>,
    /// The page size the position counts in, where the export asked for
    /// one (`None`: the vendor's default): a position is a page of that
    /// size (Octopush's page numbers would repeat or skip messages with
    /// another), so the read goes on only with the same. A sync keeps it
    /// in its [`crate::Checkpoint`] instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u64>,
    /// The most messages a page with more after it held, where the export
    /// saw one: a vendor that caps its pages counts its page numbers in the
    /// size it served, so a read going on from a page number asks for
    /// pages of that size. A sync keeps it in its [`crate::Checkpoint`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_page_size: Option<u64>,
    /// Which read printed it (see [`Resume::read_of`]): a token goes on only
    /// the read it was printed by, never another conversation's or another
    /// `--since`'s. `None` in tokens printed before it was kept, which
    /// `convo fetch --resume` refuses; a sync's checkpoints, kept per
    /// conversation, do not need it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

/// The last message written of a page: its id, or, for a message without
/// one, its place on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    /// The message's id.
    Id(String),
    /// A message without an id: a hash of its exact JSON text (FNV-1a, 64
    /// bits), which the resumed page must hold again.
    Raw(u64),
}

impl Written {
    /// How `message` is known: its id, or a hash of its JSON.
    pub fn of(message: &Message) -> Self {
        match &message.id {
            Some(id) => Written::Id(id.clone()),
            None => Written::Raw(raw_hash(message)),
        }
    }
}

/// FNV-1a over the message's exact JSON: stable across builds and runs.
pub(crate) fn raw_hash(message: &Message) -> u64 {
    fnv(message.raw.get().as_bytes())
}

const PREFIX: &str = "r2.";
/// What tokens without a checksum started with (refused).
const OLDER_PREFIX: &str = "r1.";

/// FNV-1a, 64 bits, over `bytes`.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3))
}

impl Resume {
    /// What identifies a read, for [`Resume::read`]: a hash (FNV-1a, 64
    /// bits, hex) of `parts`, the vendor and every flag that chooses which
    /// messages the read lists.
    pub fn read_of(parts: &[&str]) -> String {
        let bytes: Vec<u8> = parts.iter().flat_map(|part| part.bytes().chain([0])).collect();
        format!("{:016x}", fnv(&bytes))
    }

    /// The token for `--resume`.
    pub fn token(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!("{PREFIX}{}.{:016x}", URL_SAFE_NO_PAD.encode(&json), fnv(&json))
    }

    /// Reads a `--resume` token back.
    pub fn parse(token: &str) -> Result<Self, String> {
        let bad = |why: String| format!("--resume `{token}` is not a position convo printed: {why}");
        let token = token.trim();
        if token.starts_with(OLDER_PREFIX) {
            return Err(bad(
                "an older convo printed it, without a checksum; export the conversation again from the start"
                    .to_owned(),
            ));
        }
        let body = token.strip_prefix(PREFIX).ok_or_else(|| bad(format!("it does not start with `{PREFIX}`")))?;
        let (body, sum) = body.rsplit_once('.').ok_or_else(|| bad("it has no checksum".to_owned()))?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|e| bad(e.to_string()))?;
        if u64::from_str_radix(sum, 16).ok() != Some(fnv(&json)) || sum.len() != 16 {
            return Err(bad("its checksum does not match (cut short or edited)".to_owned()));
        }
        serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))
    }

    /// The messages of the first page read after resuming that were not
    /// written before: those after [`Resume::after`].
    pub fn skip_written(&self, messages: &mut Vec<Message>) -> Result<(), String> {
        let Some(after) = &self.after else { return Ok(()) };
        let is_it = |m: &Message| match after {
            Written::Raw(hash) => m.id.is_none() && raw_hash(m) == *hash,
            Written::Id(id) => m.id.as_deref() == Some(id.as_str()),
        };
        let found = messages.iter().position(is_it);
        if let Some(first) = found
            && messages[first + 1..].iter().any(is_it)
        {
            let which = match after {
                Written::Id(id) => format!("message `{id}`"),
                Written::Raw(_) => "the message without an id".to_owned(),
            };
            return Err(format!(
                "cannot resume exactly once: {which}, the last one written, is on its page more than once, and which of them was written cannot be told; export the conversation again from the start"
            ));
        }
        let Some(index) = found else {
            let which = match &self.after {
                Some(Written::Id(id)) => format!("message `{id}`"),
                _ => "the message without an id".to_owned(),
            };
            return Err(format!(
                "cannot resume exactly once: {which}, the last one written, is no longer on the page it was on; export the conversation again from the start"
            ));
        };
        let skip = index + 1;
        messages.drain(..skip);
        Ok(())
    }
}

/// Follows an export to know, at any point, where it would go on.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The page being written, and how many of its messages were written.
    page: Option<Position>,
    next: Option<Position>,
    written: usize,
    total: usize,
    last: Option<Written>,
    started: bool,
    finished: bool,
}

impl Tracker {
    /// A page is about to be written (`len` messages).
    pub fn page(&mut self, position: Option<Position>, next: Option<Position>, len: usize) {
        self.page = position;
        self.next = next;
        self.total = len;
        self.written = 0;
        self.last = None;
        self.started = true;
        self.finished = false;
    }

    /// A message of the page was written.
    pub fn wrote(&mut self, message: &Message) {
        self.written += 1;
        self.last = Some(Written::of(message));
    }

    /// Every message of the page was written.
    pub fn page_done(&mut self) {
        self.finished = true;
    }

    /// Where a new run goes on; `None` when nothing was read yet (the same
    /// command again does it) or the read was complete.
    pub fn resume(&self) -> Option<Resume> {
        if !self.started {
            return None;
        }
        if self.finished || self.written == self.total {
            let next = self.next.clone()?;
            return Some(match &self.last {
                // The next page, with the check of everything delivered
                // before it (Octopush): the resumed read itself finds the
                // last message delivered where messages added at the head
                // since pushed it, and its check sees any other change.
                _ if matches!(next, Position::PageWithCheck { .. }) => Resume { page: Some(next), ..Resume::default() },
                // The page again, after its last message: a listing that
                // moved since (Octopush's page numbers shift as messages
                // arrive at its head) is then refused instead of written
                // twice, at the cost of one page read again.
                Some(last) => Resume { page: self.page.clone(), after: Some(last.clone()), ..Resume::default() },
                None => Resume { page: Some(next), ..Resume::default() },
            });
        }
        Some(Resume {
            page: self.page.clone(),
            after: self.last.clone(),
            page_size: None,
            served_page_size: None,
            read: None,
        })
    }

    /// Where a new run goes on, even after the last page: that page again,
    /// after its last message written (a read killed after its last page
    /// but before it was known complete asks for that one page again, and
    /// writes only what follows). `None` when nothing was read yet.
    pub fn checkpoint(&self) -> Option<Resume> {
        self.resume().or_else(|| {
            self.started.then(|| Resume {
                page: self.page.clone(),
                after: self.last.clone(),
                page_size: None,
                served_page_size: None,
                read: None,
            })
        })
    }

    /// Whether a page was written in full and no page follows it.
    pub fn complete(&self) -> bool {
        self.started && (self.finished || self.written == self.total) && self.next.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Bird message with this id; without one, a message that could not
    /// be decoded (Bird's messages need an id).
    fn message(id: Option<&str>) -> Message {
        let body = match id {
            Some(id) => format!(r#"{{"results":[{{"id":"{id}"}}]}}"#),
            None => r#"{"results":[{"text":"no id"}]}"#.to_owned(),
        };
        let mut page = convo_normalize::normalize_page(convo_normalize::Vendor::Bird, body.as_bytes()).unwrap();
        page.pop().unwrap()
    }

    #[test]
    fn tokens_read_back_and_bad_ones_are_named() {
        for resume in [
            Resume {
                page: None,
                after: Some(Written::Id("m 1/é".into())),
                page_size: None,
                served_page_size: None,
                read: None,
            },
            Resume { page: Some(Position::Page(3)), after: None, page_size: None, served_page_size: None, read: None },
            Resume {
                page: Some(Position::Cursor("{\"after\":1}".into())),
                after: Some(Written::Raw(7)),
                page_size: Some(30),
                served_page_size: Some(20),
                read: Some(Resume::read_of(&["octopush", "cid_x"])),
            },
        ] {
            let token = resume.token();
            assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{token}");
            assert_eq!(Resume::parse(&token).unwrap(), resume);
        }
        let err = Resume::parse("page:3").unwrap_err();
        assert!(err.contains("`page:3`") && err.contains("r2."), "{err}");
        assert!(Resume::parse("r2.!!!").is_err());
        // Cut short, edited, or from before the checksum: refused.
        let token = Resume { page: Some(Position::Page(3)), ..Resume::default() }.token();
        let cut = &token[..token.len() - 1];
        assert!(Resume::parse(cut).unwrap_err().contains("checksum"), "{cut}");
        let (body, sum) = token.rsplit_once('.').unwrap();
        let other = Resume { page: Some(Position::Page(4)), ..Resume::default() }.token();
        let edited = format!("{}.{sum}", other.rsplit_once('.').unwrap().0);
        assert!(Resume::parse(&edited).unwrap_err().contains("checksum"), "{edited}");
        let older = format!("r1.{}", &body["r2.".len()..]);
        assert!(Resume::parse(&older).unwrap_err().contains("an older convo"), "{older}");
    }

    #[test]
    fn the_tracker_resumes_after_the_last_message_written() {
        let mut tracker = Tracker::default();
        assert_eq!(tracker.resume(), None, "nothing read: the same command again");
        tracker.page(None, Some(Position::Page(2)), 2);
        tracker.wrote(&message(Some("a")));
        assert_eq!(
            tracker.resume(),
            Some(Resume {
                page: None,
                after: Some(Written::Id("a".into())),
                page_size: None,
                served_page_size: None,
                read: None
            })
        );
        tracker.wrote(&message(None));
        tracker.page_done();
        assert_eq!(
            tracker.resume(),
            Some(Resume { page: None, after: Some(Written::of(&message(None))), ..Resume::default() }),
            "a page written whole: that page again, after its last message (a moved listing is seen)"
        );
        tracker.page(Some(Position::Page(2)), None, 1);
        tracker.wrote(&message(Some("c")));
        tracker.page_done();
        assert_eq!(tracker.resume(), None, "the read was complete");
        assert!(tracker.complete());
        assert_eq!(
            tracker.checkpoint(),
            Some(Resume {
                page: Some(Position::Page(2)),
                after: Some(Written::Id("c".into())),
                page_size: None,
                served_page_size: None,
                read: None,
            }),
            "a checkpoint after the last page asks for it again"
        );
    }

    #[test]
    fn a_resumed_page_skips_what_was_written_or_refuses_to_guess() {
        let ids = |messages: &[Message]| messages.iter().map(|m| m.id.clone()).collect::<Vec<_>>();
        let page = || vec![message(Some("a")), message(Some("b")), message(None), message(Some("d"))];
        let mut messages = page();
        Resume {
            page: None,
            after: Some(Written::Id("b".into())),
            page_size: None,
            served_page_size: None,
            read: None,
        }
        .skip_written(&mut messages)
        .unwrap();
        assert_eq!(ids(&messages), [None, Some("d".to_owned())]);
        let mut messages = page();
        let without_id = raw_hash(&page()[2]);
        Resume {
            page: None,
            after: Some(Written::Raw(without_id)),
            page_size: None,
            served_page_size: None,
            read: None,
        }
        .skip_written(&mut messages)
        .unwrap();
        assert_eq!(ids(&messages), [Some("d".to_owned())]);
        // A page that no longer holds it is refused, not skipped by count.
        let mut shifted = vec![message(Some("x")), message(Some("d"))];
        let err = Resume {
            page: None,
            after: Some(Written::Raw(without_id)),
            page_size: None,
            served_page_size: None,
            read: None,
        }
        .skip_written(&mut shifted)
        .unwrap_err();
        assert!(err.contains("without an id"), "{err}");
        let mut messages = page();
        let err = Resume {
            page: None,
            after: Some(Written::Id("gone".into())),
            page_size: None,
            served_page_size: None,
            read: None,
        }
        .skip_written(&mut messages)
        .unwrap_err();
        assert!(err.contains("`gone`"), "{err}");
        // Twice on its page (a vendor that sends two records with one id):
        // which one was written last cannot be told, so nothing is guessed.
        let mut twice = vec![message(Some("a")), message(Some("b")), message(Some("a"))];
        let err = Resume {
            page: None,
            after: Some(Written::Id("a".into())),
            page_size: None,
            served_page_size: None,
            read: None,
        }
        .skip_written(&mut twice)
        .unwrap_err();
        assert!(err.contains("more than once"), "{err}");
        assert_eq!(twice.len(), 3, "nothing skipped");
    }
}
