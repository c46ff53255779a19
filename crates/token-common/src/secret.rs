//! Values that must never be printed: secret keys, security tokens, passwords and tokens.

use std::fmt;

use serde::{Deserialize, Deserializer, Serializer};
use zeroize::Zeroizing;

/// The text that `Debug` and `Display` print in place of a secret.
pub const REDACTED: &str = "** redacted **";

/// A secret string: a secret key, a security token, a password or a token value.
///
/// * `Debug` and `Display` print [`REDACTED`], never the value, so a secret cannot reach a
///   log line or an error message by accident.
/// * The memory holding the value is overwritten with zeros when the value is dropped.
/// * Reading the value is one explicit call, [`SecretString::expose_secret`], easy to find
///   in review.
/// * It deserializes from a JSON string (so response models can hold tokens directly), but
///   it does not implement `Serialize`: writing a secret out is always a deliberate
///   [`expose_secret`](SecretString::expose_secret) or [`serialize_exposed`].
///
/// ```
/// use token_common::SecretString;
///
/// let key = SecretString::new("s3cr3t");
/// assert_eq!(format!("{key:?}"), "SecretString(** redacted **)");
/// assert_eq!(key.to_string(), "** redacted **");
/// assert_eq!(key.expose_secret(), "s3cr3t");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// Returns the secret itself.
    ///
    /// # Security
    /// The returned text is the secret: do not log it, format it into an error, or keep a
    /// copy longer than the call that needs it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Length of the secret in bytes (safe to report: it reveals no content).
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString({REDACTED})")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

/// Serializes a secret's value: use with `#[serde(serialize_with = "…")]` on the one field
/// of a request model that must carry a secret (a password, a refresh token).
pub fn serialize_exposed<S: Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Serializes an optional secret's value; see [`serialize_exposed`].
pub fn serialize_exposed_opt<S: Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(s) => serializer.serialize_str(s.expose_secret()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_contain_secret() {
        let s = SecretString::new("hunter2-very-secret");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s:#?}").contains("hunter2"));
        assert!(!s.to_string().contains("hunter2"));
        assert_eq!(s.expose_secret(), "hunter2-very-secret");
    }

    #[test]
    fn deserializes_from_json_string() {
        let s: SecretString = serde_json::from_str("\"tok\"").unwrap();
        assert_eq!(s.expose_secret(), "tok");
    }
}
