//! [`LoadChain`]: the async credentials chain over [`LoadCredentials`] sources, the one a
//! [`CredentialsCache`](super::CredentialsCache) runs on by default.
//!
//! Every cloud's default chain is one of these (Huawei: environment → profile → pod
//! identity → instance metadata; NCP: environment → configure file → server role); build
//! another with [`LoadChain::new`] and [`LoadChain::with`] / [`LoadChain::with_provided`].

use std::fmt::{self, Debug};
use std::sync::Mutex;

use super::{LoadCredentials, ProvideCredentials, ProvidedCredentials};
use crate::cache::Expiring;
use crate::error::{Error, Result};
use crate::transport::BoxFuture;

/// Tries [`LoadCredentials`] sources in order; the first that answers is used from then
/// on.
///
/// * A source that answers [`Error::CredentialsNotFound`] (unset variables, no file, a
///   metadata service that does not answer) is skipped, and its reason kept.
/// * Any other error (a file that is there but malformed, a metadata service that answers
///   "no agency attached", a refused ID token) stops the chain with that error: a broken
///   source is never silently passed over for the next one.
/// * When every source was skipped, the error ([`Error::CredentialsNotFound`]) lists
///   every source tried, in order, and why each was skipped.
/// * Once a source has answered, later loads (refreshes) ask that source only, and its
///   failures are errors — even "not found" — so the keys never switch silently to another
///   identity. (Under a [`CredentialsCache`](super::CredentialsCache), a failed refresh
///   keeps the old keys while they are valid.)
///
/// ```
/// use token_common::credentials::{
///     Environment, HuaweiCredentials, HuaweiEnvironment, HuaweiProfile, LoadChain,
///     LoadCredentials,
/// };
///
/// let env = Environment::from_pairs([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")]);
/// let chain = LoadChain::<HuaweiCredentials>::new()
///     .with_provided(HuaweiEnvironment::with_environment(env))
///     .with_provided(HuaweiProfile::new().with_environment(Environment::from_pairs([("HOME", "/nonexistent")])));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let found = chain.load().await.unwrap();
/// assert_eq!(found.value.access_key(), "AK");
/// assert!(chain.chosen().unwrap().contains("HUAWEICLOUD_SDK_AK"));
/// # });
/// ```
pub struct LoadChain<C> {
    sources: Vec<Box<dyn LoadCredentials<C>>>,
    /// The index of the source that answered first.
    chosen: Mutex<Option<usize>>,
}

impl<C> LoadChain<C> {
    /// An empty chain (which finds nothing).
    pub fn new() -> Self {
        Self {
            sources: Vec::new(),
            chosen: Mutex::new(None),
        }
    }

    /// Appends a source that loads expiring credentials.
    pub fn with(mut self, source: impl LoadCredentials<C> + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// Appends a static provider (environment, profile file); its `Ok(None)` counts as
    /// "not found".
    pub fn with_provided(self, provider: impl ProvideCredentials<C> + 'static) -> Self
    where
        C: Send + 'static,
    {
        self.with(ProvidedCredentials::new(provider))
    }

    /// How many sources the chain holds.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    /// Whether the chain holds no source.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The source that answered, once one has.
    pub fn chosen(&self) -> Option<String> {
        let i = (*self.chosen.lock().unwrap_or_else(|e| e.into_inner()))?;
        Some(self.sources[i].describe())
    }

    fn set_chosen(&self, i: usize) {
        *self.chosen.lock().unwrap_or_else(|e| e.into_inner()) = Some(i);
    }
}

impl<C> Default for LoadChain<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Debug for LoadChain<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadChain")
            .field("sources", &self.sources)
            .field("chosen", &self.chosen())
            .finish()
    }
}

impl<C: Send + Sync + 'static> LoadCredentials<C> for LoadChain<C> {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<C>>> {
        Box::pin(async move {
            let chosen = *self.chosen.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(i) = chosen {
                let source = &self.sources[i];
                return source.load().await.map_err(|e| match e {
                    // The source answered before: "not there now" is a failure of the
                    // identity in use, not a reason to look elsewhere.
                    Error::CredentialsNotFound {
                        source_name,
                        reason,
                    } => Error::credentials(
                        source_name,
                        format!("{reason} (this source gave the credentials in use)"),
                    ),
                    other => other,
                });
            }
            let mut skipped = Vec::with_capacity(self.sources.len());
            for (i, source) in self.sources.iter().enumerate() {
                match source.load().await {
                    Ok(found) => {
                        tracing::debug!(source = %source.describe(), "credentials found");
                        self.set_chosen(i);
                        return Ok(found);
                    }
                    Err(Error::CredentialsNotFound {
                        source_name,
                        reason,
                    }) => {
                        tracing::debug!(source = %source_name, reason = %reason, "credentials source skipped");
                        skipped.push(format!("{}. {source_name}: {reason}", i + 1));
                    }
                    Err(e) => return Err(e),
                }
            }
            let reason = if skipped.is_empty() {
                "the chain has no source".to_owned()
            } else {
                format!("tried {}", skipped.join("; "))
            };
            Err(Error::credentials_not_found(
                "the credentials chain",
                reason,
            ))
        })
    }

    fn describe(&self) -> String {
        match self.chosen() {
            Some(s) => s,
            None => {
                let parts: Vec<String> = self.sources.iter().map(|s| s.describe()).collect();
                format!("the credentials chain ({})", parts.join(", then "))
            }
        }
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
