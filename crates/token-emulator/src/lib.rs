//! A local server that behaves like the three token services cloud-tokens talks to —
//! NCP Key Management Service, Huawei Cloud IdentityCenterStore and Cloudforet identity —
//! so code that mints tokens can be tested end to end without a cloud account (what moto
//! and LocalStack are to AWS).
//!
//! One port serves all three: NCP under `/kms/v1/…`, Huawei under `/v1/identity-stores/…`,
//! Cloudforet under `/identity/…` (console-api-v2 routes and `/identity/v2/…`). It checks
//! what the real services check — signatures and their time windows, security tokens, path
//! ids, value ranges, JSON field names — and answers with their status codes and error
//! bodies. Tokens it mints are RS256 JWTs with real `iat`/`exp` claims, signed with a built-in
//! demo key pair whose public half is [`demo::JWT_PUBLIC_KEY_PEM`].
//!
//! # Start
//! ```no_run
//! # async fn run() -> Result<(), token_emulator::Error> {
//! use token_emulator::{demo, Emulator};
//!
//! let emulator = Emulator::builder().start("127.0.0.1:0").await?; // seeded with `demo`
//! let kms_base = emulator.ncp_base_url(); // http://127.0.0.1:PORT/kms/v1
//! # let _ = (kms_base, demo::NCP_ACCESS_KEY);
//! emulator.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! # Time
//! Every time check reads an injected [`Clock`](token_common::clock::Clock)
//! ([`EmulatorBuilder::clock`]); with a [`ManualClock`](token_common::clock::ManualClock)
//! a test moves time instead of sleeping. Answers carry a `Date` header from the same
//! clock, which clients use to correct their clock skew.
//!
//! # Faults
//! [`EmulatorHandle::inject`] queues [`Fault`]s — a status (with `Retry-After`), a delay, a
//! dropped connection, a malformed body — per service or path prefix; see [`faults`].
//!
//! # What it does not do
//! It serves no SCIM API, has no external auth plugins or system tokens for Cloudforet, and
//! its JWT signing key is a published demo key (ids come from the operating system's
//! CSPRNG): it is a test double, never a security boundary.

mod cloudforet;
pub mod config;
mod connection;
pub mod demo;
mod error;
pub mod faults;
mod huawei;
mod jwt;
mod ncp;
mod ncp_crypto;
mod ncp_metadata;
mod ncp_sts;
mod ncp_temporary;
mod server;
pub mod verify;

pub use config::Config;
pub use error::Error;
pub use faults::{Fault, FaultKind, RetryAfter, ServicePrefix};
pub use server::{Emulator, EmulatorBuilder, EmulatorHandle};
