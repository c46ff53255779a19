//! Credentials that refresh themselves: [`LoadCredentials`] sources, the
//! [`CredentialsCache`] that keeps their answer fresh, and the [`SignerCache`] that prepares
//! one signer per credential.
//!
//! The cache is a [`TokenCache`] with settings for credentials (see
//! [`CredentialsCache::new`]): one load ahead of expiry for every caller, detached from the
//! caller that noticed; never more often than the floor (default 60 s) unless the keys
//! expired or the service refused them; a load timeout of its own; while the old keys are
//! still valid, a failed load keeps them (static stability) and is retried after a backoff.

use std::fmt::{self, Debug};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;

use super::ProvideCredentials;
use crate::cache::{Expiring, FailureBackoff, TokenCache, TokenSource};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::transport::BoxFuture;

/// The refresh margin of [`CredentialsCache::new`]: keys are reloaded at least this long
/// before they expire. Huawei metadata keys live an hour and rotate about 10 minutes before
/// expiry; with [`CREDENTIALS_MARGIN_JITTER`] a load falls 5 to 9 minutes before expiry,
/// after that rotation.
pub const CREDENTIALS_MARGIN: Duration = Duration::from_secs(300);

/// The random part added to [`CREDENTIALS_MARGIN`] per credential, so a fleet started
/// together does not reload together.
pub const CREDENTIALS_MARGIN_JITTER: Duration = Duration::from_secs(240);

/// The least time between two loads of [`CredentialsCache::new`], unless the keys expired
/// or were invalidated.
pub const CREDENTIALS_FLOOR: Duration = Duration::from_secs(60);

/// A source of credentials that expire: instance metadata, pod identity, federation, …
///
/// ```
/// use std::time::Duration;
/// use token_common::clock::{Clock, SystemClock};
/// use token_common::credentials::{CredentialsCache, LoadCredentials, NcpCredentials};
/// use token_common::transport::BoxFuture;
/// use token_common::{Expiring, Result};
///
/// #[derive(Debug)]
/// struct Vault;
///
/// impl LoadCredentials<NcpCredentials> for Vault {
///     fn load(&self) -> BoxFuture<'_, Result<Expiring<NcpCredentials>>> {
///         Box::pin(async {
///             let expires = SystemClock.now() + Duration::from_secs(3600);
///             Ok(Expiring::new(NcpCredentials::new("AK", "SK"), Some(expires)))
///         })
///     }
///     fn describe(&self) -> String {
///         "the vault".into()
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let cache = CredentialsCache::new(Vault);
/// assert_eq!(cache.get().await?.value.access_key(), "AK");
/// # Ok::<(), token_common::Error>(())
/// # }).unwrap();
/// ```
pub trait LoadCredentials<C>: Send + Sync + Debug {
    /// Fetches fresh credentials with their expiry; an error names the source.
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>>;

    /// Where it looks, for errors and the chain's report, e.g. "instance metadata
    /// (http://169.254.169.254)".
    fn describe(&self) -> String;
}

impl<C, L: LoadCredentials<C> + ?Sized> LoadCredentials<C> for Box<L> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        (**self).load()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<C, L: LoadCredentials<C> + ?Sized> LoadCredentials<C> for Arc<L> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        (**self).load()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Lets a static provider ([`ProvideCredentials`]: the environment, a profile file, a
/// chain of them) feed a [`CredentialsCache`]: its credentials never expire, so they are
/// read once. A provider that finds nothing gives [`Error::CredentialsNotFound`].
#[derive(Debug, Clone)]
pub struct ProvidedCredentials<P>(P);

impl<P> ProvidedCredentials<P> {
    /// Wraps a static provider.
    pub fn new(provider: P) -> Self {
        Self(provider)
    }
}

impl<C: Send + 'static, P: ProvideCredentials<C>> LoadCredentials<C> for ProvidedCredentials<P> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        // "Not configured" stays distinguishable, so a `LoadChain` moves on.
        let result = match self.0.try_provide() {
            Ok(Some(c)) => Ok(Expiring::new(c, None)),
            Ok(None) => Err(Error::credentials_not_found(
                self.0.describe(),
                "not configured",
            )),
            Err(e) => Err(e),
        };
        Box::pin(std::future::ready(result))
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Credentials fixed in code: the source behind [`CredentialsCache::fixed`].
struct Fixed<C>(C);

impl<C> Debug for Fixed<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fixed")
    }
}

impl<C: Clone + Send + Sync + 'static> LoadCredentials<C> for Fixed<C> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        Box::pin(std::future::ready(Ok(Expiring::new(self.0.clone(), None))))
    }

    fn describe(&self) -> String {
        "credentials given in code".to_owned()
    }
}

/// The [`TokenSource`] a [`CredentialsCache`] runs on.
struct Loader<C> {
    source: Box<dyn LoadCredentials<C>>,
}

impl<C> Debug for Loader<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.source.fmt(f)
    }
}

impl<C: Send + Sync + 'static> TokenSource for Loader<C> {
    type Token = C;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        self.source.load()
    }

    fn timed_out(&self, after: Duration) -> Error {
        Error::credentials(
            self.source.describe(),
            format!(
                "no credentials within {} s (the credentials cache's load timeout)",
                after.as_secs_f64()
            ),
        )
    }
}

/// Credentials kept fresh for every request of a client: a [`TokenCache`] over a
/// [`LoadCredentials`] source (see the [`credentials`](crate::credentials) module). Cheap to
/// clone; clones share the credentials.
pub struct CredentialsCache<C: Send + Sync + 'static> {
    cache: TokenCache<Loader<C>>,
}

impl<C: Send + Sync + 'static> Clone for CredentialsCache<C> {
    fn clone(&self) -> Self {
        Self {
            cache: self.cache.clone(),
        }
    }
}

impl<C: Send + Sync + 'static> Debug for CredentialsCache<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials themselves are left out: only where they come from and when
        // they expire.
        f.debug_struct("CredentialsCache")
            .field("source", &self.cache.source())
            .field("expires_at", &self.cache.cached().map(|c| c.expires_at))
            .finish_non_exhaustive()
    }
}

impl<C: Clone + Send + Sync + 'static> CredentialsCache<C> {
    /// A cache over `source`: reloads [`CREDENTIALS_MARGIN`] plus up to
    /// [`CREDENTIALS_MARGIN_JITTER`] before expiry (at most half the keys' lifetime), at
    /// most once per [`CREDENTIALS_FLOOR`] unless expired or invalidated, with the
    /// [default load timeout](crate::cache::DEFAULT_LOAD_TIMEOUT) and backoff.
    pub fn new(source: impl LoadCredentials<C> + 'static) -> Self {
        Self {
            cache: TokenCache::new(Loader {
                source: Box::new(source),
            })
            .with_margin(CREDENTIALS_MARGIN)
            .with_margin_jitter(CREDENTIALS_MARGIN_JITTER)
            .with_floor(CREDENTIALS_FLOOR),
        }
    }

    /// Static keys, never refreshed: every [`get`](Self::get) is a cache hit.
    pub fn fixed(credentials: C) -> Self {
        let cache = TokenCache::new(Loader {
            source: Box::new(Fixed(credentials.clone())),
        })
        .with_token(Expiring::new(credentials, None));
        Self { cache }
    }

    /// Reads time from `clock` (normally the client transport's).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            cache: self.cache.with_clock(clock),
        }
    }

    /// Never loads less than `floor` after the previous load (see [`CREDENTIALS_FLOOR`]),
    /// unless the keys expired or were invalidated.
    pub fn with_floor(self, floor: Duration) -> Self {
        Self {
            cache: self.cache.with_floor(floor),
        }
    }

    /// Gives up on a load after `timeout`, with an error naming the source.
    pub fn with_load_timeout(self, timeout: Duration) -> Self {
        Self {
            cache: self.cache.with_load_timeout(timeout),
        }
    }

    /// Reloads `margin` plus a random part up to `jitter` before expiry (at most half the
    /// keys' lifetime).
    pub fn with_buffer(self, margin: Duration, jitter: Duration) -> Self {
        Self {
            cache: self.cache.with_margin(margin).with_margin_jitter(jitter),
        }
    }

    /// How long to wait after a failed load while the old keys are still valid.
    pub fn with_failure_backoff(self, backoff: FailureBackoff) -> Self {
        Self {
            cache: self.cache.with_failure_backoff(backoff),
        }
    }

    /// Draws the jitter from an RNG seeded with `seed` (for reproducible tests).
    pub fn with_rng_seed(self, seed: u64) -> Self {
        Self {
            cache: self.cache.with_rng_seed(seed),
        }
    }

    /// Valid credentials: from memory, or from the one load shared by every caller (see
    /// [`TokenCache::get`]). Expired keys and a failing source give the source's error.
    pub async fn get(&self) -> Result<Arc<Expiring<C>>> {
        self.cache.get().await
    }

    /// Says the service refused `used` for a reason that is not about time (say, Huawei
    /// `APIGW.0301` "verify aksk signature fail" with temporary keys), so the next
    /// [`get`](Self::get) loads again, floor or not. Does nothing if the cache already holds
    /// other credentials (so many requests refused together cause one load).
    pub fn invalidate(&self, used: &Arc<Expiring<C>>) {
        self.cache.invalidate(used);
    }

    /// Where the credentials come from, for error messages.
    pub fn describe(&self) -> String {
        self.cache.source().source.describe()
    }
}

/// What a request is signed with: the credentials and the signer prepared from them.
pub struct PreparedSigner<C, S> {
    credentials: Arc<Expiring<C>>,
    signer: S,
}

impl<C, S> PreparedSigner<C, S> {
    /// The credentials the signer was prepared from.
    pub fn credentials(&self) -> &Arc<Expiring<C>> {
        &self.credentials
    }

    /// The signer, to hand to the transport.
    pub fn signer(&self) -> &S {
        &self.signer
    }
}

impl<C, S: Debug> Debug for PreparedSigner<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedSigner")
            .field("signer", &self.signer)
            .field("expires_at", &self.credentials.expires_at)
            .finish()
    }
}

type Prepare<C, S> = dyn Fn(&C) -> Result<S> + Send + Sync;

/// A [`CredentialsCache`] whose credentials each come with a signer prepared once (an
/// HMAC key is derived per credential, not per request). Cheap to clone.
///
/// A client resolves [`get`](Self::get) before it calls the transport and passes
/// [`PreparedSigner::signer`] to it; when the service refuses the keys it calls
/// [`invalidate`](Self::invalidate) with what it used.
pub struct SignerCache<C: Send + Sync + 'static, S> {
    credentials: CredentialsCache<C>,
    prepare: Arc<Prepare<C, S>>,
    prepared: Arc<ArcSwapOption<PreparedSigner<C, S>>>,
}

impl<C: Send + Sync + 'static, S> Clone for SignerCache<C, S> {
    fn clone(&self) -> Self {
        Self {
            credentials: self.credentials.clone(),
            prepare: self.prepare.clone(),
            prepared: self.prepared.clone(),
        }
    }
}

impl<C: Send + Sync + 'static, S> Debug for SignerCache<C, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerCache")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl<C: Clone + Send + Sync + 'static, S: Send + Sync + 'static> SignerCache<C, S> {
    /// Prepares a signer with `prepare` for each credential `credentials` hands out.
    pub fn new(
        credentials: CredentialsCache<C>,
        prepare: impl Fn(&C) -> Result<S> + Send + Sync + 'static,
    ) -> Self {
        Self {
            credentials,
            prepare: Arc::new(prepare),
            prepared: Arc::new(ArcSwapOption::const_empty()),
        }
    }

    /// The current credentials and their signer, prepared when the credentials are new.
    pub async fn get(&self) -> Result<Arc<PreparedSigner<C, S>>> {
        let credentials = self.credentials.get().await?;
        if let Some(p) = self.prepared.load().as_ref() {
            if Arc::ptr_eq(&p.credentials, &credentials) {
                return Ok(p.clone());
            }
        }
        let signer = (self.prepare)(&credentials.value)?;
        let p = Arc::new(PreparedSigner {
            credentials,
            signer,
        });
        self.prepared.store(Some(p.clone()));
        Ok(p)
    }

    /// Says the service refused the keys `used` was prepared from (see
    /// [`CredentialsCache::invalidate`]).
    pub fn invalidate(&self, used: &PreparedSigner<C, S>) {
        self.credentials.invalidate(&used.credentials);
    }

    /// The credentials cache underneath.
    pub fn credentials(&self) -> &CredentialsCache<C> {
        &self.credentials
    }
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod tests;
