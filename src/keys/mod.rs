//! Key files of every format a responder meets (raw wsc, SPKI/PKCS#8 PEM and DER, OpenSSH):
//! format, algorithm, public key, wsc key id, fingerprints and stat-based findings. A secret key's
//! secret bytes are only ever used to derive the public key and are never kept or shown.

pub mod audit;

use crate::model::digest::Sha256Digest;
use crate::model::evidence::{FileStat, Finding, IncidentType, Severity};
use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hmac::{KeyInit, Mac};
use serde::{Serialize, Serializer};
use std::fmt;
use std::path::Path;

/// Size of a raw wsc public key file: `01 ‖ pk` (docs/wsc-formats.md §8).
pub const WSC_PUBLIC_KEY_LEN: usize = 33;
/// Size of a raw wsc secret key file: `81 ‖ seed ‖ pk`.
pub const WSC_SECRET_KEY_LEN: usize = 65;
/// Largest key file we parse; real ones are a few hundred bytes.
pub const MAX_KEY_FILE_LEN: usize = 64 * 1024;

/// Errors reading a key file; each names the file and the field or offset.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{file}: not a key file format this tool knows ({size} bytes)")]
    UnknownFormat { file: String, size: usize },
    #[error("{file}: malformed {format} key at {field}: {reason}")]
    Malformed {
        file: String,
        format: KeyFormat,
        field: String,
        reason: String,
    },
    #[error("{file}: key file is {size} bytes, larger than the {max}-byte limit")]
    TooLarge { file: String, size: u64, max: usize },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: cannot read: not a regular file (a {kind}): refused so that reading cannot block or never end")]
    NotRegularFile { file: String, kind: &'static str },
}

/// How a key file is encoded.
#[derive(schemars::JsonSchema, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KeyFormat {
    /// wsc `keygen -K`: 33 bytes `01 ‖ pk`.
    WscRawPublic,
    /// wsc `keygen -k`: 65 bytes `81 ‖ seed ‖ pk`.
    WscRawSecret,
    /// SubjectPublicKeyInfo, PEM `PUBLIC KEY`.
    SpkiPem,
    /// SubjectPublicKeyInfo, DER.
    SpkiDer,
    /// PKCS#8 `PRIVATE KEY`, PEM.
    Pkcs8Pem,
    /// PKCS#8, DER.
    Pkcs8Der,
    /// One `ssh-ed25519 AAAA… comment` line.
    OpensshPublic,
    /// `-----BEGIN OPENSSH PRIVATE KEY-----` (openssh-key-v1).
    OpensshPrivate,
    /// Another PEM label (`EC PRIVATE KEY`, `RSA PUBLIC KEY`, …): recognised, not Ed25519.
    OtherPem,
}

impl KeyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyFormat::WscRawPublic => "wsc raw public key",
            KeyFormat::WscRawSecret => "wsc raw secret key",
            KeyFormat::SpkiPem => "SPKI PEM",
            KeyFormat::SpkiDer => "SPKI DER",
            KeyFormat::Pkcs8Pem => "PKCS#8 PEM",
            KeyFormat::Pkcs8Der => "PKCS#8 DER",
            KeyFormat::OpensshPublic => "OpenSSH public key",
            KeyFormat::OpensshPrivate => "OpenSSH private key",
            KeyFormat::OtherPem => "PEM",
        }
    }
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signature algorithm of a key.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    Ed25519,
    /// Recognised container, algorithm this tool does not verify (name as found: `ssh-rsa`, an OID).
    Other(String),
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::Other(s) => f.write_str(s),
        }
    }
}

/// An Ed25519 public key (32 raw bytes), the form wsc signs and verifies with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        Some(PublicKey(b.try_into().ok()?))
    }

    /// wsc key id: first 12 bytes of HMAC-SHA256(key = pk, msg = "key_id") (docs/wsc-formats.md §8).
    pub fn wsc_key_id(&self) -> [u8; 12] {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        mac.update(b"key_id");
        let full = mac.finalize().into_bytes();
        let mut id = [0u8; 12];
        id.copy_from_slice(&full[..12]);
        id
    }

    /// SHA-256 of the raw 32-byte public key.
    pub fn fingerprint(&self) -> Sha256Digest {
        Sha256Digest::of(&self.0)
    }

    /// Key id of wsc's trust-bundle signer: first 4 bytes of SHA-256(pk), hex (§8, §13).
    pub fn bundle_key_id(&self) -> String {
        hex::encode(&self.fingerprint().0[..4])
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Strict Ed25519 verification (rejects non-canonical and small-order encodings). `false` for
    /// a signature of the wrong length or a public key that is not a curve point.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        let Some(vk) = verifying_key(&self.0) else {
            return false;
        };
        vk.verify_strict(msg, &sig).is_ok()
    }
}

/// Keys decompressed per thread, at most this many (a collection judges every module against
/// the same few keys).
const VERIFYING_KEY_CACHE: usize = 64;

thread_local! {
    static VERIFYING_KEYS: std::cell::RefCell<Vec<([u8; 32], Option<VerifyingKey>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The decompressed form of a raw key (`None` when the bytes are not a curve point), cached:
/// decompression is a field square root, about a quarter of a verification's cost, and was
/// repeated for every signature of every module.
fn verifying_key(raw: &[u8; 32]) -> Option<VerifyingKey> {
    VERIFYING_KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, vk)) = cache.iter().find(|(k, _)| k == raw) {
            return *vk;
        }
        let vk = VerifyingKey::from_bytes(raw).ok();
        if cache.len() >= VERIFYING_KEY_CACHE {
            cache.clear();
        }
        cache.push((*raw, vk));
        vk
    })
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl schemars::JsonSchema for PublicKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Ed25519PublicKey".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::model::digest::hex_schema(
            "Ed25519 public key, 32 raw bytes as 64 lowercase hex characters",
            32,
        )
    }
}

/// What a key file is. Holds no secret byte: for secret keys only the public half is derived.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct KeyFile {
    pub format: KeyFormat,
    pub is_secret: bool,
    pub algorithm: KeyAlgorithm,
    /// Raw 32-byte public key, when the format holds or implies one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKey>,
    /// wsc key id (12 bytes, hex), as embedded in signatures made with `wsc sign -K`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wsc_key_id: Option<String>,
    /// SHA-256 of the raw public key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_sha256: Option<Sha256Digest>,
    /// wsc trust-bundle key id (4 bytes, hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_key_id: Option<String>,
    /// OpenSSH public-key comment (usually user@host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_comment: Option<String>,
    /// OpenSSH private key: whether the private part is encrypted (cipher ≠ `none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    pub findings: Vec<Finding>,
}

impl KeyFile {
    fn new(format: KeyFormat, is_secret: bool, algorithm: KeyAlgorithm) -> Self {
        KeyFile {
            format,
            is_secret,
            algorithm,
            public_key: None,
            wsc_key_id: None,
            fingerprint_sha256: None,
            bundle_key_id: None,
            ssh_comment: None,
            encrypted: None,
            findings: Vec::new(),
        }
    }

    fn with_public_key(mut self, pk: PublicKey) -> Self {
        self.wsc_key_id = Some(hex::encode(pk.wsc_key_id()));
        self.fingerprint_sha256 = Some(pk.fingerprint());
        self.bundle_key_id = Some(pk.bundle_key_id());
        self.public_key = Some(pk);
        if self.is_secret {
            self.findings.push(Finding::new(
                "secret-key-material",
                Severity::Low,
                Some(IncidentType::KeyCompromise),
                format!(
                    "{} holds secret key material for key id {}: only its public half is shown",
                    self.format,
                    self.wsc_key_id.as_deref().unwrap_or("-")
                ),
            ));
        }
        self
    }
}

/// A key file plus its `lstat` metadata and the findings that need it.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct KeyFileReport {
    pub key: KeyFile,
    pub stat: FileStat,
    /// Findings from metadata (permissions), beyond `key.findings`.
    pub findings: Vec<Finding>,
}

/// Parses a key file of any supported format. `name` is used in errors only.
pub fn parse_key_file(name: &str, bytes: &[u8]) -> Result<KeyFile, KeyError> {
    let malformed = |format: KeyFormat, field: &str, reason: String| KeyError::Malformed {
        file: name.to_owned(),
        format,
        field: field.to_owned(),
        reason,
    };
    if bytes.len() == WSC_PUBLIC_KEY_LEN && bytes[0] == 0x01 {
        let pk = PublicKey::from_slice(&bytes[1..]).expect("32 bytes");
        return Ok(
            KeyFile::new(KeyFormat::WscRawPublic, false, KeyAlgorithm::Ed25519).with_public_key(pk),
        );
    }
    if bytes.len() == WSC_SECRET_KEY_LEN && bytes[0] == 0x81 {
        let stored = PublicKey::from_slice(&bytes[33..65]).expect("32 bytes");
        let mut kf = KeyFile::new(KeyFormat::WscRawSecret, true, KeyAlgorithm::Ed25519);
        // The seed is borrowed, turned into a SigningKey (zeroised on drop) and dropped here.
        let derived = SigningKey::try_from(&bytes[1..33])
            .map_err(|e| malformed(KeyFormat::WscRawSecret, "seed (offset 1)", e.to_string()))?
            .verifying_key()
            .to_bytes();
        if derived != stored.0 {
            kf.findings.push(Finding::new(
                "secret-key-public-half-mismatch",
                Severity::Medium,
                Some(IncidentType::KeyCompromise),
                "the public key stored at offset 33 is not the one derived from the seed: \
                 the file was altered or assembled from two keys",
            ));
        }
        return Ok(kf.with_public_key(stored));
    }
    let text = std::str::from_utf8(bytes).ok();
    if let Some(text) = text {
        let t = text.trim_start();
        if t.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return parse_openssh_private(name, t);
        }
        if t.starts_with("-----BEGIN PUBLIC KEY-----") {
            return match VerifyingKey::from_public_key_pem(t) {
                Ok(vk) => Ok(
                    KeyFile::new(KeyFormat::SpkiPem, false, KeyAlgorithm::Ed25519)
                        .with_public_key(PublicKey(vk.to_bytes())),
                ),
                Err(e) => other_pem(name, t, e.to_string()),
            };
        }
        if t.starts_with("-----BEGIN PRIVATE KEY-----") {
            return match SigningKey::from_pkcs8_pem(t) {
                Ok(sk) => {
                    let pk = PublicKey(sk.verifying_key().to_bytes());
                    drop(sk);
                    Ok(
                        KeyFile::new(KeyFormat::Pkcs8Pem, true, KeyAlgorithm::Ed25519)
                            .with_public_key(pk),
                    )
                }
                Err(e) => other_pem(name, t, e.to_string()),
            };
        }
        if t.starts_with("-----BEGIN ") && t.contains(" KEY-----") {
            return other_pem(name, t, String::new());
        }
        if let Some(kf) = parse_openssh_public_line(name, t)? {
            return Ok(kf);
        }
    }
    // DER: a SEQUENCE. Try SPKI first (public), then PKCS#8 (secret).
    if bytes.first() == Some(&0x30) {
        if let Ok(vk) = VerifyingKey::from_public_key_der(bytes) {
            return Ok(
                KeyFile::new(KeyFormat::SpkiDer, false, KeyAlgorithm::Ed25519)
                    .with_public_key(PublicKey(vk.to_bytes())),
            );
        }
        if let Ok(sk) = SigningKey::from_pkcs8_der(bytes) {
            let pk = PublicKey(sk.verifying_key().to_bytes());
            drop(sk);
            return Ok(
                KeyFile::new(KeyFormat::Pkcs8Der, true, KeyAlgorithm::Ed25519).with_public_key(pk),
            );
        }
    }
    Err(KeyError::UnknownFormat {
        file: name.to_owned(),
        size: bytes.len(),
    })
}

/// `ssh-ed25519 AAAA… comment`. `Ok(None)` when the text is not an OpenSSH public key line.
fn parse_openssh_public_line(name: &str, text: &str) -> Result<Option<KeyFile>, KeyError> {
    let line = text.lines().next().unwrap_or("").trim();
    let mut parts = line.splitn(3, char::is_whitespace);
    let (Some(kind), Some(b64)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let known = kind == "ssh-ed25519"
        || kind == "ssh-rsa"
        || kind == "ssh-dss"
        || kind.starts_with("ecdsa-sha2-")
        || kind.starts_with("sk-");
    if !known {
        return Ok(None);
    }
    let comment = parts
        .next()
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let malformed = |field: &str, reason: String| KeyError::Malformed {
        file: name.to_owned(),
        format: KeyFormat::OpensshPublic,
        field: field.to_owned(),
        reason,
    };
    let blob = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| malformed("base64 key blob", e.to_string()))?;
    let mut r = SshReader::new(&blob);
    let blob_kind = r
        .string("key type")
        .map_err(|e| malformed(&e.0, e.1.clone()))?;
    if blob_kind != kind.as_bytes() {
        return Err(malformed(
            "key type",
            format!(
                "line says {kind} but the blob says {}",
                String::from_utf8_lossy(blob_kind)
            ),
        ));
    }
    let mut kf = if kind == "ssh-ed25519" {
        let pk = r
            .string("public key")
            .map_err(|e| malformed(&e.0, e.1.clone()))?;
        let pk = PublicKey::from_slice(pk)
            .ok_or_else(|| malformed("public key", format!("{} bytes, expected 32", pk.len())))?;
        KeyFile::new(KeyFormat::OpensshPublic, false, KeyAlgorithm::Ed25519).with_public_key(pk)
    } else {
        unsupported_algorithm(KeyFormat::OpensshPublic, false, kind)
    };
    kf.ssh_comment = comment;
    Ok(Some(kf))
}

/// Name of a public-key algorithm OID (with its curve parameter for EC keys).
fn algorithm_name(oid: &str, param: Option<&str>) -> String {
    match (oid, param) {
        ("1.2.840.10045.2.1", Some("1.2.840.10045.3.1.7")) => "ECDSA P-256".into(),
        ("1.2.840.10045.2.1", Some("1.3.132.0.34")) => "ECDSA P-384".into(),
        ("1.2.840.10045.2.1", _) => "ECDSA".into(),
        ("1.2.840.113549.1.1.1", _) => "RSA".into(),
        ("1.3.101.112", _) => "Ed25519".into(),
        ("1.3.101.113", _) => "Ed448".into(),
        (o, _) => format!("OID {o}"),
    }
}

/// A PEM key that is not an Ed25519 SPKI/PKCS#8 key: report its algorithm (read from the DER
/// structure, never printing it) as unsupported, or a malformed-key error.
fn other_pem(name: &str, text: &str, ed25519_error: String) -> Result<KeyFile, KeyError> {
    use ed25519_dalek::pkcs8::spki::{der, der::pem, SubjectPublicKeyInfoRef};
    use ed25519_dalek::pkcs8::{ObjectIdentifier, PrivateKeyInfoRef};
    let malformed = |format: KeyFormat, reason: String| KeyError::Malformed {
        file: name.to_owned(),
        format,
        field: "PEM body".into(),
        reason,
    };
    let (label, der) = pem::decode_vec(text.as_bytes())
        .map_err(|e| malformed(KeyFormat::OtherPem, e.to_string()))?;
    let param_name = |p: Option<der::asn1::AnyRef<'_>>| {
        p.and_then(|a| a.decode_as::<ObjectIdentifier>().ok())
            .map(|o| o.to_string())
    };
    match label {
        "PUBLIC KEY" => {
            let spki = SubjectPublicKeyInfoRef::try_from(der.as_slice()).map_err(|e| {
                malformed(
                    KeyFormat::SpkiPem,
                    format!("{e} (as Ed25519: {ed25519_error})"),
                )
            })?;
            let alg = algorithm_name(
                &spki.algorithm.oid.to_string(),
                param_name(spki.algorithm.parameters).as_deref(),
            );
            Ok(unsupported_algorithm(KeyFormat::SpkiPem, false, &alg))
        }
        "PRIVATE KEY" => {
            let info = PrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| {
                malformed(
                    KeyFormat::Pkcs8Pem,
                    format!("{e} (as Ed25519: {ed25519_error})"),
                )
            })?;
            let alg = algorithm_name(
                &info.algorithm.oid.to_string(),
                param_name(info.algorithm.parameters).as_deref(),
            );
            Ok(unsupported_algorithm(KeyFormat::Pkcs8Pem, true, &alg))
        }
        other => Ok(unsupported_algorithm(
            KeyFormat::OtherPem,
            other.contains("PRIVATE"),
            other,
        )),
    }
}

fn unsupported_algorithm(format: KeyFormat, is_secret: bool, alg: &str) -> KeyFile {
    let mut kf = KeyFile::new(format, is_secret, KeyAlgorithm::Other(alg.to_owned()));
    kf.findings.push(Finding::new(
        "unsupported-key-algorithm",
        Severity::Low,
        None,
        format!("{format} key of type {alg}: wsc signs only with Ed25519, no key id derived"),
    ));
    kf
}

/// openssh-key-v1: magic, cipher, kdf, kdf options, key count, public keys, private blob. Only the
/// clear-text header is read; the private blob is never decoded.
fn parse_openssh_private(name: &str, text: &str) -> Result<KeyFile, KeyError> {
    let malformed = |field: &str, reason: String| KeyError::Malformed {
        file: name.to_owned(),
        format: KeyFormat::OpensshPrivate,
        field: field.to_owned(),
        reason,
    };
    let body: String = text
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .map(str::trim)
        .collect();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| malformed("base64 body", e.to_string()))?;
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    if !blob.starts_with(MAGIC) {
        return Err(malformed("magic", "not openssh-key-v1".into()));
    }
    let mut r = SshReader::new(&blob[MAGIC.len()..]);
    let wrap = |e: SshFieldError| malformed(&e.0, e.1);
    let cipher = r.string("cipher name").map_err(wrap)?.to_vec();
    let _kdf = r.string("kdf name").map_err(wrap)?;
    let _kdf_options = r.string("kdf options").map_err(wrap)?;
    let count = r.u32("key count").map_err(wrap)?;
    if count != 1 {
        return Err(malformed(
            "key count",
            format!("{count} keys; only single-key files are supported"),
        ));
    }
    let pub_blob = r.string("public key blob").map_err(wrap)?;
    let mut p = SshReader::new(pub_blob);
    let kind = p.string("public key type").map_err(wrap)?;
    let kind = String::from_utf8_lossy(kind).into_owned();
    let mut kf = if kind == "ssh-ed25519" {
        let pk = p.string("public key").map_err(wrap)?;
        let pk = PublicKey::from_slice(pk)
            .ok_or_else(|| malformed("public key", format!("{} bytes, expected 32", pk.len())))?;
        KeyFile::new(KeyFormat::OpensshPrivate, true, KeyAlgorithm::Ed25519).with_public_key(pk)
    } else {
        unsupported_algorithm(KeyFormat::OpensshPrivate, true, &kind)
    };
    kf.encrypted = Some(cipher != b"none");
    Ok(kf)
}

/// (field, reason) of an SSH wire-format read that ran past the end.
struct SshFieldError(String, String);

/// Bounds-checked reader of the SSH wire format (RFC 4251: uint32 and length-prefixed strings).
struct SshReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> SshReader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        SshReader { buf, pos: 0 }
    }

    fn u32(&mut self, field: &str) -> Result<u32, SshFieldError> {
        let b = self.buf.get(self.pos..self.pos + 4).ok_or_else(|| {
            SshFieldError(field.into(), format!("truncated at byte {}", self.pos))
        })?;
        self.pos += 4;
        Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }

    fn string(&mut self, field: &str) -> Result<&'a [u8], SshFieldError> {
        let at = self.pos;
        let len = self.u32(field)? as usize;
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(SshFieldError(
                field.into(),
                format!(
                    "length {len} at byte {at} runs past the end ({} bytes)",
                    self.buf.len()
                ),
            ));
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

/// Reads a key file whole (symlinks followed), only when it is a regular file of at most
/// [`MAX_KEY_FILE_LEN`] bytes: a FIFO would block and a link to `/dev/zero` would never end.
pub fn read_key_file(path: &Path) -> Result<Vec<u8>, KeyError> {
    use crate::io::bounded_read::{read_regular_file, BoundedReadError};
    let file = || path.display().to_string();
    read_regular_file(path, MAX_KEY_FILE_LEN as u64).map_err(|e| match e {
        BoundedReadError::TooLarge { size, .. } => KeyError::TooLarge {
            file: file(),
            size,
            max: MAX_KEY_FILE_LEN,
        },
        BoundedReadError::Io(source) => KeyError::Io {
            file: file(),
            source,
        },
        BoundedReadError::NotRegularFile(kind) => KeyError::NotRegularFile { file: file(), kind },
    })
}

/// Reads, parses and stats a key file (symlinks are not followed for the stat), adding
/// permission findings.
pub fn inspect_key_path(path: &Path) -> Result<KeyFileReport, KeyError> {
    let file = path.display().to_string();
    let md = std::fs::symlink_metadata(path).map_err(|source| KeyError::Io {
        file: file.clone(),
        source,
    })?;
    let bytes = read_key_file(path)?;
    let key = parse_key_file(&file, &bytes)?;
    let mut stat = FileStat::of_metadata(&md);
    stat.owner = owner_name(stat.uid);
    let findings = permission_findings(&key, &stat);
    Ok(KeyFileReport {
        key,
        stat,
        findings,
    })
}

/// Secret keys readable by group or others (wsc itself writes them 0600, §8).
pub fn permission_findings(key: &KeyFile, stat: &FileStat) -> Vec<Finding> {
    let mode = stat.permissions();
    if key.is_secret && mode & 0o077 != 0 {
        vec![Finding::new(
            "secret-key-permissions",
            Severity::Low,
            Some(IncidentType::KeyCompromise),
            format!(
                "secret key file has mode {mode:04o}: readable by group or others (expected 0600)"
            ),
        )]
    } else {
        Vec::new()
    }
}

/// User name for a uid, asked of the host's name service (`getpwuid_r`), so users from LDAP or
/// SSSD are named too, not only those in `/etc/passwd`. `None` when the host knows no such user.
pub fn owner_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_names_come_from_the_name_service() {
        assert_eq!(owner_name(0).as_deref(), Some("root"));
        // The running user, whoever it is, has a name the name service knows, the same one
        // `id -un` prints.
        let me = nix::unistd::getuid().as_raw();
        let id = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        let want = String::from_utf8(id.stdout).unwrap();
        assert_eq!(owner_name(me).as_deref(), Some(want.trim()));
        assert_eq!(owner_name(u32::MAX - 7), None);
    }

    #[test]
    fn key_files_are_read_only_when_regular_and_small() {
        assert!(matches!(
            read_key_file(Path::new("/dev/zero")),
            Err(KeyError::NotRegularFile {
                kind: "character device",
                ..
            })
        ));
        assert!(matches!(
            read_key_file(Path::new("/nonexistent/k.pub")),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn verification_is_the_same_with_a_cold_warm_or_overflowing_key_cache() {
        use ed25519_dalek::Signer;
        let signers: Vec<SigningKey> = (0..VERIFYING_KEY_CACHE as u8 + 6)
            .map(|i| SigningKey::from_bytes(&[i + 1; 32]))
            .collect();
        let msg = b"covered bytes";
        // Twice round more keys than the cache holds: every lookup, hit or miss, must agree.
        for _ in 0..2 {
            for (i, sk) in signers.iter().enumerate() {
                let pk = PublicKey(sk.verifying_key().to_bytes());
                let sig = sk.sign(msg).to_bytes();
                assert!(pk.verify(msg, &sig), "key {i}");
                assert!(!pk.verify(b"other bytes", &sig), "key {i}");
                let other = PublicKey(signers[(i + 1) % signers.len()].verifying_key().to_bytes());
                assert!(!other.verify(msg, &sig), "key {i} against its neighbour");
            }
        }
        // Not a curve point: never verifies, cached or not.
        let bad = (2u8..=255)
            .map(|b| [b; 32])
            .find(|k| VerifyingKey::from_bytes(k).is_err())
            .expect("some repeated byte is not a curve point");
        for _ in 0..2 {
            assert!(!PublicKey(bad).verify(msg, &[0u8; 64]));
        }
    }

    const A_ID: &str = "c858d5ec82d976c190cb33d0";
    const A_PK: &str = "e3749b84e3e8af4036b3d26615547959acebcda20c9b05e421506c4bcf819e04";

    fn fixture(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/wsc/keys")
            .join(rel)
    }

    fn parse(rel: &str) -> KeyFile {
        parse_key_file(rel, &std::fs::read(fixture(rel)).unwrap()).unwrap()
    }

    #[test]
    fn every_format_of_key_a_gives_the_same_key_id() {
        for (f, fmt, secret) in [
            ("test-key-a.pub", KeyFormat::WscRawPublic, false),
            ("test-key-a.sec", KeyFormat::WscRawSecret, true),
            ("test-key-a.spki.pem", KeyFormat::SpkiPem, false),
            ("test-key-a.spki.der", KeyFormat::SpkiDer, false),
            ("test-key-a.pkcs8.pem", KeyFormat::Pkcs8Pem, true),
        ] {
            let k = parse(f);
            assert_eq!(k.format, fmt, "{f}");
            assert_eq!(k.is_secret, secret, "{f}");
            assert_eq!(k.algorithm, KeyAlgorithm::Ed25519);
            assert_eq!(k.public_key.unwrap().to_hex(), A_PK, "{f}");
            assert_eq!(k.wsc_key_id.as_deref(), Some(A_ID), "{f}");
            assert_eq!(k.bundle_key_id.as_deref(), Some("426cd7af"), "{f}");
        }
    }

    #[test]
    fn key_ids_of_b_and_bundle_signer_match_the_fixture_readme() {
        for (f, id, bid) in [
            ("test-key-b.pub", "465c5341001f3e570f784f71", "6fba4671"),
            ("test-key-b.sec", "465c5341001f3e570f784f71", "6fba4671"),
            (
                "test-key-bundle-signer.pub",
                "b86e7199ae5a288346e92ea9",
                "a5142fb5",
            ),
        ] {
            let k = parse(f);
            assert_eq!(k.wsc_key_id.as_deref(), Some(id), "{f}");
            assert_eq!(k.bundle_key_id.as_deref(), Some(bid), "{f}");
        }
    }

    #[test]
    fn pkcs8_der_of_key_a_is_recognised() {
        let pem = std::fs::read_to_string(fixture("test-key-a.pkcs8.pem")).unwrap();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let k = parse_key_file("a.der", &der).unwrap();
        assert_eq!(k.format, KeyFormat::Pkcs8Der);
        assert!(k.is_secret);
        assert_eq!(k.wsc_key_id.as_deref(), Some(A_ID));
    }

    #[test]
    fn openssh_public_and_private_give_the_same_key() {
        let p = parse("test-ssh-ed25519.pub");
        let s = parse("test-ssh-ed25519");
        assert_eq!(p.format, KeyFormat::OpensshPublic);
        assert_eq!(s.format, KeyFormat::OpensshPrivate);
        assert!(s.is_secret && !p.is_secret);
        assert_eq!(s.encrypted, Some(false));
        assert_eq!(
            p.ssh_comment.as_deref(),
            Some("wsc-forensics TEST KEY (not secret)")
        );
        assert_eq!(p.public_key, s.public_key);
        assert_eq!(
            p.public_key.unwrap().to_hex(),
            "c8e840f1b7a3133269c5b7fea283b681234d399805052fc01b745c943f67cc5e"
        );
    }

    #[test]
    fn secret_key_whose_public_half_was_swapped_is_reported() {
        let mut a = std::fs::read(fixture("test-key-a.sec")).unwrap();
        let b = std::fs::read(fixture("test-key-b.pub")).unwrap();
        a[33..65].copy_from_slice(&b[1..33]);
        let k = parse_key_file("mixed.sec", &a).unwrap();
        assert!(k
            .findings
            .iter()
            .any(|f| f.code == "secret-key-public-half-mismatch"));
        assert!(!parse("test-key-a.sec")
            .findings
            .iter()
            .any(|f| f.code == "secret-key-public-half-mismatch"));
    }

    /// The analysis of every secret fixture, serialised and Debug-printed, holds no form of the
    /// secret seed.
    #[test]
    fn no_secret_byte_ever_appears_in_output() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let seeds: Vec<(&str, Vec<u8>)> = vec![
            (
                "test-key-a.sec",
                std::fs::read(fixture("test-key-a.sec")).unwrap()[1..33].to_vec(),
            ),
            (
                "test-key-b.sec",
                std::fs::read(fixture("test-key-b.sec")).unwrap()[1..33].to_vec(),
            ),
            (
                "test-key-bundle-signer.sec",
                std::fs::read(fixture("test-key-bundle-signer.sec")).unwrap()[1..33].to_vec(),
            ),
            (
                "test-key-a.pkcs8.pem",
                std::fs::read(fixture("test-key-a.sec")).unwrap()[1..33].to_vec(),
            ),
        ];
        for (f, seed) in seeds {
            let k = parse(f);
            let mut outputs = vec![
                serde_json::to_string(&k).unwrap(),
                format!("{k:?}"),
                format!("{k:#?}"),
            ];
            let rep = inspect_key_path(&fixture(f)).unwrap();
            outputs.push(serde_json::to_string(&rep).unwrap());
            outputs.push(format!("{rep:?}"));
            for out in outputs {
                for needle in [
                    hex::encode(&seed),
                    hex::encode_upper(&seed),
                    b64.encode(&seed),
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(&seed[..30]),
                ] {
                    assert!(!out.contains(&needle), "{f}: secret leaked");
                }
                assert!(!out.as_bytes().windows(32).any(|w| w == seed.as_slice()));
            }
        }
    }

    #[test]
    fn secret_key_readable_by_others_is_a_low_inc1_finding() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.sec");
        std::fs::copy(fixture("test-key-a.sec"), &p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let r = inspect_key_path(&p).unwrap();
        let f = r
            .findings
            .iter()
            .find(|f| f.code == "secret-key-permissions")
            .unwrap();
        assert_eq!(f.severity, Severity::Low);
        assert_eq!(f.incident_type, Some(IncidentType::KeyCompromise));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(inspect_key_path(&p).unwrap().findings.is_empty());
        // A public key is never flagged for its mode.
        let q = dir.path().join("k.pub");
        std::fs::copy(fixture("test-key-a.pub"), &q).unwrap();
        std::fs::set_permissions(&q, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(inspect_key_path(&q).unwrap().findings.is_empty());
    }

    #[test]
    fn hostile_key_files_give_typed_errors() {
        assert!(matches!(
            parse_key_file("x", b"hello"),
            Err(KeyError::UnknownFormat { .. })
        ));
        // OpenSSH public blob whose length prefix claims 4 GiB.
        let blob = [0xffu8, 0xff, 0xff, 0xff, b's'];
        let line = format!(
            "ssh-ed25519 {}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        );
        let e = parse_key_file("evil.pub", line.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("evil.pub"), "{e}");
        assert!(e.to_string().contains("runs past the end"), "{e}");
        // Truncated OpenSSH private key.
        let s = std::fs::read_to_string(fixture("test-ssh-ed25519")).unwrap();
        let mut lines: Vec<&str> = s.lines().collect();
        lines.drain(2..lines.len() - 1);
        let e = parse_key_file("trunc", lines.join("\n").as_bytes()).unwrap_err();
        assert!(matches!(e, KeyError::Malformed { .. }), "{e}");
        // Bad PEM body.
        assert!(parse_key_file(
            "bad.pem",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        )
        .is_err());
    }

    #[test]
    fn non_ed25519_pem_keys_are_recognised_but_unsupported() {
        let rekor = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc/bundle/sigstore-rekor-key.pem"),
        )
        .unwrap();
        let k = parse_key_file("rekor.pem", &rekor).unwrap();
        assert_eq!(k.format, KeyFormat::SpkiPem);
        assert_eq!(k.algorithm, KeyAlgorithm::Other("ECDSA P-256".into()));
        assert!(!k.is_secret && k.public_key.is_none());
        assert_eq!(k.findings[0].code, "unsupported-key-algorithm");
        let ec = b"-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n";
        let k = parse_key_file("ec.key", ec).unwrap();
        assert_eq!(k.format, KeyFormat::OtherPem);
        assert!(k.is_secret);
        assert_eq!(k.algorithm, KeyAlgorithm::Other("EC PRIVATE KEY".into()));
    }

    #[test]
    fn rsa_ssh_key_is_recognised_but_unsupported() {
        // ssh-rsa blob: string "ssh-rsa", e, n (tiny, made up; only the type matters here).
        let mut blob = Vec::new();
        for part in [&b"ssh-rsa"[..], &[1, 0, 1], &[0, 0xc3]] {
            blob.extend_from_slice(&(part.len() as u32).to_be_bytes());
            blob.extend_from_slice(part);
        }
        let line = format!(
            "ssh-rsa {} me@host",
            base64::engine::general_purpose::STANDARD.encode(blob)
        );
        let k = parse_key_file("rsa.pub", line.as_bytes()).unwrap();
        assert_eq!(k.algorithm, KeyAlgorithm::Other("ssh-rsa".into()));
        assert!(k.public_key.is_none());
        assert_eq!(k.findings[0].code, "unsupported-key-algorithm");
    }

    #[test]
    fn public_key_verify_accepts_only_the_right_message() {
        let sk = SigningKey::from_bytes(&[7u8; 32]);
        let pk = PublicKey(sk.verifying_key().to_bytes());
        use ed25519_dalek::Signer;
        let sig = sk.sign(b"msg").to_bytes();
        assert!(pk.verify(b"msg", &sig));
        assert!(!pk.verify(b"msh", &sig));
        assert!(!pk.verify(b"msg", &sig[..63]));
    }
}
