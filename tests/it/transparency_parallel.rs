//! `inspect` judges its inputs in parallel and prints them in input order: the output (stdout,
//! stderr, exit code, human and `--json`) is byte-identical to one worker's, with inputs that an
//! earlier input consumed (a detached pair's other half, a repeated path) skipped the same way.

use crate::common::bin;
use crate::common::sigstore_instance::{Instance, Options, IDENTITY, ISSUER};
use std::path::Path;

const ARTIFACT: &[u8] = b"artifact judged in parallel\n";

/// Runs `inspect` with `workers` rayon threads and returns (exit code, stdout, stderr).
fn inspect(dir: &Path, workers: usize, extra: &[&str], inputs: &[String]) -> (i32, String, String) {
    let out = bin()
        .current_dir(dir)
        .env("RAYON_NUM_THREADS", workers.to_string())
        .args([
            "inspect",
            "--trusted-root",
            "trusted_root.json",
            "--artifact",
            "artifact",
            "--cert-identity",
            IDENTITY,
            "--cert-oidc-issuer",
            ISSUER,
        ])
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    (
        out.status.code().expect("exited normally"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A mixed run: Rekor v1 and v2 bundles that pass, one tampered bundle that fails, an input
/// that is not a file, a repeated path, and a detached signature pair given as both halves (each order).
fn corpus(dir: &Path) -> Vec<String> {
    let inst = Instance::new(Options::default());
    std::fs::write(
        dir.join("trusted_root.json"),
        serde_json::to_vec(&inst.trusted_root()).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("artifact"), ARTIFACT).unwrap();
    let mut inputs = Vec::new();
    let v1 = inst.bundles_v1(ARTIFACT, 12);
    let v2 = inst.bundles_v2(ARTIFACT, 4);
    for (i, b) in v1.iter().chain(&v2).enumerate() {
        let mut b = b.clone();
        if i == 5 {
            // The artifact signature of one bundle no longer verifies.
            let sig = b["messageSignature"]["signature"]
                .as_str()
                .unwrap()
                .to_owned();
            let flipped = if sig.starts_with('M') { "N" } else { "M" };
            b["messageSignature"]["signature"] = format!("{flipped}{}", &sig[1..]).into();
        }
        let name = format!("b{i:02}.sigstore.json");
        std::fs::write(dir.join(&name), serde_json::to_vec(&b).unwrap()).unwrap();
        inputs.push(name);
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sigstore");
    for (from, to) in [
        ("offline-rekor.txt.sig", "p.sig"),
        ("offline-rekor.txt.crt", "p.crt"),
    ] {
        std::fs::copy(fixtures.join(from), dir.join(to)).unwrap();
        std::fs::copy(fixtures.join(from), dir.join(format!("q.{}", &to[2..]))).unwrap();
    }
    inputs.insert(3, "p.sig".into());
    inputs.insert(4, "p.crt".into()); // consumed by p.sig
    inputs.insert(8, "q.crt".into());
    inputs.insert(11, "q.sig".into()); // consumed by q.crt
    std::fs::create_dir(dir.join("adir")).unwrap();
    inputs.insert(13, "adir".into()); // not a regular file: an input error
    inputs.push("b01.sigstore.json".into()); // a repeat
    inputs
}

#[test]
fn parallel_output_is_the_sequential_output() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = corpus(dir.path());
    let (code1, out1, err1) = inspect(dir.path(), 1, &[], &inputs);
    let (code4, out4, err4) = inspect(dir.path(), 4, &[], &inputs);
    assert_eq!((code4, &out4, &err4), (code1, &out1, &err1));
    // The run is not trivially equal: every kind of input said its piece, in input order.
    assert_eq!(code1, 2, "an unreadable input is exit 2:\n{out1}\n{err1}");
    assert!(err1.contains("adir: cannot read"), "{err1}");
    let passed = out1.matches("verdict: every required check passed").count();
    assert_eq!(passed, 15, "{out1}");
    assert!(out1.contains("artifact-signature       FAIL"), "{out1}");
    // Each input printed opens with "NAME: KIND, N bytes, sha256 …", in input order, without
    // the halves consumed by their pair, the folder (its error is on stderr) and the repeat.
    let printed: Vec<&str> = out1
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(" bytes, sha256 "))
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let expected: Vec<&str> = inputs[..inputs.len() - 1]
        .iter()
        .map(String::as_str)
        .filter(|i| !["p.crt", "q.sig", "adir"].contains(i))
        .collect();
    assert_eq!(printed, expected, "{out1}");
}

#[test]
fn parallel_json_is_the_sequential_json() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = corpus(dir.path());
    let one = inspect(dir.path(), 1, &["--json"], &inputs);
    let four = inspect(dir.path(), 4, &["--json"], &inputs);
    assert_eq!(four, one);
    let docs: serde_json::Value = serde_json::from_str(&one.1).unwrap();
    let paths: Vec<&str> = docs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    // p.crt, q.sig and the repeat dropped; the folder is in, with its error.
    assert_eq!(paths.len(), inputs.len() - 3, "{paths:?}");
    assert_eq!(paths[0], "b00.sigstore.json");
    assert!(
        !paths.contains(&"p.crt") && !paths.contains(&"q.sig"),
        "{paths:?}"
    );
}
