//! The demo's reports as people see them: the one assessment of each module agrees across
//! `scope --json` and the reports; every PDF rendered to PNG (poppler) with its text inside
//! the page box and the phase chart drawn; the HTML report self-contained and rendered by a
//! real headless browser (Debian `chromium`).

use crate::common::{bin, code, json, oracle_available, pdftotext_available};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The demo, run once for this module: its folder (staged incident, bundle, reports).
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-render-demo");
        let o = bin()
            .args(["demo", "-q", "--force", "-o"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        dir
    })
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The row of a Markdown table that cites the module with this hash (first 12 hex).
fn row_citing<'a>(md: &'a str, short: &str) -> &'a str {
    md.lines()
        .find(|l| l.starts_with('|') && l.contains(&format!("`{short}`")) && l.contains("re-"))
        .unwrap_or_else(|| panic!("no table row cites {short}:\n{md}"))
}

#[test]
fn the_re_signed_module_has_one_status_in_scope_the_rca_and_the_advisory() {
    let d = demo();
    let o = bin()
        .args(["scope", "--json", "-K"])
        .arg(d.join("incident/keys/release-a.pub"))
        .arg(d.join("IR-2026-0042.zip"))
        .output()
        .unwrap();
    let v = json(&o);
    let modules = v["modules"].as_array().expect("modules");
    let resigned: Vec<&serde_json::Value> = modules
        .iter()
        .filter(|m| m["path"].as_str().unwrap().ends_with("resigned/app.wasm"))
        .collect();
    assert_eq!(resigned.len(), 1, "{v:#}");
    let m = resigned[0];
    // Scope no longer asks to re-sign it: it is already re-signed, by the same assessment the
    // reports print.
    assert_eq!(m["status"], "re-signed", "{m:#}");
    assert_eq!(m["assessment"]["status"], "re-signed", "{m:#}");
    assert_eq!(v["summary"]["re_signed"], 1, "{v:#}");
    assert_eq!(v["summary"]["valid"], 3, "{v:#}");
    // Every bundle module carries its assessment, and each agrees with the RCA's row.
    let rca = read(&d.join("reports/root-cause-analysis.md"));
    let adv = read(&d.join("reports/security-advisory.md"));
    for m in modules {
        let status = m["assessment"]["status"].as_str().expect("assessed");
        let bag = m["origin"]["bag_path"].as_str().unwrap();
        let sha = bag.rsplit('/').next().unwrap().trim_end_matches(".wasm");
        let short = &sha[..12];
        let summary = m["assessment"]["summary"].as_str().unwrap();
        let cited = format!("`{short}`");
        assert!(
            rca.lines()
                .any(|l| l.starts_with('|') && l.contains(&cited) && l.contains(summary)),
            "scope says {status} ({summary}) for {short}; the RCA does not:\n{rca}"
        );
    }
    let short = &m["origin"]["bag_path"].as_str().unwrap()["data/modules/".len()..][..12];
    for doc in [&rca, &adv] {
        let row = row_citing(doc, short);
        assert!(
            row.contains("re-signed: valid signature by the replacement key"),
            "{row}"
        );
        assert!(
            !row.contains("suspect") && !row.contains("not trusted"),
            "{row}"
        );
    }
}
