//! The history: every delivery in a local SQLite database (WAL, versioned schema), written by one
//! writer thread that batches the inserts of concurrent requests into one transaction (group
//! commit), so a delivery is on disk before its answer goes out at little cost in throughput.

mod codec;
mod schema;
pub mod writer;

use crate::delivery::Delivery;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

pub use writer::{Closing, Committed, Writer};

/// Default `--retain`: deliveries kept.
pub const DEFAULT_RETAIN: u64 = 10_000;
/// How long a connection waits for a lock another holds before giving up with
/// [`StoreError::Busy`].
const BUSY_WAIT: Duration = Duration::from_secs(5);
/// How often a waiting connection tries again.
const BUSY_STEP: Duration = Duration::from_micros(250);

/// How long a WAL rewind waits for the writer and for readers before it gives up for now. It
/// holds off writers while it waits, so a reader that lingers (a long search in the inspector)
/// would otherwise hold every commit, and every answer, for up to [`BUSY_WAIT`].
const REWIND_WAIT: Duration = Duration::from_millis(50);

/// SQLite's busy handler: try again every [`BUSY_STEP`], for [`BUSY_WAIT`] in all. (SQLite's own
/// backs off 1, 2, 5, 10, 15, 20 ms…, so the writer, held off for the ~20 ms of a WAL rewind,
/// slept until ~33 ms.)
fn wait_briefly(tries: i32) -> bool {
    try_again(tries, BUSY_WAIT)
}

/// The busy handler while rewinding: [`REWIND_WAIT`] of tries, then give up.
fn wait_for_rewind(tries: i32) -> bool {
    try_again(tries, REWIND_WAIT)
}

/// Sleeps one [`BUSY_STEP`] and says to try again, until tries have taken `limit`.
fn try_again(tries: i32, limit: Duration) -> bool {
    if tries as u128 >= limit.as_micros() / BUSY_STEP.as_micros() {
        return false;
    }
    std::thread::sleep(BUSY_STEP);
    true
}

/// The WAL size past which the checkpointer rewinds it (and to which a rewound WAL file is cut).
pub const WAL_LIMIT: u64 = 64 << 20;

/// Why the store cannot be used, naming the file and what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The folder for the file could not be made.
    #[error(
        "cannot create the folder for the store {path}: {detail} (pick another file with --store, or --no-store)"
    )]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        detail: String,
    },
    /// The file could not be opened or created.
    #[error(
        "cannot open the store {path}: {detail} (check its permissions with `ls -l`, pick another file with --store, or run with --no-store)"
    )]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite or the OS said.
        detail: String,
    },
    /// The path is a folder, not a file.
    #[error(
        "the store {path} is a folder: --store takes a file in it (e.g. {path}/deliveries.sqlite3)"
    )]
    Folder {
        /// The folder.
        path: PathBuf,
    },
    /// A device, pipe or socket: `--store /dev/null` meant as "keep nothing".
    #[error(
        "the store {path} is not a regular file: the store is a SQLite file (to keep nothing on disk, use --no-store)"
    )]
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    /// Not a SQLite database, or a damaged one.
    #[error(
        "{path} is not a hookscope store or is damaged ({detail}): move it aside (mv '{path}' '{path}.bad') and hookscope will start a new one there"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// Written by a newer hookscope.
    #[error(
        "the store {path} was written by a newer hookscope (schema {found}; this one knows up to {known}): upgrade hookscope, or use another file with --store"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// No store file there yet.
    #[error(
        "there is no store at {path} yet: hookscope creates it when it first receives (or pass --store PATH)"
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// Another process held the write lock for too long.
    #[error("the store {path} is busy: another process has held it for over 5 s")]
    Busy {
        /// The file.
        path: PathBuf,
    },
    /// No space left.
    #[error("the disk holding {path} is full: free some space or point --store elsewhere")]
    Full {
        /// The file.
        path: PathBuf,
    },
    /// Anything else SQLite reported.
    #[error("store {path}: {detail}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The writer has stopped.
    #[error("the store writer has stopped")]
    Closed,
    /// A query was stopped by [`Interrupt::interrupt`] (a newer search replaced it).
    #[error("the query was stopped")]
    Interrupted,
}

impl StoreError {
    fn from_sqlite(path: &Path, e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        let path = path.to_path_buf();
        let detail = e.to_string();
        match e.sqlite_error_code() {
            Some(C::NotADatabase | C::DatabaseCorrupt) => StoreError::Corrupt { path, detail },
            Some(C::OperationInterrupted) => StoreError::Interrupted,
            Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy { path },
            Some(C::DiskFull) => StoreError::Full { path },
            Some(C::CannotOpen | C::PermissionDenied | C::ReadOnly) => {
                StoreError::Open { path, detail }
            }
            _ => StoreError::Sqlite { path, detail },
        }
    }
}

/// Stops what a [`Store`] connection is running (a search of every body that a newer one has
/// replaced): it ends with [`StoreError::Interrupted`]. Nothing is stopped when nothing runs.
pub struct Interrupt(rusqlite::InterruptHandle);

impl Interrupt {
    /// Stops the statement running now, if any.
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

/// Which stored deliveries a query wants.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this event type, or with `*`, `?` or `[`, those this glob matches (SQLite's GLOB,
    /// case-sensitive as event types are).
    pub event_type: Option<String>,
    /// Only failures (rejected, answered 4xx/5xx, or not answered at all).
    pub failed: bool,
    /// Only those received at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only these many, the newest.
    pub limit: Option<u64>,
    /// Only those whose type, ids, path or body contain this text (ASCII case-insensitive).
    pub text: Option<String>,
}

/// How many deliveries to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// At most this many (the newest).
    pub max_count: Option<u64>,
    /// None older than this many days.
    pub max_days: Option<u64>,
}

impl Retention {
    /// The oldest arrival time `max_days` keeps, as of `now`; `None` when age is no limit.
    pub fn cutoff(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.max_days
            .map(|days| now - time::Duration::days(days.min(1_000_000) as i64))
    }
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            max_count: Some(DEFAULT_RETAIN),
            max_days: None,
        }
    }
}

/// A connection to the store file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// An import in progress ([`Store::importer`]): one transaction, so a file that turns out bad
/// halfway leaves nothing behind, while its deliveries are stored as they are read instead of
/// first held in memory all at once (a 700 MB HAR took 1.8 GiB that way).
pub struct Importer<'s> {
    tx: rusqlite::Transaction<'s>,
    path: PathBuf,
    session: String,
    /// Exported id → id here, for relinking replays.
    new_ids: std::collections::HashMap<u64, i64>,
    /// The first and last ids given.
    ids: Option<(i64, i64)>,
    count: u64,
    already: u64,
}

/// What [`Importer::add`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    /// Stored under this new id.
    Added(i64),
    /// The store already holds it (the same file imported twice, or an export of this very
    /// store), under this id: not stored again.
    AlreadyStored(i64),
}

/// What an import kept, once committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    /// Deliveries stored.
    pub added: u64,
    /// The first and last ids given, if any.
    pub ids: Option<(i64, i64)>,
    /// Deliveries left out because the store already held them.
    pub already: u64,
}

impl Importer<'_> {
    /// Adds one delivery, unless the store already holds it. Its id (`seq`) is the exporting
    /// store's, so a replay's link is moved to its original's id here when the original came
    /// before it in the same import, and dropped otherwise rather than left pointing at an
    /// unrelated delivery.
    pub fn add(&mut self, mut d: Delivery) -> Result<Imported, StoreError> {
        if let Some(of) = d.replay_of {
            d.replay_of = self.new_ids.get(&of).map(|&id| id.max(0) as u64);
            d.edited &= d.replay_of.is_some();
        }
        let row = codec::Row::from_delivery(&d, &self.session);
        let e = |e| StoreError::from_sqlite(&self.path, e);
        let held: Option<i64> = self
            .tx
            .prepare_cached(codec::SAME_DELIVERY)
            .and_then(|mut stmt| stmt.query_row(row.identity(), |r| r.get(0)))
            .optional()
            .map_err(e)?;
        let done = match held {
            Some(id) => {
                self.already += 1;
                Imported::AlreadyStored(id)
            }
            None => {
                self.tx
                    .prepare_cached(codec::INSERT)
                    .and_then(|mut stmt| stmt.execute(row.params()))
                    .map_err(e)?;
                let id = self.tx.last_insert_rowid();
                self.ids = Some(self.ids.map_or((id, id), |(first, _)| (first, id)));
                self.count += 1;
                Imported::Added(id)
            }
        };
        if d.seq != 0 {
            let (Imported::Added(id) | Imported::AlreadyStored(id)) = done;
            self.new_ids.insert(d.seq, id);
        }
        Ok(done)
    }

    /// Keeps everything added.
    pub fn commit(self) -> Result<ImportSummary, StoreError> {
        let summary = ImportSummary {
            added: self.count,
            ids: self.ids,
            already: self.already,
        };
        let path = self.path;
        self.tx
            .commit()
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
        Ok(summary)
    }
}

/// Where the store lives unless `--store` says otherwise: the user's data folder.
pub fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("hookscope").join("deliveries.sqlite3"))
}

impl Store {
    /// Opens (creating it, owner-only, when missing) and migrates the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if path.is_dir() {
            return Err(StoreError::Folder {
                path: path.to_path_buf(),
            });
        }
        if path.exists() && !path.is_file() {
            return Err(StoreError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            create_private_dir(dir).map_err(|e| StoreError::CreateDir {
                path: dir.to_path_buf(),
                detail: e.to_string(),
            })?;
        }
        if !path.exists() {
            match create_private_file(path) {
                // Another hookscope, started at the same moment, made it first.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(StoreError::Open {
                        path: path.to_path_buf(),
                        detail: e.to_string(),
                    });
                }
                Ok(_) => {}
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| StoreError::from_sqlite(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        schema::migrate(&store.conn).map_err(|e| match e {
            schema::MigrateError::TooNew { found, known } => StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            },
            schema::MigrateError::Sqlite(e) => StoreError::from_sqlite(path, e),
        })?;
        Ok(store)
    }

    /// Opens an existing store for reading only (history, show, export).
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Store::open(path)
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        let e = |e| StoreError::from_sqlite(&self.path, e);
        self.conn.busy_handler(Some(wait_briefly)).map_err(e)?;
        // WAL: readers (the UI, `history`) never block the writer. synchronous=NORMAL: a
        // commit is in the WAL before the answer goes out, safe from the process dying; only
        // an OS crash or power cut can lose the last commits (the README says so).
        let mode = self.switch_to_wal().map_err(e)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Sqlite {
                path: self.path.clone(),
                detail: format!("could not switch to WAL mode (got {mode})"),
            });
        }
        // journal_size_limit: when the WAL is rewound, its file is cut back to this size, so a
        // burst does not leave a large file behind for good.
        self.conn
            .execute_batch(&format!(
                "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA journal_size_limit={WAL_LIMIT};"
            ))
            .map_err(e)
    }

    /// `PRAGMA journal_mode=WAL`, tried again for up to [`BUSY_WAIT`] while another connection
    /// holds the file: SQLite answers busy at once there, without calling the busy handler (the
    /// switch starts as a reader, and a reader waiting to write could deadlock), so two
    /// hookscopes opening a new store together had one refuse to start.
    fn switch_to_wal(&self) -> rusqlite::Result<String> {
        let mut tries = 0;
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            {
                // The busy handler's own pace and limit, kept here by hand.
                Err(e)
                    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                        && try_again(tries, BUSY_WAIT) =>
                {
                    tries += 1;
                }
                done => return done,
            }
        }
    }

    /// Moves checkpoints off this connection: they run from [`Store::checkpoint`] on another
    /// thread, so commits never wait for the database file's fsync.
    pub fn defer_checkpoints(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(|e| self.err(e))
    }

    /// Copies committed pages from the WAL into the database file without blocking writers.
    /// Returns the WAL's size in bytes (its frames, each a page and its header).
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        let frames: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .map_err(|e| self.err(e))?;
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(frames.max(0) as u64 * (page.max(0) as u64 + 24))
    }

    /// Checkpoints everything and has the next write start the WAL from its beginning: waits
    /// for the writer to be between transactions and for readers to leave the WAL, holding
    /// writers off meanwhile, for at most `REWIND_WAIT` (50 ms). Under a steady stream of writes,
    /// passive checkpoints never catch up with the WAL's end, and SQLite only rewinds a WAL
    /// that has been checkpointed to its end: without this it grows for as long as the stream
    /// lasts. Returns whether it rewound (false: someone was still busy; try later).
    pub fn checkpoint_and_rewind(&mut self) -> Result<bool, StoreError> {
        if let Err(e) = self.conn.busy_handler(Some(wait_for_rewind)) {
            return Err(self.err(e));
        }
        let busy = self
            .conn
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = self.conn.busy_handler(Some(wait_briefly)) {
            return Err(self.err(e));
        }
        match busy {
            Ok(busy) => Ok(busy == 0),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                Ok(false)
            }
            Err(other) => Err(self.err(other)),
        }
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, e)
    }

    /// Inserts deliveries in one transaction; returns their ids, in order.
    pub fn insert(
        &mut self,
        deliveries: &[&Delivery],
        session: &str,
    ) -> Result<Vec<i64>, StoreError> {
        self.insert_rows(deliveries, session)
    }

    /// Starts an import: deliveries read from an export, added in order as they are read, all
    /// kept by [`Importer::commit`] or none (an importer dropped before it is committed leaves
    /// the store as it was).
    pub fn importer(&mut self, session: &str) -> Result<Importer<'_>, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| StoreError::from_sqlite(&path, e))?;
        Ok(Importer {
            tx,
            path,
            session: session.to_string(),
            new_ids: std::collections::HashMap::new(),
            ids: None,
            count: 0,
            already: 0,
        })
    }

    fn insert_rows(
        &mut self,
        deliveries: &[&Delivery],
        session: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let path = self.path.clone();
        let e = |e| StoreError::from_sqlite(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let mut ids = Vec::with_capacity(deliveries.len());
        {
            let mut stmt = tx.prepare_cached(codec::INSERT).map_err(e)?;
            for &d in deliveries {
                let row = codec::Row::from_delivery(d, session);
                stmt.execute(row.params()).map_err(e)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(e)?;
        Ok(ids)
    }

    /// Deliveries matching `filter`, oldest first (the newest `limit` of them).
    pub fn query(&self, filter: &Filter) -> Result<Vec<Delivery>, StoreError> {
        self.select(filter, true, |d| d)
    }

    /// Like [`Store::query`] without bodies and headers (for the UI's index; they load on
    /// demand), each already shared: the UI holds them as they come, and a hundred thousand
    /// records are not first gathered in a growing vector and then moved (which left tens of
    /// MiB of freed buffers in the inspector's resident memory).
    pub fn query_light(&self, filter: &Filter) -> Result<Vec<Arc<Delivery>>, StoreError> {
        self.select(filter, false, Arc::new)
    }

    fn select<T>(
        &self,
        filter: &Filter,
        bodies: bool,
        wrap: impl Fn(Delivery) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let (conditions, args) = conditions(filter);
        let mut sql = format!(
            "SELECT * FROM (SELECT {} FROM deliveries WHERE {conditions} ORDER BY id DESC",
            codec::columns(bodies)
        );
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        sql.push_str(") ORDER BY id ASC");
        self.rows(&sql, args, wrap)
    }

    /// The deliveries `sql` selects (with [`codec::columns`]), each wrapped by `wrap`.
    fn rows<T>(
        &self,
        sql: &str,
        args: Vec<rusqlite::types::Value>,
        wrap: impl Fn(Delivery) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(args), codec::Row::read)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(wrap(row.map_err(|e| self.err(e))?.into_delivery()));
        }
        Ok(out)
    }

    /// Hands each delivery `filter` selects, in full and oldest first, to `each` as it is
    /// read, so an export of any size holds one at a time. What it sees is the store as of
    /// the start: deliveries stored or pruned meanwhile by a running hookscope do not count.
    pub fn for_each<E: From<StoreError>>(
        &self,
        filter: &Filter,
        mut each: impl FnMut(Delivery) -> Result<(), E>,
    ) -> Result<(), E> {
        // One read transaction: the oldest id the limit keeps and the rows from it on are
        // read from the same snapshot.
        let snapshot = self.conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let (mut conditions, args) = conditions(filter);
        if let Some(limit) = filter.limit {
            let oldest: Option<i64> = snapshot
                .query_row(
                    &format!(
                        "SELECT min(id) FROM (SELECT id FROM deliveries WHERE {conditions} ORDER BY id DESC LIMIT {limit})"
                    ),
                    params_from_iter(args.iter()),
                    |r| r.get(0),
                )
                .map_err(|e| self.err(e))?;
            let Some(oldest) = oldest else {
                return Ok(());
            };
            conditions.push_str(&format!(" AND id >= {oldest}"));
        }
        let mut stmt = snapshot
            .prepare(&format!(
                "SELECT {} FROM deliveries WHERE {conditions} ORDER BY id ASC",
                codec::columns(true)
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params_from_iter(args), codec::Row::read)
            .map_err(|e| self.err(e))?;
        for row in rows {
            each(row.map_err(|e| self.err(e))?.into_delivery())?;
        }
        Ok(())
    }

    /// The messages still failing: of each message id among the deliveries `filter` selects
    /// (its type and time; its `failed` is implied), the newest delivery, where that one
    /// failed, oldest first, without bodies. A message a replay or the provider's retry got
    /// through since is not among them.
    pub fn failing_messages(&self, filter: &Filter) -> Result<Vec<Arc<Delivery>>, StoreError> {
        let (conditions, args) = conditions(&Filter {
            failed: false,
            limit: None,
            ..filter.clone()
        });
        let sql = format!(
            "SELECT {} FROM deliveries WHERE id IN (SELECT max(id) FROM deliveries WHERE msg_id IS NOT NULL AND {conditions} GROUP BY msg_id) AND {FAILED} ORDER BY id",
            codec::columns(false)
        );
        self.rows(&sql, args, Arc::new)
    }

    /// A handle that stops the query this connection is running, from another thread.
    pub fn interrupter(&self) -> Interrupt {
        Interrupt(self.conn.get_interrupt_handle())
    }

    /// Ids of deliveries whose body contains `text` (ASCII case-insensitive), for the UI filter.
    pub fn search_ids(&self, text: &str) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM deliveries WHERE instr(lower(CAST(body AS TEXT)), ?1) > 0 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let ids = stmt
            .query_map([text.to_lowercase()], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(|e| self.err(e))?;
        Ok(ids)
    }

    /// One delivery by the store's id, a message id or an event id (the newest match).
    pub fn find(&self, key: &str) -> Result<Option<Delivery>, StoreError> {
        let id: i64 = key.parse().unwrap_or(-1);
        self.first(
            "WHERE id = ?1 OR msg_id = ?2 OR event_id = ?2 ORDER BY (id = ?1) DESC, id DESC LIMIT 1",
            rusqlite::params![id, key],
        )
    }

    /// The ids, oldest first, of the deliveries whose message id or event id is `key` (a
    /// provider's retries and replays share them): at most `limit`.
    pub fn sharing(&self, key: &str, limit: u32) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM deliveries WHERE msg_id = ?1 OR event_id = ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let ids = stmt
            .query_map(rusqlite::params![key, limit], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?;
        ids.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The newest delivery in full, if any.
    pub fn newest(&self) -> Result<Option<Delivery>, StoreError> {
        self.first("ORDER BY id DESC LIMIT 1", [])
    }

    /// One delivery in full by the store's id.
    pub fn get(&self, id: i64) -> Result<Option<Delivery>, StoreError> {
        self.first("WHERE id = ?1", rusqlite::params![id])
    }

    /// The first full delivery selected by `clause` (WHERE … [ORDER BY …]).
    fn first(
        &self,
        clause: &str,
        params: impl rusqlite::Params,
    ) -> Result<Option<Delivery>, StoreError> {
        let sql = format!("SELECT {} FROM deliveries {clause}", codec::columns(true));
        let mut stmt = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query_map(params, codec::Row::read)
            .map_err(|e| self.err(e))?;
        match rows.next() {
            Some(row) => Ok(Some(row.map_err(|e| self.err(e))?.into_delivery())),
            None => Ok(None),
        }
    }

    /// How many deliveries are stored.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM deliveries", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The event types stored, the most frequent first, with how many carry each: at most
    /// `limit` of them (for saying what a `--type` that matched nothing could have been).
    pub fn types(&self, limit: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT event_type, count(*) FROM deliveries WHERE event_type IS NOT NULL
                 GROUP BY event_type ORDER BY count(*) DESC, event_type LIMIT ?",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Deletes what retention no longer keeps; returns how many went.
    pub fn prune(&self, retention: Retention, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut removed = 0;
        if let Some(cutoff) = retention.cutoff(now) {
            removed += self
                .conn
                .execute(
                    "DELETE FROM deliveries WHERE received_at_ns < ?1",
                    [codec::nanos(cutoff)],
                )
                .map_err(|e| self.err(e))? as u64;
        }
        // Finding the cut walks the newest `max` ids (through the id index, ~10 bytes each),
        // so first ask the id range, two lookups: it bounds the row count from above (ids only
        // grow), and a store within it has nothing to prune.
        if let Some(max) = retention.max_count
            && self.id_span()? > max
        {
            removed += self
                .conn
                .execute(
                    "DELETE FROM deliveries WHERE id <= (SELECT id FROM deliveries ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                    [max as i64],
                )
                .map_err(|e| self.err(e))? as u64;
        }
        Ok(removed)
    }

    /// `max(id) - min(id) + 1`, or 0 when empty: at least the number of rows held.
    fn id_span(&self) -> Result<u64, StoreError> {
        // Two subqueries, each answered from one end of the rowid tree.
        self.conn
            .query_row(
                "SELECT coalesce((SELECT max(id) FROM deliveries) - (SELECT min(id) FROM deliveries) + 1, 0)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| self.err(e))
    }

    /// SQLite's own consistency check: `Ok(())` when the file is sound.
    pub fn check_integrity(&self) -> Result<(), StoreError> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if result == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: result,
            })
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// A failure, as `history --failed` means it: rejected, answered 4xx/5xx, or not answered
/// ([`Delivery::failed`] in Rust).
const FAILED: &str = "(verified = 0 OR status >= 400 OR status = 0)";

/// The SQL condition `filter` makes (without its limit) and the values it binds.
fn conditions(filter: &Filter) -> (String, Vec<rusqlite::types::Value>) {
    let mut sql = String::from("1=1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(t) = &filter.event_type {
        // Without `*`, `?` or `[`, a glob matches the type itself, exactly (no index on the
        // type to lose: both scan).
        sql.push_str(" AND event_type GLOB ?");
        args.push(t.clone().into());
    }
    if filter.failed {
        sql.push_str(" AND ");
        sql.push_str(FAILED);
    }
    if let Some(since) = filter.since {
        sql.push_str(" AND received_at_ns >= ?");
        args.push(codec::nanos(since).into());
    }
    if let Some(text) = &filter.text {
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND (instr(lower(coalesce(event_type,'') || ' ' || coalesce(event_id,'') || ' ' || coalesce(msg_id,'') || ' ' || path), ?{n}) > 0 OR instr(lower(CAST(body AS TEXT)), ?{n}) > 0)"
        ));
        args.push(text.to_lowercase().into());
    }
    (sql, args)
}

/// Creates an empty file readable and writable by its owner only (payloads carry personal data).
pub fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests;
