//! The Velociraptor artifact (deploy/velociraptor/, issue 19): parsed as YAML, every key checked
//! against the field names of Velociraptor's artifact definition proto, and the parts the fleet
//! capture relies on (tool with a pinned hash, FetchBinary, execve, uploads) checked present.
//! It is not run in a Velociraptor deployment here (deploy/README.md says so).

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

// Field names (the YAML keys are the proto field names) of the messages in
// Velocidex/velociraptor artifacts/proto/artifact.proto, at commit
// e5af6a4a0a4e7fbbf04606d48d0ee320a77c1f07 (the version read when this artifact was written).
const ARTIFACT: &[&str] = &[
    "name",
    "aliases",
    "description",
    "author",
    "reference",
    "references",
    "required_permissions",
    "implied_permissions",
    "impersonate",
    "resources",
    "tools",
    "precondition",
    "parameters",
    "type",
    "sources",
    "imports",
    "export",
    "reports",
    "column_types",
    "raw",
    "compiled",
    "built_in",
    "compiled_in",
    "is_alias",
    "is_inherited",
    "metadata",
];
const ARTIFACT_PARAMETER: &[&str] = &[
    "name",
    "default",
    "description",
    "type",
    "choices",
    "friendly_name",
    "validating_regex",
    "artifact_type",
    "sources",
];
const ARTIFACT_SOURCE: &[&str] = &[
    "name",
    "description",
    "precondition",
    "query",
    "queries",
    "notebook",
];
const TOOL: &[&str] = &[
    "name",
    "url",
    "github_project",
    "github_asset_regex",
    "serve_locally",
    "admin_override",
    "expected_hash",
    "version",
    "materialize",
    "artifact",
    "filestore_path",
    "serve_url",
    "serve_urls",
    "serve_path",
    "filename",
    "hash",
    "invalid_hash",
    "versions",
];
/// Proto `repeated string` fields of Artifact: a YAML list of strings.
const ARTIFACT_STRING_LISTS: &[&str] = &[
    "aliases",
    "reference",
    "references",
    "required_permissions",
    "implied_permissions",
    "imports",
];

fn artifact() -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/velociraptor/Linux.Forensics.WscForensics.yaml");
    let text = std::fs::read_to_string(&path).expect("artifact file");
    let mut docs = YamlLoader::load_from_str(&text).expect("artifact is YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    docs.remove(0)
}

/// Every key of `map` is a field of `message`, each field at most once; returns the map.
fn check_keys<'a>(map: &'a Yaml, message: &str, fields: &[&str]) -> &'a yaml_rust2::yaml::Hash {
    let hash = map
        .as_hash()
        .unwrap_or_else(|| panic!("{message}: not a mapping: {map:?}"));
    for key in hash.keys() {
        let key = key
            .as_str()
            .unwrap_or_else(|| panic!("{message}: key {key:?} is not a string"));
        assert!(
            fields.contains(&key),
            "{message}: {key:?} is not a field of the proto message"
        );
    }
    hash
}

fn str_field<'a>(map: &'a Yaml, key: &str) -> &'a str {
    map[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key:?} is not a string: {:?}", map[key]))
}

#[test]
fn artifact_keys_are_fields_of_the_velociraptor_proto() {
    let a = artifact();
    check_keys(&a, "Artifact", ARTIFACT);
    for key in ARTIFACT_STRING_LISTS {
        if !a[*key].is_badvalue() {
            let list = a[*key].as_vec().expect("repeated field is a list");
            assert!(list.iter().all(|v| v.as_str().is_some()), "{key}: strings");
        }
    }
    for key in ["name", "description", "author", "precondition"] {
        str_field(&a, key);
    }
    let params = a["parameters"].as_vec().expect("parameters is a list");
    for p in params {
        check_keys(p, "ArtifactParameter", ARTIFACT_PARAMETER);
        str_field(p, "name");
    }
    let sources = a["sources"].as_vec().expect("sources is a list");
    assert!(!sources.is_empty());
    for s in sources {
        check_keys(s, "ArtifactSource", ARTIFACT_SOURCE);
    }
    let tools = a["tools"].as_vec().expect("tools is a list");
    for t in tools {
        check_keys(t, "Tool", TOOL);
        assert!(
            t["serve_locally"].as_bool().is_some(),
            "serve_locally is a bool"
        );
    }
}

#[test]
fn artifact_fetches_a_pinned_tool_runs_collect_and_verify_and_uploads_both() {
    let a = artifact();
    let tools = a["tools"].as_vec().unwrap();
    assert_eq!(tools.len(), 1);
    let tool = &tools[0];
    let tool_name = str_field(tool, "name");
    assert!(str_field(tool, "url").starts_with("https://"));
    let hash = str_field(tool, "expected_hash");
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "expected_hash is a hex SHA-256: {hash}"
    );
    assert_eq!(tool["serve_locally"].as_bool(), Some(true));

    let names: Vec<&str> = a["parameters"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| str_field(p, "name"))
        .collect();
    assert_eq!(names, ["Inputs", "CaseIdPrefix", "CollectedAt"]);
    let inputs = &a["parameters"][0];
    assert_eq!(str_field(inputs, "type"), "csv");
    assert!(str_field(inputs, "default").starts_with("Path\n"));

    let perms = a["required_permissions"].as_vec().unwrap();
    assert!(perms.iter().any(|p| p.as_str() == Some("EXECVE")));

    let query = str_field(&a["sources"][0], "query");
    for needle in [
        "Artifact.Generic.Utils.FetchBinary(",
        &format!("ToolName=\"{tool_name}\""),
        "execve(",
        "\"collect\", \"--json\"",
        "\"verify\", \"--expect-digest\", summary.digest",
        "upload(file=bundle",
        "upload(accessor=\"data\", file=collect[0].Stdout",
        "SELECT Path FROM Inputs",
        "CaseIdPrefix",
        "CollectedAt",
    ] {
        assert!(query.contains(needle), "query lacks {needle:?}");
    }
}
