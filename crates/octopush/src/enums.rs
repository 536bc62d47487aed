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
    /// The channel a message travelled on: `sms` and `rcs` appear in the
    /// page's sample; any other value is kept in `Other`.
    pub enum Channel {
        Sms = "sms",
        Rcs = "rcs",
    }
}
