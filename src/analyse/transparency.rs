//! The transparency analyser: a Rekor entry, Sigstore bundle or trust root, with every check
//! that is possible without the artifact, against the context's trust root.

use super::{keep_bounded, Analyser, AnalysisContext, AnalysisOutcome, Detail};
use crate::model::analysis::{
    rest_of, Analysis, ChecksVerdict, FailedAnalysis, TransparencyAnalysis,
};
use crate::model::evidence::{Finding, IncidentType, Severity};
use crate::transparency;
use std::sync::Arc;

pub struct TransparencyAnalyser {
    name: String,
    bytes: Vec<u8>,
    size: u64,
    ctx: Arc<AnalysisContext>,
}

impl TransparencyAnalyser {
    pub fn new(name: String, ctx: Arc<AnalysisContext>) -> Self {
        TransparencyAnalyser {
            name,
            bytes: Vec::new(),
            size: 0,
            ctx,
        }
    }
}

impl Analyser for TransparencyAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        keep_bounded(
            &mut self.bytes,
            &mut self.size,
            chunk,
            transparency::MAX_INPUT_BYTES,
        );
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        let report = transparency::analyse_transparency_file(
            &self.name,
            &self.bytes,
            None,
            &self.ctx.trust_root,
            &self.ctx.policy,
        );
        match report {
            Ok(r) => {
                // The transparency layer's verdict in the evidence vocabulary.
                let verdict = match r.verdict {
                    transparency::Verdict::AllPossiblePassed => ChecksVerdict::AllPossiblePassed,
                    transparency::Verdict::Failed => ChecksVerdict::Failed,
                };
                let analysis = Analysis::Transparency(TransparencyAnalysis {
                    verdict,
                    rest: rest_of(&r, &["verdict"]),
                });
                AnalysisOutcome {
                    analysis,
                    findings: r.verification.findings.clone(),
                    times: r.verification.times.clone(),
                    detail: Detail::Transparency(Box::new(r)),
                }
            }
            Err(e) => AnalysisOutcome {
                analysis: Analysis::TransparencyError(FailedAnalysis {
                    size: self.size,
                    error: e.to_string(),
                }),
                findings: vec![Finding::new(
                    "transparency-file-unreadable",
                    Severity::Medium,
                    Some(IncidentType::SigstoreCompromise),
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
    use super::super::tests::{fixture, run};
    use super::*;
    use crate::model::evidence::ItemKind;

    #[test]
    fn transparency_analyser_runs_the_checks() {
        let out = run(
            ItemKind::RekorEntry,
            &fixture("rekor/rekor-api-entry-538771042.reconstructed.json"),
            None,
            AnalysisContext::default(),
        );
        let Analysis::Transparency(t) = &out.analysis else {
            panic!("{:?}", out.analysis)
        };
        assert_eq!(t.verdict, ChecksVerdict::AllPossiblePassed);
        assert!(!out.times.is_empty());
    }
}
