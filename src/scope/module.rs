//! Scope of one module: read once, embedded and detached signatures judged against the query
//! from the same chunks, payload no verdict needs jumped over.

use super::*;
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use crate::wasm::verdict::{self, HashCoverage, Verdict};
use crate::wasm::{self, ModuleReport, SignatureAnalysis};
use chrono::{DateTime, Utc};
use std::io::{self, Read};
use std::path::PathBuf;

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
pub(super) fn with_read_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
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
pub(super) trait ModuleBytes: Read {
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
pub(super) struct Stream<'a, R>(pub(super) &'a mut R);

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
pub(super) const JUMPING_READ: usize = 64 << 10;

/// The embedded-coverage scanner and, with a detached signature, the detached-coverage one.
struct Scanners {
    embedded: Option<Scanner>,
    detached: Option<Scanner>,
}

impl Scanners {
    /// Hashing is most of scope's work: each scanner hashes the covered bytes only when its
    /// signature could be by a queried key (the detached one is known now, the embedded one once
    /// the first section has been walked, in [`Scanners::first_chunk`]).
    fn new(detached: Option<&[u8]>, query: &ScopeQuery) -> Self {
        let scanner = |coverage| {
            Scanner::new(ScanOptions {
                coverage,
                file_sha256: false,
            })
        };
        let detached = detached.map(|bytes| {
            let mut d = scanner(Coverage::Detached);
            if !needs_covered_hash(bytes, query) {
                d.skip_covered_hash();
            }
            d
        });
        Scanners {
            embedded: Some(scanner(Coverage::Embedded)),
            detached,
        }
    }

    fn each(&mut self) -> impl Iterator<Item = &mut Scanner> {
        [self.embedded.as_mut(), self.detached.as_mut()]
            .into_iter()
            .flatten()
    }

    fn feed(&mut self, chunk: &[u8]) {
        for s in self.each() {
            let _ = s.feed(chunk);
        }
    }

    /// The first chunk of the file: decides which scanners run and whether the embedded one
    /// hashes. Returns how much of `chunk` was fed already.
    fn first_chunk(&mut self, chunk: &[u8], query: &ScopeQuery) -> usize {
        // With a detached signature and no embedded `signature` section, both coverages are
        // "every section": one scanner suffices, so the module is hashed once.
        if self.detached.is_some() && first_section_is_not_signature(chunk) {
            self.embedded = None;
        }
        // Walk the first section alone, then ask the scanner what it was (its reading, not
        // ours, decides); a first section not wholly in this chunk keeps the hashing.
        let (Some(e), Some(end)) = (self.embedded.as_mut(), first_section_end(chunk)) else {
            return 0;
        };
        let _ = e.feed(&chunk[..end]);
        match e.first_section() {
            Some(Some(p)) if needs_covered_hash(p, query) => {}
            Some(_) => e.skip_covered_hash(),
            None => {}
        }
        if let Some(d) = self.detached.as_mut() {
            let _ = d.feed(&chunk[..end]);
        }
        end
    }

    /// Payload bytes no scanner needs next (0: every scanner needs the next byte).
    fn skippable(&self) -> u64 {
        [self.embedded.as_ref(), self.detached.as_ref()]
            .into_iter()
            .flatten()
            .map(Scanner::skippable)
            .min()
            .unwrap_or(0)
    }
}

pub(super) fn scope_stream_with(
    reader: &mut dyn ModuleBytes,
    detached: Option<(String, Vec<u8>)>,
    query: &ScopeQuery,
    buf: &mut [u8],
) -> io::Result<Option<ModuleScope>> {
    let mut scanners = Scanners::new(detached.as_ref().map(|(_, b)| b.as_slice()), query);
    if !read_module(reader, &mut scanners, query, buf)? {
        return Ok(None);
    }
    Ok(Some(judge(scanners, detached, query)))
}

/// Reads the module once into the scanners, jumping over payload none of them needs (never
/// past the file's end). Returns false when the bytes do not start like a WebAssembly module.
fn read_module(
    reader: &mut dyn ModuleBytes,
    scanners: &mut Scanners,
    query: &ScopeQuery,
    buf: &mut [u8],
) -> io::Result<bool> {
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
                return Ok(false);
            }
        }
        let mut chunk = &buf[..n];
        if first_chunk {
            first_chunk = false;
            chunk = &chunk[scanners.first_chunk(chunk, query)..];
        }
        scanners.feed(chunk);
        let skippable = scanners.skippable();
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
                scanners.each().for_each(|s| s.skip(n));
            }
        }
        // Small reads only while jumping: a module being hashed is read in full chunks.
        jumping = jumped;
    }
    Ok(head.len() == 4)
}

/// The module's answer from what the scanners saw: the signatures by queried keys, the other
/// signers, the keyless signer, and one status.
fn judge(
    scanners: Scanners,
    detached: Option<(String, Vec<u8>)>,
    query: &ScopeQuery,
) -> ModuleScope {
    let keys = query.public_keys();
    let emb_scan = scanners.embedded.map(Scanner::finish);
    let det_scan = scanners.detached.map(Scanner::finish);
    let main_scan = emb_scan
        .as_ref()
        .or(det_scan.as_ref())
        .expect("at least one scanner");
    let scan_error = main_scan.error.as_ref().map(|e| e.to_string());
    let mut m = ModuleScope {
        path: PathBuf::new(),
        origin: ModuleOrigin::File,
        size: main_scan.file_len,
        status: ModuleStatus::Unsigned,
        signatures: Vec::new(),
        other_signers: Vec::new(),
        keyless: None,
        detached_signature: detached.as_ref().map(|(p, _)| p.clone()),
        error: scan_error.clone(),
        assessment: None,
        assessment_not_made: None,
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
    m.status = module_status(&m, scan_error.is_some(), undecodable);
    m
}

/// One status per module, the strongest statement first: a queried key's signature decides;
/// then a scan error, other signers, a keyless signer, an undecodable signature.
fn module_status(m: &ModuleScope, scan_error: bool, undecodable: bool) -> ModuleStatus {
    let any = |f: fn(&KeyCheck) -> bool| m.signatures.iter().any(|s| f(&s.check));
    if any(|c| matches!(c, KeyCheck::Valid { .. })) {
        ModuleStatus::Valid
    } else if any(|c| matches!(c, KeyCheck::Partial { .. } | KeyCheck::Invalid { .. })) {
        ModuleStatus::Suspicious
    } else if !m.signatures.is_empty() {
        ModuleStatus::KeyIdMatchNotVerified
    } else if scan_error {
        ModuleStatus::Error
    } else if !m.other_signers.is_empty() {
        ModuleStatus::OtherSigners
    } else if m.keyless.is_some() {
        ModuleStatus::Keyless
    } else if undecodable {
        ModuleStatus::Undecodable
    } else {
        ModuleStatus::Unsigned
    }
}

/// End offset of the first section when the chunk (the start of the file) holds all of it.
pub(super) fn first_section_end(chunk: &[u8]) -> Option<usize> {
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
pub(super) fn needs_covered_hash(payload: &[u8], query: &ScopeQuery) -> bool {
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
pub(super) fn first_section_is_not_signature(chunk: &[u8]) -> bool {
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
pub(super) fn collect(
    report: &ModuleReport,
    query: &ScopeQuery,
    m: &mut ModuleScope,
    undecodable: &mut bool,
) {
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
pub(super) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(secs) = s.trim().parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
