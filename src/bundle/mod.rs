//! The evidence bundle: a BagIt 1.0 bag inside a zip (layout in docs/bundle-format.md), its writer, a
//! reader for other commands, and the verifier.

pub mod archive;
pub mod bagit;
pub mod reader;
pub mod signature;
pub mod stamp;
pub mod timestamp;
pub mod verified;
pub mod verify;
pub mod writer;

pub use reader::{open_bundle, BundleContents, BundleError, BundleReader};
pub use verified::{open_verified, Proof, VerifiedBundle};
pub use verify::{verify_bundle, verify_file, Problem, Verdict, VerifyOptions, VerifyReport};

/// Bag path of the evidence model.
pub const EVIDENCE_PATH: &str = "data/evidence.json";
/// Bag path of the chain of custody.
pub const CUSTODY_PATH: &str = "data/custody.jsonl";
/// Bag path of the derived timeline (written by the timeline command's lane).
pub const TIMELINE_PATH: &str = "data/timeline.jsonl";
