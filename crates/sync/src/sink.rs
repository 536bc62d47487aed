//! Where a sync writes: one merged NDJSON stream ([`MergedNdjson`]), or one
//! NDJSON file per conversation under a directory ([`Directory`]).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read as _, Seek as _, Write};
use std::path::{Path, PathBuf};

use convo_normalize::Message;

/// Where a sync writes the messages of its conversations. Calls for one
/// conversation come in order: [`Sink::open`], then [`Sink::write`]s each
/// followed, page by page, by a [`Sink::commit`], then [`Sink::close`].
pub trait Sink {
    /// A conversation's messages are about to be written. `committed` is
    /// the length its checkpoint recorded for its output: a sink that can
    /// cut its output back to it does (what lies beyond is the tail of a
    /// run killed before it saved its checkpoint), and a sink whose output
    /// is shorter than that refuses. Returns the length the output starts
    /// at, for a sink that can cut back to it.
    fn open(&mut self, conversation: &str, committed: Option<u64>) -> io::Result<Option<u64>>;
    /// Writes one message of the conversation.
    fn write(&mut self, conversation: &str, message: &Message) -> io::Result<()>;
    /// Everything written so far is handed on (flushed); the output's length
    /// afterwards, for a sink that can cut back to it.
    fn commit(&mut self, conversation: &str) -> io::Result<Option<u64>>;
    /// The conversation is done with, for this run.
    fn close(&mut self, conversation: &str) -> io::Result<()>;
}

/// One merged NDJSON stream: each line `{"conversation": <id>, "message":
/// <normalized message>}`, lines of different conversations interleaved
/// page by page. Cannot cut back: a run killed after writing a page and
/// before saving its checkpoint writes that page again in the next run
/// (stops asked for by a signal are exactly once).
pub struct MergedNdjson<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl<W: Write> MergedNdjson<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        Self { out, line: Vec::with_capacity(4096) }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[derive(serde::Serialize)]
struct Line<'a> {
    conversation: &'a str,
    message: &'a Message,
}

impl<W: Write> Sink for MergedNdjson<W> {
    fn open(&mut self, _: &str, _: Option<u64>) -> io::Result<Option<u64>> {
        Ok(None)
    }

    fn write(&mut self, conversation: &str, message: &Message) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, &Line { conversation, message })?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)
    }

    fn commit(&mut self, _: &str) -> io::Result<Option<u64>> {
        self.out.flush()?;
        Ok(None)
    }

    fn close(&mut self, _: &str) -> io::Result<()> {
        Ok(())
    }
}

/// One NDJSON file per conversation under a directory
/// (`<dir>/<conversation>.ndjson`, the id with any character other than
/// ASCII letters, digits, `-`, `_` and `.` percent-encoded), appended to by
/// later runs. Each file is cut back to its checkpoint's length before a
/// run appends to it, so that a run killed at any point and run again
/// leaves every message in its file exactly once.
///
/// One sync at a time writes a directory: the `Directory` holds a lock on
/// the directory itself while it lives (on Unix, where a directory opens
/// as a file; nothing is added to it), so that two syncs with state files
/// of their own cannot cut back and append to the same files at once.
pub struct Directory {
    dir: PathBuf,
    open: HashMap<String, (BufWriter<File>, u64)>,
    _lock: Option<File>,
}

impl Directory {
    /// Writes under `dir`, created if missing. Fails with
    /// [`io::ErrorKind::WouldBlock`] while another `Directory` writes it.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        // (Where a directory cannot be opened as a file, as on Windows,
        // there is no lock.)
        let lock = File::open(&dir).ok();
        match lock.as_ref().map(File::try_lock) {
            Some(Err(std::fs::TryLockError::WouldBlock)) => {
                return Err(io::Error::new(io::ErrorKind::WouldBlock, "another sync is writing this directory"));
            }
            Some(Err(std::fs::TryLockError::Error(e))) => return Err(e),
            Some(Ok(())) | None => {}
        }
        Ok(Self { dir, open: HashMap::new(), _lock: lock })
    }

    /// The file a conversation is written to.
    pub fn path(&self, conversation: &str) -> PathBuf {
        self.dir.join(file_name(conversation))
    }

    fn file(&mut self, conversation: &str) -> io::Result<&mut (BufWriter<File>, u64)> {
        self.open.get_mut(conversation).ok_or_else(|| io::Error::other(format!("{conversation} is not open")))
    }
}

/// A conversation id as a file name: safe on every platform, and distinct
/// for distinct ids.
pub fn file_name(conversation: &str) -> String {
    let mut name = String::with_capacity(conversation.len() + 7);
    for byte in conversation.bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' => name.push(char::from(byte)),
            // A leading dot would hide the file; `..` would climb.
            b'.' if !name.is_empty() => name.push('.'),
            _ => name.push_str(&format!("%{byte:02X}")),
        }
    }
    name.push_str(".ndjson");
    name
}

/// The longest last line [`last_line_is_a_message`] reads back.
const LAST_LINE_BYTES: u64 = 1 << 20;

/// Whether the line that ends at `committed` (which ends with a line
/// break) is a JSON object, as every line this sink writes is: a file
/// overwritten since with other text of the same length is not appended
/// to. A last line longer than [`LAST_LINE_BYTES`] is not read back.
fn last_line_is_a_message(file: &mut File, committed: u64) -> io::Result<bool> {
    let start = committed.saturating_sub(LAST_LINE_BYTES);
    let mut tail = vec![0u8; (committed - start) as usize];
    file.seek(io::SeekFrom::Start(start))?;
    file.read_exact(&mut tail)?;
    let body = &tail[..tail.len().saturating_sub(1)];
    let line = match body.iter().rposition(|&b| b == b'\n') {
        Some(at) => &body[at + 1..],
        None if start > 0 => return Ok(true),
        None => body,
    };
    Ok(line.first() == Some(&b'{') && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok())
}

fn cut(path: &Path, file: &mut File, committed: Option<u64>) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let Some(committed) = committed else {
        // No checkpoint wrote to it: a file from elsewhere is not ours to
        // append to.
        if len > 0 {
            return Err(io::Error::other(format!(
                "{} exists, but the state records no output for it: move it away or use the state file that wrote it",
                path.display()
            )));
        }
        return Ok(0);
    };
    if len < committed {
        return Err(io::Error::other(format!(
            "{} holds {len} bytes, fewer than the {committed} the state recorded: it was changed since; move it away and remove its conversation from the state file",
            path.display()
        )));
    }
    // The checkpoint ends a line: where it does not any more, the file was
    // edited since, and cutting there would leave half a line to append to.
    if committed > 0 {
        let mut last = [0u8; 1];
        file.seek(io::SeekFrom::Start(committed - 1))?;
        file.read_exact(&mut last)?;
        if last != *b"\n" || !last_line_is_a_message(file, committed)? {
            return Err(io::Error::other(format!(
                "{}: the {committed} bytes the state recorded no longer end with a whole line: it was changed since; move it away, or sync again with --restart",
                path.display()
            )));
        }
    }
    if len > committed {
        tracing::debug!(path = %path.display(), len, committed, "cutting the tail a killed run left");
        file.set_len(committed)?;
    }
    file.seek(io::SeekFrom::Start(committed))?;
    Ok(committed)
}

impl Sink for Directory {
    fn open(&mut self, conversation: &str, committed: Option<u64>) -> io::Result<Option<u64>> {
        let path = self.path(conversation);
        let mut file = OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&path)?;
        let len = cut(&path, &mut file, committed)?;
        self.open.insert(conversation.to_owned(), (BufWriter::with_capacity(64 * 1024, file), len));
        Ok(Some(len))
    }

    fn write(&mut self, conversation: &str, message: &Message) -> io::Result<()> {
        let (out, len) = self.file(conversation)?;
        let mut line = serde_json::to_vec(message)?;
        line.push(b'\n');
        out.write_all(&line)?;
        *len += line.len() as u64;
        Ok(())
    }

    fn commit(&mut self, conversation: &str) -> io::Result<Option<u64>> {
        let (out, len) = self.file(conversation)?;
        out.flush()?;
        Ok(Some(*len))
    }

    fn close(&mut self, conversation: &str) -> io::Result<()> {
        if let Some((mut out, _)) = self.open.remove(conversation) {
            out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_directory_is_written_by_one_sync_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = Directory::new(dir.path()).unwrap();
        let second = Directory::new(dir.path()).err().expect("the directory is taken");
        assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
        drop(first);
        Directory::new(dir.path()).expect("free again");
    }

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(file_name("cid_0c7a-5e1d"), "cid_0c7a-5e1d.ndjson");
        assert_eq!(file_name("../etc/passwd"), "%2E.%2Fetc%2Fpasswd.ndjson");
        assert_eq!(file_name(".hidden"), "%2Ehidden.ndjson");
        assert_ne!(file_name("a/b"), file_name("a%2Fb"));
        assert_eq!(file_name("é"), "%C3%A9.ndjson");
    }

    #[test]
    fn a_file_is_cut_back_to_its_checkpoint_and_never_taken_when_foreign_or_short() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = Directory::new(dir.path()).unwrap();
        let path = sink.path("c");
        std::fs::write(&path, b"{\"id\":\"1\"}\n{\"id\":\"2, of a killed run\"}\n").unwrap();
        assert_eq!(sink.open("c", Some(11)).unwrap(), Some(11));
        assert_eq!(sink.commit("c").unwrap(), Some(11));
        sink.close("c").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"id\":\"1\"}\n");
        // Other text of the same length, ending a line: not appended to.
        std::fs::write(&path, b"not json!!\n").unwrap();
        let err = sink.open("c", Some(11)).unwrap_err();
        assert!(err.to_string().contains("changed since"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"not json!!\n");
        std::fs::write(&path, b"{\"id\":\"1\"}\n").unwrap();
        let err = sink.open("c", None).unwrap_err();
        assert!(err.to_string().contains("records no output"), "{err}");
        let err = sink.open("c", Some(100)).unwrap_err();
        assert!(err.to_string().contains("fewer than the 100"), "{err}");
    }
}
