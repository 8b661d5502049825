//! `scope --identity` (INC-3): exact lists of keyless signers on the real wsc keyless modules,
//! Rekor entries and Sigstore bundles of fixtures/, and on bundles of the private Sigstore
//! instance (`common::sigstore_instance`) made by several identities and issuers at several
//! times; window membership by verified time only (tampered evidence is "window unknown", never
//! in the window); unexpected signers flagged High; exit codes 0/1/2; evidence bundles.

use crate::common::sigstore_instance::{Instance, Options, Rekor, SignerSpec};
use crate::common::{code, fixture, json, run_in};
use serde_json::Value;
use std::path::Path;

/// One record as `(path, kind, identity, issuer, time, verified, window)`, from `--json`.
type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<bool>,
    Option<String>,
);

fn rows(doc: &Value) -> Vec<Row> {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                s(&r["path"]),
                s(&r["kind"]),
                s(&r["identity"]),
                s(&r["issuer"]),
                s(&r["signing_time"]["at"]),
                r["signing_time"]["verified"].as_bool(),
                r["window"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn row(
    path: &str,
    kind: &str,
    identity: &str,
    issuer: &str,
    time: &str,
    verified: Option<bool>,
    window: Option<&str>,
) -> Row {
    (
        path.into(),
        kind.into(),
        identity.into(),
        issuer.into(),
        time.into(),
        verified,
        window.map(str::to_owned),
    )
}

/// `scope ARGS` in `dir`, `--json` added; exit code and document.
fn scope_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["scope", "--json"];
    all.extend_from_slice(args);
    let o = run_in(dir, &all);
    let c = code(&o);
    (c, json(&o))
}

fn matching(doc: &Value) -> Vec<String> {
    doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["matches"] == true)
        .map(|r| r["path"].as_str().unwrap().to_owned())
        .collect()
}

const ENFORCE_ID: &str =
    "https://issuer.enforce.dev/b3afeb8ee1de8a24fe87ccb26faee88b5ba3cac0/5e079a99d8349d65";
const ENFORCE: &str = "https://issuer.enforce.dev";

/// Every keyless record of the fixtures, against the bundled production root: identities and
/// issuers from the certificates, times verified only where the log's SET verified for an
/// entry that binds the artifact (the wsc keyless modules carry a replayed entry or none).
#[test]
fn real_fixtures_give_the_exact_list() {
    let (c, doc) = scope_json(
        &fixture(""),
        &["--identity", "*", "wsc/modules", "rekor", "sigstore"],
    );
    assert_eq!(c, 1);
    let m = "wsc-keyless-module";
    let replayed = Some(false);
    let want = vec![
        row(
            "wsc/modules/keyless-no-rekor.wasm",
            m,
            ENFORCE_ID,
            ENFORCE,
            "-",
            None,
            None,
        ),
        row(
            "wsc/modules/keyless-replayed-rekor-entry-tampered.wasm",
            m,
            ENFORCE_ID,
            ENFORCE,
            "2025-09-19T17:58:38Z",
            replayed,
            None,
        ),
        row(
            "wsc/modules/keyless-replayed-rekor-entry.wasm",
            m,
            ENFORCE_ID,
            ENFORCE,
            "2025-09-19T17:58:38Z",
            replayed,
            None,
        ),
        row(
            "rekor/recent_entry_20251101_175321.json",
            "rekor-entry",
            ENFORCE_ID,
            ENFORCE,
            "2025-09-19T17:58:38Z",
            Some(true),
            None,
        ),
        row(
            "rekor/rekor-api-entry-538771042.reconstructed.json",
            "rekor-entry",
            ENFORCE_ID,
            ENFORCE,
            "2025-09-19T17:58:38Z",
            Some(true),
            None,
        ),
        row(
            "sigstore/Python-3.12.5.tgz.sigstore",
            "sigstore-bundle",
            "thomas@python.org",
            "https://accounts.google.com",
            "2024-08-06T20:32:47Z",
            Some(true),
            None,
        ),
        // Logged in the staging instance: its log is not in the production root.
        row(
            "sigstore/bundle.txt.sigstore",
            "sigstore-bundle",
            "a@tny.town",
            "https://github.com/login/oauth",
            "2023-04-26T00:21:09Z",
            Some(false),
            None,
        ),
        row(
            "sigstore/bundle_v3_github.whl.sigstore",
            "sigstore-bundle",
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
            "https://token.actions.githubusercontent.com",
            "2024-03-19T22:41:16Z",
            Some(true),
            None,
        ),
    ];
    assert_eq!(rows(&doc), want);
    let s = &doc["summary"];
    assert_eq!(s["records"], 8);
    assert_eq!(s["keyless_modules"], 3);
    assert_eq!(s["time_verified"], 4);
    // Every other module of the fixtures is key-signed or unsigned.
    assert_eq!(s["other_modules"], 17);
    // Why the replayed module's time is not taken: the entry binds another artifact.
    let r = &doc["records"][2];
    assert!(r["signing_time"]["source"]
        .as_str()
        .unwrap()
        .contains("body-binds-artifact failed"));
    assert_eq!(r["verdict"], "failed");
}

/// The replayed wsc modules state the same Rekor time as the genuine entry they replay; only
/// the entry, whose SET verified for the body it carries, is placed in the window.
#[test]
fn window_membership_uses_verified_times_only() {
    let (c, doc) = scope_json(
        &fixture(""),
        &[
            "--identity",
            "https://issuer.enforce.dev/*",
            "--window",
            "2025-09-19..2025-09-19",
            "wsc/modules",
            "rekor",
        ],
    );
    assert_eq!(c, 1);
    let windows: Vec<(String, Option<String>)> = rows(&doc)
        .into_iter()
        .map(|r| (r.0.rsplit('/').next().unwrap().to_owned(), r.6))
        .collect();
    let w = |p: &str, s: &str| (p.to_owned(), Some(s.to_owned()));
    assert_eq!(
        windows,
        [
            w("keyless-no-rekor.wasm", "window-unknown"),
            w(
                "keyless-replayed-rekor-entry-tampered.wasm",
                "window-unknown"
            ),
            w("keyless-replayed-rekor-entry.wasm", "window-unknown"),
            w("recent_entry_20251101_175321.json", "in-window"),
            w("rekor-api-entry-538771042.reconstructed.json", "in-window"),
        ]
    );
    assert_eq!(doc["summary"]["in_window"], 2);
    assert_eq!(doc["summary"]["window_unknown"], 3);
    // A window the day after: the entries are outside; the modules still cannot be excluded.
    let (c, doc) = scope_json(
        &fixture(""),
        &[
            "--identity",
            ENFORCE_ID,
            "--window",
            "2025-09-20..",
            "wsc/modules",
            "rekor",
        ],
    );
    assert_eq!(c, 1);
    assert_eq!(doc["summary"]["outside_window"], 2);
    assert_eq!(
        matching(&doc),
        [
            "wsc/modules/keyless-no-rekor.wasm",
            "wsc/modules/keyless-replayed-rekor-entry-tampered.wasm",
            "wsc/modules/keyless-replayed-rekor-entry.wasm",
        ]
    );
    // Only the entries, outside the window: nothing answers the question.
    let (c, doc) = scope_json(
        &fixture(""),
        &[
            "--identity",
            ENFORCE_ID,
            "--window",
            "2025-09-20..",
            "rekor",
        ],
    );
    assert_eq!(c, 0, "{doc:#}");
    assert!(matching(&doc).is_empty());
}

// --- the private instance: several identities, issuers and times ---

const ARTIFACT: &[u8] = b"module shipped during the incident\n";
const ACCOUNTS: &str = "https://accounts.example.test";
const OTHER_OIDC: &str = "https://other-oidc.example.test";
const CI: &str = "https://ci.example.test/release@refs/tags/v1";
const CI_ISSUER: &str = "https://oidc.example.test";
/// 2026-03-01T00:00:00Z
const BEFORE: i64 = 1_772_323_200;
/// 2026-03-10T12:00:00Z, 2026-03-11T08:30:00Z, 2026-03-12T23:59:00Z: inside the window
const IN1: i64 = 1_773_144_000;
const IN2: i64 = 1_773_217_800;
const IN3: i64 = 1_773_359_940;
/// 2026-03-20T00:00:00Z
const AFTER: i64 = 1_773_964_800;
const WINDOW: &str = "2026-03-10..2026-03-12";

/// The private instance's root and bundles in a temp dir: `v1/` (Rekor v1, SET) and `v2/`
/// (Rekor v2, RFC 3161 time), plus `tampered/`: alice's bundle signed before the window with
/// its integrated time moved into it (the SET no longer verifies).
fn private_case() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let inst = Instance::new(Options::default());
    std::fs::write(
        t.path().join("root.json"),
        serde_json::to_vec(&inst.trusted_root()).unwrap(),
    )
    .unwrap();
    let v1 = [
        SignerSpec::at("alice@example.test", ACCOUNTS, IN1),
        SignerSpec::at(CI, CI_ISSUER, IN2),
        SignerSpec::at("mallory@example.test", ACCOUNTS, IN3),
        SignerSpec::at("bob@example.test", OTHER_OIDC, BEFORE),
        SignerSpec::at("alice@example.test", ACCOUNTS, AFTER),
    ];
    let v2 = [
        SignerSpec::at("alice@example.test", ACCOUNTS, IN2),
        SignerSpec::at("eve@example.test", OTHER_OIDC, AFTER),
    ];
    let write = |dir: &str, bundles: Vec<Value>| {
        let d = t.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        for (i, b) in bundles.iter().enumerate() {
            std::fs::write(
                d.join(format!("b{i}.sigstore.json")),
                serde_json::to_vec_pretty(b).unwrap(),
            )
            .unwrap();
        }
    };
    write("v1", inst.bundles_as(ARTIFACT, &v1, Rekor::V1));
    write("v2", inst.bundles_as(ARTIFACT, &v2, Rekor::V2));
    let mut tampered = inst.bundles_as(
        ARTIFACT,
        &[SignerSpec::at("alice@example.test", ACCOUNTS, BEFORE)],
        Rekor::V1,
    );
    tampered[0]["verificationMaterial"]["tlogEntries"][0]["integratedTime"] =
        Value::String(IN1.to_string());
    write("tampered", tampered);
    t
}

fn private(t: &tempfile::TempDir, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["--trusted-root", "root.json"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["v1", "v2", "tampered"]);
    scope_json(t.path(), &all)
}

#[test]
fn private_instance_signers_are_listed_with_verified_times() {
    let t = private_case();
    let (c, doc) = private(&t, &["--identity", "*", "--window", WINDOW]);
    assert_eq!(c, 1);
    let b = "sigstore-bundle";
    let set = Some(true);
    let want = vec![
        row(
            "v1/b0.sigstore.json",
            b,
            "alice@example.test",
            ACCOUNTS,
            "2026-03-10T12:00:00Z",
            set,
            Some("in-window"),
        ),
        row(
            "v1/b1.sigstore.json",
            b,
            CI,
            CI_ISSUER,
            "2026-03-11T08:30:00Z",
            set,
            Some("in-window"),
        ),
        row(
            "v1/b2.sigstore.json",
            b,
            "mallory@example.test",
            ACCOUNTS,
            "2026-03-12T23:59:00Z",
            set,
            Some("in-window"),
        ),
        row(
            "v1/b3.sigstore.json",
            b,
            "bob@example.test",
            OTHER_OIDC,
            "2026-03-01T00:00:00Z",
            set,
            Some("outside-window"),
        ),
        row(
            "v1/b4.sigstore.json",
            b,
            "alice@example.test",
            ACCOUNTS,
            "2026-03-20T00:00:00Z",
            set,
            Some("outside-window"),
        ),
        row(
            "v2/b0.sigstore.json",
            b,
            "alice@example.test",
            ACCOUNTS,
            "2026-03-11T08:30:00Z",
            set,
            Some("in-window"),
        ),
        row(
            "v2/b1.sigstore.json",
            b,
            "eve@example.test",
            OTHER_OIDC,
            "2026-03-20T00:00:00Z",
            set,
            Some("outside-window"),
        ),
        // The SET no longer verifies: the stated time is shown, never used.
        row(
            "tampered/b0.sigstore.json",
            b,
            "alice@example.test",
            ACCOUNTS,
            "2026-03-10T12:00:00Z",
            Some(false),
            Some("window-unknown"),
        ),
    ];
    assert_eq!(rows(&doc), want);
    let r = &doc["records"];
    assert!(r[0]["signing_time"]["source"]
        .as_str()
        .unwrap()
        .contains("signed entry timestamp verified"));
    assert!(r[5]["signing_time"]["source"]
        .as_str()
        .unwrap()
        .starts_with("RFC 3161 timestamp by "));
    assert!(r[7]["signing_time"]["source"]
        .as_str()
        .unwrap()
        .contains("signed-entry-timestamp failed"));
    for i in 0..7 {
        assert_eq!(r[i]["verdict"], "all-required-passed", "{:#}", r[i]);
    }
    assert_eq!(r[7]["verdict"], "failed");
}

#[test]
fn identity_issuer_and_window_decide_the_answer() {
    let t = private_case();
    // Alice in the window: her two bundles in it, and the tampered one, which cannot be excluded.
    let (c, doc) = private(
        &t,
        &["--identity", "alice@example.test", "--window", WINDOW],
    );
    assert_eq!(c, 1);
    assert_eq!(
        matching(&doc),
        [
            "v1/b0.sigstore.json",
            "v2/b0.sigstore.json",
            "tampered/b0.sigstore.json"
        ]
    );
    assert_eq!(doc["summary"]["identity_matches"], 4);
    // Bob signed only before the window: no answer, exit 0.
    let (c, doc) = private(&t, &["--identity", "bob@example.test", "--window", WINDOW]);
    assert_eq!(c, 0);
    assert!(matching(&doc).is_empty());
    assert_eq!(doc["summary"]["identity_matches"], 1);
    // The issuer must match too.
    let (c, doc) = private(
        &t,
        &["--identity", "*@example.test", "--issuer", OTHER_OIDC],
    );
    assert_eq!(c, 1);
    assert_eq!(
        matching(&doc),
        ["v1/b3.sigstore.json", "v2/b1.sigstore.json"]
    );
    // A glob over URIs, no window: every bundle of the CI identity.
    let (c, doc) = private(&t, &["--identity", "https://ci.example.test/*"]);
    assert_eq!(c, 1);
    assert_eq!(matching(&doc), ["v1/b1.sigstore.json"]);
    assert!(doc["records"][1].get("window").is_none());
    // Nobody of that name.
    let (c, _) = private(&t, &["--identity", "nobody@example.test"]);
    assert_eq!(c, 0);
}

#[test]
fn unexpected_signers_in_the_window_are_high_findings() {
    let t = private_case();
    std::fs::write(
        t.path().join("expected.txt"),
        format!(
            "# release signers\nalice@example.test {ACCOUNTS}\n{CI} {CI_ISSUER}  # the CI\n\n\
             eve@example.test {ACCOUNTS}\n"
        ),
    )
    .unwrap();
    let (c, doc) = private(
        &t,
        &[
            "--identity",
            "nobody@example.test",
            "--window",
            WINDOW,
            "--expected-signers",
            "expected.txt",
        ],
    );
    // Nobody matches the pattern, but mallory signed in the window and is not listed.
    assert_eq!(c, 1);
    let flagged: Vec<(String, String)> = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["findings"].as_array().unwrap().iter().map(move |f| {
                assert_eq!(f["code"], "unexpected-signer");
                assert_eq!(f["severity"], "high");
                (
                    r["path"].as_str().unwrap().to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    assert_eq!(flagged.len(), 1, "{flagged:?}");
    assert_eq!(flagged[0].0, "v1/b2.sigstore.json");
    assert_eq!(
        flagged[0].1,
        format!(
            "signer mallory@example.test (issuer {ACCOUNTS}) is not on the expected signers list expected.txt and signed in the window"
        )
    );
    assert_eq!(matching(&doc), ["v1/b2.sigstore.json"]);
    assert_eq!(doc["summary"]["unexpected_signers"], 1);
    let expected: Vec<Option<bool>> = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expected"].as_bool())
        .collect();
    // eve is listed with another issuer: not expected (outside the window, so no finding).
    assert_eq!(
        expected,
        [
            Some(true),
            Some(true),
            Some(false),
            Some(false),
            Some(true),
            Some(true),
            Some(false),
            Some(true)
        ]
    );
    // Without a window every unlisted signer is flagged.
    let (c, doc) = private(
        &t,
        &[
            "--identity",
            "nobody@x",
            "--expected-signers",
            "expected.txt",
        ],
    );
    assert_eq!(c, 1);
    assert_eq!(doc["summary"]["unexpected_signers"], 3);
    // The human table names the finding.
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--trusted-root",
            "root.json",
            "--identity",
            "nobody@x",
            "--window",
            WINDOW,
            "--expected-signers",
            "expected.txt",
            "v1",
        ],
    );
    assert_eq!(code(&o), 1);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("in-window       sigstore-bundle    v1/b2.sigstore.json  identity mallory@example.test issuer https://accounts.example.test; signed 2026-03-12T23:59:00Z"),
        "{text}"
    );
    assert!(
        text.contains("  High unexpected-signer: signer mallory@example.test"),
        "{text}"
    );
}

/// A signer that is not listed and whose time is not verified cannot be placed outside the
/// window: flagged, saying so.
#[test]
fn an_unlisted_signer_with_an_unverified_time_is_flagged() {
    let t = private_case();
    std::fs::write(t.path().join("expected.txt"), format!("{CI} {CI_ISSUER}\n")).unwrap();
    let (c, doc) = scope_json(
        t.path(),
        &[
            "--trusted-root",
            "root.json",
            "--identity",
            CI,
            "--window",
            "2030-01-01..",
            "--expected-signers",
            "expected.txt",
            "tampered",
        ],
    );
    assert_eq!(c, 1);
    let f = &doc["records"][0]["findings"][0];
    assert_eq!(f["code"], "unexpected-signer");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .ends_with("its signing time is not verified, so it cannot be placed outside the window"));
}

#[test]
fn usage_and_unreadable_inputs_exit_2() {
    let t = private_case();
    let run = |args: &[&str]| {
        let mut all = vec!["scope"];
        all.extend_from_slice(args);
        code(&run_in(t.path(), &all))
    };
    // Not with a key question.
    let key = fixture("wsc/keys/test-key-a.pub");
    assert_eq!(
        run(&["--identity", "*", "-K", key.to_str().unwrap(), "v1"]),
        2
    );
    // --issuer and --expected-signers need --identity.
    assert_eq!(run(&["--issuer", ACCOUNTS, "v1"]), 2);
    assert_eq!(run(&["--identity", "", "v1"]), 2);
    assert_eq!(run(&["--identity", "*", "--window", "soon..", "v1"]), 2);
    assert_eq!(
        run(&["--identity", "*", "--expected-signers", "missing.txt", "v1"]),
        2
    );
    std::fs::write(t.path().join("bad.txt"), "alice@example.test\n").unwrap();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--identity",
            "*",
            "--expected-signers",
            "bad.txt",
            "v1",
        ],
    );
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.txt:1: expected `IDENTITY ISSUER`"));
    std::fs::write(t.path().join("empty.txt"), "# nobody\n").unwrap();
    assert_eq!(
        run(&["--identity", "*", "--expected-signers", "empty.txt", "v1"]),
        2
    );
    assert_eq!(run(&["--identity", "*", "--trusted-root", "v1", "v1"]), 2);
    assert_eq!(run(&["--identity", "*", "no-such-dir"]), 2);
    // A bundle that cannot be read, and no answer: the list may be incomplete.
    std::fs::create_dir(t.path().join("broken")).unwrap();
    std::fs::write(
        t.path().join("broken/x.sigstore.json"),
        r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#,
    )
    .unwrap();
    let (c, doc) = scope_json(
        t.path(),
        &[
            "--trusted-root",
            "root.json",
            "--identity",
            "nobody@x",
            "broken",
            "v1",
        ],
    );
    assert_eq!(c, 2);
    assert_eq!(doc["summary"]["errors"], 1);
    assert!(doc["records"][0]["error"]
        .as_str()
        .unwrap()
        .contains("verificationMaterial"));
    // The same with an answer: 1.
    let (c, _) = scope_json(
        t.path(),
        &[
            "--trusted-root",
            "root.json",
            "--identity",
            "*",
            "broken",
            "v1",
        ],
    );
    assert_eq!(c, 1);
}

/// A collected evidence bundle answers the same question from the zip.
#[test]
fn an_evidence_bundle_gives_the_same_records() {
    let t = private_case();
    let mods = t.path().join("in/modules");
    std::fs::create_dir_all(&mods).unwrap();
    for m in [
        "keyless-replayed-rekor-entry.wasm",
        "keyless-no-rekor.wasm",
        "signed-a.wasm",
    ] {
        std::fs::copy(fixture(&format!("wsc/modules/{m}")), mods.join(m)).unwrap();
    }
    std::fs::copy(
        t.path().join("v1/b0.sigstore.json"),
        t.path().join("in/b0.sigstore.json"),
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &["collect", "-q", "--case-id", "IR-3", "-o", "case.zip", "in"],
    );
    assert!(code(&o) <= 1, "{}", String::from_utf8_lossy(&o.stderr));
    let args = |input: &str| {
        scope_json(
            t.path(),
            &[
                "--trusted-root",
                "root.json",
                "--identity",
                "*",
                "--window",
                WINDOW,
                input,
            ],
        )
    };
    let (c_dir, from_dir) = args("in");
    let (c_zip, from_zip) = args("case.zip");
    assert_eq!((c_dir, c_zip), (1, 1));
    let strip = |doc: &Value| -> Vec<Row> {
        rows(doc)
            .into_iter()
            .map(|mut r| {
                r.0 = r.0.rsplit('/').next().unwrap().to_owned();
                r
            })
            .collect()
    };
    assert_eq!(strip(&from_zip), strip(&from_dir));
    assert_eq!(from_zip["records"].as_array().unwrap().len(), 3);
    let origin = &from_zip["records"][0]["origin"];
    assert_eq!(origin["type"], "bundle");
    assert_eq!(from_zip["summary"]["other_modules"], 1);
}

/// Evidence text reaches the terminal escaped: an identity with control characters.
#[test]
fn the_table_escapes_identities() {
    let t = tempfile::tempdir().unwrap();
    let inst = Instance::new(Options::default());
    std::fs::write(
        t.path().join("root.json"),
        serde_json::to_vec(&inst.trusted_root()).unwrap(),
    )
    .unwrap();
    let b = inst.bundles_as(
        ARTIFACT,
        &[SignerSpec::at("evil\u{1b}[2J@example.test", ACCOUNTS, IN1)],
        Rekor::V1,
    );
    std::fs::write(
        t.path().join("b.sigstore.json"),
        serde_json::to_vec(&b[0]).unwrap(),
    )
    .unwrap();
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--trusted-root",
            "root.json",
            "--identity",
            "evil*",
            "b.sigstore.json",
        ],
    );
    assert_eq!(code(&o), 1);
    assert!(!o.stdout.contains(&0x1b));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("identity evil\\033[2J@example.test"),
        "{text}"
    );
}

/// `--json` is what `serde_json::to_string_pretty` makes of the library's
/// [`KeylessScopeResult`] (written record by record), and it matches its checked-in schema.
#[test]
fn json_output_is_the_library_result_and_matches_its_schema() {
    use wsc_forensics::scope::keyless::{
        scope_keyless, ExpectedSigners, IdentityPattern, KeylessQuery,
    };
    use wsc_forensics::scope::TimeWindow;
    use wsc_forensics::transparency::TrustRoot;
    let t = private_case();
    std::fs::write(
        t.path().join("expected.txt"),
        format!("alice@example.test {ACCOUNTS}\n"),
    )
    .unwrap();
    let mods = t.path().join("modules");
    std::fs::create_dir(&mods).unwrap();
    for m in ["keyless-replayed-rekor-entry.wasm", "signed-a.wasm"] {
        std::fs::copy(fixture(&format!("wsc/modules/{m}")), mods.join(m)).unwrap();
    }
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--json",
            "--trusted-root",
            "root.json",
            "--identity",
            "*@example.test",
            "--window",
            WINDOW,
            "--expected-signers",
            "expected.txt",
            "v1",
            "tampered",
            "modules",
            "missing",
        ],
    );
    assert_eq!(code(&o), 2, "the missing input is a usage error");
    // Absolute paths, so the library (run from this process's folder) sees the same names.
    let abs = |p: &str| t.path().join(p).to_str().unwrap().to_owned();
    let (root, expected) = (abs("root.json"), abs("expected.txt"));
    let inputs = [abs("v1"), abs("tampered"), abs("modules")];
    let mut args = vec![
        "scope",
        "--json",
        "--trusted-root",
        &root,
        "--identity",
        "*@example.test",
        "--window",
        WINDOW,
        "--expected-signers",
        &expected,
    ];
    args.extend(inputs.iter().map(String::as_str));
    let o = run_in(t.path(), &args);
    assert_eq!(code(&o), 1);
    let root_bytes = std::fs::read(&root).unwrap();
    let mut q = KeylessQuery::new(
        IdentityPattern::parse("*@example.test").unwrap(),
        TrustRoot::parse(&root, &root_bytes).unwrap(),
    );
    q.window = Some(TimeWindow::parse(WINDOW).unwrap());
    q.expected_signers = Some(ExpectedSigners::read(Path::new(&expected)).unwrap());
    let inputs: Vec<std::path::PathBuf> = inputs.iter().map(Into::into).collect();
    let result = scope_keyless(&inputs, q);
    assert_eq!(result.records.len(), 7);
    assert_eq!(result.summary.other_modules, 1);
    let want = serde_json::to_string_pretty(&result).unwrap() + "\n";
    assert_eq!(String::from_utf8(o.stdout.clone()).unwrap(), want);
    let doc = json(&o);
    let schema: Value = serde_json::from_slice(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/scope-keyless.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // An empty answer is a valid document too.
    let o = run_in(
        t.path(),
        &[
            "scope",
            "--json",
            "--identity",
            "x",
            "modules/signed-a.wasm",
        ],
    );
    assert_eq!(code(&o), 0);
    assert!(v.is_valid(&json(&o)));
}
