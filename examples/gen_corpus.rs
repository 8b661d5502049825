//! Deterministic benchmark corpus: N valid wasm modules of spread sizes in nested folders, signed
//! the way the real `wsc sign` signs (docs/wsc-formats.md §2–§3) by several keys, some multi-signed,
//! some tampered after signing, some unsigned, some with detached `.sig` files, plus the raw wsc
//! key files and the exact list of modules each key validly signed (the oracle for `scope`).
//! Detached signatures use both names found beside modules (`m.wasm.sig`, `m.sig`). The one
//! generator for `bench/run.sh` and `bench/scale.sh`.
//!
//! `cargo run --release --example gen_corpus -- OUT_DIR MODULES TOTAL_MIB [BIG_MIB]`
//! Same arguments → byte-identical corpus (a fixed-seed splitmix64 drives every choice).

use ed25519_dalek::{Signer, SigningKey};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const KEYS: usize = 4;

struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
    }
}

fn leb(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn section(id: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(id);
    leb(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

fn custom(name: &str, data: &[u8], out: &mut Vec<u8>) {
    let mut p = Vec::with_capacity(name.len() + data.len() + 5);
    leb(name.len() as u64, &mut p);
    p.extend_from_slice(name.as_bytes());
    p.extend_from_slice(data);
    section(0, &p, out);
}

/// Sections of a valid module (no header): one `(i32,i32)->i32` function, a memory, and a passive
/// data segment of `data_len` pseudo-random (incompressible) bytes.
fn module_body(rng: &mut SplitMix, data_len: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data_len + 256);
    section(1, &[1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f], &mut out);
    section(3, &[1, 0], &mut out);
    section(5, &[1, 0, 1], &mut out);
    section(7, &[1, 3, b'a', b'd', b'd', 0, 0], &mut out);
    section(10, &[1, 7, 0, 0x20, 0, 0x20, 1, 0x6a, 0x0b], &mut out);
    let mut data = vec![0u8; data_len];
    rng.fill(&mut data);
    let mut seg = Vec::with_capacity(data_len + 16);
    seg.push(1); // one segment
    seg.push(1); // passive
    leb(data_len as u64, &mut seg);
    seg.extend_from_slice(&data);
    section(11, &seg, &mut out);
    custom("name", format!("corpus-module-{n}").as_bytes(), &mut out);
    out
}

fn key_id(pk: &[u8; 32]) -> [u8; 12] {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(pk).expect("any key length");
    mac.update(b"key_id");
    let tag = mac.finalize().into_bytes();
    tag[..12].try_into().unwrap()
}

/// The signature-section payload (= a detached `.sig` file) for one hash and several signers.
fn signature_payload(hash: &[u8; 32], signers: &[&SigningKey], with_key_id: bool) -> Vec<u8> {
    let mut msg = b"wasmsig\x01\x01\x01".to_vec();
    msg.extend_from_slice(hash);
    let mut set = Vec::new();
    set.push(1); // one hash
    set.extend_from_slice(hash);
    leb(signers.len() as u64, &mut set);
    for sk in signers {
        let mut el = Vec::new();
        if with_key_id {
            el.push(12);
            el.extend_from_slice(&key_id(&sk.verifying_key().to_bytes()));
        } else {
            el.push(0);
        }
        el.push(1);
        el.push(64);
        el.extend_from_slice(&sk.sign(&msg).to_bytes());
        el.push(0);
        leb(el.len() as u64, &mut set);
        set.extend_from_slice(&el);
    }
    let mut payload = vec![1, 1, 1, 1];
    leb(set.len() as u64, &mut payload);
    payload.extend_from_slice(&set);
    payload
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: gen_corpus OUT_DIR MODULES TOTAL_MIB [BIG_MIB]");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[1]);
    let modules: usize = args[2].parse().expect("MODULES");
    let total_mib: u64 = args[3].parse().expect("TOTAL_MIB");
    let big_mib: u64 = args
        .get(4)
        .map(|s| s.parse().expect("BIG_MIB"))
        .unwrap_or(0);
    let mut rng = SplitMix(0x5EED_2026_1125);

    let keys: Vec<SigningKey> = (0..KEYS)
        .map(|k| SigningKey::from_bytes(&Sha256::digest(format!("bench-key-{k}")).into()))
        .collect();
    let key_dir = out.join("keys");
    fs::create_dir_all(&key_dir).unwrap();
    for (k, sk) in keys.iter().enumerate() {
        let pk = sk.verifying_key().to_bytes();
        let mut public = vec![1u8];
        public.extend_from_slice(&pk);
        fs::write(key_dir.join(format!("key-{k}.pub")), &public).unwrap();
        let mut secret = vec![0x81u8];
        secret.extend_from_slice(&sk.to_bytes());
        secret.extend_from_slice(&pk);
        fs::write(key_dir.join(format!("key-{k}.sec")), &secret).unwrap();
    }

    let corpus = out.join("corpus");
    // Sizes spread log-uniformly-ish around the mean, scaled so the total is TOTAL_MIB.
    let weights: Vec<u64> = (0..modules)
        .map(|_| 1 + rng.below(64) * rng.below(64) / 8)
        .collect();
    let wsum: u64 = weights.iter().sum();
    let budget = (total_mib << 20).saturating_sub(big_mib << 20);
    let mut valid: Vec<Vec<String>> = vec![Vec::new(); KEYS];
    let mut counts = [0usize; 6];
    for (n, w) in weights.iter().enumerate() {
        let mut data_len = (budget * w / wsum.max(1)) as usize;
        if n == 0 && big_mib > 0 {
            data_len = (big_mib << 20) as usize;
        }
        let dir = corpus
            .join(format!("team-{:02}", n % 17))
            .join(format!("svc-{:02}", n % 23));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("module-{n:05}.wasm"));
        let body = module_body(&mut rng, data_len, n);
        let hash: [u8; 32] = Sha256::digest(&body).into();
        let signer = n % KEYS;
        let second = (signer + 1) % KEYS;
        let mut file = b"\0asm\x01\0\0\0".to_vec();
        // 0 unsigned, 1 signed, 2 multi-signed, 3 tampered, 4 detached, 5 signed without key id
        let class = match rng.below(20) {
            0 | 1 => 0,
            2 | 3 => 2,
            4 => 3,
            5 | 6 => 4,
            7 => 5,
            _ => 1,
        };
        counts[class] += 1;
        let rel = path.strip_prefix(&out).unwrap().display().to_string();
        match class {
            0 => file.extend_from_slice(&body),
            1 | 2 | 3 | 5 => {
                let signers: Vec<&SigningKey> = if class == 2 {
                    vec![&keys[signer], &keys[second]]
                } else {
                    vec![&keys[signer]]
                };
                custom(
                    "signature",
                    &signature_payload(&hash, &signers, class != 5),
                    &mut file,
                );
                let at = file.len();
                file.extend_from_slice(&body);
                if class == 3 {
                    let i = at + 20 + (rng.below((body.len() - 40) as u64) as usize);
                    file[i] ^= 0x01;
                } else {
                    for s in &signers {
                        let k = keys.iter().position(|x| std::ptr::eq(x, *s)).unwrap();
                        valid[k].push(rel.clone());
                    }
                }
            }
            4 => {
                file.extend_from_slice(&body);
                let sig = signature_payload(&hash, &[&keys[signer]], true);
                // Both names wsc users keep beside a module: `m.wasm.sig` and `m.sig`.
                let ext = if n % 2 == 0 { "wasm.sig" } else { "sig" };
                fs::write(path.with_extension(ext), sig).unwrap();
                valid[signer].push(rel.clone());
            }
            _ => unreachable!(),
        }
        let mut f = fs::File::create(&path).unwrap();
        f.write_all(&file).unwrap();
    }
    for (k, list) in valid.iter_mut().enumerate() {
        list.sort();
        let mut text = list.join("\n");
        text.push('\n');
        fs::write(out.join(format!("expected-valid-key-{k}.txt")), text).unwrap();
    }
    eprintln!(
        "{}: {modules} modules ({} unsigned, {} signed, {} multi-signed, {} tampered, {} detached, {} without key id), {KEYS} keys",
        Path::new(&args[1]).display(),
        counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
    );
}
