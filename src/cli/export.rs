//! `export --format case BUNDLE.zip -o FILE.jsonld`: a verified bundle as a CASE/UCO JSON-LD
//! graph for other forensic tools; an altered bundle is refused (exit 1, nothing written).

use super::{GlobalArgs, Status};
use crate::bundle::{self, BundleError};
use crate::export::{case_graph, ExportError};
use crate::io::output::write_new_file;
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Evidence bundle (.zip) written by `collect`.
    pub bundle: PathBuf,
    /// Export format (case: CASE 1.5.0 / UCO JSON-LD).
    #[arg(long, value_enum, default_value = "case")]
    pub format: ExportFormat,
    /// The file to write (JSON-LD).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Replace FILE if it exists (without it, an existing FILE is an error).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub check: super::verify::BundleCheck,
}

/// What `export` writes.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// CASE 1.5.0 / UCO JSON-LD graph (https://caseontology.org).
    Case,
}

/// `export` as run from the command line.
pub fn run(args: ExportArgs, _global: &GlobalArgs) -> anyhow::Result<Status> {
    let verified =
        bundle::open_verified(&args.bundle, &args.check.options()?).map_err(|e| match e {
            BundleError::NotZip { path, message } => {
                anyhow::anyhow!("{}: {message}", path.display())
            }
            e => anyhow::Error::new(e),
        })?;
    let name = args
        .bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let graph = match args.format {
        ExportFormat::Case => match case_graph(&verified, &name) {
            Ok(g) => g,
            Err(ExportError::NotIntact { bundle, problems }) => {
                super::terminal::say_err!(
                    "wsc-forensics: error: {bundle} FAILED verification; not exported (a CASE \
                     graph carries no mark that other tools must honour)"
                );
                for p in problems {
                    super::terminal::say_err!("  {p}");
                }
                return Ok(Status::EvidenceProblem);
            }
        },
    };
    write_new_file(&args.output, args.force, |out| {
        let mut w = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut w, &graph)?;
        w.write_all(b"\n")?;
        w.flush()
    })
    .with_context(|| format!("writing the CASE export to {}", args.output.display()))?;
    Ok(Status::Ok)
}
