//! The hashing phase: every accepted entry streamed once through SHA-256, in parallel, each
//! worker reading the one open file through its own clone of the archive; the manifests,
//! evidence.json and custody.jsonl are parsed while they are hashed, the small tag files kept.

use super::custody::read_custody;
use super::evidence::{item_problem, EvidenceRead};
use super::manifests::{read_listing, ManifestRead};
use super::Problem;
use crate::bundle::bagit::{BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME, TAG_MANIFEST_NAME};
use crate::bundle::reader::{scan_evidence_index, IndexScan, MAX_METADATA_BYTES};
use crate::bundle::signature::SIGNATURE_NAME;
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::hashing::HashingReader;
use crate::io::pread::PreadFile;
use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use rayon::prelude::*;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
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

/// What the hashing stage does with an entry besides hashing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Hash,
    Keep,
    Evidence,
    Custody,
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

/// Hashes every accepted entry (flags from the structure phase): the manifests first (the
/// evidence check reads the payload one), then the rest in parallel, the two big metadata files
/// first. Unreadable entries are problems, in zip order.
pub(super) fn hash_entries(
    za: &Zip,
    names: &Names,
    located: &Located,
    flags: Vec<u8>,
    problems: &mut Vec<Problem>,
) -> Hashes {
    let entries = za.len();
    let mut hashes = Hashes {
        flags,
        digests: vec![Sha256Digest([0; 32]); entries],
        problems: Vec::new(),
        kept: Vec::new(),
        evidence: None,
        custody: None,
        manifest: ManifestRead::Absent,
        tag_manifest: ManifestRead::Absent,
    };
    let mut buf = vec![0u8; STREAM_CHUNK];
    let mut read_manifest = |hashes: &mut Hashes, at: Option<usize>, payload_only: bool| {
        let Some(i) = at.filter(|&i| loadable(names, i)) else {
            return (ManifestRead::Absent, None);
        };
        let mut reader = za.clone();
        let r = read_entry(
            &mut reader,
            i,
            &names.name(i),
            names.size(i),
            &mut buf,
            |r| read_listing(r, names, payload_only),
        );
        (hashes.record(i, r).unwrap_or(ManifestRead::Absent), Some(i))
    };
    let (manifest, manifest_read) = read_manifest(&mut hashes, located.manifest, true);
    let (tag_manifest, tag_manifest_read) = read_manifest(&mut hashes, located.tag_manifest, false);
    drop(buf);
    let jobs = jobs(names, located, &hashes, [manifest_read, tag_manifest_read]);
    let mut hashes = hash_in_parallel(za, names, &jobs, hashes, manifest.listing());
    hashes.manifest = manifest;
    hashes.tag_manifest = tag_manifest;
    hashes.problems.sort_by_key(|(i, _)| *i);
    problems.extend(hashes.problems.drain(..).map(|(_, p)| p));
    hashes
}

/// The parallel jobs: evidence.json and custody.jsonl first (parsed while hashed), then every
/// other accepted entry not read yet (the small tag files kept).
fn jobs(
    names: &Names,
    at: &Located,
    hashes: &Hashes,
    done: [Option<usize>; 2],
) -> Vec<(usize, Role)> {
    let mut jobs: Vec<(usize, Role)> = Vec::new();
    for (at, role) in [(at.evidence, Role::Evidence), (at.custody, Role::Custody)] {
        if let Some(i) = at.filter(|&i| loadable(names, i)) {
            jobs.push((i, role));
        }
    }
    let special: Vec<usize> = jobs
        .iter()
        .map(|(i, _)| *i)
        .chain(done.into_iter().flatten())
        .collect();
    let small_tag_files = [at.bagit, at.bag_info, at.signature];
    for i in 0..hashes.flags.len() {
        if hashes.flags[i] & ACCEPTED == 0 || special.contains(&i) {
            continue;
        }
        let role = if small_tag_files.contains(&Some(i)) && loadable(names, i) {
            Role::Keep
        } else {
            Role::Hash
        };
        jobs.push((i, role));
    }
    jobs
}

fn hash_in_parallel(
    za: &Zip,
    names: &Names,
    jobs: &[(usize, Role)],
    hashes: Hashes,
    manifest_listing: Option<&super::manifests::Listing>,
) -> Hashes {
    let next = AtomicUsize::new(0);
    let shared = Mutex::new(hashes);
    let workers = rayon::current_num_threads().max(1).min(jobs.len().max(1));
    (0..workers).into_par_iter().with_max_len(1).for_each(|_| {
        let mut reader = za.clone();
        let mut buf = vec![0u8; STREAM_CHUNK];
        while let Some(&(i, role)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            let size = names.size(i);
            let entry = names.name(i);
            let r = &mut reader;
            match role {
                Role::Hash => {
                    let r = read_entry(r, i, &entry, size, &mut buf, |_| Ok(()));
                    lock(&shared).record(i, r);
                }
                Role::Keep => {
                    let r = read_entry(r, i, &entry, size, &mut buf, |r| {
                        let mut bytes = Vec::new();
                        r.read_to_end(&mut bytes).map(|_| bytes)
                    });
                    let mut h = lock(&shared);
                    if let Some(bytes) = h.record(i, r) {
                        h.kept.push((i, bytes));
                    }
                }
                Role::Evidence => {
                    let mut found = Vec::new();
                    let r = read_entry(r, i, &entry, size, &mut buf, |r| {
                        scan_evidence_index(r, |item| {
                            found.extend(item_problem(&item, manifest_listing, names))
                        })
                    });
                    let mut h = lock(&shared);
                    h.evidence = h.record(i, r).map(|scan| match scan {
                        IndexScan::Parsed { case_id } => EvidenceRead::Parsed {
                            case_id,
                            problems: found,
                        },
                        IndexScan::Unsure => EvidenceRead::Unsure,
                    });
                }
                Role::Custody => {
                    let r = read_entry(r, i, &entry, size, &mut buf, read_custody);
                    let mut h = lock(&shared);
                    h.custody = h.record(i, r);
                }
            }
        }
    });
    shared.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
