//! Bounded-memory spilling for collect: a stable external sort of (key, value) byte records.
//! Records are kept in memory up to a byte budget, then sorted and written as a run to an
//! anonymous temp file (`tempfile_in` the bundle's folder: no name, so nothing is left behind by
//! a crash); [`Sorter::finish`] merges the runs back in key order. Keys compare as bytes; equal
//! keys come back in the order they were pushed, so a sorter with empty keys is a spool.
//! Small inputs never touch the disk: the last run is merged straight from memory.

use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Record header: key length and value length, u32 little-endian each.
const HEADER: usize = 8;
/// Bytes read from a spilled run at a time while merging.
const READ_CHUNK: usize = 16 << 10;

/// Records of one run held in memory: `[klen][vlen][key][value]` back to back.
#[derive(Default)]
struct MemRun {
    buf: Vec<u8>,
    starts: Vec<usize>,
}

fn header(buf: &[u8], at: usize) -> (usize, usize) {
    let k = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes")) as usize;
    let v = u32::from_le_bytes(buf[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
    (k, v)
}

/// Key and value of the record at `at`.
fn record(buf: &[u8], at: usize) -> (&[u8], &[u8]) {
    let (k, v) = header(buf, at);
    let key = &buf[at + HEADER..at + HEADER + k];
    (key, &buf[at + HEADER + k..at + HEADER + k + v])
}

impl MemRun {
    /// Bytes `push` would add.
    fn cost(key: &[u8], value: &[u8]) -> usize {
        HEADER + key.len() + value.len()
    }

    /// Appends a record; the buffer grows to at most `budget` (or the record's size), never
    /// to the next power of two past it.
    fn push(&mut self, key: &[u8], value: &[u8], budget: usize) -> io::Result<()> {
        let too_long = |n: usize| u32::try_from(n).map_err(|_| io::Error::other("record too long"));
        let (k, v) = (too_long(key.len())?, too_long(value.len())?);
        let need = self.buf.len() + Self::cost(key, value);
        if need > self.buf.capacity() {
            let cap = (self.buf.capacity() * 2).max(need).min(budget.max(need));
            self.buf.reserve_exact(cap - self.buf.len());
        }
        self.starts.push(self.buf.len());
        self.buf.extend_from_slice(&k.to_le_bytes());
        self.buf.extend_from_slice(&v.to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.extend_from_slice(value);
        Ok(())
    }

    /// Stable: records with equal keys keep their push order.
    fn sort(&mut self) {
        let buf = &self.buf;
        self.starts
            .sort_by(|&a, &b| record(buf, a).0.cmp(record(buf, b).0));
    }
}

/// A stable external sorter; see the module documentation.
pub struct Sorter {
    dir: PathBuf,
    budget: usize,
    mem: MemRun,
    file: Option<File>,
    file_len: u64,
    runs: Vec<(u64, u64)>,
    records: u64,
    value_bytes: u64,
}

impl Sorter {
    /// A sorter that keeps about `budget` bytes of records in memory and spills to an anonymous
    /// file created in `dir` when it needs one.
    pub fn new(dir: &Path, budget: usize) -> Self {
        Sorter {
            dir: dir.to_owned(),
            budget: budget.max(1),
            mem: MemRun::default(),
            file: None,
            file_len: 0,
            runs: Vec::new(),
            records: 0,
            value_bytes: 0,
        }
    }

    pub fn push(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        if !self.mem.starts.is_empty()
            && self.mem.buf.len() + MemRun::cost(key, value) > self.budget
        {
            self.spill()?;
        }
        self.mem.push(key, value, self.budget)?;
        self.records += 1;
        self.value_bytes += value.len() as u64;
        Ok(())
    }

    /// Records pushed so far.
    pub fn len(&self) -> u64 {
        self.records
    }

    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Sum of the lengths of all values pushed so far.
    pub fn value_bytes(&self) -> u64 {
        self.value_bytes
    }

    /// Bytes written to the temp file so far (0 when everything stayed in memory).
    pub fn spilled_bytes(&self) -> u64 {
        self.file_len
    }

    fn spill(&mut self) -> io::Result<()> {
        self.mem.sort();
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile_in(&self.dir)?);
        }
        let file = self.file.as_ref().expect("just created");
        let start = self.file_len;
        let mut w = RunWriter::new(file, start);
        for &at in &self.mem.starts {
            let (k, v) = header(&self.mem.buf, at);
            w.write(&self.mem.buf[at..at + HEADER + k + v])?;
        }
        self.file_len = w.finish()?;
        self.runs.push((start, self.file_len));
        // Keep the allocation for the next run, but not the records.
        self.mem.buf.clear();
        self.mem.starts.clear();
        Ok(())
    }

    /// Every record pushed, in key order.
    pub fn finish(mut self) -> io::Result<Merge> {
        if self.runs.is_empty() {
            // Everything fitted in memory.
            self.mem.sort();
            let mem = std::mem::take(&mut self.mem);
            return Merge::new(None, Vec::new(), Some(mem), READ_CHUNK);
        }
        // Once runs are on disk, the last one goes there too, and the merge holds only a read
        // buffer per run: about half the budget in all. More runs than that allows are merged
        // a group at a time first (each group into one longer run, in place of the group, so
        // that equal keys keep their order).
        if !self.mem.starts.is_empty() {
            self.spill()?;
        }
        self.mem = MemRun::default();
        let fan_in = (self.budget / 2 / MIN_READ).max(2);
        let file = self.file.take().expect("runs are in a file");
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > fan_in {
            let mut merged = Vec::with_capacity(runs.len().div_ceil(fan_in));
            for group in runs.chunks(fan_in) {
                if group.len() == 1 {
                    merged.push(group[0]);
                    continue;
                }
                let chunk = read_chunk(self.budget, group.len());
                let mut m = Merge::new(Some(file.try_clone()?), group.to_vec(), None, chunk)?;
                let start = self.file_len;
                let mut w = RunWriter::new(&file, start);
                while let Some((k, v)) = m.next_record()? {
                    w.write(&(k.len() as u32).to_le_bytes())?;
                    w.write(&(v.len() as u32).to_le_bytes())?;
                    w.write(k)?;
                    w.write(v)?;
                }
                self.file_len = w.finish()?;
                merged.push((start, self.file_len));
            }
            runs = merged;
        }
        let chunk = read_chunk(self.budget, runs.len());
        Merge::new(Some(file), runs, None, chunk)
    }
}

/// Smallest read from a run while merging.
const MIN_READ: usize = 4 << 10;

/// Bytes read from each of `runs` runs at a time, so that all of them hold about half of
/// `budget` (between [`MIN_READ`] and [`READ_CHUNK`]).
fn read_chunk(budget: usize, runs: usize) -> usize {
    (budget / 2 / runs.max(1)).clamp(MIN_READ, READ_CHUNK)
}

/// Appends records to the run file with positional writes, through a buffer.
struct RunWriter<'a> {
    file: &'a File,
    pos: u64,
    buf: Vec<u8>,
}

impl<'a> RunWriter<'a> {
    fn new(file: &'a File, pos: u64) -> Self {
        RunWriter {
            file,
            pos,
            buf: Vec::with_capacity(WRITE_CHUNK),
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.buf.len() + data.len() > WRITE_CHUNK {
            self.flush()?;
        }
        if data.len() >= WRITE_CHUNK {
            self.file.write_all_at(data, self.pos)?;
            self.pos += data.len() as u64;
        } else {
            self.buf.extend_from_slice(data);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.write_all_at(&self.buf, self.pos)?;
        self.pos += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is buffered; returns the end of the run.
    fn finish(mut self) -> io::Result<u64> {
        self.flush()?;
        Ok(self.pos)
    }
}

/// Bytes gathered before a write to the run file.
const WRITE_CHUNK: usize = 128 << 10;

/// An append-only byte spool: kept in memory up to a budget, then written to an anonymous temp
/// file in `dir`; read back in order with [`Spool::copy_to`].
pub struct Spool {
    dir: PathBuf,
    budget: usize,
    buf: Vec<u8>,
    file: Option<File>,
    file_len: u64,
}

impl Spool {
    pub fn new(dir: &Path, budget: usize) -> Self {
        Spool {
            dir: dir.to_owned(),
            budget: budget.max(1),
            buf: Vec::new(),
            file: None,
            file_len: 0,
        }
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.buf.is_empty() && self.buf.len() + data.len() > self.budget {
            self.flush()?;
        }
        if self.buf.is_empty() && data.len() >= self.budget {
            return self.write_file(data);
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn write_file(&mut self, data: &[u8]) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(tempfile::tempfile_in(&self.dir)?);
        }
        let file = self.file.as_ref().expect("just created");
        file.write_all_at(data, self.file_len)?;
        self.file_len += data.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        self.write_file(&buf)?;
        self.buf = buf;
        self.buf.clear();
        Ok(())
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.file_len + self.buf.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes written to the temp file so far.
    pub fn spilled_bytes(&self) -> u64 {
        self.file_len
    }

    /// Writes everything spooled, in order, to `w`.
    pub fn copy_to(self, w: &mut impl Write) -> io::Result<()> {
        if let Some(file) = &self.file {
            let mut chunk = vec![0u8; READ_CHUNK.min(self.file_len as usize)];
            let mut pos = 0u64;
            while pos < self.file_len {
                let n = chunk.len().min((self.file_len - pos) as usize);
                file.read_exact_at(&mut chunk[..n], pos)?;
                w.write_all(&chunk[..n])?;
                pos += n as u64;
            }
        }
        w.write_all(&self.buf)
    }
}

/// A spilled run being read back.
struct FileRun {
    /// Bytes read at a time.
    chunk: usize,
    /// Next file offset to read.
    pos: u64,
    end: u64,
    buf: Vec<u8>,
    /// Current record's start in `buf`.
    at: usize,
}

enum Source {
    File(FileRun),
    /// In-memory run and the index of its current record.
    Mem(MemRun, usize),
}

impl Source {
    fn current(&self) -> (&[u8], &[u8]) {
        match self {
            Source::File(r) => record(&r.buf, r.at),
            Source::Mem(m, i) => record(&m.buf, m.starts[*i]),
        }
    }
}

impl FileRun {
    /// Makes the record at `self.at` complete in `buf`; false at the end of the run.
    fn fill(&mut self, file: &File) -> io::Result<bool> {
        let need = |buf: &[u8], at: usize| -> Option<usize> {
            if buf.len() < at + HEADER {
                return Some(at + HEADER);
            }
            let (k, v) = header(buf, at);
            (buf.len() < at + HEADER + k + v).then_some(at + HEADER + k + v)
        };
        while let Some(want) = need(&self.buf, self.at) {
            if self.pos >= self.end {
                if self.buf.len() > self.at {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "spill file: truncated run",
                    ));
                }
                return Ok(false);
            }
            // Drop consumed bytes, then read at least what the record needs.
            self.buf.drain(..self.at);
            let want = want - self.at;
            self.at = 0;
            let have = self.buf.len();
            // `want > have` here; read a whole chunk when the record is smaller.
            let grow = (want.max(self.chunk) - have).min((self.end - self.pos) as usize);
            self.buf.resize(have + grow, 0);
            file.read_exact_at(&mut self.buf[have..], self.pos)?;
            self.pos += grow as u64;
        }
        Ok(true)
    }
}

/// Records coming back in key order. A lending iterator: the slices of one record live until
/// the next call.
pub struct Merge {
    file: Option<File>,
    sources: Vec<Source>,
    /// Binary min-heap of source indices, ordered by current key, then source index.
    heap: Vec<usize>,
    /// Source whose record was returned last (advanced on the next call).
    last: Option<usize>,
}

impl Merge {
    /// Merges `runs` of `file` and an in-memory run (whose records were pushed last).
    fn new(
        file: Option<File>,
        runs: Vec<(u64, u64)>,
        mem: Option<MemRun>,
        chunk: usize,
    ) -> io::Result<Merge> {
        let mut sources: Vec<Source> = runs
            .into_iter()
            .map(|(start, end)| {
                Source::File(FileRun {
                    chunk,
                    pos: start,
                    end,
                    buf: Vec::new(),
                    at: 0,
                })
            })
            .collect();
        sources.extend(mem.map(|m| Source::Mem(m, 0)));
        let mut m = Merge {
            file,
            sources,
            heap: Vec::new(),
            last: None,
        };
        for i in 0..m.sources.len() {
            if m.load(i)? {
                m.heap.push(i);
                m.sift_up(m.heap.len() - 1);
            }
        }
        Ok(m)
    }

    fn less(&self, a: usize, b: usize) -> bool {
        match self.sources[a].current().0.cmp(self.sources[b].current().0) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let p = (i - 1) / 2;
            if self.less(self.heap[i], self.heap[p]) {
                self.heap.swap(i, p);
                i = p;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.heap.len() && self.less(self.heap[l], self.heap[m]) {
                m = l;
            }
            if r < self.heap.len() && self.less(self.heap[r], self.heap[m]) {
                m = r;
            }
            if m == i {
                return;
            }
            self.heap.swap(i, m);
            i = m;
        }
    }

    /// Makes source `i`'s current record available; false when it is exhausted.
    fn load(&mut self, i: usize) -> io::Result<bool> {
        match &mut self.sources[i] {
            Source::File(r) => {
                let file = self.file.as_ref().expect("file runs have a file");
                r.fill(file)
            }
            Source::Mem(m, at) => Ok(*at < m.starts.len()),
        }
    }

    fn advance(&mut self, i: usize) -> io::Result<bool> {
        match &mut self.sources[i] {
            Source::File(r) => {
                let (k, v) = header(&r.buf, r.at);
                r.at += HEADER + k + v;
            }
            Source::Mem(_, at) => *at += 1,
        }
        self.load(i)
    }

    /// The next record (key, value), or `None` after the last.
    pub fn next_record(&mut self) -> io::Result<Option<(&[u8], &[u8])>> {
        if let Some(i) = self.last.take() {
            debug_assert_eq!(self.heap.first(), Some(&i));
            if self.advance(i)? {
                self.sift_down(0);
            } else {
                let last = self.heap.pop().expect("non-empty");
                if !self.heap.is_empty() {
                    self.heap[0] = last;
                    self.sift_down(0);
                }
            }
        }
        let Some(&top) = self.heap.first() else {
            return Ok(None);
        };
        self.last = Some(top);
        Ok(Some(self.sources[top].current()))
    }
}

/// Reads the fields a record value was built from with [`put`].
pub struct Fields<'a>(&'a [u8]);

/// Appends a length-prefixed field to a record value.
pub fn put(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u64).to_le_bytes());
    out.extend_from_slice(field);
}

impl<'a> Fields<'a> {
    pub fn new(value: &'a [u8]) -> Self {
        Fields(value)
    }

    /// The next field; a malformed record (never written by [`put`]) is an error.
    pub fn take(&mut self) -> io::Result<&'a [u8]> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "spill file: malformed record");
        let len = self.0.get(..8).ok_or_else(bad)?;
        let len = usize::try_from(u64::from_le_bytes(len.try_into().expect("8 bytes")))
            .map_err(|_| bad())?;
        let field = self.0.get(8..8usize.checked_add(len).ok_or_else(bad)?);
        let field = field.ok_or_else(bad)?;
        self.0 = &self.0[8 + len..];
        Ok(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(mut m: Merge) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        while let Some((k, v)) = m.next_record().unwrap() {
            out.push((k.to_vec(), v.to_vec()));
        }
        out
    }

    /// A deterministic pseudo-random sequence (splitmix64).
    fn rng(seed: &mut u64) -> u64 {
        *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn merges_spilled_runs_in_stable_key_order() {
        let dir = tempfile::tempdir().unwrap();
        // Budgets: a run per record, fan-in 2 (many passes), fan-in 5 (two passes), in memory.
        for budget in [1, 100, 5_000, 40_960, 1 << 30] {
            let mut s = Sorter::new(dir.path(), budget);
            let mut expect = Vec::new();
            let mut seed = 7;
            for i in 0..3_000u32 {
                // Few distinct keys (ties), of varying length; values up to > READ_CHUNK.
                let key = vec![b'a' + (rng(&mut seed) % 5) as u8; (rng(&mut seed) % 3) as usize];
                let len = if i % 997 == 0 {
                    READ_CHUNK * 2 + 3
                } else {
                    (rng(&mut seed) % 300) as usize
                };
                let mut value = i.to_le_bytes().to_vec();
                value.resize(len.max(4), (i % 251) as u8);
                s.push(&key, &value).unwrap();
                expect.push((key, value));
            }
            assert_eq!(s.len(), 3_000);
            let spilled = s.spilled_bytes();
            assert_eq!(spilled > 0, budget < 1 << 30, "budget {budget}");
            expect.sort_by(|a, b| a.0.cmp(&b.0)); // stable, like the sorter
            assert_eq!(drain(s.finish().unwrap()), expect, "budget {budget}");
        }
        // Anonymous: nothing named is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn empty_keys_make_a_spool_and_an_empty_sorter_yields_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(drain(Sorter::new(dir.path(), 10).finish().unwrap()).is_empty());
        let mut s = Sorter::new(dir.path(), 64);
        for i in 0..500u32 {
            s.push(b"", &i.to_be_bytes()).unwrap();
        }
        let got: Vec<u32> = drain(s.finish().unwrap())
            .into_iter()
            .map(|(_, v)| u32::from_be_bytes(v.try_into().unwrap()))
            .collect();
        assert_eq!(got, (0..500).collect::<Vec<_>>());
    }

    #[test]
    fn a_spool_gives_back_its_bytes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for budget in [1, 7, 1000, 1 << 20] {
            let mut s = Spool::new(dir.path(), budget);
            let mut expect = Vec::new();
            for i in 0..2_000u32 {
                let piece = vec![(i % 253) as u8; (i % 17) as usize];
                s.write(&piece).unwrap();
                expect.extend_from_slice(&piece);
            }
            assert_eq!(s.len(), expect.len() as u64);
            assert_eq!(s.spilled_bytes() > 0, budget < 1 << 20);
            let mut got = Vec::new();
            s.copy_to(&mut got).unwrap();
            assert_eq!(got, expect, "budget {budget}");
        }
    }

    #[test]
    fn fields_round_trip_and_reject_truncation() {
        let mut v = Vec::new();
        put(&mut v, b"one");
        put(&mut v, b"");
        put(&mut v, b"three");
        let mut f = Fields::new(&v);
        assert_eq!(f.take().unwrap(), b"one");
        assert_eq!(f.take().unwrap(), b"");
        assert_eq!(f.take().unwrap(), b"three");
        assert!(f.is_empty());
        assert!(Fields::new(&v[..v.len() - 1]).take().is_ok());
        let mut f = Fields::new(&v[..5]);
        assert!(f.take().is_err());
    }
}
