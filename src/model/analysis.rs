//! The `analysis` of an evidence item: what the analyser for its kind concluded, as a typed
//! record. Readers match on the variant and read fields (a module's signature verdicts, a key's
//! fingerprint), so a schema change fails to compile instead of reading `null`.
//!
//! The fields downstream layers use are typed; the remaining detail of each analyser's report is
//! kept as JSON (`rest`, `Value` fields) and shown as found. The written form is the one
//! evidence.json has always held: an object tagged by `analyser` (a transparency report has no
//! tag), keys in sorted order at every level. Any analysis this build does not model (another
//! version's, a hand-made one) is kept as found ([`Analysis::Unrecognised`]).

use crate::model::digest::Sha256Digest;
use crate::model::item_kind::ItemKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What an analyser concluded about one item.
#[derive(Clone, Debug, PartialEq)]
pub enum Analysis {
    Module(ModuleAnalysis),
    Key(KeyAnalysis),
    DetachedSignature(DetachedSignatureAnalysis),
    /// A Rekor entry, Sigstore bundle or trust root that was checked.
    Transparency(TransparencyAnalysis),
    /// A transparency file that could not be read or parsed.
    TransparencyError(FailedAnalysis),
    AuditLog(AuditLogAnalysis),
    CaseFile(CaseFileAnalysis),
    Basic(BasicAnalysis),
    /// An analysis in a shape this build does not model: kept, and written back, as found.
    Unrecognised(Value),
}

/// A module: the scan, its signature and verdicts, the transparency checks of a keyless one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModuleAnalysis {
    /// wsc key ids of the public keys the signatures were judged against.
    pub judged_with_key_ids: Vec<String>,
    /// The keyless transparency checks (`null` for a key-based or unsigned module).
    pub keyless_checks: Option<Value>,
    pub module: ModuleRecord,
    /// Origin of the trust root the keyless checks used.
    pub trust_root: Option<String>,
}

/// What the wasm decoder found in a module.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModuleRecord {
    pub signature: SignatureRecord,
    /// The scan (sections, ranges, hashes) and the module's findings, as reported.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// What a module's signature is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureKind {
    Unsigned,
    KeyBased,
    Keyless,
    Undecodable,
}

/// A module's signature: its kind and, when key-based, one verdict per signature.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SignatureRecord {
    pub kind: SignatureKind,
    /// Set for a key-based signature (empty when it holds no signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdicts: Option<Vec<VerdictRecord>>,
    /// Source, decoded data, keyless details or the decoding error, as reported.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// The evidence vocabulary of a key-based signature's verdict.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureVerdictWord {
    /// Made by a known key and covers every byte after the signature section.
    Valid,
    /// Made by a known key, covers only a prefix of the module.
    Partial,
    /// Made by (or claims) a known key, but does not hold over the current bytes.
    Invalid,
    /// Not made by any of the keys judged with.
    OtherKey,
    /// Algorithm, hash function or length this tool (and wsc) cannot check.
    Unsupported,
    /// No key given: only what the stored hashes say.
    Unverified,
}

impl SignatureVerdictWord {
    /// True when the verdict names the key that made the signature.
    pub fn names_a_key(self) -> bool {
        matches!(self, Self::Valid | Self::Partial | Self::Invalid)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Partial => "partial",
            Self::Invalid => "invalid",
            Self::OtherKey => "other-key",
            Self::Unsupported => "unsupported",
            Self::Unverified => "unverified",
        }
    }
}

/// One signature of a key-based module and its verdict.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct VerdictRecord {
    pub verdict: SignatureVerdictWord,
    /// wsc key id of the known key that made (or claims) the signature: set for `valid`,
    /// `partial` and `invalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Indexes, stored key id, covered ranges and the verdict's details, as reported.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl VerdictRecord {
    /// The key id stored in the signature (hex), when it has one: the wasm layer's `key_id`,
    /// kept among the reported fields.
    pub fn stored_key_id(&self) -> Option<&str> {
        self.rest
            .get("key_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

impl Analysis {
    /// The wsc key ids (lowercase hex) this analysis names: the ids stored in a key-based
    /// module's signatures, or a key file's own id. Nothing for other kinds.
    pub fn key_ids(&self) -> std::collections::BTreeSet<String> {
        let ids: Vec<&str> = match self {
            Analysis::Module(m) => m
                .module
                .signature
                .verdicts
                .iter()
                .flatten()
                .filter_map(VerdictRecord::stored_key_id)
                .collect(),
            Analysis::Key(k) => k
                .key
                .iter()
                .filter_map(|k| k.wsc_key_id.as_deref())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => Vec::new(),
        };
        ids.into_iter().map(str::to_ascii_lowercase).collect()
    }
}

/// A key file: its parsed description, or why it could not be parsed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KeyAnalysis {
    /// Bytes of the file.
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a key file holds (never a secret byte).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct KeyRecord {
    pub is_secret: bool,
    /// SHA-256 of the raw public key: names a secret key file's item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wsc_key_id: Option<String>,
    /// Format, algorithm, public key, other ids and the parser's findings, as reported.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A detached signature file: decoded, or why it is not wsc signature data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DetachedSignatureAnalysis {
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_wsc_signature_data: Option<String>,
}

/// The overall result of a transparency file's checks.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ChecksVerdict {
    /// Every required check passed and none failed.
    AllRequiredPassed,
    /// Recorded by versions before the fail-closed policy: every check that could run passed
    /// (a required check may not have been possible). Read from older bundles, never written.
    AllPossiblePassed,
    /// A check failed, or a required check could not be made.
    Failed,
}

/// The checks of a Rekor entry, Sigstore bundle or trust root.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TransparencyAnalysis {
    pub verdict: ChecksVerdict,
    /// File, kind, trust root, summary, checks, findings and times, as reported.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// An analyser that could not read its input.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FailedAnalysis {
    pub size: u64,
    pub error: String,
}

/// An audit log: event counts, the events kept, and the malformed lines.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AuditLogAnalysis {
    pub size: u64,
    pub event_count: u64,
    pub events_not_kept: u64,
    pub event_types: BTreeMap<String, u64>,
    pub malformed_count: u64,
    pub malformed: Value,
    pub events: Value,
}

/// A case file: its case id and the number of dated facts it declares, or why it is unusable.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CaseFileAnalysis {
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_times: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A kind this build does not analyse: only its size.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BasicAnalysis {
    pub kind: ItemKind,
    pub size: u64,
}

/// The written form of the tagged variants.
#[derive(Serialize)]
#[serde(tag = "analyser", rename_all = "kebab-case")]
enum TaggedRef<'a> {
    Module(&'a ModuleAnalysis),
    Key(&'a KeyAnalysis),
    DetachedSignature(&'a DetachedSignatureAnalysis),
    Transparency(&'a FailedAnalysis),
    AuditLog(&'a AuditLogAnalysis),
    CaseFile(&'a CaseFileAnalysis),
    Basic(&'a BasicAnalysis),
}

#[derive(Deserialize)]
#[serde(tag = "analyser", rename_all = "kebab-case")]
enum Tagged {
    Module(ModuleAnalysis),
    Key(KeyAnalysis),
    DetachedSignature(DetachedSignatureAnalysis),
    Transparency(FailedAnalysis),
    AuditLog(AuditLogAnalysis),
    CaseFile(CaseFileAnalysis),
    Basic(BasicAnalysis),
}

impl Analysis {
    /// The analysis as a JSON value, keys sorted: its evidence.json form.
    pub fn to_json(&self) -> Value {
        let tagged = match self {
            Analysis::Unrecognised(v) => return v.clone(),
            Analysis::Transparency(t) => return to_value(t),
            Analysis::Module(a) => TaggedRef::Module(a),
            Analysis::Key(a) => TaggedRef::Key(a),
            Analysis::DetachedSignature(a) => TaggedRef::DetachedSignature(a),
            Analysis::TransparencyError(a) => TaggedRef::Transparency(a),
            Analysis::AuditLog(a) => TaggedRef::AuditLog(a),
            Analysis::CaseFile(a) => TaggedRef::CaseFile(a),
            Analysis::Basic(a) => TaggedRef::Basic(a),
        };
        to_value(&tagged)
    }

    /// Reads an evidence.json analysis; a shape this build does not model is kept as found.
    pub fn from_json(v: Value) -> Self {
        if v.get("analyser").is_some_and(Value::is_string) {
            return match Tagged::deserialize(&v) {
                Ok(t) => match t {
                    Tagged::Module(a) => Analysis::Module(a),
                    Tagged::Key(a) => Analysis::Key(a),
                    Tagged::DetachedSignature(a) => Analysis::DetachedSignature(a),
                    Tagged::Transparency(a) => Analysis::TransparencyError(a),
                    Tagged::AuditLog(a) => Analysis::AuditLog(a),
                    Tagged::CaseFile(a) => Analysis::CaseFile(a),
                    Tagged::Basic(a) => Analysis::Basic(a),
                },
                Err(_) => Analysis::Unrecognised(v),
            };
        }
        if v.get("verdict").is_some() && v.get("checks").is_some() {
            if let Ok(t) = TransparencyAnalysis::deserialize(&v) {
                return Analysis::Transparency(t);
            }
        }
        Analysis::Unrecognised(v)
    }

    /// A module's per-signature verdicts (empty for any other analysis).
    pub fn signature_verdicts(&self) -> &[VerdictRecord] {
        match self {
            Analysis::Module(m) => m.module.signature.verdicts.as_deref().unwrap_or(&[]),
            _ => &[],
        }
    }

    /// A key file's description, when it was parsed.
    pub fn key(&self) -> Option<&KeyRecord> {
        match self {
            Analysis::Key(k) => k.key.as_ref(),
            _ => None,
        }
    }
}

/// Serialises a record to a JSON value. serde_json's map is sorted, so the value's keys are in
/// the order evidence.json has always written them.
fn to_value<T: Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

impl Serialize for Analysis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Analysis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Analysis::from_json(Value::deserialize(d)?))
    }
}

impl From<Value> for Analysis {
    fn from(v: Value) -> Self {
        Analysis::from_json(v)
    }
}

/// The remaining fields of a reported value once the typed ones are taken out.
pub fn rest_of<T: Serialize>(t: &T, typed: &[&str]) -> Map<String, Value> {
    match to_value(t) {
        Value::Object(mut m) => {
            for k in typed {
                m.remove(*k);
            }
            m
        }
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_ids_are_the_stored_ids_of_a_module_and_the_id_of_a_key_file() {
        let module = Analysis::from_json(json!({"analyser": "module", "judged_with_key_ids": [],
            "keyless_checks": null, "trust_root": null,
            "module": {"findings": [], "signature": {"kind": "key-based", "verdicts": [
                {"set_index": 0, "key_id": "C858D5EC82D976C190CB33D0", "verdict": "valid",
                 "key": "c858d5ec82d976c190cb33d0"},
                {"set_index": 0, "key_id": null, "verdict": "other-key"},
                {"set_index": 1, "key_id": "465c5341001f3e570f784f71", "verdict": "unverified"}]}}}));
        assert!(matches!(module, Analysis::Module(_)), "{module:?}");
        assert_eq!(
            module.key_ids().into_iter().collect::<Vec<_>>(),
            ["465c5341001f3e570f784f71", "c858d5ec82d976c190cb33d0"]
        );
        let key = Analysis::from_json(json!({"analyser": "key", "size": 2, "key": {
            "is_secret": false, "format": "wsc-raw", "wsc_key_id": "ABCDEF"}}));
        assert_eq!(key.key_ids().into_iter().collect::<Vec<_>>(), ["abcdef"]);
        let basic =
            Analysis::from_json(json!({"analyser": "basic", "kind": "attachment", "size": 3}));
        assert!(basic.key_ids().is_empty());
    }

    #[test]
    fn every_shape_reads_back_typed_and_writes_the_same_bytes() {
        let shapes = [
            json!({"analyser": "basic", "kind": "attachment", "size": 3}),
            json!({"analyser": "key", "size": 2, "error": "bad"}),
            json!({"analyser": "key", "size": 2, "key": {"is_secret": true, "format": "wsc-raw",
                "fingerprint_sha256": "00".repeat(32), "findings": []}}),
            json!({"analyser": "detached-signature", "size": 2, "not_wsc_signature_data": "x"}),
            json!({"analyser": "transparency", "size": 2, "error": "x"}),
            json!({"analyser": "case-file", "size": 2, "case_id": "C", "declared_times": 1}),
            json!({"analyser": "audit-log", "size": 1, "event_count": 0, "events_not_kept": 0,
                "event_types": {}, "malformed_count": 0, "malformed": [], "events": []}),
            json!({"analyser": "module", "judged_with_key_ids": [], "keyless_checks": null,
                "trust_root": null, "module": {"findings": [], "scan": {"z": 1, "a": 2},
                "signature": {"kind": "key-based", "source": {"type": "embedded"},
                "verdicts": [{"verdict": "valid", "key": "ab", "covered": [], "set_index": 0}]}}}),
            json!({"verdict": "failed", "checks": [], "file": "f"}),
            json!({"signatures": [{"key_id": "x"}]}),
            json!({"analyser": "module", "unexpected": true}),
        ];
        for v in shapes {
            let a = Analysis::from_json(v.clone());
            let unrecognised = matches!(a, Analysis::Unrecognised(_));
            assert_eq!(
                unrecognised,
                v.get("signatures").is_some() || v.get("unexpected").is_some(),
                "{v}"
            );
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }

    #[test]
    fn module_verdicts_and_key_fingerprints_are_fields() {
        let m = Analysis::from_json(json!({"analyser": "module", "judged_with_key_ids": ["ab"],
            "keyless_checks": null, "trust_root": null, "module": {"findings": [], "scan": {},
            "signature": {"kind": "key-based", "verdicts": [{"verdict": "partial", "key": "ab"},
            {"verdict": "other-key"}]}}}));
        let v = m.signature_verdicts();
        assert_eq!(v[0].verdict, SignatureVerdictWord::Partial);
        assert_eq!(v[0].key.as_deref(), Some("ab"));
        assert!(!v[1].verdict.names_a_key());
        let fp = "11".repeat(32);
        let k = Analysis::from_json(json!({"analyser": "key", "size": 1,
            "key": {"is_secret": true, "fingerprint_sha256": fp}}));
        assert_eq!(
            k.key()
                .and_then(|k| k.fingerprint_sha256)
                .map(|d| d.to_hex()),
            Some(fp)
        );
    }
}
