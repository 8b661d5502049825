//! Streaming I/O primitives every layer shares, each defined once: the bounded whole-file read,
//! the ordered parallel read pipeline and the bounded-memory external sort.

pub mod bounded_read;
pub mod pipeline;
pub mod spill;
