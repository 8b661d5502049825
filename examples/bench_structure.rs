//! What the structural zip pass costs inside `verify` (issue 12: at most 5 %): times
//! `structure::check` alone and the whole `verify_bundle` on one bundle, best of RUNS each, warm
//! page cache, and prints both and their ratio.
//!
//!     bench_structure BUNDLE [RUNS]

use std::time::{Duration, Instant};
use wsc_forensics::bundle::verify::structure::{self, Strictness};
use wsc_forensics::bundle::{verify_bundle, Verdict, VerifyOptions};
use wsc_forensics::io::pread::PreadFile;

fn best(runs: u32, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(bundle) = args.next() else {
        eprintln!("usage: bench_structure BUNDLE [RUNS]");
        std::process::exit(2);
    };
    let runs: u32 = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let path = std::path::Path::new(&bundle);
    let report = verify_bundle(path, &VerifyOptions::default());
    if report.verdict != Verdict::Intact {
        eprintln!("{bundle}: not intact: {:?}", report.problems);
        std::process::exit(1);
    }
    let mut records = 0;
    let structural = best(runs, || {
        let file = PreadFile::open(path).expect("open");
        let s = structure::check(&file, Strictness::Canonical);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        records = s.records.len();
    });
    let whole = best(runs, || {
        let r = verify_bundle(path, &VerifyOptions::default());
        assert_eq!(r.verdict, Verdict::Intact);
    });
    println!(
        "entries {records}  structural pass {:.1} ms  verify {:.1} ms  share {:.2} %",
        structural.as_secs_f64() * 1e3,
        whole.as_secs_f64() * 1e3,
        100.0 * structural.as_secs_f64() / whole.as_secs_f64()
    );
}
