//! Opening a source file to read it: a symbolic link in the last component is never followed
//! and a FIFO swapped in never blocks the run. Every reader of sources (collect, keys, scope's
//! sniffing) opens through here, so the policy exists once.

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Opens a path for reading with `O_NOFOLLOW` (a symlink swapped in after the walk fails to
/// open instead of being followed) and `O_NONBLOCK` (a FIFO swapped in never blocks the run).
pub fn open_source(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}

/// Why a walked file could not be opened as the file the walk found.
#[derive(Debug)]
pub enum OpenWalkedError {
    Io(io::Error),
    /// The last component is now a symbolic link (`O_NOFOLLOW` refused it).
    BecameLink,
    /// The path now leads to another inode: a file or a directory on the way was replaced.
    OtherInode {
        walked: (u64, u64),
        now: (u64, u64),
    },
}

impl std::fmt::Display for OpenWalkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenWalkedError::Io(e) => write!(f, "unreadable: {e}"),
            OpenWalkedError::BecameLink => {
                f.write_str("became a symbolic link before it was opened")
            }
            OpenWalkedError::OtherInode { walked, now } => write!(
                f,
                "changed during the walk: the path leads to inode {}:{}, the walk found {}:{} \
                 (a file or directory on the path was replaced); not followed",
                now.0, now.1, walked.0, walked.1
            ),
        }
    }
}

/// Opens a file the walk found ([`open_source`]) and checks it is the same inode (`dev`, `ino`
/// from the walk's anchored `lstat`): a directory on the path swapped for a link to somewhere
/// else makes the open reach another inode, which is refused, never read. A path that is a link
/// (an input the examiner named, which `keys` and `scope` follow) is opened through it only to
/// reach that same inode.
pub fn open_walked(
    path: &Path,
    dev: u64,
    ino: u64,
) -> Result<(File, std::fs::Metadata), OpenWalkedError> {
    use std::os::unix::fs::MetadataExt;
    let file = match open_source(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            let followed = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open(path);
            return match followed.and_then(|f| f.metadata().map(|m| (f, m))) {
                Ok((f, md)) if (md.dev(), md.ino()) == (dev, ino) => Ok((f, md)),
                _ => Err(OpenWalkedError::BecameLink),
            };
        }
        Err(e) => return Err(OpenWalkedError::Io(e)),
    };
    let md = file.metadata().map_err(OpenWalkedError::Io)?;
    if (md.dev(), md.ino()) != (dev, ino) {
        return Err(OpenWalkedError::OtherInode {
            walked: (dev, ino),
            now: (md.dev(), md.ino()),
        });
    }
    Ok((file, md))
}
