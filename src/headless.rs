//! Headless mode: one line per delivery on stdout, human or JSON, for scripts and CI.

use crate::delivery::Delivery;
use crate::sanitize;
use crate::signals::Signal;
use crate::stdout::Output;
use crate::verify::{Unchecked, Verdict};
use std::borrow::Cow;
use std::io::{self, Write as _};
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

/// How each delivery is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `✓ customer.created · evt_… (msg_…)`, like the reference receiver.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Text handed to stdout in one write at most: a burst is written as it is formatted, and a
/// stalled stdout holds at most this much besides the queued deliveries.
const WRITE_BATCH: usize = 64 * 1024;

/// Deliveries taken from the queue at once.
const TAKE: usize = 256;

/// How long a run that has ended by itself waits on a stdout that takes nothing.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// When a run ends by itself, for scripts and CI (`--exit-after`, `--timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Until {
    /// Once this many deliveries are printed.
    pub count: Option<u64>,
    /// At this moment.
    pub deadline: Option<tokio::time::Instant>,
    /// Once the run has ended by itself (or by SIGTERM), how long stdout may take nothing
    /// before the lines still to print are given up on. A run meant to end by itself, or
    /// ended by a process manager (in CI, with nobody there to interrupt it twice), must end
    /// even when its reader is stuck.
    pub patience: Duration,
}

impl Default for Until {
    fn default() -> Self {
        Until {
            count: None,
            deadline: None,
            patience: PATIENCE,
        }
    }
}

/// How a run went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Printed {
    /// Deliveries printed.
    pub lines: u64,
    /// Of the deliveries answered, printed or not, the ✗ ones: failed verification, or
    /// refused (405, 413, no room for the body, a body cut short).
    pub failures: u64,
    /// The run ended at [`Until::deadline`].
    pub timed_out: bool,
    /// Answered deliveries whose lines were given up on: after the run ended by itself or by
    /// SIGTERM, stdout took nothing for [`Until::patience`].
    pub abandoned: u64,
}

impl Printed {
    /// The exit status for a run that was to end by itself: 124 when the deadline came before
    /// the count, else 1 when any delivery failed, else 0. A run ended only by an interrupt
    /// exits 0, as it always has. Lines given up on count as the deliveries they were.
    pub fn status(&self, until: &Until) -> u8 {
        let answered = self.lines + self.abandoned;
        if until.count.is_none() && until.deadline.is_none() {
            0
        } else if self.timed_out && until.count.is_some_and(|n| answered < n) {
            124
        } else if self.failures > 0 {
            1
        } else {
            0
        }
    }
}

/// Whether a delivery's line is a ✗ one.
fn failed(d: &Delivery) -> bool {
    match &d.verdict {
        Verdict::Verified(_) => false,
        Verdict::Failed(_) => true,
        Verdict::Unchecked(u) => u.refused(),
    }
}

/// Prints deliveries from `rx` until the channel closes, a signal comes (`signal` makes a
/// future that completes at the next one), `until` says so, or the output fails (a closed
/// pipe). Returns what was printed.
///
/// On the first signal (or when `until` is reached) the run stops the receiver
/// (`stop_receiving` makes a future that completes once it has): no connection is accepted
/// any more, and the requests in progress finish, each published to the channel and printed.
/// Then the channel is closed and what it still holds is printed: the receiver answers a
/// delivery only once it is in the store or the channel has taken it, so with the receiver
/// stopped first every delivery it answered gets its line. If stdout is not being read that
/// could wait for ever, so a second signal gives up (an error of kind `Interrupted`), and so
/// does a run that ended by itself or by SIGTERM once stdout has taken nothing for
/// [`Until::patience`] ([`Printed::abandoned`] says how many lines it gave up on). After
/// Ctrl-C it waits: someone is there to press it again.
pub async fn run<F: Future<Output = Signal>, G: Future<Output = ()>>(
    mut rx: mpsc::Receiver<Box<Delivery>>,
    format: Format,
    mut out: Output,
    until: Until,
    signal: impl FnMut() -> F,
    stop_receiving: impl FnOnce() -> G,
) -> io::Result<Printed> {
    let mut stops = Stops::new(signal, until);
    let mut closing = Closing {
        begin: Some(stop_receiving),
        stopping: None,
    };
    let mut printed = Printed::default();
    let mut buf = Vec::with_capacity(WRITE_BATCH);
    let mut queued = Vec::with_capacity(TAKE);
    loop {
        // What is queued, in one take: the queue's permits go back in one step for the lot
        // rather than under a lock per delivery.
        let taken = tokio::select! {
            n = rx.recv_many(&mut queued, TAKE) => n,
            // The receiver has stopped: what the channel still holds is the last.
            () = closing.stopped() => {
                rx.close();
                continue;
            }
            stop = stops.next() => match stop {
                Stop::First => {
                    closing.begin();
                    continue;
                }
                Stop::Again => return Err(gave_up()),
                // Nothing waits on stdout here, so this is only ever a timer that ran out
                // while lines were being formatted: the next write gives up at once.
                Stop::Stalled => rx.recv_many(&mut queued, TAKE).await,
            },
        };
        if taken == 0 {
            break; // closed and empty
        }
        // A burst goes out in writes of up to WRITE_BATCH; the rest as soon as the queue is
        // drained, so a script reading line by line sees each delivery without delay.
        let mut batch = queued.drain(..).peekable();
        while let Some(d) = batch.next() {
            write_line(&mut buf, &d, format);
            printed.failures += u64::from(failed(&d));
            if buf.len() >= WRITE_BATCH || batch.peek().is_none() {
                match write(
                    &mut out,
                    &buf,
                    &mut stops,
                    &mut closing,
                    &mut rx,
                    &mut printed.lines,
                )
                .await
                {
                    Ok(()) => buf.clear(),
                    Err(halt) => return halted(halt, printed, &stops, batch, &mut rx),
                }
            }
        }
    }
    printed.timed_out = stops.timed_out;
    Ok(printed)
}

/// How a run ends when [`write()`] stops short. Given up on a stalled stdout, the run's lines
/// not yet out and every delivery not yet formatted (`rest`, then what the closed queue still
/// holds) were all answered, so they are counted, and their failures with them.
fn halted<S, F>(
    halt: Halt,
    mut printed: Printed,
    stops: &Stops<S, F>,
    rest: impl Iterator<Item = Box<Delivery>>,
    rx: &mut mpsc::Receiver<Box<Delivery>>,
) -> io::Result<Printed> {
    match halt {
        Halt::Io(e) => Err(e),
        Halt::GaveUp => Err(gave_up()),
        Halt::Stalled { unwritten } => {
            printed.abandoned = unwritten;
            for d in rest.chain(std::iter::from_fn(|| rx.try_recv().ok())) {
                printed.abandoned += 1;
                printed.failures += u64::from(failed(&d));
            }
            printed.timed_out = stops.timed_out;
            Ok(printed)
        }
    }
}

/// Why [`write()`] stopped short.
enum Halt {
    Io(io::Error),
    /// A second interrupt.
    GaveUp,
    /// Stdout took nothing for the run's patience after it ended by itself or by SIGTERM;
    /// `unwritten` lines
    /// of the batch (a line cut short counts) did not go out.
    Stalled {
        unwritten: u64,
    },
}

/// The receiver's stop, once the run is ending: the channel stays open while the requests in
/// progress finish and publish, and closes when the receiver has stopped.
struct Closing<B, G> {
    /// Starts the stop; taken when the run begins to end.
    begin: Option<B>,
    /// The stop under way, until it completes.
    stopping: Option<std::pin::Pin<Box<G>>>,
}

impl<B: FnOnce() -> G, G: Future<Output = ()>> Closing<B, G> {
    /// Stops the receiver, unless that has begun already.
    fn begin(&mut self) {
        if let Some(begin) = self.begin.take() {
            self.stopping = Some(Box::pin(begin()));
        }
    }

    /// Completes once the receiver has stopped: never before the stop began, and once only.
    /// Dropping it while it waits loses nothing (the stop lives in `self`).
    async fn stopped(&mut self) {
        match &mut self.stopping {
            Some(stopping) => {
                stopping.as_mut().await;
                self.stopping = None;
            }
            None => std::future::pending().await,
        }
    }
}

/// Writes `buf`, however long stdout takes to read it, adding each line that goes out to
/// `lines`. A signal meanwhile stops the receiver (what it publishes meanwhile and what the
/// channel holds are still printed); a second gives up, and so does a run that has ended by
/// itself or by SIGTERM once stdout takes nothing for its patience.
async fn write<S: FnMut() -> F, F: Future<Output = Signal>, B: FnOnce() -> G, G>(
    out: &mut Output,
    buf: &[u8],
    stops: &mut Stops<S, F>,
    closing: &mut Closing<B, G>,
    rx: &mut mpsc::Receiver<Box<Delivery>>,
    lines: &mut u64,
) -> Result<(), Halt>
where
    G: Future<Output = ()>,
{
    let mut rest = buf;
    while !rest.is_empty() {
        let mut write = std::pin::pin!(out.write_some(rest));
        let written = loop {
            tokio::select! {
                written = &mut write => break written.map_err(Halt::Io)?,
                () = closing.stopped() => rx.close(),
                stop = stops.next() => match stop {
                    Stop::First => closing.begin(),
                    Stop::Again => return Err(Halt::GaveUp),
                    Stop::Stalled => {
                        let unwritten = memchr::memchr_iter(b'\n', rest).count() as u64;
                        return Err(Halt::Stalled { unwritten });
                    }
                },
            }
        };
        let (sent, left) = rest.split_at(written);
        rest = left;
        *lines += memchr::memchr_iter(b'\n', sent).count() as u64;
        // Any progress, however slow the reader: only a stdout that takes nothing is given up on.
        stops.progress();
        if stops.count.is_some_and(|n| *lines >= n) {
            // Enough: what is queued and what is in progress still get printed, then the run
            // ends.
            closing.begin();
            stops.count = None;
            stops.deadline = None;
            stops.ended_by_itself();
        }
    }
    Ok(())
}

fn gave_up() -> io::Error {
    io::Error::new(
        io::ErrorKind::Interrupted,
        "interrupted twice: exiting before every answered delivery was printed (stdout was not being read)",
    )
}

/// The interrupts so far, and the deadline, which counts as the first.
struct Stops<S, F> {
    signal: S,
    /// The lines after which the run ends, until it has.
    count: Option<u64>,
    next: std::pin::Pin<Box<F>>,
    deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    stopped: bool,
    timed_out: bool,
    patience: Duration,
    /// Armed once the run has ended by itself; pushed back by every write that goes out.
    stall: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

enum Stop {
    First,
    Again,
    /// The run ended by itself or by SIGTERM, and stdout has since taken nothing for its
    /// patience.
    Stalled,
}

impl<S: FnMut() -> F, F: Future<Output = Signal>> Stops<S, F> {
    /// Listens from now on, so no interrupt is missed while the printer is busy.
    fn new(mut signal: S, until: Until) -> Self {
        let next = Box::pin(signal());
        Stops {
            signal,
            count: until.count,
            next,
            deadline: until
                .deadline
                .map(|d| Box::pin(tokio::time::sleep_until(d))),
            stopped: false,
            timed_out: false,
            patience: until.patience,
            stall: None,
        }
    }

    /// The run ends by itself (its deadline or its count) or by SIGTERM: from now on, stdout
    /// gets its patience and no more.
    fn ended_by_itself(&mut self) {
        if self.stall.is_none() {
            self.stall = Some(Box::pin(tokio::time::sleep(self.patience)));
        }
    }

    /// Stdout took something.
    fn progress(&mut self) {
        if let Some(stall) = &mut self.stall {
            stall
                .as_mut()
                .reset(tokio::time::Instant::now() + self.patience);
        }
    }

    /// Completes at the next interrupt, at the deadline while nothing has stopped the run
    /// yet, or when stdout has run out of patience. Dropping it while it waits loses nothing:
    /// the waits live in `self`, and an interrupt's is replaced in the same poll that sees it
    /// complete.
    async fn next(&mut self) -> Stop {
        enum Woke {
            Signal(Signal),
            Deadline,
            Stall,
        }
        let woke = {
            let Stops {
                signal,
                next,
                deadline,
                stopped,
                stall,
                ..
            } = self;
            let deadline = async {
                match deadline {
                    Some(d) if !*stopped => d.as_mut().await,
                    _ => std::future::pending().await,
                }
            };
            let stall = async {
                match stall {
                    Some(s) => s.as_mut().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                sig = next.as_mut() => {
                    *next = Box::pin(signal());
                    Woke::Signal(sig)
                }
                () = deadline => Woke::Deadline,
                () = stall => Woke::Stall,
            }
        };
        match woke {
            Woke::Stall => return Stop::Stalled,
            Woke::Deadline => {
                self.timed_out = true;
                self.ended_by_itself();
            }
            // Nobody is there to interrupt twice: stdout gets the same patience as when the
            // run ends by itself.
            Woke::Signal(Signal::Terminate | Signal::Hangup) => self.ended_by_itself(),
            Woke::Signal(Signal::Interrupt) => {}
        }
        if std::mem::replace(&mut self.stopped, true) {
            Stop::Again
        } else {
            Stop::First
        }
    }
}

fn write_line(out: &mut Vec<u8>, d: &Delivery, format: Format) {
    match format {
        Format::Human => {
            out.extend_from_slice(human_line(d).as_bytes());
            out.push(b'\n');
        }
        Format::Json => {
            // Straight into the batch: no String per delivery.
            write_json(out, d);
            out.push(b'\n');
        }
    }
}

/// The human line for a delivery; all untrusted text escaped. Forwarded deliveries end with
/// what the app answered.
pub fn human_line(d: &Delivery) -> String {
    let mut line = verdict_line(d);
    if let Some(said) = answered_otherwise(d) {
        line.push_str(&format!(
            " · answered {}: {}",
            d.response.status,
            sanitize::line(said.lines().next().unwrap_or(""))
        ));
    }
    let refused = matches!(&d.verdict, Verdict::Unchecked(u) if u.refused());
    match &d.forward {
        Some(f) => match (&f.status, &f.error) {
            (Some(s), _) => line.push_str(&format!(" → app {s} ({}{})", f.took(), f.cut_said())),
            (None, Some(e)) if d.response.status == 0 => {
                line.push_str(&format!(" → app failed: {e} (nothing answered)"))
            }
            (None, Some(e)) => line.push_str(&format!(
                " → app failed: {e} ({} answered)",
                d.response.status
            )),
            (None, None) => {}
        },
        // A refused request's line says it was not answered already.
        None if d.response.status == 0 && !refused => line.push_str(&format!(
            " · no answer: {}",
            sanitize::line(d.response.unanswered())
        )),
        None => {}
    }
    if let Some(of) = d.replay_of {
        let what = if d.edited { "edit" } else { "replay" };
        line.push_str(&format!(" [{what} of #{of}]"));
    }
    line
}

/// What the sender was told when it was not the verdict's own answer: the store could not keep
/// the delivery (503, so the provider retries), or a response mode (`m`, `--respond`) made one
/// up. None for a refused delivery (its line has its status already) or a forwarded one (its
/// line says the app's answer).
fn answered_otherwise(d: &Delivery) -> Option<&str> {
    let refused = matches!(&d.verdict, Verdict::Unchecked(u) if u.refused());
    // Status 0 (nothing answered) has its own words in the line.
    if refused || d.forward.is_some() || d.response.status == 0 {
        return None;
    }
    let usual = crate::receiver::answer(&d.verdict).0.as_u16();
    (d.response.status != usual).then(|| d.response.said())
}

fn verdict_line(d: &Delivery) -> String {
    let ty = d.event_type.as_deref().map(sanitize::line);
    let evt = d.event_id.as_deref().map(sanitize::line);
    let msg = d.msg_id.as_deref().map(sanitize::line);
    let what = match (&ty, &evt) {
        (Some(t), Some(e)) => format!("{t} · {e}"),
        (Some(t), None) => t.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => d.target().into_owned(),
    };
    let msg_suffix = msg.as_ref().map(|m| format!(" ({m})")).unwrap_or_default();
    match &d.verdict {
        Verdict::Verified(_) => format!("✓ {what}{msg_suffix}"),
        Verdict::Failed(f) => {
            let who = msg.map_or_else(|| d.target().into_owned(), |m| m.into_owned());
            format!(
                "✗ {} · {who} — {}",
                f.kind.code(),
                sanitize::line(&f.kind.to_string())
            )
        }
        // Without any secret, start-up said so once; with secrets for other paths only, each
        // line says it, as the delivery may well have been meant to be checked.
        Verdict::Unchecked(Unchecked::NoSecretForPath { scopes }) => format!(
            "• {what}{msg_suffix} · unverified: no secret covers {} (secrets for {})",
            sanitize::line(&d.path),
            sanitize::line(&scopes.join(", "))
        ),
        Verdict::Unchecked(u) if !u.refused() => {
            format!("• {what}{msg_suffix} · unverified")
        }
        // Status 0: nothing was answered.
        Verdict::Unchecked(u) if d.response.status == 0 => format!("✗ {} — {u}", d.target()),
        Verdict::Unchecked(u) => format!("✗ {} {} — {u}", d.response.status, d.target()),
    }
}

/// The JSON line for a delivery (JSON escaping makes it terminal-safe).
pub fn json_line(d: &Delivery) -> String {
    let mut out = Vec::with_capacity(256);
    write_json(&mut out, d);
    // Built from &str pieces and ASCII punctuation only.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the JSON object for `d` to `out`, keys in a fixed order: `seq`, `received_at`,
/// `msg_id`, `event_id`, `type`, `verified`, `failure`, `reason`, `hints`, `secret`,
/// `status`, `answer`, `method`, `path`, `bytes`, `remote`, `forward`, `replay_of`, `edited`.
///
/// Written by hand, byte for byte what serde_json makes of the same record (a test holds it to
/// that): this runs for every delivery on the receiver's core, and serde_json's generic path,
/// escaping every key one byte at a time, cost 6,700 instructions per line, 7% of a 1 KiB
/// delivery. This takes ~1,000.
fn write_json(out: &mut Vec<u8>, d: &Delivery) {
    out.extend_from_slice(b"{\"seq\":");
    push_u64(out, d.seq);
    out.extend_from_slice(b",\"received_at\":\"");
    // RFC 3339 text needs no escaping. A date it cannot express (past year 9999) is "".
    let mark = out.len();
    if d.received_at.format_into(out, &Rfc3339).is_err() {
        out.truncate(mark);
    }
    out.extend_from_slice(b"\",\"msg_id\":");
    push_opt_str(out, d.msg_id.as_deref());
    out.extend_from_slice(b",\"event_id\":");
    push_opt_str(out, d.event_id.as_deref());
    out.extend_from_slice(b",\"type\":");
    push_opt_str(out, d.event_type.as_deref());
    out.extend_from_slice(match d.verdict.verified() {
        Some(true) => b",\"verified\":true,\"failure\":",
        Some(false) => b",\"verified\":false,\"failure\":",
        None => b",\"verified\":null,\"failure\":",
    });
    push_opt_str(out, d.verdict.failure_code());
    out.extend_from_slice(b",\"reason\":");
    push_opt_str(out, d.verdict.reason().as_deref());
    out.extend_from_slice(b",\"hints\":[");
    if let Verdict::Failed(f) = &d.verdict {
        for (i, h) in f.hints.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(out, h);
        }
    }
    out.extend_from_slice(b"],\"secret\":");
    let secret = match &d.verdict {
        Verdict::Verified(v) => Some(&*v.secret),
        _ => None,
    };
    push_opt_str(out, secret);
    out.extend_from_slice(b",\"status\":");
    push_u64(out, d.response.status.into());
    out.extend_from_slice(b",\"answer\":");
    push_opt_str(out, answered_otherwise(d));
    out.extend_from_slice(b",\"method\":");
    push_str(out, &d.method);
    out.extend_from_slice(b",\"path\":");
    push_str(out, &d.path);
    out.extend_from_slice(b",\"bytes\":");
    push_u64(out, d.body_size);
    out.extend_from_slice(b",\"remote\":");
    match d.remote {
        Some(addr) => push_addr(out, addr),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"forward\":");
    match &d.forward {
        Some(f) => {
            out.extend_from_slice(b"{\"url\":");
            push_str(out, &f.url);
            out.extend_from_slice(b",\"status\":");
            push_opt_u64(out, f.status.map(u64::from));
            out.extend_from_slice(b",\"ms\":");
            push_u64(out, f.ms);
            out.extend_from_slice(b",\"error\":");
            push_opt_str(out, f.error.as_ref().map(|e| e.to_string()).as_deref());
            out.extend_from_slice(b",\"body_cut\":");
            out.extend_from_slice(if f.body_cut { b"true" } else { b"false" });
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"replay_of\":");
    push_opt_u64(out, d.replay_of);
    out.extend_from_slice(b",\"edited\":");
    out.extend_from_slice(if d.edited { b"true" } else { b"false" });
    out.push(b'}');
}

fn push_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn push_opt_u64(out: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => push_u64(out, n),
        None => out.extend_from_slice(b"null"),
    }
}

fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// A JSON string, escaped as serde_json escapes (`"` and `\\`, the short forms of \\b \\t \\n
/// \\f \\r, `\\u00xx` for the other control characters) and, beyond it, as
/// [`crate::sanitize::json_text`] does: every other character
/// [`crate::sanitize::is_unsafe`] flags as `\\uXXXX`. Untrusted text therefore cannot reach a terminal as a control.
fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Nearly every string needs no escape; the first check has no early exit, so it runs
    // vectorised. Text beyond ASCII (the masked secret's `…`) is then scanned for the few lead
    // bytes of what a terminal acts on, without decoding it.
    let plain = bytes.iter().fold(true, |plain, &c| {
        plain & (c >= 0x20) & (c != 0x7f) & (c != b'"') & (c != b'\\')
    }) && (bytes.is_ascii() || !crate::sanitize::has_unsafe(s));
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if plain {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            c if crate::sanitize::is_unsafe(c) => {
                let (escape, len) = crate::sanitize::json_escape(c);
                out.extend_from_slice(&escape[..len]);
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

/// A socket address as a JSON string, as its Display writes it.
fn push_addr(out: &mut Vec<u8>, addr: std::net::SocketAddr) {
    out.push(b'"');
    match addr {
        // The common case without the formatting machinery (1,300 instructions).
        std::net::SocketAddr::V4(a) => {
            for (i, octet) in a.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_u64(out, octet.into());
            }
            out.push(b':');
            push_u64(out, a.port().into());
        }
        std::net::SocketAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
    out.push(b'"');
}

/// One delivery in full, for `hookscope show`: summary, verdict with hints, request, headers
/// and the pretty body. Everything untrusted is escaped.
pub fn full_text(d: &Delivery) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}", human_line(d));
    let _ = writeln!(out);
    match &d.verdict {
        Verdict::Verified(v) => {
            let _ = writeln!(out, "verdict   verified with {} ({})", v.secret, v.scheme);
        }
        Verdict::Failed(f) => {
            let _ = writeln!(
                out,
                "verdict   {}: {}",
                f.kind.code(),
                sanitize::line(&f.kind.to_string())
            );
            for h in &f.hints {
                let _ = writeln!(out, "          → {}", sanitize::line(h));
            }
        }
        Verdict::Unchecked(u) => {
            let _ = writeln!(out, "verdict   {u}");
        }
    }
    let when = d.received_at.format(&Rfc3339).unwrap_or_default();
    let _ = writeln!(out, "id        {}", d.seq);
    let _ = writeln!(out, "received  {when}");
    let _ = writeln!(out, "request   {}", d.request_line());
    if let Some(f) = &d.forward {
        // Where it went, which the path rule decides, and how the app took it.
        let outcome = match (&f.status, &f.error) {
            (Some(s), _) => format!("{s} in {}{}", f.took(), f.cut_said()),
            (None, Some(e)) => format!("failed after {}: {e}", f.took()),
            (None, None) => format!("no answer after {}", f.took()),
        };
        let _ = writeln!(
            out,
            "forwarded {} → {}",
            sanitize::line(&f.url),
            sanitize::line(&outcome)
        );
    }
    let _ = match d.response.status {
        0 => writeln!(
            out,
            "answered  none: {}",
            crate::sanitize::line(d.response.unanswered())
        ),
        status => writeln!(
            out,
            "answered  {status} {}",
            sanitize::line(d.response.said())
        ),
    };
    let _ = writeln!(out);
    for (n, v) in &d.headers {
        let _ = writeln!(out, "{}: {}", sanitize::line(n), sanitize::bytes_line(v));
    }
    let _ = writeln!(out);
    if let Some(refused) = crate::delivery::body_refused(&d.verdict) {
        let _ = writeln!(out, "({refused})");
        return out;
    }
    if let Verdict::Unchecked(Unchecked::BodyIncomplete { .. }) = &d.verdict {
        let _ = writeln!(out, "({})", crate::delivery::BODY_PARTIAL);
    }
    let view = crate::highlight::pretty(&d.body, crate::highlight::Limits::default());
    if let Some(note) = &view.note {
        let _ = writeln!(out, "({note})");
    }
    for line in &view.lines {
        let _ = writeln!(out, "{}", line.text);
    }
    out
}

/// A delivery's body as `show --format body` prints it, and what to say about it on stderr:
/// the exact bytes, or for a terminal (`terminal`) the text with what a terminal would act on
/// escaped, and a final newline. `Err` when no body was kept to print.
pub fn body_out(d: &Delivery, terminal: bool) -> Result<(Cow<'_, [u8]>, Option<String>), String> {
    let mut note = match &d.verdict {
        Verdict::Unchecked(Unchecked::BodyTooLarge { limit, .. }) => {
            return Err(format!(
                "#{} has no body to print: it was over --max-body ({}) and refused unread",
                d.seq,
                crate::verify::human_bytes(*limit)
            ));
        }
        Verdict::Unchecked(Unchecked::NoRoom { .. }) => {
            return Err(format!(
                "#{} has no body to print: it came while other bodies held all of --max-body-memory, and was refused unread",
                d.seq
            ));
        }
        Verdict::Unchecked(Unchecked::BodyIncomplete { .. }) => Some(format!(
            "#{}'s body never came whole: these are the {} that did",
            d.seq,
            crate::verify::human_bytes(d.body.len() as u64)
        )),
        _ => None,
    };
    if !terminal {
        return Ok((Cow::Borrowed(&d.body[..]), note));
    }
    let shown = sanitize::bytes_multiline(&d.body);
    if shown.as_bytes() != &d.body[..] {
        const EXACT: &str = "(redirect or pipe stdout for the exact bytes)";
        note = Some(match note {
            Some(n) => format!(
                "{n}; characters a terminal would act on, or bytes that are not UTF-8, are shown escaped {EXACT}"
            ),
            None => format!(
                "#{}'s body holds characters a terminal would act on, or bytes that are not UTF-8: they are shown escaped {EXACT}",
                d.seq
            ),
        });
    }
    let mut text = shown.into_owned().into_bytes();
    if !text.is_empty() && !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    Ok((Cow::Owned(text), note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::{ForwardError, ForwardResult};
    use crate::testing::{Builder, event};
    use crate::verify::{Failure, FailureKind, Verified};
    use proptest::prelude::*;
    use serde::Serialize;
    #[cfg(target_os = "linux")]
    use std::time::Duration;
    use time::macros::datetime;

    /// The line as serde_json writes it: what `write_json` must match byte for byte, once
    /// `sanitize::json_text` has escaped what serde_json leaves raw.
    #[derive(Serialize)]
    struct Oracle<'a> {
        seq: u64,
        received_at: String,
        msg_id: Option<&'a str>,
        event_id: Option<&'a str>,
        #[serde(rename = "type")]
        event_type: Option<&'a str>,
        verified: Option<bool>,
        failure: Option<&'static str>,
        reason: Option<String>,
        hints: Vec<String>,
        secret: Option<&'a str>,
        status: u16,
        answer: Option<&'a str>,
        method: &'a str,
        path: &'a str,
        bytes: u64,
        remote: Option<std::net::SocketAddr>,
        forward: Option<OracleForward>,
        replay_of: Option<u64>,
        edited: bool,
    }

    #[derive(Serialize)]
    struct OracleForward {
        url: String,
        status: Option<u16>,
        ms: u64,
        error: Option<String>,
        body_cut: bool,
    }

    fn oracle(d: &Delivery) -> String {
        let (hints, secret) = match &d.verdict {
            Verdict::Failed(f) => (f.hints.clone(), None),
            Verdict::Verified(v) => (Vec::new(), Some(&*v.secret)),
            Verdict::Unchecked(_) => (Vec::new(), None),
        };
        serde_json::to_string(&Oracle {
            seq: d.seq,
            received_at: d.received_at.format(&Rfc3339).unwrap_or_default(),
            msg_id: d.msg_id.as_deref(),
            event_id: d.event_id.as_deref(),
            event_type: d.event_type.as_deref(),
            verified: d.verdict.verified(),
            failure: d.verdict.failure_code(),
            reason: d.verdict.reason(),
            hints,
            secret,
            status: d.response.status,
            answer: answered_otherwise(d),
            method: &d.method,
            path: &d.path,
            bytes: d.body_size,
            remote: d.remote,
            forward: d.forward.as_ref().map(|f| OracleForward {
                url: f.url.clone(),
                status: f.status,
                ms: f.ms,
                error: f.error.as_ref().map(|e| e.to_string()),
                body_cut: f.body_cut,
            }),
            replay_of: d.replay_of,
            edited: d.edited,
        })
        .unwrap()
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn verified() -> Delivery {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 19:01:08.25 UTC));
        b.signed(SECRET, "msg_1", &event("customer.created", "evt_1"))
    }

    #[test]
    fn an_unverified_line_says_why_when_secrets_cover_other_paths_only() {
        let mut d = verified();
        d.verdict = Verdict::Unchecked(Unchecked::NoSecretForPath {
            scopes: vec!["/billing".into(), "/shop".into()],
        });
        assert_eq!(
            verdict_line(&d),
            "• customer.created · evt_1 (msg_1) · unverified: no secret covers /webhooks (secrets for /billing, /shop)"
        );
        // Without any secret, start-up has said so: the line stays short.
        d.verdict = Verdict::Unchecked(Unchecked::NoSecret);
        assert_eq!(
            verdict_line(&d),
            "• customer.created · evt_1 (msg_1) · unverified"
        );
    }

    #[test]
    fn a_verified_line_has_every_key_in_order() {
        let line = json_line(&verified());
        assert_eq!(
            line,
            r#"{"seq":1,"received_at":"2026-11-27T19:01:08.25Z","msg_id":"msg_1","event_id":"evt_1","type":"customer.created","verified":true,"failure":null,"reason":null,"hints":[],"secret":"whsec_MfKQ…aSw","status":200,"answer":null,"method":"POST","path":"/webhooks","bytes":95,"remote":"127.0.0.1:50001","forward":null,"replay_of":null,"edited":false}"#
        );
        assert_eq!(line, oracle(&verified()));
    }

    #[test]
    fn a_failed_forwarded_replayed_line_matches_serde() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 19:01:08 UTC));
        let mut d = b.signed(
            "whsec_c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1vbmU=",
            "msg_\u{1b}]52;c;x\u{7}",
            b"{\"id\":\"a\\\"b\\u0000\",\"type\":\"\\u202e\\ud83d\\ude00\"}",
        );
        assert!(matches!(d.verdict, Verdict::Failed(_)));
        d.remote = Some("[::1%3]:8080".parse().unwrap_or(([0u8; 16], 1).into()));
        d.forward = Some(ForwardResult {
            url: "http://127.0.0.1:3000/\"hook\"".into(),
            status: None,
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            ms: 5001,
            error: Some(ForwardError::Timeout { ms: 5000, secs: 0 }),
            body_cut: false,
        });
        d.replay_of = Some(7);
        let line = json_line(&d);
        let serde = oracle(&d);
        assert_eq!(line, crate::sanitize::json_text(&serde));
        assert!(!line.bytes().any(|c| c < 0x20), "raw control in {line:?}");
        // serde_json leaves the bidi override raw; the line escapes it.
        assert!(
            serde.contains('\u{202e}') && line.contains(r"\u202e😀"),
            "{line}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["msg_id"], "msg_\u{1b}]52;c;x\u{7}");
        assert_eq!(parsed["type"], "\u{202e}😀");
        assert_eq!(parsed["replay_of"], 7);
        assert_eq!(parsed["edited"], false);
        assert!(
            line.ends_with(r#","replay_of":7,"edited":false}"#),
            "{line}"
        );
        d.edited = true;
        let line = json_line(&d);
        assert_eq!(line, crate::sanitize::json_text(&oracle(&d)));
        assert!(line.ends_with(r#","replay_of":7,"edited":true}"#), "{line}");
    }

    #[test]
    fn show_says_where_a_delivery_was_forwarded_and_how_it_went() {
        let mut d = verified();
        d.forward = Some(ForwardResult {
            url: "http://localhost:3000/api/webhooks".into(),
            status: Some(202),
            headers: Vec::new(),
            body: bytes::Bytes::new(),
            ms: 12,
            error: None,
            body_cut: false,
        });
        let text = full_text(&d);
        assert!(
            text.contains("forwarded http://localhost:3000/api/webhooks → 202 in 12 ms\n"),
            "{text}"
        );
        d.forward = Some(ForwardResult {
            status: None,
            ms: 5001,
            error: Some(ForwardError::Timeout { ms: 5000, secs: 0 }),
            ..d.forward.clone().unwrap()
        });
        assert!(full_text(&d).contains("→ failed after 5001 ms: "));
        // On loopback an answer comes within the millisecond: not "0 ms".
        d.forward = Some(ForwardResult {
            status: Some(500),
            ms: 0,
            error: None,
            ..d.forward.clone().unwrap()
        });
        assert!(
            full_text(&d).contains("→ 500 in <1 ms\n"),
            "{}",
            full_text(&d)
        );
        assert!(
            human_line(&d).ends_with(" → app 500 (<1 ms)"),
            "{}",
            human_line(&d)
        );
        // A body too long to relay: the status was, and both say what was not.
        d.forward = Some(ForwardResult {
            status: Some(200),
            ms: 3,
            body_cut: true,
            ..d.forward.clone().unwrap()
        });
        assert!(
            full_text(&d).contains("→ 200 in 3 ms, body over 1 MiB not relayed\n"),
            "{}",
            full_text(&d)
        );
        assert!(
            human_line(&d).ends_with(" → app 200 (3 ms, body over 1 MiB not relayed)"),
            "{}",
            human_line(&d)
        );
        d.forward = None;
        assert!(!full_text(&d).contains("forwarded"));
    }

    #[test]
    fn a_line_says_when_the_sender_got_other_than_the_verdicts_answer() {
        let mut d = verified();
        assert_eq!(
            human_line(&d),
            "✓ customer.created · evt_1 (msg_1)",
            "the usual answer goes unsaid"
        );
        d.response.status = 503;
        d.response.body =
            "could not store the delivery: the disk holding s.sqlite3 is full\n".into();
        assert_eq!(
            human_line(&d),
            "✓ customer.created · evt_1 (msg_1) · answered 503: could not store the delivery: the disk holding s.sqlite3 is full"
        );
        d.response.status = 500;
        d.response.body = "hookscope response mode status:500".into();
        assert!(human_line(&d).ends_with(" · answered 500: hookscope response mode status:500"));
        // Nothing answered: the sender hung up while the answer waited (the receiver notes
        // why), or an imported request that got no answer.
        d.response.status = 0;
        d.response.body = "the sender hung up after 15 s, before the app answered".into();
        assert_eq!(
            human_line(&d),
            "✓ customer.created · evt_1 (msg_1) · no answer: the sender hung up after 15 s, before the app answered"
        );
        d.response.body = "".into();
        assert_eq!(
            human_line(&d),
            "✓ customer.created · evt_1 (msg_1) · no answer: the connection was closed without one"
        );
        // A refused delivery's line has its status already.
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::NotPost {
            method: "GET".into(),
        });
        assert!(
            !human_line(&d).contains("answered 500:"),
            "{}",
            human_line(&d)
        );
    }

    /// A request refused with `verdict`, answered `status` (0: nothing), no event seen.
    fn refused(verdict: crate::verify::Unchecked, status: u16) -> Delivery {
        let mut d = verified();
        d.verdict = Verdict::Unchecked(verdict);
        d.response.status = status;
        if status == 0 {
            d.response.body = "".into(); // nothing was answered
        }
        d.event_id = None;
        d.event_type = None;
        d
    }

    #[test]
    fn a_refused_head_says_so_whether_its_request_line_was_seen_or_not() {
        let reason = "the header `svix-id` holds byte 0x1b".into();
        let mut d = refused(crate::verify::Unchecked::Malformed { reason }, 400);
        assert_eq!(
            human_line(&d),
            "✗ 400 POST /webhooks — malformed request: the header `svix-id` holds byte 0x1b"
        );
        (d.method, d.path) = ("".into(), String::new());
        assert_eq!(
            human_line(&d),
            "✗ 400 (request line not seen) — malformed request: the header `svix-id` holds byte 0x1b"
        );
    }

    #[test]
    fn show_says_when_the_body_it_prints_is_not_the_body_sent() {
        let mut cut = refused(
            Unchecked::BodyIncomplete {
                error: "closed by the client".into(),
                received: 9,
            },
            400,
        );
        cut.body = bytes::Bytes::from_static(br#"{"id":"e"#);
        let text = full_text(&cut);
        assert!(
            text.contains("\n(only the part that came: the body never came whole)\n")
                && text.ends_with("\n{\"id\":\"e\n"),
            "{text}"
        );
        let mut large = refused(
            Unchecked::BodyTooLarge {
                limit: 10,
                size: 1 << 30,
                declared: true,
            },
            413,
        );
        large.body = bytes::Bytes::new();
        let text = full_text(&large);
        assert!(
            text.ends_with("\n(no body kept: it was over --max-body and refused unread)\n"),
            "{text}"
        );
        let no_room = refused(
            Unchecked::NoRoom {
                limit: 256 << 20,
                size: 1 << 20,
                declared: true,
            },
            503,
        );
        let text = full_text(&no_room);
        assert!(
            text.contains("verdict   no room for the body: with its 1 MiB announced, the request bodies held at once would be over the --max-body-memory limit of 256 MiB; answered 503 for the sender to retry later\n")
                && text.ends_with("\n(no body kept: other bodies held all of --max-body-memory, so it was refused unread)\n"),
            "{text}"
        );
    }

    #[test]
    fn show_body_is_the_exact_bytes_except_at_a_terminal() {
        let mut d = verified();
        let (out, note) = body_out(&d, false).unwrap();
        assert_eq!((&out[..], note), (&d.body[..], None), "piped: as received");
        let (out, note) = body_out(&d, true).unwrap();
        assert_eq!(
            out.last(),
            Some(&b'\n'),
            "a terminal's prompt starts on a line of its own"
        );
        assert_eq!(&out[..out.len() - 1], &d.body[..]);
        assert_eq!(note, None, "plain text: nothing to say");

        d.body = bytes::Bytes::from_static(b"{\"x\":\"\x1b]52;c;aGk=\x07\xff\"}\n");
        let (out, _) = body_out(&d, false).unwrap();
        assert_eq!(
            &out[..],
            &d.body[..],
            "piped: an attack on a terminal is still the body"
        );
        let (out, note) = body_out(&d, true).unwrap();
        assert_eq!(
            &out[..],
            br#"{"x":"\x1b]52;c;aGk=\x07\xff"}"#.iter().chain(b"\n").copied().collect::<Vec<_>>()
        );
        assert_eq!(
            note.as_deref(),
            Some(
                "#1's body holds characters a terminal would act on, or bytes that are not UTF-8: they are shown escaped (redirect or pipe stdout for the exact bytes)"
            )
        );
    }

    #[test]
    fn show_body_says_when_there_is_no_body_or_only_part_of_one() {
        let mut cut = refused(
            Unchecked::BodyIncomplete {
                error: "closed by the client".into(),
                received: 9,
            },
            400,
        );
        cut.body = bytes::Bytes::from_static(b"{\"id\":\"\x1b");
        let (out, note) = body_out(&cut, false).unwrap();
        assert_eq!(&out[..], &cut.body[..]);
        assert_eq!(
            note.as_deref(),
            Some("#1's body never came whole: these are the 8 B that did")
        );
        let (_, note) = body_out(&cut, true).unwrap();
        assert_eq!(
            note.as_deref(),
            Some(
                "#1's body never came whole: these are the 8 B that did; characters a terminal would act on, or bytes that are not UTF-8, are shown escaped (redirect or pipe stdout for the exact bytes)"
            )
        );
        let mut large = refused(
            Unchecked::BodyTooLarge {
                limit: 16 << 20,
                size: 1 << 30,
                declared: true,
            },
            413,
        );
        large.body = bytes::Bytes::new();
        assert_eq!(
            body_out(&large, false).unwrap_err(),
            "#1 has no body to print: it was over --max-body (16 MiB) and refused unread"
        );
        let no_room = refused(
            Unchecked::NoRoom {
                limit: 256 << 20,
                size: 1 << 20,
                declared: false,
            },
            503,
        );
        assert_eq!(
            body_out(&no_room, false).unwrap_err(),
            "#1 has no body to print: it came while other bodies held all of --max-body-memory, and was refused unread"
        );
    }

    #[test]
    fn a_head_that_never_ended_has_no_status_in_its_line() {
        let stalled = crate::verify::Unchecked::HeadIncomplete {
            received: 40,
            ms: 30_000,
        };
        let d = refused(stalled, 0);
        assert_eq!(
            human_line(&d),
            "✗ POST /webhooks — request head incomplete: the client sent at least 40 B of it, then not the rest within 30 s; the connection was closed without an answer"
        );
        assert_eq!(json_line(&d), oracle(&d));
        assert!(
            json_line(&d).contains(r#""status":0,"answer":null"#),
            "{}",
            json_line(&d)
        );
        // `show` says so too, rather than "answered 0".
        assert!(
            full_text(&d).contains("\nanswered  none: the connection was closed without one\n"),
            "{}",
            full_text(&d)
        );
    }

    #[test]
    fn a_year_rfc3339_cannot_write_is_an_empty_string_as_before() {
        let mut d = verified();
        d.received_at = datetime!(-0001-01-01 0:00 UTC);
        assert_eq!(json_line(&d), oracle(&d));
        assert!(json_line(&d).contains(r#""received_at":"""#));
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".*",
            proptest::collection::vec(0u8..0x80, 0..40)
                .prop_map(|b| String::from_utf8(b).unwrap_or_default()),
            // What a terminal acts on beyond ASCII: C1 controls, bidi overrides, DEL.
            proptest::collection::vec(
                prop_oneof![
                    Just('\u{9b}'),
                    Just('\u{85}'),
                    Just('\u{202e}'),
                    Just('\u{2066}'),
                    Just('\u{7f}'),
                    Just('é'),
                    Just('a'),
                    Just('"'),
                ],
                0..20
            )
            .prop_map(|cs| cs.into_iter().collect()),
        ]
    }

    fn verdict() -> impl Strategy<Value = Verdict> {
        prop_oneof![
            text().prop_map(|secret| Verdict::Verified(Verified {
                secret: secret.into(),
                scheme: "v1".into(),
                timestamp: 0,
            })),
            proptest::collection::vec(text(), 0..3).prop_map(|hints| Verdict::Failed(Failure {
                kind: FailureKind::InvalidTimestamp {
                    value: "soon".into(),
                    problem: crate::verify::TimestampProblem::NotANumber,
                },
                hints,
            })),
            text().prop_map(
                |method| Verdict::Unchecked(crate::verify::Unchecked::NotPost { method })
            ),
            text().prop_map(
                |reason| Verdict::Unchecked(crate::verify::Unchecked::Malformed { reason })
            ),
        ]
    }

    /// A stand-in for `signals::stop_requested`: each future completes at the next `send`,
    /// as the signal `kind`. (The tests of a stalled stdout that use it and the two below
    /// need Linux's reopened non-blocking stdout.)
    #[cfg(target_os = "linux")]
    fn signals(
        kind: Signal,
    ) -> (
        tokio::sync::broadcast::Sender<()>,
        impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = Signal>>>,
    ) {
        let (tx, _) = tokio::sync::broadcast::channel(4);
        let listen = tx.clone();
        (tx, move || {
            let mut rx = listen.subscribe();
            Box::pin(async move {
                let _ = rx.recv().await;
                kind
            })
        })
    }

    /// Ctrl-C, as [`signals`] makes it.
    #[cfg(target_os = "linux")]
    fn interrupts() -> (
        tokio::sync::broadcast::Sender<()>,
        impl FnMut() -> std::pin::Pin<Box<dyn Future<Output = Signal>>>,
    ) {
        signals(Signal::Interrupt)
    }

    /// `n` deliveries queued for the printer.
    #[cfg(target_os = "linux")]
    fn queue(n: u64) -> mpsc::Receiver<Box<Delivery>> {
        let (tx, rx) = mpsc::channel(n as usize);
        let d = verified();
        for seq in 1..=n {
            let mut d = d.clone();
            d.seq = seq;
            tx.try_send(Box::new(d)).unwrap();
        }
        rx
    }

    /// A pipe, and stdout reopened onto its write end (non-blocking, as for a real pipe).
    #[cfg(target_os = "linux")]
    fn piped() -> (std::io::PipeReader, std::io::PipeWriter, Output) {
        use std::os::fd::AsRawFd as _;
        let (reader, writer) = std::io::pipe().unwrap();
        let out = Output::reopened(&format!("/proc/self/fd/{}", writer.as_raw_fd())).unwrap();
        (reader, writer, out)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn a_second_interrupt_gives_up_on_a_stdout_nobody_reads() {
        let (_reader, _writer, out) = piped();
        // Far more lines than the pipe (64 KiB) takes, and nobody reads it.
        let (interrupt, signal) = interrupts();
        let mut run = std::pin::pin!(run(
            queue(2_000),
            Format::Json,
            out,
            Until::default(),
            signal,
            || async {}
        ));
        let waiting = tokio::time::timeout(Duration::from_millis(200), &mut run).await;
        assert!(waiting.is_err(), "finished with stdout full");
        interrupt.send(()).unwrap();
        let first = tokio::time::timeout(Duration::from_millis(200), &mut run).await;
        assert!(
            first.is_err(),
            "the first interrupt dropped answered deliveries"
        );
        interrupt.send(()).unwrap();
        let second = tokio::time::timeout(Duration::from_secs(5), &mut run)
            .await
            .expect("the second interrupt ends the run");
        assert_eq!(second.unwrap_err().kind(), io::ErrorKind::Interrupted);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn a_run_that_ends_by_itself_gives_up_on_a_stdout_nobody_reads() {
        let (_reader, _writer, out) = piped();
        // Far more lines than the pipe (64 KiB) takes, and nobody reads it; one of those that
        // never get out failed, and still counts.
        let mut rx = queue(2_000);
        let (tx, more) = mpsc::channel(2_001);
        while let Ok(d) = rx.try_recv() {
            tx.try_send(d).unwrap();
        }
        let rejected = Delivery {
            verdict: Verdict::Unchecked(crate::verify::Unchecked::NotPost {
                method: "GET".into(),
            }),
            ..verified()
        };
        tx.try_send(Box::new(rejected)).unwrap();
        let (_interrupt, signal) = interrupts();
        let until = Until {
            deadline: Some(tokio::time::Instant::now() + Duration::from_millis(100)),
            patience: Duration::from_millis(300),
            ..Until::default()
        };
        let printed = tokio::time::timeout(
            Duration::from_secs(10),
            run(more, Format::Json, out, until, signal, || async {}),
        )
        .await
        .expect("the run ends without anyone reading or interrupting")
        .unwrap();
        assert!(printed.timed_out);
        assert!(printed.lines > 0 && printed.abandoned > 0, "{printed:?}");
        assert_eq!(printed.lines + printed.abandoned, 2_001);
        assert_eq!(printed.failures, 1);
        assert_eq!(printed.status(&until), 1);
        assert!(
            tx.try_send(Box::new(verified())).is_err(),
            "the queue is closed"
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn sigterm_gives_stdout_its_patience_where_ctrl_c_waits_for_it() {
        let until = Until {
            patience: Duration::from_millis(300),
            ..Until::default()
        };
        // Ctrl-C: someone is there, who can press it again; it waits for stdout, long past
        // the patience.
        let (_reader, _writer, out) = piped();
        let (interrupt, signal) = interrupts();
        let mut interrupted = std::pin::pin!(run(
            queue(2_000),
            Format::Json,
            out,
            until,
            signal,
            || async {}
        ));
        let started = tokio::time::timeout(Duration::from_millis(100), &mut interrupted).await;
        assert!(started.is_err());
        interrupt.send(()).unwrap();
        let waited = tokio::time::timeout(Duration::from_millis(1_500), &mut interrupted).await;
        assert!(waited.is_err(), "gave up on stdout after one Ctrl-C");

        // SIGTERM: a process manager or CI runner, nobody to press anything: stdout gets its
        // patience, then the run ends and says what it gave up on.
        let (_reader, _writer, out) = piped();
        let (terminate, signal) = signals(Signal::Terminate);
        let mut terminated = std::pin::pin!(run(
            queue(2_000),
            Format::Json,
            out,
            until,
            signal,
            || async {}
        ));
        let started = tokio::time::timeout(Duration::from_millis(100), &mut terminated).await;
        assert!(started.is_err());
        terminate.send(()).unwrap();
        let printed = tokio::time::timeout(Duration::from_secs(10), &mut terminated)
            .await
            .expect("SIGTERM ends the run without anyone reading")
            .unwrap();
        assert!(printed.abandoned > 0, "{printed:?}");
        assert_eq!(printed.lines + printed.abandoned, 2_000);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn the_count_reached_gives_stdout_its_patience_too() {
        let (_reader, _writer, out) = piped();
        let (_interrupt, signal) = interrupts();
        let until = Until {
            count: Some(1),
            patience: Duration::from_millis(300),
            ..Until::default()
        };
        let printed = tokio::time::timeout(
            Duration::from_secs(10),
            run(queue(2_000), Format::Json, out, until, signal, || async {}),
        )
        .await
        .expect("the run ends without anyone reading or interrupting")
        .unwrap();
        assert!(!printed.timed_out);
        assert_eq!(printed.lines + printed.abandoned, 2_000);
        assert!(printed.abandoned > 0);
        assert_eq!(printed.status(&until), 0);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn a_slow_reader_after_the_deadline_gets_every_line() {
        use std::io::Read as _;
        let (mut reader, writer, out) = piped();
        // The reader takes a little at a time, each bite well inside the patience, for several
        // times the patience in all: it is slow, not stuck, and nothing is given up on.
        let n = 3_000;
        let drain = std::thread::spawn(move || {
            let mut text = Vec::new();
            let mut bite = vec![0u8; 16 * 1024];
            loop {
                std::thread::sleep(Duration::from_millis(40));
                match reader.read(&mut bite) {
                    Ok(0) => break,
                    Ok(k) => text.extend_from_slice(&bite[..k]),
                    Err(e) => return Err(e),
                }
            }
            Ok((String::from_utf8(text).unwrap(), std::time::Instant::now()))
        });
        let (_interrupt, signal) = interrupts();
        let until = Until {
            deadline: Some(tokio::time::Instant::now() + Duration::from_millis(50)),
            patience: Duration::from_millis(500),
            ..Until::default()
        };
        let started = std::time::Instant::now();
        let printed = tokio::time::timeout(
            Duration::from_secs(60),
            run(queue(n), Format::Json, out, until, signal, || async {}),
        )
        .await
        .expect("the run ends once the reader has it all")
        .unwrap();
        drop(writer);
        let (text, done) = drain.join().unwrap().unwrap();
        assert_eq!((printed.lines, printed.abandoned), (n, 0));
        assert_eq!(text.lines().count(), n as usize);
        // Otherwise the test proves nothing about patience being per write.
        assert!(
            done - started > 2 * until.patience,
            "the reader was done in {:?}",
            done - started
        );
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn after_one_interrupt_every_queued_delivery_is_printed_once_stdout_moves() {
        use std::io::Read as _;
        let (mut reader, writer, out) = piped();
        let (interrupt, signal) = interrupts();
        let mut run = std::pin::pin!(run(
            queue(2_000),
            Format::Json,
            out,
            Until::default(),
            signal,
            || async {}
        ));
        assert!(
            tokio::time::timeout(Duration::from_millis(100), &mut run)
                .await
                .is_err()
        );
        interrupt.send(()).unwrap();
        // The reader comes back later: everything answered is printed, then the run ends.
        let drain = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            let mut text = String::new();
            reader.read_to_string(&mut text).map(|_| text)
        });
        let printed = tokio::time::timeout(Duration::from_secs(10), &mut run)
            .await
            .expect("finished once stdout moved")
            .unwrap();
        assert_eq!(printed.lines, 2_000);
        drop(writer);
        let text = drain.join().unwrap().unwrap();
        assert_eq!(text.lines().count(), 2_000);
        assert!(text.lines().last().unwrap().starts_with(r#"{"seq":2000,"#));
    }

    /// A run's output into a pipe read on a thread: the run's result and the text.
    #[cfg(target_os = "linux")]
    async fn run_to_text(
        rx: mpsc::Receiver<Box<Delivery>>,
        until: Until,
    ) -> (io::Result<Printed>, String) {
        run_stopping_to_text(rx, until, || async {}).await
    }

    /// [`run_to_text`], with `stop` standing for the receiver's stop.
    #[cfg(target_os = "linux")]
    async fn run_stopping_to_text<G: Future<Output = ()>>(
        rx: mpsc::Receiver<Box<Delivery>>,
        until: Until,
        stop: impl FnOnce() -> G,
    ) -> (io::Result<Printed>, String) {
        use std::io::Read as _;
        let (mut reader, writer, out) = piped();
        let drain = std::thread::spawn(move || {
            let mut text = String::new();
            reader.read_to_string(&mut text).map(|_| text)
        });
        let (_interrupt, signal) = interrupts();
        let result = tokio::time::timeout(
            Duration::from_secs(10),
            run(rx, Format::Human, out, until, signal, stop),
        )
        .await
        .expect("the run ends by itself");
        drop(writer);
        (result, drain.join().unwrap().unwrap())
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn what_the_receiver_publishes_while_it_stops_is_printed_before_the_queue_closes() {
        let (tx, rx) = mpsc::channel(16);
        let mut first = verified();
        first.seq = 1;
        tx.try_send(Box::new(first)).unwrap();
        let until = Until {
            count: Some(1),
            ..Until::default()
        };
        // The count is reached: the receiver is stopped, and a request it was finishing
        // publishes meanwhile; only then is the queue closed.
        let publisher = tx.clone();
        let stop = move || async move {
            tokio::task::yield_now().await;
            let mut late = verified();
            late.seq = 2;
            publisher.send(Box::new(late)).await.unwrap();
        };
        let (result, text) = run_stopping_to_text(rx, until, stop).await;
        assert_eq!(result.unwrap().lines, 2, "{text}");
        assert_eq!(text.lines().count(), 2);
        assert!(tx.try_send(Box::new(verified())).is_err(), "closed after");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn exit_after_prints_what_was_answered_then_closes_the_queue() {
        let (tx, rx) = mpsc::channel(16);
        for seq in 1..=5 {
            let mut d = verified();
            d.seq = seq;
            tx.try_send(Box::new(d)).unwrap();
        }
        let until = Until {
            count: Some(2),
            ..Until::default()
        };
        let (result, text) = run_to_text(rx, until).await;
        let printed = result.unwrap();
        // All five were already queued, i.e. answered: all are printed, none after.
        assert_eq!(printed.lines, 5);
        assert_eq!(text.lines().count(), 5);
        assert!(
            tx.try_send(Box::new(verified())).is_err(),
            "the queue is closed"
        );
        assert_eq!(printed.status(&until), 0);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "current_thread")]
    async fn a_failure_or_a_deadline_before_the_count_sets_the_status() {
        let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 19:01:08 UTC));
        let rejected = b.signed("whsec_c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1vbmU=", "msg_x", b"{}");
        let refused = b.request("GET", "/", Vec::new(), b"");
        let no_secret = Delivery {
            verdict: Verdict::Unchecked(crate::verify::Unchecked::NoSecret),
            ..verified()
        };
        for (d, failures) in [(rejected, 1), (refused, 1), (no_secret, 0), (verified(), 0)] {
            let (tx, rx) = mpsc::channel(4);
            tx.try_send(Box::new(d)).unwrap();
            let until = Until {
                count: Some(1),
                ..Until::default()
            };
            let printed = run_to_text(rx, until).await.0.unwrap();
            assert_eq!(printed.failures, failures);
            assert_eq!(printed.status(&until), u8::from(failures > 0));
        }

        // One of two within the time: 124, whatever the one was.
        let (tx, rx) = mpsc::channel(4);
        tx.try_send(Box::new(verified())).unwrap();
        let until = Until {
            count: Some(2),
            deadline: Some(tokio::time::Instant::now() + Duration::from_millis(200)),
            ..Until::default()
        };
        let (result, text) = run_to_text(rx, until).await;
        let printed = result.unwrap();
        assert_eq!((printed.lines, printed.timed_out), (1, true));
        assert_eq!(text.lines().count(), 1);
        assert_eq!(printed.status(&until), 124);
        assert!(
            tx.try_send(Box::new(verified())).is_err(),
            "the queue is closed"
        );
        // A deadline alone: the run ends there, and its status is that of what came.
        let until = Until {
            count: None,
            ..until
        };
        assert_eq!(printed.status(&until), 0);
        // An interrupt-only run keeps exit status 0, failures or not.
        let failed = Printed {
            failures: 3,
            ..printed
        };
        assert_eq!(failed.status(&Until::default()), 0);
    }

    proptest! {
        #[test]
        fn the_line_is_what_serde_json_writes(
            seq in any::<u64>(),
            nanos in any::<u32>(),
            msg_id in proptest::option::of(text()),
            event_id in proptest::option::of(text()),
            event_type in proptest::option::of(text()),
            verdict in verdict(),
            status in any::<u16>(),
            method in text(),
            path in text(),
            bytes in any::<u64>(),
            v4 in any::<([u8; 4], u16)>(),
            v6 in any::<([u16; 8], u16)>(),
            which_remote in 0..3u8,
            forward in proptest::option::of((text(), proptest::option::of(any::<u16>()), any::<u64>(), any::<bool>(), any::<bool>())),
            replay_of in proptest::option::of(any::<u64>()),
            edited in any::<bool>(),
        ) {
            let mut d = verified();
            d.seq = seq;
            d.received_at = d.received_at.replace_nanosecond(nanos % 1_000_000_000).unwrap();
            d.msg_id = msg_id;
            d.event_id = event_id;
            d.event_type = event_type;
            d.verdict = verdict;
            d.response.status = status;
            d.method = method.into();
            d.path = path;
            d.body_size = bytes;
            d.remote = match which_remote {
                0 => None,
                1 => Some(v4.into()),
                _ => Some((std::net::Ipv6Addr::from(v6.0), v6.1).into()),
            };
            d.forward = forward.map(|(url, status, ms, failed, body_cut)| ForwardResult {
                url,
                status,
                headers: Vec::new(),
                body: bytes::Bytes::new(),
                ms,
                error: failed.then_some(ForwardError::Refused),
                body_cut,
            });
            d.replay_of = replay_of;
            d.edited = edited;
            let expected = oracle(&d);
            prop_assert_eq!(json_line(&d), crate::sanitize::json_text(&expected));
        }
    }
}
