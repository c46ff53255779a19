//! Short-lived STS keys kept fresh from a sub-account key.

use token_common::credentials::{LoadCredentials, NcpCredentials};
use token_common::transport::BoxFuture;
use token_common::Expiring;

use super::model::check_duration;
use super::{StsClient, StsOptions};
use crate::Result;

/// A [`LoadCredentials`] source of temporary keys: each load creates a new STS key with
/// the [`StsClient`]'s (sub-account) key. Give it to
/// [`KmsClientBuilder::credentials_loader`](crate::KmsClientBuilder::credentials_loader)
/// (or a [`CredentialsCache`](token_common::credentials::CredentialsCache)), which loads
/// once for every caller ahead of `expireTime`, never more often than once a minute, and
/// keeps the old key while it is valid if STS fails.
///
/// MFA is not offered here: a one-time code cannot be replayed on the next load. Create an
/// MFA-authenticated key with [`StsClient::create_credentials`] and pass it as fixed
/// credentials instead.
#[derive(Debug, Clone)]
pub struct StsCredentialsProvider {
    client: StsClient,
    options: StsOptions,
}

impl StsCredentialsProvider {
    /// Keys of STS's default lifetime (3600 s).
    pub fn new(client: StsClient) -> Self {
        Self {
            client,
            options: StsOptions::new(),
        }
    }

    /// Asks for keys living `secs` seconds; refuses (field `duration_secs`) a value outside
    /// 600..=43200.
    pub fn with_duration_secs(mut self, secs: u32) -> Result<Self> {
        check_duration(secs)?;
        self.options.duration_secs = Some(secs);
        Ok(self)
    }
}

impl LoadCredentials<NcpCredentials> for StsCredentialsProvider {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<NcpCredentials>>> {
        Box::pin(async move {
            let created = self.client.create_credentials(&self.options).await?;
            let expires = created.expire_time;
            Ok(Expiring::new(NcpCredentials::from(created), Some(expires)))
        })
    }

    fn describe(&self) -> String {
        format!("NCP Secure Token Service ({})", self.client.endpoint())
    }
}
