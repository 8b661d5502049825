//! `keys`: audit key files (format, ids, owner, mode, findings), write a `sha256sum`-compatible
//! baseline of them, and check the key files against such a baseline.

use super::{GlobalArgs, Status};
use crate::cli::terminal::{say, say_err};
use crate::io::output::write_new_file;
use crate::keys::audit::{
    self as key_audit, AuditedKeyFile, BaselineChange, BaselineCheck, KeyAudit, RevocationList,
};
use crate::model::evidence::Severity;
use crate::source::walk::SkippedPath;
use anyhow::Context;
use clap::{Args, Subcommand};
use schemars::JsonSchema;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub action: Option<KeysAction>,
    /// Key files or directories to audit (walked recursively; symlinks are not followed).
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    pub inputs: Vec<PathBuf>,
    /// Revocation list: one wsc key id (24 hex) or fingerprint / raw public key (64 hex) per
    /// line, `#` comments. A key on it is a Critical finding.
    #[arg(long, value_name = "FILE")]
    pub revoked: Option<PathBuf>,
    /// Case file: its `keys.compromised` and `keys.revoked` ids are treated as revoked too.
    #[arg(long = "case-file", alias = "case", value_name = "FILE")]
    pub case: Option<PathBuf>,
    /// Machine-readable output (shape documented in the README).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeysAction {
    /// Print a `sha256sum -c`-compatible list of every key file under the inputs.
    Baseline(BaselineArgs),
    /// Compare key files with a baseline: changed, missing and new key files (exit 1 on any).
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// Directories or key files to list.
    #[arg(required = true, value_name = "DIR_OR_FILE")]
    pub inputs: Vec<PathBuf>,
    /// Write the baseline to FILE (created, never through a link; an existing file is replaced
    /// only with --force) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing --output file.
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Baseline written by `keys baseline` (or `sha256sum`).
    #[arg(long, value_name = "FILE")]
    pub baseline: PathBuf,
    /// Directories or key files to look for new key files in (the baseline's own entries are
    /// always checked).
    #[arg(value_name = "DIR_OR_FILE")]
    pub inputs: Vec<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &GlobalArgs, args: KeysArgs) -> anyhow::Result<Status> {
    match args.action {
        Some(KeysAction::Baseline(b)) => run_baseline(global, b),
        Some(KeysAction::Check(c)) => run_check(global, c),
        None => run_audit(global, args),
    }
}

fn report_skipped(global: &GlobalArgs, skipped: &[SkippedPath]) {
    if global.quiet {
        return;
    }
    for s in skipped {
        say_err!("wsc-forensics: {}: {}", s.path.display(), s.reason);
    }
}

fn run_baseline(global: &GlobalArgs, args: BaselineArgs) -> anyhow::Result<Status> {
    let walk = key_audit::find_key_files(&args.inputs);
    let missing_input = walk.missing_input;
    let mut skipped = walk.skipped;
    let (entries, failed) = key_audit::hash_key_files(&walk.keys);
    skipped.extend(failed);
    report_skipped(global, &skipped);
    let write_lines = |out: &mut dyn Write| -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(out);
        for e in &entries {
            key_audit::write_baseline_line(&mut out, e)?;
        }
        out.flush()
    };
    match &args.output {
        Some(p) => {
            write_new_file(p, args.force, |out| write_lines(out))
                .with_context(|| format!("writing the baseline to {}", p.display()))?;
        }
        None => write_lines(&mut std::io::stdout().lock()).context("writing the baseline")?,
    }
    if global.verbose > 0 {
        say_err!(
            "{} key files listed, {} other files skipped",
            entries.len(),
            walk.not_keys.len()
        );
    }
    // An unreadable file may be a key file: the baseline is then incomplete.
    Ok(
        if missing_input || !skipped.iter().all(is_symlink_or_special) {
            Status::InputError
        } else {
            Status::Ok
        },
    )
}

fn is_symlink_or_special(s: &SkippedPath) -> bool {
    s.reason.is_link_or_special()
}

/// The `--json` document of `keys check` (schema: docs/schema/keys-check.schema.json).
#[derive(Serialize, JsonSchema)]
pub struct CheckOutput<'a> {
    /// The baseline, as given.
    pub baseline: String,
    pub summary: CheckSummary,
    #[serde(flatten)]
    pub check: &'a BaselineCheck,
    /// Paths not looked at, and why.
    pub skipped: &'a [SkippedPath],
}

/// How many baseline entries and key files are in each state.
#[derive(Serialize, JsonSchema, Clone, Copy)]
pub struct CheckSummary {
    pub unchanged: usize,
    pub changed: usize,
    pub missing: usize,
    pub not_a_file: usize,
    pub unreadable: usize,
    pub new: usize,
}

fn run_check(global: &GlobalArgs, args: CheckArgs) -> anyhow::Result<Status> {
    let baseline = match key_audit::load_baseline(&args.baseline) {
        Ok(b) => b,
        Err(e) => {
            say_err!("wsc-forensics: error: unusable baseline: {e}");
            return Ok(Status::InputError);
        }
    };
    let walk = key_audit::find_key_files(&args.inputs);
    report_skipped(global, &walk.skipped);
    let check = key_audit::check_baseline(&baseline, &walk.keys);
    let summary = CheckSummary {
        unchanged: check.count("unchanged"),
        changed: check.count("changed"),
        missing: check.count("missing"),
        not_a_file: check.count("not-a-file"),
        unreadable: check.count("unreadable"),
        new: check.count("new"),
    };
    let any_change = check.changes().next().is_some();
    if args.json {
        let out = CheckOutput {
            baseline: args.baseline.display().to_string(),
            summary,
            check: &check,
            skipped: &walk.skipped,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for e in &check.entries {
            if !e.change.is_change() && global.verbose == 0 {
                continue;
            }
            let detail = match &e.change {
                BaselineChange::Changed { .. } if e.secret => {
                    "  (secret key: digests not shown)".to_owned()
                }
                BaselineChange::Changed { expected, actual } => {
                    format!("  (was {expected}, now {actual})")
                }
                BaselineChange::Unreadable { error, .. } => format!("  ({error})"),
                _ => String::new(),
            };
            say!("{:<11}{}{detail}", e.change.label(), e.path.display());
        }
        if !global.quiet {
            say!(
                "{} unchanged, {} changed, {} missing, {} new{}{}",
                summary.unchanged,
                summary.changed,
                summary.missing,
                summary.new,
                if summary.not_a_file > 0 {
                    format!(", {} no longer a regular file", summary.not_a_file)
                } else {
                    String::new()
                },
                if summary.unreadable > 0 {
                    format!(", {} unreadable", summary.unreadable)
                } else {
                    String::new()
                },
            );
        }
    }
    Ok(if any_change {
        Status::EvidenceProblem
    } else if walk.missing_input {
        Status::InputError
    } else {
        Status::Ok
    })
}

/// The `--json` document of `keys` (schema: docs/schema/keys.schema.json).
#[derive(Serialize, JsonSchema)]
pub struct AuditOutput<'a> {
    pub summary: AuditSummary,
    #[serde(flatten)]
    pub audit: &'a KeyAudit,
}

/// Counts of the audit: key files, findings by severity, other files, skipped paths.
#[derive(Serialize, JsonSchema, Clone, Copy)]
pub struct AuditSummary {
    pub key_files: usize,
    pub secret_keys: usize,
    pub findings: usize,
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub other_files: usize,
    pub skipped: usize,
}

fn run_audit(global: &GlobalArgs, args: KeysArgs) -> anyhow::Result<Status> {
    let mut revoked = match &args.revoked {
        Some(p) => RevocationList::load(p).context("reading the revocation list")?,
        None => RevocationList::default(),
    };
    if let Some(case_path) = &args.case {
        let case = crate::model::case::CaseInfo::load(case_path)?;
        let name = case_path.display();
        for (field, ids) in [
            ("keys.compromised", &case.keys.compromised),
            ("keys.revoked", &case.keys.revoked),
        ] {
            for id in ids {
                if !revoked.add(id, format!("{name} {field}")) {
                    anyhow::bail!("{name}: {field}: {id:?} is not a key id or fingerprint");
                }
            }
        }
    }
    let walk = key_audit::find_key_files(&args.inputs);
    let missing_input = walk.missing_input;
    let audit = key_audit::audit_keys(walk, &revoked);
    report_skipped(global, &audit.skipped);
    let count = |s: Severity| audit.findings().filter(|(_, f)| f.severity == s).count();
    let summary = AuditSummary {
        key_files: audit.keys.len(),
        secret_keys: audit.keys.iter().filter(|k| k.secret).count(),
        findings: audit.findings().count(),
        critical: count(Severity::Critical),
        high: count(Severity::High),
        medium: count(Severity::Medium),
        low: count(Severity::Low),
        other_files: audit.not_keys.len(),
        skipped: audit.skipped.len(),
    };
    if args.json {
        let out = AuditOutput {
            summary,
            audit: &audit,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for k in &audit.keys {
            print_key(k);
        }
        if global.verbose > 0 {
            for n in &audit.not_keys {
                say_err!("not a key file ({:?}): {}", n.kind, n.path.display());
            }
        }
        if !global.quiet {
            say!(
                "{} key files ({} secret); {} findings ({} critical, {} high, {} medium, {} low); \
                 {} other files, {} skipped",
                summary.key_files,
                summary.secret_keys,
                summary.findings,
                summary.critical,
                summary.high,
                summary.medium,
                summary.low,
                summary.other_files,
                summary.skipped
            );
        }
    }
    let nothing_read = audit.keys.is_empty() && audit.not_keys.is_empty();
    Ok(if summary.findings > 0 {
        Status::EvidenceProblem
    } else if missing_input || (nothing_read && !audit.skipped.is_empty()) {
        Status::InputError
    } else {
        Status::Ok
    })
}

fn print_key(k: &AuditedKeyFile) {
    say!("{}", k.path.display());
    let kind = if k.secret { "secret" } else { "public" };
    match &k.key {
        Ok(key) => say!(
            "  {kind}  {}  {}  key id {}  fingerprint {}",
            key.format,
            key.algorithm,
            key.wsc_key_id.as_deref().unwrap_or("-"),
            key.fingerprint_sha256
                .map(|f| f.to_hex())
                .unwrap_or_else(|| "-".into())
        ),
        Err(error) => say!("  {kind}?  unparsed: {error}"),
    }
    say!(
        "  owner {}  mode {:04o}  {} bytes  modified {}  changed {}",
        k.stat
            .owner
            .clone()
            .unwrap_or_else(|| k.stat.uid.to_string()),
        k.stat.permissions(),
        k.stat.size,
        k.stat.mtime.format("%Y-%m-%dT%H:%M:%SZ"),
        k.stat.ctime.format("%Y-%m-%dT%H:%M:%SZ"),
    );
    for f in &k.findings {
        say!(
            "  {:<8} {} {}: {}",
            f.severity.to_string().to_uppercase(),
            f.incident_type.map(|i| i.code()).unwrap_or("-"),
            f.code,
            f.message
        );
    }
}
