//! Huawei Cloud temporary credentials: what instance metadata, pod identity and IAM
//! answer (FACTS.md §2 "Temporary credentials"), read field for field.
//!
//! All three give `{access, secret, securitytoken, expires_at}` inside a `credential`
//! wrapper (metadata, IAM) or a `credentials` one (pod identity), with the names
//! `accessKeyId`, `secretAccessKey`, `securityToken`, `expiration` also accepted, and
//! `expires_at` with or without fractional seconds, as UTC.

use std::time::SystemTime;

use serde::Deserialize;

use super::HuaweiCredentials;
use crate::cache::Expiring;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::transport::HttpResponse;

#[derive(Deserialize)]
struct Wrapper {
    #[serde(alias = "credentials")]
    credential: Option<Fields>,
}

#[derive(Deserialize)]
struct Fields {
    #[serde(alias = "accessKeyId")]
    access: Option<String>,
    #[serde(alias = "secretAccessKey")]
    secret: Option<SecretString>,
    #[serde(alias = "securityToken")]
    securitytoken: Option<SecretString>,
    #[serde(alias = "expiration")]
    expires_at: Option<String>,
}

/// Reads a temporary-credentials answer; an error names `source` and the missing or
/// malformed field, never a value.
pub(crate) fn parse_temporary(
    source: &str,
    response: &HttpResponse,
) -> Result<Expiring<HuaweiCredentials>> {
    let wrapper: Wrapper = response
        .json()
        .map_err(|e| Error::credentials(source, format!("the answer could not be read: {e}")))?;
    let Some(f) = wrapper.credential else {
        return Err(Error::credentials(
            source,
            "the answer has no `credential` (or `credentials`) object",
        ));
    };
    let missing = |name: &str| Error::credentials(source, format!("the answer has no `{name}`"));
    let access = f
        .access
        .filter(|a| !a.is_empty())
        .ok_or_else(|| missing("access"))?;
    let secret = f
        .secret
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("secret"))?;
    let token = f
        .securitytoken
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing("securitytoken"))?;
    let expires = f.expires_at.ok_or_else(|| missing("expires_at"))?;
    let expires_at = parse_expiry(&expires).ok_or_else(|| {
        Error::credentials(
            source,
            "`expires_at` is not an RFC 3339 time (like 2020-01-08T03:50:07.574000Z)",
        )
    })?;
    Ok(Expiring::new(
        HuaweiCredentials::new(access, secret).with_security_token(token),
        Some(expires_at),
    ))
}

/// `expires_at` as Huawei writes it, with or without fractional seconds; UTC when no
/// offset is given (the Python SDK reads it as local time, which is wrong off UTC).
pub(crate) fn parse_expiry(text: &str) -> Option<SystemTime> {
    crate::clock::parse_rfc3339(text)
}

/// A short, secret-free reading of a Huawei error body: `code: message`, from
/// `{"error":{"code","message"}}`, `{"error_code","error_msg"}` or `{"code","message"}`;
/// a body that is not JSON is quoted when short and printable (error bodies hold no
/// credentials), else left out.
pub(crate) fn error_summary(response: &HttpResponse) -> String {
    let status = response.status;
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
        let text = String::from_utf8_lossy(&response.body);
        let text = text.trim();
        if !text.is_empty() && text.len() <= 200 && !text.chars().any(char::is_control) {
            return format!("HTTP {status}: {text}");
        }
        return format!("HTTP {status}");
    };
    let obj = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
    let pick = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| obj.get(*n).and_then(|x| x.as_str().map(str::to_owned)))
    };
    let code = pick(&["code", "error_code", "errorCode"]);
    let message = pick(&["message", "error_msg", "errorMsg", "title"]);
    match (code, message) {
        (Some(c), Some(m)) => format!("HTTP {status} {c}: {m}"),
        (Some(c), None) => format!("HTTP {status} {c}"),
        (None, Some(m)) => format!("HTTP {status}: {m}"),
        (None, None) => format!("HTTP {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn answer(body: &str) -> HttpResponse {
        HttpResponse::new(200, HeaderMap::new(), body.as_bytes().to_vec())
    }

    #[test]
    fn both_wrappers_both_spellings_both_time_forms() {
        let shapes = [
            r#"{"credential":{"access":"AK1","secret":"SK1","securitytoken":"ST1","expires_at":"2020-01-08T03:50:07.574000Z"}}"#,
            r#"{"credentials":{"accessKeyId":"AK1","secretAccessKey":"SK1","securityToken":"ST1","expiration":"2020-01-08T03:50:07Z"}}"#,
        ];
        for (i, body) in shapes.iter().enumerate() {
            let got = parse_temporary("src", &answer(body)).unwrap();
            assert_eq!(got.value.access_key(), "AK1");
            assert_eq!(got.value.secret_key().expose_secret(), "SK1");
            assert_eq!(got.value.security_token().unwrap().expose_secret(), "ST1");
            let secs = crate::clock::unix_seconds(got.expires_at.unwrap());
            assert_eq!(secs, 1_578_455_407, "shape {i}");
        }
    }

    #[test]
    fn a_missing_field_is_named_and_no_value_is_quoted() {
        let e = parse_temporary(
            "instance metadata",
            &answer(r#"{"credential":{"access":"AK1","secret":"SK-secret","expires_at":"2020-01-08T03:50:07Z"}}"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`securitytoken`"), "{e}");
        assert!(e.to_string().contains("instance metadata"), "{e}");
        let e = parse_temporary(
            "x",
            &answer(r#"{"credential":{"access":"AK1","secret":"SK-secret","securitytoken":"T","expires_at":"yesterday"}}"#),
        )
        .unwrap_err();
        assert!(e.to_string().contains("expires_at"), "{e}");
        assert!(!e.to_string().contains("SK-secret"));
        let e = parse_temporary("x", &answer("<html>")).unwrap_err();
        assert!(e.to_string().contains("could not be read"), "{e}");
        let e = parse_temporary("x", &answer(r#"{"other":{}}"#)).unwrap_err();
        assert!(e.to_string().contains("`credential`"), "{e}");
    }

    #[test]
    fn error_bodies_of_both_shapes_are_summarised() {
        let r = |s: u16, b: &str| HttpResponse::new(s, HeaderMap::new(), b.as_bytes().to_vec());
        assert_eq!(
            error_summary(&r(
                401,
                r#"{"error":{"code":"401","message":"The request you have made requires authentication.","title":"Unauthorized"}}"#
            )),
            "HTTP 401 401: The request you have made requires authentication."
        );
        assert_eq!(
            error_summary(&r(400, r#"{"error_code":"IAM.0001","error_msg":"bad"}"#)),
            "HTTP 400 IAM.0001: bad"
        );
        assert_eq!(error_summary(&r(500, "oops")), "HTTP 500: oops");
    }
}
