//! The incident timeline: every dated fact in the evidence model (custody steps, file stat times,
//! analyser-recorded item times, findings, the case file's declared events) as one UTC-sorted list
//! of [`TimelineEvent`]s, and its data writers (Timesketch CSV, JSON Lines). The Markdown table
//! is a rendering and lives with the other renderers in `report::timeline_table`.

use crate::model::case::CaseInfo;
use crate::model::custody::{CustodyAction, CustodyEvent};
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Evidence, EvidenceItem, IncidentType, ItemKind, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// Where an event came from; also the tie-break rank for events at the same instant (declared
/// case events first, then custody, stat times, analyser times, findings).
#[derive(
    schemars::JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum EventSource {
    /// Declared by the examiner in the case file.
    CaseFile,
    /// The chain-of-custody record of the collection.
    Custody,
    /// `stat` times of a collected file, as read before acquisition.
    FileStat,
    /// A dated fact an analyser found inside an item (certificate validity, Rekor time, audit log).
    Evidence,
    /// A finding of the tool.
    Finding,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::CaseFile => "case-file",
            EventSource::Custody => "custody",
            EventSource::FileStat => "file-stat",
            EventSource::Evidence => "evidence",
            EventSource::Finding => "finding",
        }
    }
}

/// One row of the timeline. Field order is the CSV column order; the first four are the columns
/// Timesketch requires.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TimelineEvent {
    /// ISO 8601 UTC (`2026-11-20T09:00:00+00:00`, with microseconds when they are not zero).
    pub datetime: String,
    /// Microseconds since the Unix epoch.
    pub timestamp: i64,
    /// What the time means (Timesketch `timestamp_desc`).
    pub timestamp_desc: String,
    pub message: String,
    pub source: EventSource,
    /// Stable machine name (`custody.acquired`, `file.mtime`, `rekor.integrated`, `case.detected`,
    /// `finding.<code>`, …).
    pub event_type: String,
    pub severity: Option<Severity>,
    pub incident_type: Option<IncidentType>,
    pub evidence_sha256: Option<Sha256Digest>,
    pub evidence_path: Option<String>,
    pub detail: String,
}

impl TimelineEvent {
    /// The event's instant, rebuilt from `timestamp`.
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.timestamp).unwrap_or_default()
    }
}

/// Formats a UTC time the way every output of the timeline does.
pub fn iso_utc(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

struct Draft {
    at: DateTime<Utc>,
    source: EventSource,
    event_type: String,
    desc: String,
    message: String,
    severity: Option<Severity>,
    incident_type: Option<IncidentType>,
    sha: Option<Sha256Digest>,
    path: Option<String>,
    detail: String,
}

impl Draft {
    fn new(
        at: DateTime<Utc>,
        source: EventSource,
        event_type: impl Into<String>,
        desc: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Draft {
            at,
            source,
            event_type: event_type.into(),
            desc: desc.into(),
            message: message.into(),
            severity: None,
            incident_type: None,
            sha: None,
            path: None,
            detail: String::new(),
        }
    }

    fn item(mut self, sha: Sha256Digest, path: &str) -> Self {
        self.sha = Some(sha);
        self.path = Some(path.to_owned());
        self
    }

    fn finish(self) -> TimelineEvent {
        TimelineEvent {
            datetime: iso_utc(self.at),
            timestamp: self.at.timestamp_micros(),
            timestamp_desc: self.desc,
            message: self.message,
            source: self.source,
            event_type: self.event_type,
            severity: self.severity,
            incident_type: self.incident_type,
            evidence_sha256: self.sha,
            evidence_path: self.path,
            detail: self.detail,
        }
    }
}

fn custody_action_name(a: CustodyAction) -> &'static str {
    match a {
        CustodyAction::CollectionStarted => "collection-started",
        CustodyAction::Acquired => "acquired",
        CustodyAction::MetadataOnly => "metadata-only",
        CustodyAction::NotCollected => "not-collected",
        CustodyAction::ChangedDuringAcquisition => "changed-during-acquisition",
        CustodyAction::CollectionFinished => "collection-finished",
    }
}

fn custody_message(e: &CustodyEvent) -> String {
    let who = match &e.actor.examiner {
        Some(x) => format!("{x} ({}@{})", e.actor.user, e.actor.host),
        None => format!("{}@{}", e.actor.user, e.actor.host),
    };
    let what = match e.action {
        CustodyAction::CollectionStarted => "Collection started".to_owned(),
        CustodyAction::CollectionFinished => "Collection finished".to_owned(),
        CustodyAction::Acquired => "Acquired".to_owned(),
        CustodyAction::MetadataOnly => "Recorded metadata only (secret key)".to_owned(),
        CustodyAction::NotCollected => "Not collected".to_owned(),
        CustodyAction::ChangedDuringAcquisition => "Changed during acquisition".to_owned(),
    };
    match &e.source {
        Some(p) => format!("{what}: {} by {who}", p.text),
        None => format!("{what} by {who} with {} {}", e.tool.name, e.tool.version),
    }
}

/// The case file's declared times and window, each with whether it cites the collected case
/// file (declared times and events do; the window does not), in the order `build` lists them.
fn case_drafts(case: &CaseInfo) -> Vec<(Draft, bool)> {
    let mut drafts = Vec::new();
    for (name, desc, at) in case.times.entries() {
        if let Some(at) = at {
            let mut d = Draft::new(
                at,
                EventSource::CaseFile,
                format!("case.{name}"),
                desc,
                desc,
            );
            d.incident_type = case.incident_type;
            d.detail = "declared in the case file".to_owned();
            drafts.push((d, true));
        }
    }
    if let Some(w) = &case.window {
        let mut d = Draft::new(
            w.from,
            EventSource::CaseFile,
            "case.window_from",
            "Compromise window begins",
            "Compromise window begins",
        );
        d.incident_type = case.incident_type;
        drafts.push((d, false));
        if let Some(to) = w.to {
            let mut d = Draft::new(
                to,
                EventSource::CaseFile,
                "case.window_to",
                "Compromise window ends",
                "Compromise window ends",
            );
            d.incident_type = case.incident_type;
            drafts.push((d, false));
        }
    }
    for ev in &case.events {
        let mut d = Draft::new(
            ev.at,
            EventSource::CaseFile,
            "case.event",
            "Declared event",
            ev.description.clone(),
        );
        d.incident_type = case.incident_type;
        drafts.push((d, true));
    }
    drafts
}

/// (event type, time) of a collected case file's item time, with the item's SHA-256 and path.
pub(crate) type CaseFileTime<'a> = (&'a str, DateTime<Utc>, Sha256Digest, &'a str);

/// The declared case events, citing the first collected case file (in evidence order) that
/// carries the same time; also the (event type, time) pairs cited.
fn cited_case_drafts(
    case: &CaseInfo,
    case_file_times: &[CaseFileTime<'_>],
) -> (Vec<Draft>, Vec<(String, DateTime<Utc>)>) {
    let mut cited: Vec<(String, DateTime<Utc>)> = Vec::new();
    let mut drafts = Vec::new();
    for (mut d, citable) in case_drafts(case) {
        if citable {
            if let Some((ty, at, sha, path)) = case_file_times
                .iter()
                .find(|(ty, at, _, _)| *ty == d.event_type && *at == d.at)
            {
                d.sha = Some(*sha);
                d.path = Some((*path).to_owned());
                cited.push(((*ty).to_owned(), *at));
            }
        }
        drafts.push(d);
    }
    (drafts, cited)
}

fn custody_draft(e: &CustodyEvent) -> Draft {
    let mut d = Draft::new(
        e.time.with_timezone(&Utc),
        EventSource::Custody,
        format!("custody.{}", custody_action_name(e.action)),
        "Chain of custody",
        custody_message(e),
    );
    if let Some(p) = &e.source {
        d.path = Some(p.text.clone());
    }
    d.sha = e.sha256;
    d.detail = format!("seq {}{}", e.seq, custody_detail_rest(e));
    d
}

/// The custody detail after its `seq N`.
fn custody_detail_rest(e: &CustodyEvent) -> String {
    let mut detail = format!("; argv: {}", e.argv.join(" "));
    if !e.note.is_empty() {
        detail.push_str("; note: ");
        detail.push_str(&e.note);
    }
    detail
}

/// An item's stat times and dated facts, skipping a case file's times in `cited` (listed once,
/// on the declared event that cites the case file).
fn item_drafts(item: &EvidenceItem, cited: &[(String, DateTime<Utc>)], drafts: &mut Vec<Draft>) {
    let path = item.source.text.as_str();
    let kind = serde_json::to_value(item.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let st = &item.stat_before;
    let mode = format!("mode {:04o}", st.permissions());
    drafts.push(
        Draft {
            detail: format!("{kind}; {mode}; size {}", st.size),
            ..Draft::new(
                st.mtime,
                EventSource::FileStat,
                "file.mtime",
                "File modified (mtime)",
                format!("{kind} {path} modified"),
            )
        }
        .item(item.sha256, path),
    );
    drafts.push(
        Draft {
            detail: format!("{kind}; {mode}; size {}", st.size),
            ..Draft::new(
                st.ctime,
                EventSource::FileStat,
                "file.ctime",
                "File metadata changed (ctime)",
                format!("{kind} {path} metadata changed"),
            )
        }
        .item(item.sha256, path),
    );
    for t in &item.times {
        if item.kind == ItemKind::CaseFile
            && cited
                .iter()
                .any(|(ty, at)| *ty == t.event_type && *at == t.at)
        {
            continue;
        }
        drafts.push(
            Draft {
                detail: t.detail.clone(),
                ..Draft::new(
                    t.at,
                    EventSource::Evidence,
                    t.event_type.clone(),
                    t.description.clone(),
                    format!("{}: {path}", t.description),
                )
            }
            .item(item.sha256, path),
        );
    }
}

fn finding_draft(
    collected_at: DateTime<Utc>,
    item: Option<&EvidenceItem>,
    f: &crate::model::evidence::Finding,
) -> Draft {
    let mut d = Draft::new(
        collected_at,
        EventSource::Finding,
        format!("finding.{}", f.code),
        "Finding recorded at collection",
        f.message.clone(),
    );
    d.severity = Some(f.severity);
    d.incident_type = f.incident_type;
    if let Some(i) = item {
        d = d.item(i.sha256, &i.source.text);
    }
    let mut detail = format!("code {}", f.code);
    if !f.related.is_empty() {
        detail.push_str("; related: ");
        let rel: Vec<String> = f.related.iter().map(|r| r.to_hex()).collect();
        detail.push_str(&rel.join(" "));
    }
    d.detail = detail;
    d
}

/// Builds the sorted timeline of a bundle's evidence and custody record.
///
/// Order: by time, then by [`EventSource`] rank, then in the order the facts appear in the
/// evidence (a stable sort), so the same evidence always gives the same list. `collect` writes
/// the same list without holding it ([`Row`] and the functions around it); a test compares the
/// two on every collected bundle.
pub fn build(evidence: &Evidence, custody: &[CustodyEvent]) -> Vec<TimelineEvent> {
    // The collected case.toml carries the same declared times as item times: cite it by hash
    // on the declared events, and do not list those times twice.
    let case_file_times: Vec<CaseFileTime<'_>> = evidence
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::CaseFile)
        .flat_map(|i| {
            i.times.iter().map(move |t| {
                (
                    t.event_type.as_str(),
                    t.at,
                    i.sha256,
                    i.source.text.as_str(),
                )
            })
        })
        .collect();
    let (mut drafts, cited) = cited_case_drafts(&evidence.case, &case_file_times);
    drafts.extend(custody.iter().map(custody_draft));
    for item in &evidence.items {
        item_drafts(item, &cited, &mut drafts);
    }
    for (item, f) in evidence.all_findings() {
        drafts.push(finding_draft(evidence.collected_at, item, f));
    }
    drafts.sort_by(|a, b| a.at.cmp(&b.at).then(a.source.cmp(&b.source)));
    drafts.into_iter().map(Draft::finish).collect()
}

/// One timeline event for a writer that sorts without holding the list (collect): its instant
/// at full precision and its source (the sort key of [`build`], whose ties keep generation
/// order), and its line as [`write_jsonl`] writes it.
pub(crate) struct Row {
    pub at: DateTime<Utc>,
    pub source: EventSource,
    pub line: Vec<u8>,
}

impl Row {
    fn of(d: Draft) -> Row {
        let (at, source) = (d.at, d.source);
        let mut line = Vec::new();
        jsonl_line(&d.finish(), &mut line);
        Row { at, source, line }
    }
}

fn jsonl_line(e: &TimelineEvent, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, e).expect("writing to memory");
    out.push(b'\n');
}

/// The (event type, time) pairs of a case file's item times that [`build`] leaves out because a
/// declared event cites them: every declared time and event of `case` (a case file item holding
/// the pair is what makes it cited).
pub(crate) fn citable_case_times(case: &CaseInfo) -> Vec<(String, DateTime<Utc>)> {
    case_drafts(case)
        .into_iter()
        .filter(|(_, citable)| *citable)
        .map(|(d, _)| (d.event_type, d.at))
        .collect()
}

/// The declared case events, as [`build`] lists them (`case_file_times` in evidence order).
pub(crate) fn case_rows(case: &CaseInfo, case_file_times: &[CaseFileTime<'_>]) -> Vec<Row> {
    let (drafts, _) = cited_case_drafts(case, case_file_times);
    drafts.into_iter().map(Row::of).collect()
}

/// One item's stat times, dated facts and findings, in the order [`build`] generates them
/// within each source. `citable`: see [`citable_case_times`].
pub(crate) fn item_rows(
    item: &EvidenceItem,
    collected_at: DateTime<Utc>,
    citable: &[(String, DateTime<Utc>)],
) -> Vec<Row> {
    let mut drafts = Vec::new();
    item_drafts(item, citable, &mut drafts);
    for f in &item.findings {
        drafts.push(finding_draft(collected_at, Some(item), f));
    }
    drafts.into_iter().map(Row::of).collect()
}

/// A custody event's row.
pub(crate) fn custody_row(e: &CustodyEvent) -> Row {
    Row::of(custody_draft(e))
}

/// A custody event's row before its `seq` is known: the line is `prefix`, the decimal seq, then
/// `suffix` (its detail, the last field, begins `seq N`; JSON escapes each character on its
/// own, so the escaped rest of the detail is the end of the line).
pub(crate) fn custody_row_parts(e: &CustodyEvent) -> (DateTime<Utc>, Vec<u8>, Vec<u8>) {
    let at = e.time.with_timezone(&Utc);
    let rest = custody_detail_rest(e);
    let mut d = custody_draft(e);
    d.detail = format!("seq 0{rest}");
    let mut line = Vec::new();
    jsonl_line(&d.finish(), &mut line);
    let escaped_rest = serde_json::to_string(&rest)
        .expect("a string serialises")
        .len()
        - 2;
    // After the `0`: the escaped rest, `"`, `}` and the newline.
    let cut = line.len() - escaped_rest - 3;
    assert!(
        line[..cut].ends_with(b"\"seq 0"),
        "custody row layout changed"
    );
    let suffix = line.split_off(cut);
    line.pop();
    (at, line, suffix)
}

/// Keeps the events with `from <= time <= to` (either bound optional).
pub fn filter(
    events: Vec<TimelineEvent>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Vec<TimelineEvent> {
    events
        .into_iter()
        .filter(|e| {
            let t = e.at();
            from.is_none_or(|f| t >= f) && to.is_none_or(|x| t <= x)
        })
        .collect()
}

/// CSV column names, in order. The first four are what Timesketch requires.
pub const CSV_COLUMNS: [&str; 11] = [
    "datetime",
    "timestamp",
    "timestamp_desc",
    "message",
    "source",
    "event_type",
    "severity",
    "incident_type",
    "evidence_sha256",
    "evidence_path",
    "detail",
];

/// First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Appends one CSV cell. A text cell that a spreadsheet would run as a formula is prefixed with
/// `'` (OWASP), which keeps it readable as text; the tool's own datetime and timestamp columns
/// are never prefixed, so a pre-1970 timestamp stays a number for Timesketch.
fn csv_text_field(out: &mut String, s: &str) {
    if s.starts_with(FORMULA_STARTS) {
        csv_field(out, &format!("'{s}"));
    } else {
        csv_field(out, s);
    }
}

fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn row_values(e: &TimelineEvent) -> [String; 11] {
    [
        e.datetime.clone(),
        e.timestamp.to_string(),
        e.timestamp_desc.clone(),
        e.message.clone(),
        e.source.as_str().to_owned(),
        e.event_type.clone(),
        e.severity
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        e.incident_type
            .map(|i| i.code().to_owned())
            .unwrap_or_default(),
        e.evidence_sha256.map(|d| d.to_hex()).unwrap_or_default(),
        e.evidence_path.clone().unwrap_or_default(),
        e.detail.clone(),
    ]
}

/// RFC 4180 CSV (CRLF line ends, fields quoted when they hold `,` `"` CR or LF), with a header
/// row of [`CSV_COLUMNS`]; imports into Timesketch as is. Text cells are safe to open in a
/// spreadsheet (see [`csv_text_field`]).
pub fn write_csv<W: Write>(events: &[TimelineEvent], mut w: W) -> io::Result<()> {
    let mut line = CSV_COLUMNS.join(",");
    line.push_str("\r\n");
    w.write_all(line.as_bytes())?;
    for e in events {
        line.clear();
        for (i, v) in row_values(e).iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            if i < 2 {
                csv_field(&mut line, v);
            } else {
                csv_text_field(&mut line, v);
            }
        }
        line.push_str("\r\n");
        w.write_all(line.as_bytes())?;
    }
    w.flush()
}

/// One flat JSON object a line, same fields as the CSV (absent values as `null`).
pub fn write_jsonl<W: Write>(events: &[TimelineEvent], mut w: W) -> io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut w, e)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Output format of the `timeline` command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineFormat {
    Csv,
    Jsonl,
    Md,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut s = String::new();
        csv_field(&mut s, "plain");
        s.push('|');
        csv_field(&mut s, "a,\"b\"\nc");
        assert_eq!(s, "plain|\"a,\"\"b\"\"\nc\"");
    }

    #[test]
    fn formula_cells_are_neutralised_and_stay_readable() {
        for bad in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            let mut s = String::new();
            csv_text_field(&mut s, bad);
            let inner = s.trim_start_matches('"');
            assert!(inner.starts_with('\''), "{bad:?} -> {s:?}");
        }
        let mut s = String::new();
        csv_text_field(&mut s, "key revoked");
        assert_eq!(s, "key revoked");
    }

    #[test]
    fn iso_times_are_utc_with_offset() {
        let t = DateTime::from_timestamp(1_763_629_200, 0).unwrap();
        assert_eq!(iso_utc(t), "2025-11-20T09:00:00+00:00");
        let t = DateTime::from_timestamp(1_763_629_200, 1_500).unwrap();
        assert_eq!(iso_utc(t), "2025-11-20T09:00:00.000001+00:00");
    }
}
