//! Shared plumbing of the fuzz targets: an in-memory HTTP client that answers every request
//! with the fuzzer's bytes, so each client's decoders are reached through its public calls.

use std::sync::{Arc, Mutex};

use token_common::reqwest::header::{HeaderMap, HeaderValue};
use token_common::transport::{BoxFuture, HttpClient, HttpRequest, HttpResponse};
use token_common::{Result, Transport};

/// Answers every request with the status and body it holds.
#[derive(Debug, Default)]
pub struct Canned(Mutex<(u16, Vec<u8>)>);

impl Canned {
    /// Sets the next answers.
    pub fn set(&self, status: u16, body: &[u8]) {
        *self.0.lock().unwrap() = (status, body.to_vec());
    }
}

impl HttpClient for Canned {
    fn execute(&self, _request: HttpRequest, _max: usize) -> BoxFuture<'_, Result<HttpResponse>> {
        let (status, body) = self.0.lock().unwrap().clone();
        Box::pin(async move {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            Ok(HttpResponse::new(status, headers, body))
        })
    }
}

/// A transport over `canned` that tries once (no retry waits).
pub fn transport(canned: &Arc<Canned>) -> Transport {
    Transport::builder()
        .http_client(canned.clone())
        .max_attempts(1)
        .build()
        .unwrap()
}

/// The status from the input's first two bytes (100..=599), and the rest as the body.
pub fn split(data: &[u8]) -> (u16, &[u8]) {
    match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    }
}

/// A current-thread runtime (the canned client never waits).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}
