//! Rekor log entries in every shape evidence arrives in, normalised to one [`LogEntry`]: the REST
//! API object keyed by UUID, wsc's flattened test-data file, `rekor-cli get --format json` output
//! (no verification block), the entry embedded in a wsc keyless signature (snake_case, proof as an
//! array of bytes) and a Sigstore bundle's `tlogEntries[]` item.

use super::entry_body::EntryBody;
use super::json_field::{parse_document, Node};
use super::merkle::{InclusionProof, MAX_PROOF_HASHES};
use super::{TransparencyError, MAX_BODY_BYTES};
use chrono::{DateTime, Utc};
use serde::Serialize;

const MAX_SET_BYTES: usize = 1024;
const MAX_EMBEDDED_PROOF: usize = 64 * 1024;

/// Which shape the entry was read from.
#[derive(schemars::JsonSchema, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryShape {
    /// `{"<uuid>": {body, integratedTime, logID, logIndex, verification}}`.
    RestApi,
    /// wsc's `recent_entry_*.json`: flat, `integratedTime` an RFC 3339 string.
    WscFlattened,
    /// `rekor-cli get --format json`: decoded body, no SET, no proof.
    RekorCli,
    /// The entry inside a wsc keyless signature section.
    WscEmbedded,
    /// `verificationMaterial.tlogEntries[]` of a Sigstore bundle.
    BundleTlogEntry,
}

/// One log entry, whatever shape it came in.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    pub shape: EntryShape,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The global log index (what the SET covers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "super::serialize_opt_hex"
    )]
    pub log_id: Option<Vec<u8>>,
    /// Seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<i64>,
    /// The body exactly as the entry gives it in base64 (the SET covers this string).
    #[serde(skip)]
    pub body_b64: Option<String>,
    #[serde(skip)]
    pub body: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed_body: Option<EntryBody>,
    #[serde(skip)]
    pub set: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<InclusionProof>,
    /// `kindVersion` of a bundle entry, as stated (not covered by any signature).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind_version: Option<(String, String)>,
    /// wsc's placeholder written when the Rekor upload was skipped (`uuid` `skipped` or empty).
    pub skipped: bool,
}

impl LogEntry {
    /// The integrated time; Rekor v2 writes none (or 0), which is no time at all.
    pub fn integrated_at(&self) -> Option<DateTime<Utc>> {
        self.integrated_time
            .filter(|t| *t > 0)
            .and_then(|t| DateTime::from_timestamp(t, 0))
    }

    /// A Rekor v2 entry (body or kindVersion 0.0.2): no SET, no integrated time; its time comes
    /// from RFC 3161 timestamps.
    pub fn is_rekor_v2(&self) -> bool {
        let v2 = |kind: &str, version: &str| {
            version == "0.0.2" && (kind == "hashedrekord" || kind == "dsse")
        };
        self.kind_version.as_ref().is_some_and(|(k, v)| v2(k, v))
            || self.parsed_body.as_ref().is_some_and(|b| match b {
                EntryBody::HashedRekord { api_version, .. } => v2("hashedrekord", api_version),
                EntryBody::Dsse { api_version, .. } => v2("dsse", api_version),
                _ => false,
            })
    }

    fn empty(shape: EntryShape) -> LogEntry {
        LogEntry {
            shape,
            uuid: None,
            log_index: None,
            log_id: None,
            integrated_time: None,
            body_b64: None,
            body: None,
            parsed_body: None,
            set: None,
            proof: None,
            kind_version: None,
            skipped: false,
        }
    }

    /// Sets `body_b64`, `body` and `parsed_body` from a base64 body field.
    fn set_body(&mut self, node: &Node<'_>) -> Result<(), TransparencyError> {
        let b64 = node.str()?;
        let bytes = node.base64(MAX_BODY_BYTES)?;
        self.parsed_body = Some(EntryBody::parse(node.file, &node.path, &bytes)?);
        self.body_b64 = Some(b64.to_owned());
        self.body = Some(bytes);
        Ok(())
    }
}

/// Recognises a standalone Rekor entry document and its shape.
pub fn detect_shape(doc: &serde_json::Value) -> Option<EntryShape> {
    let obj = doc.as_object()?;
    if obj.contains_key("UUID") && obj.contains_key("Body") {
        return Some(EntryShape::RekorCli);
    }
    if obj.contains_key("uuid") && obj.contains_key("log_index") {
        return Some(EntryShape::WscEmbedded);
    }
    if obj.contains_key("uuid") && obj.contains_key("body") && obj.contains_key("logIndex") {
        return Some(EntryShape::WscFlattened);
    }
    if !obj.is_empty()
        && obj.values().all(|v| {
            v.get("body").is_some() && v.get("logIndex").is_some() && v.get("logID").is_some()
        })
    {
        return Some(EntryShape::RestApi);
    }
    None
}

/// Parses a standalone entry file (REST API, wsc flattened, rekor-cli or wsc embedded JSON).
/// A REST response may hold several entries; all are returned.
pub fn parse_entries(file: &str, bytes: &[u8]) -> Result<Vec<LogEntry>, TransparencyError> {
    entries_from_document(file, &parse_document(file, bytes)?)
}

/// Reads the entries of an already parsed document.
pub fn entries_from_document(
    file: &str,
    doc: &serde_json::Value,
) -> Result<Vec<LogEntry>, TransparencyError> {
    let root = Node::root(file, doc);
    match detect_shape(doc) {
        Some(EntryShape::RestApi) => {
            let members = root.members()?;
            if members.len() > 64 {
                return Err(root.error("more than 64 entries in one response"));
            }
            members
                .into_iter()
                .map(|(uuid, node)| parse_rest_entry(uuid, &node))
                .collect()
        }
        Some(EntryShape::WscFlattened) => Ok(vec![parse_wsc_flattened(&root)?]),
        Some(EntryShape::RekorCli) => Ok(vec![parse_rekor_cli(&root)?]),
        Some(EntryShape::WscEmbedded) => Ok(vec![parse_wsc_embedded_node(&root)?]),
        _ => Err(TransparencyError::UnknownFormat {
            file: file.to_owned(),
            what: "not a Rekor entry in any known shape (REST API, wsc, rekor-cli)".to_owned(),
        }),
    }
}

/// Parses the entry JSON embedded in a wsc keyless signature (§10.3 of wsc-formats).
pub fn parse_wsc_embedded(file: &str, bytes: &[u8]) -> Result<LogEntry, TransparencyError> {
    let doc = parse_document(file, bytes)?;
    parse_wsc_embedded_node(&Node::root(file, &doc))
}

fn parse_rest_entry(uuid: &str, e: &Node<'_>) -> Result<LogEntry, TransparencyError> {
    let mut entry = LogEntry::empty(EntryShape::RestApi);
    entry.uuid = Some(uuid.to_owned());
    entry.set_body(&e.req("body")?)?;
    entry.integrated_time = Some(e.req("integratedTime")?.int()?);
    entry.log_id = Some(e.req("logID")?.hex(64)?);
    entry.log_index = Some(e.req("logIndex")?.uint()?);
    if let Some(v) = e.opt("verification") {
        entry.set = v
            .opt("signedEntryTimestamp")
            .map(|n| n.base64(MAX_SET_BYTES))
            .transpose()?;
        entry.proof = v
            .opt("inclusionProof")
            .map(|p| parse_proof(&p, HashEncoding::Hex))
            .transpose()?;
    }
    Ok(entry)
}

fn parse_wsc_flattened(root: &Node<'_>) -> Result<LogEntry, TransparencyError> {
    let mut entry = LogEntry::empty(EntryShape::WscFlattened);
    entry.uuid = Some(root.req("uuid")?.str()?.to_owned());
    entry.set_body(&root.req("body")?)?;
    entry.log_id = Some(root.req("logID")?.hex(64)?);
    entry.log_index = Some(root.req("logIndex")?.uint()?);
    entry.integrated_time = Some(match root.opt("integratedTimeUnix") {
        Some(n) => {
            let unix = n.int()?;
            // The SET covers the number; the RFC 3339 copy must say the same, or a reader of
            // the file would see a time the log never signed.
            if let Some(t) = root.opt("integratedTime") {
                let copy = rfc3339_seconds(&t)?;
                if copy != unix {
                    return Err(t.error(format!(
                        "{} disagrees with integratedTimeUnix {unix} (the time the log signed)",
                        t.str()?
                    )));
                }
            }
            unix
        }
        None => rfc3339_seconds(&root.req("integratedTime")?)?,
    });
    entry.set = root
        .opt("signedEntryTimestamp")
        .map(|n| n.base64(MAX_SET_BYTES))
        .transpose()?;
    entry.proof = root
        .opt("inclusionProof")
        .map(|p| parse_proof(&p, HashEncoding::Hex))
        .transpose()?;
    Ok(entry)
}

fn parse_rekor_cli(root: &Node<'_>) -> Result<LogEntry, TransparencyError> {
    let mut entry = LogEntry::empty(EntryShape::RekorCli);
    entry.uuid = Some(root.req("UUID")?.str()?.to_owned());
    entry.log_index = root.opt("LogIndex").map(|n| n.uint()).transpose()?;
    entry.integrated_time = root.opt("IntegratedTime").map(|n| n.int()).transpose()?;
    entry.log_id = root.opt("LogID").map(|n| n.hex(64)).transpose()?;
    let body = root.req("Body")?;
    // rekor-cli prints the decoded body as `{"HashedRekordObj": <spec>}`, `{"DSSEObj": …}`, …
    if let Some(spec) = body.opt("HashedRekordObj") {
        entry.parsed_body = Some(EntryBody::from_spec(
            "hashedrekord",
            "0.0.1".to_owned(),
            &spec,
        )?);
    } else if let Some(spec) = body.opt("DSSEObj") {
        entry.parsed_body = Some(EntryBody::from_spec("dsse", "0.0.1".to_owned(), &spec)?);
    } else if let Some((name, _)) = body.members()?.into_iter().next() {
        entry.parsed_body = Some(EntryBody::Unsupported {
            body_kind: name.trim_end_matches("Obj").to_ascii_lowercase(),
            api_version: String::new(),
        });
    }
    Ok(entry)
}

fn parse_wsc_embedded_node(root: &Node<'_>) -> Result<LogEntry, TransparencyError> {
    let mut entry = LogEntry::empty(EntryShape::WscEmbedded);
    let uuid = root.req("uuid")?.str()?.to_owned();
    entry.skipped = uuid.is_empty() || uuid == "skipped";
    entry.uuid = Some(uuid);
    entry.log_index = Some(root.req("log_index")?.uint()?);
    entry.integrated_time = Some(rfc3339_seconds(&root.req("integrated_time")?)?);
    if entry.skipped {
        return Ok(entry);
    }
    entry.set_body(&root.req("body")?)?;
    entry.log_id = Some(root.req("log_id")?.hex(64)?);
    let set = root.req("signed_entry_timestamp")?;
    if !set.str()?.is_empty() {
        entry.set = Some(set.base64(MAX_SET_BYTES)?);
    }
    if let Some(p) = root.opt("inclusion_proof") {
        let items = p.array(MAX_EMBEDDED_PROOF)?;
        if !items.is_empty() {
            let mut bytes = Vec::with_capacity(items.len());
            for b in &items {
                let v = b.uint()?;
                bytes.push(u8::try_from(v).map_err(|_| b.error("not a byte value"))?);
            }
            let doc = serde_json::from_slice::<serde_json::Value>(&bytes)
                .map_err(|e| p.error(format!("bytes are not a JSON inclusion proof: {e}")))?;
            let path = format!("{}(decoded)", p.path);
            let node = Node {
                file: p.file,
                path,
                value: &doc,
            };
            entry.proof = Some(parse_proof(&node, HashEncoding::Hex)?);
        }
    }
    Ok(entry)
}

/// Parses a bundle's `tlogEntries[i]` (protobuf JSON: base64 hashes, int64 as strings).
pub fn parse_bundle_tlog_entry(e: &Node<'_>) -> Result<LogEntry, TransparencyError> {
    let mut entry = LogEntry::empty(EntryShape::BundleTlogEntry);
    entry.log_index = Some(e.req("logIndex")?.uint()?);
    entry.log_id = Some(e.req("logId")?.req("keyId")?.base64(64)?);
    if let Some(kv) = e.opt("kindVersion") {
        entry.kind_version = Some((
            kv.req("kind")?.str()?.to_owned(),
            kv.req("version")?.str()?.to_owned(),
        ));
    }
    entry.integrated_time = e.opt("integratedTime").map(|n| n.int()).transpose()?;
    if let Some(p) = e.opt("inclusionPromise") {
        entry.set = Some(p.req("signedEntryTimestamp")?.base64(MAX_SET_BYTES)?);
    }
    entry.proof = e
        .opt("inclusionProof")
        .map(|p| parse_proof(&p, HashEncoding::Base64))
        .transpose()?;
    entry.set_body(&e.req("canonicalizedBody")?)?;
    Ok(entry)
}

#[derive(Clone, Copy)]
enum HashEncoding {
    Hex,
    Base64,
}

fn parse_proof(p: &Node<'_>, enc: HashEncoding) -> Result<InclusionProof, TransparencyError> {
    let hash = |n: &Node<'_>| match enc {
        HashEncoding::Hex => n.hash_hex(),
        HashEncoding::Base64 => n.hash_base64(),
    };
    let mut hashes = Vec::new();
    if let Some(h) = p.opt("hashes") {
        for n in h.array(MAX_PROOF_HASHES)? {
            hashes.push(hash(&n)?);
        }
    }
    let checkpoint = match p.opt("checkpoint") {
        Some(c) if c.value.is_string() => Some(c.str()?.to_owned()),
        Some(c) => Some(c.req("envelope")?.str()?.to_owned()),
        None => None,
    };
    Ok(InclusionProof {
        log_index: p.req("logIndex")?.uint()?,
        tree_size: p.req("treeSize")?.uint()?,
        root_hash: hash(&p.req("rootHash")?)?,
        hashes,
        checkpoint,
    })
}

fn rfc3339_seconds(n: &Node<'_>) -> Result<i64, TransparencyError> {
    let s = n.str()?;
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp())
        .map_err(|e| n.error(format!("invalid RFC 3339 time {s:?}: {e}")))
}
