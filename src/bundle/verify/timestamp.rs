//! The timestamp phase: `bundle-timestamp.tsr`, when present, is a granted RFC 3161 token over
//! this bundle's digest; with `--tsa-cert` its CMS signature, the TSA certificate's chain to
//! the given certificates, its critical timeStamping usage and its validity at genTime are
//! verified too. Without `--tsa-cert` a token over the right digest is "present, not verified":
//! informational, not a failure (nothing was asked of it). With `--tsa-cert` and no token, the
//! proof of time asked for is missing: a failure.

use super::{Hashes, Located};
use super::{Problem, TimestampStatus, VerifyOptions};
use crate::bundle::timestamp::{check_response, MAX_RESPONSE_BYTES};
use crate::model::digest::Sha256Digest;
use crate::transparency::rfc3161::verify_token_anchored;

/// The timestamp's status; its problems go to `problems`.
pub(super) fn check(
    hashes: &Hashes,
    at: &Located,
    digest: Option<Sha256Digest>,
    opts: &VerifyOptions,
    problems: &mut Vec<Problem>,
) -> TimestampStatus {
    let (Some(token), Some(digest)) = (hashes.kept(at.timestamp), digest) else {
        return match at.timestamp {
            None if opts.tsa_anchors.is_some() => {
                problems.push(Problem::TimestampMissing);
                TimestampStatus::Absent
            }
            None => TimestampStatus::Absent,
            // Unreadable, or no digest to check it against: that problem is named already.
            Some(i) if hashes.unreadable(Some(i)) || digest.is_none() => TimestampStatus::Invalid,
            // Present but too large to be read as metadata: no token is that large.
            Some(_) => {
                problems.push(Problem::TimestampInvalid {
                    detail: "too large to be a timestamp token; not read".to_owned(),
                });
                TimestampStatus::Invalid
            }
        };
    };
    let invalid = |detail: String, problems: &mut Vec<Problem>| {
        problems.push(Problem::TimestampInvalid { detail });
        TimestampStatus::Invalid
    };
    if token.len() as u64 > MAX_RESPONSE_BYTES {
        return invalid(
            format!(
                "{} bytes, larger than any timestamp token ({MAX_RESPONSE_BYTES} at most)",
                token.len()
            ),
            problems,
        );
    }
    let Some(anchors) = &opts.tsa_anchors else {
        return match check_response(token, &digest, None) {
            Ok(_) => TimestampStatus::NotVerified,
            Err(e) => invalid(e.to_string(), problems),
        };
    };
    match verify_token_anchored(token, &digest.0, anchors) {
        Ok(v) => TimestampStatus::Verified {
            // Every fractional digit kept: a time rounded down would claim more than proven.
            gen_time: v
                .gen_time
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            tsa: v.tsa_subject,
            serial: v.facts.serial,
            policy: v.facts.policy,
        },
        Err(e) => invalid(e.to_string(), problems),
    }
}
