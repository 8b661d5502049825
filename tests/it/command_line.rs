//! The command line every command shares (issue #18): a missing input is exit 2 before any
//! work, one colour rule, shell completions and man pages generated from the clap definitions.

use crate::common::{bin, code, fixture, oracle_available};
use std::process::Output;

fn run(args: &[&str]) -> Output {
    bin().args(args).env_remove("NO_COLOR").output().unwrap()
}

/// A temp folder whose name does not look like a temp file's (`.tmp…`), so a message naming
/// a temp file is told apart from one naming the test's own paths.
fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("cli-").tempdir().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_missing_input_is_exit_2_before_any_work_naming_the_path() {
    let t = tmp();
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
    // Defaults as a person writes them.
    let help = String::from_utf8(run(&["collect", "--help"]).stdout).unwrap();
    assert!(help.contains("[default: 64G]"), "{help}");
}

#[test]
fn completion_scripts_are_generated_and_bash_loads_one() {
    let t = tmp();
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
    let t = tmp();
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
        "export",
        "inspect",
        "keys",
        "man",
        "report",
        "scope",
        "timeline",
        "timestamp",
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

/// What each command does, for the shared-flag rules: (name, writes an output file or folder,
/// judges signatures with public keys, prints a `--json` document, reads a case file).
const COMMANDS: &[(&str, bool, bool, bool, bool)] = &[
    ("collect", true, true, true, true),
    ("verify", true, false, true, false),
    ("timestamp", true, false, false, false),
    ("inspect", false, true, true, false),
    ("timeline", true, false, true, false),
    ("report", true, false, true, false),
    ("export", true, false, false, false),
    ("demo", true, false, false, false),
    ("keys", false, false, true, true),
    ("scope", true, true, true, false),
    ("completions", false, false, false, false),
    ("man", true, false, false, false),
];

/// Every command accepts the shared flags with one spelling: `-q`, `-v`, `--color` everywhere;
/// `-o/--output` and `--force` where it writes; `-K/--key` where it takes public keys (inspect:
/// `-K/--public-key`, the documented exception); `--json` where it prints a document;
/// `--case-file` where it reads a case file. Read from the clap definitions, and parsed.
#[test]
fn every_command_accepts_the_shared_flags() {
    use clap::CommandFactory;
    let mut cli = wsc_forensics::cli::Cli::command();
    // Built: the global flags are propagated to every command, as the parser sees them.
    cli.build();
    let names: Vec<&str> = cli
        .get_subcommands()
        .map(|s| s.get_name())
        .filter(|n| *n != "help")
        .collect();
    let listed: Vec<&str> = COMMANDS.iter().map(|c| c.0).collect();
    assert_eq!(names, listed, "a command without a row here");
    for &(name, writes, keys, json, case_file) in COMMANDS {
        let sub = cli.find_subcommand(name).unwrap();
        let arg = |long: &str| sub.get_arguments().find(|a| a.get_long() == Some(long));
        for global in ["quiet", "verbose", "color"] {
            assert!(arg(global).is_some(), "{name} --{global}");
        }
        assert_eq!(arg("quiet").unwrap().get_short(), Some('q'));
        assert_eq!(arg("verbose").unwrap().get_short(), Some('v'));
        if writes {
            let o = arg("output").unwrap_or_else(|| panic!("{name} has no --output"));
            assert_eq!(o.get_short(), Some('o'), "{name}");
            assert!(arg("force").is_some(), "{name} writes but has no --force");
        } else {
            assert!(arg("output").is_none() && arg("force").is_none(), "{name}");
        }
        if keys {
            let (long, short) = if name == "inspect" {
                ("public-key", 'K')
            } else {
                ("key", 'K')
            };
            let k = arg(long).unwrap_or_else(|| panic!("{name} has no --{long}"));
            assert_eq!(k.get_short(), Some(short), "{name}");
            assert!(
                matches!(k.get_action(), clap::ArgAction::Append),
                "{name} -K is not repeatable"
            );
        } else {
            assert!(sub.get_arguments().all(|a| a.get_short() != Some('K')));
        }
        assert_eq!(arg("json").is_some(), json, "{name} --json");
        assert_eq!(arg("case-file").is_some(), case_file, "{name} --case-file");
        // And they parse, before or after the command name.
        let mut argv = vec!["wsc-forensics", "-q", name, "-v", "--color", "never"];
        argv.extend(match name {
            "collect" => &["-o", "c.zip", "--force", "-K", "a.pub", "-K", "b.pub", "x"][..],
            "verify" => &["--json", "c.zip"],
            "inspect" => &["--json", "-K", "a.pub", "m.wasm"],
            "timeline" => &["--json", "-o", "t.jsonl", "--force", "c.zip"],
            "report" => &["--json", "-o", "r/", "--force", "c.zip"],
            "export" => &["--format", "case", "-o", "c.jsonld", "--force", "c.zip"],
            "demo" => &["-o", "d/", "--force"],
            "keys" => &["--json", "--case-file", "case.toml", "k/"],
            "scope" => &["--json", "-K", "a.pub", "-o", "l.txt", "--force", "m/"],
            "completions" => &["bash"],
            "timestamp" => &["--request", "-o", "c.tsq", "--force", "c.zip"],
            _ => &["-o", "man1/", "--force"],
        });
        <wsc_forensics::cli::Cli as clap::Parser>::try_parse_from(&argv)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }
    // `keys check` prints a document too.
    let check = cli
        .find_subcommand("keys")
        .and_then(|k| k.find_subcommand("check"))
        .unwrap();
    assert!(check.get_arguments().any(|a| a.get_long() == Some("json")));
}

/// Exactly one `wsc-forensics: error:` line naming `path`, no path of a temp file, no phrase
/// said twice in a row (`x: x:`).
fn one_clean_error(o: &Output, path: &str, what: &str) -> String {
    assert_eq!(code(o), 2, "{what}: {}", stderr(o));
    let e = stderr(o);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: {e}");
    let line = lines[0];
    assert!(line.starts_with("wsc-forensics: error: "), "{what}: {line}");
    assert!(line.contains(path), "{what}: {line} does not name {path}");
    for temp in [".partial", ".tmp", "/tmp/.", "at path"] {
        assert!(!line.contains(temp), "{what} names a temp file: {line}");
    }
    let parts: Vec<&str> = line.split(": ").collect();
    for w in parts.windows(2) {
        assert_ne!(w[0], w[1], "{what}: doubled {:?} in {line}", w[0]);
    }
    for phrase in ["not a readable", "error:", "no such file"] {
        assert!(
            line.matches(phrase).count() <= 1,
            "{what}: {phrase:?} twice in {line}"
        );
    }
    line.to_owned()
}

#[test]
fn errors_name_the_users_path_once_and_never_a_temp_file() {
    let t = tmp();
    let d = t.path();
    let module = fixture("wsc/modules/signed-a.wasm");
    let module = module.to_str().unwrap();
    let key = fixture("wsc/keys/test-key-a.pub");
    let key = key.to_str().unwrap();
    let notes = d.join("notes.txt");
    std::fs::write(&notes, "notes\n").unwrap();
    let notes = notes.to_str().unwrap();
    let bundle = d.join("case.zip");
    let bundle = bundle.to_str().unwrap();
    let o = run(&["collect", "-o", bundle, "--case-id", "X", module]);
    assert!(code(&o) <= 1, "{}", stderr(&o));

    // The bundle's folder does not exist: named, not the hidden temp file beside it.
    let o = run(&[
        "collect",
        "-o",
        "/nonexistent/dir/out.zip",
        "--case-id",
        "X",
        module,
    ]);
    let line = one_clean_error(&o, "/nonexistent/dir/out.zip", "collect -o /nonexistent/…");
    assert!(line.contains("folder /nonexistent/dir"), "{line}");
    // report/demo -o naming a file: said so, not "File exists (os error 17)".
    for argv in [&["report", "-o", notes, bundle][..], &["demo", "-o", notes]] {
        let o = run(argv);
        let line = one_clean_error(&o, notes, &format!("{argv:?}"));
        assert!(line.contains("is not a folder"), "{line}");
        assert!(!line.contains("os error"), "{line}");
    }
    // A file that is no bundle, to the reporting commands: its path once, one heading.
    let reports = d.join("r");
    for command in ["timeline", "report"] {
        let mut argv = vec![command];
        if command == "report" {
            argv.extend(["-o", reports.to_str().unwrap()]);
        }
        argv.push(notes);
        let o = bin().args(&argv).output().unwrap();
        let line = one_clean_error(&o, notes, command);
        assert_eq!(line.matches(notes).count(), 1, "{line}");
        assert!(line.contains("not a readable bundle"), "{line}");
    }
    // The re-sign list's folder does not exist: the list is named, not a temp file.
    let o = run(&["scope", "-K", key, "-o", "/nonexistent/resign.txt", module]);
    one_clean_error(&o, "/nonexistent/resign.txt", "scope -o /nonexistent/…");
    // An existing list is kept without --force (and replaced with it).
    let list = d.join("resign.txt");
    std::fs::write(&list, "old\n").unwrap();
    let l = list.to_str().unwrap();
    let o = run(&["scope", "-K", key, "-o", l, module]);
    let line = one_clean_error(&o, "resign.txt", "scope -o existing");
    assert!(line.contains("--force"), "{line}");
    assert_eq!(std::fs::read_to_string(&list).unwrap(), "old\n");
    let o = run(&["scope", "-K", key, "-o", l, "--force", module]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&list).unwrap(),
        format!("{module}\n")
    );
    // No case id: said after the inputs were found, in one line.
    let o = run(&["collect", "-o", d.join("x.zip").to_str().unwrap(), module]);
    let line = one_clean_error(&o, "--case-id", "collect without a case id");
    assert!(line.contains("no case id"), "{line}");
}

/// A collect that would collect nothing is a usage error, and writes no bundle (an empty one
/// would verify as intact).
#[test]
fn a_collect_of_nothing_is_exit_2_and_writes_no_bundle() {
    let t = tmp();
    let empty = t.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let links = t.path().join("links");
    std::fs::create_dir(&links).unwrap();
    std::os::unix::fs::symlink(fixture("wsc/modules/base.wasm"), links.join("m.wasm")).unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (input, seen) in [(&empty, None), (&links, Some("m.wasm"))] {
        let bundle = out.join("case.zip");
        let o = run(&[
            "collect",
            "-o",
            bundle.to_str().unwrap(),
            "--case-id",
            "X",
            input.to_str().unwrap(),
        ]);
        let line = one_clean_error(&o, "nothing to collect", &input.display().to_string());
        assert!(line.contains("no regular file under the inputs"), "{line}");
        if let Some(name) = seen {
            assert!(
                line.contains(name) && line.contains("symbolic link"),
                "{line}"
            );
        }
        assert!(o.stdout.is_empty());
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert!(left.is_empty(), "a bundle or temp file was left: {left:?}");
    }
    // No input at all.
    let o = run(&["collect", "-o", "x.zip", "--case-id", "X"]);
    one_clean_error(&o, "INPUT", "collect without inputs");
}

/// A TOML syntax error keeps toml's layout: the position on the error line, then the file's
/// line and a caret under the column (case.toml for collect and keys; a runbook override).
#[test]
fn toml_errors_keep_their_line_and_caret() {
    let t = tmp();
    let case = t.path().join("case.toml");
    std::fs::write(&case, "case_id = \"IR-1\"\nexaminer = \n").unwrap();
    let c = case.to_str().unwrap();
    let keys = fixture("wsc/keys/test-key-a.pub");
    let module = fixture("wsc/modules/base.wasm");
    let out = t.path().join("c.zip");
    let want = format!(
        "wsc-forensics: error: {c}: line 2, column 12: string values must be quoted, expected \
         literal string\n  |\n2 | examiner = \n  |            ^\n"
    );
    for argv in [
        vec!["keys", "--case-file", c, keys.to_str().unwrap()],
        vec![
            "collect",
            "-o",
            out.to_str().unwrap(),
            "--case-file",
            c,
            module.to_str().unwrap(),
        ],
    ] {
        let o = run(&argv);
        assert_eq!(code(&o), 2, "{argv:?}");
        assert_eq!(stderr(&o), want, "{argv:?}");
    }
    // A runbook override in --templates: the same layout.
    let bundle = t.path().join("b.zip");
    let o = run(&[
        "collect",
        "-o",
        bundle.to_str().unwrap(),
        "--case-id",
        "X",
        module.to_str().unwrap(),
    ]);
    assert!(code(&o) <= 1);
    let templates = t.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("runbook.toml"), "[[controls]\n").unwrap();
    let o = run(&[
        "report",
        "--templates",
        templates.to_str().unwrap(),
        "-o",
        t.path().join("r").to_str().unwrap(),
        "--format",
        "md",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    let lines: Vec<&str> = e.lines().collect();
    assert!(lines[0].contains("runbook.toml: line 1, column"), "{e}");
    assert_eq!(lines[1..].len(), 3, "{e}");
    assert!(lines[2].starts_with("1 | [[controls]"), "{e}");
    assert!(lines[3].trim_end().ends_with('^'), "{e}");
}

/// `inspect` names an evidence bundle (use verify) and a file it does not recognise, exit 2 for
/// each (nothing about it could be checked); a module that does not parse is a Medium INC-2
/// finding, in inspect and in collect.
#[test]
fn inspect_names_bundles_and_unknown_files_and_broken_modules_are_findings() {
    let t = tmp();
    let bundle = t.path().join("case.zip");
    let b = bundle.to_str().unwrap();
    let broken = t.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm\x01\0\0\0\x01\xff").unwrap();
    let noise = t.path().join("noise.bin");
    std::fs::write(&noise, [0x8bu8, 0x13, 0x77, 0x02, 0xfe, 0x41, 0x00, 0x9c]).unwrap();
    let o = run(&[
        "collect",
        "--json",
        "-o",
        b,
        "--case-id",
        "X",
        broken.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(doc["findings_by_severity"]["medium"], 1, "{doc:#}");
    let o = run(&["timeline", "--json", b]);
    let events = String::from_utf8(o.stdout).unwrap();
    assert!(
        events.contains("\"finding.module-does-not-parse\""),
        "{events}"
    );

    let o = run(&["inspect", b]);
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o),
        format!(
            "wsc-forensics: {b}: an evidence bundle (BagIt bag in a zip): use `wsc-forensics \
             verify`, then `timeline` or `report`\n"
        )
    );
    let o = run(&["inspect", noise.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(e.contains("noise.bin: not recognised"), "{e}");
    assert!(!e.contains("attachment"), "{e}");

    let o = run(&["inspect", "--json", broken.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "module-does-not-parse", "{doc:#}");
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["incident_type"], "INC-2");
    assert!(f["message"].as_str().unwrap().contains("byte offset 10"));
}
