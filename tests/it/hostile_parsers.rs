//! Hostile-input sweep of every parser on this branch (wasm section scanner, signature-section and
//! keyless-section decoders, detached signatures, key files, the case file, source
//! classification): random bytes and structure-aware mutations of every real fixture. Properties:
//! no panic, no hang (each parse runs under a watchdog), every rejection names the byte offset or
//! field, and a changed signed byte never leaves key A's verdict `valid`.
//!
//! Case counts: `WSC_FORENSICS_FUZZ_CASES=100000 cargo test --release --test hostile_parsers`.

use crate::common::mutate::*;
use proptest::prelude::*;
use std::sync::OnceLock;
use wsc_forensics::keys::{parse_key_file, PublicKey};
use wsc_forensics::model::case::CaseInfo;
use wsc_forensics::source::kind::classify;
use wsc_forensics::wasm::scanner::{Coverage, ScanOptions, Scanner};
use wsc_forensics::wasm::{analyse_module, keyless_section, signature_section, ModuleReport};

fn key(name: &str) -> PublicKey {
    let raw = std::fs::read(fixture_path(&format!("wsc/keys/{name}"))).unwrap();
    parse_key_file(name, &raw).unwrap().public_key.unwrap()
}

fn keys_ab() -> &'static [PublicKey; 2] {
    static K: OnceLock<[PublicKey; 2]> = OnceLock::new();
    K.get_or_init(|| [key("test-key-a.pub"), key("test-key-b.pub")])
}

fn all_modules() -> &'static [(String, Vec<u8>)] {
    static M: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    M.get_or_init(modules)
}

/// A detached pair: (module name, module bytes, signature bytes).
type DetachedPair = (String, Vec<u8>, Vec<u8>);

fn detached_pairs() -> &'static [DetachedPair] {
    static P: OnceLock<Vec<DetachedPair>> = OnceLock::new();
    P.get_or_init(|| {
        let v: Vec<_> = detached_sigs()
            .into_iter()
            .map(|(sig_name, sig)| {
                let m = sig_name.replace(".sig", ".wasm");
                let bytes = std::fs::read(fixture_path(&format!("wsc/modules/{m}"))).unwrap();
                (m, bytes, sig)
            })
            .collect();
        assert_eq!(v.len(), 2);
        v
    })
}

/// Scans and judges with keys A and B under the watchdog, checking the error contract.
fn judge(bytes: Vec<u8>, detached: Option<Vec<u8>>) -> ModuleReport {
    bounded("scan + analyse", move || {
        let opts = ScanOptions {
            coverage: if detached.is_some() {
                Coverage::Detached
            } else {
                Coverage::Embedded
            },
            file_sha256: true,
        };
        let scan = Scanner::scan_bytes(&bytes, opts);
        if let Some(e) = &scan.error {
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("byte offset {}: ", e.offset)),
                "scan error without its offset: {text}"
            );
            assert!(e.offset <= bytes.len() as u64, "offset past EOF: {text}");
            assert!(!text.contains('\n'), "multi-line error: {text}");
        }
        let failed = scan.error.is_some();
        let report = analyse_module(
            scan,
            detached.as_deref().map(|d| ("x.sig", d)),
            &keys_ab()[..],
        );
        if failed {
            assert!(report.verdicts().is_empty(), "verdicts from a failed scan");
        }
        if let wsc_forensics::wasm::SignatureAnalysis::Undecodable { error, .. } = &report.signature
        {
            assert!(error.starts_with("byte offset "), "{error}");
        }
        report
    })
}

fn a_valid(r: &ModuleReport) -> bool {
    let a = hex::encode(keys_ab()[0].wsc_key_id());
    r.verdicts().iter().any(|v| {
        matches!(&v.verdict, wsc_forensics::wasm::verdict::Verdict::Valid { key, .. } if *key == a)
    })
}

/// Bytes key-based signatures cover, found with the independent splitter: after the first
/// section when it is a custom `signature` section, else after the header.
fn covered_bytes(b: &[u8]) -> Option<&[u8]> {
    let secs = split_sections(b)?;
    let start = match secs.first() {
        Some(s)
            if s.name
                .as_ref()
                .is_some_and(|n| &b[n.clone()] == b"signature") =>
        {
            s.range.end
        }
        _ => 8,
    };
    Some(&b[start..])
}

/// Whether wsc-verify-core is a fair oracle for this report: it rejects a whole section with
/// trailing bytes, an undecodable element, a non-Ed25519 element or one whose signature is not 64
/// bytes, where the verdicts judge every signature on its own (A's signature still covers the
/// bytes) and `inspect` reports the odd element as a finding.
fn oracle_applies(r: &ModuleReport) -> bool {
    match &r.signature {
        wsc_forensics::wasm::SignatureAnalysis::KeyBased { data, .. } => {
            data.trailing.is_none()
                && data.sets.iter().all(|s| {
                    s.trailing.is_none()
                        && s.dropped.is_empty()
                        && s.signatures.iter().all(|e| {
                            e.trailing.is_none() && e.alg_id == 1 && e.signature.len() == 64
                        })
                })
        }
        _ => true,
    }
}

/// wsc-verify-core (the published verifier) as an oracle for every `valid` we give.
fn oracle_verifies_a(module: &[u8], detached: Option<&[u8]>) -> bool {
    let raw = std::fs::read(fixture_path("wsc/keys/test-key-a.pub")).unwrap();
    let pk = wsc_verify_core::PublicKey::from_bytes(&raw).unwrap();
    pk.verify(&mut std::io::Cursor::new(module), detached)
        .is_ok()
}

fn module_edit() -> impl Strategy<Value = ModuleEdit> {
    prop_oneof![
        any::<usize>().prop_map(ModuleEdit::Truncate),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(ModuleEdit::Extend),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| ModuleEdit::Flip(i, x)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| ModuleEdit::SwapSections(i, j)),
        any::<usize>().prop_map(ModuleEdit::DuplicateSection),
        any::<usize>().prop_map(ModuleEdit::DeleteSection),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| ModuleEdit::HugeSectionSize(i, j)),
        any::<usize>().prop_map(ModuleEdit::PaddedSectionSize),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| ModuleEdit::NonUtf8Name(i, j)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| ModuleEdit::FlipInFirstPayload(i, x)),
        (any::<usize>(), any::<usize>())
            .prop_map(|(i, j)| ModuleEdit::HugeLengthInFirstPayload(i, j)),
    ]
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    prop_oneof![
        any::<usize>().prop_map(ByteEdit::Truncate),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(ByteEdit::Extend),
        (any::<usize>(), any::<u8>()).prop_map(|(i, x)| ByteEdit::Flip(i, x)),
        (
            any::<usize>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 1..16),
                proptest::sample::select(NON_UTF8).prop_map(<[u8]>::to_vec),
            ]
        )
            .prop_map(|(i, t)| ByteEdit::Insert(i, t)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| ByteEdit::Delete(i, n)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| ByteEdit::Duplicate(i, n)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| ByteEdit::HugeLength(i, j)),
    ]
}

fn check_signature_decode(payload: Vec<u8>) {
    bounded("signature_section::decode", move || {
        if let Err(e) = signature_section::decode(&payload, 1000) {
            let t = e.to_string();
            assert!(
                t.starts_with(&format!("byte offset {}: {}: ", e.offset, e.field)),
                "{t}"
            );
            assert!(!e.field.is_empty());
            assert!(
                e.offset >= 1000 && e.offset <= 1000 + payload.len() as u64,
                "{t}"
            );
        }
    })
}

fn check_keyless_decode(payload: Vec<u8>) {
    bounded(
        "keyless_section::decode",
        move || match keyless_section::decode(&payload, 7) {
            Ok((sig, trailing)) => {
                let _ = keyless_section::analyse(&sig, trailing, None);
            }
            Err(e) => {
                let t = e.to_string();
                assert!(
                    t.starts_with(&format!("byte offset {}: {}: ", e.offset, e.field)),
                    "{t}"
                );
                assert!(e.offset >= 7 && e.offset <= 7 + payload.len() as u64, "{t}");
            }
        },
    )
}

fn check_key_file(name: &'static str, bytes: Vec<u8>) {
    bounded("parse_key_file", move || {
        if let Err(e) = parse_key_file(name, &bytes) {
            let t = e.to_string();
            assert!(
                t.starts_with(&format!("{name}: ")),
                "key error without the file: {t}"
            );
            if let wsc_forensics::keys::KeyError::Malformed { field, .. } = &e {
                assert!(
                    !field.is_empty() && t.contains(&format!(" at {field}: ")),
                    "{t}"
                );
            }
            assert!(!t.contains('\n'), "multi-line key error: {t}");
        }
    })
}

fn check_case_file(bytes: Vec<u8>) {
    bounded("CaseInfo::parse", move || {
        if let Err(e) = CaseInfo::parse("hostile/case.toml", &bytes) {
            let t = e.to_string();
            assert!(t.starts_with("hostile/case.toml: "), "{t}");
            assert!(!t.contains('\n'), "multi-line case error: {t}");
            if let wsc_forensics::model::case::CaseFileError::Syntax { message, .. } = &e {
                // toml names the line and column (or the field) of the problem; only its
                // nesting limit on dotted keys and table headers comes without a position.
                assert!(
                    message.contains("line ")
                        || message.contains('`')
                        || message == "recursion limit",
                    "syntax error naming neither a position nor a field: {t}"
                );
            }
        }
    })
}

fn check_classify(bytes: Vec<u8>) {
    bounded("classify", move || {
        let head = &bytes[..bytes.len().min(wsc_forensics::source::kind::SNIFF_LEN)];
        let _ = classify(std::path::Path::new("x.sig"), head);
        let _ = classify(std::path::Path::new("\u{fffd}\n.jsonl"), head);
        let _ = classify(std::path::Path::new(""), head);
    })
}

/// Every parser entry point on the same bytes.
fn every_parser(bytes: &[u8]) {
    judge(bytes.to_vec(), None);
    judge(bytes.to_vec(), Some(bytes.to_vec()));
    check_signature_decode(bytes.to_vec());
    check_keyless_decode(bytes.to_vec());
    check_key_file("hostile.key", bytes.to_vec());
    check_case_file(bytes.to_vec());
    check_classify(bytes.to_vec());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(96)))]

    /// Random bytes (optionally after a real header or a parser's magic) to every parser.
    #[test]
    fn random_bytes_to_every_parser(
        prefix in prop_oneof![
            Just(Vec::new()),
            Just(b"\0asm\x01\0\0\0".to_vec()),
            Just(b"\0asm\x0d\0\x01\0".to_vec()),
            Just(vec![1u8, 1, 1]),
            Just(vec![2u8, 2]),
            Just(b"-----BEGIN OPENSSH PRIVATE KEY-----\n".to_vec()),
            Just(b"ssh-ed25519 ".to_vec()),
            Just(b"case_id = \"".to_vec()),
        ],
        tail in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&tail);
        every_parser(&bytes);
    }

    /// Structure-aware edits of every module fixture; for fixtures key A signs, a change to the
    /// covered bytes is never `valid`, and every `valid` is confirmed by wsc-verify-core.
    #[test]
    fn mutated_modules(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(module_edit(), 1..4),
    ) {
        let (name, original) = which.get(all_modules());
        let mut bytes = original.clone();
        for e in &edits {
            bytes = apply(&bytes, e);
        }
        let report = judge(bytes.clone(), None);
        // Edits can legitimately restore bytes A signed (deleting a section appended after
        // signing): the covered bytes must then be unchanged only for fixtures A fully signs.
        if a_valid(&report) && a_valid(&judge(original.clone(), None)) {
            prop_assert_eq!(covered_bytes(&bytes), covered_bytes(original),
                "{}: valid for A after edits {:?} that changed covered bytes", name, edits);
            prop_assert!(!oracle_applies(&report) || oracle_verifies_a(&bytes, None),
                "{}: we say valid, wsc-verify-core does not, after {:?}", name, edits);
        }
        check_classify(bytes.clone());
        check_signature_decode(bytes);
    }

    /// The signature section itself mutated (flips, hostile lengths) together with at least one
    /// covered byte: never `valid` for A, on every fixture A signs (embedded).
    #[test]
    fn mutated_signature_section_never_validates_changed_bytes(
        which in any::<prop::sample::Index>(),
        sig_edits in proptest::collection::vec(prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, x)| ModuleEdit::FlipInFirstPayload(i, x)),
            (any::<usize>(), any::<usize>()).prop_map(|(i, j)| ModuleEdit::HugeLengthInFirstPayload(i, j)),
        ], 1..4),
        covered_flip in (any::<prop::sample::Index>(), 1u8..=255),
    ) {
        static SIGNED: OnceLock<Vec<&'static (String, Vec<u8>)>> = OnceLock::new();
        let signed = SIGNED.get_or_init(|| {
            all_modules().iter().filter(|(_, b)| a_valid(&judge(b.clone(), None))).collect()
        });
        prop_assert!(signed.len() >= 5, "A signs {} fixtures", signed.len());
        let (name, original) = *which.get(signed);
        let start = original.len() - covered_bytes(original).unwrap().len();
        let mut bytes = original.clone();
        let pos = start + covered_flip.0.index(original.len() - start);
        bytes[pos] ^= covered_flip.1;
        for e in &sig_edits {
            bytes = apply(&bytes, e);
        }
        let report = judge(bytes.clone(), None);
        prop_assert!(!a_valid(&report), "{}: valid for A after {:?} and flipping covered byte {}", name, sig_edits, pos);
    }

    /// Detached pairs: the module and/or the `.sig` mutated. A change to any section byte is
    /// never `valid`; a `valid` is confirmed by wsc-verify-core.
    #[test]
    fn mutated_detached_pairs(
        which in any::<prop::sample::Index>(),
        module_edits in proptest::collection::vec(module_edit(), 0..3),
        sig_edits in proptest::collection::vec(byte_edit(), 0..3),
    ) {
        let (name, module, sig) = which.get(detached_pairs());
        let mut m = module.clone();
        for e in &module_edits {
            m = apply(&m, e);
        }
        let mut s = sig.clone();
        for e in &sig_edits {
            s = apply_bytes(&s, e);
        }
        check_signature_decode(s.clone());
        let report = judge(m.clone(), Some(s.clone()));
        if a_valid(&report) && a_valid(&judge(module.clone(), Some(sig.clone()))) {
            prop_assert_eq!(m.get(8..), module.get(8..), "{}: valid for A after module edits {:?}", name, module_edits);
            prop_assert!(!oracle_applies(&report) || oracle_verifies_a(&m, Some(&s)), "{}: wsc-verify-core disagrees after {:?} {:?}", name, module_edits, sig_edits);
        }
    }

    /// Every key fixture (raw wsc, SPKI/PKCS#8 PEM and DER, OpenSSH) mutated byte-wise.
    #[test]
    fn mutated_key_files(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..4),
    ) {
        static KEYS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
        let (_, original) = which.get(KEYS.get_or_init(key_files));
        let mut bytes = original.clone();
        for e in &edits {
            bytes = apply_bytes(&bytes, e);
        }
        check_key_file("mutated.key", bytes.clone());
        check_classify(bytes);
    }

    /// The demo case file mutated byte-wise and line-wise (duplicated fields, non-UTF-8).
    #[test]
    fn mutated_case_file(
        edits in proptest::collection::vec(byte_edit(), 1..4),
        dup_line in any::<prop::sample::Index>(),
    ) {
        let mut bytes = case_file();
        for e in &edits {
            bytes = apply_bytes(&bytes, e);
        }
        check_case_file(bytes.clone());
        // A duplicated line duplicates a key or a table header.
        let text = String::from_utf8_lossy(&case_file()).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        let i = dup_line.index(lines.len());
        let mut dup = lines.clone();
        dup.insert(i, lines[i]);
        check_case_file(dup.join("\n").into_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(48)))]

    /// Any mutated fixture (module, detached signature, key file, case file) written to disk and
    /// given to `inspect` with key A: a rejection is one line naming the file, and for modules and
    /// signatures the byte offset; the status follows the exit contract.
    #[test]
    fn mutated_files_through_inspect(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(byte_edit(), 1..4),
    ) {
        static ALL: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            let mut v = modules();
            v.extend(detached_sigs());
            v.extend(key_files());
            v.push(("case.toml".into(), case_file()));
            v
        });
        let (name, original) = which.get(all);
        let mut bytes = original.clone();
        for e in &edits {
            bytes = apply_bytes(&bytes, e);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let p = path.clone();
        let out = bounded("inspect_one", move || {
            wsc_forensics::cli::inspect::inspect_one(&p, &keys_ab()[..1], None)
        });
        let shown = path.display().to_string();
        match &out.error {
            Some(e) => {
                prop_assert_eq!(out.status, 2);
                prop_assert!(e.starts_with(&format!("{shown}: ")), "{}", e);
                let line = wsc_forensics::cli::terminal::escape_for_terminal(e);
                prop_assert!(!line.contains('\n'));
                if name.ends_with(".wasm") || name.ends_with(".sig") {
                    prop_assert!(e.contains("byte offset ") || e.contains("limit"), "{}", e);
                }
            }
            None => prop_assert!(out.status <= 1),
        }
        if out.module.as_ref().is_some_and(ModuleReport::has_valid_signature) {
            prop_assert_eq!(out.status, 0);
            prop_assert!(oracle_verifies_a(&bytes, None) || !oracle_applies(out.module.as_ref().unwrap()));
        }
    }
}

/// Every prefix of every module, detached signature, key file and the case file.
#[test]
fn every_truncation_of_every_fixture() {
    let mut n = 0;
    for (name, b) in all_modules() {
        let full = judge(b.clone(), None);
        assert!(full.scan.error.is_none(), "{name}");
        let boundaries: Vec<usize> = std::iter::once(8)
            .chain(split_sections(b).unwrap().iter().map(|s| s.range.end))
            .collect();
        for cut in 0..b.len() {
            let r = judge(b[..cut].to_vec(), None);
            // A cut at a section boundary is a shorter well-formed module; anywhere else the
            // file ends inside the header or a section.
            assert_eq!(
                r.scan.error.is_none(),
                boundaries.contains(&cut),
                "{name} cut at {cut}"
            );
            // A boundary cut can give back exactly what A signed (a section appended after
            // signing, cut off): then the published verifier must agree.
            assert!(
                !a_valid(&r) || (boundaries.contains(&cut) && oracle_verifies_a(&b[..cut], None)),
                "{name} cut at {cut} still valid"
            );
            n += 1;
        }
    }
    for (_, m, s) in detached_pairs() {
        for cut in 0..s.len() {
            check_signature_decode(s[..cut].to_vec());
            assert!(!a_valid(&judge(m.clone(), Some(s[..cut].to_vec()))));
            n += 1;
        }
    }
    for (_, b) in key_files() {
        for cut in 0..b.len() {
            check_key_file("cut.key", b[..cut].to_vec());
            n += 1;
        }
    }
    let case = case_file();
    for cut in (0..case.len()).step_by(7) {
        check_case_file(case[..cut].to_vec());
        n += 1;
    }
    eprintln!("every_truncation_of_every_fixture: {n} truncations");
    assert!(n > 30_000, "{n}");
}

/// Every section-size field of every module fixture replaced by each hostile LEB128 length:
/// an error at that section's offset, nothing kept, nothing valid.
#[test]
fn hostile_lengths_at_every_section_size() {
    let mut n = 0;
    for (name, b) in all_modules() {
        let secs = split_sections(b).unwrap();
        for (i, s) in secs.iter().enumerate() {
            for (j, h) in hostile_lengths().iter().enumerate() {
                let mut m = b.clone();
                m.splice(s.size_field.clone(), h.clone());
                let r = judge(m.clone(), None);
                let e = r
                    .scan
                    .error
                    .clone()
                    .unwrap_or_else(|| panic!("{name} section {i} length {j}: accepted"));
                assert!(
                    e.offset >= s.range.start as u64,
                    "{name} section {i}: error at {} before the section at {}",
                    e.offset,
                    s.range.start
                );
                assert!(!a_valid(&r));
                n += 1;
            }
        }
    }
    eprintln!("hostile_lengths_at_every_section_size: {n} cases");
}

/// A padded (5-byte, same value) size field is read as the same section, and since the size
/// bytes of a covered section are signed bytes, the verdict is no longer `valid`.
#[test]
fn padded_section_size_reads_the_same_but_is_not_the_signed_bytes() {
    for (name, b) in all_modules() {
        let orig = judge(b.clone(), None);
        let secs = split_sections(b).unwrap();
        for (i, s) in secs.iter().enumerate() {
            if s.size_field.len() == 5 {
                continue;
            }
            let m = apply(b, &ModuleEdit::PaddedSectionSize(i));
            let r = judge(m.clone(), None);
            assert_eq!(r.scan.error, None, "{name} #{i}");
            assert_eq!(r.scan.section_count, orig.scan.section_count, "{name} #{i}");
            let grown = (5 - s.size_field.len()) as u64;
            assert_eq!(
                r.scan.sections[i].range.end - r.scan.sections[i].range.start,
                orig.scan.sections[i].range.end - orig.scan.sections[i].range.start + grown
            );
            if a_valid(&orig) && i > 0 {
                assert!(
                    !a_valid(&r),
                    "{name}: padded size of covered section #{i} still valid"
                );
            }
        }
    }
}

/// Non-UTF-8 custom-section names: listed as irregular, never taken for `signature`.
#[test]
fn non_utf8_section_names_are_irregular() {
    let mut n = 0;
    for (name, b) in all_modules() {
        let secs = split_sections(b).unwrap();
        for (i, s) in secs.iter().enumerate() {
            let Some(nm) = &s.name else { continue };
            if nm.is_empty() {
                continue;
            }
            let mut m = b.clone();
            m[nm.start] = 0xff;
            let r = judge(m, None);
            assert_eq!(r.scan.error, None, "{name} #{i}");
            assert!(r.scan.sections[i].name_irregular, "{name} #{i}");
            if i == 0 {
                assert!(r.scan.signature_section().is_none(), "{name}");
                assert!(!a_valid(&r), "{name}");
            }
            n += 1;
        }
    }
    assert!(n >= 20, "{n}");
}

/// Deeply nested input where a format nests: TOML arrays, inline tables and dotted keys in the
/// case file; DER SEQUENCEs in key files; JSON inside a keyless Rekor entry; PEM bodies.
#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    for depth in [100usize, 10_000, 200_000] {
        let arrays = format!(
            "case_id = \"x\"\nopen_items = {}{}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        check_case_file(arrays.into_bytes());
        let tables = format!("notes = {}1{}", "{a=".repeat(depth), "}".repeat(depth));
        check_case_file(tables.into_bytes());
        let dotted = format!("{} = 1", vec!["a"; depth].join("."));
        check_case_file(dotted.into_bytes());
        let headers = format!("[{}]", vec!["t"; depth].join("."));
        check_case_file(headers.into_bytes());
        let unclosed = "[".repeat(depth);
        check_case_file(format!("open_items = {unclosed}").into_bytes());

        // DER: nested SEQUENCEs with long-form lengths.
        let mut der = vec![0x05, 0x00];
        for _ in 0..depth.min(20_000) {
            let len = der.len();
            let mut outer = vec![0x30, 0x84];
            outer.extend_from_slice(&(len as u32).to_be_bytes());
            outer.extend_from_slice(&der);
            der = outer;
        }
        check_key_file("deep.der", der.clone());
        use base64::Engine as _;
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(&der)
        );
        check_key_file("deep.pem", pem.into_bytes());

        // Keyless payload whose Rekor entry is deeply nested JSON.
        let json = format!("{{\"uuid\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
        let mut p = vec![2u8, 2, 0x00, 0x00];
        p.extend_from_slice(&leb(json.len() as u64));
        p.extend_from_slice(json.as_bytes());
        p.extend_from_slice(&[0x20]);
        p.extend_from_slice(&[0u8; 32]);
        let decoded = keyless_section::decode(&p, 0).unwrap().0;
        let (report, _) = bounded("keyless analyse", move || {
            keyless_section::analyse(&decoded, None, None)
        });
        // serde_json stops at 128 levels.
        assert_eq!(
            report.rekor.problem.is_some(),
            depth > 128,
            "depth {depth}: {:?}",
            report.rekor.problem
        );
    }
}

/// The whole keyless fixture's payload edited field by field stays an error with an offset.
#[test]
fn keyless_fields_with_hostile_lengths() {
    let b = &all_modules()
        .iter()
        .find(|(n, _)| n == "keyless-replayed-rekor-entry.wasm")
        .unwrap()
        .1;
    let scan = Scanner::scan_bytes(b, ScanOptions::default());
    let payload = scan.signature_payload.clone().unwrap();
    let mut n = 0;
    for at in 0..payload.len().min(400) {
        for h in hostile_lengths() {
            let mut p = payload.clone();
            let end = (at + h.len()).min(p.len());
            p.splice(at..end, h.iter().copied());
            check_keyless_decode(p);
            n += 1;
        }
    }
    assert!(n > 2000);
}
