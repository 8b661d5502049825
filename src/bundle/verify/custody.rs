//! The custody phase: custody.jsonl parses, line by line, as it is hashed.

use super::Problem;
use super::{loadable, Hashes, Located, Names, HASHED};
use crate::bundle::reader::read_custody_events;
use std::io::{self, Read};

/// Parses custody.jsonl as it streams, with the one custody reader: the first bad line.
pub(super) fn read_custody(r: &mut dyn Read) -> io::Result<Option<(usize, String)>> {
    read_custody_events(r, |_| {}).map(Result::err)
}

/// custody.jsonl present, readable and valid.
pub(super) fn check(hashes: &Hashes, names: &Names, at: &Located, problems: &mut Vec<Problem>) {
    match at
        .custody
        .filter(|&i| hashes.flags[i] & HASHED != 0 && loadable(names, i))
    {
        Some(_) => {
            if let Some(Some((line, detail))) = &hashes.custody {
                problems.push(Problem::CustodyInvalid {
                    line: *line,
                    detail: detail.clone(),
                });
            }
        }
        None if !hashes.unreadable(at.custody) => problems.push(Problem::CustodyInvalid {
            line: 0,
            detail: "missing".into(),
        }),
        None => {}
    }
}
