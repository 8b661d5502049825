//! `keys`, `keys baseline`, `keys check` on copies of the real fixture keys.

use crate::common::{code, fixture, json, run_in};
use base64::Engine as _;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const A_ID: &str = "c858d5ec82d976c190cb33d0";
const B_ID: &str = "465c5341001f3e570f784f71";

/// Copies fixture key files into `dir/keys` with the given modes.
fn copy_keys(dir: &Path, files: &[(&str, u32)]) -> PathBuf {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for (name, mode) in files {
        let dst = keys.join(name);
        std::fs::copy(fixture(&format!("wsc/keys/{name}")), &dst).unwrap();
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    keys
}

fn key_entry<'a>(v: &'a Value, path: &str) -> &'a Value {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in {v:#}"))
}

fn finding_codes(k: &Value) -> Vec<String> {
    k["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn secret_key_readable_by_others_is_a_low_inc1_finding_and_0600_is_not() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o644),
            ("test-key-a.pub", 0o644),
            ("test-key-b.sec", 0o600),
            ("test-key-b.pub", 0o644),
        ],
    );
    let o = run_in(t.path(), &["keys", "--json", "keys"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let a = key_entry(&v, "keys/test-key-a.sec");
    assert_eq!(a["format"], "wsc-raw-secret");
    assert_eq!(a["secret"], true);
    assert_eq!(a["wsc_key_id"], A_ID);
    assert_eq!(a["permissions"], "0644");
    assert_eq!(a["stat"]["size"], 65);
    let f = &a["findings"][0];
    assert_eq!(
        (
            f["code"].as_str(),
            f["severity"].as_str(),
            f["incident_type"].as_str()
        ),
        (Some("secret-key-permissions"), Some("low"), Some("INC-1"))
    );
    assert_eq!(finding_codes(a).len(), 1);
    let b = key_entry(&v, "keys/test-key-b.sec");
    assert_eq!(b["permissions"], "0600");
    assert!(finding_codes(b).is_empty(), "{b:#}");
    // Public keys with mode 0644 are fine.
    assert!(finding_codes(key_entry(&v, "keys/test-key-a.pub")).is_empty());
    assert_eq!(v["summary"]["key_files"], 4);
    assert_eq!(v["summary"]["findings"], 1);

    // Fixing the mode clears the finding and the exit code.
    std::fs::set_permissions(
        t.path().join("keys/test-key-a.sec"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let o = run_in(t.path(), &["keys", "keys"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn secret_key_without_its_public_key_is_flagged_any_public_format_counts() {
    let t = tempfile::tempdir().unwrap();
    // A's public key only as SPKI PEM, B's public key absent, bundle signer complete.
    copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o600),
            ("test-key-a.spki.pem", 0o644),
            ("test-key-b.sec", 0o600),
            ("test-ssh-ed25519", 0o600),
            ("test-ssh-ed25519.pub", 0o644),
        ],
    );
    let o = run_in(t.path(), &["keys", "--json", "keys"]);
    assert_eq!(code(&o), 1);
    let v = json(&o);
    assert!(finding_codes(key_entry(&v, "keys/test-key-a.sec")).is_empty());
    assert!(finding_codes(key_entry(&v, "keys/test-ssh-ed25519")).is_empty());
    let b = key_entry(&v, "keys/test-key-b.sec");
    assert_eq!(finding_codes(b), vec!["secret-key-without-public-key"]);
    assert_eq!(b["findings"][0]["severity"], "low");
    assert!(b["findings"][0]["message"].as_str().unwrap().contains(B_ID));
}

#[test]
fn revoked_key_id_is_critical_on_public_and_secret_files() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o600),
            ("test-key-a.pub", 0o644),
            ("test-key-a.spki.der", 0o644),
            ("test-key-b.pub", 0o644),
        ],
    );
    std::fs::write(
        t.path().join("revoked.txt"),
        format!(
            "# compromised 2026-11-24\n\n{} # key A\n",
            A_ID.to_uppercase()
        ),
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &["keys", "--revoked", "revoked.txt", "--json", "keys"],
    );
    assert_eq!(code(&o), 1);
    let v = json(&o);
    for f in [
        "keys/test-key-a.sec",
        "keys/test-key-a.pub",
        "keys/test-key-a.spki.der",
    ] {
        let k = key_entry(&v, f);
        assert_eq!(finding_codes(k), vec!["revoked-key"], "{f}");
        assert_eq!(k["findings"][0]["severity"], "critical");
        assert_eq!(k["findings"][0]["incident_type"], "INC-1");
        assert!(k["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked.txt:3"));
    }
    assert!(finding_codes(key_entry(&v, "keys/test-key-b.pub")).is_empty());
    assert_eq!(v["summary"]["critical"], 3);

    // By fingerprint (SHA-256 of the raw public key) too; and via the case file.
    let fp = key_entry(&v, "keys/test-key-b.pub")["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(t.path().join("revoked.txt"), format!("{fp}\n")).unwrap();
    let v = json(&run_in(
        t.path(),
        &["keys", "--revoked", "revoked.txt", "--json", "keys"],
    ));
    assert_eq!(
        finding_codes(key_entry(&v, "keys/test-key-b.pub")),
        vec!["revoked-key"]
    );
    assert_eq!(v["summary"]["critical"], 1);

    std::fs::write(
        t.path().join("case.toml"),
        format!("case_id = \"IR-1\"\n[keys]\ncompromised = [\"{A_ID}\"]\n"),
    )
    .unwrap();
    let v = json(&run_in(
        t.path(),
        &["keys", "--case", "case.toml", "--json", "keys"],
    ));
    assert_eq!(v["summary"]["critical"], 3);

    // A bad revocation list is a usage error, not silently ignored.
    std::fs::write(t.path().join("bad.txt"), "not-a-key-id\n").unwrap();
    let o = run_in(t.path(), &["keys", "--revoked", "bad.txt", "keys"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.txt:1"));
}

#[test]
fn every_fixture_key_format_is_recognised_with_its_key_id() {
    let t = tempfile::tempdir().unwrap();
    let all = [
        "test-key-a.sec",
        "test-key-a.pub",
        "test-key-a.pkcs8.pem",
        "test-key-a.spki.pem",
        "test-key-a.spki.der",
        "test-key-b.sec",
        "test-key-b.pub",
        "test-ssh-ed25519",
        "test-ssh-ed25519.pub",
    ];
    copy_keys(
        t.path(),
        &all.iter().map(|f| (*f, 0o600)).collect::<Vec<_>>(),
    );
    std::fs::copy(
        fixture("wsc/modules/base.wasm"),
        t.path().join("keys/base.wasm"),
    )
    .unwrap();
    std::fs::write(t.path().join("keys/notes.txt"), "not a key\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", t.path().join("keys/link.pub")).unwrap();
    let o = run_in(t.path(), &["keys", "--json", "keys"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let v = json(&o);
    let got: Vec<(String, String, bool, String)> = v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["path"].as_str().unwrap().to_owned(),
                k["format"].as_str().unwrap().to_owned(),
                k["secret"].as_bool().unwrap(),
                k["wsc_key_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let ssh_id = got[8].3.clone();
    let want = [
        ("test-key-a.pkcs8.pem", "pkcs8-pem", true, A_ID),
        ("test-key-a.pub", "wsc-raw-public", false, A_ID),
        ("test-key-a.sec", "wsc-raw-secret", true, A_ID),
        ("test-key-a.spki.der", "spki-der", false, A_ID),
        ("test-key-a.spki.pem", "spki-pem", false, A_ID),
        ("test-key-b.pub", "wsc-raw-public", false, B_ID),
        ("test-key-b.sec", "wsc-raw-secret", true, B_ID),
        ("test-ssh-ed25519", "openssh-private", true, ssh_id.as_str()),
        (
            "test-ssh-ed25519.pub",
            "openssh-public",
            false,
            ssh_id.as_str(),
        ),
    ];
    let want: Vec<(String, String, bool, String)> = want
        .iter()
        .map(|(p, f, s, id)| (format!("keys/{p}"), f.to_string(), *s, id.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_ne!(ssh_id, A_ID);
    // Non-key files are reported and skipped, symlinks not followed; the run went on.
    let not_keys: Vec<&str> = v["not_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["path"].as_str().unwrap())
        .collect();
    assert_eq!(not_keys, vec!["keys/base.wasm", "keys/notes.txt"]);
    assert_eq!(v["skipped"][0]["path"], "keys/link.pub");
    assert_eq!(v["skipped"][0]["reason"], "symlink");
}

#[test]
fn a_missing_input_is_exit_2_before_any_audit() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(t.path(), &[("test-key-a.pub", 0o644)]);
    let o = run_in(t.path(), &["keys", "nope", "keys"]);
    assert_eq!(code(&o), 2);
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "wsc-forensics: error: nope: no such file or directory\n"
    );
    // Nothing at all to read.
    assert_eq!(code(&run_in(t.path(), &["keys", "nope"])), 2);
}

/// Forms in which a 32-byte secret seed could leak: raw, hex (both cases), base64 at every
/// alignment inside a longer base64 text, standard and URL-safe.
fn leak_forms(seed: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![
        seed.to_vec(),
        hex::encode(seed).into_bytes(),
        hex::encode_upper(seed).into_bytes(),
    ];
    for skip in 0..3 {
        let part = &seed[skip..];
        let aligned = &part[..part.len() / 3 * 3];
        for engine in [
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            forms.push(engine.encode(aligned).into_bytes());
        }
    }
    forms
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn secret_key_bytes_never_appear_in_any_output() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o644),
            ("test-key-a.pkcs8.pem", 0o644),
            ("test-key-b.sec", 0o644),
            ("test-key-bundle-signer.sec", 0o644),
            ("test-ssh-ed25519", 0o644),
        ],
    );
    let mut seeds = Vec::new();
    for f in [
        "test-key-a.sec",
        "test-key-b.sec",
        "test-key-bundle-signer.sec",
    ] {
        let raw = std::fs::read(fixture(&format!("wsc/keys/{f}"))).unwrap();
        assert_eq!(raw.len(), 65);
        seeds.push(raw[1..33].to_vec());
    }
    // The PKCS#8 body (base64 of the DER that holds A's seed) must not be echoed either.
    let pem = std::fs::read_to_string(fixture("wsc/keys/test-key-a.pkcs8.pem")).unwrap();
    let pem_body: Vec<Vec<u8>> = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| l.as_bytes().to_vec())
        .collect();
    // The detector itself works: it finds A's seed inside the PKCS#8 PEM file and the raw file.
    assert!(leak_forms(&seeds[0])
        .iter()
        .any(|f| contains(pem.as_bytes(), f)));
    let a_raw = std::fs::read(fixture("wsc/keys/test-key-a.sec")).unwrap();
    assert!(contains(&a_raw, &leak_forms(&seeds[0])[0]));
    std::fs::write(t.path().join("revoked.txt"), format!("{A_ID}\n")).unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["keys", "keys"],
        vec!["keys", "--json", "keys"],
        vec!["-v", "keys", "--revoked", "revoked.txt", "--json", "keys"],
        vec!["keys", "baseline", "keys"],
    ];
    for args in runs {
        let o = run_in(t.path(), &args);
        let mut all = o.stdout.clone();
        all.extend_from_slice(&o.stderr);
        assert!(!all.is_empty());
        for seed in &seeds {
            for form in leak_forms(seed) {
                assert!(!contains(&all, &form), "{args:?} leaked a seed form");
            }
        }
        for line in &pem_body {
            assert!(!contains(&all, line), "{args:?} echoed the PKCS#8 body");
        }
    }
}

#[test]
fn baseline_is_byte_identical_to_sha256sum_and_accepted_by_sha256sum_c() {
    let t = tempfile::tempdir().unwrap();
    let keys = copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o600),
            ("test-key-a.pub", 0o644),
            ("test-key-a.spki.der", 0o644),
            ("test-ssh-ed25519.pub", 0o644),
        ],
    );
    // Names coreutils escapes, and a nested folder.
    std::fs::create_dir(keys.join("sub dir")).unwrap();
    for name in ["new\nline.pub", "back\\slash.pub", "cr\rname.pub"] {
        std::fs::copy(
            fixture("wsc/keys/test-key-b.pub"),
            keys.join("sub dir").join(name),
        )
        .unwrap();
    }
    std::fs::write(keys.join("README"), "not a key").unwrap();
    let o = run_in(t.path(), &["keys", "baseline", "keys"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(t.path().join("keys.sha256"), &o.stdout).unwrap();
    assert_eq!(o.stdout.iter().filter(|&&b| b == b'\n').count(), 7);

    // The same files through coreutils, in the same (byte) order: identical text.
    let mut names: Vec<String> = vec![
        "keys/sub dir/back\\slash.pub".into(),
        "keys/sub dir/cr\rname.pub".into(),
        "keys/sub dir/new\nline.pub".into(),
        "keys/test-key-a.pub".into(),
        "keys/test-key-a.sec".into(),
        "keys/test-key-a.spki.der".into(),
        "keys/test-ssh-ed25519.pub".into(),
    ];
    names.sort();
    let coreutils = Command::new("sha256sum")
        .current_dir(t.path())
        .args(&names)
        .output()
        .unwrap();
    assert!(coreutils.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&coreutils.stdout)
    );

    let check = Command::new("sha256sum")
        .current_dir(t.path())
        .args(["-c", "--strict", "keys.sha256"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&check.stdout)
            .matches(": OK")
            .count(),
        7
    );
}

#[test]
fn check_reports_changed_missing_and_new_key_files() {
    let t = tempfile::tempdir().unwrap();
    let keys = copy_keys(
        t.path(),
        &[
            ("test-key-a.sec", 0o600),
            ("test-key-a.pub", 0o644),
            ("test-key-b.sec", 0o600),
            ("test-key-b.pub", 0o644),
        ],
    );
    let o = run_in(t.path(), &["keys", "baseline", "keys"]);
    std::fs::write(t.path().join("keys.sha256"), &o.stdout).unwrap();
    let args = ["keys", "check", "--baseline", "keys.sha256", "keys"];
    let o = run_in(t.path(), &args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("4 unchanged, 0 changed, 0 missing, 0 new"));

    // Replace A's secret key with B's (same size, different bytes), delete B's public key,
    // add a new key file, add a non-key file (ignored).
    std::fs::copy(
        fixture("wsc/keys/test-key-b.sec"),
        keys.join("test-key-a.sec"),
    )
    .unwrap();
    std::fs::remove_file(keys.join("test-key-b.pub")).unwrap();
    std::fs::copy(
        fixture("wsc/keys/test-key-a.spki.pem"),
        keys.join("added.pem"),
    )
    .unwrap();
    std::fs::write(keys.join("notes.txt"), "hello").unwrap();
    let o = run_in(t.path(), &args);
    assert_eq!(code(&o), 1);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("changed    keys/test-key-a.sec"),
        "{stdout}"
    );
    assert!(
        stdout.contains("missing    keys/test-key-b.pub"),
        "{stdout}"
    );
    assert!(stdout.contains("new        keys/added.pem"), "{stdout}");
    assert!(!stdout.contains("notes.txt"));

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v = json(&run_in(t.path(), &json_args));
    assert_eq!(v["summary"]["unchanged"], 2);
    assert_eq!(v["summary"]["changed"], 1);
    assert_eq!(v["summary"]["missing"], 1);
    assert_eq!(v["summary"]["new"], 1);
    let changed = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "changed")
        .unwrap();
    assert_eq!(changed["path"], "keys/test-key-a.sec");
    // A secret key file's digests are never printed by `check` (only `keys baseline` writes
    // them): status and the secret_key mark only.
    assert_eq!(changed["secret_key"], true);
    assert!(changed.get("actual").is_none() && changed.get("expected").is_none());
    let b_sec = std::fs::read(fixture("wsc/keys/test-key-b.sec")).unwrap();
    let b_hash = wsc_forensics::model::digest::Sha256Digest::of(&b_sec).to_hex();
    assert!(!v.to_string().contains(&b_hash));
    assert!(!stdout.contains(&b_hash));
    // A public key's digests are still given.
    let missing = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["status"] == "missing")
        .unwrap();
    let b_pub = std::fs::read(fixture("wsc/keys/test-key-b.pub")).unwrap();
    assert_eq!(
        missing["expected"],
        wsc_forensics::model::digest::Sha256Digest::of(&b_pub).to_hex()
    );
    assert!(missing.get("secret_key").is_none());
}

#[test]
fn check_with_an_unusable_baseline_exits_2() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(t.path(), &[("test-key-a.pub", 0o644)]);
    let o = run_in(
        t.path(),
        &["keys", "check", "--baseline", "absent.sha256", "keys"],
    );
    assert_eq!(code(&o), 2);
    std::fs::write(t.path().join("bad.sha256"), "this is not a checksum line\n").unwrap();
    let o = run_in(
        t.path(),
        &["keys", "check", "--baseline", "bad.sha256", "keys"],
    );
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.sha256:1"));
}

#[test]
fn check_reads_baselines_written_by_coreutils() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(
        t.path(),
        &[("test-key-a.sec", 0o600), ("test-key-a.pub", 0o644)],
    );
    let s = Command::new("sha256sum")
        .current_dir(t.path())
        .args(["keys/test-key-a.sec", "keys/test-key-a.pub"])
        .output()
        .unwrap();
    std::fs::write(t.path().join("stored.sha256"), &s.stdout).unwrap();
    let o = run_in(
        t.path(),
        &["keys", "check", "--baseline", "stored.sha256", "keys"],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
}

/// `keys baseline -o FILE` writes what standard output would get, never through a planted link,
/// and replaces an existing file only with `--force`.
#[test]
fn baseline_output_file_is_created_never_followed_and_replaced_only_with_force() {
    let t = tempfile::tempdir().unwrap();
    copy_keys(
        t.path(),
        &[("test-key-a.pub", 0o644), ("test-key-b.pub", 0o644)],
    );
    let printed = run_in(t.path(), &["keys", "baseline", "keys"]);
    assert_eq!(code(&printed), 0);
    let o = run_in(t.path(), &["keys", "baseline", "keys", "-o", "keys.sha256"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::read(t.path().join("keys.sha256")).unwrap(),
        printed.stdout
    );

    // An existing file is kept without --force, and named in the error.
    std::fs::write(t.path().join("keys.sha256"), b"older\n").unwrap();
    let o = run_in(t.path(), &["keys", "baseline", "keys", "-o", "keys.sha256"]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("keys.sha256"));
    assert_eq!(
        std::fs::read(t.path().join("keys.sha256")).unwrap(),
        b"older\n"
    );
    let o = run_in(
        t.path(),
        &["keys", "baseline", "keys", "-o", "keys.sha256", "--force"],
    );
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(t.path().join("keys.sha256")).unwrap(),
        printed.stdout
    );

    // A link planted at the output name: the victim is never written; without --force it is
    // an error, with --force the link itself is replaced by the baseline.
    let victim = t.path().join("victim.txt");
    std::fs::write(&victim, b"victim\n").unwrap();
    let planted = t.path().join("planted.sha256");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let o = run_in(
        t.path(),
        &["keys", "baseline", "keys", "-o", "planted.sha256"],
    );
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&victim).unwrap(), b"victim\n");
    let args = [
        "keys",
        "baseline",
        "keys",
        "-o",
        "planted.sha256",
        "--force",
    ];
    assert_eq!(code(&run_in(t.path(), &args)), 0);
    assert_eq!(std::fs::read(&victim).unwrap(), b"victim\n");
    assert!(std::fs::symlink_metadata(&planted)
        .unwrap()
        .file_type()
        .is_file());
    assert_eq!(std::fs::read(&planted).unwrap(), printed.stdout);
    // A dangling link creates nothing where it points.
    let nowhere = t.path().join("nowhere.txt");
    std::os::unix::fs::symlink(&nowhere, t.path().join("dangling.sha256")).unwrap();
    let o = run_in(
        t.path(),
        &["keys", "baseline", "keys", "-o", "dangling.sha256"],
    );
    assert_ne!(code(&o), 0);
    assert!(!nowhere.exists());
}
