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
    #[error("the signature line with the log's key hint is named {found:?}, not the log's name {expected:?}")]
    WrongName { found: String, expected: String },
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

    /// Verifies the signature whose key hint names `key` and whose name is the log's `name`
    /// (signed-note verifiers are identified by name *and* key: the name is not covered by the
    /// signature, so a line renamed with its hint kept must not count). Rekor v1 uses the first 4
    /// bytes of the log id as the hint; an Ed25519 key (Rekor v2, C2SP signed-note) is named by
    /// the first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`. Lines by other keys
    /// (cosignatures) are ignored.
    pub fn verify(
        &self,
        log_id: &[u8],
        key: &PublicKey,
        name: &str,
    ) -> Result<&NoteSignature, CheckpointError> {
        let hint = log_id.get(..4).unwrap_or(log_id);
        let ed_hint = ed25519_hint(name, key);
        let mut by_key = self
            .signatures
            .iter()
            .filter(|s| s.key_hint == hint || ed_hint.as_deref() == Some(&s.key_hint[..]));
        let Some(first) = by_key.clone().next() else {
            return Err(CheckpointError::NoSignatureForKey(hex::encode(
                ed_hint.as_deref().unwrap_or(hint),
            )));
        };
        let sig = by_key
            .find(|s| s.name == name)
            .ok_or_else(|| CheckpointError::WrongName {
                found: first.name.clone(),
                expected: name.to_owned(),
            })?;
        key.verify_message(self.signed_text.as_bytes(), &sig.signature)
            .map_err(|_| CheckpointError::BadSignature {
                name: sig.name.clone(),
            })?;
        Ok(sig)
    }
}

/// The C2SP signed-note key hint of an Ed25519 key under `name`.
fn ed25519_hint(name: &str, key: &PublicKey) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256};
    let PublicKey::Ed25519(k) = key else {
        return None;
    };
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n\x01");
    h.update(k.as_bytes());
    Some(h.finalize()[..4].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use ed25519_dalek::Signer;

    fn note(name: &str, hint: &[u8], sk: &ed25519_dalek::SigningKey) -> String {
        let body = "log.example.test\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let mut raw = hint.to_vec();
        raw.extend_from_slice(&sk.sign(body.as_bytes()).to_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        format!("{body}\n\u{2014} {name} {b64}\n")
    }

    #[test]
    fn ed25519_notes_are_found_by_their_c2sp_key_hint() {
        let sk = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let key = PublicKey::Ed25519(sk.verifying_key());
        let hint = ed25519_hint("log.example.test", &key).unwrap();
        let cp = Checkpoint::parse(&note("log.example.test", &hint, &sk)).unwrap();
        assert_eq!(cp.tree_size, 3);
        assert_eq!(
            cp.verify(&[0xff; 32], &key, "log.example.test")
                .unwrap()
                .name,
            "log.example.test"
        );
        // A line renamed with its hint kept does not select the signature.
        let cp = Checkpoint::parse(&note("other.example.test", &hint, &sk)).unwrap();
        assert!(matches!(
            cp.verify(&[0xff; 32], &key, "log.example.test"),
            Err(CheckpointError::WrongName { .. })
        ));
        // Under the other name, the hint is not that name's hint.
        assert!(matches!(
            cp.verify(&[0xff; 32], &key, "other.example.test"),
            Err(CheckpointError::NoSignatureForKey(_))
        ));
        // A signature by another key under the right hint does not verify.
        let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        let cp = Checkpoint::parse(&note("log.example.test", &hint, &other)).unwrap();
        assert!(matches!(
            cp.verify(&[0xff; 32], &key, "log.example.test"),
            Err(CheckpointError::BadSignature { .. })
        ));
    }
}
