//! The module analyser: the streaming scanner (fed the chunks being copied), then signature
//! verdicts against the context's public keys and, for keyless modules, the transparency checks.
//! Also the one conversion of the wasm layer's verdicts into the evidence vocabulary.

use super::{json, Analyser, AnalysisContext, AnalysisOutcome, Detail};
use crate::model::analysis::{
    rest_of, Analysis, ModuleAnalysis, ModuleRecord, SignatureKind, SignatureRecord,
    SignatureVerdictWord, VerdictRecord,
};
use crate::model::evidence::{Finding, Severity};
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use crate::wasm::verdict::{SignatureVerdict, Verdict};
use crate::wasm::{self, detached, ModuleReport, SignatureAnalysis};
use std::path::Path;
use std::sync::Arc;

pub struct ModuleAnalyser {
    scanner: Option<Scanner>,
    detached: Option<(String, Vec<u8>)>,
    detached_error: Option<String>,
    ctx: Arc<AnalysisContext>,
}

impl ModuleAnalyser {
    pub fn new(path: &Path, ctx: Arc<AnalysisContext>) -> Self {
        // The `.sig` beside a module is small and is collected as its own item too; reading it
        // here as well lets the verdict cover the detached case.
        let sig = ctx
            .detached_signature
            .clone()
            .or_else(|| crate::source::detached::next_to(path));
        let (detached, detached_error) = match sig {
            Some(p) => match detached::read(&p) {
                Ok(b) => (Some((p.display().to_string(), b)), None),
                Err(e) => (None, Some(e.to_string())),
            },
            None => (None, None),
        };
        let coverage = if detached.is_some() {
            Coverage::Detached
        } else {
            Coverage::Embedded
        };
        ModuleAnalyser {
            scanner: Some(Scanner::new(ScanOptions {
                coverage,
                file_sha256: ctx.module_file_sha256,
            })),
            detached,
            detached_error,
            ctx,
        }
    }
}

impl Analyser for ModuleAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        // After an error the scanner has recorded it (with its offset); the rest is only hashed.
        if let Some(s) = self.scanner.as_mut() {
            let _ = s.feed(chunk);
        }
    }

    fn finish(mut self: Box<Self>) -> AnalysisOutcome {
        let scan = self.scanner.take().expect("finished once").finish();
        let detached = self
            .detached
            .as_ref()
            .map(|(p, b)| (p.as_str(), b.as_slice()));
        let mut report = wasm::analyse_module(scan, detached, &self.ctx.keys);
        let keyless = wasm::check_keyless(&mut report, &self.ctx.trust_root, &self.ctx.policy);
        let mut findings = report.findings.clone();
        if let Some(e) = &self.detached_error {
            findings.push(Finding::new(
                "detached-signature-unreadable",
                Severity::Low,
                None,
                format!("the detached signature beside the module could not be read: {e}"),
            ));
        }
        let times = keyless
            .as_ref()
            .map(|k| k.times.clone())
            .unwrap_or_default();
        let judged_with_key_ids = self
            .ctx
            .keys
            .iter()
            .map(|k| hex::encode(k.wsc_key_id()))
            .collect();
        AnalysisOutcome {
            analysis: Analysis::Module(ModuleAnalysis {
                judged_with_key_ids,
                keyless_checks: keyless.as_ref().map(json),
                module: module_record(&report),
                trust_root: keyless.as_ref().map(|_| self.ctx.trust_root.origin.clone()),
            }),
            findings,
            times,
            detail: Detail::Module {
                report: Box::new(report),
                keyless: keyless.map(Box::new),
                detached_error: self.detached_error,
            },
        }
    }
}

/// The evidence record of a module report.
pub fn module_record(report: &ModuleReport) -> ModuleRecord {
    let (kind, verdicts) = match &report.signature {
        SignatureAnalysis::Unsigned => (SignatureKind::Unsigned, None),
        SignatureAnalysis::KeyBased { verdicts, .. } => (
            SignatureKind::KeyBased,
            Some(verdicts.iter().map(verdict_record).collect()),
        ),
        SignatureAnalysis::Keyless(_) => (SignatureKind::Keyless, None),
        SignatureAnalysis::Undecodable { .. } => (SignatureKind::Undecodable, None),
    };
    ModuleRecord {
        signature: SignatureRecord {
            kind,
            verdicts,
            rest: rest_of(&report.signature, &["kind", "verdicts"]),
        },
        rest: rest_of(report, &["signature"]),
    }
}

/// The wasm layer's verdict in the evidence vocabulary: the one place the two meet.
fn verdict_record(v: &SignatureVerdict) -> VerdictRecord {
    let (verdict, key) = match &v.verdict {
        Verdict::Valid { key, .. } => (SignatureVerdictWord::Valid, Some(key)),
        Verdict::Partial { key, .. } => (SignatureVerdictWord::Partial, Some(key)),
        Verdict::Invalid { key, .. } => (SignatureVerdictWord::Invalid, Some(key)),
        Verdict::OtherKey => (SignatureVerdictWord::OtherKey, None),
        Verdict::Unsupported { .. } => (SignatureVerdictWord::Unsupported, None),
        Verdict::Unverified { .. } => (SignatureVerdictWord::Unverified, None),
    };
    VerdictRecord {
        verdict,
        key: key.cloned(),
        rest: rest_of(v, &["verdict", "key"]),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, run};
    use super::*;
    use crate::keys::{self, PublicKey};
    use crate::model::evidence::ItemKind;

    fn key_a() -> PublicKey {
        let b = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
        keys::parse_key_file("a.pub", &b)
            .unwrap()
            .public_key
            .unwrap()
    }

    fn module_of(a: &Analysis) -> &ModuleAnalysis {
        match a {
            Analysis::Module(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_record_is_the_report_as_json() {
        let ctx = AnalysisContext {
            keys: vec![key_a()],
            ..Default::default()
        };
        for m in [
            "wsc/modules/signed-a.wasm",
            "wsc/modules/detached-a.wasm",
            "wsc/modules/keyless-replayed-rekor-entry.wasm",
            "wsc/modules/signed-a-tampered-code.wasm",
        ] {
            let out = run(
                ItemKind::Module,
                &fixture(m),
                None,
                AnalysisContext {
                    keys: ctx.keys.clone(),
                    ..Default::default()
                },
            );
            let Detail::Module { report, .. } = &out.detail else {
                panic!()
            };
            assert_eq!(
                serde_json::to_value(module_record(report)).unwrap(),
                serde_json::to_value(&**report).unwrap(),
                "{m}"
            );
        }
    }

    #[test]
    fn module_analyser_judges_against_the_collection_keys() {
        let ctx = || AnalysisContext {
            keys: vec![key_a()],
            ..Default::default()
        };
        let ok = run(
            ItemKind::Module,
            &fixture("wsc/modules/signed-a.wasm"),
            None,
            ctx(),
        );
        assert_eq!(
            module_of(&ok.analysis).judged_with_key_ids,
            ["c858d5ec82d976c190cb33d0"]
        );
        let verdicts = ok.analysis.signature_verdicts();
        assert_eq!(verdicts[0].verdict, SignatureVerdictWord::Valid);
        let bad = run(
            ItemKind::Module,
            &fixture("wsc/modules/signed-a-tampered-code.wasm"),
            None,
            ctx(),
        );
        assert!(
            bad.findings.iter().any(|f| f.severity >= Severity::High),
            "{:?}",
            bad.findings
        );
        // The detached signature beside detached-a.wasm is found and judged.
        let det = run(
            ItemKind::Module,
            &fixture("wsc/modules/detached-a.wasm"),
            None,
            ctx(),
        );
        let sig = &module_of(&det.analysis).module.signature;
        assert_eq!(sig.rest["source"]["type"], "detached", "{sig:?}");
        assert_eq!(
            det.analysis.signature_verdicts()[0].verdict,
            SignatureVerdictWord::Valid
        );
    }

    #[test]
    fn a_symlinked_sig_beside_the_module_is_not_used() {
        // Changed behaviour (one symlink policy): the walker never collects a linked `.sig`,
        // so the module is not judged against one either.
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m.wasm");
        std::fs::copy(fixture("wsc/modules/detached-a.wasm"), &m).unwrap();
        std::os::unix::fs::symlink(
            fixture("wsc/modules/detached-a.sig"),
            dir.path().join("m.sig"),
        )
        .unwrap();
        let ctx = AnalysisContext {
            keys: vec![key_a()],
            ..Default::default()
        };
        let out = run(ItemKind::Module, &m, None, ctx);
        let sig = &module_of(&out.analysis).module.signature;
        assert_eq!(sig.kind, SignatureKind::Unsigned, "{sig:?}");
        assert!(out.analysis.signature_verdicts().is_empty());
    }

    #[test]
    fn keyless_modules_get_the_transparency_checks_and_their_times() {
        let out = run(
            ItemKind::Module,
            &fixture("wsc/modules/keyless-replayed-rekor-entry.wasm"),
            None,
            AnalysisContext::default(),
        );
        let m = module_of(&out.analysis);
        assert!(m.keyless_checks.as_ref().unwrap()["checks"].is_array());
        assert!(out
            .findings
            .iter()
            .any(|f| f.code == "rekor-entry-not-bound"));
        assert!(
            out.times
                .iter()
                .any(|t| t.at.to_rfc3339() == "2025-09-19T17:58:38+00:00"),
            "{:?}",
            out.times
        );
    }
}
