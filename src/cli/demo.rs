//! `demo [--out DIR]`: the bundled sample incident (INC-1, key compromise) run end to end:
//! stage it from the fixtures compiled into the binary, collect → verify → timeline → report,
//! and say what was written where.

use super::collect::CollectArgs;
use super::report::ReportArgs;
use super::timeline::TimelineArgs;
use super::verify::VerifyArgs;
use super::{GlobalArgs, Status};
use crate::acquire::DEFAULT_MAX_FILE_SIZE;
use crate::demo::{stage_sample_incident, DEMO_COLLECTED_AT};
use crate::io::output::OutputDir;
use crate::report::ReportFormat;
use crate::timeline::TimelineFormat;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to write the staged incident, the bundle and the reports.
    #[arg(
        short = 'o',
        long = "output",
        alias = "out",
        value_name = "DIR",
        default_value = "demo-out"
    )]
    pub out: PathBuf,
    /// Replace the files of an earlier run in DIR (without it, an existing file is an error).
    #[arg(long)]
    pub force: bool,
}

const CASE_ID: &str = "IR-2026-0042";

pub fn run(args: DemoArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    let out = &args.out;
    super::report::require_folder(out)?;
    OutputDir::create(out)?;
    let staged = stage_sample_incident(&out.join("incident"), args.force)
        .with_context(|| format!("staging the sample incident under {}", out.display()))?;
    let bundle = out.join(format!("{CASE_ID}.zip"));
    let reports = out.join("reports");
    let say = |s: &str| {
        if !global.quiet {
            eprintln!("\n== {s}");
        }
    };

    say("collect: evidence folders of the sample incident → hashed evidence bundle");
    let collected = super::collect::run(
        CollectArgs {
            output: bundle.clone(),
            case_file: Some(staged.case_file.clone()),
            case_id: None,
            examiner: None,
            organization: None,
            incident_type: None,
            severity: None,
            collected_at: Some(DEMO_COLLECTED_AT.to_owned()),
            sign_key: Some(staged.examiner_secret_key.clone()),
            tsa: None,
            tsa_cert: None,
            keys: Vec::new(),
            trusted_root: Some(staged.trusted_root.clone()),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            force: args.force,
            compress: false,
            json: false,
            inputs: staged.inputs.clone(),
        },
        global,
    )?;
    // Findings are the point of the demo (exit 1); only a failed collection stops it.
    if collected == Status::InputError {
        anyhow::bail!("collect failed");
    }

    say("verify: the bundle is complete, unaltered and signed by the examiner");
    let examiner = super::verify::BundleCheck {
        examiner_key: Some(staged.examiner_public_key.clone()),
        expect_digest: None,
        tsa_cert: None,
    };
    let verified = super::verify::run(
        VerifyArgs {
            bundles: vec![bundle.clone()],
            check: examiner.clone(),
            expect_digests: None,
            fixity_report: None,
            force: false,
            json: false,
        },
        global,
    )?;
    if verified != Status::Ok {
        anyhow::bail!("the freshly collected demo bundle did not verify");
    }

    say("timeline: Timesketch CSV");
    OutputDir::create(&reports)?;
    let timeline = reports.join("timeline.csv");
    super::timeline::run(
        TimelineArgs {
            bundle: bundle.clone(),
            format: TimelineFormat::Csv,
            json: false,
            output: Some(timeline.clone()),
            force: args.force,
            from: None,
            to: None,
            check: examiner.clone(),
        },
        global,
    )?;

    say("report: Markdown and PDF, from the bundle alone");
    super::report::run(
        ReportArgs {
            bundle: bundle.clone(),
            out: reports.clone(),
            format: vec![ReportFormat::Md, ReportFormat::Pdf],
            templates: None,
            internal: false,
            force: args.force,
            json: false,
            check: examiner,
        },
        global,
    )?;

    if !global.quiet {
        println!();
        println!("Demo case {CASE_ID} written under {}:", out.display());
        println!("  incident/                 the staged evidence folders (copies of fixtures/)");
        println!(
            "  {CASE_ID}.zip         the evidence bundle (BagIt bag in a zip, examiner-signed)"
        );
        println!("  reports/                  Markdown and PDF reports, timeline.csv");
        println!();
        println!(
            "Start with {}",
            reports.join("root-cause-analysis.md").display()
        );
        println!(
            "Check it yourself: wsc-forensics verify {} --examiner-key {}",
            bundle.display(),
            staged.examiner_public_key.display()
        );
    }
    Ok(Status::Ok)
}
