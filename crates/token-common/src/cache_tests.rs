//! Token cache behaviour under tokio's paused time.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::*;
use crate::clock::TokioClock;
use crate::SecretString;

/// How a scripted fetch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Succeed,
    Fail,
    Hang,
    Panic,
}

/// A source whose fetches take 100 ms and succeed, fail, hang or panic as scripted.
#[derive(Debug)]
struct Source {
    clock: Arc<TokioClock>,
    lifetime: Duration,
    /// Fetches started.
    fetches: AtomicUsize,
    /// Fetches that ran to their end (success or failure).
    completed: AtomicUsize,
    mode: Mutex<Mode>,
}

impl Source {
    fn new(clock: Arc<TokioClock>, lifetime: Duration) -> Self {
        Self {
            clock,
            lifetime,
            fetches: AtomicUsize::new(0),
            completed: AtomicUsize::new(0),
            mode: Mutex::new(Mode::Succeed),
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn completed(&self) -> usize {
        self.completed.load(Ordering::SeqCst)
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

const FETCH_TIME: Duration = Duration::from_millis(100);

impl TokenSource for Source {
    type Token = SecretString;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<SecretString>>> {
        Box::pin(async move {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let mode = *self.mode.lock().unwrap();
            if mode == Mode::Hang {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(FETCH_TIME).await;
            self.completed.fetch_add(1, Ordering::SeqCst);
            match mode {
                Mode::Fail => Err(Error::transport("refresh failed", true)),
                Mode::Panic => panic!("the source broke"),
                _ => Ok(Expiring::new(
                    SecretString::new(format!("token-{n}")),
                    Some(self.clock.now() + self.lifetime),
                )),
            }
        })
    }
}

fn cache(lifetime: Duration) -> (TokenCache<Source>, Arc<TokioClock>) {
    let clock = Arc::new(TokioClock::new());
    let c = TokenCache::new(Source::new(clock.clone(), lifetime)).with_clock(clock.clone());
    (c, clock)
}

async fn get_many(c: &TokenCache<Source>, n: usize) -> Vec<Result<Arc<Expiring<SecretString>>>> {
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

/// Polls `fut` once: `Some` when it completed without waiting for anything.
fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Lets spawned fetches run to their end (paused time moves only through this).
async fn let_fetches_run() {
    tokio::time::sleep(FETCH_TIME * 2).await;
}

fn token_of(r: &Result<Arc<Expiring<SecretString>>>) -> &str {
    r.as_ref().unwrap().value.expose_secret()
}

#[tokio::test(start_paused = true)]
async fn a_thousand_concurrent_callers_on_an_expired_token_cause_exactly_one_fetch() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 1);
    tokio::time::advance(Duration::from_secs(3601)).await;

    let results = get_many(&c, 1000).await;
    assert_eq!(c.source().fetches(), 2);
    for r in &results {
        assert_eq!(token_of(r), "token-2");
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
async fn the_caller_that_triggers_a_refresh_gets_the_valid_token_at_once() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3500)).await; // inside the margin, not expired

    // Completes on its first poll: it did not wait for the 100 ms fetch it started.
    let t = poll_once(c.get()).expect("the triggering caller waited for the fetch");
    assert_eq!(token_of(&t), "token-1");
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 2);
    assert_eq!(token_of(&c.get().await), "token-2");
}

#[tokio::test(start_paused = true)]
async fn cancelling_the_triggering_caller_does_not_cancel_the_refresh() {
    // Ahead of expiry: the caller is dropped right after it started the fetch.
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3500)).await;
    drop(poll_once(c.get()));
    let_fetches_run().await;
    assert_eq!(
        c.source().completed(),
        2,
        "the refresh was cancelled with its caller"
    );
    assert_eq!(token_of(&c.get().await), "token-2");

    // Expired: the only waiter is aborted while the fetch runs.
    tokio::time::advance(Duration::from_secs(3601)).await;
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.get().await })
    };
    tokio::time::sleep(FETCH_TIME / 2).await;
    assert_eq!(c.source().fetches(), 3);
    waiter.abort();
    let_fetches_run().await;
    assert_eq!(c.source().completed(), 3, "the fetch died with its waiter");
    assert_eq!(token_of(&c.get().await), "token-3");
    assert_eq!(
        c.source().fetches(),
        3,
        "the finished fetch was not repeated"
    );
}

#[tokio::test(start_paused = true)]
async fn a_source_that_hangs_forever_hits_the_load_timeout() {
    let outcome = tokio::time::timeout(Duration::from_secs(600), async {
        let (c, _) = cache(Duration::from_secs(3600));
        c.source().set(Mode::Hang);
        let started = tokio::time::Instant::now();
        let e = c.get().await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert_eq!(started.elapsed(), DEFAULT_LOAD_TIMEOUT);

        // Configurable, and the next caller tries again.
        let c = c.with_load_timeout(Duration::from_secs(5));
        let started = tokio::time::Instant::now();
        c.get().await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(c.source().fetches(), 2);
        c.source().set(Mode::Succeed);
        assert_eq!(token_of(&c.get().await), "token-3");
    })
    .await;
    outcome.expect("the cache waited on the hung source past its load timeout");
}

#[tokio::test(start_paused = true)]
async fn a_source_may_name_itself_in_the_load_timeout_error() {
    #[derive(Debug)]
    struct Named;
    impl TokenSource for Named {
        type Token = u32;
        fn fetch(&self) -> BoxFuture<'_, Result<Expiring<u32>>> {
            Box::pin(std::future::pending())
        }
        fn timed_out(&self, after: Duration) -> Error {
            Error::credentials("instance metadata", format!("no answer in {after:?}"))
        }
    }
    let c = TokenCache::new(Named).with_load_timeout(Duration::from_secs(3));
    // Bounded: without the load timeout the source would hang the test forever.
    let e = tokio::time::timeout(Duration::from_secs(600), c.get())
        .await
        .expect("the cache waited on the hung source past its load timeout")
        .unwrap_err();
    assert!(e.to_string().contains("instance metadata"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn after_a_failed_refresh_no_second_fetch_before_the_backoff() {
    let backoff = FailureBackoff::new(Duration::from_secs(10), Duration::from_secs(60));
    let (c, _) = cache(Duration::from_secs(3600));
    let c = c.with_failure_backoff(backoff).with_rng_seed(7);
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3400)).await; // inside the margin
    c.source().set(Mode::Fail);
    assert_eq!(token_of(&c.get().await), "token-1"); // starts the first failing fetch

    // Each failure: many callers, one fetch; the next try waits half to all of the ceiling.
    for (failure, ceiling) in [(1, 10), (2, 20), (3, 40)] {
        // The fetch started when the test last yielded, and ended FETCH_TIME later.
        tokio::time::sleep(FETCH_TIME + Duration::from_millis(1)).await;
        let failed_at = tokio::time::Instant::now() - Duration::from_millis(1);
        assert_eq!(c.source().completed(), 1 + failure);
        let mut next_try = None;
        for _ in 0..(ceiling * 10 + 10) {
            let results = get_many(&c, 20).await;
            assert!(results.iter().all(|r| token_of(r) == "token-1"));
            if c.source().fetches() > 1 + failure {
                next_try = Some(failed_at.elapsed());
                break;
            }
            tokio::time::advance(Duration::from_millis(100)).await;
        }
        let waited = next_try.expect("no retry after the backoff");
        let ceiling = Duration::from_secs(ceiling);
        assert!(
            waited >= ceiling / 2,
            "retry {failure} after {waited:?}, before the backoff"
        );
        assert!(
            waited <= ceiling + Duration::from_millis(100),
            "waited {waited:?}"
        );
    }
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 5);
    c.source().set(Mode::Succeed);
    tokio::time::advance(Duration::from_secs(60)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(token_of(&c.get().await), "token-6");
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_and_a_failed_refresh_return_the_error_to_every_waiter_once() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3601)).await;
    c.source().set(Mode::Fail);
    let results = get_many(&c, 100).await;
    assert_eq!(c.source().fetches(), 2, "waiters share the failed fetch");
    for r in results {
        assert!(r.unwrap_err().is_connect());
    }
    // With no valid token, a later caller tries again at once.
    c.source().set(Mode::Succeed);
    assert_eq!(token_of(&c.get().await), "token-3");
}

#[tokio::test(start_paused = true)]
async fn a_source_that_panics_gives_waiters_an_error_and_the_next_caller_a_new_fetch() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.source().set(Mode::Panic);
    let results = get_many(&c, 10).await;
    assert!(results.iter().all(|r| r.is_err()));
    assert_eq!(c.source().fetches(), 1);
    c.source().set(Mode::Succeed);
    assert_eq!(token_of(&c.get().await), "token-2");
}

#[tokio::test(start_paused = true)]
async fn invalidating_the_current_token_forces_one_new_fetch_even_within_the_floor() {
    let (c, _) = cache(Duration::from_secs(3600));
    let c = c.with_floor(Duration::from_secs(600));
    let t = c.get().await.unwrap();
    c.invalidate(&t);
    let results = get_many(&c, 20).await;
    assert_eq!(c.source().fetches(), 2);
    for r in &results {
        assert_eq!(token_of(r), "token-2");
    }
    // Invalidating a token the cache no longer holds changes nothing.
    c.invalidate(&t);
    c.get().await.unwrap();
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_floor_keeps_fetches_apart_unless_the_token_expired() {
    // 100 s tokens: the margin (half the lifetime) would refresh after 50 s; the floor says 60.
    let (c, _) = cache(Duration::from_secs(100));
    let c = c.with_floor(Duration::from_secs(60));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 1, "fetched again within the floor");
    tokio::time::advance(Duration::from_secs(1)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 2);

    // 30 s tokens expire before the floor ends: an expired token is fetched at once.
    let (c, _) = cache(Duration::from_secs(30));
    let c = c.with_floor(Duration::from_secs(60));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(token_of(&c.get().await), "token-2");
}

#[tokio::test(start_paused = true)]
async fn refreshes_ahead_of_expiry_by_the_margin() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    // 5 minutes (the default margin) before expiry: still fresh one second earlier...
    tokio::time::advance(Duration::from_secs(3600 - 301)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 1);
    // ...and refreshed inside the margin, while the old token is still valid.
    tokio::time::advance(Duration::from_secs(2)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(token_of(&c.get().await), "token-2");
}

#[tokio::test(start_paused = true)]
async fn short_lived_tokens_use_half_their_lifetime_as_margin() {
    let (c, _) = cache(Duration::from_secs(60));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(29)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    c.get().await.unwrap();
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_margin_jitter_spreads_refresh_times_within_its_bounds() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..20 {
        let (c, _) = cache(Duration::from_secs(3600));
        let c = c
            .with_margin(Duration::from_secs(300))
            .with_margin_jitter(Duration::from_secs(240))
            .with_rng_seed(seed);
        let t = c.get().await.unwrap();
        let expires_at = t.expires_at.unwrap();
        let refresh_at = c.shared.entry.load().as_ref().unwrap().refresh_at.unwrap();
        let margin = expires_at.duration_since(refresh_at).unwrap();
        assert!(margin >= Duration::from_secs(300), "{margin:?}");
        assert!(margin <= Duration::from_secs(540), "{margin:?}");
        seen.insert(margin);
    }
    assert!(seen.len() > 10, "the jitter did not spread: {seen:?}");
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

#[tokio::test(start_paused = true)]
async fn a_token_given_up_front_is_served_without_a_fetch() {
    let (c, clock) = cache(Duration::from_secs(3600));
    let c = c.with_token(Expiring::new(
        SecretString::new("given"),
        Some(clock.now() + Duration::from_secs(3600)),
    ));
    assert_eq!(token_of(&poll_once(c.get()).unwrap()), "given");
    assert_eq!(c.source().fetches(), 0);
}

#[tokio::test(start_paused = true)]
async fn debug_of_a_cache_holding_a_token_shows_its_expiry_but_not_the_token() {
    let (c, _) = cache(Duration::from_secs(3600));
    let t = c.get().await.unwrap();
    let shown = format!("{c:?}");
    assert!(shown.contains("TokenCache"), "{shown}");
    assert!(
        shown.contains(&format!("{:?}", t.expires_at)),
        "no expiry in {shown}"
    );
    assert!(!shown.contains("token-1"), "{shown}");
    let e = Expiring::new(SecretString::new("tok-secret"), None);
    assert!(!format!("{e:?}").contains("tok-secret"));
}

#[tokio::test(start_paused = true)]
async fn get_fresh_waits_for_the_refresh_that_get_would_not_wait_for() {
    let (c, _) = cache(Duration::from_secs(3600));
    c.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(3500)).await;
    assert!(poll_once(c.get_fresh()).is_none(), "get_fresh did not wait");
    assert_eq!(token_of(&c.get_fresh().await), "token-2");
    assert_eq!(c.source().fetches(), 2);

    // A failed refresh still gives the valid token.
    tokio::time::advance(Duration::from_secs(3500)).await;
    c.source().set(Mode::Fail);
    assert_eq!(token_of(&c.get_fresh().await), "token-2");
    assert_eq!(c.source().fetches(), 3);
}

// --- TokenReader: the same cache, read without shared writes ---

fn reader_token(r: &mut TokenReader<Source>) -> Option<String> {
    poll_once(r.get()).map(|t| t.unwrap().value.expose_secret().to_owned())
}

#[tokio::test(start_paused = true)]
async fn a_reader_serves_its_token_until_it_is_due_and_then_refreshes_through_the_cache() {
    let (c, _) = cache(Duration::from_secs(3600));
    let mut r = c.reader();
    assert_eq!(token_of(&Ok(r.get().await.unwrap().clone())), "token-1");
    let first = r.get().await.unwrap().clone();
    for _ in 0..100 {
        assert!(Arc::ptr_eq(r.get().await.unwrap(), &first));
    }
    assert_eq!(c.source().fetches(), 1);

    // Inside the margin: the old token at once, one detached fetch, then the new token.
    tokio::time::advance(Duration::from_secs(3500)).await;
    assert_eq!(reader_token(&mut r).as_deref(), Some("token-1"));
    assert_eq!(reader_token(&mut r).as_deref(), Some("token-1"));
    let_fetches_run().await;
    assert_eq!(c.source().fetches(), 2);
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "token-2");
    // And it is a plain hit again.
    let second = r.get().await.unwrap().clone();
    assert!(Arc::ptr_eq(r.get().await.unwrap(), &second));
    assert_eq!(c.source().fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_reader_sees_a_token_another_handle_stored_while_its_own_was_fresh() {
    let (c, clock) = cache(Duration::from_secs(3600));
    let mut r = c.reader();
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "token-1");
    // Another handle stores a token; the reader's own is far from due, so only the
    // cache's generation can tell it.
    let _other = c.clone().with_token(Expiring::new(
        SecretString::new("given"),
        Some(clock.now() + Duration::from_secs(3600)),
    ));
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "given");
    assert_eq!(c.source().fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_reader_drops_an_invalidated_or_cleared_token_at_once() {
    let (c, _) = cache(Duration::from_secs(3600));
    let mut r = c.reader();
    let t = r.get().await.unwrap().clone();
    r.cache().invalidate(&t);
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "token-2");
    assert_eq!(c.source().fetches(), 2);

    c.clear();
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "token-3");
    assert_eq!(c.source().fetches(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_reader_of_an_expired_token_waits_for_the_one_fetch_and_shares_its_error() {
    let (c, _) = cache(Duration::from_secs(60));
    let mut r = c.reader();
    r.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(61)).await;
    c.source().set(Mode::Fail);
    let mut other = c.reader();
    let (a, b) = tokio::join!(r.get(), other.get());
    assert!(a.is_err() && b.is_err());
    assert_eq!(c.source().fetches(), 2, "the two readers shared one fetch");
    c.source().set(Mode::Succeed);
    assert_eq!(r.get().await.unwrap().value.expose_secret(), "token-3");
}

#[tokio::test(start_paused = true)]
async fn a_reader_is_send_and_its_debug_shows_no_token() {
    fn assert_send<T: Send>(_: &T) {}
    let (c, _) = cache(Duration::from_secs(3600));
    let mut r = c.reader();
    r.get().await.unwrap();
    assert_send(&r);
    let shown = format!("{r:?}");
    assert!(
        shown.contains("TokenReader") && !shown.contains("token-1"),
        "{shown}"
    );
}
