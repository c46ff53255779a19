//! Building an [`IdentityClient`].

use std::sync::Arc;

use token_common::transport::{parse_endpoint, TransportOptions};
use token_common::{Error, Result};

use crate::client::{IdentityClient, Inner};

/// Which URL paths the server serves.
///
/// Deployed Cloudforet serves REST through console-api-v2 at `/{service}/{resource}/{verb}`
/// (`/identity/token/issue`) and answers 404 to the proto annotation's `/identity/v2/…`;
/// only a grpc-gateway build serves the `/v2/` paths. A 404 from the router says in its
/// message that the other style may be the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RouteStyle {
    /// console-api-v2: `/identity/token/issue`, `/identity/token/grant`,
    /// `/identity/domain/get-auth-info` (the default).
    #[default]
    Console,
    /// grpc-gateway, as the proto's HTTP annotation says: `/identity/v2/token/issue`, …
    V2Gateway,
}

/// Builds an [`IdentityClient`]; see [`IdentityClient::builder`].
#[derive(Debug, Default)]
#[must_use]
pub struct IdentityClientBuilder {
    endpoint: Option<String>,
    route_style: RouteStyle,
    transport: TransportOptions,
}

impl IdentityClientBuilder {
    /// The console-api-v2 base URL, e.g. `https://console-v2.api.example.com` (required).
    /// A path prefix is kept (`https://proxy.example.com/cloudforet`).
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    /// Which paths the server serves (default [`RouteStyle::Console`]).
    pub fn route_style(mut self, style: RouteStyle) -> Self {
        self.route_style = style;
        self
    }

    token_common::transport_setters!();

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<IdentityClient> {
        let raw = self
            .endpoint
            .as_deref()
            .ok_or_else(|| Error::invalid_input("endpoint", "is required"))?;
        let transport = self.transport.build(crate::USER_AGENT)?;
        let endpoint = parse_endpoint("endpoint", raw, self.transport.allows_insecure_http())?;
        Ok(IdentityClient {
            inner: Arc::new(Inner {
                base_path: endpoint.path().trim_end_matches('/').to_owned(),
                endpoint,
                route: self.route_style,
                transport,
            }),
        })
    }
}
