//! The real Rekor entries, Sigstore bundles, detached pair and trust roots in `fixtures/` verify
//! offline, with every possible check passing; which checks are impossible is stated per fixture.

use crate::common::fixture;
use wsc_forensics::cli::inspect_transparency::{run_transparency_inspect_to, TransparencyArgs};
use wsc_forensics::cli::Status;
use wsc_forensics::transparency::rekor_entry::EntryShape;
use wsc_forensics::transparency::{
    analyse_signature_pair, analyse_transparency_file, Artifact, CheckId, IdentityPolicy,
    InputKind, Outcome, TransparencyReport, TrustRoot, Verdict,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum R {
    P,
    F,
    N,
}

fn r(o: &Outcome) -> R {
    match o {
        Outcome::Pass { .. } => R::P,
        Outcome::Fail { .. } => R::F,
        Outcome::NotPossible { .. } => R::N,
    }
}

const ORDER: [CheckId; 7] = [
    CheckId::LogInTrustRoot,
    CheckId::SignedEntryTimestamp,
    CheckId::InclusionProof,
    CheckId::Checkpoint,
    CheckId::BodyBindsArtifact,
    CheckId::CertificateChain,
    CheckId::ArtifactSignature,
];

fn assert_checks(rep: &TransparencyReport, expected: [R; 7]) {
    let got: Vec<(CheckId, R)> = rep
        .verification
        .checks
        .iter()
        .map(|c| (c.id, r(&c.outcome)))
        .collect();
    let want: Vec<(CheckId, R)> = ORDER.iter().copied().zip(expected).collect();
    assert_eq!(
        got, want,
        "checks of {}: {:#?}",
        rep.file, rep.verification.checks
    );
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap()
}

fn root(rel: &str) -> TrustRoot {
    TrustRoot::parse(rel, &read(rel)).unwrap()
}

fn analyse(rel: &str, artifact: Option<&[u8]>, root: &TrustRoot) -> TransparencyReport {
    analyse_transparency_file(
        rel,
        &read(rel),
        artifact.map(Artifact::Bytes),
        root,
        &IdentityPolicy::default(),
    )
    .unwrap()
}

use R::{F, N, P};

#[test]
fn bundled_root_is_the_sigstore_python_production_root() {
    assert_eq!(
        wsc_forensics::transparency::trust_root::PRODUCTION_TRUSTED_ROOT,
        read("sigstore/production-trusted_root.json").as_slice()
    );
    let r = TrustRoot::production();
    assert_eq!(r.logs.len(), 2);
    assert_eq!(r.certificate_authorities.len(), 2);
    // Rekor v1 (ECDSA) ids are the key hash; the Rekor v2 (Ed25519) log uses another scheme.
    assert!(r.logs[0].log_id_is_key_hash);
    assert!(!r.logs[1].log_id_is_key_hash && !r.logs[1].log_id_is_suspicious());
    assert_eq!(
        hex::encode(&r.logs[0].log_id),
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
    assert!(r.origin.contains("bundled Sigstore production"));
}

#[test]
fn every_fixture_trust_root_parses_and_its_log_ids_are_key_hashes() {
    for (f, logs, cas) in [
        ("sigstore/production-trusted_root.json", 2, 2),
        ("sigstore/staging-trusted_root.json", 4, 1),
        ("sigstore/trustedroot.v1.json", 1, 2),
        ("rekor/wsc-embedded-trusted_root.json", 1, 2),
    ] {
        let t = root(f);
        assert_eq!(
            (t.logs.len(), t.certificate_authorities.len()),
            (logs, cas),
            "{f}"
        );
        assert!(t.logs.iter().all(|l| !l.log_id_is_suspicious()), "{f}");
        assert!(
            t.logs
                .iter()
                .filter(|l| l.key_details.contains("ECDSA"))
                .all(|l| l.log_id_is_key_hash),
            "{f}"
        );
        assert!(
            t.logs.iter().all(|l| l.key.is_some()),
            "{f}: every key parses"
        );
    }
}

#[test]
fn rest_api_entry_passes_log_checks_and_dsse_binding_is_not_possible_without_envelope() {
    let rep = analyse(
        "rekor/rekor-api-entry-538771042.reconstructed.json",
        None,
        &TrustRoot::production(),
    );
    assert_eq!(
        rep.kind,
        InputKind::RekorEntry {
            shape: EntryShape::RestApi
        }
    );
    // The DSSE envelope is not in a Rekor entry (only its hashes): binding and signature are
    // impossible; everything else passes.
    assert_checks(&rep, [P, P, P, P, N, P, N]);
    assert_eq!(rep.verdict, Verdict::AllPossiblePassed);
    let s = &rep.verification.summary;
    assert_eq!(s.log_index, Some(538771042));
    assert_eq!(s.body_kind.as_deref(), Some("dsse 0.0.1"));
    assert_eq!(
        s.identity.as_deref(),
        Some(
            "https://issuer.enforce.dev/b3afeb8ee1de8a24fe87ccb26faee88b5ba3cac0/5e079a99d8349d65"
        )
    );
    assert_eq!(s.oidc_issuer.as_deref(), Some("https://issuer.enforce.dev"));
    assert_eq!(
        s.integrated_time.unwrap().to_rfc3339(),
        "2025-09-19T17:58:38+00:00"
    );
    assert!(rep.verification.findings.is_empty());
    let events: Vec<&str> = rep
        .verification
        .times
        .iter()
        .map(|t| t.event_type.as_str())
        .collect();
    assert_eq!(
        events,
        ["rekor.integrated", "cert.not_before", "cert.not_after"]
    );
}

#[test]
fn wsc_flattened_entry_gives_the_same_verdict_as_the_api_shape() {
    let rep = analyse(
        "rekor/recent_entry_20251101_175321.json",
        None,
        &TrustRoot::production(),
    );
    assert_eq!(
        rep.kind,
        InputKind::RekorEntry {
            shape: EntryShape::WscFlattened
        }
    );
    assert_checks(&rep, [P, P, P, P, N, P, N]);
}

#[test]
fn wsc_embedded_root_also_verifies_the_entry() {
    let rep = analyse(
        "rekor/recent_entry_20251101_175321.json",
        None,
        &root("rekor/wsc-embedded-trusted_root.json"),
    );
    assert_checks(&rep, [P, P, P, P, N, P, N]);
}

#[test]
fn v02_bundle_with_its_artifact_passes_all_seven_checks() {
    let whl = read("sigstore/bundle_v3_github.whl");
    let rep = analyse(
        "sigstore/bundle_v3_github.whl.sigstore",
        Some(&whl),
        &TrustRoot::production(),
    );
    assert_checks(&rep, [P, P, P, P, P, P, P]);
    assert_eq!(
        rep.verification.summary.oidc_issuer.as_deref(),
        Some("https://token.actions.githubusercontent.com")
    );
    assert_eq!(rep.verification.summary.log_index, Some(79605083));
}

#[test]
fn v02_bundle_with_another_artifact_fails_binding_and_signature_only() {
    let rep = analyse(
        "sigstore/bundle_v3_github.whl.sigstore",
        Some(b"some other artifact"),
        &TrustRoot::production(),
    );
    assert_checks(&rep, [P, P, P, P, F, P, F]);
    let codes: Vec<&str> = rep
        .verification
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "tlog-body-does-not-bind-artifact",
            "signature-does-not-verify"
        ]
    );
}

#[test]
fn v01_python_bundle_has_no_checkpoint_and_binds_through_the_message_digest() {
    // The tarball is not in the fixtures: the body's digest is compared with the bundle's message
    // digest, and the signature is checked over that digest. v0.1 carries no checkpoint.
    let rep = analyse(
        "sigstore/Python-3.12.5.tgz.sigstore",
        None,
        &TrustRoot::production(),
    );
    assert_checks(&rep, [P, P, P, N, P, P, P]);
    assert_eq!(
        rep.verification.summary.identity.as_deref(),
        Some("thomas@python.org")
    );
    assert_eq!(
        rep.verification.summary.oidc_issuer.as_deref(),
        Some("https://accounts.google.com")
    );
    assert!(matches!(
        rep.verification.outcome(CheckId::ArtifactSignature),
        Some(Outcome::Pass { detail }) if detail.contains("message digest")
    ));
}

#[test]
fn staging_bundle_verifies_against_the_staging_root_only() {
    let txt = read("sigstore/bundle.txt");
    let staging = root("sigstore/staging-trusted_root.json");
    let rep = analyse("sigstore/bundle.txt.sigstore", Some(&txt), &staging);
    assert_checks(&rep, [P, P, P, P, P, P, P]);
    // Against production, the staging log and CA are unknown.
    let rep = analyse(
        "sigstore/bundle.txt.sigstore",
        Some(&txt),
        &TrustRoot::production(),
    );
    assert_checks(&rep, [F, N, P, N, P, F, P]);
}

#[test]
fn identity_policy_is_matched_exactly() {
    let whl = read("sigstore/bundle_v3_github.whl");
    let bytes = read("sigstore/bundle_v3_github.whl.sigstore");
    let good = IdentityPolicy {
        identity: Some(
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
                .into(),
        ),
        oidc_issuer: Some("https://token.actions.githubusercontent.com".into()),
    };
    let root = TrustRoot::production();
    let rep =
        analyse_transparency_file("b", &bytes, Some(Artifact::Bytes(&whl)), &root, &good).unwrap();
    assert_eq!(rep.verdict, Verdict::AllPossiblePassed);
    for bad in [
        IdentityPolicy {
            identity: Some("someone@example.com".into()),
            oidc_issuer: None,
        },
        IdentityPolicy {
            identity: None,
            oidc_issuer: Some("https://accounts.google.com".into()),
        },
    ] {
        let rep = analyse_transparency_file("b", &bytes, Some(Artifact::Bytes(&whl)), &root, &bad)
            .unwrap();
        assert_checks(&rep, [P, P, P, P, P, F, P]);
    }
}

#[test]
fn detached_pair_verifies_signature_and_chain_but_has_no_log_evidence() {
    // The pair was made on Sigstore staging: its leaf chains to the staging Fulcio CA.
    let staging = root("sigstore/staging-trusted_root.json");
    let rep = analyse_signature_pair(
        "offline-rekor.txt.sig",
        &read("sigstore/offline-rekor.txt.sig"),
        "offline-rekor.txt.crt",
        &read("sigstore/offline-rekor.txt.crt"),
        Some(Artifact::Bytes(&read("sigstore/offline-rekor.txt"))),
        &staging,
        &IdentityPolicy::default(),
    )
    .unwrap();
    // No entry: the four log checks and the binding are impossible; the chain verifies but its
    // validity at signing time cannot be established without a trusted time.
    assert_checks(&rep, [N, N, N, N, N, N, P]);
    assert_eq!(
        rep.verification.summary.identity.as_deref(),
        Some("william@yossarian.net")
    );
    assert_eq!(
        rep.verification.summary.oidc_issuer.as_deref(),
        Some("https://github.com/login/oauth")
    );
    assert!(rep
        .verification
        .findings
        .iter()
        .any(|f| f.code == "no-transparency-evidence"));
    // The same pair over a different artifact fails the signature.
    let rep = analyse_signature_pair(
        "s",
        &read("sigstore/offline-rekor.txt.sig"),
        "c",
        &read("sigstore/offline-rekor.txt.crt"),
        Some(Artifact::Bytes(b"DO NOT MODIFY ME? modified")),
        &staging,
        &IdentityPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        r(rep
            .verification
            .outcome(CheckId::ArtifactSignature)
            .unwrap()),
        F
    );
    // Against the production root the staging leaf does not chain.
    let rep = analyse_signature_pair(
        "s",
        &read("sigstore/offline-rekor.txt.sig"),
        "c",
        &read("sigstore/offline-rekor.txt.crt"),
        None,
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    )
    .unwrap();
    assert_checks(&rep, [N, N, N, N, N, F, N]);
}

#[test]
fn a_trust_root_file_is_described_not_checked() {
    let rep = analyse(
        "sigstore/staging-trusted_root.json",
        None,
        &TrustRoot::production(),
    );
    assert_eq!(rep.kind, InputKind::TrustRoot);
    assert!(rep.verification.checks.is_empty());
    assert_eq!(rep.trust_root_contents.as_ref().unwrap().logs.len(), 4);
}

#[test]
fn rekor_cli_output_is_read_but_set_and_proof_are_not_possible() {
    // Built from the real entry's decoded body, in the shape `rekor-cli get --format json` prints.
    let api: serde_json::Value =
        serde_json::from_slice(&read("rekor/rekor-api-entry-538771042.reconstructed.json"))
            .unwrap();
    let (uuid, e) = api.as_object().unwrap().iter().next().unwrap();
    use base64::Engine;
    let body: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(e["body"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let cli = serde_json::json!({
        "Attestation": "", "AttestationType": "",
        "Body": {"DSSEObj": body["spec"]},
        "LogIndex": e["logIndex"], "IntegratedTime": e["integratedTime"],
        "UUID": uuid, "LogID": e["logID"],
    });
    let rep = analyse_transparency_file(
        "rekor-cli.json",
        &serde_json::to_vec(&cli).unwrap(),
        None,
        &TrustRoot::production(),
        &IdentityPolicy::default(),
    )
    .unwrap();
    assert_eq!(
        rep.kind,
        InputKind::RekorEntry {
            shape: EntryShape::RekorCli
        }
    );
    assert_checks(&rep, [P, N, N, N, N, P, N]);
    assert!(rep
        .verification
        .outcome(CheckId::SignedEntryTimestamp)
        .unwrap()
        .text()
        .contains("no verification block"));
}

fn run_cli(files: &[&str], args: TransparencyArgs, json: bool) -> (Status, String) {
    let paths: Vec<_> = files.iter().map(|f| fixture(f)).collect();
    let mut out = Vec::new();
    let status = run_transparency_inspect_to(&args, &paths, json, &mut out).unwrap();
    (status, String::from_utf8(out).unwrap())
}

#[test]
fn cli_exit_contract_and_json_shape() {
    // 0: every possible check passes.
    let (st, out) = run_cli(
        &["sigstore/bundle_v3_github.whl.sigstore"],
        TransparencyArgs {
            artifact: Some(fixture("sigstore/bundle_v3_github.whl")),
            ..Default::default()
        },
        true,
    );
    assert_eq!(st, Status::Ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["trust_root"]
        .as_str()
        .unwrap()
        .contains("bundled Sigstore production"));
    let checks = v["reports"][0]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7);
    assert_eq!(checks[0]["id"], "log-in-trust-root");
    assert_eq!(checks[0]["result"], "pass");
    assert!(checks[0]["detail"].is_string());
    assert_eq!(v["reports"][0]["verdict"], "all-possible-passed");

    // 1: a check fails (wrong artifact).
    let (st, out) = run_cli(
        &["sigstore/bundle_v3_github.whl.sigstore"],
        TransparencyArgs {
            artifact: Some(fixture("sigstore/bundle.txt")),
            ..Default::default()
        },
        true,
    );
    assert_eq!(st, Status::EvidenceProblem);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let binding = &v["reports"][0]["checks"][4];
    assert_eq!(binding["id"], "body-binds-artifact");
    assert_eq!(binding["result"], "fail");
    assert!(binding["reason"].as_str().unwrap().contains("differs"));

    // 2: malformed input (a wasm module is not transparency evidence).
    let (st, out) = run_cli(
        &["wsc/modules/base.wasm"],
        TransparencyArgs::default(),
        true,
    );
    assert_eq!(st, Status::InputError);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["errors"][0]["error"]
        .as_str()
        .unwrap()
        .contains("base.wasm"));

    // Not-possible checks do not fail the run; the human table names each check.
    let (st, out) = run_cli(
        &["sigstore/Python-3.12.5.tgz.sigstore"],
        TransparencyArgs::default(),
        false,
    );
    assert_eq!(st, Status::Ok);
    assert!(out.starts_with("trust root: bundled Sigstore production trusted root"));
    assert!(out.contains("checkpoint               not possible"));
    assert!(out.contains("verdict: every possible check passed"));
}

#[test]
fn cli_pairs_sig_with_crt_and_uses_a_given_root() {
    let (st, out) = run_cli(
        &["sigstore/offline-rekor.txt.sig"],
        TransparencyArgs {
            trusted_root: Some(fixture("sigstore/staging-trusted_root.json")),
            artifact: Some(fixture("sigstore/offline-rekor.txt")),
            ..Default::default()
        },
        false,
    );
    assert_eq!(st, Status::Ok, "{out}");
    assert!(out.contains("detached signature with certificate"));
    assert!(out.contains("artifact-signature       pass"));

    let (st, out) = run_cli(
        &["sigstore/bundle.txt.sigstore"],
        TransparencyArgs {
            trusted_root: Some(fixture("sigstore/staging-trusted_root.json")),
            artifact: Some(fixture("sigstore/bundle.txt")),
            ..Default::default()
        },
        false,
    );
    assert_eq!(st, Status::Ok, "{out}");
    assert!(out.contains("staging-trusted_root.json"));
}

#[test]
fn evidence_parts_carry_the_report_findings_and_times() {
    let rep = analyse(
        "sigstore/bundle_v3_github.whl.sigstore",
        Some(b"not the wheel"),
        &TrustRoot::production(),
    );
    let findings = rep.verification.findings.clone();
    let (analysis, f, times) = rep.into_evidence_parts();
    assert_eq!(f, findings);
    assert_eq!(f.len(), 2);
    assert_eq!(times.len(), 3);
    assert_eq!(analysis["checks"].as_array().unwrap().len(), 7);
    assert_eq!(analysis["verdict"], "failed");
    assert_eq!(analysis["kind"]["type"], "sigstore-bundle");
    assert_eq!(analysis["summary"]["log_index"], 79605083);
}
