//! Structure-aware mutations for the hostile-input sweep: a minimal, independent wasm section
//! splitter (so the mutations do not trust the scanner under test), LEB128 encodings (minimal,
//! padded, over-long, huge), and byte-level edits. Used by `tests/hostile_*.rs`.
#![allow(dead_code)]

use std::ops::Range;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use super::fixture;

/// Cases per property: `WSC_FORENSICS_FUZZ_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("WSC_FORENSICS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Upper bound on the time one parse may take (debug build, shared CI machine): well above a
/// real parse (milliseconds), well below a hang.
pub const CASE_TIME_LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on a watchdog thread: panics (failing the case) when it does not return within
/// [`CASE_TIME_LIMIT`], so a hang is a test failure, not a stuck test run. A panic inside `f`
/// is re-raised here with its message.
pub fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn watchdog thread");
    match rx.recv_timeout(CASE_TIME_LIMIT) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => unreachable!("sender dropped without sending"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: no result after {CASE_TIME_LIMIT:?} (hang)")
        }
    }
}

/// Every file in a fixture directory whose name ends with one of `exts` (all when empty),
/// sorted, transcripts and READMEs excluded.
pub fn fixtures_in(dir: &str, exts: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_owned();
            let keep = !name.ends_with(".txt")
                && !name.ends_with(".md")
                && (exts.is_empty() || exts.iter().any(|e| name.ends_with(e)));
            keep.then(|| (name, std::fs::read(&p).unwrap()))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {dir}");
    out
}

pub fn modules() -> Vec<(String, Vec<u8>)> {
    fixtures_in("wsc/modules", &[".wasm"])
}

pub fn detached_sigs() -> Vec<(String, Vec<u8>)> {
    fixtures_in("wsc/modules", &[".sig"])
}

pub fn key_files() -> Vec<(String, Vec<u8>)> {
    fixtures_in("wsc/keys", &[])
}

pub fn case_file() -> Vec<u8> {
    std::fs::read(fixture("demo/case.toml")).unwrap()
}

pub fn fixture_path(rel: &str) -> PathBuf {
    fixture(rel)
}

/// Minimal LEB128 of `v`.
pub fn leb(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// LEB128 of `v` padded to exactly `n` bytes (non-minimal but valid when `n <= 5` and `v` fits).
pub fn leb_padded(v: u64, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            let b = ((v >> (7 * i)) & 0x7f) as u8;
            if i + 1 < n {
                b | 0x80
            } else {
                b
            }
        })
        .collect()
}

/// Hostile encodings of a length: the largest u32, an over-long 6- and 10-byte form, a 5-byte
/// form above 32 bits, and an unterminated run of continuation bytes.
pub fn hostile_lengths() -> Vec<Vec<u8>> {
    vec![
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        vec![0xff; 9].into_iter().chain([0x01]).collect(),
        vec![0xff, 0xff, 0xff, 0xff, 0x7f],
        vec![0x80; 5],
        leb(16 * 1024 * 1024 + 1),
        leb(0x7fff_ffff),
    ]
}

/// One section of a wasm module, found by the independent splitter.
#[derive(Clone, Debug)]
pub struct RawSection {
    pub range: Range<usize>,
    /// Bytes of the size field.
    pub size_field: Range<usize>,
    pub payload: Range<usize>,
    /// Custom-section name bytes (id 0).
    pub name: Option<Range<usize>>,
}

fn read_leb(b: &[u8], mut at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..5 {
        let byte = *b.get(at)?;
        at += 1;
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, at));
        }
    }
    None
}

/// Splits a well-formed module into sections (None for anything malformed).
pub fn split_sections(b: &[u8]) -> Option<Vec<RawSection>> {
    if b.len() < 8 {
        return None;
    }
    let mut out = Vec::new();
    let mut at = 8;
    while at < b.len() {
        let start = at;
        let id = b[at];
        let (size, p) = read_leb(b, at + 1)?;
        let end = p.checked_add(size as usize).filter(|&e| e <= b.len())?;
        let name = if id == 0 {
            let (n, q) = read_leb(b, p)?;
            Some(q..q.checked_add(n as usize).filter(|&e| e <= end)?)
        } else {
            None
        };
        out.push(RawSection {
            range: start..end,
            size_field: start + 1..p,
            payload: p..end,
            name,
        });
        at = end;
    }
    Some(out)
}

/// A structure-aware edit of a module. Indices are reduced modulo what exists.
#[derive(Clone, Debug)]
pub enum ModuleEdit {
    Truncate(usize),
    Extend(Vec<u8>),
    Flip(usize, u8),
    SwapSections(usize, usize),
    DuplicateSection(usize),
    DeleteSection(usize),
    /// Replace a section's size field with one of [`hostile_lengths`].
    HugeSectionSize(usize, usize),
    /// Re-encode a section's size as a padded 5-byte LEB128 (same value, other bytes).
    PaddedSectionSize(usize),
    /// Put a non-UTF-8 byte into a custom-section name.
    NonUtf8Name(usize, usize),
    /// Flip a byte inside the first section's payload (the signature, when there is one).
    FlipInFirstPayload(usize, u8),
    /// Insert a hostile length at a position in the first section's payload.
    HugeLengthInFirstPayload(usize, usize),
}

/// Applies `edit` to a copy of `b`.
pub fn apply(b: &[u8], edit: &ModuleEdit) -> Vec<u8> {
    let mut out = b.to_vec();
    let secs = split_sections(b).unwrap_or_default();
    let pick = |i: usize| secs.get(i % secs.len().max(1)).cloned();
    match edit {
        ModuleEdit::Truncate(n) => out.truncate(n % (b.len() + 1)),
        ModuleEdit::Extend(tail) => out.extend_from_slice(tail),
        ModuleEdit::Flip(i, x) => {
            if !out.is_empty() {
                let i = i % out.len();
                out[i] ^= x.max(&1);
            }
        }
        ModuleEdit::SwapSections(i, j) => {
            if let (Some(a), Some(c)) = (pick(*i), pick(*j)) {
                let (a, c) = if a.range.start <= c.range.start {
                    (a, c)
                } else {
                    (c, a)
                };
                if a.range != c.range {
                    let mut v = b[..a.range.start].to_vec();
                    v.extend_from_slice(&b[c.range.clone()]);
                    v.extend_from_slice(&b[a.range.end..c.range.start]);
                    v.extend_from_slice(&b[a.range.clone()]);
                    v.extend_from_slice(&b[c.range.end..]);
                    out = v;
                }
            }
        }
        ModuleEdit::DuplicateSection(i) => {
            if let Some(s) = pick(*i) {
                out.splice(s.range.end..s.range.end, b[s.range.clone()].to_vec());
            }
        }
        ModuleEdit::DeleteSection(i) => {
            if let Some(s) = pick(*i) {
                out.drain(s.range.clone());
            }
        }
        ModuleEdit::HugeSectionSize(i, which) => {
            if let Some(s) = pick(*i) {
                let h = hostile_lengths();
                out.splice(s.size_field.clone(), h[which % h.len()].clone());
            }
        }
        ModuleEdit::PaddedSectionSize(i) => {
            if let Some(s) = pick(*i) {
                let size = (s.payload.end - s.payload.start) as u64;
                out.splice(s.size_field.clone(), leb_padded(size, 5));
            }
        }
        ModuleEdit::NonUtf8Name(i, j) => {
            let customs: Vec<_> = secs.iter().filter_map(|s| s.name.clone()).collect();
            if let Some(n) = customs.get(i % customs.len().max(1)) {
                if !n.is_empty() {
                    out[n.start + j % n.len()] = 0xff;
                }
            }
        }
        ModuleEdit::FlipInFirstPayload(i, x) => {
            if let Some(s) = secs.first() {
                let p = s.name.as_ref().map_or(s.payload.start, |n| n.end)..s.payload.end;
                if !p.is_empty() {
                    out[p.start + i % p.len()] ^= x.max(&1);
                }
            }
        }
        ModuleEdit::HugeLengthInFirstPayload(i, which) => {
            if let Some(s) = secs.first() {
                let p = s.name.as_ref().map_or(s.payload.start, |n| n.end)..s.payload.end;
                if !p.is_empty() {
                    let at = p.start + i % p.len();
                    let h = hostile_lengths();
                    let h = &h[which % h.len()];
                    let end = (at + h.len()).min(p.end);
                    out.splice(at..end, h[..end - at].to_vec());
                }
            }
        }
    }
    out
}

/// Byte-level edit of a flat file (keys, detached signatures, case files).
#[derive(Clone, Debug)]
pub enum ByteEdit {
    Truncate(usize),
    Extend(Vec<u8>),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    /// Duplicate a run of bytes (a field, a line) in place.
    Duplicate(usize, usize),
    /// Overwrite with a hostile length encoding.
    HugeLength(usize, usize),
}

pub fn apply_bytes(b: &[u8], edit: &ByteEdit) -> Vec<u8> {
    let mut out = b.to_vec();
    let len = b.len();
    match edit {
        ByteEdit::Truncate(n) => out.truncate(n % (len + 1)),
        ByteEdit::Extend(t) => out.extend_from_slice(t),
        ByteEdit::Flip(i, x) => {
            if len > 0 {
                out[i % len] ^= x.max(&1);
            }
        }
        ByteEdit::Insert(i, t) => {
            let at = i % (len + 1);
            out.splice(at..at, t.iter().copied());
        }
        ByteEdit::Delete(i, n) => {
            let at = i % (len + 1);
            let end = (at + n).min(len);
            out.drain(at..end);
        }
        ByteEdit::Duplicate(i, n) => {
            let at = i % (len + 1);
            let end = (at + n).min(len);
            let run = b[at..end].to_vec();
            out.splice(end..end, run);
        }
        ByteEdit::HugeLength(i, which) => {
            let h = hostile_lengths();
            let h = &h[which % h.len()];
            let at = i % (len + 1);
            let end = (at + h.len()).min(len);
            out.splice(at..end, h.iter().copied());
        }
    }
    out
}

/// Two-byte sequences that are never valid UTF-8 inside text.
pub const NON_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf8\x88\x80\x80\x80",
];
