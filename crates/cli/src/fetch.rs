use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use futures::StreamExt;

use convo_normalize::fetch::{FetchOptions, Source};
use convo_normalize::{Message, Vendor, normalize_page};
use convo_runtime::{ClientOptions, PagingOptions, Position, SecretString};
use convo_sandbox::{Sandbox, SandboxOptions, credentials, ids};

use crate::args::{FetchArgs, Format, NormalizeArgs};
use crate::error::CliError;
use crate::output::Output;

/// A credential from the environment; its absence names the variable.
fn env_secret(name: &str) -> Result<SecretString, CliError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value)),
        _ => Err(CliError::Usage(format!("{name} is not set: the credential is read from the environment only"))),
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Where and as whom to connect.
struct Connection {
    base_url: String,
    infobip_key: Option<SecretString>,
    octopush: Option<(String, SecretString)>,
    leadconnector: Option<(SecretString, String)>,
    bird_key: Option<SecretString>,
}

fn connection(vendor: Vendor, args: &FetchArgs, sandbox: Option<&Sandbox>) -> Result<Connection, CliError> {
    let (env_base, default_base) = match vendor {
        Vendor::Infobip => ("INFOBIP_BASE_URL", None),
        Vendor::Octopush => ("OCTOPUSH_BASE_URL", Some(convo_octopush::DEFAULT_BASE_URL)),
        Vendor::Leadconnector => ("LEADCONNECTOR_BASE_URL", Some(convo_leadconnector::DEFAULT_BASE_URL)),
        Vendor::Bird => ("BIRD_BASE_URL", Some(convo_bird::DEFAULT_BASE_URL)),
    };
    let mut conn =
        Connection { base_url: String::new(), infobip_key: None, octopush: None, leadconnector: None, bird_key: None };
    if let Some(sandbox) = sandbox {
        conn.base_url = sandbox.base_url(sandbox_vendor(vendor));
        match vendor {
            Vendor::Infobip => conn.infobip_key = Some(SecretString::from(credentials::INFOBIP_API_KEY)),
            Vendor::Octopush => {
                conn.octopush = Some((
                    credentials::OCTOPUSH_API_LOGIN.to_owned(),
                    SecretString::from(credentials::OCTOPUSH_API_KEY),
                ))
            }
            Vendor::Leadconnector => {
                conn.leadconnector = Some((
                    SecretString::from(credentials::LEADCONNECTOR_TOKEN),
                    env_var("LEADCONNECTOR_VERSION").unwrap_or_else(|| convo_leadconnector::DEFAULT_VERSION.to_owned()),
                ))
            }
            Vendor::Bird => conn.bird_key = Some(SecretString::from(credentials::BIRD_ACCESS_KEY)),
        }
        return Ok(conn);
    }
    conn.base_url = match args.base_url.clone().or_else(|| env_var(env_base)).or(default_base.map(str::to_owned)) {
        Some(url) => url,
        None => {
            return Err(CliError::Usage(format!(
                "{env_base} is not set: Infobip's base URL is per account (e.g. https://xxxxx.api.infobip.com); set it or pass --base-url"
            )));
        }
    };
    match vendor {
        Vendor::Infobip => conn.infobip_key = Some(env_secret("INFOBIP_API_KEY")?),
        Vendor::Octopush => {
            let key = env_secret("OCTOPUSH_API_KEY")?;
            let login = env_var("OCTOPUSH_API_LOGIN").ok_or_else(|| {
                CliError::Usage(
                    "OCTOPUSH_API_LOGIN is not set: the credential is read from the environment only".to_owned(),
                )
            })?;
            conn.octopush = Some((login, key));
        }
        Vendor::Leadconnector => {
            let token = env_secret("LEADCONNECTOR_TOKEN")?;
            let version =
                env_var("LEADCONNECTOR_VERSION").unwrap_or_else(|| convo_leadconnector::DEFAULT_VERSION.to_owned());
            conn.leadconnector = Some((token, version));
        }
        Vendor::Bird => conn.bird_key = Some(env_secret("BIRD_ACCESS_KEY")?),
    }
    Ok(conn)
}

fn sandbox_vendor(vendor: Vendor) -> convo_sandbox::SandboxVendor {
    match vendor {
        Vendor::Infobip => convo_sandbox::SandboxVendor::Infobip,
        Vendor::Octopush => convo_sandbox::SandboxVendor::Octopush,
        Vendor::Leadconnector => convo_sandbox::SandboxVendor::Leadconnector,
        Vendor::Bird => convo_sandbox::SandboxVendor::Bird,
    }
}

fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// The conversation id to use: the flag, or the sandbox's default.
fn conversation(vendor: Vendor, args: &FetchArgs) -> Option<String> {
    let other_selector = args.phone.is_some() || args.email.is_some() || args.facebook_id.is_some();
    if args.conversation.is_some() || !args.sandbox || other_selector {
        return args.conversation.clone();
    }
    let generated = args.sandbox_messages.is_some_and(|n| n > 0);
    Some(
        match (vendor, generated) {
            (Vendor::Infobip, false) => ids::infobip::SAMPLE_CONVERSATION,
            (Vendor::Infobip, true) => ids::infobip::GENERATED_CONVERSATION,
            (Vendor::Octopush, false) => ids::octopush::SAMPLE_CONVERSATION,
            (Vendor::Octopush, true) => ids::octopush::GENERATED_CONVERSATION,
            (Vendor::Leadconnector, false) => ids::leadconnector::SAMPLE_CONVERSATION,
            (Vendor::Leadconnector, true) => ids::leadconnector::GENERATED_CONVERSATION,
            (Vendor::Bird, false) => ids::bird::SAMPLE_CONVERSATION,
            (Vendor::Bird, true) => ids::bird::GENERATED_CONVERSATION,
        }
        .to_owned(),
    )
}

fn source(vendor: Vendor, args: &FetchArgs, conn: Connection) -> Result<Source, CliError> {
    let options = ClientOptions::default();
    let need_conversation =
        || conversation(vendor, args).ok_or_else(|| usage(format!("{vendor} needs --conversation <ID>")));
    Ok(match vendor {
        Vendor::Infobip => {
            let auth = convo_infobip::Auth::AppKey(conn.infobip_key.expect("set for infobip"));
            let client = convo_infobip::Client::with_auth_and_options(&conn.base_url, auth, &options)?;
            Source::Infobip(client, convo_infobip::MessagesQuery::new(need_conversation()?))
        }
        Vendor::Octopush => {
            let (login, key) = conn.octopush.expect("set for octopush");
            let client = convo_octopush::Client::with_credentials_and_options(&conn.base_url, login, key, &options)?;
            Source::Octopush(client, octopush_query(vendor, args)?)
        }
        Vendor::Leadconnector => {
            let (token, version) = conn.leadconnector.expect("set for leadconnector");
            let client =
                convo_leadconnector::LeadConnector::with_token_and_options(&conn.base_url, token, &version, &options)?;
            Source::Leadconnector(client, convo_leadconnector::MessagesQuery::new(need_conversation()?))
        }
        Vendor::Bird => {
            let workspace = match (&args.workspace, args.sandbox) {
                (Some(w), _) => w.clone(),
                (None, true) => ids::bird::WORKSPACE.to_owned(),
                (None, false) => return Err(usage("bird needs --workspace <ID>")),
            };
            let client = convo_bird::Client::with_access_key_and_options(
                &conn.base_url,
                conn.bird_key.expect("set for bird"),
                &options,
            )?;
            Source::Bird(client, convo_bird::MessagesQuery::new(workspace, need_conversation()?))
        }
    })
}

fn octopush_query(vendor: Vendor, args: &FetchArgs) -> Result<convo_octopush::MessagesQuery, CliError> {
    let bad = |e: convo_octopush::InvalidParameter| usage(e.to_string());
    let mut query = convo_octopush::MessagesQuery::default();
    if let Some(id) = conversation(vendor, args) {
        query.conversation_id = Some(convo_octopush::ConversationId::new(id).map_err(bad)?);
    }
    if let Some(phone) = &args.phone {
        query.phone_number = Some(phone.clone());
    }
    if let Some(email) = &args.email {
        query.email = Some(email.clone());
    }
    if let Some(id) = &args.facebook_id {
        query.facebook_id = Some(convo_octopush::FacebookId::new(id.clone()).map_err(bad)?);
    }
    if query.conversation_id.is_some()
        && (query.phone_number.is_some() || query.email.is_some() || query.facebook_id.is_some())
    {
        // The API combines selectors as "all of": a conversation id with a
        // search selector that it does not match gives nothing, silently.
        return Err(usage(
            "--conversation selects one conversation; --phone, --email and --facebook-id search for conversations: give one or the other",
        ));
    }
    if query.conversation_id.is_none()
        && query.phone_number.is_none()
        && query.email.is_none()
        && query.facebook_id.is_none()
    {
        return Err(usage("octopush needs a selector: --conversation <cid_…>, --phone, --email or --facebook-id"));
    }
    Ok(query)
}

/// `convo fetch`.
pub async fn run(args: FetchArgs) -> Result<(), CliError> {
    let vendor = Vendor::from(args.vendor);
    if args.raw && matches!(args.format, Format::Csv | Format::Table) {
        return Err(usage("--raw prints the vendor's JSON: use --format ndjson or json"));
    }
    if vendor != Vendor::Octopush && (args.phone.is_some() || args.email.is_some() || args.facebook_id.is_some()) {
        return Err(usage("--phone, --email and --facebook-id select Octopush conversations only"));
    }
    let sandbox = if args.sandbox {
        let options =
            SandboxOptions { port: 0, messages: args.sandbox_messages.unwrap_or(0), ..SandboxOptions::default() };
        Some(Sandbox::start(options).await.map_err(|e| CliError::Other(format!("cannot start the sandbox: {e}")))?)
    } else {
        None
    };
    let conn = connection(vendor, &args, sandbox.as_ref())?;
    let source = source(vendor, &args, conn)?;
    let options = FetchOptions {
        paging: PagingOptions {
            page_size: args.page_size,
            concurrency: args.concurrency as usize,
            ..PagingOptions::default()
        },
        since: args.since,
    };

    let stop = Stop::install();
    let progress = Progress::new();
    let stdout = std::io::stdout().lock();
    let mut output = Output::new(args.format, std::io::BufWriter::new(stdout));
    let mut pages = convo_normalize::fetch::pages(source, options);
    let mut page_count = 0u64;
    loop {
        let page = tokio::select! {
            biased;
            () = stop.wait() => None,
            page = pages.next() => match page {
                Some(page) => Some(page),
                None => break,
            },
        };
        let page = match page {
            Some(Ok(page)) => page,
            Some(Err(e)) => {
                // What was fetched stays written; the exit code tells the rest.
                finish_quietly(output.flush())?;
                progress.finish();
                return Err(e.into());
            }
            None => return stopped(&mut output, &progress),
        };
        page_count += 1;
        for message in &page.messages {
            if stop.requested() {
                return stopped(&mut output, &progress);
            }
            if message.decode_error.is_some() {
                let number = output.count() + 1;
                let line =
                    undecodable(message, &format!("message {number} (on {})", page_name(page.position.as_ref())));
                if args.strict {
                    finish_quietly(output.flush())?;
                    progress.finish();
                    return Err(CliError::Undecodable(format!("{line} (--strict)")));
                }
                progress.suspend(|| eprintln!("convo: warning: {line}; printed with its raw JSON and `decode_error`"));
            }
            let written = if args.raw { output.raw(&message.raw) } else { output.message(message) };
            if finish_quietly(written)?.is_none() {
                return Ok(());
            }
        }
        if finish_quietly(output.flush())?.is_none() {
            return Ok(());
        }
        progress.update(output.count(), page_count);
    }
    progress.finish();
    finish_quietly(output.finish())?;
    tracing::debug!(messages = output.count(), pages = page_count, "export complete");
    Ok(())
}

/// The page a message came on, in words.
fn page_name(position: Option<&Position>) -> String {
    match position {
        Some(position) => position.to_string(),
        None => "the first page".to_owned(),
    }
}

/// One line saying which message could not be decoded, and why.
fn undecodable(message: &Message, which: &str) -> String {
    let id = match &message.id {
        Some(id) => format!("`{id}`"),
        None => "without a readable id".to_owned(),
    };
    let error = message.decode_error.as_ref().map(ToString::to_string).unwrap_or_default();
    format!("{} {which}, {id}, could not be decoded {error}", message.vendor).replace(['\n', '\r'], " ")
}

/// SIGINT or SIGTERM: the export stops between two messages, so the output
/// ends with whole lines.
///
/// Once the handlers are installed the signals no longer end the process
/// where it stands (mid-line, on a slow pipe); the export notices the
/// request before the next message and before waiting for the next page.
struct Stop {
    requested: std::sync::Arc<std::sync::atomic::AtomicBool>,
    notify: std::sync::Arc<tokio::sync::Notify>,
}

impl Stop {
    fn install() -> Self {
        let requested = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notify = std::sync::Arc::new(tokio::sync::Notify::new());
        let (flag, waker) = (requested.clone(), notify.clone());
        #[cfg(unix)]
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let interrupt = tokio::signal::ctrl_c();
        tokio::spawn(async move {
            #[cfg(unix)]
            {
                let mut terminate = terminate;
                let term = async {
                    match terminate.as_mut() {
                        Some(signal) => {
                            signal.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = interrupt => {}
                    () = term => {}
                }
            }
            #[cfg(not(unix))]
            let _ = interrupt.await;
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            waker.notify_one();
        });
        Self { requested, notify }
    }

    fn requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn wait(&self) {
        if !self.requested() {
            self.notify.notified().await;
        }
    }
}

/// Ends an export that was asked to stop: what was written is flushed.
fn stopped<W: Write>(output: &mut Output<W>, progress: &Progress) -> Result<(), CliError> {
    progress.finish();
    finish_quietly(output.flush())?;
    Err(CliError::Interrupted)
}

/// A closed pipe (`convo fetch … | head`) ends the export quietly: `None`.
fn finish_quietly<T>(result: std::io::Result<T>) -> Result<Option<T>, CliError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Progress on stderr, only when stderr is a terminal.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("a valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    fn update(&self, messages: u64, pages: u64) {
        if let Some(bar) = &self.0 {
            let seconds = bar.elapsed().as_secs_f64().max(0.001);
            bar.set_message(format!("{messages} messages, {pages} pages, {:.0} messages/s", messages as f64 / seconds));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }

    /// Runs `f` (which writes to stderr) with the bar out of the way.
    fn suspend(&self, f: impl FnOnce()) {
        match &self.0 {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

/// `convo normalize`.
pub fn normalize(args: NormalizeArgs) -> Result<(), CliError> {
    let vendor = Vendor::from(args.vendor);
    let body = match args.file.as_deref() {
        None => read_stdin()?,
        Some(path) if path.as_os_str() == "-" => read_stdin()?,
        Some(path) => std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?,
    };
    let body = match raw_messages(&body) {
        // `convo fetch … --raw` output: one vendor message a line.
        Some(messages) => page_of(vendor, messages),
        None => body,
    };
    let messages = normalize_page(vendor, &body).map_err(|e| CliError::Undecodable(e.to_string()))?;
    let stdout = std::io::stdout().lock();
    let mut output = Output::new(args.format, std::io::BufWriter::new(stdout));
    for (index, message) in messages.iter().enumerate() {
        if message.decode_error.is_some() {
            let line = undecodable(message, &format!("message {} of the page", index + 1));
            if args.strict {
                finish_quietly(output.flush())?;
                return Err(CliError::Undecodable(format!("{line} (--strict)")));
            }
            eprintln!("convo: warning: {line}; printed with its raw JSON and `decode_error`");
        }
        if finish_quietly(output.message(message))?.is_none() {
            return Ok(());
        }
    }
    finish_quietly(output.finish())?;
    let _ = std::io::stdout().flush();
    Ok(())
}

/// The messages of a body that is one JSON object a line, each a vendor
/// message (what `convo fetch --raw` prints), rather than one page: more
/// than one line, or one line that is no page envelope. `None` otherwise.
fn raw_messages(body: &[u8]) -> Option<Vec<&serde_json::value::RawValue>> {
    let text = std::str::from_utf8(body).ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let objects: Vec<&serde_json::value::RawValue> =
        lines.iter().map(|l| serde_json::from_str::<&serde_json::value::RawValue>(l).ok()).collect::<Option<_>>()?;
    if objects.is_empty() || !objects.iter().all(|o| o.get().starts_with('{')) {
        return None;
    }
    if objects.len() == 1 {
        // One line: a page envelope (compact) stays a page.
        let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(objects[0].get()).ok()?;
        if ["messages", "results", "pagination", "nextPageToken", "lastMessageId"].iter().any(|k| keys.contains_key(*k))
        {
            return None;
        }
    }
    Some(objects)
}

/// Raw vendor messages in the vendor's page envelope.
fn page_of(vendor: Vendor, messages: Vec<&serde_json::value::RawValue>) -> Vec<u8> {
    let list = format!("[{}]", messages.iter().map(|m| m.get()).collect::<Vec<_>>().join(","));
    match vendor {
        Vendor::Octopush => list.into_bytes(),
        Vendor::Infobip => format!(r#"{{"messages":{list}}}"#).into_bytes(),
        Vendor::Leadconnector => format!(r#"{{"messages":{list},"nextPage":false}}"#).into_bytes(),
        Vendor::Bird => format!(r#"{{"results":{list}}}"#).into_bytes(),
    }
}

fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body).map_err(|e| usage(format!("cannot read stdin: {e}")))?;
    Ok(body)
}
