//! A whole conversation from any vendor, as one stream of normalized pages.
//!
//! This module drives the vendor crates' own paging streams (which do the
//! HTTP, retries and safety checks) and maps every message as it arrives.

use chrono::DurationRound as _;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use futures::{StreamExt, future};

use convo_runtime::PagingError;
pub use convo_runtime::paging::ErrorKind;
pub use convo_runtime::{
    BudgetStats, ClientOptions, ConfigError, OnRetry, PagingOptions, Position, RateBudget, ReadSoFar, RetryNotice,
    RetryPolicy,
};

use crate::{Message, Vendor};

/// A conversation to read: a vendor's client and the vendor's own query.
pub enum Source {
    /// An Infobip conversation: the client and the query.
    Infobip(convo_infobip::Client, convo_infobip::MessagesQuery),
    /// An Octopush conversation: the client and the query.
    Octopush(convo_octopush::Client, convo_octopush::MessagesQuery),
    /// A LeadConnector conversation: the client and the query.
    Leadconnector(convo_leadconnector::Client, convo_leadconnector::MessagesQuery),
    /// A Bird conversation: the client and the query.
    Bird(convo_bird::Client, convo_bird::MessagesQuery),
}

impl Source {
    /// The vendor this source reads from.
    pub fn vendor(&self) -> Vendor {
        match self {
            Source::Infobip(..) => Vendor::Infobip,
            Source::Octopush(..) => Vendor::Octopush,
            Source::Leadconnector(..) => Vendor::Leadconnector,
            Source::Bird(..) => Vendor::Bird,
        }
    }

    /// The conversation `selector` names, read with the vendor's client
    /// from the environment (each vendor crate's `Client::from_env`: the
    /// variables of [`Vendor::variables`]).
    pub fn from_env(vendor: Vendor, selector: &Selector) -> Result<Self, SourceError> {
        Self::from_vars(vendor, selector, convo_runtime::env_var, &ClientOptions::default())
    }

    /// As [`Source::from_env`], reading the variables through `vars` and
    /// with explicit HTTP options.
    pub fn from_vars(
        vendor: Vendor,
        selector: &Selector,
        vars: impl Fn(&str) -> Option<String>,
        options: &ClientOptions,
    ) -> Result<Self, SourceError> {
        // The selector first: a bad one is named before any variable is.
        check(vendor, selector)?;
        let client = match vendor {
            Vendor::Infobip => AnyClient::Infobip(convo_infobip::Client::from_vars(vars, options)?),
            Vendor::Octopush => AnyClient::Octopush(convo_octopush::Client::from_vars(vars, options)?),
            Vendor::Leadconnector => AnyClient::Leadconnector(convo_leadconnector::Client::from_vars(vars, options)?),
            Vendor::Bird => AnyClient::Bird(convo_bird::Client::from_vars(vars, options)?),
        };
        assemble(client, selector)
    }

    /// Another conversation of the same vendor, read with this source's
    /// client: its connections, options and rate budget are shared (a
    /// client is a cheap clone). This is how many conversations are read
    /// under one credential.
    pub fn other(&self, selector: &Selector) -> Result<Self, SourceError> {
        let client = match self {
            Source::Infobip(client, _) => AnyClient::Infobip(client.clone()),
            Source::Octopush(client, _) => AnyClient::Octopush(client.clone()),
            Source::Leadconnector(client, _) => AnyClient::Leadconnector(client.clone()),
            Source::Bird(client, _) => AnyClient::Bird(client.clone()),
        };
        assemble(client, selector)
    }
}

/// A vendor's client, before its query is known.
enum AnyClient {
    Infobip(convo_infobip::Client),
    Octopush(convo_octopush::Client),
    Leadconnector(convo_leadconnector::Client),
    Bird(convo_bird::Client),
}

/// What the vendor needs is checked when its query is made; this refuses what the vendor has no use for (it would be
/// ignored).
fn check(vendor: Vendor, selector: &Selector) -> Result<(), SourceError> {
    let unused = |selector: Unused, set: bool| match set {
        true => Err(SourceError::Unused { vendor, selector }),
        false => Ok(()),
    };
    let searches = selector.phone.is_some() || selector.email.is_some() || selector.facebook_id.is_some();
    if vendor != Vendor::Octopush {
        unused(Unused::Search, searches)?;
    }
    if vendor != Vendor::Bird {
        unused(Unused::Workspace, selector.workspace.is_some())?;
        unused(Unused::Reverse, selector.reverse)?;
    }
    Ok(())
}

/// The source of `client` reading the conversation `selector` names.
fn assemble(client: AnyClient, selector: &Selector) -> Result<Source, SourceError> {
    let vendor = match &client {
        AnyClient::Infobip(_) => Vendor::Infobip,
        AnyClient::Octopush(_) => Vendor::Octopush,
        AnyClient::Leadconnector(_) => Vendor::Leadconnector,
        AnyClient::Bird(_) => Vendor::Bird,
    };
    check(vendor, selector)?;
    let conversation =
        || selector.conversation.clone().ok_or(SourceError::Missing { vendor, needed: Needed::Conversation });
    Ok(match client {
        AnyClient::Infobip(client) => Source::Infobip(client, convo_infobip::MessagesQuery::new(conversation()?)),
        AnyClient::Octopush(client) => Source::Octopush(client, octopush_query(selector)?),
        AnyClient::Leadconnector(client) => {
            Source::Leadconnector(client, convo_leadconnector::MessagesQuery::new(conversation()?))
        }
        AnyClient::Bird(client) => {
            let workspace =
                selector.workspace.clone().ok_or(SourceError::Missing { vendor, needed: Needed::Workspace })?;
            let mut query = convo_bird::MessagesQuery::new(workspace, conversation()?);
            query.reverse = selector.reverse.then_some(true);
            Source::Bird(client, query)
        }
    })
}

/// Which conversation to read, in terms every vendor's query is made of.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// The conversation's id (every vendor; Octopush's `cid_<UUID>`).
    pub conversation: Option<String>,
    /// Bird: the workspace the conversation belongs to.
    pub workspace: Option<String>,
    /// Octopush: the conversation of this phone number, instead of an id.
    pub phone: Option<String>,
    /// Octopush: the conversation of this e-mail address, instead of an id.
    pub email: Option<String>,
    /// Octopush: the conversation of this Facebook id (`fid_<ID>`), instead of an id.
    pub facebook_id: Option<String>,
    /// Bird: the reverse of Bird's default order (`reverse=true`).
    pub reverse: bool,
}

/// A [`Source`] could not be made: a variable or selector is missing or
/// invalid. Never holds a credential's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The client could not be set up (a missing variable, a bad base URL
    /// or credential).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The selector lacks what the vendor needs.
    #[error("{vendor} needs {needed}")]
    Missing {
        /// The vendor the source was for.
        vendor: Vendor,
        /// What the selector lacks.
        needed: Needed,
    },
    /// The selector holds what the vendor has no use for; it would be
    /// ignored, so it is refused.
    #[error("{vendor} has no {selector}")]
    Unused {
        /// The vendor the source was for.
        vendor: Vendor,
        /// The selector the vendor has no use for.
        selector: Unused,
    },
    /// Octopush: a conversation id and a search together. The API combines
    /// them as "all of": an id with a search it does not match gives
    /// nothing, silently.
    #[error(
        "octopush: a conversation id selects one conversation, a phone number, e-mail address or Facebook id searches for one: give one or the other"
    )]
    IdAndSearch,
    /// A selector's value is not what the vendor documents.
    #[error("{vendor}: {reason}")]
    Invalid {
        /// The vendor the source was for.
        vendor: Vendor,
        /// What is wrong with the value, as the vendor crate words it.
        reason: String,
    },
}

/// What a [`Selector`] lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Needed {
    /// A conversation id.
    Conversation,
    /// Bird: a workspace id.
    Workspace,
    /// Octopush: a conversation id or a search (phone, e-mail, Facebook id).
    ConversationOrSearch,
}

impl std::fmt::Display for Needed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Needed::Conversation => "a conversation id",
            Needed::Workspace => "a workspace id",
            Needed::ConversationOrSearch => {
                "a conversation id (cid_…), a phone number, an e-mail address or a Facebook id (fid_…)"
            }
        })
    }
}

/// A selector that a vendor has no use for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unused {
    /// Octopush's search by phone, e-mail or Facebook id.
    Search,
    /// Bird's workspace.
    Workspace,
    /// Bird's reverse order.
    Reverse,
}

impl std::fmt::Display for Unused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unused::Search => "search by phone, e-mail or Facebook id (only Octopush has)",
            Unused::Workspace => "workspace (only Bird has)",
            Unused::Reverse => "reverse order (only Bird has)",
        })
    }
}

fn octopush_query(selector: &Selector) -> Result<convo_octopush::MessagesQuery, SourceError> {
    let vendor = Vendor::Octopush;
    let bad = |e: convo_octopush::InvalidParameter| SourceError::Invalid { vendor, reason: e.to_string() };
    let query = convo_octopush::MessagesQuery {
        conversation_id: selector
            .conversation
            .clone()
            .map(convo_octopush::ConversationId::new)
            .transpose()
            .map_err(bad)?,
        phone_number: selector.phone.clone(),
        email: selector.email.clone(),
        facebook_id: selector.facebook_id.clone().map(convo_octopush::FacebookId::new).transpose().map_err(bad)?,
        ..Default::default()
    };
    let searches = query.phone_number.is_some() || query.email.is_some() || query.facebook_id.is_some();
    if query.conversation_id.is_some() && searches {
        // The API combines selectors as "all of": a conversation id with a
        // search selector that it does not match gives nothing, silently.
        return Err(SourceError::IdAndSearch);
    }
    if query.conversation_id.is_none() && !searches {
        return Err(SourceError::Missing { vendor, needed: Needed::ConversationOrSearch });
    }
    Ok(query)
}

/// How to read a conversation.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Page size, concurrency, retries and where to resume.
    pub paging: PagingOptions,
    /// Only messages created at or after this time. Uses the vendor's
    /// server-side filter where it has one (Infobip `createdAfter`, Bird
    /// `dateFrom`), filters on the client otherwise, and stops early where
    /// the vendor's order allows it (LeadConnector lists newest first).
    pub since: Option<DateTime<Utc>>,
}

/// One page of a conversation, normalized.
#[derive(Debug, Clone)]
pub struct NormalizedPage {
    /// The page's messages, normalized, in the vendor's order; with
    /// [`FetchOptions::since`], only those the filter keeps.
    pub messages: Vec<Message>,
    /// Where this page started (`None`: the first page of a cursor vendor).
    pub position: Option<Position>,
    /// Where the next page starts; keep it to resume. `None` on the last page.
    pub next: Option<Position>,
}

/// Why reading a conversation stopped early. The messages of the pages
/// before it have been delivered.
///
/// `Display` is one line naming the vendor, then the vendor crate's own
/// line (the page, the status, the vendor's words, the tries).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Infobip's paging stream ended early.
    #[error("infobip: {}", summary(Vendor::Infobip, .0))]
    Infobip(convo_infobip::Error),
    /// Octopush's paging stream ended early.
    #[error("octopush: {}", summary(Vendor::Octopush, .0))]
    Octopush(convo_octopush::Error),
    /// LeadConnector's paging stream ended early.
    #[error("leadconnector: {}", summary(Vendor::Leadconnector, .0))]
    Leadconnector(convo_leadconnector::Error),
    /// Bird's paging stream ended early.
    #[error("bird: {}", summary(Vendor::Bird, .0))]
    Bird(convo_bird::Error),
    /// `since` asked of a vendor whose messages carry no time.
    #[error("{vendor}: its messages carry no time, so `since` cannot filter them")]
    SinceUnsupported {
        /// The vendor whose messages carry no time.
        vendor: Vendor,
    },
}

impl FetchError {
    /// The vendor the error came from.
    pub fn vendor(&self) -> Vendor {
        match self {
            FetchError::Infobip(_) => Vendor::Infobip,
            FetchError::Octopush(_) => Vendor::Octopush,
            FetchError::Leadconnector(_) => Vendor::Leadconnector,
            FetchError::Bird(_) => Vendor::Bird,
            FetchError::SinceUnsupported { vendor } => *vendor,
        }
    }

    /// What kind of failure this is (the vendor crate's own [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Infobip(e) => e.kind(),
            FetchError::Octopush(e) => e.kind(),
            FetchError::Leadconnector(e) => e.kind(),
            FetchError::Bird(e) => e.kind(),
            FetchError::SinceUnsupported { .. } => ErrorKind::InvalidQuery,
        }
    }
}

/// The vendor crate's line; for a page that is not the vendor's documented
/// shape, decoded once more with path tracking so that the line names the
/// JSON path that failed.
fn summary<E: convo_runtime::paging::VendorError>(vendor: Vendor, error: &PagingError<E>) -> String {
    if let (Some(page), Some(progenitor_client::Error::InvalidResponsePayload(body, _))) =
        (error.page(), error.request_error())
        && let Err(e) = crate::normalize_page(vendor, body)
    {
        return format!(
            "{page}: the response is not {vendor}'s documented shape: {} at `{}` (body starts with {})",
            e.reason, e.path, e.snippet
        );
    }
    error.to_string()
}

/// Every page of the conversation, normalized, in the vendor's order.
pub fn pages(source: Source, options: FetchOptions) -> BoxStream<'static, Result<NormalizedPage, FetchError>> {
    let since = options.since;
    let paging = options.paging;
    // LeadConnector lists newest first: the first message older than
    // `since` means every later one is older too.
    let newest_first = matches!(source, Source::Leadconnector(..));
    fn normalized<T, E>(
        page: Result<convo_runtime::Page<T>, E>,
        map: fn(T) -> Message,
        wrap: fn(E) -> FetchError,
    ) -> Result<NormalizedPage, FetchError> {
        let page = page.map_err(wrap)?;
        Ok(NormalizedPage {
            messages: page.items.into_iter().map(map).collect(),
            position: page.position,
            next: page.next,
        })
    }
    let stream: BoxStream<'static, Result<NormalizedPage, FetchError>> = match source {
        Source::Infobip(client, mut query) => {
            if let Some(since) = since
                && query.created_after.is_none()
            {
                // `createdAfter` is exclusive and counts milliseconds:
                // one millisecond earlier keeps a message created at
                // `since` itself; the client-side filter below drops
                // anything before it.
                // (From the earliest time there is: no filter is needed.)
                query.created_after = since.checked_sub_signed(chrono::Duration::milliseconds(1)).map(Into::into);
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_infobip, FetchError::Infobip)).boxed()
        }
        Source::Octopush(client, query) => {
            if since.is_some() {
                return futures::stream::once(future::ready(Err(FetchError::SinceUnsupported {
                    vendor: Vendor::Octopush,
                })))
                .boxed();
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_octopush, FetchError::Octopush)).boxed()
        }
        Source::Leadconnector(client, query) => client
            .pages(query, paging)
            .map(|p| normalized(p, crate::from_leadconnector, FetchError::Leadconnector))
            .boxed(),
        Source::Bird(client, mut query) => {
            if let Some(since) = since
                && query.date_from.is_none()
            {
                // Bird documents `dateFrom` as "created date after this
                // date", and neither whether it includes its bound nor its
                // precision: asked from the whole second before, a server
                // that rounds or excludes its bound still sends every
                // message at or after `since`; the filter below drops the
                // few before it.
                let second = since.duration_trunc(chrono::TimeDelta::seconds(1)).unwrap_or(since);
                query.date_from = second.checked_sub_signed(chrono::TimeDelta::seconds(1)).map(Into::into);
            }
            client.pages(query, paging).map(|p| normalized(p, crate::from_bird, FetchError::Bird)).boxed()
        }
    };
    match since {
        None => stream,
        Some(since) => since_filter(stream, since, newest_first),
    }
}

/// Keeps messages created at or after `since` (messages without a time are
/// kept). When the vendor lists newest first, the older messages end the
/// stream: every later page is older still, so it is never fetched.
///
/// That early end trusts the order, so it is taken only where the order
/// was seen to hold: every time read so far no newer than the one before
/// it, the page ending on at least two older messages in a row (one
/// back-dated message among newer ones is not the start of the older ones:
/// a page that ends on it is followed, and a newer time after it shows the
/// order broken), and
/// either a message at or after `since` seen before them or at least two
/// times seen. A listing found in another order (a server that lists
/// oldest first, or no order at all) is read to its end and filtered: more
/// requests, never a message missed.
fn since_filter(
    stream: BoxStream<'static, Result<NormalizedPage, FetchError>>,
    since: DateTime<Utc>,
    newest_first: bool,
) -> BoxStream<'static, Result<NormalizedPage, FetchError>> {
    // Checked before the next page is asked for, so that no request is made
    // once the older messages begin.
    let order = Order::default();
    futures::stream::unfold((stream, false, order), move |(mut stream, finished, mut order)| async move {
        if finished {
            return None;
        }
        let page = stream.next().await?;
        let mut finished = page.is_err();
        let page = page.map(|mut page| {
            if newest_first && order.older_reached(&page.messages, since) {
                finished = true;
                page.next = None;
            }
            page.messages.retain(|m| m.created_at.is_none_or(|t| t >= since));
            page
        });
        Some((page, (stream, finished, order)))
    })
    // Ended stays ended, as the streams without `since` do (an unfold
    // polled past its end panics).
    .fuse()
    .boxed()
}

/// What a newest-first read has shown of its order so far.
#[derive(Debug, Default)]
struct Order {
    /// The last time read.
    previous: Option<DateTime<Utc>>,
    /// Times read.
    times: usize,
    /// A message at or after `since` was read.
    recent: bool,
    /// A time newer than the one before it was read: not newest first.
    broken: bool,
    /// Times older than `since` in a row, the last ones read.
    older_run: usize,
}

impl Order {
    /// Reads one page's times; whether the read has reached the messages
    /// older than `since` in a listing seen to be newest first.
    fn older_reached(&mut self, messages: &[Message], since: DateTime<Utc>) -> bool {
        for time in messages.iter().filter_map(|m| m.created_at) {
            self.broken |= self.previous.is_some_and(|previous| time > previous);
            self.previous = Some(time);
            self.times += 1;
            if time >= since {
                self.recent = true;
                self.older_run = 0;
            } else {
                self.older_run += 1;
            }
        }
        self.older_run >= 2 && !self.broken && (self.recent || self.times >= 2)
    }
}

/// Every message of the conversation, normalized, in the vendor's order.
pub fn messages(source: Source, options: FetchOptions) -> BoxStream<'static, Result<Message, FetchError>> {
    pages(source, options)
        .flat_map(|page| match page {
            Ok(page) => futures::stream::iter(page.messages.into_iter().map(Ok).collect::<Vec<_>>()).boxed(),
            Err(e) => futures::stream::once(future::ready(Err(e))).boxed(),
        })
        .boxed()
}
