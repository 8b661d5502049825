//! Sparse files: a file whose apparent size is far larger than what the filesystem allocated is
//! mostly holes, and copying it would store its apparent size in zeros (a 20 GB sparse file
//! under the 64 GiB cap would be read and copied in full). `collect` records such a file as not
//! collected, with both sizes, instead of copying it. The size cap (`--max-file-size`) applies
//! to the apparent size, the number of bytes a copy would hold.

use std::fs::File;

/// Holes below this many bytes (apparent minus allocated) never make a file "sparse": small
/// holes cost little to copy, and filesystems round allocations.
pub const SPARSE_MIN_HOLE_BYTES: u64 = 64 << 20;

/// Whether the sizes alone say "mostly holes" (the allocated size is less than half the
/// apparent size, by at least [`SPARSE_MIN_HOLE_BYTES`]). Compressed filesystems also allocate
/// less than the apparent size, so [`has_holes`] confirms.
pub fn looks_sparse(size: u64, allocated: u64) -> bool {
    size.saturating_sub(allocated) >= SPARSE_MIN_HOLE_BYTES && allocated < size / 2
}

/// Whether the file has a hole before its end (`SEEK_HOLE`; a filesystem without hole support
/// reports none).
pub fn has_holes(file: &File, size: u64) -> bool {
    rustix::fs::seek(file, rustix::fs::SeekFrom::Hole(0)).is_ok_and(|first| first < size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_file_is_all_hole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sparse");
        let f = File::create(&p).unwrap();
        f.set_len(1 << 30).unwrap();
        let md = f.metadata().unwrap();
        use std::os::unix::fs::MetadataExt;
        assert!(looks_sparse(md.size(), md.blocks() * 512));
        assert!(has_holes(&File::open(&p).unwrap(), md.size()));
        let dense = dir.path().join("dense");
        std::fs::write(&dense, vec![1u8; 4096]).unwrap();
        assert!(!has_holes(&File::open(&dense).unwrap(), 4096));
        assert!(!looks_sparse(4096, 4096));
    }
}
