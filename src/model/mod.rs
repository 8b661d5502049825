//! The evidence model every layer reads and writes: evidence items and findings, the case file,
//! chain-of-custody events and the SHA-256 digests that name them.

pub mod analysis;
pub mod case;
pub mod custody;
pub mod digest;
pub mod evidence;
pub mod finding;
pub mod item_kind;
