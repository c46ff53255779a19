//! NCP temporary keys: those handed out by the server-role metadata routes
//! ([`crate::ncp_metadata`]) and by STS ([`crate::ncp_sts`]).
//!
//! NCP has no session-token header: a temporary key signs exactly like an account key, so
//! every signed NCP route looks keys up through [`TemporaryKeys::lookup`] after the
//! accounts, and a key past its expiry is refused as the gateway refuses it (401,
//! `errorCode` 200).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use token_common::SecretString;

use crate::jwt::random_hex;
use crate::verify::Refusal;

/// Expired keys are forgotten this long after expiry (so the store stays bounded), and
/// answer "does not exist" from then on.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// One temporary key.
#[derive(Debug, Clone)]
pub(crate) struct TemporaryKey {
    pub(crate) access_key: String,
    pub(crate) secret_key: SecretString,
    pub(crate) created: SystemTime,
    pub(crate) expires: SystemTime,
    pub(crate) use_mfa: bool,
}

/// Every temporary key handed out so far.
#[derive(Debug, Default)]
pub(crate) struct TemporaryKeys(Mutex<HashMap<String, TemporaryKey>>);

impl TemporaryKeys {
    fn keys(&self) -> MutexGuard<'_, HashMap<String, TemporaryKey>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a key valid from `now` for `lifetime`.
    pub(crate) fn mint(&self, now: SystemTime, lifetime: Duration, use_mfa: bool) -> TemporaryKey {
        let key = TemporaryKey {
            access_key: format!("ncp_iam_BPTMP{}", random_hex(20).to_ascii_uppercase()),
            secret_key: SecretString::new(format!("ncp_iam_BPTSK{}", random_hex(40))),
            created: now,
            expires: now + lifetime,
            use_mfa,
        };
        let mut keys = self.keys();
        keys.retain(|_, k| k.expires + FORGET_AFTER > now);
        keys.insert(key.access_key.clone(), key.clone());
        key
    }

    /// The key named `access_key`: `None` when it was never handed out (or long
    /// forgotten), [`Refusal::ExpiredAccessKey`] once `now` reaches its expiry.
    pub(crate) fn lookup(
        &self,
        access_key: &str,
        now: SystemTime,
    ) -> Option<Result<TemporaryKey, Refusal>> {
        let keys = self.keys();
        let key = keys.get(access_key)?;
        Some(if now >= key.expires {
            Err(Refusal::ExpiredAccessKey)
        } else {
            Ok(key.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn keys_work_until_expiry_then_are_refused() {
        let store = TemporaryKeys::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let k = store.mint(t0, Duration::from_secs(600), false);
        let just_before = t0 + Duration::from_secs(599);
        assert!(store.lookup(&k.access_key, just_before).unwrap().is_ok());
        let at_expiry = t0 + Duration::from_secs(600);
        assert_eq!(
            store.lookup(&k.access_key, at_expiry).unwrap().unwrap_err(),
            Refusal::ExpiredAccessKey
        );
        assert!(store.lookup("ncp_iam_OTHER", t0).is_none());
    }
}
