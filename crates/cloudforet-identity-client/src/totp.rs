//! OTP MFA answered by the program itself: RFC 6238 codes from the user's TOTP secret.
//!
//! Cloudforet checks OTP codes with `pyotp.TOTP(secret).verify(code)` (FACTS.md §3): HMAC-SHA1,
//! 6 digits, a 30 s step, and **only the current step** is accepted. So a code computed in
//! the last [`LATE_IN_STEP`] of its step, which could reach the server after the step has
//! turned, is not sent: [`TotpSecret::code_for_sending`] waits for the next step and sends
//! that step's code.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use token_common::clock::Clock;
use token_common::{Error, Result, SecretString};
use totp_rs::{Algorithm, TOTP};

/// The TOTP step, in seconds.
pub const STEP_SECONDS: u64 = 30;
/// A code computed this close to the end of its step is not sent; the next step's is.
pub const LATE_IN_STEP: Duration = Duration::from_secs(2);
const DIGITS: usize = 6;
const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A TOTP secret (what an authenticator app holds for the user). `Debug` and `Display`
/// never show it; the decoded key is zeroized on drop.
///
/// ```
/// use cloudforet_identity_client::TotpSecret;
/// // Spaces, lower case and missing padding are accepted, as authenticator apps show them.
/// let secret = TotpSecret::from_base32("jbsw y3dp ehpk 3pxp").unwrap();
/// assert_eq!(format!("{secret:?}"), "TotpSecret(** redacted **)");
/// assert!(TotpSecret::from_base32("not base32!").is_err());
/// ```
#[derive(Clone)]
pub struct TotpSecret {
    totp: TOTP,
}

impl TotpSecret {
    /// Reads a Base32 secret leniently: whitespace and `-` are ignored, letters may be in
    /// either case, `=` padding may be missing. Anything else is
    /// [`Error::InvalidInput`] for `otp_secret` (the message never quotes the secret).
    pub fn from_base32(text: &str) -> Result<Self> {
        let mut clean = String::with_capacity(text.len());
        for (i, c) in text.chars().enumerate() {
            if c.is_whitespace() || c == '-' {
                continue;
            }
            let c = c.to_ascii_uppercase();
            if !ALPHABET.contains(c) && c != '=' {
                return Err(Error::invalid_input(
                    "otp_secret",
                    format!("character {} is not Base32 (A-Z, 2-7)", i + 1),
                ));
            }
            clean.push(c);
        }
        let trimmed = clean.trim_end_matches('=');
        if trimmed.contains('=') {
            return Err(Error::invalid_input(
                "otp_secret",
                "`=` may only pad the end of a Base32 secret",
            ));
        }
        let key = decode_base32(trimmed);
        clean.replace_range(.., &"\0".repeat(clean.len()));
        if key.is_empty() {
            return Err(Error::invalid_input("otp_secret", "must not be empty"));
        }
        Ok(Self {
            totp: TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, key),
        })
    }

    /// The code for the step holding `at`. Times before 1970 are refused.
    pub fn code_at(&self, at: SystemTime) -> Result<SecretString> {
        let secs = at
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::invalid_input("time", "TOTP needs a time after 1970"))?
            .as_secs();
        Ok(SecretString::new(self.totp.generate(secs)))
    }

    /// The code to send now, read on `clock`: the current step's, unless the step ends
    /// within [`LATE_IN_STEP`]; then this waits (tokio's timer) until the next step starts
    /// and returns that step's code.
    pub async fn code_for_sending(&self, clock: &dyn Clock) -> Result<SecretString> {
        let now = clock.now();
        let wait = wait_before_sending(now)?;
        if wait.is_zero() {
            return self.code_at(now);
        }
        tokio::time::sleep(wait).await;
        // The next step's code, even if `clock` has not moved (a manual clock): it is the
        // step the server will be in by the time the code arrives.
        let next = now + wait;
        self.code_at(clock.now().max(next))
    }
}

/// How long to wait before a code computed at `now` may be sent (zero: send now).
pub(crate) fn wait_before_sending(now: SystemTime) -> Result<Duration> {
    let since_epoch = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::invalid_input("time", "TOTP needs a time after 1970"))?;
    let step = Duration::from_secs(STEP_SECONDS);
    let into_step = Duration::from_nanos((since_epoch.as_nanos() % step.as_nanos()) as u64);
    let left = step - into_step;
    Ok(if left <= LATE_IN_STEP {
        left
    } else {
        Duration::ZERO
    })
}

/// RFC 4648 Base32 of letters already checked to be in the alphabet, without padding.
fn decode_base32(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars() {
        let value = ALPHABET.find(c).unwrap_or(0) as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(** redacted **)")
    }
}

impl fmt::Display for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** redacted **")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// RFC 6238 Appendix B, the SHA-1 rows: the key is ASCII "12345678901234567890"
    /// (Base32 `GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`); the RFC lists 8 digits, a 6-digit code
    /// is their last six.
    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = TotpSecret::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                secret.code_at(at(t)).unwrap().expose_secret(),
                &eight[2..],
                "T = {t}"
            );
        }
    }

    #[test]
    fn base32_is_read_leniently() {
        let canonical = TotpSecret::from_base32("GEZDGNBVGY3TQOJQ").unwrap();
        let code = canonical.code_at(at(59)).unwrap();
        for text in [
            "gezd gnbv gy3t qojq",
            "GEZDGNBVGY3TQOJQ====",
            " gezdgnbvgy3tqojq\n",
            "GEZD-GNBV-GY3T-QOJQ",
        ] {
            let s = TotpSecret::from_base32(text).unwrap();
            assert_eq!(
                s.code_at(at(59)).unwrap().expose_secret(),
                code.expose_secret(),
                "{text:?}"
            );
        }
        // Base32 of "abc" is MFRGG (unpadded): decoding is exact.
        assert_eq!(decode_base32("MFRGG"), b"abc");
    }

    #[test]
    fn bad_secrets_are_refused_by_name_without_quoting_them() {
        for text in ["", "   ", "GEZD1BVG", "GE=ZDGNBV", "geheim!"] {
            let e = TotpSecret::from_base32(text).unwrap_err();
            let shown = e.to_string();
            assert!(shown.contains("otp_secret"), "{shown}");
            if text.len() > 3 {
                assert!(!shown.contains(text.trim()), "{shown}");
            }
        }
    }

    #[test]
    fn late_codes_wait_for_the_next_step() {
        assert_eq!(wait_before_sending(at(60)).unwrap(), Duration::ZERO);
        assert_eq!(wait_before_sending(at(87)).unwrap(), Duration::ZERO);
        assert_eq!(wait_before_sending(at(88)).unwrap(), Duration::from_secs(2));
        assert_eq!(
            wait_before_sending(at(89) + Duration::from_millis(500)).unwrap(),
            Duration::from_millis(500)
        );
    }

    #[test]
    fn never_shows_the_secret() {
        let s = TotpSecret::from_base32("GEZDGNBVGY3TQOJQ").unwrap();
        for shown in [format!("{s:?}"), format!("{s}"), format!("{s:#?}")] {
            assert!(
                !shown.contains("GEZD") && !shown.contains("49, 50"),
                "{shown}"
            );
        }
    }
}
