//! No secret key or token text in any `Debug` or `Display` output, errors included.

mod support;

use ncp_kms_client::{
    Error, KmsAccessToken, KmsClient, KmsTokenSource, NcpCredentials, SecretString, TokenSet,
    TokenSetOptions,
};
use serde_json::json;
use support::*;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCESS: &str = "eyJACCESS-TOKEN-SECRET-TEXT";
const REFRESH: &str = "eyJREFRESH-TOKEN-SECRET-TEXT";

fn assert_clean(what: &str, text: &str) {
    for secret in [SK, ACCESS, REFRESH, "SECRET-TEXT", "do_not_print"] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
    }
}

fn check_debug(what: &str, v: &impl std::fmt::Debug) {
    assert_clean(what, &format!("{v:?}"));
    assert_clean(what, &format!("{v:#?}"));
}

fn check_error(what: &str, e: &Error) {
    check_debug(what, e);
    assert_clean(what, &e.to_string());
}

#[tokio::test]
async fn debug_output_never_contains_secret() {
    let credentials = NcpCredentials::new(AK, SK);
    check_debug("credentials", &credentials);
    let builder = KmsClient::builder().credentials(credentials.clone());
    check_debug("builder", &builder);
    let client = builder.build().unwrap();
    check_debug("client", &client);
    assert!(
        format!("{client:?}").contains(AK),
        "the access key is not secret"
    );

    let set = TokenSet::from_tokens(SecretString::new(ACCESS), SecretString::new(REFRESH));
    check_debug("token set", &set);
    let access = KmsAccessToken::from_token(SecretString::new(ACCESS));
    check_debug("access token", &access);
    assert_clean("secret display", &set.access_token.to_string());

    let source = KmsTokenSource::new(client.clone(), "tag", TokenSetOptions::new())
        .unwrap()
        .with_token_set(set);
    check_debug("token source", &source);
    let cache = source.into_cache();
    check_debug("token cache", &cache);
    let token = cache.get().await.unwrap(); // the seeded token, no call made
    check_debug("cached token", &token);
    assert_eq!(token.value.expose_secret(), ACCESS);
}

#[tokio::test]
async fn errors_never_contain_secret() {
    let server = MockServer::start().await;
    let client = client(&server);
    // A success body that does not decode must not be quoted: it holds tokens.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": "SUCCESS", "data": {"accessToken": ACCESS, "refreshToken": 42}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let e = client
        .create_token_set("t", TokenSetOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
    check_error("decode error", &e);

    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("{ACCESS} not json")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    let e = client
        .create_token_set("t", TokenSetOptions::new())
        .await
        .unwrap_err();
    check_error("non-JSON success", &e);

    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "code": "UNAUTHORIZED", "msg": "The token is invalid, expired or revoked."
        })))
        .mount(&server)
        .await;
    let e = client
        .refresh_access_token("t", &SecretString::new(REFRESH), None)
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("UNAUTHORIZED"));
    check_error("refused refresh", &e);

    let e = client
        .refresh_access_token("t", &SecretString::new(format!("{REFRESH}\n")), None)
        .await
        .unwrap_err();
    check_error("bad token header", &e);

    let e = KmsClient::builder()
        .credentials(NcpCredentials::new(AK, format!("{SK}\n")))
        .endpoint("http://example.com/kms/v1")
        .build()
        .unwrap_err();
    check_error("build error", &e);
}

#[test]
#[allow(deprecated)]
fn the_old_access_token_name_still_names_the_kms_access_token() {
    let old: ncp_kms_client::AccessToken = KmsAccessToken::from_token(SecretString::new(ACCESS));
    check_debug("access token (old name)", &old);
}
