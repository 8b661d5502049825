//! Benchmark corpus for `bench/sigstore.sh`: N Sigstore bundles (v0.3, Rekor v1 hashedrekord
//! with SET, inclusion proof and checkpoint; each by its own Fulcio-style leaf with an embedded
//! SCT) over one artifact, signed by the private test instance of
//! `tests/it/common/sigstore_instance.rs` (the same code the tamper tests use), and the trust
//! root naming that instance.
//!
//! `cargo run --release --example gen_sigstore_corpus -- OUT_DIR [N]` (N defaults to 1000) writes:
//! - `OUT_DIR/trusted_root.json` and `OUT_DIR/trust_config.json` (the same root wrapped as a
//!   sigstore-python client trust configuration);
//! - `OUT_DIR/artifact` (the signed bytes, for `inspect --artifact`);
//! - `OUT_DIR/bundles/artifact-NNNN` and `OUT_DIR/bundles/artifact-NNNN.sigstore.json`: every
//!   bundle beside a copy of the artifact, the layout `sigstore verify` takes for many inputs.
//!
//! Same arguments → byte-identical corpus (fixed keys, RFC 6979 signatures).

#[path = "../tests/it/common/sigstore_instance.rs"]
mod sigstore_instance;

use sigstore_instance::{client_trust_config, Instance, Options, IDENTITY, ISSUER};
use std::path::PathBuf;

const ARTIFACT: &[u8] = b"wsc-forensics sigstore benchmark artifact\n";

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: gen_sigstore_corpus OUT_DIR [N]");
        std::process::exit(2);
    };
    let n: usize = match args.next().map(|s| s.parse()) {
        None => 1000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("N must be a positive number");
            std::process::exit(2);
        }
    };
    let inst = Instance::new(Options::default());
    let root = inst.trusted_root();
    let bundles_dir = out.join("bundles");
    std::fs::create_dir_all(&bundles_dir)?;
    std::fs::write(
        out.join("trusted_root.json"),
        serde_json::to_vec_pretty(&root)?,
    )?;
    let config = client_trust_config(&root);
    std::fs::write(
        out.join("trust_config.json"),
        serde_json::to_vec_pretty(&config)?,
    )?;
    std::fs::write(out.join("artifact"), ARTIFACT)?;
    for (i, b) in inst.bundles_v1(ARTIFACT, n).iter().enumerate() {
        let name = format!("artifact-{i:04}");
        std::fs::write(bundles_dir.join(&name), ARTIFACT)?;
        std::fs::write(
            bundles_dir.join(format!("{name}.sigstore.json")),
            serde_json::to_vec(b)?,
        )?;
    }
    println!(
        "{n} bundles in {}; identity {IDENTITY}, issuer {ISSUER}",
        bundles_dir.display()
    );
    Ok(())
}
