//! Clock skew, measured and kept per signing endpoint.
//!
//! One [`Transport`](super::Transport) often serves several services (the quickstart shares
//! one between NCP, Huawei and Cloudforet): each server's clock is its own, so an offset
//! measured against NCP's gateway must never shift the time Huawei requests are signed
//! with. Offsets are therefore keyed by the request URL's `host:port`.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

/// The offsets measured so far, in milliseconds (positive when the server is ahead),
/// keyed by [`endpoint_key`].
#[derive(Debug, Default)]
pub(super) struct SkewTable(RwLock<HashMap<String, i64>>);

impl SkewTable {
    /// The offset in force for `url`'s endpoint (0 until one is measured).
    pub(super) fn get(&self, url: &url::Url) -> i64 {
        let Some(key) = endpoint_key(url) else {
            return 0;
        };
        let map = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&key).copied().unwrap_or(0)
    }

    /// Keeps `offset_ms` for `url`'s endpoint.
    pub(super) fn set(&self, url: &url::Url, offset_ms: i64) {
        let Some(key) = endpoint_key(url) else {
            return;
        };
        let mut map = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(key, offset_ms);
    }
}

/// `host:port` (the scheme's default port when the URL names none): what identifies one
/// server's clock. `None` for a URL without a host, which never reaches a server.
pub(super) fn endpoint_key(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    let port = url.port_or_known_default().unwrap_or(0);
    Some(format!("{}:{port}", host.to_ascii_lowercase()))
}

/// `now` shifted by `skew_ms`, saturating at the ends of `SystemTime`'s range.
pub(super) fn shifted(now: SystemTime, skew_ms: i64) -> SystemTime {
    let by = Duration::from_millis(skew_ms.unsigned_abs());
    let moved = if skew_ms >= 0 {
        now.checked_add(by)
    } else {
        now.checked_sub(by)
    };
    moved.unwrap_or(now)
}

/// `server - local` in milliseconds, saturating.
pub(super) fn offset_ms(server: SystemTime, local: SystemTime) -> i64 {
    match server.duration_since(local) {
        Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
        Err(behind) => i64::try_from(behind.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn endpoints_are_host_and_port_with_the_default_port_filled_in() {
        assert_eq!(
            endpoint_key(&url("https://Ocapi.Ncloud.com/kms/v1")).as_deref(),
            Some("ocapi.ncloud.com:443")
        );
        assert_eq!(
            endpoint_key(&url("http://127.0.0.1:8080/x?y")).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_ne!(
            endpoint_key(&url("http://127.0.0.1:8080/")),
            endpoint_key(&url("http://127.0.0.1:8081/"))
        );
    }

    #[test]
    fn offsets_are_kept_per_endpoint() {
        let table = SkewTable::default();
        table.set(&url("https://a.test/one"), 600_000);
        table.set(&url("https://b.test:8443/"), -5_000);
        assert_eq!(table.get(&url("https://a.test/other?q")), 600_000);
        assert_eq!(table.get(&url("https://b.test:8443/x")), -5_000);
        assert_eq!(table.get(&url("https://b.test/x")), 0);
        assert_eq!(table.get(&url("https://c.test/")), 0);
    }

    #[test]
    fn shifting_and_measuring_saturate() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(shifted(t, 1500), t + Duration::from_millis(1500));
        assert_eq!(shifted(t, -1500), t - Duration::from_millis(1500));
        assert_eq!(offset_ms(t + Duration::from_secs(2), t), 2000);
        assert_eq!(offset_ms(t, t + Duration::from_secs(2)), -2000);
    }
}
