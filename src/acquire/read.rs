//! Reading one source once: open without following symlinks and without blocking on FIFOs,
//! then stream it through SHA-256, its analyser and (for small files) an in-memory copy in the
//! same pass, and compare `stat` before and after to flag a file that changed meanwhile.

use crate::acquire::AcquireOptions;
use crate::analyse::analyser_for;
use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use crate::model::evidence::{FileStat, ItemKind, NotCollected, RecordedPath};
use crate::model::evidence::{Finding, IncidentType, Severity};
use crate::source::kind::{classify, SNIFF_LEN};
pub use crate::source::open::{open_source, open_walked};
use crate::source::secret::{SecretFormat, SecretScanner};
use crate::source::walk::{Candidate, Role};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What acquisition kept of a source's bytes for the zip.
#[derive(Debug)]
pub enum Held {
    /// The whole file, read once.
    Bytes(Vec<u8>),
    /// Too large to hold: the bundle writer streams it with a second, re-hashed read.
    Reread,
    /// A secret key: bytes never kept, never copied.
    MetadataOnly,
}

/// A source that was read.
#[derive(Debug)]
pub struct Acquired {
    pub path: PathBuf,
    pub role: Role,
    pub kind: ItemKind,
    pub sha256: Sha256Digest,
    pub size: u64,
    /// Device and inode the walk found (the copying read of a large file must open it again).
    pub dev: u64,
    pub ino: u64,
    pub stat_before: FileStat,
    pub stat_after: Option<FileStat>,
    /// Differences between the stat before and after (and the bytes read); empty if none.
    pub changed: Vec<String>,
    /// The analyser's record.
    pub analysis: crate::model::analysis::Analysis,
    pub findings: Vec<crate::model::evidence::Finding>,
    pub times: Vec<crate::model::evidence::ItemTime>,
    pub held: Held,
    pub acquired_at: DateTime<Utc>,
}

#[derive(Debug)]
pub enum AcquireResult {
    Acquired(Box<Acquired>),
    NotCollected(NotCollected),
}

fn skipped(path: &Path, reason: String) -> AcquireResult {
    AcquireResult::NotCollected(NotCollected::new(RecordedPath::from_path(path), reason))
}

/// Every way `after` differs from `before` that matters for integrity.
pub fn stat_changes(before: &Metadata, after: &Metadata, what: &str) -> Vec<String> {
    let mut out = Vec::new();
    if before.dev() != after.dev() || before.ino() != after.ino() {
        out.push(format!(
            "{what}: inode {}:{} became {}:{}",
            before.dev(),
            before.ino(),
            after.dev(),
            after.ino()
        ));
    }
    if before.size() != after.size() {
        out.push(format!(
            "{what}: size {} became {}",
            before.size(),
            after.size()
        ));
    }
    if (before.mtime(), before.mtime_nsec()) != (after.mtime(), after.mtime_nsec()) {
        out.push(format!("{what}: mtime changed"));
    }
    if (before.ctime(), before.ctime_nsec()) != (after.ctime(), after.ctime_nsec()) {
        out.push(format!("{what}: ctime changed"));
    }
    out
}

/// Reads until `buf` is full or EOF; returns the bytes read.
fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Chunks of at least this many bytes are hashed and analysed on two threads at once.
const PARALLEL_CHUNK: usize = 256 * 1024;

/// Reads the next chunk of up to `max` bytes: appended to `buf` when `append` (a held file,
/// whose buffer grows), else into the start of `buf`. Returns the bytes read (0 at EOF).
fn read_chunk(f: &mut File, buf: &mut Vec<u8>, append: bool, max: usize) -> io::Result<usize> {
    if !append {
        let len = max.min(buf.len());
        return read_full(f, &mut buf[..len]);
    }
    let start = buf.len();
    let n = f.by_ref().take(max as u64).read_to_end(buf);
    match n {
        Ok(n) => Ok(n),
        Err(e) => {
            buf.truncate(start);
            Err(e)
        }
    }
}

/// A source opened for acquisition: the file, its `lstat` by path just before, its `fstat`,
/// and the differences between the two.
struct Opened {
    file: File,
    before: Metadata,
    opened: Metadata,
    changed: Vec<String>,
}

/// Opens a candidate: still a regular file, not a link, and the inode the walk found (a file or
/// directory on its path replaced since the walk is refused, never followed).
fn open_candidate(c: &Candidate, opts: &AcquireOptions) -> Result<Opened, AcquireResult> {
    let path = &c.path;
    if let Some(hook) = &opts.before_open {
        hook(path);
    }
    let before = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) => return Err(skipped(path, format!("unreadable: {e}"))),
    };
    if !before.file_type().is_file() {
        return Err(skipped(
            path,
            "no longer a regular file when acquisition began".into(),
        ));
    }
    let (file, opened) = match open_walked(path, c.dev, c.ino) {
        Ok(f) => f,
        Err(e) => return Err(skipped(path, e.to_string())),
    };
    if !opened.file_type().is_file() {
        return Err(skipped(path, "not a regular file when opened".into()));
    }
    let changed = stat_changes(&before, &opened, "between stat and open");
    Ok(Opened {
        file,
        before,
        opened,
        changed,
    })
}

/// What one pass over a source gave.
struct ReadPass {
    kind: ItemKind,
    sha256: Sha256Digest,
    total: u64,
    /// The whole file, when it was small enough to hold.
    held: Option<Vec<u8>>,
    outcome: crate::analyse::AnalysisOutcome,
    /// Secret material found anywhere in the file.
    secret: Option<SecretFormat>,
}

/// Reads the source once: SHA-256, the analyser of its kind and the secret detector fed the same
/// chunks, the bytes held when the file is small.
fn read_pass(
    c: &Candidate,
    o: &mut Opened,
    opts: &AcquireOptions,
) -> Result<ReadPass, AcquireResult> {
    let path = &c.path;
    let file = &mut o.file;
    let mut hold = o.opened.size() <= opts.in_memory_limit;
    let mut hasher = Sha256::new();
    let mut secret = SecretScanner::new();
    let mut total = 0u64;
    // A file held in memory is read straight into its own buffer (one copy out of the page
    // cache, no zeroed scratch buffer per file); a larger one streams through one chunk buffer.
    let mut buf = if hold {
        Vec::with_capacity(o.opened.size() as usize + 1)
    } else {
        vec![0u8; STREAM_CHUNK.max(SNIFF_LEN)]
    };
    // The first chunk is at least SNIFF_LEN bytes (or the whole file): enough to classify.
    let first = match read_chunk(file, &mut buf, hold, STREAM_CHUNK.max(SNIFF_LEN)) {
        Ok(n) => n,
        Err(e) => return Err(skipped(path, format!("unreadable: {e}"))),
    };
    let kind = match c.role {
        Role::CaseFile => ItemKind::CaseFile,
        Role::Source => classify(path, &buf[..first.min(SNIFF_LEN)]),
    };
    let stat_now = FileStat::of_metadata(&o.opened);
    let mut analyser = analyser_for(kind, path, Some(&stat_now), &opts.analysis);
    // The file digest and the analyser's own hashing (a module's signed range) are two
    // independent SHA-256 streams over the same chunk: for large chunks they run on both cores.
    let mut digest_and_analyse = |chunk: &[u8]| {
        secret.feed(chunk);
        if chunk.len() >= PARALLEL_CHUNK {
            rayon::join(|| hasher.update(chunk), || analyser.feed(chunk));
        } else {
            hasher.update(chunk);
            analyser.feed(chunk);
        }
    };
    let mut n = first;
    let mut first_chunk = true;
    // Held bytes start at this offset of `buf` for the chunk just read.
    let mut at = 0usize;
    while n > 0 {
        let chunk = if hold { &buf[at..at + n] } else { &buf[..n] };
        digest_and_analyse(chunk);
        total += n as u64;
        at += n;
        opts.progress(n as u64);
        if hold && total > opts.in_memory_limit {
            // Grew past the in-memory limit while read: stream the rest through one chunk
            // buffer, and copy the file by a second read later (the size change is flagged).
            hold = false;
            buf = vec![0u8; STREAM_CHUNK];
        }
        if first_chunk {
            first_chunk = false;
            if let Some(hook) = &opts.after_first_chunk {
                hook(path);
            }
        }
        n = match read_chunk(file, &mut buf, hold, STREAM_CHUNK) {
            Ok(n) => n,
            Err(e) => {
                return Err(skipped(
                    path,
                    format!("read failed after {total} bytes: {e}"),
                ))
            }
        };
    }
    Ok(ReadPass {
        kind,
        sha256: Sha256Digest(hasher.finalize().into()),
        total,
        held: hold.then_some(buf),
        outcome: analyser.finish(),
        secret: secret.finish(),
    })
}

/// The `lstat` after reading, and every sign that the file changed while it was read.
fn stat_after(o: Opened, path: &Path, total: u64, changed: &mut Vec<String>) -> Option<FileStat> {
    let fstat_after = o.file.metadata().ok();
    drop(o.file);
    let lstat_after = std::fs::symlink_metadata(path);
    match &fstat_after {
        Some(a) => changed.extend(stat_changes(&o.opened, a, "while read")),
        None => changed.push("while read: fstat failed after reading".to_owned()),
    }
    if total != o.opened.size() {
        changed.push(format!(
            "while read: {total} bytes read, stat said {}",
            o.opened.size()
        ));
    }
    match &lstat_after {
        Ok(l) => {
            if let Some(a) = &fstat_after {
                if (l.dev(), l.ino()) != (a.dev(), a.ino()) {
                    changed.push(format!(
                        "after reading: the path now names a different file (inode {} became {})",
                        a.ino(),
                        l.ino()
                    ));
                }
            }
            Some(FileStat::of_metadata(l))
        }
        Err(e) => {
            changed.push(format!("after reading: the path is gone ({e})"));
            fstat_after.as_ref().map(FileStat::of_metadata)
        }
    }
}

/// A file holding secret material anywhere is a secret key item, recorded as metadata only, with
/// a finding naming the format. When the material was found past the head (after another kind's
/// analyser was chosen), the held bytes, if any, are analysed as a key file instead.
fn settle_secret(pass: &mut ReadPass, path: &Path, stat: &FileStat) {
    let Some(format) = &pass.secret else {
        return;
    };
    if pass.kind != ItemKind::SecretKey {
        pass.kind = ItemKind::SecretKey;
        let ctx = std::sync::Arc::new(crate::analyse::AnalysisContext::default());
        let a = analyser_for(ItemKind::SecretKey, path, Some(stat), &ctx);
        pass.outcome = match &pass.held {
            Some(bytes) => crate::analyse::analyse_reader(a, bytes.as_slice())
                .expect("reading memory does not fail"),
            None => crate::analyse::AnalysisOutcome {
                analysis: crate::model::analysis::Analysis::Key(
                    crate::model::analysis::KeyAnalysis {
                        size: pass.total,
                        key: None,
                        error: Some(format!(
                            "{format} found in a file too large to hold: not parsed"
                        )),
                    },
                ),
                findings: Vec::new(),
                times: Vec::new(),
                detail: crate::analyse::Detail::None,
            },
        };
    }
    pass.held = None;
    if !pass
        .outcome
        .findings
        .iter()
        .any(|f| f.code == SECRET_KEY_MATERIAL)
    {
        pass.outcome.findings.push(Finding::new(
            SECRET_KEY_MATERIAL,
            Severity::Low,
            Some(IncidentType::KeyCompromise),
            format!("holds secret key material ({format}): recorded as metadata only, its bytes are not copied"),
        ));
    }
}

/// The finding code of a file holding secret key material (the key parser's own code).
const SECRET_KEY_MATERIAL: &str = "secret-key-material";

/// Acquires one candidate. Never fails: a source that cannot be read is not collected, with
/// the reason.
pub fn acquire_one(c: &Candidate, opts: &AcquireOptions) -> AcquireResult {
    let path = &c.path;
    let mut o = match open_candidate(c, opts) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut pass = match read_pass(c, &mut o, opts) {
        Ok(p) => p,
        Err(r) => return r,
    };
    settle_secret(&mut pass, path, &FileStat::of_metadata(&o.opened));
    let before = FileStat::of_metadata(&o.before);
    let mut changed = std::mem::take(&mut o.changed);
    let stat_after = stat_after(o, path, pass.total, &mut changed);
    changed.dedup();
    let held = match (pass.kind, pass.held) {
        (ItemKind::SecretKey, _) => Held::MetadataOnly,
        (_, Some(bytes)) => Held::Bytes(bytes),
        (_, None) => Held::Reread,
    };
    AcquireResult::Acquired(Box::new(Acquired {
        path: path.clone(),
        role: c.role,
        kind: pass.kind,
        sha256: pass.sha256,
        size: pass.total,
        dev: c.dev,
        ino: c.ino,
        stat_before: before,
        stat_after,
        changed,
        analysis: pass.outcome.analysis,
        findings: pass.outcome.findings,
        times: pass.outcome.times,
        held,
        acquired_at: opts.now(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::walk::collect_candidates as walk_inputs;
    use std::sync::Arc;

    fn acquire(path: &Path, opts: &AcquireOptions) -> AcquireResult {
        let (found, _) = walk_inputs(&[path.to_owned()], None, u64::MAX);
        acquire_one(&found[0], opts)
    }

    #[test]
    fn small_files_are_held_large_files_reread_secret_keys_never() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.wasm");
        std::fs::write(&m, b"\0asm\x01\0\0\0").unwrap();
        let AcquireResult::Acquired(a) = acquire(&m, &AcquireOptions::default()) else {
            panic!()
        };
        assert_eq!(a.kind, ItemKind::Module);
        assert_eq!(a.sha256, Sha256Digest::of(b"\0asm\x01\0\0\0"));
        assert!(matches!(&a.held, Held::Bytes(b) if b.len() == 8));
        assert!(a.changed.is_empty(), "{:?}", a.changed);
        let opts = AcquireOptions {
            in_memory_limit: 4,
            ..Default::default()
        };
        let AcquireResult::Acquired(a) = acquire(&m, &opts) else {
            panic!()
        };
        assert!(matches!(a.held, Held::Reread));
        let sec = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys/test-key-a.sec");
        let AcquireResult::Acquired(a) = acquire(&sec, &AcquireOptions::default()) else {
            panic!()
        };
        assert_eq!(a.kind, ItemKind::SecretKey);
        assert!(matches!(a.held, Held::MetadataOnly));
    }

    /// A module of `base.wasm` plus a custom section of `pad` bytes (large chunks take the
    /// two-thread digest path).
    fn padded_module(dir: &Path, pad: usize) -> PathBuf {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/base.wasm");
        let mut m = std::fs::read(base).unwrap();
        let mut payload = vec![3u8, b'p', b'a', b'd'];
        payload.extend(std::iter::repeat_n(0x5a, pad));
        m.push(0);
        let mut len = payload.len();
        loop {
            let byte = (len & 0x7f) as u8;
            len >>= 7;
            if len == 0 {
                m.push(byte);
                break;
            }
            m.push(byte | 0x80);
        }
        m.extend(payload);
        let p = dir.join("padded.wasm");
        std::fs::write(&p, m).unwrap();
        p
    }

    #[test]
    fn held_and_streamed_reads_give_the_same_digest_and_analysis() {
        let dir = tempfile::tempdir().unwrap();
        let m = padded_module(dir.path(), 3 << 20);
        let bytes = std::fs::read(&m).unwrap();
        let AcquireResult::Acquired(held) = acquire(&m, &AcquireOptions::default()) else {
            panic!()
        };
        let streamed_opts = AcquireOptions {
            in_memory_limit: 1 << 20,
            ..Default::default()
        };
        let AcquireResult::Acquired(streamed) = acquire(&m, &streamed_opts) else {
            panic!()
        };
        assert!(matches!(&held.held, Held::Bytes(b) if *b == bytes));
        assert!(matches!(streamed.held, Held::Reread));
        assert_eq!(held.sha256, Sha256Digest::of(&bytes));
        assert_eq!(streamed.sha256, held.sha256);
        assert_eq!(streamed.size, bytes.len() as u64);
        assert_eq!(held.kind, ItemKind::Module);
        let crate::model::analysis::Analysis::Module(m) = &held.analysis else {
            panic!("{:?}", held.analysis)
        };
        assert_eq!(
            m.module.rest["scan"]["covered_sha256"].as_str(),
            Some(Sha256Digest::of(&bytes[8..]).to_hex().as_str()),
            "{m:?}"
        );
        assert_eq!(streamed.analysis, held.analysis);
        assert!(held.changed.is_empty() && streamed.changed.is_empty());
    }

    #[test]
    fn a_held_file_growing_past_the_limit_is_streamed_and_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("grow.bin");
        std::fs::write(&f, vec![1u8; STREAM_CHUNK + 10]).unwrap();
        let opts = AcquireOptions {
            in_memory_limit: STREAM_CHUNK as u64 + 100,
            after_first_chunk: Some(Arc::new(|p: &Path| {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
                f.write_all(&vec![2u8; 2 * STREAM_CHUNK]).unwrap();
            })),
            ..Default::default()
        };
        let AcquireResult::Acquired(a) = acquire(&f, &opts) else {
            panic!()
        };
        assert!(
            matches!(a.held, Held::Reread),
            "not held once past the limit"
        );
        let now = std::fs::read(&f).unwrap();
        assert_eq!(a.size, now.len() as u64);
        assert_eq!(a.sha256, Sha256Digest::of(&now));
        assert!(
            a.changed.iter().any(|c| c.contains("size")),
            "{:?}",
            a.changed
        );
    }

    #[test]
    fn a_file_changed_mid_read_is_flagged() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("grow.bin");
        std::fs::write(&f, vec![1u8; 3 * STREAM_CHUNK]).unwrap();
        let opts = AcquireOptions {
            after_first_chunk: Some(Arc::new(|p: &Path| {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
                f.write_all(b"appended").unwrap();
            })),
            ..Default::default()
        };
        let AcquireResult::Acquired(a) = acquire(&f, &opts) else {
            panic!()
        };
        assert!(
            a.changed.iter().any(|c| c.contains("size")),
            "{:?}",
            a.changed
        );
    }

    #[test]
    fn fifo_swapped_in_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p");
        std::fs::write(&f, b"x").unwrap();
        let (found, _) = walk_inputs(std::slice::from_ref(&f), None, u64::MAX);
        std::fs::remove_file(&f).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&f)
            .status()
            .unwrap();
        assert!(status.success());
        let r = acquire_one(&found[0], &AcquireOptions::default());
        assert!(matches!(r, AcquireResult::NotCollected(n) if n.reason.contains("regular")));
    }
}
