//! Account keys for signed calls, shared by [`KmsClient`](crate::KmsClient) and
//! [`StsClient`](crate::StsClient).
//!
//! The keys sit in a [`SignerCache`]: fixed keys are one prepared [`NcpSigner`] forever;
//! temporary keys (STS, a server role) are reloaded ahead of expiry by the
//! [`CredentialsCache`], and each new key gets its HMAC key prepared once.
//!
//! NCP has no session-token header, so the gateway refuses an expired temporary key like
//! any unknown key: 401 with `errorCode` 200. When that happens with temporary keys (after
//! the transport's own clock-skew correction), the keys are invalidated once and the call
//! is signed with fresh keys and sent once more. That repeat is safe for every call, POSTs
//! included: a request the gateway refused for its authentication never reached the
//! service, so nothing was created.

use std::fmt;

use token_common::credentials::{CredentialsCache, NcpCredentials, SignerCache};
use token_common::signing::NcpSigner;

use crate::{error, HttpRequest, HttpResponse, Result, Transport};

/// The keys a client signs with.
#[derive(Clone)]
pub(crate) struct AccountKeys {
    cache: SignerCache<NcpCredentials, NcpSigner>,
    /// The access key of fixed keys (not a secret), for `Debug`.
    fixed_access_key: Option<String>,
}

impl fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AccountKeys");
        if let Some(ak) = &self.fixed_access_key {
            d.field("access_key", ak);
        }
        d.field("source", &self.cache.credentials().describe())
            .finish_non_exhaustive()
    }
}

impl AccountKeys {
    /// Keys given in code or read once from a static source; checked now, so a malformed
    /// key is refused at `build()`.
    pub(crate) fn fixed(credentials: NcpCredentials) -> Result<Self> {
        NcpSigner::new(&credentials)?;
        let fixed_access_key = Some(credentials.access_key().to_owned());
        Ok(Self {
            fixed_access_key,
            ..Self::refreshing(CredentialsCache::fixed(credentials))
        })
    }

    /// Keys from a cache that reloads them.
    pub(crate) fn refreshing(credentials: CredentialsCache<NcpCredentials>) -> Self {
        Self {
            cache: SignerCache::new(credentials, NcpSigner::new),
            fixed_access_key: None,
        }
    }

    /// Where the keys come from, for messages.
    pub(crate) fn describe(&self) -> String {
        self.cache.credentials().describe()
    }

    /// Signs and sends `req` (through the transport's retries and skew correction); a 401
    /// `errorCode` 200 for temporary keys invalidates them and sends once more with new
    /// ones. Returns the final answer whatever its status.
    pub(crate) async fn send(
        &self,
        transport: &Transport,
        req: HttpRequest,
    ) -> Result<HttpResponse> {
        let prepared = self.cache.get().await?;
        let resp = transport
            .send(req.clone(), prepared.signer(), Some(error::is_time_refusal))
            .await?;
        let temporary = prepared.credentials().expires_at.is_some();
        if !(temporary && error::is_time_refusal(&resp)) {
            return Ok(resp);
        }
        tracing::debug!(
            source = %self.describe(),
            "temporary keys refused (401, errorCode 200); loading new keys, once"
        );
        self.cache.invalidate(&prepared);
        let fresh = self.cache.get().await?;
        transport
            .send(req, fresh.signer(), Some(error::is_time_refusal))
            .await
    }
}
