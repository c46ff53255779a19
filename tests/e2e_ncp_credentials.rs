//! NCP temporary keys against the in-process emulator, on manual time: an STS key signs
//! calls until its `expireTime` and is refused after; a server role's keys come from
//! instance metadata (v2 session token or v1) and are replaced ahead of expiry; the STS
//! provider keeps a client working across many key lifetimes.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ncp_kms_client::{
    KmsClient, NcpCredentials, NcpServerRole, StsClient, StsCredentialsProvider, StsOptions,
    TokenSetOptions,
};
use token_common::clock::{Clock, ManualClock};
use token_emulator::{demo, Config, Emulator, EmulatorHandle};

use support::{manual_clock, transport_with_clock};

const TAG: &str = demo::NCP_KEY_TAG;

async fn start(clock: Arc<ManualClock>, require_v2: bool) -> EmulatorHandle {
    let mut config = Config::demo();
    config.ncp.server_role = Config::from_toml_str(&format!(
        "[ncp.server_role]\nrole_id = \"role-e2e\"\nrequire_metadata_v2 = {require_v2}\n"
    ))
    .unwrap()
    .ncp
    .server_role;
    Emulator::builder()
        .config(config)
        .clock(clock)
        .start("127.0.0.1:0")
        .await
        .expect("the emulator starts")
}

fn sts_client(emulator: &EmulatorHandle, clock: Arc<dyn Clock>) -> StsClient {
    StsClient::builder()
        .credentials(support::ncp_credentials())
        .endpoint(emulator.base_url())
        .transport(transport_with_clock(clock).build().unwrap())
        .build()
        .unwrap()
}

fn kms_with_keys(
    emulator: &EmulatorHandle,
    clock: Arc<dyn Clock>,
    keys: NcpCredentials,
) -> KmsClient {
    KmsClient::builder()
        .credentials(keys)
        .endpoint(&emulator.ncp_base_url())
        .transport(transport_with_clock(clock).max_attempts(1).build().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_sts_key_signs_until_its_expire_time_and_is_refused_after() {
    let clock = manual_clock();
    let emulator = start(clock.clone(), false).await;
    let sts = sts_client(&emulator, clock.clone());

    let created = sts
        .create_credentials(&StsOptions::new().with_duration_secs(600))
        .await
        .expect("create an STS key");
    assert_eq!(created.lifetime(), Some(Duration::from_secs(600)));
    assert_eq!(created.expire_time, clock.now() + Duration::from_secs(600));

    // The new key describes itself through STS, secret included.
    let own = StsClient::builder()
        .credentials(NcpCredentials::from(created.clone()))
        .endpoint(emulator.base_url())
        .transport(transport_with_clock(clock.clone()).build().unwrap())
        .build()
        .unwrap();
    let info = own.get_credentials().await.expect("get credentials");
    assert_eq!(info.access_key, created.access_key);
    assert_eq!(info.expire_time, Some(created.expire_time));

    let kms = kms_with_keys(&emulator, clock.clone(), created.clone().into());
    kms.create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("the STS key signs a KMS call");

    clock.advance(Duration::from_secs(599));
    kms.list_keys(1, 10)
        .await
        .expect("still valid one second before expiry");

    clock.advance(Duration::from_secs(1));
    let e = kms.list_keys(1, 10).await.unwrap_err();
    assert_eq!(e.status(), Some(401), "{e}");
    assert_eq!(e.service_code(), Some("200"), "{e}");
    assert!(!e.to_string().contains(created.key_secret.expose_secret()));

    // The account key itself (not temporary) is described without secret or expiry.
    let info = sts.get_credentials().await.unwrap();
    assert_eq!(info.access_key, demo::NCP_ACCESS_KEY);
    assert!(info.key_secret.is_none() && info.expire_time.is_none());
}

#[tokio::test]
async fn the_sts_provider_keeps_a_client_signing_across_key_lifetimes() {
    let clock = manual_clock();
    let emulator = start(clock.clone(), false).await;
    let provider = StsCredentialsProvider::new(sts_client(&emulator, clock.clone()))
        .with_duration_secs(600)
        .unwrap();
    let kms = KmsClient::builder()
        .credentials_loader(provider)
        .endpoint(&emulator.ncp_base_url())
        .transport(transport_with_clock(clock.clone()).build().unwrap())
        .build()
        .unwrap();
    // Two hours in 100 s steps: twelve lifetimes of 600 s, every call signed by a valid key.
    for _ in 0..72 {
        kms.list_keys(1, 10)
            .await
            .expect("signed by a fresh STS key");
        clock.advance(Duration::from_secs(100));
    }
}

#[tokio::test]
async fn server_role_keys_sign_calls_with_a_v2_only_metadata_service() {
    let clock = manual_clock();
    let emulator = start(clock.clone(), true).await;
    let role = NcpServerRole::new().endpoint(emulator.base_url());
    let kms = KmsClient::builder()
        .credentials_loader(role)
        .endpoint(&emulator.ncp_base_url())
        .transport(transport_with_clock(clock.clone()).build().unwrap())
        .build()
        .unwrap();
    // Five hours in 10-minute steps: each key (1 h) is replaced before it expires.
    for _ in 0..30 {
        kms.list_keys(1, 10)
            .await
            .expect("signed by the role's keys");
        clock.advance(Duration::from_secs(600));
    }
}

#[tokio::test]
async fn a_v2_only_metadata_service_refuses_gets_without_the_session_token() {
    let emulator = start(manual_clock(), true).await;
    let http = reqwest::Client::new();
    let list = format!(
        "{}/latest/meta-data/iam/security-credentials/",
        emulator.base_url()
    );
    let bare = http.get(&list).send().await.unwrap();
    assert_eq!(bare.status(), 401);
    let token = http
        .put(format!("{}/latest/api/token", emulator.base_url()))
        .header("X-NCP-METADATA-TOKEN-TTL-SECONDS", "21600")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let with_token = http
        .get(&list)
        .header("X-NCP-METADATA-TOKEN", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    assert_eq!(with_token.text().await.unwrap(), "role-e2e");
    let forged = http
        .get(&list)
        .header("X-NCP-METADATA-TOKEN", "not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
}

#[tokio::test]
async fn server_role_keys_are_refused_after_their_expiration() {
    let clock = manual_clock();
    let emulator = start(clock.clone(), false).await;
    let role = NcpServerRole::new().endpoint(emulator.base_url());
    let keys = token_common::credentials::LoadCredentials::load(&role)
        .await
        .expect("the role's keys (v1: the PUT is not required)");
    assert_eq!(
        keys.expires_at,
        Some(clock.now() + Duration::from_secs(3600))
    );
    let kms = kms_with_keys(&emulator, clock.clone(), keys.value.clone());
    kms.list_keys(1, 10).await.expect("valid keys sign");
    clock.advance(Duration::from_secs(3600));
    let e = kms.list_keys(1, 10).await.unwrap_err();
    assert_eq!((e.status(), e.service_code()), (Some(401), Some("200")));
}
