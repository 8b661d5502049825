//! Hostile zips given to `verify` (the binary): names that differ only by Unicode normalisation
//! or case, an entry that claims 1 KiB and inflates to 256 MiB, 100,000 tiny entries, a zip
//! inside the zip. Each is caught (exit 1, or 2 when there is no bag), named, never a panic,
//! and in bounded time and memory. (`../`, absolute names, symlink and encrypted entries, lying
//! sizes and duplicates are covered in `tests/verify.rs`.)

use crate::common::bags::{read_entries, write_entries};
use crate::common::fixture;
use assert_cmd::Command;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROOT: &str = "IR-H";

fn bin() -> Command {
    let mut c = crate::common::cmd();
    c.timeout(Duration::from_secs(120));
    c
}

fn collect(dir: &Path) -> PathBuf {
    let out = dir.join("b.zip");
    bin()
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
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .assert()
        .success();
    out
}

struct Verified {
    code: i32,
    doc: serde_json::Value,
    elapsed: Duration,
}

fn verify(zip: &Path) -> Verified {
    let t = Instant::now();
    let out = bin().arg("verify").arg("--json").arg(zip).output().unwrap();
    let elapsed = t.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    Verified {
        code: out.status.code().expect("exited"),
        doc,
        elapsed,
    }
}

fn problems_naming(doc: &serde_json::Value, needle: &str) -> Vec<String> {
    doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.to_string())
        .filter(|p| p.contains(needle))
        .collect()
}

#[test]
fn unicode_normalisation_and_case_twins_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let zip = collect(dir.path());
    assert_eq!(verify(&zip).code, 0);
    let mut e = read_entries(&zip);
    let nfc = format!("{ROOT}/data/caf\u{e9}.txt");
    let nfd = format!("{ROOT}/data/cafe\u{301}.txt");
    let upper = format!("{ROOT}/data/CAF\u{c9}.txt");
    e.push((nfc.clone(), b"one".to_vec()));
    e.push((nfd.clone(), b"two".to_vec()));
    e.push((upper.clone(), b"three".to_vec()));
    // A case twin of a real tag file.
    e.push((
        format!("{ROOT}/BAGIT.TXT"),
        b"BagIt-Version: 1.0\n".to_vec(),
    ));
    write_entries(&zip, &e);
    let v = verify(&zip);
    assert_eq!(v.code, 1, "{}", v.doc);
    assert_eq!(v.doc["verdict"], "altered");
    for name in [&nfc, &nfd, &upper, &format!("{ROOT}/BAGIT.TXT")] {
        let rel = name.strip_prefix(&format!("{ROOT}/")).unwrap();
        assert!(
            !problems_naming(&v.doc, rel).is_empty(),
            "{name} not named: {}",
            v.doc["problems"]
        );
    }
}

/// Deflate `len` zero bytes in one entry, then patch both size fields (local header and central
/// directory) to claim `claimed` bytes.
fn bomb_entry(zip: &Path, name: &str, len: u64, claimed: u32) {
    let mut e = read_entries(zip);
    e.retain(|(n, _)| n != name);
    let mut zw = zip::ZipWriter::new(std::fs::File::create(zip).unwrap());
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (n, b) in &e {
        zw.start_file(n.as_str(), stored).unwrap();
        zw.write_all(b).unwrap();
    }
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .unix_permissions(0o644);
    zw.start_file(name, deflated).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..len >> 20 {
        zw.write_all(&zeros).unwrap();
    }
    zw.finish().unwrap();
    let mut raw = std::fs::read(zip).unwrap();
    let mut patched = 0;
    for (sig, size_at, name_len_at, name_at) in [
        (&b"PK\x03\x04"[..], 22usize, 26usize, 30usize),
        (&b"PK\x01\x02"[..], 24, 28, 46),
    ] {
        let mut i = 0;
        while let Some(off) = raw[i..].windows(4).position(|w| w == sig) {
            let h = i + off;
            let nlen =
                u16::from_le_bytes([raw[h + name_len_at], raw[h + name_len_at + 1]]) as usize;
            if raw.get(h + name_at..h + name_at + nlen) == Some(name.as_bytes()) {
                raw[h + size_at..h + size_at + 4].copy_from_slice(&claimed.to_le_bytes());
                patched += 1;
            }
            i = h + 4;
        }
    }
    assert_eq!(patched, 2, "local header and central directory patched");
    std::fs::write(zip, raw).unwrap();
}

#[test]
fn an_entry_claiming_1_kib_that_inflates_to_256_mib_stops_at_the_claim() {
    let dir = tempfile::tempdir().unwrap();
    let zip = collect(dir.path());
    let name = format!("{ROOT}/data/bomb.bin");
    bomb_entry(&zip, &name, 256 << 20, 1024);
    let size = std::fs::metadata(&zip).unwrap().len();
    assert!(size < 2 << 20, "{size}-byte zip");
    let v = verify(&zip);
    assert_eq!(v.code, 1, "{}", v.doc);
    let named = problems_naming(&v.doc, "data/bomb.bin");
    assert!(!named.is_empty(), "{}", v.doc["problems"]);
    // Reading stopped at the claimed size: nothing near 256 MiB was inflated or counted.
    for p in &named {
        assert!(!p.contains("268435456"), "{p}");
    }
    assert!(v.elapsed < Duration::from_secs(60), "{:?}", v.elapsed);
    // Same through the library, with the problem typed.
    let r = wsc_forensics::bundle::verify_bundle(&zip, &Default::default());
    assert!(
        r.problems.iter().any(|p| matches!(p,
            wsc_forensics::bundle::Problem::EntryUnreadable { entry, .. }
            | wsc_forensics::bundle::Problem::SizeMismatch { entry, .. } if *entry == name)),
        "{:?}",
        r.problems
    );
}

#[test]
fn a_hundred_thousand_tiny_entries() {
    let dir = tempfile::tempdir().unwrap();
    let zip = collect(dir.path());
    let mut e = read_entries(&zip);
    for i in 0..100_000 {
        e.push((format!("{ROOT}/data/t/{i}"), vec![b'x']));
    }
    write_entries(&zip, &e);
    let v = verify(&zip);
    assert_eq!(v.code, 1);
    assert_eq!(v.doc["verdict"], "altered");
    assert_eq!(v.doc["entries"], e.len());
    let unlisted = v.doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["problem"] == "unlisted-payload")
        .count();
    assert_eq!(unlisted, 100_000);
    assert!(v.elapsed < Duration::from_secs(100), "{:?}", v.elapsed);
}

#[test]
fn a_zip_inside_the_zip_is_payload_not_a_bag() {
    let dir = tempfile::tempdir().unwrap();
    let zip = collect(dir.path());
    let inner = std::fs::read(&zip).unwrap();
    // Inside a bag: one more unlisted file, not opened.
    let mut e = read_entries(&zip);
    e.push((format!("{ROOT}/data/inner.zip"), inner.clone()));
    write_entries(&zip, &e);
    let v = verify(&zip);
    assert_eq!(v.code, 1);
    assert_eq!(
        problems_naming(&v.doc, "data/inner.zip").len(),
        1,
        "{}",
        v.doc
    );
    // A zip holding only a bundle zip: no bag folder, exit 2.
    let outer = dir.path().join("outer.zip");
    write_entries(&outer, &vec![("b.zip".to_owned(), inner)]);
    let v = verify(&outer);
    assert_eq!(v.code, 2, "{}", v.doc);
    assert_eq!(v.doc["verdict"], "unreadable");
}

/// Offsets of (local headers, central-directory records, end record) in a zip we wrote.
fn zip_layout(raw: &[u8]) -> (Vec<usize>, Vec<usize>, usize) {
    let find_all = |sig: &[u8]| -> Vec<usize> {
        raw.windows(4)
            .enumerate()
            .filter(|(_, w)| *w == sig)
            .map(|(i, _)| i)
            .collect()
    };
    let eocd = *find_all(b"PK\x05\x06").last().unwrap();
    (find_all(b"PK\x03\x04"), find_all(b"PK\x01\x02"), eocd)
}

/// Found by this sweep: 616 of the 8,370 byte positions of a collected bundle could be changed
/// and `verify` still said `intact`: every byte of each local header (name, method, flags, time,
/// CRC, sizes), so readers that trust local headers would have extracted other files than the
/// ones verified; and in the central directory the disk number, the file attributes (an
/// executable, setuid or hidden bit), the last record's extra and comment lengths and the end record's directory size.
/// Tamper sweep: one byte changed at every position but the two unused fields; all are caught.
#[test]
fn tamper_sweep_every_byte_of_entries_and_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let zip = collect(dir.path());
    let raw = std::fs::read(&zip).unwrap();
    let (locals, centrals, eocd) = zip_layout(&raw);
    assert!(locals.len() >= 6 && locals.len() == centrals.len());
    let cd_start = centrals[0];
    // Every byte of the zip but the central records' "version made by" (4..6) and internal
    // attributes (36..38), which no reader uses to find, name, type or extract the bytes.
    let mut positions: Vec<usize> = (locals[0]..cd_start).collect();
    for &c in &centrals {
        let name_len = u16::from_le_bytes([raw[c + 28], raw[c + 29]]) as usize;
        positions.extend(
            (c..c + 46 + name_len)
                .filter(|&p| !(c + 4..c + 6).contains(&p) && !(c + 36..c + 38).contains(&p)),
        );
    }
    positions.extend(eocd..raw.len());
    let t = dir.path().join("t.zip");
    let mut missed = Vec::new();
    for &pos in &positions {
        let mut b = raw.clone();
        b[pos] ^= 0x01;
        std::fs::write(&t, &b).unwrap();
        let r = wsc_forensics::bundle::verify_bundle(&t, &Default::default());
        if r.exit_code() == 0 {
            missed.push(pos);
        }
    }
    eprintln!(
        "tamper sweep: {} positions of {} bytes tried, {} not caught",
        positions.len(),
        raw.len(),
        missed.len()
    );
    assert_eq!(positions.len(), raw.len() - locals[0] - 4 * centrals.len());
    assert!(missed.is_empty(), "not caught at {missed:?}");
    // Through the binary at a spread of positions: exit 1 or 2, never 0, never a panic.
    let step = positions.len() / 40;
    for &pos in positions.iter().step_by(step) {
        let mut b = raw.clone();
        b[pos] ^= 0x01;
        std::fs::write(&t, &b).unwrap();
        let v = verify(&t);
        assert!(
            v.code == 1 || v.code == 2,
            "position {pos}: exit {}",
            v.code
        );
    }
}

/// `timeline` and `report` read bundles too: given the hostile zips above they exit non-zero
/// (they verify first), never panic, and say why on stderr.
#[test]
fn timeline_and_report_refuse_hostile_zips() {
    let dir = tempfile::tempdir().unwrap();
    let good = collect(dir.path());
    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    // Twins.
    let twins = dir.path().join("twins.zip");
    let mut e = read_entries(&good);
    e.push((format!("{ROOT}/data/caf\u{e9}.txt"), b"1".to_vec()));
    e.push((format!("{ROOT}/data/cafe\u{301}.txt"), b"2".to_vec()));
    write_entries(&twins, &e);
    cases.push(("twins", twins));
    // Bomb.
    let bomb = dir.path().join("bomb.zip");
    std::fs::copy(&good, &bomb).unwrap();
    bomb_entry(&bomb, &format!("{ROOT}/data/bomb.bin"), 64 << 20, 1024);
    cases.push(("bomb", bomb));
    // A local header naming another file.
    let local = dir.path().join("local.zip");
    let mut raw = std::fs::read(&good).unwrap();
    let (locals, _, _) = zip_layout(&raw);
    let at = locals[0] + 30 + ROOT.len() + 1;
    raw[at] ^= 0x20;
    std::fs::write(&local, &raw).unwrap();
    cases.push(("local header", local));
    // No bag: a zip holding a bundle zip.
    let nested = dir.path().join("nested.zip");
    write_entries(
        &nested,
        &vec![("b.zip".to_owned(), std::fs::read(&good).unwrap())],
    );
    cases.push(("zip in zip", nested));
    for (what, zip) in &cases {
        for args in [
            vec!["timeline".to_owned()],
            vec![
                "report".to_owned(),
                "--format".to_owned(),
                "md".to_owned(),
                "--out".to_owned(),
                dir.path().join(format!("out-{what}")).display().to_string(),
            ],
        ] {
            let out = bin().args(&args).arg(zip).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{what} {args:?}: {stderr}");
            let code = out.status.code().expect("exited");
            assert!(
                code == 1 || code == 2,
                "{what} {args:?}: exit {code}: {stderr}"
            );
            assert!(!stderr.trim().is_empty(), "{what} {args:?}: nothing said");
        }
    }
}
