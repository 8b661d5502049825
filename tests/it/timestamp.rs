//! RFC 3161 trusted timestamps on bundles, against a local TSA made with `openssl`:
//! `collect --tsa`, `timestamp` (HTTP, offline request/response, replace), `verify --tsa-cert`
//! and the report's chain of custody; `openssl ts -verify` accepts every token we store; and
//! each way a token can be wrong is rejected with exit 1, naming the check.

use crate::common::tsa::{openssl, openssl_available, LocalTsa, TsaCert};
use crate::common::{code, json, run_in};
use std::io::Read;
use std::path::{Path, PathBuf};

const TOKEN: &str = "bundle-timestamp.tsr";

/// A small bundle `name` of one file with `content`, collected at a fixed time.
fn bundle(dir: &Path, name: &str, content: &str) -> PathBuf {
    let input = dir.join(format!("{name}-in"));
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("note.txt"), content).unwrap();
    let out = dir.join(format!("{name}.zip"));
    let o = run_in(
        dir,
        &[
            "collect",
            "-o",
            out.to_str().unwrap(),
            "--case-id",
            "TS-1",
            "--collected-at",
            "2026-01-01T00:00:00Z",
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    out
}

fn verify(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

fn digest_of(dir: &Path, bundle: &Path) -> String {
    let o = verify(dir, &["--json", bundle.to_str().unwrap()]);
    json(&o)["digest"].as_str().unwrap().to_owned()
}

/// Every entry of the zip: (name, raw compressed bytes as stored, CRC).
fn entries(zip: &Path) -> Vec<(String, Vec<u8>, u32)> {
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..za.len())
        .map(|i| {
            let mut f = za.by_index_raw(i).unwrap();
            let (name, crc) = (f.name().unwrap().into_owned(), f.crc32());
            let mut raw = Vec::new();
            f.read_to_end(&mut raw).unwrap();
            (name, raw, crc)
        })
        .collect()
}

/// The stored token, as bytes.
fn stored_token(zip: &Path) -> Vec<u8> {
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut f = za.by_name(&format!("TS-1/{TOKEN}")).unwrap();
    let mut out = Vec::new();
    f.read_to_end(&mut out).unwrap();
    out
}

/// Appends entry `name` (bag-relative) with `bytes` the way our writer stores a binary tag
/// file, bypassing every check of `timestamp`: how a wrong token gets into a bundle.
fn plant(zip: &Path, name: &str, bytes: &[u8]) {
    use std::io::Write;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(zip)
        .unwrap();
    let time = {
        let mut za = zip::ZipArchive::new(&file).unwrap();
        let t = za
            .by_name("TS-1/tagmanifest-sha256.txt")
            .unwrap()
            .last_modified()
            .unwrap();
        t
    };
    let mut w = zip::ZipWriter::new_append(&file).unwrap();
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(time)
        .unix_permissions(0o644);
    w.start_file(format!("TS-1/{name}"), opts).unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap();
}

/// `openssl ts -verify` of the token stored in `zip` against the bundle digest and the CA,
/// by the digest and by the tag manifest's bytes.
fn openssl_accepts(dir: &Path, zip: &Path, digest: &str, ca: &Path) {
    let tsr = dir.join("extracted.tsr");
    std::fs::write(&tsr, stored_token(zip)).unwrap();
    let tm = dir.join("tagmanifest.txt");
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut bytes = Vec::new();
    za.by_name("TS-1/tagmanifest-sha256.txt")
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    std::fs::write(&tm, bytes).unwrap();
    let (tsr, tm, ca) = (
        tsr.to_str().unwrap(),
        tm.to_str().unwrap(),
        ca.to_str().unwrap(),
    );
    openssl(
        dir,
        &[
            "ts", "-verify", "-in", tsr, "-digest", digest, "-CAfile", ca,
        ],
    );
    openssl(
        dir,
        &["ts", "-verify", "-in", tsr, "-data", tm, "-CAfile", ca],
    );
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn collect_with_a_tsa_then_verify_and_report_prove_the_time() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    let url = tsa.serve();
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a.txt"), "evidence").unwrap();
    let zip = d.join("c.zip");
    let o = run_in(
        d,
        &[
            "collect",
            "-o",
            zip.to_str().unwrap(),
            "--case-id",
            "TS-1",
            "--tsa",
            &url,
            "--tsa-cert",
            tsa.ca.to_str().unwrap(),
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("timestamp stored: the token verifies against --tsa-cert"));

    let ca = tsa.ca.to_str().unwrap();
    let o = verify(d, &["--tsa-cert", ca, zip.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("timestamp: the bundle digest existed at 20"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("CN=Test TSA"));
    let j = json(&verify(
        d,
        &["--json", "--tsa-cert", ca, zip.to_str().unwrap()],
    ));
    assert_eq!(j["timestamp"]["status"], "verified");
    let gen_time = j["timestamp"]["gen_time"].as_str().unwrap().to_owned();
    let t = chrono::DateTime::parse_from_rfc3339(&gen_time).unwrap();
    assert!(
        (chrono::Utc::now() - t.to_utc()).num_minutes().abs() < 10,
        "{gen_time}"
    );
    let digest = j["digest"].as_str().unwrap().to_owned();
    openssl_accepts(d, &zip, &digest, &tsa.ca);

    // Without --tsa-cert: present, not verified, and not a failure.
    let o = verify(d, &[zip.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).contains("timestamp present, not verified (no --tsa-cert)"));

    // The report's chain of custody states the proven time and the TSA.
    let rep = d.join("rep");
    let o = run_in(
        d,
        &[
            "report",
            "-o",
            rep.to_str().unwrap(),
            "--format",
            "md",
            "--tsa-cert",
            ca,
            zip.to_str().unwrap(),
        ],
    );
    assert!(code(&o) <= 1, "{}", stderr(&o));
    let rca = std::fs::read_to_string(rep.join("root-cause-analysis.md")).unwrap();
    assert!(
        rca.contains(&format!(
            "Trusted timestamp: the bundle digest existed at {gen_time}"
        )),
        "{rca}"
    );
}

#[test]
fn timestamp_over_http_and_offline_keeps_every_entry_and_the_digest() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    let ca = tsa.ca.to_str().unwrap();
    let original = bundle(d, "b", "one");
    let digest = digest_of(d, &original);
    let before = std::fs::read(&original).unwrap();
    let entries_before = entries(&original);

    // Offline: the request, answered by `openssl ts -reply`, the response stored.
    let zip = d.join("offline.zip");
    std::fs::copy(&original, &zip).unwrap();
    let tsq = d.join("b.tsq");
    let o = run_in(
        d,
        &[
            "timestamp",
            "--request",
            "-o",
            tsq.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&zip).unwrap(),
        before,
        "--request changes nothing"
    );
    let tsq_text = std::process::Command::new("openssl")
        .args(["ts", "-query", "-text", "-in", tsq.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&tsq_text.stdout);
    assert!(text.contains("Hash Algorithm: sha256"), "{text}");
    assert!(text.contains("Certificate required: yes"), "{text}");
    assert!(text.contains("Nonce: 0x"), "{text}");
    let tsr = d.join("b.tsr");
    std::fs::write(&tsr, tsa.reply(&std::fs::read(&tsq).unwrap())).unwrap();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            tsr.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    // Every earlier entry identical (raw bytes, CRC), one entry more, the same digest, and
    // every byte before the old central directory unchanged.
    let after = entries(&zip);
    assert_eq!(after.len(), entries_before.len() + 1);
    assert_eq!(after[..entries_before.len()], entries_before[..]);
    assert_eq!(after.last().unwrap().0, format!("TS-1/{TOKEN}"));
    assert_eq!(digest_of(d, &zip), digest);
    let cd_start = {
        let za = zip::ZipArchive::new(std::fs::File::open(&original).unwrap()).unwrap();
        za.central_directory_start() as usize
    };
    assert_eq!(std::fs::read(&zip).unwrap()[..cd_start], before[..cd_start]);
    let o = verify(d, &["--tsa-cert", ca, zip.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    openssl_accepts(d, &zip, &digest, &tsa.ca);

    // A second token is refused unless asked for; the bundle is untouched.
    let stamped = std::fs::read(&zip).unwrap();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            tsr.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("already holds bundle-timestamp.tsr"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&zip).unwrap(), stamped);

    // Over HTTP, replacing it: still intact, same digest, the new token verifies.
    let url = tsa.serve();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--tsa",
            &url,
            "--tsa-cert",
            ca,
            "--replace",
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("the bundle digest existed at"));
    assert_ne!(stored_token(&zip), std::fs::read(&tsr).unwrap());
    assert_eq!(entries(&zip)[..entries_before.len()], entries_before[..]);
    assert_eq!(digest_of(d, &zip), digest);
    openssl_accepts(d, &zip, &digest, &tsa.ca);

    // Over HTTP onto an untimestamped copy.
    let http = d.join("http.zip");
    std::fs::copy(&original, &http).unwrap();
    let o = run_in(d, &["timestamp", "--tsa", &url, http.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify(d, &["--tsa-cert", ca, http.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn timestamp_refuses_a_token_for_another_digest_a_link_and_an_altered_bundle() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    let zip = bundle(d, "b", "one");
    let other = bundle(d, "o", "two");
    let before = std::fs::read(&zip).unwrap();
    let tsr = d.join("other.tsr");
    std::fs::write(&tsr, tsa.token_for(&digest_of(d, &other), true)).unwrap();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            tsr.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("is not the bundle digest"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&zip).unwrap(), before);

    let link = d.join("link.zip");
    std::os::unix::fs::symlink(&zip, &link).unwrap();
    let good = d.join("good.tsr");
    std::fs::write(&good, tsa.token_for(&digest_of(d, &zip), true)).unwrap();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            good.to_str().unwrap(),
            link.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("symbolic link"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&zip).unwrap(), before);

    plant(&zip, "extra.txt", b"x");
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            good.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("not an intact wsc-forensics bundle"));
}

/// `verify --tsa-cert` on a bundle holding `token`: exit 1 and the check named.
fn rejected(d: &Path, zip: &Path, token: &[u8], tsa_cert: &Path, check: &str) {
    plant(zip, TOKEN, token);
    let o = verify(
        d,
        &[
            "--tsa-cert",
            tsa_cert.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("timestamp: INVALID"), "{out}");
    assert!(
        out.contains(&format!("bundle-timestamp.tsr: {check}")),
        "expected {check:?}: {out}"
    );
    let j = json(&verify(
        d,
        &[
            "--json",
            "--tsa-cert",
            tsa_cert.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    ));
    assert_eq!(j["timestamp"]["status"], "invalid");
    assert_eq!(j["verdict"], "altered");
}

#[test]
fn verify_rejects_each_wrong_token_naming_the_check() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    let other_tsa = LocalTsa::new(d, "Other TSA", TsaCert::Good);
    let expired = LocalTsa::new(d, "Expired TSA", TsaCert::Expired);
    let other = bundle(d, "other", "two");
    let other_digest = digest_of(d, &other);

    // Over another digest.
    let zip = bundle(d, "imprint", "one");
    rejected(
        d,
        &zip,
        &tsa.token_for(&other_digest, true),
        &tsa.ca,
        "message imprint",
    );

    // From another TSA: its certificate does not chain to the given CA.
    let zip = bundle(d, "chain", "one");
    let digest = digest_of(d, &zip);
    rejected(
        d,
        &zip,
        &other_tsa.token_for(&digest, true),
        &tsa.ca,
        "TSA certificate chain",
    );

    // A broken signature: the last byte of the DER is the signature's.
    let zip = bundle(d, "sig", "one");
    let mut token = tsa.token_for(&digest_of(d, &zip), true);
    *token.last_mut().unwrap() ^= 0x01;
    rejected(d, &zip, &token, &tsa.ca, "CMS signature");

    // genTime (now) outside the TSA certificate's validity (2020).
    let zip = bundle(d, "validity", "one");
    rejected(
        d,
        &zip,
        &expired.token_for(&digest_of(d, &zip), true),
        &expired.ca,
        "TSA certificate validity",
    );

    // A TSA certificate without the timeStamping usage: a token carrying no certificate,
    // checked against a twin certificate of the same key, issuer and serial without the EKU.
    let zip = bundle(d, "eku", "one");
    let twin = tsa.no_eku_twin();
    let anchors = d.join("twin-and-ca.pem");
    std::fs::write(
        &anchors,
        [
            std::fs::read(&twin).unwrap(),
            std::fs::read(&tsa.ca).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    rejected(
        d,
        &zip,
        &tsa.token_for(&digest_of(d, &zip), false),
        &anchors,
        "TSA extended key usage",
    );
    // The same token passes with the real TSA certificate: the EKU was what failed.
    let zip = bundle(d, "eku-ok", "one");
    plant(&zip, TOKEN, &tsa.token_for(&digest_of(d, &zip), false));
    let real = d.join("tsa-and-ca.pem");
    std::fs::write(
        &real,
        [
            std::fs::read(&tsa.tsa_cert).unwrap(),
            std::fs::read(&tsa.ca).unwrap(),
        ]
        .concat(),
    )
    .unwrap();
    let o = verify(
        d,
        &["--tsa-cert", real.to_str().unwrap(), zip.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));

    // --tsa-cert on a bundle without a token: the proof asked for is not there.
    let zip = bundle(d, "none", "one");
    let o = verify(
        d,
        &[
            "--tsa-cert",
            tsa.ca.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("bundle-timestamp.tsr: missing, but --tsa-cert asks for proof of time")
    );
    // ... and the report says so.
    let rep = d.join("rep-none");
    run_in(
        d,
        &[
            "report",
            "-o",
            rep.to_str().unwrap(),
            "--format",
            "md",
            zip.to_str().unwrap(),
        ],
    );
    let rca = std::fs::read_to_string(rep.join("root-cause-analysis.md")).unwrap();
    assert!(rca.contains("Trusted timestamp: not recorded."), "{rca}");
}

#[test]
fn the_zip_structure_check_accepts_the_token_entry_and_nothing_else_new() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    let zip = bundle(d, "b", "one");
    let digest = digest_of(d, &zip);
    plant(&zip, TOKEN, &tsa.token_for(&digest, true));
    let o = verify(
        d,
        &[
            "--tsa-cert",
            tsa.ca.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    // A second, unknown entry beside it fails.
    plant(&zip, "bundle-timestamp2.tsr", b"not a token");
    let o = verify(d, &[zip.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("bundle-timestamp2.tsr"),
        "{}",
        stdout(&o)
    );
    // A token that is not one fails even without --tsa-cert.
    let zip = bundle(d, "junk", "one");
    plant(&zip, TOKEN, b"not a token");
    let o = verify(d, &[zip.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("bundle-timestamp.tsr: the timestamp response is not usable"));
    // Nor is an entry far larger than any token, with or without --tsa-cert.
    let zip = bundle(d, "huge", "one");
    plant(&zip, TOKEN, &vec![0x30; 300 << 10]);
    for args in [vec![], vec!["--tsa-cert", tsa.ca.to_str().unwrap()]] {
        let mut args = args.clone();
        args.push(zip.to_str().unwrap());
        let o = verify(d, &args);
        assert_eq!(code(&o), 1, "{}", stdout(&o));
        assert!(
            stdout(&o).contains("larger than any timestamp token"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn an_rsa_tsa_token_verifies_and_a_broken_one_does_not() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "RSA TSA", TsaCert::Rsa);
    let zip = bundle(d, "rsa", "one");
    let digest = digest_of(d, &zip);
    let tsr = d.join("rsa.tsr");
    let token = tsa.token_for(&digest, true);
    std::fs::write(&tsr, &token).unwrap();
    let o = run_in(
        d,
        &[
            "timestamp",
            "--response",
            tsr.to_str().unwrap(),
            "--tsa-cert",
            tsa.ca.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = verify(
        d,
        &[
            "--tsa-cert",
            tsa.ca.to_str().unwrap(),
            zip.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("CN=RSA TSA"));
    openssl_accepts(d, &zip, &digest, &tsa.ca);
    let broken = bundle(d, "rsa-broken", "one");
    let mut token = tsa.token_for(&digest_of(d, &broken), true);
    *token.last_mut().unwrap() ^= 0x01;
    rejected(d, &broken, &token, &tsa.ca, "CMS signature");
}

#[test]
fn no_token_no_bundle_and_a_replayed_response_is_refused() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tsa = LocalTsa::new(d, "Test TSA", TsaCert::Good);
    // A TSA that does not answer: collect writes nothing (no bundle, no temp file).
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a.txt"), "evidence").unwrap();
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let zip = out.join("c.zip");
    let o = run_in(
        d,
        &[
            "collect",
            "-o",
            zip.to_str().unwrap(),
            "--case-id",
            "TS-1",
            "--tsa",
            &format!("http://127.0.0.1:{port}/tsr"),
            input.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no bundle written"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);

    // A TSA answering with a token over the right digest but for another request (another
    // nonce): refused, nothing stored.
    let b = bundle(d, "b", "one");
    let before = std::fs::read(&b).unwrap();
    let replay = tsa.serve_fixed(tsa.token_for(&digest_of(d, &b), true));
    let o = run_in(d, &["timestamp", "--tsa", &replay, b.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("nonce is not the request's"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&b).unwrap(), before);
}
