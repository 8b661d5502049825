//! `scope --crate` / `--advisory` (INC-4) on modules the tests build: `.dep-v0` sections written
//! as cargo-auditable writes them (auditable-serde JSON, zlib, custom section `.dep-v0`; checked
//! with `auditable-info`), CycloneDX / SPDX SBOMs and a Cargo.lock beside modules, modules with
//! no dependency data, a corrupt section; advisories from fixtures/rustsec (a miniature RustSec
//! database). The affected list equals `cargo audit bin` on the same modules and database.

use crate::common::{code, fixture, json, oracle_available, run_in};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module: header, an optional `.dep-v0` custom section holding `payload` (already
/// compressed), and an empty type section.
fn module(dep_v0: Option<&[u8]>) -> Vec<u8> {
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    if let Some(p) = dep_v0 {
        let name = b".dep-v0";
        let mut body = leb(name.len() as u64);
        body.extend_from_slice(name);
        body.extend_from_slice(p);
        m.push(0);
        m.extend(leb(body.len() as u64));
        m.extend(body);
    }
    m.extend_from_slice(&[1, 1, 0]);
    m
}

fn leb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// cargo-auditable's encoding of a package list: auditable-serde JSON, zlib-compressed.
/// `pkgs`: (name, version, source, kind); the first is the root and depends on the rest.
fn dep_v0(pkgs: &[(&str, &str, &str, &str)]) -> Vec<u8> {
    let list: Vec<Value> = pkgs
        .iter()
        .enumerate()
        .map(|(i, (n, v, s, k))| {
            let mut p = serde_json::json!({"name": n, "version": v, "source": s});
            if !k.is_empty() {
                p["kind"] = (*k).into();
            }
            if i == 0 {
                p["root"] = true.into();
                p["dependencies"] = (1..pkgs.len()).collect::<Vec<_>>().into();
            }
            p
        })
        .collect();
    let json = serde_json::to_vec(&serde_json::json!({ "packages": list })).unwrap();
    miniz_oxide::deflate::compress_to_vec_zlib(&json, 7)
}

/// (name, version, source, kind) of one package in a `.dep-v0` list.
type Pkg = (&'static str, &'static str, &'static str, &'static str);

const APP: Pkg = ("app", "0.1.0", "local", "");

/// The modules with embedded dependency lists, by file name.
fn embedded_modules() -> Vec<(&'static str, Vec<Pkg>)> {
    vec![
        // smallvec 1.6.0: in 1.0.0..1.6.1 (affected); time 0.1.43: below every patched and
        // unaffected range (affected).
        (
            "a.wasm",
            vec![
                APP,
                ("smallvec", "1.6.0", "crates.io", ""),
                ("time", "0.1.43", "crates.io", ""),
            ],
        ),
        // smallvec 1.6.1 patched; time 0.2.3 unaffected (= 0.2.3); regex 1.5.4 affected.
        (
            "b.wasm",
            vec![
                APP,
                ("smallvec", "1.6.1", "crates.io", ""),
                ("time", "0.2.3", "crates.io", ""),
                ("regex", "1.5.4", "crates.io", ""),
            ],
        ),
        // smallvec 0.6.2 unaffected (< 0.6.3); regex 1.5.5 patched; net2 informational only.
        (
            "c.wasm",
            vec![
                APP,
                ("smallvec", "0.6.2", "crates.io", ""),
                ("regex", "1.5.5", "crates.io", ""),
                ("net2", "0.2.37", "crates.io", ""),
            ],
        ),
        // smallvec 0.6.13 as a build dependency (affected: 0.6.14 is the first patched 0.6);
        // time 0.2.7 just past the unaffected list (affected); a git-sourced regex 1.5.4
        // (not checked: advisories are about crates.io packages, as in `cargo audit`).
        (
            "d.wasm",
            vec![
                APP,
                ("smallvec", "0.6.13", "crates.io", "build"),
                ("time", "0.2.7", "crates.io", ""),
                ("regex", "1.5.4", "git", ""),
            ],
        ),
        // 0.6.14 and 0.2.23: the first patched versions.
        (
            "e.wasm",
            vec![
                APP,
                ("smallvec", "0.6.14", "crates.io", ""),
                ("time", "0.2.23", "crates.io", ""),
            ],
        ),
    ]
}

/// Affected (advisory, package, version) per embedded module under the whole fixture database.
fn expected_advisories() -> BTreeMap<&'static str, BTreeSet<(String, String, String)>> {
    let s = |a: &str, p: &str, v: &str| (a.to_owned(), p.to_owned(), v.to_owned());
    BTreeMap::from([
        (
            "a.wasm",
            BTreeSet::from([
                s("RUSTSEC-2021-0003", "smallvec", "1.6.0"),
                s("RUSTSEC-2020-0071", "time", "0.1.43"),
            ]),
        ),
        (
            "b.wasm",
            BTreeSet::from([s("RUSTSEC-2022-0013", "regex", "1.5.4")]),
        ),
        ("c.wasm", BTreeSet::new()),
        (
            "d.wasm",
            BTreeSet::from([
                s("RUSTSEC-2021-0003", "smallvec", "0.6.13"),
                s("RUSTSEC-2020-0071", "time", "0.2.7"),
            ]),
        ),
        ("e.wasm", BTreeSet::new()),
    ])
}

/// A folder `m/` of the embedded modules, plus (with `sidecars`) modules answered from an SBOM
/// or a Cargo.lock beside them, one without any dependency data and one with a corrupt section.
fn corpus(sidecars: bool) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let m = t.path().join("m");
    std::fs::create_dir(&m).unwrap();
    for (name, pkgs) in embedded_modules() {
        std::fs::write(m.join(name), module(Some(&dep_v0(&pkgs)))).unwrap();
    }
    if sidecars {
        std::fs::write(m.join("cdx.wasm"), module(None)).unwrap();
        std::fs::write(
            m.join("cdx.wasm.cdx.json"),
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5","metadata":{"component":{"name":"cdx","purl":"pkg:cargo/cdx@0.1.0"}},
               "components":[{"name":"smallvec","version":"1.6.0","purl":"pkg:cargo/smallvec@1.6.0"},{"name":"left-pad","purl":"pkg:npm/left-pad@1.0.0"}]}"#,
        )
        .unwrap();
        std::fs::write(m.join("spdx.wasm"), module(None)).unwrap();
        std::fs::write(
            m.join("spdx.spdx.json"),
            r#"{"spdxVersion":"SPDX-2.3","packages":[{"name":"regex","versionInfo":"1.5.5",
               "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:cargo/regex@1.5.5"}]}]}"#,
        )
        .unwrap();
        let lock_dir = m.join("locked");
        std::fs::create_dir(&lock_dir).unwrap();
        std::fs::write(lock_dir.join("locked.wasm"), module(None)).unwrap();
        std::fs::write(
            lock_dir.join("Cargo.lock"),
            "version = 3\n\n[[package]]\nname = \"time\"\nversion = \"0.2.22\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
        )
        .unwrap();
        std::fs::write(m.join("plain.wasm"), module(None)).unwrap();
        std::fs::write(m.join("corrupt.wasm"), module(Some(b"\x78\x9cnot deflate"))).unwrap();
        std::fs::write(m.join("notes.txt"), "not a module").unwrap();
    }
    t
}

fn by_name(v: &Value) -> BTreeMap<String, Value> {
    v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = Path::new(m["path"].as_str().unwrap()).file_name().unwrap();
            (name.to_string_lossy().into_owned(), m.clone())
        })
        .collect()
}

fn advisory_matches(m: &Value) -> BTreeSet<(String, String, String)> {
    m["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| {
            Some((
                x["matched_by"]["id"].as_str()?.to_owned(),
                x["package"]["name"].as_str().unwrap().to_owned(),
                x["package"]["version"].as_str().unwrap().to_owned(),
            ))
        })
        .collect()
}

fn db() -> String {
    fixture("rustsec").to_str().unwrap().to_owned()
}

#[test]
fn dep_v0_sections_decode_as_auditable_info_decodes_them() {
    use wsc_forensics::wasm::scanner::{KeptCustom, ScanOptions, Scanner};
    for (name, pkgs) in embedded_modules() {
        let bytes = module(Some(&dep_v0(&pkgs)));
        // The oracle: cargo-auditable's own extraction library.
        let info = auditable_info::audit_info_from_slice(&bytes, 8 << 20)
            .unwrap_or_else(|e| panic!("{name}: auditable-info: {e}"));
        let mut s = Scanner::new(ScanOptions::default());
        s.keep_custom_section(wsc_forensics::deps::dep_v0::SECTION, 1 << 20);
        s.feed(&bytes).unwrap();
        let Some(KeptCustom::Payload(p)) = s.finish().kept_custom else {
            panic!("{name}: no .dep-v0 kept")
        };
        let ours = wsc_forensics::deps::dep_v0::decode(&p).unwrap();
        let theirs: Vec<(String, String, String)> = info
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.version.to_string(),
                    String::from(p.source.clone()),
                )
            })
            .collect();
        let ours: Vec<(String, String, String)> = ours
            .into_iter()
            .map(|p| (p.name, p.version, p.source.unwrap()))
            .collect();
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn crate_query_lists_exactly_the_modules_shipping_the_range() {
    let t = corpus(true);
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--crate",
            "smallvec@>=0.6.3, <0.6.14",
            "--crate",
            "smallvec@>=1.0.0, <1.6.1",
            "--json",
            "m",
        ],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    crate::json_schema::assert_valid("scope-deps.schema.json", &v, "scope --crate --json");
    let mods = by_name(&v);
    let status = |n: &str| mods[n]["status"].as_str().unwrap().to_owned();
    let affected: BTreeSet<&str> = mods
        .iter()
        .filter(|(_, m)| m["status"] == "affected")
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(affected, BTreeSet::from(["a.wasm", "cdx.wasm", "d.wasm"]));
    assert_eq!(mods["a.wasm"]["dependencies"]["type"], "embedded-dep-v0");
    assert_eq!(mods["cdx.wasm"]["dependencies"]["type"], "cyclonedx");
    assert!(mods["cdx.wasm"]["dependencies"]["path"]
        .as_str()
        .unwrap()
        .ends_with("m/cdx.wasm.cdx.json"));
    assert_eq!(mods["d.wasm"]["matches"][0]["package"]["kind"], "build");
    for n in ["b.wasm", "c.wasm", "e.wasm", "spdx.wasm", "locked.wasm"] {
        assert_eq!(status(n), "not-affected", "{n}");
    }
    assert_eq!(mods["spdx.wasm"]["dependencies"]["type"], "spdx");
    assert_eq!(mods["locked.wasm"]["dependencies"]["type"], "cargo-lock");
    // Never unaffected without data.
    assert_eq!(status("plain.wasm"), "unknown");
    assert!(mods["plain.wasm"].get("dependencies").is_none());
    assert_eq!(status("corrupt.wasm"), "error");
    assert!(mods["corrupt.wasm"]["error"]
        .as_str()
        .unwrap()
        .contains(".dep-v0"));
    let s = &v["summary"];
    assert_eq!(
        (
            s["modules"].as_u64(),
            s["affected"].as_u64(),
            s["unknown"].as_u64(),
            s["errors"].as_u64()
        ),
        (Some(10), Some(3), Some(1), Some(1))
    );
    // SBOMs, the lock file and the text file are other files.
    assert_eq!(s["other_files"], 4);
}

#[test]
fn advisories_honour_patched_and_unaffected_ranges() {
    let t = corpus(true);
    // The whole database: every vulnerability advisory (net2's informational one is not).
    let o = run_in(t.path(), &["scope", "--advisory-db", &db(), "--json", "m"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    crate::json_schema::assert_valid("scope-deps.schema.json", &v, "scope --advisory-db --json");
    let ids: BTreeSet<&str> = v["query"]["advisories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from([
            "RUSTSEC-2020-0071",
            "RUSTSEC-2021-0003",
            "RUSTSEC-2022-0013"
        ])
    );
    let mods = by_name(&v);
    for (name, want) in expected_advisories() {
        assert_eq!(advisory_matches(&mods[name]), want, "{name}");
    }
    // time 0.2.22 from the Cargo.lock beside locked.wasm: below the patched 0.2.23.
    assert_eq!(mods["locked.wasm"]["status"], "affected");
    assert_eq!(
        mods["spdx.wasm"]["status"], "not-affected",
        "regex 1.5.5 is patched"
    );
    // One advisory by id, and the same by file.
    let file = fixture("rustsec/crates/time/RUSTSEC-2020-0071.md");
    for arg in ["RUSTSEC-2020-0071", file.to_str().unwrap()] {
        let o = run_in(
            t.path(),
            &[
                "scope",
                "--advisory",
                arg,
                "--advisory-db",
                &db(),
                "--json",
                "m",
            ],
        );
        assert_eq!(code(&o), 1);
        let mods = by_name(&json(&o));
        let hit: BTreeSet<&str> = mods
            .iter()
            .filter(|(_, m)| m["status"] == "affected")
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(
            hit,
            BTreeSet::from(["a.wasm", "d.wasm", "locked.wasm"]),
            "{arg}"
        );
    }
}

#[test]
fn exit_codes_fail_closed_on_unknown_modules() {
    // All modules carry data, none affected: 0.
    let t = corpus(false);
    let o = run_in(t.path(), &["scope", "--crate", "openssl", "m"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("5 modules: 0 affected, 5 not affected, 0 unknown"),
        "{text}"
    );
    // A module without data and nothing affected: 2, the answer is incomplete.
    std::fs::write(t.path().join("m/plain.wasm"), module(None)).unwrap();
    let o = run_in(t.path(), &["scope", "--crate", "openssl", "m"]);
    assert_eq!(code(&o), 2);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("unknown       m/plain.wasm  no dependency data (not recorded)"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("incomplete"));
    // Something affected: 1, whatever else.
    let o = run_in(t.path(), &["scope", "--crate", "smallvec@=1.6.0", "m"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("affected      m/a.wasm  smallvec 1.6.0 [crate =1.6.0] (from embedded dep-v0)"));
    // Usage errors: 2.
    for args in [
        &["scope", "--crate", "not a crate@1", "m"][..],
        &["scope", "--advisory", "RUSTSEC-2099-0001", "m"],
        &[
            "scope",
            "--advisory",
            "RUSTSEC-2099-0001",
            "--advisory-db",
            &db(),
            "m",
        ],
        &[
            "scope",
            "--crate",
            "x",
            "--key",
            "c858d5ec82d976c190cb33d0",
            "m",
        ],
    ] {
        assert_eq!(code(&run_in(t.path(), args)), 2, "{args:?}");
    }
}

#[test]
fn a_collected_bundle_answers_from_its_modules_and_attachments() {
    let t = corpus(true);
    let o = run_in(
        t.path(),
        &["collect", "-q", "--case-id", "IR-4", "-o", "case.zip", "m"],
    );
    assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
    let folder = json(&run_in(
        t.path(),
        &["scope", "--advisory-db", &db(), "--json", "m"],
    ));
    std::fs::remove_dir_all(t.path().join("m")).unwrap();
    let o = run_in(
        t.path(),
        &["scope", "--advisory-db", &db(), "--json", "case.zip"],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let bundle = json(&o);
    let (f, b) = (by_name(&folder), by_name(&bundle));
    assert_eq!(f.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, m) in &f {
        assert_eq!(m["status"], b[name]["status"], "{name}");
        assert_eq!(advisory_matches(m), advisory_matches(&b[name]), "{name}");
        assert_eq!(b[name]["origin"]["type"], "bundle");
    }
    // The SBOM was collected as an attachment and read from the bundle.
    assert!(b["cdx.wasm"]["dependencies"]["path"]
        .as_str()
        .unwrap()
        .contains("collected as"));
}

/// `cargo audit bin --db fixtures/rustsec --no-fetch` on each embedded module: the same
/// (advisory, package, version) list, patched and unaffected ranges included.
#[test]
fn cargo_audit_bin_agrees_on_every_embedded_module() {
    if !oracle_available(
        "cargo-audit",
        &["audit", "--version"],
        "cargo install cargo-audit --locked --version 0.22.2",
    ) {
        return;
    }
    let t = corpus(false);
    let v = json(&run_in(
        t.path(),
        &["scope", "--advisory-db", &db(), "--json", "m"],
    ));
    let ours = by_name(&v);
    for (name, _) in embedded_modules() {
        let o = std::process::Command::new("cargo-audit")
            .args([
                "audit",
                "--db",
                &db(),
                "--no-fetch",
                "--stale",
                "--json",
                "bin",
            ])
            .arg(t.path().join("m").join(name))
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: cargo audit: {e}: {}",
                String::from_utf8_lossy(&o.stderr)
            )
        });
        let theirs: BTreeSet<(String, String, String)> = report["vulnerabilities"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["advisory"]["id"].as_str().unwrap().to_owned(),
                    x["package"]["name"].as_str().unwrap().to_owned(),
                    x["package"]["version"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(advisory_matches(&ours[name]), theirs, "{name}");
        assert_eq!(
            theirs,
            expected_advisories()[name],
            "{name}: the oracle and the fixture table"
        );
    }
}
