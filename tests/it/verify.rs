//! `verify`: an intact bundle passes; any changed byte, removed, added or renamed entry, a
//! manifest edited without the tag manifest, a consistent edit against `--expect-digest`, a
//! wrong examiner key, and hostile zip structure are all caught and named; a non-bundle is
//! exit 2.

use crate::common::bags::{entry, read_entries, tamper, write_entries, Entries};
use crate::common::cmd;

use crate::common::fixture;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use wsc_forensics::bundle::verify::SignatureStatus;
use wsc_forensics::bundle::{verify_bundle, BundleReader, Problem, Verdict, VerifyOptions};
use wsc_forensics::model::digest::Sha256Digest;

const ROOT: &str = "IR-V";

/// Collects modules, keys, an audit log and a notes file; returns (bundle, printed digest).
fn bundle(dir: &Path, extra: &[&str]) -> (PathBuf, String) {
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, "first responder notes\n").unwrap();
    let out = dir.join("b.zip");
    let a = cmd()
        .args([
            "collect",
            "--case-id",
            ROOT,
            "--examiner",
            "E",
            "--collected-at",
            "2026-11-25T10:00:00Z",
            "-o",
        ])
        .arg(&out)
        .args(extra)
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(fixture("wsc/modules/base.wasm"))
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .arg(fixture("wsc/audit/audit-keyless-verify.jsonl"))
        .arg(&notes)
        .assert()
        .success();
    let stdout = String::from_utf8(a.get_output().stdout.clone()).unwrap();
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("bundle digest "))
        .unwrap()
        .to_owned();
    (out, digest)
}

fn sha(b: &[u8]) -> String {
    Sha256Digest::of(b).to_hex()
}

/// Replaces the manifest line of `path` in `manifest` with the digest of `bytes`.
fn relist(e: &mut Entries, manifest: &str, path: &str, bytes: &[u8]) {
    let m = entry(e, &format!("{ROOT}/{manifest}"));
    let text = String::from_utf8(m.clone()).unwrap();
    let new: String = text
        .lines()
        .map(|l| {
            if l.ends_with(&format!("  {path}")) {
                format!("{}  {path}\n", sha(bytes))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    *m = new.into_bytes();
}

fn report(zip: &Path) -> wsc_forensics::bundle::VerifyReport {
    verify_bundle(zip, &VerifyOptions::default())
}

#[test]
fn an_intact_bundle_verifies_and_prints_the_collect_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, digest) = bundle(dir.path(), &[]);
    cmd()
        .arg("verify")
        .arg(&zip)
        .assert()
        .code(0)
        .stdout(predicates::str::contains(format!("bundle digest {digest}")))
        .stdout(predicates::str::contains("intact"));
    cmd()
        .arg("verify")
        .arg(&zip)
        .args(["--expect-digest", &digest])
        .assert()
        .code(0);
    let a = cmd().arg("verify").arg(&zip).arg("--json").assert().code(0);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["verdict"], "intact");
    assert_eq!(doc["digest"], digest);
    assert_eq!(doc["case_id"], ROOT);
    assert_eq!(doc["signature"]["status"], "absent");
    assert_eq!(doc["problems"].as_array().unwrap().len(), 0);
    // Payload-Oxum agrees with what verify counted: 5 sources + evidence, custody, timeline.
    assert_eq!(doc["payload_files"], 8);
}

#[test]
fn a_changed_byte_in_the_zip_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let module = std::fs::read(fixture("wsc/modules/signed-a.wasm")).unwrap();
    let mut raw = std::fs::read(&zip).unwrap();
    let at = raw
        .windows(module.len())
        .position(|w| w == &module[..])
        .unwrap();
    raw[at + module.len() / 2] ^= 0x01;
    std::fs::write(&zip, raw).unwrap();
    let r = report(&zip);
    assert_eq!(r.verdict, Verdict::Altered);
    let name = format!("{ROOT}/data/modules/{}.wasm", sha(&module));
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::EntryUnreadable { entry, .. } if *entry == name)),
        "{:?}",
        r.problems
    );
    cmd()
        .arg("verify")
        .arg(&zip)
        .assert()
        .code(1)
        .stdout(predicates::str::contains(&name));
}

#[test]
fn a_changed_byte_with_a_valid_crc_is_a_hash_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let module = std::fs::read(fixture("wsc/modules/signed-a.wasm")).unwrap();
    let path = format!("data/modules/{}.wasm", sha(&module));
    tamper(&zip, |e| entry(e, &path)[20] ^= 0x80);
    let r = report(&zip);
    assert_eq!(r.exit_code(), 1);
    assert!(r.problems.contains(&Problem::HashMismatch {
        manifest: "manifest-sha256.txt".into(),
        path: path.clone(),
        expected: Sha256Digest::of(&module),
        actual: {
            let mut m = module.clone();
            m[20] ^= 0x80;
            Sha256Digest::of(&m)
        },
    }));
    let a = cmd().arg("verify").arg(&zip).arg("--json").assert().code(1);
    let doc: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(doc["verdict"], "altered");
    let p = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["problem"] == "hash-mismatch")
        .unwrap();
    assert_eq!(p["manifest"], "manifest-sha256.txt");
    assert_eq!(p["path"], path);
    assert_eq!(p["expected"], sha(&module));
}

#[test]
fn removed_added_and_renamed_entries_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let base = zip.with_file_name("orig.zip");
    std::fs::copy(&zip, &base).unwrap();

    tamper(&zip, |e| e.retain(|(n, _)| !n.ends_with("/notes.txt")));
    let r = report(&zip);
    assert!(r.problems.contains(&Problem::MissingFile {
        manifest: "manifest-sha256.txt".into(),
        path: "data/case/notes.txt".into()
    }));
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::OxumMismatch { .. })));

    std::fs::copy(&base, &zip).unwrap();
    tamper(&zip, |e| {
        e.push((format!("{ROOT}/data/case/planted.txt"), b"x".to_vec()))
    });
    let r = report(&zip);
    assert!(r.problems.contains(&Problem::UnlistedPayload {
        path: "data/case/planted.txt".into()
    }));

    std::fs::copy(&base, &zip).unwrap();
    tamper(&zip, |e| {
        let n = e
            .iter_mut()
            .find(|(n, _)| n.ends_with("/notes.txt"))
            .unwrap();
        n.0 = format!("{ROOT}/data/case/notes-renamed.txt");
    });
    let r = report(&zip);
    assert!(r.problems.contains(&Problem::UnlistedPayload {
        path: "data/case/notes-renamed.txt".into()
    }));
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::MissingFile { path, .. } if path == "data/case/notes.txt")));
    // A planted tag file outside data/ is caught too.
    std::fs::copy(&base, &zip).unwrap();
    tamper(&zip, |e| {
        e.push((format!("{ROOT}/extra-info.txt"), b"x".to_vec()))
    });
    assert!(report(&zip).problems.contains(&Problem::UnlistedTagFile {
        path: "extra-info.txt".into()
    }));
}

#[test]
fn a_manifest_edited_to_match_without_the_tag_manifest_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let forged = b"nothing to see here\n".to_vec();
    tamper(&zip, |e| {
        *entry(e, "/data/case/notes.txt") = forged.clone();
        relist(e, "manifest-sha256.txt", "data/case/notes.txt", &forged);
    });
    let r = report(&zip);
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(
        r.problems
            .iter()
            .any(|p| matches!(p, Problem::HashMismatch { manifest, path, .. }
            if manifest == "tagmanifest-sha256.txt" && path == "manifest-sha256.txt")),
        "{:?}",
        r.problems
    );
    // evidence.json still records the original notes digest.
    assert!(r
        .problems
        .iter()
        .any(|p| matches!(p, Problem::EvidenceDisagrees { .. })));
}

#[test]
fn a_consistent_edit_is_caught_by_the_expected_digest_and_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("wsc/keys/test-key-a.sec");
    let (zip, digest) = bundle(dir.path(), &["--sign-key", key.to_str().unwrap()]);
    // Rewrite evidence.json and every manifest consistently: only the digest can tell.
    tamper(&zip, |e| {
        let ev = entry(e, "/data/evidence.json");
        let text = String::from_utf8(ev.clone())
            .unwrap()
            .replace("\"examiner\":\"E\"", "\"examiner\":\"M\"");
        assert_ne!(&text.as_bytes(), &ev.as_slice());
        *ev = text.into_bytes();
        let evb = ev.clone();
        relist(e, "manifest-sha256.txt", "data/evidence.json", &evb);
        let m = entry(e, "/manifest-sha256.txt").clone();
        relist(e, "tagmanifest-sha256.txt", "manifest-sha256.txt", &m);
    });
    let r = report(&zip);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert!(matches!(r.problems[0], Problem::SignatureInvalid { .. }));
    // Without the signature file, only --expect-digest catches it.
    tamper(&zip, |e| {
        e.retain(|(n, _)| !n.ends_with("bundle-signature.json"))
    });
    assert_eq!(report(&zip).verdict, Verdict::Intact);
    let r = verify_bundle(
        &zip,
        &VerifyOptions {
            expect_digest: Sha256Digest::from_hex(&digest),
            ..Default::default()
        },
    );
    assert!(
        matches!(r.problems.as_slice(), [Problem::DigestMismatch { .. }]),
        "{:?}",
        r.problems
    );
    cmd()
        .arg("verify")
        .arg(&zip)
        .args(["--expect-digest", &digest])
        .assert()
        .code(1);
}

#[test]
fn examiner_signature_is_checked_against_the_given_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = fixture("wsc/keys/test-key-a.sec");
    let (zip, _) = bundle(dir.path(), &["--sign-key", key.to_str().unwrap()]);
    for pk in ["test-key-a.pub", "test-key-a.spki.pem"] {
        let a = cmd()
            .arg("verify")
            .arg(&zip)
            .arg("--examiner-key")
            .arg(fixture(&format!("wsc/keys/{pk}")))
            .assert()
            .code(0);
        assert!(
            String::from_utf8_lossy(&a.get_output().stdout).contains("c858d5ec82d976c190cb33d0")
        );
    }
    let r = report(&zip);
    assert!(matches!(
        r.signature,
        SignatureStatus::Valid {
            examiner_key_checked: false,
            ..
        }
    ));
    cmd()
        .arg("verify")
        .arg(&zip)
        .arg("--examiner-key")
        .arg(fixture("wsc/keys/test-key-b.pub"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("not the examiner key"));
    let sub = dir.path().join("unsigned");
    std::fs::create_dir(&sub).unwrap();
    let (unsigned, _) = bundle(&sub, &[]);
    cmd()
        .arg("verify")
        .arg(&unsigned)
        .arg("--examiner-key")
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("missing"));
}

#[test]
fn hostile_zip_structure_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let mut e = read_entries(&zip);
    e.push(("../evil.txt".into(), b"x".to_vec()));
    e.push(("/abs/evil.txt".into(), b"x".to_vec()));
    e.push((format!("{ROOT}/data/a\\b.txt"), b"x".to_vec()));
    e.push(("other/outside.txt".into(), b"x".to_vec()));
    // Two entries whose names become identical after a byte patch below.
    e.push((format!("{ROOT}/data/dupX"), b"1".to_vec()));
    e.push((format!("{ROOT}/data/dupY"), b"2".to_vec()));
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (n, b) in &e {
        zw.start_file(n.as_str(), opts).unwrap();
        zw.write_all(b).unwrap();
    }
    zw.add_symlink(format!("{ROOT}/data/link"), "/etc/passwd", opts)
        .unwrap();
    zw.finish().unwrap();
    let mut raw = std::fs::read(&zip).unwrap();
    let from = format!("{ROOT}/data/dupY");
    let to = format!("{ROOT}/data/dupX");
    while let Some(at) = raw.windows(from.len()).position(|w| w == from.as_bytes()) {
        raw[at..at + to.len()].copy_from_slice(to.as_bytes());
    }
    std::fs::write(&zip, raw).unwrap();

    let r = report(&zip);
    assert_eq!(r.verdict, Verdict::Altered);
    let has = |f: &dyn Fn(&Problem) -> bool| r.problems.iter().any(f);
    assert!(
        has(&|p| matches!(p, Problem::UnsafeEntryName { entry, .. } if entry == "../evil.txt")),
        "{:?}",
        r.problems
    );
    assert!(has(
        &|p| matches!(p, Problem::UnsafeEntryName { entry, reason } if entry == "/abs/evil.txt" && reason == "absolute path")
    ));
    assert!(has(
        &|p| matches!(p, Problem::UnsafeEntryName { reason, .. } if reason == "contains a backslash")
    ));
    assert!(has(
        &|p| matches!(p, Problem::EntryOutsideBag { entry } if entry == "other/outside.txt")
    ));
    assert!(has(
        &|p| matches!(p, Problem::SymlinkEntry { entry } if entry.ends_with("/data/link"))
    ));
    assert!(has(
        &|p| matches!(p, Problem::DuplicateEntry { entry } if entry.ends_with("/data/dupX"))
    ));
}

#[test]
fn a_declared_size_that_lies_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let mut raw = std::fs::read(&zip).unwrap();
    // Central directory record of the notes entry: signature PK\1\2, uncompressed size at 24.
    let name = format!("{ROOT}/data/case/notes.txt");
    let mut i = 0;
    let mut patched = 0;
    while let Some(off) = raw[i..].windows(4).position(|w| w == b"PK\x01\x02") {
        let h = i + off;
        let nlen = u16::from_le_bytes([raw[h + 28], raw[h + 29]]) as usize;
        if &raw[h + 46..h + 46 + nlen] == name.as_bytes() {
            raw[h + 24..h + 28].copy_from_slice(&5u32.to_le_bytes());
            patched += 1;
        }
        i = h + 4;
    }
    assert_eq!(patched, 1);
    std::fs::write(&zip, raw).unwrap();
    let r = report(&zip);
    assert_eq!(r.verdict, Verdict::Altered);
    assert!(
        r.problems.iter().any(|p| matches!(p, Problem::SizeMismatch { entry, .. } | Problem::EntryUnreadable { entry, .. } if *entry == name)),
        "{:?}",
        r.problems
    );
}

/// Sets the "encrypted" bit of `name`'s central directory record.
fn mark_encrypted(zip: &Path, name: &str) {
    let mut raw = std::fs::read(zip).unwrap();
    let mut i = 0;
    while let Some(off) = raw[i..].windows(4).position(|w| w == b"PK\x01\x02") {
        let h = i + off;
        let nlen = u16::from_le_bytes([raw[h + 28], raw[h + 29]]) as usize;
        if &raw[h + 46..h + 46 + nlen] == name.as_bytes() {
            raw[h + 8] |= 1;
        }
        i = h + 4;
    }
    std::fs::write(zip, raw).unwrap();
}

#[test]
fn an_encrypted_entry_is_named_and_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let name = format!("{ROOT}/data/case/notes.txt");
    mark_encrypted(&zip, &name);
    let r = report(&zip);
    assert!(
        r.problems
            .contains(&Problem::EncryptedEntry { entry: name }),
        "{:?}",
        r.problems
    );
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn not_a_bundle_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.zip");
    std::fs::write(&p, b"PK\x03\x04 this is not really a zip").unwrap();
    cmd()
        .arg("verify")
        .arg(&p)
        .assert()
        .code(2)
        .stdout(predicates::str::contains("NOT A READABLE BUNDLE"));
    write_entries(&p, &vec![("readme.txt".into(), b"hi".to_vec())]);
    let r = report(&p);
    assert_eq!(r.exit_code(), 2);
    assert!(matches!(
        r.problems.as_slice(),
        [Problem::NoBagFolder { .. }]
    ));
    cmd()
        .arg("verify")
        .arg(dir.path().join("missing.zip"))
        .assert()
        .code(2);
    cmd()
        .arg("verify")
        .arg(&p)
        .args(["--expect-digest", "xyz"])
        .assert()
        .code(2);
}

#[test]
fn the_reader_streams_payload_by_bag_path() {
    let dir = tempfile::tempdir().unwrap();
    let (zip, digest) = bundle(dir.path(), &[]);
    let module = std::fs::read(fixture("wsc/modules/signed-a.wasm")).unwrap();
    let mut r = BundleReader::open(&zip).unwrap();
    assert_eq!(r.root(), ROOT);
    assert_eq!(r.digest().unwrap().to_hex(), digest);
    let mut got = Vec::new();
    r.entry_reader(&format!("data/modules/{}.wasm", sha(&module)))
        .unwrap()
        .read_to_end(&mut got)
        .unwrap();
    assert_eq!(got, module);
    assert!(r.bag_paths().iter().any(|p| p == "data/evidence.json"));
    assert!(r.entry_reader("data/modules/none.wasm").is_err());
}

/// evidence.json is read while streamed; whatever is wrong with it must be named exactly as
/// the whole-document parse (`parse_evidence_index`, what verify always used) names it, from
/// malformed JSON to documents the streaming reader leaves to that parse.
#[test]
fn a_malformed_or_unusual_evidence_json_is_named_as_the_whole_document_parse_names_it() {
    use wsc_forensics::bundle::reader::parse_evidence_index;
    let dir = tempfile::tempdir().unwrap();
    let (zip, _) = bundle(dir.path(), &[]);
    let original = read_entries(&zip);
    let text = original
        .iter()
        .find(|(n, _)| n.ends_with("/data/evidence.json"))
        .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
        .unwrap();
    assert!(text.starts_with("{\"schema_version\":1,"), "{text:.40}");
    let first_digest = text.find("\"sha256\":\"").unwrap() + 10;
    let deep = format!("\"deep\":{}{},", "[".repeat(110), "]".repeat(110));
    let mut cases: Vec<Vec<u8>> = vec![
        // A digest that is not hex (a type error), a syntax error, a truncated document.
        text[..first_digest].to_owned() + "g" + &text[first_digest + 1..],
        text.replacen("\"kind\":", "\"kind\";", 1),
        text[..text.len() / 2].to_owned(),
        // Another schema version, a duplicate field, nesting deeper than the streaming reader
        // follows (still valid: its items must be checked as before).
        text.replacen("\"schema_version\":1", "\"schema_version\":99", 1),
        text.replacen("\"items\":[", "\"items\":[],\"items\":[", 1),
        text.replacen("\"source\":", &format!("{deep}\"source\":"), 1),
        text.replacen("\"source\":", &format!("{deep}\"source\":"), 1)[..first_digest + 240]
            .to_owned()
            + "g"
            + &text[first_digest + 1..],
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    // And one byte changed at places spread over the document.
    for (k, at) in (7..text.len()).step_by(text.len() / 23).enumerate() {
        let mut b = text.clone().into_bytes();
        b[at] = b"\":}]x,\\1"[k % 8];
        cases.push(b);
    }
    let (mut invalid, mut valid) = (0, 0);
    for bytes in cases {
        let mut e = original.clone();
        *entry(&mut e, "/data/evidence.json") = bytes.clone();
        // Relisted, so that only the evidence check can name it.
        relist(&mut e, "manifest-sha256.txt", "data/evidence.json", &bytes);
        write_entries(&zip, &e);
        let r = report(&zip);
        let named: Vec<&Problem> = r
            .problems
            .iter()
            .filter(|p| {
                matches!(
                    p,
                    Problem::EvidenceInvalid { .. } | Problem::EvidenceDisagrees { .. }
                )
            })
            .collect();
        match parse_evidence_index(&bytes) {
            Err(detail) => {
                invalid += 1;
                assert_eq!(named, [&Problem::EvidenceInvalid { detail }]);
            }
            Ok(ev) => {
                valid += 1;
                assert!(named.is_empty(), "{named:?}");
                assert_eq!(r.case_id.as_deref(), Some(ev.case.case_id.as_str()));
            }
        }
    }
    assert!(
        invalid >= 10 && valid >= 2,
        "{invalid} invalid, {valid} valid"
    );
}
