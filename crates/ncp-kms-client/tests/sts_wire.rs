//! What the STS calls put on the wire and how their answers and errors are read.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use ncp_kms_client::{NcpCredentials, StsClient, StsErrorKind, StsOptions};
use serde_json::json;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TEMP_SECRET: &str = "ncp_iam_BPKTMP_temporary_SECRET_never_print";

fn sts(server: &MockServer) -> StsClient {
    StsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(&server.uri())
        .transport(fast_transport())
        .build()
        .unwrap()
}

fn created() -> serde_json::Value {
    json!({
        "accessKey": "ncp_iam_BPTMP1",
        "keySecret": TEMP_SECRET,
        "createTime": "2024-10-10T16:58:28Z",
        "expireTime": "2024-10-10T17:58:28Z",
        "useMfa": false,
    })
}

async fn mount_create(server: &MockServer, status: u16, body: serde_json::Value) {
    Mock::given(method("POST"))
        .and(path("/api/v1/credentials"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::test]
async fn create_sends_signed_json_and_reads_typed_keys() {
    let server = MockServer::start().await;
    mount_create(&server, 200, created()).await;
    let keys = sts(&server)
        .create_credentials(&StsOptions::new())
        .await
        .unwrap();
    assert_eq!(keys.access_key, "ncp_iam_BPTMP1");
    assert_eq!(keys.key_secret.expose_secret(), TEMP_SECRET);
    assert_eq!(
        keys.expire_time,
        UNIX_EPOCH + Duration::from_secs(1_728_583_108)
    );
    assert_eq!(keys.lifetime(), Some(Duration::from_secs(3600)));
    assert!(!keys.use_mfa);
    assert!(!format!("{keys:?}").contains(TEMP_SECRET));

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let req = &received[0];
    assert_eq!(req.url.path(), "/api/v1/credentials");
    assert_signed(req);
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(body_json(req), json!({}));
}

#[tokio::test]
async fn create_body_carries_duration_and_mfa_as_integers() {
    let server = MockServer::start().await;
    mount_create(
        &server,
        200,
        json!({
            "accessKey": "ncp_iam_BPTMP2", "keySecret": TEMP_SECRET,
            "createTime": "2024-10-10T16:58:28Z", "expireTime": "2024-10-10T17:13:28+0000",
            "useMfa": "true",
        }),
    )
    .await;
    let options = StsOptions::new()
        .with_duration_secs(900)
        .with_mfa("nrn:PUB:IAM::1234:MfaDevice/otp", 123_456);
    assert!(!format!("{options:?}").contains("123456"));
    let keys = sts(&server).create_credentials(&options).await.unwrap();
    assert!(keys.use_mfa);
    assert_eq!(keys.lifetime(), Some(Duration::from_secs(900)));
    let req = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        body_json(req),
        json!({"durationSec": 900, "serialNumber": "nrn:PUB:IAM::1234:MfaDevice/otp", "tokenCode": 123456})
    );
}

#[tokio::test]
async fn out_of_range_durations_and_half_mfa_are_refused_before_sending() {
    let server = MockServer::start().await;
    mount_create(&server, 200, created()).await;
    let client = sts(&server);
    for secs in [0, 599, 43_201, u32::MAX] {
        let e = client
            .create_credentials(&StsOptions::new().with_duration_secs(secs))
            .await
            .unwrap_err();
        assert_eq!(e.field(), Some("duration_secs"), "{secs}: {e}");
    }
    for secs in [600, 43_200] {
        client
            .create_credentials(&StsOptions::new().with_duration_secs(secs))
            .await
            .unwrap();
    }
    let mut half = StsOptions::new();
    half.serial_number = Some("nrn".into());
    assert_eq!(
        client.create_credentials(&half).await.unwrap_err().field(),
        Some("token_code")
    );
    let mut half = StsOptions::new();
    half.token_code = Some(1);
    assert_eq!(
        client.create_credentials(&half).await.unwrap_err().field(),
        Some("serial_number")
    );
    // Only the two valid durations reached the server.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn get_sends_signed_get_with_content_type_and_no_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accessKey": AK, "createTime": "2024-10-10T16:58:28Z",
        })))
        .mount(&server)
        .await;
    let info = sts(&server).get_credentials().await.unwrap();
    assert_eq!(info.access_key, AK);
    assert!(info.key_secret.is_none() && info.expire_time.is_none() && info.use_mfa.is_none());
    assert_eq!(
        info.create_time,
        Some(UNIX_EPOCH + Duration::from_secs(1_728_579_508))
    );
    let req = &server.received_requests().await.unwrap()[0];
    assert_signed(req);
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
    assert!(req.body.is_empty());
}

#[tokio::test]
async fn documented_errors_are_typed() {
    let cases = [
        (400, "400", Some(StsErrorKind::DurationOutOfRange)),
        (401, "401", Some(StsErrorKind::InvalidOtp)),
        (404, "404", Some(StsErrorKind::InvalidOrExpiredKey)),
        (401, "200", None), // the gateway's authentication failure
    ];
    for (status, code, kind) in cases {
        let server = MockServer::start().await;
        mount_create(
            &server,
            status,
            json!({"error": {"errorCode": code, "message": "refused", "details": "d"}}),
        )
        .await;
        let e = sts(&server)
            .create_credentials(&StsOptions::new())
            .await
            .unwrap_err();
        assert_eq!(StsErrorKind::of(&e), kind, "{status} {code}: {e}");
        assert_eq!(e.status(), Some(status));
        assert!(e.to_string().contains("refused"), "{e}");
    }
}

#[tokio::test]
async fn create_is_never_repeated_after_502_or_504_but_is_after_503() {
    for (status, expected_requests) in [(502, 1), (504, 1), (503, 3)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
        let e = sts(&server)
            .create_credentials(&StsOptions::new())
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(status));
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            expected_requests,
            "HTTP {status}"
        );
    }
}

#[tokio::test]
async fn garbage_answers_are_decode_errors_that_quote_no_secret() {
    let bodies = [
        json!({"accessKey": "a", "expireTime": "2024-10-10T17:58:28Z"}), // no keySecret
        json!({"accessKey": "a", "keySecret": TEMP_SECRET}),             // no expireTime
        json!({"accessKey": "a", "keySecret": TEMP_SECRET, "expireTime": "tomorrow"}),
        json!([1, 2]),
    ];
    for body in bodies {
        let server = MockServer::start().await;
        mount_create(&server, 200, body.clone()).await;
        let e = sts(&server)
            .create_credentials(&StsOptions::new())
            .await
            .unwrap_err();
        assert!(
            matches!(e, ncp_kms_client::Error::Decode { .. }),
            "{body}: {e}"
        );
        assert!(!e.to_string().contains(TEMP_SECRET), "{e}");
    }
}

#[tokio::test]
async fn the_builders_clock_signs_sts_calls_and_is_refused_with_a_transport() {
    use std::sync::Arc;
    use token_common::clock::ManualClock;

    let server = MockServer::start().await;
    mount_create(&server, 200, created()).await;
    let clock = Arc::new(ManualClock::at_unix_seconds(1_700_000_000));
    let sts = StsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(&server.uri())
        .clock(clock.clone())
        .build()
        .unwrap();
    sts.create_credentials(&StsOptions::new()).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].headers.get("x-ncp-apigw-timestamp").unwrap(),
        "1700000000000"
    );
    assert_signed(&received[0]);

    let e = StsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(&server.uri())
        .clock(clock)
        .transport(fast_transport())
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("clock"), "{e}");
}
