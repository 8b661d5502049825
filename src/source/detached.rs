//! "The `.sig` next to a module": where wsc users keep a detached signature (`m.wasm.sig`, then
//! `m.sig`). One lookup with one symlink policy, used by `collect`, `inspect` and `scope`: the
//! candidate is judged by `lstat`, so a symbolic link named like a signature is never used,
//! exactly as the walk never collects it.

use std::path::{Path, PathBuf};

/// The detached signature beside `module`, when one is a regular file (not a link to one).
pub fn next_to(module: &Path) -> Option<PathBuf> {
    let mut with_suffix = module.as_os_str().to_owned();
    with_suffix.push(".sig");
    [PathBuf::from(with_suffix), module.with_extension("sig")]
        .into_iter()
        .find(|p| {
            p != module && std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_file())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_suffix_then_stem_sig_and_never_a_link() {
        let m = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/detached-a.wasm");
        assert_eq!(next_to(&m), Some(m.with_extension("sig")));
        let s = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/signed-a.wasm");
        assert_eq!(next_to(&s), None);
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("x.wasm");
        std::fs::write(&m, b"").unwrap();
        std::fs::write(dir.path().join("x.sig"), b"").unwrap();
        std::fs::write(dir.path().join("x.wasm.sig"), b"").unwrap();
        assert_eq!(next_to(&m), Some(dir.path().join("x.wasm.sig")));
        // A link named like the signature is passed over, for the regular file after it.
        std::fs::remove_file(dir.path().join("x.wasm.sig")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("x.sig"), dir.path().join("x.wasm.sig"))
            .unwrap();
        assert_eq!(next_to(&m), Some(dir.path().join("x.sig")));
        std::fs::remove_file(dir.path().join("x.sig")).unwrap();
        std::fs::write(dir.path().join("elsewhere"), b"").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("x.sig")).unwrap();
        assert_eq!(next_to(&m), None);
    }
}
