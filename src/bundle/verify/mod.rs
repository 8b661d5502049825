//! Verifying a bundle from the zip alone, in named phases: structure (every byte of the zip
//! accounted for, and the zip library reading exactly those records), hashing, tag files,
//! manifests, evidence, custody and signature. Every problem is a typed [`Problem`] naming the
//! file. [`verify_file`] is the orchestrator; each phase is a module.

pub(crate) mod bag;
mod custody;
mod entries;
mod evidence;
mod hashing;
mod manifests;
mod problem;
mod signature;
pub mod structure;
mod tag_files;
mod timestamp;

pub use problem::{Problem, ProblemClass, Warning};

use crate::bundle::bagit::{BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME, TAG_MANIFEST_NAME};
use crate::bundle::reader::MAX_METADATA_BYTES;
use crate::bundle::reader::{find_root, MAX_ENTRIES};
use crate::bundle::signature::SIGNATURE_NAME;
use crate::bundle::timestamp::TIMESTAMP_NAME;
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::hashing::HashingReader;
use crate::io::pread::PreadFile;
use crate::model::digest::Sha256Digest;
use ed25519_dalek::VerifyingKey;
use evidence::EvidenceRead;
use manifests::ManifestRead;
use serde::Serialize;
use std::io::{self, Read};
use std::path::Path;
use structure::Strictness;
use zip::ZipArchive;

/// What to check beyond integrity.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The examiner's public key: the bundle must carry a valid signature by it.
    pub examiner_key: Option<VerifyingKey>,
    /// The digest recorded at collection time: the bundle digest must equal it.
    pub expect_digest: Option<Sha256Digest>,
    /// `--tsa-cert`: certificates (DER) the TSA certificate of the bundle's timestamp must
    /// chain to; the bundle must then carry a timestamp that verifies.
    pub tsa_anchors: Option<Vec<Vec<u8>>>,
}

/// Overall result; decides the exit code (0, 1, 2).
#[derive(schemars::JsonSchema, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Complete and unaltered (and signed by the examiner key, when one was given).
    Intact,
    /// Something was changed, added, removed or does not agree.
    Altered,
    /// Not a zip, or no bag in it.
    Unreadable,
    /// A bag another tool made that is not valid BagIt (RFC 8493): its manifests may agree
    /// with its bytes, but it is not a bag as written.
    Invalid,
    /// A valid bag whose fetch.txt lists files not fetched yet: never intact.
    Incomplete,
}

/// Where the bag was found.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Layout {
    /// A directory holding bagit.txt.
    Directory,
    /// A zip with bagit.txt at its root.
    ZipRoot,
    /// A zip with one top folder holding the bag (the layout our writer uses).
    ZipFolder { folder: String },
}

/// Whose bag it is, which decides the checks made on top of BagIt.
#[derive(schemars::JsonSchema, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BagKind {
    /// A wsc-forensics bundle (bag-info.txt says so, or it holds our files): every bundle
    /// check (canonical zip layout, evidence, custody, signature) on top of BagIt.
    WscBundle,
    /// A bag another tool made: RFC 8493 only.
    GenericBag,
}

/// The examiner signature, as found.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
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

/// The trusted timestamp (RFC 3161, `bundle-timestamp.tsr`), as found.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum TimestampStatus {
    /// No timestamp in the bundle.
    Absent,
    /// A token over this bundle's digest, but no `--tsa-cert` to verify its signature and
    /// authority against: it proves nothing yet (informational, not a failure).
    NotVerified,
    /// Verified against `--tsa-cert`: the TSA attests the bundle digest existed at `gen_time`.
    Verified {
        /// genTime of the token (RFC 3339, UTC).
        gen_time: String,
        /// Subject of the TSA certificate.
        tsa: String,
        /// The TSA's serial number for the token (hex) and its policy OID.
        serial: String,
        policy: String,
    },
    /// Present but failing a check (named in `problems`).
    Invalid,
}

/// The full result of [`verify_bundle`] (the `--json` document).
#[derive(schemars::JsonSchema, Serialize, Clone, Debug)]
pub struct VerifyReport {
    pub bundle: String,
    pub verdict: Verdict,
    /// Where the bag was found (absent when none was).
    pub layout: Option<Layout>,
    /// Whose bag it is (absent when no bag was found).
    pub kind: Option<BagKind>,
    /// bagit.txt's BagIt-Version, as the bag wrote it (absent when it could not be read).
    pub bagit_version: Option<String>,
    /// SHA-256 of tagmanifest-sha256.txt (absent when it could not be read).
    pub digest: Option<Sha256Digest>,
    pub case_id: Option<String>,
    pub entries: usize,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub signature: SignatureStatus,
    pub timestamp: TimestampStatus,
    pub problems: Vec<Problem>,
    /// What the bag does that the BagIt conformance suite warns of; not failures.
    pub warnings: Vec<Warning>,
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
    /// Process exit code: 0 intact, 1 altered, invalid or incomplete, 2 not a readable bag.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Intact => 0,
            Verdict::Altered | Verdict::Invalid | Verdict::Incomplete => 1,
            Verdict::Unreadable => 2,
        }
    }
}

fn unreadable(shown: &str, problem: Problem) -> VerifyReport {
    VerifyReport {
        bundle: shown.to_owned(),
        verdict: Verdict::Unreadable,
        layout: None,
        kind: None,
        bagit_version: None,
        warnings: Vec::new(),
        digest: None,
        case_id: None,
        entries: 0,
        payload_files: 0,
        payload_bytes: 0,
        signature: SignatureStatus::Absent,
        timestamp: TimestampStatus::Absent,
        problems: vec![problem],
        metadata: MetadataDigests::default(),
    }
}

/// Verifies the bundle at `bundle`. Never panics on hostile input; every finding is a problem.
///
/// Memory stays flat in the size of the metadata: the manifests, evidence.json and
/// custody.jsonl are parsed while they are hashed, never held whole, and per entry only a
/// digest and a few flags are kept beside the zip crate's central directory.
pub fn verify_bundle(bundle: &Path, opts: &VerifyOptions) -> VerifyReport {
    let shown = bundle.display().to_string();
    if std::fs::metadata(bundle).is_ok_and(|m| m.is_dir()) {
        return verify_dir(bundle, &shown, opts);
    }
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

/// Verifies the bag in the zip open as `file` (`shown` names it in the report): ours get every
/// bundle check, a bag another tool made RFC 8493's. Callers that go on to read the bundle read
/// through this same handle, so what was verified is what they read.
pub fn verify_file(file: &PreadFile, shown: &str, opts: &VerifyOptions) -> VerifyReport {
    let (za, found) = match open_zip(file) {
        Ok(z) => z,
        Err(problem) => {
            // What the structural pass finds says where and why the zip library gave up.
            let mut report = unreadable(shown, problem);
            report
                .problems
                .extend(structure::check(file, Strictness::Canonical).problems);
            return report;
        }
    };
    match found {
        Found::Folder(root) if is_ours(&za, &format!("{root}/")) => {
            verify_ours(file, za, root, shown, opts)
        }
        Found::Folder(root) => {
            let prefix = format!("{root}/");
            verify_zip_generic(
                file,
                za,
                &prefix,
                Layout::ZipFolder { folder: root },
                shown,
                opts,
            )
        }
        Found::Root => verify_zip_generic(file, za, "", Layout::ZipRoot, shown, opts),
    }
}

/// Our bundle: every phase, then the BagIt checks the phases do not make (manifests of other
/// algorithms, fetch.txt), only when such files are there.
fn verify_ours(
    file: &PreadFile,
    mut za: Zip,
    root: String,
    shown: &str,
    opts: &VerifyOptions,
) -> VerifyReport {
    let layout = structure::check(file, Strictness::Canonical);
    let prefix = format!("{root}/");
    let mut problems = layout.problems.clone();
    let flags = entries::entry_types(
        &mut za,
        &layout,
        &prefix,
        &mut problems,
        Strictness::Canonical,
    );
    // Its records (a raw name each) have been compared; the hashing phase needs none of them.
    drop(layout);
    let names = Names {
        za: &za,
        prefix: &prefix,
    };
    let at = Located::find(&names, &flags);
    let hashes = hashing::hash_entries(&za, &names, &at, flags, &mut problems);
    let bagit_version = tag_files::check_bagit(&hashes, &at, &mut problems);
    let (payload_files, payload_bytes) = tag_files::payload(&hashes, &names);
    let external_id =
        tag_files::check_bag_info(&hashes, &at, (payload_files, payload_bytes), &mut problems);
    manifests::check(&hashes, &names, &at, &mut problems);
    if has_other_bagit_files(&za, &prefix) {
        let accepted = (0..hashes.flags.len()).filter(|&i| hashes.flags[i] & ACCEPTED != 0);
        let source = bag::source::ZipBag::new(&za, &prefix, accepted);
        problems.extend(bag::check(&source, bag::Scope::BesidesOurs).problems);
    }
    let hashed = |at: Option<usize>| {
        at.filter(|&i| hashes.flags[i] & HASHED != 0)
            .map(|i| hashes.digests[i])
    };
    let digest = hashed(at.tag_manifest);
    let case_id = evidence::check(&za, &names, &hashes, &at, &root, &mut problems);
    custody::check(&hashes, &names, &at, &mut problems);
    let signature = signature::check(&hashes, &at, digest, opts, &mut problems);
    let timestamp = timestamp::check(&hashes, &at, digest, opts, &mut problems);
    VerifyReport {
        bundle: shown.to_owned(),
        verdict: if problems.is_empty() {
            Verdict::Intact
        } else {
            Verdict::Altered
        },
        layout: Some(Layout::ZipFolder { folder: root }),
        kind: Some(BagKind::WscBundle),
        bagit_version,
        digest,
        case_id: case_id.or(external_id),
        entries: za.len(),
        payload_files,
        payload_bytes,
        signature,
        timestamp,
        problems,
        warnings: Vec::new(),
        metadata: MetadataDigests {
            evidence: hashed(at.evidence),
            custody: hashed(at.custody),
        },
    }
}

/// A bag another tool zipped: the layout rules every reader agrees on, then RFC 8493.
fn verify_zip_generic(
    file: &PreadFile,
    mut za: Zip,
    prefix: &str,
    layout: Layout,
    shown: &str,
    opts: &VerifyOptions,
) -> VerifyReport {
    let structure = structure::check(file, Strictness::Foreign);
    let mut problems = structure.problems.clone();
    let flags = entries::entry_types(
        &mut za,
        &structure,
        prefix,
        &mut problems,
        Strictness::Foreign,
    );
    drop(structure);
    let accepted = (0..flags.len()).filter(|&i| flags[i] & ACCEPTED != 0);
    let source = bag::source::ZipBag::new(&za, prefix, accepted);
    let out = bag::check(&source, bag::Scope::Full);
    if prefix.is_empty() && claims_ours(out.agent.as_deref()) {
        problems.push(Problem::BundleClaim {
            detail: "the bag is at the zip root; a bundle holds it in one case folder".into(),
        });
    }
    generic_report(shown, layout, za.len(), problems, out, opts)
}

/// A bag directory: RFC 8493 over its files, walked without following links.
fn verify_dir(dir: &Path, shown: &str, opts: &VerifyOptions) -> VerifyReport {
    let (source, mut problems) = bag::source::DirBag::walk(dir);
    let out = bag::check(&source, bag::Scope::Full);
    if claims_ours(out.agent.as_deref()) {
        problems.push(Problem::BundleClaim {
            detail: "it is a directory: a bundle is verified as the zip it was written as".into(),
        });
    }
    let files = bag::source::BagSource::files(&source).len();
    generic_report(shown, Layout::Directory, files, problems, out, opts)
}

/// bag-info.txt's Bag-Software-Agent names this tool.
fn claims_ours(agent: Option<&str>) -> bool {
    agent.is_some_and(|a| a.trim_start().starts_with("wsc-forensics"))
}

fn generic_report(
    shown: &str,
    layout: Layout,
    entries: usize,
    mut problems: Vec<Problem>,
    out: bag::Outcome,
    opts: &VerifyOptions,
) -> VerifyReport {
    problems.extend(out.problems);
    if opts.examiner_key.is_some() {
        problems.push(Problem::BundleOnly {
            option: "--examiner-key".into(),
        });
    }
    if opts.expect_digest.is_some() {
        problems.push(Problem::BundleOnly {
            option: "--expect-digest".into(),
        });
    }
    if opts.tsa_anchors.is_some() {
        problems.push(Problem::BundleOnly {
            option: "--tsa-cert".into(),
        });
    }
    let has = |c: ProblemClass| problems.iter().any(|p| p.class() == c);
    let verdict = if problems.is_empty() {
        Verdict::Intact
    } else if has(ProblemClass::Altered) {
        Verdict::Altered
    } else if has(ProblemClass::Invalid) {
        Verdict::Invalid
    } else {
        Verdict::Incomplete
    };
    VerifyReport {
        bundle: shown.to_owned(),
        verdict,
        layout: Some(layout),
        kind: Some(BagKind::GenericBag),
        bagit_version: out.version,
        digest: None,
        case_id: out.external_id,
        entries,
        payload_files: out.payload_files,
        payload_bytes: out.payload_bytes,
        signature: SignatureStatus::Absent,
        timestamp: TimestampStatus::Absent,
        problems,
        warnings: out.warnings,
        metadata: MetadataDigests::default(),
    }
}

/// Where the bag is in a zip.
enum Found {
    Root,
    Folder(String),
}

/// The archive and where its bag is, or why it is not a readable bag.
fn open_zip(file: &PreadFile) -> Result<(Zip, Found), Problem> {
    let za = ZipArchive::new(file.clone()).map_err(|e| Problem::NotReadable {
        message: format!("not a zip archive: {e}"),
    })?;
    if za.len() > MAX_ENTRIES {
        let (count, max) = (za.len(), MAX_ENTRIES);
        return Err(Problem::TooManyEntries { count, max });
    }
    if za.index_for_name_raw(BAGIT_TXT_NAME.as_bytes()).is_some() {
        return Ok((za, Found::Root));
    }
    let root = find_root(za.file_names_raw()).map_err(|roots| Problem::NoBagFolder { roots })?;
    Ok((za, Found::Folder(root)))
}

/// Whether the bag under `prefix` is ours: bag-info.txt's Bag-Software-Agent says so; with no
/// agent named (or no readable bag-info.txt), whether it holds one of our files.
fn is_ours(za: &Zip, prefix: &str) -> bool {
    let index = |rel: &str| za.index_for_name_raw(format!("{prefix}{rel}").as_bytes());
    let mut agent = None;
    if let Some(i) = index(BAG_INFO_NAME) {
        let mut za = za.clone();
        let bytes = za.by_index(i).ok().and_then(|f| {
            let mut bytes = Vec::new();
            f.take(64 << 10).read_to_end(&mut bytes).ok().map(|_| bytes)
        });
        if let Some(bytes) = bytes {
            let text = String::from_utf8_lossy(&bytes);
            agent = crate::bundle::bagit::parse_bag_info(&text)
                .ok()
                .and_then(|tags| {
                    tags.into_iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("Bag-Software-Agent"))
                        .map(|(_, v)| v)
                });
        }
    }
    match agent {
        Some(a) => claims_ours(Some(&a)),
        None => [EVIDENCE_PATH, CUSTODY_PATH, SIGNATURE_NAME, TIMESTAMP_NAME]
            .iter()
            .any(|rel| index(rel).is_some()),
    }
}

/// Whether the bag folder holds BagIt files our phases do not read: a manifest or tag manifest
/// of another algorithm, or fetch.txt (names only, no per-entry memory).
fn has_other_bagit_files(za: &Zip, prefix: &str) -> bool {
    za.file_names_raw().any(|n| {
        let Some(rel) = n.strip_prefix(prefix.as_bytes()) else {
            return false;
        };
        let Ok(rel) = std::str::from_utf8(rel) else {
            return false;
        };
        rel == bag::FETCH_NAME
            || ((rel.starts_with("manifest-") || rel.starts_with("tagmanifest-"))
                && rel.ends_with(".txt")
                && !rel.contains('/')
                && rel != MANIFEST_NAME
                && rel != TAG_MANIFEST_NAME)
    })
}

// The entry table every phase reads: the archive type, the bag's named files by zip index,
// each entry's role flags and, once hashed, its digest and kept bytes.

type Zip = ZipArchive<PreadFile>;

/// The bag's named files, by zip index (accepted entries only).
struct Located {
    pub manifest: Option<usize>,
    pub tag_manifest: Option<usize>,
    pub evidence: Option<usize>,
    pub custody: Option<usize>,
    pub bagit: Option<usize>,
    pub bag_info: Option<usize>,
    pub signature: Option<usize>,
    pub timestamp: Option<usize>,
}

impl Located {
    pub fn find(names: &Names, flags: &[u8]) -> Self {
        let at = |rel: &str| names.index(rel).filter(|&i| flags[i] & ACCEPTED != 0);
        Located {
            manifest: at(MANIFEST_NAME),
            tag_manifest: at(TAG_MANIFEST_NAME),
            evidence: at(EVIDENCE_PATH),
            custody: at(CUSTODY_PATH),
            bagit: at(BAGIT_TXT_NAME),
            bag_info: at(BAG_INFO_NAME),
            signature: at(SIGNATURE_NAME),
            timestamp: at(TIMESTAMP_NAME),
        }
    }
}

/// Metadata entries small enough to parse (the rest are hashed only, and named too large).
fn loadable(names: &Names, i: usize) -> bool {
    names.size(i) <= MAX_METADATA_BYTES
}

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
    pub za: &'a Zip,
    pub prefix: &'a str,
}

impl Names<'_> {
    pub fn index(&self, rel: &str) -> Option<usize> {
        let mut name = String::with_capacity(self.prefix.len() + rel.len());
        name.push_str(self.prefix);
        name.push_str(rel);
        self.za.index_for_name_raw(name.as_bytes())
    }

    /// The zip entry name of entry `index`.
    pub fn name(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| String::from_utf8_lossy(e.name_raw()).into_owned())
            .unwrap_or_default()
    }

    /// The bag path of entry `index` (its name less the bag folder).
    pub fn rel(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| {
                let raw = e.name_raw();
                String::from_utf8_lossy(raw.get(self.prefix.len()..).unwrap_or(raw)).into_owned()
            })
            .unwrap_or_default()
    }

    pub fn size(&self, index: usize) -> u64 {
        self.za.by_index_data(index).map_or(0, |e| e.size())
    }
}

/// Per-entry flags.
const ACCEPTED: u8 = 1;
const PAYLOAD: u8 = 2;
const HASHED: u8 = 4;
const UNREADABLE: u8 = 8;

/// Results of the hashing stage, per entry (by zip index).
struct Hashes {
    pub flags: Vec<u8>,
    pub digests: Vec<Sha256Digest>,
    /// Entries that could not be read, by zip index.
    pub problems: Vec<(usize, Problem)>,
    /// Bytes of the small tag files (bagit.txt, bag-info.txt, the signature, the timestamp), kept to be
    /// parsed next; the big metadata files are parsed while hashed instead.
    pub kept: Vec<(usize, Vec<u8>)>,
    pub evidence: Option<EvidenceRead>,
    pub custody: Option<Option<(usize, String)>>,
    pub manifest: ManifestRead,
    pub tag_manifest: ManifestRead,
}

impl Hashes {
    pub fn record<T>(&mut self, index: usize, r: Result<(Sha256Digest, T), Problem>) -> Option<T> {
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

    pub fn unreadable(&self, index: Option<usize>) -> bool {
        index.is_some_and(|i| self.flags[i] & UNREADABLE != 0)
    }

    pub fn kept(&self, index: Option<usize>) -> Option<&[u8]> {
        let i = index?;
        self.kept
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, b)| b.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
