//! The signature phase: bundle-signature.json, when present, verifies over this bundle's
//! digest (by the examiner key, when one is given), and the digest is the expected one.

use super::{Hashes, Located};
use super::{Problem, SignatureStatus, VerifyOptions};
use crate::bundle::signature::{verify_signature, BundleSignature};
use crate::model::digest::Sha256Digest;

/// The signature's status; its problems and the digest's go to `problems`.
pub(super) fn check(
    hashes: &Hashes,
    at: &Located,
    digest: Option<Sha256Digest>,
    opts: &VerifyOptions,
    problems: &mut Vec<Problem>,
) -> SignatureStatus {
    let signature_at = at.signature;
    let mut signature = SignatureStatus::Absent;
    match (hashes.kept(signature_at), digest) {
        (Some(bytes), Some(d)) => match serde_json::from_slice::<BundleSignature>(bytes) {
            Err(e) => {
                signature = SignatureStatus::Invalid;
                problems.push(Problem::SignatureUnreadable {
                    detail: e.to_string(),
                });
            }
            Ok(sig) => match verify_signature(&sig, d, opts.examiner_key.as_ref()) {
                Ok(key_id) => {
                    signature = SignatureStatus::Valid {
                        key_id,
                        examiner_key_checked: opts.examiner_key.is_some(),
                    }
                }
                Err(detail) => {
                    signature = SignatureStatus::Invalid;
                    problems.push(Problem::SignatureInvalid { detail });
                }
            },
        },
        (None, _) if opts.examiner_key.is_some() => problems.push(Problem::SignatureMissing),
        _ => {}
    }

    if let (Some(expected), Some(actual)) = (opts.expect_digest, digest) {
        if expected != actual {
            problems.push(Problem::DigestMismatch { expected, actual });
        }
    }
    signature
}
