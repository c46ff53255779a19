#![no_main]
//! Cloudforet identity success and error decoders, through the client's public calls.
use std::sync::{Arc, OnceLock};

use cloud_tokens_fuzz::{runtime, split, transport, Canned};
use cloudforet_identity_client::{Credentials, GrantRequest, IdentityClient, IssueRequest, Scope};
use libfuzzer_sys::fuzz_target;

static CLIENT: OnceLock<(Arc<Canned>, IdentityClient)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (canned, client) = CLIENT.get_or_init(|| {
        let canned = Arc::new(Canned::default());
        let client = IdentityClient::builder()
            .endpoint("https://console-v2.api.example.com")
            .transport(transport(&canned))
            .build()
            .unwrap();
        (canned, client)
    });
    let (status, body) = split(data);
    canned.set(status, body);
    runtime().block_on(async {
        let issue = IssueRequest::new(Credentials::local("u", "pw"), "domain-1");
        let _ = client.issue(&issue).await;
        let _ = client
            .grant(&GrantRequest::refresh_token("r.t.s", Scope::Domain))
            .await;
        let _ = client.domain_auth_info("demo").await;
    });
});
