//! A bundle's RFC 3161 trusted timestamp: `bundle-timestamp.tsr` beside the bag's tag files,
//! the DER `TimeStampResp` a timestamp authority (TSA) returned for a SHA-256 message imprint
//! of the bundle digest's 32 bytes. Like `bundle-signature.json` it is outside the tag
//! manifest (it is made from the bundle digest, so it cannot be covered by it), and adding it
//! leaves the digest unchanged. Requests, the check of a response against the request, and
//! the HTTP exchange with a TSA live here; the token's CMS verification is the one of
//! [`crate::transparency::rfc3161`].

use crate::model::digest::Sha256Digest;
use crate::transparency::rfc3161::{self, TokenFacts, SHA256_OID};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Name of the token file inside the bag folder.
pub const TIMESTAMP_NAME: &str = "bundle-timestamp.tsr";
/// Media type of a request (RFC 3161 §3.4).
pub const QUERY_TYPE: &str = "application/timestamp-query";
/// Media type of a response (RFC 3161 §3.4).
pub const REPLY_TYPE: &str = "application/timestamp-reply";
/// The largest response read from a TSA or a file: a token with a certificate chain is a few
/// KiB; anything this large is not one.
pub const MAX_RESPONSE_BYTES: u64 = 256 << 10;
/// How long one exchange with a TSA may take, connection included.
pub const TSA_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a timestamp could not be obtained or does not belong to the bundle.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("timestamp authority {url}: {detail}")]
    Http { url: String, detail: String },
    #[error("the timestamp response is not usable: {0}")]
    Response(rfc3161::TimestampError),
    #[error(
        "the timestamp response's message imprint {imprint} is not the bundle digest {digest}"
    )]
    WrongImprint {
        imprint: String,
        digest: Sha256Digest,
    },
    #[error("the timestamp response's imprint algorithm {0} is not SHA-256")]
    WrongAlgorithm(String),
    #[error(
        "the timestamp response's nonce is not the request's (a replayed or foreign response)"
    )]
    WrongNonce,
    #[error("the timestamp does not verify against --tsa-cert: {0}")]
    Untrusted(rfc3161::AnchoredError),
}

/// Why `--tsa-cert` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: crate::io::bounded_read::BoundedReadError,
    },
    #[error("{path}: {detail}")]
    Pem { path: PathBuf, detail: String },
}

/// The largest `--tsa-cert` file read (a CA bundle of a few hundred certificates).
const MAX_ANCHOR_FILE: u64 = 4 << 20;

/// The certificates of a PEM file (`--tsa-cert`), DER each: the TSA certificate or the CAs a
/// TSA certificate must chain to. A file with no certificate, or one that does not parse, is
/// an error.
pub fn load_anchors(path: &Path) -> Result<Vec<Vec<u8>>, AnchorError> {
    let bytes =
        crate::io::bounded_read::read_regular_file(path, MAX_ANCHOR_FILE).map_err(|source| {
            AnchorError::Read {
                path: path.to_owned(),
                source,
            }
        })?;
    let pem_err = |detail: String| AnchorError::Pem {
        path: path.to_owned(),
        detail,
    };
    let mut out = Vec::new();
    for pem in x509_parser::pem::Pem::iter_from_buffer(&bytes) {
        let pem = pem.map_err(|e| pem_err(format!("not PEM: {e}")))?;
        if pem.label != "CERTIFICATE" {
            continue;
        }
        pem.parse_x509()
            .map_err(|e| pem_err(format!("a certificate does not parse: {e}")))?;
        out.push(pem.contents);
    }
    if out.is_empty() {
        return Err(pem_err("holds no PEM CERTIFICATE".to_owned()));
    }
    Ok(out)
}

/// Where `collect --tsa` gets its token, and what it must chain to (`--tsa-cert`) when given.
#[derive(Clone, Debug)]
pub struct Tsa {
    pub url: String,
    pub anchors: Option<Vec<Vec<u8>>>,
}

impl Tsa {
    /// A token over `digest` from this TSA, verified against the anchors when there are some.
    pub fn stamp(&self, digest: &Sha256Digest) -> Result<Vec<u8>, TimestampError> {
        let token = request_token(&self.url, digest)?;
        if let Some(anchors) = &self.anchors {
            rfc3161::verify_token_anchored(&token, &digest.0, anchors)
                .map_err(TimestampError::Untrusted)?;
        }
        Ok(token)
    }
}

/// A fresh request for `digest` with a random nonce from the operating system (a positive
/// 63-bit integer: a TSA cannot have answered it before).
pub fn request_for(digest: &Sha256Digest) -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut nonce = [0u8; 8];
    // The system source failing is no reason to go without a nonce: fall back to the clock.
    if ring::rand::SystemRandom::new().fill(&mut nonce).is_err() {
        nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            .to_be_bytes();
    }
    rfc3161::request_der(&digest.0, u64::from_be_bytes(nonce))
}

/// Checks that `response` is a granted token over `digest` (and, when the request is known,
/// that it answers it: same nonce); returns what it states. Trust in the TSA is `verify
/// --tsa-cert`'s check, not this one.
pub fn check_response(
    response: &[u8],
    digest: &Sha256Digest,
    request: Option<&[u8]>,
) -> Result<TokenFacts, TimestampError> {
    let facts = rfc3161::token_facts(response).map_err(TimestampError::Response)?;
    if facts.imprint_algorithm != SHA256_OID.to_string() {
        return Err(TimestampError::WrongAlgorithm(facts.imprint_algorithm));
    }
    if facts.imprint != digest.0 {
        return Err(TimestampError::WrongImprint {
            imprint: hex::encode(&facts.imprint),
            digest: *digest,
        });
    }
    if let Some(req) = request {
        if rfc3161::request_nonce(req) != facts.nonce {
            return Err(TimestampError::WrongNonce);
        }
    }
    Ok(facts)
}

/// Asks the TSA at `url` for a token over `digest` (HTTP POST of a DER request, RFC 3161
/// §3.4) and checks the answer with [`check_response`]; returns the DER response as received.
pub fn request_token(url: &str, digest: &Sha256Digest) -> Result<Vec<u8>, TimestampError> {
    let http = |detail: String| TimestampError::Http {
        url: url.to_owned(),
        detail,
    };
    let request = request_for(digest);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TSA_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let mut resp = agent
        .post(url)
        .header("Content-Type", QUERY_TYPE)
        .send(&request[..])
        .map_err(|e| http(e.to_string()))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(http(format!("HTTP status {status}")));
    }
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(REPLY_TYPE))
    {
        return Err(http(format!(
            "Content-Type {content_type:?}, not {REPLY_TYPE}"
        )));
    }
    let mut body = Vec::new();
    resp.body_mut()
        .as_reader()
        .take(MAX_RESPONSE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| http(format!("reading the response: {e}")))?;
    if body.len() as u64 > MAX_RESPONSE_BYTES {
        return Err(http(format!(
            "the response is larger than {MAX_RESPONSE_BYTES} bytes"
        )));
    }
    check_response(&body, digest, Some(&request))?;
    Ok(body)
}
