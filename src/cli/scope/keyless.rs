//! `scope --identity` (INC-3): the keyless signers under the inputs, their verified signing
//! times against `--window`, and the signers missing from `--expected-signers`; printed as a
//! table or streamed as JSON.

use super::{write_indented, ScopeArgs};
use crate::cli::terminal::{say_err, say_to};
use crate::cli::{GlobalArgs, Status};
use crate::scope::keyless::{self, ExpectedSigners, IdentityPattern, KeylessQuery, KeylessRecord};
use crate::scope::{ModuleOrigin, TimeWindow};
use crate::transparency::{TrustRoot, Verdict, MAX_INPUT_BYTES};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// The flags of the keyless question (INC-3).
#[derive(Args, Debug, Default)]
pub struct KeylessArgs {
    /// Keyless question (INC-3): list every keyless module, Sigstore bundle and Rekor entry, and
    /// match signers against this identity (certificate SAN, email or URI): exact, or a glob with
    /// `*` (any characters) and `?` (one character); `*` matches every signer. Not with -K/--keys.
    #[arg(long, value_name = "PATTERN", conflicts_with_all = ["key", "keys", "list"])]
    pub identity: Option<String>,
    /// With --identity: the signer's OIDC issuer (Fulcio certificate extension) must also be
    /// this, exactly.
    #[arg(long, value_name = "URL", requires = "identity")]
    pub issuer: Option<String>,
    /// With --identity: one `IDENTITY ISSUER` pair per line (`#` comments); a signer in the
    /// window that is not listed is a High finding.
    #[arg(long, value_name = "FILE", requires = "identity")]
    pub expected_signers: Option<PathBuf>,
    /// With --identity: Sigstore trusted_root.json the transparency evidence is checked against
    /// (default: the bundled Sigstore production root).
    #[arg(long, value_name = "ROOT.json", requires = "identity")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessArgs {
    /// Paths named by these flags (for the missing-input check).
    pub fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.expected_signers.iter().chain(&self.trusted_root)
    }
}

/// Runs the keyless question; what goes to stdout is written to `out`, each record as soon as
/// it is known.
pub fn run_to(global: &GlobalArgs, args: ScopeArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let k = &args.keyless;
    let pattern = k.identity.as_deref().expect("dispatched on --identity");
    let root = match &k.trusted_root {
        Some(p) => {
            let bytes = crate::io::bounded_read::read_regular_file(p, MAX_INPUT_BYTES as u64)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            TrustRoot::parse(&p.display().to_string(), &bytes)
                .with_context(|| format!("reading the trusted root {}", p.display()))?
        }
        None => TrustRoot::production(),
    };
    let mut query = KeylessQuery::new(IdentityPattern::parse(pattern)?, root);
    query.issuer = k.issuer.clone();
    if let Some(w) = &args.window {
        query.window = Some(TimeWindow::parse(w)?);
    }
    if let Some(f) = &k.expected_signers {
        query.expected_signers = Some(ExpectedSigners::read(f)?);
    }
    let mut failed: Option<anyhow::Error> = None;
    if args.json {
        out.write_all(b"{\n  \"query\": ")?;
        write_indented(out, &serde_json::to_vec_pretty(&query)?, "  ", false)?;
        out.write_all(b",\n  \"records\": [")?;
    } else if !global.quiet {
        say_to!(out, "{}", describe_query(&query))?;
    }
    let mut count = 0usize;
    let totals = keyless::scope_keyless_each(&args.inputs, &query, |r| {
        if failed.is_some() {
            return;
        }
        let mut each = || -> anyhow::Result<()> {
            if let (false, Some(e)) = (global.quiet, &r.error) {
                say_err!("wsc-forensics: {}: {e}", r.path.display());
            }
            if args.json {
                out.write_all(if count == 0 { b"\n" } else { b",\n" })?;
                write_indented(out, &serde_json::to_vec_pretty(&r)?, "    ", true)?;
            } else if r.identity_matches || r.matches || r.error.is_some() || global.verbose > 0 {
                for line in rows(&r) {
                    say_to!(out, "{line}")?;
                }
            }
            count += 1;
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
    let s = &totals.summary;
    if args.json {
        out.write_all(if count == 0 { b"],\n" } else { b"\n  ],\n" })?;
        out.write_all(b"  \"summary\": ")?;
        write_indented(out, &serde_json::to_vec_pretty(s)?, "  ", false)?;
        out.write_all(b",\n  \"skipped\": ")?;
        write_indented(
            out,
            &serde_json::to_vec_pretty(&totals.skipped)?,
            "  ",
            false,
        )?;
        out.write_all(b"\n}\n")?;
    } else if !global.quiet {
        say_to!(
            out,
            "{} records ({} keyless modules, {} Sigstore bundles, {} Rekor entries): {} signed by \
             a matching identity, {} answer the question; {} in window, {} outside, {} window \
             unknown; {} with a verified signing time, {} failing transparency checks, {} \
             unexpected signers, {} errors; {} other modules, {} other files",
            s.records,
            s.keyless_modules,
            s.sigstore_bundles,
            s.rekor_entries,
            s.identity_matches,
            s.matches,
            s.in_window,
            s.outside_window,
            s.window_unknown,
            s.time_verified,
            s.verdict_failed,
            s.unexpected_signers,
            s.errors,
            s.other_modules,
            s.other_files
        )?;
    }
    Ok(if totals.any_match() {
        Status::EvidenceProblem
    } else if totals.has_input_errors() {
        Status::InputError
    } else {
        Status::Ok
    })
}

fn describe_query(q: &KeylessQuery) -> String {
    let mut s = format!(
        "identity {} ({})",
        q.identity.pattern,
        match q.identity.kind {
            keyless::PatternKind::Exact => "exact",
            keyless::PatternKind::Glob => "glob",
        }
    );
    if let Some(i) = &q.issuer {
        s.push_str(&format!("  issuer {i}"));
    }
    if let Some(w) = &q.window {
        let end = |t: Option<chrono::DateTime<chrono::Utc>>| {
            t.map(crate::transparency::time_text::rfc3339)
                .unwrap_or_default()
        };
        s.push_str(&format!(
            "  window {}..{} (end excluded)",
            end(w.from),
            end(w.to)
        ));
    }
    if let Some(l) = &q.expected_signers {
        s.push_str(&format!(
            "  expected signers {} ({})",
            l.file,
            l.signers.len()
        ));
    }
    s.push_str(&format!("  trust root {}", q.trust_root));
    s
}

/// The record's line, then one line per finding.
fn rows(r: &KeylessRecord) -> Vec<String> {
    let status = match (&r.error, r.window) {
        (Some(_), _) => "error",
        (None, Some(w)) => w.as_str(),
        (None, None) if r.identity_matches => "signer-match",
        (None, None) => "other-signer",
    };
    let path = match &r.origin {
        ModuleOrigin::File => r.path.display().to_string(),
        ModuleOrigin::Bundle { bundle, bag_path } => {
            format!("{} ({bundle}:{bag_path})", r.path.display())
        }
    };
    let kind = r.kind.map_or("not known", |k| k.as_str());
    let mut line = format!("{status:<15} {kind:<18} {path}");
    if let Some(e) = &r.error {
        line.push_str(&format!("  {e}"));
        return vec![line];
    }
    let nr = "not recorded";
    line.push_str(&format!(
        "  identity {} issuer {}",
        r.identity.as_deref().unwrap_or(nr),
        r.issuer.as_deref().unwrap_or(nr)
    ));
    line.push_str(&match &r.signing_time {
        Some(t) if t.verified => format!(
            "; signed {} ({})",
            crate::transparency::time_text::rfc3339(t.at),
            t.source
        ),
        Some(t) => format!(
            "; time unverified (states {}; {})",
            crate::transparency::time_text::rfc3339(t.at),
            t.source
        ),
        None => "; signing time not recorded".to_owned(),
    });
    let failing: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.outcome.is_fail() || (c.required && !c.outcome.is_pass()))
        .map(|c| c.id.as_str())
        .collect();
    line.push_str(&match r.verdict {
        Some(Verdict::AllRequiredPassed) => "; transparency checks: all required passed".to_owned(),
        _ => format!("; transparency checks FAILED: {}", failing.join(", ")),
    });
    if r.expected == Some(true) {
        line.push_str("; expected signer");
    }
    let mut lines = vec![line];
    for f in &r.findings {
        lines.push(format!("  {} {}: {}", f.severity, f.code, f.message));
    }
    lines
}
