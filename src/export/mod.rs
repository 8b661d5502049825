//! Exports of a verified bundle into formats other forensic tools read (CASE/UCO JSON-LD).

pub mod case;

pub use case::{case_graph, ExportError};
