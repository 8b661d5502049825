//! wsc keyless signatures: the checks `wsc verify --keyless` leaves out (module hash, ECDSA
//! signature, body binding, inclusion proof) plus the ones it does (chain at integrated time,
//! SET), over the parts another module decodes from the signature section. Takes plain slices so
//! it does not depend on that decoder's types.

use super::checks::{Check, CheckId, IdentityPolicy, Material, Outcome, SignedContent};
use super::rekor_entry::parse_wsc_embedded;
use super::trust_root::TrustRoot;
use super::{verify, Context, Verification};
use crate::model::evidence::{Finding, IncidentType, Severity};

/// The result of [`verify_wsc_keyless`]: the module-hash check first, then checks 1–7.
pub type KeylessReport = Verification;

/// Verifies a wsc keyless signature.
///
/// * `signature`: the 64-byte r‖s ECDSA P-256 signature over the module hash;
/// * `certificates_pem`: the PEM certificates of the section, leaf first (only the leaf is used:
///   intermediates and roots come from `root`, as wsc does);
/// * `rekor_entry_json`: the embedded entry JSON (snake_case, proof as an array of bytes);
/// * `embedded_module_hash`: the hash the section states; `recomputed_module_hash`: SHA-256 of the
///   module without its signature section (header included).
pub fn verify_wsc_keyless(
    signature: &[u8],
    certificates_pem: &[String],
    rekor_entry_json: &[u8],
    embedded_module_hash: &[u8],
    recomputed_module_hash: &[u8; 32],
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> KeylessReport {
    let module_hash = if embedded_module_hash == recomputed_module_hash {
        Outcome::Pass {
            detail: format!(
                "the module hashes to the signed {}",
                hex::encode(recomputed_module_hash)
            ),
        }
    } else {
        Outcome::Fail {
            reason: format!(
                "the module hashes to {}, the signature section states {}",
                hex::encode(recomputed_module_hash),
                hex::encode(embedded_module_hash)
            ),
        }
    };
    let entry = parse_wsc_embedded("embedded Rekor entry", rekor_entry_json);
    let entry_problem = entry.as_ref().err().map(|e| e.to_string());
    let leaf = certificates_pem.first().and_then(|pem| {
        x509_parser::pem::parse_x509_pem(pem.as_bytes())
            .ok()
            .map(|(_, p)| p.contents)
    });
    let no_entry_reason = entry_problem
        .clone()
        .unwrap_or_else(|| "no Rekor entry".to_owned());
    let material = Material {
        entry: entry.as_ref().ok(),
        no_entry_reason: &no_entry_reason,
        leaf_der: leaf,
        content: SignedContent::WscModuleHash {
            signature: signature.to_vec(),
            module_hash: *recomputed_module_hash,
        },
        // The recomputed hash is the artifact here; the body must name it.
        artifact_sha256: None,
        artifact_bytes: None,
        timestamps: Vec::new(),
        key_signed: false,
    };
    let mut v = verify(&material, root, policy, Context::WscKeyless);
    // The policy marked module-hash required (and listed it as not made): the real one replaces it.
    v.checks.retain(|c| c.id != CheckId::ModuleHash);
    v.checks.insert(
        0,
        Check {
            id: CheckId::ModuleHash,
            outcome: module_hash,
            required: true,
        },
    );
    if let Some(Outcome::Fail { reason }) = v.outcome(CheckId::ModuleHash).cloned() {
        v.findings.insert(
            0,
            Finding::new(
                "module-modified-after-signing",
                Severity::Critical,
                Some(IncidentType::MaliciousModule),
                format!("module hash differs from the signed one: {reason}"),
            ),
        );
    }
    if let Some(p) = entry_problem {
        v.findings.push(Finding::new(
            "tlog-entry-unreadable",
            Severity::High,
            Some(IncidentType::SigstoreCompromise),
            format!("the embedded Rekor entry cannot be read: {p}"),
        ));
    }
    v
}
