//! Writes a BagIt 1.0 bag inside a zip, deterministically: fixed timestamps, fixed 0644
//! permissions, no extra fields, manifests sorted by path, and entries in the order the caller
//! adds them (collect adds payload in sorted source order, then evidence and custody, then the
//! tag files). The destination is written atomically, see [`AtomicFile`].

use crate::bundle::bagit::{
    encode_manifest_path, render_manifest, BagInfo, BAGIT_TXT, BAGIT_TXT_NAME, BAG_INFO_NAME,
    MANIFEST_NAME, TAG_MANIFEST_NAME,
};
use crate::bundle::signature::{BundleSignature, SIGNATURE_NAME};
use crate::bundle::timestamp::{TimestampError, TIMESTAMP_NAME};
use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use chrono::{DateTime, Datelike, Timelike, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Deflate level used with `--compress`; fixed because output bytes depend on it.
const DEFLATE_LEVEL: i64 = 6;

/// Errors while writing a bundle; each names the bundle file or the entry.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: zip entry {entry}: {source}")]
    Zip {
        path: PathBuf,
        entry: String,
        source: zip::result::ZipError,
    },
    #[error("{path}: already exists (use --force to replace it)")]
    Exists { path: PathBuf },
    #[error("bag path {entry:?} was added twice")]
    DuplicateEntry { entry: String },
    /// Collect's temporary working files (beside the bundle) failed: full disk, I/O error.
    #[error("{path}: temporary file beside the bundle: {source}")]
    Temp { path: PathBuf, source: io::Error },
    #[error("{path}: no bundle written: {source}")]
    Timestamp {
        path: PathBuf,
        source: crate::bundle::timestamp::TimestampError,
    },
    #[error("{path}: zip entry {entry}: {written} bytes written, {announced} announced")]
    SizeMismatch {
        path: PathBuf,
        entry: String,
        written: u64,
        announced: u64,
    },
}

/// Obtains the trusted-timestamp token (a DER `TimeStampResp`) for a bundle digest.
pub type TimestampHook<'a> = dyn Fn(Sha256Digest) -> Result<Vec<u8>, TimestampError> + 'a;

/// Bytes of bundle written between two starts of early writeback (see [`EarlyWriteback`]).
const WRITEBACK_EVERY: u64 = 32 << 20;

/// Flushes the bundle's written bytes to disk on a helper thread while the bundle is still
/// being written. Why: the commit's `fsync` must otherwise write the whole bundle after its last
/// byte (0.28 s of 1.35 s for a 1 GiB bundle on the project machine); flushed as it goes, the
/// disk works while later sources are still being hashed. Durability still comes from the
/// commit's own `fsync`; an error here is ignored because that `fsync` reports it.
struct EarlyWriteback {
    wake: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EarlyWriteback {
    fn start(file: &File) -> Self {
        let Ok(clone) = file.try_clone() else {
            return EarlyWriteback {
                wake: None,
                thread: None,
            };
        };
        let (wake, rx) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("bundle-writeback".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    let _ = clone.sync_data();
                }
            })
            .ok();
        EarlyWriteback {
            wake: thread.is_some().then_some(wake),
            thread,
        }
    }

    /// Asks for a flush; does nothing when one is already queued.
    fn kick(&self) {
        if let Some(w) = &self.wake {
            let _ = w.try_send(());
        }
    }
}

impl Drop for EarlyWriteback {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The zip sink: a file, optionally failing after a byte budget (a test hook that simulates a
/// full disk or an I/O error mid-write).
pub struct BundleSink {
    file: File,
    written: u64,
    /// Bytes written since early writeback was last asked for.
    since_writeback: u64,
    writeback: EarlyWriteback,
    fail_after: Option<u64>,
    /// Set after an aborted entry: before the next write or seek, the file is cut at the
    /// current (rewound) position, so no byte of the aborted entry stays in the bundle.
    truncate_pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The first write error (a full disk). The bundle is lost then, and later writes are
    /// discarded (the position still advances): otherwise the zip writer, finalising the archive
    /// when it is dropped on the error path, fails again and prints its own debug message to
    /// stderr. [`BagZipWriter::finish`] refuses a sink that failed, so no discarded byte can
    /// reach a committed bundle.
    failed: Option<io::ErrorKind>,
    /// Set when the bundle is abandoned for another reason (see [`DiscardOnDrop`]): later
    /// writes are discarded the same way.
    discard: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl BundleSink {
    pub fn new(file: File, fail_after: Option<u64>) -> Self {
        BundleSink {
            writeback: EarlyWriteback::start(&file),
            file,
            written: 0,
            since_writeback: 0,
            fail_after,
            truncate_pending: Default::default(),
            failed: None,
            discard: Default::default(),
        }
    }

    fn discarding(&self) -> bool {
        self.failed.is_some() || self.discard.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn truncate_if_pending(&mut self) -> io::Result<()> {
        if self
            .truncate_pending
            .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            let pos = self.file.stream_position()?;
            self.file.set_len(pos)?;
        }
        Ok(())
    }

    pub fn into_file(self) -> File {
        self.file
    }
}

impl Write for BundleSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.discarding() {
            self.file.seek(SeekFrom::Current(buf.len() as i64))?;
            return Ok(buf.len());
        }
        self.truncate_if_pending()?;
        if let Some(limit) = self.fail_after {
            if self.written + buf.len() as u64 > limit {
                self.failed = Some(io::ErrorKind::Other);
                return Err(io::Error::other("injected write failure (test hook)"));
            }
        }
        let n = self.file.write(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed = Some(e.kind());
            }
        })?;
        self.written += n as u64;
        self.since_writeback += n as u64;
        if self.since_writeback >= WRITEBACK_EVERY {
            self.since_writeback = 0;
            self.writeback.kick();
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.discarding() {
            return Ok(());
        }
        self.file.flush()
    }
}

impl Seek for BundleSink {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.truncate_if_pending()?;
        self.file.seek(pos)
    }
}

/// Abandons a bundle when dropped: the writer's own drop (on an error path) then finalises
/// the archive into nothing, instead of writing a central directory to a file that is about
/// to be removed (and, on a full disk, failing again with the zip crate's debug print on
/// stderr). Harmless after a successful [`BagZipWriter::finish`].
pub struct DiscardOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for DiscardOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Converts the collection time to a zip (DOS) timestamp, clamped to the format's 1980–2107.
pub fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    let year = t.year().clamp(1980, 2107) as u16;
    zip::DateTime::from_date_and_time(
        year,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or_default()
}

/// What the finished bag says about itself.
#[derive(Debug, Clone)]
pub struct FinishedBag {
    /// SHA-256 of `tagmanifest-sha256.txt`.
    pub digest: Sha256Digest,
    pub payload_files: u64,
    pub payload_bytes: u64,
}

/// A hash-named bag path (`<prefix><64 lowercase hex><suffix>`, e.g.
/// `data/modules/<sha256>.wasm`) kept as its shape's index and the 32 bytes the hex spells.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct HashedName {
    shape: u8,
    name: [u8; 32],
}

/// Most distinct (prefix, suffix) shapes of hash-named paths; other paths are kept as text.
const MAX_SHAPES: usize = 255;

/// The entries written so far, compactly: a bag of 100,000 modules keeps 33 bytes per entry
/// (plus its hash table) instead of the path text twice.
#[derive(Default)]
struct Names {
    /// (prefix, suffix) of each shape, in first-seen order (a handful in a collect's bag).
    shapes: Vec<(Box<str>, Box<str>)>,
    hashed: HashSet<HashedName>,
    /// Manifest digests of hash-named entries whose bytes do not hash to their name (a source
    /// that changed between its hashing read and its copying read).
    hashed_digest: HashMap<HashedName, Sha256Digest>,
    /// Hash-named entries started and not (yet) finished: not in the manifest.
    hashed_unfinished: HashSet<HashedName>,
    /// Every other payload entry, with its digest once written.
    other: BTreeMap<Box<str>, Option<Sha256Digest>>,
    tags: Vec<String>,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Names {
    /// `(prefix, name bytes, suffix)` when `bag_path` is hash-named.
    fn split(bag_path: &str) -> Option<(&str, [u8; 32], &str)> {
        let start = bag_path.rfind('/').map_or(0, |i| i + 1);
        let hex = bag_path.get(start..start + 64)?;
        if !hex.bytes().all(|b| HEX.contains(&b)) {
            return None;
        }
        let mut name = [0u8; 32];
        hex::decode_to_slice(hex, &mut name).ok()?;
        Some((&bag_path[..start], name, &bag_path[start + 64..]))
    }

    /// The compact form of `bag_path`, registering its shape when `add` (`None`: kept as text).
    fn hashed(&mut self, bag_path: &str, add: bool) -> Option<HashedName> {
        let (prefix, name, suffix) = Self::split(bag_path)?;
        let known = self
            .shapes
            .iter()
            .position(|(p, s)| **p == *prefix && **s == *suffix);
        let shape = match known {
            Some(i) => i,
            None if add && self.shapes.len() < MAX_SHAPES => {
                self.shapes.push((prefix.into(), suffix.into()));
                self.shapes.len() - 1
            }
            None => return None,
        };
        Some(HashedName {
            shape: shape as u8,
            name,
        })
    }

    fn contains(&mut self, bag_path: &str) -> bool {
        match self.hashed(bag_path, false) {
            Some(h) => self.hashed.contains(&h),
            None => self.other.contains_key(bag_path),
        }
    }

    /// Registers a payload entry; false when it is already there.
    fn insert(&mut self, bag_path: &str) -> bool {
        if self.other.contains_key(bag_path) {
            return false;
        }
        match self.hashed(bag_path, true) {
            Some(h) => self.hashed.insert(h) && self.hashed_unfinished.insert(h),
            None => self.other.insert(bag_path.into(), None).is_none(),
        }
    }

    fn remove(&mut self, bag_path: &str) {
        match self.hashed(bag_path, false) {
            Some(h) => {
                self.hashed.remove(&h);
                self.hashed_digest.remove(&h);
                self.hashed_unfinished.remove(&h);
            }
            None => {
                self.other.remove(bag_path);
            }
        }
    }

    fn set_digest(&mut self, bag_path: &str, digest: Sha256Digest) {
        match self.hashed(bag_path, false) {
            Some(h) if self.hashed.contains(&h) => {
                self.hashed_unfinished.remove(&h);
                if digest.0 != h.name {
                    self.hashed_digest.insert(h, digest);
                }
            }
            _ => {
                self.other.insert(bag_path.into(), Some(digest));
            }
        }
    }

    /// Payload entries written (the manifest's lines).
    fn finished(&self) -> usize {
        self.hashed.len() - self.hashed_unfinished.len()
            + self.other.values().filter(|d| d.is_some()).count()
    }

    /// The bytes of a hash-named path, lazily (for ordering without building strings).
    fn bytes(&self, h: &HashedName) -> impl Iterator<Item = u8> + '_ {
        let (prefix, suffix) = &self.shapes[h.shape as usize];
        let hex = h
            .name
            .into_iter()
            .flat_map(|b| [HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        prefix.bytes().chain(hex).chain(suffix.bytes())
    }

    fn text_into(&self, h: &HashedName, out: &mut String) {
        let (prefix, suffix) = &self.shapes[h.shape as usize];
        out.clear();
        out.push_str(prefix);
        for b in h.name {
            out.push(HEX[(b >> 4) as usize].into());
            out.push(HEX[(b & 15) as usize].into());
        }
        out.push_str(suffix);
    }

    /// The manifest, in the order and bytes of [`render_manifest`]: payload entries sorted by
    /// path bytes. Returns its length and a writer of its lines; consumes the hashed set.
    fn manifest(&mut self) -> Manifest<'_> {
        let unfinished = std::mem::take(&mut self.hashed_unfinished);
        let mut hashed: Vec<HashedName> = std::mem::take(&mut self.hashed)
            .into_iter()
            .filter(|h| !unfinished.contains(h))
            .collect();
        let names = &*self;
        hashed.sort_unstable_by(|a, b| {
            if a.shape == b.shape {
                a.name.cmp(&b.name)
            } else {
                names.bytes(a).cmp(names.bytes(b))
            }
        });
        Manifest {
            names: &*self,
            hashed,
        }
    }
}

/// The manifest of a finished bag, written line by line; see [`Names::manifest`].
struct Manifest<'a> {
    names: &'a Names,
    hashed: Vec<HashedName>,
}

impl Manifest<'_> {
    fn digest_of(&self, h: &HashedName) -> Sha256Digest {
        self.names
            .hashed_digest
            .get(h)
            .copied()
            .unwrap_or(Sha256Digest(h.name))
    }

    /// Calls `line` with each (path, digest) in manifest order.
    fn for_each(
        &self,
        mut line: impl FnMut(&str, Sha256Digest) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut other = self
            .names
            .other
            .iter()
            .filter_map(|(p, d)| Some((p, (*d)?)))
            .peekable();
        let mut text = String::new();
        for h in &self.hashed {
            self.names.text_into(h, &mut text);
            while let Some((p, d)) = other.next_if(|(p, _)| p.as_bytes() < text.as_bytes()) {
                line(p, d)?;
            }
            line(&text, self.digest_of(h))?;
        }
        for (p, d) in other {
            line(p, d)?;
        }
        Ok(())
    }

    /// Bytes of the manifest text.
    fn len(&self) -> u64 {
        let line = |path_len: usize| (64 + 2 + path_len + 1) as u64;
        let mut shape_len = vec![0u64; self.names.shapes.len()];
        for (i, (p, s)) in self.names.shapes.iter().enumerate() {
            shape_len[i] = line(encode_manifest_path(p).len() + 64 + encode_manifest_path(s).len());
        }
        let hashed: u64 = self
            .hashed
            .iter()
            .map(|h| shape_len[h.shape as usize])
            .sum();
        let other: u64 = self
            .names
            .other
            .iter()
            .filter(|(_, d)| d.is_some())
            .map(|(p, _)| line(encode_manifest_path(p).len()))
            .sum();
        hashed + other
    }
}

/// One zip entry being written by [`BagZipWriter::add_payload_with`]: buffers, hashes and
/// counts the bytes.
pub struct EntryWriter<'a> {
    zip: &'a mut ZipWriter<BundleSink>,
    /// Deflated (`--compress`): fed through [`DEFLATE_LOOKAHEAD`].
    deflate: bool,
    buf: Vec<u8>,
    /// Bytes of `buf` the compressor has taken.
    taken: usize,
    hasher: Sha256,
    written: u64,
    /// Set when writing to the zip (not producing the bytes) failed.
    zip_failed: bool,
}

/// Bytes an [`EntryWriter`] gathers before it writes them to a stored entry.
const ENTRY_BUFFER: usize = 256 << 10;

/// Input a deflated entry's compressor is always offered (until the last bytes). Why: the
/// compressor's output depends on how its input arrives. A whole-buffer write (how these
/// entries were written before they were streamed) offers it all the rest at every call, and
/// each call stops when its 32 KiB of output is full, having taken far less than this (at most
/// 704 KiB on the metadata of 100,000 modules); offered at least this much, every call stops at
/// the same point and the bytes are the same. Only text compressing better than 256:1 for
/// megabytes on end could make a call take more (the bundle would still be valid and the same
/// for the same inputs, but not byte-identical to a whole-buffer write).
const DEFLATE_LOOKAHEAD: usize = 8 << 20;

impl<'a> EntryWriter<'a> {
    fn new(zip: &'a mut ZipWriter<BundleSink>, deflate: bool) -> Self {
        EntryWriter {
            zip,
            deflate,
            buf: Vec::with_capacity(if deflate {
                2 * DEFLATE_LOOKAHEAD
            } else {
                ENTRY_BUFFER
            }),
            taken: 0,
            hasher: Sha256::new(),
            written: 0,
            zip_failed: false,
        }
    }

    /// Deflated entries: single compressor calls while the lookahead is there.
    fn feed(&mut self) -> io::Result<()> {
        while self.buf.len() - self.taken >= DEFLATE_LOOKAHEAD {
            let n = self
                .zip
                .write(&self.buf[self.taken..])
                .inspect_err(|_| self.zip_failed = true)?;
            if n == 0 {
                self.zip_failed = true;
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.taken += n;
        }
        if self.taken >= DEFLATE_LOOKAHEAD {
            self.buf.drain(..self.taken);
            self.taken = 0;
        }
        Ok(())
    }

    /// Writes everything gathered (at the end of the entry, or of a stored chunk).
    fn drain(&mut self) -> io::Result<()> {
        if self.taken < self.buf.len() {
            let r = self.zip.write_all(&self.buf[self.taken..]);
            r.inspect_err(|_| self.zip_failed = true)?;
        }
        self.buf.clear();
        self.taken = 0;
        Ok(())
    }
}

impl Write for EntryWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.hasher.update(data);
        self.written += data.len() as u64;
        if self.deflate {
            self.buf.extend_from_slice(data);
            self.feed()?;
            return Ok(data.len());
        }
        if self.buf.len() + data.len() > ENTRY_BUFFER {
            self.drain()?;
        }
        if data.len() >= ENTRY_BUFFER {
            self.zip
                .write_all(data)
                .inspect_err(|_| self.zip_failed = true)?;
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(data.len())
    }
    /// Does nothing: a deflated entry's bytes must reach the compressor as they would in one
    /// piece (see [`DEFLATE_LOOKAHEAD`]); the entry is completed by its writer.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes one bag into a zip. Paths passed in are bag-relative (`data/…`); every entry is put
/// under the top folder `<case-id>/`.
pub struct BagZipWriter {
    zip: ZipWriter<BundleSink>,
    truncate_pending: std::sync::Arc<std::sync::atomic::AtomicBool>,
    discard: std::sync::Arc<std::sync::atomic::AtomicBool>,
    path: PathBuf,
    root: String,
    time: zip::DateTime,
    compress_text: bool,
    octets: u64,
    names: Names,
}

impl BagZipWriter {
    /// `path` only names the bundle in errors. `root` is the case id (already validated as a
    /// single safe path component).
    pub fn new(
        sink: BundleSink,
        path: &Path,
        root: &str,
        time: DateTime<Utc>,
        compress_text: bool,
    ) -> Self {
        BagZipWriter {
            truncate_pending: sink.truncate_pending.clone(),
            discard: sink.discard.clone(),
            zip: ZipWriter::new(sink),
            path: path.to_owned(),
            root: root.to_owned(),
            time: zip_time(time),
            compress_text,
            octets: 0,
            names: Names::default(),
        }
    }

    /// A guard to declare after the writer: see [`DiscardOnDrop`].
    pub fn discard_on_drop(&self) -> DiscardOnDrop {
        DiscardOnDrop(self.discard.clone())
    }

    /// Makes room for `n` more hash-named entries up front (a table that grows frees its old
    /// allocation, and the freed blocks of a large table are hard for the allocator to reuse).
    pub fn reserve(&mut self, n: usize) {
        self.names.hashed.reserve(n);
    }

    /// True when a payload entry of this bag path has been written already.
    pub fn contains(&mut self, bag_path: &str) -> bool {
        self.names.contains(bag_path)
    }

    fn io(&self, e: io::Error) -> WriteError {
        WriteError::Io {
            path: self.path.clone(),
            source: e,
        }
    }

    /// Starts a payload entry (registered in the manifest).
    fn start(&mut self, bag_path: &str, size: u64, text: bool) -> Result<(), WriteError> {
        if !self.names.insert(bag_path) {
            return Err(WriteError::DuplicateEntry {
                entry: bag_path.to_owned(),
            });
        }
        self.start_entry(bag_path, size, text)
    }

    fn start_entry(&mut self, bag_path: &str, size: u64, text: bool) -> Result<(), WriteError> {
        let deflate = text && self.compress_text;
        let opts = SimpleFileOptions::default()
            .compression_method(if deflate {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .compression_level(deflate.then_some(DEFLATE_LEVEL))
            .last_modified_time(self.time)
            .unix_permissions(0o644)
            .large_file(size >= u32::MAX as u64);
        let name = format!("{}/{}", self.root, bag_path);
        self.zip
            .start_file(name.clone(), opts)
            .map_err(|e| WriteError::Zip {
                path: self.path.clone(),
                entry: name,
                source: e,
            })
    }

    /// Adds a payload file whose bytes (and digest) are already in memory.
    pub fn add_payload_bytes(
        &mut self,
        bag_path: &str,
        bytes: &[u8],
        digest: Sha256Digest,
        text: bool,
    ) -> Result<(), WriteError> {
        self.start(bag_path, bytes.len() as u64, text)?;
        self.zip.write_all(bytes).map_err(|e| self.io(e))?;
        self.names.set_digest(bag_path, digest);
        self.octets += bytes.len() as u64;
        Ok(())
    }

    /// Adds a payload file of exactly `size` bytes (which decides Zip64, as for
    /// [`Self::add_payload_bytes`]) that `fill` writes; they are hashed on the way. An error
    /// of `fill` that is not a failed write to the bundle is reported as [`WriteError::Temp`]
    /// (its bytes come from collect's temp files).
    pub fn add_payload_with(
        &mut self,
        bag_path: &str,
        size: u64,
        text: bool,
        fill: impl FnOnce(&mut EntryWriter<'_>) -> io::Result<()>,
    ) -> Result<Sha256Digest, WriteError> {
        self.start(bag_path, size, text)?;
        let mut w = EntryWriter::new(&mut self.zip, text && self.compress_text);
        let r = fill(&mut w).and_then(|()| w.drain());
        let (written, zip_failed) = (w.written, w.zip_failed);
        let digest = Sha256Digest(w.hasher.finalize().into());
        if let Err(e) = r {
            let path = self.path.clone();
            return Err(if zip_failed {
                WriteError::Io { path, source: e }
            } else {
                WriteError::Temp { path, source: e }
            });
        }
        if written != size {
            return Err(WriteError::SizeMismatch {
                path: self.path.clone(),
                entry: bag_path.to_owned(),
                written,
                announced: size,
            });
        }
        self.names.set_digest(bag_path, digest);
        self.octets += written;
        Ok(digest)
    }

    /// Streams a payload file from `reader` (expected to be `size` bytes, which decides Zip64),
    /// hashing exactly the bytes written; returns their digest and count. `progress` is told
    /// the size of each chunk. The outer error is a failure to write the bundle; the inner one
    /// a failure to read the source, after which the partial entry has been removed again and
    /// the bundle can go on.
    pub fn add_payload_stream<R: Read>(
        &mut self,
        bag_path: &str,
        mut reader: R,
        size: u64,
        text: bool,
        progress: &dyn Fn(u64),
    ) -> Result<Result<(Sha256Digest, u64), io::Error>, WriteError> {
        // A streamed source may grow while it is copied; past 2 GiB, mark the entry Zip64 up front
        // so growth across 4 GiB cannot fail the whole bundle.
        let zip64_hint = if size >= u32::MAX as u64 / 2 {
            u32::MAX as u64
        } else {
            size
        };
        self.start(bag_path, zip64_hint, text)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; STREAM_CHUNK];
        let mut total = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let path = self.path.clone();
                    self.zip.abort_file().map_err(|z| WriteError::Zip {
                        path,
                        entry: bag_path.to_owned(),
                        source: z,
                    })?;
                    self.names.remove(bag_path);
                    self.truncate_pending
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    return Ok(Err(e));
                }
            };
            // Hashing and writing (CRC-32 and the copy into the page cache) are independent:
            // on two cores they overlap, which halves the time this large file holds the writer.
            let chunk = &buf[..n];
            let zip = &mut self.zip;
            let ((), written) = rayon::join(|| hasher.update(chunk), || zip.write_all(chunk));
            written.map_err(|e| self.io(e))?;
            total += n as u64;
            progress(n as u64);
        }
        let digest = Sha256Digest(hasher.finalize().into());
        self.names.set_digest(bag_path, digest);
        self.octets += total;
        Ok(Ok((digest, total)))
    }

    /// Starts a tag file (not in the payload manifest).
    fn start_tag(&mut self, name: &str, size: u64) -> Result<(), WriteError> {
        if self.names.tags.iter().any(|t| t == name) || self.names.other.contains_key(name) {
            return Err(WriteError::DuplicateEntry {
                entry: name.to_owned(),
            });
        }
        self.names.tags.push(name.to_owned());
        self.start_entry(name, size, true)
    }

    fn add_tag(&mut self, name: &str, bytes: &[u8]) -> Result<Sha256Digest, WriteError> {
        self.start_tag(name, bytes.len() as u64)?;
        self.zip.write_all(bytes).map_err(|e| self.io(e))?;
        Ok(Sha256Digest::of(bytes))
    }

    /// `bundle-timestamp.tsr`: binary, so stored whatever `--compress` says.
    fn add_token(&mut self, token: &[u8]) -> Result<(), WriteError> {
        if self.names.tags.iter().any(|t| t == TIMESTAMP_NAME) {
            return Err(WriteError::DuplicateEntry {
                entry: TIMESTAMP_NAME.to_owned(),
            });
        }
        self.names.tags.push(TIMESTAMP_NAME.to_owned());
        self.start_entry(TIMESTAMP_NAME, token.len() as u64, false)?;
        self.zip.write_all(token).map_err(|e| self.io(e))
    }

    /// Writes `manifest-sha256.txt` line by line (a bag of 100,000 files has a 16 MB manifest);
    /// returns its digest.
    fn add_manifest(&mut self) -> Result<Sha256Digest, WriteError> {
        let mut names = std::mem::take(&mut self.names);
        let manifest = names.manifest();
        let size = manifest.len();
        self.start_tag(MANIFEST_NAME, size)?;
        let mut w = EntryWriter::new(&mut self.zip, self.compress_text);
        let mut line = String::new();
        let r = manifest
            .for_each(|path, digest| {
                line.clear();
                line.push_str(&digest.to_hex());
                line.push_str("  ");
                line.push_str(&encode_manifest_path(path));
                line.push('\n');
                w.write_all(line.as_bytes())
            })
            .and_then(|()| w.drain());
        let (written, digest) = (w.written, Sha256Digest(w.hasher.finalize().into()));
        drop(manifest);
        names.tags.push(MANIFEST_NAME.to_owned());
        self.names = names;
        r.map_err(|e| self.io(e))?;
        if written != size {
            return Err(WriteError::SizeMismatch {
                path: self.path.clone(),
                entry: MANIFEST_NAME.to_owned(),
                written,
                announced: size,
            });
        }
        Ok(digest)
    }

    /// Writes the tag files (manifest, bagit.txt, bag-info.txt with the Payload-Oxum filled in,
    /// tag manifest); when `sign` is given, `bundle-signature.json` over the bundle digest; when
    /// `timestamp` is given, the token it obtains for the digest as `bundle-timestamp.tsr` (it
    /// is asked between the digest and the end of the zip, so the zip is still written once;
    /// its failure fails the bundle). Then finishes the zip and returns the sink.
    pub fn finish(
        mut self,
        mut info: BagInfo,
        sign: Option<&dyn Fn(Sha256Digest) -> BundleSignature>,
        timestamp: Option<&TimestampHook<'_>>,
    ) -> Result<(BundleSink, FinishedBag), WriteError> {
        info.payload_octets = self.octets;
        info.payload_streams = self.names.finished() as u64;
        let m = self.add_manifest()?;
        let b = self.add_tag(BAGIT_TXT_NAME, BAGIT_TXT.as_bytes())?;
        let i = self.add_tag(BAG_INFO_NAME, info.render().as_bytes())?;
        let tag_manifest = render_manifest(&[
            (BAGIT_TXT_NAME.to_owned(), b),
            (BAG_INFO_NAME.to_owned(), i),
            (MANIFEST_NAME.to_owned(), m),
        ]);
        let digest = self.add_tag(TAG_MANIFEST_NAME, tag_manifest.as_bytes())?;
        if let Some(sign) = sign {
            let sig = sign(digest);
            let mut json = serde_json::to_vec_pretty(&sig).expect("signature serialises");
            json.push(b'\n');
            self.add_tag(SIGNATURE_NAME, &json)?;
        }
        if let Some(timestamp) = timestamp {
            let token = timestamp(digest).map_err(|source| WriteError::Timestamp {
                path: self.path.clone(),
                source,
            })?;
            self.add_token(&token)?;
        }
        let path = self.path.clone();
        let mut sink = self.zip.finish().map_err(|e| WriteError::Zip {
            path: path.clone(),
            entry: "(central directory)".to_owned(),
            source: e,
        })?;
        if let Some(kind) = sink.failed {
            return Err(WriteError::Io {
                path,
                source: io::Error::new(kind, "an earlier write to the bundle failed"),
            });
        }
        // An aborted entry rewinds the writer: cut anything left past the end of the archive.
        let end = sink.stream_position().map_err(|e| WriteError::Io {
            path: path.clone(),
            source: e,
        })?;
        sink.file
            .set_len(end)
            .map_err(|e| WriteError::Io { path, source: e })?;
        Ok((
            sink,
            FinishedBag {
                digest,
                payload_files: info.payload_streams,
                payload_bytes: info.payload_octets,
            },
        ))
    }
}

/// A bundle being written: a temp file `.<name>.partial-<pid>-<random>` in the destination's
/// folder (same filesystem, so the final step is a rename), removed on drop unless committed.
pub struct AtomicFile {
    temp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temp file next to `dest`. Fails early when `dest` exists and `!force`.
    pub fn create(dest: &Path, force: bool) -> Result<(Self, File), WriteError> {
        let io_err = |path: &Path, e| WriteError::Io {
            path: path.to_owned(),
            source: e,
        };
        if !force && std::fs::symlink_metadata(dest).is_ok() {
            return Err(WriteError::Exists {
                path: dest.to_owned(),
            });
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle.zip".to_owned());
        for _ in 0..16 {
            let temp = dir.join(format!(
                ".{name}.partial-{}-{:016x}",
                std::process::id(),
                random_u64()
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(f) => {
                    return Ok((
                        AtomicFile {
                            temp,
                            dest: dest.to_owned(),
                            committed: false,
                        },
                        f,
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&temp, e)),
            }
        }
        Err(io_err(
            &dir,
            io::Error::other("could not create a unique temp file"),
        ))
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// The folder the bundle is written in.
    pub fn dir(&self) -> PathBuf {
        match self.temp.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        }
    }

    /// fsyncs the file, moves it to the destination (never replacing an existing file unless
    /// `force`), and fsyncs the folder so the new name survives a crash.
    pub fn commit(mut self, file: File, force: bool) -> Result<(), WriteError> {
        let io_err = |path: &Path, e| WriteError::Io {
            path: path.to_owned(),
            source: e,
        };
        file.sync_all().map_err(|e| io_err(&self.temp, e))?;
        drop(file);
        if force {
            std::fs::rename(&self.temp, &self.dest).map_err(|e| io_err(&self.dest, e))?;
        } else {
            // A hard link fails if the destination appeared meanwhile: no-clobber without a race.
            match std::fs::hard_link(&self.temp, &self.dest) {
                Ok(()) => {
                    std::fs::remove_file(&self.temp).map_err(|e| io_err(&self.temp, e))?;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    return Err(WriteError::Exists {
                        path: self.dest.clone(),
                    })
                }
                // Filesystems without hard links: check, then rename.
                Err(_) if std::fs::symlink_metadata(&self.dest).is_err() => {
                    std::fs::rename(&self.temp, &self.dest).map_err(|e| io_err(&self.dest, e))?;
                }
                Err(e) => return Err(io_err(&self.dest, e)),
            }
        }
        self.committed = true;
        let dir = match self.dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        if let Ok(d) = File::open(&dir) {
            d.sync_all().map_err(|e| io_err(&dir, e))?;
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// A random number for temp names (not security relevant: `create_new` guards collisions).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_time_clamps_to_the_dos_range() {
        let t = DateTime::parse_from_rfc3339("1970-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(zip_time(t).year(), 1980);
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:11:13Z")
            .unwrap()
            .with_timezone(&Utc);
        let z = zip_time(t);
        assert_eq!(
            (
                z.year(),
                z.month(),
                z.day(),
                z.hour(),
                z.minute(),
                z.second()
            ),
            (2026, 11, 25, 10, 11, 12)
        );
    }

    /// A reader that fails after `ok` bytes, like a source on a failing disk.
    struct FailingReader {
        ok: usize,
    }
    impl Read for FailingReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("simulated EIO"));
            }
            let n = buf.len().min(self.ok);
            buf[..n].fill(b'z');
            self.ok -= n;
            Ok(n)
        }
    }

    /// A bag writer into `dir/name` (bag folder `C`, a fixed time), failing after `fail_after`
    /// bytes when given; returns the bundle's path too.
    fn writer_in(
        dir: &Path,
        name: &str,
        fail_after: Option<u64>,
        compress: bool,
    ) -> (PathBuf, BagZipWriter) {
        let path = dir.join(name);
        let file = File::create(&path).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .to_utc();
        let w = BagZipWriter::new(BundleSink::new(file, fail_after), &path, "C", t, compress);
        (path, w)
    }

    #[test]
    fn after_a_failed_write_finish_refuses_the_bundle() {
        // The sink discards writes after its first failure (so the zip writer's drop is quiet);
        // a caller that went on anyway must still not get a bundle with bytes missing.
        let dir = tempfile::tempdir().unwrap();
        let (_path, mut w) = writer_in(dir.path(), "b.zip", Some(1000), false);
        let big = vec![7u8; 4000];
        assert!(w
            .add_payload_bytes("data/big", &big, Sha256Digest::of(&big), false)
            .is_err());
        w.add_payload_bytes("data/small", b"ok", Sha256Digest::of(b"ok"), false)
            .unwrap();
        let err = w
            .finish(BagInfo::default(), None, None)
            .err()
            .expect("finish refused");
        assert!(err.to_string().contains("earlier write"), "{err}");
    }

    #[test]
    fn a_source_failing_mid_copy_leaves_a_clean_archive_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = writer_in(dir.path(), "b.zip", None, false);
        let r = w
            .add_payload_stream(
                "data/bad",
                FailingReader { ok: 3 << 20 },
                4 << 20,
                false,
                &|_| {},
            )
            .unwrap();
        assert!(r.is_err());
        assert!(!w.contains("data/bad"));
        w.add_payload_bytes("data/good", b"ok", Sha256Digest::of(b"ok"), false)
            .unwrap();
        let (sink, bag) = w.finish(BagInfo::default(), None, None).unwrap();
        drop(sink);
        assert_eq!((bag.payload_files, bag.payload_bytes), (1, 2));
        let mut za = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let names: Vec<_> = za.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert!(!names.iter().any(|n| n.ends_with("data/bad")), "{names:?}");
        assert!(names.contains(&"C/data/good".to_owned()));
        let mut good = Vec::new();
        za.by_name("C/data/good")
            .unwrap()
            .read_to_end(&mut good)
            .unwrap();
        assert_eq!(good, b"ok");
        // No leftover bytes of the aborted 3 MiB entry past the end of the archive.
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(
            len < 1 << 20,
            "{len} bytes: the aborted entry's bytes are still there"
        );
    }

    #[test]
    fn the_streamed_manifest_is_the_rendered_one() {
        let dir = tempfile::tempdir().unwrap();
        let (path, mut w) = writer_in(dir.path(), "b.zip", None, false);
        w.reserve(4);
        let mut expect: Vec<(String, Sha256Digest)> = Vec::new();
        let mut add = |w: &mut BagZipWriter, name: String, bytes: &[u8], digest: Sha256Digest| {
            assert!(!w.contains(&name));
            w.add_payload_bytes(&name, bytes, digest, false).unwrap();
            assert!(w.contains(&name));
            expect.push((name, digest));
        };
        for i in 0..20u8 {
            let d = Sha256Digest::of(&[i]);
            add(&mut w, format!("data/modules/{d}.wasm"), &[i], d);
            add(&mut w, format!("data/transparency/{d}.json"), &[i], d);
            if i % 3 == 0 {
                add(&mut w, format!("data/transparency/{d}.pem"), &[i], d);
            }
        }
        // Content that changed after it was named: the manifest has the content's digest.
        let named = Sha256Digest::of(b"first read");
        add(
            &mut w,
            format!("data/modules/{named}.wasm"),
            b"second",
            Sha256Digest::of(b"second"),
        );
        // Names kept as text: not hex, upper-case hex, `%` and CR, a non-ASCII suffix.
        let d = Sha256Digest::of(b"x");
        let upper = d.to_hex().to_uppercase();
        for name in [
            "data/evidence.json".to_owned(),
            "data/case/100% notes\r.txt".to_owned(),
            format!("data/modules/{upper}.wasm"),
            format!("data/case/{d}é.txt"),
            format!("data/{d}"),
            "data/a".to_owned(),
        ] {
            add(&mut w, name, b"x", d);
        }
        let streamed = w
            .add_payload_with("data/streamed", 5, true, |e| e.write_all(b"hello"))
            .unwrap();
        assert_eq!(streamed, Sha256Digest::of(b"hello"));
        expect.push(("data/streamed".to_owned(), streamed));
        assert!(matches!(
            w.add_payload_with("data/short", 5, true, |e| e.write_all(b"hi")),
            Err(WriteError::SizeMismatch { .. })
        ));
        assert!(matches!(
            w.add_payload_bytes("data/a", b"x", d, false),
            Err(WriteError::DuplicateEntry { .. })
        ));
        let (sink, bag) = w.finish(BagInfo::default(), None, None).unwrap();
        drop(sink);
        assert_eq!(bag.payload_files, expect.len() as u64);
        let mut za = zip::ZipArchive::new(File::open(&path).unwrap()).unwrap();
        let mut manifest = String::new();
        za.by_name("C/manifest-sha256.txt")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        assert_eq!(manifest, render_manifest(&expect));
    }

    /// A deflated entry streamed in small pieces is the entry written from one buffer: the
    /// compressor's output depends on how its input arrives (`DEFLATE_LOOKAHEAD`).
    #[test]
    fn a_deflated_entry_streamed_in_pieces_is_the_one_written_whole() {
        // JSON-like text, repetitive like custody lines but not uniform, past the lookahead.
        let mut text = Vec::new();
        let mut i = 0u64;
        while text.len() < DEFLATE_LOOKAHEAD + (3 << 20) {
            text.extend_from_slice(
                format!(
                    "{{\"seq\":{i},\"path\":\"/src/{:x}/m{i}.wasm\",\"sha256\":\"{}\"}}\n",
                    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 44,
                    Sha256Digest::of(&i.to_le_bytes())
                )
                .as_bytes(),
            );
            i += 1;
        }
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, streamed: bool| {
            let (path, mut w) = writer_in(dir.path(), name, None, true);
            let d = Sha256Digest::of(&text);
            if streamed {
                let got = w
                    .add_payload_with("data/t.jsonl", text.len() as u64, true, |e| {
                        for piece in text.chunks(1000) {
                            e.write_all(piece)?;
                        }
                        Ok(())
                    })
                    .unwrap();
                assert_eq!(got, d);
            } else {
                w.add_payload_bytes("data/t.jsonl", &text, d, true).unwrap();
            }
            w.finish(BagInfo::default(), None, None).unwrap();
            std::fs::read(&path).unwrap()
        };
        let (whole, streamed) = (write("a.zip", false), write("b.zip", true));
        assert!(whole.len() < text.len() * 3 / 4, "not deflated");
        assert!(whole == streamed, "the streamed entry deflated differently");
    }

    #[test]
    fn uncommitted_temp_files_are_removed_and_existing_files_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("c.zip");
        let (a, _f) = AtomicFile::create(&dest, false).unwrap();
        let temp = a.temp_path().to_owned();
        assert!(temp
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(".c.zip.partial-"));
        drop(a);
        assert!(!temp.exists());
        std::fs::write(&dest, b"old").unwrap();
        assert!(matches!(
            AtomicFile::create(&dest, false),
            Err(WriteError::Exists { .. })
        ));
        let (a, mut f) = AtomicFile::create(&dest, true).unwrap();
        f.write_all(b"new").unwrap();
        a.commit(f, true).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
