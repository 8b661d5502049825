//! The JSON Schema of every `--json` document, generated from the Rust types that serialise it
//! (`schemars`), so a schema cannot drift from the output. The schemas are checked in under
//! `docs/schema/`; `tests/it/json_schema.rs` keeps them equal to these and validates every
//! command's real output on the fixtures against them.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;

/// One `--json` document: where its schema lives, what prints it, and the schema.
pub struct Document {
    /// File name under `docs/schema/`.
    pub file: &'static str,
    /// The command line that prints it.
    pub printed_by: &'static str,
    pub schema: serde_json::Value,
}

/// Every `--json` document the program prints, one schema each.
pub fn documents() -> Vec<Document> {
    vec![
        doc::<super::collect::CollectOutput>("collect.schema.json", "collect --json"),
        doc::<crate::bundle::VerifyReport>("verify.schema.json", "verify --json"),
        doc::<crate::bundle::archive::FixityLine<'static>>(
            "verify-archive-line.schema.json",
            "verify --json (archive audit, a line)",
        ),
        doc::<super::inspect::InspectDocument>("inspect.schema.json", "inspect --json"),
        // JSON Lines: the schema is of one line.
        doc::<crate::timeline::TimelineEvent>("timeline-event.schema.json", "timeline --json"),
        doc::<super::report::ReportOutput>("report.schema.json", "report --json"),
        doc::<super::keys::AuditOutput>("keys.schema.json", "keys --json"),
        doc::<super::keys::CheckOutput>("keys-check.schema.json", "keys check --json"),
        doc::<crate::scope::ScopeResult>("scope.schema.json", "scope --json"),
        doc::<crate::scope::keyless::KeylessScopeResult>(
            "scope-keyless.schema.json",
            "scope --identity --json",
        ),
        doc::<crate::scope::deps::DepsResult>(
            "scope-deps.schema.json",
            "scope --crate/--advisory --json",
        ),
    ]
}

/// The schema of what `T` serialises to (draft 2020-12), titled by the command that prints it.
fn doc<T: JsonSchema>(file: &'static str, printed_by: &'static str) -> Document {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    schema.insert("title".into(), format!("wsc-forensics {printed_by}").into());
    let mut schema = schema.to_value();
    close_objects(&mut schema);
    Document {
        file,
        printed_by,
        schema,
    }
}

/// Marks object schemas `unevaluatedProperties: false`, so a field the types do not declare
/// fails validation (an output that grew a field must grow its schema too). Closed where the
/// whole object is known: never on a branch of a choice (`oneOf`, `anyOf`, `allOf`), since a
/// flattened enum's variant sees only its own fields and the object around it closes over all
/// of them (`unevaluatedProperties` sees through in-place `$ref`s and choices); nor on a
/// definition that another object extends (`$ref` beside `properties`); nor where the type
/// declares its own rule for extra fields (`additionalProperties`).
fn close_objects(root: &mut serde_json::Value) {
    let mut extended = std::collections::BTreeSet::new();
    find_extended(root, false, &mut extended);
    close(root, false, None, &extended);
}

/// The `$defs` names that some object extends: referenced beside other keywords or from an
/// `allOf`.
fn find_extended(
    v: &serde_json::Value,
    in_all_of: bool,
    out: &mut std::collections::BTreeSet<String>,
) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                if in_all_of || map.contains_key("properties") {
                    if let Some(name) = r.strip_prefix("#/$defs/") {
                        out.insert(name.to_owned());
                    }
                }
            }
            for (key, child) in map {
                find_extended(child, key == "allOf", out);
            }
        }
        serde_json::Value::Array(items) => {
            for i in items {
                find_extended(i, in_all_of, out);
            }
        }
        _ => {}
    }
}

fn close(
    v: &mut serde_json::Value,
    branch: bool,
    def_name: Option<&str>,
    extended: &std::collections::BTreeSet<String>,
) {
    let serde_json::Value::Object(map) = v else {
        return;
    };
    let object_like = ["properties", "oneOf", "anyOf", "allOf", "$ref"]
        .iter()
        .any(|k| map.contains_key(*k));
    let extended_def = def_name.is_some_and(|n| extended.contains(n));
    if object_like && !branch && !extended_def && !map.contains_key("additionalProperties") {
        map.insert("unevaluatedProperties".into(), false.into());
    }
    for (key, child) in map.iter_mut() {
        match (key.as_str(), child) {
            ("oneOf" | "anyOf" | "allOf", serde_json::Value::Array(branches)) => {
                for b in branches {
                    close(b, true, None, extended);
                }
            }
            // Maps of names to schemas.
            ("properties" | "$defs", serde_json::Value::Object(named)) => {
                let defs = key == "$defs";
                for (name, s) in named.iter_mut() {
                    close(s, false, defs.then_some(name.as_str()), extended);
                }
            }
            ("items" | "additionalProperties", s) => close(s, false, None, extended),
            _ => {}
        }
    }
}

/// The checked-in text of a schema: pretty JSON with a final newline.
pub fn render(schema: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}
