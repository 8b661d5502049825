//! Snapshots of `inspect --json` documents for a few fixtures: any change in the machine output
//! shows up as a reviewed diff (CI runs with CI=true, so a missing snapshot fails).

use std::path::Path;
use wsc_forensics::cli::inspect::{inspect_one, load_keys};

/// The JSON document for `inspect [-K keys] FILE`, with paths relative to the crate root and
/// host-dependent stat fields removed. Files are named by absolute path (no process-wide
/// `set_current_dir` in a parallel test binary) and the root is cut from the document after.
fn doc(file: &str, keys: &[&str]) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let keys: Vec<_> = keys.iter().map(|k| root.join(k)).collect();
    let keys = load_keys(&keys).unwrap();
    let out = inspect_one(&root.join(file), &keys, None);
    let text = serde_json::to_string(&out).unwrap();
    let prefix = serde_json::to_string(&format!("{}/", root.display())).unwrap();
    let relative = text.replace(&prefix[1..prefix.len() - 1], "");
    let mut v: serde_json::Value = serde_json::from_str(&relative).unwrap();
    if let Some(k) = v.get_mut("key") {
        k.as_object_mut().unwrap().remove("stat");
    }
    v
}

const A: &str = "fixtures/wsc/keys/test-key-a.pub";
const B: &str = "fixtures/wsc/keys/test-key-b.pub";

#[test]
fn snapshot_signed_a_with_key_a() {
    insta::assert_json_snapshot!(doc("fixtures/wsc/modules/signed-a.wasm", &[A]));
}

#[test]
fn snapshot_appended_then_b_with_keys_a_and_b() {
    insta::assert_json_snapshot!(doc(
        "fixtures/wsc/modules/signed-a-appended-then-b.wasm",
        &[A, B]
    ));
}

#[test]
fn snapshot_split_appended_with_key_a() {
    insta::assert_json_snapshot!(doc(
        "fixtures/wsc/modules/split-signed-a-appended-section.wasm",
        &[A]
    ));
}

#[test]
fn snapshot_tampered_code_with_key_a() {
    insta::assert_json_snapshot!(doc(
        "fixtures/wsc/modules/signed-a-tampered-code.wasm",
        &[A]
    ));
}

#[test]
fn snapshot_detached_a_without_keys() {
    insta::assert_json_snapshot!(doc("fixtures/wsc/modules/detached-a.wasm", &[]));
}

#[test]
fn snapshot_keyless_replayed_rekor_entry() {
    insta::assert_json_snapshot!(doc(
        "fixtures/wsc/modules/keyless-replayed-rekor-entry.wasm",
        &[]
    ));
}

#[test]
fn snapshot_public_key_a() {
    insta::assert_json_snapshot!(doc("fixtures/wsc/keys/test-key-a.pub", &[]));
}
