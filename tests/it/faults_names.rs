//! Awkward source file names, as modules and as attachments: not UTF-8, a newline, a carriage
//! return, `%`, a backslash, 255 bytes long. Each is collected; evidence.json and custody.jsonl
//! record the exact name (`raw_hex` when it is not UTF-8); every manifest line is one well-formed
//! `<sha256>  <path>` line naming an entry of the zip; bagit-python validates the unzipped bag;
//! `verify` exits 0.

use crate::common::bin;

use crate::common::fixture;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use wsc_forensics::bundle::open_bundle;
use wsc_forensics::model::evidence::RecordedPath;

fn long_name(fill: u8, ext: &str) -> Vec<u8> {
    let mut n = vec![fill; 255 - ext.len()];
    n.extend_from_slice(ext.as_bytes());
    assert_eq!(n.len(), 255);
    n
}

/// (file name bytes, content) of the awkward sources.
fn awkward() -> Vec<(Vec<u8>, Vec<u8>)> {
    let module = |m: &str| std::fs::read(fixture(&format!("wsc/modules/{m}"))).unwrap();
    vec![
        (b"mod\xffule.wasm".to_vec(), module("signed-a.wasm")),
        (b"new\nline.wasm".to_vec(), module("signed-a-b.wasm")),
        (b"100%.wasm".to_vec(), module("base.wasm")),
        (b"back\\slash.wasm".to_vec(), module("detached-a.wasm")),
        (long_name(b'm', ".wasm"), module("component.wasm")),
        (b"no\xfete\xff.txt".to_vec(), b"latin-1 name\n".to_vec()),
        (b"line1\nline2.txt".to_vec(), b"newline in name\n".to_vec()),
        (b"carriage\rreturn.txt".to_vec(), b"CR in name\n".to_vec()),
        (b"50% done.txt".to_vec(), b"percent in name\n".to_vec()),
        (
            b"C:\\evidence\\notes.txt".to_vec(),
            b"backslashes\n".to_vec(),
        ),
        (long_name(b'n', ".txt"), b"255 bytes of name\n".to_vec()),
    ]
}

/// The exact bytes a recorded path stands for.
fn recorded_bytes(p: &RecordedPath) -> Vec<u8> {
    match &p.raw_hex {
        Some(h) => hex::decode(h).unwrap(),
        None => p.text.as_bytes().to_vec(),
    }
}

fn collect_and_check(dir: &Path, files: &[(Vec<u8>, Vec<u8>)]) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir(&src).unwrap();
    let mut paths: Vec<PathBuf> = Vec::new();
    for (name, bytes) in files {
        let p = src.join(OsStr::from_bytes(name));
        std::fs::write(&p, bytes).unwrap();
        paths.push(p);
    }
    let out = dir.join("names.zip");
    let o = bin()
        .args(["collect", "-q", "--case-id", "IR-NAMES", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        o.status.code().unwrap() < 2,
        "collect failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let c = open_bundle(&out).unwrap();
    assert!(
        c.evidence.not_collected.is_empty(),
        "{:?}",
        c.evidence.not_collected
    );
    // Lossless in evidence.json and custody.jsonl.
    let recorded: HashSet<Vec<u8>> = c
        .evidence
        .items
        .iter()
        .map(|i| recorded_bytes(&i.source))
        .collect();
    let custody: HashSet<Vec<u8>> = c
        .custody
        .iter()
        .filter_map(|e| e.source.as_ref().map(recorded_bytes))
        .collect();
    for p in &paths {
        let raw = p.as_os_str().as_bytes().to_vec();
        assert!(recorded.contains(&raw), "{p:?} not recorded exactly");
        assert!(custody.contains(&raw), "{p:?} not in custody exactly");
    }
    for i in &c.evidence.items {
        if i.source.text.contains('\u{fffd}') {
            assert!(i.source.raw_hex.is_some(), "{:?} lost its bytes", i.source);
        }
    }
    // Manifest lines: `<64 hex>  data/<path>`, one per payload entry, each naming a zip entry.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: HashSet<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    let mut manifest = String::new();
    zip.by_name("IR-NAMES/manifest-sha256.txt")
        .unwrap()
        .read_to_string(&mut manifest)
        .unwrap();
    let payload = names
        .iter()
        .filter(|n| n.starts_with("IR-NAMES/data/"))
        .count();
    assert_eq!(manifest.lines().count(), payload, "{manifest}");
    for line in manifest.lines() {
        let (hash, path) = line.split_once("  ").unwrap();
        assert!(
            hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{line:?}"
        );
        assert!(path.starts_with("data/"), "{line:?}");
        assert!(!path.contains('\r'), "{line:?}");
        // RFC 8493 encodes %, CR and LF; our bag paths avoid them altogether.
        let decoded = path
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%");
        assert!(
            names.contains(&format!("IR-NAMES/{decoded}")),
            "manifest names a missing entry: {line:?}"
        );
        for comp in decoded.split('/') {
            assert!(
                comp.len() <= 255,
                "a path component too long to unpack: {comp}"
            );
        }
    }
    // `verify` exits 0.
    let v = bin().arg("verify").arg(&out).output().unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "verify: {}{}",
        String::from_utf8_lossy(&v.stdout),
        String::from_utf8_lossy(&v.stderr)
    );
    // bagit-python validates the unpacked bag.
    if !crate::common::bagit_available() {
        return out;
    }
    let unz = dir.join("unz");
    let st = Command::new("unzip")
        .arg("-q")
        .arg(&out)
        .arg("-d")
        .arg(&unz)
        .status()
        .unwrap();
    assert!(st.success(), "unzip failed");
    let o = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(unz.join("IR-NAMES"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "bagit-python rejected the bag: {err}");
    assert!(err.contains("is valid"), "{err}");
    out
}

#[test]
fn awkward_names_are_collected_recorded_exactly_and_the_bag_validates() {
    let dir = tempfile::tempdir().unwrap();
    collect_and_check(dir.path(), &awkward());
}

/// Two attachments whose 255-byte names become the same bag name (`%` and `_` both end up as
/// `_`): the second is told apart by a prefix; and a 255-byte name of Latin-1 bytes, each of
/// which becomes a 3-byte U+FFFD. The bag must still unpack on a filesystem whose names are at
/// most 255 bytes.
#[test]
fn long_attachment_names_still_unpack() {
    let dir = tempfile::tempdir().unwrap();
    let mut pct = long_name(b'x', ".txt");
    pct[0] = b'%';
    let mut under = long_name(b'x', ".txt");
    under[0] = b'_';
    collect_and_check(
        dir.path(),
        &[
            (pct, b"first\n".to_vec()),
            (under, b"second\n".to_vec()),
            (long_name(0xe9, ".txt"), b"latin-1\n".to_vec()),
        ],
    );
}

/// Names that one filesystem keeps apart and another merges (case, Unicode normalisation) or
/// trims (a trailing space or dot): each gets its own portable bag name, unique after case
/// folding and NFC, never ending in whitespace; bagit-python validates the unpacked bag (it
/// strips a manifest line's trailing space, so a name ending in one used to fail).
#[test]
fn names_that_collide_elsewhere_get_unique_portable_bag_names() {
    use unicode_normalization::UnicodeNormalization;
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(Vec<u8>, Vec<u8>)> = [
        "Case.TXT",
        "case.txt",
        "CASE.txt",
        "caf\u{e9}.md",
        "cafe\u{301}.md",
        "stra\u{df}e.txt",
        "STRASSE.TXT",
        "notes ",
        "notes",
        "report.",
        "trailing tab\t",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| (n.as_bytes().to_vec(), format!("content {i}\n").into_bytes()))
    .collect();
    let out = collect_and_check(dir.path(), &files);
    let zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let mut folded = HashSet::new();
    let mut case_entries = 0;
    for name in zip.file_names() {
        let name = name.unwrap();
        let file = name.rsplit('/').next().unwrap();
        assert!(
            !file.ends_with(char::is_whitespace),
            "{name:?} ends in whitespace"
        );
        assert_eq!(name.nfc().collect::<String>(), name, "{name:?} is not NFC");
        let key: String = name.nfc().collect::<String>().to_uppercase().to_lowercase();
        assert!(
            folded.insert(key),
            "{name:?} collides after case folding and NFC"
        );
        case_entries += name.contains("/data/case/") as usize;
    }
    assert_eq!(case_entries, files.len());
}
