//! Scope over a collected evidence bundle: modules streamed from the zip without unpacking,
//! in source-path order.

use super::*;
use crate::bundle::reader::{BundleError, BundleReader, MAX_METADATA_BYTES};
use crate::bundle::{CUSTODY_PATH, EVIDENCE_PATH};
use crate::model::evidence::ItemKind;
use crate::model::evidence::SCHEMA_VERSION;
use crate::wasm::detached;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// Modules of a collected bundle, streamed from the zip without unpacking, handed to `emit`
/// sorted by source path. Returns the number of other payload items; `Err` names why the bundle
/// could not be read (then nothing was emitted). The checks are `open_bundle`'s (tag manifest,
/// evidence.json schema and items, custody.jsonl), made while streaming: evidence.json and
/// custody.jsonl are never held whole, the module list is sorted in spilled runs
/// ([`SortedItems`]); only the detached signatures are indexed in memory.
pub(super) fn scope_bundle(
    path: &Path,
    query: &ScopeQuery,
    emit: &mut dyn FnMut(ModuleScope),
) -> Result<usize, String> {
    let mut reader = BundleReader::open(path).map_err(|e| e.to_string())?;
    reader.digest().map_err(|e| e.to_string())?;
    let mut modules = SortedItems::new();
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
                if let Err(e) = modules.push(source, bag_path) {
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
    for next in modules.into_sorted().map_err(temp_error)? {
        let (source, bag_path) = next.map_err(temp_error)?;
        let source = PathBuf::from(std::ffi::OsString::from_vec(source));
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

/// Checks custody.jsonl line by line, as `open_bundle` does, without holding it.
pub(super) fn check_custody(reader: &mut BundleReader) -> Result<(), String> {
    use std::io::BufRead;
    let path = reader.path().to_owned();
    let mut input = metadata_stream(reader, CUSTODY_PATH)?;
    let mut line = Vec::new();
    let mut first_error = None;
    for n in 1.. {
        line.clear();
        let got = input
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {CUSTODY_PATH}: {e}", path.display()))?;
        if got == 0 {
            break;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if first_error.is_none() && !text.iter().all(u8::is_ascii_whitespace) {
            if let Err(e) = serde_json::from_slice::<crate::model::custody::CustodyEvent>(text) {
                first_error = Some((n, e.to_string()));
            }
        }
    }
    if input.into_inner().limit() == 0 {
        return Err(too_large(&path, CUSTODY_PATH, MAX_METADATA_BYTES + 1));
    }
    match first_error {
        Some((line, message)) => Err(BundleError::Custody {
            path,
            line,
            message,
        }
        .to_string()),
        None => Ok(()),
    }
}

/// Module items of a bundle (source path bytes, bag path) put in source-path order without
/// holding them all: runs of [`SORT_RUN`] are sorted in memory, spilled to an anonymous temp
/// file and merged. Stable: equal paths keep the order they were pushed in.
pub(super) struct SortedItems {
    run: Vec<(Vec<u8>, String)>,
    pub(super) spill: Option<io::BufWriter<std::fs::File>>,
    /// Byte range of each spilled run in the temp file.
    runs: Vec<Range<u64>>,
    written: u64,
}

/// Items sorted in memory at once (a few hundred KiB).
pub(super) const SORT_RUN: usize = 4096;

pub(super) type SortedItem = io::Result<(Vec<u8>, String)>;

impl SortedItems {
    pub(super) fn new() -> Self {
        SortedItems {
            run: Vec::new(),
            spill: None,
            runs: Vec::new(),
            written: 0,
        }
    }

    pub(super) fn push(&mut self, source: Vec<u8>, bag_path: String) -> io::Result<()> {
        self.run.push((source, bag_path));
        if self.run.len() >= SORT_RUN {
            self.spill_run()?;
        }
        Ok(())
    }

    fn spill_run(&mut self) -> io::Result<()> {
        use std::io::Write;
        self.run.sort_by(|a, b| a.0.cmp(&b.0));
        if self.spill.is_none() {
            self.spill = Some(io::BufWriter::new(tempfile::tempfile()?));
        }
        let w = self.spill.as_mut().expect("just set");
        let start = self.written;
        for (source, bag_path) in self.run.drain(..) {
            for field in [&source[..], bag_path.as_bytes()] {
                w.write_all(&(field.len() as u32).to_le_bytes())?;
                w.write_all(field)?;
                self.written += 4 + field.len() as u64;
            }
        }
        self.runs.push(start..self.written);
        Ok(())
    }

    /// Every item in order; the iterator yields an error if the temp file cannot be read.
    pub(super) fn into_sorted(mut self) -> io::Result<Box<dyn Iterator<Item = SortedItem>>> {
        if self.spill.is_none() {
            self.run.sort_by(|a, b| a.0.cmp(&b.0));
            return Ok(Box::new(self.run.into_iter().map(Ok)));
        }
        if !self.run.is_empty() {
            self.spill_run()?;
        }
        let file = std::sync::Arc::new(
            self.spill
                .take()
                .expect("spilled")
                .into_inner()
                .map_err(|e| e.into_error())?,
        );
        let mut merge = Merge {
            readers: Vec::new(),
            heads: std::collections::BinaryHeap::new(),
            failed: false,
        };
        for (i, range) in self.runs.iter().enumerate() {
            // Small buffers: one per run is held during the merge.
            let mut r = io::BufReader::with_capacity(
                8 << 10,
                RunReader {
                    file: file.clone(),
                    at: range.start,
                    end: range.end,
                },
            );
            if let Some(item) = read_record(&mut r)? {
                merge.heads.push(std::cmp::Reverse((item.0, i, item.1)));
            }
            merge.readers.push(r);
        }
        Ok(Box::new(merge))
    }
}

/// One spilled run, read with positioned reads (the runs share one file).
pub(super) struct RunReader {
    file: std::sync::Arc<std::fs::File>,
    at: u64,
    end: u64,
}

impl Read for RunReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let want = buf.len().min((self.end - self.at) as usize);
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

pub(super) fn read_record(r: &mut impl Read) -> io::Result<Option<(Vec<u8>, String)>> {
    let mut field = || -> io::Result<Option<Vec<u8>>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut v = vec![0u8; u32::from_le_bytes(len) as usize];
        r.read_exact(&mut v)?;
        Ok(Some(v))
    };
    let Some(source) = field()? else {
        return Ok(None);
    };
    let bag_path = field()?.ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let bag_path = String::from_utf8(bag_path).map_err(io::Error::other)?;
    Ok(Some((source, bag_path)))
}

/// K-way merge of the spilled runs; ties go to the earlier run (stable).
pub(super) struct Merge {
    readers: Vec<io::BufReader<RunReader>>,
    heads: std::collections::BinaryHeap<std::cmp::Reverse<(Vec<u8>, usize, String)>>,
    failed: bool,
}

impl Iterator for Merge {
    type Item = SortedItem;
    fn next(&mut self) -> Option<SortedItem> {
        if self.failed {
            return None;
        }
        let std::cmp::Reverse((source, run, bag_path)) = self.heads.pop()?;
        match read_record(&mut self.readers[run]) {
            Ok(Some((s, b))) => self.heads.push(std::cmp::Reverse((s, run, b))),
            Ok(None) => {}
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        }
        Some(Ok((source, bag_path)))
    }
}
