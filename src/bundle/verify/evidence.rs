//! The evidence phase: evidence.json parses with a known schema, its case id is the bag folder,
//! and every item's bag path is in the payload manifest with the same digest. Parsed while
//! hashed; a document the fast reader leaves alone is judged again, streamed or whole.

use super::manifests::Listing;
use super::Problem;
use super::{loadable, read_entry, Hashes, Located, Names, Zip, HASHED};
use crate::bundle::bagit::MANIFEST_NAME;
use crate::bundle::reader::{
    judge_evidence_index, parse_evidence_index, IndexJudgement, ItemIndex,
};
use std::io::{self, Read};

/// What the evidence check finds wrong with one item, given the payload manifest.
pub(super) fn item_problem(
    item: &ItemIndex,
    manifest: Option<&Listing>,
    names: &Names,
) -> Option<Problem> {
    let bp = item.bag_path.as_ref()?;
    let manifest = manifest?;
    match manifest.digest_of(names, bp) {
        Some(d) if d == item.sha256 => None,
        Some(d) => Some(Problem::EvidenceDisagrees {
            source: item.source.text.clone(),
            detail: format!(
                "sha256 {} but {MANIFEST_NAME} lists {bp} as {d}",
                item.sha256
            ),
        }),
        None => Some(Problem::EvidenceDisagrees {
            source: item.source.text.clone(),
            detail: format!("{bp} is not in {MANIFEST_NAME}"),
        }),
    }
}

/// evidence.json as read while hashed.
pub(super) enum EvidenceRead {
    /// Parsed: its case id and the problems of its items, in order.
    Parsed {
        case_id: String,
        problems: Vec<Problem>,
    },
    /// Not parsed while streaming; parsed whole afterwards to name what is wrong.
    Unsure,
}

/// Checks evidence.json; its case id, when it could be read.
pub(super) fn check(
    za: &Zip,
    names: &Names,
    hashes: &Hashes,
    at: &Located,
    root: &str,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let evidence_at = at.evidence;
    let manifest = hashes.manifest.listing();
    let mut case_id = None;
    let case_problem = |problems: &mut Vec<Problem>, id: &str| {
        if id != root {
            problems.push(Problem::EvidenceDisagrees {
                source: "(case)".into(),
                detail: format!("case id {id:?} but the bag folder is {root:?}"),
            });
        }
    };
    match evidence_at.filter(|&i| hashes.flags[i] & HASHED != 0) {
        None => {
            if !hashes.unreadable(evidence_at) {
                problems.push(Problem::EvidenceInvalid {
                    detail: "missing".into(),
                });
            }
        }
        Some(i) if !loadable(names, i) => problems.push(Problem::EvidenceInvalid {
            detail: "too large to load".into(),
        }),
        Some(_) => {
            match &hashes.evidence {
                Some(EvidenceRead::Parsed {
                    case_id: id,
                    problems: found,
                }) => {
                    case_problem(problems, id);
                    case_id = Some(id.clone());
                    problems.extend(found.iter().cloned());
                }
                // Malformed, or of a shape the fast reader leaves alone: judged while streamed
                // again, else read whole (at most MAX_METADATA_BYTES, as always), so that the
                // problem is named exactly as the whole-document parse names it.
                Some(EvidenceRead::Unsure) | None => {
                    let ev =
                        match evidence_judged(za, evidence_at, names, hashes, manifest) {
                            Err(p) => Err(p),
                            Ok(Judged::Done(j)) => Ok(j),
                            Ok(Judged::Whole) => evidence_whole(za, evidence_at, names, hashes)
                                .map(|bytes| match parse_evidence_index(&bytes) {
                                    Err(detail) => Err(detail),
                                    Ok(ev) => {
                                        let found = ev
                                            .items
                                            .iter()
                                            .filter_map(|item| item_problem(item, manifest, names))
                                            .collect();
                                        Ok((ev.case.case_id, found))
                                    }
                                }),
                        };
                    match ev {
                        Err(p) => problems.push(p),
                        Ok(Err(detail)) => problems.push(Problem::EvidenceInvalid { detail }),
                        Ok(Ok((id, found))) => {
                            case_problem(problems, &id);
                            case_id = Some(id);
                            problems.extend(found);
                        }
                    }
                }
            }
        }
    }
    case_id
}

/// evidence.json as judged by [`judge_evidence_index`]: (case id, item problems), or what
/// is wrong with it.
type EvidenceJudged = Result<(String, Vec<Problem>), String>;

enum Judged {
    Done(EvidenceJudged),
    Whole,
}

/// evidence.json judged while streamed, for a document [`scan_evidence_index`] left alone. It
/// is read a second time, so its digest must still be the one the hashing stage recorded.
fn evidence_judged(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
    manifest: Option<&Listing>,
) -> Result<Judged, Problem> {
    let mut found = Vec::new();
    let judged = read_again(za, at, names, hashes, |r| {
        judge_evidence_index(r, |item| found.extend(item_problem(&item, manifest, names)))
    })?;
    Ok(match judged {
        IndexJudgement::Parsed { case_id } => Judged::Done(Ok((case_id, found))),
        IndexJudgement::Invalid(detail) => Judged::Done(Err(detail)),
        IndexJudgement::Whole => Judged::Whole,
    })
}

/// evidence.json read whole, for the rare document [`judge_evidence_index`] leaves alone.
fn evidence_whole(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
) -> Result<Vec<u8>, Problem> {
    let size = names.size(at.unwrap_or(0));
    read_again(za, at, names, hashes, |r| {
        // At most MAX_METADATA_BYTES (the caller checked): reserved once, not doubled.
        let mut bytes = Vec::with_capacity(size as usize);
        r.read_to_end(&mut bytes).map(|_| bytes)
    })
}

/// Reads entry `at` a second time through `parse`: its digest must still be the one the
/// hashing stage recorded.
fn read_again<T>(
    za: &Zip,
    at: Option<usize>,
    names: &Names,
    hashes: &Hashes,
    parse: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<T, Problem> {
    let i = at.unwrap_or(0);
    let entry = names.name(i);
    let mut reader = za.clone();
    let mut buf = vec![0u8; 64 << 10];
    let (digest, parsed) = read_entry(&mut reader, i, &entry, names.size(i), &mut buf, parse)?;
    if digest != hashes.digests[i] {
        return Err(Problem::EntryUnreadable {
            entry,
            message: "changed while being verified".into(),
        });
    }
    Ok(parsed)
}
