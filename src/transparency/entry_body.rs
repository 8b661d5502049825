//! The canonical body of a Rekor entry (the JSON the leaf hash covers): `hashedrekord` and `dsse`
//! 0.0.1 (Rekor v1) and 0.0.2 (Rekor v2) are read fully into one shape; every other kind is kept
//! as "unsupported" with its kind and version.

use super::json_field::{parse_document, Node};
use super::TransparencyError;
use serde::Serialize;

const MAX_SIG: usize = 16 * 1024;
const MAX_KEY: usize = 256 * 1024;

/// A digest with its algorithm name as the body writes it (`sha256`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BodyDigest {
    pub algorithm: String,
    #[serde(serialize_with = "super::serialize_hex")]
    pub value: Vec<u8>,
}

/// One DSSE signature recorded in a `dsse` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DsseBodySignature {
    #[serde(skip)]
    pub signature: Vec<u8>,
    /// The verifier as recorded: PEM text of a certificate or public key.
    #[serde(skip)]
    pub verifier_pem: Vec<u8>,
}

/// What the body says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EntryBody {
    HashedRekord {
        api_version: String,
        data_hash: BodyDigest,
        #[serde(skip)]
        signature: Vec<u8>,
        /// `publicKey.content` decoded: PEM of a certificate (chain) or of a public key.
        #[serde(skip)]
        public_key_pem: Vec<u8>,
    },
    Dsse {
        api_version: String,
        envelope_hash: Option<BodyDigest>,
        payload_hash: Option<BodyDigest>,
        signatures: Vec<DsseBodySignature>,
    },
    /// `intoto` 0.0.2: a DSSE envelope with an in-toto statement, recorded with its payload
    /// hash and its signatures (the same shape as `dsse`).
    Intoto {
        api_version: String,
        payload_hash: Option<BodyDigest>,
        signatures: Vec<DsseBodySignature>,
    },
    Unsupported {
        body_kind: String,
        api_version: String,
    },
}

impl EntryBody {
    pub fn kind_name(&self) -> String {
        match self {
            EntryBody::HashedRekord { api_version, .. } => format!("hashedrekord {api_version}"),
            EntryBody::Dsse { api_version, .. } => format!("dsse {api_version}"),
            EntryBody::Intoto { api_version, .. } => format!("intoto {api_version}"),
            EntryBody::Unsupported {
                body_kind,
                api_version,
            } => format!("{body_kind} {api_version}"),
        }
    }

    /// Parses the decoded canonical body.
    pub fn parse(file: &str, field: &str, bytes: &[u8]) -> Result<EntryBody, TransparencyError> {
        let doc = parse_document(file, bytes).map_err(|e| match e {
            TransparencyError::Json { file, source } => TransparencyError::Field {
                file,
                field: field.to_owned(),
                problem: format!("decoded body is not JSON: {source}"),
            },
            other => other,
        })?;
        let root = Node {
            file,
            path: format!("{field}(decoded)"),
            value: &doc,
        };
        let kind = root.req("kind")?.str()?.to_owned();
        let api_version = root.req("apiVersion")?.str()?.to_owned();
        let spec = root.req("spec")?;
        Self::from_spec(&kind, api_version, &spec)
    }

    /// Reads a `spec` object (also used for `rekor-cli get` output, whose `Body` holds the spec
    /// decoded).
    pub fn from_spec(
        kind: &str,
        api_version: String,
        spec: &Node<'_>,
    ) -> Result<EntryBody, TransparencyError> {
        match (kind, api_version.as_str()) {
            ("hashedrekord", "0.0.1") => {
                let hash = spec.req("data")?.req("hash")?;
                let data_hash = BodyDigest {
                    algorithm: hash.req("algorithm")?.str()?.to_owned(),
                    value: hash.req("value")?.hex(64)?,
                };
                let sig = spec.req("signature")?;
                Ok(EntryBody::HashedRekord {
                    api_version,
                    data_hash,
                    signature: sig.req("content")?.base64(MAX_SIG)?,
                    public_key_pem: sig.req("publicKey")?.req("content")?.base64(MAX_KEY)?,
                })
            }
            ("dsse", "0.0.1") => {
                let digest = |key: &str| -> Result<Option<BodyDigest>, TransparencyError> {
                    spec.opt(key)
                        .map(|h| {
                            Ok(BodyDigest {
                                algorithm: h.req("algorithm")?.str()?.to_owned(),
                                value: h.req("value")?.hex(64)?,
                            })
                        })
                        .transpose()
                };
                let mut signatures = Vec::new();
                if let Some(sigs) = spec.opt("signatures") {
                    for s in sigs.array(16)? {
                        signatures.push(DsseBodySignature {
                            signature: s.req("signature")?.base64(MAX_SIG)?,
                            verifier_pem: s.req("verifier")?.base64(MAX_KEY)?,
                        });
                    }
                }
                Ok(EntryBody::Dsse {
                    api_version,
                    envelope_hash: digest("envelopeHash")?,
                    payload_hash: digest("payloadHash")?,
                    signatures,
                })
            }
            ("hashedrekord", "0.0.2") => {
                let spec = spec.req("hashedRekordV002")?;
                let data = spec.req("data")?;
                let sig = spec.req("signature")?;
                Ok(EntryBody::HashedRekord {
                    api_version,
                    data_hash: v2_digest(&data)?,
                    signature: sig.req("content")?.base64(MAX_SIG)?,
                    public_key_pem: v2_verifier(&sig.req("verifier")?)?,
                })
            }
            ("dsse", "0.0.2") => {
                let spec = spec.req("dsseV002")?;
                let mut signatures = Vec::new();
                for s in spec.req("signatures")?.array(16)? {
                    signatures.push(DsseBodySignature {
                        signature: s.req("content")?.base64(MAX_SIG)?,
                        verifier_pem: v2_verifier(&s.req("verifier")?)?,
                    });
                }
                Ok(EntryBody::Dsse {
                    api_version,
                    envelope_hash: None,
                    payload_hash: Some(v2_digest(&spec.req("payloadHash")?)?),
                    signatures,
                })
            }
            ("intoto", "0.0.2") => {
                let content = spec.req("content")?;
                let envelope = content.req("envelope")?;
                let mut signatures = Vec::new();
                for s in envelope.req("signatures")?.array(16)? {
                    // intoto 0.0.2 stores the signature base64-encoded twice.
                    let sig_node = s.req("sig")?;
                    let once = sig_node.base64(MAX_SIG * 2)?;
                    let text = std::str::from_utf8(&once)
                        .map_err(|_| sig_node.error("not base64 text once decoded"))?;
                    signatures.push(DsseBodySignature {
                        signature: super::json_field::decode_base64(text, MAX_SIG)
                            .map_err(|p| sig_node.error(p))?,
                        verifier_pem: s.req("publicKey")?.base64(MAX_KEY)?,
                    });
                }
                let payload_hash = content
                    .opt("payloadHash")
                    .map(|h| {
                        Ok::<_, TransparencyError>(BodyDigest {
                            algorithm: h.req("algorithm")?.str()?.to_owned(),
                            value: h.req("value")?.hex(64)?,
                        })
                    })
                    .transpose()?;
                Ok(EntryBody::Intoto {
                    api_version,
                    payload_hash,
                    signatures,
                })
            }
            _ => Ok(EntryBody::Unsupported {
                body_kind: kind.to_owned(),
                api_version,
            }),
        }
    }

    pub fn api_version(&self) -> &str {
        match self {
            EntryBody::HashedRekord { api_version, .. }
            | EntryBody::Dsse { api_version, .. }
            | EntryBody::Intoto { api_version, .. }
            | EntryBody::Unsupported { api_version, .. } => api_version,
        }
    }

    /// The PEM text naming the signer (certificate chain or key), if the body has one.
    pub fn signer_pem(&self) -> Option<&[u8]> {
        match self {
            EntryBody::HashedRekord { public_key_pem, .. } => Some(public_key_pem),
            EntryBody::Dsse { signatures, .. } | EntryBody::Intoto { signatures, .. } => {
                signatures.first().map(|s| s.verifier_pem.as_slice())
            }
            EntryBody::Unsupported { .. } => None,
        }
    }

    /// The signature the body records (hashedrekord's, or the first DSSE one).
    pub fn signature(&self) -> Option<&[u8]> {
        match self {
            EntryBody::HashedRekord { signature, .. } => Some(signature),
            EntryBody::Dsse { signatures, .. } | EntryBody::Intoto { signatures, .. } => {
                signatures.first().map(|s| s.signature.as_slice())
            }
            EntryBody::Unsupported { .. } => None,
        }
    }
}

/// A Rekor v2 `HashOutput` (`{"algorithm": "SHA2_256", "digest": base64}`), named the v1 way.
fn v2_digest(n: &Node<'_>) -> Result<BodyDigest, TransparencyError> {
    let alg = n.req("algorithm")?.str()?;
    Ok(BodyDigest {
        algorithm: match alg {
            "SHA2_256" => "sha256".to_owned(),
            "SHA2_384" => "sha384".to_owned(),
            "SHA2_512" => "sha512".to_owned(),
            other => other.to_owned(),
        },
        value: n.req("digest")?.base64(64)?,
    })
}

/// A Rekor v2 `Verifier` (DER certificate or DER public key) as PEM text, the v1 shape.
fn v2_verifier(n: &Node<'_>) -> Result<Vec<u8>, TransparencyError> {
    let (label, raw) = match (n.opt("x509Certificate"), n.opt("publicKey")) {
        (Some(c), _) => ("CERTIFICATE", c.req("rawBytes")?.base64(MAX_KEY)?),
        (None, Some(k)) => ("PUBLIC KEY", k.req("rawBytes")?.base64(MAX_KEY)?),
        (None, None) => return Err(n.error("neither x509Certificate nor publicKey")),
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    Ok(pem.into_bytes())
}
