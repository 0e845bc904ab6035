//! The embedded HTTP receiver: accepts deliveries, verifies them, answers the sender the way the
//! reference receiver does, and publishes a [`Delivery`] for each request on a channel.
//!
//! It never touches the terminal. Answers: 200 `ok` (verified, or no secret configured), 401
//! `invalid signature`, 405 for anything but POST, 413 for bodies over the limit, 400 for bodies
//! cut short; a head that breaks HTTP's rules gets hyper's own 400, 414 or 431. Every request is
//! published, whatever its answer, the malformed ones with what was wrong ([`crate::malformed`]).

use crate::budget::{Budget, Share};
use crate::delivery::{self, Delivery, ResponseRecord};
use crate::forward::RespondMode;
use crate::probe;
use crate::verify::{Unchecked, Verdict, Verifier};
use crate::watchdog::{InFlight, Progress, Watchdog};
use bytes::{Bytes, BytesMut};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::borrow::Cow;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Default `--max-body`: 16 MiB.
pub const DEFAULT_MAX_BODY: u64 = 16 * 1024 * 1024;
/// Headers accepted in one request: hyper's default, which it parses into a stack array. A
/// higher limit costs a heap array of that size per request (a tenth of the receiver's time
/// at 1000), and webhooks carry a dozen headers plus a tunnel's few.
pub const MAX_HEADERS: usize = 100;
/// Default cap on connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// How the answer to a delivery the store could not keep begins; the store's error follows.
pub const NOT_STORED: &str = "could not store the delivery: ";

/// Deliveries held between the receiver and a slow consumer before the receiver waits.
pub const DEFAULT_QUEUE: usize = 65_536;

/// How the receiver is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0 picks a free one).
    pub bind: SocketAddr,
    /// Bodies larger than this are refused with 413 and not kept.
    pub max_body: u64,
    /// The verifier every POST goes through.
    pub verifier: Arc<Verifier>,
    /// Time allowed for a request head to arrive, counted from the connection's opening or its
    /// last answer: a connection idle (or trickling a head) this long is closed, within a
    /// quarter of this more (the receiver's watchdog sweeps eight times per timeout).
    pub header_timeout: Duration,
    /// Time allowed for a whole body to arrive once the head is in.
    pub body_timeout: Duration,
    /// Where deliveries are committed before they are answered; `None` keeps them in memory.
    pub store: Option<crate::store::Writer>,
    /// The app deliveries are relayed to.
    pub forward: Option<crate::forward::Forwarder>,
    /// What the sender is answered (switchable at run time).
    pub control: crate::forward::Control,
    /// The deliveries whose answer is still to be given (the app's, or the answer mode's
    /// delay): the inspector says how many and since when.
    pub waiting: crate::forward::Waiting,
    /// Connections served at once; further ones wait in the listen backlog until one closes
    /// (the head and body timeouts bound how long a stalled one can hold its place). An
    /// HTTP/2 connection takes as many places as the requests it may carry at once.
    pub max_connections: usize,
    /// Bytes of request bodies held at once, across connections, while they are read and
    /// answered (and queued, with `queued_bodies_count`); a body that would go past it is
    /// refused with 503. Never less than `max_body`, so one body of that size fits when
    /// nothing else is held.
    pub body_memory: u64,
    /// Publish each delivery without its body and headers, for a consumer that shows neither
    /// (the headless printer): a stalled consumer then holds a small record per queued
    /// delivery, not up to `max_body` of payload. The store, forwarding and the answer still
    /// see everything.
    pub summaries_only: bool,
    /// Publish a delivery the store has kept without its body and headers, for a consumer
    /// that loads them from the store when it shows them (the inspector): while it is not
    /// taking deliveries (an editor open on one, a terminal that takes no output), its queue
    /// holds records, not payloads and the read buffers they are slices of.
    pub stored_as_summaries: bool,
    /// Count the bodies of published deliveries against `body_memory` until the consumer gives
    /// them back ([`Budget::give_back`] on [`Receiver::bodies`]): a consumer that keeps them and
    /// stalls (the inspector while an editor runs) then holds at most that much, and senders
    /// get 503 meanwhile. Only for a consumer that gives each one back.
    pub queued_bodies_count: bool,
}

impl Config {
    /// A configuration with the defaults for everything but the address and verifier.
    pub fn new(bind: SocketAddr, verifier: Verifier) -> Self {
        Config {
            bind,
            max_body: DEFAULT_MAX_BODY,
            verifier: Arc::new(verifier),
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            store: None,
            forward: None,
            control: crate::forward::Control::new(RespondMode::Normal),
            waiting: crate::forward::Waiting::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_memory: crate::budget::DEFAULT_BODY_MEMORY,
            summaries_only: false,
            stored_as_summaries: false,
            queued_bodies_count: false,
        }
    }
}

/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The address could not be bound.
    // The OS error is in the message, not the error's source: the binary prints the whole
    // chain, which would say it twice.
    #[error("cannot listen on {addr}: {error}{hint}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        error: std::io::Error,
        /// Advice for the common cases.
        hint: &'static str,
    },
}

/// Counters the receiver keeps; readable from anywhere.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests answered.
    pub answered: AtomicU64,
    /// Times a request waited because the delivery queue was full.
    pub queue_full_waits: AtomicU64,
    /// Connections that ended in an error (malformed requests, clients gone mid-request) or
    /// could not be accepted.
    pub connection_errors: AtomicU64,
}

/// A running receiver.
pub struct Receiver {
    local_addr: SocketAddr,
    stats: Arc<Stats>,
    bodies: Arc<Budget>,
    task: JoinHandle<()>,
    stopper: Stopper,
}

/// Stops a receiver from elsewhere: the headless printer, which goes on printing what the
/// requests in progress publish while they finish.
#[derive(Clone)]
pub struct Stopper {
    shutdown: Arc<watch::Sender<bool>>,
    open: Open,
}

impl Stopper {
    /// Stops accepting connections and waits, up to [`DRAIN`], for the open ones to close once
    /// their requests in progress are answered (as [`Receiver::shutdown`] does).
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        // The accepting task holds a permit while it waits to accept; it lets go at the stop.
        self.drained().await;
    }

    async fn drained(&self) {
        let started = tokio::time::Instant::now();
        while self.open.any() && started.elapsed() < DRAIN {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Requests one HTTP/2 connection carries at once, and the `--max-connections` places it
/// takes: 100, or when there are fewer places, all but the one the accept loop holds for the
/// next connection (so they can all come free). hyper's 200 a connection, on 1,024
/// connections, let 204,800 requests be held at once, each with up to 16 KiB of headers that
/// HPACK lets a sender repeat for a byte or two. Not fewer than 100: RFC 9113 recommends no
/// less, clients open that many before the server's settings arrive (Go's do), and a stream
/// past the limit then is refused, which not every client retries (Node's does not).
fn h2_streams(permits: usize) -> usize {
    permits.saturating_sub(1).clamp(1, 100)
}

/// The connections open now: each holds one of the connection limit's permits (an HTTP/2
/// connection, as many as its streams).
#[derive(Clone)]
struct Open {
    slots: Arc<tokio::sync::Semaphore>,
    permits: usize,
}

impl Open {
    fn any(&self) -> bool {
        self.slots.available_permits() < self.permits
    }
}

struct Shared {
    config: Config,
    // Boxed: a 568-byte record copied into the queue's slot, out of it and into the consumer's
    // batch missed the cache ~34 times a delivery (cachegrind); a pointer travels instead, ~3%
    // of a small delivery's time.
    tx: mpsc::Sender<Box<Delivery>>,
    seq: AtomicU64,
    stats: Arc<Stats>,
    /// Turns true when the receiver is stopping: answers still waiting stop waiting.
    stopping: watch::Receiver<bool>,
    /// What the bodies being read and answered hold, out of `config.body_memory`.
    bodies: Arc<Budget>,
}

impl Receiver {
    /// Binds the address and starts serving; deliveries go to `tx`.
    pub async fn start(
        config: Config,
        tx: mpsc::Sender<Box<Delivery>>,
    ) -> Result<Receiver, ReceiverError> {
        let listener = Receiver::bind(config.bind).await?;
        Ok(Receiver::start_on(listener, config, tx))
    }

    /// Binds `addr`, saying why it cannot be: done first by a caller with more to set up, so
    /// a port in use fails before anything else is made (a store file, a folder for it).
    pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ReceiverError> {
        TcpListener::bind(addr)
            .await
            .map_err(|error| ReceiverError::Bind {
                addr,
                hint: match error.kind() {
                    std::io::ErrorKind::AddrInUse => {
                        " (another program, maybe another hookscope, uses that port: pick another with --port, or --port 0 for any free one)"
                    }
                    std::io::ErrorKind::PermissionDenied => {
                        " (ports below 1024 need privileges: use a higher --port)"
                    }
                    std::io::ErrorKind::AddrNotAvailable => {
                        " (that address is not on this machine: check --bind)"
                    }
                    _ => "",
                },
                error,
            })
    }

    /// Starts serving on a listener from [`Receiver::bind`]; deliveries go to `tx`.
    pub fn start_on(
        listener: TcpListener,
        config: Config,
        tx: mpsc::Sender<Box<Delivery>>,
    ) -> Receiver {
        // bind succeeded, so the socket has an address.
        let local_addr = listener.local_addr().unwrap_or(config.bind);
        let stats = Arc::new(Stats::default());
        let (shutdown, mut stop) = watch::channel(false);
        let bodies = Budget::new(config.body_memory.max(config.max_body));
        let shared = Arc::new(Shared {
            bodies: bodies.clone(),
            config,
            tx,
            seq: AtomicU64::new(0),
            stats: stats.clone(),
            stopping: stop.clone(),
        });
        let mut h1 = http1::Builder::new();
        // The head timeout is the watchdog's (src/watchdog.rs), not hyper's timer.
        // More than MAX_HEADERS headers get hyper's 431 (its default limit, left unset).
        h1.header_read_timeout(None)
            // Answers are a few bytes (a forwarded app's at most 1 MiB): copying the body
            // behind the head and writing once is cheaper than a vectored write of the two.
            .writev(false);
        // tokio's semaphore panics beyond MAX_PERMITS (2^61); anything near it is no limit.
        let permits = shared
            .config
            .max_connections
            .clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        let streams = h2_streams(permits);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new())
            .max_concurrent_streams(u32::try_from(streams).unwrap_or(u32::MAX));
        let slots = Arc::new(tokio::sync::Semaphore::new(permits));
        let open = Open {
            slots: slots.clone(),
            permits,
        };
        let watchdog = Watchdog::start(shared.config.header_timeout, shared.config.max_connections);
        let task = tokio::spawn(async move {
            loop {
                let slot = tokio::select! {
                    _ = stop.changed() => break,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                };
                let accepted = tokio::select! {
                    _ = stop.changed() => break,
                    accepted = listener.accept() => accepted,
                };
                let (stream, remote) = match accepted {
                    Ok(pair) => pair,
                    Err(_) => {
                        // Out of descriptors or a connection reset before accept: back off
                        // briefly instead of spinning, and keep serving.
                        shared
                            .stats
                            .connection_errors
                            .fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let (h1, h2) = (h1.clone(), h2.clone());
                let slots = slots.clone();
                let progress = Arc::new(Progress::default());
                let connection = tokio::spawn({
                    let progress = progress.clone();
                    async move {
                        let mut slot = slot;
                        let Some(opening) = sniff(&stream, shared.config.header_timeout).await
                        else {
                            return; // closed or silent before saying anything
                        };
                        if matches!(opening, Opening::Http2) && streams > 1 {
                            // Its requests count as HTTP/1's connections do, one each: what
                            // --max-connections bounds is requests at once. All at once,
                            // the one held given back first: two connections each holding
                            // part and waiting for the rest would wait for ever.
                            drop(slot);
                            let mut stopping = shared.stopping.clone();
                            slot = tokio::select! {
                                _ = stopping.wait_for(|stop| *stop) => return,
                                more = slots.acquire_many_owned(streams as u32) => match more {
                                    Ok(more) => more,
                                    Err(_) => return,
                                },
                            };
                        }
                        let _slot = slot;
                        let (http2, head) = match opening {
                            Opening::Http2 => (true, None),
                            Opening::Http1 { head } => {
                                (false, Some((head, OffsetDateTime::now_utc())))
                            }
                        };
                        // Records the head if the watchdog closes the connection before it
                        // ends (the task is aborted then, and only drops run).
                        let first = FirstHead {
                            head,
                            progress: progress.clone(),
                            shared: shared.clone(),
                            remote,
                        };
                        let service = {
                            let (shared, progress) = (shared.clone(), progress.clone());
                            service_fn(move |req| {
                                let in_flight = InFlight::start(&progress);
                                let shared = shared.clone();
                                async move {
                                    let answer = handle(req, remote, &shared).await;
                                    drop(in_flight);
                                    Ok::<_, Infallible>(answer)
                                }
                            })
                        };
                        let io = TokioIo::new(stream);
                        // Errors are malformed requests and timeouts; hyper has answered what
                        // could be answered, and nothing else is affected.
                        let stop = shared.stopping.clone();
                        let served = if http2 {
                            until_stopped(h2.serve_connection(io, service), stop, None).await
                        } else {
                            let first_head = first.head.is_some().then_some(&*progress);
                            until_stopped(h1.serve_connection(io, service), stop, first_head).await
                        };
                        let e = match served {
                            Served::Ended(Ok(())) => return,
                            Served::Ended(Err(e)) => e,
                            Served::FirstHeadCut => {
                                let mut first = first;
                                if let Some((head, began)) = first.head.take() {
                                    let verdict = Unchecked::HeadCutShort {
                                        received: head.len() as u64,
                                        error: STOPPED_MIDWAY.into(),
                                    };
                                    record_unfinished_head(&head, began, verdict, remote, &shared)
                                        .await;
                                }
                                return;
                            }
                        };
                        shared
                            .stats
                            .connection_errors
                            .fetch_add(1, Ordering::Relaxed);
                        // The opening bytes are the refused head's only when no request
                        // came before it on this connection.
                        let mut first = first;
                        let head = first.head.take().filter(|_| progress.started() == 0);
                        // In flight meanwhile, as a request is: the watchdog then
                        // leaves the task alone while the record waits for room in
                        // the queue.
                        let _recording = InFlight::start(&progress);
                        match head {
                            // Gone before its first head ended (hyper answers nothing).
                            Some((head, began)) if crate::malformed::answer(&e).is_none() => {
                                let verdict = Unchecked::HeadCutShort {
                                    received: head.len() as u64,
                                    error: crate::malformed::ending(&e),
                                };
                                record_unfinished_head(&head, began, verdict, remote, &shared)
                                    .await;
                            }
                            head => {
                                let head = head.as_ref().map(|(head, _)| head.as_slice());
                                record_refused_head(&e, head, remote, &shared).await;
                            }
                        }
                    }
                });
                watchdog.watch(progress, connection.abort_handle());
            }
        });
        Receiver {
            local_addr,
            stats,
            bodies,
            task,
            stopper: Stopper {
                shutdown: Arc::new(shutdown),
                open,
            },
        }
    }

    /// The address actually listened on (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The receiver's counters.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Bytes of request bodies the requests being read and answered hold now, with those
    /// queued for the consumer when it counts them.
    pub fn bodies_held(&self) -> u64 {
        self.bodies.held()
    }

    /// The memory budget for bodies, which a consumer that counts its queue gives back to.
    pub fn bodies(&self) -> Arc<Budget> {
        self.bodies.clone()
    }

    /// Stops accepting connections and closes the open ones once their requests in progress
    /// are answered (those waiting for the app or the answer mode's delay stop waiting), for up
    /// to [`DRAIN`]: what was being answered is answered and recorded, not cut off.
    pub async fn shutdown(self) {
        let _ = self.stopper.shutdown.send(true);
        let _ = self.task.await;
        self.stopper.drained().await;
    }

    /// What stops this receiver as [`Receiver::shutdown`] does, for a task that does not own
    /// it. Calling `shutdown` afterwards is harmless.
    pub fn stopper(&self) -> Stopper {
        self.stopper.clone()
    }
}

/// What a sender is answered when hookscope stops before its delivery could be handled.
const STOPPING: &str = "hookscope is shutting down";

/// How a request head or body still on its way when hookscope stopped ended, as recorded.
const STOPPED_MIDWAY: &str = "hookscope stopped before it came whole";

/// How long stopping waits for the requests in progress to be answered: those waiting for the
/// app or a delay stop waiting at once, so this covers committing and writing the answers (and
/// bounds a client that stalls meanwhile).
pub const DRAIN: Duration = Duration::from_secs(2);

/// How serving a connection ended.
enum Served<E> {
    /// By itself, or gracefully once the receiver stopped.
    Ended(Result<(), E>),
    /// The receiver stopped with the connection's first head still on its way: the connection
    /// is closed at once (hyper would wait for the head), and the head is the caller's to record.
    FirstHeadCut,
}

/// Serves `conn` until it ends or the receiver stops; then hyper answers the request in
/// progress, if any, and closes the connection. `first_head`, for an HTTP/1 connection that
/// opened with bytes, is its progress: with no request started when the stop comes, those
/// bytes are a head still on its way.
async fn until_stopped<C: hyper_util::server::graceful::GracefulConnection>(
    conn: C,
    mut stop: watch::Receiver<bool>,
    first_head: Option<&crate::watchdog::Progress>,
) -> Served<C::Error> {
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        // The connection first: it is what is ready nearly every time, and a head complete
        // when the stop is seen has started its request in this very poll.
        biased;
        served = conn.as_mut() => return Served::Ended(served),
        _ = stop.wait_for(|stop| *stop) => {}
    }
    if first_head.is_some_and(|p| p.started() == 0) {
        return Served::FirstHeadCut;
    }
    conn.as_mut().graceful_shutdown();
    Served::Ended(conn.await)
}

/// The first bytes a client speaking HTTP/2 with prior knowledge sends.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How a connection opened: HTTP/2's preface, or (anything else) HTTP/1 with the bytes it
/// opened with, kept to explain its first head should hyper refuse it.
enum Opening {
    Http2,
    Http1 { head: Vec<u8> },
}

/// How a connection opens, looked at with `peek` so the bytes stay in the socket for the
/// server that takes it. (hyper-util's auto server reads them instead and replays them through
/// a wrapper around every later read and write: 4% of a small delivery's time.) `None` when the
/// peer hangs up or says nothing conclusive within `wait`.
async fn sniff(stream: &TcpStream, wait: Duration) -> Option<Opening> {
    let sniff = async {
        let mut buf = vec![0u8; crate::malformed::CAPTURE];
        loop {
            let n = stream.peek(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            let k = n.min(H2_PREFACE.len());
            if buf[..k] != H2_PREFACE[..k] {
                buf.truncate(n);
                return Some(Opening::Http1 { head: buf });
            }
            if k == H2_PREFACE.len() {
                return Some(Opening::Http2);
            }
            // Part of the preface so far. peek would hand back the same bytes at once, so wait
            // a little for the rest; only a client trickling bytes gets here.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(wait, sniff).await.ok().flatten()
}

/// A connection's opening bytes (HTTP/1), kept to record a first request head that never ends:
/// when the watchdog closes the connection before any request came whole, dropping this (all
/// that runs in an aborted task) records what had come.
struct FirstHead {
    /// The bytes, and when they had come (the record's time); `None` for HTTP/2.
    head: Option<(Vec<u8>, OffsetDateTime)>,
    progress: Arc<crate::watchdog::Progress>,
    shared: Arc<Shared>,
    remote: SocketAddr,
}

impl Drop for FirstHead {
    fn drop(&mut self) {
        if !self.progress.timed_out() || self.progress.started() != 0 {
            return;
        }
        let Some((head, began)) = self.head.take() else {
            return; // HTTP/2: a preface and no request is not a request
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the runtime is going away with the receiver
        };
        let (shared, remote) = (self.shared.clone(), self.remote);
        let verdict = Unchecked::HeadIncomplete {
            received: head.len() as u64,
            ms: u64::try_from(shared.config.header_timeout.as_millis()).unwrap_or(u64::MAX),
        };
        runtime.spawn(async move {
            record_unfinished_head(&head, began, verdict, remote, &shared).await
        });
    }
}

/// Records a first request head the client began and did not finish (it stalled or left),
/// dated when it `began`.
async fn record_unfinished_head(
    head: &[u8],
    began: OffsetDateTime,
    verdict: Unchecked,
    remote: SocketAddr,
    shared: &Shared,
) {
    let verdict = Verdict::Unchecked(verdict);
    // Status 0: nothing was answered.
    let response = ResponseRecord {
        status: 0,
        body: Cow::Borrowed(""),
    };
    let mut record = Box::new(Delivery::new(
        shared.seq.fetch_add(1, Ordering::Relaxed) + 1,
        began,
        crate::malformed::request(Some(head), remote),
        verdict,
        response,
    ));
    let _ = commit(shared, &mut record).await;
    publish(shared, record).await;
}

/// Records a request head hyper refused with `e` (and answered itself), if it was one.
async fn record_refused_head(
    e: &hyper::Error,
    head: Option<&[u8]>,
    remote: SocketAddr,
    shared: &Shared,
) {
    let Some(status) = crate::malformed::answer(e) else {
        return;
    };
    let verdict = Verdict::Unchecked(Unchecked::Malformed {
        reason: crate::malformed::reason(e, status, head),
    });
    let response = ResponseRecord {
        status: status.as_u16(),
        body: Cow::Borrowed(""),
    };
    let mut record = Box::new(Delivery::new(
        shared.seq.fetch_add(1, Ordering::Relaxed) + 1,
        OffsetDateTime::now_utc(),
        crate::malformed::request(head, remote),
        verdict,
        response,
    ));
    // hyper has answered already: a record the store could not take is still shown.
    let _ = commit(shared, &mut record).await;
    shared.stats.answered.fetch_add(1, Ordering::Relaxed);
    publish(shared, record).await;
}

/// Commits the record to the store, when there is one; it then carries the store's id.
/// One that could not be committed has `seq` 0: its number in this run could be the store's id
/// of another delivery, and a replay of it would be linked to that one.
async fn commit(shared: &Shared, record: &mut Delivery) -> Result<(), crate::store::StoreError> {
    match &shared.config.store {
        Some(store) => {
            let result = store.append(Delivery::clone(record)).await;
            stored(record, result)
        }
        None => Ok(()),
    }
}

/// [`commit`], for a handler the sender's hang-up can drop: the row is stored whatever the
/// handler does, so should it be dropped while the store is busy (another process's write
/// lock, an import), the record is still published once committed, rather than stored and
/// never shown.
async fn commit_held(
    shared: &Arc<Shared>,
    mut record: Box<Delivery>,
) -> (Box<Delivery>, Result<(), crate::store::StoreError>) {
    let Some(store) = &shared.config.store else {
        return (record, Ok(()));
    };
    let committed = match store.submit(Delivery::clone(&record)) {
        Ok(committed) => committed,
        Err(e) => {
            record.seq = 0;
            return (record, Err(e));
        }
    };
    let (mut record, result) = Committing {
        shared: shared.clone(),
        record: Some((record, committed)),
    }
    .await;
    let result = stored(&mut record, result);
    (record, result)
}

/// A record whose commit is under way, held by its handler: resolves to the record and how
/// the commit went. Dropped first (with the handler), it finishes the job on a task of its
/// own: waits for the commit, then publishes.
struct Committing {
    shared: Arc<Shared>,
    /// Until the commit is done.
    record: Option<(Box<Delivery>, crate::store::Committed)>,
}

impl Future for Committing {
    type Output = (Box<Delivery>, Result<i64, crate::store::StoreError>);

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let Some((_, committed)) = &mut self.record else {
            // Polled again after it resolved: it never resolves twice.
            return std::task::Poll::Pending;
        };
        let result = std::task::ready!(std::pin::Pin::new(committed).poll(cx));
        match self.record.take() {
            Some((record, _)) => std::task::Poll::Ready((record, result)),
            None => std::task::Poll::Pending,
        }
    }
}

impl Drop for Committing {
    fn drop(&mut self) {
        let Some((mut record, committed)) = self.record.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the runtime is going away with the receiver
        };
        let shared = self.shared.clone();
        runtime.spawn(async move {
            let result = committed.await;
            let _ = stored(&mut record, result);
            // Not counted answered: the sender left before the answer went out.
            publish(&shared, record).await;
        });
    }
}

/// Notes on `record` how its commit went: the store's id, or `seq` 0 (see [`commit`]).
fn stored(
    record: &mut Delivery,
    result: Result<i64, crate::store::StoreError>,
) -> Result<(), crate::store::StoreError> {
    match result {
        Ok(id) => {
            record.seq = id.max(0) as u64;
            record.stored = true;
            Ok(())
        }
        Err(e) => {
            record.seq = 0;
            Err(e)
        }
    }
}

/// How much of a refused body is read and thrown away after the answer, at most, and for how
/// long: see [`linger`].
const LINGER_BYTES: u64 = 64 << 20;
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Reads and discards what a body refused unread goes on sending, for a while, so its sender
/// gets to read the 413: closed under its writes, the connection is reset and the answer lost
/// (the sender sees a broken pipe, not why). Servers call this a lingering close. A body larger
/// than [`LINGER_BYTES`] or slower than [`LINGER_TIME`] is cut off all the same.
fn linger(mut body: Incoming) {
    tokio::spawn(async move {
        let mut left = LINGER_BYTES;
        let discard = async {
            while let Some(Ok(frame)) = body.frame().await {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                left = left.saturating_sub(n);
                if left == 0 {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(LINGER_TIME, discard).await;
    });
}

enum BodyProblem {
    TooLarge {
        size: u64,
        declared: bool,
    },
    /// Taking more of it would have gone past the bodies' memory budget (`size` read so far).
    NoRoom {
        size: u64,
    },
    /// The body stopped short; `partial` is what came (kept: what a proxy let through is often
    /// the clue to why). `by_stop`: hookscope began stopping while it was on its way.
    Incomplete {
        error: String,
        partial: Bytes,
        by_stop: bool,
    },
}

/// Reads the whole body within the time allowed. A body that arrives as one frame (most do,
/// even at 64 KiB) is kept as hyper handed it over, a slice of its read buffer: copying it cost
/// a tenth of the receiver's time at 64 KiB. Whoever keeps deliveries for long owns a copy
/// instead (the inspector does), so the slice does not pin hyper's buffer. The receiver's stop
/// (`stopping`) ends the wait for a body still on its way. `share` grows to cover what is read.
async fn read_body(
    mut body: Incoming,
    limit: u64,
    hint: Option<u64>,
    timeout: Duration,
    stopping: &watch::Receiver<bool>,
    share: &mut Share<'_>,
) -> Result<Bytes, BodyProblem> {
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    let mut len = 0u64;
    let read = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| crate::malformed::ending(&e))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            len += data.len() as u64;
            if len > limit {
                return Ok(Some(BodyProblem::TooLarge {
                    size: len,
                    declared: false,
                }));
            }
            // A body with a content-length was covered whole before it was read.
            if !share.cover(len) {
                return Ok(Some(BodyProblem::NoRoom { size: len }));
            }
            if let Some(buf) = &mut joined {
                buf.extend_from_slice(&data);
            } else if first.is_empty() {
                first = data;
            } else {
                let mut buf =
                    BytesMut::with_capacity(hint.unwrap_or(len).clamp(len, limit) as usize);
                buf.extend_from_slice(&first);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
        }
        Ok::<_, String>(None)
    };
    let outcome = {
        // Most bodies are already in hyper's buffer with their head: one poll reads them, and
        // only a body still on its way arms the timer.
        let mut read = std::pin::pin!(read);
        let now = std::future::poll_fn(|cx| match read.as_mut().poll(cx) {
            std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await;
        match now {
            Some(r) => r.map_err(|error| (error, false)),
            // Stopping does not wait out a body still on its way: what came is recorded.
            None => {
                let mut stopping = stopping.clone();
                tokio::select! {
                    read = tokio::time::timeout(timeout, read) => read
                        .unwrap_or_else(|_| {
                            Err(format!("no complete body within {} s", timeout.as_secs()))
                        })
                        .map_err(|error| (error, false)),
                    _ = stopping.wait_for(|stop| *stop) => Err((STOPPED_MIDWAY.to_owned(), true)),
                }
            }
        }
    };
    let came = joined.map_or(first, BytesMut::freeze);
    match outcome {
        Ok(None) => Ok(came),
        Ok(Some(refused)) => {
            linger(body);
            Err(refused)
        }
        Err((error, by_stop)) => Err(BodyProblem::Incomplete {
            error,
            partial: came,
            by_stop,
        }),
    }
}

async fn handle(
    req: Request<Incoming>,
    remote: SocketAddr,
    shared: &Arc<Shared>,
) -> Response<Full<Bytes>> {
    let received_at = OffsetDateTime::now_utc();
    let (parts, body) = req.into_parts();
    let config = &shared.config;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.to_string());
    // Verification, the message id and the replay marker read the headers where hyper parsed
    // them; a copy is made only for a consumer that shows, stores or relays them (two
    // allocations per header, ~3% of a small delivery's time).
    let view: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let keep_headers = !config.summaries_only || config.store.is_some() || config.forward.is_some();
    let headers: Vec<(String, Vec<u8>)> = if keep_headers {
        view.iter()
            .map(|(n, v)| ((*n).to_owned(), v.to_vec()))
            .collect()
    } else {
        Vec::new()
    };
    // The announced length, as hyper parsed it from content-length (it refuses a malformed
    // or conflicting one with 400 before this runs); none for a chunked body.
    let declared = hyper::body::Body::size_hint(&body).exact();

    // Whether stopping cut the body short: the sender is then told to retry, not that it erred.
    let mut cut_by_stop = false;
    // This request's part of the bodies' memory, held until it is answered (or dropped).
    let mut share = shared.bodies.share();
    let (body, body_size, problem) = match declared {
        Some(len) if len > config.max_body => {
            refuse_unread(&parts.headers, body);
            (
                Bytes::new(),
                len,
                Some(Unchecked::BodyTooLarge {
                    limit: config.max_body,
                    size: len,
                    declared: true,
                }),
            )
        }
        // An announced body is covered whole before it is read: when it fits, the share
        // already holds it for the read below.
        Some(len) if !share.cover(len) => {
            refuse_unread(&parts.headers, body);
            (
                Bytes::new(),
                len,
                Some(Unchecked::NoRoom {
                    limit: shared.bodies.limit(),
                    size: len,
                    declared: true,
                }),
            )
        }
        _ => match read_body(
            body,
            config.max_body,
            declared,
            config.body_timeout,
            &shared.stopping,
            &mut share,
        )
        .await
        {
            Ok(bytes) => {
                let n = bytes.len() as u64;
                (bytes, n, None)
            }
            Err(BodyProblem::TooLarge { size, declared }) => (
                Bytes::new(),
                size,
                Some(Unchecked::BodyTooLarge {
                    limit: config.max_body,
                    size,
                    declared,
                }),
            ),
            Err(BodyProblem::NoRoom { size }) => (
                Bytes::new(),
                size,
                Some(Unchecked::NoRoom {
                    limit: shared.bodies.limit(),
                    size,
                    declared: false,
                }),
            ),
            Err(BodyProblem::Incomplete {
                error,
                partial,
                by_stop,
            }) => {
                let received = partial.len() as u64;
                cut_by_stop = by_stop;
                (
                    partial,
                    received,
                    Some(Unchecked::BodyIncomplete { error, received }),
                )
            }
        },
    };

    let mut fields = None;
    let verdict = match problem {
        Some(p) => Verdict::Unchecked(p),
        None if parts.method != Method::POST => Verdict::Unchecked(Unchecked::NotPost {
            method: parts.method.as_str().to_owned(),
        }),
        // The payload's id and type are read while the body is hashed, when it is.
        None => config.verifier.verify_alongside(
            &path,
            &view,
            &body,
            received_at.unix_timestamp(),
            &mut |passed| fields = Some(probe::event_fields_paced(&body, passed)),
        ),
    };
    let method = delivery::method_text(parts.method.as_str());
    let (replay_of, edited) = view
        .iter()
        .find(|(n, _)| *n == crate::forward::REPLAY_HEADER || *n == crate::forward::EDIT_HEADER)
        .and_then(|(n, v)| {
            let of = std::str::from_utf8(v).ok()?.trim().parse().ok()?;
            Some((Some(of), *n == crate::forward::EDIT_HEADER))
        })
        .unwrap_or((None, false));
    let fields = fields.unwrap_or_else(|| probe::event_fields(&body));
    // Forward whatever the verdict (the app verifies for itself), unless told otherwise; a body
    // that was refused or cut short cannot be relayed.
    let forwarder = config.forward.as_ref().filter(|f| {
        body_readable(&verdict) && !(f.verified_only && verdict.verified() != Some(true))
    });
    let mode = config.control.get();
    let mut record = Box::new(Delivery::with_fields(
        shared.seq.fetch_add(1, Ordering::Relaxed) + 1,
        received_at,
        delivery::Request {
            remote: Some(remote),
            method,
            path,
            version: http_version(parts.version),
            headers,
            body,
            body_size,
        },
        verdict,
        // Set below, once the answer is known.
        ResponseRecord {
            status: 0,
            body: Cow::Borrowed(""),
        },
        fields,
    ));
    if !keep_headers {
        record.msg_id = delivery::message_id(&view);
    }
    record.replay_of = replay_of;
    record.edited = edited;

    let mut out = if forwarder.is_some() || matches!(mode, RespondMode::Delay(_)) {
        // The answer takes a while: should the sender hang up meanwhile, hyper drops this
        // handler, and the guard records the delivery as unanswered instead of losing it.
        let mut waiting = Unanswered {
            record: Some(record),
            shared: shared.clone(),
            since: Instant::now(),
            counted: config.waiting.start(if forwarder.is_some() {
                crate::forward::Phase::App
            } else {
                crate::forward::Phase::Delay
            }),
        };
        let mut stopping = shared.stopping.clone();
        let out = match forwarder {
            Some(f) => {
                let d = waiting.record();
                let sent = f.send(&d.method, &d.path, &d.headers, Some(remote), d.body.clone());
                let relayed = tokio::select! {
                    relayed = sent => Some(relayed),
                    _ = stopping.wait_for(|stop| *stop) => None,
                };
                match relayed {
                    Some((result, app_headers)) => {
                        let mut out = Answer::from_app(&result, &app_headers);
                        out.apply(mode);
                        waiting.record().forward = Some(result);
                        out
                    }
                    // Stopping: the app is not waited for, and the sender is told to retry.
                    None => {
                        let ms = waiting.waited_ms();
                        let d = waiting.record();
                        d.forward = Some(crate::forward::ForwardResult::given_up(
                            f.url_for(&d.path),
                            crate::forward::ForwardError::Stopped { ms },
                            ms,
                        ));
                        Answer::text(StatusCode::SERVICE_UNAVAILABLE, STOPPING)
                    }
                }
            }
            None => {
                let mut out = Answer::from_verdict(&waiting.record().verdict);
                out.apply(mode);
                out
            }
        };
        if let RespondMode::Delay(d) = mode {
            waiting.counted.delaying();
            // Stopping cuts the delay short (or skips it, stopped already): the answer is
            // given, and the delivery kept.
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
        record = waiting.answered();
        out
    } else {
        let mut out = Answer::from_verdict(&record.verdict);
        out.apply(mode);
        out
    };
    if cut_by_stop {
        out = Answer::text(StatusCode::SERVICE_UNAVAILABLE, STOPPING);
    }
    record.response = out.record();
    // Committed before the answer goes out: a sender that saw 2xx can rely on it.
    let (mut record, committed) = commit_held(shared, record).await;
    if let Err(e) = committed {
        // Not stored, so not acknowledged: 503 makes the provider retry later.
        out = Answer::text(StatusCode::SERVICE_UNAVAILABLE, format!("{NOT_STORED}{e}"));
        record.response = out.record();
    }
    let stored = record.stored;
    // The body is the queue's to count from here (with `queued_bodies_count`), not twice.
    drop(share);
    if !publish(shared, record).await && !stored {
        // Nobody will show or keep it (hookscope is shutting down): not acknowledged, so the
        // provider retries it later instead of counting it delivered.
        out = Answer::text(StatusCode::SERVICE_UNAVAILABLE, STOPPING);
    }
    shared.stats.answered.fetch_add(1, Ordering::Relaxed);
    out.into_response()
}

/// A delivery whose answer is being waited for: the app's, or the end of the answer mode's
/// delay. hyper drops the handler when the sender hangs up meanwhile, and dropping this then
/// records the delivery, unanswered, rather than losing it.
struct Unanswered {
    /// The record, until it is answered.
    record: Option<Box<Delivery>>,
    shared: Arc<Shared>,
    since: Instant,
    /// Counted among those the inspector says are waiting, while this lives, in the phase of
    /// the wait: for the app, or for the delay.
    counted: crate::forward::Relaying,
}

impl Unanswered {
    /// The record being answered.
    fn record(&mut self) -> &mut Delivery {
        // Taken only by `answered`, which consumes the guard, and by `drop`.
        self.record
            .as_deref_mut()
            .expect("the record is held until answered")
    }

    /// Milliseconds waited so far.
    fn waited_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The record, now that the answer is given.
    fn answered(mut self) -> Box<Delivery> {
        self.record
            .take()
            .expect("the record is held until answered")
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        let Some(mut record) = self.record.take() else {
            return;
        };
        let waited = self.since.elapsed();
        let forwarding = self.counted.phase() == crate::forward::Phase::App;
        if let (true, Some(f)) = (forwarding, &self.shared.config.forward) {
            let ms = self.waited_ms();
            record.forward = Some(crate::forward::ForwardResult::given_up(
                f.url_for(&record.path),
                crate::forward::ForwardError::Abandoned { ms },
                ms,
            ));
        }
        // Status 0: nothing was answered; the text says why, where the inspector shows it.
        record.response = ResponseRecord {
            status: 0,
            body: Cow::Owned(format!(
                "the sender hung up after {}, {}",
                crate::forward::limit_text(waited),
                if forwarding {
                    "before the app answered"
                } else {
                    "during the answer mode's delay"
                }
            )),
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // the runtime is going away with the receiver
        };
        let shared = self.shared.clone();
        runtime.spawn(async move {
            let _ = commit(&shared, &mut record).await;
            publish(&shared, record).await;
        });
    }
}

/// `HTTP/1.1` and the like, as `Debug` writes them, without the formatting machinery.
fn http_version(v: http::Version) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_11 => "HTTP/1.1",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        other => return Cow::Owned(format!("{other:?}")),
    })
}

fn body_readable(verdict: &Verdict) -> bool {
    !matches!(
        verdict,
        Verdict::Unchecked(
            Unchecked::BodyTooLarge { .. }
                | Unchecked::NoRoom { .. }
                | Unchecked::BodyIncomplete { .. }
        )
    )
}

/// Turns a body away unread. A sender that asked to be told first (`Expect: 100-continue`)
/// sends nothing more once it has the answer; reading would tell it to go on (hyper answers
/// the read with "100 Continue"). Any other is read and thrown away for a while, so it gets
/// the answer rather than a reset connection.
fn refuse_unread(headers: &http::HeaderMap, body: Incoming) {
    if !headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
    {
        linger(body);
    }
}

/// The answer being built for the sender. Built from static parts in the common case: no text
/// copied, no header parsed and nothing allocated per delivery.
struct Answer {
    status: StatusCode,
    /// hookscope's own text answer (sent as `text/plain`), as given; `None` for the app's.
    text: Option<Cow<'static, str>>,
    /// The app's headers, or `allow` on a 405.
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

impl Answer {
    fn text(status: StatusCode, text: impl Into<Cow<'static, str>>) -> Answer {
        let text = text.into();
        let body = match &text {
            Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
            // Error texts only (rare): one copy for the wire, the text kept for the record.
            Cow::Owned(s) => Bytes::copy_from_slice(s.as_bytes()),
        };
        Answer {
            status,
            text: Some(text),
            headers: Vec::new(),
            body,
        }
    }

    fn from_verdict(verdict: &Verdict) -> Answer {
        let (status, text) = answer(verdict);
        let mut a = Answer::text(status, text);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            a.headers
                .push((header::ALLOW, HeaderValue::from_static("POST")));
        }
        a
    }

    /// The app's answer as it gave it (`headers` as they came), or 502/504 saying why there
    /// is none.
    fn from_app(f: &crate::forward::ForwardResult, headers: &http::HeaderMap) -> Answer {
        let status = StatusCode::from_u16(f.answer_status()).unwrap_or(StatusCode::BAD_GATEWAY);
        match &f.error {
            // Reached: it is hookscope itself.
            Some(e @ crate::forward::ForwardError::Loop) => Answer::text(
                status,
                format!("hookscope did not forward this delivery: {e}"),
            ),
            Some(e) => Answer::text(
                status,
                format!("hookscope could not reach the app at {}: {e}", f.url),
            ),
            // Its status is what the sender acts on (a 200 retried as a 502 would be handled
            // twice), and a body cut short would say what the app never said.
            None if f.body_cut => Answer::text(status, f.cut_note()),
            None => Answer {
                status,
                text: None,
                headers: headers
                    .iter()
                    // hyper sets content-length for the body it sends.
                    .filter(|(n, _)| {
                        !crate::forward::is_hop_by_hop(n.as_str()) && *n != header::CONTENT_LENGTH
                    })
                    .map(|(n, v)| (n.clone(), v.clone()))
                    .collect(),
                body: f.body.clone(),
            },
        }
    }

    fn apply(&mut self, mode: RespondMode) {
        match mode {
            RespondMode::Normal | RespondMode::Delay(_) => {}
            RespondMode::Status(code) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                *self = Answer::text(status, format!("hookscope response mode status:{code}"));
            }
            RespondMode::Flaky(p) => {
                if rand::random::<f64>() < p {
                    *self = Answer::text(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("hookscope response mode flaky:{p}"),
                    );
                }
            }
        }
    }

    fn record(&self) -> ResponseRecord {
        const KEPT: usize = 4096;
        let body = match &self.text {
            // hookscope's own answer as given: the usual ones ("ok", "invalid signature") are
            // static, so nothing is copied per delivery.
            Some(text) if text.len() <= KEPT => text.clone(),
            _ => String::from_utf8_lossy(&self.body[..self.body.len().min(KEPT)])
                .into_owned()
                .into(),
        };
        ResponseRecord {
            status: self.status.as_u16(),
            body,
        }
    }

    fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        let h = response.headers_mut();
        if self.text.is_some() {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        for (name, value) in self.headers {
            h.append(name, value);
        }
        response
    }
}

/// The status and body the reference receiver gives for a verdict.
pub fn answer(verdict: &Verdict) -> (StatusCode, &'static str) {
    match verdict {
        Verdict::Verified(_) => (StatusCode::OK, "ok"),
        Verdict::Failed(_) => (StatusCode::UNAUTHORIZED, "invalid signature"),
        Verdict::Unchecked(
            Unchecked::NoSecret | Unchecked::NoSecretForPath { .. } | Unchecked::Unreadable { .. },
        ) => (StatusCode::OK, "ok"),
        Verdict::Unchecked(Unchecked::NotPost { .. }) => {
            (StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        Verdict::Unchecked(Unchecked::BodyTooLarge { .. }) => {
            (StatusCode::PAYLOAD_TOO_LARGE, "payload too large")
        }
        // Not the sender's fault: a retry later finds room.
        Verdict::Unchecked(Unchecked::NoRoom { .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many request bodies held at once: try again later",
        ),
        Verdict::Unchecked(Unchecked::BodyIncomplete { .. }) => {
            (StatusCode::BAD_REQUEST, "incomplete body")
        }
        // hyper's own answer, without a body: 400 here, 414 or 431 for a head too long (the
        // record says which).
        Verdict::Unchecked(Unchecked::Malformed { .. }) => (StatusCode::BAD_REQUEST, ""),
        // Nothing is sent, the connection is closed (the record's status is 0); 408 is what
        // servers log for it.
        Verdict::Unchecked(Unchecked::HeadIncomplete { .. }) => (StatusCode::REQUEST_TIMEOUT, ""),
        // Nobody is left to answer; servers log 400 for a request that ended early.
        Verdict::Unchecked(Unchecked::HeadCutShort { .. }) => (StatusCode::BAD_REQUEST, ""),
    }
}

/// Hands the record to the consumer (UI or printer), without its body and headers when the
/// consumer shows neither, or loads them from the store; false when it is gone (shutting down).
async fn publish(shared: &Shared, mut delivery: Box<Delivery>) -> bool {
    if shared.config.summaries_only || (shared.config.stored_as_summaries && delivery.stored) {
        delivery.body = Bytes::new();
        delivery.headers = Vec::new();
    }
    // Counted before it is queued: the consumer may take it and give it back at once.
    let queued = if shared.config.queued_bodies_count {
        delivery.body.len() as u64
    } else {
        0
    };
    shared.bodies.queued(queued);
    match shared.tx.try_send(delivery) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(delivery)) => {
            // The queue is full: hold this answer until the consumer catches up rather than drop
            // the record. Senders see slower answers, never a lost delivery.
            shared
                .stats
                .queue_full_waits
                .fetch_add(1, Ordering::Relaxed);
            // Sent from a task of its own: should the sender hang up meanwhile (hyper then
            // drops the handler waiting here), the record still goes out.
            let (tx, bodies) = (shared.tx.clone(), shared.bodies.clone());
            tokio::spawn(async move {
                let sent = tx.send(delivery).await.is_ok();
                if !sent {
                    bodies.give_back(queued);
                }
                sent
            })
            .await
            .unwrap_or(false)
        }
        Err(mpsc::error::TrySendError::Closed(_)) => {
            shared.bodies.give_back(queued);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::h2_streams;

    #[test]
    fn an_http2_connection_carries_up_to_100_and_leaves_the_accept_loop_its_place() {
        assert_eq!(
            h2_streams(1),
            1,
            "its own place, with one connection at all"
        );
        assert_eq!(h2_streams(2), 1);
        assert_eq!(h2_streams(4), 3);
        assert_eq!(h2_streams(101), 100);
        assert_eq!(h2_streams(1024), 100);
        assert_eq!(h2_streams(tokio::sync::Semaphore::MAX_PERMITS), 100);
    }
}
