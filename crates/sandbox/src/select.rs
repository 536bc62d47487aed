//! Which messages of a conversation a request selects, and their pages.
//!
//! A conversation is a sequence of messages in their natural order (index 0
//! is the oldest). A request selects a contiguous range of it (what its date
//! filters leave), optionally thinned by a predicate (channel, direction,
//! type, ids), walked forwards or backwards. Pages are taken by offset
//! (Infobip, Octopush) or after a boundary (LeadConnector, Bird). Without a
//! predicate every operation is O(page size), whatever the conversation's
//! size.

use std::ops::Range;

/// The messages a request selects.
pub(crate) struct Selection<'a> {
    pub range: Range<usize>,
    pub keep: Option<&'a dyn Fn(usize) -> bool>,
    /// Newest first.
    pub descending: bool,
}

impl Selection<'_> {
    /// How many messages are selected.
    pub fn count(&self) -> usize {
        match self.keep {
            None => self.range.len(),
            Some(keep) => self.range.clone().filter(|&i| keep(i)).count(),
        }
    }

    /// The selected messages of `part` (a sub-range of the natural order),
    /// in the walking order.
    fn walk(&self, part: Range<usize>) -> Box<dyn Iterator<Item = usize> + '_> {
        let walked: Box<dyn Iterator<Item = usize>> =
            if self.descending { Box::new(part.rev()) } else { Box::new(part) };
        match self.keep {
            None => walked,
            Some(keep) => Box::new(walked.filter(move |&i| keep(i))),
        }
    }

    /// The page of `take` messages after skipping `skip` selected ones.
    pub fn offset(&self, skip: usize, take: usize) -> Vec<usize> {
        self.walk(self.range.clone()).skip(skip).take(take).collect()
    }

    /// The page of `take` messages that follow `boundary` in the walking
    /// order, and whether more follow that page. `boundary` is a position
    /// between messages of the natural order: when walking backwards the
    /// page starts at the message before it, forwards at the message after
    /// it. `None` starts at the beginning of the walk.
    pub fn after(&self, boundary: Option<usize>, take: usize) -> (Vec<usize>, bool) {
        let Range { start, end } = self.range;
        let part = match (boundary, self.descending) {
            (None, _) => start..end,
            (Some(b), true) => start..b.clamp(start, end),
            (Some(b), false) => b.clamp(start, end)..end,
        };
        let mut walk = self.walk(part);
        let page: Vec<usize> = walk.by_ref().take(take).collect();
        let more = walk.next().is_some();
        (page, more)
    }
}

/// The first index in `0..len` for which `is_before` is false, where
/// `is_before` is true for a prefix of the indices and false after it.
pub(crate) fn partition_point(len: usize, is_before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let mid = low + (high - low) / 2;
        if is_before(mid) { low = mid + 1 } else { high = mid }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_walk_both_ways() {
        let forwards = Selection { range: 2..10, keep: None, descending: false };
        assert_eq!(forwards.count(), 8);
        assert_eq!(forwards.offset(3, 2), vec![5, 6]);
        assert_eq!(forwards.offset(7, 5), vec![9]);
        assert_eq!(forwards.offset(usize::MAX, 5), Vec::<usize>::new());
        let backwards = Selection { descending: true, ..forwards };
        assert_eq!(backwards.offset(0, 3), vec![9, 8, 7]);
    }

    #[test]
    fn a_predicate_thins_the_selection() {
        let even = |i: usize| i.is_multiple_of(2);
        let selection = Selection { range: 0..10, keep: Some(&even), descending: true };
        assert_eq!(selection.count(), 5);
        assert_eq!(selection.offset(1, 2), vec![6, 4]);
        assert_eq!(selection.after(Some(4), 5), (vec![2, 0], false));
    }

    #[test]
    fn pages_after_a_boundary_say_whether_more_follow() {
        let backwards = Selection { range: 0..5, keep: None, descending: true };
        assert_eq!(backwards.after(None, 2), (vec![4, 3], true));
        assert_eq!(backwards.after(Some(3), 2), (vec![2, 1], true));
        assert_eq!(backwards.after(Some(1), 2), (vec![0], false));
        let forwards = Selection { range: 0..5, keep: None, descending: false };
        assert_eq!(forwards.after(Some(3), 2), (vec![3, 4], false));
        assert_eq!(forwards.after(Some(9), 2), (vec![], false));
    }

    #[test]
    fn partition_point_finds_the_first_index_past_the_prefix() {
        assert_eq!(partition_point(10, |i| i < 4), 4);
        assert_eq!(partition_point(10, |_| true), 10);
        assert_eq!(partition_point(0, |_| true), 0);
    }
}
