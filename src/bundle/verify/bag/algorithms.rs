//! The checksum algorithms of BagIt manifests (RFC 8493 §2.4), each file streamed once through
//! every algorithm the bag's manifests use.

use sha2::Digest;

/// A manifest algorithm this verifier computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The algorithm of a manifest named `manifest-<name>.txt` (or `tagmanifest-`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "md5" => Algorithm::Md5,
            "sha1" => Algorithm::Sha1,
            "sha224" => Algorithm::Sha224,
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA-1",
            Algorithm::Sha224 => "SHA-224",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha384 => "SHA-384",
            Algorithm::Sha512 => "SHA-512",
        }
    }

    /// Hex characters of one checksum.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }
}

enum State {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

/// Several algorithms over one stream.
pub(crate) struct Hashers(Vec<(Algorithm, State)>);

impl Hashers {
    pub fn new(algorithms: &[Algorithm]) -> Self {
        Hashers(
            algorithms
                .iter()
                .map(|&a| {
                    let s = match a {
                        Algorithm::Md5 => State::Md5(md5::Md5::new()),
                        Algorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
                        Algorithm::Sha224 => State::Sha224(sha2::Sha224::new()),
                        Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
                        Algorithm::Sha384 => State::Sha384(sha2::Sha384::new()),
                        Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
                    };
                    (a, s)
                })
                .collect(),
        )
    }

    pub fn update(&mut self, bytes: &[u8]) {
        for (_, s) in &mut self.0 {
            match s {
                State::Md5(h) => h.update(bytes),
                State::Sha1(h) => h.update(bytes),
                State::Sha224(h) => h.update(bytes),
                State::Sha256(h) => h.update(bytes),
                State::Sha384(h) => h.update(bytes),
                State::Sha512(h) => h.update(bytes),
            }
        }
    }

    /// Lower-case hex checksums, in the order of the algorithms given to [`Hashers::new`].
    pub fn finish(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|(_, s)| match s {
                State::Md5(h) => hex::encode(h.finalize()),
                State::Sha1(h) => hex::encode(h.finalize()),
                State::Sha224(h) => hex::encode(h.finalize()),
                State::Sha256(h) => hex::encode(h.finalize()),
                State::Sha384(h) => hex::encode(h.finalize()),
                State::Sha512(h) => hex::encode(h.finalize()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_gives_its_known_checksum_of_abc() {
        let all = [
            Algorithm::Md5,
            Algorithm::Sha1,
            Algorithm::Sha224,
            Algorithm::Sha256,
            Algorithm::Sha384,
            Algorithm::Sha512,
        ];
        let mut h = Hashers::new(&all);
        h.update(b"a");
        h.update(b"bc");
        let out = h.finish();
        assert_eq!(out[0], "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(out[1], "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert!(out[2].starts_with("23097d22"));
        assert!(out[3].starts_with("ba7816bf"));
        assert!(out[4].starts_with("cb00753f"));
        assert!(out[5].starts_with("ddaf35a1"));
        for (a, o) in all.iter().zip(&out) {
            assert_eq!(a.hex_len(), o.len());
        }
    }
}
