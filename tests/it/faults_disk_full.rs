//! `collect` to a destination that fills up: a clear error naming the destination, exit 2, and
//! nothing left there (neither a partial bundle nor the temp file). A real full filesystem (a 1 MiB
//! tmpfs) when the test may mount one (root in CI); otherwise the library's write-failure
//! injection point, `CollectRequest::fail_write_after`.

use crate::common::fixture;
use std::path::{Path, PathBuf};
use std::process::Command;
use wsc_forensics::acquire::{collect, CollectError};

/// A mounted 1 MiB tmpfs, unmounted on drop.
struct SmallTmpfs(PathBuf);

impl SmallTmpfs {
    fn mount(at: &Path) -> Option<SmallTmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(at)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        ok.then(|| SmallTmpfs(at.to_owned()))
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Sources bigger than 1 MiB: the real modules and keys and a 3 MiB attachment.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let big = dir.join("disk-image-excerpt.bin");
    let bytes: Vec<u8> = (0..3u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&big, bytes).unwrap();
    vec![fixture("wsc/modules"), fixture("wsc/keys"), big]
}

#[test]
fn a_full_destination_gives_a_clear_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = sources(dir.path());
    let mnt = dir.path().join("small");
    let Some(fs) = SmallTmpfs::mount(&mnt) else {
        eprintln!("mount not permitted: a full disk is simulated with fail_write_after");
        return injected_failure(dir.path(), &inputs);
    };
    let out = fs.0.join("case.zip");
    let o = Command::new(assert_cmd::cargo::cargo_bin("wsc-forensics"))
        .args(["collect", "--case-id", "IR-FULL", "-o"])
        .arg(&out)
        .args(&inputs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(&*fs.0.to_string_lossy()),
        "the error does not name the destination: {stderr}"
    );
    assert_eq!(
        stderr.matches("No space left on device").count(),
        1,
        "the error must say the disk is full, once: {stderr}"
    );
    // One error line, ours: not also the zip writer's own debug print from its drop.
    assert!(!stderr.contains("ZipWriter"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("wsc-forensics: error: "), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(&fs.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left at the destination: {left:?}");
    // The space was given back: a small collection to the same place now fits.
    Command::new(assert_cmd::cargo::cargo_bin("wsc-forensics"))
        .args(["collect", "-q", "--case-id", "IR-FULL", "-o"])
        .arg(&out)
        .arg(fixture("wsc/modules/base.wasm"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
        .then_some(())
        .expect("a small collect after the failed one");
    drop(fs);
}

/// The same property through the write-failure injection point (also run where mount works, so
/// both paths stay tested).
#[test]
fn an_injected_write_failure_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = sources(dir.path());
    injected_failure(dir.path(), &inputs);
}

fn injected_failure(dir: &Path, inputs: &[PathBuf]) {
    let outdir = dir.join("out");
    std::fs::create_dir(&outdir).unwrap();
    let out = outdir.join("case.zip");
    // Fail after 1 MiB: inside the big attachment's entry, as a 1 MiB disk would.
    let mut req = crate::common::collect_request("IR-FULL", inputs.to_vec(), &out);
    req.fail_write_after = Some(1 << 20);
    let err = collect(&req).unwrap_err();
    assert!(matches!(err, CollectError::Write(_)), "{err}");
    let msg = format!("{err}");
    assert!(msg.contains(&*outdir.to_string_lossy()), "{msg}");
    let left: Vec<_> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left at the destination: {left:?}");
}

/// The sorted records collect keeps beside the bundle (here every record its own run, so the
/// merge passes write them several times) fill the disk before the bundle does: the same clear
/// error, nothing left, and the space given back (the records' files are anonymous).
#[test]
fn a_disk_filled_by_the_sorted_records_gives_a_clear_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    for i in 0..100u32 {
        // A minimal module with a custom section holding `i`: every file is its own entry.
        let mut m = b"\0asm\x01\0\0\0\0\x06\x01n".to_vec();
        m.extend_from_slice(&i.to_le_bytes());
        std::fs::write(src.join(format!("m{i:03}.wasm")), m).unwrap();
    }
    let mnt = dir.path().join("small");
    let Some(fs) = SmallTmpfs::mount(&mnt) else {
        eprintln!("SKIPPED: mount not permitted (a full disk needs a small tmpfs)");
        return;
    };
    let out = fs.0.join("case.zip");
    let mut req = crate::common::collect_request("IR-FULL", vec![src], &out);
    req.spill_run_bytes = Some(1);
    let err = collect(&req).unwrap_err();
    assert!(
        matches!(
            err,
            CollectError::Write(wsc_forensics::bundle::writer::WriteError::Temp { .. })
        ),
        "{err}"
    );
    let msg = format!("{err}");
    assert!(msg.contains(&*fs.0.to_string_lossy()), "{msg}");
    assert!(msg.contains("No space left on device"), "{msg}");
    let left: Vec<_> = std::fs::read_dir(&fs.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left at the destination: {left:?}");
    // Given back: the same collection fits when the records stay in memory.
    req.spill_run_bytes = None;
    collect(&req).expect("the same collect without spilling");
    drop(fs);
}
