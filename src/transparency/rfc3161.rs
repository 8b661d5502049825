//! RFC 3161 signed timestamps (a bundle's `timestampVerificationData.rfc3161Timestamps`): the
//! CMS SignedData is decoded with RustCrypto `cms`, its signed attributes verified with the key
//! of a timestamp authority of the trust root (never with a certificate the token embeds), the
//! TSA's chain and `validFor` window checked at the token's time, and the message imprint must
//! be the digest of the signature being timestamped.

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
    signature: Vec<u8>,
    /// Who the token says signed it (issuer and serial, or subject key identifier).
    signer: SignerIdentifier,
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
    Ok(Token {
        tst,
        gen_time,
        signed_attrs_der: attrs.to_der().map_err(bad)?,
        signature_alg: si.signature_algorithm.oid,
        signature: si.signature.as_bytes().to_vec(),
        signer: si.sid.clone(),
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

/// Verifies one `signedTimestamp` over `signature` against the trust root's authorities.
pub fn verify_timestamp(
    der: &[u8],
    signature: &[u8],
    root: &TrustRoot,
) -> Result<VerifiedTimestamp, TimestampError> {
    let token = decode_token(der)?;
    let imprint = &token.tst.message_imprint;
    let hash = digest_for(&imprint.hash_algorithm.oid).ok_or_else(|| {
        bad(format!(
            "imprint algorithm {} not supported",
            imprint.hash_algorithm.oid
        ))
    })?;
    let expected = hash(signature);
    if imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err(TimestampError::ImprintMismatch {
            imprint: hex::encode(imprint.hashed_message.as_bytes()),
            expected: hex::encode(expected),
        });
    }
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
