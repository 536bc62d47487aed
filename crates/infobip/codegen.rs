/// How the Infobip client departs from plain generation: open enums, the
/// hand-written lenient content, raw capture of every message, and Infobip's
/// own timestamp form. Used by `build.rs` and by `cargo xtask regen` (which
/// includes this file).
pub fn customization() -> Customization {
    Customization::new()
        .replace("PathSegment", "::convo_runtime::PathSegment")
        .replace("Channel", "crate::Channel")
        .replace("Direction", "crate::Direction")
        .replace("ContentType", "crate::ContentType")
        .replace("AuthorType", "crate::AuthorType")
        .replace("MessageContent", "crate::Content")
        // The one response field that stays required: the message's id.
        .identity("Message", "id")
        .wrap_references("Message", "::convo_runtime::Captured<crate::types::Message>")
        .date_time("crate::Timestamp")
}
