//! Independent oracles for the wasm decoder: wasmparser's section ranges, and the upstream
//! `wsc-verify-core` decoder and verifier (the published crate), on every real fixture.

use crate::common::fixture;
use wsc_forensics::keys::parse_key_file;
use wsc_forensics::wasm::scanner::{ScanOptions, Scanner};
use wsc_forensics::wasm::{analyse_module, signature_section};

fn modules() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(fixture("wsc/modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert_eq!(v.len(), 20);
    v
}

/// Top-level (id, full range) of every section, as wasmparser sees them.
fn wasmparser_sections(bytes: &[u8]) -> Vec<(u8, std::ops::Range<u64>)> {
    use wasmparser::{Parser, Payload};
    let mut out = Vec::new();
    let mut prev_end = 8u64;
    let mut depth = 0usize;
    for p in Parser::new(0).parse_all(bytes) {
        let p = p.unwrap();
        match &p {
            Payload::ModuleSection {
                unchecked_range, ..
            }
            | Payload::ComponentSection {
                unchecked_range, ..
            } => {
                if depth == 0 {
                    // The nested section's header starts where the previous one ended.
                    let id = bytes[prev_end as usize];
                    out.push((id, prev_end..unchecked_range.end));
                    prev_end = unchecked_range.end;
                }
                depth += 1;
                continue;
            }
            Payload::End(_) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Payload::CodeSectionEntry(_) => continue,
            _ => {}
        }
        if depth > 0 {
            continue;
        }
        if let Some((id, range)) = p.as_section() {
            out.push((id, prev_end..range.end));
            prev_end = range.end;
        }
    }
    out
}

#[test]
fn section_ranges_equal_wasmparsers_on_every_fixture() {
    for (name, bytes) in modules() {
        let ours = Scanner::scan_bytes(&bytes, ScanOptions::default());
        assert_eq!(ours.error, None, "{name}");
        let ours: Vec<_> = ours
            .sections
            .iter()
            .map(|s| (s.id, s.range.clone()))
            .collect();
        assert_eq!(ours, wasmparser_sections(&bytes), "{name}");
    }
}

#[test]
fn signature_data_equals_wsc_verify_core_decoding() {
    let mut checked = 0;
    let mut payloads: Vec<(String, Vec<u8>)> = modules()
        .into_iter()
        .filter_map(|(name, bytes)| {
            let s = Scanner::scan_bytes(&bytes, ScanOptions::default());
            let p = s.signature_payload?;
            (p[0] == 1).then_some((name, p))
        })
        .collect();
    for f in ["detached-a.sig", "detached-a-b.sig"] {
        payloads.push((
            f.into(),
            std::fs::read(fixture(&format!("wsc/modules/{f}"))).unwrap(),
        ));
    }
    for (name, p) in payloads {
        let ours = signature_section::decode(&p, 0).unwrap();
        let theirs = wsc_verify_core::SignatureData::deserialize(&p).unwrap();
        assert_eq!(ours.spec_version, theirs.specification_version, "{name}");
        assert_eq!(ours.content_type, theirs.content_type, "{name}");
        assert_eq!(ours.hash_function, theirs.hash_function, "{name}");
        assert_eq!(ours.sets.len(), theirs.signed_hashes_set.len(), "{name}");
        for (a, b) in ours.sets.iter().zip(&theirs.signed_hashes_set) {
            let ah: Vec<Vec<u8>> = a.hashes.iter().map(|h| h.0.to_vec()).collect();
            assert_eq!(ah, b.hashes, "{name}");
            assert_eq!(a.signatures.len(), b.signatures.len(), "{name}");
            for (x, y) in a.signatures.iter().zip(&b.signatures) {
                assert_eq!(x.key_id, y.key_id, "{name}");
                assert_eq!(x.alg_id, y.alg_id, "{name}");
                assert_eq!(x.signature, y.signature, "{name}");
                assert_eq!(
                    x.certificates.len(),
                    y.certificate_chain.as_ref().map_or(0, |c| c.len()),
                    "{name}"
                );
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 14);
}

/// Our "valid over all bytes" equals wsc-verify-core's `PublicKey::verify` (wsc's plain
/// `verify`) for keys A and B on every key-based fixture, embedded and detached.
#[test]
fn valid_verdicts_agree_with_wsc_verify_core_public_key_verify() {
    let mut agreed = 0;
    for key in ["test-key-a.pub", "test-key-b.pub"] {
        let raw = std::fs::read(fixture(&format!("wsc/keys/{key}"))).unwrap();
        let theirs_pk = wsc_verify_core::PublicKey::from_bytes(&raw).unwrap();
        let ours_pk = parse_key_file(key, &raw).unwrap().public_key.unwrap();
        for (name, bytes) in modules() {
            if name.starts_with("keyless") {
                continue;
            }
            let sig_path = fixture(&format!(
                "wsc/modules/{}.sig",
                name.trim_end_matches(".wasm")
            ));
            let detached = std::fs::read(&sig_path).ok();
            let theirs = theirs_pk
                .verify(&mut std::io::Cursor::new(&bytes), detached.as_deref())
                .is_ok();
            let opts = ScanOptions {
                coverage: if detached.is_some() {
                    wsc_forensics::wasm::scanner::Coverage::Detached
                } else {
                    Default::default()
                },
                file_sha256: false,
            };
            let scan = Scanner::scan_bytes(&bytes, opts);
            let report = analyse_module(scan, detached.as_deref().map(|d| ("sig", d)), &[ours_pk]);
            assert_eq!(report.has_valid_signature(), theirs, "{name} with {key}");
            agreed += 1;
        }
    }
    assert_eq!(agreed, 34);
}

/// Our Ed25519 check agrees with ed25519-compact (through wsc-verify-core) on every signature
/// element of every fixture: the keys that verify each signed message are the same.
#[test]
fn ed25519_checks_agree_with_wsc_verify_core_keys() {
    use wsc_forensics::wasm::verdict::signed_message;
    let keys: Vec<_> = ["test-key-a.pub", "test-key-b.pub"]
        .iter()
        .map(|k| {
            let raw = std::fs::read(fixture(&format!("wsc/keys/{k}"))).unwrap();
            (
                parse_key_file(k, &raw).unwrap().public_key.unwrap(),
                wsc_verify_core::PublicKey::from_bytes(&raw).unwrap(),
            )
        })
        .collect();
    let mut n = 0;
    for (name, bytes) in modules() {
        let s = Scanner::scan_bytes(&bytes, ScanOptions::default());
        let Some(p) = s.signature_payload.filter(|p| p[0] == 1) else {
            continue;
        };
        let d = signature_section::decode(&p, 0).unwrap();
        for set in &d.sets {
            let msg = signed_message(&d, set);
            for sig in &set.signatures {
                for (ours, theirs) in &keys {
                    let compact_sig =
                        ed25519_compact_signature(&sig.signature).expect("64-byte signature");
                    let t = theirs.pk.verify(&msg, &compact_sig).is_ok();
                    assert_eq!(ours.verify(&msg, &sig.signature), t, "{name}");
                    n += 1;
                }
            }
        }
    }
    assert!(n >= 30, "{n}");
}

fn ed25519_compact_signature(b: &[u8]) -> Option<ed25519_compact::Signature> {
    ed25519_compact::Signature::from_slice(b).ok()
}
