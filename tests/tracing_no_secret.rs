//! A tracing capture of a full failing call of each service — NCP signed with account
//! keys, NCP in token mode, Huawei signed with temporary keys, Cloudforet with a password —
//! holds none of the call's secrets, and neither does the error it ends with. Every call is
//! retried (503, 503) and then refused (401), so every attempt's tracing is in the capture.
//!
//! One test in this binary on purpose: tracing caches each call site's interest
//! process-wide, and a capture installed while other tests' threads first reach the same
//! call sites can miss events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use cloud_tokens::cloudforet::{Credentials, IdentityClient, LoginOptions, Session};
use cloud_tokens::common::clock::TokioClock;
use cloud_tokens::common::transport::{is_sensitive_header, Backoff, BoxFuture, HttpClient};
use cloud_tokens::common::{HttpRequest, HttpResponse, Result, Transport};
use cloud_tokens::huawei::{HuaweiCredentials, IdentityStoreClient};
use cloud_tokens::ncp::{KmsClient, NcpCredentials, TokenSetOptions};
use token_common::testing::TracingCapture;

/// Answers 503, 503, then `refusal`; keeps every credential header value it was sent
/// (signatures included), so the test can look for each one in the capture.
#[derive(Debug)]
struct Refusing {
    answers: Mutex<VecDeque<HttpResponse>>,
    sent_secrets: Mutex<Vec<String>>,
    attempts: Mutex<usize>,
}

impl Refusing {
    fn new(refusal: &str) -> Arc<Self> {
        let answer = |status: u16, body: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("x-request-id", "req-1".parse().unwrap());
            HttpResponse::new(status, headers, body.as_bytes().to_vec())
        };
        Arc::new(Self {
            answers: Mutex::new(
                vec![answer(503, "{}"), answer(503, "{}"), answer(401, refusal)].into(),
            ),
            sent_secrets: Mutex::default(),
            attempts: Mutex::new(0),
        })
    }
}

impl HttpClient for Refusing {
    fn execute(&self, request: HttpRequest, _max: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        *self.attempts.lock().unwrap() += 1;
        let mut secrets = self.sent_secrets.lock().unwrap();
        for (name, value) in &request.headers {
            if is_sensitive_header(name) || value.is_sensitive() {
                let value = value.to_str().unwrap().to_owned();
                // Each part of an `Authorization` value too (the signature alone).
                secrets.extend(
                    value
                        .split([' ', ',', '='])
                        .filter(|p| p.len() >= 16)
                        .map(str::to_owned),
                );
                secrets.push(value);
            }
        }
        let next = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("3 attempts");
        Box::pin(async move { Ok(next) })
    }
}

fn transport(http: Arc<Refusing>) -> Transport {
    Transport::builder()
        .http_client(http)
        .clock(Arc::new(TokioClock::new()))
        .backoff(Backoff::new(
            std::time::Duration::from_millis(1),
            std::time::Duration::from_millis(5),
        ))
        .build()
        .unwrap()
}

const NCP_ACCESS_KEY: &str = "NCP-ACCESS-KEY-ID-0001";
const NCP_SECRET_KEY: &str = "NCP-SECRET-KEY-must-not-leak";
const NCP_REFRESH_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJ0eXAiOiJSRUZSRVNIIn0.NCP-REFRESH-TOKEN";
const HW_AK: &str = "HW-ACCESS-KEY-ID-0001";
const HW_SK: &str = "HW-SECRET-KEY-must-not-leak";
const HW_SECURITY_TOKEN: &str = "HW-SECURITY-TOKEN-must-not-leak";
const PASSWORD: &str = "CLOUDFORET-PASSWORD-must-not-leak";

#[test]
fn a_full_failing_call_of_each_service_traces_no_secret() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let cap = TracingCapture::default();
    let _guard = tracing::subscriber::set_default(cap.clone());

    type Call = Box<dyn Fn(Transport) -> BoxFuture<'static, String>>;
    let calls: Vec<(&str, &str, Call)> = vec![
        (
            "NCP signed",
            r#"{"error":{"errorCode":"200","message":"Authentication Failed"}}"#,
            Box::new(|t| {
                Box::pin(async move {
                    let client = KmsClient::builder()
                        .credentials(NcpCredentials::new(NCP_ACCESS_KEY, NCP_SECRET_KEY))
                        .endpoint("https://kms.example.test/kms/v1")
                        .transport(t)
                        .build()
                        .unwrap();
                    let e = client
                        .create_token_set("key-tag", TokenSetOptions::new())
                        .await
                        .unwrap_err();
                    format!("{e} {e:?}")
                })
            }),
        ),
        (
            "NCP token mode",
            r#"{"code":"UNAUTHORIZED","msg":"invalid token"}"#,
            Box::new(|t| {
                Box::pin(async move {
                    let client = KmsClient::builder()
                        .refresh_token("key-tag", NCP_REFRESH_TOKEN)
                        .endpoint("https://kms.example.test/kms/v1")
                        .transport(t)
                        .build()
                        .unwrap();
                    let e = client.access_token().await.unwrap_err();
                    format!("{e} {e:?}")
                })
            }),
        ),
        (
            "Huawei",
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
            Box::new(|t| {
                Box::pin(async move {
                    let client = IdentityStoreClient::builder()
                        .endpoint("https://identitystore.example.test")
                        .credentials(
                            HuaweiCredentials::new(HW_AK, HW_SK)
                                .with_security_token(HW_SECURITY_TOKEN)
                                .with_project_id("project-1"),
                        )
                        .transport(t)
                        .build()
                        .unwrap();
                    let e = client
                        .create_bearer_token("d-1234567890", "tenant-1")
                        .await
                        .unwrap_err();
                    format!("{e} {e:?}")
                })
            }),
        ),
        (
            "Cloudforet",
            r#"{"detail":{"code":"ERROR_AUTHENTICATE_FAILURE","message":"Authenticate failure. (message =  Invalid credentials provided.)"}}"#,
            Box::new(|t| {
                Box::pin(async move {
                    let client = IdentityClient::builder()
                        .endpoint("https://console-api.example.test")
                        .transport(t)
                        .build()
                        .unwrap();
                    let e = Session::login(
                        &client,
                        LoginOptions::new(Credentials::local("alice", PASSWORD), "domain-1"),
                    )
                    .await
                    .unwrap_err();
                    format!("{e} {e:?}")
                })
            }),
        ),
    ];

    for (name, refusal, call) in calls {
        cap.clear();
        let http = Refusing::new(refusal);
        let error = rt.block_on(call(transport(http.clone())));
        let log = format!("{} {error}", cap.text());
        assert_eq!(
            *http.attempts.lock().unwrap(),
            3,
            "{name}: retried, then refused"
        );
        assert!(
            log.contains("attempt=3"),
            "{name}: the capture saw every attempt: {log}"
        );
        assert!(log.contains("401"), "{name}: {log}");
        let mut secrets = http.sent_secrets.lock().unwrap().clone();
        if name != "Cloudforet" {
            assert!(!secrets.is_empty(), "{name}: sent no credential header");
        }
        secrets.extend(
            [
                NCP_ACCESS_KEY,
                NCP_SECRET_KEY,
                NCP_REFRESH_TOKEN,
                HW_AK,
                HW_SK,
                HW_SECURITY_TOKEN,
                PASSWORD,
            ]
            .map(String::from),
        );
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "{name}: {secret} reached the log: {log}"
            );
        }
    }
}
