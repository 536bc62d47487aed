//! The checks every scheme shares: messages repeated across a page
//! boundary or from further back, and cursors repeated. In memory bounded
//! by a page or two and a fixed-size filter, never by the length of the
//! conversation.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use super::{Listing, PagePosition, PagingError, Record};

/// A fixed-key SipHash: the same text always hashes the same, in every run.
fn hash(text: &str) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(text)
}

/// The ids of the last pages delivered, to recognise a page that starts
/// with messages already delivered (a cursor that starts early, an offset
/// listing that shifted because a message was added at its head).
pub(crate) struct Window {
    /// Ids of the page before the last one, and of the last one.
    older: HashSet<String>,
    newer: HashSet<String>,
    /// Every id delivered, for the first [`EXACT_IDS`]: one message from
    /// further back than the window, even alone among new ones, is
    /// recognised. A collision never repeats a message: it ends the stream
    /// with an error, or, for a message that opens a page, drops it as a
    /// repeat from further back.
    exact: Delivered,
    /// Every id delivered, approximately: to recognise a page from further
    /// back than the window (past [`EXACT_IDS`], whole runs only).
    all: Bloom,
    /// Messages in a row, on the last pages, that `all` says were delivered.
    positive_run: usize,
    /// The repeats [`Window::split`] dropped at the start of the last page.
    repeats: usize,
}

/// A Bloom filter of the ids delivered, of a fixed 2 MiB: flat in memory
/// however long the stream. It can only say "probably delivered", so it is
/// used for runs only: enough messages in a row (one page, or the pages in a
/// row that hold nothing else) that it says were all delivered are a page
/// from further back: one while it holds few ids, up to [`Bloom::LONGEST_RUN`]
/// as it fills (see [`Bloom::run_needed`]). Past [`Bloom::CAPACITY`] ids its
/// false alarms would grow, and it is no longer consulted.
///
/// Blocked: an id's bits all lie in one block of 512 bits (a cache line's
/// size), chosen by its hash, so an insert touches one or two cache lines,
/// not four anywhere in 2 MiB (the scattered writes were a tenth of the
/// CPU time of `convo fetch`). Its false alarms are a little more frequent
/// than an unblocked filter's of the same size; [`Bloom::false_alarm`]
/// counts them for the blocks as they fill.
struct Bloom {
    words: Vec<u64>,
    ids: u64,
}

impl Bloom {
    /// 2^15 blocks of 512 bits: 2 MiB.
    const BLOCKS: u64 = 1 << 15;
    const BLOCK_BITS: u64 = 512;
    const HASHES: u64 = 4;
    const CAPACITY: u64 = 2_000_000;
    const LONGEST_RUN: usize = 5;

    fn new() -> Self {
        Self { words: Vec::new(), ids: 0 }
    }

    /// The words and bits of the id whose [`hash`] is `hash`: its block from
    /// the hash's low 15 bits, its 4 bits in the block from 9 bits each of
    /// the bits above 16 (SipHash's bits are independent).
    fn bits(hash: u64) -> impl Iterator<Item = (usize, u64)> {
        let block = (hash % Self::BLOCKS) * (Self::BLOCK_BITS / 64);
        (0..Self::HASHES).map(move |i| {
            let bit = (hash >> (16 + 9 * i)) % Self::BLOCK_BITS;
            ((block + bit / 64) as usize, 1 << (bit % 64))
        })
    }

    fn insert(&mut self, hash: u64) {
        if self.words.is_empty() {
            self.words = vec![0; (Self::BLOCKS * Self::BLOCK_BITS / 64) as usize];
        }
        for (word, bit) in Self::bits(hash) {
            self.words[word] |= bit;
        }
        self.ids += 1;
    }

    fn probably_contains(&self, hash: u64) -> bool {
        !self.words.is_empty() && Self::bits(hash).all(|(word, bit)| self.words[word] & bit != 0)
    }

    /// The chance that an id never inserted is said to be there: over the
    /// number of ids x in its block (Poisson, of mean ids / blocks), the
    /// chance that its 4 bits are among those x ids' bits.
    fn false_alarm(&self) -> f64 {
        let mean = self.ids as f64 / Self::BLOCKS as f64;
        let (hashes, bits) = (Self::HASHES as f64, Self::BLOCK_BITS as f64);
        let unset = 1.0 - 1.0 / bits;
        // Far enough into the tail that what is left is below 1e-15.
        let last = (mean + 12.0 * mean.sqrt() + 40.0) as u64;
        let (mut chance, mut sum) = ((-mean).exp(), 0.0);
        for x in 0..=last {
            if x > 0 {
                chance *= mean / x as f64;
            }
            sum += chance * (1.0 - unset.powf(hashes * x as f64)).powf(hashes);
        }
        sum
    }

    /// How many messages in a row it must call delivered before that is
    /// taken as true: few while it holds few ids (its false alarms are then
    /// vanishingly rare), more as it fills, so that a false alarm stays
    /// below one in 10^12 (up to about 1,000,000 ids; at its capacity, the
    /// longest run keeps it below one in 10^7).
    fn run_needed(&self) -> usize {
        let false_alarm = self.false_alarm();
        if false_alarm <= f64::MIN_POSITIVE {
            return 1;
        }
        ((1e-12f64).ln() / false_alarm.ln()).ceil().clamp(1.0, Self::LONGEST_RUN as f64) as usize
    }

    fn usable(&self) -> bool {
        self.ids <= Self::CAPACITY
    }
}

/// The ids [`Window`] keeps exactly: a conversation of up to this many
/// messages is checked for any message repeated from any page back. The
/// set then holds 2^17 slots (about 1.2 MiB) and grows no more, so memory
/// stays flat however long the stream; past it, the Bloom filter's runs.
const EXACT_IDS: usize = 114_688;

impl Window {
    pub fn new() -> Self {
        Self {
            older: HashSet::new(),
            newer: HashSet::new(),
            exact: Delivered::new(),
            all: Bloom::new(),
            positive_run: 0,
            repeats: 0,
        }
    }

    /// How many messages delivered before opened the page last split (and
    /// were dropped): how far the listing was pushed down at its start. For
    /// a page of nothing but repeats, all of them.
    pub fn repeats(&self) -> usize {
        self.repeats
    }

    fn contains(&self, id: &str) -> bool {
        self.newer.contains(id) || self.older.contains(id)
    }

    /// Splits `items` of the page at `page`: messages at its start that
    /// were delivered already are dropped (repeats across a page boundary
    /// that moved); a delivered message after a new one (from any page back,
    /// while `exact` holds every id delivered), or a page of nothing but
    /// repeats, is an error.
    ///
    /// Within one page, a record that is byte for byte one before it with
    /// the same key is that message sent twice: it is delivered once. Two
    /// different records with one id are an error where ids are unique
    /// ([`Record::IDS_UNIQUE`]), else both are delivered (a masked id, see
    /// [`Record::id_is_masked`], is no id: such records are keyed by their
    /// JSON).
    pub fn split<L: Listing>(
        &mut self,
        page: &PagePosition,
        items: Vec<L::Item>,
    ) -> Result<Vec<L::Item>, PagingError<L::Error>> {
        let total = items.len();
        let mut fresh: Vec<L::Item> = Vec::with_capacity(total);
        self.repeats = 0;
        let mut repeats = 0;
        let mut twice = 0;
        // The first fresh item of each key's hash, to find a key twice on
        // the page.
        let mut on_page: HashMap<u64, usize, BuildHasherDefault<IdentityHasher>> =
            HashMap::with_capacity_and_hasher(total, Default::default());
        for item in items {
            let Some(id) = item.key() else {
                fresh.push(item);
                continue;
            };
            let hashed = hash(id);
            if self.contains(id) || self.exact.contains(hashed) {
                if fresh.is_empty() {
                    repeats += 1;
                    continue;
                }
                return Err(PagingError::RepeatedMessage { page: page.clone(), id: id.to_owned() });
            }
            match on_page.get(&hashed).map(|&i| &fresh[i]) {
                // (A hash shared by two keys: two messages.)
                Some(earlier) if earlier.key() == Some(id) => {
                    if earlier.raw().is_some() && earlier.raw() == item.raw() {
                        twice += 1;
                        continue;
                    }
                    if <L::Item as Record>::IDS_UNIQUE {
                        return Err(PagingError::RepeatedMessage { page: page.clone(), id: id.to_owned() });
                    }
                }
                Some(_) => {}
                None => {
                    on_page.insert(hashed, fresh.len());
                }
            }
            fresh.push(item);
        }
        if total > 0 && fresh.is_empty() {
            // (`repeats()` tells this page of nothing but repeats from one
            // from further back, below.)
            self.repeats = repeats;
            return Err(PagingError::RepeatedPage { page: page.clone(), count: total });
        }
        if twice > 0 {
            tracing::debug!(%page, twice, "the page held a message twice, byte for byte: delivered once");
        }
        // Messages the filter says were delivered further back, in a run
        // across pages (small pages count together): at `run_needed` in a
        // row, the cursor points back.
        // (Not needed while `exact` holds every id delivered.)
        let ids: Vec<&str> = fresh.iter().filter_map(Record::key).collect();
        if !self.exact.complete()
            && self.all.usable()
            && !ids.is_empty()
            && ids.iter().all(|id| self.all.probably_contains(hash(id)))
        {
            self.positive_run += ids.len();
            if self.positive_run >= self.all.run_needed() {
                return Err(PagingError::RepeatedPage { page: page.clone(), count: total });
            }
        } else {
            self.positive_run = 0;
        }
        self.repeats = repeats;
        if repeats > 0 {
            tracing::debug!(%page, repeats, "dropped messages the page before had delivered (a page boundary that moved)");
        }
        Ok(fresh)
    }

    /// Remembers the ids of a page just delivered (and forgets the page
    /// before the one before it).
    pub fn remember<L: Listing>(&mut self, items: &[L::Item]) {
        let ids: HashSet<String> = items.iter().filter_map(|item| item.key().map(str::to_owned)).collect();
        for id in &ids {
            let hashed = hash(id);
            // Into the filter from the first page on: its memory is the
            // same at 100,000 messages as at 1,000,000.
            self.all.insert(hashed);
            self.exact.insert(hashed);
        }
        if ids.is_empty() {
            return;
        }
        self.older = std::mem::replace(&mut self.newer, ids);
    }
}

/// Every key delivered, as 64-bit hashes (SipHash, fixed keys), for the
/// first [`EXACT_IDS`] keys: the set then stops growing (about 1.2 MiB), so
/// memory stays flat however long the stream. A collision (about one in
/// 10^9 for a whole conversation of that many keys) can only take a new
/// message for one delivered before, never deliver one twice.
pub(crate) struct Delivered {
    hashes: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
}

impl Delivered {
    pub fn new() -> Self {
        Self { hashes: HashSet::default() }
    }

    /// Whether the set still holds every key delivered.
    pub fn complete(&self) -> bool {
        self.hashes.len() < EXACT_IDS
    }

    fn contains(&self, hashed: u64) -> bool {
        self.hashes.contains(&hashed)
    }

    fn insert(&mut self, hashed: u64) {
        if self.complete() {
            self.hashes.insert(hashed);
        }
    }

    /// Records `key` as delivered; `false` when it was delivered before.
    pub fn first_time(&mut self, key: &str) -> bool {
        let hashed = hash(key);
        if self.contains(hashed) {
            return false;
        }
        self.insert(hashed);
        true
    }
}

/// The seen-cursor set, as 64-bit hashes: a few bytes a page, so a stream
/// of a million messages stays flat in memory. A collision can only end a
/// stream early with [`PagingError::RepeatedCursor`], never repeat or skip.
pub(crate) struct Cursors {
    seen: HashSet<u64, BuildHasherDefault<IdentityHasher>>,
}

impl Cursors {
    pub fn new() -> Self {
        Self { seen: HashSet::default() }
    }

    /// Records `cursor`; `false` when it was seen before.
    pub fn insert(&mut self, cursor: &str) -> bool {
        self.seen.insert(hash(cursor))
    }
}

/// The hashes are SipHash already: hashing them again is waste.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_tells_a_key_delivered_before_and_stops_growing_at_its_size() {
        let mut delivered = Delivered::new();
        assert!(delivered.first_time("a"));
        assert!(!delivered.first_time("a"), "delivered before");
        assert!(delivered.first_time("b"));
        for i in 0..EXACT_IDS {
            delivered.first_time(&format!("k{i}"));
        }
        assert!(!delivered.complete());
        assert_eq!(delivered.hashes.len(), EXACT_IDS, "flat in memory past its size");
        // Past its size a new key is taken as new, and not kept.
        assert!(delivered.first_time("later") && delivered.first_time("later"));
        assert!(!delivered.first_time("a"), "what it kept it still tells");
    }

    #[derive(Debug)]
    struct Item(String);

    impl Record for Item {
        fn id(&self) -> Option<&str> {
            Some(&self.0)
        }
        fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
            None
        }
    }

    #[derive(Debug, serde::Serialize)]
    struct NoError;

    struct Test;

    impl Listing for Test {
        const VENDOR: &'static str = "test";
        type Item = Item;
        type Error = NoError;
    }

    fn page(from: usize, to: usize) -> Vec<Item> {
        (from..to).map(|i| Item(format!("m{i}"))).collect()
    }

    fn deliver(window: &mut Window, n: usize, items: Vec<Item>) -> Result<usize, PagingError<NoError>> {
        let position = PagePosition(Some(crate::paging::Position::Page(n as u64)));
        let fresh = window.split::<Test>(&position, items)?;
        window.remember::<Test>(&fresh);
        Ok(fresh.len())
    }

    #[test]
    fn the_filter_holds_every_id_delivered_and_its_false_alarms_are_counted_as_it_fills() {
        let mut bloom = Bloom::new();
        let ids: Vec<u64> = (0..200_000).map(|i| hash(&format!("m{i}"))).collect();
        for &id in &ids {
            bloom.insert(id);
        }
        assert!(ids.iter().all(|&id| bloom.probably_contains(id)), "no id inserted is missed");
        // Ids never inserted: the false alarms seen are what it counts.
        let tries = 1_000_000;
        let alarms = (200_000..200_000 + tries).filter(|i| bloom.probably_contains(hash(&format!("m{i}")))).count();
        let expected = bloom.false_alarm() * tries as f64;
        assert!((alarms as f64) < expected * 3.0 + 10.0, "{alarms} false alarms, {expected:.1} expected");
        assert!((alarms as f64) > expected / 3.0 - 10.0, "{alarms} false alarms, {expected:.1} expected");
        // One message in a row is never enough while it is this full; a run
        // of them keeps a false alarm under one in 10^12.
        let run = bloom.run_needed();
        assert!((2..=Bloom::LONGEST_RUN).contains(&run), "{run}");
        assert!(bloom.false_alarm().powi(run as i32) < 1e-12);
        let mut full = Bloom { words: Vec::new(), ids: 1_000_000 };
        assert_eq!(full.run_needed(), Bloom::LONGEST_RUN);
        full.ids = Bloom::CAPACITY;
        assert!(full.false_alarm().powi(Bloom::LONGEST_RUN as i32) < 1e-7);
    }

    #[test]
    fn past_the_exact_set_a_page_from_further_back_is_still_recognised() {
        let mut window = Window::new();
        let per_page = 1_000;
        let pages = EXACT_IDS.div_ceil(per_page) + 5;
        for n in 0..pages {
            deliver(&mut window, n, page(n * per_page, (n + 1) * per_page)).unwrap();
        }
        // Long out of the window of the last two pages: page 0 is in the
        // exact set, page `full + 1` only in the filter.
        let full = EXACT_IDS.div_ceil(per_page);
        for from in [0, (full + 1) * per_page] {
            let back = deliver(&mut window, pages, page(from, from + per_page));
            assert!(matches!(back, Err(PagingError::RepeatedPage { .. })), "{from}: {back:?}");
        }
        // A new page is not mistaken for one from further back.
        assert_eq!(deliver(&mut window, pages + 1, page(pages * per_page, (pages + 1) * per_page)).unwrap(), per_page);
    }
}
