//! The zip layout of a bundle, checked byte for byte before any entry is trusted: every byte of
//! the file belongs to exactly one local entry, the central directory or the end records, and
//! every copy of a field (local header, central record, Zip64 fields, end records) agrees.
//!
//! Why: zip readers disagree on where a zip starts (offset 0 or the end record), which record
//! count to believe, whether to read local headers or the central directory, and which name to
//! use (raw bytes or an extra field). A file on which any two readers could disagree is not one
//! bag but several, so the digest and signature that cover what *we* read would prove nothing
//! about what another tool shows. Our writer is deterministic, so for our bundles
//! ([`Strictness::Canonical`]) the exact layout it writes is demanded; for a zip written by
//! another tool ([`Strictness::Foreign`]) only the rules that keep readers in agreement apply.

use super::Problem;
use crate::bundle::reader::MAX_ENTRIES;
use crate::io::pread::PreadFile;
use std::collections::HashSet;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// How closely the layout must follow our writer's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// Written by wsc-forensics: exactly our writer's layout, fields and extra fields.
    Canonical,
    /// Written by another tool: no unaccounted bytes, counts and copies agree, names raw-safe,
    /// no extra field that renames an entry.
    Foreign,
}

/// One central-directory record as the file's bytes say (names are raw bytes, never decoded
/// or replaced by an extra field).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: Vec<u8>,
    pub header_offset: u64,
    pub compressed: u64,
    pub size: u64,
    /// Central bytes 6..20: version needed, flags, method, time, date, CRC-32 (the fields the
    /// local header repeats, at 4..18).
    shared: [u8; 14],
}

/// What the structural pass found: the records in directory order (as far as they could be
/// read), where the directory starts, and every problem, each naming its offset.
#[derive(Debug, Default)]
pub struct Structure {
    pub records: Vec<Record>,
    pub directory_start: u64,
    pub problems: Vec<Problem>,
}

const SENTINEL16: u64 = u16::MAX as u64;
const SENTINEL32: u64 = u32::MAX as u64;
const EOCD_LEN: u64 = 22;
const LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_LEN: u64 = 56;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: usize = 30;
const ZIP64_EXTRA: u16 = 0x0001;
/// Info-ZIP Unicode Path: a second name that some readers use instead of the raw one.
const UNICODE_PATH_EXTRA: u16 = 0x7075;
/// Flag bits: 0 encrypted, 3 sizes in a data descriptor, 6 strong encryption, 11 UTF-8 name,
/// 13 encrypted directory.
const FLAG_ENCRYPTED: u16 = 1 | 1 << 6 | 1 << 13;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;
/// The external attributes our writer gives every entry: a regular file, mode 0644.
const CANONICAL_MODE: u32 = 0o100644 << 16;

fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn le32(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn le64(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]))
}

/// A short, printable account of what was found at an offset (the first bytes, in hex).
fn found(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("found {}", shown.join(" "))
}

fn problem(offset: u64, detail: impl Into<String>) -> Problem {
    Problem::ZipStructure {
        offset,
        detail: detail.into(),
    }
}

/// The end of the central directory as the end records declare it.
struct End {
    /// Where the records after the directory start (Zip64 end record, else classic end record).
    directory_end: u64,
    count: u64,
    size: u64,
    start: u64,
}

/// Checks the whole layout of `file`. Never fails: what could not be read is a problem.
pub fn check(file: &PreadFile, strictness: Strictness) -> Structure {
    let mut out = Structure::default();
    let Some(end) = end_records(file, strictness, &mut out.problems) else {
        return out;
    };
    out.directory_start = end.start;
    if end.start.checked_add(end.size) != Some(end.directory_end) {
        out.problems.push(problem(
            end.start.saturating_add(end.size),
            format!(
                "the central directory ({} bytes from {}) does not end where the end records start ({})",
                end.size, end.start, end.directory_end
            ),
        ));
        return out;
    }
    out.records = match central_records(file, &end, strictness, &mut out.problems) {
        Ok(r) => r,
        Err(e) => {
            out.problems.push(problem(
                end.start,
                format!("central directory unreadable: {e}"),
            ));
            return out;
        }
    };
    local_entries(file, &out.records, end.start, strictness, &mut out.problems);
    out
}

/// Finds and checks the end record (and the Zip64 end record and locator when present).
fn end_records(
    file: &PreadFile,
    strictness: Strictness,
    problems: &mut Vec<Problem>,
) -> Option<End> {
    let len = file.len();
    let at = match locate_end(file, strictness) {
        Ok(Some(at)) => at,
        Ok(None) => {
            let what = match strictness {
                Strictness::Canonical => {
                    "no end-of-central-directory record (without comment) in the last 22 bytes"
                }
                Strictness::Foreign => {
                    "no end-of-central-directory record reaching the end of the file"
                }
            };
            problems.push(problem(len.saturating_sub(EOCD_LEN), what));
            return None;
        }
        Err(e) => {
            problems.push(problem(
                len.saturating_sub(EOCD_LEN),
                format!("end record unreadable: {e}"),
            ));
            return None;
        }
    };
    let mut e = [0u8; EOCD_LEN as usize];
    if let Err(err) = file.read_exact_at(&mut e, at) {
        problems.push(problem(at, format!("end record unreadable: {err}")));
        return None;
    }
    let (disk, cd_disk) = (le16(&e, 4), le16(&e, 6));
    let (on_disk, total) = (u64::from(le16(&e, 8)), u64::from(le16(&e, 10)));
    let (size, start) = (u64::from(le32(&e, 12)), u64::from(le32(&e, 16)));
    if disk != 0 || cd_disk != 0 {
        problems.push(problem(
            at + 4,
            format!("end record names disk {disk}/{cd_disk}, not 0"),
        ));
    }
    if on_disk != total {
        problems.push(problem(
            at + 8,
            format!("end record counts {on_disk} entries on this disk but {total} in all"),
        ));
    }
    let saturated = total == SENTINEL16 || size == SENTINEL32 || start == SENTINEL32;
    let mut locator = [0u8; LOCATOR_LEN as usize];
    let has_locator = at >= LOCATOR_LEN
        && file.read_exact_at(&mut locator, at - LOCATOR_LEN).is_ok()
        && locator[..4] == *b"PK\x06\x07";
    if !has_locator {
        return Some(End {
            directory_end: at,
            count: total,
            size,
            start,
        });
    }
    let loc_at = at - LOCATOR_LEN;
    if !saturated {
        problems.push(problem(
            loc_at,
            "Zip64 end locator that the end record does not call for (no field saturated)",
        ));
        return None;
    }
    if le32(&locator, 4) != 0 || le32(&locator, 16) != 1 {
        problems.push(problem(loc_at, "Zip64 locator names another disk"));
    }
    let z_at = le64(&locator, 8);
    let mut z = [0u8; ZIP64_EOCD_LEN as usize];
    if z_at.checked_add(ZIP64_EOCD_LEN).is_none_or(|e| e > loc_at)
        || file.read_exact_at(&mut z, z_at).is_err()
        || z[..4] != *b"PK\x06\x06"
    {
        problems.push(problem(
            z_at,
            "no Zip64 end record where the locator points",
        ));
        return None;
    }
    // The Zip64 end record must end right before its locator: nothing else in between.
    let record_len = le64(&z, 4);
    let z_end = z_at.checked_add(12).and_then(|v| v.checked_add(record_len));
    let exact = match strictness {
        Strictness::Canonical => record_len == ZIP64_EOCD_LEN - 12,
        Strictness::Foreign => record_len >= ZIP64_EOCD_LEN - 12,
    };
    if !exact || z_end != Some(loc_at) {
        problems.push(problem(
            z_at,
            format!(
                "Zip64 end record of {record_len} bytes does not end at its locator ({loc_at})"
            ),
        ));
    }
    if le32(&z, 16) != 0 || le32(&z, 20) != 0 {
        problems.push(problem(z_at + 16, "Zip64 end record names another disk"));
    }
    let (z_on_disk, z_total, z_size, z_start) =
        (le64(&z, 24), le64(&z, 32), le64(&z, 40), le64(&z, 48));
    if z_on_disk != z_total {
        problems.push(problem(z_at + 24, "Zip64 end record entry counts disagree"));
    }
    // Each classic field holds the Zip64 value, or the sentinel when it does not fit: readers
    // that ignore Zip64 and readers that use it must find the same directory.
    for (what, classic, wide, sentinel) in [
        ("entry count", total, z_total, SENTINEL16),
        ("directory size", size, z_size, SENTINEL32),
        ("directory offset", start, z_start, SENTINEL32),
    ] {
        if classic != wide.min(sentinel) {
            problems.push(problem(
                at,
                format!("end record {what} {classic} disagrees with the Zip64 end record's {wide}"),
            ));
        }
    }
    // Our writer adds Zip64 end records only when a value does not fit the classic fields.
    let called_for = z_total > SENTINEL16 || z_size.max(z_start) > SENTINEL32;
    if strictness == Strictness::Canonical && !called_for {
        problems.push(problem(
            z_at,
            "Zip64 end record where every value fits the classic end record",
        ));
    }
    Some(End {
        directory_end: z_at,
        count: z_total,
        size: z_size,
        start: z_start,
    })
}

/// Offset of the end record: for our bundles the last 22 bytes (no comment); for others the
/// last record whose comment reaches the end of the file exactly, with no signature in it.
fn locate_end(file: &PreadFile, strictness: Strictness) -> io::Result<Option<u64>> {
    let len = file.len();
    if len < EOCD_LEN {
        return Ok(None);
    }
    let tail_len = match strictness {
        Strictness::Canonical => EOCD_LEN,
        Strictness::Foreign => len.min(EOCD_LEN + SENTINEL16),
    };
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact_at(&mut tail, len - tail_len)?;
    let Some(i) = tail.windows(4).rposition(|w| w == b"PK\x05\x06") else {
        return Ok(None);
    };
    let comment = &tail.get(i + EOCD_LEN as usize..).unwrap_or_default();
    if tail.len() < i + EOCD_LEN as usize || usize::from(le16(&tail, i + 20)) != comment.len() {
        return Ok(None);
    }
    if strictness == Strictness::Canonical && !comment.is_empty() {
        return Ok(None);
    }
    // A signature inside the comment would be found by readers that scan differently.
    if comment.windows(4).any(|w| w.starts_with(b"PK")) {
        return Ok(None);
    }
    Ok(Some(len - tail_len + i as u64))
}

/// Reads the central directory: exactly `end.count` records filling exactly `end.size` bytes.
fn central_records(
    file: &PreadFile,
    end: &End,
    strictness: Strictness,
    problems: &mut Vec<Problem>,
) -> io::Result<Vec<Record>> {
    let mut r = file.clone();
    r.seek(SeekFrom::Start(end.start))?;
    let mut r = BufReader::with_capacity(256 << 10, r.take(end.size));
    let mut records = Vec::new();
    let mut seen = HashSet::new();
    let mut duplicates = Vec::new();
    let mut at = end.start;
    let dir_end = end.start + end.size;
    while at < dir_end {
        if records.len() >= MAX_ENTRIES {
            problems.push(problem(at, format!("more than {MAX_ENTRIES} records")));
            break;
        }
        let mut c = [0u8; CENTRAL_LEN];
        if dir_end - at < CENTRAL_LEN as u64 {
            problems.push(problem(
                at,
                format!(
                    "{} bytes left in the directory, too few for a record",
                    dir_end - at
                ),
            ));
            break;
        }
        r.read_exact(&mut c)?;
        if c[..4] != *b"PK\x01\x02" {
            problems.push(problem(
                at,
                format!("expected a central directory record, {}", found(&c)),
            ));
            break;
        }
        let (n, x, k) = (
            le16(&c, 28) as usize,
            le16(&c, 30) as usize,
            le16(&c, 32) as usize,
        );
        let rest = (n + x + k) as u64;
        if dir_end - at - (CENTRAL_LEN as u64) < rest {
            problems.push(problem(at, "record runs past the end of the directory"));
            break;
        }
        let mut var = vec![0u8; n + x + k];
        r.read_exact(&mut var)?;
        let record = central_record(at, &c, &var[..n], &var[n..n + x], k, strictness, problems);
        if !seen.insert(record.name.clone()) {
            duplicates.push(record.name.clone());
        }
        records.push(record);
        at += CENTRAL_LEN as u64 + rest;
    }
    if records.len() as u64 != end.count {
        problems.push(problem(
            end.start,
            format!(
                "the end record counts {} entries, the directory holds {}",
                end.count,
                records.len()
            ),
        ));
    }
    duplicates.sort();
    duplicates.dedup();
    problems.extend(duplicates.into_iter().map(|n| Problem::DuplicateEntry {
        entry: String::from_utf8_lossy(&n).into_owned(),
    }));
    Ok(records)
}

/// Checks one central record (fixed part `c`, at `at`) and resolves its Zip64 fields.
fn central_record(
    at: u64,
    c: &[u8],
    name: &[u8],
    extra: &[u8],
    comment_len: usize,
    strictness: Strictness,
    problems: &mut Vec<Problem>,
) -> Record {
    let entry = String::from_utf8_lossy(name).into_owned();
    let mut shared = [0u8; 14];
    shared.copy_from_slice(&c[6..20]);
    let mut bad = |detail: String| problems.push(problem(at, format!("{entry:?}: {detail}")));
    let (flags, method) = (le16(c, 8), le16(c, 10));
    let (mut compressed, mut size) = (u64::from(le32(c, 20)), u64::from(le32(c, 24)));
    let mut offset = u64::from(le32(c, 42));
    let disk = u64::from(le16(c, 34));
    if flags & FLAG_ENCRYPTED != 0 {
        bad(format!("encrypted (flags {flags:#06x})"));
    }
    if strictness == Strictness::Canonical {
        if flags & !FLAG_UTF8 != 0 {
            bad(format!(
                "flags {flags:#06x}, our writer sets none but UTF-8"
            ));
        }
        if method != 0 && method != 8 {
            bad(format!("compression method {method}"));
        }
        if le16(c, 4) >> 8 != 3 {
            bad(format!("made by system {}, not Unix", le16(c, 4) >> 8));
        }
        if comment_len != 0 {
            bad(format!("a {comment_len}-byte comment"));
        }
        if le16(c, 36) != 0 || le32(c, 38) != CANONICAL_MODE {
            bad("file attributes other than a regular file, mode 0644".into());
        }
    }
    // Zip64 extended information: one 8-byte value per saturated field, in this order.
    let fields = extra_fields(extra);
    let Some(fields) = fields else {
        bad("malformed extra fields".into());
        return Record {
            name: name.to_vec(),
            header_offset: offset,
            compressed,
            size,
            shared,
        };
    };
    let mut zip64_seen = false;
    for (id, data) in fields {
        match id {
            ZIP64_EXTRA if !zip64_seen => {
                zip64_seen = true;
                let mut values = data.chunks_exact(8).map(|v| le64(v, 0));
                let mut wanted = 0;
                for field in [&mut size, &mut compressed, &mut offset] {
                    if *field == SENTINEL32 {
                        wanted += 8;
                        *field = values.next().unwrap_or(SENTINEL32);
                    }
                }
                if disk == SENTINEL16 {
                    wanted += 4;
                }
                if data.len() != wanted {
                    bad(format!(
                        "Zip64 extra field of {} bytes, the record calls for {wanted}",
                        data.len()
                    ));
                }
            }
            UNICODE_PATH_EXTRA => {
                bad("Unicode Path extra field (renames the entry for some readers)".into())
            }
            _ if strictness == Strictness::Canonical => {
                bad(format!("extra field {id:#06x}, not written by our writer"))
            }
            ZIP64_EXTRA => bad("two Zip64 extra fields".into()),
            _ => {}
        }
    }
    if disk != 0 {
        bad(format!("starts on disk {disk}"));
    }
    if strictness == Strictness::Canonical {
        // Our writer stores both sizes in Zip64 or neither, and the offset only when it must.
        let sizes64 = le32(c, 20) == u32::MAX || le32(c, 24) == u32::MAX;
        if sizes64 && (le32(c, 20) != u32::MAX || le32(c, 24) != u32::MAX) {
            bad("only one size in the Zip64 field".into());
        }
        if (le32(c, 42) == u32::MAX) != (offset >= SENTINEL32) {
            bad("offset in the Zip64 field although it fits".into());
        }
    }
    Record {
        name: name.to_vec(),
        header_offset: offset,
        compressed,
        size,
        shared,
    }
}

/// Splits extra-field bytes into (id, data); `None` if the lengths do not fill them exactly.
fn extra_fields(mut extra: &[u8]) -> Option<Vec<(u16, &[u8])>> {
    let mut out = Vec::new();
    while !extra.is_empty() {
        if extra.len() < 4 {
            return None;
        }
        let (id, len) = (le16(extra, 0), le16(extra, 2) as usize);
        let data = extra.get(4..4 + len)?;
        out.push((id, data));
        extra = &extra[4 + len..];
    }
    Some(out)
}

/// Checks every local entry against its record, and that the entries fill the file from
/// offset 0 to the directory back to back.
fn local_entries(
    file: &PreadFile,
    records: &[Record],
    directory_start: u64,
    strictness: Strictness,
    problems: &mut Vec<Problem>,
) {
    let mut order: Vec<usize> = (0..records.len()).collect();
    // Our writer writes the directory in file order; another tool may not.
    if strictness == Strictness::Foreign {
        order.sort_by_key(|&i| records[i].header_offset);
    }
    let mut at = 0u64;
    for i in order {
        let rec = &records[i];
        if rec.header_offset != at {
            let what = if rec.header_offset > at {
                format!("{} bytes no entry accounts for", rec.header_offset - at)
            } else {
                "entries overlap".to_owned()
            };
            problems.push(problem(
                at,
                format!(
                    "{what} before the local header of {:?}",
                    String::from_utf8_lossy(&rec.name)
                ),
            ));
            return;
        }
        match local_entry(file, rec, strictness) {
            Ok(Ok(end)) => at = end,
            Ok(Err(p)) => {
                problems.extend(p);
                return;
            }
            Err(e) => {
                problems.push(problem(
                    at,
                    format!(
                        "local header of {:?} unreadable: {e}",
                        String::from_utf8_lossy(&rec.name)
                    ),
                ));
                return;
            }
        }
    }
    if at != directory_start {
        problems.push(problem(
            at,
            format!(
                "{} bytes between the last entry and the central directory",
                directory_start.saturating_sub(at)
            ),
        ));
    }
}

/// Checks the local header of `rec` and returns where its entry (data, descriptor) ends.
fn local_entry(
    file: &PreadFile,
    rec: &Record,
    strictness: Strictness,
) -> io::Result<Result<u64, Vec<Problem>>> {
    let at = rec.header_offset;
    let mut l = [0u8; LOCAL_LEN];
    file.read_exact_at(&mut l, at)?;
    let entry = String::from_utf8_lossy(&rec.name).into_owned();
    if l[..4] != *b"PK\x03\x04" {
        return Ok(Err(vec![problem(
            at,
            format!("{entry:?}: expected a local header, {}", found(&l)),
        )]));
    }
    let (n, x) = (le16(&l, 26) as usize, le16(&l, 28) as usize);
    let mut var = vec![0u8; n + x];
    file.read_exact_at(&mut var, at + LOCAL_LEN as u64)?;
    let mut out = Vec::new();
    let mismatch = |field: &str| Problem::LocalHeaderMismatch {
        entry: entry.clone(),
        field: field.to_owned(),
    };
    if var[..n] != rec.name[..] {
        out.push(mismatch("name"));
    }
    let flags = le16(&l, 6);
    let descriptor = flags & FLAG_DESCRIPTOR != 0;
    let (mut compressed, mut size) = (u64::from(le32(&l, 18)), u64::from(le32(&l, 22)));
    let Some(fields) = extra_fields(&var[n..]) else {
        return Ok(Err(vec![problem(
            at,
            format!("{entry:?}: malformed local extra fields"),
        )]));
    };
    for (id, data) in fields {
        match id {
            ZIP64_EXTRA => {
                let mut values = data.chunks_exact(8).map(|v| le64(v, 0));
                for field in [&mut size, &mut compressed] {
                    if *field == SENTINEL32 {
                        *field = values.next().unwrap_or(SENTINEL32);
                    }
                }
                if strictness == Strictness::Canonical
                    && (data.len() != 16 || le32(&l, 18) != u32::MAX || le32(&l, 22) != u32::MAX)
                {
                    out.push(problem(
                        at,
                        format!("{entry:?}: local Zip64 field unlike our writer's"),
                    ));
                }
            }
            UNICODE_PATH_EXTRA => out.push(problem(
                at,
                format!("{entry:?}: Unicode Path extra field in the local header"),
            )),
            _ if strictness == Strictness::Canonical => out.push(problem(
                at,
                format!("{entry:?}: local extra field {id:#06x}, not written by our writer"),
            )),
            _ => {}
        }
    }
    // Central: version needed 6, flags 8, method 10, time 12, date 14, crc 16.
    // Local:   version needed 4, flags 6, method 8, time 10, date 12, crc 14.
    let central = &rec.shared;
    for (field, li, ci) in [
        ("version needed", 4, 0),
        ("flags", 6, 2),
        ("compression method", 8, 4),
        ("time", 10, 6),
        ("date", 12, 8),
    ] {
        if le16(&l, li) != le16(central, ci) {
            out.push(mismatch(field));
        }
    }
    let data_at = at + (LOCAL_LEN + n + x) as u64;
    let mut end = data_at.saturating_add(rec.compressed);
    if descriptor {
        if strictness == Strictness::Canonical {
            out.push(problem(
                at,
                format!("{entry:?}: sizes in a data descriptor, which our writer never writes"),
            ));
        }
        match descriptor_end(file, end, rec, le32(central, 10))? {
            Some(e) => end = e,
            None => out.push(problem(
                end,
                format!("{entry:?}: data descriptor missing or disagreeing"),
            )),
        }
    } else {
        if le32(&l, 14) != le32(central, 10) {
            out.push(mismatch("CRC-32"));
        }
        if compressed != rec.compressed {
            out.push(mismatch("compressed size"));
        }
        if size != rec.size {
            out.push(mismatch("size"));
        }
    }
    Ok(if out.is_empty() { Ok(end) } else { Err(out) })
}

/// Where the data descriptor after an entry's data ends, if one is there and agrees with the
/// record (optional signature, CRC-32, then 4- or 8-byte sizes).
fn descriptor_end(file: &PreadFile, at: u64, rec: &Record, crc: u32) -> io::Result<Option<u64>> {
    let mut d = [0u8; 24];
    let got = {
        let mut r = file.clone();
        r.seek(SeekFrom::Start(at))?;
        let mut n = 0;
        while n < d.len() {
            match r.read(&mut d[n..])? {
                0 => break,
                k => n += k,
            }
        }
        n
    };
    let d = &d[..got];
    let body = if d.starts_with(b"PK\x07\x08") { 4 } else { 0 };
    for wide in [false, true] {
        let len = body + if wide { 20 } else { 12 };
        if d.len() < len || le32(d, body) != crc {
            continue;
        }
        let (c, s) = if wide {
            (le64(d, body + 4), le64(d, body + 12))
        } else {
            (u64::from(le32(d, body + 4)), u64::from(le32(d, body + 8)))
        };
        if c == rec.compressed && s == rec.size {
            return Ok(Some(at + len as u64));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A zip written by the zip library with its defaults: not our writer's layout (no mode
    /// bits, DOS times) but one every reader agrees on.
    fn foreign_zip(dir: &std::path::Path, prefix: &[u8]) -> PreadFile {
        let mut zw = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in [
            ("bag/bagit.txt", &b"BagIt-Version: 1.0\n"[..]),
            ("bag/data/x", b"x"),
        ] {
            zw.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zw.write_all(body).unwrap();
        }
        let mut bytes = prefix.to_vec();
        bytes.extend(zw.finish().unwrap().into_inner());
        let p = dir.join("z.zip");
        std::fs::write(&p, bytes).unwrap();
        PreadFile::open(&p).unwrap()
    }

    #[test]
    fn a_foreign_zip_readers_agree_on_passes_the_foreign_rules_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = foreign_zip(dir.path(), b"");
        let foreign = check(&f, Strictness::Foreign);
        assert_eq!(foreign.problems, vec![]);
        assert_eq!(foreign.records.len(), 2);
        assert_eq!(foreign.records[1].name, b"bag/data/x");
        // Deflated by default, with DOS attributes: not what our writer writes.
        assert!(!check(&f, Strictness::Canonical).problems.is_empty());
    }

    #[test]
    fn bytes_before_the_first_entry_are_refused_in_either_mode() {
        let dir = tempfile::tempdir().unwrap();
        let f = foreign_zip(dir.path(), b"MZ-stub");
        for mode in [Strictness::Foreign, Strictness::Canonical] {
            let found = check(&f, mode).problems;
            assert!(
                found
                    .iter()
                    .any(|p| matches!(p, Problem::ZipStructure { .. })),
                "{mode:?}: {found:?}"
            );
        }
    }
}
