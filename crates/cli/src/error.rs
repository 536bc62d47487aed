use std::process::ExitCode;

use convo_normalize::fetch::{ErrorKind, FetchError};

/// Why `convo` failed, and so its exit code. Messages never hold a
/// credential: credentials are only ever read into sensitive headers.
#[derive(Debug)]
pub enum CliError {
    /// Bad flag, vendor, date, missing variable (exit 2).
    Usage(String),
    /// The vendor refused the credentials or the permission (exit 3).
    Auth(String),
    /// The conversation does not exist (exit 4).
    NotFound(String),
    /// Any other vendor or network failure, after retries (exit 5).
    Other(String),
    /// A body the normalizer could not read (exit 6).
    Undecodable(String),
    /// SIGINT or SIGTERM stopped the export (exit 130, as a shell reports an
    /// interrupted command).
    Interrupted,
    /// An export that stopped early after writing messages, and the
    /// `--resume` token that goes on from there (same exit code).
    Resumable { error: Box<CliError>, token: String },
}

impl CliError {
    pub fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Auth(_) => 3,
            CliError::NotFound(_) => 4,
            CliError::Other(_) => 5,
            CliError::Undecodable(_) => 6,
            CliError::Interrupted => 130,
            CliError::Resumable { error, .. } => error.code(),
        }
    }

    fn message(&self) -> &str {
        match self {
            CliError::Usage(m)
            | CliError::Auth(m)
            | CliError::NotFound(m)
            | CliError::Other(m)
            | CliError::Undecodable(m) => m,
            CliError::Interrupted => "interrupted; the output ends with the last whole message",
            CliError::Resumable { error, .. } => error.message(),
        }
    }

    /// Prints the one-line error on stderr and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("convo: {}", self.message().replace('\n', " "));
        if let CliError::Resumable { token, .. } = self {
            eprintln!("convo: to go on from here, run the same command with --resume {token}");
        }
        ExitCode::from(self.code())
    }
}

impl CliError {
    /// This error, with the token that resumes the export after it.
    pub fn resumable(self, token: Option<String>) -> Self {
        match token {
            Some(token) => CliError::Resumable { error: Box::new(self), token },
            None => self,
        }
    }
}

impl From<FetchError> for CliError {
    fn from(e: FetchError) -> Self {
        let message = e.to_string();
        match e.kind() {
            ErrorKind::Auth => CliError::Auth(message),
            ErrorKind::NotFound => CliError::NotFound(message),
            ErrorKind::Undecodable => CliError::Undecodable(message),
            ErrorKind::InvalidQuery => CliError::Usage(message),
            _ => CliError::Other(message),
        }
    }
}

impl From<convo_normalize::fetch::ConfigError> for CliError {
    fn from(e: convo_normalize::fetch::ConfigError) -> Self {
        match e {
            // The library's way out is a field of its options; the CLI has no
            // such flag, by design: credentials travel over TLS or stay here.
            convo_normalize::fetch::ConfigError::InsecureHttp { url } => CliError::Usage(format!(
                "invalid base URL `{url}`: plain http is only allowed to this machine (127.0.0.1, localhost); use https"
            )),
            other => CliError::Usage(other.to_string()),
        }
    }
}

/// Writing to stdout failed (other than a closed pipe, handled by the caller).
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::Other(format!("cannot write the output: {e}"))
    }
}

/// Writes `text` to stdout whole, and flushes it: a closed pipe ends
/// quietly (as `convo … | head` would have it); any other failure (a full
/// disk) is an error, never a panic or a lost output with exit 0.
pub fn print_out(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The sandbox did not start: options it refuses (a size out of its range)
/// are the flags' fault (exit 2); anything else (the port taken) exit 5.
pub fn sandbox_failed(e: std::io::Error, context: &str) -> CliError {
    let message = format!("cannot start the sandbox{context}: {e}");
    if e.kind() == std::io::ErrorKind::InvalidInput { CliError::Usage(message) } else { CliError::Other(message) }
}
