//! `scope`: every module a key signed under the inputs (directories, module files, evidence
//! bundles), whether that signature still covers the module, and the re-sign list; the keyless
//! question (`--identity`, INC-3) is the child module `keyless`.

pub mod deps;
pub mod keyless;

use super::{GlobalArgs, Status};
use crate::cli::terminal::{say_err, say_to};
use crate::io::output::OutputPath;
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
    #[arg(short = 'K', long, value_name = "KEY")]
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
    #[arg(short = 'o', long = "output", alias = "list", value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// Replace an existing re-sign list (without it, an existing FILE is an error).
    #[arg(long, requires = "list")]
    pub force: bool,
    /// Machine-readable output (shape documented in the README).
    #[arg(long)]
    pub json: bool,
    /// INC-4: modules shipping a vulnerable dependency (src/cli/scope/deps.rs).
    #[command(flatten)]
    pub deps: deps::DepsArgs,
    /// Directories, module files or evidence bundles (.zip) to search.
    #[arg(required = true, value_name = "DIR_OR_BUNDLE")]
    pub inputs: Vec<PathBuf>,
    /// The keyless question (INC-3): `--identity` and its flags.
    #[command(flatten)]
    pub keyless: keyless::KeylessArgs,
}

pub fn run(global: &GlobalArgs, args: ScopeArgs) -> anyhow::Result<Status> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let status = run_to(global, args, &mut out)?;
    out.flush()?;
    Ok(status)
}

/// [`run`], writing what goes to stdout to `out`. Each module's answer is written (table row,
/// list line, JSON record) as soon as it is known and then dropped, so memory does not grow with
/// the number of modules.
pub fn run_to(global: &GlobalArgs, args: ScopeArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.keyless.identity.is_some() && args.deps.asked() {
        say_err!(
            "wsc-forensics: error: --identity (INC-3) and --crate/--advisory (INC-4) are different questions: run scope once for each"
        );
        return Ok(Status::InputError);
    }
    if args.keyless.identity.is_some() {
        return keyless::run_to(global, args, out);
    }
    if args.deps.asked() {
        let key_flags = !args.key.is_empty()
            || args.keys.is_some()
            || args.window.is_some()
            || args.list.is_some();
        let d = &args.deps;
        return deps::run_to(global, d, key_flags, args.json, &args.inputs, out);
    }
    key_scope(global, args, out)
}

/// INC-1's question: every module the keys signed, and whether each signature still holds.
fn key_scope(global: &GlobalArgs, args: ScopeArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let mut query = ScopeQuery::default();
    for k in &args.key {
        query.add_key_arg(k, "--key")?;
    }
    if let Some(list) = &args.keys {
        query.add_key_list(list)?;
    }
    if query.keys.is_empty() {
        say_err!(
            "wsc-forensics: error: scope needs --key KEY or --keys FILE (with at least one key), or --identity PATTERN"
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
    let list_context =
        |list: &std::path::Path| format!("writing the re-sign list {}", list.display());
    // The list's folder is opened (and an existing list refused, without --force) before any
    // module is read; the list is written there as modules come and renamed into place at the
    // end, never through a link (io::output).
    let list_dir = match &args.list {
        Some(path) => Some(OutputPath::open(path).with_context(|| list_context(path))?),
        None => None,
    };
    let mut list = match &list_dir {
        Some(d) => Some(std::io::BufWriter::new(d.create(args.force)?)),
        None => None,
    };
    let mut json = if args.json {
        Some(JsonModules::new().context("creating a temporary file for the JSON modules")?)
    } else {
        for k in &query.keys {
            let how = if k.public_key.is_some() {
                "verified with the public key"
            } else {
                "key id only: signatures not verified"
            };
            say_to!(out, "key {}  {}  ({how})", k.key_id, k.source)?;
        }
        None
    };
    let mut failed: Option<anyhow::Error> = None;
    let totals = scope::scope_each(&args.inputs, &query, &bar, |m| {
        if failed.is_some() {
            return;
        }
        let mut each = || -> anyhow::Result<()> {
            if !global.quiet && m.status == ModuleStatus::Error {
                bar.suspend(|| {
                    say_err!(
                        "wsc-forensics: {}: {}",
                        m.path.display(),
                        m.error.as_deref().unwrap_or("error")
                    )
                });
            }
            if let (Some(l), ModuleStatus::Valid) = (list.as_mut(), m.status) {
                let path = args.list.as_deref().expect("a list was asked for");
                l.write_all(m.path.as_os_str().as_bytes())
                    .and_then(|()| l.write_all(b"\n"))
                    .with_context(|| list_context(path))?;
            }
            match json.as_mut() {
                Some(j) => j.push(&m)?,
                None => {
                    let in_window = m.keyless.as_ref().and_then(|k| k.in_window) == Some(true);
                    if m.status.carries_key() || in_window || global.verbose > 0 {
                        if bar.is_hidden() {
                            say_to!(out, "{}", row(&m))?;
                        } else {
                            bar.suspend(|| say_to!(out, "{}", row(&m)).and_then(|()| out.flush()))?;
                        }
                    }
                }
            }
            Ok(())
        };
        if let Err(e) = each() {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if !global.quiet {
        for s in &totals.skipped {
            say_err!("wsc-forensics: {}: {}", s.path.display(), s.reason);
        }
    }
    if let (Some(l), Some(path)) = (list, &args.list) {
        l.into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| list_context(path))?
            .commit()?;
    }
    let s = &totals.summary;
    match json {
        Some(j) => j.finish(out, &query, &totals)?,
        None if !global.quiet => say_to!(
            out,
            "{} modules: {} valid (re-sign), {} suspicious, {} key id match (not verified), \
             {} already re-signed; {} signed by others only, {} keyless ({} in window), {} unsigned, \
             {} undecodable, {} errors",
            s.modules,
            s.valid,
            s.suspicious,
            s.key_id_match_not_verified,
            s.re_signed,
            s.other_signers,
            s.keyless,
            s.keyless_in_window,
            s.unsigned,
            s.undecodable,
            s.errors
        )?,
        None => {}
    }
    Ok(if totals.any_carries_key() {
        Status::EvidenceProblem
    } else if totals.has_input_errors() || s.errors > 0 {
        Status::InputError
    } else {
        Status::Ok
    })
}

/// The `modules` array of the JSON document, kept in an anonymous temp file until the summary
/// (which comes first in the document) is known. The document is assembled to be byte for byte
/// what `serde_json::to_string_pretty` makes of a [`scope::ScopeResult`]: each part is rendered
/// pretty on its own and indented to its depth (JSON strings never hold a raw newline, so
/// indenting line by line is exact).
struct JsonModules {
    file: std::io::BufWriter<std::fs::File>,
    count: usize,
    buf: Vec<u8>,
}

impl JsonModules {
    fn new() -> std::io::Result<Self> {
        Ok(JsonModules {
            file: std::io::BufWriter::new(tempfile::tempfile()?),
            count: 0,
            buf: Vec::new(),
        })
    }

    fn push(&mut self, m: &ModuleScope) -> anyhow::Result<()> {
        self.buf.clear();
        serde_json::to_writer_pretty(&mut self.buf, m)?;
        self.file
            .write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        write_indented(&mut self.file, &self.buf, "    ", true)?;
        self.count += 1;
        Ok(())
    }

    fn finish(
        self,
        out: &mut dyn Write,
        query: &ScopeQuery,
        totals: &scope::ScopeTotals,
    ) -> anyhow::Result<()> {
        let part = |out: &mut dyn Write, v: &dyn erased::Pretty| -> anyhow::Result<()> {
            write_indented(out, &v.pretty()?, "  ", false)?;
            Ok(())
        };
        out.write_all(b"{\n  \"query\": ")?;
        part(out, query)?;
        out.write_all(b",\n  \"summary\": ")?;
        part(out, &totals.summary)?;
        out.write_all(b",\n  \"modules\": [")?;
        if self.count > 0 {
            let mut file = self.file.into_inner().map_err(|e| e.into_error())?;
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0))?;
            std::io::copy(&mut file, out)?;
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"],\n  \"skipped\": ")?;
        part(out, &totals.skipped)?;
        out.write_all(b"\n}\n")?;
        Ok(())
    }
}

/// A value rendered with `serde_json::to_vec_pretty`, behind a trait object.
mod erased {
    pub trait Pretty {
        fn pretty(&self) -> serde_json::Result<Vec<u8>>;
    }
    impl<T: serde::Serialize + ?Sized> Pretty for T {
        fn pretty(&self) -> serde_json::Result<Vec<u8>> {
            serde_json::to_vec_pretty(self)
        }
    }
}

/// Writes `text` with `indent` after each newline (and before the first line if `first`).
pub(super) fn write_indented(
    out: &mut dyn Write,
    text: &[u8],
    indent: &str,
    first: bool,
) -> std::io::Result<()> {
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.write_all(b"\n")?;
        }
        if i > 0 || first {
            out.write_all(indent.as_bytes())?;
        }
        out.write_all(line)?;
    }
    Ok(())
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
    if let Some(a) = &m.assessment {
        parts.push(format!("assessment: {}", a.status.as_str()));
    }
    let path = match &m.origin {
        scope::ModuleOrigin::File => m.path.display().to_string(),
        scope::ModuleOrigin::Bundle { bundle, bag_path } => {
            format!("{} ({bundle}:{bag_path})", m.path.display())
        }
    };
    format!("{:<26} {path}  {}", m.status.as_str(), parts.join("; "))
}
