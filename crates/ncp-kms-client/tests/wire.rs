//! What each call puts on the wire: method, path (key tag as one encoded segment),
//! signature or token header, and the exact body.

mod support;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ncp_kms_client::{
    GeneratorStatus, KeyType, KmsClient, NcpCredentials, SecretString, TokenSetOptions,
    TokenValidity, Transport,
};
use serde_json::json;
use support::*;
use token_common::clock::ManualClock;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token_set_body(access_exp: Option<i64>, refresh_exp: Option<i64>) -> serde_json::Value {
    success(json!({
        "accessToken": jwt(access_exp, "access"),
        "refreshToken": jwt(refresh_exp, "refresh"),
    }))
}

async fn one_request(server: &MockServer) -> wiremock::Request {
    let mut received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "exactly one request");
    received.remove(0)
}

#[tokio::test]
async fn create_token_set_sends_empty_object_and_reads_expiries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/kms/v1/keys/my-tag/token-set"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_set_body(Some(2_000), Some(3_000))),
        )
        .mount(&server)
        .await;
    let set = client(&server)
        .create_token_set("my-tag", TokenSetOptions::new())
        .await
        .unwrap();
    assert_eq!(set.access_token.expose_secret(), jwt(Some(2_000), "access"));
    assert_eq!(
        set.refresh_token.expose_secret(),
        jwt(Some(3_000), "refresh")
    );
    assert_eq!(
        set.access_token_expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(2_000))
    );
    assert_eq!(
        set.refresh_token_expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(3_000))
    );
    let req = one_request(&server).await;
    assert_signed(&req);
    assert_eq!(body_json(&req), json!({}));
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
}

#[tokio::test]
async fn create_token_set_bodies_carry_only_the_hours_given() {
    let cases = [
        (
            TokenSetOptions::new().with_access_token_hours(TokenValidity::hours(72).unwrap()),
            json!({"accessTokenHours": 72}),
        ),
        (
            TokenSetOptions::new()
                .with_access_token_hours(TokenValidity::Unlimited)
                .with_refresh_token_hours(TokenValidity::hours(2160).unwrap()),
            json!({"accessTokenHours": "UL", "refreshTokenHours": 2160}),
        ),
        (
            TokenSetOptions::new().with_refresh_token_hours(TokenValidity::Unlimited),
            json!({"refreshTokenHours": "UL"}),
        ),
    ];
    for (options, expected) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(token_set_body(None, None)))
            .mount(&server)
            .await;
        let set = client(&server)
            .create_token_set("t", options)
            .await
            .unwrap();
        assert_eq!(set.access_token_expires_at, None, "unlimited: no exp");
        let req = one_request(&server).await;
        assert_eq!(req.url.path(), "/kms/v1/keys/t/token-set");
        assert_signed(&req);
        // Exact bytes too: absent fields are absent, not null.
        assert_eq!(body_json(&req), expected);
        assert!(!String::from_utf8_lossy(&req.body).contains("null"));
    }
}

#[tokio::test]
async fn key_tags_with_reserved_and_non_ascii_characters_stay_one_segment() {
    let cases = [
        (
            "my key/tag+=?&#%é한",
            "my%20key%2Ftag%2B%3D%3F%26%23%25%C3%A9%ED%95%9C",
        ),
        ("a/b", "a%2Fb"),
        ("q?x=1", "q%3Fx%3D1"),
        ("h#frag", "h%23frag"),
        ("100%", "100%25"),
        ("two words", "two%20words"),
        ("키-tag_1.~", "%ED%82%A4-tag_1.~"),
        ("...", "..."),
    ];
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_set_body(None, None)))
        .mount(&server)
        .await;
    let c = client(&server);
    for (tag, _) in cases {
        c.create_token_set(tag, TokenSetOptions::new())
            .await
            .unwrap();
    }
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), cases.len());
    for (req, (tag, encoded)) in received.iter().zip(cases) {
        assert_eq!(
            req.url.path(),
            format!("/kms/v1/keys/{encoded}/token-set"),
            "{tag}"
        );
        assert_eq!(req.url.query(), None, "{tag}");
        assert_signed(req);
    }
}

#[tokio::test]
async fn key_tags_that_cannot_be_one_segment_are_refused_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server);
    for bad in ["", ".", ".."] {
        let e = c
            .create_token_set(bad, TokenSetOptions::new())
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("key_tag"), "{bad:?}");
        let e = c.get_token_generator(bad).await.unwrap_err();
        assert_eq!(e.field(), Some("key_tag"), "{bad:?}");
    }
    let e = c
        .create_token_set(
            "t",
            TokenSetOptions::new().with_access_token_hours(TokenValidity::Hours(0)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("access_token_hours"));
    let e = c
        .renew_token_set(
            "t",
            &SecretString::new("r"),
            TokenSetOptions::new().with_refresh_token_hours(TokenValidity::Hours(17_521)),
        )
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("refresh_token_hours"));
    let e = c
        .refresh_access_token("t", &SecretString::new(""), None)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("refresh_token"));
    let e = c
        .refresh_access_token("t", &SecretString::new("tok\r\nX-Evil: 1"), None)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("refresh_token"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn signature_matches_the_official_signer_vector() {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("data/ncp-signature-v2-subset.json")).unwrap();
    for v in data["vectors"].as_array().unwrap() {
        let input = &v["input"];
        let ts = input["timestamp_ms"].as_u64().unwrap();
        let fake = FakeHttp::new(|_| json_response(200, token_set_body(None, None)));
        let clock = Arc::new(ManualClock::new(UNIX_EPOCH + Duration::from_millis(ts)));
        let transport = Transport::builder()
            .http_client(fake.clone())
            .clock(clock)
            .build()
            .unwrap();
        let client = KmsClient::builder()
            .credentials(NcpCredentials::new(
                input["access_key"].as_str().unwrap(),
                input["secret_key"].as_str().unwrap(),
            ))
            .endpoint(input["sdk_configuration_host"].as_str().unwrap())
            .transport(transport)
            .build()
            .unwrap();
        match v["name"].as_str().unwrap() {
            "token-set/percent-encoded-tag" => {
                let tag = input["path_params"]["keyTag"].as_str().unwrap();
                client
                    .create_token_set(tag, TokenSetOptions::new())
                    .await
                    .unwrap();
            }
            "keys/list/pageNo-pageSize" => {
                fake.clear();
                let _ = client.list_keys(1, 100).await; // the answer's shape is not the point
            }
            other => panic!("unexpected vector {other}"),
        }
        let sent = fake.requests();
        let req = sent.last().unwrap();
        assert_eq!(req.url.as_str(), v["wire"]["url"].as_str().unwrap());
        assert_eq!(req.method.as_str(), input["method"].as_str().unwrap());
        let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("x-ncp-apigw-timestamp"), ts.to_string());
        assert_eq!(
            h("x-ncp-iam-access-key"),
            input["access_key"].as_str().unwrap()
        );
        assert_eq!(
            h("x-ncp-apigw-signature-v2"),
            v["signature"].as_str().unwrap(),
            "{}",
            v["name"]
        );
    }
}

#[tokio::test]
async fn endpoint_path_prefix_is_kept_and_signed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gateway/kms/v1/keys/t/token-generator"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!(null))))
        .mount(&server)
        .await;
    client_at(&format!("{}/gateway/kms/v1/", server.uri()))
        .enable_token_generator("t")
        .await
        .unwrap();
    let req = one_request(&server).await;
    assert_eq!(req.url.path(), "/gateway/kms/v1/keys/t/token-generator");
    assert_signed(&req);
}

#[tokio::test]
async fn token_generator_calls_use_their_methods_and_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/kms/v1/keys/k%2F1/token-generator"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "tokenGeneratorId": "gen-1", "status": "ACTIVE", "enabledDate": 1_700_000_000_000u64,
            "disabledDate": null, "issuedTokenCount": 4
        }))))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!(null))))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"code": "SUCCESS", "msg": ""})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!(null))))
        .mount(&server)
        .await;
    let c = client(&server);
    c.enable_token_generator("k/1").await.unwrap();
    let g = c.get_token_generator("k/1").await.unwrap();
    c.replace_token_generator("k/1").await.unwrap();
    c.disable_token_generator("k/1").await.unwrap();
    assert_eq!(g.token_generator_id.as_deref(), Some("gen-1"));
    assert_eq!(g.status, GeneratorStatus::Active);
    assert_eq!(g.enabled_date.as_deref(), Some("1700000000000"));
    assert_eq!(g.disabled_date, None);
    assert_eq!(g.issued_token_count, Some(4));
    let received = server.received_requests().await.unwrap();
    let methods: Vec<&str> = received.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "GET", "PUT", "DELETE"]);
    for req in &received {
        assert_eq!(req.url.path(), "/kms/v1/keys/k%2F1/token-generator");
        assert!(req.body.is_empty(), "{} has no body", req.method);
        assert_signed(req);
    }
}

fn key(tag: &str, key_type: &str) -> serde_json::Value {
    json!({"keyId": format!("id-{tag}"), "keyTag": tag, "keyName": tag, "keyType": key_type,
           "status": "ENABLE", "protectionType": "SOFTWARE", "isConvergent": false,
           "registerDate": 1_700_000_000_000u64, "destroyDate": null})
}

#[tokio::test]
async fn list_keys_sends_the_query_in_fixed_order_and_signs_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/kms/v1/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "currentPageNo": 2, "totalPageNo": 3, "totalCount": 120,
            "keyList": [key("a", "AES256"), key("b", "RSA2048"), key("c", "ECDSA"), key("d", "NEW")]
        }))))
        .mount(&server)
        .await;
    let page = client(&server).list_keys(2, 50).await.unwrap();
    assert_eq!(page.current_page_no, Some(2));
    assert_eq!(page.total_page_no, Some(3));
    assert_eq!(page.total_count, Some(120));
    let types: Vec<KeyType> = page.keys.iter().map(|k| k.key_type.clone()).collect();
    assert_eq!(
        types,
        [
            KeyType::Aes256,
            KeyType::Rsa2048,
            KeyType::Ecdsa,
            KeyType::Unknown("NEW".into())
        ]
    );
    assert_eq!(page.keys[0].key_tag.as_deref(), Some("a"));
    let req = one_request(&server).await;
    assert_eq!(wire_uri(&req), "/kms/v1/keys?pageNo=2&pageSize=50");
    assert!(req.body.is_empty());
    assert_signed(&req);
}

#[tokio::test]
async fn list_keys_refuses_bad_pages_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server);
    for (page_no, page_size, field) in [
        (0, 10, "page_no"),
        (1, 0, "page_size"),
        (1, 201, "page_size"),
    ] {
        let e = c.list_keys(page_no, page_size).await.unwrap_err();
        assert_eq!(e.field(), Some(field));
    }
    assert!(c.list_keys(1, 200).await.is_err()); // sent (no mock: 404), so it is valid
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn list_all_keys_walks_every_page_up_to_the_announced_last() {
    let server = MockServer::start().await;
    for (n, tags) in [("1", vec!["a", "b"]), ("2", vec!["c"]), ("3", vec!["d"])] {
        let keys: Vec<_> = tags.iter().map(|t| key(t, "AES256")).collect();
        Mock::given(method("GET"))
            .and(path("/kms/v1/keys"))
            .and(query_param("pageNo", n))
            .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
                "currentPageNo": n.parse::<u32>().unwrap(), "totalPageNo": 3, "totalCount": 4,
                "keyList": keys
            }))))
            .mount(&server)
            .await;
    }
    let keys = client(&server).list_all_keys().await.unwrap();
    let tags: Vec<_> = keys.iter().map(|k| k.key_tag.clone().unwrap()).collect();
    assert_eq!(tags, ["a", "b", "c", "d"]);
    let received = server.received_requests().await.unwrap();
    let uris: Vec<String> = received.iter().map(wire_uri).collect();
    assert_eq!(
        uris,
        [
            "/kms/v1/keys?pageNo=1&pageSize=200",
            "/kms/v1/keys?pageNo=2&pageSize=200",
            "/kms/v1/keys?pageNo=3&pageSize=200",
        ]
    );
    received.iter().for_each(assert_signed);
}

#[tokio::test]
async fn list_all_keys_stops_at_an_empty_page_whatever_the_total_says() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("pageNo", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "totalPageNo": 1_000_000, "keyList": [key("a", "AES256")]
        }))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("pageNo", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "totalPageNo": 1_000_000, "keyList": []
        }))))
        .mount(&server)
        .await;
    let keys = client(&server).list_all_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn refresh_access_token_sends_the_refresh_token_header_and_no_signature() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/kms/v1/keys/my%20tag/access-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "accessToken": jwt(Some(5_000), "new-access")
        }))))
        .mount(&server)
        .await;
    let c = client(&server);
    let refresh = SecretString::new(jwt(Some(9_000), "refresh"));
    let a = c
        .refresh_access_token("my tag", &refresh, Some(TokenValidity::hours(1).unwrap()))
        .await
        .unwrap();
    let b = c
        .refresh_access_token("my tag", &refresh, None)
        .await
        .unwrap();
    assert_eq!(a.token.expose_secret(), jwt(Some(5_000), "new-access"));
    assert_eq!(a.expires_at, Some(UNIX_EPOCH + Duration::from_secs(5_000)));
    assert_eq!(b.expires_at, a.expires_at);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(body_json(&received[0]), json!({"accessTokenHours": 1}));
    assert_eq!(body_json(&received[1]), json!({}));
    for req in &received {
        assert_token_auth(req, refresh.expose_secret());
    }
}

#[tokio::test]
async fn renew_token_set_puts_with_the_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/kms/v1/keys/t/token-set"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_set_body(Some(10), Some(20))))
        .mount(&server)
        .await;
    let refresh = SecretString::new(jwt(Some(9_000), "refresh"));
    let options = TokenSetOptions::new()
        .with_access_token_hours(TokenValidity::hours(72).unwrap())
        .with_refresh_token_hours(TokenValidity::Unlimited);
    let set = client(&server)
        .renew_token_set("t", &refresh, options)
        .await
        .unwrap();
    assert_eq!(
        set.refresh_token_expires_at,
        Some(UNIX_EPOCH + Duration::from_secs(20))
    );
    let req = one_request(&server).await;
    assert_token_auth(&req, refresh.expose_secret());
    assert_eq!(
        body_json(&req),
        json!({"accessTokenHours": 72, "refreshTokenHours": "UL"})
    );
}

#[tokio::test]
async fn success_without_data_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"code": "SUCCESS"})))
        .mount(&server)
        .await;
    let e = client(&server)
        .create_token_set("t", TokenSetOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(e, ncp_kms_client::Error::Decode { status: 200, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_builders_clock_signs_the_request_and_is_refused_with_a_transport() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/kms/v1/keys/my-tag/token-set"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(token_set_body(Some(2_000), Some(3_000))),
        )
        .mount(&server)
        .await;
    // Years away from the system clock: only the given clock can sign with this time.
    let clock = Arc::new(ManualClock::at_unix_seconds(1_700_000_000));
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(&format!("{}/kms/v1", server.uri()))
        .clock(clock.clone())
        .build()
        .unwrap();
    client
        .create_token_set("my-tag", TokenSetOptions::new())
        .await
        .unwrap();
    let req = one_request(&server).await;
    assert_eq!(
        req.headers.get("x-ncp-apigw-timestamp").unwrap(),
        "1700000000000"
    );
    assert_signed(&req);

    let e = KmsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(&format!("{}/kms/v1", server.uri()))
        .clock(clock)
        .transport(fast_transport())
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("clock"), "{e}");
}
