//! One open file from check to use: a bundle verified and then read through the same open
//! handle, so a file swapped (renamed over) between the check and the reading cannot slip
//! unverified content into a report, and bytes changed in place are caught because what is
//! read is hashed again and compared with what was verified. Also the one statement of what a
//! verification proved ([`Proof`], [`timestamp_statement`]), for every command that prints it.

use crate::bundle::reader::{load_contents, BundleContents, BundleError, BundleReader};
use crate::bundle::verify::{
    verify_file, BagKind, SignatureStatus, TimestampStatus, Verdict, VerifyOptions, VerifyReport,
};
use crate::io::pread::PreadFile;
use std::fmt;
use std::path::Path;

/// What a verification proved about an intact bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Proof {
    /// Intact, and signed by the examiner key the caller gave.
    SignedByExaminer { key_id: String },
    /// Intact, and no signature in the bundle.
    NotSigned,
    /// Intact, with a signature valid for the key embedded in it, but no examiner key was
    /// given to say whose key that is.
    SignatureNotChecked { key_id: String },
}

impl Proof {
    /// What `report` proved, or `None` when the bundle is not intact.
    pub fn of(report: &VerifyReport) -> Option<Proof> {
        if report.verdict != Verdict::Intact {
            return None;
        }
        Some(match &report.signature {
            SignatureStatus::Valid {
                key_id,
                examiner_key_checked: true,
            } => Proof::SignedByExaminer {
                key_id: key_id.clone(),
            },
            SignatureStatus::Valid { key_id, .. } => Proof::SignatureNotChecked {
                key_id: key_id.clone(),
            },
            // An intact verdict never carries an invalid signature; say the least.
            SignatureStatus::Absent | SignatureStatus::Invalid => Proof::NotSigned,
        })
    }
}

impl fmt::Display for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proof::SignedByExaminer { key_id } => {
                write!(f, "intact, signed by examiner key {key_id}")
            }
            Proof::NotSigned => write!(f, "intact, NOT signed"),
            Proof::SignatureNotChecked { key_id } => write!(
                f,
                "intact, signature by key {key_id} not checked (no --examiner-key)"
            ),
        }
    }
}

/// The trusted timestamp as one sentence of fact, for `verify` and the reports' chain of
/// custody: the proven time and the TSA when verified, otherwise what is known.
pub fn timestamp_statement(status: &TimestampStatus) -> String {
    match status {
        TimestampStatus::Absent => "not recorded".to_owned(),
        TimestampStatus::NotVerified => "timestamp present, not verified (no --tsa-cert)".to_owned(),
        TimestampStatus::Verified { gen_time, tsa, .. } => format!(
            "the bundle digest existed at {gen_time}, attested by the TSA {tsa} (RFC 3161, verified against --tsa-cert)"
        ),
        TimestampStatus::Invalid => "INVALID (see the verification problems)".to_owned(),
    }
}

/// A bundle verified and read through one handle.
#[derive(Debug)]
pub struct VerifiedBundle {
    pub report: VerifyReport,
    pub contents: BundleContents,
}

/// Opens `path` once, verifies it with `opts`, then loads its evidence and custody record
/// through the same handle. A bundle that is not readable at all is an error; an altered one
/// is returned with its report (callers mark their output). An error, too, when what was read
/// after verification is not what verification hashed.
pub fn open_verified(path: &Path, opts: &VerifyOptions) -> Result<VerifiedBundle, BundleError> {
    let io = |source| BundleError::Io {
        path: path.to_owned(),
        source,
    };
    let file = PreadFile::open(path).map_err(io)?;
    let report = verify_file(&file, &path.display().to_string(), opts);
    if report.verdict == Verdict::Unreadable {
        let why: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        return Err(BundleError::NotZip {
            path: path.to_owned(),
            message: why.join("; "),
        });
    }
    // A bag another tool made passed RFC 8493 only: it is no bundle to read evidence from.
    if report.kind == Some(BagKind::GenericBag) {
        return Err(BundleError::GenericBag {
            path: path.to_owned(),
        });
    }
    let mut reader = BundleReader::from_file(file, path)?;
    let (contents, [evidence, custody]) = load_contents(&mut reader)?;
    let same = report.digest.is_none_or(|d| d == contents.digest)
        && report.metadata.evidence.is_none_or(|d| d == evidence)
        && report.metadata.custody.is_none_or(|d| d == custody);
    if !same {
        return Err(BundleError::ChangedSinceVerified {
            path: path.to_owned(),
        });
    }
    Ok(VerifiedBundle { report, contents })
}
