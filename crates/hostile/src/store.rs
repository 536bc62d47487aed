//! The conversation: its messages, how a query lists them, and the changes
//! a behaviour makes to it.

use std::cmp::Ordering;

use crate::{End, Vendor};

/// 2024-03-01T10:00:00.000Z.
pub(crate) const BASE_MS: i64 = 1_709_287_200_000;

/// The first sequence number: lower ones are left for messages inserted so
/// that they sort first.
const FIRST_SEQ: i64 = 1_000_000;

/// One message. `seq` orders ids (every vendor's ids sort as their `seq`
/// does); `created_ms` is the creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Msg {
    pub seq: i64,
    pub id: String,
    pub created_ms: i64,
}

impl Msg {
    pub fn new(vendor: Vendor, seq: i64, created_ms: i64) -> Msg {
        Msg { seq, id: message_id(vendor, seq), created_ms }
    }

    pub fn inbound(&self) -> bool {
        self.seq % 2 == 0
    }

    pub fn text(&self) -> String {
        format!("hostile message {}", self.seq)
    }
}

/// A vendor-shaped id that sorts as `seq` does (fixed-width digits).
pub(crate) fn message_id(vendor: Vendor, seq: i64) -> String {
    match vendor {
        // UUID-shaped, as Infobip's and Bird's ids are.
        Vendor::Infobip => format!("{:08x}-0000-4000-8000-00000000a1f0", seq),
        Vendor::Bird => format!("{:08x}-b1d0-4000-8000-00000000b1d0", seq),
        Vendor::Octopush => format!("oct-{seq:012}"),
        // 20 characters, as HighLevel's ids are.
        Vendor::Leadconnector => format!("hst{seq:017}"),
    }
}

/// The field a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// The id (Infobip `id`); ids sort as `seq`.
    Id,
    /// The creation time, ties broken by id (Infobip `createdAt`,
    /// LeadConnector, Bird).
    Created,
    /// The order the vendor keeps them in (Octopush).
    Seq,
}

/// How one query lists the conversation: the filters and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    pub key: SortKey,
    pub descending: bool,
    /// Only messages created strictly after (Infobip `createdAfter`).
    pub after_ms: Option<i64>,
    /// Only messages created strictly before (Infobip `createdBefore`).
    pub before_ms: Option<i64>,
    /// Only messages created at or after (Bird `dateFrom`).
    pub from_ms: Option<i64>,
    /// Only these ids (Infobip `messageIds`).
    pub ids: Option<Vec<String>>,
}

impl View {
    /// The listing a query without parameters gets.
    pub fn default_for(vendor: Vendor) -> View {
        let (key, descending) = match vendor {
            Vendor::Infobip => (SortKey::Id, false),
            Vendor::Octopush => (SortKey::Seq, false),
            Vendor::Leadconnector | Vendor::Bird => (SortKey::Created, true),
        };
        View { key, descending, after_ms: None, before_ms: None, from_ms: None, ids: None }
    }

    pub fn keeps(&self, m: &Msg) -> bool {
        self.after_ms.is_none_or(|t| m.created_ms > t)
            && self.before_ms.is_none_or(|t| m.created_ms < t)
            && self.from_ms.is_none_or(|t| m.created_ms >= t)
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&m.id))
    }

    /// `a` against `b` in this listing's order.
    pub fn cmp(&self, a: &Msg, b: &Msg) -> Ordering {
        let ascending = match self.key {
            SortKey::Id => a.id.cmp(&b.id),
            SortKey::Created => (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)),
            SortKey::Seq => a.seq.cmp(&b.seq),
        };
        if self.descending { ascending.reverse() } else { ascending }
    }

    /// The messages this query lists, in its order.
    pub fn list(&self, messages: &[Msg]) -> Vec<Msg> {
        let mut listed: Vec<Msg> = messages.iter().filter(|m| self.keeps(m)).cloned().collect();
        listed.sort_by(|a, b| self.cmp(a, b));
        listed
    }
}

/// The conversation as it is now.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub vendor: Vendor,
    pub messages: Vec<Msg>,
    /// The highest and lowest sequence numbers ever given: an inserted
    /// message never reuses the id of a deleted one.
    high: i64,
    low: i64,
}

impl Store {
    /// `n` messages, oldest first; `per_ms` consecutive ones share a
    /// timestamp (1: each its own second).
    pub fn generate(vendor: Vendor, n: usize, per_ms: usize) -> Store {
        let per_ms = per_ms.max(1);
        let messages = (0..n)
            .map(|i| {
                let group = (i / per_ms) as i64;
                // Distinct groups are a second and a few milliseconds apart,
                // so that timestamps look real and never collide.
                let created = BASE_MS + group * 1_000 + group % 1_000;
                Msg::new(vendor, FIRST_SEQ + i as i64, created)
            })
            .collect();
        Store { vendor, messages, high: FIRST_SEQ + n as i64 - 1, low: FIRST_SEQ }
    }

    fn max_created(&self) -> i64 {
        self.messages.iter().map(|m| m.created_ms).max().unwrap_or(BASE_MS)
    }

    fn min_created(&self) -> i64 {
        self.messages.iter().map(|m| m.created_ms).min().unwrap_or(BASE_MS)
    }

    /// Adds a message that lists at `at` of `view`; returns it.
    pub fn insert(&mut self, at: End, view: &View) -> Msg {
        let newest_seq = self.high + 1;
        let newest_created = self.max_created() + 1;
        let (seq, created) = match at {
            End::Newest => (newest_seq, newest_created),
            End::Head => match (view.key, view.descending) {
                // A new message whose id happens to sort first.
                (SortKey::Id | SortKey::Seq, false) => (self.low - 1, newest_created),
                (SortKey::Id | SortKey::Seq, true) => (newest_seq, newest_created),
                // Oldest first: a back-filled (imported) message.
                (SortKey::Created, false) => (newest_seq, self.min_created() - 1),
                (SortKey::Created, true) => (newest_seq, newest_created),
            },
        };
        self.high = self.high.max(seq);
        self.low = self.low.min(seq);
        let message = Msg::new(self.vendor, seq, created);
        self.messages.push(message.clone());
        message
    }

    /// Deletes the message at `at` of `view`; returns it.
    pub fn delete(&mut self, at: End, view: &View) -> Option<Msg> {
        let victim = match at {
            End::Head => view.list(&self.messages).into_iter().next(),
            End::Newest => self.messages.iter().max_by_key(|m| (m.created_ms, m.seq)).cloned(),
        }?;
        self.messages.retain(|m| m.id != victim.id);
        Some(victim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_as_their_sequence_numbers() {
        for vendor in Vendor::ALL {
            let a = message_id(vendor, 999_999);
            let b = message_id(vendor, 1_000_000);
            let c = message_id(vendor, 1_000_123);
            assert!(a < b && b < c, "{vendor}: {a} {b} {c}");
        }
    }

    #[test]
    fn head_inserts_list_first_and_newest_inserts_are_newest() {
        for (vendor, key, descending) in [
            (Vendor::Infobip, SortKey::Id, false),
            (Vendor::Infobip, SortKey::Created, false),
            (Vendor::Infobip, SortKey::Created, true),
            (Vendor::Octopush, SortKey::Seq, false),
            (Vendor::Bird, SortKey::Created, true),
        ] {
            let view = View { key, descending, ..View::default_for(vendor) };
            let mut store = Store::generate(vendor, 20, 3);
            let head = store.insert(End::Head, &view);
            assert_eq!(view.list(&store.messages)[0], head, "{vendor} {key:?} {descending}");
            assert_eq!(store.delete(End::Head, &view), Some(head));
            let newest = store.insert(End::Newest, &view);
            assert_eq!(store.messages.iter().map(|m| m.created_ms).max(), Some(newest.created_ms));
            assert_eq!(store.delete(End::Newest, &view), Some(newest));
        }
    }

    #[test]
    fn an_inserted_message_never_takes_a_deleted_ones_id() {
        let view = View::default_for(Vendor::Infobip);
        let mut store = Store::generate(Vendor::Infobip, 5, 1);
        let deleted = store.delete(End::Newest, &view).unwrap();
        let added = store.insert(End::Newest, &view);
        assert_ne!(deleted.id, added.id);
    }

    #[test]
    fn same_millisecond_groups_share_one_timestamp() {
        let store = Store::generate(Vendor::Bird, 10, 4);
        let times: Vec<i64> = store.messages.iter().map(|m| m.created_ms).collect();
        assert_eq!(times[0], times[3]);
        assert!(times[4] > times[3]);
    }
}
