//! `SDK-HMAC-SM3`: the `SDK-HMAC-SHA256` steps with SM3 (GB/T 32905-2016) for every hash
//! and HMAC-SM3 keyed with the secret key, as `huaweicloudsdkcore`'s `SM3Signer` does.
//!
//! The canonical URI, query and request are those of [`super::canonical_request`]; only
//! the payload hash, the string to sign, the signature and the algorithm name differ. A
//! body that is not signed (content type neither JSON nor BSON) is announced with
//! `X-Sdk-Content-Sm3: UNSIGNED-PAYLOAD`.

use hmac::{Hmac, Mac};
use sm3::{Digest, Sm3};

use super::{signs_payload, UNSIGNED_PAYLOAD};
use crate::secret::SecretString;
use crate::signing::hex;

/// The algorithm name that opens the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SM3";
/// Header announcing an unsigned payload.
pub const CONTENT_SM3_HEADER: &str = "x-sdk-content-sm3";
/// Hex SM3 of the empty string: the payload hash of a request without a body.
pub const EMPTY_BODY_SM3: &str = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b";

/// The payload hash: `UNSIGNED-PAYLOAD` when the content type is neither JSON nor BSON,
/// else the hex SM3 of the body (of the empty string when there is none).
///
/// ```
/// use token_common::signing::huawei::sm3;
/// assert_eq!(sm3::payload_hash(Some("application/json"), None), sm3::EMPTY_BODY_SM3);
/// assert_eq!(sm3::payload_hash(Some("text/plain"), Some(b"x")), "UNSIGNED-PAYLOAD");
/// ```
pub fn payload_hash(content_type: Option<&str>, body: Option<&[u8]>) -> String {
    if !signs_payload(content_type) {
        return UNSIGNED_PAYLOAD.to_owned();
    }
    match body {
        Some(b) if !b.is_empty() => hex(&Sm3::digest(b)),
        _ => EMPTY_BODY_SM3.to_owned(),
    }
}

/// `SDK-HMAC-SM3\n{sdk_date}\n{hex sm3(canonical_request)}`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex(&Sm3::digest(canonical_request.as_bytes()))
    )
}

/// Hex HMAC-SM3 of the string to sign, keyed with the secret key.
pub fn signature(secret_key: &SecretString, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sm3>::new_from_slice(secret_key.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// `SDK-HMAC-SM3 Access={ak}, SignedHeaders={list}, Signature={hex}`.
pub fn authorization(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}
