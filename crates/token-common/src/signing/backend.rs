//! SHA-256 and HMAC-SHA256 on the faster of two implementations for the CPU the code runs
//! on (issue 11, item 2), and the small digest and MAC interfaces the signers' hot paths
//! are written against, so that one signer serves either implementation (and SM3).

use hmac::{Hmac, Mac};
use sm3::Sm3;

use super::sha256::{self, HmacKey};

/// The implementation of SHA-256 and HMAC-SHA256 a signer uses.
///
/// [`detected`](Self::detected), what the signers' plain constructors use, chooses by the
/// CPU:
/// - with SHA extensions (x86-64 SHA-NI, Armv8 SHA2; `sha_ni` / `sha2` in
///   `/proc/cpuinfo`): [`RustCrypto`](Self::RustCrypto), whose `sha2` uses them and
///   measured 1.1–1.4× faster than ring on the same work (`cargo bench -p token-common --
///   ratio`, the `backend:` rows), our HMAC on its compression function up to 1.5×;
/// - on x86 without them: `Ring`, when the `ring` feature is on (the default
///   `rustls` feature turns it on: its TLS compiles ring anyway). There `sha2` has only
///   portable code, ring its AVX/SSSE3 assembly;
/// - elsewhere: [`RustCrypto`](Self::RustCrypto).
///
/// Both compute the same bytes; the choice only changes speed. The signers'
/// `with_backend` constructors take one explicitly (to compare them, or to insist on one).
///
/// ```
/// use token_common::signing::Sha256Backend;
/// let chosen = Sha256Backend::detected();
/// assert!(Sha256Backend::all().contains(&chosen));
/// println!("signing with {}", chosen.name());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Sha256Backend {
    /// RustCrypto's `sha2` compression function (SHA extensions when the CPU has them,
    /// portable code otherwise), with the padding and HMAC done by this crate.
    RustCrypto,
    /// ring's (BoringSSL's) assembly. Only with the `ring` feature.
    #[cfg(feature = "ring")]
    Ring,
}

impl Sha256Backend {
    /// The faster backend for this CPU, as described on the type.
    pub fn detected() -> Self {
        choose(cpu_has_sha_extensions())
    }

    /// Every backend in this build.
    pub fn all() -> &'static [Self] {
        &[
            Self::RustCrypto,
            #[cfg(feature = "ring")]
            Self::Ring,
        ]
    }

    /// A short name, for logs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::RustCrypto => "RustCrypto sha2",
            #[cfg(feature = "ring")]
            Self::Ring => "ring",
        }
    }
}

/// The rule of [`Sha256Backend::detected`], apart from reading the CPU.
fn choose(cpu_has_sha_extensions: bool) -> Sha256Backend {
    #[cfg(all(feature = "ring", any(target_arch = "x86_64", target_arch = "x86")))]
    if !cpu_has_sha_extensions {
        return Sha256Backend::Ring;
    }
    let _ = cpu_has_sha_extensions;
    Sha256Backend::RustCrypto
}

/// Whether `sha2` finds the instructions it accelerates SHA-256 with (the features its own
/// detection asks for).
fn cpu_has_sha_extensions() -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "x86"))]
    {
        std::arch::is_x86_feature_detected!("sha")
            && std::arch::is_x86_feature_detected!("sse2")
            && std::arch::is_x86_feature_detected!("ssse3")
            && std::arch::is_x86_feature_detected!("sse4.1")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("sha2")
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64")))]
    {
        false
    }
}

/// A 32-byte digest fed in pieces: what the Huawei signer streams its canonical request
/// into.
pub(crate) trait Digest32 {
    fn new() -> Self;
    fn update(&mut self, data: &[u8]);
    /// The digest. In place, so that a hash inside a larger value is not moved to be
    /// finished; it is not to be used afterwards.
    fn finish(&mut self) -> [u8; 32];
}

impl Digest32 for Sm3 {
    fn new() -> Self {
        sm3::Digest::new()
    }
    #[inline]
    fn update(&mut self, data: &[u8]) {
        sm3::Digest::update(self, data);
    }
    fn finish(&mut self) -> [u8; 32] {
        sm3::Digest::finalize_reset(self).into()
    }
}

/// ring's SHA-256.
#[cfg(feature = "ring")]
pub(crate) struct RingSha256(ring::digest::Context);

#[cfg(feature = "ring")]
impl Digest32 for RingSha256 {
    fn new() -> Self {
        Self(ring::digest::Context::new(&ring::digest::SHA256))
    }
    #[inline]
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(&mut self) -> [u8; 32] {
        // ring's `finish` takes the context; its copy is the price (ring is the backend
        // only on CPUs without SHA extensions, where hashing dominates).
        self.0
            .clone()
            .finish()
            .as_ref()
            .try_into()
            .expect("SHA-256 digests are 32 bytes")
    }
}

/// SHA-256 of `data` on `backend`.
pub(crate) fn sha256(backend: Sha256Backend, data: &[u8]) -> [u8; 32] {
    match backend {
        Sha256Backend::RustCrypto => sha256::digest(data),
        #[cfg(feature = "ring")]
        Sha256Backend::Ring => {
            let mut d = RingSha256::new();
            d.update(data);
            d.finish()
        }
    }
}

/// A prepared MAC with a 32-byte tag: the key schedule done once, each MAC over pieces.
pub(crate) trait Mac32 {
    /// The MAC of the concatenation of `parts`.
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32];
}

impl Mac32 for Hmac<Sm3> {
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.clone();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// An HMAC-SHA256 key, prepared on one backend (its inner and outer pads hashed once).
#[derive(Clone)]
pub(crate) enum HmacSha256 {
    /// RustCrypto's compression function under [`HmacKey`]'s HMAC.
    RustCrypto(HmacKey),
    #[cfg(feature = "ring")]
    Ring(ring::hmac::Key),
}

impl HmacSha256 {
    pub(crate) fn new(backend: Sha256Backend, key: &[u8]) -> Self {
        match backend {
            Sha256Backend::RustCrypto => Self::RustCrypto(HmacKey::new(key)),
            #[cfg(feature = "ring")]
            Sha256Backend::Ring => Self::Ring(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key)),
        }
    }

    pub(crate) fn backend(&self) -> Sha256Backend {
        match self {
            Self::RustCrypto(_) => Sha256Backend::RustCrypto,
            #[cfg(feature = "ring")]
            Self::Ring(_) => Sha256Backend::Ring,
        }
    }
}

impl Mac32 for HmacSha256 {
    #[inline]
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        match self {
            Self::RustCrypto(key) => key.mac(parts),
            #[cfg(feature = "ring")]
            Self::Ring(key) => {
                let mut m = ring::hmac::Context::with_key(key);
                for p in parts {
                    m.update(p);
                }
                m.sign()
                    .as_ref()
                    .try_into()
                    .expect("HMAC-SHA256 tags are 32 bytes")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_sha_extensions_rustcrypto_is_chosen() {
        assert_eq!(choose(true), Sha256Backend::RustCrypto);
    }

    #[cfg(all(feature = "ring", any(target_arch = "x86_64", target_arch = "x86")))]
    #[test]
    fn on_x86_without_sha_extensions_ring_is_chosen() {
        assert_eq!(choose(false), Sha256Backend::Ring);
    }

    #[test]
    fn detection_follows_the_cpu() {
        assert_eq!(Sha256Backend::detected(), choose(cpu_has_sha_extensions()));
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        #[cfg(target_arch = "x86_64")]
        if cpuinfo.contains(" sha_ni") {
            assert!(cpu_has_sha_extensions(), "the kernel reports sha_ni");
        }
        let _ = cpuinfo;
    }

    /// Every backend gives the same digests and tags (RFC 4231 test case 2, and the
    /// SHA-256 of "abc" from FIPS 180-2), in one piece and in many.
    #[test]
    fn every_backend_computes_the_same_bytes() {
        let abc: [u8; 32] = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        let rfc4231_2: [u8; 32] = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        for &backend in Sha256Backend::all() {
            assert_eq!(sha256(backend, b"abc"), abc, "{backend:?}");
            let key = HmacSha256::new(backend, b"Jefe");
            assert_eq!(key.backend(), backend);
            assert_eq!(
                key.mac(&[b"what do ya want for nothing?"]),
                rfc4231_2,
                "{backend:?}"
            );
            assert_eq!(
                key.mac(&[b"what do ya ", b"", b"want for nothing?"]),
                rfc4231_2,
                "{backend:?}"
            );
        }
    }
}
