//! `license-gate`: the command line of the license-gate framework.
//!
//! - `license-gate hardware-id [--components]`: this machine's hardware ID.
//! - `license-gate secret new [--var NAME]`: a fresh vendor secret for
//!   `embed_secret!`, with the lines that give it to the build.
//! - `license-gate offline verify|decode|mint`: ExisOne offline activation codes.
//! - `license-gate exisone validate|activate|deactivate|features|seats|generate-key|ticket`:
//!   calls through the ExisOne client.
//! - `license-gate ecosire validate|activate|deactivate`: calls through the
//!   ECOSIRE client.
//! - `license-gate watch exisone|ecosire`: a real gate, printing each state
//!   change as a JSON line.
//! - `license-gate emulate exisone|ecosire` (feature `emulate`): a loopback
//!   emulator shaped by flags and changed through commands on stdin.
//!
//! Every failure prints one `error: ...` line on stderr and exits non-zero
//! (1: not valid or refused, 2: usage or configuration, 3: server not
//! reachable); with `--json` it is also one `{"ok": false, "error": {...}}`
//! object on stdout. Secrets are read from files or the environment, never
//! from flag values, and never printed (but the fresh vendor secret of
//! `secret new`); license keys are masked.

mod cli;
mod cmd;
mod error;
mod input;
mod report;

use std::process::ExitCode;

use clap::Parser;
use serde_json::{Map, Value, json};

use crate::cli::{Cli, Command, EcosireConnection, ExisOneConnection, OfflineCommand};
use crate::error::{CliError, CliResult};
use crate::report::{Report, print_out};

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
        Err(error) => return parse_failure(&error),
    };
    let json = cli.json;
    // Streaming commands print one JSON value a line; their last word too.
    let compact = matches!(cli.command, Command::Watch(_)) || is_emulate(&cli.command);
    match run(&cli) {
        Ok(Some(report)) => {
            if json {
                print_json(report.to_json(), None, compact);
            } else {
                report.print(false);
            }
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                let fields = error
                    .report
                    .as_deref()
                    .map(Report::to_json)
                    .unwrap_or_else(|| Value::Object(Map::new()));
                print_json(fields, Some(&error), compact);
            } else if let Some(report) = &error.report {
                report.print(false);
            }
            eprintln!("{error}");
            error.kind.exit_code()
        }
    }
}

/// Whether the command is `emulate` (absent without the feature).
fn is_emulate(command: &Command) -> bool {
    #[cfg(feature = "emulate")]
    {
        matches!(command, Command::Emulate(_))
    }
    #[cfg(not(feature = "emulate"))]
    {
        let _ = command;
        false
    }
}

/// Prints the one JSON object of an outcome: the fields, `ok`, and the
/// error; on one line when `compact`.
fn print_json(fields: Value, error: Option<&CliError>, compact: bool) {
    let mut object = match fields {
        Value::Object(map) => map,
        other => {
            let mut map = Map::new();
            map.insert("result".to_owned(), other);
            map
        }
    };
    object.insert("ok".to_owned(), Value::Bool(error.is_none()));
    if let Some(error) = error {
        object.insert("error".to_owned(), error.to_json());
    }
    let object = Value::Object(object);
    let text = if compact {
        object.to_string()
    } else {
        serde_json::to_string_pretty(&object).unwrap_or_default()
    };
    print_out(&text);
}

/// Help and version go to stdout with code 0; usage errors to stderr with 2,
/// and with `--json` also as the error object on stdout.
fn parse_failure(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let code = u8::try_from(error.exit_code()).unwrap_or(2);
    let wants_json = std::env::args_os().any(|a| a == "--json");
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if wants_json && !informational {
        let cli_error = CliError::usage(usage_message(&error.render().to_string()));
        print_json(json!({}), Some(&cli_error), false);
    }
    let _ = error.print();
    ExitCode::from(code)
}

/// clap's rendered usage error as one line for the JSON error object, with
/// all of its detail: the message with the items listed under it (the
/// missing arguments' names), each tip, and the usage line.
///
/// ```text
/// error: the following required arguments were not provided:
///   <KEY>
///
/// Usage: license-gate exisone validate <KEY>
///
/// For more information, try '--help'.
/// ```
///
/// becomes `the following required arguments were not provided: <KEY>;
/// usage: license-gate exisone validate <KEY>; see --help`.
fn usage_message(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for paragraph in rendered.split("\n\n") {
        let mut lines = paragraph.lines().map(str::trim).filter(|l| !l.is_empty());
        let Some(first) = lines.next() else { continue };
        if first.starts_with("For more information") {
            continue;
        }
        if let Some(usage) = first.strip_prefix("Usage:") {
            // Further lines are other forms of the same usage.
            parts.push(format!("usage: {}", usage.trim()));
            continue;
        }
        let head = first.strip_prefix("error: ").unwrap_or(first);
        let items: Vec<&str> = lines.collect();
        parts.push(if items.is_empty() {
            head.to_owned()
        } else {
            format!("{head} {}", items.join(", "))
        });
    }
    if parts.is_empty() {
        parts.push("wrong usage".to_owned());
    }
    parts.push("see --help".to_owned());
    parts.join("; ")
}

/// Runs the parsed command: `Some(report)` to print, `None` when the
/// command printed its own output.
fn run(cli: &Cli) -> CliResult<Option<Report>> {
    let json = cli.json;
    match &cli.command {
        Command::HardwareId(args) => cmd::hardware::run(args, json),
        Command::Secret(cli::SecretCommand::New(args)) => cmd::secret::new(args, json),
        Command::Offline(OfflineCommand::Verify(args)) => cmd::offline::verify(args).map(Some),
        Command::Offline(OfflineCommand::Decode(args)) => cmd::offline::decode(args, json),
        Command::Offline(OfflineCommand::Mint(args)) => cmd::offline::mint(args).map(Some),
        Command::Exisone(args) => {
            refuse_secret_flags_exisone(&args.connection)?;
            runtime()?.block_on(cmd::exisone::run(args)).map(Some)
        }
        Command::Ecosire(args) => {
            refuse_secret_flags_ecosire(&args.connection)?;
            runtime()?.block_on(cmd::ecosire::run(args)).map(Some)
        }
        Command::Watch(cli::WatchCommand::Exisone(args)) => {
            refuse_secret_flags_exisone(&args.connection)?;
            runtime()?
                .block_on(cmd::watch::exisone(args))
                .map(|()| None)
        }
        Command::Watch(cli::WatchCommand::Ecosire(args)) => {
            refuse_secret_flags_ecosire(&args.connection)?;
            runtime()?
                .block_on(cmd::watch::ecosire(args))
                .map(|()| None)
        }
        #[cfg(feature = "emulate")]
        Command::Emulate(cli::EmulateCommand::Exisone(args)) => runtime()?
            .block_on(cmd::emulate::exisone(args, json))
            .map(|()| None),
        #[cfg(feature = "emulate")]
        Command::Emulate(cli::EmulateCommand::Ecosire(args)) => runtime()?
            .block_on(cmd::emulate::ecosire(args, json))
            .map(|()| None),
    }
}

/// `--access-token VALUE` is parsed only to be refused with the fix.
fn refuse_secret_flags_exisone(connection: &ExisOneConnection) -> CliResult {
    if connection.access_token_value.is_some() {
        return Err(CliError::usage(format!(
            "--access-token does not take the token as a value (it would show in the shell history and the process list): put the token in a file and pass --access-token-file FILE, or set {} to the token itself",
            cmd::exisone::TOKEN_ENV
        )));
    }
    Ok(())
}

/// `--secret VALUE` is parsed only to be refused with the fix.
fn refuse_secret_flags_ecosire(connection: &EcosireConnection) -> CliResult {
    if connection.secret_value.is_some() {
        return Err(CliError::usage(format!(
            "--secret does not take the license secret as a value (it would show in the shell history and the process list): put the secret in a file and pass --secret-file FILE, or set {} to the secret itself",
            license_gate::providers::ecosire::SECRET_ENV
        )));
    }
    Ok(())
}

/// A small runtime on this thread for the network commands.
fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::unavailable(format!("could not start the async runtime: {e}")))
}
