//! What tracing records of a call: method, path template, attempt, status — never a
//! secret, an id from the path, or a query.
//!
//! This binary holds one test on purpose: tracing caches each call site's interest
//! process-wide, and a capture installed on one thread while other tests' threads first
//! reach the same call sites can miss events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use reqwest::header::HeaderMap;
use reqwest::Method;
use token_common::clock::TokioClock;
use token_common::signing::NoSigning;
use token_common::testing::TracingCapture;
use token_common::transport::{Backoff, BoxFuture, HttpClient};
use token_common::{HttpRequest, HttpResponse, Result, SecretString, Transport};

/// Answers from a script, and remembers every credential header value it was sent.
#[derive(Debug, Default)]
struct Scripted {
    answers: Mutex<VecDeque<Result<HttpResponse>>>,
    sent_secrets: Mutex<Vec<String>>,
}

impl HttpClient for Scripted {
    fn execute(&self, req: HttpRequest, _: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        for (name, value) in &req.headers {
            if token_common::transport::is_sensitive_header(name) {
                self.sent_secrets
                    .lock()
                    .unwrap()
                    .push(value.to_str().unwrap().to_owned());
            }
        }
        let next = self
            .answers
            .lock()
            .unwrap()
            .pop_front()
            .expect("scripted answer");
        Box::pin(async move { next })
    }
}

fn transport(answers: Vec<Result<HttpResponse>>) -> Transport {
    transport_over(Arc::new(Scripted {
        answers: Mutex::new(answers.into()),
        ..Default::default()
    }))
}

fn transport_over(http: Arc<Scripted>) -> Transport {
    Transport::builder()
        .http_client(http)
        .clock(Arc::new(TokioClock::new()))
        .backoff(Backoff::new(
            std::time::Duration::from_millis(100),
            std::time::Duration::from_secs(1),
        ))
        .build()
        .unwrap()
}

fn status(code: u16) -> Result<HttpResponse> {
    Ok(HttpResponse::new(code, HeaderMap::new(), Vec::new()))
}

#[test]
fn tracing_records_method_path_template_attempt_and_status_but_no_secret() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let cap = TracingCapture::default();
    let _guard = tracing::subscriber::set_default(cap.clone());
    let t = transport(vec![status(503), status(200)]);
    let req = HttpRequest::new(
        Method::POST,
        url::Url::parse("https://example.test/keys/SECRET-ID-IN-PATH/token-set?q=SECRET-Q")
            .unwrap(),
        "/keys/{keyTag}/token-set",
    )
    .secret_header(
        reqwest::header::HeaderName::from_static("x-ncp-ocapi-token"),
        &SecretString::new("SECRET-TOKEN-VALUE"),
        "refresh_token",
    )
    .unwrap()
    .json(&serde_json::json!({"password": "SECRET-PASSWORD"}))
    .unwrap();
    rt.block_on(t.send(req, &NoSigning, None)).unwrap();
    let log = cap.text();
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

    // A full failing call of each signing scheme: retried, then refused. Neither the
    // capture nor the error shows a signature, a key, a token or the body.
    use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
    use token_common::signing::{HuaweiSigner, NcpSigner, Signer};
    let ncp = NcpSigner::new(&NcpCredentials::new("NCP-ACCESS-KEY-ID", "NCP-SECRET-KEY")).unwrap();
    let huawei = HuaweiSigner::new(
        &HuaweiCredentials::new("HW-ACCESS-KEY-ID", "HW-SECRET-KEY")
            .with_security_token("HW-SECURITY-TOKEN"),
        HuaweiScope::Project("project".into()),
    )
    .unwrap();
    let signers: [(&str, &dyn Signer); 2] = [("ncp", &ncp), ("huawei", &huawei)];
    for (name, signer) in signers {
        cap.clear();
        let http = Arc::new(Scripted {
            answers: Mutex::new(vec![status(503), status(503), status(401)].into()),
            ..Default::default()
        });
        let t = transport_over(http.clone());
        let req = HttpRequest::new(
            Method::POST,
            url::Url::parse("https://example.test/v1/identity-stores/STORE-ID/bearer-token")
                .unwrap(),
            "/v1/identity-stores/{identity_store_id}/bearer-token",
        )
        .json(&serde_json::json!({"password": "SECRET-PASSWORD"}))
        .unwrap();
        let answer = rt.block_on(t.send(req, signer, None)).unwrap();
        assert_eq!(answer.status, 401);
        let error = token_common::ServiceError::new(answer.status, "401", "refused")
            .with_response(&answer, std::time::SystemTime::UNIX_EPOCH);
        let log = format!("{} {answer:?} {error:?} {error}", cap.text());
        assert!(log.contains("attempt=3"), "{name}: {log}");
        let mut secrets = http.sent_secrets.lock().unwrap().clone();
        assert!(secrets.len() >= 6, "{name}: {secrets:?}");
        secrets.extend(
            [
                "NCP-ACCESS-KEY-ID",
                "NCP-SECRET-KEY",
                "HW-ACCESS-KEY-ID",
                "HW-SECRET-KEY",
                "HW-SECURITY-TOKEN",
                "SECRET-PASSWORD",
                "STORE-ID",
            ]
            .map(String::from),
        );
        for secret in &secrets {
            assert!(
                !log.contains(secret.as_str()),
                "{name}: {secret} shown: {log}"
            );
        }
    }
}
