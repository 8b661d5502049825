//! Push-based streaming walk of a wasm module's sections: byte ranges, the `signature` section's
//! payload, and every hash a verdict needs, computed in the one pass that reads the bytes.
//!
//! Why sections are walked by hand instead of with wasmparser: `collect` feeds this scanner the
//! same chunks it is copying and hashing (one read per byte, memory independent of file size),
//! whereas wasmparser's incremental parser needs each non-code section whole in memory, and it
//! rejects modules that wsc accepts (unknown section ids, section order, component sections under
//! core-module rules). The forensic job here is to describe what wsc sees: a header, then
//! `id ‖ LEB128 size ‖ payload` records (docs/wsc-formats.md §1). wasmparser is used in the tests as
//! an oracle for the ranges.

use crate::model::digest::Sha256Digest;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::ops::Range;

/// Name of the custom section that holds key-based and keyless signatures (§2, §10.1).
pub const SIGNATURE_SECTION: &str = "signature";
/// Name of the custom section that marks partial-verification boundaries (§5).
pub const DELIMITER_SECTION: &str = "signature_delimiter";
/// Largest signature-section payload kept in memory: wsc's 16 MiB slice cap plus a margin for
/// the few bytes of framing around it.
pub const MAX_SIGNATURE_PAYLOAD: u64 = 16 * 1024 * 1024 + 64 * 1024;
/// Custom-section name bytes kept; longer names are reported truncated.
pub const MAX_NAME_BYTES: usize = 1024;
/// Sections listed (with their prefix hashes); later ones are still walked and hashed, only
/// counted, so a hostile module of millions of tiny sections cannot exhaust memory.
pub const MAX_RECORDED_SECTIONS: usize = 65_536;
/// A LEB128 u32 takes at most 5 bytes.
pub const MAX_LEB128_BYTES: usize = 5;

const CORE_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT_HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// What the 8-byte header says the file is.
#[derive(schemars::JsonSchema, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderKind {
    CoreModule,
    Component,
}

/// Why the walk stopped. `offset` in [`ScanError`] says where.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ScanErrorKind {
    #[error("not a WebAssembly module (header {found})")]
    NotWasm { found: String },
    #[error("file ends inside the 8-byte header ({len} bytes)")]
    TruncatedHeader { len: u64 },
    #[error("section id byte 0x{id:02x} has the high bit set (wsc rejects it)")]
    BadSectionId { id: u8 },
    #[error("LEB128 {field} is longer than 5 bytes")]
    VarintTooLong { field: &'static str },
    #[error("LEB128 {field} does not fit in 32 bits")]
    VarintOverflow { field: &'static str },
    #[error("file ends inside the {field} of section {index}")]
    TruncatedSectionHeader { index: usize, field: &'static str },
    #[error(
        "section {index} (id {id}) declares {declared} payload bytes ending at {end}, past the end of the file ({file_len} bytes)"
    )]
    SectionOverrunsFile {
        index: usize,
        id: u8,
        declared: u64,
        end: u64,
        file_len: u64,
    },
    #[error(
        "custom section {index}: name length {name_len} overruns its {payload_len}-byte payload"
    )]
    CustomNameOverrun {
        index: usize,
        name_len: u64,
        payload_len: u64,
    },
    #[error("signature section payload is {size} bytes, more than the {max}-byte limit")]
    SignatureSectionTooLarge { size: u64, max: u64 },
}

/// A decoding error and the byte offset (from the start of the file) where it was found.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("byte offset {offset}: {kind}")]
pub struct ScanError {
    pub offset: u64,
    pub kind: ScanErrorKind,
}

/// One section as found in the file.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct SectionInfo {
    /// Position among the sections, 0 = first after the header (as `wsc show` numbers them).
    pub index: usize,
    pub id: u8,
    /// Custom-section name (lossy UTF-8), for id 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name is not valid UTF-8 (wsc refuses such a module) or longer than [`MAX_NAME_BYTES`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub name_irregular: bool,
    /// Whole section: id byte, size, payload.
    pub range: Range<u64>,
    /// Payload (after the size; for custom sections this includes the name).
    pub payload: Range<u64>,
}

impl SectionInfo {
    pub fn is_custom(&self, name: &str) -> bool {
        self.id == 0 && !self.name_irregular && self.name.as_deref() == Some(name)
    }

    /// `custom section: [name]`, `code section`, … (wsc's names for core-module ids, §15).
    pub fn describe(&self, header: Option<HeaderKind>) -> String {
        if self.id == 0 {
            return format!("custom [{}]", self.name.as_deref().unwrap_or("?"));
        }
        let core = [
            "custom",
            "type",
            "import",
            "function",
            "table",
            "memory",
            "global",
            "export",
            "start",
            "element",
            "code",
            "data",
            "data count",
            "tag",
        ];
        let component = [
            "custom",
            "core module",
            "core instance",
            "core type",
            "component",
            "instance",
            "alias",
            "type",
            "canon",
            "start",
            "import",
            "export",
            "value",
        ];
        let table: &[&str] = match header {
            Some(HeaderKind::Component) => &component,
            _ => &core,
        };
        match table.get(self.id as usize) {
            Some(n) => format!("{n} section"),
            None => format!("section id#{}", self.id),
        }
    }
}

/// SHA-256 of the covered bytes from their start up to the end of one section. At a
/// `signature_delimiter` this is what a split-then-signed module's hash list holds (§5); at any
/// other section it tells "signed, then sections appended" apart from "signed bytes changed".
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PrefixHash {
    /// Index of the section this prefix ends with.
    pub section_index: usize,
    /// File offset just after that section.
    pub end: u64,
    pub sha256: Sha256Digest,
    /// The section is a `signature_delimiter`.
    pub at_delimiter: bool,
}

/// What bytes key-based hashes are computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Coverage {
    /// Embedded signature: bytes after the first section when it is `signature`, else all
    /// bytes after the header (§3).
    #[default]
    Embedded,
    /// Detached signature: every section, whatever the first one is (§6).
    Detached,
}

/// Scanner settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScanOptions {
    pub coverage: Coverage,
    /// Also hash the whole file (inspect wants it; collect hashes files itself).
    pub file_sha256: bool,
}

/// The result of a walk: everything found up to the end or up to the error.
#[derive(schemars::JsonSchema, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ModuleScan {
    pub header: Option<HeaderKind>,
    pub file_len: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<Sha256Digest>,
    pub sections: Vec<SectionInfo>,
    /// Number of sections walked; more than `sections.len()` when over [`MAX_RECORDED_SECTIONS`].
    pub section_count: usize,
    /// Payload (after the name) of the first section, when it is a custom `signature` section.
    #[serde(skip)]
    pub signature_payload: Option<Vec<u8>>,
    /// First file offset of the bytes key-based signatures cover (end of `signature`, or 8).
    pub covered_start: u64,
    /// SHA-256 of `covered_start..EOF`; `None` when the walk failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered_sha256: Option<Sha256Digest>,
    /// Running hash of the covered bytes at the end of every section after `covered_start`.
    #[serde(skip)]
    pub prefix_hashes: Vec<PrefixHash>,
    /// Keyless `module_hash` recomputed: SHA-256(header ‖ bytes after the first section), when
    /// the first section is a keyless (`02`) signature (§10.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless_module_hash: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScanError>,
    /// The payload of the custom section asked for with [`Scanner::keep_custom_section`].
    #[serde(skip)]
    pub kept_custom: Option<KeptCustom>,
}

/// The first custom section of a name a caller asked to keep ([`Scanner::keep_custom_section`]),
/// e.g. cargo-auditable's `.dep-v0`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeptCustom {
    /// Its payload after the name (complete only when the walk ended without error).
    Payload(Vec<u8>),
    /// Its payload declares more bytes than the caller's limit: not kept.
    TooLarge { size: u64, max: u64 },
}

impl ModuleScan {
    /// The first section, when it is a custom `signature` section.
    pub fn signature_section(&self) -> Option<&SectionInfo> {
        self.sections
            .first()
            .filter(|s| s.is_custom(SIGNATURE_SECTION))
    }

    /// Prefix hashes at `signature_delimiter` sections.
    pub fn delimiter_hashes(&self) -> impl Iterator<Item = &PrefixHash> {
        self.prefix_hashes.iter().filter(|p| p.at_delimiter)
    }

    /// Sections wholly inside `[from, to)`.
    pub fn sections_in(&self, from: u64, to: u64) -> impl Iterator<Item = &SectionInfo> {
        self.sections
            .iter()
            .filter(move |s| s.range.start >= from && s.range.end <= to)
    }
}

#[derive(Debug)]
enum State {
    Header,
    SectionId,
    SectionSize,
    /// Custom-section name length, then name bytes.
    CustomNameLen,
    CustomName,
    /// Payload bytes after the name (or the whole payload for non-custom sections).
    Payload,
    Failed,
}

/// Whether the covered hasher is taking bytes.
#[derive(Debug, PartialEq, Eq)]
enum CoverMode {
    /// Inside the first section, before its name says whether it is `signature`.
    Pending,
    Covering,
    /// Inside the embedded `signature` section.
    Paused,
}

/// Push-based section walker: [`Scanner::feed`] chunks of any size, then [`Scanner::finish`].
pub struct Scanner {
    state: State,
    pos: u64,
    header: Vec<u8>,
    header_kind: Option<HeaderKind>,
    sections: Vec<SectionInfo>,
    section_count: usize,
    // Current section.
    sec_start: u64,
    sec_id: u8,
    varint: u64,
    varint_len: usize,
    payload_start: u64,
    payload_len: u64,
    name_len: u64,
    name: Vec<u8>,
    name_seen: u64,
    keep_payload: bool,
    // Results.
    signature_payload: Option<Vec<u8>>,
    file_hasher: Option<Sha256>,
    cover_mode: CoverMode,
    covered_start: u64,
    covered: Sha256,
    /// False once [`Scanner::skip_covered_hash`] was called.
    hash_covered: bool,
    prefix_hashes: Vec<PrefixHash>,
    module_hasher: Option<Sha256>,
    error: Option<ScanError>,
    /// Custom section to keep (name, largest payload), what was kept, and whether the walk is
    /// inside it now.
    keep_custom: Option<(&'static str, u64)>,
    kept_custom: Option<KeptCustom>,
    keeping_custom: bool,
}

impl Scanner {
    pub fn new(opts: ScanOptions) -> Self {
        Scanner {
            state: State::Header,
            pos: 0,
            header: Vec::with_capacity(8),
            header_kind: None,
            sections: Vec::new(),
            section_count: 0,
            sec_start: 0,
            sec_id: 0,
            varint: 0,
            varint_len: 0,
            payload_start: 0,
            payload_len: 0,
            name_len: 0,
            name: Vec::new(),
            name_seen: 0,
            keep_payload: false,
            signature_payload: None,
            file_hasher: opts.file_sha256.then(Sha256::new),
            cover_mode: if opts.coverage == Coverage::Detached {
                CoverMode::Covering
            } else {
                CoverMode::Pending
            },
            covered_start: 8,
            covered: Sha256::new(),
            hash_covered: true,
            prefix_hashes: Vec::new(),
            module_hasher: None,
            error: None,
            keep_custom: None,
            kept_custom: None,
            keeping_custom: false,
        }
    }

    /// Keeps the payload of the first custom section named `name` (at most `max` bytes; a
    /// larger one is recorded as [`KeptCustom::TooLarge`]) in [`ModuleScan::kept_custom`]. Its
    /// bytes are then never [`Scanner::skippable`].
    pub fn keep_custom_section(&mut self, name: &'static str, max: u64) {
        self.keep_custom = Some((name, max));
    }

    /// Scans a whole in-memory module.
    pub fn scan_bytes(bytes: &[u8], opts: ScanOptions) -> ModuleScan {
        let mut s = Scanner::new(opts);
        let _ = s.feed(bytes);
        s.finish()
    }

    /// Scans from a reader in [`crate::model::digest::STREAM_CHUNK`] pieces. I/O errors are returned;
    /// format errors are in [`ModuleScan::error`].
    pub fn scan_reader<R: std::io::Read>(
        mut r: R,
        opts: ScanOptions,
    ) -> std::io::Result<ModuleScan> {
        let mut s = Scanner::new(opts);
        let mut buf = vec![0u8; crate::model::digest::STREAM_CHUNK];
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            // After a format error keep reading: the file hash and length stay right.
            let _ = s.feed(&buf[..n]);
        }
        Ok(s.finish())
    }

    /// Takes the next bytes of the file. After the first format error the walk stops (the
    /// error is returned again for every later call), but the file hash keeps being computed.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), ScanError> {
        if let Some(h) = self.file_hasher.as_mut() {
            h.update(chunk);
        }
        while !chunk.is_empty() {
            if let State::Failed = self.state {
                self.pos += chunk.len() as u64;
                return Err(self.error.clone().expect("failed state has an error"));
            }
            let n = match self.state {
                State::Payload => {
                    let left = self.payload_start + self.payload_len - self.pos;
                    (left.min(chunk.len() as u64)) as usize
                }
                State::CustomName => {
                    let left = self.name_len - self.name_seen;
                    (left.min(chunk.len() as u64)) as usize
                }
                _ => 1,
            };
            let (span, rest) = chunk.split_at(n);
            self.hash_span(span);
            self.step(span);
            chunk = rest;
        }
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The first section once it has been walked: `Some(Some(payload))` when it is the embedded
    /// `signature` section, `Some(None)` when it is another section, `None` before (or when the
    /// walk failed). Lets a caller decide, from the signature, whether it needs the coverage hash.
    pub fn first_section(&self) -> Option<Option<&[u8]>> {
        if self.error.is_some() || self.section_count == 0 || self.keep_payload {
            return None;
        }
        Some(self.signature_payload.as_deref())
    }

    /// Stops hashing the covered bytes: for a caller that knows no verdict it reports depends
    /// on them (no signature it asks about). `covered_sha256` and `prefix_hashes` then come back
    /// empty, as after a failed walk, so no verdict can rest on a partial hash.
    pub fn skip_covered_hash(&mut self) {
        self.hash_covered = false;
    }

    /// Bytes of the current section's payload that nothing is computed from (no hash takes
    /// them, they are not the kept `signature` payload): a caller reading from a file may jump
    /// over them with [`Scanner::skip`] instead of feeding them. 0 when the next bytes are
    /// needed.
    pub fn skippable(&self) -> u64 {
        let hashing = self.file_hasher.is_some()
            || self.module_hasher.is_some()
            || (self.hash_covered && self.pos >= 8 && self.cover_mode != CoverMode::Paused);
        match self.state {
            State::Payload if !hashing && !self.keep_payload && !self.keeping_custom => {
                self.payload_start + self.payload_len - self.pos
            }
            _ => 0,
        }
    }

    /// Walks over `n` bytes (at most [`Scanner::skippable`]) as if they had been fed. The caller
    /// must know they exist (a file at least that long): the walk takes them as read.
    pub fn skip(&mut self, n: u64) {
        let n = n.min(self.skippable());
        if n > 0 {
            self.pos += n;
            if self.pos == self.payload_start + self.payload_len {
                self.section_done();
            }
        }
    }

    fn hash_span(&mut self, span: &[u8]) {
        if self.hash_covered && self.pos >= 8 && self.cover_mode != CoverMode::Paused {
            self.covered.update(span);
        }
        if let Some(m) = self.module_hasher.as_mut() {
            m.update(span);
        }
    }

    fn fail(&mut self, offset: u64, kind: ScanErrorKind) {
        self.error = Some(ScanError { offset, kind });
        self.state = State::Failed;
    }

    /// Advances the state machine over `span` (one byte, or a run of payload/name bytes).
    fn step(&mut self, span: &[u8]) {
        let at = self.pos;
        self.pos += span.len() as u64;
        match self.state {
            State::Header => {
                self.header.push(span[0]);
                if self.header.len() == 8 {
                    if self.header == CORE_HEADER {
                        self.header_kind = Some(HeaderKind::CoreModule);
                    } else if self.header == COMPONENT_HEADER {
                        self.header_kind = Some(HeaderKind::Component);
                    } else {
                        let found = hex::encode(&self.header);
                        self.fail(0, ScanErrorKind::NotWasm { found });
                        return;
                    }
                    self.state = State::SectionId;
                } else if self.header.len() <= 4
                    && self.header[..] != CORE_HEADER[..self.header.len()]
                {
                    let found = hex::encode(&self.header);
                    self.fail(0, ScanErrorKind::NotWasm { found });
                }
            }
            State::SectionId => {
                let id = span[0];
                if id & 0x80 != 0 {
                    self.fail(at, ScanErrorKind::BadSectionId { id });
                    return;
                }
                self.sec_start = at;
                self.sec_id = id;
                self.varint = 0;
                self.varint_len = 0;
                if self.cover_mode == CoverMode::Pending && id != 0 {
                    self.cover_mode = CoverMode::Covering;
                }
                self.state = State::SectionSize;
            }
            State::SectionSize => {
                if let Some(v) = self.leb_byte(span[0], at, "section size") {
                    self.payload_start = self.pos;
                    self.payload_len = v;
                    if self.sec_id == 0 {
                        self.name_len = 0;
                        self.name.clear();
                        self.name_seen = 0;
                        self.varint = 0;
                        self.varint_len = 0;
                        self.state = if v == 0 {
                            // A custom section needs at least the name length byte.
                            self.fail(
                                at,
                                ScanErrorKind::CustomNameOverrun {
                                    index: self.section_count,
                                    name_len: 0,
                                    payload_len: 0,
                                },
                            );
                            return;
                        } else {
                            State::CustomNameLen
                        };
                    } else {
                        self.enter_payload();
                    }
                }
            }
            State::CustomNameLen => {
                if let Some(v) = self.leb_byte(span[0], at, "custom section name length") {
                    let used = self.pos - self.payload_start;
                    if v > self.payload_len - used.min(self.payload_len) {
                        let index = self.section_count;
                        let payload_len = self.payload_len;
                        self.fail(
                            at,
                            ScanErrorKind::CustomNameOverrun {
                                index,
                                name_len: v,
                                payload_len,
                            },
                        );
                        return;
                    }
                    self.name_len = v;
                    if v == 0 {
                        self.name_done();
                    } else {
                        self.state = State::CustomName;
                    }
                }
                if matches!(self.state, State::CustomNameLen)
                    && self.pos == self.payload_start + self.payload_len
                {
                    // Payload ended inside the name length.
                    let index = self.section_count;
                    let payload_len = self.payload_len;
                    self.fail(
                        at,
                        ScanErrorKind::CustomNameOverrun {
                            index,
                            name_len: self.varint,
                            payload_len,
                        },
                    );
                }
            }
            State::CustomName => {
                let room = MAX_NAME_BYTES.saturating_sub(self.name.len());
                self.name.extend_from_slice(&span[..span.len().min(room)]);
                self.name_seen += span.len() as u64;
                if self.name_seen == self.name_len {
                    self.name_done();
                }
            }
            State::Payload => {
                if self.keep_payload {
                    if let Some(p) = self.signature_payload.as_mut() {
                        p.extend_from_slice(span);
                    }
                }
                if self.keeping_custom {
                    if let Some(KeptCustom::Payload(p)) = self.kept_custom.as_mut() {
                        p.extend_from_slice(span);
                    }
                }
                if self.pos == self.payload_start + self.payload_len {
                    self.section_done();
                }
            }
            State::Failed => {}
        }
    }

    /// Feeds one LEB128 byte; returns the value when complete.
    fn leb_byte(&mut self, b: u8, at: u64, field: &'static str) -> Option<u64> {
        if self.varint_len == MAX_LEB128_BYTES {
            self.fail(at, ScanErrorKind::VarintTooLong { field });
            return None;
        }
        self.varint |= u64::from(b & 0x7f) << (7 * self.varint_len);
        self.varint_len += 1;
        if b & 0x80 != 0 {
            if self.varint_len == MAX_LEB128_BYTES {
                self.fail(at, ScanErrorKind::VarintTooLong { field });
            }
            return None;
        }
        if self.varint > u64::from(u32::MAX) {
            self.fail(at, ScanErrorKind::VarintOverflow { field });
            return None;
        }
        let v = self.varint;
        self.varint = 0;
        self.varint_len = 0;
        Some(v)
    }

    fn name_done(&mut self) {
        let is_first = self.section_count == 0;
        let is_signature = self.name_len as usize == SIGNATURE_SECTION.len()
            && self.name == SIGNATURE_SECTION.as_bytes();
        if is_first && is_signature {
            let data_len = self.payload_start + self.payload_len - self.pos;
            if data_len > MAX_SIGNATURE_PAYLOAD {
                let start = self.sec_start;
                self.fail(
                    start,
                    ScanErrorKind::SignatureSectionTooLarge {
                        size: data_len,
                        max: MAX_SIGNATURE_PAYLOAD,
                    },
                );
                return;
            }
            // Grows with the bytes that actually arrive: the declared size is only a claim,
            // and a 30-byte file may declare 16 MiB.
            self.signature_payload = Some(Vec::with_capacity(data_len.min(64 * 1024) as usize));
            self.keep_payload = true;
            if self.cover_mode == CoverMode::Pending {
                self.cover_mode = CoverMode::Paused;
                self.covered = Sha256::new();
            }
        } else if self.cover_mode == CoverMode::Pending {
            self.cover_mode = CoverMode::Covering;
        }
        if let Some((name, max)) = self.keep_custom {
            if self.kept_custom.is_none() && self.name == name.as_bytes() {
                let size = self.payload_start + self.payload_len - self.pos;
                self.kept_custom = Some(if size > max {
                    KeptCustom::TooLarge { size, max }
                } else {
                    self.keeping_custom = true;
                    // Grows with the bytes that arrive; the declared size is only a claim.
                    KeptCustom::Payload(Vec::with_capacity(size.min(64 * 1024) as usize))
                });
            }
        }
        self.enter_payload();
    }

    fn enter_payload(&mut self) {
        if self.pos == self.payload_start + self.payload_len {
            self.section_done();
        } else {
            self.state = State::Payload;
        }
    }

    fn section_done(&mut self) {
        self.keeping_custom = false;
        let index = self.section_count;
        let (name, name_irregular) = if self.sec_id == 0 {
            let valid = std::str::from_utf8(&self.name).is_ok();
            let truncated = self.name_len as usize > self.name.len();
            (
                Some(String::from_utf8_lossy(&self.name).into_owned()),
                !valid || truncated,
            )
        } else {
            (None, false)
        };
        let info = SectionInfo {
            index,
            id: self.sec_id,
            name,
            name_irregular,
            range: self.sec_start..self.pos,
            payload: self.payload_start..self.pos,
        };
        if self.keep_payload {
            self.keep_payload = false;
            // End of the embedded signature section: coverage starts here.
            if self.cover_mode == CoverMode::Paused {
                self.cover_mode = CoverMode::Covering;
                self.covered_start = self.pos;
            }
            if self
                .signature_payload
                .as_ref()
                .is_some_and(|p| p.first() == Some(&0x02))
            {
                let mut m = Sha256::new();
                m.update(&self.header);
                self.module_hasher = Some(m);
            }
        }
        self.section_count += 1;
        if self.section_count > MAX_RECORDED_SECTIONS {
            // Still hashed and walked; no longer listed (memory stays bounded).
            self.state = State::SectionId;
            return;
        }
        if self.hash_covered && info.range.start >= self.covered_start {
            self.prefix_hashes.push(PrefixHash {
                section_index: index,
                end: self.pos,
                sha256: Sha256Digest(self.covered.clone().finalize().into()),
                at_delimiter: info.is_custom(DELIMITER_SECTION),
            });
        }
        self.sections.push(info);
        self.state = State::SectionId;
    }

    /// Ends the walk: checks the file did not end inside the header or a section.
    pub fn finish(mut self) -> ModuleScan {
        if self.error.is_none() {
            let at = self.pos;
            let index = self.section_count;
            match self.state {
                State::Header => self.fail(at, ScanErrorKind::TruncatedHeader { len: at }),
                State::SectionSize => self.fail(
                    at,
                    ScanErrorKind::TruncatedSectionHeader {
                        index,
                        field: "size",
                    },
                ),
                State::CustomNameLen | State::CustomName | State::Payload => {
                    let start = self.sec_start;
                    let (id, declared, end) = (
                        self.sec_id,
                        self.payload_len,
                        self.payload_start + self.payload_len,
                    );
                    self.fail(
                        start,
                        ScanErrorKind::SectionOverrunsFile {
                            index,
                            id,
                            declared,
                            end,
                            file_len: at,
                        },
                    )
                }
                State::SectionId | State::Failed => {}
            }
        }
        let ok = self.error.is_none();
        let covered = ok && self.hash_covered;
        ModuleScan {
            header: self.header_kind,
            file_len: self.pos,
            file_sha256: self.file_hasher.map(|h| Sha256Digest(h.finalize().into())),
            sections: self.sections,
            section_count: self.section_count,
            signature_payload: self.signature_payload,
            covered_start: self.covered_start,
            covered_sha256: covered.then(|| Sha256Digest(self.covered.finalize().into())),
            prefix_hashes: if covered {
                self.prefix_hashes
            } else {
                Vec::new()
            },
            keyless_module_hash: self
                .module_hasher
                .filter(|_| ok)
                .map(|h| Sha256Digest(h.finalize().into())),
            error: self.error,
            kept_custom: self.kept_custom,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(rel: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc/modules")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn signed_a_sections_and_hash_match_the_worked_example() {
        let b = module("signed-a.wasm");
        let s = Scanner::scan_bytes(&b, ScanOptions::default());
        assert_eq!(s.error, None);
        assert_eq!(s.header, Some(HeaderKind::CoreModule));
        let sig = s.signature_section().unwrap();
        assert_eq!(sig.range, 8..141);
        assert_eq!(s.covered_start, 141);
        assert_eq!(
            s.covered_sha256.unwrap(),
            Sha256Digest::of(&b[141..]),
            "covered = bytes after the signature section"
        );
        assert_eq!(s.signature_payload.as_ref().unwrap().len(), 120);
        assert_eq!(&s.signature_payload.as_ref().unwrap()[..3], &[1, 1, 1]);
        // Covered hash equals the unsigned module's body hash (§3).
        assert_eq!(
            s.covered_sha256.unwrap(),
            Sha256Digest::of(&module("base.wasm")[8..])
        );
    }

    #[test]
    fn one_byte_chunks_give_the_same_result_as_one_buffer() {
        for f in [
            "signed-a.wasm",
            "split-regex-signed-a.wasm",
            "keyless-no-rekor.wasm",
            "signed-component-a.wasm",
            "base.wasm",
        ] {
            let b = module(f);
            let opts = ScanOptions {
                file_sha256: true,
                ..Default::default()
            };
            let whole = Scanner::scan_bytes(&b, opts);
            let mut s = Scanner::new(opts);
            for byte in &b {
                s.feed(std::slice::from_ref(byte)).unwrap();
            }
            let bytewise = s.finish();
            assert_eq!(whole, bytewise, "{f}");
            assert_eq!(whole.signature_payload, bytewise.signature_payload);
            assert_eq!(whole.file_sha256.unwrap(), Sha256Digest::of(&b));
        }
    }

    #[test]
    fn delimiter_prefix_hashes_are_running_hashes() {
        let b = module("split-regex-signed-a.wasm");
        let s = Scanner::scan_bytes(&b, ScanOptions::default());
        let delims: Vec<_> = s.prefix_hashes.iter().filter(|p| p.at_delimiter).collect();
        assert_eq!(delims.len(), 2);
        assert_eq!(s.prefix_hashes.len(), s.sections.len() - 1);
        for p in &s.prefix_hashes {
            assert_eq!(
                p.sha256,
                Sha256Digest::of(&b[s.covered_start as usize..p.end as usize])
            );
        }
    }

    #[test]
    fn keyless_module_hash_is_header_plus_rest() {
        let b = module("keyless-no-rekor.wasm");
        let s = Scanner::scan_bytes(&b, ScanOptions::default());
        assert_eq!(
            s.keyless_module_hash.unwrap(),
            Sha256Digest::of(&module("base.wasm"))
        );
    }

    #[test]
    fn first_section_then_no_coverage_hash_on_request() {
        let b = module("signed-a.wasm");
        let mut s = Scanner::new(ScanOptions::default());
        let _ = s.feed(&b[..20]);
        assert_eq!(s.first_section(), None, "not walked yet");
        let whole = Scanner::scan_bytes(&b, ScanOptions::default());
        let end = whole.sections[0].range.end as usize;
        let _ = s.feed(&b[20..end]);
        assert_eq!(
            s.first_section(),
            Some(whole.signature_payload.as_deref()),
            "the signature payload, once the section is walked"
        );
        s.skip_covered_hash();
        let _ = s.feed(&b[end..]);
        let skipped = s.finish();
        // Everything but the coverage hash is as in a full walk.
        assert!(skipped.covered_sha256.is_none() && skipped.prefix_hashes.is_empty());
        assert_eq!(skipped.sections, whole.sections);
        assert_eq!(skipped.file_len, whole.file_len);
        assert!(whole.covered_sha256.is_some() && !whole.prefix_hashes.is_empty());
        // An unsigned module: the first section is another one.
        let base = module("base.wasm");
        let mut s = Scanner::new(ScanOptions::default());
        let _ = s.feed(&base);
        assert_eq!(s.first_section(), Some(None));
    }

    #[test]
    fn skipped_payloads_walk_like_fed_ones() {
        for name in [
            "base.wasm",
            "signed-a.wasm",
            "split-signed-a.wasm",
            "component.wasm",
        ] {
            let b = module(name);
            let whole = Scanner::scan_bytes(&b, ScanOptions::default());
            // While hashing, nothing may be skipped.
            let mut s = Scanner::new(ScanOptions::default());
            let mut at = 0;
            while at < b.len() {
                assert_eq!(s.skippable(), 0, "{name}: hashing");
                let _ = s.feed(&b[at..at + 1]);
                at += 1;
            }
            // Without the coverage hash, every payload byte outside the signature section is
            // jumped over, and the walk ends the same.
            let mut s = Scanner::new(ScanOptions::default());
            s.skip_covered_hash();
            let (mut at, mut jumped) = (0u64, 0u64);
            while at < b.len() as u64 {
                let n = s.skippable();
                if n > 0 {
                    s.skip(n);
                    at += n;
                    jumped += n;
                } else {
                    let _ = s.feed(&b[at as usize..at as usize + 1]);
                    at += 1;
                }
            }
            let sig = whole
                .signature_section()
                .map_or(0, |s| s.range.end - s.range.start);
            assert!(
                jumped > 0 && jumped + sig < b.len() as u64,
                "{name}: {jumped}"
            );
            let skipped = s.finish();
            assert_eq!(skipped.sections, whole.sections, "{name}");
            assert_eq!(skipped.file_len, whole.file_len, "{name}");
            assert_eq!(skipped.signature_payload, whole.signature_payload, "{name}");
            assert_eq!(skipped.error, whole.error, "{name}");
        }
        // A section claiming more than the file: only what exists may be skipped, and the
        // walk then reports the overrun as a fed one does.
        let mut b = module("base.wasm");
        b.truncate(b.len() - 3);
        let whole = Scanner::scan_bytes(&b, ScanOptions::default());
        let mut s = Scanner::new(ScanOptions::default());
        s.skip_covered_hash();
        let mut at = 0u64;
        while at < b.len() as u64 {
            let n = s.skippable().min(b.len() as u64 - at);
            if n > 0 {
                s.skip(n);
                at += n;
            } else {
                let _ = s.feed(&b[at as usize..at as usize + 1]);
                at += 1;
            }
        }
        assert_eq!(s.finish().error, whole.error);
        assert!(whole.error.is_some());
    }

    #[test]
    fn detached_coverage_hashes_every_section() {
        let b = module("signed-a.wasm");
        let s = Scanner::scan_bytes(
            &b,
            ScanOptions {
                coverage: Coverage::Detached,
                file_sha256: false,
            },
        );
        assert_eq!(s.covered_start, 8);
        assert_eq!(s.covered_sha256.unwrap(), Sha256Digest::of(&b[8..]));
        let u = Scanner::scan_bytes(&module("base.wasm"), ScanOptions::default());
        assert_eq!(u.covered_start, 8);
        assert!(u.signature_section().is_none());
    }

    #[test]
    fn hostile_inputs_give_errors_with_offsets() {
        let base = module("base.wasm");
        // Truncated inside a section: earlier sections stay reported.
        let s = Scanner::scan_bytes(&base[..40], ScanOptions::default());
        let e = s.error.clone().unwrap();
        assert!(
            matches!(e.kind, ScanErrorKind::SectionOverrunsFile { .. }),
            "{e}"
        );
        assert!(!s.sections.is_empty());
        assert!(s.covered_sha256.is_none());
        // Truncated header.
        let s = Scanner::scan_bytes(&base[..5], ScanOptions::default());
        assert_eq!(
            s.error.unwrap().kind,
            ScanErrorKind::TruncatedHeader { len: 5 }
        );
        // Not wasm.
        let s = Scanner::scan_bytes(b"hello world, not wasm", ScanOptions::default());
        assert!(matches!(
            s.error.unwrap().kind,
            ScanErrorKind::NotWasm { .. }
        ));
        // A size varint claiming 4 GiB: no allocation, overrun reported.
        let mut m = base[..8].to_vec();
        m.extend_from_slice(&[0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, b'x']);
        let s = Scanner::scan_bytes(&m, ScanOptions::default());
        let e = s.error.unwrap();
        assert_eq!(e.offset, 8);
        assert!(matches!(
            e.kind,
            ScanErrorKind::SectionOverrunsFile {
                declared: 0xffff_ffff,
                ..
            }
        ));
        // Six-byte LEB128.
        let mut m = base[..8].to_vec();
        m.extend_from_slice(&[0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
        let e = Scanner::scan_bytes(&m, ScanOptions::default())
            .error
            .unwrap();
        assert!(matches!(e.kind, ScanErrorKind::VarintTooLong { .. }), "{e}");
        assert_eq!(e.offset, 13);
        // Five bytes but > u32.
        let mut m = base[..8].to_vec();
        m.extend_from_slice(&[0x01, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        let e = Scanner::scan_bytes(&m, ScanOptions::default())
            .error
            .unwrap();
        assert!(
            matches!(e.kind, ScanErrorKind::VarintOverflow { .. }),
            "{e}"
        );
        // Custom-section name longer than the section.
        let mut m = base[..8].to_vec();
        m.extend_from_slice(&[0x00, 0x02, 0x05, b'a']);
        let e = Scanner::scan_bytes(&m, ScanOptions::default())
            .error
            .unwrap();
        assert!(
            matches!(e.kind, ScanErrorKind::CustomNameOverrun { .. }),
            "{e}"
        );
        // A signature section too large to keep.
        let mut m = base[..8].to_vec();
        m.extend_from_slice(&[0x00, 0x8a, 0x80, 0x80, 0x09, 0x09]);
        m.extend_from_slice(b"signature");
        let e = Scanner::scan_bytes(&m, ScanOptions::default())
            .error
            .unwrap();
        assert!(
            matches!(e.kind, ScanErrorKind::SignatureSectionTooLarge { .. }),
            "{e}"
        );
    }

    #[test]
    fn millions_of_sections_are_counted_not_listed() {
        let base = module("base.wasm");
        let n = MAX_RECORDED_SECTIONS + 1000;
        let mut m = base[..8].to_vec();
        for _ in 0..n {
            m.extend_from_slice(&[0x0c, 0x01, 0x00]); // data count section, 3 bytes
        }
        let s = Scanner::scan_bytes(&m, ScanOptions::default());
        assert_eq!(s.error, None);
        assert_eq!(s.section_count, n);
        assert_eq!(s.sections.len(), MAX_RECORDED_SECTIONS);
        assert_eq!(s.prefix_hashes.len(), MAX_RECORDED_SECTIONS);
        assert_eq!(s.covered_sha256.unwrap(), Sha256Digest::of(&m[8..]));
    }

    #[test]
    fn empty_module_has_no_sections_and_hashes_nothing() {
        let s = Scanner::scan_bytes(&CORE_HEADER, ScanOptions::default());
        assert_eq!(s.error, None);
        assert!(s.sections.is_empty());
        assert_eq!(s.covered_sha256.unwrap(), Sha256Digest::of(b""));
    }
}
