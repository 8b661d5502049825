//! `verify`: bundle → integrity verdict. Exit 0 intact, 1 altered or incomplete, 2 not a
//! readable bundle.

pub mod archive;

use crate::bundle::signature::load_verifying_key;
use crate::bundle::verify::{BagKind, Layout, SignatureStatus, TimestampStatus, VerifyReport};
use crate::bundle::{verify_bundle, Verdict, VerifyOptions};
use crate::cli::terminal::{say, say_err};
use crate::cli::{GlobalArgs, Status};
use crate::model::digest::Sha256Digest;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The bundle (zip) or any BagIt bag (a directory, or a zip with the bag at its root or in
    /// one top folder) to verify; a zip is read directly, never unpacked. Several, or a folder
    /// of bundles (one without bagit.txt: its .zip files, recursively), make an archive audit.
    #[arg(value_name = "BAG", required = true)]
    pub bundles: Vec<PathBuf>,
    #[command(flatten)]
    pub check: BundleCheck,
    /// Archive audit: the digests recorded at collection (`HEX  NAME` lines as sha256sum
    /// writes, or JSON lines with `bundle` and `digest`, as the fleet manifest): each bundle
    /// must match its own, and a listed bundle not found fails the audit.
    #[arg(long, value_name = "FILE", conflicts_with = "expect_digest")]
    pub expect_digests: Option<PathBuf>,
    /// Archive audit: also write the fixity report (one JSON line per bundle, then the
    /// summary) to FILE, created new.
    #[arg(
        short = 'o',
        long = "output",
        alias = "fixity-report",
        value_name = "FILE"
    )]
    pub fixity_report: Option<PathBuf>,
    /// Replace an existing fixity report file.
    #[arg(long, requires = "fixity_report")]
    pub force: bool,
    /// Machine-readable report on stdout (an archive audit: one JSON line per bundle, then the
    /// summary).
    #[arg(long)]
    pub json: bool,
}

impl VerifyArgs {
    /// True when the arguments ask for an archive audit rather than one bag's report.
    fn is_archive(&self) -> bool {
        self.bundles.len() > 1
            || self.expect_digests.is_some()
            || self.fixity_report.is_some()
            || self
                .bundles
                .iter()
                .any(|b| b.is_dir() && !b.join("bagit.txt").exists())
    }
}

/// What a bundle must prove besides being intact; the same flags on `verify`, `report` and
/// `timeline`.
#[derive(Args, Debug, Clone, Default)]
pub struct BundleCheck {
    /// Examiner's Ed25519 public key: the bundle must carry a valid signature by it.
    #[arg(long, value_name = "KEY")]
    pub examiner_key: Option<PathBuf>,
    /// The bundle digest recorded at collection time (64 hex characters).
    #[arg(long, value_name = "HEX")]
    pub expect_digest: Option<String>,
    /// The TSA certificate or its CA chain (PEM): the bundle must carry an RFC 3161 timestamp
    /// that verifies against it (proof of when the bundle digest existed).
    #[arg(long, value_name = "CERT")]
    pub tsa_cert: Option<PathBuf>,
}

impl BundleCheck {
    /// The verification options these flags ask for (a key that cannot be read or a digest
    /// that is not 64 hex characters is a usage error).
    pub fn options(&self) -> anyhow::Result<VerifyOptions> {
        let examiner_key = match &self.examiner_key {
            Some(p) => Some(load_verifying_key(p)?),
            None => None,
        };
        let expect_digest = match &self.expect_digest {
            Some(h) => Some(
                Sha256Digest::from_hex(h)
                    .filter(|_| h.trim().len() == 64)
                    .with_context(|| format!("--expect-digest {h:?} is not 64 hex characters"))?,
            ),
            None => None,
        };
        let tsa_anchors = match &self.tsa_cert {
            Some(p) => Some(crate::bundle::timestamp::load_anchors(p)?),
            None => None,
        };
        Ok(VerifyOptions {
            examiner_key,
            expect_digest,
            tsa_anchors,
        })
    }
}

/// One bundle's report, or an archive audit ([`archive`]) when the arguments ask for one.
pub fn run(args: VerifyArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    if args.is_archive() {
        return archive::run(&args, global);
    }
    let report = verify_bundle(&args.bundles[0], &args.check.options()?);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
        let _ = global;
    }
    // Warnings go to stderr too, so a tool that runs us as a validator (the BagIt conformance
    // suite's harness) sees them whatever the output format.
    for w in &report.warnings {
        say_err!("warning: {w}");
    }
    Ok(match report.verdict {
        Verdict::Intact => Status::Ok,
        Verdict::Altered | Verdict::Invalid | Verdict::Incomplete => Status::EvidenceProblem,
        Verdict::Unreadable => Status::InputError,
    })
}

/// Which layout was found, in words.
fn layout_line(report: &VerifyReport) -> Option<String> {
    let what = match report.layout.as_ref()? {
        Layout::Directory => "bag directory".to_owned(),
        Layout::ZipRoot => "zip, bag at the root".to_owned(),
        Layout::ZipFolder { folder } => format!("zip, bag in folder {folder}/"),
    };
    let version = match &report.bagit_version {
        Some(v) => format!("BagIt-Version {v}"),
        None => "BagIt-Version not recorded".to_owned(),
    };
    Some(format!("layout: {what}, {version}"))
}

fn print_report(report: &VerifyReport) {
    say!("{}", report.bundle);
    if let Some(line) = layout_line(report) {
        say!("{line}");
    }
    if let Some(d) = report.digest {
        say!("bundle digest {d}");
    }
    let sig = match &report.signature {
        SignatureStatus::Absent => "not signed".to_owned(),
        SignatureStatus::Valid {
            key_id,
            examiner_key_checked: true,
        } => format!("signed by the examiner key {key_id}"),
        SignatureStatus::Valid { key_id, .. } => {
            format!("signed by key {key_id} (not checked against an examiner key)")
        }
        SignatureStatus::Invalid => "signature INVALID".to_owned(),
    };
    if report.timestamp != TimestampStatus::Absent {
        say!(
            "timestamp: {}",
            crate::bundle::verified::timestamp_statement(&report.timestamp)
        );
    }
    let n = report.problems.len();
    let generic = report.kind == Some(BagKind::GenericBag);
    match (report.verdict, generic) {
        (Verdict::Intact, false) => say!(
            "intact: {} payload files, {} bytes, {sig}",
            report.payload_files,
            report.payload_bytes
        ),
        (Verdict::Intact, true) => say!(
            "intact (generic BagIt bag): {} payload files, {} bytes",
            report.payload_files,
            report.payload_bytes
        ),
        (Verdict::Altered, false) => say!("ALTERED or incomplete: {n} problem(s), {sig}"),
        (Verdict::Altered, true) => say!(
            "ALTERED (generic BagIt bag): its bytes disagree with its manifests, {n} problem(s)"
        ),
        (Verdict::Invalid, _) => say!("NOT A VALID BagIt BAG: {n} problem(s)"),
        (Verdict::Incomplete, _) => say!(
            "INCOMPLETE (generic BagIt bag): files listed in fetch.txt are not fetched, {n} problem(s)"
        ),
        (Verdict::Unreadable, _) => say!("NOT A READABLE BUNDLE"),
    }
    for p in &report.problems {
        say!("  {p}");
    }
    for w in &report.warnings {
        say!("  warning: {w}");
    }
}
