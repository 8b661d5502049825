//! The runbook's tables as data (`report-templates/runbook.toml`): RACI tables, numbered actions
//! per incident type and the control each finding code points to. Built in, replaceable as a
//! whole by a `runbook.toml` in `--templates DIR`, so an organisation's own runbook needs no
//! rebuild.

use crate::model::evidence::IncidentType;
use serde::Deserialize;

/// File name of the runbook tables, built in and in a `--templates` directory.
pub const RUNBOOK_FILE: &str = "runbook.toml";

/// The built-in runbook tables.
pub const BUILTIN_RUNBOOK: &str = include_str!("../../report-templates/runbook.toml");

/// One RACI table and the incident types it applies to.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RaciTable {
    pub incident_types: Vec<IncidentType>,
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<RaciRowSpec>,
}

/// One activity row of a RACI table: one role letter group per column.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RaciRowSpec {
    pub activity: String,
    pub roles: Vec<String>,
}

/// The numbered actions of one incident type.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ActionList {
    pub incident_type: IncidentType,
    pub steps: Vec<ActionSpec>,
}

/// One runbook action.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    pub phase: String,
    pub action: String,
    /// The RACI row this action is, or "" when none.
    #[serde(default)]
    pub raci_activity: String,
    /// The case file's `[times]` field recording this action done, when it has one.
    #[serde(default)]
    pub declared_time: Option<String>,
}

/// One control, with the finding codes that point to it.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ControlSpec {
    pub control: String,
    pub prevent: String,
    pub detect: String,
    /// The exact finding codes that point to this control.
    #[serde(default)]
    pub codes: Vec<String>,
}

/// All runbook tables.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Runbook {
    pub raci: Vec<RaciTable>,
    pub actions: Vec<ActionList>,
    pub controls: Vec<ControlSpec>,
}

/// A runbook file that does not parse or does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    /// `message` is one line; `layout` toml's own text with the caret (see
    /// [`crate::model::case::toml_error_text`]).
    #[error("{path}: {message}")]
    Parse {
        path: String,
        message: String,
        layout: String,
    },
    #[error("{path}: finding code {code:?} is listed under two controls")]
    DuplicateCode { path: String, code: String },
    #[error("{path}: RACI table {table:?} row {activity:?} has {got} roles for {want} columns")]
    RowWidth {
        path: String,
        table: String,
        activity: String,
        got: usize,
        want: usize,
    },
}

impl Runbook {
    /// The built-in tables. They are checked by a unit test, so this cannot fail in a release.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_RUNBOOK, "report-templates/runbook.toml")
            .unwrap_or_else(|e| panic!("built-in runbook: {e}"))
    }

    /// Parses and checks a runbook file (`path` names it in errors).
    pub fn parse(text: &str, path: &str) -> Result<Self, RunbookError> {
        let rb: Runbook = toml::from_str(text).map_err(|e| {
            let (message, layout) = crate::model::case::toml_error_text(&e, text);
            RunbookError::Parse {
                path: path.to_owned(),
                message,
                layout,
            }
        })?;
        for t in &rb.raci {
            if let Some(r) = t.rows.iter().find(|r| r.roles.len() != t.columns.len()) {
                return Err(RunbookError::RowWidth {
                    path: path.to_owned(),
                    table: t.table.clone(),
                    activity: r.activity.clone(),
                    got: r.roles.len(),
                    want: t.columns.len(),
                });
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for code in rb.controls.iter().flat_map(|c| &c.codes) {
            if !seen.insert(code) {
                return Err(RunbookError::DuplicateCode {
                    path: path.to_owned(),
                    code: code.clone(),
                });
            }
        }
        Ok(rb)
    }

    /// The RACI table for an incident type, if the runbook has one.
    pub fn raci_for(&self, t: IncidentType) -> Option<&RaciTable> {
        self.raci.iter().find(|r| r.incident_types.contains(&t))
    }

    /// The numbered actions for an incident type (none when the runbook lists none).
    pub fn actions_for(&self, t: IncidentType) -> &[ActionSpec] {
        self.actions
            .iter()
            .find(|a| a.incident_type == t)
            .map_or(&[], |a| a.steps.as_slice())
    }

    /// The control whose table lists exactly this finding code, if any.
    pub fn control_for(&self, code: &str) -> Option<&ControlSpec> {
        self.controls
            .iter()
            .find(|s| s.codes.iter().any(|c| c == code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_incident_type_gets_its_runbook_raci_table_and_actions() {
        let rb = Runbook::builtin();
        let cases = [
            (
                IncidentType::KeyCompromise,
                "Deployment Incidents",
                7,
                "Isolate the key",
            ),
            (
                IncidentType::MaliciousModule,
                "Deployment Incidents",
                6,
                "Quarantine the module",
            ),
            (
                IncidentType::SigstoreCompromise,
                "Sigstore Incidents",
                6,
                "Switch to offline verification",
            ),
            (
                IncidentType::DependencyVulnerability,
                "WSC Project Incidents",
                5,
                "Check if WSC is affected",
            ),
        ];
        for (t, table, n, first) in cases {
            let raci = rb.raci_for(t).unwrap();
            assert_eq!(raci.table, table);
            let actions = rb.actions_for(t);
            assert_eq!(actions.len(), n, "{t}");
            assert_eq!(actions[0].action, first);
            // Every RACI activity an action names is a row of its table.
            for a in actions.iter().filter(|a| !a.raci_activity.is_empty()) {
                assert!(
                    raci.rows.iter().any(|r| r.activity == a.raci_activity),
                    "{t}: {}",
                    a.raci_activity
                );
            }
        }
        // Sigstore: the integrator is R/A for switching to offline mode.
        let s = rb.raci_for(IncidentType::SigstoreCompromise).unwrap();
        let row = s
            .rows
            .iter()
            .find(|r| r.activity == "Switch to offline mode")
            .unwrap();
        assert_eq!(row.roles, ["I", "I", "R/A"]);
    }

    #[test]
    fn controls_match_exact_codes_only() {
        let rb = Runbook::builtin();
        // #16: a changed module was filed under the key-file baseline because its code
        // contains "changed".
        assert_eq!(
            rb.control_for("signed-content-changed").unwrap().control,
            "Module signature verification before deployment"
        );
        assert_eq!(
            rb.control_for("secret-key-permissions").unwrap().control,
            "Secret key file access control"
        );
        assert!(rb.control_for("changed").is_none());
        assert!(rb.control_for("key-file-changed-somehow").is_none());
        let dup = format!(
            "{BUILTIN_RUNBOOK}\n[[controls]]\ncontrol = \"x\"\nprevent = \"\"\ndetect = \"\"\ncodes = [\"revoked-key\"]\n"
        );
        let e = Runbook::parse(&dup, "r.toml").unwrap_err().to_string();
        assert!(
            e.contains("revoked-key") && e.contains("two controls"),
            "{e}"
        );
    }

    #[test]
    fn a_broken_runbook_names_the_file_and_what_is_wrong() {
        let e = Runbook::parse("raci = 3", "x/runbook.toml").unwrap_err();
        assert!(e.to_string().starts_with("x/runbook.toml: "), "{e}");
        let narrow =
            BUILTIN_RUNBOOK.replacen(r#"roles = ["C", "R/A", "I"]"#, r#"roles = ["C", "R/A"]"#, 1);
        let e = Runbook::parse(&narrow, "r.toml").unwrap_err().to_string();
        assert!(
            e.contains("Detect signing key compromise") && e.contains("2 roles for 3"),
            "{e}"
        );
    }
}
