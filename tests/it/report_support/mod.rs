//! A realistic INC-1 evidence record for the timeline and report tests: real fixture files
//! (hashed at test time), the fixture keys' wsc key ids, findings, dated facts and a case file.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use wsc_forensics::model::case::{
    CaseInfo, CaseKeys, DeclaredEvent, DeclaredTimes, Disclosure, Window,
};
use wsc_forensics::model::custody::{Actor, CustodyAction, CustodyEvent};
use wsc_forensics::model::digest::Sha256Digest;
use wsc_forensics::model::evidence::{
    Evidence, EvidenceItem, FileStat, Finding, IncidentType, ItemKind, ItemTime, RecordedPath,
    Severity, ToolInfo,
};

fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

pub const KEY_A: &str = "c858d5ec82d976c190cb33d0";
pub const KEY_B: &str = "465c5341001f3e570f784f71";
pub const BUNDLE_HEX: &str = "5f1c0c2a9d4e7b3a8e6f0d1c2b3a4958677685a4b3c2d1e0f9e8d7c6b5a49382";

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn bundle_digest() -> Sha256Digest {
    Sha256Digest::from_hex(BUNDLE_HEX).unwrap()
}

fn stat(size: u64, mode: u32, mtime: &str) -> FileStat {
    FileStat {
        size,
        mode: 0o100000 | mode,
        uid: 1000,
        gid: 1000,
        owner: Some("builder".into()),
        dev: 2049,
        inode: 131_072 + size,
        nlink: 1,
        mtime: t(mtime),
        ctime: t(mtime),
        atime: t("2026-11-25T07:59:00Z"),
    }
}

pub fn item(rel: &str, kind: ItemKind, mode: u32, mtime: &str) -> EvidenceItem {
    let bytes = std::fs::read(fixture(rel)).unwrap();
    let sha = Sha256Digest::of(&bytes);
    let bag_path = match kind {
        ItemKind::SecretKey => None,
        ItemKind::Module => Some(format!("data/modules/{sha}.wasm")),
        ItemKind::PublicKey => Some(format!("data/keys/{sha}.pub")),
        ItemKind::AuditLog => Some(format!("data/logs/{sha}.log")),
        _ => Some(format!("data/transparency/{sha}.json")),
    };
    EvidenceItem {
        source: RecordedPath {
            text: format!("/srv/release/{}", rel.rsplit('/').next().unwrap()),
            raw_hex: None,
        },
        kind,
        sha256: sha,
        digest_of: Default::default(),
        size: bytes.len() as u64,
        bag_path,
        stat_before: stat(bytes.len() as u64, mode, mtime),
        stat_after: None,
        changed_during_acquisition: vec![],
        analysis: json!({}).into(),
        findings: vec![],
        times: vec![],
    }
}

pub fn case_info() -> CaseInfo {
    CaseInfo {
        case_id: "IR-2026-017".into(),
        title: Some("Release signing key A leaked".into()),
        examiner: Some("A. Examiner".into()),
        organization: Some("Example Corp PSIRT".into()),
        incident_type: Some(IncidentType::KeyCompromise),
        severity: Some(Severity::Critical),
        summary: Some(
            "The release signing key A was copied from the build host and used to sign a tampered module.".into(),
        ),
        root_cause: Some("The secret key file was world-readable on a shared build host.".into()),
        notes: None,
        open_items: vec!["Rotate CI secrets".into(), "Audit other build hosts".into()],
        times: DeclaredTimes {
            compromise_estimated: Some(t("2026-11-23T20:00:00Z")),
            detected: Some(t("2026-11-24T22:00:00Z")),
            contained: Some(t("2026-11-25T00:30:00Z")),
            key_revoked: Some(t("2026-11-25T00:15:00Z")),
            new_key_generated: Some(t("2026-11-25T01:00:00Z")),
            modules_resigned: Some(t("2026-11-25T03:00:00Z")),
            notified: Some(t("2026-11-25T02:00:00Z")),
            recovered: None,
            reviewed: None,
        },
        window: Some(Window {
            from: t("2026-11-23T20:00:00Z"),
            to: Some(t("2026-11-24T22:00:00Z")),
        }),
        keys: CaseKeys {
            compromised: vec![KEY_A.into()],
            revoked: vec![KEY_A.into()],
            replacement: Some(KEY_B.into()),
        },
        events: vec![DeclaredEvent {
            at: t("2026-11-23T21:12:00Z"),
            description: "Secret key A pushed to a public repository".into(),
        }],
        disclosure: Disclosure {
            contact: Some("psirt@example.com".into()),
            tlp: Some("TLP:AMBER".into()),
            new_public_key_file: Some("test-key-b.pub".into()),
            ..Default::default()
        },
    }
}

/// A key file's analysis as the key analyser records it.
fn key_analysis(key_id: &str, is_secret: bool) -> wsc_forensics::model::evidence::Analysis {
    let format = if is_secret {
        "wsc-raw-secret"
    } else {
        "wsc-raw-public"
    };
    let analysis = wsc_forensics::model::evidence::Analysis::from_json(json!({
        "analyser": "key",
        "size": if is_secret { 65 } else { 33 },
        "key": {"algorithm": "ed25519", "format": format, "is_secret": is_secret,
                "wsc_key_id": key_id, "findings": []},
    }));
    assert!(
        matches!(analysis, wsc_forensics::model::evidence::Analysis::Key(_)),
        "{analysis:?}"
    );
    analysis
}

/// A module analysis as the wasm decoder records it: the verdict of each known key's signature.
fn verdicts(sigs: &[(&str, &str)]) -> wsc_forensics::model::evidence::Analysis {
    let vs: Vec<_> = sigs
        .iter()
        .map(|(k, v)| json!({"key_id": k, "key": k, "verdict": v}))
        .collect();
    wsc_forensics::model::evidence::Analysis::from_json(json!({
        "analyser": "module",
        "judged_with_key_ids": [],
        "keyless_checks": null,
        "trust_root": null,
        "module": {"signature": {"kind": "key-based", "verdicts": vs}},
    }))
}

pub fn evidence() -> Evidence {
    let mut signed_a = item(
        "wsc/modules/signed-a.wasm",
        ItemKind::Module,
        0o644,
        "2026-11-23T10:00:00Z",
    );
    signed_a.analysis = verdicts(&[(KEY_A, "valid")]);

    let mut tampered = item(
        "wsc/modules/signed-a-tampered-code.wasm",
        ItemKind::Module,
        0o644,
        "2026-11-24T02:00:00Z",
    );
    tampered.analysis = verdicts(&[(KEY_A, "invalid")]);
    let mut f = Finding::new(
        "signature-does-not-verify",
        Severity::High,
        Some(IncidentType::MaliciousModule),
        "Signature by key c858d5ec82d976c190cb33d0 does not cover the module's current bytes",
    );
    f.related = vec![];
    tampered.findings.push(f);

    // The release re-signed with replacement key B (it still carries key A's signature).
    let mut b_signed = item(
        "wsc/modules/signed-a-b.wasm",
        ItemKind::Module,
        0o644,
        "2026-11-25T03:00:00Z",
    );
    b_signed.analysis = verdicts(&[(KEY_A, "valid"), (KEY_B, "valid")]);

    let mut keyless = item(
        "wsc/modules/keyless-replayed-rekor-entry.wasm",
        ItemKind::Module,
        0o644,
        "2026-11-24T12:00:00Z",
    );
    keyless.times.push(ItemTime {
        at: t("2025-09-19T17:58:38Z"),
        event_type: "rekor.integrated".into(),
        description: "Rekor integrated time".into(),
        detail: "logIndex 538771042".into(),
    });
    keyless.findings.push(Finding::new(
        "rekor-entry-not-bound",
        Severity::High,
        Some(IncidentType::MaliciousModule),
        "Embedded Rekor entry 538771042 is for another artifact",
    ));

    let mut pub_a = item(
        "wsc/keys/test-key-a.pub",
        ItemKind::PublicKey,
        0o644,
        "2026-11-20T08:00:00Z",
    );
    pub_a.analysis = key_analysis(KEY_A, false);
    let mut sec_a = item(
        "wsc/keys/test-key-a.sec",
        ItemKind::SecretKey,
        0o644,
        "2026-11-20T08:00:00Z",
    );
    sec_a.analysis = key_analysis(KEY_A, true);
    sec_a.findings.push(Finding::new(
        "secret-key-permissions",
        Severity::Critical,
        Some(IncidentType::KeyCompromise),
        "Secret key file mode 0644: readable by group and others",
    ));
    let mut pub_b = item(
        "wsc/keys/test-key-b.pub",
        ItemKind::PublicKey,
        0o644,
        "2026-11-25T01:00:00Z",
    );
    pub_b.analysis = key_analysis(KEY_B, false);

    let mut audit = item(
        "wsc/audit/audit-all-event-types.jsonl",
        ItemKind::AuditLog,
        0o640,
        "2026-11-24T23:14:03Z",
    );
    audit.times.push(ItemTime {
        at: t("2026-11-24T23:14:02.067441Z"),
        event_type: "audit.signing.attempt".into(),
        description: "wsc audit: Signing operation initiated".into(),
        detail: "correlation 913b1904-732a-4d2f-a705-91b5729b3bea".into(),
    });

    let mut ev = Evidence {
        schema_version: 1,
        tool: ToolInfo {
            name: "wsc-forensics".into(),
            version: "0.1.0".into(),
        },
        case: case_info(),
        collected_at: t("2026-11-25T08:00:00Z"),
        items: vec![
            signed_a, tampered, b_signed, keyless, pub_a, sec_a, pub_b, audit,
        ],
        not_collected: vec![],
        findings: vec![],
    };
    let mut window = Finding::new(
        "signed-inside-compromise-window",
        Severity::High,
        Some(IncidentType::KeyCompromise),
        "Module signed by the compromised key inside the declared compromise window",
    );
    window.related = vec![ev.items[1].sha256];
    ev.findings.push(window);
    ev
}

pub fn custody(ev: &Evidence) -> Vec<CustodyEvent> {
    let at = |s: &str| -> DateTime<FixedOffset> { DateTime::parse_from_rfc3339(s).unwrap() };
    let actor = Actor {
        examiner: Some("A. Examiner".into()),
        user: "ir".into(),
        host: "forensic-ws-01".into(),
    };
    let tool = ToolInfo {
        name: "wsc-forensics".into(),
        version: "0.1.0".into(),
    };
    let argv: Vec<String> = [
        "wsc-forensics",
        "collect",
        "--case",
        "case.toml",
        "/srv/release",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut out = vec![CustodyEvent {
        seq: 0,
        time: at("2026-11-25T08:00:00+00:00"),
        action: CustodyAction::CollectionStarted,
        actor: actor.clone(),
        tool: tool.clone(),
        argv: argv.clone(),
        source: None,
        stat_before: None,
        stat_after: None,
        sha256: None,
        note: String::new(),
    }];
    for (i, item) in ev.items.iter().enumerate() {
        out.push(CustodyEvent {
            seq: i as u64 + 1,
            time: at("2026-11-25T08:00:01+00:00"),
            action: if item.kind == ItemKind::SecretKey {
                CustodyAction::MetadataOnly
            } else {
                CustodyAction::Acquired
            },
            actor: actor.clone(),
            tool: tool.clone(),
            argv: argv.clone(),
            source: Some(item.source.clone()),
            stat_before: Some(item.stat_before.clone()),
            stat_after: Some(item.stat_before.clone()),
            sha256: Some(item.sha256),
            note: String::new(),
        });
    }
    out.push(CustodyEvent {
        seq: ev.items.len() as u64 + 1,
        time: at("2026-11-25T08:00:02+00:00"),
        action: CustodyAction::CollectionFinished,
        actor,
        tool,
        argv,
        source: None,
        stat_before: None,
        stat_after: None,
        sha256: None,
        note: String::new(),
    });
    out
}

/// Headless Chromium (Debian `chromium`), the real browser the HTML report is checked in.
pub fn chromium_available() -> bool {
    crate::common::oracle_available("chromium", &["--version"], "apt-get install chromium")
}

/// `pdftoppm` from poppler-utils, the independent PDF rasteriser.
pub fn pdftoppm_available() -> bool {
    crate::common::oracle_available("pdftoppm", &["-v"], "apt-get install poppler-utils")
}
