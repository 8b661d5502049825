//! Walking command-line inputs for regular files without following symbolic links: the shared
//! front end of `keys` and `scope`. Paths are the inputs as given joined with the path inside the
//! folder, so output lines can be fed back to a shell loop unchanged.

use serde::Serialize;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// A regular file found under an input.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// Input as given, joined with the path inside it.
    pub path: PathBuf,
    /// `lstat` metadata taken during the walk.
    pub metadata: Metadata,
}

/// Why a path under the inputs was not looked at.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum SkipReason {
    /// An input named on the command line does not exist.
    Missing,
    /// A symbolic link inside an input: never followed, so the walk cannot leave its inputs.
    Symlink,
    /// FIFO, socket or device: reading it could block or has no stable content.
    SpecialFile,
    /// The directory entry or file could not be read.
    Unreadable { error: String },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Missing => f.write_str("does not exist"),
            SkipReason::Symlink => f.write_str("symbolic link, not followed"),
            SkipReason::SpecialFile => f.write_str("not a regular file"),
            SkipReason::Unreadable { error } => write!(f, "unreadable: {error}"),
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
        self.skipped.iter().any(|s| s.reason == SkipReason::Missing)
    }
}

/// One entry met by [`walk_entries`].
pub enum WalkEntry {
    /// A regular file, with its `lstat` metadata.
    File(PathBuf, Metadata),
    /// Anything else that is not a directory (symbolic link, FIFO, socket, device), unfollowed.
    Other(PathBuf, Metadata),
    /// An input named on the command line that does not exist.
    Missing(PathBuf, std::io::Error),
    /// An entry that could not be read.
    Unreadable(PathBuf, String),
}

/// The one traversal behind `collect`, `keys` and `scope`: every input, directories walked
/// recursively in name order, symbolic links inside them never followed (so no loops and nothing
/// outside the inputs). `follow_root_links`: whether an input that is itself a link is followed
/// (the examiner named it) or met as an [`WalkEntry::Other`].
pub fn walk_entries(inputs: &[PathBuf], follow_root_links: bool, mut f: impl FnMut(WalkEntry)) {
    for input in inputs {
        let exists = if follow_root_links {
            std::fs::metadata(input).or_else(|_| std::fs::symlink_metadata(input))
        } else {
            std::fs::symlink_metadata(input)
        };
        if let Err(e) = exists {
            f(WalkEntry::Missing(input.clone(), e));
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
                    f(WalkEntry::Unreadable(path, error));
                    continue;
                }
            };
            if entry.file_type().is_dir() {
                continue;
            }
            let path = entry.path().to_path_buf();
            match entry.metadata() {
                Ok(md) if entry.file_type().is_file() => f(WalkEntry::File(path, md)),
                Ok(md) => f(WalkEntry::Other(path, md)),
                Err(e) => f(WalkEntry::Unreadable(path, e.to_string())),
            }
        }
    }
}

/// Walks every input. A file input is taken as is; a directory is walked recursively. Symbolic
/// links inside a directory are reported, not followed (an input that is itself a link is
/// followed: the examiner named it). The same path reached twice is listed once.
pub fn walk_inputs(inputs: &[PathBuf]) -> Walk {
    let mut walk = Walk::default();
    let mut seen = std::collections::HashSet::new();
    walk_entries(inputs, true, |e| match e {
        WalkEntry::File(path, metadata) => {
            if seen.insert(path.clone()) {
                walk.files.push(WalkedFile { path, metadata });
            }
        }
        WalkEntry::Other(path, md) => walk.skipped.push(SkippedPath {
            path,
            reason: if md.file_type().is_symlink() {
                SkipReason::Symlink
            } else {
                SkipReason::SpecialFile
            },
        }),
        WalkEntry::Missing(path, _) => walk.skipped.push(SkippedPath {
            path,
            reason: SkipReason::Missing,
        }),
        WalkEntry::Unreadable(path, error) => walk.skipped.push(SkippedPath {
            path,
            reason: SkipReason::Unreadable { error },
        }),
    });
    walk
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
        assert_eq!(
            w.skipped,
            vec![
                SkippedPath {
                    path: dir.path().join("link"),
                    reason: SkipReason::Symlink
                },
                SkippedPath {
                    path: dir.path().join("nope"),
                    reason: SkipReason::Missing
                },
            ]
        );
        assert!(w.has_missing_input());
    }
}
