//! `collect`: the bundle validates with bagit-python, is byte-identical for the same inputs and
//! time, records what it could not collect, flags sources that changed, never stores a secret
//! key byte, and is written atomically.

use crate::common::cmd;

use crate::common::fixture;
use base64::Engine;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wsc_forensics::acquire::{collect, CollectError, CollectRequest};
use wsc_forensics::bundle::{open_bundle, verify_bundle, Verdict, VerifyOptions};
use wsc_forensics::model::case::CaseInfo;
use wsc_forensics::model::custody::CustodyAction;
use wsc_forensics::model::evidence::ItemKind;

const T: &str = "2026-11-25T10:00:00Z";

/// A case folder with a case file and an attachment whose names have a space and a `%`.
fn case_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let case = dir.join("case 100%.toml");
    std::fs::write(
        &case,
        "case_id = \"IR-2026-017\"\nexaminer = \"A. Examiner\"\norganization = \"Example Org\"\nincident_type = \"INC-1\"\nseverity = \"critical\"\n[times]\ndetected = \"2026-11-20T09:00:00Z\"\n",
    )
    .unwrap();
    let notes = dir.join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(
        notes.join("examiner notes 50% done.txt"),
        "key found in repo\n",
    )
    .unwrap();
    (case, notes)
}

fn collect_cli(dir: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    let (case, notes) = case_inputs(dir);
    cmd()
        .arg("collect")
        .arg("-o")
        .arg(out)
        .arg("--case-file")
        .arg(&case)
        .args(["--collected-at", T])
        .args(extra)
        .arg(fixture("wsc/modules"))
        .arg(fixture("wsc/keys"))
        .arg(fixture("wsc/audit"))
        .arg(&notes)
        .assert()
}

fn zip_entry(zip: &Path, name: &str) -> Vec<u8> {
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut out = Vec::new();
    za.by_name(name).unwrap().read_to_end(&mut out).unwrap();
    out
}

#[test]
fn bundle_validates_with_bagit_python() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case.zip");
    let a = collect_cli(dir.path(), &out, &[]).code(1); // 1: the fixtures hold tampered modules (High findings)
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("bundle digest "), "{stdout}");
    let info = String::from_utf8(zip_entry(&out, "IR-2026-017/bag-info.txt")).unwrap();
    assert!(info.contains("External-Identifier: IR-2026-017\n"));
    assert!(info.contains("Contact-Name: A. Examiner\n"));
    assert!(info.contains("Source-Organization: Example Org\n"));
    assert!(info.contains("Bagging-Date: 2026-11-25\n"));
    assert!(info.contains("Incident-Type: INC-1\n"));
    assert!(info.contains("Severity: critical\n"));
    assert!(info.contains(&format!(
        "Bag-Software-Agent: wsc-forensics {}\n",
        env!("CARGO_PKG_VERSION")
    )));
    // `%` is replaced in bag paths (bagit-python 1.9 does not decode RFC 8493's `%25`); the
    // space is kept, and evidence.json keeps the original name.
    let manifest = String::from_utf8(zip_entry(&out, "IR-2026-017/manifest-sha256.txt")).unwrap();
    assert!(
        manifest.contains("  data/case/case 100_.toml\n"),
        "{manifest}"
    );
    assert!(manifest.contains("  data/case/examiner notes 50_ done.txt\n"));
    let ev = open_bundle(&out).unwrap().evidence;
    assert!(ev
        .items
        .iter()
        .any(|i| i.source.text.ends_with("/examiner notes 50% done.txt")
            && i.bag_path.as_deref() == Some("data/case/examiner notes 50_ done.txt")));
    if !crate::common::bagit_available() {
        return;
    }
    let unz = dir.path().join("unz");
    let st = std::process::Command::new("unzip")
        .args(["-q"])
        .arg(&out)
        .arg("-d")
        .arg(&unz)
        .status()
        .unwrap();
    assert!(st.success());
    let o = std::process::Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(unz.join("IR-2026-017"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "bagit-python rejected the bag: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("is valid"));
}

#[test]
fn same_inputs_and_time_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    // Same command line (the custody record holds argv, so the same output path too).
    let out = dir.path().join("case.zip");
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    let inputs = [fixture("wsc/modules"), fixture("wsc/audit")];
    for keep in [&a, &b] {
        cmd()
            .args(["collect", "--case-id", "IR-9", "--examiner", "X", "-o"])
            .arg(&out)
            .args(&inputs)
            .env("SOURCE_DATE_EPOCH", "1764064800")
            .assert()
            .code(1);
        std::fs::rename(&out, keep).unwrap();
    }
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(x == y, "two collections with the same time differ");
    // And the collection time is part of the bytes.
    let c = dir.path().join("c.zip");
    cmd()
        .args(["collect", "--case-id", "IR-9", "--examiner", "X", "-o"])
        .arg(&out)
        .args(&inputs)
        .env("SOURCE_DATE_EPOCH", "1764151200")
        .assert()
        .code(1);
    std::fs::rename(&out, &c).unwrap();
    assert_ne!(std::fs::read(&c).unwrap(), x);
    // Fixed permissions and timestamps, no extra fields.
    let mut za = zip::ZipArchive::new(std::fs::File::open(&a).unwrap()).unwrap();
    for i in 0..za.len() {
        let f = za.by_index(i).unwrap();
        assert_eq!(
            f.unix_mode().unwrap() & 0o777,
            0o644,
            "{}",
            f.name().unwrap()
        );
        let t = f.last_modified().unwrap();
        assert_eq!((t.year(), t.month(), t.day(), t.hour()), (2025, 11, 25, 10));
        assert_eq!(f.compression(), zip::CompressionMethod::Stored);
    }
}

#[test]
fn json_summary_and_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let a = collect_cli(dir.path(), &outdir, &["--json", "--case-id", "IR-X"]).code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    let path = outdir.join("IR-X.zip");
    assert_eq!(doc["bundle"], path.display().to_string());
    assert_eq!(doc["case_id"], "IR-X");
    assert_eq!(doc["items_by_kind"]["secret-key"], 5);
    assert_eq!(doc["items_by_kind"]["case-file"], 1);
    let contents = open_bundle(&path).unwrap();
    assert_eq!(doc["digest"], contents.digest.to_hex());
    assert_eq!(contents.case_id, "IR-X");
    assert_eq!(
        contents.evidence.case.examiner.as_deref(),
        Some("A. Examiner")
    );
    // The case file is stored under data/case/ and analysed; declared times became facts.
    let case_item = contents
        .evidence
        .items
        .iter()
        .find(|i| i.kind == ItemKind::CaseFile)
        .unwrap();
    assert_eq!(
        case_item.bag_path.as_deref(),
        Some("data/case/case 100_.toml")
    );
    assert_eq!(case_item.times[0].event_type, "case.detected");
    // Audit logs were parsed into timeline facts.
    let audit = contents
        .evidence
        .items
        .iter()
        .find(|i| i.kind == ItemKind::AuditLog)
        .unwrap();
    assert!(audit
        .times
        .iter()
        .all(|t| t.event_type.starts_with("audit.")));
    assert!(audit.bag_path.as_deref().unwrap().starts_with("data/logs/"));
}

#[test]
fn secret_keys_are_metadata_only_and_no_secret_byte_enters_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case.zip");
    let sign = fixture("wsc/keys/test-key-a.sec");
    collect_cli(
        dir.path(),
        &out,
        &["--sign-key", sign.to_str().unwrap(), "--compress"],
    )
    .code(1);
    let zip_bytes = std::fs::read(&out).unwrap();
    // Search the raw zip and every decompressed entry.
    let mut haystacks = vec![zip_bytes.clone()];
    let mut za = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    for i in 0..za.len() {
        let mut v = Vec::new();
        za.by_index(i).unwrap().read_to_end(&mut v).unwrap();
        haystacks.push(v);
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for sec in [
        "test-key-a.sec",
        "test-key-b.sec",
        "test-key-bundle-signer.sec",
    ] {
        let raw = std::fs::read(fixture(&format!("wsc/keys/{sec}"))).unwrap();
        let seed = &raw[1..33];
        let file_hash = wsc_forensics::model::digest::Sha256Digest::of(&raw);
        let needles: Vec<Vec<u8>> = vec![
            // A hash of the secret file would confirm a guess of the secret: never recorded.
            file_hash.to_hex().into_bytes(),
            seed.to_vec(),
            raw[1..65].to_vec(),
            hex::encode(seed).into_bytes(),
            hex::encode_upper(seed).into_bytes(),
            b64.encode(seed).into_bytes(),
            b64.encode(&raw).into_bytes(),
        ];
        for h in &haystacks {
            for n in &needles {
                assert!(
                    !h.windows(n.len()).any(|w| w == &n[..]),
                    "secret bytes of {sec} found in the bundle"
                );
            }
        }
    }
    let pem = std::fs::read_to_string(fixture("wsc/keys/test-key-a.pkcs8.pem")).unwrap();
    let body = pem.lines().nth(1).unwrap();
    let ssh = std::fs::read_to_string(fixture("wsc/keys/test-ssh-ed25519")).unwrap();
    let ssh_line = ssh.lines().nth(2).unwrap();
    for h in &haystacks {
        for n in [body, ssh_line] {
            assert!(!h.windows(n.len()).any(|w| w == n.as_bytes()));
        }
    }
    // Deflated (--compress) entries verify like stored ones.
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
    let contents = open_bundle(&out).unwrap();
    let secrets: Vec<_> = contents
        .evidence
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::SecretKey)
        .collect();
    assert_eq!(secrets.len(), 5);
    assert!(secrets.iter().all(|i| i.bag_path.is_none()));
    // Secret key items are named by their public key's fingerprint.
    let a = secrets
        .iter()
        .find(|i| i.source.text.ends_with("test-key-a.sec"))
        .unwrap();
    assert_eq!(
        a.digest_of,
        wsc_forensics::model::evidence::DigestOf::PublicKey
    );
    let pk_a = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
    assert_eq!(
        a.sha256,
        wsc_forensics::model::digest::Sha256Digest::of(&pk_a[1..])
    );
    let meta_only = contents
        .custody
        .iter()
        .filter(|e| e.action == CustodyAction::MetadataOnly)
        .count();
    assert_eq!(meta_only, 5);
    // The custody argv names the signing key file (a path is not a secret).
    let argv = &contents.custody[0].argv;
    assert!(argv.iter().any(|a| a == sign.to_str().unwrap()), "{argv:?}");
}

#[test]
fn modules_are_judged_against_the_keys_among_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case.zip");
    collect_cli(dir.path(), &out, &[]).code(1); // High findings: tampered modules
    let contents = open_bundle(&out).unwrap();
    let item = |name: &str| {
        contents
            .evidence
            .items
            .iter()
            .find(|i| i.source.text.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not collected"))
    };
    let verdicts = |name: &str| -> Vec<(String, String)> {
        item(name)
            .analysis
            .signature_verdicts()
            .iter()
            .map(|v| {
                (
                    v.key.clone().unwrap_or_default(),
                    v.verdict.as_str().to_owned(),
                )
            })
            .collect()
    };
    let a = "c858d5ec82d976c190cb33d0".to_owned();
    let b = "465c5341001f3e570f784f71".to_owned();
    assert_eq!(
        verdicts("/signed-a.wasm"),
        vec![(a.clone(), "valid".to_owned())]
    );
    assert_eq!(
        verdicts("/signed-a-b.wasm"),
        vec![
            (a.clone(), "valid".to_owned()),
            (b.clone(), "valid".to_owned())
        ]
    );
    assert_eq!(
        verdicts("/signed-a-tampered-code.wasm"),
        vec![(a.clone(), "invalid".to_owned())]
    );
    // The .sig beside detached-a.wasm is used.
    assert_eq!(verdicts("/detached-a.wasm"), vec![(a, "valid".to_owned())]);
    let tampered = item("/signed-a-tampered-code.wasm");
    assert!(tampered
        .findings
        .iter()
        .any(|f| f.severity >= wsc_forensics::model::evidence::Severity::High));
    // Keyless modules carry the transparency checks and their dated facts.
    let keyless = item("/keyless-replayed-rekor-entry.wasm");
    let wsc_forensics::model::analysis::Analysis::Module(m) = &keyless.analysis else {
        panic!("{:?}", keyless.analysis)
    };
    assert!(m.keyless_checks.as_ref().unwrap()["checks"].is_array());
    assert!(
        keyless.times.iter().any(|t| t.event_type.contains("rekor")),
        "{:?}",
        keyless.times
    );
    // The derived timeline is in the bag.
    let timeline = zip_entry(&out, "IR-2026-017/data/timeline.jsonl");
    assert!(
        timeline
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            > 20
    );
}

fn request(dir: &Path, inputs: Vec<PathBuf>, out: &Path) -> CollectRequest {
    let mut req = crate::common::collect_request("IR-T", inputs, out);
    req.actor.host = dir.display().to_string();
    req
}

#[test]
fn passphrase_style_values_never_reach_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.zip");
    let mut req = request(dir.path(), vec![fixture("wsc/modules/signed-a.wasm")], &out);
    req.argv = [
        "wsc-forensics",
        "collect",
        "--sign-key",
        "/keys/examiner.sec",
        "--passphrase",
        "hunter2-correct-horse",
        "--token=tok-s3cr3t-value",
    ]
    .map(String::from)
    .to_vec();
    collect(&req).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    for secret in ["hunter2-correct-horse", "tok-s3cr3t-value"] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    let c = open_bundle(&out).unwrap();
    assert_eq!(
        c.custody[0].argv,
        [
            "wsc-forensics",
            "collect",
            "--sign-key",
            "/keys/examiner.sec",
            "--passphrase",
            "<redacted>",
            "--token=<redacted>"
        ]
    );
}

#[test]
fn a_source_modified_during_collection_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), src.join("a.wasm")).unwrap();
    std::fs::write(src.join("big.bin"), vec![7u8; 3 << 20]).unwrap();
    let out = dir.path().join("c.zip");
    let mut req = request(dir.path(), vec![src.clone()], &out);
    req.acquire.in_memory_limit = 1 << 20; // big.bin takes the hash-then-copy path
    req.spill_run_bytes = Some(1); // and every record is sorted on disk
    let big = src.join("big.bin");
    req.acquire.after_first_chunk = Some(Arc::new(move |p: &Path| {
        use std::io::Write;
        use std::os::unix::fs::FileExt;
        if p.ends_with("a.wasm") {
            let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
            f.write_all(b"\0appended").unwrap();
        } else if p == big {
            // Same size, different first byte: only the second read sees it.
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .write_all_at(b"X", 0)
                .unwrap();
        }
    }));
    let outcome = collect(&req).unwrap();
    assert_eq!(
        outcome.summary.changed_during_acquisition.len(),
        2,
        "{:?}",
        outcome.summary
    );
    let evidence = open_bundle(&out).unwrap().evidence;
    let items = &evidence.items;
    let a = items
        .iter()
        .find(|i| i.source.text.ends_with("a.wasm"))
        .unwrap();
    assert!(
        a.changed_during_acquisition
            .iter()
            .any(|c| c.contains("size")),
        "{:?}",
        a.changed_during_acquisition
    );
    assert!(a
        .findings
        .iter()
        .any(|f| f.code == "changed-during-acquisition"));
    let b = items
        .iter()
        .find(|i| i.source.text.ends_with("big.bin"))
        .unwrap();
    assert!(
        b.changed_during_acquisition
            .iter()
            .any(|c| c.contains("content differs")),
        "{:?}",
        b.changed_during_acquisition
    );
    // The recorded digest is that of the bytes in the bag.
    let mut expected = vec![7u8; 3 << 20];
    expected[0] = b'X';
    assert_eq!(
        b.sha256,
        wsc_forensics::model::digest::Sha256Digest::of(&expected)
    );
    let c = open_bundle(&out).unwrap();
    let changed: Vec<_> = c
        .custody
        .iter()
        .filter(|e| e.action == CustodyAction::ChangedDuringAcquisition)
        .collect();
    assert_eq!(changed.len(), 2);
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
}

#[test]
fn a_large_source_that_vanishes_before_its_copy_is_not_collected_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), src.join("a.wasm")).unwrap();
    std::fs::write(src.join("big.bin"), vec![1u8; 2 << 20]).unwrap();
    let out = dir.path().join("c.zip");
    let mut req = request(dir.path(), vec![src.clone()], &out);
    req.acquire.in_memory_limit = 1 << 20;
    req.acquire.after_first_chunk = Some(Arc::new(|p: &Path| {
        if p.ends_with("big.bin") {
            std::fs::remove_file(p).unwrap();
        }
    }));
    let outcome = collect(&req).unwrap();
    assert_eq!(outcome.summary.items, 1);
    let evidence = open_bundle(&out).unwrap().evidence;
    assert_eq!(evidence.items.len(), 1);
    let nc = &evidence.not_collected;
    assert_eq!(nc, &outcome.summary.not_collected);
    assert_eq!(nc.len(), 1);
    assert!(nc[0].path.text.ends_with("big.bin"));
    assert!(
        nc[0].reason.contains("could not be reopened"),
        "{}",
        nc[0].reason
    );
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
}

#[test]
fn symlink_loops_and_fifos_are_recorded_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), src.join("a.wasm")).unwrap();
    std::os::unix::fs::symlink(src.join("l2"), src.join("l1")).unwrap();
    std::os::unix::fs::symlink(src.join("l1"), src.join("l2")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("passwd")).unwrap();
    std::os::unix::fs::symlink(&src, src.join("up")).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(src.join("pipe"))
        .status()
        .unwrap()
        .success());
    let out = dir.path().join("c.zip");
    let a = cmd()
        .args([
            "collect",
            "--case-id",
            "IR-L",
            "--collected-at",
            T,
            "--json",
            "-o",
        ])
        .arg(&out)
        .arg(&src)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["items"], 1);
    let nc = doc["not_collected"].as_array().unwrap();
    let reason = |name: &str| {
        nc.iter()
            .find(|n| n["path"]["text"].as_str().unwrap().ends_with(name))
            .map(|n| n["reason"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{name} not recorded: {nc:?}"))
    };
    assert!(reason("/l1").starts_with("symbolic link"));
    assert!(reason("/l2").starts_with("symbolic link"));
    assert!(reason("/passwd").contains("/etc/passwd"));
    assert!(reason("/up").starts_with("symbolic link"));
    assert!(reason("/pipe").starts_with("FIFO"));
    let c = open_bundle(&out).unwrap();
    assert_eq!(c.evidence.not_collected.len(), 5);
    assert_eq!(
        c.custody
            .iter()
            .filter(|e| e.action == CustodyAction::NotCollected)
            .count(),
        5
    );
    // Nothing from /etc entered the bag.
    let bytes = std::fs::read(&out).unwrap();
    assert!(!bytes.windows(5).any(|w| w == b"root:"));
}

#[test]
fn files_over_the_size_cap_are_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.zip");
    let a = cmd()
        .args([
            "collect",
            "--case-id",
            "IR-S",
            "--max-file-size",
            "1K",
            "--json",
            "-o",
        ])
        .arg(&out)
        .arg(fixture("wsc/modules/keyless-no-rekor.wasm"))
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["items"], 1);
    assert!(doc["not_collected"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("size cap"));
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let out = outdir.join("c.zip");
    let mut req = request(dir.path(), vec![fixture("wsc/modules")], &out);
    req.fail_write_after = Some(10_000);
    let err = collect(&req).unwrap_err();
    assert!(matches!(err, CollectError::Write(_)), "{err}");
    assert!(err.to_string().contains("injected write failure"), "{err}");
    assert_eq!(
        std::fs::read_dir(&outdir).unwrap().count(),
        0,
        "temp file or bundle left behind"
    );
    // Through the CLI: a destination folder that does not exist.
    cmd()
        .args(["collect", "--case-id", "IR-A", "-o"])
        .arg(dir.path().join("missing/c.zip"))
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .code(2);
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn an_existing_bundle_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.zip");
    std::fs::write(&out, b"previous bundle").unwrap();
    let args = ["collect", "--case-id", "IR-F", "-o"];
    cmd()
        .args(args)
        .arg(&out)
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    assert_eq!(std::fs::read(&out).unwrap(), b"previous bundle");
    cmd()
        .args(args)
        .arg(&out)
        .arg("--force")
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .success();
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_bundle_written_inside_an_input_folder_does_not_collect_itself() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("wsc/modules/base.wasm"),
        dir.path().join("base.wasm"),
    )
    .unwrap();
    let a = cmd()
        .args(["collect", "--case-id", "IR-IN", "--json", "-o"])
        .arg(dir.path())
        .arg(dir.path())
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["items"], 1);
    assert_eq!(
        doc["changed_during_acquisition"].as_array().unwrap().len(),
        0
    );
    let out = dir.path().join("IR-IN.zip");
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c.zip");
    cmd()
        .args(["collect", "-o"])
        .arg(&out)
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .code(2);
    cmd()
        .args(["collect", "--case-id", "../x", "-o"])
        .arg(&out)
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .code(2);
    cmd()
        .args(["collect", "--case-id", "A", "--sign-key"])
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .arg("-o")
        .arg(&out)
        .arg(fixture("wsc/modules/base.wasm"))
        .assert()
        .code(2);
    assert!(!out.exists());
}

/// Reads every file under `dir` once, so that later reads leave the access times as they are
/// (relatime updates an access time only when it is older than the last change).
fn settle_access_times(dir: &Path) {
    for e in walkdir::WalkDir::new(dir) {
        let e = e.unwrap();
        if e.file_type().is_file() {
            std::fs::read(e.path()).unwrap();
        }
    }
}

/// Records sorted on disk (evidence items, custody lines, timeline rows; here every record its
/// own run) give the same bundle as records kept in memory, and each metadata entry is exactly
/// what the readers' own serialisation gives: evidence.json is `serde_json` of the evidence,
/// custody.jsonl one `serde_json` line per event, timeline.jsonl `timeline::build` written as
/// JSON Lines (what the `timeline` command writes).
#[test]
fn spilled_records_give_the_same_bundle_and_the_readers_serialisation() {
    let dir = tempfile::tempdir().unwrap();
    let staged = wsc_forensics::demo::stage_sample_incident(&dir.path().join("incident")).unwrap();
    // A duplicate of a module (one hash-named entry, two items) and a link (not collected).
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::copy(
        fixture("wsc/modules/signed-a.wasm"),
        extra.join("a-copy.wasm"),
    )
    .unwrap();
    std::fs::copy(
        fixture("wsc/modules/signed-a.wasm"),
        extra.join("a-copy2.wasm"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/passwd", extra.join("passwd")).unwrap();
    settle_access_times(dir.path());
    let out = dir.path().join("out.zip");
    let run = |spill: Option<usize>| {
        let mut inputs = staged.inputs.clone();
        inputs.push(extra.clone());
        let mut req = request(dir.path(), inputs, &out);
        req.case_file = Some(staged.case_file.clone());
        req.case = CaseInfo::load(&staged.case_file).unwrap();
        req.spill_run_bytes = spill;
        let outcome = collect(&req).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        std::fs::remove_file(&out).unwrap();
        (outcome, bytes)
    };
    let (in_memory, a) = run(None);
    let (spilled, b) = run(Some(1));
    assert_eq!(in_memory.spilled_bytes, 0);
    assert!(spilled.spilled_bytes > 0);
    assert!(a == b, "spilling changed the bundle");
    assert_eq!(in_memory.digest, spilled.digest);

    std::fs::write(&out, &a).unwrap();
    let c = open_bundle(&out).unwrap();
    let root = format!("{}/data/", c.evidence.case.case_id);
    let mut evidence = serde_json::to_vec(&c.evidence).unwrap();
    evidence.push(b'\n');
    assert!(zip_entry(&out, &format!("{root}evidence.json")) == evidence);
    let mut custody = Vec::new();
    for e in &c.custody {
        serde_json::to_writer(&mut custody, e).unwrap();
        custody.push(b'\n');
    }
    assert!(zip_entry(&out, &format!("{root}custody.jsonl")) == custody);
    let mut timeline = Vec::new();
    let events = wsc_forensics::timeline::build(&c.evidence, &c.custody);
    wsc_forensics::timeline::write_jsonl(&events, &mut timeline).unwrap();
    assert!(zip_entry(&out, &format!("{root}timeline.jsonl")) == timeline);
    // The case file is cited by the declared events (the rows collect builds apart).
    assert!(events
        .iter()
        .any(|e| e.event_type.starts_with("case.") && e.evidence_sha256.is_some()));

    // The summary the CLI prints is the evidence's.
    let s = &in_memory.summary;
    let ev = &c.evidence;
    assert_eq!(s.items, ev.items.len() as u64);
    assert_eq!(s.not_collected, ev.not_collected);
    assert_eq!(s.not_collected.len(), 1);
    assert_eq!(s.max_severity(), ev.max_severity());
    let mut by_kind = std::collections::BTreeMap::new();
    for i in &ev.items {
        *by_kind.entry(i.kind).or_insert(0u64) += 1;
    }
    assert_eq!(s.items_by_kind, by_kind);
    let mut by_sev = std::collections::BTreeMap::new();
    for (_, f) in ev.all_findings() {
        *by_sev.entry(f.severity).or_insert(0u64) += 1;
    }
    assert_eq!(s.findings_by_severity, by_sev);
    assert_eq!(s.case_id, ev.case.case_id);
}
