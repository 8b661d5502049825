//! Recognising secret key material by content, anywhere in a file: the one detector behind
//! `collect` (such a file is recorded as metadata only, its bytes never copied), `keys`,
//! `inspect` and the secrets sweep.
//!
//! What counts as secret (documented in docs/collect.md):
//! - a raw wsc secret key (`0x81` and 64 bytes), with or without trailing whitespace;
//! - a DER private key: PKCS#8 (plain or encrypted), PKCS#1, SEC1 or PKCS#12;
//! - an OpenSSH private key in its binary form, a PuTTY private key file;
//! - any PEM block whose label contains `PRIVATE KEY` (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`,
//!   `OPENSSH PRIVATE KEY`, `RSA PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`, …), wherever it sits
//!   (after a BOM, prose or any amount of certificates; CRLF or LF). The block is not parsed:
//!   a marker is enough, so a block no parser understands is still treated as secret;
//! - a JSON Web Key with a private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `k`). JSON that
//!   names a `kty` but cannot be parsed is secret when a private member name appears in it.

use memchr::memmem;
use std::fmt;

/// The kind of secret material found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretFormat {
    WscRawSecretKey,
    Pkcs8Der,
    EncryptedPkcs8Der,
    /// PKCS#1 RSA, DSA or another SEQUENCE starting with a small version number.
    OtherDerPrivateKey,
    Sec1Der,
    Pkcs12,
    OpenSshBinary,
    PuttyPrivateKey,
    /// A PEM block, with its label (`RSA PRIVATE KEY`, …).
    Pem(String),
    Jwk,
}

impl fmt::Display for SecretFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretFormat::WscRawSecretKey => f.write_str("raw wsc secret key"),
            SecretFormat::Pkcs8Der => f.write_str("PKCS#8 DER private key"),
            SecretFormat::EncryptedPkcs8Der => f.write_str("encrypted PKCS#8 DER private key"),
            SecretFormat::OtherDerPrivateKey => f.write_str("DER private key (PKCS#1 or DSA)"),
            SecretFormat::Sec1Der => f.write_str("SEC1 DER EC private key"),
            SecretFormat::Pkcs12 => f.write_str("PKCS#12 key store"),
            SecretFormat::OpenSshBinary => f.write_str("OpenSSH private key (binary)"),
            SecretFormat::PuttyPrivateKey => f.write_str("PuTTY private key"),
            SecretFormat::Pem(label) => write!(f, "PEM \"{label}\" block"),
            SecretFormat::Jwk => f.write_str("JSON Web Key with a private member"),
        }
    }
}

/// Whole-file checks (raw, DER, JWK) look at files up to this size; larger files are only
/// searched for markers (a JWK marker in a larger file is treated as secret: it cannot be
/// ruled out).
pub const WHOLE_FILE_MAX: usize = 256 << 10;
/// Bytes kept across chunk boundaries: a marker and its label fit in them.
const CARRY: usize = 128;
const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const KTY: &[u8] = b"\"kty\"";

/// A streaming detector: fed every chunk of a file in order, then finished.
pub struct SecretScanner {
    prefix: Vec<u8>,
    carry: Vec<u8>,
    size: u64,
    pem: Option<SecretFormat>,
    kty_seen: bool,
}

impl Default for SecretScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretScanner {
    pub fn new() -> Self {
        SecretScanner {
            prefix: Vec::new(),
            carry: Vec::new(),
            size: 0,
            pem: None,
            kty_seen: false,
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        let room = (WHOLE_FILE_MAX + 1).saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        if self.pem.is_some() {
            return;
        }
        // Markers across the boundary, then inside the chunk.
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(&chunk[..chunk.len().min(CARRY)]);
        self.search(&joined);
        self.search(chunk);
        let tail: &[u8] = if chunk.len() >= CARRY { chunk } else { &joined };
        self.carry = tail[tail.len().saturating_sub(CARRY)..].to_vec();
    }

    fn search(&mut self, hay: &[u8]) {
        if self.pem.is_none() {
            for at in memmem::find_iter(hay, PEM_BEGIN) {
                if let Some(label) = pem_label(&hay[at + PEM_BEGIN.len()..]) {
                    if label.contains("PRIVATE KEY") {
                        self.pem = Some(SecretFormat::Pem(label));
                        break;
                    }
                }
            }
        }
        if !self.kty_seen && memmem::find(hay, KTY).is_some() {
            self.kty_seen = true;
        }
    }

    /// The secret material found, if any.
    pub fn finish(self) -> Option<SecretFormat> {
        if let Some(p) = self.pem {
            return Some(p);
        }
        let whole = self.size as usize <= WHOLE_FILE_MAX;
        let bytes = &self.prefix[..self.prefix.len().min(WHOLE_FILE_MAX)];
        if whole {
            if let Some(f) = raw_or_binary(bytes) {
                return Some(f);
            }
        }
        if self.kty_seen && (!whole || jwk_has_private_member(bytes)) {
            return Some(SecretFormat::Jwk);
        }
        None
    }
}

/// A reader that passes every byte it reads through a [`SecretScanner`].
pub struct ScanningReader<R> {
    pub inner: R,
    pub scanner: SecretScanner,
}

impl<R: std::io::Read> std::io::Read for ScanningReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scanner.feed(&buf[..n]);
        Ok(n)
    }
}

/// Detects secret material in a whole byte slice.
pub fn detect(bytes: &[u8]) -> Option<SecretFormat> {
    let mut s = SecretScanner::new();
    s.feed(bytes);
    s.finish()
}

/// The label of a PEM boundary (`LABEL-----`), when it is one: printable ASCII up to the
/// closing dashes, on one line.
fn pem_label(after: &[u8]) -> Option<String> {
    let end = memmem::find(&after[..after.len().min(96)], b"-----")?;
    let label = &after[..end];
    label
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b))
        .then(|| String::from_utf8_lossy(label).into_owned())
}

/// Raw wsc secret key, binary OpenSSH and PuTTY keys, DER private keys.
fn raw_or_binary(bytes: &[u8]) -> Option<SecretFormat> {
    let trimmed = trim_trailing_whitespace(bytes);
    if trimmed.len() == 65 && trimmed[0] == 0x81 {
        return Some(SecretFormat::WscRawSecretKey);
    }
    if bytes.starts_with(b"openssh-key-v1\0") {
        return Some(SecretFormat::OpenSshBinary);
    }
    if bytes.starts_with(b"PuTTY-User-Key-File-") {
        return Some(SecretFormat::PuttyPrivateKey);
    }
    // Trailing whitespace after a DER document (an editor's newline) is allowed; the last
    // byte of the document itself may be 0x20, so the untrimmed bytes are tried first.
    der_private_key(bytes).or_else(|| der_private_key(trimmed))
}

fn trim_trailing_whitespace(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &b[..end]
}

/// One DER TLV: (tag, content, rest).
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, &d| (a << 8) | d as usize);
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// PKCS#5 (PBES1/PBES2) and PKCS#12 PBE algorithm OIDs: 1.2.840.113549.1.5.* and
/// 1.2.840.113549.1.12.1.*.
const PKCS5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05];
const PKCS12_PBE_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01];

/// A DER document that is one SEQUENCE shaped like a private key container.
fn der_private_key(b: &[u8]) -> Option<SecretFormat> {
    let (tag, body, rest) = tlv(b)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (t1, c1, after1) = tlv(body)?;
    let (t2, c2, _) = tlv(after1)?;
    match (t1, t2) {
        // A small version number first: PKCS#8 (then an AlgorithmIdentifier), SEC1 (version 1,
        // then the key as an OCTET STRING), PKCS#12 (version 3), PKCS#1 / DSA (then INTEGERs).
        (0x02, _) if (1..=2).contains(&c1.len()) => Some(match (c1, t2) {
            ([3], 0x30) => SecretFormat::Pkcs12,
            (_, 0x30) => SecretFormat::Pkcs8Der,
            ([1], 0x04) => SecretFormat::Sec1Der,
            _ => SecretFormat::OtherDerPrivateKey,
        }),
        // EncryptedPrivateKeyInfo: a PBE AlgorithmIdentifier, then the encrypted key.
        (0x30, 0x04) => {
            let (t, oid, _) = tlv(c1)?;
            (t == 0x06 && (oid.starts_with(PKCS5_OID) || oid.starts_with(PKCS12_PBE_OID)))
                .then_some(SecretFormat::EncryptedPkcs8Der)
                .filter(|_| !c2.is_empty())
        }
        _ => None,
    }
}

/// Private members of a JSON Web Key (RFC 7517/7518).
const JWK_PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/// Whether JSON text (a JWK, a JWK set, JSON lines, or anything holding them) has an object with
/// a `kty` and a private member. Text that does not parse is judged by the member names alone.
fn jwk_has_private_member(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(text) {
        return value_has_private_jwk(&v);
    }
    let mut parsed_any = false;
    for line in text.split(|&b| b == b'\n') {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
            parsed_any = true;
            if value_has_private_jwk(&v) {
                return true;
            }
        }
    }
    if parsed_any {
        return false;
    }
    JWK_PRIVATE.iter().any(|m| {
        let quoted = format!("\"{m}\"");
        memmem::find_iter(text, quoted.as_bytes()).any(|at| {
            text[at + quoted.len()..]
                .iter()
                .find(|c| !c.is_ascii_whitespace())
                == Some(&b':')
        })
    })
}

fn value_has_private_jwk(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => {
            (m.get("kty").is_some_and(|k| k.is_string())
                && JWK_PRIVATE.iter().any(|p| m.contains_key(*p)))
                || m.values().any(value_has_private_jwk)
        }
        serde_json::Value::Array(a) => a.iter().any(value_has_private_jwk),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn real_key_files_are_secret_or_not() {
        for (f, secret) in [
            ("wsc/keys/test-key-a.sec", true),
            ("wsc/keys/test-key-a.pkcs8.pem", true),
            ("wsc/keys/test-ssh-ed25519", true),
            ("wsc/keys/test-key-a.pub", false),
            ("wsc/keys/test-key-a.spki.pem", false),
            ("wsc/keys/test-ssh-ed25519.pub", false),
            ("wsc/modules/signed-a.wasm", false),
            ("sigstore/offline-rekor.txt.crt", false),
            ("sigstore/bundle.txt.sigstore", false),
            ("rekor/wsc-embedded-trusted_root.json", false),
        ] {
            assert_eq!(detect(&fixture(f)).is_some(), secret, "{f}");
        }
    }

    #[test]
    fn a_marker_split_across_chunks_is_found_at_any_cut() {
        let mut text = b"\xef\xbb\xbfsome prose first\r\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 300));
        text.extend_from_slice(b"\r\n-----BEGIN EC PRIVATE KEY-----\r\nMHcCAQEE\r\n");
        for chunk in [1, 2, 7, 11, 64, 127, 128, 129, 4096] {
            let mut s = SecretScanner::new();
            for c in text.chunks(chunk) {
                s.feed(c);
            }
            assert_eq!(
                s.finish(),
                Some(SecretFormat::Pem("EC PRIVATE KEY".into())),
                "chunk {chunk}"
            );
        }
        assert_eq!(detect(b"-----BEGIN CERTIFICATE-----\nMII\n"), None);
    }

    #[test]
    fn raw_der_and_jwk_shapes() {
        let mut raw = vec![0x81u8];
        raw.extend([7u8; 64]);
        assert_eq!(detect(&raw), Some(SecretFormat::WscRawSecretKey));
        raw.extend_from_slice(b" \r\n");
        assert_eq!(detect(&raw), Some(SecretFormat::WscRawSecretKey));
        raw[0] = 0x01;
        assert_eq!(detect(&raw), None);
        // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING } }
        let pkcs8 = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
        ];
        assert_eq!(detect(&pkcs8), Some(SecretFormat::Pkcs8Der));
        // SubjectPublicKeyInfo: SEQUENCE { SEQUENCE { OID }, BIT STRING }: public.
        let spki = [
            0x30, 0x0c, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x03, 0x00, 0x01, 0x02,
        ];
        assert_eq!(detect(&spki), None);
        let enc = [
            0x30, 0x13, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05,
            0x0d, 0x04, 0x04, 9, 9, 9, 9,
        ];
        assert_eq!(detect(&enc), Some(SecretFormat::EncryptedPkcs8Der));
        assert_eq!(
            detect(br#"{"kty":"OKP","crv":"Ed25519","x":"AA","d":"BB"}"#),
            Some(SecretFormat::Jwk)
        );
        assert_eq!(
            detect(br#"{"keys":[{"kty":"EC","x":"AA","y":"BB"}]}"#),
            None,
            "a public JWK set"
        );
        assert_eq!(
            detect(br#"{"kty": "oct", "k" : "AAAA""#),
            Some(SecretFormat::Jwk),
            "unparseable, with a private member"
        );
    }
}
