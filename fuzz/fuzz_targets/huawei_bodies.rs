#![no_main]
//! Huawei IdentityCenterStore success and error decoders, through the client's public calls.
use std::sync::{Arc, OnceLock};

use cloud_tokens_fuzz::{runtime, split, transport, Canned};
use huawei_identity_client::{HuaweiCredentials, IdentityStoreClient};
use libfuzzer_sys::fuzz_target;

static CLIENT: OnceLock<(Arc<Canned>, IdentityStoreClient)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (canned, client) = CLIENT.get_or_init(|| {
        let canned = Arc::new(Canned::default());
        let client = IdentityStoreClient::builder()
            .credentials(HuaweiCredentials::new("AK", "SK").with_project_id("p"))
            .endpoint("https://identitystore.example.com")
            .transport(transport(&canned))
            .build()
            .unwrap();
        (canned, client)
    });
    let (status, body) = split(data);
    canned.set(status, body);
    runtime().block_on(async {
        let _ = client.create_bearer_token("d-1", "t-1").await;
        let _ = client.list_bearer_tokens("d-1", "t-1").await;
        let _ = client.list_provisioning_tenants("d-1").await;
        let _ = client.create_provisioning_tenant("d-1").await;
    });
});
