//! The hashing phase: every accepted entry streamed once through SHA-256, in parallel, each
//! worker reading the one open file through its own clone of the archive; the manifests,
//! evidence.json and custody.jsonl are parsed while they are hashed, the small tag files kept.

use super::custody::read_custody;
use super::evidence::{item_problem, EvidenceRead};
use super::manifests::{read_listing, ManifestRead};
use super::Problem;
use super::*;
use crate::bundle::reader::{scan_evidence_index, IndexScan};
use crate::model::digest::{Sha256Digest, STREAM_CHUNK};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// What the hashing stage does with an entry besides hashing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Hash,
    Keep,
    Evidence,
    Custody,
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
    let small_tag_files = [at.bagit, at.bag_info, at.signature, at.timestamp];
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
