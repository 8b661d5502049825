//! The check list of a transparency verdict and the code that runs each check. Every check is
//! reported on its own (pass / fail with reason / not possible with reason), so a responder sees
//! exactly which link of "this artifact was signed by this identity at this time" holds.

use super::binding::body_binds_artifact;
use super::certificate::LeafInfo;
use super::checkpoint::Checkpoint;
use super::merkle::{leaf_hash, verify_inclusion};
use super::public_key::PublicKey;
use super::rekor_entry::{EntryShape, LogEntry};
use super::rfc3161::verify_timestamp;
use super::sct::certificate_transparency;
use super::set::verify_set;
use super::signer::{artifact_signature, certificate_chain, signer, signer_key, TrustedTime};
use super::time_text::rfc3339;
use super::trust_root::TrustRoot;
use serde::Serialize;

/// Which check a result is about. The kebab-case names are the stable ids of `--json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// Runs every check and returns them in table order, with the leaf's details when there is a
/// leaf. Times are established first (SET, or inclusion proof with checkpoint, for the log's
/// integrated time; RFC 3161 timestamps), then the certificate is judged at each of them.
pub fn run_checks(
    m: &Material<'_>,
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> (Vec<Check>, Option<LeafInfo>) {
    let s = signer(m, policy);
    let set = signed_entry_timestamp(m, root);
    let proof = inclusion_proof(m);
    let cp = checkpoint(m, root);
    let (tsa, tsa_times) = signed_timestamps(m, root);
    let mut times = Vec::new();
    if let Some(t) = m
        .entry
        .filter(|e| !e.skipped)
        .and_then(|e| e.integrated_at())
    {
        if set.is_pass() {
            times.push(TrustedTime {
                at: t,
                source: "integrated time (signed entry timestamp)".to_owned(),
            });
        } else if proof.is_pass() && cp.is_pass() {
            times.push(TrustedTime {
                at: t,
                source: "integrated time (inclusion proof and checkpoint)".to_owned(),
            });
        }
    }
    times.extend(tsa_times.iter().cloned());
    let mut checks = vec![
        Check::new(
            CheckId::LogInTrustRoot,
            log_in_trust_root(m, root, &tsa_times),
        ),
        Check::new(CheckId::SignedEntryTimestamp, set),
        Check::new(CheckId::InclusionProof, proof),
        Check::new(CheckId::Checkpoint, cp),
    ];
    if let Some(o) = tsa {
        checks.push(Check::new(CheckId::SignedTimestamp, o));
    }
    let binding = match usable_entry(m) {
        Ok(e) => body_binds_artifact(m, e),
        Err(o) => o,
    };
    checks.push(Check::new(CheckId::BodyBindsArtifact, binding));
    if s.is_key_signed() || policy.key.is_some() || m.key_signed {
        checks.push(Check::new(CheckId::SignerKey, signer_key(&s, policy)));
    }
    checks.push(Check::new(
        CheckId::CertificateChain,
        certificate_chain(&s, root, policy, &times),
    ));
    if let Some(der) = &s.leaf_der {
        checks.push(Check::new(
            CheckId::CertificateTransparency,
            certificate_transparency(der, root),
        ));
    }
    checks.push(Check::new(
        CheckId::ArtifactSignature,
        artifact_signature(m, &s),
    ));
    (checks, s.leaf)
}

/// `signed-timestamp`: every RFC 3161 timestamp must verify against a timestamp authority of
/// the trust root over the signature; `None` when the evidence has none and needs none.
fn signed_timestamps(m: &Material<'_>, root: &TrustRoot) -> (Option<Outcome>, Vec<TrustedTime>) {
    let rekor_v2 = m.entry.is_some_and(|e| e.is_rekor_v2());
    if m.timestamps.is_empty() {
        return match rekor_v2 {
            true => (
                Some(not_possible(
                    "no RFC 3161 timestamp: a Rekor v2 entry has no integrated time, so a timestamp is required",
                )),
                Vec::new(),
            ),
            false => (None, Vec::new()),
        };
    }
    let Some(signature) = m.content.timestamped_signature() else {
        return (
            Some(not_possible(
                "the evidence has no signature for a timestamp to cover",
            )),
            Vec::new(),
        );
    };
    let mut times = Vec::new();
    for (i, der) in m.timestamps.iter().enumerate() {
        match verify_timestamp(der, signature, root) {
            Ok(v) => times.push(TrustedTime {
                at: v.gen_time,
                source: format!("RFC 3161 timestamp by {}", v.authority),
            }),
            Err(e) => return (Some(fail(format!("timestamp {i}: {e}"))), Vec::new()),
        }
    }
    let list = times
        .iter()
        .map(|t| format!("{} ({})", rfc3339(t.at), t.source))
        .collect::<Vec<_>>()
        .join("; ");
    (Some(pass(list)), times)
}

/// The entry, or why a log check cannot run.
fn usable_entry<'a>(m: &Material<'a>) -> Result<&'a LogEntry, Outcome> {
    match m.entry {
        None => Err(not_possible(m.no_entry_reason)),
        Some(e) if e.skipped => Err(not_possible(
            "no transparency evidence: the Rekor upload was skipped (uuid \"skipped\")",
        )),
        Some(e) => Ok(e),
    }
}

fn log_in_trust_root(m: &Material<'_>, root: &TrustRoot, tsa_times: &[TrustedTime]) -> Outcome {
    let e = match usable_entry(m) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let Some(id) = &e.log_id else {
        return not_possible("the entry has no log id");
    };
    let Some(log) = root.log(id) else {
        return fail(format!(
            "log id {} is not in the trust root ({})",
            hex::encode(id),
            root.origin
        ));
    };
    if log.log_id_is_suspicious() {
        return fail(format!(
            "the trust root lists log id {} with a key whose SHA-256 differs",
            hex::encode(id)
        ));
    }
    // Rekor v2 entries have no integrated time: the log is judged at the timestamps' times.
    let Some(t) = e
        .integrated_at()
        .or_else(|| tsa_times.iter().map(|t| t.at).min())
    else {
        return not_possible(format!(
            "log {} is in the trust root, but the entry has no integrated time and no timestamp",
            log.base_url
        ));
    };
    if let Some(bad) = tsa_times.iter().find(|x| !log.valid_for.contains(x.at)) {
        return fail(format!(
            "log {} is in the trust root but not valid at the {} {}",
            log.base_url,
            bad.source,
            rfc3339(bad.at)
        ));
    }
    if !log.valid_for.contains(t) {
        return fail(format!(
            "log {} is in the trust root but not valid at the integrated time {}",
            log.base_url,
            rfc3339(t)
        ));
    }
    pass(format!(
        "log {} (id {}…) valid at {}",
        log.base_url,
        hex::encode(&id[..4.min(id.len())]),
        rfc3339(t)
    ))
}

fn log_key<'r>(e: &LogEntry, root: &'r TrustRoot) -> Result<&'r PublicKey, Outcome> {
    let id = e
        .log_id
        .as_ref()
        .ok_or_else(|| not_possible("the entry has no log id"))?;
    let log = root.log(id).ok_or_else(|| {
        not_possible(format!(
            "no key for log id {}: not in the trust root",
            hex::encode(id)
        ))
    })?;
    log.key.as_ref().ok_or_else(|| {
        not_possible(format!(
            "the trust root's key for {} ({}) is not usable",
            log.base_url, log.key_details
        ))
    })
}

fn no_verification_block(e: &LogEntry) -> Option<Outcome> {
    (e.shape == EntryShape::RekorCli).then(|| {
        not_possible("no verification block: rekor-cli get output carries no SET and no proof")
    })
}

fn signed_entry_timestamp(m: &Material<'_>, root: &TrustRoot) -> Outcome {
    let e = match usable_entry(m) {
        Ok(e) => e,
        Err(o) => return o,
    };
    if let Some(o) = no_verification_block(e) {
        return o;
    }
    let Some(set) = &e.set else {
        return not_possible("the entry carries no signed entry timestamp");
    };
    let key = match log_key(e, root) {
        Ok(k) => k,
        Err(o) => return o,
    };
    let (Some(body), Some(t), Some(id), Some(idx)) =
        (&e.body_b64, e.integrated_time, &e.log_id, e.log_index)
    else {
        return not_possible("the entry lacks body, integrated time, log id or log index");
    };
    match verify_set(key, set, body, t, id, idx) {
        Ok(()) => pass(format!(
            "log key signed body, integratedTime {t}, logID, logIndex {idx}"
        )),
        Err(p) => fail(format!(
            "SET over body, integratedTime {t}, logIndex {idx}: {p}"
        )),
    }
}

fn inclusion_proof(m: &Material<'_>) -> Outcome {
    let e = match usable_entry(m) {
        Ok(e) => e,
        Err(o) => return o,
    };
    if let Some(o) = no_verification_block(e) {
        return o;
    }
    let Some(body) = &e.body else {
        return not_possible("the entry has no body");
    };
    let leaf = leaf_hash(body);
    if let Some(uuid) = &e.uuid {
        if uuid.len() >= 64 && uuid.is_ascii() {
            let tail = &uuid[uuid.len() - 64..];
            if !tail.eq_ignore_ascii_case(&hex::encode(leaf)) {
                return fail(format!(
                    "leaf hash {} of the body differs from the UUID's {tail}",
                    hex::encode(leaf)
                ));
            }
        }
    }
    let Some(p) = &e.proof else {
        return not_possible("the entry carries no inclusion proof");
    };
    match verify_inclusion(&leaf, p.log_index, p.tree_size, &p.hashes, &p.root_hash) {
        Ok(()) => pass(format!(
            "leaf {} of a tree of {} reproduces root {}",
            p.log_index,
            p.tree_size,
            hex::encode(p.root_hash)
        )),
        Err(err) => fail(err.to_string()),
    }
}

fn checkpoint(m: &Material<'_>, root: &TrustRoot) -> Outcome {
    let e = match usable_entry(m) {
        Ok(e) => e,
        Err(o) => return o,
    };
    if let Some(o) = no_verification_block(e) {
        return o;
    }
    let Some(p) = &e.proof else {
        return not_possible("no inclusion proof, so no checkpoint");
    };
    let Some(text) = &p.checkpoint else {
        return not_possible(match e.shape {
            EntryShape::WscEmbedded => "wsc drops the checkpoint when it embeds the proof",
            EntryShape::BundleTlogEntry => "the bundle's inclusion proof has no checkpoint",
            _ => "the inclusion proof has no checkpoint",
        });
    };
    let key = match log_key(e, root) {
        Ok(k) => k,
        Err(o) => return o,
    };
    let Some(id) = &e.log_id else {
        return not_possible("the entry has no log id");
    };
    let cp = match Checkpoint::parse(text) {
        Ok(c) => c,
        Err(err) => return fail(err.to_string()),
    };
    let signed_by = match cp.verify(id, key) {
        Ok(s) => s.name.clone(),
        Err(err) => return fail(err.to_string()),
    };
    if let Some(log) = root.log(id) {
        let host = log.host();
        if !host.is_empty() && cp.origin.split(' ').next() != Some(host) {
            return fail(format!(
                "checkpoint origin {:?} is not the log's host {host}",
                cp.origin
            ));
        }
    }
    if cp.tree_size != p.tree_size || cp.root_hash != p.root_hash {
        return fail(format!(
            "checkpoint (size {}, root {}) differs from the proof (size {}, root {})",
            cp.tree_size,
            hex::encode(&cp.root_hash),
            p.tree_size,
            hex::encode(p.root_hash)
        ));
    }
    pass(format!(
        "{:?} size {} signed by {signed_by}; equals the proof's size and root",
        cp.origin, cp.tree_size
    ))
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
