//! Headless mode: one line per delivery on stdout, human or JSON, for scripts and CI.

use crate::delivery::Delivery;
use crate::sanitize;
use crate::stdout::Output;
use crate::verify::{Unchecked, Verdict};
use serde::Serialize;
use std::io::{self, Write};
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

/// Prints deliveries from `rx` until the channel closes, `stop` completes (an interrupt) or
/// the output fails (a closed pipe). Returns how many were printed.
///
/// On `stop` the channel is closed and what it already holds is printed: the receiver answers
/// a delivery only once the channel has taken it, so every delivery a sender saw acknowledged
/// gets its line, and later ones are answered 503.
pub async fn run(
    mut rx: mpsc::Receiver<Delivery>,
    format: Format,
    mut out: Output,
    stop: impl std::future::Future<Output = ()>,
) -> io::Result<u64> {
    let mut printed = 0;
    let mut stop = std::pin::pin!(stop);
    let mut stopped = false;
    let mut buf = Vec::with_capacity(WRITE_BATCH);
    loop {
        let d = tokio::select! {
            d = rx.recv() => d,
            () = &mut stop, if !stopped => {
                stopped = true;
                rx.close();
                rx.recv().await
            }
        };
        let Some(d) = d else { break };
        write_line(&mut buf, &d, format)?;
        printed += 1;
        // Batch a queued burst into one write; write as soon as the queue drains, so a script
        // reading line by line sees each delivery without delay.
        while buf.len() < WRITE_BATCH
            && let Ok(d) = rx.try_recv()
        {
            write_line(&mut buf, &d, format)?;
            printed += 1;
        }
        out.write_all(&buf).await?;
        buf.clear();
    }
    Ok(printed)
}

fn write_line<W: Write>(out: &mut W, d: &Delivery, format: Format) -> io::Result<()> {
    match format {
        Format::Human => writeln!(out, "{}", human_line(d)),
        Format::Json => {
            // Straight into the buffered writer: no String per delivery.
            serde_json::to_writer(&mut *out, &json_record(d))?;
            out.write_all(b"\n")
        }
    }
}

/// The human line for a delivery; all untrusted text escaped. Forwarded deliveries end with
/// what the app answered.
pub fn human_line(d: &Delivery) -> String {
    let mut line = verdict_line(d);
    if let Some(f) = &d.forward {
        match (&f.status, &f.error) {
            (Some(s), _) => line.push_str(&format!(" → app {s} ({} ms)", f.ms)),
            (None, Some(e)) => line.push_str(&format!(
                " → app failed: {e} ({} answered)",
                d.response.status
            )),
            (None, None) => {}
        }
    }
    if let Some(of) = d.replay_of {
        line.push_str(&format!(" [replay of #{of}]"));
    }
    line
}

fn verdict_line(d: &Delivery) -> String {
    let ty = d.event_type.as_deref().map(sanitize::line);
    let evt = d.event_id.as_deref().map(sanitize::line);
    let msg = d.msg_id.as_deref().map(sanitize::line);
    let what = match (&ty, &evt) {
        (Some(t), Some(e)) => format!("{t} · {e}"),
        (Some(t), None) => t.to_string(),
        (None, Some(e)) => e.to_string(),
        (None, None) => format!("{} {}", sanitize::line(&d.method), sanitize::line(&d.path)),
    };
    let msg_suffix = msg.as_ref().map(|m| format!(" ({m})")).unwrap_or_default();
    match &d.verdict {
        Verdict::Verified(_) => format!("✓ {what}{msg_suffix}"),
        Verdict::Failed(f) => {
            let who = msg.map(|m| m.into_owned()).unwrap_or_else(|| {
                format!("{} {}", sanitize::line(&d.method), sanitize::line(&d.path))
            });
            format!(
                "✗ {} · {who} — {}",
                f.kind.code(),
                sanitize::line(&f.kind.to_string())
            )
        }
        Verdict::Unchecked(
            Unchecked::NoSecret | Unchecked::NoSecretForPath { .. } | Unchecked::Unreadable { .. },
        ) => {
            format!("• {what}{msg_suffix} · unverified")
        }
        Verdict::Unchecked(u) => format!(
            "✗ {} {} {} — {}",
            d.response.status,
            sanitize::line(&d.method),
            sanitize::line(&d.path),
            u
        ),
    }
}

#[derive(Serialize)]
struct JsonLine<'a> {
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
    method: &'a str,
    path: &'a str,
    bytes: u64,
    remote: Option<std::net::SocketAddr>,
    forward: Option<ForwardLine>,
    replay_of: Option<u64>,
}

#[derive(Serialize)]
struct ForwardLine {
    url: String,
    status: Option<u16>,
    ms: u64,
    error: Option<String>,
}

/// The JSON line for a delivery (JSON escaping makes it terminal-safe).
pub fn json_line(d: &Delivery) -> String {
    // Serialising plain strings and numbers cannot fail.
    serde_json::to_string(&json_record(d)).unwrap_or_default()
}

fn json_record(d: &Delivery) -> JsonLine<'_> {
    let (hints, secret) = match &d.verdict {
        Verdict::Failed(f) => (f.hints.clone(), None),
        Verdict::Verified(v) => (Vec::new(), Some(v.secret.as_str())),
        Verdict::Unchecked(_) => (Vec::new(), None),
    };
    JsonLine {
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
        method: &d.method,
        path: &d.path,
        bytes: d.body_size,
        remote: d.remote,
        forward: d.forward.as_ref().map(|f| ForwardLine {
            url: f.url.clone(),
            status: f.status,
            ms: f.ms,
            error: f.error.as_ref().map(|e| e.to_string()),
        }),
        replay_of: d.replay_of,
    }
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
    let _ = writeln!(
        out,
        "answered  {} {}",
        d.response.status,
        sanitize::line(&d.response.body)
    );
    let _ = writeln!(out);
    for (n, v) in &d.headers {
        let _ = writeln!(out, "{}: {}", sanitize::line(n), sanitize::bytes_line(v));
    }
    let _ = writeln!(out);
    let view = crate::highlight::pretty(&d.body, crate::highlight::Limits::default());
    if let Some(note) = &view.note {
        let _ = writeln!(out, "({note})");
    }
    for line in &view.lines {
        let _ = writeln!(out, "{}", line.text);
    }
    out
}
