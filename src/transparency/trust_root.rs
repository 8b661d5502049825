//! Sigstore trusted roots (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the transparency logs (id, key,
//! validity window) and Fulcio certificate authorities (chain, validity window) every check is
//! judged against. Any root can be used: production, staging, wsc's embedded one or a private
//! instance.

use super::json_field::{parse_document, Node};
use super::public_key::{LogKeyAlgorithm, PublicKey};
use super::TransparencyError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The bundled default: Sigstore's public-good production trusted root, copied byte for byte from
/// sigstore-python's test assets (commit 27db13db), see `src/transparency/roots/README.md`.
pub const PRODUCTION_TRUSTED_ROOT: &[u8] =
    include_bytes!("roots/sigstore-production-trusted_root.json");

/// How the bundled root is described in every report.
pub const PRODUCTION_ORIGIN: &str =
    "bundled Sigstore production trusted root (sigstore-python test assets, commit 27db13db)";

const MAX_LOGS: usize = 64;
const MAX_CAS: usize = 64;
const MAX_CHAIN: usize = 8;
const MAX_KEY_BYTES: usize = 16 * 1024;
const MAX_CERT_BYTES: usize = 64 * 1024;

/// A time window from a `validFor` object; `end` absent means still valid.
#[derive(schemars::JsonSchema, Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidFor {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl ValidFor {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t <= e)
    }
}

/// One transparency log (Rekor) of the root.
#[derive(schemars::JsonSchema, Clone, Debug, Serialize)]
pub struct TransparencyLog {
    pub base_url: String,
    /// SHA-256 of the key's DER SubjectPublicKeyInfo, as the root states it (`logId.keyId`).
    #[serde(serialize_with = "super::serialize_hex")]
    #[schemars(with = "String")]
    pub log_id: Vec<u8>,
    /// The key details string of the root (`PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`, …).
    pub key_details: String,
    pub algorithm: LogKeyAlgorithm,
    #[serde(skip)]
    pub key: Option<PublicKey>,
    pub valid_for: ValidFor,
    /// True when the stated log id equals SHA-256 of the key's DER SPKI, the Rekor v1 rule. Rekor
    /// v2 (Ed25519) logs name themselves differently, so `false` is only suspicious for ECDSA logs
    /// (see [`TransparencyLog::log_id_is_suspicious`]).
    pub log_id_is_key_hash: bool,
}

impl TransparencyLog {
    /// An ECDSA (Rekor v1) log whose stated id is not its key's hash: a root that disagrees with
    /// itself is reported, never trusted silently.
    pub fn log_id_is_suspicious(&self) -> bool {
        !self.log_id_is_key_hash && self.algorithm != LogKeyAlgorithm::Ed25519
    }

    /// The host part of `base_url`, which checkpoint origins start with.
    pub fn host(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map(|(_, r)| r)
            .unwrap_or(&self.base_url);
        rest.split('/').next().unwrap_or(rest)
    }
}

/// One Fulcio certificate authority: its chain (issuing certificate first, root last).
#[derive(schemars::JsonSchema, Clone, Debug, Serialize)]
pub struct CertificateAuthority {
    pub uri: String,
    pub subject: String,
    #[serde(skip)]
    pub chain_der: Vec<Vec<u8>>,
    pub chain_len: usize,
    /// Each chain certificate is signed by the next and the last by itself: checked once, when
    /// the root is read, since it depends on the root alone (each leaf still needs its own).
    #[serde(skip)]
    pub chain_verifies: bool,
    pub valid_for: ValidFor,
}

/// A parsed trusted root.
#[derive(schemars::JsonSchema, Clone, Debug, Serialize)]
pub struct TrustRoot {
    /// Where the root came from, stated in every report.
    pub origin: String,
    pub media_type: String,
    pub logs: Vec<TransparencyLog>,
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate Transparency logs (SCTs in Fulcio leaves are judged against these).
    pub ctlogs: Vec<TransparencyLog>,
    /// RFC 3161 timestamp authorities (chain and validity window, like a CA).
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustRoot {
    /// The bundled Sigstore production root.
    pub fn production() -> TrustRoot {
        // The bundled file is tested to parse; failing here would be a build defect.
        TrustRoot::parse("bundled production trusted root", PRODUCTION_TRUSTED_ROOT)
            .map(|mut r| {
                r.origin = PRODUCTION_ORIGIN.to_owned();
                r
            })
            .expect("the bundled production trusted root parses")
    }

    /// Parses a `trusted_root.json`; `file` names it in errors and becomes the origin.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<TrustRoot, TransparencyError> {
        Self::from_document(file, &parse_document(file, bytes)?)
    }

    /// Reads a trusted root from an already parsed document.
    pub fn from_document(
        file: &str,
        doc: &serde_json::Value,
    ) -> Result<TrustRoot, TransparencyError> {
        let root = Node::root(file, doc);
        let media_type = root.req("mediaType")?.str()?.to_owned();
        if !media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
            return Err(root
                .req("mediaType")?
                .error(format!("not a Sigstore trusted root: {media_type:?}")));
        }
        let mut logs = Vec::new();
        if let Some(tlogs) = root.opt("tlogs") {
            for t in tlogs.array(MAX_LOGS)? {
                logs.push(parse_log(&t)?);
            }
        }
        let mut ctlogs = Vec::new();
        if let Some(c) = root.opt("ctlogs") {
            for t in c.array(MAX_LOGS)? {
                ctlogs.push(parse_log(&t)?);
            }
        }
        let mut certificate_authorities = Vec::new();
        if let Some(cas) = root.opt("certificateAuthorities") {
            for ca in cas.array(MAX_CAS)? {
                certificate_authorities.push(parse_ca(&ca)?);
            }
        }
        let mut timestamp_authorities = Vec::new();
        if let Some(tsas) = root.opt("timestampAuthorities") {
            for tsa in tsas.array(MAX_CAS)? {
                timestamp_authorities.push(parse_ca(&tsa)?);
            }
        }
        Ok(TrustRoot {
            origin: format!("file {file}"),
            media_type,
            logs,
            certificate_authorities,
            ctlogs,
            timestamp_authorities,
        })
    }

    /// The log whose id is `log_id`.
    pub fn log(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.logs.iter().find(|l| l.log_id == log_id)
    }

    /// Builds a root from parts (private instances made by tests or by callers).
    pub fn from_parts(
        origin: impl Into<String>,
        logs: Vec<TransparencyLog>,
        certificate_authorities: Vec<CertificateAuthority>,
    ) -> TrustRoot {
        TrustRoot {
            origin: origin.into(),
            media_type: "application/vnd.dev.sigstore.trustedroot+json;version=0.1".to_owned(),
            logs,
            certificate_authorities,
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        }
    }
}

impl TransparencyLog {
    /// A log from its base URL, DER SPKI key and validity (the log id is computed).
    pub fn new(base_url: &str, spki_der: &[u8], valid_for: ValidFor) -> TransparencyLog {
        let key = PublicKey::from_log_spki_der(spki_der).ok();
        let algorithm = key
            .as_ref()
            .map(|k| k.algorithm())
            .unwrap_or(LogKeyAlgorithm::Unsupported);
        TransparencyLog {
            base_url: base_url.to_owned(),
            log_id: Sha256::digest(spki_der).to_vec(),
            key_details: String::new(),
            algorithm,
            key,
            valid_for,
            log_id_is_key_hash: true,
        }
    }
}

fn parse_time(node: &Node<'_>) -> Result<DateTime<Utc>, TransparencyError> {
    let s = node.str()?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| node.error(format!("invalid RFC 3339 time {s:?}: {e}")))
}

/// The trusted-root spec requires `validFor.start` on every key and authority: a missing start
/// is refused, never read as "valid since forever".
fn parse_valid_for(parent: &Node<'_>) -> Result<ValidFor, TransparencyError> {
    let v = parent.req("validFor")?;
    Ok(ValidFor {
        start: Some(parse_time(&v.req("start")?)?),
        end: v.opt("end").map(|n| parse_time(&n)).transpose()?,
    })
}

fn parse_log(t: &Node<'_>) -> Result<TransparencyLog, TransparencyError> {
    let base_url = t
        .opt("baseUrl")
        .map(|n| n.str().map(str::to_owned))
        .transpose()?
        .unwrap_or_default();
    let log_id = t.req("logId")?.req("keyId")?.base64(64)?;
    let pk = t.req("publicKey")?;
    let key_details = pk
        .opt("keyDetails")
        .map(|n| n.str().map(str::to_owned))
        .transpose()?
        .unwrap_or_default();
    let raw_node = pk.req("rawBytes")?;
    let raw = raw_node.base64(MAX_KEY_BYTES)?;
    let valid_for = parse_valid_for(&pk)?;
    // A key the crates cannot parse (or an unknown algorithm) keeps the log listed, so entries
    // naming it are reported as "log known, key unusable" rather than "log unknown".
    let key = PublicKey::from_log_spki_der(&raw).ok();
    let algorithm = key
        .as_ref()
        .map(|k| k.algorithm())
        .unwrap_or(LogKeyAlgorithm::Unsupported);
    let log_id_is_key_hash = Sha256::digest(&raw).as_slice() == log_id.as_slice();
    Ok(TransparencyLog {
        base_url,
        log_id,
        key_details,
        algorithm,
        key,
        valid_for,
        log_id_is_key_hash,
    })
}

fn parse_ca(ca: &Node<'_>) -> Result<CertificateAuthority, TransparencyError> {
    let uri = ca
        .opt("uri")
        .map(|n| n.str().map(str::to_owned))
        .transpose()?
        .unwrap_or_default();
    let subject = match ca.opt("subject") {
        Some(s) => {
            let org = s.opt("organization").map(|n| n.str()).transpose()?;
            let cn = s.opt("commonName").map(|n| n.str()).transpose()?;
            match (org, cn) {
                (Some(o), Some(c)) => format!("O={o}, CN={c}"),
                (None, Some(c)) => format!("CN={c}"),
                (Some(o), None) => format!("O={o}"),
                (None, None) => String::new(),
            }
        }
        None => String::new(),
    };
    let mut chain_der = Vec::new();
    for c in ca.req("certChain")?.req("certificates")?.array(MAX_CHAIN)? {
        let raw = c.req("rawBytes")?;
        let der = raw.base64(MAX_CERT_BYTES)?;
        if x509_parser::parse_x509_certificate(&der).is_err() {
            return Err(raw.error("not a DER X.509 certificate"));
        }
        chain_der.push(der);
    }
    let valid_for = parse_valid_for(ca)?;
    Ok(CertificateAuthority {
        uri,
        subject,
        chain_len: chain_der.len(),
        chain_verifies: authority_chain_verifies(&chain_der),
        chain_der,
        valid_for,
    })
}

/// True when every certificate of an authority's chain (issuing certificate first) is signed by
/// the next one, names it as issuer, and the last is signed by itself.
fn authority_chain_verifies(chain_der: &[Vec<u8>]) -> bool {
    let Ok(chain) = chain_der
        .iter()
        .map(|d| x509_parser::parse_x509_certificate(d).map(|(_, c)| c))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    chain.windows(2).all(|w| {
        w[0].issuer().as_raw() == w[1].subject().as_raw()
            && w[0].verify_signature(Some(w[1].public_key())).is_ok()
    }) && chain
        .last()
        .is_some_and(|r| r.verify_signature(None).is_ok())
}
