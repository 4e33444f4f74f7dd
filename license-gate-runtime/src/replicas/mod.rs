//! Replicas of one server sharing the checking through Redis (cargo feature
//! `redis`): the licensees' sealed states, one lease per licensee so each is
//! validated once per period for the whole deployment, the provider's request
//! budget, and a change feed that brings every replica the others' results.
//!
//! One [`Replicas`] handle per process holds a reconnecting connection; the
//! parts hang off it:
//!
//! | part | what it does in Redis | when Redis is unreachable |
//! |---|---|---|
//! | [`RedisStore`] | one hash of sealed records, written all or none | the call fails; the embedded store and the in-memory state go on |
//! | [`Replicas::claim`] / [`Replicas::publish`] | `lease:{id}` set only if absent, with a fencing token from a counter; a result is written only with a token not older than the last written one | [`Claim::Unreachable`]: the replica validates on its own, within its share of the budget |
//! | [`RedisBudget`] | the requests of the last window (a minute by default) in a sorted set, taken by a Lua script on Redis's clock | each replica takes its share (limit ÷ replicas seen) locally, starting one window later |
//! | [`ChangeFeed`] | pub/sub on one channel; after every (re)connection the whole hash is read again | reconnects with backoff, no restart |
//!
//! Redis holds only what the licensing core sealed (an HMAC with the vendor
//! secret and a generation): an entry edited by hand fails that
//! authentication, and an older entry written back is refused by its fencing
//! token here and by its generation in the core. Redis never grants on its
//! own.
//!
//! All keys of one deployment share the hash tag `{namespace}`, so a Redis
//! cluster keeps them in one slot (the scripts touch several at once).

mod budget;
mod coordination;
mod feed;
mod lease;
mod store;
mod url;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

pub use budget::{BudgetKind, RedisBudget, Taken};
pub use coordination::RedisCoordination;
pub use feed::{Change, ChangeFeed};
pub use lease::{Claim, Lease, Published};
pub use store::{FencedRecord, RedisStore};
pub use url::masked_url;

use crate::secret::Secret;

/// Where and how the replicas meet in Redis.
///
/// ```
/// use std::time::Duration;
/// use license_gate::replicas::RedisOptions;
///
/// let options = RedisOptions::new("redis://:s3cret@10.0.0.5:6379/0")
///     .namespace("billing-api")
///     .replica("pod-7")
///     .lease(Duration::from_secs(30));
/// assert!(!format!("{options:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisOptions {
    url: Secret,
    namespace: String,
    replica: String,
    lease: Duration,
    fresh_for: Duration,
    timeout: Duration,
}

impl RedisOptions {
    /// Options for the Redis at `url` (`redis://[user:password@]host:port/db`,
    /// or `rediss://` with the `redis-tls` feature). The URL is treated as a
    /// secret: logs, errors and `Debug` show it with the password masked.
    pub fn new(url: impl Into<String>) -> Self {
        RedisOptions {
            url: Secret::new(url.into()),
            namespace: "license-gate".to_owned(),
            replica: default_replica_name(),
            lease: Duration::from_secs(30),
            fresh_for: Duration::from_secs(12 * 60 * 60),
            timeout: Duration::from_secs(1),
        }
    }

    /// The prefix of every key and channel (default `license-gate`): one per
    /// deployment sharing a Redis.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// This replica's name in leases and logs (default: host name and
    /// process ID).
    pub fn replica(mut self, name: impl Into<String>) -> Self {
        self.replica = name.into();
        self
    }

    /// How long a claimed lease lasts (default 30 s): a replica that dies
    /// mid-check holds its licensees this long, then another takes them over.
    /// Make it longer than a validation's deadline.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long a published result spares the other replicas a validation of
    /// the same licensee (default 12 h; set it a little under the heartbeat
    /// period, so each licensee is validated once per period).
    pub fn fresh_for(mut self, fresh_for: Duration) -> Self {
        self.fresh_for = fresh_for;
        self
    }

    /// How long one Redis call may take, connecting included, before the
    /// replica treats Redis as unreachable (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOptions")
            .field("url", &masked_url(self.url.expose()))
            .field("namespace", &self.namespace)
            .field("replica", &self.replica)
            .field("lease", &self.lease)
            .field("fresh_for", &self.fresh_for)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn default_replica_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "replica".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Why a Redis call failed. The message never holds the URL's credentials.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RedisError {
    kind: RedisErrorKind,
    message: String,
}

/// What kind of Redis failure a [`RedisError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisErrorKind {
    /// The URL cannot be used: fix the configuration.
    Url,
    /// Redis did not answer (down, unreachable, timed out): the replica goes
    /// on alone and reconnects by itself.
    Unreachable,
    /// Redis answered something unexpected (a script error, a wrong type at
    /// one of our keys): something else writes to this namespace.
    Protocol,
}

impl RedisError {
    /// What kind of failure this is.
    pub fn kind(&self) -> RedisErrorKind {
        self.kind
    }

    /// Whether Redis was unreachable (the replica falls back to working alone).
    pub fn is_unreachable(&self) -> bool {
        self.kind == RedisErrorKind::Unreachable
    }

    fn url(message: impl Into<String>) -> Self {
        RedisError {
            kind: RedisErrorKind::Url,
            message: message.into(),
        }
    }

    fn protocol(message: impl Into<String>) -> Self {
        RedisError {
            kind: RedisErrorKind::Protocol,
            message: message.into(),
        }
    }

    fn from_redis(error: redis::RedisError, masked: &str, secret: &Secret) -> Self {
        let unreachable = error.is_io_error()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_unrecoverable_error();
        let detail = url::scrub(&error.to_string(), secret.expose());
        if unreachable {
            RedisError {
                kind: RedisErrorKind::Unreachable,
                message: format!(
                    "Redis at {masked} is unreachable ({detail}): this replica works alone within its share of the budget and reconnects by itself; check that Redis runs and the URL is right"
                ),
            }
        } else {
            RedisError::protocol(format!(
                "Redis at {masked} answered unexpectedly ({detail}): make sure nothing else writes to this namespace's keys"
            ))
        }
    }

    fn timed_out(masked: &str, after: Duration) -> Self {
        RedisError {
            kind: RedisErrorKind::Unreachable,
            message: format!(
                "Redis at {masked} did not answer within {after:?}: this replica works alone within its share of the budget and reconnects by itself; check that Redis runs and is reachable"
            ),
        }
    }
}

/// One process's connection to the replicas' Redis: cheap to clone, it
/// reconnects by itself after Redis comes back.
#[derive(Clone)]
pub struct Replicas {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    connection: ConnectionManager,
    options: RedisOptions,
    masked: String,
    keys: Keys,
}

/// The names of the keys of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    prefix: String,
}

impl Keys {
    fn new(namespace: &str) -> Self {
        Keys {
            prefix: format!("license-gate:{{{namespace}}}"),
        }
    }
    /// Hash: licensee → envelope (fence and sealed record).
    pub(crate) fn records(&self) -> String {
        format!("{}:records", self.prefix)
    }
    /// Hash: licensee → the fence of the stored record.
    pub(crate) fn written(&self) -> String {
        format!("{}:written", self.prefix)
    }
    /// Hash: licensee → the last fencing token handed out.
    pub(crate) fn fences(&self) -> String {
        format!("{}:fences", self.prefix)
    }
    /// Hash: licensee → Redis time (ms) of the last published check.
    pub(crate) fn checked(&self) -> String {
        format!("{}:checked", self.prefix)
    }
    /// String with expiry: the lease on one licensee.
    pub(crate) fn lease(&self, licensee: &str) -> String {
        format!("{}:lease:{licensee}", self.prefix)
    }
    /// The change feed's channel.
    pub(crate) fn changes(&self) -> String {
        format!("{}:changes", self.prefix)
    }
    /// Sorted set: replica → Redis time (ms) it was last seen.
    pub(crate) fn members(&self) -> String {
        format!("{}:replicas", self.prefix)
    }
    /// Sorted set: the requests of one kind in the last window.
    pub(crate) fn budget(&self, kind: &str) -> String {
        format!("{}:budget:{kind}", self.prefix)
    }
}

impl Replicas {
    /// Prepares the connection to the Redis of `options`, on the current
    /// tokio runtime (call it inside one). It does not wait for Redis: a replica starts while Redis is down, works alone, and
    /// connects when Redis answers.
    ///
    /// # Errors
    ///
    /// The URL cannot be used (the error names the part, with the password
    /// masked), or it asks for TLS without the `redis-tls` feature.
    pub fn connect(options: RedisOptions) -> Result<Self, RedisError> {
        let masked = masked_url(options.url.expose());
        if options.url.expose().starts_with("rediss://") && !cfg!(feature = "redis-tls") {
            return Err(RedisError::url(format!(
                "the Redis URL {masked} asks for TLS: turn on license-gate's `redis-tls` feature, or use a redis:// URL"
            )));
        }
        let client = redis::Client::open(options.url.expose()).map_err(|error| {
            RedisError::url(format!(
                "the Redis URL {masked} cannot be used ({}): write it as redis://[user:password@]host:port/db",
                url::scrub(&error.to_string(), options.url.expose())
            ))
        })?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.timeout))
            .set_response_timeout(Some(options.timeout))
            .set_number_of_retries(1)
            .set_max_delay(options.timeout);
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|error| RedisError::from_redis(error, &masked, &options.url))?;
        let keys = Keys::new(&options.namespace);
        Ok(Replicas {
            inner: Arc::new(Inner {
                client,
                connection,
                masked,
                keys,
                options,
            }),
        })
    }

    /// The URL with its password masked, for logs.
    pub fn masked_url(&self) -> &str {
        &self.inner.masked
    }

    /// This replica's name.
    pub fn replica(&self) -> &str {
        &self.inner.options.replica
    }

    /// Asks Redis for `PING`.
    ///
    /// # Errors
    ///
    /// Redis is unreachable.
    pub async fn ping(&self) -> Result<(), RedisError> {
        let _: String = self.run(&redis::cmd("PING")).await?;
        Ok(())
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    pub(crate) fn options(&self) -> &RedisOptions {
        &self.inner.options
    }

    pub(crate) fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    pub(crate) fn error(&self, error: redis::RedisError) -> RedisError {
        RedisError::from_redis(error, &self.inner.masked, &self.inner.options.url)
    }

    pub(crate) fn timed_out(&self) -> RedisError {
        RedisError::timed_out(&self.inner.masked, self.inner.options.timeout)
    }

    /// Runs one command, bounded by the configured timeout.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        command: &redis::Cmd,
    ) -> Result<T, RedisError> {
        let mut connection = self.inner.connection.clone();
        match tokio::time::timeout(
            self.inner.options.timeout,
            command.query_async::<T>(&mut connection),
        )
        .await
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.error(error)),
            Err(_) => Err(self.timed_out()),
        }
    }

    /// Runs one Lua script, bounded by the configured timeout.
    pub(crate) async fn script<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, RedisError> {
        let mut connection = self.inner.connection.clone();
        match tokio::time::timeout(
            self.inner.options.timeout,
            invocation.invoke_async::<T>(&mut connection),
        )
        .await
        {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.error(error)),
            Err(_) => Err(self.timed_out()),
        }
    }
}

impl fmt::Debug for Replicas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replicas")
            .field("url", &self.inner.masked)
            .field("namespace", &self.inner.options.namespace)
            .field("replica", &self.inner.options.replica)
            .finish_non_exhaustive()
    }
}
