//! Reading a bundle without unpacking it: locate the bag folder, stream any entry by its bag
//! path, load the evidence model and custody record ([`open_bundle`]), and read the evidence
//! index as it streams, in a window of any document's size ([`scan_evidence_index`],
//! [`judge_evidence_index`], for verify). Reading is not verifying: call
//! [`crate::bundle::verify_bundle`] to know the bundle is intact.

use crate::bundle::bagit::TAG_MANIFEST_NAME;
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::hashing::{sha256_stream, HashingReader};
use crate::io::pread::PreadFile;
use crate::model::custody::CustodyEvent;
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{Evidence, SCHEMA_VERSION};
use std::io::Read;
use std::path::{Path, PathBuf};
use zip::ZipArchive;

/// Most entries a bundle may have before it is refused as not ours.
pub const MAX_ENTRIES: usize = 1_000_000;
/// Largest metadata entry (evidence.json, custody.jsonl, tag files) loaded into memory.
pub const MAX_METADATA_BYTES: u64 = 512 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: changed between verification and reading; nothing read from it is used")]
    ChangedSinceVerified { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable zip archive: {message}")]
    NotZip { path: PathBuf, message: String },
    /// A bag that verify read as another tool's (generic BagIt), not one of our bundles.
    #[error("{path}: a generic BagIt bag (bag-info.txt does not name wsc-forensics), not a wsc-forensics bundle")]
    GenericBag { path: PathBuf },
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
    archive: ZipArchive<PreadFile>,
    path: PathBuf,
    root: String,
}

impl BundleReader {
    pub fn open(path: &Path) -> Result<Self, BundleError> {
        let file = PreadFile::open(path).map_err(|e| BundleError::Io {
            path: path.to_owned(),
            source: e,
        })?;
        Self::from_file(file, path)
    }

    /// Reads the bundle through `file`, an already open handle (the one that was verified);
    /// `path` only names it in errors.
    pub fn from_file(file: PreadFile, path: &Path) -> Result<Self, BundleError> {
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
        self.read_entry_hashed(bag_path, max)
            .map(|(bytes, _)| bytes)
    }

    /// Reads a whole entry of at most `max` bytes, and the SHA-256 of what was read.
    pub fn read_entry_hashed(
        &mut self,
        bag_path: &str,
        max: u64,
    ) -> Result<(Vec<u8>, Sha256Digest), BundleError> {
        let path = self.path.clone();
        let mut r = HashingReader::new(self.entry_reader(bag_path)?);
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
        Ok((out, r.finish().0))
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

/// What [`BundleReader::stream_evidence_index`] hands on.
#[derive(Debug)]
pub enum IndexEvent {
    /// The next item of evidence.json, in document order.
    Item(ItemIndex),
    /// Forget every item handed on so far: they come again, from the start (the fast reader
    /// was unsure of the document, and a slower one reads it again).
    Restart,
}

impl BundleReader {
    /// A metadata entry as a stream of at most [`MAX_METADATA_BYTES`] + 1 bytes (one more
    /// tells that it is over the limit, as [`Self::read_entry`] would).
    fn metadata_stream(
        &mut self,
        entry: &str,
    ) -> Result<std::io::BufReader<std::io::Take<impl Read + '_>>, BundleError> {
        let r = self.entry_reader(entry)?;
        Ok(std::io::BufReader::with_capacity(
            64 << 10,
            r.take(MAX_METADATA_BYTES + 1),
        ))
    }

    fn metadata_error(&self, entry: &str, e: std::io::Error) -> BundleError {
        BundleError::Entry {
            path: self.path.clone(),
            entry: entry.to_owned(),
            message: e.to_string(),
        }
    }

    fn metadata_too_large(&self, entry: &str) -> BundleError {
        BundleError::TooLarge {
            path: self.path.clone(),
            entry: entry.to_owned(),
            size: MAX_METADATA_BYTES + 1,
            max: MAX_METADATA_BYTES,
        }
    }

    /// Streams the index of evidence.json, handing each item on as it is read, and returns
    /// the case id; the schema version and every item are judged as [`parse_evidence_index`]
    /// judges them, and an error names what is wrong as that parse names it. The fast
    /// streaming reader ([`scan_evidence_index`]) reads our bundles; a document it is unsure
    /// of is read again by the streaming judge ([`judge_evidence_index`]) and, when that too
    /// leaves it alone, whole (at most [`MAX_METADATA_BYTES`]), each time after an
    /// [`IndexEvent::Restart`].
    pub fn stream_evidence_index(
        &mut self,
        mut on_event: impl FnMut(IndexEvent),
    ) -> Result<String, BundleError> {
        let evidence_error = |path: &Path, message: String| BundleError::Evidence {
            path: path.to_owned(),
            message,
        };
        let mut input = self.metadata_stream(EVIDENCE_PATH)?;
        let scan = scan_evidence_index(&mut input, |i| on_event(IndexEvent::Item(i)));
        let over = input.into_inner().limit() == 0;
        let scan = scan.map_err(|e| self.metadata_error(EVIDENCE_PATH, e))?;
        if over {
            return Err(self.metadata_too_large(EVIDENCE_PATH));
        }
        if let IndexScan::Parsed { case_id } = scan {
            return Ok(case_id);
        }
        on_event(IndexEvent::Restart);
        let input = self.metadata_stream(EVIDENCE_PATH)?;
        let judged = judge_evidence_index(input, |i| on_event(IndexEvent::Item(i)))
            .map_err(|e| self.metadata_error(EVIDENCE_PATH, e))?;
        match judged {
            IndexJudgement::Parsed { case_id } => Ok(case_id),
            IndexJudgement::Invalid(message) => Err(evidence_error(&self.path, message)),
            IndexJudgement::Whole => {
                on_event(IndexEvent::Restart);
                let bytes = self.read_entry(EVIDENCE_PATH, MAX_METADATA_BYTES)?;
                let index = parse_evidence_index(&bytes)
                    .map_err(|message| evidence_error(&self.path, message))?;
                drop(bytes);
                index
                    .items
                    .into_iter()
                    .for_each(|i| on_event(IndexEvent::Item(i)));
                Ok(index.case.case_id)
            }
        }
    }

    /// Checks custody.jsonl line by line with the one custody reader, without holding it.
    pub fn check_custody(&mut self) -> Result<(), BundleError> {
        let mut input = self.metadata_stream(CUSTODY_PATH)?;
        let checked = read_custody_events(&mut input, |_| {});
        let over = input.into_inner().limit() == 0;
        let checked = checked.map_err(|e| self.metadata_error(CUSTODY_PATH, e))?;
        if over {
            return Err(self.metadata_too_large(CUSTODY_PATH));
        }
        checked.map_err(|(line, message)| BundleError::Custody {
            path: self.path.clone(),
            line,
            message,
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

/// The index of evidence.json: the case id and, per item, its source, kind, where it is in the
/// bag and its digest (what `verify` and `scope` need). Analyses are skipped while parsing, so a
/// bundle of 100,000 items is read in little memory.
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
    pub source: crate::model::evidence::RecordedPath,
    pub kind: crate::model::evidence::ItemKind,
    pub sha256: Sha256Digest,
    #[serde(default)]
    pub bag_path: Option<String>,
}

/// Parses the [`EvidenceIndex`] of evidence.json (after checking its schema version).
pub fn parse_evidence_index(bytes: &[u8]) -> Result<EvidenceIndex, String> {
    check_schema_version(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Largest single value (one item, or a top-level field other than an array) that
/// [`scan_evidence_index`] holds at once; a bundle this tool wrote has none near it.
const MAX_STREAMED_VALUE: usize = 4 << 20;
/// Deepest nesting [`scan_evidence_index`] follows. serde_json refuses past 128 levels, so a
/// document deeper than this is left to [`parse_evidence_index`] to judge.
const MAX_STREAMED_DEPTH: usize = 100;
/// Bytes read from the source at a time.
const STREAM_WINDOW: usize = 1 << 20;

/// How [`scan_evidence_index`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum IndexScan {
    /// The document parses: [`parse_evidence_index`] would return this case id and exactly the
    /// items passed on, in that order.
    Parsed { case_id: String },
    /// The document is not the plain shape the streaming reader follows (malformed, a schema
    /// version this build does not read, a duplicate or missing field, a value over
    /// `MAX_STREAMED_VALUE` (4 MiB), nesting over `MAX_STREAMED_DEPTH` (100)…), and the items
    /// passed on mean nothing: judge it with [`judge_evidence_index`] or parse it whole with
    /// [`parse_evidence_index`] to know what is wrong.
    Unsure,
}

/// Reads evidence.json from `src` as [`parse_evidence_index`] reads it from memory, passing on
/// each item as soon as it is read, in a window of about a megabyte whatever the document's
/// size: a 100,000-item evidence.json (~300 MB) is never held whole.
///
/// The top-level object and each array directly under it are split here; every value
/// between the punctuation (each item, `case`, `schema_version`, any other field) is handed
/// to serde_json as its own slice, so each is judged by the same parser, types and limits as
/// the whole-document parse. The split only ever answers [`IndexScan::Parsed`] when that parse
/// would succeed with the same result; anything else is [`IndexScan::Unsure`].
pub fn scan_evidence_index<R: Read>(
    src: R,
    mut on_item: impl FnMut(ItemIndex),
) -> std::io::Result<IndexScan> {
    let mut w = Window::new(src);
    Ok(match scan_top_level(&mut w, &mut on_item)? {
        Some(case_id) => IndexScan::Parsed { case_id },
        None => IndexScan::Unsure,
    })
}

/// The top-level object: `Some(case id)` when every field is as [`parse_evidence_index`] wants.
fn scan_top_level<R: Read>(
    w: &mut Window<R>,
    on_item: &mut dyn FnMut(ItemIndex),
) -> std::io::Result<Option<String>> {
    if w.peek()? != Some(b'{') {
        return Ok(None);
    }
    w.pos += 1;
    let (mut version, mut case, mut items) = (false, None::<String>, false);
    if w.peek()? == Some(b'}') {
        return Ok(None);
    }
    loop {
        if w.peek()? != Some(b'"') {
            return Ok(None);
        }
        let Some(key) = w.value::<String>(1)? else {
            return Ok(None);
        };
        if w.peek()? != Some(b':') {
            return Ok(None);
        }
        w.pos += 1;
        let parsed = match (key.as_str(), w.peek()?) {
            (_, None) => false,
            // Duplicates are errors of the derived parsers (`Version`, `EvidenceIndex`).
            ("schema_version" | "case" | "items", _)
                if (key == "schema_version" && version)
                    || (key == "case" && case.is_some())
                    || (key == "items" && items) =>
            {
                false
            }
            ("schema_version", _) => {
                version = w.value::<Option<u64>>(1)? == Some(Some(SCHEMA_VERSION as u64));
                version
            }
            ("case", _) => {
                case = w.value::<CaseIdOnly>(1)?.map(|c| c.case_id);
                case.is_some()
            }
            ("items", Some(b'[')) => {
                items = true;
                w.elements::<ItemIndex>(&mut |item| on_item(item))?
            }
            ("items", _) => false,
            (_, Some(b'[')) => w.elements::<serde::de::IgnoredAny>(&mut |_| {})?,
            (_, _) => w.value::<serde::de::IgnoredAny>(1)?.is_some(),
        };
        if !parsed {
            return Ok(None);
        }
        match w.peek()? {
            Some(b',') => w.pos += 1,
            Some(b'}') => {
                w.pos += 1;
                break;
            }
            _ => return Ok(None),
        }
    }
    // Only whitespace may follow the object.
    if w.peek()?.is_some() || !version || !items {
        return Ok(None);
    }
    Ok(case)
}

/// A sliding window over a reader, for [`scan_evidence_index`].
struct Window<R> {
    src: R,
    buf: Vec<u8>,
    /// Unread bytes are `buf[pos..end]`.
    pos: usize,
    end: usize,
    eof: bool,
    /// Closing brackets expected while finding the end of a value.
    closers: Vec<u8>,
    /// Offset in the document of `buf[0]`, newlines before it, and the offset just past the
    /// last of them: for the line and column of an error.
    base: usize,
    lines_before: usize,
    line_start: usize,
}

enum Extent {
    /// The value is `buf[pos..pos + len]`.
    Ends(usize),
    NeedMore,
    Invalid,
}

impl<R: Read> Window<R> {
    fn new(src: R) -> Self {
        Window {
            src,
            buf: vec![0; STREAM_WINDOW],
            pos: 0,
            end: 0,
            eof: false,
            closers: Vec::new(),
            base: 0,
            lines_before: 0,
            line_start: 0,
        }
    }

    /// Reads more after `end`, first moving the unread bytes to the front and growing the
    /// buffer when they fill it. False at the end of the input, or when one value would
    /// outgrow `MAX_STREAMED_VALUE` (4 MiB).
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            let gone = &self.buf[..self.pos];
            self.lines_before += gone.iter().filter(|&&b| b == b'\n').count();
            if let Some(k) = gone.iter().rposition(|&b| b == b'\n') {
                self.line_start = self.base + k + 1;
            }
            self.base += self.pos;
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            if self.buf.len() >= MAX_STREAMED_VALUE {
                return Ok(false);
            }
            self.buf
                .resize((self.buf.len() * 2).min(MAX_STREAMED_VALUE), 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next byte after JSON whitespace (not consumed), `None` at the end of the input.
    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            while self.pos < self.end {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    b => return Ok(Some(b)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Parses the value starting at `pos` (after [`Self::peek`]), nested `depth` levels deep
    /// in the document, with serde_json, and moves past it.
    fn value<T: serde::de::DeserializeOwned>(
        &mut self,
        depth: usize,
    ) -> std::io::Result<Option<T>> {
        loop {
            match value_extent(&self.buf[self.pos..self.end], depth, &mut self.closers) {
                Extent::Ends(len) => {
                    let v = serde_json::from_slice(&self.buf[self.pos..self.pos + len]).ok();
                    self.pos += len;
                    return Ok(v);
                }
                Extent::Invalid => return Ok(None),
                Extent::NeedMore => {
                    if !self.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Parses each element of the array at `pos` (a top-level field's value) and moves past
    /// it; false when the array or an element is not valid.
    fn elements<T: serde::de::DeserializeOwned>(
        &mut self,
        each: &mut dyn FnMut(T),
    ) -> std::io::Result<bool> {
        self.pos += 1; // `[`
        if self.peek()? == Some(b']') {
            self.pos += 1;
            return Ok(true);
        }
        loop {
            if self.peek()?.is_none() {
                return Ok(false);
            }
            match self.value::<T>(2)? {
                Some(v) => each(v),
                None => return Ok(false),
            }
            match self.peek()? {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(true);
                }
                _ => return Ok(false),
            }
        }
    }
}

/// What [`judge_evidence_index`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum IndexJudgement {
    /// As [`IndexScan::Parsed`].
    Parsed { case_id: String },
    /// [`parse_evidence_index`] would fail with exactly this message.
    Invalid(String),
    /// Not judged while streaming (a fault in the top-level object's own punctuation, a
    /// duplicate or missing field, `items` not an array, a value over `MAX_STREAMED_VALUE`
    /// (4 MiB)): parse it whole with [`parse_evidence_index`].
    Whole,
}

/// Reads evidence.json from `src` as [`parse_evidence_index`] reads it from memory, error
/// included, in a window whatever the document's size (slower than [`scan_evidence_index`],
/// which verify tries first). That parse is two passes over the whole document, the schema
/// check (every value skipped as `IgnoredAny`) then the typed index: its error is the first
/// error of the first pass, else a schema version problem, else the first error of the
/// second. Here both run on each value in turn, each on the window from that value on (so
/// serde_json sees the same bytes ahead, and the skipping pass has no depth limit either),
/// and the line and column of an error are moved from the window to the document.
pub fn judge_evidence_index<R: Read>(
    src: R,
    mut on_item: impl FnMut(ItemIndex),
) -> std::io::Result<IndexJudgement> {
    let mut w = Window::new(src);
    judge_top_level(&mut w, &mut on_item)
}

/// A value parsed from the window: the value and the bytes it took, or the document's error.
enum Judged<T> {
    Value(T, usize),
    Error(String),
    Whole,
}

fn judge_top_level<R: Read>(
    w: &mut Window<R>,
    on_item: &mut dyn FnMut(ItemIndex),
) -> std::io::Result<IndexJudgement> {
    use serde::de::IgnoredAny;
    use IndexJudgement::{Invalid, Whole};
    macro_rules! value {
        ($t:ty) => {
            match w.judge::<$t>()? {
                Judged::Value(v, len) => (v, len),
                Judged::Error(e) => return Ok(Invalid(e)),
                Judged::Whole => return Ok(Whole),
            }
        };
    }
    // The first error of the typed pass, which counts only if the skipping pass finds none.
    let mut typed_error: Option<String> = None;
    let (mut version, mut case, mut items) = (None::<Option<u64>>, None::<String>, false);
    if w.peek()? != Some(b'{') {
        return Ok(Whole);
    }
    w.pos += 1;
    if w.peek()? == Some(b'}') {
        return Ok(Whole);
    }
    loop {
        if w.peek()? != Some(b'"') {
            return Ok(Whole);
        }
        let (key, len) = value!(String);
        w.pos += len;
        if w.peek()? != Some(b':') {
            return Ok(Whole);
        }
        w.pos += 1;
        let first = w.peek()?;
        match key.as_str() {
            "schema_version" | "case" | "items"
                if (key == "schema_version" && version.is_some())
                    || (key == "case" && case.is_some())
                    || (key == "items" && items) =>
            {
                return Ok(Whole)
            }
            "schema_version" => {
                let (v, len) = value!(Option<u64>);
                version = Some(v);
                w.pos += len;
            }
            "items" if first == Some(b'[') => {
                items = true;
                w.pos += 1;
                let mut first_element = true;
                loop {
                    // The skipping pass's list punctuation (serde_json's `ignore_value`).
                    let at = w.peek()?;
                    match at {
                        Some(b']') if first_element => {
                            w.pos += 1;
                            break;
                        }
                        None if first_element => {
                            return Ok(Invalid(w.error_at_end("EOF while parsing a list")))
                        }
                        _ => {}
                    }
                    let (_, len) = value!(IgnoredAny);
                    if typed_error.is_none() {
                        match w.judge::<ItemIndex>()? {
                            Judged::Value(item, _) => on_item(item),
                            Judged::Error(e) => typed_error = Some(e),
                            Judged::Whole => return Ok(Whole),
                        }
                    }
                    w.pos += len;
                    first_element = false;
                    match w.peek()? {
                        Some(b',') => w.pos += 1,
                        Some(b']') => {
                            w.pos += 1;
                            break;
                        }
                        Some(_) => {
                            return Ok(Invalid(w.error_after_peek("expected `,` or `]`")));
                        }
                        None => return Ok(Invalid(w.error_at_end("EOF while parsing a list"))),
                    }
                }
            }
            "items" => return Ok(Whole),
            "case" => {
                let (_, len) = value!(IgnoredAny);
                if typed_error.is_none() {
                    match w.judge::<CaseIdOnly>()? {
                        Judged::Value(c, _) => case = Some(c.case_id),
                        Judged::Error(e) => typed_error = Some(e),
                        Judged::Whole => return Ok(Whole),
                    }
                } else {
                    case = Some(String::new());
                }
                w.pos += len;
            }
            _ => {
                let (_, len) = value!(IgnoredAny);
                w.pos += len;
            }
        }
        match w.peek()? {
            Some(b',') => w.pos += 1,
            Some(b'}') => {
                w.pos += 1;
                break;
            }
            _ => return Ok(Whole),
        }
    }
    if w.peek()?.is_some() {
        return Ok(Whole);
    }
    match version.flatten() {
        Some(n) if n == SCHEMA_VERSION as u64 => {}
        Some(n) => {
            return Ok(Invalid(format!(
                "schema_version {n} is not one this build reads ({SCHEMA_VERSION})"
            )))
        }
        None => return Ok(Invalid("schema_version missing".to_owned())),
    }
    Ok(match (typed_error, case, items) {
        (Some(e), _, _) => Invalid(e),
        (None, Some(case_id), true) => IndexJudgement::Parsed { case_id },
        _ => Whole,
    })
}

impl<R: Read> Window<R> {
    /// Parses a `T` from `pos` on, with everything after it in the window in view (as in the
    /// whole document), reading more while serde_json runs out of input.
    fn judge<T: serde::de::DeserializeOwned>(&mut self) -> std::io::Result<Judged<T>> {
        loop {
            let avail = &self.buf[self.pos..self.end];
            // A stream deserializer, for the length of what it parsed; its one addition (a
            // scalar must be followed by a delimiter) is left to the whole-document parse.
            let mut values = serde_json::Deserializer::from_slice(avail).into_iter::<T>();
            let r = values.next();
            let len = values.byte_offset();
            // Out of input, or an error at the window's end: serde_json says "invalid number"
            // for a number cut short, so any error there is judged again with more input.
            let ran_out = match &r {
                None => true,
                Some(Ok(_)) => len == avail.len(),
                Some(Err(e)) => {
                    e.classify() == serde_json::error::Category::Eof
                        || offset_of(avail, e.line(), e.column()) + 64 >= avail.len()
                }
            };
            if ran_out && !self.eof {
                if !self.fill()? && !self.eof {
                    return Ok(Judged::Whole);
                }
                continue;
            }
            let scalar = !matches!(avail.first(), Some(b'{' | b'[' | b'"'));
            return Ok(match r {
                None => Judged::Whole,
                Some(Ok(v)) => Judged::Value(v, len),
                Some(Err(e)) if scalar && e.to_string().starts_with("trailing characters") => {
                    Judged::Whole
                }
                Some(Err(e)) => {
                    let (line, column) = (e.line(), e.column());
                    let text = e.to_string();
                    let code = text
                        .strip_suffix(&format!(" at line {line} column {column}"))
                        .unwrap_or(&text);
                    let (l0, c0) = self.line_column(self.pos);
                    let (l, c) = if line <= 1 {
                        (l0, c0 + column)
                    } else {
                        (l0 + line - 1, column)
                    };
                    Judged::Error(format!("{code} at line {l} column {c}"))
                }
            });
        }
    }

    /// Line (1-based) and column, as serde_json counts them, of `buf[i]` in the document.
    fn line_column(&self, i: usize) -> (usize, usize) {
        let before = &self.buf[..i];
        let line = 1 + self.lines_before + before.iter().filter(|&&b| b == b'\n').count();
        let column = match before.iter().rposition(|&b| b == b'\n') {
            Some(k) => i - (k + 1),
            None => self.base + i - self.line_start,
        };
        (line, column)
    }

    /// serde_json's error for the byte just peeked (it reports the position after it).
    fn error_after_peek(&self, code: &str) -> String {
        let (l, c) = self.line_column(self.pos);
        format!("{code} at line {l} column {}", c + 1)
    }

    /// serde_json's error at the end of the input.
    fn error_at_end(&self, code: &str) -> String {
        let (l, c) = self.line_column(self.end);
        format!("{code} at line {l} column {c}")
    }
}

/// Byte offset in `b` of serde_json's (line, column).
fn offset_of(b: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        n => b
            .iter()
            .enumerate()
            .filter(|(_, &c)| c == b'\n')
            .nth(n - 2)
            .map_or(b.len(), |(k, _)| k + 1),
    };
    line_start + column
}

/// Where the JSON value at the start of `b` ends: brackets matched and strings skipped, not
/// validated (serde_json does that next, on exactly these bytes).
fn value_extent(b: &[u8], depth: usize, closers: &mut Vec<u8>) -> Extent {
    match b.first() {
        None => Extent::NeedMore,
        Some(b'"') => string_end(b, 1).map_or(Extent::NeedMore, Extent::Ends),
        Some(b'{' | b'[') => {
            closers.clear();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'"' => match string_end(b, i + 1) {
                        Some(e) => {
                            i = e;
                            continue;
                        }
                        None => return Extent::NeedMore,
                    },
                    open @ (b'{' | b'[') => {
                        closers.push(if open == b'{' { b'}' } else { b']' });
                        if depth + closers.len() > MAX_STREAMED_DEPTH {
                            return Extent::Invalid;
                        }
                    }
                    close @ (b'}' | b']') => {
                        if closers.pop() != Some(close) {
                            return Extent::Invalid;
                        }
                        if closers.is_empty() {
                            return Extent::Ends(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Extent::NeedMore
        }
        // A number or literal runs to the next delimiter.
        Some(_) => match b
            .iter()
            .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
        {
            Some(0) => Extent::Invalid,
            Some(n) => Extent::Ends(n),
            None => Extent::NeedMore,
        },
    }
}

/// Index just past the closing quote of the string whose contents start at `from`.
fn string_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// The one reader of custody.jsonl (verify, scope and `open_bundle` all use it): streams it
/// line by line, handing each event to `f`, and returns the first bad line (1-based number and
/// message), if any. It reads to the end either way, so a caller that hashes or measures the
/// stream sees all of it.
pub fn read_custody_events<R: Read>(
    r: R,
    mut f: impl FnMut(CustodyEvent),
) -> std::io::Result<Result<(), (usize, String)>> {
    use std::io::BufRead;
    let mut r = std::io::BufReader::with_capacity(64 << 10, r);
    let mut line = Vec::new();
    let mut first_error = None;
    for n in 1.. {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if first_error.is_some() || text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<CustodyEvent>(text) {
            Ok(event) => f(event),
            Err(e) => first_error = Some((n, e.to_string())),
        }
    }
    Ok(first_error.map_or(Ok(()), Err))
}

/// Parses custody.jsonl held in memory; errors carry the 1-based line number.
pub fn parse_custody(bytes: &[u8]) -> Result<Vec<CustodyEvent>, (usize, String)> {
    let mut out = Vec::new();
    match read_custody_events(bytes, |e| out.push(e)) {
        Ok(checked) => checked.map(|()| out),
        // Reading from memory does not fail.
        Err(e) => Err((0, e.to_string())),
    }
}

/// Opens a bundle and loads its digest, evidence and custody record (without verifying; see
/// [`crate::bundle::verified`] to verify and read through one handle).
pub fn open_bundle(path: &Path) -> Result<BundleContents, BundleError> {
    load_contents(&mut BundleReader::open(path)?).map(|(contents, _)| contents)
}

/// Loads digest, evidence and custody record from an open bundle; also returns the digests
/// of evidence.json and custody.jsonl as read (hashed while parsed, one read each).
pub(crate) fn load_contents(
    r: &mut BundleReader,
) -> Result<(BundleContents, [Sha256Digest; 2]), BundleError> {
    let path = r.path().to_owned();
    let digest = r.digest()?;
    let (bytes, evidence_sha256) = r.read_entry_hashed(EVIDENCE_PATH, MAX_METADATA_BYTES)?;
    let evidence = parse_evidence(&bytes).map_err(|message| BundleError::Evidence {
        path: path.clone(),
        message,
    })?;
    drop(bytes);
    let (bytes, custody_sha256) = r.read_entry_hashed(CUSTODY_PATH, MAX_METADATA_BYTES)?;
    let custody = parse_custody(&bytes).map_err(|(line, message)| BundleError::Custody {
        path: path.clone(),
        line,
        message,
    })?;
    let contents = BundleContents {
        digest,
        case_id: evidence.case.case_id.clone(),
        evidence,
        custody,
    };
    Ok((contents, [evidence_sha256, custody_sha256]))
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

    /// Hands out at most `.1` bytes a read, so values straddle the window's refills.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// (case id, items) by the streaming reader, when it is sure.
    fn streamed(doc: &[u8], chunk: usize) -> Option<(String, Vec<String>)> {
        let mut items = Vec::new();
        match scan_evidence_index(Trickle(doc, chunk), |i| items.push(format!("{i:?}"))).unwrap() {
            IndexScan::Parsed { case_id } => Some((case_id, items)),
            IndexScan::Unsure => None,
        }
    }

    fn whole(doc: &[u8]) -> Option<(String, Vec<String>)> {
        let ev = parse_evidence_index(doc).ok()?;
        let items = ev.items.iter().map(|i| format!("{i:?}")).collect();
        Some((ev.case.case_id, items))
    }

    #[test]
    fn the_streaming_reader_agrees_with_the_whole_document_parse() {
        let d = Sha256Digest::of(b"x").to_hex();
        let doc = format!(
            "{{\"schema_version\":{SCHEMA_VERSION},\"tool\":{{\"name\":\"w\"}},\"case\":{{\"case_id\":\"IR-\\u0031\",\"keys\":{{}}}},\n\
             \"items\":[{{\"source\":{{\"text\":\"/a \\\"b\\\" \u{e9}\"}},\"kind\":\"module\",\"sha256\":\"{d}\",\"bag_path\":\"data/m/{d}.wasm\",\
             \"analysis\":{{\"x\":[1,-2.5e3,true,null,\"s\\n\",[[{{}}]]]}}}},\n {{\"source\":{{\"text\":\"/k\"}},\"kind\":\"attachment\",\"sha256\":\"{d}\"}}],\
             \"not_collected\":[{{\"a\":1}},2],\"findings\":[],\"b\\u0061g\":\"x\"}}\n"
        )
        .into_bytes();
        let expected = whole(&doc).unwrap();
        assert_eq!(expected.0, "IR-1");
        assert_eq!(expected.1.len(), 2);
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            assert_eq!(
                streamed(&doc, chunk).as_ref(),
                Some(&expected),
                "chunk {chunk}"
            );
        }
        // Every mutation: sure only when the whole parse succeeds, and then with its result;
        // unsure whenever the whole parse fails.
        let alphabet = b"{}[]\":,\\ \n0123456789.eE-+tfnulx\x00\x1f\x80\xc3\xa9\xff";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        let (mut sure, mut valid, mut judged) = (0, 0, 0);
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&doc).unwrap())
                .unwrap();
        for round in 0..20_000 {
            let mut m = if round % 2 == 0 {
                doc.clone()
            } else {
                pretty.clone()
            };
            for _ in 0..1 + rnd() % 3 {
                let pos = rnd() % (m.len() + 1);
                let byte = alphabet[rnd() % alphabet.len()];
                match rnd() % 4 {
                    0 if pos < m.len() => m[pos] = byte,
                    1 if pos < m.len() => drop(m.remove(pos)),
                    2 => m.insert(pos, byte),
                    _ => m.truncate(pos),
                }
            }
            let (w, s) = (whole(&m), streamed(&m, 1 + round % 9));
            assert_eq!(s, w, "{:?}", String::from_utf8_lossy(&m));
            judged += usize::from(assert_judged_as_whole(&m, [2, 7, 31, 4096][round % 4]));
            sure += usize::from(s.is_some());
            valid += usize::from(w.is_some());
        }
        assert!(sure > 1000 && valid == sure, "{sure} sure, {valid} valid");
        // Most of what the scan leaves alone is judged while streaming too (17,884 when
        // written; the rest is a fault in the top-level punctuation, and the like).
        assert!(judged > 15_000, "{judged} judged");
    }

    /// The judging reader answers what the whole-document parse answers, error message
    /// included, or leaves the document to it.
    fn assert_judged_as_whole(doc: &[u8], chunk: usize) -> bool {
        let mut items = Vec::new();
        let judged =
            judge_evidence_index(Trickle(doc, chunk), |i| items.push(format!("{i:?}"))).unwrap();
        let whole = parse_evidence_index(doc);
        let text = String::from_utf8_lossy(doc);
        match (judged, whole) {
            (IndexJudgement::Whole, _) => return false,
            (IndexJudgement::Invalid(e), Err(w)) => assert_eq!(e, w, "{text:?}"),
            (IndexJudgement::Parsed { case_id }, Ok(ev)) => {
                assert_eq!(case_id, ev.case.case_id, "{text:?}");
                let expected: Vec<String> = ev.items.iter().map(|i| format!("{i:?}")).collect();
                assert_eq!(items, expected, "{text:?}");
            }
            (j, w) => panic!("judged {j:?}, whole parse {:?}: {text:?}", w.map(|_| ())),
        }
        true
    }

    #[test]
    fn what_the_streaming_reader_leaves_alone_the_whole_parse_still_judges() {
        let d = Sha256Digest::of(b"x").to_hex();
        let deep = format!("{}{}", "[".repeat(110), "]".repeat(110));
        for (doc, whole_ok) in [
            // Deeper than the streaming reader follows, within serde_json's limit.
            (format!("{{\"schema_version\":{SCHEMA_VERSION},\"case\":{{}},\"items\":[{{\"source\":{{\"text\":\"/a\"}},\"kind\":\"module\",\"sha256\":\"{d}\",\"x\":{deep}}}]}}"), true),
            // A duplicate field, a missing one, another schema version, a top-level array.
            (format!("{{\"schema_version\":{SCHEMA_VERSION},\"case\":{{}},\"items\":[],\"items\":[]}}"), false),
            (format!("{{\"schema_version\":{SCHEMA_VERSION},\"case\":{{}}}}"), false),
            ("{\"schema_version\":99,\"case\":{},\"items\":[]}".to_owned(), false),
            (format!("[{SCHEMA_VERSION}]"), false),
        ] {
            assert_eq!(streamed(doc.as_bytes(), 5), None, "{doc}");
            assert_eq!(whole(doc.as_bytes()).is_some(), whole_ok, "{doc}");
        }
    }
}
