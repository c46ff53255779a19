//! The values the crypto calls take and return: secret bytes, and the service's
//! `ncpkms:v<N>:…` ciphertexts and signatures kept exactly as it wrote them.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::{Error, Result, SecretString};

/// The largest plaintext one `encrypt` takes, per item, in bytes (AES256 keys; RSA2048
/// keys take at most 190 bytes, which the service checks).
pub const MAX_PLAINTEXT_BYTES: usize = 32 * 1024;

/// The largest message `sign` and `verify` take, in bytes.
pub const MAX_SIGN_DATA_BYTES: usize = 8 * 1024;

/// The largest `context` the service takes, in bytes (before base64).
pub const MAX_CONTEXT_BYTES: usize = 50;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Bytes that must never be printed: a plaintext, a data key.
///
/// `Debug` shows only the length; the memory is overwritten with zeros on drop; reading the
/// bytes is one explicit call, [`expose_secret`](Self::expose_secret). On the wire they are
/// base64, written and read by the client.
///
/// ```
/// use ncp_kms_client::SecretBytes;
///
/// let p = SecretBytes::new(b"attack at dawn".to_vec());
/// assert_eq!(format!("{p:?}"), "SecretBytes(<14 bytes>)");
/// assert_eq!(p.expose_secret(), b"attack at dawn");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into()))
    }

    /// The bytes themselves.
    ///
    /// # Security
    /// They are the secret: do not log them or keep copies longer than needed.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// The number of bytes (safe to report).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The base64 the wire carries, itself held as a secret.
    pub(crate) fn to_base64(&self) -> SecretString {
        SecretString::new(B64.encode(self.expose_secret()))
    }

    /// Decodes the service's base64, naming `field` when it is not base64 (without quoting
    /// it: it is a secret).
    pub(crate) fn from_base64(text: &SecretString, field: &str, status: u16) -> Result<Self> {
        let mut out = Zeroizing::new(Vec::new());
        B64.decode_vec(text.expose_secret().trim(), &mut out)
            .map_err(|_| Error::decode(status, format!("`{field}` is not base64")))?;
        Ok(Self(out))
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes>)", self.0.len())
    }
}

/// Checks `ncpkms:v<N>:<payload>` and returns N.
fn parse_versioned(text: &str, field: &str) -> Result<u32> {
    let bad = || {
        Error::invalid_input(
            field,
            "must look like `ncpkms:v<N>:<base64>`, exactly as the service returned it",
        )
    };
    let rest = text.strip_prefix("ncpkms:v").ok_or_else(bad)?;
    let (version, payload) = rest.split_once(':').ok_or_else(bad)?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) || payload.is_empty() {
        return Err(bad());
    }
    if payload
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad());
    }
    version.parse().map_err(|_| bad())
}

macro_rules! versioned_text {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            text: String,
            version: u32,
        }

        impl $name {
            /// Reads `ncpkms:v<N>:<base64>` as the service wrote it; the text is kept byte
            /// for byte (decryption uses the key version its prefix names).
            pub fn parse(text: impl Into<String>) -> Result<Self> {
                let text = text.into();
                let version = parse_versioned(&text, $field)?;
                Ok(Self { text, version })
            }

            /// The text exactly as the service returned it, `ncpkms:v<N>:` prefix included.
            pub fn as_str(&self) -> &str {
                &self.text
            }

            /// The key version named by the prefix.
            pub fn key_version(&self) -> u32 {
                self.version
            }

            /// The text, as owned.
            pub fn into_string(self) -> String {
                self.text
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.text)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.text).finish()
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.text)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let version = parse_versioned(&text, $field).map_err(|_| {
                    serde::de::Error::custom(concat!("a ", $field, " that is not ncpkms:v<N>:…"))
                })?;
                Ok(Self { text, version })
            }
        }
    };
}

versioned_text!(
    /// A KMS ciphertext, `ncpkms:v<N>:<base64>`.
    ///
    /// Not a secret (it is encrypted), so `Debug` and `Display` show it.
    ///
    /// ```
    /// use ncp_kms_client::Ciphertext;
    ///
    /// let c = Ciphertext::parse("ncpkms:v2:AAAA").unwrap();
    /// assert_eq!(c.key_version(), 2);
    /// assert_eq!(c.as_str(), "ncpkms:v2:AAAA");
    /// assert!(Ciphertext::parse("AAAA").is_err());
    /// ```
    Ciphertext,
    "ciphertext"
);

versioned_text!(
    /// A KMS signature, `ncpkms:v<N>:<base64>`, as `sign` returns it and `verify` takes it.
    Signature,
    "signature"
);

/// The size of a custom data key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyBits {
    /// 128 bits.
    Bits128,
    /// 256 bits (the service's default).
    #[default]
    Bits256,
    /// 512 bits.
    Bits512,
}

impl KeyBits {
    /// The number of bits.
    pub fn bits(self) -> u16 {
        match self {
            KeyBits::Bits128 => 128,
            KeyBits::Bits256 => 256,
            KeyBits::Bits512 => 512,
        }
    }

    /// 128, 256 or 512; anything else is refused, naming `bits`.
    pub fn from_bits(bits: u32) -> Result<Self> {
        match bits {
            128 => Ok(KeyBits::Bits128),
            256 => Ok(KeyBits::Bits256),
            512 => Ok(KeyBits::Bits512),
            _ => Err(Error::invalid_input("bits", "must be 128, 256 or 512")),
        }
    }
}

/// What `create_custom_key` asks for.
///
/// ```
/// use ncp_kms_client::{CustomKeyOptions, KeyBits};
///
/// let o = CustomKeyOptions::new().with_bits(KeyBits::Bits512).with_plain_key(true);
/// assert_eq!(o.bits, KeyBits::Bits512);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CustomKeyOptions {
    /// Also return the data key in the clear (`requestPlainKey`; default false).
    pub request_plain_key: bool,
    /// The data key's size (default 256 bits).
    pub bits: KeyBits,
    /// The encryption context the key's ciphertext is bound to (≤ 50 bytes).
    pub context: Option<Vec<u8>>,
}

impl CustomKeyOptions {
    /// The defaults: 256 bits, no plain key, no context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for (or not) the data key in the clear.
    #[must_use]
    pub fn with_plain_key(mut self, yes: bool) -> Self {
        self.request_plain_key = yes;
        self
    }

    /// The data key's size.
    #[must_use]
    pub fn with_bits(mut self, bits: KeyBits) -> Self {
        self.bits = bits;
        self
    }

    /// Binds the key's ciphertext to a context.
    #[must_use]
    pub fn with_context(mut self, context: impl Into<Vec<u8>>) -> Self {
        self.context = Some(context.into());
        self
    }
}

/// A custom data key made by the service (`create-custom-key`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CustomKey {
    /// The data key encrypted under the KMS key.
    pub ciphertext: Ciphertext,
    /// The KMS key version that encrypted it (`key_version`; the service may leave it out).
    pub key_version: Option<u32>,
    /// The data key in the clear, when asked for.
    pub plaintext: Option<SecretBytes>,
}

/// Checks a context's size and writes it as base64.
pub(crate) fn context_b64(context: Option<&[u8]>) -> Result<Option<String>> {
    match context {
        None => Ok(None),
        Some(c) if c.len() > MAX_CONTEXT_BYTES => Err(Error::invalid_input(
            "context",
            format!(
                "must be at most {MAX_CONTEXT_BYTES} bytes (it is {})",
                c.len()
            ),
        )),
        Some(c) => Ok(Some(B64.encode(c))),
    }
}

/// Base64 of non-secret bytes (a message to sign).
pub(crate) fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_kept_exactly_and_checked() {
        let c = Ciphertext::parse("ncpkms:v12:Zm9v+/=").unwrap();
        assert_eq!((c.as_str(), c.key_version()), ("ncpkms:v12:Zm9v+/=", 12));
        for bad in [
            "",
            "ncpkms:v1:",
            "ncpkms:v:abc",
            "ncpkms:vx:abc",
            "NCPKMS:v1:abc",
            "ncpkms:1:abc",
            "abc",
            "ncpkms:v1:ab c",
        ] {
            assert_eq!(
                Ciphertext::parse(bad).unwrap_err().field(),
                Some("ciphertext"),
                "{bad:?}"
            );
        }
        assert_eq!(
            Signature::parse("x").unwrap_err().field(),
            Some("signature")
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#""ncpkms:v12:Zm9v+/=""#);
        assert_eq!(serde_json::from_str::<Ciphertext>(&json).unwrap(), c);
        assert!(serde_json::from_str::<Ciphertext>(r#""plain""#).is_err());
    }

    #[test]
    fn secret_bytes_never_print_their_content() {
        let s = SecretBytes::new(b"hunter2hunter2".to_vec());
        let shown = format!("{s:?} {s:#?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("104"), "no byte values: {shown}");
    }

    #[test]
    fn context_is_at_most_50_bytes() {
        assert_eq!(context_b64(Some(&[7; 50])).unwrap().unwrap().len(), 68);
        assert_eq!(
            context_b64(Some(&[7; 51])).unwrap_err().field(),
            Some("context")
        );
        assert_eq!(context_b64(None).unwrap(), None);
    }

    #[test]
    fn bits_are_128_256_or_512() {
        assert_eq!(KeyBits::from_bits(512).unwrap().bits(), 512);
        assert_eq!(KeyBits::from_bits(192).unwrap_err().field(), Some("bits"));
        assert_eq!(KeyBits::default().bits(), 256);
    }
}
