//! No public type holding a secret, and no error, ever prints it.

mod support;

use huawei_identity_client::{
    BearerToken, BearerTokenSource, Environment, Error, HuaweiCredentials, IdentityStoreClient,
    ServiceError, Transport,
};
use support::*;

fn assert_hidden(shown: &str) {
    for secret in [SK, SECURITY_TOKEN, TOKEN_VALUE] {
        assert!(!shown.contains(secret), "secret leaked in: {shown}");
    }
}

fn token() -> BearerToken {
    serde_json::from_str(&format!(
        r#"{{"creation_time":1,"expiration_time":2.0,"token":"{TOKEN_VALUE}","token_id":"t"}}"#
    ))
    .unwrap()
}

#[test]
fn debug_and_display_output_never_contain_a_secret() {
    let t = token();
    assert_hidden(&format!("{t:?}"));
    assert_hidden(&format!("{t:#?}"));
    assert_hidden(&format!("{}", t.token));
    assert_eq!(t.token.expose_secret(), TOKEN_VALUE);

    let creds = credentials(true);
    assert_hidden(&format!("{creds:?}"));

    let builder = IdentityStoreClient::builder()
        .region("cn-north-4")
        .credentials(creds.clone())
        .environment(Environment::from_pairs([("HUAWEICLOUD_SDK_SK", SK)]));
    assert_hidden(&format!("{builder:?}"));
    let client = builder.build().unwrap();
    assert_hidden(&format!("{client:?}"));
    assert_hidden(&format!("{client:#?}"));

    let fake = FakeHttp::sequence(vec![json_response(204, "")]);
    let transport = Transport::builder().http_client(fake).build().unwrap();
    let client = IdentityStoreClient::builder()
        .endpoint("https://ids.example.com")
        .credentials(creds)
        .transport(transport)
        .build()
        .unwrap();
    let source = BearerTokenSource::new(client, STORE, TENANT).unwrap();
    assert_hidden(&format!("{source:?}"));
    let cache = source.into_cache();
    assert_hidden(&format!("{cache:?}"));
}

#[tokio::test]
async fn errors_never_contain_a_secret() {
    let mut errors: Vec<Error> = vec![ServiceError::new(403, "IAM.0003", "denied")
        .with_request_id(Some("r".into()))
        .with_details(Some("enc".into()))
        .into()];
    // Malformed values next to secrets: errors name the field, never echo the value.
    errors.push(
        IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(HuaweiCredentials::new(AK, SK).with_security_token("bad\ntoken"))
            .project_id(PROJECT_ID)
            .build()
            .unwrap_err(),
    );
    errors.push(
        IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(HuaweiCredentials::new(AK, SK))
            .build()
            .unwrap_err(),
    );
    // A success body that fails to decode carries the token: it must not be quoted.
    let fake = FakeHttp::sequence(vec![json_response(
        201,
        &format!(r#"{{"token":"{TOKEN_VALUE}","token_id":7}}"#),
    )]);
    let client = IdentityStoreClient::builder()
        .endpoint("https://ids.example.com")
        .credentials(credentials(true))
        .transport(Transport::builder().http_client(fake).build().unwrap())
        .build()
        .unwrap();
    errors.push(client.create_bearer_token(STORE, TENANT).await.unwrap_err());
    for e in &errors {
        assert_hidden(&format!("{e:?}"));
        assert_hidden(&format!("{e}"));
    }
}
