//! Starting and stopping the server, and the one handler every request goes through:
//! faults first, then the service that owns the path.
//!
//! Routing is done by hand on the raw wire path instead of with axum routes, so each
//! service answers unknown paths with its own error body and decodes its path ids itself
//! (one percent-encoded segment each, exactly as the signatures cover them).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;
use token_common::clock::{Clock, SystemClock};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::connection::{ConnectionControl, FaultListener};
use crate::error::Error;
use crate::faults::{Fault, FaultKind, FaultQueue, RetryAfter, ServicePrefix};
use crate::jwt::random_hex;
use crate::{cloudforet, huawei, ncp, ncp_metadata, ncp_sts};

/// Request bodies larger than this are refused with 413.
const MAX_BODY_BYTES: usize = 1 << 20;

/// The entry point: `Emulator::builder()…start(addr)`.
///
/// ```no_run
/// # async fn run() -> Result<(), token_emulator::Error> {
/// use token_emulator::{Emulator, Fault, ServicePrefix};
///
/// let emulator = Emulator::builder().start("127.0.0.1:0").await?; // demo accounts
/// println!("serving on {}", emulator.base_url());
/// emulator.inject(Fault::status(503).times(2).on(ServicePrefix::Ncp));
/// // … point a client at emulator.base_url() …
/// emulator.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Emulator;

impl Emulator {
    /// A builder seeded with [`Config::demo`] and the system clock.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            config: Config::demo(),
            clock: Arc::new(SystemClock),
            faults: Vec::new(),
        }
    }
}

/// Configures an emulator before it starts.
#[derive(Debug)]
pub struct EmulatorBuilder {
    config: Config,
    clock: Arc<dyn Clock>,
    faults: Vec<Fault>,
}

impl EmulatorBuilder {
    /// Seeds the emulator with `config` instead of the demo accounts.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Reads time from `clock` (default [`SystemClock`]): signature windows, token `iat` and
    /// `exp`, expiry checks and the `Date` header all follow it, so a test can move time
    /// with a [`ManualClock`](token_common::clock::ManualClock) instead of sleeping.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Queues a fault before the first request (see [`EmulatorHandle::inject`]).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Checks the configuration ([`Config::validate`]), binds `addr` (port 0 picks a free
    /// port) and serves in a background task until the handle is shut down or dropped.
    pub async fn start(
        self,
        addr: impl ToSocketAddrs + fmt::Display,
    ) -> Result<EmulatorHandle, Error> {
        self.config.validate()?;
        let bind_error = |source| Error::Bind {
            addr: addr.to_string(),
            source,
        };
        let listener = TcpListener::bind(&addr).await.map_err(bind_error)?;
        let local = listener.local_addr().map_err(bind_error)?;

        let state = Arc::new(AppState::new(&self.config, self.clock));
        for fault in self.faults {
            state.faults.push(fault);
        }
        let app = Router::new()
            .fallback(dispatch)
            .with_state(state.clone())
            .into_make_service_with_connect_info::<ConnectionControl>();
        let mut closing = state.closing.subscribe();
        let task = tokio::spawn(async move {
            axum::serve(FaultListener(listener), app)
                .with_graceful_shutdown(async move {
                    let _ = closing.wait_for(|closing| *closing).await;
                })
                .await
        });
        tracing::debug!(%local, "token-emulator started");
        Ok(EmulatorHandle {
            addr: local,
            base_url: format!("http://{local}"),
            state,
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it stops the server (without waiting); call
/// [`EmulatorHandle::shutdown`] to stop it and wait until it has stopped.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    base_url: String,
    state: Arc<AppState>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl EmulatorHandle {
    /// `http://HOST:PORT`, the base URL for the Huawei and Cloudforet clients.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `http://HOST:PORT/kms/v1`, the base URL for the NCP KMS client.
    pub fn ncp_base_url(&self) -> String {
        format!("{}/kms/v1", self.base_url)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault; requests take queued faults in order (see [`crate::faults`]).
    pub fn inject(&self, fault: Fault) {
        self.state.faults.push(fault);
    }

    /// Adds a version to an NCP KMS key, as rotating it in the console does: new
    /// ciphertexts and signatures use it, old ones still decrypt and verify, and
    /// re-encrypt moves ciphertexts to it. Returns the new version, or `None` for an
    /// unknown key tag.
    pub fn rotate_ncp_key(&self, key_tag: &str) -> Option<u32> {
        self.state.ncp.rotate_key(key_tag)
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// How many requests queued faults will still disturb.
    pub fn pending_faults(&self) -> usize {
        self.state.faults.pending()
    }

    /// Stops accepting connections, lets requests in flight finish (cutting injected
    /// delays short), and waits for the server task to end.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        self.state.closing.send_replace(true);
        match self.task.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(Error::Server),
                Err(join) => Err(Error::Server(io::Error::other(join.to_string()))),
            },
            None => Ok(()),
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.state.closing.send_replace(true);
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) faults: FaultQueue,
    /// Set once the server is shutting down; cuts injected delays short.
    pub(crate) closing: watch::Sender<bool>,
    pub(crate) ncp: ncp::NcpState,
    pub(crate) huawei: huawei::HuaweiState,
    pub(crate) cloudforet: cloudforet::CloudforetState,
}

impl AppState {
    fn new(config: &Config, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        Self {
            faults: FaultQueue::default(),
            closing: watch::Sender::new(false),
            ncp: ncp::NcpState::new(&config.ncp, now),
            huawei: huawei::HuaweiState::new(&config.huawei, now),
            cloudforet: cloudforet::CloudforetState::new(&config.cloudforet),
            clock,
        }
    }
}

/// One received request, body read, as the services see it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) method: Method,
    /// The path exactly as received (still percent-encoded).
    pub(crate) path: String,
    /// The query exactly as received, without `?`.
    pub(crate) query: Option<String>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
}

impl Incoming {
    /// A header as text (`None` when absent or not visible ASCII).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The parts a signature verifier reads ([`crate::verify`]).
    pub(crate) fn parts(&self) -> crate::verify::RequestParts<'_> {
        crate::verify::RequestParts::new(
            self.method.as_str(),
            &self.path,
            self.query.as_deref(),
            &self.headers,
            &self.body,
        )
    }

    /// The path segments after `prefix`, each percent-decoded on its own; `None` when the
    /// path is outside `prefix` or a segment is not UTF-8.
    pub(crate) fn segments(&self, prefix: &str) -> Option<Vec<String>> {
        let rest = self.path.strip_prefix(prefix)?;
        rest.split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            })
            .collect()
    }

    /// The query's `key=value` pairs, decoded.
    pub(crate) fn query_pairs(&self) -> Vec<(String, String)> {
        let raw = self.query.as_deref().unwrap_or("");
        raw.split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(&s.replace('+', " "))
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (decode(k), decode(v))
            })
            .collect()
    }
}

/// A service's answer: a status and a JSON body (or none, or plain text for instance
/// metadata). Small, so handlers can return `Result<Reply, Reply>` and use `?` on refusals.
#[derive(Debug)]
pub(crate) struct Reply {
    status: StatusCode,
    body: Option<Box<Value>>,
    text: Option<Box<str>>,
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        if let Some(text) = self.text {
            return (
                self.status,
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
                String::from(text),
            )
                .into_response();
        }
        match self.body {
            Some(body) => (
                self.status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body.to_string(),
            )
                .into_response(),
            None => (self.status, Body::empty()).into_response(),
        }
    }
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, body: Value) -> Reply {
    Reply {
        status,
        body: Some(Box::new(body)),
        text: None,
    }
}

/// A plain-text answer (instance metadata answers in text).
pub(crate) fn text(status: StatusCode, body: impl Into<Box<str>>) -> Reply {
    Reply {
        status,
        body: None,
        text: Some(body.into()),
    }
}

async fn dispatch(
    State(state): State<Arc<AppState>>,
    ConnectInfo(connection): ConnectInfo<ConnectionControl>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = random_hex(32);
    let path = parts.uri.path().to_owned();
    let fault = match state.faults.take(&path) {
        Some(FaultKind::Delay(by)) => {
            let mut closing = state.closing.subscribe();
            tokio::select! {
                _ = tokio::time::sleep(by) => {}
                _ = closing.wait_for(|closing| *closing) => {}
            }
            None
        }
        Some(FaultKind::DropConnection) => {
            // Nothing of this answer is written: the connection fails its first write.
            connection.drop_connection();
            Some(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(FaultKind::MalformedBody) => Some(
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"code":"SUCCESS","data":{"accessToken":"#,
            )
                .into_response(),
        ),
        Some(FaultKind::Status {
            status,
            retry_after,
        }) => Some(status_fault(&path, status, retry_after, &request_id)),
        None => None,
    };
    let mut response = match fault {
        Some(response) => response,
        None => match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(body) => {
                let incoming = Incoming {
                    method: parts.method,
                    path,
                    query: parts.uri.query().map(str::to_owned),
                    headers: parts.headers,
                    body,
                    request_id: request_id.clone(),
                };
                route(&state, &incoming).into_response()
            }
            Err(_) => json(
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({"detail": "Request Entity Too Large"}),
            )
            .into_response(),
        },
    };
    let headers = response.headers_mut();
    if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(state.clock.now())) {
        headers.insert(header::DATE, date);
    }
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static("x-request-id"), id);
    }
    response
}

fn route(state: &AppState, incoming: &Incoming) -> Reply {
    let path = incoming.path.as_str();
    tracing::debug!(method = %incoming.method, path, "request");
    if ServicePrefix::Ncp.matches(path) {
        ncp::handle(state, incoming)
    } else if ncp_metadata::serves(path) {
        ncp_metadata::handle(state, incoming)
    } else if ncp_sts::serves(path) {
        ncp_sts::handle(state, incoming)
    } else if ServicePrefix::Huawei.matches(path) {
        huawei::handle(state, incoming)
    } else {
        // Cloudforet's FastAPI answers everything else, as console-api-v2 would.
        cloudforet::handle(state, incoming)
    }
}

fn status_fault(
    path: &str,
    status: u16,
    retry_after: Option<RetryAfter>,
    request_id: &str,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if ServicePrefix::Ncp.matches(path) || ncp_sts::serves(path) {
        ncp::error_for_status(status)
    } else if ncp_metadata::serves(path) {
        text(status, status.canonical_reason().unwrap_or("Error"))
    } else if ServicePrefix::Huawei.matches(path) {
        huawei::error_for_status(status, request_id)
    } else {
        cloudforet::error_for_status(status)
    }
    .into_response();
    let value = match retry_after {
        Some(RetryAfter::Seconds(s)) => Some(s.to_string()),
        Some(RetryAfter::Date(at)) => Some(httpdate::fmt_http_date(at)),
        None => None,
    };
    if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// An answer without a body (used for 204).
pub(crate) fn empty(status: StatusCode) -> Reply {
    Reply {
        status,
        body: None,
        text: None,
    }
}
