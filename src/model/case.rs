//! The case file (`case.toml`): who is examining which incident, and the times the responders
//! declare (detected, contained, …). Collect stores it in the bundle; reports read it back from
//! the evidence model, never from disk.

use crate::model::finding::{IncidentType, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Largest case file accepted; a case file is hand-written prose, not bulk data (the demo's is
/// 2.5 KiB). The TOML reader holds up to ~75 times its input while parsing (measured: a 4 MiB
/// array of `{}` or `1,` held 317 MiB), so the cap keeps that under 64 MiB.
pub const MAX_CASE_FILE_BYTES: u64 = 512 << 10;

/// Declared times of the incident, in the runbook's order. Every field is optional: a report
/// says "unknown" for a missing one and never guesses.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeclaredTimes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromise_estimated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contained: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_revoked: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_key_generated: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modules_resigned: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed: Option<DateTime<Utc>>,
}

impl DeclaredTimes {
    /// (machine name, description, time) for each declared time, in runbook order.
    pub fn entries(&self) -> Vec<(&'static str, &'static str, Option<DateTime<Utc>>)> {
        vec![
            (
                "compromise_estimated",
                "Compromise began (estimated)",
                self.compromise_estimated,
            ),
            ("detected", "Incident detected", self.detected),
            ("contained", "Incident contained", self.contained),
            ("key_revoked", "Compromised key revoked", self.key_revoked),
            (
                "new_key_generated",
                "Replacement key generated",
                self.new_key_generated,
            ),
            (
                "modules_resigned",
                "Affected modules re-signed",
                self.modules_resigned,
            ),
            ("notified", "Stakeholders notified", self.notified),
            ("recovered", "Service recovered", self.recovered),
            ("reviewed", "Post-incident review held", self.reviewed),
        ]
    }
}

/// The compromise window: signatures made with the compromised key inside it are suspect.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub from: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

/// Key identities the case is about (wsc key ids, 24 hex characters, or key fingerprints).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseKeys {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compromised: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// An extra declared event with free text (e.g. "key found in public repository").
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeclaredEvent {
    pub at: DateTime<Utc>,
    pub description: String,
}

/// Everything the examiner states about the case. Parsed from `case.toml`; command-line flags
/// override single fields.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CaseInfo {
    #[serde(default)]
    pub case_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examiner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_type: Option<IncidentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// What allowed the incident, as the examiner understands it (RCA "root cause").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_items: Vec<String>,
    #[serde(default)]
    pub times: DeclaredTimes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    #[serde(default)]
    pub keys: CaseKeys,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<DeclaredEvent>,
    /// What the external documents (notice, advisory) need and only the examiner can say.
    #[serde(default, skip_serializing_if = "Disclosure::is_empty")]
    pub disclosure: Disclosure,
}

/// Facts for the external documents (`[disclosure]` in case.toml). Every field is optional; a
/// document writes "not recorded" for a missing one.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Disclosure {
    /// CVE identifiers assigned to the incident.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cve_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixed_versions: Vec<String>,
    /// Where recipients report problems or ask questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Traffic Light Protocol marking (`TLP:CLEAR`, `TLP:GREEN`, `TLP:AMBER`, `TLP:RED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<String>,
    /// Who the external documents go to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distribution: Vec<String>,
    /// File name of the new public key sent with the key-compromise notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_public_key_file: Option<String>,
    /// Lessons learned, as the review recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lessons_learned: Option<String>,
}

impl Disclosure {
    pub fn is_empty(&self) -> bool {
        *self == Disclosure::default()
    }
}

/// A case file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    #[error("{path}: case file is {size} bytes, over the {max}-byte limit")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not valid UTF-8 text")]
    NotUtf8 { path: String },
    /// `message` is one line (`line 2, column 12: …`), for findings and logs; `layout` is
    /// toml's own text (the line quoted, a caret under the column), for a person at a terminal.
    #[error("{path}: {message}")]
    Syntax {
        path: String,
        message: String,
        layout: String,
    },
}

/// A TOML syntax error of `text` as (one line naming the line and column, toml's own
/// multi-line layout): the one rendering of TOML errors (case files, runbook overrides).
pub fn toml_error_text(e: &toml::de::Error, text: &str) -> (String, String) {
    let message = e.message().trim().replace('\n', " ");
    let line = match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    };
    (line, e.to_string().trim_end().to_owned())
}

impl CaseInfo {
    /// Parses case.toml text; `path` only names the file in errors.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Self, CaseFileError> {
        if bytes.len() as u64 > MAX_CASE_FILE_BYTES {
            return Err(CaseFileError::TooLarge {
                path: path.to_owned(),
                size: bytes.len() as u64,
                max: MAX_CASE_FILE_BYTES,
            });
        }
        let text =
            std::str::from_utf8(bytes).map_err(|_| CaseFileError::NotUtf8 { path: path.into() })?;
        toml::from_str(text).map_err(|e| {
            let (message, layout) = toml_error_text(&e, text);
            CaseFileError::Syntax {
                path: path.to_owned(),
                message,
                layout,
            }
        })
    }

    /// Reads and parses a case file from disk.
    pub fn load(path: &std::path::Path) -> Result<Self, CaseFileError> {
        use crate::io::bounded_read::{read_regular_file, BoundedReadError};
        let name = path.display().to_string();
        // Only a regular file, never past the limit: a FIFO would block, `/dev/zero` never end.
        let bytes = read_regular_file(path, MAX_CASE_FILE_BYTES).map_err(|e| match e {
            BoundedReadError::TooLarge { size, max } => CaseFileError::TooLarge {
                path: name.clone(),
                size,
                max,
            },
            BoundedReadError::Io(source) => CaseFileError::Io {
                path: name.clone(),
                source,
            },
            e @ BoundedReadError::NotRegularFile(_) => CaseFileError::Io {
                path: name.clone(),
                source: std::io::Error::other(e.to_string()),
            },
        })?;
        Self::parse(&name, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_case_file() {
        let text = r#"
case_id = "IR-2026-017"
examiner = "A. Examiner"
incident_type = "INC-1"
severity = "critical"
open_items = ["rotate CI secrets"]
[times]
detected = "2026-11-20T09:00:00Z"
contained = "2026-11-20T11:30:00+01:00"
[window]
from = "2026-11-18T00:00:00Z"
[keys]
compromised = ["c858d5ec82d976c190cb33d0"]
[[events]]
at = "2026-11-19T22:00:00Z"
description = "secret key pushed to a public repository"
"#;
        let c = CaseInfo::parse("case.toml", text.as_bytes()).unwrap();
        assert_eq!(c.case_id, "IR-2026-017");
        assert_eq!(c.incident_type, Some(IncidentType::KeyCompromise));
        assert_eq!(c.severity, Some(Severity::Critical));
        assert_eq!(
            c.times.contained.unwrap().to_rfc3339(),
            "2026-11-20T10:30:00+00:00"
        );
        assert_eq!(c.keys.compromised, vec!["c858d5ec82d976c190cb33d0"]);
        assert_eq!(c.events.len(), 1);
        assert!(c.times.recovered.is_none());
    }

    #[test]
    fn the_demo_case_file_parses_completely() {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/case.toml");
        let c = CaseInfo::load(&p).unwrap();
        assert_eq!(c.case_id, "IR-2026-0042");
        assert!(c.times.entries().iter().all(|(_, _, t)| t.is_some()));
        assert_eq!(
            c.keys.replacement.as_deref(),
            Some("465c5341001f3e570f784f71")
        );
        assert_eq!(c.events.len(), 2);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let e = CaseInfo::parse("x/case.toml", b"severity = \"apocalyptic\"").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("x/case.toml: "), "{msg}");
        assert!(msg.contains("apocalyptic"), "{msg}");
        let e = CaseInfo::parse("c.toml", b"unknown_field = 1").unwrap_err();
        assert!(e.to_string().contains("unknown_field"));
        assert!(matches!(
            CaseInfo::parse("c", b"\xff"),
            Err(CaseFileError::NotUtf8 { .. })
        ));
    }
}
