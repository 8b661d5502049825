//! The one walk over command-line inputs, behind `collect`, `keys` and `scope`: regular files
//! come out with their `lstat`; everything else is a [`SkippedPath`] with one typed
//! [`SkipReason`]. Symbolic links inside the inputs are never followed (no loops, nothing outside
//! the inputs); FIFOs, sockets and devices are never opened. Nothing aborts the walk.
//!
//! The walk is anchored: each directory is opened relative to its parent's descriptor with
//! `O_NOFOLLOW` and must be the inode the parent listed, and each entry is `lstat`ed relative to
//! it. A directory swapped for a symbolic link mid-walk is therefore never entered (it is
//! recorded as changed during the walk), and every file's device and inode come from inside the
//! inputs: readers open the file by path and compare ([`crate::source::open::open_walked`]).

use crate::model::evidence::{FileStat, NotCollected, RecordedPath};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use serde::Serialize;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A regular file found under an input.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// Input as given, joined with the path inside it.
    pub path: PathBuf,
    /// `lstat` taken during the walk, relative to the directory the walk opened.
    pub stat: FileStat,
    /// Bytes the filesystem allocated for it (`st_blocks` × 512).
    pub allocated: u64,
}

/// What a non-regular, non-directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl SpecialKind {
    fn of(ft: FileType) -> Self {
        match ft {
            FileType::Fifo => SpecialKind::Fifo,
            FileType::Socket => SpecialKind::Socket,
            FileType::CharacterDevice => SpecialKind::CharDevice,
            FileType::BlockDevice => SpecialKind::BlockDevice,
            _ => SpecialKind::Other,
        }
    }
}

/// Why a path met by the walk was not taken. Serialised (for `keys` and `scope --json`) as a
/// `reason` tag; the details that only evidence records (link target, error of a missing input,
/// kind of special file) are not part of that form.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// An input named on the command line does not exist.
    Missing {
        #[serde(skip)]
        error: String,
    },
    /// A symbolic link: never followed, so the walk cannot leave its inputs.
    Symlink {
        #[serde(skip)]
        target: Option<PathBuf>,
    },
    /// FIFO, socket or device: reading it could block or has no stable content.
    SpecialFile {
        #[serde(skip)]
        kind: SpecialKind,
    },
    /// The directory entry or file could not be read.
    Unreadable { error: String },
    /// Larger than the size cap (`collect --max-file-size`).
    TooLarge { size: u64, max: u64 },
    /// A temp file left by an interrupted collect to the same destination: not evidence.
    LeftoverTemp,
    /// A directory or file on the path was replaced while the walk (or the read after it) went
    /// on: what is there now is not what the walk found inside the inputs, and is not followed.
    ChangedDuringWalk { detail: String },
    /// Mostly holes: reading it would copy its apparent size in zeros (`collect`).
    Sparse { size: u64, allocated: u64 },
}

impl SkipReason {
    /// True for what is skipped by policy (links, special files) rather than by failure.
    pub fn is_link_or_special(&self) -> bool {
        matches!(
            self,
            SkipReason::Symlink { .. } | SkipReason::SpecialFile { .. }
        )
    }

    /// The reason as evidence.json and custody.jsonl record it (with the link target and the
    /// kind of special file). The wording is part of the bundle bytes: keep it stable.
    pub fn evidence_text(&self) -> String {
        match self {
            SkipReason::Missing { error } | SkipReason::Unreadable { error } => {
                format!("unreadable: {error}")
            }
            SkipReason::Symlink { target: Some(t) } => {
                format!("symbolic link to {} (not followed)", t.display())
            }
            SkipReason::Symlink { target: None } => "symbolic link (not followed)".to_owned(),
            SkipReason::SpecialFile { kind } => match kind {
                SpecialKind::Fifo => "FIFO (named pipe): not read, it could block",
                SpecialKind::Socket => "socket: not a file",
                SpecialKind::CharDevice => "character device: not read",
                SpecialKind::BlockDevice => "block device: not read",
                SpecialKind::Other => "not a regular file",
            }
            .to_owned(),
            SkipReason::TooLarge { size, max } => {
                format!("{size} bytes, over the size cap of {max} bytes (--max-file-size)")
            }
            SkipReason::LeftoverTemp => {
                "temp file of an interrupted collect to this destination: not evidence".to_owned()
            }
            SkipReason::ChangedDuringWalk { detail } => {
                format!("changed during the walk: {detail}; not followed")
            }
            SkipReason::Sparse { size, allocated } => format!(
                "sparse file: {size} bytes apparent, {allocated} bytes allocated; its holes \
                 would be copied as zeros, so it is not collected (image it with a tool that \
                 keeps holes)"
            ),
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Missing { .. } => f.write_str("does not exist"),
            SkipReason::Symlink { .. } => f.write_str("symbolic link, not followed"),
            SkipReason::SpecialFile { .. } => f.write_str("not a regular file"),
            other => f.write_str(&other.evidence_text()),
        }
    }
}

/// A path that was seen and skipped, with the reason.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SkippedPath {
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    #[serde(flatten)]
    pub reason: SkipReason,
}

impl SkippedPath {
    /// The evidence record of a skipped path.
    pub fn not_collected(&self) -> NotCollected {
        let (size, allocated_size) = match self.reason {
            SkipReason::TooLarge { size, .. } => (Some(size), None),
            SkipReason::Sparse { size, allocated } => (Some(size), Some(allocated)),
            _ => (None, None),
        };
        NotCollected {
            path: RecordedPath::from_path(&self.path),
            reason: self.reason.evidence_text(),
            size,
            allocated_size,
        }
    }
}

/// Everything a walk found: regular files in input order (sorted by name inside each directory),
/// and what was skipped.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<WalkedFile>,
    pub skipped: Vec<SkippedPath>,
}

impl Walk {
    /// True when an input named on the command line does not exist.
    pub fn has_missing_input(&self) -> bool {
        self.skipped
            .iter()
            .any(|s| matches!(s.reason, SkipReason::Missing { .. }))
    }
}

/// One entry met by [`walk_entries`].
pub enum WalkEntry {
    /// A regular file.
    File(WalkedFile),
    /// Anything that was not taken, with the reason.
    Skipped(SkippedPath),
}

fn skipped(path: PathBuf, reason: SkipReason) -> WalkEntry {
    WalkEntry::Skipped(SkippedPath { path, reason })
}

/// The identity and metadata the walk records of an entry.
#[allow(clippy::unnecessary_cast)] // field widths differ between architectures
pub fn file_stat(st: &Stat) -> FileStat {
    let t = |s: i64, ns: u64| crate::model::evidence::unix_time(s, ns as i64);
    FileStat {
        size: st.st_size as u64,
        mode: st.st_mode as u32,
        uid: st.st_uid as u32,
        gid: st.st_gid as u32,
        owner: None,
        dev: st.st_dev as u64,
        inode: st.st_ino as u64,
        nlink: st.st_nlink as u64,
        mtime: t(st.st_mtime as i64, st.st_mtime_nsec as u64),
        ctime: t(st.st_ctime as i64, st.st_ctime_nsec as u64),
        atime: t(st.st_atime as i64, st.st_atime_nsec as u64),
    }
}

#[allow(clippy::unnecessary_cast)]
fn walked(path: PathBuf, st: &Stat) -> WalkEntry {
    WalkEntry::File(WalkedFile {
        path,
        stat: file_stat(st),
        allocated: (st.st_blocks as u64).saturating_mul(512),
    })
}

#[allow(clippy::unnecessary_cast)]
fn same_inode(a: &Stat, b: &Stat) -> bool {
    (a.st_dev as u64, a.st_ino as u64) == (b.st_dev as u64, b.st_ino as u64)
}

fn io_text(e: rustix::io::Errno) -> String {
    std::io::Error::from(e).to_string()
}

/// The reason a non-regular, non-directory entry is skipped (`target`: where a link points).
fn not_regular(ft: FileType, target: impl FnOnce() -> Option<PathBuf>) -> SkipReason {
    if ft == FileType::Symlink {
        SkipReason::Symlink { target: target() }
    } else {
        SkipReason::SpecialFile {
            kind: SpecialKind::of(ft),
        }
    }
}

/// Opens `name` under `dir` as a directory without following a link, and checks it is the
/// inode `seen` (the walk's `lstat` of it).
fn open_dir_at(dir: &OwnedFd, name: &OsStr, seen: &Stat) -> Result<OwnedFd, SkipReason> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let changed = |what: &str| SkipReason::ChangedDuringWalk {
        detail: what.to_owned(),
    };
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if e == rustix::io::Errno::LOOP || e == rustix::io::Errno::NOTDIR => {
            return Err(changed("the directory was replaced by something else"))
        }
        Err(e) => return Err(SkipReason::Unreadable { error: io_text(e) }),
    };
    match rustix::fs::fstat(&fd) {
        Ok(now) if same_inode(&now, seen) => Ok(fd),
        Ok(_) => Err(changed("the directory was replaced by another one")),
        Err(e) => Err(SkipReason::Unreadable { error: io_text(e) }),
    }
}

/// Walks the directory open as `dir` (at `path`), entries in name order, depth first.
fn walk_dir(dir: &OwnedFd, path: &Path, f: &mut impl FnMut(WalkEntry)) {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let listing = rustix::fs::Dir::read_from(dir).and_then(|d| {
        for entry in d {
            let name = entry?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                names.push(name);
            }
        }
        Ok(())
    });
    if let Err(e) = listing {
        f(skipped(
            path.to_owned(),
            SkipReason::Unreadable { error: io_text(e) },
        ));
        return;
    }
    names.sort();
    for name in names {
        let name = OsStr::from_bytes(&name);
        let child = path.join(name);
        let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(e) => {
                f(skipped(child, SkipReason::Unreadable { error: io_text(e) }));
                continue;
            }
        };
        match FileType::from_raw_mode(st.st_mode as _) {
            FileType::Directory => match open_dir_at(dir, name, &st) {
                Ok(sub) => walk_dir(&sub, &child, f),
                Err(reason) => f(skipped(child, reason)),
            },
            FileType::RegularFile => f(walked(child, &st)),
            ft => {
                let target = || {
                    rustix::fs::readlinkat(dir, name, Vec::new())
                        .ok()
                        .map(|t| PathBuf::from(OsStr::from_bytes(t.as_bytes())))
                };
                f(skipped(child, not_regular(ft, target)))
            }
        }
    }
}

/// Walks one input: a file is taken as is, a directory walked from a descriptor opened on it.
fn walk_root(input: &Path, follow_root_links: bool, f: &mut impl FnMut(WalkEntry)) {
    let lstat = rustix::fs::lstat(input);
    let st = match (follow_root_links, &lstat) {
        (true, Ok(_)) => rustix::fs::stat(input),
        _ => lstat,
    };
    let st = match st {
        Ok(st) => st,
        // A dangling link named on the command line exists, but cannot be read.
        Err(e) if rustix::fs::lstat(input).is_ok() => {
            return f(skipped(
                input.to_owned(),
                SkipReason::Unreadable { error: io_text(e) },
            ))
        }
        Err(e) => {
            return f(skipped(
                input.to_owned(),
                SkipReason::Missing { error: io_text(e) },
            ))
        }
    };
    match FileType::from_raw_mode(st.st_mode as _) {
        FileType::Directory => {
            let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            if !follow_root_links {
                flags |= OFlags::NOFOLLOW;
            }
            match rustix::fs::openat(rustix::fs::CWD, input, flags, Mode::empty()) {
                Ok(fd) if rustix::fs::fstat(&fd).is_ok_and(|now| same_inode(&now, &st)) => {
                    walk_dir(&fd, input, f)
                }
                Ok(_) | Err(rustix::io::Errno::LOOP) | Err(rustix::io::Errno::NOTDIR) => {
                    f(skipped(
                        input.to_owned(),
                        SkipReason::ChangedDuringWalk {
                            detail: "the directory was replaced".to_owned(),
                        },
                    ))
                }
                Err(e) => f(skipped(
                    input.to_owned(),
                    SkipReason::Unreadable { error: io_text(e) },
                )),
            }
        }
        FileType::RegularFile => f(walked(input.to_owned(), &st)),
        ft => f(skipped(
            input.to_owned(),
            not_regular(ft, || std::fs::read_link(input).ok()),
        )),
    }
}

/// The one traversal: every input, directories walked recursively in name order, symbolic links
/// inside them never followed. `follow_root_links`: whether an input that is itself a link is
/// followed (`keys`, `scope`: the examiner named it) or skipped like any other link (`collect`).
pub fn walk_entries(inputs: &[PathBuf], follow_root_links: bool, mut f: impl FnMut(WalkEntry)) {
    for input in inputs {
        walk_root(input, follow_root_links, &mut f);
    }
}

/// Walks every input for `keys` and `scope`: a file input is taken as is, a directory walked
/// recursively, an input that is itself a link followed (the examiner named it). The same path
/// reached twice is listed once.
pub fn walk_inputs(inputs: &[PathBuf]) -> Walk {
    let mut walk = Walk::default();
    let mut seen = std::collections::HashSet::new();
    walk_entries(inputs, true, |e| match e {
        WalkEntry::File(file) => {
            if seen.insert(file.path.clone()) {
                walk.files.push(file);
            }
        }
        WalkEntry::Skipped(s) => walk.skipped.push(s),
    });
    walk
}

/// Why a source is in the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// An input file or a file found under an input directory.
    Source,
    /// The `--case-file`: always stored as the case file under `data/case/`.
    CaseFile,
}

/// A regular file for `collect` to acquire. Kept small: a collect of 100,000 files holds them
/// all at once (the acquisition stats each file again).
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Absolute (not canonicalised: symlinked parents are kept as given) path.
    pub path: PathBuf,
    /// Size from `lstat` at walk time (decides in-memory vs streamed).
    pub size: u64,
    pub role: Role,
    /// Device and inode the walk found: the file acquisition opens must be this one.
    pub dev: u64,
    pub ino: u64,
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// A walked file as a collect candidate, or skipped when over the size cap (on its apparent
/// size) or mostly holes ([`crate::source::sparse`]).
fn candidate(file: WalkedFile, role: Role, max_file_size: u64) -> Result<Candidate, SkippedPath> {
    let size = file.stat.size;
    let skip = |reason| {
        Err(SkippedPath {
            path: file.path.clone(),
            reason,
        })
    };
    if size > max_file_size {
        return skip(SkipReason::TooLarge {
            size,
            max: max_file_size,
        });
    }
    if crate::source::sparse::looks_sparse(size, file.allocated) {
        let opened = crate::source::open::open_walked(&file.path, file.stat.dev, file.stat.inode);
        if opened.is_ok_and(|(f, _)| crate::source::sparse::has_holes(&f, size)) {
            return skip(SkipReason::Sparse {
                size,
                allocated: file.allocated,
            });
        }
    }
    Ok(Candidate {
        path: file.path,
        size,
        role,
        dev: file.stat.dev,
        ino: file.stat.inode,
    })
}

/// Walks `collect`'s inputs (absolute paths; an input that is a link is skipped, not followed)
/// and the optional case file. Candidates come back sorted by path bytes and de-duplicated (a
/// path given twice is read once; the case-file role wins); skipped paths are sorted too.
pub fn collect_candidates(
    inputs: &[PathBuf],
    case_file: Option<&Path>,
    max_file_size: u64,
) -> (Vec<Candidate>, Vec<SkippedPath>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut take = |e: WalkEntry, role: Role| match e {
        WalkEntry::File(file) => match candidate(file, role, max_file_size) {
            Ok(c) => found.push(c),
            Err(s) => skipped.push(s),
        },
        WalkEntry::Skipped(s) => skipped.push(s),
    };
    if let Some(cf) = case_file {
        let p = absolute(cf);
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            let kind = SpecialKind::Other;
            take(
                self::skipped(p, SkipReason::SpecialFile { kind }),
                Role::CaseFile,
            );
        } else {
            walk_root(&p, false, &mut |e| take(e, Role::CaseFile));
        }
    }
    let roots: Vec<PathBuf> = inputs.iter().map(|p| absolute(p)).collect();
    walk_entries(&roots, false, |e| take(e, Role::Source));
    use std::os::unix::ffi::OsStrExt;
    found.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
            .then(b.role.cmp(&a.role))
    });
    found.dedup_by(|a, b| a.path == b.path);
    (found, skipped)
}

/// Serialises a path as text (lossy for non-UTF-8 names; `RecordedPath` keeps the raw bytes
/// where evidence needs them).
pub fn serialize_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_inside_inputs_are_reported_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.sec"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.pub"), b"y").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let w = walk_inputs(&[dir.path().to_path_buf(), dir.path().join("nope")]);
        let names: Vec<_> = w.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(names, vec![dir.path().join("a.pub")]);
        assert_eq!(w.skipped.len(), 2);
        assert_eq!(w.skipped[0].path, dir.path().join("link"));
        assert_eq!(
            w.skipped[0].reason,
            SkipReason::Symlink {
                target: Some(outside.path().to_owned())
            }
        );
        assert_eq!(w.skipped[1].path, dir.path().join("nope"));
        assert!(matches!(w.skipped[1].reason, SkipReason::Missing { .. }));
        assert!(w.has_missing_input());
        // The JSON form keys and scope print carries the tag only.
        assert_eq!(
            serde_json::to_string(&w.skipped[0]).unwrap(),
            format!(
                r#"{{"path":"{}","reason":"symlink"}}"#,
                w.skipped[0].path.display()
            )
        );
    }

    #[test]
    fn collect_records_symlinks_and_loops_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.wasm"), b"\0asm").unwrap();
        std::os::unix::fs::symlink(d.join("loop2"), d.join("loop1")).unwrap();
        std::os::unix::fs::symlink(d.join("loop1"), d.join("loop2")).unwrap();
        std::os::unix::fs::symlink("/etc", d.join("outside")).unwrap();
        std::os::unix::fs::symlink(d, d.join("self")).unwrap();
        let (found, skipped) = collect_candidates(&[d.to_owned()], None, 1 << 20);
        assert_eq!(found.len(), 1);
        assert_eq!(skipped.len(), 4);
        let texts: Vec<String> = skipped.iter().map(|s| s.reason.evidence_text()).collect();
        assert!(texts.iter().all(|s| s.starts_with("symbolic link")));
        assert!(texts.iter().any(|s| s.contains("/etc")));
    }

    #[test]
    fn collect_size_cap_and_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.bin");
        std::fs::write(&f, vec![0u8; 100]).unwrap();
        let (found, skipped) = collect_candidates(&[f.clone(), f.clone()], None, 99);
        assert!(found.is_empty());
        // The same path given twice is skipped twice; collect de-duplicates the records.
        assert!(skipped
            .iter()
            .all(|s| s.reason.evidence_text().contains("over the size cap")));
        let (found, _) = collect_candidates(&[f.clone(), f.clone()], Some(&f), 1000);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].role, Role::CaseFile);
    }
}
