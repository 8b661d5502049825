//! A private Sigstore-like instance made entirely by this test: its own CA (a hand-built DER
//! certificate), a Fulcio-style leaf, its own P-256 log key, a 7-leaf Merkle tree with a proof for
//! every index, a signed checkpoint and SETs, bundled as v0.3 bundles and judged against a
//! trusted_root.json written for it. Proves the checks work for any instance, not only the public
//! one.

use crate::common::failed_checks;
use crate::common::sigstore_instance::{
    b64, certificate, extension, mth, name, oid, path, pem, root_ca, seq, spki, tlv,
    OID_CODE_SIGNING, OID_EKU, OID_FULCIO_ISSUER_V2, OID_SAN,
};
use base64::Engine;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wsc_forensics::transparency::{
    analyse_transparency_file, Artifact, CheckId, IdentityPolicy, TransparencyReport, TrustRoot,
    Verdict,
};

// --- the private instance ---

const LEAVES: usize = 7;
const INTEGRATED: i64 = 1_767_225_660; // 2026-01-01T00:01:00Z, inside the leaf's 10 minutes
const IDENTITY: &str = "https://ci.example.test/release@refs/tags/v1";
const ISSUER: &str = "https://oidc.example.test";

struct Instance {
    root_json: Vec<u8>,
    bundles: Vec<Vec<u8>>,
    artifacts: Vec<Vec<u8>>,
}

/// The instance's keys and certificates (deterministic: RFC 6979 signatures, fixed keys).
struct Keys {
    leaf_key: SigningKey,
    log_key: SigningKey,
    ca: Vec<u8>,
    leaf: Vec<u8>,
}

fn keys(code_signing: bool) -> Keys {
    let ca_key = SigningKey::from_slice(&[0x11; 32]).unwrap();
    let leaf_key = SigningKey::from_slice(&[0x22; 32]).unwrap();
    let log_key = SigningKey::from_slice(&[0x33; 32]).unwrap();

    let ca_name = name("Example", "example-ca");
    let ca = root_ca(&ca_name, &ca_key);
    let leaf = certificate(
        2,
        &ca_name,
        &seq(&[]),
        "260101000000Z",
        "260101001000Z",
        &leaf_key,
        [
            code_signing.then(|| extension(OID_EKU, false, seq(&[oid(OID_CODE_SIGNING)]))),
            Some(extension(
                OID_SAN,
                true,
                seq(&[tlv(0x86, IDENTITY.as_bytes())]),
            )),
            Some(extension(
                OID_FULCIO_ISSUER_V2,
                false,
                tlv(0x0c, ISSUER.as_bytes()),
            )),
        ]
        .into_iter()
        .flatten()
        .collect(),
        &ca_key,
    );

    Keys {
        leaf_key,
        log_key,
        ca,
        leaf,
    }
}

fn instance() -> Instance {
    instance_with(true)
}

/// The instance; `code_signing` decides whether the leaf carries the code-signing EKU.
fn instance_with(code_signing: bool) -> Instance {
    let Keys {
        leaf_key,
        log_key,
        ca,
        leaf,
        ..
    } = keys(code_signing);
    let log_spki = spki(&log_key);
    let log_id = Sha256::digest(&log_spki).to_vec();

    let artifacts: Vec<Vec<u8>> = (0..LEAVES)
        .map(|i| format!("artifact number {i}\n").into_bytes())
        .collect();
    let mut bodies = Vec::new();
    let mut signatures = Vec::new();
    for a in &artifacts {
        let digest = Sha256::digest(a);
        let sig: Signature = leaf_key.sign_prehash(&digest).unwrap();
        let sig = sig.to_der().as_bytes().to_vec();
        let body = json!({
            "apiVersion": "0.0.1", "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                "signature": {"content": b64(&sig), "publicKey": {"content": b64(pem(&leaf).as_bytes())}}
            }
        });
        bodies.push(serde_json_canonicalizer::to_vec(&body).unwrap());
        signatures.push(sig);
    }
    let root_hash = mth(&bodies);
    let note = format!("rekor.example.test - 42\n{LEAVES}\n{}\n", b64(&root_hash));
    let note_sig: Signature = log_key.sign(note.as_bytes());
    let mut hint_sig = log_id[..4].to_vec();
    hint_sig.extend_from_slice(note_sig.to_der().as_bytes());
    let checkpoint = format!("{note}\n\u{2014} rekor.example.test {}\n", b64(&hint_sig));

    let mut bundles = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let body_b64 = b64(body);
        let set_payload = serde_json_canonicalizer::to_vec(&json!({
            "body": body_b64, "integratedTime": INTEGRATED,
            "logID": hex::encode(&log_id), "logIndex": i,
        }))
        .unwrap();
        let set: Signature = log_key.sign(&set_payload);
        let hashes: Vec<String> = path(i, &bodies).iter().map(|x| b64(x)).collect();
        let bundle = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(&leaf)},
                "tlogEntries": [{
                    "logIndex": i.to_string(),
                    "logId": {"keyId": b64(&log_id)},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": INTEGRATED.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": b64(set.to_der().as_bytes())},
                    "inclusionProof": {
                        "logIndex": i.to_string(), "rootHash": b64(&root_hash),
                        "treeSize": LEAVES.to_string(), "hashes": hashes,
                        "checkpoint": {"envelope": checkpoint},
                    },
                    "canonicalizedBody": body_b64,
                }]
            },
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&Sha256::digest(&artifacts[i]))},
                "signature": b64(&signatures[i]),
            }
        });
        bundles.push(serde_json::to_vec_pretty(&bundle).unwrap());
    }
    let root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [{
            "baseUrl": "https://rekor.example.test", "hashAlgorithm": "SHA2_256",
            "publicKey": {"rawBytes": b64(&log_spki), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                          "validFor": {"start": "2025-01-01T00:00:00Z"}},
            "logId": {"keyId": b64(&log_id)},
        }],
        "certificateAuthorities": [{
            "subject": {"organization": "Example", "commonName": "example-ca"},
            "uri": "https://fulcio.example.test",
            "certChain": {"certificates": [{"rawBytes": b64(&ca)}]},
            "validFor": {"start": "2025-01-01T00:00:00Z"},
        }],
    });
    Instance {
        root_json: serde_json::to_vec(&root).unwrap(),
        bundles,
        artifacts,
    }
}

fn analyse(
    bundle: &[u8],
    artifact: &[u8],
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> TransparencyReport {
    analyse_transparency_file(
        "private.sigstore",
        bundle,
        Some(Artifact::Bytes(artifact)),
        root,
        policy,
    )
    .unwrap()
}

#[test]
fn every_leaf_of_the_private_log_passes_all_seven_checks() {
    let inst = instance();
    let root = TrustRoot::parse("private-root.json", &inst.root_json).unwrap();
    assert!(root.logs[0].log_id_is_key_hash);
    let policy = IdentityPolicy {
        identity: Some(IDENTITY.into()),
        oidc_issuer: Some(ISSUER.into()),
        key: None,
    };
    for (i, (b, a)) in inst.bundles.iter().zip(&inst.artifacts).enumerate() {
        let rep = analyse(b, a, &root, &policy);
        let results: Vec<_> = rep
            .verification
            .checks
            .iter()
            // The private instance has no CT log, so its leaves carry no SCT (informational).
            .filter(|c| c.id != CheckId::CertificateTransparency)
            .map(|c| (c.id, c.outcome.is_pass()))
            .collect();
        assert!(
            results.iter().all(|(_, ok)| *ok),
            "leaf {i}: {:#?}",
            rep.verification.checks
        );
        assert_eq!(results.len(), 7);
        assert_eq!(rep.verdict, Verdict::AllRequiredPassed);
        assert_eq!(rep.verification.summary.identity.as_deref(), Some(IDENTITY));
        assert_eq!(
            rep.verification.summary.oidc_issuer.as_deref(),
            Some(ISSUER)
        );
        assert_eq!(rep.verification.summary.log_index, Some(i as u64));
    }
}

#[test]
fn a_proof_moved_to_another_leaf_fails_and_the_public_root_rejects_the_instance() {
    let inst = instance();
    let root = TrustRoot::parse("private-root.json", &inst.root_json).unwrap();
    // Leaf 2's body with leaf 5's audit path: the inclusion proof fails, nothing else does
    // (the SET covers the body and index, not the proof).
    let mut b2: Value = serde_json::from_slice(&inst.bundles[2]).unwrap();
    let b5: Value = serde_json::from_slice(&inst.bundles[5]).unwrap();
    b2["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"] =
        b5["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"].clone();
    let rep = analyse(
        &serde_json::to_vec(&b2).unwrap(),
        &inst.artifacts[2],
        &root,
        &IdentityPolicy::default(),
    );
    let failed: Vec<_> = rep
        .verification
        .checks
        .iter()
        .filter(|c| c.outcome.is_fail())
        .map(|c| c.id)
        .collect();
    assert_eq!(failed, [CheckId::InclusionProof]);

    // Judged against the public Sigstore root, the private log and CA are unknown.
    let rep = analyse(
        &inst.bundles[0],
        &inst.artifacts[0],
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    );
    let failed: Vec<_> = rep
        .verification
        .checks
        .iter()
        .filter(|c| c.outcome.is_fail())
        .map(|c| c.id)
        .collect();
    assert_eq!(failed, [CheckId::LogInTrustRoot, CheckId::CertificateChain]);
}

#[test]
fn a_leaf_without_code_signing_usage_fails_only_the_chain_check() {
    let inst = instance_with(false);
    let root = TrustRoot::parse("private-root.json", &inst.root_json).unwrap();
    let rep = analyse(
        &inst.bundles[4],
        &inst.artifacts[4],
        &root,
        &IdentityPolicy::default(),
    );
    let failed: Vec<_> = rep
        .verification
        .checks
        .iter()
        .filter(|c| c.outcome.is_fail())
        .map(|c| c.id)
        .collect();
    assert_eq!(failed, [CheckId::CertificateChain]);
    assert!(rep
        .verification
        .outcome(CheckId::CertificateChain)
        .unwrap()
        .text()
        .contains("code-signing"));
}

/// A DSSE bundle (in-toto statement about `artifact`) logged as the only leaf of a one-leaf tree of
/// the same private log.
fn dsse_bundle(artifact: &[u8]) -> Value {
    let k = keys(true);
    let log_id = Sha256::digest(spki(&k.log_key)).to_vec();
    let payload_type = "application/vnd.in-toto+json";
    let payload = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact", "digest": {"sha256": hex::encode(Sha256::digest(artifact))}}],
        "predicateType": "https://example.test/predicate", "predicate": {}
    }))
    .unwrap();
    let mut pae = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    pae.extend_from_slice(&payload);
    let sig: Signature = k.leaf_key.sign(&pae);
    let sig = sig.to_der().as_bytes().to_vec();
    let envelope = json!({"payload": b64(&payload), "payloadType": payload_type,
                          "signatures": [{"sig": b64(&sig)}]});
    let body = serde_json_canonicalizer::to_vec(&json!({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(serde_json::to_vec(&envelope).unwrap()))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
            "signatures": [{"signature": b64(&sig), "verifier": b64(pem(&k.leaf).as_bytes())}]
        }
    }))
    .unwrap();
    let root_hash = mth(std::slice::from_ref(&body));
    let note = format!("rekor.example.test - 42\n1\n{}\n", b64(&root_hash));
    let note_sig: Signature = k.log_key.sign(note.as_bytes());
    let mut hint_sig = log_id[..4].to_vec();
    hint_sig.extend_from_slice(note_sig.to_der().as_bytes());
    let body_b64 = b64(&body);
    let set: Signature = k.log_key.sign(
        &serde_json_canonicalizer::to_vec(&json!({
            "body": body_b64, "integratedTime": INTEGRATED,
            "logID": hex::encode(&log_id), "logIndex": 0,
        }))
        .unwrap(),
    );
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": b64(&k.leaf)},
            "tlogEntries": [{
                "logIndex": "0", "logId": {"keyId": b64(&log_id)},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": INTEGRATED.to_string(),
                "inclusionPromise": {"signedEntryTimestamp": b64(set.to_der().as_bytes())},
                "inclusionProof": {
                    "logIndex": "0", "rootHash": b64(&root_hash), "treeSize": "1", "hashes": [],
                    "checkpoint": {"envelope": format!("{note}\n\u{2014} rekor.example.test {}\n", b64(&hint_sig))},
                },
                "canonicalizedBody": body_b64,
            }]
        },
        "dsseEnvelope": envelope,
    })
}

#[test]
fn a_dsse_bundle_passes_all_checks_and_binds_its_in_toto_subject() {
    let root = TrustRoot::parse("private-root.json", &instance().root_json).unwrap();
    let artifact = b"the attested artifact";
    let bundle = serde_json::to_vec(&dsse_bundle(artifact)).unwrap();
    let rep = analyse(&bundle, artifact, &root, &IdentityPolicy::default());
    assert!(
        rep.verification
            .checks
            .iter()
            .filter(|c| c.id != CheckId::CertificateTransparency)
            .all(|c| c.outcome.is_pass()),
        "{:#?}",
        rep.verification.checks
    );
    assert_eq!(
        rep.verification.summary.body_kind.as_deref(),
        Some("dsse 0.0.1")
    );

    // Another artifact is not a subject of the statement.
    let rep = analyse(
        &bundle,
        b"something else",
        &root,
        &IdentityPolicy::default(),
    );
    assert_eq!(failed_checks(&rep), [CheckId::BodyBindsArtifact]);
}

#[test]
fn a_dsse_envelope_with_a_changed_payload_fails_binding_and_signature() {
    let root = TrustRoot::parse("private-root.json", &instance().root_json).unwrap();
    let artifact = b"the attested artifact";
    let mut doc = dsse_bundle(artifact);
    let mut payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(doc["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    payload["predicate"] = json!({"changed": true});
    doc["dsseEnvelope"]["payload"] = Value::String(b64(&serde_json::to_vec(&payload).unwrap()));
    let rep = analyse(
        &serde_json::to_vec(&doc).unwrap(),
        artifact,
        &root,
        &IdentityPolicy::default(),
    );
    assert_eq!(
        failed_checks(&rep),
        [CheckId::BodyBindsArtifact, CheckId::ArtifactSignature]
    );
}
