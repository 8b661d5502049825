//! cargo-auditable's embedded dependency list: the custom section `.dep-v0` holds the
//! zlib-compressed JSON of `auditable_serde::VersionInfo`. Hostile input: the compressed size is
//! capped before it is kept, the decompressed size while inflating, and auditable-serde's own
//! validation (dependency indices, one root, no cycles) runs on the JSON.

use super::{crates_io_source, DepsError, Package, MAX_DEPENDENCY_DATA};

/// The custom section name cargo-auditable writes (the same name as its ELF/Mach-O section).
pub const SECTION: &str = ".dep-v0";

/// Largest compressed section kept from a module.
pub const MAX_COMPRESSED: u64 = 8 << 20;

/// Decodes a `.dep-v0` payload into its packages (in the list's order).
pub fn decode(compressed: &[u8]) -> Result<Vec<Package>, DepsError> {
    let what = || format!("{SECTION} section");
    let json = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
        compressed,
        MAX_DEPENDENCY_DATA as usize,
    )
    .map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => DepsError::TooLarge {
            what: what(),
            max: MAX_DEPENDENCY_DATA,
        },
        status => DepsError::Decompress {
            what: what(),
            reason: format!("{status:?}"),
        },
    })?;
    let info: auditable_serde::VersionInfo =
        serde_json::from_slice(&json).map_err(|e| DepsError::Malformed {
            what: what(),
            reason: format!("not cargo-auditable's JSON: {e}"),
        })?;
    // auditable-serde checks roots and cycles; `cargo audit` also refuses an index past the
    // list.
    let n = info.packages.len();
    if let Some(p) = info
        .packages
        .iter()
        .find(|p| p.dependencies.iter().any(|&d| d >= n))
    {
        return Err(DepsError::Malformed {
            what: what(),
            reason: format!(
                "package {} names a dependency index past the {n} packages",
                p.name
            ),
        });
    }
    Ok(info
        .packages
        .into_iter()
        .map(|p| {
            // As `cargo audit bin` reads it: only crates.io carries a registry source.
            let source_id = match p.source {
                auditable_serde::Source::CratesIo => crates_io_source(),
                _ => None,
            };
            Package {
                name: p.name,
                version: p.version.to_string(),
                source: Some(String::from(p.source)),
                kind: (p.kind == auditable_serde::DependencyKind::Build).then(|| "build".into()),
                semver: p.version,
                source_id,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(json: &str) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(json.as_bytes(), 6)
    }

    #[test]
    fn decodes_packages_sources_and_kinds() {
        let p = decode(&zlib(
            r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
            {"name":"smallvec","version":"1.6.0","source":"crates.io"},
            {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#,
        ))
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].source.as_deref(), Some("local"));
        assert!(p[0].source_id.is_none());
        assert_eq!(p[1].version, "1.6.0");
        assert!(p[1].source_id.is_some());
        assert_eq!(p[2].kind.as_deref(), Some("build"));
    }

    #[test]
    fn refuses_bombs_garbage_and_invalid_graphs() {
        // 64 MiB of spaces compress to a few KiB: refused at the limit, not inflated.
        let bomb = vec![b' '; 64 << 20];
        let c = miniz_oxide::deflate::compress_to_vec_zlib(&bomb, 6);
        assert!(matches!(decode(&c), Err(DepsError::TooLarge { .. })));
        assert!(matches!(
            decode(b"not zlib"),
            Err(DepsError::Decompress { .. })
        ));
        assert!(matches!(
            decode(&zlib("[]")),
            Err(DepsError::Malformed { .. })
        ));
        // A dependency index past the list, two roots, a cycle: refused.
        for bad in [
            r#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[7],"root":true}]}"#,
            r#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","root":true},{"name":"b","version":"1.0.0","source":"crates.io","root":true}]}"#,
            r#"{"packages":[{"name":"a","version":"1.0.0","source":"crates.io","dependencies":[1]},{"name":"b","version":"1.0.0","source":"crates.io","dependencies":[0]}]}"#,
        ] {
            assert!(
                matches!(decode(&zlib(bad)), Err(DepsError::Malformed { .. })),
                "{bad}"
            );
        }
    }
}
