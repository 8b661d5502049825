//! The INC-4 question: which of a module's packages a `--crate NAME@REQ` requirement or a
//! RustSec advisory names. Advisories match as in `cargo audit`: only crates.io packages, by
//! RustSec's own query (package name, `[versions]` patched/unaffected, advisory source).

use super::advisory::LoadedAdvisory;
use super::Package;
use serde::Serialize;
use std::str::FromStr;

/// A `--crate NAME@REQ` argument that cannot be read: a usage error.
#[derive(Debug, thiserror::Error)]
#[error("--crate {arg:?}: {reason} (expected NAME@REQ, REQ a semver requirement such as \"<1.6.1\" or \">=0.2, <0.2.23\"; NAME alone means any version)")]
pub struct CrateArgError {
    pub arg: String,
    pub reason: String,
}

/// One `--crate` requirement.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone)]
pub struct CrateReq {
    pub name: String,
    /// The semver requirement as parsed (`*` when none was given).
    pub req: String,
    #[serde(skip)]
    #[schemars(skip)]
    pub parsed: semver::VersionReq,
}

impl FromStr for CrateReq {
    type Err = CrateArgError;
    fn from_str(arg: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| CrateArgError {
            arg: arg.to_owned(),
            reason,
        };
        let (name, req) = arg.split_once('@').unwrap_or((arg, "*"));
        let name = name.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(format!("{name:?} is not a crate name")));
        }
        let parsed = semver::VersionReq::parse(req.trim()).map_err(|e| bad(e.to_string()))?;
        Ok(CrateReq {
            name: name.to_owned(),
            req: parsed.to_string(),
            parsed,
        })
    }
}

/// What a module is checked against.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, Default)]
pub struct DepQuery {
    pub crates: Vec<CrateReq>,
    pub advisories: Vec<LoadedAdvisory>,
}

/// What a package matched.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MatchedBy {
    Advisory { id: String },
    Crate { req: String },
}

/// One package of a module that the query names.
#[derive(schemars::JsonSchema, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct DepMatch {
    pub package: Package,
    pub matched_by: MatchedBy,
}

impl DepQuery {
    pub fn is_empty(&self) -> bool {
        self.crates.is_empty() && self.advisories.is_empty()
    }

    /// Every (package, requirement or advisory) pair that matches, in package order.
    pub fn matches(&self, packages: &[Package]) -> Vec<DepMatch> {
        let mut out = Vec::new();
        for p in packages {
            for c in &self.crates {
                // Crate names compare as crates.io does: `-` and `_` are the same name.
                if same_crate(&c.name, &p.name) && c.parsed.matches(&p.semver) {
                    out.push(DepMatch {
                        package: p.clone(),
                        matched_by: MatchedBy::Crate { req: c.req.clone() },
                    });
                }
            }
            // As `cargo audit` (RustSec's `query_vulnerabilities`): advisories are about
            // crates.io packages; a git, path or other-registry package is not checked.
            let from_crates_io = p
                .source_id
                .as_ref()
                .is_some_and(|s| s.is_default_registry());
            if self.advisories.is_empty() || !from_crates_io {
                continue;
            }
            let Ok(name) = rustsec::package::Name::from_str(&p.name) else {
                continue;
            };
            let lock_pkg = rustsec::cargo_lock::Package {
                name,
                version: p.semver.clone(),
                source: p.source_id.clone(),
                checksum: None,
                dependencies: Vec::new(),
                replace: None,
            };
            let q = rustsec::database::Query::new().package(&lock_pkg);
            for a in &self.advisories {
                if q.matches(&a.advisory) {
                    out.push(DepMatch {
                        package: p.clone(),
                        matched_by: MatchedBy::Advisory { id: a.id.clone() },
                    });
                }
            }
        }
        out
    }
}

fn same_crate(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let norm = |c: u8| {
                if c == b'-' {
                    b'_'
                } else {
                    c.to_ascii_lowercase()
                }
            };
            norm(x) == norm(y)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, v: &str) -> Package {
        Package::crates_io(name, semver::Version::parse(v).unwrap())
    }

    #[test]
    fn crate_requirements_are_semver() {
        let q = DepQuery {
            crates: vec!["smallvec@>=0.6.10, <1.6.1".parse().unwrap()],
            advisories: vec![],
        };
        let m = q.matches(&[
            pkg("smallvec", "1.6.0"),
            pkg("smallvec", "1.6.1"),
            pkg("other", "1.0.0"),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].package.version, "1.6.0");
        let any: CrateReq = "serde_json".parse().unwrap();
        assert_eq!(any.req, "*");
        assert!("bad name@1".parse::<CrateReq>().is_err());
        assert!("x@not a req".parse::<CrateReq>().is_err());
        // `-` and `_` name the same crate.
        let q = DepQuery {
            crates: vec!["foo-bar@1".parse().unwrap()],
            advisories: vec![],
        };
        assert_eq!(q.matches(&[pkg("foo_bar", "1.2.0")]).len(), 1);
    }
}
