/// How the Bird client departs from plain generation: open enums, the
/// hand-written body enum, raw capture of every message, lenient times.
/// Used by `build.rs` and by `cargo xtask regen` (which includes this file).
pub fn customization() -> Customization {
    Customization::new()
        .replace("PathSegment", "::convo_runtime::PathSegment")
        .replace("SenderType", "crate::SenderType")
        .replace("MessageStatus", "crate::MessageStatus")
        .replace("MessageSource", "crate::MessageSource")
        .replace("MessageBody", "crate::Body")
        // The one response field that stays required: the message's id.
        .identity("Message", "id")
        .wrap_references("Message", "::convo_runtime::Captured<crate::types::Message>")
        .date_time("::convo_runtime::Timestamp")
}
