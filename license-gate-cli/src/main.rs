//! `license-gate`: the command line of the license-gate framework.
//!
//! - `license-gate hardware-id [--components]`: this machine's hardware ID.
//! - `license-gate offline verify|decode`: ExisOne offline activation codes.
//! - `license-gate exisone validate|activate|deactivate|features|seats`:
//!   calls through the ExisOne client.
//! - `license-gate ecosire validate|activate|deactivate`: calls through the
//!   ECOSIRE client.
//! - `license-gate emulate exisone|ecosire`: a loopback emulator with demo
//!   licenses, until Ctrl-C.
//!
//! Every failure prints one `error: ...` line on stderr and exits non-zero
//! (1: not valid or refused, 2: usage or configuration, 3: server not
//! reachable). Secrets are read from files or the environment, never from
//! flag values, and never printed; license keys are masked.

mod cli;
mod cmd;
mod error;
mod input;
mod report;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, EmulateCommand, OfflineCommand};
use crate::error::{CliError, CliResult, Kind};

fn main() -> ExitCode {
    // A bug must still end in one readable line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{place}; please report this bug");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with code 0, usage errors to stderr with 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            error.kind.exit_code()
        }
    }
}

/// Runs the parsed command.
fn run(cli: &Cli) -> CliResult {
    let json = cli.json;
    match &cli.command {
        Command::HardwareId(args) => cmd::hardware::run(args, json),
        Command::Offline(OfflineCommand::Verify(args)) => cmd::offline::verify(args, json),
        Command::Offline(OfflineCommand::Decode(args)) => cmd::offline::decode(args, json),
        Command::Exisone(args) => runtime()?.block_on(cmd::exisone::run(args, json)),
        Command::Ecosire(args) => runtime()?.block_on(cmd::ecosire::run(args, json)),
        Command::Emulate(EmulateCommand::Exisone(args)) => {
            runtime()?.block_on(cmd::emulate::exisone(args, json))
        }
        Command::Emulate(EmulateCommand::Ecosire(args)) => {
            runtime()?.block_on(cmd::emulate::ecosire(args, json))
        }
    }
}

/// A small runtime on this thread for the network commands.
fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError {
            kind: Kind::Unavailable,
            message: format!("could not start the async runtime: {e}"),
        })
}
