//! Property tests: changing any signed byte never leaves key A's verdict `valid`, and no input
//! (random, truncated, mutated) makes the decoder panic; chunking never changes the result.

use crate::common::fixture;
use proptest::prelude::*;
use wsc_forensics::keys::{parse_key_file, PublicKey};
use wsc_forensics::wasm::scanner::{ScanOptions, Scanner};
use wsc_forensics::wasm::{analyse_module, verdict::Verdict};

fn key_a() -> PublicKey {
    let raw = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
    parse_key_file("a", &raw).unwrap().public_key.unwrap()
}

fn module(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("wsc/modules/{name}"))).unwrap()
}

fn a_is_valid(bytes: &[u8]) -> bool {
    let scan = Scanner::scan_bytes(bytes, ScanOptions::default());
    analyse_module(scan, None, &[key_a()])
        .verdicts()
        .iter()
        .any(|v| matches!(v.verdict, Verdict::Valid { .. }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn flipping_signed_bytes_never_stays_valid(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let name = ["signed-a.wasm", "signed-a-b.wasm", "split-signed-a.wasm"][which];
        let original = module(name);
        prop_assert!(a_is_valid(&original));
        let sig_end = Scanner::scan_bytes(&original, ScanOptions::default()).covered_start as usize;
        let mut bytes = original.clone();
        for (idx, x) in &flips {
            let pos = sig_end + idx.index(bytes.len() - sig_end);
            bytes[pos] ^= x;
        }
        prop_assume!(bytes != original);
        prop_assert!(!a_is_valid(&bytes), "{} still valid after flips {:?}", name, flips);
    }

    #[test]
    fn random_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512), header in any::<bool>()) {
        let mut bytes = if header { b"\0asm\x01\0\0\0".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&tail);
        let scan = Scanner::scan_bytes(&bytes, ScanOptions::default());
        let _ = analyse_module(scan, None, &[key_a()]);
        let _ = analyse_module(Scanner::scan_bytes(&bytes, ScanOptions::default()), Some(("x.sig", &tail)), &[key_a()]);
    }

    #[test]
    fn truncated_and_mutated_fixtures_never_panic(
        which in 0usize..5,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let name = ["signed-a-b.wasm", "keyless-replayed-rekor-entry.wasm", "split-regex-signed-a.wasm",
                    "signed-component-a.wasm", "signed-a-appended-then-b.wasm"][which];
        let mut bytes = module(name);
        for (idx, x) in &flips {
            let i = idx.index(bytes.len());
            bytes[i] = *x;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let scan = Scanner::scan_bytes(&bytes, ScanOptions::default());
        let report = analyse_module(scan, None, &[key_a()]);
        if report.scan.error.is_some() {
            prop_assert!(report.verdicts().is_empty());
        }
    }

    #[test]
    fn any_chunking_gives_the_same_scan(which in 0usize..4, sizes in proptest::collection::vec(1usize..40, 1..20)) {
        let name = ["signed-a-b.wasm", "keyless-no-rekor.wasm", "split-regex-signed-a.wasm", "signed-component-a.wasm"][which];
        let bytes = module(name);
        let whole = Scanner::scan_bytes(&bytes, ScanOptions::default());
        let mut s = Scanner::new(ScanOptions::default());
        let mut rest = &bytes[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            s.feed(&rest[..n]).unwrap();
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(s.finish(), whole);
    }
}
