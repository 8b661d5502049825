//! Streaming I/O primitives every layer shares, each defined once: the bounded whole-file read,
//! the ordered parallel read pipeline, the bounded-memory external sort, the hashing reader, the
//! shared positional-read file, and output files created without following links.

pub mod bounded_read;
pub mod hashing;
pub mod output;
pub mod pipeline;
pub mod pread;
pub mod spill;
