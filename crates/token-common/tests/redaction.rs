//! No public type that holds a secret, and no error that a credentials or signing failure
//! produces, ever shows the secret's text.

use std::sync::Arc;

use token_common::credentials::{
    Environment, HuaweiCredentials, HuaweiEnvironment, HuaweiScope, Ini, NcpCredentials,
    NcpEnvironment, ProvideCredentials,
};
use token_common::signing::{HuaweiSigner, NcpSigner};
use token_common::{Expiring, HttpRequest, SecretString};

const SECRET: &str = "Zq8-SECRET-VALUE-3x";
const TOKEN: &str = "eyJTOKEN.VALUE.sig";

fn assert_hidden(what: &str, shown: &str) {
    assert!(!shown.contains(SECRET), "{what} shows the secret: {shown}");
    assert!(!shown.contains(TOKEN), "{what} shows the token: {shown}");
}

fn both<T: std::fmt::Debug + std::fmt::Display>(what: &str, v: &T) {
    assert_hidden(what, &format!("{v:?}"));
    assert_hidden(what, &format!("{v:#?}"));
    assert_hidden(what, &v.to_string());
}

#[test]
fn debug_and_display_of_every_secret_holder_hide_the_secret() {
    both("SecretString", &SecretString::new(SECRET));

    let ncp = NcpCredentials::new("AK", SECRET);
    assert_hidden("NcpCredentials", &format!("{ncp:?}"));
    let hw = HuaweiCredentials::new("AK", SECRET)
        .with_security_token(TOKEN)
        .with_project_id("p");
    assert_hidden("HuaweiCredentials", &format!("{hw:#?}"));
    assert_hidden("NcpSigner", &format!("{:?}", NcpSigner::new(&ncp).unwrap()));
    assert_hidden(
        "HuaweiSigner",
        &format!(
            "{:?}",
            HuaweiSigner::new(&hw, HuaweiScope::Project("p".into())).unwrap()
        ),
    );
    let env = Environment::from_pairs([("NCLOUD_SECRET_KEY", SECRET)]);
    assert_hidden("Environment", &format!("{env:?}"));
    assert_hidden(
        "NcpEnvironment",
        &format!("{:?}", NcpEnvironment::with_environment(env)),
    );
    let ini = Ini::parse(&format!("[a]\nsk = {SECRET}\n"), "f").unwrap();
    assert_hidden("Ini", &format!("{ini:?}"));
    let exp = Expiring::new(SecretString::new(TOKEN), None);
    assert_hidden("Expiring", &format!("{exp:?}"));
    let arc = Arc::new(exp);
    assert_hidden("Arc<Expiring>", &format!("{arc:?}"));
}

#[test]
fn a_request_carrying_a_token_header_hides_it_in_debug() {
    let req = HttpRequest::new(
        reqwest::Method::POST,
        url::Url::parse("https://x.test/a").unwrap(),
        "/a",
    )
    .secret_header(
        reqwest::header::HeaderName::from_static("x-ncp-ocapi-token"),
        &SecretString::new(TOKEN),
        "refresh_token",
    )
    .unwrap();
    assert_hidden("HttpRequest", &format!("{req:?}"));
}

#[test]
fn request_and_response_bodies_never_show_in_debug() {
    let req = HttpRequest::new(
        reqwest::Method::POST,
        url::Url::parse("https://x.test/a").unwrap(),
        "/a",
    )
    .json(&serde_json::json!({ "password": SECRET }))
    .unwrap();
    let shown = format!("{req:?}");
    assert_hidden("HttpRequest with body", &shown);
    // Not even as bytes: the body is reported by length only.
    assert!(shown.contains("bytes>"), "{shown}");
    assert!(
        !shown.contains(&SECRET.as_bytes()[0].to_string()),
        "{shown}"
    );
    let resp = token_common::HttpResponse::new(
        200,
        Default::default(),
        format!("{{\"accessToken\":\"{TOKEN}\"}}").into_bytes(),
    );
    assert_hidden("HttpResponse", &format!("{resp:?}"));
}

#[test]
fn errors_from_credentials_and_signing_failures_hide_the_secret() {
    let mut errors = Vec::new();
    errors.push(
        NcpEnvironment::with_environment(Environment::from_pairs([("NCLOUD_SECRET_KEY", SECRET)]))
            .provide()
            .unwrap_err(),
    );
    errors.push(
        HuaweiEnvironment::with_environment(Environment::from_pairs([(
            "HUAWEICLOUD_SDK_SK",
            SECRET,
        )]))
        .provide()
        .unwrap_err(),
    );
    errors.push(Ini::parse(&format!("[a]\n{SECRET}\n"), "f").unwrap_err());
    errors.push(Ini::parse(&format!("{SECRET} = x\n"), "f").unwrap_err());
    errors.push(NcpSigner::new(&NcpCredentials::new("", SECRET)).unwrap_err());
    errors.push(
        HuaweiSigner::new(
            &HuaweiCredentials::new("AK", SECRET).with_security_token(format!("{TOKEN}\n")),
            HuaweiScope::None,
        )
        .unwrap_err(),
    );
    errors.push(
        HttpRequest::new(
            reqwest::Method::GET,
            url::Url::parse("https://x.test").unwrap(),
            "/",
        )
        .secret_header(
            reqwest::header::HeaderName::from_static("x-token"),
            &SecretString::new(format!("{TOKEN}\r\n")),
            "token",
        )
        .unwrap_err(),
    );
    errors.push(token_common::jwt::read_claims(&format!("{TOKEN}.extra")).unwrap_err());
    for e in &errors {
        both("error", e);
    }
}
