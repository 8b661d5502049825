//! Command-line interface: the argument structs of every command and the glue from library
//! calls to terminal output. One file per command; `main.rs` only calls [`main`].

pub mod inspect_transparency;
pub mod report;
pub mod timeline;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

pub mod collect;
pub mod demo;
pub mod export;
pub mod generated;
pub mod inspect;
pub mod keys;
pub mod schema;
pub mod scope;
pub mod terminal;
pub mod verify;
pub mod verify_archive;

/// Process exit status, the scriptable contract documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// 0: ok, nothing wrong found.
    Ok,
    /// 1: an evidence problem was found (tampered, invalid, missing, a High/Critical finding).
    EvidenceProblem,
    /// 2: usage error or input that could not be read.
    InputError,
}

impl Status {
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::EvidenceProblem => 1,
            Status::InputError => 2,
        }
    }
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s.code())
    }
}

/// Heading under which `--help` lists the options every command accepts, once.
const GLOBAL: &str = "Global options";

/// Options every command accepts.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Print nothing but errors and the requested output; no progress bars.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// Colour in help and error messages: auto (on a terminal, unless NO_COLOR is set),
    /// always or never. Piped output is always plain.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t, help_heading = GLOBAL)]
    pub color: ColorWhen,
}

/// When to colour (`--color`).
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorWhen {
    #[default]
    Auto,
    Always,
    Never,
}

/// The one colour rule: `--color always` or `never` decides; otherwise colour only on a
/// terminal and only when `NO_COLOR` is unset or empty (<https://no-color.org>). Read from
/// the raw arguments, because the help and the parse errors that need it come before (or
/// instead of) a successful parse.
pub fn color_choice(args: &[OsString], no_color: Option<&std::ffi::OsStr>) -> clap::ColorChoice {
    let mut when = None;
    let mut it = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if let Some(v) = a.strip_prefix("--color=") {
            when = Some(v.to_owned());
        } else if a == "--color" {
            when = it.next().map(|v| v.into_owned());
        }
    }
    match when.as_deref() {
        Some("always") => clap::ColorChoice::Always,
        Some("never") => clap::ColorChoice::Never,
        _ if no_color.is_some_and(|v| !v.is_empty()) => clap::ColorChoice::Never,
        // clap colours only when the stream is a terminal.
        _ => clap::ColorChoice::Auto,
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "wsc-forensics",
    version,
    about = "Evidence collection, verification and reporting for signed WebAssembly modules",
    long_about = None,
    propagate_version = true,
    after_help = "Exit codes: 0 ok, 1 evidence problem found, 2 usage or input error.\n\
                  Run `wsc-forensics demo` for a sample incident end to end."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Collect inputs into a hashed evidence bundle (BagIt bag in a zip); prints its digest.
    #[command(after_help = "Examples:
  wsc-forensics collect -o case.zip --case-file case.toml modules/ keys/
  wsc-forensics collect -o IR-7.zip --case-id IR-7 -K signer.pub --sign-key examiner.sec modules/")]
    Collect(collect::CollectArgs),
    /// Verify that a bundle is complete and unaltered (exit 0 intact, 1 altered, 2 unreadable);
    /// several bundles or a folder of them: an archive audit.
    #[command(after_help = "Examples:
  wsc-forensics verify case.zip
  wsc-forensics verify --json --examiner-key examiner.pub IR-7.zip
  wsc-forensics verify -o fixity.jsonl case.zip IR-7.zip")]
    Verify(verify::VerifyArgs),
    /// What the tool sees in modules, detached signatures and key files: sections, signatures
    /// and verdicts, keys, findings (the forensic `wsc info`).
    #[command(after_help = "Examples:
  wsc-forensics inspect module.wasm
  wsc-forensics inspect -K signer.pub --json module.wasm module.wasm.sig")]
    Inspect(inspect::InspectArgs),
    /// A bundle's events in UTC order: Timesketch CSV, JSON Lines or a Markdown table
    /// (exit 1 when the bundle fails verification; the timeline is still written).
    #[command(after_help = "Examples:
  wsc-forensics timeline -o timeline.csv case.zip
  wsc-forensics timeline --json --from 2026-01-01 case.zip")]
    Timeline(timeline::TimelineArgs),
    /// Incident timeline, root-cause analysis, key-compromise notice, security advisory and
    /// metrics from a bundle, as Markdown and PDF (exit 1 when the bundle fails verification).
    #[command(after_help = "Examples:
  wsc-forensics report -o report/ case.zip
  wsc-forensics report -o report/ --force --format md case.zip")]
    Report(report::ReportArgs),
    /// A verified bundle as a CASE/UCO JSON-LD graph for other forensic tools (exit 1, nothing
    /// written, when the bundle fails verification).
    #[command(after_help = "Examples:
  wsc-forensics export --format case -o case.jsonld case.zip
  wsc-forensics export --format case --examiner-key examiner.pub -o IR-7.jsonld IR-7.zip")]
    Export(export::ExportArgs),
    /// Run the bundled sample incident (INC-1) end to end: collect → verify → timeline →
    /// report, into ./demo-out (or -o DIR).
    #[command(after_help = "Examples:
  wsc-forensics demo
  wsc-forensics demo -o demo-again/")]
    Demo(demo::DemoArgs),
    /// Audit key files (format, key id, owner, mode, findings); `keys baseline` / `keys check`
    /// keep a sha256sum-compatible record of them.
    #[command(after_help = "Examples:
  wsc-forensics keys keys/
  wsc-forensics keys --revoked revoked.txt --case-file case.toml --json keys/
  wsc-forensics keys baseline keys/ > keys.sha256
  wsc-forensics keys check --baseline keys.sha256 keys/")]
    Keys(keys::KeysArgs),
    /// Which modules did this key sign, and do those signatures still cover them? Writes the
    /// re-sign list.
    #[command(after_help = "Examples:
  wsc-forensics scope -K compromised.pub -o resign.txt modules/
  wsc-forensics scope -K c858d5ec82d976c190cb33d0 --json case.zip")]
    Scope(scope::ScopeArgs),
    /// Shell completion script (bash, zsh, fish, powershell) on stdout, generated from this
    /// program's own flags.
    #[command(after_help = "Examples:
  wsc-forensics completions bash > wsc-forensics.bash
  wsc-forensics completions zsh > _wsc-forensics")]
    Completions(generated::CompletionsArgs),
    /// Man pages generated from this program's own flags: the top page on stdout, or every
    /// page into -o DIR.
    #[command(after_help = "Examples:
  wsc-forensics man | man -l -
  wsc-forensics man -o man1/")]
    Man(generated::ManArgs),
}

/// The error and its causes on one line, leaving out a cause whose text the message before it
/// already contains (typed errors name their cause in their own message).
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    let mut last = line.clone();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !last.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        last = text;
    }
    line
}

/// Parses the command line, runs the command and returns its exit code.
pub fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let color = color_choice(&args, std::env::var_os("NO_COLOR").as_deref());
    let parsed = Cli::command()
        .color(color)
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let e = e.with_cmd(&Cli::command().color(color));
            let _ = e.print();
            return if e.use_stderr() {
                Status::InputError.into()
            } else {
                Status::Ok.into()
            };
        }
    };
    if let Some(path) = first_missing_input(&cli.command) {
        eprintln!(
            "wsc-forensics: error: {}: no such file or directory",
            terminal::escape_for_terminal(&path.display().to_string())
        );
        return Status::InputError.into();
    }
    match run(cli) {
        Ok(status) => status.into(),
        Err(e) => {
            eprint!("{}", error_text(&e));
            Status::InputError.into()
        }
    }
}

/// What a failed command prints on stderr: one line (escaped, see [`error_line`]); a TOML
/// syntax error (case file, runbook) also keeps toml's layout on the lines below: the line
/// of the file and a caret under the column, each line escaped on its own.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = format!(
        "wsc-forensics: error: {}\n",
        terminal::escape_for_terminal(&error_line(e))
    );
    let layout = e.chain().find_map(|c| {
        use crate::model::case::CaseFileError;
        use crate::report::runbook::RunbookError;
        use crate::report::templates::TemplateError;
        let runbook = match c.downcast_ref() {
            Some(TemplateError::Runbook(r)) => Some(r),
            _ => c.downcast_ref::<RunbookError>(),
        };
        match (c.downcast_ref(), runbook) {
            (Some(CaseFileError::Syntax { layout, .. }), _) => Some(layout),
            (_, Some(RunbookError::Parse { layout, .. })) => Some(layout),
            _ => None,
        }
    });
    if let Some(layout) = layout {
        // The quoted line and the caret; the position and the message are on the first line.
        for line in layout
            .lines()
            .filter(|l| l.contains(" |") || l.trim() == "|")
        {
            text.push_str(&terminal::escape_for_terminal(line));
            text.push('\n');
        }
    }
    text
}

/// The first path named on the command line that does not exist (a dangling symlink exists):
/// a typo is a usage error, reported before any work, for every command.
pub fn first_missing_input(command: &Command) -> Option<&Path> {
    use std::iter::once;
    let paths: Vec<&std::path::PathBuf> = match command {
        Command::Collect(a) => a
            .inputs
            .iter()
            .chain(&a.keys)
            .chain(&a.case_file)
            .chain(&a.sign_key)
            .chain(&a.trusted_root)
            .collect(),
        Command::Verify(a) => a
            .bundles
            .iter()
            .chain(&a.check.examiner_key)
            .chain(&a.expect_digests)
            .collect(),
        Command::Inspect(a) => a.files.iter().chain(&a.keys).chain(&a.signature).collect(),
        Command::Timeline(a) => vec![&a.bundle],
        Command::Report(a) => once(&a.bundle).chain(&a.templates).collect(),
        Command::Export(a) => once(&a.bundle).chain(&a.check.examiner_key).collect(),
        Command::Keys(a) => match &a.action {
            Some(keys::KeysAction::Baseline(b)) => b.inputs.iter().collect(),
            Some(keys::KeysAction::Check(c)) => once(&c.baseline).chain(&c.inputs).collect(),
            None => a.inputs.iter().chain(&a.revoked).chain(&a.case).collect(),
        },
        Command::Scope(a) => a.inputs.iter().chain(&a.keys).collect(),
        Command::Demo(_) | Command::Completions(_) | Command::Man(_) => Vec::new(),
    };
    paths
        .into_iter()
        .map(|p| p.as_path())
        .find(|p| std::fs::symlink_metadata(p).is_err())
}

fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Collect(a) => collect::run(a, &cli.global),
        Command::Verify(a) if a.is_archive() => verify_archive::run(&a, &cli.global),
        Command::Verify(a) => verify::run(a, &cli.global),
        Command::Inspect(args) => inspect::run(args, &cli.global),
        Command::Timeline(a) => timeline::run(a, &cli.global),
        Command::Report(a) => report::run(a, &cli.global),
        Command::Export(a) => export::run(a, &cli.global),
        Command::Demo(a) => demo::run(a, &cli.global),
        Command::Keys(args) => keys::run(&cli.global, args),
        Command::Scope(args) => scope::run(&cli.global, args),
        Command::Completions(a) => generated::completions(a),
        Command::Man(a) => generated::man(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_colour_rule() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        let no = Some(std::ffi::OsStr::new("1"));
        use clap::ColorChoice::*;
        assert_eq!(color_choice(&args(&["w", "keys"]), None), Auto);
        assert_eq!(color_choice(&args(&["w", "keys"]), no), Never);
        // An empty NO_COLOR does not count (no-color.org).
        assert_eq!(
            color_choice(&args(&["w"]), Some(std::ffi::OsStr::new(""))),
            Auto
        );
        assert_eq!(color_choice(&args(&["w", "--color", "never"]), None), Never);
        assert_eq!(
            color_choice(&args(&["w", "x", "--color=always"]), no),
            Always
        );
        // After `--` it is a file name.
        assert_eq!(
            color_choice(&args(&["w", "--", "--color=always"]), None),
            Auto
        );
    }

    #[test]
    fn every_command_speaks_one_flag_vocabulary() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            for a in sub.get_arguments() {
                let long = a.get_long();
                let short = a.get_short();
                // inspect's `--key` is the managed signer key of Sigstore evidence (#14), so its
                // module keys keep `-K/--public-key` until the two become one key list.
                let inspect_keys = name == "inspect"
                    && matches!(
                        (long, short),
                        (Some("public-key"), Some('K')) | (Some("key"), None)
                    );
                if inspect_keys {
                    continue;
                }
                match long {
                    Some("output") => assert_eq!(short, Some('o'), "{name} --output"),
                    Some("key") => assert_eq!(short, Some('K'), "{name} --key"),
                    Some("quiet") => assert_eq!(short, Some('q'), "{name} --quiet"),
                    Some("verbose") => assert_eq!(short, Some('v'), "{name} --verbose"),
                    // Old spellings survive only as hidden aliases.
                    Some("out" | "public-key" | "case" | "list") => {
                        panic!("{name}: --{} is not the shared spelling", long.unwrap())
                    }
                    _ => {}
                }
                if let Some(s) = short {
                    let want = match s {
                        'o' => "output",
                        'K' => "key",
                        'q' => "quiet",
                        'v' => "verbose",
                        _ => continue,
                    };
                    assert_eq!(long, Some(want), "{name} -{s}");
                }
            }
        }
        // The old spellings still parse.
        for argv in [
            &["w", "report", "--out", "r", "b.zip"][..],
            &["w", "demo", "--out", "d"],
            &["w", "inspect", "--public-key", "k.pub", "m.wasm"],
            &["w", "keys", "--case", "c.toml", "k"],
            &["w", "scope", "--key", "k.pub", "--list", "l.txt", "d"],
        ] {
            Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }

    #[test]
    fn a_cause_already_named_by_its_error_is_not_repeated() {
        let io = std::io::Error::other("No space left on device");
        let e = anyhow::Error::new(crate::bundle::writer::WriteError::Io {
            path: "/mnt/case.zip".into(),
            source: io,
        })
        .context("writing the bundle");
        assert_eq!(
            error_line(&e),
            "writing the bundle: /mnt/case.zip: No space left on device"
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_line(&plain), "outer: inner");
    }
}
