convo_runtime::open_enum! {
    /// Whether a message was received or sent.
    pub enum Direction {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

convo_runtime::open_enum! {
    /// The delivery status of an outbound message. The page shows only
    /// `sending`; every other status is kept in `Other`.
    pub enum DeliveryStatus {
        Sending = "sending",
    }
}

convo_runtime::open_enum! {
    /// The channel a message travelled on. `sms` and `rcs` appear in the
    /// page's sample; `multi_channel` and Facebook conversations are named by
    /// the page (the spelling `facebook` is inferred, not printed).
    pub enum Channel {
        Sms = "sms",
        Rcs = "rcs",
        MultiChannel = "multi_channel",
        Facebook = "facebook",
    }
}
