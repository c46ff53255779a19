//! Test doubles for code built on these crates (feature `testing`): an in-memory
//! [`HttpClient`] that answers from a closure or a script and records every request, and
//! response builders. With [`ManualClock`](crate::clock::ManualClock) (always available)
//! they let a test drive a client without a network or real time.
//!
//! ```
//! use std::sync::Arc;
//! use token_common::signing::NoSigning;
//! use token_common::testing::{json_response, MemoryHttp};
//! use token_common::{HttpRequest, Transport};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let http = MemoryHttp::new(|_req| json_response(200, &serde_json::json!({"ok": true})));
//! let transport = Transport::builder().http_client(http.clone()).build()?;
//! let url = "https://example.test/v1/x".parse().unwrap();
//! let req = HttpRequest::new(reqwest::Method::GET, url, "/v1/x");
//! let resp = transport.send(req, &NoSigning, None).await?;
//! assert_eq!(resp.status, 200);
//! assert_eq!(http.requests().len(), 1);
//! assert_eq!(http.requests()[0].url.path(), "/v1/x");
//! # Ok::<(), token_common::Error>(())
//! # }).unwrap();
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};

use crate::error::{Error, Result};
use crate::transport::{BoxFuture, HttpClient, HttpRequest, HttpResponse};

type Answer = dyn Fn(&HttpRequest) -> Result<HttpResponse> + Send + Sync;

/// An [`HttpClient`] that answers in memory and records what it was sent.
pub struct MemoryHttp {
    requests: Mutex<Vec<HttpRequest>>,
    answer: Box<Answer>,
}

impl fmt::Debug for MemoryHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryHttp")
            .field("requests", &self.lock().len())
            .finish_non_exhaustive()
    }
}

impl MemoryHttp {
    /// Answers every request with `answer(request)`.
    pub fn new(answer: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static) -> Arc<Self> {
        Self::fallible(move |r| Ok(answer(r)))
    }

    /// Answers with `answer(request)`, which may also fail as a transport would (say,
    /// [`Error::transport`] for a refused connection).
    pub fn fallible(
        answer: impl Fn(&HttpRequest) -> Result<HttpResponse> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            requests: Mutex::new(Vec::new()),
            answer: Box::new(answer),
        })
    }

    /// Answers with `responses` in order, the last one repeating for every later request.
    pub fn sequence(responses: Vec<HttpResponse>) -> Arc<Self> {
        let queue = Mutex::new(VecDeque::from(responses));
        Self::new(move |_| {
            let mut q = queue.lock().unwrap_or_else(PoisonError::into_inner);
            match q.len() {
                0 => panic!("MemoryHttp::sequence needs at least one response"),
                1 => q[0].clone(),
                _ => q.pop_front().expect("not empty"),
            }
        })
    }

    /// Answers with `script` in order; a request past its end fails with a transport
    /// error saying so (a test sending more than it expected sees it at once).
    pub fn script(script: Vec<Result<HttpResponse>>) -> Arc<Self> {
        let queue = Mutex::new(VecDeque::from(script));
        Self::fallible(move |r| {
            queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
                .unwrap_or_else(|| {
                    Err(Error::transport(
                        format!(
                            "MemoryHttp: no scripted answer left for {} {}",
                            r.method,
                            r.url.path()
                        ),
                        false,
                    ))
                })
        })
    }

    /// Every request sent so far, in order (with the headers the signer added).
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.lock().clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<HttpRequest>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HttpClient for MemoryHttp {
    fn execute(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
    ) -> BoxFuture<'_, Result<HttpResponse>> {
        let answer = (self.answer)(&request);
        self.lock().push(request);
        Box::pin(async move {
            let answer = answer?;
            if answer.body.len() > max_body_bytes {
                return Err(Error::ResponseTooLarge {
                    status: answer.status,
                    limit: max_body_bytes,
                });
            }
            Ok(answer)
        })
    }
}

/// A JSON answer with `Content-Type: application/json`.
pub fn json_response(status: u16, body: &serde_json::Value) -> HttpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    HttpResponse::new(
        status,
        headers,
        serde_json::to_vec(body).expect("a JSON value serializes"),
    )
}

/// An answer with `body` as it is and the given headers.
pub fn response(status: u16, headers: &[(&'static str, &str)], body: &[u8]) -> HttpResponse {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            *name,
            HeaderValue::from_str(value).expect("test header values are visible ASCII"),
        );
    }
    HttpResponse::new(status, map, body.to_vec())
}

/// A tracing subscriber that writes every span's and event's fields into one string, so a
/// test can search what a call recorded (for a secret that must not be there, say).
///
/// ```
/// use token_common::testing::TracingCapture;
/// let cap = TracingCapture::default();
/// tracing::subscriber::with_default(cap.clone(), || tracing::info!(path = "/v1/x", "sent"));
/// assert!(cap.text().contains("path=\"/v1/x\""));
/// ```
#[derive(Clone, Default)]
pub struct TracingCapture(Arc<Mutex<String>>);

impl fmt::Debug for TracingCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracingCapture").finish_non_exhaustive()
    }
}

impl TracingCapture {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.lock().clone()
    }

    /// Forgets what was captured.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct FieldWriter<'a>(&'a mut String);

impl tracing::field::Visit for FieldWriter<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl tracing::Subscriber for TracingCapture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut out = self.lock();
        out.push_str("[span ");
        out.push_str(span.metadata().name());
        out.push_str("] ");
        span.record(&mut FieldWriter(&mut out));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut FieldWriter(&mut self.lock()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut out = self.lock();
        out.push_str("[event ");
        out.push_str(event.metadata().level().as_str());
        out.push_str("] ");
        event.record(&mut FieldWriter(&mut out));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
