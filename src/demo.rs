//! The bundled sample incident behind `wsc-forensics demo`: real wsc fixtures (compiled into the
//! binary, so the demo works from any directory) laid out as a responder would find them on an
//! INC-1 (key compromise) host, with realistic modification times and key-file modes set on the
//! staged copies. The fixtures themselves are never touched.

use crate::io::output::{OutputDir, OutputError};
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// One staged file: where it goes, its bytes, its mode and its modification time.
struct StagedFile {
    path: &'static str,
    bytes: &'static [u8],
    mode: u32,
    /// Modification time, Unix seconds (UTC).
    mtime: u64,
}

macro_rules! fixture {
    ($rel:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/", $rel))
    };
}

// 2026-11-02T10:00:00Z etc.: before, inside and after the compromise window declared in
// fixtures/demo/case.toml (2026-11-16T14:05Z .. 2026-11-17T12:00Z).
const RELEASE_1: u64 = 1_793_613_600; // 2026-11-02T10:00:00Z
const RELEASE_2: u64 = 1_794_218_400; // 2026-11-09T10:00:00Z
const IN_WINDOW_1: u64 = 1_794_852_000; // 2026-11-16T18:00:00Z
const IN_WINDOW_2: u64 = 1_794_885_600; // 2026-11-17T03:20:00Z
const KEYS_MADE: u64 = 1_791_021_600; // 2026-10-03T10:00:00Z
const NEW_KEY: u64 = 1_794_921_300; // 2026-11-17T13:15:00Z (new_key_generated)
const RESIGNED: u64 = 1_794_997_800; // 2026-11-18T10:30:00Z (modules_resigned)
const KEYLESS: u64 = 1_794_916_800; // 2026-11-17T12:00:00Z
const AUDIT_LOG: u64 = 1_795_562_100; // 2026-11-24T23:15:00Z (just after its last entry)

const FILES: &[StagedFile] = &[
    StagedFile {
        path: "case.toml",
        bytes: fixture!("demo/case.toml"),
        mode: 0o644,
        mtime: RESIGNED,
    },
    StagedFile {
        path: "releases/2026-11-02/app.wasm",
        bytes: fixture!("wsc/modules/signed-a.wasm"),
        mode: 0o644,
        mtime: RELEASE_1,
    },
    StagedFile {
        path: "releases/2026-11-02/answer-component.wasm",
        bytes: fixture!("wsc/modules/signed-component-a.wasm"),
        mode: 0o644,
        mtime: RELEASE_1,
    },
    StagedFile {
        path: "releases/2026-11-09/plugin.wasm",
        bytes: fixture!("wsc/modules/detached-a.wasm"),
        mode: 0o644,
        mtime: RELEASE_2,
    },
    StagedFile {
        path: "releases/2026-11-09/plugin.wasm.sig",
        bytes: fixture!("wsc/modules/detached-a.sig"),
        mode: 0o644,
        mtime: RELEASE_2,
    },
    StagedFile {
        path: "quarantine/app-reported.wasm",
        bytes: fixture!("wsc/modules/signed-a-tampered-code.wasm"),
        mode: 0o444,
        mtime: IN_WINDOW_1,
    },
    StagedFile {
        path: "quarantine/app-with-note.wasm",
        bytes: fixture!("wsc/modules/signed-a-appended-section.wasm"),
        mode: 0o444,
        mtime: IN_WINDOW_2,
    },
    StagedFile {
        path: "resigned/app.wasm",
        bytes: fixture!("wsc/modules/signed-a-b.wasm"),
        mode: 0o644,
        mtime: RESIGNED,
    },
    StagedFile {
        path: "keyless/edge-filter.wasm",
        bytes: fixture!("wsc/modules/keyless-replayed-rekor-entry.wasm"),
        mode: 0o644,
        mtime: KEYLESS,
    },
    StagedFile {
        path: "transparency/rekor-538771042.json",
        bytes: fixture!("rekor/rekor-api-entry-538771042.reconstructed.json"),
        mode: 0o644,
        mtime: KEYLESS,
    },
    StagedFile {
        path: "transparency/trusted_root.json",
        bytes: fixture!("rekor/wsc-embedded-trusted_root.json"),
        mode: 0o644,
        mtime: KEYS_MADE,
    },
    // Key A's secret file was left world-readable: the control that failed.
    StagedFile {
        path: "keys/release-a.sec",
        bytes: fixture!("wsc/keys/test-key-a.sec"),
        mode: 0o644,
        mtime: KEYS_MADE,
    },
    StagedFile {
        path: "keys/release-a.pub",
        bytes: fixture!("wsc/keys/test-key-a.pub"),
        mode: 0o644,
        mtime: KEYS_MADE,
    },
    StagedFile {
        path: "keys/release-b.sec",
        bytes: fixture!("wsc/keys/test-key-b.sec"),
        mode: 0o600,
        mtime: NEW_KEY,
    },
    StagedFile {
        path: "keys/release-b.pub",
        bytes: fixture!("wsc/keys/test-key-b.pub"),
        mode: 0o644,
        mtime: NEW_KEY,
    },
    StagedFile {
        path: "logs/wsc-audit.jsonl",
        bytes: fixture!("wsc/audit/audit-keyless-verify.jsonl"),
        mode: 0o640,
        mtime: AUDIT_LOG,
    },
];

/// The examiner's own signing key (not evidence): the fixture trust-bundle signer key.
const EXAMINER_FILES: &[StagedFile] = &[
    StagedFile {
        path: "examiner/examiner.sec",
        bytes: fixture!("wsc/keys/test-key-bundle-signer.sec"),
        mode: 0o600,
        mtime: KEYS_MADE,
    },
    StagedFile {
        path: "examiner/examiner.pub",
        bytes: fixture!("wsc/keys/test-key-bundle-signer.pub"),
        mode: 0o644,
        mtime: KEYS_MADE,
    },
];

/// Where the staged sample incident lives, and the inputs `collect` should be given.
#[derive(Debug, Clone)]
pub struct StagedIncident {
    pub root: PathBuf,
    pub case_file: PathBuf,
    /// Evidence folders, in the order a responder would name them.
    pub inputs: Vec<PathBuf>,
    /// Trusted root the transparency evidence is judged against (the one wsc embeds).
    pub trusted_root: PathBuf,
    /// The examiner's signing key pair, outside the evidence folders.
    pub examiner_secret_key: PathBuf,
    pub examiner_public_key: PathBuf,
}

/// Collection time used by the demo, so its bundle and reports are reproducible: after every
/// time its story declares and every staged file's time (the last audit entry is
/// 2026-11-24T23:14Z), so the demo's reports are consistent with their own sanity checks.
pub const DEMO_COLLECTED_AT: &str = "2026-11-25T09:00:00Z";

/// Writes the sample incident under `root`, creating every directory and file without following
/// links; files already there are an error unless `force` (then they are replaced, never
/// written through).
pub fn stage_sample_incident(root: &Path, force: bool) -> Result<StagedIncident, OutputError> {
    let top = OutputDir::create(root)?;
    for f in FILES.iter().chain(EXAMINER_FILES) {
        let mut parts: Vec<&str> = f.path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        let mut dir = None;
        for p in parts {
            let next = dir.as_ref().unwrap_or(&top).subdir(p)?;
            dir = Some(next);
        }
        let dir = dir.as_ref().unwrap_or(&top);
        let mut out = dir.create_file(name, force)?;
        let path = dir.path().join(name);
        let io = |e| OutputError::Io {
            path: path.clone(),
            source: e,
        };
        out.write_all(f.bytes).map_err(io)?;
        out.file()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(f.mtime))
            .map_err(io)?;
        out.file()
            .set_permissions(fs::Permissions::from_mode(f.mode))
            .map_err(io)?;
        out.commit()?;
    }
    let inputs = [
        "releases",
        "quarantine",
        "resigned",
        "keyless",
        "transparency",
        "keys",
        "logs",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    Ok(StagedIncident {
        root: root.to_path_buf(),
        case_file: root.join("case.toml"),
        inputs,
        trusted_root: root.join("transparency/trusted_root.json"),
        examiner_secret_key: root.join("examiner/examiner.sec"),
        examiner_public_key: root.join("examiner/examiner.pub"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn staging_writes_fixture_bytes_with_modes_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let staged = stage_sample_incident(&dir.path().join("incident"), false).unwrap();
        let sec = fs::metadata(staged.root.join("keys/release-a.sec")).unwrap();
        assert_eq!(sec.permissions().mode() & 0o777, 0o644);
        assert_eq!(sec.mtime() as u64, KEYS_MADE);
        let app = fs::read(staged.root.join("releases/2026-11-02/app.wasm")).unwrap();
        let original = fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/signed-a.wasm"),
        )
        .unwrap();
        assert_eq!(app, original);
        assert!(staged.inputs.iter().all(|p| p.is_dir()));
        // Staging twice needs force, and then works over read-only files (the demo can be
        // re-run).
        let e = stage_sample_incident(&staged.root, false).unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        stage_sample_incident(&staged.root, true).unwrap();
    }

    #[test]
    fn demo_times_are_the_dates_their_comments_say() {
        let at = |s: u64| {
            chrono::DateTime::from_timestamp(s as i64, 0)
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(at(RELEASE_1), "2026-11-02T10:00:00+00:00");
        assert_eq!(at(IN_WINDOW_1), "2026-11-16T18:00:00+00:00");
        assert_eq!(at(IN_WINDOW_2), "2026-11-17T03:20:00+00:00");
        assert_eq!(at(NEW_KEY), "2026-11-17T13:15:00+00:00");
        assert_eq!(at(RESIGNED), "2026-11-18T10:30:00+00:00");
        assert_eq!(at(KEYLESS), "2026-11-17T12:00:00+00:00");
        assert_eq!(at(KEYS_MADE), "2026-10-03T10:00:00+00:00");
        assert_eq!(at(RELEASE_2), "2026-11-09T10:00:00+00:00");
        assert_eq!(at(AUDIT_LOG), "2026-11-24T23:15:00+00:00");
        // Every staged time is before the collection.
        let collected: chrono::DateTime<chrono::Utc> = DEMO_COLLECTED_AT.parse().unwrap();
        for f in FILES.iter().chain(EXAMINER_FILES) {
            assert!((f.mtime as i64) < collected.timestamp(), "{}", f.path);
        }
    }
}
