//! `inspect` on transparency evidence (Rekor entries, Sigstore bundles, trust roots, detached
//! signature + certificate pairs): the per-check table or `--json`, and the exit contract
//! 0 = every required check passed (docs/sigstore.md lists them per input kind), 1 = a check
//! failed or a required one could not be made (named), 2 = an input could not be read.

use super::Status;
use crate::io::bounded_read::read_regular_file;
use crate::io::hashing::sha256_stream;
use crate::transparency::{
    analyse_signature_pair, analyse_transparency_file, Artifact, IdentityPolicy,
    TransparencyReport, TrustRoot, Verdict, Verification, MAX_INPUT_BYTES,
};
use anyhow::Context as _;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Options of `inspect` that concern transparency evidence.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TransparencyArgs {
    /// Sigstore trusted_root.json to judge against (default: the bundled Sigstore production root).
    #[arg(long, value_name = "ROOT.json")]
    pub trusted_root: Option<PathBuf>,
    /// The signed artifact, to bind the entry or bundle to it: a file, or `sha256:<hex>` of it
    /// (write `./sha256:…` for a file of that name).
    #[arg(long, value_name = "FILE|sha256:HEX", value_parser = parse_artifact)]
    pub artifact: Option<ArtifactArg>,
    /// The signer's public key (PEM SubjectPublicKeyInfo: ECDSA P-256/P-384 or Ed25519), for
    /// evidence signed by a managed key; identity flags cannot apply to such evidence.
    #[arg(long, value_name = "KEY.pem")]
    pub key: Option<PathBuf>,
    /// Expected certificate identity (SAN), exact match.
    #[arg(long, value_name = "IDENTITY")]
    pub cert_identity: Option<String>,
    /// Expected OIDC issuer (Fulcio issuer extension), exact match.
    #[arg(long, value_name = "URL")]
    pub cert_oidc_issuer: Option<String>,
}

/// `--artifact`: a path, or the artifact's SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArtifactArg {
    Path(PathBuf),
    Sha256([u8; 32]),
}

fn parse_artifact(s: &str) -> Result<ArtifactArg, String> {
    let Some(hex_digest) = s.strip_prefix("sha256:") else {
        return Ok(ArtifactArg::Path(PathBuf::from(s)));
    };
    let bytes = hex::decode(hex_digest).map_err(|e| format!("sha256:<hex>: {e}"))?;
    let digest: [u8; 32] = bytes
        .try_into()
        .map_err(|_| "sha256:<hex> needs 64 hex digits".to_owned())?;
    Ok(ArtifactArg::Sha256(digest))
}

/// Largest `--key` file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads `--key`: one PEM `PUBLIC KEY` block of a key the checks can use.
fn load_key(p: &Path) -> anyhow::Result<Vec<u8>> {
    use crate::transparency::certificate::{read_signer_material, SignerMaterial};
    let bytes = read_regular_file(p, MAX_KEY_FILE)
        .with_context(|| format!("{}: cannot read the key", p.display()))?;
    let spki = match read_signer_material(&bytes) {
        Ok(SignerMaterial::PublicKey(k)) => k,
        Ok(SignerMaterial::Certificates(_)) => {
            anyhow::bail!("{}: a certificate, not a public key", p.display())
        }
        Err(e) => anyhow::bail!("{}: not a PEM public key: {e}", p.display()),
    };
    crate::transparency::public_key::PublicKey::from_spki_der(&spki).map_err(|e| {
        anyhow::anyhow!(
            "{}: not an ECDSA P-256/P-384 or Ed25519 public key: {e}",
            p.display()
        )
    })?;
    Ok(spki)
}

/// Artifacts up to this size are kept in memory (Ed25519 signatures need the bytes); larger ones
/// are only hashed, streaming.
const ARTIFACT_IN_MEMORY: u64 = 32 * 1024 * 1024;

/// `--json` output: one object for the whole run.
#[derive(Serialize)]
struct JsonOutput<'a> {
    trust_root: &'a str,
    reports: &'a [TransparencyReport],
    errors: &'a [InputErrorReport],
}

#[derive(Serialize)]
struct InputErrorReport {
    file: String,
    error: String,
}

/// The trust root, identity policy and artifact that every transparency input is judged with.
pub struct TransparencyContext {
    pub root: TrustRoot,
    pub policy: IdentityPolicy,
    artifact: Option<LoadedArtifact>,
}

impl TransparencyContext {
    /// Loads `--trusted-root` (default: the bundled production root) and `--artifact`.
    pub fn from_args(args: &TransparencyArgs) -> anyhow::Result<Self> {
        let root = match &args.trusted_root {
            Some(p) => {
                let bytes = read_bounded(p)?;
                TrustRoot::parse(&p.display().to_string(), &bytes)
                    .with_context(|| format!("reading the trusted root {}", p.display()))?
            }
            None => TrustRoot::production(),
        };
        let policy = IdentityPolicy {
            identity: args.cert_identity.clone(),
            oidc_issuer: args.cert_oidc_issuer.clone(),
            key: args.key.as_deref().map(load_key).transpose()?,
        };
        let artifact = match &args.artifact {
            Some(ArtifactArg::Path(p)) => Some(load_artifact(p)?),
            Some(ArtifactArg::Sha256(d)) => Some(LoadedArtifact::Digest(*d)),
            None => None,
        };
        Ok(TransparencyContext {
            root,
            policy,
            artifact,
        })
    }

    /// The bundled Sigstore production root, no identity policy, no artifact.
    pub fn production() -> Self {
        TransparencyContext {
            root: TrustRoot::production(),
            policy: IdentityPolicy::default(),
            artifact: None,
        }
    }

    fn artifact(&self) -> Option<Artifact<'_>> {
        self.artifact.as_ref().map(|a| match a {
            LoadedArtifact::Bytes(b) => Artifact::Bytes(b),
            LoadedArtifact::Digest(d) => Artifact::Sha256(*d),
        })
    }

    /// Runs every check on one planned input.
    pub fn analyse(&self, input: &Input) -> anyhow::Result<TransparencyReport> {
        match input {
            Input::File(p) => {
                let b = read_bounded(p)?;
                Ok(analyse_transparency_file(
                    &p.display().to_string(),
                    &b,
                    self.artifact(),
                    &self.root,
                    &self.policy,
                )?)
            }
            Input::Pair { sig, cert } => {
                let s = read_bounded(sig)?;
                let c = read_bounded(cert)?;
                Ok(analyse_signature_pair(
                    &sig.display().to_string(),
                    &s,
                    &cert.display().to_string(),
                    &c,
                    self.artifact(),
                    &self.root,
                    &self.policy,
                )?)
            }
            Input::Unpaired { path, problem } => {
                Err(anyhow::anyhow!("{}: {problem}", path.display()))
            }
        }
    }
}

/// Runs the transparency part of `inspect`, writing to stdout.
pub fn run_transparency_inspect(
    args: &TransparencyArgs,
    files: &[PathBuf],
    json: bool,
) -> anyhow::Result<Status> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    run_transparency_inspect_to(args, files, json, &mut out)
}

/// As [`run_transparency_inspect`], writing to `out` (tests capture it).
pub fn run_transparency_inspect_to(
    args: &TransparencyArgs,
    files: &[PathBuf],
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let ctx = TransparencyContext::from_args(args)?;
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    for input in plan_inputs(files) {
        match ctx.analyse(&input) {
            Ok(r) => reports.push(r),
            Err(e) => errors.push(InputErrorReport {
                file: input.path().display().to_string(),
                error: format!("{e:#}"),
            }),
        }
    }
    let root = &ctx.root;

    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &JsonOutput {
                trust_root: &ctx.root.origin,
                reports: &reports,
                errors: &errors,
            },
        )?;
        writeln!(out)?;
    } else {
        writeln!(out, "trust root: {}", root.origin)?;
        for r in &reports {
            write_human(out, r)?;
        }
        for e in &errors {
            writeln!(out, "\n{}: error: {}", e.file, e.error)?;
        }
    }
    Ok(if !errors.is_empty() {
        Status::InputError
    } else if reports.iter().any(|r| r.verdict == Verdict::Failed) {
        Status::EvidenceProblem
    } else {
        Status::Ok
    })
}

enum LoadedArtifact {
    Bytes(Vec<u8>),
    Digest([u8; 32]),
}

fn load_artifact(p: &Path) -> anyhow::Result<LoadedArtifact> {
    let f = File::open(p).with_context(|| format!("opening the artifact {}", p.display()))?;
    let len = f.metadata()?.len();
    if len <= ARTIFACT_IN_MEMORY {
        let mut b = Vec::with_capacity(len as usize);
        f.take(ARTIFACT_IN_MEMORY + 1)
            .read_to_end(&mut b)
            .with_context(|| format!("reading the artifact {}", p.display()))?;
        Ok(LoadedArtifact::Bytes(b))
    } else {
        let (d, _) =
            sha256_stream(f).with_context(|| format!("hashing the artifact {}", p.display()))?;
        Ok(LoadedArtifact::Digest(d.0))
    }
}

/// Reads a transparency input through the one bounded reader: a regular file of at most
/// [`MAX_INPUT_BYTES`], so a FIFO or device cannot block or exhaust memory.
fn read_bounded(p: &Path) -> anyhow::Result<Vec<u8>> {
    read_regular_file(p, MAX_INPUT_BYTES as u64)
        .with_context(|| format!("{}: cannot read", p.display()))
}

/// One transparency input: a file, or a detached signature with its certificate.
pub enum Input {
    File(PathBuf),
    Pair { sig: PathBuf, cert: PathBuf },
    Unpaired { path: PathBuf, problem: String },
}

impl Input {
    pub fn path(&self) -> &Path {
        match self {
            Input::File(p) | Input::Unpaired { path: p, .. } => p,
            Input::Pair { sig, .. } => sig,
        }
    }
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.contains(&e))
}

/// Groups `X.sig` with `X.crt` / `X.pem` (given or beside it); everything else is one file.
pub fn plan_inputs(files: &[PathBuf]) -> Vec<Input> {
    let mut used = BTreeSet::new();
    let mut plan = Vec::new();
    for f in files {
        if has_ext(f, &["sig"]) {
            let cert = ["crt", "pem"]
                .iter()
                .map(|e| f.with_extension(e))
                .find(|c| c.is_file());
            match cert {
                Some(cert) => {
                    used.insert(cert.clone());
                    plan.push(Input::Pair {
                        sig: f.clone(),
                        cert,
                    });
                }
                None => plan.push(Input::Unpaired {
                    path: f.clone(),
                    problem: "a detached signature needs its certificate beside it (same name, .crt or .pem)".to_owned(),
                }),
            }
        }
    }
    for f in files {
        if has_ext(f, &["sig"]) || used.contains(f) {
            continue;
        }
        if has_ext(f, &["crt", "pem"]) {
            let sig = f.with_extension("sig");
            if sig.is_file() {
                plan.push(Input::Pair {
                    sig,
                    cert: f.clone(),
                });
            } else {
                plan.push(Input::Unpaired {
                    path: f.clone(),
                    problem: "a certificate alone proves nothing here: give its .sig beside it"
                        .to_owned(),
                });
            }
            continue;
        }
        plan.push(Input::File(f.clone()));
    }
    plan
}

fn z(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn write_human(out: &mut dyn Write, r: &TransparencyReport) -> std::io::Result<()> {
    use crate::transparency::InputKind;
    let kind = match &r.kind {
        InputKind::RekorEntry { shape } => format!(
            "Rekor entry ({})",
            serde_json::to_value(shape)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ),
        InputKind::SigstoreBundle { media_type } => format!("Sigstore bundle ({media_type})"),
        InputKind::TrustRoot => "trust root".to_owned(),
        InputKind::SignaturePair { certificate } => {
            format!("detached signature with certificate {certificate}")
        }
        InputKind::WscKeyless => "wsc keyless signature".to_owned(),
    };
    writeln!(out, "\n{}: {kind}", r.file)?;
    if let Some(root) = &r.trust_root_contents {
        for l in &root.logs {
            writeln!(
                out,
                "  log  {}  id {}  {}  from {}{}",
                l.base_url,
                hex::encode(&l.log_id),
                l.key_details,
                l.valid_for.start.map(z).unwrap_or_default(),
                l.valid_for
                    .end
                    .map(|t| format!(" until {}", z(t)))
                    .unwrap_or_default()
            )?;
        }
        for ca in &root.certificate_authorities {
            writeln!(
                out,
                "  CA   {}  {}  {} certificates  from {}{}",
                ca.uri,
                ca.subject,
                ca.chain_len,
                ca.valid_for.start.map(z).unwrap_or_default(),
                ca.valid_for
                    .end
                    .map(|t| format!(" until {}", z(t)))
                    .unwrap_or_default()
            )?;
        }
    }
    if r.entries_in_file > 1 {
        writeln!(
            out,
            "  {} entries in the file: only the first is checked",
            r.entries_in_file
        )?;
    }
    write_verification(out, &r.verification)
}

/// The summary lines, the per-check table, the findings and the verdict of one verification
/// (also used for wsc keyless reports, whose table starts with `module-hash`).
pub fn write_verification(out: &mut dyn Write, v: &Verification) -> std::io::Result<()> {
    let s = &v.summary;
    let mut facts = Vec::new();
    if let Some(i) = s.log_index {
        facts.push(format!("log index {i}"));
    }
    if let Some(t) = s.integrated_time {
        facts.push(format!(
            "integrated {}",
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ));
    }
    if let Some(k) = &s.body_kind {
        facts.push(format!("body {k}"));
    }
    if !facts.is_empty() {
        writeln!(out, "  {}", facts.join(", "))?;
    }
    if let Some(id) = &s.identity {
        writeln!(
            out,
            "  identity {id}, issuer {}",
            s.oidc_issuer.as_deref().unwrap_or("(none)")
        )?;
    }
    for c in &v.checks {
        writeln!(
            out,
            "  {:<24} {:<13} {}",
            c.id.as_str(),
            if c.required {
                format!("{} (req)", c.outcome.label())
            } else {
                c.outcome.label().to_owned()
            },
            c.outcome.text()
        )?;
    }
    for f in &v.findings {
        writeln!(out, "  finding [{}] {}: {}", f.severity, f.code, f.message)?;
    }
    if !v.checks.is_empty() {
        let failing: Vec<&str> = v.failing_checks().map(|c| c.id.as_str()).collect();
        match v.verdict() {
            Verdict::AllRequiredPassed => writeln!(out, "  verdict: every required check passed")?,
            Verdict::Failed => writeln!(out, "  verdict: FAILED ({})", failing.join(", "))?,
        }
    }
    Ok(())
}
