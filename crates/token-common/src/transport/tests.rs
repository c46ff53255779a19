//! Transport behaviour under paused time, with an in-memory HTTP client.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;

use super::*;
use crate::clock::TokioClock;
use crate::signing::NoSigning;

#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<HttpResponse>>>,
    seen: Mutex<Vec<(tokio::time::Instant, HttpRequest)>>,
}

impl Scripted {
    fn new(answers: Vec<Result<HttpResponse>>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            seen: Mutex::default(),
        })
    }

    fn times(&self) -> Vec<tokio::time::Instant> {
        self.seen.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }
}

impl HttpClient for Scripted {
    fn execute(&self, request: HttpRequest, _max: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        self.seen
            .lock()
            .unwrap()
            .push((tokio::time::Instant::now(), request));
        let next = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("more attempts than scripted answers");
        Box::pin(async move { next })
    }
}

fn answer(status: u16, headers: &[(&'static str, String)]) -> Result<HttpResponse> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    Ok(HttpResponse {
        status,
        headers: map,
        body: Vec::new(),
    })
}

fn transport(http: Arc<Scripted>, clock: Arc<dyn Clock>) -> Transport {
    Transport::builder()
        .http_client(http)
        .clock(clock)
        .backoff(Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        })
        .build()
        .unwrap()
}

fn get() -> HttpRequest {
    HttpRequest::new(
        Method::GET,
        url::Url::parse("https://example.test/x").unwrap(),
        "/x",
    )
}

fn post() -> HttpRequest {
    HttpRequest::new(
        Method::POST,
        url::Url::parse("https://example.test/x").unwrap(),
        "/x",
    )
}

#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let http = Scripted::new(vec![
        answer(429, &[("retry-after", "1".into())]),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let r = t.send(post(), &NoSigning, None).await.unwrap();
    assert_eq!(r.status, 200);
    let times = http.times();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(1));
    assert!(times[1] - times[0] < Duration::from_millis(1100));
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    let clock = Arc::new(TokioClock::new());
    let at = clock.now() + Duration::from_secs(3);
    let http = Scripted::new(vec![
        answer(503, &[("retry-after", httpdate::fmt_http_date(at))]),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), clock);
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);
    let times = http.times();
    // HTTP dates have whole-second resolution.
    assert!(times[1] - times[0] >= Duration::from_secs(2));
    assert!(times[1] - times[0] <= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn retry_after_beyond_the_cap_ends_the_retries() {
    let http = Scripted::new(vec![answer(429, &[("retry-after", "3600".into())])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let r = t.send(post(), &NoSigning, None).await.unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(http.times().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_stay_under_the_full_jitter_ceiling() {
    let http = Scripted::new(vec![answer(503, &[]), answer(502, &[]), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(post(), &NoSigning, None).await.unwrap().status, 200);
    let times = http.times();
    assert_eq!(times.len(), 3);
    assert!(times[1] - times[0] <= Duration::from_millis(100));
    assert!(times[2] - times[1] <= Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn attempts_are_bounded_and_the_last_answer_returned() {
    let http = Scripted::new(vec![answer(503, &[]), answer(503, &[]), answer(503, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 503);
    assert_eq!(http.times().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn other_4xx_and_5xx_are_not_retried() {
    for status in [400, 401, 403, 404, 409, 500] {
        let http = Scripted::new(vec![answer(status, &[])]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        assert_eq!(
            t.send(get(), &NoSigning, None).await.unwrap().status,
            status
        );
        assert_eq!(http.times().len(), 1, "{status}");
    }
}

fn reset() -> Result<HttpResponse> {
    Err(Error::Transport {
        message: "connection reset".into(),
        connect: false,
        source: None,
    })
}

fn refused() -> Result<HttpResponse> {
    Err(Error::Transport {
        message: "connection refused".into(),
        connect: true,
        source: None,
    })
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_for_every_method() {
    let http = Scripted::new(vec![refused(), answer(201, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(post(), &NoSigning, None).await.unwrap().status, 201);
}

#[tokio::test(start_paused = true)]
async fn a_reset_after_sending_is_retried_only_for_get() {
    let http = Scripted::new(vec![reset(), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);

    let http = Scripted::new(vec![reset()]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let e = t.send(post(), &NoSigning, None).await.unwrap_err();
    assert!(
        matches!(e, Error::Transport { connect: false, .. }),
        "{e:?}"
    );
    assert_eq!(http.times().len(), 1);
}

/// Records the signing time of every attempt.
#[derive(Debug, Default)]
struct RecordingSigner(Mutex<Vec<SystemTime>>);

impl Signer for RecordingSigner {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()> {
        self.0.lock().unwrap().push(now);
        let n = self.0.lock().unwrap().len();
        request
            .headers
            .insert("x-attempt-signature", HeaderValue::from(n as u64));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn each_attempt_is_signed_afresh() {
    let http = Scripted::new(vec![answer(503, &[]), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let signer = RecordingSigner::default();
    t.send(post(), &signer, None).await.unwrap();
    let seen = http.seen.lock().unwrap();
    assert_eq!(seen[0].1.headers["x-attempt-signature"], "1");
    assert_eq!(seen[1].1.headers["x-attempt-signature"], "2");
    let times = signer.0.lock().unwrap();
    assert!(times[1] > times[0], "second attempt signed at a later time");
}

fn always_refused(r: &HttpResponse) -> bool {
    r.status == 401
}

#[tokio::test(start_paused = true)]
async fn clock_skew_is_measured_from_date_corrected_once_and_kept() {
    let clock = Arc::new(TokioClock::new());
    let server_time = clock.now() + Duration::from_secs(600);
    let http = Scripted::new(vec![
        answer(401, &[("date", httpdate::fmt_http_date(server_time))]),
        answer(200, &[]),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), clock.clone());
    let signer = RecordingSigner::default();
    let r = t.send(post(), &signer, Some(always_refused)).await.unwrap();
    assert_eq!(r.status, 200);
    let skew = t.clock_skew_ms();
    assert!((599_000..=601_000).contains(&skew), "{skew}");
    // A later call is signed with the corrected time straight away.
    t.send(post(), &signer, Some(always_refused)).await.unwrap();
    let times = signer.0.lock().unwrap().clone();
    assert_eq!(times.len(), 3);
    for t in &times[1..] {
        let off = t.duration_since(clock.now()).unwrap();
        assert!(off >= Duration::from_secs(599), "{off:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_refusal_with_a_matching_clock_is_not_put_down_to_skew() {
    let clock = Arc::new(TokioClock::new());
    let http = Scripted::new(vec![answer(
        401,
        &[("date", httpdate::fmt_http_date(clock.now()))],
    )]);
    let t = transport(http.clone(), clock);
    let r = t
        .send(post(), &NoSigning, Some(always_refused))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(http.times().len(), 1);
    assert_eq!(t.clock_skew_ms(), 0);
}

#[tokio::test(start_paused = true)]
async fn skew_correction_happens_at_most_once_per_call() {
    let clock = Arc::new(TokioClock::new());
    let far = httpdate::fmt_http_date(clock.now() + Duration::from_secs(3600));
    let farther = httpdate::fmt_http_date(clock.now() + Duration::from_secs(7200));
    let http = Scripted::new(vec![
        answer(401, &[("date", far)]),
        answer(401, &[("date", farther)]),
    ]);
    let t = transport(http.clone(), clock);
    let r = t
        .send(post(), &NoSigning, Some(always_refused))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(http.times().len(), 2);
}

#[test]
fn endpoints_must_be_https_except_loopback() {
    let ok = [
        "https://ocapi.ncloud.com/kms/v1",
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:1",
        "http://[::1]:9000/x",
    ];
    for u in ok {
        check_endpoint("endpoint", &url::Url::parse(u).unwrap(), false).unwrap();
    }
    for u in [
        "http://ocapi.ncloud.com",
        "http://10.0.0.1",
        "ftp://x.test",
        "https://user:pw@x.test",
    ] {
        let e = check_endpoint("endpoint", &url::Url::parse(u).unwrap(), false).unwrap_err();
        assert_eq!(e.field(), Some("endpoint"), "{u}");
        assert!(!e.to_string().contains("pw@"), "{e}");
    }
    check_endpoint("endpoint", &url::Url::parse("http://x.test").unwrap(), true).unwrap();
}

#[test]
fn builder_refuses_nonsense_settings() {
    assert_eq!(
        Transport::builder()
            .max_attempts(0)
            .build()
            .unwrap_err()
            .field(),
        Some("max_attempts")
    );
    assert_eq!(
        Transport::builder()
            .attempt_timeout(Duration::ZERO)
            .build()
            .unwrap_err()
            .field(),
        Some("attempt_timeout")
    );
    assert_eq!(
        Transport::builder()
            .user_agent("a\nb")
            .build()
            .unwrap_err()
            .field(),
        Some("user_agent")
    );
}

/// A tracing subscriber that writes every span and event field into one string.
mod capture {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Default)]
    pub struct Capture(pub Arc<Mutex<String>>);

    struct Writer<'a>(&'a mut String);

    impl Visit for Writer<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, "{}={:?} ", field.name(), value);
        }
    }

    impl Subscriber for Capture {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut out = self.0.lock().unwrap();
            let _ = write!(out, "[span {}] ", span.metadata().name());
            span.record(&mut Writer(&mut out));
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, values: &Record<'_>) {
            values.record(&mut Writer(&mut self.0.lock().unwrap()));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut out = self.0.lock().unwrap();
            out.push_str("[event] ");
            event.record(&mut Writer(&mut out));
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}

#[test]
fn tracing_records_method_path_template_attempt_and_status_but_no_secret() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let cap = capture::Capture::default();
    let _guard = tracing::subscriber::set_default(cap.clone());
    let http = Scripted::new(vec![answer(503, &[]), answer(200, &[])]);
    let t = transport(http, Arc::new(TokioClock::new()));
    let req = HttpRequest::new(
        Method::POST,
        url::Url::parse("https://example.test/keys/SECRET-ID-IN-PATH/token-set?q=SECRET-Q")
            .unwrap(),
        "/keys/{keyTag}/token-set",
    )
    .secret_header(
        reqwest::header::HeaderName::from_static("x-ncp-ocapi-token"),
        &crate::SecretString::new("SECRET-TOKEN-VALUE"),
        "refresh_token",
    )
    .unwrap()
    .json(&serde_json::json!({"password": "SECRET-PASSWORD"}))
    .unwrap();
    rt.block_on(t.send(req, &NoSigning, None)).unwrap();
    let log = cap.0.lock().unwrap().clone();
    for needle in [
        "method=POST",
        "/keys/{keyTag}/token-set",
        "attempt=2",
        "status=200",
    ] {
        assert!(log.contains(needle), "missing {needle} in {log}");
    }
    for secret in [
        "SECRET-TOKEN-VALUE",
        "SECRET-PASSWORD",
        "SECRET-ID-IN-PATH",
        "SECRET-Q",
    ] {
        assert!(!log.contains(secret), "{secret} reached tracing: {log}");
    }
}
