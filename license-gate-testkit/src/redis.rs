//! A real `redis-server` on loopback for tests: started on a free port,
//! stopped and restarted on the same port (the fault tests), and the test
//! declaration [`redis_test!`](crate::redis_test) that reports a test as
//! ignored, with the reason, where no `redis-server` can be had (and fails
//! under `CI=true`).
//!
//! The server comes from `$LICENSE_GATE_REDIS_SERVER` (a path to the binary)
//! or `redis-server` on the `PATH`; it keeps nothing on disk (`--save ""`,
//! no append-only file) and listens on `127.0.0.1` only.
//!
//! ```no_run
//! let mut server = license_gate_testkit::redis::RedisServer::start()?;
//! let url = server.url(); // redis://127.0.0.1:PORT/
//! server.stop()?; // connections fail from here
//! server.restart()?; // same port, empty data
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to do where no Redis server can be had.
pub const MISSING: &str = "these tests need a Redis server: install `redis-server` (Debian/Ubuntu: `apt-get install redis-server`; the CI script does it), or set LICENSE_GATE_REDIS_SERVER to its binary, then rebuild the tests (`cargo clean -p license-gate-testkit` if they were built without it)";

/// How long a started server may take to answer `PING`.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// The `redis-server` binary to run: `$LICENSE_GATE_REDIS_SERVER`, or the
/// first `redis-server` on the `PATH`.
pub fn server_binary() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("LICENSE_GATE_REDIS_SERVER") {
        let path = PathBuf::from(explicit);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

/// The URL of the Redis server the test run shares
/// (`$LICENSE_GATE_TEST_REDIS_URL`, which the CI script sets), if any.
pub fn shared_url() -> Option<String> {
    std::env::var("LICENSE_GATE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// A Redis for a test that only needs one: the run's shared server
/// ([`shared_url`]) when set, else a server of the test's own. Give each test
/// its own key prefix, since the shared server is shared.
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    _own: Option<RedisServer>,
}

impl TestRedis {
    /// The shared server, or a new one of this test's own.
    ///
    /// # Errors
    ///
    /// No shared URL and no server could be started ([`MISSING`]).
    pub fn get() -> io::Result<Self> {
        if let Some(url) = shared_url() {
            return Ok(TestRedis { url, _own: None });
        }
        let own = RedisServer::start()?;
        Ok(TestRedis {
            url: own.url(),
            _own: Some(own),
        })
    }

    /// Its URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A key namespace for `name` that no other test run on a shared server
    /// uses (the process ID and the time are added).
    pub fn namespace(&self, name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{name}-{}-{nanos}", std::process::id())
    }
}

/// A `redis-server` process of this test, on a loopback port of its own. It
/// is killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port and waits until it
    /// answers `PING`.
    ///
    /// # Errors
    ///
    /// No binary ([`MISSING`] says how to get one), or a server that does
    /// not start or answer within ten seconds.
    pub fn start() -> io::Result<Self> {
        let binary =
            server_binary().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, MISSING))?;
        // A free port can be taken by someone else between the probe and the
        // server's bind: try a few.
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            let mut server = RedisServer {
                binary: binary.clone(),
                port,
                child: None,
            };
            match server.restart() {
                Ok(()) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    /// The server's URL, `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's loopback port (kept across [`stop`](Self::stop) and
    /// [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server (as a crash would: no shutdown, no save). Connections
    /// to it fail until [`restart`](Self::restart).
    ///
    /// # Errors
    ///
    /// The process could not be killed or waited for.
    pub fn stop(&mut self) -> io::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the server again on the same port (empty: nothing was saved),
    /// and waits until it answers `PING`. A running server is stopped first.
    ///
    /// # Errors
    ///
    /// The port was taken meanwhile, or the server did not answer within ten
    /// seconds.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop()?;
        let child = Command::new(&self.binary)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .args(["--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!(
                        "could not run {}: {error}; {MISSING}",
                        self.binary.display()
                    ),
                )
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Err(io::Error::other(format!(
                    "redis-server exited with {status} before answering on port {} (is the port taken?)",
                    self.port
                )));
            }
            if Instant::now() > deadline {
                self.stop()?;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "redis-server did not answer PING on port {} within {READY_WITHIN:?}",
                        self.port
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Sends `PING` in the inline protocol and expects `+PONG`.
fn ping(port: u16) -> io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply)?;
    if &reply == b"+PONG\r\n" {
        Ok(())
    } else {
        Err(io::Error::other("not a Redis PONG"))
    }
}

/// One reply of [`command`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK` and the like.
    Status(String),
    /// `:n`.
    Int(i64),
    /// A bulk string, `None` for nil.
    Bulk(Option<Vec<u8>>),
    /// An error (`-ERR ...`) or a reply shape this helper does not read.
    Other(String),
}

/// Sends one command to the Redis at `url` (`redis://127.0.0.1:PORT/`)
/// and reads its reply: what an operator types into `redis-cli`, for tests
/// that write to Redis by hand, without the client under test.
///
/// # Errors
///
/// Redis is unreachable, or the URL is not `redis://host:port/`.
pub fn command(url: &str, args: &[&[u8]]) -> io::Result<Reply> {
    let addr = url.trim_start_matches("redis://").trim_end_matches('/');
    let mut stream = std::io::BufReader::new(TcpStream::connect(addr)?);
    stream
        .get_ref()
        .set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    stream.get_mut().write_all(&out)?;
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stream, &mut line)?;
    let line = line.trim_end();
    let parse_error = |_| io::Error::other(format!("not a Redis reply: {line}"));
    Ok(match line.split_at(line.len().min(1)) {
        ("+", rest) => Reply::Status(rest.to_owned()),
        (":", rest) => Reply::Int(rest.parse().map_err(parse_error)?),
        ("$", "-1") => Reply::Bulk(None),
        ("$", len) => {
            let len: usize = len.parse().map_err(parse_error)?;
            let mut body = vec![0u8; len + 2];
            stream.read_exact(&mut body)?;
            body.truncate(len);
            Reply::Bulk(Some(body))
        }
        _ => Reply::Other(line.to_owned()),
    })
}

/// Not public API: the body of a Redis test where no server can be had
/// under `CI=true`.
#[doc(hidden)]
pub fn __missing_in_ci() {
    panic!("CI=true, and {MISSING}");
}

/// Declares a test that needs a real Redis server: write the test attribute
/// yourself (`#[test]` or `#[tokio::test]`).
///
/// Where no `redis-server` binary was found when the tests were built, the test is `#[ignore]`d with the
/// reason ([`MISSING`]), so `cargo test` reports it as ignored rather than
/// `ok`; under `CI=true` it fails instead.
///
/// ```
/// license_gate_testkit::redis_test! {
///     #[tokio::test]
///     async fn a_redis_answers() {
///         let server = license_gate_testkit::redis::RedisServer::start().unwrap();
///         assert!(server.url().starts_with("redis://127.0.0.1:"));
///     }
/// }
/// ```
#[macro_export]
macro_rules! redis_test {
    ($(#[$attr:meta])* async fn $name:ident() $body:block) => {
        $crate::__redis_test! { [$(#[$attr])*] [async] $name $body }
    };
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $crate::__redis_test! { [$(#[$attr])*] [] $name $body }
    };
}

#[cfg(license_gate_redis = "present")]
#[doc(hidden)]
#[macro_export]
macro_rules! __redis_test {
    ([$($attr:tt)*] [$($async:tt)*] $name:ident $body:block) => {
        $($attr)*
        $($async)* fn $name() $body
    };
}

#[cfg(not(any(license_gate_redis = "present", license_gate_redis = "missing_in_ci")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __redis_test {
    ([$($attr:tt)*] [$($async:tt)*] $name:ident $body:block) => {
        $($attr)*
        #[ignore = "needs a Redis server: install redis-server (the CI script does), or set LICENSE_GATE_REDIS_SERVER, then rebuild the tests"]
        $($async)* fn $name() $body
    };
}

#[cfg(license_gate_redis = "missing_in_ci")]
#[doc(hidden)]
#[macro_export]
macro_rules! __redis_test {
    ([$($attr:tt)*] [$($async:tt)*] $name:ident $body:block) => {
        $($attr)*
        $($async)* fn $name() {
            $crate::redis::__missing_in_ci();
            $body
        }
    };
}
