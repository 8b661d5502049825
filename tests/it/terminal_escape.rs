//! Issue #12, "nothing raw reaches a terminal": names and text from evidence with ESC, CR, BEL
//! and OSC sequences are printed escaped by `verify`, `collect`, `inspect`, `scope` and `keys`,
//! on stdout and stderr alike (JSON output escapes them itself).

use super::common::bin;
use std::path::Path;
use std::process::Output;

/// Names that would redraw a terminal: clear screen, carriage return over a line, bell, an OSC
/// window-title sequence, a C1 CSI.
const HOSTILE: [&str; 4] = [
    "a\x1b[2Jintact\x1b[0m",
    "b\rintact, signed",
    "c\x07\x1b]0;owned\x07",
    "d\u{9b}31m",
];

/// Fails if either stream holds a control byte other than a newline (C0, DEL, or a C1 in
/// UTF-8).
fn assert_no_raw_controls(what: &str, o: &Output) {
    for (stream, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| c.is_control() && c != '\n')
            .collect();
        assert!(
            bad.is_empty(),
            "{what}: raw control characters {bad:?} on {stream}:\n{text}"
        );
    }
}

fn hostile_tree(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("in");
    std::fs::create_dir_all(&root).unwrap();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/wsc/keys");
    for (i, name) in HOSTILE.iter().enumerate() {
        // A key under a hostile name, a non-module under another, a bad module under a third.
        let content = match i {
            0 => std::fs::read(keys.join("test-key-a.pub")).unwrap(),
            1 => std::fs::read(keys.join("test-key-a.sec")).unwrap(),
            2 => b"\0asm\x01\0\0\0\x01\xff".to_vec(),
            _ => b"plain text".to_vec(),
        };
        std::fs::write(
            root.join(format!("{name}.{}", ["pub", "sec", "wasm", "txt"][i])),
            content,
        )
        .unwrap();
    }
    // An unreadable file: its error message names it.
    let locked = root.join(format!("{}.wasm", HOSTILE[0]));
    std::fs::write(&locked, b"\0asm").unwrap();
    root
}

#[test]
fn no_command_prints_a_raw_control_byte_from_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_tree(dir.path());
    let zip = dir.path().join("case.zip");
    let run = |args: &[&std::ffi::OsStr]| bin().args(args).output().unwrap();
    let os = |s: &str| std::ffi::OsString::from(s);

    let o = run(&[
        &os("collect"),
        &os("-v"),
        &os("--case-id"),
        &os("hostile"),
        &os("-o"),
        zip.as_os_str(),
        root.as_os_str(),
    ]);
    assert!(
        zip.exists(),
        "collect wrote no bundle: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_raw_controls("collect", &o);

    let mut wasm_args = vec![os("inspect")];
    for e in std::fs::read_dir(&root).unwrap() {
        wasm_args.push(e.unwrap().path().into_os_string());
    }
    wasm_args.push(dir.path().join("missing\x1b[31m.wasm").into_os_string());
    let refs: Vec<&std::ffi::OsStr> = wasm_args.iter().map(|s| s.as_os_str()).collect();
    assert_no_raw_controls("inspect", &run(&refs));

    let key = root.join(format!("{}.pub", HOSTILE[0]));
    assert_no_raw_controls(
        "scope",
        &run(&[
            &os("scope"),
            &os("-v"),
            &os("--key"),
            key.as_os_str(),
            root.as_os_str(),
            zip.as_os_str(),
        ]),
    );
    assert_no_raw_controls("keys", &run(&[&os("keys"), &os("-v"), root.as_os_str()]));

    // verify: a bundle whose entry name carries the escape sequence (same length as the name it
    // replaces, in both copies of the name, so the name itself is what verify reports).
    let mut b = std::fs::read(&zip).unwrap();
    let needle = b"custody.jsonl";
    let evil = b"\x1b[2J\x1b]0;\x07xyzw";
    assert_eq!(needle.len(), evil.len());
    let hits: Vec<usize> = b
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect();
    assert!(hits.len() >= 2);
    for i in hits {
        b[i..i + evil.len()].copy_from_slice(evil);
    }
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b).unwrap();
    let o = run(&[&os("verify"), bad.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(shown.contains("[2J"), "the name is shown, escaped: {shown}");
    assert_no_raw_controls("verify", &o);
    // A bundle path with control characters, on the error path too.
    let missing = dir.path().join("no\rsuch.zip");
    assert_no_raw_controls(
        "verify (missing)",
        &run(&[&os("verify"), missing.as_os_str()]),
    );
}
