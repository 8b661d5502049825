//! Every way a bundle can fail verification, as one typed [`Problem`] naming the file (and
//! the offset, for the zip structure), with its one-line human form.

use crate::bundle::signature::{SignatureProblem, SIGNATURE_NAME};
use crate::bundle::timestamp::TIMESTAMP_NAME;
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
    /// `--tsa-cert` was given but the bundle holds no trusted timestamp.
    TimestampMissing,
    /// The stored RFC 3161 token fails a check; `detail` names the check.
    TimestampInvalid {
        detail: String,
    },
    DigestMismatch {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    /// A manifest line's checksum (any algorithm) is not the file's.
    ChecksumMismatch {
        manifest: String,
        path: String,
        algorithm: String,
        expected: String,
        actual: String,
    },
    /// A payload file that a payload manifest does not list.
    NotInManifest {
        manifest: String,
        path: String,
    },
    /// A path in a manifest or fetch.txt that could leave the bag, or is not where it must be.
    UnsafeManifestPath {
        manifest: String,
        path: String,
        reason: String,
    },
    /// fetch.txt is malformed, refused, or lists a file a payload manifest does not (line 0:
    /// the file as a whole).
    FetchInvalid {
        line: usize,
        detail: String,
    },
    /// A file fetch.txt lists is not in the bag yet: the bag is incomplete.
    NotFetched {
        path: String,
        url: String,
    },
    NoPayloadManifest,
    /// A manifest of an algorithm this verifier cannot compute: not checked, so not intact.
    UnknownAlgorithm {
        manifest: String,
        algorithm: String,
    },
    /// Something in a bag directory that is not a regular file (never followed or read).
    NotRegularFile {
        path: String,
        detail: String,
    },
    /// A tag file that cannot be decoded in the bag's declared encoding.
    TagFileUndecodable {
        path: String,
        detail: String,
    },
    /// The bag says it is a wsc-forensics bundle (bag-info.txt) but is not one as written.
    BundleClaim {
        detail: String,
    },
    /// A check asked for (`--examiner-key`, `--expect-digest`) that only a wsc-forensics
    /// bundle can pass: on another bag it cannot be made, which is a failure.
    BundleOnly {
        option: String,
    },
}

/// What a verdict rests on: the bytes disagree with the manifests (altered), the bag is not
/// valid BagIt (invalid), or files are still to be fetched (incomplete).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemClass {
    Altered,
    Invalid,
    Incomplete,
}

impl Problem {
    /// The class of this problem in a bag another tool made.
    pub fn class(&self) -> ProblemClass {
        use Problem::*;
        match self {
            HashMismatch { .. }
            | ChecksumMismatch { .. }
            | MissingFile { .. }
            | NotInManifest { .. }
            | UnlistedPayload { .. }
            | OxumMismatch { .. }
            | SizeMismatch { .. }
            | EntryUnreadable { .. } => ProblemClass::Altered,
            NotFetched { .. } => ProblemClass::Incomplete,
            _ => ProblemClass::Invalid,
        }
    }
}

/// Something a valid bag does that the Library of Congress conformance suite calls a warning:
/// reported (text and JSON), not a failure.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "warning", rename_all = "kebab-case")]
pub enum Warning {
    /// `<checksum> *<path>`: md5sum's binary-mode marker, read past.
    BinaryMarker {
        manifest: String,
        line: usize,
        path: String,
    },
    /// `./<path>`: read as the path without it.
    DotSlash {
        manifest: String,
        line: usize,
        path: String,
    },
    /// The path names a file only after Unicode normalisation (NFC).
    NormalizedMatch { manifest: String, path: String },
    /// The path names a file only when case is ignored (a bag made on a case-insensitive file
    /// system); the one file that matches is checked.
    CaseMatch { manifest: String, path: String },
    /// The same path twice with the same checksum, which BagIt before 1.0 did not forbid.
    DuplicateSameChecksum {
        manifest: String,
        path: String,
        version: String,
    },
    /// Files whose names differ only in case: they collide on case-insensitive file systems.
    CaseCollision { paths: Vec<String> },
    /// Files whose names differ only in Unicode normalisation.
    NormalizationCollision { paths: Vec<String> },
    /// A file an operating system leaves behind (.DS_Store, Thumbs.db…) in the payload.
    SystemFile { path: String },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Warning::*;
        match self {
            BinaryMarker { manifest, line, path } => write!(
                f,
                "{manifest} line {line}: `*{path}` carries md5sum's binary-mode marker; read as {path}"
            ),
            DotSlash { manifest, line, path } => {
                write!(f, "{manifest} line {line}: `./{path}` read as {path}")
            }
            NormalizedMatch { manifest, path } => write!(
                f,
                "{manifest}: {path} names a file only after Unicode normalisation"
            ),
            CaseMatch { manifest, path } => write!(
                f,
                "{manifest}: {path} names a file only when case is ignored"
            ),
            DuplicateSameChecksum { manifest, path, version } => write!(
                f,
                "{manifest}: {path} listed twice with the same checksum (allowed before BagIt 1.0; this bag is BagIt-Version {version})"
            ),
            CaseCollision { paths } => write!(
                f,
                "{} differ only in case: they collide on case-insensitive file systems",
                paths.join(", ")
            ),
            NormalizationCollision { paths } => write!(
                f,
                "{} differ only in Unicode normalisation: they collide on normalising file systems",
                paths.join(", ")
            ),
            SystemFile { path } => write!(
                f,
                "{path}: a file an operating system leaves behind, in the payload"
            ),
        }
    }
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
            TimestampMissing => write!(
                f,
                "{TIMESTAMP_NAME}: missing, but --tsa-cert asks for proof of time"
            ),
            TimestampInvalid { detail } => write!(f, "{TIMESTAMP_NAME}: {detail}"),
            DigestMismatch { expected, actual } => {
                write!(f, "bundle digest {actual}, expected {expected}")
            }
            ChecksumMismatch {
                manifest,
                path,
                algorithm,
                expected,
                actual,
            } => write!(
                f,
                "{path}: {algorithm} {actual}, {manifest} says {expected}"
            ),
            NotInManifest { manifest, path } => {
                write!(f, "{path}: payload file not in {manifest}")
            }
            UnsafeManifestPath {
                manifest,
                path,
                reason,
            } => write!(f, "{manifest}: path {path} refused ({reason})"),
            FetchInvalid { line: 0, detail } => write!(f, "fetch.txt: {detail}"),
            FetchInvalid { line, detail } => write!(f, "fetch.txt line {line}: {detail}"),
            NotFetched { path, url } => {
                write!(f, "{path}: listed in fetch.txt ({url}), not fetched")
            }
            NoPayloadManifest => write!(f, "no payload manifest (manifest-<algorithm>.txt)"),
            UnknownAlgorithm {
                manifest,
                algorithm,
            } => write!(
                f,
                "{manifest}: algorithm {algorithm} is not one this verifier computes; not checked"
            ),
            NotRegularFile { path, detail } => write!(f, "{path}: {detail}"),
            TagFileUndecodable { path, detail } => write!(f, "{path}: {detail}"),
            BundleOnly { option } => write!(
                f,
                "{option} applies to wsc-forensics bundles; this generic BagIt bag cannot pass it"
            ),
            BundleClaim { detail } => {
                write!(f, "bag-info.txt names wsc-forensics, but {detail}")
            }
        }
    }
}
