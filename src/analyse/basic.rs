//! The analyser of kinds this build does not analyse: it records the kind and the number of
//! bytes seen, and nothing else, so no verdict is ever claimed for them.

use super::{Analyser, AnalysisOutcome, Detail};
use crate::model::analysis::{Analysis, BasicAnalysis};
use crate::model::evidence::ItemKind;

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
            analysis: Analysis::Basic(BasicAnalysis {
                kind: self.kind,
                size: self.size,
            }),
            findings: Vec::new(),
            times: Vec::new(),
            detail: Detail::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_analyser_counts_bytes_and_claims_nothing() {
        let out = crate::analyse::analyse_bytes(ItemKind::Attachment, "notes.txt", &[0u8; 100_000]);
        assert_eq!(
            out.analysis,
            Analysis::Basic(BasicAnalysis {
                kind: ItemKind::Attachment,
                size: 100_000
            })
        );
        assert!(out.findings.is_empty());
    }
}
