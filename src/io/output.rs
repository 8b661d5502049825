//! Creating output files (reports, timelines, the demo, key baselines) without ever following a
//! link: the output directory is opened once with `O_NOFOLLOW`, each file is written to a fresh
//! temp file inside it (`O_CREAT | O_EXCL | O_NOFOLLOW`) and renamed into place relative to that
//! directory handle. A link planted at the output name is never written through: it is an
//! "already exists" error, or with `force` it is itself replaced by the new file.

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// An output that could not be created; each names the path.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: already exists (use --force to replace it)")]
    Exists { path: PathBuf },
    #[error("{path}: is a symbolic link; refusing to write through it")]
    Symlink { path: PathBuf },
    #[error("{path}: not a plain file name inside the output directory")]
    BadName { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

impl OutputError {
    fn io(path: impl Into<PathBuf>, e: impl Into<io::Error>) -> Self {
        OutputError::Io {
            path: path.into(),
            source: e.into(),
        }
    }
}

/// An output directory, held open so every file is created inside the directory that was
/// checked, whatever happens to its path afterwards.
#[derive(Debug)]
pub struct OutputDir {
    fd: OwnedFd,
    path: PathBuf,
}

/// Serial of temp files made by this process (with the pid, a unique name).
static TEMP_SERIAL: AtomicU64 = AtomicU64::new(0);

impl OutputDir {
    /// Opens `path` as the output directory, creating it (and missing parents) first. The last
    /// component must be a real directory, not a symbolic link to one.
    pub fn create(path: &Path) -> Result<Self, OutputError> {
        std::fs::create_dir_all(path).map_err(|e| OutputError::io(path, e))?;
        Self::open(path)
    }

    /// Opens an existing directory `path` (last component not followed).
    pub fn open(path: &Path) -> Result<Self, OutputError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(rustix::fs::CWD, path, flags, Mode::empty()) {
            Ok(fd) => Ok(OutputDir {
                fd,
                path: path.to_path_buf(),
            }),
            Err(e) if e == rustix::io::Errno::LOOP || e == rustix::io::Errno::NOTDIR => {
                if is_symlink_at(rustix::fs::CWD, path) {
                    Err(OutputError::Symlink {
                        path: path.to_path_buf(),
                    })
                } else {
                    Err(OutputError::io(path, e))
                }
            }
            Err(e) => Err(OutputError::io(path, e)),
        }
    }

    /// The directory's path as given (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens (creating if missing) the sub-directory `name`, never following a link.
    pub fn subdir(&self, name: &str) -> Result<OutputDir, OutputError> {
        let path = self.path.join(name);
        check_name(name, &path)?;
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::EXIST => {}
            Err(e) => return Err(OutputError::io(&path, e)),
        }
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(OutputDir { fd, path }),
            Err(_) if is_symlink_at(&self.fd, name) => Err(OutputError::Symlink { path }),
            Err(e) => Err(OutputError::io(&path, e)),
        }
    }

    /// Starts writing the file `name`: a temp file inside the directory that [`Output::commit`]
    /// renames to `name`. Without `force`, an existing `name` (file, link or anything else) is
    /// an error now and again at the rename, which never replaces.
    pub fn create_file(&self, name: &str, force: bool) -> Result<Output<'_>, OutputError> {
        let path = self.path.join(name);
        check_name(name, &path)?;
        if !force && exists_at(&self.fd, name) {
            return Err(OutputError::Exists { path });
        }
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::CLOEXEC
            | OFlags::NOCTTY;
        loop {
            let serial = TEMP_SERIAL.fetch_add(1, Ordering::Relaxed);
            let temp = format!(".{name}.{}-{serial}.tmp", std::process::id());
            match rustix::fs::openat(&self.fd, &temp, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => {
                    return Ok(Output {
                        dir: self,
                        file: Some(File::from(fd)),
                        temp,
                        name: name.to_owned(),
                        force,
                    })
                }
                // A leftover from an earlier process with the same pid: try the next name.
                Err(e) if e == rustix::io::Errno::EXIST => continue,
                Err(e) => return Err(OutputError::io(self.path.join(&temp), e)),
            }
        }
    }

    /// Writes `bytes` as the file `name` (see [`OutputDir::create_file`]); returns its path.
    pub fn write_file(
        &self,
        name: &str,
        bytes: &[u8],
        force: bool,
    ) -> Result<PathBuf, OutputError> {
        let mut out = self.create_file(name, force)?;
        out.write_all(bytes)
            .map_err(|e| OutputError::io(self.path.join(name), e))?;
        out.commit()
    }
}

/// One file to be written at a path the user gave: its directory, held open (the directory's
/// last component not followed), and its name in it.
#[derive(Debug)]
pub struct OutputPath {
    dir: OutputDir,
    name: String,
}

impl OutputPath {
    /// Opens the directory of `path` (it must exist); `path` must end in a plain file name.
    pub fn open(path: &Path) -> Result<Self, OutputError> {
        let name =
            path.file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| OutputError::BadName {
                    path: path.to_path_buf(),
                })?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Ok(OutputPath {
            dir: OutputDir::open(parent)?,
            name: name.to_owned(),
        })
    }

    /// Starts writing the file (see [`OutputDir::create_file`]).
    pub fn create(&self, force: bool) -> Result<Output<'_>, OutputError> {
        self.dir.create_file(&self.name, force)
    }
}

/// Creates the single file `path` (its directory must exist; the directory's last component is
/// not followed, nor is `path` itself); `fill` writes its content.
pub fn write_new_file(
    path: &Path,
    force: bool,
    fill: impl FnOnce(&mut Output<'_>) -> io::Result<()>,
) -> Result<PathBuf, OutputError> {
    let target = OutputPath::open(path)?;
    let mut out = target.create(force)?;
    fill(&mut out).map_err(|e| OutputError::io(path, e))?;
    out.commit()?;
    Ok(path.to_path_buf())
}

/// One output file being written: a temp file that becomes the named file on
/// [`Output::commit`], and disappears if dropped before.
#[derive(Debug)]
pub struct Output<'d> {
    dir: &'d OutputDir,
    file: Option<File>,
    temp: String,
    name: String,
    force: bool,
}

impl Output<'_> {
    /// The open temp file (to set its mode or times before it is committed).
    pub fn file(&self) -> &File {
        self.file.as_ref().expect("file present until commit")
    }

    /// Flushes the file to disk and renames it to its name; returns the final path.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let path = self.dir.path.join(&self.name);
        let file = self.file.take().expect("file present until commit");
        file.sync_all().map_err(|e| OutputError::io(&path, e))?;
        drop(file);
        let flags = if self.force {
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        let renamed =
            rustix::fs::renameat_with(&self.dir.fd, &self.temp, &self.dir.fd, &self.name, flags);
        match renamed {
            Ok(()) => {
                self.temp.clear();
                Ok(path)
            }
            Err(e) if e == rustix::io::Errno::EXIST => Err(OutputError::Exists { path }),
            Err(e) => Err(OutputError::io(&path, e)),
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("output already committed"))?
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for Output<'_> {
    fn drop(&mut self) {
        if !self.temp.is_empty() {
            // Best effort: an uncommitted temp file is never the output.
            let _ = rustix::fs::unlinkat(&self.dir.fd, &self.temp, AtFlags::empty());
        }
    }
}

/// An output name is one plain path component.
fn check_name(name: &str, path: &Path) -> Result<(), OutputError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(OutputError::BadName {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn exists_at(dir: impl std::os::fd::AsFd, name: &str) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
}

fn is_symlink_at(dir: impl std::os::fd::AsFd, name: impl rustix::path::Arg) -> bool {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_is_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("r.md")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("nowhere"), out.join("d.md")).unwrap();
        let dir = OutputDir::open(&out).unwrap();

        let e = dir.write_file("r.md", b"new", false).unwrap_err();
        assert!(matches!(e, OutputError::Exists { .. }), "{e}");
        assert!(e.to_string().contains("r.md") && e.to_string().contains("--force"));
        assert!(dir.write_file("d.md", b"new", false).is_err());
        assert!(!tmp.path().join("nowhere").exists());

        // With force the link itself is replaced, not followed.
        dir.write_file("r.md", b"new", true).unwrap();
        dir.write_file("d.md", b"new", true).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!tmp.path().join("nowhere").exists());
        assert_eq!(std::fs::read(out.join("r.md")).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(out.join("r.md"))
            .unwrap()
            .file_type()
            .is_symlink());
        // No temp file is left behind.
        let names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_linked_output_directory_is_refused_and_names_stay_inside() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let e = OutputDir::create(&link).unwrap_err();
        assert!(matches!(e, OutputError::Symlink { .. }), "{e}");
        let dir = OutputDir::open(&real).unwrap();
        std::os::unix::fs::symlink(tmp.path(), real.join("sub")).unwrap();
        assert!(matches!(
            dir.subdir("sub").unwrap_err(),
            OutputError::Symlink { .. }
        ));
        assert!(matches!(
            dir.write_file("../x", b"", true).unwrap_err(),
            OutputError::BadName { .. }
        ));
        // Dropping an uncommitted output leaves nothing.
        drop(dir.create_file("gone", false).unwrap());
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 1);
    }

    #[test]
    fn a_single_file_output_is_created_once() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("t.csv");
        write_new_file(&p, false, |w| w.write_all(b"a")).unwrap();
        let e = write_new_file(&p, false, |w| w.write_all(b"b")).unwrap_err();
        assert!(e.to_string().contains("t.csv"), "{e}");
        write_new_file(&p, true, |w| w.write_all(b"c")).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"c");
    }
}
