//! [`IdentityStoreClient`]: the bearer-token and provisioning-tenant calls.

use std::fmt;
use std::sync::Arc;

use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use token_common::credentials::{HuaweiCredentials, SignerCache};
use token_common::encoding::path_segment;
use token_common::signing::huawei::HuaweiAlgorithm;
use token_common::signing::HuaweiSigner;
use token_common::{Error, HttpRequest, HttpResponse, Result, Transport};
use url::Url;

use crate::builder::IdentityStoreClientBuilder;
use crate::error::{is_signature_refusal, is_time_refusal, service_error};
use crate::model::{
    BearerToken, BearerTokenInfo, BearerTokenList, ProvisioningTenant, ProvisioningTenantList,
};

/// A client of Huawei Cloud IAM Identity Center's IdentityCenterStore service: SCIM bearer
/// tokens and the provisioning tenants they belong to.
///
/// Every request is signed `SDK-HMAC-SHA256` (with `X-Sdk-Date`, `Host`, `X-Project-Id`,
/// `Content-Type: application/json`, and `X-Security-Token` for temporary credentials),
/// retried per the transport's policy and re-signed once after a clock-skew refusal.
///
/// Cheap to clone (clones share the connection pool and the measured clock skew); `Debug`
/// shows no secret.
#[derive(Clone)]
pub struct IdentityStoreClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The base URL, parsed once at `build()` (its path without a trailing `/`).
    pub(crate) endpoint: Url,
    pub(crate) project_id: String,
    pub(crate) algorithm: HuaweiAlgorithm,
    /// The credentials (static, or refreshed ahead of expiry) and the signer prepared once
    /// for each.
    pub(crate) signers: SignerCache<HuaweiCredentials, HuaweiSigner>,
    pub(crate) transport: Transport,
}

impl fmt::Debug for IdentityStoreClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStoreClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("project_id", &self.inner.project_id)
            .field("algorithm", &self.inner.algorithm)
            .field("credentials", &self.inner.signers)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

impl IdentityStoreClient {
    /// A builder; see [`IdentityStoreClientBuilder`].
    pub fn builder() -> IdentityStoreClientBuilder {
        IdentityStoreClientBuilder::default()
    }

    /// The base URL requests go to: the region's, the override variable's or the one
    /// given to [`endpoint`](IdentityStoreClientBuilder::endpoint), its path prefix kept
    /// without a trailing `/` (a bare host reads `https://host/`, as [`Url`] writes an
    /// empty path). Requests go to this URL with `/v1/identity-stores/…` appended.
    ///
    /// ```
    /// use huawei_identity_client::{HuaweiCredentials, IdentityStoreClient};
    ///
    /// let client = IdentityStoreClient::builder()
    ///     .endpoint("http://127.0.0.1:8080/huawei/")
    ///     .credentials(HuaweiCredentials::new("AK", "SK").with_project_id("p-1"))
    ///     .build()?;
    /// assert_eq!(client.endpoint().as_str(), "http://127.0.0.1:8080/huawei");
    /// # Ok::<(), huawei_identity_client::Error>(())
    /// ```
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The offset of this endpoint's server clock from the local one, in milliseconds,
    /// as measured after a refusal for time (0 until then). Kept per endpoint: a transport
    /// shared with other services keeps their offsets apart.
    pub fn clock_skew_ms(&self) -> i64 {
        self.inner.transport.clock_skew_ms_at(&self.inner.endpoint)
    }

    /// The service's time as best known: the local clock corrected by the skew measured
    /// for this endpoint (what the service's own times are compared with).
    pub(crate) fn service_now(&self) -> std::time::SystemTime {
        self.inner.transport.now_at(&self.inner.endpoint)
    }

    /// The project id sent as `X-Project-Id`.
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// The transport (its clock, its measured clock skew).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Creates a SCIM bearer token for a provisioning tenant:
    /// `POST /v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token`.
    ///
    /// The answer is the only time the token's value is shown; the service limits how
    /// many tokens a tenant may hold, so delete the ones no longer used.
    pub async fn create_bearer_token(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> Result<BearerToken> {
        let req = self.bearer_tokens_request(Method::POST, identity_store_id, tenant_id)?;
        self.send(req).await?.json()
    }

    /// Lists a tenant's bearer tokens (ids and times; never their values):
    /// `GET /v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token`.
    pub async fn list_bearer_tokens(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> Result<Vec<BearerTokenInfo>> {
        let req = self.bearer_tokens_request(Method::GET, identity_store_id, tenant_id)?;
        let list: BearerTokenList = self.send(req).await?.json()?;
        Ok(list.bearer_tokens)
    }

    /// Deletes a bearer token: `DELETE
    /// /v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token/{token_id}`.
    pub async fn delete_bearer_token(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<()> {
        let req = self.delete_bearer_token_request(identity_store_id, tenant_id, token_id)?;
        self.send(req).await?;
        Ok(())
    }

    /// Creates a provisioning tenant (a SCIM endpoint) in an identity store:
    /// `POST /v1/identity-stores/{identity_store_id}/provision-tenant`.
    pub async fn create_provisioning_tenant(
        &self,
        identity_store_id: &str,
    ) -> Result<ProvisioningTenant> {
        let req = self.provisioning_tenants_request(Method::POST, identity_store_id)?;
        self.send(req).await?.json()
    }

    /// Lists an identity store's provisioning tenants:
    /// `GET /v1/identity-stores/{identity_store_id}/provision-tenant`.
    pub async fn list_provisioning_tenants(
        &self,
        identity_store_id: &str,
    ) -> Result<Vec<ProvisioningTenant>> {
        let req = self.provisioning_tenants_request(Method::GET, identity_store_id)?;
        let list: ProvisioningTenantList = self.send(req).await?.json()?;
        Ok(list.provisioning_tenants)
    }

    /// Deletes a provisioning tenant (and with it its bearer tokens):
    /// `DELETE /v1/identity-stores/{identity_store_id}/tenant/{tenant_id}`.
    pub async fn delete_provisioning_tenant(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> Result<()> {
        let path = format!(
            "/v1/identity-stores/{}/tenant/{}",
            path_segment("identity_store_id", identity_store_id)?,
            path_segment("tenant_id", tenant_id)?
        );
        let req = self.request(
            Method::DELETE,
            &path,
            "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}",
        )?;
        self.send(req).await?;
        Ok(())
    }

    /// The create (`POST`) or list (`GET`) bearer-token request, unsigned.
    pub(crate) fn bearer_tokens_request(
        &self,
        method: Method,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> Result<HttpRequest> {
        let path = format!(
            "/v1/identity-stores/{}/tenant/{}/bearer-token",
            path_segment("identity_store_id", identity_store_id)?,
            path_segment("tenant_id", tenant_id)?
        );
        self.request(
            method,
            &path,
            "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token",
        )
    }

    /// The delete-bearer-token request, unsigned.
    pub(crate) fn delete_bearer_token_request(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
        token_id: &str,
    ) -> Result<HttpRequest> {
        let path = format!(
            "/v1/identity-stores/{}/tenant/{}/bearer-token/{}",
            path_segment("identity_store_id", identity_store_id)?,
            path_segment("tenant_id", tenant_id)?,
            path_segment("token_id", token_id)?
        );
        self.request(
            Method::DELETE,
            &path,
            "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token/{token_id}",
        )
    }

    /// The create (`POST`) or list (`GET`) provisioning-tenant request, unsigned.
    fn provisioning_tenants_request(
        &self,
        method: Method,
        identity_store_id: &str,
    ) -> Result<HttpRequest> {
        let path = format!(
            "/v1/identity-stores/{}/provision-tenant",
            path_segment("identity_store_id", identity_store_id)?
        );
        self.request(
            method,
            &path,
            "/v1/identity-stores/{identity_store_id}/provision-tenant",
        )
    }

    /// An unsigned request to `path` (already encoded). `Content-Type: application/json`
    /// is set although there is no body: the official SDK sends (and so signs) it.
    fn request(&self, method: Method, path: &str, template: &'static str) -> Result<HttpRequest> {
        // The base's own path (a prefix, or `/` for a bare host) without its trailing `/`,
        // then the call's path: the same text the client has always sent and signed.
        let base = self.inner.endpoint.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::invalid_input("endpoint", format!("makes an invalid URL: {e}")))?;
        let mut req = HttpRequest::new(method, url, template);
        req.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(req)
    }

    /// Where the client's credentials come from (for diagnostics), e.g. `instance metadata
    /// (http://169.254.169.254)` once the default chain has found them.
    pub fn credentials_source(&self) -> String {
        self.inner.signers.credentials().describe()
    }

    /// Signs with the current credentials, sends, then turns a non-2xx answer into
    /// [`Error::Service`].
    ///
    /// When temporary keys (with a security token) are refused with `APIGW.0301` "verify
    /// aksk signature fail" — not a time refusal, which the transport corrects — the keys
    /// may have been rotated or revoked at the source: they are invalidated once (one new
    /// load however many calls saw the refusal) and the call is sent once more with the
    /// new keys. This is safe for every call, creates included: the API gateway checks the
    /// signature before the request reaches the service, so a refused create created
    /// nothing. Permanent keys are not retried (loading them again gives the same keys).
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse> {
        let transport = &self.inner.transport;
        let mut retried = false;
        loop {
            // Fails before anything is sent when no valid credentials can be had.
            let prepared = self.inner.signers.get().await?;
            let response = transport
                .send(req.clone(), prepared.signer(), Some(is_time_refusal))
                .await?;
            if response.is_success() {
                return Ok(response);
            }
            let temporary = prepared.credentials().value.security_token().is_some()
                && prepared.credentials().expires_at.is_some();
            if !retried && temporary && is_signature_refusal(&response) {
                tracing::info!("temporary keys refused (APIGW.0301); loading new keys once");
                self.inner.signers.invalidate(&prepared);
                retried = true;
                continue;
            }
            return Err(service_error(&response, transport.clock().now()));
        }
    }
}

#[cfg(test)]
#[path = "client_vector_tests.rs"]
mod vector_tests;
