//! The command line every command shares (issue #18): a missing input is exit 2 before any
//! work, one colour rule, shell completions and man pages generated from the clap definitions.

use crate::common::{bin, code, fixture, oracle_available};
use std::process::Output;

fn run(args: &[&str]) -> Output {
    bin().args(args).env_remove("NO_COLOR").output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_missing_input_is_exit_2_before_any_work_naming_the_path() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out.zip");
    let out = out.to_str().unwrap();
    let key = fixture("wsc/keys/test-key-a.pub");
    let key = key.to_str().unwrap();
    let module = fixture("wsc/modules/signed-a.wasm");
    let module = module.to_str().unwrap();
    let nope = "/nonexistent/typo.wasm";
    for argv in [
        &["collect", "-o", out, "--case-id", "X", nope][..],
        &["collect", "-o", out, "--case-id", "X", "-K", nope, module],
        &["verify", nope],
        &["inspect", module, nope],
        &["inspect", "-K", nope, module],
        &["timeline", nope],
        &["report", "-o", out, nope],
        &["keys", key, nope],
        &["keys", "--revoked", nope, key],
        &["keys", "check", "--baseline", nope],
        &["keys", "baseline", nope],
        &["scope", "-K", key, nope],
        &["scope", "--keys", nope, module],
    ] {
        let o = run(argv);
        assert_eq!(code(&o), 2, "{argv:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(
            e,
            format!("wsc-forensics: error: {nope}: no such file or directory\n"),
            "{argv:?}"
        );
        assert!(o.stdout.is_empty(), "{argv:?} did work");
    }
    assert!(!t.path().join("out.zip").exists(), "no bundle written");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let esc = |o: &Output| o.stderr.contains(&0x1b) || o.stdout.contains(&0x1b);
    // Piped (as here): plain, for help and for usage errors.
    assert!(!esc(&run(&["scope", "--help"])));
    assert!(!esc(&run(&["scope", "--no-such-flag"])));
    // `--color always` colours even a pipe; NO_COLOR and `--color never` win over a terminal.
    let o = run(&["--color", "always", "scope", "--no-such-flag"]);
    assert_eq!(code(&o), 2);
    assert!(esc(&o), "{}", stderr(&o));
    let o = bin()
        .args(["scope", "--no-such-flag"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!esc(&o));
    assert!(!esc(&run(&["scope", "--color=never", "--help"])));
}

#[test]
fn help_lists_global_options_once_under_their_heading_with_examples() {
    for command in [
        "collect",
        "verify",
        "inspect",
        "timeline",
        "report",
        "demo",
        "keys",
        "scope",
        "completions",
        "man",
    ] {
        let o = run(&[command, "--help"]);
        assert_eq!(code(&o), 0, "{command}");
        let help = String::from_utf8_lossy(&o.stdout);
        let heading = help.find("Global options:").expect(command);
        assert_eq!(help.matches("--quiet").count(), 1, "{command}");
        assert!(help.find("--quiet").unwrap() > heading, "{command}");
        assert!(
            help.contains(&format!("Examples:\n  wsc-forensics {command}")),
            "{command}: {help}"
        );
    }
}

#[test]
fn completion_scripts_are_generated_and_bash_loads_one() {
    let t = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run(&["completions", shell]);
        assert_eq!(code(&o), 0, "{shell}");
        let script = String::from_utf8(o.stdout).unwrap();
        for word in ["scope", "case-file", "output"] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
        std::fs::write(t.path().join(shell), script).unwrap();
    }
    if oracle_available("bash", &["--version"], "apt-get install bash") {
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg("source \"$1\" && complete -p wsc-forensics")
            .arg("bash")
            .arg(t.path().join("bash"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("wsc-forensics"));
    }
    assert_eq!(code(&run(&["completions", "tcsh"])), 2);
}

#[test]
fn man_pages_are_generated_for_every_command_and_man_renders_them() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("man1");
    let o = run(&["man", "-o", dir.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<String> = [
        "collect",
        "completions",
        "demo",
        "inspect",
        "keys",
        "man",
        "report",
        "scope",
        "timeline",
        "verify",
    ]
    .iter()
    .map(|c| format!("wsc-forensics-{c}.1"))
    .collect();
    want.push("wsc-forensics.1".into());
    want.sort();
    assert_eq!(names, want);
    // Without -o the top page goes to stdout.
    let top = run(&["man"]);
    assert_eq!(
        top.stdout,
        std::fs::read(dir.join("wsc-forensics.1")).unwrap()
    );
    if !oracle_available("man", &["--version"], "apt-get install man-db") {
        return;
    }
    for name in &names {
        let o = std::process::Command::new("man")
            .arg("-l")
            .arg(dir.join(name))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let page = String::from_utf8_lossy(&o.stdout);
        let title = name.trim_end_matches(".1");
        assert!(page.contains("SYNOPSIS"), "{name}: {page}");
        assert!(page.contains(title), "{name}");
    }
}
