//! SHA-256 and HMAC-SHA256 written directly on RustCrypto's compression function
//! (`sha2::compress256`, which uses the CPU's SHA extensions when it has them).
//!
//! Only the message padding (FIPS 180-4 §5.1.1) and the HMAC construction (RFC 2104) are
//! done here; the compression function is `sha2`'s. Layered like this, an HMAC with a
//! prepared key is two compression calls and the copy of the message into blocks on the
//! stack: `hmac::Hmac` spends about a tenth of a short MAC on its own bookkeeping (cloning
//! the prepared state, its block buffer, a third compression call and the dispatch before
//! each), which the signers' per-request budget cannot spare (issue 11).
//!
//! Both are checked against `sha2` and `hmac` byte for byte: the FIPS and RFC 4231 values
//! and every length around the block boundaries in the tests below, a property test over
//! random keys and messages split at random points, and every official signing vector
//! (the signers use them).

use sha2::digest::generic_array::GenericArray;
use zeroize::Zeroize;

use super::Digest32;

/// One 64-byte block as `sha2::compress256` takes it.
type Block = GenericArray<u8, sha2::digest::consts::U64>;

/// The initial hash value H(0) of SHA-256 (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Compresses whole 64-byte blocks of `data` (its length is a multiple of 64) into `state`.
#[inline]
fn compress(state: &mut [u32; 8], data: &[u8]) {
    debug_assert_eq!(data.len() % 64, 0);
    for block in data.chunks_exact(64) {
        sha2::compress256(state, std::slice::from_ref(Block::from_slice(block)));
    }
}

fn to_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// A SHA-256 computation in progress: the state after the blocks compressed so far and the
/// bytes of the block being filled.
///
/// Not wiped on drop, as `sha2`'s is not: it lives for one request, and its state (past
/// the key's pads) does not give the key back. The prepared [`HmacKey`] is wiped.
pub(crate) struct Sha256 {
    state: [u32; 8],
    /// Bytes compressed into `state` (a multiple of 64).
    compressed: u64,
    buf: [u8; 64],
    /// Bytes of `buf` in use (< 64 between calls).
    pos: usize,
}

impl Sha256 {
    /// Resumes from `state`, reached after compressing `compressed` bytes (a multiple of
    /// 64): how HMAC starts from a prepared key.
    fn resume(state: [u32; 8], compressed: u64) -> Self {
        debug_assert_eq!(compressed % 64, 0);
        Self {
            state,
            compressed,
            buf: [0; 64],
            pos: 0,
        }
    }
}

/// The RustCrypto backend's SHA-256: `sha2`'s compression, padded here.
impl Digest32 for Sha256 {
    fn new() -> Self {
        Self::resume(IV, 0)
    }

    #[inline]
    fn update(&mut self, mut data: &[u8]) {
        if self.pos > 0 {
            let take = data.len().min(64 - self.pos);
            self.buf[self.pos..self.pos + take].copy_from_slice(&data[..take]);
            self.pos += take;
            data = &data[take..];
            if self.pos < 64 {
                return;
            }
            compress(&mut self.state, &self.buf);
            self.compressed += 64;
            self.pos = 0;
        }
        let whole = data.len() - data.len() % 64;
        if whole > 0 {
            compress(&mut self.state, &data[..whole]);
            self.compressed += whole as u64;
        }
        let rest = &data[whole..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pos = rest.len();
    }

    /// Pads the message and returns its digest.
    fn finish(&mut self) -> [u8; 32] {
        let bits = (self.compressed + self.pos as u64) * 8;
        // The padding: 0x80, zeros, then the length in bits, big-endian, in the last eight
        // bytes of a block; one more block when fewer than nine bytes are left in this one.
        let mut tail = [0u8; 128];
        tail[..self.pos].copy_from_slice(&self.buf[..self.pos]);
        tail[self.pos] = 0x80;
        let end = if self.pos < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &tail[..end]);
        to_bytes(&self.state)
    }
}

/// The SHA-256 of `data`.
pub(crate) fn digest(data: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(data);
    h.finish()
}

/// An HMAC-SHA256 key, prepared: the states after compressing the key's inner and outer
/// pads, so that each MAC starts there (RFC 2104 §4 notes this precomputation).
#[derive(Clone)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    /// Prepares `key` (of any length: longer than a block, it is hashed first).
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut padded = block;
            for b in &mut padded {
                *b ^= byte;
            }
            let mut state = IV;
            compress(&mut state, &padded);
            padded.zeroize();
            state
        };
        let key = Self {
            inner: pad(0x36),
            outer: pad(0x5c),
        };
        block.zeroize();
        key
    }

    /// The MAC of the concatenation of `parts`.
    #[inline]
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut inner = Sha256::resume(self.inner, 64);
        for part in parts {
            inner.update(part);
        }
        let inner = inner.finish();
        // The outer message is the pad block (already compressed) and the 32-byte inner
        // digest: one block, whose padding is fixed (0x80, and 96 × 8 = 768 bits).
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&inner);
        block[32] = 0x80;
        block[62..].copy_from_slice(&768u16.to_be_bytes());
        let mut state = self.outer;
        compress(&mut state, &block);
        to_bytes(&state)
    }
}

impl Drop for HmacKey {
    fn drop(&mut self) {
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use hmac::Mac;

    use super::*;

    fn reference_mac(key: &[u8], msg: &[u8]) -> [u8; 32] {
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    fn reference_digest(msg: &[u8]) -> [u8; 32] {
        <sha2::Sha256 as sha2::Digest>::digest(msg).into()
    }

    #[test]
    fn fips_180_2_values() {
        // SHA-256("abc") and the two-block message of FIPS 180-2 appendix B.
        assert_eq!(
            crate::signing::hex(&digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            crate::signing::hex(&digest(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            crate::signing::hex(&digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn rfc_4231_values() {
        // Test case 2 (short key) and 6 (a key longer than a block).
        let tag = HmacKey::new(b"Jefe").mac(&[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            crate::signing::hex(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let tag = HmacKey::new(&[0xaa; 131])
            .mac(&[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(
            crate::signing::hex(&tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    /// Every length around the block and padding boundaries, in one piece and split.
    #[test]
    fn agrees_with_sha2_and_hmac_at_every_boundary() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let msg = &data[..len];
            assert_eq!(digest(msg), reference_digest(msg), "digest of {len} bytes");
            let split = len / 3;
            let mut h = Sha256::new();
            h.update(&msg[..split]);
            h.update(&msg[split..]);
            assert_eq!(h.finish(), reference_digest(msg), "split digest of {len}");
            for key_len in [0usize, 1, 32, 63, 64, 65, 100] {
                let key = &data[..key_len];
                let ours = HmacKey::new(key).mac(&[&msg[..split], b"", &msg[split..]]);
                assert_eq!(ours, reference_mac(key, msg), "key {key_len}, msg {len}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_sha2_and_hmac_on_random_input(
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            msg in proptest::collection::vec(proptest::num::u8::ANY, 0..700),
            cuts in proptest::collection::vec(0usize..700, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(msg.len())).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut at = 0;
            for c in cuts {
                parts.push(&msg[at..c]);
                at = c;
            }
            parts.push(&msg[at..]);
            let mut h = Sha256::new();
            for p in &parts {
                h.update(p);
            }
            proptest::prop_assert_eq!(h.finish(), reference_digest(&msg));
            proptest::prop_assert_eq!(HmacKey::new(&key).mac(&parts), reference_mac(&key, &msg));
        }
    }
}
