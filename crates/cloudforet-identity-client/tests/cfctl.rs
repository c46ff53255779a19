//! cfctl's `~/.cfctl/setting.yaml` and token cache, in a temporary home directory.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cloudforet_identity_client::cfctl::CURRENT;
use cloudforet_identity_client::{CfctlSettings, EnvironmentKind, SecretString, Transport};
use serde_json::json;
use support::{jwt, token};
use token_common::clock::ManualClock;
use token_common::credentials::Environment;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const NOW: u64 = 1_800_000_000;
const APP_MARKER: &str = "app-SECRET-marker";

fn temp_home() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cf-cfctl-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".cfctl")).unwrap();
    dir
}

fn app_secret(exp: u64) -> String {
    jwt(json!({
        "iss": "spaceone.identity", "typ": "CLIENT_SECRET", "own": "APP", "did": "domain-123",
        "aud": "app-1", "jti": APP_MARKER, "iat": NOW - 100, "exp": exp, "ver": "2.0",
        "rol": "DOMAIN_ADMIN", "wid": "*",
    }))
}

/// A settings file shaped like the ones cfctl writes (`cfctl setting init`, `cfctl login`).
fn realistic_settings(console: &str) -> String {
    format!(
        r#"environment: demo-user
environments:
  demo-app:
    endpoint: grpc+ssl://identity.api.example.com:443
    proxy: true
    token: {app}
  demo-user:
    endpoint: https://demo.console.example.com
    proxy: true
    user_id: alice@example.com
  local-user:
    endpoint: {console}
    proxy: "true"
    user_id: bob@example.com
  grpc-user:
    endpoint: grpc+ssl://identity.api.example.com:443
    proxy: false
    user_id: carol@example.com
  old-app:
    endpoint: grpc+ssl://identity.api.example.com:443
    proxy: true
    token: {expired}
  empty-app: {{}}
"#,
        app = app_secret(NOW + 86_400),
        expired = app_secret(NOW - 1),
    )
}

fn write_settings(home: &Path, text: &str) {
    std::fs::write(home.join(".cfctl/setting.yaml"), text).unwrap();
}

fn load(home: &Path) -> CfctlSettings {
    let env = Environment::from_pairs([("HOME", home.display().to_string())]);
    let path = CfctlSettings::default_path(&env).unwrap();
    assert_eq!(path, home.join(".cfctl/setting.yaml"));
    CfctlSettings::load_from(path).unwrap()
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix_seconds(NOW))
}

#[test]
fn realistic_file_current_and_named_environments() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    assert_eq!(s.current_name(), Some("demo-user"));
    assert_eq!(
        s.names().collect::<Vec<_>>(),
        [
            "demo-app",
            "demo-user",
            "empty-app",
            "grpc-user",
            "local-user",
            "old-app"
        ]
    );

    let user = s.select(CURRENT).unwrap();
    assert_eq!(user.name(), "demo-user");
    assert_eq!(user.kind(), EnvironmentKind::User);
    assert_eq!(user.user_id(), Some("alice@example.com"));
    assert_eq!(user.proxy(), Some(true));
    assert_eq!(
        user.console_url().unwrap().as_str(),
        "https://demo.console.example.com/"
    );
    assert_eq!(user.domain_name().unwrap(), "demo");
    assert_eq!(user.cache_dir(), home.join(".cfctl/cache/demo-user"));
    assert_eq!(s.select("local-user").unwrap().proxy(), Some(true));
    assert_eq!(s.select("grpc-user").unwrap().proxy(), Some(false));

    let app_env = s.select("demo-app").unwrap();
    assert_eq!(app_env.kind(), EnvironmentKind::App);
    let app = app_env.app_secret_with_clock(clock()).unwrap();
    assert_eq!(app.claims().domain_id, "domain-123");
    assert_eq!(app.claims().workspace_id, None);
}

#[test]
fn app_environments_are_checked_locally() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    let e = s
        .select("old-app")
        .unwrap()
        .app_secret_with_clock(clock())
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("old-app") && text.contains("expired"),
        "{text}"
    );
    let e = s
        .select("empty-app")
        .unwrap()
        .app_secret_with_clock(clock())
        .unwrap_err();
    assert!(e.to_string().contains("no `token`"), "{e}");
    // A user environment holds no App secret either.
    assert!(s.select("demo-user").unwrap().app_secret().is_err());
}

#[test]
fn grpc_endpoints_ask_for_a_rest_endpoint() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    let env = s.select("grpc-user").unwrap();
    for e in [
        env.console_url().unwrap_err(),
        env.domain_name().unwrap_err(),
    ] {
        let text = e.to_string();
        assert!(
            text.contains("gRPC endpoint (grpc+ssl)")
                && text.contains("REST (console API) endpoint")
                && text.contains("grpc-user"),
            "{text}"
        );
    }
}

#[test]
fn unknown_or_missing_environments_name_what_exists() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let e = load(&home).select("prod-user").unwrap_err().to_string();
    assert!(
        e.contains("prod-user") && e.contains("demo-app, demo-user"),
        "{e}"
    );

    write_settings(&home, "environments:\n  a-app:\n    token: x\n");
    let e = load(&home).select(CURRENT).unwrap_err().to_string();
    assert!(e.contains("no current environment"), "{e}");
}

#[test]
fn bad_files_are_errors_naming_the_file_never_the_token() {
    let home = temp_home();
    for (text, expect) in [
        ("environment: [a\n", "line"),
        ("- a\n- b\n", "not a mapping"),
        ("environments: 3\n", "`environments`"),
        (
            "environments:\n  x-app:\n    token: [1, 2]\n",
            "`token` is not text",
        ),
        ("environments:\n  x-user:\n    proxy: maybe\n", "`proxy`"),
    ] {
        write_settings(&home, text);
        let e = CfctlSettings::load_from(home.join(".cfctl/setting.yaml")).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("setting.yaml") && msg.contains(expect),
            "{text}: {msg}"
        );
    }
    let e = CfctlSettings::load_from(home.join("nowhere.yaml")).unwrap_err();
    assert!(e.to_string().contains("nowhere.yaml"), "{e}");
    let e = CfctlSettings::default_path(&Environment::from_pairs([("X", "y")])).unwrap_err();
    assert!(e.to_string().contains("HOME"), "{e}");
}

#[test]
fn debug_never_shows_the_app_token() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    let text = format!("{s:?} {s:#?}");
    assert!(
        !text.contains("eyJ") && !text.contains(APP_MARKER),
        "{text}"
    );
    assert!(text.contains("demo-app"));
}

#[tokio::test]
async fn the_rest_endpoint_comes_from_the_consoles_production_json() {
    let console = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/config/production.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "CONSOLE_API": {"ENDPOINT": "https://console.api.example.com"},
            "CONSOLE_API_V2": {"ENDPOINT": "https://console-v2.api.example.com"},
            "DOMAIN_NAME_REF": "hostname",
        })))
        .mount(&console)
        .await;
    let home = temp_home();
    write_settings(&home, &realistic_settings(&console.uri()));
    let s = load(&home);
    let env = s.select("local-user").unwrap();
    let transport = Transport::builder().build().unwrap();
    let rest = env.rest_endpoint(&transport).await.unwrap();
    assert_eq!(rest.as_str(), "https://console-v2.api.example.com/");
    // The host is an IP address: no domain name can be read from it.
    assert!(env
        .domain_name()
        .unwrap_err()
        .to_string()
        .contains("IP address"));

    let broken = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/config/production.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"CONSOLE_API": {}})))
        .mount(&broken)
        .await;
    write_settings(&home, &realistic_settings(&broken.uri()));
    let e = load(&home)
        .select("local-user")
        .unwrap()
        .rest_endpoint(&transport)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("CONSOLE_API_V2.ENDPOINT"), "{e}");

    let missing = MockServer::start().await;
    write_settings(&home, &realistic_settings(&missing.uri()));
    let e = load(&home)
        .select("local-user")
        .unwrap()
        .rest_endpoint(&transport)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("404"), "{e}");
}

#[test]
fn cached_refresh_token_round_trip() {
    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    let env = s.select("demo-user").unwrap();
    let clock = clock();
    assert!(env
        .read_cached_refresh_token(clock.as_ref())
        .unwrap()
        .is_none());

    let refresh = token("REFRESH_TOKEN", (NOW + 3600) as i64, "refresh-SECRET");
    env.write_cached_refresh_token(&SecretString::new(refresh.clone()))
        .unwrap();
    let read = env.read_cached_refresh_token(clock.as_ref()).unwrap();
    assert_eq!(read.unwrap().expose_secret(), refresh);

    // An expired cached token is no token.
    clock.advance(std::time::Duration::from_secs(3600));
    assert!(env
        .read_cached_refresh_token(clock.as_ref())
        .unwrap()
        .is_none());
}

#[cfg(unix)]
#[test]
fn cache_files_are_private_and_others_readable_ones_refused() {
    use std::os::unix::fs::PermissionsExt as _;

    let home = temp_home();
    write_settings(&home, &realistic_settings("http://127.0.0.1:1"));
    let s = load(&home);
    let env = s.select("demo-user").unwrap();
    let refresh = token("REFRESH_TOKEN", (NOW + 3600) as i64, "refresh-SECRET");
    env.write_cached_refresh_token(&SecretString::new(refresh.clone()))
        .unwrap();
    let file = env.cache_dir().join("refresh_token");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(env.cache_dir()), 0o700);

    for bad in [0o644, 0o640, 0o604, 0o660, 0o606] {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(bad)).unwrap();
        let e = env.read_cached_refresh_token(clock().as_ref()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains(&file.display().to_string()) && text.contains(&format!("{bad:04o}")),
            "{text}"
        );
        assert!(
            !text.contains("refresh-SECRET") && !text.contains("eyJ"),
            "{text}"
        );
    }
    // Writing again makes an existing file private again.
    env.write_cached_refresh_token(&SecretString::new(refresh))
        .unwrap();
    assert_eq!(mode(&file), 0o600);
    assert!(env
        .read_cached_refresh_token(clock().as_ref())
        .unwrap()
        .is_some());
    // The owner's own read-only file is fine.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert!(env
        .read_cached_refresh_token(clock().as_ref())
        .unwrap()
        .is_some());
}

#[test]
fn every_truncation_of_a_file_parses_or_errors_without_panicking() {
    let text = realistic_settings("http://127.0.0.1:1");
    let path = Path::new("/home/u/.cfctl/setting.yaml");
    let mut errors = 0;
    for end in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
        match CfctlSettings::parse(&text[..end], path) {
            Ok(s) => {
                // Whatever parsed is usable: selecting never panics either.
                let _ = s.select(CURRENT);
            }
            Err(e) => {
                errors += 1;
                let msg = e.to_string();
                assert!(msg.contains("setting.yaml"), "{msg}");
                assert!(!msg.contains("eyJ"), "{msg}");
            }
        }
    }
    assert!(errors > 0, "some truncations are not valid settings");
}

#[tokio::test]
async fn a_console_answering_garbage_is_a_clear_error() {
    let transport = Transport::builder().build().unwrap();
    for (body, expect) in [
        ("<html>console</html>", "not JSON"),
        (
            r#"{"CONSOLE_API_V2": {"ENDPOINT": "not a url"}}"#,
            "not a URL",
        ),
        (
            r#"{"CONSOLE_API_V2": {"ENDPOINT": 7}}"#,
            "CONSOLE_API_V2.ENDPOINT",
        ),
        (
            r#"{"CONSOLE_API_V2": {"ENDPOINT": "http://api.example.com"}}"#,
            "http://",
        ),
    ] {
        let console = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/config/production.json"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&console)
            .await;
        let home = temp_home();
        write_settings(&home, &realistic_settings(&console.uri()));
        let e = load(&home)
            .select("local-user")
            .unwrap()
            .rest_endpoint(&transport)
            .await
            .unwrap_err();
        assert!(e.to_string().contains(expect), "{body}: {e}");
    }
}
