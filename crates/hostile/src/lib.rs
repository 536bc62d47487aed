//! A hostile local fake of each vendor's "list messages of a conversation"
//! endpoint, and the one check every test of the paging promise uses.
//!
//! The promise under test: a conversation is read **every message exactly
//! once, in the vendor's order, or the stream ends with a typed error; never
//! a wrong set with success.**
//!
//! [`HostileServer::start`] serves one vendor on 127.0.0.1: a generated
//! conversation of [`Options::messages`] messages (ids unique, timestamps
//! increasing, or many sharing one millisecond with
//! [`Options::same_millisecond`]), paged the way the vendor pages it, with
//! one [`Behaviour`] injected the way a live vendor would do it (the listing
//! changing during the read, a capped page size, a short page, an
//! understated total, cursors and tokens that point back, transient
//! statuses, dropped connections, a rate limit that asks for an hour, error
//! bodies that echo the credential, a gzip bomb). Every request is recorded
//! ([`HostileServer::requests`]): raw path, query and headers.
//!
//! [`HostileServer::expectation`] says which outcomes keep the promise for
//! the read that was made; [`read_all`] drains a client's stream with a time
//! limit; [`assert_promise`] fails a test on a wrong set delivered with
//! success, on a repeated id, on a hang, or on items after an error.
//!
//! Every server is bounded: after [`Options::budget`] requests it answers
//! only errors, so a client that loops ends instead of spinning.
//!
//! Like the sandbox, this crate is the server side only: it knows nothing of
//! the vendor client crates, so it cannot agree with their mistakes.

mod check;
mod gzip;
mod server;
mod store;
mod vendors;

use std::fmt;

pub use check::{ErrorText, Expectation, Outcome, assert_promise, one_segment, read_all};
pub use server::{HostileServer, Recorded};

/// The credential the echo behaviours are tested with: it must never show
/// in an error's `Display` or `Debug`, nor in the CLI's output.
pub const CANARY: &str = "SECRET-CANARY-123";

/// The vendor a server stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vendor {
    /// `GET /ccaas/1/conversations/{id}/messages`: numbered pages from 0,
    /// `totalItems` on every page.
    Infobip,
    /// `GET /v1/public/conversations/messages/list`: numbered pages from 1,
    /// a bare array; the last page is the short one.
    Octopush,
    /// `GET /conversations/{id}/messages`: `lastMessageId` cursor, newest
    /// first, `nextPage`.
    Leadconnector,
    /// `GET /workspaces/{ws}/conversations/{id}/messages`: opaque
    /// `pageToken`, newest first.
    Bird,
}

impl Vendor {
    pub const ALL: [Vendor; 4] = [Vendor::Infobip, Vendor::Octopush, Vendor::Leadconnector, Vendor::Bird];

    /// The vendor's name as the `convo` CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Infobip => "infobip",
            Vendor::Octopush => "octopush",
            Vendor::Leadconnector => "leadconnector",
            Vendor::Bird => "bird",
        }
    }

    /// The conversation a server of this vendor serves unless told otherwise.
    pub fn default_conversation(self) -> &'static str {
        match self {
            Vendor::Infobip => "0f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1",
            Vendor::Octopush => "cid_6c0e7f1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
            Vendor::Leadconnector => "hstConversation00001",
            Vendor::Bird => "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Bird workspace a server serves unless told otherwise.
pub const DEFAULT_BIRD_WORKSPACE: &str = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e";

/// Where in the listing a change happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum End {
    /// Position 0 of the listing as served for the query being read: for the
    /// newest-first vendors the newest message; for Infobip's `id:asc` a
    /// message whose id sorts first (ids are not chronological); for
    /// Octopush the first one served.
    Head,
    /// The newest end: a message that just arrived (newest timestamp,
    /// highest id), or the newest one deleted. For the newest-first vendors
    /// this is the head; for the oldest-first listings it is the tail.
    Newest,
}

/// How Bird's opaque `pageToken` locates the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BirdTokens {
    /// The key (nanosecond timestamp and id) of the last message served, as
    /// Bird's own tokens do: a change before it does not move the next page.
    #[default]
    Keyset,
    /// An offset into the listing: a change before it shifts the next page.
    Offset,
}

/// One misbehaviour, injected the way a live vendor would do it.
///
/// "Page `n`" counts from 1 in every vendor: for Infobip it is `page=n-1`
/// (and, for a client that pages on `createdAfter` with `page=0`, the `n`-th
/// distinct query), for Octopush `page=n`, for the cursor vendors the `n`-th
/// page served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// The vendor as documented.
    Honest,
    /// Right after page 1 was served, one message is added at `at`.
    Insert { at: End },
    /// Right after page 1 was served, the message at `at` is deleted.
    Delete { at: End },
    /// Right after page 1 was served, the message at `delete` is deleted and
    /// one is added at `insert`: the count (Infobip's `totalItems`, Bird's
    /// `total`) stays the same.
    DeleteAndInsert { delete: End, insert: End },
    /// The vendor serves at most `max` messages a page, whatever is asked,
    /// and pages on with the size it applied. Infobip then omits
    /// `pagination`; Octopush's pages are numbered by the capped size;
    /// LeadConnector keeps saying `nextPage: true`; Bird keeps giving tokens.
    CapPageSize { max: usize },
    /// Page `page` holds `missing` messages fewer than asked; the next page
    /// starts where the full page would have ended, so those messages are
    /// never served (Octopush: 49 where 50 were asked, the rest follows).
    ShortPage { page: usize, missing: usize },
    /// The count the vendor reports (Infobip `totalItems`, Bird `total`) is
    /// `by` fewer than it has.
    UnderstateTotal { by: usize },
    /// LeadConnector, on page 2: `lastMessageId` is the id of that page's
    /// 2nd message, so the next page starts inside the page just served.
    CursorIntoSamePage,
    /// LeadConnector, on page 2: `lastMessageId` is the id of page 1's 2nd
    /// message, so the next page starts inside the previous page.
    CursorIntoPreviousPage,
    /// Bird: every `nextPageToken` starts one message early (the next page
    /// begins with the last message of this one).
    TokenOneEarly,
    /// Bird: every request, whatever its token, gets page 1 again with a
    /// fresh, never-repeated token.
    SamePageFreshToken,
    /// The first request for page `page` gets `status`, later ones are
    /// served. 502, 503, 504 and 408 come with a gateway's HTML body, the
    /// others with the vendor's JSON error body.
    Status { status: u16, page: usize },
    /// The first request for page `page` is answered by closing the
    /// connection without a response.
    DropConnection { page: usize },
    /// Every request gets 429 with this `Retry-After` (e.g. `3600`).
    RateLimited { retry_after: String },
    /// Every request gets `status` (401 or 400) with the vendor's error body
    /// quoting the credential the request carried, and response headers
    /// (`x-echo-credential`, `www-authenticate`) quoting it too.
    EchoCredential { status: u16 },
    /// Page `page` (every time it is asked for) comes with
    /// `Content-Encoding: gzip`: a small body that expands to
    /// `expanded_bytes` of valid JSON (the real page, padded with spaces).
    GzipBomb { page: usize, expanded_bytes: usize },
}

/// What a server serves and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub vendor: Vendor,
    /// The size of the conversation.
    pub messages: usize,
    /// How many consecutive messages share one millisecond timestamp: 1 gives
    /// every message its own second; more makes ties.
    pub same_millisecond: usize,
    pub behaviour: Behaviour,
    /// Requests answered before the server answers only errors (HTTP 400
    /// with the vendor's error body).
    pub budget: usize,
    /// The conversation served; any other is 404 (Octopush: `[]`).
    pub conversation_id: String,
    /// Bird's workspace; any other is 403.
    pub workspace_id: String,
    /// LeadConnector: the live API's nested body
    /// `{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`.
    pub nested: bool,
    pub bird_tokens: BirdTokens,
}

impl Options {
    /// `messages` messages of `vendor`'s default conversation, honestly served.
    pub fn new(vendor: Vendor, messages: usize) -> Self {
        Self {
            vendor,
            messages,
            same_millisecond: 1,
            behaviour: Behaviour::Honest,
            budget: 300,
            conversation_id: vendor.default_conversation().to_owned(),
            workspace_id: DEFAULT_BIRD_WORKSPACE.to_owned(),
            nested: false,
            bird_tokens: BirdTokens::default(),
        }
    }

    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    pub fn conversation(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = id.into();
        self
    }

    pub fn workspace(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = id.into();
        self
    }

    /// Groups of `per_millisecond` consecutive messages share one timestamp.
    pub fn same_millisecond(mut self, per_millisecond: usize) -> Self {
        self.same_millisecond = per_millisecond.max(1);
        self
    }

    pub fn nested(mut self) -> Self {
        self.nested = true;
        self
    }

    pub fn bird_tokens(mut self, tokens: BirdTokens) -> Self {
        self.bird_tokens = tokens;
        self
    }

    pub fn budget(mut self, budget: usize) -> Self {
        self.budget = budget;
        self
    }

    /// When the generated message at `index` (0 is the oldest) was created,
    /// RFC 3339 in UTC with milliseconds.
    pub fn message_time(&self, index: usize) -> String {
        let ms = store::Store::generate(self.vendor, index + 1, self.same_millisecond).messages[index].created_ms;
        vendors::format_time(ms, "Z")
    }
}
