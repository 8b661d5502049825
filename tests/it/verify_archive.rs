//! `verify` of many bundles (archive audit, #19): a folder of bundles is walked for .zip files,
//! each verified, one fixity record per bundle in order plus a summary; recorded digests from
//! `--expect-digests` (sha256sum lines or fleet-manifest JSON lines) are enforced, a listed
//! bundle not found and an unlisted one both fail; exit 0/1/2.

use crate::common::{cmd, code, fixture};
use std::path::{Path, PathBuf};

/// Collects a small case into `dir/name`, returns (path, digest).
fn collect(dir: &Path, name: &str, case_id: &str) -> (PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join(name);
    let o = cmd()
        .args([
            "collect",
            "-q",
            "--case-id",
            case_id,
            "--collected-at",
            "2026-11-25T10:00:00Z",
            "-o",
        ])
        .arg(&out)
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .output()
        .unwrap();
    assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
    let v = cmd().args(["verify", "--json"]).arg(&out).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    (out, json["digest"].as_str().unwrap().to_owned())
}

/// Flips one byte inside the stored module of `bundle`, in place (the zip structure unchanged).
fn flip_module_byte(bundle: &Path) {
    let mut bytes = std::fs::read(bundle).unwrap();
    let at = bytes.windows(4).position(|w| w == b"\0asm").unwrap() + 20;
    bytes[at] ^= 1;
    std::fs::write(bundle, bytes).unwrap();
}

/// The JSON lines of `verify --json` over an archive (or of a fixity report), each checked
/// against its published schema: (records, summary).
fn records(stdout: &[u8]) -> (Vec<serde_json::Value>, serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/schema/verify-archive-line.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut lines: Vec<serde_json::Value> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for l in &lines {
        let errors: Vec<String> = validator.iter_errors(l).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{l}: {errors:?}");
    }
    let summary = lines.pop().unwrap()["summary"].clone();
    (lines, summary)
}

#[test]
fn a_folder_of_bundles_is_audited_in_order_and_one_altered_bundle_fails_the_audit() {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("archive");
    let (a, _) = collect(&archive.join("2026"), "a.zip", "IR-A");
    let (b, _) = collect(&archive.join("2026"), "b.zip", "IR-B");
    let (c, _) = collect(&archive.join("2027/deep"), "c.zip", "IR-C");
    // Not a bundle by name: a folder walk takes only .zip files.
    std::fs::write(archive.join("notes.txt"), "index of the archive\n").unwrap();

    let o = cmd()
        .args(["verify", "--json"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let (recs, summary) = records(&o.stdout);
    let names: Vec<&str> = recs.iter().map(|r| r["bundle"].as_str().unwrap()).collect();
    let shown = |p: &PathBuf| p.display().to_string();
    assert_eq!(names, [shown(&a), shown(&b), shown(&c)]);
    assert!(recs.iter().all(|r| r["status"] == "intact"));
    assert_eq!(summary["bundles"], 3);
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert_eq!(summary["bytes"], size(&a) + size(&b) + size(&c));
    assert_eq!(recs[0]["size"], size(&a));

    // One payload byte changed in b: that record fails, the others stay intact, exit 1.
    flip_module_byte(&b);
    let o = cmd()
        .args(["verify", "--json"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let (recs, summary) = records(&o.stdout);
    let status: Vec<&str> = recs.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["intact", "altered", "intact"]);
    assert!(!recs[1]["problems"].as_array().unwrap().is_empty());
    assert_eq!(summary["by_status"]["altered"], 1);
    assert_eq!(summary["by_status"]["intact"], 2);

    // The human output names the failed bundle and says so in the summary.
    let o = cmd().args(["verify"]).arg(&archive).output().unwrap();
    assert_eq!(code(&o), 1);
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().find(|l| l.contains("b.zip")).unwrap();
    assert!(line.starts_with("ALTERED"), "{line}");
    assert!(text.contains("3 bundles: 1 altered, 2 intact"), "{text}");
}

#[test]
fn recorded_digests_are_enforced_and_missing_or_unlisted_bundles_fail() {
    let t = tempfile::tempdir().unwrap();
    let archive = t.path().join("archive");
    let (a, da) = collect(&archive, "a.zip", "IR-A");
    let (b, db) = collect(&archive, "b.zip", "IR-B");
    // sha256sum style (with binary-mode `*`) for a, a fleet-manifest JSON line for b.
    let exp = t.path().join("expected.txt");
    let fleet = format!(
        "# recorded at collection\n{da} *a.zip\n{{\"host\":\"runner-1\",\"bundle\":\"{}\",\"digest\":\"{db}\",\"status\":\"intact\"}}\n",
        b.display()
    );
    std::fs::write(&exp, &fleet).unwrap();
    let report = t.path().join("fixity.jsonl");
    let o = cmd()
        .args(["verify", "--expect-digests"])
        .arg(&exp)
        .arg("--fixity-report")
        .arg(&report)
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let (recs, summary) = records(&std::fs::read(&report).unwrap());
    assert_eq!(recs[0]["expected_digest"], da.as_str());
    assert_eq!(recs[1]["expected_digest"], db.as_str());
    assert!(recs.iter().all(|r| r["checked_at"].is_string()));
    assert_eq!(summary["bundles"], 2);
    // The report is created new: a second run refuses to replace it, unless --force.
    let o = cmd()
        .args(["verify", "--expect-digests"])
        .arg(&exp)
        .arg("-o")
        .arg(&report)
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));

    // a swapped for another, intact bundle: its digest is not the recorded one.
    let (other, _) = collect(&t.path().join("other"), "a.zip", "IR-OTHER");
    std::fs::copy(&other, &a).unwrap();
    // A listed bundle that is gone, and a bundle nobody recorded.
    std::fs::write(&exp, format!("{fleet}{da}  lost.zip\n")).unwrap();
    collect(&archive, "stray.zip", "IR-STRAY");
    let o = cmd()
        .args(["verify", "--json", "--expect-digests"])
        .arg(&exp)
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let (recs, _) = records(&o.stdout);
    let by_name = |n: &str| {
        recs.iter()
            .find(|r| r["bundle"].as_str().unwrap().ends_with(n))
            .unwrap_or_else(|| panic!("no record for {n}"))
    };
    assert_eq!(by_name("a.zip")["status"], "altered");
    assert_eq!(by_name("b.zip")["status"], "intact");
    assert_eq!(by_name("stray.zip")["status"], "not-recorded");
    assert_eq!(by_name("lost.zip")["status"], "missing");
    assert_eq!(by_name("lost.zip")["expected_digest"], da.as_str());
}

#[test]
fn usage_errors_are_exit_2_and_one_bundle_keeps_its_single_report() {
    let t = tempfile::tempdir().unwrap();
    let (a, da) = collect(t.path(), "a.zip", "IR-A");
    // One bundle without archive flags: the one-bag report, unchanged.
    let o = cmd().args(["verify"]).arg(&a).output().unwrap();
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact: "));
    // --expect-digest is one bundle's digest.
    let o = cmd()
        .args(["verify", "--expect-digest", &da])
        .arg(&a)
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    // A malformed expected-digests line names the file and the line.
    let exp = t.path().join("exp.txt");
    std::fs::write(&exp, format!("{da}  a.zip\nnot-hex  b.zip\n")).unwrap();
    let o = cmd()
        .args(["verify", "--expect-digests"])
        .arg(&exp)
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exp.txt: line 2"), "{err}");
    // A name that matches two bundles is ambiguous, not guessed.
    collect(&t.path().join("sub"), "a.zip", "IR-A2");
    std::fs::write(&exp, format!("{da}  a.zip\n")).unwrap();
    let o = cmd()
        .args(["verify", "--expect-digests"])
        .arg(&exp)
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("names 2 bundles"));
    // A folder with no bundle at all is not a passed audit.
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = cmd().args(["verify"]).arg(&empty).output().unwrap();
    assert_eq!(code(&o), 1);
}
