//! Credentials and the providers that find them.
//!
//! A provider looks in one place (the environment, a profile file, a value given in code);
//! a [`CredentialsChain`] tries several in order. Temporary credentials (instance
//! metadata, pod identity, federation) come from async [`LoadCredentials`] sources, tried in
//! order by a [`LoadChain`] and kept fresh by a [`CredentialsCache`]; [`metadata`] is the
//! HTTP they share. Each reads the places the provider's
//! official tools read, with the same variable names and precedence, so a machine already
//! set up for the official CLI or SDK works unchanged.
//!
//! A source that is missing lets a chain go on to the next one; a source that is present but
//! malformed stops it with an error naming the variable, file and line — never echoing a
//! secret.

mod chain;
mod env;
mod huawei;
mod huawei_chain;
mod huawei_federation;
mod huawei_metadata;
mod huawei_pod;
mod huawei_temporary;
mod ini;
pub mod metadata;
mod ncp;
mod ncp_server_role;
mod refresh;
mod setters;

use std::fmt::Debug;

use crate::error::{Error, Result};

pub use chain::LoadChain;
pub use env::Environment;
pub use huawei::{
    HuaweiCredentials, HuaweiEnvironment, HuaweiProfile, HuaweiProfileSection, HuaweiScope,
};
pub use huawei_chain::{huawei_default_chain, huawei_project_id, HuaweiChainOptions};
pub use huawei_federation::{
    iam_endpoint_for_region, FederationOrigin, HuaweiFederation, FEDERATION_DURATION_SECONDS,
    HUAWEICLOUD_SDK_IAM_ENDPOINT, HUAWEICLOUD_SDK_IDP_ID, HUAWEICLOUD_SDK_ID_TOKEN_FILE,
    IAM_REGIONS,
};
pub use huawei_metadata::{
    HuaweiInstanceMetadata, HUAWEI_METADATA_ENDPOINT, HUAWEI_METADATA_ENDPOINT_VAR,
};
pub use huawei_pod::{
    HuaweiPodIdentity, HC_CONTAINER_AUTHORIZATION_TOKEN_FILE, HC_CONTAINER_CREDENTIALS_FULL_URI,
};
pub use ini::{Ini, IniSection};
pub use metadata::MetadataClient;
pub use ncp::{NcpCredentials, NcpEnvironment, NcpProfile};
pub use ncp_server_role::{
    NcpServerRole, NCP_METADATA_ENDPOINT, NCP_METADATA_ENDPOINT_VARS,
    NCP_METADATA_TOKEN_TTL_SECONDS,
};
pub use refresh::{
    CredentialsCache, LoadCredentials, PreparedSigner, ProvidedCredentials, SignerCache,
    CREDENTIALS_FLOOR, CREDENTIALS_MARGIN, CREDENTIALS_MARGIN_JITTER,
};
pub use setters::CredentialsSetting;

/// Something that supplies credentials of type `C`.
pub trait ProvideCredentials<C>: Send + Sync + Debug {
    /// Looks for credentials: `Ok(None)` when this source is not configured at all, an
    /// error when it is configured but unusable.
    fn try_provide(&self) -> Result<Option<C>>;

    /// A short description of where this provider looks, for error messages.
    fn describe(&self) -> String;

    /// The credentials, or an error naming where they were looked for.
    fn provide(&self) -> Result<C> {
        self.try_provide()?
            .ok_or_else(|| Error::credentials(self.describe(), "no credentials found there"))
    }
}

/// Credentials given in code.
#[derive(Debug, Clone)]
pub struct StaticCredentials<C>(C);

impl<C> StaticCredentials<C> {
    /// Wraps credentials.
    pub fn new(credentials: C) -> Self {
        Self(credentials)
    }
}

impl<C: Clone + Send + Sync + Debug> ProvideCredentials<C> for StaticCredentials<C> {
    fn try_provide(&self) -> Result<Option<C>> {
        Ok(Some(self.0.clone()))
    }

    fn describe(&self) -> String {
        "credentials given in code".to_owned()
    }
}

/// Tries providers in order and returns the first credentials found.
///
/// A provider whose source is absent is skipped; one whose source is malformed stops the
/// chain with its error (a broken file is never silently passed over).
#[derive(Debug)]
pub struct CredentialsChain<C> {
    providers: Vec<Box<dyn ProvideCredentials<C>>>,
}

impl<C> CredentialsChain<C> {
    /// An empty chain.
    pub fn new() -> Self {
        Self {
            providers: Vec::new(),
        }
    }

    /// Appends a provider.
    pub fn with(mut self, provider: impl ProvideCredentials<C> + 'static) -> Self {
        self.providers.push(Box::new(provider));
        self
    }
}

impl<C> Default for CredentialsChain<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl CredentialsChain<NcpCredentials> {
    /// The NCP default: the environment, then the profile file `~/.ncloud/configure`.
    pub fn ncp_default() -> Self {
        Self::new()
            .with(NcpEnvironment::new())
            .with(NcpProfile::new())
    }
}

impl CredentialsChain<HuaweiCredentials> {
    /// The Huawei Cloud default: the environment, then the `[basic]` section of
    /// `~/.huaweicloud/credentials`.
    pub fn huawei_default() -> Self {
        Self::new()
            .with(HuaweiEnvironment::new())
            .with(HuaweiProfile::new())
    }
}

impl<C: Send + Sync + Debug> ProvideCredentials<C> for CredentialsChain<C> {
    fn try_provide(&self) -> Result<Option<C>> {
        for p in &self.providers {
            if let Some(c) = p.try_provide()? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = self.providers.iter().map(|p| p.describe()).collect();
        parts.join(", then ")
    }
}
