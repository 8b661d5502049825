//! `verify` holds no metadata file whole: a counting global allocator measures the most heap
//! held at once while bundles are verified whose evidence.json, custody.jsonl and manifest
//! grow, and the peak must not grow with them. Own test binary, because the allocator is
//! process-wide; the tests take a lock so that only one measures at a time.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use wsc_forensics::bundle::{verify_bundle, Verdict, VerifyOptions};

const MIB: u64 = 1 << 20;
const ROOT: &str = "MEM";

use crate::counting_alloc::{peak_while, ONE_AT_A_TIME};

fn hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Sizes of the metadata entries of a generated bundle.
struct Made {
    zip: PathBuf,
    evidence: u64,
    custody: u64,
    manifest: u64,
}

/// Writes an intact bundle of `files` payload files (names `name_len` bytes long), whose
/// evidence items and custody lines each carry `pad` bytes that verify reads past.
fn make_bundle(dir: &Path, files: usize, name_len: usize, pad: usize) -> Made {
    let padding = "p".repeat(pad);
    let mut payload: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            let stem = format!("{i:08}");
            let name = format!("data/f/{stem}{}", "n".repeat(name_len.saturating_sub(15)));
            (name, format!("file {i}").into_bytes())
        })
        .collect();
    let mut items = Vec::new();
    let mut custody = String::new();
    for (i, (name, bytes)) in payload.iter().enumerate() {
        items.push(format!(
            r#"{{"source":{{"text":"/src/{i}"}},"kind":"attachment","sha256":"{}","bag_path":"{name}","analysis":{{"pad":"{padding}","deep":[[{{"a":[1,2,3]}}]]}},"findings":[]}}"#,
            hex(bytes)
        ));
        custody.push_str(&format!(
            r#"{{"seq":{i},"time":"2026-01-01T00:00:00+00:00","action":"collection-started","actor":{{"user":"uid 0","host":"vm"}},"tool":{{"name":"wsc-forensics","version":"0.1.0"}},"argv":["collect"],"note":"{padding}"}}"#
        ));
        custody.push('\n');
    }
    let evidence = format!(
        r#"{{"schema_version":1,"tool":{{"name":"wsc-forensics","version":"0.1.0"}},"case":{{"case_id":"{ROOT}","times":{{}},"keys":{{}}}},"collected_at":"2026-01-01T00:00:00Z","items":[{}],"not_collected":[],"findings":[]}}"#,
        items.join(",\n")
    );
    drop(items);
    payload.push(("data/evidence.json".into(), evidence.into_bytes()));
    payload.push(("data/custody.jsonl".into(), custody.into_bytes()));
    let size = |n: &str| payload.iter().find(|(p, _)| p == n).unwrap().1.len() as u64;
    let (evidence, custody) = (size("data/evidence.json"), size("data/custody.jsonl"));
    let mut manifest = String::new();
    for (name, bytes) in &payload {
        manifest.push_str(&format!("{}  {name}\n", hex(bytes)));
    }
    let octets: usize = payload.iter().map(|(_, b)| b.len()).sum();
    let bagit = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_owned();
    let bag_info = format!(
        "External-Identifier: {ROOT}\nPayload-Oxum: {octets}.{}\n",
        payload.len()
    );
    let tags = [
        ("bagit.txt", bagit),
        ("bag-info.txt", bag_info),
        ("manifest-sha256.txt", manifest),
    ];
    let tag_manifest: String = tags
        .iter()
        .map(|(n, t)| format!("{}  {n}\n", hex(t.as_bytes())))
        .collect();

    let zip = dir.join(format!("b-{files}-{name_len}-{pad}.zip"));
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    let mut put = |name: &str, bytes: &[u8]| {
        zw.start_file(format!("{ROOT}/{name}"), opts).unwrap();
        zw.write_all(bytes).unwrap();
    };
    for (n, t) in &tags {
        put(n, t.as_bytes());
    }
    put("tagmanifest-sha256.txt", tag_manifest.as_bytes());
    for (name, bytes) in &payload {
        put(name, bytes);
    }
    zw.finish().unwrap();
    Made {
        zip,
        evidence,
        custody,
        manifest: tags[2].1.len() as u64,
    }
}

/// Peak heap of verifying `made`, which must be intact.
fn verify_peak(made: &Made) -> u64 {
    let (peak, report) = peak_while(|| verify_bundle(&made.zip, &VerifyOptions::default()));
    assert_eq!(report.verdict, Verdict::Intact, "{:?}", report.problems);
    peak
}

#[test]
fn memory_does_not_grow_with_evidence_and_custody() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let small = make_bundle(dir.path(), 2_000, 20, 100);
    let big = make_bundle(dir.path(), 2_000, 20, 14_000);
    assert!(big.evidence > 24 * MIB && big.custody > 24 * MIB);
    let (p_small, p_big) = (verify_peak(&small), verify_peak(&big));
    // Holding either file whole would cost its size; streaming costs a fixed window.
    assert!(
        p_big < p_small + MIB,
        "peak {p_small} bytes with {}+{} bytes of evidence+custody, {p_big} with {}+{}",
        small.evidence,
        small.custody,
        big.evidence,
        big.custody
    );
    assert!(p_big < 8 * MIB, "{p_big} bytes");
}

#[test]
fn memory_per_entry_does_not_grow_with_manifest_lines() {
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let name_len = 200;
    let a = make_bundle(dir.path(), 2_000, name_len, 10);
    let b = make_bundle(dir.path(), 12_000, name_len, 10);
    let (p_a, p_b) = (verify_peak(&a), verify_peak(&b));
    let per_entry = (p_b.saturating_sub(p_a)) / 10_000;
    let per_line = (b.manifest - a.manifest) / 10_000;
    // The zip crate keeps each name once with its central-directory record; verify adds a
    // digest and a few flags per entry, and per manifest line a digest and an index (no copy
    // of the line, of its path, or of the evidence item naming it).
    assert!(
        per_entry < per_line + 512,
        "{per_entry} bytes per entry for {per_line}-byte manifest lines"
    );
}
