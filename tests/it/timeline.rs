//! The timeline of a realistic INC-1 evidence record: exact event counts per source, order,
//! filters, and the three writers checked against independent readers (Python's csv module,
//! serde_json, pulldown-cmark's table parser).

use crate::report_support::*;
use wsc_forensics::model::evidence::{Finding, Severity};
use wsc_forensics::timeline::{self, EventSource, TimelineEvent, CSV_COLUMNS};

fn events() -> Vec<TimelineEvent> {
    let ev = evidence();
    timeline::build(&ev, &custody(&ev))
}

#[test]
fn every_dated_fact_becomes_one_event_in_time_order() {
    let ev = evidence();
    let evs = events();
    let count = |s: EventSource| evs.iter().filter(|e| e.source == s).count();
    // 7 declared times + window start/end + 1 declared event.
    assert_eq!(count(EventSource::CaseFile), 10);
    // started + one per item + finished.
    assert_eq!(count(EventSource::Custody), ev.items.len() + 2);
    // mtime and ctime of every item.
    assert_eq!(count(EventSource::FileStat), 2 * ev.items.len());
    // Rekor integrated time + one audit-log entry.
    assert_eq!(count(EventSource::Evidence), 2);
    assert_eq!(count(EventSource::Finding), 4);
    assert_eq!(evs.len(), 42);
    assert!(evs.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    // Ties keep a fixed order (source rank, then evidence order): repeated builds are equal,
    // and the declared compromise start precedes the window start at the same instant.
    assert_eq!(evs, events());
    let start = evs
        .iter()
        .position(|e| e.event_type == "case.compromise_estimated");
    let window = evs.iter().position(|e| e.event_type == "case.window_from");
    assert_eq!(window, start.map(|s| s + 1));
    let first = &evs[0];
    assert_eq!(first.event_type, "rekor.integrated");
    assert_eq!(first.datetime, "2025-09-19T17:58:38+00:00");
    assert_eq!(first.timestamp, 1_758_304_718_000_000);
    assert_eq!(
        first.evidence_sha256,
        Some(ev.items[3].sha256),
        "cites the keyless module by hash"
    );
    let audit = evs
        .iter()
        .find(|e| e.event_type == "audit.signing.attempt")
        .unwrap();
    assert_eq!(audit.datetime, "2026-11-24T23:14:02.067441+00:00");
    assert_eq!(audit.timestamp % 1_000_000, 67_441);
    let finding = evs
        .iter()
        .find(|e| e.event_type == "finding.secret-key-readable-by-others")
        .unwrap();
    assert_eq!(finding.severity, Some(Severity::Critical));
    assert_eq!(finding.datetime, "2026-11-25T08:00:00+00:00");
}

#[test]
fn from_to_filters_are_inclusive() {
    let evs = events();
    let from = t("2026-11-24T22:00:00Z");
    let to = t("2026-11-25T01:00:00Z");
    let kept = timeline::filter(evs.clone(), Some(from), Some(to));
    let names: Vec<&str> = kept.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        names,
        [
            "case.detected",
            "case.window_to",
            "audit.signing.attempt",
            "file.mtime",
            "file.ctime",
            "case.key_revoked",
            "case.contained",
            "case.new_key_generated",
            "file.mtime",
            "file.ctime"
        ]
    );
    assert_eq!(timeline::filter(evs.clone(), None, None), evs);
}

fn hostile_events() -> Vec<TimelineEvent> {
    let mut ev = evidence();
    ev.findings.push(Finding::new(
        "hostile",
        Severity::Low,
        None,
        "a,b \"quoted\"\nsecond line | pipe <b>html</b> *md*",
    ));
    timeline::build(&ev, &custody(&ev))
}

#[test]
fn csv_is_rfc4180_and_reads_back_with_python_csv() {
    let evs = hostile_events();
    let mut out = Vec::new();
    timeline::write_csv(&evs, &mut out).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.starts_with("datetime,timestamp,timestamp_desc,message,source,"));
    assert_eq!(CSV_COLUMNS.len(), 11);
    let have_python = std::process::Command::new("python3")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_python {
        eprintln!("SKIPPED: python3 not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.csv");
    std::fs::write(&p, &out).unwrap();
    let script = "import csv,sys,json\nrows=list(csv.DictReader(open(sys.argv[1],newline='')))\nprint(json.dumps(rows))";
    let o = std::process::Command::new("python3")
        .args(["-c", script, p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len(), evs.len());
    for (row, e) in rows.iter().zip(&evs) {
        assert_eq!(row.len(), 11);
        assert_eq!(row["datetime"], e.datetime.as_str());
        assert_eq!(row["timestamp"], e.timestamp.to_string().as_str());
        assert_eq!(row["message"], e.message.as_str());
    }
    assert!(rows
        .iter()
        .any(|r| r["message"] == "a,b \"quoted\"\nsecond line | pipe <b>html</b> *md*"));
}

#[test]
fn jsonl_lines_are_flat_objects_with_the_same_fields() {
    let evs = hostile_events();
    let mut out = Vec::new();
    timeline::write_jsonl(&evs, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), evs.len());
    for (line, e) in lines.iter().zip(&evs) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let o = v.as_object().unwrap();
        let keys: Vec<&str> = o.keys().map(String::as_str).collect();
        for c in CSV_COLUMNS {
            assert!(keys.contains(&c), "{c} missing in {line}");
        }
        assert!(o.values().all(|x| !x.is_object() && !x.is_array()));
        let back: TimelineEvent = serde_json::from_value(v).unwrap();
        assert_eq!(&back, e);
    }
}

#[test]
fn markdown_table_cells_cannot_break_the_table() {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let evs = hostile_events();
    let md = timeline::markdown_table(&evs);
    let mut rows = 0;
    let mut cells = 0;
    let mut html = 0;
    for ev in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::TableRow) => cells = 0,
            Event::End(TagEnd::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow) => {
                rows += 1;
                assert_eq!(cells, 6);
            }
            Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::Emphasis) => html += 1,
            _ => {}
        }
    }
    assert_eq!(rows, evs.len());
    assert_eq!(html, 0, "no HTML or emphasis leaks through");
    assert!(md.contains("second line \\| pipe \\<b\\>html\\</b\\> \\*md\\*"));
}

#[test]
fn a_collected_case_file_is_cited_not_listed_twice() {
    use wsc_forensics::analyse::analyse_bytes;
    use wsc_forensics::model::evidence::ItemKind;
    let mut ev = evidence();
    let before = timeline::build(&ev, &custody(&ev)).len();
    // The real demo case file, analysed by the collector's case-file analyser.
    let mut case_item = item(
        "demo/case.toml",
        ItemKind::CaseFile,
        0o644,
        "2026-11-24T09:00:00Z",
    );
    let bytes = std::fs::read(crate::common::fixture("demo/case.toml")).unwrap();
    let outcome = analyse_bytes(ItemKind::CaseFile, "case.toml", &bytes);
    assert_eq!(outcome.times.len(), 11, "9 declared times + 2 events");
    case_item.times = outcome.times;
    ev.case = wsc_forensics::model::case::CaseInfo::parse("case.toml", &bytes).unwrap();
    ev.items.push(case_item);
    let evs = timeline::build(&ev, &custody(&ev));
    let declared: Vec<&TimelineEvent> = evs
        .iter()
        .filter(|e| e.source == EventSource::CaseFile)
        .collect();
    // 9 times + window from/to + 2 events, each once, each citing the case file by hash.
    assert_eq!(declared.len(), 13);
    let case_sha = ev.items.last().unwrap().sha256;
    let cited = declared
        .iter()
        .filter(|e| e.evidence_sha256 == Some(case_sha))
        .count();
    assert_eq!(cited, 11, "window bounds are not item times");
    assert!(evs
        .iter()
        .all(|e| e.source != EventSource::Evidence || e.evidence_sha256 != Some(case_sha)));
    // Demo case: 9 + 2 + 2 declared instead of the fixture's 10; +2 stat times, +1 custody.
    assert_eq!(evs.len(), before - 10 + 13 + 2 + 1);
}
