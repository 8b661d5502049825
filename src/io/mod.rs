//! Streaming I/O primitives every layer shares, each defined once: the bounded whole-file read,
//! the ordered parallel read pipeline, the bounded-memory external sort, the hashing reader and
//! the shared positional-read file.

pub mod bounded_read;
pub mod hashing;
pub mod pipeline;
pub mod pread;
pub mod spill;
