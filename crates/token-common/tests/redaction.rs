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

const ACCESS_KEY: &str = "AKID-Vx93-ACCESS-KEY";

fn unsigned(method: reqwest::Method) -> HttpRequest {
    HttpRequest::new(
        method,
        url::Url::parse("https://x.test/kms/v1/keys/tag/token-set").unwrap(),
        "/keys/{keyTag}/token-set",
    )
    .json(&serde_json::json!({"accessTokenHours": 1}))
    .unwrap()
}

/// The values of `names` on a signed request: they must be marked sensitive, and neither
/// our `Debug` nor reqwest's may show them.
fn assert_auth_headers_hidden(what: &str, req: &HttpRequest, names: &[&str]) {
    let shown = format!("{req:?} {req:#?}");
    for name in names {
        let value = req
            .headers
            .get(*name)
            .unwrap_or_else(|| panic!("{what}: no {name}"));
        assert!(
            value.is_sensitive(),
            "{what}: {name} is not marked sensitive"
        );
        let text = value.to_str().unwrap();
        assert!(text.len() >= 8, "{what}: {name} too short to search for");
        assert!(!shown.contains(text), "{what} shows {name}: {shown}");
    }
    for secret in [SECRET, TOKEN, ACCESS_KEY] {
        assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
    }
    // What reqwest (and so hyper, and a user's own logging of it) would print.
    let built = reqwest::Client::new()
        .request(req.method.clone(), req.url.clone())
        .headers(req.headers.clone())
        .build()
        .unwrap();
    let theirs = format!("{built:?} {:?}", built.headers());
    for name in names {
        let text = req.headers[*name].to_str().unwrap();
        assert!(!theirs.contains(text), "reqwest shows {name}: {theirs}");
    }
}

#[test]
fn debug_of_a_signed_ncp_request_shows_no_signature_or_access_key() {
    use token_common::signing::Signer as _;
    let signer = NcpSigner::new(&NcpCredentials::new(ACCESS_KEY, SECRET)).unwrap();
    let mut req = unsigned(reqwest::Method::POST);
    signer
        .sign(&mut req, std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_auth_headers_hidden(
        "NCP signed request",
        &req,
        &["x-ncp-apigw-signature-v2", "x-ncp-iam-access-key"],
    );
    // The timestamp is no secret and stays readable.
    assert!(format!("{req:?}").contains("x-ncp-apigw-timestamp"));
}

#[test]
fn debug_of_an_ncp_token_request_shows_no_token() {
    let req = unsigned(reqwest::Method::POST)
        .secret_header(
            reqwest::header::HeaderName::from_static("x-ncp-ocapi-token"),
            &SecretString::new(TOKEN),
            "refresh_token",
        )
        .unwrap();
    assert_auth_headers_hidden("NCP token request", &req, &["x-ncp-ocapi-token"]);
}

#[test]
fn debug_of_a_signed_huawei_request_shows_no_signature_key_or_security_token() {
    use token_common::signing::Signer as _;
    let creds = HuaweiCredentials::new(ACCESS_KEY, SECRET).with_security_token(TOKEN);
    let signer = HuaweiSigner::new(&creds, HuaweiScope::Project("p".into())).unwrap();
    let mut req = unsigned(reqwest::Method::POST);
    signer
        .sign(&mut req, std::time::SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_auth_headers_hidden(
        "Huawei signed request",
        &req,
        &["authorization", "x-security-token"],
    );
}

#[test]
fn debug_of_a_cloudforet_request_shows_no_password_or_refresh_token() {
    // Cloudforet calls are unsigned: the secrets travel in the body.
    let req = HttpRequest::new(
        reqwest::Method::POST,
        url::Url::parse("https://x.test/identity/token/issue").unwrap(),
        "/identity/token/issue",
    )
    .json(&serde_json::json!({
        "credentials": {"user_id": "u", "password": SECRET},
        "token": TOKEN,
    }))
    .unwrap();
    assert_hidden("Cloudforet request", &format!("{req:?} {req:#?}"));
}

#[test]
fn credential_headers_are_hidden_even_when_inserted_unmarked() {
    use reqwest::header::{HeaderName, HeaderValue};
    // Through `header()`, a credential header is marked before it enters the map.
    let req = unsigned(reqwest::Method::GET)
        .header(
            reqwest::header::AUTHORIZATION,
            &format!("Bearer {TOKEN}"),
            "token",
        )
        .unwrap();
    assert!(req.headers["authorization"].is_sensitive());
    assert_hidden("header()", &format!("{req:?}"));
    // Inserted straight into the map, unmarked: `Debug` still hides it by name.
    let mut req = unsigned(reqwest::Method::GET);
    for name in token_common::transport::SENSITIVE_HEADERS {
        req.headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(TOKEN).unwrap(),
        );
    }
    assert_hidden("unmarked request headers", &format!("{req:?}"));
    // An answer that carries a token in a header (Huawei IAM's X-Subject-Token).
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-subject-token", HeaderValue::from_str(TOKEN).unwrap());
    headers.insert("x-request-id", HeaderValue::from_static("req-visible"));
    let resp = token_common::HttpResponse::new(201, headers, Vec::new());
    let shown = format!("{resp:?}");
    assert_hidden("response headers", &shown);
    assert!(shown.contains("req-visible"), "{shown}");
}
