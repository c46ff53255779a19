//! The six crypto calls on the wire, with account keys and in token mode: the exact body
//! of each (single and array forms), the auth headers, the `ncpkms:v<N>:` text kept byte
//! for byte, limits refused before sending, and token mode's refusal handling.

mod support;

use std::time::Duration;

use ncp_kms_client::{
    Ciphertext, CustomKeyOptions, Error, KeyBits, KmsClient, NcpCredentials, SecretBytes,
    Signature, TokenSetOptions,
};
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TAG: &str = "tag";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Account,
    Token,
}

const MODES: [Mode; 2] = [Mode::Account, Mode::Token];

/// An `exp` far ahead (2096), fixed so the tokens compare equal across calls.
fn far() -> i64 {
    4_000_000_000
}

fn refresh_token() -> String {
    jwt(Some(far()), "the-refresh-token")
}

/// Shorter-lived than the refresh token, so fetching one never calls for a renewal.
fn access_token() -> String {
    jwt(Some(far() - 1_000_000_000), "the-access-token")
}

/// A server answering refreshes (token mode) and `action` with `data`.
async fn server_with(action: &str, data: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/access-token")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(success(json!({"accessToken": access_token()}))),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/{action}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(data)))
        .mount(&server)
        .await;
    server
}

fn token_client(server: &MockServer) -> KmsClient {
    KmsClient::builder()
        .refresh_token(TAG, refresh_token())
        .endpoint(&format!("{}/kms/v1", server.uri()))
        .transport(fast_transport())
        .build()
        .unwrap()
}

fn client_for(mode: Mode, server: &MockServer) -> KmsClient {
    match mode {
        Mode::Account => client(server),
        Mode::Token => token_client(server),
    }
}

/// The one request made to `action`, its auth checked for the mode.
async fn action_request(server: &MockServer, action: &str, mode: Mode) -> wiremock::Request {
    let all = server.received_requests().await.unwrap();
    let mut hits: Vec<_> = all
        .into_iter()
        .filter(|r| r.url.path() == format!("/kms/v1/keys/{TAG}/{action}"))
        .collect();
    assert_eq!(hits.len(), 1, "one {action} request");
    let req = hits.remove(0);
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.headers.get("content-type").unwrap(), "application/json");
    match mode {
        Mode::Account => assert_signed(&req),
        Mode::Token => assert_token_auth(&req, &access_token()),
    }
    req
}

fn bytes(b: &[u8]) -> SecretBytes {
    SecretBytes::new(b.to_vec())
}

#[tokio::test]
async fn encrypt_sends_base64_plaintext_and_context_and_keeps_the_prefix() {
    for mode in MODES {
        let server = server_with("encrypt", json!({"ciphertext": "ncpkms:v7:AbC+/9=="})).await;
        let c = client_for(mode, &server)
            .encrypt(TAG, &bytes(b"hello"), Some(b"ctx"))
            .await
            .unwrap();
        assert_eq!(c.as_str(), "ncpkms:v7:AbC+/9==", "{mode:?}");
        assert_eq!(c.key_version(), 7);
        let req = action_request(&server, "encrypt", mode).await;
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"plaintext":"aGVsbG8=","context":"Y3R4"}"#,
            "{mode:?}"
        );
    }
}

#[tokio::test]
async fn encrypt_many_sends_an_array_and_reads_one() {
    for mode in MODES {
        let server = server_with(
            "encrypt",
            json!({"ciphertext": ["ncpkms:v1:eA==", "ncpkms:v2:eQ=="]}),
        )
        .await;
        let out = client_for(mode, &server)
            .encrypt_many(TAG, &[bytes(b"a"), bytes(b"")], None)
            .await
            .unwrap();
        let texts: Vec<_> = out.iter().map(Ciphertext::as_str).collect();
        assert_eq!(texts, ["ncpkms:v1:eA==", "ncpkms:v2:eQ=="]);
        let req = action_request(&server, "encrypt", mode).await;
        assert_eq!(body_json(&req), json!({"plaintext": ["YQ==", ""]}));
    }
}

#[tokio::test]
async fn decrypt_sends_the_ciphertext_unchanged_and_decodes_the_plaintext() {
    for mode in MODES {
        let server = server_with("decrypt", json!({"plaintext": "aGVsbG8="})).await;
        let ct = Ciphertext::parse("ncpkms:v12:q+/w==").unwrap();
        let p = client_for(mode, &server)
            .decrypt(TAG, &ct, Some(b"ctx"))
            .await
            .unwrap();
        assert_eq!(p.expose_secret(), b"hello");
        let req = action_request(&server, "decrypt", mode).await;
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"ciphertext":"ncpkms:v12:q+/w==","context":"Y3R4"}"#
        );
    }
}

#[tokio::test]
async fn decrypt_many_sends_an_array() {
    for mode in MODES {
        let server = server_with("decrypt", json!({"plaintext": ["YQ==", ""]})).await;
        let cts = [
            Ciphertext::parse("ncpkms:v1:eA==").unwrap(),
            Ciphertext::parse("ncpkms:v2:eQ==").unwrap(),
        ];
        let out = client_for(mode, &server)
            .decrypt_many(TAG, &cts, None)
            .await
            .unwrap();
        assert_eq!(out[0].expose_secret(), b"a");
        assert!(out[1].is_empty());
        let req = action_request(&server, "decrypt", mode).await;
        assert_eq!(
            body_json(&req),
            json!({"ciphertext": ["ncpkms:v1:eA==", "ncpkms:v2:eQ=="]})
        );
    }
}

#[tokio::test]
async fn sign_sends_base64_data() {
    for mode in MODES {
        let server = server_with("sign", json!({"signature": "ncpkms:v3:MEUCIQ=="})).await;
        let sig = client_for(mode, &server).sign(TAG, b"msg").await.unwrap();
        assert_eq!(sig.as_str(), "ncpkms:v3:MEUCIQ==");
        let req = action_request(&server, "sign", mode).await;
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"data":"bXNn"}"#
        );
    }
}

#[tokio::test]
async fn verify_sends_data_and_signature_and_accepts_true_as_text() {
    for (mode, valid, expected) in [
        (Mode::Account, json!(true), true),
        (Mode::Token, json!("true"), true),
        (Mode::Account, json!("false"), false),
        (Mode::Token, json!(false), false),
    ] {
        let server = server_with("verify", json!({ "valid": valid })).await;
        let sig = Signature::parse("ncpkms:v3:MEUCIQ==").unwrap();
        let got = client_for(mode, &server)
            .verify(TAG, b"msg", &sig)
            .await
            .unwrap();
        assert_eq!(got, expected, "{mode:?} {valid}");
        let req = action_request(&server, "verify", mode).await;
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"data":"bXNn","signature":"ncpkms:v3:MEUCIQ=="}"#
        );
    }
    let server = server_with("verify", json!({ "valid": "maybe" })).await;
    let sig = Signature::parse("ncpkms:v3:MEUCIQ==").unwrap();
    let e = client(&server).verify(TAG, b"m", &sig).await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
}

#[tokio::test]
async fn reencrypt_posts_to_re_encrypt_in_both_forms() {
    for mode in MODES {
        let server = server_with("re-encrypt", json!({"newCiphertext": "ncpkms:v9:bmV3"})).await;
        let ct = Ciphertext::parse("ncpkms:v1:b2xk").unwrap();
        let new = client_for(mode, &server)
            .reencrypt(TAG, &ct, Some(b"c"))
            .await
            .unwrap();
        assert_eq!((new.as_str(), new.key_version()), ("ncpkms:v9:bmV3", 9));
        let req = action_request(&server, "re-encrypt", mode).await;
        assert_eq!(
            body_json(&req),
            json!({"ciphertext": "ncpkms:v1:b2xk", "context": "Yw=="})
        );

        let server = server_with(
            "re-encrypt",
            json!({"newCiphertext": ["ncpkms:v9:YQ==", "ncpkms:v9:Yg=="]}),
        )
        .await;
        let cts = [ct.clone(), Ciphertext::parse("ncpkms:v2:Yg==").unwrap()];
        let out = client_for(mode, &server)
            .reencrypt_many(TAG, &cts, None)
            .await
            .unwrap();
        assert_eq!(out.len(), 2);
        let req = action_request(&server, "re-encrypt", mode).await;
        assert_eq!(
            body_json(&req),
            json!({"ciphertext": ["ncpkms:v1:b2xk", "ncpkms:v2:Yg=="]})
        );
    }
}

#[tokio::test]
async fn create_custom_key_sends_every_option_and_reads_snake_case_version() {
    for mode in MODES {
        let server = server_with(
            "create-custom-key",
            json!({"ciphertext": "ncpkms:v2:a2V5", "key_version": 2, "plaintext": "AAEC"}),
        )
        .await;
        let options = CustomKeyOptions::new()
            .with_plain_key(true)
            .with_bits(KeyBits::Bits512)
            .with_context(b"ctx".to_vec());
        let key = client_for(mode, &server)
            .create_custom_key(TAG, &options)
            .await
            .unwrap();
        assert_eq!(key.ciphertext.as_str(), "ncpkms:v2:a2V5");
        assert_eq!(key.key_version, Some(2));
        assert_eq!(key.plaintext.unwrap().expose_secret(), [0, 1, 2]);
        let req = action_request(&server, "create-custom-key", mode).await;
        assert_eq!(
            std::str::from_utf8(&req.body).unwrap(),
            r#"{"requestPlainKey":true,"bits":512,"context":"Y3R4"}"#
        );
    }
    // key_version may be absent; defaults are sent explicitly.
    let server = server_with("create-custom-key", json!({"ciphertext": "ncpkms:v1:a2V5"})).await;
    let key = client(&server)
        .create_custom_key(TAG, &CustomKeyOptions::new())
        .await
        .unwrap();
    assert_eq!((key.key_version, key.plaintext.is_none()), (None, true));
    let req = action_request(&server, "create-custom-key", Mode::Account).await;
    assert_eq!(
        body_json(&req),
        json!({"requestPlainKey": false, "bits": 256})
    );
}

#[tokio::test]
async fn an_answer_without_the_prefix_is_a_decode_error() {
    let server = server_with("encrypt", json!({"ciphertext": "AbC="})).await;
    let e = client(&server)
        .encrypt(TAG, &bytes(b"x"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    // One value asked, an array answered (and the reverse): refused, not guessed.
    let server = server_with("encrypt", json!({"ciphertext": ["ncpkms:v1:YQ=="]})).await;
    let e = client(&server)
        .encrypt(TAG, &bytes(b"x"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
    let e = client(&server)
        .encrypt_many(TAG, &[bytes(b"x"), bytes(b"y")], None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("1 items for 2 sent"), "{e}");
}

#[tokio::test]
async fn sizes_and_context_are_refused_before_sending() {
    let server = server_with("encrypt", json!({"ciphertext": "ncpkms:v1:YQ=="})).await;
    let c = client(&server);
    let big = bytes(&vec![0; 32 * 1024 + 1]);
    let limit = bytes(&vec![0; 32 * 1024]);
    let cases: Vec<(Error, &str)> = vec![
        (c.encrypt(TAG, &big, None).await.unwrap_err(), "plaintext"),
        (
            c.encrypt_many(TAG, &[limit.clone(), big.clone()], None)
                .await
                .unwrap_err(),
            "plaintext[1]",
        ),
        (
            c.encrypt_many(TAG, &[], None).await.unwrap_err(),
            "plaintext",
        ),
        (
            c.encrypt(TAG, &limit, Some(&[1; 51])).await.unwrap_err(),
            "context",
        ),
        (c.sign(TAG, &[0; 8 * 1024 + 1]).await.unwrap_err(), "data"),
        (
            c.decrypt_many(TAG, &[], None).await.unwrap_err(),
            "ciphertext",
        ),
        (
            c.create_custom_key(TAG, &CustomKeyOptions::new().with_context(vec![0; 51]))
                .await
                .unwrap_err(),
            "context",
        ),
        (c.encrypt("", &limit, None).await.unwrap_err(), "key_tag"),
    ];
    for (e, field) in cases {
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // The limits themselves are allowed.
    c.encrypt(TAG, &limit, Some(&[1; 50])).await.unwrap();
}

/// Token mode: a server whose first `n_refused` encrypts answer 401.
async fn refusing_server(n_refused: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/access-token")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(success(json!({"accessToken": access_token()}))),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/encrypt")))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "UNAUTHORIZED", "msg": "The token is invalid"})),
        )
        .up_to_n_times(n_refused)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/encrypt")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(success(json!({"ciphertext": "ncpkms:v1:YQ=="}))),
        )
        .mount(&server)
        .await;
    server
}

fn paths(reqs: &[wiremock::Request]) -> Vec<String> {
    reqs.iter()
        .map(|r| r.url.path().rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_refused_access_token_is_replaced_once_and_the_call_sent_once_more() {
    let server = refusing_server(1).await;
    let c = token_client(&server);
    c.encrypt(TAG, &bytes(b"x"), None).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        paths(&reqs),
        ["access-token", "encrypt", "access-token", "encrypt"]
    );
    // Refresh carries the refresh token and accessTokenHours only (none given here).
    assert_token_auth(&reqs[0], &refresh_token());
    assert_eq!(body_json(&reqs[0]), json!({}));

    // Refused twice: the second refusal is the answer, with no third attempt.
    let server = refusing_server(2).await;
    let e = token_client(&server)
        .encrypt(TAG, &bytes(b"x"), None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(
        paths(&reqs),
        ["access-token", "encrypt", "access-token", "encrypt"]
    );
}

#[tokio::test]
async fn a_refused_refresh_token_says_to_mint_a_new_set_with_account_keys() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/kms/v1/keys/{TAG}/access-token")))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"code": "UNAUTHORIZED", "msg": "The token is invalid"})),
        )
        .mount(&server)
        .await;
    let c = token_client(&server);
    let e = c.encrypt(TAG, &bytes(b"x"), None).await.unwrap_err();
    let Error::SessionExpired { reason } = &e else {
        panic!("expected SessionExpired, got {e:?}");
    };
    assert!(reason.contains("account keys"), "{reason}");
    let shown = format!("{e} {e:?} {c:?}");
    assert!(!shown.contains(&refresh_token()), "{shown}");
    assert!(!shown.contains("the-refresh-token"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn token_mode_refuses_account_calls_and_other_keys_before_sending() {
    let server = MockServer::start().await;
    let c = token_client(&server);
    let e = c
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Credentials { .. }), "{e}");
    assert!(e.to_string().contains("account keys"), "{e}");
    assert!(c.list_keys(1, 10).await.is_err());
    let e = c
        .encrypt("another-tag", &bytes(b"x"), None)
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("key_tag"));
    assert!(server.received_requests().await.unwrap().is_empty());

    // Token mode and account keys together are refused at build.
    let e = KmsClient::builder()
        .refresh_token(TAG, refresh_token())
        .credentials(NcpCredentials::new(AK, SK))
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("credentials"));
}

#[tokio::test]
async fn secrets_never_show_in_debug() {
    let server = server_with("decrypt", json!({"plaintext": "c2VjcmV0LXBsYWlu"})).await;
    let c = token_client(&server);
    let ct = Ciphertext::parse("ncpkms:v1:YQ==").unwrap();
    let p = c.decrypt(TAG, &ct, None).await.unwrap();
    assert_eq!(p.expose_secret(), b"secret-plain");
    let access = c.access_token().await.unwrap().unwrap();
    let shown = format!("{c:?} {p:?} {access:?} {:?}", c.clone());
    for secret in [
        &refresh_token(),
        &access_token(),
        "secret-plain",
        "c2VjcmV0LXBsYWlu",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    let _ = Duration::ZERO;
}
