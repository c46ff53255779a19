//! `V11-HMAC-SHA256`, the derived-key variant of `SDK-HMAC-SHA256`, as
//! `huaweicloudsdkcore`'s `DerivationAKSKSigner` does it.
//!
//! ```text
//! info        = YYYYMMDD/{region}/{service}        (the day of X-Sdk-Date)
//! derived key = hex( HKDF-SHA256(salt = AK, ikm = SK, info, 32 bytes) )
//! signature   = hex( HMAC-SHA256(key = the 64 hex characters, string_to_sign) )
//! string_to_sign = V11-HMAC-SHA256\n{X-Sdk-Date}\n{info}\n{hex sha256(canonical request)}
//! ```
//! The canonical request is [`super::canonical_request`]'s, with the SHA-256 payload hash.
//! Global credentials derive for region `globe`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::secret::SecretString;
use crate::signing::hex;

/// The algorithm name that opens the `Authorization` header.
pub const ALGORITHM: &str = "V11-HMAC-SHA256";
/// The region that global credentials (`X-Domain-Id`) derive their key for.
pub const GLOBAL_REGION: &str = "globe";

/// `YYYYMMDD/{region}/{service}`, the day taken from `sdk_date` (`YYYYMMDDTHHMMSSZ`).
///
/// ```
/// use token_common::signing::huawei::v11;
/// assert_eq!(v11::derivation_info("20250101T120000Z", "cn-north-4", "iam"), "20250101/cn-north-4/iam");
/// ```
pub fn derivation_info(sdk_date: &str, region: &str, service: &str) -> String {
    let day = sdk_date.get(..8).unwrap_or(sdk_date);
    format!("{day}/{region}/{service}")
}

/// The derived signing key: lower-case hex of HKDF-SHA256 with the access key as salt, the
/// secret key as input keying material, `info`, and one 32-byte output block.
///
/// The result is secret: it signs every request of that day, region and service.
pub fn derived_key_hex(access_key: &str, secret_key: &SecretString, info: &str) -> SecretString {
    let prk = hmac_sha256(
        access_key.as_bytes(),
        &[secret_key.expose_secret().as_bytes()],
    );
    let okm = hmac_sha256(&prk, &[info.as_bytes(), &[1]]);
    SecretString::new(hex(&okm))
}

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// `V11-HMAC-SHA256\n{sdk_date}\n{info}\n{hex sha256(canonical_request)}`.
pub fn string_to_sign(sdk_date: &str, info: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{info}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the 64 characters of the derived key.
pub fn signature(derived_key_hex: &SecretString, string_to_sign: &str) -> String {
    super::stages::hmac_sha256_hex(derived_key_hex.expose_secret().as_bytes(), string_to_sign)
}

/// `V11-HMAC-SHA256 Credential={ak}/{info}, SignedHeaders={list}, Signature={hex}`.
pub fn authorization(
    access_key: &str,
    info: &str,
    signed_headers: &str,
    signature: &str,
) -> String {
    format!(
        "{ALGORITHM} Credential={access_key}/{info}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}
