//! NCP KMS crypto end to end against the in-process emulator, on manual time shared by the
//! client and the emulator (no sleeps): an application holding only a refresh token keeps
//! encrypting past the access token's and the refresh token's lifetimes; round trips at
//! 0 bytes, 1 byte and the 32 KB limit; ECDSA sign/verify; re-encrypt after a key rotation;
//! the same calls with account keys.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ncp_kms_client::{
    Ciphertext, CustomKeyOptions, HttpRequest, HttpResponse, KmsClient, SecretBytes,
    TokenSetOptions, TokenValidity, Transport,
};
use token_common::clock::ManualClock;
use token_common::transport::{BoxFuture, HttpClient, ReqwestClient, TransportConfig};
use token_emulator::{demo, EmulatorHandle};

const TAG: &str = demo::NCP_KEY_TAG;

fn hours(h: u32) -> TokenValidity {
    TokenValidity::hours(h).expect("hours in range")
}

/// What went on the wire, in order: (action, token header) — and, interleaved, what the
/// renew hook saw.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Sent {
        action: String,
        token: Option<String>,
    },
    Hook {
        refresh_token: String,
    },
}

/// Sends through reqwest and records each request's last path segment and token header.
#[derive(Debug)]
struct Recording {
    inner: ReqwestClient,
    events: Arc<Mutex<Vec<Event>>>,
}

impl HttpClient for Recording {
    fn execute(
        &self,
        request: HttpRequest,
        max: usize,
    ) -> BoxFuture<'_, ncp_kms_client::Result<HttpResponse>> {
        let action = request
            .url
            .path()
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_owned();
        let token = request
            .headers
            .get(ncp_kms_client::TOKEN_HEADER)
            .map(|v| v.to_str().unwrap().to_owned());
        self.events
            .lock()
            .unwrap()
            .push(Event::Sent { action, token });
        self.inner.execute(request, max)
    }
}

fn recording_transport(clock: Arc<ManualClock>, events: Arc<Mutex<Vec<Event>>>) -> Transport {
    let http = Recording {
        inner: ReqwestClient::new(&TransportConfig::default()).unwrap(),
        events,
    };
    support::transport_with_clock(clock)
        .http_client(Arc::new(http))
        .build()
        .unwrap()
}

fn account_client(emulator: &EmulatorHandle, clock: Arc<ManualClock>) -> KmsClient {
    let transport = support::transport_with_clock(clock).build().unwrap();
    support::ncp_client_with(emulator, transport)
}

async fn issued(client: &KmsClient, tag: &str) -> u64 {
    client
        .get_token_generator(tag)
        .await
        .unwrap()
        .issued_token_count
        .unwrap()
}

fn count(events: &[Event], action: &str) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Sent { action: a, .. } if a == action))
        .count()
}

#[tokio::test]
async fn an_app_holding_only_a_refresh_token_outlives_both_token_lifetimes() {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let operator = account_client(&emulator, clock.clone());
    // The operator mints a set once: access tokens live 1 h, refresh tokens 3 h.
    let options = TokenSetOptions::new()
        .with_access_token_hours(hours(1))
        .with_refresh_token_hours(hours(3));
    let minted = operator.create_token_set(TAG, options).await.unwrap();
    let deployed = minted.refresh_token.expose_secret().to_owned();

    // The application gets the refresh token only, and a hook to persist renewals.
    let events = Arc::new(Mutex::new(Vec::new()));
    let hook_events = events.clone();
    let app = KmsClient::builder()
        .refresh_token(TAG, deployed.clone())
        .token_options(options)
        .on_renew(move |set| {
            hook_events.lock().unwrap().push(Event::Hook {
                refresh_token: set.refresh_token.expose_secret().to_owned(),
            });
            Ok(())
        })
        .endpoint(&emulator.ncp_base_url())
        .transport(recording_transport(clock.clone(), events.clone()))
        .build()
        .unwrap();

    let plaintext = SecretBytes::new(b"the application's secret".to_vec());
    let ct = app.encrypt(TAG, &plaintext, Some(b"ctx")).await.unwrap();
    assert_eq!(
        app.decrypt(TAG, &ct, Some(b"ctx")).await.unwrap(),
        plaintext
    );
    assert_eq!(count(&events.lock().unwrap(), "access-token"), 1);

    // Inside the access token's refresh margin: 100 concurrent callers, one refresh.
    clock.advance(Duration::from_secs(3600 - 200));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..100u8 {
        let app = app.clone();
        tasks.spawn(async move {
            let p = SecretBytes::new(vec![i; 16]);
            let c = app.encrypt(TAG, &p, None).await.unwrap();
            assert_eq!(app.decrypt(TAG, &c, None).await.unwrap(), p);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("every caller succeeds");
    }
    assert_eq!(
        count(&events.lock().unwrap(), "access-token"),
        2,
        "one refresh for 100 concurrent callers"
    );

    // Keep going, 50 minutes at a time, to 7 hours: more than two refresh-token lifetimes.
    for _ in 0..8 {
        clock.advance(Duration::from_secs(50 * 60));
        let c = app.encrypt(TAG, &plaintext, Some(b"ctx")).await.unwrap();
        assert_eq!(app.decrypt(TAG, &c, Some(b"ctx")).await.unwrap(), plaintext);
        // Old ciphertexts still decrypt.
        assert_eq!(
            app.decrypt(TAG, &ct, Some(b"ctx")).await.unwrap(),
            plaintext
        );
    }

    let events = events.lock().unwrap().clone();
    let renewals = count(&events, "token-set");
    assert!(renewals >= 2, "renewed at least twice: {renewals}");
    // Every renewed refresh token reached the hook before any request carried it, and
    // every refresh token used was either the deployed one or one the hook had seen.
    let mut persisted = vec![deployed.clone()];
    for e in &events {
        match e {
            Event::Hook { refresh_token } => persisted.push(refresh_token.clone()),
            Event::Sent { action, token } if action == "access-token" || action == "token-set" => {
                let token = token.as_ref().expect("token calls carry a token");
                assert!(
                    persisted.contains(token),
                    "a refresh token was used before the hook saw it"
                );
            }
            Event::Sent { action, token } => {
                assert!(token.is_some(), "{action} carries an access token");
            }
        }
    }
    assert_eq!(persisted.len(), renewals + 1);
    // The application never signed anything: no account keys were involved.
    assert!(format!("{app:?}").contains("token_mode"));
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn round_trips_at_0_1_and_32k_bytes_bound_to_their_context() {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let operator = account_client(&emulator, clock.clone());
    let set = operator
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .unwrap();
    let app = KmsClient::builder()
        .refresh_token(TAG, set.refresh_token)
        .endpoint(&emulator.ncp_base_url())
        .transport(
            support::transport_with_clock(clock.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    for client in [&app, &operator] {
        for len in [0, 1, 32 * 1024] {
            let p = SecretBytes::new(vec![0xA5; len]);
            let c = client.encrypt(TAG, &p, Some(b"order-17")).await.unwrap();
            assert!(c.as_str().starts_with("ncpkms:v1:"), "{c}");
            assert_eq!(client.decrypt(TAG, &c, Some(b"order-17")).await.unwrap(), p);
            // Another context, or none, does not open it.
            let e = client
                .decrypt(TAG, &c, Some(b"order-18"))
                .await
                .unwrap_err();
            assert_eq!(e.status(), Some(400), "{e}");
            assert!(client.decrypt(TAG, &c, None).await.is_err());
        }
        // The array forms.
        let items = [
            SecretBytes::new(b"a".to_vec()),
            SecretBytes::new(Vec::new()),
        ];
        let cs = client.encrypt_many(TAG, &items, None).await.unwrap();
        assert_eq!(client.decrypt_many(TAG, &cs, None).await.unwrap(), items);
    }
    {
        let client = &operator;
        let items = [SecretBytes::new(b"a".to_vec())];
        let cs = client.encrypt_many(TAG, &items, None).await.unwrap();
        // A ciphertext of one key does not open under another.
        let e = client
            .decrypt(demo::NCP_DISABLED_KEY_TAG, &cs[0], None)
            .await
            .unwrap_err();
        assert!(e.status().is_some(), "{e}");
    }
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn ecdsa_signs_and_verifies_and_a_changed_message_is_false() {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let operator = account_client(&emulator, clock.clone());
    let tag = demo::NCP_ECDSA_KEY_TAG;
    let set = operator
        .create_token_set(tag, TokenSetOptions::new())
        .await
        .unwrap();
    let app = KmsClient::builder()
        .refresh_token(tag, set.refresh_token)
        .endpoint(&emulator.ncp_base_url())
        .transport(
            support::transport_with_clock(clock.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    for client in [&app, &operator] {
        let sig = client.sign(tag, b"pay 10 to bob").await.unwrap();
        assert!(sig.as_str().starts_with("ncpkms:v1:"));
        assert!(client.verify(tag, b"pay 10 to bob", &sig).await.unwrap());
        assert!(!client.verify(tag, b"pay 99 to bob", &sig).await.unwrap());
    }
    // An ECDSA key does not encrypt, and an AES key does not sign.
    let e = operator
        .encrypt(tag, &SecretBytes::new(b"x".to_vec()), None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(operator.sign(TAG, b"x").await.is_err());
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn reencrypt_moves_to_the_newest_version_and_both_decrypt() {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let client = account_client(&emulator, clock.clone());
    let p = SecretBytes::new(b"rotate me".to_vec());
    let old = client.encrypt(TAG, &p, Some(b"c")).await.unwrap();
    assert_eq!(old.key_version(), 1);
    assert_eq!(emulator.rotate_ncp_key(TAG), Some(2));
    let new = client.reencrypt(TAG, &old, Some(b"c")).await.unwrap();
    assert_eq!(new.key_version(), 2);
    assert_eq!(client.decrypt(TAG, &new, Some(b"c")).await.unwrap(), p);
    assert_eq!(client.decrypt(TAG, &old, Some(b"c")).await.unwrap(), p);
    let many = client
        .reencrypt_many(TAG, &[old.clone(), new.clone()], Some(b"c"))
        .await
        .unwrap();
    assert!(many.iter().all(|c| c.key_version() == 2));
    // A version the key never had is refused.
    let forged = Ciphertext::parse(old.as_str().replacen("ncpkms:v1:", "ncpkms:v9:", 1)).unwrap();
    assert!(client.decrypt(TAG, &forged, Some(b"c")).await.is_err());

    // A custom data key: its ciphertext decrypts to the plain key the service returned.
    let key = client
        .create_custom_key(TAG, &CustomKeyOptions::new().with_plain_key(true))
        .await
        .unwrap();
    assert_eq!(key.key_version, Some(2));
    let plain = key.plaintext.expect("asked for");
    assert_eq!(plain.len(), 32);
    assert_eq!(
        client.decrypt(TAG, &key.ciphertext, None).await.unwrap(),
        plain
    );
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_are_only_good_for_their_own_calls_and_lifetimes() {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let operator = account_client(&emulator, clock.clone());
    let set = operator
        .create_token_set(
            TAG,
            TokenSetOptions::new()
                .with_access_token_hours(hours(1))
                .with_refresh_token_hours(hours(2)),
        )
        .await
        .unwrap();
    let before = issued(&operator, TAG).await;
    // An access token is not a refresh token.
    let e = operator
        .refresh_access_token(TAG, &set.access_token, None)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    // A refresh token does not do crypto.
    let wrong = KmsClient::builder()
        .refresh_token(TAG, set.access_token.clone())
        .endpoint(&emulator.ncp_base_url())
        .transport(
            support::transport_with_clock(clock.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = wrong
        .encrypt(TAG, &SecretBytes::new(b"x".to_vec()), None)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ncp_kms_client::Error::SessionExpired { .. }),
        "{e:?}"
    );
    assert_eq!(issued(&operator, TAG).await, before);
    // Past its expiry a refresh token is refused: the app says to mint a new set.
    clock.advance(Duration::from_secs(2 * 3600 + 1));
    let app = KmsClient::builder()
        .refresh_token(TAG, set.refresh_token)
        .endpoint(&emulator.ncp_base_url())
        .transport(
            support::transport_with_clock(clock.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let e = app
        .encrypt(TAG, &SecretBytes::new(b"x".to_vec()), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("account keys"), "{e}");
    emulator.shutdown().await.unwrap();
}
