//! Reading a small input file whole (key files, detached signatures, case files) without trusting
//! it: only a regular file is opened (a FIFO would block, a device like `/dev/zero` never ends),
//! and never more than the caller's limit is read, even if the file grows after it was checked.

use std::io::Read;
use std::path::Path;

/// Why a bounded read failed.
#[derive(Debug, thiserror::Error)]
pub enum BoundedReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file (a {0}): refused so that reading cannot block or never end")]
    NotRegularFile(&'static str),
    /// `size` is the size found: the stat size, or `max + 1` when the file grew while read.
    #[error("{size} bytes, more than the {max}-byte limit")]
    TooLarge { size: u64, max: u64 },
}

/// What a non-regular file is, for the error.
pub fn file_type_name(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_symlink() {
        "symbolic link"
    } else {
        "special file"
    }
}

/// Reads `path` (symlinks followed) if it is a regular file of at most `max` bytes.
pub fn read_regular_file(path: &Path, max: u64) -> Result<Vec<u8>, BoundedReadError> {
    // Checked before opening: opening a FIFO for reading blocks until a writer appears.
    let md = std::fs::metadata(path)?;
    if !md.is_file() {
        return Err(BoundedReadError::NotRegularFile(file_type_name(
            md.file_type(),
        )));
    }
    if md.len() > max {
        return Err(BoundedReadError::TooLarge {
            size: md.len(),
            max,
        });
    }
    let file = std::fs::File::open(path)?;
    // The path may have been swapped between the stat and the open.
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        return Err(BoundedReadError::NotRegularFile(file_type_name(ft)));
    }
    let mut bytes = Vec::with_capacity(md.len() as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(BoundedReadError::TooLarge { size: max + 1, max });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_inclusive_and_special_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, [7u8; 10]).unwrap();
        assert_eq!(read_regular_file(&f, 10).unwrap(), vec![7u8; 10]);
        assert!(matches!(
            read_regular_file(&f, 9),
            Err(BoundedReadError::TooLarge { size: 10, max: 9 })
        ));
        assert!(matches!(
            read_regular_file(dir.path(), 10),
            Err(BoundedReadError::NotRegularFile("directory"))
        ));
        assert!(matches!(
            read_regular_file(Path::new("/dev/zero"), 10),
            Err(BoundedReadError::NotRegularFile("character device"))
        ));
    }
}
