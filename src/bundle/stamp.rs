//! Adding a trusted timestamp to an existing bundle (`timestamp BUNDLE`): the bundle is
//! verified, its bytes copied to a temp file beside it, `bundle-timestamp.tsr` appended after
//! the last entry (the zip crate's append: every earlier byte stays as it was; only the central
//! directory is written anew), the copy verified again (same digest, intact, the token in it),
//! and then renamed over the bundle. A bundle path that is a symbolic link is refused.

use crate::bundle::timestamp::{check_response, TIMESTAMP_NAME};
use crate::bundle::verify::{verify_file, Verdict, VerifyOptions, VerifyReport};
use crate::bundle::writer::AtomicFile;
use crate::io::pread::PreadFile;
use crate::model::digest::Sha256Digest;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// Why a token could not be added.
#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: is a symbolic link; refusing to rewrite through it")]
    Symlink { path: PathBuf },
    #[error("{path}: not an intact wsc-forensics bundle ({verdict:?}, {problems} problem(s)): run `verify` on it")]
    NotIntact {
        path: PathBuf,
        verdict: Verdict,
        problems: usize,
    },
    #[error("{path}: already holds {TIMESTAMP_NAME} (use --replace to replace it)")]
    HasToken { path: PathBuf },
    #[error("{path}: {source}")]
    Token {
        path: PathBuf,
        source: crate::bundle::timestamp::TimestampError,
    },
    #[error("{path}: zip: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error("{path}: {source}")]
    Write {
        path: PathBuf,
        source: crate::bundle::writer::WriteError,
    },
    #[error("{path}: the rewritten bundle does not verify as the original did ({detail}); the original is unchanged")]
    Rewrite { path: PathBuf, detail: String },
}

/// A bundle opened for timestamping: verified, with its digest.
pub struct Stampable {
    path: PathBuf,
    file: PreadFile,
    pub report: VerifyReport,
    pub digest: Sha256Digest,
    /// The bag folder (entries are `<folder>/…`).
    folder: String,
}

/// Opens and verifies `path` (never through a link); it must be an intact bundle of ours.
pub fn open(path: &Path) -> Result<Stampable, StampError> {
    let io_err = |source| StampError::Io {
        path: path.to_owned(),
        source,
    };
    if std::fs::symlink_metadata(path)
        .map_err(io_err)?
        .file_type()
        .is_symlink()
    {
        return Err(StampError::Symlink {
            path: path.to_owned(),
        });
    }
    // O_NOFOLLOW closes the race between the check above and the open.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .map_err(io_err)?;
    let file = PreadFile::from_file(file).map_err(io_err)?;
    let report = verify_file(
        &file,
        &path.display().to_string(),
        &VerifyOptions::default(),
    );
    let folder = match (&report.verdict, &report.layout, report.digest) {
        (Verdict::Intact, Some(crate::bundle::verify::Layout::ZipFolder { folder }), Some(_))
            if report.kind == Some(crate::bundle::verify::BagKind::WscBundle) =>
        {
            folder.clone()
        }
        _ => {
            return Err(StampError::NotIntact {
                path: path.to_owned(),
                verdict: report.verdict,
                problems: report.problems.len(),
            })
        }
    };
    let digest = report.digest.expect("matched above");
    Ok(Stampable {
        path: path.to_owned(),
        file,
        report,
        digest,
        folder,
    })
}

impl Stampable {
    /// The token already stored, if any.
    pub fn token(&self) -> Option<Vec<u8>> {
        let mut za = ZipArchive::new(self.file.clone()).ok()?;
        let name = format!("{}/{TIMESTAMP_NAME}", self.folder);
        let f = za.by_name(&name).ok()?;
        let mut out = Vec::new();
        f.take(crate::bundle::timestamp::MAX_RESPONSE_BYTES)
            .read_to_end(&mut out)
            .ok()?;
        Some(out)
    }

    /// Stores `token` (checked against the bundle digest first) in the bundle, replacing the
    /// file atomically; with `replace`, a token already there is replaced (the bundle is then
    /// rebuilt without it first, every other entry copied raw).
    pub fn store(self, token: &[u8], replace: bool) -> Result<(), StampError> {
        let path = self.path.clone();
        let io_err = |source| StampError::Io {
            path: path.clone(),
            source,
        };
        let zip_err = |source| StampError::Zip {
            path: path.clone(),
            source,
        };
        check_response(token, &self.digest, None).map_err(|source| StampError::Token {
            path: path.clone(),
            source,
        })?;
        let name = format!("{}/{TIMESTAMP_NAME}", self.folder);
        let mut za = ZipArchive::new(self.file.clone()).map_err(zip_err)?;
        let existing = za.index_for_name(&name);
        if existing.is_some() && !replace {
            return Err(StampError::HasToken { path });
        }
        // The entry takes the bundle's fixed time, like every entry the writer made.
        let time = za
            .by_name(&format!("{}/tagmanifest-sha256.txt", self.folder))
            .ok()
            .and_then(|f| f.last_modified())
            .unwrap_or_default();
        let (atomic, mut temp) =
            AtomicFile::create(&path, true).map_err(|source| StampError::Write {
                path: path.clone(),
                source,
            })?;
        match existing {
            None => {
                let mut src = self.file.clone();
                src.seek(SeekFrom::Start(0)).map_err(io_err)?;
                io::copy(&mut src, &mut temp).map_err(io_err)?;
            }
            Some(skip) => {
                let mut w = ZipWriter::new(&mut temp);
                for i in 0..za.len() {
                    if i != skip {
                        let f = za.by_index_raw(i).map_err(zip_err)?;
                        w.raw_copy_file(f).map_err(zip_err)?;
                    }
                }
                w.finish().map_err(zip_err)?;
            }
        }
        temp.flush().map_err(io_err)?;
        let mut w = ZipWriter::new_append(&mut temp).map_err(zip_err)?;
        let opts = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .last_modified_time(time)
            .unix_permissions(0o644);
        w.start_file(name, opts).map_err(zip_err)?;
        w.write_all(token).map_err(io_err)?;
        w.finish().map_err(zip_err)?;
        // The copy must be the same bundle, intact, with the token in it, before it replaces
        // the original.
        let check = PreadFile::open(atomic.temp_path()).map_err(io_err)?;
        let after = verify_file(
            &check,
            &path.display().to_string(),
            &VerifyOptions::default(),
        );
        let detail = if after.verdict != Verdict::Intact {
            Some(format!(
                "{:?}: {}",
                after.verdict,
                after
                    .problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        } else if after.digest != Some(self.digest) {
            Some("the bundle digest changed".to_owned())
        } else {
            None
        };
        if let Some(detail) = detail {
            return Err(StampError::Rewrite { path, detail });
        }
        atomic
            .commit(temp, true)
            .map_err(|source| StampError::Write { path, source })
    }
}
