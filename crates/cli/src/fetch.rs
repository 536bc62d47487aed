use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

use futures::StreamExt;

use convo_normalize::fetch::{
    ClientOptions, ConfigError, ErrorKind, FetchOptions, Needed, OnRetry, PagingOptions, Position, RetryPolicy,
    Selector, Source, SourceError, Unused,
};
use convo_normalize::{Message, Vendor, normalize_page};
use convo_sandbox::{Sandbox, SandboxOptions, ids};

use crate::args::{FetchArgs, Format, NormalizeArgs};
use crate::error::CliError;
use crate::output::Output;
use convo_sync::{Resume, Tracker};

pub(crate) fn usage(message: impl Into<String>) -> CliError {
    CliError::Usage(message.into())
}

/// The conversation id to use: the flag, or the sandbox's default.
fn conversation(vendor: Vendor, args: &FetchArgs) -> Option<String> {
    let other_selector = args.phone.is_some() || args.email.is_some() || args.facebook_id.is_some();
    if args.conversation.is_some() || !args.sandbox || other_selector {
        return args.conversation.clone();
    }
    let generated = args.sandbox_messages.is_some_and(|n| n > 0);
    Some(if generated { ids::generated(vendor) } else { ids::sample(vendor) }.to_owned())
}

/// The conversation to read, built by `convo-normalize` from the flags and
/// the variables the vendor's client reads (`Client::from_env`): the
/// environment, with `--base-url` in place of `<VENDOR>_BASE_URL`, or, with
/// `--sandbox`, the sandbox's address and its own keys.
fn source(vendor: Vendor, args: &FetchArgs, sandbox: Option<&Sandbox>) -> Result<Source, CliError> {
    let workspace = match (&args.workspace, args.sandbox) {
        (Some(w), _) => Some(w.clone()),
        (None, true) => ids::workspace(vendor).map(str::to_owned),
        (None, false) => None,
    };
    let selector = Selector {
        conversation: conversation(vendor, args),
        workspace,
        phone: args.phone.clone(),
        email: args.email.clone(),
        facebook_id: args.facebook_id.clone(),
        reverse: args.reverse,
    };
    let vars = variables(vendor, args.base_url.clone(), sandbox)?;
    Source::from_vars(vendor, &selector, vars, &ClientOptions::default()).map_err(|e| source_error(vendor, e))
}

/// The variables a vendor's client reads: the sandbox answers its base URL
/// and keys; `--base-url` stands for the base URL's variable; anything else
/// (LEADCONNECTOR_VERSION) comes from the environment.
///
/// A base URL that was given but cannot be used (`--base-url ""`, as
/// `--base-url "$UNSET"` gives it; the variable set but blank, or not
/// UTF-8) is refused, never taken for "not given", which would send the
/// credential to the vendor's production host.
pub(crate) fn variables(
    vendor: Vendor,
    base_url: Option<String>,
    sandbox: Option<&Sandbox>,
) -> Result<impl Fn(&str) -> Option<String> + use<'_>, CliError> {
    let base_variable = vendor.variables().base_url;
    if sandbox.is_none() {
        if base_url.as_deref().is_some_and(|url| url.trim().is_empty()) {
            return Err(usage("--base-url is empty: give the vendor's base URL, or leave the flag out"));
        }
        match std::env::var(base_variable) {
            Err(std::env::VarError::NotUnicode(_)) if base_url.is_none() => {
                return Err(usage(format!("{base_variable} is not valid UTF-8")));
            }
            Ok(url) if base_url.is_none() && url.trim().is_empty() => {
                return Err(usage(format!(
                    "{base_variable} is set but empty: unset it for the vendor's own base URL, or give one"
                )));
            }
            _ => {}
        }
    }
    let sandbox_vars = sandbox.map(|s| s.vars(vendor));
    Ok(move |name: &str| -> Option<String> {
        sandbox_vars
            .as_ref()
            .and_then(|vars| vars(name))
            .or_else(|| base_url.clone().filter(|_| name == base_variable))
            .or_else(|| std::env::var(name).ok())
    })
}

/// A source that could not be made, in the CLI's words (its flags).
pub(crate) fn source_error(vendor: Vendor, error: SourceError) -> CliError {
    match error {
        SourceError::Missing { needed: Needed::Conversation, .. } => {
            usage(format!("{vendor} needs --conversation <ID>"))
        }
        SourceError::Missing { needed: Needed::Workspace, .. } => usage(format!("{vendor} needs --workspace <ID>")),
        SourceError::Missing { needed: Needed::ConversationOrSearch, .. } => {
            usage(format!("{vendor} needs a selector: --conversation <cid_…>, --phone, --email or --facebook-id"))
        }
        SourceError::Unused { selector: Unused::Search, .. } => {
            usage("--phone, --email and --facebook-id select Octopush conversations only")
        }
        SourceError::Unused { selector: Unused::Workspace, .. } => usage("--workspace is Bird's only"),
        SourceError::Unused { selector: Unused::Reverse, .. } => usage("--reverse is Bird's only"),
        SourceError::IdAndSearch => usage(
            "--conversation selects one conversation; --phone, --email and --facebook-id search for conversations: give one or the other",
        ),
        SourceError::Config(ConfigError::MissingVariable { variable }) if variable == vendor.variables().base_url => {
            usage(format!(
                "{variable} is not set: {}'s base URL is per account (e.g. https://xxxxx.api.infobip.com); set it or pass --base-url",
                vendor.display_name()
            ))
        }
        SourceError::Config(ConfigError::MissingVariable { variable }) => {
            usage(format!("{variable} is not set: the credential is read from the environment only"))
        }
        SourceError::Config(e) => e.into(),
        other => usage(other.to_string()),
    }
}

/// `convo fetch`.
pub async fn run(args: FetchArgs) -> Result<(), CliError> {
    let vendor = args.vendor;
    if args.raw && matches!(args.format, Format::Csv | Format::Table) {
        return Err(usage("--raw prints the vendor's JSON: use --format ndjson or json"));
    }
    let sandbox = if args.sandbox {
        let options =
            SandboxOptions { port: 0, messages: args.sandbox_messages.unwrap_or(0), ..SandboxOptions::default() };
        Some(Sandbox::start(options).await.map_err(|e| crate::error::sandbox_failed(e, ""))?)
    } else {
        None
    };
    let read = read_of(&args);
    if let Some(resume) = &args.resume
        && resume.read.is_none()
    {
        // Printed before tokens named their read: which conversation and
        // flags it goes on cannot be checked, and another's would write a
        // wrong set with success.
        return Err(usage(
            "--resume: this token does not say which read printed it (an older convo printed it), so it cannot be checked to go on the same conversation with the same flags; export the conversation again from the start",
        ));
    }
    if let Some(resume) = &args.resume
        && resume.read.as_ref().is_some_and(|printed_by| *printed_by != read)
    {
        return Err(usage(
            "--resume: this token was printed by another read (another vendor, conversation, selector, --workspace, --reverse, --since or sandbox): it goes on only the read that printed it, with the same flags",
        ));
    }
    if let Some(resume) = &args.resume
        && resume.page_size != args.page_size
    {
        let size = |s: Option<u64>| s.map_or("the vendor's default".to_owned(), |n| format!("--page-size {n}"));
        return Err(usage(format!(
            "--resume: this token counts in pages of {}, not {}: a position is a page of that size; go on with the same",
            size(resume.page_size),
            size(args.page_size)
        )));
    }
    let source = source(vendor, &args, sandbox.as_ref())?;
    let stop = Stop::install();
    let progress = Progress::new();
    // A page number counts pages of the size the vendor served: a read that
    // goes on from one asks for that size.
    let page_size = match &args.resume {
        Some(Resume { page: Some(page), served_page_size: Some(served), .. })
            if *served > 0 && page.page_number().is_some() =>
        {
            Some(*served)
        }
        _ => args.page_size,
    };
    let options = FetchOptions {
        paging: PagingOptions {
            page_size,
            concurrency: args.concurrency as usize,
            // On a terminal, a wait shows on the progress line.
            retry: RetryPolicy { on_retry: progress.on_retry(), ..RetryPolicy::default() },
            resume: args.resume.as_ref().and_then(|r| r.page.clone()),
        },
        since: args.since,
    };
    let stdout = std::io::stdout().lock();
    let mut output = Output::new(args.format, std::io::BufWriter::with_capacity(crate::output::BUFFER, stdout));
    let mut pages = convo_normalize::fetch::pages(source, options);
    let mut page_count = 0u64;
    let mut tracker = Tracker::default();
    let mut resuming = args.resume.clone();
    let mut served = args.resume.as_ref().and_then(|r| r.served_page_size);
    loop {
        let page = tokio::select! {
            biased;
            () = stop.wait() => None,
            page = pages.next() => match page {
                Some(page) => Some(page),
                None => break,
            },
        };
        let mut page = match page {
            Some(Ok(page)) => page,
            Some(Err(e)) => {
                // What was fetched stays written; the exit code tells the
                // rest, and the token goes on after it (unless the listing
                // itself could not be read exactly once: then only a new
                // read from the start is sound).
                finish_quietly(output.flush())?;
                progress.finish();
                let resumable = !matches!(e.kind(), ErrorKind::Listing | ErrorKind::InvalidQuery);
                let token = tracker.resume().filter(|_| resumable).map(|r| token(r, &read, args.page_size, served));
                return Err(CliError::from(e).resumable(token));
            }
            None => return stopped(&mut output, &progress, &tracker, &read, args.page_size, served),
        };
        if page.next.is_some() {
            let held = page.messages.len() as u64;
            served = Some(served.map_or(held, |most| most.max(held)));
        }
        if let Some(resume) = resuming.take() {
            resume.skip_written(&mut page.messages).map_err(CliError::Other)?;
        }
        page_count += 1;
        tracker.page(page.position.clone(), page.next.clone(), page.messages.len());
        for message in &page.messages {
            if stop.requested() {
                return stopped(&mut output, &progress, &tracker, &read, args.page_size, served);
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
            tracker.wrote(message);
        }
        if finish_quietly(output.flush())?.is_none() {
            return Ok(());
        }
        tracker.page_done();
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
/// The flag is set in the signal handler itself (`signal-hook`), so it
/// holds on the one-thread runtime too, where no task runs while a page is
/// being written; the task only wakes a read waiting for its next page.
pub(crate) struct Stop {
    requested: std::sync::Arc<std::sync::atomic::AtomicBool>,
    notify: std::sync::Arc<tokio::sync::Notify>,
}

impl Stop {
    pub(crate) fn install() -> Self {
        let requested = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let notify = std::sync::Arc::new(tokio::sync::Notify::new());
        let (flag, waker) = (requested.clone(), notify.clone());
        #[cfg(unix)]
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Cannot fail for these two (only the signals the process may
            // not catch are refused); the task below still sets the flag.
            let _ = signal_hook::flag::register(signal, requested.clone());
        }
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

    pub(crate) fn requested(&self) -> bool {
        self.requested.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(crate) async fn wait(&self) {
        if !self.requested() {
            self.notify.notified().await;
        }
    }
}

/// Ends an export that was asked to stop: what was written is flushed, and
/// the token says where to go on.
fn stopped<W: Write>(
    output: &mut Output<W>,
    progress: &Progress,
    tracker: &Tracker,
    read: &str,
    page_size: Option<u64>,
    served: Option<u64>,
) -> Result<(), CliError> {
    progress.finish();
    finish_quietly(output.flush())?;
    Err(CliError::Interrupted.resumable(tracker.resume().map(|r| token(r, read, page_size, served))))
}

/// The `--resume` token of a position of `read`, in pages of `page_size`
/// (as asked), of which the vendor served at most `served`.
fn token(resume: Resume, read: &str, page_size: Option<u64>, served: Option<u64>) -> String {
    Resume { page_size, served_page_size: served, read: Some(read.to_owned()), ..resume }.token()
}

/// What identifies the read `args` ask for: the vendor and every flag that
/// chooses which messages it lists (not the base URL: the sandbox's port
/// changes from run to run, and an account's host may be spelled two ways).
fn read_of(args: &FetchArgs) -> String {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let since = args.since.map(|since| since.to_rfc3339()).unwrap_or_default();
    let sandbox = if args.sandbox { format!("sandbox {:?}", args.sandbox_messages) } else { String::new() };
    Resume::read_of(&[
        args.vendor.as_str(),
        &text(&args.conversation),
        &text(&args.workspace),
        &text(&args.phone),
        &text(&args.email),
        &text(&args.facebook_id),
        if args.reverse { "reverse" } else { "" },
        &since,
        &sandbox,
    ])
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

    /// Shows each retry's wait on the bar ("rate limited; retrying in 3 s").
    fn on_retry(&self) -> Option<OnRetry> {
        let bar = self.0.clone()?;
        Some(OnRetry::new(move |notice| bar.set_message(notice.to_string())))
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
    let vendor = args.vendor;
    let body = match args.file.as_deref() {
        None => read_stdin()?,
        Some(path) if path.as_os_str() == "-" => read_stdin()?,
        Some(path) => std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?,
    };
    let body = match raw_messages(&body) {
        // `convo fetch … --raw` output: one vendor message a line.
        Some(messages) => convo_normalize::page_of_messages(vendor, &messages),
        None => body,
    };
    let messages = normalize_page(vendor, &body).map_err(|e| CliError::Undecodable(e.to_string()))?;
    let stdout = std::io::stdout().lock();
    let mut output = Output::new(args.format, std::io::BufWriter::with_capacity(crate::output::BUFFER, stdout));
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
/// message (what `convo fetch --raw` prints), rather than one page or
/// more: no line is a page envelope. `None` otherwise.
fn raw_messages(body: &[u8]) -> Option<Vec<&serde_json::value::RawValue>> {
    let text = std::str::from_utf8(body).ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let objects: Vec<&serde_json::value::RawValue> =
        lines.iter().map(|l| serde_json::from_str::<&serde_json::value::RawValue>(l).ok()).collect::<Option<_>>()?;
    if objects.is_empty() || !objects.iter().all(|o| o.get().starts_with('{')) {
        return None;
    }
    // A line that is a page envelope (compact): the body is pages, not
    // messages (more than one is then refused as not a page); so is one
    // line alone whose keys cannot be read (a page too deep or odd for a
    // map; among several lines such a line is an odd message).
    let envelope = |object: &serde_json::value::RawValue| {
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(object.get()).map_or(
            objects.len() == 1,
            |keys| {
                ["messages", "results", "pagination", "nextPageToken", "lastMessageId"]
                    .iter()
                    .any(|k| keys.contains_key(*k))
            },
        )
    };
    if objects.iter().any(|object| envelope(object)) {
        return None;
    }
    Some(objects)
}

fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body).map_err(|e| usage(format!("cannot read stdin: {e}")))?;
    Ok(body)
}
