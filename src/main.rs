//! The `wsc-forensics` binary: parse arguments, run one command, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    wsc_forensics::cli::main()
}
