//! Issue #12: `verify` says "intact" only when every zip reader sees the same intact bag. A
//! corpus of mutated bundles (every class of trick from the issue, then random edits of zip
//! structure fields) goes through `verify`; for each one either `verify` rejects it, or Python
//! `zipfile`, Info-ZIP `unzip`, libarchive `bsdtar` (seeking and streaming) and 7-Zip all
//! extract exactly the bytes `verify` judged. The zip parsing below is this test's own, so the
//! mutations do not trust the code under test.

use super::common::{bin, oracle_available};
use crate::common::zip_bytes::{crc32, le16, le32, put16, put32};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use wsc_forensics::bundle::{verify_bundle, Verdict, VerifyOptions};

/// The zip as this test reads it: end record offset, central records (offset, length), and
/// each record's local header offset.
#[derive(Clone, Debug)]
struct Zip {
    eocd: usize,
    cd_start: usize,
    /// (record offset, record length, local header offset)
    records: Vec<(usize, usize, usize)>,
}

fn parse(b: &[u8]) -> Zip {
    try_parse(b).expect("a well-formed zip")
}

/// The zip's parts, if this test's parse can read it (a mutation may have broken it).
fn try_parse(b: &[u8]) -> Option<Zip> {
    let eocd = b.len().checked_sub(22)?;
    if b.get(eocd..eocd + 4)? != b"PK\x05\x06" {
        return None;
    }
    let cd_start = le32(b, eocd + 16) as usize;
    let count = le16(b, eocd + 10) as usize;
    let mut records = Vec::new();
    let mut at = cd_start;
    for _ in 0..count {
        if b.get(at..at + 4)? != b"PK\x01\x02" || at + 46 > b.len() {
            return None;
        }
        let len =
            46 + le16(b, at + 28) as usize + le16(b, at + 30) as usize + le16(b, at + 32) as usize;
        // A record or local header an earlier edit pushed past the end is not a zip this
        // test can edit further (the directory's name length may now be 65535).
        let local = le32(b, at + 42) as usize;
        if at + len > b.len() || local.checked_add(30 + le16(b, at + 28) as usize)? > b.len() {
            return None;
        }
        records.push((at, len, local));
        at += len;
    }
    Some(Zip {
        eocd,
        cd_start,
        records,
    })
}

fn local_len(b: &[u8], at: usize) -> usize {
    30 + le16(b, at + 26) as usize + le16(b, at + 28) as usize + le32(b, at + 18) as usize
}

/// Inserts `bytes` at `at`, shifting every offset (local header offsets, directory start) that
/// lies at or after it, so the zip stays well formed for readers that follow offsets.
fn insert_shifted(b: &[u8], at: usize, bytes: &[u8]) -> Vec<u8> {
    let z = parse(b);
    let mut out = b[..at].to_vec();
    out.extend_from_slice(bytes);
    out.extend_from_slice(&b[at..]);
    let shift = |v: usize| if v >= at { v + bytes.len() } else { v };
    let moved = |v: usize| shift(v);
    for &(rec, _, local) in &z.records {
        put32(&mut out, moved(rec) + 42, shift(local) as u32);
    }
    let eocd = moved(z.eocd);
    put32(&mut out, eocd + 16, shift(z.cd_start) as u32);
    out
}

/// The base bundle: a few real inputs collected at a fixed time.
fn base() -> &'static (PathBuf, Vec<u8>) {
    static BASE: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys");
        let out = dir.join("case.zip");
        let st = bin()
            .args([
                "collect",
                "-q",
                "--case-id",
                "agree",
                "--collected-at",
                "2026-01-01T00:00:00Z",
            ])
            .arg("-o")
            .arg(&out)
            .arg(&inputs)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let bytes = std::fs::read(&out).unwrap();
        (dir, bytes)
    })
}

/// Every file an extraction produced, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// What our zip library (the one `verify` hashes through) reads from the file.
fn judged(path: &Path) -> BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut za = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..za.len() {
        let mut f = za.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        out.insert(String::from_utf8_lossy(f.name_raw()).into_owned(), bytes);
    }
    out
}

/// The independent readers, each as (name, command extracting `zip` into `dir`).
type Reader = (&'static str, fn(&Path, &Path) -> Command);

fn readers() -> Vec<Reader> {
    let mut out: Vec<Reader> = Vec::new();
    if oracle_available(
        "python3",
        &["-c", "import zipfile"],
        "apt-get install python3",
    ) {
        out.push(("python zipfile", |z, d| {
            let mut c = Command::new("python3");
            c.args([
                "-c",
                "import sys,zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
            ]);
            c.arg(z).arg(d);
            c
        }));
    }
    if oracle_available("unzip", &["-v"], "apt-get install unzip") {
        out.push(("Info-ZIP unzip", |z, d| {
            let mut c = Command::new("unzip");
            c.args(["-qq", "-o"]).arg(z).arg("-d").arg(d);
            c
        }));
    }
    if oracle_available("bsdtar", &["--version"], "apt-get install libarchive-tools") {
        out.push(("bsdtar (seeking)", |z, d| {
            let mut c = Command::new("bsdtar");
            c.arg("-xf").arg(z).arg("-C").arg(d);
            c
        }));
        out.push(("bsdtar (streaming)", |z, d| {
            let mut c = Command::new("sh");
            c.args(["-c", "bsdtar -xf - -C \"$2\" < \"$1\"", "sh"])
                .arg(z)
                .arg(d);
            c
        }));
    }
    if oracle_available("7zz", &["i"], "apt-get install 7zip") {
        out.push(("7-Zip", |z, d| {
            let mut c = Command::new("7zz");
            c.args(["x", "-y", "-bso0", "-bsp0"])
                .arg(format!("-o{}", d.display()))
                .arg(z);
            c
        }));
    }
    out
}

/// Verifies `bytes`; when `verify` accepts them, every reader must extract exactly what it
/// judged. Returns whether `verify` accepted.
fn check(label: &str, bytes: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.zip");
    std::fs::write(&path, bytes).unwrap();
    let report = verify_bundle(&path, &VerifyOptions::default());
    if report.verdict != Verdict::Intact {
        return false;
    }
    let ours = judged(&path);
    for (name, reader) in readers() {
        let out = dir.path().join(name.replace(' ', "_"));
        std::fs::create_dir_all(&out).unwrap();
        // A reader that fails outright extracts nothing: that is disagreement too.
        let _ = reader(&path, &out).output().unwrap();
        assert_eq!(
            tree(&out),
            ours,
            "{label}: verify said intact but {name} extracts other bytes"
        );
    }
    true
}

fn must_reject(label: &str, bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.zip");
    std::fs::write(&path, &bytes).unwrap();
    let report = verify_bundle(&path, &VerifyOptions::default());
    eprintln!(
        "{label}: {:?}",
        report.problems.first().map(ToString::to_string)
    );
    assert!(
        !check(label, &bytes),
        "{label}: verify accepted a bundle other readers read otherwise"
    );
}

/// Central directory record of the entry whose name ends with `suffix`.
fn record_of(b: &[u8], suffix: &str) -> (usize, usize, usize) {
    parse(b)
        .records
        .into_iter()
        .find(|&(rec, _, _)| {
            let n = le16(b, rec + 28) as usize;
            b[rec + 46..rec + 46 + n].ends_with(suffix.as_bytes())
        })
        .unwrap()
}

#[test]
fn the_untouched_bundle_verifies_and_every_reader_agrees() {
    assert!(
        check("untouched", &base().1),
        "the untouched bundle must verify"
    );
}

#[test]
fn every_class_of_trick_from_the_issue_is_rejected() {
    let b = &base().1;
    let z = parse(b);
    let mut classes: Vec<(&str, Vec<u8>)> = Vec::new();

    // A central record beyond the end record's count, inside its declared size.
    let (rec, len, _) = z.records[0];
    let mut m = b[..z.eocd].to_vec();
    m.extend_from_slice(&b[rec..rec + len]);
    m.extend_from_slice(&b[z.eocd..]);
    let e = m.len() - 22;
    put32(&mut m, e + 12, le32(b, z.eocd + 12) + len as u32);
    classes.push(("record beyond the count", m));

    // A Zip64 end record and locator the classic end record does not call for.
    let mut m = b[..z.eocd].to_vec();
    let z64 = m.len();
    let mut rec64 = b"PK\x06\x06".to_vec();
    rec64.extend_from_slice(&44u64.to_le_bytes());
    rec64.extend_from_slice(&[45, 3, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let n = z.records.len() as u64;
    for v in [n, n, le32(b, z.eocd + 12) as u64, 0] {
        rec64.extend_from_slice(&v.to_le_bytes());
    }
    m.extend_from_slice(&rec64);
    m.extend_from_slice(b"PK\x06\x07\0\0\0\0");
    m.extend_from_slice(&(z64 as u64).to_le_bytes());
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&b[z.eocd..]);
    classes.push(("Zip64 end record not called for", m));

    // Bytes before the first local header, offsets not shifted (zip libraries add the prefix)...
    let mut m = b"JUNKJUNK".to_vec();
    m.extend_from_slice(b);
    classes.push(("prepended bytes, offsets unshifted", m));
    // ...and with every offset shifted (a self-extractor layout).
    classes.push((
        "prepended bytes, offsets shifted",
        insert_shifted(b, 0, b"JUNKJUNK"),
    ));

    // A gap between two entries.
    let second = z.records[1].2;
    classes.push(("gap between entries", insert_shifted(b, second, &[0u8; 16])));

    // A local entry no record points at (a copy of the first entry, before the directory).
    let first = z.records[0].2;
    let copy = b[first..first + local_len(b, first)].to_vec();
    classes.push(("orphan local entry", insert_shifted(b, z.cd_start, &copy)));

    // Local header fields that differ from the central record.
    for (label, at, v) in [
        ("local name", 30usize, b'X'),
        ("local CRC", 14, 0x55),
        ("local size", 22, 0x7f),
        ("local flags", 6, 0x08),
        ("local time", 10, 0x01),
    ] {
        let mut m = b.clone();
        let local = z.records[2].2;
        m[local + at] ^= v;
        classes.push((label, m));
    }

    // The offset moved into a Zip64 extra field the comparison used to skip.
    let (rec, len, local) = record_of(b, "evidence.json");
    let mut extra = vec![1, 0, 8, 0];
    extra.extend_from_slice(&(local as u64).to_le_bytes());
    let mut r = b[rec..rec + len].to_vec();
    put32(&mut r, 42, u32::MAX);
    let x_len = le16(&r, 30) + extra.len() as u16;
    put16(&mut r, 30, x_len);
    let n = 46 + le16(&r, 28) as usize;
    r.splice(n..n, extra);
    classes.push((
        "offset in a Zip64 extra field",
        replace_record(b, rec, len, &r),
    ));

    // An Info-ZIP Unicode Path extra field renaming an entry to a hostile path.
    let (rec, len, _) = record_of(b, "bagit.txt");
    let path = b"../../../etc/evil";
    let mut extra = vec![0x75, 0x70];
    extra.extend_from_slice(&((5 + path.len()) as u16).to_le_bytes());
    extra.push(1);
    let n = le16(b, rec + 28) as usize;
    extra.extend_from_slice(&crc32(&b[rec + 46..rec + 46 + n]).to_le_bytes());
    extra.extend_from_slice(path);
    let mut r = b[rec..rec + len].to_vec();
    let x_len = le16(&r, 30) + extra.len() as u16;
    put16(&mut r, 30, x_len);
    r.splice(46 + n..46 + n, extra);
    classes.push(("Unicode Path extra field", replace_record(b, rec, len, &r)));

    // An end-record comment, a changed count, an unreadable record.
    let mut m = b.clone();
    put16(&mut m, z.eocd + 20, 4);
    m.extend_from_slice(b"note");
    classes.push(("archive comment", m));
    let mut m = b.clone();
    put16(&mut m, z.eocd + 8, le16(b, z.eocd + 8) - 1);
    put16(&mut m, z.eocd + 10, le16(b, z.eocd + 10) - 1);
    classes.push(("end record count short by one", m));
    let mut m = b.clone();
    m[z.records[3].0] = b'Q';
    classes.push(("unreadable central record", m));

    let total = classes.len();
    for (label, m) in classes {
        must_reject(label, m);
    }
    eprintln!("{total} named tricks, all rejected");
}

/// Replaces the central record at `rec` (`len` bytes) with `new`, fixing the directory size.
fn replace_record(b: &[u8], rec: usize, len: usize, new: &[u8]) -> Vec<u8> {
    let mut m = b[..rec].to_vec();
    m.extend_from_slice(new);
    m.extend_from_slice(&b[rec + len..]);
    let e = m.len() - 22;
    let size = le32(&m, e + 12) as i64 + new.len() as i64 - len as i64;
    put32(&mut m, e + 12, size as u32);
    m
}

/// Every structure field of the file: (offset, width) of each fixed field of each local
/// header, central record and the end record.
fn structure_fields(b: &[u8]) -> Vec<(usize, usize)> {
    let z = parse(b);
    let mut out = Vec::new();
    let local = [
        (4, 2),
        (6, 2),
        (8, 2),
        (10, 2),
        (12, 2),
        (14, 4),
        (18, 4),
        (22, 4),
        (26, 2),
        (28, 2),
    ];
    let central = [
        (4, 2),
        (6, 2),
        (8, 2),
        (10, 2),
        (12, 2),
        (14, 2),
        (16, 4),
        (20, 4),
        (24, 4),
        (28, 2),
        (30, 2),
        (32, 2),
        (34, 2),
        (36, 2),
        (38, 4),
        (42, 4),
    ];
    for &(rec, _, l) in &z.records {
        out.extend(local.iter().map(|&(o, w)| (l + o, w)));
        out.extend(central.iter().map(|&(o, w)| (rec + o, w)));
        out.push((rec + 46, 1)); // first name byte
    }
    out.extend(
        [(4, 2), (6, 2), (8, 2), (10, 2), (12, 4), (16, 4), (20, 2)].map(|(o, w)| (z.eocd + o, w)),
    );
    out
}

#[derive(Debug, Clone)]
enum Edit {
    /// Set field `i` (of [`structure_fields`]) to a value (boundary values mostly).
    Field(usize, u32),
    /// Insert bytes at a position (per mille of the length), offsets shifted or not.
    Insert(u16, Vec<u8>, bool),
    /// Add an extra field (id, data) to central record `i`.
    Extra(usize, u16, Vec<u8>),
    /// Set one name byte of record `i` to a hostile byte.
    Name(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let value = prop_oneof![
        Just(0u32),
        Just(1),
        Just(0xFFFF),
        Just(u32::MAX),
        Just(0x8000_0000),
        any::<u32>()
    ];
    prop_oneof![
        3 => (any::<usize>(), value).prop_map(|(i, v)| Edit::Field(i, v)),
        1 => (0u16..=1000, prop::collection::vec(any::<u8>(), 1..40), any::<bool>())
            .prop_map(|(p, b, s)| Edit::Insert(p, b, s)),
        1 => (any::<usize>(), prop_oneof![Just(0x0001u16), Just(0x7075), Just(0x5455), any::<u16>()],
              prop::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(i, id, d)| Edit::Extra(i, id, d)),
        1 => (any::<usize>(), prop_oneof![Just(b'/'), Just(b'\\'), Just(0u8), Just(0x1b), Just(b'.')])
            .prop_map(|(i, c)| Edit::Name(i, c)),
    ]
}

fn apply(b: &[u8], e: &Edit) -> Vec<u8> {
    let z = parse(b);
    match e {
        Edit::Field(i, v) => {
            let fields = structure_fields(b);
            let (at, w) = fields[i % fields.len()];
            let mut m = b.to_vec();
            match w {
                1 => m[at] = *v as u8,
                2 => put16(&mut m, at, *v as u16),
                _ => put32(&mut m, at, *v),
            }
            m
        }
        Edit::Insert(p, bytes, shifted) => {
            let at = b.len() * usize::from(*p) / 1000;
            if *shifted && at <= z.cd_start {
                insert_shifted(b, at, bytes)
            } else {
                let mut m = b[..at].to_vec();
                m.extend_from_slice(bytes);
                m.extend_from_slice(&b[at..]);
                m
            }
        }
        Edit::Extra(i, id, data) => {
            let (rec, len, _) = z.records[i % z.records.len()];
            let mut r = b[rec..rec + len].to_vec();
            let n = 46 + le16(&r, 28) as usize;
            let mut x = id.to_le_bytes().to_vec();
            x.extend_from_slice(&(data.len() as u16).to_le_bytes());
            x.extend_from_slice(data);
            let x_len = le16(&r, 30) + x.len() as u16;
            put16(&mut r, 30, x_len);
            r.splice(n..n, x);
            replace_record(b, rec, len, &r)
        }
        Edit::Name(i, c) => {
            let (rec, _, local) = z.records[i % z.records.len()];
            let n = le16(b, rec + 28) as usize;
            let mut m = b.to_vec();
            // The same byte in both copies, so only the name rules can catch it.
            m[rec + 46 + n / 2] = *c;
            m[local + 30 + n / 2] = *c;
            m
        }
    }
}

/// The base bundle with `edits` applied in turn; later edits apply only while this test's own
/// parse still reads the zip.
fn apply_all(edits: &[Edit]) -> Vec<u8> {
    let mut m = base().1.clone();
    for e in edits {
        if try_parse(&m).is_some() {
            m = apply(&m, e);
        }
    }
    m
}

/// A case proptest found: a directory name length set to 65535 runs the record past the end of
/// the file, which this test's own parse must refuse before the next edit indexes into it.
#[test]
fn an_edit_after_a_name_length_past_the_end_is_not_applied() {
    let edits = [
        Edit::Field(12802065485716519480, 0xFFFF),
        Edit::Name(833720252300046543, b'/'),
    ];
    let m = apply_all(&edits);
    check(&format!("{edits:?}"), &m);
}

#[test]
fn random_structure_edits_are_rejected_or_read_alike_by_every_reader() {
    use proptest::test_runner::{Config, TestRunner};
    let config = Config {
        cases: super::common::mutate::cases(96),
        failure_persistence: None,
        ..Config::default()
    };
    let (tried, accepted) = (AtomicUsize::new(0), AtomicUsize::new(0));
    TestRunner::new(config)
        .run(&prop::collection::vec(edit(), 1..3), |edits| {
            let m = apply_all(&edits);
            tried.fetch_add(1, Ordering::Relaxed);
            if check(&format!("{edits:?}"), &m) {
                accepted.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "zip agreement: {} random structure mutations tried, {} accepted by verify and read alike by every reader",
        tried.into_inner(),
        accepted.into_inner()
    );
}
