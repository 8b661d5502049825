//! Findings: what the tool concluded about the evidence, with the runbook's severity and the
//! incident type it points to. The case file and the evidence model both use these words, so they
//! live apart from both.

use crate::model::digest::Sha256Digest;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Severity levels of the incident runbook ("Incident Classification").
#[derive(
    schemars::JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Policy violation; respond within a week (e.g. key file permission issues).
    Low,
    /// Vulnerability discovered; respond within 24 hours.
    Medium,
    /// Suspected compromise; respond within 4 hours (e.g. unauthorized signatures).
    High,
    /// Active compromise; respond immediately (e.g. private key leaked).
    Critical,
}

impl Severity {
    /// The runbook's response-time target for this level.
    pub fn response_time(self) -> &'static str {
        match self {
            Severity::Critical => "Immediate",
            Severity::High => "< 4 hours",
            Severity::Medium => "< 24 hours",
            Severity::Low => "< 1 week",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        })
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity {s:?} (expected low, medium, high or critical)"
            )),
        }
    }
}

/// Incident types of the runbook.
#[derive(
    schemars::JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
pub enum IncidentType {
    /// INC-1: private key compromise.
    #[serde(rename = "INC-1")]
    KeyCompromise,
    /// INC-2: malicious module detected.
    #[serde(rename = "INC-2")]
    MaliciousModule,
    /// INC-3: Sigstore infrastructure compromise.
    #[serde(rename = "INC-3")]
    SigstoreCompromise,
    /// INC-4: dependency vulnerability.
    #[serde(rename = "INC-4")]
    DependencyVulnerability,
}

impl IncidentType {
    pub fn code(self) -> &'static str {
        match self {
            IncidentType::KeyCompromise => "INC-1",
            IncidentType::MaliciousModule => "INC-2",
            IncidentType::SigstoreCompromise => "INC-3",
            IncidentType::DependencyVulnerability => "INC-4",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            IncidentType::KeyCompromise => "Private Key Compromise",
            IncidentType::MaliciousModule => "Malicious Module Detected",
            IncidentType::SigstoreCompromise => "Sigstore Infrastructure Compromise",
            IncidentType::DependencyVulnerability => "Dependency Vulnerability",
        }
    }
}

impl fmt::Display for IncidentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for IncidentType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "INC-1" | "INC1" | "1" => Ok(IncidentType::KeyCompromise),
            "INC-2" | "INC2" | "2" => Ok(IncidentType::MaliciousModule),
            "INC-3" | "INC3" | "3" => Ok(IncidentType::SigstoreCompromise),
            "INC-4" | "INC4" | "4" => Ok(IncidentType::DependencyVulnerability),
            _ => Err(format!(
                "unknown incident type {s:?} (expected INC-1 … INC-4)"
            )),
        }
    }
}

/// One thing the tool concluded, with the runbook severity and the incident type it points to.
#[derive(schemars::JsonSchema, Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Stable kebab-case identifier (`signature-does-not-cover-module`, …): what scripts match on.
    pub code: String,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_type: Option<IncidentType>,
    /// One line, human readable.
    pub message: String,
    /// SHA-256 of the evidence items this finding is about (beyond the item that carries it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Sha256Digest>,
}

impl Finding {
    pub fn new(
        code: impl Into<String>,
        severity: Severity,
        incident_type: Option<IncidentType>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            code: code.into(),
            severity,
            incident_type,
            message: message.into(),
            related: Vec::new(),
        }
    }
}
