//! Checkpoints (signed tree heads in the signed-note format): `origin\nsize\nroot-base64\n[extra
//! lines]\n\n— name base64(4-byte key hint ‖ signature)\n`. The signed bytes are the note text up to
//! and including the newline before the blank line; the key hint is the first 4 bytes of the log id.

use super::json_field::decode_base64;
use super::public_key::PublicKey;
use serde::Serialize;

/// A parsed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    #[serde(serialize_with = "super::serialize_hex")]
    pub root_hash: Vec<u8>,
    /// The exact bytes the signatures cover.
    #[serde(skip)]
    pub signed_text: String,
    pub signatures: Vec<NoteSignature>,
}

/// One signature line of the note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoteSignature {
    pub name: String,
    #[serde(serialize_with = "super::serialize_hex")]
    pub key_hint: Vec<u8>,
    #[serde(skip)]
    pub signature: Vec<u8>,
}

/// Why a checkpoint is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint is malformed: {0}")]
    Malformed(String),
    #[error("no signature line has the key hint {0} of the log")]
    NoSignatureForKey(String),
    #[error("checkpoint signature by {name} does not verify with the log key")]
    BadSignature { name: String },
}

const MAX_NOTE_BYTES: usize = 64 * 1024;

impl Checkpoint {
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let bad = |m: &str| CheckpointError::Malformed(m.to_owned());
        if text.len() > MAX_NOTE_BYTES {
            return Err(bad("longer than 64 KiB"));
        }
        let (body, sigs) = text
            .split_once("\n\n")
            .ok_or_else(|| bad("no blank line between the note and its signatures"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| bad("no origin line"))?;
        let size_line = lines.next().ok_or_else(|| bad("no tree size line"))?;
        let tree_size = size_line
            .parse::<u64>()
            .map_err(|_| bad(&format!("tree size {size_line:?} is not a number")))?;
        let root_line = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root_hash =
            decode_base64(root_line, 64).map_err(|e| bad(&format!("root hash: {e}")))?;
        let mut signatures = Vec::new();
        for line in sigs.split('\n').filter(|l| !l.is_empty()) {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| bad("signature line does not start with \"— \""))?;
            let (name, b64) = rest
                .rsplit_once(' ')
                .ok_or_else(|| bad("signature line has no name"))?;
            let raw = decode_base64(b64, 1024).map_err(|e| bad(&format!("signature: {e}")))?;
            if raw.len() < 5 {
                return Err(bad("signature shorter than the 4-byte key hint"));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_hint: raw[..4].to_vec(),
                signature: raw[4..].to_vec(),
            });
            if signatures.len() > 16 {
                return Err(bad("more than 16 signatures"));
            }
        }
        if signatures.is_empty() {
            return Err(bad("no signature lines"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            tree_size,
            root_hash,
            signed_text: format!("{body}\n"),
            signatures,
        })
    }

    /// Verifies the signature whose key hint matches `log_id[..4]` with `key`.
    pub fn verify(
        &self,
        log_id: &[u8],
        key: &PublicKey,
    ) -> Result<&NoteSignature, CheckpointError> {
        let hint = log_id.get(..4).unwrap_or(log_id);
        let sig = self
            .signatures
            .iter()
            .find(|s| s.key_hint == hint)
            .ok_or_else(|| CheckpointError::NoSignatureForKey(hex::encode(hint)))?;
        key.verify_message(self.signed_text.as_bytes(), &sig.signature)
            .map_err(|_| CheckpointError::BadSignature {
                name: sig.name.clone(),
            })?;
        Ok(sig)
    }
}
