//! The check list of a transparency verdict and the code that runs each check. Every check is
//! reported on its own (pass / fail with reason / not possible with reason), so a responder sees
//! exactly which link of "this artifact was signed by this identity at this time" holds.

use super::certificate::{leaf_info, read_signer_material, verify_chain, LeafInfo, SignerMaterial};
use super::checkpoint::Checkpoint;
use super::entry_body::EntryBody;
use super::merkle::{leaf_hash, verify_inclusion};
use super::public_key::PublicKey;
use super::rekor_entry::{EntryShape, LogEntry};
use super::set::verify_set;
use super::time_text::rfc3339;
use super::trust_root::TrustRoot;
use serde::Serialize;
use sha2::{Digest, Sha256};

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
    CertificateChain,
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
            CheckId::CertificateChain => "certificate-chain",
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

fn pass(d: impl Into<String>) -> Outcome {
    Outcome::Pass { detail: d.into() }
}
fn fail(r: impl Into<String>) -> Outcome {
    Outcome::Fail { reason: r.into() }
}
fn not_possible(r: impl Into<String>) -> Outcome {
    Outcome::NotPossible { reason: r.into() }
}

/// One check with its result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: CheckId,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Expected identity and OIDC issuer (`--cert-identity`, `--cert-oidc-issuer`): exact matches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentityPolicy {
    pub identity: Option<String>,
    pub oidc_issuer: Option<String>,
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
}

/// The signer as the checks see it.
struct Signer {
    leaf_der: Option<Vec<u8>>,
    leaf: Option<LeafInfo>,
    key: Option<PublicKey>,
    problem: Option<String>,
}

fn signer(m: &Material<'_>) -> Signer {
    let from_body = m
        .entry
        .and_then(|e| e.parsed_body.as_ref())
        .and_then(|b| b.signer_pem())
        .map(read_signer_material);
    let leaf_der = match (&m.leaf_der, &from_body) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(Ok(SignerMaterial::Certificates(c)))) => c.first().cloned(),
        _ => None,
    };
    if let Some(der) = leaf_der {
        return match leaf_info(&der) {
            Ok(info) => Signer {
                key: PublicKey::from_spki_der(&info.spki_der).ok(),
                leaf: Some(info),
                leaf_der: Some(der),
                problem: None,
            },
            Err(e) => Signer {
                leaf_der: Some(der),
                leaf: None,
                key: None,
                problem: Some(format!("leaf certificate: {e}")),
            },
        };
    }
    match from_body {
        Some(Ok(SignerMaterial::PublicKey(spki))) => Signer {
            leaf_der: None,
            leaf: None,
            key: PublicKey::from_spki_der(&spki).ok(),
            problem: Some("the signer is a bare public key, not a certificate".to_owned()),
        },
        Some(Err(e)) => Signer {
            leaf_der: None,
            leaf: None,
            key: None,
            problem: Some(format!("the entry body's signer: {e}")),
        },
        _ => Signer {
            leaf_der: None,
            leaf: None,
            key: None,
            problem: Some("no certificate".to_owned()),
        },
    }
}

/// Runs checks 1–7 and returns them in order, with the leaf's details when there is a leaf.
pub fn run_checks(
    m: &Material<'_>,
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> (Vec<Check>, Option<LeafInfo>) {
    let s = signer(m);
    let checks = vec![
        Check {
            id: CheckId::LogInTrustRoot,
            outcome: log_in_trust_root(m, root),
        },
        Check {
            id: CheckId::SignedEntryTimestamp,
            outcome: signed_entry_timestamp(m, root),
        },
        Check {
            id: CheckId::InclusionProof,
            outcome: inclusion_proof(m),
        },
        Check {
            id: CheckId::Checkpoint,
            outcome: checkpoint(m, root),
        },
        Check {
            id: CheckId::BodyBindsArtifact,
            outcome: body_binds_artifact(m),
        },
        Check {
            id: CheckId::CertificateChain,
            outcome: certificate_chain(m, &s, root, policy),
        },
        Check {
            id: CheckId::ArtifactSignature,
            outcome: artifact_signature(m, &s),
        },
    ];
    (checks, s.leaf)
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

fn log_in_trust_root(m: &Material<'_>, root: &TrustRoot) -> Outcome {
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
    let Some(t) = e.integrated_at() else {
        return not_possible(format!(
            "log {} is in the trust root, but the entry has no integrated time",
            log.base_url
        ));
    };
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

/// ECDSA signatures compare by (r, s), whatever the encoding (DER in Rekor, raw in wsc).
fn same_signature(a: &[u8], b: &[u8]) -> bool {
    fn raw(s: &[u8]) -> Vec<u8> {
        if let Ok(sig) = p256::ecdsa::Signature::from_der(s) {
            return sig.to_bytes().to_vec();
        }
        if let Ok(sig) = p384::ecdsa::Signature::from_der(s) {
            return sig.to_bytes().to_vec();
        }
        s.to_vec()
    }
    a == b || raw(a) == raw(b)
}

fn first_cert(pem: &[u8]) -> Option<Vec<u8>> {
    match read_signer_material(pem) {
        Ok(SignerMaterial::Certificates(c)) => c.into_iter().next(),
        _ => None,
    }
}

fn body_binds_artifact(m: &Material<'_>) -> Outcome {
    let e = match usable_entry(m) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let Some(body) = &e.parsed_body else {
        return not_possible("the entry has no body");
    };
    let mut mismatches = Vec::new();
    let mut matched = Vec::new();
    if let Some((kind, version)) = &e.kind_version {
        let actual = body.kind_name();
        if actual != format!("{kind} {version}") && !matches!(body, EntryBody::Unsupported { .. }) {
            mismatches.push(format!(
                "kindVersion says {kind} {version} but the body is {actual}"
            ));
        }
    }
    match body {
        EntryBody::Unsupported { .. } => {
            return not_possible(format!(
                "body kind {} is not supported: binding not checked",
                body.kind_name()
            ))
        }
        EntryBody::HashedRekord {
            data_hash,
            signature,
            public_key_pem,
            ..
        } => {
            if data_hash.algorithm != "sha256" {
                return not_possible(format!(
                    "body digest algorithm {} is not supported",
                    data_hash.algorithm
                ));
            }
            let body_digest = hex::encode(&data_hash.value);
            let mut compare_digest = |what: &str, d: &[u8]| {
                if d == data_hash.value.as_slice() {
                    matched.push(format!("{what} digest"));
                } else {
                    mismatches.push(format!(
                        "the body's sha256 {body_digest} differs from the {what} digest {}",
                        hex::encode(d)
                    ));
                }
            };
            if let Some(a) = &m.artifact_sha256 {
                compare_digest("artifact", a);
            }
            match &m.content {
                SignedContent::MessageDigest { digest, .. } => {
                    compare_digest("bundle message", digest)
                }
                SignedContent::WscModuleHash { module_hash, .. } => {
                    compare_digest("module", module_hash)
                }
                SignedContent::Dsse { .. } => mismatches
                    .push("the bundle holds a DSSE envelope but the entry is hashedrekord".into()),
                _ => {}
            }
            let other_sig = match &m.content {
                SignedContent::MessageDigest { signature, .. }
                | SignedContent::Detached { signature }
                | SignedContent::WscModuleHash { signature, .. } => Some(signature),
                _ => None,
            };
            if let Some(sig) = other_sig {
                if same_signature(sig, signature) {
                    matched.push("signature".into());
                } else {
                    mismatches.push("the body's signature differs from the evidence's".into());
                }
            }
            if let Some(leaf) = &m.leaf_der {
                if first_cert(public_key_pem).as_ref() == Some(leaf) {
                    matched.push("certificate".into());
                } else {
                    mismatches.push("the body's certificate differs from the evidence's leaf".into());
                }
            }
            if mismatches.is_empty() && !matched.iter().any(|x| x.ends_with("digest")) {
                return not_possible(format!(
                    "no artifact supplied (--artifact): the entry names sha256 {body_digest}"
                ));
            }
        }
        EntryBody::Dsse {
            payload_hash,
            signatures,
            ..
        } => match &m.content {
            SignedContent::Dsse {
                payload,
                signatures: env_sigs,
                ..
            } => {
                match payload_hash {
                    Some(h) if h.algorithm == "sha256" => {
                        if Sha256::digest(payload).as_slice() == h.value.as_slice() {
                            matched.push("payload digest".into());
                        } else {
                            mismatches.push("the body's payloadHash differs from the envelope's payload".into());
                        }
                    }
                    _ => mismatches.push("the body has no sha256 payloadHash".into()),
                }
                let all_recorded = env_sigs
                    .iter()
                    .all(|s| signatures.iter().any(|b| same_signature(s, &b.signature)));
                if all_recorded && !env_sigs.is_empty() {
                    matched.push("signature".into());
                } else {
                    mismatches.push("the envelope's signatures are not the body's".into());
                }
                if let Some(a) = &m.artifact_sha256 {
                    if in_toto_subject_digests(payload).contains(&hex::encode(a)) {
                        matched.push("artifact digest (an in-toto subject)".into());
                    } else {
                        mismatches.push(format!(
                            "the artifact's sha256 {} is not a subject of the envelope's statement",
                            hex::encode(a)
                        ));
                    }
                }
                if let Some(leaf) = &m.leaf_der {
                    if signatures
                        .iter()
                        .any(|b| first_cert(&b.verifier_pem).as_ref() == Some(leaf))
                    {
                        matched.push("certificate".into());
                    } else {
                        mismatches.push("the body's verifier differs from the evidence's leaf".into());
                    }
                }
            }
            SignedContent::EntryOnly => {
                return not_possible(
                    "a dsse entry records only the envelope's hashes; the envelope is needed to bind an artifact",
                )
            }
            SignedContent::WscModuleHash { signature, .. } => {
                mismatches.push(
                    "the entry is dsse (a DSSE envelope of another artifact); a wsc keyless entry must be hashedrekord over the module hash"
                        .into(),
                );
                if !signatures.iter().any(|b| same_signature(signature, &b.signature)) {
                    mismatches.push("the module's signature is not the body's".into());
                }
            }
            SignedContent::MessageDigest { .. } | SignedContent::Detached { .. } => mismatches
                .push("the evidence signs a message digest but the entry is dsse".into()),
        },
    }
    if mismatches.is_empty() {
        pass(format!("the body matches the {}", matched.join(", ")))
    } else {
        fail(mismatches.join("; "))
    }
}

fn certificate_chain(
    m: &Material<'_>,
    s: &Signer,
    root: &TrustRoot,
    policy: &IdentityPolicy,
) -> Outcome {
    let (Some(der), Some(leaf)) = (&s.leaf_der, &s.leaf) else {
        return match (&s.leaf_der, &s.problem) {
            (Some(_), Some(p)) => fail(p.clone()),
            (_, Some(p)) => not_possible(p.clone()),
            _ => not_possible("no certificate"),
        };
    };
    let at = m
        .entry
        .filter(|e| !e.skipped)
        .and_then(|e| e.integrated_at());
    let chained = match verify_chain(der, root, at) {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    let Some(t) = at else {
        return not_possible(format!(
            "no trusted signing time (no transparency log entry): the chain verifies to {}, but the certificate's validity at signing time cannot be established",
            chained.uri
        ));
    };
    if t < leaf.not_before || t > leaf.not_after {
        return fail(format!(
            "integrated time {} is outside the certificate's validity {} … {}",
            rfc3339(t),
            rfc3339(leaf.not_before),
            rfc3339(leaf.not_after)
        ));
    }
    if !leaf.code_signing_eku {
        return fail("the leaf lacks the code-signing extended key usage");
    }
    if let Some(want) = &policy.identity {
        if leaf.identity.as_deref() != Some(want.as_str()) {
            return fail(format!(
                "identity {:?} is not the expected {want:?}",
                leaf.identity.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(want) = &policy.oidc_issuer {
        if leaf.oidc_issuer.as_deref() != Some(want.as_str()) {
            return fail(format!(
                "OIDC issuer {:?} is not the expected {want:?}",
                leaf.oidc_issuer.as_deref().unwrap_or("")
            ));
        }
    }
    pass(format!(
        "chains to {} ({}) valid at {}; leaf valid {} … {}; identity {}; issuer {}",
        chained.uri,
        chained.subject,
        rfc3339(t),
        rfc3339(leaf.not_before),
        rfc3339(leaf.not_after),
        leaf.identity.as_deref().unwrap_or("(none)"),
        leaf.oidc_issuer.as_deref().unwrap_or("(none)")
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

fn artifact_signature(m: &Material<'_>, s: &Signer) -> Outcome {
    let Some(key) = &s.key else {
        return not_possible(
            s.problem
                .clone()
                .unwrap_or_else(|| "no usable signer key".to_owned()),
        );
    };
    let prehash = |digest: &[u8], sig: &[u8], what: &str| match key.verify_prehash(digest, sig) {
        Ok(()) => pass(format!(
            "the signature verifies over the {what} with the leaf key"
        )),
        Err(e) => fail(format!("over the {what} ({}): {e}", hex::encode(digest))),
    };
    match &m.content {
        SignedContent::MessageDigest {
            algorithm,
            digest,
            signature,
        } => {
            if algorithm != "SHA2_256" {
                return not_possible(format!(
                    "message digest algorithm {algorithm} is not supported"
                ));
            }
            match &m.artifact_sha256 {
                Some(a) => prehash(a, signature, "artifact's SHA-256"),
                None => prehash(
                    digest,
                    signature,
                    "bundle's message digest (artifact not supplied)",
                ),
            }
        }
        SignedContent::Dsse {
            payload_type,
            payload,
            signatures,
        } => {
            let msg = pae(payload_type, payload);
            if signatures
                .iter()
                .any(|sig| key.verify_message(&msg, sig).is_ok())
            {
                pass("a DSSE signature verifies over the envelope's PAE with the leaf key")
            } else {
                fail("no DSSE signature verifies over the envelope's PAE with the leaf key")
            }
        }
        SignedContent::Detached { signature } => match (&m.artifact_sha256, m.artifact_bytes) {
            (_, Some(bytes)) if matches!(key, PublicKey::Ed25519(_)) => {
                match key.verify_message(bytes, signature) {
                    Ok(()) => pass("the signature verifies over the artifact with the leaf key"),
                    Err(e) => fail(format!("over the artifact: {e}")),
                }
            }
            (Some(a), _) => prehash(a, signature, "artifact's SHA-256"),
            _ => not_possible("no artifact supplied (--artifact)"),
        },
        SignedContent::WscModuleHash {
            signature,
            module_hash,
        } => prehash(module_hash, signature, "recomputed module hash"),
        SignedContent::EntryOnly => {
            let body = m.entry.and_then(|e| e.parsed_body.as_ref());
            match body {
                Some(EntryBody::HashedRekord {
                    data_hash,
                    signature,
                    ..
                }) => match &m.artifact_sha256 {
                    Some(a) => prehash(a, signature, "artifact's SHA-256"),
                    None => prehash(
                        &data_hash.value,
                        signature,
                        "digest the entry records (artifact not supplied)",
                    ),
                },
                Some(EntryBody::Dsse { .. }) => not_possible(
                    "the entry records only the envelope's hashes; the signed payload is not in it",
                ),
                Some(EntryBody::Unsupported { .. }) => {
                    not_possible("body kind not supported: signature not checked")
                }
                None => not_possible("the entry has no body"),
            }
        }
    }
}

/// The `sha256` digests of an in-toto statement's subjects (empty when the payload is not one).
fn in_toto_subject_digests(payload: &[u8]) -> Vec<String> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Vec::new();
    };
    doc.get("subject")
        .and_then(|s| s.as_array())
        .map(|subjects| {
            subjects
                .iter()
                .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
                .map(|d| d.to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default()
}
