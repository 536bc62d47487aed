convo_runtime::open_enum! {
    /// The channel a message went over: the page's 15 values. Any other
    /// value (Infobip's published spec lists about 30) is kept in `Other`.
    pub enum Channel {
        Sms = "SMS",
        Viber = "VIBER",
        FacebookMessenger = "FACEBOOK_MESSENGER",
        Whatsapp = "WHATSAPP",
        Rcs = "RCS",
        LiveChat = "LIVE_CHAT",
        Line = "LINE",
        GoogleBusinessMessages = "GOOGLE_BUSINESS_MESSAGES",
        Telegram = "TELEGRAM",
        InstagramMessaging = "INSTAGRAM_MESSAGING",
        KakaoSangdam = "KAKAO_SANGDAM",
        TwitterDm = "TWITTER_DM",
        ViberBot = "VIBER_BOT",
        AppleBusinessChat = "APPLE_BUSINESS_CHAT",
        Email = "EMAIL",
    }
}

convo_runtime::open_enum! {
    /// Whether a message came from the customer or went to them.
    pub enum Direction {
        Inbound = "INBOUND",
        Outbound = "OUTBOUND",
    }
}

convo_runtime::open_enum! {
    /// What a message's `content` holds: TEXT from the page; the others from
    /// Infobip's published spec. Any other value is kept in `Other`.
    pub enum ContentType {
        Text = "TEXT",
        Image = "IMAGE",
        Video = "VIDEO",
        Audio = "AUDIO",
        Document = "DOCUMENT",
        Location = "LOCATION",
        Email = "EMAIL",
    }
}

convo_runtime::open_enum! {
    /// Who wrote a message.
    pub enum AuthorType {
        Customer = "CUSTOMER",
        Agent = "AGENT",
        System = "SYSTEM",
        Bot = "BOT",
    }
}
