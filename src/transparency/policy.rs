//! The verdict policy: for each kind of evidence, the checks that must pass. A required check
//! that failed or could not be made fails the verdict and is named; other checks are
//! informational, except that any check that fails always fails the verdict. This is what keeps
//! `inspect` from failing open (a pin that cannot be checked, a missing proof or time).

use super::check_model::{Check, CheckId};
use super::entry_body::EntryBody;
use super::rekor_entry::LogEntry;
use super::sigstore_bundle::BundleVersion;

/// Where the evidence came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    Bundle(BundleVersion),
    Entry,
    Pair,
    WscKeyless,
}

/// The required checks for `ctx`; `key_signed` evidence replaces the certificate checks by
/// `signer-key`. A Rekor entry on its own binds an artifact only when one is given (nothing
/// else in the evidence states what was signed); a bundle binds its own message or envelope.
pub(crate) fn required_checks(
    ctx: Context,
    entry: Option<&LogEntry>,
    key_signed: bool,
    artifact_given: bool,
    ct_logs_in_root: bool,
) -> Vec<CheckId> {
    use CheckId::*;
    let rekor_v2 = entry.is_some_and(|e| e.is_rekor_v2());
    // A dsse entry on its own records only hashes: its signature cannot be checked without the
    // envelope, which the log's SET vouches it checked at upload.
    let entry_records_signed_digest = entry
        .and_then(|e| e.parsed_body.as_ref())
        .is_some_and(|b| matches!(b, EntryBody::HashedRekord { .. }));
    let mut req = Vec::new();
    if ctx != Context::Entry || artifact_given || entry_records_signed_digest {
        req.push(ArtifactSignature);
    }
    if key_signed {
        req.push(SignerKey);
    } else {
        req.push(CertificateChain);
    }
    match ctx {
        Context::Pair => {}
        Context::WscKeyless => req.extend([
            ModuleHash,
            LogInTrustRoot,
            SignedEntryTimestamp,
            BodyBindsArtifact,
        ]),
        Context::Entry => {
            req.extend([LogInTrustRoot, SignedEntryTimestamp]);
            if artifact_given {
                req.push(BodyBindsArtifact);
            }
        }
        Context::Bundle(v) => {
            req.extend([LogInTrustRoot, BodyBindsArtifact]);
            // SCTs are required whenever the trust root names CT logs (a private instance
            // without CT states so by listing none).
            if !key_signed && ct_logs_in_root {
                req.push(CertificateTransparency);
            }
            if rekor_v2 {
                req.extend([InclusionProof, Checkpoint, SignedTimestamp]);
            } else if v == BundleVersion::V0_1 {
                req.push(SignedEntryTimestamp);
            } else {
                req.extend([InclusionProof, Checkpoint]);
            }
        }
    }
    req
}

/// Marks the required checks; a required check that is absent from the list is added as not
/// possible, so it cannot be skipped silently.
pub(crate) fn apply(checks: &mut Vec<Check>, required: &[CheckId]) {
    for c in checks.iter_mut() {
        c.required = required.contains(&c.id);
    }
    for id in required {
        if !checks.iter().any(|c| c.id == *id) {
            let mut c = Check::new(
                *id,
                super::check_model::not_possible("required for this evidence but not made"),
            );
            c.required = true;
            checks.push(c);
        }
    }
}
