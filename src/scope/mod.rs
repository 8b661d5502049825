//! `scope`: which modules a key signed, and are those signatures still good? Walks directories
//! and evidence bundles, reads each module once (streaming, in parallel), and aggregates the
//! per-signature verdicts of [`crate::wasm`] (embedded and detached signatures) into one status
//! per module: still valid (re-sign it), suspicious (the key's signature no longer covers the
//! bytes), key-id match only, signed by others, keyless (with the Rekor time and the identity).
//! Answers are handed on as they are known ([`scope_each`]), so memory does not grow with the
//! number of modules.

use crate::bundle::reader::{BundleError, BundleReader, MAX_METADATA_BYTES};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::keys::{self, PublicKey};
use crate::model::evidence::ItemKind;
use crate::model::evidence::SCHEMA_VERSION;
use crate::source::walk::{
    serialize_path, walk_entries, SkipReason, SkippedPath, WalkEntry, WalkedFile,
};
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use crate::wasm::verdict::{self, HashCoverage, InvalidReason, UncoveredSection, Verdict};
use crate::wasm::{self, detached, ModuleReport, SignatureAnalysis, SignatureSource};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::ffi::OsStringExt;
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
        self.skipped.iter().any(|s| !s.reason.is_link_or_special())
    }
}

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Runs the query over directories, module files and bundles.
pub fn scope(inputs: &[PathBuf], query: ScopeQuery) -> ScopeResult {
    scope_with_progress(inputs, query, &indicatif::ProgressBar::hidden())
}

/// [`scope`], advancing `bar` once per file of the directory walk. Holds every module's answer
/// in memory: large inputs should use [`scope_each`].
pub fn scope_with_progress(
    inputs: &[PathBuf],
    query: ScopeQuery,
    bar: &indicatif::ProgressBar,
) -> ScopeResult {
    let mut modules = Vec::new();
    let totals = scope_each(inputs, &query, bar, |m| modules.push(m));
    ScopeResult {
        query,
        summary: totals.summary,
        modules,
        skipped: totals.skipped,
    }
}

/// What a streamed run ([`scope_each`]) knows once the last module has been handed over.
#[derive(Debug, Clone, Default)]
pub struct ScopeTotals {
    pub summary: ScopeSummary,
    /// Paths not looked at (symlinks, special files, unreadable, missing inputs, bad bundles).
    pub skipped: Vec<SkippedPath>,
}

impl ScopeTotals {
    /// Some module carries a queried key (valid, suspicious or key-id match).
    pub fn any_carries_key(&self) -> bool {
        let s = &self.summary;
        s.valid + s.suspicious + s.key_id_match_not_verified > 0
    }

    /// An input was missing or unreadable, or a bundle could not be opened.
    pub fn has_input_errors(&self) -> bool {
        self.skipped.iter().any(|s| !s.reason.is_link_or_special())
    }
}

/// Runs the query and hands every module's answer to `sink` as soon as it is known, in the
/// order [`ScopeResult::modules`] has (directories first, sorted by name inside each, then each
/// bundle sorted by source path). Memory does not grow with the number of modules: the walk
/// feeds the readers through a bounded queue, answers wait in a bounded reorder window, and a
/// bundle's module list is sorted in runs spilled to an anonymous temp file.
pub fn scope_each(
    inputs: &[PathBuf],
    query: &ScopeQuery,
    bar: &indicatif::ProgressBar,
    mut sink: impl FnMut(ModuleScope),
) -> ScopeTotals {
    let mut bundles = Vec::new();
    let mut plain = Vec::new();
    for input in inputs {
        if is_bundle(input) {
            bundles.push(input.clone());
        } else {
            plain.push(input.clone());
        }
    }
    let mut summary = ScopeSummary::default();
    let mut skipped = scope_dirs(&plain, query, bar, &mut |m| match m {
        Some(m) => {
            tally(&mut summary, &m);
            sink(m);
        }
        None => summary.other_files += 1,
    });
    bar.finish_and_clear();
    for b in &bundles {
        let result = scope_bundle(b, query, &mut |m| {
            tally(&mut summary, &m);
            sink(m);
        });
        match result {
            Ok(other) => summary.other_files += other,
            Err(error) => skipped.push(SkippedPath {
                path: b.clone(),
                reason: SkipReason::Unreadable { error },
            }),
        }
    }
    ScopeTotals { summary, skipped }
}

fn tally(summary: &mut ScopeSummary, m: &ModuleScope) {
    summary.modules += 1;
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

/// Files handed to a reader at once (one queue operation and one wake-up per batch, not per
/// file).
const BATCH: usize = 32;
/// Batches the walk may run ahead of the readers.
const WALK_AHEAD: usize = 8;
/// Batches that may wait for a slower earlier one (a large module) before readers pause.
const REORDER_WINDOW: u64 = 16;

/// Lets a reader start batch `seq` only while it lies within [`REORDER_WINDOW`] of the next
/// batch to hand over, so answers waiting for a slow earlier file stay bounded.
struct Window {
    state: std::sync::Mutex<WindowState>,
    moved: std::sync::Condvar,
}

struct WindowState {
    next: u64,
    waiting: usize,
    stopped: bool,
}

impl Window {
    fn enter(&self, seq: u64) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while seq >= st.next + REORDER_WINDOW && !st.stopped {
            st.waiting += 1;
            st = self.moved.wait(st).unwrap_or_else(|e| e.into_inner());
            st.waiting -= 1;
        }
    }

    fn advance(&self, next: u64, stop: bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.next = next;
        st.stopped |= stop;
        if st.waiting > 0 {
            self.moved.notify_all();
        }
    }
}

/// The directory inputs: one thread walks (in name order), `rayon::current_num_threads()`
/// readers scan batches of files, and this thread hands the answers to `emit` in walk order
/// (`None`: not a module). Returns what the walk skipped.
fn scope_dirs(
    inputs: &[PathBuf],
    query: &ScopeQuery,
    bar: &indicatif::ProgressBar,
    emit: &mut dyn FnMut(Option<ModuleScope>),
) -> Vec<SkippedPath> {
    use std::sync::{mpsc, Mutex};
    if inputs.is_empty() {
        return Vec::new();
    }
    let (path_tx, path_rx) = mpsc::sync_channel::<(u64, Vec<PathBuf>)>(WALK_AHEAD);
    let path_rx = Mutex::new(Some(path_rx));
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<Option<ModuleScope>>)>();
    let window = Window {
        state: Mutex::new(WindowState {
            next: 0,
            waiting: 0,
            stopped: false,
        }),
        moved: std::sync::Condvar::new(),
    };
    std::thread::scope(|s| {
        let walker = s.spawn(|| walk_files(inputs, bar, path_tx));
        for _ in 0..rayon::current_num_threads().max(1) {
            let done_tx = done_tx.clone();
            let (path_rx, window) = (&path_rx, &window);
            s.spawn(move || loop {
                let next = match &*path_rx.lock().unwrap_or_else(|e| e.into_inner()) {
                    Some(rx) => rx.recv().ok(),
                    None => None,
                };
                let Some((seq, paths)) = next else { break };
                window.enter(seq);
                let answers = paths.iter().map(|p| scope_file(p, query)).collect();
                if done_tx.send((seq, answers)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // Batches that arrived before an earlier one, by `seq - next`.
        let mut early: std::collections::VecDeque<Option<Vec<Option<ModuleScope>>>> =
            std::collections::VecDeque::new();
        let mut next = 0u64;
        for (seq, answers) in done_rx {
            let i = (seq - next) as usize;
            if early.len() <= i {
                early.resize_with(i + 1, || None);
            }
            early[i] = Some(answers);
            let before = next;
            while early.front().is_some_and(Option::is_some) {
                let answers = early.pop_front().flatten().expect("checked");
                bar.inc(answers.len() as u64);
                answers.into_iter().for_each(&mut *emit);
                next += 1;
            }
            if next != before {
                window.advance(next, false);
            }
        }
        // Only reached early when a reader panicked: release the others and the walker, so the
        // scope can end and re-raise the panic.
        window.advance(next, true);
        *path_rx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        walker.join().expect("the walk does not panic")
    })
}

/// The walk of [`scope_dirs`]: sends every regular file, in batches with their sequence number,
/// and returns what was skipped. A path reached twice (overlapping inputs) is sent once; only
/// paths that a later input could reach again are remembered, so the set stays empty for
/// disjoint inputs.
fn walk_files(
    inputs: &[PathBuf],
    bar: &indicatif::ProgressBar,
    tx: std::sync::mpsc::SyncSender<(u64, Vec<PathBuf>)>,
) -> Vec<SkippedPath> {
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut seq = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let mut open = true;
    let mut send = |batch: &mut Vec<PathBuf>| {
        if open && !batch.is_empty() {
            bar.inc_length(batch.len() as u64);
            open = tx
                .send((seq, std::mem::replace(batch, Vec::with_capacity(BATCH))))
                .is_ok();
            seq += 1;
        }
    };
    for (i, input) in inputs.iter().enumerate() {
        let later = &inputs[i + 1..];
        walk_entries(std::slice::from_ref(input), true, |e| match e {
            WalkEntry::File(WalkedFile { path, .. }) => {
                if seen.contains(&path) {
                    return;
                }
                if later.iter().any(|l| path.starts_with(l)) {
                    seen.insert(path.clone());
                }
                batch.push(path);
                if batch.len() == BATCH {
                    send(&mut batch);
                }
            }
            WalkEntry::Skipped(s) => skipped.push(s),
        });
    }
    send(&mut batch);
    skipped
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
    let sig_path = crate::source::detached::next_to(path);
    let detached = match &sig_path {
        Some(p) => match detached::read(p) {
            Ok(b) => Some((p.display().to_string(), b)),
            Err(e) => {
                return Some(error_module(path, ModuleOrigin::File, e.to_string()));
            }
        },
        None => None,
    };
    match with_read_buffer(|buf| scope_stream_with(&mut file, detached, query, buf)) {
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
    with_read_buffer(|buf| scope_stream_with(&mut Stream(reader), detached, query, buf))
}

/// One read buffer per worker thread: allocating and zeroing a fresh chunk per module would
/// cost as much as hashing a small module.
fn with_read_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUF.with(|cell| {
        let mut buf = cell.borrow_mut();
        if buf.len() < crate::model::digest::STREAM_CHUNK {
            buf.resize(crate::model::digest::STREAM_CHUNK, 0);
        }
        f(&mut buf)
    })
}

/// A module's bytes: read in order; a file can also be jumped forward over payload no scanner
/// needs (a section of a module signed by another key), which is then never read.
trait ModuleBytes: Read {
    /// Whether this input can jump at all.
    fn jumps(&self) -> bool;
    /// How far jumps may go: the file's size now; `None` when this input cannot jump.
    fn jump_limit(&mut self) -> io::Result<Option<u64>>;
    fn jump(&mut self, n: u64) -> io::Result<()>;
}

impl ModuleBytes for std::fs::File {
    fn jumps(&self) -> bool {
        true
    }
    fn jump_limit(&mut self) -> io::Result<Option<u64>> {
        Ok(Some(self.metadata()?.len()))
    }
    fn jump(&mut self, n: u64) -> io::Result<()> {
        use std::io::Seek;
        self.seek_relative(i64::try_from(n).map_err(io::Error::other)?)
    }
}

/// Any reader, read to the end (a zip entry).
struct Stream<'a, R>(&'a mut R);

impl<R: Read> Read for Stream<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> ModuleBytes for Stream<'_, R> {
    fn jumps(&self) -> bool {
        false
    }
    fn jump_limit(&mut self) -> io::Result<Option<u64>> {
        Ok(None)
    }
    fn jump(&mut self, _: u64) -> io::Result<()> {
        Err(io::Error::other("this input cannot jump"))
    }
}

/// Read size while the walk may jump over payload (a file's first read, and every read once it
/// jumped): enough for the signature section and the next section headers, without reading
/// much of a module that turns out to need no hashing.
const JUMPING_READ: usize = 64 << 10;

fn scope_stream_with(
    reader: &mut dyn ModuleBytes,
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
    // Hashing is most of scope's work: each scanner hashes the covered bytes only when its
    // signature could be by a queried key (the detached one is known now, the embedded one once
    // the first section has been walked).
    if let (Some(d), Some((_, bytes))) = (detached_scanner.as_mut(), detached.as_ref()) {
        if !needs_covered_hash(bytes, query) {
            d.skip_covered_hash();
        }
    }
    let mut head = Vec::with_capacity(4);
    let mut first_chunk = true;
    // Bytes consumed (read or jumped), and how far jumps may go (asked at the first chance).
    let mut pos = 0u64;
    let mut limit: Option<Option<u64>> = None;
    let mut jumping = reader.jumps();
    let mut jumped = false;
    loop {
        let want = if jumping { JUMPING_READ } else { buf.len() };
        let n = match reader.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        pos += n as u64;
        if head.len() < 4 {
            head.extend_from_slice(&buf[..n.min(4 - head.len())]);
            if !WASM_MAGIC.starts_with(&head) {
                return Ok(None);
            }
        }
        let mut chunk = &buf[..n];
        if first_chunk {
            first_chunk = false;
            // With a detached signature and no embedded `signature` section, both coverages
            // are "every section": one scanner suffices, so the module is hashed once.
            if detached_scanner.is_some() && first_section_is_not_signature(chunk) {
                embedded = None;
            }
            // Walk the first section alone, then ask the scanner what it was (its reading,
            // not ours, decides); a first section not wholly in this chunk keeps the hashing.
            if let Some(e) = embedded.as_mut() {
                if let Some(end) = first_section_end(chunk) {
                    let _ = e.feed(&chunk[..end]);
                    match e.first_section() {
                        Some(Some(p)) if needs_covered_hash(p, query) => {}
                        Some(_) => e.skip_covered_hash(),
                        None => {}
                    }
                    if let Some(d) = detached_scanner.as_mut() {
                        let _ = d.feed(&chunk[..end]);
                    }
                    chunk = &chunk[end..];
                }
            }
        }
        if let Some(e) = embedded.as_mut() {
            let _ = e.feed(chunk);
        }
        if let Some(d) = detached_scanner.as_mut() {
            let _ = d.feed(chunk);
        }
        // Jump over payload that no scanner needs, never past the file's end.
        let skippable = [embedded.as_ref(), detached_scanner.as_ref()]
            .into_iter()
            .flatten()
            .map(Scanner::skippable)
            .min()
            .unwrap_or(0);
        if skippable > 0 && head.len() == 4 {
            let limit = match limit {
                Some(l) => l,
                None => *limit.insert(reader.jump_limit()?),
            };
            let n = skippable.min(limit.map_or(0, |l| l.saturating_sub(pos)));
            if n > 0 {
                reader.jump(n)?;
                pos += n;
                jumped = true;
                for s in [embedded.as_mut(), detached_scanner.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    s.skip(n);
                }
            }
        }
        // Small reads only while jumping: a module being hashed is read in full chunks.
        jumping = jumped;
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

/// End offset of the first section when the chunk (the start of the file) holds all of it.
fn first_section_end(chunk: &[u8]) -> Option<usize> {
    let mut size = 0u64;
    for i in 0..5 {
        let b = *chunk.get(9 + i)?;
        size |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let end = 9 + i as u64 + 1 + size;
            return (end <= chunk.len() as u64).then_some(end as usize);
        }
    }
    None
}

/// Whether a verdict scope reports can rest on the hash of the bytes a signature covers: only
/// for a signature by a queried key, i.e. one carrying a queried key id, or no key id (then
/// only verifying tells whose it is). Signatures carrying another key's id are `other-key`
/// whatever the bytes; keyless and undecodable signatures never use it.
fn needs_covered_hash(payload: &[u8], query: &ScopeQuery) -> bool {
    if payload.first() == Some(&crate::wasm::keyless_section::KEYLESS_VERSION) {
        return false;
    }
    let Ok(data) = crate::wasm::signature_section::decode(payload, 0) else {
        return false;
    };
    data.sets
        .iter()
        .flat_map(|set| &set.signatures)
        .any(|sig| match &sig.key_id {
            None => true,
            Some(id) => {
                let id = hex::encode(id);
                query.keys.iter().any(|k| k.key_id == id)
            }
        })
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

/// Modules of a collected bundle, streamed from the zip without unpacking, handed to `emit`
/// sorted by source path. Returns the number of other payload items; `Err` names why the bundle
/// could not be read (then nothing was emitted). The checks are `open_bundle`'s (tag manifest,
/// evidence.json schema and items, custody.jsonl), made while streaming: evidence.json and
/// custody.jsonl are never held whole, the module list is sorted in spilled runs
/// ([`SortedItems`]); only the detached signatures are indexed in memory.
fn scope_bundle(
    path: &Path,
    query: &ScopeQuery,
    emit: &mut dyn FnMut(ModuleScope),
) -> Result<usize, String> {
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    reader.digest().map_err(|e| e.to_string())?;
    let mut modules = SortedItems::new();
    // Detached signatures by source path (first in evidence order wins, as a lookup would).
    let mut sigs: std::collections::HashMap<PathBuf, (String, String)> = Default::default();
    let mut other = 0;
    let mut spill_error = None;
    read_evidence_items(
        &mut reader,
        &mut |item: BundleItem| match (item.kind, item.bag_path) {
            (ItemKind::Module, Some(bag_path)) => {
                let source = item
                    .source
                    .raw_hex
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .unwrap_or_else(|| item.source.text.into_bytes());
                if let Err(e) = modules.push(source, bag_path) {
                    spill_error.get_or_insert(e);
                }
            }
            (kind, bag_path) => {
                other += 1;
                if let (ItemKind::DetachedSignature, Some(bag_path)) = (kind, bag_path) {
                    sigs.entry(PathBuf::from(&item.source.text))
                        .or_insert((item.source.text, bag_path));
                }
            }
        },
    )?;
    check_custody(&mut reader)?;
    let temp_error = |e: io::Error| format!("{}: temporary file: {e}", path.display());
    if let Some(e) = spill_error {
        return Err(temp_error(e));
    }
    let bundle_name = path.display().to_string();
    for next in modules.into_sorted().map_err(temp_error)? {
        let (source, bag_path) = next.map_err(temp_error)?;
        let source = PathBuf::from(std::ffi::OsString::from_vec(source));
        let origin = ModuleOrigin::Bundle {
            bundle: bundle_name.clone(),
            bag_path: bag_path.clone(),
        };
        // The detached signature collected from next to the module, if any.
        let mut with_suffix = source.as_os_str().to_owned();
        with_suffix.push(".sig");
        let candidates = [PathBuf::from(with_suffix), source.with_extension("sig")];
        let sig_item = candidates.iter().find_map(|c| sigs.get(c));
        let detached = match sig_item {
            Some((text, bp)) => match reader.read_entry(bp, detached::MAX_DETACHED_LEN) {
                Ok(b) => Some((text.clone(), b)),
                Err(e) => {
                    emit(error_module(&source, origin, e.to_string()));
                    continue;
                }
            },
            None => None,
        };
        let result = match reader.entry_reader(&bag_path) {
            Ok(mut r) => scope_stream(&mut r, detached, query).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        emit(match result {
            Ok(Some(mut m)) => {
                m.path = source;
                m.origin = origin;
                m
            }
            Ok(None) => error_module(
                &source,
                origin,
                "collected as a module but not WebAssembly".into(),
            ),
            Err(e) => error_module(&source, origin, e),
        });
    }
    Ok(other)
}

/// What scope needs of one evidence item.
#[derive(serde::Deserialize)]
struct BundleItem {
    source: crate::model::evidence::RecordedPath,
    kind: ItemKind,
    #[serde(default)]
    bag_path: Option<String>,
}

/// A metadata entry read as a stream, at most [`MAX_METADATA_BYTES`] + 1 bytes (one more tells
/// that it is over the limit, as `read_entry` would).
fn metadata_stream<'a>(
    reader: &'a mut BundleReader,
    entry: &str,
) -> Result<io::BufReader<io::Take<impl Read + 'a>>, String> {
    let r = reader.entry_reader(entry).map_err(|e| e.to_string())?;
    Ok(io::BufReader::with_capacity(
        64 << 10,
        r.take(MAX_METADATA_BYTES + 1),
    ))
}

fn too_large(path: &Path, entry: &str, size: u64) -> String {
    BundleError::TooLarge {
        path: path.to_owned(),
        entry: entry.to_owned(),
        size,
        max: MAX_METADATA_BYTES,
    }
    .to_string()
}

/// Streams evidence.json, handing each item to `f`; checks `schema_version` as `open_bundle`
/// does. Errors read like `open_bundle`'s.
fn read_evidence_items(
    reader: &mut BundleReader,
    f: &mut dyn FnMut(BundleItem),
) -> Result<(), String> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    struct Top<'f>(&'f mut dyn FnMut(BundleItem));
    struct Items<'f>(&'f mut dyn FnMut(BundleItem));
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the evidence object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
            let mut version = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match &*key {
                    "schema_version" => version = map.next_value::<Option<u64>>()?,
                    "items" => map.next_value_seed(Items(&mut *self.0))?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(version)
        }
    }
    impl<'de> DeserializeSeed<'de> for Items<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<BundleItem>()? {
                (self.0)(item);
            }
            Ok(())
        }
    }
    let path = reader.path().to_owned();
    let mut input = metadata_stream(reader, EVIDENCE_PATH)?;
    let mut de = serde_json::Deserializer::from_reader(&mut input);
    let parsed = de
        .deserialize_map(Top(f))
        .and_then(|v| de.end().map(|()| v));
    drop(de);
    let read = input.into_inner().limit();
    if read == 0 {
        return Err(too_large(&path, EVIDENCE_PATH, MAX_METADATA_BYTES + 1));
    }
    let evidence_error = |message: String| BundleError::Evidence {
        path: path.clone(),
        message,
    };
    match parsed.map_err(|e| e.to_string()) {
        Ok(Some(n)) if n == SCHEMA_VERSION as u64 => Ok(()),
        Ok(Some(n)) => Err(format!(
            "schema_version {n} is not one this build reads ({SCHEMA_VERSION})"
        )),
        Ok(None) => Err("schema_version missing".to_owned()),
        Err(e) => Err(e),
    }
    .map_err(|m| evidence_error(m).to_string())
}

/// Checks custody.jsonl line by line, as `open_bundle` does, without holding it.
fn check_custody(reader: &mut BundleReader) -> Result<(), String> {
    use std::io::BufRead;
    let path = reader.path().to_owned();
    let mut input = metadata_stream(reader, CUSTODY_PATH)?;
    let mut line = Vec::new();
    let mut first_error = None;
    for n in 1.. {
        line.clear();
        let got = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {CUSTODY_PATH}: {e}", path.display()))?;
        if got == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if first_error.is_none() && !text.iter().all(u8::is_ascii_whitespace) {
            if let Err(e) = serde_json::from_slice::<crate::model::custody::CustodyEvent>(text) {
                first_error = Some((n, e.to_string()));
            }
        }
    }
    if input.into_inner().limit() == 0 {
        return Err(too_large(&path, CUSTODY_PATH, MAX_METADATA_BYTES + 1));
    }
    match first_error {
        Some((line, message)) => Err(BundleError::Custody {
            path,
            line,
            message,
        }
        .to_string()),
        None => Ok(()),
    }
}

/// Module items of a bundle (source path bytes, bag path) put in source-path order without
/// holding them all: runs of [`SORT_RUN`] are sorted in memory, spilled to an anonymous temp
/// file and merged. Stable: equal paths keep the order they were pushed in.
struct SortedItems {
    run: Vec<(Vec<u8>, String)>,
    spill: Option<io::BufWriter<std::fs::File>>,
    /// Byte range of each spilled run in the temp file.
    runs: Vec<Range<u64>>,
    written: u64,
}

/// Items sorted in memory at once (a few hundred KiB).
const SORT_RUN: usize = 4096;

type SortedItem = io::Result<(Vec<u8>, String)>;

impl SortedItems {
    fn new() -> Self {
        SortedItems {
            run: Vec::new(),
            spill: None,
            runs: Vec::new(),
            written: 0,
        }
    }

    fn push(&mut self, source: Vec<u8>, bag_path: String) -> io::Result<()> {
        self.run.push((source, bag_path));
        if self.run.len() >= SORT_RUN {
            self.spill_run()?;
        }
        Ok(())
    }

    fn spill_run(&mut self) -> io::Result<()> {
        use std::io::Write;
        self.run.sort_by(|a, b| a.0.cmp(&b.0));
        if self.spill.is_none() {
            self.spill = Some(io::BufWriter::new(tempfile::tempfile()?));
        }
        let w = self.spill.as_mut().expect("just set");
        let start = self.written;
        for (source, bag_path) in self.run.drain(..) {
            for field in [&source[..], bag_path.as_bytes()] {
                w.write_all(&(field.len() as u32).to_le_bytes())?;
                w.write_all(field)?;
                self.written += 4 + field.len() as u64;
            }
        }
        self.runs.push(start..self.written);
        Ok(())
    }

    /// Every item in order; the iterator yields an error if the temp file cannot be read.
    fn into_sorted(mut self) -> io::Result<Box<dyn Iterator<Item = SortedItem>>> {
        if self.spill.is_none() {
            self.run.sort_by(|a, b| a.0.cmp(&b.0));
            return Ok(Box::new(self.run.into_iter().map(Ok)));
        }
        if !self.run.is_empty() {
            self.spill_run()?;
        }
        let file = std::sync::Arc::new(
            self.spill
                .take()
                .expect("spilled")
                .into_inner()
                .map_err(|e| e.into_error())?,
        );
        let mut merge = Merge {
            readers: Vec::new(),
            heads: std::collections::BinaryHeap::new(),
            failed: false,
        };
        for (i, range) in self.runs.iter().enumerate() {
            // Small buffers: one per run is held during the merge.
            let mut r = io::BufReader::with_capacity(
                8 << 10,
                RunReader {
                    file: file.clone(),
                    at: range.start,
                    end: range.end,
                },
            );
            if let Some(item) = read_record(&mut r)? {
                merge.heads.push(std::cmp::Reverse((item.0, i, item.1)));
            }
            merge.readers.push(r);
        }
        Ok(Box::new(merge))
    }
}

/// One spilled run, read with positioned reads (the runs share one file).
struct RunReader {
    file: std::sync::Arc<std::fs::File>,
    at: u64,
    end: u64,
}

impl Read for RunReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = buf.len().min((self.end - self.at) as usize);
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

fn read_record(r: &mut impl Read) -> io::Result<Option<(Vec<u8>, String)>> {
    let mut field = || -> io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut v = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut v)?;
        Ok(Some(v))
    };
    let Some(source) = field()? else {
        return Ok(None);
    };
    let bag_path = field()?.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let bag_path = String::from_utf8(bag_path).map_err(io::Error::other)?;
    Ok(Some((source, bag_path)))
}

/// K-way merge of the spilled runs; ties go to the earlier run (stable).
struct Merge {
    readers: Vec<io::BufReader<RunReader>>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(Vec<u8>, usize, String)>>,
    failed: bool,
}

impl Iterator for Merge {
    type Item = SortedItem;
    fn next(&mut self) -> Option<SortedItem> {
        if self.failed {
            return None;
        }
        let std::cmp::Reverse((source, run, bag_path)) = self.heads.pop()?;
        match read_record(&mut self.readers[run]) {
            Ok(Some((s, b))) => self.heads.push(std::cmp::Reverse((s, run, b))),
            Ok(None) => {}
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        }
        Some(Ok((source, bag_path)))
    }
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
    fn bundle_items_sort_stably_in_memory_and_through_spilled_runs() {
        for n in [0, 5, SORT_RUN, 3 * SORT_RUN + 17] {
            let mut s = SortedItems::new();
            let mut want = Vec::new();
            for i in 0..n {
                // Few distinct paths, so that ties (kept in push order) are everywhere; some
                // are prefixes of others, and one is not UTF-8.
                let k = (i * 7919) % 61;
                let mut source = format!("/c/m{k}").into_bytes();
                if k % 5 == 0 {
                    source.push(0xff);
                }
                let bag = format!("data/modules/{i}.wasm");
                s.push(source.clone(), bag.clone()).unwrap();
                want.push((source, bag));
            }
            assert_eq!(s.spill.is_some(), n >= SORT_RUN, "{n}");
            want.sort_by(|a, b| a.0.cmp(&b.0));
            let got: Vec<_> = s.into_sorted().unwrap().map(Result::unwrap).collect();
            assert_eq!(got, want, "{n}");
        }
    }

    #[test]
    fn coverage_hash_only_for_signatures_that_may_be_the_keys() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc");
        let query = |key: &str| {
            let mut q = ScopeQuery::default();
            q.add_key_file(&dir.join("keys").join(key)).unwrap();
            q
        };
        let (a, b) = (query("test-key-a.pub"), query("test-key-b.pub"));
        let payload = |m: &str| {
            let bytes = std::fs::read(dir.join("modules").join(m)).unwrap();
            let scan = Scanner::scan_bytes(&bytes, ScanOptions::default());
            assert_eq!(
                first_section_end(&bytes),
                Some(scan.sections[0].range.end as usize)
            );
            assert_eq!(first_section_end(&bytes[..20]), None);
            scan.signature_payload.unwrap_or_default()
        };
        let signed_a = payload("signed-a.wasm");
        assert!(needs_covered_hash(&signed_a, &a));
        assert!(!needs_covered_hash(&signed_a, &b), "carries A's key id");
        // No key id: only verifying tells, so the bytes are hashed for any key.
        assert!(needs_covered_hash(&payload("signed-a-nokeyid.wasm"), &b));
        assert!(needs_covered_hash(&payload("signed-a-b.wasm"), &b));
        // A bare key id query needs the hash too (coverage is reported).
        let mut id_only = ScopeQuery::default();
        id_only.add_key_arg(A_ID_FOR_TESTS, "--key").unwrap();
        assert!(needs_covered_hash(&signed_a, &id_only));
        assert!(!needs_covered_hash(
            &payload("keyless-replayed-rekor-entry.wasm"),
            &a
        ));
        assert!(!needs_covered_hash(b"\x01garbage", &a), "undecodable");
        let detached = std::fs::read(dir.join("modules/detached-a.sig")).unwrap();
        assert!(needs_covered_hash(&detached, &a));
        assert!(!needs_covered_hash(&detached, &b));
    }

    const A_ID_FOR_TESTS: &str = "c858d5ec82d976c190cb33d0";

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
