//! Shared test plumbing: an emulator on a free loopback port with a manual clock, and a
//! way to send requests signed by token-common's own signers.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};
use serde_json::Value;
use token_common::clock::{Clock, ManualClock};
use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
use token_common::signing::{HuaweiSigner, NcpSigner, Signer};
use token_common::HttpRequest;
use token_emulator::{demo, Emulator, EmulatorHandle};

/// 2025-06-01T00:00:00Z: a fixed "now" so every run sees the same times.
pub const START: u64 = 1_748_736_000;

pub struct Env {
    pub emulator: EmulatorHandle,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

pub async fn start() -> Env {
    let clock = Arc::new(ManualClock::at_unix_seconds(START));
    let emulator = Emulator::builder()
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .expect("emulator starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Env {
        emulator,
        clock,
        http,
    }
}

/// A decoded answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
}

impl Env {
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub fn url(&self, path_and_query: &str) -> Url {
        Url::parse(&format!("{}{path_and_query}", self.emulator.base_url())).unwrap()
    }

    pub fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> HttpRequest {
        let mut req = HttpRequest::new(method, self.url(path_and_query), "/test");
        if let Some(body) = body {
            req.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            req.body = Some(body.to_string().into_bytes());
        }
        req
    }

    pub async fn send(&self, req: HttpRequest) -> Answer {
        let mut builder = self.http.request(req.method, req.url).headers(req.headers);
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.expect("request reaches the emulator");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        Answer {
            status,
            headers,
            text,
        }
    }

    /// Signs with NCP signature v2 as of `at`, then sends.
    pub async fn ncp(
        &self,
        creds: &NcpCredentials,
        at: SystemTime,
        mut req: HttpRequest,
    ) -> Answer {
        NcpSigner::new(creds).unwrap().sign(&mut req, at).unwrap();
        self.send(req).await
    }

    /// Signs with the demo NCP account now, then sends.
    pub async fn ncp_demo(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
    ) -> Answer {
        let req = self.request(method, path_and_query, body);
        self.ncp(&ncp_demo(), self.now(), req).await
    }

    /// Signs with SDK-HMAC-SHA256 as of `at`, then sends.
    pub async fn huawei(
        &self,
        creds: &HuaweiCredentials,
        at: SystemTime,
        mut req: HttpRequest,
    ) -> Answer {
        let scope = HuaweiScope::Project(creds.project_id().unwrap_or_default().to_owned());
        HuaweiSigner::new(creds, scope)
            .unwrap()
            .sign(&mut req, at)
            .unwrap();
        self.send(req).await
    }

    /// A Huawei call as the official SDK sends it (`Content-Type: application/json`, no
    /// body), signed with the demo account now.
    pub async fn huawei_demo(&self, method: Method, path: &str) -> Answer {
        let req = self.huawei_request(method, path);
        self.huawei(&huawei_demo(), self.now(), req).await
    }

    pub fn huawei_request(&self, method: Method, path: &str) -> HttpRequest {
        let mut req = self.request(method, path, None);
        req.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        req
    }

    /// An unauthenticated JSON POST (Cloudforet).
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        let req = self.request(Method::POST, path, Some(body));
        self.send(req).await
    }
}

pub fn ncp_demo() -> NcpCredentials {
    NcpCredentials::new(demo::NCP_ACCESS_KEY, demo::NCP_SECRET_KEY)
}

pub fn huawei_demo() -> HuaweiCredentials {
    HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK)
        .with_project_id(demo::HUAWEI_PROJECT_ID)
}

pub fn huawei_sts() -> HuaweiCredentials {
    HuaweiCredentials::new(demo::HUAWEI_STS_AK, demo::HUAWEI_STS_SK)
        .with_project_id(demo::HUAWEI_PROJECT_ID)
        .with_security_token(demo::HUAWEI_STS_SECURITY_TOKEN)
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
