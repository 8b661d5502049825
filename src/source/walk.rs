//! The one walk over command-line inputs, behind `collect`, `keys` and `scope`: regular files
//! come out with their `lstat`; everything else is a [`SkippedPath`] with one typed
//! [`SkipReason`]. Symbolic links inside the inputs are never followed (no loops, nothing outside
//! the inputs); FIFOs, sockets and devices are never opened. Nothing aborts the walk.

use crate::model::evidence::{NotCollected, RecordedPath};
use serde::Serialize;
use std::fs::Metadata;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// A regular file found under an input.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// Input as given, joined with the path inside it.
    pub path: PathBuf,
    /// `lstat` metadata taken during the walk.
    pub metadata: Metadata,
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
    fn of(md: &Metadata) -> Self {
        let ft = md.file_type();
        if ft.is_fifo() {
            SpecialKind::Fifo
        } else if ft.is_socket() {
            SpecialKind::Socket
        } else if ft.is_char_device() {
            SpecialKind::CharDevice
        } else if ft.is_block_device() {
            SpecialKind::BlockDevice
        } else {
            SpecialKind::Other
        }
    }
}

/// Why a path met by the walk was not taken. Serialised (for `keys` and `scope --json`) as a
/// `reason` tag; the details that only evidence records (link target, error of a missing input,
/// kind of special file) are not part of that form.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
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
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct SkippedPath {
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    #[serde(flatten)]
    pub reason: SkipReason,
}

impl SkippedPath {
    /// The evidence record of a skipped path.
    pub fn not_collected(&self) -> NotCollected {
        NotCollected {
            path: RecordedPath::from_path(&self.path),
            reason: self.reason.evidence_text(),
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

/// The reason a non-regular, non-directory entry is skipped.
fn not_regular(path: &Path, md: &Metadata) -> SkipReason {
    if md.file_type().is_symlink() {
        SkipReason::Symlink {
            target: std::fs::read_link(path).ok(),
        }
    } else {
        SkipReason::SpecialFile {
            kind: SpecialKind::of(md),
        }
    }
}

/// The one traversal: every input, directories walked recursively in name order, symbolic links
/// inside them never followed. `follow_root_links`: whether an input that is itself a link is
/// followed (`keys`, `scope`: the examiner named it) or skipped like any other link (`collect`).
pub fn walk_entries(inputs: &[PathBuf], follow_root_links: bool, mut f: impl FnMut(WalkEntry)) {
    for input in inputs {
        let exists = if follow_root_links {
            std::fs::metadata(input).or_else(|_| std::fs::symlink_metadata(input))
        } else {
            std::fs::symlink_metadata(input)
        };
        if let Err(e) = exists {
            f(skipped(
                input.clone(),
                SkipReason::Missing {
                    error: e.to_string(),
                },
            ));
            continue;
        }
        let walker = walkdir::WalkDir::new(input)
            .follow_links(false)
            .follow_root_links(follow_root_links)
            .sort_by_file_name();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().unwrap_or(input).to_path_buf();
                    let error = e
                        .io_error()
                        .map(|io| io.to_string())
                        .unwrap_or_else(|| e.to_string());
                    f(skipped(path, SkipReason::Unreadable { error }));
                    continue;
                }
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let path = entry.path().to_path_buf();
            match entry.metadata() {
                Ok(metadata) if entry.file_type().is_file() => {
                    f(WalkEntry::File(WalkedFile { path, metadata }))
                }
                Ok(md) => {
                    let reason = not_regular(&path, &md);
                    f(skipped(path, reason))
                }
                Err(e) => f(skipped(
                    path,
                    SkipReason::Unreadable {
                        error: e.to_string(),
                    },
                )),
            }
        }
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
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_owned())
}

/// A walked file as a collect candidate, or skipped when over the size cap.
fn candidate(file: WalkedFile, role: Role, max_file_size: u64) -> Result<Candidate, SkippedPath> {
    let size = file.metadata.len();
    if size > max_file_size {
        return Err(SkippedPath {
            path: file.path,
            reason: SkipReason::TooLarge {
                size,
                max: max_file_size,
            },
        });
    }
    Ok(Candidate {
        path: file.path,
        size,
        role,
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
        match std::fs::symlink_metadata(&p) {
            Ok(metadata) if metadata.file_type().is_file() => take(
                WalkEntry::File(WalkedFile { path: p, metadata }),
                Role::CaseFile,
            ),
            Ok(md) => {
                let reason = not_regular(&p, &md);
                take(self::skipped(p, reason), Role::CaseFile)
            }
            Err(e) => take(
                self::skipped(
                    p,
                    SkipReason::Missing {
                        error: e.to_string(),
                    },
                ),
                Role::CaseFile,
            ),
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
