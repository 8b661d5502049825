//! Sigstore bundles (`application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3` and
//! `application/vnd.dev.sigstore.bundle.v0.3+json`): the verification material (certificate
//! chain or single certificate, tlog entries) and the signed content (message signature or DSSE
//! envelope).

use super::check_model::SignedContent;
use super::json_field::{parse_document, Node};
use super::rekor_entry::{parse_bundle_tlog_entry, LogEntry};
use super::TransparencyError;
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

const MAX_CERT: usize = 64 * 1024;
const MAX_SIG: usize = 16 * 1024;
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

const MAX_TIMESTAMP: usize = 64 * 1024;

/// The bundle format versions of the spec; any other media type is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BundleVersion {
    #[serde(rename = "0.1")]
    V0_1,
    #[serde(rename = "0.2")]
    V0_2,
    #[serde(rename = "0.3")]
    V0_3,
}

impl BundleVersion {
    pub fn from_media_type(mt: &str) -> Option<BundleVersion> {
        match mt {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Some(BundleVersion::V0_1),
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Some(BundleVersion::V0_2),
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Some(BundleVersion::V0_3),
            _ => None,
        }
    }
}

/// A parsed bundle.
#[derive(Clone, Debug)]
pub struct SigstoreBundle {
    pub media_type: String,
    pub version: BundleVersion,
    /// The verification material is a public-key hint (managed key), not a certificate.
    pub key_signed: bool,
    /// `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`, DER.
    pub timestamps: Vec<Vec<u8>>,
    /// DER certificates as the bundle gives them, leaf first (empty with a public-key hint).
    pub certificates: Vec<Vec<u8>>,
    pub tlog_entries: Vec<LogEntry>,
    pub content: SignedContent,
}

/// True when the document looks like a Sigstore bundle.
pub fn is_bundle(doc: &serde_json::Value) -> bool {
    doc.get("mediaType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
}

impl SigstoreBundle {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<SigstoreBundle, TransparencyError> {
        Self::from_document(file, &parse_document(file, bytes)?)
    }

    /// Reads a bundle from an already parsed document.
    pub fn from_document(
        file: &str,
        doc: &serde_json::Value,
    ) -> Result<SigstoreBundle, TransparencyError> {
        let root = Node::root(file, doc);
        let mt = root.req("mediaType")?;
        let media_type = mt.str()?.to_owned();
        if !media_type.starts_with("application/vnd.dev.sigstore.bundle") {
            return Err(mt.error(format!("not a Sigstore bundle: {media_type:?}")));
        }
        let version = BundleVersion::from_media_type(&media_type).ok_or_else(|| {
            mt.error(format!(
                "unknown bundle media type {media_type:?}: only versions 0.1, 0.2 and 0.3 are defined"
            ))
        })?;
        let vm = root.req("verificationMaterial")?;
        let mut certificates = Vec::new();
        if let Some(chain) = vm.opt("x509CertificateChain") {
            let certs = chain.req("certificates")?;
            for c in certs.array(8)? {
                let raw = c.req("rawBytes")?;
                let der = raw.base64(MAX_CERT)?;
                if is_self_signed(&der) {
                    return Err(raw.error(
                        "the chain includes a root (self-signed) certificate: the spec forbids it; roots come from the trust root",
                    ));
                }
                certificates.push(der);
            }
            if certificates.is_empty() {
                return Err(certs.error("the certificate chain is empty"));
            }
        } else if let Some(c) = vm.opt("certificate") {
            certificates.push(c.req("rawBytes")?.base64(MAX_CERT)?);
        }
        let key_signed = certificates.is_empty() && vm.opt("publicKey").is_some();
        if certificates.is_empty() && !key_signed {
            return Err(vm.error("neither a certificate, a certificate chain nor a public key"));
        }
        let mut timestamps = Vec::new();
        if let Some(tvd) = vm.opt("timestampVerificationData") {
            if let Some(list) = tvd.opt("rfc3161Timestamps") {
                for t in list.array(16)? {
                    timestamps.push(t.req("signedTimestamp")?.base64(MAX_TIMESTAMP)?);
                }
            }
        }
        let mut tlog_entries = Vec::new();
        if let Some(entries) = vm.opt("tlogEntries") {
            for e in entries.array(16)? {
                tlog_entries.push(parse_bundle_tlog_entry(&e)?);
            }
        }
        let content = if let Some(ms) = root.opt("messageSignature") {
            let (algorithm, digest) = match ms.opt("messageDigest") {
                Some(d) => (
                    d.req("algorithm")?.str()?.to_owned(),
                    d.req("digest")?.base64(64)?,
                ),
                None => (String::new(), Vec::new()),
            };
            SignedContent::MessageDigest {
                algorithm,
                digest,
                signature: ms.req("signature")?.base64(MAX_SIG)?,
            }
        } else if let Some(env) = root.opt("dsseEnvelope") {
            let mut signatures = Vec::new();
            for s in env.req("signatures")?.array(16)? {
                signatures.push(s.req("sig")?.base64(MAX_SIG)?);
            }
            SignedContent::Dsse {
                payload_type: env.req("payloadType")?.str()?.to_owned(),
                payload: env.req("payload")?.base64(MAX_PAYLOAD)?,
                signatures,
            }
        } else {
            return Err(root.error("neither messageSignature nor dsseEnvelope"));
        };
        Ok(SigstoreBundle {
            media_type,
            version,
            key_signed,
            timestamps,
            certificates,
            tlog_entries,
            content,
        })
    }
}

/// A certificate whose issuer is its subject and that verifies under its own key.
fn is_self_signed(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, c)| {
        c.issuer().as_raw() == c.subject().as_raw() && c.verify_signature(None).is_ok()
    })
}
