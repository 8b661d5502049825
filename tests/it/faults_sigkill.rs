//! `collect` killed with SIGKILL at random moments: no bundle (complete or partial) appears at the
//! destination, the only leftover is the documented temp file `.<name>.partial-<pid>-<16 hex>` of
//! the killed process in the destination's folder, the sources are byte-identical with unchanged
//! mtimes, and the next collect to the same destination succeeds and does not pick the leftover up.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use wsc_forensics::bundle::{open_bundle, verify_bundle, Verdict, VerifyOptions};

const T: &str = "2026-11-25T10:00:00Z";

/// sha256 and mtime of every file under `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, ([u8; 32], SystemTime)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap();
            let mtime = e.metadata().unwrap().modified().unwrap();
            (e.path().to_owned(), (Sha256::digest(&bytes).into(), mtime))
        })
        .collect()
}

/// xorshift64*: a cheap deterministic filler, so the sources are not all-zero (which some
/// filesystems could store sparse) and the kill moments can be replayed from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Real signed modules and a key, and `blobs` attachments of 4 MiB each.
fn corpus(dir: &Path, rng: &mut Rng, blobs: usize) {
    std::fs::create_dir_all(dir.join("modules")).unwrap();
    std::fs::create_dir_all(dir.join("attachments")).unwrap();
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc");
    for m in [
        "signed-a.wasm",
        "signed-a-b.wasm",
        "signed-a-tampered-code.wasm",
    ] {
        std::fs::copy(fx.join("modules").join(m), dir.join("modules").join(m)).unwrap();
    }
    std::fs::copy(fx.join("keys/test-key-a.pub"), dir.join("test-key-a.pub")).unwrap();
    let mut block = vec![0u8; 4 << 20];
    for i in 0..blobs {
        for c in block.chunks_mut(8) {
            c.copy_from_slice(&rng.next().to_le_bytes());
        }
        std::fs::write(dir.join(format!("attachments/blob-{i:02}.bin")), &block).unwrap();
    }
}

/// (source path, sha256, bag path) of every item of a bundle.
fn items(bundle: &Path) -> Vec<(String, String, Option<String>)> {
    open_bundle(bundle)
        .unwrap()
        .evidence
        .items
        .into_iter()
        .map(|i| (i.source.text, i.sha256.to_hex(), i.bag_path))
        .collect()
}

fn collect_cmd(out: &Path, src: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("wsc-forensics"));
    c.args([
        "collect",
        "-q",
        "--case-id",
        "IR-KILL",
        "--collected-at",
        T,
        "-o",
    ])
    .arg(out)
    .arg(src)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// Names in `dir` other than `keep`.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The documented temp name: `.<dest name>.partial-<pid>-<16 lowercase hex>`.
fn is_temp_of(name: &str, dest_name: &str, pid: u32) -> bool {
    let Some(rest) = name.strip_prefix(&format!(".{dest_name}.partial-{pid}-")) else {
        return false;
    };
    rest.len() == 16
        && rest
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[test]
fn sigkill_at_random_moments_leaves_no_bundle_and_sources_untouched() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill-moment seed: {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    corpus(&src, &mut Rng(0x9e37_79b9_7f4a_7c15), 24); // 96 MiB
    let before = snapshot(&src);

    // An undisturbed run to a separate folder: how long a collection takes here, and what it holds.
    let base_dir = dir.path().join("baseline");
    std::fs::create_dir(&base_dir).unwrap();
    let base_out = base_dir.join("case.zip");
    let t0 = Instant::now();
    let st = collect_cmd(&base_out, &src).status().unwrap();
    let full = t0.elapsed();
    assert_eq!(st.code(), Some(1), "baseline collect failed"); // 1: the tampered module
    let base_items = items(&base_out);
    eprintln!(
        "uninterrupted collect: {full:?}, {} items",
        base_items.len()
    );

    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("case.zip");
    let mut leftovers = Vec::new();
    let mut killed_mid_write = 0;
    for round in 0..6 {
        // Spread the kill moments over the whole run, from just after start to near the end.
        let frac = (round as f64 + (rng.next() % 1000) as f64 / 1000.0) / 6.0;
        let delay = full.mul_f64(frac * 0.8);
        let mut child = collect_cmd(&out, &src).spawn().unwrap();
        let pid = child.id();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        let names = names_in(&out_dir);
        eprintln!("round {round}: SIGKILL after {delay:?}: status {status:?}, left {names:?}");
        if status.signal() != Some(libc::SIGKILL) {
            // It finished before the signal: then the bundle must be whole.
            assert!(
                verify_bundle(&out, &VerifyOptions::default()).verdict == Verdict::Intact,
                "round {round}: finished run left a bundle that does not verify"
            );
            std::fs::remove_file(&out).unwrap();
            continue;
        }
        if out.exists() {
            // Killed between the hard link and the unlink of the temp: the name is only ever
            // given to a complete, fsynced bundle.
            assert_eq!(
                verify_bundle(&out, &VerifyOptions::default()).verdict,
                Verdict::Intact,
                "round {round}: a killed collect left a bundle that does not verify"
            );
            std::fs::remove_file(&out).unwrap();
        }
        for n in names_in(&out_dir) {
            if leftovers.contains(&n) {
                continue;
            }
            assert!(
                is_temp_of(&n, "case.zip", pid),
                "round {round}: unexpected file {n:?} at the destination (pid {pid})"
            );
            killed_mid_write += 1;
            leftovers.push(n);
        }
        assert_eq!(snapshot(&src), before, "round {round}: a source changed");
    }
    assert!(
        killed_mid_write >= 3,
        "only {killed_mid_write} of 6 kills hit a collection in progress"
    );

    // The next collect to the same destination, with the leftovers still there, succeeds and
    // leaves them alone; the bundle holds what an undisturbed run holds.
    let st = collect_cmd(&out, &src).status().unwrap();
    assert_eq!(st.code(), Some(1));
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
    // Same items with the same digests as an undisturbed run (the bytes differ only by the
    // output path in the recorded argv).
    assert!(
        items(&out) == base_items,
        "the bundle after the kills holds other items than an undisturbed one"
    );
    let mut expected = leftovers.clone();
    expected.push("case.zip".into());
    expected.sort();
    assert_eq!(names_in(&out_dir), expected);
    assert_eq!(snapshot(&src), before, "a source changed");
}

/// The bundle written inside an input folder, where the killed runs left their temp files: the
/// next collect records them as not collected (they are this tool's own debris, not evidence)
/// instead of copying a half-written zip into the bag.
#[test]
fn a_leftover_temp_file_inside_an_input_folder_is_not_collected() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    corpus(&src, &mut Rng(7), 8);
    let out = src.join("case.zip");
    let mut child = collect_cmd(&out, &src).spawn().unwrap();
    let pid = child.id();
    // Wait until the temp file exists, then kill.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !names_in(&src)
        .iter()
        .any(|n| is_temp_of(n, "case.zip", pid))
    {
        assert!(Instant::now() < deadline, "no temp file appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists());
    let temp = names_in(&src)
        .into_iter()
        .find(|n| is_temp_of(n, "case.zip", pid))
        .expect("the killed run's temp file");
    let st = collect_cmd(&out, &src).status().unwrap();
    assert_eq!(st.code(), Some(1));
    let c = open_bundle(&out).unwrap();
    assert!(
        !c.evidence
            .items
            .iter()
            .any(|i| i.source.text.contains(".partial-")),
        "a leftover temp file was collected as evidence"
    );
    let nc = c
        .evidence
        .not_collected
        .iter()
        .find(|n| n.path.text.ends_with(&temp))
        .expect("the leftover temp file is recorded as not collected");
    assert!(nc.reason.contains("temp file"), "{}", nc.reason);
    assert_eq!(
        verify_bundle(&out, &VerifyOptions::default()).verdict,
        Verdict::Intact
    );
}
