//! Keeping an access token fresh from a token set: refresh ahead of the access token's
//! expiry, renew ahead of the refresh token's, and hand every new refresh token to the
//! application before using it.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use token_common::cache::DEFAULT_MARGIN;
use token_common::clock::Clock;
use token_common::transport::BoxFuture;
use token_common::{Expiring, TokenCache, TokenSource};

use crate::error::is_token_refused;
use crate::{Error, KmsClient, Result, SecretString, TokenSet, TokenSetOptions, Transport};

/// The least time before the refresh token expires at which the set is renewed (see
/// [`KmsTokenSource`] for the full rule).
pub const DEFAULT_REFRESH_TOKEN_MARGIN: Duration = Duration::from_secs(600);

/// What a [`RenewHook`] may fail with.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// Called with every new token set — renewed, or created with account keys — before its
/// refresh token is used: persist the refresh token here (a secret store, a file), so a
/// restart picks up the newest one. An error stops the new set from being used: the held
/// one stays in use (a renewal does not revoke it) and the next fetch renews again.
pub type RenewHook = Arc<dyn Fn(&TokenSet) -> std::result::Result<(), HookError> + Send + Sync>;

/// A [`TokenSource`] of access tokens for one key, for [`TokenCache`].
///
/// The set is due for renewal once half of its refresh token's lifetime has passed (at
/// least [`DEFAULT_REFRESH_TOKEN_MARGIN`], 10 minutes, before it expires). Each fetch:
/// * **renews** the set when it is due (`PUT token-set`, authenticated by the refresh
///   token, asking for both validities); the new set goes to the [`RenewHook`] first, then
///   is used;
/// * otherwise **refreshes** the access token (`POST access-token`, `accessTokenHours`
///   only).
///
/// An access token is handed to the cache as expiring no later than the renewal is due, so
/// the first call after that moment renews: an application may sit idle for up to half a
/// refresh token's lifetime and still carry on. (A refresh token's lifetime is counted
/// from when the source got it — for one given to
/// [`from_refresh_token`](KmsTokenSource::from_refresh_token), from then — never from
/// claims the service does not document.)
///
/// When the service refuses the refresh token (401, or the KMS codes `UNAUTHORIZED` /
/// `FORBIDDEN`; say, the generator was replaced): a source built with account keys
/// ([`KmsTokenSource::new`]) creates a new set; one built from a refresh token alone
/// ([`KmsTokenSource::from_refresh_token`]) fails with [`Error::SessionExpired`], saying the
/// set must be minted again with account keys. The account-key source also creates the
/// first set.
///
/// The cache decides *when* to fetch (ahead of the access token's expiry); an unlimited
/// access token is fetched once.
///
/// ```no_run
/// # async fn run() -> ncp_kms_client::Result<()> {
/// use ncp_kms_client::{KmsClient, TokenSetOptions};
///
/// let client = KmsClient::builder().build()?;
/// let tokens = client.token_source("my-key-tag", TokenSetOptions::new())?;
/// let access = tokens.get().await?; // creates a set; later calls refresh ahead of expiry
/// let header_value = access.value.expose_secret();
/// # let _ = header_value;
/// # Ok(()) }
/// ```
pub struct KmsTokenSource {
    client: KmsClient,
    key_tag: String,
    options: TokenSetOptions,
    refresh_token_margin: Duration,
    /// Whether a new set may be created with account keys.
    may_create: bool,
    on_renew: Option<RenewHook>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    refresh_token: Option<Held>,
    /// An access token given with [`KmsTokenSource::with_token_set`], served once.
    seeded_access: Option<(SecretString, Option<SystemTime>)>,
}

/// The refresh token in use.
#[derive(Clone)]
struct Held {
    token: SecretString,
    expires_at: Option<SystemTime>,
    /// When to renew (`None`: never, an unlimited token).
    renew_at: Option<SystemTime>,
}

impl Held {
    /// A refresh token got (or given) at `now`: renewal is due half-way to its expiry, and
    /// at least `margin` before it.
    fn new(
        token: SecretString,
        expires_at: Option<SystemTime>,
        now: SystemTime,
        margin: Duration,
    ) -> Self {
        let renew_at = expires_at.map(|exp| {
            let lifetime = exp.duration_since(now).unwrap_or(Duration::ZERO);
            exp - margin.max(lifetime / 2)
        });
        Self {
            token,
            expires_at,
            renew_at,
        }
    }
}

impl fmt::Debug for KmsTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("KmsTokenSource")
            .field("key_tag", &self.key_tag)
            .field("options", &self.options)
            .field("refresh_token_margin", &self.refresh_token_margin)
            .field("creates_sets", &self.may_create)
            .field("has_renew_hook", &self.on_renew.is_some())
            .field("holds_refresh_token", &state.refresh_token.is_some())
            .field(
                "refresh_token_expires_at",
                &state.refresh_token.as_ref().and_then(|r| r.expires_at),
            )
            .field(
                "renew_at",
                &state.refresh_token.as_ref().and_then(|r| r.renew_at),
            )
            .finish_non_exhaustive()
    }
}

impl KmsTokenSource {
    /// A source for `key_tag` whose client signs with account keys: it creates the first
    /// set with `options` (and a new one if a refresh token is refused); `options` are
    /// also asked for on each refresh and renewal. Checks the key tag and the options.
    pub fn new(client: KmsClient, key_tag: &str, options: TokenSetOptions) -> Result<Self> {
        token_common::encoding::path_segment("key_tag", key_tag)?;
        options.check()?;
        Ok(Self {
            client,
            key_tag: key_tag.to_owned(),
            options,
            refresh_token_margin: DEFAULT_REFRESH_TOKEN_MARGIN,
            may_create: true,
            on_renew: None,
            state: Mutex::new(State::default()),
        })
    }

    /// A source that holds only a refresh token (the deployment the token model is for):
    /// it never reads or uses account keys, refreshes and renews with the refresh token,
    /// and fails with [`Error::SessionExpired`] once the service refuses it.
    pub fn from_refresh_token(
        client: KmsClient,
        key_tag: &str,
        refresh_token: SecretString,
        options: TokenSetOptions,
    ) -> Result<Self> {
        if refresh_token.is_empty() {
            return Err(Error::invalid_input("refresh_token", "must not be empty"));
        }
        let mut source = Self::new(client, key_tag, options)?;
        source.may_create = false;
        let expires_at = crate::model::expiry_of(&refresh_token);
        let now = source.service_now();
        source.state().refresh_token = Some(Held::new(
            refresh_token,
            expires_at,
            now,
            source.refresh_token_margin,
        ));
        Ok(source)
    }

    /// Starts from an existing token set (say, kept from an earlier run): its access
    /// token is served first while it has more than 5 minutes left, and its refresh token
    /// is used for refreshes.
    #[must_use]
    pub fn with_token_set(self, set: TokenSet) -> Self {
        let now = self.service_now();
        {
            let mut state = self.state();
            state.refresh_token = Some(Held::new(
                set.refresh_token,
                set.refresh_token_expires_at,
                now,
                self.refresh_token_margin,
            ));
            state.seeded_access = Some((set.access_token, set.access_token_expires_at));
        }
        self
    }

    /// Renews when the refresh token has this much or less left, at least (default
    /// [`DEFAULT_REFRESH_TOKEN_MARGIN`]). Applies to refresh tokens got from then on.
    #[must_use]
    pub fn with_refresh_token_margin(mut self, margin: Duration) -> Self {
        self.refresh_token_margin = margin;
        self
    }

    /// Hands every new token set to `hook` before its refresh token is used; see
    /// [`RenewHook`].
    #[must_use]
    pub fn on_renew(
        mut self,
        hook: impl Fn(&TokenSet) -> std::result::Result<(), HookError> + Send + Sync + 'static,
    ) -> Self {
        self.on_renew = Some(Arc::new(hook));
        self
    }

    #[must_use]
    pub(crate) fn with_hook(mut self, hook: Option<RenewHook>) -> Self {
        self.on_renew = hook;
        self
    }

    /// The key tag.
    pub fn key_tag(&self) -> &str {
        &self.key_tag
    }

    /// Wraps the source in a [`TokenCache`] reading the client's clock, corrected by the
    /// clock skew the transport has measured for the KMS endpoint (token `exp`s are the
    /// service's times).
    pub fn into_cache(self) -> TokenCache<Self> {
        let clock = Arc::new(ServiceClock {
            transport: self.client.transport().clone(),
            endpoint: self.client.endpoint().clone(),
        });
        TokenCache::new(self).with_clock(clock)
    }

    /// The KMS server's time as best known (the skew measured for its endpoint only).
    fn service_now(&self) -> SystemTime {
        self.client.transport().now_at(self.client.endpoint())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn next_token(&self) -> Result<Expiring<SecretString>> {
        // The service's time as best known: its tokens' `exp`s are on its clock.
        let now = self.service_now();
        let (seeded, held) = {
            let mut state = self.state();
            (state.seeded_access.take(), state.refresh_token.clone())
        };
        if let Some((token, exp)) = seeded {
            if exp.is_none_or(|t| now + DEFAULT_MARGIN < t) {
                return Ok(self.capped(token, exp, held.as_ref()));
            }
        }
        let Some(held) = held else {
            return self.create().await;
        };
        // Renew at the fetch the cache makes ahead of the capped expiry, not at the one after.
        let outcome = if held.renew_at.is_some_and(|t| now + DEFAULT_MARGIN >= t) {
            match self
                .client
                .renew_token_set(&self.key_tag, &held.token, self.options)
                .await
            {
                Ok(set) => return self.adopt(set, now),
                Err(e) => e,
            }
        } else {
            let hours = self.options.access_token_hours;
            match self
                .client
                .refresh_access_token(&self.key_tag, &held.token, hours)
                .await
            {
                Ok(access) => return Ok(self.capped(access.token, access.expires_at, Some(&held))),
                Err(e) => e,
            }
        };
        if !is_token_refused(&outcome) {
            return Err(outcome);
        }
        if !self.may_create {
            return Err(Error::SessionExpired {
                reason: format!(
                    "the refresh token for key `{}` was refused ({outcome}): mint a new token set \
                     with account keys (create_token_set) and deploy its refresh token",
                    self.key_tag
                ),
            });
        }
        tracing::info!(error = %outcome, "refresh token refused; creating a new token set");
        self.state().refresh_token = None;
        self.create().await
    }

    /// An access token as the cache should see it: expiring no later than the renewal is
    /// due, so the cache comes back in time to renew. An unlimited access token needs no
    /// refresh token, and is kept for good.
    fn capped(
        &self,
        token: SecretString,
        expires_at: Option<SystemTime>,
        held: Option<&Held>,
    ) -> Expiring<SecretString> {
        let renew_at = held.and_then(|h| h.renew_at);
        let expires_at = match (expires_at, renew_at) {
            (Some(a), Some(r)) => Some(a.min(r)),
            (a, _) => a,
        };
        Expiring::new(token, expires_at)
    }

    async fn create(&self) -> Result<Expiring<SecretString>> {
        if !self.may_create {
            return Err(Error::SessionExpired {
                reason: format!(
                    "no refresh token is held for key `{}`: mint a token set with account keys",
                    self.key_tag
                ),
            });
        }
        let now = self.service_now();
        let set = self
            .client
            .create_token_set(&self.key_tag, self.options)
            .await?;
        self.adopt(set, now)
    }

    /// Hands a new set to the hook, then keeps its refresh token and serves its access
    /// token.
    fn adopt(&self, set: TokenSet, fetched_at: SystemTime) -> Result<Expiring<SecretString>> {
        if let Some(hook) = &self.on_renew {
            hook(&set).map_err(|e| {
                Error::credentials(
                    "the renew hook",
                    format!(
                        "could not keep the new refresh token for key `{}` ({e}); the held one stays in use",
                        self.key_tag
                    ),
                )
            })?;
        }
        let held = Held::new(
            set.refresh_token,
            set.refresh_token_expires_at,
            fetched_at,
            self.refresh_token_margin,
        );
        let access = self.capped(set.access_token, set.access_token_expires_at, Some(&held));
        self.state().refresh_token = Some(held);
        Ok(access)
    }
}

/// The transport's clock corrected by the skew it measured for the KMS endpoint: the
/// service's time as best known, against which the service's `exp` claims are compared.
#[derive(Debug)]
struct ServiceClock {
    transport: Transport,
    endpoint: url::Url,
}

impl Clock for ServiceClock {
    fn now(&self) -> SystemTime {
        self.transport.now_at(&self.endpoint)
    }
}

impl TokenSource for KmsTokenSource {
    type Token = SecretString;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<SecretString>>> {
        Box::pin(self.next_token())
    }
}
