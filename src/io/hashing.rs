//! The one hash-while-reading primitive: a reader that SHA-256es and counts every byte passed
//! through it, so a copy (or a parse) and its hash take one read of the bytes.

use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// A reader that hashes the bytes passing through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reads what is left to the end (into `buf`, reused scratch), hashing it.
    pub fn drain(&mut self, buf: &mut [u8]) -> io::Result<()> {
        loop {
            match self.read(buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Digest and length of everything read so far.
    pub fn finish(self) -> (Sha256Digest, u64) {
        (Sha256Digest(self.hasher.finalize().into()), self.count)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Hashes everything read from `reader` in [`STREAM_CHUNK`] pieces; returns digest and length.
pub fn sha256_stream<R: Read>(reader: R) -> io::Result<(Sha256Digest, u64)> {
    let mut h = HashingReader::new(reader);
    h.drain(&mut vec![0u8; STREAM_CHUNK])?;
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    // FIPS 180-2 test vector.
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn hashing_reader_hashes_what_it_passes_on() {
        let mut r = HashingReader::new(&b"abc"[..]);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(r.count(), 3);
        assert_eq!(r.finish().0.to_hex(), ABC);
    }

    #[test]
    fn sha256_stream_matches_the_standard_vector() {
        let (d, n) = sha256_stream(&b"abc"[..]).unwrap();
        assert_eq!((d.to_hex().as_str(), n), (ABC, 3));
    }
}
