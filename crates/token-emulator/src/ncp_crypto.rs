//! The KMS crypto calls with real cryptography (ring): AES-256-GCM for AES256 keys,
//! ECDSA P-256 with SHA-256 for ECDSA keys, one secret per key *version*.
//!
//! A ciphertext is `ncpkms:v<N>:` + base64(nonce ‖ sealed bytes ‖ tag); the GCM
//! additional data binds it to the key tag and the `context`, so it opens only under the
//! key, the version and the context it was made with. A signature is `ncpkms:v<N>:` +
//! base64(ASN.1 DER ECDSA signature over SHA-256 of the message).
//!
//! This is an independent implementation of what the clients encode: it shares no code
//! with them.

use axum::http::StatusCode;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
    ECDSA_P256_SHA256_ASN1_SIGNING,
};
use serde_json::{json, Map, Value};

use crate::config::NcpKeyType;

/// The largest plaintext per item, decoded.
const MAX_PLAINTEXT: usize = 32 * 1024;
/// The largest message to sign, decoded.
const MAX_SIGN_DATA: usize = 8 * 1024;
/// The largest context, decoded.
const MAX_CONTEXT: usize = 50;

/// Why a crypto call is refused: an HTTP status, a KMS code and a message.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) msg: String,
}

fn invalid(msg: impl Into<String>) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code: "INVALID_REQUEST",
        msg: msg.into(),
    }
}

enum Material {
    Aes(Box<LessSafeKey>),
    Ecdsa(Box<EcdsaKeyPair>),
}

/// Every version of one key's secret, oldest first (version 1 at index 0).
pub(crate) struct KeyRing {
    kind: NcpKeyType,
    versions: Vec<Material>,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("kind", &self.kind)
            .field("versions", &self.versions.len())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A key with one version.
    pub(crate) fn new(kind: NcpKeyType) -> Self {
        let mut ring = Self {
            kind,
            versions: Vec::new(),
            rng: SystemRandom::new(),
        };
        ring.rotate();
        ring
    }

    /// The key's type.
    pub(crate) fn kind(&self) -> NcpKeyType {
        self.kind
    }

    /// Adds a version, which becomes the newest; returns its number.
    pub(crate) fn rotate(&mut self) -> u32 {
        let material = match self.kind {
            NcpKeyType::Aes256 => {
                let mut secret = [0u8; 32];
                self.rng.fill(&mut secret).expect("system randomness");
                let key = UnboundKey::new(&AES_256_GCM, &secret).expect("a 32-byte AES key");
                secret.fill(0);
                Material::Aes(Box::new(LessSafeKey::new(key)))
            }
            NcpKeyType::Ecdsa => {
                let pkcs8 =
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.rng)
                        .expect("P-256 key generation");
                let pair = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_ASN1_SIGNING,
                    pkcs8.as_ref(),
                    &self.rng,
                )
                .expect("a key ring just generated");
                Material::Ecdsa(Box::new(pair))
            }
        };
        self.versions.push(material);
        self.newest()
    }

    /// The newest version's number.
    pub(crate) fn newest(&self) -> u32 {
        self.versions.len() as u32
    }

    fn version(&self, n: u32) -> Option<&Material> {
        self.versions.get((n as usize).checked_sub(1)?)
    }

    fn aes(&self, n: u32) -> Result<&LessSafeKey, Refusal> {
        match self.version(n) {
            Some(Material::Aes(k)) => Ok(k),
            Some(Material::Ecdsa(_)) => Err(wrong_type("this call", self.kind)),
            None => Err(invalid(format!("The key has no version {n}."))),
        }
    }

    fn seal(&self, tag: &str, plaintext: &[u8], context: &[u8]) -> Result<String, Refusal> {
        let n = self.newest();
        let key = self.aes(n)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("system randomness");
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(tag, context)),
            &mut sealed,
        )
        .map_err(|_| invalid("The plaintext cannot be encrypted."))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("ncpkms:v{n}:{}", B64.encode(out)))
    }

    fn open(&self, tag: &str, text: &str, context: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (n, bytes) = versioned(text, "ciphertext")?;
        let key = self.aes(n)?;
        let cannot = || invalid("The ciphertext cannot be decrypted with this key and context.");
        if bytes.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(cannot());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| cannot())?;
        let mut sealed = sealed.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(aad(tag, context)), &mut sealed)
            .map_err(|_| cannot())?;
        Ok(plain.to_vec())
    }

    fn sign(&self, message: &[u8]) -> Result<String, Refusal> {
        let n = self.newest();
        let Some(Material::Ecdsa(pair)) = self.version(n) else {
            return Err(wrong_type("sign", self.kind));
        };
        let sig = pair
            .sign(&self.rng, message)
            .map_err(|_| invalid("The data cannot be signed."))?;
        Ok(format!("ncpkms:v{n}:{}", B64.encode(sig.as_ref())))
    }

    fn verify(&self, message: &[u8], text: &str) -> Result<bool, Refusal> {
        if self.kind != NcpKeyType::Ecdsa {
            return Err(wrong_type("verify", self.kind));
        }
        let (n, sig) = versioned(text, "signature")?;
        let Some(Material::Ecdsa(pair)) = self.version(n) else {
            return Err(invalid(format!("The key has no version {n}.")));
        };
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, pair.public_key().as_ref());
        Ok(public.verify(message, &sig).is_ok())
    }
}

/// The GCM additional data: the key tag, a separator, the context.
fn aad(tag: &str, context: &[u8]) -> Vec<u8> {
    let mut out = tag.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(context);
    out
}

fn wrong_type(call: &str, kind: NcpKeyType) -> Refusal {
    invalid(format!(
        "{call} is not supported for {} keys.",
        kind.as_str()
    ))
}

/// `ncpkms:v<N>:<base64>` → (N, bytes).
fn versioned(text: &str, field: &str) -> Result<(u32, Vec<u8>), Refusal> {
    let bad = || invalid(format!("{field} is not an ncpkms:v<N>: value."));
    let rest = text.strip_prefix("ncpkms:v").ok_or_else(bad)?;
    let (n, payload) = rest.split_once(':').ok_or_else(bad)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = n.parse().map_err(|_| bad())?;
    let bytes = B64.decode(payload).map_err(|_| bad())?;
    Ok((n, bytes))
}

/// A body field that must be a base64 string of at most `max` bytes decoded.
fn base64_field(body: &Map<String, Value>, field: &str, max: usize) -> Result<Vec<u8>, Refusal> {
    match body.get(field) {
        Some(Value::String(s)) => decode_limited(s, field, max),
        None | Some(Value::Null) => Err(invalid(format!("{field} is required."))),
        Some(_) => Err(invalid(format!("{field} must be a base64 string."))),
    }
}

fn decode_limited(s: &str, field: &str, max: usize) -> Result<Vec<u8>, Refusal> {
    let bytes = B64
        .decode(s)
        .map_err(|_| invalid(format!("{field} must be base64.")))?;
    if bytes.len() > max {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_REQUEST",
            msg: format!("{field} must be at most {max} bytes."),
        });
    }
    Ok(bytes)
}

fn context(body: &Map<String, Value>) -> Result<Vec<u8>, Refusal> {
    match body.get("context") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => decode_limited(s, "context", MAX_CONTEXT),
        Some(_) => Err(invalid("context must be a base64 string.")),
    }
}

/// A field holding one string or a non-empty array of strings.
fn one_or_many<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<(Vec<&'a str>, bool), Refusal> {
    match body.get(field) {
        Some(Value::String(s)) => Ok((vec![s.as_str()], false)),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| invalid(format!("{field} items must be strings.")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| (v, true)),
        None | Some(Value::Null) => Err(invalid(format!("{field} is required."))),
        Some(_) => Err(invalid(format!(
            "{field} must be a string or a non-empty array of strings."
        ))),
    }
}

fn shaped(items: Vec<String>, array: bool) -> Value {
    if array {
        json!(items)
    } else {
        json!(items.into_iter().next())
    }
}

/// Refuses fields the call does not take (KMS answers 400 to unknown fields).
fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), Refusal> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(invalid(format!("Unknown field: {k}."))),
        None => Ok(()),
    }
}

/// Performs `action` on the key tagged `tag` and returns the answer's `data`.
pub(crate) fn perform(
    ring: &KeyRing,
    tag: &str,
    action: &str,
    body: &Map<String, Value>,
) -> Result<Value, Refusal> {
    let needs = match action {
        "sign" | "verify" => NcpKeyType::Ecdsa,
        _ => NcpKeyType::Aes256,
    };
    if ring.kind != needs {
        return Err(wrong_type(action, ring.kind));
    }
    match action {
        "encrypt" => {
            only(body, &["plaintext", "context"])?;
            let ctx = context(body)?;
            let (items, array) = one_or_many(body, "plaintext")?;
            let out = items
                .iter()
                .map(|p| {
                    let plain = decode_limited(p, "plaintext", MAX_PLAINTEXT)?;
                    ring.seal(tag, &plain, &ctx)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "ciphertext": shaped(out, array) }))
        }
        "decrypt" => {
            only(body, &["ciphertext", "context"])?;
            let ctx = context(body)?;
            let (items, array) = one_or_many(body, "ciphertext")?;
            let out = items
                .iter()
                .map(|c| ring.open(tag, c, &ctx).map(|p| B64.encode(p)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "plaintext": shaped(out, array) }))
        }
        "re-encrypt" | "reencrypt" => {
            only(body, &["ciphertext", "context"])?;
            let ctx = context(body)?;
            let (items, array) = one_or_many(body, "ciphertext")?;
            let out = items
                .iter()
                .map(|c| ring.seal(tag, &ring.open(tag, c, &ctx)?, &ctx))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "newCiphertext": shaped(out, array) }))
        }
        "sign" => {
            only(body, &["data"])?;
            let data = base64_field(body, "data", MAX_SIGN_DATA)?;
            Ok(json!({ "signature": ring.sign(&data)? }))
        }
        "verify" => {
            only(body, &["data", "signature"])?;
            let data = base64_field(body, "data", MAX_SIGN_DATA)?;
            let Some(Value::String(sig)) = body.get("signature") else {
                return Err(invalid("signature is required."));
            };
            Ok(json!({ "valid": ring.verify(&data, sig)? }))
        }
        "create-custom-key" => {
            only(body, &["requestPlainKey", "bits", "context"])?;
            let ctx = context(body)?;
            let plain_wanted = match body.get("requestPlainKey") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err(invalid("requestPlainKey must be a boolean.")),
            };
            let bits = match body.get("bits") {
                None | Some(Value::Null) => 256,
                Some(v) => match v.as_u64() {
                    Some(b @ (128 | 256 | 512)) => b,
                    _ => return Err(invalid("bits must be 128, 256 or 512.")),
                },
            };
            let mut data_key = vec![0u8; (bits / 8) as usize];
            ring.rng.fill(&mut data_key).expect("system randomness");
            let ciphertext = ring.seal(tag, &data_key, &ctx)?;
            let mut data = json!({ "ciphertext": ciphertext, "key_version": ring.newest() });
            if plain_wanted {
                data["plaintext"] = json!(B64.encode(&data_key));
            }
            data_key.fill(0);
            Ok(data)
        }
        _ => Err(invalid("Unknown action.")),
    }
}
