//! The NCP server-role provider: exact metadata requests (v2 session token first, v1
//! fallback), the role id's first line, `Expiration` in both suffix forms, the override
//! variables, refusals that say what to do, and keys rotated under paused time with one
//! metadata round per key.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use token_common::clock::{Clock, TokioClock};
use token_common::credentials::{CredentialsCache, Environment, LoadCredentials, NcpServerRole};
use token_common::transport::{BoxFuture, HttpClient};
use token_common::{HttpRequest, HttpResponse, Result};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "ncp_iam_BPKSKR_role_SECRET_never_shown";
const SESSION: &str = "metadata-session-token-0123456789";
const LIST: &str = "/latest/meta-data/iam/security-credentials/";

fn keys_body(expiration: &str) -> serde_json::Value {
    serde_json::json!({
        "AccessKeyId": "ncp_iam_BPAMKR_role",
        "SecretAccessKey": SECRET,
        "Expiration": expiration,
        "Code": "Success",
        "Message": "",
    })
}

fn role(server: &MockServer) -> NcpServerRole {
    NcpServerRole::new().with_environment(Environment::from_pairs([(
        "NCLOUD_METADATA_ENDPOINT",
        server.uri(),
    )]))
}

async fn mount_keys(server: &MockServer, expiration: &str) {
    Mock::given(method("GET"))
        .and(path(LIST))
        .respond_with(ResponseTemplate::new(200).set_body_string("my-role\nsecond-line\n"))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{LIST}my-role")))
        .respond_with(ResponseTemplate::new(200).set_body_json(keys_body(expiration)))
        .mount(server)
        .await;
}

fn header_of<'a>(r: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn v2_session_token_is_asked_first_and_sent_on_every_get() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/latest/api/token"))
        .and(header("x-ncp-metadata-token-ttl-seconds", "21600"))
        .respond_with(ResponseTemplate::new(200).set_body_string(SESSION))
        .mount(&server)
        .await;
    mount_keys(&server, "2024-10-10T17:58:28Z").await;

    let keys = role(&server).load().await.expect("role keys");
    assert_eq!(keys.value.access_key(), "ncp_iam_BPAMKR_role");
    assert_eq!(keys.value.secret_key().expose_secret(), SECRET);
    assert_eq!(
        keys.expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(1_728_583_108))
    );

    let sent = server.received_requests().await.unwrap();
    let lines: Vec<(String, String, Option<&str>)> = sent
        .iter()
        .map(|r| {
            (
                r.method.to_string(),
                r.url.path().to_owned(),
                header_of(r, "x-ncp-metadata-token"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("PUT".into(), "/latest/api/token".into(), None),
            ("GET".into(), LIST.into(), Some(SESSION)),
            ("GET".into(), format!("{LIST}my-role"), Some(SESSION)),
        ]
    );
    assert_eq!(
        header_of(&sent[0], "x-ncp-metadata-token-ttl-seconds"),
        Some("21600")
    );
}

#[tokio::test]
async fn a_server_without_v2_is_read_the_v1_way() {
    for put_status in [404, 405, 403] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(put_status))
            .mount(&server)
            .await;
        mount_keys(&server, "2024-10-10T17:58:28+0000").await;
        let keys = role(&server).load().await.expect("v1 keys");
        assert_eq!(
            keys.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_728_583_108)),
            "+0000 reads as Z"
        );
        let sent = server.received_requests().await.unwrap();
        assert_eq!(sent.len(), 3);
        for get in &sent[1..] {
            assert_eq!(get.method.as_str(), "GET");
            assert_eq!(header_of(get, "x-ncp-metadata-token"), None);
        }
    }
}

#[tokio::test]
async fn both_override_variables_are_honoured_python_name_first() {
    let server = MockServer::start().await;
    mount_keys(&server, "2024-10-10T17:58:28Z").await;
    let go_only = NcpServerRole::new().with_environment(Environment::from_pairs([(
        "NCLOUD_METADATA_API_ENDPOINT",
        server.uri(),
    )]));
    assert!(go_only.describe().contains(&server.uri()));
    go_only.load().await.expect("the Go SDK's name works");
    let both = NcpServerRole::new().with_environment(Environment::from_pairs([
        ("NCLOUD_METADATA_ENDPOINT", server.uri()),
        (
            "NCLOUD_METADATA_API_ENDPOINT",
            "http://127.0.0.1:9".to_owned(),
        ),
    ]));
    both.load().await.expect("NCLOUD_METADATA_ENDPOINT wins");
    let default = NcpServerRole::new().with_environment(Environment::from_pairs([("X", "y")]));
    assert!(default.describe().contains("http://169.254.169.254"));
}

#[tokio::test]
async fn an_unreachable_metadata_service_says_so() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let role = NcpServerRole::new().endpoint(&format!("http://{addr}"));
    let e = role.load().await.unwrap_err();
    assert!(e.is_credentials_not_found(), "{e}");
    assert!(e.to_string().contains("not an NCP server"), "{e}");
}

#[tokio::test]
async fn refusals_and_garbage_are_clear_errors_without_the_secret() {
    let cases: Vec<(u16, serde_json::Value, &str)> = vec![
        (404, serde_json::Value::Null, "no role is attached"),
        (401, serde_json::Value::Null, "v2 session token"),
        (
            200,
            serde_json::json!({"Code": "Failure", "Message": "role detached", "SecretAccessKey": SECRET}),
            "role detached",
        ),
        (
            200,
            serde_json::json!({"AccessKeyId": "a", "SecretAccessKey": SECRET}),
            "no Expiration",
        ),
        (
            200,
            serde_json::json!({"AccessKeyId": "a", "SecretAccessKey": SECRET, "Expiration": "soon"}),
            "not an RFC 3339",
        ),
        (
            200,
            serde_json::json!({"AccessKeyId": "a", "Expiration": "2024-10-10T17:58:28Z"}),
            "no SecretAccessKey",
        ),
        (200, serde_json::json!(["x"]), "not the documented JSON"),
    ];
    for (status, body, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(LIST))
            .respond_with(ResponseTemplate::new(200).set_body_string("my-role"))
            .mount(&server)
            .await;
        let answer = if body.is_null() {
            ResponseTemplate::new(status)
        } else {
            ResponseTemplate::new(status).set_body_json(body)
        };
        Mock::given(method("GET"))
            .and(path(format!("{LIST}my-role")))
            .respond_with(answer)
            .mount(&server)
            .await;
        let e = role(&server).load().await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(shown.contains(expected), "{expected}: {shown}");
        assert!(!shown.contains(SECRET), "secret leaked: {shown}");
        assert!(
            !e.is_credentials_not_found(),
            "a broken source stops a chain: {e}"
        );
    }
}

/// Instance metadata in memory: each credentials GET hands out the next key, valid an
/// hour from the (paused) tokio clock's now.
struct Metadata {
    clock: TokioClock,
    sent: Mutex<Vec<String>>,
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metadata")
    }
}

impl HttpClient for Metadata {
    fn execute(&self, req: HttpRequest, _: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        let line = format!("{} {}", req.method, req.url.path());
        let mut sent = self.sent.lock().unwrap();
        let keys_sent = sent.iter().filter(|l| l.ends_with("/my-role")).count();
        sent.push(line.clone());
        let now: SystemTime = self.clock.now();
        let (status, body) = match line.as_str() {
            "PUT /latest/api/token" => (200, SESSION.to_owned()),
            l if l.ends_with(LIST) => (200, "my-role".to_owned()),
            _ => (
                200,
                serde_json::json!({
                    "AccessKeyId": format!("KEY{keys_sent}"),
                    "SecretAccessKey": SECRET,
                    "Expiration": rfc3339(now + Duration::from_secs(3600)),
                    "Code": "Success",
                })
                .to_string(),
            ),
        };
        Box::pin(async move {
            Ok(HttpResponse::new(
                status,
                Default::default(),
                body.into_bytes(),
            ))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn keys_rotate_ahead_of_expiry_with_one_metadata_round_each() {
    let clock = TokioClock::new();
    let http = Arc::new(Metadata {
        clock,
        sent: Mutex::new(Vec::new()),
    });
    let role = NcpServerRole::new()
        .endpoint("http://169.254.169.254")
        .http_client(http.clone())
        .clock(Arc::new(clock));
    let cache = CredentialsCache::new(role)
        .with_clock(Arc::new(clock))
        .with_rng_seed(7);

    let mut seen = Vec::new();
    // Ten hours in one-minute steps, 100 callers at each step.
    for _ in 0..600 {
        let gets: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await })
            })
            .collect();
        for got in gets {
            let got = got.await.unwrap().expect("valid keys");
            assert!(got.expires_at.unwrap() > clock.now(), "never expired keys");
            if seen.last() != Some(&got.value.access_key().to_owned()) {
                seen.push(got.value.access_key().to_owned());
            }
        }
        tokio::time::advance(Duration::from_secs(60)).await;
    }
    // A new key about every 51-55 minutes: ten or eleven keys in ten hours.
    assert!((10..=13).contains(&seen.len()), "{seen:?}");
    let expected: Vec<String> = (0..seen.len()).map(|n| format!("KEY{n}")).collect();
    assert_eq!(seen, expected, "each key used until replaced, none skipped");
    let sent = http.sent.lock().unwrap();
    let rounds = sent.iter().filter(|l| l.starts_with("PUT")).count();
    assert_eq!(rounds, seen.len(), "one metadata round per key: {sent:?}");
    assert_eq!(sent.len(), 3 * seen.len());
}

/// `YYYY-MM-DDTHH:MM:SSZ` for the fake metadata (days to a civil date: Howard Hinnant's
/// algorithm).
fn rfc3339(t: SystemTime) -> String {
    let secs = token_common::clock::unix_seconds(t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+0000",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}
