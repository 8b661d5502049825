//! A private Sigstore instance made entirely in Rust, for the tamper tests and the benchmark
//! generator (`examples/gen_sigstore_corpus.rs` includes this file): its own Fulcio-style CA and
//! leaves (with SCTs embedded by its own CT log), its own Rekor v1 log (P-256: SET, inclusion
//! proof, checkpoint) and Rekor v2 log (Ed25519, C2SP checkpoint, optionally cosigned by a
//! witness), its own RFC 3161 timestamp authority (the token is DER written here), and the
//! `trusted_root.json` naming all of them.
//!
//! Everything is written independently of the library (DER, Merkle tree, SCT signed data,
//! timestamp token), so a test that passes proves the library agrees with a second
//! implementation, and the knobs in [`Options`] corrupt one guarded thing at a time.
#![allow(dead_code)]

use base64::Engine;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

// --- a minimal DER writer, enough for X.509 v3 certificates and a CMS timestamp token ---

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend([0x81, n as u8]);
    } else if n < 0x10000 {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    } else {
        out.extend([0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn oid(o: &[u8]) -> Vec<u8> {
    tlv(0x06, o)
}

/// A non-negative DER INTEGER.
pub fn int(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    let mut content = bytes[first..].to_vec();
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

pub const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
pub const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
pub const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
pub const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
pub const OID_SKID: &[u8] = &[0x55, 0x1d, 0x0e];
pub const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
pub const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
pub const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
pub const OID_AKID: &[u8] = &[0x55, 0x1d, 0x23];
pub const OID_EKU: &[u8] = &[0x55, 0x1d, 0x25];
pub const OID_CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
pub const OID_TIME_STAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
/// 1.3.6.1.4.1.57264.1.1 (Fulcio issuer v1: the raw string, not DER).
pub const OID_FULCIO_ISSUER_V1: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
/// 1.3.6.1.4.1.57264.1.8 (Fulcio issuer v2).
pub const OID_FULCIO_ISSUER_V2: &[u8] =
    &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// 1.3.6.1.4.1.11129.2.4.2 (embedded SCT list).
pub const OID_SCT_LIST: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// 1.3.6.1.4.1.57264.2 (a policy arc; any OID will do).
const OID_TSA_POLICY: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x02];

pub fn name(org: &str, cn: &str) -> Vec<u8> {
    let rdn = |o: &[u8], v: &str| tlv(0x31, &seq(&[oid(o), tlv(0x0c, v.as_bytes())]));
    seq(&[rdn(OID_O, org), rdn(OID_CN, cn)])
}

pub fn extension(o: &[u8], critical: bool, value: Vec<u8>) -> Vec<u8> {
    let mut parts = vec![oid(o)];
    if critical {
        parts.push(vec![0x01, 0x01, 0xff]);
    }
    parts.push(tlv(0x04, &value));
    seq(&parts)
}

pub fn spki(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

/// SubjectKeyIdentifier value of a key (SHA-256 of the SPKI, first 20 bytes).
pub fn key_id(key: &SigningKey) -> Vec<u8> {
    Sha256::digest(spki(key))[..20].to_vec()
}

pub fn ski_ext(key: &SigningKey) -> Vec<u8> {
    extension(OID_SKID, false, tlv(0x04, &key_id(key)))
}

pub fn aki_ext(issuer_key: &SigningKey) -> Vec<u8> {
    extension(OID_AKID, false, seq(&[tlv(0x80, &key_id(issuer_key))]))
}

/// keyUsage with the given first byte of bits (0x80 digitalSignature, 0x06 keyCertSign+cRLSign).
pub fn key_usage_ext(bits: u8) -> Vec<u8> {
    let unused = bits.trailing_zeros().min(7) as u8;
    extension(OID_KEY_USAGE, true, tlv(0x03, &[unused, bits]))
}

pub fn ca_ext() -> Vec<u8> {
    extension(OID_BASIC_CONSTRAINTS, true, seq(&[vec![0x01, 0x01, 0xff]]))
}

/// The unsigned TBSCertificate (UTCTime validity `YYMMDDHHMMSSZ`).
#[allow(clippy::too_many_arguments)]
pub fn tbs_certificate(
    serial: u64,
    issuer: &[u8],
    subject: &[u8],
    not_before: &str,
    not_after: &str,
    subject_key: &SigningKey,
    extensions: &[Vec<u8>],
) -> Vec<u8> {
    seq(&[
        tlv(0xa0, &[0x02, 0x01, 0x02]),
        int(serial),
        seq(&[oid(OID_ECDSA_SHA256)]),
        issuer.to_vec(),
        seq(&[
            tlv(0x17, not_before.as_bytes()),
            tlv(0x17, not_after.as_bytes()),
        ]),
        subject.to_vec(),
        spki(subject_key),
        tlv(0xa3, &seq(extensions)),
    ])
}

/// Signs a TBSCertificate into a certificate.
pub fn sign_certificate(tbs: Vec<u8>, issuer_key: &SigningKey) -> Vec<u8> {
    let sig: Signature = issuer_key.sign(&tbs);
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.to_der().as_bytes());
    seq(&[tbs, seq(&[oid(OID_ECDSA_SHA256)]), tlv(0x03, &bits)])
}

/// Builds and signs a certificate (UTCTime validity `YYMMDDHHMMSSZ`).
#[allow(clippy::too_many_arguments)]
pub fn certificate(
    serial: u64,
    issuer: &[u8],
    subject: &[u8],
    not_before: &str,
    not_after: &str,
    subject_key: &SigningKey,
    extensions: Vec<Vec<u8>>,
    issuer_key: &SigningKey,
) -> Vec<u8> {
    let tbs = tbs_certificate(
        serial,
        issuer,
        subject,
        not_before,
        not_after,
        subject_key,
        &extensions,
    );
    sign_certificate(tbs, issuer_key)
}

/// A self-signed root CA valid 2025–2035 (keyUsage keyCertSign+cRLSign, CA, SKI).
pub fn root_ca(name: &[u8], key: &SigningKey) -> Vec<u8> {
    certificate(
        1,
        name,
        name,
        "250101000000Z",
        "350101000000Z",
        key,
        vec![key_usage_ext(0x06), ca_ext(), ski_ext(key)],
        key,
    )
}

pub fn pem(der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

// --- an independent Merkle tree (RFC 9162 §2.1.1 and §2.1.3.1), written for the tests ---

fn h(parts: &[&[u8]]) -> [u8; 32] {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p);
    }
    d.finalize().into()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The Merkle tree hash of `leaves`.
pub fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
    if leaves.len() == 1 {
        return h(&[&[0], &leaves[0]]);
    }
    let k = split(leaves.len());
    h(&[&[1], &mth(&leaves[..k]), &mth(&leaves[k..])])
}

/// The audit path of leaf `m`.
pub fn path(m: usize, leaves: &[Vec<u8>]) -> Vec<[u8; 32]> {
    if leaves.len() == 1 {
        return vec![];
    }
    let k = split(leaves.len());
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

// --- the instance ---

pub const IDENTITY: &str = "https://ci.example.test/release@refs/tags/v1";
pub const ISSUER: &str = "https://oidc.example.test";
/// 2026-01-01T00:01:00Z: the Rekor v1 integrated time and the timestamp's genTime, inside every
/// leaf's ten minutes.
pub const SIGNED_AT: i64 = 1_767_225_660;
pub const GEN_TIME: &str = "20260101000100Z";
/// The SCTs' time (the leaves' notBefore), in milliseconds.
pub const SCT_MILLIS: u64 = 1_767_225_600_000;

/// Who signs, and when: the default is the instance's one signer ([`IDENTITY`], [`ISSUER`],
/// certificate from the SCT time, signed at [`SIGNED_AT`]).
#[derive(Clone, Debug)]
pub struct SignerSpec {
    pub identity: String,
    pub issuer: String,
    /// The leaf's notBefore and SCT time (Unix seconds); it is valid for ten minutes.
    pub not_before: i64,
    /// The Rekor v1 integrated time and the RFC 3161 genTime (Unix seconds).
    pub signed_at: i64,
}

impl Default for SignerSpec {
    fn default() -> Self {
        SignerSpec {
            identity: IDENTITY.to_owned(),
            issuer: ISSUER.to_owned(),
            not_before: (SCT_MILLIS / 1000) as i64,
            signed_at: SIGNED_AT,
        }
    }
}

impl SignerSpec {
    /// A signer whose certificate starts a minute before it signs at `signed_at`.
    pub fn at(identity: &str, issuer: &str, signed_at: i64) -> Self {
        SignerSpec {
            identity: identity.to_owned(),
            issuer: issuer.to_owned(),
            not_before: signed_at - 60,
            signed_at,
        }
    }

    fn gen_time(&self) -> String {
        chrono::DateTime::from_timestamp(self.signed_at, 0)
            .unwrap()
            .format("%Y%m%d%H%M%SZ")
            .to_string()
    }
}
pub const V1_ORIGIN: &str = "rekor.example.test - 42";
pub const V1_NAME: &str = "rekor.example.test";
pub const V2_NAME: &str = "log2026.rekor.example.test";
pub const WITNESS_NAME: &str = "witness.example.test";

/// What to build wrong, one guarded thing at a time (all `false`: a valid instance).
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// The SCT signature is over other data (the certificate is then signed over it).
    pub sct_signature_bad: bool,
    /// The TSA certificate lacks the timeStamping extended key usage.
    pub tsa_without_eku: bool,
    /// The token's signature is flipped after signing.
    pub tsa_signature_bad: bool,
    /// The token names the TSA by another serial number (or key id, with `tsa_signer_key_id`).
    pub tsa_signer_serial_other: bool,
    /// The token names the TSA by subject key identifier, not issuer and serial number.
    pub tsa_signer_key_id: bool,
    /// The token's message imprint is over other bytes than the signature.
    pub tsa_imprint_other: bool,
    /// The v2 checkpoint carries a witness cosignature after the log's signature.
    pub cosigned: bool,
}

/// Which Rekor the bundles are logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rekor {
    /// Rekor v1: ECDSA P-256 log key, SET and integrated time.
    V1,
    /// Rekor v2: Ed25519 log key, no SET, time from an RFC 3161 timestamp.
    V2,
}

/// An RSA CT log (PKCS#1 v1.5, SHA-256), signing through the `openssl` command line.
pub struct RsaCtLog {
    /// DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    /// The private key, PEM.
    pub key_pem: std::path::PathBuf,
}

impl RsaCtLog {
    /// A new 2048-bit key in `dir`; `None` when `openssl` cannot make one.
    pub fn generate(dir: &std::path::Path) -> Option<RsaCtLog> {
        use std::process::Command;
        let key_pem = dir.join("ct-rsa.pem");
        let ok = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&key_pem)
            .output()
            .ok()?
            .status
            .success();
        if !ok {
            return None;
        }
        let out = Command::new("openssl")
            .args(["pkey", "-pubout", "-outform", "DER", "-in"])
            .arg(&key_pem)
            .output()
            .ok()?;
        out.status.success().then_some(RsaCtLog {
            spki: out.stdout,
            key_pem,
        })
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key_pem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl runs");
        child.stdin.take().unwrap().write_all(data).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "openssl dgst -sign failed");
        out.stdout
    }
}

/// The instance's fixed keys and certificates (deterministic: RFC 6979, fixed scalars).
pub struct Instance {
    pub opts: Options,
    /// When set, the CT log is this RSA log instead of the P-256 one.
    pub ct_rsa: Option<RsaCtLog>,
    pub ca_key: SigningKey,
    pub ca: Vec<u8>,
    pub ct_key: SigningKey,
    pub log_v1_key: SigningKey,
    pub log_v2_key: ed25519_dalek::SigningKey,
    pub witness_key: ed25519_dalek::SigningKey,
    pub tsa_root_key: SigningKey,
    pub tsa_root: Vec<u8>,
    pub tsa_key: SigningKey,
    pub tsa: Vec<u8>,
}

/// One signed artifact as the bundles need it.
pub struct Signed {
    pub leaf: Vec<u8>,
    pub signature: Vec<u8>,
    pub digest: [u8; 32],
}

fn scalar(tag: u8, index: u64) -> SigningKey {
    let mut d = Sha256::new();
    d.update([tag]);
    d.update(index.to_be_bytes());
    SigningKey::from_slice(&d.finalize()).unwrap()
}

const TSA_SERIAL: u64 = 0x7150;

impl Instance {
    pub fn new(opts: Options) -> Instance {
        let ca_key = scalar(1, 0);
        let ca_name = name("Example", "example-ca");
        let ca = root_ca(&ca_name, &ca_key);
        let tsa_root_key = scalar(5, 0);
        let tsa_key = scalar(6, 0);
        let tsa_root_name = name("Example", "example-tsa-root");
        let tsa_root = root_ca(&tsa_root_name, &tsa_root_key);
        let mut tsa_exts = vec![
            key_usage_ext(0x80),
            ski_ext(&tsa_key),
            aki_ext(&tsa_root_key),
        ];
        if !opts.tsa_without_eku {
            tsa_exts.push(extension(OID_EKU, true, seq(&[oid(OID_TIME_STAMPING)])));
        }
        let tsa = certificate(
            TSA_SERIAL,
            &tsa_root_name,
            &name("Example", "example-tsa"),
            "250101000000Z",
            "350101000000Z",
            &tsa_key,
            tsa_exts,
            &tsa_root_key,
        );
        Instance {
            opts,
            ct_rsa: None,
            ca_key,
            ca,
            ct_key: scalar(2, 0),
            log_v1_key: scalar(3, 0),
            log_v2_key: ed25519_dalek::SigningKey::from_bytes(&[4; 32]),
            witness_key: ed25519_dalek::SigningKey::from_bytes(&[9; 32]),
            tsa_root_key,
            tsa_root,
            tsa_key,
            tsa,
        }
    }

    pub fn ca_name(&self) -> Vec<u8> {
        name("Example", "example-ca")
    }

    pub fn ct_spki(&self) -> Vec<u8> {
        match &self.ct_rsa {
            Some(rsa) => rsa.spki.clone(),
            None => spki(&self.ct_key),
        }
    }

    pub fn ct_log_id(&self) -> [u8; 32] {
        Sha256::digest(self.ct_spki()).into()
    }

    pub fn log_v1_id(&self) -> Vec<u8> {
        Sha256::digest(spki(&self.log_v1_key)).to_vec()
    }

    pub fn log_v2_spki(&self) -> Vec<u8> {
        use ed25519_dalek::pkcs8::EncodePublicKey as _;
        self.log_v2_key
            .verifying_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec()
    }

    pub fn log_v2_id(&self) -> Vec<u8> {
        Sha256::digest(self.log_v2_spki()).to_vec()
    }

    /// A Fulcio-style leaf for signer `index`, with an SCT of the instance's CT log embedded:
    /// the SCT signs the precertificate (this TBS without the SCT list) and the CA's key hash.
    pub fn leaf(&self, index: u64, leaf_key: &SigningKey) -> Vec<u8> {
        self.leaf_as(index, leaf_key, &SignerSpec::default())
    }

    /// [`Instance::leaf`] for another signer: its SAN (`@` in it: an email, else a URI), OIDC
    /// issuer, and a ten-minute validity from `spec.not_before` (the SCT's time).
    pub fn leaf_as(&self, index: u64, leaf_key: &SigningKey, spec: &SignerSpec) -> Vec<u8> {
        // rfc822Name [1] for an email, uniformResourceIdentifier [6] otherwise.
        let san_tag = if spec.identity.contains("://") {
            0x86
        } else {
            0x81
        };
        let exts = vec![
            key_usage_ext(0x80),
            extension(OID_EKU, false, seq(&[oid(OID_CODE_SIGNING)])),
            aki_ext(&self.ca_key),
            extension(
                OID_SAN,
                true,
                seq(&[tlv(san_tag, spec.identity.as_bytes())]),
            ),
            extension(OID_FULCIO_ISSUER_V1, false, spec.issuer.as_bytes().to_vec()),
            extension(
                OID_FULCIO_ISSUER_V2,
                false,
                tlv(0x0c, spec.issuer.as_bytes()),
            ),
        ];
        let serial = 0x1000 + index;
        let utc = |t: i64| {
            chrono::DateTime::from_timestamp(t, 0)
                .unwrap()
                .format("%y%m%d%H%M%SZ")
                .to_string()
        };
        let (nb, na) = (utc(spec.not_before), utc(spec.not_before + 600));
        let (nb, na) = (nb.as_str(), na.as_str());
        let sct_millis = spec.not_before as u64 * 1000;
        let ca_name = self.ca_name();
        let precert = tbs_certificate(serial, &ca_name, &seq(&[]), nb, na, leaf_key, &exts);
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&sct_millis.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes());
        signed.extend_from_slice(&Sha256::digest(spki(&self.ca_key)));
        signed.extend_from_slice(&(precert.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(&precert);
        signed.extend_from_slice(&0u16.to_be_bytes());
        if self.opts.sct_signature_bad {
            signed.push(0);
        }
        // RFC 5246 SignatureAndHashAlgorithm: sha256 (4) with rsa (1) or ecdsa (3).
        let (sig, sig_alg) = match &self.ct_rsa {
            Some(rsa) => (rsa.sign(&signed), 1u8),
            None => {
                let sig: Signature = self.ct_key.sign(&signed);
                (sig.to_der().as_bytes().to_vec(), 3u8)
            }
        };
        let mut sct = vec![0u8];
        sct.extend_from_slice(&self.ct_log_id());
        sct.extend_from_slice(&sct_millis.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, sig_alg]);
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        let mut with_sct = exts;
        with_sct.push(extension(OID_SCT_LIST, false, tlv(0x04, &list)));
        let tbs = tbs_certificate(serial, &ca_name, &seq(&[]), nb, na, leaf_key, &with_sct);
        sign_certificate(tbs, &self.ca_key)
    }

    /// Signer `index` signs `artifact` (ECDSA P-256 over its SHA-256) with its own leaf.
    pub fn sign(&self, index: u64, artifact: &[u8]) -> Signed {
        self.sign_as(index, artifact, &SignerSpec::default())
    }

    /// [`Instance::sign`] by another signer (identity, issuer, certificate time).
    pub fn sign_as(&self, index: u64, artifact: &[u8], spec: &SignerSpec) -> Signed {
        let key = scalar(7, index);
        let digest: [u8; 32] = Sha256::digest(artifact).into();
        let sig: Signature = key.sign_prehash(&digest).unwrap();
        Signed {
            leaf: self.leaf_as(index, &key, spec),
            signature: sig.to_der().as_bytes().to_vec(),
            digest,
        }
    }

    /// An RFC 3161 `TimeStampResp` over `signature` by the instance's TSA.
    pub fn timestamp(&self, signature: &[u8]) -> Vec<u8> {
        self.timestamp_at(signature, GEN_TIME)
    }

    /// [`Instance::timestamp`] with another genTime (`YYYYMMDDHHMMSSZ`).
    pub fn timestamp_at(&self, signature: &[u8], gen_time: &str) -> Vec<u8> {
        let imprinted: &[u8] = if self.opts.tsa_imprint_other {
            b"some other signature"
        } else {
            signature
        };
        let sha256 = seq(&[oid(OID_SHA256)]);
        let tst_info = seq(&[
            int(1),
            oid(OID_TSA_POLICY),
            seq(&[sha256.clone(), tlv(0x04, &Sha256::digest(imprinted))]),
            int(0x5151),
            tlv(0x18, gen_time.as_bytes()),
        ]);
        let attrs = [
            seq(&[oid(OID_CONTENT_TYPE), tlv(0x31, &oid(OID_TST_INFO))]),
            seq(&[
                oid(OID_MESSAGE_DIGEST),
                tlv(0x31, &tlv(0x04, &Sha256::digest(&tst_info))),
            ]),
        ]
        .concat();
        let sig: Signature = self.tsa_key.sign(&tlv(0x31, &attrs));
        let mut sig = sig.to_der().as_bytes().to_vec();
        if self.opts.tsa_signature_bad {
            let last = sig.len() - 1;
            sig[last] ^= 1;
        }
        let other = self.opts.tsa_signer_serial_other;
        let (version, sid) = if self.opts.tsa_signer_key_id {
            let mut id = key_id(&self.tsa_key);
            id[0] ^= u8::from(other);
            (3, tlv(0x80, &id))
        } else {
            let serial = TSA_SERIAL + u64::from(other);
            (1, seq(&[name("Example", "example-tsa-root"), int(serial)]))
        };
        let signer_info = seq(&[
            int(version),
            sid,
            sha256.clone(),
            tlv(0xa0, &attrs),
            seq(&[oid(OID_ECDSA_SHA256)]),
            tlv(0x04, &sig),
        ]);
        let signed_data = seq(&[
            int(3),
            tlv(0x31, &sha256),
            seq(&[oid(OID_TST_INFO), tlv(0xa0, &tlv(0x04, &tst_info))]),
            tlv(0x31, &signer_info),
        ]);
        seq(&[
            seq(&[int(0)]),
            seq(&[oid(OID_SIGNED_DATA), tlv(0xa0, &signed_data)]),
        ])
    }

    /// A C2SP checkpoint signed by the v2 log (Ed25519), cosigned by the witness when asked.
    pub fn checkpoint_v2(&self, origin: &str, size: usize, root: &[u8]) -> String {
        let note = format!("{origin}\n{size}\n{}\n", b64(root));
        let line = |name: &str, key: &ed25519_dalek::SigningKey| {
            let mut hint = Sha256::new();
            hint.update(name.as_bytes());
            hint.update(b"\n\x01");
            hint.update(key.verifying_key().as_bytes());
            let mut raw = hint.finalize()[..4].to_vec();
            raw.extend_from_slice(&key.sign(note.as_bytes()).to_bytes());
            format!("\u{2014} {name} {}\n", b64(&raw))
        };
        let mut text = format!("{note}\n{}", line(V2_NAME, &self.log_v2_key));
        if self.opts.cosigned {
            text.push_str(&line(WITNESS_NAME, &self.witness_key));
        }
        text
    }

    /// A checkpoint signed by the v1 log (ECDSA, key hint = first 4 bytes of the log id).
    pub fn checkpoint_v1(&self, size: usize, root: &[u8]) -> String {
        let note = format!("{V1_ORIGIN}\n{size}\n{}\n", b64(root));
        let sig: Signature = self.log_v1_key.sign(note.as_bytes());
        let mut raw = self.log_v1_id()[..4].to_vec();
        raw.extend_from_slice(sig.to_der().as_bytes());
        format!("{note}\n\u{2014} {V1_NAME} {}\n", b64(&raw))
    }

    /// `count` v0.3 bundles over `artifact`, each by its own leaf, logged in one Rekor v2 tree
    /// (hashedrekord 0.0.2, C2SP checkpoint) with an RFC 3161 timestamp each.
    pub fn bundles_v2(&self, artifact: &[u8], count: usize) -> Vec<Value> {
        self.bundles(artifact, count, Rekor::V2)
    }

    /// `count` v0.3 bundles over `artifact`, each by its own leaf, logged in one Rekor v1 tree
    /// (hashedrekord 0.0.1) with SET, inclusion proof and checkpoint.
    pub fn bundles_v1(&self, artifact: &[u8], count: usize) -> Vec<Value> {
        self.bundles(artifact, count, Rekor::V1)
    }

    /// The canonical entry body of one signature in `rekor`'s hashedrekord version.
    fn body(s: &Signed, rekor: Rekor) -> Vec<u8> {
        let body = match rekor {
            Rekor::V1 => json!({
                "apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex::encode(s.digest)}},
                    "signature": {"content": b64(&s.signature),
                                  "publicKey": {"content": b64(pem(&s.leaf).as_bytes())}}
                }
            }),
            Rekor::V2 => json!({
                "apiVersion": "0.0.2", "kind": "hashedrekord",
                "spec": {"hashedRekordV002": {
                    "data": {"algorithm": "SHA2_256", "digest": b64(&s.digest)},
                    "signature": {"content": b64(&s.signature), "verifier": {
                        "x509Certificate": {"rawBytes": b64(&s.leaf)},
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256"}}
                }}
            }),
        };
        serde_json_canonicalizer::to_vec(&body).unwrap()
    }

    fn bundles(&self, artifact: &[u8], count: usize, rekor: Rekor) -> Vec<Value> {
        self.bundles_as(artifact, &vec![SignerSpec::default(); count], rekor)
    }

    /// One v0.3 bundle over `artifact` per signer spec (its identity, issuer and signing time:
    /// the Rekor v1 integrated time, or the RFC 3161 genTime with Rekor v2), all logged in one
    /// tree of `rekor`.
    pub fn bundles_as(&self, artifact: &[u8], specs: &[SignerSpec], rekor: Rekor) -> Vec<Value> {
        let count = specs.len();
        let signed: Vec<Signed> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| self.sign_as(i as u64, artifact, spec))
            .collect();
        let bodies: Vec<Vec<u8>> = signed.iter().map(|s| Self::body(s, rekor)).collect();
        let root = mth(&bodies);
        let (checkpoint, log_id, version) = match rekor {
            Rekor::V1 => (self.checkpoint_v1(count, &root), self.log_v1_id(), "0.0.1"),
            Rekor::V2 => (
                self.checkpoint_v2(V2_NAME, count, &root),
                self.log_v2_id(),
                "0.0.2",
            ),
        };
        let mut out = Vec::with_capacity(count);
        for (i, (s, body)) in signed.iter().zip(&bodies).enumerate() {
            let hashes: Vec<String> = path(i, &bodies).iter().map(|x| b64(x)).collect();
            let mut entry = json!({
                "logIndex": i.to_string(),
                "logId": {"keyId": b64(&log_id)},
                "kindVersion": {"kind": "hashedrekord", "version": version},
                "inclusionProof": {
                    "logIndex": i.to_string(), "rootHash": b64(&root),
                    "treeSize": count.to_string(), "hashes": hashes,
                    "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": b64(body),
            });
            let mut material = json!({"certificate": {"rawBytes": b64(&s.leaf)}});
            match rekor {
                Rekor::V1 => {
                    let at = specs[i].signed_at;
                    let set: Signature = self.log_v1_key.sign(
                        &serde_json_canonicalizer::to_vec(&json!({
                            "body": b64(body), "integratedTime": at,
                            "logID": hex::encode(&log_id), "logIndex": i,
                        }))
                        .unwrap(),
                    );
                    entry["integratedTime"] = json!(at.to_string());
                    entry["inclusionPromise"] =
                        json!({"signedEntryTimestamp": b64(set.to_der().as_bytes())});
                }
                Rekor::V2 => {
                    material["timestampVerificationData"] = json!({"rfc3161Timestamps": [
                        {"signedTimestamp": b64(&self.timestamp_at(&s.signature, &specs[i].gen_time()))}
                    ]});
                }
            }
            material["tlogEntries"] = json!([entry]);
            out.push(json!({
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": material,
                "messageSignature": {
                    "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&s.digest)},
                    "signature": b64(&s.signature),
                }
            }));
        }
        out
    }

    /// The `trusted_root.json` naming the instance's logs, CA, CT log and TSA.
    pub fn trusted_root(&self) -> Value {
        let since = json!({"start": "2025-01-01T00:00:00Z"});
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": format!("https://{V1_NAME}"), "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(&spki(&self.log_v1_key)),
                              "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor": since},
                "logId": {"keyId": b64(&self.log_v1_id())},
            }, {
                "baseUrl": format!("https://{V2_NAME}"), "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(&self.log_v2_spki()),
                              "keyDetails": "PKIX_ED25519", "validFor": since},
                "logId": {"keyId": b64(&self.log_v2_id())},
            }],
            "certificateAuthorities": [{
                "subject": {"organization": "Example", "commonName": "example-ca"},
                "uri": "https://fulcio.example.test",
                "certChain": {"certificates": [{"rawBytes": b64(&self.ca)}]},
                "validFor": since,
            }],
            "ctlogs": [{
                "baseUrl": "https://ctfe.example.test", "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": b64(&self.ct_spki()),
                              "keyDetails": match self.ct_rsa {
                                  Some(_) => "PKCS1_RSA_PKCS1V5",
                                  None => "PKIX_ECDSA_P256_SHA_256",
                              },
                              "validFor": since},
                "logId": {"keyId": b64(&self.ct_log_id())},
            }],
            "timestampAuthorities": [{
                "subject": {"organization": "Example", "commonName": "example-tsa"},
                "uri": "https://tsa.example.test",
                "certChain": {"certificates": [{"rawBytes": b64(&self.tsa)},
                                               {"rawBytes": b64(&self.tsa_root)}]},
                "validFor": since,
            }],
        })
    }
}

/// A sigstore-python client trust configuration (`--trust-config`) around a trusted root, with
/// an empty signing configuration (verification only, offline).
pub fn client_trust_config(trusted_root: &Value) -> Value {
    json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root,
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [], "oidcUrls": [], "rekorTlogUrls": [], "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}
        }
    })
}
