//! Sources as found on disk: walking the inputs without following links, and recognising what
//! each file is before any analyser reads it.

pub mod detached;
pub mod kind;
pub mod open;
pub mod secret;
pub mod sparse;
pub mod walk;
