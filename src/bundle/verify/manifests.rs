//! The manifests phase: manifest-sha256.txt and tagmanifest-sha256.txt, read line by line
//! while hashed, then every line checked against the bytes, and every entry against the lines.

use super::tag_files::missing_tag;
use super::Problem;
use super::{Hashes, Located, Names, HASHED, PAYLOAD, UNREADABLE};
use crate::bundle::bagit::{
    parse_manifest_line, ManifestLineError, BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME,
    TAG_MANIFEST_NAME,
};
use crate::bundle::signature::SIGNATURE_NAME;
use crate::bundle::timestamp::TIMESTAMP_NAME;
use crate::model::digest::Sha256Digest;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};

/// Sentinel of [`Listing::by_entry`]: no line lists the entry.
const NOT_LISTED: u32 = u32::MAX;

/// A manifest as the checks need it, read line by line: per line its digest, the entry (or
/// entry-less path) it names and what is wrong with it alone; per entry the last line listing
/// it. About 45 bytes a line: paths stay in the zip's central directory, only those naming no
/// entry (each one a problem) are kept as text.
pub(super) struct Listing {
    lines: Vec<ListedLine>,
    by_entry: Vec<u32>,
    /// Paths that name no entry, with the last line listing each.
    elsewhere: Vec<(String, u32)>,
    elsewhere_index: HashMap<String, u32>,
}

struct ListedLine {
    digest: Sha256Digest,
    target: Target,
    duplicate: bool,
    outside: bool,
}

enum Target {
    Entry(u32),
    Elsewhere(u32),
}

impl Listing {
    fn new(entries: usize) -> Self {
        Listing {
            lines: Vec::new(),
            by_entry: vec![NOT_LISTED; entries],
            elsewhere: Vec::new(),
            elsewhere_index: HashMap::new(),
        }
    }

    fn add(&mut self, names: &Names, path: String, digest: Sha256Digest, payload_only: bool) {
        let line = self.lines.len() as u32;
        let outside = payload_only != path.starts_with("data/");
        let (target, duplicate) = match names.index(&path) {
            Some(i) => {
                let dup = self.by_entry[i] != NOT_LISTED;
                self.by_entry[i] = line;
                (Target::Entry(i as u32), dup)
            }
            None => match self.elsewhere_index.get(&path) {
                Some(&k) => {
                    self.elsewhere[k as usize].1 = line;
                    (Target::Elsewhere(k), true)
                }
                None => {
                    let k = self.elsewhere.len() as u32;
                    self.elsewhere_index.insert(path.clone(), k);
                    self.elsewhere.push((path, line));
                    (Target::Elsewhere(k), false)
                }
            },
        };
        self.lines.push(ListedLine {
            digest,
            target,
            duplicate,
            outside,
        });
    }

    fn lists_entry(&self, index: usize) -> bool {
        self.by_entry[index] != NOT_LISTED
    }

    /// The digest listed for `path` (by its last line).
    pub fn digest_of(&self, names: &Names, path: &str) -> Option<Sha256Digest> {
        let line = match names.index(path) {
            Some(i) => Some(self.by_entry[i]).filter(|&l| l != NOT_LISTED),
            None => self
                .elsewhere_index
                .get(path)
                .map(|&k| self.elsewhere[k as usize].1),
        };
        line.map(|l| self.lines[l as usize].digest)
    }
}

/// A manifest entry as read: its listing, a syntax error (no listing, as before), or no text
/// (missing, unreadable or too large to load).
pub(super) enum ManifestRead {
    Lines(Listing),
    Syntax(ManifestLineError),
    Absent,
}

impl ManifestRead {
    pub fn listing(&self) -> Option<&Listing> {
        match self {
            ManifestRead::Lines(l) => Some(l),
            _ => None,
        }
    }
}

/// Parses a manifest line by line as it streams (lossy UTF-8 per line equals lossy UTF-8 of
/// the whole text split at `\n`, since a newline never sits inside a UTF-8 sequence).
pub(super) fn read_listing(
    r: &mut dyn Read,
    names: &Names,
    payload_only: bool,
) -> io::Result<ManifestRead> {
    let mut r = BufReader::with_capacity(64 << 10, r);
    let mut listing = Listing::new(names.za.len());
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        match parse_manifest_line(number, &String::from_utf8_lossy(&line)) {
            Ok(None) => {}
            Ok(Some((path, digest))) => listing.add(names, path, digest, payload_only),
            Err(e) => return Ok(ManifestRead::Syntax(e)),
        }
    }
    Ok(ManifestRead::Lines(listing))
}

/// Checks both manifests line by line in file order, then the entries neither lists.
pub(super) fn check(hashes: &Hashes, names: &Names, at: &Located, problems: &mut Vec<Problem>) {
    check_lines(
        hashes,
        names,
        problems,
        MANIFEST_NAME,
        &hashes.manifest,
        at.manifest,
    );
    if let Some(m) = hashes.manifest.listing() {
        for path in unlisted(hashes, names, m, PAYLOAD, PAYLOAD) {
            problems.push(Problem::UnlistedPayload { path });
        }
    }
    check_lines(
        hashes,
        names,
        problems,
        TAG_MANIFEST_NAME,
        &hashes.tag_manifest,
        at.tag_manifest,
    );
    if let Some(tm) = hashes.tag_manifest.listing() {
        for required in [BAGIT_TXT_NAME, BAG_INFO_NAME, MANIFEST_NAME] {
            if tm.digest_of(names, required).is_none() {
                problems.push(Problem::TagFileNotCovered {
                    path: required.to_owned(),
                });
            }
        }
        for path in unlisted(hashes, names, tm, PAYLOAD, 0) {
            if path != TAG_MANIFEST_NAME && path != SIGNATURE_NAME && path != TIMESTAMP_NAME {
                problems.push(Problem::UnlistedTagFile { path });
            }
        }
    }
}

/// Hashed entries whose flags are `want` under `mask`, that `listing` does not list, sorted.
fn unlisted(hashes: &Hashes, names: &Names, listing: &Listing, mask: u8, want: u8) -> Vec<String> {
    let mut out: Vec<String> = (0..hashes.flags.len())
        .filter(|&i| hashes.flags[i] & (mask | HASHED) == want | HASHED)
        .filter(|&i| !listing.lists_entry(i))
        .map(|i| names.rel(i))
        .collect();
    out.sort();
    out
}

/// Every line of one manifest against the bytes.
fn check_lines(
    hashes: &Hashes,
    names: &Names,
    problems: &mut Vec<Problem>,
    manifest: &str,
    read: &ManifestRead,
    at: Option<usize>,
) {
    let listing = match read {
        ManifestRead::Absent => return missing_tag(hashes, problems, manifest, at),
        ManifestRead::Syntax(e) => {
            return problems.push(Problem::ManifestSyntax {
                manifest: manifest.to_owned(),
                line: e.line,
                detail: e.message.clone(),
            })
        }
        ManifestRead::Lines(l) => l,
    };
    for line in &listing.lines {
        let (index, path) = match line.target {
            Target::Entry(i) => (Some(i as usize), None),
            Target::Elsewhere(k) => (None, Some(&listing.elsewhere[k as usize].0)),
        };
        let path = || {
            path.cloned()
                .unwrap_or_else(|| names.rel(index.unwrap_or(0)))
        };
        if line.duplicate {
            problems.push(Problem::DuplicateManifestLine {
                manifest: manifest.to_owned(),
                path: path(),
            });
        }
        if line.outside {
            problems.push(Problem::ManifestPathOutsidePayload {
                manifest: manifest.to_owned(),
                path: path(),
            });
        }
        match index {
            Some(i) if hashes.flags[i] & HASHED != 0 => {
                if hashes.digests[i] != line.digest {
                    problems.push(Problem::HashMismatch {
                        manifest: manifest.to_owned(),
                        path: path(),
                        expected: line.digest,
                        actual: hashes.digests[i],
                    });
                }
            }
            Some(i) if hashes.flags[i] & UNREADABLE != 0 => {}
            _ => problems.push(Problem::MissingFile {
                manifest: manifest.to_owned(),
                path: path(),
            }),
        }
    }
}
