//! The wsc audit log (tracing-subscriber JSON Lines, docs/wsc-formats.md §14): parses each line into
//! an [`AuditEvent`] with its time, event type, correlation id and (already redacted) identity.
//! Malformed lines are counted and reported, never fatal: a damaged log still yields the events
//! it does contain.

use crate::analyse::{json, Analyser, AnalysisOutcome, Detail};
use crate::model::analysis::{Analysis, AuditLogAnalysis};
use crate::model::evidence::{Finding, ItemTime, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest line accepted; longer lines are counted as malformed without being buffered.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most events kept per log; further events are counted, not stored, so memory (and
/// evidence.json) stays bounded whatever the log size.
pub const MAX_EVENTS: usize = 200_000;

/// How many malformed-line details are kept (the count is always exact).
const MAX_MALFORMED_DETAILS: usize = 20;

/// One audit event as wsc writes it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// 1-based line number in the log.
    pub line: u64,
    pub timestamp: DateTime<Utc>,
    pub level: String,
    /// `signing.attempt`, `verification.success`, `key.generated`, …
    pub event_type: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// `sha256:<hex>` as logged (of different bytes for signing and verification, see §14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_hash: Option<String>,
    /// `identity` or `signer_identity`, as redacted by wsc (`us***@example.com`, `***`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// Why one line was not an audit event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum MalformedLine {
    TooLong { line: u64, bytes: u64 },
    NotUtf8 { line: u64 },
    NotJson { line: u64, message: String },
    MissingField { line: u64, field: String },
    BadTimestamp { line: u64, value: String },
}

/// Result of parsing a whole log.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditLog {
    /// The first [`MAX_EVENTS`] events, in log order.
    pub events: Vec<AuditEvent>,
    /// Well-formed events beyond [`MAX_EVENTS`], counted only.
    #[serde(default)]
    pub events_not_kept: u64,
    /// Exact number of non-blank lines that were not events.
    pub malformed_count: u64,
    /// The first few malformed lines and why.
    pub malformed: Vec<MalformedLine>,
}

/// Incremental JSON Lines parser: feed chunks, then finish.
#[derive(Default)]
pub struct AuditLogParser {
    log: AuditLog,
    line_no: u64,
    pending: Vec<u8>,
    /// Bytes of the current line when it has grown past [`MAX_LINE_BYTES`] (then not buffered).
    overflow: Option<u64>,
}

impl AuditLogParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, mut chunk: &[u8]) {
        while let Some(pos) = chunk.iter().position(|&b| b == b'\n') {
            self.push_partial(&chunk[..pos]);
            self.end_line();
            chunk = &chunk[pos + 1..];
        }
        self.push_partial(chunk);
    }

    pub fn finish(mut self) -> AuditLog {
        if !self.pending.is_empty() || self.overflow.is_some() {
            self.end_line();
        }
        self.log
    }

    fn push_partial(&mut self, part: &[u8]) {
        if let Some(n) = self.overflow.as_mut() {
            *n += part.len() as u64;
        } else if self.pending.len() + part.len() > MAX_LINE_BYTES {
            self.overflow = Some((self.pending.len() + part.len()) as u64);
            self.pending = Vec::new();
        } else {
            self.pending.extend_from_slice(part);
        }
    }

    fn end_line(&mut self) {
        self.line_no += 1;
        let line = self.line_no;
        let result = match self.overflow.take() {
            Some(bytes) => Err(MalformedLine::TooLong { line, bytes }),
            None => {
                let raw = std::mem::take(&mut self.pending);
                if raw.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                parse_line(line, &raw)
            }
        };
        match result {
            Ok(ev) if self.log.events.len() < MAX_EVENTS => self.log.events.push(ev),
            Ok(_) => self.log.events_not_kept += 1,
            Err(m) => {
                self.log.malformed_count += 1;
                if self.log.malformed.len() < MAX_MALFORMED_DETAILS {
                    self.log.malformed.push(m);
                }
            }
        }
    }
}

/// Parses a complete log held in memory.
pub fn parse_audit_log(bytes: &[u8]) -> AuditLog {
    let mut p = AuditLogParser::new();
    p.feed(bytes);
    p.finish()
}

fn parse_line(line: u64, raw: &[u8]) -> Result<AuditEvent, MalformedLine> {
    let text = std::str::from_utf8(raw).map_err(|_| MalformedLine::NotUtf8 { line })?;
    let v: serde_json::Value =
        serde_json::from_str(text.trim_end_matches('\r')).map_err(|e| MalformedLine::NotJson {
            line,
            message: e.to_string(),
        })?;
    let missing = |field: &str| MalformedLine::MissingField {
        line,
        field: field.to_owned(),
    };
    let ts = v
        .get("timestamp")
        .and_then(|t| t.as_str())
        .ok_or_else(|| missing("timestamp"))?;
    let timestamp = DateTime::parse_from_rfc3339(ts)
        .map_err(|_| MalformedLine::BadTimestamp {
            line,
            value: ts.to_owned(),
        })?
        .with_timezone(&Utc);
    // tracing-subscriber nests the event's fields under "fields"; accept a flattened line too
    // (the wsc module's doc comment describes that shape).
    let fields = v.get("fields").filter(|f| f.is_object()).unwrap_or(&v);
    let s = |k: &str| fields.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let event_type = s("event_type").ok_or_else(|| missing("fields.event_type"))?;
    Ok(AuditEvent {
        line,
        timestamp,
        level: v
            .get("level")
            .and_then(|l| l.as_str())
            .unwrap_or("")
            .to_owned(),
        event_type,
        message: s("message").unwrap_or_default(),
        correlation_id: s("correlation_id"),
        artifact_hash: s("artifact_hash"),
        identity: s("identity").or_else(|| s("signer_identity")),
        key_id: s("key_id"),
        rekor_uuid: s("rekor_uuid"),
        error_type: s("error_type"),
        error_message: s("error_message"),
    })
}

/// The [`Analyser`] for [`crate::model::evidence::ItemKind::AuditLog`] sources.
pub struct AuditLogAnalyser {
    name: String,
    parser: AuditLogParser,
    size: u64,
}

impl AuditLogAnalyser {
    pub fn new(source_name: &str) -> Self {
        AuditLogAnalyser {
            name: source_name.to_owned(),
            parser: AuditLogParser::new(),
            size: 0,
        }
    }
}

impl Analyser for AuditLogAnalyser {
    fn feed(&mut self, chunk: &[u8]) {
        self.size += chunk.len() as u64;
        self.parser.feed(chunk);
    }

    fn finish(self: Box<Self>) -> AnalysisOutcome {
        let log = self.parser.finish();
        let mut findings = Vec::new();
        if log.events_not_kept > 0 {
            findings.push(Finding::new(
                "audit-log-events-not-kept",
                Severity::Low,
                None,
                format!(
                    "{}: {} events beyond the first {MAX_EVENTS} were counted but not kept",
                    self.name, log.events_not_kept
                ),
            ));
        }
        if log.malformed_count > 0 {
            findings.push(Finding::new(
                "audit-log-malformed-lines",
                Severity::Low,
                None,
                format!(
                    "{}: {} line(s) are not wsc audit events",
                    self.name, log.malformed_count
                ),
            ));
        }
        for ev in &log.events {
            if ev.event_type.ends_with(".failure") {
                findings.push(Finding::new(
                    format!("audit-{}", ev.event_type.replace('.', "-")),
                    Severity::Medium,
                    None,
                    format!(
                        "{} line {}: {} at {} ({}: {})",
                        self.name,
                        ev.line,
                        ev.event_type,
                        ev.timestamp.to_rfc3339(),
                        ev.error_type.as_deref().unwrap_or("unknown error"),
                        ev.error_message.as_deref().unwrap_or("")
                    ),
                ));
            }
        }
        let times = log
            .events
            .iter()
            .map(|ev| {
                let mut detail = Vec::new();
                if let Some(c) = &ev.correlation_id {
                    detail.push(format!("correlation_id={c}"));
                }
                if let Some(h) = &ev.artifact_hash {
                    detail.push(format!("artifact_hash={h}"));
                }
                if let Some(i) = &ev.identity {
                    detail.push(format!("identity={i}"));
                }
                if let Some(k) = &ev.key_id {
                    detail.push(format!("key_id={k}"));
                }
                ItemTime {
                    at: ev.timestamp,
                    event_type: format!("audit.{}", ev.event_type),
                    description: if ev.message.is_empty() {
                        ev.event_type.clone()
                    } else {
                        ev.message.clone()
                    },
                    detail: detail.join(" "),
                }
            })
            .collect();
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for ev in &log.events {
            *counts.entry(ev.event_type.clone()).or_default() += 1;
        }
        AnalysisOutcome {
            analysis: Analysis::AuditLog(AuditLogAnalysis {
                size: self.size,
                event_count: log.events.len() as u64 + log.events_not_kept,
                events_not_kept: log.events_not_kept,
                event_types: counts,
                malformed_count: log.malformed_count,
                malformed: json(&log.malformed),
                events: json(&log.events),
            }),
            findings,
            times,
            detail: Detail::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/wsc/audit")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn all_seven_event_types_parse_from_the_real_library_output() {
        let log = parse_audit_log(&fixture("audit-all-event-types.jsonl"));
        assert_eq!(log.malformed_count, 0);
        let types: Vec<_> = log.events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            types,
            [
                "key.generated",
                "signing.attempt",
                "signing.success",
                "signing.failure",
                "verification.attempt",
                "verification.success",
                "verification.failure"
            ]
        );
        assert_eq!(
            log.events[0].key_id.as_deref(),
            Some("000000000000000000000000")
        );
        assert_eq!(log.events[1].identity.as_deref(), Some("si***@example.com"));
        assert_eq!(log.events[3].level, "WARN");
        assert_eq!(
            log.events[3].error_message.as_deref(),
            Some("OIDC error: token expired [REDACTED]")
        );
        assert_eq!(
            log.events[0].timestamp.to_rfc3339(),
            "2026-11-24T23:14:02.067412+00:00"
        );
    }

    #[test]
    fn keyless_verify_log_pairs_attempt_and_success_by_correlation_id() {
        let log = parse_audit_log(&fixture("audit-keyless-verify.jsonl"));
        assert_eq!(log.events.len(), 7);
        assert_eq!(log.malformed_count, 0);
        assert_eq!(log.events[0].correlation_id, log.events[1].correlation_id);
        assert_eq!(log.events[1].identity.as_deref(), Some("***"));
        assert_eq!(
            log.events[0].artifact_hash.as_deref(),
            Some("sha256:6356bfacc67cbd7a2aa05a8c4aad41f0c44ce7e896049b8cbf02acadaf6680cc")
        );
    }

    #[test]
    fn malformed_lines_are_counted_not_fatal_even_across_chunks() {
        let mut text = fixture("audit-keyless-verify.jsonl");
        text.extend_from_slice(
            b"not json\n{\"timestamp\":\"x\",\"fields\":{\"event_type\":\"a\"}}\n\xff\xfe\n{}\n",
        );
        let mut p = AuditLogParser::new();
        for c in text.chunks(7) {
            p.feed(c);
        }
        let log = p.finish();
        assert_eq!(log.events.len(), 7);
        assert_eq!(log.malformed_count, 4);
        assert!(matches!(
            log.malformed[0],
            MalformedLine::NotJson { line: 8, .. }
        ));
        assert!(matches!(
            log.malformed[1],
            MalformedLine::BadTimestamp { line: 9, .. }
        ));
        assert!(matches!(
            log.malformed[2],
            MalformedLine::NotUtf8 { line: 10 }
        ));
        assert!(matches!(
            log.malformed[3],
            MalformedLine::MissingField { line: 11, .. }
        ));
    }

    #[test]
    fn an_endless_line_is_not_buffered() {
        let mut p = AuditLogParser::new();
        let big = vec![b'x'; 256 * 1024];
        for _ in 0..8 {
            p.feed(&big);
        }
        assert!(p.pending.len() <= MAX_LINE_BYTES);
        let log = p.finish();
        assert_eq!(
            log.malformed,
            vec![MalformedLine::TooLong {
                line: 1,
                bytes: 8 * 256 * 1024
            }]
        );
    }

    #[test]
    fn analyser_reports_failures_and_times() {
        let out = crate::analyse::analyse_bytes(
            crate::model::evidence::ItemKind::AuditLog,
            "audit.jsonl",
            &fixture("audit-all-event-types.jsonl"),
        );
        assert_eq!(out.times.len(), 7);
        assert_eq!(out.times[0].event_type, "audit.key.generated");
        let codes: Vec<_> = out.findings.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(
            codes,
            ["audit-signing-failure", "audit-verification-failure"]
        );
        let Analysis::AuditLog(a) = &out.analysis else {
            panic!("{:?}", out.analysis)
        };
        assert_eq!(a.event_types["signing.attempt"], 1);
    }
}
