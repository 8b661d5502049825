//! Verifying a bundle from the zip alone: zip structure, BagIt tag files, every manifest line
//! against the bytes, completeness, Payload-Oxum, tag manifest, evidence/custody consistency and
//! the examiner signature. Every problem is a typed [`Problem`] naming the file.

use crate::bundle::bagit::{
    parse_manifest_line, parse_oxum, parse_tag_file, ManifestLineError, BAGIT_TXT_NAME,
    BAG_INFO_NAME, MANIFEST_NAME, TAG_MANIFEST_NAME,
};
use crate::bundle::reader::{
    find_root, judge_evidence_index, parse_evidence_index, scan_evidence_index, IndexJudgement,
    IndexScan, ItemIndex, MAX_ENTRIES, MAX_METADATA_BYTES,
};
use crate::bundle::signature::{
    verify_signature, BundleSignature, SignatureProblem, SIGNATURE_NAME,
};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::hashing::HashingReader;
use crate::io::pread::PreadFile;
use crate::model::custody::CustodyEvent;
use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use structure::{Strictness, Structure};
use zip::ZipArchive;

pub mod structure;

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
    /// Digests of evidence.json and custody.jsonl as this verification hashed them, so a
    /// caller reading them afterwards can prove it read the same bytes (not in the JSON).
    #[serde(skip)]
    pub metadata: MetadataDigests,
}

/// See [`VerifyReport::metadata`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataDigests {
    pub evidence: Option<Sha256Digest>,
    pub custody: Option<Sha256Digest>,
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

type Zip = ZipArchive<PreadFile>;

/// Reads entry `index` through `parse` (which may stop early), then to its end, hashing every
/// byte once: the digest and what `parse` made of the bytes, or the problem that made the
/// entry unreadable. The zip crate stops at the declared size and checks the CRC at the end.
fn read_entry<T>(
    za: &mut Zip,
    index: usize,
    entry: &str,
    declared: u64,
    buf: &mut [u8],
    parse: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<(Sha256Digest, T), Problem> {
    let unreadable = |e: &dyn std::fmt::Display| Problem::EntryUnreadable {
        entry: entry.to_owned(),
        message: e.to_string(),
    };
    let f = za.by_index(index).map_err(|e| unreadable(&e))?;
    let mut h = HashingReader::new(f);
    let parsed = parse(&mut h).map_err(|e| unreadable(&e))?;
    h.drain(buf).map_err(|e| unreadable(&e))?;
    let (digest, total) = h.finish();
    if total != declared {
        return Err(Problem::SizeMismatch {
            entry: entry.to_owned(),
            declared,
            actual: total,
        });
    }
    Ok((digest, parsed))
}

/// Entry names by bag path, through the zip crate's own name index (no second copy).
struct Names<'a> {
    za: &'a Zip,
    prefix: &'a str,
}

impl Names<'_> {
    fn index(&self, rel: &str) -> Option<usize> {
        let mut name = String::with_capacity(self.prefix.len() + rel.len());
        name.push_str(self.prefix);
        name.push_str(rel);
        self.za.index_for_name_raw(name.as_bytes())
    }

    /// The zip entry name of entry `index`.
    fn name(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| String::from_utf8_lossy(e.name_raw()).into_owned())
            .unwrap_or_default()
    }

    /// The bag path of entry `index` (its name less the bag folder).
    fn rel(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| {
                let raw = e.name_raw();
                String::from_utf8_lossy(raw.get(self.prefix.len()..).unwrap_or(raw)).into_owned()
            })
            .unwrap_or_default()
    }

    fn size(&self, index: usize) -> u64 {
        self.za.by_index_data(index).map_or(0, |e| e.size())
    }
}

/// Sentinel of [`Listing::by_entry`]: no line lists the entry.
const NOT_LISTED: u32 = u32::MAX;

/// A manifest as the checks need it, read line by line: per line its digest, the entry (or
/// entry-less path) it names and what is wrong with it alone; per entry the last line listing
/// it. About 45 bytes a line: paths stay in the zip's central directory, only those naming no
/// entry (each one a problem) are kept as text.
struct Listing {
    lines: Vec<ListedLine>,
    by_entry: Vec<u32>,
    /// Paths that name no entry, with the last line listing each.
    elsewhere: Vec<(String, u32)>,
    elsewhere_index: HashMap<String, u32>,
}

struct ListedLine {
    digest: Sha256Digest,
    target: Target,
    duplicate: bool,
    outside: bool,
}

enum Target {
    Entry(u32),
    Elsewhere(u32),
}

impl Listing {
    fn new(entries: usize) -> Self {
        Listing {
            lines: Vec::new(),
            by_entry: vec![NOT_LISTED; entries],
            elsewhere: Vec::new(),
            elsewhere_index: HashMap::new(),
        }
    }

    fn add(&mut self, names: &Names, path: String, digest: Sha256Digest, payload_only: bool) {
        let line = self.lines.len() as u32;
        let outside = payload_only != path.starts_with("data/");
        let (target, duplicate) = match names.index(&path) {
            Some(i) => {
                let dup = self.by_entry[i] != NOT_LISTED;
                self.by_entry[i] = line;
                (Target::Entry(i as u32), dup)
            }
            None => match self.elsewhere_index.get(&path) {
                Some(&k) => {
                    self.elsewhere[k as usize].1 = line;
                    (Target::Elsewhere(k), true)
                }
                None => {
                    let k = self.elsewhere.len() as u32;
                    self.elsewhere_index.insert(path.clone(), k);
                    self.elsewhere.push((path, line));
                    (Target::Elsewhere(k), false)
                }
            },
        };
        self.lines.push(ListedLine {
            digest,
            target,
            duplicate,
            outside,
        });
    }

    fn lists_entry(&self, index: usize) -> bool {
        self.by_entry[index] != NOT_LISTED
    }

    /// The digest listed for `path` (by its last line).
    fn digest_of(&self, names: &Names, path: &str) -> Option<Sha256Digest> {
        let line = match names.index(path) {
            Some(i) => Some(self.by_entry[i]).filter(|&l| l != NOT_LISTED),
            None => self
                .elsewhere_index
                .get(path)
                .map(|&k| self.elsewhere[k as usize].1),
        };
        line.map(|l| self.lines[l as usize].digest)
    }
}

/// A manifest entry as read: its listing, a syntax error (no listing, as before), or no text
/// (missing, unreadable or too large to load).
enum ManifestRead {
    Lines(Listing),
    Syntax(ManifestLineError),
    Absent,
}

impl ManifestRead {
    fn listing(&self) -> Option<&Listing> {
        match self {
            ManifestRead::Lines(l) => Some(l),
            _ => None,
        }
    }
}

/// Parses a manifest line by line as it streams (lossy UTF-8 per line equals lossy UTF-8 of
/// the whole text split at `\n`, since a newline never sits inside a UTF-8 sequence).
fn read_listing(r: &mut dyn Read, names: &Names, payload_only: bool) -> io::Result<ManifestRead> {
    let mut r = BufReader::with_capacity(64 << 10, r);
    let mut listing = Listing::new(names.za.len());
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        match parse_manifest_line(number, &String::from_utf8_lossy(&line)) {
            Ok(None) => {}
            Ok(Some((path, digest))) => listing.add(names, path, digest, payload_only),
            Err(e) => return Ok(ManifestRead::Syntax(e)),
        }
    }
    Ok(ManifestRead::Lines(listing))
}

/// Parses custody.jsonl line by line as it streams: the first bad line, if any.
fn read_custody(r: &mut dyn Read) -> io::Result<Option<(usize, String)>> {
    let mut r = BufReader::with_capacity(64 << 10, r);
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(e) = serde_json::from_slice::<CustodyEvent>(&line) {
            return Ok(Some((number, e.to_string())));
        }
    }
}

/// What the evidence check finds wrong with one item, given the payload manifest.
fn item_problem(item: &ItemIndex, manifest: Option<&Listing>, names: &Names) -> Option<Problem> {
    let bp = item.bag_path.as_ref()?;
    let manifest = manifest?;
    match manifest.digest_of(names, bp) {
        Some(d) if d == item.sha256 => None,
        Some(d) => Some(Problem::EvidenceDisagrees {
            source: item.source.text.clone(),
            detail: format!(
                "sha256 {} but {MANIFEST_NAME} lists {bp} as {d}",
                item.sha256
            ),
        }),
        None => Some(Problem::EvidenceDisagrees {
            source: item.source.text.clone(),
            detail: format!("{bp} is not in {MANIFEST_NAME}"),
        }),
    }
}

/// evidence.json as read while hashed.
enum EvidenceRead {
    /// Parsed: its case id and the problems of its items, in order.
    Parsed {
        case_id: String,
        problems: Vec<Problem>,
    },
    /// Not parsed while streaming; parsed whole afterwards to name what is wrong.
    Unsure,
}

/// What the hashing stage does with an entry besides hashing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Hash,
    Keep,
    Evidence,
    Custody,
}

/// Per-entry flags.
const ACCEPTED: u8 = 1;
const PAYLOAD: u8 = 2;
const HASHED: u8 = 4;
const UNREADABLE: u8 = 8;

/// Results of the hashing stage, per entry (by zip index).
struct Hashes {
    flags: Vec<u8>,
    digests: Vec<Sha256Digest>,
    /// Entries that could not be read, by zip index.
    problems: Vec<(usize, Problem)>,
    /// Bytes of the small tag files (bagit.txt, bag-info.txt, the signature), kept to be
    /// parsed next; the big metadata files are parsed while hashed instead.
    kept: Vec<(usize, Vec<u8>)>,
    evidence: Option<EvidenceRead>,
    custody: Option<Option<(usize, String)>>,
}

impl Hashes {
    fn record<T>(&mut self, index: usize, r: Result<(Sha256Digest, T), Problem>) -> Option<T> {
        match r {
            Ok((d, v)) => {
                self.flags[index] |= HASHED;
                self.digests[index] = d;
                Some(v)
            }
            Err(p) => {
                self.flags[index] |= UNREADABLE;
                self.problems.push((index, p));
                None
            }
        }
    }

    fn unreadable(&self, index: Option<usize>) -> bool {
        index.is_some_and(|i| self.flags[i] & UNREADABLE != 0)
    }

    fn kept(&self, index: Option<usize>) -> Option<&[u8]> {
        let i = index?;
        self.kept
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, b)| b.as_slice())
    }
}

fn unreadable(shown: &str, problem: Problem) -> VerifyReport {
    VerifyReport {
        bundle: shown.to_owned(),
        verdict: Verdict::Unreadable,
        digest: None,
        case_id: None,
        entries: 0,
        payload_files: 0,
        payload_bytes: 0,
        signature: SignatureStatus::Absent,
        problems: vec![problem],
        metadata: MetadataDigests::default(),
    }
}

/// The structure phase, entry by entry: the zip library must read exactly the records the
/// structural pass found in the file's bytes (so what is hashed is what every reader sees),
/// and each entry must be a safe, plain, unencrypted file inside the bag folder. Returns the
/// per-entry flags of the file entries to hash.
fn entry_types(
    za: &mut Zip,
    layout: &Structure,
    prefix: &str,
    problems: &mut Vec<Problem>,
) -> Vec<u8> {
    let entries = za.len();
    if layout.records.len() != entries || za.offset() != 0 {
        problems.push(Problem::ZipStructure {
            offset: layout.directory_start,
            detail: format!(
                "the zip library reads {entries} entries from offset {}, the file holds {} records",
                za.offset(),
                layout.records.len()
            ),
        });
    }
    let mut flags = vec![0u8; entries];
    for (i, flag) in flags.iter_mut().enumerate() {
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
        // Names are judged on the raw bytes of the file, never on a name a library derived.
        let raw = match layout.records.get(i) {
            Some(rec) => {
                let agrees = rec.name == f.name_raw()
                    && rec.header_offset == f.header_start()
                    && rec.compressed == f.compressed_size()
                    && rec.size == f.size();
                if !agrees {
                    problems.push(Problem::ZipStructure {
                        offset: f.central_header_start(),
                        detail: format!(
                            "record #{i}: the zip library reads another entry than the file's bytes ({:?})",
                            String::from_utf8_lossy(&rec.name)
                        ),
                    });
                    continue;
                }
                rec.name.as_slice()
            }
            None => continue,
        };
        let entry = || String::from_utf8_lossy(raw).into_owned();
        if let Some(reason) = unsafe_name(raw) {
            problems.push(Problem::UnsafeEntryName {
                entry: entry(),
                reason,
            });
            continue;
        }
        if f.is_symlink() {
            problems.push(Problem::SymlinkEntry { entry: entry() });
            continue;
        }
        if f.encrypted() {
            problems.push(Problem::EncryptedEntry { entry: entry() });
            continue;
        }
        let Some(rel) = raw.strip_prefix(prefix.as_bytes()) else {
            problems.push(Problem::EntryOutsideBag { entry: entry() });
            continue;
        };
        if f.is_dir() {
            problems.push(Problem::DirectoryEntry { entry: entry() });
            continue;
        }
        *flag = if rel.starts_with(b"data/") {
            ACCEPTED | PAYLOAD
        } else {
            ACCEPTED
        };
    }
    flags
}

/// Verifies the bundle at `bundle`. Never panics on hostile input; every finding is a problem.
///
/// Memory stays flat in the size of the metadata: the manifests, evidence.json and
/// custody.jsonl are parsed while they are hashed, never held whole, and per entry only a
/// digest and a few flags are kept beside the zip crate's central directory.
pub fn verify_bundle(bundle: &Path, opts: &VerifyOptions) -> VerifyReport {
    let shown = bundle.display().to_string();
    match PreadFile::open(bundle) {
        Ok(file) => verify_file(&file, &shown, opts),
        Err(e) => unreadable(
            &shown,
            Problem::NotReadable {
                message: e.to_string(),
            },
        ),
    }
}

/// Verifies the bundle open as `file` (`shown` names it in the report). Callers that go on to
/// read the bundle read through this same handle, so what was verified is what they read.
pub fn verify_file(file: &PreadFile, shown: &str, opts: &VerifyOptions) -> VerifyReport {
    let mut za = match ZipArchive::new(file.clone()) {
        Ok(z) => z,
        Err(e) => {
            let message = format!("not a zip archive: {e}");
            return unreadable(shown, Problem::NotReadable { message });
        }
    };
    if za.len() > MAX_ENTRIES {
        let (count, max) = (za.len(), MAX_ENTRIES);
        return unreadable(shown, Problem::TooManyEntries { count, max });
    }
    let root = match find_root(za.file_names_raw()) {
        Ok(r) => r,
        Err(roots) => return unreadable(shown, Problem::NoBagFolder { roots }),
    };
    let prefix = format!("{root}/");
    let layout = structure::check(file, Strictness::Canonical);
    let mut problems = layout.problems.clone();
    let flags = entry_types(&mut za, &layout, &prefix, &mut problems);
    let entries = za.len();
    let names = Names {
        za: &za,
        prefix: &prefix,
    };
    // Accepted entries by bag path.
    let at = |rel: &str| names.index(rel).filter(|&i| flags[i] & ACCEPTED != 0);
    let loadable = |i: usize| names.size(i) <= MAX_METADATA_BYTES;
    let [manifest_at, tag_manifest_at, evidence_at, custody_at, bagit_at, bag_info_at, signature_at] =
        [
            MANIFEST_NAME,
            TAG_MANIFEST_NAME,
            EVIDENCE_PATH,
            CUSTODY_PATH,
            BAGIT_TXT_NAME,
            BAG_INFO_NAME,
            SIGNATURE_NAME,
        ]
        .map(at);
    let mut hashes = Hashes {
        flags,
        digests: vec![Sha256Digest([0; 32]); entries],
        problems: Vec::new(),
        kept: Vec::new(),
        evidence: None,
        custody: None,
    };

    // The manifests first, hashed while parsed: the evidence check reads the payload one.
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut read_manifest = |hashes: &mut Hashes, at: Option<usize>, payload_only: bool| {
        let Some(i) = at.filter(|&i| loadable(i)) else {
            return (ManifestRead::Absent, None);
        };
        let mut reader = za.clone();
        let r = read_entry(
            &mut reader,
            i,
            &names.name(i),
            names.size(i),
            &mut buf,
            |r| read_listing(r, &names, payload_only),
        );
        (hashes.record(i, r).unwrap_or(ManifestRead::Absent), Some(i))
    };
    let (manifest, manifest_read) = read_manifest(&mut hashes, manifest_at, true);
    let (tag_manifest, tag_manifest_read) = read_manifest(&mut hashes, tag_manifest_at, false);
    drop(buf);

    // Then every other file entry, in parallel, the two big metadata files first; each worker
    // reads through its own clone of the archive.
    let mut jobs: Vec<(usize, Role)> = Vec::new();
    for (at, role) in [(evidence_at, Role::Evidence), (custody_at, Role::Custody)] {
        if let Some(i) = at.filter(|&i| loadable(i)) {
            jobs.push((i, role));
        }
    }
    let special: Vec<usize> = jobs
        .iter()
        .map(|(i, _)| *i)
        .chain(manifest_read)
        .chain(tag_manifest_read)
        .collect();
    let small_tag_files = [bagit_at, bag_info_at, signature_at];
    for i in 0..entries {
        if hashes.flags[i] & ACCEPTED == 0 || special.contains(&i) {
            continue;
        }
        let role = if small_tag_files.contains(&Some(i)) && loadable(i) {
            Role::Keep
        } else {
            Role::Hash
        };
        jobs.push((i, role));
    }
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(hashes);
    let manifest_listing = manifest.listing();
    let workers = rayon::current_num_threads().max(1).min(jobs.len().max(1));
    (0..workers).into_par_iter().with_max_len(1).for_each(|_| {
        let mut reader = za.clone();
        let mut buf = vec![0u8; STREAM_CHUNK];
        while let Some(&(i, role)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            let size = names.size(i);
            let entry = names.name(i);
            let r = &mut reader;
            match role {
                Role::Hash => {
                    let r = read_entry(r, i, &entry, size, &mut buf, |_| Ok(()));
                    lock(&shared).record(i, r);
                }
                Role::Keep => {
                    let r = read_entry(r, i, &entry, size, &mut buf, |r| {
                        let mut bytes = Vec::new();
                        r.read_to_end(&mut bytes).map(|_| bytes)
                    });
                    let mut h = lock(&shared);
                    if let Some(bytes) = h.record(i, r) {
                        h.kept.push((i, bytes));
                    }
                }
                Role::Evidence => {
                    let mut found = Vec::new();
                    let r = read_entry(r, i, &entry, size, &mut buf, |r| {
                        scan_evidence_index(r, |item| {
                            found.extend(item_problem(&item, manifest_listing, &names))
                        })
                    });
                    let mut h = lock(&shared);
                    h.evidence = h.record(i, r).map(|scan| match scan {
                        IndexScan::Parsed { case_id } => EvidenceRead::Parsed {
                            case_id,
                            problems: found,
                        },
                        IndexScan::Unsure => EvidenceRead::Unsure,
                    });
                }
                Role::Custody => {
                    let r = read_entry(r, i, &entry, size, &mut buf, read_custody);
                    let mut h = lock(&shared);
                    h.custody = h.record(i, r);
                }
            }
        }
    });
    let mut hashes = shared.into_inner().unwrap_or_else(|e| e.into_inner());
    // Unreadable entries are named in zip order, as the structure problems are.
    hashes.problems.sort_by_key(|(i, _)| *i);
    problems.extend(hashes.problems.drain(..).map(|(_, p)| p));
    let hashes = &hashes;
    let text = |at: Option<usize>| {
        hashes
            .kept(at)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let missing_tag = |problems: &mut Vec<Problem>, rel: &str, at: Option<usize>| {
        if !hashes.unreadable(at) {
            problems.push(Problem::MissingTagFile {
                path: rel.to_owned(),
            });
        }
    };

    // bagit.txt
    match text(bagit_at) {
        None => missing_tag(&mut problems, BAGIT_TXT_NAME, bagit_at),
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
    let (mut payload_files, mut payload_bytes) = (0u64, 0u64);
    for (i, &f) in hashes.flags.iter().enumerate() {
        if f & PAYLOAD != 0 {
            payload_files += 1;
            if f & HASHED != 0 {
                payload_bytes += names.size(i);
            }
        }
    }

    // bag-info.txt and Payload-Oxum
    let mut external_id = None;
    match text(bag_info_at) {
        None => missing_tag(&mut problems, BAG_INFO_NAME, bag_info_at),
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

    // Manifests: payload and tag, line by line in file order.
    let check_manifest =
        |problems: &mut Vec<Problem>, manifest: &str, read: &ManifestRead, at: Option<usize>| {
            let listing = match read {
                ManifestRead::Absent => return missing_tag(problems, manifest, at),
                ManifestRead::Syntax(e) => {
                    return problems.push(Problem::ManifestSyntax {
                        manifest: manifest.to_owned(),
                        line: e.line,
                        detail: e.message.clone(),
                    })
                }
                ManifestRead::Lines(l) => l,
            };
            for line in &listing.lines {
                let (index, path) = match line.target {
                    Target::Entry(i) => (Some(i as usize), None),
                    Target::Elsewhere(k) => (None, Some(&listing.elsewhere[k as usize].0)),
                };
                let path = || {
                    path.cloned()
                        .unwrap_or_else(|| names.rel(index.unwrap_or(0)))
                };
                if line.duplicate {
                    problems.push(Problem::DuplicateManifestLine {
                        manifest: manifest.to_owned(),
                        path: path(),
                    });
                }
                if line.outside {
                    problems.push(Problem::ManifestPathOutsidePayload {
                        manifest: manifest.to_owned(),
                        path: path(),
                    });
                }
                match index {
                    Some(i) if hashes.flags[i] & HASHED != 0 => {
                        if hashes.digests[i] != line.digest {
                            problems.push(Problem::HashMismatch {
                                manifest: manifest.to_owned(),
                                path: path(),
                                expected: line.digest,
                                actual: hashes.digests[i],
                            });
                        }
                    }
                    Some(i) if hashes.flags[i] & UNREADABLE != 0 => {}
                    _ => problems.push(Problem::MissingFile {
                        manifest: manifest.to_owned(),
                        path: path(),
                    }),
                }
            }
        };
    // Hashed entries whose flags are `want` under `mask`, that `listing` does not list, sorted.
    let unlisted = |listing: &Listing, mask: u8, want: u8| -> Vec<String> {
        let mut out: Vec<String> = (0..entries)
            .filter(|&i| hashes.flags[i] & (mask | HASHED) == want | HASHED)
            .filter(|&i| !listing.lists_entry(i))
            .map(|i| names.rel(i))
            .collect();
        out.sort();
        out
    };
    check_manifest(&mut problems, MANIFEST_NAME, &manifest, manifest_at);
    if let Some(m) = manifest.listing() {
        for path in unlisted(m, PAYLOAD, PAYLOAD) {
            problems.push(Problem::UnlistedPayload { path });
        }
    }
    check_manifest(
        &mut problems,
        TAG_MANIFEST_NAME,
        &tag_manifest,
        tag_manifest_at,
    );
    if let Some(tm) = tag_manifest.listing() {
        for required in [BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME] {
            if tm.digest_of(&names, required).is_none() {
                problems.push(Problem::TagFileNotCovered {
                    path: required.to_owned(),
                });
            }
        }
        for path in unlisted(tm, PAYLOAD, 0) {
            if path != TAG_MANIFEST_NAME && path != SIGNATURE_NAME {
                problems.push(Problem::UnlistedTagFile { path });
            }
        }
    }
    let hashed = |at: Option<usize>| {
        at.filter(|&i| hashes.flags[i] & HASHED != 0)
            .map(|i| hashes.digests[i])
    };
    let digest = hashed(tag_manifest_at);

    // evidence.json against the manifest.
    let mut case_id = external_id;
    let case_problem = |problems: &mut Vec<Problem>, id: &str| {
        if id != root {
            problems.push(Problem::EvidenceDisagrees {
                source: "(case)".into(),
                detail: format!("case id {id:?} but the bag folder is {root:?}"),
            });
        }
    };
    match evidence_at.filter(|&i| hashes.flags[i] & HASHED != 0) {
        None => {
            if !hashes.unreadable(evidence_at) {
                problems.push(Problem::EvidenceInvalid {
                    detail: "missing".into(),
                });
            }
        }
        Some(i) if !loadable(i) => problems.push(Problem::EvidenceInvalid {
            detail: "too large to load".into(),
        }),
        Some(_) => {
            match &hashes.evidence {
                Some(EvidenceRead::Parsed {
                    case_id: id,
                    problems: found,
                }) => {
                    case_problem(&mut problems, id);
                    case_id = Some(id.clone());
                    problems.extend(found.iter().cloned());
                }
                // Malformed, or of a shape the fast reader leaves alone: judged while streamed
                // again, else read whole (at most MAX_METADATA_BYTES, as always), so that the
                // problem is named exactly as the whole-document parse names it.
                Some(EvidenceRead::Unsure) | None => {
                    let ev =
                        match evidence_judged(&za, evidence_at, &names, hashes, manifest.listing())
                        {
                            Err(p) => Err(p),
                            Ok(Judged::Done(j)) => Ok(j),
                            Ok(Judged::Whole) => evidence_whole(&za, evidence_at, &names, hashes)
                                .map(|bytes| match parse_evidence_index(&bytes) {
                                    Err(detail) => Err(detail),
                                    Ok(ev) => {
                                        let found = ev
                                            .items
                                            .iter()
                                            .filter_map(|item| {
                                                item_problem(item, manifest.listing(), &names)
                                            })
                                            .collect();
                                        Ok((ev.case.case_id, found))
                                    }
                                }),
                        };
                    match ev {
                        Err(p) => problems.push(p),
                        Ok(Err(detail)) => problems.push(Problem::EvidenceInvalid { detail }),
                        Ok(Ok((id, found))) => {
                            case_problem(&mut problems, &id);
                            case_id = Some(id);
                            problems.extend(found);
                        }
                    }
                }
            }
        }
    }

    // custody.jsonl parses.
    match custody_at.filter(|&i| hashes.flags[i] & HASHED != 0 && loadable(i)) {
        Some(_) => {
            if let Some(Some((line, detail))) = &hashes.custody {
                problems.push(Problem::CustodyInvalid {
                    line: *line,
                    detail: detail.clone(),
                });
            }
        }
        None if !hashes.unreadable(custody_at) => problems.push(Problem::CustodyInvalid {
            line: 0,
            detail: "missing".into(),
        }),
        None => {}
    }

    // Examiner signature.
    let mut signature = SignatureStatus::Absent;
    match (hashes.kept(signature_at), digest) {
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
        bundle: shown.to_owned(),
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
        metadata: MetadataDigests {
            evidence: hashed(evidence_at),
            custody: hashed(custody_at),
        },
    }
}

/// evidence.json as judged by [`judge_evidence_index`]: (case id, item problems), or what
/// is wrong with it.
type EvidenceJudged = Result<(String, Vec<Problem>), String>;

enum Judged {
    Done(EvidenceJudged),
    Whole,
}

/// evidence.json judged while streamed, for a document [`scan_evidence_index`] left alone. It
/// is read a second time, so its digest must still be the one the hashing stage recorded.
fn evidence_judged(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
    manifest: Option<&Listing>,
) -> Result<Judged, Problem> {
    let mut found = Vec::new();
    let judged = read_again(za, at, names, hashes, |r| {
        judge_evidence_index(r, |item| found.extend(item_problem(&item, manifest, names)))
    })?;
    Ok(match judged {
        IndexJudgement::Parsed { case_id } => Judged::Done(Ok((case_id, found))),
        IndexJudgement::Invalid(detail) => Judged::Done(Err(detail)),
        IndexJudgement::Whole => Judged::Whole,
    })
}

/// evidence.json read whole, for the rare document [`judge_evidence_index`] leaves alone.
fn evidence_whole(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
) -> Result<Vec<u8>, Problem> {
    let size = names.size(at.unwrap_or(0));
    read_again(za, at, names, hashes, |r| {
        // At most MAX_METADATA_BYTES (the caller checked): reserved once, not doubled.
        let mut bytes = Vec::with_capacity(size as usize);
        r.read_to_end(&mut bytes).map(|_| bytes)
    })
}

/// Reads entry `at` a second time through `parse`: its digest must still be the one the
/// hashing stage recorded.
fn read_again<T>(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
    parse: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<T, Problem> {
    let i = at.unwrap_or(0);
    let entry = names.name(i);
    let mut reader = za.clone();
    let mut buf = vec![0u8; 64 << 10];
    let (digest, parsed) = read_entry(&mut reader, i, &entry, names.size(i), &mut buf, parse)?;
    if digest != hashes.digests[i] {
        return Err(Problem::EntryUnreadable {
            entry,
            message: "changed while being verified".into(),
        });
    }
    Ok(parsed)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
