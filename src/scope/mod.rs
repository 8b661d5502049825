//! `scope`: which modules a key signed, and are those signatures still good? Walks directories
//! and evidence bundles, reads each module once (streaming, in parallel), and aggregates the
//! per-signature verdicts of [`crate::wasm`] (embedded and detached signatures) into one status
//! per module: still valid (re-sign it), suspicious (the key's signature no longer covers the
//! bytes), key-id match only, signed by others, keyless (with the Rekor time and the identity).
//! Answers are handed on as they are known ([`scope_each`]), so memory does not grow with the
//! number of modules.

mod bundle;
pub mod deps;
mod folder;
pub mod keyless;
mod module;

use bundle::*;
use folder::*;
use module::*;

use crate::analyse::assessment::ModuleAssessment;
use crate::io::bounded_read::{read_regular_file, BoundedReadError};
use crate::keys::{self, PublicKey};
use crate::source::walk::{serialize_path, SkipReason, SkippedPath};
use crate::wasm::verdict::{HashCoverage, InvalidReason, UncoveredSection};
use crate::wasm::SignatureSource;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Largest `--keys` list file accepted (a line per key; real lists are a few lines).
pub const MAX_KEY_LIST_BYTES: u64 = 16 << 20;

/// Errors in the query itself (keys, key lists, window): usage errors, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("{what}: {value:?} is neither a readable key file nor a wsc key id (24 hex) nor a raw public key (64 hex)")]
    BadKey { what: String, value: String },
    /// The key file could not be read or parsed (the error names the file).
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error("{path}: key file holds no Ed25519 public key this tool can verify with ({format})")]
    NoPublicKey { path: String, format: String },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: BoundedReadError,
    },
    #[error("window {text:?}: {reason} (expected FROM..TO, RFC 3339 times or YYYY-MM-DD dates; either end may be empty)")]
    BadWindow { text: String, reason: String },
}

/// One key the query asks about.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Default)]
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
        let kf = keys::parse_key_file(&name, &keys::read_key_file(path)?)?;
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
        let text =
            read_regular_file(path, MAX_KEY_LIST_BYTES).map_err(|source| ScopeError::Read {
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct OtherSigner {
    pub source: SignatureSource,
    /// Key id stored in the signature; `None`: no key id, signer unknown.
    pub key_id: Option<String>,
    /// `other-key`, `unsupported` or `unverified` (key-id-only query).
    pub verdict: &'static str,
}

/// A keyless (Sigstore) signature: who the certificate names and when Rekor logged it.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleStatus {
    /// A signature by a queried key verifies over every byte: re-sign it.
    Valid,
    /// Carries the key, but no signature by it covers the current bytes.
    Suspicious,
    /// Carries a queried key id; nothing verified (no public key given).
    KeyIdMatchNotVerified,
    /// In a bundle whose case file declares a replacement key, the library's one assessment
    /// ([`crate::analyse::assessment`]) finds a valid signature by that key and no serious
    /// finding: already re-signed, so not on the re-sign list (it carries a queried key).
    ReSigned,
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
            ModuleStatus::Valid
                | ModuleStatus::Suspicious
                | ModuleStatus::KeyIdMatchNotVerified
                | ModuleStatus::ReSigned
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModuleStatus::Valid => "valid",
            ModuleStatus::Suspicious => "suspicious",
            ModuleStatus::KeyIdMatchNotVerified => "key-id-match-not-verified",
            ModuleStatus::ReSigned => "re-signed",
            ModuleStatus::OtherSigners => "other-signers",
            ModuleStatus::Keyless => "keyless",
            ModuleStatus::Unsigned => "unsigned",
            ModuleStatus::Undecodable => "undecodable",
            ModuleStatus::Error => "error",
        }
    }
}

/// Where a module was read from.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
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
    /// Modules of a bundle: the library's one assessment of the module from the bundle's
    /// evidence and case file, the same that `report` and `timeline` print. Folder inputs have
    /// no case file and carry none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<ModuleAssessment>,
    /// Modules of a bundle whose assessment could not be made, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment_not_made: Option<String>,
}

/// Counts over all modules.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSummary {
    pub modules: usize,
    pub valid: usize,
    pub suspicious: usize,
    pub key_id_match_not_verified: usize,
    /// Already re-signed by the case's replacement key (bundles only).
    pub re_signed: usize,
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
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
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
        s.valid + s.suspicious + s.key_id_match_not_verified + s.re_signed > 0
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
        ModuleStatus::ReSigned => summary.re_signed += 1,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm::scanner::{ScanOptions, Scanner};

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

    #[test]
    fn key_files_and_key_lists_are_bounded_regular_file_reads() {
        let mut q = ScopeQuery::default();
        // A device never ends: refused before reading, not read until memory runs out.
        assert!(matches!(
            q.add_key_list(Path::new("/dev/zero")),
            Err(ScopeError::Read {
                source: BoundedReadError::NotRegularFile("character device"),
                ..
            })
        ));
        let e = q.add_key_arg("/dev/zero", "--key").unwrap_err();
        assert!(
            matches!(e, ScopeError::Key(keys::KeyError::NotRegularFile { .. })),
            "{e}"
        );
        // The message names the file once.
        assert_eq!(e.to_string().matches("/dev/zero").count(), 1, "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("keys.txt");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_KEY_LIST_BYTES + 1).unwrap();
        assert!(matches!(
            q.add_key_list(&big),
            Err(ScopeError::Read {
                source: BoundedReadError::TooLarge { .. },
                ..
            })
        ));
        assert!(q.keys.is_empty());
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
