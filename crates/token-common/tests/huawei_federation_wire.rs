//! Huawei pod identity and OIDC federation on the wire (FACTS.md §2), and the default
//! chain's order.

use std::path::PathBuf;

use serde_json::{json, Value};
use token_common::credentials::{
    huawei_default_chain, iam_endpoint_for_region, Environment, FederationOrigin,
    HuaweiChainOptions, HuaweiFederation, HuaweiPodIdentity, LoadCredentials, MetadataClient,
};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const IAM_KEY: &str = r#"{"credential":{"access":"FEDAK","secret":"fed-secret","securitytoken":"fed-sts","expires_at":"2030-01-01T00:00:00.000000Z"}}"#;
const POD_KEY: &str = r#"{"credentials":{"accessKeyId":"PODAK","secretAccessKey":"pod-secret","securityToken":"pod-sts","expiration":"2030-01-01T00:00:00Z"}}"#;
const META_KEY: &str = r#"{"credential":{"access":"METAAK","secret":"meta-secret","securitytoken":"meta-sts","expires_at":"2030-01-01T00:00:00Z"}}"#;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ct-{tag}-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fastrand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn iam_server(id_token: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-AUTH/id-token/tokens"))
        .and(header("x-idp-id", "my-idp"))
        .and(header("content-type", "application/json;charset=UTF-8"))
        .and(body_json(json!({"auth":{"id_token":{"id": id_token}}})))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("X-Subject-Token", "iam-token-1")
                .set_body_json(json!({"token":{"expires_at":"2030-01-01T00:00:00.000000Z","methods":["mapped"]}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-CREDENTIAL/securitytokens"))
        .and(body_json(json!({"auth":{"identity":{"methods":["token"],"token":{"id":"iam-token-1","duration_seconds":21600}}}})))
        .respond_with(ResponseTemplate::new(201).set_body_string(IAM_KEY))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn federation_sends_the_id_token_then_the_exact_securitytokens_body() {
    let dir = temp_dir("fed");
    let file = write(&dir, "token", "  id-token-A\n");
    let server = iam_server("id-token-A").await;
    let f = HuaweiFederation::new(
        "my-idp",
        &file,
        &server.uri(),
        FederationOrigin::Environment,
    )
    .unwrap();
    let got = f.load().await.unwrap();
    assert_eq!(got.value.access_key(), "FEDAK");
    assert_eq!(
        got.value.security_token().unwrap().expose_secret(),
        "fed-sts"
    );
    // The file is read again on every load: a rotated token is what goes out next.
    std::fs::write(&file, "id-token-B").unwrap();
    let e = f.load().await.unwrap_err();
    assert!(e.to_string().contains("IAM refused the ID token"), "{e}");
    let requests = server.received_requests().await.unwrap();
    let last: Value = serde_json::from_slice(&requests.last().unwrap().body).unwrap();
    assert_eq!(last, json!({"auth":{"id_token":{"id":"id-token-B"}}}));
    assert!(!format!("{e} {f:?}").contains("id-token-B"));
}

#[tokio::test]
async fn federation_errors_name_the_cause() {
    let dir = temp_dir("fed-err");
    let file = write(&dir, "token", "tok");
    // IAM answers without X-Subject-Token.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-AUTH/id-token/tokens"))
        .respond_with(ResponseTemplate::new(201).set_body_string("{}"))
        .mount(&server)
        .await;
    let f =
        HuaweiFederation::new("my-idp", &file, &server.uri(), FederationOrigin::Profile).unwrap();
    let e = f.load().await.unwrap_err();
    assert!(e.to_string().contains("X-Subject-Token"), "{e}");

    // IAM's error body, both shapes.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3.0/OS-AUTH/id-token/tokens"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error":{"code":"401","message":"The ID token could not be verified","title":"Unauthorized"}}),
        ))
        .mount(&server)
        .await;
    let f =
        HuaweiFederation::new("my-idp", &file, &server.uri(), FederationOrigin::Profile).unwrap();
    let e = f.load().await.unwrap_err();
    assert!(
        e.to_string().contains("The ID token could not be verified"),
        "{e}"
    );

    // A missing or empty token file, before anything is sent.
    let f = HuaweiFederation::new(
        "my-idp",
        dir.join("nope"),
        &server.uri(),
        FederationOrigin::Profile,
    )
    .unwrap();
    let e = f.load().await.unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    let empty = write(&dir, "empty", "\n");
    let f =
        HuaweiFederation::new("my-idp", &empty, &server.uri(), FederationOrigin::Profile).unwrap();
    assert!(f.load().await.unwrap_err().to_string().contains("empty"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Plain HTTP to a non-loopback IAM is refused, naming the field.
    let e = HuaweiFederation::new(
        "my-idp",
        &file,
        "http://iam.example.com",
        FederationOrigin::Profile,
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("iam_endpoint"));
}

#[test]
fn iam_endpoint_per_region_then_global() {
    assert_eq!(
        iam_endpoint_for_region(Some("cn-north-4")),
        "https://iam.cn-north-4.myhuaweicloud.com"
    );
    assert_eq!(
        iam_endpoint_for_region(Some("tr-west-1")),
        "https://iam.tr-west-1.myhuaweicloud.com"
    );
    assert_eq!(
        iam_endpoint_for_region(Some("cn-southwest-3")),
        "https://iam.myhuaweicloud.com"
    );
    let env = Environment::from_pairs([
        ("HUAWEICLOUD_SDK_IDP_ID", "idp"),
        ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", "/tmp/x"),
    ]);
    let f = HuaweiFederation::from_env(&env, Some("cn-east-3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        f.iam_endpoint().as_str(),
        "https://iam.cn-east-3.myhuaweicloud.com/"
    );
    let env = Environment::from_pairs([
        ("HUAWEICLOUD_SDK_IDP_ID", "idp"),
        ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", "/tmp/x"),
        (
            "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            "https://iam.internal.example.com",
        ),
    ]);
    let f = HuaweiFederation::from_env(&env, Some("cn-east-3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        f.iam_endpoint().as_str(),
        "https://iam.internal.example.com/"
    );
    let half = Environment::from_pairs([("HUAWEICLOUD_SDK_IDP_ID", "idp")]);
    let e = HuaweiFederation::from_env(&half, None).unwrap_err();
    assert!(
        e.to_string().contains("HUAWEICLOUD_SDK_ID_TOKEN_FILE"),
        "{e}"
    );
}

#[tokio::test]
async fn pod_identity_posts_the_token_file_as_authorization_and_rereads_it() {
    let dir = temp_dir("pod");
    let file = write(&dir, "token", "pod-token-1\n");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/pod/creds"))
        .and(header("authorization", "pod-token-1"))
        .and(body_json(json!({})))
        .respond_with(ResponseTemplate::new(200).set_body_string(POD_KEY))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/pod/creds"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_string(r#"{"error":{"code":"401","message":"bad token"}}"#),
        )
        .mount(&server)
        .await;
    let env = Environment::from_pairs([
        (
            "HC_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/pod/creds", server.uri()),
        ),
        (
            "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            file.display().to_string(),
        ),
    ]);
    let p = HuaweiPodIdentity::from_env(&env).unwrap().unwrap();
    let got = p.load().await.unwrap();
    assert_eq!(got.value.access_key(), "PODAK");
    assert_eq!(
        got.value.security_token().unwrap().expose_secret(),
        "pod-sts"
    );
    std::fs::write(&file, "pod-token-2").unwrap();
    let e = p.load().await.unwrap_err();
    assert!(e.to_string().contains("bad token"), "{e}");
    assert!(!e.to_string().contains("pod-token-2"));
    // Unset URI: not configured; URI without token file: broken, named.
    assert!(
        HuaweiPodIdentity::from_env(&Environment::from_pairs::<&str, &str>([]))
            .unwrap()
            .is_none()
    );
    let half =
        Environment::from_pairs([("HC_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x")]);
    let e = HuaweiPodIdentity::from_env(&half).unwrap_err();
    assert!(
        e.to_string()
            .contains("HC_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
        "{e}"
    );
    // Plain HTTP is allowed to the URI's own address only (checked above); another
    // scheme is refused, naming the variable.
    let bad = Environment::from_pairs([("HC_CONTAINER_CREDENTIALS_FULL_URI", "ftp://10.0.0.1/x")]);
    let e = HuaweiPodIdentity::from_env(&bad).unwrap_err();
    assert_eq!(e.field(), Some("HC_CONTAINER_CREDENTIALS_FULL_URI"));
    let _ = MetadataClient::new("http://169.254.170.2").unwrap();
}

/// A metadata server answering META_KEY.
async fn metadata_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openstack/latest/securitykey"))
        .respond_with(ResponseTemplate::new(200).set_body_string(META_KEY))
        .mount(&server)
        .await;
    server
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    format!("http://{a}")
}

async fn chain_ak(pairs: Vec<(&str, String)>) -> token_common::Result<String> {
    let mut options = HuaweiChainOptions::default();
    options.environment = Environment::from_pairs(pairs);
    let chain = huawei_default_chain(options)?;
    let got = chain.load().await?;
    Ok(got.value.access_key().to_owned())
}

#[tokio::test]
async fn chain_order_environment_and_profile_win_over_metadata() {
    let meta = metadata_server().await;
    let home = temp_dir("home");
    let ak = chain_ak(vec![
        ("HOME", home.display().to_string()),
        ("HUAWEICLOUD_SDK_AK", "ENVAK".into()),
        ("HUAWEICLOUD_SDK_SK", "env-sk".into()),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", meta.uri()),
    ])
    .await
    .unwrap();
    assert_eq!(ak, "ENVAK");
    std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
    write(
        &home.join(".huaweicloud"),
        "credentials",
        "[basic]\nak = FILEAK\nsk = file-sk\n",
    );
    let ak = chain_ak(vec![
        ("HOME", home.display().to_string()),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", meta.uri()),
    ])
    .await
    .unwrap();
    assert_eq!(ak, "FILEAK");
    assert!(meta.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn chain_order_pod_identity_when_set_wins_over_metadata_and_profile_with_only_a_project_is_skipped(
) {
    let meta = metadata_server().await;
    let home = temp_dir("home-pod");
    std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
    write(
        &home.join(".huaweicloud"),
        "credentials",
        "[basic]\nproject_id = p-1\n",
    );
    let pod = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string(POD_KEY))
        .mount(&pod)
        .await;
    let file = write(&home, "pod-token", "t");
    let base = vec![
        ("HOME", home.display().to_string()),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", meta.uri()),
    ];
    let mut with_pod = base.clone();
    with_pod.push((
        "HC_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/c", pod.uri()),
    ));
    with_pod.push((
        "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        file.display().to_string(),
    ));
    assert_eq!(chain_ak(with_pod).await.unwrap(), "PODAK");
    assert!(meta.received_requests().await.unwrap().is_empty());
    assert_eq!(chain_ak(base).await.unwrap(), "METAAK");
}

#[tokio::test]
async fn chain_federation_wins_over_ak_sk_in_the_environment_and_in_the_profile() {
    let meta = metadata_server().await;
    let iam = iam_server("oidc-1").await;
    let home = temp_dir("home-fed");
    let token = write(&home, "id-token", "oidc-1");
    let ak = chain_ak(vec![
        ("HOME", home.display().to_string()),
        ("HUAWEICLOUD_SDK_AK", "ENVAK".into()),
        ("HUAWEICLOUD_SDK_SK", "env-sk".into()),
        ("HUAWEICLOUD_SDK_IDP_ID", "my-idp".into()),
        ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", token.display().to_string()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", iam.uri()),
    ])
    .await
    .unwrap();
    assert_eq!(ak, "FEDAK");
    std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
    write(
        &home.join(".huaweicloud"),
        "credentials",
        &format!(
            "[basic]\nak = FILEAK\nsk = file-sk\nidp_id = my-idp\nid_token_file = {}\niam_endpoint = {}\n",
            token.display(),
            iam.uri()
        ),
    );
    // The profile's iam_endpoint wins over the variable.
    let ak = chain_ak(vec![
        ("HOME", home.display().to_string()),
        (
            "HUAWEICLOUD_SDK_IAM_ENDPOINT",
            "https://iam.unused.example.com".into(),
        ),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", meta.uri()),
    ])
    .await
    .unwrap();
    assert_eq!(ak, "FEDAK");
    assert!(meta.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn chain_with_metadata_unreachable_lists_every_source_in_order() {
    let home = temp_dir("home-none");
    let e = chain_ak(vec![
        ("HOME", home.display().to_string()),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", closed_port()),
    ])
    .await
    .unwrap_err();
    assert!(e.is_credentials_not_found(), "{e:?}");
    let text = e.to_string();
    let order = [
        "1. the environment",
        "2. section `[basic]`",
        "3. pod identity: HC_CONTAINER_CREDENTIALS_FULL_URI is not set",
        "4. instance metadata",
    ];
    let mut at = 0;
    for part in order {
        let i = text[at..]
            .find(part)
            .unwrap_or_else(|| panic!("{part} in order: {text}"));
        at += i;
    }
    assert!(text.contains("not an ECS"), "{text}");
}
