//! Every size and depth limit of the parsers, hit exactly: the limit passes, one more is
//! rejected (or reported) with a message naming the limit. The "Limits" table of docs/limits.md
//! lists the same limits.

use crate::common::mutate::{leb, leb_padded};
use wsc_forensics::keys::{inspect_key_path, parse_key_file, MAX_KEY_FILE_LEN};
use wsc_forensics::model::case::{CaseInfo, MAX_CASE_FILE_BYTES};
use wsc_forensics::wasm::detached::{self, MAX_DETACHED_LEN};
use wsc_forensics::wasm::keyless_section::{self, MAX_FIELD_LEN};
use wsc_forensics::wasm::scanner::{
    ScanErrorKind, ScanOptions, Scanner, MAX_LEB128_BYTES, MAX_NAME_BYTES, MAX_RECORDED_SECTIONS,
    MAX_SIGNATURE_PAYLOAD,
};
use wsc_forensics::wasm::signature_section::{
    self, MAX_CERTIFICATES, MAX_HASHES, MAX_SIGNATURES, MAX_SLICE_LEN,
};
use wsc_forensics::wasm::{analyse_module, SignatureAnalysis};

const CORE: &[u8] = b"\0asm\x01\0\0\0";

/// A module whose first section is a custom section `name` with `data` after the name.
fn custom_first(name: &[u8], data: &[u8]) -> Vec<u8> {
    let mut content = leb(name.len() as u64);
    content.extend_from_slice(name);
    content.extend_from_slice(data);
    let mut m = CORE.to_vec();
    m.push(0);
    m.extend(leb(content.len() as u64));
    m.extend(content);
    m
}

#[test]
fn signature_section_payload_limit() {
    let max = MAX_SIGNATURE_PAYLOAD as usize;
    let at = Scanner::scan_bytes(
        &custom_first(b"signature", &vec![0u8; max]),
        ScanOptions::default(),
    );
    assert_eq!(at.error, None);
    assert_eq!(at.signature_payload.unwrap().len(), max);
    let over = Scanner::scan_bytes(
        &custom_first(b"signature", &vec![0u8; max + 1]),
        ScanOptions::default(),
    );
    let e = over.error.unwrap();
    assert_eq!(e.offset, 8);
    assert!(
        e.to_string().contains(&format!(
            "{} bytes, more than the {max}-byte limit",
            max + 1
        )),
        "{e}"
    );
}

#[test]
fn leb128_is_at_most_5_bytes_and_32_bits() {
    assert_eq!(MAX_LEB128_BYTES, 5);
    // Section size: 5 bytes (padded) accepted, 6 rejected; 2^32 - 1 read, 2^32 rejected.
    let mut m = CORE.to_vec();
    m.push(1);
    m.extend(leb_padded(1, 5));
    m.push(0);
    let s = Scanner::scan_bytes(&m, ScanOptions::default());
    assert_eq!(s.error, None);
    assert_eq!(s.sections[0].range, 8..15);
    let mut m = CORE.to_vec();
    m.push(1);
    m.extend(leb_padded(1, 6));
    m.push(0);
    let e = Scanner::scan_bytes(&m, ScanOptions::default())
        .error
        .unwrap();
    assert!(e.to_string().contains("longer than 5 bytes"), "{e}");
    let mut m = CORE.to_vec();
    m.push(1);
    m.extend(leb(u64::from(u32::MAX)));
    let e = Scanner::scan_bytes(&m, ScanOptions::default())
        .error
        .unwrap();
    assert!(
        matches!(e.kind, ScanErrorKind::SectionOverrunsFile { declared, .. } if declared == u64::from(u32::MAX))
    );
    let mut m = CORE.to_vec();
    m.push(1);
    m.extend(leb_padded(1 << 32, 5));
    let e = Scanner::scan_bytes(&m, ScanOptions::default())
        .error
        .unwrap();
    assert!(e.to_string().contains("does not fit in 32 bits"), "{e}");
    // Signature data: the same two limits on every length.
    let mut p = vec![1, 1, 1];
    p.extend(leb_padded(0, 5));
    assert_eq!(signature_section::decode(&p, 0).unwrap().sets.len(), 0);
    let mut p = vec![1, 1, 1];
    p.extend(leb_padded(0, 6));
    let e = signature_section::decode(&p, 0).unwrap_err();
    assert!(e.to_string().contains("longer than 5 bytes"), "{e}");
    let mut p = vec![1, 1, 1];
    p.extend(leb_padded(1 << 32, 5));
    let e = signature_section::decode(&p, 0).unwrap_err();
    assert!(e.to_string().contains("does not fit in 32 bits"), "{e}");
    // Keyless: a 6-byte length is refused.
    let mut p = vec![2, 2];
    p.extend(leb_padded(0, 6));
    let e = keyless_section::decode(&p, 0).unwrap_err();
    assert!(e.to_string().contains("longer than 5 bytes"), "{e}");
}

#[test]
fn custom_section_name_kept_up_to_1_kib() {
    for (len, irregular) in [(MAX_NAME_BYTES, false), (MAX_NAME_BYTES + 1, true)] {
        let s = Scanner::scan_bytes(
            &custom_first(&vec![b'n'; len], b"x"),
            ScanOptions::default(),
        );
        assert_eq!(s.error, None);
        let sec = &s.sections[0];
        assert_eq!(sec.name_irregular, irregular, "{len}");
        assert_eq!(sec.name.as_ref().unwrap().len(), MAX_NAME_BYTES);
    }
}

#[test]
fn at_most_65536_sections_listed() {
    for (n, listed, finding) in [
        (MAX_RECORDED_SECTIONS, MAX_RECORDED_SECTIONS, false),
        (MAX_RECORDED_SECTIONS + 1, MAX_RECORDED_SECTIONS, true),
    ] {
        let mut m = CORE.to_vec();
        for _ in 0..n {
            m.extend_from_slice(&[0x0c, 0x01, 0x00]);
        }
        let r = analyse_module(Scanner::scan_bytes(&m, ScanOptions::default()), None, &[]);
        assert_eq!(r.scan.section_count, n);
        assert_eq!(r.scan.sections.len(), listed);
        let f = r.findings.iter().find(|f| f.code == "too-many-sections");
        assert_eq!(f.is_some(), finding, "{n}");
        if let Some(f) = f {
            assert!(
                f.message
                    .contains(&format!("only the first {MAX_RECORDED_SECTIONS}")),
                "{}",
                f.message
            );
        }
    }
}

/// `01 01 01 ‖ sets` with `sets` sets, each `hashes` hashes and `sigs` 68-byte elements.
fn payload(sets: u64, hashes: u64, sigs: u64, certs: u64) -> Vec<u8> {
    let mut el = vec![0u8, 1, 64];
    el.extend([0x11; 64]);
    el.extend(leb(certs));
    for _ in 0..certs {
        el.extend([2, 0x30, 0x00]);
    }
    let mut set = leb(hashes);
    set.extend(std::iter::repeat_n(0xab, 32 * hashes as usize));
    set.extend(leb(sigs));
    for _ in 0..sigs {
        set.extend(leb(el.len() as u64));
        set.extend(&el);
    }
    let mut p = vec![1, 1, 1];
    p.extend(leb(sets));
    for _ in 0..sets {
        p.extend(leb(set.len() as u64));
        p.extend(&set);
    }
    p
}

#[test]
fn hash_sets_hashes_signatures_and_certificates() {
    assert_eq!(
        (MAX_HASHES, MAX_SIGNATURES, MAX_CERTIFICATES),
        (64, 256, 16)
    );
    let d = signature_section::decode(&payload(MAX_HASHES, 1, 1, 0), 0).unwrap();
    assert_eq!(d.sets.len(), 64);
    let e = signature_section::decode(&payload(MAX_HASHES + 1, 1, 1, 0), 0).unwrap_err();
    assert_eq!(e.field, "set count");
    assert!(e.to_string().contains("65 sets, more than 64"), "{e}");

    let d = signature_section::decode(&payload(1, MAX_HASHES, 1, 0), 0).unwrap();
    assert_eq!(d.sets[0].hashes.len(), 64);
    let e = signature_section::decode(&payload(1, MAX_HASHES + 1, 1, 0), 0).unwrap_err();
    assert_eq!(e.field, "set 0 hash count");
    assert!(e.to_string().contains("65 hashes, more than 64"), "{e}");

    let d = signature_section::decode(&payload(1, 1, MAX_SIGNATURES, 0), 0).unwrap();
    assert_eq!(d.sets[0].signatures.len(), 256);
    let e = signature_section::decode(&payload(1, 1, MAX_SIGNATURES + 1, 0), 0).unwrap_err();
    assert_eq!(e.field, "set 0 signature count");
    assert!(
        e.to_string().contains("257 signatures, more than 256"),
        "{e}"
    );

    let d = signature_section::decode(&payload(1, 1, 1, MAX_CERTIFICATES), 0).unwrap();
    assert_eq!(d.sets[0].signatures[0].certificates.len(), 16);
    // Over the certificate limit the element is dropped (as wsc does), with the reason.
    let d = signature_section::decode(&payload(1, 1, 1, MAX_CERTIFICATES + 1), 0).unwrap();
    assert!(d.sets[0].signatures.is_empty());
    assert!(
        d.sets[0].dropped[0]
            .reason
            .contains("17 certificates, more than 16"),
        "{}",
        d.sets[0].dropped[0].reason
    );
}

#[test]
fn slice_length_limit_16_mib() {
    assert_eq!(MAX_SLICE_LEN, 16 << 20);
    for (n, ok) in [(MAX_SLICE_LEN, true), (MAX_SLICE_LEN + 1, false)] {
        // One set whose bytes are `n` long: 0 hashes, 0 signatures, then padding (trailing).
        let mut p = vec![1, 1, 1, 1];
        p.extend(leb(n));
        p.extend([0, 0]);
        p.resize(p.len() + n as usize - 2, 0);
        let r = signature_section::decode(&p, 0);
        assert_eq!(r.is_ok(), ok, "{n}");
        if let Err(e) = r {
            assert_eq!((e.offset, e.field.as_str()), (4, "set 0"));
            assert!(
                e.to_string().contains(&format!(
                    "length {n} exceeds the {MAX_SLICE_LEN}-byte slice limit"
                )),
                "{e}"
            );
        }
    }
}

/// Found by this test: the keyless decoder's error for a field over 16 MiB said "exceeds the
/// 16777217 bytes left (or the 16 MiB cap)" when the bytes were there: now it names the limit.
#[test]
fn keyless_field_limit_16_mib() {
    assert_eq!(MAX_FIELD_LEN, 16 << 20);
    for (n, ok) in [(MAX_FIELD_LEN, true), (MAX_FIELD_LEN + 1, false)] {
        let mut p = vec![2, 2];
        p.extend(leb(n));
        p.resize(p.len() + n as usize, 0);
        p.extend([0, 2, b'{', b'}', 0]);
        let r = keyless_section::decode(&p, 100);
        assert_eq!(r.is_ok(), ok, "{n}");
        if let Err(e) = r {
            assert_eq!((e.offset, e.field.as_str()), (102, "signature"));
            assert!(
                e.to_string().contains(&format!(
                    "length {n} exceeds the {MAX_FIELD_LEN}-byte field limit"
                )),
                "{e}"
            );
        }
    }
}

#[test]
fn keyless_rekor_entry_json_depth_127() {
    for (depth, ok) in [(127usize, true), (128, false)] {
        let json = format!(
            "{{\"uuid\":\"u\",\"x\":{}1{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        );
        let s = keyless_section::summarise_rekor_entry(json.as_bytes());
        assert_eq!(s.problem.is_none(), ok, "{depth}: {:?}", s.problem);
        if let Some(p) = s.problem {
            assert!(p.contains("recursion limit exceeded"), "{p}");
        }
    }
}

fn file_of(dir: &std::path::Path, name: &str, len: u64) -> std::path::PathBuf {
    let p = dir.join(name);
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(len).unwrap();
    p
}

#[test]
fn detached_signature_file_limit() {
    let dir = tempfile::tempdir().unwrap();
    let at = file_of(dir.path(), "at.sig", MAX_DETACHED_LEN);
    assert_eq!(detached::read(&at).unwrap().len() as u64, MAX_DETACHED_LEN);
    let over = file_of(dir.path(), "over.sig", MAX_DETACHED_LEN + 1);
    let e = detached::read(&over).unwrap_err().to_string();
    assert!(e.starts_with(&over.display().to_string()), "{e}");
    assert!(
        e.contains(&format!(
            "more than the {MAX_DETACHED_LEN}-byte signature limit"
        )),
        "{e}"
    );
    // Through inspect: the over-limit file is one error naming it and the limit.
    let out = wsc_forensics::cli::inspect::inspect_one(&over, &[], None);
    assert_eq!(out.status, 2);
    assert!(out.error.unwrap().contains("-byte signature limit"));
}

#[test]
fn key_file_limit_64_kib() {
    assert_eq!(MAX_KEY_FILE_LEN, 64 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let at = file_of(dir.path(), "at.pub", MAX_KEY_FILE_LEN as u64);
    // Read and parsed (zeros are no key format), not refused for size.
    let e = inspect_key_path(&at).unwrap_err().to_string();
    assert!(
        e.contains("not a key file format this tool knows (65536 bytes)"),
        "{e}"
    );
    let over = file_of(dir.path(), "over.pub", MAX_KEY_FILE_LEN as u64 + 1);
    let e = inspect_key_path(&over).unwrap_err().to_string();
    assert!(e.starts_with(&over.display().to_string()), "{e}");
    assert!(e.contains("larger than the 65536-byte limit"), "{e}");
    // parse_key_file itself is given bytes: a line padded with spaces to the limit still parses.
    let line =
        std::fs::read_to_string(crate::common::fixture("wsc/keys/test-ssh-ed25519.pub")).unwrap();
    let mut padded = line.trim_end().to_owned();
    padded.push_str(&" ".repeat(MAX_KEY_FILE_LEN - padded.len()));
    assert!(parse_key_file("padded", padded.as_bytes()).is_ok());
}

#[test]
fn case_file_limit_512_kib_and_toml_depth_80() {
    assert_eq!(MAX_CASE_FILE_BYTES, 512 * 1024);
    let max = MAX_CASE_FILE_BYTES as usize;
    let mut at = "case_id = \"x\"\nnotes = \"".to_owned();
    at.push_str(&"n".repeat(max - at.len() - 1));
    at.push('"');
    assert_eq!(at.len(), max);
    assert_eq!(
        CaseInfo::parse("c.toml", at.as_bytes()).unwrap().case_id,
        "x"
    );
    let over = format!("{at} ");
    let e = CaseInfo::parse("c.toml", over.as_bytes())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "c.toml: case file is {} bytes, over the {max}-byte limit",
            max + 1
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("case.toml");
    std::fs::write(&p, &over).unwrap();
    let e = CaseInfo::load(&p).unwrap_err().to_string();
    assert!(e.contains(&format!("over the {max}-byte limit")), "{e}");
    // The TOML reader nests at most 80 levels (arrays, inline tables, dotted keys).
    let nest = |d: usize| {
        [
            format!("open_items = {}{}", "[".repeat(d), "]".repeat(d)),
            format!("notes = {}1{}", "{a=".repeat(d), "}".repeat(d)),
            format!("{} = 1", vec!["a"; d].join(".")),
        ]
    };
    for t in nest(80) {
        let e = CaseInfo::parse("c.toml", t.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("recursion"), "depth 80 refused for depth: {e}");
    }
    for t in nest(81) {
        let e = CaseInfo::parse("c.toml", t.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.toml: "), "{e}");
        assert!(e.contains("recursion"), "depth 81: {e}");
    }
}

#[test]
fn keyless_certificate_count_is_one_byte() {
    // The count is a single byte: 255 empty-text certificates decode; there is no 256th.
    let mut p = vec![2, 2, 0, 255];
    p.extend(std::iter::repeat_n(0u8, 255));
    p.extend([0, 0]);
    let (sig, _) = keyless_section::decode(&p, 0).unwrap();
    assert_eq!(sig.certificates_pem.len(), 255);
    let r = analyse_module(
        Scanner::scan_bytes(&custom_first(b"signature", &p), ScanOptions::default()),
        None,
        &[],
    );
    assert!(matches!(r.signature, SignatureAnalysis::Keyless(_)));
}
