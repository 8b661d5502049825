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

/// #13: `demo` writes its staged incident, bundle and reports without following a link planted
/// in `-o`: the victim is never written, with or without `--force`.
#[test]
fn demo_never_writes_through_a_link_planted_in_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-out");
    std::fs::create_dir_all(out.join("reports")).unwrap();
    std::fs::create_dir_all(out.join("incident")).unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, out.join("reports/metrics.md")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("incident/case.toml")).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("incident/keys")).unwrap();
    let run = |force: bool| {
        Command::cargo_bin("wsc-forensics")
            .unwrap()
            .args(["demo", "-q", "-o"])
            .arg(&out)
            .args(force.then_some("--force"))
            .output()
            .unwrap()
    };
    let o = run(false);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    // With --force, a linked folder stops the run, named; nothing is written through it.
    let o = run(true);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("incident/keys: is a symbolic link; refusing to write through it"),
        "{err}"
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // Without it, --force replaces the file-level links themselves and the demo completes.
    std::fs::remove_file(out.join("incident/keys")).unwrap();
    let o = run(true);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    for replaced in ["reports/metrics.md", "incident/case.toml"] {
        let md = std::fs::symlink_metadata(out.join(replaced)).unwrap();
        assert!(md.file_type().is_file(), "{replaced}");
    }
}
