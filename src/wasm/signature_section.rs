//! Field-by-field decoder of a key-based `signature` section payload (SignatureData version 1,
//! docs/wsc-formats.md §2), with the file offset of every part, and a report of what wsc would
//! silently drop or ignore (unparseable elements, trailing bytes): places to hide data.

use super::payload_reader::Reader;
use serde::{Serialize, Serializer};
use std::ops::Range;

/// `specification_version` of key-based signatures.
pub const SIGNATURE_VERSION: u8 = 0x01;
/// `content_type`: a wasm module.
pub const CONTENT_TYPE_WASM_MODULE: u8 = 0x01;
/// `hash_function`: SHA-256.
pub const HASH_SHA256: u8 = 0x01;
/// `alg_id`: Ed25519.
pub const ALG_ED25519: u8 = 0x01;
/// wsc's limits (§2): hash sets and hashes per set, signatures per set, certificates per
/// signature, bytes per length-prefixed slice.
pub const MAX_HASHES: u64 = 64;
pub const MAX_SIGNATURES: u64 = 256;
pub const MAX_CERTIFICATES: u64 = 16;
pub use super::payload_reader::MAX_SLICE_LEN;

/// Why the payload could not be decoded at all (wsc: `Parse error` or a limit error).
pub type SignatureDecodeError = super::payload_reader::PayloadDecodeError;

/// 32-byte hash, serialised as hex.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Hash32(pub [u8; 32]);

impl Serialize for Hash32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl schemars::JsonSchema for Hash32 {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Hash32".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        crate::model::digest::hex_schema("32-byte hash, 64 lowercase hex characters", 32)
    }
}

fn ser_hex<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

fn ser_opt_hex<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_str(&hex::encode(b)),
        None => s.serialize_none(),
    }
}

fn ser_hex_list<S: Serializer>(b: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(b.iter().map(hex::encode))
}

/// The decoded section payload.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct SignatureData {
    /// File range of the payload (after the section name; the whole file for a detached `.sig`).
    pub range: Range<u64>,
    pub spec_version: u8,
    pub content_type: u8,
    pub hash_function: u8,
    pub sets: Vec<SignedHashSet>,
    /// Bytes after the last set that wsc ignores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing: Option<Range<u64>>,
}

/// One list of hashes and the signatures over it.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct SignedHashSet {
    pub index: usize,
    /// File range of the set's bytes (inside its length prefix).
    pub range: Range<u64>,
    pub hashes: Vec<Hash32>,
    pub signatures: Vec<SignatureEntry>,
    /// Elements wsc 0.5.0 would silently drop (wsc-verify-core 0.12 rejects the whole section).
    pub dropped: Vec<DroppedElement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing: Option<Range<u64>>,
}

/// One signature element.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct SignatureEntry {
    /// Position among the set's elements (dropped ones included).
    pub index: usize,
    pub range: Range<u64>,
    #[serde(serialize_with = "ser_opt_hex")]
    #[schemars(with = "Option<String>")]
    pub key_id: Option<Vec<u8>>,
    pub alg_id: u8,
    #[serde(serialize_with = "ser_hex")]
    #[schemars(with = "String")]
    pub signature: Vec<u8>,
    /// `false` for an old-format element that ends before the certificate count.
    pub cert_count_present: bool,
    /// DER certificates (§9), device certificate first.
    #[serde(serialize_with = "ser_hex_list")]
    #[schemars(with = "Vec<String>")]
    pub certificates: Vec<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing: Option<Range<u64>>,
}

/// A signature element wsc would not use, and why.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq)]
pub struct DroppedElement {
    pub index: usize,
    pub range: Range<u64>,
    pub reason: String,
}

/// Decodes a SignatureData v1 payload found at file offset `base`.
pub fn decode(payload: &[u8], base: u64) -> Result<SignatureData, SignatureDecodeError> {
    let mut r = Reader::new(payload, base);
    let spec_version = r.u7("specification version")?;
    if spec_version != SIGNATURE_VERSION {
        r.pos -= 1;
        return Err(r.err(
            "specification version",
            format!("0x{spec_version:02x}, expected 0x01 (key-based)"),
        ));
    }
    let content_type = r.u7("content type")?;
    if content_type != CONTENT_TYPE_WASM_MODULE {
        r.pos -= 1;
        return Err(r.err(
            "content type",
            format!("0x{content_type:02x}, expected 0x01 (wasm module)"),
        ));
    }
    let hash_function = r.u7("hash function")?;
    let at = r.pos;
    let set_count = r.varint("set count")?;
    if set_count > MAX_HASHES {
        r.pos = at;
        return Err(r.err(
            "set count",
            format!("{set_count} sets, more than {MAX_HASHES}"),
        ));
    }
    let mut sets = Vec::new();
    for index in 0..set_count as usize {
        let field = format!("set {index}");
        let (bytes, at) = r.slice(&field)?;
        sets.push(decode_set(index, bytes, at)?);
    }
    Ok(SignatureData {
        range: base..base + payload.len() as u64,
        spec_version,
        content_type,
        hash_function,
        sets,
        trailing: r.trailing(),
    })
}

fn decode_set(
    index: usize,
    bytes: &[u8],
    base: u64,
) -> Result<SignedHashSet, SignatureDecodeError> {
    let mut r = Reader::new(bytes, base);
    let hash_count = r.varint(&format!("set {index} hash count"))?;
    if hash_count > MAX_HASHES {
        r.pos = 0;
        return Err(r.err(
            &format!("set {index} hash count"),
            format!("{hash_count} hashes, more than {MAX_HASHES}"),
        ));
    }
    let mut hashes = Vec::new();
    for h in 0..hash_count {
        let b = r.take(32, &format!("set {index} hash {h}"))?;
        hashes.push(Hash32(b.try_into().expect("32 bytes")));
    }
    let at = r.pos;
    let sig_count = r.varint(&format!("set {index} signature count"))?;
    if sig_count > MAX_SIGNATURES {
        r.pos = at;
        return Err(r.err(
            &format!("set {index} signature count"),
            format!("{sig_count} signatures, more than {MAX_SIGNATURES}"),
        ));
    }
    let mut signatures = Vec::new();
    let mut dropped = Vec::new();
    for s in 0..sig_count as usize {
        let (el, at) = r.slice(&format!("set {index} signature {s}"))?;
        let range = at..at + el.len() as u64;
        match decode_element(s, el, at) {
            Ok(e) => signatures.push(e),
            Err(reason) => dropped.push(DroppedElement {
                index: s,
                range,
                reason,
            }),
        }
    }
    Ok(SignedHashSet {
        index,
        range: base..base + bytes.len() as u64,
        hashes,
        signatures,
        dropped,
        trailing: r.trailing(),
    })
}

/// One `SignatureForHashes`; `Err(reason)` for an element that cannot be decoded (wsc drops it).
fn decode_element(index: usize, el: &[u8], base: u64) -> Result<SignatureEntry, String> {
    let mut r = Reader::new(el, base);
    let (key_id, _) = r.slice("key id").map_err(|e| e.to_string())?;
    // An alg id other than Ed25519 makes wsc drop the element; it is still decoded here (and
    // judged `unsupported`) so the examiner sees what it holds.
    let alg_id = r.byte("algorithm id").map_err(|e| e.to_string())?;
    let (signature, _) = r.slice("signature").map_err(|e| e.to_string())?;
    let mut certificates = Vec::new();
    let cert_count_present = r.pos < el.len();
    if cert_count_present {
        let n = r.varint("certificate count").map_err(|e| e.to_string())?;
        if n > MAX_CERTIFICATES {
            return Err(format!(
                "byte offset {}: {n} certificates, more than {MAX_CERTIFICATES}",
                r.at()
            ));
        }
        for c in 0..n {
            let (der, _) = r
                .slice(&format!("certificate {c}"))
                .map_err(|e| e.to_string())?;
            certificates.push(der.to_vec());
        }
    }
    Ok(SignatureEntry {
        index,
        range: base..base + el.len() as u64,
        key_id: (!key_id.is_empty()).then(|| key_id.to_vec()),
        alg_id,
        signature: signature.to_vec(),
        cert_count_present,
        certificates,
        trailing: r.trailing(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(rel: &str) -> (Vec<u8>, u64) {
        let b = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc/modules")
                .join(rel),
        )
        .unwrap();
        let s = crate::wasm::scanner::Scanner::scan_bytes(&b, Default::default());
        let sec = s.signature_section().unwrap().clone();
        let p = s.signature_payload.unwrap();
        (p.clone(), sec.range.end - p.len() as u64)
    }

    #[test]
    fn signed_a_decodes_like_the_worked_example() {
        let (p, base) = payload("signed-a.wasm");
        assert_eq!(base, 21);
        let d = decode(&p, base).unwrap();
        assert_eq!((d.spec_version, d.content_type, d.hash_function), (1, 1, 1));
        assert_eq!(d.sets.len(), 1);
        let set = &d.sets[0];
        assert_eq!(set.hashes.len(), 1);
        assert!(hex::encode(set.hashes[0].0).starts_with("07429d9d"));
        assert_eq!(set.signatures.len(), 1);
        let sig = &set.signatures[0];
        assert_eq!(
            hex::encode(sig.key_id.as_ref().unwrap()),
            "c858d5ec82d976c190cb33d0"
        );
        assert_eq!(sig.signature.len(), 64);
        assert_eq!(sig.range.end - sig.range.start, 80);
        assert!(sig.cert_count_present && sig.certificates.is_empty());
        assert_eq!(d.trailing, None);
        assert!(set.dropped.is_empty());
    }

    #[test]
    fn nokeyid_element_is_68_bytes_without_key_id() {
        let (p, base) = payload("signed-a-nokeyid.wasm");
        let d = decode(&p, base).unwrap();
        let sig = &d.sets[0].signatures[0];
        assert_eq!(sig.key_id, None);
        assert_eq!(sig.range.end - sig.range.start, 68);
    }

    #[test]
    fn trailing_bytes_and_bad_elements_are_reported() {
        let (mut p, base) = payload("signed-a.wasm");
        p.extend_from_slice(b"hidden");
        let d = decode(&p, base).unwrap();
        assert_eq!(d.trailing, Some(base + 120..base + 126));
        // alg id 0x02 in the element: still decoded. Element starts after
        // 01 01 01 | 01 | 73 | 01 <32> | 01 | 50 -> offset 40 in payload; alg at 40+13.
        let (mut p, base) = payload("signed-a.wasm");
        assert_eq!(p[40], 0x0c);
        p[53] = 0x02;
        let d = decode(&p, base).unwrap();
        assert_eq!(d.sets[0].signatures[0].alg_id, 2);
        // A key id length running past the element: dropped with a reason.
        let (mut p, base) = payload("signed-a.wasm");
        p[40] = 0x7f;
        let d = decode(&p, base).unwrap();
        assert!(d.sets[0].signatures.is_empty());
        assert_eq!(d.sets[0].dropped.len(), 1);
        assert_eq!(d.sets[0].dropped[0].range, base + 40..base + 120);
        assert!(
            d.sets[0].dropped[0].reason.contains("key id"),
            "{}",
            d.sets[0].dropped[0].reason
        );
    }

    #[test]
    fn hostile_counts_and_lengths_are_errors_with_offsets() {
        // 65 sets.
        let e = decode(&[1, 1, 1, 65], 100).unwrap_err();
        assert_eq!(e.offset, 103);
        assert!(e.reason.contains("more than 64"));
        // Set length claiming 4 GiB.
        let e = decode(&[1, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f], 0).unwrap_err();
        assert!(e.reason.contains("slice limit"), "{e}");
        // Keyless payload is not key-based.
        let e = decode(&[2, 2, 0x40], 0).unwrap_err();
        assert_eq!(e.field, "specification version");
        // Truncated.
        assert!(decode(&[1, 1], 0).is_err());
        // 257 signatures in a set.
        let e = decode(&[1, 1, 1, 1, 3, 0, 0x81, 0x02], 0).unwrap_err();
        assert!(e.reason.contains("more than 256"), "{e}");
    }
}
