//! The examiner's signature over a bundle: `bundle-signature.json` beside the bag's tag files.
//! It signs the bundle digest (SHA-256 of `tagmanifest-sha256.txt`), so it cannot itself be
//! listed in the tag manifest; the verifier checks it separately.
//!
//! Signed message: the ASCII bytes `wsc-forensics-bundle-digest:v1:<64 lower-case hex>`. The
//! prefix keeps the signature from being reusable as a signature over anything else.

use crate::model::digest::Sha256Digest;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

/// Name of the signature file inside the bag folder.
pub const SIGNATURE_NAME: &str = "bundle-signature.json";
/// Prefix of the signed message.
pub const SIGNED_MESSAGE_PREFIX: &str = "wsc-forensics-bundle-digest:v1:";

/// Contents of `bundle-signature.json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// 32-byte Ed25519 public key, hex.
    pub public_key: String,
    /// wsc key id of the public key (HMAC-SHA256(pk, "key_id"), first 12 bytes, hex).
    pub key_id: String,
    pub bundle_digest: Sha256Digest,
    /// 64-byte Ed25519 signature, standard base64.
    pub signature: String,
}

/// The bytes an examiner signs for a bundle digest.
pub fn signed_message(digest: &Sha256Digest) -> Vec<u8> {
    format!("{SIGNED_MESSAGE_PREFIX}{}", digest.to_hex()).into_bytes()
}

/// The wsc key id of a raw Ed25519 public key (docs/wsc-formats.md §8).
pub fn wsc_key_id(public_key: &[u8; 32]) -> String {
    hex::encode(crate::keys::PublicKey(*public_key).wsc_key_id())
}

/// Signs `digest` with the examiner's key.
pub fn sign_digest(key: &SigningKey, digest: Sha256Digest) -> BundleSignature {
    let pk = key.verifying_key().to_bytes();
    BundleSignature {
        algorithm: "ed25519".to_owned(),
        public_key: hex::encode(pk),
        key_id: wsc_key_id(&pk),
        bundle_digest: digest,
        signature: base64::engine::general_purpose::STANDARD
            .encode(key.sign(&signed_message(&digest)).to_bytes()),
    }
}

/// Why a bundle signature does not hold.
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, thiserror::Error,
)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum SignatureProblem {
    #[error("algorithm {algorithm:?} is not ed25519")]
    UnsupportedAlgorithm { algorithm: String },
    #[error("public_key is not a valid 32-byte Ed25519 key")]
    BadPublicKey,
    #[error("signature is not 64 bytes of base64")]
    BadSignatureEncoding,
    #[error("signed digest {signed} is not the bundle digest {actual}")]
    DigestMismatch {
        signed: Sha256Digest,
        actual: Sha256Digest,
    },
    #[error("signed by key {signed_by_key_id}, not the examiner key {expected_key_id}")]
    WrongKey {
        signed_by_key_id: String,
        expected_key_id: String,
    },
    #[error("Ed25519 signature does not verify")]
    SignatureInvalid,
}

/// Checks `sig` against the bundle digest and, when given, the examiner's public key.
/// Returns the key id that made a valid signature.
pub fn verify_signature(
    sig: &BundleSignature,
    actual: Sha256Digest,
    examiner: Option<&VerifyingKey>,
) -> Result<String, SignatureProblem> {
    if sig.algorithm != "ed25519" {
        return Err(SignatureProblem::UnsupportedAlgorithm {
            algorithm: sig.algorithm.clone(),
        });
    }
    let mut pk = [0u8; 32];
    hex::decode_to_slice(&sig.public_key, &mut pk).map_err(|_| SignatureProblem::BadPublicKey)?;
    let key = VerifyingKey::from_bytes(&pk).map_err(|_| SignatureProblem::BadPublicKey)?;
    if let Some(expected) = examiner {
        if expected.to_bytes() != pk {
            return Err(SignatureProblem::WrongKey {
                signed_by_key_id: wsc_key_id(&pk),
                expected_key_id: wsc_key_id(&expected.to_bytes()),
            });
        }
    }
    if sig.bundle_digest != actual {
        return Err(SignatureProblem::DigestMismatch {
            signed: sig.bundle_digest,
            actual,
        });
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sig.signature.trim())
        .map_err(|_| SignatureProblem::BadSignatureEncoding)?;
    let raw: [u8; 64] = raw
        .try_into()
        .map_err(|_| SignatureProblem::BadSignatureEncoding)?;
    key.verify_strict(&signed_message(&actual), &Signature::from_bytes(&raw))
        .map_err(|_| SignatureProblem::SignatureInvalid)?;
    Ok(wsc_key_id(&pk))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_matches_wsc_for_the_fixture_key() {
        let raw = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/wsc/keys/test-key-a.pub"
        ))
        .unwrap();
        let pk: [u8; 32] = raw[1..33].try_into().unwrap();
        // wsc printed this key id for test-key-a (fixtures/wsc/modules/signed-a-b.transcript.txt).
        assert_eq!(wsc_key_id(&pk), "c858d5ec82d976c190cb33d0");
    }

    #[test]
    fn signatures_verify_and_every_alteration_is_typed() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let d = Sha256Digest::of(b"tagmanifest");
        let sig = sign_digest(&key, d);
        let vk = key.verifying_key();
        assert_eq!(verify_signature(&sig, d, Some(&vk)).unwrap(), sig.key_id);
        assert!(matches!(
            verify_signature(&sig, Sha256Digest::of(b"other"), None),
            Err(SignatureProblem::DigestMismatch { .. })
        ));
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(matches!(
            verify_signature(&sig, d, Some(&other)),
            Err(SignatureProblem::WrongKey { .. })
        ));
        let mut forged = sig.clone();
        forged.bundle_digest = Sha256Digest::of(b"other");
        assert_eq!(
            verify_signature(&forged, forged.bundle_digest, None),
            Err(SignatureProblem::SignatureInvalid)
        );
    }
}

/// A key file that could not be used for the examiner signature. Never carries key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path}: not an Ed25519 {want} key in a supported format (wsc raw, PKCS#8/SPKI PEM or DER)"
    )]
    Unsupported { path: String, want: &'static str },
}

/// Largest key file read; key files are tiny.
const MAX_KEY_FILE: u64 = 64 * 1024;

fn read_key_file(path: &std::path::Path) -> Result<Vec<u8>, KeyFileError> {
    use std::io::Read;
    let io = |e| KeyFileError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_KEY_FILE)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    Ok(bytes)
}

/// Loads the examiner's Ed25519 secret key: wsc raw (`0x81` ‖ seed ‖ pk), PKCS#8 PEM or DER.
pub fn load_signing_key(path: &std::path::Path) -> Result<SigningKey, KeyFileError> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let bytes = zeroize_on_drop(read_key_file(path)?);
    let unsupported = || KeyFileError::Unsupported {
        path: path.display().to_string(),
        want: "secret",
    };
    if bytes.0.len() == 65 && bytes.0[0] == 0x81 {
        let seed: [u8; 32] = bytes.0[1..33].try_into().expect("32 bytes");
        let key = SigningKey::from_bytes(&seed);
        // The stored public half must match the seed, or the file is damaged.
        if key.verifying_key().as_bytes()[..] != bytes.0[33..65] {
            return Err(unsupported());
        }
        return Ok(key);
    }
    if let Ok(text) = std::str::from_utf8(&bytes.0) {
        if let Ok(k) = SigningKey::from_pkcs8_pem(text.trim()) {
            return Ok(k);
        }
    }
    SigningKey::from_pkcs8_der(&bytes.0).map_err(|_| unsupported())
}

/// Loads an Ed25519 public key from any format `inspect` reads ([`crate::keys::parse_key_file`]:
/// wsc raw, SPKI PEM/DER, OpenSSH; the public half of a secret key file), or a 64-hex-char line.
pub fn load_verifying_key(path: &std::path::Path) -> Result<VerifyingKey, KeyFileError> {
    let bytes = read_key_file(path)?;
    let unsupported = || KeyFileError::Unsupported {
        path: path.display().to_string(),
        want: "public",
    };
    let name = path.display().to_string();
    if let Ok(kf) = crate::keys::parse_key_file(&name, &bytes) {
        if let Some(pk) = kf.public_key {
            return VerifyingKey::from_bytes(&pk.0).map_err(|_| unsupported());
        }
    }
    let mut pk = [0u8; 32];
    match std::str::from_utf8(&bytes) {
        Ok(text) if hex::decode_to_slice(text.trim(), &mut pk).is_ok() => {
            VerifyingKey::from_bytes(&pk).map_err(|_| unsupported())
        }
        _ => Err(unsupported()),
    }
}

/// Secret key file bytes, wiped when dropped.
struct Wiped(Vec<u8>);
impl Drop for Wiped {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // Volatile-free best effort; the Vec is dropped right after.
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}
fn zeroize_on_drop(v: Vec<u8>) -> Wiped {
    Wiped(v)
}

#[cfg(test)]
mod key_tests {
    use super::*;

    fn fx(rel: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/wsc/keys")
            .join(rel)
    }

    #[test]
    fn fixture_secret_and_public_keys_pair_up_in_every_format() {
        let raw = load_signing_key(&fx("test-key-a.sec")).unwrap();
        let pem = load_signing_key(&fx("test-key-a.pkcs8.pem")).unwrap();
        assert_eq!(raw.to_bytes(), pem.to_bytes());
        let vk = raw.verifying_key();
        for p in [
            "test-key-a.pub",
            "test-key-a.spki.pem",
            "test-key-a.spki.der",
        ] {
            assert_eq!(load_verifying_key(&fx(p)).unwrap(), vk, "{p}");
        }
        assert!(matches!(
            load_signing_key(&fx("test-key-a.pub")),
            Err(KeyFileError::Unsupported { .. })
        ));
    }
}
