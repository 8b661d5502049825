//! The collect pipeline: walk → read each source once (parallel, rayon) → write the bag into a
//! temp zip (in a deterministic order) → evidence.json, custody.jsonl, tag files, optional
//! examiner signature → fsync and rename into place.
//!
//! Order and memory: candidates are sorted by path and read by worker threads strictly in that
//! order ([`crate::io::pipeline`]), at most [`READ_BUDGET`] of held bytes (each file also
//! counting [`PER_FILE_COST`]) in flight, while this thread writes each result as soon as it is
//! the next in order; so memory does not grow with the input, and no reader waits at a batch
//! boundary. Payload entries therefore appear in the zip in sorted source-path order (the
//! first source of each content wins its hash-named entry); the metadata and tag files follow.
//! Same inputs and same collection time give the same bytes.
//!
//! The metadata is never held whole (100,000 modules make 600 MB of it): each item is rendered
//! as it is written (its evidence.json text, custody lines and timeline rows) and sorted into
//! evidence order through [`crate::io::spill`]; evidence.json, custody.jsonl and timeline.jsonl
//! are then streamed into their entries, in the bytes the whole-record serialisation gives.

use crate::acquire::bag_name::{hashed_bag_path, is_text, CaseNames};
use crate::acquire::read::{acquire_one, open_walked, stat_changes, AcquireResult, Acquired, Held};
use crate::acquire::AcquireOptions;
use crate::bundle::bagit::BagInfo;
use crate::bundle::signature::sign_digest;
use crate::bundle::writer::{AtomicFile, BagZipWriter, BundleSink, EntryWriter, WriteError};
use crate::io::spill::{put, Fields, Sorter, Spool};
use crate::model::case::CaseInfo;
use crate::model::custody::{Actor, CustodyAction, CustodyEvent};
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{
    DigestOf, Evidence, EvidenceItem, Finding, ItemKind, NotCollected, RecordedPath, Severity,
    ToolInfo, SCHEMA_VERSION,
};
use crate::source::walk::{collect_candidates, Candidate, SkipReason, SkippedPath};
use crate::timeline::EventSource;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bytes of held files (read, not yet written) in flight at most.
pub const READ_BUDGET: u64 = 32 << 20;
/// What each file in flight counts against [`READ_BUDGET`] besides its bytes, so that at most
/// 128 results (with their analyses) wait at once however small the files.
const PER_FILE_COST: u64 = READ_BUDGET / 128;
/// Bytes of rendered records (evidence items, custody lines, timeline rows) each external sort
/// holds before it writes a sorted run to its temp file; at most three are alive at once.
pub const SPILL_RUN_BYTES: usize = 4 << 20;
/// Bytes of custody lines held before they go to their temp file (they wait there, in order,
/// until evidence.json is written).
const SPOOL_BYTES: usize = 1 << 20;

/// Everything one collection needs. The CLI fills it from flags; tests from code.
pub struct CollectRequest {
    pub inputs: Vec<PathBuf>,
    /// The case file, stored under `data/case/` and analysed as such.
    pub case_file: Option<PathBuf>,
    /// The case as merged from the case file and flags; `case_id` names the bag folder.
    pub case: CaseInfo,
    /// Final bundle path (a file path; the CLI resolves directories).
    pub output: PathBuf,
    pub collected_at: DateTime<Utc>,
    /// True when the collection time was fixed (`--collected-at` / `SOURCE_DATE_EPOCH`): every
    /// custody event then records that time, so the bundle is reproducible.
    pub time_fixed: bool,
    pub force: bool,
    /// Deflate text entries (JSON, logs, case files, tag files) instead of storing them.
    pub compress: bool,
    pub sign_key: Option<SigningKey>,
    /// A timestamp authority's URL: its RFC 3161 token over the bundle digest is stored as
    /// `bundle-timestamp.tsr` (no bundle is written if it cannot be obtained).
    pub tsa: Option<crate::bundle::timestamp::Tsa>,
    /// Command line as given; values of secret-bearing flags are redacted before it is recorded
    /// ([`crate::model::custody::redact_argv`]).
    pub argv: Vec<String>,
    pub actor: Actor,
    pub acquire: AcquireOptions,
    /// Test hook: the bundle write fails after this many bytes.
    pub fail_write_after: Option<u64>,
    /// Test hook: [`SPILL_RUN_BYTES`] when `None`.
    pub spill_run_bytes: Option<usize>,
}

/// What a successful collection produced. The evidence itself is only in the bundle (read it
/// back with [`crate::bundle::open_bundle`]): collect never holds all of it.
#[derive(Debug)]
pub struct CollectOutcome {
    pub path: PathBuf,
    pub digest: Sha256Digest,
    pub summary: CollectSummary,
    pub payload_files: u64,
    pub payload_bytes: u64,
    /// Bytes written to anonymous temp files beside the bundle while sorting the records
    /// (0 when they fitted in memory).
    pub spilled_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("case id {0:?} cannot name the bag folder: use letters, digits, '.', '_' or '-' (not starting with '.')")]
    BadCaseId(String),
    /// No regular file under the inputs (and no case file): no bundle is written, since an
    /// empty one would verify as intact.
    #[error("nothing to collect: {}", nothing_collected_text(.not_collected))]
    NothingToCollect { not_collected: Vec<NotCollected> },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Why [`CollectError::NothingToCollect`]: what the walk saw instead of regular files.
fn nothing_collected_text(seen: &[NotCollected]) -> String {
    const SHOWN: usize = 3;
    let mut text = String::from("no regular file under the inputs");
    if seen.is_empty() {
        return text;
    }
    let listed: Vec<String> = seen
        .iter()
        .take(SHOWN)
        .map(|n| format!("{}: {}", n.path, n.reason))
        .collect();
    text.push_str(&format!(
        " ({} seen but not collected: {}",
        seen.len(),
        listed.join("; ")
    ));
    if seen.len() > SHOWN {
        text.push_str(", …");
    }
    text.push(')');
    text
}

/// True when `id` is usable as the single top folder of the zip.
pub fn valid_case_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Largest file read as a possible key in the pre-pass (real key files are under 16 KiB).
const KEY_PREPASS_MAX: u64 = 64 * 1024;

/// The Ed25519 public keys held by key files among the candidates (public files, and the
/// public half of secret files). Key files are tiny, so this small extra read is cheap.
fn keys_among(cands: &[Candidate]) -> Vec<crate::keys::PublicKey> {
    // Read in parallel (hundreds of small modules are read here only to be classified), then
    // deduplicated in candidate order so the key list does not depend on thread timing.
    let found: Vec<crate::keys::PublicKey> = cands
        .par_iter()
        .filter(|c| c.size <= KEY_PREPASS_MAX)
        .filter_map(|c| {
            // Opened like every source (no symlink followed, no FIFO waited on: the file may
            // have been swapped since the walk), and never read past the pre-pass limit.
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(
                    open_walked(&c.path, c.dev, c.ino).ok()?.0,
                    KEY_PREPASS_MAX + 1,
                ),
                &mut bytes,
            )
            .ok()?;
            if bytes.len() as u64 > KEY_PREPASS_MAX {
                return None;
            }
            let kind = crate::source::kind::classify(&c.path, &bytes);
            if !matches!(kind, ItemKind::PublicKey | ItemKind::SecretKey) {
                return None;
            }
            crate::keys::parse_key_file(&c.path.display().to_string(), &bytes)
                .ok()?
                .public_key
        })
        .collect();
    let mut out = Vec::new();
    for pk in found {
        if !out.contains(&pk) {
            out.push(pk);
        }
    }
    out
}

/// One acquired item after it went into the zip.
struct Written {
    acq: Box<Acquired>,
    bag_path: Option<String>,
    /// Set when the streamed copy of a large file hashed differently from its first read.
    reread_mismatch: Option<Sha256Digest>,
}

struct WriteState {
    output: PathBuf,
    writer: BagZipWriter,
    case_names: CaseNames,
    recorder: Recorder,
    not_collected: Vec<NotCollected>,
}

/// What the CLI prints about a collection (the evidence itself is in the bundle).
#[derive(Debug, Clone, Default)]
pub struct CollectSummary {
    pub case_id: String,
    pub collected_at: DateTime<Utc>,
    /// Evidence items written.
    pub items: u64,
    pub items_by_kind: BTreeMap<ItemKind, u64>,
    /// Every finding (each item's; collect records no case-wide ones).
    pub findings_by_severity: BTreeMap<Severity, u64>,
    /// Source paths of the items that changed while they were collected, in evidence order.
    pub changed_during_acquisition: Vec<String>,
    /// As in evidence.json: sorted by path.
    pub not_collected: Vec<NotCollected>,
}

impl CollectSummary {
    /// Highest severity among all findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings_by_severity.keys().next_back().copied()
    }
}

/// The sort key of an evidence item, as bytes that compare like `(bag_path, source path)` (the
/// order of evidence.json): `Option<&str>` (`None` first, then the text and a 0 terminator),
/// then the path's components like [`Path`]'s `Ord` (a tag per component kind, in `Component`
/// order, and a normal component's bytes with a 0 terminator: no component holds a 0 byte).
fn item_key(bag_path: Option<&str>, path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    use std::path::Component;
    let mut k = Vec::with_capacity(bag_path.map_or(0, str::len) + path.as_os_str().len() + 16);
    match bag_path {
        None => k.push(0),
        Some(b) => {
            k.push(1);
            k.extend_from_slice(b.as_bytes());
            k.push(0);
        }
    }
    for c in path.components() {
        match c {
            Component::Prefix(p) => {
                k.push(0);
                k.extend_from_slice(p.as_os_str().as_bytes());
                k.push(0);
            }
            Component::RootDir => k.push(1),
            Component::CurDir => k.push(2),
            Component::ParentDir => k.push(3),
            Component::Normal(s) => {
                k.push(4);
                k.extend_from_slice(s.as_bytes());
                k.push(0);
            }
        }
    }
    k
}

/// The sort key of a timeline row, as bytes that compare like `timeline::build` sorts: the
/// instant at full precision, then the source's rank (ties keep push order: the sorter is stable).
fn row_key(at: DateTime<Utc>, source: EventSource) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[..8].copy_from_slice(&((at.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    k[8..12].copy_from_slice(&at.timestamp_subsec_nanos().to_be_bytes());
    k[12] = source as u8;
    k
}

/// A custody line before its `seq` is known: the line is `{"seq":`, the decimal seq, then this
/// tail (seq is the first field of a [`CustodyEvent`], serialised as a plain number).
fn custody_tail(ev: &CustodyEvent) -> Vec<u8> {
    const HEAD: &[u8] = b"{\"seq\":0,";
    debug_assert_eq!(ev.seq, 0);
    let mut v = serde_json::to_vec(ev).expect("custody serialises");
    assert!(v.starts_with(HEAD), "custody line layout changed");
    v.drain(..HEAD.len() - 1);
    v
}

fn event_time(
    fixed: Option<DateTime<Utc>>,
    t: DateTime<Utc>,
) -> chrono::DateTime<chrono::FixedOffset> {
    fixed.unwrap_or(t).fixed_offset()
}

fn push_seq(out: &mut Vec<u8>, seq: u64) {
    use std::io::Write;
    write!(out, "{seq}").expect("writing to memory");
}

/// What rendering an item needs besides the item.
struct RenderContext {
    /// Custody fields shared by every event (actor, tool, redacted argv); the per-event fields
    /// are set for each item and taken back.
    template: CustodyEvent,
    /// Every custody event records this time when the collection time was fixed.
    fixed_time: Option<DateTime<Utc>>,
    collected_at: DateTime<Utc>,
    citable: Vec<(String, DateTime<Utc>)>,
}

/// One item rendered for the sort: its key and record value (evidence.json text, custody
/// lines and timeline rows, all but the custody `seq`, which depends on the final order), and
/// what the summary counts.
struct Rendered {
    key: Vec<u8>,
    value: Vec<u8>,
    json_len: u64,
    kind: ItemKind,
    severities: Vec<Severity>,
    changed: Option<String>,
    case_file: Option<CaseFileItem>,
}

/// (item key, SHA-256, source path, (event type, time) of each item time) of a case file.
type CaseFileItem = (Vec<u8>, Sha256Digest, String, Vec<(String, DateTime<Utc>)>);

/// Appends one custody event to a record value: its line tail and its timeline row (key, and
/// the line split around the seq).
fn put_custody(ev: &CustodyEvent, out: &mut Vec<u8>) {
    let tail = custody_tail(ev);
    let (at, prefix, suffix) = crate::timeline::custody_row_parts(ev);
    put(out, &tail);
    put(out, &row_key(at, EventSource::Custody));
    put(out, &prefix);
    put(out, &suffix);
}

/// Finishes an item (secret-key naming, the changed-during-acquisition finding; owner names
/// are already resolved) and renders it.
fn render(ctx: &mut RenderContext, w: Written) -> Rendered {
    let template = &mut ctx.template;
    let mut a = *w.acq;
    let key = item_key(w.bag_path.as_deref(), &a.path);
    // A secret key file's hash would let anyone confirm a guess of the secret: the item is
    // named by its public key's fingerprint instead (or by its path when none is derivable).
    let digest_of = if a.kind == ItemKind::SecretKey {
        let fp = a.analysis.key().and_then(|k| k.fingerprint_sha256);
        a.sha256 = fp.unwrap_or_else(|| Sha256Digest::of(a.path.as_os_str().as_encoded_bytes()));
        if fp.is_some() {
            DigestOf::PublicKey
        } else {
            DigestOf::SourcePath
        }
    } else {
        DigestOf::File
    };
    let (action, note) = match &w.bag_path {
        None => (
            CustodyAction::MetadataOnly,
            "secret key: stat and public-key fingerprint recorded; bytes not copied, not hashed"
                .to_owned(),
        ),
        Some(bp) => (CustodyAction::Acquired, format!("copied to {bp}")),
    };
    let changed = !a.changed.is_empty();
    // The custody events borrow the item's fields through the template, then give them back.
    template.time = event_time(ctx.fixed_time, a.acquired_at);
    template.action = action;
    template.source = Some(RecordedPath::from_path(&a.path));
    template.stat_before = Some(a.stat_before);
    template.stat_after = a.stat_after;
    template.sha256 = Some(a.sha256);
    template.note = note;
    let mut custody = Vec::new();
    put(&mut custody, &[1 + changed as u8]);
    put_custody(template, &mut custody);
    let stat_before = template.stat_before.take().expect("set above");
    let stat_after = template.stat_after.take();
    let mut findings = a.findings;
    if changed {
        let note = a.changed.join("; ");
        template.action = CustodyAction::ChangedDuringAcquisition;
        template.note = note.clone();
        put_custody(template, &mut custody);
        let source = template.source.as_ref().expect("set above");
        let mut f = Finding::new(
            "changed-during-acquisition",
            Severity::Medium,
            None,
            format!("{source} changed while it was collected: {note}"),
        );
        if let Some(first) = w.reread_mismatch {
            f.related.push(first);
        }
        findings.push(f);
    }
    let source = template.source.take().expect("set above");
    template.sha256 = None;
    template.note = String::new();

    let item = EvidenceItem {
        source,
        kind: a.kind,
        sha256: a.sha256,
        digest_of,
        size: a.size,
        bag_path: w.bag_path,
        stat_before,
        stat_after,
        changed_during_acquisition: a.changed,
        analysis: a.analysis,
        findings,
        times: a.times,
    };
    // Record value: evidence.json text, custody events, then the other timeline rows.
    let json = serde_json::to_vec(&item).expect("evidence serialises");
    let mut value = Vec::with_capacity(json.len() * 2 + custody.len());
    put(&mut value, &json);
    value.extend_from_slice(&custody);
    for row in crate::timeline::item_rows(&item, ctx.collected_at, &ctx.citable) {
        put(&mut value, &row_key(row.at, row.source));
        put(&mut value, &row.line);
    }
    let case_file = (item.kind == ItemKind::CaseFile).then(|| {
        let times = item
            .times
            .iter()
            .map(|t| (t.event_type.clone(), t.at))
            .collect();
        (key.clone(), item.sha256, item.source.text.clone(), times)
    });
    Rendered {
        key,
        value,
        json_len: json.len() as u64,
        kind: item.kind,
        severities: item.findings.iter().map(|f| f.severity).collect(),
        changed: changed.then(|| item.source.text.clone()),
        case_file,
    }
}

/// Takes each evidence item as soon as it is written and hands it, rendered, to an external
/// sort: memory stays flat however many items there are.
struct Recorder {
    items: Sorter,
    ctx: RenderContext,
    /// Owner names, resolved once per uid (the host's account database, as seen at collection).
    owners: HashMap<u32, Option<String>>,
    /// Bytes of the items' evidence.json text.
    evidence_bytes: u64,
    summary: CollectSummary,
    /// (item key, source path) of items that changed during acquisition.
    changed: Vec<(Vec<u8>, String)>,
    case_files: Vec<CaseFileItem>,
}

impl Recorder {
    fn resolve_owner(&mut self, st: &mut crate::model::evidence::FileStat) {
        st.owner = self
            .owners
            .entry(st.uid)
            .or_insert_with(|| crate::keys::owner_name(st.uid))
            .clone();
    }

    /// Renders a batch of items and pushes them to the sort, in order. This runs on the
    /// writing thread while the readers go on: rendered in the readers' threads,
    /// the records would spread over the allocator's per-thread heaps, which keep what they
    /// once held (about 5 MB more per reader on 100,000 files).
    fn record(&mut self, written: Vec<Written>) -> std::io::Result<()> {
        for mut w in written {
            self.resolve_owner(&mut w.acq.stat_before);
            if let Some(mut st) = w.acq.stat_after.take() {
                self.resolve_owner(&mut st);
                w.acq.stat_after = Some(st);
            }
            let r = render(&mut self.ctx, w);
            self.items.push(&r.key, &r.value)?;
            self.evidence_bytes += r.json_len;
            let s = &mut self.summary;
            s.items += 1;
            *s.items_by_kind.entry(r.kind).or_default() += 1;
            for sev in r.severities {
                *s.findings_by_severity.entry(sev).or_default() += 1;
            }
            if let Some(p) = r.changed {
                self.changed.push((r.key, p));
            }
            self.case_files.extend(r.case_file);
        }
        Ok(())
    }
}

fn write_batch(
    st: &mut WriteState,
    results: Vec<AcquireResult>,
    opts: &AcquireOptions,
) -> Result<(), WriteError> {
    let mut written = Vec::with_capacity(results.len());
    for r in results {
        let mut acq = match r {
            AcquireResult::NotCollected(n) => {
                st.not_collected.push(n);
                continue;
            }
            AcquireResult::Acquired(a) => a,
        };
        let bag_path = match acq.kind {
            ItemKind::SecretKey => None,
            ItemKind::CaseFile | ItemKind::Attachment => {
                Some(st.case_names.name_for(&acq.path, acq.sha256))
            }
            k => hashed_bag_path(k, &acq.sha256),
        };
        let mut reread_mismatch = None;
        if let Some(bp) = &bag_path {
            if !st.writer.contains(bp) {
                let text = is_text(acq.kind);
                match std::mem::replace(&mut acq.held, Held::Reread) {
                    Held::Bytes(bytes) => {
                        st.writer.add_payload_bytes(bp, &bytes, acq.sha256, text)?;
                    }
                    Held::MetadataOnly => {}
                    Held::Reread => {
                        // Second read of a large file: hashed again while copied; the bag holds
                        // exactly the bytes hashed now, so the item records this digest and the
                        // difference is flagged.
                        // A source that cannot be re-read is not collected; the run goes on.
                        let file = match open_walked(&acq.path, acq.dev, acq.ino) {
                            Ok((f, _)) => f,
                            Err(e) => {
                                st.not_collected.push(NotCollected::new(
                                    RecordedPath::from_path(&acq.path),
                                    format!("hashed, then could not be reopened to copy: {e}"),
                                ));
                                continue;
                            }
                        };
                        let before = file.metadata().ok();
                        let copied =
                            st.writer
                                .add_payload_stream(bp, &file, acq.size, text, &|n| {
                                    opts.progress(n)
                                })?;
                        let (digest, n) = match copied {
                            Ok(r) => r,
                            Err(e) => {
                                st.not_collected.push(NotCollected::new(
                                    RecordedPath::from_path(&acq.path),
                                    format!("hashed, then the copying read failed: {e}"),
                                ));
                                continue;
                            }
                        };
                        if let (Some(b), Ok(a)) = (before, file.metadata()) {
                            acq.changed
                                .extend(stat_changes(&b, &a, "during the copying read"));
                        }
                        if digest != acq.sha256 || n != acq.size {
                            reread_mismatch = Some(acq.sha256);
                            acq.changed.push(format!(
                                "content differs between the hashing read ({} bytes, sha256 {}) and the copying read ({n} bytes, sha256 {digest})",
                                acq.size, acq.sha256
                            ));
                            acq.sha256 = digest;
                            acq.size = n;
                        }
                    }
                }
            }
        }
        // A duplicate of content already written keeps only its hash-named entry; held bytes
        // are dropped here, so memory is returned batch by batch.
        acq.held = Held::MetadataOnly;
        written.push(Written {
            acq,
            bag_path,
            reread_mismatch,
        });
    }
    st.recorder.record(written).map_err(|e| WriteError::Temp {
        path: st.output.clone(),
        source: e,
    })
}

/// True when `path` is named like a temp file of a collect to the same destination as `temp`
/// (`.<name>.partial-<pid>-<16 hex>` in the same folder), other than `temp` itself.
fn is_leftover_temp(path: &Path, temp: &Path) -> bool {
    let (Some(name), Some(ours)) = (path.file_name(), temp.file_name()) else {
        return false;
    };
    let (name, ours) = (name.to_string_lossy(), ours.to_string_lossy());
    let Some(prefix) = ours
        .rfind(".partial-")
        .map(|i| &ours[..i + ".partial-".len()])
    else {
        return false;
    };
    let Some((pid, hex)) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split_once('-'))
    else {
        return false;
    };
    path.parent() == temp.parent()
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 16
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Runs one collection. On any error the temp file is removed and nothing is left at
/// `req.output`.
pub fn collect(req: &CollectRequest) -> Result<CollectOutcome, CollectError> {
    let case_id = req.case.case_id.clone();
    if !valid_case_id(&case_id) {
        return Err(CollectError::BadCaseId(case_id));
    }
    let started = if req.time_fixed {
        req.collected_at
    } else {
        Utc::now()
    };
    let (atomic, file) = AtomicFile::create(&req.output, req.force)?;
    let temp = std::path::absolute(atomic.temp_path()).unwrap_or_default();
    let (cands, walk_skipped) = walk_sources(req, &temp);
    if cands.is_empty() {
        // The temp file goes with `atomic`: no bundle, not even an empty one.
        return Err(CollectError::NothingToCollect {
            not_collected: walk_skipped,
        });
    }
    let opts = &acquire_options(req, &cands);
    // Records spill beside the bundle (same filesystem as the bundle; anonymous files).
    let spill_dir = atomic.dir();
    let sink = BundleSink::new(file, req.fail_write_after);
    let mut st = write_state(req, sink, &spill_dir, walk_skipped);
    // Declared after `st`, so dropped before it on an error return.
    let _abandon = st.writer.discard_on_drop();
    st.writer.reserve(cands.len());
    // Readers take the candidates strictly in order, at most READ_BUDGET bytes of held files
    // in flight, while this thread writes each result as soon as it is the next one in order
    // (and the bundle's long-lived bookkeeping stays in this thread's heap).
    let in_memory_limit = opts.in_memory_limit;
    crate::io::pipeline::run_ordered(
        cands,
        rayon::current_num_threads(),
        READ_BUDGET,
        |c: &Candidate| PER_FILE_COST + if c.size <= in_memory_limit { c.size } else { 0 },
        |c: Candidate| acquire_one(&c, opts),
        |batch: Vec<AcquireResult>| write_batch(&mut st, batch, opts),
    )?;

    // `st` stays whole until the end (its writer is what `_abandon` guards).
    let mut not_collected = std::mem::take(&mut st.not_collected);
    not_collected.sort_by(|a, b| a.path.cmp(&b.path));
    let rec = st.recorder;
    let temp_err = |e: std::io::Error| {
        CollectError::Write(WriteError::Temp {
            path: req.output.clone(),
            source: e,
        })
    };
    let run_bytes = req.spill_run_bytes.unwrap_or(SPILL_RUN_BYTES);
    let mut journal = Journal {
        custody: Spool::new(&spill_dir, SPOOL_BYTES),
        rows: Sorter::new(&spill_dir, run_bytes / 2),
        line: Vec::new(),
        template: rec.ctx.template,
        fixed_time: rec.ctx.fixed_time,
        seq: 0,
    };
    let note = format!("collection into {}", req.output.display());
    journal
        .event(started, CustodyAction::CollectionStarted, None, note)
        .map_err(temp_err)?;
    let items_total = rec.items.len();
    let items_spilled = rec.items.spilled_bytes();
    let evidence = Evidence {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::this(),
        case: req.case.clone(),
        collected_at: req.collected_at,
        items: Vec::new(),
        not_collected,
        findings: Vec::new(),
    };
    write_evidence(
        &mut st.writer,
        &evidence,
        rec.items,
        rec.evidence_bytes,
        &mut journal,
    )?;
    journal_tail(
        req,
        &mut journal,
        &evidence.not_collected,
        items_total,
        started,
        rec.case_files,
    )
    .map_err(temp_err)?;
    let spilled = items_spilled + journal.custody.spilled_bytes() + journal.rows.spilled_bytes();
    write_custody_and_timeline(&mut st.writer, journal)?;
    let bag = seal(st.writer, atomic, req)?;
    let mut summary = rec.summary;
    let mut changed = rec.changed;
    changed.sort_by(|a, b| a.0.cmp(&b.0));
    summary.changed_during_acquisition = changed.into_iter().map(|(_, p)| p).collect();
    summary.not_collected = evidence.not_collected;
    Ok(CollectOutcome {
        path: req.output.clone(),
        digest: bag.digest,
        summary,
        payload_files: bag.payload_files,
        payload_bytes: bag.payload_bytes,
        spilled_bytes: spilled,
    })
}

/// Walk phase: the candidates to acquire and what the walk saw but will not collect (sorted by
/// path). Never our own temp file (the bundle may be written inside an input folder), nor the
/// temp files a killed collect to the same destination left behind (SIGKILL cannot clean up):
/// they are this tool's half-written zips, not evidence; recorded, not copied.
fn walk_sources(req: &CollectRequest, temp: &Path) -> (Vec<Candidate>, Vec<NotCollected>) {
    let (mut cands, skipped) = collect_candidates(
        &req.inputs,
        req.case_file.as_deref(),
        req.acquire.max_file_size,
    );
    cands.retain(|c| c.path != temp);
    let mut leftovers = Vec::new();
    cands.retain(|c| {
        let leftover = is_leftover_temp(&c.path, temp);
        if leftover {
            leftovers.push(SkippedPath {
                path: c.path.clone(),
                reason: SkipReason::LeftoverTemp,
            });
        }
        !leftover
    });
    let mut not_collected: Vec<NotCollected> =
        skipped.iter().map(SkippedPath::not_collected).collect();
    not_collected.sort_by(|a, b| a.path.cmp(&b.path));
    not_collected.dedup();
    not_collected.extend(leftovers.iter().map(SkippedPath::not_collected));
    (cands, not_collected)
}

/// Modules are judged against every public key in the inputs (and the public half of every
/// secret key: the compromised key's secret file names the key that matters most), besides the
/// keys the request gives.
fn acquire_options(req: &CollectRequest, cands: &[Candidate]) -> AcquireOptions {
    let given = &req.acquire.analysis;
    let mut analysis = crate::analyse::AnalysisContext {
        keys: given.keys.clone(),
        trust_root: given.trust_root.clone(),
        policy: given.policy.clone(),
        detached_signature: given.detached_signature.clone(),
        module_file_sha256: given.module_file_sha256,
    };
    for k in keys_among(cands) {
        if !analysis.keys.contains(&k) {
            analysis.keys.push(k);
        }
    }
    AcquireOptions {
        analysis: std::sync::Arc::new(analysis),
        ..req.acquire.clone()
    }
}

/// The bag writer and the recorder the acquisition phase writes into.
fn write_state(
    req: &CollectRequest,
    sink: BundleSink,
    spill_dir: &Path,
    not_collected: Vec<NotCollected>,
) -> WriteState {
    let case_id = &req.case.case_id;
    let run_bytes = req.spill_run_bytes.unwrap_or(SPILL_RUN_BYTES);
    WriteState {
        output: req.output.clone(),
        writer: BagZipWriter::new(sink, &req.output, case_id, req.collected_at, req.compress),
        case_names: CaseNames::default(),
        recorder: Recorder {
            items: Sorter::new(spill_dir, run_bytes),
            ctx: RenderContext {
                template: CustodyEvent {
                    seq: 0,
                    time: req.collected_at.fixed_offset(),
                    action: CustodyAction::Acquired,
                    actor: req.actor.clone(),
                    tool: ToolInfo::this(),
                    argv: crate::model::custody::redact_argv(&req.argv),
                    source: None,
                    stat_before: None,
                    stat_after: None,
                    sha256: None,
                    note: String::new(),
                },
                fixed_time: req.time_fixed.then_some(req.collected_at),
                collected_at: req.collected_at,
                citable: crate::timeline::citable_case_times(&req.case),
            },
            owners: HashMap::new(),
            evidence_bytes: 0,
            summary: CollectSummary {
                case_id: case_id.clone(),
                collected_at: req.collected_at,
                ..Default::default()
            },
            changed: Vec::new(),
            case_files: Vec::new(),
        },
        not_collected,
    }
}

/// Custody lines (spooled until evidence.json is written) and timeline rows (sorted) of the
/// events written after the items are known, numbered in order.
struct Journal {
    custody: Spool,
    rows: Sorter,
    line: Vec<u8>,
    /// Fields shared by every custody event.
    template: CustodyEvent,
    fixed_time: Option<DateTime<Utc>>,
    /// `seq` of the next event.
    seq: u64,
}

impl Journal {
    /// Records one collection-level event.
    fn event(
        &mut self,
        time: DateTime<Utc>,
        action: CustodyAction,
        source: Option<RecordedPath>,
        note: String,
    ) -> std::io::Result<()> {
        let ev = CustodyEvent {
            seq: self.seq,
            time: event_time(self.fixed_time, time),
            action,
            source,
            note,
            ..self.template.clone()
        };
        self.seq += 1;
        self.line.clear();
        serde_json::to_writer(&mut self.line, &ev).expect("custody serialises");
        self.line.push(b'\n');
        self.custody.write(&self.line)?;
        let row = crate::timeline::custody_row(&ev);
        self.rows.push(&row_key(row.at, row.source), &row.line)
    }

    /// Passes on an item record's custody events (numbered now: the final order is known) and
    /// its other timeline rows, as `render` laid them out after the evidence text.
    fn item_events(&mut self, f: &mut Fields<'_>) -> std::io::Result<()> {
        let events = f.take()?.first().copied().unwrap_or(0);
        for _ in 0..events {
            let (tail, key, prefix, suffix) = (f.take()?, f.take()?, f.take()?, f.take()?);
            self.line.clear();
            self.line.extend_from_slice(b"{\"seq\":");
            push_seq(&mut self.line, self.seq);
            self.line.extend_from_slice(tail);
            self.line.push(b'\n');
            self.custody.write(&self.line)?;
            self.line.clear();
            self.line.extend_from_slice(prefix);
            push_seq(&mut self.line, self.seq);
            self.line.extend_from_slice(suffix);
            self.rows.push(key, &self.line)?;
            self.seq += 1;
        }
        while !f.is_empty() {
            let (key, row) = (f.take()?, f.take()?);
            self.rows.push(key, row)?;
        }
        Ok(())
    }
}

/// evidence.json, streamed in the bytes `serde_json::to_vec(&evidence)` gives with the items in
/// evidence order; each item's custody lines and timeline rows are passed on to the journal.
fn write_evidence(
    writer: &mut BagZipWriter,
    evidence: &Evidence,
    items: Sorter,
    evidence_bytes: u64,
    journal: &mut Journal,
) -> Result<(), WriteError> {
    let items_total = items.len();
    let (head, tail) = evidence_frame(evidence);
    let evidence_size =
        head.len() as u64 + evidence_bytes + items_total.saturating_sub(1) + tail.len() as u64 + 1;
    writer.add_payload_with(crate::bundle::EVIDENCE_PATH, evidence_size, true, |w| {
        let mut merge = items.finish()?;
        w.write_all(&head)?;
        let mut first = true;
        while let Some((_, value)) = merge.next_record()? {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            let mut f = Fields::new(value);
            w.write_all(f.take()?)?;
            journal.item_events(&mut f)?;
        }
        w.write_all(&tail)?;
        w.write_all(b"\n")
    })?;
    Ok(())
}

/// The events after the items: one per source not collected, the end of the collection, and
/// the case's declared events (citing the first case file, in evidence order, with that time).
fn journal_tail(
    req: &CollectRequest,
    journal: &mut Journal,
    not_collected: &[NotCollected],
    items_total: u64,
    started: DateTime<Utc>,
    mut case_files: Vec<CaseFileItem>,
) -> std::io::Result<()> {
    for n in not_collected {
        let (source, note) = (Some(n.path.clone()), n.reason.clone());
        journal.event(started, CustodyAction::NotCollected, source, note)?;
    }
    let note = format!(
        "{} items collected, {} not collected",
        items_total,
        not_collected.len()
    );
    journal.event(Utc::now(), CustodyAction::CollectionFinished, None, note)?;
    case_files.sort_by(|a, b| a.0.cmp(&b.0));
    let case_file_times: Vec<crate::timeline::CaseFileTime<'_>> = case_files
        .iter()
        .flat_map(|(_, sha, path, times)| {
            times
                .iter()
                .map(move |(ty, at)| (ty.as_str(), *at, *sha, path.as_str()))
        })
        .collect();
    for row in crate::timeline::case_rows(&req.case, &case_file_times) {
        journal.rows.push(&row_key(row.at, row.source), &row.line)?;
    }
    Ok(())
}

/// custody.jsonl, then the derived timeline (so a reader without this tool still has it).
fn write_custody_and_timeline(
    writer: &mut BagZipWriter,
    journal: Journal,
) -> Result<(), WriteError> {
    let Journal { custody, rows, .. } = journal;
    writer.add_payload_with(crate::bundle::CUSTODY_PATH, custody.len(), true, |w| {
        custody.copy_to(w)
    })?;
    writer.add_payload_with(
        crate::bundle::TIMELINE_PATH,
        rows.value_bytes(),
        true,
        |w: &mut EntryWriter<'_>| -> std::io::Result<()> {
            let mut merge = rows.finish()?;
            while let Some((_, v)) = merge.next_record()? {
                w.write_all(v)?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

/// Tag files and the optional examiner signature, then fsync and rename into place.
fn seal(
    writer: BagZipWriter,
    atomic: AtomicFile,
    req: &CollectRequest,
) -> Result<crate::bundle::writer::FinishedBag, CollectError> {
    let tool = ToolInfo::this();
    let info = BagInfo {
        external_identifier: req.case.case_id.clone(),
        contact_name: req.case.examiner.clone(),
        source_organization: req.case.organization.clone(),
        bagging_date: req.collected_at.format("%Y-%m-%d").to_string(),
        payload_octets: 0,
        payload_streams: 0,
        software_agent: format!("{} {}", tool.name, tool.version),
        incident_type: req.case.incident_type.map(|t| t.code().to_owned()),
        severity: req.case.severity.map(|s| s.as_str().to_owned()),
    };
    let signer = req
        .sign_key
        .as_ref()
        .map(|k| move |d: Sha256Digest| sign_digest(k, d));
    let stamper = req
        .tsa
        .as_ref()
        .map(|tsa| move |d: Sha256Digest| tsa.stamp(&d));
    let (sink, bag) = writer.finish(
        info,
        signer
            .as_ref()
            .map(|s| s as &dyn Fn(Sha256Digest) -> crate::bundle::signature::BundleSignature),
        stamper
            .as_ref()
            .map(|s| s as &crate::bundle::writer::TimestampHook<'_>),
    )?;
    atomic.commit(sink.into_file(), req.force)?;
    Ok(bag)
}

/// evidence.json around its items: `serde_json::to_vec(evidence)` of an evidence record without
/// items is `head` + `]` + the rest, so the full text is `head`, the items joined by `,`, then
/// `tail` (which begins with that `]`).
fn evidence_frame(evidence: &Evidence) -> (Vec<u8>, Vec<u8>) {
    const ITEMS: &[u8] = b",\"items\":[";
    assert!(evidence.items.is_empty());
    let mut whole = serde_json::to_vec(evidence).expect("evidence serialises");
    // The last match is the field: what follows it (not-collected paths and reasons, findings)
    // has fixed keys, and a `"` inside a string is escaped.
    let at = whole
        .windows(ITEMS.len() + 1)
        .rposition(|w| w[..ITEMS.len()] == *ITEMS && w[ITEMS.len()] == b']')
        .expect("evidence has an items field")
        + ITEMS.len();
    let tail = whole.split_off(at);
    (whole, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_are_single_safe_components() {
        assert!(valid_case_id("IR-2026-017"));
        for bad in ["", ".", "..", "a/b", "a b", ".hidden", "a\\b"] {
            assert!(!valid_case_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn item_keys_order_like_bag_path_then_path() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        // Paths whose byte order differs from their component order ('-', '.', ' ' sort
        // before '/'), relative ones, `..`, repeated and trailing separators, non-UTF-8 bytes.
        let raw: &[&[u8]] = &[
            b"/a/b",
            b"/a-b",
            b"/a.b/c",
            b"/a/b/c",
            b"/a//b",
            b"/a/b/",
            b"/a b",
            b"/a",
            b"/",
            b"a/b",
            b"./a",
            b"../a",
            b"/a/../b",
            b"/a/\xff",
            b"/a/\x01",
            b"/ab",
            b"/a/b\xc3\xa9",
        ];
        let bags = [
            None,
            Some("data/case/a"),
            Some("data/case/a b"),
            Some("data/case/ab"),
            Some("data/modules/00.wasm"),
            Some("data/modules/0.wasm"),
        ];
        let mut all: Vec<(Option<&str>, &Path)> = Vec::new();
        for b in bags {
            for r in raw {
                all.push((b, Path::new(OsStr::from_bytes(r))));
            }
        }
        for x in &all {
            for y in &all {
                assert_eq!(
                    item_key(x.0, x.1).cmp(&item_key(y.0, y.1)),
                    x.cmp(y),
                    "{x:?} vs {y:?}"
                );
            }
        }
    }

    #[test]
    fn row_keys_order_like_the_timeline_sort() {
        let t = |s: i64, n: u32| DateTime::from_timestamp(s, n).unwrap();
        let times = [
            t(-86_400 * 365, 5),
            t(-1, 999_999_999),
            t(0, 0),
            t(0, 1),
            t(1_767_225_599, 0),
            // A leap second (nanoseconds past 1e9) sorts after the second before it.
            t(1_767_225_599, 1_500_000_000),
            t(1_767_225_600, 0),
        ];
        let sources = [
            EventSource::CaseFile,
            EventSource::Custody,
            EventSource::FileStat,
            EventSource::Evidence,
            EventSource::Finding,
        ];
        for a in times {
            for sa in sources {
                for b in times {
                    for sb in sources {
                        assert_eq!(
                            row_key(a, sa).cmp(&row_key(b, sb)),
                            a.cmp(&b).then(sa.cmp(&sb)),
                            "{a} {sa:?} vs {b} {sb:?}"
                        );
                    }
                }
            }
        }
    }

    fn custody_event(note: &str) -> CustodyEvent {
        CustodyEvent {
            seq: 0,
            time: DateTime::parse_from_rfc3339("2026-11-25T10:00:00.5Z").unwrap(),
            action: CustodyAction::Acquired,
            actor: crate::model::custody::Actor {
                examiner: Some("Ex \"Q\"".into()),
                user: "u".into(),
                host: "h".into(),
            },
            tool: ToolInfo::this(),
            argv: vec!["x".into(), "--a=\\\"\n".into()],
            source: Some(RecordedPath::from_path(Path::new("/s/\"q\".wasm"))),
            stat_before: None,
            stat_after: None,
            sha256: Some(Sha256Digest::of(b"x")),
            note: note.into(),
        }
    }

    #[test]
    fn a_custody_line_is_its_seq_then_the_tail() {
        for note in ["", "copied to data/x", "\u{1}\u{7f}é\"\\"] {
            let ev = custody_event(note);
            let tail = custody_tail(&ev);
            for seq in [0u64, 7, 10, 123_456_789_012] {
                let mut line = b"{\"seq\":".to_vec();
                push_seq(&mut line, seq);
                line.extend_from_slice(&tail);
                let full = CustodyEvent { seq, ..ev.clone() };
                assert_eq!(line, serde_json::to_vec(&full).unwrap());
            }
        }
    }

    #[test]
    fn a_custody_row_is_its_prefix_seq_and_suffix() {
        for note in ["", "copied to data/x", "\u{1}\u{7f}é\"\\ seq 0"] {
            let ev = custody_event(note);
            let (at, prefix, suffix) = crate::timeline::custody_row_parts(&ev);
            for seq in [0u64, 9, 10, 99_999] {
                let full = CustodyEvent { seq, ..ev.clone() };
                let row = crate::timeline::custody_row(&full);
                let mut line = prefix.clone();
                push_seq(&mut line, seq);
                line.extend_from_slice(&suffix);
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    String::from_utf8(row.line).unwrap()
                );
                assert_eq!((at, EventSource::Custody), (row.at, row.source));
            }
        }
    }

    #[test]
    fn evidence_json_is_head_items_and_tail() {
        let item = |n: &str| EvidenceItem {
            source: RecordedPath::from_path(Path::new(n)),
            kind: ItemKind::Module,
            sha256: Sha256Digest::of(n.as_bytes()),
            digest_of: DigestOf::File,
            size: 1,
            bag_path: None,
            stat_before: crate::model::evidence::FileStat {
                size: 1,
                mode: 0o100644,
                uid: 0,
                gid: 0,
                owner: None,
                dev: 1,
                inode: 2,
                nlink: 1,
                mtime: DateTime::from_timestamp(5, 0).unwrap(),
                ctime: DateTime::from_timestamp(5, 0).unwrap(),
                atime: DateTime::from_timestamp(5, 0).unwrap(),
            },
            stat_after: None,
            changed_during_acquisition: Vec::new(),
            analysis: serde_json::json!({"items": []}).into(),
            findings: Vec::new(),
            times: Vec::new(),
        };
        // Text that looks like the items field, inside the case and the not-collected list.
        let case = CaseInfo {
            case_id: "C".into(),
            title: Some(",\"items\":[]".into()),
            ..Default::default()
        };
        let nc = vec![NotCollected::new(
            RecordedPath::from_path(Path::new("/x,\"items\":[]")),
            ",\"items\":[]".into(),
        )];
        for n in 0..3 {
            let items: Vec<EvidenceItem> = (0..n).map(|i| item(&format!("/m{i}"))).collect();
            let mut ev = Evidence {
                schema_version: SCHEMA_VERSION,
                tool: ToolInfo::this(),
                case: case.clone(),
                collected_at: DateTime::from_timestamp(9, 0).unwrap(),
                items: Vec::new(),
                not_collected: nc.clone(),
                findings: Vec::new(),
            };
            let (head, tail) = evidence_frame(&ev);
            let mut streamed = head;
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    streamed.push(b',');
                }
                streamed.extend_from_slice(&serde_json::to_vec(it).unwrap());
            }
            streamed.extend_from_slice(&tail);
            ev.items = items;
            assert_eq!(streamed, serde_json::to_vec(&ev).unwrap(), "{n} items");
        }
    }
}
