//! Scope over directories and module files: the walk feeds the ordered pipeline of
//! [`crate::io::pipeline`] in batches, and answers are handed on in walk order.

use super::*;
use crate::io::pipeline::{run_ordered_fed, Feed, Limits};
use crate::source::walk::{walk_entries, SkippedPath, WalkEntry, WalkedFile};
use crate::wasm::detached;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files handed to a reader at once (one queue operation and one wake-up per batch, not per
/// file).
pub(super) const BATCH: usize = 32;
/// Batches the walk may run ahead of the readers.
pub(super) const WALK_AHEAD: usize = 8;
/// Batches that may wait for a slower earlier one (a large module) before readers pause.
pub(super) const REORDER_WINDOW: u64 = 16;

/// One batch of walked files, and the answers for it (`None`: not a module).
type Batch = Vec<Walked>;
type Answers = Vec<Option<ModuleScope>>;

/// The directory inputs: one thread walks (in name order), `rayon::current_num_threads()`
/// readers scan batches of files, and this thread hands the answers to `emit` in walk order
/// (`None`: not a module). Returns what the walk skipped.
pub(super) fn scope_dirs(
    inputs: &[PathBuf],
    query: &ScopeQuery,
    bar: &indicatif::ProgressBar,
    emit: &mut dyn FnMut(Option<ModuleScope>),
) -> Vec<SkippedPath> {
    if inputs.is_empty() {
        return Vec::new();
    }
    let limits = Limits {
        threads: rayon::current_num_threads(),
        // Each batch costs 1: at most REORDER_WINDOW batches are read and not yet handed on.
        budget: REORDER_WINDOW,
        ahead: WALK_AHEAD,
    };
    let (outcome, skipped) = run_ordered_fed(
        limits,
        |feed: &mut Feed<'_, Batch, Answers>| walk_files(inputs, bar, feed),
        |_| 1,
        |paths: Batch| {
            paths
                .iter()
                .map(|(p, dev, ino)| scope_file(p, (*dev, *ino), query))
                .collect()
        },
        |batches: Vec<Answers>| -> Result<(), std::convert::Infallible> {
            for answers in batches {
                bar.inc(answers.len() as u64);
                answers.into_iter().for_each(&mut *emit);
            }
            Ok(())
        },
    );
    let Ok(()) = outcome;
    skipped
}

/// The walk of [`scope_dirs`]: feeds every regular file, in batches, and returns what was
/// skipped. A path reached twice (overlapping inputs) is fed once; only paths that a later
/// input could reach again are remembered, so the set stays empty for disjoint inputs.
pub(super) fn walk_files<A>(
    inputs: &[PathBuf],
    bar: &indicatif::ProgressBar,
    feed: &mut Feed<'_, Batch, A>,
) -> Vec<SkippedPath> {
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut open = true;
    let mut send = |batch: &mut Vec<Walked>| {
        if open && !batch.is_empty() {
            bar.inc_length(batch.len() as u64);
            open = feed.push(std::mem::replace(batch, Vec::with_capacity(BATCH)));
        }
    };
    for (i, input) in inputs.iter().enumerate() {
        let later = &inputs[i + 1..];
        walk_entries(std::slice::from_ref(input), true, |e| match e {
            WalkEntry::File(WalkedFile { path, stat, .. }) => {
                if seen.contains(&path) {
                    return;
                }
                if later.iter().any(|l| path.starts_with(l)) {
                    seen.insert(path.clone());
                }
                batch.push((path, stat.dev, stat.inode));
                if batch.len() == BATCH {
                    send(&mut batch);
                }
            }
            WalkEntry::Skipped(s) => skipped.push(s),
        });
    }
    send(&mut batch);
    skipped
}

pub(super) fn is_bundle(input: &Path) -> bool {
    let Ok(md) = std::fs::metadata(input) else {
        return false;
    };
    if !md.is_file() {
        return false;
    }
    let mut magic = [0u8; 4];
    std::fs::File::open(input)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == ZIP_MAGIC
}

/// A walked file, with the device and inode the walk found.
pub(super) type Walked = (PathBuf, u64, u64);

/// One file of a directory walk: `None` when it is not a module. It is opened only if the path
/// still leads to the inode the walk found (a directory swapped for a link is never followed).
pub(super) fn scope_file(
    path: &Path,
    (dev, ino): (u64, u64),
    query: &ScopeQuery,
) -> Option<ModuleScope> {
    let mut file = match crate::source::open::open_walked(path, dev, ino) {
        Ok((f, _)) => f,
        Err(e) => {
            return Some(error_module(
                path,
                ModuleOrigin::File,
                format!("cannot read: {e}"),
            ))
        }
    };
    let sig_path = crate::source::detached::next_to(path);
    let detached = match &sig_path {
        Some(p) => match detached::read(p) {
            Ok(b) => Some((p.display().to_string(), b)),
            Err(e) => {
                return Some(error_module(path, ModuleOrigin::File, e.to_string()));
            }
        },
        None => None,
    };
    match with_read_buffer(|buf| scope_stream_with(&mut file, detached, query, buf)) {
        Ok(Some(mut m)) => {
            m.path = path.to_path_buf();
            Some(m)
        }
        Ok(None) => None,
        Err(e) => Some(error_module(
            path,
            ModuleOrigin::File,
            format!("cannot read: {e}"),
        )),
    }
}

pub(super) fn error_module(path: &Path, origin: ModuleOrigin, error: String) -> ModuleScope {
    ModuleScope {
        path: path.to_path_buf(),
        origin,
        size: 0,
        status: ModuleStatus::Error,
        signatures: Vec::new(),
        other_signers: Vec::new(),
        keyless: None,
        detached_signature: None,
        error: Some(error),
        assessment: None,
        assessment_not_made: None,
    }
}
