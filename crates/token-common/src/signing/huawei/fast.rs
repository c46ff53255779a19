//! The signer's fast path: the canonical request is streamed straight into the hash
//! through a small stack buffer, never built as a string. The pure stages
//! ([`super::canonical_request`] and friends) define what it must produce; the property
//! test `tests/huawei_fast_path.rs` checks that it does.

use smallvec::SmallVec;
use url::Url;

use crate::signing::Digest32;

/// Bytes collected before they are handed to the hash: a multiple of the 64-byte block of
/// SHA-256 and SM3, so full blocks are compressed in place; large enough that the usual
/// canonical request goes to the hash in one `update`.
const BUFFER: usize = 448;

/// A hash fed through a stack buffer, so many small writes cost one `update` per block
/// run instead of one each.
pub(super) struct Sink<D: Digest32> {
    hash: D,
    buf: [u8; BUFFER],
    len: usize,
}

impl<D: Digest32> Sink<D> {
    pub(super) fn new() -> Self {
        Self {
            hash: D::new(),
            buf: [0; BUFFER],
            len: 0,
        }
    }

    #[inline]
    pub(super) fn byte(&mut self, b: u8) {
        if self.len == BUFFER {
            self.flush();
        }
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Appends `s`, inlined at every call site (left to the compiler, it measured about 2 %
    /// slower per request).
    #[inline(always)]
    pub(super) fn bytes(&mut self, s: &[u8]) {
        if s.len() > BUFFER - self.len {
            self.flush();
            if s.len() >= BUFFER {
                self.hash.update(s);
                return;
            }
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
    }

    fn flush(&mut self) {
        self.hash.update(&self.buf[..self.len]);
        self.len = 0;
    }

    /// By reference: taken by value, the whole sink (buffer and hash) was first copied.
    pub(super) fn finish(&mut self) -> [u8; 32] {
        self.flush();
        self.hash.finish()
    }
}

/// One signed header: its (lower-case) name and trimmed value, with the name's first eight
/// bytes as a number, so that sorting compares one integer where names differ early (they
/// almost always do) and the bytes only where they do not.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Header<'a> {
    // Field order is sort order: key, then name, then value.
    key: u64,
    pub(super) name: &'a str,
    pub(super) value: &'a [u8],
}

impl<'a> Header<'a> {
    pub(super) fn new(name: &'a str, value: &'a [u8]) -> Self {
        Self::known(sort_key(name), name, value)
    }

    /// Whether `other` has the same name (the keys first: they differ for almost every
    /// pair of distinct names, and comparing them needs no call).
    #[inline]
    pub(super) fn same_name(&self, other: &Header<'_>) -> bool {
        self.key == other.key && self.name == other.name
    }

    /// A header whose `key` is `sort_key(name)`, computed ahead.
    pub(super) fn known(key: u64, name: &'a str, value: &'a [u8]) -> Self {
        debug_assert_eq!(key, sort_key(name));
        Self { key, name, value }
    }
}

/// The first eight bytes of `name`, big-endian, zero-padded: ordered as the names are
/// (a shorter name that is a prefix of another sorts first, as `\0` sorts before any
/// byte), equal only when the first eight bytes are.
pub(super) const fn sort_key(name: &str) -> u64 {
    let b = name.as_bytes();
    if let Some(first) = b.first_chunk::<8>() {
        return u64::from_be_bytes(*first);
    }
    let mut key = 0u64;
    let mut i = 0;
    while i < 8 {
        key <<= 8;
        if i < b.len() {
            key |= b[i] as u64;
        }
        i += 1;
    }
    key
}

/// Signed headers collected on the stack (more spill to the heap).
const STACK_HEADERS: usize = 12;

/// The signed headers of one request: on the stack for the usual handful.
pub(super) type HeaderList<'a> = SmallVec<[Header<'a>; STACK_HEADERS]>;

/// Hashes the canonical request of a request whose signed headers are `headers` (already
/// lower-case, sorted by name then value; a repeated name gives one line per value and is
/// listed once), appending the signed-headers list (`a;b;c`)
/// to `out` (the `Authorization` value being built).
pub(super) fn hash_canonical_request<D: Digest32>(
    method: &str,
    url: &Url,
    headers: &[Header<'_>],
    payload_hash: &[u8],
    out: &mut Vec<u8>,
) -> [u8; 32] {
    let start = out.len();
    let mut sink = Sink::<D>::new();
    sink.bytes(method.as_bytes());
    sink.byte(b'\n');
    canonical_uri(&mut sink, url.path());
    sink.byte(b'\n');
    if let Some(q) = url.query() {
        // Rare on this API and needs sorting: the pure stage builds it.
        sink.bytes(super::canonical_query_from_raw(q).as_bytes());
    }
    sink.byte(b'\n');
    for (i, h) in headers.iter().enumerate() {
        let name = h.name;
        sink.bytes(name.as_bytes());
        sink.byte(b':');
        sink.bytes(h.value);
        sink.byte(b'\n');
        if i > 0 && headers[i - 1].same_name(h) {
            continue;
        }
        if i > 0 {
            out.push(b';');
        }
        out.extend_from_slice(name.as_bytes());
    }
    sink.byte(b'\n');
    sink.bytes(&out[start..]);
    sink.byte(b'\n');
    sink.bytes(payload_hash);
    sink.finish()
}

/// Streams [`super::canonical_uri`] of `path`.
fn canonical_uri<D: Digest32>(sink: &mut Sink<D>, path: &str) {
    let bytes = path.as_bytes();
    // The usual path (the clients build theirs from plain ids) is kept as it is: checked
    // in one pass without early exit, so the check vectorises, and written in one piece.
    if all_kept(bytes) {
        sink.bytes(bytes);
    } else if path.contains('%') {
        // Escapes must be decoded (and the result checked as UTF-8) first: the pure stage
        // does that. Paths built by the clients carry none unless an id needs escaping.
        sink.bytes(super::canonical_uri(path).as_bytes());
        return;
    } else {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        // Runs of bytes kept as they are go to the hash in one piece; only the others are
        // escaped one by one.
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if kept(b) {
                continue;
            }
            sink.bytes(&bytes[run..i]);
            sink.bytes(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
            run = i + 1;
        }
        sink.bytes(&bytes[run..]);
    }
    if bytes.last() != Some(&b'/') {
        sink.byte(b'/');
    }
}

/// Whether every byte of `bytes` is [`kept`]: in blocks of 16 (the last one padded with a
/// kept byte) without early exit, which compile to vector instructions.
fn all_kept(bytes: &[u8]) -> bool {
    fn refused(block: &[u8; 16]) -> u8 {
        block.iter().fold(0, |r, &b| r | u8::from(!kept(b)))
    }
    let mut chunks = bytes.chunks_exact(16);
    let mut any = 0u8;
    for chunk in &mut chunks {
        any |= refused(chunk.try_into().expect("chunks of 16"));
    }
    let rest = chunks.remainder();
    let mut last = [b'a'; 16];
    last[..rest.len()].copy_from_slice(rest);
    any |= refused(&last);
    any == 0
}

/// Whether a canonical URI keeps `b` as it is: unreserved characters and `/`. Arithmetic
/// rather than a table, so a loop over a path vectorises.
#[inline]
fn kept(b: u8) -> bool {
    let lower = b | 0x20;
    (lower.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'_')
        | (b == b'.')
        | (b == b'~')
        | (b == b'/')
}

/// Lower-case hex of a 32-byte digest, on the stack.
pub(super) fn hex32(bytes: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().take(32).enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 0xf) as usize];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kept_finds_a_refused_byte_anywhere() {
        for len in [0usize, 1, 15, 16, 17, 40, 95] {
            let plain = vec![b'a'; len];
            assert!(all_kept(&plain));
            for at in 0..len {
                let mut p = plain.clone();
                p[at] = b'%';
                assert!(!all_kept(&p), "{len} {at}");
            }
        }
    }

    #[test]
    fn kept_is_exactly_the_unreserved_characters_and_slash() {
        for b in 0..=255u8 {
            let expected =
                b == b'/' || b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
            assert_eq!(kept(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn sort_keys_order_names_as_their_bytes_do() {
        let names = [
            "",
            "a",
            "a-",
            "accept",
            "authorization",
            "content-type",
            "host",
            "hosta",
            "x-project-id",
            "x-sdk-content-sha256",
            "x-sdk-content-sm3",
            "x-sdk-date",
            "x-sdk-dat",
            "x-security-token",
            "x-security-tokens",
            "~",
            "zzzzzzzzzz",
        ];
        for a in names {
            for b in names {
                let by_key = sort_key(a).cmp(&sort_key(b));
                // Equal keys only for names whose first eight bytes agree; there the
                // name decides.
                let by_header = Header::new(a, b"").cmp(&Header::new(b, b""));
                assert_eq!(by_header, a.cmp(b), "{a} vs {b}");
                if by_key != std::cmp::Ordering::Equal {
                    assert_eq!(by_key, a.cmp(b), "{a} vs {b}");
                }
            }
        }
    }
}
