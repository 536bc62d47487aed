/// How the LeadConnector client departs from plain generation: open enums,
/// the hand-written response envelope (flat or nested), raw capture of every
/// message, lenient times, the `Version` header from the client. Used by `build.rs` and by `cargo xtask regen`
/// (which includes this file).
pub fn customization() -> Customization {
    Customization::new()
        .replace("PathSegment", "::convo_runtime::PathSegment")
        .replace("MessageType", "crate::MessageType")
        .replace("MessageDirection", "crate::MessageDirection")
        .replace("MessageStatus", "crate::MessageStatus")
        .replace("CallStatus", "crate::CallStatus")
        .replace("MessageSource", "crate::MessageSource")
        .replace("GetMessagesResponse", "crate::MessagesResponse")
        // The one response field that stays required: the message's id.
        .identity("Message", "id")
        .wrap_references("Message", "::convo_runtime::Captured<crate::types::Message>")
        .date_time("::convo_runtime::Timestamp")
        // Sent by the client as a default header, set once by
        // `Client::new` (see `auth.rs`): no request can go without it.
        .client_header("Version")
}
