//! wsc-forensics: evidence collection, verification and reporting for incidents involving signed
//! WebAssembly modules (wsc / wasmsign2 signatures, ed25519 keys, Sigstore keyless signing).
//!
//! Data flows one way: sources → [`source`] → [`acquire`] → [`analyse`] → [`model::evidence`] →
//! [`bundle`] → ([`bundle::verify`] | [`timeline`] → [`report`]). Analysers never write; renderers
//! read a bundle, never the sources; verification never depends on rendering. ARCHITECTURE.md
//! maps every concept to its module.
#![forbid(unsafe_code)]

pub mod acquire;
pub mod analyse;
pub mod bundle;
pub mod cli;
pub mod demo;
pub mod deps;
pub mod export;
pub mod io;
pub mod keys;
pub mod model;
pub mod report;
pub mod scope;
pub mod source;
pub mod timeline;
pub mod transparency;
pub mod wasm;

/// Name and version recorded in evidence, custody events and `Bag-Software-Agent`.
pub const TOOL_NAME: &str = env!("CARGO_PKG_NAME");
/// Crate version, recorded with every artefact the tool writes.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
