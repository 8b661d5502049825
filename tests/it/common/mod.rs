//! Helpers shared by the integration tests: fixture paths and outside-program oracles.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Absolute path of a file under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

/// True when `program --version`-style probe `args` runs. When it does not: in CI (`CI` set) the
/// test fails, because `.ci/run` installs every oracle; on a developer machine it is skipped with
/// a message saying what to install.
pub fn oracle_available(program: &str, args: &[&str], install_hint: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("oracle `{program}` is missing in CI; .ci/run must install it ({install_hint})");
        }
        eprintln!("SKIPPED: oracle `{program}` not installed ({install_hint})");
    }
    ok
}

/// `python3 -m bagit` (bagit-python), the independent BagIt validator.
pub fn bagit_available() -> bool {
    oracle_available(
        "python3",
        &["-m", "bagit", "--version"],
        "pip install bagit==1.9.0",
    )
}

/// `pdftotext` from poppler-utils, the independent PDF text extractor.
pub fn pdftotext_available() -> bool {
    oracle_available("pdftotext", &["-v"], "apt-get install poppler-utils")
}

pub mod bags;
pub mod mutate;
pub mod sigstore_instance;
pub mod tsa;
pub mod zip_bytes;

/// The built `wsc-forensics` binary as a plain `Command`.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsc-forensics"))
}

/// The built `wsc-forensics` binary as an `assert_cmd` command (`.assert()`, stdin, timeouts).
pub fn cmd() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_wsc-forensics"))
}

/// Runs the binary with `args` in `dir` and returns what it did.
pub fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// The exit code of a process that exited normally.
pub fn code(o: &std::process::Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// Its stdout as JSON; the panic shows both streams.
pub fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// The collection time the library-level collect tests fix.
pub const COLLECTED_AT: &str = "2026-11-25T10:00:00Z";

/// A library-level collect request: `inputs` into `output` under `case_id`, at
/// [`COLLECTED_AT`] (fixed), by a `tester` actor, default acquisition; tests change the fields
/// they are about.
pub fn collect_request(
    case_id: &str,
    inputs: Vec<PathBuf>,
    output: &Path,
) -> wsc_forensics::acquire::CollectRequest {
    wsc_forensics::acquire::CollectRequest {
        inputs,
        case_file: None,
        case: wsc_forensics::model::case::CaseInfo {
            case_id: case_id.into(),
            ..Default::default()
        },
        output: output.to_owned(),
        collected_at: chrono::DateTime::parse_from_rfc3339(COLLECTED_AT)
            .unwrap()
            .to_utc(),
        time_fixed: true,
        force: false,
        compress: false,
        sign_key: None,
        argv: vec!["wsc-forensics".into(), "collect".into()],
        actor: wsc_forensics::model::custody::Actor {
            examiner: None,
            user: "tester".into(),
            host: "test".into(),
        },
        acquire: wsc_forensics::acquire::AcquireOptions::default(),
        fail_write_after: None,
        spill_run_bytes: None,
        tsa: None,
    }
}

/// The checks of a transparency report that failed, in table order.
pub fn failed_checks(
    rep: &wsc_forensics::transparency::TransparencyReport,
) -> Vec<wsc_forensics::transparency::CheckId> {
    rep.verification
        .checks
        .iter()
        .filter(|c| c.outcome.is_fail())
        .map(|c| c.id)
        .collect()
}

/// `case_validate` from case-utils (CASE/UCO SHACL validation, offline with its bundled
/// ontology), the independent judge of `export --format case`.
pub fn case_validate_available() -> bool {
    oracle_available(
        "case_validate",
        &["--help"],
        "pip install case-utils==0.18.0",
    )
}
