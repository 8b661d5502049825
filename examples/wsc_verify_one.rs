//! The benchmark peer for `scope`: what `wsc verify -K KEY -i MODULE` does, as a tiny program on
//! the upstream verifier (wsc-verify-core 0.12, `PublicKey::verify` over the whole module, embedded
//! signature only, like the runbook's per-module loop). Usage: `wsc_verify_one KEY.pub MODULE`;
//! exit 0 valid, 1 not.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: wsc_verify_one KEY.pub MODULE");
        std::process::exit(2);
    }
    let pk = wsc_verify_core::PublicKey::from_bytes(&std::fs::read(&args[1]).unwrap()).unwrap();
    let mut f = std::io::BufReader::new(std::fs::File::open(&args[2]).unwrap());
    match pk.verify(&mut f, None) {
        Ok(()) => println!("Signature is valid."),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
