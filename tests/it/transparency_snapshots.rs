//! Pinned output of transparency `inspect`: a change in the per-check table or the JSON checks is a
//! visible diff in `tests/snapshots/`.

use std::path::PathBuf;
use wsc_forensics::cli::inspect_transparency::{run_transparency_inspect_to, TransparencyArgs};
use wsc_forensics::cli::Status;

/// Runs with paths relative to the crate root (the working directory of integration tests), so
/// the output does not depend on where the checkout lives.
fn run(files: &[&str], args: TransparencyArgs, json: bool) -> (Status, String) {
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    let mut out = Vec::new();
    let status = run_transparency_inspect_to(&args, &paths, json, &mut out).unwrap();
    (status, String::from_utf8(out).unwrap())
}

#[test]
fn human_table_for_real_bundles_and_entries() {
    let (status, out) = run(
        &[
            "fixtures/sigstore/Python-3.12.5.tgz.sigstore",
            "fixtures/rekor/rekor-api-entry-538771042.reconstructed.json",
        ],
        TransparencyArgs::default(),
        false,
    );
    assert_eq!(status, Status::Ok);
    insta::assert_snapshot!(out);
}

#[test]
fn json_for_a_bundle_bound_to_the_wrong_artifact() {
    let (status, out) = run(
        &["fixtures/sigstore/bundle_v3_github.whl.sigstore"],
        TransparencyArgs {
            artifact: Some(PathBuf::from("fixtures/sigstore/bundle.txt")),
            ..Default::default()
        },
        true,
    );
    assert_eq!(status, Status::EvidenceProblem);
    insta::assert_snapshot!(out);
}
