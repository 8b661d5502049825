//! The Evidence model: the single serialisable record (`data/evidence.json`, schema-versioned)
//! that verification, the timeline and every report read. Nothing downstream of it touches the
//! original sources, so a report made from a bundle in five years is the same report.

pub use crate::model::analysis::Analysis;
pub use crate::model::finding::{Finding, IncidentType, Severity};
pub use crate::model::item_kind::ItemKind;

use crate::model::case::CaseInfo;
use crate::model::digest::Sha256Digest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// Version of the evidence.json schema. Bump it on any change that an older reader would misread.
pub const SCHEMA_VERSION: u32 = 1;

/// A path recorded losslessly: `text` is the display form; `raw_hex` holds the exact bytes when
/// the name is not valid UTF-8 (Unix file names are bytes).
#[derive(
    schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub struct RecordedPath {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_hex: Option<String>,
}

impl RecordedPath {
    pub fn from_path(p: &Path) -> Self {
        match p.to_str() {
            Some(s) => RecordedPath {
                text: s.to_owned(),
                raw_hex: None,
            },
            None => {
                use std::os::unix::ffi::OsStrExt;
                RecordedPath {
                    text: p.to_string_lossy().into_owned(),
                    raw_hex: Some(hex::encode(p.as_os_str().as_bytes())),
                }
            }
        }
    }
}

impl RecordedPath {
    /// The path's exact bytes: `raw_hex` decoded when recorded (and valid hex), else the text.
    pub fn into_bytes(self) -> Vec<u8> {
        self.raw_hex
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .unwrap_or_else(|| self.text.into_bytes())
    }
}

impl fmt::Display for RecordedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `stat` metadata of a source file, as read before or after acquisition.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    /// Permission bits and file type, as `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Owner name, when the host could resolve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub dev: u64,
    pub inode: u64,
    pub nlink: u64,
    pub mtime: DateTime<Utc>,
    pub ctime: DateTime<Utc>,
    pub atime: DateTime<Utc>,
}

impl FileStat {
    /// Reads `lstat`-style metadata (symlinks are not followed).
    pub fn of_metadata(md: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileStat {
            size: md.size(),
            mode: md.mode(),
            uid: md.uid(),
            gid: md.gid(),
            owner: None,
            dev: md.dev(),
            inode: md.ino(),
            nlink: md.nlink(),
            mtime: unix_time(md.mtime(), md.mtime_nsec()),
            ctime: unix_time(md.ctime(), md.ctime_nsec()),
            atime: unix_time(md.atime(), md.atime_nsec()),
        }
    }

    /// Permission bits only (`0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// Converts Unix seconds + nanoseconds to UTC, clamping values chrono cannot represent.
pub fn unix_time(secs: i64, nsecs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, nsecs.clamp(0, 999_999_999) as u32).unwrap_or_default()
}

/// A dated fact about an item (stat times, certificate validity, Rekor integration, audit
/// events, …): what the timeline is built from.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ItemTime {
    pub at: DateTime<Utc>,
    /// Stable machine name of the event (`file.mtime`, `rekor.integrated`, `cert.not_before`, …).
    pub event_type: String,
    /// Timesketch `timestamp_desc`: what this time means ("Rekor integrated time").
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Tool name and version, as recorded in evidence and custody.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn this() -> Self {
        ToolInfo {
            name: crate::TOOL_NAME.to_owned(),
            version: crate::TOOL_VERSION.to_owned(),
        }
    }
}

/// A source that was seen but not collected, and why (symlink, FIFO, unreadable, too large, …).
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NotCollected {
    pub path: RecordedPath,
    pub reason: String,
    /// The apparent size in bytes, when the size is why it was not collected (over the size
    /// cap, or sparse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Bytes the filesystem allocated for a sparse file (the rest of `size` is holes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated_size: Option<u64>,
}

impl NotCollected {
    /// A path not collected for `reason` (no sizes recorded).
    pub fn new(path: RecordedPath, reason: String) -> Self {
        NotCollected {
            path,
            reason,
            size: None,
            allocated_size: None,
        }
    }
}

/// The whole evidence record of one collection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Evidence {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub case: CaseInfo,
    pub collected_at: DateTime<Utc>,
    /// Every collected item, sorted by bag path then source path.
    pub items: Vec<EvidenceItem>,
    #[serde(default)]
    pub not_collected: Vec<NotCollected>,
    /// Findings about the case as a whole (cross-item), beyond each item's own.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// What an item's `sha256` is the digest of.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DigestOf {
    /// The file's bytes (every item but secret keys).
    #[default]
    File,
    /// A secret key: the raw 32-byte public key (its fingerprint). A hash of the secret file
    /// would let anyone confirm a guess of the secret, so none is ever recorded.
    PublicKey,
    /// A secret key whose public key could not be derived: the source path's bytes.
    SourcePath,
}

impl DigestOf {
    fn is_file(&self) -> bool {
        *self == DigestOf::File
    }
}

/// One collected source file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EvidenceItem {
    pub source: RecordedPath,
    pub kind: ItemKind,
    /// Names the item everywhere (manifest, findings, reports); see `digest_of`.
    pub sha256: Sha256Digest,
    #[serde(default, skip_serializing_if = "DigestOf::is_file")]
    pub digest_of: DigestOf,
    pub size: u64,
    /// Path inside the bag (`data/modules/<sha256>.wasm`); `None` for secret keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bag_path: Option<String>,
    pub stat_before: FileStat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_after: Option<FileStat>,
    /// Why the source looked different after it was read (size, mtime, ctime, inode); empty when
    /// it did not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_during_acquisition: Vec<String>,
    /// What the analyser for this kind made of the bytes.
    pub analysis: Analysis,
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub times: Vec<ItemTime>,
}

impl Evidence {
    /// Every finding, the case's and each item's, with the item it belongs to (if any).
    pub fn all_findings(&self) -> impl Iterator<Item = (Option<&EvidenceItem>, &Finding)> {
        self.findings.iter().map(|f| (None, f)).chain(
            self.items
                .iter()
                .flat_map(|i| i.findings.iter().map(move |f| (Some(i), f))),
        )
    }

    /// Highest severity among all findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.all_findings().map(|(_, f)| f.severity).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_like_the_runbook() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Medium);
        assert!(Severity::Medium > Severity::Low);
        assert_eq!(Severity::High.response_time(), "< 4 hours");
    }

    #[test]
    fn incident_types_serialise_as_runbook_codes() {
        assert_eq!(
            serde_json::to_string(&IncidentType::KeyCompromise).unwrap(),
            "\"INC-1\""
        );
        assert_eq!(
            "inc-3".parse::<IncidentType>().unwrap(),
            IncidentType::SigstoreCompromise
        );
        assert!("INC-9".parse::<IncidentType>().is_err());
    }

    #[test]
    fn non_utf8_paths_are_recorded_losslessly() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"mod\xffule.wasm"));
        let r = RecordedPath::from_path(p);
        assert_eq!(r.raw_hex.as_deref(), Some("6d6f64ff756c652e7761736d"));
        assert_eq!(RecordedPath::from_path(Path::new("a b.wasm")).raw_hex, None);
        assert_eq!(r.into_bytes(), b"mod\xffule.wasm");
        let plain = RecordedPath::from_path(Path::new("a b.wasm"));
        assert_eq!(plain.into_bytes(), b"a b.wasm");
    }
}
