//! The HTTP server: routing to the vendors, counting, delays and faults.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::Replay;
use crate::http::{Call, PageFault, Query, Replayed, Reply};
use crate::limit::Limiter;
use crate::limit::{RateState, Refused};
use crate::vendors::{Generated, Vendors};
use crate::{FaultKind, SandboxOptions, Vendor, ids, samples};

/// A running sandbox. It stops when dropped or shut down.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

/// What the connections share.
struct Shared {
    options: SandboxOptions,
    requests: [AtomicUsize; 4],
    /// The generated and numbered conversations' size now.
    messages: AtomicUsize,
    /// Each vendor's budget, in the rate-limit mode.
    limiters: Option<[Limiter; 4]>,
    /// The requests each vendor refused for its budget.
    rate_limited: [AtomicUsize; 4],
    vendors: Vendors,
}

impl Sandbox {
    /// Starts the server on 127.0.0.1, on `options.port` (0 picks a free
    /// port). Fails when the port cannot be bound, when an option is out of
    /// range (a fault on request 0, a status outside 400..=599, a
    /// `Retry-After` that is not a header value, more than `u32::MAX`
    /// messages, [`ids::MAX_NUMBERED`] conversations or more), or when a spec's documented sample cannot be read.
    pub async fn start(options: SandboxOptions) -> io::Result<Sandbox> {
        let samples = samples::load().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        check(&options)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            vendors: Vendors::new(samples, &options),
            requests: Default::default(),
            messages: AtomicUsize::new(options.messages),
            limiters: options.rate_limit.map(|limit| std::array::from_fn(|_| Limiter::new(limit))),
            rate_limited: Default::default(),
            options,
        });
        let task = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(Sandbox { addr, shared, task: Some(task) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a client of `vendor` uses, e.g. `http://127.0.0.1:PORT/bird`.
    /// Octopush's includes the `/v1/public` of its real base URL, so a
    /// client appends `/conversations/messages/list` to it.
    pub fn base_url(&self, vendor: Vendor) -> String {
        let suffix = if vendor == Vendor::Octopush { "/v1/public" } else { "" };
        format!("http://{}/{}{suffix}", self.addr, vendor.as_str())
    }

    /// The variables a client of `vendor` reads (`Client::from_vars`), as
    /// the sandbox answers them: its base URL and its own keys; any other
    /// variable is unset.
    pub fn vars(&self, vendor: Vendor) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let (base_variable, base) = (vendor.variables().base_url, self.base_url(vendor));
        move |name| match name == base_variable {
            true => Some(base.clone()),
            false => crate::credentials::variable(name).map(str::to_owned),
        }
    }

    /// Makes the generated and numbered conversations of every vendor hold
    /// `messages` messages from now on (a request already being answered
    /// keeps the size it arrived with). Messages are derived from their
    /// index, so the ones already served never change: growing appends
    /// messages newer than all earlier ones (served where each vendor puts
    /// its newest: last for Infobip and Octopush, first for LeadConnector
    /// and Bird), and shrinking drops the newest. Fails, changing nothing,
    /// above `u32::MAX`, as [`SandboxOptions::messages`] does at start.
    pub fn set_messages(&self, messages: usize) -> io::Result<()> {
        check_messages(messages)?;
        self.shared.messages.store(messages, Ordering::SeqCst);
        Ok(())
    }

    /// How many messages the generated and numbered conversations hold now.
    pub fn messages(&self) -> usize {
        self.shared.messages.load(Ordering::SeqCst)
    }

    /// How many requests `vendor` has received so far, faulty ones and
    /// ones refused for the rate limit included.
    pub fn requests(&self, vendor: Vendor) -> usize {
        self.shared.requests[vendor.index()].load(Ordering::SeqCst)
    }

    /// How many requests `vendor` has refused with 429 for
    /// [`SandboxOptions::rate_limit`] so far (a [`FaultKind::Status`] 429
    /// is not counted here).
    pub fn rate_limited(&self, vendor: Vendor) -> usize {
        self.shared.rate_limited[vendor.index()].load(Ordering::SeqCst)
    }

    /// Stops the server and closes its connections.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            // The task ends as aborted; that is the expected outcome.
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).field("options", &self.shared.options).finish()
    }
}

fn check(options: &SandboxOptions) -> io::Result<()> {
    let invalid = |message: String| Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    check_messages(options.messages)?;
    if let Some(limit) = options.rate_limit
        && (limit.requests == 0 || limit.per.is_zero())
    {
        return invalid(format!("rate limit {limit:?}: at least 1 request per window above zero"));
    }
    if options.replay.is_some() && (options.rate_limit.is_some() || !options.faults.is_empty()) {
        return invalid(
            "replay: not with faults nor a rate limit, whose answers depend on more than the request".to_owned(),
        );
    }
    if options.conversations >= ids::MAX_NUMBERED {
        return invalid(format!(
            "conversations: fewer than {} are numbered, not {}",
            ids::MAX_NUMBERED,
            options.conversations
        ));
    }
    for fault in &options.faults {
        if fault.on_request == 0 {
            return invalid(format!("fault {fault:?}: requests are counted from 1"));
        }
        if let FaultKind::Status { status, retry_after } = &fault.kind {
            if !(400..=599).contains(status) {
                return invalid(format!("fault {fault:?}: the status must be from 400 to 599"));
            }
            if retry_after.as_deref().is_some_and(|r| HeaderValue::from_str(r).is_err()) {
                return invalid(format!("fault {fault:?}: the Retry-After value is not a valid header value"));
            }
        }
    }
    Ok(())
}

fn check_messages(messages: usize) -> io::Result<()> {
    match u32::try_from(messages) {
        Ok(_) => Ok(()),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("messages: at most {} are generated, not {messages}", u32::MAX),
        )),
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: wait a moment
                // instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Without Nagle's algorithm small responses are not held back.
    let _ = stream.set_nodelay(true);
    let stream = CuttableStream { inner: stream, cut: Arc::new(Mutex::new(Cut::Off)) };
    let cut = Arc::clone(&stream.cut);
    let service = service_fn(move |request| respond(Arc::clone(&shared), Arc::clone(&cut), request));
    // A connection ends in an error when the client goes away or a fault
    // cuts it; either way there is nothing left to do.
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct ConnectionDropped;

impl fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sandbox dropped the connection (fault injection)")
    }
}

impl std::error::Error for ConnectionDropped {}

async fn respond(
    shared: Arc<Shared>,
    cut: Arc<Mutex<Cut>>,
    request: Request<Incoming>,
) -> Result<Response<SandboxBody>, ConnectionDropped> {
    let Some((vendor, path)) = route(request.uri().path()) else {
        return Ok(not_routed());
    };
    let number = shared.requests[vendor.index()].fetch_add(1, Ordering::SeqCst) + 1;
    // The conversations' size as the request arrives, whatever the delay.
    let generated =
        Generated { messages: shared.messages.load(Ordering::SeqCst), conversations: shared.options.conversations };
    let admission = shared.limiters.as_ref().map(|limiters| limiters[vendor.index()].admit(Instant::now()));
    if let Some(Err(_)) = admission {
        shared.rate_limited[vendor.index()].fetch_add(1, Ordering::SeqCst);
    }
    // The delay is the response's time from its arrival, as a vendor's is:
    // the answer is made while it runs, and sent when it ends (or when it
    // is made, if that takes longer).
    let due = tokio::time::Instant::now() + shared.options.delay;
    let answer = match &shared.options.replay {
        None => answer(&shared, &cut, &request, vendor, path, number, generated, admission),
        Some(replay) => Ok(replayed(replay, &request, generated, || {
            answer(&shared, &cut, &request, vendor, path, number, generated, admission)
        })),
    };
    if !shared.options.delay.is_zero() {
        tokio::time::sleep_until(due).await;
    }
    answer
}

/// The answer `replay` holds for this request, or the one `answer` makes,
/// kept. (No faults with a replay: `answer` always answers.)
fn replayed(
    replay: &Replay,
    request: &Request<Incoming>,
    generated: Generated,
    answer: impl FnOnce() -> Result<Response<SandboxBody>, ConnectionDropped>,
) -> Response<SandboxBody> {
    let mut key = format!("{} {} {}\n", generated.messages, request.method(), request.uri());
    // Every header but `Host`, which names the port: sandboxes sharing a
    // replay listen on ports of their own, and no answer names its host.
    for (name, value) in request.headers().iter().filter(|(name, _)| *name != hyper::header::HOST) {
        key.push_str(name.as_str());
        key.push(':');
        key.push_str(&String::from_utf8_lossy(value.as_bytes()));
        key.push('\n');
    }
    let known = replay.0.lock().ok().and_then(|answers| answers.get(&key).cloned());
    let kept = known.unwrap_or_else(|| {
        let made = match answer() {
            Ok(made) => made,
            Err(ConnectionDropped) => {
                return Replayed { status: StatusCode::INTERNAL_SERVER_ERROR, headers: Vec::new(), body: Bytes::new() };
            }
        };
        let (parts, body) = made.into_parts();
        let headers = parts.headers.iter().map(|(name, value)| (name.clone(), value.clone())).collect();
        let made = Replayed { status: parts.status, headers, body: body.0.unwrap_or_default() };
        if let Ok(mut answers) = replay.0.lock() {
            answers.insert(key, made.clone());
        }
        made
    });
    let mut response = Response::new(SandboxBody(Some(kept.body)));
    *response.status_mut() = kept.status;
    response.headers_mut().extend(kept.headers);
    response
}

/// The answer to one routed request, as the vendor gives it.
#[allow(clippy::too_many_arguments)]
fn answer(
    shared: &Shared,
    cut: &Mutex<Cut>,
    request: &Request<Incoming>,
    vendor: Vendor,
    path: &str,
    number: usize,
    generated: Generated,
    admission: Option<Result<RateState, Refused>>,
) -> Result<Response<SandboxBody>, ConnectionDropped> {
    let rate = match admission {
        None => None,
        Some(Ok(state)) => Some(state),
        Some(Err(refused)) => return Ok(response(shared.vendors.too_many_requests(vendor, number, refused))),
    };
    let fault = shared.options.faults.iter().find(|f| f.vendor == vendor && f.on_request == number).map(|f| &f.kind);
    let reply = match fault {
        Some(FaultKind::DropConnection) => return Err(ConnectionDropped),
        Some(FaultKind::Status { status, retry_after }) => {
            // Both were checked at start; an unreadable one falls back to 500.
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let reply = shared.vendors.status(vendor, status, number, rate);
            match retry_after.as_deref().map(HeaderValue::from_str) {
                Some(Ok(value)) => reply.with_header(RETRY_AFTER, value),
                _ => reply,
            }
        }
        _ => {
            let call = Call {
                method: request.method(),
                path,
                query: Query::parse(request.uri().query()),
                headers: request.headers(),
                number,
                fault: match fault {
                    Some(FaultKind::RepeatCursor) => Some(PageFault::RepeatCursor),
                    Some(FaultKind::EmptyPageWithMore) => Some(PageFault::EmptyPageWithMore),
                    _ => None,
                },
                generated,
                rate,
            };
            shared.vendors.handle(vendor, &call)
        }
    };
    if let Some(FaultKind::TruncatedBody) = fault {
        // HTTP/1 answers one request at a time: the next bytes written on
        // this connection are this response.
        if let Ok(mut cut) = cut.lock() {
            *cut = Cut::Armed { head_matched: 0, body_left: reply.body.len() / 2 };
        }
    }
    Ok(response(reply))
}

/// The vendor a path is for, and the rest of the path after its prefix.
fn route(path: &str) -> Option<(Vendor, &str)> {
    Vendor::ALL.into_iter().find_map(|vendor| {
        let rest = path.strip_prefix('/')?.strip_prefix(vendor.as_str())?;
        (rest.is_empty() || rest.starts_with('/')).then_some((vendor, rest))
    })
}

fn not_routed() -> Response<SandboxBody> {
    let text = "sandbox: no vendor at this path; the vendors are under /infobip, /octopush/v1/public, /leadconnector and /bird\n";
    let mut response = Response::new(SandboxBody::full(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn response(reply: Reply) -> Response<SandboxBody> {
    let mut response = Response::new(SandboxBody(Some(Bytes::from(reply.body))));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        headers.append(name, value);
    }
    response
}

/// A response body, sent whole.
struct SandboxBody(Option<Bytes>);

impl SandboxBody {
    fn full(data: Bytes) -> SandboxBody {
        SandboxBody(Some(data))
    }
}

impl Body for SandboxBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().0.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.as_ref().map_or(0, |data| data.len() as u64))
    }
}

/// Whether a connection's next response is to be cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Off,
    /// Let the head through (up to the `\r\n\r\n` that ends it, of which
    /// `head_matched` bytes have been seen), then `body_left` more bytes,
    /// then fail the connection.
    Armed {
        head_matched: u8,
        body_left: usize,
    },
}

impl Cut {
    /// The state after `bytes` more are written, and how many of them may
    /// be written (all of them, or fewer when the cut comes first).
    fn advance(self, bytes: &[u8]) -> (Cut, usize) {
        const END_OF_HEAD: &[u8; 4] = b"\r\n\r\n";
        let Cut::Armed { mut head_matched, mut body_left } = self else {
            return (self, bytes.len());
        };
        let mut allowed = 0;
        for &byte in bytes {
            if usize::from(head_matched) < END_OF_HEAD.len() {
                head_matched = if byte == END_OF_HEAD[usize::from(head_matched)] {
                    head_matched + 1
                } else {
                    u8::from(byte == b'\r')
                };
            } else if body_left == 0 {
                break;
            } else {
                body_left -= 1;
            }
            allowed += 1;
        }
        (Cut::Armed { head_matched, body_left }, allowed)
    }
}

/// The TCP stream of a connection, which can cut a response short: hyper
/// writes the whole response (with its full `Content-Length`), and this
/// stream lets only the head and the first half of the body through, then
/// fails the write so that hyper closes the connection.
struct CuttableStream {
    inner: TcpStream,
    cut: Arc<Mutex<Cut>>,
}

impl AsyncRead for CuttableStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for CuttableStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let cut = this.cut.lock().map(|cut| *cut).unwrap_or(Cut::Off);
        let (_, allowed) = cut.advance(buf);
        if allowed == 0 && !buf.is_empty() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the sandbox cut the response short (fault injection)",
            )));
        }
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]))?;
        if let (Cut::Armed { .. }, Ok(mut state)) = (cut, this.cut.lock()) {
            *state = cut.advance(&buf[..written]).0;
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_vendor_prefix() {
        assert_eq!(
            route("/bird/workspaces/a/conversations/b/messages"),
            Some((Vendor::Bird, "/workspaces/a/conversations/b/messages"))
        );
        assert_eq!(route("/octopush/v1/public/x"), Some((Vendor::Octopush, "/v1/public/x")));
        assert_eq!(route("/infobip"), Some((Vendor::Infobip, "")));
        assert_eq!(route("/birds/x"), None);
        assert_eq!(route("/"), None);
    }

    #[test]
    fn a_cut_lets_the_head_and_half_the_body_through() {
        let response = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabcdef";
        let armed = Cut::Armed { head_matched: 0, body_left: 3 };
        let (state, allowed) = armed.advance(response);
        assert_eq!(&response[..allowed], b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc");
        assert_eq!(state.advance(b"def"), (state, 0));
        // Written in pieces, the head's end is still found.
        let (state, _) = armed.advance(b"HTTP/1.1 200 OK\r\n\r");
        assert_eq!(state.advance(b"\nabcdef").1, 4);
        assert_eq!(Cut::Off.advance(b"anything").1, 8);
    }
}
