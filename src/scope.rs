//! `scope`: which modules a key signed, and are those signatures still good? Walks directories
//! and evidence bundles, reads each module once (streaming, in parallel), and aggregates the
//! per-signature verdicts of [`crate::wasm`] (embedded and detached signatures) into one status
//! per module: still valid (re-sign it), suspicious (the key's signature no longer covers the
//! bytes), key-id match only, signed by others, keyless (with the Rekor time and the identity).

use crate::bundle::reader::{open_bundle, BundleReader};
use crate::evidence::ItemKind;
use crate::file_walk::{serialize_path, walk_inputs, SkipReason, SkippedPath};
use crate::keys::{self, PublicKey};
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use crate::wasm::verdict::{self, HashCoverage, InvalidReason, UncoveredSection, Verdict};
use crate::wasm::{self, detached, ModuleReport, SignatureAnalysis, SignatureSource};
use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Errors in the query itself (keys, key lists, window): usage errors, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("{what}: {value:?} is neither a readable key file nor a wsc key id (24 hex) nor a raw public key (64 hex)")]
    BadKey { what: String, value: String },
    #[error("{path}: {source}")]
    Key {
        path: String,
        #[source]
        source: keys::KeyError,
    },
    #[error("{path}: key file holds no Ed25519 public key this tool can verify with ({format})")]
    NoPublicKey { path: String, format: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("window {text:?}: {reason} (expected FROM..TO, RFC 3339 times or YYYY-MM-DD dates; either end may be empty)")]
    BadWindow { text: String, reason: String },
}

/// One key the query asks about.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct QueryKey {
    /// wsc key id (hex), what signatures carry.
    pub key_id: String,
    /// The public key, when known (a bare key id only matches signatures that carry it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKey>,
    /// Where it came from (file path, or `key id` / list file and line).
    pub source: String,
}

/// The compromise window for keyless signatures (Rekor integrated time).
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeWindow {
    /// Parses `FROM..TO`; an end is an RFC 3339 time or a date (a `TO` date includes that day).
    pub fn parse(text: &str) -> Result<Self, ScopeError> {
        let bad = |reason: &str| ScopeError::BadWindow {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (a, b) = text.split_once("..").ok_or_else(|| bad("no `..`"))?;
        let end = |s: &str, is_to: bool| -> Result<Option<DateTime<Utc>>, ScopeError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Ok(Some(t.with_timezone(&Utc)));
            }
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| bad(&format!("{s:?} is not a time")))?;
            let d = if is_to { d.succ_opt().unwrap_or(d) } else { d };
            Ok(Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
        };
        let w = TimeWindow {
            from: end(a, false)?,
            to: end(b, true)?,
        };
        if let (Some(f), Some(t)) = (w.from, w.to) {
            if f >= t {
                return Err(bad("the window is empty (FROM is not before TO)"));
            }
        }
        Ok(w)
    }

    /// `from <= t < to` (an open end is unbounded).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// What `scope` looks for.
#[derive(Serialize, Debug, Clone, Default)]
pub struct ScopeQuery {
    pub keys: Vec<QueryKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<TimeWindow>,
}

impl ScopeQuery {
    /// Adds a key given as a key file path, a wsc key id (24 hex) or a raw public key (64 hex).
    pub fn add_key_arg(&mut self, arg: &str, source: &str) -> Result<(), ScopeError> {
        let path = Path::new(arg);
        if std::fs::symlink_metadata(path).is_ok() {
            return self.add_key_file(path);
        }
        let t = arg.trim().to_ascii_lowercase();
        if t.bytes().all(|b| b.is_ascii_hexdigit()) {
            if t.len() == 24 {
                self.push(QueryKey {
                    key_id: t,
                    public_key: None,
                    source: source.to_owned(),
                });
                return Ok(());
            }
            if t.len() == 64 {
                let pk = PublicKey::from_slice(&hex::decode(&t).expect("hex checked"))
                    .expect("32 bytes");
                self.push(QueryKey {
                    key_id: hex::encode(pk.wsc_key_id()),
                    public_key: Some(pk),
                    source: source.to_owned(),
                });
                return Ok(());
            }
        }
        Err(ScopeError::BadKey {
            what: source.to_owned(),
            value: arg.to_owned(),
        })
    }

    /// Adds the public key of a key file in any format `keys` reads (a secret key file gives its
    /// public half; no secret byte is kept).
    pub fn add_key_file(&mut self, path: &Path) -> Result<(), ScopeError> {
        let name = path.display().to_string();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| {
                f.take(keys::MAX_KEY_FILE_LEN as u64 + 1)
                    .read_to_end(&mut bytes)
            })
            .map_err(|source| ScopeError::Io {
                path: name.clone(),
                source,
            })?;
        let kf = keys::parse_key_file(&name, &bytes).map_err(|source| ScopeError::Key {
            path: name.clone(),
            source,
        })?;
        let pk = match (kf.algorithm, kf.public_key) {
            (keys::KeyAlgorithm::Ed25519, Some(pk)) => pk,
            _ => {
                return Err(ScopeError::NoPublicKey {
                    path: name,
                    format: kf.format.to_string(),
                })
            }
        };
        self.push(QueryKey {
            key_id: hex::encode(pk.wsc_key_id()),
            public_key: Some(pk),
            source: name,
        });
        Ok(())
    }

    /// Adds every key of a list file: one key file path, key id or raw public key per line,
    /// `#` comments, blank lines ignored.
    pub fn add_key_list(&mut self, path: &Path) -> Result<(), ScopeError> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| ScopeError::Io {
            path: name.clone(),
            source,
        })?;
        for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
            let item = line.split('#').next().unwrap_or("").trim();
            if !item.is_empty() {
                self.add_key_arg(item, &format!("{name}:{}", i + 1))?;
            }
        }
        Ok(())
    }

    fn push(&mut self, k: QueryKey) {
        // The same key given twice (e.g. .pub and .sec): keep the entry with a public key.
        if let Some(existing) = self.keys.iter_mut().find(|e| e.key_id == k.key_id) {
            if existing.public_key.is_none() && k.public_key.is_some() {
                *existing = k;
            }
            return;
        }
        self.keys.push(k);
    }

    fn public_keys(&self) -> Vec<PublicKey> {
        self.keys.iter().filter_map(|k| k.public_key).collect()
    }

    fn id_only(&self, key_id: &str) -> bool {
        self.keys
            .iter()
            .any(|k| k.public_key.is_none() && k.key_id == key_id)
    }
}

/// How one signature by a queried key stands.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "check", rename_all = "kebab-case")]
pub enum KeyCheck {
    /// Verifies, and covers every byte after the signature section.
    Valid { covered: Range<u64> },
    /// Verifies, but covers only a prefix: the `uncovered` sections were added after signing
    /// (at a `signature_delimiter` when `at_delimiter`, i.e. split-then-signed).
    Partial {
        covered: Range<u64>,
        at_delimiter: bool,
        uncovered: Vec<UncoveredSection>,
    },
    /// Made by (or claims) the key but does not hold over the current bytes.
    Invalid { reason: InvalidReason },
    /// Only the key id was given: the signature carries it, the Ed25519 signature was not
    /// checked. `coverage` says what its stored hashes match.
    KeyIdMatchNotVerified { coverage: HashCoverage },
}

/// One signature by a queried key.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct KeySignature {
    pub source: SignatureSource,
    pub set_index: usize,
    pub signature_index: usize,
    /// Key id stored in the signature (`None`: it has none; matched by verifying).
    pub stored_key_id: Option<String>,
    /// The queried key (wsc key id) it belongs to.
    pub key: String,
    #[serde(flatten)]
    pub check: KeyCheck,
}

/// A signature by someone else on the same module.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct OtherSigner {
    pub source: SignatureSource,
    /// Key id stored in the signature; `None`: no key id, signer unknown.
    pub key_id: Option<String>,
    /// `other-key`, `unsupported` or `unverified` (key-id-only query).
    pub verdict: &'static str,
}

/// A keyless (Sigstore) signature: who the certificate names and when Rekor logged it.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct KeylessSigner {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrated_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<i64>,
    /// wsc wrote its placeholder instead of a Rekor entry (upload skipped).
    pub rekor_placeholder: bool,
    /// The embedded module hash equals the module's recomputed hash.
    pub module_hash_matches: bool,
    /// Integrated time inside `--window` (`None` without a window or without a time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_window: Option<bool>,
}

/// The answer for one module.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleStatus {
    /// A signature by a queried key verifies over every byte: re-sign it.
    Valid,
    /// Carries the key, but no signature by it covers the current bytes.
    Suspicious,
    /// Carries a queried key id; nothing verified (no public key given).
    KeyIdMatchNotVerified,
    /// Signed, but not by a queried key.
    OtherSigners,
    /// Keyless (Sigstore) signature.
    Keyless,
    Unsigned,
    /// A signature is there but cannot be decoded.
    Undecodable,
    /// Not a well-formed module, or it could not be read.
    Error,
}

impl ModuleStatus {
    /// Carries one of the queried keys (valid, suspicious or key-id match).
    pub fn carries_key(self) -> bool {
        matches!(
            self,
            ModuleStatus::Valid | ModuleStatus::Suspicious | ModuleStatus::KeyIdMatchNotVerified
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModuleStatus::Valid => "valid",
            ModuleStatus::Suspicious => "suspicious",
            ModuleStatus::KeyIdMatchNotVerified => "key-id-match-not-verified",
            ModuleStatus::OtherSigners => "other-signers",
            ModuleStatus::Keyless => "keyless",
            ModuleStatus::Unsigned => "unsigned",
            ModuleStatus::Undecodable => "undecodable",
            ModuleStatus::Error => "error",
        }
    }
}

/// Where a module was read from.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ModuleOrigin {
    File,
    /// Inside an evidence bundle; `path` is the source path recorded at collection.
    Bundle {
        bundle: String,
        bag_path: String,
    },
}

/// Everything `scope` says about one module.
#[derive(Serialize, Debug, Clone)]
pub struct ModuleScope {
    /// The input as given joined with the path inside it (bundles: the collected source path).
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub origin: ModuleOrigin,
    pub size: u64,
    pub status: ModuleStatus,
    /// Signatures by the queried keys.
    pub signatures: Vec<KeySignature>,
    pub other_signers: Vec<OtherSigner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless: Option<KeylessSigner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detached_signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts over all modules.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSummary {
    pub modules: usize,
    pub valid: usize,
    pub suspicious: usize,
    pub key_id_match_not_verified: usize,
    pub other_signers: usize,
    pub keyless: usize,
    pub keyless_in_window: usize,
    pub unsigned: usize,
    pub undecodable: usize,
    pub errors: usize,
    /// Files that are not modules (detached signatures, other files).
    pub other_files: usize,
}

/// The whole answer.
#[derive(Serialize, Debug, Clone)]
pub struct ScopeResult {
    pub query: ScopeQuery,
    pub summary: ScopeSummary,
    /// Every module, in input order (sorted by name inside each directory).
    pub modules: Vec<ModuleScope>,
    /// Paths not looked at (symlinks, special files, unreadable, missing inputs, bad bundles).
    pub skipped: Vec<SkippedPath>,
}

impl ScopeResult {
    /// The re-sign list: modules with a signature by a queried key that verifies over all bytes.
    pub fn resign_list(&self) -> impl Iterator<Item = &ModuleScope> {
        self.modules
            .iter()
            .filter(|m| m.status == ModuleStatus::Valid)
    }

    pub fn any_carries_key(&self) -> bool {
        self.modules.iter().any(|m| m.status.carries_key())
    }

    /// An input was missing or unreadable, or a bundle could not be opened.
    pub fn has_input_errors(&self) -> bool {
        self.skipped
            .iter()
            .any(|s| !matches!(s.reason, SkipReason::Symlink | SkipReason::SpecialFile))
    }
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Runs the query over directories, module files and bundles.
pub fn scope(inputs: &[PathBuf], query: ScopeQuery) -> ScopeResult {
    scope_with_progress(inputs, query, &indicatif::ProgressBar::hidden())
}

/// [`scope`], advancing `bar` once per file of the directory walk (its length is set when the
/// walk is done).
pub fn scope_with_progress(
    inputs: &[PathBuf],
    query: ScopeQuery,
    bar: &indicatif::ProgressBar,
) -> ScopeResult {
    let mut bundles = Vec::new();
    let mut plain = Vec::new();
    for input in inputs {
        if is_bundle(input) {
            bundles.push(input.clone());
        } else {
            plain.push(input.clone());
        }
    }
    let walk = walk_inputs(&plain);
    let mut skipped = walk.skipped;
    bar.set_length(walk.files.len() as u64);
    let analysed: Vec<Option<ModuleScope>> = walk
        .files
        .par_iter()
        .map(|f| {
            let m = scope_file(&f.path, &query);
            bar.inc(1);
            m
        })
        .collect();
    bar.finish_and_clear();
    let mut summary = ScopeSummary::default();
    let mut modules = Vec::new();
    for m in analysed {
        match m {
            Some(m) => modules.push(m),
            None => summary.other_files += 1,
        }
    }
    for b in &bundles {
        match scope_bundle(b, &query) {
            Ok((ms, other)) => {
                modules.extend(ms);
                summary.other_files += other;
            }
            Err(error) => skipped.push(SkippedPath {
                path: b.clone(),
                reason: SkipReason::Unreadable { error },
            }),
        }
    }
    summary.modules = modules.len();
    for m in &modules {
        match m.status {
            ModuleStatus::Valid => summary.valid += 1,
            ModuleStatus::Suspicious => summary.suspicious += 1,
            ModuleStatus::KeyIdMatchNotVerified => summary.key_id_match_not_verified += 1,
            ModuleStatus::OtherSigners => summary.other_signers += 1,
            ModuleStatus::Keyless => summary.keyless += 1,
            ModuleStatus::Unsigned => summary.unsigned += 1,
            ModuleStatus::Undecodable => summary.undecodable += 1,
            ModuleStatus::Error => summary.errors += 1,
        }
        if m.keyless.as_ref().and_then(|k| k.in_window) == Some(true) {
            summary.keyless_in_window += 1;
        }
    }
    ScopeResult {
        query,
        summary,
        modules,
        skipped,
    }
}

fn is_bundle(input: &Path) -> bool {
    let Ok(md) = std::fs::metadata(input) else {
        return false;
    };
    if !md.is_file() {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(input)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == ZIP_MAGIC
}

/// The detached signature next to a module (`M.sig` suffix, then `<stem>.sig`), only when it is
/// a regular file (a symlink is never followed).
fn detached_next_to(module: &Path) -> Option<PathBuf> {
    let mut with_suffix = module.as_os_str().to_owned();
    with_suffix.push(".sig");
    [PathBuf::from(with_suffix), module.with_extension("sig")]
        .into_iter()
        .find(|p| {
            p != module
                && std::fs::symlink_metadata(p)
                    .map(|m| m.file_type().is_file())
                    .unwrap_or(false)
        })
}

/// One file of a directory walk: `None` when it is not a module.
fn scope_file(path: &Path, query: &ScopeQuery) -> Option<ModuleScope> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return Some(error_module(
                path,
                ModuleOrigin::File,
                format!("cannot read: {e}"),
            ))
        }
    };
    let sig_path = detached_next_to(path);
    let detached = match &sig_path {
        Some(p) => match detached::read(p) {
            Ok(b) => Some((p.display().to_string(), b)),
            Err(e) => {
                return Some(error_module(path, ModuleOrigin::File, e.to_string()));
            }
        },
        None => None,
    };
    match scope_stream(&mut file, detached, query) {
        Ok(Some(mut m)) => {
            m.path = path.to_path_buf();
            Some(m)
        }
        Ok(None) => None,
        Err(e) => Some(error_module(
            path,
            ModuleOrigin::File,
            format!("cannot read: {e}"),
        )),
    }
}

fn error_module(path: &Path, origin: ModuleOrigin, error: String) -> ModuleScope {
    ModuleScope {
        path: path.to_path_buf(),
        origin,
        size: 0,
        status: ModuleStatus::Error,
        signatures: Vec::new(),
        other_signers: Vec::new(),
        keyless: None,
        detached_signature: None,
        error: Some(error),
    }
}

/// Reads a module once, feeding an embedded-coverage scanner and, with a detached signature, a
/// detached-coverage scanner from the same chunks. `Ok(None)`: not a WebAssembly module.
pub fn scope_stream<R: Read>(
    reader: &mut R,
    detached: Option<(String, Vec<u8>)>,
    query: &ScopeQuery,
) -> io::Result<Option<ModuleScope>> {
    // One read buffer per worker thread: allocating and zeroing a fresh chunk per module would
    // cost as much as hashing a small module.
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < crate::digest::STREAM_CHUNK {
            buf.resize(crate::digest::STREAM_CHUNK, 0);
        }
        scope_stream_with(reader, detached, query, &mut buf)
    })
}

fn scope_stream_with<R: Read>(
    reader: &mut R,
    detached: Option<(String, Vec<u8>)>,
    query: &ScopeQuery,
    buf: &mut [u8],
) -> io::Result<Option<ModuleScope>> {
    let mut embedded = Some(Scanner::new(ScanOptions {
        coverage: Coverage::Embedded,
        file_sha256: false,
    }));
    let mut detached_scanner = detached.as_ref().map(|_| {
        Scanner::new(ScanOptions {
            coverage: Coverage::Detached,
            file_sha256: false,
        })
    });
    let mut head = Vec::with_capacity(4);
    let mut first_chunk = true;
    loop {
        let n = match reader.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if head.len() < 4 {
            head.extend_from_slice(&buf[..n.min(4 - head.len())]);
            if !WASM_MAGIC.starts_with(&head) {
                return Ok(None);
            }
        }
        if first_chunk {
            first_chunk = false;
            // With a detached signature and no embedded `signature` section, both coverages
            // are "every section": one scanner suffices, so the module is hashed once.
            if detached_scanner.is_some() && first_section_is_not_signature(&buf[..n]) {
                embedded = None;
            }
        }
        if let Some(e) = embedded.as_mut() {
            let _ = e.feed(&buf[..n]);
        }
        if let Some(d) = detached_scanner.as_mut() {
            let _ = d.feed(&buf[..n]);
        }
    }
    if head.len() < 4 {
        return Ok(None);
    }
    let keys = query.public_keys();
    let emb_scan = embedded.map(Scanner::finish);
    let det_scan = detached_scanner.map(Scanner::finish);
    let main_scan = emb_scan
        .as_ref()
        .or(det_scan.as_ref())
        .expect("at least one scanner");
    let size = main_scan.file_len;
    let scan_error = main_scan.error.as_ref().map(|e| e.to_string());
    let mut m = ModuleScope {
        path: PathBuf::new(),
        origin: ModuleOrigin::File,
        size,
        status: ModuleStatus::Unsigned,
        signatures: Vec::new(),
        other_signers: Vec::new(),
        keyless: None,
        detached_signature: detached.as_ref().map(|(p, _)| p.clone()),
        error: scan_error.clone(),
    };
    let mut undecodable = false;
    if let Some(scan) = emb_scan {
        let report = wasm::analyse_module(scan, None, &keys);
        collect(&report, query, &mut m, &mut undecodable);
    }
    if let (Some(scan), Some((path, bytes))) = (det_scan, detached.as_ref()) {
        let report = wasm::analyse_module(scan, Some((path, bytes)), &keys);
        collect(&report, query, &mut m, &mut undecodable);
    }
    m.status = if m
        .signatures
        .iter()
        .any(|s| matches!(s.check, KeyCheck::Valid { .. }))
    {
        ModuleStatus::Valid
    } else if m
        .signatures
        .iter()
        .any(|s| matches!(s.check, KeyCheck::Partial { .. } | KeyCheck::Invalid { .. }))
    {
        ModuleStatus::Suspicious
    } else if !m.signatures.is_empty() {
        ModuleStatus::KeyIdMatchNotVerified
    } else if scan_error.is_some() {
        ModuleStatus::Error
    } else if !m.other_signers.is_empty() {
        ModuleStatus::OtherSigners
    } else if m.keyless.is_some() {
        ModuleStatus::Keyless
    } else if undecodable {
        ModuleStatus::Undecodable
    } else {
        ModuleStatus::Unsigned
    };
    Ok(Some(m))
}

/// True when the first chunk shows for certain that the module's first section is not a custom
/// section named `signature` (false when the chunk is too short to tell).
fn first_section_is_not_signature(chunk: &[u8]) -> bool {
    let Some(&id) = chunk.get(8) else {
        return false;
    };
    if id != 0 {
        return true;
    }
    // Skip the section size (LEB128, up to 5 bytes), then read the name length.
    let mut pos = 9;
    for _ in 0..5 {
        match chunk.get(pos) {
            Some(b) if b & 0x80 != 0 => pos += 1,
            Some(_) => {
                pos += 1;
                break;
            }
            None => return false,
        }
    }
    const NAME: &[u8] = b"signature";
    match (chunk.get(pos), chunk.get(pos + 1..pos + 1 + NAME.len())) {
        (Some(&len), _) if len as usize != NAME.len() => true,
        (Some(_), Some(name)) => name != NAME,
        _ => false,
    }
}

/// Sorts one report's signatures into the module's hits, other signers and keyless signer.
fn collect(report: &ModuleReport, query: &ScopeQuery, m: &mut ModuleScope, undecodable: &mut bool) {
    match &report.signature {
        SignatureAnalysis::Unsigned => {}
        SignatureAnalysis::Undecodable { .. } => *undecodable = true,
        SignatureAnalysis::Keyless(k) => {
            let integrated_time = k.rekor.integrated_time.as_deref().and_then(parse_time);
            m.keyless = Some(KeylessSigner {
                identity: k.leaf.as_ref().and_then(|l| l.san_identity.clone()),
                issuer: k.leaf.as_ref().and_then(|l| l.oidc_issuer.clone()),
                integrated_time,
                log_index: k.rekor.log_index,
                rekor_placeholder: k.rekor.is_placeholder(),
                module_hash_matches: k.module_hash_matches,
                in_window: match (query.window, integrated_time) {
                    (Some(w), Some(t)) => Some(w.contains(t)),
                    _ => None,
                },
            });
        }
        SignatureAnalysis::KeyBased {
            source,
            data,
            verdicts,
        } => {
            for v in verdicts {
                let hit = |key: &str, check: KeyCheck| KeySignature {
                    source: source.clone(),
                    set_index: v.set_index,
                    signature_index: v.signature_index,
                    stored_key_id: v.key_id.clone(),
                    key: key.to_owned(),
                    check,
                };
                let other = |verdict: &'static str| OtherSigner {
                    source: source.clone(),
                    key_id: v.key_id.clone(),
                    verdict,
                };
                match &v.verdict {
                    Verdict::Valid { key, covered } => m.signatures.push(hit(
                        key,
                        KeyCheck::Valid {
                            covered: covered.clone(),
                        },
                    )),
                    Verdict::Partial {
                        key,
                        covered,
                        at_delimiter,
                        uncovered,
                    } => m.signatures.push(hit(
                        key,
                        KeyCheck::Partial {
                            covered: covered.clone(),
                            at_delimiter: *at_delimiter,
                            uncovered: uncovered.clone(),
                        },
                    )),
                    Verdict::Invalid { key, reason } => m.signatures.push(hit(
                        key,
                        KeyCheck::Invalid {
                            reason: reason.clone(),
                        },
                    )),
                    Verdict::OtherKey | Verdict::Unverified { .. } => {
                        // A bare key id can only match signatures that carry it.
                        match v.key_id.as_deref().filter(|id| query.id_only(id)) {
                            Some(id) => {
                                let coverage = data
                                    .sets
                                    .iter()
                                    .find(|s| s.index == v.set_index)
                                    .map(|set| verdict::set_coverage(&report.scan, set))
                                    .unwrap_or(HashCoverage::None);
                                m.signatures
                                    .push(hit(id, KeyCheck::KeyIdMatchNotVerified { coverage }));
                            }
                            None => m.other_signers.push(other(v.verdict.word())),
                        }
                    }
                    Verdict::Unsupported { .. } => m.other_signers.push(other("unsupported")),
                }
            }
        }
    }
}

/// Rekor integrated time as wsc embeds it: Unix seconds (number or string) or RFC 3339.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(secs) = s.trim().parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Modules of a collected bundle, streamed from the zip without unpacking. Returns the modules
/// and the number of other payload items; `Err` names why the bundle could not be read.
fn scope_bundle(path: &Path, query: &ScopeQuery) -> Result<(Vec<ModuleScope>, usize), String> {
    let contents = open_bundle(path).map_err(|e| e.to_string())?;
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    let items = &contents.evidence.items;
    let bundle_name = path.display().to_string();
    let mut out = Vec::new();
    let mut other = 0;
    for item in items {
        if item.kind != ItemKind::Module {
            other += 1;
            continue;
        }
        let Some(bag_path) = item.bag_path.clone() else {
            other += 1;
            continue;
        };
        let source = PathBuf::from(std::ffi::OsStr::from_bytes(
            &item
                .source
                .raw_hex
                .as_deref()
                .and_then(|h| hex::decode(h).ok())
                .unwrap_or_else(|| item.source.text.as_bytes().to_vec()),
        ));
        let origin = ModuleOrigin::Bundle {
            bundle: bundle_name.clone(),
            bag_path: bag_path.clone(),
        };
        // The detached signature collected from next to the module, if any.
        let mut with_suffix = source.as_os_str().to_owned();
        with_suffix.push(".sig");
        let candidates = [PathBuf::from(with_suffix), source.with_extension("sig")];
        let sig_item = candidates.iter().find_map(|c| {
            items.iter().find(|i| {
                i.kind == ItemKind::DetachedSignature
                    && Path::new(&i.source.text) == c.as_path()
                    && i.bag_path.is_some()
            })
        });
        let detached = match sig_item {
            Some(i) => {
                let bp = i.bag_path.as_deref().expect("checked");
                match reader.read_entry(bp, detached::MAX_DETACHED_LEN) {
                    Ok(b) => Some((i.source.text.clone(), b)),
                    Err(e) => {
                        out.push(error_module(&source, origin, e.to_string()));
                        continue;
                    }
                }
            }
            None => None,
        };
        let result = match reader.entry_reader(&bag_path) {
            Ok(mut r) => scope_stream(&mut r, detached, query).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(Some(mut m)) => {
                m.path = source;
                m.origin = origin;
                out.push(m);
            }
            Ok(None) => out.push(error_module(
                &source,
                origin,
                "collected as a module but not WebAssembly".into(),
            )),
            Err(e) => out.push(error_module(&source, origin, e)),
        }
    }
    out.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
    Ok((out, other))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn windows_parse_times_dates_and_open_ends() {
        let w = TimeWindow::parse("2025-09-19..2025-09-19").unwrap();
        assert!(w.contains(t("2025-09-19T17:58:38Z")));
        assert!(!w.contains(t("2025-09-20T00:00:00Z")));
        assert!(!w.contains(t("2025-09-18T23:59:59Z")));
        let w = TimeWindow::parse("2025-09-19T18:00:00Z..").unwrap();
        assert!(!w.contains(t("2025-09-19T17:58:38Z")));
        assert!(w.contains(t("2030-01-01T00:00:00Z")));
        assert!(TimeWindow::parse("yesterday..today").is_err());
        assert!(TimeWindow::parse("2025-09-20..2025-09-19").is_err());
        assert!(TimeWindow::parse("2025-09-19").is_err());
    }

    #[test]
    fn first_section_check_only_answers_when_sure() {
        let signed = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/signed-a.wasm"),
        )
        .unwrap();
        let base = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/base.wasm"),
        )
        .unwrap();
        assert!(!first_section_is_not_signature(&signed));
        assert!(first_section_is_not_signature(&base));
        // Too short to tell: keep both scanners.
        assert!(!first_section_is_not_signature(&signed[..12]));
        assert!(!first_section_is_not_signature(&base[..8]));
        // A custom section with another 9-byte name.
        let mut other = signed.clone();
        other[12..21].copy_from_slice(b"signaturf");
        assert!(first_section_is_not_signature(&other));
    }

    #[test]
    fn rekor_times_are_unix_seconds_or_rfc3339() {
        assert_eq!(parse_time("1758304718"), Some(t("2025-09-19T17:58:38Z")));
        assert_eq!(
            parse_time("2025-09-19T17:58:38Z"),
            Some(t("2025-09-19T17:58:38Z"))
        );
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn key_arguments_accept_ids_raw_keys_and_files() {
        let mut q = ScopeQuery::default();
        q.add_key_arg("C858D5EC82D976C190CB33D0", "--key").unwrap();
        assert_eq!(q.keys[0].key_id, "c858d5ec82d976c190cb33d0");
        assert!(q.keys[0].public_key.is_none());
        // The public key of the same id replaces the bare id.
        q.add_key_arg(
            "e3749b84e3e8af4036b3d26615547959acebcda20c9b05e421506c4bcf819e04",
            "--key",
        )
        .unwrap();
        assert_eq!(q.keys.len(), 1);
        assert!(q.keys[0].public_key.is_some());
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys/test-key-b.pub");
        q.add_key_arg(f.to_str().unwrap(), "--key").unwrap();
        assert_eq!(q.keys[1].key_id, "465c5341001f3e570f784f71");
        assert!(q.add_key_arg("nothing-like-a-key", "--key").is_err());
    }
}
