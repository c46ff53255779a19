//! [`BearerTokenSource`]: a SCIM bearer token kept valid, for a [`TokenCache`].

use std::sync::Mutex;
use std::time::Duration;

use token_common::cache::{Expiring, TokenCache, TokenSource};
use token_common::encoding::path_segment;
use token_common::transport::BoxFuture;
use token_common::Result;

use crate::client::IdentityStoreClient;
use crate::model::BearerToken;

/// Creates SCIM bearer tokens for one provisioning tenant, for a [`TokenCache`] that keeps
/// one valid and creates the next ahead of expiry.
///
/// # Deleting the token it replaced
/// [`delete_replaced`](Self::delete_replaced) is off by default, and that is a trade-off:
/// * **off** — a replaced token stays valid until it expires. Identity-provider connectors
///   still configured with it keep working, but valid tokens linger, and a tenant may hold
///   only a few tokens at a time (creation fails once the limit is reached), so frequent
///   rotation can exhaust it; clean up with
///   [`list_bearer_tokens`](IdentityStoreClient::list_bearer_tokens) and
///   [`delete_bearer_token`](IdentityStoreClient::delete_bearer_token).
/// * **on** — right after a new token is created, the one it replaces is deleted. Nothing
///   valid is left behind and the limit is never approached, but any connector still
///   using the old token starts failing at once, before it has been given the new one.
///
/// A failed delete is logged (as a `tracing` warning) and does not fail the refresh.
///
/// ```no_run
/// # async fn run() -> token_common::Result<()> {
/// use huawei_identity_client::{BearerTokenSource, IdentityStoreClient};
///
/// let client = IdentityStoreClient::builder().region("cn-north-4").build()?;
/// let cache = BearerTokenSource::new(client, "d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e")?
///     .into_cache();
/// let token = cache.get().await?;
/// let header = format!("Bearer {}", token.value.token.expose_secret());
/// # let _ = header;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BearerTokenSource {
    client: IdentityStoreClient,
    identity_store_id: String,
    tenant_id: String,
    delete_replaced: bool,
    current_id: Mutex<Option<String>>,
}

impl BearerTokenSource {
    /// A source of tokens for `tenant_id` in `identity_store_id` (checked now, so a bad id
    /// fails here rather than at the first refresh).
    pub fn new(
        client: IdentityStoreClient,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> Result<Self> {
        path_segment("identity_store_id", identity_store_id)?;
        path_segment("tenant_id", tenant_id)?;
        Ok(Self {
            client,
            identity_store_id: identity_store_id.to_owned(),
            tenant_id: tenant_id.to_owned(),
            delete_replaced: false,
            current_id: Mutex::new(None),
        })
    }

    /// Whether to delete the token a new one replaces (default `false`; see the
    /// [type docs](Self) for the trade-off).
    #[must_use]
    pub fn delete_replaced(mut self, delete: bool) -> Self {
        self.delete_replaced = delete;
        self
    }

    /// A [`TokenCache`] over this source, reading time from the client's clock.
    pub fn into_cache(self) -> TokenCache<Self> {
        let clock = self.client.transport().clock().clone();
        TokenCache::new(self).with_clock(clock)
    }

    /// The id of the last token this source created, if any.
    pub fn current_token_id(&self) -> Option<String> {
        self.current_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    async fn create(&self) -> Result<Expiring<BearerToken>> {
        let started = self.client.transport().clock().now();
        let token = self
            .client
            .create_bearer_token(&self.identity_store_id, &self.tenant_id)
            .await?;
        // The expiry is measured on our clock: the token's lifetime counted from when we
        // asked for it, so a server clock that differs from ours neither keeps a dead token
        // nor refreshes a fresh one over and over.
        let lifetime = token.lifetime();
        let expires_at = if lifetime > Duration::ZERO {
            started + lifetime
        } else {
            token.expiration_time.as_system_time()
        };
        let replaced = self
            .current_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(token.token_id.clone());
        if self.delete_replaced {
            if let Some(old) = replaced.filter(|old| *old != token.token_id) {
                if let Err(e) = self
                    .client
                    .delete_bearer_token(&self.identity_store_id, &self.tenant_id, &old)
                    .await
                {
                    tracing::warn!(error = %e, "could not delete the replaced SCIM bearer token");
                }
            }
        }
        Ok(Expiring::new(token, Some(expires_at)))
    }
}

impl TokenSource for BearerTokenSource {
    type Token = BearerToken;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<BearerToken>>> {
        Box::pin(self.create())
    }
}
