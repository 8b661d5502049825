//! Hostile inputs given to the `inspect` binary: directories, FIFOs, symlink loops, unreadable
//! files, empty files, devices, names that are not UTF-8 or hold a newline, as inputs and as
//! `-K` / `-S`. Each gives one clear stderr line naming the file and exit 2 (or its documented
//! code), never blocks, never panics, and the other inputs are still processed.

use crate::common::fixture;
use assert_cmd::Command;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest any of these runs may take: a blocked read on a FIFO would hang forever.
const TIMEOUT: Duration = Duration::from_secs(60);

fn inspect() -> Command {
    let mut c = Command::cargo_bin("wsc-forensics").unwrap();
    c.arg("inspect").timeout(TIMEOUT);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(c: &mut Command) -> Run {
    let out = c.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    Run {
        code: out
            .status
            .code()
            .unwrap_or_else(|| panic!("killed (timeout = blocked?): {stderr}")),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    }
}

fn mkfifo(p: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", p.display());
}

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Exactly one stderr line, mentioning `needle` (the file), with the error prefix.
fn one_error_line(stderr: &str, needle: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line: {stderr:?}");
    assert!(lines[0].starts_with("wsc-forensics: "), "{stderr}");
    assert!(lines[0].contains(needle), "{needle:?} not in {stderr:?}");
}

struct Dir {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn dir() -> Dir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    Dir { _tmp: tmp, root }
}

#[test]
fn directory_is_refused_and_the_next_input_processed() {
    let d = dir();
    let sub = d.root.join("modules.wasm");
    std::fs::create_dir(&sub).unwrap();
    let good = fixture("wsc/modules/signed-a.wasm");
    let r = run(inspect().arg(&sub).arg(&good));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &sub.display().to_string());
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    assert!(r.stdout.contains("signed-a.wasm: module"), "{}", r.stdout);
}

#[test]
fn fifo_as_input_does_not_block() {
    let d = dir();
    let fifo = d.root.join("pipe.wasm");
    mkfifo(&fifo);
    let r = run(inspect().arg(&fifo).arg(fixture("wsc/modules/base.wasm")));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &fifo.display().to_string());
    assert!(r.stdout.contains("base.wasm: module"));
}

/// Found by this sweep: `-K FIFO` and `-S FIFO` blocked forever (the file was read without
/// checking its type), and `-K`/`-S` naming `/dev/zero` read until memory ran out.
#[test]
fn fifo_or_device_as_key_or_signature_does_not_block_or_exhaust_memory() {
    let d = dir();
    let fifo = d.root.join("key.pub");
    mkfifo(&fifo);
    let zero_link = d.root.join("zero.pub");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    let module = fixture("wsc/modules/detached-a.wasm");
    for bad in [&fifo, &zero_link, &PathBuf::from("/dev/zero")] {
        let r = run(inspect().arg("-K").arg(bad).arg(&module));
        assert_eq!(r.code, 2, "-K {}: {}", bad.display(), r.stderr);
        one_error_line(&r.stderr, &bad.display().to_string());
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);

        let r = run(inspect()
            .arg("-K")
            .arg(fixture("wsc/keys/test-key-a.pub"))
            .arg("-S")
            .arg(bad)
            .arg(&module)
            .arg(fixture("wsc/modules/base.wasm")));
        assert_eq!(r.code, 2, "-S {}: {}", bad.display(), r.stderr);
        assert!(
            r.stderr.contains(&bad.display().to_string()),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    }
}

#[test]
fn symlink_loop_is_an_error_naming_the_file() {
    let d = dir();
    let a = d.root.join("a.wasm");
    let b = d.root.join("b.wasm");
    std::os::unix::fs::symlink(&b, &a).unwrap();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let r = run(inspect().arg(&a).arg(fixture("wsc/modules/base.wasm")));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &a.display().to_string());
    assert!(r.stdout.contains("base.wasm: module"));
    // As -K: a usage error naming it.
    let r = run(inspect()
        .arg("-K")
        .arg(&a)
        .arg(fixture("wsc/modules/base.wasm")));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &a.display().to_string());
}

/// chmod 000 stops reads only for a non-root user; as root (CI containers) the file is read
/// normally, and that is asserted instead.
#[test]
fn unreadable_file_and_unsearchable_directory() {
    let d = dir();
    let f = d.root.join("locked.wasm");
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    let sub = d.root.join("noexec");
    std::fs::create_dir(&sub).unwrap();
    let inner = sub.join("m.wasm");
    std::fs::copy(fixture("wsc/modules/base.wasm"), &inner).unwrap();
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(inspect()
        .arg(&f)
        .arg(&inner)
        .arg(fixture("wsc/modules/split.wasm")));
    std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(r.stdout.contains("split.wasm: module"));
    if is_root() {
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("locked.wasm: module"));
        assert!(r.stdout.contains("m.wasm: module"));
    } else {
        assert_eq!(r.code, 2);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{}", r.stderr);
        assert!(lines[0].contains("locked.wasm") && lines[0].contains("ermission denied"));
        assert!(lines[1].contains("m.wasm") && lines[1].contains("ermission denied"));
    }
}

#[test]
fn empty_files() {
    let d = dir();
    let wasm = d.root.join("empty.wasm");
    let sig = d.root.join("empty.sig");
    let key = d.root.join("empty.pub");
    let other = d.root.join("empty");
    for p in [&wasm, &sig, &key, &other] {
        std::fs::write(p, b"").unwrap();
    }
    // A .wasm is judged as a module: the header is missing.
    let r = run(inspect().arg(&wasm));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &wasm.display().to_string());
    assert!(r.stderr.contains("byte offset 0"), "{}", r.stderr);
    // An empty .sig: the signature data ends before its first field.
    let r = run(inspect().arg(&sig));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &sig.display().to_string());
    assert!(r.stderr.contains("specification version"), "{}", r.stderr);
    // Anything else empty is not recognised: nothing about it could be checked (exit 2), one
    // line each, naming the file.
    let r = run(inspect().arg(&other).arg(&key));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stderr);
    for (line, p) in lines.iter().zip([&other, &key]) {
        assert!(
            line.contains(&format!("{}: not recognised", p.display())),
            "{line}"
        );
    }
    // In JSON its size and hash are still given, with the error and status 2.
    let r = run(inspect().arg("--json").arg(&other));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], 2);
    assert_eq!(
        v["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // As a -K key it is a usage error naming the file.
    let r = run(inspect()
        .arg("-K")
        .arg(&key)
        .arg(fixture("wsc/modules/signed-a.wasm")));
    assert_eq!(r.code, 2);
    one_error_line(&r.stderr, &key.display().to_string());
}

#[test]
fn non_utf8_and_newline_names() {
    let d = dir();
    let bad_utf8 = d.root.join(OsStr::from_bytes(b"mod\xff\xfe.wasm"));
    std::fs::copy(fixture("wsc/modules/signed-a.wasm"), &bad_utf8).unwrap();
    let newline = d.root.join("evil\nwsc-forensics: forged.wasm");
    std::fs::write(&newline, b"\0asm\x01\0\0\0\x01\xff").unwrap();
    let truncated_bad = d.root.join(OsStr::from_bytes(b"cut\xff.wasm"));
    std::fs::write(&truncated_bad, b"\0asm\x01").unwrap();
    let r = run(inspect()
        .arg("-K")
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .arg(&bad_utf8)
        .arg(&newline)
        .arg(&truncated_bad));
    assert_eq!(r.code, 2);
    // The valid module is judged despite its name.
    assert!(
        r.stdout.contains("mod\u{fffd}\u{fffd}.wasm: module"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("verdict: valid"), "{}", r.stdout);
    // Two errors, two lines: the newline in the name is escaped, so it cannot forge a line.
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{:?}", r.stderr);
    assert!(
        lines[0].contains("evil\\nwsc-forensics: forged.wasm: byte offset"),
        "{}",
        lines[0]
    );
    assert!(lines[1].contains("cut\u{fffd}.wasm"), "{}", lines[1]);
    assert!(
        lines[1].contains("byte offset 5: file ends inside the 8-byte header"),
        "{}",
        lines[1]
    );
    // In JSON the name is a JSON string (escaped by the serialiser).
    let r = run(inspect().arg("--json").arg(&newline));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["path"], newline.display().to_string());
    assert_eq!(v["status"], 2);
}

/// All of the above in one run: every input gets its line, the good ones their report.
#[test]
fn one_bad_input_never_stops_the_batch() {
    let d = dir();
    let fifo = d.root.join("fifo.wasm");
    mkfifo(&fifo);
    let loop_a = d.root.join("loop");
    std::os::unix::fs::symlink(&loop_a, &loop_a).unwrap();
    // (A missing path is a usage error before any work: see command_line.rs.)
    let r = run(inspect()
        .arg(&d.root)
        .arg(&fifo)
        .arg(fixture("wsc/modules/signed-a.wasm"))
        .arg(&loop_a)
        .arg(fixture("wsc/keys/test-key-a.pub"))
        .arg("/dev/null"));
    assert_eq!(r.code, 2);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{}", r.stderr);
    for (line, p) in lines.iter().zip([
        d.root.display().to_string(),
        fifo.display().to_string(),
        loop_a.display().to_string(),
        "/dev/null".to_string(),
    ]) {
        assert!(line.contains(&p), "{line} does not name {p}");
    }
    assert!(r.stdout.contains("signed-a.wasm: module"));
    assert!(r.stdout.contains("test-key-a.pub: public-key"));
}
