//! Hostile transparency inputs: a clear error naming the file and the field, never a panic, never
//! an allocation that follows an attacker's length.

use crate::common::fixture;
use serde_json::Value;
use wsc_forensics::transparency::{
    analyse_transparency_file, IdentityPolicy, TransparencyError, TrustRoot, MAX_INPUT_BYTES,
};

const ENTRY: &str = "rekor/rekor-api-entry-538771042.reconstructed.json";
const BUNDLE: &str = "sigstore/bundle_v3_github.whl.sigstore";

fn load(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(rel)).unwrap()).unwrap()
}

fn analyse(name: &str, bytes: &[u8]) -> Result<(), TransparencyError> {
    analyse_transparency_file(
        name,
        bytes,
        None,
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    )
    .map(|_| ())
}

fn field_error(name: &str, bytes: &[u8]) -> (String, String, String) {
    match analyse(name, bytes) {
        Err(TransparencyError::Field {
            file,
            field,
            problem,
        }) => (file, field, problem),
        other => panic!("expected a field error, got {other:?}"),
    }
}

fn entry_mut(doc: &mut Value) -> &mut Value {
    doc.as_object_mut().unwrap().values_mut().next().unwrap()
}

#[test]
fn truncated_json_names_the_file() {
    let bytes = std::fs::read(fixture(BUNDLE)).unwrap();
    for cut in [1, 100, bytes.len() / 2, bytes.len() - 2] {
        let err = analyse("cut.sigstore", &bytes[..cut]).unwrap_err();
        assert!(matches!(err, TransparencyError::Json { .. }), "{err}");
        assert!(
            err.to_string().starts_with("cut.sigstore: not valid JSON"),
            "{err}"
        );
    }
}

#[test]
fn invalid_base64_names_the_field() {
    let mut doc = load(BUNDLE);
    doc["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"] =
        Value::String("MEUC!!!not base64".into());
    let (file, field, problem) = field_error("bad.sigstore", &serde_json::to_vec(&doc).unwrap());
    assert_eq!(file, "bad.sigstore");
    assert_eq!(
        field,
        "verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp"
    );
    assert!(problem.contains("invalid base64"), "{problem}");
}

#[test]
fn invalid_hex_in_a_rest_proof_names_the_field() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["verification"]["inclusionProof"]["hashes"][2] = Value::String("zz".into());
    let (_, field, problem) = field_error("e.json", &serde_json::to_vec(&doc).unwrap());
    assert!(
        field.ends_with("verification.inclusionProof.hashes[2]"),
        "{field}"
    );
    assert!(problem.contains("hex"), "{problem}");
}

#[test]
fn a_proof_of_ten_thousand_hashes_is_refused_before_use() {
    let mut doc = load(ENTRY);
    let h = "00".repeat(32);
    entry_mut(&mut doc)["verification"]["inclusionProof"]["hashes"] =
        Value::Array(vec![Value::String(h); 10_000]);
    let (file, field, problem) = field_error("long.json", &serde_json::to_vec(&doc).unwrap());
    assert_eq!(file, "long.json");
    assert!(
        field.ends_with("verification.inclusionProof.hashes"),
        "{field}"
    );
    assert!(problem.contains("10000 elements"), "{problem}");

    let mut doc = load(BUNDLE);
    doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"] =
        Value::Array(vec![Value::String("A".repeat(44)); 10_000]);
    let (_, field, _) = field_error("long.sigstore", &serde_json::to_vec(&doc).unwrap());
    assert_eq!(
        field,
        "verificationMaterial.tlogEntries[0].inclusionProof.hashes"
    );
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let mut s = "[".repeat(depth);
    s.push_str(&"]".repeat(depth));
    let err = analyse("deep.json", s.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("deep.json"), "{err}");
    assert!(err.to_string().contains("recursion limit"), "{err}");

    // Nested inside a field that is otherwise valid.
    let doc = load(ENTRY);
    let nested = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let text = serde_json::to_string(&doc).unwrap();
    let text = text.replacen(
        "\"logIndex\":538771042",
        &format!("\"logIndex\":{nested}"),
        1,
    );
    assert!(analyse("deep2.json", text.as_bytes()).is_err());
}

#[test]
fn a_fifty_megabyte_file_is_refused_by_size() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["body"] = Value::String("A".repeat(50 * 1024 * 1024));
    let bytes = serde_json::to_vec(&doc).unwrap();
    let err = analyse("huge.json", &bytes).unwrap_err();
    match &err {
        TransparencyError::TooLarge { file, limit, .. } => {
            assert_eq!(file, "huge.json");
            assert_eq!(*limit, MAX_INPUT_BYTES as u64);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_twenty_megabyte_field_is_refused_by_name() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["body"] = Value::String("A".repeat(20 * 1024 * 1024));
    let (file, field, problem) = field_error("big.json", &serde_json::to_vec(&doc).unwrap());
    assert_eq!(file, "big.json");
    assert!(field.ends_with(".body"), "{field}");
    assert!(problem.contains("limit"), "{problem}");
}

#[test]
fn garbage_inside_a_valid_body_is_named() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["body"] = Value::String("bm90IGpzb24=".into()); // "not json"
    let (_, field, problem) = field_error("b.json", &serde_json::to_vec(&doc).unwrap());
    assert!(field.ends_with(".body"), "{field}");
    assert!(problem.contains("not JSON"), "{problem}");
}

#[test]
fn unsupported_body_kind_is_reported_not_a_crash() {
    use base64::Engine;
    let mut doc = load(ENTRY);
    let body = r#"{"apiVersion":"0.0.1","kind":"rekord","spec":{}}"#;
    entry_mut(&mut doc)["body"] =
        Value::String(base64::engine::general_purpose::STANDARD.encode(body));
    let rep = analyse_transparency_file(
        "rekord.json",
        &serde_json::to_vec(&doc).unwrap(),
        None,
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    )
    .unwrap();
    use wsc_forensics::transparency::CheckId;
    let binds = rep
        .verification
        .outcome(CheckId::BodyBindsArtifact)
        .unwrap();
    assert!(
        binds.is_not_possible() && binds.text().contains("rekord"),
        "{binds:?}"
    );
    assert_eq!(
        rep.verification.summary.body_kind.as_deref(),
        Some("rekord 0.0.1")
    );
    // The changed body no longer hashes to the UUID, and the SET no longer covers it.
    assert!(rep
        .verification
        .outcome(CheckId::InclusionProof)
        .unwrap()
        .is_fail());
}

#[test]
fn wrong_types_and_unknown_documents_are_named() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["integratedTime"] = Value::String("yesterday".into());
    let (_, field, problem) = field_error("t.json", &serde_json::to_vec(&doc).unwrap());
    assert!(field.ends_with(".integratedTime"), "{field}");
    assert!(problem.contains("integer"), "{problem}");

    let err = analyse("other.json", br#"{"hello": "world"}"#).unwrap_err();
    assert!(
        matches!(err, TransparencyError::UnknownFormat { .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("other.json: "));

    let err = analyse(
        "neg.json",
        br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("verificationMaterial"), "{err}");
}

#[test]
fn hostile_trust_roots_are_named_too() {
    let mut doc = load("sigstore/production-trusted_root.json");
    doc["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] =
        Value::String("AAAA".into());
    let err = TrustRoot::parse("root.json", &serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains("certificateAuthorities[0].certChain.certificates[0].rawBytes"),
        "{err}"
    );
    let err = TrustRoot::parse("root.json", b"{\"mediaType\": 5}").unwrap_err();
    assert!(err.to_string().contains("mediaType"), "{err}");
}

#[test]
fn a_malformed_checkpoint_fails_the_check_without_panicking() {
    for text in [
        "",
        "\n\n",
        "origin\nnot-a-number\nAAAA\n\n\u{2014} x AAAA\n",
        "origin\n5\nAAAA\n\nno dash\n",
        "origin\n5\n!!!\n\n\u{2014} x AAAAAAAA\n",
    ] {
        let mut doc = load(ENTRY);
        entry_mut(&mut doc)["verification"]["inclusionProof"]["checkpoint"] =
            Value::String(text.into());
        let rep = analyse_transparency_file(
            "cp.json",
            &serde_json::to_vec(&doc).unwrap(),
            None,
            &TrustRoot::production(),
            &IdentityPolicy::default(),
        )
        .unwrap();
        use wsc_forensics::transparency::CheckId;
        assert!(
            rep.verification
                .outcome(CheckId::Checkpoint)
                .unwrap()
                .is_fail(),
            "{text:?}"
        );
    }
}

#[test]
fn millions_of_tiny_values_are_refused_before_parsing() {
    // 8 MB of `0,` would be ~4 million serde_json values (over 128 MB in memory).
    let mut s = String::from("{\"a\":[");
    s.push_str(&"0,".repeat(4_000_000));
    s.push_str("0]}");
    let (file, field, problem) = field_error("many.json", s.as_bytes());
    assert_eq!((file.as_str(), field.as_str()), ("many.json", "(document)"));
    assert!(problem.contains("JSON values"), "{problem}");
}
