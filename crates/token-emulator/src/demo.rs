//! The demo accounts the emulator seeds when it is given no configuration
//! ([`Config::demo`](crate::Config::demo)): known credentials for the quickstart, the
//! examples and tests. They work only against the emulator.

/// NCP access key of the demo account.
pub const NCP_ACCESS_KEY: &str = "NCPDEMOACCESSKEY0001";
/// NCP secret key of the demo account.
pub const NCP_SECRET_KEY: &str = "ncp-demo-secret-key-0001";
/// A KMS key tag whose token generator is active.
pub const NCP_KEY_TAG: &str = "demo-key-tag";
/// An ECDSA (P-256) KMS key tag, for sign and verify; its token generator is active.
pub const NCP_ECDSA_KEY_TAG: &str = "demo-ecdsa-key-tag";
/// A KMS key tag whose token generator is disabled.
pub const NCP_DISABLED_KEY_TAG: &str = "demo-disabled-key-tag";
/// The role of the emulated NCP server: instance metadata (`/latest/meta-data/iam/…`) hands
/// out temporary keys for it, valid an hour each, with or without a metadata v2 token.
pub const NCP_SERVER_ROLE_ID: &str = "demo-server-role";

/// Huawei access key (AK) of the demo account (permanent credentials).
pub const HUAWEI_AK: &str = "HWDEMOAK0000000000001";
/// Huawei secret key (SK) of the demo account.
pub const HUAWEI_SK: &str = "huawei-demo-secret-key-0001";
/// Huawei project id both demo accounts are scoped to.
pub const HUAWEI_PROJECT_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
/// Access key of the demo temporary (STS) account: requests must carry and sign
/// [`HUAWEI_STS_SECURITY_TOKEN`].
pub const HUAWEI_STS_AK: &str = "HWDEMOSTSAK000000001";
/// Secret key of the demo temporary (STS) account.
pub const HUAWEI_STS_SK: &str = "huawei-demo-sts-secret-key-0001";
/// Security token of the demo temporary (STS) account.
pub const HUAWEI_STS_SECURITY_TOKEN: &str = "huawei-demo-security-token-0001";
/// The demo identity store.
pub const HUAWEI_IDENTITY_STORE_ID: &str = "d-1234567890";
/// The demo provisioning tenant inside [`HUAWEI_IDENTITY_STORE_ID`].
pub const HUAWEI_TENANT_ID: &str = "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e";

/// The demo Cloudforet domain id.
pub const CLOUDFORET_DOMAIN_ID: &str = "domain-123";
/// The demo Cloudforet domain name (for `get-auth-info`).
pub const CLOUDFORET_DOMAIN_NAME: &str = "demo";
/// The demo workspace.
pub const CLOUDFORET_WORKSPACE_ID: &str = "workspace-1";
/// A domain admin (`DOMAIN_ADMIN`) without MFA.
pub const CLOUDFORET_ADMIN_USER_ID: &str = "admin@example.com";
/// Password of [`CLOUDFORET_ADMIN_USER_ID`].
pub const CLOUDFORET_ADMIN_PASSWORD: &str = "demo-admin-password";
/// A workspace member (`WORKSPACE_MEMBER`) without MFA.
pub const CLOUDFORET_MEMBER_USER_ID: &str = "alice@example.com";
/// Password of [`CLOUDFORET_MEMBER_USER_ID`].
pub const CLOUDFORET_MEMBER_PASSWORD: &str = "demo-alice-password";
/// A domain admin with e-mail MFA: its code is always [`CLOUDFORET_MFA_CODE`].
pub const CLOUDFORET_MFA_USER_ID: &str = "mfa@example.com";
/// Password of [`CLOUDFORET_MFA_USER_ID`].
pub const CLOUDFORET_MFA_PASSWORD: &str = "demo-mfa-password";
/// The MFA code the emulator "sends" to [`CLOUDFORET_MFA_USER_ID`].
pub const CLOUDFORET_MFA_CODE: &str = "246802";

/// The public half of the built-in demo key pair that signs every JWT the emulator mints
/// (RS256; a `SubjectPublicKeyInfo` PEM). Its private half ships in the crate, so these
/// tokens prove nothing outside tests. Verify emulator tokens with it in your own tests.
pub const JWT_PUBLIC_KEY_PEM: &str = include_str!("keys/demo-rs256-public.pem");

/// A domain admin with OTP MFA: the code is the current TOTP (RFC 6238, SHA-1, 6 digits,
/// 30 s, on the emulator's clock) of [`CLOUDFORET_OTP_SECRET`].
pub const CLOUDFORET_OTP_USER_ID: &str = "otp@example.com";
/// Password of [`CLOUDFORET_OTP_USER_ID`].
pub const CLOUDFORET_OTP_PASSWORD: &str = "demo-otp-password";
/// The Base32 TOTP secret of [`CLOUDFORET_OTP_USER_ID`] (what an authenticator app holds).
pub const CLOUDFORET_OTP_SECRET: &str = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF";
