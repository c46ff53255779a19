//! Percent-encoding shared by the clients and the signers.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

/// Every byte but the RFC 3986 unreserved characters `A-Z a-z 0-9 - _ . ~` is encoded.
pub const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `value` keeping only unreserved characters (`/` becomes `%2F`, space
/// `%20`).
pub fn encode_unreserved(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, UNRESERVED).to_string()
}

/// Encodes a path parameter as exactly one URL path segment.
///
/// Refuses (naming `field`) what cannot travel as one segment: the empty string, and `.` or
/// `..`, which every URL parser resolves as "this" or "parent" directory and would so change
/// the path.
///
/// ```
/// use token_common::encoding::path_segment;
/// assert_eq!(path_segment("key_tag", "a/b c?").unwrap(), "a%2Fb%20c%3F");
/// assert!(path_segment("key_tag", "..").is_err());
/// ```
pub fn path_segment(field: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(Error::invalid_input(
            field,
            "`.` and `..` cannot be sent as a path segment",
        ));
    }
    Ok(encode_unreserved(value))
}
