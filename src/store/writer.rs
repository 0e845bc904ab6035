//! The writer thread: owns the write connection and commits whatever requests are waiting as one
//! transaction (group commit), answering each request once its delivery is durable. Retention
//! pruning runs here too, between batches, so it never races the inserts.

use super::{Retention, Store, StoreError};
use crate::delivery::Delivery;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// Most deliveries committed in one transaction.
const MAX_BATCH: usize = 512;
/// Prune after this many inserts, or this long, whichever comes first.
const PRUNE_EVERY: u64 = 256;
const PRUNE_INTERVAL: Duration = Duration::from_secs(30);
/// How long a batch waits for more requests before committing.
const LINGER: Duration = Duration::from_micros(500);
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// How long the checkpointer waits before trying a rewind again after one gave up.
const REWIND_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Debug)]
struct Job {
    delivery: Delivery,
    done: oneshot::Sender<Result<i64, StoreError>>,
}

/// A cheap, cloneable handle for appending to the store.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: std_mpsc::Sender<Job>,
}

/// The store's threads, for waiting until they have closed their connections: the last
/// connection to close folds the WAL into the database file and removes it, so a store left
/// after a clean exit is one self-contained file.
#[derive(Debug)]
pub struct Closing {
    /// Disconnected once every thread has dropped its sender, on its way out.
    done: std_mpsc::Receiver<()>,
}

impl Closing {
    /// Waits, up to `limit`, for the writer to commit what it holds and for both connections
    /// to close; that starts once every [`Writer`] clone is dropped. False when time ran out
    /// (nothing is lost then: SQLite replays the WAL at the next open).
    pub fn wait(self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.done.recv_timeout(left) {
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(std_mpsc::RecvTimeoutError::Timeout) => return false,
                Ok(()) => {}
            }
        }
    }
}

impl Writer {
    /// Starts the writer thread on an opened store, pruning to `retention` first.
    pub fn start(store: Store, retention: Retention) -> std::io::Result<(Writer, Closing)> {
        let (tx, rx) = std_mpsc::channel::<Job>();
        let (finished, done) = std_mpsc::channel::<()>();
        // A second connection checkpoints in the background; if it cannot be opened, the
        // writer keeps SQLite's automatic checkpoints.
        let (alive, writer_gone) = std_mpsc::channel::<()>();
        if let Ok(checkpointer) = Store::open(store.path())
            && store.defer_checkpoints().is_ok()
        {
            let finished = finished.clone();
            std::thread::Builder::new()
                .name("store-checkpoint".into())
                .spawn(move || {
                    checkpoints(checkpointer, writer_gone);
                    drop(finished);
                })?;
        }
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                run(store, retention, rx);
                drop(alive);
                drop(finished);
            })?;
        Ok((Writer { tx }, Closing { done }))
    }

    /// Stores a delivery; resolves once it is committed, with its id.
    pub async fn append(&self, delivery: Delivery) -> Result<i64, StoreError> {
        self.submit(delivery)?.await
    }

    /// Hands a delivery to the writer, which stores it whether or not the result is awaited;
    /// the result says when it is committed, with its id.
    pub fn submit(&self, delivery: Delivery) -> Result<Committed, StoreError> {
        let (done, rx) = oneshot::channel();
        self.tx
            .send(Job { delivery, done })
            .map_err(|_| StoreError::Closed)?;
        Ok(Committed(rx))
    }
}

/// A delivery's commit under way: resolves to its id once committed.
#[derive(Debug)]
pub struct Committed(oneshot::Receiver<Result<i64, StoreError>>);

impl std::future::Future for Committed {
    type Output = Result<i64, StoreError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(StoreError::Closed)))
    }
}

fn run(mut store: Store, retention: Retention, rx: std_mpsc::Receiver<Job>) {
    let session = session_id();
    let _ = store.prune(retention, OffsetDateTime::now_utc());
    let mut since_prune = 0u64;
    let mut last_prune = Instant::now();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        let drain = |jobs: &mut Vec<Job>| {
            while jobs.len() < MAX_BATCH
                && let Ok(job) = rx.try_recv()
            {
                jobs.push(job);
            }
        };
        drain(&mut jobs);
        if jobs.len() == 1 {
            // Linger for requests already on their way: under load this turns many tiny
            // commits into a few large ones; when idle it costs one short wait. Asleep, not
            // waiting on the channel, which woke this thread for every request that arrived
            // (two context switches per delivery when it shares a core with the receiver).
            std::thread::sleep(LINGER);
            drain(&mut jobs);
        }
        let deliveries: Vec<&Delivery> = jobs.iter().map(|j| &j.delivery).collect();
        let inserted = deliveries.len() as u64;
        match store.insert(&deliveries, &session) {
            Ok(ids) => {
                for (job, id) in jobs.into_iter().zip(ids) {
                    let _ = job.done.send(Ok(id));
                }
            }
            Err(e) => {
                for job in jobs {
                    let _ = job.done.send(Err(e.clone()));
                }
            }
        }
        since_prune += inserted;
        if since_prune >= prune_step(retention) || last_prune.elapsed() >= PRUNE_INTERVAL {
            let _ = store.prune(retention, OffsetDateTime::now_utc());
            since_prune = 0;
            last_prune = Instant::now();
        }
    }
}

/// Deliveries between prunes. Pruning to a count walks that many ids, so with a large
/// `--retain` it runs once per 32nd of it (the store briefly holds up to ~3% more than asked)
/// and each delivery pays for a walk of 32 ids at most; with a small one, every PRUNE_EVERY.
fn prune_step(retention: Retention) -> u64 {
    retention
        .max_count
        .map_or(PRUNE_EVERY, |max| (max / 32).max(PRUNE_EVERY))
}

fn checkpoints(mut store: Store, writer_gone: std_mpsc::Receiver<()>) {
    // After a rewind that had to give up (a reader still in the WAL), the next tries wait a
    // while: each one holds the writer off for up to its limit.
    let mut rewind_after = Instant::now();
    loop {
        match writer_gone.recv_timeout(CHECKPOINT_EVERY) {
            Err(std_mpsc::RecvTimeoutError::Timeout) => {
                if store.checkpoint().is_ok_and(|wal| wal > super::WAL_LIMIT)
                    && Instant::now() >= rewind_after
                {
                    // A second passive pass copies what arrived during the first without
                    // holding anyone up, leaving the rewind (which holds the writer) less to do.
                    let _ = store.checkpoint();
                    if !store.checkpoint_and_rewind().unwrap_or(false) {
                        rewind_after = Instant::now() + REWIND_BACKOFF;
                    }
                }
            }
            // The writer has stopped: one last checkpoint (all there is to do when another
            // process still has the store open), then done. Closing this connection, when it
            // is the last, also folds the WAL into the database file and removes it.
            _ => {
                let _ = store.checkpoint();
                return;
            }
        }
    }
}

/// A label for this run, so history can tell sessions apart.
fn session_id() -> String {
    format!(
        "{}-{}",
        OffsetDateTime::now_utc().unix_timestamp(),
        std::process::id()
    )
}
