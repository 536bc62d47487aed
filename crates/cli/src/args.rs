use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use convo_normalize::Vendor;

/// Fetch, normalize and export conversations from Infobip, Octopush,
/// LeadConnector and Bird.
///
/// Credentials come from the environment only: INFOBIP_API_KEY,
/// OCTOPUSH_API_KEY + OCTOPUSH_API_LOGIN, LEADCONNECTOR_TOKEN (+ optional
/// LEADCONNECTOR_VERSION), BIRD_ACCESS_KEY. Try it without any with
/// `convo fetch bird --sandbox`.
#[derive(Debug, Parser)]
#[command(name = "convo", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stream every message of one conversation, normalized, to stdout.
    Fetch(Box<FetchArgs>),
    /// Read many conversations of a vendor at once, under one rate budget,
    /// with a state file that makes reruns resume and read only what is new.
    Sync(Box<SyncArgs>),
    /// Normalize one raw response body of a vendor (a page captured elsewhere).
    Normalize(NormalizeArgs),
    /// Run the sandbox: all four vendors' endpoints on 127.0.0.1, no credentials of yours needed.
    Sandbox(SandboxArgs),
    /// Print the JSON Schema of the normalized message.
    Schema,
}

/// The vendors, as the registry names them (aliases included), each with
/// the order its messages come in, for `--help`.
fn vendor_parser() -> impl clap::builder::TypedValueParser<Value = Vendor> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values = Vendor::ALL.map(|vendor| {
        let help = format!("{}: {}", vendor.display_name(), vendor.order());
        PossibleValue::new(vendor.as_str()).aliases(vendor.aliases().iter().copied()).help(help)
    });
    PossibleValuesParser::new(values).try_map(|name| name.parse::<Vendor>())
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON message a line (the schema of `convo schema`).
    Ndjson,
    /// One JSON array.
    Json,
    /// Flat columns, one message a row. A cell a spreadsheet would run as a
    /// formula (one starting with `=`, `@`, a tab, a carriage return, or `+`
    /// or `-` before anything but a number) is written with a leading `'`.
    Csv,
    /// Aligned columns for a person.
    Table,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The vendor to read from.
    #[arg(value_parser = vendor_parser())]
    pub vendor: Vendor,
    /// The conversation id (Octopush: the `cid_…` conversation id). With
    /// --sandbox, defaults to the sandbox's documented sample (or its
    /// generated conversation with --sandbox-messages).
    #[arg(long)]
    pub conversation: Option<String>,
    /// Bird's workspace id (required for Bird, except with --sandbox).
    #[arg(long)]
    pub workspace: Option<String>,
    /// Octopush: select the conversation by phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// Octopush: select the conversation by the contact's e-mail address.
    #[arg(long)]
    pub email: Option<String>,
    /// Octopush: select the Facebook conversation (`fid_…`).
    #[arg(long)]
    pub facebook_id: Option<String>,
    /// Bird: the reverse of Bird's default order (Bird's `reverse`).
    #[arg(long)]
    pub reverse: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub format: Format,
    /// Only messages created at or after this time: RFC 3339
    /// (2024-11-25T08:30:00Z) or a date (2024-11-25, midnight UTC).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Messages per page (default: the largest the vendor allows).
    #[arg(long, value_parser = parse_page_size)]
    pub page_size: Option<u64>,
    /// Requests in flight at once where the vendor's paging allows it:
    /// Infobip reads the rest of a long conversation in this many time
    /// windows at once (each window costs one request more, the one that
    /// ends it; 1 reads one page after another). The cursor and page-number
    /// vendors always read one page after another: each request depends on
    /// the page before it.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub concurrency: u64,
    /// Go on where an earlier export stopped: the token it printed
    /// ("run the same command with --resume …"). With the same other flags,
    /// every message is written exactly once across the runs.
    #[arg(long, value_parser = convo_sync::Resume::parse)]
    pub resume: Option<convo_sync::Resume>,
    /// Print the vendor's messages exactly as they came, one JSON document a
    /// line, instead of normalized ones.
    #[arg(long)]
    pub raw: bool,
    /// The vendor's base URL (also read from INFOBIP_BASE_URL, OCTOPUSH_BASE_URL,
    /// LEADCONNECTOR_BASE_URL, BIRD_BASE_URL).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Start the sandbox in-process and fetch from it, with its own keys.
    #[arg(long, conflicts_with = "base_url")]
    pub sandbox: bool,
    /// With --sandbox: the size of the sandbox's generated conversation,
    /// which then becomes the default conversation.
    #[arg(long, requires = "sandbox")]
    pub sandbox_messages: Option<usize>,
    /// A message that cannot be decoded ends the export with exit code 6,
    /// after the messages before it. Without it, such a message is printed
    /// (with its raw JSON and `decode_error`), a warning line goes to
    /// stderr, and the export goes on.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The vendor to read from.
    #[arg(value_parser = vendor_parser())]
    pub vendor: Vendor,
    /// A file of conversation ids, one a line (`-`: stdin; empty lines and
    /// lines starting with `#` are skipped; Octopush: `cid_…` ids). With
    /// --sandbox, defaults to the sandbox's numbered conversations.
    #[arg(long)]
    pub conversations: Option<PathBuf>,
    /// Bird's workspace id, for every conversation (required for Bird,
    /// except with --sandbox).
    #[arg(long)]
    pub workspace: Option<String>,
    /// The state file: each conversation's checkpoint, saved as pages are
    /// written. A rerun with it goes on where each conversation stopped and
    /// reads only what is new of those read to their end. Without it,
    /// every conversation is read from the start and nothing is kept.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Write one NDJSON file per conversation under this directory
    /// (`<id>.ndjson`, appended to by later runs) instead of one merged
    /// NDJSON stream on stdout (each line `{"conversation", "message"}`).
    /// With --state, a run killed at any point and run again leaves every
    /// message in its file exactly once.
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Read the listed conversations again from their start, as if the
    /// state had never seen them: their checkpoints are dropped and their
    /// files under --out-dir emptied before they are written again. The way
    /// on for a conversation whose checkpoint no longer holds (its listing
    /// changed where the last run stopped).
    #[arg(long, requires = "state")]
    pub restart: bool,
    /// Conversations read at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub concurrency: u64,
    /// Requests a second, shared by every conversation (default: within the
    /// vendor's documented limit: LeadConnector 95 per 10 s, Bird 50 per s;
    /// Infobip and Octopush document none, so none is set and their 429s are
    /// waited out).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub requests_per_second: Option<u32>,
    /// Messages per page (default: the largest the vendor allows).
    #[arg(long, value_parser = parse_page_size)]
    pub page_size: Option<u64>,
    /// The vendor's base URL (also read from the vendor's `<VENDOR>_BASE_URL`).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Start the sandbox in-process and sync from it, with its own keys.
    #[arg(long, conflicts_with = "base_url")]
    pub sandbox: bool,
    /// With --sandbox: how many numbered conversations it serves.
    #[arg(long, requires = "sandbox", default_value_t = 20)]
    pub sandbox_conversations: usize,
    /// With --sandbox: the size of each of its conversations.
    #[arg(long, requires = "sandbox", default_value_t = 250)]
    pub sandbox_messages: usize,
    /// With --sandbox: the sandbox answers 429 beyond this many requests a
    /// second (with the vendor's headers).
    #[arg(long, requires = "sandbox")]
    pub sandbox_rate_limit: Option<u32>,
}

#[derive(Debug, Args)]
pub struct NormalizeArgs {
    /// The vendor whose response body this is.
    #[arg(value_parser = vendor_parser())]
    pub vendor: Vendor,
    /// The file holding the body; stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    pub format: Format,
    /// A message that cannot be decoded is fatal (exit code 6), after the
    /// messages before it. Without it, such a message is printed (with its
    /// raw JSON and `decode_error`), with a warning line on stderr.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// The size of the generated conversation served per vendor.
    #[arg(long, default_value_t = 0)]
    pub messages: usize,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        format!("`{text}` is neither an RFC 3339 time ({e}) nor a date; e.g. 2024-11-25T08:30:00Z or 2024-11-25")
    })
}

fn parse_page_size(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("a page holds at least 1 message".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number of messages")),
    }
}
