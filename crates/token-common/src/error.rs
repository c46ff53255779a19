//! The one error type of every cloud-tokens client.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Result with the cloud-tokens [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in a cloud-tokens call.
///
/// Branch on meaning with the predicates ([`is_retryable`](Error::is_retryable),
/// [`is_throttling`](Error::is_throttling), [`is_authentication`](Error::is_authentication),
/// [`status`](Error::status), [`service_code`](Error::service_code), …) rather than on the
/// text. No variant ever holds a secret: messages are built from field names, codes and
/// server messages, never from keys, passwords or tokens.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// An argument was refused before anything was sent.
    InvalidInput {
        /// The field or argument at fault, e.g. `key_tag` or `access_token_hours`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Credentials are missing or malformed.
    Credentials {
        /// Where they were looked for: an environment variable, a file and line, a profile.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// A credentials source is not there at all: its variables are unset, its file does
    /// not exist, its service does not answer (instance metadata off a cloud server). A
    /// chain ([`LoadChain`](crate::credentials::LoadChain)) moves on to the next source; as
    /// the last word of a chain, it lists every source tried and why each was skipped.
    CredentialsNotFound {
        /// Where they were looked for.
        source_name: String,
        /// Why nothing was found there.
        reason: String,
    },
    /// The request did not get an HTTP answer (connection refused or reset, DNS, TLS, …).
    Transport {
        /// What failed.
        message: String,
        /// Whether the failure happened while connecting, before any byte of the request
        /// was written (so nothing reached the server).
        connect: bool,
        /// The classification of the request that failed (set by the transport), which
        /// [`is_retryable`](Error::is_retryable) needs: a reset after sending may have
        /// left a created thing behind.
        idempotency: Idempotency,
        /// The underlying error.
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// An attempt took longer than its timeout.
    Timeout {
        /// The per-attempt timeout that was exceeded.
        after: Duration,
        /// The classification of the request that timed out (set by the transport): the
        /// server may have acted on it.
        idempotency: Idempotency,
    },
    /// The service answered with an error.
    Service(Box<ServiceError>),
    /// The service's answer could not be decoded.
    Decode {
        /// HTTP status of the answer.
        status: u16,
        /// What could not be decoded (the body is quoted only when it cannot hold a secret).
        message: String,
    },
    /// The answer's body was larger than the transport's limit.
    ResponseTooLarge {
        /// HTTP status of the answer.
        status: u16,
        /// The limit in bytes.
        limit: usize,
    },
    /// An error kind that belongs to one service's client (Cloudforet's request for an MFA
    /// code, say). token-common carries it without knowing it, so a new service adds its
    /// kinds in its own crate; that crate reads them back with a typed accessor (e.g.
    /// `cloudforet_identity_client::error::mfa_required`), anyone with
    /// [`Error::downcast_ref`]. It is transparent: `Display` and `source()` are the
    /// kind's own.
    ServiceSpecific(Arc<dyn std::error::Error + Send + Sync>),
    /// A refresh credential can no longer be renewed: the refresh token, session or
    /// secret a client renews its tokens with has expired or was refused, and no way to
    /// log in again was given. The caller must log in (or provision a new refresh
    /// credential) again. Any service whose tokens are renewed ends with it (today an NCP
    /// KMS refresh token, a Cloudforet session or App secret); it is no one service's.
    SessionExpired {
        /// Why.
        reason: String,
    },
}

/// Whether a request may be sent again when its outcome is unknown.
///
/// The transport classifies every request (by its method unless the call says otherwise,
/// see [`HttpRequest::with_idempotency`](crate::HttpRequest::with_idempotency)) and retries:
///
/// | failure | idempotent | non-idempotent |
/// |---|---|---|
/// | connection failed before any byte was written | retried | retried |
/// | 429, 503 (the server did not act) | retried | retried |
/// | 502, 504, a timeout, a reset after sending | retried | **not retried** |
/// | any other status | not retried | not retried |
///
/// The classification travels with the answer and into the error, so
/// [`Error::is_retryable`] gives the same answer the transport did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Idempotency {
    /// Sending it twice has the effect of sending it once (reads, deletes, replacements).
    Idempotent,
    /// It may create or consume something (a token, a tenant, an MFA code): a second copy
    /// could leave a duplicate behind.
    NonIdempotent,
}

impl Idempotency {
    /// The default for a method: `GET`, `HEAD`, `OPTIONS`, `TRACE`, `PUT` and `DELETE` are
    /// idempotent (RFC 9110 §9.2.2); `POST`, `PATCH` and anything else are not.
    pub fn of_method(method: &reqwest::Method) -> Self {
        use reqwest::Method;
        if [
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::TRACE,
            Method::PUT,
            Method::DELETE,
        ]
        .contains(method)
        {
            Self::Idempotent
        } else {
            Self::NonIdempotent
        }
    }

    /// Whether this is [`Idempotency::Idempotent`].
    pub fn is_idempotent(self) -> bool {
        self == Self::Idempotent
    }

    /// Whether an answer with this status is worth another attempt: 429 and 503 for any
    /// request (the server says it did not act); 502 and 504 only for idempotent ones (a
    /// gateway may have passed the request on before failing).
    pub fn retries_status(self, status: u16) -> bool {
        match status {
            429 | 503 => true,
            502 | 504 => self.is_idempotent(),
            _ => false,
        }
    }
}

/// An error answer from a service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// The service's own error code (`200`, `APIGW.0301`, `ERROR_AUTHENTICATE_FAILURE`, …);
    /// the HTTP status as text when the service gave none.
    pub code: String,
    /// The service's message.
    pub message: String,
    /// The request id, when the service gave one.
    pub request_id: Option<String>,
    /// Further detail the service gave (NCP `details`, Huawei
    /// `encoded_authorization_message`).
    pub details: Option<String>,
    /// How long the service asked the caller to wait (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// The classification of the request that got this answer, which decides whether a
    /// 502 or 504 is retryable. [`ServiceError::new`] assumes
    /// [`Idempotency::NonIdempotent`] (never re-send what may have created something);
    /// [`with_response`](ServiceError::with_response) takes it from the answer.
    pub idempotency: Idempotency,
}

impl ServiceError {
    /// A service error with status, code and message.
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            request_id: None,
            details: None,
            retry_after: None,
            idempotency: Idempotency::NonIdempotent,
        }
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// Sets the extra detail.
    pub fn with_details(mut self, details: Option<String>) -> Self {
        self.details = details;
        self
    }

    /// Sets the wait the service asked for.
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Sets the classification of the request that got this answer.
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }

    /// Takes from the answer what it says about retrying: its `Retry-After` (measured
    /// against `now`) and the classification of the request, recorded by the transport.
    /// Every client builds its service errors through this, so
    /// [`Error::is_retryable`] agrees with the transport.
    pub fn with_response(self, response: &crate::HttpResponse, now: SystemTime) -> Self {
        let retry_after = response.retry_after(now);
        self.with_retry_after(retry_after)
            .with_idempotency(response.idempotency)
    }
}

/// The most characters of an answer's body that an error message quotes.
pub const BODY_EXCERPT_CHARS: usize = 300;

/// The start of `text` as one line, for an error message: every run of whitespace
/// becomes one space, other control characters become `\u{FFFD}` (so a body cannot
/// forge log lines or drive a terminal), and past [`BODY_EXCERPT_CHARS`] characters it is
/// cut with `…`. `None` when nothing is left.
///
/// Only bodies of *error* answers are quoted, and only where no field of the service's
/// error shape could be read: the services put no secrets there. Success bodies (which
/// carry tokens) are never quoted.
///
/// ```
/// use token_common::error::excerpt;
/// assert_eq!(excerpt("  Bad\r\n  Gateway \x1b[2J").as_deref(), Some("Bad Gateway \u{FFFD}[2J"));
/// assert_eq!(excerpt(" \n "), None);
/// assert_eq!(excerpt(&"x".repeat(301)).unwrap().chars().count(), 301);
/// ```
pub fn excerpt(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut kept = 0;
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        for c in word.chars() {
            if kept == BODY_EXCERPT_CHARS {
                out.push('…');
                return Some(out);
            }
            out.push(if c.is_control() { '\u{FFFD}' } else { c });
            kept += 1;
        }
        if words.peek().is_some() {
            if kept == BODY_EXCERPT_CHARS {
                out.push('…');
                return Some(out);
            }
            out.push(' ');
            kept += 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {} {}", self.status, self.code)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message.trim())?;
        }
        if let Some(d) = self.details.as_deref().filter(|d| !d.is_empty()) {
            write!(f, " ({d})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Error::Service(Box::new(e))
    }
}

impl Error {
    /// An [`Error::InvalidInput`] for `field`.
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Credentials`] for a source.
    pub fn credentials(source_name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Credentials {
            source_name: source_name.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::CredentialsNotFound`]: nothing at `source_name`, so a chain may try the
    /// next source.
    pub fn credentials_not_found(
        source_name: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::CredentialsNotFound {
            source_name: source_name.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::Decode`].
    pub fn decode(status: u16, message: impl Into<String>) -> Self {
        Error::Decode {
            status,
            message: message.into(),
        }
    }

    /// An [`Error::Transport`] (`connect`: nothing reached the server). Its idempotency is
    /// [`Idempotency::NonIdempotent`] until the transport records the request's.
    pub fn transport(message: impl Into<String>, connect: bool) -> Self {
        Error::Transport {
            message: message.into(),
            connect,
            idempotency: Idempotency::NonIdempotent,
            source: None,
        }
    }

    /// An [`Error::Timeout`] after `after`. Its idempotency is
    /// [`Idempotency::NonIdempotent`] until the transport records the request's.
    pub fn timeout(after: Duration) -> Self {
        Error::Timeout {
            after,
            idempotency: Idempotency::NonIdempotent,
        }
    }

    /// Whether sending the same call again is safe and may succeed — the rule the
    /// transport itself follows (see [`Idempotency`]):
    /// * a connection that failed before any byte was written: always;
    /// * a 429 or 503: always;
    /// * a timeout, a reset after sending, a 502 or a 504: only when the request was
    ///   idempotent, since the server may have acted on it;
    /// * anything else: never.
    ///
    /// The request's classification is recorded in the error: by the transport for
    /// transport failures and timeouts, and through [`ServiceError::with_response`] for
    /// service errors. An error built without it counts as non-idempotent.
    ///
    /// When a client returns a retryable error, the transport has already used its
    /// attempts (or the server asked for a longer wait than it honours:
    /// [`ServiceError::retry_after`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { connect: true, .. } => true,
            Error::Transport { idempotency, .. } | Error::Timeout { idempotency, .. } => {
                idempotency.is_idempotent()
            }
            Error::Service(e) => e.idempotency.retries_status(e.status),
            _ => false,
        }
    }

    /// Records the classification of the request in a transport failure or timeout (the
    /// transport calls it; other errors are returned unchanged).
    pub fn with_idempotency(mut self, value: Idempotency) -> Self {
        match &mut self {
            Error::Transport { idempotency, .. } | Error::Timeout { idempotency, .. } => {
                *idempotency = value;
            }
            Error::Service(e) => e.idempotency = value,
            _ => {}
        }
        self
    }

    /// Whether the service refused the call because of a rate limit or quota.
    pub fn is_throttling(&self) -> bool {
        matches!(self, Error::Service(e) if e.status == 429)
    }

    /// Whether the service refused the caller's identity or permission (401, 403).
    pub fn is_authentication(&self) -> bool {
        matches!(self, Error::Service(e) if matches!(e.status, 401 | 403))
    }

    /// Whether an attempt timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// Whether the connection could not be made.
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport { connect: true, .. })
    }

    /// Whether a credentials source (or a whole chain) found nothing at all
    /// ([`Error::CredentialsNotFound`]), as opposed to a source that is configured but
    /// broken.
    pub fn is_credentials_not_found(&self) -> bool {
        matches!(self, Error::CredentialsNotFound { .. })
    }

    /// Whether the input was refused before sending.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, Error::InvalidInput { .. })
    }

    /// The field named by an [`Error::InvalidInput`].
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Service(e) => Some(e.status),
            Error::Decode { status, .. } | Error::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error code, for a service error.
    pub fn service_code(&self) -> Option<&str> {
        self.service_error().map(|e| e.code.as_str())
    }

    /// The request id, for a service error that has one.
    pub fn request_id(&self) -> Option<&str> {
        self.service_error().and_then(|e| e.request_id.as_deref())
    }

    /// The service error, if this is one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// An [`Error::ServiceSpecific`] carrying a service crate's own error kind.
    pub fn service_specific(kind: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::ServiceSpecific(Arc::new(kind))
    }

    /// The service-specific kind inside an [`Error::ServiceSpecific`], if it is an `E`.
    ///
    /// ```
    /// use token_common::Error;
    ///
    /// #[derive(Debug)]
    /// struct QuotaSpent;
    /// impl std::fmt::Display for QuotaSpent {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         f.write_str("quota spent")
    ///     }
    /// }
    /// impl std::error::Error for QuotaSpent {}
    ///
    /// let e = Error::service_specific(QuotaSpent);
    /// assert!(e.downcast_ref::<QuotaSpent>().is_some());
    /// assert_eq!(e.to_string(), "quota spent");
    /// assert!(Error::invalid_input("f", "r").downcast_ref::<QuotaSpent>().is_none());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::ServiceSpecific(kind) => kind.downcast_ref::<E>(),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput { field, reason } => write!(f, "invalid `{field}`: {reason}"),
            Error::Credentials {
                source_name,
                reason,
            } => write!(f, "credentials from {source_name}: {reason}"),
            Error::CredentialsNotFound {
                source_name,
                reason,
            } => write!(f, "no credentials in {source_name}: {reason}"),
            Error::Transport { message, .. } => write!(f, "transport error: {message}"),
            Error::Timeout { after, .. } => {
                write!(f, "no answer within the {after:?} per-attempt timeout")
            }
            Error::Service(e) => write!(f, "service error: {e}"),
            Error::Decode { status, message } => {
                write!(f, "could not decode the HTTP {status} answer: {message}")
            }
            Error::ResponseTooLarge { status, limit } => write!(
                f,
                "the HTTP {status} answer's body is larger than the {limit}-byte limit"
            ),
            Error::ServiceSpecific(kind) => fmt::Display::fmt(kind, f),
            Error::SessionExpired { reason } => {
                write!(f, "session expired, log in again: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport {
                source: Some(s), ..
            } => Some(s.as_ref()),
            Error::Service(e) => Some(e.as_ref()),
            Error::ServiceSpecific(kind) => kind.source(),
            _ => None,
        }
    }
}

impl std::error::Error for ServiceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_display_names_status_code_message_and_request_id() {
        let e: Error = ServiceError::new(401, "200", "Authentication Failed")
            .with_request_id(Some("req-1".into()))
            .into();
        assert_eq!(
            e.to_string(),
            "service error: HTTP 401 200: Authentication Failed [request id req-1]"
        );
        assert_eq!(e.status(), Some(401));
        assert_eq!(e.service_code(), Some("200"));
        assert!(e.is_authentication());
        assert!(!e.is_retryable());
    }

    #[test]
    fn retryable_statuses_depend_on_idempotency() {
        use Idempotency::*;
        for (s, idempotent, non_idempotent) in [
            (429, true, true),
            (503, true, true),
            (502, true, false),
            (504, true, false),
            (500, false, false),
            (400, false, false),
            (401, false, false),
        ] {
            for (idem, want) in [(Idempotent, idempotent), (NonIdempotent, non_idempotent)] {
                let e: Error = ServiceError::new(s, "x", "y").with_idempotency(idem).into();
                assert_eq!(e.is_retryable(), want, "{s} {idem:?}");
            }
        }
        // Without a recorded classification, a 502 is not retryable: never re-POST.
        let e: Error = ServiceError::new(502, "x", "y").into();
        assert!(!e.is_retryable());
    }

    #[test]
    fn transport_failures_are_retryable_when_never_sent_or_idempotent() {
        use Idempotency::*;
        assert!(Error::transport("refused", true).is_retryable());
        assert!(Error::transport("refused", true)
            .with_idempotency(NonIdempotent)
            .is_retryable());
        assert!(!Error::transport("reset", false).is_retryable());
        assert!(Error::transport("reset", false)
            .with_idempotency(Idempotent)
            .is_retryable());
        let t = Error::timeout(Duration::from_secs(1));
        assert!(!t.is_retryable());
        assert!(t.with_idempotency(Idempotent).is_retryable());
        assert!(!Error::invalid_input("f", "r")
            .with_idempotency(Idempotent)
            .is_retryable());
    }

    #[test]
    fn methods_are_classified_by_rfc_9110() {
        use reqwest::Method;
        for m in [Method::GET, Method::HEAD, Method::PUT, Method::DELETE] {
            assert_eq!(Idempotency::of_method(&m), Idempotency::Idempotent, "{m}");
        }
        for m in [Method::POST, Method::PATCH] {
            assert_eq!(
                Idempotency::of_method(&m),
                Idempotency::NonIdempotent,
                "{m}"
            );
        }
    }
}
