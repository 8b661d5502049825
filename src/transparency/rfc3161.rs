//! RFC 3161 timestamp tokens, the one decoder and verifier for both uses: a Sigstore bundle's
//! `timestampVerificationData.rfc3161Timestamps` ([`verify_timestamp`], against the trust
//! root's authorities, never a certificate the token embeds) and an evidence bundle's
//! `bundle-timestamp.tsr` ([`verify_token_anchored`], the embedded TSA certificate chained to
//! certificates the user gives). The CMS SignedData is decoded with RustCrypto `cms`; the
//! signed attributes, the TSA's chain, its timeStamping usage and validity at the token's time,
//! and the message imprint are checked.

use super::public_key::PublicKey;
use super::time_text::rfc3339;
use super::trust_root::{CertificateAuthority, TrustRoot};
use chrono::{DateTime, NaiveDateTime, Utc};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BitString, Int, OctetString};
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::{FromDer, X509Certificate};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// `TimeStampResp` (RFC 3161 §2.4.2): what Sigstore bundles carry.
#[derive(Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    time_stamp_token: Option<ContentInfo>,
}

#[derive(Sequence)]
struct PkiStatusInfo {
    status: u32,
    status_string: Option<Vec<Any>>,
    fail_info: Option<BitString>,
}

#[derive(Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

#[derive(Sequence)]
struct Accuracy {
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// `TSTInfo` (RFC 3161 §2.4.2). `genTime` is kept raw: TSAs write fractional seconds, which
/// the `der` GeneralizedTime type refuses.
#[derive(Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<Any>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    extensions: Option<Vec<Any>>,
}

/// Why a timestamp does not count.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("not a DER TimeStampResp: {0}")]
    Decode(String),
    #[error("the response status is {0}, not granted")]
    NotGranted(u32),
    #[error("{0}")]
    Content(String),
    #[error("the message imprint {imprint} is not the digest of the signature ({expected})")]
    ImprintMismatch { imprint: String, expected: String },
    #[error("the trust root has no timestamp authority")]
    NoAuthorities,
    #[error("no timestamp authority of the trust root verifies it: {0}")]
    NotTrusted(String),
}

/// A verified timestamp.
#[derive(Clone, Debug)]
pub struct VerifiedTimestamp {
    pub gen_time: DateTime<Utc>,
    pub authority: String,
}

fn bad(what: impl std::fmt::Display) -> TimestampError {
    TimestampError::Content(what.to_string())
}

/// A digest function over bytes.
type DigestFn = fn(&[u8]) -> Vec<u8>;

/// The digest named by a hash OID or by an ECDSA signature OID.
fn digest_for(alg: &ObjectIdentifier) -> Option<DigestFn> {
    match alg.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" | "1.2.840.10045.4.3.2" => Some(|b| Sha256::digest(b).to_vec()),
        "2.16.840.1.101.3.4.2.2" | "1.2.840.10045.4.3.3" => Some(|b| Sha384::digest(b).to_vec()),
        "2.16.840.1.101.3.4.2.3" | "1.2.840.10045.4.3.4" => Some(|b| Sha512::digest(b).to_vec()),
        _ => None,
    }
}

fn parse_gen_time(any: &Any) -> Result<DateTime<Utc>, TimestampError> {
    let text = std::str::from_utf8(any.value()).map_err(|_| bad("genTime is not text"))?;
    NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S%.fZ")
        .map(|t| t.and_utc())
        .map_err(|e| bad(format!("genTime {text:?}: {e}")))
}

/// What the token states, once its structure and attributes are consistent.
struct Token {
    tst: TstInfo,
    gen_time: DateTime<Utc>,
    signed_attrs_der: Vec<u8>,
    signature_alg: ObjectIdentifier,
    /// The signer's digest algorithm (what an RSA signature's hash is).
    digest_alg: ObjectIdentifier,
    signature: Vec<u8>,
    /// Who the token says signed it (issuer and serial, or subject key identifier).
    signer: SignerIdentifier,
    /// The certificates the SignedData carries (DER), in the order given.
    certs: Vec<Vec<u8>>,
}

fn decode_token(der: &[u8]) -> Result<Token, TimestampError> {
    let resp = TimeStampResp::from_der(der).map_err(|e| TimestampError::Decode(e.to_string()))?;
    if resp.status.status > 1 {
        return Err(TimestampError::NotGranted(resp.status.status));
    }
    let ci = resp
        .time_stamp_token
        .ok_or_else(|| bad("the response holds no timeStampToken"))?;
    if ci.content_type != ID_SIGNED_DATA {
        return Err(bad(format!(
            "content type {} is not signedData",
            ci.content_type
        )));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| bad(format!("SignedData: {e}")))?;
    if sd.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(bad("the signed content is not a TSTInfo"));
    }
    let econtent = sd
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| bad("the SignedData has no content"))?;
    let tst_der = econtent.value();
    let tst = TstInfo::from_der(tst_der).map_err(|e| bad(format!("TSTInfo: {e}")))?;
    let gen_time = parse_gen_time(&tst.gen_time)?;
    let mut infos = sd.signer_infos.0.iter();
    let (Some(si), None) = (infos.next(), infos.next()) else {
        return Err(bad("the token must have exactly one signer"));
    };
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("the signer has no signed attributes"))?;
    let hash = digest_for(&si.digest_alg.oid).ok_or_else(|| {
        bad(format!(
            "digest algorithm {} not supported",
            si.digest_alg.oid
        ))
    })?;
    let attr = |oid| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let md = attr(ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or_else(|| bad("no messageDigest signed attribute"))?;
    if md.as_bytes() != hash(tst_der).as_slice() {
        return Err(bad(
            "the messageDigest attribute is not the digest of the TSTInfo",
        ));
    }
    let ct = attr(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| bad("no contentType signed attribute"))?;
    if ct != ID_CT_TST_INFO {
        return Err(bad("the contentType attribute is not TSTInfo"));
    }
    let mut certs = Vec::new();
    for c in sd.certificates.iter().flat_map(|set| set.0.iter()) {
        if let cms::cert::CertificateChoices::Certificate(c) = c {
            certs.push(c.to_der().map_err(bad)?);
        }
    }
    Ok(Token {
        tst,
        gen_time,
        signed_attrs_der: attrs.to_der().map_err(bad)?,
        signature_alg: si.signature_algorithm.oid,
        digest_alg: si.digest_alg.oid,
        signature: si.signature.as_bytes().to_vec(),
        signer: si.sid.clone(),
        certs,
    })
}

/// Verifies the token with one authority: its leaf key signed the attributes, its chain holds,
/// and the authority and every chain certificate were valid at the token's time.
fn verify_with(token: &Token, tsa: &CertificateAuthority) -> Result<(), String> {
    let chain: Vec<X509Certificate<'_>> = tsa
        .chain_der
        .iter()
        .map(|d| X509Certificate::from_der(d).map(|(_, c)| c))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("chain does not parse: {e}"))?;
    let leaf = chain.first().ok_or("empty chain")?;
    signer_is(&token.signer, leaf)?;
    time_stamping_usage(leaf)?;
    let key = PublicKey::from_spki_der(leaf.public_key().raw)
        .map_err(|e| format!("TSA key not usable: {e}"))?;
    let hash = digest_for(&token.signature_alg)
        .ok_or_else(|| format!("signature algorithm {} not supported", token.signature_alg))?;
    key.verify_prehash(&hash(&token.signed_attrs_der), &token.signature)
        .map_err(|e| format!("signature by {}: {e}", leaf.subject()))?;
    let links_ok = chain.windows(2).all(|w| {
        w[0].issuer().as_raw() == w[1].subject().as_raw()
            && w[0].verify_signature(Some(w[1].public_key())).is_ok()
    });
    if !links_ok {
        return Err("the authority's chain does not verify".to_owned());
    }
    if !tsa.valid_for.contains(token.gen_time) {
        return Err(format!(
            "time {} is outside the authority's validFor",
            rfc3339(token.gen_time)
        ));
    }
    let asn1 = x509_parser::time::ASN1Time::from_timestamp(token.gen_time.timestamp())
        .map_err(|e| e.to_string())?;
    if let Some(c) = chain.iter().find(|c| !c.validity().is_valid_at(asn1)) {
        return Err(format!(
            "certificate {} is not valid at {}",
            c.subject(),
            rfc3339(token.gen_time)
        ));
    }
    Ok(())
}

/// The token's `SignerIdentifier` must name the authority's certificate: its issuer and serial
/// number, or its subject key identifier (RFC 5652 §5.3).
fn signer_is(sid: &SignerIdentifier, leaf: &X509Certificate<'_>) -> Result<(), String> {
    let strip = |b: &[u8]| -> Vec<u8> { b.iter().copied().skip_while(|x| *x == 0).collect() };
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            let issuer = ias.issuer.to_der().map_err(|e| e.to_string())?;
            let serial = strip(ias.serial_number.as_bytes());
            if issuer != leaf.issuer().as_raw() || serial != strip(leaf.raw_serial()) {
                return Err(format!(
                    "the token's signer (serial {}) is not the authority's certificate {} (serial {})",
                    hex::encode(&serial),
                    leaf.subject(),
                    hex::encode(strip(leaf.raw_serial()))
                ));
            }
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            let ours = leaf
                .iter_extensions()
                .find_map(|e| match e.parsed_extension() {
                    ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
                    _ => None,
                });
            if ours != Some(ski.0.as_bytes()) {
                return Err(format!(
                    "the token's signer (key id {}) is not the authority's certificate {}",
                    hex::encode(ski.0.as_bytes()),
                    leaf.subject()
                ));
            }
        }
    }
    Ok(())
}

/// The authority's certificate must be for time stamping (extended key usage
/// id-kp-timeStamping, RFC 3161 §2.3).
fn time_stamping_usage(leaf: &X509Certificate<'_>) -> Result<(), String> {
    match leaf.extended_key_usage() {
        Ok(Some(eku)) if eku.value.time_stamping => Ok(()),
        Ok(_) => Err(format!(
            "certificate {} lacks the timeStamping extended key usage",
            leaf.subject()
        )),
        Err(e) => Err(format!("certificate {}: {e}", leaf.subject())),
    }
}

/// The message imprint must be the digest of `data` under the imprint's own algorithm.
fn check_imprint(token: &Token, data: &[u8]) -> Result<(), TimestampError> {
    let imprint = &token.tst.message_imprint;
    let hash = digest_for(&imprint.hash_algorithm.oid).ok_or_else(|| {
        bad(format!(
            "imprint algorithm {} not supported",
            imprint.hash_algorithm.oid
        ))
    })?;
    let expected = hash(data);
    if imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err(TimestampError::ImprintMismatch {
            imprint: hex::encode(imprint.hashed_message.as_bytes()),
            expected: hex::encode(expected),
        });
    }
    Ok(())
}

/// Verifies one `signedTimestamp` over `signature` against the trust root's authorities.
pub fn verify_timestamp(
    der: &[u8],
    signature: &[u8],
    root: &TrustRoot,
) -> Result<VerifiedTimestamp, TimestampError> {
    let token = decode_token(der)?;
    check_imprint(&token, signature)?;
    if root.timestamp_authorities.is_empty() {
        return Err(TimestampError::NoAuthorities);
    }
    let mut reasons = Vec::new();
    for tsa in &root.timestamp_authorities {
        match verify_with(&token, tsa) {
            Ok(()) => {
                return Ok(VerifiedTimestamp {
                    gen_time: token.gen_time,
                    authority: if tsa.uri.is_empty() {
                        tsa.subject.clone()
                    } else {
                        tsa.uri.clone()
                    },
                })
            }
            Err(e) => reasons.push(format!("{}: {e}", tsa.uri)),
        }
    }
    Err(TimestampError::NotTrusted(reasons.join("; ")))
}

/// What a response states before any trust decision: enough to match it to a request and to
/// show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFacts {
    /// The imprint's hash algorithm OID and the hashed message.
    pub imprint_algorithm: String,
    pub imprint: Vec<u8>,
    /// The nonce, big-endian without leading zero bytes (absent when the TSA wrote none).
    pub nonce: Option<Vec<u8>>,
    pub gen_time: DateTime<Utc>,
    /// The policy OID and serial number (hex) the TSA gave the token.
    pub policy: String,
    pub serial: String,
}

/// SHA-256, the only imprint algorithm we request.
pub const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    b.iter().copied().skip_while(|x| *x == 0).collect()
}

/// Decodes a `TimeStampResp` (status granted, a signed TSTInfo with consistent attributes)
/// and states what it says. Verifies no signature.
pub fn token_facts(der: &[u8]) -> Result<TokenFacts, TimestampError> {
    let token = decode_token(der)?;
    Ok(TokenFacts {
        imprint_algorithm: token.tst.message_imprint.hash_algorithm.oid.to_string(),
        imprint: token.tst.message_imprint.hashed_message.as_bytes().to_vec(),
        nonce: token.tst.nonce.as_ref().map(|n| strip_zeros(n.as_bytes())),
        gen_time: token.gen_time,
        policy: token.tst.policy.to_string(),
        serial: hex::encode(strip_zeros(token.tst.serial_number.as_bytes())),
    })
}

/// `TimeStampReq` (RFC 3161 §2.4.1).
#[derive(Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    req_policy: Option<ObjectIdentifier>,
    nonce: Option<Int>,
    #[asn1(default = "Default::default")]
    cert_req: bool,
}

/// A DER `TimeStampReq` for a SHA-256 digest with `nonce` and certReq set (so the token
/// carries the TSA certificate a verifier chains to its anchor).
pub fn request_der(sha256: &[u8; 32], nonce: u64) -> Vec<u8> {
    // A positive INTEGER in minimal form: the top bit cleared, leading zero bytes dropped.
    let mut n = strip_zeros(&(nonce & (u64::MAX >> 1)).to_be_bytes());
    if n.is_empty() {
        n.push(1);
    }
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA256_OID,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(sha256.to_vec()).expect("32 bytes"),
        },
        req_policy: None,
        nonce: Some(Int::new(&n).expect("a minimal positive integer")),
        cert_req: true,
    };
    req.to_der().expect("a TimeStampReq encodes")
}

/// The nonce of a request made by [`request_der`], as [`TokenFacts::nonce`] states it.
pub fn request_nonce(der: &[u8]) -> Option<Vec<u8>> {
    let req = TimeStampReq::from_der(der).ok()?;
    req.nonce.map(|n| strip_zeros(n.as_bytes()))
}

/// Which check of an anchored token failed: each names one RFC 3161 / RFC 5652 requirement.
#[derive(Debug, thiserror::Error)]
pub enum AnchoredError {
    #[error("token: {0}")]
    Token(TimestampError),
    #[error("message imprint: {imprint} ({algorithm}) is not the expected SHA-256 {expected}")]
    Imprint {
        algorithm: String,
        imprint: String,
        expected: String,
    },
    #[error(
        "TSA certificate: the token carries no certificate named by its signer (request certReq)"
    )]
    NoSignerCertificate,
    #[error("CMS signature: {0}")]
    Signature(String),
    #[error("TSA certificate chain: {0}")]
    Chain(String),
    #[error("TSA extended key usage: {0}")]
    KeyUsage(String),
    #[error("TSA certificate validity: {0}")]
    Validity(String),
}

/// A token verified against user-given anchors.
#[derive(Clone, Debug)]
pub struct AnchoredTimestamp {
    pub gen_time: DateTime<Utc>,
    /// The TSA certificate's subject.
    pub tsa_subject: String,
    pub facts: TokenFacts,
}

/// The longest chain followed from the TSA certificate to an anchor.
const MAX_CHAIN: usize = 8;

/// Verifies a `TimeStampResp` whose SHA-256 message imprint must be `sha256` with the TSA
/// certificate the token carries, which must chain to one of `anchors` (DER certificates: the
/// TSA certificate itself or a CA above it): the CMS signature by that certificate's key, its
/// critical timeStamping extended key usage (RFC 3161 §2.3), and every certificate of the chain
/// valid at genTime.
pub fn verify_token_anchored(
    der: &[u8],
    sha256: &[u8; 32],
    anchors: &[Vec<u8>],
) -> Result<AnchoredTimestamp, AnchoredError> {
    let token = decode_token(der).map_err(AnchoredError::Token)?;
    let imprint = &token.tst.message_imprint;
    if imprint.hash_algorithm.oid != SHA256_OID || imprint.hashed_message.as_bytes() != sha256 {
        return Err(AnchoredError::Imprint {
            algorithm: imprint.hash_algorithm.oid.to_string(),
            imprint: hex::encode(imprint.hashed_message.as_bytes()),
            expected: hex::encode(sha256),
        });
    }
    let facts = token_facts(der).map_err(AnchoredError::Token)?;
    fn parse(d: &[u8]) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(d).map(|(_, c)| c).ok()
    }
    let carried: Vec<X509Certificate<'_>> = token.certs.iter().filter_map(|d| parse(d)).collect();
    let anchor_certs: Vec<X509Certificate<'_>> = anchors.iter().filter_map(|d| parse(d)).collect();
    let leaf = carried
        .iter()
        .chain(&anchor_certs)
        .find(|c| signer_is(&token.signer, c).is_ok())
        .ok_or(AnchoredError::NoSignerCertificate)?;
    let key = PublicKey::from_spki_der(leaf.public_key().raw)
        .map_err(|e| AnchoredError::Signature(format!("TSA key not usable: {e}")))?;
    let signed = match &key {
        // Most public TSAs sign with RSA (PKCS#1 v1.5); the CMS names SHA-256 as the digest
        // and rsaEncryption or sha256WithRSAEncryption as the algorithm.
        PublicKey::RsaPkcs1Sha256(_) => {
            if token.digest_alg != SHA256_OID
                || !matches!(
                    token.signature_alg.to_string().as_str(),
                    "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.11"
                )
            {
                return Err(AnchoredError::Signature(format!(
                    "RSA with digest {} and algorithm {} not supported (SHA-256 only)",
                    token.digest_alg, token.signature_alg
                )));
            }
            key.verify_message(&token.signed_attrs_der, &token.signature)
        }
        _ => {
            let hash = digest_for(&token.signature_alg).ok_or_else(|| {
                AnchoredError::Signature(format!(
                    "signature algorithm {} not supported",
                    token.signature_alg
                ))
            })?;
            key.verify_prehash(&hash(&token.signed_attrs_der), &token.signature)
        }
    };
    signed.map_err(|e| {
        AnchoredError::Signature(format!("by {} does not verify: {e}", leaf.subject()))
    })?;
    // Up from the signer: each link's issuer among the carried and anchor certificates, its
    // signature verified, until a certificate that is one of the anchors.
    let is_anchor = |c: &X509Certificate<'_>| anchors.iter().any(|a| a.as_slice() == c.as_ref());
    let mut path = vec![leaf];
    while !is_anchor(path[path.len() - 1]) {
        let cur = path[path.len() - 1];
        if path.len() > MAX_CHAIN {
            return Err(AnchoredError::Chain(format!(
                "no anchor within {MAX_CHAIN} certificates of {}",
                leaf.subject()
            )));
        }
        let issuer = carried.iter().chain(&anchor_certs).find(|c| {
            cur.issuer().as_raw() == c.subject().as_raw()
                && !std::ptr::eq(*c, cur)
                && cur.verify_signature(Some(c.public_key())).is_ok()
        });
        match issuer {
            Some(c) => path.push(c),
            None => {
                return Err(AnchoredError::Chain(format!(
                    "{} does not chain to a --tsa-cert certificate (no verifying issuer {})",
                    cur.subject(),
                    cur.issuer()
                )))
            }
        }
    }
    match leaf.extended_key_usage() {
        Ok(Some(eku)) if eku.value.time_stamping && eku.critical => {}
        Ok(Some(eku)) if eku.value.time_stamping => {
            return Err(AnchoredError::KeyUsage(format!(
                "{} has timeStamping, but the extension is not critical",
                leaf.subject()
            )))
        }
        Ok(_) => {
            return Err(AnchoredError::KeyUsage(format!(
                "{} lacks the critical timeStamping extended key usage",
                leaf.subject()
            )))
        }
        Err(e) => return Err(AnchoredError::KeyUsage(format!("{}: {e}", leaf.subject()))),
    }
    let asn1 = x509_parser::time::ASN1Time::from_timestamp(token.gen_time.timestamp())
        .map_err(|e| AnchoredError::Validity(e.to_string()))?;
    if let Some(c) = path.iter().find(|c| !c.validity().is_valid_at(asn1)) {
        return Err(AnchoredError::Validity(format!(
            "genTime {} is outside the validity of {} ({} to {})",
            rfc3339(token.gen_time),
            c.subject(),
            c.validity().not_before,
            c.validity().not_after
        )));
    }
    Ok(AnchoredTimestamp {
        gen_time: token.gen_time,
        tsa_subject: leaf.subject().to_string(),
        facts,
    })
}
