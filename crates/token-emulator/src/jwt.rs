//! Minimal HS256 JSON Web Tokens: what the emulator mints and later checks.
//!
//! Real NCP and Cloudforet sign with keys of their own (Cloudforet with RS256); clients only
//! read the claims, so HMAC with a per-emulator random key is enough to make forged or
//! foreign tokens fail verification.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// An HS256 signing key. `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct JwtKey(Vec<u8>);

impl JwtKey {
    /// A fresh random 32-byte key.
    ///
    /// `fastrand` is not a cryptographic generator: good enough for a test server whose
    /// tokens guard nothing, and the README says so.
    pub(crate) fn random() -> Self {
        let mut rng = fastrand::Rng::new();
        Self((0..32).map(|_| rng.u8(..)).collect())
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length")
    }
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKey(** redacted **)")
    }
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs `claims` into a compact JWT.
pub(crate) fn encode(claims: &Map<String, Value>, key: &JwtKey) -> String {
    let header = URL_SAFE_NO_PAD.encode(HEADER);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies the signature (in constant time) and returns the claims; `None` for anything
/// malformed, another algorithm, or a signature made with another key.
pub(crate) fn decode(token: &str, key: &JwtKey) -> Option<Map<String, Value>> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, _) = signing_input.split_once('.')?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature).ok()?;
    peek(token)
}

/// The claims without checking the signature: only for choosing which check comes first.
pub(crate) fn peek(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Random lower-case hex, for ids (`jti`, token ids, request ids).
pub(crate) fn random_hex(len: usize) -> String {
    let mut rng = fastrand::Rng::new();
    (0..len)
        .map(|_| char::from_digit(rng.u32(..16), 16).expect("digit below 16"))
        .collect()
}

/// A random version-4 UUID (8-4-4-4-12 hex).
pub(crate) fn random_uuid() -> String {
    let h = random_hex(32);
    let variant = ["8", "9", "a", "b"][fastrand::usize(..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_key() {
        let key = JwtKey::random();
        let mut claims = Map::new();
        claims.insert("typ".into(), Value::from("ACCESS_TOKEN"));
        claims.insert("exp".into(), Value::from(1_700_000_000));
        let token = encode(&claims, &key);
        assert_eq!(decode(&token, &key), Some(claims.clone()));
        assert_eq!(decode(&token, &JwtKey::random()), None);
        assert_eq!(peek(&token), Some(claims));
        assert_eq!(decode("not.a.jwt", &key), None);
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", JwtKey::random()), "JwtKey(** redacted **)");
    }

    #[test]
    fn uuid_has_its_shape() {
        let id = random_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(&id[14..15], "4", "{id}");
    }
}
