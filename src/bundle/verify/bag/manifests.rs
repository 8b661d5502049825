//! Every payload and tag manifest of every algorithm: each line's path judged as written and
//! resolved to a file, each file hashed once through every algorithm that lists it (in
//! parallel), each checksum compared, and every payload file looked for in every payload
//! manifest.

use super::algorithms::{Algorithm, Hashers};
use super::source::BagSource;
use super::{duplicates_allowed, manifest_algorithm, tag_text, Outcome, Scope, TagTexts};
use crate::bundle::bagit::{parse_any_manifest, unsafe_bag_path, AnyManifestLine, FetchLine};
use crate::bundle::verify::problem::Warning;
use crate::bundle::verify::Problem;
use crate::model::digest::STREAM_CHUNK;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use unicode_normalization::UnicodeNormalization;

/// One manifest found at the top of the bag.
struct Manifest {
    name: String,
    at: usize,
    algorithm: Algorithm,
    payload: bool,
}

/// A line to compare once the files are hashed.
struct Expect {
    manifest: usize,
    file: usize,
    checksum: String,
}

/// The manifests at the top of the bag (for [`Scope::BesidesOurs`], all but SHA-256's).
fn find_manifests(
    source: &dyn BagSource,
    scope: Scope,
    problems: &mut Vec<Problem>,
) -> Vec<Manifest> {
    let mut found = Vec::new();
    for (at, f) in source.files().iter().enumerate() {
        for (prefix, payload) in [("manifest-", true), ("tagmanifest-", false)] {
            match manifest_algorithm(&f.rel, prefix) {
                None => {}
                Some(Err(name)) => problems.push(Problem::UnknownAlgorithm {
                    manifest: f.rel.clone(),
                    algorithm: name,
                }),
                Some(Ok(Algorithm::Sha256)) if scope == Scope::BesidesOurs => {}
                Some(Ok(algorithm)) => found.push(Manifest {
                    name: f.rel.clone(),
                    at,
                    algorithm,
                    payload,
                }),
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Checks every manifest; true when fetch.txt lists files that are not here (incomplete).
pub(super) fn check(
    source: &dyn BagSource,
    index: &HashMap<&str, usize>,
    texts: &mut TagTexts,
    fetch: &[FetchLine],
    scope: Scope,
    out: &mut Outcome,
) -> bool {
    let manifests = find_manifests(source, scope, &mut out.problems);
    if scope == Scope::Full && !manifests.iter().any(|m| m.payload) {
        out.problems.push(Problem::NoPayloadManifest);
    }
    let mut unfetched = false;
    let fetched: HashMap<&str, &FetchLine> = fetch.iter().map(|l| (l.path.as_str(), l)).collect();
    for l in fetch {
        if !index.contains_key(l.path.as_str()) {
            unfetched = true;
            out.problems.push(Problem::NotFetched {
                path: l.path.clone(),
                url: l.url.clone(),
            });
        }
    }
    // Built on the first path that names no file as written.
    let nfc = std::cell::OnceCell::new();
    let mut expects = Vec::new();
    let mut needs: BTreeMap<usize, BTreeSet<Algorithm>> = BTreeMap::new();
    for (k, m) in manifests.iter().enumerate() {
        let lines = match tag_text(source, m.at, texts).and_then(|t| {
            parse_any_manifest(&t, m.algorithm.hex_len()).map_err(|e| Problem::ManifestSyntax {
                manifest: m.name.clone(),
                line: e.line,
                detail: e.message,
            })
        }) {
            Ok(l) => l,
            Err(p) => {
                out.problems.push(p);
                continue;
            }
        };
        let mut listed: HashSet<usize> = HashSet::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for line in lines {
            let Some((path, file)) = resolve(source, m, line.clone(), index, &nfc, out) else {
                continue;
            };
            // Two lines naming one file (by two spellings, too) are a duplicate.
            let key = file.map_or_else(|| path.clone(), |i| source.files()[i].rel.clone());
            match seen.get(&key) {
                Some(c) if *c == line.checksum && duplicates_allowed(&texts.version) => {
                    out.warnings.push(Warning::DuplicateSameChecksum {
                        manifest: m.name.clone(),
                        path: path.clone(),
                        version: texts.version.clone(),
                    })
                }
                Some(_) => out.problems.push(Problem::DuplicateManifestLine {
                    manifest: m.name.clone(),
                    path: path.clone(),
                }),
                None => {}
            }
            seen.insert(key, line.checksum.clone());
            match file {
                Some(file) => {
                    listed.insert(file);
                    needs.entry(file).or_default().insert(m.algorithm);
                    expects.push(Expect {
                        manifest: k,
                        file,
                        checksum: line.checksum,
                    });
                }
                None if fetched.contains_key(path.as_str()) => {}
                None => out.problems.push(Problem::MissingFile {
                    manifest: m.name.clone(),
                    path,
                }),
            }
        }
        if m.payload {
            completeness(source, m, &listed, &seen, fetch, &mut out.problems);
        }
    }
    let digests = hash_files(source, texts, needs);
    compare(source, &manifests, &expects, digests, &mut out.problems);
    unfetched
}

/// The file a manifest line names, judged on the path as written: md5sum's `*` marker and a
/// leading `./` are read past with a warning, an unsafe path is a problem, a name that matches
/// only after Unicode normalisation is used with a warning. `None`: the line is refused.
fn resolve(
    source: &dyn BagSource,
    m: &Manifest,
    line: AnyManifestLine,
    index: &HashMap<&str, usize>,
    nfc: &std::cell::OnceCell<Fallback>,
    out: &mut Outcome,
) -> Option<(String, Option<usize>)> {
    let mut path = line.path;
    if let Some(rest) = path
        .strip_prefix('*')
        .filter(|_| !index.contains_key(path.as_str()))
    {
        out.warnings.push(Warning::BinaryMarker {
            manifest: m.name.clone(),
            line: line.line,
            path: rest.to_owned(),
        });
        path = rest.to_owned();
    }
    if let Some(rest) = path.strip_prefix("./") {
        out.warnings.push(Warning::DotSlash {
            manifest: m.name.clone(),
            line: line.line,
            path: rest.to_owned(),
        });
        path = rest.to_owned();
    }
    let outside = m.payload && !path.starts_with("data/");
    if let Some(reason) = unsafe_bag_path(&path).or(outside.then_some("not under data/")) {
        out.problems.push(Problem::UnsafeManifestPath {
            manifest: m.name.clone(),
            path,
            reason: reason.into(),
        });
        return None;
    }
    let file = match index.get(path.as_str()) {
        Some(&i) => Some(i),
        None => {
            let nfc = nfc.get_or_init(|| Fallback::of(source));
            let normal: String = path.nfc().collect();
            if let Some(&i) = nfc.nfc.get(&normal) {
                out.warnings.push(Warning::NormalizedMatch {
                    manifest: m.name.clone(),
                    path: path.clone(),
                });
                Some(i)
            } else if let Some(&[i]) = nfc.folded.get(&normal.to_lowercase()).map(Vec::as_slice) {
                out.warnings.push(Warning::CaseMatch {
                    manifest: m.name.clone(),
                    path: path.clone(),
                });
                Some(i)
            } else {
                None
            }
        }
    };
    Some((path, file))
}

/// The files by normalised name (NFC) and by NFC lower-cased name, for paths a bag made on a
/// normalising or case-insensitive file system lists in another form than the file has here.
struct Fallback {
    nfc: HashMap<String, usize>,
    folded: HashMap<String, Vec<usize>>,
}

impl Fallback {
    fn of(source: &dyn BagSource) -> Self {
        let mut f = Fallback {
            nfc: HashMap::new(),
            folded: HashMap::new(),
        };
        for (i, file) in source.files().iter().enumerate() {
            let n: String = file.rel.nfc().collect();
            f.folded.entry(n.to_lowercase()).or_default().push(i);
            f.nfc.insert(n, i);
        }
        f
    }
}

/// Every payload file is in payload manifest `m`, and so is every path fetch.txt lists.
fn completeness(
    source: &dyn BagSource,
    m: &Manifest,
    listed: &HashSet<usize>,
    seen: &HashMap<String, String>,
    fetch: &[FetchLine],
    problems: &mut Vec<Problem>,
) {
    let mut missing: Vec<&str> = source
        .files()
        .iter()
        .enumerate()
        .filter(|(i, f)| f.rel.starts_with("data/") && !listed.contains(i))
        .map(|(_, f)| f.rel.as_str())
        .collect();
    missing.sort();
    for path in missing {
        problems.push(Problem::NotInManifest {
            manifest: m.name.clone(),
            path: path.to_owned(),
        });
    }
    for l in fetch.iter().filter(|l| !seen.contains_key(&l.path)) {
        problems.push(Problem::FetchInvalid {
            line: l.line,
            detail: format!(
                "{} is not in {} (every fetched file must be)",
                l.path, m.name
            ),
        });
    }
}

type Digests = HashMap<usize, Result<Vec<(Algorithm, String)>, Problem>>;

/// Hashes each listed file once through the algorithms that list it: tag files already read
/// from their bytes, the others streamed in parallel, biggest first.
fn hash_files(
    source: &dyn BagSource,
    texts: &TagTexts,
    needs: BTreeMap<usize, BTreeSet<Algorithm>>,
) -> Digests {
    let mut jobs: Vec<(usize, Vec<Algorithm>)> = needs
        .into_iter()
        .map(|(i, a)| (i, a.into_iter().collect()))
        .collect();
    jobs.sort_by_key(|(i, _)| std::cmp::Reverse(source.files()[*i].size));
    jobs.par_iter()
        .with_max_len(1)
        .map(|(i, algs)| {
            let mut h = Hashers::new(algs);
            let r = match texts.bytes.get(i) {
                Some(b) => {
                    h.update(b);
                    Ok(())
                }
                None => {
                    let mut buf =
                        vec![0u8; STREAM_CHUNK.min(source.files()[*i].size.max(1) as usize)];
                    source.read(*i, &mut |r| loop {
                        match r.read(&mut buf)? {
                            0 => return Ok(()),
                            n => h.update(&buf[..n]),
                        }
                    })
                }
            };
            (
                *i,
                r.map(|()| algs.iter().copied().zip(h.finish()).collect()),
            )
        })
        .collect()
}

/// Each manifest line against its file's checksum; an unreadable file is named once.
fn compare(
    source: &dyn BagSource,
    manifests: &[Manifest],
    expects: &[Expect],
    mut digests: Digests,
    problems: &mut Vec<Problem>,
) {
    let mut failed: BTreeMap<usize, Problem> = BTreeMap::new();
    for e in expects {
        let m = &manifests[e.manifest];
        match digests.get(&e.file) {
            Some(Ok(d)) => {
                let actual = d
                    .iter()
                    .find(|(a, _)| *a == m.algorithm)
                    .map(|(_, h)| h.as_str());
                if actual != Some(e.checksum.as_str()) {
                    problems.push(Problem::ChecksumMismatch {
                        manifest: m.name.clone(),
                        path: source.files()[e.file].rel.clone(),
                        algorithm: m.algorithm.name().to_owned(),
                        expected: e.checksum.clone(),
                        actual: actual.unwrap_or("not computed").to_owned(),
                    });
                }
            }
            Some(Err(_)) => {
                if let Some(Err(p)) = digests.remove(&e.file) {
                    failed.insert(e.file, p);
                }
            }
            None => {}
        }
    }
    problems.extend(failed.into_values());
}
