//! Every `--json` document has a JSON Schema in `docs/schema/`, generated from the Rust types
//! that print it (`wsc_forensics::cli::schema`), and every command's real output on the fixtures
//! validates against it (issue #18). `WSC_UPDATE_SCHEMAS=1 cargo test --test it json_schema::`
//! rewrites the checked-in schemas after a deliberate change of an output type.

use crate::common::{bin, code, fixture};
use clap::CommandFactory;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use wsc_forensics::cli::schema::{documents, render};

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema")
}

/// The checked-in schema `file`, compiled.
fn validator(file: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_dir().join(file)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Panics with every error when `doc` does not match the schema `file`, each with the place in
/// the document and in the schema (so a failed choice names what failed inside each branch).
pub(crate) fn assert_valid(file: &str, doc: &Value, what: &str) {
    let v = validator(file);
    if v.is_valid(doc) {
        return;
    }
    let evaluation = v.evaluate(doc);
    let errors: Vec<String> = evaluation
        .iter_errors()
        .map(|e| {
            format!(
                "{} ({}): {}",
                e.instance_location, e.schema_location, e.error
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match {file}:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(doc).unwrap()
    );
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn stdout_json(o: &Output, what: &str) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

#[test]
fn checked_in_schemas_equal_the_generated_ones() {
    let dir = schema_dir();
    let update = std::env::var_os("WSC_UPDATE_SCHEMAS").is_some();
    let docs = documents();
    for d in &docs {
        let want = render(&d.schema);
        let path = dir.join(d.file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} differs from the schema of the type that prints `{}`; after a deliberate change \
             run WSC_UPDATE_SCHEMAS=1 cargo test --test it json_schema::",
            path.display(),
            d.printed_by
        );
        // Each schema is itself a valid draft 2020-12 schema.
        jsonschema::validator_for(&serde_json::from_str(&have).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", d.file));
    }
    // Nothing stale beside them.
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut want: Vec<String> = docs.iter().map(|d| d.file.to_owned()).collect();
    want.sort();
    assert_eq!(on_disk, want);
}

/// Every command (and `keys check`) that takes `--json` has a schema, found by reading the
/// clap definitions.
#[test]
fn every_command_with_json_output_has_a_schema() {
    let printed: Vec<&str> = documents().iter().map(|d| d.printed_by).collect();
    let cli = wsc_forensics::cli::Cli::command();
    let mut with_json = Vec::new();
    for sub in cli.get_subcommands() {
        let name = sub.get_name().to_owned();
        if sub.get_arguments().any(|a| a.get_long() == Some("json")) {
            with_json.push(name.clone());
        }
        for inner in sub.get_subcommands() {
            if inner.get_arguments().any(|a| a.get_long() == Some("json")) {
                with_json.push(format!("{name} {}", inner.get_name()));
            }
        }
    }
    assert!(with_json.len() >= 7, "{with_json:?}");
    for c in &with_json {
        assert!(
            printed.iter().any(|p| *p == format!("{c} --json")),
            "`{c} --json` has no schema in cli::schema::documents(): {printed:?}"
        );
    }
    // The timeline's JSON Lines (`--json`, `--format jsonl`) are a document a line.
    assert!(printed.contains(&"timeline --json"));
}

/// Every file of the fixture folders given, sorted.
fn files_under(rel: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(fixture(rel))
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !n.ends_with(".md") && n != "SHA256SUMS" && !n.ends_with(".txt")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn inspect_output_on_every_fixture_validates() {
    let mut files = files_under("wsc");
    files.extend(files_under("rekor"));
    files.extend(files_under("sigstore"));
    assert!(files.len() > 45, "{}", files.len());
    let key = fixture("wsc/keys/test-key-a.pub");
    // All at once (an array), with and without a key.
    for with_key in [false, true] {
        let mut c = bin();
        c.arg("inspect").arg("--json");
        if with_key {
            c.arg("-K").arg(&key);
        }
        let o = c.args(&files).output().unwrap();
        let doc = stdout_json(&o, "inspect --json FILES");
        let docs = doc.as_array().expect("several inputs: an array");
        assert!(docs.len() > 40, "{}", docs.len());
        // Each element alone is a valid one-input document (and the errors name its fields).
        for d in docs {
            assert_valid(
                "inspect.schema.json",
                d,
                &format!("inspect --json {}", d["path"]),
            );
        }
        assert_valid("inspect.schema.json", &doc, "inspect --json FILES");
        // The documents cover every shape the schema describes.
        for field in [
            "module",
            "key",
            "detached_signature",
            "transparency",
            "error",
        ] {
            assert!(
                docs.iter().any(|d| d.get(field).is_some()),
                "no fixture gave `{field}`"
            );
        }
    }
    // One input: one object.
    let o = run(&[
        "inspect",
        "--json",
        "-K",
        key.to_str().unwrap(),
        fixture("wsc/modules/signed-a.wasm").to_str().unwrap(),
    ]);
    let doc = stdout_json(&o, "inspect --json ONE");
    assert!(doc.is_object());
    assert_valid("inspect.schema.json", &doc, "inspect --json ONE");
}

/// collect, verify, timeline, report and scope on one bundle of the fixtures; keys and
/// keys check on the fixture keys.
#[test]
fn bundle_and_key_commands_output_validates() {
    let t = tempfile::tempdir().unwrap();
    let bundle = t.path().join("case.zip");
    let b = bundle.to_str().unwrap();
    let inputs = [
        fixture("wsc/modules"),
        fixture("wsc/keys"),
        fixture("wsc/audit"),
        fixture("rekor"),
    ];
    let o = bin()
        .args(["collect", "--json", "-o", b, "--case-id", "IR-SCHEMA"])
        .args(["--collected-at", "2026-11-25T10:00:00Z"])
        .args(&inputs)
        .output()
        .unwrap();
    let doc = stdout_json(&o, "collect --json");
    assert_valid("collect.schema.json", &doc, "collect --json");
    assert!(doc["items"].as_u64().unwrap() > 30);

    let o = run(&["verify", "--json", b]);
    assert_eq!(code(&o), 0);
    assert_valid(
        "verify.schema.json",
        &stdout_json(&o, "verify"),
        "verify --json",
    );
    // An altered bundle (problems) and a file that is no bundle (unreadable) too.
    let altered = t.path().join("altered.zip");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(4).position(|w| w == b"\0asm").unwrap();
    bytes[at + 9] ^= 0x55;
    std::fs::write(&altered, &bytes).unwrap();
    let not_zip = fixture("wsc/modules/base.wasm");
    for (p, want) in [(altered.as_path(), 1), (not_zip.as_path(), 2)] {
        let o = run(&["verify", "--json", p.to_str().unwrap()]);
        assert_eq!(code(&o), want, "{}", p.display());
        let doc = stdout_json(&o, "verify");
        assert!(!doc["problems"].as_array().unwrap().is_empty());
        assert_valid("verify.schema.json", &doc, "verify --json (failing)");
    }

    let o = run(&["timeline", "--json", b]);
    assert_eq!(code(&o), 0);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.lines().count() > 30);
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert_valid("timeline-event.schema.json", &event, "timeline jsonl line");
    }

    let reports = t.path().join("reports");
    let o = run(&[
        "report",
        "--json",
        "--format",
        "md",
        "-o",
        reports.to_str().unwrap(),
        b,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_valid(
        "report.schema.json",
        &stdout_json(&o, "report"),
        "report --json",
    );

    let key = fixture("wsc/keys/test-key-a.pub");
    let key = key.to_str().unwrap();
    for input in [b, fixture("wsc/modules").to_str().unwrap()] {
        let o = run(&["scope", "--json", "-K", key, input]);
        assert_eq!(code(&o), 1, "{input}");
        let doc = stdout_json(&o, "scope");
        assert!(!doc["modules"].as_array().unwrap().is_empty());
        assert_valid("scope.schema.json", &doc, "scope --json");
    }

    let keys = fixture("wsc/keys");
    let keys = keys.to_str().unwrap();
    let o = run(&["keys", "--json", keys]);
    let doc = stdout_json(&o, "keys");
    assert!(!doc["keys"].as_array().unwrap().is_empty());
    assert_valid("keys.schema.json", &doc, "keys --json");
    let copy = t.path().join("keys");
    std::fs::create_dir(&copy).unwrap();
    for k in ["test-key-a.pub", "test-key-b.pub"] {
        std::fs::copy(fixture("wsc/keys").join(k), copy.join(k)).unwrap();
    }
    let baseline = t.path().join("keys.sha256");
    let o = run(&["keys", "baseline", copy.to_str().unwrap()]);
    std::fs::write(&baseline, &o.stdout).unwrap();
    std::fs::write(copy.join("test-key-b.pub"), b"changed").unwrap();
    std::fs::copy(
        fixture("wsc/keys/test-ssh-ed25519.pub"),
        copy.join("new.pub"),
    )
    .unwrap();
    let o = run(&[
        "keys",
        "check",
        "--json",
        "--baseline",
        baseline.to_str().unwrap(),
        copy.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 1);
    let doc = stdout_json(&o, "keys check");
    assert_eq!(doc["summary"]["changed"], 1);
    assert_eq!(doc["summary"]["new"], 1);
    assert_valid("keys-check.schema.json", &doc, "keys check --json");
}

/// The schemas say something: outputs with a wrong type, a missing field or a malformed digest
/// are rejected.
#[test]
fn schemas_reject_documents_that_break_them() {
    let t = tempfile::tempdir().unwrap();
    let bundle = t.path().join("case.zip");
    let o = bin()
        .args(["collect", "--json", "-o", bundle.to_str().unwrap()])
        .args(["--case-id", "IR-SCHEMA"])
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .output()
        .unwrap();
    let good = stdout_json(&o, "collect");
    let v = validator("collect.schema.json");
    assert!(v.is_valid(&good));
    let mut bad = good.clone();
    bad["digest"] = "not-a-digest".into();
    assert!(!v.is_valid(&bad), "a malformed digest passed");
    let mut bad = good.clone();
    bad.as_object_mut().unwrap().remove("items");
    assert!(!v.is_valid(&bad), "a missing field passed");
    let mut bad = good.clone();
    bad["items"] = "many".into();
    assert!(!v.is_valid(&bad), "a wrong type passed");
    let mut bad = good;
    bad["undeclared"] = true.into();
    assert!(
        !v.is_valid(&bad),
        "a field the type does not declare passed"
    );

    // Unsigned: one finding (module-not-signed).
    let o = run(&[
        "inspect",
        "--json",
        fixture("wsc/modules/base.wasm").to_str().unwrap(),
    ]);
    let good = stdout_json(&o, "inspect");
    let v = validator("inspect.schema.json");
    assert!(v.is_valid(&good));
    let mut bad = good.clone();
    bad["findings"][0]["severity"] = "catastrophic".into();
    assert!(!v.is_valid(&bad), "an unknown severity passed");
    let mut bad = good.clone();
    bad["module"]["signature"]["kind"] = "mystery".into();
    assert!(!v.is_valid(&bad), "an unknown signature kind passed");
    // Deep inside, too: a section record with an extra field.
    let mut bad = good;
    bad["module"]["scan"]["sections"][0]["extra"] = 1.into();
    assert!(!v.is_valid(&bad), "an undeclared field in a section passed");
}
