//! The pure stages of `SDK-HMAC-SHA256`, each checked against the official signer's
//! vectors; [`super::sm3`] and [`super::v11`] reuse the hash-agnostic ones.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{ALGORITHM, EMPTY_BODY_SHA256, UNSIGNED_PAYLOAD};
use crate::encoding::encode_unreserved;
use crate::secret::SecretString;
use crate::signing::hex;

/// The canonical URI of a path: percent-decoded, split on `/`, each segment encoded keeping
/// only `A-Z a-z 0-9 - _ . ~`, joined, and always ending with `/`.
///
/// Because the path is decoded first, a parameter sent as `%2F` is signed as a real `/`,
/// exactly as the official signer does.
///
/// ```
/// use token_common::signing::huawei::canonical_uri;
/// assert_eq!(canonical_uri("/v1/a b/%C3%BC"), "/v1/a%20b/%C3%BC/");
/// assert_eq!(canonical_uri("/v1/x/"), "/v1/x/");
/// ```
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let mut out = String::with_capacity(path.len() + 8);
    for (i, segment) in decoded.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encoding::utf8_percent_encode(
            segment,
            crate::encoding::UNRESERVED,
        ));
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query: pairs sorted by key then value (the text itself, as the official
/// signers sort), then encoded (keeping only unreserved characters; space is `%20`) and
/// joined as `k=v&k=v`. The URL sent carries exactly this string.
///
/// Sorting the encoded text instead would differ for keys such as `키` and `a` (`%ED…`
/// sorts before `a`) or `x.y` and `x/y`.
///
/// ```
/// use token_common::signing::huawei::canonical_query;
/// let q = canonical_query(&[("b", "2"), ("a", "x y"), ("a", "1"), ("키", "1")]);
/// assert_eq!(q, "a=1&a=x%20y&b=2&%ED%82%A4=1");
/// ```
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort_unstable();
    let encoded = sorted
        .iter()
        .map(|(k, v)| (encode_unreserved(k), encode_unreserved(v)));
    let mut out = String::new();
    for (i, (k, v)) in encoded.enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
    }
    out
}

/// The canonical query of a raw query string as it goes on the wire: split on `&` and at
/// each pair's first `=`, each side percent-decoded. `+` is a literal plus (this is not form
/// decoding: the gateway reads `a+b` as `a+b`, and the URL this crate sends carries spaces
/// as `%20`).
///
/// ```
/// use token_common::signing::huawei::canonical_query_from_raw;
/// assert_eq!(canonical_query_from_raw("b=1+2&a=x%20y"), "a=x%20y&b=1%2B2");
/// ```
pub fn canonical_query_from_raw(raw_query: &str) -> String {
    fn decode(s: &str) -> std::borrow::Cow<'_, str> {
        percent_encoding::percent_decode_str(s).decode_utf8_lossy()
    }
    let pairs: Vec<_> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    canonical_query(&pairs)
}

/// The payload hash: `UNSIGNED-PAYLOAD` when the content type is neither JSON nor BSON,
/// else the hex SHA-256 of the body (of the empty string when there is none).
pub fn payload_hash(content_type: Option<&str>, body: Option<&[u8]>) -> String {
    if !signs_payload(content_type) {
        return UNSIGNED_PAYLOAD.to_owned();
    }
    match body {
        Some(b) if !b.is_empty() => hex(&Sha256::digest(b)),
        _ => EMPTY_BODY_SHA256.to_owned(),
    }
}

/// Whether a body with this content type is signed (JSON and BSON are; others are sent
/// with `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`, or `X-Sdk-Content-Sm3` for SM3).
pub fn signs_payload(content_type: Option<&str>) -> bool {
    content_type
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("application/bson"))
}

/// A canonical request and the signed-headers list it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CanonicalRequest {
    /// `METHOD\nURI\nQUERY\nHEADERS\nSIGNED\nPAYLOAD_HASH`.
    pub text: String,
    /// Names of the signed headers, lower-cased, sorted, joined by `;`.
    pub signed_headers: String,
}

/// Builds the canonical request (the same for every algorithm; only the payload hash
/// differs).
///
/// `headers` are the request's headers as (name, value); names containing `_` are not
/// signed, the others are lower-cased and sorted, and values trimmed. A header that
/// appears more than once is signed as one `name:value` line per value, values sorted (the
/// official Go signer's form), and named once in the signed-headers list.
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> CanonicalRequest {
    let mut signed: Vec<(String, &str)> = headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    signed.sort_unstable();

    let mut text = String::with_capacity(256);
    text.push_str(method);
    text.push('\n');
    text.push_str(canonical_uri);
    text.push('\n');
    text.push_str(canonical_query);
    text.push('\n');
    for (name, value) in &signed {
        text.push_str(name);
        text.push(':');
        text.push_str(value);
        text.push('\n');
    }
    text.push('\n');
    let mut names: Vec<&str> = signed.iter().map(|(name, _)| name.as_str()).collect();
    names.dedup(); // a repeated header is named once
    let signed_headers = names.join(";");
    text.push_str(&signed_headers);
    text.push('\n');
    text.push_str(payload_hash);
    CanonicalRequest {
        text,
        signed_headers,
    }
}

/// `SDK-HMAC-SHA256\n{sdk_date}\n{hex sha256(canonical_request)}`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    )
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret key.
pub fn signature(secret_key: &SecretString, string_to_sign: &str) -> String {
    hmac_sha256_hex(secret_key.expose_secret().as_bytes(), string_to_sign)
}

/// Hex HMAC-SHA256 of `message` keyed with `key`.
pub(crate) fn hmac_sha256_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// `SDK-HMAC-SHA256 Access={ak}, SignedHeaders={list}, Signature={hex}`.
pub fn authorization(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}
