//! Keeping an access token fresh from a token set.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use token_common::cache::DEFAULT_MARGIN;
use token_common::clock::Clock;
use token_common::transport::BoxFuture;
use token_common::{Expiring, TokenCache, TokenSource};

use crate::{KmsClient, Result, SecretString, TokenSet, TokenSetOptions, Transport};

/// How long before the refresh token expires a new token set is created instead of
/// refreshing with it.
pub const DEFAULT_REFRESH_TOKEN_MARGIN: Duration = Duration::from_secs(600);

/// A [`TokenSource`] of access tokens for one key, for [`TokenCache`].
///
/// Each fetch:
/// * refreshes the access token with the held refresh token (token-authenticated, no
///   account signature) while that refresh token has more than the refresh-token margin
///   left ([`DEFAULT_REFRESH_TOKEN_MARGIN`], 10 minutes);
/// * otherwise — no set yet, the refresh token about to expire, or the service refusing it
///   (401/403, e.g. after the generator was replaced) — creates a new token set, signed
///   with the account's keys, and keeps its refresh token.
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
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    refresh_token: Option<(SecretString, Option<SystemTime>)>,
    /// An access token given with [`KmsTokenSource::with_token_set`], served once.
    seeded_access: Option<(SecretString, Option<SystemTime>)>,
}

impl fmt::Debug for KmsTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("KmsTokenSource")
            .field("key_tag", &self.key_tag)
            .field("options", &self.options)
            .field("refresh_token_margin", &self.refresh_token_margin)
            .field("holds_refresh_token", &state.refresh_token.is_some())
            .field(
                "refresh_token_expires_at",
                &state.refresh_token.as_ref().and_then(|r| r.1),
            )
            .finish_non_exhaustive()
    }
}

impl KmsTokenSource {
    /// A source for `key_tag`, creating sets with `options`; `options.access_token_hours`
    /// is also asked for on each refresh. Checks the key tag and the options.
    pub fn new(client: KmsClient, key_tag: &str, options: TokenSetOptions) -> Result<Self> {
        token_common::encoding::path_segment("key_tag", key_tag)?;
        options.check()?;
        Ok(Self {
            client,
            key_tag: key_tag.to_owned(),
            options,
            refresh_token_margin: DEFAULT_REFRESH_TOKEN_MARGIN,
            state: Mutex::new(State::default()),
        })
    }

    /// Starts from an existing token set (say, kept from an earlier run): its access
    /// token is served first while it has more than 5 minutes left, and its refresh token
    /// is used for refreshes.
    #[must_use]
    pub fn with_token_set(self, set: TokenSet) -> Self {
        {
            let mut state = self.state();
            state.refresh_token = Some((set.refresh_token, set.refresh_token_expires_at));
            state.seeded_access = Some((set.access_token, set.access_token_expires_at));
        }
        self
    }

    /// Creates a new set when the refresh token has this much or less left (default
    /// [`DEFAULT_REFRESH_TOKEN_MARGIN`]).
    #[must_use]
    pub fn with_refresh_token_margin(mut self, margin: Duration) -> Self {
        self.refresh_token_margin = margin;
        self
    }

    /// The key tag.
    pub fn key_tag(&self) -> &str {
        &self.key_tag
    }

    /// Wraps the source in a [`TokenCache`] reading the client's clock, corrected by the
    /// clock skew the transport has measured (token `exp`s are the service's times).
    pub fn into_cache(self) -> TokenCache<Self> {
        let clock = Arc::new(ServiceClock(self.client.transport().clone()));
        TokenCache::new(self).with_clock(clock)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn next_token(&self) -> Result<Expiring<SecretString>> {
        // The service's time as best known: its tokens' `exp`s are on its clock.
        let now = self.client.transport().now();
        let (seeded, usable_refresh) = {
            let mut state = self.state();
            let margin = self.refresh_token_margin;
            let usable = state
                .refresh_token
                .as_ref()
                .filter(|(_, exp)| exp.is_none_or(|t| now + margin < t))
                .map(|(token, _)| token.clone());
            (state.seeded_access.take(), usable)
        };
        if let Some((token, exp)) = seeded {
            if exp.is_none_or(|t| now + DEFAULT_MARGIN < t) {
                return Ok(Expiring::new(token, exp));
            }
        }
        if let Some(refresh_token) = usable_refresh {
            let hours = self.options.access_token_hours;
            match self
                .client
                .refresh_access_token(&self.key_tag, &refresh_token, hours)
                .await
            {
                Ok(access) => return Ok(Expiring::new(access.token, access.expires_at)),
                Err(e) if e.is_authentication() => {
                    tracing::info!(
                        error = %e,
                        "refresh token refused; creating a new token set"
                    );
                    self.state().refresh_token = None;
                }
                Err(e) => return Err(e),
            }
        }
        let set = self
            .client
            .create_token_set(&self.key_tag, self.options)
            .await?;
        self.state().refresh_token = Some((set.refresh_token, set.refresh_token_expires_at));
        Ok(Expiring::new(set.access_token, set.access_token_expires_at))
    }
}

/// The transport's clock corrected by the skew it measured: the service's time as best
/// known, against which the service's `exp` claims are compared.
#[derive(Debug)]
struct ServiceClock(Transport);

impl Clock for ServiceClock {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

impl TokenSource for KmsTokenSource {
    type Token = SecretString;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<SecretString>>> {
        Box::pin(self.next_token())
    }
}
