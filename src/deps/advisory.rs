//! RustSec advisories read offline: one advisory file (Markdown with TOML front matter), an
//! advisory by id from a local copy of the advisory database (`crates/<package>/<ID>.md`), or
//! every crate advisory of that copy. Parsed by the `rustsec` crate itself (no git or network
//! features), so `[versions] patched` / `unaffected` mean exactly what they mean to RustSec.

use crate::io::bounded_read::{read_regular_file, BoundedReadError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Largest advisory file read (real ones are a few KiB).
pub const MAX_ADVISORY_BYTES: u64 = 1 << 20;

/// Why advisories could not be loaded: usage errors (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: BoundedReadError,
    },
    #[error("{path}: not a RustSec advisory: {reason}")]
    Parse { path: String, reason: String },
    #[error("{path}: the advisory database layout puts {id} at crates/{package}/{id}.md")]
    Misplaced {
        path: String,
        id: String,
        package: String,
    },
    #[error("advisory {id}: not found under {db}/crates/*/ (an offline copy of the RustSec advisory database)")]
    NotFound { id: String, db: String },
    #[error("advisory {id}: give --advisory-db DIR (a local copy of the advisory database) or the advisory file's path")]
    NoDatabase { id: String },
    #[error("{db}: cannot list the advisory database: {reason}")]
    Database { db: String, reason: String },
}

/// One advisory, as the query reports it.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct LoadedAdvisory {
    pub id: String,
    pub package: String,
    pub title: String,
    /// `[versions] patched` requirements.
    pub patched: Vec<String>,
    /// `[versions] unaffected` requirements.
    pub unaffected: Vec<String>,
    /// The advisory was withdrawn (its date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// Informational advisory kind (`unmaintained`, `unsound`, `notice`), not a vulnerability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub informational: Option<String>,
    /// The file it was read from.
    pub file: String,
    #[serde(skip)]
    #[schemars(skip)]
    pub advisory: Box<rustsec::Advisory>,
}

impl LoadedAdvisory {
    /// Parses the advisory file at `path`.
    pub fn load(path: &Path) -> Result<Self, AdvisoryError> {
        let name = path.display().to_string();
        let bytes =
            read_regular_file(path, MAX_ADVISORY_BYTES).map_err(|source| AdvisoryError::Read {
                path: name.clone(),
                source,
            })?;
        let parse = |reason: String| AdvisoryError::Parse {
            path: name.clone(),
            reason,
        };
        let text = std::str::from_utf8(&bytes).map_err(|e| parse(e.to_string()))?;
        let a = rustsec::Advisory::from_str(text).map_err(|e| parse(e.to_string()))?;
        Ok(LoadedAdvisory {
            id: a.id().to_string(),
            package: a.metadata.package.as_str().to_owned(),
            title: a.title().to_owned(),
            patched: a.versions.patched().iter().map(|r| r.to_string()).collect(),
            unaffected: a
                .versions
                .unaffected()
                .iter()
                .map(|r| r.to_string())
                .collect(),
            withdrawn: a.metadata.withdrawn.as_ref().map(|d| d.to_string()),
            informational: a.metadata.informational.as_ref().map(|i| i.to_string()),
            file: name,
            advisory: Box::new(a),
        })
    }

    /// Loads a file of the database, checking it sits where the layout puts it (as RustSec
    /// does: `crates/<package>/<id>.md`).
    fn load_in_db(path: &Path) -> Result<Self, AdvisoryError> {
        let a = Self::load(path)?;
        let file_ok = path.file_name() == Some(format!("{}.md", a.id).as_ref());
        let dir_ok = path.parent().and_then(Path::file_name) == Some(a.package.as_ref());
        if !(file_ok && dir_ok) {
            return Err(AdvisoryError::Misplaced {
                path: a.file,
                id: a.id,
                package: a.package,
            });
        }
        Ok(a)
    }
}

/// `--advisory ID|FILE`: an existing path is an advisory file; otherwise an id looked up in
/// `db`.
pub fn resolve(arg: &str, db: Option<&Path>) -> Result<LoadedAdvisory, AdvisoryError> {
    let path = Path::new(arg);
    if std::fs::symlink_metadata(path).is_ok() {
        return LoadedAdvisory::load(path);
    }
    let db = db.ok_or_else(|| AdvisoryError::NoDatabase { id: arg.to_owned() })?;
    let found = advisory_files(db)?
        .into_iter()
        .find(|p| p.file_name() == Some(format!("{arg}.md").as_ref()));
    match found {
        Some(p) => LoadedAdvisory::load_in_db(&p),
        None => Err(AdvisoryError::NotFound {
            id: arg.to_owned(),
            db: db.display().to_string(),
        }),
    }
}

/// Every advisory of the database that `cargo audit` checks by default: crate advisories,
/// neither withdrawn nor informational.
pub fn all_vulnerabilities(db: &Path) -> Result<Vec<LoadedAdvisory>, AdvisoryError> {
    let mut out = Vec::new();
    for p in advisory_files(db)? {
        let a = LoadedAdvisory::load_in_db(&p)?;
        if a.withdrawn.is_none() && a.informational.is_none() {
            out.push(a);
        }
    }
    Ok(out)
}

/// The `crates/<package>/<file>` entries of the database (dot files skipped, as RustSec does;
/// symlinks and non-directories skipped), sorted.
fn advisory_files(db: &Path) -> Result<Vec<PathBuf>, AdvisoryError> {
    let err = |e: std::io::Error| AdvisoryError::Database {
        db: db.display().to_string(),
        reason: e.to_string(),
    };
    let mut out = Vec::new();
    for dir in std::fs::read_dir(db.join("crates")).map_err(err)? {
        let dir = dir.map_err(err)?;
        if !dir.file_type().map_err(err)?.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).map_err(err)? {
            let f = f.map_err(err)?;
            if f.file_name().to_string_lossy().starts_with('.')
                || !f.file_type().map_err(err)?.is_file()
            {
                continue;
            }
            out.push(f.path());
        }
    }
    out.sort();
    Ok(out)
}
