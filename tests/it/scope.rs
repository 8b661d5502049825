//! `scope` on copies of the real fixture modules (fixtures/wsc/README.md gives each module's real
//! wsc verdicts): exact re-sign lists and suspicious sets for keys A and B, key-id-only queries,
//! keyless windows, detached signatures, bundles, exit codes.

use crate::common::{code, fixture, json, run_in};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

const A_ID: &str = "c858d5ec82d976c190cb33d0";
const B_ID: &str = "465c5341001f3e570f784f71";

/// Modules with a signature by A that verifies over every current byte (README matrix: "verify
/// A: valid", plus the detached ones verified with `-S`).
const A_RESIGN: &[&str] = &[
    "modules/detached-a-b.wasm",
    "modules/detached-a.wasm",
    "modules/reattached-a-b.wasm",
    "modules/signed-a-b.wasm",
    "modules/signed-a-nokeyid.wasm",
    "modules/signed-a.wasm",
    "modules/signed-component-a.wasm",
    "modules/split-regex-signed-a.wasm",
    "modules/split-signed-a.wasm",
];
/// Signed by A, but A's signature no longer covers the current bytes.
const A_SUSPICIOUS: &[&str] = &[
    "modules/signed-a-appended-section.wasm",
    "modules/signed-a-appended-then-b.wasm",
    "modules/signed-a-attested.wasm",
    "modules/signed-a-tampered-code.wasm",
    "modules/split-signed-a-appended-section.wasm",
];
const B_RESIGN: &[&str] = &[
    "modules/detached-a-b.wasm",
    "modules/reattached-a-b.wasm",
    "modules/signed-a-appended-then-b.wasm",
    "modules/signed-a-b.wasm",
];

/// A temp dir holding a copy of fixtures/wsc/modules as `modules/`.
fn corpus() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("modules");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(fixture("wsc/modules")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    t
}

fn key(name: &str) -> String {
    fixture(&format!("wsc/keys/{name}"))
        .to_str()
        .unwrap()
        .to_owned()
}

fn list_file(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(name))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn statuses(v: &Value) -> BTreeMap<String, String> {
    v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn with_status(v: &Value, status: &str) -> Vec<String> {
    statuses(v)
        .into_iter()
        .filter(|(_, s)| s == status)
        .map(|(p, _)| p)
        .collect()
}

fn module<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["path"] == path)
        .unwrap_or_else(|| panic!("{path} missing"))
}

#[test]
fn key_a_exact_resign_list_and_suspicious_set() {
    let t = corpus();
    let ka = key("test-key-a.pub");
    let o = run_in(
        t.path(),
        &[
            "scope", "--key", &ka, "--list", "a.txt", "--json", "modules",
        ],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(list_file(t.path(), "a.txt"), A_RESIGN);
    let v = json(&o);
    assert_eq!(with_status(&v, "valid"), A_RESIGN);
    assert_eq!(with_status(&v, "suspicious"), A_SUSPICIOUS);
    assert_eq!(
        with_status(&v, "unsigned"),
        [
            "modules/base.wasm",
            "modules/component.wasm",
            "modules/split.wasm"
        ]
    );
    assert_eq!(with_status(&v, "keyless").len(), 3);
    let s = &v["summary"];
    assert_eq!(
        (
            s["modules"].as_u64(),
            s["valid"].as_u64(),
            s["suspicious"].as_u64()
        ),
        (Some(20), Some(9), Some(5))
    );

    // Why each suspicious module is suspicious.
    let sig = |p: &str| module(&v, p)["signatures"][0].clone();
    let tampered = sig("modules/signed-a-tampered-code.wasm");
    assert_eq!(tampered["check"], "invalid");
    assert_eq!(tampered["reason"], "signed-bytes-changed");
    assert_eq!(tampered["key"], A_ID);
    let appended = sig("modules/signed-a-appended-section.wasm");
    assert_eq!(appended["check"], "partial");
    assert_eq!(appended["at_delimiter"], false);
    assert_eq!(appended["uncovered"][0]["name"], "appended-note");
    let split = sig("modules/split-signed-a-appended-section.wasm");
    assert_eq!(split["check"], "partial");
    assert_eq!(split["at_delimiter"], true);
    let then_b = module(&v, "modules/signed-a-appended-then-b.wasm");
    assert_eq!(then_b["signatures"][0]["check"], "partial");
    assert_eq!(
        then_b["signatures"][0]["uncovered"][0]["name"],
        "build-info"
    );
    assert_eq!(then_b["other_signers"][0]["key_id"], B_ID);
    let attested = sig("modules/signed-a-attested.wasm");
    assert_eq!(
        attested["uncovered"][0]["name"],
        "wsc.transformation.attestation"
    );

    // Multi-signature: the other signer is named; no key id: matched by verifying.
    let ab = module(&v, "modules/signed-a-b.wasm");
    assert_eq!(ab["other_signers"].as_array().unwrap().len(), 1);
    assert_eq!(ab["other_signers"][0]["key_id"], B_ID);
    let nokeyid = sig("modules/signed-a-nokeyid.wasm");
    assert_eq!(nokeyid["stored_key_id"], Value::Null);
    assert_eq!(nokeyid["check"], "valid");
    // Detached signatures found next to the module.
    let det = module(&v, "modules/detached-a.wasm");
    assert_eq!(det["detached_signature"], "modules/detached-a.sig");
    assert_eq!(det["signatures"][0]["source"]["type"], "detached");
    assert_eq!(
        det["signatures"][0]["covered"],
        serde_json::json!({"start": 8, "end": 127})
    );
}

#[test]
fn key_b_exact_resign_list() {
    let t = corpus();
    let kb = key("test-key-b.pub");
    let o = run_in(
        t.path(),
        &[
            "scope", "--key", &kb, "--list", "b.txt", "--json", "modules",
        ],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(list_file(t.path(), "b.txt"), B_RESIGN);
    let v = json(&o);
    assert_eq!(with_status(&v, "valid"), B_RESIGN);
    assert!(with_status(&v, "suspicious").is_empty());
    // Every module A signed but B did not is "other-signers" for B.
    assert_eq!(with_status(&v, "other-signers").len(), 10);
}

#[test]
fn key_in_any_format_gives_the_same_answer() {
    let t = corpus();
    for k in [
        "test-key-a.spki.pem",
        "test-key-a.spki.der",
        "test-key-a.sec",
        "test-key-a.pkcs8.pem",
    ] {
        let o = run_in(
            t.path(),
            &[
                "scope",
                "--key",
                &key(k),
                "--list",
                "l.txt",
                "--force",
                "modules",
            ],
        );
        assert_eq!(code(&o), 1, "{k}");
        assert_eq!(list_file(t.path(), "l.txt"), A_RESIGN, "{k}");
    }
    let raw = "e3749b84e3e8af4036b3d26615547959acebcda20c9b05e421506c4bcf819e04";
    run_in(
        t.path(),
        &[
            "scope", "--key", raw, "--list", "l.txt", "--force", "modules",
        ],
    );
    assert_eq!(list_file(t.path(), "l.txt"), A_RESIGN);
}

#[test]
fn several_keys_from_a_list_file() {
    let t = corpus();
    std::fs::write(
        t.path().join("keys.txt"),
        format!(
            "# compromised keys\n{}\n\n{}  # B\n",
            key("test-key-a.pub"),
            key("test-key-b.pub")
        ),
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &[
            "scope", "--keys", "keys.txt", "--list", "ab.txt", "--json", "modules",
        ],
    );
    assert_eq!(code(&o), 1);
    let mut want: Vec<&str> = A_RESIGN.iter().chain(B_RESIGN).copied().collect();
    want.sort();
    want.dedup();
    // signed-a-appended-then-b: A's signature is partial but B's is valid, so it is re-signable.
    assert_eq!(list_file(t.path(), "ab.txt"), want);
    let v = json(&o);
    assert_eq!(v["query"]["keys"].as_array().unwrap().len(), 2);
    let then_b = module(&v, "modules/signed-a-appended-then-b.wasm");
    let checks: Vec<(&str, &str)> = then_b["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap(), s["check"].as_str().unwrap()))
        .collect();
    assert_eq!(checks, vec![(A_ID, "partial"), (B_ID, "valid")]);
    assert!(then_b["other_signers"].as_array().unwrap().is_empty());
}

#[test]
fn bare_key_id_matches_only_signatures_carrying_it_unverified() {
    let t = corpus();
    let o = run_in(
        t.path(),
        &[
            "scope", "--key", A_ID, "--list", "id.txt", "--json", "modules",
        ],
    );
    assert_eq!(code(&o), 1);
    let v = json(&o);
    // Every module signed by A with -K (all of A's modules except signed-a-nokeyid).
    let mut want: Vec<&str> = A_RESIGN
        .iter()
        .chain(A_SUSPICIOUS)
        .copied()
        .filter(|p| *p != "modules/signed-a-nokeyid.wasm")
        .collect();
    want.sort();
    assert_eq!(with_status(&v, "key-id-match-not-verified"), want);
    assert_eq!(
        module(&v, "modules/signed-a-nokeyid.wasm")["status"],
        "other-signers"
    );
    // What the stored hashes say, for each.
    let cov = |p: &str| {
        module(&v, p)["signatures"][0]["coverage"]["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(cov("modules/signed-a.wasm"), "full");
    assert_eq!(cov("modules/signed-a-tampered-code.wasm"), "none");
    assert_eq!(cov("modules/signed-a-appended-section.wasm"), "prefix");
    // Nothing was verified, so nothing goes on the re-sign list.
    assert!(list_file(t.path(), "id.txt").is_empty());
    let human = run_in(t.path(), &["scope", "--key", A_ID, "modules"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("key id match, signature not verified"));
}

#[test]
fn key_that_signed_nothing_exits_0_with_an_empty_list() {
    let t = corpus();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &key("test-key-bundle-signer.pub"),
            "--list",
            "none.txt",
            "modules",
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert!(list_file(t.path(), "none.txt").is_empty());
}

#[test]
fn keyless_signatures_inside_the_window_with_their_identity() {
    let t = corpus();
    let ka = key("test-key-a.pub");
    let v = json(&run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &ka,
            "--window",
            "2025-09-19T00:00:00Z..2025-09-20T00:00:00Z",
            "--json",
            "modules",
        ],
    ));
    assert_eq!(v["summary"]["keyless_in_window"], 3);
    let k = &module(&v, "modules/keyless-replayed-rekor-entry.wasm")["keyless"];
    assert_eq!(
        k["identity"],
        "https://issuer.enforce.dev/b3afeb8ee1de8a24fe87ccb26faee88b5ba3cac0/5e079a99d8349d65"
    );
    assert_eq!(k["issuer"], "https://issuer.enforce.dev");
    assert_eq!(k["log_index"], 538771042);
    assert_eq!(k["integrated_time"], "2025-09-19T17:58:38Z");
    assert_eq!(k["in_window"], true);
    assert_eq!(k["rekor_placeholder"], false);
    assert_eq!(
        module(&v, "modules/keyless-no-rekor.wasm")["keyless"]["rekor_placeholder"],
        true
    );

    let v = json(&run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &ka,
            "--window",
            "2025-09-19T18:00:00Z..",
            "--json",
            "modules",
        ],
    ));
    assert_eq!(v["summary"]["keyless_in_window"], 0);
    assert_eq!(
        module(&v, "modules/keyless-replayed-rekor-entry.wasm")["keyless"]["in_window"],
        false
    );
    let o = run_in(
        t.path(),
        &["scope", "--key", &ka, "--window", "soon", "modules"],
    );
    assert_eq!(code(&o), 2);
}

#[test]
fn detached_signature_named_module_dot_sig_and_symlinks_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixture("wsc/modules/detached-a.wasm"), dir.join("x.wasm")).unwrap();
    std::fs::copy(
        fixture("wsc/modules/detached-a.sig"),
        dir.join("x.wasm.sig"),
    )
    .unwrap();
    // A module signed by A outside the input, reachable only through a symlink.
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), outside.join("s.wasm")).unwrap();
    std::os::unix::fs::symlink(outside.join("s.wasm"), dir.join("link.wasm")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("linkdir")).unwrap();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &key("test-key-a.pub"),
            "--list",
            "l.txt",
            "--json",
            "in",
        ],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(list_file(t.path(), "l.txt"), ["in/x.wasm"]);
    let v = json(&o);
    assert_eq!(v["summary"]["modules"], 1);
    let skipped: Vec<(&str, &str)> = v["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        vec![("in/link.wasm", "symlink"), ("in/linkdir", "symlink")]
    );
}

#[test]
fn a_collected_bundle_is_read_from_the_zip() {
    let t = corpus();
    let o = run_in(
        t.path(),
        &[
            "collect",
            "-q",
            "--case-id",
            "IR-7",
            "-o",
            "case.zip",
            "modules",
        ],
    );
    // 1: the corpus holds tampered modules (High findings); the bundle is written all the same.
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    // The sources are gone: only the bundle can answer.
    std::fs::remove_dir_all(t.path().join("modules")).unwrap();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &key("test-key-a.pub"),
            "--list",
            "z.txt",
            "--json",
            "case.zip",
        ],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let base = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let names = |list: &[String]| {
        let mut n: Vec<String> = list.iter().map(|p| base(p)).collect();
        n.sort();
        n
    };
    let want = |list: &[&str]| {
        let mut n: Vec<String> = list.iter().map(|p| base(p)).collect();
        n.sort();
        n
    };
    assert_eq!(names(&list_file(t.path(), "z.txt")), want(A_RESIGN));
    assert_eq!(names(&with_status(&v, "valid")), want(A_RESIGN));
    assert_eq!(names(&with_status(&v, "suspicious")), want(A_SUSPICIOUS));
    let m = &v["modules"][0];
    assert_eq!(m["origin"]["type"], "bundle");
    assert!(m["origin"]["bag_path"]
        .as_str()
        .unwrap()
        .starts_with("data/modules/"));
}

/// evidence.json is read by the one streaming reader: a document the fast reader is unsure of
/// (an item nested deeper than it follows) is read again from the start, with the same answer;
/// a malformed one is named as the whole-document parse names it.
#[test]
fn a_bundle_evidence_json_the_fast_reader_leaves_alone_gives_the_same_answer() {
    use crate::common::bags::{entry, read_entries, write_entries};
    let t = corpus();
    let collect = [
        "collect",
        "-q",
        "--case-id",
        "IR-8",
        "-o",
        "case.zip",
        "modules",
    ];
    assert_eq!(code(&run_in(t.path(), &collect)), 1);
    let zip = t.path().join("case.zip");
    let scope = |dir: &Path| {
        let args = [
            "scope",
            "--key",
            &key("test-key-a.pub"),
            "--json",
            "case.zip",
        ];
        run_in(dir, &args)
    };
    let before = scope(t.path());
    assert_eq!(code(&before), 1);
    let original = read_entries(&zip);
    let text = String::from_utf8(
        original
            .iter()
            .find(|(n, _)| n.ends_with("/data/evidence.json"))
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    // 110 levels: more than the fast reader follows (100), fewer than serde_json refuses (128).
    let deep = format!("\"deep\":{}{},", "[".repeat(110), "]".repeat(110));
    let mut e = original.clone();
    // In the last item, so that every other item was already handed on before the restart.
    let last = text.rfind("\"source\":").unwrap();
    *entry(&mut e, "/data/evidence.json") =
        format!("{}{deep}{}", &text[..last], &text[last..]).into_bytes();
    write_entries(&zip, &e);
    let after = scope(t.path());
    assert_eq!(
        code(&after),
        1,
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    assert_eq!(json(&after)["modules"], json(&before)["modules"]);

    let mut e = original;
    *entry(&mut e, "/data/evidence.json") = text.replacen("\"kind\":", "\"kind\";", 1).into_bytes();
    write_entries(&zip, &e);
    let broken = scope(t.path());
    assert_eq!(code(&broken), 2);
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(
        err.contains("data/evidence.json") && err.contains("expected `:`"),
        "{err}"
    );
}

#[test]
fn usage_and_input_errors_exit_2() {
    let t = corpus();
    let ka = key("test-key-a.pub");
    // No key.
    assert_eq!(code(&run_in(t.path(), &["scope", "modules"])), 2);
    // Not a key.
    assert_eq!(
        code(&run_in(t.path(), &["scope", "--key", "zz", "modules"])),
        2
    );
    let notkey = fixture("wsc/modules/base.wasm");
    assert_eq!(
        code(&run_in(
            t.path(),
            &["scope", "--key", notkey.to_str().unwrap(), "modules"]
        )),
        2
    );
    // Missing input: exit 2 before any work.
    let o = run_in(t.path(), &["scope", "--key", &ka, "nope"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope: no such file or directory"));
    // A file that is not a bundle and not a module is just not a module.
    std::fs::write(t.path().join("fake.zip"), b"PK\x03\x04 not really").unwrap();
    let o = run_in(t.path(), &["scope", "--key", &ka, "fake.zip"]);
    assert_eq!(code(&o), 2);
}

/// The upstream decoder/verifier (wsc-verify-core) accepts every module of the re-sign list
/// (with its detached signature where there is one) and rejects every suspicious one.
#[test]
fn upstream_verifier_agrees_on_every_carrying_module() {
    let t = corpus();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--key",
            &key("test-key-a.pub"),
            "--json",
            "modules",
        ],
    );
    let v = json(&o);
    let pk_bytes = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
    let mut checked = 0;
    for (path, status) in statuses(&v) {
        let m = module(&v, &path);
        if !["valid", "suspicious"].contains(&status.as_str()) {
            continue;
        }
        let bytes = std::fs::read(t.path().join(&path)).unwrap();
        let detached = m["detached_signature"]
            .as_str()
            .map(|p| std::fs::read(t.path().join(p)).unwrap());
        let upstream = upstream_verify(&pk_bytes, &bytes, detached.as_deref());
        checked += 1;
        assert_eq!(
            upstream,
            status == "valid",
            "{path}: upstream {upstream}, scope {status}"
        );
    }
    assert_eq!(checked, A_RESIGN.len() + A_SUSPICIOUS.len());
}

fn upstream_verify(pk: &[u8], module: &[u8], detached: Option<&[u8]>) -> bool {
    use wsc_verify_core::*;
    let Ok(pk) = PublicKey::from_bytes(pk) else {
        panic!("key A is a valid wsc public key");
    };
    let mut reader = std::io::Cursor::new(module);
    pk.verify(&mut reader, detached).is_ok()
}

#[test]
fn truncated_and_non_module_files_are_reported_and_the_run_goes_on() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    let signed = std::fs::read(fixture("wsc/modules/signed-a.wasm")).unwrap();
    // Cut at a section boundary: a well-formed module whose signed bytes changed.
    std::fs::write(dir.join("a-cut-at-boundary.wasm"), &signed[..150]).unwrap();
    // Cut inside a section: not a well-formed module.
    std::fs::write(dir.join("a-truncated.wasm"), &signed[..152]).unwrap();
    std::fs::write(dir.join("b-ok.wasm"), &signed).unwrap();
    std::fs::write(dir.join("c-notes.txt"), "not a module").unwrap();
    let ka = key("test-key-a.pub");
    let o = run_in(
        t.path(),
        &["scope", "--key", &ka, "--list", "l.txt", "--json", "in"],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(list_file(t.path(), "l.txt"), ["in/b-ok.wasm"]);
    let v = json(&o);
    let cut = module(&v, "in/a-cut-at-boundary.wasm");
    assert_eq!(cut["status"], "suspicious");
    assert_eq!(cut["signatures"][0]["reason"], "signed-bytes-changed");
    let bad = module(&v, "in/a-truncated.wasm");
    assert_eq!(bad["status"], "error");
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .contains("past the end of the file"),
        "{bad}"
    );
    assert_eq!(v["summary"]["other_files"], 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("in/a-truncated.wasm"));
    // With nothing carrying the key the answer may be incomplete: exit 2.
    std::fs::remove_file(dir.join("b-ok.wasm")).unwrap();
    std::fs::remove_file(dir.join("a-cut-at-boundary.wasm")).unwrap();
    assert_eq!(code(&run_in(t.path(), &["scope", "--key", &ka, "in"])), 2);
}

/// The JSON document is streamed (modules written as they are judged, the summary put first at
/// the end): it must be byte for byte what serde_json makes of the whole in-memory result, with
/// modules from a folder and a bundle, detached pairs, keyless windows, skipped paths; and with
/// no module or nothing skipped (empty arrays).
#[test]
fn streamed_json_is_byte_for_byte_the_whole_result() {
    let t = corpus();
    let o = run_in(
        t.path(),
        &[
            "collect",
            "-q",
            "--case-id",
            "J-1",
            "-o",
            "case.zip",
            "modules",
        ],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    std::os::unix::fs::symlink("signed-a.wasm", t.path().join("modules/link.wasm")).unwrap();
    std::fs::write(t.path().join("modules/notes.txt"), b"not a module").unwrap();
    // A missing input stops the command before any work; a dangling link is skipped.
    std::os::unix::fs::symlink("nowhere", t.path().join("dangling")).unwrap();
    let ka = key("test-key-a.pub");
    let cases: [&[&str]; 4] = [
        &["--window", "2025-09-19..2025-09-19", "modules", "case.zip"],
        &[
            "--key",
            "465c5341001f3e570f784f71",
            "case.zip",
            "dangling",
            "modules",
        ],
        &["dangling"],
        &["modules/signed-a.wasm"],
    ];
    // Absolute paths, so that the binary (run in `t`) and the library (here) name them alike.
    let abs = |p: &str| t.path().join(p).to_str().unwrap().to_owned();
    for extra in cases {
        let mut argv = vec![
            "scope".to_owned(),
            "--json".into(),
            "--key".into(),
            ka.clone(),
        ];
        let mut q = wsc_forensics::scope::ScopeQuery::default();
        q.add_key_arg(&ka, "--key").unwrap();
        let mut inputs = Vec::new();
        let mut it = extra.iter();
        while let Some(a) = it.next() {
            match *a {
                "--window" => {
                    let w = it.next().unwrap();
                    q.window = Some(wsc_forensics::scope::TimeWindow::parse(w).unwrap());
                    argv.extend(["--window".to_owned(), w.to_string()]);
                }
                "--key" => {
                    let k = it.next().unwrap();
                    q.add_key_arg(k, "--key").unwrap();
                    argv.extend(["--key".to_owned(), k.to_string()]);
                }
                p => {
                    inputs.push(std::path::PathBuf::from(abs(p)));
                    argv.push(abs(p));
                }
            }
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let o = run_in(t.path(), &argv);
        let whole = wsc_forensics::scope::scope(&inputs, q);
        let want = serde_json::to_string_pretty(&whole).unwrap() + "\n";
        assert!(whole.summary.modules > 0 || inputs.len() == 1, "{extra:?}");
        assert_eq!(String::from_utf8_lossy(&o.stdout), want, "{extra:?}");
    }
}

/// Overlapping inputs (a folder and a folder inside it, a file inside it, the same folder
/// twice): each module is judged and listed once, in the order first met.
#[test]
fn overlapping_inputs_list_each_module_once() {
    let t = corpus();
    std::fs::create_dir(t.path().join("modules/sub")).unwrap();
    std::fs::copy(
        fixture("wsc/modules/signed-a.wasm"),
        t.path().join("modules/sub/again.wasm"),
    )
    .unwrap();
    let ka = key("test-key-a.pub");
    let once = json(&run_in(
        t.path(),
        &["scope", "--json", "--key", &ka, "modules"],
    ));
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--json",
            "--key",
            &ka,
            "--list",
            "l.txt",
            "modules/sub",
            "modules",
            "modules/signed-a.wasm",
            "modules",
            "modules/sub",
        ],
    );
    let v = json(&o);
    let paths = |v: &Value| -> Vec<String> {
        v["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["path"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut want = vec!["modules/sub/again.wasm".to_owned()];
    want.extend(
        paths(&once)
            .into_iter()
            .filter(|p| p != "modules/sub/again.wasm"),
    );
    assert_eq!(paths(&v), want);
    assert_eq!(v["summary"]["modules"], want.len());
    let listed = list_file(t.path(), "l.txt");
    assert_eq!(listed.len(), A_RESIGN.len() + 1);
    assert_eq!(listed[0], "modules/sub/again.wasm");
}

/// `wasm` with a custom section `name` of `len` bytes appended.
fn with_custom_section(wasm: &[u8], name: &str, len: usize) -> Vec<u8> {
    fn leb(mut v: usize, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend((0..len).map(|i| (i * 31 % 251) as u8));
    let mut out = wasm.to_vec();
    out.push(0);
    leb(payload.len(), &mut out);
    out.extend_from_slice(&payload);
    out
}

/// Modules of several MiB: from a folder, scope jumps over payload no verdict needs (read in
/// small pieces, the rest seeked over); from a bundle every byte is streamed. Both must give
/// the same answer for every module, for a key that signed them and one that did not, also
/// when a section claims more bytes than the file has.
#[test]
fn large_modules_jumped_over_answer_as_when_read_in_full() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("big");
    std::fs::create_dir(&dir).unwrap();
    let read = |m: &str| std::fs::read(fixture(&format!("wsc/modules/{m}"))).unwrap();
    let big = 3 << 20;
    let a_big = with_custom_section(&read("signed-a.wasm"), "pad", big);
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "unsigned-big.wasm",
            with_custom_section(&read("base.wasm"), "pad", big),
        ),
        ("a-big-cut.wasm", a_big[..a_big.len() - (1 << 20)].to_vec()),
        ("a-big.wasm", a_big),
        (
            "a-b-big.wasm",
            with_custom_section(&read("signed-a-b.wasm"), "pad", big),
        ),
        (
            "detached-big.wasm",
            with_custom_section(&read("detached-a.wasm"), "pad", big),
        ),
        (
            "keyless-big.wasm",
            with_custom_section(&read("keyless-replayed-rekor-entry.wasm"), "pad", big),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::copy(
        fixture("wsc/modules/detached-a.sig"),
        dir.join("detached-big.sig"),
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &["collect", "-q", "--case-id", "BIG", "-o", "big.zip", "big"],
    );
    assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
    let prefix = format!("{}/", t.path().display());
    let answers = |input: &str, k: &str| -> BTreeMap<String, Value> {
        let v = json(&run_in(
            t.path(),
            &["scope", "--json", "--key", &key(k), input],
        ));
        v["modules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let name = Path::new(m["path"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                let mut m = m.clone();
                let o = m.as_object_mut().unwrap();
                o.remove("path");
                o.remove("origin");
                // Only a bundle has a case file to assess its modules against.
                o.remove("assessment");
                // The bundle names the detached signature by its absolute source path.
                let text = m.to_string().replace(&prefix, "");
                (name, serde_json::from_str(&text).unwrap())
            })
            .collect()
    };
    for k in ["test-key-a.pub", "test-key-b.pub"] {
        let folder = answers("big", k);
        assert_eq!(folder.len(), files.len());
        assert_eq!(folder, answers("big.zip", k), "{k}");
        assert_eq!(
            folder["a-big-cut.wasm"]["status"], "error",
            "{:?}",
            folder["a-big-cut.wasm"]
        );
    }
    let a = answers("big", "test-key-a.pub");
    let status = |n: &str| a[n]["status"].as_str().unwrap().to_owned();
    assert_eq!(status("a-big.wasm"), "suspicious");
    assert_eq!(status("detached-big.wasm"), "suspicious");
    assert_eq!(status("unsigned-big.wasm"), "unsigned");
    assert_eq!(status("keyless-big.wasm"), "keyless");
    assert_eq!(a["a-big.wasm"]["size"], files[2].1.len());
}
