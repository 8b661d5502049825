//! Hostile-input sweep of the transparency parsers (Rekor entries of every shape, Sigstore
//! bundles, trust roots) and the audit-log reader: structure-aware mutations of every real JSON
//! fixture (a leaf changed, retyped, deleted or deeply nested; a key duplicated; arrays blown up to
//! 10,000 elements; non-UTF-8 and truncated text) and random bytes. Properties: no panic, no hang,
//! every rejection names the file; and a change to a signed field never leaves every check that
//! passed still passing. (Fixed hostile cases are in `tests/transparency_hostile.rs`.)
//!
//! Case counts: `WSC_FORENSICS_FUZZ_CASES=100000 cargo test --release --test hostile_transparency`.

use crate::common::fixture;
use crate::common::mutate::{bounded, cases, NON_UTF8};
use proptest::prelude::*;
use serde_json::Value;
use std::sync::OnceLock;
use wsc_forensics::transparency::{
    analyse_transparency_file, Artifact, CheckId, IdentityPolicy, TransparencyReport, TrustRoot,
};

/// A fixture with the artifact and trust root it verifies with.
struct Case {
    name: &'static str,
    artifact: Option<&'static str>,
    root: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "rekor/rekor-api-entry-538771042.reconstructed.json",
        artifact: None,
        root: None,
    },
    Case {
        name: "rekor/recent_entry_20251101_175321.json",
        artifact: None,
        root: None,
    },
    Case {
        name: "sigstore/bundle_v3_github.whl.sigstore",
        artifact: Some("sigstore/bundle_v3_github.whl"),
        root: None,
    },
    Case {
        name: "sigstore/Python-3.12.5.tgz.sigstore",
        artifact: None,
        root: None,
    },
    Case {
        name: "sigstore/bundle.txt.sigstore",
        artifact: Some("sigstore/bundle.txt"),
        root: Some("sigstore/staging-trusted_root.json"),
    },
    Case {
        name: "rekor/wsc-embedded-trusted_root.json",
        artifact: None,
        root: None,
    },
    Case {
        name: "sigstore/production-trusted_root.json",
        artifact: None,
        root: None,
    },
    Case {
        name: "sigstore/staging-trusted_root.json",
        artifact: None,
        root: None,
    },
    Case {
        name: "sigstore/trustedroot.v1.json",
        artifact: None,
        root: None,
    },
];

struct Loaded {
    bytes: Vec<u8>,
    doc: Value,
    artifact: Option<Vec<u8>>,
    root: TrustRoot,
    /// Checks that pass on the unmodified fixture.
    passed: Vec<CheckId>,
}

fn loaded() -> &'static [Loaded] {
    static L: OnceLock<Vec<Loaded>> = OnceLock::new();
    L.get_or_init(|| {
        CASES
            .iter()
            .map(|c| {
                let bytes = std::fs::read(fixture(c.name)).unwrap();
                let doc = serde_json::from_slice(&bytes).unwrap();
                let artifact = c.artifact.map(|a| std::fs::read(fixture(a)).unwrap());
                let root = match c.root {
                    Some(r) => TrustRoot::parse(r, &std::fs::read(fixture(r)).unwrap()).unwrap(),
                    None => TrustRoot::production(),
                };
                let rep = analyse(c.name, bytes.clone(), artifact.clone(), root.clone()).unwrap();
                let passed = passed(&rep);
                Loaded {
                    bytes,
                    doc,
                    artifact,
                    root,
                    passed,
                }
            })
            .collect()
    })
}

fn passed(rep: &TransparencyReport) -> Vec<CheckId> {
    rep.verification
        .checks
        .iter()
        .filter(|c| c.outcome.is_pass())
        .map(|c| c.id)
        .collect()
}

/// Analyses under the watchdog; checks that an error names the file on one line.
fn analyse(
    name: &'static str,
    bytes: Vec<u8>,
    artifact: Option<Vec<u8>>,
    root: TrustRoot,
) -> Result<TransparencyReport, String> {
    bounded("analyse_transparency_file", move || {
        let r = analyse_transparency_file(
            name,
            &bytes,
            artifact.as_deref().map(Artifact::Bytes),
            &root,
            &IdentityPolicy::default(),
        );
        let _ = TrustRoot::parse(name, &bytes).map_err(|e| {
            assert!(e.to_string().starts_with(&format!("{name}: ")), "{e}");
        });
        r.map_err(|e| {
            let t = e.to_string();
            assert!(
                t.starts_with(&format!("{name}: ")),
                "error without the file: {t}"
            );
            t
        })
    })
}

/// JSON pointers of every leaf (string, number, bool, null) and every container.
fn paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                paths(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                paths(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn all_paths(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    paths(v, String::new(), &mut out);
    out
}

#[derive(Clone, Debug)]
enum JsonEdit {
    /// Change one character of a string leaf (or +1 a number).
    Tweak(usize, usize),
    Retype(usize, u8),
    Delete(usize),
    /// Wrap a value in `depth` arrays.
    Nest(usize, usize),
    /// Replace an array by 10,000 copies of its first element.
    Blow(usize),
    /// Insert a duplicate key after an opening brace of the text.
    DuplicateKey(usize),
    NonUtf8(usize, usize),
    Truncate(usize),
    /// Replace a string by one of `len` bytes.
    Huge(usize, usize),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| JsonEdit::Tweak(a, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| JsonEdit::Retype(a, b)),
        1 => any::<usize>().prop_map(JsonEdit::Delete),
        1 => (any::<usize>(), prop_oneof![Just(2usize), Just(127), Just(129), Just(5000)])
            .prop_map(|(a, d)| JsonEdit::Nest(a, d)),
        1 => any::<usize>().prop_map(JsonEdit::Blow),
        1 => any::<usize>().prop_map(JsonEdit::DuplicateKey),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| JsonEdit::NonUtf8(a, b)),
        1 => any::<usize>().prop_map(JsonEdit::Truncate),
        1 => (any::<usize>(), prop_oneof![Just(0usize), Just(1 << 16), Just(17 << 20)])
            .prop_map(|(a, n)| JsonEdit::Huge(a, n)),
    ]
}

/// A different character of the same class (digit, lower, upper), so base64 and hex stay
/// well-formed but the value changes.
fn other_char(c: char) -> char {
    match c {
        '0'..='9' => (b'0' + (c as u8 - b'0' + 1) % 10) as char,
        'a'..='z' => (b'a' + (c as u8 - b'a' + 1) % 26) as char,
        'A'..='Z' => (b'A' + (c as u8 - b'A' + 1) % 26) as char,
        _ => 'A',
    }
}

/// Applies `edit`; returns the new text and, for a `Tweak`, the pointer of the changed leaf.
fn apply(doc: &Value, text: &[u8], edit: &JsonEdit) -> (Vec<u8>, Option<String>) {
    let ps = all_paths(doc);
    let pick = |i: usize| ps[i % ps.len()].clone();
    let mut d = doc.clone();
    let reserialise = |d: &Value| serde_json::to_vec(d).unwrap();
    match edit {
        JsonEdit::Tweak(i, j) => {
            let p = pick(*i);
            let v = d.pointer_mut(&p).unwrap();
            match v {
                Value::String(s) if s.len() > 3 => {
                    // Not the last characters: base64 padding bits may not change the bytes.
                    let chars: Vec<char> = s.chars().collect();
                    let k = j % (chars.len() - 3);
                    let mut c = chars.clone();
                    c[k] = other_char(c[k]);
                    *s = c.into_iter().collect();
                }
                Value::Number(n) => {
                    *v = match n.as_i64() {
                        Some(x) => Value::from(x.wrapping_add(1)),
                        None => Value::from(0),
                    }
                }
                _ => return (reserialise(&d), None),
            }
            (reserialise(&d), Some(p))
        }
        JsonEdit::Retype(i, t) => {
            *d.pointer_mut(&pick(*i)).unwrap() = match t % 5 {
                0 => Value::Null,
                1 => Value::from(-1),
                2 => Value::from(true),
                3 => Value::Array(vec![]),
                _ => Value::String("!!not base64!!".into()),
            };
            (reserialise(&d), None)
        }
        JsonEdit::Delete(i) => {
            let p = pick(*i);
            if let Some((parent, key)) = p.rsplit_once('/') {
                match d.pointer_mut(parent) {
                    Some(Value::Object(m)) => {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(a)) => {
                        if let Ok(k) = key.parse::<usize>() {
                            a.remove(k);
                        }
                    }
                    _ => {}
                }
            }
            (reserialise(&d), None)
        }
        JsonEdit::Nest(i, depth) => {
            let v = d.pointer_mut(&pick(*i)).unwrap();
            let inner = serde_json::to_string(v).unwrap();
            let mut text = reserialise(doc);
            // Text-level, so depths serde_json itself refuses can be written.
            let nested = format!("{}{inner}{}", "[".repeat(*depth), "]".repeat(*depth));
            if let Some(at) = find_sub(&text, inner.as_bytes()) {
                text.splice(at..at + inner.len(), nested.into_bytes());
            }
            (text, None)
        }
        JsonEdit::Blow(i) => {
            let arrays: Vec<String> = ps
                .iter()
                .filter(|p| matches!(d.pointer(p), Some(Value::Array(a)) if !a.is_empty()))
                .cloned()
                .collect();
            if let Some(p) = arrays.get(i % arrays.len().max(1)) {
                if let Some(Value::Array(a)) = d.pointer_mut(p) {
                    let first = a[0].clone();
                    // Bounded by the generator itself: 10,000 copies of at most 4 KiB.
                    if serde_json::to_vec(&first).unwrap().len() <= 4096 {
                        *a = vec![first; 10_000];
                    }
                }
            }
            (reserialise(&d), None)
        }
        JsonEdit::DuplicateKey(i) => {
            let braces: Vec<usize> = text
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'{')
                .map(|(k, _)| k)
                .collect();
            let mut t = text.to_vec();
            if !braces.is_empty() {
                let at = braces[i % braces.len()] + 1;
                t.splice(
                    at..at,
                    b"\"logIndex\":1,\"logIndex\":\"x\",".iter().copied(),
                );
            }
            (t, None)
        }
        JsonEdit::NonUtf8(i, j) => {
            let mut t = text.to_vec();
            let at = i % (t.len() + 1);
            t.splice(at..at, NON_UTF8[j % NON_UTF8.len()].iter().copied());
            (t, None)
        }
        JsonEdit::Truncate(i) => (text[..i % (text.len() + 1)].to_vec(), None),
        JsonEdit::Huge(i, n) => {
            let strings: Vec<String> = ps
                .iter()
                .filter(|p| matches!(d.pointer(p), Some(Value::String(_))))
                .cloned()
                .collect();
            if let Some(p) = strings.get(i % strings.len().max(1)) {
                *d.pointer_mut(p).unwrap() = Value::String("A".repeat(*n));
            }
            (reserialise(&d), None)
        }
    }
}

fn find_sub(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Leaves whose value a signature, the SET, the inclusion proof or the checkpoint covers.
fn is_signed_field(pointer: &str) -> bool {
    let last = pointer.rsplit('/').next().unwrap_or("");
    let parent_is_hashes = pointer.contains("/hashes/");
    parent_is_hashes
        || [
            "body",
            "canonicalizedBody",
            "signedEntryTimestamp",
            "signed_entry_timestamp",
            "integratedTime",
            "integrated_time",
            "logIndex",
            "log_index",
            "rootHash",
            "root_hash",
            "signature",
            "rawBytes",
            "envelope",
            "digest",
        ]
        .contains(&last)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn mutated_transparency_fixtures(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec(json_edit(), 1..3),
    ) {
        let i = which.index(CASES.len());
        let (case, l) = (&CASES[i], &loaded()[i]);
        let mut text = l.bytes.clone();
        let mut doc = l.doc.clone();
        let mut tweaked = Vec::new();
        for e in &edits {
            // Keep generated inputs around the parsers' 32 MiB input limit, not far beyond it.
            if text.len() > 40 << 20 {
                break;
            }
            let (t, p) = apply(&doc, &text, e);
            text = t;
            tweaked.extend(p);
            match serde_json::from_slice::<Value>(&text) {
                Ok(d) => doc = d,
                Err(_) => break,
            }
        }
        let r = analyse(case.name, text.clone(), l.artifact.clone(), l.root.clone());
        // Verdict safety: a signed field changed, everything that passed still passing, is a
        // forged pass.
        if let (Ok(rep), true) = (&r, tweaked.iter().any(|p| is_signed_field(p))) {
            if !l.passed.is_empty() && text != l.bytes {
                let now = passed(rep);
                prop_assert!(
                    l.passed.iter().any(|c| !now.contains(c)),
                    "{}: {:?} changed signed field(s) {:?} and every check still passes: {:?}",
                    case.name, edits, tweaked, now
                );
            }
        }
    }

    #[test]
    fn random_bytes_to_transparency_and_audit_parsers(
        prefix in prop_oneof![Just(Vec::new()), Just(b"{".to_vec()), Just(b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",".to_vec()), Just(b"[".to_vec())],
        tail in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&tail);
        let _ = analyse("random.json", bytes.clone(), None, TrustRoot::production());
        let log = bounded("parse_audit_log", move || wsc_forensics::analyse::audit_log::parse_audit_log(&bytes));
        prop_assert!(log.malformed.len() as u64 <= log.malformed_count);
    }

    /// The audit-log fixtures with lines cut, duplicated, retyped, nested and made non-UTF-8.
    #[test]
    fn mutated_audit_logs(
        which in 0usize..2,
        cut in any::<prop::sample::Index>(),
        inserts in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![
            Just(b"\xff\xfe\n".to_vec()),
            Just(b"{\"event_type\":".to_vec()),
            Just(format!("{}1{}\n", "[".repeat(5000), "]".repeat(5000)).into_bytes()),
            Just(b"\n\n\r\n".to_vec()),
            Just(b"{\"timestamp\":12,\"event_type\":[],\"target\":\"wsc::audit\"}\n".to_vec()),
        ]), 0..4),
    ) {
        let name = ["wsc/audit/audit-all-event-types.jsonl", "wsc/audit/audit-keyless-verify.jsonl"][which];
        let original = std::fs::read(fixture(name)).unwrap();
        let good = wsc_forensics::analyse::audit_log::parse_audit_log(&original);
        let mut bytes = original.clone();
        for (at, ins) in &inserts {
            let k = at.index(bytes.len() + 1);
            bytes.splice(k..k, ins.iter().copied());
        }
        bytes.truncate(cut.index(bytes.len() + 1).max(if inserts.is_empty() { 0 } else { bytes.len() }));
        let b = bytes.clone();
        let log = bounded("parse_audit_log", move || wsc_forensics::analyse::audit_log::parse_audit_log(&b));
        prop_assert!(log.malformed.len() as u64 <= log.malformed_count);
        // Nothing is invented: never more events than lines.
        let lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
        prop_assert!(log.events.len() as u64 + log.events_not_kept + log.malformed_count <= lines);
        if bytes == original {
            prop_assert_eq!(log.events.len(), good.events.len());
        }
    }
}

/// Every truncation of the smallest Rekor entry and bundle: an error naming the file, never a
/// partial verdict that passes everything.
#[test]
fn every_truncation_of_a_rekor_entry_and_a_bundle() {
    let mut n = 0;
    for i in [0usize, 2] {
        let (case, l) = (&CASES[i], &loaded()[i]);
        for cut in (0..l.bytes.len()).step_by(1 + l.bytes.len() / 1500) {
            let r = analyse(
                case.name,
                l.bytes[..cut].to_vec(),
                l.artifact.clone(),
                l.root.clone(),
            );
            assert!(r.is_err(), "{} cut at {cut} accepted", case.name);
            n += 1;
        }
    }
    assert!(n > 2000, "{n}");
}
