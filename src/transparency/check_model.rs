//! The vocabulary of transparency checks: which check (`CheckId`), its `Outcome`, the pins of
//! the examiner (`IdentityPolicy`) and the evidence every check looks at (`Material`). A leaf
//! module, so the check runner and the modules that implement checks share it without cycles.

use super::rekor_entry::LogEntry;
use serde::Serialize;

/// Which check a result is about. The kebab-case names are the stable ids of `--json`.
#[derive(
    schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// wsc keyless only: the module hash in the signature equals the module's recomputed hash.
    ModuleHash,
    LogInTrustRoot,
    SignedEntryTimestamp,
    InclusionProof,
    Checkpoint,
    BodyBindsArtifact,
    /// RFC 3161 signed timestamps of the bundle, against the trust root's timestamp authorities.
    SignedTimestamp,
    CertificateChain,
    /// Signed certificate timestamps embedded in the leaf, against the trust root's CT logs.
    CertificateTransparency,
    /// Managed-key evidence: the key given with `--key` is the signer.
    SignerKey,
    ArtifactSignature,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::ModuleHash => "module-hash",
            CheckId::LogInTrustRoot => "log-in-trust-root",
            CheckId::SignedEntryTimestamp => "signed-entry-timestamp",
            CheckId::InclusionProof => "inclusion-proof",
            CheckId::Checkpoint => "checkpoint",
            CheckId::BodyBindsArtifact => "body-binds-artifact",
            CheckId::SignedTimestamp => "signed-timestamp",
            CheckId::CertificateChain => "certificate-chain",
            CheckId::CertificateTransparency => "certificate-transparency",
            CheckId::SignerKey => "signer-key",
            CheckId::ArtifactSignature => "artifact-signature",
        }
    }
}

/// The result of one check.
#[derive(schemars::JsonSchema, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    Pass { detail: String },
    Fail { reason: String },
    NotPossible { reason: String },
}

impl Outcome {
    pub fn is_pass(&self) -> bool {
        matches!(self, Outcome::Pass { .. })
    }
    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail { .. })
    }
    pub fn is_not_possible(&self) -> bool {
        matches!(self, Outcome::NotPossible { .. })
    }
    pub fn text(&self) -> &str {
        match self {
            Outcome::Pass { detail } => detail,
            Outcome::Fail { reason } | Outcome::NotPossible { reason } => reason,
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass { .. } => "pass",
            Outcome::Fail { .. } => "FAIL",
            Outcome::NotPossible { .. } => "not possible",
        }
    }
}

pub(crate) fn pass(d: impl Into<String>) -> Outcome {
    Outcome::Pass { detail: d.into() }
}
pub(crate) fn fail(r: impl Into<String>) -> Outcome {
    Outcome::Fail { reason: r.into() }
}
pub(crate) fn not_possible(r: impl Into<String>) -> Outcome {
    Outcome::NotPossible { reason: r.into() }
}

/// One check with its result.
#[derive(schemars::JsonSchema, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Set by the verdict policy ([`super::policy`]): a required check that did not pass fails
    /// the verdict, whether it failed or could not be made.
    pub required: bool,
}

impl Check {
    pub fn new(id: CheckId, outcome: Outcome) -> Check {
        Check {
            id,
            outcome,
            required: false,
        }
    }
}

/// What the examiner pins: expected identity and OIDC issuer (`--cert-identity`,
/// `--cert-oidc-issuer`, exact matches) or the signer's public key (`--key`). A pin that cannot
/// be checked fails the verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentityPolicy {
    pub identity: Option<String>,
    pub oidc_issuer: Option<String>,
    /// DER SubjectPublicKeyInfo of `--key`.
    #[serde(skip)]
    pub key: Option<Vec<u8>>,
}

impl IdentityPolicy {
    pub fn pins_identity(&self) -> bool {
        self.identity.is_some() || self.oidc_issuer.is_some()
    }
}

/// What was signed, as the evidence other than the log entry states it.
#[derive(Clone, Debug)]
pub enum SignedContent {
    /// A bundle's `messageSignature`: the digest and the signature over it.
    MessageDigest {
        algorithm: String,
        digest: Vec<u8>,
        signature: Vec<u8>,
    },
    /// A bundle's `dsseEnvelope`.
    Dsse {
        payload_type: String,
        payload: Vec<u8>,
        signatures: Vec<Vec<u8>>,
    },
    /// A detached signature over the artifact (`.sig` next to a `.crt`).
    Detached { signature: Vec<u8> },
    /// A wsc keyless signature: ECDSA over the module hash; `module_hash` is the recomputed one.
    WscModuleHash {
        signature: Vec<u8>,
        module_hash: [u8; 32],
    },
    /// Only a log entry: its body is the whole claim.
    EntryOnly,
}

impl SignedContent {
    /// The signature an RFC 3161 timestamp covers (its message imprint is this signature's
    /// digest): the message signature, or the DSSE envelope's first signature.
    pub fn timestamped_signature(&self) -> Option<&[u8]> {
        match self {
            SignedContent::MessageDigest { signature, .. }
            | SignedContent::Detached { signature }
            | SignedContent::WscModuleHash { signature, .. } => Some(signature),
            SignedContent::Dsse { signatures, .. } => signatures.first().map(Vec::as_slice),
            SignedContent::EntryOnly => None,
        }
    }
}

/// Everything the checks look at.
pub struct Material<'a> {
    pub entry: Option<&'a LogEntry>,
    /// Why there is no entry, when there is none.
    pub no_entry_reason: &'a str,
    /// The leaf certificate supplied beside the entry (bundle, module, `.crt`); when `None` the
    /// body's own certificate is used.
    pub leaf_der: Option<Vec<u8>>,
    pub content: SignedContent,
    /// SHA-256 of the artifact, when the artifact (or its digest) was supplied.
    pub artifact_sha256: Option<[u8; 32]>,
    /// The artifact bytes, when supplied (needed by Ed25519 detached signatures only).
    pub artifact_bytes: Option<&'a [u8]>,
    /// RFC 3161 timestamp responses (DER) that accompany the evidence (bundle v0.2+).
    pub timestamps: Vec<Vec<u8>>,
    /// The evidence names a public key (bundle `publicKey` hint), not a certificate.
    pub key_signed: bool,
}

/// DSSE pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}
