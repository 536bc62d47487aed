convo_runtime::open_enum! {
    /// A message's type as a string (`messageType`). Key on this rather than
    /// on the numeric `type`, which has no official table.
    ///
    /// Note the spelling `TYPE_INTERNAL_COMMENT`: the `type` filter of the
    /// request spells the same kind `TYPE_INTERNAL_COMMENTS`.
    pub enum MessageType {
        Call = "TYPE_CALL",
        Sms = "TYPE_SMS",
        Email = "TYPE_EMAIL",
        SmsReviewRequest = "TYPE_SMS_REVIEW_REQUEST",
        Webchat = "TYPE_WEBCHAT",
        SmsNoShowRequest = "TYPE_SMS_NO_SHOW_REQUEST",
        CampaignSms = "TYPE_CAMPAIGN_SMS",
        CampaignCall = "TYPE_CAMPAIGN_CALL",
        CampaignEmail = "TYPE_CAMPAIGN_EMAIL",
        CampaignVoicemail = "TYPE_CAMPAIGN_VOICEMAIL",
        Facebook = "TYPE_FACEBOOK",
        CampaignFacebook = "TYPE_CAMPAIGN_FACEBOOK",
        CampaignManualCall = "TYPE_CAMPAIGN_MANUAL_CALL",
        CampaignManualSms = "TYPE_CAMPAIGN_MANUAL_SMS",
        Gmb = "TYPE_GMB",
        CampaignGmb = "TYPE_CAMPAIGN_GMB",
        Review = "TYPE_REVIEW",
        Instagram = "TYPE_INSTAGRAM",
        Whatsapp = "TYPE_WHATSAPP",
        CustomSms = "TYPE_CUSTOM_SMS",
        CustomEmail = "TYPE_CUSTOM_EMAIL",
        CustomProviderSms = "TYPE_CUSTOM_PROVIDER_SMS",
        CustomProviderEmail = "TYPE_CUSTOM_PROVIDER_EMAIL",
        IvrCall = "TYPE_IVR_CALL",
        ActivityContact = "TYPE_ACTIVITY_CONTACT",
        ActivityInvoice = "TYPE_ACTIVITY_INVOICE",
        ActivityPayment = "TYPE_ACTIVITY_PAYMENT",
        ActivityOpportunity = "TYPE_ACTIVITY_OPPORTUNITY",
        LiveChat = "TYPE_LIVE_CHAT",
        LiveChatInfoMessage = "TYPE_LIVE_CHAT_INFO_MESSAGE",
        ActivityAppointment = "TYPE_ACTIVITY_APPOINTMENT",
        FacebookComment = "TYPE_FACEBOOK_COMMENT",
        InstagramComment = "TYPE_INSTAGRAM_COMMENT",
        CustomCall = "TYPE_CUSTOM_CALL",
        InternalComment = "TYPE_INTERNAL_COMMENT",
    }
}

convo_runtime::open_enum! {
    /// Whether a message came in from the contact or went out to them.
    pub enum MessageDirection {
        Inbound = "inbound",
        Outbound = "outbound",
    }
}

convo_runtime::open_enum! {
    /// A message's delivery status.
    pub enum MessageStatus {
        Connected = "connected",
        Delivered = "delivered",
        Failed = "failed",
        Opened = "opened",
        Pending = "pending",
        Read = "read",
        Scheduled = "scheduled",
        Sent = "sent",
        Undelivered = "undelivered",
        Clicked = "clicked",
        OptOut = "opt_out",
    }
}

convo_runtime::open_enum! {
    /// The outcome of a call (`meta.callStatus`, and `meta.call.status` on the live API).
    pub enum CallStatus {
        Pending = "pending",
        Completed = "completed",
        Answered = "answered",
        Busy = "busy",
        NoAnswer = "no-answer",
        Failed = "failed",
        Canceled = "canceled",
        Voicemail = "voicemail",
    }
}

convo_runtime::open_enum! {
    /// What sent a message.
    pub enum MessageSource {
        Workflow = "workflow",
        BulkActions = "bulk_actions",
        Campaign = "campaign",
        Api = "api",
        App = "app",
    }
}

convo_runtime::open_enum! {
    /// A value of the request's `type` filter: the page's 14 allowed values.
    /// Note the spelling `TYPE_INTERNAL_COMMENTS`, where messages themselves
    /// say `TYPE_INTERNAL_COMMENT`. Any other value goes out as written.
    pub enum TypeFilter {
        Call = "TYPE_CALL",
        Sms = "TYPE_SMS",
        Email = "TYPE_EMAIL",
        Facebook = "TYPE_FACEBOOK",
        Gmb = "TYPE_GMB",
        Instagram = "TYPE_INSTAGRAM",
        Whatsapp = "TYPE_WHATSAPP",
        ActivityAppointment = "TYPE_ACTIVITY_APPOINTMENT",
        ActivityContact = "TYPE_ACTIVITY_CONTACT",
        ActivityInvoice = "TYPE_ACTIVITY_INVOICE",
        ActivityPayment = "TYPE_ACTIVITY_PAYMENT",
        ActivityOpportunity = "TYPE_ACTIVITY_OPPORTUNITY",
        LiveChat = "TYPE_LIVE_CHAT",
        InternalComments = "TYPE_INTERNAL_COMMENTS",
    }
}
