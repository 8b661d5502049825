//! `completions` and `man`: shell completion scripts and man pages generated from the clap
//! definitions in [`super::Cli`], so every flag is defined once and the help, the completions
//! and the man pages cannot disagree.

use super::{Cli, Status};
use clap::{Args, CommandFactory};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write every page (wsc-forensics.1 and wsc-forensics-COMMAND.1) into this folder;
    /// without it, the top page goes to stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace pages already in DIR (without it, an existing page is an error).
    #[arg(long, requires = "output")]
    pub force: bool,
}

const BIN: &str = "wsc-forensics";

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<Status> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, BIN, &mut std::io::stdout().lock());
    Ok(Status::Ok)
}

/// The page of the whole program, then one per command, each as (file name, roff text).
pub fn man_pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut top)?;
    pages.push((format!("{BIN}.1"), top));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{BIN}-{}", sub.get_name());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub.clone().name(name.clone())).render(&mut page)?;
        pages.push((format!("{name}.1"), page));
    }
    Ok(pages)
}

/// Writes the man pages into `args.output`, or the top page to stdout.
pub fn man(args: ManArgs) -> anyhow::Result<Status> {
    let pages = man_pages()?;
    let Some(dir) = args.output else {
        use std::io::Write;
        std::io::stdout().lock().write_all(&pages[0].1)?;
        return Ok(Status::Ok);
    };
    // Created inside the folder's handle, never through a link (io::output).
    let out = crate::io::output::OutputDir::create(&dir)?;
    for (name, text) in pages {
        out.write_file(&name, &text, args.force)?;
    }
    Ok(Status::Ok)
}
