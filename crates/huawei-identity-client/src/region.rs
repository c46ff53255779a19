//! Regions and endpoints of IdentityCenterStore.

use token_common::credentials::Environment;
use token_common::{Error, Result};

/// The regions where IdentityCenterStore is published (FACTS: the official SDK's region
/// list). A region added later can still be used through
/// [`IdentityStoreClientBuilder::custom_region`](crate::IdentityStoreClientBuilder::custom_region).
pub const KNOWN_REGIONS: &[&str] = &[
    "cn-north-4",
    "cn-east-3",
    "cn-south-1",
    "cn-south-4",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "af-south-1",
    "af-north-1",
    "la-south-2",
    "la-north-2",
    "sa-brazil-1",
    "me-east-1",
    "tr-west-1",
];

/// The prefix of the official SDK's endpoint-override variables; the region follows,
/// upper-cased with `-` as `_` (see [`endpoint_override_variable`]).
pub const ENDPOINT_OVERRIDE_PREFIX: &str = "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_";

/// The public endpoint of a region: `https://identitystore.{region}.myhuaweicloud.com`.
///
/// ```
/// assert_eq!(
///     huawei_identity_client::region_endpoint("cn-north-4"),
///     "https://identitystore.cn-north-4.myhuaweicloud.com"
/// );
/// ```
pub fn region_endpoint(region: &str) -> String {
    format!("https://identitystore.{region}.myhuaweicloud.com")
}

/// The environment variable the official SDK reads to override a region's endpoint.
///
/// ```
/// assert_eq!(
///     huawei_identity_client::endpoint_override_variable("cn-north-4"),
///     "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4"
/// );
/// ```
pub fn endpoint_override_variable(region: &str) -> String {
    format!(
        "{ENDPOINT_OVERRIDE_PREFIX}{}",
        region.to_ascii_uppercase().replace('-', "_")
    )
}

/// Checks a region against [`KNOWN_REGIONS`], naming `region` and the escape hatches when
/// it is unknown.
pub(crate) fn check_known(region: &str) -> Result<()> {
    if KNOWN_REGIONS.contains(&region) {
        return Ok(());
    }
    Err(Error::invalid_input(
        "region",
        format!(
            "`{region}` is not a known IdentityCenterStore region (known: {}); for a region \
             added since, use `.custom_region(\"{region}\")`, or give the URL with `.endpoint(..)`",
            KNOWN_REGIONS.join(", ")
        ),
    ))
}

/// Checks the shape of a region name given through `custom_region` (it becomes part of a
/// host name).
pub(crate) fn check_custom(region: &str) -> Result<()> {
    let well_formed = !region.is_empty()
        && region.len() <= 63
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "custom_region",
            "must be a region name such as `cn-north-4`: lower-case letters, digits and inner `-`",
        ))
    }
}

/// The endpoint for a region: the official override variable when set (its first
/// comma-separated entry, `https://` added when it has no scheme), else the public one.
/// Returns the URL and the name of the setting it came from, for error messages.
pub(crate) fn resolve(region: &str, env: &Environment) -> (String, String) {
    let var = endpoint_override_variable(region);
    if let Some(value) = env.get(&var) {
        let first = value
            .split(',')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if !first.is_empty() {
            let url = if first.contains("://") {
                first
            } else {
                format!("https://{first}")
            };
            return (url, var);
        }
    }
    (region_endpoint(region), "region".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_region_names_field_and_escape_hatches() {
        let e = check_known("xx-nowhere-9").unwrap_err();
        assert_eq!(e.field(), Some("region"));
        let text = e.to_string();
        assert!(text.contains("custom_region"), "{text}");
        assert!(text.contains(".endpoint("), "{text}");
        assert!(check_known("ap-southeast-3").is_ok());
    }

    #[test]
    fn custom_region_shape_is_checked() {
        assert!(check_custom("eu-west-101").is_ok());
        for bad in ["", "EU-west", "a.b", "-a", "a-", "a/b"] {
            assert_eq!(
                check_custom(bad).unwrap_err().field(),
                Some("custom_region"),
                "{bad}"
            );
        }
    }

    #[test]
    fn override_variable_wins_and_gets_https() {
        let env = Environment::from_pairs([(
            "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4",
            "proxy.example.com:8443, other.example.com",
        )]);
        let (url, from) = resolve("cn-north-4", &env);
        assert_eq!(url, "https://proxy.example.com:8443");
        assert_eq!(
            from,
            "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4"
        );
        let (url, from) = resolve("cn-east-3", &env);
        assert_eq!(url, "https://identitystore.cn-east-3.myhuaweicloud.com");
        assert_eq!(from, "region");
    }
}
