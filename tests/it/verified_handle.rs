//! Issue #12, "one open file from check to use": `report` and `timeline` verify a bundle and
//! read it through the same open handle, so a bundle swapped (renamed over) between the check
//! and the reading cannot get forged content stamped "intact"; and the integrity statement
//! says exactly what was proven.

use super::common::bin;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wsc_forensics::bundle::reader::{parse_evidence, BundleReader, MAX_METADATA_BYTES};
use wsc_forensics::bundle::{
    open_bundle, open_verified, verify_file, Proof, Verdict, VerifyOptions, EVIDENCE_PATH,
};
use wsc_forensics::io::pread::PreadFile;

use crate::common::zip_bytes::crc32;

/// The zip field at `i` as an offset or length.
fn le16(b: &[u8], i: usize) -> usize {
    crate::common::zip_bytes::le16(b, i).into()
}
fn le32(b: &[u8], i: usize) -> usize {
    crate::common::zip_bytes::le32(b, i) as usize
}

/// A bundle collected with examiner `Alice`, and a forgery of it: every `Alice` replaced by
/// `Mabel` (same length, so the layout holds) and every CRC fixed, so zip readers read it
/// without complaint and only the manifests show the change.
fn original_and_forgery(dir: &Path) -> (PathBuf, PathBuf) {
    let original = dir.join("original.zip");
    let inputs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys");
    let st = bin()
        .args(["collect", "-q", "--case-id", "swap", "--examiner", "Alice"])
        .args(["--collected-at", "2026-01-01T00:00:00Z", "-o"])
        .arg(&original)
        .arg(&inputs)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut b = std::fs::read(&original).unwrap();
    let hits: Vec<usize> = b
        .windows(5)
        .enumerate()
        .filter(|(_, w)| *w == b"Alice")
        .map(|(i, _)| i)
        .collect();
    assert!(!hits.is_empty());
    for i in hits {
        b[i..i + 5].copy_from_slice(b"Mabel");
    }
    let eocd = b.len() - 22;
    let (count, mut at) = (le16(&b, eocd + 10), le32(&b, eocd + 16));
    for _ in 0..count {
        let local = le32(&b, at + 42);
        let data = local + 30 + le16(&b, local + 26) + le16(&b, local + 28);
        assert_eq!(le16(&b, local + 8), 0, "stored entries only");
        let crc = crc32(&b[data..data + le32(&b, local + 18)]).to_le_bytes();
        b[local + 14..local + 18].copy_from_slice(&crc);
        b[at + 16..at + 20].copy_from_slice(&crc);
        at += 46 + le16(&b, at + 28) + le16(&b, at + 30) + le16(&b, at + 32);
    }
    let forged = dir.join("forged.zip");
    std::fs::write(&forged, b).unwrap();
    (original, forged)
}

fn examiner_in(r: &mut BundleReader) -> Option<String> {
    let bytes = r.read_entry(EVIDENCE_PATH, MAX_METADATA_BYTES).unwrap();
    parse_evidence(&bytes).unwrap().case.examiner
}

#[test]
fn a_bundle_swapped_after_the_check_is_not_what_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (original, forged) = original_and_forgery(dir.path());
    let forged_report = wsc_forensics::bundle::verify_bundle(&forged, &VerifyOptions::default());
    assert_eq!(
        forged_report.verdict,
        Verdict::Altered,
        "the forgery must fail on its own"
    );

    let path = dir.path().join("case.zip");
    std::fs::copy(&original, &path).unwrap();
    let handle = PreadFile::open(&path).unwrap();
    let report = verify_file(&handle, "case.zip", &VerifyOptions::default());
    assert_eq!(report.verdict, Verdict::Intact);
    // The swap, between check and use.
    std::fs::copy(&forged, dir.path().join("tmp.zip")).unwrap();
    std::fs::rename(dir.path().join("tmp.zip"), &path).unwrap();
    // Reopening by path (what report and timeline used to do) reads the forgery...
    assert_eq!(
        open_bundle(&path)
            .unwrap()
            .evidence
            .case
            .examiner
            .as_deref(),
        Some("Mabel")
    );
    // ...reading through the verified handle reads what was verified.
    let mut r = BundleReader::from_file(handle, &path).unwrap();
    assert_eq!(examiner_in(&mut r).as_deref(), Some("Alice"));
}

#[test]
fn open_verified_under_a_racing_swapper_never_calls_a_forgery_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (original, forged) = original_and_forgery(dir.path());
    let path = dir.path().join("case.zip");
    std::fs::copy(&original, &path).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, path, dir) = (stop.clone(), path.clone(), dir.path().to_owned());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let from = if n.is_multiple_of(2) {
                    &forged
                } else {
                    &original
                };
                let tmp = dir.join(format!("t{n}.zip"));
                std::fs::copy(from, &tmp).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
                n += 1;
            }
            n
        })
    };
    let (mut intact, mut other) = (0, 0);
    for _ in 0..60 {
        match open_verified(&path, &VerifyOptions::default()) {
            Ok(v) if v.report.verdict == Verdict::Intact => {
                intact += 1;
                assert_eq!(v.contents.evidence.case.examiner.as_deref(), Some("Alice"));
            }
            Ok(v) => {
                other += 1;
                assert_eq!(v.report.verdict, Verdict::Altered);
            }
            Err(_) => other += 1,
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{intact} intact (all original), {other} altered or refused, {swaps} swaps");
    assert!(swaps > 0);
}

#[test]
fn the_integrity_statement_says_exactly_what_was_proven() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys");
    let signed = dir.path().join("signed.zip");
    let st = bin()
        .args([
            "collect",
            "-q",
            "--case-id",
            "proof",
            "--collected-at",
            "2026-01-01T00:00:00Z",
        ])
        .arg("--sign-key")
        .arg(keys.join("test-key-bundle-signer.sec"))
        .arg("-o")
        .arg(&signed)
        .arg(keys.join("test-key-a.pub"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let (unsigned, _) = original_and_forgery(dir.path());
    let examiner = wsc_forensics::bundle::signature::load_verifying_key(
        &keys.join("test-key-bundle-signer.pub"),
    )
    .unwrap();
    let with_key = VerifyOptions {
        examiner_key: Some(examiner),
        expect_digest: None,
        tsa_anchors: None,
    };
    let proof = |p: &Path, o: &VerifyOptions| Proof::of(&open_verified(p, o).unwrap().report);
    let checked = proof(&signed, &with_key).unwrap().to_string();
    assert!(
        checked.starts_with("intact, signed by examiner key "),
        "{checked}"
    );
    let unchecked = proof(&signed, &VerifyOptions::default())
        .unwrap()
        .to_string();
    assert!(
        unchecked.contains("not checked (no --examiner-key)"),
        "{unchecked}"
    );
    assert_eq!(
        proof(&unsigned, &VerifyOptions::default())
            .unwrap()
            .to_string(),
        "intact, NOT signed"
    );

    // The report's banner carries the statement, never a bare "verified intact".
    let out = dir.path().join("reports");
    let st = bin()
        .arg("report")
        .arg(&signed)
        .args(["--format", "md", "--out"])
        .arg(&out)
        .arg("--examiner-key")
        .arg(keys.join("test-key-bundle-signer.pub"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let md = std::fs::read_to_string(out.join("root-cause-analysis.md")).unwrap();
    assert!(
        md.contains(&format!("| Bundle integrity | {checked} |")),
        "{md}"
    );
    // A wrong expected digest fails the report as it fails verify.
    let st = bin()
        .arg("timeline")
        .arg(&signed)
        .args(["--expect-digest", &"0".repeat(64)])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(1));
}
