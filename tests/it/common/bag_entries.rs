//! A bundle's zip as a list of (name, bytes) entries, rewritten as a new well-formed zip (valid
//! CRCs, stored): for tests that alter only the bag's content.

use std::io::{Read, Write};
use std::path::Path;

pub type Entries = Vec<(String, Vec<u8>)>;

pub fn read_entries(zip: &Path) -> Entries {
    let mut za = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    (0..za.len())
        .map(|i| {
            let mut f = za.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

/// Writes `entries` as a new, well-formed zip (valid CRCs): only the bag content is altered.
pub fn write_entries(zip: &Path, entries: &Entries) {
    let mut zw = zip::ZipWriter::new(std::fs::File::create(zip).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (name, bytes) in entries {
        zw.start_file(name.as_str(), opts).unwrap();
        zw.write_all(bytes).unwrap();
    }
    zw.finish().unwrap();
}

/// The bytes of the first entry whose name ends with `suffix`.
pub fn entry<'a>(e: &'a mut Entries, suffix: &str) -> &'a mut Vec<u8> {
    &mut e.iter_mut().find(|(n, _)| n.ends_with(suffix)).unwrap().1
}
