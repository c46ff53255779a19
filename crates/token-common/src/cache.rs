//! A refresh-ahead token cache.
//!
//! [`TokenCache`] wraps a [`TokenSource`] and hands out a valid token:
//! * a fresh token is served from memory (a lock-free load, one comparison and an `Arc`
//!   clone);
//! * ahead of expiry (see [`DEFAULT_MARGIN`], optionally jittered) one fetch starts in a
//!   task of its own, **detached** from the caller that noticed: that caller, and every
//!   other, keeps getting the old token (still valid) at once, and cancelling any of them
//!   does not cancel the fetch;
//! * once the token has expired (or was [invalidated](TokenCache::invalidate)), callers wait
//!   for that one fetch, and all get its outcome — the new token or the error;
//! * a fetch that takes longer than the load timeout (default [`DEFAULT_LOAD_TIMEOUT`],
//!   separate from any request timeout of the source) fails;
//! * a failed refresh while the old token is still valid keeps the old token, logs one
//!   warning, and waits a jittered [`FailureBackoff`] before the next try (the wait is
//!   stored with the token, so callers meanwhile are plain cache hits, not a storm);
//! * a floor interval (off by default) keeps fetches at least that far apart unless the
//!   token expired or was invalidated;
//! * time is read from an injectable [`Clock`]; the jitter from a seedable RNG.
//!
//! Fetches run on the tokio runtime of the caller that starts them (`tokio::spawn`), so
//! [`TokenCache::get`] must be awaited inside a tokio runtime.
//!
//! # The hottest paths: a [`TokenReader`]
//!
//! [`TokenCache::get`] hands every caller an owned `Arc`, which costs a few atomic
//! read-modify-writes per hit (the lock-free load's guard, the `Arc` count up, and the
//! caller's drop down): together more than the clock read itself. A
//! task that asks for the token in a tight loop can hold a [`TokenReader`]
//! ([`TokenCache::reader`]) instead: it keeps the token it last read and lends it out, and
//! its hit is one atomic load (has the cache changed since?), the clock read and one
//! comparison — no write to shared memory at all. Everything else (refresh ahead, one fetch
//! for all, invalidation) is the cache's own.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use token_common::cache::{Expiring, TokenCache, TokenSource};
//! use token_common::transport::BoxFuture;
//!
//! struct Fixed;
//! impl TokenSource for Fixed {
//!     type Token = String;
//!     fn fetch(&self) -> BoxFuture<'_, token_common::Result<Expiring<String>>> {
//!         Box::pin(async {
//!             Ok(Expiring::new("t1".to_owned(), Some(SystemTime::now() + Duration::from_secs(3600))))
//!         })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> token_common::Result<()> {
//! let cache = TokenCache::new(Fixed);
//! let mut reader = cache.reader(); // one per task; `cache` stays shareable
//! for _ in 0..3 {
//!     let token = reader.get().await?; // lent until the next `get`
//!     assert_eq!(token.value, "t1");
//! }
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::sync::watch;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::transport::BoxFuture;

/// How long before expiry a token is refreshed, at most. The margin used is the smaller of
/// this and half the token's lifetime, so a 30-minute token is refreshed 5 minutes ahead and
/// a 1-minute token 30 seconds ahead.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);

/// How long one fetch may take before the cache gives up on it.
pub const DEFAULT_LOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A value with the time it stops being valid (`None`: it does not expire).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expiring<T> {
    /// The value.
    pub value: T,
    /// When it expires.
    pub expires_at: Option<SystemTime>,
}

impl<T> Expiring<T> {
    /// A value that expires at `expires_at` (`None`: never).
    pub fn new(value: T, expires_at: Option<SystemTime>) -> Self {
        Self { value, expires_at }
    }
}

impl<T: fmt::Debug> fmt::Debug for Expiring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expiring")
            .field("value", &self.value)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Something that fetches a new token.
pub trait TokenSource: Send + Sync {
    /// The token (typically holding [`SecretString`](crate::SecretString)s).
    type Token: Send + Sync + 'static;

    /// Fetches a new token and its expiry.
    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<Self::Token>>>;

    /// The error given when a fetch outlives the cache's load timeout. The default is
    /// [`Error::Timeout`]; a source may name itself instead.
    fn timed_out(&self, after: Duration) -> Error {
        Error::timeout(after)
    }
}

/// The wait after a failed refresh while the old token is still valid: before try `n`
/// (1-based, counting consecutive failures) a random time between half and all of
/// `min(max, base × 2^(n-1))`. Half is always waited, so a failing source is never hit
/// in a loop; the random half spreads a fleet that failed together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailureBackoff {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
}

impl FailureBackoff {
    /// A backoff from `base` doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The ceiling of the wait after `n` consecutive failures (1-based).
    pub fn ceiling(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A wait between half of [`ceiling`](Self::ceiling) and all of it, drawn from `rng`.
    fn delay(&self, n: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = self.ceiling(n);
        let half = ceiling / 2;
        half + random_up_to(ceiling - half, rng)
    }
}

impl Default for FailureBackoff {
    /// 5 s, doubling up to 60 s.
    fn default() -> Self {
        Self::new(Duration::from_secs(5), Duration::from_secs(60))
    }
}

fn random_up_to(max: Duration, rng: &mut fastrand::Rng) -> Duration {
    let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(0..=nanos))
}

struct Entry<T> {
    token: Arc<Expiring<T>>,
    /// When to start refreshing (`None`: never): expiry less the margin, pushed later by
    /// the floor and by a failure's backoff, never past expiry. Computed when stored so
    /// that a cache hit is one comparison.
    refresh_at: Option<SystemTime>,
    invalidated: AtomicBool,
}

impl<T> Entry<T> {
    fn is_fresh(&self, now: SystemTime) -> bool {
        !self.invalidated.load(Ordering::Acquire) && self.refresh_at.is_none_or(|t| now < t)
    }

    fn is_valid(&self, now: SystemTime) -> bool {
        !self.invalidated.load(Ordering::Acquire) && self.token.expires_at.is_none_or(|t| now < t)
    }
}

/// The outcome of one fetch, as every waiter sees it.
type Outcome<T> = Option<Result<Arc<Expiring<T>>>>;

/// What the refresh machinery remembers between fetches (behind a lock the hit path never
/// takes).
struct State<T> {
    /// The fetch running now: waiters subscribe to its outcome.
    in_flight: Option<watch::Receiver<Outcome<T>>>,
    /// When the last fetch started (for the floor).
    last_started: Option<SystemTime>,
    /// Failed fetches since the last success.
    failures: u32,
    rng: fastrand::Rng,
}

/// What a fetch task shares with the handles: the source and the state.
struct Shared<S: TokenSource> {
    source: S,
    entry: ArcSwapOption<Entry<S::Token>>,
    /// Counts every change of `entry` (a new entry, a clear, an invalidation): how a
    /// [`TokenReader`] knows, with one load, that the entry it holds is still the cache's.
    /// Bumped after the change, under the state lock.
    generation: AtomicU64,
    state: Mutex<State<S::Token>>,
}

impl<S: TokenSource> Shared<S> {
    fn state(&self) -> MutexGuard<'_, State<S::Token>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the entry (the caller holds the state lock) and tells readers.
    fn publish(&self, entry: Option<Entry<S::Token>>) {
        self.entry.store(entry.map(Arc::new));
        self.changed();
    }

    /// Tells readers the entry changed (after the change).
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }
}

#[derive(Debug, Clone)]
struct Config {
    clock: Arc<dyn Clock>,
    margin: Duration,
    margin_jitter: Duration,
    floor: Duration,
    load_timeout: Duration,
    backoff: FailureBackoff,
}

/// A refresh-ahead cache over a [`TokenSource`]; see the [module docs](self).
///
/// Cloning gives another handle on the same token and source (configure before cloning:
/// the `with_*` settings belong to the handle they are called on).
pub struct TokenCache<S: TokenSource> {
    shared: Arc<Shared<S>>,
    config: Arc<Config>,
}

impl<S: TokenSource> Clone for TokenCache<S> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S: TokenSource + fmt::Debug> fmt::Debug for TokenCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.entry.load();
        let current = current.as_ref();
        f.debug_struct("TokenCache")
            .field("source", &self.shared.source)
            .field("margin", &self.config.margin)
            .field("cached_expires_at", &current.map(|e| e.token.expires_at))
            .field("refresh_at", &current.map(|e| e.refresh_at))
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> TokenCache<S> {
    /// A cache over `source` with the system clock, [`DEFAULT_MARGIN`] without jitter, no
    /// floor, [`DEFAULT_LOAD_TIMEOUT`] and the default [`FailureBackoff`].
    pub fn new(source: S) -> Self {
        Self {
            shared: Arc::new(Shared {
                source,
                entry: ArcSwapOption::const_empty(),
                generation: AtomicU64::new(0),
                state: Mutex::new(State {
                    in_flight: None,
                    last_started: None,
                    failures: 0,
                    rng: fastrand::Rng::new(),
                }),
            }),
            config: Arc::new(Config {
                clock: Arc::new(SystemClock),
                margin: DEFAULT_MARGIN,
                margin_jitter: Duration::ZERO,
                floor: Duration::ZERO,
                load_timeout: DEFAULT_LOAD_TIMEOUT,
                backoff: FailureBackoff::default(),
            }),
        }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Reads time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.config_mut().clock = clock;
        self
    }

    /// Refreshes at most `margin` before expiry (see [`DEFAULT_MARGIN`]).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.config_mut().margin = margin;
        self
    }

    /// Adds a random part, up to `jitter`, to the margin of each token (still at most half
    /// its lifetime), so many processes that fetched together do not refresh together.
    pub fn with_margin_jitter(mut self, jitter: Duration) -> Self {
        self.config_mut().margin_jitter = jitter;
        self
    }

    /// Never starts a fetch less than `floor` after the previous one started, unless the
    /// token has expired or was invalidated.
    pub fn with_floor(mut self, floor: Duration) -> Self {
        self.config_mut().floor = floor;
        self
    }

    /// Gives up on a fetch after `timeout` (see [`DEFAULT_LOAD_TIMEOUT`]); the error is the
    /// source's [`TokenSource::timed_out`].
    pub fn with_load_timeout(mut self, timeout: Duration) -> Self {
        self.config_mut().load_timeout = timeout;
        self
    }

    /// How long to wait after a failed refresh while the old token is still valid.
    pub fn with_failure_backoff(mut self, backoff: FailureBackoff) -> Self {
        self.config_mut().backoff = backoff;
        self
    }

    /// Draws jitter from an RNG seeded with `seed` (for reproducible tests).
    pub fn with_rng_seed(self, seed: u64) -> Self {
        self.shared.state().rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// Puts `token` in the cache as if it had just been fetched (for a value known up
    /// front, such as credentials given in code).
    pub fn with_token(self, token: Expiring<S::Token>) -> Self {
        let now = self.config.clock.now();
        let mut state = self.shared.state();
        let entry = self.entry_for(Arc::new(token), now, &mut state);
        self.shared.publish(Some(entry));
        drop(state);
        self
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.shared.source
    }

    /// The cached token, valid or not, without fetching.
    pub fn cached(&self) -> Option<Arc<Expiring<S::Token>>> {
        self.shared.entry.load_full().map(|e| e.token.clone())
    }

    /// Marks `token` as no longer usable (say, the service answered 401 to it), so the next
    /// [`get`](Self::get) fetches a new one, floor or not. Does nothing if the cache already
    /// holds another token.
    pub fn invalidate(&self, token: &Arc<Expiring<S::Token>>) {
        // Under the state lock, so that a failure storing a new entry for the same token
        // cannot drop the mark.
        let _state = self.shared.state();
        if let Some(e) = self.shared.entry.load_full() {
            if Arc::ptr_eq(&e.token, token) {
                e.invalidated.store(true, Ordering::Release);
                self.shared.changed();
            }
        }
    }

    /// Drops the cached token.
    pub fn clear(&self) {
        let _state = self.shared.state();
        self.shared.publish(None);
    }

    /// A [`TokenReader`] over this cache: for a task that asks for the token often (see the
    /// [module docs](self#the-hottest-paths-a-tokenreader)).
    pub fn reader(&self) -> TokenReader<S> {
        TokenReader {
            cache: self.clone(),
            seen: None,
        }
    }

    /// The cached token if it is fresh: a lock-free load, one comparison and an `Arc` clone.
    fn fresh(&self, now: SystemTime) -> Option<Arc<Expiring<S::Token>>> {
        let guard = self.shared.entry.load();
        let e = guard.as_ref()?;
        e.is_fresh(now).then(|| e.token.clone())
    }

    /// An entry for a token fetched by a fetch that started at `state.last_started`.
    fn entry_for(
        &self,
        token: Arc<Expiring<S::Token>>,
        now: SystemTime,
        state: &mut State<S::Token>,
    ) -> Entry<S::Token> {
        let refresh_at = refresh_at(&self.config, &token, now, state);
        Entry {
            token,
            refresh_at,
            invalidated: AtomicBool::new(false),
        }
    }
}

/// When to refresh `token`, fetched at `fetched_at`: expiry less the (jittered) margin, at
/// most half the lifetime; not before the floor allows the next fetch; never after expiry.
fn refresh_at<T>(
    config: &Config,
    token: &Expiring<T>,
    fetched_at: SystemTime,
    state: &mut State<T>,
) -> Option<SystemTime> {
    let expires_at = token.expires_at?;
    let lifetime = expires_at
        .duration_since(fetched_at)
        .unwrap_or(Duration::ZERO);
    let margin = config
        .margin
        .saturating_add(random_up_to(config.margin_jitter, &mut state.rng))
        .min(lifetime / 2);
    let mut at = expires_at.checked_sub(margin).unwrap_or(expires_at);
    if let Some(floor_at) = state.last_started.and_then(|t| t.checked_add(config.floor)) {
        at = at.max(floor_at);
    }
    Some(at.min(expires_at))
}

impl<S: TokenSource + 'static> TokenCache<S> {
    /// A valid token: from memory when fresh; when stale but valid, the cached token at
    /// once while one detached fetch runs; when expired or invalidated, the outcome of the
    /// one fetch shared by all callers.
    pub async fn get(&self) -> Result<Arc<Expiring<S::Token>>> {
        let now = self.config.clock.now();
        if let Some(token) = self.fresh(now) {
            return Ok(token);
        }
        // Boxed, so that the future of a hit stays a few words (its state is moved when
        // pinned): the slow path's state is far larger and rarely needed.
        Box::pin(self.slow(now, false)).await
    }

    /// Like [`get`](Self::get), but a caller who finds the token due for refresh (and still
    /// valid) waits for the refresh instead of taking the old token. A failed refresh still
    /// gives the old token while it is valid. For callers that would rather have the newest
    /// token than an immediate answer (and for tests).
    pub async fn get_fresh(&self) -> Result<Arc<Expiring<S::Token>>> {
        let now = self.config.clock.now();
        if let Some(token) = self.fresh(now) {
            return Ok(token);
        }
        Box::pin(self.slow(now, true)).await
    }

    /// The slow path: start (or join) the one fetch; wait for it when there is no valid
    /// token, or when `wait_when_stale`.
    async fn slow(
        &self,
        now: SystemTime,
        wait_when_stale: bool,
    ) -> Result<Arc<Expiring<S::Token>>> {
        let mut outcome = {
            let mut state = self.shared.state();
            let current = self.shared.entry.load_full();
            let valid = current.as_ref().filter(|e| e.is_valid(now));
            if let Some(e) = valid {
                // Another caller may have stored a new token since we looked, or the
                // floor or a failure's backoff may hold the next fetch back.
                if e.is_fresh(now) {
                    return Ok(e.token.clone());
                }
                let rx = match &state.in_flight {
                    Some(rx) => rx.clone(),
                    None => self.start(&mut state, now),
                };
                if !wait_when_stale {
                    return Ok(e.token.clone());
                }
                rx
            } else {
                match &state.in_flight {
                    Some(rx) => rx.clone(),
                    None => self.start(&mut state, now),
                }
            }
        };
        let result = match outcome.wait_for(Option::is_some).await {
            Ok(done) => done.clone(),
            Err(_) => None,
        };
        result.unwrap_or_else(|| {
            Err(Error::transport(
                "the token fetch ended without an answer (it panicked, or its runtime shut down)",
                false,
            ))
        })
    }

    /// Starts the fetch in a task of its own, so no caller's cancellation cancels it.
    fn start(
        &self,
        state: &mut State<S::Token>,
        now: SystemTime,
    ) -> watch::Receiver<Outcome<S::Token>> {
        let (tx, rx) = watch::channel(None);
        state.in_flight = Some(rx.clone());
        state.last_started = Some(now);
        let cache = self.clone();
        tokio::spawn(async move {
            // Clears `in_flight` if the fetch panics, so later callers start a new one.
            let flight = FlightGuard {
                shared: &cache.shared,
                tx: &tx,
            };
            let timeout = cache.config.load_timeout;
            let result = match tokio::time::timeout(timeout, cache.shared.source.fetch()).await {
                Ok(result) => result,
                Err(_) => Err(cache.shared.source.timed_out(timeout)),
            };
            let outcome = cache.finish(result);
            drop(flight);
            tx.send_replace(Some(outcome));
        });
        rx
    }

    /// Stores a fetch's outcome; what waiters get.
    fn finish(&self, result: Result<Expiring<S::Token>>) -> Result<Arc<Expiring<S::Token>>> {
        let now = self.config.clock.now();
        let mut state = self.shared.state();
        state.in_flight = None;
        match result {
            Ok(token) => {
                state.failures = 0;
                let token = Arc::new(token);
                let entry = self.entry_for(token.clone(), now, &mut state);
                self.shared.publish(Some(entry));
                Ok(token)
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                let current = self.shared.entry.load_full();
                match current.filter(|e| e.is_valid(now)) {
                    Some(e) => {
                        let wait = self.config.backoff.delay(state.failures, &mut state.rng);
                        let retry_at = now.checked_add(wait).unwrap_or(now);
                        tracing::warn!(
                            error = %error,
                            failures = state.failures,
                            retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                            "token refresh failed; keeping the current token, still valid"
                        );
                        // The same token, its next refresh pushed back by the backoff (and
                        // the floor), never past its expiry.
                        let floor_at = state
                            .last_started
                            .and_then(|t| t.checked_add(self.config.floor));
                        let retry_at = floor_at.map_or(retry_at, |f| retry_at.max(f));
                        let refresh_at =
                            e.token.expires_at.map_or(retry_at, |exp| retry_at.min(exp));
                        let token = e.token.clone();
                        self.shared.publish(Some(Entry {
                            token: token.clone(),
                            refresh_at: Some(refresh_at),
                            invalidated: AtomicBool::new(false),
                        }));
                        Ok(token)
                    }
                    None => Err(error),
                }
            }
        }
    }
}

/// A view of a [`TokenCache`] for one task, whose hit writes no shared memory: it keeps the
/// token it last read and lends it out ([`get`](Self::get)) for as long as the cache has not
/// changed and the token is not due for refresh. One atomic load tells whether the cache
/// changed (a new token, an [invalidation](TokenCache::invalidate), a
/// [clear](TokenCache::clear)); the rest is the clock read and one comparison.
///
/// Everything else is the cache's: when the token is due, `get` goes through
/// [`TokenCache::get`] (refresh ahead in a detached fetch, one fetch for all callers, the
/// old token meanwhile). A reader is `Send` but takes `&mut self`: make one per task with
/// [`TokenCache::reader`], and keep sharing the cache.
pub struct TokenReader<S: TokenSource> {
    cache: TokenCache<S>,
    seen: Option<Seen<S::Token>>,
}

/// The token a reader holds, and until when it may serve it without asking.
struct Seen<T> {
    /// The cache's generation when the entry holding `token` was read.
    generation: u64,
    token: Arc<Expiring<T>>,
    /// When the token is due for refresh (`None`: never).
    fresh_until: Option<SystemTime>,
}

impl<S: TokenSource> TokenReader<S> {
    /// The cache this reader reads (to [`invalidate`](TokenCache::invalidate) a token the
    /// service refused, say).
    pub fn cache(&self) -> &TokenCache<S> {
        &self.cache
    }

    /// Whether the token held is still the cache's and not due at `now`.
    #[inline]
    fn holds_fresh(&self, now: SystemTime) -> bool {
        self.seen.as_ref().is_some_and(|seen| {
            seen.generation == self.cache.shared.generation.load(Ordering::Acquire)
                && seen.fresh_until.is_none_or(|t| now < t)
        })
    }
}

impl<S: TokenSource + 'static> TokenReader<S> {
    /// A valid token, as [`TokenCache::get`] gives it, lent until the next call (clone the
    /// `Arc` to keep it longer). A hit is one atomic load, the clock read and one
    /// comparison, made when `get` is called: the future of a hit is ready at once.
    pub fn get(&mut self) -> impl Future<Output = Result<&Arc<Expiring<S::Token>>>> + Send + '_ {
        let now = self.cache.config.clock.now();
        if self.holds_fresh(now) {
            let seen = self.seen.as_ref().expect("holds_fresh saw a token");
            ReaderGet::Hit(&seen.token)
        } else {
            ReaderGet::Miss(self.refill(now))
        }
    }

    /// Gets the token from the cache, and from its entry until when it may be served;
    /// boxed and kept out of line, so that a hit's future stays two words and its poll a
    /// few instructions.
    #[cold]
    #[inline(never)]
    fn refill(&mut self, now: SystemTime) -> BoxFuture<'_, Result<&Arc<Expiring<S::Token>>>> {
        Box::pin(async move {
            let token = match self.cache.fresh(now) {
                Some(token) => token,
                None => self.cache.slow(now, false).await?,
            };
            // The generation before the entry: a change in between only makes the next
            // call look again, never serve a token the cache no longer holds.
            let generation = self.cache.shared.generation.load(Ordering::Acquire);
            let entry = self.cache.shared.entry.load_full();
            let fresh_until = match entry {
                Some(e) if Arc::ptr_eq(&e.token, &token) && e.is_fresh(now) => e.refresh_at,
                // Stale (a refresh is running), invalidated meanwhile, or already
                // replaced: serve it this once, and ask the cache again next time.
                _ => Some(now),
            };
            let seen = self.seen.insert(Seen {
                generation,
                token,
                fresh_until,
            });
            Ok(&seen.token)
        })
    }
}

/// The future of [`TokenReader::get`]: ready at once on a hit, else the boxed refill.
enum ReaderGet<'a, T> {
    /// (Polled again after completion, it gives the same token again.)
    Hit(&'a Arc<Expiring<T>>),
    Miss(BoxFuture<'a, Result<&'a Arc<Expiring<T>>>>),
}

impl<'a, T> Future for ReaderGet<'a, T> {
    type Output = Result<&'a Arc<Expiring<T>>>;

    #[inline]
    fn poll(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            ReaderGet::Hit(token) => std::task::Poll::Ready(Ok(*token)),
            ReaderGet::Miss(refill) => refill.as_mut().poll(cx),
        }
    }
}

impl<S: TokenSource + fmt::Debug> fmt::Debug for TokenReader<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenReader")
            .field("cache", &self.cache)
            .field(
                "holds_expires_at",
                &self.seen.as_ref().map(|s| s.token.expires_at),
            )
            .finish_non_exhaustive()
    }
}

/// Clears the state's `in_flight` when a fetch task ends without [`TokenCache::finish`]
/// (a panic in the source), so the next caller starts a new fetch instead of waiting on a
/// dead one.
struct FlightGuard<'a, S: TokenSource> {
    shared: &'a Shared<S>,
    tx: &'a watch::Sender<Outcome<S::Token>>,
}

impl<S: TokenSource> Drop for FlightGuard<'_, S> {
    fn drop(&mut self) {
        let mut state = self.shared.state();
        if state
            .in_flight
            .as_ref()
            .is_some_and(|rx| rx.same_channel(&self.tx.subscribe()))
        {
            state.in_flight = None;
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
