//! Renders a synthetic 10,000-event incident timeline to Markdown and PDF and prints the wall
//! time of each step (plain std::time; run with `cargo bench --bench report`).

use chrono::{DateTime, Duration, Utc};
use std::time::Instant;
use wsc_forensics::model::case::CaseInfo;
use wsc_forensics::model::digest::Sha256Digest;
use wsc_forensics::model::evidence::{
    Evidence, EvidenceItem, FileStat, ItemKind, RecordedPath, ToolInfo,
};
use wsc_forensics::report::{self, Integrity, PageFrame, ReportInput, TemplateSet};

fn synthetic_evidence(events: usize) -> Evidence {
    let base: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    let items = (0..events / 2)
        .map(|i| {
            let name = format!("/srv/release/module-{i:05}.wasm");
            let stat = FileStat {
                size: 4096,
                mode: 0o100644,
                uid: 1000,
                gid: 1000,
                owner: None,
                dev: 1,
                inode: i as u64,
                nlink: 1,
                mtime: base + Duration::seconds(i as i64 * 37),
                ctime: base + Duration::seconds(i as i64 * 41),
                atime: base,
            };
            EvidenceItem {
                source: RecordedPath {
                    text: name.clone(),
                    raw_hex: None,
                },
                kind: ItemKind::Module,
                sha256: Sha256Digest::of(name.as_bytes()),
                digest_of: Default::default(),
                size: 4096,
                bag_path: None,
                stat_before: stat,
                stat_after: None,
                changed_during_acquisition: vec![],
                analysis:
                    serde_json::json!({"signatures": [{"key_id": "c858d5ec82d976c190cb33d0"}]})
                        .into(),
                findings: vec![],
                times: vec![],
            }
        })
        .collect();
    Evidence {
        schema_version: 1,
        tool: ToolInfo::this(),
        case: CaseInfo {
            case_id: "BENCH-10K".into(),
            ..Default::default()
        },
        collected_at: base + Duration::days(5),
        items,
        not_collected: vec![],
        findings: vec![],
    }
}

fn main() {
    let ev = synthetic_evidence(10_000);
    let digest = Sha256Digest::of(b"bench");
    let input = ReportInput {
        evidence: &ev,
        custody: &[],
        bundle_digest: digest,
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    let frame = PageFrame::for_report(&input, "incident-timeline");
    for round in 1..=3 {
        let t0 = Instant::now();
        let reports = report::render_markdown(&input, &TemplateSet::builtin()).unwrap();
        let t_md = t0.elapsed();
        let timeline = reports
            .iter()
            .find(|r| r.name == "incident-timeline")
            .unwrap();
        assert!(timeline.markdown.contains("10000 events."));
        let t1 = Instant::now();
        let pdf = report::render_pdf(timeline, &frame).unwrap();
        let t_pdf = t1.elapsed();
        let pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
        println!(
            "round {round}: 10,000-event timeline: markdown (all 5 reports) {:.3} s, timeline PDF {:.3} s ({} bytes, {pages} pages), total {:.3} s",
            t_md.as_secs_f64(),
            t_pdf.as_secs_f64(),
            pdf.len(),
            (t_md + t_pdf).as_secs_f64()
        );
    }
}
