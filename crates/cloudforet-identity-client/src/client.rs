//! The client: issue, grant, MFA and domain lookup.

use std::fmt;
use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use token_common::secret::REDACTED;
use token_common::signing::NoSigning;
use token_common::{
    Error, HttpRequest, HttpResponse, Idempotency, Result, SecretString, Transport,
};
use url::Url;

use crate::builder::{IdentityClientBuilder, RouteStyle};
use crate::domain::DomainAuthInfo;
use crate::error::{from_response, is_authenticate_failure};
use crate::grant::{GrantRequest, GrantTokenInfo};
use crate::issue::{IssueRequest, TokenInfo};
use crate::session::{LoginOptions, Session};

/// A Cloudforet identity client: `Token.issue`, `Token.grant`, the MFA steps and
/// `Domain.get_auth_info`. Cheap to clone (the state is shared).
///
/// The calls are unauthenticated, so nothing is signed. Each call validates its input
/// before sending and maps the server's error bodies to [`Error`].
#[derive(Clone)]
pub struct IdentityClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) endpoint: Url,
    pub(crate) base_path: String,
    pub(crate) route: RouteStyle,
    pub(crate) transport: Transport,
}

impl fmt::Debug for IdentityClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityClient")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("route_style", &self.inner.route)
            .finish_non_exhaustive()
    }
}

impl IdentityClient {
    /// A builder; [`endpoint`](IdentityClientBuilder::endpoint) is required.
    ///
    /// ```
    /// use cloudforet_identity_client::{IdentityClient, RouteStyle};
    /// let client = IdentityClient::builder()
    ///     .endpoint("https://console-v2.api.example.com")
    ///     .route_style(RouteStyle::Console)
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn builder() -> IdentityClientBuilder {
        IdentityClientBuilder::default()
    }

    /// The console-api-v2 (or grpc-gateway) base URL requests go to, path prefix included,
    /// as every cloud-tokens client gives its own (`KmsClient::endpoint` in NCP's).
    ///
    /// ```
    /// use cloudforet_identity_client::IdentityClient;
    /// let client = IdentityClient::builder()
    ///     .endpoint("https://proxy.example.com/cloudforet")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(client.endpoint().as_str(), "https://proxy.example.com/cloudforet");
    /// ```
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The route style in use.
    pub fn route_style(&self) -> RouteStyle {
        self.inner.route
    }

    /// The transport the client sends through (its clock dates session tokens).
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Logs in and returns the [`Session`] that keeps an access token valid from then on:
    /// [`Session::login`]`(&client, options)`, as a method of the client. This is
    /// Cloudforet's `client.token_source(..)` (NCP's and Huawei's give a `TokenCache`): the
    /// one thing a long-running program holds. It is `async` and logs in at once because
    /// the refresh token every later grant needs comes from the login.
    ///
    /// The options are checked before anything is sent ([`Error::InvalidInput`] naming
    /// the field, e.g. `workspace_id` for a WORKSPACE scope without one).
    ///
    /// ```no_run
    /// # async fn run() -> cloudforet_identity_client::Result<()> {
    /// use cloudforet_identity_client::{Credentials, IdentityClient, LoginOptions};
    ///
    /// let client = IdentityClient::builder()
    ///     .endpoint("https://console-v2.api.example.com")
    ///     .build()?;
    /// let session = client
    ///     .login(LoginOptions::new(Credentials::local("alice", "pw"), "domain-123"))
    ///     .await?;
    /// let token = session.access_token().await?;
    /// let header = format!("Bearer {}", token.secret().expose_secret());
    /// # let _ = header;
    /// # Ok(()) }
    /// ```
    pub async fn login(&self, options: LoginOptions) -> Result<Session> {
        Session::login(self, options).await
    }

    /// Logs in: `Token.issue`.
    ///
    /// When the user has MFA on, the server answers an [`MfaRequired`](crate::error::MfaRequired)
    /// ([`error::mfa_required`](crate::error::mfa_required) reads it from the error) (and e-mails a
    /// code for EMAIL MFA); finish with [`complete_mfa`](Self::complete_mfa).
    ///
    /// With [`IssueRequest::otp_secret`], an answer that OTP MFA is required is completed
    /// here: the TOTP code is computed on the transport's clock (waiting for the next step
    /// when the current one ends within [`LATE_IN_STEP`](crate::LATE_IN_STEP)) and the MFA
    /// step is sent once.
    pub async fn issue(&self, request: &IssueRequest) -> Result<TokenInfo> {
        request.validate()?;
        let resp = self.post(Route::Issue, &request.to_json()).await?;
        match (self.decode(&resp, &request.secret_values()), request.otp()) {
            (Err(e), Some(secret))
                if request.auth_type() != crate::AuthType::Mfa
                    && crate::error::mfa_required(&e)
                        .is_some_and(|m| m.mfa_type == crate::MfaType::Otp) =>
            {
                let clock = self.inner.transport.clock().clone();
                let code = secret.code_for_sending(clock.as_ref()).await?;
                let mfa = request.to_mfa(Some(code));
                let resp = self.post(Route::Issue, &mfa.to_json()).await?;
                self.decode(&resp, &mfa.secret_values())
            }
            (result, _) => result,
        }
    }

    /// The second step of an MFA login: the same request with auth type `MFA` and the code.
    pub async fn complete_mfa(
        &self,
        request: &IssueRequest,
        verify_code: impl Into<SecretString>,
    ) -> Result<TokenInfo> {
        self.issue(&request.to_mfa(Some(verify_code.into()))).await
    }

    /// Asks the server to send a new MFA code for the same request (auth type `MFA`, no
    /// code). The server answers 401 `ERROR_AUTHENTICATE_FAILURE` after sending it, which is
    /// taken as success; any other answer is an error.
    pub async fn resend_mfa_code(&self, request: &IssueRequest) -> Result<()> {
        let request = request.to_mfa(None);
        request.validate()?;
        let resp = self.post(Route::Issue, &request.to_json()).await?;
        if resp.is_success() {
            return Err(Error::decode(
                resp.status,
                "expected 401 ERROR_AUTHENTICATE_FAILURE after asking for a new MFA code, got a success",
            ));
        }
        let err = redact(
            from_response(&resp, self.inner.route, self.inner.transport.now()),
            &request.secret_values(),
        );
        if is_authenticate_failure(&err) {
            Ok(())
        } else {
            Err(err)
        }
    }

    /// A scoped access token: `Token.grant`.
    pub async fn grant(&self, request: &GrantRequest) -> Result<GrantTokenInfo> {
        request.validate()?;
        let resp = self.post(Route::Grant, &request.to_json()).await?;
        self.decode(&resp, &[request.token_value()])
    }

    /// The domain id (and public auth settings) for a domain name:
    /// `Domain.get_auth_info`.
    pub async fn domain_auth_info(&self, name: &str) -> Result<DomainAuthInfo> {
        if name.trim().is_empty() {
            return Err(Error::invalid_input("name", "must not be empty"));
        }
        let body = serde_json::json!({ "name": name });
        let resp = self.post(Route::DomainAuthInfo, &body).await?;
        self.decode(&resp, &[])
    }

    async fn post(&self, route: Route, body: &Value) -> Result<HttpResponse> {
        let template = route.template(self.inner.route);
        let mut url = self.inner.endpoint.clone();
        url.set_path(&format!("{}{}", self.inner.base_path, template));
        let req = HttpRequest::new(Method::POST, url, template)
            .with_idempotency(route.idempotency())
            .json(body)?;
        self.inner.transport.send(req, &NoSigning, None).await
    }

    /// Decodes a success; maps an error answer, with any secret of the request that the
    /// server echoed (a wrong verify code is quoted back) replaced by a redaction.
    fn decode<T: DeserializeOwned>(&self, resp: &HttpResponse, secrets: &[&str]) -> Result<T> {
        if resp.is_success() {
            resp.json()
        } else {
            Err(redact(
                from_response(resp, self.inner.route, self.inner.transport.now()),
                secrets,
            ))
        }
    }
}

/// Replaces the request's secrets in a service error's text. Secrets shorter than four
/// characters are left alone: replacing them would mangle ordinary words and they reveal
/// little.
fn redact(mut err: Error, secrets: &[&str]) -> Error {
    if let Error::Service(e) = &mut err {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            e.message = e.message.replace(secret, REDACTED);
            if let Some(d) = &mut e.details {
                *d = d.replace(secret, REDACTED);
            }
        }
    }
    err
}

/// The three routes, each with its path in either style (no path parameters: the paths
/// double as tracing templates).
#[derive(Clone, Copy)]
enum Route {
    Issue,
    Grant,
    DomainAuthInfo,
}

impl Route {
    /// Issue (a login: failures count towards the lock-out, an MFA code is used up) and
    /// grant (mints a token) are never sent twice when the first may have been acted on;
    /// the domain lookup only reads.
    fn idempotency(self) -> Idempotency {
        match self {
            Route::Issue | Route::Grant => Idempotency::NonIdempotent,
            Route::DomainAuthInfo => Idempotency::Idempotent,
        }
    }

    fn template(self, style: RouteStyle) -> &'static str {
        match (style, self) {
            (RouteStyle::Console, Route::Issue) => "/identity/token/issue",
            (RouteStyle::Console, Route::Grant) => "/identity/token/grant",
            (RouteStyle::Console, Route::DomainAuthInfo) => "/identity/domain/get-auth-info",
            (RouteStyle::V2Gateway, Route::Issue) => "/identity/v2/token/issue",
            (RouteStyle::V2Gateway, Route::Grant) => "/identity/v2/token/grant",
            (RouteStyle::V2Gateway, Route::DomainAuthInfo) => "/identity/v2/domain/get-auth-info",
        }
    }
}
