//! Fulcio certificates: reading PEM/DER, the identity (first e-mail/URI/DNS SAN) and OIDC issuer
//! (Fulcio extensions 1.3.6.1.4.1.57264.1.1 raw / .1.8 DER UTF8String), the code-signing EKU, and
//! the chain check of a leaf against the certificate authorities of a trust root at a given time.
//! As wsc does, only the leaf is taken from the evidence; intermediates and roots come from the
//! trust root.

use super::trust_root::TrustRoot;
use chrono::{DateTime, Utc};
use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const MAX_PEM_BLOCKS: usize = 16;

/// What a PEM text (a body's `publicKey.content`, a `.crt` file) holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignerMaterial {
    /// DER certificates, leaf first.
    Certificates(Vec<Vec<u8>>),
    /// A bare DER SubjectPublicKeyInfo (keyed, not keyless, signing).
    PublicKey(Vec<u8>),
}

/// Reads PEM text with CERTIFICATE or PUBLIC KEY blocks; also accepts one DER certificate.
pub fn read_signer_material(bytes: &[u8]) -> Result<SignerMaterial, String> {
    if bytes.first() == Some(&0x30) {
        X509Certificate::from_der(bytes).map_err(|e| format!("not a DER certificate: {e}"))?;
        return Ok(SignerMaterial::Certificates(vec![bytes.to_vec()]));
    }
    let mut certs = Vec::new();
    for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
        if i >= MAX_PEM_BLOCKS {
            return Err(format!("more than {MAX_PEM_BLOCKS} PEM blocks"));
        }
        let pem = pem.map_err(|e| format!("PEM block {i}: {e}"))?;
        match pem.label.as_str() {
            "CERTIFICATE" => {
                X509Certificate::from_der(&pem.contents)
                    .map_err(|e| format!("PEM block {i} is not a certificate: {e}"))?;
                certs.push(pem.contents);
            }
            "PUBLIC KEY" if certs.is_empty() => return Ok(SignerMaterial::PublicKey(pem.contents)),
            other => return Err(format!("unexpected PEM block {other:?}")),
        }
    }
    if certs.is_empty() {
        return Err("no PEM certificate or public key".to_owned());
    }
    Ok(SignerMaterial::Certificates(certs))
}

/// What a leaf certificate says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeafInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// First e-mail, URI or DNS SAN (subject CN when there is none).
    pub identity: Option<String>,
    /// From Fulcio's issuer extension only; never the certificate issuer's CN.
    pub oidc_issuer: Option<String>,
    pub code_signing_eku: bool,
    #[serde(skip)]
    pub spki_der: Vec<u8>,
}

pub fn leaf_info(der: &[u8]) -> Result<LeafInfo, String> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
    let time = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
    };
    let mut identity = None;
    let mut oidc_issuer = None;
    let mut code_signing_eku = false;
    for ext in cert.iter_extensions() {
        let oid = ext.oid.to_id_string();
        if (oid == OID_ISSUER_V1 || oid == OID_ISSUER_V2) && oidc_issuer.is_none() {
            oidc_issuer = Some(issuer_extension_value(ext.value));
        }
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) if identity.is_none() => {
                identity = san.general_names.iter().find_map(|g| match g {
                    GeneralName::RFC822Name(s) | GeneralName::URI(s) | GeneralName::DNSName(s) => {
                        Some((*s).to_owned())
                    }
                    _ => None,
                });
            }
            ParsedExtension::ExtendedKeyUsage(eku) => code_signing_eku = eku.code_signing,
            _ => {}
        }
    }
    if identity.is_none() {
        identity = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned);
    }
    Ok(LeafInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
        identity,
        oidc_issuer,
        code_signing_eku,
        spki_der: cert.public_key().raw.to_vec(),
    })
}

/// `.1.8` is a DER UTF8String; `.1.1` is the raw string. Try DER first, as wsc does.
fn issuer_extension_value(v: &[u8]) -> String {
    if v.len() >= 2 && v[0] == 0x0c {
        let (len, hdr) = match v[1] {
            n @ 0..=0x7f => (n as usize, 2),
            0x81 if v.len() >= 3 => (v[2] as usize, 3),
            0x82 if v.len() >= 4 => (((v[2] as usize) << 8) | v[3] as usize, 4),
            _ => (usize::MAX, 0),
        };
        if hdr > 0 && hdr + len == v.len() {
            if let Ok(s) = std::str::from_utf8(&v[hdr..]) {
                return s.to_owned();
            }
        }
    }
    String::from_utf8_lossy(v).into_owned()
}

/// Why a leaf does not chain to the trust root.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("the trust root has no certificate authority")]
    NoAuthorities,
    #[error("no certificate authority of the trust root issued this leaf ({0})")]
    NoIssuer(String),
    #[error("leaf was issued by {ca}, but that authority is not valid at {}", super::time_text::rfc3339(*at))]
    AuthorityNotValidAt { ca: String, at: DateTime<Utc> },
    #[error("certificate {subject} of the chain is not valid at {}", super::time_text::rfc3339(*at))]
    ChainCertNotValidAt { subject: String, at: DateTime<Utc> },
}

/// The authority a leaf chained to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChainedTo {
    pub uri: String,
    pub subject: String,
    pub chain_len: usize,
}

/// Checks the leaf's signature path to a CA of the root; with `at`, also that the authority and
/// every chain certificate were valid then (the leaf's own window is checked by the caller, so it
/// can say which failed).
pub fn verify_chain(
    leaf_der: &[u8],
    root: &TrustRoot,
    at: Option<DateTime<Utc>>,
) -> Result<ChainedTo, ChainError> {
    let (_, leaf) = X509Certificate::from_der(leaf_der)
        .map_err(|e| ChainError::NoIssuer(format!("leaf does not parse: {e}")))?;
    if root.certificate_authorities.is_empty() {
        return Err(ChainError::NoAuthorities);
    }
    let mut reasons = Vec::new();
    let mut time_failure = None;
    for ca in &root.certificate_authorities {
        let chain: Vec<X509Certificate<'_>> = match ca
            .chain_der
            .iter()
            .map(|d| X509Certificate::from_der(d).map(|(_, c)| c))
            .collect::<Result<_, _>>()
        {
            Ok(c) => c,
            Err(_) => continue,
        };
        let Some(issuer) = chain.first() else {
            continue;
        };
        if leaf.issuer().as_raw() != issuer.subject().as_raw() {
            continue;
        }
        if leaf.verify_signature(Some(issuer.public_key())).is_err() {
            reasons.push(format!("{}: leaf signature does not verify", ca.uri));
            continue;
        }
        // The links above the leaf depend on the root alone: verified once, when it was read.
        if !ca.chain_verifies {
            reasons.push(format!("{}: authority chain does not verify", ca.uri));
            continue;
        }
        let label = if ca.subject.is_empty() {
            ca.uri.clone()
        } else {
            format!("{} ({})", ca.uri, ca.subject)
        };
        if let Some(t) = at {
            if !ca.valid_for.contains(t) {
                time_failure.get_or_insert(ChainError::AuthorityNotValidAt { ca: label, at: t });
                continue;
            }
            let asn1 = x509_parser::time::ASN1Time::from_timestamp(t.timestamp()).ok();
            if let Some(bad) = chain
                .iter()
                .find(|c| asn1.is_some_and(|a| !c.validity().is_valid_at(a)))
            {
                time_failure.get_or_insert(ChainError::ChainCertNotValidAt {
                    subject: bad.subject().to_string(),
                    at: t,
                });
                continue;
            }
        }
        return Ok(ChainedTo {
            uri: ca.uri.clone(),
            subject: ca.subject.clone(),
            chain_len: chain.len(),
        });
    }
    if let Some(e) = time_failure {
        return Err(e);
    }
    if reasons.is_empty() {
        reasons.push(format!("leaf issuer is {}", leaf.issuer()));
    }
    Err(ChainError::NoIssuer(reasons.join("; ")))
}
