//! Evidence → template context: the plain, serialisable facts every report template reads
//! (case, integrity, timeline, impact, controls, actions and RACI, metrics, notice fields).
//! Values stay raw here; escaping happens when a template prints them.

use super::metrics::{self, Metric, MetricVerdict};
use super::runbook::{RaciTable, Runbook};
use super::Integrity;
use crate::analyse::assessment::{
    self, CompromiseFacts, KeyAssessment, ModuleAssessment, ModuleStatus,
};
use crate::model::case::CaseInfo;
use crate::model::custody::CustodyEvent;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Evidence, EvidenceItem, Finding, IncidentType, ItemKind, Severity};
use crate::timeline::{self, iso_utc, TimelineEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything a report is made from: the bundle's evidence and custody record, its digest, and
/// whether it passed verification.
#[derive(Clone, Copy, Debug)]
pub struct ReportInput<'a> {
    pub evidence: &'a Evidence,
    pub custody: &'a [CustodyEvent],
    pub bundle_digest: Sha256Digest,
    pub integrity: &'a Integrity,
    /// The trusted timestamp, as [`crate::bundle::verified::timestamp_statement`] says it.
    pub timestamp: &'a str,
    /// External documents (notice, advisory) also show local paths, the examiner and bundle
    /// internals (`report --internal`).
    pub internal: bool,
}

/// What an unknown fact is written as: the bundle does not record it.
const UNKNOWN: &str = "not recorded";
const NOT_RECORDED: &str = UNKNOWN;

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
    /// `E-001`, … in evidence order: what tables cite.
    pub number: String,
    /// The first 12 hex digits, for tables (the appendix gives the full hash).
    pub short: String,
    /// The file name without its directories (for external documents).
    pub file_name: String,
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
    /// The message's hex values of 40 digits or more, which tables print shortened.
    pub long_hex: Vec<String>,
    /// SHA-256 of the item carrying the finding, or "case" for a cross-item finding.
    pub item_sha256: String,
    /// Evidence number of that item (`E-001`), or "case".
    pub item: String,
    pub item_path: String,
    pub related: Vec<String>,
}

#[derive(Serialize, Debug, Clone)]
pub struct ModuleView {
    /// Evidence number (`E-001`) and short hash.
    pub item: String,
    pub short: String,
    pub file_name: String,
    pub sha256: String,
    pub path: String,
    pub signed_by: Vec<String>,
    pub signed_by_compromised_key: bool,
    /// The library's assessment ([`ModuleStatus`]), and whether users should stop trusting it.
    pub verdict: ModuleStatus,
    pub untrusted: bool,
    pub verdict_text: String,
    pub findings: Vec<String>,
    /// The time used to place the module before or after the compromise, and what it is.
    pub signing_time: String,
    pub signing_time_source: String,
    /// "after", "before" or "unknown" relative to the compromise start.
    pub relative_to_compromise: &'static str,
}

fn module_view(item: &EvidenceItem, a: &ModuleAssessment, n: &Numbers) -> ModuleView {
    ModuleView {
        item: n.of(&item.sha256),
        short: short(&item.sha256),
        file_name: file_name(&item.source.text),
        sha256: item.sha256.to_hex(),
        path: item.source.text.clone(),
        signed_by: a.signed_by.clone(),
        signed_by_compromised_key: a.signed_by_compromised_key,
        verdict: a.status,
        untrusted: a.status.untrusted(),
        verdict_text: a.summary.clone(),
        findings: a.findings.iter().map(|(c, _)| c.clone()).collect(),
        signing_time: iso_utc(a.signing_time),
        signing_time_source: a.signing_time_source.clone(),
        relative_to_compromise: a.placement.as_str(),
    }
}

fn key_view(k: &KeyAssessment, n: &Numbers) -> KeyView {
    KeyView {
        key_id: k.key_id.clone(),
        roles: k.roles.iter().map(|r| r.as_str()).collect(),
        modules: k.modules.iter().map(|d| n.of(d)).collect(),
        key_files: k.key_files.iter().map(|d| n.of(d)).collect(),
    }
}

/// Evidence numbers (`E-001`, …) by SHA-256, in evidence order.
struct Numbers(BTreeMap<Sha256Digest, String>);

impl Numbers {
    fn of_evidence(ev: &Evidence) -> Self {
        let mut m = BTreeMap::new();
        for (i, item) in ev.items.iter().enumerate() {
            m.entry(item.sha256)
                .or_insert_with(|| format!("E-{:03}", i + 1));
        }
        Numbers(m)
    }

    fn of(&self, d: &Sha256Digest) -> String {
        self.0.get(d).cloned().unwrap_or_else(|| short(d))
    }
}

fn short(d: &Sha256Digest) -> String {
    d.to_hex()[..12].to_owned()
}

fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

#[derive(Serialize, Debug, Clone)]
pub struct KeyView {
    pub key_id: String,
    pub roles: Vec<&'static str>,
    /// Evidence numbers of the modules it signed and the key files holding it.
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
    /// A key compromise is declared: INC-1, or compromised keys named in the case file.
    pub key_compromise: bool,
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
    pub new_public_key_file: String,
    pub cutoff: String,
    /// The declared times the notice cites, in time order; unrecorded ones omitted.
    pub timeline: Vec<TimeRow>,
}

/// The executive summary's counts, all from the findings, assessments and metrics.
#[derive(Serialize, Debug, Clone, Default)]
pub struct ExecView {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub modules: usize,
    pub modules_untrusted: usize,
    pub modules_resigned: usize,
    pub keys_compromised: usize,
    pub metrics_met: usize,
    pub metrics_missed: usize,
    pub metrics_unknown: usize,
}

fn exec_view(
    all: &[(Option<&EvidenceItem>, &Finding)],
    modules: &[ModuleView],
    compromise: &CompromiseFacts,
    metrics: &[MetricView],
) -> ExecView {
    let sev = |s: Severity| all.iter().filter(|(_, f)| f.severity == s).count();
    let verdicts = |v: &str| metrics.iter().filter(|m| m.verdict == v).count();
    ExecView {
        critical: sev(Severity::Critical),
        high: sev(Severity::High),
        medium: sev(Severity::Medium),
        low: sev(Severity::Low),
        modules: modules.len(),
        modules_untrusted: modules.iter().filter(|m| m.untrusted).count(),
        modules_resigned: modules
            .iter()
            .filter(|m| m.verdict == ModuleStatus::ReSigned)
            .count(),
        keys_compromised: compromise.compromised.len(),
        metrics_met: verdicts("met"),
        metrics_missed: verdicts("missed"),
        metrics_unknown: verdicts("unknown"),
    }
}

/// One dated line of a document's timeline.
#[derive(Serialize, Debug, Clone)]
pub struct TimeRow {
    pub at: String,
    pub what: String,
}

/// The `[disclosure]` facts of the case file, "not recorded" when absent.
#[derive(Serialize, Debug, Clone)]
pub struct DisclosureView {
    pub cve_ids: Vec<String>,
    pub affected_versions: Vec<String>,
    pub fixed_versions: Vec<String>,
    pub contact: String,
    pub tlp: String,
    pub distribution: Vec<String>,
    pub lessons_learned: Option<String>,
    /// The declared times the advisory cites, in time order; unrecorded ones omitted.
    pub timeline: Vec<TimeRow>,
}

/// The whole template context.
#[derive(Serialize, Debug, Clone)]
pub struct ReportContext {
    pub tool: String,
    pub evidence_tool: String,
    pub bundle_digest: String,
    pub integrity: IntegrityView,
    /// The trusted timestamp (RFC 3161) in one sentence, or "not recorded".
    pub timestamp: String,
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
    pub disclosure: DisclosureView,
    /// Whether external documents may show local paths, the examiner and bundle internals.
    pub internal: bool,
    /// Evidence number (`E-001`) by SHA-256 (hex).
    pub item_numbers: BTreeMap<String, String>,
    pub exec: ExecView,
    pub timeline: Vec<TimelineEvent>,
    /// The phase chart (drawn where a template writes `<!-- phase-chart -->`).
    #[serde(skip)]
    pub phase_chart: super::phase_chart::PhaseChart,
}

/// The failed control a finding points to (by its exact code in the runbook's control table),
/// and what would have prevented or detected it. A code the table does not list still names a
/// control by its code, and what would have helped is "not recorded".
fn control_for(runbook: &Runbook, code: &str) -> (String, String, String) {
    match runbook.control_for(code) {
        Some(c) => (c.control.clone(), c.prevent.clone(), c.detect.clone()),
        None => (
            format!("Control covering finding `{code}`"),
            NOT_RECORDED.into(),
            NOT_RECORDED.into(),
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

/// The declared times in time order; those not recorded follow, in runbook order.
fn declared_time_views(case: &CaseInfo) -> Vec<DeclaredTimeView> {
    let mut entries = case.times.entries();
    // Stable: equal times and the unrecorded keep the runbook's order.
    entries.sort_by_key(|(_, _, at)| (at.is_none(), *at));
    entries
        .into_iter()
        .map(|(name, description, at)| DeclaredTimeView {
            name,
            description,
            at: when(at),
            known: at.is_some(),
        })
        .collect()
}

/// Rows for the declared times named, in time order, unrecorded ones left out.
fn time_rows(case: &CaseInfo, wanted: &[(&str, &str)]) -> Vec<TimeRow> {
    let entries = case.times.entries();
    let mut rows: Vec<(DateTime<Utc>, &str)> = wanted
        .iter()
        .filter_map(|(name, what)| {
            let at = entries.iter().find(|(n, _, _)| n == name)?.2?;
            Some((at, *what))
        })
        .collect();
    rows.sort_by_key(|(at, _)| *at);
    rows.into_iter()
        .map(|(at, what)| TimeRow {
            at: iso_utc(at),
            what: what.to_owned(),
        })
        .collect()
}

fn item_views(ev: &Evidence, n: &Numbers) -> Vec<ItemView> {
    ev.items
        .iter()
        .map(|i| ItemView {
            number: n.of(&i.sha256),
            short: short(&i.sha256),
            file_name: file_name(&i.source.text),
            sha256: i.sha256.to_hex(),
            path: i.source.text.clone(),
            kind: kind_name(i.kind),
            size: i.size,
            bag_path: i.bag_path.clone().unwrap_or_else(|| "not copied".into()),
            finding_count: i.findings.len(),
        })
        .collect()
}

/// Every finding (the bundle's, then the report's sanity checks), most severe first (stable:
/// evidence order within a severity).
fn finding_views(all: &[(Option<&EvidenceItem>, &Finding)], n: &Numbers) -> Vec<FindingView> {
    let mut sorted: Vec<_> = all.to_vec();
    sorted.sort_by_key(|(_, f)| std::cmp::Reverse(f.severity));
    sorted
        .into_iter()
        .map(|(item, f)| FindingView {
            item: item.map_or("case".into(), |i| n.of(&i.sha256)),
            code: f.code.clone(),
            severity: f.severity.to_string(),
            incident_type: f.incident_type.map_or(String::new(), |t| t.code().into()),
            message: f.message.clone(),
            long_hex: super::templates::long_hex_runs(&f.message),
            item_sha256: item.map_or("case".into(), |i| i.sha256.to_hex()),
            item_path: item.map_or(String::new(), |i| i.source.text.clone()),
            related: f.related.iter().map(|d| d.to_hex()).collect(),
        })
        .collect()
}

/// Failed controls, one per control with every finding code that points to it.
fn control_views(all: &[(Option<&EvidenceItem>, &Finding)], runbook: &Runbook) -> Vec<ControlView> {
    let mut controls: BTreeMap<String, ControlView> = BTreeMap::new();
    for (_, f) in all {
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
            // A time only when the case file declares this very action's time.
            status: match a
                .declared_time
                .as_deref()
                .and_then(|name| Some((name, declared(name)?)))
            {
                Some((name, at)) => format!("done {} ({name})", iso_utc(at)),
                None => NOT_RECORDED.into(),
            },
        })
        .collect()
}

fn notice_view(
    case: &CaseInfo,
    compromise: &CompromiseFacts,
    incident_type: Option<IncidentType>,
) -> NoticeView {
    NoticeView {
        key_compromise: incident_type == Some(IncidentType::KeyCompromise)
            || !compromise.compromised.is_empty(),
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
            NOT_RECORDED
        },
        discovery_date: when(case.times.detected),
        key_revoked: when(case.times.key_revoked),
        new_key_generated: when(case.times.new_key_generated),
        modules_resigned: when(case.times.modules_resigned),
        notified: when(case.times.notified),
        recovered: when(case.times.recovered),
        new_key_id: or_unknown(&case.keys.replacement),
        new_public_key_file: or_unknown(&case.disclosure.new_public_key_file),
        cutoff: when(compromise.start.map(|(t, _)| t)),
        timeline: time_rows(
            case,
            &[
                ("compromise_estimated", "Compromise began (estimated)"),
                ("detected", "Compromise discovered"),
                ("key_revoked", "Key revoked"),
                ("new_key_generated", "New key generated"),
                ("modules_resigned", "Affected modules re-signed"),
                ("notified", "Users notified"),
            ],
        ),
    }
}

fn disclosure_view(case: &CaseInfo) -> DisclosureView {
    let d = &case.disclosure;
    DisclosureView {
        cve_ids: d.cve_ids.clone(),
        affected_versions: d.affected_versions.clone(),
        fixed_versions: d.fixed_versions.clone(),
        contact: or_unknown(&d.contact),
        tlp: or_unknown(&d.tlp),
        distribution: d.distribution.clone(),
        lessons_learned: d.lessons_learned.clone().filter(|s| !s.trim().is_empty()),
        timeline: time_rows(
            case,
            &[
                ("detected", "Incident detected"),
                ("key_revoked", "Key revoked"),
                ("recovered", "Fix deployed (service recovered)"),
                ("notified", "Users notified"),
            ],
        ),
    }
}

fn integrity_view(i: &Integrity) -> IntegrityView {
    match i {
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
    }
}

/// Builds the template context from the report input and the runbook's tables.
pub fn build(input: &ReportInput<'_>, runbook: &Runbook) -> ReportContext {
    let ev = input.evidence;
    let case = &ev.case;
    let incident = incident_type_of(ev);
    let assessed = assessment::assess(ev);
    let numbers = Numbers::of_evidence(ev);
    let sanity = assessment::sanity_findings(ev, &assessed);
    let all: Vec<(Option<&EvidenceItem>, &Finding)> = ev
        .all_findings()
        .chain(sanity.iter().map(|(i, f)| (*i, f)))
        .collect();
    let case_file = ev.items.iter().find(|i| i.kind == ItemKind::CaseFile);
    let modules: Vec<ModuleView> = assessed
        .modules
        .iter()
        .map(|(item, a)| module_view(item, a, &numbers))
        .collect();
    let metrics: Vec<MetricView> = metrics::compute_all(&case.times)
        .iter()
        .map(metric_view)
        .collect();
    ReportContext {
        exec: exec_view(&all, &modules, &assessed.compromise, &metrics),
        item_numbers: numbers
            .0
            .iter()
            .map(|(d, n)| (d.to_hex(), n.clone()))
            .collect(),
        tool: format!("{} {}", crate::TOOL_NAME, crate::TOOL_VERSION),
        evidence_tool: format!("{} {}", ev.tool.name, ev.tool.version),
        bundle_digest: input.bundle_digest.to_hex(),
        integrity: integrity_view(input.integrity),
        timestamp: input.timestamp.to_owned(),
        collected_at: iso_utc(ev.collected_at),
        case_file_sha256: case_file.map_or(UNKNOWN.into(), |i| i.sha256.to_hex()),
        case_file_path: case_file.map_or(UNKNOWN.into(), |i| i.source.text.clone()),
        case: case_view(case, incident, severity_of(ev)),
        times: declared_time_views(case),
        items: item_views(ev, &numbers),
        not_collected: ev
            .not_collected
            .iter()
            .map(|n| (n.path.text.clone(), n.reason.clone()))
            .collect(),
        findings: finding_views(&all, &numbers),
        modules,
        keys: assessed
            .keys
            .iter()
            .map(|k| key_view(k, &numbers))
            .collect(),
        controls: control_views(&all, runbook),
        actions: action_views(case, incident.0, runbook),
        raci: incident.0.and_then(|t| runbook.raci_for(t)).map(raci_view),
        metrics,
        notice: notice_view(case, &assessed.compromise, incident.0),
        disclosure: disclosure_view(case),
        internal: input.internal,
        timeline: timeline::build(ev, input.custody),
        phase_chart: super::phase_chart::PhaseChart::of_case(case),
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
