//! What the KMS token calls answer.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer};

use crate::lenient;
use crate::SecretString;

/// An access token and a refresh token for one key.
///
/// Both tokens are secrets: they carry every permission the requesting key holder has on
/// the key and cannot be revoked one by one. `Debug` prints them redacted.
///
/// The expiry times are read from each JWT's `exp` claim without verifying the token; they
/// are `None` for an unlimited (`"UL"`) token, which carries no `exp`, and for a token
/// whose claims cannot be read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenSet {
    /// The access token, sent as `x-ncp-ocapi-token` on crypto calls.
    pub access_token: SecretString,
    /// The refresh token, used to get new access tokens and to renew the set.
    pub refresh_token: SecretString,
    /// When the access token expires (`None`: never, or unknown).
    pub access_token_expires_at: Option<SystemTime>,
    /// When the refresh token expires (`None`: never, or unknown).
    pub refresh_token_expires_at: Option<SystemTime>,
}

impl TokenSet {
    /// A token set from the two tokens (say, kept from an earlier run), with the expiry of
    /// each read from its `exp` claim.
    pub fn from_tokens(access_token: SecretString, refresh_token: SecretString) -> Self {
        Self {
            access_token_expires_at: expiry_of(&access_token),
            refresh_token_expires_at: expiry_of(&refresh_token),
            access_token,
            refresh_token,
        }
    }
}

/// An access token got with a refresh token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KmsAccessToken {
    /// The access token.
    pub token: SecretString,
    /// When it expires (`None`: never, or unknown).
    pub expires_at: Option<SystemTime>,
}

/// The old name of [`KmsAccessToken`].
#[deprecated(note = "renamed KmsAccessToken (cloudforet_identity_client's is SessionAccessToken)")]
pub type AccessToken = KmsAccessToken;

impl KmsAccessToken {
    /// An access token, its expiry read from its `exp` claim.
    pub fn from_token(token: SecretString) -> Self {
        Self {
            expires_at: expiry_of(&token),
            token,
        }
    }
}

/// The `exp` of a JWT; `None` when it has none (unlimited) or cannot be read. A token that
/// is not a JWT is not an error here: the service is the judge of its tokens.
pub(crate) fn expiry_of(token: &SecretString) -> Option<SystemTime> {
    match token_common::jwt::read_times(token.expose_secret()) {
        Ok(times) => times.expires_at(),
        Err(_) => {
            tracing::debug!("token claims unreadable; its expiry is unknown");
            None
        }
    }
}

/// The wire form of a token set (`data` of create and renew).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenSetData {
    pub(crate) access_token: SecretString,
    pub(crate) refresh_token: SecretString,
}

/// The wire form of a refreshed access token.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccessTokenData {
    pub(crate) access_token: SecretString,
}

/// A key's token generator, which mints the key's tokens.
///
/// Every field is optional on decode, so an answer with fields missing still reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct TokenGenerator {
    /// The generator's id; it changes when the generator is replaced.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub token_generator_id: Option<String>,
    /// Whether it mints tokens.
    pub status: GeneratorStatus,
    /// When it was enabled, as the service wrote it (epoch milliseconds or date text).
    #[serde(deserialize_with = "lenient::opt_text")]
    pub enabled_date: Option<String>,
    /// When it was disabled, as the service wrote it.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub disabled_date: Option<String>,
    /// How many tokens it has issued.
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub issued_token_count: Option<u64>,
}

/// Whether a token generator mints tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GeneratorStatus {
    /// `ACTIVE`: it mints tokens.
    Active,
    /// `INACTIVE`: disabled; tokens it issued are no longer accepted.
    Inactive,
    /// A status this library does not know, as the service wrote it (empty when absent).
    Unknown(String),
}

impl Default for GeneratorStatus {
    fn default() -> Self {
        GeneratorStatus::Unknown(String::new())
    }
}

impl GeneratorStatus {
    /// The service's name for the status.
    pub fn as_str(&self) -> &str {
        match self {
            GeneratorStatus::Active => "ACTIVE",
            GeneratorStatus::Inactive => "INACTIVE",
            GeneratorStatus::Unknown(s) => s,
        }
    }
}

impl fmt::Display for GeneratorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GeneratorStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match lenient::opt_text(d)?.unwrap_or_default().as_str() {
            "ACTIVE" => GeneratorStatus::Active,
            "INACTIVE" => GeneratorStatus::Inactive,
            other => GeneratorStatus::Unknown(other.to_owned()),
        })
    }
}

/// One page of the key list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct KeyPage {
    /// The keys on this page (`keyList`).
    #[serde(rename = "keyList", deserialize_with = "lenient::vec_or_null")]
    pub keys: Vec<KeyInfo>,
    /// This page's number (from 1).
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub current_page_no: Option<u64>,
    /// How many pages there are.
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub total_page_no: Option<u64>,
    /// How many keys there are in all.
    #[serde(deserialize_with = "lenient::opt_u64")]
    pub total_count: Option<u64>,
}

/// A KMS key as the key list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct KeyInfo {
    /// The key's id.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub key_id: Option<String>,
    /// The key tag, which names the key in every token call.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub key_tag: Option<String>,
    /// The key's display name.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub key_name: Option<String>,
    /// The key's algorithm.
    pub key_type: KeyType,
    /// The key's state, as the service wrote it (e.g. `ENABLE`).
    #[serde(deserialize_with = "lenient::opt_text")]
    pub status: Option<String>,
    /// How the key is protected, as the service wrote it (e.g. `SOFTWARE`).
    #[serde(deserialize_with = "lenient::opt_text")]
    pub protection_type: Option<String>,
    /// Whether the key is a convergent key.
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_convergent: Option<bool>,
    /// When the key was registered, as the service wrote it.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub register_date: Option<String>,
    /// When the key is or was destroyed, as the service wrote it.
    #[serde(deserialize_with = "lenient::opt_text")]
    pub destroy_date: Option<String>,
}

/// A key's algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `AES256`.
    Aes256,
    /// `RSA2048`.
    Rsa2048,
    /// `ECDSA`.
    Ecdsa,
    /// A type this library does not know, as the service wrote it (empty when absent).
    Unknown(String),
}

impl Default for KeyType {
    fn default() -> Self {
        KeyType::Unknown(String::new())
    }
}

impl KeyType {
    /// The service's name for the type.
    pub fn as_str(&self) -> &str {
        match self {
            KeyType::Aes256 => "AES256",
            KeyType::Rsa2048 => "RSA2048",
            KeyType::Ecdsa => "ECDSA",
            KeyType::Unknown(s) => s,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KeyType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match lenient::opt_text(d)?.unwrap_or_default().as_str() {
            "AES256" => KeyType::Aes256,
            "RSA2048" => KeyType::Rsa2048,
            "ECDSA" => KeyType::Ecdsa,
            other => KeyType::Unknown(other.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_decodes_with_fields_missing_or_as_numbers() {
        let g: TokenGenerator = serde_json::from_str(
            r#"{"tokenGeneratorId":"g1","status":"ACTIVE","enabledDate":1700000000000,
                "disabledDate":null,"issuedTokenCount":"3"}"#,
        )
        .unwrap();
        assert_eq!(g.token_generator_id.as_deref(), Some("g1"));
        assert_eq!(g.status, GeneratorStatus::Active);
        assert_eq!(g.enabled_date.as_deref(), Some("1700000000000"));
        assert_eq!(g.disabled_date, None);
        assert_eq!(g.issued_token_count, Some(3));
        let empty: TokenGenerator = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.status, GeneratorStatus::Unknown(String::new()));
        let new: TokenGenerator = serde_json::from_str(r#"{"status":"PAUSED"}"#).unwrap();
        assert_eq!(new.status, GeneratorStatus::Unknown("PAUSED".into()));
    }

    #[test]
    fn key_page_decodes_known_and_unknown_types() {
        let p: KeyPage = serde_json::from_str(
            r#"{"currentPageNo":1,"totalPageNo":2,"totalCount":3,"keyList":[
                {"keyId":7,"keyTag":"t1","keyType":"AES256","isConvergent":false},
                {"keyTag":"t2","keyType":"RSA2048"},{"keyTag":"t3","keyType":"ECDSA"},
                {"keyTag":"t4","keyType":"ML-KEM"},{"keyTag":"t5"}]}"#,
        )
        .unwrap();
        let types: Vec<&str> = p.keys.iter().map(|k| k.key_type.as_str()).collect();
        assert_eq!(types, ["AES256", "RSA2048", "ECDSA", "ML-KEM", ""]);
        assert_eq!(p.keys[0].key_id.as_deref(), Some("7"));
        assert_eq!(p.keys[0].is_convergent, Some(false));
        assert_eq!(p.keys[3].key_type, KeyType::Unknown("ML-KEM".into()));
        assert_eq!(
            (p.current_page_no, p.total_page_no, p.total_count),
            (Some(1), Some(2), Some(3))
        );
        let none: KeyPage = serde_json::from_str(r#"{"keyList":null}"#).unwrap();
        assert!(none.keys.is_empty());
    }
}
