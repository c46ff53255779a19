//! The credentials cache under tokio's paused time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use super::*;
use crate::clock::TokioClock;
use crate::credentials::{Environment, HuaweiCredentials, HuaweiEnvironment};

/// Temporary keys: `keys-N`, each living `lifetime`, or a scripted failure.
#[derive(Debug)]
struct Metadata {
    clock: Arc<TokioClock>,
    lifetime: Duration,
    /// When set, every answer expires at this fixed time (a source that rotates late).
    fixed_expiry: Mutex<Option<SystemTime>>,
    loads: AtomicUsize,
    failing: Mutex<bool>,
}

impl Metadata {
    fn new(clock: Arc<TokioClock>, lifetime: Duration) -> Self {
        Self {
            clock,
            lifetime,
            fixed_expiry: Mutex::new(None),
            loads: AtomicUsize::new(0),
            failing: Mutex::new(false),
        }
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

impl LoadCredentials<HuaweiCredentials> for Arc<Metadata> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        Box::pin(async move {
            let n = self.loads.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if *self.failing.lock().unwrap() {
                return Err(Error::credentials(self.describe(), "connection refused"));
            }
            let expires_at = self
                .fixed_expiry
                .lock()
                .unwrap()
                .unwrap_or_else(|| self.clock.now() + self.lifetime);
            Ok(Expiring::new(
                HuaweiCredentials::new(format!("AK-{n}"), format!("SK-secret-{n}"))
                    .with_security_token(format!("sts-secret-{n}")),
                Some(expires_at),
            ))
        })
    }

    fn describe(&self) -> String {
        "instance metadata (http://169.254.169.254)".to_owned()
    }
}

fn metadata_cache(
    lifetime: Duration,
) -> (
    CredentialsCache<HuaweiCredentials>,
    Arc<Metadata>,
    Arc<TokioClock>,
) {
    let clock = Arc::new(TokioClock::new());
    let source = Arc::new(Metadata::new(clock.clone(), lifetime));
    let cache = CredentialsCache::new(source.clone()).with_clock(clock.clone());
    (cache, source, clock)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test(start_paused = true)]
async fn hour_long_keys_are_reloaded_once_between_five_and_nine_minutes_before_expiry() {
    for seed in 0..10 {
        let (cache, source, _) = metadata_cache(Duration::from_secs(3600));
        let cache = cache.with_rng_seed(seed);
        let started = tokio::time::Instant::now();
        assert_eq!(cache.get().await.unwrap().value.access_key(), "AK-1");
        let mut reloaded_at = None;
        for _ in 0..3600 {
            tokio::time::advance(Duration::from_secs(1)).await;
            let c = cache.get().await.unwrap();
            assert_eq!(
                c.value.access_key(),
                "AK-1",
                "the caller waited for the load"
            );
            settle().await;
            if source.loads() > 1 {
                reloaded_at = Some(started.elapsed());
                break;
            }
        }
        let at = reloaded_at.expect("never reloaded").as_secs();
        // Each step is 1.2 s: the reload happened 5 to 9 minutes before expiry.
        assert!(
            (3600 - 9 * 60 - 2..=3600 - 5 * 60 + 2).contains(&at),
            "{at}"
        );
        assert_eq!(source.loads(), 2);
        assert_eq!(cache.get().await.unwrap().value.access_key(), "AK-2");
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_keeps_answering_old_keys_is_asked_at_most_once_a_minute() {
    let (cache, source, clock) = metadata_cache(Duration::from_secs(3600));
    // Every answer expires 4 minutes from now: each is already inside the margin.
    *source.fixed_expiry.lock().unwrap() = Some(clock.now() + Duration::from_secs(240));
    cache.get().await.unwrap();
    for _ in 0..235 {
        tokio::time::advance(Duration::from_secs(1)).await;
        cache.get().await.unwrap();
        tokio::task::yield_now().await;
    }
    settle().await;
    // 235 s of calls: the first load plus at most one per 60 s.
    assert!(source.loads() <= 1 + 4, "{} loads", source.loads());
    assert!(source.loads() >= 3, "{} loads", source.loads());
}

#[tokio::test(start_paused = true)]
async fn invalidated_keys_are_reloaded_once_within_the_floor() {
    let (cache, source, _) = metadata_cache(Duration::from_secs(3600));
    let used = cache.get().await.unwrap();
    // Many requests refused with the same keys: one reload.
    for _ in 0..50 {
        cache.invalidate(&used);
    }
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get().await.unwrap() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().value.access_key(), "AK-2");
    }
    cache.invalidate(&used); // no longer held: nothing happens
    cache.get().await.unwrap();
    assert_eq!(source.loads(), 2);
}

#[tokio::test(start_paused = true)]
async fn valid_keys_survive_a_failing_source_and_expired_keys_give_its_error() {
    let (cache, source, _) = metadata_cache(Duration::from_secs(3600));
    cache.get().await.unwrap();
    *source.failing.lock().unwrap() = true;
    tokio::time::advance(Duration::from_secs(3300)).await;
    for _ in 0..290 {
        assert_eq!(cache.get().await.unwrap().value.access_key(), "AK-1");
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    let loads = source.loads();
    assert!(loads <= 1 + 5, "{loads} loads in 290 s while failing");
    tokio::time::advance(Duration::from_secs(20)).await; // past expiry
    let e = cache.get().await.unwrap_err();
    assert!(e.to_string().contains("instance metadata"), "{e}");
    // It recovers when the source does.
    *source.failing.lock().unwrap() = false;
    assert_eq!(
        cache.get().await.unwrap().value.access_key(),
        format!("AK-{}", loads + 2)
    );
}

#[tokio::test(start_paused = true)]
async fn a_hung_source_hits_the_load_timeout_with_an_error_naming_it() {
    #[derive(Debug)]
    struct Hung;
    impl LoadCredentials<HuaweiCredentials> for Hung {
        fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
            Box::pin(std::future::pending())
        }
        fn describe(&self) -> String {
            "pod identity (http://127.0.0.1:1/credentials)".into()
        }
    }
    let cache = CredentialsCache::new(Hung).with_load_timeout(Duration::from_secs(7));
    let started = tokio::time::Instant::now();
    let e = cache.get().await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    let shown = e.to_string();
    assert!(
        shown.contains("pod identity") && shown.contains("load timeout"),
        "{shown}"
    );
}

#[tokio::test(start_paused = true)]
async fn fixed_credentials_are_served_without_a_load() {
    let cache = CredentialsCache::fixed(HuaweiCredentials::new("AK", "SK"));
    let a = cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(100 * 86_400)).await;
    let b = cache.get().await.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.expires_at, None);
    assert_eq!(cache.describe(), "credentials given in code");
}

#[tokio::test]
async fn a_static_provider_feeds_the_cache_through_the_adapter() {
    let env = Environment::from_pairs([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")]);
    let cache = CredentialsCache::new(ProvidedCredentials::new(
        HuaweiEnvironment::with_environment(env),
    ));
    let c = cache.get().await.unwrap();
    assert_eq!(c.value.access_key(), "AK");
    assert_eq!(c.expires_at, None);

    let empty = CredentialsCache::new(ProvidedCredentials::new(
        HuaweiEnvironment::with_environment(Environment::from_pairs::<&str, &str>([])),
    ));
    let e = empty.get().await.unwrap_err();
    assert!(e.to_string().contains("HUAWEICLOUD_SDK_AK"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn the_signer_is_prepared_once_per_credential() {
    let (cache, source, _) = metadata_cache(Duration::from_secs(3600));
    let prepared = Arc::new(AtomicUsize::new(0));
    let count = prepared.clone();
    let signers = SignerCache::new(cache, move |c: &HuaweiCredentials| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(c.access_key().to_owned())
    });
    for _ in 0..100 {
        assert_eq!(signers.get().await.unwrap().signer(), "AK-1");
    }
    assert_eq!(prepared.load(Ordering::SeqCst), 1);
    let used = signers.get().await.unwrap();
    signers.invalidate(&used);
    for _ in 0..100 {
        assert_eq!(signers.get().await.unwrap().signer(), "AK-2");
    }
    assert_eq!(prepared.load(Ordering::SeqCst), 2);
    assert_eq!(source.loads(), 2);
}

#[tokio::test(start_paused = true)]
async fn debug_of_a_cache_holding_keys_shows_no_secret() {
    let (cache, _, _) = metadata_cache(Duration::from_secs(3600));
    let signers = SignerCache::new(cache.clone(), |c: &HuaweiCredentials| Ok(c.clone()));
    let p = signers.get().await.unwrap();
    for shown in [
        format!("{cache:?}"),
        format!("{signers:?}"),
        format!("{p:?}"),
    ] {
        assert!(shown.contains("expires_at"), "{shown}");
        assert!(
            !shown.contains("SK-secret") && !shown.contains("sts-secret"),
            "{shown}"
        );
    }
}
