//! `demo`: the README's first command runs the sample incident end to end from the binary alone.

use crate::common::fixture;
use assert_cmd::Command;

#[test]
fn demo_collects_verifies_and_reports_the_sample_incident() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-out");
    let run = Command::cargo_bin("wsc-forensics")
        .unwrap()
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle digest "))
        .expect("digest printed")
        .to_owned();
    let bundle = out.join("IR-2026-0042.zip");
    // The bundle verifies again, with the examiner's signature, from the binary alone.
    Command::cargo_bin("wsc-forensics")
        .unwrap()
        .arg("verify")
        .arg(&bundle)
        .arg("--examiner-key")
        .arg(out.join("incident/examiner/examiner.pub"))
        .args(["--expect-digest", &digest])
        .assert()
        .code(0);
    let reports = out.join("reports");
    for name in [
        "incident-timeline",
        "root-cause-analysis",
        "key-compromise-notification",
        "security-advisory",
        "metrics",
    ] {
        for ext in ["md", "pdf"] {
            let p = reports.join(format!("{name}.{ext}"));
            let len = std::fs::metadata(&p)
                .unwrap_or_else(|_| panic!("{p:?} missing"))
                .len();
            assert!(len > 0, "{p:?} empty");
            if ext == "pdf" {
                assert!(
                    len <= 300 * 1024,
                    "{p:?} is {len} bytes, over the 300 KB target"
                );
            }
        }
    }
    let rca = std::fs::read_to_string(reports.join("root-cause-analysis.md")).unwrap();
    assert!(rca.contains(&digest), "the RCA cites the bundle digest");
    // Key A's modules carry the decoder's verdicts; the tampered one is suspect.
    assert!(rca.contains("c858d5ec82d976c190cb33d0 valid"), "{rca}");
    assert!(rca.contains("c858d5ec82d976c190cb33d0 invalid"), "{rca}");
    assert!(
        rca.contains("secret-key-permissions"),
        "loose key file mode is a finding"
    );
    let csv = std::fs::read_to_string(reports.join("timeline.csv")).unwrap();
    assert!(csv.starts_with("datetime,timestamp,timestamp_desc,message"));
    // The fixtures the demo is made from are untouched (it stages compiled-in copies).
    let sums = std::fs::read_to_string(fixture("wsc/SHA256SUMS")).unwrap();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap();
        let bytes = std::fs::read(fixture(&format!("wsc/{name}"))).unwrap();
        assert_eq!(
            wsc_forensics::model::digest::Sha256Digest::of(&bytes).to_hex(),
            hash,
            "{name}"
        );
    }
    if crate::common::pdftotext_available() {
        let text = std::process::Command::new("pdftotext")
            .arg(reports.join("root-cause-analysis.pdf"))
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(
            text.contains(&digest[..32]),
            "PDF footer/header cites the digest"
        );
        assert!(text.contains("c858d5ec82d976c190cb33d0"));
    }
}
