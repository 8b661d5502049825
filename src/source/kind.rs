//! Recognising what a source file is (module, key, Rekor entry, …) from its first bytes and its
//! name, so `inspect`, `collect` and `scope` route every file to the right analyser.

use crate::model::evidence::ItemKind;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// How many leading bytes [`classify`] looks at.
pub const SNIFF_LEN: usize = 64 * 1024;

/// Reads up to [`SNIFF_LEN`] leading bytes from an open file (the caller may go on reading).
pub fn read_head(file: &mut File) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(4096);
    file.take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Opens a source ([`crate::source::open::open_source`]: no link followed, no FIFO waited on)
/// and classifies it ([`sniff_file`]).
pub fn sniff(path: &Path) -> io::Result<ItemKind> {
    sniff_file(path, crate::source::open::open_source(path)?, classify)
}

/// Classifies an open file with `classify` from its name and leading bytes, then reads the rest
/// through the secret detector: secret material anywhere in the file makes it a
/// [`ItemKind::SecretKey`], whatever its head looked like.
pub fn sniff_file(
    path: &Path,
    mut file: File,
    classify: impl Fn(&Path, &[u8]) -> ItemKind,
) -> io::Result<ItemKind> {
    let head = read_head(&mut file)?;
    let kind = classify(path, &head);
    if kind == ItemKind::SecretKey {
        return Ok(kind);
    }
    let mut scanner = crate::source::secret::SecretScanner::new();
    scanner.feed(&head);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => scanner.feed(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(if scanner.finish().is_some() {
        ItemKind::SecretKey
    } else {
        kind
    })
}

/// Classifies a file from its name and up to [`SNIFF_LEN`] leading bytes. Never fails: anything
/// unrecognised is an [`ItemKind::Attachment`] (kept as found).
pub fn classify(path: &Path, head: &[u8]) -> ItemKind {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    // Secret material wins over every other reading of the file: its bytes must never be copied.
    if crate::source::secret::detect(head).is_some() {
        return ItemKind::SecretKey;
    }
    if head.starts_with(b"\0asm") {
        return ItemKind::Module;
    }
    // Raw wsc public keys have an exact size and a type byte (docs/wsc-formats.md §8).
    if head.len() == 33 && head[0] == 0x01 {
        return ItemKind::PublicKey;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(SNIFF_LEN)]);
    let trimmed = text.trim_start();
    if trimmed.starts_with("-----BEGIN") {
        if text.contains("BEGIN PUBLIC KEY-----") {
            return ItemKind::PublicKey;
        }
        if text.contains("BEGIN CERTIFICATE-----") {
            return ItemKind::Certificate;
        }
    }
    if trimmed.starts_with("ssh-ed25519 ")
        || trimmed.starts_with("ecdsa-sha2-")
        || trimmed.starts_with("ssh-rsa ")
    {
        return ItemKind::PublicKey;
    }
    // A detached wsc signature is the signature-section payload: version 1, content type 1.
    if name.ends_with(".sig") {
        return ItemKind::DetachedSignature;
    }
    if trimmed.starts_with('{') {
        if text.contains("\"target\":\"wsc::audit\"") || text.contains("\"event_type\"") {
            return ItemKind::AuditLog;
        }
        if text.contains("application/vnd.dev.sigstore.trustedroot")
            || text.contains("\"certificateAuthorities\"")
        {
            return ItemKind::TrustRoot;
        }
        if text.contains("application/vnd.dev.sigstore.bundle")
            || text.contains("\"verificationMaterial\"")
        {
            return ItemKind::SigstoreBundle;
        }
        if text.contains("\"transparency_logs\"") || text.contains("\"certificate_authorities\"") {
            return ItemKind::TrustBundle;
        }
        if text.contains("\"logIndex\"")
            || text.contains("\"integratedTime\"")
            || text.contains("\"LogIndex\"")
        {
            return ItemKind::RekorEntry;
        }
    }
    if name.ends_with(".jsonl") {
        return ItemKind::AuditLog;
    }
    // A DER public key (SPKI) carries no text marker: when the whole file is in the head, the key
    // parser decides (secret DER keys were caught above by the secret detector).
    if head.len() < SNIFF_LEN {
        if let Ok(key) = crate::keys::parse_key_file(&name, head) {
            return if key.is_secret {
                ItemKind::SecretKey
            } else {
                ItemKind::PublicKey
            };
        }
    }
    ItemKind::Attachment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_of(rel: &str) -> ItemKind {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel);
        let bytes = std::fs::read(&p).unwrap();
        classify(&p, &bytes[..bytes.len().min(SNIFF_LEN)])
    }

    #[test]
    fn real_fixtures_are_recognised() {
        use ItemKind::*;
        for (f, k) in [
            ("wsc/modules/signed-a.wasm", Module),
            ("wsc/modules/component.wasm", Module),
            ("wsc/modules/detached-a.sig", DetachedSignature),
            ("wsc/keys/test-key-a.pub", PublicKey),
            ("wsc/keys/test-key-a.sec", SecretKey),
            ("wsc/keys/test-key-a.pkcs8.pem", SecretKey),
            ("wsc/keys/test-key-a.spki.pem", PublicKey),
            // DER: no text marker, the key parser decides.
            ("wsc/keys/test-key-a.spki.der", PublicKey),
            ("wsc/keys/test-ssh-ed25519", SecretKey),
            ("wsc/keys/test-ssh-ed25519.pub", PublicKey),
            ("wsc/audit/audit-keyless-verify.jsonl", AuditLog),
            ("wsc/audit/audit-all-event-types.jsonl", AuditLog),
            ("wsc/bundle/trust-bundle.json", TrustBundle),
            ("wsc/bundle/trust-bundle.signed.json", TrustBundle),
            ("rekor/recent_entry_20251101_175321.json", RekorEntry),
            (
                "rekor/rekor-api-entry-538771042.reconstructed.json",
                RekorEntry,
            ),
            ("rekor/wsc-embedded-trusted_root.json", TrustRoot),
            ("sigstore/production-trusted_root.json", TrustRoot),
            ("sigstore/bundle_v3_github.whl.sigstore", SigstoreBundle),
            ("sigstore/bundle.txt.sigstore", SigstoreBundle),
            ("sigstore/offline-rekor.txt.crt", Certificate),
            ("sigstore/bundle.txt", Attachment),
        ] {
            assert_eq!(kind_of(f), k, "{f}");
        }
    }
}
