//! `scope --crate NAME@REQ` / `scope --advisory ID|FILE [--advisory-db DIR]` (INC-4): every
//! module that ships an affected crate version, from its embedded dependency list or the SBOM /
//! Cargo.lock beside it; modules without dependency data listed as unknown.

use crate::cli::terminal::{say_err, say_to};
use crate::cli::{GlobalArgs, Status};
use crate::deps::advisory;
use crate::deps::query::{DepQuery, MatchedBy};
use crate::scope::deps::{scope_deps, DepsModule, DepsStatus};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// The INC-4 flags of `scope`.
#[derive(Args, Debug, Default)]
pub struct DepsArgs {
    /// Modules shipping this crate: NAME@REQ, REQ a semver requirement (`smallvec@<1.6.1`,
    /// `time@>=0.2, <0.2.23`); NAME alone matches any version. Repeatable.
    #[arg(long = "crate", value_name = "NAME@REQ")]
    pub crates: Vec<String>,
    /// Modules affected by this RustSec advisory: an advisory file (Markdown with TOML front
    /// matter) or an id looked up in --advisory-db. Repeatable.
    #[arg(long, value_name = "ID|FILE")]
    pub advisory: Vec<String>,
    /// Local copy of the RustSec advisory database (crates/<name>/RUSTSEC-*.md; read offline,
    /// never fetched). Alone, without --crate or --advisory: every vulnerability advisory in it,
    /// as `cargo audit` checks.
    #[arg(long, value_name = "DIR")]
    pub advisory_db: Option<PathBuf>,
}

impl DepsArgs {
    /// The query is INC-4's (dependencies), not a key's.
    pub fn asked(&self) -> bool {
        !self.crates.is_empty() || !self.advisory.is_empty() || self.advisory_db.is_some()
    }
}

/// Runs the dependency query over `inputs`; `key_flags`: a flag of the key query was given too
/// (a usage error). What goes to stdout goes to `out`.
pub fn run_to(
    global: &GlobalArgs,
    d: &DepsArgs,
    key_flags: bool,
    json: bool,
    inputs: &[PathBuf],
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let usage = |msg: &str| -> anyhow::Result<Status> {
        say_err!("wsc-forensics: error: {msg}");
        Ok(Status::InputError)
    };
    if key_flags {
        return usage(
            "scope answers one question at a time: --key/--keys/--window/--output belong to the key query, --crate/--advisory/--advisory-db to the dependency query",
        );
    }
    let mut query = DepQuery::default();
    for c in &d.crates {
        match c.parse() {
            Ok(c) => query.crates.push(c),
            Err(e) => return usage(&format!("{e}")),
        }
    }
    for a in &d.advisory {
        match advisory::resolve(a, d.advisory_db.as_deref()) {
            Ok(a) => query.advisories.push(a),
            Err(e) => return usage(&e.to_string()),
        }
    }
    if let (true, Some(db)) = (query.is_empty(), &d.advisory_db) {
        match advisory::all_vulnerabilities(db) {
            Ok(all) => query.advisories = all,
            Err(e) => return usage(&e.to_string()),
        }
    }
    let result = scope_deps(inputs, query);
    if !global.quiet {
        for s in &result.skipped {
            say_err!("wsc-forensics: {}: {}", s.path.display(), s.reason);
        }
    }
    let s = &result.summary;
    if json {
        serde_json::to_writer_pretty(&mut *out, &result)?;
        out.write_all(b"\n")?;
    } else {
        for c in &result.query.crates {
            say_to!(out, "crate {} {}", c.name, c.req)?;
        }
        for a in &result.query.advisories {
            say_to!(
                out,
                "advisory {}  {}: {}  (patched: {}; unaffected: {}){}",
                a.id,
                a.package,
                a.title,
                list_or_none(&a.patched),
                list_or_none(&a.unaffected),
                match (&a.withdrawn, &a.informational) {
                    (Some(w), _) => format!("  [withdrawn {w}]"),
                    (None, Some(i)) => format!("  [informational: {i}]"),
                    (None, None) => String::new(),
                }
            )?;
        }
        if result.query.advisories.is_empty() && result.query.crates.is_empty() {
            say_to!(out, "no advisory in the database to check against")?;
        }
        for m in &result.modules {
            if m.status != DepsStatus::NotAffected || global.verbose > 0 {
                say_to!(out, "{}", row(m))?;
            }
        }
        if !global.quiet {
            say_to!(
                out,
                "{} modules: {} affected, {} not affected, {} unknown (no dependency data), {} errors",
                s.modules,
                s.affected,
                s.not_affected,
                s.unknown,
                s.errors
            )?;
        }
    }
    Ok(if s.affected > 0 {
        Status::EvidenceProblem
    } else if result.incomplete() {
        if !global.quiet {
            say_err!(
                "wsc-forensics: no module is affected, but {} modules have no dependency data and {} could not be read: the answer is incomplete (exit 2)",
                s.unknown,
                s.errors + result.skipped.iter().filter(|k| !k.reason.is_link_or_special()).count()
            );
        }
        Status::InputError
    } else {
        Status::Ok
    })
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

/// One human row: status, path, where the dependency list came from, what matched.
fn row(m: &DepsModule) -> String {
    let origin = match &m.origin {
        crate::scope::ModuleOrigin::File => String::new(),
        crate::scope::ModuleOrigin::Bundle { bundle, .. } => format!(" [in {bundle}]"),
    };
    let detail = match (&m.dependencies, &m.error) {
        (_, Some(e)) => e.clone(),
        (None, None) => "no dependency data (not recorded)".into(),
        (Some(src), None) => {
            let found: Vec<String> = m
                .matches
                .iter()
                .map(|x| {
                    let by = match &x.matched_by {
                        MatchedBy::Advisory { id } => id.clone(),
                        MatchedBy::Crate { req } => format!("crate {req}"),
                    };
                    format!("{} {} [{by}]", x.package.name, x.package.version)
                })
                .collect();
            if found.is_empty() {
                format!("{} packages from {}", m.packages, src.describe())
            } else {
                format!("{} (from {})", found.join(", "), src.describe())
            }
        }
    };
    format!(
        "{:<13} {}{origin}  {detail}",
        m.status.as_str(),
        m.path.display()
    )
}
