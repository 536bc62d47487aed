//! The HTTP server: one vendor on 127.0.0.1, every request recorded, the
//! behaviour applied, a request budget.

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::check::Expectation;
use crate::store::{Msg, Store, View};
use crate::vendors::{self, PageKind, PageRequest, Reply};
use crate::{Behaviour, End, Options, Vendor};

/// One request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// 1 for the first request the server received.
    pub number: usize,
    pub method: String,
    /// The request target exactly as sent: raw path and query.
    pub target: String,
    /// The raw path, still percent-encoded, never normalized.
    pub path: String,
    /// The raw query, if any.
    pub raw_query: Option<String>,
    /// Every header, in the order sent (values that are not text lossily).
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How many times header `name` was sent.
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }

    /// The decoded query pairs, in the order sent.
    pub fn params(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.raw_query.as_deref().unwrap_or("").as_bytes()).into_owned().collect()
    }

    /// The first decoded value of query key `key`.
    pub fn param(&self, key: &str) -> Option<String> {
        self.params().into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every decoded value of query key `key`.
    pub fn param_all(&self, key: &str) -> Vec<String> {
        self.params().into_iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect()
    }
}

/// What the server has done so far.
pub(crate) struct State {
    pub store: Store,
    /// The conversation before any change.
    pub initial: Vec<Msg>,
    /// Every message the conversation ever held.
    pub ever: Vec<Msg>,
    pub requests: Vec<Recorded>,
    /// Pages answered with 200 so far.
    pub pages_served: usize,
    /// The listing change of the behaviour has been made.
    pub changed: bool,
    /// The one-time fault of the behaviour has fired.
    pub fired: bool,
    /// The listing of the first page request: the query being read.
    pub view: Option<View>,
    /// Makes every Bird token unique.
    pub nonce: u64,
    /// The ids of the last page served (LeadConnector's previous page).
    pub previous_page: Vec<String>,
    /// Infobip's page-0 queries, in the order each first arrived.
    pub distinct: Vec<String>,
}

pub(crate) struct Shared {
    pub options: Options,
    pub state: Mutex<State>,
}

/// A hostile vendor on 127.0.0.1. It stops when dropped.
pub struct HostileServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl HostileServer {
    /// Starts the server on a free port of 127.0.0.1.
    pub async fn start(options: Options) -> io::Result<HostileServer> {
        let store = Store::generate(options.vendor, options.messages, options.same_millisecond);
        let state = State {
            initial: store.messages.clone(),
            ever: store.messages.clone(),
            store,
            requests: Vec::new(),
            pages_served: 0,
            changed: false,
            fired: false,
            view: None,
            nonce: 0,
            previous_page: Vec::new(),
            distinct: Vec::new(),
        };
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared { options, state: Mutex::new(state) });
        let task = tokio::spawn(accept(listener, Arc::clone(&shared)));
        Ok(HostileServer { addr, shared, task: Some(task) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn vendor(&self) -> Vendor {
        self.shared.options.vendor
    }

    pub fn options(&self) -> &Options {
        &self.shared.options
    }

    /// The base URL a client of this vendor is given: `http://127.0.0.1:PORT`,
    /// and for Octopush `http://127.0.0.1:PORT/v1/public` (its real base URL
    /// carries `/v1/public`).
    pub fn base_url(&self) -> String {
        match self.vendor() {
            Vendor::Octopush => format!("http://{}/v1/public", self.addr),
            _ => format!("http://{}", self.addr),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    pub fn request_count(&self) -> usize {
        self.state().requests.len()
    }

    /// Pages answered with 200 so far.
    pub fn pages_served(&self) -> usize {
        self.state().pages_served
    }

    /// The ids of the conversation as it was first listed for the query
    /// read (the vendor's default listing when no page was asked for).
    pub fn initial_ids(&self) -> Vec<String> {
        let state = self.state();
        let view = state.view.clone().unwrap_or_else(|| View::default_for(self.vendor()));
        view.list(&state.initial).into_iter().map(|m| m.id).collect()
    }

    /// What a successful read of the query that was made may deliver: see
    /// [`Expectation`]. Call it after the read.
    pub fn expectation(&self) -> Expectation {
        let state = self.state();
        let view = state.view.clone().unwrap_or_else(|| View::default_for(self.vendor()));
        let before: HashSet<String> = view.list(&state.initial).into_iter().map(|m| m.id).collect();
        let required: BTreeSet<String> =
            view.list(&state.store.messages).into_iter().map(|m| m.id).filter(|id| before.contains(id)).collect();
        let order = view.list(&state.ever).into_iter().map(|m| m.id).collect();
        Expectation { order, required }
    }

    /// Adds a message at `at` of the listing (as a vendor does between two
    /// reads); returns its id.
    pub fn add(&self, at: End) -> String {
        let mut state = self.state();
        let view = state.view.clone().unwrap_or_else(|| View::default_for(self.vendor()));
        let added = state.store.insert(at, &view);
        state.ever.push(added.clone());
        added.id
    }

    /// Stops the server and closes its connections.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl fmt::Debug for HostileServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostileServer").field("addr", &self.addr).field("options", &self.shared.options).finish()
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
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| respond(Arc::clone(&shared), request));
    // Ends in an error when the client goes away or a fault drops the
    // connection: nothing left to do either way.
    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the hostile server dropped the connection")
    }
}

impl std::error::Error for Dropped {}

pub(crate) enum Action {
    Reply(Reply),
    Drop,
}

async fn respond(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
    let action = {
        let mut state = shared.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let recorded = Recorded {
            number: state.requests.len() + 1,
            method: request.method().to_string(),
            target: request
                .uri()
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| request.uri().to_string()),
            path: request.uri().path().to_owned(),
            raw_query: request.uri().query().map(str::to_owned),
            headers: request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
                .collect(),
        };
        state.requests.push(recorded.clone());
        handle(&shared.options, &mut state, &recorded)
    };
    match action {
        Action::Drop => Err(Dropped),
        Action::Reply(reply) => Ok(response(reply)),
    }
}

fn response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            headers.append(name, value);
        }
    }
    response
}

/// Everything but the vendor's own paging: budget, the behaviours that
/// answer every request, one-time faults, the bomb, the listing change.
fn handle(options: &Options, state: &mut State, request: &Recorded) -> Action {
    let vendor = options.vendor;
    if request.number > options.budget {
        return Action::Reply(vendors::error(
            vendor,
            400,
            "hostile server: request budget exhausted; the client is looping",
        ));
    }
    match &options.behaviour {
        Behaviour::RateLimited { retry_after } => {
            return Action::Reply(
                vendors::error(vendor, 429, "Too many requests").header("retry-after", retry_after.clone()),
            );
        }
        Behaviour::EchoCredential { status } => return Action::Reply(vendors::echo(vendor, *status, request)),
        _ => {}
    }
    let page = match vendors::parse(options, request) {
        Ok(page) => page,
        Err(reply) => return Action::Reply(reply),
    };
    let ordinal = match page.kind {
        PageKind::Numbered { ordinal: Some(ordinal), .. } => ordinal,
        PageKind::Numbered { ordinal: None, .. } => {
            let query = request.raw_query.clone().unwrap_or_default();
            match state.distinct.iter().position(|q| *q == query) {
                Some(i) => i + 1,
                None => {
                    state.distinct.push(query);
                    state.distinct.len()
                }
            }
        }
        _ => state.pages_served + 1,
    };
    if state.view.is_none() {
        state.view = Some(page.view.clone());
    }
    match options.behaviour {
        Behaviour::Status { status, page } if page == ordinal && !state.fired => {
            state.fired = true;
            return Action::Reply(vendors::fault_status(vendor, status));
        }
        Behaviour::DropConnection { page } if page == ordinal && !state.fired => {
            state.fired = true;
            return Action::Drop;
        }
        _ => {}
    }
    let mut reply = vendors::serve(options, state, &page, ordinal);
    if reply.status == 200 {
        if let Behaviour::GzipBomb { page, expanded_bytes } = options.behaviour
            && page == ordinal
        {
            reply = reply.gzip_bomb(expanded_bytes);
        }
        state.pages_served += 1;
        if state.pages_served == 1 && !state.changed {
            state.changed = true;
            change(options, state, &page);
        }
    }
    Action::Reply(reply)
}

/// The listing change, made right after page 1 was served.
fn change(options: &Options, state: &mut State, page: &PageRequest) {
    let view = &page.view;
    match options.behaviour {
        Behaviour::Insert { at } => {
            let added = state.store.insert(at, view);
            state.ever.push(added);
        }
        Behaviour::Delete { at } => {
            state.store.delete(at, view);
        }
        Behaviour::DeleteAndInsert { delete, insert } => {
            state.store.delete(delete, view);
            let added = state.store.insert(insert, view);
            state.ever.push(added);
        }
        _ => {}
    }
}
