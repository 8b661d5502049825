//! RFC 8493 in full for any bag, read through [`source::BagSource`] (a directory or a zip):
//! bagit.txt, every payload and tag manifest of every algorithm present (each line against the
//! bytes), completeness both ways, Payload-Oxum, bag-info.txt, fetch.txt and the warnings of the
//! Library of Congress conformance suite. Our own bundles get these checks for what the bundle
//! phases do not read (manifests of other algorithms, fetch.txt): [`Scope::BesidesOurs`].

pub(crate) mod algorithms;
mod manifests;
pub(crate) mod source;

use super::problem::Warning;
use super::Problem;
use crate::bundle::bagit::{
    decode_tag_text, parse_bag_info, parse_bagit_txt, parse_fetch, parse_oxum, unsafe_bag_path,
    FetchLine, BAGIT_TXT_NAME, BAG_INFO_NAME,
};
use crate::bundle::reader::MAX_METADATA_BYTES;
use algorithms::Algorithm;
use source::BagSource;
use std::collections::HashMap;
use std::io::Read;

pub(crate) const FETCH_NAME: &str = "fetch.txt";

/// Which checks to make.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A bag another tool made: everything.
    Full,
    /// One of our bundles, whose phases check bagit.txt, bag-info.txt and the SHA-256
    /// manifests: the manifests of other algorithms and fetch.txt.
    BesidesOurs,
}

/// What the generic checks found.
#[derive(Default)]
pub(crate) struct Outcome {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
    pub version: Option<String>,
    pub payload_files: u64,
    pub payload_bytes: u64,
    pub external_id: Option<String>,
    /// bag-info.txt's Bag-Software-Agent, when given.
    pub agent: Option<String>,
}

/// The tag files read whole (small, parsed), by file index.
pub(crate) struct TagTexts {
    pub encoding: String,
    pub version: String,
    pub bytes: HashMap<usize, Vec<u8>>,
}

/// Reads file `index` whole, at most `MAX_METADATA_BYTES`.
fn read_whole(source: &dyn BagSource, index: usize) -> Result<Vec<u8>, Problem> {
    let f = &source.files()[index];
    if f.size > MAX_METADATA_BYTES {
        return Err(Problem::EntryUnreadable {
            entry: f.rel.clone(),
            message: format!(
                "{} bytes, over the {MAX_METADATA_BYTES}-byte limit for a tag file",
                f.size
            ),
        });
    }
    let mut out = Vec::with_capacity(f.size as usize);
    source.read(index, &mut |r| {
        r.take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut out)
            .map(|_| ())
    })?;
    Ok(out)
}

/// Runs the checks of `scope` over `source`.
pub(crate) fn check(source: &dyn BagSource, scope: Scope) -> Outcome {
    let mut out = Outcome::default();
    let files = source.files();
    let index: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.rel.as_str(), i))
        .collect();
    let mut texts = TagTexts {
        encoding: "UTF-8".into(),
        version: "1.0".into(),
        bytes: HashMap::new(),
    };
    if scope == Scope::Full {
        let Some(&at) = index.get(BAGIT_TXT_NAME) else {
            out.problems.push(Problem::MissingTagFile {
                path: BAGIT_TXT_NAME.into(),
            });
            return out;
        };
        let decl = read_whole(source, at).and_then(|b| {
            let d = parse_bagit_txt(&b).map_err(|detail| Problem::BadBagitTxt { detail });
            texts.bytes.insert(at, b);
            d
        });
        match decl {
            Ok(d) => {
                out.version = Some(d.version.clone());
                texts.encoding = d.encoding;
                texts.version = d.version;
            }
            Err(p) => {
                out.problems.push(p);
                return out;
            }
        }
    }
    let fetch = read_fetch(source, &index, &mut texts, &mut out.problems, scope);
    let unfetched = manifests::check(source, &index, &mut texts, &fetch, scope, &mut out);
    if scope == Scope::Full {
        payload_size(source, &mut out);
        check_bag_info(source, &index, &mut texts, unfetched, &mut out);
        warnings(source, &mut out.warnings);
    }
    out
}

/// Decodes tag file `at` in the bag's encoding (read whole, kept).
fn tag_text(source: &dyn BagSource, at: usize, texts: &mut TagTexts) -> Result<String, Problem> {
    if let std::collections::hash_map::Entry::Vacant(e) = texts.bytes.entry(at) {
        e.insert(read_whole(source, at)?);
    }
    let bytes = texts.bytes.get(&at).map(Vec::as_slice).unwrap_or_default();
    decode_tag_text(bytes, &texts.encoding).map_err(|detail| Problem::TagFileUndecodable {
        path: source.files()[at].rel.clone(),
        detail,
    })
}

/// fetch.txt's lines with safe paths under data/ (the others are problems).
fn read_fetch(
    source: &dyn BagSource,
    index: &HashMap<&str, usize>,
    texts: &mut TagTexts,
    problems: &mut Vec<Problem>,
    scope: Scope,
) -> Vec<FetchLine> {
    let Some(&at) = index.get(FETCH_NAME) else {
        return Vec::new();
    };
    if scope == Scope::BesidesOurs {
        problems.push(Problem::FetchInvalid {
            line: 0,
            detail: "our writer never writes a fetch.txt".into(),
        });
    }
    let text = match tag_text(source, at, texts) {
        Ok(t) => t,
        Err(p) => {
            problems.push(p);
            return Vec::new();
        }
    };
    let lines = match parse_fetch(&text) {
        Ok(l) => l,
        Err(e) => {
            problems.push(Problem::FetchInvalid {
                line: e.line,
                detail: e.message,
            });
            return Vec::new();
        }
    };
    lines
        .into_iter()
        .filter(|l| {
            let why = unsafe_bag_path(&l.path)
                .or((!l.path.starts_with("data/")).then_some("not under data/"));
            if let Some(reason) = why {
                problems.push(Problem::UnsafeManifestPath {
                    manifest: FETCH_NAME.into(),
                    path: l.path.clone(),
                    reason: reason.into(),
                });
            }
            why.is_none()
        })
        .collect()
}

/// The payload as found: files under data/ and their bytes.
fn payload_size(source: &dyn BagSource, out: &mut Outcome) {
    for f in source.files().iter().filter(|f| f.rel.starts_with("data/")) {
        out.payload_files += 1;
        out.payload_bytes += f.size;
    }
}

/// bag-info.txt (when present) parses; its Payload-Oxum, when given, is the payload's.
fn check_bag_info(
    source: &dyn BagSource,
    index: &HashMap<&str, usize>,
    texts: &mut TagTexts,
    unfetched: bool,
    out: &mut Outcome,
) {
    let Some(&at) = index.get(BAG_INFO_NAME) else {
        return;
    };
    let tags = match tag_text(source, at, texts) {
        Ok(t) => match parse_bag_info(&t) {
            Ok(tags) => tags,
            Err(line) => {
                return out.problems.push(Problem::BadBagInfo {
                    detail: format!("line {line} is neither `Label: value` nor a continuation"),
                })
            }
        },
        Err(p) => return out.problems.push(p),
    };
    let values = |label: &str| -> Vec<&str> {
        tags.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(label))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    out.external_id = values("External-Identifier")
        .first()
        .map(|s| (*s).to_owned());
    out.agent = values("Bag-Software-Agent")
        .first()
        .map(|s| (*s).to_owned());
    let oxum = values("Payload-Oxum");
    let Some(first) = oxum.first() else { return };
    if oxum.iter().any(|v| v != first) {
        return out.problems.push(Problem::BadBagInfo {
            detail: format!(
                "Payload-Oxum given {} times with different values",
                oxum.len()
            ),
        });
    }
    match parse_oxum(first) {
        None => out.problems.push(Problem::BadBagInfo {
            detail: format!("Payload-Oxum {first} is not <octets>.<streams>"),
        }),
        // With files still to fetch the payload is not all here: the bag is incomplete, and
        // that is what the verdict says; the Oxum is for the complete bag.
        Some(_) if unfetched => {}
        Some((bytes, files)) if (bytes, files) != (out.payload_bytes, out.payload_files) => {
            out.problems.push(Problem::OxumMismatch {
                declared: (*first).to_owned(),
                actual: format!("{}.{}", out.payload_bytes, out.payload_files),
            })
        }
        Some(_) => {}
    }
}

/// Names of files that operating systems leave behind, not evidence anyone meant to bag.
const SYSTEM_FILES: [&str; 4] = [".DS_Store", "Thumbs.db", "desktop.ini", "Icon\r"];

/// The conformance suite's warnings about the files themselves: system files in the payload,
/// names that differ only in case or only in Unicode normalisation.
fn warnings(source: &dyn BagSource, warnings: &mut Vec<Warning>) {
    use unicode_normalization::UnicodeNormalization;
    let mut by_case: HashMap<String, Vec<&str>> = HashMap::new();
    let mut by_nfc: HashMap<String, Vec<&str>> = HashMap::new();
    for f in source.files() {
        let base = f.rel.rsplit('/').next().unwrap_or(&f.rel);
        if f.rel.starts_with("data/") && (SYSTEM_FILES.contains(&base) || base.starts_with("._")) {
            warnings.push(Warning::SystemFile {
                path: f.rel.clone(),
            });
        }
        by_case
            .entry(f.rel.to_lowercase())
            .or_default()
            .push(&f.rel);
        by_nfc
            .entry(f.rel.nfc().collect())
            .or_default()
            .push(&f.rel);
    }
    let mut groups = |m: HashMap<String, Vec<&str>>, case: bool| {
        let mut found: Vec<Vec<String>> = m
            .into_values()
            .filter(|v| v.len() > 1)
            .map(|v| {
                let mut v: Vec<String> = v.into_iter().map(str::to_owned).collect();
                v.sort();
                v
            })
            .collect();
        found.sort();
        for paths in found {
            warnings.push(if case {
                Warning::CaseCollision { paths }
            } else {
                Warning::NormalizationCollision { paths }
            });
        }
    };
    groups(by_case, true);
    groups(by_nfc, false);
}

/// The BagIt version's rule for a path listed twice with the same checksum: allowed (with a
/// warning) before 1.0, forbidden by RFC 8493.
pub(crate) fn duplicates_allowed(version: &str) -> bool {
    version != "1.0"
}

/// Algorithms of the manifests named like `prefix<alg>.txt` at the top of the bag.
pub(crate) fn manifest_algorithm(rel: &str, prefix: &str) -> Option<Result<Algorithm, String>> {
    let name = rel.strip_prefix(prefix)?.strip_suffix(".txt")?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    Some(Algorithm::from_name(name).ok_or_else(|| name.to_owned()))
}
