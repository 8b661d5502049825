//! Sigstore bundles (`application/vnd.dev.sigstore.bundle+json;version=0.1|0.2|0.3` and
//! `application/vnd.dev.sigstore.bundle.v0.3+json`): the verification material (certificate
//! chain or single certificate, tlog entries) and the signed content (message signature or DSSE
//! envelope).

use super::checks::SignedContent;
use super::json_field::{parse_document, Node};
use super::rekor_entry::{parse_bundle_tlog_entry, LogEntry};
use super::TransparencyError;

const MAX_CERT: usize = 64 * 1024;
const MAX_SIG: usize = 16 * 1024;
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// A parsed bundle.
#[derive(Clone, Debug)]
pub struct SigstoreBundle {
    pub media_type: String,
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
        let vm = root.req("verificationMaterial")?;
        let mut certificates = Vec::new();
        if let Some(chain) = vm.opt("x509CertificateChain") {
            for c in chain.req("certificates")?.array(8)? {
                certificates.push(c.req("rawBytes")?.base64(MAX_CERT)?);
            }
        } else if let Some(c) = vm.opt("certificate") {
            certificates.push(c.req("rawBytes")?.base64(MAX_CERT)?);
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
            certificates,
            tlog_entries,
            content,
        })
    }
}
