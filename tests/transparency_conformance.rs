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
use std::process::Command;

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases the suite expects to verify that we still refuse, with the feature we lack. Empty is
/// the goal; a case here that starts agreeing makes the test fail so the list stays true.
const KNOWN_SAFE_DISAGREEMENTS: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sigstore-conformance/bundle-verify")
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsc-forensics"));
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
