//! Walking the inputs: regular files become [`Candidate`]s; symlinks (never followed, so no
//! loops and nothing outside the inputs), FIFOs, sockets, devices, unreadable entries and files
//! over the size cap are recorded as [`NotCollected`] with a reason. Nothing aborts the walk.

use crate::model::evidence::{NotCollected, RecordedPath};
use crate::source::walk::WalkEntry;
use std::fs::Metadata;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Why a source is in the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// An input file or a file found under an input directory.
    Source,
    /// The `--case-file`: always stored as the case file under `data/case/`.
    CaseFile,
}

/// A regular file to acquire. Kept small: a collect of 100,000 files holds them all at once
/// (the acquisition stats each file again).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Absolute (not canonicalised: symlinked parents are kept as given) path.
    pub path: PathBuf,
    /// Size from `lstat` at walk time (decides in-memory vs streamed).
    pub size: u64,
    pub role: Role,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

fn not_collected(path: &Path, reason: impl Into<String>) -> NotCollected {
    NotCollected {
        path: RecordedPath::from_path(path),
        reason: reason.into(),
    }
}

/// Reason a non-regular, non-directory entry is skipped.
fn special_reason(path: &Path, md: &Metadata) -> String {
    let ft = md.file_type();
    if ft.is_symlink() {
        match std::fs::read_link(path) {
            Ok(t) => format!("symbolic link to {} (not followed)", t.display()),
            Err(_) => "symbolic link (not followed)".to_owned(),
        }
    } else if ft.is_fifo() {
        "FIFO (named pipe): not read, it could block".to_owned()
    } else if ft.is_socket() {
        "socket: not a file".to_owned()
    } else if ft.is_char_device() {
        "character device: not read".to_owned()
    } else if ft.is_block_device() {
        "block device: not read".to_owned()
    } else {
        "not a regular file".to_owned()
    }
}

fn consider(
    path: PathBuf,
    md: Metadata,
    role: Role,
    max_file_size: u64,
    out: &mut Vec<Candidate>,
    skipped: &mut Vec<NotCollected>,
) {
    if !md.file_type().is_file() {
        skipped.push(not_collected(&path, special_reason(&path, &md)));
    } else if md.len() > max_file_size {
        skipped.push(not_collected(
            &path,
            format!(
                "{} bytes, over the size cap of {} bytes (--max-file-size)",
                md.len(),
                max_file_size
            ),
        ));
    } else {
        out.push(Candidate {
            path,
            size: md.len(),
            role,
        });
    }
}

/// Walks `inputs` (files and directories) and the optional case file. Candidates come back
/// sorted by path bytes and de-duplicated (a path given twice is read once); not-collected
/// entries are sorted too.
pub fn walk_inputs(
    inputs: &[PathBuf],
    case_file: Option<&Path>,
    max_file_size: u64,
) -> (Vec<Candidate>, Vec<NotCollected>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    if let Some(cf) = case_file {
        let p = absolute(cf);
        match std::fs::symlink_metadata(&p) {
            Ok(md) => consider(
                p,
                md,
                Role::CaseFile,
                max_file_size,
                &mut found,
                &mut skipped,
            ),
            Err(e) => skipped.push(not_collected(&p, format!("unreadable: {e}"))),
        }
    }
    let roots: Vec<PathBuf> = inputs.iter().map(|p| absolute(p)).collect();
    // An input that is itself a symbolic link is recorded, not followed, like any other link.
    crate::source::walk::walk_entries(&roots, false, |e| match e {
        WalkEntry::File(path, md) | WalkEntry::Other(path, md) => consider(
            path,
            md,
            Role::Source,
            max_file_size,
            &mut found,
            &mut skipped,
        ),
        WalkEntry::Missing(path, err) => {
            skipped.push(not_collected(&path, format!("unreadable: {err}")))
        }
        WalkEntry::Unreadable(path, msg) => {
            skipped.push(not_collected(&path, format!("unreadable: {msg}")))
        }
    });
    use std::os::unix::ffi::OsStrExt;
    // The case file role wins when the same path is also an input.
    found.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
            .then(b.role.cmp(&a.role))
    });
    found.dedup_by(|a, b| a.path == b.path);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    (found, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_and_loops_are_recorded_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.wasm"), b"\0asm").unwrap();
        std::os::unix::fs::symlink(d.join("loop2"), d.join("loop1")).unwrap();
        std::os::unix::fs::symlink(d.join("loop1"), d.join("loop2")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("outside")).unwrap();
        std::os::unix::fs::symlink(d, d.join("self")).unwrap();
        let (found, skipped) = walk_inputs(&[d.to_owned()], None, 1 << 20);
        assert_eq!(found.len(), 1);
        assert_eq!(skipped.len(), 4);
        assert!(skipped
            .iter()
            .all(|s| s.reason.starts_with("symbolic link")));
        assert!(skipped.iter().any(|s| s.reason.contains("/etc")));
    }

    #[test]
    fn size_cap_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.bin");
        std::fs::write(&f, vec![0u8; 100]).unwrap();
        let (found, skipped) = walk_inputs(&[f.clone(), f.clone()], None, 99);
        assert!(found.is_empty());
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason.contains("over the size cap"));
        let (found, _) = walk_inputs(&[f.clone(), f.clone()], Some(&f), 1000);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].role, Role::CaseFile);
    }
}
