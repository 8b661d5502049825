//! Offline verification of transparency evidence (Rekor entries, Sigstore bundles, detached
//! signature + certificate pairs, the Rekor entry inside a wsc keyless signature) against any
//! Sigstore trust root, check by check, with findings and dated facts for the evidence model.
//!
//! Entry point: [`analyse_transparency_file`] (one file) and [`analyse_signature_pair`]; wsc
//! keyless modules go through [`keyless::verify_wsc_keyless`].

pub mod binding;
pub mod certificate;
pub mod check_model;
pub mod checkpoint;
pub mod checks;
pub mod entry_body;
pub mod json_field;
pub mod keyless;
pub mod merkle;
pub mod policy;
pub mod public_key;
pub mod rekor_entry;
pub mod rfc3161;
pub mod sct;
pub mod set;
pub mod signer;
pub mod sigstore_bundle;
pub mod time_text;
pub mod trust_root;

pub use checks::{Check, CheckId, IdentityPolicy, Outcome};
pub use keyless::{verify_wsc_keyless, KeylessReport};
pub use trust_root::TrustRoot;

use crate::model::evidence::{Finding, IncidentType, ItemTime, Severity};
use certificate::{leaf_info, read_signer_material, LeafInfo, SignerMaterial};
use checks::{run_checks, Material, SignedContent};
use chrono::{DateTime, Utc};
pub(crate) use policy::Context;
use rekor_entry::{EntryShape, LogEntry};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use sigstore_bundle::SigstoreBundle;

/// Largest transparency file read (bundles and entries are kilobytes; this leaves room).
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;
/// Largest string field (base64 or otherwise) taken from a document.
pub const MAX_BASE64_FIELD: usize = 16 * 1024 * 1024;
/// Largest decoded entry body.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Why a transparency file could not be read. Every variant names the file; field errors name
/// the JSON path.
#[derive(Debug, thiserror::Error)]
pub enum TransparencyError {
    #[error("{file}: {size} bytes, more than the limit of {limit}")]
    TooLarge { file: String, size: u64, limit: u64 },
    #[error("{file}: not valid JSON: {source}")]
    Json {
        file: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{file}: field {field}: {problem}")]
    Field {
        file: String,
        field: String,
        problem: String,
    },
    #[error("{file}: {what}")]
    UnknownFormat { file: String, what: String },
}

pub(crate) fn serialize_hex<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(v.as_ref()))
}

pub(crate) fn serialize_opt_hex<S: Serializer>(
    v: &Option<Vec<u8>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

pub(crate) fn serialize_hex_list<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(hex::encode))
}

/// The artifact the evidence is about, when the examiner has it.
#[derive(Clone, Copy, Debug)]
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
}

impl Artifact<'_> {
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Artifact::Bytes(b) => Sha256::digest(b).into(),
            Artifact::Sha256(d) => *d,
        }
    }
}

/// What kind of file was analysed.
#[derive(schemars::JsonSchema, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum InputKind {
    RekorEntry { shape: EntryShape },
    SigstoreBundle { media_type: String },
    TrustRoot,
    SignaturePair { certificate: String },
    WscKeyless,
}

/// The facts a reader wants first.
#[derive(schemars::JsonSchema, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub uuid: Option<String>,
    pub log_index: Option<u64>,
    pub log_id: Option<String>,
    pub integrated_time: Option<DateTime<Utc>>,
    pub body_kind: Option<String>,
    pub identity: Option<String>,
    pub oidc_issuer: Option<String>,
    pub certificate_not_before: Option<DateTime<Utc>>,
    pub certificate_not_after: Option<DateTime<Utc>>,
}

/// Checks, findings and times of one piece of evidence.
#[derive(schemars::JsonSchema, Clone, Debug, PartialEq, Serialize)]
pub struct Verification {
    pub summary: Summary,
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub times: Vec<ItemTime>,
}

/// Overall result of the checks, by the verdict policy ([`policy`]).
#[derive(schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every required check passed and no check failed.
    AllRequiredPassed,
    /// A check failed, or a required check could not be made.
    Failed,
}

impl Verification {
    pub fn verdict(&self) -> Verdict {
        if self.failing_checks().next().is_some() {
            Verdict::Failed
        } else {
            Verdict::AllRequiredPassed
        }
    }

    /// The checks that fail the verdict: failed ones, and required ones not passed.
    pub fn failing_checks(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.outcome.is_fail() || (c.required && !c.outcome.is_pass()))
    }

    /// The outcome of check `id`, if it ran.
    pub fn outcome(&self, id: CheckId) -> Option<&Outcome> {
        self.checks.iter().find(|c| c.id == id).map(|c| &c.outcome)
    }
}

/// The report on one transparency file.
#[derive(schemars::JsonSchema, Clone, Debug, Serialize)]
pub struct TransparencyReport {
    pub file: String,
    pub kind: InputKind,
    /// Origin of the trust root the checks used.
    pub trust_root: String,
    pub verdict: Verdict,
    /// Number of log entries in the file; only the first is checked.
    pub entries_in_file: usize,
    #[serde(flatten)]
    pub verification: Verification,
    /// For a trust-root file: what it lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_root_contents: Option<TrustRoot>,
}

impl TransparencyReport {
    /// What `collect` stores for the item: the report as `analysis`, its findings and its dated
    /// facts.
    pub fn into_evidence_parts(self) -> (serde_json::Value, Vec<Finding>, Vec<ItemTime>) {
        let findings = self.verification.findings.clone();
        let times = self.verification.times.clone();
        let analysis = serde_json::to_value(&self).unwrap_or(serde_json::Value::Null);
        (analysis, findings, times)
    }
}

/// Analyses one transparency file: a Rekor entry (any shape), a Sigstore bundle or a trust root.
pub fn analyse_transparency_file(
    name: &str,
    bytes: &[u8],
    artifact: Option<Artifact<'_>>,
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> Result<TransparencyReport, TransparencyError> {
    let doc = json_field::parse_document(name, bytes)?;
    let artifact_sha256 = artifact.map(|a| a.sha256());
    let artifact_bytes = match artifact {
        Some(Artifact::Bytes(b)) => Some(b),
        _ => None,
    };
    if sigstore_bundle::is_bundle(&doc) {
        let bundle = SigstoreBundle::from_document(name, &doc)?;
        drop(doc);
        let entry = bundle.tlog_entries.first();
        let material = Material {
            entry,
            no_entry_reason: "the bundle has no transparency log entry",
            leaf_der: bundle.certificates.first().cloned(),
            content: bundle.content.clone(),
            artifact_sha256,
            artifact_bytes,
            timestamps: bundle.timestamps.clone(),
            key_signed: bundle.key_signed,
        };
        let verification = verify(&material, root, policy, Context::Bundle(bundle.version));
        return Ok(report(
            name,
            InputKind::SigstoreBundle {
                media_type: bundle.media_type.clone(),
            },
            root,
            bundle.tlog_entries.len(),
            verification,
        ));
    }
    if doc
        .get("mediaType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.trustedroot"))
    {
        let parsed = TrustRoot::from_document(name, &doc)?;
        drop(doc);
        let mut r = report(
            name,
            InputKind::TrustRoot,
            root,
            0,
            Verification {
                summary: Summary::default(),
                checks: Vec::new(),
                findings: Vec::new(),
                times: Vec::new(),
            },
        );
        for log in parsed.logs.iter().filter(|l| l.log_id_is_suspicious()) {
            r.verification.findings.push(Finding::new(
                "trust-root-log-id-mismatch",
                Severity::High,
                Some(IncidentType::SigstoreCompromise),
                format!(
                    "trust root lists log {} under an id that is not the SHA-256 of its key",
                    log.base_url
                ),
            ));
        }
        r.trust_root_contents = Some(parsed);
        return Ok(r);
    }
    let shape =
        rekor_entry::detect_shape(&doc).ok_or_else(|| TransparencyError::UnknownFormat {
            file: name.to_owned(),
            what: "neither a Sigstore bundle, a trusted root nor a Rekor entry".to_owned(),
        })?;
    let entries = rekor_entry::entries_from_document(name, &doc)?;
    drop(doc);
    let material = Material {
        entry: entries.first(),
        no_entry_reason: "the file holds no entry",
        leaf_der: None,
        content: SignedContent::EntryOnly,
        artifact_sha256,
        artifact_bytes,
        timestamps: Vec::new(),
        key_signed: false,
    };
    let verification = verify(&material, root, policy, Context::Entry);
    Ok(report(
        name,
        InputKind::RekorEntry { shape },
        root,
        entries.len(),
        verification,
    ))
}

/// Analyses a detached signature (base64 or raw) with its PEM certificate (the pre-bundle
/// `cosign sign-blob` form). There is no log entry, so the log checks are not possible.
pub fn analyse_signature_pair(
    signature_name: &str,
    signature: &[u8],
    certificate_name: &str,
    certificate: &[u8],
    artifact: Option<Artifact<'_>>,
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> Result<TransparencyReport, TransparencyError> {
    for (n, b) in [(signature_name, signature), (certificate_name, certificate)] {
        if b.len() > 1024 * 1024 {
            return Err(TransparencyError::TooLarge {
                file: n.to_owned(),
                size: b.len() as u64,
                limit: 1024 * 1024,
            });
        }
    }
    let text = std::str::from_utf8(signature).map(str::trim);
    let sig = match text {
        Ok(t)
            if !t.is_empty()
                && t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"+/=".contains(&c)) =>
        {
            json_field::decode_base64(t, 16 * 1024).map_err(|problem| TransparencyError::Field {
                file: signature_name.to_owned(),
                field: "(signature)".to_owned(),
                problem,
            })?
        }
        _ => signature.to_vec(),
    };
    let leaf = match read_signer_material(certificate) {
        Ok(SignerMaterial::Certificates(c)) => c.into_iter().next(),
        Ok(SignerMaterial::PublicKey(_)) => None,
        Err(problem) => {
            return Err(TransparencyError::Field {
                file: certificate_name.to_owned(),
                field: "(certificate)".to_owned(),
                problem,
            })
        }
    };
    let material = Material {
        entry: None,
        no_entry_reason: "no transparency log entry accompanies a detached signature",
        leaf_der: leaf,
        content: SignedContent::Detached { signature: sig },
        artifact_sha256: artifact.map(|a| a.sha256()),
        artifact_bytes: match artifact {
            Some(Artifact::Bytes(b)) => Some(b),
            _ => None,
        },
        timestamps: Vec::new(),
        key_signed: false,
    };
    let verification = verify(&material, root, policy, Context::Pair);
    Ok(report(
        signature_name,
        InputKind::SignaturePair {
            certificate: certificate_name.to_owned(),
        },
        root,
        0,
        verification,
    ))
}

fn report(
    name: &str,
    kind: InputKind,
    root: &TrustRoot,
    entries_in_file: usize,
    verification: Verification,
) -> TransparencyReport {
    TransparencyReport {
        file: name.to_owned(),
        kind,
        trust_root: root.origin.clone(),
        verdict: verification.verdict(),
        entries_in_file,
        verification,
        trust_root_contents: None,
    }
}

/// Runs the checks and derives summary, findings and timeline facts.
pub(crate) fn verify(
    m: &Material<'_>,
    root: &TrustRoot,
    policy: &IdentityPolicy,
    ctx: Context,
) -> Verification {
    let (mut checks, leaf) = run_checks(m, root, policy);
    let key_signed = checks.iter().any(|c| c.id == CheckId::SignerKey) && leaf.is_none();
    policy::apply(
        &mut checks,
        &policy::required_checks(
            ctx,
            m.entry,
            key_signed,
            m.artifact_sha256.is_some(),
            !root.ctlogs.is_empty(),
        ),
    );
    let summary = summarise(m.entry, leaf.as_ref());
    let mut findings: Vec<Finding> = checks.iter().filter_map(finding_for).collect();
    let no_entry = m.entry.is_none_or(|e| e.skipped);
    if no_entry {
        let severity = match ctx {
            Context::WscKeyless | Context::Bundle(_) => Severity::High,
            Context::Pair | Context::Entry => Severity::Medium,
        };
        findings.push(Finding::new(
            "no-transparency-evidence",
            severity,
            Some(IncidentType::SigstoreCompromise),
            match m.entry {
                Some(_) => "no transparency evidence: the Rekor upload was skipped, so nothing proves when or that the signature was logged".to_owned(),
                None => format!("no transparency evidence: {}", m.no_entry_reason),
            },
        ));
    }
    let mut times = Vec::new();
    if let (Some(e), Some(t)) = (m.entry.filter(|e| !e.skipped), summary.integrated_time) {
        times.push(ItemTime {
            at: t,
            event_type: "rekor.integrated".to_owned(),
            description: "Rekor integrated time".to_owned(),
            detail: match e.log_index {
                Some(i) => format!("log index {i}"),
                None => String::new(),
            },
        });
    }
    if let Some(l) = &leaf {
        let who = l.identity.clone().unwrap_or_default();
        times.push(ItemTime {
            at: l.not_before,
            event_type: "cert.not_before".to_owned(),
            description: "Fulcio certificate valid from".to_owned(),
            detail: who.clone(),
        });
        times.push(ItemTime {
            at: l.not_after,
            event_type: "cert.not_after".to_owned(),
            description: "Fulcio certificate valid until".to_owned(),
            detail: who,
        });
    }
    Verification {
        summary,
        checks,
        findings,
        times,
    }
}

fn summarise(entry: Option<&LogEntry>, leaf: Option<&LeafInfo>) -> Summary {
    let entry = entry.filter(|e| !e.skipped);
    Summary {
        uuid: entry.and_then(|e| e.uuid.clone()),
        log_index: entry.and_then(|e| e.log_index),
        log_id: entry.and_then(|e| e.log_id.as_ref().map(hex::encode)),
        integrated_time: entry.and_then(|e| e.integrated_at()),
        body_kind: entry.and_then(|e| e.parsed_body.as_ref().map(|b| b.kind_name())),
        identity: leaf.and_then(|l| l.identity.clone()),
        oidc_issuer: leaf.and_then(|l| l.oidc_issuer.clone()),
        certificate_not_before: leaf.map(|l| l.not_before),
        certificate_not_after: leaf.map(|l| l.not_after),
    }
}

/// The runbook finding for a failed check.
fn finding_for(c: &Check) -> Option<Finding> {
    let Outcome::Fail { reason } = &c.outcome else {
        return None;
    };
    let (code, severity, inc, what) = match c.id {
        CheckId::ModuleHash => (
            "module-modified-after-signing",
            Severity::Critical,
            IncidentType::MaliciousModule,
            "module hash differs from the signed one",
        ),
        CheckId::LogInTrustRoot => (
            "tlog-log-not-trusted",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "transparency log not trusted",
        ),
        CheckId::SignedEntryTimestamp => (
            "tlog-set-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "signed entry timestamp does not verify",
        ),
        CheckId::InclusionProof => (
            "tlog-inclusion-proof-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "inclusion proof does not hold",
        ),
        CheckId::Checkpoint => (
            "tlog-checkpoint-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "checkpoint does not verify",
        ),
        CheckId::BodyBindsArtifact => (
            "tlog-body-does-not-bind-artifact",
            Severity::Critical,
            IncidentType::SigstoreCompromise,
            "Rekor entry does not bind this artifact",
        ),
        CheckId::CertificateChain => (
            "certificate-chain-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "signing certificate not trusted",
        ),
        CheckId::SignedTimestamp => (
            "timestamp-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "RFC 3161 timestamp does not verify",
        ),
        CheckId::CertificateTransparency => (
            "certificate-sct-invalid",
            Severity::High,
            IncidentType::SigstoreCompromise,
            "signed certificate timestamp does not verify",
        ),
        CheckId::SignerKey => (
            "signer-key-mismatch",
            Severity::Critical,
            IncidentType::MaliciousModule,
            "the signer is not the pinned key",
        ),
        CheckId::ArtifactSignature => (
            "signature-does-not-verify",
            Severity::Critical,
            IncidentType::MaliciousModule,
            "signature does not verify over the artifact",
        ),
    };
    Some(Finding::new(
        code,
        severity,
        Some(inc),
        format!("{what}: {reason}"),
    ))
}

/// Leaf details from a DER certificate (for callers that show a certificate on its own).
pub fn describe_certificate(der: &[u8]) -> Result<LeafInfo, String> {
    leaf_info(der)
}
