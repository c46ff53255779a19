//! No panic from any answer: each client's success and error decoders (NCP, Huawei,
//! Cloudforet), reached through their public calls, are fed arbitrary bytes and arbitrary
//! valid-looking JSON under every status a server may send. Each call must return — a value
//! or an error — and never panic.
//!
//! The answers come from an in-memory [`HttpClient`], so nothing touches a network and a
//! case takes microseconds; the number of cases is bounded so `cargo test` stays fast.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use token_common::reqwest::header::{HeaderMap, HeaderValue};
use token_common::transport::{BoxFuture, HttpClient, HttpRequest, HttpResponse};
use token_common::{Result, Transport};

/// Answers every request with the status and body it holds.
#[derive(Debug, Default)]
struct Canned(Mutex<(u16, Vec<u8>)>);

impl Canned {
    fn set(&self, status: u16, body: Vec<u8>) {
        *self.0.lock().unwrap() = (status, body);
    }
}

impl HttpClient for Canned {
    fn execute(&self, _request: HttpRequest, _max: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        let (status, body) = self.0.lock().unwrap().clone();
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            Ok(HttpResponse::new(status, headers, body))
        })
    }
}

fn transport(canned: &Arc<Canned>) -> Transport {
    Transport::builder()
        .http_client(canned.clone())
        .max_attempts(1)
        .build()
        .unwrap()
}

/// Statuses a server may answer with, odd ones included.
fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(200u16),
        Just(201),
        Just(204),
        Just(400),
        Just(401),
        Just(403),
        Just(404),
        Just(429),
        Just(500),
        Just(503),
        100u16..600,
    ]
}

/// A JWT whose payload is `claims`, to reach the code that reads `exp` and `iat`.
fn jwt(claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.sig",
        b64.encode(br#"{"alg":"RS256"}"#),
        b64.encode(claims.to_string())
    )
}

/// Numbers that stress time arithmetic: huge, negative, fractional, at the type limits.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1.0e300)),
        Just(json!(1_754_278_569_275u64)),
    ]
}

/// Names the three services' bodies use, so generated objects reach deep into decoders.
const FIELDS: &[&str] = &[
    "code",
    "msg",
    "data",
    "accessToken",
    "refreshToken",
    "error",
    "errorCode",
    "message",
    "details",
    "requestId",
    "tokenGeneratorId",
    "status",
    "enabledDate",
    "disabledDate",
    "issuedTokenCount",
    "keyList",
    "keyId",
    "keyTag",
    "keyName",
    "keyType",
    "registerDate",
    "currentPageNo",
    "totalPageNo",
    "totalCount",
    "error_code",
    "error_msg",
    "request_id",
    "encoded_authorization_message",
    "errorMsg",
    "creation_time",
    "expiration_time",
    "token",
    "token_id",
    "bearer_tokens",
    "provisioning_tenants",
    "tenant_id",
    "scim_endpoint",
    "access_token",
    "refresh_token",
    "role_type",
    "domain_id",
    "workspace_id",
    "role_id",
    "detail",
    "name",
    "exp",
    "iat",
    "typ",
    "did",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        ".{0,12}".prop_map(Value::from),
        prop::sample::select(FIELDS).prop_map(Value::from),
        (number(), number())
            .prop_map(|(exp, iat)| Value::from(jwt(&json!({"exp": exp, "iat": iat})))),
    ]
}

/// Arbitrary JSON shaped like the services' answers.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A body: arbitrary bytes, or JSON shaped like the services' answers.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        json_value().prop_map(|v| json!({"code": "SUCCESS", "data": v})
            .to_string()
            .into_bytes()),
        json_value().prop_map(|v| json!({"error": v}).to_string().into_bytes()),
        json_value().prop_map(|v| json!({"detail": v}).to_string().into_bytes()),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ncp_decoders_never_panic(status in status(), body in body()) {
        use cloud_tokens::ncp::{KmsClient, NcpCredentials, TokenSetOptions};
        let canned = Arc::new(Canned::default());
        canned.set(status, body);
        let client = KmsClient::builder()
            .credentials(NcpCredentials::new("AK", "SK"))
            .endpoint("https://kms.example.com/kms/v1")
            .transport(transport(&canned))
            .build()
            .unwrap();
        runtime().block_on(async {
            let _ = client.create_token_set("tag", TokenSetOptions::default()).await;
            let _ = client.get_token_generator("tag").await;
            let _ = client.enable_token_generator("tag").await;
            let _ = client.list_keys(1, 100).await;
            let _ = client.refresh_access_token("tag", &"r.t.s".into(), Default::default()).await;
            let _ = client.renew_token_set("tag", &"r.t.s".into(), TokenSetOptions::default()).await;
        });
    }

    #[test]
    fn huawei_decoders_never_panic(status in status(), body in body()) {
        use cloud_tokens::huawei::{HuaweiCredentials, IdentityStoreClient};
        let canned = Arc::new(Canned::default());
        canned.set(status, body);
        let client = IdentityStoreClient::builder()
            .credentials(HuaweiCredentials::new("AK", "SK").with_project_id("p"))
            .endpoint("https://identitystore.example.com")
            .transport(transport(&canned))
            .build()
            .unwrap();
        runtime().block_on(async {
            let _ = client.create_bearer_token("d-1", "t-1").await;
            let _ = client.list_bearer_tokens("d-1", "t-1").await;
            let _ = client.delete_bearer_token("d-1", "t-1", "id").await;
            let _ = client.create_provisioning_tenant("d-1").await;
            let _ = client.list_provisioning_tenants("d-1").await;
        });
    }

    #[test]
    fn cloudforet_decoders_never_panic(status in status(), body in body()) {
        use cloud_tokens::cloudforet::{Credentials, GrantRequest, IdentityClient, IssueRequest, Scope};
        let canned = Arc::new(Canned::default());
        canned.set(status, body);
        let client = IdentityClient::builder()
            .endpoint("https://console-v2.api.example.com")
            .transport(transport(&canned))
            .build()
            .unwrap();
        runtime().block_on(async {
            let issue = IssueRequest::new(Credentials::local("u", "pw"), "domain-1");
            let _ = client.issue(&issue).await;
            let _ = client.resend_mfa_code(&issue).await;
            let _ = client.grant(&GrantRequest::refresh_token("r.t.s", Scope::Domain)).await;
            let _ = client.domain_auth_info("demo").await;
        });
    }
}
