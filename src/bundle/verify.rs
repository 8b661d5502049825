//! Verifying a bundle from the zip alone: zip structure, BagIt tag files, every manifest line
//! against the bytes, completeness, Payload-Oxum, tag manifest, evidence/custody consistency and
//! the examiner signature. Every problem is a typed [`Problem`] naming the file.

use crate::bundle::bagit::{
    parse_manifest, parse_oxum, parse_tag_file, BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME,
    TAG_MANIFEST_NAME,
};
use crate::bundle::reader::{
    find_root, parse_custody, parse_evidence_index, MAX_ENTRIES, MAX_METADATA_BYTES,
};
use crate::bundle::signature::{
    verify_signature, BundleSignature, SignatureProblem, SIGNATURE_NAME,
};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::digest::{Sha256Digest, STREAM_CHUNK};
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use zip::ZipArchive;

/// What to check beyond integrity.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The examiner's public key: the bundle must carry a valid signature by it.
    pub examiner_key: Option<VerifyingKey>,
    /// The digest recorded at collection time: the bundle digest must equal it.
    pub expect_digest: Option<Sha256Digest>,
}

/// Overall result; decides the exit code (0, 1, 2).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Complete and unaltered (and signed by the examiner key, when one was given).
    Intact,
    /// Something was changed, added, removed or does not agree.
    Altered,
    /// Not a zip, or no bag in it.
    Unreadable,
}

/// One thing wrong with a bundle. `entry` fields are zip entry names; `path` fields are bag
/// paths (relative to the bag folder).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
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

/// The examiner signature, as found.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SignatureStatus {
    Absent,
    /// Valid over this bundle's digest; `examiner_key_checked` says whether it was the key
    /// given with `--examiner-key` (otherwise only the embedded public key was used).
    Valid {
        key_id: String,
        examiner_key_checked: bool,
    },
    Invalid,
}

/// The full result of [`verify_bundle`] (the `--json` document).
#[derive(Serialize, Clone, Debug)]
pub struct VerifyReport {
    pub bundle: String,
    pub verdict: Verdict,
    /// SHA-256 of tagmanifest-sha256.txt (absent when it could not be read).
    pub digest: Option<Sha256Digest>,
    pub case_id: Option<String>,
    pub entries: usize,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub signature: SignatureStatus,
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Process exit code: 0 intact, 1 altered or incomplete, 2 not a readable bundle.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Intact => 0,
            Verdict::Altered => 1,
            Verdict::Unreadable => 2,
        }
    }
}

/// Tag-file-like entries whose bytes are kept while hashing (they are small and parsed next).
fn keep_bytes(rel: &str) -> bool {
    matches!(
        rel,
        BAGIT_TXT_NAME
            | BAG_INFO_NAME
            | MANIFEST_NAME
            | TAG_MANIFEST_NAME
            | SIGNATURE_NAME
            | EVIDENCE_PATH
            | CUSTODY_PATH
    )
}

/// Why a raw entry name is unsafe, if it is.
fn unsafe_name(name: &[u8]) -> Option<String> {
    let Ok(s) = std::str::from_utf8(name) else {
        return Some("not UTF-8".into());
    };
    if s.is_empty() {
        return Some("empty".into());
    }
    if s.contains('\0') {
        return Some("contains NUL".into());
    }
    if s.contains('\\') {
        return Some("contains a backslash".into());
    }
    if s.starts_with('/') {
        return Some("absolute path".into());
    }
    let b = s.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("drive letter".into());
    }
    let trimmed = s.strip_suffix('/').unwrap_or(s);
    for comp in trimmed.split('/') {
        match comp {
            "" => return Some("empty path component".into()),
            "." | ".." => return Some(format!("`{comp}` path component")),
            _ => {}
        }
    }
    None
}

/// Every file name in the central directory, duplicates included (the zip crate keeps only
/// one entry per name, so a planted duplicate would otherwise be invisible).
fn central_directory_names(path: &Path, start: u64) -> io::Result<Vec<Vec<u8>>> {
    use std::io::{BufReader, Seek, SeekFrom};
    let mut r = BufReader::new(File::open(path)?);
    r.seek(SeekFrom::Start(start))?;
    let mut names = Vec::new();
    let mut header = [0u8; 46];
    while names.len() <= MAX_ENTRIES {
        if r.read_exact(&mut header).is_err() || header[..4] != *b"PK\x01\x02" {
            break;
        }
        let le = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]) as u64;
        let (name_len, extra_len, comment_len) = (le(28), le(30), le(32));
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name)?;
        r.seek_relative((extra_len + comment_len) as i64)?;
        names.push(name);
    }
    Ok(names)
}

/// Compares every entry's local header with its central-directory record, field by field:
/// (entry name, field) for each difference. Zip readers disagree on which of the two they
/// trust, so a bundle whose copies differ is not one file but two.
fn local_header_mismatches(path: &Path, start: u64) -> io::Result<Vec<(String, String)>> {
    use std::io::{BufReader, Seek, SeekFrom};
    let mut central = BufReader::new(File::open(path)?);
    let mut local = File::open(path)?;
    central.seek(SeekFrom::Start(start))?;
    let mut out = Vec::new();
    let mut c = [0u8; 46];
    let mut records = 0;
    let mut cd_end = start;
    while records <= MAX_ENTRIES {
        if central.read_exact(&mut c).is_err() || c[..4] != *b"PK\x01\x02" {
            break;
        }
        records += 1;
        let le16 = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let le32 = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let (name_len, extra_len, comment_len) = (le16(&c, 28), le16(&c, 30), le16(&c, 32));
        let mut name = vec![0u8; name_len as usize];
        central.read_exact(&mut name)?;
        central.seek_relative(i64::from(extra_len) + i64::from(comment_len))?;
        cd_end += 46 + u64::from(name_len) + u64::from(extra_len) + u64::from(comment_len);
        let entry = String::from_utf8_lossy(&name).into_owned();
        // A bundle is one disk; collect writes every entry as a regular file, mode 0644.
        if le16(&c, 34) != 0 {
            out.push((entry.clone(), "disk number".to_owned()));
        }
        // External attributes: unix mode above, MS-DOS attributes (hidden, system…) below.
        if le32(&c, 38) != 0o100644 << 16 {
            out.push((entry.clone(), "file attributes".to_owned()));
        }
        let offset = le32(&c, 42);
        if offset == u32::MAX {
            continue; // Zip64 offset: in the extra field; not written by collect.
        }
        let mut l = [0u8; 30];
        local.seek(SeekFrom::Start(u64::from(offset)))?;
        if local.read_exact(&mut l).is_err() || l[..4] != *b"PK\x03\x04" {
            out.push((entry, "signature".to_owned()));
            continue;
        }
        let mut local_name = vec![0u8; le16(&l, 26) as usize];
        local.read_exact(&mut local_name)?;
        let mut differs = |field: &str, a: u32, b: u32| {
            if a != b {
                out.push((entry.clone(), field.to_owned()));
            }
        };
        // Central: version needed 6, flags 8, method 10, time 12, date 14, crc 16, sizes 20/24.
        // Local:   version needed 4, flags 6, method 8, time 10, date 12, crc 14, sizes 18/22.
        differs("version needed", le16(&l, 4).into(), le16(&c, 6).into());
        differs("flags", le16(&l, 6).into(), le16(&c, 8).into());
        differs(
            "compression method",
            le16(&l, 8).into(),
            le16(&c, 10).into(),
        );
        differs("time", le16(&l, 10).into(), le16(&c, 12).into());
        differs("date", le16(&l, 12).into(), le16(&c, 14).into());
        // With a data descriptor (flag bit 3) the local CRC and sizes may be zero.
        if le16(&l, 6) & 0x08 == 0 {
            differs("CRC-32", le32(&l, 14), le32(&c, 16));
            if le32(&l, 18) != u32::MAX && le32(&l, 22) != u32::MAX {
                differs("compressed size", le32(&l, 18), le32(&c, 20));
                differs("size", le32(&l, 22), le32(&c, 24));
            }
        }
        if local_name != name {
            out.push((entry, "name".to_owned()));
        }
    }
    // The end record must describe exactly the records read (zip64 placeholders aside): a size
    // or count that disagrees hides bytes between the directory and its end.
    let mut tail = Vec::new();
    let len = local.seek(SeekFrom::End(0))?;
    local.seek(SeekFrom::Start(len.saturating_sub(22 + 65_535)))?;
    local.read_to_end(&mut tail)?;
    if let Some(e) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") {
        let e = &tail[e..];
        if e.len() >= 22 {
            let le16 = |i: usize| u16::from_le_bytes([e[i], e[i + 1]]);
            let le32 = |i: usize| u32::from_le_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]);
            let end = "(end of central directory)".to_owned();
            if le16(4) != 0 && le16(4) != u16::MAX || le16(6) != 0 && le16(6) != u16::MAX {
                out.push((end.clone(), "disk number".to_owned()));
            }
            if le16(8) != le16(10) {
                out.push((end.clone(), "entry count".to_owned()));
            }
            if le32(12) != u32::MAX && u64::from(le32(12)) != cd_end - start {
                out.push((end.clone(), "directory size".to_owned()));
            }
            if usize::from(le16(20)) != e.len() - 22 {
                out.push((end, "comment length".to_owned()));
            }
        }
    }
    Ok(out)
}

struct Hashed {
    rel: String,
    digest: Sha256Digest,
    size: u64,
    bytes: Option<Vec<u8>>,
}

fn hash_entry(
    za: &mut ZipArchive<File>,
    index: usize,
    rel: &str,
    entry: &str,
    declared: u64,
) -> Result<Hashed, Problem> {
    let unreadable = |e: &dyn std::fmt::Display| Problem::EntryUnreadable {
        entry: entry.to_owned(),
        message: e.to_string(),
    };
    let mut f = za.by_index(index).map_err(|e| unreadable(&e))?;
    let keep = keep_bytes(rel) && declared <= MAX_METADATA_BYTES;
    let mut bytes = keep.then(Vec::new);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(&e)),
        };
        hasher.update(&buf[..n]);
        if let Some(b) = bytes.as_mut() {
            b.extend_from_slice(&buf[..n]);
        }
        total += n as u64;
    }
    if total != declared {
        return Err(Problem::SizeMismatch {
            entry: entry.to_owned(),
            declared,
            actual: total,
        });
    }
    Ok(Hashed {
        rel: rel.to_owned(),
        digest: Sha256Digest(hasher.finalize().into()),
        size: total,
        bytes,
    })
}

fn unreadable(bundle: &Path, problem: Problem) -> VerifyReport {
    VerifyReport {
        bundle: bundle.display().to_string(),
        verdict: Verdict::Unreadable,
        digest: None,
        case_id: None,
        entries: 0,
        payload_files: 0,
        payload_bytes: 0,
        signature: SignatureStatus::Absent,
        problems: vec![problem],
    }
}

/// Verifies the bundle at `bundle`. Never panics on hostile input; every finding is a problem.
pub fn verify_bundle(bundle: &Path, opts: &VerifyOptions) -> VerifyReport {
    let open = || -> Result<ZipArchive<File>, Problem> {
        let f = File::open(bundle).map_err(|e| Problem::NotReadable {
            message: e.to_string(),
        })?;
        ZipArchive::new(f).map_err(|e| Problem::NotReadable {
            message: format!("not a zip archive: {e}"),
        })
    };
    let mut za = match open() {
        Ok(z) => z,
        Err(p) => return unreadable(bundle, p),
    };
    if za.len() > MAX_ENTRIES {
        return unreadable(
            bundle,
            Problem::TooManyEntries {
                count: za.len(),
                max: MAX_ENTRIES,
            },
        );
    }
    let root = match find_root(za.file_names_raw()) {
        Ok(r) => r,
        Err(roots) => return unreadable(bundle, Problem::NoBagFolder { roots }),
    };
    let prefix = format!("{root}/");
    let mut problems = Vec::new();
    if za.has_duplicate_names() {
        let mut count = HashMap::<Vec<u8>, usize>::new();
        for n in central_directory_names(bundle, za.central_directory_start()).unwrap_or_default() {
            *count.entry(n).or_default() += 1;
        }
        let mut dups: Vec<_> = count
            .into_iter()
            .filter(|(_, c)| *c > 1)
            .map(|(n, _)| n)
            .collect();
        dups.sort();
        if dups.is_empty() {
            dups.push(b"(unnamed)".to_vec());
        }
        for n in dups {
            problems.push(Problem::DuplicateEntry {
                entry: String::from_utf8_lossy(&n).into_owned(),
            });
        }
    }

    for (entry, field) in
        local_header_mismatches(bundle, za.central_directory_start()).unwrap_or_default()
    {
        problems.push(Problem::LocalHeaderMismatch { entry, field });
    }

    // Structure: names, types, duplicates; collect the file entries to hash.
    let mut seen = HashSet::new();
    let mut to_hash: Vec<(usize, String, String, u64)> = Vec::new();
    for i in 0..za.len() {
        let f = match za.by_index_raw(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::EntryUnreadable {
                    entry: format!("#{i}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let raw = f.name_raw().to_vec();
        let entry = String::from_utf8_lossy(&raw).into_owned();
        if !seen.insert(raw.clone()) {
            problems.push(Problem::DuplicateEntry { entry });
            continue;
        }
        if let Some(reason) = unsafe_name(&raw) {
            problems.push(Problem::UnsafeEntryName { entry, reason });
            continue;
        }
        if f.is_symlink() {
            problems.push(Problem::SymlinkEntry { entry });
            continue;
        }
        if f.encrypted() {
            problems.push(Problem::EncryptedEntry { entry });
            continue;
        }
        let Some(rel) = entry.strip_prefix(&prefix).map(str::to_owned) else {
            problems.push(Problem::EntryOutsideBag { entry });
            continue;
        };
        if f.is_dir() {
            problems.push(Problem::DirectoryEntry { entry });
            continue;
        }
        to_hash.push((i, rel, entry, f.size()));
    }
    let entries = za.len();
    drop(za);

    // Hash every file entry, in parallel; each worker opens its own handle on the zip.
    let workers = rayon::current_num_threads().max(1) * 4;
    let per = to_hash.len().div_ceil(workers).max(1);
    let results: Vec<Result<Hashed, Problem>> = to_hash
        .par_chunks(per)
        .flat_map_iter(|chunk| {
            let mut za = open();
            chunk
                .iter()
                .map(|(i, rel, entry, size)| match za.as_mut() {
                    Ok(z) => hash_entry(z, *i, rel, entry, *size),
                    Err(p) => Err(p.clone()),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut files: HashMap<String, Hashed> = HashMap::new();
    let mut unreadable_rel = HashSet::new();
    for (r, (_, rel, _, _)) in results.into_iter().zip(&to_hash) {
        match r {
            Ok(h) => {
                files.insert(h.rel.clone(), h);
            }
            Err(p) => {
                unreadable_rel.insert(rel.clone());
                problems.push(p);
            }
        }
    }

    let text = |files: &HashMap<String, Hashed>, rel: &str| -> Option<String> {
        files
            .get(rel)
            .and_then(|h| h.bytes.as_ref())
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let missing_tag = |problems: &mut Vec<Problem>, rel: &str| {
        if !unreadable_rel.contains(rel) {
            problems.push(Problem::MissingTagFile {
                path: rel.to_owned(),
            });
        }
    };

    // bagit.txt
    match text(&files, BAGIT_TXT_NAME) {
        None => missing_tag(&mut problems, BAGIT_TXT_NAME),
        Some(t) => match parse_tag_file(&t) {
            Err(line) => problems.push(Problem::BadBagitTxt {
                detail: format!("line {line} is not `Label: value`"),
            }),
            Ok(tags) => {
                let get = |l: &str| tags.iter().find(|(k, _)| k == l).map(|(_, v)| v.as_str());
                if get("BagIt-Version") != Some("1.0") {
                    problems.push(Problem::BadBagitTxt {
                        detail: format!(
                            "BagIt-Version is {:?}, expected \"1.0\"",
                            get("BagIt-Version")
                        ),
                    });
                }
                if get("Tag-File-Character-Encoding")
                    .map(str::to_ascii_uppercase)
                    .as_deref()
                    != Some("UTF-8")
                {
                    problems.push(Problem::BadBagitTxt {
                        detail: "Tag-File-Character-Encoding is not UTF-8".into(),
                    });
                }
            }
        },
    }

    // Payload: every data/ file.
    let payload: BTreeMap<&str, &Hashed> = files
        .iter()
        .filter(|(rel, _)| rel.starts_with("data/"))
        .map(|(r, h)| (r.as_str(), h))
        .collect();
    let payload_files = (payload.len()
        + unreadable_rel
            .iter()
            .filter(|r| r.starts_with("data/"))
            .count()) as u64;
    let payload_bytes: u64 = payload.values().map(|h| h.size).sum();

    // bag-info.txt and Payload-Oxum
    let mut external_id = None;
    match text(&files, BAG_INFO_NAME) {
        None => missing_tag(&mut problems, BAG_INFO_NAME),
        Some(t) => match parse_tag_file(&t) {
            Err(line) => problems.push(Problem::BadBagInfo {
                detail: format!("line {line} is not `Label: value`"),
            }),
            Ok(tags) => {
                external_id = tags
                    .iter()
                    .find(|(k, _)| k == "External-Identifier")
                    .map(|(_, v)| v.clone());
                match tags.iter().find(|(k, _)| k == "Payload-Oxum") {
                    None => problems.push(Problem::BadBagInfo {
                        detail: "no Payload-Oxum".into(),
                    }),
                    Some((_, v)) => {
                        let actual = format!("{payload_bytes}.{payload_files}");
                        if parse_oxum(v) != Some((payload_bytes, payload_files)) {
                            problems.push(Problem::OxumMismatch {
                                declared: v.clone(),
                                actual,
                            });
                        }
                    }
                }
            }
        },
    }

    // Manifests: payload and tag.
    let check_manifest = |problems: &mut Vec<Problem>,
                          manifest: &str,
                          payload_only: bool|
     -> Option<HashMap<String, Sha256Digest>> {
        let t = match text(&files, manifest) {
            Some(t) => t,
            None => {
                missing_tag(problems, manifest);
                return None;
            }
        };
        let lines = match parse_manifest(&t) {
            Ok(l) => l,
            Err(e) => {
                problems.push(Problem::ManifestSyntax {
                    manifest: manifest.to_owned(),
                    line: e.line,
                    detail: e.message,
                });
                return None;
            }
        };
        let mut listed = HashMap::new();
        for (path, expected) in lines {
            if listed.insert(path.clone(), expected).is_some() {
                problems.push(Problem::DuplicateManifestLine {
                    manifest: manifest.to_owned(),
                    path: path.clone(),
                });
            }
            if payload_only != path.starts_with("data/") {
                problems.push(Problem::ManifestPathOutsidePayload {
                    manifest: manifest.to_owned(),
                    path: path.clone(),
                });
            }
            match files.get(&path) {
                Some(h) if h.digest == expected => {}
                Some(h) => problems.push(Problem::HashMismatch {
                    manifest: manifest.to_owned(),
                    path,
                    expected,
                    actual: h.digest,
                }),
                None if unreadable_rel.contains(&path) => {}
                None => problems.push(Problem::MissingFile {
                    manifest: manifest.to_owned(),
                    path,
                }),
            }
        }
        Some(listed)
    };
    let manifest = check_manifest(&mut problems, MANIFEST_NAME, true);
    if let Some(m) = &manifest {
        for rel in payload.keys() {
            if !m.contains_key(*rel) {
                problems.push(Problem::UnlistedPayload {
                    path: (*rel).to_owned(),
                });
            }
        }
    }
    let tag_manifest = check_manifest(&mut problems, TAG_MANIFEST_NAME, false);
    if let Some(tm) = &tag_manifest {
        for required in [BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME] {
            if !tm.contains_key(required) {
                problems.push(Problem::TagFileNotCovered {
                    path: required.to_owned(),
                });
            }
        }
        for rel in files.keys() {
            if !rel.starts_with("data/")
                && rel != TAG_MANIFEST_NAME
                && rel != SIGNATURE_NAME
                && !tm.contains_key(rel)
            {
                problems.push(Problem::UnlistedTagFile { path: rel.clone() });
            }
        }
    }
    let digest = files.get(TAG_MANIFEST_NAME).map(|h| h.digest);

    // evidence.json against the manifest.
    let mut case_id = external_id;
    match files.get(EVIDENCE_PATH).and_then(|h| h.bytes.as_ref()) {
        None if files.contains_key(EVIDENCE_PATH) => problems.push(Problem::EvidenceInvalid {
            detail: "too large to load".into(),
        }),
        None => {
            if !unreadable_rel.contains(EVIDENCE_PATH) {
                problems.push(Problem::EvidenceInvalid {
                    detail: "missing".into(),
                });
            }
        }
        Some(bytes) => match parse_evidence_index(bytes) {
            Err(detail) => problems.push(Problem::EvidenceInvalid { detail }),
            Ok(ev) => {
                if ev.case.case_id != root {
                    problems.push(Problem::EvidenceDisagrees {
                        source: "(case)".into(),
                        detail: format!(
                            "case id {:?} but the bag folder is {root:?}",
                            ev.case.case_id
                        ),
                    });
                }
                case_id = Some(ev.case.case_id.clone());
                for item in &ev.items {
                    let Some(bp) = &item.bag_path else { continue };
                    let listed = manifest.as_ref().and_then(|m| m.get(bp));
                    match (listed, &manifest) {
                        (Some(d), _) if *d == item.sha256 => {}
                        (Some(d), _) => problems.push(Problem::EvidenceDisagrees {
                            source: item.source.text.clone(),
                            detail: format!(
                                "sha256 {} but {MANIFEST_NAME} lists {bp} as {d}",
                                item.sha256
                            ),
                        }),
                        (None, Some(_)) => problems.push(Problem::EvidenceDisagrees {
                            source: item.source.text.clone(),
                            detail: format!("{bp} is not in {MANIFEST_NAME}"),
                        }),
                        (None, None) => {}
                    }
                }
            }
        },
    }

    // custody.jsonl parses.
    match files.get(CUSTODY_PATH).and_then(|h| h.bytes.as_ref()) {
        Some(bytes) => {
            if let Err((line, detail)) = parse_custody(bytes) {
                problems.push(Problem::CustodyInvalid { line, detail });
            }
        }
        None if !unreadable_rel.contains(CUSTODY_PATH) => problems.push(Problem::CustodyInvalid {
            line: 0,
            detail: "missing".into(),
        }),
        None => {}
    }

    // Examiner signature.
    let mut signature = SignatureStatus::Absent;
    match (
        files.get(SIGNATURE_NAME).and_then(|h| h.bytes.as_ref()),
        digest,
    ) {
        (Some(bytes), Some(d)) => match serde_json::from_slice::<BundleSignature>(bytes) {
            Err(e) => {
                signature = SignatureStatus::Invalid;
                problems.push(Problem::SignatureUnreadable {
                    detail: e.to_string(),
                });
            }
            Ok(sig) => match verify_signature(&sig, d, opts.examiner_key.as_ref()) {
                Ok(key_id) => {
                    signature = SignatureStatus::Valid {
                        key_id,
                        examiner_key_checked: opts.examiner_key.is_some(),
                    }
                }
                Err(detail) => {
                    signature = SignatureStatus::Invalid;
                    problems.push(Problem::SignatureInvalid { detail });
                }
            },
        },
        (None, _) if opts.examiner_key.is_some() => problems.push(Problem::SignatureMissing),
        _ => {}
    }

    if let (Some(expected), Some(actual)) = (opts.expect_digest, digest) {
        if expected != actual {
            problems.push(Problem::DigestMismatch { expected, actual });
        }
    }

    VerifyReport {
        bundle: bundle.display().to_string(),
        verdict: if problems.is_empty() {
            Verdict::Intact
        } else {
            Verdict::Altered
        },
        digest,
        case_id,
        entries,
        payload_files,
        payload_bytes,
        signature,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_named() {
        for (n, why) in [
            (&b"/abs/x"[..], "absolute path"),
            (b"a/../b", "`..` path component"),
            (b"a\\b", "contains a backslash"),
            (b"a\0b", "contains NUL"),
            (b"C:x", "drive letter"),
            (b"a//b", "empty path component"),
            (b"\xff", "not UTF-8"),
        ] {
            assert_eq!(unsafe_name(n).as_deref(), Some(why), "{n:?}");
        }
        assert_eq!(unsafe_name(b"IR-1/data/case/100% x.txt"), None);
    }

    #[test]
    fn not_a_zip_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.zip");
        std::fs::write(&p, b"hello").unwrap();
        let r = verify_bundle(&p, &VerifyOptions::default());
        assert_eq!(r.verdict, Verdict::Unreadable);
        assert_eq!(r.exit_code(), 2);
    }
}
