//! Reports from a fixed, realistic INC-1 evidence record: Markdown snapshots, PDF text through
//! pdftotext, determinism, hostile case strings, integrity banner, template overrides.

use crate::report_support::*;
use wsc_forensics::report::{self, Integrity, PageFrame, RenderedReport, ReportInput, TemplateSet};

fn render(
    ev: &wsc_forensics::model::evidence::Evidence,
    integrity: &Integrity,
) -> Vec<RenderedReport> {
    let custody = custody(ev);
    let input = ReportInput {
        evidence: ev,
        custody: &custody,
        bundle_digest: bundle_digest(),
        integrity,
        timestamp: "not recorded",
        internal: false,
    };
    report::render_markdown(&input, &TemplateSet::builtin()).unwrap()
}

fn frame(integrity: Integrity) -> PageFrame {
    PageFrame {
        bundle_digest: BUNDLE_HEX.into(),
        integrity,
        author: "Example Corp PSIRT".into(),
        date: t("2026-11-25T08:00:00Z"),
        tlp: "TLP:AMBER".into(),
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
        // Internal reports cite the bundle digest; external documents (notice, advisory) carry
        // no bundle internals unless --internal.
        let external = report::EXTERNAL_REPORTS.contains(&r.name.as_str());
        assert_eq!(
            r.markdown.contains(BUNDLE_HEX),
            !external,
            "{}: digest shown {}",
            r.name,
            !external
        );
        // The crate version is filtered, so a release does not rewrite every snapshot.
        insta::with_settings!({filters => vec![
            (r"wsc-forensics \d+\.\d+\.\d+[-+.0-9A-Za-z]*", "wsc-forensics [VERSION]"),
        ]}, {
            insta::assert_snapshot!(format!("report_{}", r.name), r.markdown);
        });
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
    if !crate::common::pdftotext_available() {
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

#[test]
fn pdf_and_markdown_are_byte_identical_across_renders_in_one_process() {
    let ev = evidence();
    let a = render(&ev, &Integrity::Intact);
    let b = render(&ev, &Integrity::Intact);
    assert_eq!(a, b);
    let frame = frame(Integrity::Intact);
    for r in &a {
        let p1 = report::render_pdf(r, &frame).unwrap();
        let p2 = report::render_pdf(r, &frame).unwrap();
        assert!(p1 == p2, "{}: two renders differ", r.name);
        // The subset fonts keep every report far below the 300 KB target.
        assert!(p1.len() < 300 * 1024, "{}: {} bytes", r.name, p1.len());
    }
}

#[test]
fn a_bundle_that_failed_verification_says_so_on_every_report_and_page() {
    let ev = evidence();
    let altered = Integrity::Altered {
        problems: vec!["data/evidence.json: SHA-256 differs from manifest-sha256.txt".into()],
    };
    let reports = render(&ev, &altered);
    for r in &reports {
        assert!(
            r.markdown
                .contains("**WARNING: this bundle FAILED verification.**"),
            "{}",
            r.name
        );
        // The problems are bundle internals: external documents only carry the warning.
        let external = report::EXTERNAL_REPORTS.contains(&r.name.as_str());
        assert_eq!(
            r.markdown.contains("data/evidence.json: SHA-256 differs"),
            !external,
            "{}",
            r.name
        );
    }
    if !crate::common::pdftotext_available() {
        return;
    }
    let frame = frame(altered);
    let timeline = reports
        .iter()
        .find(|r| r.name == "incident-timeline")
        .unwrap();
    let text = pdftotext(&report::render_pdf(timeline, &frame).unwrap());
    let pages: Vec<&str> = text
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .collect();
    assert!(pages.len() >= 2, "timeline spans pages");
    for p in pages {
        assert!(p.contains("THIS BUNDLE FAILED VERIFICATION"), "{p}");
    }
}

#[test]
fn hostile_case_strings_are_escaped_wrapped_and_never_executed() {
    let mut ev = evidence();
    ev.case.title = Some("# Owned\n<script>alert(1)</script> {{ 7*7 }} {% for x in y %}".into());
    let summary = format!(
        "[click](javascript:x) | a | b |\x1b[31m\u{202e}{}",
        "W".repeat(1 << 20)
    );
    let summary_chars = summary.chars().count();
    ev.case.summary = Some(summary);
    ev.case.root_cause = Some("{{ bundle_digest }} ```\ncode fence".into());
    ev.case.open_items = vec!["- [ ] nested\n# heading".into()];
    ev.case.case_id = "IR|1".into();
    ev.case.keys.compromised = vec!["c858|<b>x</b>\n| y |".into()];
    ev.case.examiner = Some("<img src=x onerror=alert(1)>".into());
    ev.items[0].source.text = "/srv/a|b\n| c |.wasm".into();
    ev.items[0].analysis = serde_json::json!({"signatures": [{"key_id": "`|`<i>"}]}).into();
    ev.findings[0].message = "msg | with\r\n| pipes |".into();
    let reports = render(&ev, &Integrity::Intact);
    for r in &reports {
        assert_tables_are_well_formed_and_html_free(&r.name, &r.markdown);
    }
    let rca = reports
        .iter()
        .find(|r| r.name == "root-cause-analysis")
        .unwrap();
    let md = &rca.markdown;
    assert!(md.contains(
        "\\# Owned \\<script\\>alert(1)\\</script\\> \\{\\{ 7\\*7 \\}\\} \\{% for x in y %\\}"
    ));
    assert!(!md.contains(" 49 "), "template syntax in data was executed");
    assert!(md.contains("\\{\\{ bundle\\_digest \\}\\} \\`\\`\\` code fence"));
    assert!(md.contains("\\[click\\](javascript:x) \\| a \\| b \\|␛\\[31m\u{fffd}WWW"));
    assert!(md.contains(&format!(
        "[truncated: {summary_chars} characters in total\\]"
    )));
    assert!(md.lines().all(|l| l.len() < 40_000), "1 MB line was cut");
    assert!(md.contains("- \\- \\[ \\] nested \\# heading"));
    assert!(md.contains("| Case | IR\\|1 |"));
    // The escaped Markdown still parses to the intended structure: no headings but ours.
    let headings = md.lines().filter(|l| l.starts_with('#')).count();
    let builtin = render(&evidence(), &Integrity::Intact);
    let builtin_rca = builtin
        .iter()
        .find(|r| r.name == "root-cause-analysis")
        .unwrap();
    assert_eq!(
        headings,
        builtin_rca
            .markdown
            .lines()
            .filter(|l| l.starts_with('#'))
            .count()
    );
    let pdf = report::render_pdf(rca, &frame(Integrity::Intact)).unwrap();
    if crate::common::pdftotext_available() {
        let text = pdftotext(&pdf);
        assert!(text.contains("{{ 7*7 }}"), "shown literally");
        assert!(text.contains("WWWWWWWW"));
    }
}

#[test]
fn missing_case_fields_read_unknown_and_metrics_are_not_guessed() {
    let mut ev = evidence();
    ev.case = Default::default();
    let reports = render(&ev, &Integrity::Intact);
    let metrics = reports.iter().find(|r| r.name == "metrics").unwrap();
    assert_eq!(metrics.markdown.matches("**UNKNOWN**").count(), 4);
    assert!(!metrics.markdown.contains("**MET**") && !metrics.markdown.contains("**MISSED**"));
    let notice = reports
        .iter()
        .find(|r| r.name == "key-compromise-notification")
        .unwrap();
    assert!(
        notice
            .markdown
            .contains("- Affected key ID: `not recorded`"),
        "{}",
        notice.markdown
    );
    assert!(notice.markdown.contains("- Discovered: not recorded"));
    let rca = reports
        .iter()
        .find(|r| r.name == "root-cause-analysis")
        .unwrap();
    assert!(rca
        .markdown
        .contains("Not recorded: the case file does not state a root cause."));
    // Incident type and severity fall back to the findings, and say so.
    assert!(rca.markdown.contains("(from the findings)"));
    assert!(rca
        .markdown
        .contains("**Critical** (from the highest finding)"));
}

#[test]
fn templates_dir_overrides_by_file_name_and_errors_name_template_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("metrics.md.j2"),
        "# Custom metrics\n{% for m in metrics %}{{ m.name }}={{ m.verdict }};{% endfor %}\n{{ case.title }}\n",
    )
    .unwrap();
    let set = TemplateSet::with_overrides(dir.path()).unwrap();
    assert_eq!(set.overridden(), ["metrics.md.j2"]);
    let ev = evidence();
    let c = custody(&ev);
    let input = ReportInput {
        evidence: &ev,
        custody: &c,
        bundle_digest: bundle_digest(),
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    let reports = report::render_markdown(&input, &set).unwrap();
    let m = reports.iter().find(|r| r.name == "metrics").unwrap();
    assert_eq!(
        m.markdown,
        "# Custom metrics\nTime to detect=missed;Time to contain=met;Time to recover=unknown;Post-incident review=unknown;Release signing key A leaked\n"
    );
    // The other reports are still the built-ins.
    assert!(reports[0]
        .markdown
        .starts_with("# Incident timeline: IR-2026-017"));

    std::fs::write(
        dir.path().join("security-advisory.md.j2"),
        "line one\n\n{{ case.no_such_field.x }}\n",
    )
    .unwrap();
    let set = TemplateSet::with_overrides(dir.path()).unwrap();
    let err = report::render_markdown(&input, &set)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("template security-advisory.md.j2 line 3:"),
        "{err}"
    );
}

#[test]
fn a_ten_thousand_event_timeline_renders_to_markdown_and_pdf() {
    let mut ev = evidence();
    let base = t("2026-11-20T00:00:00Z");
    let template = ev.items[0].clone();
    ev.items = (0..5000)
        .map(|i| {
            let mut it = template.clone();
            it.source.text = format!("/srv/release/module-{i:05}.wasm");
            it.stat_before.mtime = base + chrono::Duration::seconds(i * 37);
            it.stat_before.ctime = base + chrono::Duration::seconds(i * 41);
            it
        })
        .collect();
    ev.findings.clear();
    ev.case.events.clear();
    ev.case.window = None;
    ev.case.times = Default::default();
    let reports = render_no_custody(&ev);
    let tl = reports
        .iter()
        .find(|r| r.name == "incident-timeline")
        .unwrap();
    assert!(tl.markdown.contains("10000 events."));
    // 10,000 timeline rows plus one assessment row per module.
    assert_eq!(tl.markdown.matches("/srv/release/module-").count(), 15_000);
    let pdf = report::render_pdf(tl, &frame(Integrity::Intact)).unwrap();
    if crate::common::pdftotext_available() {
        let text = pdftotext(&pdf);
        // Long paths are broken inside the narrow message column; the row text is all there.
        assert!(text.contains("module-00000."), "first row");
        assert!(text.contains("module-04999."), "last row");
        let pages = text.matches('\u{c}').count();
        assert!(text.contains(&format!("Page {pages} of {pages}")));
    }
}

fn render_no_custody(ev: &wsc_forensics::model::evidence::Evidence) -> Vec<RenderedReport> {
    let input = ReportInput {
        evidence: ev,
        custody: &[],
        bundle_digest: bundle_digest(),
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    report::render_markdown(&input, &TemplateSet::builtin()).unwrap()
}

#[test]
fn the_demo_case_file_meets_all_four_metrics_with_their_times() {
    let mut ev = evidence();
    ev.case = wsc_forensics::model::case::CaseInfo::load(&crate::common::fixture("demo/case.toml"))
        .unwrap();
    let reports = render(&ev, &Integrity::Intact);
    let m = &reports
        .iter()
        .find(|r| r.name == "metrics")
        .unwrap()
        .markdown;
    assert_eq!(m.matches("**MET**").count(), 4, "{m}");
    // detected − compromise_estimated = 2026-11-17T09:40 − 2026-11-16T14:05.
    assert!(m.contains(
        "| Time to detect | \\< 24 hours | `detected` (2026-11-17T09:40:00+00:00) − `compromise_estimated` (2026-11-16T14:05:00+00:00) | 19 h 35 min | **MET** |"
    ));
    assert!(
        m.contains("| 5 d 4 h | **MET** |"),
        "review: 2026-11-18T11:00 to 2026-11-23T15:00"
    );
    let rca = &reports
        .iter()
        .find(|r| r.name == "root-cause-analysis")
        .unwrap()
        .markdown;
    // Markdown in the case file's prose is shown, not interpreted.
    assert!(rca.contains("A CI debugging step ran \\`cat\\` on the signing key directory"));
}

/// Every table row has the header's number of unescaped `|` (pulldown-cmark would silently pad
/// or drop cells, so count the delimiters), and no raw HTML survives.
fn assert_tables_are_well_formed_and_html_free(name: &str, md: &str) {
    use pulldown_cmark::{Event, Options, Parser};
    fn delimiters(line: &str) -> usize {
        let mut n = 0;
        let mut backslashes = 0;
        for c in line.chars() {
            if c == '|' && backslashes % 2 == 0 {
                n += 1;
            }
            backslashes = if c == '\\' { backslashes + 1 } else { 0 };
        }
        n
    }
    let mut expected: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = delimiters(line);
            match expected {
                None => expected = Some(n),
                Some(e) => assert_eq!(n, e, "{name}: table row {line:?}"),
            }
        } else {
            expected = None;
        }
    }
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        if let Event::Html(h) | Event::InlineHtml(h) = ev {
            // The markers a template writes (the PDF and HTML draw them); nothing else.
            let marker = [
                "<!-- phase-chart -->",
                "<!-- pagebreak -->",
                "<!-- landscape -->",
                "<!-- portrait -->",
            ]
            .contains(&h.trim());
            assert!(marker, "{name}: raw HTML {h:?}");
        }
    }
}

fn report_named<'r>(reports: &'r [RenderedReport], name: &str) -> &'r str {
    &reports
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .markdown
}

/// The Markdown table row that mentions `needle`.
fn row_with<'m>(md: &'m str, needle: &str) -> &'m str {
    md.lines()
        .find(|l| l.starts_with('|') && l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle} in\n{md}"))
}

// #16: an INC-2 case announced "A signing key used for WSC modules has been compromised".
#[test]
fn an_inc2_case_without_a_compromised_key_gets_no_key_notice() {
    let mut ev = evidence();
    ev.case.incident_type = Some(wsc_forensics::model::evidence::IncidentType::MaliciousModule);
    ev.case.keys.compromised.clear();
    ev.case.keys.revoked.clear();
    let names: Vec<String> = render(&ev, &Integrity::Intact)
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(
        !names.iter().any(|n| n == "key-compromise-notification"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "security-advisory"));
    // A declared compromised key brings the notice back whatever the type.
    ev.case.keys.compromised = vec![KEY_A.into()];
    let names: Vec<String> = render(&ev, &Integrity::Intact)
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(names.iter().any(|n| n == "key-compromise-notification"));
}

// #16: the re-signed release was "suspect" in the RCA, notice and advisory, and the advisory
// told users to replace it with a module signed by key B, which it already was.
#[test]
fn the_re_signed_module_has_one_assessment_everywhere() {
    let ev = evidence();
    let resigned = ev.items[2].sha256;
    let assessed = wsc_forensics::analyse::assessment::assess(&ev);
    assert_eq!(
        assessed.module(&resigned).unwrap().status,
        wsc_forensics::analyse::assessment::ModuleStatus::ReSigned
    );
    let reports = render(&ev, &Integrity::Intact);
    let short = &resigned.to_hex()[..12];
    for name in [
        "root-cause-analysis",
        "key-compromise-notification",
        "security-advisory",
    ] {
        let row = row_with(report_named(&reports, name), short);
        assert!(
            row.contains(&format!(
                "re-signed: valid signature by the replacement key {KEY_B}"
            )),
            "{name}: {row}"
        );
        assert!(
            !row.contains("suspect") && !row.contains("not trusted"),
            "{name}: {row}"
        );
    }
    // The tampered module stays suspect everywhere.
    let tampered = &ev.items[1].sha256.to_hex()[..12];
    for name in ["root-cause-analysis", "security-advisory"] {
        assert!(row_with(report_named(&reports, name), tampered).contains("suspect: "));
    }
}

// #16: "Update trust bundles (add new key) done 12:00" and "Isolate the key done 12:10" copied
// unrelated declared times.
#[test]
fn actions_carry_only_their_own_declared_time() {
    let reports = render(&evidence(), &Integrity::Intact);
    let rca = report_named(&reports, "root-cause-analysis");
    for action in [
        "Isolate the key",
        "Identify scope",
        "Update trust bundles",
        "Forensic analysis",
    ] {
        let row = row_with(rca, action);
        assert!(row.ends_with("| not recorded |"), "{row}");
    }
    let row = row_with(rca, "Generate replacement key");
    assert!(
        row.ends_with("| done 2026-11-25T01:00:00+00:00 (new\\_key\\_generated) |"),
        "{row}"
    );
}

// #16: "Which controls failed" matched codes by substring, so a changed module was filed under
// the key-file baseline.
#[test]
fn controls_are_found_by_exact_finding_code() {
    let mut ev = evidence();
    ev.items[1].findings[0].code = "signed-content-changed".into();
    let reports = render(&ev, &Integrity::Intact);
    let rca = report_named(&reports, "root-cause-analysis");
    let row = row_with(rca, "signed-content-changed");
    assert!(
        row.starts_with("| Module signature verification before deployment |"),
        "{row}"
    );
    assert!(!rca.contains("Key file integrity baseline"));
    // A code the control table does not list is named, with nothing invented for it.
    let row = row_with(rca, "signed-inside-compromise-window |");
    assert!(row.contains("| not recorded | not recorded |"), "{row}");
}

// #16: tables of declared times followed field order ("Fix deployed" on the 18th before
// "Coordinated disclosure" on the 17th).
#[test]
fn every_table_of_times_is_in_time_order() {
    let mut ev = evidence();
    ev.case.times.recovered = Some(t("2026-11-25T05:00:00Z"));
    let reports = render(&ev, &Integrity::Intact);
    let iso = |line: &str| -> Option<String> {
        line.split(['|', ' '])
            .find(|w| w.len() >= 25 && w.starts_with("2026-") && w.contains('T'))
            .map(|w| w.trim_end_matches(':').to_owned())
    };
    let rca = report_named(&reports, "root-cause-analysis");
    let section = rca
        .split("## Timeline")
        .nth(1)
        .unwrap()
        .split("## ")
        .next()
        .unwrap();
    let times: Vec<String> = section.lines().filter_map(iso).collect();
    assert!(times.len() >= 7, "{section}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    // key_revoked (00:15) is declared after contained (00:30) in field order.
    assert!(section.find("Compromised key revoked") < section.find("Incident contained"));
    for name in ["key-compromise-notification", "security-advisory"] {
        let md = report_named(&reports, name);
        let tl = md.split("## Timeline").nth(1).unwrap();
        let times: Vec<String> = tl.lines().filter_map(iso).collect();
        assert!(times.len() >= 3, "{name}: {tl}");
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{name}: {times:?}");
    }
}

// #16: nothing noticed a module modified after the collection, nor audit entries from later.
#[test]
fn a_time_after_collection_and_declared_times_out_of_order_are_findings() {
    let mut ev = evidence();
    ev.items[0].stat_before.mtime = t("2026-11-26T10:00:00Z");
    ev.case.times.contained = Some(t("2026-11-24T21:00:00Z")); // before detected (22:00)
    let reports = render(&ev, &Integrity::Intact);
    let rca = report_named(&reports, "root-cause-analysis");
    let row = row_with(rca, "| time-after-collection |");
    assert!(row.contains("2026-11-26T10:00:00+00:00"), "{row}");
    assert!(row.contains("| E-001 |"), "{row}");
    let row = row_with(rca, "| declared-times-out-of-order |");
    assert!(row.contains("contained"), "{row}");
    // The unaltered record has neither.
    let clean = render(&evidence(), &Integrity::Intact);
    let rca = report_named(&clean, "root-cause-analysis");
    assert!(!rca.contains("time-after-collection") && !rca.contains("out-of-order"));
}

// #16: wsc "verified successfully" a module carrying two Critical findings, unnoticed.
#[test]
fn a_wsc_audit_verification_of_a_flagged_module_is_a_finding() {
    let mut ev = evidence();
    let keyless = ev.items[3].sha256;
    ev.items[7]
        .times
        .push(wsc_forensics::model::evidence::ItemTime {
            at: t("2026-11-24T23:14:02Z"),
            event_type: "audit.verification.success".into(),
            description: "Verification successful".into(),
            detail: format!("artifact_hash=sha256:{}", keyless.to_hex()),
        });
    let reports = render(&ev, &Integrity::Intact);
    let rca = report_named(&reports, "root-cause-analysis");
    let row = row_with(rca, "| **HIGH** | audit-verified-flagged-module |");
    assert!(row.starts_with("| F-"), "{row}");
    assert!(row.contains("rekor-entry-not-bound"), "{row}");
}

// #16: the notice and advisory printed local paths, the examiner's name and bundle hashes.
#[test]
fn external_documents_hold_no_local_path_examiner_or_bundle_internals() {
    let ev = evidence();
    let custody = custody(&ev);
    let mut input = ReportInput {
        evidence: &ev,
        custody: &custody,
        bundle_digest: bundle_digest(),
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    let reports = report::render_markdown(&input, &TemplateSet::builtin()).unwrap();
    for name in report::EXTERNAL_REPORTS {
        let md = report_named(&reports, name);
        for secret in [
            "/srv/release",
            "A. Examiner",
            BUNDLE_HEX,
            "believed",
            "apologize",
        ] {
            assert!(!md.contains(secret), "{name} shows {secret:?}:\n{md}");
        }
        assert!(md.contains("| TLP | TLP:AMBER |"), "{name}");
        assert!(md.contains("psirt@example.com"), "{name}");
        let frame = PageFrame::for_report(&input, name);
        assert!(
            frame.bundle_digest.is_empty(),
            "{name}: digest in the footer"
        );
    }
    let notice = report_named(&reports, "key-compromise-notification");
    assert!(notice.contains("its public key is attached as `test-key-b.pub`"));
    // Asked for, they show them.
    input.internal = true;
    let reports = report::render_markdown(&input, &TemplateSet::builtin()).unwrap();
    for name in report::EXTERNAL_REPORTS {
        let md = report_named(&reports, name);
        assert!(
            md.contains("/srv/release") && md.contains(BUNDLE_HEX),
            "{name}"
        );
        assert!(!PageFrame::for_report(&input, name).bundle_digest.is_empty());
    }
}

// #16: in PDF tables hashes broke mid-value; no module hash could be found with
// `pdftotext | grep <full hash>`.
#[test]
fn every_full_hash_of_the_evidence_is_intact_in_the_pdf_text() {
    if !crate::common::pdftotext_available() {
        return;
    }
    let ev = evidence();
    let custody = custody(&ev);
    let input = ReportInput {
        evidence: &ev,
        custody: &custody,
        bundle_digest: bundle_digest(),
        integrity: &Integrity::Intact,
        timestamp: "not recorded",
        internal: false,
    };
    let reports = report::render_markdown(&input, &TemplateSet::builtin()).unwrap();
    let rca = reports
        .iter()
        .find(|r| r.name == "root-cause-analysis")
        .unwrap();
    let pdf = report::render_pdf(rca, &PageFrame::for_report(&input, &rca.name)).unwrap();
    let text = pdftotext(&pdf);
    for (i, item) in ev.items.iter().enumerate() {
        let line = format!("E-{:03} {}", i + 1, item.sha256.to_hex());
        assert!(text.contains(&line), "{line} not intact in\n{text}");
    }
    // PDF metadata: dated by the collection, authored by the organisation, no PDF/X claim.
    let raw = String::from_utf8_lossy(&pdf);
    assert!(!raw.contains("GTS_PDFX"));
    let info = std::process::Command::new("pdfinfo")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&pdf)?;
            c.wait_with_output()
        });
    if let Ok(o) = info {
        let info = String::from_utf8_lossy(&o.stdout);
        assert!(info.contains("Example Corp PSIRT"), "{info}");
        assert!(info.contains("2026"), "{info}");
        assert!(!info.contains("1970"), "{info}");
    }
}
