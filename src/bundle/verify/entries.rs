//! The structure phase as the zip library sees it: it must read exactly the records the
//! structural pass ([`super::structure`]) found in the file's bytes, and each entry must be a
//! safe, plain, unencrypted file inside the bag folder (names judged on raw bytes).

use super::structure::{Strictness, Structure};
use super::Problem;
use super::{Zip, ACCEPTED, PAYLOAD};

/// Why a raw entry name is unsafe, if it is.
pub(super) fn unsafe_name(name: &[u8]) -> Option<String> {
    let Ok(s) = std::str::from_utf8(name) else {
        return Some("not UTF-8".into());
    };
    if s.is_empty() {
        return Some("empty".into());
    }
    if s.contains('\0') {
        return Some("contains NUL".into());
    }
    // A name that could act on a terminal or a log is never one our writer produced.
    if s.chars().any(char::is_control) {
        return Some("contains a control character".into());
    }
    if s.contains('\\') {
        return Some("contains a backslash".into());
    }
    if s.starts_with('/') {
        return Some("absolute path".into());
    }
    let b = s.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Some("drive letter".into());
    }
    let trimmed = s.strip_suffix('/').unwrap_or(s);
    for comp in trimmed.split('/') {
        match comp {
            "" => return Some("empty path component".into()),
            "." | ".." => return Some(format!("`{comp}` path component")),
            _ => {}
        }
    }
    None
}

/// The structure phase, entry by entry: the zip library must read exactly the records the
/// structural pass found in the file's bytes (so what is hashed is what every reader sees),
/// and each entry must be a safe, plain, unencrypted file inside the bag folder. Returns the
/// per-entry flags of the file entries to hash. In a zip another tool wrote
/// ([`Strictness::Foreign`]) directory entries are allowed (and not part of the bag).
pub(super) fn entry_types(
    za: &mut Zip,
    layout: &Structure,
    prefix: &str,
    problems: &mut Vec<Problem>,
    strictness: Strictness,
) -> Vec<u8> {
    let entries = za.len();
    if layout.records.len() != entries || za.offset() != 0 {
        problems.push(Problem::ZipStructure {
            offset: layout.directory_start,
            detail: format!(
                "the zip library reads {entries} entries from offset {}, the file holds {} records",
                za.offset(),
                layout.records.len()
            ),
        });
    }
    let by_offset: std::collections::HashMap<u64, &super::structure::Record> = layout
        .records
        .iter()
        .map(|r| (r.central_offset, r))
        .collect();
    let mut flags = vec![0u8; entries];
    for (i, flag) in flags.iter_mut().enumerate() {
        let f = match za.by_index_raw(i) {
            Ok(f) => f,
            Err(e) => {
                problems.push(Problem::EntryUnreadable {
                    entry: format!("#{i}"),
                    message: e.to_string(),
                });
                continue;
            }
        };
        // Names are judged on the raw bytes of the file, never on a name a library derived;
        // the record is the one at the offset the library read (duplicates collapse there).
        let rec = by_offset.get(&f.central_header_start());
        let agrees = rec.is_some_and(|rec| {
            rec.name == f.name_raw()
                && rec.header_offset == f.header_start()
                && rec.compressed == f.compressed_size()
                && rec.size == f.size()
        });
        if !agrees {
            problems.push(Problem::ZipStructure {
                offset: f.central_header_start(),
                detail: format!(
                    "entry #{i}: the zip library reads another entry than the file's bytes ({:?})",
                    String::from_utf8_lossy(f.name_raw())
                ),
            });
        }
        let raw = match rec {
            Some(rec) if agrees => rec.name.as_slice(),
            _ => f.name_raw(),
        };
        let entry = || String::from_utf8_lossy(raw).into_owned();
        if let Some(reason) = unsafe_name(raw) {
            problems.push(Problem::UnsafeEntryName {
                entry: entry(),
                reason,
            });
            continue;
        }
        if f.is_symlink() {
            problems.push(Problem::SymlinkEntry { entry: entry() });
            continue;
        }
        if f.encrypted() {
            problems.push(Problem::EncryptedEntry { entry: entry() });
            continue;
        }
        let Some(rel) = raw.strip_prefix(prefix.as_bytes()) else {
            problems.push(Problem::EntryOutsideBag { entry: entry() });
            continue;
        };
        if f.is_dir() {
            if strictness == Strictness::Canonical {
                problems.push(Problem::DirectoryEntry { entry: entry() });
            }
            continue;
        }
        *flag = if rel.starts_with(b"data/") {
            ACCEPTED | PAYLOAD
        } else {
            ACCEPTED
        };
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_named() {
        for (n, why) in [
            (&b"/abs/x"[..], "absolute path"),
            (b"a/../b", "`..` path component"),
            (b"a\\b", "contains a backslash"),
            (b"a\0b", "contains NUL"),
            (b"C:x", "drive letter"),
            (b"a//b", "empty path component"),
            (b"\xff", "not UTF-8"),
            (b"a\x1b[2Jb", "contains a control character"),
        ] {
            assert_eq!(unsafe_name(n).as_deref(), Some(why), "{n:?}");
        }
        assert_eq!(unsafe_name(b"IR-1/data/case/100% x.txt"), None);
    }
}
