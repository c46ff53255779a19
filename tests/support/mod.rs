//! Shared helpers of the end-to-end tests: starting the emulator, building each client
//! against it, and the clocks the tests inject.
//!
//! Each test file uses only some of these, hence the `dead_code` allowance; each client's
//! helpers exist only with its feature, so a test of one client builds with that one alone.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(feature = "cloudforet")]
use cloudforet_identity_client::{IdentityClient, RouteStyle};
#[cfg(feature = "huawei")]
use huawei_identity_client::{HuaweiCredentials, IdentityStoreClient};
#[cfg(feature = "ncp")]
use ncp_kms_client::{KmsClient, NcpCredentials};
use token_common::clock::{Clock, ManualClock, SystemClock};
use token_common::transport::{Backoff, TransportBuilder};
use token_common::Transport;
#[cfg(any(feature = "ncp", feature = "huawei"))]
use token_emulator::demo;
use token_emulator::{Emulator, EmulatorHandle};

/// A fixed instant for tests on manual time: 2025-06-01T00:00:00Z.
pub const START_UNIX_SECONDS: u64 = 1_748_736_000;

/// The emulator on a free loopback port, demo accounts, system clock.
pub async fn start() -> EmulatorHandle {
    Emulator::builder()
        .start("127.0.0.1:0")
        .await
        .expect("the emulator starts on a loopback port")
}

/// The emulator on a free loopback port, demo accounts, reading time from `clock`.
pub async fn start_with_clock(clock: Arc<dyn Clock>) -> EmulatorHandle {
    Emulator::builder()
        .clock(clock)
        .start("127.0.0.1:0")
        .await
        .expect("the emulator starts on a loopback port")
}

/// A manual clock at [`START_UNIX_SECONDS`].
pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix_seconds(START_UNIX_SECONDS))
}

/// Another clock shifted by a fixed offset: a client machine whose clock is wrong.
#[derive(Debug, Clone)]
pub struct OffsetClock {
    base: Arc<dyn Clock>,
    offset: Duration,
    ahead: bool,
}

impl OffsetClock {
    /// A clock `offset` behind the system clock.
    pub fn behind(offset: Duration) -> Self {
        Self::behind_of(Arc::new(SystemClock), offset)
    }

    /// A clock `offset` ahead of the system clock.
    pub fn ahead(offset: Duration) -> Self {
        Self::ahead_of(Arc::new(SystemClock), offset)
    }

    /// A clock `offset` ahead of `base`.
    pub fn ahead_of(base: Arc<dyn Clock>, offset: Duration) -> Self {
        Self {
            base,
            offset,
            ahead: true,
        }
    }

    /// A clock `offset` behind `base` (say, a [`ManualClock`] the emulator reads).
    pub fn behind_of(base: Arc<dyn Clock>, offset: Duration) -> Self {
        Self {
            base,
            offset,
            ahead: false,
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> SystemTime {
        let now = self.base.now();
        if self.ahead {
            now + self.offset
        } else {
            now - self.offset
        }
    }
}

/// A transport reading `clock`, with retries that wait at most a few milliseconds (so the
/// retry tests stay fast without changing what is retried).
pub fn transport_with_clock(clock: Arc<dyn Clock>) -> TransportBuilder {
    Transport::builder().clock(clock).backoff(quick_backoff())
}

/// Full-jitter backoff capped at 20 ms.
pub fn quick_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(5), Duration::from_millis(20))
}

/// Demo NCP credentials.
#[cfg(feature = "ncp")]
pub fn ncp_credentials() -> NcpCredentials {
    NcpCredentials::new(demo::NCP_ACCESS_KEY, demo::NCP_SECRET_KEY)
}

/// The NCP client with demo credentials and default transport settings.
#[cfg(feature = "ncp")]
pub fn ncp_client(emulator: &EmulatorHandle) -> KmsClient {
    KmsClient::builder()
        .credentials(ncp_credentials())
        .endpoint(&emulator.ncp_base_url())
        .build()
        .expect("the NCP client builds")
}

/// The NCP client with demo credentials sending through `transport`.
#[cfg(feature = "ncp")]
pub fn ncp_client_with(emulator: &EmulatorHandle, transport: Transport) -> KmsClient {
    KmsClient::builder()
        .credentials(ncp_credentials())
        .endpoint(&emulator.ncp_base_url())
        .transport(transport)
        .build()
        .expect("the NCP client builds")
}

/// The emulator and an NCP client (demo credentials, quick retries) reading one manual
/// clock at [`START_UNIX_SECONDS`]: for expiry and refresh on manual time.
#[cfg(feature = "ncp")]
pub async fn ncp_on_manual_clock() -> (Arc<ManualClock>, EmulatorHandle, KmsClient) {
    let (clock, emulator, transport) = on_manual_clock().await;
    let client = ncp_client_with(&emulator, transport);
    (clock, emulator, client)
}

/// The emulator and a Cloudforet client (default routes, quick retries) reading one manual
/// clock at [`START_UNIX_SECONDS`].
#[cfg(feature = "cloudforet")]
pub async fn cloudforet_on_manual_clock() -> (Arc<ManualClock>, EmulatorHandle, IdentityClient) {
    let (clock, emulator, transport) = on_manual_clock().await;
    let client = cloudforet_client_with(&emulator, transport);
    (clock, emulator, client)
}

/// The emulator and a transport (quick retries) reading one manual clock at
/// [`START_UNIX_SECONDS`]: what the `*_on_manual_clock` helpers build their client on.
pub async fn on_manual_clock() -> (Arc<ManualClock>, EmulatorHandle, Transport) {
    let clock = manual_clock();
    let emulator = start_with_clock(clock.clone()).await;
    let transport = transport_with_clock(clock.clone())
        .build()
        .expect("transport");
    (clock, emulator, transport)
}

/// Demo permanent Huawei credentials.
#[cfg(feature = "huawei")]
pub fn huawei_permanent() -> HuaweiCredentials {
    HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK)
        .with_project_id(demo::HUAWEI_PROJECT_ID)
}

/// Demo temporary (STS) Huawei credentials, security token included.
#[cfg(feature = "huawei")]
pub fn huawei_temporary() -> HuaweiCredentials {
    HuaweiCredentials::new(demo::HUAWEI_STS_AK, demo::HUAWEI_STS_SK)
        .with_security_token(demo::HUAWEI_STS_SECURITY_TOKEN)
        .with_project_id(demo::HUAWEI_PROJECT_ID)
}

/// The Huawei client with `credentials` and default transport settings.
#[cfg(feature = "huawei")]
pub fn huawei_client(
    emulator: &EmulatorHandle,
    credentials: HuaweiCredentials,
) -> IdentityStoreClient {
    IdentityStoreClient::builder()
        .endpoint(emulator.base_url())
        .credentials(credentials)
        .build()
        .expect("the Huawei client builds")
}

/// The Huawei client with `credentials` sending through `transport`.
#[cfg(feature = "huawei")]
pub fn huawei_client_with(
    emulator: &EmulatorHandle,
    credentials: HuaweiCredentials,
    transport: Transport,
) -> IdentityStoreClient {
    IdentityStoreClient::builder()
        .endpoint(emulator.base_url())
        .credentials(credentials)
        .transport(transport)
        .build()
        .expect("the Huawei client builds")
}

/// The Cloudforet client for a route style, default transport settings.
#[cfg(feature = "cloudforet")]
pub fn cloudforet_client(emulator: &EmulatorHandle, route: RouteStyle) -> IdentityClient {
    IdentityClient::builder()
        .endpoint(emulator.base_url())
        .route_style(route)
        .build()
        .expect("the Cloudforet client builds")
}

/// The Cloudforet client (console routes) sending through `transport`.
#[cfg(feature = "cloudforet")]
pub fn cloudforet_client_with(emulator: &EmulatorHandle, transport: Transport) -> IdentityClient {
    IdentityClient::builder()
        .endpoint(emulator.base_url())
        .transport(transport)
        .build()
        .expect("the Cloudforet client builds")
}

/// Seconds since the Unix epoch of `t`.
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
