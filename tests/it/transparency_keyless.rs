//! wsc keyless modules: what `wsc verify --keyless` calls valid, checked properly. The three real
//! modules in `fixtures/wsc/modules/` are all "✓ Keyless signature is valid" for wsc; here the
//! replayed Rekor entry is caught (signature and binding fail), the tampered copy also fails the
//! module hash, and the module without a Rekor entry has no transparency evidence.

use crate::common::fixture;
use sha2::{Digest, Sha256};
use wsc_forensics::transparency::{
    verify_wsc_keyless, CheckId, IdentityPolicy, KeylessReport, Outcome, TrustRoot,
};

/// The parts of a wsc keyless signature section (wsc-formats §10.2).
struct Keyless {
    signature: Vec<u8>,
    certificates_pem: Vec<String>,
    rekor_entry_json: Vec<u8>,
    module_hash: Vec<u8>,
    recomputed: [u8; 32],
}

fn leb(b: &[u8], pos: &mut usize) -> usize {
    let (mut v, mut shift) = (0usize, 0);
    loop {
        let byte = b[*pos];
        *pos += 1;
        v |= ((byte & 0x7f) as usize) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn slice<'a>(b: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let n = leb(b, pos);
    let s = &b[*pos..*pos + n];
    *pos += n;
    s
}

/// Takes the first section (`00 <size> 09 "signature" payload`) apart and hashes the rest of the
/// module, header included (wsc-formats §10.4).
fn decode(module: &[u8]) -> Keyless {
    assert_eq!(&module[..4], b"\0asm");
    let mut pos = 8;
    assert_eq!(module[pos], 0, "first section is custom");
    pos += 1;
    let size = leb(module, &mut pos);
    let section_end = pos + size;
    assert_eq!(slice(module, &mut pos), b"signature");
    assert_eq!(&module[pos..pos + 2], [2, 2], "keyless version and type");
    pos += 2;
    let signature = slice(module, &mut pos).to_vec();
    let count = module[pos] as usize;
    pos += 1;
    let certificates_pem = (0..count)
        .map(|_| String::from_utf8(slice(module, &mut pos).to_vec()).unwrap())
        .collect();
    let rekor_entry_json = slice(module, &mut pos).to_vec();
    let module_hash = slice(module, &mut pos).to_vec();
    assert_eq!(pos, section_end);
    let mut h = Sha256::new();
    h.update(&module[..8]);
    h.update(&module[section_end..]);
    Keyless {
        signature,
        certificates_pem,
        rekor_entry_json,
        module_hash,
        recomputed: h.finalize().into(),
    }
}

fn verify(name: &str, root: &TrustRoot) -> KeylessReport {
    let module = std::fs::read(fixture(&format!("wsc/modules/{name}"))).unwrap();
    let k = decode(&module);
    verify_wsc_keyless(
        &k.signature,
        &k.certificates_pem,
        &k.rekor_entry_json,
        &k.module_hash,
        &k.recomputed,
        root,
        &IdentityPolicy::default(),
    )
}

fn outcome(r: &KeylessReport, id: CheckId) -> &Outcome {
    r.outcome(id).unwrap_or_else(|| panic!("{id:?} missing"))
}

fn codes(r: &KeylessReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn replayed_rekor_entry_is_caught_although_wsc_says_valid() {
    let r = verify(
        "keyless-replayed-rekor-entry.wasm",
        &TrustRoot::production(),
    );
    assert!(outcome(&r, CheckId::ModuleHash).is_pass());
    // The genuine log evidence of someone else's artifact verifies on its own …
    assert!(outcome(&r, CheckId::LogInTrustRoot).is_pass());
    assert!(outcome(&r, CheckId::SignedEntryTimestamp).is_pass());
    assert!(outcome(&r, CheckId::InclusionProof).is_pass());
    assert!(outcome(&r, CheckId::CertificateChain).is_pass());
    // … wsc drops the checkpoint when embedding the proof …
    assert!(outcome(&r, CheckId::Checkpoint).is_not_possible());
    // … but it does not bind this module, and the signature is not over this module.
    let binds = outcome(&r, CheckId::BodyBindsArtifact);
    assert!(binds.is_fail());
    assert!(binds.text().contains("dsse"), "{}", binds.text());
    assert!(outcome(&r, CheckId::ArtifactSignature).is_fail());
    assert_eq!(
        codes(&r),
        [
            "tlog-body-does-not-bind-artifact",
            "signature-does-not-verify"
        ]
    );
    assert_eq!(
        r.summary.identity.as_deref(),
        Some(
            "https://issuer.enforce.dev/b3afeb8ee1de8a24fe87ccb26faee88b5ba3cac0/5e079a99d8349d65"
        )
    );
    assert_eq!(r.summary.log_index, Some(538771042));
}

#[test]
fn wsc_embedded_root_gives_the_same_verdict() {
    let r = verify(
        "keyless-replayed-rekor-entry.wasm",
        &TrustRoot::parse(
            "wsc-embedded-trusted_root.json",
            &std::fs::read(fixture("rekor/wsc-embedded-trusted_root.json")).unwrap(),
        )
        .unwrap(),
    );
    assert!(outcome(&r, CheckId::CertificateChain).is_pass());
    assert!(outcome(&r, CheckId::SignedEntryTimestamp).is_pass());
    assert!(outcome(&r, CheckId::BodyBindsArtifact).is_fail());
}

#[test]
fn tampered_copy_also_fails_the_module_hash() {
    let r = verify(
        "keyless-replayed-rekor-entry-tampered.wasm",
        &TrustRoot::production(),
    );
    assert!(outcome(&r, CheckId::ModuleHash).is_fail());
    assert!(outcome(&r, CheckId::ArtifactSignature).is_fail());
    assert!(outcome(&r, CheckId::BodyBindsArtifact).is_fail());
    assert!(outcome(&r, CheckId::SignedEntryTimestamp).is_pass());
    assert_eq!(codes(&r)[0], "module-modified-after-signing");
    assert_eq!(
        r.findings[0].severity,
        wsc_forensics::model::evidence::Severity::Critical
    );
}

#[test]
fn module_without_rekor_entry_has_no_transparency_evidence() {
    let r = verify("keyless-no-rekor.wasm", &TrustRoot::production());
    assert!(outcome(&r, CheckId::ModuleHash).is_pass());
    for id in [
        CheckId::LogInTrustRoot,
        CheckId::SignedEntryTimestamp,
        CheckId::InclusionProof,
        CheckId::Checkpoint,
        CheckId::BodyBindsArtifact,
    ] {
        let o = outcome(&r, id);
        assert!(
            o.is_not_possible() && o.text().contains("no transparency evidence"),
            "{id:?}: {o:?}"
        );
    }
    // Without a log entry there is no trusted time to judge the 10-minute certificate by.
    assert!(outcome(&r, CheckId::CertificateChain).is_not_possible());
    assert!(codes(&r).contains(&"no-transparency-evidence"));
    assert!(r.times.iter().all(|t| t.event_type != "rekor.integrated"));
}

#[test]
fn expected_identity_mismatch_fails_the_chain_check() {
    let module = std::fs::read(fixture("wsc/modules/keyless-replayed-rekor-entry.wasm")).unwrap();
    let k = decode(&module);
    let r = verify_wsc_keyless(
        &k.signature,
        &k.certificates_pem,
        &k.rekor_entry_json,
        &k.module_hash,
        &k.recomputed,
        &TrustRoot::production(),
        &IdentityPolicy {
            identity: Some("someone@example.com".into()),
            oidc_issuer: None,
        },
    );
    assert!(outcome(&r, CheckId::CertificateChain).is_fail());
}

#[test]
fn corrupt_embedded_entry_is_a_finding_not_a_panic() {
    let module = std::fs::read(fixture("wsc/modules/keyless-replayed-rekor-entry.wasm")).unwrap();
    let k = decode(&module);
    let r = verify_wsc_keyless(
        &k.signature,
        &k.certificates_pem,
        &k.rekor_entry_json[..k.rekor_entry_json.len() / 2],
        &k.module_hash,
        &k.recomputed,
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    );
    assert!(outcome(&r, CheckId::SignedEntryTimestamp).is_not_possible());
    assert!(codes(&r).contains(&"tlog-entry-unreadable"));
}

#[test]
fn keyless_table_starts_with_the_module_hash() {
    let r = verify(
        "keyless-replayed-rekor-entry.wasm",
        &TrustRoot::production(),
    );
    let mut out = Vec::new();
    wsc_forensics::cli::inspect_transparency::write_verification(&mut out, &r).unwrap();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("  ") && !l.starts_with("  finding") && !l.starts_with("  verdict")
        })
        .skip(2)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "module-hash",
            "log-in-trust-root",
            "signed-entry-timestamp",
            "inclusion-proof",
            "checkpoint",
            "body-binds-artifact",
            "certificate-chain",
            "artifact-signature"
        ]
    );
    assert!(text.contains("verdict: FAILED (2 checks)"), "{text}");
}
