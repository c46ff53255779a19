//! `Domain.get_auth_info`: a domain's id from its name.

use serde::Deserialize;
use serde_json::{Map, Value};

/// What `POST /identity/domain/get-auth-info` answers for a domain name.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct DomainAuthInfo {
    /// The domain id, which `Token.issue` needs.
    pub domain_id: String,
    /// The domain name.
    #[serde(default)]
    pub name: Option<String>,
    /// Public metadata of the domain's auth (e.g. the external IdP's settings).
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// Public domain configuration.
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
    /// Anything else the server answered.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
