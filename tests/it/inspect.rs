//! `inspect` on every real wsc fixture: exact per-signature verdicts with keys A and B (matching
//! the real wsc where it is right, and right where it is wrong), findings, and the CLI's exit
//! contract, including hostile and unreadable inputs.

use crate::common::fixture;
use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use wsc_forensics::cli::inspect::{inspect_one, load_keys};
use wsc_forensics::wasm::verdict::{InvalidReason, Verdict};
use wsc_forensics::wasm::SignatureAnalysis;

const KEY_A: &str = "wsc/keys/test-key-a.pub";
const KEY_B: &str = "wsc/keys/test-key-b.pub";
const A_ID: &str = "c858d5ec82d976c190cb33d0";

/// (module, verdict words with key A, with key B). Verdict order = signatures in file order.
/// "verify A valid" in the fixture README's matrix ⇔ a `valid` here.
const TABLE: &[(&str, &[&str], &[&str])] = &[
    ("base.wasm", &[], &[]),
    ("component.wasm", &[], &[]),
    ("split.wasm", &[], &[]),
    ("signed-a.wasm", &["valid"], &["other-key"]),
    ("signed-a-nokeyid.wasm", &["valid"], &["other-key"]),
    (
        "signed-a-b.wasm",
        &["valid", "other-key"],
        &["other-key", "valid"],
    ),
    (
        "reattached-a-b.wasm",
        &["valid", "other-key"],
        &["other-key", "valid"],
    ),
    // wsc's verify -s / verify_matrix accept this for A; the byte changed: invalid.
    ("signed-a-tampered-code.wasm", &["invalid"], &["other-key"]),
    // Appended after signing: A covers everything but the appended section.
    (
        "signed-a-appended-section.wasm",
        &["partial"],
        &["other-key"],
    ),
    ("signed-a-attested.wasm", &["partial"], &["other-key"]),
    (
        "signed-a-appended-then-b.wasm",
        &["partial", "other-key"],
        &["other-key", "valid"],
    ),
    ("split-signed-a.wasm", &["valid"], &["other-key"]),
    ("split-regex-signed-a.wasm", &["valid"], &["other-key"]),
    (
        "split-signed-a-appended-section.wasm",
        &["partial"],
        &["other-key"],
    ),
    ("signed-component-a.wasm", &["valid"], &["other-key"]),
    // Detached signatures next to the module are found by themselves.
    ("detached-a.wasm", &["valid"], &["other-key"]),
    (
        "detached-a-b.wasm",
        &["valid", "other-key"],
        &["other-key", "valid"],
    ),
    ("keyless-replayed-rekor-entry.wasm", &[], &[]),
    ("keyless-replayed-rekor-entry-tampered.wasm", &[], &[]),
    ("keyless-no-rekor.wasm", &[], &[]),
];

fn module(name: &str) -> PathBuf {
    fixture(&format!("wsc/modules/{name}"))
}

fn words(name: &str, key: &str) -> (Vec<&'static str>, u8) {
    let keys = load_keys(&[fixture(key)]).unwrap();
    let out = inspect_one(&module(name), &keys, None);
    assert!(out.error.is_none(), "{name}: {:?}", out.error);
    let m = out.module.as_ref().unwrap();
    (
        m.verdicts().iter().map(|v| v.verdict.word()).collect(),
        out.status,
    )
}

#[test]
fn every_fixture_module_is_in_the_table() {
    let mut names: Vec<String> = std::fs::read_dir(fixture("wsc/modules"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    names.sort();
    let mut table: Vec<&str> = TABLE.iter().map(|t| t.0).collect();
    table.sort();
    assert_eq!(names, table);
}

#[test]
fn verdicts_for_keys_a_and_b_on_every_fixture() {
    for (name, with_a, with_b) in TABLE {
        for (key, expected) in [(KEY_A, with_a), (KEY_B, with_b)] {
            let (got, status) = words(name, key);
            assert_eq!(&got, expected, "{name} with {key}");
            let want_status = if expected.contains(&"valid") { 0 } else { 1 };
            assert_eq!(status, want_status, "{name} with {key}: exit status");
        }
    }
}

#[test]
fn partial_verdicts_list_exactly_the_uncovered_sections() {
    let keys = load_keys(&[fixture(KEY_A)]).unwrap();
    for (name, section, name_of_uncovered, at_delim) in [
        ("signed-a-appended-section.wasm", 8, "appended-note", false),
        (
            "split-signed-a-appended-section.wasm",
            9,
            "appended-note",
            true,
        ),
        ("signed-a-appended-then-b.wasm", 8, "build-info", false),
        (
            "signed-a-attested.wasm",
            8,
            "wsc.transformation.attestation",
            false,
        ),
    ] {
        let out = inspect_one(&module(name), &keys, None);
        let m = out.module.unwrap();
        let v = &m.verdicts()[0];
        let Verdict::Partial {
            key,
            covered,
            at_delimiter,
            uncovered,
        } = &v.verdict
        else {
            panic!("{name}: {:?}", v.verdict)
        };
        assert_eq!(key, A_ID);
        assert_eq!(*at_delimiter, at_delim, "{name}");
        assert_eq!(uncovered.len(), 1, "{name}");
        assert_eq!(uncovered[0].index, section, "{name}");
        assert_eq!(uncovered[0].name.as_deref(), Some(name_of_uncovered));
        assert_eq!(covered.end, uncovered[0].range.start);
        assert_eq!(covered.start, m.scan.covered_start);
        assert_eq!(v.covered, vec![covered.clone()]);
    }
}

#[test]
fn tampered_code_is_invalid_and_the_finding_says_wsc_would_accept() {
    let keys = load_keys(&[fixture(KEY_A)]).unwrap();
    let out = inspect_one(&module("signed-a-tampered-code.wasm"), &keys, None);
    let m = out.module.as_ref().unwrap();
    assert_eq!(
        m.verdicts()[0].verdict,
        Verdict::Invalid {
            key: A_ID.into(),
            reason: InvalidReason::SignedBytesChanged
        }
    );
    let f = out
        .findings
        .iter()
        .find(|f| f.code == "signed-content-changed")
        .unwrap();
    assert_eq!(f.severity, wsc_forensics::model::evidence::Severity::High);
    assert!(
        f.message.contains("verify_matrix would still accept"),
        "{}",
        f.message
    );
}

#[test]
fn findings_without_keys_follow_the_hashes() {
    for (name, codes, status) in [
        ("signed-a.wasm", &[][..], 0),
        ("base.wasm", &["module-not-signed"][..], 0),
        (
            "signed-a-tampered-code.wasm",
            &["signed-content-changed"][..],
            1,
        ),
        (
            "signed-a-appended-section.wasm",
            &["sections-appended-after-signing"][..],
            1,
        ),
        (
            "split-signed-a-appended-section.wasm",
            &["partial-signature-coverage"][..],
            0,
        ),
        (
            "signed-a-appended-then-b.wasm",
            &["sections-appended-after-signing"][..],
            0,
        ),
        (
            "keyless-replayed-rekor-entry.wasm",
            &["rekor-entry-not-bound", "signature-does-not-verify"][..],
            1,
        ),
        (
            "keyless-replayed-rekor-entry-tampered.wasm",
            &[
                "keyless-module-hash-mismatch",
                "rekor-entry-not-bound",
                "signature-does-not-verify",
            ][..],
            1,
        ),
        (
            "keyless-no-rekor.wasm",
            &["signature-does-not-verify", "no-transparency-evidence"][..],
            1,
        ),
    ] {
        let out = inspect_one(&module(name), &[], None);
        let got: Vec<&str> = out.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(got, codes, "{name}");
        assert_eq!(out.status, status, "{name}");
        for v in out.module.as_ref().unwrap().verdicts() {
            assert_eq!(v.verdict.word(), "unverified", "{name}");
        }
    }
}

#[test]
fn keyless_modules_are_decoded_not_judged_by_keys() {
    let out = inspect_one(&module("keyless-no-rekor.wasm"), &[], None);
    let SignatureAnalysis::Keyless(k) = &out.module.as_ref().unwrap().signature else {
        panic!("not keyless")
    };
    assert!(k.module_hash_matches);
    assert_eq!(k.rekor.uuid.as_deref(), Some("skipped"));
    assert_eq!(k.certificate_count, 3);
}

#[test]
fn explicit_detached_signature_on_a_signed_module_fails_like_wsc() {
    // wsc: verify -i signed-a.wasm -K a -S detached-a.sig fails (the embedded section is hashed).
    let keys = load_keys(&[fixture(KEY_A)]).unwrap();
    let out = inspect_one(
        &module("signed-a.wasm"),
        &keys,
        Some(&module("detached-a.sig")),
    );
    assert_eq!(out.status, 1);
    let words: Vec<_> = out
        .module
        .unwrap()
        .verdicts()
        .iter()
        .map(|v| v.verdict.word())
        .collect();
    assert_eq!(words, ["invalid"]);
}

fn cli() -> Command {
    Command::cargo_bin("wsc-forensics").unwrap()
}

fn rel(p: &str) -> String {
    fixture(p).display().to_string()
}

#[test]
fn exit_contract_with_keys() {
    for (args, code) in [
        (vec!["-K", KEY_A, "wsc/modules/signed-a.wasm"], 0),
        (vec!["-K", KEY_B, "wsc/modules/signed-a.wasm"], 1),
        (
            vec!["-K", KEY_A, "wsc/modules/signed-a-tampered-code.wasm"],
            1,
        ),
        (
            vec!["-K", KEY_A, "wsc/modules/signed-a-appended-section.wasm"],
            1,
        ),
        (
            vec![
                "-K",
                KEY_A,
                "wsc/modules/split-signed-a-appended-section.wasm",
            ],
            1,
        ),
        (vec!["-K", KEY_A, "wsc/modules/base.wasm"], 1),
        (vec!["-K", KEY_A, "wsc/modules/keyless-no-rekor.wasm"], 1),
        (
            vec!["-K", KEY_B, "wsc/modules/signed-a-appended-then-b.wasm"],
            0,
        ),
        (vec!["-K", KEY_A, "wsc/modules/detached-a.wasm"], 0),
        (vec!["-K", KEY_B, "wsc/modules/detached-a.wasm"], 1),
        (
            vec![
                "-K",
                "wsc/keys/test-key-a.spki.pem",
                "wsc/modules/signed-a.wasm",
            ],
            0,
        ),
        (
            vec![
                "-K",
                "wsc/keys/test-key-a.spki.der",
                "wsc/modules/signed-a.wasm",
            ],
            0,
        ),
        (
            vec![
                "-K",
                "wsc/keys/test-ssh-ed25519.pub",
                "wsc/modules/signed-a.wasm",
            ],
            1,
        ),
        // Two keys: one valid is enough.
        (
            vec![
                "-K",
                KEY_B,
                "-K",
                KEY_A,
                "wsc/modules/signed-a-nokeyid.wasm",
            ],
            0,
        ),
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.starts_with('-') {
                    a.to_string()
                } else {
                    rel(a)
                }
            })
            .collect();
        cli()
            .arg("inspect")
            .args(&args)
            .assert()
            .code(code)
            .stdout(predicate::str::is_empty().not());
    }
}

#[test]
fn explicit_detached_signature_flag() {
    cli()
        .args([
            "inspect",
            "-K",
            &rel(KEY_A),
            "-S",
            &rel("wsc/modules/detached-a-b.sig"),
        ])
        .arg(rel("wsc/modules/base.wasm"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("detached"));
}

#[test]
fn exit_contract_without_keys() {
    for (f, code) in [
        ("wsc/modules/signed-a.wasm", 0),
        ("wsc/modules/base.wasm", 0),
        ("wsc/modules/signed-a-tampered-code.wasm", 1),
        ("wsc/modules/keyless-replayed-rekor-entry.wasm", 1),
        ("wsc/keys/test-key-a.pub", 0),
        ("wsc/keys/test-key-a.sec", 0),
        ("wsc/modules/detached-a.sig", 0),
        ("rekor/recent_entry_20251101_175321.json", 0),
    ] {
        cli().args(["inspect", &rel(f)]).assert().code(code);
    }
}

#[test]
fn a_missing_path_is_one_line_and_exit_2_before_any_inspection() {
    let out = cli()
        .args(["inspect", "-K", &rel(KEY_A), "/nonexistent/evidence.wasm"])
        .arg(rel("wsc/modules/signed-a.wasm"))
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/evidence.wasm"), "{err}");
}

fn hostile(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

#[test]
fn hostile_modules_give_one_line_errors_with_offsets_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read(module("base.wasm")).unwrap();
    let signed = std::fs::read(module("signed-a.wasm")).unwrap();
    let mut huge = base[..8].to_vec();
    huge.extend_from_slice(&[0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x60]);
    let mut overrun = signed.clone();
    overrun[142] = 0x7f; // type section size now runs past the end
    let cases = [
        (
            hostile(dir.path(), "truncated.wasm", &signed[..100]),
            "byte offset 8",
        ),
        (hostile(dir.path(), "huge.wasm", &huge), "byte offset 8"),
        (
            hostile(dir.path(), "overrun.wasm", &overrun),
            "byte offset 141",
        ),
        (
            hostile(dir.path(), "notwasm.wasm", b"MZ\x90\x00 not a module"),
            "byte offset 0",
        ),
        (
            hostile(dir.path(), "badversion.wasm", b"\0asm\x02\0\0\0"),
            "byte offset 0",
        ),
        (hostile(dir.path(), "short.wasm", b"\0as"), "byte offset 3"),
    ];
    for (path, offset) in &cases {
        let out = cli()
            .args(["inspect", "-K", &rel(KEY_A), path])
            .arg(rel("wsc/modules/signed-a.wasm"))
            .assert()
            .code(2)
            .stdout(predicate::str::contains(
                "valid (key c858d5ec82d976c190cb33d0)",
            ))
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{path}: {err}");
        assert!(err.contains(path.as_str()), "{path}: {err}");
        assert!(err.contains(offset), "{path}: {err}");
    }
    // Sections before the error stay reported.
    let out = cli()
        .args(["inspect", "--json", &cases[2].0])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["module"]["scan"]["sections"].as_array().unwrap().len(), 1);
    assert_eq!(v["module"]["scan"]["error"]["offset"], 141);
}

#[test]
fn json_has_one_document_per_input_and_an_array_for_several() {
    let one = cli()
        .args(["inspect", "--json", "-K", &rel(KEY_A)])
        .arg(rel("wsc/modules/signed-a-appended-section.wasm"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    let sig = &v["module"]["signature"]["verdicts"][0];
    assert_eq!(sig["verdict"], "partial");
    assert_eq!(sig["key_id"], A_ID);
    assert_eq!(sig["set_index"], 0);
    assert_eq!(sig["covered"][0]["start"], 141);
    assert_eq!(sig["covered"][0]["end"], 260);
    assert_eq!(v["status"], 1);
    let many = cli()
        .args(["inspect", "--json"])
        .arg(rel("wsc/modules/signed-a.wasm"))
        .arg(rel(KEY_A))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&many.stdout).unwrap();
    let docs = v.as_array().unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        docs[0]["module"]["signature"]["verdicts"][0]["verdict"],
        "unverified"
    );
    assert_eq!(docs[1]["key"]["key"]["wsc_key_id"], A_ID);
}

#[test]
fn secret_key_inspect_never_prints_a_secret_byte() {
    use base64::Engine as _;
    let sec = std::fs::read(fixture("wsc/keys/test-key-a.sec")).unwrap();
    let seed = &sec[1..33];
    for f in [
        "wsc/keys/test-key-a.sec",
        "wsc/keys/test-key-a.pkcs8.pem",
        "wsc/keys/test-ssh-ed25519",
    ] {
        for json in [false, true] {
            let mut c = cli();
            c.arg("inspect");
            if json {
                c.arg("--json");
            }
            let out = c.arg(rel(f)).assert().code(0).get_output().clone();
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(text.contains("c858d5ec82d976c190cb33d0") || f.contains("ssh"));
            for needle in [
                hex::encode(seed),
                base64::engine::general_purpose::STANDARD.encode(seed),
                hex::encode(&sec),
            ] {
                assert!(!text.contains(&needle), "{f}");
            }
            // No SHA-256 of the secret file either.
            let file_hash =
                wsc_forensics::model::digest::Sha256Digest::of(&std::fs::read(fixture(f)).unwrap());
            assert!(!text.contains(&file_hash.to_hex()), "{f}");
        }
    }
    // The SSH secret key's private blob never appears.
    let ssh = std::fs::read_to_string(fixture("wsc/keys/test-ssh-ed25519")).unwrap();
    let out = cli()
        .args(["inspect", &rel("wsc/keys/test-ssh-ed25519")])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for line in ssh.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line));
    }
}

#[test]
fn bad_key_argument_is_a_usage_error() {
    cli()
        .args([
            "inspect",
            "-K",
            &rel("wsc/modules/base.wasm"),
            &rel("wsc/modules/signed-a.wasm"),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("base.wasm"));
}

#[test]
fn documented_inspect_example_works_and_exits_1() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/inspect.md"))
            .unwrap();
    let line = page
        .lines()
        .find(|l| l.starts_with("wsc-forensics inspect -K"))
        .unwrap();
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    cli()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(&args)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "invalid (key c858d5ec82d976c190cb33d0)",
        ));
}

#[test]
fn a_100_mib_module_is_streamed() {
    // Header, a 100 MiB custom section (sparse zeros), then base.wasm's sections.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.wasm");
    let base = std::fs::read(module("base.wasm")).unwrap();
    let size: u32 = 100 * 1024 * 1024;
    let mut head = base[..8].to_vec();
    head.push(0);
    let mut v = size;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            head.push(b);
            break;
        }
        head.push(b | 0x80);
    }
    head.extend_from_slice(&[4, b'b', b'l', b'o', b'b']);
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(&head).unwrap();
        let payload_end = 8 + 1 + 4 + size as u64;
        f.seek(SeekFrom::Start(payload_end)).unwrap();
        f.write_all(&base[8..]).unwrap();
    }
    let out = cli()
        .args(["inspect", "--json", &p.display().to_string()])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secs = v["module"]["scan"]["sections"].as_array().unwrap();
    assert_eq!(secs[0]["name"], "blob");
    assert_eq!(secs[0]["range"]["end"], 8 + 5 + size as u64);
    assert_eq!(secs.len(), 8);
    assert_eq!(v["size"], 8 + 5 + size as u64 + 119);
}
