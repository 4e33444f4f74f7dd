//! [`RedbStore`]: the licensees' sealed records in one embedded database file
//! (redb), for a server with many licensees (cargo feature `store`).
//!
//! One table maps each licensee's identifier (the application's, never the
//! key) to its sealed record, which the store never reads: authentication is
//! in the sealing (`record.rs`), so an edited value, a value copied under
//! another licensee's identifier or an older value put back is caught where
//! the records are opened, not here.
//!
//! Every [`save`](LicenseeStore::save) is one redb write transaction, made
//! durable before it returns (redb's default: the commit is synced to disk
//! with a checksummed, double-buffered commit slot). A process killed
//! mid-write leaves the database as the last committed transaction left it;
//! a write that fails is rolled back whole. Either way no other licensee's
//! record is touched, and the file opens again (redb repairs what an
//! interrupted process left on the next open).
//!
//! The database calls block (disk I/O, fsync), so each runs on tokio's
//! blocking pool; a panic inside the database becomes a [`StoreError`], never
//! the caller's panic.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};

use super::store::{LicenseeId, LicenseeStore, StoreError, StoredRecord};

/// The one table: licensee identifier → sealed record.
const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("licensees");

/// The largest sealed record the store writes; a real one is a few hundred
/// bytes. A larger one is refused (and the whole save with it).
pub(crate) const MAX_RECORD_BYTES: usize = 64 * 1024;

/// The page cache redb may keep in memory. Loading reads every page once, so
/// a large cache would only hold the whole file resident (redb's default is
/// a gigabyte); 4 MiB keeps saves quick without that.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

/// The licensees' records in one redb database file (cargo feature `store`:
/// `license-gate = { version = "0.1", features = ["store"] }`).
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let (provider, _) = license_gate::providers::mock::MockProvider::licensed(["pro"]);
/// use license_gate::LicenseGate;
/// use license_gate::licensees::{RedbStore, TokenBucketBudget};
///
/// let licensees = LicenseGate::builder()
///     .product("Atlas Server")
///     .provider(provider)
///     .licensees()
///     .store(RedbStore::open("/var/lib/atlas/licensees.redb")?)
///     .budget(TokenBucketBudget::ecosire())
///     .start()
///     .await?;
/// # let _ = licensees;
/// # Ok(())
/// # }
/// ```
///
/// One process opens a file at a time (the file is locked while open); the
/// registry shares the store between its tasks. For how long a start from
/// 100,000 records takes, see the README's "Licensees at scale".
pub struct RedbStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    path: PathBuf,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the database file at `path`, creating it (not its folder) if it
    /// does not exist. A file left by a process that was killed is repaired
    /// here, which takes a moment for a large file.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] that names the path and what to do: the folder is
    /// missing or not writable, another process has the file open, or the
    /// file is not a database this version reads.
    pub fn open(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let opened = std::panic::catch_unwind(|| {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(&path)
        });
        RedbStore::opened(path, opened)
    }

    /// The store on `backend` (tests inject I/O failures through it), named
    /// `path` in messages.
    #[cfg(test)]
    fn on_backend(
        path: PathBuf,
        backend: impl redb::StorageBackend,
    ) -> Result<RedbStore, StoreError> {
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create_with_backend(backend)
        }));
        RedbStore::opened(path, opened)
    }

    fn opened(
        path: PathBuf,
        opened: std::thread::Result<Result<Database, redb::DatabaseError>>,
    ) -> Result<RedbStore, StoreError> {
        let db = match opened {
            Ok(Ok(db)) => db,
            Ok(Err(error)) => return Err(open_error(&path, error)),
            Err(_) => {
                return Err(StoreError::backend(
                    format!("open the database {}", path.display()),
                    "the database library failed while reading it; move the file aside (the licensees are validated at the server again) and restart",
                ));
            }
        };
        let store = RedbStore {
            inner: Arc::new(Inner { db, path }),
        };
        // Create the table now, so that an empty store loads as empty and a
        // read-only or full disk shows at start rather than at the first save.
        store.inner.write(|_| Ok(()))?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `job` on the blocking pool; a panic in it is an error.
    async fn blocking<T: Send + 'static>(
        &self,
        what: &'static str,
        job: impl FnOnce(&Inner) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || job(&inner)).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::backend(
                format!("{what} in {}", self.inner.path.display()),
                "the database library stopped; the records on disk are those of the last completed save; restart the server",
            )),
        }
    }
}

impl Inner {
    /// One write transaction: `fill` inserts or removes, then the commit,
    /// synced to disk. Any error drops the transaction, which rolls it back.
    fn write(
        &self,
        fill: impl FnOnce(&mut redb::Table<'_, &'static str, &'static [u8]>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let txn = self
            .db
            .begin_write()
            .map_err(|e| self.failed("start a write", e))?;
        {
            let mut table = txn
                .open_table(RECORDS)
                .map_err(|e| self.failed("open the records for writing", e))?;
            fill(&mut table)?;
        }
        txn.commit().map_err(|e| self.failed("commit a write", e))
    }

    fn failed(&self, what: &str, error: impl Into<redb::Error>) -> StoreError {
        let error: redb::Error = error.into();
        let hint = match &error {
            redb::Error::Io(_) | redb::Error::PreviousIo => {
                "check that the disk is not full and the file is writable; the records on disk are those of the last completed save"
            }
            redb::Error::Corrupted(_) => {
                "the file is damaged: move it aside (the licensees are validated at the server again) and restart"
            }
            _ => "the records on disk are those of the last completed save; restart the server",
        };
        let action = format!("{what} in {}", self.path.display());
        match error {
            redb::Error::Io(io) => StoreError::io(action, io),
            error => StoreError::backend(action, format!("{error}; {hint}")),
        }
    }
}

/// What went wrong opening `path`, and what to do.
fn open_error(path: &Path, error: redb::DatabaseError) -> StoreError {
    let action = format!("open the database {}", path.display());
    let detail = match error {
        redb::DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            format!(
                "it is not a licensee store or is damaged ({io}); move the file aside (the licensees are validated at the server again)"
            )
        }
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => {
            return StoreError::io(action, io);
        }
        redb::DatabaseError::DatabaseAlreadyOpen => "it is open in another process (or another store in this one); one server process per store file: stop the other one or give this one its own file".to_owned(),
        redb::DatabaseError::UpgradeRequired(version) => format!(
            "it is in database format {version}, which this version does not read; move the file aside (the licensees are validated at the server again)"
        ),
        redb::DatabaseError::RepairAborted => "it needed repair after an interrupted process and the repair did not finish; start again to repair it".to_owned(),
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(what)) => format!(
            "it is not a licensee store or is damaged ({what}); move the file aside (the licensees are validated at the server again)"
        ),
        other => format!(
            "{other}; check that it is a licensee store written by this library, or move it aside"
        ),
    };
    StoreError::backend(action, detail)
}

#[async_trait::async_trait]
impl LicenseeStore for RedbStore {
    async fn load_all(&self) -> Result<Vec<StoredRecord>, StoreError> {
        self.blocking("load the records", |inner| {
            let txn = inner
                .db
                .begin_read()
                .map_err(|e| inner.failed("start a read", e))?;
            let table = match txn.open_table(RECORDS) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                Err(e) => return Err(inner.failed("open the records", e)),
            };
            let len = table
                .len()
                .map_err(|e| inner.failed("count the records", e))?;
            let mut records = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            let rows = table
                .iter()
                .map_err(|e| inner.failed("read the records", e))?;
            for row in rows {
                let (id, sealed) = row.map_err(|e| inner.failed("read a record", e))?;
                records.push(StoredRecord {
                    licensee: LicenseeId::new(id.value()),
                    sealed: sealed.value().to_vec(),
                });
            }
            Ok(records)
        })
        .await
    }

    async fn save(&self, records: Vec<StoredRecord>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.blocking("save records", move |inner| {
            inner.write(|table| {
                for record in &records {
                    if record.sealed.len() > MAX_RECORD_BYTES {
                        // Returning drops the transaction: nothing of this
                        // save is written, the records inserted above included.
                        return Err(StoreError::backend(
                            format!("save {} records in {}", records.len(), inner.path.display()),
                            format!(
                                "the record of licensee `{}` is {} bytes, more than {MAX_RECORD_BYTES}; nothing of this save was written",
                                record.licensee,
                                record.sealed.len()
                            ),
                        ));
                    }
                    table
                        .insert(record.licensee.as_str(), record.sealed.as_slice())
                        .map_err(|e| inner.failed("write a record", e))?;
                }
                Ok(())
            })
        })
        .await
    }

    /// One licensee's record. A redb file is open in one process at a time,
    /// so replicas do not share one: the lease stays the trait's default
    /// (this process validates every licensee).
    async fn load(&self, licensee: &LicenseeId) -> Result<Option<StoredRecord>, StoreError> {
        let licensee = licensee.clone();
        self.blocking("load a record", move |inner| {
            let txn = inner
                .db
                .begin_read()
                .map_err(|e| inner.failed("start a read", e))?;
            let table = match txn.open_table(RECORDS) {
                Ok(table) => table,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(inner.failed("open the records", e)),
            };
            let sealed = table
                .get(licensee.as_str())
                .map_err(|e| inner.failed("read a record", e))?
                .map(|value| value.value().to_vec());
            Ok(sealed.map(|sealed| StoredRecord { licensee, sealed }))
        })
        .await
    }

    async fn forget(&self, licensee: &LicenseeId) -> Result<(), StoreError> {
        let licensee = licensee.clone();
        self.blocking("forget a licensee", move |inner| {
            inner.write(|table| {
                table
                    .remove(licensee.as_str())
                    .map_err(|e| inner.failed("remove a record", e))?;
                Ok(())
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn record(id: &str, sealed: &[u8]) -> StoredRecord {
        StoredRecord {
            licensee: LicenseeId::new(id),
            sealed: sealed.to_vec(),
        }
    }

    async fn contents(store: &RedbStore) -> Vec<(String, Vec<u8>)> {
        let mut all: Vec<_> = store
            .load_all()
            .await
            .expect("the store loads")
            .into_iter()
            .map(|r| (r.licensee.as_str().to_owned(), r.sealed))
            .collect();
        all.sort();
        all
    }

    #[tokio::test]
    async fn records_are_saved_loaded_forgotten_and_kept_across_opens() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("licensees.redb");
        let store = RedbStore::open(&path).expect("the store opens");
        assert!(contents(&store).await.is_empty(), "a new store is empty");
        store
            .save(vec![record("a", b"one"), record("b", b"two")])
            .await
            .expect("a save");
        store
            .save(vec![record("a", b"three")])
            .await
            .expect("a second save");
        store.save(Vec::new()).await.expect("an empty save");
        store.forget(&LicenseeId::new("b")).await.expect("forget");
        store
            .forget(&LicenseeId::new("never-stored"))
            .await
            .expect("forgetting an unknown licensee is no error");
        assert_eq!(
            contents(&store).await,
            [("a".to_owned(), b"three".to_vec())]
        );
        let one = store
            .load(&LicenseeId::new("a"))
            .await
            .expect("a record loads")
            .expect("it is stored");
        assert_eq!(
            (one.licensee.as_str(), one.sealed.as_slice()),
            ("a", &b"three"[..])
        );
        assert!(
            store
                .load(&LicenseeId::new("b"))
                .await
                .expect("a load")
                .is_none(),
            "a forgotten licensee has no record"
        );
        drop(store);
        let again = RedbStore::open(&path).expect("the store opens again");
        assert_eq!(again.path(), path);
        assert_eq!(
            contents(&again).await,
            [("a".to_owned(), b"three".to_vec())]
        );
        assert_eq!(
            format!("{again:?}"),
            format!("RedbStore {{ path: {path:?}, .. }}")
        );
    }

    #[tokio::test]
    async fn a_save_refused_half_way_writes_nothing_of_it() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = RedbStore::open(dir.path().join("s.redb")).expect("the store opens");
        store.save(vec![record("a", b"old")]).await.expect("a save");
        let too_large = vec![0u8; MAX_RECORD_BYTES + 1];
        let error = store
            .save(vec![
                record("a", b"new"),
                record("b", b"new"),
                record("c", &too_large),
            ])
            .await
            .expect_err("a record over the limit fails the save");
        let message = error.to_string();
        assert!(
            message.contains("licensee `c`")
                && message.contains("nothing of this save was written"),
            "{message}"
        );
        assert_eq!(contents(&store).await, [("a".to_owned(), b"old".to_vec())]);
    }

    /// A file backend whose writes and syncs fail once armed, like a full
    /// disk or a failing device.
    #[derive(Debug)]
    struct FailingDisk {
        file: redb::backends::FileBackend,
        failing: Arc<AtomicBool>,
    }

    impl FailingDisk {
        fn check(&self) -> std::io::Result<()> {
            if self.failing.load(Ordering::SeqCst) {
                Err(std::io::Error::other(
                    "injected: no space left on the device",
                ))
            } else {
                Ok(())
            }
        }
    }

    impl redb::StorageBackend for FailingDisk {
        fn len(&self) -> std::io::Result<u64> {
            self.file.len()
        }
        fn read(&self, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
            self.file.read(offset, len)
        }
        fn set_len(&self, len: u64) -> std::io::Result<()> {
            self.check()?;
            self.file.set_len(len)
        }
        fn sync_data(&self, eventual: bool) -> std::io::Result<()> {
            self.check()?;
            self.file.sync_data(eventual)
        }
        fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
            self.check()?;
            self.file.write(offset, data)
        }
    }

    #[tokio::test]
    async fn a_write_that_fails_on_disk_keeps_the_old_records() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("s.redb");
        let failing = Arc::new(AtomicBool::new(false));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .expect("the database file");
        let disk = FailingDisk {
            file: redb::backends::FileBackend::new(file).expect("the file backend"),
            failing: Arc::clone(&failing),
        };
        let store = RedbStore::on_backend(path.clone(), disk).expect("the store opens");
        let old: Vec<_> = (0..50).map(|i| record(&format!("u{i}"), b"old")).collect();
        store.save(old).await.expect("a save");

        failing.store(true, Ordering::SeqCst);
        let new: Vec<_> = (0..50).map(|i| record(&format!("u{i}"), b"new")).collect();
        let error = store.save(new).await.expect_err("the disk fails the save");
        let message = error.to_string();
        assert!(
            message.contains(&path.display().to_string()) && message.contains("injected"),
            "the error names the file and the cause: {message}"
        );
        drop(store);

        let again = RedbStore::open(&path).expect("the file opens after a failed write");
        let loaded = contents(&again).await;
        assert_eq!(loaded.len(), 50);
        assert!(
            loaded.iter().all(|(_, sealed)| sealed == b"old"),
            "a failed save leaves the records of the last completed one"
        );
    }

    #[test]
    fn a_store_that_cannot_be_opened_says_which_file_and_what_to_do() {
        let dir = tempfile::tempdir().expect("a temporary folder");

        let missing = dir.path().join("no-such-folder").join("s.redb");
        let message = RedbStore::open(&missing)
            .expect_err("no folder")
            .to_string();
        assert!(
            message.contains(&missing.display().to_string())
                && message.contains("check that its folder exists and is writable"),
            "{message}"
        );

        let held = dir.path().join("held.redb");
        let _first = RedbStore::open(&held).expect("the store opens");
        let message = RedbStore::open(&held).expect_err("open twice").to_string();
        assert!(
            message.contains(&held.display().to_string())
                && message.contains("open in another process"),
            "{message}"
        );

        let garbage = dir.path().join("garbage.redb");
        std::fs::write(&garbage, vec![0x5a; 64 * 1024]).expect("a file that is no database");
        let message = RedbStore::open(&garbage)
            .expect_err("not a database")
            .to_string();
        assert!(
            message.contains(&garbage.display().to_string()) && message.contains("move"),
            "{message}"
        );
    }

    /// The loading path as the registry runs it: every record from the
    /// database, opened with its licensee's seal.
    #[tokio::test]
    async fn records_edited_copied_or_put_back_in_the_database_are_rejected_when_opened() {
        use super::super::record::{LicenseeRecord, RecordRejection, RecordSeal};
        use crate::secret::LicenseKey;
        use crate::state::{LicenseStatus, ProductState, Source};
        use crate::vendor_secret::VendorSecret;
        use std::time::{Duration, SystemTime};

        let secret = VendorSecret::new("a vendor secret for the store tests").expect("a secret");
        let seal = |id: &str| {
            RecordSeal::new(
                Some(&secret),
                "Atlas",
                &LicenseeId::new(id),
                Some(&LicenseKey::from(format!("KEY-{id}").as_str())),
                &format!("user:{id}"),
            )
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let written = |generation: u64| LicenseeRecord {
            state: ProductState {
                last_confirmed: Some(at),
                source: Source::Online,
                ..ProductState::new("Atlas", LicenseStatus::Licensed, ["pro"])
            },
            latest_seen: at,
            activated: true,
            generation,
        };
        let sealed = |id: &str, generation: u64| StoredRecord {
            licensee: LicenseeId::new(id),
            sealed: seal(id).seal(&LicenseeId::new(id), &written(generation)),
        };

        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = RedbStore::open(dir.path().join("s.redb")).expect("the store opens");
        let ids = ["edited", "copied-over", "replayed", "untouched"];
        store
            .save(ids.iter().map(|id| sealed(id, 1)).collect())
            .await
            .expect("generation 1");
        // The registry writes generation 2 and remembers it.
        store
            .save(ids.iter().map(|id| sealed(id, 2)).collect())
            .await
            .expect("generation 2");
        let seen = 2;

        // Whoever can write the file: one byte of a value edited, another
        // licensee's record copied under a key, generation 1 put back.
        {
            let raw = |id: &str| {
                let txn = store.inner.db.begin_read().expect("a read");
                let table = txn.open_table(RECORDS).expect("the table");
                table
                    .get(id)
                    .expect("a get")
                    .expect("stored")
                    .value()
                    .to_vec()
            };
            let mut edited = raw("edited");
            let last = edited.len() - 2;
            edited[last] ^= 0x01;
            let copied = raw("untouched");
            let replayed = sealed("replayed", 1).sealed;
            store
                .inner
                .write(|table| {
                    table.insert("edited", edited.as_slice()).expect("insert");
                    table
                        .insert("copied-over", copied.as_slice())
                        .expect("insert");
                    table
                        .insert("replayed", replayed.as_slice())
                        .expect("insert");
                    Ok(())
                })
                .expect("the tampering write");
        }

        let mut outcomes = std::collections::BTreeMap::new();
        for record in store.load_all().await.expect("the store loads") {
            let id = record.licensee.clone();
            let opened = seal(id.as_str()).open(&record.sealed, &id, "Atlas", seen);
            outcomes.insert(id.as_str().to_owned(), opened.map(|o| o.record.generation));
        }
        assert_eq!(outcomes["edited"], Err(RecordRejection::BadTag));
        assert_eq!(
            outcomes["copied-over"],
            Err(RecordRejection::OtherLicensee("untouched".into()))
        );
        assert_eq!(
            outcomes["replayed"],
            Err(RecordRejection::Replayed {
                found: 1,
                expected: 2
            })
        );
        assert_eq!(outcomes["untouched"], Ok(2), "the others still open");
    }
}
