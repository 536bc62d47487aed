//! A local fake of the four vendors' "list conversation messages" endpoints.
//!
//! [`Sandbox::start`] runs an HTTP server on 127.0.0.1 that speaks each
//! vendor's API as its page describes it: the same paths, credentials,
//! query parameters, paging, error statuses and error bodies. Each vendor
//! lives under its own path prefix, so one server stands in for all four;
//! [`Sandbox::base_url`] gives what a client uses as its base URL.
//!
//! Every vendor serves its documented sample conversation, read at startup
//! from the 200 `example` of `specs/<vendor>.yaml` (the one place it is
//! kept), under the sample's own conversation id (see [`ids`]). With
//! [`SandboxOptions::messages`] set, each vendor also serves a generated
//! conversation of that many messages, built from the message index on
//! demand, so a conversation of a million messages costs no memory.
//! [`SandboxOptions::conversations`] adds that many numbered conversations
//! holding the same messages, under ids of each vendor's own shape
//! ([`ids::numbered`]), for tools that read many conversations.
//! [`Sandbox::set_messages`] grows (or shrinks) them while the sandbox runs:
//! messages are derived from their index, so those already served never
//! change and new ones are newer than all of them, which lets a test read a
//! conversation, append messages and read it again.
//!
//! [`Fault`]s make a given request of a vendor fail in a chosen way (an
//! error status, a dropped connection, a truncated body, a repeated cursor,
//! an empty page that claims more), for tests of retries and of paging
//! safety; [`SandboxOptions::delay`] slows every response, and
//! [`SandboxOptions::replay`] answers again as first answered, for benchmarks.
//! [`SandboxOptions::rate_limit`] gives each vendor a budget of requests per
//! window ([`RateLimit`], a sliding log): a request beyond it is answered
//! 429 the vendor's way (LeadConnector's `X-RateLimit-*` headers, the
//! others' `Retry-After`), and counted by [`Sandbox::rate_limited`].
//!
//! **Architecture invariant:** this crate is the server side only. It knows
//! nothing of the vendor client crates and builds its responses from its own
//! types and from the spec examples.

mod generate;
mod http;
mod limit;
mod samples;
mod select;
mod server;
mod time;
mod vendors;

use std::time::Duration;

pub use server::Sandbox;

/// What the sandbox serves and how it misbehaves.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// The port to listen on, on 127.0.0.1; 0 picks a free port.
    pub port: u16,
    /// The size of the generated conversation each vendor serves in addition
    /// to its documented sample; 0 serves the documented samples only
    /// (unless `conversations` is above 0). At most `u32::MAX`. This is the
    /// initial size: [`Sandbox::set_messages`] changes it while the sandbox
    /// runs (the generated conversation is served while it is above 0).
    pub messages: usize,
    /// How many numbered conversations each vendor serves besides the
    /// generated one, under the ids [`ids::numbered`] gives for `0..conversations`.
    /// Each holds the same `messages` messages as the generated
    /// conversation (the same ids, texts and instants); only their
    /// conversation id differs. With numbered conversations the generated
    /// one is served even when empty, like them. At most
    /// [`ids::MAX_NUMBERED`].
    pub conversations: usize,
    /// How long every response takes from the request's arrival, faults
    /// included, as a vendor's round trip does: the answer is made while the
    /// delay runs and sent when it ends (or when it is made, if that takes
    /// longer), so the sandbox's own work is inside the delay, not added to
    /// it.
    pub delay: Duration,
    /// Misbehaviours, each applied once, to the request it names.
    pub faults: Vec<Fault>,
    /// Serve LeadConnector's live nested body
    /// (`{"messages": {"lastMessageId", "nextPage", "messages": [...]}, "traceId"}`)
    /// instead of the flat one its page documents.
    pub leadconnector_nested: bool,
    /// Refuse, per vendor, the requests beyond a budget, as the vendor does
    /// (see [`RateLimit`]); `None` admits every request.
    pub rate_limit: Option<RateLimit>,
    /// Answer each distinct request (method, target, headers, the
    /// conversations' size) as it was first answered, from these answers
    /// (shared across sandboxes by cloning it), instead of making it again:
    /// for benchmarks that measure the client, whose vendor makes its
    /// answers on its own machines, not on the client's. Not with faults
    /// nor a rate limit, whose answers depend on more than the request
    /// (refused at start).
    pub replay: Option<Replay>,
}

/// The answers a sandbox gives again (see [`SandboxOptions::replay`]).
#[derive(Clone, Default)]
pub struct Replay(pub(crate) std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, http::Replayed>>>);

impl Replay {
    /// How many distinct answers it holds.
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |answers| answers.len())
    }

    /// Whether it holds none yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Replay({} answers)", self.len())
    }
}

/// A budget each vendor enforces on its own requests: at most `requests`
/// requests admitted in any window of `per`, counted as a sliding log (the
/// instants of the requests admitted in the last `per`; a burst of
/// `requests` is admitted at once, and each admitted request frees its slot
/// `per` after it came).
///
/// A request beyond the budget is answered 429 with the vendor's error body
/// for 429, before anything else is looked at (credentials, faults: a fault
/// naming a refused request does not happen); it takes no slot, and it is
/// counted by [`Sandbox::rate_limited`] as well as [`Sandbox::requests`].
/// Admitted requests take a slot whatever their answer, faulty ones
/// included. The delay applies to refusals too; a request's place in the
/// window is when it arrives.
///
/// The refusal tells the wait the vendor's way:
///
/// - LeadConnector sends its `X-RateLimit-*` headers (no `Retry-After`):
///   `X-RateLimit-Limit` and `X-RateLimit-Max` are `requests`,
///   `X-RateLimit-Remaining` is 0, `X-RateLimit-Interval-Milliseconds` is
///   `per`. Its other answers carry them too, `X-RateLimit-Remaining`
///   counting down the requests still admitted in the window.
/// - Infobip, Octopush and Bird send `Retry-After`: the seconds until a
///   request is admitted again, rounded up, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests admitted per window; at least 1.
    pub requests: u32,
    /// The window; above zero.
    pub per: Duration,
}

/// One of the four vendors the sandbox stands in for (the registry's own:
/// its name is the vendor's path prefix here).
pub use convo_vendors::Vendor;

/// A misbehaviour of one vendor on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The vendor whose request misbehaves.
    pub vendor: Vendor,
    /// Which of that vendor's requests misbehaves: 1 is its first request.
    /// Requests are counted per vendor, faulty ones included. When several
    /// faults name the same request, the first one in the list applies.
    pub on_request: usize,
    /// How it misbehaves.
    pub kind: FaultKind,
}

/// How a request misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status and the vendor's error body for it, and with
    /// a `Retry-After` header holding `retry_after` as given (seconds or an
    /// HTTP date) when it is set. Credentials are not checked.
    Status { status: u16, retry_after: Option<String> },
    /// Close the connection without sending any response.
    DropConnection,
    /// Send the response's headers with the full `Content-Length`, then only
    /// the first half of its body, and close the connection.
    TruncatedBody,
    /// Serve the page but point back to where the previous page started:
    /// Bird's `nextPageToken` and LeadConnector's `lastMessageId` are the
    /// cursor the request carried (with `nextPage: true`); Infobip and
    /// Octopush serve the previous page again (Infobip with that page's
    /// `pagination.page`). On a request for the first page there is no
    /// previous cursor, and the page is served as usual.
    RepeatCursor,
    /// Serve a page with no messages that says more follow: LeadConnector
    /// sends `nextPage: true` with the request's `lastMessageId`, Bird a
    /// `nextPageToken` that leads back to the requested page, Infobip the
    /// requested page's `pagination` (whose `totalItems` says more remain).
    /// Octopush has no way to say more follow: it sends `[]`.
    EmptyPageWithMore,
}

/// The sandbox's fixed credentials. Requests with any other credentials get
/// the vendor's refusal.
pub mod credentials {
    /// Infobip's API key, sent as `Authorization: App <key>`.
    pub const INFOBIP_API_KEY: &str = "sandbox-infobip-api-key";
    /// Octopush's `api-login` header.
    pub const OCTOPUSH_API_LOGIN: &str = "sandbox-octopush-api-login";
    /// Octopush's `api-key` header.
    pub const OCTOPUSH_API_KEY: &str = "sandbox-octopush-api-key";
    /// LeadConnector's access token, sent as `Authorization: Bearer <token>`.
    pub const LEADCONNECTOR_TOKEN: &str = "sandbox-leadconnector-token";
    /// Bird's access key, sent as `Authorization: AccessKey <key>`.
    pub const BIRD_ACCESS_KEY: &str = "sandbox-bird-access-key";
    /// The `Version` header values LeadConnector accepts: the page's
    /// `2021-07-28`, and the `2021-04-15` of HighLevel's published spec and
    /// the `2023-02-21` their SDK sends (live-API behaviour).
    pub const LEADCONNECTOR_VERSIONS: [&str; 3] = ["2021-07-28", "2021-04-15", "2023-02-21"];

    /// The sandbox's value for a client's credential variable (as named in
    /// `convo_vendors::Vendor::variables`), so that a client can be built
    /// for the sandbox as it is from the environment.
    pub fn variable(name: &str) -> Option<&'static str> {
        Some(match name {
            "INFOBIP_API_KEY" => INFOBIP_API_KEY,
            "OCTOPUSH_API_LOGIN" => OCTOPUSH_API_LOGIN,
            "OCTOPUSH_API_KEY" => OCTOPUSH_API_KEY,
            "LEADCONNECTOR_TOKEN" => LEADCONNECTOR_TOKEN,
            "BIRD_ACCESS_KEY" => BIRD_ACCESS_KEY,
            _ => return None,
        })
    }
}

/// The conversations the sandbox serves. The `SAMPLE_*` ids are the
/// documented samples' own ids (the sandbox reads them from the spec
/// examples; these constants are checked against them by the tests). The
/// `GENERATED_*` ids hold the generated conversation, served only when
/// [`SandboxOptions::messages`] (or [`Sandbox::set_messages`]) is above 0
/// or [`SandboxOptions::conversations`] is; [`numbered`](crate::ids::numbered) gives the ids of
/// the numbered conversations.
pub mod ids {
    /// Infobip conversation ids.
    pub mod infobip {
        /// The documented sample's conversation.
        pub const SAMPLE_CONVERSATION: &str = "4461ea29-c09e-4ba8-a751-df86cf0a0eb9";
        /// The generated conversation.
        pub const GENERATED_CONVERSATION: &str = "5a4db0c5-1e0f-4c3a-9b27-6d0e8f1a2c01";

        /// The id of the generated conversation's message at `index`
        /// (0 is the oldest). Ids sort in the order of their index.
        pub fn generated_message(index: usize) -> String {
            crate::vendors::infobip::message_id(index)
        }
    }

    /// Octopush conversation selectors. Octopush finds a conversation by
    /// `conversation_id` (`cid_{uuid}`), and the generated one also by its
    /// contact's `phone_number`, `email` or `facebook_id` (`fid_{id}`), or
    /// by any of these values in `contact`.
    pub mod octopush {
        /// The documented sample's `conversation_id` (the page prints none;
        /// this one is the sandbox's).
        pub const SAMPLE_CONVERSATION: &str = "cid_0c7a5e1d-3b9f-4d2a-8e6c-51f0a9b7d3e2";
        /// The generated conversation's `conversation_id`.
        pub const GENERATED_CONVERSATION: &str = "cid_7d1f0e2c-9a4b-4c6d-8f3e-2b5a1c0d9e47";
        /// The generated conversation's contact phone number.
        pub const GENERATED_PHONE_NUMBER: &str = "+33612345678";
        /// The generated conversation's contact e-mail address.
        pub const GENERATED_EMAIL: &str = "camille.martin@example.com";
        /// The generated conversation's contact Facebook id, as a selector.
        pub const GENERATED_FACEBOOK_ID: &str = "fid_7712004598123";

        /// The `message_id` of the generated conversation's message at
        /// `index` (0 is the first served).
        pub fn generated_message(index: usize) -> String {
            crate::vendors::octopush::message_id(index)
        }
    }

    /// LeadConnector conversation ids.
    pub mod leadconnector {
        /// The documented sample's conversation (its message's `conversationId`).
        pub const SAMPLE_CONVERSATION: &str = "ve9EPM428h8vShlRW1KT";
        /// The generated conversation.
        pub const GENERATED_CONVERSATION: &str = "sbxConversation00001";

        /// The id of the generated conversation's message at `index`
        /// (0 is the oldest, served last).
        pub fn generated_message(index: usize) -> String {
            crate::vendors::leadconnector::message_id(index)
        }
    }

    /// Bird workspace and conversation ids.
    pub mod bird {
        /// The workspace of both conversations (the one in the page's curl
        /// example). Other workspaces are refused with 403.
        pub const WORKSPACE: &str = "a1405560-c8d3-4b1a-877d-3f449ad95352";
        /// The documented sample's conversation.
        pub const SAMPLE_CONVERSATION: &str = "16e1df9e-c6ac-406b-b1ce-13f34d0dea08";
        /// The generated conversation.
        pub const GENERATED_CONVERSATION: &str = "b1e2d3c4-5f60-4a7b-8c9d-0e1f2a3b4c5d";

        /// The id of the generated conversation's message at `index`
        /// (0 is the oldest, served last by default).
        pub fn generated_message(index: usize) -> String {
            crate::vendors::bird::message_id(index)
        }
    }

    use crate::Vendor;

    /// The documented sample's conversation of `vendor`.
    pub fn sample(vendor: Vendor) -> &'static str {
        match vendor {
            Vendor::Infobip => infobip::SAMPLE_CONVERSATION,
            Vendor::Octopush => octopush::SAMPLE_CONVERSATION,
            Vendor::Leadconnector => leadconnector::SAMPLE_CONVERSATION,
            Vendor::Bird => bird::SAMPLE_CONVERSATION,
        }
    }

    /// The generated conversation of `vendor`.
    pub fn generated(vendor: Vendor) -> &'static str {
        match vendor {
            Vendor::Infobip => infobip::GENERATED_CONVERSATION,
            Vendor::Octopush => octopush::GENERATED_CONVERSATION,
            Vendor::Leadconnector => leadconnector::GENERATED_CONVERSATION,
            Vendor::Bird => bird::GENERATED_CONVERSATION,
        }
    }

    /// One more than the highest number [`numbered`] gives an id to: the
    /// number takes the last 12 characters of the id.
    pub const MAX_NUMBERED: usize = 1_000_000_000_000;

    /// How many characters of the generated id a numbered id replaces.
    const NUMBER_DIGITS: usize = 12;

    /// The numbered conversation `n` of `vendor` (served for `n` below
    /// [`SandboxOptions::conversations`](crate::SandboxOptions::conversations)):
    /// the generated conversation's id with its last 12 characters replaced
    /// by `n` in 12 decimal digits, so it keeps the vendor's shape:
    ///
    /// - Infobip: `5a4db0c5-1e0f-4c3a-9b27-000000000007` (a UUID)
    /// - Octopush: `cid_7d1f0e2c-9a4b-4c6d-8f3e-000000000007` (`cid_` and a UUID)
    /// - LeadConnector: `sbxConve000000000007` (20 alphanumeric characters)
    /// - Bird: `b1e2d3c4-5f60-4a7b-8c9d-000000000007` (a UUID)
    ///
    /// An `n` of [`MAX_NUMBERED`] or more gives a longer id, never served.
    pub fn numbered(vendor: Vendor, n: usize) -> String {
        let generated = generated(vendor);
        format!("{}{n:0width$}", &generated[..generated.len() - NUMBER_DIGITS], width = NUMBER_DIGITS)
    }

    /// The number of `vendor`'s numbered conversation `id`, if it is one
    /// (served or not).
    pub(crate) fn numbered_index(vendor: Vendor, id: &str) -> Option<usize> {
        let generated = generated(vendor);
        let digits = id.strip_prefix(&generated[..generated.len() - NUMBER_DIGITS])?;
        if digits.len() != NUMBER_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// The workspace a conversation of `vendor` belongs to (Bird's only).
    pub fn workspace(vendor: Vendor) -> Option<&'static str> {
        (vendor == Vendor::Bird).then_some(bird::WORKSPACE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_credential_variable_of_the_registry_has_a_sandbox_value() {
        for vendor in Vendor::ALL {
            for name in vendor.variables().credentials {
                assert!(credentials::variable(name).is_some(), "{vendor}: {name}");
            }
            assert_eq!(credentials::variable(vendor.variables().base_url), None, "the base URL is the server's");
        }
    }

    #[test]
    fn numbered_ids_keep_the_vendors_shape_and_decode() {
        for vendor in Vendor::ALL {
            let generated = ids::generated(vendor);
            for n in [0, 1, 42, ids::MAX_NUMBERED - 1] {
                let id = ids::numbered(vendor, n);
                assert_eq!(id.len(), generated.len(), "{id}");
                assert_eq!(id[..id.len() - 12], generated[..generated.len() - 12], "{id}");
                assert_eq!(ids::numbered_index(vendor, &id), Some(n), "{id}");
            }
            assert_eq!(ids::numbered_index(vendor, generated), None);
            assert_eq!(ids::numbered_index(vendor, ids::sample(vendor)), None);
            assert_eq!(ids::numbered_index(vendor, &ids::numbered(vendor, ids::MAX_NUMBERED)), None);
        }
        assert_eq!(ids::numbered(Vendor::Infobip, 7), "5a4db0c5-1e0f-4c3a-9b27-000000000007");
        assert_eq!(ids::numbered(Vendor::Octopush, 7), "cid_7d1f0e2c-9a4b-4c6d-8f3e-000000000007");
        assert_eq!(ids::numbered(Vendor::Leadconnector, 7), "sbxConve000000000007");
        assert_eq!(ids::numbered(Vendor::Bird, 7), "b1e2d3c4-5f60-4a7b-8c9d-000000000007");
    }
}
