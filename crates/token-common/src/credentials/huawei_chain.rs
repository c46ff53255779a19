//! The Huawei Cloud default chain (DESIGN.md "Round 2 contracts"): environment → profile
//! file → pod identity (when `HC_CONTAINER_CREDENTIALS_FULL_URI` is set) → instance
//! metadata; `idp_id` + `id_token_file` in the environment or the profile select OIDC
//! federation there.

use std::fmt;
use std::sync::{Arc, OnceLock};

use super::huawei_federation::{
    iam_endpoint_for_region, FederationOrigin, HuaweiFederation, HUAWEICLOUD_SDK_IAM_ENDPOINT,
};
use super::huawei_pod::HC_CONTAINER_CREDENTIALS_FULL_URI;
use super::{
    Environment, HuaweiCredentials, HuaweiEnvironment, HuaweiInstanceMetadata, HuaweiPodIdentity,
    HuaweiProfile, Ini, LoadChain, LoadCredentials, ProvideCredentials,
};
use crate::cache::Expiring;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::transport::{BoxFuture, Transport};

/// Settings of [`huawei_default_chain`]: start from `default()` and set the fields you need
/// (more may be added, so the struct cannot be written as a literal outside this crate).
///
/// ```
/// use token_common::credentials::{huawei_default_chain, Environment, HuaweiChainOptions};
/// let mut options = HuaweiChainOptions::default();
/// options.environment = Environment::from_pairs([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")]);
/// options.region = Some("cn-north-4".into());
/// let chain = huawei_default_chain(options)?;
/// # Ok::<(), token_common::Error>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HuaweiChainOptions {
    /// Where variables (and `HOME`) are read.
    pub environment: Environment,
    /// The region, for the federation's IAM endpoint.
    pub region: Option<String>,
    /// The clock of the metadata session token and the IAM transport.
    pub clock: Arc<dyn Clock>,
}

impl Default for HuaweiChainOptions {
    fn default() -> Self {
        Self {
            environment: Environment::process(),
            region: None,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The Huawei Cloud default chain, in this order:
/// 1. the environment: OIDC federation when `HUAWEICLOUD_SDK_IDP_ID` and
///    `HUAWEICLOUD_SDK_ID_TOKEN_FILE` are set (IAM endpoint: `HUAWEICLOUD_SDK_IAM_ENDPOINT`,
///    else the region's), else `HUAWEICLOUD_SDK_AK` / `HUAWEICLOUD_SDK_SK`;
/// 2. the `[basic]` section of `~/.huaweicloud/credentials` (or
///    `HUAWEICLOUD_SDK_CREDENTIALS_FILE`): federation when it has `idp_id` and
///    `id_token_file` (IAM endpoint: its `iam_endpoint`, which wins, else as above), else
///    `ak` / `sk`;
/// 3. pod identity, when `HC_CONTAINER_CREDENTIALS_FULL_URI` is set;
/// 4. instance metadata (`HUAWEICLOUD_SDK_METADATA_ENDPOINT`, else
///    `http://169.254.169.254`).
///
/// It differs from the official SDK on purpose: a pod's own identity comes before its
/// node's agency, and a metadata service that does not answer means "not on ECS", so the
/// chain ends with an error listing every source rather than a connection error.
///
/// # Errors
/// A variable that is set but unusable (half of a pair, a bad URL), naming it.
pub fn huawei_default_chain(options: HuaweiChainOptions) -> Result<LoadChain<HuaweiCredentials>> {
    let env = &options.environment;
    let region = options.region.as_deref();
    let iam_transport = || {
        Transport::builder()
            .clock(options.clock.clone())
            .user_agent(concat!("cloud-tokens/", env!("CARGO_PKG_VERSION")))
            .build()
    };
    let mut chain = LoadChain::new();
    chain = match HuaweiFederation::from_env(env, region)? {
        Some(f) => chain.with(f.with_transport(iam_transport()?)),
        None => chain.with_provided(HuaweiEnvironment::with_environment(env.clone())),
    };
    chain = chain.with(ProfileSource {
        profile: HuaweiProfile::new().with_environment(env.clone()),
        environment: env.clone(),
        region: options.region.clone(),
        transport: iam_transport()?,
        federation: OnceLock::new(),
    });
    chain = match HuaweiPodIdentity::from_env(env)? {
        Some(p) => chain.with(p),
        None => chain.with(NotSet(HC_CONTAINER_CREDENTIALS_FULL_URI)),
    };
    chain = chain.with(HuaweiInstanceMetadata::from_env(env)?.with_clock(options.clock.clone()));
    Ok(chain)
}

/// A source whose variable is unset: listed in the chain's report, never found.
#[derive(Debug)]
struct NotSet(&'static str);

impl LoadCredentials<HuaweiCredentials> for NotSet {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        let e = Error::credentials_not_found(self.describe(), format!("{} is not set", self.0));
        Box::pin(std::future::ready(Err(e)))
    }

    fn describe(&self) -> String {
        "pod identity".to_owned()
    }
}

/// The profile file: federation when `[basic]` names `idp_id` and `id_token_file`, else
/// its AK/SK; read at load (so a file written later is found), the federation kept once
/// built.
struct ProfileSource {
    profile: HuaweiProfile,
    environment: Environment,
    region: Option<String>,
    transport: Transport,
    federation: OnceLock<HuaweiFederation>,
}

impl fmt::Debug for ProfileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileSource")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl ProfileSource {
    async fn load_once(&self) -> Result<Expiring<HuaweiCredentials>> {
        if let Some(f) = self.federation.get() {
            return f.load().await;
        }
        let name = self.profile.describe();
        let (Some(path), _) = self.profile.file() else {
            return Err(Error::credentials_not_found(name, "no home directory"));
        };
        if let Some(ini) = Ini::load(&path)? {
            if let Some(section) = ini.section("basic") {
                let value = |key: &str| {
                    section
                        .get(key)
                        .map(|v| v.expose_secret().trim().to_owned())
                        .filter(|v| !v.is_empty())
                };
                match (value("idp_id"), value("id_token_file")) {
                    (Some(idp), Some(file)) => {
                        let iam = match value("iam_endpoint") {
                            Some(e) => e,
                            None => match self.environment.get(HUAWEICLOUD_SDK_IAM_ENDPOINT) {
                                Some(e) => e,
                                None => iam_endpoint_for_region(self.region.as_deref()),
                            },
                        };
                        let f = HuaweiFederation::new(&idp, file, &iam, FederationOrigin::Profile)
                            .map_err(|e| Error::credentials(&name, e.to_string()))?
                            .with_transport(self.transport.clone());
                        let f = self.federation.get_or_init(|| f);
                        return f.load().await;
                    }
                    (Some(_), None) => {
                        return Err(Error::credentials(
                            name,
                            "section `[basic]` has `idp_id` but no `id_token_file`",
                        ))
                    }
                    (None, Some(_)) => {
                        return Err(Error::credentials(
                            name,
                            "section `[basic]` has `id_token_file` but no `idp_id`",
                        ))
                    }
                    (None, None) => {}
                }
                if value("ak").is_none() && value("sk").is_none() {
                    // A file holding only the project id (for metadata keys) is not a
                    // credentials source.
                    return Err(Error::credentials_not_found(
                        name,
                        "section `[basic]` has no ak/sk and no idp_id/id_token_file",
                    ));
                }
            }
        }
        match self.profile.try_provide()? {
            Some(c) => Ok(Expiring::new(c, None)),
            None => Err(Error::credentials_not_found(
                name,
                "the file does not exist",
            )),
        }
    }
}

impl LoadCredentials<HuaweiCredentials> for ProfileSource {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        Box::pin(self.load_once())
    }

    fn describe(&self) -> String {
        self.profile.describe()
    }
}

/// The project id when credentials do not carry one (metadata, pod identity,
/// federation): `HUAWEICLOUD_SDK_PROJECT_ID`, else `project_id` in the profile's
/// `[basic]` section. A profile that cannot be read gives `None` here (its error comes
/// from the chain).
pub fn huawei_project_id(env: &Environment) -> Option<String> {
    if let Some(p) = env.get("HUAWEICLOUD_SDK_PROJECT_ID") {
        return Some(p);
    }
    let profile = HuaweiProfile::new().with_environment(env.clone());
    let path = profile.file().0?;
    let ini = Ini::load(&path).ok()??;
    let v = ini.section("basic")?.get("project_id")?;
    let v = v.expose_secret().trim();
    (!v.is_empty()).then(|| v.to_owned())
}
