//! Signed entry timestamps (Rekor's "inclusion promise"): the log key's signature over the RFC 8785
//! canonical JSON of `{body, integratedTime, logID, logIndex}`.

use super::public_key::{PublicKey, SignatureProblem};
use serde::Serialize;

/// The fields the SET covers, in the names Rekor signs them under.
#[derive(Serialize)]
struct SignedFields<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    #[serde(rename = "logIndex")]
    log_index: u64,
}

/// The exact bytes a SET signs.
pub fn signed_payload(
    body_b64: &str,
    integrated_time: i64,
    log_id: &[u8],
    log_index: u64,
) -> Vec<u8> {
    let fields = SignedFields {
        body: body_b64,
        integrated_time,
        log_id: hex::encode(log_id),
        log_index,
    };
    // Serialising a struct of strings and integers cannot fail.
    serde_json_canonicalizer::to_vec(&fields).unwrap_or_default()
}

/// Verifies a SET with the log key.
pub fn verify_set(
    key: &PublicKey,
    set: &[u8],
    body_b64: &str,
    integrated_time: i64,
    log_id: &[u8],
    log_index: u64,
) -> Result<(), SignatureProblem> {
    key.verify_message(
        &signed_payload(body_b64, integrated_time, log_id, log_index),
        set,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_canonical_json_in_sorted_key_order() {
        let p = signed_payload("Ym9keQ==", 1758304718, &[0xc0, 0xd2], 538771042);
        assert_eq!(
            String::from_utf8(p).unwrap(),
            r#"{"body":"Ym9keQ==","integratedTime":1758304718,"logID":"c0d2","logIndex":538771042}"#
        );
    }
}
