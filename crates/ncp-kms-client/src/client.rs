//! The KMS token calls.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderName;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use token_common::encoding::path_segment;
use token_common::signing::NoSigning;
use token_common::{Expiring, Idempotency, TokenCache};
use url::Url;

use crate::account::AccountKeys;
use crate::builder::KmsClientBuilder;
use crate::model::{AccessTokenData, TokenSetData};
use crate::token_source::KmsTokenSource;
use crate::validity::RefreshBody;
use crate::{
    error, Error, HttpRequest, HttpResponse, KeyInfo, KeyPage, KmsAccessToken, Result,
    SecretString, TokenGenerator, TokenSet, TokenSetOptions, TokenValidity, Transport,
};

/// The header that carries a token on token-authenticated calls (no `Bearer` prefix).
pub const TOKEN_HEADER: &str = "x-ncp-ocapi-token";

/// The largest page of the key list.
pub const MAX_PAGE_SIZE: u32 = 200;

/// [`KmsClient::list_all_keys`] reads at most this many pages, whatever the service says.
const MAX_PAGES: u32 = 10_000;

/// A client of NCP Key Management Service's token calls.
///
/// Cheap to clone (the clones share the connection pool and the measured clock skew).
/// `Debug` shows the endpoint and the access key, never the secret key.
#[derive(Clone)]
pub struct KmsClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) auth: Auth,
    /// The KMS base URL (`…/kms/v1`), without a trailing `/`.
    pub(crate) base: Url,
}

/// How the client authenticates the calls that need it.
pub(crate) enum Auth {
    /// Account keys (fixed, or temporary ones kept fresh): every call may be signed.
    Account(AccountKeys),
    /// A refresh token for one key: crypto calls carry an access token kept fresh by the
    /// cache; account calls are refused before sending.
    Token(TokenMode),
    /// Neither (the client inside token mode's source): only the calls that take their
    /// token as an argument.
    Bare,
}

pub(crate) struct TokenMode {
    pub(crate) key_tag: String,
    pub(crate) cache: TokenCache<KmsTokenSource>,
}

impl fmt::Debug for KmsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("KmsClient");
        d.field("endpoint", &self.inner.base.as_str());
        match &self.inner.auth {
            Auth::Account(keys) => d.field("keys", keys),
            Auth::Token(t) => d.field("token_mode_key_tag", &t.key_tag),
            Auth::Bare => d.field("auth", &"none"),
        };
        d.finish_non_exhaustive()
    }
}

/// The success envelope, `{"code":"SUCCESS","data":…}`.
#[derive(Deserialize)]
struct Envelope<T> {
    #[serde(default)]
    code: Option<serde_json::Value>,
    data: Option<T>,
}

impl KmsClient {
    /// A builder: credentials from NCP's default chain (environment, then
    /// `~/.ncloud/configure`, then the server role) unless given, the public site unless
    /// another site or an endpoint is given.
    pub fn builder() -> KmsClientBuilder {
        KmsClientBuilder::new()
    }

    /// The KMS base URL in use, `/kms/v1` included.
    pub fn endpoint(&self) -> &Url {
        &self.inner.base
    }

    /// The offset of the KMS server's clock from the local one, in milliseconds, as
    /// measured after a signature refused for its time (0 until then). Kept per endpoint:
    /// a transport shared with other services keeps their offsets apart.
    pub fn clock_skew_ms(&self) -> i64 {
        self.inner.transport.clock_skew_ms_at(&self.inner.base)
    }

    /// The transport the client sends through.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Creates a token set for the key (`POST /keys/{keyTag}/token-set`), signed with the
    /// account's keys. Validities left out of `options` take the service's defaults (72
    /// hours for the access token, 2160 for the refresh token).
    pub async fn create_token_set(
        &self,
        key_tag: &str,
        options: TokenSetOptions,
    ) -> Result<TokenSet> {
        options.check()?;
        let req = self
            .request(
                Method::POST,
                key_tag,
                "token-set",
                "/keys/{keyTag}/token-set",
            )?
            .json(&options)?;
        let data: TokenSetData = self
            .send_data(req, self.signer("create_token_set")?)
            .await?;
        Ok(TokenSet::from_tokens(data.access_token, data.refresh_token))
    }

    /// Enables the key's token generator (`POST /keys/{keyTag}/token-generator`), so
    /// tokens can be issued for the key. Enabling an active generator changes nothing.
    pub async fn enable_token_generator(&self, key_tag: &str) -> Result<()> {
        let req = self.generator_request(Method::POST, key_tag)?;
        self.send_unit(req, "enable_token_generator").await
    }

    /// Reads the key's token generator (`GET /keys/{keyTag}/token-generator`).
    pub async fn get_token_generator(&self, key_tag: &str) -> Result<TokenGenerator> {
        let req = self.generator_request(Method::GET, key_tag)?;
        self.send_data(req, self.signer("get_token_generator")?)
            .await
    }

    /// Replaces the key's token generator (`PUT /keys/{keyTag}/token-generator`).
    ///
    /// **This discards every token issued so far for the key, irreversibly**: every
    /// access and refresh token in use stops working, and must be replaced by a new token
    /// set. Use it when a token may have leaked (tokens cannot be revoked one by one).
    pub async fn replace_token_generator(&self, key_tag: &str) -> Result<()> {
        let req = self.generator_request(Method::PUT, key_tag)?;
        self.send_unit(req, "replace_token_generator").await
    }

    /// Disables the key's token generator (`DELETE /keys/{keyTag}/token-generator`).
    ///
    /// **This discards every token issued so far for the key, irreversibly**, and no
    /// token can be issued until the generator is enabled again (which does not bring the
    /// old tokens back).
    pub async fn disable_token_generator(&self, key_tag: &str) -> Result<()> {
        let req = self.generator_request(Method::DELETE, key_tag)?;
        self.send_unit(req, "disable_token_generator").await
    }

    /// One page of the account's keys (`GET /keys?pageNo=…&pageSize=…`).
    ///
    /// `page_no` starts at 1; `page_size` is 1..=200.
    pub async fn list_keys(&self, page_no: u32, page_size: u32) -> Result<KeyPage> {
        if page_no == 0 {
            return Err(Error::invalid_input("page_no", "must be 1 or more"));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
            return Err(Error::invalid_input(
                "page_size",
                format!("must be from 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        let mut url = self.url(&["keys"]);
        // Fixed order: the query is signed as sent, not sorted.
        url.set_query(Some(&format!("pageNo={page_no}&pageSize={page_size}")));
        let req = HttpRequest::new(Method::GET, url, "/keys");
        self.send_data(req, self.signer("list_keys")?).await
    }

    /// Every key of the account, reading the pages in turn (200 keys a page). Stops at the
    /// last page the service announced, at an empty page, or after 10 000 pages.
    pub async fn list_all_keys(&self) -> Result<Vec<KeyInfo>> {
        let mut keys = Vec::new();
        let mut last_page: Option<u64> = None;
        for page_no in 1..=MAX_PAGES {
            let page = self.list_keys(page_no, MAX_PAGE_SIZE).await?;
            if page.keys.is_empty() {
                break;
            }
            let short = page.keys.len() < MAX_PAGE_SIZE as usize;
            keys.extend(page.keys);
            // The first answer fixes the bound, so a list that grows meanwhile still ends.
            let bound = *last_page.get_or_insert(page.total_page_no.unwrap_or(0));
            let done = if bound > 0 {
                u64::from(page_no) >= bound
            } else {
                short
            };
            if done {
                break;
            }
        }
        Ok(keys)
    }

    /// Gets a new access token with a refresh token (`POST /keys/{keyTag}/access-token`,
    /// authenticated by the refresh token in `x-ncp-ocapi-token`, not signed). `hours`
    /// left out takes the service's default, 72.
    pub async fn refresh_access_token(
        &self,
        key_tag: &str,
        refresh_token: &SecretString,
        hours: Option<TokenValidity>,
    ) -> Result<KmsAccessToken> {
        if let Some(v) = hours {
            v.check("access_token_hours")?;
        }
        let body = RefreshBody {
            access_token_hours: hours,
        };
        let req = self
            .request(
                Method::POST,
                key_tag,
                "access-token",
                "/keys/{keyTag}/access-token",
            )?
            .json(&body)?;
        let req = with_token(req, refresh_token)?;
        let data: AccessTokenData = self.send_data(req, Sign::Token).await?;
        Ok(KmsAccessToken::from_token(data.access_token))
    }

    /// Renews the token set with its refresh token (`PUT /keys/{keyTag}/token-set`,
    /// authenticated by the refresh token, not signed). The old set is not revoked.
    pub async fn renew_token_set(
        &self,
        key_tag: &str,
        refresh_token: &SecretString,
        options: TokenSetOptions,
    ) -> Result<TokenSet> {
        options.check()?;
        let req = self
            .request(
                Method::PUT,
                key_tag,
                "token-set",
                "/keys/{keyTag}/token-set",
            )?
            // A PUT, but each one mints a new set (the old stays valid): never sent twice
            // when the first may have been acted on.
            .with_idempotency(Idempotency::NonIdempotent)
            .json(&options)?;
        let req = with_token(req, refresh_token)?;
        let data: TokenSetData = self.send_data(req, Sign::Token).await?;
        Ok(TokenSet::from_tokens(data.access_token, data.refresh_token))
    }

    /// A cache that keeps an access token for the key fresh: it creates a token set on
    /// first use (signed with account keys), refreshes the access token with the refresh
    /// token ahead of expiry, and renews the set ahead of the refresh token's expiry. See
    /// [`KmsTokenSource`].
    pub fn token_source(
        &self,
        key_tag: &str,
        options: TokenSetOptions,
    ) -> Result<TokenCache<KmsTokenSource>> {
        Ok(KmsTokenSource::new(self.clone(), key_tag, options)?.into_cache())
    }

    /// `…/kms/v1/keys/{keyTag}/{action}` with the key tag as one encoded segment.
    fn request(
        &self,
        method: Method,
        key_tag: &str,
        action: &str,
        template: &'static str,
    ) -> Result<HttpRequest> {
        let tag = path_segment("key_tag", key_tag)?;
        Ok(HttpRequest::new(
            method,
            self.url(&["keys", &tag, action]),
            template,
        ))
    }

    fn generator_request(&self, method: Method, key_tag: &str) -> Result<HttpRequest> {
        self.request(
            method,
            key_tag,
            "token-generator",
            "/keys/{keyTag}/token-generator",
        )
    }

    /// The base URL with already-encoded segments appended, its own path kept as prefix.
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        let mut path = url.path().trim_end_matches('/').to_owned();
        for s in segments {
            path.push('/');
            path.push_str(s);
        }
        url.set_path(&path);
        url
    }

    /// Sends and turns a non-2xx answer into an error; a 2xx is returned unchecked.
    async fn send_checked_status(
        &self,
        req: HttpRequest,
        signer: Sign<'_>,
    ) -> Result<HttpResponse> {
        let t = &self.inner.transport;
        let resp = match signer {
            Sign::Account(keys) => keys.send(t, req).await?,
            Sign::Token => {
                t.send(req, &NoSigning, Some(error::is_time_refusal))
                    .await?
            }
        };
        if !resp.is_success() {
            return Err(error::from_response(&resp, t.clock().now()));
        }
        Ok(resp)
    }

    async fn send(&self, req: HttpRequest, signer: Sign<'_>) -> Result<HttpResponse> {
        let resp = self.send_checked_status(req, signer).await?;
        error::check_success(&resp)?;
        Ok(resp)
    }

    async fn send_data<T: DeserializeOwned>(
        &self,
        req: HttpRequest,
        signer: Sign<'_>,
    ) -> Result<T> {
        self.send_data_status(req, signer)
            .await
            .map(|(data, _)| data)
    }

    async fn send_data_status<T: DeserializeOwned>(
        &self,
        req: HttpRequest,
        signer: Sign<'_>,
    ) -> Result<(T, u16)> {
        let resp = self.send_checked_status(req, signer).await?;
        let status = resp.status;
        let no_data = || Error::decode(resp.status, "the answer has no `data`");
        // The common case in one parse: `"code":"SUCCESS"`. Anything else (another code,
        // an `error` object, a body that is not the envelope) takes the full check, which
        // builds the service error.
        if let Ok(Envelope {
            code: Some(serde_json::Value::String(code)),
            data,
        }) = resp.json::<Envelope<T>>()
        {
            if code == error::SUCCESS {
                return data.ok_or_else(no_data).map(|d| (d, status));
            }
        }
        error::check_success(&resp)?;
        let envelope: Envelope<T> = resp.json()?;
        envelope.data.ok_or_else(no_data).map(|d| (d, status))
    }

    async fn send_unit(&self, req: HttpRequest, call: &str) -> Result<()> {
        self.send(req, self.signer(call)?).await.map(drop)
    }

    /// The account signer, or an error (before sending) for a client without account keys.
    fn signer(&self, call: &str) -> Result<Sign<'_>> {
        match &self.inner.auth {
            Auth::Account(keys) => Ok(Sign::Account(keys)),
            Auth::Token(t) => Err(Error::credentials(
                "token mode",
                format!(
                    "this client holds only a refresh token (for key `{}`); `{call}` is signed \
                     with account keys: build a client with credentials for it",
                    t.key_tag
                ),
            )),
            Auth::Bare => Err(Error::credentials(
                "this client",
                format!("`{call}` is signed with account keys and the client has none"),
            )),
        }
    }

    /// In token mode, the access token in use (fetched or refreshed when due); `None` for
    /// a client with account keys.
    pub async fn access_token(&self) -> Result<Option<Arc<Expiring<SecretString>>>> {
        match &self.inner.auth {
            Auth::Token(t) => t.cache.get().await.map(Some),
            _ => Ok(None),
        }
    }

    /// Sends a crypto call: signed with account keys, or with the access token (a refused
    /// token is invalidated and the call sent once more with a new one). Returns the
    /// `data` and the answer's status.
    pub(crate) async fn crypto<B: Serialize, T: DeserializeOwned>(
        &self,
        key_tag: &str,
        action: &str,
        template: &'static str,
        body: &B,
    ) -> Result<(T, u16)> {
        let req = self
            .request(Method::POST, key_tag, action, template)?
            .json(body)?;
        let t = match &self.inner.auth {
            Auth::Account(keys) => return self.send_data_status(req, Sign::Account(keys)).await,
            Auth::Bare => {
                return Err(Error::credentials(
                    "this client",
                    format!("`{action}` needs account keys or a refresh token; it has neither"),
                ))
            }
            Auth::Token(t) => t,
        };
        if key_tag != t.key_tag {
            return Err(Error::invalid_input(
                "key_tag",
                format!(
                    "this client holds a refresh token for key `{}` only",
                    t.key_tag
                ),
            ));
        }
        let token = t.cache.get().await?;
        let first = self
            .send_data_status(with_token(req.clone(), &token.value)?, Sign::Token)
            .await;
        match first {
            Err(e) if error::is_token_refused(&e) => {
                tracing::debug!(error = %e, "access token refused; fetching a new one, once");
                t.cache.invalidate(&token);
                let token = t.cache.get().await?;
                self.send_data_status(with_token(req, &token.value)?, Sign::Token)
                    .await
            }
            other => other,
        }
    }
}

/// How a request is authenticated.
#[derive(Clone, Copy)]
pub(crate) enum Sign<'a> {
    /// Signature v2 with the account keys.
    Account(&'a AccountKeys),
    /// A token header already on the request; nothing to sign.
    Token,
}

fn with_token(req: HttpRequest, refresh_token: &SecretString) -> Result<HttpRequest> {
    if refresh_token.is_empty() {
        return Err(Error::invalid_input("refresh_token", "must not be empty"));
    }
    req.secret_header(
        HeaderName::from_static(TOKEN_HEADER),
        refresh_token,
        "refresh_token",
    )
}
