//! Reading a bundle without unpacking it: locate the bag folder, stream any entry by its bag
//! path, and load the evidence model and custody record ([`open_bundle`]). Reading is not
//! verifying: call [`crate::bundle::verify_bundle`] to know the bundle is intact.

use crate::bundle::bagit::TAG_MANIFEST_NAME;
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::custody::CustodyEvent;
use crate::digest::{sha256_stream, Sha256Digest};
use crate::evidence::{Evidence, SCHEMA_VERSION};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use zip::ZipArchive;

/// Most entries a bundle may have before it is refused as not ours.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Largest metadata entry (evidence.json, custody.jsonl, tag files) loaded into memory.
pub const MAX_METADATA_BYTES: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable zip archive: {message}")]
    NotZip { path: PathBuf, message: String },
    #[error("{path}: {count} entries, over the limit of {max}")]
    TooManyEntries {
        path: PathBuf,
        count: usize,
        max: usize,
    },
    #[error("{path}: no bag folder (`<case-id>/bagit.txt`) in the zip")]
    NoBag { path: PathBuf },
    #[error("{path}: more than one bag folder ({roots:?})")]
    SeveralBags { path: PathBuf, roots: Vec<String> },
    #[error("{path}: entry {entry} is missing")]
    MissingEntry { path: PathBuf, entry: String },
    #[error("{path}: entry {entry}: {message}")]
    Entry {
        path: PathBuf,
        entry: String,
        message: String,
    },
    #[error("{path}: entry {entry} is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        path: PathBuf,
        entry: String,
        size: u64,
        max: u64,
    },
    #[error("{path}: {EVIDENCE_PATH}: {message}")]
    Evidence { path: PathBuf, message: String },
    #[error("{path}: {CUSTODY_PATH} line {line}: {message}")]
    Custody {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

/// The bag folder of a zip: the single `X` with an entry `X/bagit.txt`.
pub(crate) fn find_root<'a>(names: impl Iterator<Item = &'a [u8]>) -> Result<String, Vec<String>> {
    let mut roots: Vec<String> = names
        .filter_map(|n| {
            let s = std::str::from_utf8(n).ok()?;
            let (root, rest) = s.split_once('/')?;
            (rest == "bagit.txt" && !root.is_empty()).then(|| root.to_owned())
        })
        .collect();
    roots.sort();
    roots.dedup();
    if roots.len() == 1 {
        Ok(roots.pop().expect("one"))
    } else {
        Err(roots)
    }
}

/// An open bundle zip with its bag folder located.
pub struct BundleReader {
    archive: ZipArchive<File>,
    path: PathBuf,
    root: String,
}

impl BundleReader {
    pub fn open(path: &Path) -> Result<Self, BundleError> {
        let file = File::open(path).map_err(|e| BundleError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let archive = ZipArchive::new(file).map_err(|e| BundleError::NotZip {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if archive.len() > MAX_ENTRIES {
            return Err(BundleError::TooManyEntries {
                path: path.to_owned(),
                count: archive.len(),
                max: MAX_ENTRIES,
            });
        }
        let root = find_root(archive.file_names_raw()).map_err(|roots| {
            if roots.is_empty() {
                BundleError::NoBag {
                    path: path.to_owned(),
                }
            } else {
                BundleError::SeveralBags {
                    path: path.to_owned(),
                    roots,
                }
            }
        })?;
        Ok(BundleReader {
            archive,
            path: path.to_owned(),
            root,
        })
    }

    /// The bag folder name (the case id the bundle was written for).
    pub fn root(&self) -> &str {
        &self.root
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bag paths (relative to the bag folder) of every file entry, in zip order.
    pub fn bag_paths(&self) -> Vec<String> {
        let prefix = format!("{}/", self.root);
        self.archive
            .file_names_raw()
            .filter_map(|n| std::str::from_utf8(n).ok())
            .filter_map(|n| n.strip_prefix(&prefix))
            .filter(|n| !n.is_empty() && !n.ends_with('/'))
            .map(str::to_owned)
            .collect()
    }

    /// Streams the entry at `bag_path` (e.g. `data/modules/<sha256>.wasm`). The zip crate stops
    /// at the declared size and checks the CRC at the end.
    pub fn entry_reader(&mut self, bag_path: &str) -> Result<impl Read + '_, BundleError> {
        let name = format!("{}/{}", self.root, bag_path);
        let path = self.path.clone();
        match self.archive.by_name(&name) {
            Ok(f) => Ok(f),
            Err(zip::result::ZipError::FileNotFound) => Err(BundleError::MissingEntry {
                path,
                entry: bag_path.to_owned(),
            }),
            Err(e) => Err(BundleError::Entry {
                path,
                entry: bag_path.to_owned(),
                message: e.to_string(),
            }),
        }
    }

    /// Reads a whole entry of at most `max` bytes.
    pub fn read_entry(&mut self, bag_path: &str, max: u64) -> Result<Vec<u8>, BundleError> {
        let path = self.path.clone();
        let mut r = self.entry_reader(bag_path)?;
        let mut out = Vec::new();
        r.by_ref()
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| BundleError::Entry {
                path: path.clone(),
                entry: bag_path.to_owned(),
                message: e.to_string(),
            })?;
        if out.len() as u64 > max {
            return Err(BundleError::TooLarge {
                path,
                entry: bag_path.to_owned(),
                size: out.len() as u64,
                max,
            });
        }
        Ok(out)
    }

    /// The bundle digest: SHA-256 of `tagmanifest-sha256.txt` as stored.
    pub fn digest(&mut self) -> Result<Sha256Digest, BundleError> {
        let path = self.path.clone();
        let r = self.entry_reader(TAG_MANIFEST_NAME)?;
        sha256_stream(r)
            .map(|(d, _)| d)
            .map_err(|e| BundleError::Entry {
                path,
                entry: TAG_MANIFEST_NAME.to_owned(),
                message: e.to_string(),
            })
    }
}

/// What downstream commands (timeline, report, scope) read from a bundle.
#[derive(Debug, Clone)]
pub struct BundleContents {
    pub digest: Sha256Digest,
    pub evidence: Evidence,
    pub custody: Vec<CustodyEvent>,
    pub case_id: String,
}

/// Parses evidence.json, refusing a schema version this build does not know.
pub fn parse_evidence(bytes: &[u8]) -> Result<Evidence, String> {
    check_schema_version(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Reads only `schema_version`, skipping everything else without building it.
fn check_schema_version(bytes: &[u8]) -> Result<(), String> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: Option<u64>,
    }
    let v: Version = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match v.schema_version {
        Some(n) if n == SCHEMA_VERSION as u64 => Ok(()),
        Some(n) => Err(format!(
            "schema_version {n} is not one this build reads ({SCHEMA_VERSION})"
        )),
        None => Err("schema_version missing".to_owned()),
    }
}

/// What `verify` needs of evidence.json: the case id and, per item, where it is in the bag and
/// its digest. Analyses are skipped while parsing, so a bundle of 100,000 items verifies in
/// little memory.
#[derive(serde::Deserialize, Debug)]
pub struct EvidenceIndex {
    pub case: CaseIdOnly,
    pub items: Vec<ItemIndex>,
}

#[derive(serde::Deserialize, Debug)]
pub struct CaseIdOnly {
    #[serde(default)]
    pub case_id: String,
}

#[derive(serde::Deserialize, Debug)]
pub struct ItemIndex {
    pub source: crate::evidence::RecordedPath,
    pub sha256: Sha256Digest,
    #[serde(default)]
    pub bag_path: Option<String>,
}

/// Parses the [`EvidenceIndex`] of evidence.json (after checking its schema version).
pub fn parse_evidence_index(bytes: &[u8]) -> Result<EvidenceIndex, String> {
    check_schema_version(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Parses custody.jsonl; errors carry the 1-based line number.
pub fn parse_custody(bytes: &[u8]) -> Result<Vec<CustodyEvent>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push(serde_json::from_slice(line).map_err(|e| (i + 1, e.to_string()))?);
    }
    Ok(out)
}

/// Opens a bundle and loads its digest, evidence and custody record (without verifying).
pub fn open_bundle(path: &Path) -> Result<BundleContents, BundleError> {
    let mut r = BundleReader::open(path)?;
    let digest = r.digest()?;
    let evidence =
        parse_evidence(&r.read_entry(EVIDENCE_PATH, MAX_METADATA_BYTES)?).map_err(|message| {
            BundleError::Evidence {
                path: path.to_owned(),
                message,
            }
        })?;
    let custody = parse_custody(&r.read_entry(CUSTODY_PATH, MAX_METADATA_BYTES)?).map_err(
        |(line, message)| BundleError::Custody {
            path: path.to_owned(),
            line,
            message,
        },
    )?;
    Ok(BundleContents {
        digest,
        case_id: evidence.case.case_id.clone(),
        evidence,
        custody,
    })
}

#[cfg(test)]
mod index_tests {
    use super::*;

    #[test]
    fn the_evidence_index_skips_analyses_and_keeps_what_verify_checks() {
        let d = Sha256Digest::of(b"x").to_hex();
        let json = format!(
            r#"{{"schema_version":{SCHEMA_VERSION},"case":{{"case_id":"IR-1","examiner":"E"}},"items":[
              {{"source":{{"text":"/a.wasm"}},"kind":"module","sha256":"{d}","bag_path":"data/modules/{d}.wasm",
                "analysis":{{"module":{{"deep":[[[[1,2,{{"x":"y"}}]]]]}}}},"findings":[],"times":[]}},
              {{"source":{{"text":"/k.sec"}},"kind":"secret-key","sha256":"{d}","analysis":null}}]}}"#
        );
        let idx = parse_evidence_index(json.as_bytes()).unwrap();
        assert_eq!(idx.case.case_id, "IR-1");
        assert_eq!(idx.items.len(), 2);
        assert_eq!(
            idx.items[0].bag_path.as_deref(),
            Some(&*format!("data/modules/{d}.wasm"))
        );
        assert_eq!(idx.items[1].bag_path, None);
        let other = json.replace(
            &format!("\"schema_version\":{SCHEMA_VERSION}"),
            "\"schema_version\":99",
        );
        assert!(parse_evidence_index(other.as_bytes())
            .unwrap_err()
            .contains("99"));
    }
}
