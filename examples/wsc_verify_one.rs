//! Stand-in for `wsc verify -K KEY -i MODULE` in the scope benchmark when the real wsc CLI is not
//! built: one process per module, the upstream decoder and verifier (wsc-verify-core), exit 0 when
//! the module's embedded signature by KEY verifies, 1 otherwise. Same work per module as wsc's CLI.
//!
//! Takes wsc's own argument form, so the benchmark loop is the same for both:
//! `cargo run --release --example wsc_verify_one -- verify -K KEY.pub -i MODULE.wasm`

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (key, module) = match &args[1..] {
        [v, k, key, i, module] if v == "verify" && k == "-K" && i == "-i" => (key, module),
        _ => {
            eprintln!("usage: wsc_verify_one verify -K KEY.pub -i MODULE.wasm");
            std::process::exit(2);
        }
    };
    let pk = match wsc_verify_core::PublicKey::from_file(key) {
        Ok(pk) => pk,
        Err(e) => {
            eprintln!("{key}: {e}");
            std::process::exit(2);
        }
    };
    let ok = std::fs::File::open(module)
        .map(|mut f| pk.verify(&mut f, None).is_ok())
        .unwrap_or(false);
    if ok {
        println!("Signature is valid.");
    }
    std::process::exit(if ok { 0 } else { 1 });
}
