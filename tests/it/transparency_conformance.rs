//! Sigstore's client conformance suite (`fixtures/sigstore-conformance/bundle-verify/`, vendored
//! with its upstream commit in that folder's README), run case by case through our binary with
//! the suite's own conventions: a directory name ending in `_fail` must not verify; `artifact`
//! (default `../a.txt`), `identity`, `issuer` (defaults below), `key.pub` (then the key is given
//! instead of an identity) and `trusted_root.json` (default: the production root) are optional.
//! Every case runs twice, as the suite's client protocol does: with the artifact's path and with
//! `sha256:<hex>` of it.
//!
//! Honesty: the test is never green while we accept a case the suite says must fail. Cases we
//! cannot yet verify are listed in [`KNOWN_SAFE_DISAGREEMENTS`] with the missing feature; each
//! must be a safe-side disagreement (the suite expects a pass, we fail closed), and every other
//! case must agree.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases the suite expects to verify that we still refuse, with the feature we lack. Empty is
/// the goal; a case here that starts agreeing makes the test fail so the list stays true.
const KNOWN_SAFE_DISAGREEMENTS: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    crate::common::fixture("sigstore-conformance/bundle-verify")
}

fn read_trimmed(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArtifactForm {
    Path,
    Digest,
}

struct Run {
    case: String,
    form: ArtifactForm,
    expect_pass: bool,
    exit: Option<i32>,
    output: String,
}

impl Run {
    fn passed(&self) -> bool {
        self.exit == Some(0)
    }
    fn agrees(&self) -> bool {
        self.passed() == self.expect_pass
    }
}

fn run_case(dir: &Path, form: ArtifactForm) -> Run {
    let case = dir.file_name().unwrap().to_string_lossy().into_owned();
    let artifact = if dir.join("artifact").is_file() {
        dir.join("artifact")
    } else {
        suite_dir().join("a.txt")
    };
    let mut cmd = crate::common::bin();
    cmd.arg("inspect").arg(dir.join("bundle.sigstore.json"));
    match form {
        ArtifactForm::Path => cmd.arg("--artifact").arg(&artifact),
        ArtifactForm::Digest => {
            let bytes = std::fs::read(&artifact).unwrap();
            cmd.arg("--artifact")
                .arg(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))))
        }
    };
    if dir.join("key.pub").is_file() {
        cmd.arg("--key").arg(dir.join("key.pub"));
    } else {
        let identity =
            read_trimmed(&dir.join("identity")).unwrap_or_else(|| DEFAULT_IDENTITY.to_owned());
        let issuer = read_trimmed(&dir.join("issuer")).unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        cmd.arg("--cert-identity").arg(identity);
        cmd.arg("--cert-oidc-issuer").arg(issuer);
    }
    if dir.join("trusted_root.json").is_file() {
        cmd.arg("--trusted-root").arg(dir.join("trusted_root.json"));
    }
    let out = cmd.output().expect("run wsc-forensics");
    Run {
        expect_pass: !case.ends_with("_fail"),
        case,
        form,
        exit: out.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn all_cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_conformance_case_agrees_with_the_suite_with_path_and_digest() {
    let cases = all_cases();
    assert_eq!(
        cases.len(),
        70,
        "the vendored suite has 70 bundle-verify cases"
    );
    let runs: Vec<Run> = cases
        .iter()
        .flat_map(|d| {
            [
                run_case(d, ArtifactForm::Path),
                run_case(d, ArtifactForm::Digest),
            ]
        })
        .collect();
    let agree = runs.iter().filter(|r| r.agrees()).count();
    println!(
        "sigstore-conformance bundle-verify: {agree} of {} agree",
        runs.len()
    );
    let mut problems = Vec::new();
    for r in runs.iter().filter(|r| !r.agrees()) {
        let known = KNOWN_SAFE_DISAGREEMENTS.iter().find(|(c, _)| *c == r.case);
        let side = if r.expect_pass {
            "suite: pass, we: FAIL (safe side)"
        } else {
            "suite: fail, we: PASS (UNSAFE)"
        };
        println!(
            "  disagree: {} ({:?}): {side}{}",
            r.case,
            r.form,
            known
                .map(|(_, why)| format!(" — known: {why}"))
                .unwrap_or_default()
        );
        match known {
            Some(_) if r.expect_pass && !r.passed() => {}
            _ => problems.push(format!("{} ({:?}): {side}\n{}", r.case, r.form, r.output)),
        }
    }
    for (case, why) in KNOWN_SAFE_DISAGREEMENTS {
        let still = runs.iter().any(|r| r.case == *case && !r.agrees());
        assert!(
            still,
            "{case} now agrees: remove it from the known list ({why})"
        );
    }
    let known_runs = runs
        .iter()
        .filter(|r| !r.agrees() && KNOWN_SAFE_DISAGREEMENTS.iter().any(|(c, _)| *c == r.case))
        .count();
    println!(
        "  {} runs disagree on the known list (safe side), {} unexpected",
        known_runs,
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{} unexpected disagreements:\n{}",
        problems.len(),
        problems.join("\n---\n")
    );
}

// ---- Per-check tamper tests on the vendored cases: each corrupts exactly what one new check
// guards, and asserts that this check (and only the checks that depend on it) fails.

mod tamper {
    use super::suite_dir;
    use base64::Engine;
    use serde_json::Value;
    use std::collections::BTreeSet;
    use wsc_forensics::transparency::{
        analyse_transparency_file, Artifact, CheckId, IdentityPolicy, TransparencyReport,
        TrustRoot, Verdict,
    };

    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

    fn load(case: &str, file: &str) -> Value {
        serde_json::from_slice(&std::fs::read(suite_dir().join(case).join(file)).unwrap()).unwrap()
    }

    fn root(doc: &Value) -> TrustRoot {
        TrustRoot::parse("trusted_root.json", &serde_json::to_vec(doc).unwrap()).unwrap()
    }

    fn production_root_json() -> Value {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/transparency/roots/sigstore-production-trusted_root.json");
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }

    fn default_artifact() -> Vec<u8> {
        std::fs::read(suite_dir().join("a.txt")).unwrap()
    }

    fn analyse(
        bundle: &Value,
        artifact: &[u8],
        root: &TrustRoot,
        policy: &IdentityPolicy,
    ) -> TransparencyReport {
        analyse_transparency_file(
            "bundle.sigstore.json",
            &serde_json::to_vec(bundle).unwrap(),
            Some(Artifact::Bytes(artifact)),
            root,
            policy,
        )
        .unwrap()
    }

    fn failed(r: &TransparencyReport) -> BTreeSet<CheckId> {
        r.verification
            .checks
            .iter()
            .filter(|c| c.outcome.is_fail())
            .map(|c| c.id)
            .collect()
    }

    fn flip_base64(v: &mut Value, at_from_end: usize) {
        let mut bytes = B64.decode(v.as_str().unwrap()).unwrap();
        let i = bytes.len() - at_from_end;
        bytes[i] ^= 0x01;
        *v = Value::String(B64.encode(bytes));
    }

    #[test]
    fn untouched_rekor_v2_bundle_passes_every_required_check() {
        let b = load("rekor2-happy-path", "bundle.sigstore.json");
        let r = analyse(
            &b,
            &default_artifact(),
            &root(&load("rekor2-happy-path", "trusted_root.json")),
            &IdentityPolicy::default(),
        );
        assert_eq!(r.verdict, Verdict::AllRequiredPassed, "{r:#?}");
    }

    #[test]
    fn a_corrupted_timestamp_signature_fails_signed_timestamp_alone() {
        let mut b = load("rekor2-happy-path", "bundle.sigstore.json");
        flip_base64(
            &mut b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
                ["signedTimestamp"],
            3,
        );
        let r = analyse(
            &b,
            &default_artifact(),
            &root(&load("rekor2-happy-path", "trusted_root.json")),
            &IdentityPolicy::default(),
        );
        assert_eq!(
            failed(&r),
            BTreeSet::from([CheckId::SignedTimestamp]),
            "{r:#?}"
        );
        assert_eq!(r.verdict, Verdict::Failed);
        // Without a trusted time the certificate cannot be judged: never a pass.
        assert!(r
            .verification
            .outcome(CheckId::CertificateChain)
            .unwrap()
            .is_not_possible());
    }

    #[test]
    fn a_removed_timestamp_on_a_rekor_v2_entry_is_a_required_check_not_made() {
        let mut b = load("rekor2-happy-path", "bundle.sigstore.json");
        b["verificationMaterial"]
            .as_object_mut()
            .unwrap()
            .remove("timestampVerificationData");
        let r = analyse(
            &b,
            &default_artifact(),
            &root(&load("rekor2-happy-path", "trusted_root.json")),
            &IdentityPolicy::default(),
        );
        assert!(failed(&r).is_empty(), "{r:#?}");
        assert_eq!(
            r.verdict,
            Verdict::Failed,
            "fail closed without a time source"
        );
        let names: Vec<CheckId> = r.verification.failing_checks().map(|c| c.id).collect();
        assert!(names.contains(&CheckId::SignedTimestamp), "{names:?}");
    }

    #[test]
    fn a_corrupted_rekor_v2_checkpoint_signature_fails_checkpoint_alone() {
        let mut b = load("rekor2-happy-path", "bundle.sigstore.json");
        let env = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
            ["envelope"];
        let text = env.as_str().unwrap().to_owned();
        let (body, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
        let (name, sig) = sig_line.rsplit_once(' ').unwrap();
        let mut raw = B64.decode(sig).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
        *env = Value::String(format!("{body}\n{name} {}\n", B64.encode(raw)));
        let r = analyse(
            &b,
            &default_artifact(),
            &root(&load("rekor2-happy-path", "trusted_root.json")),
            &IdentityPolicy::default(),
        );
        assert_eq!(failed(&r), BTreeSet::from([CheckId::Checkpoint]), "{r:#?}");
    }

    #[test]
    fn a_wrong_ct_log_key_fails_certificate_transparency_alone() {
        let b = load("happy-path-v0.3", "bundle.sigstore.json");
        let mut tr = production_root_json();
        // Every CT log keeps its id but gets the Rekor key: the SCT no longer verifies.
        let rekor_key = tr["tlogs"][0]["publicKey"]["rawBytes"].clone();
        for c in tr["ctlogs"].as_array_mut().unwrap() {
            c["publicKey"]["rawBytes"] = rekor_key.clone();
        }
        let r = analyse(
            &b,
            &default_artifact(),
            &root(&tr),
            &IdentityPolicy::default(),
        );
        assert_eq!(
            failed(&r),
            BTreeSet::from([CheckId::CertificateTransparency]),
            "{r:#?}"
        );
    }

    #[test]
    fn a_different_pinned_key_fails_signer_key_and_a_missing_one_is_not_a_pass() {
        let b = load("managed-key-happy-path", "bundle.sigstore.json");
        let tr = TrustRoot::production();
        let key_of = |case: &str| {
            let pem = std::fs::read(suite_dir().join(case).join("key.pub")).unwrap();
            let text = String::from_utf8(pem).unwrap();
            let b64: String = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with("-----"))
                .collect();
            B64.decode(b64).unwrap()
        };
        let good = IdentityPolicy {
            key: Some(key_of("managed-key-happy-path")),
            ..Default::default()
        };
        let r = analyse(&b, &default_artifact(), &tr, &good);
        assert_eq!(r.verdict, Verdict::AllRequiredPassed, "{r:#?}");
        // A valid P-256 key that did not sign: the production Rekor log's.
        let wrong = IdentityPolicy {
            key: Some(
                B64.decode(
                    production_root_json()["tlogs"][0]["publicKey"]["rawBytes"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap(),
            ),
            ..Default::default()
        };
        let r = analyse(&b, &default_artifact(), &tr, &wrong);
        assert!(failed(&r).contains(&CheckId::SignerKey), "{r:#?}");
        let r = analyse(&b, &default_artifact(), &tr, &IdentityPolicy::default());
        assert_eq!(r.verdict, Verdict::Failed);
        assert!(r
            .verification
            .outcome(CheckId::SignerKey)
            .unwrap()
            .is_not_possible());
        let identity = IdentityPolicy {
            identity: Some("someone@example.com".into()),
            ..Default::default()
        };
        let r = analyse(&b, &default_artifact(), &tr, &identity);
        assert!(failed(&r).contains(&CheckId::CertificateChain), "{r:#?}");
    }

    #[test]
    fn a_wrong_artifact_fails_the_intoto_binding_alone() {
        let case = "intoto-with-custom-trust-root";
        let b = load(case, "bundle.sigstore.json");
        let tr = root(&load(case, "trusted_root.json"));
        let artifact = std::fs::read(suite_dir().join(case).join("artifact")).unwrap();
        let r = analyse(&b, &artifact, &tr, &IdentityPolicy::default());
        assert_eq!(r.verdict, Verdict::AllRequiredPassed, "{r:#?}");
        let r = analyse(&b, b"another artifact", &tr, &IdentityPolicy::default());
        assert_eq!(
            failed(&r),
            BTreeSet::from([CheckId::BodyBindsArtifact]),
            "{r:#?}"
        );
    }
}

// ---- sigstore-python 4.5.1, the CI oracle, on every suite case where it applies.

mod oracle {
    use super::{
        all_cases, read_trimmed, run_case, ArtifactForm, DEFAULT_IDENTITY, DEFAULT_ISSUER,
    };
    use serde_json::{json, Value};
    use std::path::Path;
    use std::process::Command;

    /// Where sigstore-python 4.5.1 and the suite (and we) differ, with the spec's reason. We
    /// follow the suite on each; the test fails if the oracle starts agreeing (list stays true).
    const ORACLE_DIFFERS: &[(&str, &str)] = &[
        (
            "intoto-with-custom-trust-root",
            "sigstore-python 4.5.1 refuses the integrated time of intoto 0.0.2 entries (\"Integrated time only supported for dsse/hashedrekord 0.0.1 types\"); the bundle spec trusts the integrated time of any v1 entry whose SET verifies, and the suite expects a pass",
        ),
        (
            "trust-root-tsa-validity-end-inclusive",
            "the trusted-root TimeRange is a closed interval (end inclusive); sigstore-python 4.5.1 treats a TSA's validFor.end as exclusive and finds no verified time",
        ),
    ];

    fn python() -> String {
        std::env::var("SIGSTORE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
    }

    fn trust_config(dir: &Path, case: &Path) -> std::path::PathBuf {
        let root_path = if case.join("trusted_root.json").is_file() {
            case.join("trusted_root.json")
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/transparency/roots/sigstore-production-trusted_root.json")
        };
        let root: Value = serde_json::from_slice(&std::fs::read(root_path).unwrap()).unwrap();
        let cfg = json!({
            "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
            "trustedRoot": root,
            "signingConfig": {
                "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
                "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}
            }
        });
        let p = dir.join("trust-config.json");
        std::fs::write(&p, serde_json::to_vec(&cfg).unwrap()).unwrap();
        p
    }

    #[test]
    fn sigstore_python_agrees_with_us_on_every_identity_case_but_the_named_ones() {
        if !crate::common::oracle_available(
            &python(),
            &["-m", "sigstore", "--version"],
            "pip install sigstore==4.5.1, or point SIGSTORE_PYTHON at an interpreter that has it",
        ) {
            return;
        }
        let mut compared = 0;
        let mut problems = Vec::new();
        for case in all_cases() {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            // sigstore-python 4.5.1's CLI has no managed-key verification: no oracle there.
            // A trust root it cannot load is its own refusal, which is what the suite expects.
            if case.join("key.pub").is_file() {
                continue;
            }
            let tmp = tempfile::tempdir().unwrap();
            let root_ok = !case.join("trusted_root.json").is_file()
                || serde_json::from_slice::<Value>(
                    &std::fs::read(case.join("trusted_root.json")).unwrap(),
                )
                .is_ok();
            if !root_ok {
                continue;
            }
            let cfg = trust_config(tmp.path(), &case);
            let artifact = if case.join("artifact").is_file() {
                case.join("artifact")
            } else {
                super::suite_dir().join("a.txt")
            };
            let out = Command::new(python())
                .args(["-m", "sigstore", "--trust-config"])
                .arg(&cfg)
                .args(["verify", "identity", "--offline", "--bundle"])
                .arg(case.join("bundle.sigstore.json"))
                .arg("--cert-identity")
                .arg(read_trimmed(&case.join("identity")).unwrap_or(DEFAULT_IDENTITY.into()))
                .arg("--cert-oidc-issuer")
                .arg(read_trimmed(&case.join("issuer")).unwrap_or(DEFAULT_ISSUER.into()))
                .arg(&artifact)
                .output()
                .unwrap();
            let oracle = out.status.success();
            let ours = run_case(&case, ArtifactForm::Path).passed();
            compared += 1;
            let named = ORACLE_DIFFERS.iter().any(|(c, _)| *c == name);
            if (oracle != ours) != named {
                problems.push(format!(
                    "{name}: sigstore-python {}, we {} (named as differing: {named})",
                    if oracle { "pass" } else { "fail" },
                    if ours { "pass" } else { "fail" }
                ));
            }
        }
        println!(
            "sigstore-python 4.5.1 compared on {compared} cases; {} named differences",
            ORACLE_DIFFERS.len()
        );
        assert!(compared >= 60, "only {compared} cases compared");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
