//! [`BearerTokenSource`]: a SCIM bearer token kept valid, for a [`TokenCache`].

use std::sync::Mutex;
use std::time::Duration;

use token_common::cache::{Expiring, TokenCache, TokenSource};
use token_common::encoding::path_segment;
use token_common::transport::BoxFuture;
use token_common::Result;

use crate::client::IdentityStoreClient;
use crate::error::{limit_error, MAX_BEARER_TOKENS_PER_TENANT};
use crate::model::{BearerToken, EpochMillis};

/// Creates SCIM bearer tokens for one provisioning tenant, for a [`TokenCache`] that keeps
/// one valid and creates the next ahead of expiry.
///
/// # The two-token limit
/// Huawei lets a tenant hold **at most two bearer tokens at once, expired ones counting
/// until deleted** (a third create is refused). So before each create the source lists
/// the tenant's tokens and:
/// 1. deletes every expired one (they are of no use to anyone, and block the create);
/// 2. if two still exist, deletes the older token that *this source* created and has since
///    replaced — never the token it is serving, and never a token it did not create
///    (another connector's);
/// 3. if neither can go, fails with an error naming the limit
///    ([`is_bearer_token_limit`](crate::is_bearer_token_limit) says yes to it)
///    rather than sending a create that would be refused; the token being served stays
///    in use while it is valid.
///
/// A rotating source therefore keeps at most the token it serves plus the one before it,
/// and rotates any number of times.
///
/// # Deleting the token it replaced at once
/// [`delete_replaced`](Self::delete_replaced) is off by default, and that is a trade-off:
/// * **off** — a replaced token stays valid until the next rotation (or its expiry).
///   Identity-provider connectors still configured with it keep working for one more
///   rotation period.
/// * **on** — right after a new token is created, the one it replaces is deleted. Nothing
///   valid is left behind, but any connector still using the old token starts failing at
///   once, before it has been given the new one.
///
/// A failed delete right after a create is logged (as a `tracing` warning) and does not
/// fail the refresh.
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
    /// Ids of the tokens this source created (oldest first): the only ones it may delete
    /// to make room, and only once replaced.
    created: Mutex<Vec<String>>,
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
            created: Mutex::new(Vec::new()),
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

    /// Makes room for one more token under the tenant's two-token limit (see the type
    /// docs): deletes expired tokens, then, at the limit, the oldest token this source
    /// replaced; fails naming the limit when neither frees a place.
    async fn make_room(&self) -> Result<()> {
        let (store, tenant) = (&self.identity_store_id, &self.tenant_id);
        let listed = self.client.list_bearer_tokens(store, tenant).await?;
        let now = EpochMillis::from_system_time(self.client.service_now());
        let serving = self.current_token_id();
        let mut kept = Vec::with_capacity(listed.len());
        for token in listed {
            let expired = token.expiration_time <= now;
            if expired && serving.as_deref() != Some(token.token_id.as_str()) {
                tracing::debug!("deleting an expired SCIM bearer token of the tenant");
                // One that cannot be deleted (say, no permission) still counts; whether
                // that blocks the create is decided below.
                if let Err(e) = self.delete(&token.token_id).await {
                    tracing::warn!(error = %e, "could not delete an expired SCIM bearer token");
                    kept.push(token);
                }
            } else {
                kept.push(token);
            }
        }
        while kept.len() >= MAX_BEARER_TOKENS_PER_TENANT {
            let created = self
                .created
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let replaced = kept
                .iter()
                .enumerate()
                .filter(|(_, t)| serving.as_deref() != Some(t.token_id.as_str()))
                .filter(|(_, t)| created.contains(&t.token_id))
                .min_by_key(|(_, t)| t.creation_time)
                .map(|(i, _)| i);
            let Some(i) = replaced else {
                let holds_served = kept
                    .iter()
                    .any(|t| serving.as_deref() == Some(t.token_id.as_str()));
                return Err(limit_error(tenant, kept.len(), holds_served));
            };
            let old = kept.remove(i);
            tracing::debug!(
                "deleting the older replaced SCIM bearer token to stay within the limit"
            );
            self.delete(&old.token_id).await?;
        }
        Ok(())
    }

    /// Deletes a token of the tenant; one already gone (404) counts as deleted. A token
    /// that could not be deleted stays on the list of this source's own, to try again.
    async fn delete(&self, token_id: &str) -> Result<()> {
        let outcome = match self
            .client
            .delete_bearer_token(&self.identity_store_id, &self.tenant_id, token_id)
            .await
        {
            Err(e) if e.status() == Some(404) => Ok(()),
            other => other,
        };
        if outcome.is_ok() {
            self.created
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|id| id != token_id);
        }
        outcome
    }

    async fn create(&self) -> Result<Expiring<BearerToken>> {
        self.make_room().await?;
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
        self.created
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(token.token_id.clone());
        if self.delete_replaced {
            if let Some(old) = replaced.filter(|old| *old != token.token_id) {
                if let Err(e) = self.delete(&old).await {
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
