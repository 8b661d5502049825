//! `scope` holds no per-module state: a counting global allocator measures the most bytes held
//! at once while the whole command (walk, reading, verdicts, table, `--json`, `--list`) runs over
//! corpora of different sizes, and the peak must not grow with the number of modules. Own test
//! binary, because the allocator is process-wide; the tests take a lock so that only one
//! measures at a time.

use crate::common::{code, fixture, run_in};
use std::path::{Path, PathBuf};
use wsc_forensics::cli::scope::{run_to, ScopeArgs};
use wsc_forensics::cli::{GlobalArgs, Status};

use crate::counting_alloc::{peak_while as peak_of, ONE_AT_A_TIME};

const MIB: u64 = 1 << 20;
/// What the extra modules of the large corpus may add to the peak, in total. Keeping only each
/// module's answer until the end adds ~0.5 KiB per module (3.5 MiB for the folder test, 2.9 MiB
/// for the bundle test: both fail); the version before streaming held ~1.4 KiB per module (the
/// answers, the walk list, the whole evidence.json). What varies between runs of the streaming
/// version (answers waiting in the reorder window, buffer growth) stays far below.
const SLACK: u64 = 2 * MIB;

/// The real fixture modules, copied over and over: signed by A (valid, tampered), by A and B,
/// unsigned, keyless, a component, a truncated one (an error row). `sigs` detached pairs
/// (module + `.sig`) are added whatever `n` is. 400 files per folder.
fn corpus(dir: &Path, n: usize, sigs: usize) {
    const KINDS: &[&str] = &[
        "signed-a.wasm",
        "signed-a-b.wasm",
        "signed-a-tampered-code.wasm",
        "signed-a-appended-section.wasm",
        "signed-a-appended-then-b.wasm",
        "base.wasm",
        "keyless-replayed-rekor-entry.wasm",
        "signed-component-a.wasm",
    ];
    let bytes: Vec<Vec<u8>> = KINDS
        .iter()
        .map(|k| std::fs::read(fixture(&format!("wsc/modules/{k}"))).unwrap())
        .collect();
    for i in 0..n {
        let sub = dir.join(format!("d{:03}", i / 400));
        if i % 400 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let b = &bytes[i % bytes.len()];
        // Every 97th module is cut short: a row with an error.
        let b = if i % 97 == 0 { &b[..b.len() / 2] } else { b };
        std::fs::write(sub.join(format!("m{i:06}.wasm")), b).unwrap();
    }
    let pair = dir.join("pairs");
    std::fs::create_dir_all(&pair).unwrap();
    for i in 0..sigs {
        for (from, to) in [
            ("detached-a.wasm", format!("p{i}.wasm")),
            ("detached-a.sig", format!("p{i}.sig")),
        ] {
            std::fs::copy(fixture(&format!("wsc/modules/{from}")), pair.join(to)).unwrap();
        }
    }
}

fn args(inputs: Vec<PathBuf>, json: bool, list: Option<PathBuf>) -> ScopeArgs {
    ScopeArgs {
        key: vec![fixture("wsc/keys/test-key-a.pub")
            .to_str()
            .unwrap()
            .to_owned()],
        keys: None,
        window: Some("2025-01-01..".into()),
        list,
        // The list may be written again by the next measurement.
        force: true,
        json,
        deps: Default::default(),
        inputs,
        keyless: Default::default(),
    }
}

/// Peak of the whole `scope` command over `inputs`, as JSON (with `--list`) and as the verbose
/// table (every module a row); the larger of the two.
fn scope_peak(inputs: &[PathBuf], list: &Path) -> u64 {
    let global = GlobalArgs {
        verbose: 1,
        quiet: true,
        ..GlobalArgs::default()
    };
    let mut worst = 0;
    for json in [true, false] {
        let a = args(inputs.to_vec(), json, json.then(|| list.to_owned()));
        let (peak, status) = peak_of(|| run_to(&global, a, &mut std::io::sink()).unwrap());
        assert_eq!(status, Status::EvidenceProblem);
        worst = worst.max(peak);
    }
    worst
}

#[test]
fn folder_scope_memory_does_not_grow_with_the_module_count() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = tempfile::tempdir().unwrap();
    let (small, large) = (t.path().join("small"), t.path().join("large"));
    corpus(&small, 1_000, 2);
    corpus(&large, 8_000, 2);
    let list = t.path().join("list.txt");
    let p_small = scope_peak(std::slice::from_ref(&small), &list);
    let listed_small = std::fs::read_to_string(&list).unwrap().lines().count();
    let p_large = scope_peak(std::slice::from_ref(&large), &list);
    let listed_large = std::fs::read_to_string(&list).unwrap().lines().count();
    // The list is complete (signed-a, signed-a-b, component, detached pairs)...
    assert!(
        listed_large > 7 * listed_small,
        "{listed_small} {listed_large}"
    );
    // ...and nothing was held per module.
    assert!(
        p_large < p_small + SLACK,
        "peak {p_small} bytes for 1,000 modules, {p_large} for 8,000"
    );
    eprintln!("folder scope peak: {p_small} bytes (1,000 modules), {p_large} (8,000)");
}

#[test]
fn bundle_scope_memory_grows_only_with_the_zip_index() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let t = tempfile::tempdir().unwrap();
    let mut peaks = Vec::new();
    for (name, n) in [("small", 500), ("large", 6_000)] {
        corpus(&t.path().join(name), n, 2);
        let zip = format!("{name}.zip");
        let o = run_in(
            t.path(),
            &["collect", "-q", "--case-id", "MEM", "-o", &zip, name],
        );
        assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
        let zip = t.path().join(zip);
        // The zip reader's central directory index is the bundle reader's, held while the
        // bundle is read; what scope adds on top must not grow.
        let (index, _) = peak_of(|| {
            wsc_forensics::bundle::reader::BundleReader::open(&zip).unwrap();
        });
        let peak = scope_peak(std::slice::from_ref(&zip), &t.path().join("list.txt"));
        let listed = std::fs::read_to_string(t.path().join("list.txt"))
            .unwrap()
            .lines()
            .count();
        peaks.push((n, index, peak, listed));
    }
    let [(_, i_small, p_small, l_small), (_, i_large, p_large, l_large)] = peaks[..] else {
        unreachable!()
    };
    assert!(l_large > 10 * l_small, "{l_small} {l_large}");
    assert!(
        p_large < p_small + (i_large - i_small) + SLACK,
        "peak {p_small} bytes for 500 modules, {p_large} for 6,000 (zip index {i_small}, {i_large})"
    );
    eprintln!(
        "bundle scope peak: {p_small} bytes (500 modules, zip index {i_small}), {p_large} (6,000, zip index {i_large})"
    );
}
