//! Transport behaviour under paused time, with an in-memory HTTP client.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;

use super::*;
use crate::clock::TokioClock;
use crate::error::ServiceError;
use crate::request::NoSigning;

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
    Ok(HttpResponse::new(status, map, Vec::new()))
}

const SEED: u64 = 42;

fn transport(http: Arc<Scripted>, clock: Arc<dyn Clock>) -> Transport {
    Transport::builder()
        .http_client(http)
        .clock(clock)
        .jitter_seed(SEED)
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
async fn backoff_waits_are_the_seeded_full_jitter_draws() {
    let http = Scripted::new(vec![answer(503, &[]), answer(502, &[]), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);
    let times = http.times();
    assert_eq!(times.len(), 3);
    // The waits are exactly what the seeded generator draws under each ceiling: a wait
    // happens (not zero), and stays under the ceiling of its retry.
    let backoff = t.config().backoff;
    let mut rng = fastrand::Rng::with_seed(SEED);
    for (n, pair) in (1u32..).zip(times.windows(2)) {
        let expected = backoff.delay_from(n, &mut rng);
        assert!(expected > Duration::from_millis(1) && expected <= backoff.ceiling(n));
        // tokio's timer rounds a sleep up to the next millisecond.
        let waited = pair[1] - pair[0];
        assert!(
            waited >= expected && waited <= expected + Duration::from_millis(1),
            "wait before retry {n}: {waited:?}, drawn {expected:?}"
        );
    }
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
    Err(Error::transport("connection reset", false))
}

fn refused() -> Result<HttpResponse> {
    Err(Error::transport("connection refused", true))
}

/// What a client makes of a final answer: its service error, with the classification the
/// transport recorded.
fn as_error(r: &HttpResponse) -> Error {
    ServiceError::new(r.status, r.status.to_string(), "")
        .with_response(r, SystemTime::UNIX_EPOCH)
        .into()
}

#[tokio::test(start_paused = true)]
async fn post_502_and_504_are_sent_once_and_not_retryable() {
    for status in [502, 504] {
        let http = Scripted::new(vec![answer(status, &[]), answer(201, &[])]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        let r = t.send(post(), &NoSigning, None).await.unwrap();
        assert_eq!(r.status, status);
        assert_eq!(http.times().len(), 1, "POST + {status} sent again");
        assert_eq!(r.idempotency, Idempotency::NonIdempotent);
        assert!(!as_error(&r).is_retryable(), "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn post_503_and_429_are_retried_and_retryable() {
    for status in [503, 429] {
        let http = Scripted::new(vec![answer(status, &[]), answer(201, &[])]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        assert_eq!(t.send(post(), &NoSigning, None).await.unwrap().status, 201);
        assert_eq!(http.times().len(), 2, "{status}");
        // When the attempts run out, the error says what the transport did: retryable.
        let http = Scripted::new(vec![answer(status, &[]); 3]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        let r = t.send(post(), &NoSigning, None).await.unwrap();
        assert_eq!(http.times().len(), 3);
        assert!(as_error(&r).is_retryable(), "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn post_connection_refused_is_retried_and_retryable() {
    let http = Scripted::new(vec![refused(), answer(201, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(post(), &NoSigning, None).await.unwrap().status, 201);
    assert_eq!(http.times().len(), 2);

    let http = Scripted::new(vec![refused(), refused(), refused()]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let e = t.send(post(), &NoSigning, None).await.unwrap_err();
    assert_eq!(http.times().len(), 3);
    assert!(e.is_connect() && e.is_retryable(), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn get_502_and_504_are_retried_and_retryable() {
    for status in [502, 504] {
        let http = Scripted::new(vec![answer(status, &[]), answer(200, &[])]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);
        assert_eq!(http.times().len(), 2, "{status}");

        let http = Scripted::new(vec![answer(status, &[]); 3]);
        let t = transport(http.clone(), Arc::new(TokioClock::new()));
        let r = t.send(get(), &NoSigning, None).await.unwrap();
        assert_eq!(http.times().len(), 3);
        assert_eq!(r.idempotency, Idempotency::Idempotent);
        assert!(as_error(&r).is_retryable(), "{status}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_post_timeout_is_not_retried_and_not_retryable_a_get_timeout_is() {
    #[derive(Debug)]
    struct Hang(Mutex<u32>);
    impl HttpClient for Hang {
        fn execute(&self, _: HttpRequest, _: usize) -> BoxFuture<'_, Result<HttpResponse>> {
            *self.0.lock().unwrap() += 1;
            Box::pin(std::future::pending())
        }
    }
    for (req, attempts, retryable) in [(post(), 1, false), (get(), 3, true)] {
        let hang = Arc::new(Hang(Mutex::new(0)));
        let t = Transport::builder()
            .http_client(hang.clone())
            .clock(Arc::new(TokioClock::new()))
            .attempt_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let e = t.send(req, &NoSigning, None).await.unwrap_err();
        assert!(e.is_timeout(), "{e:?}");
        assert_eq!(*hang.0.lock().unwrap(), attempts);
        assert_eq!(e.is_retryable(), retryable);
    }
}

#[tokio::test(start_paused = true)]
async fn an_explicit_classification_overrides_the_method() {
    // A PUT that mints something, marked non-idempotent: a 502 is final.
    let put = HttpRequest::new(
        Method::PUT,
        url::Url::parse("https://example.test/x").unwrap(),
        "/x",
    )
    .with_idempotency(Idempotency::NonIdempotent);
    let http = Scripted::new(vec![answer(502, &[]), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let r = t.send(put, &NoSigning, None).await.unwrap();
    assert_eq!((r.status, http.times().len()), (502, 1));
    assert!(!as_error(&r).is_retryable());

    // A POST that only reads, marked idempotent: a 502 is retried.
    let http = Scripted::new(vec![answer(502, &[]), answer(200, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    let req = post().with_idempotency(Idempotency::Idempotent);
    assert_eq!(t.send(req, &NoSigning, None).await.unwrap().status, 200);
    assert_eq!(http.times().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn connection_failures_are_retried_for_every_method() {
    let http = Scripted::new(vec![refused(), answer(201, &[])]);
    let t = transport(http.clone(), Arc::new(TokioClock::new()));
    assert_eq!(t.send(post(), &NoSigning, None).await.unwrap().status, 201);
}

#[tokio::test(start_paused = true)]
async fn a_reset_after_sending_is_retried_only_for_idempotent_requests() {
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
    assert!(!e.is_retryable());
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
    let skew = t.clock_skew_ms_at(&post().url);
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
        .send(post(), &RecordingSigner::default(), Some(always_refused))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(http.times().len(), 1);
    assert_eq!(t.clock_skew_ms_at(&post().url), 0);
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
        .send(post(), &RecordingSigner::default(), Some(always_refused))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(http.times().len(), 2);
}

fn post_to(url: &str) -> HttpRequest {
    HttpRequest::new(Method::POST, url::Url::parse(url).unwrap(), "/x")
}

#[tokio::test(start_paused = true)]
async fn skew_is_kept_per_endpoint_never_shared_across_servers() {
    let clock = Arc::new(TokioClock::new());
    let ahead = httpdate::fmt_http_date(clock.now() + Duration::from_secs(600));
    let http = Scripted::new(vec![
        answer(401, &[("date", ahead)]),
        answer(200, &[]),
        answer(200, &[]),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), clock.clone());
    let signer = RecordingSigner::default();
    let a = "https://a.test:8443/kms/v1/x";
    t.send(post_to(a), &signer, Some(always_refused))
        .await
        .unwrap();
    // Another server (another host, or the same host on another port) keeps its own clock.
    t.send(
        post_to("https://b.test:8443/v1/y"),
        &signer,
        Some(always_refused),
    )
    .await
    .unwrap();
    t.send(
        post_to("https://a.test:9443/kms/v1/x"),
        &signer,
        Some(always_refused),
    )
    .await
    .unwrap();
    let times = signer.0.lock().unwrap().clone();
    assert_eq!(times.len(), 4);
    let local = clock.now();
    assert!(times[1].duration_since(local).unwrap() >= Duration::from_secs(599));
    for (i, signed) in times[2..].iter().enumerate() {
        let off = skew::offset_ms(*signed, local).abs();
        assert!(
            off < 1_000,
            "call {i} to another endpoint signed {off} ms off"
        );
    }
    assert!(t.clock_skew_ms_at(&url::Url::parse("https://a.test:8443/other").unwrap()) > 599_000);
    assert_eq!(
        t.clock_skew_ms_at(&url::Url::parse("https://b.test:8443/").unwrap()),
        0
    );
    assert_eq!(
        t.clock_skew_ms_at(&url::Url::parse("https://a.test:9443/").unwrap()),
        0
    );
    assert!(t.now_at(&url::Url::parse(a).unwrap()) > t.now() + Duration::from_secs(599));
}

#[tokio::test(start_paused = true)]
async fn an_unsigned_request_is_never_put_down_to_skew() {
    let clock = Arc::new(TokioClock::new());
    let far = httpdate::fmt_http_date(clock.now() + Duration::from_secs(3600));
    let http = Scripted::new(vec![answer(401, &[("date", far)])]);
    let t = transport(http.clone(), clock);
    let r = t
        .send(post(), &NoSigning, Some(always_refused))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(http.times().len(), 1, "an unsigned refusal is not re-sent");
    assert_eq!(t.clock_skew_ms_at(&post().url), 0);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_measured_against_the_answers_date() {
    // The local clock is an hour behind the server: against it, a date 3 s ahead of the
    // server would be a wait of an hour and three seconds (over the cap: no retry).
    let clock = Arc::new(TokioClock::new());
    let server_now = clock.now() + Duration::from_secs(3600);
    let http = Scripted::new(vec![
        answer(
            503,
            &[
                ("date", httpdate::fmt_http_date(server_now)),
                (
                    "retry-after",
                    httpdate::fmt_http_date(server_now + Duration::from_secs(3)),
                ),
            ],
        ),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), clock);
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);
    let times = http.times();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(2));
    assert!(times[1] - times[0] <= Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_without_a_date_header_uses_the_local_clock() {
    let clock = Arc::new(TokioClock::new());
    let http = Scripted::new(vec![
        answer(
            503,
            &[
                ("date", "not a date".into()),
                (
                    "retry-after",
                    httpdate::fmt_http_date(clock.now() + Duration::from_secs(4)),
                ),
            ],
        ),
        answer(200, &[]),
    ]);
    let t = transport(http.clone(), clock);
    assert_eq!(t.send(get(), &NoSigning, None).await.unwrap().status, 200);
    let times = http.times();
    assert!(times[1] - times[0] >= Duration::from_secs(3));
    assert!(times[1] - times[0] <= Duration::from_secs(4));
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

// The tracing capture test lives in `tests/tracing_capture.rs`, alone in its binary:
// tracing caches each call site's interest process-wide, so a capture racing other tests'
// threads could miss events.
