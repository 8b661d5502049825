//! Dependency lists kept beside a module: Cargo.lock, CycloneDX JSON and SPDX JSON, and the
//! rule for which of them belongs to which module ([`beside`]). SBOM components count as crates
//! only when their package URL is a `pkg:cargo/NAME@VERSION` purl: the name and version come from
//! the purl (the SBOM's display name may differ), other ecosystems are not crates.

use super::{crates_io_source, DependencySource, DepsError, Package, MAX_DEPENDENCY_DATA};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The kinds of sidecar file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidecarKind {
    Cyclonedx,
    Spdx,
    CargoLock,
}

/// The dependency file that belongs to `module`, by the adjacency rule (first that exists as a
/// regular file, not a symlink, in this order): `MODULE.cdx.json`, `<stem>.cdx.json`,
/// `MODULE.spdx.json`, `<stem>.spdx.json` (an SBOM named after the module), then `Cargo.lock`
/// in the module's folder (shared by every module there). `exists` says whether a path is such
/// a file (a directory walk asks the file system, a bundle its collected items).
pub fn beside(module: &Path, exists: impl Fn(&Path) -> bool) -> Option<(SidecarKind, PathBuf)> {
    let dir = module.parent().unwrap_or(Path::new(""));
    let name = module.file_name()?.to_string_lossy().into_owned();
    let stem = module.file_stem()?.to_string_lossy().into_owned();
    let mut candidates = Vec::new();
    for (suffix, kind) in [
        (".cdx.json", SidecarKind::Cyclonedx),
        (".spdx.json", SidecarKind::Spdx),
    ] {
        candidates.push((kind, dir.join(format!("{name}{suffix}"))));
        if stem != name {
            candidates.push((kind, dir.join(format!("{stem}{suffix}"))));
        }
    }
    candidates.push((SidecarKind::CargoLock, dir.join("Cargo.lock")));
    candidates.into_iter().find(|(_, p)| exists(p))
}

/// Whether `path` is a regular file (a symlink is never followed to find dependency data).
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Parses a sidecar file's bytes; `name` is the path reported.
pub fn parse(
    kind: SidecarKind,
    name: &str,
    bytes: &[u8],
) -> Result<(DependencySource, Vec<Package>), DepsError> {
    let path = name.to_owned();
    Ok(match kind {
        SidecarKind::Cyclonedx => (
            DependencySource::Cyclonedx { path },
            cyclonedx(name, bytes)?,
        ),
        SidecarKind::Spdx => (DependencySource::Spdx { path }, spdx(name, bytes)?),
        SidecarKind::CargoLock => (
            DependencySource::CargoLock { path },
            cargo_lock(name, bytes)?,
        ),
    })
}

/// Reads and parses a sidecar file (bounded, regular files only).
pub fn read(kind: SidecarKind, path: &Path) -> Result<(DependencySource, Vec<Package>), DepsError> {
    let name = path.display().to_string();
    let bytes = crate::io::bounded_read::read_regular_file(path, MAX_DEPENDENCY_DATA).map_err(
        |source| DepsError::Read {
            path: name.clone(),
            source,
        },
    )?;
    parse(kind, &name, &bytes)
}

fn malformed(what: &str, reason: impl std::fmt::Display) -> DepsError {
    DepsError::Malformed {
        what: what.to_owned(),
        reason: reason.to_string(),
    }
}

/// Every package of a Cargo.lock (the cargo-lock crate RustSec uses).
pub fn cargo_lock(name: &str, bytes: &[u8]) -> Result<Vec<Package>, DepsError> {
    let text = std::str::from_utf8(bytes).map_err(|e| malformed(name, e))?;
    let lock = rustsec::Lockfile::from_str(text).map_err(|e| malformed(name, e))?;
    Ok(lock
        .packages
        .into_iter()
        .map(|p| Package {
            name: p.name.as_str().to_owned(),
            version: p.version.to_string(),
            source: p.source.as_ref().map(|s| s.to_string()),
            kind: None,
            semver: p.version,
            source_id: p.source,
        })
        .collect())
}

/// The crate components of a CycloneDX JSON document (nested components included).
pub fn cyclonedx(name: &str, bytes: &[u8]) -> Result<Vec<Package>, DepsError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| malformed(name, e))?;
    if doc.get("bomFormat").and_then(|v| v.as_str()) != Some("CycloneDX") {
        return Err(malformed(
            name,
            "not a CycloneDX JSON document (no bomFormat \"CycloneDX\")",
        ));
    }
    let mut out = Vec::new();
    // Iterative, so a deeply nested hostile document cannot overflow the stack.
    let mut stack: Vec<&serde_json::Value> = Vec::new();
    if let Some(c) = doc.pointer("/metadata/component") {
        stack.push(c);
    }
    if let Some(list) = doc.get("components").and_then(|v| v.as_array()) {
        stack.extend(list.iter().rev());
    }
    while let Some(c) = stack.pop() {
        if let Some(p) = c.get("purl").and_then(|v| v.as_str()) {
            if let Some(pkg) = cargo_purl(p) {
                out.push(pkg.map_err(|e| malformed(name, e))?);
            }
        }
        if let Some(list) = c.get("components").and_then(|v| v.as_array()) {
            stack.extend(list.iter().rev());
        }
    }
    Ok(out)
}

/// The crate packages of an SPDX JSON document (a purl in a package's external references).
pub fn spdx(name: &str, bytes: &[u8]) -> Result<Vec<Package>, DepsError> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| malformed(name, e))?;
    if doc.get("spdxVersion").and_then(|v| v.as_str()).is_none() {
        return Err(malformed(
            name,
            "not an SPDX JSON document (no spdxVersion)",
        ));
    }
    let mut out = Vec::new();
    for p in doc
        .get("packages")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        for r in p
            .get("externalRefs")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if r.get("referenceType").and_then(|v| v.as_str()) != Some("purl") {
                continue;
            }
            if let Some(pkg) = r
                .get("referenceLocator")
                .and_then(|v| v.as_str())
                .and_then(cargo_purl)
            {
                out.push(pkg.map_err(|e| malformed(name, e))?);
            }
        }
    }
    Ok(out)
}

/// A `pkg:cargo/NAME@VERSION[?qualifiers][#subpath]` package URL as a crate; `None` for other
/// package types. Without a `repository_url` qualifier the crate is from crates.io (the purl
/// spec's default for cargo).
pub fn cargo_purl(purl: &str) -> Option<Result<Package, String>> {
    let rest = purl.strip_prefix("pkg:")?.trim_start_matches('/');
    let (ty, rest) = rest.split_once('/')?;
    if !ty.eq_ignore_ascii_case("cargo") {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (body, qualifiers) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let Some((name, version)) = body.rsplit_once('@') else {
        return Some(Err(format!("purl {purl:?} has no version")));
    };
    let name = name.rsplit('/').next().unwrap_or(name);
    let version = version.replace("%2B", "+").replace("%2b", "+");
    let semver = match semver::Version::parse(&version) {
        Ok(v) => v,
        Err(e) => return Some(Err(format!("purl {purl:?}: version {version:?}: {e}"))),
    };
    let repository = qualifiers.and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("repository_url="))
            .map(str::to_owned)
    });
    let mut p = Package::crates_io(name, semver);
    if let Some(r) = repository {
        p.source = Some(r);
        p.source_id = None;
    } else {
        p.source_id = crates_io_source();
    }
    Some(Ok(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_of_crates_only() {
        let p = cargo_purl("pkg:cargo/smallvec@1.6.0").unwrap().unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("smallvec", "1.6.0"));
        assert!(p.source_id.is_some());
        let p = cargo_purl("pkg:cargo/x@1.0.0%2Bmeta?repository_url=https://r.example#sub")
            .unwrap()
            .unwrap();
        assert_eq!(p.version, "1.0.0+meta");
        assert_eq!(p.source.as_deref(), Some("https://r.example"));
        assert!(cargo_purl("pkg:npm/left-pad@1.0.0").is_none());
        assert!(cargo_purl("pkg:cargo/x").unwrap().is_err());
        assert!(cargo_purl("pkg:cargo/x@one").unwrap().is_err());
    }

    #[test]
    fn adjacency_prefers_the_modules_own_sbom() {
        let all = |_: &Path| true;
        let (k, p) = beside(Path::new("d/app.wasm"), all).unwrap();
        assert_eq!(
            (k, p),
            (SidecarKind::Cyclonedx, PathBuf::from("d/app.wasm.cdx.json"))
        );
        let only_lock = |p: &Path| p.ends_with("Cargo.lock");
        let (k, p) = beside(Path::new("d/app.wasm"), only_lock).unwrap();
        assert_eq!(
            (k, p),
            (SidecarKind::CargoLock, PathBuf::from("d/Cargo.lock"))
        );
        let stem_spdx = |p: &Path| p == Path::new("d/app.spdx.json");
        assert_eq!(
            beside(Path::new("d/app.wasm"), stem_spdx).unwrap().0,
            SidecarKind::Spdx
        );
        assert!(beside(Path::new("d/app.wasm"), |_| false).is_none());
    }

    #[test]
    fn sboms_must_say_what_they_are() {
        assert!(cyclonedx("x", b"{}").is_err());
        assert!(spdx("x", b"{}").is_err());
        assert!(cargo_lock("x", b"not toml [").is_err());
        let c = br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[
            {"name":"a","purl":"pkg:cargo/smallvec@1.6.0","components":[{"purl":"pkg:cargo/time@0.1.40"}]},
            {"name":"b","purl":"pkg:npm/x@1.0.0"}]}"#;
        let names: Vec<_> = cyclonedx("x", c)
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["smallvec", "time"]);
    }
}
