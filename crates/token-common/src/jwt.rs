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
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::invalid_input("jwt", "payload is not base64url"))?;
    let all: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| Error::invalid_input("jwt", "payload is not a JSON object"))?;
    let exp = numeric_claim(&all, "exp")?;
    let iat = numeric_claim(&all, "iat")?;
    Ok(Claims { exp, iat, all })
}

fn numeric_claim(all: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match all.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| Error::invalid_input("jwt", format!("claim `{name}` is out of range"))),
        Some(_) => Err(Error::invalid_input(
            "jwt",
            format!("claim `{name}` is not a number"),
        )),
    }
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
        }
    }
}
