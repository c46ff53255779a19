//! Strict percent-decoding and unreserved-only encoding, written here so the verifier
//! shares no encoding code with the clients.

/// Decodes `%XX` escapes. Refuses a `%` not followed by two hex digits and a result that
/// is not UTF-8: a request whose path or query cannot be read exactly is refused rather
/// than read lossily (two different wire paths must never verify as the same text).
///
/// `+` is a literal plus (this is not form decoding).
pub(crate) fn decode_strict(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_value(*bytes.get(i + 1)?)?;
                let lo = hex_value(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Appends `s` to `out`, keeping `A-Z a-z 0-9 - _ . ~` and writing every other byte as
/// `%XX` (upper-case hex): space is `%20`, `+` is `%2B`.
pub(crate) fn encode_unreserved_into(s: &str, out: &mut String) {
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(UPPER[usize::from(b >> 4)]));
            out.push(char::from(UPPER[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_plus() {
        assert_eq!(decode_strict("a%20b+c%2Bd").as_deref(), Some("a b+c+d"));
        assert_eq!(decode_strict("%C3%bc").as_deref(), Some("ü"));
        assert_eq!(decode_strict("").as_deref(), Some(""));
    }

    #[test]
    fn refuses_bad_escapes_and_invalid_utf8() {
        for bad in ["%", "%2", "%zz", "a%g0", "%FF", "%C3", "%C3%28"] {
            assert_eq!(decode_strict(bad), None, "{bad}");
        }
    }

    #[test]
    fn encodes_all_but_unreserved() {
        let mut out = String::new();
        encode_unreserved_into("aZ09-_.~ +/%*ü", &mut out);
        assert_eq!(out, "aZ09-_.~%20%2B%2F%25%2A%C3%BC");
    }
}
