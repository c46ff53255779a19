//! A refresh-ahead token cache.
//!
//! [`TokenCache`] wraps a [`TokenSource`] and hands out a valid token:
//! * a fresh token is served from memory (a lock-free load, one comparison and an `Arc`
//!   clone);
//! * ahead of expiry (see [`DEFAULT_MARGIN`]) exactly one caller fetches a new token while
//!   the others keep getting the old one, still valid;
//! * once the token has expired, callers wait for that one fetch;
//! * a failed refresh while the old token is still valid returns the old token; an expired
//!   token and a failed refresh return the error (to every caller that waited for it, with
//!   no second fetch);
//! * time is read from an injectable [`Clock`].

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

use crate::clock::{Clock, SystemClock};
use crate::error::Result;
use crate::transport::BoxFuture;

/// How long before expiry a token is refreshed, at most. The margin used is the smaller of
/// this and half the token's lifetime, so a 30-minute token is refreshed 5 minutes ahead and
/// a 1-minute token 30 seconds ahead.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);

/// A value with the time it stops being valid (`None`: it does not expire).
#[derive(Clone, PartialEq, Eq)]
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
}

struct Entry<T> {
    token: Arc<Expiring<T>>,
    /// When to start refreshing (`None`: never): expiry less the margin, computed once so
    /// that a cache hit is one comparison.
    refresh_at: Option<SystemTime>,
    invalidated: AtomicBool,
}

struct Failure {
    generation: u64,
    error: crate::Error,
}

/// A refresh-ahead cache over a [`TokenSource`]; see the [module docs](self).
pub struct TokenCache<S: TokenSource> {
    source: S,
    clock: Arc<dyn Clock>,
    margin: Duration,
    /// The current token: read without a lock on every hit, replaced whole on refresh.
    entry: ArcSwapOption<Entry<S::Token>>,
    refresh: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    last_failure: RwLock<Option<Failure>>,
}

impl<S: TokenSource + fmt::Debug> fmt::Debug for TokenCache<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expires_at = self.current().and_then(|e| e.token.expires_at);
        f.debug_struct("TokenCache")
            .field("source", &self.source)
            .field("margin", &self.margin)
            .field("cached_expires_at", &expires_at)
            .finish_non_exhaustive()
    }
}

impl<S: TokenSource> TokenCache<S> {
    /// A cache over `source` with the system clock and [`DEFAULT_MARGIN`].
    pub fn new(source: S) -> Self {
        Self {
            source,
            clock: Arc::new(SystemClock),
            margin: DEFAULT_MARGIN,
            entry: ArcSwapOption::const_empty(),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            last_failure: RwLock::new(None),
        }
    }

    /// Reads time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Refreshes at most `margin` before expiry (see [`DEFAULT_MARGIN`]).
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The cached token, valid or not, without fetching.
    pub fn cached(&self) -> Option<Arc<Expiring<S::Token>>> {
        self.current().map(|e| e.token.clone())
    }

    /// Marks `token` as no longer usable (say, the service answered 401 to it), so the next
    /// [`get`](Self::get) fetches a new one. Does nothing if the cache already holds
    /// another token.
    pub fn invalidate(&self, token: &Arc<Expiring<S::Token>>) {
        if let Some(e) = self.current() {
            if Arc::ptr_eq(&e.token, token) {
                e.invalidated.store(true, Ordering::Release);
            }
        }
    }

    /// Drops the cached token.
    pub fn clear(&self) {
        self.entry.store(None);
    }

    /// A valid token: from memory when fresh, else from one fetch shared by all callers.
    pub async fn get(&self) -> Result<Arc<Expiring<S::Token>>> {
        let now = self.clock.now();
        if let Some(token) = self.fresh(now) {
            return Ok(token);
        }
        self.refresh(now).await
    }

    /// The cached token if it is fresh: a lock-free load, one comparison and an `Arc` clone.
    fn fresh(&self, now: SystemTime) -> Option<Arc<Expiring<S::Token>>> {
        let guard = self.entry.load();
        let e = guard.as_ref()?;
        Self::is_fresh(e, now).then(|| e.token.clone())
    }

    /// The slow path: wait for (or run) the one refresh.
    async fn refresh(&self, now: SystemTime) -> Result<Arc<Expiring<S::Token>>> {
        let current = self.current();
        let seen = self.generation.load(Ordering::Acquire);
        let _guard = match self.refresh.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // Someone is refreshing: a still-valid token is good enough meanwhile.
                if let Some(e) = &current {
                    if Self::is_valid(e, now) {
                        return Ok(e.token.clone());
                    }
                }
                self.refresh.lock().await
            }
        };
        let now = self.clock.now();
        if let Some(e) = self.current() {
            // Another caller may have stored a new token since we looked.
            if Self::is_fresh(&e, now) {
                return Ok(e.token.clone());
            }
        }
        if self.generation.load(Ordering::Acquire) != seen {
            // A fetch finished while we waited: use its outcome rather than fetching again.
            if let Some(e) = self.current() {
                if Self::is_valid(&e, now) {
                    return Ok(e.token.clone());
                }
            }
            if let Some(f) = &*self.last_failure.read().unwrap_or_else(|e| e.into_inner()) {
                if f.generation > seen {
                    return Err(f.error.clone());
                }
            }
        }
        let result = self.source.fetch().await;
        let generation = self.generation.load(Ordering::Acquire) + 1;
        let outcome = match result {
            Ok(token) => {
                let token = Arc::new(token);
                let refresh_at = self.refresh_at(&token, self.clock.now());
                self.entry.store(Some(Arc::new(Entry {
                    token: token.clone(),
                    refresh_at,
                    invalidated: AtomicBool::new(false),
                })));
                Ok(token)
            }
            Err(error) => {
                *self.last_failure.write().unwrap_or_else(|e| e.into_inner()) = Some(Failure {
                    generation,
                    error: error.clone(),
                });
                let now = self.clock.now();
                match self.current() {
                    Some(e) if Self::is_valid(&e, now) => {
                        tracing::warn!(error = %error, "token refresh failed; the current token is still valid");
                        Ok(e.token.clone())
                    }
                    _ => Err(error),
                }
            }
        };
        self.generation.store(generation, Ordering::Release);
        outcome
    }

    fn current(&self) -> Option<Arc<Entry<S::Token>>> {
        self.entry.load_full()
    }

    /// Expiry less the margin: the smaller of the configured margin and half the lifetime
    /// the token had when it was fetched.
    fn refresh_at(&self, token: &Expiring<S::Token>, fetched_at: SystemTime) -> Option<SystemTime> {
        let expires_at = token.expires_at?;
        let lifetime = expires_at
            .duration_since(fetched_at)
            .unwrap_or(Duration::ZERO);
        Some(expires_at - self.margin.min(lifetime / 2))
    }

    fn is_fresh(e: &Entry<S::Token>, now: SystemTime) -> bool {
        !e.invalidated.load(Ordering::Acquire) && e.refresh_at.is_none_or(|t| now < t)
    }

    fn is_valid(e: &Entry<S::Token>, now: SystemTime) -> bool {
        !e.invalidated.load(Ordering::Acquire) && e.token.expires_at.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
