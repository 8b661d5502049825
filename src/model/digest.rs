//! SHA-256 digests: the one hash every evidence item, manifest line and bundle is named by.
//!
//! Streaming hashes go through [`crate::io::hashing`] (sha2 0.11 hashers are not `io::Write`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;

/// Size of the read buffer used for streaming hashes (large enough for SHA-NI to run flat out).
pub const STREAM_CHUNK: usize = 1 << 20;

/// A SHA-256 digest. Serialised as 64 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Digest of an in-memory byte slice.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256Digest(Sha256::digest(bytes).into())
    }

    /// Lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).ok()?;
        Some(Sha256Digest(out))
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

/// The JSON Schema of `bytes` bytes written as lowercase hex: the one schema of every
/// fixed-size binary value the outputs print (digests, hashes, public keys).
pub fn hex_schema(description: &str, bytes: usize) -> schemars::Schema {
    schemars::json_schema!({
        "description": description,
        "type": "string",
        "pattern": format!("^[0-9a-f]{{{}}}$", bytes * 2)
    })
}

impl schemars::JsonSchema for Sha256Digest {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Digest".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        hex_schema("SHA-256 digest, 64 lowercase hex characters", 32)
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Sha256Digest::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("not a SHA-256 hex digest: {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // FIPS 180-2 test vector.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digest_of_abc_matches_the_standard_vector() {
        assert_eq!(Sha256Digest::of(b"abc").to_hex(), ABC);
    }

    #[test]
    fn hex_round_trips_through_serde() {
        let d = Sha256Digest::of(b"abc");
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(j, format!("\"{ABC}\""));
        assert_eq!(serde_json::from_str::<Sha256Digest>(&j).unwrap(), d);
        assert!(serde_json::from_str::<Sha256Digest>("\"zz\"").is_err());
    }
}
