//! The six crypto calls (`POST /keys/{keyTag}/{action}`), with an access token or with
//! account keys: same paths, same bodies.

mod types;

use serde::{Deserialize, Serialize};
use token_common::secret::serialize_exposed;

use crate::{lenient, Error, KmsClient, Result, SecretString};

use types::{b64, context_b64};
pub use types::{
    Ciphertext, CustomKey, CustomKeyOptions, KeyBits, SecretBytes, Signature, MAX_CONTEXT_BYTES,
    MAX_PLAINTEXT_BYTES, MAX_SIGN_DATA_BYTES,
};

/// One value or an array of them, as the crypto calls send and answer.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn one(self, field: &str, status: u16) -> Result<T> {
        match self {
            OneOrMany::One(v) => Ok(v),
            OneOrMany::Many(_) => Err(Error::decode(
                status,
                format!("`{field}` is an array where one value was sent"),
            )),
        }
    }

    fn many(self, field: &str, expected: usize, status: u16) -> Result<Vec<T>> {
        match self {
            OneOrMany::Many(v) if v.len() == expected => Ok(v),
            OneOrMany::Many(v) => Err(Error::decode(
                status,
                format!("`{field}` has {} items for {expected} sent", v.len()),
            )),
            OneOrMany::One(_) => Err(Error::decode(
                status,
                format!("`{field}` is one value where an array was sent"),
            )),
        }
    }
}

/// A base64 secret on the wire.
#[derive(Serialize)]
struct WireSecret(#[serde(serialize_with = "serialize_exposed")] SecretString);

#[derive(Serialize)]
struct EncryptBody {
    plaintext: OneOrMany<WireSecret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

#[derive(Serialize)]
struct CiphertextBody<'a> {
    ciphertext: OneOrMany<&'a Ciphertext>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

#[derive(Deserialize)]
struct EncryptData {
    ciphertext: OneOrMany<Ciphertext>,
}

#[derive(Deserialize)]
struct DecryptData {
    plaintext: OneOrMany<SecretString>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReencryptData {
    new_ciphertext: OneOrMany<Ciphertext>,
}

#[derive(Serialize)]
struct SignBody<'a> {
    data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<&'a Signature>,
}

#[derive(Deserialize)]
struct SignData {
    signature: Signature,
}

#[derive(Deserialize)]
struct VerifyData {
    #[serde(deserialize_with = "lenient::opt_bool", default)]
    valid: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomKeyBody {
    request_plain_key: bool,
    bits: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

#[derive(Deserialize)]
struct CustomKeyData {
    ciphertext: Ciphertext,
    #[serde(default, deserialize_with = "lenient::opt_u64")]
    key_version: Option<u64>,
    #[serde(default)]
    plaintext: Option<SecretString>,
}

fn check_plaintext(p: &SecretBytes, field: &str) -> Result<WireSecret> {
    if p.len() > MAX_PLAINTEXT_BYTES {
        return Err(Error::invalid_input(
            field,
            format!(
                "must be at most {MAX_PLAINTEXT_BYTES} bytes (it is {})",
                p.len()
            ),
        ));
    }
    Ok(WireSecret(p.to_base64()))
}

fn check_sign_data(data: &[u8]) -> Result<String> {
    if data.len() > MAX_SIGN_DATA_BYTES {
        return Err(Error::invalid_input(
            "data",
            format!(
                "must be at most {MAX_SIGN_DATA_BYTES} bytes (it is {})",
                data.len()
            ),
        ));
    }
    Ok(b64(data))
}

fn non_empty<T>(items: &[T], field: &str) -> Result<()> {
    if items.is_empty() {
        return Err(Error::invalid_input(field, "must hold at least one item"));
    }
    Ok(())
}

/// `plaintext[3]`-style field names for array items.
fn item(field: &str, i: usize) -> String {
    format!("{field}[{i}]")
}

impl KmsClient {
    /// Encrypts `plaintext` (at most 32 KB) under the key (`POST /keys/{keyTag}/encrypt`),
    /// bound to `context` (at most 50 bytes; required by convergent keys) when given.
    pub async fn encrypt(
        &self,
        key_tag: &str,
        plaintext: &SecretBytes,
        context: Option<&[u8]>,
    ) -> Result<Ciphertext> {
        let body = EncryptBody {
            plaintext: OneOrMany::One(check_plaintext(plaintext, "plaintext")?),
            context: context_b64(context)?,
        };
        let (data, status): (EncryptData, u16) = self
            .crypto(key_tag, "encrypt", "/keys/{keyTag}/encrypt", &body)
            .await?;
        data.ciphertext.one("ciphertext", status)
    }

    /// Encrypts several plaintexts in one call (the array form), in order.
    pub async fn encrypt_many(
        &self,
        key_tag: &str,
        plaintexts: &[SecretBytes],
        context: Option<&[u8]>,
    ) -> Result<Vec<Ciphertext>> {
        non_empty(plaintexts, "plaintext")?;
        let items = plaintexts
            .iter()
            .enumerate()
            .map(|(i, p)| check_plaintext(p, &item("plaintext", i)))
            .collect::<Result<Vec<_>>>()?;
        let body = EncryptBody {
            plaintext: OneOrMany::Many(items),
            context: context_b64(context)?,
        };
        let (data, status): (EncryptData, u16) = self
            .crypto(key_tag, "encrypt", "/keys/{keyTag}/encrypt", &body)
            .await?;
        data.ciphertext.many("ciphertext", plaintexts.len(), status)
    }

    /// Decrypts a ciphertext (`POST /keys/{keyTag}/decrypt`) with the context it was
    /// encrypted with.
    pub async fn decrypt(
        &self,
        key_tag: &str,
        ciphertext: &Ciphertext,
        context: Option<&[u8]>,
    ) -> Result<SecretBytes> {
        let body = CiphertextBody {
            ciphertext: OneOrMany::One(ciphertext),
            context: context_b64(context)?,
        };
        let (data, status): (DecryptData, u16) = self
            .crypto(key_tag, "decrypt", "/keys/{keyTag}/decrypt", &body)
            .await?;
        SecretBytes::from_base64(
            &data.plaintext.one("plaintext", status)?,
            "plaintext",
            status,
        )
    }

    /// Decrypts several ciphertexts in one call (the array form), in order.
    pub async fn decrypt_many(
        &self,
        key_tag: &str,
        ciphertexts: &[Ciphertext],
        context: Option<&[u8]>,
    ) -> Result<Vec<SecretBytes>> {
        non_empty(ciphertexts, "ciphertext")?;
        let body = CiphertextBody {
            ciphertext: OneOrMany::Many(ciphertexts.iter().collect()),
            context: context_b64(context)?,
        };
        let (data, status): (DecryptData, u16) = self
            .crypto(key_tag, "decrypt", "/keys/{keyTag}/decrypt", &body)
            .await?;
        data.plaintext
            .many("plaintext", ciphertexts.len(), status)?
            .iter()
            .map(|p| SecretBytes::from_base64(p, "plaintext", status))
            .collect()
    }

    /// Signs `data` (at most 8 KB; the service hashes it with SHA-256) with the key
    /// (`POST /keys/{keyTag}/sign`; RSA2048 and ECDSA keys).
    pub async fn sign(&self, key_tag: &str, data: &[u8]) -> Result<Signature> {
        let body = SignBody {
            data: check_sign_data(data)?,
            signature: None,
        };
        let (data, _): (SignData, u16) = self
            .crypto(key_tag, "sign", "/keys/{keyTag}/sign", &body)
            .await?;
        Ok(data.signature)
    }

    /// Whether `signature` is the key's signature of `data` (`POST /keys/{keyTag}/verify`).
    /// A signature that does not match is `Ok(false)`, not an error.
    pub async fn verify(&self, key_tag: &str, data: &[u8], signature: &Signature) -> Result<bool> {
        let body = SignBody {
            data: check_sign_data(data)?,
            signature: Some(signature),
        };
        let (data, status): (VerifyData, u16) = self
            .crypto(key_tag, "verify", "/keys/{keyTag}/verify", &body)
            .await?;
        data.valid
            .ok_or_else(|| Error::decode(status, "`valid` is missing or not true/false"))
    }

    /// Re-encrypts a ciphertext under the key's newest version
    /// (`POST /keys/{keyTag}/re-encrypt`), keeping its context.
    pub async fn reencrypt(
        &self,
        key_tag: &str,
        ciphertext: &Ciphertext,
        context: Option<&[u8]>,
    ) -> Result<Ciphertext> {
        let body = CiphertextBody {
            ciphertext: OneOrMany::One(ciphertext),
            context: context_b64(context)?,
        };
        let (data, status): (ReencryptData, u16) = self
            .crypto(key_tag, "re-encrypt", "/keys/{keyTag}/re-encrypt", &body)
            .await?;
        data.new_ciphertext.one("newCiphertext", status)
    }

    /// Re-encrypts several ciphertexts in one call (the array form), in order.
    pub async fn reencrypt_many(
        &self,
        key_tag: &str,
        ciphertexts: &[Ciphertext],
        context: Option<&[u8]>,
    ) -> Result<Vec<Ciphertext>> {
        non_empty(ciphertexts, "ciphertext")?;
        let body = CiphertextBody {
            ciphertext: OneOrMany::Many(ciphertexts.iter().collect()),
            context: context_b64(context)?,
        };
        let (data, status): (ReencryptData, u16) = self
            .crypto(key_tag, "re-encrypt", "/keys/{keyTag}/re-encrypt", &body)
            .await?;
        data.new_ciphertext
            .many("newCiphertext", ciphertexts.len(), status)
    }

    /// Has the service make a data key and encrypt it under the KMS key
    /// (`POST /keys/{keyTag}/create-custom-key`); with
    /// [`request_plain_key`](CustomKeyOptions::request_plain_key) the key also comes back in
    /// the clear, to use locally and then drop.
    pub async fn create_custom_key(
        &self,
        key_tag: &str,
        options: &CustomKeyOptions,
    ) -> Result<CustomKey> {
        let body = CustomKeyBody {
            request_plain_key: options.request_plain_key,
            bits: options.bits.bits(),
            context: context_b64(options.context.as_deref())?,
        };
        let (data, status): (CustomKeyData, u16) = self
            .crypto(
                key_tag,
                "create-custom-key",
                "/keys/{keyTag}/create-custom-key",
                &body,
            )
            .await?;
        let key_version = match data.key_version {
            None => None,
            Some(v) => Some(
                u32::try_from(v)
                    .map_err(|_| Error::decode(status, "`key_version` is out of range"))?,
            ),
        };
        let plaintext = match (&data.plaintext, options.request_plain_key) {
            (Some(p), true) => Some(SecretBytes::from_base64(p, "plaintext", status)?),
            _ => None,
        };
        Ok(CustomKey {
            ciphertext: data.ciphertext,
            key_version,
            plaintext,
        })
    }
}
