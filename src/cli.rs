//! Command-line interface: flags, environment fallbacks and subcommands.

use crate::headless::Format;
use crate::sender::HeaderStyle;
use crate::verify::{DEFAULT_TOLERANCE, Secret, SecretError};
use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;

/// Where `hookscope send` sends by default: a hookscope started with no options.
pub const SEND_TO: &str = "http://127.0.0.1:8787/";
/// Where `hookscope replay` sends by default: the same hookscope, as a base URL.
pub const REPLAY_TO: &str = "http://127.0.0.1:8787";
/// Said when nothing listens where `send` or `replay` sent by default.
pub const NOT_RUNNING: &str =
    "is hookscope running there? (it listens on 127.0.0.1:8787 unless --port says otherwise)";

/// Environment variables read for secrets when no `--secret` is given, in order.
pub const SECRET_ENV: [&str; 2] = ["HOOKSCOPE_SECRET", "PIVOTAL_WEBHOOK_SECRET"];

/// Receive, verify and inspect Standard Webhooks / Svix deliveries.
#[derive(Debug, Parser)]
#[command(
    name = "hookscope",
    version,
    about = "Receive, verify and inspect Standard Webhooks / Svix webhook deliveries",
    long_about = "Receive, verify and inspect Standard Webhooks / Svix webhook deliveries.\n\n\
        Point your tunnel (ngrok, cloudflared, tailscale funnel) at hookscope's port, register the \
        tunnel URL with the provider, and every delivery is verified and shown, with the exact \
        reason when a signature fails. Verified deliveries are answered 200, rejected ones 401.",
    after_help = "Examples:\n  \
        hookscope --secret whsec_…                 inspect deliveries on port 8787\n  \
        hookscope --headless --format json         one JSON line per delivery, for scripts\n  \
        hookscope send --type customer.created     sign and fire a test event at the receiver",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Options for receiving.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// A subcommand instead of receiving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign and send test events to a receiver (replaces the dashboard's "Send test event").
    Send(SendArgs),
    /// List stored deliveries, oldest first, in headless mode's line formats.
    History(HistoryArgs),
    /// Print one stored delivery in full: verdict, headers, body.
    Show(ShowArgs),
    /// Write stored deliveries as JSONL or HAR 1.2.
    Export(ExportArgs),
    /// Add deliveries from a JSONL or HAR file to the store.
    Import(ImportArgs),
    /// Re-send a stored delivery (as received, re-signed with a fresh timestamp, or edited), or
    /// every message still failing.
    Replay(ReplayArgs),
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Install one, then open a new shell:\n  \
        hookscope completions bash > ~/.local/share/bash-completion/completions/hookscope\n  \
        hookscope completions zsh > ~/.zfunc/_hookscope      (with fpath+=~/.zfunc before compinit)\n  \
        hookscope completions fish > ~/.config/fish/completions/hookscope.fish")]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options for `hookscope replay`.
#[derive(Debug, Args, Clone)]
pub struct ReplayArgs {
    /// The store's id, a message id (msg_…) or an event id (evt_…); without one, the newest
    /// delivery (the one that just failed, say).
    pub id: Option<String>,
    /// Where to send it: a base URL the original path is appended to (a running hookscope, which
    /// records and forwards it, or the app itself).
    #[arg(long, default_value = REPLAY_TO, value_name = "URL")]
    pub to: String,
    /// Re-sign with a fresh timestamp (same message id) so it passes the 5-minute tolerance.
    #[arg(long)]
    pub resign: bool,
    /// Open the body in $VISUAL or $EDITOR first, then send what is saved signed with a fresh
    /// timestamp as a new message (the inspector's e).
    #[arg(long, conflicts_with = "resign")]
    pub edit: bool,
    /// Re-send every message still failing since --since, oldest first, in place of one
    /// delivery: each message's newest delivery, where that one was rejected, answered 4xx/5xx
    /// or not answered (a message a retry or replay got through since is left alone). What
    /// Svix calls recovering failed messages, once the app or the secret is fixed.
    #[arg(long, requires = "since", conflicts_with_all = ["id", "edit"])]
    pub failed: bool,
    /// With --failed: messages since then: a duration back from now (30m, 2h, 7d), today,
    /// yesterday, a local date or time (2026-11-28, 09:30) or an RFC 3339 time.
    #[arg(long, value_parser = parse_since, value_name = "WHEN", requires = "failed")]
    pub since: Option<time::OffsetDateTime>,
    /// With --failed: only this event type, or those a pattern matches (`customer.*`).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_event_type, requires = "failed")]
    pub event_type: Option<String>,
    /// With --failed: only messages whose type, ids, path or body contain this text, letters
    /// in either case (one customer's, say), as `history --contains` picks them.
    #[arg(long, value_name = "TEXT", requires = "failed")]
    pub contains: Option<String>,
    /// With --failed: list what would be re-sent, as `history` lines, and send nothing.
    #[arg(long, requires = "failed")]
    pub dry_run: bool,
    /// Accept any certificate from an https target, as curl's -k: still encrypted, but who
    /// answers is not checked.
    #[arg(long, short = 'k')]
    pub insecure: bool,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Secrets to re-sign with.
    #[command(flatten)]
    pub secrets: SecretArgs,
}

/// Which store file.
#[derive(Debug, Args, Clone, Default)]
pub struct StoreArgs {
    /// The store file [default: deliveries.sqlite3 in the user's data folder, e.g.
    /// ~/.local/share/hookscope/].
    #[arg(long = "store", value_name = "PATH")]
    pub path: Option<std::path::PathBuf>,
}

/// Filters shared by history and export.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only this event type, or those a pattern matches: `customer.*` (quote it from the shell;
    /// `*`, `?` and `[…]` as in a shell's globs, case-sensitive).
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_event_type)]
    pub event_type: Option<String>,
    /// Only failures (rejected, answered 4xx/5xx, or not answered at all: a head that never ended)
    #[arg(long)]
    pub failed: bool,
    /// Only deliveries since then: a duration back from now (30m, 2h, 7d), today, yesterday, a
    /// local date or time (2026-11-28, 2026-11-28 09:30, 09:30:15, as the inspector shows them)
    /// or an RFC 3339 time.
    #[arg(long, value_parser = parse_since, value_name = "WHEN")]
    pub since: Option<time::OffsetDateTime>,
    /// Only the newest N.
    #[arg(long, value_name = "N", value_parser = parse_limit)]
    pub limit: Option<u64>,
    /// Only deliveries whose type, event or message id, path or body contain this text,
    /// letters in either case (an email or a customer id from a support ticket).
    #[arg(long, value_name = "TEXT")]
    pub contains: Option<String>,
}

impl FilterArgs {
    /// As a store filter.
    pub fn filter(&self) -> crate::store::Filter {
        crate::store::Filter {
            event_type: self.event_type.clone(),
            failed: self.failed,
            since: self.since,
            limit: self.limit,
            text: self.contains.clone(),
        }
    }
}

/// Options for `hookscope history`.
#[derive(Debug, Args, Clone)]
pub struct HistoryArgs {
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Every delivery that matches (without it, and without --limit, the newest 50).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Line format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// How many deliveries `history` lists without `--limit` or `--all`: a screenful or two.
pub const HISTORY_LIMIT: u64 = 50;

/// Options for `hookscope show`.
#[derive(Debug, Args, Clone)]
pub struct ShowArgs {
    /// The store's id, a message id (msg_…) or an event id (evt_…); without one, the newest
    /// delivery (what just came in).
    pub id: Option<String>,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// What to print.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    /// Verify it again with this secret, as of when it came, in place of the verdict it got:
    /// which of two secrets is the endpoint's? Repeat for several. (Not read from the
    /// environment: without it, the verdict shown is the one it got.)
    #[arg(long = "secret", value_name = "[/PATH=]SECRET")]
    pub secrets: Vec<String>,
}

/// What `hookscope show` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ShowFormat {
    /// Verdict, request, headers and the pretty-printed body, to read.
    Text,
    /// One JSON object as `export` writes each line (body byte for byte), for scripts and jq.
    Json,
    /// The body's exact bytes and nothing else: save a real payload as a test fixture, or pipe
    /// it to jq. (At a terminal, characters it would act on are shown escaped.)
    Body,
}

/// Options for `hookscope export`.
#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::export::Format::Jsonl)]
    pub format: crate::export::Format,
    /// Write to this new file (created owner-readable only) instead of stdout (`-`).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// Options for `hookscope import`.
#[derive(Debug, Args, Clone)]
pub struct ImportArgs {
    /// A JSONL or HAR file (hookscope's own exports, or a HAR from other tools), or - for stdin.
    pub file: std::path::PathBuf,
    /// The store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Secrets to verify deliveries that carry no verdict (HAR from other tools) with.
    #[command(flatten)]
    pub secrets: SecretArgs,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "`{s}` is not a positive rate (events per second, e.g. 1000)"
        )),
    }
}

/// Parses `--since`: `30m`, `2h`, `7d`, `90s` back from now, an RFC 3339 time, or a local
/// date or time as the inspector shows them (`2026-11-28`, `2026-11-28 04:47`, `04:47:05`).
pub fn parse_since(s: &str) -> Result<time::OffsetDateTime, String> {
    // clap parses before any other thread exists, when the time crate can read the offset.
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    since_at(s, time::OffsetDateTime::now_utc().to_offset(offset))
}

/// [`parse_since`] as of `now`, whose offset is the one local dates and times are in.
fn since_at(s: &str, now: time::OffsetDateTime) -> Result<time::OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    let t = s.trim();
    if let Ok(at) = time::OffsetDateTime::parse(t, &Rfc3339) {
        return Ok(at);
    }
    let local = |at: time::PrimitiveDateTime| at.assume_offset(now.offset());
    let date_time = [
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    for f in date_time {
        if let Ok(at) = time::PrimitiveDateTime::parse(t, f) {
            return Ok(local(at));
        }
    }
    if let Ok(day) = time::Date::parse(t, format_description!("[year]-[month]-[day]")) {
        return Ok(local(day.midnight()));
    }
    for f in [
        format_description!("[hour]:[minute]:[second]"),
        format_description!("[hour]:[minute]"),
    ] {
        if let Ok(clock) = time::Time::parse(t, f) {
            // The last such moment: 23:00 asked at 00:30 is yesterday's.
            let today = local(now.date().with_time(clock));
            return Ok(if today > now {
                today - time::Duration::DAY
            } else {
                today
            });
        }
    }
    match t {
        "today" => return Ok(local(now.date().midnight())),
        "yesterday" => {
            let day = now.date().previous_day().unwrap_or(now.date());
            return Ok(local(day.midnight()));
        }
        _ => {}
    }
    let unknown = || {
        format!(
            "`{s}` is not a time: give a duration back from now (30m, 2h, 1.5d), today, yesterday, \
             a local date or time (2026-11-28, 2026-11-28 09:30, 09:30:15) or an RFC 3339 time"
        )
    };
    // A unit is required: a bare number could be seconds or a year.
    if t.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(unknown());
    }
    let back = match t.strip_suffix('d') {
        Some(days) => crate::forward::parse_duration(&format!("{days}h"))
            .and_then(|hours| hours.checked_mul(24)),
        None => crate::forward::parse_duration(t),
    }
    .ok_or_else(unknown)?;
    let back = time::Duration::try_from(back).map_err(|_| unknown())?;
    Ok(now
        .checked_sub(back)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// Secrets, shared by receiving and sending.
#[derive(Debug, Args, Clone, Default)]
pub struct SecretArgs {
    /// Signing secret (whsec_…, a bare base64 key, or whpk_… for v1a). Repeat for rotation: any
    /// may match. Prefix a path to scope it: /billing=whsec_…. Defaults to $HOOKSCOPE_SECRET,
    /// then $PIVOTAL_WEBHOOK_SECRET (several may be given there, separated by spaces).
    #[arg(long = "secret", value_name = "[/PATH=]SECRET")]
    pub secrets: Vec<String>,
}

/// Options for receiving (the default command).
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (an IP, or localhost). Anything but loopback lets other machines
    /// send to hookscope.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR", value_parser = parse_bind)]
    pub bind: IpAddr,
    /// Port to listen on (0 picks a free one; the real one is printed on stderr).
    #[arg(long, short, default_value_t = 8787, value_parser = parse_port)]
    pub port: u16,
    /// Secrets to verify with.
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// Allowed difference between the signed timestamp and this machine's clock, both ways:
    /// seconds, or a duration in whole seconds (5m, 1h).
    #[arg(long, default_value_t = DEFAULT_TOLERANCE, value_name = "SECONDS", value_parser = parse_tolerance)]
    pub tolerance: u64,
    /// Connections served at once; more wait until one closes. An HTTP/2 connection counts as
    /// the 100 requests it may carry at once. A lower `ulimit -n` is raised to fit, or where it
    /// cannot be, fewer are served (a warning says so).
    #[arg(long, default_value_t = crate::receiver::DEFAULT_MAX_CONNECTIONS, value_name = "N", value_parser = parse_max_connections)]
    pub max_connections: usize,
    /// Largest body accepted (bytes, or with a unit: 64KiB, 16MiB); larger ones get 413.
    #[arg(long, default_value = "16MiB", value_parser = parse_max_body, value_name = "SIZE")]
    pub max_body: u64,
    /// Request bodies held at once, across connections, while they are read and answered and
    /// until the inspector takes them; a body that would go past it gets 503, for the sender to
    /// retry later. Never less than --max-body.
    #[arg(long, default_value = "256MiB", value_parser = parse_body_memory, value_name = "SIZE")]
    pub max_body_memory: u64,
    /// No terminal UI: print one line per delivery on stdout (logs go to stderr).
    #[arg(long)]
    pub headless: bool,
    /// Line format in headless mode.
    #[arg(long, value_enum, default_value_t = Format::Human, requires = "headless")]
    pub format: Format,
    /// Headless, for scripts and CI: end the run once N deliveries are printed (it then stops
    /// listening; any answered meanwhile are printed too). Exit status 0 when none failed
    /// verification or was refused, 1 when one did.
    #[arg(long, requires = "headless", value_name = "N", value_parser = parse_exit_after)]
    pub exit_after: Option<u64>,
    /// Headless: end the run after this long (30s, 2m), with the exit status of --exit-after;
    /// 124 (as timeout(1) does) when --exit-after's count was not reached. A run that ends by
    /// itself still prints what was answered, but gives up on a stdout that takes nothing for
    /// 5 s, saying how many lines it dropped.
    #[arg(long, requires = "headless", value_parser = parse_run_length, value_name = "DURATION")]
    pub timeout: Option<std::time::Duration>,
    /// Fill the inspector with a realistic mix of sample deliveries (sent to our own port).
    #[arg(long)]
    pub demo: bool,
    /// ngrok agent API polled for the tunnel's public URL.
    #[arg(long, default_value = crate::tunnel::NGROK_API, value_name = "URL", value_parser = parse_ngrok_api)]
    pub ngrok_api: String,
    /// Do not poll for a tunnel URL (ngrok's agent API, `tailscale funnel status --json`,
    /// cloudflared's metrics server).
    #[arg(long)]
    pub no_tunnel: bool,
    /// The store every delivery is committed to before it is answered.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Keep deliveries in memory only (nothing written to disk).
    #[arg(long, conflicts_with = "path")]
    pub no_store: bool,
    /// Deliveries kept (the newest; older ones are pruned in the background).
    #[arg(long, default_value_t = crate::store::DEFAULT_RETAIN, value_name = "N", value_parser = parse_retained)]
    pub retain: u64,
    /// Also prune deliveries older than this many days.
    #[arg(long, value_name = "DAYS", value_parser = parse_retained)]
    pub retain_days: Option<u64>,
    /// Relay every delivery to your app (http or https); its answer is what the sender gets. The
    /// original path and query are appended to the URL's path (a delivery to `/` goes to the
    /// URL as written).
    #[arg(long, value_name = "URL")]
    pub forward_to: Option<String>,
    /// Relay only verified deliveries (others get hookscope's own answer).
    #[arg(long, requires = "forward_to")]
    pub forward_verified_only: bool,
    /// Give up on the app after this long (then the sender gets 504): 30s, 2m, 500ms.
    #[arg(long, default_value = "30s", value_parser = parse_forward_timeout, value_name = "DURATION")]
    pub forward_timeout: std::time::Duration,
    /// Accept any certificate from an https app (a development server's self-signed one), as
    /// curl's -k: still encrypted, but who answers is not checked.
    #[arg(long, requires = "forward_to")]
    pub insecure: bool,
    /// What senders are answered: normal, status:CODE, delay:DURATION or flaky:P (switch it
    /// at run time with m).
    #[arg(long, default_value = "normal", value_name = "MODE")]
    pub respond: crate::forward::RespondMode,
}

fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    crate::forward::parse_duration(s)
        .ok_or_else(|| format!("`{s}` is not a duration (500ms, 30s, 2m)"))
}

/// A duration that must not be zero; `zero` says what zero would do and what to give instead.
fn parse_some_time(s: &str, zero: &str) -> Result<std::time::Duration, String> {
    match parse_duration_arg(s)? {
        d if d.is_zero() => Err(format!("`{s}` {zero}")),
        d => Ok(d),
    }
}

/// `--timeout`: a run of no length would end before anything could arrive (and `timeout 0`
/// means "no limit" to coreutils), so zero is refused rather than guessed at.
fn parse_run_length(s: &str) -> Result<std::time::Duration, String> {
    parse_some_time(
        s,
        "would end the run at once: give a length (30s, 2m), or leave --timeout out",
    )
}

/// `--max-body`: a limit of nothing would refuse every delivery that has a body.
fn parse_max_body(s: &str) -> Result<u64, String> {
    some_size(s, "413", "64KiB, 16MiB")
}

/// A size that is not zero: zero would refuse every delivery with a body, answering `status`.
fn some_size(s: &str, status: &str, examples: &str) -> Result<u64, String> {
    match parse_size(s)? {
        0 => Err(format!(
            "`{s}` would refuse every delivery with a body ({status}): give a size ({examples})"
        )),
        n => Ok(n),
    }
}

/// `--max-body-memory`: no room at all would refuse every delivery that has a body.
fn parse_body_memory(s: &str) -> Result<u64, String> {
    some_size(s, "503", "64MiB, 1GiB")
}

/// `--ngrok-api`: a URL polled every 5 s, which a typo would otherwise turn into silence.
fn parse_ngrok_api(s: &str) -> Result<String, String> {
    crate::client::http_url(s)
        .map(|_| s.to_string())
        .map_err(|why| format!("`{s}`: {why}"))
}

/// `--forward-timeout`: with no time at all every delivery would get 504 before the app saw it.
fn parse_forward_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_some_time(
        s,
        "would give up on the app before it could answer: give a length (500ms, 30s)",
    )
}

/// `--bind`: an IP address (an IPv6 one also as URLs write it, `[::1]`), or `localhost`
/// (loopback, IPv4). An address with a port is refused with where the port goes, rather than
/// the parser's "invalid IP address syntax".
fn parse_bind(s: &str) -> Result<IpAddr, String> {
    if s.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::from([127, 0, 0, 1]));
    }
    if let Ok(ip) = s.parse() {
        return Ok(ip);
    }
    if let Some(IpAddr::V6(ip)) = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse().ok())
    {
        return Ok(IpAddr::V6(ip));
    }
    if let Ok(with_port) = s.parse::<std::net::SocketAddr>() {
        return Err(format!(
            "`{s}` has a port: pass the address alone and the port apart (--bind {} --port {})",
            with_port.ip(),
            with_port.port()
        ));
    }
    Err(format!(
        "`{s}` is not an IP address: use 127.0.0.1 (this machine only), 0.0.0.0 (every network), ::1 or localhost"
    ))
}

/// The warning for listening on `bind`, saying who can then send deliveries; none for
/// loopback, which only this machine reaches.
pub fn exposure(bind: IpAddr) -> Option<String> {
    if bind.is_loopback() {
        return None;
    }
    let (where_, who) = if bind.is_unspecified() {
        (
            format!("every address of this machine ({bind})"),
            "anyone who can reach this machine over any network it is on (the LAN, a VPN, the internet if it has a public address)",
        )
    } else {
        (
            match bind {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            },
            "anyone who can reach that address (its network: the LAN, a VPN)",
        )
    };
    Some(format!(
        "warning: listening on {where_}: {who} can send deliveries; bind 127.0.0.1 (the default) and use a tunnel to limit that"
    ))
}

/// `--retain`, `--retain-days`: zero would prune every stored delivery, history included, and
/// reads like "no limit" to many, so it is refused rather than obeyed.
fn parse_retained(s: &str) -> Result<u64, String> {
    at_least_one(
        s,
        "would delete every stored delivery: give at least 1 (or --no-store to keep nothing on disk)",
    )
}

/// A whole number of at least 1; `zero` says what 0 would do, and how to ask for something
/// else.
fn at_least_one(s: &str, zero: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err(format!("`{s}` {zero}")),
        Ok(n) => Ok(n),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
            Err(format!("`{s}` is too large"))
        }
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

/// `--max-connections`: zero would serve nobody (it was quietly taken as 1).
fn parse_max_connections(s: &str) -> Result<usize, String> {
    let zero = format!(
        "would serve no connection: give at least 1 (the default is {})",
        crate::receiver::DEFAULT_MAX_CONNECTIONS
    );
    at_least_one(s, &zero).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// `--limit` of history and export: zero would select nothing, without a word.
fn parse_limit(s: &str) -> Result<u64, String> {
    at_least_one(
        s,
        "would select nothing: give at least 1, or leave --limit out",
    )
}

/// `--type`: an empty one (an unset variable) would send a payload without a type, or select
/// nothing.
fn parse_event_type(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("an event type cannot be empty (e.g. customer.created)".into());
    }
    Ok(s.to_string())
}

/// `send -n`: zero would send nothing and say "sent 0".
fn parse_count(s: &str) -> Result<u64, String> {
    at_least_one(s, "would send nothing: give at least 1 event")
}

/// `send -c`: zero would send nothing (it was quietly taken as 1).
fn parse_concurrency(s: &str) -> Result<usize, String> {
    at_least_one(s, "would send nothing: give at least 1 request in flight")
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// `--port`: said in words, not as Rust's "invalid digit found in string".
fn parse_port(s: &str) -> Result<u16, String> {
    s.parse::<u16>().map_err(|_| {
        format!("`{s}` is not a port: give a number from 1 to 65535 (0 picks a free one)")
    })
}

/// `--exit-after`: zero would end the run before anything could come.
fn parse_exit_after(s: &str) -> Result<u64, String> {
    at_least_one(
        s,
        "would end the run before any delivery came: give at least 1 (or leave it out)",
    )
}

/// `--tolerance`: seconds as signed timestamps count them, written as a number or a duration.
fn parse_tolerance(s: &str) -> Result<u64, String> {
    match crate::forward::parse_duration(s) {
        Some(d) if d.subsec_millis() == 0 => Ok(d.as_secs()),
        Some(_) => Err(format!(
            "`{s}`: signed timestamps count whole seconds: give one (300, 5m)"
        )),
        None => Err(format!(
            "`{s}` is not a number of seconds or a duration (300, 5m, 1h)"
        )),
    }
}

/// `send --timeout`: a duration as the other timeouts take it (a bare number is seconds, as it
/// always was here); zero would give up on every request before its answer could come.
fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_some_time(
        s,
        "would give up on every request before it could be answered: give a time (30s, 500ms)",
    )
}

/// Options for `hookscope send`.
#[derive(Debug, Args, Clone)]
pub struct SendArgs {
    /// Receiver URL (http, or https: the tunnel's public URL tests the whole way in).
    #[arg(long, default_value = SEND_TO, value_name = "URL")]
    pub to: String,
    /// Secret to sign with (the first one that applies to the URL's path is used).
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// Event type; customer.created and task.completed have realistic sample payloads, other
    /// types get a minimal {id, type, created_at, data} object. (Not with --data, whose body
    /// is sent as given, type and all.)
    #[arg(long = "type", default_value = "customer.created", value_name = "TYPE", value_parser = parse_event_type, conflicts_with = "data")]
    pub event_type: String,
    /// Body to send verbatim instead of a sample: JSON text, @FILE to read a file, or @- to
    /// read stdin.
    #[arg(long, value_name = "JSON|@FILE|@-")]
    pub data: Option<String>,
    /// How many events to send.
    #[arg(long, short = 'n', default_value_t = 1, value_parser = parse_count)]
    pub count: u64,
    /// How many requests in flight at once.
    #[arg(long, short = 'c', default_value_t = 1, value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Send at this steady rate (events per second) instead of as fast as answers come back;
    /// give enough --concurrency for the receiver's latency.
    #[arg(long, value_name = "PER_SECOND", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Header names to sign with.
    #[arg(long, value_enum, default_value_t = HeaderStyle::Svix)]
    pub headers: HeaderStyle,
    /// Fault: change the body after signing (the receiver should say bad_signature).
    #[arg(long)]
    pub tamper: bool,
    /// Fault: sign with a timestamp ten minutes old (timestamp_too_old).
    #[arg(long)]
    pub stale: bool,
    /// Fault: sign with a random secret (bad_signature).
    #[arg(long)]
    pub wrong_secret: bool,
    /// Print only the summary line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Give up on a request after this long (30s, 500ms, 2m; a bare number is seconds).
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_request_timeout)]
    pub timeout: std::time::Duration,
    /// Accept any certificate from an https receiver, as curl's -k: still encrypted, but who
    /// answers is not checked.
    #[arg(long, short = 'k')]
    pub insecure: bool,
}

/// A secret that could not be used, with where it came from.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {error}")]
pub struct SecretArgError {
    /// `--secret #2` or the environment variable's name.
    pub source_name: String,
    /// What is wrong.
    pub error: SecretError,
}

/// Where the secrets came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `--secret` flags.
    Flags,
    /// An environment variable.
    Env(&'static str),
    /// Nowhere.
    None,
}

/// Parses `--secret` values, else the first set environment variable among [`SECRET_ENV`].
pub fn resolve_secrets(
    args: &SecretArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(Vec<Secret>, SecretSource), SecretArgError> {
    if !args.secrets.is_empty() {
        let parsed = args
            .secrets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Secret::parse(s).map_err(|error| SecretArgError {
                    source_name: if args.secrets.len() == 1 {
                        "--secret".to_string()
                    } else {
                        format!("--secret #{}", i + 1)
                    },
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((without_repeats(parsed), SecretSource::Flags));
    }
    for name in SECRET_ENV {
        let Some(value) = env(name) else { continue };
        if value.trim().is_empty() {
            continue;
        }
        let parsed = value
            .split_whitespace()
            .map(|s| {
                Secret::parse(s).map_err(|error| SecretArgError {
                    source_name: format!("${name}"),
                    error,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        return Ok((without_repeats(parsed), SecretSource::Env(name)));
    }
    Ok((Vec::new(), SecretSource::None))
}

/// The secrets with each given only once (the first time): a secret pasted twice, in a flag
/// and again in a script, would be tried twice per delivery and counted twice in a failure's
/// "tried against 2 secrets".
fn without_repeats(secrets: Vec<Secret>) -> Vec<Secret> {
    let mut kept: Vec<Secret> = Vec::with_capacity(secrets.len());
    for s in secrets {
        if !kept.iter().any(|k| k.same_as(&s)) {
            kept.push(s);
        }
    }
    kept
}

/// Parses `16MiB`, `64k`, `1048576`, `1.5MB` (binary units either way: these are limits).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 16MiB, 512KiB or a number of bytes)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use B, KiB, MiB or GiB)"
            ));
        }
    };
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("`{s}` is out of range"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_beyond_loopback_says_who_can_send() {
        let warn = |s: &str| exposure(parse_bind(s).unwrap());
        assert_eq!(warn("127.0.0.1"), None);
        assert_eq!(warn("::1"), None);
        assert_eq!(warn("localhost"), None);
        assert_eq!(
            warn("0.0.0.0").unwrap(),
            "warning: listening on every address of this machine (0.0.0.0): anyone who can reach this machine over any network it is on (the LAN, a VPN, the internet if it has a public address) can send deliveries; bind 127.0.0.1 (the default) and use a tunnel to limit that"
        );
        assert!(
            warn("::")
                .unwrap()
                .starts_with("warning: listening on every address of this machine (::): ")
        );
        assert!(warn("192.168.1.5").unwrap().starts_with(
            "warning: listening on 192.168.1.5: anyone who can reach that address (its network: the LAN, a VPN) can send"
        ));
        assert!(
            warn("fd00::5")
                .unwrap()
                .starts_with("warning: listening on [fd00::5]: ")
        );
    }

    #[test]
    fn counts_that_zero_would_defeat_refuse_it_saying_what_it_would_do() {
        assert_eq!(parse_max_connections("8"), Ok(8));
        assert_eq!(
            parse_max_connections("0").unwrap_err(),
            "`0` would serve no connection: give at least 1 (the default is 1024)"
        );
        assert!(
            parse_limit("0")
                .unwrap_err()
                .contains("would select nothing")
        );
        assert_eq!(parse_count("3"), Ok(3));
        assert!(parse_count("0").unwrap_err().contains("would send nothing"));
        assert_eq!(parse_concurrency("64"), Ok(64));
        assert!(
            parse_concurrency("0")
                .unwrap_err()
                .contains("would send nothing")
        );
        assert_eq!(parse_port("0"), Ok(0));
        assert_eq!(parse_port("65535"), Ok(65535));
        for bad in ["abc", "65536", "-1", ""] {
            assert!(
                parse_port(bad).unwrap_err().contains("is not a port"),
                "{bad}"
            );
        }
        assert_eq!(parse_exit_after("1"), Ok(1));
        assert!(
            parse_exit_after("0")
                .unwrap_err()
                .contains("would end the run")
        );
        assert!(
            parse_exit_after("x")
                .unwrap_err()
                .contains("is not a whole number")
        );
        assert_eq!(parse_tolerance("300"), Ok(300));
        assert_eq!(parse_tolerance("5m"), Ok(300));
        assert_eq!(parse_tolerance("0"), Ok(0), "exact, for a test of clocks");
        assert!(
            parse_tolerance("1.5s")
                .unwrap_err()
                .contains("whole seconds")
        );
        assert!(
            parse_tolerance("soon")
                .unwrap_err()
                .contains("is not a number of seconds")
        );
        use std::time::Duration;
        assert_eq!(parse_request_timeout("5"), Ok(Duration::from_secs(5)));
        assert_eq!(
            parse_request_timeout("1.5s"),
            Ok(Duration::from_millis(1_500))
        );
        for zero in ["0", "0s", "0.0001s"] {
            assert!(
                parse_request_timeout(zero)
                    .unwrap_err()
                    .contains("would give up on every request"),
                "{zero}"
            );
        }
        assert!(parse_request_timeout("-1").is_err());
        assert_eq!(
            parse_retained("-1").unwrap_err(),
            "`-1` is not a whole number"
        );
        assert_eq!(
            parse_retained("99999999999999999999").unwrap_err(),
            "`99999999999999999999` is too large"
        );
    }

    #[test]
    fn an_event_type_cannot_be_empty() {
        assert_eq!(parse_event_type("a.b"), Ok("a.b".into()));
        for empty in ["", " "] {
            assert_eq!(
                parse_event_type(empty).unwrap_err(),
                "an event type cannot be empty (e.g. customer.created)"
            );
        }
    }

    #[test]
    fn send_refuses_a_type_beside_data_which_would_ignore_it() {
        let e = Cli::try_parse_from(["hookscope", "send", "--type", "a.b", "--data", "{}"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("'--type <TYPE>' cannot be used with"), "{e}");
        // The default type is no conflict.
        assert!(Cli::try_parse_from(["hookscope", "send", "--data", "{}"]).is_ok());
        assert!(Cli::try_parse_from(["hookscope", "send", "--type", "a.b"]).is_ok());
    }

    #[test]
    fn the_ngrok_api_must_be_a_url() {
        assert_eq!(
            parse_ngrok_api(crate::tunnel::NGROK_API),
            Ok(crate::tunnel::NGROK_API.to_string())
        );
        assert_eq!(
            parse_ngrok_api("127.0.0.1:4041").unwrap_err(),
            "`127.0.0.1:4041`: no scheme: write http://127.0.0.1:4041 (or https://127.0.0.1:4041)"
        );
        assert!(parse_ngrok_api("notaurl").is_err());
    }

    #[test]
    fn bind_takes_an_ip_or_localhost_and_says_where_a_port_goes() {
        assert_eq!(parse_bind("localhost"), Ok(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(parse_bind("::1"), "::1".parse().map_err(|_| String::new()));
        // As a URL writes it (the address hookscope prints: http://[::1]:8787).
        assert_eq!(
            parse_bind("[::1]"),
            "::1".parse().map_err(|_| String::new())
        );
        assert!(parse_bind("[127.0.0.1]").is_err());
        assert_eq!(parse_bind("0.0.0.0"), Ok(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(
            parse_bind("127.0.0.1:9000").unwrap_err(),
            "`127.0.0.1:9000` has a port: pass the address alone and the port apart (--bind 127.0.0.1 --port 9000)"
        );
        assert!(
            parse_bind("[::1]:9000")
                .unwrap_err()
                .contains("--bind ::1 --port 9000")
        );
        assert!(
            parse_bind("example.com")
                .unwrap_err()
                .contains("is not an IP address")
        );
    }

    #[test]
    fn retaining_nothing_is_refused_before_it_empties_the_store() {
        for flag in ["--retain", "--retain-days"] {
            let e = Cli::try_parse_from(["hookscope", flag, "0"]).unwrap_err();
            assert!(
                e.to_string().contains("would delete every stored delivery"),
                "{e}"
            );
            assert!(Cli::try_parse_from(["hookscope", flag, "1"]).is_ok());
            assert!(Cli::try_parse_from(["hookscope", flag, "-1"]).is_err());
        }
    }

    #[test]
    fn since_reads_local_dates_and_times_as_the_inspector_shows_them() {
        use time::macros::datetime;
        // 00:30 on 28 November, two hours ahead of UTC.
        let now = datetime!(2026-11-28 00:30 +02:00);
        let at = |s: &str| since_at(s, now).map(|t| t.to_offset(time::UtcOffset::UTC));
        assert_eq!(at("2026-11-27"), Ok(datetime!(2026-11-26 22:00 UTC)));
        assert_eq!(at("2026-11-27 09:30"), Ok(datetime!(2026-11-27 07:30 UTC)));
        assert_eq!(
            at("2026-11-27T09:30:15"),
            Ok(datetime!(2026-11-27 07:30:15 UTC))
        );
        assert_eq!(at("00:10"), Ok(datetime!(2026-11-27 22:10 UTC)));
        // A time of day later than now is the day before's.
        assert_eq!(at("23:00:05"), Ok(datetime!(2026-11-27 21:00:05 UTC)));
        assert_eq!(
            at("2026-11-27T10:00:00Z"),
            Ok(datetime!(2026-11-27 10:00 UTC))
        );
        assert_eq!(at("90m"), Ok(datetime!(2026-11-27 21:00 UTC)));
        // Fractions as in every other duration, days too; and the day's start, local.
        assert_eq!(at("1.5h"), Ok(datetime!(2026-11-27 21:00 UTC)));
        assert_eq!(at("0.5d"), Ok(datetime!(2026-11-27 10:30 UTC)));
        assert_eq!(at("today"), Ok(datetime!(2026-11-27 22:00 UTC)));
        assert_eq!(at("yesterday"), Ok(datetime!(2026-11-26 22:00 UTC)));
        // Further back than time goes is the beginning, not an overflow.
        assert_eq!(at("99999999999d"), Ok(time::OffsetDateTime::UNIX_EPOCH));
        for bad in ["soon", "2026-13-01", "25:00", "3w", "30", "1.5", "d", ".h"] {
            let err = at(bad).unwrap_err();
            assert!(
                err.contains("is not a time") && err.contains("09:30"),
                "{err}"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        let ago = time::OffsetDateTime::now_utc() - parse_since("2h").unwrap();
        assert!((ago.whole_seconds() - 7200).abs() < 5);
        assert_eq!(
            parse_since("2026-11-27T10:00:00Z")
                .unwrap()
                .unix_timestamp(),
            1_795_773_600
        );
        assert!(parse_since("soon").is_err());
        assert!(parse_size("lots").is_err());
        assert!(
            parse_max_body("0KiB")
                .unwrap_err()
                .contains("every delivery")
        );
        assert_eq!(parse_max_body("1"), Ok(1));
        assert!(parse_body_memory("0").unwrap_err().contains("503"));
        assert_eq!(parse_body_memory("1GiB"), Ok(1 << 30));
        assert!(parse_size("5 parsecs").is_err());
    }

    #[test]
    fn secrets_from_flags_then_env() {
        let env = |name: &str| match name {
            "PIVOTAL_WEBHOOK_SECRET" => Some(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\n"
                    .to_string(),
            ),
            _ => None,
        };
        let (s, src) = resolve_secrets(&SecretArgs::default(), env).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(src, SecretSource::Env("PIVOTAL_WEBHOOK_SECRET"));

        let flags = SecretArgs {
            secrets: vec![
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                "v1,abc".into(),
            ],
        };
        let err = resolve_secrets(&flags, env).unwrap_err();
        assert_eq!(err.source_name, "--secret #2");
        assert!(err.to_string().contains("looks like a signature"), "{err}");

        let (none, src) = resolve_secrets(&SecretArgs::default(), |_| None).unwrap();
        assert!(none.is_empty());
        assert_eq!(src, SecretSource::None);

        // The same secret twice, however written, is kept once; scoped elsewhere, it is
        // another; and so is a signing key beside its public half.
        let flags = SecretArgs {
            secrets: [
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "/billing=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "/billing/=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ]
            .map(String::from)
            .to_vec(),
        };
        let (kept, _) = resolve_secrets(&flags, |_| None).unwrap();
        let labels: Vec<String> = kept.iter().map(|s| s.label().to_string()).collect();
        assert_eq!(
            labels,
            [
                "whsec_MfKQ…aSw",
                "/billing=whsec_MfKQ…aSw",
                "whsec_C2FV…7oD"
            ]
        );
        let env = |_: &str| {
            Some(
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
                    .into(),
            )
        };
        assert_eq!(
            resolve_secrets(&SecretArgs::default(), env)
                .unwrap()
                .0
                .len(),
            1
        );
        let keys = SecretArgs {
            secrets: [
                "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
                "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=",
            ]
            .map(String::from)
            .to_vec(),
        };
        assert_eq!(resolve_secrets(&keys, |_| None).unwrap().0.len(), 1);
    }
}
