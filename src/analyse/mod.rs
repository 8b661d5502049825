//! Dispatch from an [`ItemKind`] to the analyser that reads that kind of source. Analysers are
//! push-based: acquisition feeds them the same chunks it copies and hashes, so analysis costs no
//! second read of the source. Analysis is pure (bytes in, typed outcome out).

pub mod assessment;
pub mod audit_log;

use crate::keys::{self, PublicKey};
use crate::model::case::{CaseInfo, MAX_CASE_FILE_BYTES};
use crate::model::evidence::{FileStat, Finding, ItemKind, ItemTime, Severity};
use crate::transparency::{self, IdentityPolicy, TrustRoot};
use crate::wasm::scanner::{Coverage, ScanOptions, Scanner};
use crate::wasm::{self, detached, signature_section};
use audit_log::AuditLogAnalyser;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

/// What analysers judge against, the same for every source of one collection: the public keys
/// found among the inputs (and given with `--key`), and the trust root for transparency checks.
pub struct AnalysisContext {
    pub keys: Vec<PublicKey>,
    pub trust_root: TrustRoot,
    pub policy: IdentityPolicy,
}

impl Default for AnalysisContext {
    fn default() -> Self {
        AnalysisContext {
            keys: Vec::new(),
            trust_root: TrustRoot::production(),
            policy: IdentityPolicy::default(),
        }
    }
}

/// Largest key file the key analyser reads (real key files are well under 16 KiB).
const MAX_KEY_FILE_BYTES: usize = 1 << 20;

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

/// The analyser for a source of `kind` at `path` (its `stat`, when known, judges key-file
/// permissions; a module's detached `.sig` is looked up beside it).
pub fn analyser_for(
    kind: ItemKind,
    path: &Path,
    stat: Option<&FileStat>,
    ctx: &Arc<AnalysisContext>,
) -> Box<dyn Analyser> {
    let name = path.display().to_string();
    match kind {
        ItemKind::AuditLog => Box::new(AuditLogAnalyser::new(&name)),
        ItemKind::CaseFile => Box::new(CaseFileAnalyser::new(&name)),
        ItemKind::Module => Box::new(ModuleAnalyser::new(path, ctx.clone())),
        ItemKind::PublicKey | ItemKind::SecretKey => Box::new(KeyAnalyser {
            name,
            stat: stat.cloned(),
            bytes: Vec::new(),
            size: 0,
        }),
        ItemKind::DetachedSignature => Box::new(DetachedSignatureAnalyser {
            bytes: Vec::new(),
            size: 0,
        }),
        ItemKind::RekorEntry | ItemKind::SigstoreBundle | ItemKind::TrustRoot => {
            Box::new(TransparencyAnalyser {
                name,
                bytes: Vec::new(),
                size: 0,
                ctx: ctx.clone(),
            })
        }
        _ => Box::new(BasicAnalyser::new(kind)),
    }
}

/// Keeps at most `limit + 1` bytes of a stream: enough for a parser to say "over the limit".
fn keep_bounded(buf: &mut Vec<u8>, size: &mut u64, chunk: &[u8], limit: usize) {
    *size += chunk.len() as u64;
    let room = (limit + 1).saturating_sub(buf.len());
    buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
}

/// A wasm module: the streaming scanner (fed the chunks being copied), then signature
/// verdicts against the collection's public keys and, for keyless modules, the transparency
/// checks.
pub struct ModuleAnalyser {
    scanner: Option<Scanner>,
    detached: Option<(String, Vec<u8>)>,
    detached_error: Option<String>,
    ctx: Arc<AnalysisContext>,
}

impl ModuleAnalyser {
    fn new(path: &Path, ctx: Arc<AnalysisContext>) -> Self {
        // The `.sig` beside a module is small and is collected as its own item too; reading it
        // here as well lets the verdict cover the detached case.
        let (detached, detached_error) = match detached::find_next_to(path) {
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
                file_sha256: false,
            })),
            detached,
            detached_error,
            ctx,
        }
    }
}

impl Analyser for ModuleAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        // After an error the scanner has recorded it (with its offset); the rest is only copied.
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
        let judged_with: Vec<String> = self
            .ctx
            .keys
            .iter()
            .map(|k| hex::encode(k.wsc_key_id()))
            .collect();
        AnalysisOutcome {
            analysis: json!({
                "analyser": "module",
                "judged_with_key_ids": judged_with,
                "module": report,
                "keyless_checks": keyless,
                "trust_root": keyless.as_ref().map(|_| self.ctx.trust_root.origin.clone()),
            }),
            findings,
            times,
        }
    }
}

/// A key file: format, public key, key ids, fingerprint; permission findings from its stat.
/// Secret bytes are parsed in memory only: [`keys::KeyFile`] never holds or prints them.
pub struct KeyAnalyser {
    name: String,
    /// Without a stat (bytes analysed in memory) no permission finding is possible.
    stat: Option<FileStat>,
    bytes: Vec<u8>,
    size: u64,
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
            return AnalysisOutcome {
                analysis: json!({ "analyser": "key", "size": self.size, "error": msg }),
                findings: vec![Finding::new(
                    "key-file-unreadable",
                    Severity::Low,
                    None,
                    msg,
                )],
                times: Vec::new(),
            };
        }
        match keys::parse_key_file(&self.name, &self.bytes) {
            Ok(k) => {
                let mut findings = k.findings.clone();
                if let Some(stat) = &self.stat {
                    findings.extend(keys::permission_findings(&k, stat));
                }
                AnalysisOutcome {
                    analysis: json!({ "analyser": "key", "size": self.size, "key": k }),
                    findings,
                    times: Vec::new(),
                }
            }
            Err(e) => AnalysisOutcome {
                analysis: json!({ "analyser": "key", "size": self.size, "error": e.to_string() }),
                findings: vec![Finding::new(
                    "key-file-unreadable",
                    Severity::Low,
                    None,
                    e.to_string(),
                )],
                times: Vec::new(),
            },
        }
    }
}

/// A detached wsc signature (the signature-section payload), decoded field by field. A file
/// that is not one (e.g. a Sigstore base64 signature) is described, not judged.
pub struct DetachedSignatureAnalyser {
    bytes: Vec<u8>,
    size: u64,
}

impl Analyser for DetachedSignatureAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        keep_bounded(
            &mut self.bytes,
            &mut self.size,
            chunk,
            detached::MAX_DETACHED_LEN as usize,
        );
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        let analysis = match signature_section::decode(&self.bytes, 0) {
            Ok(d) => json!({ "analyser": "detached-signature", "size": self.size, "signature": d }),
            Err(e) => {
                json!({ "analyser": "detached-signature", "size": self.size, "not_wsc_signature_data": e.to_string() })
            }
        };
        AnalysisOutcome {
            analysis,
            findings: Vec::new(),
            times: Vec::new(),
        }
    }
}

/// A Rekor entry, Sigstore bundle or trust root: every transparency check that is possible
/// without the artifact, against the collection's trust root.
pub struct TransparencyAnalyser {
    name: String,
    bytes: Vec<u8>,
    size: u64,
    ctx: Arc<AnalysisContext>,
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
        match transparency::analyse_transparency_file(
            &self.name,
            &self.bytes,
            None,
            &self.ctx.trust_root,
            &self.ctx.policy,
        ) {
            Ok(r) => {
                let (analysis, findings, times) = r.into_evidence_parts();
                AnalysisOutcome {
                    analysis,
                    findings,
                    times,
                }
            }
            Err(e) => AnalysisOutcome {
                analysis: json!({ "analyser": "transparency", "size": self.size, "error": e.to_string() }),
                findings: vec![Finding::new(
                    "transparency-file-unreadable",
                    Severity::Medium,
                    Some(crate::model::evidence::IncidentType::SigstoreCompromise),
                    e.to_string(),
                )],
                times: Vec::new(),
            },
        }
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

/// Runs `kind`'s analyser over an in-memory byte slice (for callers that already hold the
/// bytes), with the default context and no stat.
pub fn analyse_bytes(kind: ItemKind, source_name: &str, bytes: &[u8]) -> AnalysisOutcome {
    let ctx = Arc::new(AnalysisContext::default());
    let mut a = analyser_for(kind, Path::new(source_name), None, &ctx);
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
        let out = analyse_bytes(ItemKind::Attachment, "notes.txt", &[0u8; 100_000]);
        assert_eq!(out.analysis["size"], 100_000);
        assert_eq!(out.analysis["kind"], "attachment");
        assert!(out.findings.is_empty());
    }

    fn fixture(rel: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel)
    }

    fn run(
        kind: ItemKind,
        path: &Path,
        stat: Option<&FileStat>,
        ctx: AnalysisContext,
    ) -> AnalysisOutcome {
        let bytes = std::fs::read(path).unwrap();
        let mut a = analyser_for(kind, path, stat, &Arc::new(ctx));
        // Odd chunk sizes: the analysers must not depend on how the copy loop cuts the stream.
        for c in bytes.chunks(7) {
            a.feed(c);
        }
        a.finish()
    }

    fn key_a() -> PublicKey {
        let b = std::fs::read(fixture("wsc/keys/test-key-a.pub")).unwrap();
        keys::parse_key_file("a.pub", &b)
            .unwrap()
            .public_key
            .unwrap()
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
            ok.analysis["judged_with_key_ids"][0],
            "c858d5ec82d976c190cb33d0"
        );
        let verdicts = &ok.analysis["module"]["signature"]["verdicts"];
        assert_eq!(verdicts[0]["verdict"], "valid", "{verdicts}");
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
        let v = &det.analysis["module"]["signature"];
        assert_eq!(v["source"]["type"], "detached", "{v}");
        assert_eq!(v["verdicts"][0]["verdict"], "valid");
    }

    #[test]
    fn keyless_modules_get_the_transparency_checks_and_their_times() {
        let out = run(
            ItemKind::Module,
            &fixture("wsc/modules/keyless-replayed-rekor-entry.wasm"),
            None,
            AnalysisContext::default(),
        );
        assert!(out.analysis["keyless_checks"]["checks"].is_array());
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
            out.analysis["key"]["wsc_key_id"],
            "c858d5ec82d976c190cb33d0"
        );
        // Without a stat there is nothing to judge permissions by.
        let out = run(ItemKind::SecretKey, &p, None, AnalysisContext::default());
        assert!(!out
            .findings
            .iter()
            .any(|f| f.code == "secret-key-permissions"));
    }

    #[test]
    fn transparency_analyser_runs_the_checks() {
        let out = run(
            ItemKind::RekorEntry,
            &fixture("rekor/rekor-api-entry-538771042.reconstructed.json"),
            None,
            AnalysisContext::default(),
        );
        assert_eq!(
            out.analysis["verdict"], "all-possible-passed",
            "{}",
            out.analysis
        );
        assert!(!out.times.is_empty());
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
