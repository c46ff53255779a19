use std::sync::Arc;

use super::{BoxFuture, HttpClient, HttpRequest, HttpResponse, TransportConfig};
use crate::error::{Error, Result};

/// The default [`HttpClient`]: reqwest with rustls (the `rustls` feature, on by default)
/// or the platform's TLS (the `native-tls` feature; it wins when both are on, since it is
/// only ever asked for on purpose), no redirects followed (a redirect would resend signed
/// headers elsewhere). With neither feature, only plain `http://` (loopback) works.
#[derive(Debug, Clone)]
pub struct ReqwestClient {
    client: reqwest::Client,
}

impl ReqwestClient {
    /// A client with the transport's connect timeout and `User-Agent`.
    pub fn new(config: &TransportConfig) -> Result<Self> {
        let builder = reqwest::Client::builder();
        #[cfg(feature = "native-tls")]
        let builder = builder.use_native_tls();
        let client = builder
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| transport_error(&e))?;
        Ok(Self { client })
    }

    /// Wraps an existing reqwest client (its own timeouts and proxies apply).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    // Only a failure of the connector (DNS, TCP connect, TLS handshake, connect timeout)
    // proves that no byte of the request was written; a timeout of a reqwest client given
    // through `from_client` may strike after sending, so it is not counted.
    let connect = e.is_connect();
    let mut message = e.to_string();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::transport(message, connect)
}

impl HttpClient for ReqwestClient {
    fn execute(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
    ) -> BoxFuture<'_, Result<HttpResponse>> {
        Box::pin(async move {
            #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
            if request.url.scheme() == "https" {
                return Err(Error::invalid_input(
                    "endpoint",
                    "is https:// but this build has no TLS backend: enable the `rustls` \
                     (default) or `native-tls` feature",
                ));
            }
            // The signed header map is moved into reqwest's request whole: its
            // `RequestBuilder::headers` would insert every header again, one by one.
            let mut outgoing = reqwest::Request::new(request.method, request.url);
            *outgoing.headers_mut() = request.headers;
            if let Some(body) = request.body {
                // reqwest keeps the body as `Bytes`; owning it through `Zeroizing` wipes
                // it when hyper is done with it (hyper's and TLS's own write buffers are
                // out of reach: see the crate's README).
                let body = bytes::Bytes::from_owner(zeroize::Zeroizing::new(body));
                *outgoing.body_mut() = Some(body.into());
            }
            let mut response = self
                .client
                .execute(outgoing)
                .await
                .map_err(|e| transport_error(&e.without_url()))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if response
                .content_length()
                .is_some_and(|n| n > max_body_bytes as u64)
            {
                return Err(Error::ResponseTooLarge {
                    status,
                    limit: max_body_bytes,
                });
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_error(&e.without_url()))?
            {
                if body.len() + chunk.len() > max_body_bytes {
                    return Err(Error::ResponseTooLarge {
                        status,
                        limit: max_body_bytes,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse::new(status, headers, body))
        })
    }
}

// Keeps `Arc<ReqwestClient>` usable where an `Arc<dyn HttpClient>` is wanted.
impl From<ReqwestClient> for Arc<dyn HttpClient> {
    fn from(c: ReqwestClient) -> Self {
        Arc::new(c)
    }
}

/// A build without a TLS backend refuses `https://` with an error that names the features,
/// before connecting (`.ci/run` runs this with `--no-default-features`).
#[cfg(all(test, not(any(feature = "rustls", feature = "native-tls"))))]
mod no_tls_tests {
    use super::*;

    #[tokio::test]
    async fn https_without_a_tls_backend_is_refused_naming_the_features() {
        let http = ReqwestClient::new(&TransportConfig::default()).unwrap();
        // Port 1 on loopback: were the request sent, it would fail to connect instead.
        let url = url::Url::parse("https://127.0.0.1:1/v1/x").unwrap();
        let request = HttpRequest::new(reqwest::Method::GET, url, "/v1/x");
        let err = http.execute(request, 1024).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no TLS backend")
                && text.contains("rustls")
                && text.contains("native-tls"),
            "{text}"
        );
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}
