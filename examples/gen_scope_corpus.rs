//! Generates the `scope` benchmark corpus: N modules of about SIZE bytes each, signed the way
//! `wsc sign` signs (wsc-formats.md §2–§3) with the fixture test keys, in a mix of embedded
//! (key A, with and without key id), detached (`<stem>.sig`), key B only, and tampered-after-
//! signing modules. Usage: `gen_scope_corpus OUT_DIR N SIZE`. Deterministic (fixed PRNG seed).

use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use std::path::Path;

fn leb(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
}

fn slice(b: &[u8], out: &mut Vec<u8>) {
    leb(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn custom(name: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    slice(name.as_bytes(), &mut payload);
    payload.extend_from_slice(data);
    let mut s = vec![0u8];
    slice(&payload, &mut s);
    s
}

fn key(name: &str) -> (SigningKey, [u8; 12]) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/wsc/keys")
        .join(name);
    let raw = std::fs::read(p).unwrap();
    let seed: [u8; 32] = raw[1..33].try_into().unwrap();
    let sk = SigningKey::from_bytes(&seed);
    let pk = wsc_forensics::keys::PublicKey(sk.verifying_key().to_bytes());
    (sk, pk.wsc_key_id())
}

/// Signature-section payload over `sections` (the bytes after the signature section).
fn signature_payload(sections: &[u8], sk: &SigningKey, key_id: Option<&[u8; 12]>) -> Vec<u8> {
    let hash: [u8; 32] = Sha256::digest(sections).into();
    let mut msg = b"wasmsig\x01\x01\x01".to_vec();
    msg.extend_from_slice(&hash);
    let sig = sk.sign(&msg).to_bytes();
    let mut elem = Vec::new();
    slice(key_id.map(|k| &k[..]).unwrap_or(&[]), &mut elem);
    elem.push(1);
    slice(&sig, &mut elem);
    elem.push(0);
    let mut set = vec![1u8];
    set.extend_from_slice(&hash);
    set.push(1);
    slice(&elem, &mut set);
    let mut p = vec![1u8, 1, 1, 1];
    slice(&set, &mut p);
    p
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: gen_scope_corpus OUT_DIR N SIZE");
        std::process::exit(2);
    }
    let out = Path::new(&args[1]);
    let n: usize = args[2].parse().unwrap();
    let size: usize = args[3].parse().unwrap();
    std::fs::create_dir_all(out).unwrap();
    let base =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/modules/base.wasm"))
            .unwrap();
    let (ka, ida) = key("test-key-a.sec");
    let (kb, idb) = key("test-key-b.sec");
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut counts = [0usize; 5];
    for i in 0..n {
        let mut filler = vec![0u8; size.saturating_sub(200)];
        for chunk in filler.chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_le_bytes();
            chunk.copy_from_slice(&b[..chunk.len()]);
        }
        let mut sections = base[8..].to_vec();
        sections.extend(custom("bench-payload", &filler));
        let name = out.join(format!("m{i:05}.wasm"));
        let kind = i % 10;
        let mut module = base[..8].to_vec();
        match kind {
            0..=4 => {
                // embedded, key A with key id (kind 4: without key id)
                let id = (kind != 4).then_some(&ida);
                module.extend(custom("signature", &signature_payload(&sections, &ka, id)));
                module.extend_from_slice(&sections);
                counts[0] += 1;
            }
            5 | 6 => {
                // detached, key A
                module.extend_from_slice(&sections);
                std::fs::write(
                    out.join(format!("m{i:05}.sig")),
                    signature_payload(&sections, &ka, Some(&ida)),
                )
                .unwrap();
                counts[1] += 1;
            }
            7 => {
                module.extend(custom(
                    "signature",
                    &signature_payload(&sections, &kb, Some(&idb)),
                ));
                module.extend_from_slice(&sections);
                counts[2] += 1;
            }
            8 => {
                // signed by A, then one payload byte changed
                module.extend(custom(
                    "signature",
                    &signature_payload(&sections, &ka, Some(&ida)),
                ));
                let last = sections.len() - 1;
                sections[last] ^= 1;
                module.extend_from_slice(&sections);
                counts[3] += 1;
            }
            _ => {
                module.extend_from_slice(&sections);
                counts[4] += 1;
            }
        }
        std::fs::write(name, module).unwrap();
    }
    println!(
        "{n} modules: {} embedded A, {} detached A, {} B only, {} A tampered, {} unsigned",
        counts[0], counts[1], counts[2], counts[3], counts[4]
    );
}
