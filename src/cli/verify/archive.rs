//! `verify` of many bundles (archive audit): one line per bundle as it is checked, in input
//! order, a summary, and the fixity report as JSON lines. Exit 0 when every bundle is intact
//! (and matches its recorded digest), 1 when any is not or a listed one is missing, 2 on
//! unusable arguments or an input that cannot be walked.

use super::VerifyArgs;
use crate::bundle::archive::{
    audit, ExpectedDigests, FixityLine, FixityRecord, FixityStatus, FixitySummary,
};
use crate::cli::terminal::{say_err, say_to};
use crate::cli::{GlobalArgs, Status};
use crate::io::output::OutputPath;
use anyhow::Context;
use std::io::Write;

pub fn run(args: &VerifyArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let status = run_to(args, global, &mut out)?;
    out.flush()?;
    Ok(status)
}

/// [`run`], writing what goes to stdout to `out`.
pub fn run_to(
    args: &VerifyArgs,
    global: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    if args.check.expect_digest.is_some() {
        say_err!(
            "wsc-forensics: error: --expect-digest is one bundle's digest; for an archive use --expect-digests FILE"
        );
        return Ok(Status::InputError);
    }
    let opts = args.check.options()?;
    let expected = match &args.expect_digests {
        Some(p) => Some(ExpectedDigests::load(p)?),
        None => None,
    };
    // The report file is opened (and refused if it exists) before any bundle is read.
    let report_path = match &args.fixity_report {
        Some(path) => Some((path, OutputPath::open(path)?)),
        None => None,
    };
    let mut report = match &report_path {
        Some((path, target)) => Some((*path, target.create(args.force)?)),
        None => None,
    };
    let bar = if !global.quiet && !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr())
    {
        indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("verify {spinner} {pos} bundles {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let threads = rayon::current_num_threads();
    let summary = audit(
        &args.bundles,
        &opts,
        expected.as_ref(),
        threads,
        |r: &FixityRecord| {
            bar.inc(1);
            if let Some((_, file)) = report.as_mut() {
                serde_json::to_writer(&mut *file, &FixityLine::Record(r))?;
                file.write_all(b"\n")?;
            }
            bar.suspend(|| {
                if args.json {
                    serde_json::to_writer(&mut *out, &FixityLine::Record(r))?;
                    out.write_all(b"\n")
                } else if !global.quiet || !r.status.passed() {
                    say_to!(out, "{}", line(r))
                } else {
                    Ok(())
                }
            })
        },
    )?;
    bar.finish_and_clear();
    let summary_line = FixityLine::Summary { summary: &summary };
    if let Some((path, mut file)) = report {
        serde_json::to_writer(&mut file, &summary_line)?;
        file.write_all(b"\n")?;
        file.commit()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        serde_json::to_writer(&mut *out, &summary_line)?;
        out.write_all(b"\n")?;
    } else {
        say_to!(out, "{}", summary_text(&summary))?;
    }
    for input in &summary.unreadable_inputs {
        say_err!("wsc-forensics: error: {input}");
    }
    Ok(if !summary.unreadable_inputs.is_empty() {
        Status::InputError
    } else if summary.all_passed() {
        Status::Ok
    } else {
        Status::EvidenceProblem
    })
}

/// One bundle in words: status, digest (first 12 hex), path, and the first problem.
fn line(r: &FixityRecord) -> String {
    let status = match r.status {
        FixityStatus::Intact => "intact",
        FixityStatus::Altered => "ALTERED",
        FixityStatus::Invalid => "INVALID",
        FixityStatus::Incomplete => "INCOMPLETE",
        FixityStatus::Unreadable => "UNREADABLE",
        FixityStatus::Missing => "MISSING",
        FixityStatus::NotRecorded => "NOT RECORDED",
    };
    let digest = r
        .digest
        .map_or_else(|| "-".repeat(12), |d| d.to_hex()[..12].to_owned());
    let why = match (r.status, r.problems.first()) {
        (FixityStatus::Missing, _) => {
            ": listed in --expect-digests, not found under the inputs".to_owned()
        }
        (FixityStatus::NotRecorded, _) => ": no digest recorded for it in --expect-digests".into(),
        (_, Some(p)) if r.problems.len() > 1 => {
            format!(": {p} (and {} more)", r.problems.len() - 1)
        }
        (_, Some(p)) => format!(": {p}"),
        (_, None) => String::new(),
    };
    format!("{status:<12} {digest}  {}{why}", r.bundle)
}

/// The audit's totals in one sentence.
fn summary_text(s: &FixitySummary) -> String {
    let counts: Vec<String> = s
        .by_status
        .iter()
        .map(|(status, n)| format!("{n} {status}"))
        .collect();
    format!(
        "{} bundles: {}; {} bytes in {:.2} s ({:.1} MiB/s)",
        s.bundles,
        if counts.is_empty() {
            "none found".to_owned()
        } else {
            counts.join(", ")
        },
        s.bytes,
        s.seconds,
        s.mib_per_second
    )
}
