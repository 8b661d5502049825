//! The detached-signature analyser: a wsc signature-section payload decoded field by field. A
//! file that is not one (e.g. a Sigstore base64 signature) is described, not judged.

use super::{json, keep_bounded, Analyser, AnalysisOutcome, Detail};
use crate::model::analysis::{Analysis, DetachedSignatureAnalysis};
use crate::wasm::detached::{DetachedError, MAX_DETACHED_LEN};
use crate::wasm::signature_section;

pub struct DetachedSignatureAnalyser {
    name: String,
    bytes: Vec<u8>,
    size: u64,
}

impl DetachedSignatureAnalyser {
    pub fn new(name: String) -> Self {
        DetachedSignatureAnalyser {
            name,
            bytes: Vec::new(),
            size: 0,
        }
    }
}

impl Analyser for DetachedSignatureAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        keep_bounded(
            &mut self.bytes,
            &mut self.size,
            chunk,
            MAX_DETACHED_LEN as usize,
        );
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        let decoded = signature_section::decode(&self.bytes, 0);
        let analysis = Analysis::DetachedSignature(match &decoded {
            Ok(d) => DetachedSignatureAnalysis {
                size: self.size,
                signature: Some(json(d)),
                not_wsc_signature_data: None,
            },
            Err(e) => DetachedSignatureAnalysis {
                size: self.size,
                signature: None,
                not_wsc_signature_data: Some(e.to_string()),
            },
        });
        // As `inspect` reports it: a file over the limit is refused before decoding.
        let detail = if self.size > MAX_DETACHED_LEN {
            Err(DetachedError::TooLarge {
                file: self.name.clone(),
                size: self.size,
                max: MAX_DETACHED_LEN,
            }
            .to_string())
        } else {
            decoded
                .map(Box::new)
                .map_err(|e| format!("{}: {e}", self.name))
        };
        AnalysisOutcome {
            analysis,
            findings: Vec::new(),
            times: Vec::new(),
            detail: Detail::DetachedSignature(detail),
        }
    }
}
