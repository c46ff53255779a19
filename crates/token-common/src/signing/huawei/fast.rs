//! The signer's fast path: the canonical request is streamed straight into the hash
//! through a small stack buffer, never built as a string. The pure stages
//! ([`super::canonical_request`] and friends) define what it must produce; the property
//! test `tests/huawei_fast_path.rs` checks that it does.

use sha2::digest::{Digest, Output};
use url::Url;

/// Bytes collected before they are handed to the hash: a multiple of the 64-byte block of
/// SHA-256 and SM3, so full blocks are compressed in place.
const BUFFER: usize = 256;

/// A hash fed through a stack buffer, so many small writes cost one `update` per block
/// run instead of one each.
pub(super) struct Sink<D: Digest> {
    hash: D,
    buf: [u8; BUFFER],
    len: usize,
}

impl<D: Digest> Sink<D> {
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

    #[inline]
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

    pub(super) fn finish(mut self) -> Output<D> {
        self.flush();
        self.hash.finalize()
    }
}

/// One signed header: its (lower-case) name and trimmed value.
pub(super) type Header<'a> = (&'a str, &'a [u8]);

/// Hashes the canonical request of a request whose signed headers are `headers` (already
/// lower-case, sorted by name then value; a repeated name gives one line per value and is
/// listed once), appending the signed-headers list (`a;b;c`)
/// to `out` (the `Authorization` value being built).
pub(super) fn hash_canonical_request<D: Digest>(
    method: &str,
    url: &Url,
    headers: &[Header<'_>],
    payload_hash: &[u8],
    out: &mut Vec<u8>,
) -> Output<D> {
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
    for (i, (name, value)) in headers.iter().enumerate() {
        sink.bytes(name.as_bytes());
        sink.byte(b':');
        sink.bytes(value);
        sink.byte(b'\n');
        if i > 0 && headers[i - 1].0 == *name {
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
fn canonical_uri<D: Digest>(sink: &mut Sink<D>, path: &str) {
    if path.contains('%') {
        // Escapes must be decoded (and the result checked as UTF-8) first: the pure stage
        // does that. Paths built by the clients carry none unless an id needs escaping.
        sink.bytes(super::canonical_uri(path).as_bytes());
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = path.as_bytes();
    // Runs of bytes kept as they are go to the hash in one piece; only the others are
    // escaped one by one.
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if KEEP[b as usize] {
            continue;
        }
        sink.bytes(&bytes[run..i]);
        sink.bytes(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 0xf) as usize]]);
        run = i + 1;
    }
    sink.bytes(&bytes[run..]);
    if bytes.last() != Some(&b'/') {
        sink.byte(b'/');
    }
}

/// The bytes a canonical URI keeps as they are: unreserved characters and `/`.
const KEEP: [bool; 256] = {
    let mut keep = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        keep[b] = c == b'/' || c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    keep
};

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
