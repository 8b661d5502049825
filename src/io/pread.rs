//! A file read by many threads at once, each through its own clone at its own position
//! (`pread`), with a small read-ahead: one open handle serves every reader of a bundle, so
//! what is checked and what is used are the same bytes of the same file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

/// Reading the bundle file from many threads at once: each clone reads with `pread` at its
/// own position, so one parsed central directory (the zip crate keeps ~170 bytes an entry)
/// serves every hashing worker. Small reads go through a read-ahead: a short one where reads
/// jump about (a local header, then elsewhere), a long one where they follow each other (the
/// central directory, record after record).
pub struct PreadFile {
    file: Arc<File>,
    len: u64,
    pos: u64,
    /// Bytes of the file from `ahead_at`, `ahead_len` of them valid; allocated on first use.
    ahead: Box<[u8]>,
    ahead_at: u64,
    ahead_len: usize,
}

/// Reads shorter than this are served from (and refill) the read-ahead.
const READ_AHEAD: usize = 64 << 10;
/// How much a small read that does not follow the previous one reads ahead: a local header
/// and its name.
const READ_AHEAD_JUMP: usize = 512;

impl PreadFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::from_file(File::open(path)?)
    }

    /// Wraps an already open file (its length is taken now: a file that grows later is read
    /// only up to this length).
    pub fn from_file(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(PreadFile {
            file: Arc::new(file),
            len,
            pos: 0,
            ahead: Box::default(),
            ahead_at: 0,
            ahead_len: 0,
        })
    }
}

impl PreadFile {
    /// Length of the file when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads exactly `buf.len()` bytes at `offset`, bypassing the read-ahead; an
    /// `UnexpectedEof` error if the file ends first.
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.file.read_exact_at(buf, offset)
    }
}

impl Clone for PreadFile {
    fn clone(&self) -> Self {
        PreadFile {
            file: Arc::clone(&self.file),
            len: self.len,
            pos: self.pos,
            ahead: Box::default(),
            ahead_at: 0,
            ahead_len: 0,
        }
    }
}

impl Read for PreadFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let buffered = self
            .pos
            .checked_sub(self.ahead_at)
            .filter(|&off| off < self.ahead_len as u64);
        if let Some(off) = buffered {
            let off = off as usize;
            let n = buf.len().min(self.ahead_len - off);
            buf[..n].copy_from_slice(&self.ahead[off..off + n]);
            self.pos += n as u64;
            return Ok(n);
        }
        if buf.len() >= READ_AHEAD {
            let n = self.file.read_at(buf, self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        if self.ahead.is_empty() {
            self.ahead = vec![0; READ_AHEAD].into_boxed_slice();
        }
        let follows = self.ahead_len > 0 && self.pos == self.ahead_at + self.ahead_len as u64;
        let want = if follows {
            READ_AHEAD
        } else {
            READ_AHEAD_JUMP.max(buf.len())
        };
        self.ahead_len = self.file.read_at(&mut self.ahead[..want], self.pos)?;
        self.ahead_at = self.pos;
        let n = buf.len().min(self.ahead_len);
        buf[..n].copy_from_slice(&self.ahead[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for PreadFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        // What a seek on the file itself would say.
        self.pos = pos.ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        Ok(self.pos)
    }
}
