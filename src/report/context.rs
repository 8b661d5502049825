//! Evidence → template context: the plain, serialisable facts every report template reads
//! (case, integrity, timeline, impact, controls, actions and RACI, metrics, notice fields).
//! Values stay raw here; escaping happens when a template prints them.

use super::metrics::{self, Metric, MetricVerdict};
use super::Integrity;
use crate::model::custody::CustodyEvent;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Evidence, EvidenceItem, Finding, IncidentType, ItemKind, Severity};
use crate::timeline::{self, iso_utc, TimelineEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Everything a report is made from: the bundle's evidence and custody record, its digest, and
/// whether it passed verification.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    pub evidence: &'a Evidence,
    pub custody: &'a [CustodyEvent],
    pub bundle_digest: Sha256Digest,
    pub integrity: &'a Integrity,
}

const UNKNOWN: &str = "unknown";

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map(iso_utc).unwrap_or_else(|| UNKNOWN.to_owned())
}

fn or_unknown(s: &Option<String>) -> String {
    match s.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => UNKNOWN.to_owned(),
    }
}

fn kind_name(k: ItemKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Serialize, Debug, Clone)]
pub struct IntegrityView {
    pub intact: bool,
    pub problems: Vec<String>,
    /// What verification proved, as the banner says it.
    pub statement: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct CaseView {
    pub case_id: String,
    pub title: String,
    pub examiner: String,
    pub organization: String,
    pub incident_type: String,
    pub incident_title: String,
    /// Where the incident type came from: "case file", "findings" or "unknown".
    pub incident_type_source: &'static str,
    pub severity: String,
    pub severity_source: &'static str,
    pub response_time: String,
    pub summary: Option<String>,
    pub root_cause: Option<String>,
    pub notes: Option<String>,
    pub open_items: Vec<String>,
    pub window_from: String,
    pub window_to: String,
    pub compromised_keys: Vec<String>,
    pub revoked_keys: Vec<String>,
    pub replacement_key: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct DeclaredTimeView {
    pub name: &'static str,
    pub description: &'static str,
    pub at: String,
    pub known: bool,
}

#[derive(Serialize, Debug, Clone)]
pub struct ItemView {
    pub sha256: String,
    pub path: String,
    pub kind: String,
    pub size: u64,
    pub bag_path: String,
    pub finding_count: usize,
}

#[derive(Serialize, Debug, Clone)]
pub struct FindingView {
    pub code: String,
    pub severity: String,
    pub incident_type: String,
    pub message: String,
    /// SHA-256 of the item carrying the finding, or "case" for a cross-item finding.
    pub item_sha256: String,
    pub item_path: String,
    pub related: Vec<String>,
}

/// What the report concludes about one module.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleVerdict {
    /// A High or Critical finding is about the module, or the compromised key signed it.
    Suspect,
    /// Only Low or Medium findings.
    Review,
    /// No finding is about it.
    NoFindings,
}

#[derive(Serialize, Debug, Clone)]
pub struct ModuleView {
    pub sha256: String,
    pub path: String,
    pub signed_by: Vec<String>,
    pub signed_by_compromised_key: bool,
    pub verdict: ModuleVerdict,
    pub verdict_text: String,
    pub findings: Vec<String>,
    /// The time used to place the module before or after the compromise, and what it is.
    pub signing_time: String,
    pub signing_time_source: String,
    /// "after", "before" or "unknown" relative to the compromise start.
    pub relative_to_compromise: &'static str,
}

#[derive(Serialize, Debug, Clone)]
pub struct KeyView {
    pub key_id: String,
    pub roles: Vec<&'static str>,
    pub modules: Vec<String>,
    pub key_files: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct ControlView {
    pub control: String,
    pub findings: Vec<String>,
    pub prevent: String,
    pub detect: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct ActionView {
    pub step: u32,
    pub phase: &'static str,
    pub action: &'static str,
    pub raci_activity: &'static str,
    pub status: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct RaciView {
    pub table: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<RaciRow>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RaciRow {
    pub activity: &'static str,
    pub roles: Vec<&'static str>,
}

#[derive(Serialize, Debug, Clone)]
pub struct MetricView {
    pub name: &'static str,
    pub target: &'static str,
    pub from_event: &'static str,
    pub from: String,
    pub to_event: &'static str,
    pub to: String,
    pub verdict: &'static str,
    pub elapsed: String,
    pub reason: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct NoticeView {
    pub key_id: String,
    pub compromise_date: String,
    pub compromise_date_source: &'static str,
    pub discovery_date: String,
    pub key_revoked: String,
    pub new_key_generated: String,
    pub modules_resigned: String,
    pub notified: String,
    pub recovered: String,
    pub new_key_id: String,
    pub cutoff: String,
}

/// The whole template context.
#[derive(Serialize, Debug, Clone)]
pub struct ReportContext {
    pub tool: String,
    pub evidence_tool: String,
    pub bundle_digest: String,
    pub integrity: IntegrityView,
    pub collected_at: String,
    /// The collected case file's SHA-256 and path (the source of the declared times), or
    /// "unknown" when the case was described by flags only.
    pub case_file_sha256: String,
    pub case_file_path: String,
    pub case: CaseView,
    pub times: Vec<DeclaredTimeView>,
    pub items: Vec<ItemView>,
    pub not_collected: Vec<(String, String)>,
    pub findings: Vec<FindingView>,
    pub modules: Vec<ModuleView>,
    pub keys: Vec<KeyView>,
    pub controls: Vec<ControlView>,
    pub actions: Vec<ActionView>,
    pub raci: Option<RaciView>,
    pub metrics: Vec<MetricView>,
    pub notice: NoticeView,
    pub timeline: Vec<TimelineEvent>,
}

/// Collects key ids from an analyser's JSON without relying on its exact shape: any string (or
/// list of strings) under a field named like `key_id` (`key_id` in wasm signature verdicts,
/// `wsc_key_id` in key-file analyses).
fn key_ids_in(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m {
                let kl = k.to_ascii_lowercase();
                if matches!(
                    kl.as_str(),
                    "key_id" | "keyid" | "key_ids" | "keyids" | "wsc_key_id"
                ) {
                    match val {
                        serde_json::Value::String(s) if !s.is_empty() => {
                            out.insert(s.to_ascii_lowercase());
                        }
                        serde_json::Value::Array(a) => {
                            for s in a.iter().filter_map(|x| x.as_str()) {
                                out.insert(s.to_ascii_lowercase());
                            }
                        }
                        _ => {}
                    }
                } else {
                    key_ids_in(val, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| key_ids_in(x, out)),
        _ => {}
    }
}

/// For a module analysed by the wasm decoder: (key id, verdict word) of every signature that a
/// known key made (`valid`, `partial` or `invalid`), from `module.signature.verdicts`.
fn module_signature_verdicts(item: &EvidenceItem) -> Vec<(String, String)> {
    item.analysis
        .signature_verdicts()
        .iter()
        .filter(|v| v.verdict.names_a_key())
        .filter_map(|v| {
            let key = v.key.as_ref()?;
            Some((key.to_ascii_lowercase(), v.verdict.as_str().to_owned()))
        })
        .collect()
}

fn item_key_ids(item: &EvidenceItem) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    key_ids_in(&item.analysis.to_json(), &mut s);
    s
}

/// Findings about an item: its own, plus case-level findings that name it in `related`.
fn findings_about<'e>(ev: &'e Evidence, item: &'e EvidenceItem) -> Vec<&'e Finding> {
    let mut all: Vec<&Finding> = item.findings.iter().collect();
    for (carrier, f) in ev.all_findings() {
        let is_own = carrier.is_some_and(|c| std::ptr::eq(c, item));
        if !is_own && f.related.contains(&item.sha256) {
            all.push(f);
        }
    }
    all
}

/// The failed control a finding points to, and what would have prevented or detected it.
/// Codes come from the analysers; unknown codes still name a control by their code.
fn control_for(code: &str) -> (String, &'static str, &'static str) {
    let c = code.to_ascii_lowercase();
    let has = |w: &str| c.contains(w);
    if has("permission") || has("readable") || has("world") || has("mode") {
        (
            "Secret key file access control".into(),
            "Secret keys kept 0600 (or in an HSM/offline store) and checked by policy",
            "A periodic stat audit of key directories alerting on group/other access",
        )
    } else if has("baseline") || has("changed") || has("differs") || has("key-file") {
        (
            "Key file integrity baseline".into(),
            "Key files write-protected after generation",
            "Comparing key files against a stored SHA-256 baseline on every run",
        )
    } else if has("secret-key") {
        (
            "Secret key storage".into(),
            "Signing keys kept in an HSM or an offline store, never as files on build hosts",
            "Regular sweeps for secret key files outside the key store",
        )
    } else if has("window") || has("compromis") || has("blocklist") || has("revoked") {
        (
            "Signing key custody and revocation".into(),
            "Signing keys held offline or in an HSM, with signing limited to the release pipeline",
            "Monitoring signatures made with each key and blocking revoked keys at verification",
        )
    } else if has("rekor")
        || has("transparency")
        || has("inclusion")
        || has("checkpoint")
        || has("set")
    {
        (
            "Transparency-log verification".into(),
            "Verifiers that require a matching, verified Rekor entry",
            "Monitoring the transparency log for entries made with the project's identities",
        )
    } else if has("cert") || has("fulcio") || has("identity") || has("keyless") {
        (
            "Keyless identity and certificate checks".into(),
            "Pinning the expected signer identity and issuer at verification",
            "Alerting on certificates issued to unexpected identities",
        )
    } else if has("tamper")
        || has("cover")
        || has("signature")
        || has("hash")
        || has("unsigned")
        || has("appended")
    {
        (
            "Module signature verification before deployment".into(),
            "Full-module signature verification enforced at every deployment point",
            "Re-verifying deployed modules against their signatures on a schedule",
        )
    } else {
        (
            format!("Control covering finding `{code}`"),
            "unknown",
            "unknown",
        )
    }
}

fn raci_for(t: IncidentType) -> RaciView {
    let r = |activity, roles: [&'static str; 3]| RaciRow {
        activity,
        roles: roles.to_vec(),
    };
    match t {
        IncidentType::KeyCompromise | IncidentType::MaliciousModule => RaciView {
            table: "Deployment Incidents",
            columns: vec!["WSC Maintainers", "System Integrator", "End User"],
            rows: vec![
                r("Detect signing key compromise", ["C", "R/A", "I"]),
                r("Revoke compromised key", ["C", "R/A", "I"]),
                r("Generate new key", ["I", "R/A", "I"]),
                r("Re-sign affected modules", ["I", "R/A", "I"]),
                r("Update trust bundles", ["I", "R/A", "I"]),
                r("Notify downstream users", ["I", "R/A", "I"]),
            ],
        },
        IncidentType::SigstoreCompromise => RaciView {
            table: "Sigstore Incidents",
            columns: vec!["WSC Maintainers", "Sigstore Team", "System Integrator"],
            rows: vec![
                r("Detect Sigstore compromise", ["I", "R/A", "C"]),
                r("Publish advisory", ["I", "R/A", "I"]),
                r("Switch to offline mode", ["I", "I", "R/A"]),
                r("Audit affected signatures", ["C", "C", "R/A"]),
            ],
        },
        IncidentType::DependencyVulnerability => RaciView {
            table: "WSC Project Incidents",
            columns: vec!["WSC Maintainers", "System Integrator", "End User"],
            rows: vec![
                r("Detect WSC vulnerability", ["R/A", "C", "I"]),
                r("Patch WSC code", ["R/A", "I", "I"]),
                r("Release security advisory", ["R/A", "I", "I"]),
                r("Update WSC dependency", ["I", "R/A", "I"]),
                r("Regression test", ["I", "R/A", "I"]),
            ],
        },
    }
}

/// The runbook's numbered actions for an incident type: (phase, action, RACI activity, the
/// declared time that records it being done).
fn runbook_actions(
    t: IncidentType,
) -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
)> {
    match t {
        IncidentType::KeyCompromise => vec![
            (
                "Immediate",
                "Isolate the key",
                "Revoke compromised key",
                Some("contained"),
            ),
            (
                "Immediate",
                "Identify scope (every module signed with the key)",
                "Detect signing key compromise",
                Some("detected"),
            ),
            (
                "Immediate",
                "Notify stakeholders",
                "Notify downstream users",
                Some("notified"),
            ),
            (
                "Recovery",
                "Generate replacement key",
                "Generate new key",
                Some("new_key_generated"),
            ),
            (
                "Recovery",
                "Re-sign affected modules",
                "Re-sign affected modules",
                Some("modules_resigned"),
            ),
            (
                "Recovery",
                "Update trust bundles (add new key, remove compromised key)",
                "Update trust bundles",
                Some("key_revoked"),
            ),
            (
                "Recovery",
                "Forensic analysis (access, what was signed, timeline)",
                "",
                None,
            ),
        ],
        IncidentType::MaliciousModule => vec![
            ("Immediate", "Quarantine the module", "", Some("contained")),
            ("Immediate", "Extract signature information", "", None),
            ("Immediate", "Check Rekor for the signing record", "", None),
            (
                "Immediate",
                "Block the signing identity",
                "Revoke compromised key",
                Some("key_revoked"),
            ),
            (
                "Recovery",
                "Notify affected parties",
                "Notify downstream users",
                Some("notified"),
            ),
            ("Recovery", "Publish advisory", "", None),
        ],
        IncidentType::SigstoreCompromise => vec![
            (
                "Immediate",
                "Switch to offline verification",
                "Switch to offline mode",
                Some("contained"),
            ),
            (
                "Immediate",
                "Audit recent signatures",
                "Audit affected signatures",
                None,
            ),
            ("Immediate", "Monitor Sigstore advisories", "", None),
            (
                "Recovery",
                "Wait for Sigstore all-clear",
                "",
                Some("recovered"),
            ),
            (
                "Recovery",
                "Re-verify affected modules if needed",
                "Audit affected signatures",
                None,
            ),
            (
                "Recovery",
                "Update certificate pins if root rotated",
                "",
                None,
            ),
        ],
        IncidentType::DependencyVulnerability => vec![
            (
                "Assessment",
                "Check if WSC is affected",
                "Detect WSC vulnerability",
                Some("detected"),
            ),
            ("Assessment", "Severity assessment", "", None),
            (
                "Mitigation",
                "Update dependency",
                "Update WSC dependency",
                Some("contained"),
            ),
            (
                "Mitigation",
                "Release patch version",
                "Patch WSC code",
                Some("recovered"),
            ),
            (
                "Mitigation",
                "Notify users",
                "Release security advisory",
                Some("notified"),
            ),
        ],
    }
}

/// Builds the template context from the report input.
pub fn build(input: &ReportInput<'_>) -> ReportContext {
    let ev = input.evidence;
    let case = &ev.case;

    let (incident_type, incident_type_source) = match case.incident_type {
        Some(t) => (Some(t), "case file"),
        None => {
            // The incident type most findings point to (ties → the lower INC number).
            let mut counts: BTreeMap<IncidentType, usize> = BTreeMap::new();
            for (_, f) in ev.all_findings() {
                if let Some(t) = f.incident_type {
                    *counts.entry(t).or_default() += 1;
                }
            }
            let best = counts
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(t, _)| *t);
            match best {
                Some(t) => (Some(t), "findings"),
                None => (None, "unknown"),
            }
        }
    };
    let (severity, severity_source): (Option<Severity>, &'static str) = match case.severity {
        Some(s) => (Some(s), "case file"),
        None => match ev.max_severity() {
            Some(s) => (Some(s), "highest finding"),
            None => (None, "unknown"),
        },
    };

    let compromised: BTreeSet<String> = case
        .keys
        .compromised
        .iter()
        .map(|k| k.trim().to_ascii_lowercase())
        .collect();
    let compromise_start = case
        .window
        .as_ref()
        .map(|w| (w.from, "compromise window start"))
        .or(case
            .times
            .compromise_estimated
            .map(|t| (t, "estimated compromise time")));

    let case_view = CaseView {
        case_id: if case.case_id.trim().is_empty() {
            UNKNOWN.into()
        } else {
            case.case_id.clone()
        },
        title: or_unknown(&case.title),
        examiner: or_unknown(&case.examiner),
        organization: or_unknown(&case.organization),
        incident_type: incident_type.map_or(UNKNOWN.into(), |t| t.code().into()),
        incident_title: incident_type.map_or(UNKNOWN.into(), |t| t.title().into()),
        incident_type_source,
        severity: severity.map_or(UNKNOWN.into(), |s| s.to_string()),
        severity_source,
        response_time: severity.map_or(UNKNOWN.into(), |s| s.response_time().into()),
        summary: case.summary.clone().filter(|s| !s.trim().is_empty()),
        root_cause: case.root_cause.clone().filter(|s| !s.trim().is_empty()),
        notes: case.notes.clone().filter(|s| !s.trim().is_empty()),
        open_items: case.open_items.clone(),
        window_from: when(case.window.as_ref().map(|w| w.from)),
        window_to: when(case.window.as_ref().and_then(|w| w.to)),
        compromised_keys: case.keys.compromised.clone(),
        revoked_keys: case.keys.revoked.clone(),
        replacement_key: or_unknown(&case.keys.replacement),
    };

    let times = case
        .times
        .entries()
        .into_iter()
        .map(|(name, description, at)| DeclaredTimeView {
            name,
            description,
            at: when(at),
            known: at.is_some(),
        })
        .collect();

    let items = ev
        .items
        .iter()
        .map(|i| ItemView {
            sha256: i.sha256.to_hex(),
            path: i.source.text.clone(),
            kind: kind_name(i.kind),
            size: i.size,
            bag_path: i.bag_path.clone().unwrap_or_else(|| "not copied".into()),
            finding_count: i.findings.len(),
        })
        .collect();

    let mut sorted: Vec<_> = ev.all_findings().collect();
    sorted.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    let findings: Vec<FindingView> = sorted
        .into_iter()
        .map(|(item, f)| FindingView {
            code: f.code.clone(),
            severity: f.severity.to_string(),
            incident_type: f.incident_type.map_or(String::new(), |t| t.code().into()),
            message: f.message.clone(),
            item_sha256: item.map_or("case".into(), |i| i.sha256.to_hex()),
            item_path: item.map_or(String::new(), |i| i.source.text.clone()),
            related: f.related.iter().map(|d| d.to_hex()).collect(),
        })
        .collect();

    // Modules and the keys that signed them.
    let mut modules = Vec::new();
    let mut key_map: BTreeMap<String, KeyView> = BTreeMap::new();
    let key_entry = |id: &str| -> String { id.trim().to_ascii_lowercase() };
    for k in &case.keys.compromised {
        let id = key_entry(k);
        key_map
            .entry(id.clone())
            .or_insert_with(|| KeyView {
                key_id: id,
                roles: vec![],
                modules: vec![],
                key_files: vec![],
            })
            .roles
            .push("compromised");
    }
    for k in &case.keys.revoked {
        let id = key_entry(k);
        key_map
            .entry(id.clone())
            .or_insert_with(|| KeyView {
                key_id: id,
                roles: vec![],
                modules: vec![],
                key_files: vec![],
            })
            .roles
            .push("revoked");
    }
    if let Some(k) = &case.keys.replacement {
        let id = key_entry(k);
        key_map
            .entry(id.clone())
            .or_insert_with(|| KeyView {
                key_id: id,
                roles: vec![],
                modules: vec![],
                key_files: vec![],
            })
            .roles
            .push("replacement");
    }
    for item in &ev.items {
        let mut ids = item_key_ids(item);
        match item.kind {
            ItemKind::Module => {
                // The decoder's verdicts say which known keys really made a signature (a key id
                // in a signature is only a claim, and signatures may carry none).
                let sig_verdicts = module_signature_verdicts(item);
                if !sig_verdicts.is_empty() {
                    ids = sig_verdicts.iter().map(|(k, _)| k.clone()).collect();
                }
                let about = findings_about(ev, item);
                let signed_by_compromised = ids.iter().any(|k| compromised.contains(k));
                let serious = about.iter().any(|f| f.severity >= Severity::High);
                let sign_time = item
                    .times
                    .iter()
                    .filter(|t| t.event_type.contains("sign") || t.event_type.contains("rekor"))
                    .map(|t| (t.at, t.description.clone()))
                    .min_by_key(|(at, _)| *at)
                    .unwrap_or((
                        item.stat_before.mtime,
                        "file mtime; wsc signatures carry no signing time".into(),
                    ));
                let relative = match compromise_start {
                    Some((start, _)) if sign_time.0 >= start => "after",
                    Some(_) => "before",
                    None => "unknown",
                };
                // The runbook: modules signed by the key after the compromise are not to be
                // trusted; those signed before are believed unaffected (but still re-verified).
                let compromised_after = signed_by_compromised && relative != "before";
                let verdict = if serious || compromised_after {
                    ModuleVerdict::Suspect
                } else if !about.is_empty() || signed_by_compromised {
                    ModuleVerdict::Review
                } else {
                    ModuleVerdict::NoFindings
                };
                let mut reasons: Vec<String> = about
                    .iter()
                    .map(|f| format!("{} ({})", f.code, f.severity))
                    .collect();
                if compromised_after {
                    reasons.insert(
                        0,
                        "signed by a compromised key after the compromise began".into(),
                    );
                } else if signed_by_compromised {
                    reasons.insert(0, "signed by a compromised key before the compromise began (believed unaffected)".into());
                }
                let signatures = if sig_verdicts.is_empty() {
                    String::new()
                } else {
                    let list: Vec<String> = sig_verdicts
                        .iter()
                        .map(|(k, v)| format!("{k} {v}"))
                        .collect();
                    format!("signatures: {}. ", list.join(", "))
                };
                let verdict_text = match verdict {
                    ModuleVerdict::Suspect => {
                        format!("{signatures}suspect: {}", reasons.join("; "))
                    }
                    ModuleVerdict::Review => format!("{signatures}review: {}", reasons.join("; ")),
                    ModuleVerdict::NoFindings => format!("{signatures}no findings"),
                };
                for k in &ids {
                    key_map
                        .entry(k.clone())
                        .or_insert_with(|| KeyView {
                            key_id: k.clone(),
                            roles: vec![],
                            modules: vec![],
                            key_files: vec![],
                        })
                        .modules
                        .push(item.sha256.to_hex());
                }
                modules.push(ModuleView {
                    sha256: item.sha256.to_hex(),
                    path: item.source.text.clone(),
                    signed_by: ids.iter().cloned().collect(),
                    signed_by_compromised_key: signed_by_compromised,
                    verdict,
                    verdict_text,
                    findings: about.iter().map(|f| f.code.clone()).collect(),
                    signing_time: iso_utc(sign_time.0),
                    signing_time_source: sign_time.1,
                    relative_to_compromise: relative,
                });
            }
            ItemKind::PublicKey | ItemKind::SecretKey => {
                for k in &ids {
                    let kv = key_map.entry(k.clone()).or_insert_with(|| KeyView {
                        key_id: k.clone(),
                        roles: vec![],
                        modules: vec![],
                        key_files: vec![],
                    });
                    kv.key_files.push(item.sha256.to_hex());
                }
            }
            _ => {}
        }
    }
    for kv in key_map.values_mut() {
        if kv.roles.is_empty() {
            kv.roles.push("seen in evidence");
        }
    }
    let keys: Vec<KeyView> = key_map.into_values().collect();

    // Failed controls, one per control with every finding that points to it.
    let mut controls: BTreeMap<String, ControlView> = BTreeMap::new();
    for (_, f) in ev.all_findings() {
        let (control, prevent, detect) = control_for(&f.code);
        let c = controls.entry(control.clone()).or_insert(ControlView {
            control,
            findings: vec![],
            prevent: prevent.into(),
            detect: detect.into(),
        });
        if !c.findings.contains(&f.code) {
            c.findings.push(f.code.clone());
        }
    }

    let declared = |name: &str| {
        case.times
            .entries()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .and_then(|(_, _, t)| t)
    };
    let actions = incident_type
        .map(|t| {
            runbook_actions(t)
                .into_iter()
                .enumerate()
                .map(|(i, (phase, action, raci_activity, time))| ActionView {
                    step: i as u32 + 1,
                    phase,
                    action,
                    raci_activity,
                    status: match time {
                        Some(name) => match declared(name) {
                            Some(at) => format!("done {} ({name})", iso_utc(at)),
                            None => format!("not recorded (no {name} time)"),
                        },
                        None => "not recorded".into(),
                    },
                })
                .collect()
        })
        .unwrap_or_default();

    let metrics = metrics::compute_all(&case.times)
        .iter()
        .map(metric_view)
        .collect();

    let notice = NoticeView {
        key_id: if case.keys.compromised.is_empty() {
            UNKNOWN.into()
        } else {
            case.keys.compromised.join(", ")
        },
        compromise_date: when(
            case.times
                .compromise_estimated
                .or(case.window.as_ref().map(|w| w.from)),
        ),
        compromise_date_source: if case.times.compromise_estimated.is_some() {
            "compromise_estimated"
        } else if case.window.is_some() {
            "window.from"
        } else {
            "unknown"
        },
        discovery_date: when(case.times.detected),
        key_revoked: when(case.times.key_revoked),
        new_key_generated: when(case.times.new_key_generated),
        modules_resigned: when(case.times.modules_resigned),
        notified: when(case.times.notified),
        recovered: when(case.times.recovered),
        new_key_id: or_unknown(&case.keys.replacement),
        cutoff: when(compromise_start.map(|(t, _)| t)),
    };

    let case_file = ev.items.iter().find(|i| i.kind == ItemKind::CaseFile);

    let not_collected = ev
        .not_collected
        .iter()
        .map(|n| (n.path.text.clone(), n.reason.clone()))
        .collect();

    ReportContext {
        tool: format!("{} {}", crate::TOOL_NAME, crate::TOOL_VERSION),
        evidence_tool: format!("{} {}", ev.tool.name, ev.tool.version),
        bundle_digest: input.bundle_digest.to_hex(),
        integrity: match input.integrity {
            Integrity::Intact => IntegrityView {
                intact: true,
                problems: vec![],
                statement: "verified intact".into(),
            },
            Integrity::Proven { statement } => IntegrityView {
                intact: true,
                problems: vec![],
                statement: statement.clone(),
            },
            Integrity::Altered { problems } => IntegrityView {
                intact: false,
                problems: problems.clone(),
                statement: "FAILED verification".into(),
            },
        },
        collected_at: iso_utc(ev.collected_at),
        case_file_sha256: case_file.map_or(UNKNOWN.into(), |i| i.sha256.to_hex()),
        case_file_path: case_file.map_or(UNKNOWN.into(), |i| i.source.text.clone()),
        case: case_view,
        times,
        items,
        not_collected,
        findings,
        modules,
        keys,
        controls: controls.into_values().collect(),
        actions,
        raci: incident_type.map(raci_for),
        metrics,
        notice,
        timeline: timeline::build(ev, input.custody),
    }
}

fn metric_view(m: &Metric) -> MetricView {
    let (elapsed, reason) = match &m.verdict {
        MetricVerdict::Met { elapsed_seconds } | MetricVerdict::Missed { elapsed_seconds } => {
            (metrics::human_duration(*elapsed_seconds), String::new())
        }
        MetricVerdict::Unknown { reason } => (UNKNOWN.into(), reason.clone()),
    };
    MetricView {
        name: m.kind.title(),
        target: m.kind.target_text(),
        from_event: m.from_event,
        from: when(m.from),
        to_event: m.to_event,
        to: when(m.to),
        verdict: m.verdict.label(),
        elapsed,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_incident_type_gets_its_runbook_raci_table_and_actions() {
        let cases = [
            (
                IncidentType::KeyCompromise,
                "Deployment Incidents",
                7,
                "Isolate the key",
            ),
            (
                IncidentType::MaliciousModule,
                "Deployment Incidents",
                6,
                "Quarantine the module",
            ),
            (
                IncidentType::SigstoreCompromise,
                "Sigstore Incidents",
                6,
                "Switch to offline verification",
            ),
            (
                IncidentType::DependencyVulnerability,
                "WSC Project Incidents",
                5,
                "Check if WSC is affected",
            ),
        ];
        for (t, table, n, first) in cases {
            let raci = raci_for(t);
            assert_eq!(raci.table, table);
            assert!(raci
                .rows
                .iter()
                .all(|r| r.roles.len() == raci.columns.len()));
            let actions = runbook_actions(t);
            assert_eq!(actions.len(), n, "{t}");
            assert_eq!(actions[0].1, first);
        }
        // Sigstore: the integrator is R/A for switching to offline mode.
        let s = raci_for(IncidentType::SigstoreCompromise);
        let row = s
            .rows
            .iter()
            .find(|r| r.activity == "Switch to offline mode")
            .unwrap();
        assert_eq!(row.roles, ["I", "I", "R/A"]);
    }

    #[test]
    fn key_ids_are_read_leniently_from_analyser_json() {
        let module = serde_json::json!({
            "signatures": [
                {"set_index": 0, "key_id": "C858D5EC82D976C190CB33D0", "verdict": "valid", "key": "c858d5ec82d976c190cb33d0"},
                {"set_index": 0, "key_id": null, "verdict": "other-key"}
            ],
            "keyless": {"nested": [{"key_ids": ["465c5341001f3e570f784f71"]}]}
        });
        let mut ids = BTreeSet::new();
        key_ids_in(&module, &mut ids);
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            ["465c5341001f3e570f784f71", "c858d5ec82d976c190cb33d0"]
        );
        let key_file =
            serde_json::json!({"format": "wsc-raw", "wsc_key_id": "465c5341001f3e570f784f71"});
        let mut ids = BTreeSet::new();
        key_ids_in(&key_file, &mut ids);
        assert_eq!(ids.len(), 1);
        let mut none = BTreeSet::new();
        key_ids_in(
            &serde_json::json!({"analyser": "basic", "size": 3}),
            &mut none,
        );
        assert!(none.is_empty());
    }
}
