//! Public keys met in transparency evidence (Rekor log keys, Fulcio leaf keys) and signature
//! checks with them: ECDSA P-256 / P-384 (DER or raw r‖s signatures) and Ed25519, through the
//! RustCrypto crates. Only glue lives here.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use serde::Serialize;

/// Algorithm of a key, as reports name it.
#[derive(schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogKeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Unsupported,
}

/// A parsed public key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureProblem {
    #[error("signature is neither DER nor raw r‖s for this curve ({0} bytes)")]
    Malformed(usize),
    #[error("signature does not verify")]
    Invalid,
    #[error("{0}")]
    Unsupported(&'static str),
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo (EC P-256, EC P-384 or Ed25519).
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, SignatureProblem> {
        use p256::pkcs8::DecodePublicKey;
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::P384(k));
        }
        if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(k));
        }
        Err(SignatureProblem::Unsupported(
            "key is not EC P-256, EC P-384 or Ed25519",
        ))
    }

    pub fn algorithm(&self) -> LogKeyAlgorithm {
        match self {
            PublicKey::P256(_) => LogKeyAlgorithm::EcdsaP256,
            PublicKey::P384(_) => LogKeyAlgorithm::EcdsaP384,
            PublicKey::Ed25519(_) => LogKeyAlgorithm::Ed25519,
        }
    }

    /// Verifies `sig` over `message`, hashing it the way the key's usual scheme does
    /// (P-256: SHA-256, P-384: SHA-384, Ed25519: pure).
    pub fn verify_message(&self, message: &[u8], sig: &[u8]) -> Result<(), SignatureProblem> {
        match self {
            PublicKey::P256(k) => {
                let s = p256_sig(sig)?;
                k.verify(message, &s).map_err(|_| SignatureProblem::Invalid)
            }
            PublicKey::P384(k) => {
                let s = p384_sig(sig)?;
                k.verify(message, &s).map_err(|_| SignatureProblem::Invalid)
            }
            PublicKey::Ed25519(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|_| SignatureProblem::Malformed(sig.len()))?;
                k.verify_strict(message, &s)
                    .map_err(|_| SignatureProblem::Invalid)
            }
        }
    }

    /// Verifies an ECDSA `sig` over an already computed digest (hashedrekord and wsc keyless sign
    /// the SHA-256 digest of the artifact, whatever the curve).
    pub fn verify_prehash(&self, digest: &[u8], sig: &[u8]) -> Result<(), SignatureProblem> {
        match self {
            PublicKey::P256(k) => {
                let s = p256_sig(sig)?;
                k.verify_prehash(digest, &s)
                    .map_err(|_| SignatureProblem::Invalid)
            }
            PublicKey::P384(k) => {
                let s = p384_sig(sig)?;
                k.verify_prehash(digest, &s)
                    .map_err(|_| SignatureProblem::Invalid)
            }
            PublicKey::Ed25519(_) => Err(SignatureProblem::Unsupported(
                "Ed25519 signs the artifact itself, not a digest; the artifact bytes are needed",
            )),
        }
    }
}

fn p256_sig(sig: &[u8]) -> Result<p256::ecdsa::Signature, SignatureProblem> {
    p256::ecdsa::Signature::from_der(sig)
        .or_else(|_| p256::ecdsa::Signature::from_slice(sig))
        .map_err(|_| SignatureProblem::Malformed(sig.len()))
}

fn p384_sig(sig: &[u8]) -> Result<p384::ecdsa::Signature, SignatureProblem> {
    p384::ecdsa::Signature::from_der(sig)
        .or_else(|_| p384::ecdsa::Signature::from_slice(sig))
        .map_err(|_| SignatureProblem::Malformed(sig.len()))
}
