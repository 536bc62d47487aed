/// How the Octopush client departs from plain generation: validated
/// parameter types (the API never refuses a bad value, so the client must),
/// open enums, and raw capture of every message.
/// Used by `build.rs` (and by `cargo xtask regen` once it includes this file).
pub fn customization() -> Customization {
    Customization::new()
        .replace("Page", "crate::Page")
        .replace("PerPage", "crate::PerPage")
        .replace("FacebookId", "crate::FacebookId")
        .replace("ConversationId", "crate::ConversationId")
        .replace("Direction", "crate::Direction")
        .replace("DeliveryStatus", "crate::DeliveryStatus")
        .replace("Channel", "crate::Channel")
        // The one response field that stays required: the message's id.
        .identity("Message", "message_id")
        .wrap_references("Message", "::convo_runtime::Captured<crate::types::Message>")
}
