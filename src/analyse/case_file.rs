//! The case-file analyser: parses a `case.toml` (bounded by [`MAX_CASE_FILE_BYTES`]) and turns
//! its declared times and events into timeline facts.

use super::{keep_bounded, Analyser, AnalysisOutcome, Detail};
use crate::model::analysis::{Analysis, CaseFileAnalysis};
use crate::model::case::{CaseInfo, MAX_CASE_FILE_BYTES};
use crate::model::evidence::{Finding, ItemTime, Severity};

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

/// The dated facts a case declares: its times, then its events.
fn declared_times(case: &CaseInfo) -> Vec<ItemTime> {
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
    times
}

impl Analyser for CaseFileAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        // Keep at most one byte over the limit: enough for `CaseInfo::parse` to report TooLarge.
        keep_bounded(
            &mut self.bytes,
            &mut self.size,
            chunk,
            MAX_CASE_FILE_BYTES as usize,
        );
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        match CaseInfo::parse(&self.name, &self.bytes) {
            Ok(case) => {
                let times = declared_times(&case);
                AnalysisOutcome {
                    analysis: Analysis::CaseFile(CaseFileAnalysis {
                        size: self.size,
                        case_id: Some(case.case_id),
                        declared_times: Some(times.len() as u64),
                        error: None,
                    }),
                    findings: Vec::new(),
                    times,
                    detail: Detail::None,
                }
            }
            Err(e) => AnalysisOutcome {
                analysis: Analysis::CaseFile(CaseFileAnalysis {
                    size: self.size,
                    case_id: None,
                    declared_times: None,
                    error: Some(e.to_string()),
                }),
                findings: vec![Finding::new(
                    "case-file-unreadable",
                    Severity::Low,
                    None,
                    e.to_string(),
                )],
                times: Vec::new(),
                detail: Detail::None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::analyse_bytes;
    use crate::model::evidence::ItemKind;

    #[test]
    fn case_file_times_become_timeline_facts() {
        let text = b"case_id = \"IR-1\"\n[times]\ndetected = \"2026-11-20T09:00:00Z\"\n[[events]]\nat = \"2026-11-19T22:00:00Z\"\ndescription = \"key leaked\"\n";
        let out = analyse_bytes(ItemKind::CaseFile, "case.toml", text);
        let Analysis::CaseFile(c) = &out.analysis else {
            panic!()
        };
        assert_eq!(c.case_id.as_deref(), Some("IR-1"));
        let types: Vec<_> = out.times.iter().map(|t| t.event_type.as_str()).collect();
        assert_eq!(types, ["case.detected", "case.event"]);
        let bad = analyse_bytes(ItemKind::CaseFile, "case.toml", b"severity = 3");
        assert_eq!(bad.findings[0].code, "case-file-unreadable");
    }
}
