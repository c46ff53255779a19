//! The [`Signer`] trait the transport calls on every attempt, and [`NoSigning`].

use std::fmt::Debug;
use std::time::SystemTime;

use crate::error::Result;
use crate::request::HttpRequest;

/// Adds authentication to a request. The transport calls it once per attempt, with the
/// time corrected for any clock skew it has measured, so every attempt is signed afresh.
pub trait Signer: Send + Sync + Debug {
    /// Signs `request` as of `now`, adding or replacing its authentication headers.
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()>;

    /// Whether the signature carries the time, so that a refusal for its time can be put
    /// right by correcting the clock (default `true`). [`NoSigning`] says `false`: the
    /// transport then never measures or applies clock skew for the request, since an
    /// unsigned call (a token call, a login) has no time a server could refuse.
    fn signs_time(&self) -> bool {
        true
    }
}

/// A signer that adds nothing: for unauthenticated calls (Cloudforet issue and grant) and
/// calls that carry a token header of their own (NCP token-authenticated calls).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSigning;

impl Signer for NoSigning {
    fn sign(&self, _request: &mut HttpRequest, _now: SystemTime) -> Result<()> {
        Ok(())
    }

    fn signs_time(&self) -> bool {
        false
    }
}
