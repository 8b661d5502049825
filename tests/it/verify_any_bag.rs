//! The single defects issue 15 found, each in one of our own bundles (re-hashed, so only the
//! defect differs from the same bundle rewritten unchanged) and in a generic bag: bagit.txt
//! with a space before the colon, a tag-manifested fetch.txt pointing outside the bag or at an
//! absolute path, a second payload manifest that omits a file or lists all-zero checksums. Also:
//! unfetched files make a bag incomplete (exit 1), percent-encoded names, and a bag claiming to
//! be ours without our files is altered.

use crate::common::bags::{checksum, read_entries, tamper, write_entries, Bag, Entries};
use crate::common::{cmd, fixture};
use std::path::{Path, PathBuf};
use wsc_forensics::bundle::verify::BagKind;
use wsc_forensics::bundle::{verify_bundle, Problem, Verdict, VerifyOptions, VerifyReport};

const ROOT: &str = "IR-B";

fn bundle(dir: &Path) -> PathBuf {
    let out = dir.join("b.zip");
    cmd()
        .args(["collect", "--case-id", ROOT, "--examiner", "E"])
        .args(["--collected-at", "2026-11-25T10:00:00Z", "-o"])
        .arg(&out)
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .assert()
        .success();
    out
}

fn report(p: &Path) -> VerifyReport {
    verify_bundle(p, &VerifyOptions::default())
}

/// Our tag manifest made again over every tag file (as our writer lists them: sorted, two
/// spaces), so a changed or added tag file is consistently listed.
fn retag(e: &mut Entries) {
    let prefix = format!("{ROOT}/");
    let mut lines: Vec<(String, String)> = e
        .iter()
        .filter_map(|(n, b)| {
            let rel = n.strip_prefix(&prefix)?;
            let skip = rel.starts_with("data/")
                || rel == "tagmanifest-sha256.txt"
                || rel == "bundle-signature.json";
            (!skip).then(|| (rel.to_owned(), checksum("sha256", b)))
        })
        .collect();
    lines.sort();
    let text: String = lines.iter().map(|(p, h)| format!("{h}  {p}\n")).collect();
    let tm = format!("{prefix}tagmanifest-sha256.txt");
    e.iter_mut().find(|(n, _)| *n == tm).unwrap().1 = text.into_bytes();
}

fn set(e: &mut Entries, rel: &str, bytes: &[u8]) {
    let name = format!("{ROOT}/{rel}");
    match e.iter_mut().find(|(n, _)| *n == name) {
        Some(x) => x.1 = bytes.to_vec(),
        None => e.push((name, bytes.to_vec())),
    }
}

/// Our payload as (bag path, bytes).
fn payload(e: &Entries) -> Vec<(String, Vec<u8>)> {
    let prefix = format!("{ROOT}/data/");
    e.iter()
        .filter(|(n, _)| n.starts_with(&prefix))
        .map(|(n, b)| (n[ROOT.len() + 1..].to_owned(), b.clone()))
        .collect()
}

/// The problems `defect` adds to our bundle rewritten unchanged (same zip writer, so the
/// rewrite itself is no part of the difference).
fn ours_with(defect: impl FnOnce(&mut Entries)) -> (VerifyReport, Vec<Problem>) {
    let dir = tempfile::tempdir().unwrap();
    let zip = bundle(dir.path());
    let control = dir.path().join("control.zip");
    write_entries(&control, &read_entries(&zip));
    let before = report(&control).problems;
    tamper(&zip, |e| {
        defect(e);
        retag(e);
    });
    let r = report(&zip);
    assert_eq!(r.kind, Some(BagKind::WscBundle));
    for p in &before {
        assert!(r.problems.contains(p), "{p:?} went away");
    }
    let added = r
        .problems
        .iter()
        .filter(|p| !before.contains(p))
        .cloned()
        .collect();
    (r, added)
}

fn generic(defect: impl FnOnce(&mut Bag)) -> VerifyReport {
    let dir = tempfile::tempdir().unwrap();
    let mut bag = Bag::new(
        "1.0",
        &["sha256"],
        &[("data/a.txt", b"a\n"), ("data/b.txt", b"b\n")],
        Some(""),
    );
    defect(&mut bag);
    bag.write_dir(dir.path());
    let r = report(dir.path());
    assert_eq!(r.kind, Some(BagKind::GenericBag));
    r
}

#[test]
fn bagit_txt_with_a_space_before_the_colon_is_refused() {
    let text = b"BagIt-Version : 1.0\nTag-File-Character-Encoding : UTF-8\n";
    let (r, added) = ours_with(|e| set(e, "bagit.txt", text));
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(
        matches!(added.as_slice(), [Problem::BadBagitTxt { detail }] if detail.contains("`BagIt-Version : 1.0`")),
        "{added:?}"
    );
    let g = generic(|b| {
        b.set("bagit.txt", text).retag();
    });
    assert_eq!(g.verdict, Verdict::Invalid, "{:?}", g.problems);
}

#[test]
fn fetch_txt_pointing_outside_the_bag_or_at_an_absolute_path_is_refused() {
    for path in ["../../../README.md", "/tmp/test.txt"] {
        let line = format!("http://example.org/x - {path}\n");
        let (r, added) = ours_with(|e| set(e, "fetch.txt", line.as_bytes()));
        assert_eq!(r.verdict, Verdict::Altered);
        assert!(
            added.iter().any(|p| matches!(p, Problem::UnsafeManifestPath { manifest, path: p, .. } if manifest == "fetch.txt" && p == path)),
            "{added:?}"
        );
        let g = generic(|b| {
            b.set("fetch.txt", line.as_bytes()).retag();
        });
        assert_eq!(g.verdict, Verdict::Invalid, "{:?}", g.problems);
        assert!(g
            .problems
            .iter()
            .any(|p| matches!(p, Problem::UnsafeManifestPath { .. })));
    }
}

#[test]
fn a_second_payload_manifest_is_checked_for_completeness_and_against_the_bytes() {
    // manifest-sha512.txt that omits one payload file.
    let (r, added) = ours_with(|e| {
        let files = payload(e);
        let text: String = files[1..]
            .iter()
            .map(|(p, b)| format!("{}  {p}\n", checksum("sha512", b)))
            .collect();
        set(e, "manifest-sha512.txt", text.as_bytes());
    });
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(
        matches!(added.as_slice(), [Problem::NotInManifest { manifest, .. }] if manifest == "manifest-sha512.txt"),
        "{added:?}"
    );
    // The same manifest with all-zero checksums.
    let mut count = 0;
    let (_, added) = ours_with(|e| {
        let files = payload(e);
        count = files.len();
        let text: String = files
            .iter()
            .map(|(p, _)| format!("{}  {p}\n", "0".repeat(128)))
            .collect();
        set(e, "manifest-sha512.txt", text.as_bytes());
    });
    let mismatches = added
        .iter()
        .filter(
            |p| matches!(p, Problem::ChecksumMismatch { algorithm, .. } if algorithm == "SHA-512"),
        )
        .count();
    assert_eq!((mismatches, added.len()), (count, count), "{added:?}");
    // And in a generic bag.
    let g = generic(|b| {
        b.algs.push("sha512");
        b.remanifest();
        let t = b.text("manifest-sha512.txt");
        let first = t.lines().next().unwrap().to_owned() + "\n";
        b.set("manifest-sha512.txt", first.as_bytes()).retag();
    });
    assert_eq!(g.verdict, Verdict::Altered);
    assert!(
        matches!(g.problems.as_slice(), [Problem::NotInManifest { path, .. }] if path == "data/b.txt"),
        "{:?}",
        g.problems
    );
    let g = generic(|b| {
        b.algs.push("md5");
        b.remanifest();
        let t = b
            .text("manifest-md5.txt")
            .replace(&checksum("md5", b"a\n"), &"0".repeat(32));
        b.set("manifest-md5.txt", t.as_bytes()).retag();
    });
    assert!(
        matches!(g.problems.as_slice(), [Problem::ChecksumMismatch { algorithm, .. }] if algorithm == "MD5"),
        "{:?}",
        g.problems
    );
}

#[test]
fn unfetched_files_make_a_bag_incomplete_never_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut bag = Bag::new(
        "1.0",
        &["sha256"],
        &[("data/a.txt", b"a\n"), ("data/later.bin", b"later\n")],
        Some(""),
    );
    bag.set(
        "fetch.txt",
        b"https://example.org/later.bin 6 data/later.bin\n",
    );
    bag.files.remove("data/later.bin");
    bag.retag();
    bag.write_dir(dir.path());
    let r = report(dir.path());
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", r.problems);
    assert_eq!(r.exit_code(), 1);
    let o = cmd().arg("verify").arg(dir.path()).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(text.contains("INCOMPLETE"), "{text}");
    assert!(
        text.contains(
            "data/later.bin: listed in fetch.txt (https://example.org/later.bin), not fetched"
        ),
        "{text}"
    );
    // Fetched (the file is there): intact.
    bag.set("data/later.bin", b"later\n");
    bag.write_dir(dir.path());
    assert_eq!(report(dir.path()).verdict, Verdict::Intact);
}

#[test]
fn percent_encoded_names_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("data/line\nbreak", &b"1"[..]),
        ("data/carriage\rreturn", b"2"),
        ("data/100%25 sure", b"3"),
    ];
    let bag = Bag::new("1.0", &["sha256", "md5"], &files, Some(""));
    assert!(bag
        .text("manifest-sha256.txt")
        .contains("data/line%0Abreak"));
    assert!(bag
        .text("manifest-sha256.txt")
        .contains("data/carriage%0Dreturn"));
    assert!(bag
        .text("manifest-sha256.txt")
        .contains("data/100%2525 sure"));
    bag.write_dir(&dir.path().join("d"));
    let r = report(&dir.path().join("d"));
    assert_eq!(r.verdict, Verdict::Intact, "{:?}", r.problems);
    assert_eq!(r.payload_files, 3);
    let zip = dir.path().join("z.zip");
    let only_percent = Bag::new("1.0", &["sha256"], &files[2..], Some(""));
    only_percent.write_zip(&zip, Some("bag"));
    assert_eq!(report(&zip).verdict, Verdict::Intact);
}

#[test]
fn a_bag_claiming_to_be_ours_without_our_files_is_altered() {
    let dir = tempfile::tempdir().unwrap();
    let zip = bundle(dir.path());
    let mut e = read_entries(&zip);
    e.retain(|(n, _)| !n.ends_with("/data/evidence.json") && !n.ends_with("/data/custody.jsonl"));
    let files = payload(&e);
    let text: String = files
        .iter()
        .map(|(p, b)| format!("{}  {p}\n", checksum("sha256", b)))
        .collect();
    set(&mut e, "manifest-sha256.txt", text.as_bytes());
    retag(&mut e);
    write_entries(&zip, &e);
    let r = report(&zip);
    assert_eq!(r.kind, Some(BagKind::WscBundle));
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::EvidenceInvalid { detail } if detail == "missing")));
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::CustodyInvalid { detail, .. } if detail == "missing")));
    // Unpacked into a directory it still claims to be ours: the bundle checks need the zip.
    let unpacked = dir.path().join("unpacked");
    for (n, b) in read_entries(&zip) {
        let at = unpacked.join(n.strip_prefix(&format!("{ROOT}/")).unwrap());
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::fs::write(at, b).unwrap();
    }
    let r = report(&unpacked);
    assert_ne!(r.exit_code(), 0);
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::BundleClaim { .. })),
        "{:?}",
        r.problems
    );
}

#[test]
fn our_intact_bundle_is_still_a_bundle_with_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let zip = bundle(dir.path());
    let r = report(&zip);
    assert_eq!(
        (r.verdict, r.kind),
        (Verdict::Intact, Some(BagKind::WscBundle)),
        "{:?}",
        r.problems
    );
    assert_eq!(r.bagit_version.as_deref(), Some("1.0"));
    assert!(r.case_id.as_deref() == Some(ROOT) && r.digest.is_some());
    let o = cmd().arg("verify").arg(&zip).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!(
            "layout: zip, bag in folder {ROOT}/, BagIt-Version 1.0"
        )),
        "{text}"
    );
    assert!(text.contains("intact: "), "{text}");
}

#[test]
fn a_generic_bag_holding_an_evidence_json_is_never_read_as_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = b"{\"schema_version\": 1}";
    let bag = Bag::new(
        "1.0",
        &["sha256"],
        &[
            ("data/evidence.json", evidence),
            ("data/custody.jsonl", b""),
        ],
        Some("Bag-Software-Agent: bagit.py v1.9.0\n"),
    );
    let zip = dir.path().join("g.zip");
    bag.write_zip(&zip, Some("IR-X"));
    let r = report(&zip);
    assert_eq!(
        (r.verdict, r.kind),
        (Verdict::Intact, Some(BagKind::GenericBag))
    );
    let e = wsc_forensics::bundle::open_verified(&zip, &VerifyOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a wsc-forensics bundle"), "{e}");
}
