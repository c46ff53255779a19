//! No panic from any request: the emulator's signature verifiers take arbitrary request
//! parts, and the running emulator takes arbitrary methods, paths, queries, headers and
//! bodies (arbitrary bytes and valid-looking JSON) on every service's routes. Each must
//! answer — a refusal or a value, an HTTP answer — and never panic.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use token_common::SecretString;
use token_emulator::verify::huawei::{self, HuaweiKey};
use token_emulator::verify::{ncp, RequestParts};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const HEADER_NAMES: &[&str] = &[
    "authorization",
    "x-sdk-date",
    "x-security-token",
    "x-sdk-content-sha256",
    "x-sdk-content-sm3",
    "host",
    "content-type",
    "x-ncp-apigw-timestamp",
    "x-ncp-iam-access-key",
    "x-ncp-apigw-signature-v2",
    "x-ncp-ocapi-token",
    "x-project-id",
];

/// Header values that look like what the verifiers parse, and arbitrary bytes.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "(SDK-HMAC-SHA256|SDK-HMAC-SM3|V11-HMAC-SHA256|X) ?(Access|Credential|SignedHeaders|Signature)=[a-z0-9;/,= -]{0,30}(, ?(Access|Credential|SignedHeaders|Signature)=[a-z0-9;/,= -]{0,30}){0,4}"
            .prop_map(String::into_bytes),
        "[0-9]{0,20}(T[0-9]{0,7}Z?)?".prop_map(String::into_bytes),
        Just(b"20250101T120000Z".to_vec()),
        Just(b"1700000000123".to_vec()),
    ]
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    prop::collection::vec((prop::sample::select(HEADER_NAMES), header_value()), 0..10).prop_map(
        |pairs| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                if let Ok(v) = HeaderValue::from_bytes(&value) {
                    h.append(HeaderName::from_static(name), v);
                }
            }
            h
        },
    )
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn verifiers_never_panic(
        method in "[A-Z]{0,7}|\\PC{0,4}",
        path in "\\PC{0,40}|(/[a-zA-Z0-9%+~ ]{0,6}){0,5}",
        query in prop::option::of("\\PC{0,40}|([a-z%+=&]{0,6}){0,6}"),
        headers in headers(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now_secs in prop_oneof![Just(1_735_732_800u64), any::<u64>().prop_map(|s| s % (1 << 40))],
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(now_secs);
        let parts = RequestParts::new(&method, &path, query.as_deref(), &headers, &body);
        let _ = ncp::verify(&parts, now, |_| Ok(SecretString::new("sk")));
        let _ = huawei::verify(&parts, now, |_| Ok(HuaweiKey::new(SecretString::new("sk"))));
        let _ = huawei::verify(&parts, now, |_| {
            Ok(HuaweiKey::new(SecretString::new("sk")).with_security_token(SecretString::new("t")))
        });
        let _ = huawei::canonical_uri(&path);
        let _ = huawei::canonical_query(query.as_deref());
    }

    #[test]
    fn stage_parsers_never_panic(text in "\\PC{0,80}") {
        let _ = huawei::parse_authorization(&text);
        let _ = huawei::signed_header_names(&text);
        let _ = huawei::parse_sdk_date(&text);
    }
}

/// Routes of the three services, for the HTTP test to reach every handler.
const ROUTES: &[&str] = &[
    "/kms/v1/keys",
    "/kms/v1/keys/demo-key-tag/token-set",
    "/kms/v1/keys/demo-key-tag/access-token",
    "/kms/v1/keys/demo-key-tag/token-generator",
    "/kms/v1/keys/demo-key-tag/encrypt",
    "/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token",
    "/v1/identity-stores/d-1234567890/provision-tenant",
    "/identity/token/issue",
    "/identity/token/grant",
    "/identity/v2/token/issue",
    "/identity/v2/token/grant",
    "/identity/domain/get-auth-info",
];

const FIELDS: &[&str] = &[
    "credentials",
    "user_id",
    "password",
    "auth_type",
    "timeout",
    "verify_code",
    "domain_id",
    "grant_type",
    "token",
    "scope",
    "workspace_id",
    "permissions",
    "name",
    "accessTokenHours",
    "refreshTokenHours",
    "plaintext",
    "ciphertext",
    "context",
    "data",
    "signature",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop_oneof![
            Just("LOCAL"),
            Just("MFA"),
            Just("REFRESH_TOKEN"),
            Just("DOMAIN"),
            Just("WORKSPACE"),
            Just("UL"),
            Just("domain-123"),
            Just("admin@example.com")
        ]
        .prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
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

fn http_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..128),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

#[test]
fn emulator_answers_any_request_without_panicking() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let env = rt.block_on(support::start());
    let base = env.emulator.base_url().to_owned();
    let strategy = (
        prop::sample::select(&["GET", "POST", "PUT", "DELETE", "PATCH"][..]),
        prop::sample::select(ROUTES),
        "(/[a-zA-Z0-9%~+-]{0,6}){0,2}",
        prop::option::of("[a-zA-Z0-9%+=&]{0,20}"),
        headers(),
        http_body(),
    );
    let mut runner = proptest::test_runner::TestRunner::new(config(128));
    runner
        .run(
            &strategy,
            |(method, route, suffix, query, headers, body)| {
                let mut url = format!("{base}{route}{suffix}");
                if let Some(q) = query {
                    url = format!("{url}?{q}");
                }
                let answer = rt.block_on(async {
                    env.http
                        .request(method.parse().unwrap(), &url)
                        .headers(headers.clone())
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                });
                // A panicking handler would drop the connection instead of answering.
                let answer =
                    answer.map_err(|e| TestCaseError::fail(format!("{method} {url}: {e}")))?;
                prop_assert!(answer.status().as_u16() >= 200, "{method} {url}");
                Ok(())
            },
        )
        .unwrap();
}
