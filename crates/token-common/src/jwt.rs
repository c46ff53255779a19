//! Reading a JWT's claims without verifying it.
//!
//! Clients read `exp` from the tokens they are given to know when to refresh; the issuer
//! verifies signatures, so this module deliberately does not.

use std::time::SystemTime;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::clock::from_unix_seconds;
use crate::error::{Error, Result};

/// The claims of a JWT.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `exp`, seconds since the Unix epoch.
    pub exp: Option<i64>,
    /// `iat`, seconds since the Unix epoch.
    pub iat: Option<i64>,
    /// Every claim, `exp` and `iat` included.
    pub all: Map<String, Value>,
}

impl Claims {
    /// When the token expires, if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.exp.map(from_unix_seconds)
    }

    /// When the token was issued, if it says.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.iat.map(from_unix_seconds)
    }

    /// A claim's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.all.get(name)
    }

    /// A string claim's value.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.all.get(name).and_then(Value::as_str)
    }
}

/// Reads the claims of a compact JWS (`header.payload.signature`) without verifying it.
///
/// Malformed input is an [`Error::InvalidInput`] for the field `jwt` that never quotes the
/// token.
///
/// ```
/// // {"alg":"none"} . {"exp":1700000000,"sub":"u"} .
/// let t = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDAsInN1YiI6InUifQ.";
/// let claims = token_common::jwt::read_claims(t).unwrap();
/// assert_eq!(claims.exp, Some(1_700_000_000));
/// assert_eq!(claims.get_str("sub"), Some("u"));
/// ```
pub fn read_claims(token: &str) -> Result<Claims> {
    let bytes = payload_bytes(token)?;
    let all: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid_input("jwt", "payload is not a JSON object"))?;
    let exp = numeric_claim(&all, "exp")?;
    let iat = numeric_claim(&all, "iat")?;
    Ok(Claims { exp, iat, all })
}

/// A JWT's `exp` and `iat` only: what a client needs to schedule a refresh, read without
/// building a map of every claim (several times cheaper than [`read_claims`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Times {
    /// `exp`, seconds since the Unix epoch.
    pub exp: Option<i64>,
    /// `iat`, seconds since the Unix epoch.
    pub iat: Option<i64>,
}

impl Times {
    /// When the token expires, if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.exp.map(from_unix_seconds)
    }

    /// When the token was issued, if it says.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.iat.map(from_unix_seconds)
    }

    /// The lifetime the issuer gave the token (`exp - iat`), when it says both.
    pub fn lifetime(&self) -> Option<std::time::Duration> {
        match (self.exp, self.iat) {
            // `exp - iat` overflows i64 for claims far apart (a server may send any
            // numbers); the distance always fits a u64.
            (Some(exp), Some(iat)) if exp >= iat => {
                Some(std::time::Duration::from_secs(exp.abs_diff(iat)))
            }
            _ => None,
        }
    }
}

/// Reads a JWT's `exp` and `iat` without verifying it; errors as [`read_claims`].
///
/// ```
/// let t = "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDAsInN1YiI6InUifQ.";
/// let times = token_common::jwt::read_times(t).unwrap();
/// assert_eq!((times.exp, times.iat), (Some(1_700_000_000), None));
/// ```
pub fn read_times(token: &str) -> Result<Times> {
    #[derive(serde::Deserialize)]
    struct Raw {
        #[serde(default)]
        exp: Option<serde_json::Number>,
        #[serde(default)]
        iat: Option<serde_json::Number>,
    }
    let bytes = payload_bytes(token)?;
    // serde would also read a struct from an array (`[exp, iat]`): only an object is a
    // claims set.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Error::invalid_input("jwt", "payload is not a JSON object"));
    }
    let raw: Raw = serde_json::from_slice(&bytes).map_err(|_| {
        Error::invalid_input(
            "jwt",
            "payload is not a JSON object with numeric `exp` and `iat`",
        )
    })?;
    Ok(Times {
        exp: raw.exp.map(|n| number_claim(&n, "exp")).transpose()?,
        iat: raw.iat.map(|n| number_claim(&n, "iat")).transpose()?,
    })
}

/// The decoded payload of a compact JWS (`header.payload.signature`).
fn payload_bytes(token: &str) -> Result<Vec<u8>> {
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::invalid_input(
            "jwt",
            "is not a JWT: expected three dot-separated parts",
        ));
    };
    let payload = payload.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::invalid_input("jwt", "payload is not base64url"))
}

fn numeric_claim(all: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => number_claim(n, name).map(Some),
        Some(_) => Err(Error::invalid_input(
            "jwt",
            format!("claim `{name}` is not a number"),
        )),
    }
}

fn number_claim(n: &serde_json::Number, name: &str) -> Result<i64> {
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                .map(|f| f as i64)
        })
        .ok_or_else(|| Error::invalid_input("jwt", format!("claim `{name}` is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn reads_exp_iat_and_other_claims() {
        let t = format!(
            "{}.{}.sig",
            b64("{}"),
            b64(r#"{"exp":20,"iat":10.0,"did":"d"}"#)
        );
        let c = read_claims(&t).unwrap();
        assert_eq!((c.exp, c.iat), (Some(20), Some(10)));
        assert_eq!(c.get_str("did"), Some("d"));
    }

    #[test]
    fn read_times_agrees_with_read_claims() {
        for payload in [
            r#"{"exp":20,"iat":10.0,"did":"d","nested":{"a":[1,2]}}"#,
            r#"{"sub":"x"}"#,
            r#"{"exp":null}"#,
        ] {
            let t = format!("{}.{}.sig", b64("{}"), b64(payload));
            let c = read_claims(&t).unwrap();
            let times = read_times(&t).unwrap();
            assert_eq!((times.exp, times.iat), (c.exp, c.iat), "{payload}");
        }
        let t = format!("{}.{}.sig", b64("{}"), b64(r#"{"exp":130,"iat":100}"#));
        assert_eq!(
            read_times(&t).unwrap().lifetime(),
            Some(std::time::Duration::from_secs(30))
        );
    }

    #[test]
    fn malformed_tokens_are_errors_not_panics() {
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "a.!!!.c",
            &format!("a.{}.c", b64("[1,2]")),
            &format!("a.{}.c", b64(r#"{"exp":"soon"}"#)),
            &format!("a.{}.c", b64(r#"{"exp":1e400}"#)),
            "a.\u{e9}\u{e9}.c",
        ] {
            let e = read_claims(bad).unwrap_err();
            assert_eq!(e.field(), Some("jwt"), "{bad}");
            let e = read_times(bad).unwrap_err();
            assert_eq!(e.field(), Some("jwt"), "{bad}");
        }
    }
}
