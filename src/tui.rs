//! The terminal side of the inspector: sets the terminal up and always restores it (on exit, on
//! error and on panic, including a panic in a background task), and runs the event loop that
//! feeds [`App::update`] and draws.
//!
//! The loop `select!`s, biased in this order, over terminal input (so keys are answered even
//! during a burst), clipboard and tunnel results, the delivery channel (drained in batches), and a
//! timer. It draws only when something changed, at most ~60 times a second.

use crate::app::{Action, App, Effect};
use crate::clipboard::{self, Clipboard, Copied};
use crate::delivery::Delivery;
use crate::tunnel;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event,
};
use ratatui::crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, execute};
use std::io::{self, Write as _};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Frames are at least this far apart.
const FRAME: Duration = Duration::from_millis(16);
/// Deliveries taken from the channel per loop turn, so input is never starved.
const BATCH: usize = 4096;

/// What the loop needs besides the app.
pub struct Options {
    /// Where to look for the tunnel URL; `None` disables polling.
    pub tunnels: Option<tunnel::Sources>,
    /// Our port, to find the tunnel that forwards to it.
    pub port: u16,
    /// A read connection to the store, for bodies; `None` without a store.
    pub store: Option<crate::store::Store>,
    /// Another, for searches of every body (stopped when a newer search replaces them).
    pub searcher: Option<crate::store::Store>,
    /// The receiver's answer mode, switched with `m`.
    pub control: crate::forward::Control,
    /// Secrets for re-signing replays.
    pub secrets: Vec<crate::verify::Secret>,
    /// Our own address (`http://127.0.0.1:8787`): replays are sent here.
    pub listen: String,
    /// The deliveries whose answer is still to be given (the app's, or the answer mode's
    /// delay), counted by the receiver.
    pub waiting: crate::forward::Waiting,
    /// The receiver's memory budget for bodies, given back each delivery's body once it is
    /// copied (the receiver counts its queue: `queued_bodies_count`).
    pub bodies: Arc<crate::budget::Budget>,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The alternate screen, the mouse and bracketed paste (pasted text comes as one event, not
/// as keys that are each a command), with the cursor hidden. Raw mode is already on.
fn take_screen() -> io::Result<()> {
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste,
        cursor::Hide
    )
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(
            io::stdout(),
            DisableBracketedPaste,
            DisableMouseCapture,
            LeaveAlternateScreen,
            cursor::Show
        );
    }
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let was_active = ACTIVE.load(Ordering::SeqCst);
        restore();
        previous(info);
        if was_active {
            // A panic in any task leaves the UI without a working terminal: end the process
            // rather than keep drawing into a restored screen.
            std::process::exit(101);
        }
    }));
}

/// Runs the inspector until the user quits.
pub async fn run(
    mut app: App,
    mut deliveries: mpsc::Receiver<Box<Delivery>>,
    opts: Options,
) -> io::Result<()> {
    install_panic_hook();
    terminal::enable_raw_mode().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot take keys from the terminal ({e}): the inspector needs one to read keys from (run it in a terminal, or use --headless)"
            ),
        )
    })?;
    ACTIVE.store(true, Ordering::SeqCst);
    let _guard = Guard;
    take_screen()?;
    let mut term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    term.clear()?;
    let size = term.size()?;
    app.update(Action::Resize(size.width, size.height));

    let (input_tx, mut input) = mpsc::unbounded_channel::<Input>();
    let stop = Arc::new(AtomicBool::new(false));
    let (pauses, paused) = std::sync::mpsc::channel::<Pause>();
    let reader = spawn_input_reader(input_tx, stop.clone(), paused);

    let (actions_tx, mut actions) = mpsc::unbounded_channel::<Action>();
    if let Some(sources) = opts.tunnels {
        tokio::spawn(tunnel::watch(
            sources,
            opts.port,
            Duration::from_secs(5),
            Action::Tunnel,
            actions_tx.clone(),
        ));
    }
    if std::env::var_os("HOOKSCOPE_TEST_PANIC_IN_TASK").is_some() {
        // Test hook: proves a panic in a background task still restores the terminal.
        tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            panic!("test panic in a background task");
        });
    }
    let store = opts.store.map(|s| Arc::new(std::sync::Mutex::new(s)));
    // Each typed character asks for a search of every stored body; only the newest is worth
    // running (a scan of large payloads takes a while): a newer one stops the one running and
    // those waiting are dropped.
    let searcher = opts
        .searcher
        .map(|s| (s.interrupter(), Arc::new(std::sync::Mutex::new(s))));
    let searches = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (copied_tx, mut copied) = mpsc::unbounded_channel::<Copied>();
    let clipboard = Clipboard::start(copied_tx);

    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let mut last_second = 0;
    let mut deliveries_open = true;
    let mut latency = LatencyLog::from_env();
    let mut clusters = crate::ui::clusters::Clusters::default();
    // SIGTERM, SIGINT (Ctrl-C is a key in raw mode, but `kill -INT` is not) and SIGHUP would
    // otherwise end the process with the terminal left raw, mouse-captured, on the alternate
    // screen.
    let mut signalled = std::pin::pin!(crate::signals::stop_requested(true));
    // Why keys could not be read, if that ended the loop: said once the terminal is restored.
    let mut unreadable = None;
    // The terminal hung up (seen by the input thread, signalled, or failing a write).
    let mut gone = false;
    // Set to stop the re-send of failing messages under way (`F` pressed twice during it).
    let mut resending: Option<Arc<AtomicBool>> = None;

    // Every write to the terminal in here can fail: the loop's errors come out in one place.
    let ended = async {
        'ui: loop {
            if dirty && last_draw.elapsed() >= FRAME {
                term.draw(|f| {
                    crate::ui::draw(f, &app);
                    clusters.settle(f.buffer_mut());
                })?;
                last_draw = Instant::now();
                dirty = false;
                if let Some(log) = &mut latency {
                    log.drawn();
                }
            }
            if app.quit {
                break;
            }
            let redraw_at = tokio::time::Instant::from_std(last_draw + FRAME);
            let effects = tokio::select! {
                biased;
                input = input.recv() => match input {
                    Some(Input::Event(Event::Key(k))) => app.update(Action::Key(k)),
                    Some(Input::Event(Event::Mouse(m))) => app.update(Action::Mouse(m)),
                    Some(Input::Event(Event::Resize(w, h))) => app.update(Action::Resize(w, h)),
                    Some(Input::Event(Event::Paste(text))) => app.update(Action::Paste(text)),
                    Some(Input::Event(_)) => Vec::new(),
                    // The terminal is gone: nobody is looking, and nobody could press q. Stop as
                    // after q, so the store closes cleanly and the port is let go.
                    Some(Input::Gone) | None => {
                        gone = true;
                        break;
                    }
                    Some(Input::Unreadable(e)) => {
                        unreadable = Some(e);
                        break;
                    }
                },
                Some(action) = actions.recv() => app.update(action),
                Some(done) = copied.recv() => {
                    let msg = finish_copy(done, &mut term)?;
                    app.update(Action::Copied(msg))
                }
                first = deliveries.recv(), if deliveries_open => {
                    match first {
                        Some(d) => {
                            let mut batch = vec![own_copy(d, &opts.bodies)];
                            while batch.len() < BATCH {
                                match deliveries.try_recv() {
                                    Ok(d) => batch.push(own_copy(d, &opts.bodies)),
                                    Err(_) => break,
                                }
                            }
                            if let Some(log) = &mut latency {
                                log.arrived(&batch);
                            }
                            let mut effects = app.update(Action::Deliveries(batch));
                            // Those just listed stopped waiting before they were sent here: the
                            // title stops counting them in the same frame, not at the next tick.
                            let waiting = opts.waiting.now();
                            if waiting != app.unanswered {
                                effects.extend(app.update(Action::Unanswered(waiting)));
                            }
                            effects
                        }
                        None => {
                            deliveries_open = false;
                            Vec::new()
                        }
                    }
                }
                _ = ticker.tick() => {
                    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
                    let before = app.status.is_some();
                    app.update(Action::Tick(now_ms as i64));
                    let waiting = opts.waiting.now();
                    let waiting_changed = waiting != app.unanswered;
                    if waiting_changed {
                        app.update(Action::Unanswered(waiting));
                    }
                    let second = now_ms / 1000;
                    // Idle redraws: once a second for the sparkline, or when a message expires or
                    // the wait for the app changes.
                    if second == last_second && before == app.status.is_some() && !waiting_changed {
                        continue;
                    }
                    last_second = second;
                    Vec::new()
                }
                _ = tokio::time::sleep_until(redraw_at), if dirty => continue,
                signal = &mut signalled => {
                    gone = signal == crate::signals::Signal::Hangup;
                    break;
                }
            };
            dirty = true;
            for effect in effects {
                match effect {
                    Effect::Copy { text, what } => {
                        if let Some(msg) = copy(&clipboard, &mut term, text, what)? {
                            app.update(Action::Copied(msg));
                        }
                    }
                    Effect::Load { id } => {
                        if let Some(store) = &store {
                            let (store, tx) = (store.clone(), actions_tx.clone());
                            tokio::spawn(async move {
                                let delivery = read_stored(&store, id as i64)
                                    .await
                                    .map(|d| d.map(Arc::new));
                                let _ = tx.send(Action::Loaded { id, delivery });
                            });
                        }
                    }
                    Effect::SetMode(mode) => opts.control.set(mode),
                    Effect::CopyResignedCurl { delivery } => {
                        let now = time::OffsetDateTime::now_utc().unix_timestamp();
                        let msg = match crate::replay::resigned(&delivery, &opts.secrets, now) {
                            Ok(d) => {
                                let text = crate::curl::command(&d, &opts.listen);
                                copy(&clipboard, &mut term, text, "re-signed curl command".into())?
                            }
                            Err(e) => Some(format!("cannot re-sign: {e}")),
                        };
                        if let Some(msg) = msg {
                            app.update(Action::Copied(msg));
                        }
                    }
                    Effect::Replay { delivery, resign } => {
                        let (tx, listen, secrets) = (
                            actions_tx.clone(),
                            opts.listen.clone(),
                            opts.secrets.clone(),
                        );
                        tokio::spawn(async move {
                            let msg = replay(&listen, &delivery, resign, &secrets).await;
                            let _ = tx.send(Action::Copied(msg));
                        });
                    }
                    Effect::ResendFailing { deliveries } => {
                        let stop = Arc::new(AtomicBool::new(false));
                        let (tx, listen, secrets, store, stopped) = (
                            actions_tx.clone(),
                            opts.listen.clone(),
                            opts.secrets.clone(),
                            store.clone(),
                            stop.clone(),
                        );
                        resending = Some(stop);
                        tokio::spawn(async move {
                            let run = Resending {
                                listen: &listen,
                                secrets: &secrets,
                                store,
                                progress: &tx,
                                stop: &stopped,
                            };
                            let msg = run.all(deliveries).await;
                            let _ = tx.send(Action::Resent(msg));
                        });
                    }
                    Effect::StopResending => {
                        if let Some(stop) = &resending {
                            stop.store(true, Ordering::SeqCst);
                        }
                    }
                    Effect::Edit { delivery } => {
                        let edited = match edit(&delivery, &opts.secrets, &pauses).await? {
                            Edited::Stopped => {
                                gone = true; // the terminal is the editor's, or no more
                                break 'ui;
                            }
                            Edited::Said(msg) => Err(msg),
                            Edited::Send(edit, note) => Ok((edit, note)),
                        };
                        // The terminal comes back as it was left, or resized meanwhile.
                        term.clear()?;
                        let size = term.size()?;
                        app.update(Action::Resize(size.width, size.height));
                        // A Ctrl-C meant for the editor may have reached hookscope too (when the
                        // editor could not be given a process group of its own): that one was
                        // the editor's, not a request to stop.
                        signalled.set(crate::signals::stop_requested(true));
                        match edited {
                            Err(msg) => {
                                app.update(Action::Copied(msg));
                            }
                            Ok((edit, note)) => {
                                let (tx, listen) = (actions_tx.clone(), opts.listen.clone());
                                app.update(Action::Copied(format!(
                                    "sending #{}'s body as edited…",
                                    delivery.seq
                                )));
                                tokio::spawn(async move {
                                    let msg = send_edit(&listen, &edit, delivery.seq, note).await;
                                    let _ = tx.send(Action::Copied(msg));
                                });
                            }
                        }
                    }
                    Effect::Search { query } => {
                        if let Some((interrupter, store)) = &searcher {
                            let (store, tx) = (store.clone(), actions_tx.clone());
                            let this = searches.fetch_add(1, Ordering::SeqCst) + 1;
                            interrupter.interrupt();
                            let newest = searches.clone();
                            tokio::task::spawn_blocking(move || {
                                let store = lock(&store);
                                if newest.load(Ordering::SeqCst) != this {
                                    return; // typed on meanwhile: a newer search follows
                                }
                                let ids = match store.search_ids(&query) {
                                    Err(crate::store::StoreError::Interrupted) => return,
                                    found => found
                                        .map(|ids| {
                                            ids.into_iter().map(|i| i.max(0) as u64).collect()
                                        })
                                        .map_err(|e| e.to_string()),
                                };
                                let _ = tx.send(Action::SearchResults { query, ids });
                            });
                        }
                    }
                }
            }
        }
        Ok::<(), io::Error>(())
    }
    .await;
    // A terminal that hung up fails writes (EIO) before its hang-up is read or signalled:
    // gone, as for Input::Gone, not an error to report to nobody. A write can also fail
    // otherwise (EAGAIN was seen) in the moment the hang-up is under way.
    let ended = match ended {
        Err(e) if hung_up(&e) || gone_within(Duration::from_millis(500)) => {
            gone = true;
            Ok(())
        }
        other => other,
    };
    stop.store(true, Ordering::SeqCst);
    if gone {
        // Dropped, it would try to show the cursor on the terminal that is gone and complain
        // on stderr that it could not (restore() shows it, quietly, where there is one).
        std::mem::forget(term);
    } else {
        drop(term);
    }
    restore();
    // The reader notices `stop` within its wait; one stuck in crossterm (a terminal hung up
    // after it was asked, crossterm#793) is left behind rather than waited for forever.
    let deadline = Instant::now() + Duration::from_millis(500);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    if reader.is_finished() {
        let _ = reader.join();
    }
    ended?;
    match unreadable {
        Some(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot read keys from the terminal: {e}"),
        )),
        None => Ok(()),
    }
}

/// What became of an edit.
enum Edited {
    /// Send this: the edit, signed as a new message; with what to say of a body that is no
    /// longer JSON.
    Send(Box<Delivery>, Option<String>),
    /// Nothing to send, for the reason given.
    Said(String),
    /// SIGTERM or SIGHUP came while the editor ran: stop, as after one.
    Stopped,
}

/// Hands the terminal to the user's editor on `d`'s body (`e`), takes it back when the editor
/// ends, and says what to send. The receiver goes on meanwhile; what arrives is listed after.
async fn edit(
    d: &Delivery,
    secrets: &[crate::verify::Secret],
    pauses: &std::sync::mpsc::Sender<Pause>,
) -> io::Result<Edited> {
    use crate::edit::NotSent;
    let draft = match crate::edit::Draft::new(d, secrets) {
        Ok(draft) => draft,
        Err(e) => return Ok(Edited::Said(format!("not sent: {e}"))),
    };
    let editor = crate::edit::editor();
    // The input thread must not read keys meant for the editor. It stops within its 50 ms
    // wait; one stuck in crossterm (a terminal that hung up) is not waited for.
    let (ack, stopped) = tokio::sync::oneshot::channel();
    if pauses.send(Pause::Now(ack)).is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(1), stopped).await;
    }
    restore();
    // Seen while a graphical editor (`code --wait`) has the file; a terminal one covers it.
    // Erased once the editor ends (as git does), so it is not left in the shell's scrollback.
    let note = format!(
        "hookscope: #{}'s body is open in `{}`: save and close it to send it signed",
        d.seq,
        crate::sanitize::line(&editor),
    );
    print!("{note}");
    let _ = io::stdout().flush();
    let modes = tty::Modes::save();
    let ran = crate::edit::wait(&editor, draft.path(), crate::edit::Suspend::Refused).await;
    // An editor that ended without putting the terminal back (killed, crashed) leaves it raw
    // and silent: raw mode taken over that would be "restored" at exit, for the shell.
    modes.restore();
    if let Ok(None) = ran {
        // SIGTERM, or SIGHUP with the terminal gone: the terminal stays as the shell had it.
        return Ok(Edited::Stopped);
    }
    let rows = terminal::size().map_or(1, |(w, _)| {
        unicode_width::UnicodeWidthStr::width(note.as_str()).div_ceil(usize::from(w.max(1)))
    });
    let _ = execute!(
        io::stdout(),
        cursor::MoveToColumn(0),
        cursor::MoveUp(u16::try_from(rows.saturating_sub(1)).unwrap_or(0)),
        terminal::Clear(terminal::ClearType::FromCursorDown)
    );
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    take_screen()?;
    let _ = pauses.send(Pause::Resume);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Ok(match draft.finish(d, secrets, &editor, ran, now) {
        Ok((edit, not_json)) => Edited::Send(Box::new(edit), not_json),
        Err(NotSent::Stopped) => Edited::Stopped,
        Err(e @ NotSent::Unchanged(_)) => {
            Edited::Said(format!("not sent: {e} (R sends it again, re-signed)"))
        }
        Err(e) => Edited::Said(format!("not sent: {e}")),
    })
}

/// Sends an edit through our own receiver and says how it went.
async fn send_edit(listen: &str, edit: &Delivery, of: u64, not_json: Option<String>) -> String {
    let sent = crate::replay::send(
        listen,
        edit,
        &edit.headers,
        crate::replay::Resend::Edit,
        crate::client::Trust::System,
    )
    .await;
    let id = edit.msg_id.as_deref().unwrap_or_default();
    let mut said = match sent {
        Ok((status, body)) => format!(
            "sent #{of} as edited, {id}: answered {status} {}",
            crate::sanitize::line(&body)
        ),
        Err(e) => format!(
            "sending the edit failed: {}",
            crate::sanitize::line(&e.to_string())
        ),
    };
    if let Some(e) = not_json {
        said.push_str(&format!(
            " (sent as written, though it is not JSON: {})",
            crate::sanitize::line(&e)
        ));
    }
    said
}

/// Whether a write to the terminal failed because it hung up (the window closed, the ssh
/// session or the tmux pane went): EIO, on Unix.
fn hung_up(e: &io::Error) -> bool {
    #[cfg(unix)]
    return e.raw_os_error() == Some(libc::EIO);
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Whether the terminal has hung up, or does within `patience`: after a write to it failed,
/// whether that was its going.
fn gone_within(patience: Duration) -> bool {
    let terminal = watch::Terminal::open();
    // A hung-up terminal is no longer one (isatty fails on it) and is no longer the session's
    // to open as /dev/tty: none found means it went. (crossterm, left to wait on it, would spin
    // on its end of file for good.)
    if !terminal.found() {
        return true;
    }
    let deadline = Instant::now() + patience;
    loop {
        if matches!(terminal.wait(Duration::ZERO), watch::State::Gone) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a replay through our own receiver and says how it went.
async fn replay(
    listen: &str,
    d: &Delivery,
    resign: bool,
    secrets: &[crate::verify::Secret],
) -> String {
    let headers = if resign {
        match crate::replay::resign(d, secrets, time::OffsetDateTime::now_utc().unix_timestamp()) {
            Ok(h) => h,
            Err(e) => return format!("cannot re-sign: {e}"),
        }
    } else {
        d.headers.clone()
    };
    match crate::replay::send(
        listen,
        d,
        &headers,
        crate::replay::Resend::Replay,
        crate::client::Trust::System,
    )
    .await
    {
        Ok((status, body)) => {
            let mut said = format!(
                "replayed{}{}: answered {status} {}",
                if resign { " re-signed" } else { "" },
                if d.seq == 0 {
                    String::new()
                } else {
                    format!(" #{}", d.seq)
                },
                crate::sanitize::line(&body)
            );
            // The likely reason a replay as received was refused, and the key that helps.
            if !resign
                && !(200..300).contains(&status)
                && let Some(stale) =
                    crate::replay::stale(d, time::OffsetDateTime::now_utc().unix_timestamp())
            {
                said.push_str(&format!(" (as received, it was {stale}: R re-signs it)"));
            }
            said
        }
        Err(e) => format!("replay failed: {}", crate::sanitize::line(&e.to_string())),
    }
}

/// A re-send of the failing messages (`F`) under way: where to, with what, and how it is told
/// to stop.
struct Resending<'a> {
    /// Our own receiver.
    listen: &'a str,
    secrets: &'a [crate::verify::Secret],
    /// To read light deliveries in full.
    store: Option<Arc<std::sync::Mutex<crate::store::Store>>>,
    progress: &'a mpsc::UnboundedSender<Action>,
    /// Set by a second `F` during the run: nothing more is sent.
    stop: &'a AtomicBool,
}

impl Resending<'_> {
    /// Re-sends `ds` one at a time through our own receiver: each read in full from the
    /// store first where the list holds it light, re-signed where a secret applies to its
    /// path and as received otherwise. Says how it went, as `replay --failed` does, with
    /// progress meanwhile.
    async fn all(&self, ds: Vec<Arc<Delivery>>) -> String {
        let (mut ok, mut not_ok, mut as_received, mut done) = (0, 0, 0, 0);
        let mut errors: Vec<String> = Vec::new();
        let mut said_at = Instant::now();
        for d in &ds {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            done += 1;
            match self.one(d).await {
                Ok((status, resigned)) => {
                    if (200..300).contains(&status) {
                        ok += 1;
                    } else {
                        not_ok += 1;
                    }
                    as_received += usize::from(!resigned);
                }
                Err(e) => errors.push(format!("#{}: {e}", d.seq)),
            }
            if said_at.elapsed() >= Duration::from_secs(1) && done < ds.len() {
                said_at = Instant::now();
                let _ = self.progress.send(Action::Copied(format!(
                    "re-sending the failing messages: {done} of {} (F F stops)…",
                    ds.len()
                )));
            }
        }
        let mut said = if done < ds.len() {
            format!("stopped after {done} of {}:", ds.len())
        } else {
            format!("re-sent {}:", crate::delivery::messages(ds.len() as u64))
        };
        said.push_str(&format!(
            " 2xx {ok} · non-2xx {not_ok} · errors {}",
            errors.len()
        ));
        if as_received > 0 {
            said.push_str(&format!(
                " · {as_received} as received (no secret for its path)"
            ));
        }
        if let Some(first) = errors.first() {
            said.push_str(&format!(" · {}", crate::sanitize::line(first)));
        }
        said
    }

    /// Re-sends one: the status answered, and whether it went re-signed.
    async fn one(&self, d: &Arc<Delivery>) -> Result<(u16, bool), String> {
        use crate::replay::ReplayError;
        let full = match &self.store {
            Some(store) if d.stored => match read_stored(store, d.seq as i64).await? {
                Some(full) => Arc::new(full),
                None => return Err("no longer in the store".into()),
            },
            _ => d.clone(),
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (headers, resigned) = match crate::replay::resign(&full, self.secrets, now) {
            Ok(h) => (h, true),
            Err(ReplayError::NoSecret(_)) => (full.headers.clone(), false),
            Err(e) => return Err(e.to_string()),
        };
        let sent = crate::replay::send(
            self.listen,
            &full,
            &headers,
            crate::replay::Resend::Replay,
            crate::client::Trust::System,
        )
        .await;
        sent.map(|(status, _)| (status, resigned))
            .map_err(|e| e.to_string())
    }
}

/// Bench hook, off unless `HOOKSCOPE_LATENCY_LOG=FILE` is set: writes, for each delivery, the
/// microseconds from its arrival at the receiver to the end of the first frame drawn after the
/// UI took it (`scripts/latency.sh` reads it). Writing problems end the log, never the UI.
struct LatencyLog {
    out: io::BufWriter<std::fs::File>,
    waiting: Vec<time::OffsetDateTime>,
}

impl LatencyLog {
    fn from_env() -> Option<LatencyLog> {
        let path = std::env::var_os("HOOKSCOPE_LATENCY_LOG")?;
        let file = std::fs::File::create(path).ok()?;
        Some(LatencyLog {
            out: io::BufWriter::new(file),
            waiting: Vec::new(),
        })
    }

    fn arrived(&mut self, batch: &[Arc<Delivery>]) {
        self.waiting.extend(batch.iter().map(|d| d.received_at));
    }

    fn drawn(&mut self) {
        let now = time::OffsetDateTime::now_utc();
        for at in self.waiting.drain(..) {
            let _ = writeln!(self.out, "{}", (now - at).whole_microseconds());
        }
        let _ = self.out.flush();
    }
}

/// The UI's own copy of a delivery's body: the receiver's is a slice of hyper's read buffer,
/// which it would otherwise keep alive. (With a store, the receiver publishes the deliveries it
/// stored without body or headers, `stored_as_summaries`: the UI loads them on demand, so its
/// memory stays bounded however many arrive.) The receiver's body goes, so it is given back
/// to the `bodies` budget the receiver counted it in.
fn own_copy(d: Box<Delivery>, bodies: &crate::budget::Budget) -> Arc<Delivery> {
    bodies.give_back(d.body.len() as u64);
    Arc::new(Delivery {
        body: bytes::Bytes::copy_from_slice(&d.body),
        ..*d
    })
}

/// Reads stored delivery `id` in full, off the UI's thread: `None` when it is no longer
/// there, or why the store could not give it.
async fn read_stored(
    store: &Arc<std::sync::Mutex<crate::store::Store>>,
    id: i64,
) -> Result<Option<Delivery>, String> {
    let store = store.clone();
    match tokio::task::spawn_blocking(move || lock(&store).get(id)).await {
        Ok(read) => read.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn lock(
    store: &std::sync::Mutex<crate::store::Store>,
) -> std::sync::MutexGuard<'_, crate::store::Store> {
    // A panic while holding the lock ends the process (see the panic hook), so poisoning
    // cannot be observed here; take the guard either way.
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Hands text to the clipboard; when it must fall back to OSC 52, does so at once and returns
/// the status message (otherwise the message comes back from the clipboard worker).
fn copy<W: io::Write>(
    clipboard: &Clipboard,
    term: &mut Terminal<CrosstermBackend<W>>,
    text: String,
    what: String,
) -> io::Result<Option<String>> {
    match clipboard.copy(text, what) {
        Some(fallback) => finish_copy(fallback, term).map(Some),
        None => Ok(None),
    }
}

fn finish_copy<W: io::Write>(
    done: Copied,
    term: &mut Terminal<CrosstermBackend<W>>,
) -> io::Result<String> {
    Ok(match done {
        Copied::System { what } => format!("copied {what} to the clipboard"),
        Copied::Tmux { what, onward, why } => clipboard::through_tmux(&what, onward, &why),
        Copied::Fallback { text, what, why } => {
            let in_the_way = clipboard::in_the_way_here();
            let (sequence, said) =
                clipboard::through_terminal(&text, &what, &why, in_the_way.as_deref());
            if let Some(sequence) = sequence {
                let out = term.backend_mut();
                out.write_all(sequence.as_bytes())?;
                out.flush()?;
            }
            said
        }
    })
}

/// What the input thread hands the loop.
enum Input {
    /// A key, mouse, resize or paste event.
    Event(Event),
    /// The terminal is gone (hung up, closed): nothing more will come.
    Gone,
    /// Keys cannot be read from the terminal (no controlling terminal to open, say).
    Unreadable(io::Error),
}

/// Tells the input thread to leave the terminal to another program (an editor) and back.
enum Pause {
    /// Stop reading keys, and say so once stopped.
    Now(tokio::sync::oneshot::Sender<()>),
    /// Read keys again.
    Resume,
}

fn spawn_input_reader(
    tx: mpsc::UnboundedSender<Input>,
    stop: Arc<AtomicBool>,
    pauses: std::sync::mpsc::Receiver<Pause>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let terminal = watch::Terminal::open();
        while !stop.load(Ordering::SeqCst) {
            if let Ok(Pause::Now(ack)) = pauses.try_recv() {
                let _ = ack.send(());
                loop {
                    match pauses.recv_timeout(Duration::from_millis(50)) {
                        Ok(Pause::Resume) => break,
                        Ok(Pause::Now(ack)) => {
                            let _ = ack.send(());
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                            if !stop.load(Ordering::SeqCst) => {}
                        Err(_) => return,
                    }
                }
                continue;
            }
            // Asked before crossterm is: its poll spins at full speed, and never returns, once
            // the terminal has hung up (crossterm#793), so a closed terminal window would leave
            // hookscope running with its port and store held.
            if terminal.wait(Duration::from_millis(50)) == watch::State::Gone {
                let _ = tx.send(Input::Gone);
                return;
            }
            // Every event crossterm has, from the terminal or held from an earlier read (a
            // paste, a burst of mouse reports), and resizes, which come by a signal instead.
            loop {
                match event::poll(Duration::ZERO).and_then(|ready| match ready {
                    true => event::read().map(Some),
                    false => Ok(None),
                }) {
                    Ok(Some(ev)) => {
                        if tx.send(Input::Event(ev)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // A read that failed because the terminal hung up meanwhile is the
                        // hang-up, not an error to report to nobody.
                        let _ = tx.send(match terminal.wait(Duration::ZERO) {
                            watch::State::Gone => Input::Gone,
                            watch::State::Open => Input::Unreadable(e),
                        });
                        return;
                    }
                }
            }
        }
    })
}

/// The terminal's modes (termios), kept across a program that may leave them changed.
mod tty {
    /// The modes as saved; nothing where there is no terminal to ask.
    pub struct Modes {
        #[cfg(unix)]
        saved: Option<(std::fs::File, libc::termios)>,
    }

    impl Modes {
        /// The controlling terminal's modes now.
        #[cfg(unix)]
        pub fn save() -> Modes {
            use std::os::fd::AsRawFd as _;
            let saved = std::fs::File::open("/dev/tty").ok().and_then(|tty| {
                // SAFETY: termios is plain data, filled in by tcgetattr before it is read.
                let mut modes: libc::termios = unsafe { std::mem::zeroed() };
                // SAFETY: a valid descriptor and a valid termios to fill.
                (unsafe { libc::tcgetattr(tty.as_raw_fd(), &mut modes) } == 0)
                    .then_some((tty, modes))
            });
            Modes { saved }
        }

        #[cfg(not(unix))]
        pub fn save() -> Modes {
            Modes {}
        }

        /// Sets the modes back as saved.
        pub fn restore(&self) {
            #[cfg(unix)]
            if let Some((tty, modes)) = &self.saved {
                use std::os::fd::AsRawFd as _;
                // SAFETY: a valid descriptor and the termios tcgetattr filled.
                unsafe { libc::tcsetattr(tty.as_raw_fd(), libc::TCSANOW, modes) };
            }
        }
    }
}

/// Whether the terminal is still there, asked of the terminal itself.
mod watch {
    use std::time::Duration;

    /// What the terminal's input side said.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum State {
        /// Input, or nothing yet: crossterm may read.
        Open,
        /// Hung up or closed: reading it would fail for good.
        Gone,
    }

    /// The file descriptor crossterm reads keys from: stdin when it is a terminal, else
    /// `/dev/tty` (as crossterm chooses). Without one that poll(2) takes, the wait is
    /// crossterm's own and hang-ups are not watched for.
    pub struct Terminal {
        #[cfg(unix)]
        fd: std::cell::Cell<Option<std::os::fd::OwnedFd>>,
    }

    impl Terminal {
        #[cfg(unix)]
        pub fn open() -> Terminal {
            use std::io::IsTerminal as _;
            use std::os::fd::AsFd as _;
            let fd = if std::io::stdin().is_terminal() {
                std::io::stdin().as_fd().try_clone_to_owned().ok()
            } else {
                std::fs::File::open("/dev/tty")
                    .ok()
                    .map(std::os::fd::OwnedFd::from)
            };
            Terminal {
                fd: std::cell::Cell::new(fd),
            }
        }

        #[cfg(not(unix))]
        pub fn open() -> Terminal {
            Terminal {}
        }

        /// Whether a terminal was found to watch: stdin or `/dev/tty` (on Unix; elsewhere
        /// there is nothing to look for, and this says yes).
        pub fn found(&self) -> bool {
            #[cfg(unix)]
            {
                let fd = self.fd.take();
                let found = fd.is_some();
                self.fd.set(fd);
                found
            }
            #[cfg(not(unix))]
            {
                true
            }
        }

        /// Waits up to `timeout` for input or a hang-up; `Open` when there is input or none came.
        pub fn wait(&self, timeout: Duration) -> State {
            #[cfg(unix)]
            if let Some(fd) = self.fd.take() {
                use std::os::fd::AsRawFd as _;
                let mut poll = libc::pollfd {
                    fd: fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd, and its count is 1.
                let n = unsafe { libc::poll(&mut poll, 1, ms) };
                // POLLNVAL on a descriptor that is open: a system whose poll(2) does not take
                // terminals (macOS, for /dev/tty). Leave the waiting to crossterm from now on.
                if n <= 0 || poll.revents & libc::POLLNVAL == 0 {
                    self.fd.set(Some(fd));
                    // POLLHUP: the other end (the terminal emulator, tmux, sshd) closed.
                    // POLLERR: the descriptor cannot be read at all.
                    return if n > 0 && poll.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                        State::Gone
                    } else {
                        State::Open
                    };
                }
            }
            // crossterm keeps what it finds for the next poll.
            let _ = ratatui::crossterm::event::poll(timeout);
            State::Open
        }
    }
}
