//! `hookscope send`: signs test events the way a Standard Webhooks provider does and fires them
//! at a receiver, with deliberate faults for trying out failure handling.

use crate::client::Connector;
use crate::sanitize;
use crate::verify::sign;
use crate::verify::{Key, Secret};
use bytes::Bytes;
use http::{Method, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::RngExt as _;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Sample payloads shipped in `assets/events/`, by event type.
pub const SAMPLES: [(&str, &str); 2] = [
    (
        "customer.created",
        include_str!("../assets/events/customer.created.json"),
    ),
    (
        "task.completed",
        include_str!("../assets/events/task.completed.json"),
    ),
];

/// Which header names to sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum HeaderStyle {
    /// `svix-id`, `svix-timestamp`, `svix-signature`.
    #[default]
    Svix,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    Webhook,
}

/// A deliberate fault, to see how a receiver reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Change the body after signing (`bad_signature`).
    Tamper,
    /// Sign with a timestamp ten minutes old (`timestamp_too_old`).
    Stale,
    /// Sign with a random secret (`bad_signature`).
    WrongSecret,
}

/// Everything `send` needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target URL (http or https).
    pub to: Uri,
    /// Whose certificates an https target may show.
    pub trust: crate::client::Trust,
    /// Signing secret; `None` only with [`Fault::WrongSecret`].
    pub secret: Option<Secret>,
    /// Event type for the sample payload.
    pub event_type: String,
    /// A body to send verbatim instead of a sample.
    pub data: Option<Bytes>,
    /// How many messages.
    pub count: u64,
    /// How many in flight at once.
    pub concurrency: usize,
    /// Steady sending rate (events per second); `None` sends as fast as answers come back.
    pub rate: Option<f64>,
    /// Header names.
    pub headers: HeaderStyle,
    /// Faults to inject.
    pub faults: Vec<Fault>,
    /// Print only the summary.
    pub quiet: bool,
    /// Give up on one request after this long.
    pub timeout: Duration,
}

/// Why `send` could not run.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL is not something we can send to.
    #[error("cannot send to `{url}`: {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// There is nothing to sign with.
    #[error(
        "no secret to sign with: pass --secret whsec_… (the one the receiver verifies with) or export HOOKSCOPE_SECRET"
    )]
    NoSecret,
    /// Every secret given is scoped to other paths than the one sent to.
    #[error(
        "no secret given covers {path}: {scopes} (send to a path under one, as the provider would, or give a secret without a scope)"
    )]
    NoSecretForPath {
        /// The path sent to.
        path: String,
        /// The scopes given, said in words.
        scopes: String,
    },
    /// A public key cannot sign.
    #[error(
        "{0} is a whpk_ public key, which can only verify: sign with the whsec_ secret or the whsk_ signing key"
    )]
    PublicKeyOnly(String),
}

/// A signed message ready to send.
#[derive(Debug, Clone)]
pub struct Message {
    /// `msg_…`.
    pub id: String,
    /// The signed timestamp.
    pub timestamp: i64,
    /// The payload's type, for the report (none for a `--data` body without one).
    pub event_type: Option<String>,
    /// Headers to send.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

/// Totals printed at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Requests answered or failed.
    pub sent: u64,
    /// Answered 2xx.
    pub ok: u64,
    /// Answered anything else.
    pub non_2xx: u64,
    /// No answer (connection refused, timeout, …).
    pub errors: u64,
    /// The signal that stopped the run before it sent everything.
    pub stopped: Option<crate::signals::Signal>,
}

/// Random ids in the style providers use: a prefix and 27 base62 characters.
pub fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let tail: String = (0..27)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}_{tail}")
}

/// Why a `--data` body is not JSON, in words (`is empty`, `is not valid JSON: EOF while
/// parsing an object at line 1 column 26`), or `None` when it is.
pub fn not_json(body: &[u8]) -> Option<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some("is empty".into());
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .err()
        .map(|e| format!("is not valid JSON: {e}"))
}

/// A request's round trip as a person reads it: `84 µs` on loopback (where `0.0 ms` said
/// nothing), `1.6 ms`, `212 ms`, `3.2 s`.
fn round_trip(took: Duration) -> String {
    let us = took.as_micros();
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..100_000 => format!("{:.1} ms", us as f64 / 1000.0),
        100_000..1_000_000 => format!("{} ms", took.as_millis()),
        _ => format!("{:.1} s", took.as_secs_f64()),
    }
}

/// The payload for an event type: the shipped sample with a fresh id and time, or a minimal
/// `{id, type, created_at, data}` object for other types.
pub fn sample_payload(event_type: &str, now: OffsetDateTime) -> Bytes {
    let created = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut value = SAMPLES
        .iter()
        .find(|(t, _)| *t == event_type)
        .and_then(|(_, text)| serde_json::from_str::<serde_json::Value>(text).ok())
        .unwrap_or_else(
            || serde_json::json!({ "id": "", "type": event_type, "created_at": "", "data": {} }),
        );
    if let Some(obj) = value.as_object_mut() {
        obj.insert("id".into(), random_id("evt").into());
        obj.insert("created_at".into(), created.into());
    }
    Bytes::from(serde_json::to_vec(&value).unwrap_or_default())
}

/// Builds one signed message, applying the faults.
pub fn build_message(opts: &Options, now: OffsetDateTime) -> Result<Message, SendError> {
    let id = random_id("msg");
    let mut timestamp = now.unix_timestamp();
    if opts.faults.contains(&Fault::Stale) {
        timestamp -= 600;
    }
    let body = match &opts.data {
        Some(b) => b.clone(),
        None => sample_payload(&opts.event_type, now),
    };
    let wrong;
    let secret = if opts.faults.contains(&Fault::WrongSecret) {
        let mut key = vec![0u8; 24];
        rand::rng().fill(&mut key[..]);
        wrong = Secret::from_hmac_bytes(key);
        &wrong
    } else {
        opts.secret.as_ref().ok_or(SendError::NoSecret)?
    };
    let signature = match &secret.key {
        Key::Hmac(key) => sign::sign_v1(key, &id, timestamp, &body),
        Key::Ed25519 {
            signing: Some(sk), ..
        } => sign::sign_v1a(sk, &id, timestamp, &body),
        Key::Ed25519 { signing: None, .. } => {
            return Err(SendError::PublicKeyOnly(secret.masked().to_string()));
        }
    };
    let body = if opts.faults.contains(&Fault::Tamper) {
        tamper(&body)
    } else {
        body
    };
    let prefix = match opts.headers {
        HeaderStyle::Svix => "svix",
        HeaderStyle::Webhook => "webhook",
    };
    // Read from the body sent: a --data body's own type, not --type's default.
    let event_type = crate::delivery::event_fields(&body).1;
    Ok(Message {
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (format!("{prefix}-id"), id.clone()),
            (format!("{prefix}-timestamp"), timestamp.to_string()),
            (format!("{prefix}-signature"), signature),
            (
                "user-agent".into(),
                concat!("hookscope/", env!("CARGO_PKG_VERSION")).into(),
            ),
        ],
        id,
        timestamp,
        event_type,
        body,
    })
}

/// Changes the body after signing the way a meddling proxy might: a field is added.
fn tamper(body: &[u8]) -> Bytes {
    match body.iter().position(|b| *b == b'{') {
        Some(i) => {
            let mut out = body[..=i].to_vec();
            out.extend_from_slice(b"\"tampered\":true,");
            out.extend_from_slice(&body[i + 1..]);
            Bytes::from(out)
        }
        None => {
            let mut out = body.to_vec();
            out.extend_from_slice(b" (tampered)");
            Bytes::from(out)
        }
    }
}

/// Checks the target URL.
pub fn parse_target(url: &str) -> Result<Uri, SendError> {
    crate::client::http_url(url).map_err(|why| SendError::BadUrl {
        url: url.to_string(),
        why,
    })
}

enum Outcome {
    Answered { status: u16, body: String },
    Failed(String),
}

/// Sends `opts.count` messages and reports each on `out`; returns the totals. When `stop`
/// completes (Ctrl-C, SIGTERM) nothing more is sent and the totals so far are reported, with
/// how many were not sent and how many were left unanswered.
pub async fn run<W: Write>(
    opts: Options,
    mut out: W,
    stop: impl std::future::Future<Output = crate::signals::Signal>,
) -> Result<Summary, SendError> {
    // Fail before sending anything when the first message cannot be built.
    build_message(&opts, OffsetDateTime::now_utc())?;
    let mut opts = opts;
    let (to, auth) = crate::client::credentials(opts.to.clone());
    opts.to = to;
    let client: Client<Connector, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(opts.concurrency.max(1))
        .build(crate::client::connector(Duration::from_secs(5), opts.trust));
    let opts = Arc::new(opts);
    let next = Arc::new(AtomicU64::new(0));
    // Requests that have left: past their rate slot's wait, sent or being sent.
    let launched = Arc::new(AtomicU64::new(0));
    // With --rate, the most any request left after its slot, in microseconds: workers all
    // busy waiting for answers fall behind the schedule.
    let behind = Arc::new(AtomicU64::new(0));
    let (stopping, stop_seen) = tokio::sync::watch::channel(false);
    let (tx, mut rx) = mpsc::channel::<(Message, Outcome, Duration)>(1024);
    let started = Instant::now();
    for _ in 0..opts.concurrency.clamp(1, 10_000) {
        let (opts, next, tx, client) = (opts.clone(), next.clone(), tx.clone(), client.clone());
        let auth = auth.clone();
        let (launched, behind, mut stop_seen) =
            (launched.clone(), behind.clone(), stop_seen.clone());
        tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= opts.count || *stop_seen.borrow() {
                    break;
                }
                if let Some(rate) = opts.rate {
                    // Message i leaves at its slot on a fixed schedule, so a slow answer
                    // delays nothing but itself (given enough workers).
                    let slot = started + Duration::from_secs_f64(i as f64 / rate);
                    tokio::select! {
                        () = tokio::time::sleep_until(slot.into()) => {}
                        _ = stop_seen.changed() => break,
                    }
                    let late = Instant::now().saturating_duration_since(slot);
                    behind.fetch_max(late.as_micros() as u64, Ordering::Relaxed);
                }
                launched.fetch_add(1, Ordering::Relaxed);
                let Ok(msg) = build_message(&opts, OffsetDateTime::now_utc()) else {
                    break;
                };
                let t0 = Instant::now();
                let outcome = send_one(&client, &opts, auth.as_ref(), &msg).await;
                if tx.send((msg, outcome, t0.elapsed())).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(tx);
    let mut summary = Summary::default();
    // 401s to a run meant to verify: most likely the secret is not the receiver's.
    let mut unauthorized = 0u64;
    let mut stop = std::pin::pin!(stop);
    loop {
        let (msg, outcome, took) = tokio::select! {
            next = rx.recv() => match next {
                Some(next) => next,
                None => break,
            },
            signal = &mut stop => {
                // Nothing more leaves; answers still on their way are not waited for.
                summary.stopped = Some(signal);
                let _ = stopping.send(true);
                break;
            }
        };
        summary.sent += 1;
        let line = match outcome {
            Outcome::Answered { status, body } => {
                if (200..300).contains(&status) {
                    summary.ok += 1;
                } else {
                    summary.non_2xx += 1;
                }
                if status == 401 {
                    unauthorized += 1;
                }
                let what = match &msg.event_type {
                    Some(t) => format!("{} {}", msg.id, sanitize::line(t)),
                    None => msg.id.clone(),
                };
                format!(
                    "{status} {} · {what} · {}",
                    sanitize::line(&body),
                    round_trip(took)
                )
            }
            Outcome::Failed(e) => {
                summary.errors += 1;
                format!("error · {} · {}", msg.id, sanitize::line(&e))
            }
        };
        if !opts.quiet {
            let _ = writeln!(out, "{line}");
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    // A rate from one request is its latency dressed up as throughput: said for runs only.
    let rate = if summary.sent > 1 {
        format!(" · {} req/s", per_second(summary.sent as f64 / secs))
    } else {
        String::new()
    };
    let stopped = match summary.stopped {
        None => String::new(),
        Some(signal) => {
            let launched = launched.load(Ordering::Relaxed).min(opts.count);
            let unanswered = launched.saturating_sub(summary.sent);
            format!(
                " · stopped by {}: {} not sent{}",
                signal.name(),
                opts.count - launched,
                if unanswered > 0 {
                    format!(", {unanswered} unanswered")
                } else {
                    String::new()
                }
            )
        }
    };
    let behind = match opts.rate {
        Some(rate) if summary.stopped.is_none() => fell_behind(
            Duration::from_micros(behind.load(Ordering::Relaxed)),
            opts.count,
            rate,
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "sent {} · 2xx {} · non-2xx {} · errors {}{rate}{behind}{stopped}",
        summary.sent, summary.ok, summary.non_2xx, summary.errors,
    );
    if unauthorized > 0 && opts.faults.is_empty() {
        let _ = writeln!(
            out,
            "{} answered 401: the receiver refused the signature; sign with the secret it verifies with (--secret or $HOOKSCOPE_SECRET; a hookscope receiver says why in its list)",
            if unauthorized == summary.sent {
                "every one".to_string()
            } else {
                unauthorized.to_string()
            }
        );
    }
    let _ = out.flush();
    Ok(summary)
}

/// What the summary says when requests left later than `--rate`'s schedule by more than a
/// tenth of the whole schedule (`count` at `rate` a second) and a few milliseconds of timer
/// slack: every worker was waiting for an answer when its next slot came.
fn fell_behind(late: Duration, count: u64, rate: f64) -> String {
    let schedule = Duration::from_secs_f64(count.saturating_sub(1) as f64 / rate);
    if late <= Duration::from_millis(5) || late <= schedule / 10 {
        return String::new();
    }
    let late = if late < Duration::from_secs(1) {
        format!("{} ms", late.as_millis())
    } else {
        format!("{:.1} s", late.as_secs_f64())
    };
    format!(
        " · up to {late} behind --rate: give more --concurrency (-c) for the receiver's latency"
    )
}

/// A rate as said in the summary: whole numbers, but tenths below 10 (two answers in 20 s
/// are 0.1 req/s, not 0).
fn per_second(rate: f64) -> String {
    if rate < 9.95 {
        format!("{rate:.1}")
    } else {
        format!("{rate:.0}")
    }
}

async fn send_one(
    client: &Client<Connector, Full<Bytes>>,
    opts: &Options,
    auth: Option<&http::HeaderValue>,
    msg: &Message,
) -> Outcome {
    let mut builder = Request::builder().method(Method::POST).uri(opts.to.clone());
    for (name, value) in &msg.headers {
        builder = builder.header(name, value);
    }
    if let Some(auth) = auth {
        builder = builder.header(http::header::AUTHORIZATION, auth);
    }
    let req = match builder.body(Full::new(msg.body.clone())) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let exchange = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| describe_client_error(&e, &opts.to, msg.body.len()))?;
        let status = resp.status().as_u16();
        let (parts, body) = resp.into_parts();
        let body = crate::client::preview(body, crate::client::ANSWER_READ)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((status, crate::client::answer_text(&parts.headers, &body)))
    };
    match tokio::time::timeout(opts.timeout, exchange).await {
        Ok(Ok((status, body))) => Outcome::Answered { status, body },
        Ok(Err(e)) => Outcome::Failed(e),
        Err(_) => Outcome::Failed(format!(
            "no answer within {} (--timeout)",
            crate::forward::limit_text(opts.timeout)
        )),
    }
}

fn describe_client_error(e: &hyper_util::client::legacy::Error, to: &Uri, body: usize) -> String {
    if let Some(said) = crate::client::nothing_listens(e, to) {
        return format!("{said}: {}", crate::cli::NOT_RUNNING);
    }
    let mut text = crate::client::error_chain(e);
    if cut_off_mid_body(e) && body > 1 << 20 {
        // A receiver refuses a body over its limit without reading it, and its answer is lost
        // when the connection closes under the writes.
        text.push_str(&format!(
            " (the receiver closed the connection while the {} body was being sent: likely refused as too large; hookscope's --max-body is 16 MiB unless set)",
            crate::verify::human_bytes(body as u64)
        ));
    }
    if e.is_connect() && crate::client::tls_advice(e).is_none() {
        text.push_str(" (is hookscope listening there?)");
    }
    text
}

/// Whether the connection was closed or reset under the request's writes.
fn cut_off_mid_body(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            )
        {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Verdict, Verifier};

    #[test]
    fn a_round_trip_reads_in_the_unit_that_says_something() {
        let t = |us| round_trip(Duration::from_micros(us));
        assert_eq!(t(84), "84 µs");
        assert_eq!(t(999), "999 µs");
        assert_eq!(t(1_000), "1.0 ms");
        assert_eq!(t(1_640), "1.6 ms");
        assert_eq!(t(212_400), "212 ms");
        assert_eq!(t(3_240_000), "3.2 s");
        assert_eq!(t(12_340_000), "12.3 s");
    }

    #[test]
    fn a_connection_closed_under_the_writes_is_told_apart_from_other_failures() {
        #[derive(Debug, thiserror::Error)]
        #[error("error writing a body to connection")]
        struct Wrapped(#[source] std::io::Error);
        let io = |kind| std::io::Error::from(kind);
        assert!(cut_off_mid_body(&Wrapped(io(
            std::io::ErrorKind::BrokenPipe
        ))));
        assert!(cut_off_mid_body(&io(std::io::ErrorKind::ConnectionReset)));
        assert!(!cut_off_mid_body(&Wrapped(io(
            std::io::ErrorKind::TimedOut
        ))));
    }

    fn opts(faults: Vec<Fault>) -> Options {
        Options {
            to: parse_target("http://127.0.0.1:8787/").unwrap(),
            secret: Some(Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()),
            event_type: "customer.created".into(),
            data: None,
            count: 1,
            concurrency: 1,
            rate: None,
            headers: HeaderStyle::Svix,
            faults,
            quiet: false,
            timeout: Duration::from_secs(5),
            trust: crate::client::Trust::System,
        }
    }

    fn verdict(o: &Options) -> Verdict {
        let now = OffsetDateTime::now_utc();
        let msg = build_message(o, now).unwrap();
        let verifier = Verifier::new(
            vec![Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()],
            300,
        );
        verifier.verify("/", &msg.headers, &msg.body, now.unix_timestamp())
    }

    #[test]
    fn signed_messages_verify_and_faults_fail_as_named() {
        assert!(matches!(verdict(&opts(vec![])), Verdict::Verified(_)));
        assert_eq!(
            verdict(&opts(vec![Fault::Tamper])).failure_code(),
            Some("bad_signature")
        );
        assert_eq!(
            verdict(&opts(vec![Fault::Stale])).failure_code(),
            Some("timestamp_too_old")
        );
        assert_eq!(
            verdict(&opts(vec![Fault::WrongSecret])).failure_code(),
            Some("bad_signature")
        );
    }

    #[test]
    fn sample_payloads_get_fresh_ids() {
        let a = sample_payload("customer.created", OffsetDateTime::now_utc());
        let b = sample_payload("customer.created", OffsetDateTime::now_utc());
        let (ida, ty) = crate::delivery::event_fields(&a);
        assert_eq!(ty.as_deref(), Some("customer.created"));
        assert_ne!(ida, crate::delivery::event_fields(&b).0);
        let other = sample_payload("invoice.paid", OffsetDateTime::now_utc());
        assert_eq!(
            crate::delivery::event_fields(&other).1.as_deref(),
            Some("invoice.paid")
        );
    }

    #[test]
    fn the_report_names_the_type_of_the_body_sent() {
        let now = OffsetDateTime::now_utc();
        let with = |data: &[u8]| {
            let o = Options {
                data: Some(Bytes::copy_from_slice(data)),
                ..opts(vec![])
            };
            build_message(&o, now).unwrap().event_type
        };
        assert_eq!(
            with(br#"{"type":"order.paid"}"#).as_deref(),
            Some("order.paid")
        );
        // Not --type's default: the body sent has no type.
        assert_eq!(with(b"not json"), None);
        assert_eq!(with(b"{}"), None);
        let sample = build_message(&opts(vec![]), now).unwrap().event_type;
        assert_eq!(sample.as_deref(), Some("customer.created"));
    }

    #[tokio::test]
    async fn a_signal_stops_the_run_and_the_totals_say_what_was_left() {
        // Nothing listens on the port: each request fails at once, on a schedule of 20 a second.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let o = Options {
            to: parse_target(&format!("http://127.0.0.1:{port}/")).unwrap(),
            count: 100,
            concurrency: 4,
            rate: Some(20.0),
            quiet: true,
            ..opts(vec![])
        };
        let mut out = Vec::new();
        let stop = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            crate::signals::Signal::Interrupt
        };
        let summary = run(o, &mut out, stop).await.unwrap();
        assert_eq!(summary.stopped, Some(crate::signals::Signal::Interrupt));
        assert!(summary.sent < 100, "stopped early: {summary:?}");
        let out = String::from_utf8(out).unwrap();
        let not_sent = out
            .split("stopped by Ctrl-C: ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{out}"));
        assert!(
            out.starts_with(&format!(
                "sent {} · 2xx 0 · non-2xx 0 · errors {}",
                summary.sent, summary.errors
            )),
            "{out}"
        );
        // What was not sent and what was sent (or is on its way) make the count asked for.
        assert!(
            not_sent + summary.sent <= 100 && not_sent + summary.sent + 4 >= 100,
            "{out}"
        );
    }

    #[test]
    fn falling_behind_the_rate_is_said_past_a_tenth_of_the_schedule() {
        let ms = Duration::from_millis;
        // 2,000 at 100,000 a second is a 20 ms schedule; one worker left up to 93 ms late.
        assert_eq!(
            fell_behind(ms(93), 2_000, 100_000.0),
            " · up to 93 ms behind --rate: give more --concurrency (-c) for the receiver's latency"
        );
        assert!(
            fell_behind(Duration::from_millis(2_340), 100, 10.0).contains("up to 2.3 s behind")
        );
        // Timer slack, or lateness small beside a long schedule: nothing to say.
        assert_eq!(fell_behind(ms(4), 2_000, 100_000.0), "");
        assert_eq!(fell_behind(ms(50), 100, 10.0), "");
    }

    #[tokio::test]
    async fn a_rate_one_worker_cannot_keep_is_said_in_the_summary() {
        // A receiver that takes 20 ms per answer, one worker, 1,000 a second asked: every slot
        // after the first is missed by more and more.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 << 10];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                        if s.write_all(ok).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let o = Options {
            to: parse_target(&format!("http://127.0.0.1:{port}/")).unwrap(),
            count: 10,
            concurrency: 1,
            rate: Some(1_000.0),
            quiet: true,
            ..opts(vec![])
        };
        let mut out = Vec::new();
        let summary = run(o, &mut out, std::future::pending()).await.unwrap();
        assert_eq!(summary.ok, 10);
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains(" behind --rate: give more --concurrency (-c)"),
            "{out}"
        );
    }

    #[test]
    fn slow_rates_keep_a_tenth() {
        assert_eq!(per_second(0.1), "0.1");
        assert_eq!(per_second(9.94), "9.9");
        assert_eq!(per_second(9.96), "10");
        assert_eq!(per_second(14_909.4), "14909");
    }

    #[test]
    fn targets() {
        assert!(parse_target("https://x.ngrok.app/").is_ok());
        assert!(parse_target("ftp://x.ngrok.app/").is_err());
        assert!(parse_target("localhost:8787").is_err());
        assert!(parse_target("http://127.0.0.1:8787/billing?x=1").is_ok());
    }
}
