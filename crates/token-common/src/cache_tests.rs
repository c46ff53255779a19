//! Token cache behaviour under tokio's paused time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::clock::TokioClock;
use crate::{Error, SecretString};

/// A source whose fetches take 100 ms and succeed or fail as scripted.
#[derive(Debug)]
struct Source {
    clock: Arc<TokioClock>,
    lifetime: Duration,
    fetches: AtomicUsize,
    fail: Mutex<bool>,
}

impl Source {
    fn new(clock: Arc<TokioClock>, lifetime: Duration) -> Self {
        Self {
            clock,
            lifetime,
            fetches: AtomicUsize::new(0),
            fail: Mutex::new(false),
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn set_failing(&self, fail: bool) {
        *self.fail.lock().unwrap() = fail;
    }
}

impl TokenSource for Source {
    type Token = SecretString;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<SecretString>>> {
        Box::pin(async move {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
            if *self.fail.lock().unwrap() {
                return Err(Error::transport("refresh failed", true));
            }
            Ok(Expiring::new(
                SecretString::new(format!("token-{n}")),
                Some(self.clock.now() + self.lifetime),
            ))
        })
    }
}

fn cache(lifetime: Duration) -> (Arc<TokenCache<Source>>, Arc<TokioClock>) {
    let clock = Arc::new(TokioClock::new());
    let c = TokenCache::new(Source::new(clock.clone(), lifetime)).with_clock(clock.clone());
    (Arc::new(c), clock)
}

async fn get_many(
    c: &Arc<TokenCache<Source>>,
    n: usize,
) -> Vec<Result<Arc<Expiring<SecretString>>>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get().await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn a_thousand_concurrent_callers_on_an_expired_token_cause_exactly_one_fetch() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 1);
    tokio::time::advance(Duration::from_secs(3601)).await;

    let results = get_many(&c, 1000).await;
    assert_eq!(c.source().fetches(), 2);
    for r in results {
        assert_eq!(r.unwrap().value.expose_secret(), "token-2");
    }
}

#[tokio::test(start_paused = true)]
async fn a_fresh_token_is_served_from_memory() {
    let (c, _) = cache(Duration::from_secs(3600));
    let a = c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    let b = c.get().await.unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(c.source().fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn refreshes_ahead_of_expiry_by_the_margin() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    // 5 minutes (the default margin) before expiry: still fresh one second earlier...
    tokio::time::advance(Duration::from_secs(3600 - 301)).await;
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 1);
    // ...and refreshed inside the margin, while the old token is still valid.
    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(c.get().await.unwrap().value.expose_secret(), "token-2");
}

#[tokio::test(start_paused = true)]
async fn short_lived_tokens_use_half_their_lifetime_as_margin() {
    let (c, _) = cache(Duration::from_secs(60));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(29)).await;
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn callers_get_the_still_valid_token_while_one_refreshes() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3500)).await; // inside the margin, not expired
    let results = get_many(&c, 50).await;
    assert_eq!(c.source().fetches(), 2);
    let old = results
        .iter()
        .filter(|r| r.as_ref().unwrap().value.expose_secret() == "token-1")
        .count();
    assert!(
        old >= 1,
        "callers that found a refresh running were not made to wait"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_while_the_old_token_is_valid_returns_the_old_token() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3500)).await;
    c.source().set_failing(true);
    let t = c.get().await.unwrap();
    assert_eq!(t.value.expose_secret(), "token-1");
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_and_a_failed_refresh_return_the_error_to_every_waiter_once() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3601)).await;
    c.source().set_failing(true);
    let results = get_many(&c, 100).await;
    assert_eq!(c.source().fetches(), 2, "waiters share the failed fetch");
    for r in results {
        assert!(r.unwrap_err().is_connect());
    }
    // A later caller tries again.
    c.source().set_failing(false);
    assert_eq!(c.get().await.unwrap().value.expose_secret(), "token-3");
}

#[tokio::test(start_paused = true)]
async fn invalidating_the_current_token_forces_one_new_fetch() {
    let (c, _) = cache(Duration::from_secs(3600));
    let t = c.get().await.unwrap();
    c.invalidate(&t);
    let results = get_many(&c, 20).await;
    assert_eq!(c.source().fetches(), 2);
    for r in results {
        assert_eq!(r.unwrap().value.expose_secret(), "token-2");
    }
    // Invalidating a token the cache no longer holds changes nothing.
    c.invalidate(&t);
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn tokens_without_expiry_are_fetched_once() {
    #[derive(Debug)]
    struct Forever(AtomicUsize);
    impl TokenSource for Forever {
        type Token = u32;
        fn fetch(&self) -> BoxFuture<'_, Result<Expiring<u32>>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(Expiring::new(7, None)) })
        }
    }
    let c = TokenCache::new(Forever(AtomicUsize::new(0))).with_clock(Arc::new(TokioClock::new()));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(10 * 365 * 86_400)).await;
    assert_eq!(c.get().await.unwrap().value, 7);
    assert_eq!(c.source().0.load(Ordering::SeqCst), 1);
}

#[test]
fn debug_shows_expiry_but_not_the_token() {
    let c = TokenCache::new(Source::new(
        Arc::new(TokioClock::starting_at(std::time::UNIX_EPOCH)),
        Duration::from_secs(1),
    ));
    let shown = format!("{c:?}");
    assert!(shown.contains("TokenCache"), "{shown}");
    let e = Expiring::new(SecretString::new("tok-secret"), None);
    assert!(!format!("{e:?}").contains("tok-secret"));
}
