//! Archive audit ("fixity check"): every bundle under the inputs verified, in parallel, with one
//! fixity record each in input order, checked against the digests recorded at collection when a
//! list of them is given; bundles listed but not found are records too.

use super::verify::{verify_bundle, Problem, Verdict, VerifyOptions};
use crate::io::bounded_read::{read_regular_file, BoundedReadError};
use crate::io::pipeline::run_ordered;
use crate::model::digest::Sha256Digest;
use crate::source::walk::walk_inputs;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Largest `--expect-digests` file read (a line per bundle).
pub const MAX_EXPECTED_BYTES: u64 = 64 << 20;

/// What one bundle of the archive is found to be.
#[derive(schemars::JsonSchema, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FixityStatus {
    Intact,
    Altered,
    Invalid,
    Incomplete,
    Unreadable,
    /// Listed in the expected digests, not found under the inputs.
    Missing,
    /// Intact, but `--expect-digests` records no digest for it, so nothing proves it is the
    /// bundle collected.
    NotRecorded,
}

impl FixityStatus {
    pub fn passed(self) -> bool {
        self == FixityStatus::Intact
    }

    fn of(v: Verdict) -> Self {
        match v {
            Verdict::Intact => FixityStatus::Intact,
            Verdict::Altered => FixityStatus::Altered,
            Verdict::Invalid => FixityStatus::Invalid,
            Verdict::Incomplete => FixityStatus::Incomplete,
            Verdict::Unreadable => FixityStatus::Unreadable,
        }
    }
}

/// One line of the fixity report.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug)]
pub struct FixityRecord {
    /// The bundle's path as found under the inputs (or as listed, when missing).
    pub bundle: String,
    /// Size in bytes of the bundle file (absent for a bag directory or a missing bundle).
    pub size: Option<u64>,
    /// The bundle digest (SHA-256 of tagmanifest-sha256.txt) this check computed.
    pub digest: Option<Sha256Digest>,
    /// The digest recorded at collection, from `--expect-digests`.
    pub expected_digest: Option<Sha256Digest>,
    pub status: FixityStatus,
    /// Why it did not pass, as `verify --json` states them.
    pub problems: Vec<Problem>,
    /// When this check read the bundle (this machine's clock).
    pub checked_at: DateTime<Utc>,
}

/// One line of the fixity report and of `verify --json` over an archive: a bundle's record,
/// or the summary that ends the report.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug)]
#[serde(untagged)]
pub enum FixityLine<'a> {
    Record(&'a FixityRecord),
    Summary { summary: &'a FixitySummary },
}

/// Totals of one audit.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, Default)]
pub struct FixitySummary {
    pub bundles: u64,
    /// Count per status (only statuses seen).
    pub by_status: BTreeMap<String, u64>,
    /// Bytes of the bundle files read.
    pub bytes: u64,
    pub seconds: f64,
    /// `bytes` per second, in MiB.
    pub mib_per_second: f64,
    /// Inputs that could not be walked (named with the reason).
    pub unreadable_inputs: Vec<String>,
}

impl FixitySummary {
    /// True when every bundle is intact (and matched its recorded digest) and nothing was
    /// missing or unreadable.
    pub fn all_passed(&self) -> bool {
        self.unreadable_inputs.is_empty()
            && self.by_status.keys().all(|s| s == "intact")
            && self.bundles > 0
    }
}

/// Why an `--expect-digests` list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ExpectedDigestsError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: BoundedReadError,
    },
    #[error("{path}: line {line}: {what}")]
    Line {
        path: String,
        line: usize,
        what: String,
    },
    #[error("{path}: {name:?} names {count} bundles found under the inputs; give its path")]
    Ambiguous {
        path: String,
        name: String,
        count: usize,
    },
}

/// The digests recorded at collection, by bundle name as listed (a path or a file name).
#[derive(Debug, Default, Clone)]
pub struct ExpectedDigests {
    by_name: BTreeMap<String, Sha256Digest>,
    source: String,
}

impl ExpectedDigests {
    /// Reads a list of recorded digests: per line either `HEX  NAME` (as `sha256sum` writes) or
    /// a JSON object with `digest` and `bundle` (a fleet manifest line); blank lines, `#`
    /// comments and manifest lines of hosts that failed with no digest are skipped. The same
    /// name twice with different digests is an error.
    pub fn load(path: &Path) -> Result<Self, ExpectedDigestsError> {
        let shown = path.display().to_string();
        let bytes = read_regular_file(path, MAX_EXPECTED_BYTES).map_err(|source| {
            ExpectedDigestsError::Read {
                path: shown.clone(),
                source,
            }
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let mut by_name = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let bad = |what: String| ExpectedDigestsError::Line {
                path: shown.clone(),
                line: i + 1,
                what,
            };
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (hex, name) = if line.starts_with('{') {
                let v: serde_json::Value =
                    serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
                // A fleet manifest records a host that failed before a bundle existed as
                // `"status": "failed"` with no digest: nothing was collected, so nothing is
                // expected. A failed line that does carry a digest is enforced like any other.
                let failed = v.get("status").and_then(|x| x.as_str()) == Some("failed");
                if failed && v.get("digest").is_none_or(serde_json::Value::is_null) {
                    continue;
                }
                let field = |k: &str| {
                    v.get(k)
                        .and_then(|x| x.as_str())
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("no string field {k:?}")))
                };
                (field("digest")?, field("bundle")?)
            } else {
                let (hex, name) = line
                    .split_once(char::is_whitespace)
                    .ok_or_else(|| bad("expected `HEX  NAME`".into()))?;
                // sha256sum marks binary mode with a `*` before the name.
                let name = name.trim_start();
                (
                    hex.to_owned(),
                    name.strip_prefix('*').unwrap_or(name).to_owned(),
                )
            };
            let digest = Sha256Digest::from_hex(&hex)
                .filter(|_| hex.len() == 64)
                .ok_or_else(|| bad(format!("{hex:?} is not 64 hex digits")))?;
            if let Some(old) = by_name.insert(name.clone(), digest) {
                if old != digest {
                    return Err(bad(format!("{name:?} is listed with two digests")));
                }
            }
        }
        Ok(ExpectedDigests {
            by_name,
            source: shown,
        })
    }
}

/// The bundles under `inputs`, in order: a file input is a bundle whatever its name; a
/// directory holding `bagit.txt` is a bag; any other directory is walked (links never followed)
/// for `.zip` files. Inputs that could not be walked are returned with the reason.
pub fn find_bundles(inputs: &[PathBuf]) -> (Vec<(PathBuf, Option<u64>)>, Vec<String>) {
    let mut bundles = Vec::new();
    let mut walked = Vec::new();
    for input in inputs {
        if input.is_dir() && input.join("bagit.txt").is_file() {
            bundles.push((input.clone(), None));
        } else {
            walked.push(input.clone());
        }
    }
    let walk = walk_inputs(&walked);
    for f in walk.files {
        let named = walked.contains(&f.path);
        let zip = f
            .path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if named || zip {
            bundles.push((f.path, Some(f.stat.size)));
        }
    }
    let problems = walk
        .skipped
        .iter()
        .filter(|s| !s.reason.is_link_or_special())
        .map(|s| format!("{}: {}", s.path.display(), s.reason.evidence_text()))
        .collect();
    (bundles, problems)
}

/// Verifies every bundle on `threads` threads and hands each record to `each` in input order,
/// then one record per expected bundle not found. Returns the totals.
pub fn audit(
    inputs: &[PathBuf],
    opts: &VerifyOptions,
    expected: Option<&ExpectedDigests>,
    threads: usize,
    mut each: impl FnMut(&FixityRecord) -> std::io::Result<()>,
) -> Result<FixitySummary, AuditError> {
    let started = std::time::Instant::now();
    let (bundles, unreadable_inputs) = find_bundles(inputs);
    // Which expected digest each bundle is checked against: by the path as found, else by
    // file name when that names one bundle only.
    let mut expect_for: HashMap<PathBuf, (String, Sha256Digest)> = HashMap::new();
    let mut missing = Vec::new();
    if let Some(exp) = expected {
        for (name, digest) in &exp.by_name {
            let by_path: Vec<&PathBuf> = bundles
                .iter()
                .map(|(p, _)| p)
                .filter(|p| p.as_os_str() == name.as_str())
                .collect();
            let found = if by_path.is_empty() {
                bundles
                    .iter()
                    .map(|(p, _)| p)
                    .filter(|p| p.file_name().is_some_and(|f| f == name.as_str()))
                    .collect()
            } else {
                by_path
            };
            match found.as_slice() {
                [] => missing.push((name.clone(), *digest)),
                [one] => {
                    expect_for.insert((*one).clone(), (name.clone(), *digest));
                }
                many => {
                    return Err(AuditError::Expected(ExpectedDigestsError::Ambiguous {
                        path: exp.source.clone(),
                        name: name.clone(),
                        count: many.len(),
                    }))
                }
            }
        }
    }
    let mut summary = FixitySummary {
        unreadable_inputs,
        ..FixitySummary::default()
    };
    let tally = |r: &FixityRecord, summary: &mut FixitySummary| {
        summary.bundles += 1;
        summary.bytes += r.size.unwrap_or(0);
        *summary.by_status.entry(serde_plain(r.status)).or_default() += 1;
    };
    let checked = run_ordered(
        bundles,
        threads.max(1),
        u64::MAX,
        |_| 1,
        |(path, size)| {
            let recorded = expect_for.get(&path).map(|(_, d)| *d);
            let mut o = opts.clone();
            if recorded.is_some() {
                o.expect_digest = recorded;
            }
            let report = verify_bundle(&path, &o);
            let mut status = FixityStatus::of(report.verdict);
            if status == FixityStatus::Intact && expected.is_some() && recorded.is_none() {
                // The audit was asked to prove each bundle is the one collected; this one
                // has no recorded digest to prove it against.
                status = FixityStatus::NotRecorded;
            }
            FixityRecord {
                bundle: path.display().to_string(),
                size,
                digest: report.digest,
                expected_digest: recorded,
                status,
                problems: report.problems,
                checked_at: Utc::now(),
            }
        },
        |batch: Vec<FixityRecord>| {
            for r in &batch {
                tally(r, &mut summary);
                each(r)?;
            }
            Ok::<(), std::io::Error>(())
        },
    );
    checked.map_err(AuditError::Output)?;
    for (name, digest) in missing {
        let r = FixityRecord {
            bundle: name,
            size: None,
            digest: None,
            expected_digest: Some(digest),
            status: FixityStatus::Missing,
            problems: Vec::new(),
            checked_at: Utc::now(),
        };
        tally(&r, &mut summary);
        each(&r).map_err(AuditError::Output)?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary.mib_per_second = if summary.seconds > 0.0 {
        summary.bytes as f64 / 1048576.0 / summary.seconds
    } else {
        0.0
    };
    Ok(summary)
}

/// A status as its JSON string (`intact`, `missing`, …).
fn serde_plain(s: FixityStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Why an audit stopped.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Expected(ExpectedDigestsError),
    #[error("writing the fixity report: {0}")]
    Output(std::io::Error),
}
