//! Regressions found by the hostile-input sweep (`tests/hostile_*.rs`): one test per bug, named
//! after it, each with the failing case that found it.

use crate::common::fixture;
use wsc_forensics::keys::{parse_key_file, PublicKey};
use wsc_forensics::model::evidence::Severity;
use wsc_forensics::wasm::scanner::{ScanOptions, Scanner};
use wsc_forensics::wasm::verdict::Verdict;
use wsc_forensics::wasm::{analyse_module, ModuleReport};

fn key_a() -> PublicKey {
    let raw = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
    parse_key_file("a", &raw).unwrap().public_key.unwrap()
}

fn judge(bytes: &[u8]) -> ModuleReport {
    analyse_module(
        Scanner::scan_bytes(bytes, ScanOptions::default()),
        None,
        &[key_a()],
    )
}

fn a_valid(r: &ModuleReport) -> bool {
    r.verdicts()
        .iter()
        .any(|v| matches!(v.verdict, Verdict::Valid { .. }))
}

/// Found by `every_truncation_of_every_fixture`: `split-regex-signed-a.wasm` cut right after its
/// first `signature_delimiter` (byte 295) was judged `valid` for key A, because the set's first
/// (running) hash equals the hash of the shortened module. Only the last hash is the whole signed
/// stream (wsc-verify-core 0.12 agrees); the cut module is `partial` with a High finding.
#[test]
fn split_module_cut_at_a_delimiter_is_not_valid() {
    let b = std::fs::read(fixture("wsc/modules/split-regex-signed-a.wasm")).unwrap();
    let full = judge(&b);
    assert!(a_valid(&full));
    let delimiter = full
        .scan
        .sections
        .iter()
        .find(|s| s.is_custom("signature_delimiter"))
        .unwrap();
    let cut = delimiter.range.end as usize;
    assert_eq!(cut, 295);
    let r = judge(&b[..cut]);
    assert!(!a_valid(&r));
    let raw = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
    let oracle = wsc_verify_core::PublicKey::from_bytes(&raw).unwrap();
    assert!(oracle
        .verify(&mut std::io::Cursor::new(&b[..cut]), None)
        .is_err());
    let v = &r.verdicts()[0].verdict;
    assert!(
        matches!(v, Verdict::Partial { covered, uncovered, .. }
            if *covered == (r.scan.covered_start..295) && uncovered.is_empty()),
        "{v:?}"
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.code == "signed-sections-missing")
        .expect("finding");
    assert_eq!(f.severity, Severity::High);
    assert!(f.message.contains("running hash 1 of 2"), "{}", f.message);
    // Without a key the stored hashes say the same.
    let unkeyed = analyse_module(
        Scanner::scan_bytes(&b[..cut], ScanOptions::default()),
        None,
        &[],
    );
    assert_eq!(
        unkeyed.verdicts()[0].covered,
        vec![r.scan.covered_start..295]
    );
}

/// Found with `inspect -K FIFO` (blocked forever) and `-S /dev/zero` (read until out of memory):
/// key files, detached signatures and case files are read only when they are regular files, and
/// never past their limit. The case file is not read by a command on this branch yet, so its
/// loader is checked here directly, under a watchdog.
#[test]
fn case_file_fifo_or_device_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("case.toml");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for p in [fifo, std::path::PathBuf::from("/dev/zero")] {
        let q = p.clone();
        let e = crate::common::mutate::bounded("CaseInfo::load", move || {
            wsc_forensics::model::case::CaseInfo::load(&q)
                .unwrap_err()
                .to_string()
        });
        assert!(e.starts_with(&format!("{}: ", p.display())), "{e}");
        assert!(e.contains("not a regular file"), "{e}");
    }
}

/// Found by `hostile_transparency::mutated_transparency_fixtures`: in wsc's flattened Rekor entry
/// (`recent_entry_20251101_175321.json`) the RFC 3339 `integratedTime` was ignored whenever
/// `integratedTimeUnix` was present, so `"3025-09-19T17:58:38Z"` passed every check while the
/// file showed a time the log never signed. Now the two must agree.
#[test]
fn flattened_rekor_entry_with_a_forged_rfc3339_time_is_refused() {
    use wsc_forensics::transparency::{
        analyse_transparency_file, IdentityPolicy, TransparencyError, TrustRoot,
    };
    let name = "rekor/recent_entry_20251101_175321.json";
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let run = |t: &str| {
        analyse_transparency_file(
            name,
            t.as_bytes(),
            None,
            &TrustRoot::production(),
            &IdentityPolicy::default(),
        )
    };
    assert!(run(&text).is_ok());
    let forged = text.replace("\"2025-09-19T17:58:38Z\"", "\"3025-09-19T17:58:38Z\"");
    assert_ne!(forged, text);
    match run(&forged) {
        Err(TransparencyError::Field {
            file,
            field,
            problem,
        }) => {
            assert_eq!(file, name);
            assert!(field.ends_with("integratedTime"), "{field}");
            assert!(
                problem.contains("disagrees with integratedTimeUnix 1758304718"),
                "{problem}"
            );
        }
        other => panic!("{other:?}"),
    }
}
