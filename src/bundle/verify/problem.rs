//! Every way a bundle can fail verification, as one typed [`Problem`] naming the file (and
//! the offset, for the zip structure), with its one-line human form.

use crate::bundle::signature::{SignatureProblem, SIGNATURE_NAME};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::model::digest::Sha256Digest;
use serde::Serialize;

/// One thing wrong with a bundle. `entry` fields are zip entry names; `path` fields are bag
/// paths (relative to the bag folder).
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum Problem {
    NotReadable {
        message: String,
    },
    TooManyEntries {
        count: usize,
        max: usize,
    },
    NoBagFolder {
        roots: Vec<String>,
    },
    DuplicateEntry {
        entry: String,
    },
    UnsafeEntryName {
        entry: String,
        reason: String,
    },
    SymlinkEntry {
        entry: String,
    },
    EncryptedEntry {
        entry: String,
    },
    DirectoryEntry {
        entry: String,
    },
    EntryOutsideBag {
        entry: String,
    },
    /// The entry's local header says something else than its central-directory record (name,
    /// method, flags, time, CRC or sizes): tools that read local headers (streaming unzip) would
    /// see another file than the ones that read the central directory.
    LocalHeaderMismatch {
        entry: String,
        field: String,
    },
    /// The zip's layout is not one every reader agrees on (or, for our bundles, not exactly
    /// the layout our writer produces): bytes no record accounts for, counts or copies of a
    /// field that disagree, extra fields that rename entries. `offset` is where it was found.
    ZipStructure {
        offset: u64,
        detail: String,
    },
    /// Declared uncompressed size differs from the bytes the entry really holds.
    SizeMismatch {
        entry: String,
        declared: u64,
        actual: u64,
    },
    /// Reading the entry failed (bad CRC, corrupt deflate data, size over the declared size…).
    EntryUnreadable {
        entry: String,
        message: String,
    },
    MissingTagFile {
        path: String,
    },
    BadBagitTxt {
        detail: String,
    },
    BadBagInfo {
        detail: String,
    },
    ManifestSyntax {
        manifest: String,
        line: usize,
        detail: String,
    },
    ManifestPathOutsidePayload {
        manifest: String,
        path: String,
    },
    DuplicateManifestLine {
        manifest: String,
        path: String,
    },
    HashMismatch {
        manifest: String,
        path: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    MissingFile {
        manifest: String,
        path: String,
    },
    UnlistedPayload {
        path: String,
    },
    UnlistedTagFile {
        path: String,
    },
    TagFileNotCovered {
        path: String,
    },
    OxumMismatch {
        declared: String,
        actual: String,
    },
    EvidenceInvalid {
        detail: String,
    },
    EvidenceDisagrees {
        source: String,
        detail: String,
    },
    CustodyInvalid {
        line: usize,
        detail: String,
    },
    SignatureUnreadable {
        detail: String,
    },
    SignatureMissing,
    SignatureInvalid {
        detail: SignatureProblem,
    },
    DigestMismatch {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Problem::*;
        match self {
            NotReadable { message } => write!(f, "not a readable bundle: {message}"),
            TooManyEntries { count, max } => {
                write!(f, "{count} zip entries, over the limit of {max}")
            }
            NoBagFolder { roots } if roots.is_empty() => {
                write!(f, "no `<case-id>/bagit.txt` in the zip")
            }
            NoBagFolder { roots } => write!(f, "several bag folders: {}", roots.join(", ")),
            DuplicateEntry { entry } => write!(f, "{entry}: duplicate zip entry name"),
            UnsafeEntryName { entry, reason } => {
                write!(f, "{entry:?}: unsafe entry name ({reason})")
            }
            SymlinkEntry { entry } => write!(f, "{entry}: symbolic-link entry"),
            EncryptedEntry { entry } => write!(f, "{entry}: encrypted entry"),
            DirectoryEntry { entry } => write!(f, "{entry}: unexpected directory entry"),
            EntryOutsideBag { entry } => write!(f, "{entry}: entry outside the bag folder"),
            LocalHeaderMismatch { entry, field } => write!(
                f,
                "{entry}: local header {field} differs from the central directory"
            ),
            ZipStructure { offset, detail } => {
                write!(f, "zip structure at offset {offset}: {detail}")
            }
            SizeMismatch {
                entry,
                declared,
                actual,
            } => write!(f, "{entry}: declares {declared} bytes, holds {actual}"),
            EntryUnreadable { entry, message } => write!(f, "{entry}: unreadable ({message})"),
            MissingTagFile { path } => write!(f, "{path}: missing"),
            BadBagitTxt { detail } => write!(f, "bagit.txt: {detail}"),
            BadBagInfo { detail } => write!(f, "bag-info.txt: {detail}"),
            ManifestSyntax {
                manifest,
                line,
                detail,
            } => write!(f, "{manifest} line {line}: {detail}"),
            ManifestPathOutsidePayload { manifest, path } => {
                write!(f, "{manifest}: {path} is not under data/")
            }
            DuplicateManifestLine { manifest, path } => {
                write!(f, "{manifest}: {path} listed twice")
            }
            HashMismatch {
                manifest,
                path,
                expected,
                actual,
            } => write!(f, "{path}: SHA-256 {actual}, {manifest} says {expected}"),
            MissingFile { manifest, path } => write!(f, "{path}: listed in {manifest} but missing"),
            UnlistedPayload { path } => {
                write!(f, "{path}: payload file not in manifest-sha256.txt")
            }
            UnlistedTagFile { path } => write!(f, "{path}: tag file not in tagmanifest-sha256.txt"),
            TagFileNotCovered { path } => write!(f, "tagmanifest-sha256.txt does not cover {path}"),
            OxumMismatch { declared, actual } => {
                write!(f, "Payload-Oxum {declared}, payload is {actual}")
            }
            EvidenceInvalid { detail } => write!(f, "{EVIDENCE_PATH}: {detail}"),
            EvidenceDisagrees { source, detail } => {
                write!(f, "{EVIDENCE_PATH}: item {source}: {detail}")
            }
            CustodyInvalid { line, detail } => write!(f, "{CUSTODY_PATH} line {line}: {detail}"),
            SignatureUnreadable { detail } => write!(f, "{SIGNATURE_NAME}: {detail}"),
            SignatureMissing => write!(
                f,
                "{SIGNATURE_NAME}: missing, but an examiner key was given"
            ),
            SignatureInvalid { detail } => write!(f, "{SIGNATURE_NAME}: {detail}"),
            DigestMismatch { expected, actual } => {
                write!(f, "bundle digest {actual}, expected {expected}")
            }
        }
    }
}
