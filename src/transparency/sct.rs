//! The `certificate-transparency` check: the signed certificate timestamps (SCTs) embedded in a
//! Fulcio leaf (RFC 6962 §3.3) verified against the CT logs of the trust root. The signed data
//! is rebuilt over the precertificate (the leaf's TBSCertificate without its SCT list, re-encoded
//! with the `der` crate) and the hash of the issuing CA's key.

use super::check_model::{fail, not_possible, pass, Outcome};
use super::time_text::rfc3339;
use super::trust_root::TrustRoot;
use chrono::DateTime;
use der::asn1::Any;
use der::{Decode, Encode, Tag, TagNumber, Tagged};
use sha2::{Digest, Sha256};
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

/// The precertificate TBS: the leaf's TBSCertificate with the SCT list extension removed.
fn precert_tbs(tbs_der: &[u8]) -> Result<Vec<u8>, String> {
    let mut fields = <Vec<Any> as Decode>::from_der(tbs_der).map_err(|e| format!("TBS: {e}"))?;
    let ext_tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(3),
    };
    let last = fields
        .last_mut()
        .filter(|f| f.tag() == ext_tag)
        .ok_or("the leaf has no extensions")?;
    let mut exts = <Vec<x509_cert::ext::Extension> as Decode>::from_der(last.value())
        .map_err(|e| format!("extensions: {e}"))?;
    exts.retain(|e| e.extn_id.to_string() != OID_SCT_LIST);
    let inner = exts.to_der().map_err(|e| e.to_string())?;
    *last = Any::new(ext_tag, inner).map_err(|e| e.to_string())?;
    fields.to_der().map_err(|e| e.to_string())
}

/// SHA-256 of the issuing CA's SubjectPublicKeyInfo, from the trust root.
fn issuer_key_hash(leaf: &X509Certificate<'_>, root: &TrustRoot) -> Option<[u8; 32]> {
    root.certificate_authorities
        .iter()
        .filter_map(|ca| ca.chain_der.first())
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .find(|c| c.subject().as_raw() == leaf.issuer().as_raw())
        .map(|c| Sha256::digest(c.public_key().raw).into())
}

fn signed_data(timestamp: u64, issuer_hash: &[u8; 32], tbs: &[u8], extensions: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8, 0u8]; // v1, certificate_timestamp
    d.extend_from_slice(&timestamp.to_be_bytes());
    d.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    d.extend_from_slice(issuer_hash);
    d.extend_from_slice(&(tbs.len() as u32).to_be_bytes()[1..]);
    d.extend_from_slice(tbs);
    d.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    d.extend_from_slice(extensions);
    d
}

/// Every SCT from a CT log of the trust root must verify, with the log valid at its time, and
/// at least one must.
pub(crate) fn certificate_transparency(leaf_der: &[u8], root: &TrustRoot) -> Outcome {
    let Ok((_, leaf)) = X509Certificate::from_der(leaf_der) else {
        return fail("the leaf does not parse");
    };
    let scts = leaf
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SCT(list) => Some(list.clone()),
            _ => None,
        });
    let Some(scts) = scts.filter(|l| !l.is_empty()) else {
        return not_possible("the leaf embeds no signed certificate timestamp");
    };
    if root.ctlogs.is_empty() {
        return not_possible("the trust root lists no CT log");
    }
    let Some(issuer_hash) = issuer_key_hash(&leaf, root) else {
        return not_possible("the leaf's issuer is not a CA of the trust root");
    };
    let tbs = match precert_tbs(leaf.tbs_certificate.as_ref()) {
        Ok(t) => t,
        Err(e) => return fail(format!("precertificate: {e}")),
    };
    let mut verified = Vec::new();
    let mut unusable = Vec::new();
    for sct in &scts {
        let id = sct.id.key_id;
        let Some(log) = root.ctlogs.iter().find(|l| l.log_id == id) else {
            continue;
        };
        let at = DateTime::from_timestamp_millis(sct.timestamp as i64).unwrap_or_default();
        // A key type we cannot verify with is a check not made.
        let Some(key) = &log.key else {
            unusable.push(format!("{} ({})", hex::encode(&id[..4]), log.key_details));
            continue;
        };
        let data = signed_data(sct.timestamp, &issuer_hash, &tbs, sct.extensions.0);
        if key.verify_message(&data, sct.signature.data).is_err() {
            return fail(format!(
                "the SCT of CT log {} does not verify",
                hex::encode(&id[..4])
            ));
        }
        if !log.valid_for.contains(at) {
            return fail(format!(
                "CT log {} is not valid at the SCT's time {}",
                hex::encode(&id[..4]),
                rfc3339(at)
            ));
        }
        verified.push(format!("{} at {}", hex::encode(&id[..4]), rfc3339(at)));
    }
    if !unusable.is_empty() {
        return not_possible(format!(
            "SCT of CT log {} not verified: key type not supported",
            unusable.join(", ")
        ));
    }
    if verified.is_empty() {
        return fail("no SCT is from a CT log of the trust root");
    }
    pass(format!("SCT verified: {}", verified.join(", ")))
}
