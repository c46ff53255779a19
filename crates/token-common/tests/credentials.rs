//! Credential providers: official variable names, precedence, profile files, and errors
//! that name the variable, file and line without echoing a secret.

use std::path::PathBuf;

use token_common::credentials::{
    CredentialsChain, Environment, HuaweiCredentials, HuaweiEnvironment, HuaweiProfile,
    HuaweiProfileSection, NcpCredentials, NcpEnvironment, NcpProfile, ProvideCredentials,
    StaticCredentials,
};

const SECRET: &str = "SECRET-never-shown-9f8e7d";

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "cloud-tokens-test-{tag}-{}-{}",
            std::process::id(),
            fastrand_suffix()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fastrand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

fn assert_no_secret(e: &token_common::Error) {
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(!shown.contains(SECRET), "secret leaked: {shown}");
    }
}

#[test]
fn ncp_environment_prefers_the_go_sdk_names() {
    let env = Environment::from_pairs([
        ("NCLOUD_ACCESS_KEY_ID", "ak-long"),
        ("NCLOUD_ACCESS_KEY", "ak-short"),
        ("NCLOUD_SECRET_ACCESS_KEY", "sk-long"),
        ("NCLOUD_SECRET_KEY", "sk-short"),
    ]);
    let c = NcpEnvironment::with_environment(env).provide().unwrap();
    assert_eq!(c.access_key(), "ak-long");
    assert_eq!(c.secret_key().expose_secret(), "sk-long");

    let env = Environment::from_pairs([("NCLOUD_ACCESS_KEY", "a"), ("NCLOUD_SECRET_KEY", "s")]);
    let c = NcpEnvironment::with_environment(env).provide().unwrap();
    assert_eq!((c.access_key(), c.secret_key().expose_secret()), ("a", "s"));
}

#[test]
fn ncp_environment_with_half_a_pair_names_the_missing_variables() {
    let env = Environment::from_pairs([("NCLOUD_SECRET_KEY", SECRET)]);
    let e = NcpEnvironment::with_environment(env).provide().unwrap_err();
    assert!(e.to_string().contains("NCLOUD_ACCESS_KEY_ID"), "{e}");
    assert_no_secret(&e);
    let env = Environment::from_pairs([("NCLOUD_ACCESS_KEY_ID", "ak")]);
    let e = NcpEnvironment::with_environment(env).provide().unwrap_err();
    assert!(e.to_string().contains("NCLOUD_SECRET_ACCESS_KEY"), "{e}");
}

#[test]
fn ncp_profile_reads_default_and_named_profiles() {
    let dir = TempDir::new("ncp");
    dir.write(
        ".ncloud/configure",
        "[DEFAULT]\nncloud_access_key_id = ak0\nncloud_secret_access_key = sk0\nncloud_api_url = https://ncloud.apigw.ntruss.com\n\n[work]\nncloud_access_key_id=ak1\nncloud_secret_access_key=sk1\n",
    );
    let home = dir.0.display().to_string();
    let p = NcpProfile::new().with_environment(Environment::from_pairs([("HOME", home.clone())]));
    assert_eq!(p.provide().unwrap().access_key(), "ak0");
    let p = NcpProfile::new().with_environment(Environment::from_pairs([
        ("HOME", home.clone()),
        ("NCLOUD_PROFILE", "work".into()),
    ]));
    assert_eq!(p.provide().unwrap().access_key(), "ak1");
    let p = NcpProfile::new()
        .profile("nope")
        .with_environment(Environment::from_pairs([("HOME", home)]));
    let e = p.provide().unwrap_err();
    assert!(e.to_string().contains("`[nope]`"), "{e}");
}

#[test]
fn an_ini_syntax_error_names_the_file_and_line_and_stops_the_chain() {
    let dir = TempDir::new("ncp-bad");
    let file = dir.write(
        ".ncloud/configure",
        &format!("[DEFAULT]\nncloud_access_key_id = ak\n{SECRET}\n"),
    );
    let env = Environment::from_pairs([("HOME", dir.0.display().to_string())]);
    let chain = CredentialsChain::new()
        .with(NcpEnvironment::with_environment(env.clone()))
        .with(NcpProfile::new().with_environment(env));
    let e = chain.provide().unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&format!("{} line 3", file.display())), "{msg}");
    assert_no_secret(&e);
}

#[test]
fn the_chain_takes_the_environment_first_then_the_profile() {
    let dir = TempDir::new("chain");
    dir.write(
        ".ncloud/configure",
        "[DEFAULT]\nncloud_access_key_id = from-file\nncloud_secret_access_key = s\n",
    );
    let home = dir.0.display().to_string();
    let env = Environment::from_pairs([
        ("HOME", home.clone()),
        ("NCLOUD_ACCESS_KEY_ID", "from-env".into()),
        ("NCLOUD_SECRET_ACCESS_KEY", "s".into()),
    ]);
    let chain = CredentialsChain::new()
        .with(NcpEnvironment::with_environment(env.clone()))
        .with(NcpProfile::new().with_environment(env));
    assert_eq!(chain.provide().unwrap().access_key(), "from-env");

    let env = Environment::from_pairs([("HOME", home)]);
    let chain = CredentialsChain::new()
        .with(NcpEnvironment::with_environment(env.clone()))
        .with(NcpProfile::new().with_environment(env));
    assert_eq!(chain.provide().unwrap().access_key(), "from-file");
}

#[test]
fn nothing_found_anywhere_says_where_it_looked() {
    let env = Environment::from_pairs([("HOME", "/nonexistent-home-for-test")]);
    let chain = CredentialsChain::<NcpCredentials>::new()
        .with(NcpEnvironment::with_environment(env.clone()))
        .with(NcpProfile::new().with_environment(env));
    let msg = chain.provide().unwrap_err().to_string();
    assert!(msg.contains("NCLOUD_ACCESS_KEY_ID"), "{msg}");
    assert!(
        msg.contains("/nonexistent-home-for-test/.ncloud/configure"),
        "{msg}"
    );
}

#[test]
fn huawei_environment_reads_the_official_names() {
    let env = Environment::from_pairs([
        ("HUAWEICLOUD_SDK_AK", "AK"),
        ("HUAWEICLOUD_SDK_SK", SECRET),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", "sts"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "proj"),
        ("HUAWEICLOUD_SDK_DOMAIN_ID", "dom"),
    ]);
    let c = HuaweiEnvironment::with_environment(env).provide().unwrap();
    assert_eq!(c.access_key(), "AK");
    assert_eq!(c.security_token().unwrap().expose_secret(), "sts");
    assert_eq!((c.project_id(), c.domain_id()), (Some("proj"), Some("dom")));
    assert!(!format!("{c:?}").contains(SECRET));

    let env = Environment::from_pairs([("HUAWEICLOUD_SDK_AK", "AK")]);
    let e = HuaweiEnvironment::with_environment(env)
        .provide()
        .unwrap_err();
    assert!(e.to_string().contains("HUAWEICLOUD_SDK_SK"), "{e}");
}

#[test]
fn huawei_profile_reads_basic_and_global_sections_and_the_file_variable() {
    let dir = TempDir::new("hw");
    let file = dir.write(
        "elsewhere/creds",
        "[basic]\nak = AK1\nsk = SK1\nproject_id = p1\nsecurity_token = t1\n[global]\nak = AK2\nsk = SK2\ndomain_id = d2\n",
    );
    let env = Environment::from_pairs([(
        "HUAWEICLOUD_SDK_CREDENTIALS_FILE",
        file.display().to_string(),
    )]);
    let basic = HuaweiProfile::new()
        .with_environment(env.clone())
        .provide()
        .unwrap();
    assert_eq!(
        (basic.access_key(), basic.project_id()),
        ("AK1", Some("p1"))
    );
    assert!(basic.security_token().is_some());
    let global = HuaweiProfile::new()
        .section(HuaweiProfileSection::Global)
        .with_environment(env)
        .provide()
        .unwrap();
    assert_eq!(
        (global.access_key(), global.domain_id()),
        ("AK2", Some("d2"))
    );

    let dir2 = TempDir::new("hw-home");
    dir2.write(".huaweicloud/credentials", "[basic]\nak = AK3\n");
    let env = Environment::from_pairs([("HOME", dir2.0.display().to_string())]);
    let e = HuaweiProfile::new()
        .with_environment(env)
        .provide()
        .unwrap_err();
    assert!(e.to_string().contains("has no `sk`"), "{e}");
}

#[test]
fn a_named_credentials_file_that_does_not_exist_is_an_error() {
    let env = Environment::from_pairs([("HUAWEICLOUD_SDK_CREDENTIALS_FILE", "/no/such/file")]);
    let e = HuaweiProfile::new()
        .with_environment(env)
        .provide()
        .unwrap_err();
    assert!(e.to_string().contains("/no/such/file"), "{e}");
}

#[test]
fn static_credentials_are_returned_as_given() {
    let c = StaticCredentials::new(HuaweiCredentials::new("AK", "SK"))
        .provide()
        .unwrap();
    assert_eq!(c.access_key(), "AK");
}
