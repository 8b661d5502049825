//! `scope --identity` holds no per-record state: the peak of the whole command (walk, checks,
//! table or streamed `--json`) over keyless modules, Sigstore bundles and Rekor entries must not
//! grow with their number.

use crate::common::fixture;
use std::path::{Path, PathBuf};
use wsc_forensics::cli::scope::keyless::KeylessArgs;
use wsc_forensics::cli::scope::{run_to, ScopeArgs};
use wsc_forensics::cli::{GlobalArgs, Status};

use crate::counting_alloc::{peak_while as peak_of, ONE_AT_A_TIME};

const MIB: u64 = 1 << 20;
/// What the extra files of the large corpus may add to the peak, in total (holding each record
/// until the end would add a few KiB per record: far more).
const SLACK: u64 = 2 * MIB;

/// Real keyless modules, bundles and entries of the fixtures, copied over and over, with a
/// key-signed module among them; 400 files per folder.
fn corpus(dir: &Path, n: usize) {
    const KINDS: &[&str] = &[
        "wsc/modules/keyless-replayed-rekor-entry.wasm",
        "wsc/modules/keyless-no-rekor.wasm",
        "sigstore/Python-3.12.5.tgz.sigstore",
        "rekor/recent_entry_20251101_175321.json",
        "sigstore/bundle_v3_github.whl.sigstore",
        "wsc/modules/signed-a.wasm",
    ];
    let bytes: Vec<Vec<u8>> = KINDS
        .iter()
        .map(|k| std::fs::read(fixture(k)).unwrap())
        .collect();
    for i in 0..n {
        let sub = dir.join(format!("d{:03}", i / 400));
        if i % 400 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        std::fs::write(sub.join(format!("f{i:06}")), &bytes[i % bytes.len()]).unwrap();
    }
}

fn peak(input: &Path) -> u64 {
    let global = GlobalArgs {
        verbose: 1,
        quiet: true,
        ..GlobalArgs::default()
    };
    let mut worst = 0;
    for json in [true, false] {
        let args = ScopeArgs {
            key: Vec::new(),
            keys: None,
            window: Some("2024-01-01..2025-09-19".into()),
            list: None,
            force: false,
            json,
            inputs: vec![input.to_path_buf()],
            keyless: KeylessArgs {
                identity: Some("*".into()),
                ..KeylessArgs::default()
            },
            deps: Default::default(),
        };
        let (p, status) = peak_of(|| run_to(&global, args, &mut std::io::sink()).unwrap());
        assert_eq!(status, Status::EvidenceProblem);
        worst = worst.max(p);
    }
    worst
}

#[test]
fn keyless_scope_memory_does_not_grow_with_the_record_count() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = tempfile::tempdir().unwrap();
    let (small, large): (PathBuf, PathBuf) = (t.path().join("small"), t.path().join("large"));
    corpus(&small, 200);
    corpus(&large, 1_600);
    let (p_small, p_large) = (peak(&small), peak(&large));
    assert!(
        p_large < p_small + SLACK,
        "peak {p_small} bytes for 200 files, {p_large} for 1,600"
    );
    eprintln!("keyless scope peak: {p_small} bytes (200 files), {p_large} (1,600)");
}
