//! The `companion` binary: everything lives in the library; this only hands
//! over the command line and turns the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    practice_companion::cli::main()
}
