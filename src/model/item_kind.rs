//! The kinds of source an evidence item can be: the word every layer (acquire, analysis, bundle
//! paths, reports) uses for "what is this file".

use serde::{Deserialize, Serialize};

/// What kind of source an evidence item is; decides where it goes in the bag and who analyses it.
#[derive(
    schemars::JsonSchema,
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Module,
    DetachedSignature,
    PublicKey,
    /// Secret key: metadata only, its bytes never enter the bundle.
    SecretKey,
    RekorEntry,
    SigstoreBundle,
    TrustRoot,
    /// wsc air-gapped trust bundle (`wsc bundle create`).
    TrustBundle,
    Certificate,
    AuditLog,
    CaseFile,
    Attachment,
}
