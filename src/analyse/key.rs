//! The key-file analyser: format, public key, key ids, fingerprint; permission findings from
//! the file's stat. Secret bytes are parsed in memory only: [`keys::KeyFile`] never holds or
//! prints them.

use super::{keep_bounded, Analyser, AnalysisOutcome, Detail};
use crate::keys::{self, KeyFile};
use crate::model::analysis::{rest_of, Analysis, KeyAnalysis, KeyRecord};
use crate::model::evidence::{FileStat, Finding, Severity};

/// Largest key file the key analyser reads (real key files are well under 16 KiB).
const MAX_KEY_FILE_BYTES: usize = 1 << 20;

pub struct KeyAnalyser {
    name: String,
    /// Without a stat (bytes analysed in memory) no permission finding is possible.
    stat: Option<FileStat>,
    bytes: Vec<u8>,
    size: u64,
}

impl KeyAnalyser {
    pub fn new(name: String, stat: Option<FileStat>) -> Self {
        KeyAnalyser {
            name,
            stat,
            bytes: Vec::new(),
            size: 0,
        }
    }

    fn unreadable(size: u64, msg: String) -> AnalysisOutcome {
        AnalysisOutcome {
            analysis: Analysis::Key(KeyAnalysis {
                size,
                key: None,
                error: Some(msg.clone()),
            }),
            findings: vec![Finding::new(
                "key-file-unreadable",
                Severity::Low,
                None,
                msg,
            )],
            times: Vec::new(),
            detail: Detail::None,
        }
    }
}

/// The evidence record of a parsed key file.
pub fn key_record(k: &KeyFile) -> KeyRecord {
    KeyRecord {
        is_secret: k.is_secret,
        fingerprint_sha256: k.fingerprint_sha256,
        wsc_key_id: k.wsc_key_id.clone(),
        rest: rest_of(k, &["is_secret", "fingerprint_sha256", "wsc_key_id"]),
    }
}

impl Analyser for KeyAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        keep_bounded(&mut self.bytes, &mut self.size, chunk, MAX_KEY_FILE_BYTES);
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        if self.bytes.len() > MAX_KEY_FILE_BYTES {
            let msg = format!(
                "{}: {} bytes, over the {MAX_KEY_FILE_BYTES}-byte key file limit",
                self.name, self.size
            );
            return Self::unreadable(self.size, msg);
        }
        match keys::parse_key_file(&self.name, &self.bytes) {
            Ok(k) => {
                let mut findings = k.findings.clone();
                if let Some(stat) = &self.stat {
                    findings.extend(keys::permission_findings(&k, stat));
                }
                AnalysisOutcome {
                    analysis: Analysis::Key(KeyAnalysis {
                        size: self.size,
                        key: Some(key_record(&k)),
                        error: None,
                    }),
                    findings,
                    times: Vec::new(),
                    detail: Detail::Key(Box::new(k)),
                }
            }
            Err(e) => Self::unreadable(self.size, e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, run};
    use super::super::AnalysisContext;
    use super::*;
    use crate::model::evidence::ItemKind;

    #[test]
    fn key_analyser_reports_loose_secret_key_permissions_from_the_stat() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.sec");
        std::fs::copy(fixture("wsc/keys/test-key-a.sec"), &p).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let stat = FileStat::of_metadata(&std::fs::symlink_metadata(&p).unwrap());
        let out = run(
            ItemKind::SecretKey,
            &p,
            Some(&stat),
            AnalysisContext::default(),
        );
        assert!(
            out.findings
                .iter()
                .any(|f| f.code == "secret-key-permissions"),
            "{:?}",
            out.findings
        );
        assert_eq!(
            out.analysis.key().unwrap().wsc_key_id.as_deref(),
            Some("c858d5ec82d976c190cb33d0")
        );
        let Detail::Key(k) = &out.detail else {
            panic!()
        };
        assert_eq!(
            serde_json::to_value(key_record(k)).unwrap(),
            serde_json::to_value(&**k).unwrap()
        );
        // Without a stat there is nothing to judge permissions by.
        let out = run(ItemKind::SecretKey, &p, None, AnalysisContext::default());
        assert!(!out
            .findings
            .iter()
            .any(|f| f.code == "secret-key-permissions"));
    }
}
