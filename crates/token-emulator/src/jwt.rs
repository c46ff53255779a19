//! RS256 JSON Web Tokens: what the emulator mints and later checks, for all three services.
//!
//! The real services sign with RSA keys of their own (Cloudforet with RS256, FACTS.md §3).
//! The emulator signs with a **built-in demo key pair** (`keys/demo-rs256-*.pem`, its
//! public half published in [`crate::demo::JWT_PUBLIC_KEY_PEM`]) or with a PKCS#8 key the
//! caller gives. The private half is public knowledge, so these tokens guard nothing: a
//! test double, never a security boundary.
//!
//! Each [`JwtKey`] carries a `kid` drawn from the operating system's CSPRNG and puts it in
//! every token's header; [`decode`] refuses a token whose `kid` is not its own. So an
//! access token never passes for a refresh token (Cloudforet signs the two with different
//! keys), and a token from another emulator instance is refused, as a real server refuses
//! a token signed by a key it does not hold.
//!
//! This module is the emulator's own code: it uses `ring` directly and nothing from
//! token-common, so a client's JWT reader cannot agree with it on a mistake.

use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use serde_json::{json, Map, Value};

/// The built-in demo private key (PKCS#8, RSA 2048), generated once with
/// `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`.
const DEMO_PRIVATE_KEY_PEM: &str = include_str!("keys/demo-rs256-private.pem");

/// An RS256 signing key and its key id. `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct JwtKey {
    pair: Arc<RsaKeyPair>,
    kid: String,
}

impl JwtKey {
    /// The built-in demo key pair under a fresh random key id.
    ///
    /// (The name predates RS256: RSA keys are not generated at start, the key *id* is.)
    pub(crate) fn random() -> Self {
        static DEMO: OnceLock<Arc<RsaKeyPair>> = OnceLock::new();
        let pair = DEMO.get_or_init(|| {
            Arc::new(
                pair_from_pem(DEMO_PRIVATE_KEY_PEM).expect("the embedded demo key is valid PKCS#8"),
            )
        });
        Self {
            pair: Arc::clone(pair),
            kid: random_hex(16),
        }
    }

    /// A key from a PEM `PRIVATE KEY` (PKCS#8, RSA 2048 to 8192 bits), under a fresh key id.
    #[allow(dead_code)] // used by the config's optional key files
    pub(crate) fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
        Ok(Self {
            pair: Arc::new(pair_from_pem(pem)?),
            kid: random_hex(16),
        })
    }

    /// The public key as DER `RSAPublicKey` (PKCS#1), for verification.
    fn public_der(&self) -> &[u8] {
        self.pair.public().as_ref()
    }
}

fn pair_from_pem(pem: &str) -> Result<RsaKeyPair, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| "the key is not PEM (base64 between BEGIN/END lines)".to_owned())?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("the key is not an RSA PKCS#8 key: {e}"))
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JwtKey(kid = {}, ** redacted **)", self.kid)
    }
}

/// Signs `claims` into a compact RS256 JWT whose header names the key's `kid`.
pub(crate) fn encode(claims: &Map<String, Value>, key: &JwtKey) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}).to_string();
    let header = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let signing_input = format!("{header}.{payload}");
    let mut sig = vec![0; key.pair.public().modulus_len()];
    key.pair
        .sign(
            &signature::RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input.as_bytes(),
            &mut sig,
        )
        .expect("RSA signing fails only when the system RNG does");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// Verifies the RS256 signature and the key id, and returns the claims; `None` for
/// anything malformed, another algorithm (`none`, `HS256`, …), another key id, or a
/// signature the key did not make.
pub(crate) fn decode(token: &str, key: &JwtKey) -> Option<Map<String, Value>> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, _) = signing_input.split_once('.')?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "RS256" || header.get("kid")?.as_str()? != key.kid {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key.public_der())
        .verify(signing_input.as_bytes(), &signature)
        .ok()?;
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

/// `len` random bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random generator is available");
    bytes
}

/// Random lower-case hex from the CSPRNG, for ids (`jti`, token ids, request ids).
pub(crate) fn random_hex(len: usize) -> String {
    random_bytes(len.div_ceil(2))
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0f])
        .take(len)
        .map(|n| char::from_digit(u32::from(n), 16).expect("a nibble is below 16"))
        .collect()
}

/// A random version-4 UUID (8-4-4-4-12 hex) from the CSPRNG.
pub(crate) fn random_uuid() -> String {
    let mut b = random_bytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("typ".into(), Value::from("ACCESS_TOKEN"));
        claims.insert("exp".into(), Value::from(1_700_000_000));
        claims
    }

    #[test]
    fn round_trips_and_refuses_other_key() {
        let key = JwtKey::random();
        let token = encode(&claims(), &key);
        assert_eq!(decode(&token, &key), Some(claims()));
        assert_eq!(decode(&token, &JwtKey::random()), None);
        assert_eq!(peek(&token), Some(claims()));
        assert_eq!(decode("not.a.jwt", &key), None);
    }

    #[test]
    fn tokens_are_rs256_and_verify_with_the_published_public_key() {
        let key = JwtKey::random();
        let token = encode(&claims(), &key);
        let header = token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        // The public key documented in demo.rs (SubjectPublicKeyInfo) verifies the token.
        let spki: String = crate::demo::JWT_PUBLIC_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let spki = STANDARD.decode(spki).unwrap();
        // An RSA SubjectPublicKeyInfo ends with the PKCS#1 RSAPublicKey ring wants.
        assert!(spki.ends_with(key.public_der()));
        let (input, sig) = token.rsplit_once('.').unwrap();
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, key.public_der())
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
    }

    #[test]
    fn refuses_tampering_and_other_algorithms() {
        let key = JwtKey::random();
        let token = encode(&claims(), &key);
        let (head, rest) = token.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let mut forged = claims();
        forged.insert("exp".into(), Value::from(4_000_000_000_i64));
        let payload = URL_SAFE_NO_PAD.encode(Value::Object(forged).to_string());
        assert_eq!(decode(&format!("{head}.{payload}.{sig}"), &key), None);
        // Same kid, alg none or HS256: refused whatever the signature.
        for alg in ["none", "HS256"] {
            let h = json!({"alg": alg, "kid": key.kid}).to_string();
            let t = format!(
                "{}.{}.{sig}",
                URL_SAFE_NO_PAD.encode(h),
                rest.split('.').next().unwrap()
            );
            assert_eq!(decode(&t, &key), None, "{alg}");
        }
    }

    #[test]
    fn a_pkcs8_key_from_pem_signs() {
        let key = JwtKey::from_pkcs8_pem(DEMO_PRIVATE_KEY_PEM).unwrap();
        assert_eq!(decode(&encode(&claims(), &key), &key), Some(claims()));
        let e =
            JwtKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .unwrap_err();
        assert!(e.contains("PKCS#8"), "{e}");
    }

    #[test]
    fn debug_hides_key() {
        let debug = format!("{:?}", JwtKey::random());
        assert!(
            debug.contains("** redacted **") && !debug.contains("MII"),
            "{debug}"
        );
    }

    #[test]
    fn ids_have_their_shape_and_differ() {
        let id = random_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_eq!(&id[14..15], "4", "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_eq!(random_hex(31).len(), 31);
        assert_ne!(random_hex(32), random_hex(32));
    }
}
