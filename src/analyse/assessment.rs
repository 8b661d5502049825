//! One assessment per module and per key, made once from the evidence and the case file
//! (signed by a compromised key before or after the compromise began, re-signed by the
//! replacement key, tampered or otherwise seriously flagged), so that every output states the
//! same conclusion: renderers format it and decide nothing. [`assess_module`] is pure over plain
//! facts, so a caller without an evidence model (`scope`) can use the same judgement.

use crate::model::case::CaseInfo;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Evidence, EvidenceItem, Finding, ItemKind, Severity};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// How one signature by a known key stands over the module's current bytes.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureCheck {
    /// Verifies over every byte.
    Valid,
    /// Verifies over a prefix only: sections were added after signing.
    Partial,
    /// Does not verify over the current bytes.
    Invalid,
}

impl SignatureCheck {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureCheck::Valid => "valid",
            SignatureCheck::Partial => "partial",
            SignatureCheck::Invalid => "invalid",
        }
    }
}

/// One signature of a module by a known key (lower-case wsc key id).
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SignatureFact {
    pub key_id: String,
    pub check: SignatureCheck,
}

/// What the case file declares about a key compromise.
#[derive(Debug, Clone, Default)]
pub struct CompromiseFacts {
    /// Compromised key ids, lower-case.
    pub compromised: BTreeSet<String>,
    /// The replacement key id, lower-case.
    pub replacement: Option<String>,
    /// When the compromise began, and which declared field says so.
    pub start: Option<(DateTime<Utc>, &'static str)>,
}

/// A key id as compared everywhere: trimmed, lower-case.
pub fn normal_key_id(k: &str) -> String {
    k.trim().to_ascii_lowercase()
}

impl CompromiseFacts {
    /// From the case file: `[keys]`, and the window start (else the estimated compromise time).
    pub fn of(case: &CaseInfo) -> Self {
        CompromiseFacts {
            compromised: case
                .keys
                .compromised
                .iter()
                .map(|k| normal_key_id(k))
                .collect(),
            replacement: case.keys.replacement.as_deref().map(normal_key_id),
            start: case
                .window
                .as_ref()
                .map(|w| (w.from, "compromise window start"))
                .or(case
                    .times
                    .compromise_estimated
                    .map(|t| (t, "estimated compromise time"))),
        }
    }
}

/// Where a module's signing time falls against the compromise start.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    Before,
    /// At or after the start.
    After,
    /// No compromise start is declared.
    Unknown,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Before => "before",
            Placement::After => "after",
            Placement::Unknown => "unknown",
        }
    }
}

/// The one conclusion about a module, most serious first.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleStatus {
    /// A High or Critical finding is about it (tampered, unbound Rekor entry, ...).
    Suspect,
    /// Signed by a compromised key at or after the compromise began (or with no declared
    /// start), and carrying no valid signature by the replacement key.
    SignedDuringCompromise,
    /// Carries a valid signature by the replacement key and no serious finding.
    ReSigned,
    /// Signed by a compromised key before the compromise began.
    SignedBeforeCompromise,
    /// Only Low or Medium findings.
    Review,
    /// No finding is about it and no compromised key signed it.
    NoFindings,
}

impl ModuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleStatus::Suspect => "suspect",
            ModuleStatus::SignedDuringCompromise => "signed-during-compromise",
            ModuleStatus::ReSigned => "re-signed",
            ModuleStatus::SignedBeforeCompromise => "signed-before-compromise",
            ModuleStatus::Review => "review",
            ModuleStatus::NoFindings => "no-findings",
        }
    }

    /// Whether users should stop trusting the module.
    pub fn untrusted(self) -> bool {
        matches!(
            self,
            ModuleStatus::Suspect | ModuleStatus::SignedDuringCompromise
        )
    }
}

/// The facts one module is judged on.
#[derive(Debug, Clone)]
pub struct ModuleFacts {
    /// Signatures by known keys with their checks.
    pub signatures: Vec<SignatureFact>,
    /// Every key the module is attributed to (signatures' keys, or key ids it claims).
    pub signed_by: BTreeSet<String>,
    /// The time placing it against the compromise, and what that time is.
    pub signing_time: DateTime<Utc>,
    pub signing_time_source: String,
    /// (finding code, severity) of every finding about it.
    pub findings: Vec<(String, Severity)>,
}

/// What is concluded about one module.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct ModuleAssessment {
    pub status: ModuleStatus,
    pub signatures: Vec<SignatureFact>,
    pub signed_by: Vec<String>,
    pub signed_by_compromised_key: bool,
    /// A valid signature by the replacement key.
    pub resigned_by_replacement: bool,
    pub signing_time: DateTime<Utc>,
    pub signing_time_source: String,
    pub placement: Placement,
    /// Codes of the findings about it, with severities.
    pub findings: Vec<(String, Severity)>,
    /// One line stating the conclusion and why, from the facts above only.
    pub summary: String,
}

/// Judges one module.
pub fn assess_module(facts: ModuleFacts, compromise: &CompromiseFacts) -> ModuleAssessment {
    let by_compromised = facts
        .signed_by
        .iter()
        .any(|k| compromise.compromised.contains(k));
    let resigned = compromise.replacement.as_ref().is_some_and(|r| {
        facts
            .signatures
            .iter()
            .any(|s| &s.key_id == r && s.check == SignatureCheck::Valid)
    });
    let serious: Vec<&(String, Severity)> = facts
        .findings
        .iter()
        .filter(|(_, s)| *s >= Severity::High)
        .collect();
    let placement = match compromise.start {
        Some((start, _)) if facts.signing_time >= start => Placement::After,
        Some(_) => Placement::Before,
        None => Placement::Unknown,
    };
    let status = if !serious.is_empty() {
        ModuleStatus::Suspect
    } else if resigned {
        ModuleStatus::ReSigned
    } else if by_compromised && placement != Placement::Before {
        ModuleStatus::SignedDuringCompromise
    } else if by_compromised {
        ModuleStatus::SignedBeforeCompromise
    } else if !facts.findings.is_empty() {
        ModuleStatus::Review
    } else {
        ModuleStatus::NoFindings
    };
    let summary = summary(&facts, compromise, status, placement);
    ModuleAssessment {
        status,
        signed_by: facts.signed_by.into_iter().collect(),
        signatures: facts.signatures,
        signed_by_compromised_key: by_compromised,
        resigned_by_replacement: resigned,
        signing_time: facts.signing_time,
        signing_time_source: facts.signing_time_source,
        placement,
        findings: facts.findings,
        summary,
    }
}

fn summary(
    facts: &ModuleFacts,
    compromise: &CompromiseFacts,
    status: ModuleStatus,
    placement: Placement,
) -> String {
    let codes = |min: Severity| -> String {
        facts
            .findings
            .iter()
            .filter(|(_, s)| *s >= min)
            .map(|(c, s)| format!("{c} ({s})"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let compromised: Vec<&str> = facts
        .signed_by
        .iter()
        .filter(|k| compromise.compromised.contains(*k))
        .map(String::as_str)
        .collect();
    let start = compromise
        .start
        .map(|(_, what)| what)
        .unwrap_or("compromise start");
    let sigs = if facts.signatures.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = facts
            .signatures
            .iter()
            .map(|s| format!("{} {}", s.key_id, s.check.as_str()))
            .collect();
        format!("signatures: {}. ", list.join(", "))
    };
    let body = match status {
        ModuleStatus::Suspect => format!("suspect: {}", codes(Severity::High)),
        ModuleStatus::ReSigned => format!(
            "re-signed: valid signature by the replacement key {}",
            compromise.replacement.as_deref().unwrap_or_default()
        ),
        ModuleStatus::SignedDuringCompromise if placement == Placement::Unknown => format!(
            "not trusted: signed by compromised key {}; no compromise start is recorded",
            compromised.join(", ")
        ),
        ModuleStatus::SignedDuringCompromise => format!(
            "not trusted: signed by compromised key {} at or after the {start} ({})",
            compromised.join(", "),
            facts.signing_time_source
        ),
        ModuleStatus::SignedBeforeCompromise => format!(
            "re-verify: signed by compromised key {} before the {start} ({})",
            compromised.join(", "),
            facts.signing_time_source
        ),
        ModuleStatus::Review => format!("review: {}", codes(Severity::Low)),
        ModuleStatus::NoFindings => "no findings".to_owned(),
    };
    format!("{sigs}{body}")
}

/// Roles a key has in the case.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum KeyRole {
    Compromised,
    Revoked,
    Replacement,
    /// Named nowhere in the case file, found in the evidence.
    SeenInEvidence,
}

impl KeyRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Compromised => "compromised",
            KeyRole::Revoked => "revoked",
            KeyRole::Replacement => "replacement",
            KeyRole::SeenInEvidence => "seen in evidence",
        }
    }
}

/// What is known about one key.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct KeyAssessment {
    pub key_id: String,
    pub roles: Vec<KeyRole>,
    /// Modules attributed to it, in evidence order.
    pub modules: Vec<Sha256Digest>,
    /// Key files holding it, in evidence order.
    pub key_files: Vec<Sha256Digest>,
}

/// The assessment of a whole case: each module (with its item) and each key.
#[derive(Debug, Clone)]
pub struct CaseAssessment<'e> {
    pub compromise: CompromiseFacts,
    pub modules: Vec<(&'e EvidenceItem, ModuleAssessment)>,
    pub keys: Vec<KeyAssessment>,
}

impl CaseAssessment<'_> {
    /// The assessment of the module with this hash.
    pub fn module(&self, sha: &Sha256Digest) -> Option<&ModuleAssessment> {
        self.modules
            .iter()
            .find(|(i, _)| &i.sha256 == sha)
            .map(|(_, a)| a)
    }
}

/// Assesses every module and key of the evidence.
pub fn assess(ev: &Evidence) -> CaseAssessment<'_> {
    let compromise = CompromiseFacts::of(&ev.case);
    let mut keys = KeyBook::declared(&ev.case);
    let mut modules = Vec::new();
    for item in &ev.items {
        match item.kind {
            ItemKind::Module => {
                let facts = module_facts(ev, item);
                for k in &facts.signed_by {
                    keys.entry(k).modules.push(item.sha256);
                }
                modules.push((item, assess_module(facts, &compromise)));
            }
            ItemKind::PublicKey | ItemKind::SecretKey => {
                for k in item.analysis.key_ids() {
                    keys.entry(&k).key_files.push(item.sha256);
                }
            }
            _ => {}
        }
    }
    CaseAssessment {
        compromise,
        modules,
        keys: keys.finish(),
    }
}

/// Keys by id as they are found.
#[derive(Default)]
struct KeyBook(BTreeMap<String, KeyAssessment>);

impl KeyBook {
    fn entry(&mut self, id: &str) -> &mut KeyAssessment {
        self.0
            .entry(id.to_owned())
            .or_insert_with(|| KeyAssessment {
                key_id: id.to_owned(),
                roles: vec![],
                modules: vec![],
                key_files: vec![],
            })
    }

    fn declared(case: &CaseInfo) -> Self {
        let mut b = KeyBook::default();
        for k in &case.keys.compromised {
            b.entry(&normal_key_id(k)).roles.push(KeyRole::Compromised);
        }
        for k in &case.keys.revoked {
            b.entry(&normal_key_id(k)).roles.push(KeyRole::Revoked);
        }
        if let Some(k) = &case.keys.replacement {
            b.entry(&normal_key_id(k)).roles.push(KeyRole::Replacement);
        }
        b
    }

    fn finish(mut self) -> Vec<KeyAssessment> {
        for k in self.0.values_mut() {
            if k.roles.is_empty() {
                k.roles.push(KeyRole::SeenInEvidence);
            }
        }
        self.0.into_values().collect()
    }
}

/// The facts of one module item: the decoder's verdicts say which known keys really made a
/// signature (a key id in a signature is only a claim, and signatures may carry none); without
/// any, the key ids it claims.
fn module_facts(ev: &Evidence, item: &EvidenceItem) -> ModuleFacts {
    let signatures = module_signature_verdicts(item);
    let signed_by = if signatures.is_empty() {
        item.analysis.key_ids()
    } else {
        signatures.iter().map(|s| s.key_id.clone()).collect()
    };
    let (signing_time, signing_time_source) = signing_time(item);
    ModuleFacts {
        signatures,
        signed_by,
        signing_time,
        signing_time_source,
        findings: findings_about(ev, item)
            .into_iter()
            .map(|f| (f.code.clone(), f.severity))
            .collect(),
    }
}

/// The time that places a module before or after the compromise, and what it is: the earliest
/// signing or Rekor time an analyser recorded, else the file's mtime.
fn signing_time(item: &EvidenceItem) -> (DateTime<Utc>, String) {
    item.times
        .iter()
        .filter(|t| t.event_type.contains("sign") || t.event_type.contains("rekor"))
        .map(|t| (t.at, t.description.clone()))
        .min_by_key(|(at, _)| *at)
        .unwrap_or((
            item.stat_before.mtime,
            "file mtime; wsc signatures carry no signing time".into(),
        ))
}

/// Findings about an item: its own, plus case-level findings that name it in `related`.
pub fn findings_about<'e>(ev: &'e Evidence, item: &'e EvidenceItem) -> Vec<&'e Finding> {
    let mut all: Vec<&Finding> = item.findings.iter().collect();
    for (carrier, f) in ev.all_findings() {
        let is_own = carrier.is_some_and(|c| std::ptr::eq(c, item));
        if !is_own && f.related.contains(&item.sha256) {
            all.push(f);
        }
    }
    all
}

/// For a module analysed by the wasm decoder: every signature a known key made, from
/// `module.signature.verdicts`.
fn module_signature_verdicts(item: &EvidenceItem) -> Vec<SignatureFact> {
    item.analysis
        .signature_verdicts()
        .iter()
        .filter(|v| v.verdict.names_a_key())
        .filter_map(|v| {
            let check = match v.verdict.as_str() {
                "valid" => SignatureCheck::Valid,
                "partial" => SignatureCheck::Partial,
                "invalid" => SignatureCheck::Invalid,
                _ => return None,
            };
            Some(SignatureFact {
                key_id: v.key.as_ref()?.to_ascii_lowercase(),
                check,
            })
        })
        .collect()
}

/// Finding code: a source time later than the collection.
pub const TIME_AFTER_COLLECTION: &str = "time-after-collection";
/// Finding code: declared times in an impossible order.
pub const DECLARED_TIMES_OUT_OF_ORDER: &str = "declared-times-out-of-order";
/// Finding code: a wsc audit entry says it verified a module the tool found Critical or High.
pub const AUDIT_VERIFIED_FLAGGED_MODULE: &str = "audit-verified-flagged-module";

/// Pairs of declared times that must not be reversed: (earlier, later).
const DECLARED_ORDER: &[(&str, &str)] = &[
    ("compromise_estimated", "detected"),
    ("detected", "contained"),
    ("contained", "recovered"),
    ("new_key_generated", "modules_resigned"),
    ("recovered", "reviewed"),
];

/// Checks of the evidence against itself, made when a report is made: source times after the
/// collection (file mtimes, times analysers found, declared times; not ctimes, which a
/// back-dated `--collected-at` always puts later), declared times out of order, and a wsc audit
/// entry that verified a module this tool flags Critical or High. Each finding is carried by
/// the item it is about (`None`: the case file's declarations).
pub fn sanity_findings<'e>(
    ev: &'e Evidence,
    assessed: &CaseAssessment<'e>,
) -> Vec<(Option<&'e EvidenceItem>, Finding)> {
    let mut out = Vec::new();
    let collected = ev.collected_at;
    let at = crate::timeline::iso_utc;
    for item in &ev.items {
        let mut late: Vec<(DateTime<Utc>, &str)> = item
            .times
            .iter()
            .filter(|t| t.at > collected)
            .map(|t| (t.at, t.event_type.as_str()))
            .collect();
        if item.stat_before.mtime > collected {
            late.push((item.stat_before.mtime, "file.mtime"));
        }
        if let Some((latest, what)) = late.iter().max_by_key(|(t, _)| *t) {
            out.push((
                Some(item),
                Finding::new(
                    TIME_AFTER_COLLECTION,
                    Severity::Medium,
                    None,
                    format!(
                        "{} time(s) of {} are after the collection at {}; latest {what} {}",
                        late.len(),
                        item.source.text,
                        at(collected),
                        at(*latest)
                    ),
                ),
            ));
        }
        audit_checks(item, assessed, &mut out);
    }
    let declared = ev.case.times.entries();
    for (name, _, t) in &declared {
        if let Some(t) = t.filter(|t| *t > collected) {
            out.push((
                None,
                Finding::new(
                    TIME_AFTER_COLLECTION,
                    Severity::Medium,
                    None,
                    format!(
                        "declared time {name} {} is after the collection at {}",
                        at(t),
                        at(collected)
                    ),
                ),
            ));
        }
    }
    let time_of = |n: &str| declared.iter().find(|(d, _, _)| *d == n).and_then(|e| e.2);
    for (first, then) in DECLARED_ORDER {
        if let (Some(a), Some(b)) = (time_of(first), time_of(then)) {
            if b < a {
                out.push((
                    None,
                    Finding::new(
                        DECLARED_TIMES_OUT_OF_ORDER,
                        Severity::Medium,
                        None,
                        format!("declared {then} {} is before {first} {}", at(b), at(a)),
                    ),
                ));
            }
        }
    }
    out
}

/// A wsc audit entry recording a successful verification of a module this tool flags.
fn audit_checks<'e>(
    item: &'e EvidenceItem,
    assessed: &CaseAssessment<'e>,
    out: &mut Vec<(Option<&'e EvidenceItem>, Finding)>,
) {
    if item.kind != ItemKind::AuditLog {
        return;
    }
    for t in item
        .times
        .iter()
        .filter(|t| t.event_type == "audit.verification.success")
    {
        let Some(hash) = t
            .detail
            .split(' ')
            .find_map(|w| w.strip_prefix("artifact_hash=sha256:"))
        else {
            continue;
        };
        let Some(sha) = Sha256Digest::from_hex(hash) else {
            continue;
        };
        let Some(module) = assessed.module(&sha) else {
            continue;
        };
        let serious: Vec<String> = module
            .findings
            .iter()
            .filter(|(_, s)| *s >= Severity::High)
            .map(|(c, s)| format!("{c} ({s})"))
            .collect();
        if serious.is_empty() {
            continue;
        }
        let mut f = Finding::new(
            AUDIT_VERIFIED_FLAGGED_MODULE,
            Severity::High,
            None,
            format!(
                "wsc audit log {} records a successful verification at {} of module {} (first 12 hex) that this tool flags: {}",
                item.source.text,
                crate::timeline::iso_utc(t.at),
                &sha.to_hex()[..12],
                serious.join("; ")
            ),
        );
        f.related.push(sha);
        out.push((Some(item), f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "c858d5ec82d976c190cb33d0";
    const B: &str = "465c5341001f3e570f784f71";

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn facts(sigs: &[(&str, SignatureCheck)], at: &str, findings: &[Severity]) -> ModuleFacts {
        ModuleFacts {
            signatures: sigs
                .iter()
                .map(|(k, c)| SignatureFact {
                    key_id: (*k).into(),
                    check: *c,
                })
                .collect(),
            signed_by: sigs.iter().map(|(k, _)| (*k).to_owned()).collect(),
            signing_time: t(at),
            signing_time_source: "file mtime".into(),
            findings: findings.iter().map(|s| ("x".to_owned(), *s)).collect(),
        }
    }

    fn compromise() -> CompromiseFacts {
        CompromiseFacts {
            compromised: [A.to_owned()].into(),
            replacement: Some(B.into()),
            start: Some((t("2026-11-16T14:05:00Z"), "compromise window start")),
        }
    }

    #[test]
    fn a_module_re_signed_by_the_replacement_key_is_re_signed_not_suspect() {
        use SignatureCheck::Valid;
        let a = assess_module(
            facts(&[(A, Valid), (B, Valid)], "2026-11-18T10:30:00Z", &[]),
            &compromise(),
        );
        assert_eq!(a.status, ModuleStatus::ReSigned);
        assert!(!a.status.untrusted());
        assert!(a.summary.contains("re-signed"), "{}", a.summary);
        // The same module without B's signature, signed after the start, is not trusted.
        let a = assess_module(
            facts(&[(A, Valid)], "2026-11-18T10:30:00Z", &[]),
            &compromise(),
        );
        assert_eq!(a.status, ModuleStatus::SignedDuringCompromise);
        let a = assess_module(
            facts(&[(A, Valid)], "2026-11-02T10:00:00Z", &[]),
            &compromise(),
        );
        assert_eq!(a.status, ModuleStatus::SignedBeforeCompromise);
        assert!(!a.summary.contains("believed"), "{}", a.summary);
    }

    #[test]
    fn a_serious_finding_outranks_every_signature() {
        use SignatureCheck::Valid;
        let a = assess_module(
            facts(&[(B, Valid)], "2026-11-18T10:30:00Z", &[Severity::Critical]),
            &compromise(),
        );
        assert_eq!(a.status, ModuleStatus::Suspect);
        let a = assess_module(
            facts(&[], "2026-11-18T10:30:00Z", &[Severity::Low]),
            &compromise(),
        );
        assert_eq!(a.status, ModuleStatus::Review);
        let a = assess_module(facts(&[], "2026-11-18T10:30:00Z", &[]), &compromise());
        assert_eq!(a.status, ModuleStatus::NoFindings);
    }
}
