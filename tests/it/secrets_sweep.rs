//! Secrets sweep: with real secret key files among the inputs (wsc raw `.sec` keys A, B and the
//! bundle signer, key A as PKCS#8 PEM, an OpenSSH Ed25519 key), every command runs the way a
//! responder would run it (collect signed with a secret key, verify, inspect on the key files,
//! keys, scope, timeline in every format, report in Markdown and PDF, demo), and everything they
//! produce is scanned: stdout and stderr of every run, every zip entry decompressed (and the raw
//! zip), every report and list file, every PDF stream decompressed (and pdftotext's text when
//! installed), the custody argv. Each secret is looked for as raw bytes, lower- and upper-case
//! hex, standard and URL-safe base64 (at every alignment), and the SHA-256 of each secret key
//! file in hex (a hash of a secret file lets anyone confirm a guess of it). Zero hits.
//!
//! The one documented exception: the stdout of `keys baseline`, which *is* the `sha256sum`
//! list of the key files that the runbook asks for (secret key files included, so a later
//! `keys check` can tell they changed). Its stderr is still scanned, and so is everything
//! `keys check` prints when it reads that baseline.

use crate::common::fixture;
use base64::Engine;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use wsc_forensics::model::digest::Sha256Digest;

/// One secret key and the byte strings that would betray it.
struct Secret {
    name: &'static str,
    needles: Vec<(String, Vec<u8>)>,
}

fn secret(name: &'static str, seed: [u8; 32], file: &[u8]) -> Secret {
    let mut needles = vec![
        ("raw seed".to_owned(), seed.to_vec()),
        ("hex seed".to_owned(), hex::encode(seed).into_bytes()),
        ("HEX seed".to_owned(), hex::encode_upper(seed).into_bytes()),
    ];
    // Base64 at any alignment: wherever the seed sits in an encoded stream, one of seed[0..],
    // seed[1..], seed[2..] starts a 3-byte group, and the next 27 bytes encode to these 36
    // characters.
    for j in 0..3 {
        for (alpha, engine) in [
            ("base64", base64::engine::general_purpose::STANDARD),
            ("base64url", base64::engine::general_purpose::URL_SAFE),
        ] {
            needles.push((
                format!("{alpha} seed (offset {j})"),
                engine.encode(&seed[j..j + 27]).into_bytes(),
            ));
        }
    }
    let file_hash = Sha256Digest::of(file).to_hex();
    needles.push((
        "sha256 of the key file".to_owned(),
        file_hash.clone().into_bytes(),
    ));
    needles.push((
        "SHA256 of the key file".to_owned(),
        file_hash.to_uppercase().into_bytes(),
    ));
    Secret { name, needles }
}

/// The seed of an unencrypted `openssh-key-v1` Ed25519 private key (PROTOCOL.key): the private
/// section's key is seed || public key.
fn openssh_seed(text: &str) -> [u8; 32] {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    let mut r: &[u8] = bytes.strip_prefix(b"openssh-key-v1\0").unwrap();
    fn u32_(r: &mut &[u8]) -> u32 {
        let (h, t) = r.split_at(4);
        *r = t;
        u32::from_be_bytes(h.try_into().unwrap())
    }
    fn string<'a>(r: &mut &'a [u8]) -> &'a [u8] {
        let n = u32_(r) as usize;
        let (h, t) = r.split_at(n);
        *r = t;
        h
    }
    assert_eq!(string(&mut r), b"none", "an encrypted key");
    string(&mut r); // kdf name
    string(&mut r); // kdf options
    assert_eq!(u32_(&mut r), 1);
    string(&mut r); // public key blob
    let mut p = string(&mut r);
    assert_eq!(u32_(&mut p), u32_(&mut p), "check ints differ");
    assert_eq!(string(&mut p), b"ssh-ed25519");
    let public = string(&mut p).to_vec();
    let private = string(&mut p);
    assert_eq!(&private[32..], &public[..]);
    let seed: [u8; 32] = private[..32].try_into().unwrap();
    // Right parse: the seed gives the public key.
    let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
    assert_eq!(sk.verifying_key().as_bytes(), &public[..]);
    seed
}

fn secrets() -> Vec<Secret> {
    let mut out = Vec::new();
    let raw_seed = |f: &str| -> ([u8; 32], Vec<u8>) {
        let b = std::fs::read(fixture(&format!("wsc/keys/{f}"))).unwrap();
        assert_eq!(b.len(), 65, "{f}: a raw wsc secret key is 65 bytes");
        (b[1..33].try_into().unwrap(), b)
    };
    let (seed_a, file_a) = raw_seed("test-key-a.sec");
    out.push(secret("test-key-a.sec", seed_a, &file_a));
    for f in ["test-key-b.sec", "test-key-bundle-signer.sec"] {
        let (seed, file) = raw_seed(f);
        out.push(secret(
            if f.contains("-b.") {
                "test-key-b.sec"
            } else {
                "test-key-bundle-signer.sec"
            },
            seed,
            &file,
        ));
    }
    // Key A as PKCS#8: the same seed (checked), and its own file hash and DER.
    let pem = std::fs::read(fixture("wsc/keys/test-key-a.pkcs8.pem")).unwrap();
    let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
    assert_eq!(sk.to_bytes(), seed_a, "the PKCS#8 file is not key A");
    let mut p = secret("test-key-a.pkcs8.pem", sk.to_bytes(), &pem);
    let der_b64: String = std::str::from_utf8(&pem)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    p.needles
        .push(("PEM body".to_owned(), der_b64.clone().into_bytes()));
    let der = base64::engine::general_purpose::STANDARD
        .decode(&der_b64)
        .unwrap();
    p.needles.push(("DER".to_owned(), der.clone()));
    p.needles
        .push(("hex DER".to_owned(), hex::encode(&der).into_bytes()));
    out.push(p);
    let ssh = std::fs::read(fixture("wsc/keys/test-ssh-ed25519")).unwrap();
    let mut s = secret(
        "test-ssh-ed25519",
        openssh_seed(std::str::from_utf8(&ssh).unwrap()),
        &ssh,
    );
    for line in std::str::from_utf8(&ssh).unwrap().lines() {
        if !line.starts_with("-----") && line.len() >= 40 {
            s.needles
                .push(("OpenSSH body line".to_owned(), line.as_bytes().to_vec()));
        }
    }
    out.push(s);
    out
}

/// Every output, labelled, and a scan of all of them for every needle.
struct Sweep {
    secrets: Vec<Secret>,
    /// Needles by their first 8 bytes, so each haystack is scanned once.
    by_prefix: HashMap<[u8; 8], Vec<(usize, usize)>>,
    hits: Vec<String>,
    haystacks: usize,
    bytes: usize,
    /// Files that are byte-identical copies of a secret key input (the demo stages them as the
    /// evidence it collects): they are inputs, not outputs.
    secret_files: HashSet<Vec<u8>>,
}

impl Sweep {
    fn new() -> Sweep {
        let secrets = secrets();
        let mut by_prefix: HashMap<[u8; 8], Vec<(usize, usize)>> = HashMap::new();
        for (si, s) in secrets.iter().enumerate() {
            for (ni, (_, n)) in s.needles.iter().enumerate() {
                assert!(n.len() >= 20, "{}: needle too short", s.name);
                by_prefix
                    .entry(n[..8].try_into().unwrap())
                    .or_default()
                    .push((si, ni));
            }
        }
        let secret_files = [
            "test-key-a.sec",
            "test-key-b.sec",
            "test-key-bundle-signer.sec",
            "test-key-a.pkcs8.pem",
            "test-ssh-ed25519",
        ]
        .iter()
        .map(|f| {
            let bytes = std::fs::read(fixture(&format!("wsc/keys/{f}"))).unwrap();
            // The same detector collect, keys and inspect use knows every input of the sweep.
            assert!(
                wsc_forensics::source::secret::detect(&bytes).is_some(),
                "{f}: not recognised as secret material"
            );
            bytes
        })
        .collect();
        Sweep {
            secrets,
            by_prefix,
            hits: Vec::new(),
            haystacks: 0,
            bytes: 0,
            secret_files,
        }
    }

    fn scan(&mut self, label: &str, hay: &[u8]) {
        self.haystacks += 1;
        self.bytes += hay.len();
        let mut found = HashSet::new();
        for (i, w) in hay.windows(8).enumerate() {
            let Some(cands) = self.by_prefix.get(w) else {
                continue;
            };
            for &(si, ni) in cands {
                let n = &self.secrets[si].needles[ni].1;
                if hay[i..].starts_with(n) {
                    found.insert((si, ni));
                }
            }
        }
        for (si, ni) in found {
            let s = &self.secrets[si];
            self.hits
                .push(format!("{label}: {} ({})", s.name, s.needles[ni].0));
        }
    }

    /// Runs the binary; scans stdout (unless `scan_stdout` is false) and stderr.
    fn run(&mut self, args: &[&str], cwd: &Path, scan_stdout: bool) -> std::process::Output {
        let o = Command::new(assert_cmd::cargo::cargo_bin("wsc-forensics"))
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let label = args.join(" ");
        assert!(
            o.status.code().is_some_and(|c| c < 2),
            "`{label}` failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        if scan_stdout {
            self.scan(&format!("stdout of `{label}`"), &o.stdout);
        }
        self.scan(&format!("stderr of `{label}`"), &o.stderr);
        o
    }

    fn zip(&mut self, path: &Path) {
        let raw = std::fs::read(path).unwrap();
        self.scan(&path.display().to_string(), &raw);
        let mut za = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
        for i in 0..za.len() {
            let mut f = za.by_index(i).unwrap();
            let name = f.name().unwrap().to_string();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            self.scan(&format!("{}!{name}", path.display()), &v);
        }
    }

    fn pdf(&mut self, path: &Path) {
        let doc = lopdf::Document::load(path).unwrap();
        for (id, obj) in &doc.objects {
            if let lopdf::Object::Stream(s) = obj {
                let content = s
                    .decompressed_content()
                    .unwrap_or_else(|_| s.content.clone());
                self.scan(&format!("{} object {id:?}", path.display()), &content);
            }
        }
        if pdftotext_installed() {
            let o = Command::new("pdftotext")
                .arg(path)
                .arg("-")
                .output()
                .unwrap();
            assert!(o.status.success());
            self.scan(&format!("pdftotext {}", path.display()), &o.stdout);
        }
    }

    /// Every file under `dir`: zips and PDFs opened up as well.
    fn tree(&mut self, dir: &Path) -> usize {
        let mut n = 0;
        for e in walkdir::WalkDir::new(dir) {
            let e = e.unwrap();
            if !e.file_type().is_file() {
                continue;
            }
            let bytes = std::fs::read(e.path()).unwrap();
            if self.secret_files.contains(&bytes) {
                continue;
            }
            n += 1;
            self.scan(&e.path().display().to_string(), &bytes);
            match e.path().extension().and_then(|x| x.to_str()) {
                Some("zip") => self.zip(e.path()),
                Some("pdf") => self.pdf(e.path()),
                _ => {}
            }
        }
        n
    }
}

/// pdftotext's text is an extra view of the PDFs; the decompressed streams are always scanned.
fn pdftotext_installed() -> bool {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONCE.get_or_init(crate::common::pdftotext_available)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn no_secret_key_byte_reaches_any_output() {
    let mut sw = Sweep::new();
    // The scanner finds what it must: each secret in each form, and the file hashes.
    for sec in &sw.secrets {
        assert!(sec.needles.len() >= 11);
    }
    {
        let a = &sw.secrets[0];
        let mut probe = b"prefix ".to_vec();
        for (_, n) in &a.needles {
            probe.extend_from_slice(n);
            probe.push(b' ');
        }
        let before = sw.hits.len();
        let expected = a.needles.len();
        sw.scan("self-test", &probe);
        let of_a = sw.hits[before..]
            .iter()
            .filter(|h| h.starts_with("self-test: test-key-a.sec "))
            .count();
        assert_eq!(of_a, expected, "the scanner misses needles");
        sw.hits.truncate(before);
        // And base64 of key A's raw file at any offset is caught.
        for pad in 0..3 {
            let mut buf = vec![b'x'; pad];
            buf.extend_from_slice(&std::fs::read(fixture("wsc/keys/test-key-a.sec")).unwrap());
            let enc = base64::engine::general_purpose::STANDARD.encode(&buf);
            sw.scan("self-test b64", enc.as_bytes());
            assert!(sw.hits.len() > before, "base64 at offset {pad} missed");
            sw.hits.truncate(before);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = fixture("wsc/keys");
    let modules = fixture("wsc/modules");
    let audit = fixture("wsc/audit");
    let signer = fixture("wsc/keys/test-key-bundle-signer.sec");
    let signer_pub = fixture("wsc/keys/test-key-bundle-signer.pub");
    let case = d.join("case.toml");
    std::fs::write(
        &case,
        "case_id = \"IR-SECRETS\"\nexaminer = \"A. Examiner\"\nincident_type = \"INC-1\"\nseverity = \"critical\"\n[keys]\ncompromised = [\"c858d5ec82d976c190cb33d0\"]\n[window]\nfrom = \"2020-01-01T00:00:00Z\"\nto = \"2030-01-01T00:00:00Z\"\n[times]\ndetected = \"2026-11-20T09:00:00Z\"\ncontained = \"2026-11-20T11:30:00Z\"\n",
    )
    .unwrap();

    // collect: signed with a secret key file, every secret key format among the inputs.
    let bundle = d.join("case.zip");
    sw.run(
        &[
            "collect",
            "-vv",
            "--sign-key",
            s(&signer),
            "--case-file",
            s(&case),
            "-K",
            s(&fixture("wsc/keys/test-key-a.pub")),
            "-o",
            s(&bundle),
            s(&modules),
            s(&keys),
            s(&audit),
        ],
        d,
        true,
    );
    let bundle_json = d.join("case-json.zip");
    sw.run(
        &[
            "collect",
            "--json",
            "--compress",
            "--sign-key",
            s(&fixture("wsc/keys/test-key-a.pkcs8.pem")),
            "--case-file",
            s(&case),
            "-o",
            s(&bundle_json),
            s(&keys),
            s(&modules),
        ],
        d,
        true,
    );
    for b in [&bundle, &bundle_json] {
        sw.zip(b);
        // The custody argv names the signing key file, never its content.
        let c = wsc_forensics::bundle::open_bundle(b).unwrap();
        for e in &c.custody {
            let argv = e.argv.join("\0");
            sw.scan("custody argv", argv.as_bytes());
        }
        assert!(c.custody[0].argv.iter().any(|a| a.contains("--sign-key")));
    }

    // verify
    sw.run(&["verify", s(&bundle)], d, true);
    sw.run(
        &[
            "verify",
            "--json",
            "--examiner-key",
            s(&signer_pub),
            s(&bundle),
        ],
        d,
        true,
    );
    sw.run(&["verify", "-v", s(&bundle_json)], d, true);

    // inspect: every key file, and modules judged with a secret key file's public half.
    let key_files: Vec<PathBuf> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.to_string_lossy().ends_with(".txt"))
        .collect();
    for k in &key_files {
        sw.run(&["inspect", s(k)], d, true);
        sw.run(&["inspect", "--json", s(k)], d, true);
    }
    let mut all: Vec<&str> = vec!["inspect", "-v", "--json"];
    all.extend(key_files.iter().map(|k| s(k)));
    sw.run(&all, d, true);
    sw.run(
        &[
            "inspect",
            "-K",
            s(&fixture("wsc/keys/test-key-a.sec")),
            s(&fixture("wsc/modules/signed-a.wasm")),
        ],
        d,
        true,
    );

    // keys: audit, baseline (stdout excepted, see above), check.
    sw.run(&["keys", s(&keys)], d, true);
    sw.run(
        &["keys", "--json", "-v", "--case", s(&case), s(&keys)],
        d,
        true,
    );
    let baseline = sw.run(&["keys", "baseline", s(&keys)], d, false);
    // The baseline is that excepted stdout, so it is kept outside the scanned tree.
    let baseline_dir = tempfile::tempdir().unwrap();
    let baseline_file = baseline_dir.path().join("keys.sha256");
    std::fs::write(&baseline_file, &baseline.stdout).unwrap();
    // The exception is exactly what it says: the baseline does list the secret files' hashes.
    let listed = String::from_utf8(baseline.stdout).unwrap();
    assert!(listed.contains(&Sha256Digest::of(&std::fs::read(&signer).unwrap()).to_hex()));
    sw.run(
        &["keys", "check", "--baseline", s(&baseline_file), s(&keys)],
        d,
        true,
    );
    sw.run(
        &[
            "keys",
            "check",
            "--json",
            "--baseline",
            s(&baseline_file),
            s(&keys),
        ],
        d,
        true,
    );

    // keys check after a secret key was replaced: the new file's hash is in no baseline and
    // must not appear either.
    let copy = d.join("keys-copy");
    std::fs::create_dir(&copy).unwrap();
    for k in &key_files {
        std::fs::copy(k, copy.join(k.file_name().unwrap())).unwrap();
    }
    let bl = sw.run(&["keys", "baseline", "keys-copy"], d, false);
    let copy_baseline = baseline_dir.path().join("copy.sha256");
    std::fs::write(&copy_baseline, &bl.stdout).unwrap();
    std::fs::copy(
        fixture("wsc/keys/test-key-b.sec"),
        copy.join("test-key-a.sec"),
    )
    .unwrap();
    for extra in [&["-v"][..], &["--json"][..]] {
        let mut args = vec!["keys", "check", "--baseline", s(&copy_baseline)];
        args.extend_from_slice(extra);
        args.push("keys-copy");
        let o = sw.run(&args, d, true);
        assert_eq!(o.status.code(), Some(1), "the replaced key is not reported");
        assert!(String::from_utf8_lossy(&o.stdout).contains("changed"));
    }

    // scope: by a secret key file, over the modules and the bundle; the re-sign list.
    let list = d.join("resign.txt");
    sw.run(
        &[
            "scope",
            "--key",
            s(&fixture("wsc/keys/test-key-a.sec")),
            "--key",
            s(&fixture("wsc/keys/test-ssh-ed25519")),
            "--list",
            s(&list),
            s(&modules),
            s(&bundle),
        ],
        d,
        true,
    );
    sw.run(
        &[
            "scope",
            "--json",
            "--key",
            s(&fixture("wsc/keys/test-key-a.pkcs8.pem")),
            s(&modules),
        ],
        d,
        true,
    );

    // timeline: every format, to stdout and to a file.
    for fmt in ["csv", "jsonl", "md"] {
        sw.run(&["timeline", "--format", fmt, s(&bundle)], d, true);
        let f = d.join(format!("timeline.{fmt}"));
        sw.run(
            &["timeline", "--format", fmt, "-o", s(&f), s(&bundle)],
            d,
            true,
        );
    }

    // report: Markdown and PDF.
    let reports = d.join("reports");
    sw.run(&["report", "--out", s(&reports), s(&bundle)], d, true);
    sw.run(
        &[
            "report",
            "--json",
            "--format",
            "md",
            "--out",
            s(&d.join("reports-json")),
            s(&bundle_json),
        ],
        d,
        true,
    );

    // demo: stages copies of the secret key files as the incident's evidence (skipped by
    // content), then collects, verifies and reports.
    let demo = d.join("demo");
    sw.run(&["demo", "--out", s(&demo)], d, true);

    // Every file the commands wrote (bundles, lists, timelines, reports, the demo's tree).
    let files = sw.tree(d);
    let pdfs = walkdir::WalkDir::new(d)
        .into_iter()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "pdf")
        })
        .count();
    assert!(pdfs >= 8, "expected the PDF reports, found {pdfs}");
    assert!(files > 40, "only {files} output files");
    eprintln!(
        "secrets sweep: {} secrets, {} needles, {} haystacks, {} bytes, {} output files, {} PDFs",
        sw.secrets.len(),
        sw.secrets.iter().map(|s| s.needles.len()).sum::<usize>(),
        sw.haystacks,
        sw.bytes,
        files,
        pdfs
    );
    assert!(
        sw.hits.is_empty(),
        "secret material in outputs:\n{}",
        sw.hits.join("\n")
    );
}
