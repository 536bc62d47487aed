//! The output formats. Every writer streams: a message is written as soon
//! as its page arrives, never buffered to the end.

use std::io::Write;

use convo_normalize::{Message, Participant};
use serde_json::value::RawValue;

use crate::args::Format;

pub struct Output<W: Write> {
    format: Format,
    out: W,
    count: u64,
    /// The line being written (ndjson), kept from one message to the next.
    line: Vec<u8>,
}

const CSV_COLUMNS: [&str; 19] = [
    "vendor",
    "id",
    "conversation_id",
    "channel",
    "direction",
    "kind",
    "created_at",
    "updated_at",
    "status",
    "sender_id",
    "sender_address",
    "sender_name",
    "sender_role",
    "recipients",
    "text",
    "subject",
    "attachments",
    "content_type",
    "attachment_count",
];

impl<W: Write> Output<W> {
    pub fn new(format: Format, out: W) -> Self {
        Self { format, out, count: 0, line: Vec::new() }
    }

    /// One normalized message.
    pub fn message(&mut self, message: &Message) -> std::io::Result<()> {
        match self.format {
            Format::Ndjson => {
                self.line.clear();
                serde_json::to_writer(&mut self.line, message)?;
                write_line(&mut self.out, &self.line)?;
            }
            Format::Json => {
                self.out.write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer(&mut self.out, message)?;
            }
            Format::Csv => {
                if self.count == 0 {
                    self.out.write_all(&csv_line(&CSV_COLUMNS.map(str::to_owned))?)?;
                }
                self.out.write_all(&csv_line(&csv_row(message))?)?;
            }
            Format::Table => {
                if self.count == 0 {
                    self.table_header()?;
                }
                writeln!(self.out, "{}", table_row(message))?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// One vendor message exactly as it came (`--raw`): JSON formats only.
    pub fn raw(&mut self, raw: &RawValue) -> std::io::Result<()> {
        match self.format {
            Format::Json => {
                self.out.write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
                self.out.write_all(raw.get().as_bytes())?;
            }
            _ => write_line(&mut self.out, raw.get().as_bytes())?,
        }
        self.count += 1;
        Ok(())
    }

    /// Pushes what was written so far out (after every page), so a later
    /// failure never hides messages already fetched.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Ends a complete export (closes the JSON array). Not called after a
    /// failure: the output then shows it is incomplete, and the exit code says so.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        if self.format == Format::Csv && self.count == 0 {
            self.out.write_all(&csv_line(&CSV_COLUMNS.map(str::to_owned))?)?;
        }
        if self.format == Format::Table && self.count == 0 {
            // No messages: the header alone says so.
            self.table_header()?;
        }
        self.out.flush()
    }

    fn table_header(&mut self) -> std::io::Result<()> {
        writeln!(
            self.out,
            "{:<24}  {:<8}  {:<18}  {:<8}  {:<28}  TEXT",
            "CREATED (UTC)", "DIR", "CHANNEL", "KIND", "SENDER"
        )
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// One JSON document as one line. `raw` keeps the vendor's bytes, so a
/// pretty-printed page would spread a message over many lines; in JSON a
/// line break can only be whitespace between tokens (inside strings it is
/// escaped), so turning it into a space keeps the same document on one line.
/// What is gathered before a write to stdout: a pipe's capacity on Linux,
/// so that a page of messages takes a few `write` calls, not one every
/// 8 KiB (`BufWriter`'s default). Output is still flushed after every page.
pub(crate) const BUFFER: usize = 64 * 1024;

fn write_line(out: &mut impl Write, json: &[u8]) -> std::io::Result<()> {
    // Written run by run between line breaks (found with memchr: most lines
    // have none, and a byte-by-byte look was a tenth of the CLI's time).
    let mut rest = json;
    while let Some(at) = memchr::memchr2(b'\n', b'\r', rest) {
        out.write_all(&rest[..at])?;
        out.write_all(b" ")?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\n")
}

/// One CSV record, quoted as needed, with its line end.
fn csv_line(fields: &[String]) -> std::io::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(fields.iter().map(|field| match inert(field) {
        std::borrow::Cow::Borrowed(cell) => std::borrow::Cow::Borrowed(cell.as_bytes()),
        std::borrow::Cow::Owned(cell) => std::borrow::Cow::Owned(cell.into_bytes()),
    }))?;
    writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// A cell as a spreadsheet will not run it: one that would start a formula
/// (`=`, `@`, a tab or a carriage return first, or `+` or `-` before
/// anything but a number: a message's text can be `=HYPERLINK(…)`) gets a
/// leading `'`, as OWASP advises for CSV exports. A phone number
/// (`+33 6 12 34 56 78`) or a negative number stays as it is.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    let numeric = |rest: &str| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || " ().-".contains(c));
    let formula = match cell.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !numeric(&cell[1..]),
        _ => false,
    };
    if formula { std::borrow::Cow::Owned(format!("'{cell}")) } else { std::borrow::Cow::Borrowed(cell) }
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn participant(p: &Participant) -> String {
    let who = p.address.as_deref().or(p.name.as_deref()).or(p.id.as_deref()).unwrap_or("");
    match &p.role {
        Some(role) if !who.is_empty() => format!("{who} ({role})"),
        Some(role) => format!("({role})"),
        None => who.to_owned(),
    }
}

fn content_type(message: &Message) -> String {
    serde_json::to_value(&message.content)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

fn csv_row(m: &Message) -> Vec<String> {
    let sender = m.sender.clone().unwrap_or_default();
    vec![
        m.vendor.to_string(),
        opt(&m.id),
        opt(&m.conversation_id),
        opt(&m.channel),
        opt(&m.direction),
        serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        m.created_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default(),
        m.updated_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default(),
        opt(&m.status),
        opt(&sender.id),
        opt(&sender.address),
        opt(&sender.name),
        opt(&sender.role),
        m.recipients.iter().map(participant).collect::<Vec<_>>().join("; "),
        opt(&m.text),
        opt(&m.subject),
        m.attachments.iter().map(|a| a.url.as_str()).collect::<Vec<_>>().join(" "),
        content_type(m),
        m.attachments.len().to_string(),
    ]
}

fn clip(text: &str, width: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() <= width {
        flat
    } else {
        let mut clipped: String = flat.chars().take(width.saturating_sub(1)).collect();
        clipped.push('…');
        clipped
    }
}

fn table_row(m: &Message) -> String {
    let created = m.created_at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|| "-".to_owned());
    let sender = m.sender.as_ref().map(participant).unwrap_or_default();
    let text = m.text.clone().or_else(|| m.subject.clone()).unwrap_or_else(|| format!("[{}]", content_type(m)));
    format!(
        "{:<24}  {:<8}  {:<18}  {:<8}  {:<28}  {}",
        created,
        clip(&opt(&m.direction), 8),
        clip(&opt(&m.channel), 18),
        clip(serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).as_deref().unwrap_or(""), 8),
        clip(&sender, 28),
        clip(&text, 80)
    )
}
