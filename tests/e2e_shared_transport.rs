//! One `Transport` shared by the three clients (as the quickstart does), each against its
//! own emulator whose clock is off by a different amount: every signed call is signed in
//! its own server's time, the offsets never leak from one service to another, and the
//! unsigned Cloudforet session counts lifetimes on the local clock alone.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cloudforet_identity_client::{Credentials, LoginOptions, Session};
use token_common::clock::Clock;
use token_emulator::demo;

use support::OffsetClock;

const TEN_MINUTES: Duration = Duration::from_secs(600);
const TWENTY_MINUTES: Duration = Duration::from_secs(1200);

fn close_to(measured_ms: i64, expected_ms: i64) -> bool {
    (measured_ms - expected_ms).abs() <= 2_000
}

#[tokio::test]
async fn clients_on_one_transport_each_sign_in_their_own_servers_time() {
    // The client machine's clock is manual; NCP's server is ten minutes ahead of it (NCP
    // refuses five minutes off), Huawei's twenty minutes behind (Huawei refuses fifteen),
    // and Cloudforet's an hour ahead (it signs nothing, so this must not matter).
    let local = support::manual_clock();
    let ncp_server =
        support::start_with_clock(Arc::new(OffsetClock::ahead_of(local.clone(), TEN_MINUTES)))
            .await;
    let huawei_server = support::start_with_clock(Arc::new(OffsetClock::behind_of(
        local.clone(),
        TWENTY_MINUTES,
    )))
    .await;
    let cloudforet_clock = Arc::new(OffsetClock::ahead_of(
        local.clone(),
        Duration::from_secs(3600),
    ));
    let cloudforet_server = support::start_with_clock(cloudforet_clock.clone()).await;

    let shared = support::transport_with_clock(local.clone())
        .build()
        .expect("transport");
    let ncp = support::ncp_client_with(&ncp_server, shared.clone());
    let huawei =
        support::huawei_client_with(&huawei_server, support::huawei_permanent(), shared.clone());
    let cloudforet = support::cloudforet_client_with(&cloudforet_server, shared.clone());

    // NCP: refused for its time once, corrected to its server's clock.
    ncp.list_keys(1, 10)
        .await
        .expect("NCP, after one correction");
    assert!(
        close_to(ncp.clock_skew_ms(), 600_000),
        "{}",
        ncp.clock_skew_ms()
    );
    assert_eq!(huawei.clock_skew_ms(), 0, "NCP's offset is NCP's alone");

    // Huawei: its own correction, the other way.
    huawei
        .list_bearer_tokens(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
        .await
        .expect("Huawei, after one correction");
    assert!(
        close_to(huawei.clock_skew_ms(), -1_200_000),
        "{}",
        huawei.clock_skew_ms()
    );
    // NCP kept its own offset (a shared one would now be Huawei's).
    assert!(
        close_to(ncp.clock_skew_ms(), 600_000),
        "{}",
        ncp.clock_skew_ms()
    );

    // Later calls go out in each server's time straight away, in any order, and the
    // offsets stay put (a shared offset would flip at every call).
    for _ in 0..2 {
        ncp.list_keys(1, 10)
            .await
            .expect("NCP with its kept offset");
        huawei
            .list_bearer_tokens(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
            .await
            .expect("Huawei with its kept offset");
        assert!(close_to(ncp.clock_skew_ms(), 600_000));
        assert!(close_to(huawei.clock_skew_ms(), -1_200_000));
    }
    let ncp_time = shared.now_at(ncp.endpoint());
    assert!(ncp_time.duration_since(local.now()).unwrap() >= TEN_MINUTES - Duration::from_secs(2));

    // Cloudforet: unsigned, so no offset is measured or applied; the session counts the
    // token's lifetime from the local clock, not from NCP's or Huawei's.
    let asked_at = local.now();
    let session = Session::login(
        &cloudforet,
        LoginOptions::new(
            Credentials::local(
                demo::CLOUDFORET_ADMIN_USER_ID,
                demo::CLOUDFORET_ADMIN_PASSWORD,
            ),
            demo::CLOUDFORET_DOMAIN_ID,
        ),
    )
    .await
    .expect("Cloudforet login");
    let token = session.access_token().await.expect("token");
    let lifetime_on_server = token
        .info()
        .expires_at()
        .expect("exp")
        .duration_since(cloudforet_clock.now())
        .expect("exp after the server's now");
    let lifetime_locally = token
        .expires_at()
        .expect("local expiry")
        .duration_since(asked_at)
        .expect("local expiry after the request");
    let diff = lifetime_locally.abs_diff(lifetime_on_server);
    assert!(
        diff <= Duration::from_secs(2),
        "{lifetime_locally:?} vs {lifetime_on_server:?}"
    );
    assert_eq!(
        shared.clock_skew_ms_at(&url(cloudforet_server.base_url())),
        0
    );

    for server in [ncp_server, huawei_server, cloudforet_server] {
        server.shutdown().await.expect("clean shutdown");
    }
}

fn url(s: impl AsRef<str>) -> reqwest::Url {
    reqwest::Url::parse(s.as_ref()).expect("a URL")
}
