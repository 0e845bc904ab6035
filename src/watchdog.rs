//! Closes connections that have sat idle, or trickled a request head that never completes
//! (slowloris), for longer than the head timeout: one timer for the whole receiver.
//!
//! Each connection used to have its own timer, raced against its server in a `select!`: every
//! request woke both, so each paid a timer poll and a waker registration it never needed.
//! Here a connection only counts its requests; a sweeper looks at every connection a few
//! times per limit and aborts the task of one that has done nothing for that long.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// Sweeps per limit: a connection is closed between `limit` and `limit × (1 + 2 / SWEEPS)`
/// after its last request ended.
const SWEEPS: u32 = 8;

/// One connection's requests so far.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    started: AtomicU64,
    finished: AtomicU64,
    /// Set when the watchdog closes the connection, before it does.
    timed_out: std::sync::atomic::AtomicBool,
}

impl Progress {
    /// Requests started on the connection so far.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Whether the watchdog closed the connection for doing nothing too long.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }
}

/// A request being handled; counted finished when dropped, however its handling ends
/// (answered, or abandoned because the client hung up).
pub(crate) struct InFlight(Arc<Progress>);

impl InFlight {
    /// Counts a request as started on `progress`'s connection.
    pub(crate) fn start(progress: &Arc<Progress>) -> InFlight {
        progress.started.fetch_add(1, Ordering::Relaxed);
        InFlight(progress.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// A watched connection, as the sweeper last saw it.
struct Watched {
    progress: Arc<Progress>,
    task: AbortHandle,
    /// Requests started plus requests finished, when the sweeper last looked.
    seen: u64,
    /// When the sweeper last saw activity (or the connection was registered).
    since: Instant,
}

impl Watched {
    /// False once the connection is gone: finished by itself, or aborted now for idling.
    fn keep(&mut self, now: Instant, limit: Duration) -> bool {
        if self.task.is_finished() {
            return false;
        }
        let started = self.progress.started.load(Ordering::Relaxed);
        let finished = self.progress.finished.load(Ordering::Relaxed);
        // Both only grow, so their sum moves whenever either does.
        let activity = started.wrapping_add(finished);
        if started != finished || activity != self.seen {
            // A request in flight keeps the connection however long its answer takes (its
            // body has its own timeout); one started or answered since the last sweep
            // restarts the count from now, which is after it.
            self.seen = activity;
            self.since = now;
            return true;
        }
        if now.duration_since(self.since) >= limit {
            // Dropping the connection's task closes it.
            self.progress.timed_out.store(true, Ordering::Relaxed);
            self.task.abort();
            return false;
        }
        true
    }
}

/// The receiver's watchdog; connections are handed to it as they are accepted.
pub(crate) struct Watchdog {
    watched: Arc<Mutex<Vec<Watched>>>,
    /// Beyond this many entries, registering drops those of finished connections first, so
    /// a burst of short connections between sweeps cannot grow the list without bound.
    prune_at: usize,
}

impl Watchdog {
    /// Starts the sweeper, which runs until this watchdog is dropped and every connection it
    /// was given has ended. `connections` is how many can be open at once.
    pub(crate) fn start(limit: Duration, connections: usize) -> Watchdog {
        let watched = Arc::new(Mutex::new(Vec::<Watched>::new()));
        let tick = (limit / SWEEPS).max(Duration::from_millis(1));
        let list = watched.clone();
        tokio::spawn(async move {
            let mut sweeps = tokio::time::interval(tick);
            sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                sweeps.tick().await;
                let now = Instant::now();
                let mut watched = list.lock().unwrap_or_else(PoisonError::into_inner);
                watched.retain_mut(|w| w.keep(now, limit));
                if watched.is_empty() && Arc::strong_count(&list) == 1 {
                    break; // the receiver has stopped and its last connection has ended
                }
            }
        });
        Watchdog {
            watched,
            prune_at: connections.saturating_mul(2).max(64),
        }
    }

    /// Watches the connection served by `task`, whose requests `progress` counts.
    pub(crate) fn watch(&self, progress: Arc<Progress>, task: AbortHandle) {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if watched.len() >= self.prune_at {
            // At most `connections` are alive, so this leaves room for as many again before
            // the next prune: amortised, each registration pays for one entry.
            watched.retain(|w| !w.task.is_finished());
        }
        watched.push(Watched {
            progress,
            task,
            seen: 0,
            since: Instant::now(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task that runs until aborted, and whether it still runs.
    fn forever() -> (AbortHandle, tokio::task::JoinHandle<()>) {
        let task = tokio::spawn(std::future::pending::<()>());
        (task.abort_handle(), task)
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_closed_after_the_limit_and_not_before() {
        let limit = Duration::from_secs(8);
        let dog = Watchdog::start(limit, 4);
        let (abort, task) = forever();
        dog.watch(Arc::new(Progress::default()), abort);
        tokio::time::sleep(limit - Duration::from_millis(1)).await;
        assert!(!task.is_finished(), "closed before the limit");
        tokio::time::sleep(limit * 2 / SWEEPS + Duration::from_millis(2)).await;
        assert!(task.await.unwrap_err().is_cancelled(), "not closed in time");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_keep_a_connection_open_and_one_in_flight_holds_it() {
        let limit = Duration::from_secs(8);
        let dog = Watchdog::start(limit, 4);
        let (abort, task) = forever();
        let progress = Arc::new(Progress::default());
        dog.watch(progress.clone(), abort);
        // A request every 6 s for a minute: never idle for 8.
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(6)).await;
            drop(InFlight::start(&progress));
        }
        assert!(!task.is_finished(), "closed while in use");
        // An answer that takes a minute is not cut off.
        let slow = InFlight::start(&progress);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!task.is_finished(), "closed with a request in flight");
        drop(slow);
        let idle_from = Instant::now();
        let cancelled = task.await.unwrap_err().is_cancelled();
        assert!(
            cancelled && idle_from.elapsed() >= limit,
            "{:?}",
            idle_from.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn finished_connections_leave_the_list_and_the_sweeper_ends_with_the_last() {
        let dog = Watchdog::start(Duration::from_secs(8), 2);
        let list = Arc::downgrade(&dog.watched);
        for _ in 0..1000 {
            let task = tokio::spawn(async {});
            dog.watch(Arc::new(Progress::default()), task.abort_handle());
            task.await.unwrap();
        }
        let held = list.upgrade().map(|l| l.lock().unwrap().len());
        assert!(held.is_some_and(|n| n <= 64), "{held:?} entries held");
        // Stopped receiver, one connection left: the sweeper keeps watching it, then ends.
        let (abort, task) = forever();
        dog.watch(Arc::new(Progress::default()), abort);
        drop(dog);
        assert!(task.await.unwrap_err().is_cancelled());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(list.upgrade().is_none(), "the sweeper is still running");
    }
}
