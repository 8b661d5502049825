//! WebAssembly modules as evidence: the streaming section walk ([`scanner`]), the key-based
//! signature section ([`signature_section`]), keyless signatures ([`keyless_section`]),
//! per-signature verdicts ([`verdict`]) and detached signatures ([`detached`]); [`analyse_module`]
//! puts them together into one [`ModuleReport`].

pub mod detached;
pub mod keyless_section;
pub mod payload_reader;
pub mod scanner;
pub mod signature_section;
pub mod verdict;

use crate::keys::PublicKey;
use crate::model::evidence::{Finding, IncidentType, Severity};
use keyless_section::{KeylessReport, KeylessSignature};
use scanner::{ModuleScan, SIGNATURE_SECTION};
use serde::Serialize;
use signature_section::SignatureData;
use verdict::SignatureVerdict;

/// Where the signature data came from.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SignatureSource {
    /// The module's first section; offsets are file offsets of the module.
    Embedded,
    /// A detached file; offsets in the decoded data are offsets in that file.
    Detached { path: String },
}

/// What the module's signature is.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SignatureAnalysis {
    /// No `signature` section and no detached signature.
    Unsigned,
    KeyBased {
        source: SignatureSource,
        data: SignatureData,
        verdicts: Vec<SignatureVerdict>,
    },
    Keyless(Box<KeylessReport>),
    /// A signature payload that could not be decoded (unknown version, malformed, over a limit).
    Undecodable {
        source: SignatureSource,
        error: String,
    },
}

/// Everything found in one module.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct ModuleReport {
    pub scan: ModuleScan,
    pub signature: SignatureAnalysis,
    pub findings: Vec<Finding>,
}

impl ModuleReport {
    /// Per-signature verdicts (empty unless key-based).
    pub fn verdicts(&self) -> &[SignatureVerdict] {
        match &self.signature {
            SignatureAnalysis::KeyBased { verdicts, .. } => verdicts,
            _ => &[],
        }
    }

    /// The exit contract of `inspect -K`: some signature made with a given key covers every
    /// byte after the signature section.
    pub fn has_valid_signature(&self) -> bool {
        self.verdicts()
            .iter()
            .any(|v| matches!(v.verdict, verdict::Verdict::Valid { .. }))
    }
}

/// The keyless signature of a scanned module, decoded into raw parts (for the transparency
/// checks). `None` when the first section is not a keyless `signature` section.
pub fn keyless_signature(
    scan: &ModuleScan,
) -> Option<Result<KeylessSignature, keyless_section::KeylessDecodeError>> {
    let sec = scan.signature_section()?;
    let payload = scan.signature_payload.as_ref()?;
    if payload.first() != Some(&keyless_section::KEYLESS_VERSION) {
        return None;
    }
    let base = sec.range.end - payload.len() as u64;
    Some(keyless_section::decode(payload, base).map(|(s, _)| s))
}

/// Keyless check findings and the decoder findings that state the same fact about a module.
const DECODER_TWIN_OF_CHECK: &[(&str, &str)] = &[
    ("tlog-body-does-not-bind-artifact", "rekor-entry-not-bound"),
    (
        "module-modified-after-signing",
        "keyless-module-hash-mismatch",
    ),
];

/// Runs the transparency checks (module hash, ECDSA signature, chain, SET, proof, binding) on a
/// keyless module, and folds their findings into the report's: a check finding that restates a
/// decoder finding only raises that finding's severity. `None` for modules that are not keyless.
pub fn check_keyless(
    report: &mut ModuleReport,
    root: &crate::transparency::TrustRoot,
    policy: &crate::transparency::IdentityPolicy,
) -> Option<crate::transparency::Verification> {
    let sig = keyless_signature(&report.scan)?.ok()?;
    let recomputed = report.scan.keyless_module_hash?;
    let checks = crate::transparency::verify_wsc_keyless(
        &sig.signature,
        &sig.certificates_pem,
        &sig.rekor_entry_json,
        &sig.module_hash,
        &recomputed.0,
        root,
        policy,
    );
    for f in &checks.findings {
        let same = DECODER_TWIN_OF_CHECK
            .iter()
            .find(|(check, _)| *check == f.code)
            .map_or(f.code.as_str(), |(_, twin)| twin);
        match report.findings.iter_mut().find(|g| g.code == same) {
            Some(g) => g.severity = g.severity.max(f.severity),
            None => report.findings.push(f.clone()),
        }
    }
    Some(checks)
}

/// Judges a scanned module. With `detached` = (path, bytes) the scan must have been made with
/// [`scanner::Coverage::Detached`]. `keys` empty: verdicts are `unverified`.
pub fn analyse_module(
    scan: ModuleScan,
    detached: Option<(&str, &[u8])>,
    keys: &[PublicKey],
) -> ModuleReport {
    let mut findings = Vec::new();
    for s in scan.sections.iter().skip(1) {
        if s.is_custom(SIGNATURE_SECTION) {
            findings.push(Finding::new(
                "misplaced-signature-section",
                Severity::Medium,
                Some(IncidentType::MaliciousModule),
                format!(
                    "a `signature` section at {}..{} (section #{}) is not the first section: verifiers ignore it and `wsc sign` drops it",
                    s.range.start, s.range.end, s.index
                ),
            ));
        }
    }
    if scan.section_count > scan.sections.len() {
        findings.push(Finding::new(
            "too-many-sections",
            Severity::Medium,
            Some(IncidentType::MaliciousModule),
            format!(
                "{} sections: only the first {} are listed (all are hashed); such a module is built to exhaust tools",
                scan.section_count,
                scan.sections.len()
            ),
        ));
    }
    if let Some(e) = &scan.error {
        findings.push(Finding::new(
            "module-does-not-parse",
            Severity::Medium,
            Some(IncidentType::MaliciousModule),
            format!("the module does not parse ({e}): wsc refuses it, and no signature on it can be checked"),
        ));
        return ModuleReport {
            scan,
            signature: SignatureAnalysis::Unsigned,
            findings,
        };
    }
    let (source, payload, base) = match detached {
        Some((path, bytes)) => (
            SignatureSource::Detached {
                path: path.to_owned(),
            },
            Some(bytes.to_vec()),
            0,
        ),
        None => match (scan.signature_section(), scan.signature_payload.as_ref()) {
            (Some(sec), Some(p)) => (
                SignatureSource::Embedded,
                Some(p.clone()),
                sec.range.end - p.len() as u64,
            ),
            _ => (SignatureSource::Embedded, None, 0),
        },
    };
    let signature = match payload {
        None => {
            findings.push(Finding::new(
                "module-not-signed",
                Severity::Low,
                None,
                "no signature section and no detached signature: nothing vouches for this module",
            ));
            SignatureAnalysis::Unsigned
        }
        Some(p) if p.first() == Some(&keyless_section::KEYLESS_VERSION) => {
            match keyless_section::decode(&p, base) {
                Ok((sig, trailing)) => {
                    let (report, f) =
                        keyless_section::analyse(&sig, trailing, scan.keyless_module_hash);
                    findings.extend(f);
                    SignatureAnalysis::Keyless(Box::new(report))
                }
                Err(e) => undecodable(&mut findings, source, e.to_string()),
            }
        }
        Some(p) => match signature_section::decode(&p, base) {
            Ok(data) => {
                let verdicts = verdict::judge(&scan, &data, keys);
                findings.extend(verdict::findings(&scan, &data, &verdicts));
                SignatureAnalysis::KeyBased {
                    source,
                    data,
                    verdicts,
                }
            }
            Err(e) => undecodable(&mut findings, source, e.to_string()),
        },
    };
    ModuleReport {
        scan,
        signature,
        findings,
    }
}

fn undecodable(
    findings: &mut Vec<Finding>,
    source: SignatureSource,
    error: String,
) -> SignatureAnalysis {
    findings.push(Finding::new(
        "undecodable-signature",
        Severity::Medium,
        Some(IncidentType::MaliciousModule),
        format!("the signature data cannot be decoded ({error}): wsc reports `Parse error` and treats the module as unverifiable"),
    ));
    SignatureAnalysis::Undecodable { source, error }
}
