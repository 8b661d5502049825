//! Command-line interface: the argument structs of every command and the glue from library
//! calls to terminal output. One file per command; `main.rs` only calls [`main`].

pub mod inspect_transparency;
pub mod report;
pub mod timeline;

use clap::{Args, Parser, Subcommand};
use std::process::ExitCode;

pub mod collect;
pub mod demo;
pub mod inspect;
pub mod keys;
pub mod scope;
pub mod terminal;
pub mod verify;

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

/// Options every command accepts.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing but errors and the requested output; no progress bars.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Parser, Debug)]
#[command(
    name = "wsc-forensics",
    version,
    about = "Evidence collection, verification and reporting for signed WebAssembly modules",
    long_about = None,
    propagate_version = true
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
    Collect(collect::CollectArgs),
    /// Verify that a bundle is complete and unaltered (exit 0 intact, 1 altered, 2 unreadable).
    Verify(verify::VerifyArgs),
    /// What the tool sees in modules, detached signatures and key files: sections, signatures
    /// and verdicts, keys, findings (the forensic `wsc info`).
    Inspect(inspect::InspectArgs),
    /// A bundle's events in UTC order: Timesketch CSV, JSON Lines or a Markdown table
    /// (exit 1 when the bundle fails verification; the timeline is still written).
    Timeline(timeline::TimelineArgs),
    /// Incident timeline, root-cause analysis, key-compromise notice, security advisory and
    /// metrics from a bundle, as Markdown and PDF (exit 1 when the bundle fails verification).
    Report(report::ReportArgs),
    /// Run the bundled sample incident (INC-1) end to end: collect → verify → timeline →
    /// report, into ./demo-out (or --out DIR).
    Demo(demo::DemoArgs),
    /// Audit key files (format, key id, owner, mode, findings); `keys baseline` / `keys check`
    /// keep a sha256sum-compatible record of them.
    Keys(keys::KeysArgs),
    /// Which modules did this key sign, and do those signatures still cover them? Writes the
    /// re-sign list.
    Scope(scope::ScopeArgs),
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Status::InputError.into()
            } else {
                Status::Ok.into()
            };
        }
    };
    match run(cli) {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!(
                "wsc-forensics: error: {}",
                terminal::escape_for_terminal(&error_line(&e))
            );
            Status::InputError.into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Collect(a) => collect::run(a, &cli.global),
        Command::Verify(a) => verify::run(a, &cli.global),
        Command::Inspect(args) => inspect::run(args, &cli.global),
        Command::Timeline(a) => timeline::run(a, &cli.global),
        Command::Report(a) => report::run(a, &cli.global),
        Command::Demo(a) => demo::run(a, &cli.global),
        Command::Keys(args) => keys::run(&cli.global, args),
        Command::Scope(args) => scope::run(&cli.global, args),
    }
}

#[cfg(test)]
mod tests {
    use super::error_line;

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
