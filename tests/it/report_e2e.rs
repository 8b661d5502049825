//! `timeline` and `report` through the binary on a bundle made by `collect` from the real
//! fixtures and the demo case file; an altered bundle still reports and exits 1.

use crate::common::cmd;

use crate::common::fixture;
use std::path::{Path, PathBuf};

/// Collects a small INC-1 case into `dir/case.zip`; returns its path and digest.
fn collect(dir: &Path) -> (PathBuf, String) {
    let zip = dir.join("case.zip");
    let out = cmd()
        .args(["collect", "-o"])
        .arg(&zip)
        .arg("--case-file")
        .arg(fixture("demo/case.toml"))
        .args(["--collected-at", "2026-11-25T08:00:00Z"])
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(fixture("wsc/modules/signed-a-tampered-code.wasm"))
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .arg(fixture("wsc/audit/audit-all-event-types.jsonl"))
        .output()
        .unwrap();
    // Exit 1: the tampered module is a High finding (the bundle is still written).
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle digest "))
        .expect("collect prints the digest")
        .trim()
        .to_owned();
    (zip, digest)
}

#[test]
fn timeline_of_a_collected_bundle_in_three_formats() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = collect(dir.path());
    let out = cmd().arg("timeline").arg(&zip).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("datetime,timestamp,timestamp_desc,message,source,event_type,"));
    // The demo case file's nine declared times and two events, once each.
    assert_eq!(csv.matches(",case-file,case.").count(), 9 + 2 + 2);
    assert!(csv.contains("2026-11-17T09:40:00+00:00,1794908400000000,Incident detected,"));

    let jsonl = dir.path().join("t.jsonl");
    let out = cmd()
        .arg("timeline")
        .arg(&zip)
        .args(["--format", "jsonl", "-o"])
        .arg(&jsonl)
        .args(["--from", "2026-11-17", "--to", "2026-11-17T23:59:59Z"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty(), "written to the file, not stdout");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event_type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        types,
        [
            "case.detected",
            "case.event",
            "case.key_revoked",
            "case.window_to",
            "case.contained",
            "case.new_key_generated",
            "case.notified"
        ]
    );

    let out = cmd()
        .arg("timeline")
        .arg(&zip)
        .args(["--format", "md"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("| time (UTC) |"));
    let out = cmd().args(["timeline", "missing.zip"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn report_of_a_collected_bundle_is_deterministic_and_cites_the_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, digest) = collect(dir.path());
    let a = dir.path().join("a");
    let out = cmd()
        .arg("report")
        .arg(&zip)
        .arg("--out")
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.lines().count(), 10);
    for line in printed.lines() {
        assert!(Path::new(line).is_file(), "{line}");
    }
    let rca = std::fs::read_to_string(a.join("root-cause-analysis.md")).unwrap();
    assert!(rca.contains(&format!("| Bundle SHA-256 | `{digest}` |")));
    assert!(rca.contains("| Bundle integrity | verified intact |"));
    let case_sha = wsc_forensics::model::digest::Sha256Digest::of(
        &std::fs::read(fixture("demo/case.toml")).unwrap(),
    );
    assert!(rca.contains(&format!("| Case file SHA-256 | `{case_sha}` |")));
    assert!(rca.contains("IR-2026-0042"));
    let metrics = std::fs::read_to_string(a.join("metrics.md")).unwrap();
    assert_eq!(metrics.matches("**MET**").count(), 4);

    // A second process gives byte-identical files.
    let b = dir.path().join("b");
    cmd()
        .arg("report")
        .arg(&zip)
        .arg("--out")
        .arg(&b)
        .assert()
        .success();
    for name in [
        "root-cause-analysis.pdf",
        "incident-timeline.pdf",
        "metrics.md",
    ] {
        let x = std::fs::read(a.join(name)).unwrap();
        let y = std::fs::read(b.join(name)).unwrap();
        assert!(x == y, "{name} differs between runs");
    }
    let pdf = std::fs::read(a.join("key-compromise-notification.pdf")).unwrap();
    assert!(pdf.len() < 300 * 1024, "{} bytes", pdf.len());
    if crate::common::pdftotext_available() {
        let o = std::process::Command::new("pdftotext")
            .arg(a.join("key-compromise-notification.pdf"))
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(text.contains(&digest));
        assert!(text.contains("c858d5ec82d976c190cb33d0"));
        assert!(text.contains("465c5341001f3e570f784f71"));
    }
}

#[test]
fn an_altered_bundle_still_reports_says_so_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = collect(dir.path());
    // Flip one byte of the stored (uncompressed) tampered-code module inside the zip.
    let mut bytes = std::fs::read(&zip).unwrap();
    let module = std::fs::read(fixture("wsc/modules/signed-a-tampered-code.wasm")).unwrap();
    let at = bytes
        .windows(module.len())
        .position(|w| w == module.as_slice())
        .expect("payload stored uncompressed");
    bytes[at + module.len() / 2] ^= 0xff;
    std::fs::write(&zip, &bytes).unwrap();

    let out_dir = dir.path().join("r");
    let out = cmd()
        .arg("report")
        .arg(&zip)
        .arg("--out")
        .arg(&out_dir)
        .args(["--format", "md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAILED verification"));
    for name in [
        "incident-timeline",
        "root-cause-analysis",
        "key-compromise-notification",
        "security-advisory",
        "metrics",
    ] {
        let md = std::fs::read_to_string(out_dir.join(format!("{name}.md"))).unwrap();
        assert!(
            md.contains("**WARNING: this bundle FAILED verification.**"),
            "{name}"
        );
    }
    let out = cmd().arg("timeline").arg(&zip).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stdout.is_empty(), "the timeline is still written");

    let json_dir = dir.path().join("j");
    let out = cmd()
        .arg("report")
        .arg(&zip)
        .arg("--out")
        .arg(&json_dir)
        .args(["--format", "pdf", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["intact"], false);
    assert!(!doc["problems"].as_array().unwrap().is_empty());
    assert_eq!(doc["bundle_digest"].as_str().unwrap().len(), 64);
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    assert!(files.iter().all(|f| f.as_str().unwrap().ends_with(".pdf")));
}
