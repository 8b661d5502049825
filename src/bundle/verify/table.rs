//! The entry table every verify phase reads: the archive type, the bag's named files by zip
//! index, each entry's role flags and, once hashed, its digest and kept bytes.

use super::evidence::EvidenceRead;
use super::manifests::ManifestRead;
use super::Problem;
use crate::bundle::bagit::{BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME, TAG_MANIFEST_NAME};
use crate::bundle::reader::MAX_METADATA_BYTES;
use crate::bundle::signature::SIGNATURE_NAME;
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::hashing::HashingReader;
use crate::io::pread::PreadFile;
use crate::model::digest::Sha256Digest;
use std::io::{self, Read};
use zip::ZipArchive;

pub(super) type Zip = ZipArchive<PreadFile>;

/// The bag's named files, by zip index (accepted entries only).
pub(super) struct Located {
    pub manifest: Option<usize>,
    pub tag_manifest: Option<usize>,
    pub evidence: Option<usize>,
    pub custody: Option<usize>,
    pub bagit: Option<usize>,
    pub bag_info: Option<usize>,
    pub signature: Option<usize>,
}

impl Located {
    pub fn find(names: &Names, flags: &[u8]) -> Self {
        let at = |rel: &str| names.index(rel).filter(|&i| flags[i] & ACCEPTED != 0);
        Located {
            manifest: at(MANIFEST_NAME),
            tag_manifest: at(TAG_MANIFEST_NAME),
            evidence: at(EVIDENCE_PATH),
            custody: at(CUSTODY_PATH),
            bagit: at(BAGIT_TXT_NAME),
            bag_info: at(BAG_INFO_NAME),
            signature: at(SIGNATURE_NAME),
        }
    }
}

/// Metadata entries small enough to parse (the rest are hashed only, and named too large).
pub(super) fn loadable(names: &Names, i: usize) -> bool {
    names.size(i) <= MAX_METADATA_BYTES
}

/// Reads entry `index` through `parse` (which may stop early), then to its end, hashing every
/// byte once: the digest and what `parse` made of the bytes, or the problem that made the
/// entry unreadable. The zip crate stops at the declared size and checks the CRC at the end.
pub(super) fn read_entry<T>(
    za: &mut Zip,
    index: usize,
    entry: &str,
    declared: u64,
    buf: &mut [u8],
    parse: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<(Sha256Digest, T), Problem> {
    let unreadable = |e: &dyn std::fmt::Display| Problem::EntryUnreadable {
        entry: entry.to_owned(),
        message: e.to_string(),
    };
    let f = za.by_index(index).map_err(|e| unreadable(&e))?;
    let mut h = HashingReader::new(f);
    let parsed = parse(&mut h).map_err(|e| unreadable(&e))?;
    h.drain(buf).map_err(|e| unreadable(&e))?;
    let (digest, total) = h.finish();
    if total != declared {
        return Err(Problem::SizeMismatch {
            entry: entry.to_owned(),
            declared,
            actual: total,
        });
    }
    Ok((digest, parsed))
}

/// Entry names by bag path, through the zip crate's own name index (no second copy).
pub(super) struct Names<'a> {
    pub za: &'a Zip,
    pub prefix: &'a str,
}

impl Names<'_> {
    pub fn index(&self, rel: &str) -> Option<usize> {
        let mut name = String::with_capacity(self.prefix.len() + rel.len());
        name.push_str(self.prefix);
        name.push_str(rel);
        self.za.index_for_name_raw(name.as_bytes())
    }

    /// The zip entry name of entry `index`.
    pub fn name(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| String::from_utf8_lossy(e.name_raw()).into_owned())
            .unwrap_or_default()
    }

    /// The bag path of entry `index` (its name less the bag folder).
    pub fn rel(&self, index: usize) -> String {
        self.za
            .by_index_data(index)
            .map(|e| {
                let raw = e.name_raw();
                String::from_utf8_lossy(raw.get(self.prefix.len()..).unwrap_or(raw)).into_owned()
            })
            .unwrap_or_default()
    }

    pub fn size(&self, index: usize) -> u64 {
        self.za.by_index_data(index).map_or(0, |e| e.size())
    }
}

/// Per-entry flags.
pub(super) const ACCEPTED: u8 = 1;
pub(super) const PAYLOAD: u8 = 2;
pub(super) const HASHED: u8 = 4;
pub(super) const UNREADABLE: u8 = 8;

/// Results of the hashing stage, per entry (by zip index).
pub(super) struct Hashes {
    pub flags: Vec<u8>,
    pub digests: Vec<Sha256Digest>,
    /// Entries that could not be read, by zip index.
    pub problems: Vec<(usize, Problem)>,
    /// Bytes of the small tag files (bagit.txt, bag-info.txt, the signature), kept to be
    /// parsed next; the big metadata files are parsed while hashed instead.
    pub kept: Vec<(usize, Vec<u8>)>,
    pub evidence: Option<EvidenceRead>,
    pub custody: Option<Option<(usize, String)>>,
    pub manifest: ManifestRead,
    pub tag_manifest: ManifestRead,
}

impl Hashes {
    pub fn record<T>(&mut self, index: usize, r: Result<(Sha256Digest, T), Problem>) -> Option<T> {
        match r {
            Ok((d, v)) => {
                self.flags[index] |= HASHED;
                self.digests[index] = d;
                Some(v)
            }
            Err(p) => {
                self.flags[index] |= UNREADABLE;
                self.problems.push((index, p));
                None
            }
        }
    }

    pub fn unreadable(&self, index: Option<usize>) -> bool {
        index.is_some_and(|i| self.flags[i] & UNREADABLE != 0)
    }

    pub fn kept(&self, index: Option<usize>) -> Option<&[u8]> {
        let i = index?;
        self.kept
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, b)| b.as_slice())
    }
}
