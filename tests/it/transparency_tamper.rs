//! For each check, corrupt exactly what it guards in a real entry or bundle and see exactly that
//! check fail (others may become "not possible" when the corruption removes their input, never
//! "fail").

use crate::common::{failed_checks as failed, fixture};
use base64::Engine;
use serde_json::Value;
use wsc_forensics::transparency::{
    analyse_signature_pair, analyse_transparency_file, Artifact, CheckId, IdentityPolicy,
    TransparencyReport, TrustRoot,
};

const ENTRY: &str = "rekor/rekor-api-entry-538771042.reconstructed.json";
const BUNDLE: &str = "sigstore/bundle_v3_github.whl.sigstore";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn load(rel: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixture(rel)).unwrap()).unwrap()
}

/// The single entry object inside the REST response.
fn entry_mut(doc: &mut Value) -> &mut Value {
    doc.as_object_mut().unwrap().values_mut().next().unwrap()
}

fn analyse_doc(doc: &Value, artifact: Option<&[u8]>, root: &TrustRoot) -> TransparencyReport {
    analyse_transparency_file(
        "tampered.json",
        &serde_json::to_vec(doc).unwrap(),
        artifact.map(Artifact::Bytes),
        root,
        &IdentityPolicy::default(),
    )
    .unwrap()
}

fn entry_report(doc: &Value) -> TransparencyReport {
    analyse_doc(doc, None, &TrustRoot::production())
}

fn whl() -> Vec<u8> {
    std::fs::read(fixture("sigstore/bundle_v3_github.whl")).unwrap()
}

/// Flips one bit in the middle of a base64 field's decoded bytes.
fn flip_b64(v: &mut Value, at: usize) {
    let mut raw = b64().decode(v.as_str().unwrap()).unwrap();
    let i = at.min(raw.len() - 1);
    raw[i] ^= 0x01;
    *v = Value::String(b64().encode(raw));
}

#[test]
fn untouched_entry_and_bundle_have_no_failure() {
    assert!(failed(&entry_report(&load(ENTRY))).is_empty());
    assert!(failed(&analyse_doc(
        &load(BUNDLE),
        Some(&whl()),
        &TrustRoot::production()
    ))
    .is_empty());
}

#[test]
fn one_proof_hash_breaks_only_the_inclusion_proof() {
    let mut doc = load(ENTRY);
    let h = &mut entry_mut(&mut doc)["verification"]["inclusionProof"]["hashes"][7];
    let mut s = h.as_str().unwrap().to_owned();
    s.replace_range(0..1, if s.starts_with('0') { "1" } else { "0" });
    *h = Value::String(s);
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::InclusionProof]);
    assert!(rep
        .verification
        .findings
        .iter()
        .any(|f| f.code == "tlog-inclusion-proof-invalid"));
}

#[test]
fn one_proof_hash_in_a_bundle_breaks_only_the_inclusion_proof() {
    let mut doc = load(BUNDLE);
    flip_b64(
        &mut doc["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][3],
        10,
    );
    let rep = analyse_doc(&doc, Some(&whl()), &TrustRoot::production());
    assert_eq!(failed(&rep), [CheckId::InclusionProof]);
}

#[test]
fn a_uuid_that_is_not_the_leaf_hash_breaks_only_the_inclusion_proof() {
    let mut doc = load(ENTRY);
    let obj = doc.as_object_mut().unwrap();
    let (uuid, e) = obj
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    obj.clear();
    let mut bad = uuid.clone();
    bad.replace_range(79..80, if uuid.ends_with('0') { "1" } else { "0" });
    obj.insert(bad, e);
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::InclusionProof]);
    assert!(rep
        .verification
        .outcome(CheckId::InclusionProof)
        .unwrap()
        .text()
        .contains("UUID"));
}

#[test]
fn the_set_breaks_only_the_signed_entry_timestamp() {
    let mut doc = load(ENTRY);
    flip_b64(
        &mut entry_mut(&mut doc)["verification"]["signedEntryTimestamp"],
        20,
    );
    assert_eq!(failed(&entry_report(&doc)), [CheckId::SignedEntryTimestamp]);
}

#[test]
fn the_integrated_time_breaks_only_the_signed_entry_timestamp() {
    // One second later is still inside the 10-minute certificate, so only the SET notices.
    let mut doc = load(ENTRY);
    let e = entry_mut(&mut doc);
    e["integratedTime"] = Value::from(e["integratedTime"].as_i64().unwrap() + 1);
    assert_eq!(failed(&entry_report(&doc)), [CheckId::SignedEntryTimestamp]);
}

/// An edited time fails the SET, the log's only signature over it; the inclusion proof and
/// checkpoint do not cover it, so no trusted time is left and the certificate cannot be judged
/// at signing (once, proof and checkpoint were taken to vouch for the edited time).
#[test]
fn an_integrated_time_outside_the_certificate_fails_the_set_and_leaves_no_trusted_time() {
    let mut doc = load(ENTRY);
    let e = entry_mut(&mut doc);
    e["integratedTime"] = Value::from(e["integratedTime"].as_i64().unwrap() + 3600);
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::SignedEntryTimestamp]);
    for id in [CheckId::InclusionProof, CheckId::Checkpoint] {
        assert!(rep.verification.outcome(id).unwrap().is_pass(), "{id:?}");
    }
    let chain = rep.verification.outcome(CheckId::CertificateChain).unwrap();
    assert!(!chain.is_pass());
    assert!(
        chain.text().contains("no trusted signing time"),
        "{}",
        chain.text()
    );
    assert_eq!(rep.verdict, wsc_forensics::transparency::Verdict::Failed);
}

#[test]
fn the_checkpoint_signature_breaks_only_the_checkpoint() {
    let mut doc = load(ENTRY);
    let cp = &mut entry_mut(&mut doc)["verification"]["inclusionProof"]["checkpoint"];
    let text = cp.as_str().unwrap().to_owned();
    let (head, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
    let (prefix, sig) = sig_line.rsplit_once(' ').unwrap();
    let mut raw = b64().decode(sig).unwrap();
    let n = raw.len();
    raw[n - 3] ^= 0x01;
    *cp = Value::String(format!("{head}\n{prefix} {}\n", b64().encode(raw)));
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::Checkpoint]);
}

#[test]
fn a_checkpoint_for_another_tree_size_breaks_only_the_checkpoint() {
    let mut doc = load(ENTRY);
    let cp = &mut entry_mut(&mut doc)["verification"]["inclusionProof"]["checkpoint"];
    // Change the note's size line: the signature no longer covers it.
    let text = cp
        .as_str()
        .unwrap()
        .replacen("\n538772043\n", "\n538772044\n", 1);
    *cp = Value::String(text);
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::Checkpoint]);
}

#[test]
fn the_log_id_breaks_only_the_trust_root_check() {
    let mut doc = load(ENTRY);
    entry_mut(&mut doc)["logID"] = Value::String("ab".repeat(32));
    let rep = entry_report(&doc);
    assert_eq!(failed(&rep), [CheckId::LogInTrustRoot]);
    // Without a trusted key the SET and checkpoint cannot be judged at all.
    assert!(rep
        .verification
        .outcome(CheckId::SignedEntryTimestamp)
        .unwrap()
        .is_not_possible());
}

#[test]
fn the_bundle_message_digest_breaks_only_the_binding() {
    // CVE-2022-36056 class: the bundle claims another digest than the log recorded.
    let mut doc = load(BUNDLE);
    flip_b64(&mut doc["messageSignature"]["messageDigest"]["digest"], 5);
    let rep = analyse_doc(&doc, Some(&whl()), &TrustRoot::production());
    assert_eq!(failed(&rep), [CheckId::BodyBindsArtifact]);
    let f = &rep.verification.findings[0];
    assert_eq!(f.code, "tlog-body-does-not-bind-artifact");
    assert_eq!(
        f.severity,
        wsc_forensics::model::evidence::Severity::Critical
    );
}

#[test]
fn a_bundle_signature_other_than_the_logged_one_is_caught() {
    // A different but well-formed signature: the log never recorded it, and it does not verify.
    let mut doc = load(BUNDLE);
    doc["messageSignature"]["signature"] =
        load("sigstore/bundle.txt.sigstore")["messageSignature"]["signature"].clone();
    let rep = analyse_doc(&doc, Some(&whl()), &TrustRoot::production());
    assert_eq!(
        failed(&rep),
        [CheckId::BodyBindsArtifact, CheckId::ArtifactSignature]
    );
}

#[test]
fn a_certificate_authority_the_root_does_not_list_breaks_only_the_chain() {
    // The production logs with the staging CAs: the leaf no longer chains.
    let mut root_doc = load("sigstore/production-trusted_root.json");
    root_doc["certificateAuthorities"] =
        load("sigstore/staging-trusted_root.json")["certificateAuthorities"].clone();
    let root = TrustRoot::parse("mixed", &serde_json::to_vec(&root_doc).unwrap()).unwrap();
    let rep = analyse_doc(&load(BUNDLE), Some(&whl()), &root);
    // The SCT signs the issuing CA's key hash, so it cannot hold under another CA either.
    assert_eq!(
        failed(&rep),
        [CheckId::CertificateChain, CheckId::CertificateTransparency]
    );
}

#[test]
fn a_modified_leaf_certificate_fails_the_chain_and_the_binding() {
    // The body pins the certificate, so a changed leaf is also a binding failure.
    let mut doc = load(BUNDLE);
    let cert =
        &mut doc["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"];
    let mut der = b64().decode(cert.as_str().unwrap()).unwrap();
    let n = der.len();
    der[n - 5] ^= 0x01; // inside the CA's signature value
    *cert = Value::String(b64().encode(der));
    let rep = analyse_doc(&doc, Some(&whl()), &TrustRoot::production());
    assert_eq!(
        failed(&rep),
        [CheckId::BodyBindsArtifact, CheckId::CertificateChain]
    );
}

#[test]
fn a_ca_validity_window_that_ends_before_integration_breaks_only_the_chain() {
    let mut root_doc = load("sigstore/production-trusted_root.json");
    for ca in root_doc["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["end"] = Value::String("2023-01-01T00:00:00Z".into());
    }
    let root = TrustRoot::parse("expired", &serde_json::to_vec(&root_doc).unwrap()).unwrap();
    let rep = analyse_doc(&load(BUNDLE), Some(&whl()), &root);
    assert_eq!(failed(&rep), [CheckId::CertificateChain]);
    assert!(rep
        .verification
        .outcome(CheckId::CertificateChain)
        .unwrap()
        .text()
        .contains("not valid at"));
}

#[test]
fn a_log_window_that_ends_before_integration_breaks_only_the_log_check() {
    let mut root_doc = load("sigstore/production-trusted_root.json");
    root_doc["tlogs"][0]["publicKey"]["validFor"]["end"] =
        Value::String("2022-01-01T00:00:00Z".into());
    let root = TrustRoot::parse("old-log", &serde_json::to_vec(&root_doc).unwrap()).unwrap();
    let rep = analyse_doc(&load(BUNDLE), Some(&whl()), &root);
    assert_eq!(failed(&rep), [CheckId::LogInTrustRoot]);
}

#[test]
fn the_artifact_breaks_only_the_signature_of_a_detached_pair() {
    let staging = TrustRoot::parse(
        "staging",
        &std::fs::read(fixture("sigstore/staging-trusted_root.json")).unwrap(),
    )
    .unwrap();
    let mut artifact = std::fs::read(fixture("sigstore/offline-rekor.txt")).unwrap();
    artifact[3] ^= 0x20;
    let rep = analyse_signature_pair(
        "offline-rekor.txt.sig",
        &std::fs::read(fixture("sigstore/offline-rekor.txt.sig")).unwrap(),
        "offline-rekor.txt.crt",
        &std::fs::read(fixture("sigstore/offline-rekor.txt.crt")).unwrap(),
        Some(Artifact::Bytes(&artifact)),
        &staging,
        &IdentityPolicy::default(),
    )
    .unwrap();
    assert_eq!(failed(&rep), [CheckId::ArtifactSignature]);
}

#[test]
fn a_kind_version_that_disagrees_with_the_body_breaks_only_the_binding() {
    let mut doc = load(BUNDLE);
    doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] =
        Value::String("dsse".into());
    let rep = analyse_doc(&doc, Some(&whl()), &TrustRoot::production());
    assert_eq!(failed(&rep), [CheckId::BodyBindsArtifact]);
}
