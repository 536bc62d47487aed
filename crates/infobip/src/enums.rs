convo_runtime::open_enum! {
    /// The channel a message went over. The first 15 values are the ones the
    /// page documents; the others are channel names Infobip uses elsewhere.
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
        Mms = "MMS",
        ViberBm = "VIBER_BM",
        InstagramDm = "INSTAGRAM_DM",
        Messenger = "MESSENGER",
        AppleMb = "APPLE_MB",
        LineOa = "LINE_OA",
        OpenChannel = "OPEN_CHANNEL",
        TiktokBm = "TIKTOK_BM",
        ZaloFollower = "ZALO_FOLLOWER",
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
    /// What a message's `content` holds.
    pub enum ContentType {
        Text = "TEXT",
        Image = "IMAGE",
        Video = "VIDEO",
        Audio = "AUDIO",
        Document = "DOCUMENT",
        Location = "LOCATION",
        Email = "EMAIL",
        Template = "TEMPLATE",
        Sticker = "STICKER",
        RichLink = "RICH_LINK",
        WhatsappTemplate = "WHATSAPP_TEMPLATE",
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
