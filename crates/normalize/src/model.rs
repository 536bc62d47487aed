//! The unified message model. Serialized with snake_case field names; its
//! JSON Schema is committed as `generated/message.schema.json`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// One message (or call, e-mail, activity row, comment) of a conversation,
/// from any vendor, with nothing the vendor sent thrown away: `raw` is the
/// vendor's message exactly as it came.
///
/// Every field but `vendor` and `raw` is read leniently: what the vendor
/// left out or sent as `null` is null (or empty) here. A message that could
/// not be decoded at all (no id, a field of the wrong type, not an object)
/// still appears, in its place in the conversation, with `decode_error`
/// saying what failed: it then carries `vendor`, `raw`, and `id` when one
/// can be read from `raw`; every other field is null or empty, and
/// `content` is `empty`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// The vendor the message was read from.
    pub vendor: Vendor,
    /// The vendor's message id; null only for a message that could not be
    /// decoded and whose raw JSON holds no string id.
    pub id: Option<String>,
    /// The vendor's conversation id; null where the vendor gives none.
    pub conversation_id: Option<String>,
    /// The channel, in one vocabulary for all vendors; null where the vendor
    /// does not say.
    pub channel: Option<Channel>,
    /// Inbound (from the customer) or outbound; null where unknown.
    pub direction: Option<Direction>,
    /// What the row is; null only for a message that could not be decoded.
    pub kind: Option<Kind>,
    /// When the message was created, RFC 3339 in UTC; null only when the
    /// vendor gives no time.
    pub created_at: Option<DateTime<Utc>>,
    /// When the message was last updated, RFC 3339 in UTC; null when the
    /// vendor gives no such time.
    pub updated_at: Option<DateTime<Utc>>,
    /// The delivery status, in one vocabulary; null where the vendor has none.
    pub status: Option<Status>,
    /// Who sent it.
    pub sender: Option<Participant>,
    /// Who it was sent to.
    pub recipients: Vec<Participant>,
    /// The human-readable text, where the message has one (text, the text of
    /// an HTML or e-mail body, a caption).
    pub text: Option<String>,
    /// The subject, for e-mails.
    pub subject: Option<String>,
    /// Every file, image, video or audio the message carries.
    pub attachments: Vec<Attachment>,
    /// The structured content, so that nothing is reduced to a string.
    pub content: Content,
    /// Why the message could not be decoded; absent for every message that
    /// was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_error: Option<DecodeError>,
    /// The vendor's message exactly as it came.
    #[schemars(with = "Value")]
    pub raw: Box<RawValue>,
}

/// What failed in a message that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DecodeError {
    /// The JSON path inside the message that failed (`createdAt`,
    /// `sender.id`); `.` for the message itself (one that is not an object,
    /// or has no id).
    pub path: String,
    /// What was wrong there.
    pub reason: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.reason)
    }
}

impl Message {
    /// A message that could not be decoded: what `raw` still tells (its
    /// `id_field`, when that is a string) and why. Reads `raw` once more,
    /// which only such a message pays for.
    pub(crate) fn undecodable(
        vendor: Vendor,
        id_field: &str,
        error: convo_runtime::MessageError,
        raw: Box<RawValue>,
    ) -> Self {
        // Its fields as text, not as values: a number out of range, or
        // nesting deeper than serde_json reads, elsewhere in the message
        // must not cost it its id.
        let id = serde_json::from_str::<std::collections::HashMap<String, &RawValue>>(raw.get())
            .ok()
            .and_then(|fields| serde_json::from_str::<String>(fields.get(id_field)?.get()).ok());
        Message {
            vendor,
            id,
            conversation_id: None,
            channel: None,
            direction: None,
            kind: None,
            created_at: None,
            updated_at: None,
            status: None,
            sender: None,
            recipients: Vec::new(),
            text: None,
            subject: None,
            attachments: Vec::new(),
            content: Content::Empty,
            decode_error: Some(DecodeError { path: error.path, reason: error.reason }),
            raw,
        }
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        // `raw` compares as text: the vendor's bytes are the identity.
        self.vendor == other.vendor
            && self.id == other.id
            && self.conversation_id == other.conversation_id
            && self.channel == other.channel
            && self.direction == other.direction
            && self.kind == other.kind
            && self.created_at == other.created_at
            && self.updated_at == other.updated_at
            && self.status == other.status
            && self.sender == other.sender
            && self.recipients == other.recipients
            && self.text == other.text
            && self.subject == other.subject
            && self.attachments == other.attachments
            && self.content == other.content
            && self.decode_error == other.decode_error
            && self.raw.get() == other.raw.get()
    }
}

/// The vendors a message can come from: the registry's, shared with the
/// CLI, the sandbox and the benches.
pub use convo_vendors::Vendor;

convo_runtime::open_enum! {
    /// The channel, one vocabulary for all vendors. A vendor value with no
    /// equivalent here is kept as the vendor's literal string.
    pub enum Channel {
        Sms = "sms",
        Mms = "mms",
        Whatsapp = "whatsapp",
        Viber = "viber",
        FacebookMessenger = "facebook_messenger",
        FacebookComment = "facebook_comment",
        Instagram = "instagram",
        InstagramComment = "instagram_comment",
        Telegram = "telegram",
        Line = "line",
        Rcs = "rcs",
        LiveChat = "live_chat",
        Webchat = "webchat",
        Email = "email",
        Call = "call",
        Voicemail = "voicemail",
        GoogleBusinessMessages = "google_business_messages",
        AppleBusinessChat = "apple_business_chat",
        Kakao = "kakao",
        TwitterDm = "twitter_dm",
        Review = "review",
    }
}

convo_runtime::open_enum! {
    /// The direction of a message.
    pub enum Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

/// What a row of a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A message on a messaging channel (SMS, chat, social, ...).
    Message,
    /// A phone call or voicemail.
    Call,
    /// An e-mail.
    Email,
    /// An activity or log row (e.g. LeadConnector's `TYPE_ACTIVITY_*`).
    Activity,
    /// An internal comment between agents, not seen by the customer.
    Comment,
}

convo_runtime::open_enum! {
    /// The delivery status, one vocabulary for all vendors. A vendor value
    /// with no equivalent here is kept as the vendor's literal string.
    pub enum Status {
        Pending = "pending",
        Scheduled = "scheduled",
        Accepted = "accepted",
        Sent = "sent",
        Delivered = "delivered",
        Undelivered = "undelivered",
        Read = "read",
        Opened = "opened",
        Clicked = "clicked",
        Failed = "failed",
        OptOut = "opt_out",
        Connected = "connected",
    }
}

/// A sender or recipient, as the vendor identifies them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Participant {
    /// The vendor's id of the person, contact, user or key.
    pub id: Option<String>,
    /// Their address on the channel: a phone number, an e-mail address or a
    /// platform id.
    pub address: Option<String>,
    /// What kind of address `address` is (`phone_number`, `email`, or the
    /// vendor's own word).
    pub address_type: Option<String>,
    /// Their display name.
    pub name: Option<String>,
    /// Their role in the conversation, where known.
    pub role: Option<Role>,
}

impl Participant {
    /// Whether nothing at all is known of this participant.
    pub fn is_empty(&self) -> bool {
        self == &Participant::default()
    }
}

convo_runtime::open_enum! {
    /// The role of a participant.
    pub enum Role {
        Customer = "customer",
        Agent = "agent",
        Bot = "bot",
        System = "system",
    }
}

/// A file carried by a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attachment {
    /// The file's URL, as the vendor gives it.
    pub url: String,
    /// MIME type, or the vendor's kind (`image`, `video`, ...) where that is
    /// all it says.
    pub content_type: Option<String>,
    /// The file's name; null where the vendor gives none.
    pub name: Option<String>,
    /// The caption sent with the file; null where there is none.
    pub caption: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
}

impl Attachment {
    /// An attachment at `url`, with nothing else known of it.
    pub fn url(url: impl Into<String>) -> Self {
        Self { url: url.into(), content_type: None, name: None, caption: None, size: None }
    }
}

/// The structured content of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// HTML, with the plain-text alternative where the vendor gives one.
    Html {
        /// The HTML; empty when the vendor sent none.
        html: String,
        /// The plain-text alternative; null where the vendor gives none.
        text: Option<String>,
    },
    /// Images, videos, audio or documents, with an optional text.
    Media {
        /// The files, the same as the message's `attachments`.
        media: Vec<Attachment>,
        /// The text or caption sent with them; null where there is none.
        text: Option<String>,
    },
    /// A location.
    Location {
        /// The latitude, as the vendor gives it; null where it gives none.
        latitude: Option<f64>,
        /// The longitude, as the vendor gives it; null where it gives none.
        longitude: Option<f64>,
        /// The place's name; null where the vendor gives none.
        name: Option<String>,
        /// The place's address; null where the vendor gives none.
        address: Option<String>,
    },
    /// An e-mail.
    Email {
        /// The subject; null where the vendor gives none.
        subject: Option<String>,
        /// The plain-text body; null where the vendor gives none.
        text: Option<String>,
        /// The HTML body; null where the vendor gives none.
        html: Option<String>,
    },
    /// A call or voicemail.
    Call {
        /// Duration in seconds; null when unknown or unanswered.
        duration_seconds: Option<u64>,
        /// The vendor's call status (`completed`, `no-answer`, ...).
        status: Option<String>,
    },
    /// A template message: its name or id and parameters as the vendor sent them.
    Template {
        /// The vendor's template object, as it sent it.
        template: Value,
    },
    /// An activity or log row: the vendor's activity type and text.
    Activity {
        /// The vendor's activity type, as it spells it (LeadConnector's
        /// message type).
        activity: String,
        /// The activity's text; null where there is none.
        text: Option<String>,
    },
    /// A message with no content (e.g. an inbound e-mail whose body the
    /// vendor left out), and the content of a message that could not be
    /// decoded (see `decode_error`).
    Empty,
    /// A content type the normalizer does not know, kept as the vendor's
    /// JSON: `vendor_type` is the vendor's name for it.
    Unknown {
        /// The vendor's name for the content type; empty when it gives none.
        vendor_type: String,
        /// The vendor's content, as JSON.
        value: Value,
    },
}
