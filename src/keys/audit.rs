//! Key-file audit (`keys`): finding key files under the inputs, their per-file findings
//! (permissions, secret keys without their public key, revoked keys), and the
//! `sha256sum -c`-compatible hash baseline with its change check.
//!
//! Secret keys: the audit shows only what `keys::parse_key_file` derives from the public half. The
//! baseline holds the SHA-256 of each whole key file, secret ones included, exactly as the
//! runbook's `sha256sum ~/.wsc/keys/*.sec` does: it reveals nothing the public key does not
//! (both only confirm a guessed secret), and without it a replaced secret key goes unnoticed.

use crate::io::hashing::sha256_stream;
use crate::keys::{self, KeyFile, PublicKey};
use crate::model::digest::Sha256Digest;
use crate::model::evidence::{FileStat, Finding, IncidentType, ItemKind, Severity};
use crate::source::walk::{serialize_path, walk_inputs, SkipReason, SkippedPath, WalkedFile};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashSet;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Largest baseline file accepted (a line per key file; a million keys is already absurd).
pub const MAX_BASELINE_BYTES: u64 = 256 << 20;
/// Largest revocation list accepted.
pub const MAX_REVOCATION_LIST_BYTES: u64 = 16 << 20;

/// Errors reading a baseline or a revocation list; each names the file and the line.
#[derive(Debug, thiserror::Error)]
pub enum KeyAuditError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {size} bytes, over the {max}-byte limit")]
    TooLarge { path: String, size: u64, max: u64 },
    #[error("{path}: cannot read: not a regular file (a {kind}): refused so that reading cannot block or never end")]
    NotRegularFile { path: String, kind: &'static str },
    #[error("{path}:{line}: not a sha256sum line ({reason})")]
    BaselineLine {
        path: String,
        line: usize,
        reason: &'static str,
    },
    #[error("{path}:{line}: {text:?} is neither a wsc key id (24 hex) nor a fingerprint or public key (64 hex)")]
    RevocationLine {
        path: String,
        line: usize,
        text: String,
    },
}

/// A file under the inputs that `kind::classify` recognises as a key file.
#[derive(Debug, Clone)]
pub struct KeyCandidate {
    pub path: PathBuf,
    /// [`ItemKind::PublicKey`] or [`ItemKind::SecretKey`].
    pub kind: ItemKind,
    pub stat: FileStat,
}

/// The key files under the inputs, and every path that was skipped (not a key, unreadable,
/// symlink, …) with the reason.
#[derive(Debug, Default)]
pub struct KeyFileWalk {
    pub keys: Vec<KeyCandidate>,
    pub not_keys: Vec<NotAKey>,
    pub skipped: Vec<SkippedPath>,
    /// True when an input named on the command line does not exist.
    pub missing_input: bool,
}

/// A readable regular file that is not a key file.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct NotAKey {
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
    pub kind: ItemKind,
}

/// Walks the inputs (no symlinks followed) and sorts regular files into key files and the rest,
/// reading at most [`crate::source::kind::SNIFF_LEN`] bytes of each, in parallel.
pub fn find_key_files(inputs: &[PathBuf]) -> KeyFileWalk {
    let walk = walk_inputs(inputs);
    let missing_input = walk.has_missing_input();
    enum Sorted {
        Key(KeyCandidate),
        Other(NotAKey),
        Skip(SkippedPath),
    }
    let sorted: Vec<Sorted> = walk
        .files
        .par_iter()
        .map(|f: &WalkedFile| match sniff_kind(f) {
            Ok(kind) => {
                if matches!(kind, ItemKind::PublicKey | ItemKind::SecretKey) {
                    let mut stat = f.stat.clone();
                    stat.owner = keys::owner_name(stat.uid);
                    Sorted::Key(KeyCandidate {
                        path: f.path.clone(),
                        kind,
                        stat,
                    })
                } else {
                    Sorted::Other(NotAKey {
                        path: f.path.clone(),
                        kind,
                    })
                }
            }
            Err(e) => Sorted::Skip(SkippedPath {
                path: f.path.clone(),
                reason: SkipReason::Unreadable {
                    error: e.to_string(),
                },
            }),
        })
        .collect();
    let mut out = KeyFileWalk {
        skipped: walk.skipped,
        missing_input,
        ..Default::default()
    };
    for s in sorted {
        match s {
            Sorted::Key(k) => out.keys.push(k),
            Sorted::Other(n) => out.not_keys.push(n),
            Sorted::Skip(s) => out.skipped.push(s),
        }
    }
    out
}

/// `kind::classify`, plus DER keys (SPKI, PKCS#8), which have no text marker: a small file
/// starting with an ASN.1 SEQUENCE is a key file when the key parser accepts it.
fn key_kind(path: &Path, head: &[u8]) -> ItemKind {
    let kind = crate::source::kind::classify(path, head);
    if kind == ItemKind::Attachment
        && head.first() == Some(&0x30)
        && head.len() <= keys::MAX_KEY_FILE_LEN
    {
        if let Ok(k) = keys::parse_key_file(&path.display().to_string(), head) {
            return if k.is_secret {
                ItemKind::SecretKey
            } else {
                ItemKind::PublicKey
            };
        }
    }
    kind
}

/// The kind of a walked file, from its head ([`key_kind`]), and secret when the detector finds
/// secret material anywhere in it; opened only if it is still the file the walk found.
fn sniff_kind(f: &WalkedFile) -> io::Result<ItemKind> {
    let (file, _) = crate::source::open::open_walked(&f.path, f.stat.dev, f.stat.inode)
        .map_err(|e| io::Error::other(e.to_string()))?;
    crate::source::kind::sniff_file(&f.path, file, key_kind)
}

// ---------------------------------------------------------------------------------------------
// Baseline (sha256sum format)

/// One line of a baseline: the SHA-256 of a file and its path.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct BaselineEntry {
    pub sha256: Sha256Digest,
    #[serde(serialize_with = "serialize_path")]
    pub path: PathBuf,
}

/// Hashes every key file (streaming, in parallel). Entries come back sorted by path bytes, so the
/// same key store gives the same baseline; files that could not be read come back separately.
pub fn hash_key_files(keys: &[KeyCandidate]) -> (Vec<BaselineEntry>, Vec<SkippedPath>) {
    let results: Vec<Result<BaselineEntry, SkippedPath>> = keys
        .par_iter()
        .map(|k| {
            hash_candidate(k)
                .map(|sha256| BaselineEntry {
                    sha256,
                    path: k.path.clone(),
                })
                .map_err(|e| SkippedPath {
                    path: k.path.clone(),
                    reason: SkipReason::Unreadable {
                        error: e.to_string(),
                    },
                })
        })
        .collect();
    let mut entries = Vec::new();
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(e) => entries.push(e),
            Err(s) => failed.push(s),
        }
    }
    entries.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
    (entries, failed)
}

fn hash_file(path: &Path) -> io::Result<Sha256Digest> {
    Ok(sha256_stream(std::fs::File::open(path)?)?.0)
}

fn hash_candidate(k: &KeyCandidate) -> io::Result<Sha256Digest> {
    Ok(sha256_stream(open_candidate(k)?)?.0)
}

/// Opens a key file the walk found, only if the path still leads to that inode (the walk's
/// anchoring: a directory swapped for a link is never followed).
fn open_candidate(k: &KeyCandidate) -> io::Result<std::fs::File> {
    crate::source::open::open_walked(&k.path, k.stat.dev, k.stat.inode)
        .map(|(f, _)| f)
        .map_err(|e| io::Error::other(e.to_string()))
}

/// Writes one baseline line exactly as GNU coreutils `sha256sum` (9.x) does: `HEX  NAME\n`; a
/// name holding `\`, LF or CR is escaped (`\\`, `\n`, `\r`) and the line starts with `\`.
/// Other bytes (including non-UTF-8) are written as they are.
pub fn write_baseline_line<W: Write>(w: &mut W, entry: &BaselineEntry) -> io::Result<()> {
    let name = entry.path.as_os_str().as_bytes();
    let needs_escape = name.iter().any(|&b| matches!(b, b'\\' | b'\n' | b'\r'));
    if needs_escape {
        w.write_all(b"\\")?;
    }
    w.write_all(entry.sha256.to_hex().as_bytes())?;
    w.write_all(b"  ")?;
    if needs_escape {
        let mut escaped = Vec::with_capacity(name.len() + 8);
        for &b in name {
            match b {
                b'\\' => escaped.extend_from_slice(b"\\\\"),
                b'\n' => escaped.extend_from_slice(b"\\n"),
                b'\r' => escaped.extend_from_slice(b"\\r"),
                _ => escaped.push(b),
            }
        }
        w.write_all(&escaped)?;
    } else {
        w.write_all(name)?;
    }
    w.write_all(b"\n")
}

/// Parses a baseline in `sha256sum` format (text `HEX  NAME` or binary `HEX *NAME`, with
/// coreutils' `\`-escaped names). Empty lines are ignored. `name` only labels errors.
pub fn parse_baseline(name: &str, bytes: &[u8]) -> Result<Vec<BaselineEntry>, KeyAuditError> {
    let mut entries = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = i + 1;
        let err = |reason| KeyAuditError::BaselineLine {
            path: name.to_owned(),
            line: line_no,
            reason,
        };
        if raw.is_empty() {
            continue;
        }
        let (escaped, rest) = match raw.strip_prefix(b"\\") {
            Some(r) => (true, r),
            None => (false, raw),
        };
        if rest.len() < 66 {
            return Err(err("too short"));
        }
        let hex_part = std::str::from_utf8(&rest[..64]).map_err(|_| err("digest is not hex"))?;
        let sha256 = Sha256Digest::from_hex(hex_part).ok_or_else(|| err("digest is not hex"))?;
        if rest[64] != b' ' || !matches!(rest[65], b' ' | b'*') {
            return Err(err("expected two spaces or \" *\" after the digest"));
        }
        let file = &rest[66..];
        if file.is_empty() {
            return Err(err("empty file name"));
        }
        let file = if escaped {
            unescape_name(file).ok_or_else(|| err("bad escape in file name"))?
        } else {
            file.to_vec()
        };
        entries.push(BaselineEntry {
            sha256,
            path: PathBuf::from(OsStr::from_bytes(&file)),
        });
    }
    Ok(entries)
}

fn unescape_name(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.iter();
    while let Some(&b) = it.next() {
        if b == b'\\' {
            match it.next()? {
                b'\\' => out.push(b'\\'),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                _ => return None,
            }
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Reads and parses a baseline file.
pub fn load_baseline(path: &Path) -> Result<Vec<BaselineEntry>, KeyAuditError> {
    let bytes = read_limited(path, MAX_BASELINE_BYTES)?;
    parse_baseline(&path.display().to_string(), &bytes)
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, KeyAuditError> {
    use crate::io::bounded_read::{read_regular_file, BoundedReadError};
    let path_text = || path.display().to_string();
    read_regular_file(path, max).map_err(|e| match e {
        BoundedReadError::Io(source) => KeyAuditError::Io {
            path: path_text(),
            source,
        },
        BoundedReadError::TooLarge { size, max } => KeyAuditError::TooLarge {
            path: path_text(),
            size,
            max,
        },
        BoundedReadError::NotRegularFile(kind) => KeyAuditError::NotRegularFile {
            path: path_text(),
            kind,
        },
    })
}

/// What happened to one key file since the baseline was written.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum BaselineChange {
    /// Same SHA-256 as recorded.
    Unchanged { sha256: Sha256Digest },
    /// Different content.
    Changed {
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    /// In the baseline, gone from disk.
    Missing { expected: Sha256Digest },
    /// The path is now a symbolic link, directory or special file.
    NotARegularFile { expected: Sha256Digest },
    /// Could not be read, so it cannot be shown unchanged.
    Unreadable {
        expected: Sha256Digest,
        error: String,
    },
    /// A key file under the inputs that the baseline does not list.
    New { actual: Sha256Digest },
}

impl BaselineChange {
    pub fn is_change(&self) -> bool {
        !matches!(self, BaselineChange::Unchanged { .. })
    }

    /// Short word for human output.
    pub fn label(&self) -> &'static str {
        match self {
            BaselineChange::Unchanged { .. } => "unchanged",
            BaselineChange::Changed { .. } => "changed",
            BaselineChange::Missing { .. } => "missing",
            BaselineChange::NotARegularFile { .. } => "not-a-file",
            BaselineChange::Unreadable { .. } => "unreadable",
            BaselineChange::New { .. } => "new",
        }
    }
}

/// One checked path.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq)]
#[schemars(with = "BaselineCheckEntryJson")]
pub struct BaselineCheckEntry {
    pub path: PathBuf,
    pub change: BaselineChange,
    /// The file is (or, when it cannot be read, is named like) a secret key: its digests are
    /// never printed. `keys baseline` is the one place a secret key file's SHA-256 is written;
    /// `check` must not publish a digest the baseline does not hold (a replaced secret key's),
    /// nor repeat the baseline's.
    pub secret: bool,
}

/// The JSON record of a [`BaselineCheckEntry`] (its schema; the record is written by hand):
/// a secret key's digests are left out.
#[derive(schemars::JsonSchema)]
#[schemars(rename = "BaselineCheckEntry")]
#[allow(dead_code)]
struct BaselineCheckEntryJson {
    path: String,
    /// `unchanged`, `changed`, `missing`, `not-a-file`, `unreadable` or `new`.
    #[schemars(regex(pattern = r"^(unchanged|changed|missing|not-a-file|unreadable|new)$"))]
    status: String,
    /// Present (true) for a secret key file: no digest is printed for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_key: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Serialize for BaselineCheckEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &PathText(&self.path))?;
        m.serialize_entry("status", self.change.label())?;
        if self.secret {
            m.serialize_entry("secret_key", &true)?;
        }
        let mut digest = |name: &str, d: &Sha256Digest| -> Result<(), S::Error> {
            if self.secret {
                Ok(())
            } else {
                m.serialize_entry(name, d)
            }
        };
        let mut error = None;
        match &self.change {
            BaselineChange::Unchanged { sha256 } => digest("sha256", sha256)?,
            BaselineChange::Changed { expected, actual } => {
                digest("expected", expected)?;
                digest("actual", actual)?;
            }
            BaselineChange::Missing { expected } | BaselineChange::NotARegularFile { expected } => {
                digest("expected", expected)?
            }
            BaselineChange::Unreadable { expected, error: e } => {
                digest("expected", expected)?;
                error = Some(e);
            }
            BaselineChange::New { actual } => digest("actual", actual)?,
        }
        if let Some(e) = error {
            m.serialize_entry("error", e)?;
        }
        m.end()
    }
}

/// Whether the file at `path` is a secret key (by content; by a `.sec` name when it cannot be
/// read).
fn is_secret_key_file(path: &Path) -> bool {
    match crate::source::kind::sniff(path) {
        Ok(kind) => kind == ItemKind::SecretKey,
        Err(_) => path.extension().is_some_and(|e| e == "sec"),
    }
}

/// Result of comparing the key files on disk with a baseline: every baseline entry (in baseline
/// order), then new key files (sorted by path).
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Default)]
pub struct BaselineCheck {
    pub entries: Vec<BaselineCheckEntry>,
}

impl BaselineCheck {
    pub fn changes(&self) -> impl Iterator<Item = &BaselineCheckEntry> {
        self.entries.iter().filter(|e| e.change.is_change())
    }

    pub fn count(&self, label: &str) -> usize {
        self.entries
            .iter()
            .filter(|e| e.change.label() == label)
            .count()
    }
}

/// Checks every baseline entry against the disk (each path as recorded, whether or not it lies
/// under `found`'s inputs) and lists key files in `found` that the baseline lacks. Hashing runs
/// in parallel; paths compare component-wise (`dir//a` = `dir/a`).
pub fn check_baseline(baseline: &[BaselineEntry], found: &[KeyCandidate]) -> BaselineCheck {
    let mut entries: Vec<BaselineCheckEntry> = baseline
        .par_iter()
        .map(|b| BaselineCheckEntry {
            path: b.path.clone(),
            change: check_one(b),
            secret: is_secret_key_file(&b.path),
        })
        .collect();
    let listed: HashSet<&Path> = baseline.iter().map(|b| b.path.as_path()).collect();
    let mut new: Vec<BaselineCheckEntry> = found
        .par_iter()
        .filter(|k| !listed.contains(k.path.as_path()))
        .map(|k| BaselineCheckEntry {
            path: k.path.clone(),
            secret: k.kind == ItemKind::SecretKey,
            change: match hash_file(&k.path) {
                Ok(actual) => BaselineChange::New { actual },
                // A new key file we cannot read is still new; record why there is no digest.
                Err(e) => BaselineChange::Unreadable {
                    expected: Sha256Digest([0; 32]),
                    error: format!("new key file, {e}"),
                },
            },
        })
        .collect();
    new.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
    entries.extend(new);
    BaselineCheck { entries }
}

fn check_one(b: &BaselineEntry) -> BaselineChange {
    let expected = b.sha256;
    match std::fs::symlink_metadata(&b.path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => BaselineChange::Missing { expected },
        Err(e) => BaselineChange::Unreadable {
            expected,
            error: e.to_string(),
        },
        Ok(md) if !md.file_type().is_file() => BaselineChange::NotARegularFile { expected },
        Ok(_) => match hash_file(&b.path) {
            Ok(actual) if actual == expected => BaselineChange::Unchanged { sha256: actual },
            Ok(actual) => BaselineChange::Changed { expected, actual },
            Err(e) => BaselineChange::Unreadable {
                expected,
                error: e.to_string(),
            },
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Revocation list

/// One identity on a revocation list.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Lower-case hex as written (24 hex: wsc key id; 64 hex: fingerprint or raw public key).
    pub id: String,
    /// Where it came from (`FILE:LINE` or `case file keys.revoked`).
    pub source: String,
}

/// Key ids and fingerprints that must not be in use.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    pub entries: Vec<RevokedEntry>,
}

impl RevocationList {
    /// Parses one key id or fingerprint per line; `#` starts a comment; blank lines are ignored.
    pub fn parse(name: &str, text: &str) -> Result<Self, KeyAuditError> {
        let mut list = RevocationList::default();
        for (i, line) in text.lines().enumerate() {
            let item = line.split('#').next().unwrap_or("").trim();
            if item.is_empty() {
                continue;
            }
            if !list.add(item, format!("{name}:{}", i + 1)) {
                return Err(KeyAuditError::RevocationLine {
                    path: name.to_owned(),
                    line: i + 1,
                    text: item.to_owned(),
                });
            }
        }
        Ok(list)
    }

    /// Reads a revocation list file.
    pub fn load(path: &Path) -> Result<Self, KeyAuditError> {
        let bytes = read_limited(path, MAX_REVOCATION_LIST_BYTES)?;
        Self::parse(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
        )
    }

    /// Adds one id (24 or 64 hex characters); returns false (and adds nothing) for anything else.
    #[must_use]
    pub fn add(&mut self, id: &str, source: String) -> bool {
        let id = id.trim().to_ascii_lowercase();
        let hex_ok = id.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex_ok || !(id.len() == 24 || id.len() == 64) {
            return false;
        }
        self.entries.push(RevokedEntry { id, source });
        true
    }

    /// The entry naming this key (by wsc key id, fingerprint or raw public key), if any.
    pub fn find(&self, pk: &PublicKey) -> Option<&RevokedEntry> {
        let key_id = hex::encode(pk.wsc_key_id());
        let fingerprint = pk.fingerprint().to_hex();
        let raw = pk.to_hex();
        self.entries
            .iter()
            .find(|e| e.id == key_id || e.id == fingerprint || e.id == raw)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

/// Finding code: a secret key file whose public key is not among the key files audited.
pub const FINDING_SECRET_WITHOUT_PUBLIC: &str = "secret-key-without-public-key";
/// Finding code: a key on the revocation list (or the case file's compromised/revoked keys).
pub const FINDING_REVOKED_KEY: &str = "revoked-key";
/// Finding code: a file that looks like a secret key but could not be parsed, readable by others.
pub const FINDING_UNPARSED_SECRET_PERMISSIONS: &str = "secret-key-permissions";
/// Finding code: a file that looks like a key (by its first bytes) but could not be parsed.
pub const FINDING_MALFORMED_KEY_FILE: &str = "malformed-key-file";

/// `keys::parse_key_file` marks every secret key with this informational note; the audit
/// reports real problems only, so the note is not a finding here (the `secret` field says it).
const NOTE_SECRET_KEY_MATERIAL: &str = "secret-key-material";

/// What the audit says about one key file. Never holds a secret byte: for a secret key only
/// the public half's identifiers appear.
#[derive(schemars::JsonSchema, Debug, Clone)]
#[schemars(with = "AuditedKeyFileJson")]
pub struct AuditedKeyFile {
    pub path: PathBuf,
    /// The parsed key (its own findings are in `findings`), or why the file, which looks like
    /// a key, could not be parsed.
    pub key: Result<KeyFile, String>,
    /// A secret key: by content, or by its first bytes when it could not be parsed.
    pub secret: bool,
    pub stat: FileStat,
    pub findings: Vec<Finding>,
}

impl AuditedKeyFile {
    pub fn public_key(&self) -> Option<PublicKey> {
        self.key.as_ref().ok().and_then(|k| k.public_key)
    }

    pub fn wsc_key_id(&self) -> Option<&str> {
        self.key.as_ref().ok().and_then(|k| k.wsc_key_id.as_deref())
    }
}

/// The JSON record of an [`AuditedKeyFile`] (its schema; the record is written by hand below).
#[derive(schemars::JsonSchema)]
#[schemars(rename = "AuditedKeyFile")]
#[allow(dead_code)]
struct AuditedKeyFileJson {
    path: String,
    /// null when the file could not be parsed.
    format: Option<keys::KeyFormat>,
    secret: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    algorithm: Option<keys::KeyAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_key: Option<PublicKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wsc_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint_sha256: Option<Sha256Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh_comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encrypted: Option<bool>,
    /// Why a file that looks like a key could not be parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Permission bits in octal (`"0600"`).
    #[schemars(regex(pattern = r"^[0-7]{4}$"))]
    permissions: String,
    stat: FileStat,
    findings: Vec<Finding>,
}

/// The `keys --json` record: path, `format` (null when unparsed), `secret`, the key's
/// identifiers (or `error`), `permissions` in octal (`"0600"`), `stat`, `findings`.
impl Serialize for AuditedKeyFile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("path", &PathText(&self.path))?;
        m.serialize_entry("format", &self.key.as_ref().ok().map(|k| k.format))?;
        m.serialize_entry("secret", &self.secret)?;
        match &self.key {
            Ok(k) => {
                m.serialize_entry("algorithm", &k.algorithm)?;
                fn some<M: SerializeMap, T: Serialize>(
                    m: &mut M,
                    name: &str,
                    v: &Option<T>,
                ) -> Result<(), M::Error> {
                    v.as_ref().map_or(Ok(()), |v| m.serialize_entry(name, v))
                }
                some(&mut m, "public_key", &k.public_key)?;
                some(&mut m, "wsc_key_id", &k.wsc_key_id)?;
                some(&mut m, "fingerprint_sha256", &k.fingerprint_sha256)?;
                some(&mut m, "bundle_key_id", &k.bundle_key_id)?;
                some(&mut m, "ssh_comment", &k.ssh_comment)?;
                some(&mut m, "encrypted", &k.encrypted)?;
            }
            Err(e) => m.serialize_entry("error", e)?,
        }
        m.serialize_entry("permissions", &format!("{:04o}", self.stat.permissions()))?;
        m.serialize_entry("stat", &self.stat)?;
        m.serialize_entry("findings", &self.findings)?;
        m.end()
    }
}

/// A path serialised as [`serialize_path`] does.
struct PathText<'a>(&'a Path);

impl Serialize for PathText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_path(self.0, s)
    }
}

/// The audit of all key files under the inputs.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Default)]
pub struct KeyAudit {
    pub keys: Vec<AuditedKeyFile>,
    /// Readable regular files that are not key files.
    pub not_keys: Vec<NotAKey>,
    /// Paths not looked at (symlinks, special files, unreadable, missing inputs).
    pub skipped: Vec<SkippedPath>,
}

impl KeyAudit {
    pub fn findings(&self) -> impl Iterator<Item = (&AuditedKeyFile, &Finding)> {
        self.keys
            .iter()
            .flat_map(|k| k.findings.iter().map(move |f| (k, f)))
    }
}

/// Audits the key files found by [`find_key_files`]: parses each (in parallel), then adds the
/// findings that need all of them (secret keys without their public key) and the revocation list.
pub fn audit_keys(walk: KeyFileWalk, revoked: &RevocationList) -> KeyAudit {
    let mut skipped = walk.skipped;
    let parsed: Vec<Result<AuditedKeyFile, SkippedPath>> =
        walk.keys.par_iter().map(audit_one).collect();
    let mut keys_out = Vec::new();
    for p in parsed {
        match p {
            Ok(k) => keys_out.push(k),
            Err(s) => skipped.push(s),
        }
    }
    let public_keys: HashSet<PublicKey> = keys_out
        .iter()
        .filter(|k| !k.secret)
        .filter_map(AuditedKeyFile::public_key)
        .collect();
    for k in &mut keys_out {
        if let Some(pk) = k.public_key() {
            if k.secret && !public_keys.contains(&pk) {
                k.findings.push(Finding::new(
                    FINDING_SECRET_WITHOUT_PUBLIC,
                    Severity::Low,
                    Some(IncidentType::KeyCompromise),
                    format!(
                        "secret key {} has no public key file among the inputs: a signing key \
                         nobody inventoried (policy violation)",
                        k.wsc_key_id().unwrap_or("-")
                    ),
                ));
            }
            if let Some(entry) = revoked.find(&pk) {
                k.findings.push(Finding::new(
                    FINDING_REVOKED_KEY,
                    Severity::Critical,
                    Some(IncidentType::KeyCompromise),
                    format!(
                        "{} key {} is on the revocation list ({}: {})",
                        if k.secret { "secret" } else { "public" },
                        k.wsc_key_id().unwrap_or("-"),
                        entry.source,
                        entry.id
                    ),
                ));
            }
        }
    }
    KeyAudit {
        keys: keys_out,
        not_keys: walk.not_keys,
        skipped,
    }
}

fn audit_one(c: &KeyCandidate) -> Result<AuditedKeyFile, SkippedPath> {
    let name = c.path.display().to_string();
    // A file too large to be a key is still judged (a malformed key file); one that cannot be
    // read is skipped.
    let parsed = match read_key_bytes(c) {
        Ok(bytes) if bytes.len() > keys::MAX_KEY_FILE_LEN => Err(keys::KeyError::TooLarge {
            file: name.clone(),
            size: c.stat.size.max(bytes.len() as u64),
            max: keys::MAX_KEY_FILE_LEN,
        }),
        Ok(bytes) => keys::parse_key_file(&name, &bytes),
        Err(e) => {
            return Err(SkippedPath {
                path: c.path.clone(),
                reason: SkipReason::Unreadable {
                    error: e.to_string(),
                },
            })
        }
    };
    let looks_secret = c.kind == ItemKind::SecretKey;
    let findings = match &parsed {
        Ok(key) => {
            let mut findings: Vec<Finding> = key
                .findings
                .iter()
                .filter(|f| f.code != NOTE_SECRET_KEY_MATERIAL)
                .cloned()
                .collect();
            findings.extend(keys::permission_findings(key, &c.stat));
            findings
        }
        Err(e) => {
            let mut findings = vec![Finding::new(
                FINDING_MALFORMED_KEY_FILE,
                Severity::Low,
                None,
                format!("looks like a key file but could not be parsed: {e}"),
            )];
            let mode = c.stat.permissions();
            if looks_secret && mode & 0o077 != 0 {
                findings.push(Finding::new(
                    FINDING_UNPARSED_SECRET_PERMISSIONS,
                    Severity::Low,
                    Some(IncidentType::KeyCompromise),
                    format!(
                        "file that looks like a secret key has mode {mode:04o}: readable by \
                         group or others (expected 0600)"
                    ),
                ));
            }
            findings
        }
    };
    Ok(AuditedKeyFile {
        path: c.path.clone(),
        secret: parsed.as_ref().map_or(looks_secret, |k| k.is_secret),
        // The key's own findings are the audit's now (filtered above): kept once.
        key: parsed
            .map(|k| KeyFile {
                findings: Vec::new(),
                ..k
            })
            .map_err(|e| e.to_string()),
        stat: c.stat.clone(),
        findings,
    })
}

fn read_key_bytes(k: &KeyCandidate) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open_candidate(k)?
        .take(keys::MAX_KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_and_revocation_lists_are_bounded_regular_file_reads() {
        assert!(matches!(
            load_baseline(Path::new("/dev/zero")),
            Err(KeyAuditError::NotRegularFile {
                kind: "character device",
                ..
            })
        ));
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            RevocationList::load(dir.path()),
            Err(KeyAuditError::NotRegularFile {
                kind: "directory",
                ..
            })
        ));
        let big = dir.path().join("revoked.txt");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(MAX_REVOCATION_LIST_BYTES + 1)
            .unwrap();
        assert!(matches!(
            RevocationList::load(&big),
            Err(KeyAuditError::TooLarge { .. })
        ));
    }

    #[test]
    fn audited_key_records_keep_the_keys_json_shape() {
        let dir = tempfile::tempdir().unwrap();
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys/test-key-a.pub");
        std::fs::copy(fixture, dir.path().join("a.pub")).unwrap();
        std::fs::write(
            dir.path().join("b.pem"),
            "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let audit = audit_keys(
            find_key_files(&[dir.path().to_path_buf()]),
            &RevocationList::default(),
        );
        let fields = |i: usize| -> Vec<String> {
            let text = serde_json::to_string(&audit.keys[i]).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut names: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            // In document order, not the map's.
            names.sort_by_key(|n| text.find(&format!("\"{n}\":")).unwrap());
            names
        };
        let parsed = audit.keys.iter().position(|k| k.key.is_ok()).unwrap();
        assert_eq!(
            fields(parsed),
            [
                "path",
                "format",
                "secret",
                "algorithm",
                "public_key",
                "wsc_key_id",
                "fingerprint_sha256",
                "bundle_key_id",
                "permissions",
                "stat",
                "findings"
            ]
        );
        let unparsed = 1 - parsed;
        assert_eq!(
            fields(unparsed),
            [
                "path",
                "format",
                "secret",
                "error",
                "permissions",
                "stat",
                "findings"
            ]
        );
        let v = serde_json::to_value(&audit.keys[unparsed]).unwrap();
        assert!(v["format"].is_null());
        assert_eq!(v["secret"], true);
        assert_eq!(v["findings"][0]["code"], FINDING_MALFORMED_KEY_FILE);
    }

    #[test]
    fn baseline_lines_escape_like_coreutils() {
        let e = |p: &[u8]| BaselineEntry {
            sha256: Sha256Digest([0xab; 32]),
            path: PathBuf::from(OsStr::from_bytes(p)),
        };
        let mut out = Vec::new();
        write_baseline_line(&mut out, &e(b"dir/a.pub")).unwrap();
        write_baseline_line(&mut out, &e(b"new\nline\\x\r")).unwrap();
        let hex = "ab".repeat(32);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            format!("{hex}  dir/a.pub\n\\{hex}  new\\nline\\\\x\\r\n")
        );
        let back = parse_baseline("b", &out).unwrap();
        assert_eq!(back, vec![e(b"dir/a.pub"), e(b"new\nline\\x\r")]);
    }

    #[test]
    fn malformed_baselines_name_the_line() {
        let hex = "ab".repeat(32);
        let text = format!("{hex}  ok\n{hex} xbad\n");
        let err = parse_baseline("keys.sha256", text.as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("keys.sha256:2:"), "{err}");
        assert!(parse_baseline("b", b"zz  f\n").is_err());
        let bin = format!("{hex} *bin\n");
        assert_eq!(
            parse_baseline("b", bin.as_bytes()).unwrap()[0].path,
            Path::new("bin")
        );
        assert!(parse_baseline("b", format!("\\{hex}  a\\qb\n").as_bytes()).is_err());
    }

    #[test]
    fn check_sees_replaced_removed_and_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same.pub");
        let gone = dir.path().join("gone.pub");
        let now_dir = dir.path().join("now-a-dir.pub");
        for p in [&same, &gone, &now_dir] {
            std::fs::write(p, b"\x01key").unwrap();
        }
        let d = Sha256Digest::of(b"\x01key");
        let baseline: Vec<BaselineEntry> = [&same, &gone, &now_dir]
            .iter()
            .map(|p| BaselineEntry {
                sha256: d,
                path: p.to_path_buf(),
            })
            .collect();
        std::fs::remove_file(&gone).unwrap();
        std::fs::remove_file(&now_dir).unwrap();
        std::fs::create_dir(&now_dir).unwrap();
        let check = check_baseline(&baseline, &[]);
        let got: Vec<&BaselineChange> = check.entries.iter().map(|e| &e.change).collect();
        assert_eq!(
            got,
            vec![
                &BaselineChange::Unchanged { sha256: d },
                &BaselineChange::Missing { expected: d },
                &BaselineChange::NotARegularFile { expected: d },
            ]
        );
    }

    #[test]
    fn revocation_lists_take_ids_and_fingerprints_with_comments() {
        let a = PublicKey::from_slice(
            &hex::decode("e3749b84e3e8af4036b3d26615547959acebcda20c9b05e421506c4bcf819e04")
                .unwrap(),
        )
        .unwrap();
        let by_id =
            RevocationList::parse("r", "# revoked\n\nC858D5EC82D976C190CB33D0 # key A\n").unwrap();
        assert_eq!(by_id.find(&a).unwrap().source, "r:3");
        let by_fp = RevocationList::parse("r", &a.fingerprint().to_hex()).unwrap();
        assert!(by_fp.find(&a).is_some());
        let other = RevocationList::parse("r", "465c5341001f3e570f784f71").unwrap();
        assert!(other.find(&a).is_none());
        let err = RevocationList::parse("r", "ok? no\n").unwrap_err();
        assert!(err.to_string().starts_with("r:1:"), "{err}");
    }
}
