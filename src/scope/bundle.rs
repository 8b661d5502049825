//! Scope over a collected evidence bundle: modules streamed from the zip without unpacking,
//! in source-path order.

use super::*;
use crate::bundle::reader::{read_custody_events, BundleError, BundleReader, MAX_METADATA_BYTES};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::io::spill::Sorter;
use crate::model::evidence::ItemKind;
use crate::model::evidence::SCHEMA_VERSION;
use crate::wasm::detached;
use std::io::{self, Read};
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
    let mut modules = Sorter::new(&std::env::temp_dir(), SORT_BUDGET);
    // Detached signatures by source path (first in evidence order wins, as a lookup would).
    let mut sigs: std::collections::HashMap<PathBuf, (String, String)> = Default::default();
    let mut other = 0;
    let mut spill_error = None;
    read_evidence_items(
        &mut reader,
        &mut |item: BundleItem| match (item.kind, item.bag_path) {
            (ItemKind::Module, Some(bag_path)) => {
                let source = item
                    .source
                    .raw_hex
                    .as_deref()
                    .and_then(|h| hex::decode(h).ok())
                    .unwrap_or_else(|| item.source.text.into_bytes());
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
    )?;
    check_custody(&mut reader)?;
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

/// What scope needs of one evidence item.
#[derive(serde::Deserialize)]
pub(super) struct BundleItem {
    source: crate::model::evidence::RecordedPath,
    kind: ItemKind,
    #[serde(default)]
    bag_path: Option<String>,
}

/// A metadata entry read as a stream, at most [`MAX_METADATA_BYTES`] + 1 bytes (one more tells
/// that it is over the limit, as `read_entry` would).
pub(super) fn metadata_stream<'a>(
    reader: &'a mut BundleReader,
    entry: &str,
) -> Result<io::BufReader<io::Take<impl Read + 'a>>, String> {
    let r = reader.entry_reader(entry).map_err(|e| e.to_string())?;
    Ok(io::BufReader::with_capacity(
        64 << 10,
        r.take(MAX_METADATA_BYTES + 1),
    ))
}

pub(super) fn too_large(path: &Path, entry: &str, size: u64) -> String {
    BundleError::TooLarge {
        path: path.to_owned(),
        entry: entry.to_owned(),
        size,
        max: MAX_METADATA_BYTES,
    }
    .to_string()
}

/// Streams evidence.json, handing each item to `f`; checks `schema_version` as `open_bundle`
/// does. Errors read like `open_bundle`'s.
pub(super) fn read_evidence_items(
    reader: &mut BundleReader,
    f: &mut dyn FnMut(BundleItem),
) -> Result<(), String> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    struct Top<'f>(&'f mut dyn FnMut(BundleItem));
    struct Items<'f>(&'f mut dyn FnMut(BundleItem));
    impl<'de> Visitor<'de> for Top<'_> {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the evidence object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<u64>, A::Error> {
            let mut version = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match &*key {
                    "schema_version" => version = map.next_value::<Option<u64>>()?,
                    "items" => map.next_value_seed(Items(&mut *self.0))?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(version)
        }
    }
    impl<'de> DeserializeSeed<'de> for Items<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Items<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of items")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<BundleItem>()? {
                (self.0)(item);
            }
            Ok(())
        }
    }
    let path = reader.path().to_owned();
    let mut input = metadata_stream(reader, EVIDENCE_PATH)?;
    let mut de = serde_json::Deserializer::from_reader(&mut input);
    let parsed = de
        .deserialize_map(Top(f))
        .and_then(|v| de.end().map(|()| v));
    drop(de);
    let read = input.into_inner().limit();
    if read == 0 {
        return Err(too_large(&path, EVIDENCE_PATH, MAX_METADATA_BYTES + 1));
    }
    let evidence_error = |message: String| BundleError::Evidence {
        path: path.clone(),
        message,
    };
    match parsed.map_err(|e| e.to_string()) {
        Ok(Some(n)) if n == SCHEMA_VERSION as u64 => Ok(()),
        Ok(Some(n)) => Err(format!(
            "schema_version {n} is not one this build reads ({SCHEMA_VERSION})"
        )),
        Ok(None) => Err("schema_version missing".to_owned()),
        Err(e) => Err(e),
    }
    .map_err(|m| evidence_error(m).to_string())
}

/// Checks custody.jsonl line by line with the one custody reader, without holding it.
pub(super) fn check_custody(reader: &mut BundleReader) -> Result<(), String> {
    let path = reader.path().to_owned();
    let mut input = metadata_stream(reader, CUSTODY_PATH)?;
    let checked = read_custody_events(&mut input, |_| {})
        .map_err(|e| format!("{}: {CUSTODY_PATH}: {e}", path.display()))?;
    if input.into_inner().limit() == 0 {
        return Err(too_large(&path, CUSTODY_PATH, MAX_METADATA_BYTES + 1));
    }
    checked.map_err(|(line, message)| {
        BundleError::Custody {
            path,
            line,
            message,
        }
        .to_string()
    })
}

/// Bytes of the module list (source path, bag path) sorted in memory before a run is
/// spilled by the one external sort ([`Sorter`]): a few hundred KiB.
const SORT_BUDGET: usize = 512 << 10;
