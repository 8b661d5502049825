//! Reports from a fixed, realistic INC-1 evidence record: Markdown snapshots, PDF text through
//! pdftotext, determinism, hostile case strings, integrity banner, template overrides.

mod common;
mod report_support;

use report_support::*;
use wsc_forensics::report::{self, Integrity, PageFrame, RenderedReport, ReportInput, TemplateSet};

fn render(ev: &wsc_forensics::evidence::Evidence, integrity: &Integrity) -> Vec<RenderedReport> {
    let custody = custody(ev);
    let input = ReportInput {
        evidence: ev,
        custody: &custody,
        bundle_digest: bundle_digest(),
        integrity,
    };
    report::render_markdown(&input, &TemplateSet::builtin()).unwrap()
}

fn frame(integrity: Integrity) -> PageFrame {
    PageFrame {
        bundle_digest: BUNDLE_HEX.into(),
        integrity,
    }
}

#[test]
fn markdown_reports_match_snapshots() {
    let ev = evidence();
    let reports = render(&ev, &Integrity::Intact);
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "incident-timeline",
            "root-cause-analysis",
            "key-compromise-notification",
            "security-advisory",
            "metrics"
        ]
    );
    for r in &reports {
        assert!(
            r.markdown.contains(BUNDLE_HEX),
            "{} lacks the digest",
            r.name
        );
        insta::assert_snapshot!(format!("report_{}", r.name), r.markdown);
    }
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.pdf");
    std::fs::write(&p, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", p.to_str().unwrap(), "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pdf_text_carries_digest_key_id_and_metric_verdicts() {
    if !common::pdftotext_available() {
        return;
    }
    let ev = evidence();
    let reports = render(&ev, &Integrity::Intact);
    let frame = frame(Integrity::Intact);
    for r in &reports {
        let pdf = report::render_pdf(r, &frame).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdftotext(&pdf);
        let pages = text.matches('\u{c}').count().max(1);
        assert_eq!(
            text.matches(&format!("Bundle SHA-256 {BUNDLE_HEX}"))
                .count(),
            pages,
            "{}: digest in every footer",
            r.name
        );
        assert!(text.contains(&format!("Page 1 of {pages}")), "{}", r.name);
        if r.name == "key-compromise-notification" {
            assert!(text.contains(KEY_A), "{text}");
            assert!(text.contains(KEY_B), "{text}");
        }
        if r.name == "metrics" {
            for v in ["MISSED", "MET", "UNKNOWN"] {
                assert!(text.contains(v), "{v} missing from\n{text}");
            }
            assert!(text.contains("Time to detect"));
            assert!(text.contains("Post-incident review"));
        }
    }
}
