//! The README and the help say the same thing and both work (issue #18): the README is at most
//! 150 lines, every command and flag it names exists in the clap definitions, its examples are
//! examples of the help (`after_help`), and every help example runs on the fixtures.

use crate::common::{fixture, oracle_available};
use clap::CommandFactory;
use std::path::{Path, PathBuf};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// Every `wsc-forensics …` example line of every command's help, in command order.
fn help_examples() -> Vec<String> {
    let cli = wsc_forensics::cli::Cli::command();
    let mut out = Vec::new();
    for sub in cli.get_subcommands() {
        let help = sub
            .get_after_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        let examples: Vec<String> = help
            .lines()
            .skip_while(|l| l.trim() != "Examples:")
            .skip(1)
            .map(str::trim)
            .filter(|l| l.starts_with("wsc-forensics "))
            .map(str::to_owned)
            .collect();
        assert!(!examples.is_empty(), "{} has no examples", sub.get_name());
        out.extend(examples);
    }
    out
}

/// The command lines of the README's `sh` blocks that run this program.
fn readme_examples(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line.trim() == "```sh";
            continue;
        }
        if in_sh && line.starts_with("wsc-forensics ") {
            out.push(line.split("  #").next().unwrap().trim().to_owned());
        }
    }
    out
}

#[test]
fn readme_is_short_and_its_examples_are_the_helps() {
    let text = readme();
    let lines = text.lines().count();
    assert!(lines <= 150, "README.md is {lines} lines (at most 150)");
    let help = help_examples();
    let examples = readme_examples(&text);
    assert!(examples.len() >= 4, "{examples:?}");
    for e in &examples {
        assert!(
            help.contains(e),
            "README example `{e}` is not an example in any command's --help"
        );
    }
}

/// Long and short flags a command (or one of its own subcommands, or the globals) accepts.
fn flags_of(cmd: &clap::Command) -> Vec<String> {
    let mut flags = Vec::new();
    let mut add = |c: &clap::Command| {
        for a in c.get_arguments() {
            if let Some(l) = a.get_long() {
                flags.push(format!("--{l}"));
            }
            if let Some(s) = a.get_short() {
                flags.push(format!("-{s}"));
            }
            for alias in a.get_all_aliases().unwrap_or_default() {
                flags.push(format!("--{alias}"));
            }
        }
    };
    add(cmd);
    for sub in cmd.get_subcommands() {
        add(sub);
    }
    flags.extend(["--help", "-h", "--version", "-V"].map(String::from));
    flags
}

/// Every `wsc-forensics WORD …` in the README (code blocks and inline code) names a command,
/// and every flag after it is one that command takes; every other flag in inline code is one
/// some command takes.
#[test]
fn every_command_and_flag_the_readme_names_exists() {
    let cli = wsc_forensics::cli::Cli::command();
    let all_flags: Vec<String> = std::iter::once(&cli)
        .chain(cli.get_subcommands())
        .flat_map(flags_of)
        .collect();
    let text = readme();
    let mut checked_commands = 0;
    let mut checked_flags = 0;
    for line in text.lines() {
        // Uses of the program: in a code block line or inline code (not in a `# comment`).
        let line = line.split(" # ").next().unwrap();
        let mut rest = line;
        while let Some(i) = rest.find("wsc-forensics ") {
            let after = &rest[i + "wsc-forensics ".len()..];
            let end = after.find(['`', '#', '|', '→']).unwrap_or(after.len());
            let words: Vec<&str> = after[..end].split_whitespace().collect();
            rest = &after[end..];
            let Some(name) = words.first() else { continue };
            if *name == "help" || name.starts_with('-') || name.chars().any(|c| c.is_uppercase()) {
                continue;
            }
            let sub = cli
                .find_subcommand(name)
                .unwrap_or_else(|| panic!("README names no such command `{name}`: {line}"));
            checked_commands += 1;
            let flags = flags_of(sub);
            for w in &words[1..] {
                if w.starts_with('-') && w.len() > 1 {
                    let flag = w.split('=').next().unwrap();
                    assert!(
                        flags.iter().any(|f| f == flag),
                        "README: `{name}` has no flag `{flag}`: {line}"
                    );
                    checked_flags += 1;
                }
            }
        }
        // The command table: its rows start with the command in inline code (`scope -K KEY
        // DIR_OR_BUNDLE…`, `keys baseline`).
        if line.starts_with("| `") {
            for span in line.split('`').skip(1).step_by(2) {
                let words: Vec<&str> = span.split_whitespace().collect();
                let name = words[0];
                let sub = cli
                    .find_subcommand(name)
                    .unwrap_or_else(|| panic!("README's table names no command `{name}`"));
                checked_commands += 1;
                let flags = flags_of(sub);
                for w in words[1..].iter().map(|w| w.trim_matches(['[', ']'])) {
                    if w.starts_with('-') {
                        assert!(flags.iter().any(|f| f == w), "`{name}` has no `{w}`");
                        checked_flags += 1;
                    } else if w.chars().all(|c| c.is_ascii_lowercase()) {
                        assert!(
                            sub.find_subcommand(w).is_some(),
                            "`{name}` has no subcommand `{w}`"
                        );
                    }
                }
            }
            continue;
        }
        // Flags alone in inline code: `--json`, `-q`, `-o DIR`.
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with('-') && !span.contains("wsc-forensics") {
                let flag = span.split([' ', '/', '=']).next().unwrap();
                if flag.len() > 1
                    && flag
                        .chars()
                        .nth(1)
                        .is_some_and(|c| c.is_alphabetic() || c == '-')
                {
                    assert!(
                        all_flags.iter().any(|f| f == flag),
                        "README names no such flag `{flag}`: {line}"
                    );
                    checked_flags += 1;
                }
            }
        }
    }
    assert!(checked_commands >= 10, "{checked_commands}");
    assert!(checked_flags >= 10, "{checked_flags}");
}

/// A folder holding what the help examples name, made from the fixtures: `modules/`, `keys/`,
/// `case.toml`, `signer.pub` and `compromised.pub` (test key A), `examiner.sec`/`.pub` (the
/// bundle-signer test key), `module.wasm` and its detached `module.wasm.sig`, `revoked.txt`.
fn stage(dir: &Path) {
    let copy_dir = |from: &str, to: &str, keep: &dyn Fn(&str) -> bool| {
        std::fs::create_dir(dir.join(to)).unwrap();
        for e in std::fs::read_dir(fixture(from)).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if keep(&name) {
                std::fs::copy(e.path(), dir.join(to).join(&name)).unwrap();
            }
        }
    };
    copy_dir("wsc/modules", "modules", &|n| {
        n.ends_with(".wasm") || n.ends_with(".sig")
    });
    copy_dir("wsc/keys", "keys", &|n| !n.ends_with(".txt"));
    let files: [(&str, PathBuf); 7] = [
        ("case.toml", fixture("demo/case.toml")),
        ("signer.pub", fixture("wsc/keys/test-key-a.pub")),
        ("compromised.pub", fixture("wsc/keys/test-key-a.pub")),
        (
            "examiner.sec",
            fixture("wsc/keys/test-key-bundle-signer.sec"),
        ),
        (
            "examiner.pub",
            fixture("wsc/keys/test-key-bundle-signer.pub"),
        ),
        ("module.wasm", fixture("wsc/modules/detached-a.wasm")),
        ("module.wasm.sig", fixture("wsc/modules/detached-a.sig")),
    ];
    for (name, from) in files {
        std::fs::copy(from, dir.join(name)).unwrap();
    }
    // A revocation list: test key B's raw public key (a Critical finding for keys/).
    let b = std::fs::read(fixture("wsc/keys/test-key-b.pub")).unwrap();
    let line = b[1..]
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect::<String>();
    std::fs::write(dir.join("revoked.txt"), format!("# revoked\n{line}\n")).unwrap();
}

/// Every help example, run in order (collect first: later ones read its bundles) by `bash` in a
/// staged folder with this build first on PATH: none is a usage error (exit 0, or 1 where the
/// fixtures hold what the command reports), and each writes what it says.
#[test]
fn every_help_example_runs_on_the_fixtures() {
    if !oracle_available("bash", &["--version"], "apt-get install bash") {
        return;
    }
    let have_man = oracle_available("man", &["--version"], "apt-get install man-db");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    stage(&dir);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_wsc-forensics"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for example in help_examples() {
        if example.contains("| man ") && !have_man {
            continue;
        }
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {example}"))
            .current_dir(&dir)
            .env("PATH", &path)
            .env("HOME", t.path())
            .env("MANPAGER", "cat")
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let code = o.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 1, "`{example}` exited {code}:\n{err}");
        assert!(!err.contains("error:"), "`{example}`:\n{err}");
        ran += 1;
    }
    assert!(ran >= 20, "{ran} examples ran");
    // What they wrote.
    for made in [
        "case.zip",
        "IR-7.zip",
        "fixity.jsonl",
        "timeline.csv",
        "report/root-cause-analysis.md",
        "report/root-cause-analysis.pdf",
        "case.jsonld",
        "IR-7.jsonld",
        "demo-out/reports/timeline.csv",
        "demo-again/reports/metrics.md",
        "keys.sha256",
        "resign.txt",
        "wsc-forensics.bash",
        "_wsc-forensics",
        "man1/wsc-forensics-collect.1",
    ] {
        assert!(dir.join(made).exists(), "no {made}");
    }
    let resign = std::fs::read_to_string(dir.join("resign.txt")).unwrap();
    assert!(resign.contains("modules/signed-a.wasm"), "{resign}");
}
