//! `inspect FILE... [-K KEY]... [-S SIG] [--json]`: what the tool sees in modules, detached
//! signatures and key files, with per-signature verdicts and findings; the forensic `wsc info`.

use super::inspect_transparency::{self as tlog, TransparencyArgs, TransparencyContext};
use super::{GlobalArgs, Status};
use crate::analyse::{self, AnalysisContext, Detail};
use crate::cli::terminal::say_err;
use crate::io::bounded_read::read_regular_file;
use crate::io::hashing::HashingReader;
use crate::keys::{self, KeyFileReport, PublicKey};
use crate::model::analysis::Analysis;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{FileStat, Finding, ItemKind, Severity};
use crate::source::kind;
use crate::source::secret::{self, ScanningReader, SecretFormat, SecretScanner};
use crate::transparency::{self, TransparencyReport, Verification};
use crate::wasm::signature_section::SignatureData;
use crate::wasm::verdict::{HashCoverage, InvalidReason, Verdict};
use crate::wasm::{self, detached, ModuleReport, SignatureAnalysis, SignatureSource};
use anyhow::Context;
use clap::Args;
use schemars::JsonSchema;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Modules (core or component), detached `.sig` files, key files, or other evidence files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Public key to judge signatures with (raw wsc .pub, SPKI PEM/DER, OpenSSH ssh-ed25519;
    /// the public half of a secret key file also works). Repeatable.
    #[arg(short = 'K', long = "public-key", value_name = "KEY")]
    pub keys: Vec<PathBuf>,
    /// Detached signature for the module(s) (wsc's `-S`). Without it, `MODULE.sig` and
    /// `<stem>.sig` next to each module are used when present.
    #[arg(short = 'S', long = "signature", value_name = "SIG")]
    pub signature: Option<PathBuf>,
    /// One JSON document per input (a JSON array when several inputs are given).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub transparency: TransparencyArgs,
}

/// The `--json` document of `inspect` (schema: docs/schema/inspect.schema.json): one input's
/// document, or an array of them when several inputs were given.
#[derive(Serialize, JsonSchema, Debug)]
#[serde(untagged)]
pub enum InspectDocument {
    One(Box<InspectOutput>),
    Many(Vec<InspectOutput>),
}

/// The `--json` document for one input.
#[derive(Serialize, JsonSchema, Debug)]
pub struct InspectOutput {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    /// The one-line error when the input could not be read or decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<ModuleReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyFileReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detached_signature: Option<SignatureData>,
    /// Rekor entry, Sigstore bundle, trust root or signature+certificate pair: every check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transparency: Option<TransparencyReport>,
    /// For a wsc keyless module: the module-hash, signature, chain, SET, proof and binding checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless_checks: Option<KeylessChecks>,
    /// Every finding about this input (module, key or signature), worst first.
    pub findings: Vec<Finding>,
    /// Exit status this input alone would give: 0, 1 or 2.
    pub status: u8,
}

/// The transparency checks of a wsc keyless module and the trust root they used.
#[derive(Serialize, JsonSchema, Debug)]
pub struct KeylessChecks {
    pub trust_root: String,
    #[serde(flatten)]
    pub verification: Verification,
}

/// Inputs inspected but not yet printed, at most (the ordered pipeline's budget, one per input).
const IN_FLIGHT: u64 = 64;

pub fn run(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<Status> {
    let keys = load_keys(&args.keys)?;
    let ctx = TransparencyContext::from_args(&args.transparency)?;
    let signature = args.signature.as_deref();
    let mut printer = Printer {
        json: args.json,
        with_keys: !keys.is_empty(),
        worst: Status::Ok,
        docs: Vec::new(),
        consumed: std::collections::BTreeSet::new(),
    };
    // The inputs are inspected in parallel and printed in input order by this thread, exactly as
    // one after the other: `inspect_one_with` only adds to the set it is given (the files it paired
    // with its input), so each result is the same whatever ran before it, and the printer drops an
    // input that an earlier one consumed (or a repeat) as the sequential loop skipped it.
    crate::io::pipeline::run_ordered(
        args.files.iter().collect(),
        rayon::current_num_threads(),
        IN_FLIGHT,
        |_: &&PathBuf| 1,
        |path: &PathBuf| {
            let mut paired = std::collections::BTreeSet::new();
            let out = inspect_one_with(path, &keys, signature, &ctx, &mut paired);
            (path, out, paired)
        },
        |batch| {
            batch
                .into_iter()
                .for_each(|(path, out, paired)| printer.take(path, out, paired));
            Ok::<(), anyhow::Error>(())
        },
    )?;
    if args.json {
        let mut docs = printer.docs;
        let doc = if docs.len() == 1 {
            InspectDocument::One(Box::new(docs.remove(0)))
        } else {
            InspectDocument::Many(docs)
        };
        let text = serde_json::to_string_pretty(&doc)?;
        println!("{text}");
    }
    let _ = global;
    Ok(printer.worst)
}

/// What `run` prints, in input order, and the exit status so far.
struct Printer {
    json: bool,
    with_keys: bool,
    worst: Status,
    docs: Vec<InspectOutput>,
    /// Inputs printed or paired with one printed: skipped when met again.
    consumed: std::collections::BTreeSet<PathBuf>,
}

impl Printer {
    fn take(
        &mut self,
        path: &Path,
        out: InspectOutput,
        paired: std::collections::BTreeSet<PathBuf>,
    ) {
        if !self.consumed.insert(path.to_path_buf()) {
            return;
        }
        self.consumed.extend(paired);
        let status = match out.status {
            0 => Status::Ok,
            1 => Status::EvidenceProblem,
            _ => Status::InputError,
        };
        self.worst = self.worst.max(status);
        if let Some(e) = &out.error {
            say_err!(
                "wsc-forensics: {}",
                crate::cli::terminal::escape_for_terminal(e)
            );
        }
        if self.json {
            self.docs.push(out);
        } else if out.error.is_none() || out.module.is_some() {
            print!(
                "{}",
                crate::cli::terminal::escape_lines(&render_human(&out, self.with_keys))
            );
        }
    }
}

/// Reads every `-K` key; a key that cannot be used is a usage error for the whole command.
pub fn load_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|p| {
            let r = keys::inspect_key_path(p).with_context(|| "reading -K key".to_string())?;
            r.key.public_key.with_context(|| {
                format!(
                    "{}: {} key holds no Ed25519 public key to verify with",
                    p.display(),
                    r.key.algorithm
                )
            })
        })
        .collect()
}

/// Inspects one file against the bundled Sigstore production root; never fails (errors land in
/// the output and its status).
pub fn inspect_one(path: &Path, keys: &[PublicKey], signature: Option<&Path>) -> InspectOutput {
    let ctx = TransparencyContext::production();
    inspect_one_with(path, keys, signature, &ctx, &mut Default::default())
}

/// True for what the transparency checks judge: Rekor entries, Sigstore bundles, trust roots,
/// certificates, and a `.sig` that is a Sigstore detached signature (its certificate beside it).
fn is_transparency_input(path: &Path, kind: ItemKind) -> bool {
    match kind {
        ItemKind::RekorEntry
        | ItemKind::SigstoreBundle
        | ItemKind::TrustRoot
        | ItemKind::Certificate => true,
        ItemKind::DetachedSignature => ["crt", "pem"]
            .iter()
            .any(|e| path.with_extension(e).is_file()),
        _ => false,
    }
}

/// As [`inspect_one`], with the transparency context of `--trusted-root` etc.; a certificate or
/// signature paired with `path` is added to `consumed` so it is not inspected twice.
pub fn inspect_one_with(
    path: &Path,
    keys: &[PublicKey],
    signature: Option<&Path>,
    ctx: &TransparencyContext,
    consumed: &mut std::collections::BTreeSet<PathBuf>,
) -> InspectOutput {
    let name = path.display().to_string();
    let mut out = InspectOutput {
        path: name.clone(),
        kind: None,
        size: None,
        sha256: None,
        error: None,
        module: None,
        key: None,
        detached_signature: None,
        transparency: None,
        keyless_checks: None,
        findings: Vec::new(),
        status: 2,
    };
    let (file, head) = match read_head(path) {
        Ok(h) => h,
        Err(e) => {
            out.error = Some(format!("{name}: cannot read: {e}"));
            return out;
        }
    };
    let k = kind_of(path, &head);
    out.kind = Some(k);
    if is_transparency_input(path, k) {
        inspect_transparency(&mut out, path, ctx, consumed);
        return out;
    }
    let analysis = Arc::new(AnalysisContext {
        keys: keys.to_vec(),
        trust_root: ctx.root.clone(),
        policy: ctx.policy.clone(),
        detached_signature: signature.map(Path::to_path_buf),
        module_file_sha256: true,
    });
    analyse_into(&mut out, path, file, head, k, &analysis);
    if out.kind == Some(ItemKind::Attachment) && out.error.is_none() {
        out.error = Some(unrecognised(path));
    }
    out.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out.status = if out.error.is_some() {
        2
    } else if !keys.is_empty() && out.module.is_some() {
        if out
            .module
            .as_ref()
            .is_some_and(ModuleReport::has_valid_signature)
        {
            0
        } else {
            1
        }
    } else if out.findings.iter().any(|f| f.severity >= Severity::High) {
        1
    } else {
        0
    };
    out
}

/// What `inspect` says of a file it has no analyser for (exit 2: nothing about it could be
/// checked): an evidence bundle is named, with the command that reads it.
fn unrecognised(path: &Path) -> String {
    let name = path.display();
    if crate::bundle::BundleReader::open(path).is_ok() {
        format!("{name}: an evidence bundle (BagIt bag in a zip): use `wsc-forensics verify`, then `timeline` or `report`")
    } else {
        format!(
            "{name}: not recognised: not a module, signature, key, certificate, log entry, \
             Sigstore bundle, trust root, audit log or case file"
        )
    }
}

/// The kind `inspect` analyses a file as: [`kind::classify`], except that a `.wasm` that does
/// not look like one is still judged as a module, so the scanner says exactly what is wrong
/// with it (and `-K` never exits 0 for it).
fn kind_of(path: &Path, head: &[u8]) -> ItemKind {
    let k = kind::classify(path, head);
    let wasm_name = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wasm"));
    if wasm_name {
        return ItemKind::Module;
    }
    k
}

/// Runs the analyser `collect` would run on the file (the head already read first, then the
/// same handle: one read per byte) and fills the output from its report.
fn analyse_into(
    out: &mut InspectOutput,
    path: &Path,
    file: std::fs::File,
    head: Vec<u8>,
    k: ItemKind,
    ctx: &Arc<AnalysisContext>,
) {
    let name = out.path.clone();
    let stat = match std::fs::symlink_metadata(path) {
        Ok(md) => {
            let mut st = FileStat::of_metadata(&md);
            st.owner = keys::owner_name(st.uid);
            st
        }
        Err(e) => {
            out.error = Some(format!("{name}: cannot read: {e}"));
            return;
        }
    };
    let analyser = analyse::analyser_for(k, path, Some(&stat), ctx);
    let mut reader = ScanningReader {
        inner: HashingReader::new(std::io::Cursor::new(head).chain(file)),
        scanner: SecretScanner::new(),
    };
    let outcome = match analyse::analyse_reader(analyser, &mut reader) {
        Ok(o) => o,
        Err(e) => {
            out.error = Some(format!("{name}: cannot read: {e}"));
            return;
        }
    };
    let (sha256, size) = reader.inner.finish();
    // Secret material past the head: said, and the file's hash withheld, as for any secret key.
    if let (Some(format), false) = (reader.scanner.finish(), k == ItemKind::SecretKey) {
        mark_secret(out, size, format);
        return;
    }
    match outcome.detail {
        Detail::Module {
            report,
            keyless,
            detached_error,
        } => {
            if let Some(e) = detached_error {
                out.error = Some(e);
                return;
            }
            out.size = Some(report.scan.file_len);
            out.sha256 = report.scan.file_sha256;
            if let Some(e) = &report.scan.error {
                out.error = Some(format!("{name}: {e}"));
            }
            out.keyless_checks = keyless.map(|verification| KeylessChecks {
                trust_root: ctx.trust_root.origin.clone(),
                verification: *verification,
            });
            out.findings = report.findings.clone();
            out.module = Some(*report);
        }
        Detail::Key(key) => {
            out.size = Some(stat.size);
            // A secret key's hash would fingerprint its secret part: never computed.
            if !key.is_secret {
                out.sha256 = Some(sha256);
            }
            out.findings = outcome.findings;
            let findings = keys::permission_findings(&key, &stat);
            out.key = Some(KeyFileReport {
                key: *key,
                stat,
                findings,
            });
        }
        Detail::DetachedSignature(decoded) => {
            if size <= detached::MAX_DETACHED_LEN {
                out.size = Some(size);
                out.sha256 = Some(sha256);
            }
            match decoded {
                Ok(d) => out.detached_signature = Some(*d),
                Err(e) => out.error = Some(e),
            }
        }
        Detail::Transparency(_) | Detail::None => {
            if let (ItemKind::PublicKey | ItemKind::SecretKey, Analysis::Key(a)) =
                (k, &outcome.analysis)
            {
                out.error = a.error.clone();
                return;
            }
            out.size = Some(size);
            out.sha256 = Some(sha256);
            out.findings = outcome.findings;
        }
    }
}

/// A file found to hold secret key material past its first bytes: said, and its hash withheld
/// (it would fingerprint the secret), as for any secret key file; nothing else is analysed.
fn mark_secret(out: &mut InspectOutput, size: u64, format: SecretFormat) {
    out.kind = Some(ItemKind::SecretKey);
    out.size = Some(size);
    out.sha256 = None;
    out.findings.push(Finding::new(
        "secret-key-material",
        Severity::Low,
        Some(crate::model::evidence::IncidentType::KeyCompromise),
        format!("holds secret key material ({format}) past its first bytes"),
    ));
}

/// Runs the transparency checks on a Rekor entry, Sigstore bundle, trust root or signature pair.
fn inspect_transparency(
    out: &mut InspectOutput,
    path: &Path,
    ctx: &TransparencyContext,
    consumed: &mut std::collections::BTreeSet<PathBuf>,
) {
    let Some(input) = tlog::plan_inputs(&[path.to_path_buf()]).into_iter().next() else {
        out.error = Some(format!("{}: nothing to check", out.path));
        return;
    };
    if let tlog::Input::Pair { sig, cert } = &input {
        consumed.insert(sig.clone());
        consumed.insert(cert.clone());
    }
    // The whole file (bounded) is searched for secret material, not only the head the kind
    // was sniffed from: a certificate file can hold a private key further down.
    match read_regular_file(path, transparency::MAX_INPUT_BYTES as u64) {
        Ok(b) => {
            if let Some(format) = secret::detect(&b) {
                mark_secret(out, b.len() as u64, format);
                out.status = 0;
                return;
            }
            out.size = Some(b.len() as u64);
            out.sha256 = Some(Sha256Digest::of(&b));
        }
        Err(_) => out.size = std::fs::metadata(path).ok().map(|m| m.len()),
    }
    match ctx.analyse(&input) {
        Ok(r) => {
            out.findings = r.verification.findings.clone();
            out.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
            out.status = if r.verdict == transparency::Verdict::Failed {
                1
            } else {
                0
            };
            out.transparency = Some(r);
        }
        Err(e) => {
            out.error = Some(format!("{e:#}"));
            out.status = 2;
        }
    }
}

/// Opens a regular file (symlinks given explicitly are followed; FIFOs, devices and directories
/// are refused so nothing blocks) and reads its first [`kind::SNIFF_LEN`] bytes.
fn read_head(path: &Path) -> std::io::Result<(std::fs::File, Vec<u8>)> {
    let md = std::fs::metadata(path)?;
    if !md.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut file = std::fs::File::open(path)?;
    let mut head = Vec::new();
    (&mut file)
        .take(kind::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    Ok((file, head))
}

fn range(r: &std::ops::Range<u64>) -> String {
    format!("{}..{}", r.start, r.end)
}

/// The human form: short and exact.
pub fn render_human(out: &InspectOutput, with_keys: bool) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let kind = out
        .kind
        .and_then(|k| serde_json::to_value(k).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = write!(s, "{}: {kind}", out.path);
    if let Some(n) = out.size {
        let _ = write!(s, ", {n} bytes");
    }
    if let Some(d) = &out.sha256 {
        let _ = write!(s, ", sha256 {d}");
    }
    s.push('\n');
    if let Some(m) = &out.module {
        let header = m.scan.header;
        let _ = writeln!(
            s,
            "  header: {}",
            match header {
                Some(wasm::scanner::HeaderKind::CoreModule) => "core module",
                Some(wasm::scanner::HeaderKind::Component) => "component",
                None => "none",
            }
        );
        let _ = writeln!(
            s,
            "  sections ({}{}):",
            m.scan.section_count,
            if m.scan.section_count > m.scan.sections.len() {
                format!(", first {} listed", m.scan.sections.len())
            } else {
                String::new()
            }
        );
        for sec in &m.scan.sections {
            let _ = writeln!(
                s,
                "    #{:<3} {:<34} {:>12}  payload {}",
                sec.index,
                sec.describe(header),
                range(&sec.range),
                range(&sec.payload)
            );
        }
        if let Some(e) = &m.scan.error {
            let _ = writeln!(s, "  decoding stopped: {e}");
        }
        render_signature(&mut s, m, with_keys);
    }
    let mut tlog_text = Vec::new();
    if let Some(k) = &out.keyless_checks {
        let _ = writeln!(s, "  keyless checks (trust root: {}):", k.trust_root);
        let _ = tlog::write_verification(&mut tlog_text, &k.verification);
    }
    if let Some(r) = &out.transparency {
        let _ = tlog::write_human(&mut tlog_text, r);
    }
    s.push_str(&String::from_utf8_lossy(&tlog_text));
    if let Some(k) = &out.key {
        let kf = &k.key;
        let _ = writeln!(
            s,
            "  format: {}{}",
            kf.format,
            if kf.is_secret {
                " (SECRET key: key material not shown)"
            } else {
                ""
            }
        );
        let _ = writeln!(s, "  algorithm: {}", kf.algorithm);
        if let Some(pk) = &kf.public_key {
            let _ = writeln!(s, "  public key: {}", pk.to_hex());
        }
        if let Some(id) = &kf.wsc_key_id {
            let _ = writeln!(s, "  wsc key id: {id}");
        }
        if let Some(f) = &kf.fingerprint_sha256 {
            let _ = writeln!(s, "  fingerprint: SHA256:{f}");
        }
        if let Some(b) = &kf.bundle_key_id {
            let _ = writeln!(s, "  trust-bundle key id: {b}");
        }
        if let Some(c) = &kf.ssh_comment {
            let _ = writeln!(s, "  comment: {c}");
        }
        if let Some(e) = kf.encrypted {
            let _ = writeln!(s, "  encrypted: {}", if e { "yes" } else { "no" });
        }
        let st = &k.stat;
        let _ = writeln!(
            s,
            "  owner: {} (uid {}), gid {}, mode {:04o}",
            st.owner.as_deref().unwrap_or("?"),
            st.uid,
            st.gid,
            st.permissions()
        );
        let _ = writeln!(
            s,
            "  mtime {}  ctime {}  atime {}",
            st.mtime.to_rfc3339(),
            st.ctime.to_rfc3339(),
            st.atime.to_rfc3339()
        );
    }
    if let Some(d) = &out.detached_signature {
        let _ = writeln!(s, "  detached signature (offsets in this file):");
        render_signature_data(&mut s, d, &[]);
    }
    if !out.findings.is_empty() {
        let _ = writeln!(s, "  findings:");
        for f in &out.findings {
            let _ = writeln!(
                s,
                "    [{} {}] {}: {}",
                f.severity,
                f.incident_type.map(|t| t.code()).unwrap_or("-"),
                f.code,
                f.message
            );
        }
    }
    s
}

fn render_signature(s: &mut String, m: &ModuleReport, with_keys: bool) {
    use std::fmt::Write;
    match &m.signature {
        SignatureAnalysis::Unsigned => {
            if m.scan.error.is_none() {
                let _ = writeln!(s, "  signature: none");
            }
        }
        SignatureAnalysis::Undecodable { source, error } => {
            let _ = writeln!(
                s,
                "  signature ({}): undecodable: {error}",
                source_name(source)
            );
        }
        SignatureAnalysis::KeyBased {
            source,
            data,
            verdicts,
        } => {
            let _ = writeln!(
                s,
                "  signature ({}), key-based; hashes cover {}..{}{}:",
                source_name(source),
                m.scan.covered_start,
                m.scan.file_len,
                if with_keys {
                    ""
                } else {
                    " (no -K key: signatures unverified)"
                }
            );
            render_signature_data(s, data, verdicts);
        }
        SignatureAnalysis::Keyless(k) => {
            let _ = writeln!(s, "  signature: keyless (Sigstore)");
            let _ = writeln!(
                s,
                "    signature: {} bytes, {} certificate(s)",
                k.signature.len(),
                k.certificate_count
            );
            if let Some(l) = &k.leaf {
                let _ = writeln!(
                    s,
                    "    leaf subject: {}",
                    if l.subject.is_empty() {
                        "(empty)"
                    } else {
                        &l.subject
                    }
                );
                let _ = writeln!(s, "    leaf issuer: {}", l.issuer);
                let _ = writeln!(
                    s,
                    "    identity (SAN): {}",
                    l.san_identity.as_deref().unwrap_or("-")
                );
                let _ = writeln!(
                    s,
                    "    OIDC issuer (Fulcio ext.): {}",
                    l.oidc_issuer.as_deref().unwrap_or("-")
                );
                let _ = writeln!(
                    s,
                    "    validity: {} .. {}",
                    l.not_before.to_rfc3339(),
                    l.not_after.to_rfc3339()
                );
                let _ = writeln!(s, "    key: {}", l.key_algorithm);
            }
            if let Some(e) = &k.leaf_error {
                let _ = writeln!(s, "    leaf certificate unreadable: {e}");
            }
            let r = &k.rekor;
            let _ = writeln!(
                s,
                "    rekor: uuid {}, log index {}, integrated {}, body kind {}, claimed hash {}",
                r.uuid.as_deref().unwrap_or("-"),
                r.log_index.map(|i| i.to_string()).unwrap_or("-".into()),
                r.integrated_time.as_deref().unwrap_or("-"),
                r.body_kind.as_deref().unwrap_or("-"),
                r.claimed_hash.as_deref().unwrap_or("-")
            );
            let _ = writeln!(
                s,
                "    module hash: embedded {} / recomputed {} ({})",
                hex::encode(&k.embedded_module_hash),
                k.recomputed_module_hash
                    .map(|h| h.to_hex())
                    .unwrap_or("-".into()),
                if k.module_hash_matches {
                    "match"
                } else {
                    "MISMATCH"
                }
            );
            let _ = writeln!(
                s,
                "    rekor entry bound to this module: {}",
                if k.rekor_bound_to_module { "yes" } else { "NO" }
            );
            let _ = writeln!(s, "    note: {}", k.note);
        }
    }
}

fn source_name(s: &SignatureSource) -> String {
    match s {
        SignatureSource::Embedded => "embedded, section #0".into(),
        SignatureSource::Detached { path } => format!("detached {path}"),
    }
}

fn render_signature_data(
    s: &mut String,
    d: &SignatureData,
    verdicts: &[wasm::verdict::SignatureVerdict],
) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "    data {}: spec version 0x{:02x}, content type 0x{:02x}, hash function 0x{:02x}{}, {} set(s)",
        range(&d.range),
        d.spec_version,
        d.content_type,
        d.hash_function,
        if d.hash_function == 1 { " (SHA-256)" } else { " (unsupported)" },
        d.sets.len()
    );
    for set in &d.sets {
        let _ = writeln!(
            s,
            "    set {} at {}: {} hash(es), {} signature(s)",
            set.index,
            range(&set.range),
            set.hashes.len(),
            set.signatures.len()
        );
        for (i, h) in set.hashes.iter().enumerate() {
            let _ = writeln!(s, "      hash {i}: {}", hex::encode(h.0));
        }
        for sig in &set.signatures {
            let _ = writeln!(
                s,
                "      signature {} at {}: key id {}, alg 0x{:02x}, {} bytes {}, {} certificate(s)",
                sig.index,
                range(&sig.range),
                sig.key_id
                    .as_ref()
                    .map(hex::encode)
                    .unwrap_or_else(|| "none".into()),
                sig.alg_id,
                sig.signature.len(),
                hex::encode(&sig.signature),
                sig.certificates.len()
            );
            if let Some(v) = verdicts
                .iter()
                .find(|v| v.set_index == set.index && v.signature_index == sig.index)
            {
                let _ = writeln!(s, "        verdict: {}", verdict_line(&v.verdict));
            }
        }
        for dr in &set.dropped {
            let _ = writeln!(
                s,
                "      element {} at {}: DROPPED by wsc: {}",
                dr.index,
                range(&dr.range),
                dr.reason
            );
        }
    }
}

fn uncovered_list(list: &[wasm::verdict::UncoveredSection]) -> String {
    list.iter()
        .map(|u| match &u.name {
            Some(n) => format!("#{} [{}] {}", u.index, n, range(&u.range)),
            None => format!("#{} id {} {}", u.index, u.id, range(&u.range)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict_line(v: &Verdict) -> String {
    match v {
        Verdict::Valid { key, covered } => {
            format!(
                "valid (key {key}), covers {}: every byte after the signature",
                range(covered)
            )
        }
        Verdict::Partial {
            key,
            covered,
            uncovered,
            ..
        } if uncovered.is_empty() => format!(
            "partial (key {key}), covers {}, but the signed content went on: sections signed after it are missing",
            range(covered)
        ),
        Verdict::Partial {
            key,
            covered,
            at_delimiter,
            uncovered,
        } => format!(
            "partial (key {key}), covers {} only{}; not covered: {}",
            range(covered),
            if *at_delimiter {
                " (up to a signature_delimiter)"
            } else {
                " (sections appended after signing)"
            },
            uncovered_list(uncovered)
        ),
        Verdict::Invalid { key, reason } => match reason {
            InvalidReason::SignedBytesChanged => {
                format!("invalid (key {key}): made by this key, but the signed bytes changed")
            }
            InvalidReason::SignatureDoesNotVerify => {
                format!("invalid (key {key}): carries this key's id but does not verify")
            }
        },
        Verdict::OtherKey => "other-key: not made by any given key".into(),
        Verdict::Unsupported { reason } => format!("unsupported: {reason:?}"),
        Verdict::Unverified { coverage } => match coverage {
            HashCoverage::Full { covered } => format!(
                "unverified (no key); a stored hash matches all bytes {}",
                range(covered)
            ),
            HashCoverage::Prefix {
                covered, uncovered, ..
            } if uncovered.is_empty() => format!(
                "unverified (no key); a stored running hash matches {}, but the signed content went on: sections signed after it are missing",
                range(covered)
            ),
            HashCoverage::Prefix {
                covered, uncovered, ..
            } => format!(
                "unverified (no key); a stored hash matches {} only; not covered: {}",
                range(covered),
                uncovered_list(uncovered)
            ),
            HashCoverage::None => {
                "unverified (no key); no stored hash matches the current bytes".into()
            }
        },
    }
}
