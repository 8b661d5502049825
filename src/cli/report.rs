//! `report BUNDLE.zip --out DIR [--format md,pdf,html] [--templates DIR]`: renders the incident
//! timeline, RCA, key-compromise notice, advisory and metrics from a bundle, and prints the paths.

use super::verify::BundleCheck;
use super::{GlobalArgs, Status};
use crate::bundle::{self, Proof};
use crate::model::custody::CustodyEvent;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::Evidence;
use crate::report::{self, Integrity, ReportFormat, ReportInput, TemplateSet};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug, Clone)]
pub struct ReportArgs {
    /// Evidence bundle (.zip) written by `collect`.
    pub bundle: PathBuf,
    /// Directory to write the reports into (created if missing).
    #[arg(short = 'o', long = "output", alias = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Output formats, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "md,pdf")]
    pub format: Vec<ReportFormat>,
    /// Directory of templates that replace the built-in ones by file name
    /// (`root-cause-analysis.md.j2`, `_header.md.j2`, …).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Let the external documents (key-compromise notice, advisory) show local paths, the
    /// examiner's name and bundle internals (digest, case-file hash); by default they do not.
    #[arg(long)]
    pub internal: bool,
    /// Replace reports already in DIR (without it, an existing file is an error).
    #[arg(long)]
    pub force: bool,
    /// Print a JSON document (bundle, digest, integrity, files) instead of one path a line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub check: super::verify::BundleCheck,
}

/// What the reporting commands need from a bundle: its evidence and custody record, its digest,
/// and whether it passed verification.
#[derive(Clone, Debug)]
pub struct OpenedBundle {
    pub evidence: Evidence,
    pub custody: Vec<CustodyEvent>,
    pub digest: Sha256Digest,
    pub integrity: Integrity,
    /// The trusted timestamp in one sentence ("not recorded" when there is none).
    pub timestamp: String,
}

impl OpenedBundle {
    /// The report input; `internal`: external documents also show local paths, the examiner
    /// and bundle internals.
    pub fn input(&self, internal: bool) -> ReportInput<'_> {
        ReportInput {
            evidence: &self.evidence,
            custody: &self.custody,
            bundle_digest: self.digest,
            integrity: &self.integrity,
            timestamp: &self.timestamp,
            internal,
        }
    }
}

/// Verifies `path` (every byte hashed against the manifests, the signature and digest as
/// `check` asks) and loads its evidence, custody record and digest through the same open file.
/// A bundle that fails verification is still loaded, marked [`Integrity::Altered`] with its
/// problems; an intact one carries the statement of what was proven; one that cannot be read
/// at all is an error.
pub fn open_verified(path: &Path, check: &BundleCheck) -> anyhow::Result<OpenedBundle> {
    // The library's errors name the bundle; a zip that is no bundle lists what verification
    // found, once (not under a second "not readable" heading).
    let verified = bundle::open_verified(path, &check.options()?).map_err(|e| match e {
        bundle::BundleError::NotZip { path, message } => {
            anyhow::anyhow!("{}: {message}", path.display())
        }
        e => anyhow::Error::new(e),
    })?;
    let integrity = match Proof::of(&verified.report) {
        Some(proof) => Integrity::Proven {
            statement: proof.to_string(),
        },
        None => Integrity::Altered {
            problems: verified
                .report
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect(),
        },
    };
    let timestamp = crate::bundle::verified::timestamp_statement(&verified.report.timestamp);
    let contents = verified.contents;
    Ok(OpenedBundle {
        timestamp,
        evidence: contents.evidence,
        custody: contents.custody,
        digest: contents.digest,
        integrity,
    })
}

/// `report` as run from the command line.
pub fn run(args: ReportArgs, _global: &GlobalArgs) -> anyhow::Result<Status> {
    let bundle = open_verified(&args.bundle, &args.check)?;
    run_with(&args, &bundle, std::io::stdout().lock())
}

/// `-o DIR` names a folder (created when missing): an existing file there is a usage error
/// that says so, not the operating system's "File exists".
pub fn require_folder(dir: &Path) -> anyhow::Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(md) if !md.is_dir() && !md.file_type().is_symlink() => anyhow::bail!(
            "{}: exists and is not a folder (-o names the folder to write into)",
            dir.display()
        ),
        _ => Ok(()),
    }
}

/// Exit status of a reporting command: 1 when the bundle failed verification (the output is
/// still written), else 0.
pub fn status_of(b: &OpenedBundle) -> Status {
    match b.integrity {
        Integrity::Intact | Integrity::Proven { .. } => Status::Ok,
        Integrity::Altered { .. } => Status::EvidenceProblem,
    }
}

/// Warns on stderr when the bundle failed verification.
pub fn warn_if_altered(b: &OpenedBundle, bundle: &Path) {
    if let Integrity::Altered { problems } = &b.integrity {
        eprintln!(
            "wsc-forensics: warning: {} FAILED verification; output is marked accordingly",
            bundle.display()
        );
        for p in problems {
            eprintln!("  {p}");
        }
    }
}

/// The `--json` document of `report` (schema: docs/schema/report.schema.json).
#[derive(serde::Serialize, schemars::JsonSchema, Debug)]
pub struct ReportOutput {
    /// The bundle, as given on the command line.
    pub bundle: String,
    /// SHA-256 of the bundle's tagmanifest-sha256.txt.
    pub bundle_digest: Sha256Digest,
    /// Whether the bundle passed verification (the reports are written either way, marked).
    pub intact: bool,
    /// What verification found wrong (empty when intact).
    pub problems: Vec<String>,
    /// Every file written, in the order written.
    pub files: Vec<String>,
}

/// Runs `report` on an opened bundle, printing each written path on `out`.
pub fn run_with(
    args: &ReportArgs,
    bundle: &OpenedBundle,
    mut out: impl Write,
) -> anyhow::Result<Status> {
    require_folder(&args.out)?;
    let templates = match &args.templates {
        Some(dir) => TemplateSet::with_overrides(dir)?,
        None => TemplateSet::builtin(),
    };
    warn_if_altered(bundle, &args.bundle);
    let written = report::write_reports(
        &bundle.input(args.internal),
        &templates,
        &args.out,
        &args.format,
        args.force,
    )
    .with_context(|| format!("reporting on {}", args.bundle.display()))?;
    if args.json {
        let (intact, problems) = match &bundle.integrity {
            Integrity::Intact | Integrity::Proven { .. } => (true, Vec::new()),
            Integrity::Altered { problems } => (false, problems.clone()),
        };
        let doc = ReportOutput {
            bundle: args.bundle.display().to_string(),
            bundle_digest: bundle.digest,
            intact,
            problems,
            files: written.iter().map(|p| p.display().to_string()).collect(),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for p in written {
            writeln!(out, "{}", p.display())?;
        }
    }
    Ok(status_of(bundle))
}
