//! `scope --crate` / `scope --advisory` (INC-4): for every module under the inputs (directories,
//! module files, evidence bundles), its dependency list (embedded cargo-auditable `.dep-v0`
//! section, else the SBOM or Cargo.lock beside it by [`crate::deps::sbom::beside`]) and whether
//! it contains a crate version the query names. A module without dependency data is `unknown`,
//! never unaffected.

use super::folder::{is_bundle, walk_files, Walked};
use super::module::{ModuleBytes, Stream};
use super::{ModuleOrigin, WASM_MAGIC};
use crate::bundle::reader::{BundleReader, IndexEvent};
use crate::deps::query::{DepMatch, DepQuery};
use crate::deps::sbom::{self, SidecarKind};
use crate::deps::{dep_v0, DependencySource, Package};
use crate::io::pipeline::{run_ordered_fed, Feed, Limits};
use crate::model::evidence::ItemKind;
use crate::source::walk::{serialize_path, SkipReason, SkippedPath};
use crate::wasm::scanner::{KeptCustom, ScanOptions, Scanner};
use serde::Serialize;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The answer for one module.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum DepsStatus {
    /// Its dependency list holds a crate version the query names.
    Affected,
    /// Its dependency list was read and holds none.
    NotAffected,
    /// No dependency data: neither an embedded `.dep-v0` section nor an SBOM or Cargo.lock
    /// beside it. Not known to be unaffected.
    Unknown,
    /// Not a well-formed module, unreadable, or its dependency data could not be decoded.
    Error,
}

impl DepsStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DepsStatus::Affected => "affected",
            DepsStatus::NotAffected => "not-affected",
            DepsStatus::Unknown => "unknown",
            DepsStatus::Error => "error",
        }
    }
}

/// Everything said about one module.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct DepsModule {
    /// The input as given joined with the path inside it (bundles: the collected source path).
    #[serde(serialize_with = "serialize_path")]
    #[schemars(with = "String")]
    pub path: PathBuf,
    pub origin: ModuleOrigin,
    pub status: DepsStatus,
    /// Where the dependency list came from (absent: none found, or it could not be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<DependencySource>,
    /// Packages in that list.
    pub packages: usize,
    /// Each package the query names, with what named it.
    pub matches: Vec<DepMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Counts over all modules.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DepsSummary {
    pub modules: usize,
    pub affected: usize,
    pub not_affected: usize,
    pub unknown: usize,
    pub errors: usize,
    /// Files that are not modules (SBOMs, lock files, anything else).
    pub other_files: usize,
}

/// The whole answer (`scope --crate/--advisory --json`).
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct DepsResult {
    pub query: DepQuery,
    pub summary: DepsSummary,
    /// Every module, in input order (sorted by name inside each directory, by source path in a
    /// bundle).
    pub modules: Vec<DepsModule>,
    /// Paths not looked at (symlinks, special files, unreadable, missing inputs, bad bundles).
    pub skipped: Vec<SkippedPath>,
}

impl DepsResult {
    /// Nothing affected, but some module could not be answered (unknown, error) or an input
    /// was unreadable: the answer may be incomplete.
    pub fn incomplete(&self) -> bool {
        self.summary.unknown + self.summary.errors > 0
            || self.skipped.iter().any(|s| !s.reason.is_link_or_special())
    }
}

/// Parsed sidecar files by path: a Cargo.lock shared by a folder's modules is read once.
type SidecarCache = Mutex<HashMap<PathBuf, Arc<Result<(DependencySource, Vec<Package>), String>>>>;

/// Runs the query over directories, module files and bundles.
pub fn scope_deps(inputs: &[PathBuf], query: DepQuery) -> DepsResult {
    let (mut bundles, mut plain) = (Vec::new(), Vec::new());
    for input in inputs {
        if is_bundle(input) {
            bundles.push(input.clone());
        } else {
            plain.push(input.clone());
        }
    }
    let mut summary = DepsSummary::default();
    let mut modules = Vec::new();
    let mut emit = |m: Option<DepsModule>, summary: &mut DepsSummary| match m {
        Some(m) => {
            tally(summary, &m);
            modules.push(m);
        }
        None => summary.other_files += 1,
    };
    let cache = SidecarCache::default();
    let mut skipped = if plain.is_empty() {
        Vec::new()
    } else {
        let limits = Limits {
            threads: rayon::current_num_threads(),
            budget: super::folder::REORDER_WINDOW,
            ahead: super::folder::WALK_AHEAD,
        };
        let bar = indicatif::ProgressBar::hidden();
        let (outcome, skipped) = run_ordered_fed(
            limits,
            |feed: &mut Feed<'_, Vec<Walked>, Vec<Option<DepsModule>>>| {
                walk_files(&plain, &bar, feed)
            },
            |_| 1,
            |paths: Vec<Walked>| {
                paths
                    .iter()
                    .map(|(p, dev, ino)| deps_file(p, (*dev, *ino), &query, &cache))
                    .collect()
            },
            |batches: Vec<Vec<Option<DepsModule>>>| -> Result<(), std::convert::Infallible> {
                for m in batches.into_iter().flatten() {
                    emit(m, &mut summary);
                }
                Ok(())
            },
        );
        let Ok(()) = outcome;
        skipped
    };
    for b in &bundles {
        match deps_bundle(b, &query, &mut |m| emit(Some(m), &mut summary)) {
            Ok(other) => summary.other_files += other,
            Err(error) => skipped.push(SkippedPath {
                path: b.clone(),
                reason: SkipReason::Unreadable { error },
            }),
        }
    }
    DepsResult {
        query,
        summary,
        modules,
        skipped,
    }
}

fn tally(s: &mut DepsSummary, m: &DepsModule) {
    s.modules += 1;
    match m.status {
        DepsStatus::Affected => s.affected += 1,
        DepsStatus::NotAffected => s.not_affected += 1,
        DepsStatus::Unknown => s.unknown += 1,
        DepsStatus::Error => s.errors += 1,
    }
}

fn error_module(path: &Path, origin: ModuleOrigin, error: String) -> DepsModule {
    DepsModule {
        path: path.to_path_buf(),
        origin,
        status: DepsStatus::Error,
        dependencies: None,
        packages: 0,
        matches: Vec::new(),
        error: Some(error),
    }
}

/// What reading a module's bytes found.
enum Embedded {
    NotWasm,
    /// The `.dep-v0` payload, if the module has one.
    Module(Option<Vec<u8>>),
}

/// Walks a module's sections keeping only `.dep-v0`, jumping over every other payload when the
/// input can jump (a file), reading through otherwise (a zip entry).
fn read_embedded<R: ModuleBytes>(r: &mut R) -> io::Result<Result<Embedded, String>> {
    let mut scanner = Scanner::new(ScanOptions::default());
    scanner.skip_covered_hash();
    scanner.keep_custom_section(dep_v0::SECTION, dep_v0::MAX_COMPRESSED);
    let mut buf = vec![0u8; super::module::JUMPING_READ];
    let limit = r.jump_limit()?;
    let mut pos = 0u64;
    loop {
        let n = scanner.skippable();
        // Jump only over bytes the file holds: a truncated module is read to its end and the
        // scanner reports where it ends.
        if n > 0 && limit.is_some_and(|l| pos + n <= l) {
            r.jump(n)?;
            scanner.skip(n);
            pos += n;
            continue;
        }
        let got = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let head = (4 - pos.min(4)) as usize;
        if head > 0
            && buf[..got.min(head)] != WASM_MAGIC[pos as usize..pos as usize + got.min(head)]
        {
            return Ok(Ok(Embedded::NotWasm));
        }
        pos += got as u64;
        if scanner.feed(&buf[..got]).is_err() {
            break;
        }
    }
    if pos < 4 {
        return Ok(Ok(Embedded::NotWasm));
    }
    let scan = scanner.finish();
    if let Some(e) = scan.error {
        return Ok(Err(format!(
            "not a well-formed module: at offset {}: {}",
            e.offset, e.kind
        )));
    }
    Ok(match scan.kept_custom {
        Some(KeptCustom::Payload(p)) => Ok(Embedded::Module(Some(p))),
        Some(KeptCustom::TooLarge { size, max }) => Err(format!(
            "its {} section is {size} bytes, over the {max}-byte limit (not decoded)",
            dep_v0::SECTION
        )),
        None => Ok(Embedded::Module(None)),
    })
}

/// The answer for a module given its embedded section (if any) and a way to find the
/// dependency file beside it.
fn answer(
    path: &Path,
    origin: ModuleOrigin,
    embedded: Option<Vec<u8>>,
    query: &DepQuery,
    sidecar: impl FnOnce() -> Option<Result<(DependencySource, Vec<Package>), String>>,
) -> DepsModule {
    let found = match embedded {
        Some(c) => Some(
            dep_v0::decode(&c)
                .map(|p| (DependencySource::EmbeddedDepV0, p))
                .map_err(|e| e.to_string()),
        ),
        None => sidecar(),
    };
    let (source, packages) = match found {
        None => {
            return DepsModule {
                path: path.to_path_buf(),
                origin,
                status: DepsStatus::Unknown,
                dependencies: None,
                packages: 0,
                matches: Vec::new(),
                error: None,
            }
        }
        Some(Err(e)) => return error_module(path, origin, e),
        Some(Ok(found)) => found,
    };
    let matches = query.matches(&packages);
    DepsModule {
        path: path.to_path_buf(),
        origin,
        status: if matches.is_empty() {
            DepsStatus::NotAffected
        } else {
            DepsStatus::Affected
        },
        dependencies: Some(source),
        packages: packages.len(),
        matches,
        error: None,
    }
}

/// One file of a directory walk: `None` when it is not a module. Opened only if the path
/// still leads to the inode the walk found.
fn deps_file(
    path: &Path,
    (dev, ino): (u64, u64),
    query: &DepQuery,
    cache: &SidecarCache,
) -> Option<DepsModule> {
    let origin = ModuleOrigin::File;
    let mut file = match crate::source::open::open_walked(path, dev, ino) {
        Ok((f, _)) => f,
        Err(e) => return Some(error_module(path, origin, format!("cannot read: {e}"))),
    };
    let embedded = match read_embedded(&mut file) {
        Err(e) => return Some(error_module(path, origin, format!("cannot read: {e}"))),
        Ok(Err(e)) => return Some(error_module(path, origin, e)),
        Ok(Ok(Embedded::NotWasm)) => return None,
        Ok(Ok(Embedded::Module(e))) => e,
    };
    Some(answer(path, origin, embedded, query, || {
        let (kind, p) = sbom::beside(path, sbom::is_regular_file)?;
        let cached = {
            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
            match c.get(&p) {
                Some(v) => v.clone(),
                None => {
                    let v = Arc::new(sbom::read(kind, &p).map_err(|e| e.to_string()));
                    // Only a shared Cargo.lock is worth keeping; an SBOM is one module's.
                    if kind == SidecarKind::CargoLock {
                        c.insert(p.clone(), v.clone());
                    }
                    v
                }
            }
        };
        Some((*cached).clone())
    }))
}

/// A dependency file's kind by its name alone (for a bundle's collected attachments).
fn sidecar_name(source: &Path) -> bool {
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name == "Cargo.lock" || name.ends_with(".cdx.json") || name.ends_with(".spdx.json")
}

/// The modules of a collected bundle, streamed from the zip, sorted by source path; their
/// dependency files are the bundle's collected attachments at the paths the adjacency rule
/// names. Returns the number of other items.
fn deps_bundle(
    path: &Path,
    query: &DepQuery,
    emit: &mut dyn FnMut(DepsModule),
) -> Result<usize, String> {
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    reader.digest().map_err(|e| e.to_string())?;
    let mut modules: Vec<(PathBuf, String)> = Vec::new();
    let mut sidecars: HashMap<PathBuf, String> = HashMap::new();
    let mut other = 0;
    reader
        .stream_evidence_index(|event| match event {
            IndexEvent::Restart => {
                modules.clear();
                sidecars.clear();
                other = 0;
            }
            IndexEvent::Item(item) => {
                let source = PathBuf::from(&item.source.text);
                match (item.kind, item.bag_path) {
                    (ItemKind::Module, Some(bag)) => modules.push((source, bag)),
                    (_, bag) => {
                        other += 1;
                        if let Some(bag) = bag.filter(|_| sidecar_name(&source)) {
                            sidecars.entry(source).or_insert(bag);
                        }
                    }
                }
            }
        })
        .map_err(|e| e.to_string())?;
    reader.check_custody().map_err(|e| e.to_string())?;
    modules.sort();
    let bundle = path.display().to_string();
    for (source, bag_path) in modules {
        let origin = ModuleOrigin::Bundle {
            bundle: bundle.clone(),
            bag_path: bag_path.clone(),
        };
        let embedded = match reader.entry_reader(&bag_path) {
            Ok(mut r) => read_embedded(&mut Stream(&mut r)).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let embedded = match embedded {
            Err(e) | Ok(Err(e)) => {
                emit(error_module(&source, origin, e));
                continue;
            }
            Ok(Ok(Embedded::NotWasm)) => {
                emit(error_module(
                    &source,
                    origin,
                    "collected as a module but not WebAssembly".into(),
                ));
                continue;
            }
            Ok(Ok(Embedded::Module(e))) => e,
        };
        let m = answer(&source, origin, embedded, query, || {
            let (kind, p) = sbom::beside(&source, |p| sidecars.contains_key(p))?;
            let bag = &sidecars[&p];
            let name = format!("{} (collected as {bag})", p.display());
            Some(
                reader
                    .read_entry(bag, crate::deps::MAX_DEPENDENCY_DATA)
                    .map_err(|e| e.to_string())
                    .and_then(|b| sbom::parse(kind, &name, &b).map_err(|e| e.to_string())),
            )
        });
        emit(m);
    }
    Ok(other)
}
