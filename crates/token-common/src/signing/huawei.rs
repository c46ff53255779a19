//! Huawei Cloud AK/SK signing, `SDK-HMAC-SHA256`, as the official SDKs do it.
//!
//! The stages are plain functions, each checked against the official signer's vectors:
//! [`canonical_uri`] and [`canonical_query`] → [`canonical_request`] → [`string_to_sign`] →
//! [`signature`] → [`authorization`]. [`HuaweiSigner`] applies them to a request, adding
//! `X-Sdk-Date`, `Host`, `X-Project-Id` or `X-Domain-Id`, and `X-Security-Token` (signed)
//! for temporary credentials.

use std::fmt;
use std::time::SystemTime;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use ring::{digest, hmac};

use super::{check_header_text, hex, Signer};
use crate::credentials::{HuaweiCredentials, HuaweiScope};
use crate::encoding::encode_unreserved;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::transport::HttpRequest;

/// The algorithm name that opens the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// Header carrying the signing time, `YYYYMMDDTHHMMSSZ`.
pub const DATE_HEADER: &str = "x-sdk-date";
/// Header carrying the security token of temporary credentials.
pub const SECURITY_TOKEN_HEADER: &str = "x-security-token";
/// Header carrying the project id for regional services.
pub const PROJECT_ID_HEADER: &str = "x-project-id";
/// Header carrying the account (domain) id for global services.
pub const DOMAIN_ID_HEADER: &str = "x-domain-id";
/// Header announcing an unsigned payload.
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
/// The payload hash used when the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty string: the payload hash of a request without a body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
        Some(b) if !b.is_empty() => hex(digest::digest(&digest::SHA256, b).as_ref()),
        _ => EMPTY_BODY_SHA256.to_owned(),
    }
}

/// Whether a body with this content type is signed (JSON and BSON are; others are sent
/// with `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`).
pub fn signs_payload(content_type: Option<&str>) -> bool {
    content_type
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("application/bson"))
}

/// A canonical request and the signed-headers list it produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    /// `METHOD\nURI\nQUERY\nHEADERS\nSIGNED\nPAYLOAD_HASH`.
    pub text: String,
    /// Names of the signed headers, lower-cased, sorted, joined by `;`.
    pub signed_headers: String,
}

/// Builds the canonical request.
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
    // Names from a HeaderMap are already lower-case: borrow those, copy only the others.
    let mut signed: Vec<(std::borrow::Cow<'_, str>, &str)> = headers
        .iter()
        .filter(|(name, _)| !name.contains('_'))
        .map(|(name, value)| {
            let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(name.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(*name)
            };
            (name, value.trim())
        })
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
    let mut signed_headers = String::new();
    for (i, (name, _)) in signed.iter().enumerate() {
        if i > 0 && signed[i - 1].0 == *name {
            continue; // a repeated header is named once
        }
        if i > 0 {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
    }
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
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    )
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret key.
pub fn signature(secret_key: &SecretString, string_to_sign: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret_key.expose_secret().as_bytes());
    hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref())
}

/// `SDK-HMAC-SHA256 Access={ak}, SignedHeaders={list}, Signature={hex}`.
pub fn authorization(access_key: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` (UTC).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_735_732_800);
/// assert_eq!(token_common::signing::huawei::format_sdk_date(t), "20250101T120000Z");
/// ```
pub fn format_sdk_date(t: SystemTime) -> String {
    let secs = crate::clock::unix_seconds(t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ`; `None` when malformed.
pub fn parse_sdk_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(crate::clock::from_unix_seconds(
        days * 86_400 + h * 3600 + mi * 60 + se,
    ))
}

// Howard Hinnant's civil-calendar algorithms (public domain).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Signs requests for one Huawei Cloud credential.
#[derive(Clone)]
pub struct HuaweiSigner {
    access_key: String,
    key: hmac::Key,
    security_token: Option<(SecretString, HeaderValue)>,
    scope: Option<(HeaderName, HeaderValue)>,
}

impl HuaweiSigner {
    /// Prepares a signer; refuses empty keys and values that cannot travel in a header.
    ///
    /// `scope` picks the header that names what the call acts on: regional services (such
    /// as IdentityCenterStore) take `X-Project-Id`, global services `X-Domain-Id`.
    pub fn new(credentials: &HuaweiCredentials, scope: HuaweiScope) -> Result<Self> {
        let ak = credentials.access_key();
        if ak.is_empty() {
            return Err(Error::invalid_input("ak", "must not be empty"));
        }
        check_header_text("ak", ak)?;
        if ak.contains([',', ' ', '=']) {
            return Err(Error::invalid_input(
                "ak",
                "must not contain `,`, `=` or spaces (it is written into the Authorization header)",
            ));
        }
        let sk = credentials.secret_key();
        if sk.is_empty() {
            return Err(Error::invalid_input("sk", "must not be empty"));
        }
        // The key's inner and outer pads are hashed here, once.
        let key = hmac::Key::new(hmac::HMAC_SHA256, sk.expose_secret().as_bytes());
        let security_token = match credentials.security_token() {
            Some(t) if t.is_empty() => {
                return Err(Error::invalid_input(
                    "security_token",
                    "must not be empty when given",
                ))
            }
            Some(t) => {
                check_header_text("security_token", t.expose_secret())?;
                let mut v = HeaderValue::from_str(t.expose_secret()).map_err(|_| {
                    Error::invalid_input("security_token", "is not a valid HTTP header value")
                })?;
                v.set_sensitive(true);
                Some((t.clone(), v))
            }
            None => None,
        };
        let scope = match &scope {
            HuaweiScope::Project(id) => Some((PROJECT_ID_HEADER, "project_id", id.as_str())),
            HuaweiScope::Domain(id) => Some((DOMAIN_ID_HEADER, "domain_id", id.as_str())),
            HuaweiScope::None => None,
        };
        let scope = match scope {
            Some((_, field, "")) => return Err(Error::invalid_input(field, "must not be empty")),
            Some((header, field, id)) => {
                check_header_text(field, id)?;
                let v = HeaderValue::from_str(id)
                    .map_err(|_| Error::invalid_input(field, "is not a valid HTTP header value"))?;
                Some((HeaderName::from_static(header), v))
            }
            None => None,
        };
        Ok(Self {
            access_key: ak.to_owned(),
            key,
            security_token,
            scope,
        })
    }

    /// The access key this signer signs with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    fn signature(&self, string_to_sign: &str) -> String {
        hex(hmac::sign(&self.key, string_to_sign.as_bytes()).as_ref())
    }
}

impl fmt::Debug for HuaweiSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiSigner")
            .field("access_key", &self.access_key)
            .field("secret_key", &crate::secret::REDACTED)
            .field(
                "security_token",
                &self
                    .security_token
                    .as_ref()
                    .map(|_| crate::secret::REDACTED),
            )
            .field("scope", &self.scope.as_ref().map(|(n, v)| (n, v)))
            .finish()
    }
}

impl Signer for HuaweiSigner {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()> {
        let sdk_date = format_sdk_date(now);
        let headers = &mut request.headers;
        headers.remove(reqwest::header::AUTHORIZATION);
        headers.insert(
            HeaderName::from_static(DATE_HEADER),
            HeaderValue::from_str(&sdk_date).expect("digits are a valid header value"),
        );
        if let Some((name, value)) = &self.scope {
            headers.insert(name.clone(), value.clone());
        }
        if let Some((_, value)) = &self.security_token {
            headers.insert(
                HeaderName::from_static(SECURITY_TOKEN_HEADER),
                value.clone(),
            );
        }
        if !headers.contains_key(HOST) {
            let host = request
                .url
                .host_str()
                .ok_or_else(|| Error::invalid_input("endpoint", "has no host"))?;
            let host = match request.url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            headers.insert(
                HOST,
                HeaderValue::from_str(&host).map_err(|_| {
                    Error::invalid_input("endpoint", "host is not a valid header value")
                })?,
            );
        }
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let payload = payload_hash(content_type, request.body.as_deref());
        if payload == UNSIGNED_PAYLOAD {
            headers.insert(
                HeaderName::from_static(CONTENT_SHA256_HEADER),
                HeaderValue::from_static(UNSIGNED_PAYLOAD),
            );
        }
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(headers.len());
        for (name, value) in headers.iter() {
            let value = value.to_str().map_err(|_| {
                Error::invalid_input(name.as_str(), "header value is not visible ASCII")
            })?;
            pairs.push((name.as_str(), value));
        }
        let query = request
            .url
            .query()
            .map(canonical_query_from_raw)
            .unwrap_or_default();
        let canonical = canonical_request(
            request.method.as_str(),
            &canonical_uri(request.url.path()),
            &query,
            &pairs,
            &payload,
        );
        let sts = string_to_sign(&sdk_date, &canonical.text);
        let auth = authorization(
            &self.access_key,
            &canonical.signed_headers,
            &self.signature(&sts),
        );
        let mut auth =
            HeaderValue::from_str(&auth).expect("checked parts make a valid header value");
        auth.set_sensitive(true); // before it enters the map: no Debug output shows it
        request.headers.insert(reqwest::header::AUTHORIZATION, auth);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_date_round_trips() {
        for secs in [0i64, 951_782_400, 1_735_732_800, 4_102_444_799] {
            let t = crate::clock::from_unix_seconds(secs);
            assert_eq!(parse_sdk_date(&format_sdk_date(t)), Some(t), "{secs}");
        }
        assert_eq!(parse_sdk_date("20250101T120000"), None);
        assert_eq!(parse_sdk_date("2025010xT120000Z"), None);
    }
}
