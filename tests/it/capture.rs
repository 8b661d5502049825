//! Capture hardening (#13): secret key material in any of its formats, collected next to normal
//! files, never reaches the bundle or any output; a directory swapped for a symbolic link while
//! collect runs is never followed; a 20 GB sparse file is flagged, not copied.

use crate::common::{bin, collect_request, fixture};
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use std::io::Read;
use std::path::{Path, PathBuf};
use wsc_forensics::bundle::open_bundle;
use wsc_forensics::model::evidence::ItemKind;

/// The byte strings that would betray a seed: raw, hex, and base64/base64url at every alignment.
fn needles(seed: &[u8; 32]) -> Vec<(String, Vec<u8>)> {
    let mut n = vec![
        ("raw".to_owned(), seed.to_vec()),
        ("hex".to_owned(), hex::encode(seed).into_bytes()),
        ("HEX".to_owned(), hex::encode_upper(seed).into_bytes()),
    ];
    for j in 0..3 {
        for (name, e) in [
            ("base64", base64::engine::general_purpose::STANDARD),
            (
                "base64url",
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ),
        ] {
            n.push((
                format!("{name}@{j}"),
                e.encode(&seed[j..j + 27]).into_bytes(),
            ));
        }
    }
    n
}

fn pem(label: &str, der: &[u8], eol: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----{eol}");
    for line in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap());
        s.push_str(eol);
    }
    s.push_str(&format!("-----END {label}-----{eol}"));
    s
}

/// An OpenSSH `openssh-key-v1` Ed25519 private key (cipher none), armored.
fn openssh(seed: &[u8; 32], pk: &[u8; 32]) -> String {
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s);
    }
    let mut pubblob = Vec::new();
    string(&mut pubblob, b"ssh-ed25519");
    string(&mut pubblob, pk);
    let mut private = Vec::new();
    private.extend_from_slice(&[0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78]);
    string(&mut private, b"ssh-ed25519");
    string(&mut private, pk);
    let mut sk = seed.to_vec();
    sk.extend_from_slice(pk);
    string(&mut private, &sk);
    string(&mut private, b"test@host");
    let mut pad = 1u8;
    while private.len() % 8 != 0 {
        private.push(pad);
        pad += 1;
    }
    let mut blob = b"openssh-key-v1\0".to_vec();
    string(&mut blob, b"none");
    string(&mut blob, b"none");
    string(&mut blob, b"");
    blob.extend_from_slice(&1u32.to_be_bytes());
    string(&mut blob, &pubblob);
    string(&mut blob, &private);
    pem("OPENSSH PRIVATE KEY", &blob, "\n")
}

/// EncryptedPrivateKeyInfo { PBES2 AlgorithmIdentifier, OCTET STRING }; the "ciphertext" holds
/// the seed itself, so a leak of the file would show in the scan.
fn encrypted_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut alg = vec![
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d,
    ];
    alg.extend_from_slice(&[0x30, 0x00]);
    let mut body = vec![0x30, alg.len() as u8];
    body.extend_from_slice(&alg);
    body.extend_from_slice(&[0x04, 48]);
    body.extend_from_slice(&[0xee; 8]);
    body.extend_from_slice(seed);
    body.extend_from_slice(&[0xee; 8]);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    der
}

/// Every secret format, each with its own seed: (file name, bytes, seed).
fn secret_files() -> Vec<(&'static str, Vec<u8>, [u8; 32])> {
    let mut out = Vec::new();
    let mut n = 0u8;
    let mut next = || {
        n += 1;
        let seed = [n.wrapping_mul(37).wrapping_add(11); 32].map(|b| b ^ n);
        let mut s = seed;
        for (i, b) in s.iter_mut().enumerate() {
            *b = b.wrapping_add(i as u8 * 7);
        }
        let sk = ed25519_dalek::SigningKey::from_bytes(&s);
        (s, sk)
    };
    let raw = |s: &[u8; 32], sk: &ed25519_dalek::SigningKey, tail: &[u8]| {
        let mut v = vec![0x81];
        v.extend_from_slice(s);
        v.extend_from_slice(sk.verifying_key().as_bytes());
        v.extend_from_slice(tail);
        v
    };
    let (s, sk) = next();
    out.push(("newline.sec", raw(&s, &sk, b"\n"), s));
    let (s, sk) = next();
    out.push(("crlf-spaces.sec", raw(&s, &sk, b"\r\n  \t"), s));
    let (s, sk) = next();
    out.push(("key.der", sk.to_pkcs8_der().unwrap().as_bytes().to_vec(), s));
    let (s, sk) = next();
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(
        pem("PRIVATE KEY", sk.to_pkcs8_der().unwrap().as_bytes(), "\n").as_bytes(),
    );
    out.push(("bom.pem", bom, s));
    let (s, sk) = next();
    let prose = format!(
        "Here is the signing key, keep it safe!\n{}",
        pem("PRIVATE KEY", sk.to_pkcs8_der().unwrap().as_bytes(), "\n")
    );
    out.push(("notes.txt", prose.into_bytes(), s));
    let (s, sk) = next();
    let cert = std::fs::read_to_string(fixture("sigstore/offline-rekor.txt.crt")).unwrap();
    let mut chain = String::new();
    while chain.len() <= 70 * 1024 {
        chain.push_str(&cert.replace('\n', "\r\n"));
    }
    chain.push_str(&pem(
        "PRIVATE KEY",
        sk.to_pkcs8_der().unwrap().as_bytes(),
        "\r\n",
    ));
    out.push(("chain.crt", chain.into_bytes(), s));
    let (s, _) = next();
    out.push(("encrypted.p8", encrypted_pkcs8(&s), s));
    let (s, _) = next();
    let enc_pem = pem("ENCRYPTED PRIVATE KEY", &encrypted_pkcs8(&s), "\n");
    out.push(("encrypted.pem", enc_pem.into_bytes(), s));
    let (s, sk) = next();
    out.push((
        "id_ed25519",
        openssh(&s, sk.verifying_key().as_bytes()).into_bytes(),
        s,
    ));
    let (s, sk) = next();
    let b64u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwk = format!(
        r#"{{"kty":"OKP","crv":"Ed25519","x":"{}","d":"{}"}}"#,
        b64u.encode(sk.verifying_key().as_bytes()),
        b64u.encode(s)
    );
    out.push(("key.jwk", jwk.into_bytes(), s));
    let (s, _) = next();
    let broken = format!(
        "-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all {} !!\n-----END RSA PRIVATE KEY-----\n",
        hex::encode(s)
    );
    out.push(("broken.key", broken.into_bytes(), s));
    out
}

/// Haystacks holding any needle of any seed, as "haystack: file (needle)".
fn leaks(secrets: &[(&str, Vec<u8>, [u8; 32])], label: &str, hay: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for (name, _, seed) in secrets {
        for (what, n) in needles(seed) {
            if hay.windows(n.len()).any(|w| w == n.as_slice()) {
                hits.push(format!("{label}: {name} ({what})"));
            }
        }
    }
    hits
}

#[test]
fn every_secret_format_is_metadata_only_and_no_seed_reaches_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let secrets = secret_files();
    for (name, bytes, _) in &secrets {
        std::fs::write(src.join(name), bytes).unwrap();
        // The one detector sees each format.
        assert!(
            wsc_forensics::source::secret::detect(bytes).is_some(),
            "{name} not recognised as secret"
        );
    }
    // Normal files beside them.
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), src.join("m.wasm")).unwrap();
    std::fs::copy(fixture("wsc/keys/test-key-a.pub"), src.join("a.pub")).unwrap();
    std::fs::write(src.join("readme.txt"), b"an ordinary attachment\n").unwrap();
    let out = dir.path().join("case.zip");
    let o = bin()
        .args(["collect", "--case-id", "IR-SECRETS", "-o"])
        .arg(&out)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        o.status.code().unwrap() < 2,
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut hits = leaks(&secrets, "stdout", &o.stdout);
    hits.extend(leaks(&secrets, "stderr", &o.stderr));
    let raw = std::fs::read(&out).unwrap();
    hits.extend(leaks(&secrets, "zip", &raw));
    let mut za = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
    for i in 0..za.len() {
        let mut f = za.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        hits.extend(leaks(&secrets, &name, &v));
    }
    // inspect on every secret file prints nothing of it either.
    for (name, _, _) in &secrets {
        let i = bin()
            .arg("inspect")
            .arg("--json")
            .arg(src.join(name))
            .output()
            .unwrap();
        hits.extend(leaks(&secrets, &format!("inspect {name}"), &i.stdout));
        // Every inspect route (the transparency one for a certificate file too) says it is
        // secret material and withholds the file's hash, which would fingerprint the secret.
        let doc: serde_json::Value =
            serde_json::from_slice(&i.stdout).unwrap_or_else(|e| panic!("inspect {name}: {e}"));
        let doc = doc.get("files").and_then(|f| f.get(0)).unwrap_or(&doc);
        assert_eq!(doc["kind"], "secret-key", "inspect {name}: {doc}");
        assert!(doc["sha256"].is_null(), "inspect {name}: {doc}");
        hits.extend(leaks(
            &secrets,
            &format!("inspect {name} stderr"),
            &i.stderr,
        ));
    }
    assert!(hits.is_empty(), "secret bytes leaked:\n{}", hits.join("\n"));
    let c = open_bundle(&out).unwrap();
    for (name, _, _) in &secrets {
        let item = c
            .evidence
            .items
            .iter()
            .find(|i| i.source.text.ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("{name} not recorded"));
        assert_eq!(item.kind, ItemKind::SecretKey, "{name}");
        assert_eq!(item.bag_path, None, "{name}");
        assert!(
            item.findings
                .iter()
                .any(|f| f.code == "secret-key-material"),
            "{name}: {:?}",
            item.findings
        );
    }
    for normal in ["m.wasm", "a.pub", "readme.txt"] {
        let item = c
            .evidence
            .items
            .iter()
            .find(|i| i.source.text.ends_with(&format!("/{normal}")))
            .unwrap();
        assert!(item.bag_path.is_some(), "{normal} was not copied");
    }
    // The late one (past 64 KiB of certificates) names its format in the finding.
    let chain = c
        .evidence
        .items
        .iter()
        .find(|i| i.source.text.ends_with("/chain.crt"))
        .unwrap();
    assert!(
        chain
            .findings
            .iter()
            .any(|f| f.message.contains("PEM \"PRIVATE KEY\" block")),
        "{:?}",
        chain.findings
    );
}

/// The layout a swap attack uses: `src/dir/evidence.txt` inside the inputs, and
/// `outside/evidence.txt` with a marker that must never be collected. `src/beside.txt` is never
/// swapped, so a walk that meets the folder mid-swap still has a file to collect (a collect of
/// nothing is exit 2).
fn swap_layout(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let src = root.join("src");
    let inner = src.join("dir");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(src.join("beside.txt"), b"never swapped\n").unwrap();
    std::fs::write(inner.join("evidence.txt"), b"inside, as found\n").unwrap();
    let outside = root.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(
        outside.join("evidence.txt"),
        b"OUTSIDE-MARKER-never-collect\n",
    )
    .unwrap();
    (src, inner, outside)
}

fn assert_outside_never_collected(out: &Path) {
    let raw = std::fs::read(out).unwrap();
    let mut za = zip::ZipArchive::new(std::io::Cursor::new(raw)).unwrap();
    for i in 0..za.len() {
        let mut f = za.by_index(i).unwrap();
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        assert!(
            !v.windows(14).any(|w| w == b"OUTSIDE-MARKER"),
            "the outside file entered the bundle as {}",
            f.name().unwrap()
        );
    }
}

#[test]
fn a_directory_swapped_for_a_link_before_the_open_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (src, inner, outside) = swap_layout(dir.path());
    let out = dir.path().join("case.zip");
    let mut req = collect_request("IR-SWAP", vec![src.clone()], &out);
    let (inner2, outside2) = (inner.clone(), outside.clone());
    req.acquire.before_open = Some(std::sync::Arc::new(move |p: &Path| {
        if p.ends_with("dir/evidence.txt") && inner2.is_dir() {
            std::fs::rename(&inner2, inner2.with_extension("moved")).unwrap();
            std::os::unix::fs::symlink(&outside2, &inner2).unwrap();
        }
    }));
    let outcome = wsc_forensics::acquire::collect(&req).unwrap();
    assert_outside_never_collected(&out);
    let nc = &outcome.summary.not_collected;
    assert!(
        nc.iter().any(|n| n.path.text.ends_with("dir/evidence.txt")
            && n.reason.starts_with("changed during the walk")),
        "{nc:?}"
    );
}

#[test]
fn a_directory_swapped_by_another_thread_while_collect_runs_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let (src, inner, outside) = swap_layout(dir.path());
    // More files, so the walk and the reads take long enough for the swaps to land inside.
    for i in 0..200 {
        std::fs::write(inner.join(format!("f{i:03}.txt")), format!("inside {i}\n")).unwrap();
        std::fs::write(outside.join(format!("f{i:03}.txt")), b"OUTSIDE-MARKER\n").unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (stop, inner, outside) = (stop.clone(), inner.clone(), outside.clone());
        std::thread::spawn(move || {
            let moved = inner.with_extension("real");
            let mut swaps = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if std::fs::rename(&inner, &moved).is_ok() {
                    std::os::unix::fs::symlink(&outside, &inner).unwrap();
                    std::thread::yield_now();
                    std::fs::remove_file(&inner).unwrap();
                    std::fs::rename(&moved, &inner).unwrap();
                    swaps += 1;
                }
            }
            swaps
        })
    };
    // Bounded retries: each run races the swapper; none may yield the outside files.
    for run in 0..15 {
        let out = dir.path().join(format!("case-{run}.zip"));
        let o = bin()
            .args(["collect", "-q", "--case-id", "IR-RACE", "-o"])
            .arg(&out)
            .arg(&src)
            .output()
            .unwrap();
        assert!(
            o.status.code().unwrap() < 2,
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_outside_never_collected(&out);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(swapper.join().unwrap() > 0, "the swapper never ran");
}

#[test]
fn a_20_gb_sparse_file_is_flagged_not_copied() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let sparse = src.join("disk.img");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(20_000_000_000)
        .unwrap();
    std::fs::write(src.join("note.txt"), b"beside it\n").unwrap();
    let out = dir.path().join("case.zip");
    let started = std::time::Instant::now();
    let outcome =
        wsc_forensics::acquire::collect(&collect_request("IR-SPARSE", vec![src], &out)).unwrap();
    assert!(started.elapsed().as_secs() < 60, "the holes were read");
    assert!(std::fs::metadata(&out).unwrap().len() < 1 << 20);
    let nc = &outcome.summary.not_collected;
    let rec = nc
        .iter()
        .find(|n| n.path.text.ends_with("/disk.img"))
        .unwrap_or_else(|| panic!("{nc:?}"));
    assert!(
        rec.reason
            .starts_with("sparse file: 20000000000 bytes apparent, 0 bytes allocated"),
        "{}",
        rec.reason
    );
    let c = open_bundle(&out).unwrap();
    assert!(c
        .evidence
        .items
        .iter()
        .any(|i| i.source.text.ends_with("/note.txt")));
    // Both sizes are fields of evidence.json, not only words in the reason.
    let recorded = c
        .evidence
        .not_collected
        .iter()
        .find(|n| n.reason == rec.reason)
        .unwrap_or_else(|| panic!("{:?}", c.evidence.not_collected));
    assert_eq!(recorded.size, Some(20_000_000_000));
    assert_eq!(recorded.allocated_size, Some(0));
    let note = c
        .evidence
        .not_collected
        .iter()
        .all(|n| !n.path.text.ends_with("/note.txt"));
    assert!(note);
}
