//! `timestamp`: adds an RFC 3161 trusted timestamp to an existing bundle, from a TSA over HTTP
//! (`--tsa`), or without network: `--request -o FILE.tsq` writes the request, `--response
//! FILE.tsr` stores the token obtained elsewhere. Exit 0 stored (or request written), 1 the
//! bundle is not intact or the token does not verify against `--tsa-cert`, 2 usage or input
//! error (a token for another digest, a TSA that does not answer).

use crate::bundle::stamp::{self, StampError};
use crate::bundle::timestamp::{self as ts, Tsa, MAX_RESPONSE_BYTES};
use crate::cli::terminal::say;
use crate::cli::{GlobalArgs, Status};
use crate::io::output::write_new_file;
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["tsa", "request", "response"])))]
pub struct TimestampArgs {
    /// The bundle (zip) to timestamp; it is verified first and rewritten atomically with
    /// bundle-timestamp.tsr added (every other entry and the bundle digest unchanged).
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// RFC 3161 timestamp authority URL to ask for a token over the bundle digest.
    #[arg(long, value_name = "URL")]
    pub tsa: Option<String>,
    /// Write a timestamp request (DER .tsq) for the bundle digest to -o, without network.
    #[arg(long, requires = "output")]
    pub request: bool,
    /// Store this timestamp response (DER .tsr) obtained elsewhere; it must be over the
    /// bundle digest.
    #[arg(long, value_name = "FILE.tsr")]
    pub response: Option<PathBuf>,
    /// Where --request writes the request.
    #[arg(short, long, value_name = "FILE.tsq")]
    pub output: Option<PathBuf>,
    /// The TSA certificate or its CA chain (PEM): the token must verify against it before it
    /// is stored.
    #[arg(long, value_name = "CERT", conflicts_with = "request")]
    pub tsa_cert: Option<PathBuf>,
    /// Replace a timestamp the bundle already holds (refused otherwise).
    #[arg(long, conflicts_with = "request")]
    pub replace: bool,
    /// Replace an existing -o file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: TimestampArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    let _ = global;
    let anchors = match &args.tsa_cert {
        Some(p) => Some(ts::load_anchors(p)?),
        None => None,
    };
    let response = match &args.response {
        Some(p) => Some(
            crate::io::bounded_read::read_regular_file(p, MAX_RESPONSE_BYTES)
                .with_context(|| format!("{}: cannot read the response", p.display()))?,
        ),
        None => None,
    };
    let bundle = match stamp::open(&args.bundle) {
        Ok(b) => b,
        Err(e @ StampError::NotIntact { .. }) => {
            crate::cli::terminal::say_err!("wsc-forensics: error: {e}");
            return Ok(Status::EvidenceProblem);
        }
        Err(e) => return Err(e.into()),
    };
    let digest = bundle.digest;
    if args.request {
        let out = args
            .output
            .as_ref()
            .context("--request needs -o FILE.tsq")?;
        let req = ts::request_for(&digest);
        write_new_file(out, args.force, |f| f.write_all(&req))?;
        say!("{}", out.display());
        say!("timestamp request for bundle digest {digest} (SHA-256, nonce, certReq)");
        return Ok(Status::Ok);
    }
    if bundle.token().is_some() && !args.replace {
        return Err(StampError::HasToken {
            path: args.bundle.clone(),
        }
        .into());
    }
    let token = match (&args.tsa, response) {
        (Some(url), _) => Tsa {
            url: url.clone(),
            anchors: None,
        }
        .stamp(&digest)?,
        (None, Some(r)) => r,
        (None, None) => {
            anyhow::bail!("give --tsa URL, --request -o FILE.tsq or --response FILE.tsr")
        }
    };
    let proven = match &anchors {
        Some(a) => {
            match crate::transparency::rfc3161::verify_token_anchored(&token, &digest.0, a) {
                Ok(v) => Some(v),
                Err(e) => {
                    crate::cli::terminal::say_err!(
                    "wsc-forensics: error: {}: the timestamp does not verify against --tsa-cert: {e}; nothing stored",
                    args.bundle.display()
                );
                    return Ok(Status::EvidenceProblem);
                }
            }
        }
        None => None,
    };
    bundle.store(&token, args.replace)?;
    say!("{}", args.bundle.display());
    say!("bundle digest {digest} (unchanged)");
    match proven {
        Some(v) => say!(
            "timestamp stored: verified, the bundle digest existed at {} (TSA {})",
            v.gen_time
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            v.tsa_subject
        ),
        None => {
            say!("timestamp stored, not verified (no --tsa-cert): check it with verify --tsa-cert")
        }
    }
    Ok(Status::Ok)
}
