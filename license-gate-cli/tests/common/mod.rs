//! Helpers of the process tests: the binary with a clean environment,
//! running it, reading its output, and emulators started as processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_license-gate");

/// The binary with none of the service variables of the environment the
/// tests run in.
pub fn cli() -> Command {
    let mut command = Command::new(BIN);
    for name in [
        "EXISONE_BASEURL",
        "EXISONE_ACCESS_TOKEN",
        "ECOSIRE_LICENSE_SECRET",
    ] {
        command.env_remove(name);
    }
    command.stdin(Stdio::null());
    command
}

pub fn run(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
}

/// Runs a command on a blocking thread, so an emulator on this test's
/// runtime keeps serving meanwhile.
pub async fn run_async(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .expect("the blocking task finishes")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A failure is exactly one `error: ...` line on stderr, never a panic.
pub fn assert_one_error_line(output: &Output) -> String {
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {text}");
    assert!(lines[0].starts_with("error: "), "stderr: {text}");
    assert!(!text.contains("panicked"), "stderr: {text}");
    lines[0].to_owned()
}

pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path
}

/// The one JSON object a `--json` run prints on stdout.
pub fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// Asserts the stable error shape and returns the `error` object.
pub fn assert_error_shape(value: &Value, kind: &str) -> Value {
    assert_eq!(value["ok"], false, "{value}");
    let error = value["error"].clone();
    assert_eq!(error["kind"], kind, "{value}");
    assert!(error["message"].is_string(), "{value}");
    for field in [
        "http_status",
        "code",
        "server_message",
        "minimum_version",
        "seats_used",
        "seats_limit",
        "retry_after_seconds",
        "exit_code",
    ] {
        assert!(error.get(field).is_some(), "`{field}` missing: {value}");
    }
    error
}

/// A child process that is killed when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `license-gate emulate ...` and reads its stdout until `until`
/// lines are seen (or the deadline passes); returns the child and the lines.
pub fn start_emulator(args: &[&str], tmp: &Path, until: &str) -> (Running, Vec<String>) {
    let mut child = cli()
        .args(args)
        .env("TMPDIR", tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the emulator");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match receive.recv_timeout(left) {
            Ok(line) => {
                let done = line.starts_with(until);
                lines.push(line);
                if done {
                    return (running, lines);
                }
            }
            Err(_) => panic!("the emulator did not print `{until}`; it printed {lines:?}"),
        }
    }
}

/// The value after `label:` on the first line that has it.
pub fn value_of(lines: &[String], label: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `{label}` line in {lines:?}"))
        .to_owned()
}

/// An emulator process whose stdin stays open for typed commands, with its
/// stdout lines arriving on a channel.
pub struct Interactive {
    pub child: Running,
    pub stdin: ChildStdin,
    pub lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Interactive {
    /// Starts `license-gate ARGS` and reads until a line starting with `until`.
    pub fn start(args: &[&str], tmp: &Path, until: &str) -> Self {
        let mut child = cli()
            .args(args)
            .env("TMPDIR", tmp)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the binary");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take().expect("stdin");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut me = Interactive {
            child: Running(child),
            stdin,
            lines,
            seen: Vec::new(),
        };
        me.wait_for(|l| l.starts_with(until), Duration::from_secs(60));
        me
    }

    /// Waits (bounded) for a line that `test` accepts and returns it.
    pub fn wait_for(&mut self, test: impl Fn(&str) -> bool, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if test(&line) {
                        return line;
                    }
                }
                Err(_) => panic!("no expected line within {within:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Types one command line.
    pub fn type_line(&mut self, line: &str) {
        use std::io::Write;
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .expect("write to the emulator's stdin");
        self.stdin.flush().expect("flush");
    }
}

/// The JSON info line of an emulator started with `--json`.
pub fn info_of(line: &str) -> Value {
    serde_json::from_str(line).expect("the emulator's info line is JSON")
}
