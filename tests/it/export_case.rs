//! `export --format case`: the JSON-LD graph of the demo bundle and of a bundle collected from
//! the fixtures corpus passes `case_validate` (case-utils, CASE 1.5.0), a broken graph does not,
//! every item appears with its full SHA-256, the same bundle gives the same bytes, and an
//! altered bundle is refused with nothing written.

use crate::common::{bags, case_validate_available, cmd, fixture};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The demo incident in `dir`: (bundle, examiner public key).
fn demo_bundle(dir: &Path) -> (PathBuf, PathBuf) {
    let out = dir.join("demo");
    let run = cmd().arg("demo").arg("-o").arg(&out).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let zip = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "zip"))
        .expect("the demo writes a bundle");
    (zip, out.join("incident/examiner/examiner.pub"))
}

/// Every fixture of the wsc corpus collected into `dir/corpus.zip`.
fn corpus_bundle(dir: &Path) -> PathBuf {
    let zip = dir.join("corpus.zip");
    let out = cmd()
        .args([
            "collect",
            "--case-id",
            "IR-CASE",
            "--examiner",
            "E. Xaminer",
        ])
        .args(["--collected-at", "2026-11-25T08:00:00Z", "-o"])
        .arg(&zip)
        .arg(fixture("wsc"))
        .output()
        .unwrap();
    // Exit 1: the corpus holds tampered modules (High findings); the bundle is written.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    zip
}

/// Runs `export --format case` on `bundle` into `out`; returns the exit output.
fn export(bundle: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    cmd()
        .args(["export", "--format", "case", "-o"])
        .arg(out)
        .args(extra)
        .arg(bundle)
        .output()
        .unwrap()
}

/// `case_validate FILE`: (exit success, stdout + stderr).
fn case_validate(file: &Path) -> (bool, String) {
    let out = std::process::Command::new("case_validate")
        .arg(file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The graph's nodes of `@type` `ty`.
fn nodes<'a>(doc: &'a Value, ty: &str) -> Vec<&'a Value> {
    doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["@type"] == ty)
        .collect()
}

/// Every hash value in the graph (nested in facets), lower-cased.
fn hash_values(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("@type").is_some_and(|t| t == "uco-types:Hash") {
                out.push(
                    m["uco-types:hashValue"]["@value"]
                        .as_str()
                        .unwrap()
                        .to_lowercase(),
                );
            }
            m.values().for_each(|v| hash_values(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| hash_values(v, out)),
        _ => {}
    }
}

/// What an independent JSON reader finds in the export of `bundle`: every item with its full
/// SHA-256, the examiner, the tool, one action, one provenance record per item.
fn check_graph(doc: &Value, bundle: &Path) {
    let contents = wsc_forensics::bundle::open_bundle(bundle).unwrap();
    let ev = &contents.evidence;
    let mut hashes = Vec::new();
    hash_values(doc, &mut hashes);
    let text = doc.to_string();
    for item in &ev.items {
        let hex = item.sha256.to_hex();
        if item.digest_of == wsc_forensics::model::evidence::DigestOf::File {
            assert!(hashes.contains(&hex), "{} hash {hex} missing", item.source);
        } else {
            // A secret key's recorded digest is not of the file: said in words, not as a hash.
            assert!(!hashes.contains(&hex));
            assert!(text.contains(&format!("SHA-256 {hex} is of its")));
        }
        assert!(text.contains(&format!("\"{}\"", item.source.text)));
    }
    assert!(hashes.contains(&contents.digest.to_hex()), "bundle digest");
    assert_eq!(
        nodes(doc, "case-investigation:ProvenanceRecord").len(),
        ev.items.len()
    );
    let action = nodes(doc, "case-investigation:InvestigativeAction");
    assert_eq!(action.len(), 1);
    assert_eq!(action[0]["uco-action:startTime"]["@type"], "xsd:dateTime");
    assert_eq!(
        action[0]["uco-action:object"].as_array().unwrap().len(),
        ev.items.len()
    );
    let person = nodes(doc, "uco-identity:Person");
    assert_eq!(person.len(), 1);
    assert_eq!(action[0]["uco-action:performer"]["@id"], person[0]["@id"]);
    assert_eq!(
        person[0]["uco-core:name"].as_str(),
        ev.case.examiner.as_deref()
    );
    let tool = nodes(doc, "uco-tool:Tool");
    assert_eq!(tool.len(), 1);
    assert_eq!(tool[0]["uco-core:name"], ev.tool.name.as_str());
    assert_eq!(tool[0]["uco-tool:version"], ev.tool.version.as_str());
    assert_eq!(action[0]["uco-action:instrument"]["@id"], tool[0]["@id"]);
    let findings = ev.all_findings().count();
    let annotations = nodes(doc, "uco-core:Annotation");
    // One per finding, and the examiner signature state.
    assert_eq!(annotations.len(), findings + 1);
}

#[test]
fn the_demo_bundle_exports_to_a_graph_case_validate_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, examiner) = demo_bundle(dir.path());
    let out = dir.path().join("demo.jsonld");
    let run = export(
        &zip,
        &out,
        &["--examiner-key".as_ref(), examiner.as_os_str()],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    check_graph(&doc, &zip);
    let signature = nodes(&doc, "uco-core:Annotation")
        .into_iter()
        .find(|n| n["uco-core:name"] == "examiner signature")
        .unwrap();
    assert_eq!(
        signature["uco-core:tag"][0],
        "examiner-signature:signed-by-examiner-key"
    );
    assert_eq!(nodes(&doc, "uco-identity:Organization").len(), 1);
    if case_validate_available() {
        let (ok, text) = case_validate(&out);
        assert!(ok && text.contains("Conforms: True"), "{text}");
    }
}

#[test]
fn a_bundle_of_the_fixtures_corpus_exports_to_a_valid_graph() {
    let dir = tempfile::tempdir().unwrap();
    let zip = corpus_bundle(dir.path());
    let out = dir.path().join("corpus.jsonld");
    let run = export(&zip, &out, &[]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    check_graph(&doc, &zip);
    // Not signed at collection: the graph says so.
    assert!(doc.to_string().contains("examiner-signature:not-signed"));
    if case_validate_available() {
        let (ok, text) = case_validate(&out);
        assert!(ok && text.contains("Conforms: True"), "{text}");
    }
}

/// Applies `f` to every node of `v` (nested ones too).
fn edit_nodes(v: &mut Value, f: &mut impl FnMut(&mut serde_json::Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            f(m);
            m.values_mut().for_each(|v| edit_nodes(v, f));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| edit_nodes(v, f)),
        _ => {}
    }
}

#[test]
fn case_validate_catches_a_broken_export() {
    if !case_validate_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = demo_bundle(dir.path());
    let out = dir.path().join("demo.jsonld");
    assert!(export(&zip, &out, &[]).status.success());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();

    // A hash value that is no xsd:hexBinary: a SHACL violation.
    let mut bad = doc.clone();
    edit_nodes(&mut bad, &mut |m| {
        if m.get("@type").is_some_and(|t| t == "uco-types:Hash") {
            m["uco-types:hashValue"] =
                serde_json::json!({"@type": "xsd:string", "@value": "not hex"});
        }
    });
    let bad_hash = dir.path().join("bad-hash.jsonld");
    std::fs::write(&bad_hash, serde_json::to_vec(&bad).unwrap()).unwrap();
    let (ok, text) = case_validate(&bad_hash);
    assert!(!ok && text.contains("Conforms: False"), "{text}");
    assert!(text.contains("xsd:hexBinary"), "{text}");

    // A property UCO does not define, under a concept it checks.
    let mut bad = doc;
    edit_nodes(&mut bad, &mut |m| {
        if m.get("@type")
            .is_some_and(|t| t == "uco-observable:FileFacet")
        {
            m.insert("uco-observable:sha256Digest".into(), "x".into());
        }
    });
    let unknown = dir.path().join("unknown.jsonld");
    std::fs::write(&unknown, serde_json::to_vec(&bad).unwrap()).unwrap();
    let (ok, text) = case_validate(&unknown);
    assert!(!ok, "{text}");
    assert!(text.contains("uco/observable/sha256Digest"), "{text}");
}

#[test]
fn the_same_bundle_exports_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, examiner) = demo_bundle(dir.path());
    let key: [&std::ffi::OsStr; 2] = ["--examiner-key".as_ref(), examiner.as_os_str()];
    let a = dir.path().join("a.jsonld");
    let b = dir.path().join("b.jsonld");
    assert!(export(&zip, &a, &key).status.success());
    assert!(export(&zip, &b, &key).status.success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // An existing output is not replaced without --force.
    let again = export(&zip, &a, &key);
    assert_eq!(again.status.code(), Some(2));
    assert!(export(&zip, &a, &[key[0], key[1], "--force".as_ref()])
        .status
        .success());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Without the examiner key the signature is not checked, and the graph says so.
    let c = dir.path().join("c.jsonld");
    assert!(export(&zip, &c, &[]).status.success());
    let text = std::fs::read_to_string(&c).unwrap();
    assert!(text.contains("examiner-signature:signature-not-checked"));
}

#[test]
fn an_altered_bundle_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = demo_bundle(dir.path());
    bags::tamper(&zip, |e| {
        let module = e
            .iter_mut()
            .find(|(n, _)| n.ends_with(".wasm"))
            .expect("the demo collects modules");
        let mid = module.1.len() / 2;
        module.1[mid] ^= 0xff;
    });
    let out = dir.path().join("altered.jsonld");
    let run = export(&zip, &out, &[]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("FAILED verification; not exported"),
        "{stderr}"
    );
    assert!(
        stderr.contains(".wasm"),
        "the problem names the file: {stderr}"
    );
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}
