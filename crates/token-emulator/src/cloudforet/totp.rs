//! TOTP as identity checks it: `pyotp.TOTP(secret).verify(code)` — RFC 6238 with
//! HMAC-SHA1, 6 digits, a 30 s step, `valid_window=0` (only the current step).
//!
//! Written here from the RFCs (4226 §5.3 truncation, 6238 §4 time steps, 4648 Base32) with
//! `ring`'s HMAC, independent of the client's implementation.

use ring::hmac;

const STEP_SECONDS: i64 = 30;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Decodes a Base32 secret as pyotp does (`base64.b32decode(secret, casefold=True)` after
/// padding): letters in either case, `=` padding optional; anything else is `None`.
pub(crate) fn totp_secret(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The 6-digit code of the step holding `unix_seconds`.
pub(super) fn code_at(key: &[u8], unix_seconds: i64) -> String {
    let counter = unix_seconds.div_euclid(STEP_SECONDS) as u64;
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        &counter.to_be_bytes(),
    );
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        mac[offset],
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]) & 0x7fff_ffff;
    format!("{:06}", binary % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits there; the last 6 are these codes).
    #[test]
    fn rfc6238_sha1_vectors() {
        let key = b"12345678901234567890";
        for (t, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(key, t), eight[2..], "T = {t}");
        }
    }

    #[test]
    fn base32_as_pyotp_reads_it() {
        assert_eq!(totp_secret("GEZDGNBVGY3TQOJQ").unwrap(), b"1234567890");
        assert_eq!(totp_secret("gezdgnbvgy3tqojq").unwrap(), b"1234567890");
        assert_eq!(totp_secret("MFRGG===").unwrap(), b"abc");
        assert_eq!(totp_secret("MFRGG").unwrap(), b"abc");
        assert_eq!(totp_secret("MFRG1"), None);
        assert_eq!(totp_secret(""), None);
    }
}
