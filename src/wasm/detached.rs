//! Detached signatures (docs/wsc-formats.md §6): a file holding exactly the `signature` section
//! payload, read with its size limit. Found next to a module by
//! [`crate::source::detached::next_to`] or given with `-S`; with one, key-based hashes cover
//! every section of the module.

use std::path::Path;

/// Largest detached signature file read (the signature-payload cap).
pub const MAX_DETACHED_LEN: u64 = super::scanner::MAX_SIGNATURE_PAYLOAD;

/// Errors reading a detached signature file.
#[derive(Debug, thiserror::Error)]
pub enum DetachedError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: {size} bytes, more than the {max}-byte signature limit")]
    TooLarge { file: String, size: u64, max: u64 },
}

/// Reads a detached signature file: a regular file of at most [`MAX_DETACHED_LEN`] bytes (a FIFO
/// or a device given as `-S` is refused, never read).
pub fn read(path: &Path) -> Result<Vec<u8>, DetachedError> {
    use crate::io::bounded_read::{read_regular_file, BoundedReadError};
    let file = path.display().to_string();
    read_regular_file(path, MAX_DETACHED_LEN).map_err(|e| match e {
        BoundedReadError::TooLarge { size, max } => DetachedError::TooLarge { file, size, max },
        BoundedReadError::Io(source) => DetachedError::Io { file, source },
        e @ BoundedReadError::NotRegularFile(_) => DetachedError::Io {
            file,
            source: std::io::Error::other(e.to_string()),
        },
    })
}
