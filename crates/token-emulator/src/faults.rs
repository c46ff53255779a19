//! Fault injection: make the emulator misbehave on purpose, so tests can prove that a
//! client retries, times out, or reports a broken answer the way it should.
//!
//! A [`Fault`] says *what* goes wrong ([`Fault::status`], [`Fault::delay`],
//! [`Fault::drop_connection`], [`Fault::malformed_body`]), *how many times*
//! ([`Fault::times`], default once) and *where* ([`Fault::on`], default every request).
//! Injected faults wait in one queue; each incoming request takes the first fault whose
//! target matches its path and uses up one of its times. So a status sequence such as
//! "503, 503, then 429 with `Retry-After: 2`" is three calls of
//! [`EmulatorHandle::inject`](crate::EmulatorHandle::inject) in that order, and the
//! request after them is served normally.
//!
//! ```
//! use std::time::Duration;
//! use token_emulator::{Fault, ServicePrefix};
//!
//! let faults = [
//!     Fault::status(503).times(2).on(ServicePrefix::Ncp),
//!     Fault::status(429).retry_after_secs(2).on(ServicePrefix::Ncp),
//!     Fault::delay(Duration::from_secs(5)).on(ServicePrefix::Path("/v1/identity-stores/".into())),
//! ];
//! # let _ = faults;
//! ```

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServicePrefix {
    /// Every request.
    All,
    /// NCP KMS: paths under `/kms/`.
    Ncp,
    /// Huawei IdentityCenterStore: paths under `/v1/identity-stores`.
    Huawei,
    /// Cloudforet identity: paths under `/identity/`.
    Cloudforet,
    /// Paths that start with this text (as received, still percent-encoded).
    Path(String),
}

impl ServicePrefix {
    /// Whether a request for `path` (the raw wire path) is targeted.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            ServicePrefix::All => true,
            ServicePrefix::Ncp => path.starts_with("/kms/"),
            ServicePrefix::Huawei => path.starts_with("/v1/identity-stores"),
            ServicePrefix::Cloudforet => path.starts_with("/identity/"),
            ServicePrefix::Path(prefix) => path.starts_with(prefix.as_str()),
        }
    }
}

/// The value of a `Retry-After` header sent with an injected status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: <seconds>`.
    Seconds(u64),
    /// `Retry-After: <HTTP date>`.
    Date(SystemTime),
}

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this HTTP status (and the service's usual error body for it) instead of
    /// handling the request.
    Status {
        /// The HTTP status code.
        status: u16,
        /// An optional `Retry-After` header.
        retry_after: Option<RetryAfter>,
    },
    /// Wait this long, then handle the request normally (to trip client timeouts).
    Delay(Duration),
    /// Close the connection without writing any answer.
    DropConnection,
    /// Answer `200 OK` with `Content-Type: application/json` and a body that is not JSON.
    MalformedBody,
}

/// One injected fault: what, how many times, and for which requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
    target: ServicePrefix,
}

impl Fault {
    fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            times: 1,
            target: ServicePrefix::All,
        }
    }

    /// Answer with `status` (e.g. 503, 429) instead of handling the request.
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status {
            status,
            retry_after: None,
        })
    }

    /// Wait `by`, then handle the request normally.
    pub fn delay(by: Duration) -> Self {
        Self::new(FaultKind::Delay(by))
    }

    /// Close the connection without answering.
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::DropConnection)
    }

    /// Answer 200 with a body that is not valid JSON.
    pub fn malformed_body() -> Self {
        Self::new(FaultKind::MalformedBody)
    }

    /// Adds `Retry-After: <secs>` to a [`Fault::status`] answer (ignored by other faults).
    pub fn retry_after_secs(self, secs: u64) -> Self {
        self.with_retry_after(RetryAfter::Seconds(secs))
    }

    /// Adds `Retry-After: <HTTP date>` to a [`Fault::status`] answer (ignored by other
    /// faults).
    pub fn retry_after_date(self, at: SystemTime) -> Self {
        self.with_retry_after(RetryAfter::Date(at))
    }

    fn with_retry_after(mut self, value: RetryAfter) -> Self {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(value);
        }
        self
    }

    /// Applies the fault to this many matching requests (default 1; 0 is treated as 1).
    pub fn times(mut self, times: u32) -> Self {
        self.times = times.max(1);
        self
    }

    /// Applies the fault only to requests for `target` (default [`ServicePrefix::All`]).
    pub fn on(mut self, target: ServicePrefix) -> Self {
        self.target = target;
        self
    }

    /// What goes wrong.
    pub fn kind(&self) -> &FaultKind {
        &self.kind
    }
}

/// The queue of injected faults shared by the server and its handle.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue(Mutex<VecDeque<Fault>>);

impl FaultQueue {
    pub(crate) fn push(&self, fault: Fault) {
        self.lock().push_back(fault);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// Matching requests still to be disturbed, over all queued faults.
    pub(crate) fn pending(&self) -> usize {
        self.lock().iter().map(|f| f.times as usize).sum()
    }

    /// Takes one use of the first fault that targets `path`.
    pub(crate) fn take(&self, path: &str) -> Option<FaultKind> {
        let mut queue = self.lock();
        let index = queue.iter().position(|f| f.target.matches(path))?;
        let fault = &mut queue[index];
        let kind = fault.kind.clone();
        fault.times -= 1;
        if fault.times == 0 {
            queue.remove(index);
        }
        Some(kind)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order_per_target() {
        let q = FaultQueue::default();
        q.push(Fault::status(503).times(2).on(ServicePrefix::Ncp));
        q.push(Fault::malformed_body().on(ServicePrefix::Cloudforet));
        q.push(Fault::status(429).on(ServicePrefix::Ncp));
        assert_eq!(q.pending(), 4);
        assert_eq!(
            q.take("/identity/token/issue"),
            Some(FaultKind::MalformedBody)
        );
        assert_eq!(q.take("/identity/token/issue"), None);
        for expected in [503, 503, 429] {
            match q.take("/kms/v1/keys") {
                Some(FaultKind::Status { status, .. }) => assert_eq!(status, expected),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(q.take("/kms/v1/keys"), None);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn path_prefix_matches_raw_path() {
        assert!(ServicePrefix::Path("/v1/identity-stores/d-1".into())
            .matches("/v1/identity-stores/d-1/provision-tenant"));
        assert!(!ServicePrefix::Huawei.matches("/kms/v1/keys"));
        assert!(ServicePrefix::All.matches("/anything"));
    }
}
