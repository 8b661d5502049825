//! Detached signatures (docs/wsc-formats.md §6): a file holding exactly the `signature` section
//! payload. Found next to a module (`MODULE.sig`, `<stem>.sig`) or given with `-S`; with one,
//! key-based hashes cover every section of the module.

use std::path::{Path, PathBuf};

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

/// The detached signature wsc users keep next to a module: `m.wasm.sig`, then `m.sig`.
pub fn find_next_to(module: &Path) -> Option<PathBuf> {
    let mut with_suffix = module.as_os_str().to_owned();
    with_suffix.push(".sig");
    let candidates = [PathBuf::from(with_suffix), module.with_extension("sig")];
    candidates.into_iter().find(|p| p != module && p.is_file())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_stem_sig_next_to_the_module() {
        let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/detached-a.wasm");
        assert_eq!(find_next_to(&m), Some(m.with_extension("sig")));
        let s = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/signed-a.wasm");
        assert_eq!(find_next_to(&s), None);
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("x.wasm");
        std::fs::write(&m, b"").unwrap();
        std::fs::write(dir.path().join("x.wasm.sig"), b"").unwrap();
        assert_eq!(find_next_to(&m), Some(dir.path().join("x.wasm.sig")));
    }
}
