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

pub mod mutate;
