//! `scope --identity` (INC-3, Sigstore compromise): every keyless-signed module, Sigstore bundle
//! and Rekor entry under the inputs, with its signer identity and OIDC issuer, its signing time
//! taken only from transparency evidence whose checks passed, whether that time lies in the
//! incident window, and whether the signer is on the expected-signers list. Answers are handed on
//! one at a time ([`scope_keyless_each`]), so memory does not grow with the number of files.

use super::{ModuleOrigin, TimeWindow};
use crate::bundle::reader::{BundleReader, IndexEvent};
use crate::io::bounded_read::{read_regular_file, BoundedReadError};
use crate::io::spill::Sorter;
use crate::model::evidence::{Finding, IncidentType, ItemKind, Severity};
use crate::source::walk::{serialize_path, walk_entries, SkipReason, SkippedPath, WalkEntry};
use crate::transparency::sigstore_bundle::{self, SigstoreBundle};
use crate::transparency::{
    self, analyse_transparency_file, Check, CheckId, IdentityPolicy, Outcome, TransparencyError,
    TrustRoot, Verdict, Verification,
};
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Largest `--expected-signers` file (a line per signer).
pub const MAX_EXPECTED_SIGNERS_BYTES: u64 = 16 << 20;

/// Errors in the keyless query itself (pattern, expected-signers list, trust root): usage
/// errors, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum KeylessQueryError {
    #[error("--identity: the pattern is empty")]
    EmptyPattern,
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: BoundedReadError,
    },
    #[error("{path}:{line}: expected `IDENTITY ISSUER` (two fields separated by white space), found {found} field(s)")]
    BadSignerLine {
        path: String,
        line: usize,
        found: usize,
    },
    #[error("{path}: the expected-signers list names no signer")]
    NoSigners { path: String },
}

/// Which identities the query asks about: the exact SAN (email or URI), or a glob when the
/// pattern holds `*` (any run of characters, `/` and `@` included) or `?` (one character).
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct IdentityPattern {
    pub pattern: String,
    /// `exact` or `glob`.
    pub kind: PatternKind,
}

#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PatternKind {
    Exact,
    Glob,
}

impl IdentityPattern {
    pub fn parse(text: &str) -> Result<Self, KeylessQueryError> {
        if text.is_empty() {
            return Err(KeylessQueryError::EmptyPattern);
        }
        let kind = if text.contains(['*', '?']) {
            PatternKind::Glob
        } else {
            PatternKind::Exact
        };
        Ok(IdentityPattern {
            pattern: text.to_owned(),
            kind,
        })
    }

    /// Case-sensitive, over the whole identity.
    pub fn matches(&self, identity: &str) -> bool {
        match self.kind {
            PatternKind::Exact => self.pattern == identity,
            PatternKind::Glob => glob_match(&self.pattern, identity),
        }
    }
}

/// `*` and `?` wildcards over characters (iterative, with one backtrack point: linear in
/// practice, never exponential).
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// One `identity issuer` pair of the expected-signers list.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSigner {
    pub identity: String,
    pub issuer: String,
}

/// The expected-signers list: every signer in the window that is not on it is a High finding.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct ExpectedSigners {
    /// The list file as given.
    pub file: String,
    pub signers: Vec<ExpectedSigner>,
}

impl ExpectedSigners {
    /// Reads one `IDENTITY ISSUER` pair per line; `#` starts a comment at the start of a line or
    /// after white space (so an identity may hold a `#`); blank lines are ignored.
    pub fn read(path: &Path) -> Result<Self, KeylessQueryError> {
        let file = path.display().to_string();
        let bytes = read_regular_file(path, MAX_EXPECTED_SIGNERS_BYTES).map_err(|source| {
            KeylessQueryError::Read {
                path: file.clone(),
                source,
            }
        })?;
        let list = Self::parse(&file, &String::from_utf8_lossy(&bytes))?;
        if list.signers.is_empty() {
            return Err(KeylessQueryError::NoSigners { path: file });
        }
        Ok(list)
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, KeylessQueryError> {
        let mut signers = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let fields: Vec<&str> = strip_comment(line).split_whitespace().collect();
            match fields.as_slice() {
                [] => {}
                [identity, issuer] => signers.push(ExpectedSigner {
                    identity: (*identity).to_owned(),
                    issuer: (*issuer).to_owned(),
                }),
                other => {
                    return Err(KeylessQueryError::BadSignerLine {
                        path: file.to_owned(),
                        line: i + 1,
                        found: other.len(),
                    })
                }
            }
        }
        Ok(ExpectedSigners {
            file: file.to_owned(),
            signers,
        })
    }

    /// The exact pair is listed.
    pub fn lists(&self, identity: &str, issuer: &str) -> bool {
        self.signers
            .iter()
            .any(|s| s.identity == identity && s.issuer == issuer)
    }
}

fn strip_comment(line: &str) -> &str {
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_space {
            return &line[..i];
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// What `scope --identity` looks for, and the trust root the evidence is checked against.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct KeylessQuery {
    pub identity: IdentityPattern,
    /// Exact OIDC issuer (the Fulcio certificate extension) the signer must also have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<TimeWindow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_signers: Option<ExpectedSigners>,
    /// Origin of the trust root every check used.
    pub trust_root: String,
    #[serde(skip)]
    #[schemars(skip)]
    pub root: TrustRoot,
}

impl KeylessQuery {
    pub fn new(identity: IdentityPattern, root: TrustRoot) -> Self {
        KeylessQuery {
            identity,
            issuer: None,
            window: None,
            expected_signers: None,
            trust_root: root.origin.clone(),
            root,
        }
    }
}

/// The kind of transparency evidence a record is about.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceKind {
    /// A WebAssembly module with a wsc keyless signature (Fulcio certificate, Rekor entry).
    WscKeylessModule,
    SigstoreBundle,
    RekorEntry,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::WscKeylessModule => "wsc-keyless-module",
            EvidenceKind::SigstoreBundle => "sigstore-bundle",
            EvidenceKind::RekorEntry => "rekor-entry",
        }
    }
}

/// The signing time a record states, and whether transparency evidence proves it.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SigningTime {
    pub at: DateTime<Utc>,
    /// True only for a Rekor integrated time whose signed entry timestamp verified with a log of
    /// the trust root, for an entry that binds this artifact (the inclusion proof does not cover
    /// the time); or an RFC 3161 timestamp that verified against a trusted authority. Only a verified time places a
    /// record in or out of the window.
    pub verified: bool,
    /// Where the time comes from, and for an unverified one, what did not verify.
    pub source: String,
}

/// Where the record lies against `--window`.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum WindowStatus {
    InWindow,
    OutsideWindow,
    /// No verified signing time: the record can be placed neither in nor out.
    #[serde(rename = "window-unknown")]
    Unknown,
}

impl WindowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowStatus::InWindow => "in-window",
            WindowStatus::OutsideWindow => "outside-window",
            WindowStatus::Unknown => "window-unknown",
        }
    }
}

/// Everything `scope --identity` says about one keyless module, bundle or entry.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct KeylessRecord {
    /// The input as given joined with the path inside it (bundles: the collected source path).
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub origin: ModuleOrigin,
    /// `null`: a file that could not be read far enough to tell.
    pub kind: Option<EvidenceKind>,
    /// Signer identity: the certificate's SAN (email or URI); `null` = not recorded.
    pub identity: Option<String>,
    /// OIDC issuer of the Fulcio certificate extension; `null` = not recorded.
    pub issuer: Option<String>,
    /// `null`: the evidence records no signing time.
    pub signing_time: Option<SigningTime>,
    /// Against `--window`; absent without a window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<WindowStatus>,
    /// The identity matches `--identity` (and the issuer `--issuer`, when given).
    pub identity_matches: bool,
    /// The pair is on the expected-signers list; absent without a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<bool>,
    /// The record answers the question: its signer matches and it lies in the window (or its
    /// time is unverified, so it cannot be excluded; or no window was given), or it carries an
    /// `unexpected-signer` finding.
    pub matches: bool,
    /// `null` when the evidence could not be read (`error` says why).
    pub verdict: Option<Verdict>,
    /// Every transparency check, as `inspect` reports it.
    pub checks: Vec<Check>,
    /// `unexpected-signer` (High) when the signer is not on the expected list.
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts over all records.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeylessSummary {
    /// Keyless modules, Sigstore bundles and Rekor entries found, and files that could not be
    /// read (errors).
    pub records: usize,
    pub keyless_modules: usize,
    pub sigstore_bundles: usize,
    pub rekor_entries: usize,
    /// Records whose signer matches the pattern (and issuer).
    pub identity_matches: usize,
    /// Records that answer the question (the exit status is 1 when this is not 0).
    pub matches: usize,
    pub in_window: usize,
    pub outside_window: usize,
    pub window_unknown: usize,
    /// Records whose signing time is verified.
    pub time_verified: usize,
    /// Records whose transparency verdict failed.
    pub verdict_failed: usize,
    pub unexpected_signers: usize,
    /// Evidence that could not be read or decoded.
    pub errors: usize,
    /// Modules not keyless-signed.
    pub other_modules: usize,
    /// Files that are neither modules nor transparency evidence.
    pub other_files: usize,
}

/// The whole answer (`scope --identity --json`). The records come before the summary, so the
/// document can be written as records are known.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct KeylessScopeResult {
    pub query: KeylessQuery,
    /// In input order (sorted by name inside each directory; a bundle's by source path).
    pub records: Vec<KeylessRecord>,
    pub summary: KeylessSummary,
    /// Paths not looked at (symlinks, special files, unreadable, missing inputs, bad bundles).
    pub skipped: Vec<SkippedPath>,
}

/// What a streamed run knows once the last record has been handed over.
#[derive(Debug, Clone, Default)]
pub struct KeylessTotals {
    pub summary: KeylessSummary,
    pub skipped: Vec<SkippedPath>,
}

impl KeylessTotals {
    pub fn any_match(&self) -> bool {
        self.summary.matches > 0
    }

    /// Some evidence or input could not be read: the answer may be incomplete.
    pub fn has_input_errors(&self) -> bool {
        self.summary.errors > 0 || self.skipped.iter().any(|s| !s.reason.is_link_or_special())
    }
}

/// Runs the query and collects every record (small inputs and tests; large inputs use
/// [`scope_keyless_each`]).
pub fn scope_keyless(inputs: &[PathBuf], query: KeylessQuery) -> KeylessScopeResult {
    let mut records = Vec::new();
    let totals = scope_keyless_each(inputs, &query, |r| records.push(r));
    KeylessScopeResult {
        query,
        records,
        summary: totals.summary,
        skipped: totals.skipped,
    }
}

/// Runs the query, handing each record to `sink` as soon as it is known: directories and files
/// in walk order (sorted by name), then each evidence bundle by source path. One file is held at
/// a time (a module is streamed; a transparency file is at most
/// [`transparency::MAX_INPUT_BYTES`]).
pub fn scope_keyless_each(
    inputs: &[PathBuf],
    query: &KeylessQuery,
    mut sink: impl FnMut(KeylessRecord),
) -> KeylessTotals {
    let mut summary = KeylessSummary::default();
    let mut skipped = Vec::new();
    let mut emit = |r: KeylessRecord, summary: &mut KeylessSummary| {
        tally(summary, &r);
        sink(r);
    };
    for input in inputs {
        if super::folder::is_bundle(input) {
            if let Err(error) = scope_bundle(input, query, &mut |found| match found {
                Found::Record(r) => emit(*r, &mut summary),
                Found::OtherModule => summary.other_modules += 1,
                Found::OtherFile => summary.other_files += 1,
            }) {
                skipped.push(SkippedPath {
                    path: input.clone(),
                    reason: SkipReason::Unreadable { error },
                });
            }
            continue;
        }
        walk_entries(std::slice::from_ref(input), true, |e| match e {
            WalkEntry::File(f) => match scope_file(&f.path, f.stat.dev, f.stat.inode, query) {
                Found::Record(r) => emit(*r, &mut summary),
                Found::OtherModule => summary.other_modules += 1,
                Found::OtherFile => summary.other_files += 1,
            },
            WalkEntry::Skipped(s) => skipped.push(s),
        });
    }
    KeylessTotals { summary, skipped }
}

fn tally(s: &mut KeylessSummary, r: &KeylessRecord) {
    s.records += 1;
    match r.kind {
        Some(EvidenceKind::WscKeylessModule) => s.keyless_modules += 1,
        Some(EvidenceKind::SigstoreBundle) => s.sigstore_bundles += 1,
        Some(EvidenceKind::RekorEntry) => s.rekor_entries += 1,
        None => {}
    }
    s.identity_matches += usize::from(r.identity_matches);
    s.matches += usize::from(r.matches);
    match r.window {
        Some(WindowStatus::InWindow) => s.in_window += 1,
        Some(WindowStatus::OutsideWindow) => s.outside_window += 1,
        Some(WindowStatus::Unknown) => s.window_unknown += 1,
        None => {}
    }
    s.time_verified += usize::from(r.signing_time.as_ref().is_some_and(|t| t.verified));
    s.verdict_failed += usize::from(r.verdict == Some(Verdict::Failed));
    s.unexpected_signers += r
        .findings
        .iter()
        .filter(|f| f.code == UNEXPECTED_SIGNER)
        .count();
    s.errors += usize::from(r.error.is_some());
}

/// What one file turned out to be.
enum Found {
    Record(Box<KeylessRecord>),
    /// A module without a keyless signature.
    OtherModule,
    OtherFile,
}

/// The bytes of the file read before deciding what it is: enough for a module's signature
/// section header, or a JSON document's first character.
const HEAD: usize = 64 << 10;

fn scope_file(path: &Path, dev: u64, ino: u64, query: &KeylessQuery) -> Found {
    let name = path.display().to_string();
    let file = match crate::source::open::open_walked(path, dev, ino) {
        Ok((f, _)) => f,
        Err(e) => return error_found(path, ModuleOrigin::File, &name, format!("cannot read: {e}")),
    };
    match scope_reader(&name, file, query) {
        Ok(Some(mut r)) => {
            r.path = path.to_path_buf();
            Found::Record(Box::new(r))
        }
        Ok(None) => Found::OtherFile,
        Err(NotKeyless) => Found::OtherModule,
    }
}

/// A WebAssembly module that is not keyless-signed.
struct NotKeyless;

/// Judges one file's bytes: `Ok(None)` when it is neither a module nor transparency evidence.
fn scope_reader(
    name: &str,
    mut reader: impl Read,
    query: &KeylessQuery,
) -> Result<Option<KeylessRecord>, NotKeyless> {
    let mut head = Vec::with_capacity(HEAD);
    if let Err(e) = (&mut reader).take(HEAD as u64).read_to_end(&mut head) {
        return Ok(Some(error_record(name, None, format!("cannot read: {e}"))));
    }
    if head.starts_with(b"\0asm") {
        if !is_keyless_module(&head) {
            return Err(NotKeyless);
        }
        return Ok(Some(keyless_module(
            name,
            io::Cursor::new(head).chain(reader),
            query,
        )));
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Ok(None);
    }
    let limit = transparency::MAX_INPUT_BYTES as u64;
    let mut bytes = head;
    if let Err(e) = reader
        .take(limit + 1 - bytes.len() as u64)
        .read_to_end(&mut bytes)
    {
        return Ok(Some(error_record(name, None, format!("cannot read: {e}"))));
    }
    if bytes.len() as u64 > limit {
        // Bundles and entries are kilobytes; a larger JSON file is something else.
        return Ok(None);
    }
    Ok(transparency_record(name, &bytes, query))
}

/// The first section is a custom section named `signature` whose payload starts with wsc's
/// keyless version byte.
fn is_keyless_module(head: &[u8]) -> bool {
    if super::module::first_section_is_not_signature(head) {
        return false;
    }
    // Header (8), id (1), section size (LEB128), name length (1), "signature" (9).
    let mut pos = 9;
    while head.get(pos).is_some_and(|b| b & 0x80 != 0) {
        pos += 1;
    }
    head.get(pos + 1 + 1 + 9) == Some(&crate::wasm::keyless_section::KEYLESS_VERSION)
}

fn keyless_module(name: &str, reader: impl Read, query: &KeylessQuery) -> KeylessRecord {
    let scan = match Scanner::scan_reader(
        reader,
        ScanOptions {
            coverage: Coverage::Embedded,
            file_sha256: false,
        },
    ) {
        Ok(s) => s,
        Err(e) => {
            return error_record(
                name,
                Some(EvidenceKind::WscKeylessModule),
                format!("cannot read: {e}"),
            )
        }
    };
    let decode_error = match crate::wasm::keyless_signature(&scan) {
        Some(Err(e)) => Some(format!("the keyless signature cannot be decoded: {e}")),
        None => Some("the keyless signature cannot be decoded".to_owned()),
        Some(Ok(_)) => scan
            .error
            .as_ref()
            .map(|e| format!("not a well-formed module: {e}")),
    };
    let mut report = crate::wasm::analyse_module(scan, None, &[]);
    let verification =
        crate::wasm::check_keyless(&mut report, &query.root, &IdentityPolicy::default());
    match (verification, decode_error) {
        (Some(v), None) => record(
            name,
            EvidenceKind::WscKeylessModule,
            v,
            Vec::new(),
            None,
            query,
        ),
        (_, e) => error_record(
            name,
            Some(EvidenceKind::WscKeylessModule),
            e.unwrap_or_else(|| "the keyless signature cannot be checked".to_owned()),
        ),
    }
}

/// A JSON file: a Sigstore bundle or a Rekor entry gives a record; anything else (a trust root,
/// other JSON) gives none.
fn transparency_record(name: &str, bytes: &[u8], query: &KeylessQuery) -> Option<KeylessRecord> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let kind = if sigstore_bundle::is_bundle(&doc) {
        EvidenceKind::SigstoreBundle
    } else if transparency::rekor_entry::detect_shape(&doc).is_some() {
        EvidenceKind::RekorEntry
    } else {
        return None;
    };
    let report =
        match analyse_transparency_file(name, bytes, None, &query.root, &IdentityPolicy::default())
        {
            Ok(r) => r,
            Err(TransparencyError::UnknownFormat { .. }) => return None,
            Err(e) => return Some(error_record(name, Some(kind), e.to_string())),
        };
    // RFC 3161 times: the check only says they all verified; the times come from verifying
    // each token again (a bundle has at most a few).
    let tsa_times = match (kind, report.verification.outcome(CheckId::SignedTimestamp)) {
        (EvidenceKind::SigstoreBundle, Some(Outcome::Pass { .. })) => {
            SigstoreBundle::from_document(name, &doc)
                .ok()
                .map(|b| timestamp_times(&b, &query.root))
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Some(record(
        name,
        kind,
        report.verification,
        tsa_times,
        None,
        query,
    ))
}

fn timestamp_times(b: &SigstoreBundle, root: &TrustRoot) -> Vec<(DateTime<Utc>, String)> {
    let Some(signature) = b.content.timestamped_signature() else {
        return Vec::new();
    };
    b.timestamps
        .iter()
        .filter_map(|der| transparency::rfc3161::verify_timestamp(der, signature, root).ok())
        .map(|v| (v.gen_time, format!("RFC 3161 timestamp by {}", v.authority)))
        .collect()
}

/// The time transparency evidence proves, if any, else the time it states unproven.
fn signing_time(v: &Verification, tsa_times: Vec<(DateTime<Utc>, String)>) -> Option<SigningTime> {
    let passed = |id| v.outcome(id).is_some_and(Outcome::is_pass);
    let check = |id| v.checks.iter().find(|c: &&Check| c.id == id);
    // A log's time is about this artifact only when the entry binds it (a replayed entry
    // carries a genuine SET for another artifact's signing).
    let binds = check(CheckId::BodyBindsArtifact)
        .is_some_and(|c| c.outcome.is_pass() || (!c.required && !c.outcome.is_fail()));
    // Only the SET signs the integrated time: the inclusion proof and checkpoint prove the
    // body is in the log, but the time is outside the Merkle leaf, so an edited time passes them.
    if let Some(at) = v.summary.integrated_time {
        if passed(CheckId::LogInTrustRoot) && passed(CheckId::SignedEntryTimestamp) && binds {
            return Some(SigningTime {
                at,
                verified: true,
                source: "Rekor integrated time (signed entry timestamp verified)".to_owned(),
            });
        }
    }
    if let Some((at, source)) = tsa_times.into_iter().min_by_key(|(t, _)| *t) {
        return Some(SigningTime {
            at,
            verified: true,
            source,
        });
    }
    let at = v.summary.integrated_time?;
    let mut why: Vec<String> = [
        CheckId::LogInTrustRoot,
        CheckId::SignedEntryTimestamp,
        CheckId::InclusionProof,
        CheckId::Checkpoint,
        CheckId::BodyBindsArtifact,
    ]
    .into_iter()
    .filter_map(check)
    .filter(|c| c.outcome.is_fail())
    .map(|c| format!("{} failed", c.id.as_str()))
    .collect();
    if why.is_empty() {
        why.push("no signed entry timestamp verified it".to_owned());
    }
    Some(SigningTime {
        at,
        verified: false,
        source: format!("Rekor integrated time, not verified: {}", why.join(", ")),
    })
}

/// The code of the expected-signers finding.
pub const UNEXPECTED_SIGNER: &str = "unexpected-signer";

fn record(
    name: &str,
    kind: EvidenceKind,
    v: Verification,
    tsa_times: Vec<(DateTime<Utc>, String)>,
    origin: Option<ModuleOrigin>,
    query: &KeylessQuery,
) -> KeylessRecord {
    let identity = v.summary.identity.clone();
    let issuer = v.summary.oidc_issuer.clone();
    let time = signing_time(&v, tsa_times);
    let window = query.window.map(|w| match &time {
        Some(t) if t.verified && w.contains(t.at) => WindowStatus::InWindow,
        Some(t) if t.verified => WindowStatus::OutsideWindow,
        _ => WindowStatus::Unknown,
    });
    // Outside the window is the only placement that takes a record out of the question.
    let in_question = window != Some(WindowStatus::OutsideWindow);
    let identity_matches = identity
        .as_deref()
        .is_some_and(|i| query.identity.matches(i))
        && query
            .issuer
            .as_deref()
            .is_none_or(|want| issuer.as_deref() == Some(want));
    let expected = query
        .expected_signers
        .as_ref()
        .map(|list| matches!((&identity, &issuer), (Some(id), Some(iss)) if list.lists(id, iss)));
    let mut findings = Vec::new();
    if let (Some(false), true, Some(list)) = (expected, in_question, &query.expected_signers) {
        let who = match (&identity, &issuer) {
            (Some(id), Some(iss)) => format!("signer {id} (issuer {iss}) is not on"),
            (Some(id), None) => format!("signer {id} (issuer not recorded) is not on"),
            _ => {
                "the signer's identity is not recorded, so it cannot be checked against".to_owned()
            }
        };
        let when = match window {
            Some(WindowStatus::InWindow) => " and signed in the window",
            Some(WindowStatus::Unknown) => {
                "; its signing time is not verified, so it cannot be placed outside the window"
            }
            _ => "",
        };
        findings.push(Finding::new(
            UNEXPECTED_SIGNER,
            Severity::High,
            Some(IncidentType::SigstoreCompromise),
            format!("{who} the expected signers list {}{when}", list.file),
        ));
    }
    KeylessRecord {
        path: PathBuf::from(name),
        origin: origin.unwrap_or(ModuleOrigin::File),
        kind: Some(kind),
        identity,
        issuer,
        signing_time: time,
        window,
        identity_matches,
        expected,
        matches: (identity_matches && in_question) || !findings.is_empty(),
        verdict: Some(v.verdict()),
        checks: v.checks,
        findings,
        error: None,
    }
}

fn error_record(name: &str, kind: Option<EvidenceKind>, error: String) -> KeylessRecord {
    KeylessRecord {
        path: PathBuf::from(name),
        origin: ModuleOrigin::File,
        kind,
        identity: None,
        issuer: None,
        signing_time: None,
        window: None,
        identity_matches: false,
        expected: None,
        matches: false,
        verdict: None,
        checks: Vec::new(),
        findings: Vec::new(),
        error: Some(error),
    }
}

fn error_found(path: &Path, origin: ModuleOrigin, name: &str, error: String) -> Found {
    let mut r = error_record(name, None, error);
    r.path = path.to_path_buf();
    r.origin = origin;
    Found::Record(Box::new(r))
}

/// Bytes of the item list sorted in memory before a run is spilled.
const SORT_BUDGET: usize = 512 << 10;

/// The modules, Sigstore bundles and Rekor entries of a collected evidence bundle, streamed
/// from the zip in source-path order (the list sorted in spilled runs, as `scope` does).
fn scope_bundle(
    path: &Path,
    query: &KeylessQuery,
    emit: &mut dyn FnMut(Found),
) -> Result<(), String> {
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    reader.digest().map_err(|e| e.to_string())?;
    let new_sorter = || Sorter::new(&std::env::temp_dir(), SORT_BUDGET);
    let mut items = new_sorter();
    let mut others = 0usize;
    let mut spill_error = None;
    reader
        .stream_evidence_index(|event| match event {
            IndexEvent::Restart => {
                items = new_sorter();
                others = 0;
            }
            IndexEvent::Item(item) => match (item.kind, item.bag_path) {
                (
                    ItemKind::Module | ItemKind::SigstoreBundle | ItemKind::RekorEntry,
                    Some(bag_path),
                ) => {
                    let source = item.source.into_bytes();
                    if let Err(e) = items.push(&source, bag_path.as_bytes()) {
                        spill_error.get_or_insert(e);
                    }
                }
                _ => others += 1,
            },
        })
        .map_err(|e| e.to_string())?;
    reader.check_custody().map_err(|e| e.to_string())?;
    let temp_error = |e: io::Error| format!("{}: temporary file: {e}", path.display());
    if let Some(e) = spill_error {
        return Err(temp_error(e));
    }
    for _ in 0..others {
        emit(Found::OtherFile);
    }
    let bundle_name = path.display().to_string();
    let mut sorted = items.finish().map_err(temp_error)?;
    while let Some((source, bag_path)) = sorted.next_record().map_err(temp_error)? {
        let source = PathBuf::from(std::ffi::OsString::from_vec(source.to_vec()));
        let bag_path = String::from_utf8_lossy(bag_path).into_owned();
        let origin = ModuleOrigin::Bundle {
            bundle: bundle_name.clone(),
            bag_path: bag_path.clone(),
        };
        let name = source.display().to_string();
        let found = match reader.entry_reader(&bag_path) {
            Ok(r) => match scope_reader(&name, r, query) {
                Ok(Some(r)) => Found::Record(Box::new(r)),
                Ok(None) => Found::OtherFile,
                Err(NotKeyless) => Found::OtherModule,
            },
            Err(e) => error_found(&source, origin.clone(), &name, e.to_string()),
        };
        emit(match found {
            Found::Record(mut r) => {
                r.path = source;
                r.origin = origin;
                Found::Record(r)
            }
            other => other,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_identities() {
        let p = |s: &str| IdentityPattern::parse(s).unwrap();
        assert_eq!(p("a@example.com").kind, PatternKind::Exact);
        assert!(p("a@example.com").matches("a@example.com"));
        assert!(!p("a@example.com").matches("a@example.com.evil"));
        let g = p("https://github.com/org/*@refs/tags/*");
        assert_eq!(g.kind, PatternKind::Glob);
        assert!(g.matches("https://github.com/org/repo/.github/workflows/r.yml@refs/tags/v1"));
        assert!(!g.matches("https://github.com/other/repo@refs/tags/v1"));
        assert!(p("*").matches(""));
        assert!(p("?@x").matches("a@x"));
        assert!(!p("?@x").matches("ab@x"));
        assert!(p("*@example.com").matches("ci@example.com"));
        assert!(!p("*@example.com").matches("ci@example.co"));
        // Backtracking case that is exponential for a naive matcher.
        assert!(!p("*a*a*a*a*a*a*a*b").matches(&"a".repeat(200)));
        assert!(IdentityPattern::parse("").is_err());
    }

    #[test]
    fn expected_signer_lists_take_pairs_and_comments() {
        let l = ExpectedSigners::parse(
            "list",
            "# release signers\nci@example.com https://accounts.example.com # the CI\n\n  https://x.test/wf#frag https://token.example  \n",
        )
        .unwrap();
        assert_eq!(l.signers.len(), 2);
        assert!(l.lists("ci@example.com", "https://accounts.example.com"));
        assert!(l.lists("https://x.test/wf#frag", "https://token.example"));
        assert!(!l.lists("ci@example.com", "https://token.example"));
        let e = ExpectedSigners::parse("list", "ok@x https://i\nlonely@x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "list:2: expected `IDENTITY ISSUER` (two fields separated by white space), found 1 field(s)"
        );
    }
}
