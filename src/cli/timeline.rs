//! `timeline BUNDLE.zip [--format csv|jsonl|md] [-o FILE] [--from T] [--to T]`: the bundle's
//! events in UTC order, as Timesketch CSV, JSON Lines or a Markdown table.

use super::report::{open_verified, status_of, warn_if_altered, OpenedBundle};
use super::{GlobalArgs, Status};
use crate::io::output::write_new_file;
use crate::report::timeline_table;
use crate::timeline::{self, TimelineEvent, TimelineFormat};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct TimelineArgs {
    /// Evidence bundle (.zip) written by `collect`.
    pub bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: TimelineFormat,
    /// JSON Lines, one event a line (`--format jsonl`; schema: docs/schema/timeline-event.schema.json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists (without it, an existing FILE is an error).
    #[arg(long, requires = "output")]
    pub force: bool,
    /// Keep events at or after T (RFC 3339, or YYYY-MM-DD = 00:00 UTC).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,
    /// Keep events at or before T (RFC 3339, or YYYY-MM-DD = 00:00 UTC).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,
    #[command(flatten)]
    pub check: super::verify::BundleCheck,
}

/// Parses `--from`/`--to`: RFC 3339, a UTC date-time without offset, or a date.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!(
        "{s:?} is not a time (expected RFC 3339 like 2026-11-20T09:00:00Z, or a date like 2026-11-20)"
    ))
}

/// `timeline` as run from the command line.
pub fn run(args: TimelineArgs, _global: &GlobalArgs) -> anyhow::Result<Status> {
    let bundle = open_verified(&args.bundle, &args.check)?;
    run_with(&args, &bundle, std::io::stdout().lock())
}

/// Runs `timeline` on an opened bundle, writing to `-o FILE` or `stdout`.
pub fn run_with(
    args: &TimelineArgs,
    bundle: &OpenedBundle,
    stdout: impl Write,
) -> anyhow::Result<Status> {
    if let (Some(f), Some(t)) = (args.from, args.to) {
        anyhow::ensure!(f <= t, "--from {f} is after --to {t}");
    }
    warn_if_altered(bundle, &args.bundle);
    let format = if args.json {
        TimelineFormat::Jsonl
    } else {
        args.format
    };
    let events = timeline::filter(
        timeline::build(&bundle.evidence, &bundle.custody),
        args.from,
        args.to,
    );
    match &args.output {
        Some(p) => {
            write_new_file(p, args.force, |out| {
                write(&events, format, std::io::BufWriter::new(out))
            })
            .with_context(|| format!("writing the timeline to {}", p.display()))?;
        }
        None => write(&events, format, std::io::BufWriter::new(stdout))
            .context("writing the timeline")?,
    }
    Ok(status_of(bundle))
}

/// Writes `events` in `format`.
pub fn write<W: Write>(
    events: &[TimelineEvent],
    format: TimelineFormat,
    w: W,
) -> std::io::Result<()> {
    match format {
        TimelineFormat::Csv => timeline::write_csv(events, w),
        TimelineFormat::Jsonl => timeline::write_jsonl(events, w),
        TimelineFormat::Md => timeline_table::write_markdown(events, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_three_forms() {
        let want: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
        assert_eq!(parse_time("2026-11-20").unwrap(), want);
        assert_eq!(parse_time("2026-11-20T00:00:00").unwrap(), want);
        assert_eq!(parse_time("2026-11-20T01:00:00+01:00").unwrap(), want);
        assert!(parse_time("yesterday").unwrap_err().contains("RFC 3339"));
    }
}
