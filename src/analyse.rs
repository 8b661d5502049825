//! Dispatch from an [`ItemKind`] to the analyser that reads that kind of source. Analysers are
//! push-based: acquisition feeds them the same chunks it copies and hashes, so analysis costs no
//! second read of the source. Analysis is pure (bytes in, typed outcome out).

use crate::audit_log::AuditLogAnalyser;
use crate::case::{CaseInfo, MAX_CASE_FILE_BYTES};
use crate::evidence::{Finding, ItemKind, ItemTime, Severity};
use serde_json::json;

/// What an analyser concluded about one source.
#[derive(Clone, Debug, PartialEq)]
pub struct AnalysisOutcome {
    /// Kind-specific structured result, stored as the item's `analysis` in evidence.json.
    pub analysis: serde_json::Value,
    pub findings: Vec<Finding>,
    /// Dated facts for the timeline.
    pub times: Vec<ItemTime>,
}

/// A streaming analyser: fed every chunk of a source in order, then finished once.
pub trait Analyser: Send {
    fn feed(&mut self, chunk: &[u8]);
    fn finish(self: Box<Self>) -> AnalysisOutcome;
}

/// The analyser for a source of `kind`; `source_name` only names the source in messages.
/// Kinds whose analysers live in other modules (modules, keys, transparency) get
/// [`BasicAnalyser`] here until those are plugged in.
pub fn analyser_for(kind: ItemKind, source_name: &str) -> Box<dyn Analyser> {
    match kind {
        ItemKind::AuditLog => Box::new(AuditLogAnalyser::new(source_name)),
        ItemKind::CaseFile => Box::new(CaseFileAnalyser::new(source_name)),
        _ => Box::new(BasicAnalyser::new(kind)),
    }
}

/// Records the kind and the number of bytes seen, and nothing else: no verdict is claimed for a
/// kind this build cannot analyse.
pub struct BasicAnalyser {
    kind: ItemKind,
    size: u64,
}

impl BasicAnalyser {
    pub fn new(kind: ItemKind) -> Self {
        BasicAnalyser { kind, size: 0 }
    }
}

impl Analyser for BasicAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        AnalysisOutcome {
            analysis: json!({ "analyser": "basic", "kind": self.kind, "size": self.size }),
            findings: Vec::new(),
            times: Vec::new(),
        }
    }
}

/// Parses a `case.toml` (bounded by [`MAX_CASE_FILE_BYTES`]) and turns its declared times and
/// events into timeline facts.
pub struct CaseFileAnalyser {
    name: String,
    bytes: Vec<u8>,
    size: u64,
}

impl CaseFileAnalyser {
    pub fn new(source_name: &str) -> Self {
        CaseFileAnalyser {
            name: source_name.to_owned(),
            bytes: Vec::new(),
            size: 0,
        }
    }
}

impl Analyser for CaseFileAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        // Keep at most one byte over the limit: enough for `CaseInfo::parse` to report TooLarge.
        let room = (MAX_CASE_FILE_BYTES as usize + 1).saturating_sub(self.bytes.len());
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        match CaseInfo::parse(&self.name, &self.bytes) {
            Ok(case) => {
                let mut times = Vec::new();
                for (key, description, at) in case.times.entries() {
                    if let Some(at) = at {
                        times.push(ItemTime {
                            at,
                            event_type: format!("case.{key}"),
                            description: description.to_owned(),
                            detail: String::new(),
                        });
                    }
                }
                for ev in &case.events {
                    times.push(ItemTime {
                        at: ev.at,
                        event_type: "case.event".to_owned(),
                        description: "Declared event".to_owned(),
                        detail: ev.description.clone(),
                    });
                }
                AnalysisOutcome {
                    analysis: json!({
                        "analyser": "case-file",
                        "size": self.size,
                        "case_id": case.case_id,
                        "declared_times": times.len(),
                    }),
                    findings: Vec::new(),
                    times,
                }
            }
            Err(e) => AnalysisOutcome {
                analysis: json!({ "analyser": "case-file", "size": self.size, "error": e.to_string() }),
                findings: vec![Finding::new(
                    "case-file-unreadable",
                    Severity::Low,
                    None,
                    e.to_string(),
                )],
                times: Vec::new(),
            },
        }
    }
}

/// Runs `kind`'s analyser over an in-memory byte slice (for callers that already hold the bytes).
pub fn analyse_bytes(kind: ItemKind, source_name: &str, bytes: &[u8]) -> AnalysisOutcome {
    let mut a = analyser_for(kind, source_name);
    for chunk in bytes.chunks(64 * 1024) {
        a.feed(chunk);
    }
    a.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_analyser_counts_bytes_and_claims_nothing() {
        let out = analyse_bytes(ItemKind::Module, "m.wasm", &[0u8; 100_000]);
        assert_eq!(out.analysis["size"], 100_000);
        assert_eq!(out.analysis["kind"], "module");
        assert!(out.findings.is_empty());
    }

    #[test]
    fn case_file_times_become_timeline_facts() {
        let text = b"case_id = \"IR-1\"\n[times]\ndetected = \"2026-11-20T09:00:00Z\"\n[[events]]\nat = \"2026-11-19T22:00:00Z\"\ndescription = \"key leaked\"\n";
        let out = analyse_bytes(ItemKind::CaseFile, "case.toml", text);
        assert_eq!(out.analysis["case_id"], "IR-1");
        let types: Vec<_> = out.times.iter().map(|t| t.event_type.as_str()).collect();
        assert_eq!(types, ["case.detected", "case.event"]);
        let bad = analyse_bytes(ItemKind::CaseFile, "case.toml", b"severity = 3");
        assert_eq!(bad.findings[0].code, "case-file-unreadable");
    }
}
