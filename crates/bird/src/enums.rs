convo_runtime::open_enum! {
    /// Who sent a message.
    pub enum SenderType {
        User = "user",
        Contact = "contact",
        AccessKey = "accessKey",
        Flow = "flow",
    }
}

convo_runtime::open_enum! {
    /// A message's delivery status.
    pub enum MessageStatus {
        Accepted = "accepted",
        Processing = "processing",
        Sent = "sent",
        SendingFailed = "sending_failed",
        Delivered = "delivered",
        DeliveryFailed = "delivery_failed",
    }
}

convo_runtime::open_enum! {
    /// Where a message came from.
    pub enum MessageSource {
        Conversations = "conversations",
        Channels = "channels",
        External = "external",
    }
}
