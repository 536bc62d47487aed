//! `convo sync`: many conversations of one vendor, under one rate budget,
//! checkpointed in a state file.

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::Duration;

use convo_normalize::Vendor;
use convo_normalize::fetch::{ClientOptions, ErrorKind, RateBudget, RetryPolicy, Selector, Source};
use convo_sandbox::{Sandbox, SandboxOptions, ids};
use convo_sync::{
    Conversation, ConversationError, Directory, Event, FileStore, MemoryStore, MergedNdjson, Sink, StateStore, Summary,
    SyncOptions,
};

use crate::args::SyncArgs;
use crate::error::CliError;
use crate::fetch::{Stop, source_error, usage, variables};

/// `convo sync`.
pub async fn run(args: SyncArgs) -> Result<(), CliError> {
    let vendor = args.vendor;
    let sandbox = if args.sandbox {
        let options = SandboxOptions {
            port: 0,
            messages: args.sandbox_messages,
            conversations: args.sandbox_conversations,
            rate_limit: args
                .sandbox_rate_limit
                .map(|requests| convo_sandbox::RateLimit { requests, per: Duration::from_secs(1) }),
            ..SandboxOptions::default()
        };
        Some(Sandbox::start(options).await.map_err(|e| crate::error::sandbox_failed(e, ""))?)
    } else {
        None
    };
    let ids = conversation_ids(&args)?;
    let workspace = match (&args.workspace, args.sandbox) {
        (Some(w), _) => Some(w.clone()),
        (None, true) => ids::workspace(vendor).map(str::to_owned),
        (None, false) => None,
    };
    let budget = budget(vendor, args.requests_per_second);
    let conversations = sources(vendor, &ids, workspace.as_deref(), &args, sandbox.as_ref(), &budget)?;
    let scope = match &workspace {
        Some(workspace) if vendor == Vendor::Bird => format!("{vendor}/{workspace}"),
        _ => vendor.to_string(),
    };
    if let (Some(state), Some(dir)) = (&args.state, &args.out_dir) {
        state_apart(state, dir, &ids)?;
    }
    let mut store: Box<dyn StateStore> = match &args.state {
        Some(path) => Box::new(FileStore::open(path, scope).map_err(|e| usage(e.to_string()))?),
        None => Box::new(MemoryStore::default()),
    };
    if args.restart {
        for key in &ids {
            let restarted = store.get(key).unwrap_or_default().restart();
            store.put(key, restarted);
        }
        store.flush().map_err(|e| CliError::Other(e.to_string()))?;
    }
    let mut sink: Box<dyn Sink> = match &args.out_dir {
        Some(dir) => Box::new(
            Directory::new(dir).map_err(|e| usage(format!("cannot write to --out-dir {}: {e}", dir.display())))?,
        ),
        None => Box::new(MergedNdjson::new(std::io::BufWriter::new(std::io::stdout().lock()))),
    };
    let progress = Progress::new(conversations.len(), budget.clone());
    let options = SyncOptions {
        concurrency: args.concurrency as usize,
        page_size: args.page_size,
        retry: RetryPolicy { on_retry: progress.on_retry(), ..RetryPolicy::default() },
        budget: Some(budget),
    };
    let stop = Stop::install();
    let result = convo_sync::sync(
        conversations,
        store.as_mut(),
        sink.as_mut(),
        options,
        |event| progress.event(vendor, &event),
        stop.wait(),
    )
    .await;
    progress.finish();
    let summary = match result {
        Ok(summary) => summary,
        Err(convo_sync::SyncError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) => return Err(CliError::Other(e.to_string())),
    };
    report(vendor, &summary, args.state.as_deref());
    if summary.interrupted {
        return Err(CliError::Interrupted);
    }
    match summary.failed.first() {
        None => Ok(()),
        Some((key, error)) => Err(failure(key, error, summary.failed.len())),
    }
}

/// The budget every conversation shares: the flag's, else one within the
/// vendor's documented limit, else none of its own (429s still pause it).
fn budget(vendor: Vendor, requests_per_second: Option<u32>) -> RateBudget {
    match (requests_per_second, vendor.rate_limit()) {
        (Some(n), _) => RateBudget::new(n, Duration::from_secs(1), (n / 5).max(1)),
        (None, Some(limit)) => RateBudget::new(limit.requests, limit.per, limit.burst),
        (None, None) => RateBudget::unlimited(),
    }
}

/// The conversation ids: the file's (or stdin's), or the sandbox's numbered
/// ones. A repeated id is read once.
fn conversation_ids(args: &SyncArgs) -> Result<Vec<String>, CliError> {
    let lines: Vec<String> = match &args.conversations {
        Some(path) if path.as_os_str() == "-" => read_lines(std::io::stdin().lock(), Path::new("stdin"))?,
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| usage(format!("cannot read --conversations {}: {e}", path.display())))?;
            read_lines(std::io::BufReader::new(file), path)?
        }
        None if args.sandbox => (0..args.sandbox_conversations).map(|n| ids::numbered(args.vendor, n)).collect(),
        None => return Err(usage("convo sync needs --conversations FILE (one id a line; `-` for stdin)")),
    };
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::with_capacity(lines.len());
    for id in lines {
        if seen.insert(id.clone()) {
            ids.push(id);
        } else {
            eprintln!("convo: warning: conversation {id} is listed more than once; it is read once");
        }
    }
    if ids.is_empty() {
        return Err(usage("--conversations lists no conversation"));
    }
    Ok(ids)
}

/// The state file (and its lock) must not be a conversation's output file:
/// each save of the state would overwrite the messages written there.
fn state_apart(state: &Path, dir: &Path, ids: &[String]) -> Result<(), CliError> {
    /// `path` made absolute, through the links of the part that exists.
    fn resolved(path: &Path) -> Option<std::path::PathBuf> {
        if let Ok(path) = path.canonicalize() {
            return Some(path);
        }
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Some(resolved(parent)?.join(path.file_name()?))
    }
    let (Some(dir), Some(state)) = (resolved(dir), resolved(state)) else { return Ok(()) };
    let lock = state.with_file_name(format!("{}.lock", state.file_name().unwrap_or_default().to_string_lossy()));
    match ids.iter().find(|id| {
        let output = dir.join(convo_sync::file_name(id));
        output == state || output == lock
    }) {
        Some(id) => Err(usage(format!(
            "--state {} is conversation {id}'s output file in --out-dir: give the state a file of its own",
            state.display()
        ))),
        None => Ok(()),
    }
}

fn read_lines(reader: impl BufRead, name: &Path) -> Result<Vec<String>, CliError> {
    let mut ids = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| usage(format!("cannot read --conversations {}: {e}", name.display())))?;
        // A byte-order mark (a list saved by Notepad, or as Excel's "CSV
        // UTF-8") is not part of the first id.
        let line = if n == 0 { line.trim_start_matches('\u{feff}') } else { &line };
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            ids.push(line.to_owned());
        }
    }
    Ok(ids)
}

/// One source per conversation, all sharing the first one's client (its
/// connections and the budget).
fn sources(
    vendor: Vendor,
    ids: &[String],
    workspace: Option<&str>,
    args: &SyncArgs,
    sandbox: Option<&Sandbox>,
    budget: &RateBudget,
) -> Result<Vec<Conversation>, CliError> {
    let selector = |id: &str| Selector {
        conversation: Some(id.to_owned()),
        workspace: workspace.map(str::to_owned),
        ..Selector::default()
    };
    let vars = variables(vendor, args.base_url.clone(), sandbox)?;
    let options = ClientOptions { rate_budget: Some(budget.clone()), ..ClientOptions::default() };
    let named = |id: &str, e: CliError| match e {
        CliError::Usage(m) => usage(format!("conversation `{id}`: {m}")),
        other => other,
    };
    let first = Source::from_vars(vendor, &selector(&ids[0]), vars, &options)
        .map_err(|e| named(&ids[0], source_error(vendor, e)))?;
    let mut conversations = Vec::with_capacity(ids.len());
    for id in &ids[1..] {
        let source = first.other(&selector(id)).map_err(|e| named(id, source_error(vendor, e)))?;
        conversations.push(Conversation { key: id.clone(), source });
    }
    conversations.insert(0, Conversation { key: ids[0].clone(), source: first });
    Ok(conversations)
}

/// The exit code of a sync with failed conversations: the first one's, as
/// `convo fetch` would have exited on it.
fn failure(key: &str, error: &ConversationError, failed: usize) -> CliError {
    let others = match failed {
        1 => String::new(),
        n => format!(" (and {} more; see above)", n - 1),
    };
    let message = format!("conversation {key} failed: {error}{others}");
    match error.kind() {
        ErrorKind::Auth => CliError::Auth(message),
        ErrorKind::NotFound => CliError::NotFound(message),
        ErrorKind::Undecodable => CliError::Undecodable(message),
        ErrorKind::InvalidQuery => CliError::Usage(message),
        _ => CliError::Other(message),
    }
}

/// The summary line on stderr.
fn report(vendor: Vendor, summary: &Summary, state: Option<&Path>) {
    let budget = &summary.budget;
    let mut line = format!(
        "convo: {vendor}: {} of {} conversations read to their end ({} with nothing new), {} failed; {} messages written",
        summary.complete,
        summary.conversations,
        summary.unchanged,
        summary.failed.len(),
        summary.messages,
    );
    if summary.undecodable > 0 {
        line.push_str(&format!(
            " ({} could not be decoded: written with their raw JSON and `decode_error`)",
            summary.undecodable
        ));
    }
    line.push_str(&format!(
        "; {} requests, {} answered 429, {:.1} s waiting on the rate budget; {:.1} s",
        budget.requests,
        budget.rate_limited,
        budget.waited.as_secs_f64(),
        summary.elapsed.as_secs_f64()
    ));
    eprintln!("{line}");
    if summary.interrupted || !summary.failed.is_empty() {
        match state {
            Some(state) => eprintln!(
                "convo: the same command goes on where each conversation stopped (checkpoints in {})",
                state.display()
            ),
            None => eprintln!("convo: without --state nothing was kept: a rerun reads every conversation again"),
        }
    }
}

/// Progress across conversations on stderr, only when stderr is a terminal;
/// failures are always reported, one line each.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    budget: RateBudget,
}

impl Progress {
    fn new(conversations: usize, budget: RateBudget) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(conversations as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} conversations, {msg} [{elapsed}, ETA {eta}]",
                )
                .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, budget }
    }

    fn event(&self, vendor: Vendor, event: &Event<'_>) {
        match event {
            Event::Failed { conversation, error } => {
                let line = format!("convo: conversation {conversation} failed: {error}").replace(['\n', '\r'], " ");
                match &self.bar {
                    Some(bar) => bar.suspend(|| eprintln!("{line}")),
                    None => eprintln!("{line}"),
                }
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::Page { conversation, undecodable, .. } if *undecodable > 0 => {
                let line = format!(
                    "convo: warning: {vendor} conversation {conversation}: {undecodable} message(s) could not be decoded; written with their raw JSON and `decode_error`"
                );
                match &self.bar {
                    Some(bar) => bar.suspend(|| eprintln!("{line}")),
                    None => eprintln!("{line}"),
                }
            }
            Event::Complete { .. } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            _ => {}
        }
        if let Some(bar) = &self.bar {
            let stats = self.budget.stats();
            bar.set_message(format!("{} requests, {} answered 429", stats.requests, stats.rate_limited));
        }
    }

    /// Shows each retry's wait on the bar.
    fn on_retry(&self) -> Option<convo_normalize::fetch::OnRetry> {
        let bar = self.bar.clone()?;
        Some(convo_normalize::fetch::OnRetry::new(move |notice| bar.set_message(notice.to_string())))
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
