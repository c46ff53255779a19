//! Every call against a local mock server: the request on the wire (method, raw path,
//! headers, signature recomputed from what was received) and the decoding of the answer.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huawei_identity_client::{EpochMillis, Error};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BEARER_PATH: &str =
    "/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token";

async fn single_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "exactly one request");
    requests.remove(0)
}

#[tokio::test]
async fn create_bearer_token_posts_signed_request_and_decodes_201() {
    for with_sts in [false, true] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(BEARER_PATH))
            .respond_with(ResponseTemplate::new(201).set_body_raw(
                format!(
                    r#"{{"creation_time":1754278569275.0,"expiration_time":1785814569275,"token":"{TOKEN_VALUE}","token_id":"tok-1"}}"#
                ),
                "application/json",
            ))
            .mount(&server)
            .await;
        let token = client(&server.uri(), with_sts)
            .create_bearer_token(STORE, TENANT)
            .await
            .unwrap();
        assert_eq!(token.token_id, "tok-1");
        assert_eq!(token.token.expose_secret(), TOKEN_VALUE);
        assert_eq!(token.creation_time, EpochMillis(1_754_278_569_275));
        assert_eq!(token.expiration_time.as_millis(), 1_785_814_569_275);

        let req = single_request(&server).await;
        assert_eq!(req.method.as_str(), "POST");
        assert_eq!(req.url.path(), BEARER_PATH);
        assert_eq!(req.url.query(), None);
        assert_common_headers(&req, with_sts);
    }
}

#[tokio::test]
async fn list_bearer_tokens_gets_and_decodes_200_without_values() {
    for with_sts in [false, true] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(BEARER_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"bearer_tokens":[
                    {"creation_time":1754278569275.0,"expiration_time":1785814569275.0,"token_id":"a"},
                    {"creation_time":1754278569276,"expiration_time":1785814569276,"token_id":"b"}]}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let list = client(&server.uri(), with_sts)
            .list_bearer_tokens(STORE, TENANT)
            .await
            .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].token_id, "a");
        assert_eq!(list[0].creation_time.as_millis(), 1_754_278_569_275);
        assert_eq!(list[0].expiration_time.as_millis(), 1_785_814_569_275);
        assert_eq!(list[1].token_id, "b");

        let req = single_request(&server).await;
        assert_eq!(req.method.as_str(), "GET");
        assert_eq!(req.url.path(), BEARER_PATH);
        assert_common_headers(&req, with_sts);
    }
}

#[tokio::test]
async fn delete_bearer_token_sends_odd_id_as_one_encoded_segment_and_accepts_204() {
    let odd = "tok en/ü+%~:@!$&'()*,;=";
    let wire =
        format!("{BEARER_PATH}/tok%20en%2F%C3%BC%2B%25~%3A%40%21%24%26%27%28%29%2A%2C%3B%3D");
    for with_sts in [false, true] {
        let server = MockServer::start().await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        client(&server.uri(), with_sts)
            .delete_bearer_token(STORE, TENANT, odd)
            .await
            .unwrap();
        let req = single_request(&server).await;
        assert_eq!(req.method.as_str(), "DELETE");
        assert_eq!(req.url.path(), wire);
        assert_common_headers(&req, with_sts);
    }
}

#[tokio::test]
async fn ids_with_slash_space_and_non_ascii_stay_in_their_segment() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"bearer_tokens":[]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let list = client(&server.uri(), false)
        .list_bearer_tokens("store/../x", "ten ant?ü#")
        .await
        .unwrap();
    assert!(list.is_empty());
    let req = single_request(&server).await;
    assert_eq!(
        req.url.path(),
        "/v1/identity-stores/store%2F..%2Fx/tenant/ten%20ant%3F%C3%BC%23/bearer-token"
    );
    assert_eq!(req.url.query(), None);
    assert_common_headers(&req, false);
}

#[tokio::test]
async fn provisioning_tenant_calls_on_the_wire() {
    let server = MockServer::start().await;
    let tenants_path = "/v1/identity-stores/d-1234567890/provision-tenant";
    let tenant_json = format!(
        r#"{{"creation_time":1754278569275.0,"scim_endpoint":"https://scim.cn-north-4.myhuaweicloud.com/{TENANT}/scim/v2","tenant_id":"{TENANT}"}}"#
    );
    Mock::given(method("POST"))
        .and(path(tenants_path))
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(tenant_json.clone(), "application/json"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(tenants_path))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"provisioning_tenants":[{tenant_json}]}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!(
            "/v1/identity-stores/d-1234567890/tenant/{TENANT}"
        )))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;

    for with_sts in [false, true] {
        let c = client(&server.uri(), with_sts);
        let created = c.create_provisioning_tenant(STORE).await.unwrap();
        assert_eq!(created.tenant_id, TENANT);
        assert_eq!(created.creation_time.as_millis(), 1_754_278_569_275);
        assert!(created.scim_endpoint.ends_with("/scim/v2"));
        let listed = c.list_provisioning_tenants(STORE).await.unwrap();
        assert_eq!(listed, vec![created]);
        c.delete_provisioning_tenant(STORE, TENANT).await.unwrap();
    }

    let requests = server.received_requests().await.unwrap();
    let seen: Vec<(String, String)> = requests
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect();
    let delete_path = format!("/v1/identity-stores/d-1234567890/tenant/{TENANT}");
    let once = [
        ("POST".to_owned(), tenants_path.to_owned()),
        ("GET".to_owned(), tenants_path.to_owned()),
        ("DELETE".to_owned(), delete_path),
    ];
    assert_eq!(seen, [once.clone(), once].concat());
    for (i, r) in requests.iter().enumerate() {
        assert_common_headers(r, i >= 3);
    }
}

#[tokio::test]
async fn error_400_maps_code_message_and_request_id_from_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("X-Request-Id", "hdr-req-400")
                .set_body_raw(
                    r#"{"error_code":"IDS.1003","error_msg":"The number of tokens exceeds the limit","request_id":"body-req"}"#,
                    "application/json",
                ),
        )
        .expect(1) // a 400 is never retried
        .mount(&server)
        .await;
    let e = client(&server.uri(), false)
        .create_bearer_token(STORE, TENANT)
        .await
        .unwrap_err();
    let s = e.service_error().expect("service error");
    assert_eq!(s.status, 400);
    assert_eq!(s.code, "IDS.1003");
    assert_eq!(s.message, "The number of tokens exceeds the limit");
    assert_eq!(s.request_id.as_deref(), Some("hdr-req-400"));
    assert_eq!(s.details, None);
    let text = e.to_string();
    assert!(text.contains("400") && text.contains("IDS.1003") && text.contains("hdr-req-400"));
}

#[tokio::test]
async fn error_403_maps_encoded_authorization_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            r#"{"error_code":"IAM.0003","error_msg":"Policy doesn't allow identitystore:bearerToken:list to be performed.","request_id":"body-req-403","encoded_authorization_message":"ENC-abc123"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server.uri(), true)
        .list_bearer_tokens(STORE, TENANT)
        .await
        .unwrap_err();
    assert!(e.is_authentication());
    let s = e.service_error().unwrap();
    assert_eq!(s.status, 403);
    assert_eq!(s.code, "IAM.0003");
    assert!(s.message.starts_with("Policy doesn't allow"));
    assert_eq!(s.request_id.as_deref(), Some("body-req-403"));
    assert_eq!(s.details.as_deref(), Some("ENC-abc123"));
}

#[tokio::test]
async fn non_json_error_body_becomes_the_message() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500).set_body_string("upstream exploded"))
        .mount(&server)
        .await;
    let e = client(&server.uri(), false)
        .delete_provisioning_tenant(STORE, TENANT)
        .await
        .unwrap_err();
    let s = e.service_error().unwrap();
    assert_eq!((s.status, s.code.as_str()), (500, "500"));
    assert_eq!(s.message, "upstream exploded");
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_raw(
            r#"{"error_code":"APIGW.0201","error_msg":"unavailable"}"#,
            "application/json",
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!(r#"{{"creation_time":1,"expiration_time":2,"token":"{TOKEN_VALUE}","token_id":"t"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let token = client(&server.uri(), false)
        .create_bearer_token(STORE, TENANT)
        .await
        .unwrap();
    assert_eq!(token.token_id, "t");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_common_headers(r, false); // each attempt signed afresh and correctly
    }
}

#[tokio::test]
async fn gives_up_after_max_attempts_of_503() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let e = client(&server.uri(), false)
        .list_provisioning_tenants(STORE)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(e.is_retryable());
}

fn http_date(t: SystemTime) -> String {
    // RFC 7231 IMF-fixdate, e.g. "Wed, 01 Jan 2025 13:00:00 GMT".
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let sdk = token_common::signing::huawei::format_sdk_date(t); // YYYYMMDDTHHMMSSZ
    let (y, m, d) = (&sdk[0..4], &sdk[4..6], &sdk[6..8]);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][m.parse::<usize>().unwrap() - 1];
    format!(
        "{weekday}, {d} {month} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[tokio::test]
async fn expired_signature_refusal_resigns_with_server_clock() {
    let server = MockServer::start().await;
    let client = client(&server.uri(), true);
    let server_now = client.transport().clock().now() + Duration::from_secs(3600);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("Date", http_date(server_now).as_str())
                .set_body_raw(
                    r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail, signature expired"}"#,
                    "application/json",
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!(r#"{{"creation_time":1,"expiration_time":2,"token":"{TOKEN_VALUE}","token_id":"t"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    client.create_bearer_token(STORE, TENANT).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let date = |r: &wiremock::Request| {
        token_common::signing::huawei::parse_sdk_date(header(r, "x-sdk-date")).unwrap()
    };
    let moved = date(&requests[1])
        .duration_since(date(&requests[0]))
        .unwrap();
    assert!(
        moved > Duration::from_secs(3500) && moved < Duration::from_secs(3700),
        "{moved:?}"
    );
    assert_common_headers(&requests[1], true);
    assert!((client.clock_skew_ms() - 3_600_000).abs() < 60_000);
}

#[tokio::test]
async fn bad_signature_refusal_is_not_resent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server.uri(), false)
        .create_bearer_token(STORE, TENANT)
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("APIGW.0301"));
}

#[tokio::test]
async fn invalid_ids_are_refused_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server.uri(), false);
    let e = c.create_bearer_token("", TENANT).await.unwrap_err();
    assert_eq!(e.field(), Some("identity_store_id"));
    let e = c.list_bearer_tokens(STORE, "..").await.unwrap_err();
    assert_eq!(e.field(), Some("tenant_id"));
    let e = c.delete_bearer_token(STORE, TENANT, ".").await.unwrap_err();
    assert_eq!(e.field(), Some("token_id"));
    let e = c.delete_provisioning_tenant(STORE, "").await.unwrap_err();
    assert_eq!(e.field(), Some("tenant_id"));
    let e = c.create_provisioning_tenant("..").await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput { .. }));
}

#[tokio::test]
async fn undecodable_success_body_is_a_decode_error_without_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!(r#"{{"token":"{TOKEN_VALUE}","token_id":"t","creation_time":"x"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let e = client(&server.uri(), false)
        .create_bearer_token(STORE, TENANT)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { status: 201, .. }), "{e:?}");
    assert!(!e.to_string().contains(TOKEN_VALUE));
    assert!(!format!("{e:?}").contains(TOKEN_VALUE));
}

#[tokio::test]
async fn endpoint_path_prefix_is_kept_on_the_wire_and_signed() {
    let server = MockServer::start().await;
    let prefixed = format!("/huawei{BEARER_PATH}");
    Mock::given(method("GET"))
        .and(path(prefixed.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"bearer_tokens":[]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let c = client(&format!("{}/huawei/", server.uri()), false);
    assert_eq!(c.endpoint().as_str(), format!("{}/huawei", server.uri()));
    assert!(c
        .list_bearer_tokens(STORE, TENANT)
        .await
        .unwrap()
        .is_empty());
    let req = single_request(&server).await;
    assert_eq!(req.url.path(), prefixed);
    assert_common_headers(&req, false);

    // A bare host: `Url` writes its path as `/`, and the call's path follows it once.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BEARER_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"bearer_tokens":[]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let c = client(&server.uri(), false);
    assert_eq!(c.endpoint().as_str(), format!("{}/", server.uri()));
    c.list_bearer_tokens(STORE, TENANT).await.unwrap();
    assert_eq!(single_request(&server).await.url.path(), BEARER_PATH);
}

#[tokio::test]
async fn client_token_source_creates_once_and_serves_the_cached_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BEARER_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"bearer_tokens":[]}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(BEARER_PATH))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!(
                r#"{{"creation_time":1754278569275,"expiration_time":1754282169275,"token":"{TOKEN_VALUE}","token_id":"tok-1"}}"#
            ),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let cache = client(&server.uri(), false)
        .token_source(STORE, TENANT)
        .unwrap();
    let first = cache.get().await.unwrap();
    assert_eq!(first.value.token_id, "tok-1");
    assert_eq!(first.value.token.expose_secret(), TOKEN_VALUE);
    let second = cache.get().await.unwrap();
    assert_eq!(second.value.token_id, "tok-1");
    let methods: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(
        methods,
        ["GET", "POST"],
        "one list, one create; then cached"
    );
    assert_eq!(cache.source().current_token_id().as_deref(), Some("tok-1"));
}

#[tokio::test]
async fn client_token_source_refuses_bad_ids_before_sending() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let c = client(&server.uri(), false);
    for (store, tenant, field) in [
        ("", TENANT, "identity_store_id"),
        ("..", TENANT, "identity_store_id"),
        (STORE, "", "tenant_id"),
        (STORE, ".", "tenant_id"),
    ] {
        let e = c.token_source(store, tenant).unwrap_err();
        assert_eq!(e.field(), Some(field), "{store:?} {tenant:?}");
        assert!(matches!(e, Error::InvalidInput { .. }));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_builders_clock_dates_the_signature_and_is_refused_with_a_transport() {
    use std::sync::Arc;

    use huawei_identity_client::IdentityStoreClient;
    use token_common::clock::ManualClock;

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BEARER_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"bearer_tokens":[]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    // Years away from the system clock: only the given clock can date the request so.
    let clock = Arc::new(ManualClock::at_unix_seconds(1_700_000_000));
    let client = IdentityStoreClient::builder()
        .endpoint(&server.uri())
        .credentials(credentials(false))
        .clock(clock.clone())
        .build()
        .unwrap();
    client.list_bearer_tokens(STORE, TENANT).await.unwrap();
    let req = single_request(&server).await;
    assert_eq!(header(&req, "x-sdk-date"), "20231114T221320Z");
    assert_common_headers(&req, false);

    let e = IdentityStoreClient::builder()
        .endpoint(&server.uri())
        .credentials(credentials(false))
        .clock(clock)
        .transport(fast_transport())
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("clock"), "{e}");
}
