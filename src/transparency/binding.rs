//! The `body-binds-artifact` check: the log entry's body records exactly this evidence (the
//! artifact's digest, the signature, the certificate or key, the DSSE envelope), for every body
//! kind read: `hashedrekord` 0.0.1/0.0.2 and `dsse` 0.0.1/0.0.2, and Rekor v2's
//! "hashedrekord over DSSE" (the digest of the envelope's PAE).

use super::certificate::{read_signer_material, SignerMaterial};
use super::check_model::{fail, not_possible, pae, pass, Material, Outcome, SignedContent};
use super::entry_body::{BodyDigest, DsseBodySignature, EntryBody};
use super::rekor_entry::LogEntry;
use sha2::{Digest, Sha256};

/// ECDSA signatures compare by (r, s), whatever the encoding (DER in Rekor, raw in wsc).
pub(crate) fn same_signature(a: &[u8], b: &[u8]) -> bool {
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

/// The DER of a PEM or DER text's first certificate, or of its public key.
fn signer_der(pem: &[u8]) -> Option<Vec<u8>> {
    match read_signer_material(pem) {
        Ok(SignerMaterial::Certificates(c)) => c.into_iter().next(),
        Ok(SignerMaterial::PublicKey(k)) => Some(k),
        Err(_) => None,
    }
}

/// What matched and what did not, gathered over one body.
#[derive(Default)]
struct Tally {
    matched: Vec<String>,
    mismatches: Vec<String>,
}

impl Tally {
    fn check(&mut self, ok: bool, matched: &str, mismatch: impl Into<String>) {
        if ok {
            self.matched.push(matched.to_owned());
        } else {
            self.mismatches.push(mismatch.into());
        }
    }
    fn outcome(self) -> Outcome {
        if self.mismatches.is_empty() {
            pass(format!("the body matches the {}", self.matched.join(", ")))
        } else {
            fail(self.mismatches.join("; "))
        }
    }
}

pub(crate) fn body_binds_artifact(m: &Material<'_>, entry: &LogEntry) -> Outcome {
    let Some(body) = &entry.parsed_body else {
        return not_possible("the entry has no body");
    };
    let mut t = Tally::default();
    if let Some((kind, version)) = &entry.kind_version {
        let actual = body.kind_name();
        if actual != format!("{kind} {version}") && !matches!(body, EntryBody::Unsupported { .. }) {
            t.mismatches.push(format!(
                "kindVersion says {kind} {version} but the body is {actual}"
            ));
        }
    }
    let outcome = match body {
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
        } => hashedrekord(m, &mut t, data_hash, signature, public_key_pem),
        EntryBody::Dsse {
            payload_hash,
            signatures,
            ..
        }
        | EntryBody::Intoto {
            payload_hash,
            signatures,
            ..
        } => dsse(m, &mut t, payload_hash.as_ref(), signatures),
    };
    outcome.unwrap_or_else(|| t.outcome())
}

/// The leaf (or key) the evidence gives beside the entry must be the body's signer.
fn same_signer(m: &Material<'_>, t: &mut Tally, body_pem: &[u8]) {
    if let Some(leaf) = &m.leaf_der {
        t.check(
            signer_der(body_pem).as_ref() == Some(leaf),
            "certificate",
            "the body's certificate differs from the evidence's leaf",
        );
    }
}

fn hashedrekord(
    m: &Material<'_>,
    t: &mut Tally,
    data_hash: &BodyDigest,
    signature: &[u8],
    public_key_pem: &[u8],
) -> Option<Outcome> {
    if data_hash.algorithm != "sha256" {
        return Some(not_possible(format!(
            "body digest algorithm {} is not supported",
            data_hash.algorithm
        )));
    }
    let body_digest = hex::encode(&data_hash.value);
    let compare_digest = |t: &mut Tally, what: &str, d: &[u8]| {
        t.check(
            d == data_hash.value.as_slice(),
            &format!("{what} digest"),
            format!(
                "the body's sha256 {body_digest} differs from the {what} digest {}",
                hex::encode(d)
            ),
        )
    };
    match &m.content {
        SignedContent::Dsse {
            payload_type,
            payload,
            signatures,
        } => {
            // Rekor v2 logs a DSSE envelope as hashedrekord over the digest of its PAE.
            let pae_digest = Sha256::digest(pae(payload_type, payload));
            compare_digest(t, "envelope PAE", &pae_digest);
            t.check(
                signatures.iter().any(|s| same_signature(s, signature)),
                "signature",
                "the body's signature is not one of the envelope's",
            );
            if let Some(a) = &m.artifact_sha256 {
                in_toto_subject(t, payload, a);
            }
            same_signer(m, t, public_key_pem);
            return None;
        }
        SignedContent::MessageDigest { digest, .. } => {
            if let Some(a) = &m.artifact_sha256 {
                compare_digest(t, "artifact", a);
            }
            compare_digest(t, "bundle message", digest)
        }
        SignedContent::WscModuleHash { module_hash, .. } => {
            compare_digest(t, "module", module_hash)
        }
        SignedContent::Detached { .. } | SignedContent::EntryOnly => {
            if let Some(a) = &m.artifact_sha256 {
                compare_digest(t, "artifact", a);
            }
        }
    }
    let other_sig = match &m.content {
        SignedContent::MessageDigest { signature, .. }
        | SignedContent::Detached { signature }
        | SignedContent::WscModuleHash { signature, .. } => Some(signature),
        _ => None,
    };
    if let Some(sig) = other_sig {
        t.check(
            same_signature(sig, signature),
            "signature",
            "the body's signature differs from the evidence's",
        );
    }
    same_signer(m, t, public_key_pem);
    if t.mismatches.is_empty() && !t.matched.iter().any(|x| x.ends_with("digest")) {
        return Some(not_possible(format!(
            "no artifact supplied (--artifact): the entry names sha256 {body_digest}"
        )));
    }
    None
}

fn in_toto_subject(t: &mut Tally, payload: &[u8], artifact: &[u8; 32]) {
    t.check(
        in_toto_subject_digests(payload).contains(&hex::encode(artifact)),
        "artifact digest (an in-toto subject)",
        format!(
            "the artifact's sha256 {} is not a subject of the envelope's statement",
            hex::encode(artifact)
        ),
    );
}

fn dsse(
    m: &Material<'_>,
    t: &mut Tally,
    payload_hash: Option<&BodyDigest>,
    signatures: &[DsseBodySignature],
) -> Option<Outcome> {
    match &m.content {
        SignedContent::Dsse {
            payload,
            signatures: env_sigs,
            ..
        } => {
            match payload_hash {
                Some(h) if h.algorithm == "sha256" => t.check(
                    Sha256::digest(payload).as_slice() == h.value.as_slice(),
                    "payload digest",
                    "the body's payloadHash differs from the envelope's payload",
                ),
                _ => t.mismatches.push("the body has no sha256 payloadHash".into()),
            }
            let all_recorded = env_sigs
                .iter()
                .all(|s| signatures.iter().any(|b| same_signature(s, &b.signature)));
            t.check(
                all_recorded && !env_sigs.is_empty(),
                "signature",
                "the envelope's signatures are not the body's",
            );
            if let Some(a) = &m.artifact_sha256 {
                in_toto_subject(t, payload, a);
            }
            if let Some(leaf) = &m.leaf_der {
                t.check(
                    signatures
                        .iter()
                        .any(|b| signer_der(&b.verifier_pem).as_ref() == Some(leaf)),
                    "certificate",
                    "the body's verifier differs from the evidence's leaf",
                );
            }
            None
        }
        SignedContent::EntryOnly => Some(not_possible(
            "a dsse entry records only the envelope's hashes; the envelope is needed to bind an artifact",
        )),
        SignedContent::WscModuleHash { signature, .. } => {
            t.mismatches.push(
                "the entry is dsse (a DSSE envelope of another artifact); a wsc keyless entry must be hashedrekord over the module hash"
                    .into(),
            );
            if !signatures.iter().any(|b| same_signature(signature, &b.signature)) {
                t.mismatches.push("the module's signature is not the body's".into());
            }
            None
        }
        SignedContent::MessageDigest { .. } | SignedContent::Detached { .. } => {
            t.mismatches
                .push("the evidence signs a message digest but the entry is dsse".into());
            None
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
