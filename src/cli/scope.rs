//! `scope`: every module a key signed under the inputs (directories, module files, evidence
//! bundles), whether that signature still covers the module, and the re-sign list.

use super::{GlobalArgs, Status};
use crate::scope::{self, KeyCheck, ModuleScope, ModuleStatus, ScopeQuery, TimeWindow};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ScopeArgs {
    /// Public key file (raw wsc, SPKI PEM/DER, PKCS#8, OpenSSH; a secret key file gives its
    /// public half), a wsc key id (24 hex: matches only signatures carrying it, unverified) or a
    /// raw public key (64 hex). Repeatable.
    #[arg(long, value_name = "KEY")]
    pub key: Vec<String>,
    /// File listing several keys: one key file path, key id or raw public key per line, `#`
    /// comments.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Compromise window for keyless signatures, by Rekor integrated time: FROM..TO (RFC 3339
    /// or YYYY-MM-DD; either end may be empty).
    #[arg(long, value_name = "FROM..TO")]
    pub window: Option<String>,
    /// Write the re-sign list here: one path per line of every module with a signature by the
    /// key that still verifies over all its bytes.
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// Machine-readable output (shape documented in the README).
    #[arg(long)]
    pub json: bool,
    /// Directories, module files or evidence bundles (.zip) to search.
    #[arg(required = true, value_name = "DIR_OR_BUNDLE")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: ScopeArgs) -> anyhow::Result<Status> {
    let mut query = ScopeQuery::default();
    for k in &args.key {
        query.add_key_arg(k, "--key")?;
    }
    if let Some(list) = &args.keys {
        query.add_key_list(list)?;
    }
    if query.keys.is_empty() {
        eprintln!(
            "wsc-forensics: error: scope needs --key KEY or --keys FILE (with at least one key)"
        );
        return Ok(Status::InputError);
    }
    if let Some(w) = &args.window {
        query.window = Some(TimeWindow::parse(w)?);
    }
    // Progress only on a terminal stderr, never with -q.
    let bar = if !global.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template("scope {bar:30} {pos}/{len} files {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let result = scope::scope_with_progress(&args.inputs, query, &bar);
    if !global.quiet {
        for s in &result.skipped {
            eprintln!("wsc-forensics: {}: {}", s.path.display(), s.reason);
        }
        for m in result
            .modules
            .iter()
            .filter(|m| m.status == ModuleStatus::Error)
        {
            eprintln!(
                "wsc-forensics: {}: {}",
                m.path.display(),
                m.error.as_deref().unwrap_or("error")
            );
        }
    }
    if let Some(list) = &args.list {
        write_list(list, result.resign_list())
            .with_context(|| format!("writing the re-sign list {}", list.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        for k in &result.query.keys {
            let how = if k.public_key.is_some() {
                "verified with the public key"
            } else {
                "key id only: signatures not verified"
            };
            println!("key {}  {}  ({how})", k.key_id, k.source);
        }
        for m in &result.modules {
            let in_window = m.keyless.as_ref().and_then(|k| k.in_window) == Some(true);
            if m.status.carries_key() || in_window || global.verbose > 0 {
                println!("{}", row(m));
            }
        }
        if !global.quiet {
            let s = &result.summary;
            println!(
                "{} modules: {} valid (re-sign), {} suspicious, {} key id match (not verified); \
                 {} signed by others only, {} keyless ({} in window), {} unsigned, \
                 {} undecodable, {} errors",
                s.modules,
                s.valid,
                s.suspicious,
                s.key_id_match_not_verified,
                s.other_signers,
                s.keyless,
                s.keyless_in_window,
                s.unsigned,
                s.undecodable,
                s.errors
            );
        }
    }
    Ok(if result.any_carries_key() {
        Status::EvidenceProblem
    } else if result.has_input_errors() || result.summary.errors > 0 {
        Status::InputError
    } else {
        Status::Ok
    })
}

/// One line per module: status, path, then what makes it so.
fn row(m: &ModuleScope) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in &m.signatures {
        let src = match &s.source {
            crate::wasm::SignatureSource::Embedded => String::new(),
            crate::wasm::SignatureSource::Detached { path } => format!(" (detached {path})"),
        };
        let what = match &s.check {
            KeyCheck::Valid { covered } => {
                format!("valid over {}..{}", covered.start, covered.end)
            }
            KeyCheck::Partial {
                covered,
                at_delimiter,
                uncovered,
            } => format!(
                "partial: covers {}..{}{}, not covered: {}",
                covered.start,
                covered.end,
                if *at_delimiter {
                    " (to a signature_delimiter)"
                } else {
                    ""
                },
                uncovered
                    .iter()
                    .map(|u| match &u.name {
                        Some(n) => format!(
                            "#{} custom [{n}] {}..{}",
                            u.index, u.range.start, u.range.end
                        ),
                        None => format!(
                            "#{} id {} {}..{}",
                            u.index, u.id, u.range.start, u.range.end
                        ),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            KeyCheck::Invalid { reason } => format!(
                "invalid: {}",
                match reason {
                    crate::wasm::verdict::InvalidReason::SignedBytesChanged =>
                        "signed bytes changed",
                    crate::wasm::verdict::InvalidReason::SignatureDoesNotVerify =>
                        "carries the key id but the signature does not verify",
                }
            ),
            KeyCheck::KeyIdMatchNotVerified { coverage } => format!(
                "key id match, signature not verified (stored hashes: {})",
                match coverage {
                    crate::wasm::verdict::HashCoverage::Full { .. } => "match all bytes",
                    crate::wasm::verdict::HashCoverage::Prefix { .. } => "match a prefix only",
                    crate::wasm::verdict::HashCoverage::None => "match nothing",
                }
            ),
        };
        parts.push(format!("{} {what}{src}", s.key));
    }
    if !m.other_signers.is_empty() {
        let ids: Vec<String> = m
            .other_signers
            .iter()
            .map(|o| o.key_id.clone().unwrap_or_else(|| "(no key id)".into()))
            .collect();
        parts.push(format!("also signed by {}", ids.join(", ")));
    }
    if let Some(k) = &m.keyless {
        parts.push(format!(
            "keyless: identity {} issuer {} integrated {} log index {}{}{}",
            k.identity.as_deref().unwrap_or("?"),
            k.issuer.as_deref().unwrap_or("?"),
            k.integrated_time
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| "?".into()),
            k.log_index
                .map(|i| i.to_string())
                .unwrap_or_else(|| "?".into()),
            if k.rekor_placeholder {
                " (no Rekor entry: wsc's placeholder, time not logged)"
            } else {
                ""
            },
            match k.in_window {
                Some(true) => " [in window]",
                Some(false) => " [outside window]",
                None => "",
            }
        ));
    }
    if let Some(e) = &m.error {
        parts.push(e.clone());
    }
    let path = match &m.origin {
        scope::ModuleOrigin::File => m.path.display().to_string(),
        scope::ModuleOrigin::Bundle { bundle, bag_path } => {
            format!("{} ({bundle}:{bag_path})", m.path.display())
        }
    };
    format!("{:<26} {path}  {}", m.status.as_str(), parts.join("; "))
}

/// Writes the list atomically (temp file in the same folder, then rename).
fn write_list<'a>(
    path: &std::path::Path,
    modules: impl Iterator<Item = &'a ModuleScope>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        for m in modules {
            w.write_all(m.path.as_os_str().as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
