//! Dispatch from an [`ItemKind`] to the analyser that reads that kind of source, one file per
//! kind. Analysers are push-based: `collect` feeds them the chunks it copies and hashes, and
//! `inspect` the chunks it reads, so both analyse a file the same way and with no second read.
//! Analysers never write; the module analyser reads one more file, the detached signature beside
//! the module ([`crate::source::detached::next_to`]), the others see only the bytes fed.

pub mod audit_log;
pub mod basic;
pub mod case_file;
pub mod detached_signature;
pub mod key;
pub mod module;
pub mod transparency;

use crate::keys::{KeyFile, PublicKey};
use crate::model::analysis::Analysis;
use crate::model::evidence::{FileStat, Finding, ItemKind, ItemTime};
use crate::transparency::{IdentityPolicy, TransparencyReport, TrustRoot, Verification};
use crate::wasm::signature_section::SignatureData;
use crate::wasm::ModuleReport;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What analysers judge against, the same for every source of one collection (or inspection):
/// the public keys found among the inputs (and given with `--key`), and the trust root for
/// transparency checks.
pub struct AnalysisContext {
    pub keys: Vec<PublicKey>,
    pub trust_root: TrustRoot,
    pub policy: IdentityPolicy,
    /// The detached signature every module is judged with (`inspect -S`), instead of the `.sig`
    /// beside each module.
    pub detached_signature: Option<PathBuf>,
    /// Whether a module's report carries the SHA-256 of the whole file (`inspect`; `collect`
    /// hashes every file itself).
    pub module_file_sha256: bool,
}

impl Default for AnalysisContext {
    fn default() -> Self {
        AnalysisContext {
            keys: Vec::new(),
            trust_root: TrustRoot::production(),
            policy: IdentityPolicy::default(),
            detached_signature: None,
            module_file_sha256: false,
        }
    }
}

/// What an analyser concluded about one source.
#[derive(Clone, Debug)]
pub struct AnalysisOutcome {
    /// The evidence record: the item's `analysis` in evidence.json.
    pub analysis: Analysis,
    pub findings: Vec<Finding>,
    /// Dated facts for the timeline.
    pub times: Vec<ItemTime>,
    /// The analyser's report in its own types, for `inspect` (collect keeps only `analysis`).
    pub detail: Detail,
}

/// An analyser's full report, before it is recorded as an [`Analysis`].
#[derive(Clone, Debug)]
pub enum Detail {
    Module {
        report: Box<ModuleReport>,
        /// The transparency checks of a keyless module.
        keyless: Option<Box<Verification>>,
        /// Why the detached signature could not be read (the module was judged without it).
        detached_error: Option<String>,
    },
    /// A parsed key file (bytes were within the limit and parsed).
    Key(Box<KeyFile>),
    /// A detached signature: decoded, or the error as `inspect` reports it.
    DetachedSignature(Result<Box<SignatureData>, String>),
    Transparency(Box<TransparencyReport>),
    /// Nothing beyond the record.
    None,
}

/// A streaming analyser: fed every chunk of a source in order, then finished once.
pub trait Analyser: Send {
    fn feed(&mut self, chunk: &[u8]);
    fn finish(self: Box<Self>) -> AnalysisOutcome;
}

/// The analyser for a source of `kind` at `path` (its `stat`, when known, judges key-file
/// permissions; a module's detached `.sig` is looked up beside it).
pub fn analyser_for(
    kind: ItemKind,
    path: &Path,
    stat: Option<&FileStat>,
    ctx: &Arc<AnalysisContext>,
) -> Box<dyn Analyser> {
    let name = path.display().to_string();
    match kind {
        ItemKind::AuditLog => Box::new(audit_log::AuditLogAnalyser::new(&name)),
        ItemKind::CaseFile => Box::new(case_file::CaseFileAnalyser::new(&name)),
        ItemKind::Module => Box::new(module::ModuleAnalyser::new(path, ctx.clone())),
        ItemKind::PublicKey | ItemKind::SecretKey => {
            Box::new(key::KeyAnalyser::new(name, stat.cloned()))
        }
        ItemKind::DetachedSignature => {
            Box::new(detached_signature::DetachedSignatureAnalyser::new(name))
        }
        ItemKind::RekorEntry | ItemKind::SigstoreBundle | ItemKind::TrustRoot => {
            Box::new(transparency::TransparencyAnalyser::new(name, ctx.clone()))
        }
        _ => Box::new(basic::BasicAnalyser::new(kind)),
    }
}

/// Keeps at most `limit + 1` bytes of a stream: enough for a parser to say "over the limit".
fn keep_bounded(buf: &mut Vec<u8>, size: &mut u64, chunk: &[u8], limit: usize) {
    *size += chunk.len() as u64;
    let room = (limit + 1).saturating_sub(buf.len());
    buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
}

/// A reported value as JSON (keys sorted, as evidence.json holds them).
pub(crate) fn json<T: serde::Serialize>(t: &T) -> serde_json::Value {
    serde_json::to_value(t).unwrap_or(serde_json::Value::Null)
}

/// Feeds everything `reader` yields to `analyser`, in chunks, and finishes it.
pub fn analyse_reader(
    mut analyser: Box<dyn Analyser>,
    mut reader: impl Read,
) -> std::io::Result<AnalysisOutcome> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(analyser.finish()),
            Ok(n) => analyser.feed(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Runs `kind`'s analyser over an in-memory byte slice (for callers that already hold the
/// bytes), with the default context and no stat.
pub fn analyse_bytes(kind: ItemKind, source_name: &str, bytes: &[u8]) -> AnalysisOutcome {
    let ctx = Arc::new(AnalysisContext::default());
    let a = analyser_for(kind, Path::new(source_name), None, &ctx);
    analyse_reader(a, bytes).expect("reading memory does not fail")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn fixture(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel)
    }

    pub fn run(
        kind: ItemKind,
        path: &Path,
        stat: Option<&FileStat>,
        ctx: AnalysisContext,
    ) -> AnalysisOutcome {
        let bytes = std::fs::read(path).unwrap();
        let mut a = analyser_for(kind, path, stat, &Arc::new(ctx));
        // Odd chunk sizes: the analysers must not depend on how the copy loop cuts the stream.
        for c in bytes.chunks(7) {
            a.feed(c);
        }
        a.finish()
    }
}
