#![no_main]
//! NCP KMS success and error decoders, through the client's public calls.
use std::sync::{Arc, OnceLock};

use cloud_tokens_fuzz::{runtime, split, transport, Canned};
use libfuzzer_sys::fuzz_target;
use ncp_kms_client::{KmsClient, NcpCredentials, TokenSetOptions};

static CLIENT: OnceLock<(Arc<Canned>, KmsClient)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (canned, client) = CLIENT.get_or_init(|| {
        let canned = Arc::new(Canned::default());
        let client = KmsClient::builder()
            .credentials(NcpCredentials::new("AK", "SK"))
            .endpoint("https://kms.example.com/kms/v1")
            .transport(transport(&canned))
            .build()
            .unwrap();
        (canned, client)
    });
    let (status, body) = split(data);
    canned.set(status, body);
    let refresh = "r.t.s".into();
    runtime().block_on(async {
        let _ = client
            .create_token_set("tag", TokenSetOptions::default())
            .await;
        let _ = client.get_token_generator("tag").await;
        let _ = client.list_keys(1, 100).await;
        let _ = client.refresh_access_token("tag", &refresh, None).await;
    });
});
