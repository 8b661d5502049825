//! Dependency data of a shipped module, and the INC-4 question asked of it: which crate versions
//! it contains (cargo-auditable's embedded `dep-v0` list, or a Cargo.lock / CycloneDX / SPDX
//! SBOM beside it) and whether any of them is one a RustSec advisory or a semver requirement
//! names. Decoders in [`dep_v0`] and [`sbom`], advisories in [`advisory`], the match in
//! [`query`].

pub mod advisory;
pub mod dep_v0;
pub mod query;
pub mod sbom;

use rustsec::SourceId;
use serde::Serialize;

/// The crates.io source as Cargo.lock spells it (what RustSec advisories default to).
pub const CRATES_IO_SOURCE: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Most dependency data read whole (a decompressed `dep-v0` list, an SBOM, a Cargo.lock): real
/// ones are tens to hundreds of KiB.
pub const MAX_DEPENDENCY_DATA: u64 = 16 << 20;

/// One crate version a module contains.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// Where the crate came from, as the data says it (`crates.io`, `git`, `local`, a Cargo.lock
    /// source URL, a purl's `repository_url`); `None` when the data does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `build` for a build-time dependency (dep-v0 only); runtime otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The parsed version (semver).
    #[serde(skip)]
    pub semver: semver::Version,
    /// The source as RustSec compares it (`None`: not a registry package, or the data does not
    /// say; advisories are checked against crates.io packages only, as `cargo audit` does).
    #[serde(skip)]
    pub source_id: Option<SourceId>,
}

impl Package {
    /// A crates.io package.
    pub fn crates_io(name: &str, version: semver::Version) -> Self {
        Package {
            name: name.to_owned(),
            version: version.to_string(),
            source: Some("crates.io".into()),
            kind: None,
            semver: version,
            source_id: crates_io_source(),
        }
    }
}

/// The crates.io registry source id.
pub fn crates_io_source() -> Option<SourceId> {
    SourceId::from_url(CRATES_IO_SOURCE).ok()
}

/// Where a module's dependency list came from.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum DependencySource {
    /// The module's own `.dep-v0` custom section (cargo-auditable): exactly what was linked.
    EmbeddedDepV0,
    /// A CycloneDX JSON SBOM beside the module.
    Cyclonedx { path: String },
    /// An SPDX JSON SBOM beside the module.
    Spdx { path: String },
    /// A Cargo.lock in the module's folder: the whole workspace's resolution, which may name
    /// crates this module does not link.
    CargoLock { path: String },
}

impl DependencySource {
    pub fn describe(&self) -> String {
        match self {
            DependencySource::EmbeddedDepV0 => "embedded dep-v0".into(),
            DependencySource::Cyclonedx { path } => format!("CycloneDX {path}"),
            DependencySource::Spdx { path } => format!("SPDX {path}"),
            DependencySource::CargoLock { path } => format!("Cargo.lock {path}"),
        }
    }
}

/// Why dependency data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DepsError {
    #[error("{what}: zlib data does not decompress: {reason}")]
    Decompress { what: String, reason: String },
    #[error("{what}: decompresses to more than {max} bytes (refused)")]
    TooLarge { what: String, max: u64 },
    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: String,
        #[source]
        source: crate::io::bounded_read::BoundedReadError,
    },
}
