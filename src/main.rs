//! The hookscope binary: parses the command line and runs the receiver with the terminal UI,
//! headless output, or a subcommand.

use anyhow::{Context as _, Result};
use clap::Parser as _;
use hookscope::app::{App, Info};
use hookscope::cli::{
    self, Cli, Command, ExportArgs, HistoryArgs, ImportArgs, ReplayArgs, SecretSource, SendArgs,
    ServeArgs, ShowArgs, ShowFormat, StoreArgs,
};
use hookscope::demo;
use hookscope::receiver::{self, Receiver};
use hookscope::replay::Resend;
use hookscope::sender::{self, Fault};
use hookscope::store::{self, Retention, Store};
use hookscope::verify::Secret;
use hookscope::verify::{Key, Verifier};
use hookscope::{headless, sanitize, tui};
use std::io::IsTerminal as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::sync::mpsc;

// Each delivery makes a few dozen short-lived allocations (header copies, the record, the JSON
// line); glibc's malloc spent ~7% of the receiver's time on them, mimalloc a fraction of that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A line on stderr. Never panics: with stderr closed (a parent that stopped reading), the
/// message is dropped and hookscope keeps serving.
macro_rules! log {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// A line on stdout, ignoring a closed pipe (`hookscope show … | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read the local UTC offset while the process has one thread: the time crate refuses to
    // (soundly) once more threads exist.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    // Headless, everything is network I/O plus a printer: one thread serves it with no
    // cross-thread wake-ups per delivery (measured 1.45x the throughput of the multi-threaded
    // runtime on a pinned core). The inspector keeps the multi-threaded runtime so drawing never
    // holds up the receiver.
    let mut builder = if cli.command.is_none() && cli.serve.headless {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            log!("hookscope: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let mut closing = None;
    let code = match runtime.block_on(run(cli, offset, &mut closing)) {
        Ok(code) => code,
        Err(e) => {
            log!("hookscope: {}", sanitize::line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    };
    // Dropping the runtime drops every task, and with them the store writer's last handles:
    // then the store commits what it holds and closes, leaving one self-contained file.
    drop(runtime);
    if let Some(closing) = closing
        && !closing.wait(STORE_CLOSE_WAIT)
    {
        log!(
            "hookscope: the store is still closing; exiting anyway (nothing acknowledged is lost: the next start replays its write-ahead log)"
        );
    }
    code
}

/// How long an exit waits for the store to close.
const STORE_CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn run(
    cli: Cli,
    offset: time::UtcOffset,
    closing: &mut Option<store::Closing>,
) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Send(args)) => send(args).await,
        Some(Command::History(args)) => history(args, offset),
        Some(Command::Show(args)) => show(args),
        Some(Command::Export(args)) => export(args),
        Some(Command::Import(args)) => import(args),
        Some(Command::Replay(args)) if args.failed => replay_failing(args, offset).await,
        Some(Command::Replay(args)) => replay(args).await,
        Some(Command::Completions { shell }) => completions(shell),
        None => serve(cli.serve, offset, closing).await,
    }
}

/// `hookscope completions SHELL`: the script, made from the same definitions clap parses with.
fn completions(shell: clap_complete::Shell) -> Result<ExitCode> {
    use clap::CommandFactory as _;
    // Written whole into memory first: clap_complete panics on a failed write (a closed pipe),
    // where this says so instead.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hookscope", &mut script);
    match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
        // Its reader went away (`| head`): nothing to report.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the completion script")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Runs the receiver with the inspector or headless output. `closing` gets the store's threads,
/// for `main` to wait for once the runtime is gone.
async fn serve(
    args: ServeArgs,
    offset: time::UtcOffset,
    closing: &mut Option<store::Closing>,
) -> Result<ExitCode> {
    let (mut secrets, source) = cli::resolve_secrets(&args.secrets, env_var)?;
    if args.demo && secrets.is_empty() {
        secrets.push(Secret::parse(demo::DEMO_SECRET)?);
    }
    if !args.headless && !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the inspector needs a terminal on stdout; use --headless for scripts, pipes and CI"
        );
    }
    let addr = SocketAddr::new(args.bind, args.port);
    let verifier = Verifier::new(secrets, args.tolerance);
    let mut config = receiver::Config::new(addr, verifier.clone());
    config.max_body = args.max_body;
    config.body_memory = args.max_body_memory;
    // Raised `ulimit -n` as far as serving needs; said after the listening line.
    let (connections, descriptors_short) =
        hookscope::descriptors::apply(args.max_connections, args.forward_to.is_some());
    config.max_connections = connections;
    // The target as shown and logged: without a password the URL may carry.
    let mut forward_shown = None;
    if let Some(url) = &args.forward_to {
        let f = hookscope::forward::Forwarder::new(
            url,
            args.forward_timeout,
            args.forward_verified_only,
            hookscope::client::Trust::insecure_if(args.insecure),
        )?;
        // Port 0 is picked when binding; a loop to it is caught per delivery instead.
        if args.port != 0 && f.points_at(addr) {
            anyhow::bail!(
                "--forward-to {} is hookscope's own address: every delivery would come back to it. Forward to your app's port (e.g. http://localhost:3000/webhooks)",
                f.target()
            );
        }
        forward_shown = Some(f.target());
        config.forward = Some(f);
    }
    // The receiver counts answers still to be given; the inspector says so.
    let waiting = config.waiting.clone();
    let control = hookscope::forward::Control::new(args.respond);
    config.control = control.clone();
    // Headless lines show neither bodies nor headers: the printer's queue need not hold them.
    config.summaries_only = args.headless;
    // The inspector gives each body back as it takes it: while it takes nothing (an editor
    // open), what waits for it counts against --max-body-memory.
    config.queued_bodies_count = !args.headless;
    // Listening comes first: a port in use must fail before a store file (and its folder)
    // is made for a run that never happens.
    let listener = Receiver::bind(addr).await?;
    let retention = Retention {
        max_count: Some(args.retain),
        max_days: args.retain_days,
    };
    // The inspector's two read connections: one loads bodies, one searches them, so a long
    // search never holds up opening a delivery.
    // Said after the listening line, which scripts read first for the port.
    let mut stored_in = None;
    let (readers, earlier) = if args.no_store {
        (None, Vec::new())
    } else {
        let path = store_path(&args.store)?;
        let store = Store::open(&path)?;
        // The UI shows earlier sessions' deliveries too, those the retention keeps; their
        // bodies load on demand. The writer prunes the rest in the background: pruning here
        // held off listening (1.4 s for 200,000 rows after lowering --retain to 1,000).
        let earlier = if args.headless {
            Vec::new()
        } else {
            store.query_light(&store::Filter {
                limit: Some(args.retain),
                since: retention.cutoff(time::OffsetDateTime::now_utc()),
                ..Default::default()
            })?
        };
        let (writer, threads) =
            store::Writer::start(store, retention).context("starting the store writer")?;
        config.store = Some(writer);
        *closing = Some(threads);
        stored_in = Some(path.clone());
        let readers = if args.headless {
            None
        } else {
            Some((Store::open(&path)?, Store::open(&path)?))
        };
        // The inspector loads a stored delivery's body and headers when it shows them.
        config.stored_as_summaries = readers.is_some();
        (readers, earlier)
    };
    let (tx, rx) = mpsc::channel(receiver::DEFAULT_QUEUE);
    let receiver = Receiver::start_on(listener, config, tx);
    let local = receiver.local_addr();
    // Said in one write: a terminal stopped with Ctrl-S once the first line shows must not
    // hold a later one, and with it the headless runtime's one thread, the receiver's too.
    let mut said = vec![format!("listening on http://{local}")];
    if let Some(path) = &stored_in {
        said.push(format!("storing deliveries in {}", path.display()));
    }
    if let Some(limit) = descriptors_short {
        said.push(format!(
            "warning: this process may open {limit} files at once (ulimit -n), so hookscope serves {connections} connections at once, not --max-connections's {}; more wait until one closes (raise `ulimit -n` to serve more)",
            args.max_connections
        ));
    }
    said.extend(secrets_said(&verifier, &source));
    if let Some(f) = config_forward_line(&args, forward_shown.as_deref()) {
        said.push(f);
    }
    if args.respond != hookscope::forward::RespondMode::Normal {
        said.push(format!(
            "answering every sender with response mode {}",
            args.respond
        ));
    }
    if let Some(warning) = cli::exposure(args.bind) {
        said.push(warning);
    }
    if args.max_body_memory < args.max_body {
        said.push(format!(
            "note: --max-body-memory ({}) is below --max-body ({}): up to {1} of bodies are held at once instead, so one body of that size fits",
            hookscope::verify::human_bytes(args.max_body_memory),
            hookscope::verify::human_bytes(args.max_body)
        ));
    }
    {
        let text = said.join("\n") + "\n";
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    if args.demo
        && let Some(secret) = verifier
            .secrets()
            .iter()
            .find(|s| matches!(s.key, Key::Hmac(_)))
            .cloned()
    {
        tokio::spawn(async move {
            if let Err(e) = demo::run(local, &secret).await {
                log!("demo: {e}");
            }
        });
    }
    // The exit status: 0, unless a headless run that ends by itself says otherwise.
    let mut code = 0;
    if args.headless {
        let until = headless::Until {
            count: args.exit_after,
            deadline: args.timeout.map(|t| tokio::time::Instant::now() + t),
            ..Default::default()
        };
        // Ending, the printer stops the receiver first and prints what the requests in
        // progress publish as they finish: each delivery answered gets its line.
        let stopper = receiver.stopper();
        let printed = headless::run(
            rx,
            args.format,
            hookscope::stdout::Output::stdout(),
            until,
            || hookscope::signals::stop_requested(false),
            || stopper.stop(),
        )
        .await;
        match printed {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                log!("hookscope: {e}");
                return Ok(ExitCode::from(
                    hookscope::signals::Signal::Interrupt.exit_status(),
                ));
            }
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(e).context("writing to stdout");
            }
            Err(_) => {}
            Ok(printed) => {
                if printed.abandoned > 0 {
                    log!(
                        "hookscope: stdout took nothing for {} s after the run ended: gave up on the lines of {} answered deliveries",
                        until.patience.as_secs(),
                        printed.abandoned
                    );
                }
                let status = printed.status(&until);
                if status == 124 {
                    log!(
                        "hookscope: {} of {} deliveries within {}",
                        printed.lines,
                        until.count.unwrap_or(0),
                        args.timeout
                            .map(|t| format!("{} s", t.as_secs_f64()))
                            .unwrap_or_default()
                    );
                }
                code = status;
            }
        }
    } else {
        let info = Info {
            listen: format!("http://{local}"),
            secrets: verifier
                .secrets()
                .iter()
                .map(|s| s.label().to_string())
                .collect(),
            tunnel: None,
            forward: forward_shown,
            files_short: descriptors_short.map(|files| (connections, files)),
        };
        let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let mut app = App::new(info, color, offset);
        app.retain = args.retain as usize;
        app.mode = args.respond;
        app.bodies_in_store = readers.is_some();
        let (reader, searcher) = readers.unzip();
        app.update(hookscope::app::Action::Earlier(earlier));
        let opts = tui::Options {
            tunnels: (!args.no_tunnel)
                .then(|| hookscope::tunnel::Sources::new(args.ngrok_api.clone())),
            port: local.port(),
            store: reader,
            searcher,
            control,
            secrets: verifier.secrets().to_vec(),
            listen: format!("http://{local}"),
            waiting,
            bodies: receiver.bodies(),
        };
        tui::run(app, rx, opts)
            .await
            .context("running the terminal UI")?;
    }
    receiver.shutdown().await;
    Ok(ExitCode::from(code))
}

/// What the start-up report says of the secrets: which, from where, and doubts about them.
fn secrets_said(verifier: &Verifier, source: &SecretSource) -> Vec<String> {
    let secrets = verifier.secrets();
    if secrets.is_empty() {
        return vec![
            "warning: no secret configured: signatures are not checked and every POST is accepted (pass --secret whsec_… or export HOOKSCOPE_SECRET)".into(),
        ];
    }
    let from = match source {
        SecretSource::Env(name) => format!(" (from ${name})"),
        _ => String::new(),
    };
    let labels: Vec<String> = secrets.iter().map(|s| s.label().to_string()).collect();
    let mut said = vec![format!(
        "verifying with {} secret{}{from}: {} · tolerance {} s",
        secrets.len(),
        if secrets.len() == 1 { "" } else { "s" },
        labels.join(", "),
        verifier.tolerance()
    )];
    said.extend(
        secrets
            .iter()
            .filter_map(|s| s.doubt())
            .map(|doubt| format!("warning: {doubt}")),
    );
    said
}

async fn send(args: SendArgs) -> Result<ExitCode> {
    let to = sender::parse_target(&args.to)?;
    let (secrets, _) = cli::resolve_secrets(&args.secrets, env_var)?;
    let path = to.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    // Prefer the most specific scope that covers the target path, like the receiver does.
    let secret = secrets
        .iter()
        .filter(|s| s.applies_to(path))
        .max_by_key(|s| (s.scope().map_or(0, str::len), matches!(s.key, Key::Hmac(_))))
        .cloned();
    if secret.is_none() && !secrets.is_empty() {
        let scopes: Vec<&str> = secrets.iter().filter_map(|s| s.scope()).collect();
        return Err(sender::SendError::NoSecretForPath {
            path: sanitize::line(path).into_owned(),
            scopes: match scopes.as_slice() {
                [one] => format!("the secret is for {one} only"),
                many => format!("the secrets are for {} only", many.join(", ")),
            },
        }
        .into());
    }
    let data = match &args.data {
        None => None,
        Some(d) => Some(match d.strip_prefix('@') {
            // `@-`, as curl takes it: the body from stdin (`jq … | hookscope send --data @-`).
            Some("-") => {
                if std::io::stdin().is_terminal() {
                    log!("reading the body from the terminal: end it with Ctrl-D");
                }
                let mut body = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut body)
                    .await
                    .context("reading --data from stdin")?;
                body.into()
            }
            Some(file) => std::fs::read(file)
                .with_context(|| format!("reading --data file {file}"))?
                .into(),
            None => bytes::Bytes::from(d.clone().into_bytes()),
        }),
    };
    // Sent as given all the same (a receiver's handling of a bad body is worth testing), but
    // a typo in hand-written JSON should not pass for the provider's payload.
    if let Some(note) = data.as_deref().and_then(sender::not_json) {
        log!("note: the --data body {note}; sent as given");
    }
    let mut faults = Vec::new();
    if args.tamper {
        faults.push(Fault::Tamper);
    }
    if args.stale {
        faults.push(Fault::Stale);
    }
    if args.wrong_secret {
        faults.push(Fault::WrongSecret);
    }
    // Each request in flight holds a connection: past `ulimit -n` they would fail to connect.
    let (concurrency, short) = hookscope::descriptors::apply(args.concurrency, false);
    if let Some(limit) = short {
        log!(
            "note: this process may open {limit} files at once (ulimit -n), so {concurrency} requests go at once, not --concurrency's {} (raise `ulimit -n` for more)",
            args.concurrency
        );
    }
    let opts = sender::Options {
        to,
        secret,
        event_type: args.event_type,
        data,
        count: args.count,
        concurrency,
        rate: args.rate,
        headers: args.headers,
        faults,
        quiet: args.quiet,
        timeout: args.timeout,
        trust: hookscope::client::Trust::insecure_if(args.insecure),
    };
    let summary = sender::run(
        opts,
        std::io::stdout().lock(),
        hookscope::signals::stop_requested(false),
    )
    .await?;
    Ok(match summary.stopped {
        Some(signal) => ExitCode::from(signal.exit_status()),
        None if summary.non_2xx == 0 && summary.errors == 0 => ExitCode::SUCCESS,
        None => ExitCode::from(1),
    })
}

fn store_path(args: &StoreArgs) -> Result<PathBuf> {
    match &args.path {
        Some(p) => Ok(p.clone()),
        None => store::default_path().ok_or_else(|| {
            anyhow::anyhow!("this system has no data folder for the store: pass --store PATH")
        }),
    }
}

fn history(args: HistoryArgs, offset: time::UtcOffset) -> Result<ExitCode> {
    let store = Store::open_existing(&store_path(&args.store)?)?;
    let mut filter = args.filter.filter();
    // Without a limit given, one more than the default is asked for, to know whether to say
    // that older ones were left out.
    let cut = (!args.all && filter.limit.is_none()).then_some(cli::HISTORY_LIMIT);
    if let Some(n) = cut {
        filter.limit = Some(n + 1);
    }
    // The lines need no headers or bodies: reading them would hold every payload in memory.
    let mut found = store.query_light(&filter)?;
    let more = cut.is_some_and(|n| found.len() as u64 > n);
    if more {
        found.remove(0);
    }
    if found.is_empty() {
        // stdout stays empty for scripts; a person is told it was not a failure to read.
        log!("hookscope: {}", nothing_matches(&store, &filter)?);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for d in found {
        let line = match args.format {
            headless::Format::Human => history_line(&d, offset),
            headless::Format::Json => headless::json_line(&d),
        };
        if let Err(e) = writeln!(out, "{line}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e).context("writing to stdout");
        }
    }
    let _ = out.flush();
    if more {
        log!(
            "hookscope: the newest {} shown; older ones match too (--limit N, or --all)",
            cli::HISTORY_LIMIT
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `history`'s human line: the id, the local time (as the inspector shows it and as --since
/// reads it) and the headless line.
fn history_line(d: &hookscope::delivery::Delivery, offset: time::UtcOffset) -> String {
    let t = d.received_at.to_offset(offset);
    format!(
        "{}  {} {:02}:{:02}:{:02}  {}",
        d.seq,
        t.date(),
        t.hour(),
        t.minute(),
        t.second(),
        headless::human_line(d)
    )
}

/// Why a query of `store` found nothing: an empty store, a time still to come, or the filter.
fn nothing_matches(store: &Store, filter: &hookscope::store::Filter) -> Result<String> {
    let held = store.count()?;
    Ok(if held == 0 {
        format!("{} holds no deliveries yet", store.path().display())
    } else if filter
        .since
        .is_some_and(|since| since > time::OffsetDateTime::now_utc())
    {
        "nothing matches: --since is in the future".to_string()
    } else {
        let noun = if held == 1 { "delivery" } else { "deliveries" };
        let mut said = format!("none of the {held} stored {noun} matches");
        if let Some(text) = &filter.text {
            said.push_str(&format!(
                " (--contains `{}` looks in the type, ids, path and body, letters in either case)",
                sanitize::line(text)
            ));
        }
        // A type mistyped (customer.create) is the likeliest miss: say which there are.
        if filter.event_type.is_some() {
            let shown = 8;
            let types = store.types(shown + 1)?;
            let listed: Vec<String> = types
                .iter()
                .take(shown as usize)
                .map(|(t, n)| format!("{} ({n})", sanitize::line(t)))
                .collect();
            if listed.is_empty() {
                said.push_str("; none has an event type");
            } else {
                let more = if types.len() as u64 > shown {
                    ", …"
                } else {
                    ""
                };
                said.push_str(&format!("; stored types: {}{more}", listed.join(", ")));
            }
        }
        said
    })
}

/// When `key` is a message or event id several deliveries carry (a provider's retries,
/// replays), says on stderr that `chosen` is the newest and which the others are.
fn say_which(store: &Store, key: &str, chosen: &hookscope::delivery::Delivery) -> Result<()> {
    const SHOWN: usize = 10;
    if key.parse::<u64>().ok() == Some(chosen.seq) {
        return Ok(());
    }
    let ids = store.sharing(key, 1000)?;
    if ids.len() < 2 {
        return Ok(());
    }
    let others: Vec<String> = ids
        .iter()
        .rev()
        .filter(|&&id| id != chosen.seq as i64)
        .take(SHOWN)
        .map(|id| format!("#{id}"))
        .collect();
    let more = if ids.len() > SHOWN + 1 { ", …" } else { "" };
    log!(
        "hookscope: {}{} deliveries carry {}: this is the newest, #{} (before it: {}{more}; give the store's id for another)",
        ids.len(),
        if ids.len() == 1000 { " or more" } else { "" },
        sanitize::line(key),
        chosen.seq,
        others.join(", ")
    );
    Ok(())
}

fn show(args: ShowArgs) -> Result<ExitCode> {
    let store = Store::open_existing(&store_path(&args.store)?)?;
    let Some(mut d) = chosen(&store, args.id.as_deref())? else {
        return Ok(ExitCode::from(1));
    };
    if !args.secrets.is_empty() {
        let given = cli::SecretArgs {
            secrets: args.secrets.clone(),
        };
        let (secrets, _) = cli::resolve_secrets(&given, |_| None)?;
        let verifier = Verifier::new(secrets, hookscope::verify::DEFAULT_TOLERANCE);
        match d.verified_again(&verifier) {
            Ok(verdict) => {
                log!(
                    "hookscope: #{}'s verdict worked out again with --secret, as of when it came (its own: {})",
                    d.seq,
                    d.verdict
                        .failure_code()
                        .unwrap_or(match d.verdict.verified() {
                            Some(true) => "verified",
                            _ => "unverified",
                        })
                );
                d.verdict = verdict;
            }
            Err(why) => {
                log!("hookscope: #{} cannot be verified again: {why}", d.seq);
                return Ok(ExitCode::from(1));
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error here, as for every printing command.
    let _ = match args.format {
        ShowFormat::Text => write!(stdout, "{}", headless::full_text(&d)),
        ShowFormat::Json => {
            hookscope::export::write(&mut stdout, &[d], hookscope::export::Format::Jsonl)
        }
        ShowFormat::Body => match headless::body_out(&d, stdout.is_terminal()) {
            Ok((bytes, note)) => {
                if let Some(note) = note {
                    log!("hookscope: {note}");
                }
                stdout.write_all(&bytes).and_then(|()| stdout.flush())
            }
            Err(why) => {
                log!("hookscope: {why}");
                return Ok(ExitCode::from(1));
            }
        },
    };
    Ok(ExitCode::SUCCESS)
}

/// The delivery `show` or `replay` is about: the one `key` names (a store id, message id or
/// event id), or the newest without one. Which one it is goes to stderr where the key does
/// not settle it (for the next command: `replay 812`); `None` once said why there is none.
fn chosen(store: &Store, key: Option<&str>) -> Result<Option<hookscope::delivery::Delivery>> {
    let Some(key) = key else {
        let newest = store.newest()?;
        match &newest {
            Some(d) => log!(
                "hookscope: the newest delivery, #{} (give an id, msg_… or evt_… for another)",
                d.seq
            ),
            None => log!(
                "hookscope: {} holds no deliveries yet",
                store.path().display()
            ),
        }
        return Ok(newest);
    };
    let found = store.find(key)?;
    match &found {
        Some(d) => say_which(store, key, d)?,
        None => log!(
            "hookscope: no delivery with id, message id or event id `{}` in {}",
            sanitize::line(key),
            store.path().display()
        ),
    }
    Ok(found)
}

fn export(args: ExportArgs) -> Result<ExitCode> {
    let store = Store::open_existing(&store_path(&args.store)?)?;
    let filter = args.filter.filter();
    // One delivery at a time from the store to the output: a store of large payloads is
    // never held in memory whole.
    let stream = |out: &mut dyn std::io::Write| -> Result<u64> {
        let mut export = hookscope::export::Exporter::start(out, args.format)?;
        store.for_each(&filter, |d| export.add(&d).map_err(anyhow::Error::from))?;
        Ok(export.finish()?)
    };
    // `-o -` is stdout, as for curl and most tools.
    match args
        .output
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
    {
        Some(path) => {
            // Payloads carry personal data: the export is readable by its owner only.
            let file = store::create_private_file(path).map_err(|e| {
                let p = path.display();
                match e.kind() {
                    // A file made owner-only from the start is a new one: never one overwritten.
                    std::io::ErrorKind::AlreadyExists if path.is_dir() => anyhow::anyhow!(
                        "{p} is a folder: -o takes the name of a new file (e.g. {})",
                        path.join("deliveries.jsonl").display()
                    ),
                    std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                        "{p} already exists: export writes a new file, never over one (remove it or pick another name)"
                    ),
                    // Only where that is the reason: a special file system (/proc) says
                    // "not found" of a file it will not make in a folder that exists.
                    std::io::ErrorKind::NotFound
                        if path
                            .parent()
                            .is_some_and(|d| !d.as_os_str().is_empty() && !d.exists()) =>
                    {
                        anyhow::anyhow!("cannot create {p}: its folder does not exist")
                    }
                    _ => anyhow::anyhow!("cannot create {p}: {e}"),
                }
            })?;
            let written = stream(&mut std::io::BufWriter::new(file));
            let n = match written {
                Ok(n) => n,
                Err(e) => {
                    // The file is export's own (it never writes over one): half an export
                    // would pass for a whole one later.
                    let removed = match std::fs::remove_file(path) {
                        Ok(()) => "removed".to_string(),
                        Err(r) => format!("could not remove it: {r}"),
                    };
                    return Err(e.context(format!(
                        "writing {} (the incomplete file: {removed})",
                        path.display()
                    )));
                }
            };
            log!(
                "exported {} to {}",
                hookscope::delivery::deliveries(n),
                path.display()
            );
        }
        None => {
            if let Err(e) = stream(&mut std::io::BufWriter::new(std::io::stdout().lock()))
                && !is_broken_pipe(&e)
            {
                return Err(e.context("writing to stdout"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether `e` is stdout's reader going away (`export | head`): not an error to report.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn import(args: ImportArgs) -> Result<ExitCode> {
    let (secrets, _) = cli::resolve_secrets(&args.secrets, env_var)?;
    let verifier = Verifier::new(secrets, hookscope::verify::DEFAULT_TOLERANCE);
    // `-` is stdin: `hookscope export --store a | hookscope import --store b -`.
    let stdin = args.file == std::path::Path::new("-");
    let source = if stdin {
        "stdin".to_string()
    } else {
        args.file.display().to_string()
    };
    if !stdin && args.file.is_dir() {
        anyhow::bail!(
            "{} is a folder: import takes a file written by export (JSONL or HAR)",
            args.file.display()
        );
    }
    let input: Box<dyn std::io::Read> = if stdin {
        if std::io::stdin().is_terminal() {
            log!("reading an export from the terminal: paste it, then end it with Ctrl-D");
        }
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("opening {}", args.file.display()))?,
        )
    };
    let mut store = Store::open(&store_path(&args.store)?)?;
    let mut importer = store.importer(&format!("import:{source}"))?;
    // Each delivery is stored as it is read, in the one transaction `commit` ends: a file that
    // turns out bad halfway leaves nothing behind.
    let mut refused = None;
    hookscope::export::read_each(
        std::io::BufReader::new(input),
        &verifier,
        |d| match importer.add(d) {
            Ok(_) => std::ops::ControlFlow::Continue(()),
            Err(e) => {
                refused = Some(e);
                std::ops::ControlFlow::Break(())
            }
        },
    )
    .with_context(|| format!("importing {source}"))?;
    if let Some(e) = refused {
        return Err(e).with_context(|| format!("importing {source}"));
    }
    let summary = importer.commit()?;
    let already = match summary.already {
        0 => String::new(),
        1 => "; 1 was already in the store, left as it was".to_string(),
        n => format!("; {n} were already in the store, left as they were"),
    };
    let into = store.path().display();
    match summary.ids {
        Some((first, last)) if first == last => {
            log!("imported 1 delivery into {into} (id {first}){already}")
        }
        Some((first, last)) => log!(
            "imported {} deliveries into {into} (ids {first}–{last}){already}",
            summary.added
        ),
        None if summary.already > 0 => log!(
            "nothing imported: {into} already holds {} from {source}",
            match summary.already {
                1 => "the delivery".to_string(),
                n => format!("all {n} deliveries"),
            }
        ),
        None => log!("{source} holds no deliveries: nothing imported"),
    }
    Ok(ExitCode::SUCCESS)
}

fn config_forward_line(args: &ServeArgs, url: Option<&str>) -> Option<String> {
    let url = url?;
    Some(
        format!(
            "forwarding {} deliveries to {url} (timeout {}): the app's answer goes back to the sender",
            if args.forward_verified_only {
                "verified"
            } else {
                "all"
            },
            hookscope::forward::limit_text(args.forward_timeout)
        ) + if args.insecure {
            "; its certificate is not checked (--insecure)"
        } else {
            ""
        },
    )
}

/// `replay --edit`: the body through the user's editor, signed as a new message; `None` once
/// it is said why nothing is to be sent.
async fn edited_for_replay(
    args: &ReplayArgs,
    d: &hookscope::delivery::Delivery,
) -> Result<Option<hookscope::delivery::Delivery>> {
    use hookscope::edit::{self, NotSent};
    let (secrets, _) = cli::resolve_secrets(&args.secrets, env_var)?;
    if let Some(why) = hookscope::replay::unrepeatable(d) {
        anyhow::bail!("#{}: {why}", d.seq);
    }
    // Nothing is edited yet: what was asked cannot be done at all, an error.
    let draft = edit::Draft::new(d, &secrets)?;
    let editor = edit::editor();
    log!(
        "hookscope: #{}'s body is open in `{}`: save and close it to send it signed",
        d.seq,
        sanitize::line(&editor)
    );
    let ran = edit::wait(&editor, draft.path(), edit::Suspend::Both).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (e, not_json) = match draft.finish(d, &secrets, &editor, ran, now) {
        Ok(sent) => sent,
        Err(e @ NotSent::Unchanged(_)) => {
            log!("hookscope: nothing sent: {e} (--resign sends it again, re-signed)");
            return Ok(None);
        }
        Err(e) => {
            log!("hookscope: nothing sent: {e}");
            return Ok(None);
        }
    };
    if let Some(why) = not_json {
        log!(
            "hookscope: sending it as written, though it is not JSON: {}",
            sanitize::line(&why)
        );
    }
    Ok(Some(e))
}

/// How a replay's line names what went out: `replayed #7 re-signed msg_…`.
fn replayed_said(d: &hookscope::delivery::Delivery, resigned: bool) -> String {
    format!(
        "replayed #{}{}{}",
        d.seq,
        if resigned { " re-signed" } else { "" },
        d.msg_id
            .as_deref()
            .map(|m| format!(" {}", sanitize::line(m)))
            .unwrap_or_default()
    )
}

/// `replay --failed`: each message still failing since `--since`, re-sent in turn, oldest
/// first, one line each (as a single replay's) and a summary on stderr. Exit status 0 when
/// every one was answered 2xx (or none was failing), 1 otherwise.
async fn replay_failing(args: ReplayArgs, offset: time::UtcOffset) -> Result<ExitCode> {
    let store = Store::open_existing(&store_path(&args.store)?)?;
    let filter = hookscope::store::Filter {
        event_type: args.event_type.clone(),
        since: args.since,
        text: args.contains.clone(),
        ..Default::default()
    };
    let failing = store.failing_messages(&filter)?;
    if failing.is_empty() {
        log!(
            "hookscope: no message is failing: {}",
            none_failing(&store, &filter)?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.dry_run {
        for d in &failing {
            out!("{}", history_line(d, offset));
        }
        log!(
            "hookscope: {} failing: without --dry-run, each is re-sent to {}",
            hookscope::delivery::messages(failing.len() as u64),
            sanitize::line(&args.to)
        );
        return Ok(ExitCode::SUCCESS);
    }
    let secrets = if args.resign {
        cli::resolve_secrets(&args.secrets, env_var)?.0
    } else {
        Vec::new()
    };
    // Said once, rather than on every message's line.
    if args.resign && secrets.is_empty() {
        anyhow::bail!(
            "--resign needs the secret to sign with: pass --secret whsec_… or export HOOKSCOPE_SECRET"
        );
    }
    let trust = hookscope::client::Trust::insecure_if(args.insecure);
    let (mut ok, mut not_ok, mut errors, mut stale) = (0u64, 0u64, 0u64, 0u64);
    for listed in &failing {
        // In full now, one at a time; one pruned meanwhile is said and passed over.
        let Some(d) = store.get(listed.seq as i64)? else {
            out!("error · #{}: no longer in the store", listed.seq);
            errors += 1;
            continue;
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let sent = match args.resign {
            true => hookscope::replay::resigned(&d, &secrets, now),
            false => Ok(d.clone()),
        };
        let said = replayed_said(&d, args.resign);
        let answer = match sent {
            Ok(sent) => {
                hookscope::replay::send(&args.to, &sent, &sent.headers, Resend::Replay, trust).await
            }
            Err(e) => Err(e),
        };
        match answer {
            Ok((status, body)) => {
                out!("{status} {} · {said}", sanitize::line(&body));
                if (200..300).contains(&status) {
                    ok += 1;
                    continue;
                }
                not_ok += 1;
                if !args.resign && hookscope::replay::stale(&d, now).is_some() {
                    stale += 1;
                }
            }
            // Nothing to send the rest to either.
            Err(e @ hookscope::replay::ReplayError::NothingListens { .. }) => {
                let done = ok + not_ok + errors;
                return Err(replay_error(e, &args.to)
                    .context(format!("stopped after {done} of {}", failing.len())));
            }
            Err(e) => {
                let id = d.msg_id.as_deref().unwrap_or_default();
                out!("error · #{} {}: {e}", d.seq, sanitize::line(id));
                errors += 1;
            }
        }
    }
    log!(
        "replayed {} · 2xx {ok} · non-2xx {not_ok} · errors {errors}",
        failing.len()
    );
    if stale > 0 {
        log!(
            "hookscope: {stale} refused as received were signed longer ago than receivers allow: --resign signs them again with fresh timestamps and the same message ids"
        );
    }
    Ok(if not_ok == 0 && errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Why `replay --failed` found nothing: nothing stored in its window, or all went through.
fn none_failing(store: &Store, filter: &hookscope::store::Filter) -> Result<String> {
    let held = store.query_light(&hookscope::store::Filter {
        limit: Some(1),
        ..filter.clone()
    })?;
    Ok(if held.is_empty() {
        nothing_matches(store, filter)?
    } else {
        "the newest delivery of each went through".to_string()
    })
}

/// A replay's error as the edge says it: where nothing listens at the default target, a
/// hookscope may be running with another --port.
fn replay_error(e: hookscope::replay::ReplayError, to: &str) -> anyhow::Error {
    match e {
        e @ hookscope::replay::ReplayError::NothingListens { .. } if to == cli::REPLAY_TO => {
            anyhow::anyhow!("{e}: {}", cli::NOT_RUNNING)
        }
        e => e.into(),
    }
}

async fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let store = Store::open_existing(&store_path(&args.store)?)?;
    let Some(d) = chosen(&store, args.id.as_deref())? else {
        return Ok(ExitCode::from(1));
    };
    drop(store);
    // What goes out, and how its line names it.
    let (sent, said) = if args.edit {
        let Some(e) = edited_for_replay(&args, &d).await? else {
            return Ok(ExitCode::from(1));
        };
        let said = format!(
            "sent #{} as edited, {}",
            d.seq,
            e.msg_id.as_deref().unwrap_or_default()
        );
        (e, said)
    } else {
        let sent = if args.resign {
            let (secrets, _) = cli::resolve_secrets(&args.secrets, env_var)?;
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            hookscope::replay::resigned(&d, &secrets, now)?
        } else {
            d.clone()
        };
        (sent, replayed_said(&d, args.resign))
    };
    let what = if args.edit {
        Resend::Edit
    } else {
        Resend::Replay
    };
    let (status, body) = hookscope::replay::send(
        &args.to,
        &sent,
        &sent.headers,
        what,
        hookscope::client::Trust::insecure_if(args.insecure),
    )
    .await
    .map_err(|e| replay_error(e, &args.to))?;
    out!("{status} {} · {said}", sanitize::line(&body));
    if (200..300).contains(&status) {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.resign
        && !args.edit
        && let Some(stale) =
            hookscope::replay::stale(&d, time::OffsetDateTime::now_utc().unix_timestamp())
    {
        log!(
            "hookscope: as received, it was {stale}: --resign signs it again with a fresh timestamp and the same message id"
        );
    }
    Ok(ExitCode::from(1))
}
