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
