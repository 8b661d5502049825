//! Two `collect` runs writing the same destination at once, over several rounds. Without
//! `--force` exactly one wins and the other reports that the bundle exists (exit 2); with
//! `--force` both succeed, one after the other. Either way the final file is always one complete
//! bundle that verifies (never a mix of the two), and no temp file is left.

use crate::common::fixture;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use wsc_forensics::bundle::{open_bundle, verify_bundle, Verdict, VerifyOptions};

/// Two different input sets, each with a few MiB of attachments so both runs are writing at the
/// same time.
fn inputs(dir: &Path) -> [Vec<PathBuf>; 2] {
    let mut sets = [Vec::new(), Vec::new()];
    for (n, set) in sets.iter_mut().enumerate() {
        let d = dir.join(format!("in-{n}"));
        std::fs::create_dir(&d).unwrap();
        for i in 0..6u8 {
            std::fs::write(d.join(format!("blob-{i}.bin")), vec![i ^ n as u8; 2 << 20]).unwrap();
        }
        set.push(d);
    }
    sets[0].push(fixture("wsc/modules"));
    sets[1].push(fixture("wsc/keys"));
    sets[1].push(fixture("wsc/audit"));
    sets
}

fn spawn(out: &Path, inputs: &[PathBuf], force: bool) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin("wsc-forensics"))
        .args(["collect", "-q", "--case-id", "IR-RACE", "-o"])
        .arg(out)
        .args(force.then_some("--force"))
        .args(inputs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Source paths of a bundle's items, sorted.
fn sources(bundle: &Path) -> Vec<String> {
    let mut v: Vec<String> = open_bundle(bundle)
        .unwrap()
        .evidence
        .items
        .into_iter()
        .map(|i| i.source.text)
        .collect();
    v.sort();
    v
}

fn race(force: bool) {
    let dir = tempfile::tempdir().unwrap();
    let sets = inputs(dir.path());
    // What each run alone collects.
    let alone: Vec<Vec<String>> = sets
        .iter()
        .enumerate()
        .map(|(n, set)| {
            let out = dir.path().join(format!("alone-{n}.zip"));
            assert!(spawn(&out, set, false).wait().unwrap().code().unwrap() < 2);
            sources(&out)
        })
        .collect();
    assert_ne!(alone[0], alone[1]);
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let out = outdir.join("case.zip");
    for round in 0..5 {
        let _ = std::fs::remove_file(&out);
        let children = [spawn(&out, &sets[0], force), spawn(&out, &sets[1], force)];
        let outputs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<i32> = outputs.iter().map(|o| o.status.code().unwrap()).collect();
        let stderr: Vec<String> = outputs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect();
        eprintln!("round {round} force={force}: exit codes {codes:?}");
        // Collected = exit 0 or 1 (1: a High finding among the fixtures).
        let won: Vec<usize> = (0..2).filter(|&i| codes[i] < 2).collect();
        if force {
            assert_eq!(won.len(), 2, "with --force both succeed: {stderr:?}");
        } else {
            assert_eq!(won.len(), 1, "exactly one wins: {codes:?} {stderr:?}");
            let lost = 1 - won[0];
            assert_eq!(codes[lost], 2);
            assert!(
                stderr[lost].contains("already exists"),
                "the loser does not say the bundle exists: {}",
                stderr[lost]
            );
        }
        assert_eq!(
            verify_bundle(&out, &VerifyOptions::default()).verdict,
            Verdict::Intact,
            "round {round}: the final bundle does not verify"
        );
        let got = sources(&out);
        assert!(
            got == alone[0] || got == alone[1],
            "round {round}: the final bundle is a mix of both runs"
        );
        if !force {
            assert_eq!(
                got, alone[won[0]],
                "the winner's bundle is not the one in place"
            );
        }
        let names: Vec<_> = std::fs::read_dir(&outdir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["case.zip"], "round {round}: temp file left");
    }
}

#[test]
fn two_collects_to_one_destination_one_wins() {
    race(false);
}

#[test]
fn two_forced_collects_to_one_destination_leave_one_whole_bundle() {
    race(true);
}
