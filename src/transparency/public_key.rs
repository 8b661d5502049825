//! Public keys met in transparency evidence (Rekor log keys, Fulcio leaf keys) and signature
//! checks with them: ECDSA P-256 / P-384 (DER or raw r‖s signatures) and Ed25519; RSA PKCS#1
//! v1.5 with SHA-256 for the keys of trust-root logs only (the staging root's first CT log),
//! through x509-parser's signature check. Only glue lives here.
//!
//! Keys and signatures are parsed by the RustCrypto crates (which decide what is malformed);
//! ECDSA over a message is then verified by ring (assembly P-256/P-384, several times faster,
//! the same implementation x509-parser verifies certificates with), and ECDSA over a digest
//! (which ring cannot take) by RustCrypto.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use serde::Serialize;

/// Algorithm of a key, as reports name it.
#[derive(schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogKeyAlgorithm {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    /// RSA PKCS#1 v1.5 with SHA-256 (trust-root logs only).
    RsaPkcs1Sha256,
    Unsupported,
}

/// Largest artifact [`PublicKey::verify_sha256_of`] verifies over its bytes.
pub const REHASH_LIMIT: usize = 64 * 1024;

/// A parsed public key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// DER SubjectPublicKeyInfo of an RSA key; made only by [`PublicKey::from_log_spki_der`].
    RsaPkcs1Sha256(Vec<u8>),
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

    /// A trust-root log key: the keys of [`PublicKey::from_spki_der`], and RSA (`rsaEncryption`
    /// SPKI, verified as PKCS#1 v1.5 with SHA-256, the RFC 6962 RSA scheme). Signers' keys never
    /// go through here.
    pub fn from_log_spki_der(der: &[u8]) -> Result<PublicKey, SignatureProblem> {
        use x509_parser::prelude::FromDer;
        if let Ok(k) = PublicKey::from_spki_der(der) {
            return Ok(k);
        }
        match x509_parser::x509::SubjectPublicKeyInfo::from_der(der) {
            Ok((rest, spki))
                if rest.is_empty()
                    && spki.algorithm.algorithm
                        == x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION =>
            {
                Ok(PublicKey::RsaPkcs1Sha256(der.to_vec()))
            }
            _ => Err(SignatureProblem::Unsupported(
                "key is not EC P-256, EC P-384, Ed25519 or RSA",
            )),
        }
    }

    pub fn algorithm(&self) -> LogKeyAlgorithm {
        match self {
            PublicKey::P256(_) => LogKeyAlgorithm::EcdsaP256,
            PublicKey::P384(_) => LogKeyAlgorithm::EcdsaP384,
            PublicKey::Ed25519(_) => LogKeyAlgorithm::Ed25519,
            PublicKey::RsaPkcs1Sha256(_) => LogKeyAlgorithm::RsaPkcs1Sha256,
        }
    }

    /// Verifies `sig` over `message`, hashing it the way the key's usual scheme does
    /// (P-256: SHA-256, P-384: SHA-384, Ed25519: pure).
    pub fn verify_message(&self, message: &[u8], sig: &[u8]) -> Result<(), SignatureProblem> {
        match self {
            PublicKey::P256(k) => ring_verify(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                k.to_sec1_point(false).as_bytes(),
                message,
                &p256_sig(sig)?.to_bytes(),
            ),
            PublicKey::P384(k) => ring_verify(
                &ring::signature::ECDSA_P384_SHA384_FIXED,
                k.to_sec1_point(false).as_bytes(),
                message,
                &p384_sig(sig)?.to_bytes(),
            ),
            PublicKey::Ed25519(k) => {
                let s = ed25519_dalek::Signature::from_slice(sig)
                    .map_err(|_| SignatureProblem::Malformed(sig.len()))?;
                k.verify_strict(message, &s)
                    .map_err(|_| SignatureProblem::Invalid)
            }
            PublicKey::RsaPkcs1Sha256(spki) => verify_rsa_pkcs1_sha256(spki, message, sig),
        }
    }

    /// Verifies an ECDSA `sig` over `sha256`, the SHA-256 digest of the artifact `bytes` when
    /// they are at hand: for a P-256 key and an artifact of at most [`REHASH_LIMIT`] bytes whose
    /// SHA-256 is `sha256`, ring verifies over the bytes (cheaper, hashing included, than
    /// RustCrypto over the digest); otherwise as [`PublicKey::verify_prehash`]. The same check
    /// either way: ECDSA over that digest with this key.
    pub fn verify_sha256_of(
        &self,
        bytes: Option<&[u8]>,
        sha256: &[u8],
        sig: &[u8],
    ) -> Result<(), SignatureProblem> {
        use sha2::Digest as _;
        match (self, bytes) {
            (PublicKey::P256(_), Some(b))
                if b.len() <= REHASH_LIMIT && sha2::Sha256::digest(b).as_slice() == sha256 =>
            {
                self.verify_message(b, sig)
            }
            _ => self.verify_prehash(sha256, sig),
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
            PublicKey::RsaPkcs1Sha256(_) => Err(SignatureProblem::Unsupported(
                "an RSA key is accepted for trust-root logs only, not for signers",
            )),
        }
    }
}

/// ECDSA over `message` with ring: `point` is the uncompressed SEC1 key, `sig` the fixed-size
/// r‖s that the RustCrypto parse (DER or raw) produced.
fn ring_verify(
    alg: &'static ring::signature::EcdsaVerificationAlgorithm,
    point: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), SignatureProblem> {
    ring::signature::UnparsedPublicKey::new(alg, point)
        .verify(message, sig)
        .map_err(|_| SignatureProblem::Invalid)
}

/// RSA PKCS#1 v1.5 with SHA-256 over `message` (2048 to 8192-bit keys), via x509-parser.
fn verify_rsa_pkcs1_sha256(
    spki: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), SignatureProblem> {
    use x509_parser::prelude::FromDer;
    let (_, key) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
        .map_err(|_| SignatureProblem::Unsupported("the RSA key does not parse"))?;
    let alg = x509_parser::x509::AlgorithmIdentifier::new(
        x509_parser::oid_registry::OID_PKCS1_SHA256WITHRSA,
        None,
    );
    let bits = x509_parser::asn1_rs::BitString::new(0, sig);
    x509_parser::verify::verify_signature(&key, &alg, &bits, message).map_err(|e| match e {
        x509_parser::error::X509Error::SignatureVerificationError => SignatureProblem::Invalid,
        _ => SignatureProblem::Unsupported("RSA key or signature not usable"),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};
    use p256::pkcs8::EncodePublicKey;
    use sha2::Digest as _;

    fn key() -> (SigningKey, PublicKey) {
        let sk = SigningKey::from_slice(&[7; 32]).unwrap();
        let der = sk.verifying_key().to_public_key_der().unwrap();
        (sk, PublicKey::from_spki_der(der.as_bytes()).unwrap())
    }

    /// ring (over messages) and RustCrypto (over digests) agree on P-256 signatures, DER or raw.
    #[test]
    fn p256_message_and_digest_paths_agree() {
        let (sk, pk) = key();
        let artifact = b"an artifact".to_vec();
        let digest = sha2::Sha256::digest(&artifact);
        let sig: Signature = sk.sign(&artifact);
        for encoded in [sig.to_der().as_bytes().to_vec(), sig.to_bytes().to_vec()] {
            assert_eq!(pk.verify_message(&artifact, &encoded), Ok(()));
            assert_eq!(pk.verify_prehash(&digest, &encoded), Ok(()));
            assert_eq!(
                pk.verify_sha256_of(Some(&artifact), &digest, &encoded),
                Ok(())
            );
            assert_eq!(pk.verify_sha256_of(None, &digest, &encoded), Ok(()));
            let other = b"another artifact";
            let other_digest = sha2::Sha256::digest(other);
            let invalid = Err(SignatureProblem::Invalid);
            assert_eq!(pk.verify_message(other, &encoded), invalid);
            assert_eq!(
                pk.verify_sha256_of(Some(other), &other_digest, &encoded),
                invalid
            );
            assert_eq!(pk.verify_sha256_of(None, &other_digest, &encoded), invalid);
            // Bytes that are not the digest's are not used: the digest is what is judged.
            assert_eq!(pk.verify_sha256_of(Some(other), &digest, &encoded), Ok(()));
            assert_eq!(
                pk.verify_sha256_of(Some(&artifact), &other_digest, &encoded),
                invalid
            );
        }
        let mut flipped = sig.to_bytes().to_vec();
        flipped[40] ^= 1;
        assert_eq!(
            pk.verify_message(&artifact, &flipped),
            Err(SignatureProblem::Invalid)
        );
        assert_eq!(
            pk.verify_message(&artifact, &[0x30, 1, 2]),
            Err(SignatureProblem::Malformed(3))
        );
    }

    /// Above the limit the digest path is taken, with the same verdicts.
    #[test]
    fn large_artifacts_are_judged_over_their_digest() {
        let (sk, pk) = key();
        let artifact = vec![0x5a; REHASH_LIMIT + 1];
        let digest = sha2::Sha256::digest(&artifact);
        let sig: Signature = sk.sign(&artifact);
        assert_eq!(
            pk.verify_sha256_of(Some(&artifact), &digest, &sig.to_bytes()),
            Ok(())
        );
        let mut flipped = sig.to_bytes().to_vec();
        flipped[3] ^= 1;
        assert_eq!(
            pk.verify_sha256_of(Some(&artifact), &digest, &flipped),
            Err(SignatureProblem::Invalid)
        );
    }
}
