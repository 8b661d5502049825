//! A bounds-checked cursor over a signature payload (key-based or keyless) whose errors name
//! the field being read and its absolute byte offset in the file.

use serde::Serialize;
use std::ops::Range;

/// wsc's bound on one `varint length ‖ bytes` slice of a signature payload (16 MiB,
/// docs/wsc-formats.md §2).
pub const MAX_SLICE_LEN: u64 = 16 * 1024 * 1024;

/// Why a payload could not be decoded: where, in which field, and why.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("byte offset {offset}: {field}: {reason}")]
pub struct PayloadDecodeError {
    pub offset: u64,
    pub field: String,
    pub reason: String,
}

/// Bounded reader over a payload; offsets are file offsets (`base` + position).
pub(crate) struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
    pub base: u64,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8], base: u64) -> Self {
        Reader { buf, pos: 0, base }
    }

    pub fn at(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn err(&self, field: &str, reason: impl Into<String>) -> PayloadDecodeError {
        PayloadDecodeError {
            offset: self.at(),
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn byte(&mut self, field: &str) -> Result<u8, PayloadDecodeError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err(field, "ends before this field"))?;
        self.pos += 1;
        Ok(b)
    }

    /// One-byte varint (wsc's `get7`): high bit must be clear.
    pub fn u7(&mut self, field: &str) -> Result<u8, PayloadDecodeError> {
        let b = self.byte(field)?;
        if b & 0x80 != 0 {
            self.pos -= 1;
            return Err(self.err(field, format!("0x{b:02x} is not a one-byte varint")));
        }
        Ok(b)
    }

    pub fn varint(&mut self, field: &str) -> Result<u64, PayloadDecodeError> {
        let start = self.pos;
        let mut v = 0u64;
        for i in 0..5 {
            let b = self.byte(field).inspect_err(|_| self.pos = start)?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if v > u64::from(u32::MAX) {
                    self.pos = start;
                    return Err(self.err(field, "LEB128 value does not fit in 32 bits"));
                }
                return Ok(v);
            }
        }
        self.pos = start;
        Err(self.err(field, "LEB128 longer than 5 bytes"))
    }

    pub fn take(&mut self, n: u64, field: &str) -> Result<&'a [u8], PayloadDecodeError> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(self.err(field, format!("needs {n} bytes, only {left} left")));
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    /// `varint length ‖ bytes` within wsc's [`MAX_SLICE_LEN`] (§2). Returns the bytes and their
    /// offset.
    pub fn slice(&mut self, field: &str) -> Result<(&'a [u8], u64), PayloadDecodeError> {
        self.slice_capped(field, MAX_SLICE_LEN, "slice")
    }

    /// `varint length ‖ bytes`, capped at `max` bytes (`limit` names the cap in the error:
    /// wsc's "slice", the keyless "field"). Returns the bytes and their offset.
    pub fn slice_capped(
        &mut self,
        field: &str,
        max: u64,
        limit: &str,
    ) -> Result<(&'a [u8], u64), PayloadDecodeError> {
        let start = self.pos;
        let n = self.varint(field)?;
        if n > max {
            self.pos = start;
            return Err(self.err(
                field,
                format!("length {n} exceeds the {max}-byte {limit} limit"),
            ));
        }
        let at = self.at();
        let s = self.take(n, field).inspect_err(|_| self.pos = start)?;
        Ok((s, at))
    }

    pub fn trailing(&self) -> Option<Range<u64>> {
        (self.pos < self.buf.len()).then(|| self.at()..self.base + self.buf.len() as u64)
    }
}
