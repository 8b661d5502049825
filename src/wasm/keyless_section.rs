//! Keyless (Sigstore) `signature` section (docs/wsc-formats.md §10.2): decoded into raw parts, the
//! leaf certificate and embedded Rekor entry summarised, and bound (or not) to the module.
//! The cryptographic checks (ECDSA signature, Fulcio chain, SET, inclusion proof) are done by
//! the transparency checks, which take [`KeylessSignature`] as it is.

use super::payload_reader::Reader;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Finding, IncidentType, Severity};
use base64::Engine as _;
use serde::Serialize;

/// First payload byte of a keyless signature section.
pub const KEYLESS_VERSION: u8 = 0x02;
/// Second byte (`KEYLESS_SIG_TYPE`).
pub const KEYLESS_SIG_TYPE: u8 = 0x02;
/// Cap on every length-prefixed field (wsc's slice cap).
pub const MAX_FIELD_LEN: u64 = 16 * 1024 * 1024;

/// The raw parts of a keyless signature section, exactly as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeylessSignature {
    /// ECDSA P-256 signature over `module_hash`, 64-byte r‖s expected.
    pub signature: Vec<u8>,
    /// Fulcio chain as PEM text, leaf first.
    pub certificates_pem: Vec<String>,
    /// wsc's compact `RekorEntry` JSON (§10.3).
    pub rekor_entry_json: Vec<u8>,
    /// SHA-256 of the module before signing (header included, §10.4).
    pub module_hash: Vec<u8>,
}

/// Why a keyless payload could not be decoded.
pub type KeylessDecodeError = super::payload_reader::PayloadDecodeError;

/// Decodes the keyless payload found at file offset `base`. Also returns the range of any
/// trailing bytes (ignored by wsc).
pub fn decode(
    payload: &[u8],
    base: u64,
) -> Result<(KeylessSignature, Option<std::ops::Range<u64>>), KeylessDecodeError> {
    let mut r = Reader::new(payload, base);
    let version = r.byte("version")?;
    if version != KEYLESS_VERSION {
        r.pos -= 1;
        return Err(r.err("version", format!("0x{version:02x}, expected 0x02")));
    }
    let sig_type = r.byte("signature type")?;
    if sig_type != KEYLESS_SIG_TYPE {
        r.pos -= 1;
        return Err(r.err("signature type", format!("0x{sig_type:02x}, expected 0x02")));
    }
    let signature = r
        .slice_capped("signature", MAX_FIELD_LEN, "field")?
        .0
        .to_vec();
    let cert_count = r.byte("certificate count")?;
    let mut certificates_pem = Vec::new();
    for i in 0..cert_count {
        let field = format!("certificate {i}");
        let at = r.pos;
        let pem = r.slice_capped(&field, MAX_FIELD_LEN, "field")?.0;
        let pem = std::str::from_utf8(pem).map_err(|e| KeylessDecodeError {
            offset: base + at as u64,
            field: field.clone(),
            reason: format!("not UTF-8 PEM text: {e}"),
        })?;
        certificates_pem.push(pem.to_owned());
    }
    let rekor_entry_json = r
        .slice_capped("rekor entry", MAX_FIELD_LEN, "field")?
        .0
        .to_vec();
    let module_hash = r
        .slice_capped("module hash", MAX_FIELD_LEN, "field")?
        .0
        .to_vec();
    let trailing = r.trailing();
    Ok((
        KeylessSignature {
            signature,
            certificates_pem,
            rekor_entry_json,
            module_hash,
        },
        trailing,
    ))
}

/// What the leaf certificate says (decoded with x509-parser; not verified here).
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// First SAN of type e-mail, URI or DNS name (wsc's identity rule, §10.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub san_identity: Option<String>,
    /// Fulcio OIDC issuer from extension 1.3.6.1.4.1.57264.1.8 (DER UTF8String) or .1.1 (raw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    pub not_before: chrono::DateTime<chrono::Utc>,
    pub not_after: chrono::DateTime<chrono::Utc>,
    pub key_algorithm: String,
    /// SHA-256 of the certificate DER.
    pub sha256: Sha256Digest,
}

/// Decodes one PEM certificate; `Err` says why it could not be read.
pub fn summarise_certificate(pem: &str) -> Result<CertificateSummary, String> {
    use x509_parser::prelude::*;
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
    let cert = pem.parse_x509().map_err(|e| e.to_string())?;
    let san_identity = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .and_then(|san| {
            san.value.general_names.iter().find_map(|g| match g {
                GeneralName::RFC822Name(s) | GeneralName::URI(s) | GeneralName::DNSName(s) => {
                    Some((*s).to_owned())
                }
                _ => None,
            })
        });
    let mut oidc_issuer = None;
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        if oid == "1.3.6.1.4.1.57264.1.8" {
            oidc_issuer = der_utf8_string(ext.value).or(oidc_issuer);
            break;
        }
        if oid == "1.3.6.1.4.1.57264.1.1" {
            oidc_issuer = std::str::from_utf8(ext.value).ok().map(str::to_owned);
            break;
        }
    }
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let param = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let key_algorithm = match (alg.as_str(), param.as_deref()) {
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => "ECDSA P-256".to_owned(),
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => "ECDSA P-384".to_owned(),
        ("1.3.101.112", _) => "Ed25519".to_owned(),
        ("1.2.840.113549.1.1.1", _) => "RSA".to_owned(),
        (a, p) => format!("{a} {}", p.unwrap_or("")).trim().to_owned(),
    };
    let ts = |t: ASN1Time| chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default();
    Ok(CertificateSummary {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        san_identity,
        oidc_issuer,
        not_before: ts(cert.validity().not_before),
        not_after: ts(cert.validity().not_after),
        key_algorithm,
        sha256: Sha256Digest::of(&pem.contents),
    })
}

/// A DER UTF8String (tag 0x0c, short or one/two-byte long length).
fn der_utf8_string(v: &[u8]) -> Option<String> {
    if v.first() != Some(&0x0c) {
        return None;
    }
    let (len, start): (usize, usize) = match *v.get(1)? {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (*v.get(2)? as usize, 3),
        0x82 => (((*v.get(2)? as usize) << 8) | *v.get(3)? as usize, 4),
        _ => return None,
    };
    let s = v.get(start..start.checked_add(len)?)?;
    std::str::from_utf8(s).ok().map(str::to_owned)
}

/// The embedded Rekor entry, read leniently (every field optional).
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct RekorSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<String>,
    /// `kind` of the base64 body (`hashedrekord`, `dsse`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_kind: Option<String>,
    /// Artifact hash the body claims (hashedrekord `spec.data.hash.value`, dsse
    /// `spec.payloadHash.value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed_hash: Option<String>,
    pub has_inclusion_proof: bool,
    pub has_signed_entry_timestamp: bool,
    /// What went wrong reading it, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl RekorSummary {
    /// `uuid` missing, empty or `skipped`: wsc skipped the upload (§10.3).
    pub fn is_placeholder(&self) -> bool {
        matches!(self.uuid.as_deref(), None | Some("") | Some("skipped"))
    }
}

pub fn summarise_rekor_entry(json: &[u8]) -> RekorSummary {
    let mut s = RekorSummary {
        uuid: None,
        log_index: None,
        integrated_time: None,
        body_kind: None,
        claimed_hash: None,
        has_inclusion_proof: false,
        has_signed_entry_timestamp: false,
        problem: None,
    };
    let v: serde_json::Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            s.problem = Some(format!("not JSON: {e}"));
            return s;
        }
    };
    s.uuid = v["uuid"].as_str().map(str::to_owned);
    s.log_index = v["log_index"].as_i64();
    s.integrated_time = match &v["integrated_time"] {
        serde_json::Value::String(t) => Some(t.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    s.has_inclusion_proof = v["inclusion_proof"]
        .as_array()
        .is_some_and(|a| !a.is_empty());
    s.has_signed_entry_timestamp = v["signed_entry_timestamp"]
        .as_str()
        .is_some_and(|t| !t.is_empty());
    if let Some(body) = v["body"].as_str().filter(|b| !b.is_empty()) {
        match base64::engine::general_purpose::STANDARD
            .decode(body)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            Some(body) => {
                s.body_kind = body["kind"].as_str().map(str::to_owned);
                s.claimed_hash = match s.body_kind.as_deref() {
                    Some("hashedrekord") => body["spec"]["data"]["hash"]["value"].as_str(),
                    Some("dsse") => body["spec"]["payloadHash"]["value"].as_str(),
                    _ => None,
                }
                .map(str::to_owned);
            }
            None => s.problem = Some("body is not base64 JSON".into()),
        }
    }
    s
}

/// Everything `inspect` says about a keyless signature.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct KeylessReport {
    #[serde(serialize_with = "ser_hex")]
    #[schemars(with = "String")]
    pub signature: Vec<u8>,
    pub certificate_count: usize,
    /// The leaf certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf: Option<CertificateSummary>,
    /// Why the leaf certificate could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_error: Option<String>,
    pub rekor: RekorSummary,
    #[serde(serialize_with = "ser_hex")]
    #[schemars(with = "String")]
    pub embedded_module_hash: Vec<u8>,
    pub recomputed_module_hash: Option<Sha256Digest>,
    pub module_hash_matches: bool,
    /// The Rekor body's artifact hash equals the recomputed module hash.
    pub rekor_bound_to_module: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing: Option<std::ops::Range<u64>>,
    /// What is left to the transparency checks.
    pub note: &'static str,
}

fn ser_hex<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

/// Summarises a decoded keyless signature against the module hash recomputed by the scanner.
pub fn analyse(
    sig: &KeylessSignature,
    trailing: Option<std::ops::Range<u64>>,
    recomputed: Option<Sha256Digest>,
) -> (KeylessReport, Vec<Finding>) {
    let leaf = sig
        .certificates_pem
        .first()
        .ok_or_else(|| "no certificate".to_owned())
        .and_then(|p| summarise_certificate(p));
    let rekor = summarise_rekor_entry(&sig.rekor_entry_json);
    let module_hash_matches = recomputed.is_some_and(|h| h.0.as_slice() == sig.module_hash);
    let rekor_bound_to_module = match (&rekor.claimed_hash, recomputed) {
        (Some(c), Some(h)) => c.eq_ignore_ascii_case(&h.to_hex()),
        _ => false,
    };
    let mut findings = Vec::new();
    if !module_hash_matches {
        findings.push(Finding::new(
            "keyless-module-hash-mismatch",
            Severity::High,
            Some(IncidentType::MaliciousModule),
            format!(
                "the keyless signature's embedded module hash {} is not the module's current hash {}: the module changed after signing (wsc verify --keyless never recomputes it and still says valid)",
                hex::encode(&sig.module_hash),
                recomputed.map(|h| h.to_hex()).unwrap_or_else(|| "-".into())
            ),
        ));
    }
    if rekor.is_placeholder() {
        findings.push(Finding::new(
            "no-transparency-evidence",
            Severity::High,
            Some(IncidentType::SigstoreCompromise),
            format!(
                "keyless signature carries no Rekor entry (uuid {:?}): nothing proves when or that it was logged; wsc verify --keyless accepts it anyway",
                rekor.uuid.as_deref().unwrap_or("")
            ),
        ));
    } else if !rekor_bound_to_module {
        findings.push(Finding::new(
            "rekor-entry-not-bound",
            Severity::High,
            Some(IncidentType::SigstoreCompromise),
            format!(
                "embedded Rekor entry {} (log index {}, kind {}) claims artifact hash {}, not this module's {}: the entry belongs to another artifact (replayed); wsc verify --keyless never compares them and says valid",
                rekor.uuid.as_deref().unwrap_or("-"),
                rekor.log_index.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
                rekor.body_kind.as_deref().unwrap_or("-"),
                rekor.claimed_hash.as_deref().unwrap_or("none"),
                recomputed.map(|h| h.to_hex()).unwrap_or_else(|| "-".into())
            ),
        ));
    }
    if let Some(t) = &trailing {
        findings.push(Finding::new(
            "signature-section-trailing-bytes",
            Severity::Medium,
            Some(IncidentType::MaliciousModule),
            format!(
                "{} bytes after the keyless signature fields (offsets {}..{}) are ignored by wsc: a place to hide data",
                t.end - t.start,
                t.start,
                t.end
            ),
        ));
    }
    (
        KeylessReport {
            signature: sig.signature.clone(),
            certificate_count: sig.certificates_pem.len(),
            leaf: leaf.as_ref().ok().cloned(),
            leaf_error: leaf.err(),
            rekor,
            embedded_module_hash: sig.module_hash.clone(),
            recomputed_module_hash: recomputed,
            module_hash_matches,
            rekor_bound_to_module,
            trailing,
            note: "ECDSA signature, certificate chain, SET and inclusion proof: see the keyless checks",
        },
        findings,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm::scanner::Scanner;

    fn keyless(rel: &str) -> (KeylessReport, Vec<Finding>) {
        let b = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc/modules")
                .join(rel),
        )
        .unwrap();
        let s = Scanner::scan_bytes(&b, Default::default());
        let p = s.signature_payload.clone().unwrap();
        let (sig, trailing) = decode(&p, 0).unwrap();
        analyse(&sig, trailing, s.keyless_module_hash)
    }

    #[test]
    fn replayed_entry_is_not_bound_to_the_module() {
        let (r, f) = keyless("keyless-replayed-rekor-entry.wasm");
        assert!(r.module_hash_matches);
        assert!(!r.rekor_bound_to_module);
        assert_eq!(r.certificate_count, 3);
        assert_eq!(r.signature.len(), 64);
        assert_eq!(r.rekor.log_index, Some(538771042));
        assert_eq!(r.rekor.body_kind.as_deref(), Some("dsse"));
        assert_eq!(
            r.rekor.claimed_hash.as_deref(),
            Some("45908497068f48fac775a9496e41828a2285a2a038143900b37832d1fc31bc83")
        );
        let leaf = r.leaf.as_ref().unwrap();
        assert_eq!(
            leaf.san_identity.as_deref(),
            Some("https://issuer.enforce.dev/b3afeb8ee1de8a24fe87ccb26faee88b5ba3cac0/5e079a99d8349d65")
        );
        assert_eq!(
            leaf.oidc_issuer.as_deref(),
            Some("https://issuer.enforce.dev")
        );
        assert_eq!(leaf.key_algorithm, "ECDSA P-256");
        let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["rekor-entry-not-bound"]);
    }

    #[test]
    fn tampered_keyless_module_hash_differs() {
        let (r, f) = keyless("keyless-replayed-rekor-entry-tampered.wasm");
        assert!(!r.module_hash_matches);
        let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["keyless-module-hash-mismatch", "rekor-entry-not-bound"]
        );
    }

    #[test]
    fn skipped_rekor_is_no_transparency_evidence() {
        let (r, f) = keyless("keyless-no-rekor.wasm");
        assert!(r.rekor.is_placeholder());
        assert!(r.module_hash_matches);
        let codes: Vec<_> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, ["no-transparency-evidence"]);
    }

    #[test]
    fn hostile_keyless_payloads_are_errors() {
        assert!(decode(&[2, 2, 0xff, 0xff, 0xff, 0xff, 0x0f], 10).is_err());
        assert!(decode(&[2, 2, 0x01, 0xaa, 0x02], 0).is_err());
        let e = decode(&[1, 1, 1], 5).unwrap_err();
        assert_eq!(e.offset, 5);
        assert_eq!(der_utf8_string(&[0x0c, 0x05, b'a']), None);
        assert_eq!(der_utf8_string(&[0x0c, 0x01, b'a']).as_deref(), Some("a"));
        // A certificate that is not UTF-8: error at its length prefix.
        let e = decode(&[2, 2, 0, 1, 2, 0xff, 0xfe], 100).unwrap_err();
        assert_eq!((e.offset, e.field.as_str()), (104, "certificate 0"));
    }
}
