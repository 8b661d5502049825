//! `collect`: inputs → hashed evidence bundle (BagIt bag in a zip); prints the bundle digest.

use crate::acquire::{collect, AcquireOptions, CollectRequest};
use crate::bundle::signature::load_signing_key;
use crate::cli::terminal::{say, say_err};
use crate::cli::{GlobalArgs, Status};
use crate::model::case::CaseInfo;
use crate::model::custody::Actor;
use crate::model::evidence::{IncidentType, Severity};
use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// Bundle to write (`CASE.zip`), or an existing folder to write `<case-id>.zip` into.
    #[arg(short, long, value_name = "CASE.zip")]
    pub output: PathBuf,
    /// Case file (case.toml): ids, examiner, incident type, declared times. Stored in the bundle.
    #[arg(long, value_name = "case.toml")]
    pub case_file: Option<PathBuf>,
    /// Case id (names the bag folder and the default file name); overrides the case file.
    #[arg(long, value_name = "ID")]
    pub case_id: Option<String>,
    /// Examiner name (bag-info Contact-Name); overrides the case file.
    #[arg(long, value_name = "NAME")]
    pub examiner: Option<String>,
    /// Organisation (bag-info Source-Organization); overrides the case file.
    #[arg(long, value_name = "ORG")]
    pub organization: Option<String>,
    /// Incident type INC-1..INC-4; overrides the case file.
    #[arg(long, value_name = "INC-n")]
    pub incident_type: Option<IncidentType>,
    /// Severity low|medium|high|critical; overrides the case file.
    #[arg(long, value_name = "S")]
    pub severity: Option<Severity>,
    /// Collection time (RFC 3339). Fixes every recorded time, so the bundle is reproducible.
    /// Default: SOURCE_DATE_EPOCH if set, else now.
    #[arg(long, value_name = "T")]
    pub collected_at: Option<String>,
    /// Examiner's Ed25519 secret key: signs the bundle digest into bundle-signature.json.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// RFC 3161 timestamp authority URL: its token over the bundle digest is stored in the
    /// bundle as bundle-timestamp.tsr (no bundle is written if none is obtained). The only
    /// flag that makes collect use the network.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// The TSA certificate or its CA chain (PEM): the token from --tsa must verify against it
    /// before the bundle is written.
    #[arg(long, value_name = "CERT", requires = "tsa")]
    pub tsa_cert: Option<PathBuf>,
    /// Extra public key to judge every module's signatures with (repeatable; every public key and
    /// the public half of every secret key among the inputs is used anyway).
    #[arg(short = 'K', long = "key", value_name = "KEY")]
    pub keys: Vec<PathBuf>,
    /// Sigstore trusted_root.json for the transparency checks of Rekor entries, bundles and
    /// keyless modules (default: the bundled Sigstore production root).
    #[arg(long, value_name = "ROOT.json")]
    pub trusted_root: Option<PathBuf>,
    /// Skip (and record as not collected) files larger than this (bytes; K, M, G, T suffixes).
    // The default is DEFAULT_MAX_FILE_SIZE as a person writes it (a unit test keeps them equal).
    #[arg(long, value_name = "N", value_parser = parse_size, default_value = MAX_FILE_SIZE_SHOWN)]
    pub max_file_size: u64,
    /// Replace an existing bundle.
    #[arg(long)]
    pub force: bool,
    /// Deflate text entries (JSON, logs, case files); payload is stored by default.
    #[arg(long)]
    pub compress: bool,
    /// Machine-readable result on stdout.
    #[arg(long)]
    pub json: bool,
    /// Files and folders to collect.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// The `-K` keys and `--trusted-root` of the command line as an analysis context.
fn analysis_context(args: &CollectArgs) -> anyhow::Result<crate::analyse::AnalysisContext> {
    let keys = super::inspect::load_keys(&args.keys)?;
    let tctx = super::inspect_transparency::TransparencyContext::from_args(
        &super::inspect_transparency::TransparencyArgs {
            trusted_root: args.trusted_root.clone(),
            ..Default::default()
        },
    )?;
    Ok(crate::analyse::AnalysisContext {
        keys,
        trust_root: tctx.root,
        policy: tctx.policy,
        ..Default::default()
    })
}

/// [`DEFAULT_MAX_FILE_SIZE`] as `--help` shows it.
const MAX_FILE_SIZE_SHOWN: &str = "64G";

/// Parses `123`, `64K`, `10M`, `64G`, `1T` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        Some('T') => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("{s:?} is not a size (e.g. 1048576, 512M, 64G)"))
}

/// The collection time and whether it was fixed by the user.
fn collection_time(flag: Option<&str>) -> anyhow::Result<(DateTime<Utc>, bool)> {
    if let Some(t) = flag {
        let t = DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--collected-at {t:?} is not an RFC 3339 time"))?;
        return Ok((t.with_timezone(&Utc), true));
    }
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        let secs: i64 = v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH {v:?} is not an integer"))?;
        let t = DateTime::from_timestamp(secs, 0)
            .with_context(|| format!("SOURCE_DATE_EPOCH {v:?} is out of range"))?;
        return Ok((t, true));
    }
    Ok((Utc::now(), false))
}

/// The operating-system account and host doing the collection.
pub fn local_actor(examiner: Option<String>) -> Actor {
    use std::os::unix::fs::MetadataExt;
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            std::fs::metadata("/proc/self")
                .ok()
                .map(|m| format!("uid {}", m.uid()))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::process::Command::new("uname")
                .arg("-n")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    Actor {
        examiner,
        user,
        host,
    }
}

pub fn run(args: CollectArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    if args.inputs.is_empty() && args.case_file.is_none() {
        bail!("nothing to collect: give at least one INPUT or a --case-file");
    }
    let case = case_of(&args)?;
    let output = if args.output.is_dir() {
        args.output.join(format!("{}.zip", case.case_id))
    } else {
        args.output.clone()
    };
    require_parent_folder(&output)?;
    let (collected_at, time_fixed) = collection_time(args.collected_at.as_deref())?;
    let sign_key = match &args.sign_key {
        Some(p) => Some(load_signing_key(p)?),
        None => None,
    };
    let tsa = match &args.tsa {
        Some(url) => Some(crate::bundle::timestamp::Tsa {
            url: url.clone(),
            anchors: match &args.tsa_cert {
                Some(p) => Some(crate::bundle::timestamp::load_anchors(p)?),
                None => None,
            },
        }),
        None => None,
    };
    let progress_bar =
        (!global.quiet && !args.json && std::io::stderr().is_terminal()).then(progress_spinner);
    let acquire = AcquireOptions {
        max_file_size: args.max_file_size,
        progress: progress_bar
            .clone()
            .map(|pb| Arc::new(move |n: u64| pb.inc(n)) as crate::acquire::ProgressHook),
        fixed_time: time_fixed.then_some(collected_at),
        analysis: Arc::new(analysis_context(&args)?),
        ..AcquireOptions::default()
    };
    let argv: Vec<String> = std::env::args().collect();
    let req = CollectRequest {
        inputs: args.inputs.clone(),
        case_file: args.case_file.clone(),
        actor: local_actor(case.examiner.clone()),
        case,
        output,
        collected_at,
        time_fixed,
        force: args.force,
        compress: args.compress,
        sign_key,
        tsa,
        argv,
        acquire,
        fail_write_after: None,
        spill_run_bytes: None,
    };
    let outcome = collect(&req);
    if let Some(pb) = progress_bar {
        pb.finish_and_clear();
    }
    let outcome = outcome?;
    print_outcome(&outcome, &args, global, req.sign_key.is_some())?;
    Ok(if outcome.summary.max_severity() >= Some(Severity::High) {
        Status::EvidenceProblem
    } else {
        Status::Ok
    })
}

/// The bundle is written beside itself (a temp file, then a rename): its folder must exist,
/// and a missing one is named as the user gave it, never by the temp file's name.
fn require_parent_folder(output: &std::path::Path) -> anyhow::Result<()> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Ok(()),
    };
    match std::fs::metadata(parent) {
        Ok(md) if md.is_dir() => Ok(()),
        Ok(_) => bail!(
            "{}: cannot write the bundle: {} is not a folder",
            output.display(),
            parent.display()
        ),
        Err(e) => bail!(
            "{}: cannot write the bundle: folder {}: {e}",
            output.display(),
            parent.display()
        ),
    }
}

/// The case: the case file's, overridden by the flags; its id must name the bag folder.
fn case_of(args: &CollectArgs) -> anyhow::Result<CaseInfo> {
    let mut case = match &args.case_file {
        Some(p) => CaseInfo::load(p)?,
        None => CaseInfo::default(),
    };
    if let Some(v) = args.case_id.clone() {
        case.case_id = v;
    }
    if let Some(v) = args.examiner.clone() {
        case.examiner = Some(v);
    }
    if let Some(v) = args.organization.clone() {
        case.organization = Some(v);
    }
    if let Some(v) = args.incident_type {
        case.incident_type = Some(v);
    }
    if let Some(v) = args.severity {
        case.severity = Some(v);
    }
    if case.case_id.is_empty() {
        bail!("no case id: pass --case-id or a --case-file with case_id");
    }
    if !crate::acquire::collect::valid_case_id(&case.case_id) {
        bail!(
            "case id {:?} cannot name the bag folder: use letters, digits, '.', '_' or '-'",
            case.case_id
        );
    }
    Ok(case)
}

/// Bytes read so far, on stderr (only when it is a terminal).
fn progress_spinner() -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes} read ({bytes_per_sec}) {elapsed}",
        )
        .expect("valid template"),
    );
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The `--json` document of `collect` (schema: docs/schema/collect.schema.json).
#[derive(Serialize, JsonSchema, Debug)]
pub struct CollectOutput {
    /// The bundle written, as the path it was written to.
    pub bundle: String,
    /// The bundle digest: SHA-256 of its tagmanifest-sha256.txt.
    pub digest: crate::model::digest::Sha256Digest,
    pub case_id: String,
    pub collected_at: DateTime<Utc>,
    /// Evidence items written.
    pub items: u64,
    /// Evidence items by kind (`module`, `public-key`, …).
    pub items_by_kind: BTreeMap<String, u64>,
    /// Payload files in the bag and their total size in bytes.
    pub payload_files: u64,
    pub payload_bytes: u64,
    /// Findings by severity (`low`, `medium`, `high`, `critical`).
    pub findings_by_severity: BTreeMap<String, u64>,
    /// Source paths of the items that changed while they were read.
    pub changed_during_acquisition: Vec<String>,
    /// Sources seen but not collected, and why.
    pub not_collected: Vec<crate::model::evidence::NotCollected>,
    /// Whether the bundle carries an examiner signature (`--sign-key`).
    pub signed: bool,
}

/// What collect prints: the `--json` document, or the bundle path, its digest and a summary
/// line (and, unless `-q`, what was not collected or changed, on stderr).
fn print_outcome(
    outcome: &crate::acquire::CollectOutcome,
    args: &CollectArgs,
    global: &GlobalArgs,
    signed: bool,
) -> anyhow::Result<()> {
    let ev = &outcome.summary;
    let mut by_kind = BTreeMap::<String, u64>::new();
    for (kind, n) in &ev.items_by_kind {
        let k = serde_json::to_value(kind).ok();
        let k = k
            .as_ref()
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_owned();
        *by_kind.entry(k).or_default() += n;
    }
    let by_sev = &ev.findings_by_severity;
    let changed: Vec<&str> = ev
        .changed_during_acquisition
        .iter()
        .map(String::as_str)
        .collect();
    if args.json {
        let doc = CollectOutput {
            bundle: outcome.path.display().to_string(),
            digest: outcome.digest,
            case_id: ev.case_id.clone(),
            collected_at: ev.collected_at,
            items: ev.items,
            items_by_kind: by_kind,
            payload_files: outcome.payload_files,
            payload_bytes: outcome.payload_bytes,
            findings_by_severity: by_sev
                .iter()
                .map(|(s, n)| (s.as_str().to_owned(), *n))
                .collect(),
            changed_during_acquisition: changed.iter().map(|c| (*c).to_owned()).collect(),
            not_collected: ev.not_collected.clone(),
            signed,
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    say!("{}", outcome.path.display());
    say!("bundle digest {}", outcome.digest);
    match (&args.tsa, &args.tsa_cert) {
        (Some(_), Some(_)) => {
            say!("timestamp stored: the token verifies against --tsa-cert")
        }
        (Some(_), None) => {
            say!("timestamp stored, not verified (no --tsa-cert): check it with verify --tsa-cert")
        }
        _ => {}
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let sev: Vec<String> = by_sev
        .iter()
        .rev()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let none_or = |v: Vec<String>| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.join(", ")
        }
    };
    say!(
        "{} items ({}), {} not collected, findings: {}",
        ev.items,
        none_or(kinds),
        ev.not_collected.len(),
        none_or(sev),
    );
    if !global.quiet {
        for n in &ev.not_collected {
            say_err!("not collected: {}: {}", n.path, n.reason);
        }
        for c in &changed {
            say_err!("changed during acquisition: {c}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("64G"), Ok(64 << 30));
        assert_eq!(
            parse_size(MAX_FILE_SIZE_SHOWN),
            Ok(crate::acquire::DEFAULT_MAX_FILE_SIZE)
        );
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert!(parse_size("x").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
