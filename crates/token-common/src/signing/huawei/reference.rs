//! [`authorization_by_stages`]: the pure stages applied to a signed request, one by one.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};

use super::{
    authorization, canonical_query_from_raw, canonical_request, canonical_uri, payload_hash,
    signature, sm3, string_to_sign, v11, HuaweiAlgorithm, DATE_HEADER,
};
use crate::credentials::HuaweiCredentials;
use crate::error::{Error, Result};
use crate::request::HttpRequest;

/// The `Authorization` that the pure stages compute for `request` as it was signed: from
/// its headers as they are (`X-Sdk-Date` among them gives the time; any `Authorization`
/// is left out), its method, URL and body. It is what [`super::HuaweiSigner`] must have
/// written, so it checks a signer (the fast path's property test and fuzz target use it),
/// and shows what a signature covers.
///
/// Slow: every stage is built as a string. A header value that is not visible ASCII is an
/// error naming the header, as is a request without `X-Sdk-Date`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use token_common::credentials::{HuaweiCredentials, HuaweiScope};
/// use token_common::signing::huawei::{authorization_by_stages, HuaweiAlgorithm, HuaweiSigner};
/// use token_common::signing::Signer;
/// use token_common::HttpRequest;
///
/// let creds = HuaweiCredentials::new("AK", "SK");
/// let signer = HuaweiSigner::new(&creds, HuaweiScope::Project("p".into()))?;
/// let url = "https://iam.example.com/v3/x".parse().unwrap();
/// let mut req = HttpRequest::new(reqwest::Method::GET, url, "/v3/x");
/// signer.sign(&mut req, UNIX_EPOCH + Duration::from_secs(1_735_732_800))?;
/// let expected = authorization_by_stages(&HuaweiAlgorithm::HmacSha256, &creds, &req)?;
/// assert_eq!(req.headers["authorization"], expected.as_str());
/// # Ok::<(), token_common::Error>(())
/// ```
pub fn authorization_by_stages(
    algorithm: &HuaweiAlgorithm,
    credentials: &HuaweiCredentials,
    request: &HttpRequest,
) -> Result<String> {
    let mut headers = Vec::with_capacity(request.headers.len());
    for (name, value) in &request.headers {
        if *name == AUTHORIZATION {
            continue;
        }
        let value = value.to_str().map_err(|_| {
            Error::invalid_input(name.as_str(), "header value is not visible ASCII")
        })?;
        headers.push((name.as_str(), value));
    }
    let date = request
        .headers
        .get(DATE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::invalid_input(DATE_HEADER, "is missing"))?;
    let content_type = request
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let body = request.body.as_deref();
    let uri = canonical_uri(request.url.path());
    let query = request
        .url
        .query()
        .map(canonical_query_from_raw)
        .unwrap_or_default();
    let method = request.method.as_str();
    let ak = credentials.access_key();
    let sk = credentials.secret_key();
    Ok(match algorithm {
        HuaweiAlgorithm::HmacSha256 => {
            let payload = payload_hash(content_type, body);
            let c = canonical_request(method, &uri, &query, &headers, &payload);
            let sts = string_to_sign(date, &c.text);
            authorization(ak, &c.signed_headers, &signature(sk, &sts))
        }
        HuaweiAlgorithm::HmacSm3 => {
            let payload = sm3::payload_hash(content_type, body);
            let c = canonical_request(method, &uri, &query, &headers, &payload);
            let sts = sm3::string_to_sign(date, &c.text);
            sm3::authorization(ak, &c.signed_headers, &sm3::signature(sk, &sts))
        }
        HuaweiAlgorithm::V11HmacSha256 { region, service } => {
            let payload = payload_hash(content_type, body);
            let c = canonical_request(method, &uri, &query, &headers, &payload);
            let info = v11::derivation_info(date, region, service);
            let key = v11::derived_key_hex(ak, sk, &info);
            let sts = v11::string_to_sign(date, &info, &c.text);
            v11::authorization(ak, &info, &c.signed_headers, &v11::signature(&key, &sts))
        }
    })
}
