//! Scope over a collected evidence bundle: modules streamed from the zip without unpacking,
//! in source-path order (evidence.json and custody.jsonl read by the one streaming reader,
//! `bundle::reader`).

use super::*;
use crate::bundle::reader::{BundleReader, IndexEvent};
use crate::io::spill::Sorter;
use crate::model::evidence::ItemKind;
use crate::wasm::detached;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Modules of a collected bundle, streamed from the zip without unpacking, handed to `emit`
/// sorted by source path. Returns the number of other payload items; `Err` names why the bundle
/// could not be read (then nothing was emitted). The checks are `open_bundle`'s (tag manifest,
/// evidence.json schema and items, custody.jsonl), made while streaming: evidence.json and
/// custody.jsonl are never held whole, the module list is sorted in spilled runs
/// ([`Sorter`]); only the detached signatures are indexed in memory.
pub(super) fn scope_bundle(
    path: &Path,
    query: &ScopeQuery,
    emit: &mut dyn FnMut(ModuleScope),
) -> Result<usize, String> {
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    reader.digest().map_err(|e| e.to_string())?;
    // Source-path order without holding the list: the one external sort, spilling to an
    // anonymous file in the temp folder (stable, so equal paths keep evidence order).
    let new_sorter = || Sorter::new(&std::env::temp_dir(), SORT_BUDGET);
    let mut modules = new_sorter();
    // Detached signatures by source path (first in evidence order wins, as a lookup would).
    let mut sigs: std::collections::HashMap<PathBuf, (String, String)> = Default::default();
    let mut other = 0;
    let mut spill_error = None;
    reader
        .stream_evidence_index(|event| match event {
            IndexEvent::Restart => {
                modules = new_sorter();
                sigs.clear();
                other = 0;
            }
            IndexEvent::Item(item) => match (item.kind, item.bag_path) {
                (ItemKind::Module, Some(bag_path)) => {
                    let source = item.source.into_bytes();
                    if let Err(e) = modules.push(&source, bag_path.as_bytes()) {
                        spill_error.get_or_insert(e);
                    }
                }
                (kind, bag_path) => {
                    other += 1;
                    if let (ItemKind::DetachedSignature, Some(bag_path)) = (kind, bag_path) {
                        sigs.entry(PathBuf::from(&item.source.text))
                            .or_insert((item.source.text, bag_path));
                    }
                }
            },
        })
        .map_err(|e| e.to_string())?;
    reader.check_custody().map_err(|e| e.to_string())?;
    let assessments = assess_bundle(&mut reader);
    let temp_error = |e: io::Error| format!("{}: temporary file: {e}", path.display());
    if let Some(e) = spill_error {
        return Err(temp_error(e));
    }
    let bundle_name = path.display().to_string();
    let mut sorted = modules.finish().map_err(temp_error)?;
    while let Some((source, bag_path)) = sorted.next_record().map_err(temp_error)? {
        let source = PathBuf::from(std::ffi::OsString::from_vec(source.to_vec()));
        let bag_path = String::from_utf8_lossy(bag_path).into_owned();
        let origin = ModuleOrigin::Bundle {
            bundle: bundle_name.clone(),
            bag_path: bag_path.clone(),
        };
        // The detached signature collected from next to the module, if any.
        let mut with_suffix = source.as_os_str().to_owned();
        with_suffix.push(".sig");
        let candidates = [PathBuf::from(with_suffix), source.with_extension("sig")];
        let sig_item = candidates.iter().find_map(|c| sigs.get(c));
        let detached = match sig_item {
            Some((text, bp)) => match reader.read_entry(bp, detached::MAX_DETACHED_LEN) {
                Ok(b) => Some((text.clone(), b)),
                Err(e) => {
                    emit(error_module(&source, origin, e.to_string()));
                    continue;
                }
            },
            None => None,
        };
        let result = match reader.entry_reader(&bag_path) {
            Ok(mut r) => scope_stream(&mut r, detached, query).map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        emit(match result {
            Ok(Some(mut m)) => {
                m.path = source;
                m.origin = origin;
                assessments.attach(&mut m, &bag_path);
                m
            }
            Ok(None) => error_module(
                &source,
                origin,
                "collected as a module but not WebAssembly".into(),
            ),
            Err(e) => error_module(&source, origin, e),
        });
    }
    Ok(other)
}

/// Largest evidence.json whose modules `scope` assesses: the one assessment
/// ([`crate::analyse::assessment::assess`]) needs the whole evidence model, and scope's memory
/// must not grow with the bundle, so a larger one gets no assessment (each module says why).
pub const ASSESS_MAX_EVIDENCE: u64 = 4 << 20;

/// The library's assessments of a bundle's modules, by bag path, or why there are none.
enum BundleAssessments {
    Made(std::collections::HashMap<String, ModuleAssessment>),
    NotMade(String),
}

/// Reads evidence.json whole (at most [`ASSESS_MAX_EVIDENCE`]) and assesses every module
/// with the same function `report` and `timeline` use.
fn assess_bundle(reader: &mut BundleReader) -> BundleAssessments {
    use std::io::Read;
    let reader_path = reader.path().to_path_buf();
    use crate::bundle::EVIDENCE_PATH;
    // Measured first by streaming it (nothing held), so a large one is never buffered.
    let size = reader.entry_reader(EVIDENCE_PATH).and_then(|r| {
        std::io::copy(&mut r.take(ASSESS_MAX_EVIDENCE + 1), &mut std::io::sink()).map_err(|e| {
            crate::bundle::BundleError::Entry {
                path: reader_path.clone(),
                entry: EVIDENCE_PATH.to_owned(),
                message: e.to_string(),
            }
        })
    });
    match size {
        Ok(n) if n > ASSESS_MAX_EVIDENCE => {
            return BundleAssessments::NotMade(format!(
                "{EVIDENCE_PATH} is over {ASSESS_MAX_EVIDENCE} bytes, the most scope reads whole to assess modules; run `report` for the assessment"
            ))
        }
        Ok(_) => {}
        Err(e) => return BundleAssessments::NotMade(e.to_string()),
    }
    let bytes = match reader.read_entry(EVIDENCE_PATH, ASSESS_MAX_EVIDENCE) {
        Ok(b) => b,
        Err(crate::bundle::BundleError::TooLarge { max, .. }) => {
            return BundleAssessments::NotMade(format!(
                "{EVIDENCE_PATH} is over {max} bytes, the most scope reads whole to assess modules; run `report` for the assessment"
            ))
        }
        Err(e) => return BundleAssessments::NotMade(e.to_string()),
    };
    let ev = match crate::bundle::reader::parse_evidence(&bytes) {
        Ok(ev) => ev,
        Err(e) => return BundleAssessments::NotMade(format!("{EVIDENCE_PATH}: {e}")),
    };
    drop(bytes);
    let assessed = crate::analyse::assessment::assess(&ev);
    BundleAssessments::Made(
        assessed
            .modules
            .into_iter()
            .filter_map(|(item, a)| Some((item.bag_path.clone()?, a)))
            .collect(),
    )
}

impl BundleAssessments {
    /// Gives a module its assessment; a module the assessment finds already re-signed by the
    /// case's replacement key is `re-signed`, not `valid` (off the re-sign list).
    fn attach(&self, m: &mut ModuleScope, bag_path: &str) {
        match self {
            BundleAssessments::Made(map) => match map.get(bag_path) {
                Some(a) => {
                    if a.status == crate::analyse::assessment::ModuleStatus::ReSigned
                        && m.status.carries_key()
                    {
                        m.status = ModuleStatus::ReSigned;
                    }
                    m.assessment = Some(a.clone());
                }
                None => {
                    m.assessment_not_made =
                        Some("not an assessed module item of evidence.json".into())
                }
            },
            BundleAssessments::NotMade(why) => m.assessment_not_made = Some(why.clone()),
        }
    }
}

/// Bytes of the module list (source path, bag path) sorted in memory before a run is
/// spilled by the one external sort ([`Sorter`]): a few hundred KiB.
const SORT_BUDGET: usize = 512 << 10;
