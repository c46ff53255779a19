//! [`HuaweiSigner`]: the whole pipeline applied to a request, with every per-credential
//! constant prepared once.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use sha2::digest::Digest;
use sha2::Sha256;
use sm3::Sm3;

use super::fast::{hash_canonical_request, hex32, Header};
use super::{
    signs_payload, sm3 as sm3_stages, v11, HuaweiAlgorithm, SdkDate, ALGORITHM,
    CONTENT_SHA256_HEADER, DATE_HEADER, DOMAIN_ID_HEADER, EMPTY_BODY_SHA256, PROJECT_ID_HEADER,
    SECURITY_TOKEN_HEADER, UNSIGNED_PAYLOAD,
};
use crate::credentials::{HuaweiCredentials, HuaweiScope};
use crate::error::{Error, Result};
use crate::request::{check_header_text, HttpRequest, Signer};

const DATE: HeaderName = HeaderName::from_static(DATE_HEADER);
const SECURITY_TOKEN: HeaderName = HeaderName::from_static(SECURITY_TOKEN_HEADER);
const CONTENT_SHA256: HeaderName = HeaderName::from_static(CONTENT_SHA256_HEADER);
/// Signed headers collected on the stack; more spill to the heap.
const STACK_HEADERS: usize = 12;
const CONTENT_SM3: HeaderName = HeaderName::from_static(sm3_stages::CONTENT_SM3_HEADER);

/// Signs requests for one Huawei Cloud credential, with `SDK-HMAC-SHA256` unless another
/// [`HuaweiAlgorithm`] is chosen.
///
/// Everything that depends only on the credential is prepared when the signer is built:
/// the HMAC key schedule (its inner and outer pads hashed once), the header values of the
/// scope and the security token, and the `Authorization` prefix. For `V11-HMAC-SHA256` the
/// derived key is computed once per day and cached (clones of a signer share the cache).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use token_common::credentials::{HuaweiCredentials, HuaweiScope};
/// use token_common::signing::huawei::{HuaweiAlgorithm, HuaweiSigner};
/// use token_common::signing::Signer;
/// use token_common::HttpRequest;
///
/// let creds = HuaweiCredentials::new("AK", "SK");
/// let signer = HuaweiSigner::with_algorithm(&creds, HuaweiScope::Project("p".into()), HuaweiAlgorithm::HmacSm3)?;
/// let url = "https://identitystore.cn-north-4.myhuaweicloud.com/v1/x".parse().unwrap();
/// let mut req = HttpRequest::new(reqwest::Method::GET, url, "/v1/x");
/// signer.sign(&mut req, UNIX_EPOCH + Duration::from_secs(1_735_732_800))?;
/// let auth = req.headers["authorization"].to_str().unwrap();
/// assert!(auth.starts_with("SDK-HMAC-SM3 Access=AK, SignedHeaders=host;x-project-id;x-sdk-content-sm3;x-sdk-date, Signature="));
/// # Ok::<(), token_common::Error>(())
/// ```
#[derive(Clone)]
pub struct HuaweiSigner {
    access_key: String,
    algorithm: HuaweiAlgorithm,
    keys: Keys,
    /// `SDK-HMAC-… Access={ak}, SignedHeaders=` (V11 builds its own per day).
    auth_prefix: Box<str>,
    security_token: Option<HeaderValue>,
    scope: Option<(HeaderName, HeaderValue)>,
}

/// The prepared HMAC keys of each algorithm.
#[derive(Clone)]
enum Keys {
    Sha256(Hmac<Sha256>),
    Sm3(Hmac<Sm3>),
    V11(Arc<V11Keys>),
}

/// V11's key material: the HKDF pseudo-random key (from AK and SK, fixed) and the key
/// derived from it for the latest day signed.
struct V11Keys {
    region: String,
    service: String,
    /// HMAC-SHA256 keyed with PRK = HMAC-SHA256(key = AK, SK).
    prk: Hmac<Sha256>,
    today: ArcSwapOption<DayKey>,
}

/// What V11 signs with on one day.
struct DayKey {
    days_since_epoch: i64,
    /// `YYYYMMDD/{region}/{service}`.
    info: String,
    /// HMAC-SHA256 keyed with the 64 hex characters of the derived key.
    key: Hmac<Sha256>,
}

impl V11Keys {
    fn for_day(&self, date: &SdkDate) -> Arc<DayKey> {
        if let Some(k) = self.today.load_full() {
            if k.days_since_epoch == date.days_since_epoch() {
                return k;
            }
        }
        let info = format!("{}/{}/{}", date.day(), self.region, self.service);
        let mut okm = self.prk.clone();
        okm.update(info.as_bytes());
        okm.update(&[1]);
        let derived_hex = hex32(&okm.finalize().into_bytes());
        let key = Hmac::<Sha256>::new_from_slice(&derived_hex).expect("any key length");
        let k = Arc::new(DayKey {
            days_since_epoch: date.days_since_epoch(),
            info,
            key,
        });
        // Concurrent signers on a new day may each derive it; the results are equal.
        self.today.store(Some(Arc::clone(&k)));
        k
    }
}

fn hmac_key<M: Mac + hmac::digest::KeyInit>(key: &[u8]) -> M {
    <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length")
}

impl HuaweiSigner {
    /// Prepares an `SDK-HMAC-SHA256` signer; refuses empty keys and values that cannot
    /// travel in a header.
    ///
    /// `scope` picks the header that names what the call acts on: regional services (such
    /// as IdentityCenterStore) take `X-Project-Id`, global services `X-Domain-Id`.
    pub fn new(credentials: &HuaweiCredentials, scope: HuaweiScope) -> Result<Self> {
        Self::with_algorithm(credentials, scope, HuaweiAlgorithm::HmacSha256)
    }

    /// Prepares a signer for `algorithm`; as [`new`](Self::new), and also refuses a V11
    /// region or service that is empty or not a plain name.
    pub fn with_algorithm(
        credentials: &HuaweiCredentials,
        scope: HuaweiScope,
        algorithm: HuaweiAlgorithm,
    ) -> Result<Self> {
        let ak = credentials.access_key();
        if ak.is_empty() {
            return Err(Error::invalid_input("ak", "must not be empty"));
        }
        check_header_text("ak", ak)?;
        if ak.contains([',', ' ', '=', '/']) {
            return Err(Error::invalid_input(
                "ak",
                "must not contain `,`, `=`, `/` or spaces (it is written into the Authorization header)",
            ));
        }
        let sk = credentials.secret_key().expose_secret().as_bytes();
        if sk.is_empty() {
            return Err(Error::invalid_input("sk", "must not be empty"));
        }
        algorithm.check()?;
        let keys = match &algorithm {
            HuaweiAlgorithm::HmacSha256 => Keys::Sha256(hmac_key(sk)),
            HuaweiAlgorithm::HmacSm3 => Keys::Sm3(hmac_key(sk)),
            HuaweiAlgorithm::V11HmacSha256 { region, service } => {
                let mut prk: Hmac<Sha256> = hmac_key(ak.as_bytes());
                prk.update(sk);
                Keys::V11(Arc::new(V11Keys {
                    region: region.clone(),
                    service: service.clone(),
                    prk: hmac_key(&prk.finalize().into_bytes()),
                    today: ArcSwapOption::empty(),
                }))
            }
        };
        let security_token = match credentials.security_token() {
            Some(t) if t.is_empty() => {
                return Err(Error::invalid_input(
                    "security_token",
                    "must not be empty when given",
                ))
            }
            Some(t) => {
                check_header_text("security_token", t.expose_secret())?;
                let mut v = HeaderValue::from_str(t.expose_secret()).map_err(|_| {
                    Error::invalid_input("security_token", "is not a valid HTTP header value")
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let scope = match &scope {
            HuaweiScope::Project(id) => Some((PROJECT_ID_HEADER, "project_id", id.as_str())),
            HuaweiScope::Domain(id) => Some((DOMAIN_ID_HEADER, "domain_id", id.as_str())),
            HuaweiScope::None => None,
        };
        let scope = match scope {
            Some((_, field, "")) => return Err(Error::invalid_input(field, "must not be empty")),
            Some((header, field, id)) => {
                check_header_text(field, id)?;
                let v = HeaderValue::from_str(id)
                    .map_err(|_| Error::invalid_input(field, "is not a valid HTTP header value"))?;
                Some((HeaderName::from_static(header), v))
            }
            None => None,
        };
        Ok(Self {
            access_key: ak.to_owned(),
            auth_prefix: format!("{} Access={ak}, SignedHeaders=", algorithm.name()).into(),
            algorithm,
            keys,
            security_token,
            scope,
        })
    }

    /// The access key this signer signs with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The algorithm this signer signs with.
    pub fn algorithm(&self) -> &HuaweiAlgorithm {
        &self.algorithm
    }
}

impl fmt::Debug for HuaweiSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiSigner")
            .field("algorithm", &self.algorithm)
            .field("access_key", &self.access_key)
            .field("secret_key", &crate::secret::REDACTED)
            .field(
                "security_token",
                &self
                    .security_token
                    .as_ref()
                    .map(|_| crate::secret::REDACTED),
            )
            .field("scope", &self.scope.as_ref().map(|(n, v)| (n, v)))
            .finish()
    }
}

impl Signer for HuaweiSigner {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()> {
        let date = SdkDate::new(now);
        let sm3 = matches!(self.keys, Keys::Sm3(_));
        let headers = &mut request.headers;
        headers.remove(AUTHORIZATION);
        headers.insert(
            DATE,
            HeaderValue::from_bytes(date.as_bytes()).expect("digits are a valid header value"),
        );
        if let Some((name, value)) = &self.scope {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(value) = &self.security_token {
            headers.insert(SECURITY_TOKEN, value.clone());
        }
        if !headers.contains_key(HOST) {
            let host = request
                .url
                .host_str()
                .ok_or_else(|| Error::invalid_input("endpoint", "has no host"))?;
            let value = match request.url.port() {
                Some(port) => HeaderValue::try_from(format!("{host}:{port}")),
                None => HeaderValue::from_str(host),
            };
            headers.insert(
                HOST,
                value.map_err(|_| {
                    Error::invalid_input("endpoint", "host is not a valid header value")
                })?,
            );
        }

        // The payload hash, hex, on the stack.
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let unsigned = !signs_payload(content_type);
        let body_hash = match request.body.as_deref() {
            Some(b) if !unsigned && !b.is_empty() && sm3 => Some(hex32(&Sm3::digest(b))),
            Some(b) if !unsigned && !b.is_empty() => Some(hex32(&Sha256::digest(b))),
            _ => None,
        };
        let payload: &[u8] = if unsigned {
            headers.insert(
                if sm3 { CONTENT_SM3 } else { CONTENT_SHA256 },
                HeaderValue::from_static(UNSIGNED_PAYLOAD),
            );
            UNSIGNED_PAYLOAD.as_bytes()
        } else if let Some(h) = &body_hash {
            h
        } else if sm3 {
            sm3_stages::EMPTY_BODY_SM3.as_bytes()
        } else {
            EMPTY_BODY_SHA256.as_bytes()
        };

        // Signed headers: every name without `_` (a HeaderMap's names are lower-case
        // already), every value trimmed, sorted by name then value.
        // On the stack for the usual handful of headers.
        let mut stack: [Header<'_>; STACK_HEADERS] = [("", b""); STACK_HEADERS];
        let mut heap: Vec<Header<'_>> = Vec::new();
        let mut n = 0;
        for (name, value) in headers.iter() {
            let value = value.as_bytes();
            // Visible ASCII or tab, as `HeaderValue::to_str`; without early exit, so the
            // loop vectorises.
            let visible = value.iter().fold(true, |ok, &b| {
                ok & ((b.wrapping_sub(b' ') < 0x5f) | (b == b'\t'))
            });
            if !visible {
                return Err(Error::invalid_input(
                    name.as_str(),
                    "header value is not visible ASCII",
                ));
            }
            if name.as_str().contains('_') {
                continue;
            }
            let header = (name.as_str(), value.trim_ascii());
            if n < STACK_HEADERS {
                stack[n] = header;
            } else {
                if heap.is_empty() {
                    heap.extend_from_slice(&stack);
                }
                heap.push(header);
            }
            n += 1;
        }
        let signed: &mut [Header<'_>] = if n <= STACK_HEADERS {
            &mut stack[..n]
        } else {
            &mut heap
        };
        signed.sort_unstable();

        let method = request.method.as_str();
        let url = &request.url;
        let mut auth = Vec::with_capacity(self.auth_prefix.len() + 200);
        let auth = match &self.keys {
            Keys::Sha256(key) => {
                auth.extend_from_slice(self.auth_prefix.as_bytes());
                let canonical =
                    hash_canonical_request::<Sha256>(method, url, signed, payload, &mut auth);
                finish(auth, key.clone(), ALGORITHM, &date, None, &canonical)
            }
            Keys::Sm3(key) => {
                auth.extend_from_slice(self.auth_prefix.as_bytes());
                let canonical =
                    hash_canonical_request::<Sm3>(method, url, signed, payload, &mut auth);
                finish(
                    auth,
                    key.clone(),
                    sm3_stages::ALGORITHM,
                    &date,
                    None,
                    &canonical,
                )
            }
            Keys::V11(keys) => {
                let day = keys.for_day(&date);
                auth.extend_from_slice(v11::ALGORITHM.as_bytes());
                auth.extend_from_slice(b" Credential=");
                auth.extend_from_slice(self.access_key.as_bytes());
                auth.push(b'/');
                auth.extend_from_slice(day.info.as_bytes());
                auth.extend_from_slice(b", SignedHeaders=");
                let canonical =
                    hash_canonical_request::<Sha256>(method, url, signed, payload, &mut auth);
                let key = day.key.clone();
                finish(
                    auth,
                    key,
                    v11::ALGORITHM,
                    &date,
                    Some(&day.info),
                    &canonical,
                )
            }
        };
        let mut auth =
            HeaderValue::try_from(auth).expect("checked parts make a valid header value");
        auth.set_sensitive(true);
        request.headers.insert(AUTHORIZATION, auth);
        Ok(())
    }
}

/// Signs the string to sign (streamed into the prepared HMAC) and appends
/// `, Signature={hex}` to the `Authorization` value.
fn finish<M: Mac>(
    mut auth: Vec<u8>,
    mut key: M,
    algorithm: &str,
    date: &SdkDate,
    info: Option<&str>,
    canonical_hash: &[u8],
) -> Vec<u8> {
    key.update(algorithm.as_bytes());
    key.update(b"\n");
    key.update(date.as_bytes());
    key.update(b"\n");
    if let Some(info) = info {
        key.update(info.as_bytes());
        key.update(b"\n");
    }
    key.update(&hex32(canonical_hash));
    auth.extend_from_slice(b", Signature=");
    auth.extend_from_slice(&hex32(&key.finalize().into_bytes()));
    auth
}
