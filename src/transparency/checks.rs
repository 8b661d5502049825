//! The check list of a transparency verdict and the code that runs each check. Every check is
//! reported on its own (pass / fail with reason / not possible with reason), so a responder sees
//! exactly which link of "this artifact was signed by this identity at this time" holds.

use super::binding::body_binds_artifact;
use super::certificate::LeafInfo;
use super::check_model::{fail, not_possible, pass};
pub use super::check_model::{
    pae, Check, CheckId, IdentityPolicy, Material, Outcome, SignedContent,
};
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
/// Runs every check and returns them in table order, with the leaf's details when there is a
/// leaf. Times are established first (the log's integrated time when its SET verifies; RFC 3161
/// timestamps), then the certificate is judged at each of them.
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
        // Only the SET signs the integrated time: the inclusion proof and checkpoint cover the
        // entry body, and the time is outside it, so an edited time still passes them.
        if set.is_pass() {
            times.push(TrustedTime {
                at: t,
                source: "integrated time (signed entry timestamp)".to_owned(),
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
    // The log's name is its host; a root without a base URL leaves the signed origin's name.
    let host = root.log(id).map(|l| l.host()).unwrap_or_default();
    let origin_name = cp.origin.split(' ').next().unwrap_or_default();
    if !host.is_empty() && origin_name != host {
        return fail(format!(
            "checkpoint origin {:?} is not the log's host {host}",
            cp.origin
        ));
    }
    let log_name = if host.is_empty() { origin_name } else { host };
    let signed_by = match cp.verify(id, key, log_name) {
        Ok(s) => s.name.clone(),
        Err(err) => return fail(err.to_string()),
    };
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
