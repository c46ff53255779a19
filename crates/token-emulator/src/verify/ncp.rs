//! NCP API Gateway signature v2, checked as the gateway checks it (FACTS.md §1):
//!
//! ```text
//! string_to_sign = METHOD + " " + REQUEST_URI + "\n" + TIMESTAMP_MS + "\n" + ACCESS_KEY
//! signature      = base64_standard_padded( HMAC-SHA256(key = secret_key bytes, string_to_sign) )
//! ```
//!
//! `REQUEST_URI` is the wire path and query exactly as received — percent-encoding kept,
//! query in the order sent, never decoded, sorted or re-encoded. The timestamp must be less
//! than 5 minutes from the server's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use token_common::SecretString;

use super::{Refusal, RequestParts};

/// Header carrying the signing time in milliseconds since the epoch.
pub const TIMESTAMP_HEADER: &str = "x-ncp-apigw-timestamp";
/// Header carrying the access key.
pub const ACCESS_KEY_HEADER: &str = "x-ncp-iam-access-key";
/// Header carrying the base64 signature.
pub const SIGNATURE_HEADER: &str = "x-ncp-apigw-signature-v2";
/// The gateway refuses a timestamp this far, or farther, from its clock.
pub const TIMESTAMP_WINDOW: Duration = Duration::from_secs(5 * 60);

/// The request URI the signature covers: the wire path, plus `?` and the wire query when
/// the request line had a `?` (even an empty one).
pub fn request_uri(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

/// `METHOD + " " + REQUEST_URI + "\n" + TIMESTAMP + "\n" + ACCESS_KEY`, the timestamp as
/// the header carried it.
pub fn string_to_sign(
    method: &str,
    request_uri: &str,
    timestamp: &str,
    access_key: &str,
) -> String {
    format!("{method} {request_uri}\n{timestamp}\n{access_key}")
}

/// Base64 (standard, padded) HMAC-SHA256 of `string_to_sign` keyed with the secret key.
pub fn signature(secret_key: &[u8], string_to_sign: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(secret_key, string_to_sign))
}

fn mac(secret_key: &[u8], string_to_sign: &str) -> [u8; 32] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Verifies a signature-v2 request and returns its access key.
///
/// `lookup` maps an access key to its secret key, or to the refusal for that key
/// ([`Refusal::UnknownAccessKey`], [`Refusal::ExpiredAccessKey`] for a temporary key past
/// its expiry). Checks, in order: the three headers (each exactly once), the timestamp
/// (digits only, within [`TIMESTAMP_WINDOW`] of `now`), the key, then the signature.
pub fn verify<F>(parts: &RequestParts<'_>, now: SystemTime, lookup: F) -> Result<String, Refusal>
where
    F: FnOnce(&str) -> Result<SecretString, Refusal>,
{
    let timestamp = parts.required_header(TIMESTAMP_HEADER)?;
    let access_key = parts.required_header(ACCESS_KEY_HEADER)?;
    let given = parts.required_header(SIGNATURE_HEADER)?;

    if timestamp.is_empty()
        || timestamp.len() > 19
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Refusal::Malformed(TIMESTAMP_HEADER));
    }
    let ts_ms: u64 = timestamp
        .parse()
        .map_err(|_| Refusal::Malformed(TIMESTAMP_HEADER))?;
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let window_ms = u64::try_from(TIMESTAMP_WINDOW.as_millis()).unwrap_or(u64::MAX);
    if now_ms.abs_diff(ts_ms) >= window_ms {
        return Err(Refusal::Expired);
    }

    let secret = lookup(access_key)?;
    let given = base64::engine::general_purpose::STANDARD
        .decode(given)
        .map_err(|_| Refusal::SignatureMismatch)?;
    let text = string_to_sign(
        parts.method,
        &request_uri(parts.path, parts.query),
        timestamp,
        access_key,
    );
    let expected = mac(secret.expose_secret().as_bytes(), &text);
    if super::ct_eq(&expected, &given) {
        Ok(access_key.to_owned())
    } else {
        Err(Refusal::SignatureMismatch)
    }
}
