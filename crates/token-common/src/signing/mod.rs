//! Request signing: NCP API Gateway signature v2 and Huawei Cloud SDK-HMAC-SHA256,
//! SDK-HMAC-SM3 and V11-HMAC-SHA256.
//!
//! Each algorithm is a pipeline of pure functions over plain data (so every stage can be
//! checked against the official signers' vectors on its own), plus a signer built once per
//! credential that applies the whole pipeline to an [`HttpRequest`].

pub mod huawei;
pub mod ncp;

use std::fmt::Debug;
use std::time::SystemTime;

use crate::error::Result;
use crate::transport::HttpRequest;

pub use huawei::HuaweiSigner;
pub use ncp::NcpSigner;

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

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Refuses text that cannot be an HTTP header value (line breaks and other control
/// characters), naming the field without echoing the value.
pub(crate) fn check_header_text(field: &str, value: &str) -> Result<()> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(crate::Error::invalid_input(
            field,
            "contains a line break or another control character, which cannot travel in an HTTP header",
        ));
    }
    Ok(())
}
