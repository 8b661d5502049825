//! Per-check tamper tests with a private Sigstore instance (`common::sigstore_instance`: own CA
//! and CT log, own Rekor v1 and v2 logs, own RFC 3161 timestamp authority). Each test corrupts
//! exactly what one check guards and asserts that exactly that check fails, with its reason, and
//! that the verdict fails. The untouched instance passes every check, so each failure is the
//! corruption's doing.

use crate::common::sigstore_instance::{
    b64, client_trust_config, unb64, Instance, Options, RsaCtLog, IDENTITY, ISSUER, V1_NAME,
    V2_NAME,
};
use crate::common::{failed_checks as failed, oracle_available};
use serde_json::{json, Value};
use wsc_forensics::transparency::{
    analyse_transparency_file, Artifact, CheckId, IdentityPolicy, TransparencyReport, TrustRoot,
    Verdict,
};

const ARTIFACT: &[u8] = b"release artifact of the private instance\n";

fn pinned() -> IdentityPolicy {
    IdentityPolicy {
        identity: Some(IDENTITY.into()),
        oidc_issuer: Some(ISSUER.into()),
        key: None,
    }
}

fn judge(bundle: &Value, root: &Value) -> TransparencyReport {
    let root = TrustRoot::parse("private-root.json", &serde_json::to_vec(root).unwrap()).unwrap();
    analyse_transparency_file(
        "private.sigstore.json",
        &serde_json::to_vec(bundle).unwrap(),
        Some(Artifact::Bytes(ARTIFACT)),
        &root,
        &pinned(),
    )
    .unwrap()
}

/// Exactly `id` failed, for a reason that says `because`, and the verdict failed.
fn only_fails(rep: &TransparencyReport, id: CheckId, because: &str) {
    assert_eq!(failed(rep), [id], "{:#?}", rep.verification.checks);
    let reason = rep.verification.outcome(id).unwrap().text();
    assert!(
        reason.contains(because),
        "{id:?} failed for {reason:?}, not for {because:?}"
    );
    assert_eq!(rep.verdict, Verdict::Failed);
}

fn all_pass(rep: &TransparencyReport, expected: &[CheckId]) {
    for id in expected {
        assert!(
            rep.verification.outcome(*id).is_some_and(|o| o.is_pass()),
            "{id:?}: {:#?}",
            rep.verification.checks
        );
    }
    assert!(failed(rep).is_empty());
    assert_eq!(rep.verdict, Verdict::AllRequiredPassed);
}

fn v2(opts: Options) -> (Vec<Value>, Value) {
    let inst = Instance::new(opts);
    (inst.bundles_v2(ARTIFACT, 5), inst.trusted_root())
}

fn entry(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

fn envelope(b: &mut Value) -> &mut Value {
    &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"]
}

const V2_CHECKS: &[CheckId] = &[
    CheckId::LogInTrustRoot,
    CheckId::InclusionProof,
    CheckId::Checkpoint,
    CheckId::SignedTimestamp,
    CheckId::BodyBindsArtifact,
    CheckId::CertificateChain,
    CheckId::CertificateTransparency,
    CheckId::ArtifactSignature,
];

#[test]
fn the_private_instance_passes_every_check_with_rekor_v1_and_v2() {
    for cosigned in [false, true] {
        let (bundles, root) = v2(Options {
            cosigned,
            ..Options::default()
        });
        for b in &bundles {
            let rep = judge(b, &root);
            all_pass(&rep, V2_CHECKS);
            // The times are the TSA's: a Rekor v2 entry has no integrated time.
            assert!(rep
                .verification
                .outcome(CheckId::CertificateChain)
                .unwrap()
                .text()
                .contains("tsa.example.test"));
        }
    }
    let inst = Instance::new(Options::default());
    for b in inst.bundles_v1(ARTIFACT, 3) {
        all_pass(
            &judge(&b, &inst.trusted_root()),
            &[
                CheckId::LogInTrustRoot,
                CheckId::SignedEntryTimestamp,
                CheckId::InclusionProof,
                CheckId::Checkpoint,
                CheckId::CertificateTransparency,
            ],
        );
    }
}

/// The SET is the log's only signature over the integrated time: the inclusion proof and the
/// checkpoint cover the entry body, not the time. Without a SET (and without a timestamp) the
/// certificate's validity at signing cannot be established, whatever the time says: an edited
/// time passed when proof and checkpoint were taken to cover it.
#[test]
fn without_a_set_the_integrated_time_is_not_a_trusted_time() {
    let inst = Instance::new(Options::default());
    let root = inst.trusted_root();
    let mut b = inst.bundles_v1(ARTIFACT, 1).remove(0);
    entry(&mut b)
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise")
        .expect("a v1 bundle of the instance carries a SET");
    for edited in [false, true] {
        if edited {
            let t: i64 = entry(&mut b)["integratedTime"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            entry(&mut b)["integratedTime"] = json!((t + 3600).to_string());
        }
        let rep = judge(&b, &root);
        for id in [CheckId::InclusionProof, CheckId::Checkpoint] {
            assert!(rep.verification.outcome(id).unwrap().is_pass(), "{id:?}");
        }
        let chain = rep.verification.outcome(CheckId::CertificateChain).unwrap();
        assert!(!chain.is_pass(), "edited {edited}: {}", chain.text());
        assert!(
            chain.text().contains("no trusted signing time"),
            "{}",
            chain.text()
        );
        assert_eq!(rep.verdict, Verdict::Failed);
    }
}

// --- RFC 3161 timestamps ---

#[test]
fn a_timestamp_signature_flipped_fails_only_signed_timestamp() {
    let (b, root) = v2(Options {
        tsa_signature_bad: true,
        ..Options::default()
    });
    only_fails(&judge(&b[1], &root), CheckId::SignedTimestamp, "signature");
}

#[test]
fn a_timestamp_over_another_signature_fails_only_signed_timestamp() {
    let (b, root) = v2(Options {
        tsa_imprint_other: true,
        ..Options::default()
    });
    only_fails(
        &judge(&b[2], &root),
        CheckId::SignedTimestamp,
        "message imprint",
    );
}

#[test]
fn a_tsa_certificate_without_time_stamping_usage_fails_only_signed_timestamp() {
    let (b, root) = v2(Options {
        tsa_without_eku: true,
        ..Options::default()
    });
    only_fails(
        &judge(&b[0], &root),
        CheckId::SignedTimestamp,
        "timeStamping",
    );
}

#[test]
fn a_token_naming_another_signer_fails_only_signed_timestamp() {
    let (b, root) = v2(Options {
        tsa_signer_serial_other: true,
        ..Options::default()
    });
    only_fails(&judge(&b[0], &root), CheckId::SignedTimestamp, "signer");
}

#[test]
fn a_token_naming_its_signer_by_key_id_passes_and_by_another_key_id_fails() {
    let (b, root) = v2(Options {
        tsa_signer_key_id: true,
        ..Options::default()
    });
    all_pass(&judge(&b[0], &root), V2_CHECKS);
    let (b, root) = v2(Options {
        tsa_signer_key_id: true,
        tsa_signer_serial_other: true,
        ..Options::default()
    });
    only_fails(&judge(&b[0], &root), CheckId::SignedTimestamp, "key id");
}

#[test]
fn a_tsa_chain_that_does_not_link_fails_only_signed_timestamp() {
    let (b, mut root) = v2(Options::default());
    // The authority's chain ends in a root that did not issue its certificate (the Fulcio CA).
    let ca = root["certificateAuthorities"][0]["certChain"]["certificates"][0].clone();
    root["timestampAuthorities"][0]["certChain"]["certificates"][1] = ca;
    only_fails(&judge(&b[0], &root), CheckId::SignedTimestamp, "chain");
}

#[test]
fn a_timestamp_outside_the_tsa_valid_for_fails_only_signed_timestamp() {
    let (b, mut root) = v2(Options::default());
    root["timestampAuthorities"][0]["validFor"] =
        json!({"start": "2026-01-01T00:02:00Z", "end": "2027-01-01T00:00:00Z"});
    only_fails(&judge(&b[3], &root), CheckId::SignedTimestamp, "validFor");
}

// --- signed certificate timestamps ---

#[test]
fn an_sct_signature_over_other_data_fails_only_certificate_transparency() {
    let (b, root) = v2(Options {
        sct_signature_bad: true,
        ..Options::default()
    });
    only_fails(
        &judge(&b[0], &root),
        CheckId::CertificateTransparency,
        "does not verify",
    );
}

#[test]
fn an_sct_by_a_ct_log_not_in_the_trust_root_fails_only_certificate_transparency() {
    let (b, mut root) = v2(Options::default());
    // The trust root's only CT log is another log (the Rekor v1 log's key and id).
    let other = root["tlogs"][0].clone();
    root["ctlogs"][0]["publicKey"] = other["publicKey"].clone();
    root["ctlogs"][0]["logId"] = other["logId"].clone();
    only_fails(
        &judge(&b[0], &root),
        CheckId::CertificateTransparency,
        "no SCT is from a CT log of the trust root",
    );
}

#[test]
fn an_sct_outside_its_ct_log_valid_for_fails_only_certificate_transparency() {
    let (b, mut root) = v2(Options::default());
    root["ctlogs"][0]["publicKey"]["validFor"] = json!({"start": "2026-01-01T00:00:01Z"});
    only_fails(
        &judge(&b[0], &root),
        CheckId::CertificateTransparency,
        "not valid at the SCT's time",
    );
}

#[test]
fn an_sct_by_an_rsa_ct_log_verifies_and_a_wrong_one_fails_only_certificate_transparency() {
    if !oracle_available("openssl", &["version"], "apt-get install openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for bad in [false, true] {
        let mut inst = Instance::new(Options {
            sct_signature_bad: bad,
            ..Options::default()
        });
        inst.ct_rsa = Some(RsaCtLog::generate(dir.path()).expect("openssl makes an RSA key"));
        let root = inst.trusted_root();
        let b = inst.bundles_v2(ARTIFACT, 2);
        let rep = judge(&b[1], &root);
        if bad {
            only_fails(&rep, CheckId::CertificateTransparency, "does not verify");
        } else {
            all_pass(&rep, V2_CHECKS);
        }
    }
}

// --- Rekor v2 inclusion proof and checkpoint ---

#[test]
fn a_rekor_v2_proof_hash_flipped_fails_only_the_inclusion_proof() {
    let (mut b, root) = v2(Options::default());
    let h = &mut entry(&mut b[2])["inclusionProof"]["hashes"][1];
    let mut raw = unb64(h.as_str().unwrap());
    raw[0] ^= 0x80;
    *h = Value::String(b64(&raw));
    only_fails(&judge(&b[2], &root), CheckId::InclusionProof, "root");
}

/// Rewrites the signature line named `name` of a checkpoint with `edit(name, raw)`.
fn edit_signature_line(text: &str, name: &str, edit: impl Fn(&mut String, &mut Vec<u8>)) -> String {
    text.split_inclusive('\n')
        .map(|line| {
            let Some(rest) = line.strip_prefix(&format!("\u{2014} {name} ")) else {
                return line.to_owned();
            };
            let mut n = name.to_owned();
            let mut raw = unb64(rest.trim_end());
            edit(&mut n, &mut raw);
            format!("\u{2014} {n} {}\n", b64(&raw))
        })
        .collect()
}

#[test]
fn a_rekor_v2_checkpoint_signature_flipped_fails_only_the_checkpoint() {
    let (mut b, root) = v2(Options::default());
    let text = envelope(&mut b[0]).as_str().unwrap().to_owned();
    let bad = edit_signature_line(&text, V2_NAME, |_, raw| raw[10] ^= 1);
    assert_ne!(bad, text);
    *envelope(&mut b[0]) = Value::String(bad);
    only_fails(&judge(&b[0], &root), CheckId::Checkpoint, "does not verify");
}

#[test]
fn a_rekor_v2_checkpoint_for_another_origin_fails_only_the_checkpoint() {
    let inst = Instance::new(Options::default());
    let mut b = inst.bundles_v2(ARTIFACT, 5);
    // Correctly signed by the log key, but for another origin than the log's.
    let p = entry(&mut b[4])["inclusionProof"].clone();
    let root_hash = unb64(p["rootHash"].as_str().unwrap());
    let other = inst.checkpoint_v2("other.example.test", 5, &root_hash);
    *envelope(&mut b[4]) = Value::String(other);
    only_fails(
        &judge(&b[4], &inst.trusted_root()),
        CheckId::Checkpoint,
        "origin",
    );
}

#[test]
fn a_checkpoint_signature_line_renamed_with_its_key_hint_kept_fails_only_the_checkpoint() {
    // Rekor v2 (Ed25519: the C2SP key hint is derived from the name).
    let (mut b, root) = v2(Options::default());
    let text = envelope(&mut b[0]).as_str().unwrap().to_owned();
    let renamed = edit_signature_line(&text, V2_NAME, |n, _| *n = "evil.example.test".into());
    *envelope(&mut b[0]) = Value::String(renamed);
    only_fails(
        &judge(&b[0], &root),
        CheckId::Checkpoint,
        "evil.example.test",
    );

    // Rekor v1 (ECDSA: the key hint is the log id's first bytes, which the name does not change).
    let inst = Instance::new(Options::default());
    let mut b = inst.bundles_v1(ARTIFACT, 3);
    let text = envelope(&mut b[1]).as_str().unwrap().to_owned();
    let renamed = edit_signature_line(&text, V1_NAME, |n, _| *n = "evil.example.test".into());
    assert_ne!(renamed, text);
    *envelope(&mut b[1]) = Value::String(renamed);
    only_fails(
        &judge(&b[1], &inst.trusted_root()),
        CheckId::Checkpoint,
        "evil.example.test",
    );
}

#[test]
fn cosignatures_are_ignored_but_never_replace_the_log_signature() {
    let (mut b, root) = v2(Options {
        cosigned: true,
        ..Options::default()
    });
    // A broken witness cosignature does not matter: cosignatures are not configured.
    let text = envelope(&mut b[0]).as_str().unwrap().to_owned();
    let broken = edit_signature_line(&text, "witness.example.test", |_, raw| raw[8] ^= 1);
    assert_ne!(broken, text);
    *envelope(&mut b[0]) = Value::String(broken);
    all_pass(&judge(&b[0], &root), V2_CHECKS);

    // Only the witness's signature left: the log never signed this checkpoint.
    let only_witness: String = text
        .split_inclusive('\n')
        .filter(|l| !l.starts_with(&format!("\u{2014} {V2_NAME} ")))
        .collect();
    *envelope(&mut b[1]) = Value::String(only_witness);
    only_fails(&judge(&b[1], &root), CheckId::Checkpoint, "key hint");
}

// --- sigstore-python as the oracle on the private instance ---

#[test]
fn sigstore_python_agrees_on_the_private_instance_and_its_tampered_bundles() {
    use crate::transparency_oracle::{available, oracle_passes};
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("artifact");
    std::fs::write(&artifact, ARTIFACT).unwrap();
    let cfg = dir.path().join("trust_config.json");
    let inst = Instance::new(Options::default());
    let root = inst.trusted_root();
    std::fs::write(
        &cfg,
        serde_json::to_vec(&client_trust_config(&root)).unwrap(),
    )
    .unwrap();
    let bad_sct = Instance::new(Options {
        sct_signature_bad: true,
        ..Options::default()
    })
    .bundles_v1(ARTIFACT, 3)
    .swap_remove(1);
    let mut bad_proof = inst.bundles_v1(ARTIFACT, 3).swap_remove(2);
    let h = &mut entry(&mut bad_proof)["inclusionProof"]["hashes"][0];
    let mut raw = unb64(h.as_str().unwrap());
    raw[5] ^= 1;
    *h = Value::String(b64(&raw));
    let cases = [
        (
            "untouched",
            inst.bundles_v1(ARTIFACT, 3).swap_remove(0),
            true,
        ),
        ("SCT signature", bad_sct, false),
        ("proof hash", bad_proof, false),
    ];
    for (what, bundle, expected) in cases {
        let path = dir.path().join("bundle.sigstore.json");
        std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
        let ours = judge(&bundle, &root).verdict == Verdict::AllRequiredPassed;
        let theirs = oracle_passes(&cfg, &path, IDENTITY, ISSUER, &artifact);
        assert_eq!((ours, theirs), (expected, expected), "{what}");
    }
}
