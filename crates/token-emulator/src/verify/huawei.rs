//! Huawei Cloud AK/SK signatures, checked as the API Gateway checks them (FACTS.md §2):
//! `SDK-HMAC-SHA256`, `SDK-HMAC-SM3` and the derived-key `V11-HMAC-SHA256`.
//!
//! The canonical request is rebuilt from the request as received:
//!
//! ```text
//! METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n PAYLOAD_HASH
//! ```
//! - URI: the wire path percent-decoded (strictly: a bad escape or bytes that are not UTF-8
//!   are refused, never decoded lossily), split on `/`, each segment encoded keeping only
//!   `A-Z a-z 0-9 - _ . ~`, joined, always ending with `/`.
//! - QUERY: the wire query split on `&` and at each pair's first `=`, each side decoded
//!   strictly (`+` is a literal plus, never a space), pairs sorted by key then value (the
//!   decoded text, as the official signers sort), each side encoded as above.
//! - HEADERS: for each name of the `SignedHeaders` list of `Authorization` (which must be
//!   lower-case, sorted, without repeats, and name only headers the request has), one line
//!   `name:value` per value, trimmed — a header sent twice is two lines, its values sorted,
//!   as the official Go signer writes them.
//! - PAYLOAD_HASH: `UNSIGNED-PAYLOAD` when `X-Sdk-Content-Sha256` (SM3: `X-Sdk-Content-Sm3`)
//!   says so, else the hex hash of the body.
//!
//! `X-Sdk-Date` must be signed and within 15 minutes of the server's clock; a temporary
//! credential's `X-Security-Token` must be present, signed and the key's own.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::{Digest as _, Sha256};
use sm3::Sm3;
use token_common::SecretString;

use super::percent::{decode_strict, encode_unreserved_into};
use super::{ct_eq, hex, Refusal, RequestParts};

/// Header carrying the signing time, `YYYYMMDDTHHMMSSZ`.
pub const DATE_HEADER: &str = "X-Sdk-Date";
/// Header carrying a temporary credential's security token.
pub const SECURITY_TOKEN_HEADER: &str = "X-Security-Token";
/// The payload-hash header of `SDK-HMAC-SHA256` and `V11-HMAC-SHA256`.
pub const CONTENT_SHA256_HEADER: &str = "X-Sdk-Content-Sha256";
/// The payload-hash header of `SDK-HMAC-SM3`.
pub const CONTENT_SM3_HEADER: &str = "X-Sdk-Content-Sm3";
/// The payload hash of a body that is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The gateway refuses an `X-Sdk-Date` farther than this from its clock.
pub const DATE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// A signing algorithm of the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// `SDK-HMAC-SHA256`: SHA-256 hashes, HMAC-SHA256 keyed with the secret key.
    Sha256,
    /// `SDK-HMAC-SM3`: SM3 hashes, HMAC-SM3 keyed with the secret key.
    Sm3,
    /// `V11-HMAC-SHA256`: SHA-256 hashes, HMAC-SHA256 keyed with a key derived (HKDF) from
    /// the access key, the secret key and `YYYYMMDD/{region}/{service}`.
    V11,
}

impl Algorithm {
    /// The name that opens the `Authorization` header and the string to sign.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "SDK-HMAC-SHA256",
            Self::Sm3 => "SDK-HMAC-SM3",
            Self::V11 => "V11-HMAC-SHA256",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Sha256, Self::Sm3, Self::V11]
            .into_iter()
            .find(|a| a.name() == name)
    }

    /// The header that may announce `UNSIGNED-PAYLOAD`.
    pub fn content_header(self) -> &'static str {
        match self {
            Self::Sm3 => CONTENT_SM3_HEADER,
            Self::Sha256 | Self::V11 => CONTENT_SHA256_HEADER,
        }
    }

    /// Lower-case hex of the algorithm's hash of `bytes`.
    pub fn hash_hex(self, bytes: &[u8]) -> String {
        match self {
            Self::Sm3 => hex(&Sm3::digest(bytes)),
            Self::Sha256 | Self::V11 => hex(&Sha256::digest(bytes)),
        }
    }
}

/// What the server knows of an access key: its secret and, for temporary credentials, the
/// security token that must travel with it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HuaweiKey {
    /// The secret key (SK).
    pub secret_key: SecretString,
    /// The security token of a temporary credential; `None` for a permanent key, which
    /// then must not be sent with one.
    pub security_token: Option<SecretString>,
}

impl HuaweiKey {
    /// A permanent key.
    pub fn new(secret_key: SecretString) -> Self {
        Self {
            secret_key,
            security_token: None,
        }
    }

    /// A temporary key, valid only with `security_token`.
    pub fn with_security_token(mut self, security_token: SecretString) -> Self {
        self.security_token = Some(security_token);
        self
    }
}

/// The fields of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorization<'a> {
    /// The algorithm named first.
    pub algorithm: Algorithm,
    /// `Access=` (or the part of V11's `Credential=` before the first `/`).
    pub access_key: &'a str,
    /// V11 only: `YYYYMMDD/{region}/{service}` from `Credential=`.
    pub info: Option<&'a str>,
    /// `SignedHeaders=`.
    pub signed_headers: &'a str,
    /// `Signature=`.
    pub signature: &'a str,
}

/// Parses `ALGORITHM Access=…, SignedHeaders=…, Signature=…` (V11: `Credential=AK/info`
/// instead of `Access=`). Each field exactly once; nothing else.
pub fn parse_authorization(value: &str) -> Result<Authorization<'_>, Refusal> {
    let malformed = Refusal::Malformed("Authorization");
    let (name, fields) = value.split_once(' ').ok_or(Refusal::UnsupportedAlgorithm)?;
    let algorithm = Algorithm::from_name(name).ok_or(Refusal::UnsupportedAlgorithm)?;
    let key_field = if algorithm == Algorithm::V11 {
        "Credential"
    } else {
        "Access"
    };
    let (mut key, mut signed, mut signature) = (None, None, None);
    for field in fields.split(',') {
        let (k, v) = field.trim().split_once('=').ok_or(malformed.clone())?;
        let slot = match k {
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            k if k == key_field => &mut key,
            _ => return Err(malformed),
        };
        if slot.replace(v).is_some() {
            return Err(malformed);
        }
    }
    let (Some(key), Some(signed_headers), Some(signature)) = (key, signed, signature) else {
        return Err(malformed);
    };
    let (access_key, info) = match algorithm {
        Algorithm::V11 => {
            let (ak, info) = key.split_once('/').ok_or(malformed.clone())?;
            let parts: Vec<&str> = info.split('/').collect();
            let date_ok = parts[0].len() == 8 && parts[0].bytes().all(|b| b.is_ascii_digit());
            if parts.len() != 3 || !date_ok || parts.iter().any(|p| p.is_empty()) {
                return Err(Refusal::Malformed("Credential"));
            }
            (ak, Some(info))
        }
        _ => (key, None),
    };
    if access_key.is_empty() {
        return Err(malformed);
    }
    Ok(Authorization {
        algorithm,
        access_key,
        info,
        signed_headers,
        signature,
    })
}

/// The signed-header names: non-empty, lower-case, strictly ascending (sorted, no repeats).
pub fn signed_header_names(list: &str) -> Result<Vec<&str>, Refusal> {
    let names: Vec<&str> = list.split(';').collect();
    let well_formed = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b':')
    });
    if !well_formed || names.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Refusal::Malformed("SignedHeaders"));
    }
    Ok(names)
}

/// The canonical URI of a wire path (see the module docs).
pub fn canonical_uri(path: &str) -> Result<String, Refusal> {
    let decoded = decode_strict(path).ok_or(Refusal::BadPath)?;
    let mut out = String::with_capacity(decoded.len() + 8);
    for (i, segment) in decoded.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        encode_unreserved_into(segment, &mut out);
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    Ok(out)
}

/// The canonical query of a wire query (see the module docs); `""` when there is none.
pub fn canonical_query(query: Option<&str>) -> Result<String, Refusal> {
    let mut pairs = Vec::new();
    for piece in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        let k = decode_strict(k).ok_or(Refusal::BadQuery)?;
        let v = decode_strict(v).ok_or(Refusal::BadQuery)?;
        pairs.push((k, v));
    }
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_unreserved_into(k, &mut out);
        out.push('=');
        encode_unreserved_into(v, &mut out);
    }
    Ok(out)
}

/// The payload hash: `UNSIGNED-PAYLOAD` when the algorithm's content header says so, else
/// the hex hash of the body (of the empty string when there is none).
pub fn payload_hash(parts: &RequestParts<'_>, algorithm: Algorithm) -> String {
    let unsigned = parts
        .headers
        .get_all(algorithm.content_header())
        .iter()
        .any(|v| v.as_bytes() == UNSIGNED_PAYLOAD.as_bytes());
    if unsigned {
        UNSIGNED_PAYLOAD.to_owned()
    } else {
        algorithm.hash_hex(parts.body)
    }
}

/// The canonical request, as bytes (header values need not be UTF-8).
pub fn canonical_request(
    parts: &RequestParts<'_>,
    signed_headers: &[&str],
    payload_hash: &str,
) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(parts.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(parts.path)?.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(parts.query)?.as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        let mut values: Vec<&[u8]> = parts
            .headers
            .get_all(*name)
            .iter()
            .map(|v| v.as_bytes().trim_ascii())
            .collect();
        if values.is_empty() {
            return Err(Refusal::SignedHeaderMissing((*name).to_owned()));
        }
        values.sort_unstable();
        for value in values {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value);
            out.push(b'\n');
        }
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// `ALGORITHM \n X-Sdk-Date \n [info \n] hex(hash(canonical_request))` (`info` for V11).
pub fn string_to_sign(
    algorithm: Algorithm,
    sdk_date: &str,
    info: Option<&str>,
    canonical_request: &[u8],
) -> String {
    let digest = algorithm.hash_hex(canonical_request);
    match info {
        Some(info) => format!("{}\n{sdk_date}\n{info}\n{digest}", algorithm.name()),
        None => format!("{}\n{sdk_date}\n{digest}", algorithm.name()),
    }
}

/// V11's signing key: lower-case hex of HKDF-SHA256 with salt = AK, input key = SK and
/// `info` (one 32-byte block: `HMAC(HMAC(AK, SK), info || 0x01)`).
pub fn v11_signing_key(access_key: &str, secret_key: &str, info: &str) -> String {
    let mut extract = hmac_sha256(access_key.as_bytes());
    extract.update(secret_key.as_bytes());
    let prk = extract.finalize().into_bytes();
    let mut expand = hmac_sha256(&prk);
    expand.update(info.as_bytes());
    expand.update(&[1]);
    hex(&expand.finalize().into_bytes())
}

/// Hex HMAC of `string_to_sign` with the algorithm's hash, keyed with `key`.
pub fn signature(algorithm: Algorithm, key: &[u8], string_to_sign: &str) -> String {
    match algorithm {
        Algorithm::Sm3 => {
            let mut mac =
                Hmac::<Sm3>::new_from_slice(key).expect("HMAC accepts keys of any length");
            mac.update(string_to_sign.as_bytes());
            hex(&mac.finalize().into_bytes())
        }
        Algorithm::Sha256 | Algorithm::V11 => {
            let mut mac = hmac_sha256(key);
            mac.update(string_to_sign.as_bytes());
            hex(&mac.finalize().into_bytes())
        }
    }
}

fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Parses `YYYYMMDDTHHMMSSZ` (UTC); `None` when it is not exactly that or not a real time.
pub fn parse_sdk_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = b.get(r)?;
        part.iter().try_fold(0u64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
        })
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hour, minute, second) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let days_in_month = *month_days.get(usize::try_from(month).ok()?.checked_sub(1)?)?;
    if year < 1970 || day == 0 || day > days_in_month || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let leap_years_before = |y: u64| (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
    let days_before_year = (year - 1970) * 365 + leap_years_before(year) - leap_years_before(1970);
    let days_before_month: u64 = month_days[..usize::try_from(month - 1).ok()?].iter().sum();
    let days = days_before_year + days_before_month + day - 1;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Verifies a Huawei-signed request and returns its access key.
///
/// `lookup` maps an access key to what the server knows of it, or to the refusal for that
/// key ([`Refusal::UnknownAccessKey`], or [`Refusal::ExpiredAccessKey`] for a temporary key
/// past its expiry). Checks, in order: the `Authorization` header, `X-Sdk-Date` (signed,
/// well-formed, within [`DATE_WINDOW`] of `now`; for V11 also the date of the credential
/// scope), the key, its security token, then the signature over the canonical request.
pub fn verify<F>(parts: &RequestParts<'_>, now: SystemTime, lookup: F) -> Result<String, Refusal>
where
    F: FnOnce(&str) -> Result<HuaweiKey, Refusal>,
{
    let header = parts.required_header("Authorization")?;
    let auth = parse_authorization(header)?;
    let signed = signed_header_names(auth.signed_headers)?;

    let sdk_date = parts.required_header(DATE_HEADER)?;
    if !signed.contains(&"x-sdk-date") {
        return Err(Refusal::NotSigned(DATE_HEADER));
    }
    let date = parse_sdk_date(sdk_date).ok_or(Refusal::Malformed(DATE_HEADER))?;
    let off = now
        .duration_since(date)
        .or_else(|_| date.duration_since(now))
        .unwrap_or_default();
    if off > DATE_WINDOW {
        return Err(Refusal::Expired);
    }
    if let Some(info) = auth.info {
        if info.get(..8) != sdk_date.get(..8) {
            return Err(Refusal::Malformed("Credential"));
        }
    }

    let key = lookup(auth.access_key)?;
    let sent_token = parts.single_header(SECURITY_TOKEN_HEADER)?;
    match (&key.security_token, sent_token) {
        (Some(_), None) => return Err(Refusal::SecurityTokenMissing),
        (Some(_), Some(_)) if !signed.contains(&"x-security-token") => {
            return Err(Refusal::NotSigned(SECURITY_TOKEN_HEADER))
        }
        (Some(expected), Some(sent))
            if !ct_eq(expected.expose_secret().as_bytes(), sent.as_bytes()) =>
        {
            return Err(Refusal::SecurityTokenMismatch)
        }
        (None, Some(_)) => return Err(Refusal::SecurityTokenMismatch),
        _ => {}
    }

    let canonical = canonical_request(parts, &signed, &payload_hash(parts, auth.algorithm))?;
    let text = string_to_sign(auth.algorithm, sdk_date, auth.info, &canonical);
    let sk = key.secret_key.expose_secret();
    let expected = match auth.info {
        Some(info) => {
            let derived = v11_signing_key(auth.access_key, sk, info);
            signature(auth.algorithm, derived.as_bytes(), &text)
        }
        None => signature(auth.algorithm, sk.as_bytes(), &text),
    };
    if ct_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        Ok(auth.access_key.to_owned())
    } else {
        Err(Refusal::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_dates_parse_to_unix_time() {
        let secs =
            |s: &str| parse_sdk_date(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(secs("19700101T000000Z"), Some(0));
        assert_eq!(secs("20250101T120000Z"), Some(1_735_732_800));
        assert_eq!(secs("20000229T235959Z"), Some(951_868_799));
        assert_eq!(secs("20991231T235959Z"), Some(4_102_444_799));
        for bad in [
            "20250101T120000",
            "2025010xT120000Z",
            "20250230T000000Z",
            "21000229T000000Z",
            "20251301T000000Z",
            "20250101T240000Z",
            "20250101T126000Z",
            "19691231T235959Z",
            "+0250101T120000Z",
            "２０25101T120000Z",
        ] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn authorization_fields_each_exactly_once() {
        let a = parse_authorization(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=00",
        )
        .unwrap();
        assert_eq!(
            (a.access_key, a.signed_headers, a.signature),
            ("AK", "host;x-sdk-date", "00")
        );
        let v = parse_authorization("V11-HMAC-SHA256 Credential=AK/20250101/cn-north-4/iam, SignedHeaders=x-sdk-date, Signature=00").unwrap();
        assert_eq!(
            (v.access_key, v.info),
            ("AK", Some("20250101/cn-north-4/iam"))
        );
        for bad in [
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x, Signature=00, Signature=00",
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x",
            "SDK-HMAC-SHA256 Access=, SignedHeaders=x, Signature=00",
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x, Signature=00, Extra=1",
            "SDK-HMAC-SHA256 Credential=AK/20250101/r/s, SignedHeaders=x, Signature=00",
            "V11-HMAC-SHA256 Credential=AK/2025011/r/s, SignedHeaders=x, Signature=00",
            "V11-HMAC-SHA256 Credential=AK/20250101/r, SignedHeaders=x, Signature=00",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(Refusal::Malformed(_))),
                "{bad}"
            );
        }
        assert_eq!(
            parse_authorization("HMAC-SHA1 Access=AK"),
            Err(Refusal::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn signed_headers_must_be_sorted_lower_case_and_unique() {
        assert_eq!(
            signed_header_names("a;b;x-sdk-date").unwrap(),
            ["a", "b", "x-sdk-date"]
        );
        for bad in ["b;a", "a;a", "A;b", "a;;b", "", "a b"] {
            assert!(signed_header_names(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn canonical_uri_decodes_strictly_then_reencodes() {
        assert_eq!(canonical_uri("/v1/a%2Fb/c d").unwrap(), "/v1/a/b/c%20d/");
        assert_eq!(canonical_uri("/v1/x/").unwrap(), "/v1/x/");
        assert_eq!(canonical_uri("/v1/a+b").unwrap(), "/v1/a%2Bb/");
        assert_eq!(canonical_uri("/v1/%zz"), Err(Refusal::BadPath));
        assert_eq!(canonical_uri("/v1/%FF"), Err(Refusal::BadPath));
    }

    #[test]
    fn canonical_query_keeps_plus_and_sorts_decoded_pairs() {
        let q = |raw: &str| canonical_query(Some(raw));
        assert_eq!(q("b=2&a=x+y&a=1").unwrap(), "a=1&a=x%2By&b=2");
        assert_eq!(q("a=x%20y&&flag").unwrap(), "a=x%20y&flag=");
        // Decoded '.' (0x2E) sorts before '/' (0x2F), although "%2F" < "." encoded.
        assert_eq!(q("k=%2F&k=.").unwrap(), "k=.&k=%2F");
        assert_eq!(q("a=%"), Err(Refusal::BadQuery));
        assert_eq!(canonical_query(None).unwrap(), "");
    }
}
