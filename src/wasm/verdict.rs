//! Per-signature verdicts for key-based signatures: which key made each signature, and which of
//! the module's current bytes its hashes cover (all, up to a section boundary, or none), with the
//! module-level findings, including the cases wsc's own verifiers wrongly accept (§5, §7).

use super::scanner::{ModuleScan, PrefixHash, SectionInfo};
use super::signature_section::{
    SignatureData, SignatureEntry, SignedHashSet, ALG_ED25519, HASH_SHA256,
};
use crate::keys::PublicKey;
use crate::model::evidence::{Finding, IncidentType, Severity};
use serde::Serialize;
use std::ops::Range;

/// Domain prefix of the signed message (§3).
pub const SIGNATURE_DOMAIN: &[u8] = b"wasmsig";

/// The Ed25519 message of a hash set: `"wasmsig" ‖ 01 ‖ 01 ‖ 01 ‖ hashes`.
pub fn signed_message(data: &SignatureData, set: &SignedHashSet) -> Vec<u8> {
    let mut m = Vec::with_capacity(10 + 32 * set.hashes.len());
    m.extend_from_slice(SIGNATURE_DOMAIN);
    m.extend_from_slice(&[data.spec_version, data.content_type, data.hash_function]);
    for h in &set.hashes {
        m.extend_from_slice(&h.0);
    }
    m
}

/// A section outside the covered range.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct UncoveredSection {
    pub index: usize,
    pub id: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub range: Range<u64>,
}

impl UncoveredSection {
    fn of(s: &SectionInfo) -> Self {
        UncoveredSection {
            index: s.index,
            id: s.id,
            name: s.name.clone(),
            range: s.range.clone(),
        }
    }
}

/// What a set's stored hashes say about the module's current bytes, keys aside.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum HashCoverage {
    /// A stored hash equals the hash of every byte after the signature section.
    Full { covered: Range<u64> },
    /// A stored hash equals the running hash at the end of a section: bytes up to there are as
    /// signed, the sections after it are not covered.
    Prefix {
        covered: Range<u64>,
        /// The prefix ends at a `signature_delimiter` (split-then-signed, partial by design).
        at_delimiter: bool,
        uncovered: Vec<UncoveredSection>,
    },
    /// No stored hash matches any prefix of the current bytes: signed bytes changed.
    None,
}

/// Coverage of one set against the scan. Only the set's last hash is the hash of the whole
/// signed stream (the earlier ones are running hashes at `signature_delimiter` sections, §3):
/// the current bytes matching an earlier one means the module ends where the signed content
/// went on (truncated at a delimiter), which is `Prefix` with nothing uncovered, never `Full`.
pub fn set_coverage(scan: &ModuleScan, set: &SignedHashSet) -> HashCoverage {
    let Some(full) = scan.covered_sha256 else {
        return HashCoverage::None;
    };
    if set.hashes.last().is_some_and(|h| h.0 == full.0) {
        return HashCoverage::Full {
            covered: scan.covered_start..scan.file_len,
        };
    }
    // The longest prefix that matches.
    let best: Option<&PrefixHash> = scan
        .prefix_hashes
        .iter()
        .rev()
        .find(|p| set.hashes.iter().any(|h| h.0 == p.sha256.0));
    match best {
        Some(p) => HashCoverage::Prefix {
            covered: scan.covered_start..p.end,
            at_delimiter: p.at_delimiter,
            uncovered: scan
                .sections
                .iter()
                .filter(|s| s.range.start >= p.end)
                .map(UncoveredSection::of)
                .collect(),
        },
        None => HashCoverage::None,
    }
}

/// Why a signature made by (or claiming) a given key does not hold.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum InvalidReason {
    /// Made by this key, but no hash matches the current bytes.
    SignedBytesChanged,
    /// Its key id is this key's, but the Ed25519 signature does not verify.
    SignatureDoesNotVerify,
}

/// Why a signature cannot be checked.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum UnsupportedReason {
    /// Not Ed25519: wsc silently drops such an element.
    AlgorithmId(u8),
    HashFunction(u8),
    SignatureLength(usize),
}

/// The verdict for one signature.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Made by `key` and covers every byte after the signature section.
    Valid {
        key: String,
        // In JSON only as `SignatureVerdict::covered` (one `covered` key per object).
        #[serde(skip_serializing)]
        covered: Range<u64>,
    },
    /// Made by `key`, covers only `covered`; `uncovered` sections follow.
    Partial {
        key: String,
        // In JSON only as `SignatureVerdict::covered` (one `covered` key per object).
        #[serde(skip_serializing)]
        covered: Range<u64>,
        at_delimiter: bool,
        uncovered: Vec<UncoveredSection>,
    },
    /// Made by (or claims) `key` but does not hold over the current bytes.
    Invalid {
        key: String,
        reason: InvalidReason,
    },
    /// Not made by any of the given keys.
    OtherKey,
    Unsupported {
        reason: UnsupportedReason,
    },
    /// No key given: only what the stored hashes say.
    Unverified {
        coverage: HashCoverage,
    },
}

impl Verdict {
    /// The word of the JSON contract.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Valid { .. } => "valid",
            Verdict::Partial { .. } => "partial",
            Verdict::Invalid { .. } => "invalid",
            Verdict::OtherKey => "other-key",
            Verdict::Unsupported { .. } => "unsupported",
            Verdict::Unverified { .. } => "unverified",
        }
    }

    /// Covered byte ranges (empty when nothing is known to be covered).
    pub fn covered(&self) -> Vec<Range<u64>> {
        match self {
            Verdict::Valid { covered, .. } | Verdict::Partial { covered, .. } => {
                vec![covered.clone()]
            }
            Verdict::Unverified {
                coverage: HashCoverage::Full { covered } | HashCoverage::Prefix { covered, .. },
            } => vec![covered.clone()],
            _ => Vec::new(),
        }
    }
}

/// One signature and its verdict.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct SignatureVerdict {
    pub set_index: usize,
    pub signature_index: usize,
    /// Key id stored in the signature (hex), `None` when it has none.
    pub key_id: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Covered byte ranges, repeated from the verdict for scripts.
    pub covered: Vec<Range<u64>>,
}

/// Judges every signature of `data` against `keys` (none: [`Verdict::Unverified`]).
pub fn judge(scan: &ModuleScan, data: &SignatureData, keys: &[PublicKey]) -> Vec<SignatureVerdict> {
    let mut out = Vec::new();
    for set in &data.sets {
        let coverage = set_coverage(scan, set);
        let msg = signed_message(data, set);
        for sig in &set.signatures {
            let verdict = judge_one(data, sig, &msg, &coverage, keys);
            out.push(SignatureVerdict {
                set_index: set.index,
                signature_index: sig.index,
                key_id: sig.key_id.as_ref().map(hex::encode),
                covered: verdict.covered(),
                verdict,
            });
        }
    }
    out
}

fn judge_one(
    data: &SignatureData,
    sig: &SignatureEntry,
    msg: &[u8],
    coverage: &HashCoverage,
    keys: &[PublicKey],
) -> Verdict {
    if data.hash_function != HASH_SHA256 {
        return Verdict::Unsupported {
            reason: UnsupportedReason::HashFunction(data.hash_function),
        };
    }
    if sig.alg_id != ALG_ED25519 {
        return Verdict::Unsupported {
            reason: UnsupportedReason::AlgorithmId(sig.alg_id),
        };
    }
    if sig.signature.len() != 64 {
        return Verdict::Unsupported {
            reason: UnsupportedReason::SignatureLength(sig.signature.len()),
        };
    }
    if keys.is_empty() {
        return Verdict::Unverified {
            coverage: coverage.clone(),
        };
    }
    let mut claimed_by: Option<&PublicKey> = None;
    for key in keys {
        let id = key.wsc_key_id();
        if let Some(kid) = &sig.key_id {
            if kid.as_slice() != id {
                continue;
            }
            claimed_by = Some(key);
        }
        if key.verify(msg, &sig.signature) {
            let key = hex::encode(id);
            return match coverage {
                HashCoverage::Full { covered } => Verdict::Valid {
                    key,
                    covered: covered.clone(),
                },
                HashCoverage::Prefix {
                    covered,
                    at_delimiter,
                    uncovered,
                } => Verdict::Partial {
                    key,
                    covered: covered.clone(),
                    at_delimiter: *at_delimiter,
                    uncovered: uncovered.clone(),
                },
                HashCoverage::None => Verdict::Invalid {
                    key,
                    reason: InvalidReason::SignedBytesChanged,
                },
            };
        }
    }
    match claimed_by {
        Some(k) => Verdict::Invalid {
            key: hex::encode(k.wsc_key_id()),
            reason: InvalidReason::SignatureDoesNotVerify,
        },
        None => Verdict::OtherKey,
    }
}

/// wsc's delimiter-only verifiers (`verify -s`, `verify_matrix`) compare hashes only at
/// `signature_delimiter` sections: they accept a set whenever every delimiter's running hash is
/// among its hashes, vacuously when there is no delimiter (§5 pitfalls).
pub fn wsc_delimiter_verifiers_accept(scan: &ModuleScan, set: &SignedHashSet) -> bool {
    scan.delimiter_hashes()
        .all(|p| set.hashes.iter().any(|h| h.0 == p.sha256.0))
}

fn describe_sections(list: &[UncoveredSection]) -> String {
    list.iter()
        .map(|s| match &s.name {
            Some(n) => format!(
                "#{} custom [{}] at {}..{}",
                s.index, n, s.range.start, s.range.end
            ),
            None => format!(
                "#{} id {} at {}..{}",
                s.index, s.id, s.range.start, s.range.end
            ),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Module-level findings from the hash coverage of every set and the verdicts.
pub fn findings(
    scan: &ModuleScan,
    data: &SignatureData,
    verdicts: &[SignatureVerdict],
) -> Vec<Finding> {
    let mut out = coverage_findings(scan, data);
    out.extend(verdict_findings(verdicts));
    out.extend(structure_findings(data));
    out
}

/// What each hash set's coverage of the current bytes says: changed, cut or appended to.
fn coverage_findings(scan: &ModuleScan, data: &SignatureData) -> Vec<Finding> {
    let mut out = Vec::new();
    let coverages: Vec<HashCoverage> = data.sets.iter().map(|s| set_coverage(scan, s)).collect();
    let some_full = coverages
        .iter()
        .any(|c| matches!(c, HashCoverage::Full { .. }));
    for (set, cov) in data.sets.iter().zip(&coverages) {
        let wsc_accepts = wsc_delimiter_verifiers_accept(scan, set);
        let wsc_note = if wsc_accepts {
            " wsc verify -s and verify_matrix would still accept this signature (they compare hashes only at signature_delimiter sections)."
        } else {
            ""
        };
        match cov {
            HashCoverage::Full { .. } => {}
            HashCoverage::None => out.push(Finding::new(
                "signed-content-changed",
                Severity::High,
                Some(IncidentType::MaliciousModule),
                format!(
                    "hash set {} matches none of the module's current bytes after the signature section ({}..{}): signed content was changed after signing.{wsc_note}",
                    set.index, scan.covered_start, scan.file_len
                ),
            )),
            HashCoverage::Prefix {
                covered,
                at_delimiter,
                uncovered,
            } => {
                let standard = uncovered.iter().any(|s| s.id != 0);
                let truncated_at = scan.covered_sha256.and_then(|full| {
                    set.hashes[..set.hashes.len().saturating_sub(1)]
                        .iter()
                        .position(|h| h.0 == full.0)
                });
                if let Some(k) = truncated_at {
                    out.push(Finding::new(
                        "signed-sections-missing",
                        Severity::High,
                        Some(IncidentType::MaliciousModule),
                        format!(
                            "hash set {} matches the module's bytes {}..{} only as its running hash {} of {}: the signed content went on after byte {}, and those sections are missing (the module was cut at a signature_delimiter). wsc 0.5.0 `verify` accepts this; wsc-verify-core 0.12 accepts only the last hash.",
                            set.index,
                            covered.start,
                            covered.end,
                            k + 1,
                            set.hashes.len(),
                            covered.end
                        ),
                    ));
                } else if *at_delimiter {
                    out.push(Finding::new(
                        "partial-signature-coverage",
                        if standard { Severity::High } else { Severity::Medium },
                        Some(IncidentType::MaliciousModule),
                        format!(
                            "hash set {} covers bytes {}..{} only (up to a signature_delimiter); {} section(s) after it are not covered{}: {}. wsc verify -s accepts this by design.",
                            set.index,
                            covered.start,
                            covered.end,
                            uncovered.len(),
                            if standard { ", including non-custom (code/data) sections" } else { ", custom sections only" },
                            describe_sections(uncovered)
                        ),
                    ));
                } else {
                    out.push(Finding::new(
                        "sections-appended-after-signing",
                        if some_full && !standard { Severity::Medium } else { Severity::High },
                        Some(IncidentType::MaliciousModule),
                        format!(
                            "hash set {} covers bytes {}..{}: the signed bytes are intact, but {} section(s) were appended after signing: {}.{}{wsc_note}",
                            set.index,
                            covered.start,
                            covered.end,
                            uncovered.len(),
                            describe_sections(uncovered),
                            if some_full { " Another hash set covers the whole module." } else { "" }
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Signatures that do not verify or cannot be checked.
fn verdict_findings(verdicts: &[SignatureVerdict]) -> Vec<Finding> {
    let mut out = Vec::new();
    for v in verdicts {
        match &v.verdict {
            Verdict::Invalid {
                key,
                reason: InvalidReason::SignatureDoesNotVerify,
            } => out.push(Finding::new(
                "signature-does-not-verify",
                Severity::High,
                Some(IncidentType::MaliciousModule),
                format!(
                    "set {} signature {} carries key id {key} but its Ed25519 signature does not verify with that key: forged or corrupted",
                    v.set_index, v.signature_index
                ),
            )),
            Verdict::Unsupported { reason } => out.push(Finding::new(
                "unsupported-signature",
                Severity::Medium,
                None,
                format!(
                    "set {} signature {} cannot be checked: {}",
                    v.set_index,
                    v.signature_index,
                    match reason {
                        UnsupportedReason::AlgorithmId(a) => format!(
                            "algorithm id 0x{a:02x} is not Ed25519 (wsc silently drops this element)"
                        ),
                        UnsupportedReason::HashFunction(h) =>
                            format!("hash function 0x{h:02x} is not SHA-256"),
                        UnsupportedReason::SignatureLength(n) =>
                            format!("signature is {n} bytes, Ed25519 needs 64"),
                    }
                ),
            )),
            _ => {}
        }
    }
    out
}

/// Parts of the signature data wsc ignores: dropped elements and trailing bytes.
fn structure_findings(data: &SignatureData) -> Vec<Finding> {
    let mut out = Vec::new();
    for set in &data.sets {
        for d in &set.dropped {
            out.push(Finding::new(
                "dropped-signature-element",
                Severity::Medium,
                Some(IncidentType::MaliciousModule),
                format!(
                    "set {} element {} ({}..{}) is silently dropped by wsc: {}",
                    set.index, d.index, d.range.start, d.range.end, d.reason
                ),
            ));
        }
    }
    let mut trailing: Vec<Range<u64>> = data.trailing.iter().cloned().collect();
    for set in &data.sets {
        trailing.extend(set.trailing.clone());
        for s in &set.signatures {
            trailing.extend(s.trailing.clone());
        }
    }
    for t in trailing {
        out.push(Finding::new(
            "signature-section-trailing-bytes",
            Severity::Medium,
            Some(IncidentType::MaliciousModule),
            format!(
                "{} bytes at {}..{} inside the signature data are ignored by wsc: a place to hide data",
                t.end - t.start,
                t.start,
                t.end
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm::scanner::{ScanOptions, Scanner};
    use crate::wasm::{analyse_module, ModuleReport};

    fn read(rel: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc")
                .join(rel),
        )
        .unwrap()
    }

    fn key_a() -> PublicKey {
        crate::keys::parse_key_file("a", &read("keys/test-key-a.pub"))
            .unwrap()
            .public_key
            .unwrap()
    }

    fn report(bytes: &[u8]) -> ModuleReport {
        analyse_module(
            Scanner::scan_bytes(bytes, ScanOptions::default()),
            None,
            &[key_a()],
        )
    }

    #[test]
    fn corrupted_signature_with_matching_key_id_is_invalid_not_other_key() {
        let mut b = read("modules/signed-a.wasm");
        // Signature bytes of the single element start at file offset 21 + 40 + 15.
        b[21 + 40 + 15 + 10] ^= 1;
        let r = report(&b);
        assert_eq!(
            r.verdicts()[0].verdict,
            Verdict::Invalid {
                key: "c858d5ec82d976c190cb33d0".into(),
                reason: InvalidReason::SignatureDoesNotVerify
            }
        );
        assert!(r
            .findings
            .iter()
            .any(|f| f.code == "signature-does-not-verify"));
        // Without a key id nothing claims key A: other-key.
        let mut b = read("modules/signed-a-nokeyid.wasm");
        let n = b.len();
        let scan = Scanner::scan_bytes(&b, ScanOptions::default());
        let sig_end = scan.covered_start as usize;
        b[sig_end - 10] ^= 1;
        assert_eq!(n, b.len());
        assert_eq!(report(&b).verdicts()[0].verdict, Verdict::OtherKey);
    }

    #[test]
    fn unsupported_hash_function_algorithm_and_length() {
        let mut b = read("modules/signed-a.wasm");
        b[23] = 0x02; // hash function
        let r = report(&b);
        assert_eq!(
            r.verdicts()[0].verdict,
            Verdict::Unsupported {
                reason: UnsupportedReason::HashFunction(2)
            }
        );
        let mut b = read("modules/signed-a.wasm");
        b[21 + 40 + 13] = 0x07; // alg id
        let r = report(&b);
        assert_eq!(
            r.verdicts()[0].verdict,
            Verdict::Unsupported {
                reason: UnsupportedReason::AlgorithmId(7)
            }
        );
        assert!(r
            .findings
            .iter()
            .any(|f| f.code == "unsupported-signature" && f.message.contains("silently drops")));
        // A 63-byte signature in a hand-built section over base.wasm.
        let base = read("modules/base.wasm");
        let hash = crate::model::digest::Sha256Digest::of(&base[8..]);
        let mut el = vec![0x00, 0x01, 63];
        el.extend_from_slice(&[0u8; 63]);
        el.push(0);
        let mut set = vec![1];
        set.extend_from_slice(&hash.0);
        set.push(1);
        set.push(el.len() as u8);
        set.extend_from_slice(&el);
        let mut data = vec![1, 1, 1, 1, set.len() as u8];
        data.extend_from_slice(&set);
        let mut payload = vec![9];
        payload.extend_from_slice(b"signature");
        payload.extend_from_slice(&data);
        let mut m = base[..8].to_vec();
        m.push(0);
        m.push(payload.len() as u8);
        m.extend_from_slice(&payload);
        m.extend_from_slice(&base[8..]);
        let r = report(&m);
        assert_eq!(
            r.verdicts()[0].verdict,
            Verdict::Unsupported {
                reason: UnsupportedReason::SignatureLength(63)
            }
        );
        // Without keys the stored hash still says the bytes are intact.
        let r = analyse_module(Scanner::scan_bytes(&m, ScanOptions::default()), None, &[]);
        assert!(r
            .findings
            .iter()
            .all(|f| f.code != "signed-content-changed"));
    }

    #[test]
    fn misplaced_signature_section_is_reported() {
        let mut b = read("modules/base.wasm");
        b.extend_from_slice(&[0x00, 0x0b, 0x09]);
        b.extend_from_slice(b"signature");
        b.push(0x01);
        let r = report(&b);
        assert!(matches!(
            r.signature,
            crate::wasm::SignatureAnalysis::Unsigned
        ));
        assert!(r
            .findings
            .iter()
            .any(|f| f.code == "misplaced-signature-section"));
    }

    #[test]
    fn trailing_bytes_in_the_section_are_a_finding_and_do_not_change_the_verdict() {
        // signed-a with 3 extra bytes inside the signature section (size 0x82 01 -> 0x85 01).
        let b = read("modules/signed-a.wasm");
        let mut m = b[..141].to_vec();
        m[9] = 0x85;
        m.extend_from_slice(b"xyz");
        m.extend_from_slice(&b[141..]);
        let r = report(&m);
        assert_eq!(r.verdicts()[0].verdict.word(), "valid");
        assert!(r.findings.iter().any(
            |f| f.code == "signature-section-trailing-bytes" && f.message.contains("141..144")
        ));
    }
}
