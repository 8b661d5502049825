//! sigstore-python (PyPI `sigstore`, checked with 4.5.1) as an independent oracle: on real bundles
//! and on each tampered variant, its offline verdict and ours agree. Its trust configuration is
//! built from the same fixture trusted root, so both judge against the same keys.
//!
//! The interpreter is `$SIGSTORE_PYTHON` or `python3`; without the package the test skips on a
//! developer machine and fails in CI (`.ci/run` must `pip install sigstore==4.5.1`).

use crate::common::sigstore_instance::client_trust_config;
use crate::common::{fixture, oracle_available};
use base64::Engine;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use wsc_forensics::transparency::{
    analyse_transparency_file, Artifact, IdentityPolicy, TrustRoot, Verdict,
};

const IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn python() -> String {
    std::env::var("SIGSTORE_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

pub(crate) fn available() -> bool {
    oracle_available(
        &python(),
        &["-m", "sigstore", "--version"],
        "pip install sigstore==4.5.1, or point SIGSTORE_PYTHON at an interpreter that has it",
    )
}

/// A sigstore-python client trust configuration around a fixture trusted root.
fn trust_config(dir: &Path, root_rel: &str) -> std::path::PathBuf {
    let root: Value = serde_json::from_slice(&std::fs::read(fixture(root_rel)).unwrap()).unwrap();
    let cfg = client_trust_config(&root);
    let p = dir.join(format!("{}.trust-config.json", root_rel.replace('/', "_")));
    std::fs::write(&p, serde_json::to_vec(&cfg).unwrap()).unwrap();
    p
}

/// sigstore-python's offline verdict: true when it says OK.
pub(crate) fn oracle_passes(
    cfg: &Path,
    bundle: &Path,
    identity: &str,
    issuer: &str,
    artifact: &Path,
) -> bool {
    let out = Command::new(python())
        .args(["-m", "sigstore", "--trust-config"])
        .arg(cfg)
        .args(["verify", "identity", "--offline", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", identity, "--cert-oidc-issuer", issuer])
        .arg(artifact)
        .output()
        .unwrap();
    out.status.success()
}

fn ours_passes(
    bundle: &[u8],
    artifact: &[u8],
    root_rel: &str,
    identity: &str,
    issuer: &str,
) -> bool {
    let root = TrustRoot::parse(root_rel, &std::fs::read(fixture(root_rel)).unwrap()).unwrap();
    let rep = analyse_transparency_file(
        "bundle",
        bundle,
        Some(Artifact::Bytes(artifact)),
        &root,
        &IdentityPolicy {
            identity: Some(identity.into()),
            oidc_issuer: Some(issuer.into()),
            key: None,
        },
    )
    .unwrap();
    rep.verdict == Verdict::AllRequiredPassed
}

fn flip(v: &mut Value, at: usize) {
    let e = base64::engine::general_purpose::STANDARD;
    let mut raw = e.decode(v.as_str().unwrap()).unwrap();
    let i = at.min(raw.len() - 1);
    raw[i] ^= 1;
    *v = Value::String(e.encode(raw));
}

#[test]
fn sigstore_python_and_we_agree_on_real_and_tampered_bundles() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cfg = trust_config(dir.path(), "sigstore/production-trusted_root.json");
    let whl_path = fixture("sigstore/bundle_v3_github.whl");
    let whl = std::fs::read(&whl_path).unwrap();
    let original: Value = serde_json::from_slice(
        &std::fs::read(fixture("sigstore/bundle_v3_github.whl.sigstore")).unwrap(),
    )
    .unwrap();

    type Tamper = fn(&mut Value);
    let cases: Vec<(&str, Tamper, bool)> = vec![
        ("untouched", |_| {}, true),
        (
            "one proof hash",
            |d| {
                flip(
                    &mut d["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"][3],
                    10,
                )
            },
            false,
        ),
        (
            "SET",
            |d| {
                flip(
                    &mut d["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]
                        ["signedEntryTimestamp"],
                    20,
                )
            },
            false,
        ),
        (
            "integrated time",
            |d| {
                let e = &mut d["verificationMaterial"]["tlogEntries"][0];
                let t: i64 = e["integratedTime"].as_str().unwrap().parse().unwrap();
                e["integratedTime"] = Value::String((t + 1).to_string());
            },
            false,
        ),
        (
            "message digest",
            |d| flip(&mut d["messageSignature"]["messageDigest"]["digest"], 5),
            false,
        ),
        (
            "checkpoint size",
            |d| {
                let c = &mut d["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
                    ["checkpoint"]["envelope"];
                *c = Value::String(
                    c.as_str()
                        .unwrap()
                        .replacen("\n75441653\n", "\n75441654\n", 1),
                );
            },
            false,
        ),
        (
            "log id",
            |d| {
                d["verificationMaterial"]["tlogEntries"][0]["logId"]["keyId"] =
                    Value::String(base64::engine::general_purpose::STANDARD.encode([0xab; 32]))
            },
            false,
        ),
        (
            "kind",
            |d| {
                d["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] =
                    Value::String("dsse".into())
            },
            false,
        ),
    ];
    for (name, tamper, expected) in cases {
        let mut doc = original.clone();
        tamper(&mut doc);
        let bytes = serde_json::to_vec(&doc).unwrap();
        let path = dir.path().join("case.sigstore");
        std::fs::write(&path, &bytes).unwrap();
        let oracle = oracle_passes(&cfg, &path, IDENTITY, ISSUER, &whl_path);
        let ours = ours_passes(
            &bytes,
            &whl,
            "sigstore/production-trusted_root.json",
            IDENTITY,
            ISSUER,
        );
        assert_eq!(
            (oracle, ours),
            (expected, expected),
            "case {name}: oracle {oracle}, ours {ours}"
        );
    }

    // Wrong artifact and wrong identity: both refuse.
    let bundle_path = fixture("sigstore/bundle_v3_github.whl.sigstore");
    let other = fixture("sigstore/bundle.txt");
    assert!(!oracle_passes(&cfg, &bundle_path, IDENTITY, ISSUER, &other));
    let bytes = std::fs::read(&bundle_path).unwrap();
    assert!(!ours_passes(
        &bytes,
        &std::fs::read(&other).unwrap(),
        "sigstore/production-trusted_root.json",
        IDENTITY,
        ISSUER
    ));
    assert!(!oracle_passes(
        &cfg,
        &bundle_path,
        "someone@example.com",
        ISSUER,
        &whl_path
    ));
    assert!(!ours_passes(
        &bytes,
        &whl,
        "sigstore/production-trusted_root.json",
        "someone@example.com",
        ISSUER
    ));
}

#[test]
fn sigstore_python_and_we_agree_on_the_staging_bundle() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let staging = trust_config(dir.path(), "sigstore/staging-trusted_root.json");
    let production = trust_config(dir.path(), "sigstore/production-trusted_root.json");
    let bundle = fixture("sigstore/bundle.txt.sigstore");
    let artifact = fixture("sigstore/bundle.txt");
    let (id, iss) = ("a@tny.town", "https://github.com/login/oauth");
    let bytes = std::fs::read(&bundle).unwrap();
    let art = std::fs::read(&artifact).unwrap();
    assert!(oracle_passes(&staging, &bundle, id, iss, &artifact));
    assert!(ours_passes(
        &bytes,
        &art,
        "sigstore/staging-trusted_root.json",
        id,
        iss
    ));
    assert!(!oracle_passes(&production, &bundle, id, iss, &artifact));
    assert!(!ours_passes(
        &bytes,
        &art,
        "sigstore/production-trusted_root.json",
        id,
        iss
    ));
}
