//! The integration tests: one binary, one module per feature, shared helpers in `common` (fixture
//! paths, the built binary, outside-program oracles) and `report_support`. Tests that need a
//! process-wide allocator live in the `memory` binary instead.

mod common;
mod report_support;

mod architecture;
mod bagit_conformance;
mod capture;
mod collect;
mod command_line;
mod demo;
mod export_case;
mod faults_changing_sources;
mod faults_concurrent;
mod faults_disk_full;
mod faults_names;
mod faults_sigkill;
mod fleet_ansible;
mod hostile_bundles;
mod hostile_cli;
mod hostile_limits;
mod hostile_parsers;
mod hostile_regressions;
mod hostile_transparency;
mod inspect;
mod inspect_oracles;
mod inspect_props;
mod inspect_routing;
mod inspect_snapshots;
mod json_schema;
mod keys;
mod readme_examples;
mod report;
mod report_cli;
mod report_e2e;
mod report_props;
mod report_render;
mod scope;
mod secrets_sweep;
mod terminal_escape;
mod timeline;
mod transparency_conformance;
mod transparency_fixtures;
mod transparency_hostile;
mod transparency_keyless;
mod transparency_oracle;
mod transparency_parallel;
mod transparency_private_instance;
mod transparency_private_root;
mod transparency_snapshots;
mod transparency_tamper;
mod verified_handle;
mod verify;
mod verify_any_bag;
mod verify_archive;
mod zip_agreement;
