//! No allocation follows a length prefix without a bound: a counting global allocator measures
//! the bytes allocated (in total, and the peak held at once) while each parser reads inputs that
//! claim huge lengths. Own test binary, because the allocator is process-wide; the tests take a
//! lock so that only one measures at a time.

use crate::common::mutate::{hostile_lengths, leb};
use wsc_forensics::wasm::scanner::{ScanOptions, Scanner, MAX_SIGNATURE_PAYLOAD};
use wsc_forensics::wasm::{analyse_module, keyless_section, signature_section};

use crate::counting_alloc::{measure, ONE_AT_A_TIME};

const MIB: u64 = 1 << 20;
/// The bound for any parse: well below what a hostile length could claim (4 GiB).
const BOUND: u64 = 64 * MIB;
/// The bound for a tiny input (< 1 KiB): no parser needs more than a small fixed amount.
const TINY_BOUND: u64 = MIB;

const CORE: &[u8] = b"\0asm\x01\0\0\0";

fn scan_and_judge(bytes: &[u8]) {
    let scan = Scanner::scan_bytes(bytes, ScanOptions::default());
    let _ = analyse_module(scan, None, &[]);
}

#[test]
fn tiny_module_claiming_a_4_gib_section_allocates_almost_nothing() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for id in [0u8, 1, 10, 11] {
        for h in hostile_lengths() {
            let mut m = CORE.to_vec();
            m.push(id);
            m.extend_from_slice(&h);
            m.extend_from_slice(b"\x09signature\x01\x01\x01");
            let (total, _, _) = measure(|| scan_and_judge(&m));
            assert!(total < TINY_BOUND, "id {id} length {h:02x?}: {total} bytes");
        }
    }
}

/// Found by this test: a 30-byte module whose first section claims a 16 MiB `signature`
/// payload made the scanner reserve the whole 16 MiB before reading a byte of it.
#[test]
fn tiny_module_claiming_the_largest_signature_section_allocates_almost_nothing() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let name = b"\x09signature";
    let size = MAX_SIGNATURE_PAYLOAD + name.len() as u64;
    let mut m = CORE.to_vec();
    m.push(0);
    m.extend_from_slice(&leb(size));
    m.extend_from_slice(name);
    m.extend_from_slice(&[1, 1, 1, 1]);
    let (total, _, scan) = measure(|| Scanner::scan_bytes(&m, ScanOptions::default()));
    assert!(scan.error.is_some());
    assert!(
        total < TINY_BOUND,
        "{total} bytes for a {}-byte file",
        m.len()
    );
}

/// The largest signature section the scanner keeps (a 16 MiB certificate inside one element),
/// scanned, decoded and judged: what is held stays under the bound.
#[test]
fn largest_accepted_signature_section_stays_under_the_bound() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let cert_len = signature_section::MAX_SLICE_LEN - 200;
    let mut el = vec![0u8, 1, 64];
    el.extend([0x5a; 64]);
    el.push(1);
    el.extend(leb(cert_len));
    el.resize(el.len() + cert_len as usize, 0x30);
    let mut set = vec![0u8, 1];
    set.extend(leb(el.len() as u64));
    set.extend(&el);
    let mut payload = vec![1u8, 1, 1, 1];
    payload.extend(leb(set.len() as u64));
    payload.extend(&set);
    assert!(payload.len() as u64 <= MAX_SIGNATURE_PAYLOAD);
    let mut content = b"\x09signature".to_vec();
    content.extend(&payload);
    let mut m = CORE.to_vec();
    m.push(0);
    m.extend(leb(content.len() as u64));
    m.extend(&content);
    m.extend([1, 4, 1, 0x60, 0, 0]);
    let (_, peak, report) =
        measure(|| analyse_module(Scanner::scan_bytes(&m, ScanOptions::default()), None, &[]));
    assert_eq!(report.scan.error, None);
    assert_eq!(report.verdicts().len(), 1);
    assert!(peak < BOUND, "{} MiB held", peak / MIB);
}

#[test]
fn signature_and_keyless_decoders_allocate_within_the_payload() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    for h in hostile_lengths() {
        // Every length position of a key-based payload: set count, set length, hash count,
        // signature count, element length, key id length, signature length, certificate count.
        let prefixes: Vec<Vec<u8>> = vec![
            vec![1, 1, 1],
            vec![1, 1, 1, 1],
            vec![1, 1, 1, 1, 0x7f],
            vec![1, 1, 1, 1, 0x7f, 0],
            vec![1, 1, 1, 1, 0x7f, 0, 1],
            vec![1, 1, 1, 1, 0x7f, 0, 1, 0x70],
            vec![1, 1, 1, 1, 0x7f, 0, 1, 0x70, 0, 1],
            vec![1, 1, 1, 1, 0x7f, 0, 1, 0x70, 0, 1, 0],
        ];
        for p in prefixes {
            let mut payload = p.clone();
            payload.extend_from_slice(&h);
            payload.resize(p.len() + h.len() + 64, 0);
            let (total, _, _) = measure(|| signature_section::decode(&payload, 0));
            assert!(total < TINY_BOUND, "{p:02x?} {h:02x?}: {total}");
        }
        for p in [
            vec![2u8, 2],
            vec![2, 2, 0, 1],
            vec![2, 2, 0, 0],
            vec![2, 2, 0, 0, 0],
        ] {
            let mut payload = p.clone();
            payload.extend_from_slice(&h);
            payload.resize(p.len() + h.len() + 64, 0);
            let (total, _, _) = measure(|| keyless_section::decode(&payload, 0));
            assert!(total < TINY_BOUND, "{p:02x?} {h:02x?}: {total}");
        }
    }
    // The most a decoder may hold: 64 sets of 64 hashes and 256 signatures each, read from a
    // payload at the 16 MiB slice limit, stays under the bound.
    let mut set = leb(64);
    set.extend(std::iter::repeat_n(0xab, 64 * 32));
    set.extend(leb(256));
    for _ in 0..256 {
        set.extend([67, 0, 1, 64]);
        set.extend([0x5a; 64]);
        set.push(0);
    }
    let mut payload = vec![1, 1, 1, 64];
    for _ in 0..64 {
        payload.extend(leb(set.len() as u64));
        payload.extend(&set);
    }
    let (total, peak, d) = measure(|| signature_section::decode(&payload, 0).unwrap());
    assert_eq!(d.sets.len(), 64);
    assert!(peak < BOUND && total < BOUND, "peak {peak}, total {total}");
}

#[test]
fn key_and_case_parsers_on_hostile_text_stay_bounded() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // OpenSSH private key whose string lengths claim 4 GiB.
    use base64::Engine as _;
    let mut blob = b"openssh-key-v1\0".to_vec();
    blob.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
    blob.extend_from_slice(b"none");
    let pem = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(&blob)
    );
    let (total, _, r) = measure(|| wsc_forensics::keys::parse_key_file("k", pem.as_bytes()));
    assert!(r.is_err());
    assert!(total < TINY_BOUND, "{total}");
    // A key file at its 64 KiB limit of base64 junk.
    let junk = format!(
        "ssh-ed25519 {}",
        "A".repeat(wsc_forensics::keys::MAX_KEY_FILE_LEN - 12)
    );
    let (_, peak, _) = measure(|| wsc_forensics::keys::parse_key_file("k", junk.as_bytes()));
    assert!(peak < BOUND, "{peak}");
}

/// A 256 MiB sparse module (valid header, one section claiming 4 GiB) through `inspect`: read
/// in chunks, memory held stays far below the file size.
#[test]
fn inspect_streams_a_large_module() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.wasm");
    let mut head = CORE.to_vec();
    head.extend_from_slice(&[1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    std::fs::write(&p, &head).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(256 * MIB).unwrap();
    drop(f);
    let (_, peak, out) = measure(|| wsc_forensics::cli::inspect::inspect_one(&p, &[], None));
    assert_eq!(out.size, Some(256 * MIB));
    assert!(
        out.error.as_deref().unwrap().contains("byte offset 8"),
        "{:?}",
        out.error
    );
    assert!(peak < 8 * MIB, "{peak} bytes held for a 256 MiB file");
}

/// Found by this test: a 4 MiB case file (the old limit) of `open_items = [{},{},…]` made the
/// TOML reader hold 317 MiB. At the 512 KiB limit every shape stays under the bound.
#[test]
fn case_file_at_its_limit_stays_bounded_in_every_shape() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let max = wsc_forensics::model::case::MAX_CASE_FILE_BYTES as usize;
    let fill = |head: &str, unit: &str, tail: &str| {
        let mut s = head.to_owned();
        while s.len() + unit.len() + tail.len() <= max {
            s.push_str(unit);
        }
        s.push_str(tail);
        s
    };
    let mut keys = String::new();
    let mut i = 0;
    while keys.len() < max - 20 {
        keys.push_str(&format!("k{i} = 1\n"));
        i += 1;
    }
    let shapes = [
        ("distinct keys", keys),
        ("integer array", fill("open_items = [", "1,", "]")),
        ("string array", fill("open_items = [", "\"\",", "]")),
        ("inline tables", fill("open_items = [", "{},", "]")),
        ("arrays of tables", fill("", "[[events]]\n", "")),
        (
            "deep arrays of tables",
            fill("", "[[a.b.c.d.e.f.g.h]]\n", ""),
        ),
        ("dotted key", fill("a", ".a", " = 1")),
        ("one string", fill("notes = \"", "x", "\"")),
    ];
    for (what, text) in shapes {
        assert!(text.len() <= max && text.len() > max - 64, "{what}");
        let (_, peak, _) =
            measure(|| wsc_forensics::model::case::CaseInfo::parse("c", text.as_bytes()));
        assert!(peak < BOUND, "{what}: {} MiB held", peak / MIB);
    }
    let over = "x".repeat(max + 1);
    let (total, _, r) =
        measure(|| wsc_forensics::model::case::CaseInfo::parse("c", over.as_bytes()));
    assert!(r
        .unwrap_err()
        .to_string()
        .contains(&format!("over the {max}-byte limit")));
    assert!(total < TINY_BOUND);
}

/// Transparency files at their limits: 32 MiB of JSON, just under 1,000,000 values, and a
/// 16 MiB base64 field. What the reader holds stays under a bound proportional to the limit.
#[test]
fn transparency_inputs_at_their_limits_stay_bounded() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use wsc_forensics::transparency::{
        analyse_transparency_file, IdentityPolicy, TrustRoot, MAX_INPUT_BYTES,
    };
    let root = TrustRoot::production();
    let run = |bytes: &[u8]| {
        measure(|| {
            analyse_transparency_file("t.json", bytes, None, &root, &IdentityPolicy::default())
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    };
    let mut many = String::from("{\"a\":[");
    for _ in 0..990_000 {
        many.push_str("0,");
    }
    many.push_str("0]}");
    let mut one_field = String::from("{\"body\":\"");
    one_field.push_str(&"A".repeat(MAX_INPUT_BYTES - 100));
    one_field.push_str("\"}");
    let mut strings = String::from("{\"a\":[");
    while strings.len() < MAX_INPUT_BYTES - 200 {
        strings.push_str("\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",");
    }
    strings.push_str("0]}");
    for (what, text) in [
        ("many values", many),
        ("one field", one_field),
        ("strings", strings),
    ] {
        assert!(text.len() <= MAX_INPUT_BYTES, "{what}");
        let (_, peak, r) = run(text.as_bytes());
        assert!(r.is_err(), "{what}");
        eprintln!("{what}: {} bytes in, {} MiB held", text.len(), peak / MIB);
        assert!(
            peak < 3 * MAX_INPUT_BYTES as u64,
            "{what}: {} MiB held",
            peak / MIB
        );
    }
}
