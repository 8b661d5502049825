//! The tag files phase: bagit.txt (BagIt 1.0, UTF-8), bag-info.txt and its Payload-Oxum
//! against the payload as hashed.

use super::Problem;
use super::{Hashes, Located, Names, HASHED, PAYLOAD};
use crate::bundle::bagit::{
    parse_bagit_txt, parse_oxum, parse_tag_file, BAGIT_TXT_NAME, BAG_INFO_NAME,
};

/// A required tag file is missing (unless it is there but unreadable: that is named already).
pub(super) fn missing_tag(
    hashes: &Hashes,
    problems: &mut Vec<Problem>,
    rel: &str,
    at: Option<usize>,
) {
    if !hashes.unreadable(at) {
        problems.push(Problem::MissingTagFile {
            path: rel.to_owned(),
        });
    }
}

fn text(hashes: &Hashes, at: Option<usize>) -> Option<String> {
    hashes
        .kept(at)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// bagit.txt is exactly BagIt 1.0 in UTF-8 (the strict RFC 8493 syntax, as every bag gets);
/// the version as written, when it could be read.
pub(super) fn check_bagit(
    hashes: &Hashes,
    at: &Located,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let bagit_at = at.bagit;
    let Some(bytes) = hashes.kept(bagit_at) else {
        missing_tag(hashes, problems, BAGIT_TXT_NAME, bagit_at);
        return None;
    };
    match parse_bagit_txt(bytes) {
        Err(detail) => {
            problems.push(Problem::BadBagitTxt { detail });
            None
        }
        Ok(d) => {
            if d.version != "1.0" {
                problems.push(Problem::BadBagitTxt {
                    detail: format!(
                        "BagIt-Version {}, but a wsc-forensics bundle is BagIt-Version 1.0",
                        d.version
                    ),
                });
            }
            if !d.encoding.eq_ignore_ascii_case("UTF-8") {
                problems.push(Problem::BadBagitTxt {
                    detail: format!(
                        "Tag-File-Character-Encoding {}, but a wsc-forensics bundle is UTF-8",
                        d.encoding
                    ),
                });
            }
            Some(d.version)
        }
    }
}

/// (payload files, payload bytes): every data/ file, and the bytes of those hashed.
pub(super) fn payload(hashes: &Hashes, names: &Names) -> (u64, u64) {
    let (mut payload_files, mut payload_bytes) = (0u64, 0u64);
    for (i, &f) in hashes.flags.iter().enumerate() {
        if f & PAYLOAD != 0 {
            payload_files += 1;
            if f & HASHED != 0 {
                payload_bytes += names.size(i);
            }
        }
    }
    (payload_files, payload_bytes)
}

/// bag-info.txt parses and its Payload-Oxum is the payload's; its External-Identifier.
pub(super) fn check_bag_info(
    hashes: &Hashes,
    at: &Located,
    (payload_files, payload_bytes): (u64, u64),
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let bag_info_at = at.bag_info;
    let mut external_id = None;
    match text(hashes, bag_info_at) {
        None => missing_tag(hashes, problems, BAG_INFO_NAME, bag_info_at),
        Some(t) => match parse_tag_file(&t) {
            Err(line) => problems.push(Problem::BadBagInfo {
                detail: format!("line {line} is not `Label: value`"),
            }),
            Ok(tags) => {
                external_id = tags
                    .iter()
                    .find(|(k, _)| k == "External-Identifier")
                    .map(|(_, v)| v.clone());
                match tags.iter().find(|(k, _)| k == "Payload-Oxum") {
                    None => problems.push(Problem::BadBagInfo {
                        detail: "no Payload-Oxum".into(),
                    }),
                    Some((_, v)) => {
                        let actual = format!("{payload_bytes}.{payload_files}");
                        if parse_oxum(v) != Some((payload_bytes, payload_files)) {
                            problems.push(Problem::OxumMismatch {
                                declared: v.clone(),
                                actual,
                            });
                        }
                    }
                }
            }
        },
    }
    external_id
}
