//! Evidence → template context: the plain, serialisable facts every report template reads
//! (case, integrity, timeline, impact, controls, actions and RACI, metrics, notice fields).
//! Values stay raw here; escaping happens when a template prints them.

use super::metrics::{self, Metric, MetricVerdict};
use super::runbook::{RaciTable, Runbook};
use super::Integrity;
use crate::model::case::CaseInfo;
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
    pub phase: String,
    pub action: String,
    pub raci_activity: String,
    pub status: String,
}

#[derive(Serialize, Debug, Clone)]
pub struct RaciView {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<RaciRow>,
}

#[derive(Serialize, Debug, Clone)]
pub struct RaciRow {
    pub activity: String,
    pub roles: Vec<String>,
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
    item.analysis.value()["module"]["signature"]["verdicts"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter_map(|v| {
                    let key = v["key"].as_str()?;
                    let verdict = v["verdict"].as_str()?;
                    matches!(verdict, "valid" | "partial" | "invalid")
                        .then(|| (key.to_ascii_lowercase(), verdict.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn item_key_ids(item: &EvidenceItem) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    key_ids_in(&item.analysis.value(), &mut s);
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

/// The failed control a finding points to, and what would have prevented or detected it. A code
/// the runbook's control table does not claim still names a control by its code.
fn control_for(runbook: &Runbook, code: &str) -> (String, String, String) {
    match runbook.control_for(code) {
        Some(c) => (c.control.clone(), c.prevent.clone(), c.detect.clone()),
        None => (
            format!("Control covering finding `{code}`"),
            UNKNOWN.into(),
            UNKNOWN.into(),
        ),
    }
}

fn raci_view(t: &RaciTable) -> RaciView {
    RaciView {
        table: t.table.clone(),
        columns: t.columns.clone(),
        rows: t
            .rows
            .iter()
            .map(|r| RaciRow {
                activity: r.activity.clone(),
                roles: r.roles.clone(),
            })
            .collect(),
    }
}

/// The incident type and where it came from: the case file, else the type most findings point
/// to (ties → the lower INC number).
fn incident_type_of(ev: &Evidence) -> (Option<IncidentType>, &'static str) {
    if let Some(t) = ev.case.incident_type {
        return (Some(t), "case file");
    }
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

/// The severity and where it came from: the case file, else the highest finding.
fn severity_of(ev: &Evidence) -> (Option<Severity>, &'static str) {
    match ev.case.severity {
        Some(s) => (Some(s), "case file"),
        None => match ev.max_severity() {
            Some(s) => (Some(s), "highest finding"),
            None => (None, "unknown"),
        },
    }
}

/// What the case file says about the compromise: the compromised key ids (lower-case) and when
/// it began, with what that time is.
struct Compromise {
    keys: BTreeSet<String>,
    start: Option<(DateTime<Utc>, &'static str)>,
}

impl Compromise {
    fn of(case: &CaseInfo) -> Self {
        Compromise {
            keys: case.keys.compromised.iter().map(|k| key_id(k)).collect(),
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

fn key_id(k: &str) -> String {
    k.trim().to_ascii_lowercase()
}

fn case_view(
    case: &CaseInfo,
    (incident_type, incident_type_source): (Option<IncidentType>, &'static str),
    (severity, severity_source): (Option<Severity>, &'static str),
) -> CaseView {
    CaseView {
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
    }
}

fn declared_time_views(case: &CaseInfo) -> Vec<DeclaredTimeView> {
    case.times
        .entries()
        .into_iter()
        .map(|(name, description, at)| DeclaredTimeView {
            name,
            description,
            at: when(at),
            known: at.is_some(),
        })
        .collect()
}

fn item_views(ev: &Evidence) -> Vec<ItemView> {
    ev.items
        .iter()
        .map(|i| ItemView {
            sha256: i.sha256.to_hex(),
            path: i.source.text.clone(),
            kind: kind_name(i.kind),
            size: i.size,
            bag_path: i.bag_path.clone().unwrap_or_else(|| "not copied".into()),
            finding_count: i.findings.len(),
        })
        .collect()
}

/// Every finding, most severe first (stable: evidence order within a severity).
fn finding_views(ev: &Evidence) -> Vec<FindingView> {
    let mut sorted: Vec<_> = ev.all_findings().collect();
    sorted.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    sorted
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
        .collect()
}

/// The keys of a case, by lower-case key id, as they are found.
#[derive(Default)]
struct KeyMap(BTreeMap<String, KeyView>);

impl KeyMap {
    fn entry(&mut self, id: &str) -> &mut KeyView {
        self.0.entry(id.to_owned()).or_insert_with(|| KeyView {
            key_id: id.to_owned(),
            roles: vec![],
            modules: vec![],
            key_files: vec![],
        })
    }

    /// The keys the case file names, with their declared roles.
    fn declared(case: &CaseInfo) -> Self {
        let mut m = KeyMap::default();
        for k in &case.keys.compromised {
            m.entry(&key_id(k)).roles.push("compromised");
        }
        for k in &case.keys.revoked {
            m.entry(&key_id(k)).roles.push("revoked");
        }
        if let Some(k) = &case.keys.replacement {
            m.entry(&key_id(k)).roles.push("replacement");
        }
        m
    }

    fn finish(mut self) -> Vec<KeyView> {
        for kv in self.0.values_mut() {
            if kv.roles.is_empty() {
                kv.roles.push("seen in evidence");
            }
        }
        self.0.into_values().collect()
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

/// What the report concludes about one module signed by `ids`.
fn module_view(
    ev: &Evidence,
    item: &EvidenceItem,
    ids: &BTreeSet<String>,
    sig_verdicts: &[(String, String)],
    compromise: &Compromise,
) -> ModuleView {
    let about = findings_about(ev, item);
    let signed_by_compromised = ids.iter().any(|k| compromise.keys.contains(k));
    let serious = about.iter().any(|f| f.severity >= Severity::High);
    let sign_time = signing_time(item);
    let relative = match compromise.start {
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
        reasons.insert(
            0,
            "signed by a compromised key before the compromise began (believed unaffected)".into(),
        );
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
        ModuleVerdict::Suspect => format!("{signatures}suspect: {}", reasons.join("; ")),
        ModuleVerdict::Review => format!("{signatures}review: {}", reasons.join("; ")),
        ModuleVerdict::NoFindings => format!("{signatures}no findings"),
    };
    ModuleView {
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
    }
}

/// Every module with what the report concludes about it, and every key with the modules it
/// signed and the key files that hold it.
fn modules_and_keys(ev: &Evidence, compromise: &Compromise) -> (Vec<ModuleView>, Vec<KeyView>) {
    let mut modules = Vec::new();
    let mut keys = KeyMap::declared(&ev.case);
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
                for k in &ids {
                    keys.entry(k).modules.push(item.sha256.to_hex());
                }
                modules.push(module_view(ev, item, &ids, &sig_verdicts, compromise));
            }
            ItemKind::PublicKey | ItemKind::SecretKey => {
                for k in &ids {
                    keys.entry(k).key_files.push(item.sha256.to_hex());
                }
            }
            _ => {}
        }
    }
    (modules, keys.finish())
}

/// Failed controls, one per control with every finding code that points to it.
fn control_views(ev: &Evidence, runbook: &Runbook) -> Vec<ControlView> {
    let mut controls: BTreeMap<String, ControlView> = BTreeMap::new();
    for (_, f) in ev.all_findings() {
        let (control, prevent, detect) = control_for(runbook, &f.code);
        let c = controls.entry(control.clone()).or_insert(ControlView {
            control,
            findings: vec![],
            prevent,
            detect,
        });
        if !c.findings.contains(&f.code) {
            c.findings.push(f.code.clone());
        }
    }
    controls.into_values().collect()
}

/// The runbook's actions for the incident type, each with what the case file records of it.
fn action_views(
    case: &CaseInfo,
    incident_type: Option<IncidentType>,
    runbook: &Runbook,
) -> Vec<ActionView> {
    let declared = |name: &str| {
        case.times
            .entries()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .and_then(|(_, _, t)| t)
    };
    let Some(t) = incident_type else {
        return Vec::new();
    };
    runbook
        .actions_for(t)
        .iter()
        .enumerate()
        .map(|(i, a)| ActionView {
            step: i as u32 + 1,
            phase: a.phase.clone(),
            action: a.action.clone(),
            raci_activity: a.raci_activity.clone(),
            status: match &a.declared_time {
                Some(name) => match declared(name) {
                    Some(at) => format!("done {} ({name})", iso_utc(at)),
                    None => format!("not recorded (no {name} time)"),
                },
                None => "not recorded".into(),
            },
        })
        .collect()
}

fn notice_view(case: &CaseInfo, compromise: &Compromise) -> NoticeView {
    NoticeView {
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
        cutoff: when(compromise.start.map(|(t, _)| t)),
    }
}

fn integrity_view(i: &Integrity) -> IntegrityView {
    match i {
        Integrity::Intact => IntegrityView {
            intact: true,
            problems: vec![],
        },
        Integrity::Altered { problems } => IntegrityView {
            intact: false,
            problems: problems.clone(),
        },
    }
}

/// Builds the template context from the report input and the runbook's tables.
pub fn build(input: &ReportInput<'_>, runbook: &Runbook) -> ReportContext {
    let ev = input.evidence;
    let case = &ev.case;
    let incident = incident_type_of(ev);
    let compromise = Compromise::of(case);
    let (modules, keys) = modules_and_keys(ev, &compromise);
    let case_file = ev.items.iter().find(|i| i.kind == ItemKind::CaseFile);
    ReportContext {
        tool: format!("{} {}", crate::TOOL_NAME, crate::TOOL_VERSION),
        evidence_tool: format!("{} {}", ev.tool.name, ev.tool.version),
        bundle_digest: input.bundle_digest.to_hex(),
        integrity: integrity_view(input.integrity),
        collected_at: iso_utc(ev.collected_at),
        case_file_sha256: case_file.map_or(UNKNOWN.into(), |i| i.sha256.to_hex()),
        case_file_path: case_file.map_or(UNKNOWN.into(), |i| i.source.text.clone()),
        case: case_view(case, incident, severity_of(ev)),
        times: declared_time_views(case),
        items: item_views(ev),
        not_collected: ev
            .not_collected
            .iter()
            .map(|n| (n.path.text.clone(), n.reason.clone()))
            .collect(),
        findings: finding_views(ev),
        modules,
        keys,
        controls: control_views(ev, runbook),
        actions: action_views(case, incident.0, runbook),
        raci: incident.0.and_then(|t| runbook.raci_for(t)).map(raci_view),
        metrics: metrics::compute_all(&case.times)
            .iter()
            .map(metric_view)
            .collect(),
        notice: notice_view(case, &compromise),
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
