//! Who signed, and whether the signature holds: the signer as the evidence names it (leaf
//! certificate or bare public key), the `certificate-chain` check (chain to a CA of the trust
//! root, leaf valid at every trusted time, code-signing EKU, pinned identity and issuer), the
//! `signer-key` check of managed-key evidence (`--key`) and the `artifact-signature` check.

use super::certificate::{leaf_info, read_signer_material, verify_chain, LeafInfo, SignerMaterial};
use super::check_model::{
    fail, not_possible, pae, pass, IdentityPolicy, Material, Outcome, SignedContent,
};
use super::entry_body::EntryBody;
use super::public_key::PublicKey;
use super::time_text::rfc3339;
use super::trust_root::TrustRoot;
use chrono::{DateTime, Utc};

/// A time the verification may judge the certificate at, with where it came from.
#[derive(Clone, Debug)]
pub(crate) struct TrustedTime {
    pub at: DateTime<Utc>,
    pub source: String,
}

/// The signer as the checks see it.
pub(crate) struct Signer {
    pub leaf_der: Option<Vec<u8>>,
    pub leaf: Option<LeafInfo>,
    pub key: Option<PublicKey>,
    /// DER SPKI of a bare-key signer (body's key or the pinned `--key`).
    pub key_der: Option<Vec<u8>>,
    pub problem: Option<String>,
}

impl Signer {
    /// Evidence signed by a bare key (managed key), not a certificate.
    pub fn is_key_signed(&self) -> bool {
        self.leaf_der.is_none() && self.key_der.is_some()
    }
}

fn no_signer(problem: String) -> Signer {
    Signer {
        leaf_der: None,
        leaf: None,
        key: None,
        key_der: None,
        problem: Some(problem),
    }
}

/// The leaf the evidence gives (bundle, module, `.crt`), else the body's certificate, else the
/// body's bare key; a pinned `--key` is what a bare-key signature is verified with.
pub(crate) fn signer(m: &Material<'_>, policy: &IdentityPolicy) -> Signer {
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
                key_der: None,
                problem: None,
            },
            Err(e) => Signer {
                leaf_der: Some(der),
                problem: Some(format!("leaf certificate: {e}")),
                ..no_signer(String::new())
            },
        };
    }
    let key_der = match from_body {
        Some(Ok(SignerMaterial::PublicKey(spki))) => spki,
        Some(Err(e)) => return no_signer(format!("the entry body's signer: {e}")),
        _ => match (&policy.key, m.key_signed) {
            (Some(k), true) => k.clone(),
            (None, true) => {
                return no_signer(
                    "the evidence names a public key by hint only; give it with --key".to_owned(),
                )
            }
            _ => return no_signer("no certificate".to_owned()),
        },
    };
    // With a pinned key, the signature is verified with that key, never with the body's.
    let verify_with = policy.key.as_ref().unwrap_or(&key_der);
    Signer {
        leaf_der: None,
        leaf: None,
        key: PublicKey::from_spki_der(verify_with).ok(),
        key_der: Some(key_der),
        problem: Some("the signer is a bare public key, not a certificate".to_owned()),
    }
}

/// `signer-key`: managed-key evidence is verified only with a key the examiner pins (`--key`),
/// and the log entry's key must be that key.
pub(crate) fn signer_key(s: &Signer, policy: &IdentityPolicy) -> Outcome {
    let Some(pinned) = &policy.key else {
        return not_possible(
            "the evidence is signed by a bare public key: give the expected key with --key",
        );
    };
    if PublicKey::from_spki_der(pinned).is_err() {
        return fail("the --key is not an ECDSA P-256/P-384 or Ed25519 public key");
    }
    match &s.key_der {
        _ if s.leaf_der.is_some() => {
            fail("a key was pinned (--key) but the evidence is signed by a certificate")
        }
        Some(k) if k == pinned => pass("the log entry's key is the pinned --key"),
        Some(_) => fail("the log entry's key is not the pinned --key"),
        None => not_possible("the evidence names no key"),
    }
}

/// `certificate-chain`: the leaf chains to a CA of the trust root valid at every trusted time,
/// the leaf itself is valid at each, carries the code-signing EKU, and names the pinned identity
/// and issuer. Without a trusted time the check is not possible (never a pass); pinned identity
/// or issuer on key-signed evidence is a failure.
pub(crate) fn certificate_chain(
    s: &Signer,
    root: &TrustRoot,
    policy: &IdentityPolicy,
    times: &[TrustedTime],
) -> Outcome {
    let (Some(der), Some(leaf)) = (&s.leaf_der, &s.leaf) else {
        if s.is_key_signed() && policy.pins_identity() {
            return fail(
                "an identity or issuer is pinned, but the evidence is signed by a bare public key (identity flags cannot apply: use --key)",
            );
        }
        return match (&s.leaf_der, &s.problem) {
            (Some(_), Some(p)) => fail(p.clone()),
            (_, Some(p)) => not_possible(p.clone()),
            _ => not_possible("no certificate"),
        };
    };
    if policy.key.is_some() {
        return fail("a key was pinned (--key) but the evidence is signed by a certificate");
    }
    if let Err(e) = verify_chain(der, root, None) {
        return fail(e.to_string());
    }
    let Some(first) = times.first() else {
        return not_possible(
            "no trusted signing time (no verified log time and no verified RFC 3161 timestamp): the certificate's validity at signing time cannot be established",
        );
    };
    let mut chained = None;
    for t in times {
        match verify_chain(der, root, Some(t.at)) {
            Ok(c) => chained = Some(c),
            Err(e) => return fail(format!("at the {} {}: {e}", t.source, rfc3339(t.at))),
        }
        if t.at < leaf.not_before || t.at > leaf.not_after {
            return fail(format!(
                "{} {} is outside the certificate's validity {} … {}",
                t.source,
                rfc3339(t.at),
                rfc3339(leaf.not_before),
                rfc3339(leaf.not_after)
            ));
        }
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
    let Some(chained) = chained else {
        return not_possible("no trusted signing time");
    };
    pass(format!(
        "chains to {} ({}) valid at {} ({}{}); leaf valid {} … {}; identity {}; issuer {}",
        chained.uri,
        chained.subject,
        rfc3339(first.at),
        first.source,
        if times.len() > 1 {
            format!(" and {} more", times.len() - 1)
        } else {
            String::new()
        },
        rfc3339(leaf.not_before),
        rfc3339(leaf.not_after),
        leaf.identity.as_deref().unwrap_or("(none)"),
        leaf.oidc_issuer.as_deref().unwrap_or("(none)")
    ))
}

pub(crate) fn artifact_signature(m: &Material<'_>, s: &Signer) -> Outcome {
    let Some(key) = &s.key else {
        return not_possible(
            s.problem
                .clone()
                .unwrap_or_else(|| "no usable signer key".to_owned()),
        );
    };
    // `bytes`: the artifact, when `digest` is its SHA-256 and it is at hand.
    let prehash_of = |bytes: Option<&[u8]>, digest: &[u8], sig: &[u8], what: &str| match key
        .verify_sha256_of(bytes, digest, sig)
    {
        Ok(()) => pass(format!(
            "the signature verifies over the {what} with the signer's key"
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
                Some(a) => prehash_of(m.artifact_bytes, a, signature, "artifact's SHA-256"),
                None => prehash_of(
                    None,
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
                pass("a DSSE signature verifies over the envelope's PAE with the signer's key")
            } else {
                fail("no DSSE signature verifies over the envelope's PAE with the signer's key")
            }
        }
        SignedContent::Detached { signature } => match (&m.artifact_sha256, m.artifact_bytes) {
            (_, Some(bytes)) if matches!(key, PublicKey::Ed25519(_)) => {
                match key.verify_message(bytes, signature) {
                    Ok(()) => {
                        pass("the signature verifies over the artifact with the signer's key")
                    }
                    Err(e) => fail(format!("over the artifact: {e}")),
                }
            }
            (Some(a), _) => prehash_of(m.artifact_bytes, a, signature, "artifact's SHA-256"),
            _ => not_possible("no artifact supplied (--artifact)"),
        },
        SignedContent::WscModuleHash {
            signature,
            module_hash,
        } => prehash_of(None, module_hash, signature, "recomputed module hash"),
        SignedContent::EntryOnly => {
            let body = m.entry.and_then(|e| e.parsed_body.as_ref());
            match body {
                Some(EntryBody::HashedRekord {
                    data_hash,
                    signature,
                    ..
                }) => match &m.artifact_sha256 {
                    Some(a) => prehash_of(m.artifact_bytes, a, signature, "artifact's SHA-256"),
                    None => prehash_of(
                        None,
                        &data_hash.value,
                        signature,
                        "digest the entry records (artifact not supplied)",
                    ),
                },
                Some(EntryBody::Dsse { .. } | EntryBody::Intoto { .. }) => not_possible(
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
