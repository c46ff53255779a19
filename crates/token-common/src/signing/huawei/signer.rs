//! [`HuaweiSigner`]: the whole pipeline applied to a request, with every per-credential
//! constant prepared once.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use sha2::Sha256;
use sm3::Sm3;

use super::fast::{hash_canonical_request, hex32, sort_key, Header, HeaderList};
use super::{
    sm3 as sm3_stages, v11, HuaweiAlgorithm, SdkDate, CONTENT_SHA256_HEADER, DATE_HEADER,
    DOMAIN_ID_HEADER, EMPTY_BODY_SHA256, PROJECT_ID_HEADER, SECURITY_TOKEN_HEADER,
    UNSIGNED_PAYLOAD,
};
use crate::credentials::{HuaweiCredentials, HuaweiScope};
use crate::error::{Error, Result};
use crate::request::{check_header_text, HttpRequest, Signer};
use crate::signing::backend::sha256;
#[cfg(feature = "ring")]
use crate::signing::backend::RingSha256;
use crate::signing::{HmacSha256, Mac32, Sha256Backend};

const DATE: HeaderName = HeaderName::from_static(DATE_HEADER);
const SECURITY_TOKEN: HeaderName = HeaderName::from_static(SECURITY_TOKEN_HEADER);
const CONTENT_SHA256: HeaderName = HeaderName::from_static(CONTENT_SHA256_HEADER);
const CONTENT_SM3: HeaderName = HeaderName::from_static(sm3_stages::CONTENT_SM3_HEADER);

/// Signs requests for one Huawei Cloud credential, with `SDK-HMAC-SHA256` unless another
/// [`HuaweiAlgorithm`] is chosen.
///
/// Everything that depends only on the credential is prepared when the signer is built:
/// the HMAC key schedule (its inner and outer pads hashed once), the header values of the
/// scope and the security token, and the `Authorization` prefix. For `V11-HMAC-SHA256` the
/// derived key is computed once per day and cached (clones of a signer share the cache).
/// SHA-256 and HMAC-SHA256 run on the [`Sha256Backend`] detected for this CPU unless
/// [`with_backend`](Self::with_backend) names one (SM3 has one implementation).
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
    backend: Sha256Backend,
    keys: Keys,
    /// `SDK-HMAC-… Access={ak}, SignedHeaders=` (V11 builds its own per day).
    auth_prefix: Box<str>,
    security_token: Option<HeaderValue>,
    scope: Option<(HeaderName, HeaderValue)>,
}

/// The prepared HMAC keys of each algorithm.
#[derive(Clone)]
enum Keys {
    Sha256(HmacSha256),
    Sm3(Hmac<Sm3>),
    V11(Arc<V11Keys>),
}

/// V11's key material: the HKDF pseudo-random key (from AK and SK, fixed) and the key
/// derived from it for the latest day signed.
struct V11Keys {
    region: String,
    service: String,
    /// What the day keys and the canonical hash run on.
    backend: Sha256Backend,
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
    key: HmacSha256,
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
        let key = HmacSha256::new(self.backend, &derived_hex);
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
        Self::with_backend(credentials, scope, algorithm, Sha256Backend::detected())
    }

    /// As [`with_algorithm`](Self::with_algorithm), computing SHA-256 and HMAC-SHA256 on
    /// `backend`.
    pub fn with_backend(
        credentials: &HuaweiCredentials,
        scope: HuaweiScope,
        algorithm: HuaweiAlgorithm,
        backend: Sha256Backend,
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
            HuaweiAlgorithm::HmacSha256 => Keys::Sha256(HmacSha256::new(backend, sk)),
            HuaweiAlgorithm::HmacSm3 => Keys::Sm3(hmac_key(sk)),
            HuaweiAlgorithm::V11HmacSha256 { region, service } => {
                let mut prk: Hmac<Sha256> = hmac_key(ak.as_bytes());
                prk.update(sk);
                Keys::V11(Arc::new(V11Keys {
                    region: region.clone(),
                    service: service.clone(),
                    backend,
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
                check_visible("security_token", t.expose_secret())?;
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
                check_visible(field, id)?;
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
            backend,
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

    /// The backend this signer computes SHA-256 and HMAC-SHA256 on (SM3 signers: the one
    /// they were built with, unused).
    pub fn backend(&self) -> Sha256Backend {
        self.backend
    }
}

impl fmt::Debug for HuaweiSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiSigner")
            .field("algorithm", &self.algorithm)
            .field("backend", &self.backend)
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

/// What [`HuaweiSigner::collect`] noticed among the request's own headers.
struct Noticed<'a> {
    host: bool,
    /// The first `Content-Type`.
    content_type: Option<&'a [u8]>,
    /// The algorithm's `X-Sdk-Content-…` header.
    content_hash: bool,
}

impl HuaweiSigner {
    /// Checks the request's own headers and puts those signed into `list`: all but the
    /// ones this signer writes (its values replace theirs) and names with `_`.
    #[inline]
    fn collect<'a>(
        &self,
        headers: &'a HeaderMap,
        content_hash_header: &HeaderName,
        list: &mut HeaderList<'a>,
    ) -> Result<Noticed<'a>> {
        let mut noticed = Noticed {
            host: false,
            content_type: None,
            content_hash: false,
        };
        for (name, value) in headers {
            if *name == AUTHORIZATION
                || *name == DATE
                || (self.security_token.is_some() && *name == SECURITY_TOKEN)
                || self.scope.as_ref().is_some_and(|(n, _)| n == name)
            {
                continue;
            }
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
            if *name == HOST {
                noticed.host = true;
            } else if *name == CONTENT_TYPE {
                noticed.content_type = noticed.content_type.or(Some(value));
            } else if name == content_hash_header {
                noticed.content_hash = true;
            }
            // A HeaderMap's names are lower-case already. Names are short: a plain loop
            // beats a `memchr` call.
            let name = name.as_str();
            if !name.bytes().any(|b| b == b'_') {
                list.push(Header::new(name, value.trim_ascii()));
            }
        }
        Ok(noticed)
    }

    /// The `Authorization` value for the sorted `signed` headers and `payload` hash.
    #[inline]
    fn authorization(
        &self,
        request: &HttpRequest,
        signed: &[Header<'_>],
        payload: &[u8],
        date: &SdkDate,
    ) -> Vec<u8> {
        let method = request.method.as_str();
        let url = &request.url;
        match &self.keys {
            Keys::Sha256(key) => {
                let mut auth = authorization_buffer(&self.auth_prefix, signed, 0);
                let canonical =
                    hash_canonical_sha256(key.backend(), method, url, signed, payload, &mut auth);
                finish(auth, key, STS_PREFIX_SHA256, date, None, &canonical)
            }
            Keys::Sm3(key) => {
                let mut auth = authorization_buffer(&self.auth_prefix, signed, 0);
                let canonical =
                    hash_canonical_request::<Sm3>(method, url, signed, payload, &mut auth);
                finish(auth, key, STS_PREFIX_SM3, date, None, &canonical)
            }
            Keys::V11(keys) => {
                let day = keys.for_day(date);
                let credential = [
                    b" Credential=".as_slice(),
                    self.access_key.as_bytes(),
                    b"/",
                    day.info.as_bytes(),
                    b", SignedHeaders=",
                ];
                let extra = credential.iter().map(|part| part.len()).sum();
                let mut auth = authorization_buffer(v11::ALGORITHM, signed, extra);
                for part in credential {
                    auth.extend_from_slice(part);
                }
                let canonical =
                    hash_canonical_sha256(keys.backend, method, url, signed, payload, &mut auth);
                finish(
                    auth,
                    &day.key,
                    STS_PREFIX_V11,
                    date,
                    Some(&day.info),
                    &canonical,
                )
            }
        }
    }
}

impl Signer for HuaweiSigner {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()> {
        let date = SdkDate::new(now);
        let sm3 = matches!(self.keys, Keys::Sm3(_));
        let content_hash_header = if sm3 { &CONTENT_SM3 } else { &CONTENT_SHA256 };

        // 1. The request's own signed headers, on the stack for the usual handful. Nothing
        //    in the request changes until everything has been checked.
        let host; // declared before the list, which borrows it
        let mut list = HeaderList::new();
        let noticed = self.collect(&request.headers, content_hash_header, &mut list)?;

        // 2. The payload hash, hex, on the stack.
        let unsigned = !noticed.content_type.is_some_and(signs_payload_bytes);
        let body_hash = match request.body.as_deref() {
            Some(b) if !unsigned && !b.is_empty() && sm3 => {
                Some(hex32(&<Sm3 as sm3::Digest>::digest(b)))
            }
            Some(b) if !unsigned && !b.is_empty() => Some(hex32(&sha256(self.backend, b))),
            _ => None,
        };
        let payload: &[u8] = if unsigned {
            if noticed.content_hash {
                // Replaced by this signer's `UNSIGNED-PAYLOAD` below.
                list.retain(|h| h.name != content_hash_header.as_str());
            }
            UNSIGNED_PAYLOAD.as_bytes()
        } else if let Some(h) = &body_hash {
            h
        } else if sm3 {
            sm3_stages::EMPTY_BODY_SM3.as_bytes()
        } else {
            EMPTY_BODY_SHA256.as_bytes()
        };

        // 3. This signer's headers (their values were checked when it was built).
        host = if noticed.host {
            None
        } else {
            Some(host_value(&request.url)?)
        };
        if let Some(v) = &host {
            list.push(Header::known(HOST_KEY, "host", v.as_bytes()));
        }
        if let Some((name, value)) = &self.scope {
            list.push(Header::new(name.as_str(), value.as_bytes().trim_ascii()));
        }
        if let Some(value) = &self.security_token {
            let value = value.as_bytes().trim_ascii();
            list.push(Header::known(
                SECURITY_TOKEN_KEY,
                SECURITY_TOKEN_HEADER,
                value,
            ));
        }
        list.push(Header::known(DATE_KEY, DATE_HEADER, date.as_bytes()));
        if unsigned {
            let name = content_hash_header.as_str();
            list.push(Header::new(name, UNSIGNED_PAYLOAD.as_bytes()));
        }

        // 4. The canonical request hashed, the string to sign signed.
        list.sort_unstable();
        let auth = self.authorization(request, &list, payload, &date);
        drop(list); // the last borrow of the request's headers
        let mut auth =
            HeaderValue::try_from(auth).expect("checked parts make a valid header value");
        auth.set_sensitive(true);

        // 5. Only now the request changes.
        let headers = &mut request.headers;
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
        if let Some(value) = host {
            headers.insert(HOST, value);
        }
        if unsigned {
            let value = HeaderValue::from_static(UNSIGNED_PAYLOAD);
            headers.insert(content_hash_header.clone(), value);
        }
        headers.insert(AUTHORIZATION, auth);
        Ok(())
    }
}

/// [`super::signs_payload`] of a header value's bytes (which need no UTF-8 check for it).
fn signs_payload_bytes(content_type: &[u8]) -> bool {
    content_type.starts_with(b"application/json") || content_type.starts_with(b"application/bson")
}

/// Refuses a value this signer adds to every request unless it is visible ASCII (what the
/// signature covers; checked here once instead of on every request).
fn check_visible(field: &str, value: &str) -> Result<()> {
    if value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t')
    {
        Ok(())
    } else {
        Err(Error::invalid_input(field, "must be visible ASCII"))
    }
}

/// The `Host` header of a request to `url`: host, and port unless it is the scheme's own.
fn host_value(url: &url::Url) -> Result<HeaderValue> {
    let host = url
        .host_str()
        .ok_or_else(|| Error::invalid_input("endpoint", "has no host"))?;
    let value = match url.port() {
        Some(port) => HeaderValue::try_from(format!("{host}:{port}")),
        None => HeaderValue::from_str(host),
    };
    value.map_err(|_| Error::invalid_input("endpoint", "host is not a valid header value"))
}

/// The sort keys of the headers this signer adds, computed once.
const HOST_KEY: u64 = sort_key("host");
const DATE_KEY: u64 = sort_key(DATE_HEADER);
const SECURITY_TOKEN_KEY: u64 = sort_key(SECURITY_TOKEN_HEADER);

/// `{algorithm}\n` of each string to sign.
const STS_PREFIX_SHA256: &str = "SDK-HMAC-SHA256\n";
const STS_PREFIX_SM3: &str = "SDK-HMAC-SM3\n";
const STS_PREFIX_V11: &str = "V11-HMAC-SHA256\n";

/// The `Authorization` value's buffer, holding `prefix`, with room for exactly what
/// follows: `extra` bytes, the signed-headers list of `signed` and `, Signature=` with
/// the signature. Exact, so that the header value takes the buffer as it is (a buffer
/// with spare room costs the header value a second allocation).
fn authorization_buffer(prefix: &str, signed: &[Header<'_>], extra: usize) -> Vec<u8> {
    let mut names = 0;
    for (i, h) in signed.iter().enumerate() {
        if i == 0 || !signed[i - 1].same_name(h) {
            names += h.name.len() + usize::from(i > 0);
        }
    }
    let mut auth = Vec::with_capacity(prefix.len() + extra + names + SIGNATURE_SUFFIX_LEN);
    auth.extend_from_slice(prefix.as_bytes());
    auth
}

/// `, Signature=` and 64 hex digits.
const SIGNATURE_SUFFIX_LEN: usize = b", Signature=".len() + 64;

/// Signs the string to sign (streamed into the prepared HMAC: the algorithm line, then
/// the date, V11's `info` and the canonical hash in as few updates as possible) and appends
/// `, Signature={hex}` to the `Authorization` value.
fn finish(
    mut auth: Vec<u8>,
    key: &impl Mac32,
    algorithm_line: &str,
    date: &SdkDate,
    info: Option<&str>,
    canonical_hash: &[u8],
) -> Vec<u8> {
    let mut rest = [0u8; 16 + 1 + 64];
    rest[..16].copy_from_slice(date.as_bytes());
    rest[16] = b'\n';
    let tag = match info {
        Some(info) => {
            let hash = hex32(canonical_hash);
            let parts = [
                algorithm_line.as_bytes(),
                &rest[..17],
                info.as_bytes(),
                b"\n",
                &hash,
            ];
            key.mac(&parts)
        }
        None => {
            rest[17..].copy_from_slice(&hex32(canonical_hash));
            key.mac(&[algorithm_line.as_bytes(), &rest])
        }
    };
    auth.extend_from_slice(b", Signature=");
    auth.extend_from_slice(&hex32(&tag));
    auth
}

/// [`hash_canonical_request`] with SHA-256 on `backend`.
fn hash_canonical_sha256(
    backend: Sha256Backend,
    method: &str,
    url: &url::Url,
    signed: &[Header<'_>],
    payload: &[u8],
    auth: &mut Vec<u8>,
) -> [u8; 32] {
    match backend {
        Sha256Backend::RustCrypto => hash_canonical_request::<crate::signing::sha256::Sha256>(
            method, url, signed, payload, auth,
        ),
        #[cfg(feature = "ring")]
        Sha256Backend::Ring => {
            hash_canonical_request::<RingSha256>(method, url, signed, payload, auth)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_signing_by_bytes_agrees_with_the_stage() {
        for ct in [
            "",
            "application/json",
            "application/json;charset=UTF-8",
            "application/bson",
            "application/jso",
            "text/plain",
            "Application/JSON",
            "application/x-www-form-urlencoded",
        ] {
            assert_eq!(
                signs_payload_bytes(ct.as_bytes()),
                super::super::signs_payload(Some(ct)),
                "{ct}"
            );
        }
    }

    #[test]
    fn values_it_adds_to_every_request_are_refused_up_front_unless_visible_ascii() {
        let creds = HuaweiCredentials::new("AK", "SK");
        let err = HuaweiSigner::new(&creds, HuaweiScope::Project("projekt-ü".into())).unwrap_err();
        assert!(err.to_string().contains("project_id"), "{err}");
        let err = HuaweiSigner::new(
            &creds.clone().with_security_token("SECRETVALUE\u{e9}"),
            HuaweiScope::None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("security_token"), "{err}");
        assert!(
            !err.to_string().contains("SECRETVALUE"),
            "the token leaked: {err}"
        );
    }

    #[test]
    fn string_to_sign_prefixes_are_the_algorithm_names() {
        assert_eq!(STS_PREFIX_SHA256, format!("{}\n", super::super::ALGORITHM));
        assert_eq!(STS_PREFIX_SM3, format!("{}\n", sm3_stages::ALGORITHM));
        assert_eq!(STS_PREFIX_V11, format!("{}\n", v11::ALGORITHM));
    }
}
