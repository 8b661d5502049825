//! The `timeline` and `report` command glue, driven through their clap argument structs on an
//! opened bundle (the bundle reader is wired in by `cli::run`).

use crate::report_support::*;
use clap::Parser;
use wsc_forensics::cli::report::{OpenedBundle, ReportArgs};
use wsc_forensics::cli::timeline::TimelineArgs;
use wsc_forensics::cli::Status;
use wsc_forensics::report::Integrity;

#[derive(Parser)]
struct ReportCli {
    #[command(flatten)]
    args: ReportArgs,
}

#[derive(Parser)]
struct TimelineCli {
    #[command(flatten)]
    args: TimelineArgs,
}

fn opened(integrity: Integrity) -> OpenedBundle {
    let evidence = evidence();
    let custody = custody(&evidence);
    OpenedBundle {
        evidence,
        custody,
        digest: bundle_digest(),
        integrity,
        timestamp: "not recorded".to_owned(),
    }
}

#[test]
fn report_writes_every_report_in_each_format_and_prints_the_paths() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let cli = ReportCli::parse_from(["x", "case.zip", "--out", out.to_str().unwrap()]);
    let mut printed = Vec::new();
    let status =
        wsc_forensics::cli::report::run_with(&cli.args, &opened(Integrity::Intact), &mut printed)
            .unwrap();
    assert_eq!(status, Status::Ok);
    let printed = String::from_utf8(printed).unwrap();
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 10);
    for name in [
        "incident-timeline",
        "root-cause-analysis",
        "key-compromise-notification",
        "security-advisory",
        "metrics",
    ] {
        for ext in ["md", "pdf"] {
            let p = out.join(format!("{name}.{ext}"));
            assert!(lines.contains(&p.to_str().unwrap()), "{p:?} not printed");
            assert!(std::fs::metadata(&p).unwrap().len() > 500);
        }
    }

    let md_only = dir.path().join("md");
    let cli = ReportCli::parse_from([
        "x",
        "case.zip",
        "--out",
        md_only.to_str().unwrap(),
        "--format",
        "md",
    ]);
    let status = wsc_forensics::cli::report::run_with(
        &cli.args,
        &opened(Integrity::Altered {
            problems: vec!["tagmanifest-sha256.txt: digest mismatch".into()],
        }),
        std::io::sink(),
    )
    .unwrap();
    assert_eq!(
        status,
        Status::EvidenceProblem,
        "altered bundle still reports, exits 1"
    );
    let names: Vec<String> = std::fs::read_dir(&md_only)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 5);
    assert!(names.iter().all(|n| n.ends_with(".md")));
    assert!(ReportCli::try_parse_from(["x", "c.zip", "--out", "d", "--format", "docx"]).is_err());
}

#[test]
fn timeline_writes_the_chosen_format_to_a_file_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.md");
    let cli = TimelineCli::parse_from([
        "x",
        "case.zip",
        "--format",
        "md",
        "-o",
        p.to_str().unwrap(),
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-25T08:00:00Z",
    ]);
    let status = wsc_forensics::cli::timeline::run_with(
        &cli.args,
        &opened(Integrity::Intact),
        std::io::sink(),
    )
    .unwrap();
    assert_eq!(status, Status::Ok);
    let md = std::fs::read_to_string(&p).unwrap();
    // 00:15 revoked, 00:30 contained, 01:00 new key + pub_b mtime/ctime, 02:00 notified,
    // 03:00 re-signed + the re-signed module's mtime/ctime, 08:00 collection started + 4
    // findings.
    assert_eq!(md.lines().count(), 2 + 14, "{md}");
    assert!(md.starts_with("| time (UTC) | event | message |"));

    let mut csv = Vec::new();
    let cli = TimelineCli::parse_from(["x", "case.zip"]);
    wsc_forensics::cli::timeline::run_with(&cli.args, &opened(Integrity::Intact), &mut csv)
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("datetime,timestamp,timestamp_desc,message,"));
    assert_eq!(csv.lines().count(), 43);

    let cli = TimelineCli::parse_from(["x", "c.zip", "--from", "2026-11-26", "--to", "2026-11-25"]);
    let err = wsc_forensics::cli::timeline::run_with(
        &cli.args,
        &opened(Integrity::Intact),
        std::io::sink(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("is after --to"));
    assert!(TimelineCli::try_parse_from(["x", "c.zip", "--from", "soon"]).is_err());
}
