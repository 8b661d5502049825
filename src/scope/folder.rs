//! Scope over directories and module files: the walk feeds reader threads in batches, answers
//! are handed on in walk order through a bounded reorder window.

use super::*;
use crate::source::walk::{walk_entries, SkipReason, SkippedPath, WalkEntry};
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

/// Lets a reader start batch `seq` only while it lies within [`REORDER_WINDOW`] of the next
/// batch to hand over, so answers waiting for a slow earlier file stay bounded.
pub(super) struct Window {
    state: std::sync::Mutex<WindowState>,
    moved: std::sync::Condvar,
}

pub(super) struct WindowState {
    next: u64,
    waiting: usize,
    stopped: bool,
}

impl Window {
    fn enter(&self, seq: u64) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while seq >= st.next + REORDER_WINDOW && !st.stopped {
            st.waiting += 1;
            st = self.moved.wait(st).unwrap_or_else(|e| e.into_inner());
            st.waiting -= 1;
        }
    }

    fn advance(&self, next: u64, stop: bool) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.next = next;
        st.stopped |= stop;
        if st.waiting > 0 {
            self.moved.notify_all();
        }
    }
}

/// The directory inputs: one thread walks (in name order), `rayon::current_num_threads()`
/// readers scan batches of files, and this thread hands the answers to `emit` in walk order
/// (`None`: not a module). Returns what the walk skipped.
pub(super) fn scope_dirs(
    inputs: &[PathBuf],
    query: &ScopeQuery,
    bar: &indicatif::ProgressBar,
    emit: &mut dyn FnMut(Option<ModuleScope>),
) -> Vec<SkippedPath> {
    use std::sync::{mpsc, Mutex};
    if inputs.is_empty() {
        return Vec::new();
    }
    let (path_tx, path_rx) = mpsc::sync_channel::<(u64, Vec<PathBuf>)>(WALK_AHEAD);
    let path_rx = Mutex::new(Some(path_rx));
    let (done_tx, done_rx) = mpsc::channel::<(u64, Vec<Option<ModuleScope>>)>();
    let window = Window {
        state: Mutex::new(WindowState {
            next: 0,
            waiting: 0,
            stopped: false,
        }),
        moved: std::sync::Condvar::new(),
    };
    std::thread::scope(|s| {
        let walker = s.spawn(|| walk_files(inputs, bar, path_tx));
        for _ in 0..rayon::current_num_threads().max(1) {
            let done_tx = done_tx.clone();
            let (path_rx, window) = (&path_rx, &window);
            s.spawn(move || loop {
                let next = match &*path_rx.lock().unwrap_or_else(|e| e.into_inner()) {
                    Some(rx) => rx.recv().ok(),
                    None => None,
                };
                let Some((seq, paths)) = next else { break };
                window.enter(seq);
                let answers = paths.iter().map(|p| scope_file(p, query)).collect();
                if done_tx.send((seq, answers)).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // Batches that arrived before an earlier one, by `seq - next`.
        let mut early: std::collections::VecDeque<Option<Vec<Option<ModuleScope>>>> =
            std::collections::VecDeque::new();
        let mut next = 0u64;
        for (seq, answers) in done_rx {
            let i = (seq - next) as usize;
            if early.len() <= i {
                early.resize_with(i + 1, || None);
            }
            early[i] = Some(answers);
            let before = next;
            while early.front().is_some_and(Option::is_some) {
                let answers = early.pop_front().flatten().expect("checked");
                bar.inc(answers.len() as u64);
                answers.into_iter().for_each(&mut *emit);
                next += 1;
            }
            if next != before {
                window.advance(next, false);
            }
        }
        // Only reached early when a reader panicked: release the others and the walker, so the
        // scope can end and re-raise the panic.
        window.advance(next, true);
        *path_rx.lock().unwrap_or_else(|e| e.into_inner()) = None;
        walker.join().expect("the walk does not panic")
    })
}

/// The walk of [`scope_dirs`]: sends every regular file, in batches with their sequence number,
/// and returns what was skipped. A path reached twice (overlapping inputs) is sent once; only
/// paths that a later input could reach again are remembered, so the set stays empty for
/// disjoint inputs.
pub(super) fn walk_files(
    inputs: &[PathBuf],
    bar: &indicatif::ProgressBar,
    tx: std::sync::mpsc::SyncSender<(u64, Vec<PathBuf>)>,
) -> Vec<SkippedPath> {
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut seq = 0u64;
    let mut batch = Vec::with_capacity(BATCH);
    let mut open = true;
    let mut send = |batch: &mut Vec<PathBuf>| {
        if open && !batch.is_empty() {
            bar.inc_length(batch.len() as u64);
            open = tx
                .send((seq, std::mem::replace(batch, Vec::with_capacity(BATCH))))
                .is_ok();
            seq += 1;
        }
    };
    for (i, input) in inputs.iter().enumerate() {
        let later = &inputs[i + 1..];
        walk_entries(std::slice::from_ref(input), true, |e| match e {
            WalkEntry::File(path, _) => {
                if seen.contains(&path) {
                    return;
                }
                if later.iter().any(|l| path.starts_with(l)) {
                    seen.insert(path.clone());
                }
                batch.push(path);
                if batch.len() == BATCH {
                    send(&mut batch);
                }
            }
            WalkEntry::Other(path, md) => skipped.push(SkippedPath {
                path,
                reason: if md.file_type().is_symlink() {
                    SkipReason::Symlink
                } else {
                    SkipReason::SpecialFile
                },
            }),
            WalkEntry::Missing(path, _) => skipped.push(SkippedPath {
                path,
                reason: SkipReason::Missing,
            }),
            WalkEntry::Unreadable(path, error) => skipped.push(SkippedPath {
                path,
                reason: SkipReason::Unreadable { error },
            }),
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

/// The detached signature next to a module (`M.sig` suffix, then `<stem>.sig`), only when it is
/// a regular file (a symlink is never followed).
pub(super) fn detached_next_to(module: &Path) -> Option<PathBuf> {
    let mut with_suffix = module.as_os_str().to_owned();
    with_suffix.push(".sig");
    [PathBuf::from(with_suffix), module.with_extension("sig")]
        .into_iter()
        .find(|p| {
            p != module
                && std::fs::symlink_metadata(p)
                    .map(|m| m.file_type().is_file())
                    .unwrap_or(false)
        })
}

/// One file of a directory walk: `None` when it is not a module.
pub(super) fn scope_file(path: &Path, query: &ScopeQuery) -> Option<ModuleScope> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            return Some(error_module(
                path,
                ModuleOrigin::File,
                format!("cannot read: {e}"),
            ))
        }
    };
    let sig_path = detached_next_to(path);
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
    }
}
