//! Chain of custody: one [`CustodyEvent`] per line of `data/custody.jsonl`, saying who did what
//! to which source, when, on which host, with which tool and arguments, and what it hashed to.

use crate::model::digest::Sha256Digest;
use crate::model::evidence::{FileStat, RecordedPath, ToolInfo};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// What happened in one custody step.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum CustodyAction {
    CollectionStarted,
    /// A source was read, hashed and (unless a secret key) copied into the bag.
    Acquired,
    /// A secret key: stat and hash recorded, bytes not copied.
    MetadataOnly,
    /// A source was seen and not collected (reason in `note`).
    NotCollected,
    /// A source changed while it was being read.
    ChangedDuringAcquisition,
    CollectionFinished,
}

/// Who acted: the examiner named by the case, and the operating-system account and host.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examiner: Option<String>,
    pub user: String,
    pub host: String,
}

/// One line of custody.jsonl.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CustodyEvent {
    /// Order of the event within this collection, from 0.
    pub seq: u64,
    /// UTC time with an explicit offset (`+00:00`, never `Z`).
    #[serde(serialize_with = "rfc3339_with_offset")]
    pub time: DateTime<FixedOffset>,
    pub action: CustodyAction,
    pub actor: Actor,
    pub tool: ToolInfo,
    /// Command line, with the values of secret-bearing flags redacted.
    pub argv: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RecordedPath>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_before: Option<FileStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat_after: Option<FileStat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

fn rfc3339_with_offset<S: serde::Serializer>(
    t: &DateTime<FixedOffset>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
}

/// Flags whose value is a secret and is replaced by `<redacted>` in a recorded argv. Paths of
/// secret key files are not secrets (the custody record must say which key was used); values
/// given inline as a passphrase or token are.
pub const SECRET_VALUE_FLAGS: &[&str] = &[
    "--passphrase",
    "--password",
    "--token",
    "--secret",
    "--api-key",
    "--pin",
];

/// Returns `argv` with the values of [`SECRET_VALUE_FLAGS`] replaced, in both `--flag value` and
/// `--flag=value` forms.
pub fn redact_argv<S: AsRef<str>>(argv: &[S]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut redact_next = false;
    for a in argv {
        let a = a.as_ref();
        if redact_next {
            out.push("<redacted>".to_owned());
            redact_next = false;
            continue;
        }
        if let Some((flag, _)) = a.split_once('=') {
            if SECRET_VALUE_FLAGS.contains(&flag) {
                out.push(format!("{flag}=<redacted>"));
                continue;
            }
        }
        redact_next = SECRET_VALUE_FLAGS.contains(&a);
        out.push(a.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_with_an_explicit_offset() {
        let ev = CustodyEvent {
            seq: 0,
            time: chrono::DateTime::parse_from_rfc3339("2026-11-17T12:30:00Z").unwrap(),
            action: CustodyAction::CollectionStarted,
            actor: Actor {
                examiner: None,
                user: "u".into(),
                host: "h".into(),
            },
            tool: ToolInfo::this(),
            argv: vec![],
            source: None,
            stat_before: None,
            stat_after: None,
            sha256: None,
            note: String::new(),
        };
        let j = serde_json::to_string(&ev).unwrap();
        assert!(j.contains("\"time\":\"2026-11-17T12:30:00+00:00\""), "{j}");
        let back: CustodyEvent = serde_json::from_str(&j).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn secret_values_are_redacted_and_paths_kept() {
        let argv = [
            "wsc-forensics",
            "collect",
            "--sign-key",
            "examiner.sec",
            "--passphrase",
            "hunter2",
            "--token=abc",
            "in",
        ];
        let r = redact_argv(&argv);
        assert_eq!(
            r,
            vec![
                "wsc-forensics",
                "collect",
                "--sign-key",
                "examiner.sec",
                "--passphrase",
                "<redacted>",
                "--token=<redacted>",
                "in"
            ]
        );
    }
}
