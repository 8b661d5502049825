//! The collect pipeline: walk → read each source once (parallel, rayon) → write the bag into a
//! temp zip (in a deterministic order) → evidence.json, custody.jsonl, tag files, optional
//! examiner signature → fsync and rename into place.
//!
//! Order and memory: candidates are sorted by path and cut into windows of at most
//! [`WINDOW_BYTES`] of small files. A window is read in parallel (rayon keeps its order) while
//! the previous window is written, so at most two windows of bytes are in memory whatever the
//! input size. Payload entries therefore appear in the zip in sorted source-path order (the
//! first source of each content wins its hash-named entry); the metadata and tag files follow.
//! Same inputs and same collection time give the same bytes.

use crate::acquire::read::{acquire_one, open_source, stat_changes, AcquireResult, Acquired, Held};
use crate::acquire::walk::{walk_inputs, Candidate};
use crate::acquire::AcquireOptions;
use crate::bundle::bagit::BagInfo;
use crate::bundle::signature::sign_digest;
use crate::bundle::writer::{AtomicFile, BagZipWriter, BundleSink, WriteError};
use crate::case::CaseInfo;
use crate::custody::{Actor, CustodyAction, CustodyEvent};
use crate::digest::Sha256Digest;
use crate::evidence::{
    DigestOf, Evidence, EvidenceItem, Finding, ItemKind, NotCollected, RecordedPath, Severity,
    ToolInfo, SCHEMA_VERSION,
};
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Bytes of small files read ahead per window (two windows may be in memory at once).
pub const WINDOW_BYTES: u64 = 16 << 20;
/// Files per window, so that per-file bookkeeping stays bounded too.
const WINDOW_FILES: usize = 512;

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
    /// Command line as given; values of secret-bearing flags are redacted before it is recorded
    /// ([`crate::custody::redact_argv`]).
    pub argv: Vec<String>,
    pub actor: Actor,
    pub acquire: AcquireOptions,
    /// Test hook: the bundle write fails after this many bytes.
    pub fail_write_after: Option<u64>,
}

/// What a successful collection produced.
#[derive(Debug)]
pub struct CollectOutcome {
    pub path: PathBuf,
    pub digest: Sha256Digest,
    pub evidence: Evidence,
    pub payload_files: u64,
    pub payload_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("case id {0:?} cannot name the bag folder: use letters, digits, '.', '_' or '-' (not starting with '.')")]
    BadCaseId(String),
    #[error(transparent)]
    Write(#[from] WriteError),
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

/// Bag path of a hash-named kind (`None` for secret keys, and for case files and attachments,
/// which keep their names and are placed by [`name_under_case`]).
pub fn hashed_bag_path(kind: ItemKind, sha256: &Sha256Digest) -> Option<String> {
    let (dir, ext) = match kind {
        ItemKind::Module => ("modules", "wasm"),
        ItemKind::DetachedSignature => ("signatures", "sig"),
        ItemKind::PublicKey => ("keys", "pub"),
        ItemKind::RekorEntry
        | ItemKind::SigstoreBundle
        | ItemKind::TrustRoot
        | ItemKind::TrustBundle => ("transparency", "json"),
        ItemKind::Certificate => ("transparency", "pem"),
        ItemKind::AuditLog => ("logs", "log"),
        ItemKind::SecretKey | ItemKind::CaseFile | ItemKind::Attachment => return None,
    };
    Some(format!("data/{dir}/{sha256}.{ext}"))
}

/// Whether an entry of this kind is text (deflated with `--compress`).
fn is_text(kind: ItemKind) -> bool {
    !matches!(
        kind,
        ItemKind::Module | ItemKind::DetachedSignature | ItemKind::PublicKey | ItemKind::Attachment
    )
}

/// A file name made safe for a zip entry and a manifest line: the original name, with `/`,
/// `\`, `%` and control characters (CR, LF among them) replaced by `_` (zip names are UTF-8;
/// non-UTF-8 bytes become U+FFFD). The original path is kept in evidence.json.
///
/// Why `%` too: RFC 8493 wants `%` in a manifest path written as `%25`, but bagit-python 1.9
/// neither writes nor decodes `%25` (its issue #157), so such a bag fails its validation. A
/// bag path without `%`, CR or LF reads the same under both, so every BagIt tool agrees.
fn safe_file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '%' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if s.is_empty() || s == "." || s == ".." {
        "unnamed".to_owned()
    } else {
        s
    }
}

/// Longest file name most filesystems accept (bytes): a bag must unpack anywhere.
const NAME_MAX: usize = 255;

/// `name` cut to at most `max` bytes (at a char boundary), keeping a short extension: a 255-byte
/// source name grows past the limit with a collision prefix, and a non-UTF-8 one with U+FFFD
/// (3 bytes for each bad byte).
fn fit_name(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => &name[i..],
        _ => "",
    };
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

/// `data/case/<name>` for a case file or attachment; a different file with the same name gets
/// `<first 12 hex of its sha256>-<name>`.
fn name_under_case(
    taken: &mut HashMap<String, Sha256Digest>,
    path: &Path,
    d: Sha256Digest,
) -> String {
    let name = safe_file_name(path);
    let plain = format!("data/case/{}", fit_name(&name, NAME_MAX));
    match taken.get(&plain) {
        None => {
            taken.insert(plain.clone(), d);
            plain
        }
        Some(existing) if *existing == d => plain,
        Some(_) => {
            let alt = format!(
                "data/case/{}-{}",
                &d.to_hex()[..12],
                fit_name(&name, NAME_MAX - 13)
            );
            taken.insert(alt.clone(), d);
            alt
        }
    }
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
        .filter(|c| c.stat.is_file() && c.stat.len() <= KEY_PREPASS_MAX)
        .filter_map(|c| {
            let bytes = std::fs::read(&c.path).ok()?;
            let kind = crate::kind::classify(&c.path, &bytes);
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

/// Windows of candidates (indices), cut by bytes of small files and by count.
fn windows(cands: &[Candidate], in_memory_limit: u64) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0usize, 0u64);
    for (i, c) in cands.iter().enumerate() {
        let cost = if c.stat.len() <= in_memory_limit {
            c.stat.len()
        } else {
            0
        };
        if i > start && (bytes + cost > WINDOW_BYTES || i - start >= WINDOW_FILES) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += cost;
    }
    if start < cands.len() {
        out.push(start..cands.len());
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
    writer: BagZipWriter,
    case_names: HashMap<String, Sha256Digest>,
    written: Vec<Written>,
    not_collected: Vec<NotCollected>,
}

fn write_window(
    st: &mut WriteState,
    results: Vec<AcquireResult>,
    opts: &AcquireOptions,
) -> Result<(), WriteError> {
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
                Some(name_under_case(&mut st.case_names, &acq.path, acq.sha256))
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
                        let file = match open_source(&acq.path) {
                            Ok(f) => f,
                            Err(e) => {
                                st.not_collected.push(NotCollected {
                                    path: RecordedPath::from_path(&acq.path),
                                    reason: format!(
                                        "hashed, then could not be reopened to copy: {e}"
                                    ),
                                });
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
                                st.not_collected.push(NotCollected {
                                    path: RecordedPath::from_path(&acq.path),
                                    reason: format!("hashed, then the copying read failed: {e}"),
                                });
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
        // are dropped here, so memory is returned window by window.
        acq.held = Held::MetadataOnly;
        st.written.push(Written {
            acq,
            bag_path,
            reread_mismatch,
        });
    }
    Ok(())
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
    let (mut cands, walk_skipped) = walk_inputs(
        &req.inputs,
        req.case_file.as_deref(),
        req.acquire.max_file_size,
    );
    // The bundle may be written inside an input folder: never collect our own temp file.
    let temp = std::path::absolute(atomic.temp_path()).unwrap_or_default();
    cands.retain(|c| c.path != temp);
    // Nor the temp files a killed collect to the same destination left behind (SIGKILL cannot
    // clean up): they are this tool's half-written zips, not evidence. Recorded, not copied.
    let mut walk_skipped = walk_skipped;
    cands.retain(|c| {
        let leftover = is_leftover_temp(&c.path, &temp);
        if leftover {
            walk_skipped.push(NotCollected {
                path: RecordedPath::from_path(&c.path),
                reason: "temp file of an interrupted collect to this destination: not evidence"
                    .to_owned(),
            });
        }
        !leftover
    });
    // Modules are judged against every public key in the inputs (and the public half of every
    // secret key: the compromised key's secret file names the key that matters most).
    let mut analysis = crate::analyse::AnalysisContext {
        keys: req.acquire.analysis.keys.clone(),
        trust_root: req.acquire.analysis.trust_root.clone(),
        policy: req.acquire.analysis.policy.clone(),
    };
    for k in keys_among(&cands) {
        if !analysis.keys.contains(&k) {
            analysis.keys.push(k);
        }
    }
    let opts = &AcquireOptions {
        analysis: std::sync::Arc::new(analysis),
        ..req.acquire.clone()
    };
    let sink = BundleSink::new(file, req.fail_write_after);
    let mut st = WriteState {
        writer: BagZipWriter::new(sink, &req.output, &case_id, req.collected_at, req.compress),
        case_names: HashMap::new(),
        written: Vec::new(),
        not_collected: walk_skipped,
    };
    let wins = windows(&cands, opts.in_memory_limit);
    let read = |r: &std::ops::Range<usize>| -> Vec<AcquireResult> {
        cands[r.clone()]
            .par_iter()
            .map(|c| acquire_one(c, opts))
            .collect()
    };
    let mut pending: Option<Vec<AcquireResult>> = None;
    for i in 0..=wins.len() {
        let ahead = wins.get(i);
        let (written, next) = rayon::join(
            || match pending.take() {
                Some(w) => write_window(&mut st, w, opts),
                None => Ok(()),
            },
            || ahead.map(read),
        );
        written?;
        pending = next;
    }

    // Evidence items, sorted by bag path then source path.
    let mut written = st.written;
    written.sort_by(|a, b| {
        (a.bag_path.as_deref(), &a.acq.path).cmp(&(b.bag_path.as_deref(), &b.acq.path))
    });
    let mut not_collected = st.not_collected;
    not_collected.sort_by(|a, b| a.path.cmp(&b.path));

    let event_time =
        |t: DateTime<Utc>| if req.time_fixed { req.collected_at } else { t }.fixed_offset();
    let tool = ToolInfo::this();
    let argv = crate::custody::redact_argv(&req.argv);
    let mut custody: Vec<CustodyEvent> = Vec::new();
    let event =
        |time: DateTime<Utc>, action, source: Option<RecordedPath>, note: String| CustodyEvent {
            seq: 0,
            time: event_time(time),
            action,
            actor: req.actor.clone(),
            tool: tool.clone(),
            argv: argv.clone(),
            source,
            stat_before: None,
            stat_after: None,
            sha256: None,
            note,
        };
    let push = |custody: &mut Vec<CustodyEvent>, mut ev: CustodyEvent| {
        ev.seq = custody.len() as u64;
        custody.push(ev);
        custody.len() - 1
    };
    push(
        &mut custody,
        event(
            started,
            CustodyAction::CollectionStarted,
            None,
            format!("collection into {}", req.output.display()),
        ),
    );
    let mut items = Vec::with_capacity(written.len());
    // Owner names, resolved once per uid (the host's account database, as seen at collection).
    let mut owners: HashMap<u32, Option<String>> = HashMap::new();
    let mut owner_of = |st: &mut crate::evidence::FileStat| {
        st.owner = owners
            .entry(st.uid)
            .or_insert_with(|| crate::keys::owner_name(st.uid))
            .clone();
    };
    for w in written {
        let mut a = w.acq;
        // A secret key file's hash would let anyone confirm a guess of the secret: the item is
        // named by its public key's fingerprint instead (or by its path when none is derivable).
        let digest_of = if a.kind == ItemKind::SecretKey {
            let fp = a.analysis.value()["key"]["fingerprint_sha256"]
                .as_str()
                .and_then(Sha256Digest::from_hex);
            a.sha256 =
                fp.unwrap_or_else(|| Sha256Digest::of(a.path.as_os_str().as_encoded_bytes()));
            if fp.is_some() {
                DigestOf::PublicKey
            } else {
                DigestOf::SourcePath
            }
        } else {
            DigestOf::File
        };
        owner_of(&mut a.stat_before);
        if let Some(st) = a.stat_after.as_mut() {
            owner_of(st);
        }
        let source = RecordedPath::from_path(&a.path);
        let (action, note) = match &w.bag_path {
            None => (
                CustodyAction::MetadataOnly,
                "secret key: stat and public-key fingerprint recorded; bytes not copied, not hashed"
                    .to_owned(),
            ),
            Some(bp) => (CustodyAction::Acquired, format!("copied to {bp}")),
        };
        let idx = push(
            &mut custody,
            event(a.acquired_at, action, Some(source.clone()), note),
        );
        custody[idx].stat_before = Some(a.stat_before.clone());
        custody[idx].stat_after = a.stat_after.clone();
        custody[idx].sha256 = Some(a.sha256);
        let mut findings = a.findings;
        if !a.changed.is_empty() {
            let idx = push(
                &mut custody,
                event(
                    a.acquired_at,
                    CustodyAction::ChangedDuringAcquisition,
                    Some(source.clone()),
                    a.changed.join("; "),
                ),
            );
            custody[idx].sha256 = Some(a.sha256);
            let mut f = Finding::new(
                "changed-during-acquisition",
                Severity::Medium,
                None,
                format!(
                    "{} changed while it was collected: {}",
                    source,
                    a.changed.join("; ")
                ),
            );
            if let Some(first) = w.reread_mismatch {
                f.related.push(first);
            }
            findings.push(f);
        }
        items.push(EvidenceItem {
            source,
            kind: a.kind,
            sha256: a.sha256,
            digest_of,
            size: a.size,
            bag_path: w.bag_path,
            stat_before: a.stat_before,
            stat_after: a.stat_after,
            changed_during_acquisition: a.changed,
            analysis: a.analysis,
            findings,
            times: a.times,
        });
    }
    for n in &not_collected {
        push(
            &mut custody,
            event(
                started,
                CustodyAction::NotCollected,
                Some(n.path.clone()),
                n.reason.clone(),
            ),
        );
    }
    push(
        &mut custody,
        event(
            Utc::now(),
            CustodyAction::CollectionFinished,
            None,
            format!(
                "{} items collected, {} not collected",
                items.len(),
                not_collected.len()
            ),
        ),
    );

    let evidence = Evidence {
        schema_version: SCHEMA_VERSION,
        tool: tool.clone(),
        case: req.case.clone(),
        collected_at: req.collected_at,
        items,
        not_collected,
        findings: Vec::new(),
    };
    // Compact: a 100,000-item evidence record stays well inside what verify and report load.
    let mut evidence_json = serde_json::to_vec(&evidence).expect("evidence serialises");
    evidence_json.push(b'\n');
    let mut custody_jsonl = Vec::new();
    for ev in &custody {
        serde_json::to_writer(&mut custody_jsonl, ev).expect("custody serialises");
        custody_jsonl.push(b'\n');
    }
    st.writer.add_payload_bytes(
        crate::bundle::EVIDENCE_PATH,
        &evidence_json,
        Sha256Digest::of(&evidence_json),
        true,
    )?;
    st.writer.add_payload_bytes(
        crate::bundle::CUSTODY_PATH,
        &custody_jsonl,
        Sha256Digest::of(&custody_jsonl),
        true,
    )?;
    // Derived events, so a reader without this tool still has the timeline.
    let mut timeline_jsonl = Vec::new();
    crate::timeline::write_jsonl(
        &crate::timeline::build(&evidence, &custody),
        &mut timeline_jsonl,
    )
    .expect("writing to memory");
    st.writer.add_payload_bytes(
        crate::bundle::TIMELINE_PATH,
        &timeline_jsonl,
        Sha256Digest::of(&timeline_jsonl),
        true,
    )?;
    let info = BagInfo {
        external_identifier: case_id,
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
    let (sink, bag) = st.writer.finish(
        info,
        signer
            .as_ref()
            .map(|s| s as &dyn Fn(Sha256Digest) -> crate::bundle::signature::BundleSignature),
    )?;
    atomic.commit(sink.into_file(), req.force)?;
    Ok(CollectOutcome {
        path: req.output.clone(),
        digest: bag.digest,
        evidence,
        payload_files: bag.payload_files,
        payload_bytes: bag.payload_bytes,
    })
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
    fn attachment_names_are_kept_and_collisions_disambiguated() {
        let mut taken = HashMap::new();
        let a = Sha256Digest::of(b"a");
        let b = Sha256Digest::of(b"b");
        assert_eq!(
            name_under_case(&mut taken, Path::new("/x/100% notes.txt"), a),
            "data/case/100_ notes.txt"
        );
        assert_eq!(
            name_under_case(&mut taken, Path::new("/y/100% notes.txt"), a),
            "data/case/100_ notes.txt"
        );
        let alt = name_under_case(&mut taken, Path::new("/z/100% notes.txt"), b);
        assert_eq!(
            alt,
            format!("data/case/{}-100_ notes.txt", &b.to_hex()[..12])
        );
        assert_eq!(safe_file_name(Path::new("/a/x\ny\\z")), "x_y_z");
        // Long names fit a 255-byte file name, with or without the prefix, extension kept.
        let long = format!("%{}.txt", "é".repeat(200));
        let c = Sha256Digest::of(b"c");
        let first = name_under_case(&mut taken, Path::new(&format!("/p/{long}")), a);
        let second = name_under_case(&mut taken, Path::new(&format!("/q/{long}")), c);
        for n in [&first, &second] {
            let file = n.strip_prefix("data/case/").unwrap();
            assert!(file.len() <= 255 && file.ends_with("é.txt"), "{file}");
        }
        assert_ne!(first, second);
    }
}
