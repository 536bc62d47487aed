//! The four vendors' endpoints.

pub(crate) mod bird;
pub(crate) mod infobip;
pub(crate) mod leadconnector;
pub(crate) mod octopush;

use hyper::StatusCode;
use serde::Serialize;

use hyper::header::{HeaderValue, RETRY_AFTER};

use crate::http::{Call, Reply};
use crate::limit::{RateState, Refused};
use crate::samples::Samples;
use crate::{SandboxOptions, Vendor, ids};

/// The four vendors' handlers.
pub(crate) struct Vendors {
    infobip: infobip::Infobip,
    octopush: octopush::Octopush,
    leadconnector: leadconnector::Leadconnector,
    bird: bird::Bird,
}

impl Vendors {
    pub fn new(samples: &'static Samples, options: &SandboxOptions) -> Vendors {
        Vendors {
            infobip: infobip::Infobip::new(&samples.infobip),
            octopush: octopush::Octopush::new(&samples.octopush),
            leadconnector: leadconnector::Leadconnector::new(&samples.leadconnector, options.leadconnector_nested),
            bird: bird::Bird::new(&samples.bird),
        }
    }

    /// Answers a request the vendor's way.
    pub fn handle(&self, vendor: Vendor, call: &Call<'_>) -> Reply {
        match vendor {
            Vendor::Infobip => self.infobip.handle(call),
            Vendor::Octopush => self.octopush.handle(call),
            Vendor::Leadconnector => self.leadconnector.handle(call),
            Vendor::Bird => self.bird.handle(call),
        }
    }

    /// The vendor's error response for `status`, to its request `number`
    /// (`rate`: where the budget stands, in the rate-limit mode).
    pub fn status(&self, vendor: Vendor, status: StatusCode, number: usize, rate: Option<RateState>) -> Reply {
        match vendor {
            Vendor::Infobip => infobip::status(status),
            Vendor::Octopush => octopush::status(status),
            Vendor::Leadconnector => self.leadconnector.status(status, number, rate),
            Vendor::Bird => bird::status(status),
        }
    }

    /// The vendor's refusal of request `number`, beyond its budget: its
    /// 429, with LeadConnector's `X-RateLimit-*` headers or the others'
    /// `Retry-After`.
    pub fn too_many_requests(&self, vendor: Vendor, number: usize, refused: Refused) -> Reply {
        let reply = self.status(vendor, StatusCode::TOO_MANY_REQUESTS, number, Some(refused.state));
        match vendor {
            Vendor::Leadconnector => reply,
            _ => reply.with_header(RETRY_AFTER, HeaderValue::from(refused.retry_after_seconds())),
        }
    }
}

/// A message of a page: a documented sample's, serialized as the spec
/// writes it, or a generated one.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Item<'a, G> {
    Sample(&'a serde_norway::Value),
    Generated(G),
}

/// Which conversation a request names.
pub(crate) enum Conversation<'a> {
    Sample(&'a [crate::samples::SampleMessage]),
    /// The generated conversation, or a numbered one, of this many
    /// messages, under this id (the one requested: the messages name it).
    Generated(usize, &'a str),
}

impl Conversation<'_> {
    pub fn len(&self) -> usize {
        match self {
            Conversation::Sample(messages) => messages.len(),
            Conversation::Generated(n, _) => *n,
        }
    }
}

/// The generated conversations as one request sees them: their size when
/// it arrived, and how many numbered ones there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generated {
    pub messages: usize,
    pub conversations: usize,
}

impl Generated {
    /// The generated conversation of `vendor` that `id` names, if it is
    /// served: the generated one (while it holds messages, or while
    /// numbered ones are served), or a numbered one below `conversations`.
    pub fn find<'a>(&self, vendor: Vendor, id: &'a str) -> Option<Conversation<'a>> {
        let served = if id == ids::generated(vendor) {
            self.messages > 0 || self.conversations > 0
        } else {
            ids::numbered_index(vendor, id).is_some_and(|n| n < self.conversations)
        };
        served.then_some(Conversation::Generated(self.messages, id))
    }
}
