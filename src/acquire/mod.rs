//! Acquisition: walking the inputs, reading each source once (copy, SHA-256 and analysis from
//! the same chunks), `stat` before and after, and the list of what was seen but not collected.
//! [`collect::collect`] runs the whole pipeline into a bundle.

pub mod bag_name;
pub mod collect;
pub mod read;

use crate::analyse::AnalysisContext;
use chrono::{DateTime, Utc};
use std::path::Path;
use std::sync::Arc;

pub use crate::source::walk::{collect_candidates, Candidate, Role};
pub use collect::{collect, CollectError, CollectOutcome, CollectRequest, CollectSummary};
pub use read::{acquire_one, AcquireResult, Acquired, Held};

/// Default cap on one source file: generous, so only absurd inputs are skipped.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 << 30;
/// Files up to this size are held in memory between their single read and their zip entry.
/// Larger files are hashed while read, then streamed into the zip by a second read that is
/// hashed again (a difference is flagged as "changed during acquisition").
pub const DEFAULT_IN_MEMORY_LIMIT: u64 = 8 << 20;

/// Called with a source path (test hook).
pub type PathHook = Arc<dyn Fn(&Path) + Send + Sync>;
/// Told how many more bytes were read (progress bar).
pub type ProgressHook = Arc<dyn Fn(u64) + Send + Sync>;

/// How sources are read.
#[derive(Clone)]
pub struct AcquireOptions {
    /// Files larger than this are recorded as not collected.
    pub max_file_size: u64,
    /// See [`DEFAULT_IN_MEMORY_LIMIT`].
    pub in_memory_limit: u64,
    /// Test hook: called after the first chunk of every source has been read, so a test can
    /// change the file mid-acquisition. Never set by the CLI.
    pub after_first_chunk: Option<PathHook>,
    /// Test hook: called just before each source is opened, so a test can swap a directory on
    /// its path. Never set by the CLI.
    pub before_open: Option<PathHook>,
    pub progress: Option<ProgressHook>,
    /// When set, the time recorded for every acquisition (deterministic mode).
    pub fixed_time: Option<DateTime<Utc>>,
    /// Keys and trust root the analysers judge against.
    pub analysis: Arc<AnalysisContext>,
}

impl Default for AcquireOptions {
    fn default() -> Self {
        AcquireOptions {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            in_memory_limit: DEFAULT_IN_MEMORY_LIMIT,
            after_first_chunk: None,
            before_open: None,
            progress: None,
            fixed_time: None,
            analysis: Arc::new(AnalysisContext::default()),
        }
    }
}

impl AcquireOptions {
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.fixed_time.unwrap_or_else(Utc::now)
    }

    pub(crate) fn progress(&self, n: u64) {
        if let Some(p) = &self.progress {
            p(n);
        }
    }
}
