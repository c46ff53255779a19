//! Request signing: NCP API Gateway signature v2 and Huawei Cloud SDK-HMAC-SHA256,
//! SDK-HMAC-SM3 and V11-HMAC-SHA256.
//!
//! Each algorithm is a pipeline of pure functions over plain data (so every stage can be
//! checked against the official signers' vectors on its own), plus a signer built once per
//! credential that applies the whole pipeline to an
//! [`HttpRequest`](crate::request::HttpRequest).

mod backend;
pub mod huawei;
pub mod ncp;
mod sha256;

pub use backend::Sha256Backend;
pub(crate) use backend::{Digest32, HmacSha256, Mac32};
pub use huawei::HuaweiSigner;
pub use ncp::NcpSigner;

/// The trait and the no-op signer live in [`request`](crate::request), beside the request
/// they sign, so that signing and the transport depend on it rather than on each other.
pub use crate::request::{NoSigning, Signer};

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
