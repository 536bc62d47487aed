//! Page-number paging with no total (Octopush): pages `first, first+1, ...`
//! of `per_page` messages over a listing that can change while it is read.
//!
//! Guarantees, beyond the engine's:
//! - The end is an empty page, never a short one: a server that serves
//!   fewer messages than asked is followed. When the first page is shorter
//!   than asked, the server's size is taken as the page size from then on
//!   (asking for exactly that many, so that page numbers point where the
//!   server counts them whether it caps or truncates). A later page shorter
//!   than that, followed by a page with messages (messages added at the end
//!   since, or a page served short by mistake), is read again and the read
//!   goes on from it, twice at most; then it ends the stream with
//!   [`PagingError::ShortPage`]. A page longer ends it with
//!   [`PagingError::PageSizeChanged`].
//! - A message added at the head of the listing during the read shifts
//!   every later page by one: the repeats that open each of them are
//!   dropped (a server whose pages overlap is read so too, but its listing
//!   read again at the end holds the overlap, so it fails there: it cannot
//!   be told from one that loses the messages the overlap stands for). A
//!   short page
//!   of nothing but repeats is the end pushed down; a full one is the
//!   listing pushed down by a page or more (one message added at the head
//!   of a conversation of one message does it) or a page served again (an
//!   API that ignores `page`, a stale answer): where the run's first page,
//!   asked again, shows the listing grew at its head, it is skipped (twice
//!   in a row at most), else it ends the stream with
//!   [`PagingError::RepeatedPage`].
//! - A message deleted during the read shifts the later pages the other
//!   way, silently skipping one (the first of the next page moves onto the
//!   page already read), wherever the deletion is: on the first page, or on
//!   any page below it that the read has passed. So at the end, whenever the
//!   run delivered messages, the listing is read again from the run's first
//!   page and must hold exactly what was delivered, in order, and nothing
//!   after it: pushed down whole by messages added at its head, or not at
//!   all. A message skipped is there now between two delivered ones (or
//!   after the last); one deleted is missing. The check holds no ids, only a
//!   running hash of the keys delivered and their count, so memory stays
//!   flat. It costs the read once more (as many requests again, up to
//!   [`PagingOptions::concurrency`] at once: the pages to read are known
//!   from the count once the first delivered message is found). A listing
//!   read again that differs ends the stream with
//!   [`PagingError::ListingChanged`]; where the check itself saw it pushed
//!   down (a page opening with a message of the page before: added at the
//!   head while it read) or read pages at once, it is read once more
//!   first, and only a second difference ends the stream.
//! - Messages after the last one delivered, in a listing that never grew at
//!   its head during the read (no page opened with a repeat, the first
//!   message delivered still first): added at its end, or served empty or
//!   short once by mistake. The read goes on from the page where they start
//!   (its repeats dropped), to a new end and a new check, at most
//!   twice; where the listing grew at its head they can be one pulled back
//!   past the read (added at the head, then deleted): `ListingChanged`.
//!
//! - Across runs: every page after the first one delivered is at a
//!   [`Position::PageWithCheck`], which carries the check's state before it
//!   ([`ReadSoFar`]: the read's first page, the count and running hash, the
//!   first and last keys, the push-down). A read resumed there takes it
//!   over and checks at its end from the first run's first page: a message
//!   skipped during an earlier run that stopped before its own check (an
//!   error, a crash), or by a change between the runs, is seen. The earlier
//!   run's last message, pushed onto the resumed page by messages added at
//!   the head between the runs, is dropped with those before it. Where it
//!   is not on the resumed page, the page before is asked (one request):
//!   ending it, nothing moved; on it but not last, the messages after it
//!   there were never delivered (added at the end of a short page since, or
//!   pulled back by a deletion, which the check sees), and the read goes on
//!   from that page; not on it, the listing was pushed (messages added at
//!   the head, or another page size), and the resumed page is read again
//!   and the pages after it looked through for it (bounded by the pages
//!   delivered; never found: [`PagingError::ListingChanged`]). A plain
//!   [`Position::Page`] resumes too, checking from that page on; so does
//!   a sync's next read after a complete one, whose own check passed
//!   ([`Position::forget_read`]).
//!
//! What no check can see without a total or a stable key: a change between
//! an earlier run and one resumed from a plain page number, before that
//! page.

use std::collections::HashSet;
use std::hash::Hasher;
use std::sync::Arc;

use siphasher::sip::SipHasher13;

use futures::StreamExt;

use super::engine::{self, Scheme, Step};
use super::guard::Window;
use super::{Fetch, Listing, Page, PagePosition, PagingError, PagingOptions, Position, ReadSoFar, Record};
use crate::retry::RetryPolicy;

/// An endpoint paged by page number and page size.
pub trait NumberedEndpoint: Listing {
    /// The number of the first page (Octopush counts from 1).
    const FIRST_PAGE: u64;
    /// Requests page `page` of `per_page` messages.
    fn fetch(&self, page: u64, per_page: u64) -> Fetch<Vec<Self::Item>, Self::Error>;
}

/// Every page of a numbered listing, checked. `start` is the endpoint and
/// the page size asked for, or why the query was refused.
pub fn pages<Ep: NumberedEndpoint>(
    start: Result<(Ep, u64), PagingError<Ep::Error>>,
    options: PagingOptions,
) -> impl futures::Stream<Item = Result<Page<Ep::Item>, PagingError<Ep::Error>>> + Send + Unpin + 'static {
    let start = start.and_then(|(endpoint, per_page)| {
        let (page, resumed, so_far) = match options.resume {
            None => (Ep::FIRST_PAGE, false, None),
            Some(Position::Page(n)) if n >= Ep::FIRST_PAGE => (n, n > Ep::FIRST_PAGE, None),
            // What a read gives: pages from its first up to this one (read
            // again at most as often as a read goes on), holding the
            // messages counted (a token is input too).
            Some(Position::PageWithCheck { page, check })
                if (Ep::FIRST_PAGE..=page).contains(&check.first_page)
                    && check.pages <= (page - check.first_page + 1).saturating_mul(u64::from(MAX_GOING_ON) + 1)
                    && check.pages.checked_mul(per_page).is_some_and(|most| (1..=most).contains(&check.count)) =>
            {
                (page, true, Some(check))
            }
            Some(Position::PageWithCheck { page, check }) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!(
                        "page {page}, after {} messages from page {}, is not a position this listing gave",
                        check.count, check.first_page
                    ),
                });
            }
            Some(Position::Page(n)) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("page {n} is before the first page, {}", Ep::FIRST_PAGE),
                });
            }
            Some(Position::Cursor(cursor)) => {
                return Err(PagingError::InvalidQuery {
                    name: "resume",
                    reason: format!("this listing resumes from a page number, not from cursor `{cursor}`"),
                });
            }
        };
        let mut scheme = NumberedScheme {
            endpoint: Arc::new(endpoint),
            retry: options.retry,
            asked: per_page,
            size: resumed.then_some(per_page),
            first: page,
            page,
            concurrency: options.concurrency.max(1),
            window: Window::new(),
            delivered: Keys::default(),
            first_key: None,
            last_key: 0,
            resumed_after: None,
            seeking: 0,
            head: HashSet::new(),
            pushed: 0,
            pages_with_messages: 0,
            went_on: 0,
            went_on_from: None,
            pages_of_repeats: 0,
            short_again: 0,
            short: None,
        };
        if let Some(check) = so_far {
            // An earlier run delivered the pages before this one: its
            // check's state goes on, and the check covers them too.
            scheme.first = check.first_page;
            scheme.pages_with_messages = check.pages;
            scheme.delivered = Keys { count: check.count, hash: check.hash };
            scheme.first_key = Some((check.first_key, check.first_id));
            scheme.last_key = check.last_key;
            scheme.resumed_after = Some(check.last_key);
            scheme.pushed = check.pushed;
        }
        Ok(scheme)
    });
    engine::run(start)
}

struct NumberedScheme<Ep> {
    endpoint: Arc<Ep>,
    retry: RetryPolicy,
    /// The page size asked for.
    asked: u64,
    /// The page size the server serves, once the first page has told it.
    size: Option<u64>,
    /// The run's first page (the first of the listing, or the resumed one).
    first: u64,
    /// The next page to request.
    page: u64,
    /// Requests at once when the listing is read again at the end.
    concurrency: usize,
    window: Window,
    /// The keys of the listing as delivered (every page as served, less the
    /// repeats that opened it), to compare with the listing read again.
    delivered: Keys,
    /// The first of them (its key's hash, and its id to show), to find
    /// where the delivered messages stand now, and the hashes of the run's
    /// first page delivered, to tell it deleted from pushed down (not
    /// known to a resumed run: it then looks further before it fails).
    first_key: Option<(u64, Option<String>)>,
    head: HashSet<u64>,
    /// The last key delivered (its hash), and, on the first page of a run
    /// resumed with an earlier run's check ([`Position::PageWithCheck`]),
    /// that earlier run's last: messages added at the head between the
    /// runs push it onto this page, and it and those before it were
    /// delivered.
    last_key: u64,
    resumed_after: Option<u64>,
    /// Pages skipped while looking for that one (a listing pushed down by
    /// a page or more between the runs).
    seeking: u64,
    /// The repeats dropped at the start of pages: how far messages added at
    /// the head pushed the listing down during the read.
    pushed: u64,
    pages_with_messages: u64,
    /// How often the read went on past an end (see [`MAX_GOING_ON`]), and
    /// the page it went on from: that one opens with messages delivered
    /// (the listing was not pushed down).
    went_on: u8,
    went_on_from: Option<u64>,
    /// Full pages of nothing but repeats just before this one (see
    /// [`MAX_PAGES_OF_REPEATS`]).
    pages_of_repeats: u8,
    /// How often a short page was read again (see [`MAX_SHORT_AGAIN`]).
    short_again: u8,
    /// A page shorter than the page size: the next one must be empty.
    short: Option<(u64, u64)>,
}

/// The id a message is shown by in an error: its own (or the one its JSON
/// holds), unless masked or longer than an id is (it goes into tokens).
fn shown_id(item: &impl Record) -> Option<String> {
    const LONGEST_SHOWN: usize = 200;
    (!item.id_is_masked()).then(|| item.any_id()).flatten().filter(|id| id.len() <= LONGEST_SHOWN).map(str::to_owned)
}

impl<Ep: NumberedEndpoint> NumberedScheme<Ep> {
    /// What the read delivered so far, for a position to carry; `None`
    /// before it delivered anything.
    fn so_far(&self) -> Option<ReadSoFar> {
        let (first_key, first_id) = self.first_key.clone()?;
        Some(ReadSoFar {
            first_page: self.first,
            pages: self.pages_with_messages,
            count: self.delivered.count,
            hash: self.delivered.hash,
            first_key,
            first_id,
            last_key: self.last_key,
            pushed: self.pushed,
        })
    }

    /// Page `page`, with what was delivered before it once anything was.
    fn position(&self, page: u64) -> Position {
        match self.so_far() {
            Some(check) => Position::PageWithCheck { page, check: Box::new(check) },
            None => Position::Page(page),
        }
    }

    /// Whether the first message delivered no longer opens the run's first
    /// page: messages were added at the head.
    async fn grew_at_head(&self, size: u64) -> Result<bool, PagingError<Ep::Error>> {
        let Some((first_key, _)) = &self.first_key else { return Ok(false) };
        Ok(self.keys(self.first, size).await?.first() != Some(first_key))
    }

    async fn request(&self, page: u64, per_page: u64) -> Result<Vec<Ep::Item>, PagingError<Ep::Error>> {
        let endpoint = &self.endpoint;
        engine::fetch(Ep::VENDOR, &self.retry, &Some(Position::Page(page)), || endpoint.fetch(page, per_page)).await
    }

    /// The keys of page `page` as it is now, each as its hash.
    async fn keys(&self, page: u64, size: u64) -> Result<Vec<u64>, PagingError<Ep::Error>> {
        Ok(self.request(page, size).await?.iter().map(|item| Keys::hash(item.key())).collect())
    }

    /// Reads the listing again from the run's first page: `Same` when it
    /// holds exactly the messages delivered, in their order (pushed down
    /// whole by messages added at its head, or not at all), and nothing
    /// after them; otherwise how it differs.
    ///
    /// Messages after the last one delivered are either added at the end of
    /// a listing that grows there, or ones the read never saw (a page
    /// served empty or short once, by mistake), or one pulled back past the
    /// read by a message added at the head and then deleted. The last needs
    /// a listing that grew at its head: where no page opened with a repeat
    /// and the first message delivered still opens the listing, they are
    /// `Follows` (the read goes on from their page), else `Differs`.
    ///
    /// `moved` is set where the listing was seen to be pushed down while it
    /// was read again (a page opening with a message of the page before):
    /// messages added at the head during the check.
    async fn differs(&self, size: u64, moved: &mut bool) -> Result<Again, PagingError<Ep::Error>> {
        let Some((first_hash, first_id)) = &self.first_key else { return Ok(Again::Same) };
        let first_hash = *first_hash;
        let shown = first_id.as_ref().map_or_else(|| "(a message without an id)".to_owned(), |id| format!("`{id}`"));
        let delivered = self.delivered.count;
        let mut now = Keys::default();
        let mut after = 0u64;
        // Where the first message delivered stands now: messages added at
        // the head may have pushed it down, by whole pages too, but not by
        // more pages than the run read.
        let mut page = self.first;
        // The keys of the last two pages read again: a page that opens with
        // one of them was pushed down while the check read it (messages
        // added at the head). They are not dropped, as the read dropped
        // them: a server whose pages overlap and one that loses the messages
        // the overlap stands for look the same, and only the second is
        // possible with a listing that holds still.
        let (mut older, mut newer): (HashSet<u64>, HashSet<u64>) = (HashSet::new(), HashSet::new());
        let mut opens = |keys: &[u64]| {
            if keys.first().is_some_and(|key| newer.contains(key) || older.contains(key)) {
                *moved = true;
            }
            older = std::mem::replace(&mut newer, keys.iter().copied().collect());
        };
        let (mut last_len, pushed_down) = loop {
            let keys = self.keys(page, size).await?;
            opens(&keys);
            let len = keys.len() as u64;
            if len > size {
                return Ok(Again::Differs(format!("page {page} read again holds {len} messages, more than {size}")));
            }
            if let Some(at) = keys.iter().position(|&key| key == first_hash) {
                after += now.take(&keys[at..], delivered);
                break (len, (page - self.first) * size + at as u64);
            }
            // Messages added at the head come before it: a page with any
            // other of the first page delivered, but not it, has lost it.
            let lost = keys.iter().any(|key| self.head.contains(key));
            if lost || len < size || page - self.first >= self.pages_with_messages {
                return Ok(Again::Differs(format!("the first message delivered, {shown}, is no longer where it was")));
            }
            page += 1;
        };
        // The rest of what was delivered and the page that shows what
        // follows it: known from the count, so read at once.
        let remaining = delivered - now.count;
        let more = if last_len < size { 0 } else { remaining / size + 1 };
        let pages = (page + 1..=page.saturating_add(more)).map(|n| async move { (n, self.keys(n, size).await) });
        let mut pages = futures::stream::iter(pages).buffered(self.concurrency);
        while let Some((n, keys)) = pages.next().await {
            let keys = keys?;
            opens(&keys);
            last_len = keys.len() as u64;
            if last_len > size {
                return Ok(Again::Differs(format!("page {n} read again holds {last_len} messages, more than {size}")));
            }
            after += now.take(&keys, delivered);
            if last_len < size {
                break; // the end of the listing: fewer than delivered, if any
            }
        }
        if now != self.delivered {
            return Ok(Again::Differs(self.delivered.against(&now)));
        }
        // Full to the last page read: more follows, unread.
        if after > 0 || last_len == size {
            if self.pushed == 0 && pushed_down == 0 {
                return Ok(Again::Follows(self.first + delivered / size));
            }
            return Ok(Again::Differs(
                "messages follow the last one delivered, in a listing that grew at its head: one was pulled back \
                 past the read (a message added at the head, then deleted)"
                    .to_owned(),
            ));
        }
        Ok(Again::Same)
    }

    /// The end, confirmed by a page with nothing new: the listing read
    /// again (once more if it differs) must be the one delivered. `None`:
    /// messages follow the last one delivered, and the read goes on.
    async fn end(&mut self) -> Option<Step<Ep::Item, Ep::Error>> {
        let size = self.size.unwrap_or(self.asked);
        let first = self.first;
        let fail = |reason: String| {
            let reason = format!("the listing read again from page {first} at the end differs: {reason}");
            Some(Step::Fail(PagingError::ListingChanged { page: PagePosition(Some(Position::Page(first))), reason }))
        };
        for attempt in 1..=2 {
            let mut moved = false;
            match self.differs(size, &mut moved).await {
                Ok(Again::Same) => return Some(Step::End),
                Ok(Again::Follows(_)) if self.went_on >= MAX_GOING_ON => {
                    return fail(format!(
                        "messages still follow the last one delivered after the read went on {MAX_GOING_ON} times"
                    ));
                }
                Ok(Again::Follows(page)) => {
                    tracing::debug!(page, "messages follow the last one delivered: the read goes on from there");
                    self.went_on += 1;
                    self.went_on_from = Some(page);
                    self.page = page;
                    self.short = None;
                    return None;
                }
                // Read again in order, and never seen pushed down: the
                // difference is the listing's, not the check's timing.
                Ok(Again::Differs(reason)) if attempt == 2 || (!moved && self.concurrency == 1) => return fail(reason),
                Ok(Again::Differs(reason)) => {
                    tracing::debug!(%reason, "the listing read again differs: reading it once more");
                }
                Err(error) => return Some(Step::Fail(error)),
            }
        }
        Some(Step::End)
    }
}

/// How often a read goes on past its end because the listing read again
/// holds messages after the last one delivered.
const MAX_GOING_ON: u8 = 2;

/// How often a read reads a short page again because messages follow it
/// (see [`PagingError::ShortPage`]).
const MAX_SHORT_AGAIN: u8 = 2;

/// How many full pages of nothing but repeats in a row are taken for the
/// listing pushed down (messages added at its head, as the run's first
/// page shows) before the read ends with [`PagingError::RepeatedPage`].
const MAX_PAGES_OF_REPEATS: u8 = 2;

/// What the listing read again at the end shows.
enum Again {
    /// The messages delivered, in order, and nothing after them.
    Same,
    /// The messages delivered, in order, then more, from this page on.
    Follows(u64),
    /// Not the messages delivered: why.
    Differs(String),
}

/// A sequence of keys, as a count and a running hash: what is compared of
/// the listing delivered and the listing read again, in flat memory, and
/// what a resumed run takes over ([`ReadSoFar`]). Two different sequences
/// of one length compare equal only on a 64-bit hash collision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Keys {
    count: u64,
    hash: u64,
}

impl Keys {
    /// A key's own hash: SipHash-1-3 with fixed keys, over bytes written
    /// the same way on every platform, so the same in every build and run
    /// (it goes into resume tokens).
    fn hash(key: Option<&str>) -> u64 {
        let mut hasher = SipHasher13::new();
        match key {
            None => hasher.write_u8(0),
            Some(key) => {
                hasher.write_u8(1);
                hasher.write(key.as_bytes());
            }
        }
        hasher.finish()
    }

    /// Pushes `keys` (their hashes) while fewer than `up_to` are held: how
    /// many were left.
    fn take(&mut self, keys: &[u64], up_to: u64) -> u64 {
        let room = usize::try_from(up_to.saturating_sub(self.count)).unwrap_or(usize::MAX).min(keys.len());
        keys[..room].iter().for_each(|&key| self.push_hash(key));
        (keys.len() - room) as u64
    }

    /// Chains one key's hash on: the running hash so far and the count key
    /// a SipHash of it, so the order counts.
    fn push_hash(&mut self, key: u64) {
        let mut hasher = SipHasher13::new_with_keys(self.hash, self.count);
        hasher.write_u64(key);
        self.hash = hasher.finish();
        self.count = self.count.saturating_add(1);
    }

    /// How `now` differs from these keys, delivered.
    fn against(&self, now: &Keys) -> String {
        let (delivered, found) = (self.count, now.count);
        if found < delivered {
            format!(
                "it holds {found} messages from the first delivered on, not the {delivered} delivered (one deleted)"
            )
        } else {
            format!("its {delivered} messages from the first delivered on are not the ones delivered, in their order")
        }
    }
}

impl<Ep: NumberedEndpoint> Scheme for NumberedScheme<Ep> {
    type Item = Ep::Item;
    type Error = Ep::Error;

    async fn step(&mut self) -> Step<Ep::Item, Ep::Error> {
        loop {
            let n = self.page;
            let position = Some(Position::Page(n));
            let page = PagePosition(position.clone());
            let items = match self.request(n, self.size.unwrap_or(self.asked)).await {
                Ok(items) => items,
                Err(error) => return Step::Fail(error),
            };
            let len = items.len() as u64;
            if len == 0 {
                if self.pages_with_messages == 0 {
                    // Nothing at all: the stream still has its one (empty) page.
                    return Step::Last(Page { items: Vec::new(), position, next: None });
                }
                match self.end().await {
                    Some(step) => return step,
                    None => continue,
                }
            }
            if let Some((short, short_len)) = self.short.take() {
                // Messages after a short page: added at the end since it was
                // read, or the page was served short by mistake. Read it
                // again and go on from there (its messages delivered are
                // dropped as repeats, not taken for a push-down), at most
                // MAX_SHORT_AGAIN times a read; a page short every time
                // ends the read.
                if self.short_again < MAX_SHORT_AGAIN {
                    tracing::debug!(page = short, "messages after a short page: reading it again");
                    self.short_again += 1;
                    self.went_on_from = Some(short);
                    self.page = short;
                    continue;
                }
                let limit = self.size.unwrap_or(self.asked);
                return Step::Fail(PagingError::ShortPage {
                    page: PagePosition(Some(Position::Page(short))),
                    len: short_len,
                    limit,
                });
            }
            match self.size {
                // The first page tells the server's page size: fewer than
                // asked is a cap (or the only page; the next request tells
                // which), more is a server that ignores `per_page`.
                None => self.size = Some(len),
                Some(size) if len > size => return Step::Fail(PagingError::PageSizeChanged { page, len, limit: size }),
                Some(size) if len < size => self.short = Some((n, len)),
                Some(_) => {}
            }
            let size = self.size.unwrap_or(len);
            let next = n.saturating_add(1);
            let mut items = items;
            if let Some(last) = self.resumed_after {
                let found = items.iter().position(|item| Keys::hash(item.key()) == last);
                match found {
                    // The earlier run's last message, pushed onto this page
                    // by messages added at the head between the runs: it and
                    // those before it were delivered.
                    Some(at) => {
                        self.resumed_after = None;
                        items.drain(..=at);
                        if self.went_on_from != Some(n) {
                            self.pushed += at as u64 + 1;
                        }
                        if items.is_empty() {
                            self.page = next;
                            continue;
                        }
                    }
                    // Not here: where nothing moved, it ends the page before
                    // (one request tells). Where that page no longer holds
                    // it, messages added at the head, or pages of another
                    // size, pushed it further on: this page and the next are
                    // read for it, and the pages up to it were delivered
                    // (the check sees any that were not).
                    None if self.seeking == 0 => {
                        let before = if n > self.first { self.keys(n - 1, size).await } else { Ok(Vec::new()) };
                        match before {
                            Ok(before) if before.last() == Some(&last) => self.resumed_after = None,
                            // Messages after it there were never delivered:
                            // added at the end of a short page since, or
                            // pulled back by deletions before it (which the
                            // check sees). The read goes on from that page.
                            Ok(before) if before.contains(&last) => {
                                self.short = None;
                                self.page = n - 1;
                                continue;
                            }
                            // (This page again first: messages added at the
                            // head since it was read may have pushed it there.)
                            Ok(_) => {
                                self.short = None;
                                self.seeking = 1;
                                continue;
                            }
                            Err(error) => return Step::Fail(error),
                        }
                    }
                    None if len == size && self.seeking <= self.pages_with_messages => {
                        self.seeking += 1;
                        self.pushed += len;
                        self.page = next;
                        continue;
                    }
                    None => {
                        return Step::Fail(PagingError::ListingChanged {
                            page: page.clone(),
                            reason: format!(
                                "the last message an earlier run delivered is not on the {} pages from page {} on \
                                 (nor where it was)",
                                self.seeking + 1,
                                n - self.seeking
                            ),
                        });
                    }
                }
            }
            // The page's keys as served (a record it holds twice included),
            // to compare with the listing read again at the end.
            let served: Vec<u64> = items.iter().map(|item| Keys::hash(item.key())).collect();
            let fresh = match self.window.split::<Ep>(&page, items) {
                Ok(fresh) => fresh,
                // A short page of nothing but repeats: the end of the
                // listing, pushed down by messages added at its head, if the
                // next page confirms it (it must be empty, as after any short
                // page).
                Err(PagingError::RepeatedPage { .. }) if len < size => {
                    if self.went_on_from.take() != Some(n) {
                        self.pushed += len;
                    }
                    self.page = next;
                    continue;
                }
                // A full page of nothing but repeats: the listing pushed down
                // by a page or more (as one message added at the head does to
                // a page size of 1), or a page served again (an API that
                // ignores `page`, a stale answer). Only a listing that grew
                // at its head is pushed down: the run's first page tells
                // (one request). Then up to MAX_PAGES_OF_REPEATS in a row
                // are skipped (the check at the end sees any message they
                // would hide); else the read ends here.
                Err(error @ PagingError::RepeatedPage { .. })
                    if self.window.repeats() as u64 == len && self.pages_of_repeats < MAX_PAGES_OF_REPEATS =>
                {
                    match self.grew_at_head(size).await {
                        Ok(true) => {}
                        Ok(false) => return Step::Fail(error),
                        Err(error) => return Step::Fail(error),
                    }
                    self.pages_of_repeats += 1;
                    if self.went_on_from.take() != Some(n) {
                        self.pushed += len;
                    }
                    self.page = next;
                    continue;
                }
                Err(error) => return Step::Fail(error),
            };
            self.pages_of_repeats = 0;
            let before = self.position(n);
            if self.first_key.is_none() {
                let first = served.get(self.window.repeats()).copied().unwrap_or_default();
                self.first_key = Some((first, fresh.first().and_then(shown_id)));
                self.head = served.iter().skip(self.window.repeats()).copied().collect();
            }
            if self.went_on_from.take() != Some(n) {
                self.pushed += self.window.repeats() as u64;
            }
            served.into_iter().skip(self.window.repeats()).for_each(|key| {
                self.delivered.push_hash(key);
                self.last_key = key;
            });
            self.window.remember::<Ep>(&fresh);
            self.pages_with_messages += 1;
            self.page = next;
            return Step::Page(Page { items: fresh, position: Some(before), next: Some(self.position(next)) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_hash_is_the_same_in_every_build_and_counts_the_order() {
        // Resume tokens and sync state keep it: a change of the hash would
        // fail every read resumed across an upgrade. Pinned, not computed.
        let keys = |sequence: &[Option<&str>]| {
            let mut keys = Keys::default();
            sequence.iter().for_each(|key| keys.push_hash(Keys::hash(*key)));
            keys
        };
        let ab = keys(&[Some("a"), Some("b")]);
        assert_eq!((ab.count, ab.hash), (2, 0x_b214_1b58_883a_8692));
        assert_ne!(keys(&[Some("b"), Some("a")]), ab, "the order counts");
        assert_ne!(keys(&[Some("a"), None]), keys(&[Some("a")]), "a message without a key counts");
        assert_ne!(Keys::hash(None), Keys::hash(Some("")));
    }
}
