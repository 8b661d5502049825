//! `inspect` routes every kind of evidence to its checks: transparency files to the seven
//! transparency checks, keyless modules to both the decoder and the keyless checks.

use crate::common::fixture;
use assert_cmd::Command;
use serde_json::Value;

fn inspect(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("wsc-forensics")
        .unwrap()
        .arg("inspect")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn check<'a>(checks: &'a Value, id: &str) -> &'a str {
    checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["result"].as_str())
        .unwrap_or_else(|| panic!("no check {id} in {checks}"))
}

#[test]
fn sigstore_bundle_with_its_artifact_passes_every_check_and_exits_0() {
    let artifact = fixture("sigstore/bundle_v3_github.whl");
    let bundle = fixture("sigstore/bundle_v3_github.whl.sigstore");
    let (code, out) = inspect(&[
        "--json",
        "--artifact",
        artifact.to_str().unwrap(),
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["kind"], "sigstore-bundle");
    assert_eq!(doc["transparency"]["verdict"], "all-possible-passed");
    assert_eq!(doc["transparency"]["checks"].as_array().unwrap().len(), 7);
}

#[test]
fn bundle_against_another_artifact_exits_1() {
    let wrong = fixture("sigstore/bundle.txt");
    let bundle = fixture("sigstore/bundle_v3_github.whl.sigstore");
    let (code, out) = inspect(&[
        "--artifact",
        wrong.to_str().unwrap(),
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("body-binds-artifact") && out.contains("FAIL"),
        "{out}"
    );
}

#[test]
fn rekor_entry_in_api_shape_is_checked() {
    let entry = fixture("rekor/rekor-api-entry-538771042.reconstructed.json");
    let (code, out) = inspect(&["--json", entry.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let checks = &doc["transparency"]["checks"];
    for id in [
        "log-in-trust-root",
        "signed-entry-timestamp",
        "inclusion-proof",
        "checkpoint",
    ] {
        assert_eq!(check(checks, id), "pass", "{id}");
    }
}

#[test]
fn keyless_module_gets_the_keyless_checks_and_wsc_s_false_valid_is_refuted() {
    let m = fixture("wsc/modules/keyless-replayed-rekor-entry.wasm");
    let (code, out) = inspect(&["--json", m.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let checks = &doc["keyless_checks"]["checks"];
    assert_eq!(check(checks, "module-hash"), "pass");
    assert_eq!(check(checks, "signed-entry-timestamp"), "pass");
    assert_eq!(check(checks, "inclusion-proof"), "pass");
    assert_eq!(check(checks, "body-binds-artifact"), "fail");
    assert_eq!(check(checks, "artifact-signature"), "fail");
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(codes.len(), unique.len(), "one finding per code: {codes:?}");
}

#[test]
fn signature_and_certificate_pair_is_inspected_once() {
    let sig = fixture("sigstore/offline-rekor.txt.sig");
    let crt = fixture("sigstore/offline-rekor.txt.crt");
    let root = fixture("sigstore/staging-trusted_root.json");
    let artifact = fixture("sigstore/offline-rekor.txt");
    let (code, out) = inspect(&[
        "--json",
        "--trusted-root",
        root.to_str().unwrap(),
        "--artifact",
        artifact.to_str().unwrap(),
        sig.to_str().unwrap(),
        crt.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    // Two paths given, one pair judged: a single document, not an array.
    assert!(doc.is_object(), "{out}");
    assert_eq!(
        check(&doc["transparency"]["checks"], "artifact-signature"),
        "pass"
    );
    assert_eq!(code, 0, "{out}");
}
