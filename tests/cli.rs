//! The real binary: headless output, `send`, secrets from flags and the environment.

mod common;

use common::*;
use serde_json::Value;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");

/// A headless hookscope on a free port, its stdout lines arriving on a channel.
struct Headless {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
    stderr: String,
}

/// A headless hookscope on a free port, its stdout not yet read: the child, its URL, its
/// stderr from the line after the start-up report, and that report.
fn launch(args: &[&str], env: &[(&str, &str)]) -> (Child, String, BufReader<ChildStderr>, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["--headless", "--port", "0"]).args(args);
    if !args.contains(&"--store") {
        cmd.arg("--no-store");
    }
    cmd.env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hookscope");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("hookscope exited before listening: {seen}");
        }
        seen.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            break url.to_string();
        }
    };
    // The next line reports the secrets.
    let mut line = String::new();
    let _ = stderr.read_line(&mut line);
    seen.push_str(&line);
    (child, url, stderr, seen)
}

impl Headless {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Headless {
        let (mut child, url, _stderr, seen) = launch(args, env);
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Headless {
            child,
            url,
            lines,
            stderr: seen,
        }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(15))
            .expect("a line on stdout within 15 s")
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.line()).expect("a JSON line")
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(url: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("send")
        .args(["--to", url])
        .args(args)
        .env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET")
        .output()
        .expect("run send");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn headless_json_lines_report_every_delivery() {
    let h = Headless::start(&["--format", "json", "--secret", SECRET], &[]);
    assert!(
        h.stderr.contains("verifying with 1 secret") && h.stderr.contains("whsec_MfKQ…aSw"),
        "{}",
        h.stderr
    );
    assert!(
        !h.stderr.contains("9r8GKYqrTwjUPD8ILPZIo2LaL"),
        "secret leaked: {}",
        h.stderr
    );

    let (code, out) = send(&h.url, &["--secret", SECRET, "-n", "3", "-c", "2"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("sent 3 · 2xx 3 · non-2xx 0 · errors 0 · ") && out.contains(" req/s"),
        "{out}"
    );
    for _ in 0..3 {
        let j = h.json();
        assert_eq!(j["verified"], true);
        assert_eq!(j["failure"], Value::Null);
        assert_eq!(j["reason"], Value::Null);
        assert_eq!(j["status"], 200);
        assert_eq!(j["type"], "customer.created");
        assert_eq!(j["method"], "POST");
        assert_eq!(j["path"], "/");
        assert!(j["msg_id"].as_str().unwrap().starts_with("msg_"));
        assert!(j["event_id"].as_str().unwrap().starts_with("evt_"));
        assert!(j["bytes"].as_u64().unwrap() > 50);
        assert!(j["received_at"].as_str().unwrap().ends_with('Z'));
    }

    let (code, out) = send(
        &h.url,
        &[
            "--secret",
            SECRET,
            "--tamper",
            "--headers",
            "webhook",
            "--type",
            "task.completed",
        ],
    );
    assert_eq!(code, 1, "non-2xx answers make send exit 1: {out}");
    assert!(out.contains("401 invalid signature"), "{out}");
    let j = h.json();
    assert_eq!(j["verified"], false);
    assert_eq!(j["failure"], "bad_signature");
    assert_eq!(j["status"], 401);
    assert_eq!(j["type"], "task.completed");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("no signature matched")
    );

    send(&h.url, &["--secret", SECRET, "--stale"]);
    let j = h.json();
    assert_eq!(j["failure"], "timestamp_too_old");
    assert!(
        j["reason"]
            .as_str()
            .unwrap()
            .contains("the signature itself is valid"),
        "{j}"
    );
}

#[test]
fn headless_human_lines_look_like_the_reference_receiver() {
    let h = Headless::start(&[], &[("PIVOTAL_WEBHOOK_SECRET", SECRET)]);
    assert!(
        h.stderr.contains("from $PIVOTAL_WEBHOOK_SECRET"),
        "{}",
        h.stderr
    );
    let (code, out) = send(&h.url, &["--secret", SECRET]);
    assert_eq!(code, 0, "{out}");
    let line = h.line();
    assert!(
        line.starts_with("✓ customer.created · evt_") && line.contains("(msg_"),
        "{line}"
    );

    let (_, out) = send(&h.url, &["--wrong-secret"]);
    let line = h.line();
    assert!(
        line.starts_with("✗ bad_signature · msg_") && line.contains(" — no signature matched"),
        "{line}"
    );
    // A refusal asked for (--wrong-secret, --tamper, --stale) needs no advice...
    assert!(!out.contains("refused the signature"), "{out}");
    // ...one that was not most likely means another secret than the receiver's.
    let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let (code, out) = send(&h.url, &["--secret", other, "-n", "2"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("every one answered 401: the receiver refused the signature; sign with the secret it verifies with"),
        "{out}"
    );
    h.line();
    h.line();
}

#[test]
fn terminal_escapes_in_deliveries_are_printed_escaped() {
    let h = Headless::start(&[], &[]);
    assert!(h.stderr.contains("no secret configured"), "{}", h.stderr);
    // JSON escapes decode to real ESC and BEL characters in the event's type and id.
    let body = r#"{"type":"evil\u001b[2J","id":"evt_\u001b]52;c;aGk=\u0007"}"#;
    let (code, out) = send(&h.url, &["--wrong-secret", "--data", body]);
    assert_eq!(code, 0, "{out}");
    let line = h.line();
    assert!(
        !line.contains('\u{1b}') && !line.contains('\u{7}'),
        "{line:?}"
    );
    assert!(
        line.contains("evil\\x1b[2J") && line.contains("\\x1b]52;c;aGk=\\x07"),
        "{line}"
    );
}

#[test]
fn malformed_secrets_are_refused_at_start_up() {
    for (secret, words) in [
        (
            "v1,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "looks like a signature",
        ),
        ("whsec_", "only the prefix"),
        ("whsec_not*base64", "not valid base64"),
        ("", "empty"),
    ] {
        let out = Command::new(BIN)
            .args([
                "--headless",
                "--no-store",
                "--port",
                "0",
                "--secret",
                secret,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{secret}: {err}");
        assert!(
            err.contains("--secret") && err.contains(words),
            "{secret}: {err}"
        );
    }
    let out = Command::new(BIN)
        .args(["--headless", "--no-store", "--port", "0"])
        .env("HOOKSCOPE_SECRET", "whsec_abc!")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("$HOOKSCOPE_SECRET") && err.contains("`!`"),
        "{err}"
    );
}

#[test]
fn a_port_in_use_is_refused_once_with_advice() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(BIN)
        .args(["--headless", "--no-store", "--port", &port])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--port 0 for any free one"), "{err}");
    // The OS's words once, not again as the error's cause.
    assert_eq!(err.matches("Address already in use").count(), 1, "{err}");
    // A run that never listened leaves nothing behind: no store file, no folder for it.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("new").join("d.sqlite3");
    let out = Command::new(BIN)
        .args(["--headless", "--port", &port, "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("storing deliveries"), "{err}");
    assert!(!dir.path().join("new").exists(), "{err}");
}

#[test]
fn listening_on_every_address_warns_who_can_send() {
    // The line after the start-up report, read before it is stopped (`wait`: one comes) or
    // after (none comes, so what is read is the end of stderr).
    let next_line = |bind: &str, wait: bool| {
        let (mut child, _, mut stderr, _) = launch(&["--bind", bind], &[]);
        let mut line = String::new();
        if !wait {
            let _ = child.kill();
        }
        let _ = stderr.read_line(&mut line);
        let _ = child.kill();
        let _ = child.wait();
        line
    };
    let line = next_line("0.0.0.0", true);
    assert!(
        line.starts_with(
            "warning: listening on every address of this machine (0.0.0.0): anyone who can reach this machine over any network"
        ),
        "{line}"
    );
    assert_eq!(next_line("127.0.0.1", false), "", "loopback: no warning");
}

#[test]
fn a_secret_too_short_to_be_real_is_warned_about_at_start_up() {
    // "changeme" is valid base64: it is accepted (a test sender may use it), but said.
    let mut child = Command::new(BIN)
        .args([
            "--headless",
            "--no-store",
            "--port",
            "0",
            "--secret",
            "changeme",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    let warned = std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(10)).ok())
        .inspect(|l| seen.push_str(&format!("{l}\n")))
        .any(|l| l.starts_with("warning: the secret … decodes to only 6 bytes"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(warned, "{seen}");
}

#[test]
fn exit_after_and_timeout_end_a_headless_run_with_a_status_for_ci() {
    // Two verified: both printed, status 0.
    let mut h = Headless::start(&["--secret", SECRET, "--exit-after", "2"], &[]);
    let (code, out) = send(&h.url, &["--secret", SECRET, "-n", "2"]);
    assert_eq!(code, 0, "{out}");
    let status = h.child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(h.lines.iter().count(), 2);

    // A rejected one: status 1.
    let mut h = Headless::start(&["--secret", SECRET, "--exit-after", "1"], &[]);
    send(&h.url, &["--secret", SECRET, "--tamper"]);
    assert_eq!(h.child.wait().unwrap().code(), Some(1));
    assert!(h.line().starts_with("✗ bad_signature"));

    // None within the time: 124.
    let mut h = Headless::start(
        &[
            "--secret",
            SECRET,
            "--exit-after",
            "1",
            "--timeout",
            "300ms",
        ],
        &[],
    );
    let started = std::time::Instant::now();
    assert_eq!(h.child.wait().unwrap().code(), Some(124));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(h.lines.iter().count(), 0);

    // A run of no length is refused, not run.
    let refused = |args: &[&str], says: &str| {
        let out = Command::new(BIN)
            .args(["--headless", "--no-store"])
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(says), "{err}");
    };
    refused(
        &["--port", "0", "--timeout", "0s"],
        "would end the run at once",
    );
    // And so is a forwarding timeout of none, which would answer every delivery 504.
    refused(
        &[
            "--forward-to",
            "http://127.0.0.1:9/",
            "--forward-timeout",
            "0ms",
        ],
        "would give up on the app",
    );
    // And forwarding to hookscope's own port, which would send every delivery round again.
    refused(
        &[
            "--forward-to",
            "http://localhost:18787/webhooks",
            "--port",
            "18787",
        ],
        "is hookscope's own address",
    );

    // Both flags belong to headless runs.
    let out = Command::new(BIN)
        .args(["--exit-after", "1", "--no-store"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--headless"));
}

#[test]
fn a_timed_run_ends_even_when_nobody_reads_its_stdout() {
    ends_without_a_reader(&["--timeout", "2s"], |_| {});
}

#[test]
fn sigterm_ends_a_run_even_when_nobody_reads_its_stdout() {
    // A CI runner's or process manager's stop: nobody is there to press Ctrl-C twice.
    ends_without_a_reader(&[], |child| signal(child.id(), "TERM"));
}

/// Stopping (SIGTERM) while a delivery is held by the answer mode's delay: the delay is cut
/// short, the sender gets its answer rather than a closed connection, and the store keeps it.
#[cfg(unix)]
#[test]
fn stopping_answers_what_the_delay_holds_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.sqlite3");
    let store = store.to_str().unwrap();
    let (mut child, url, _stderr, _) = launch(
        &[
            "--store",
            store,
            "--respond",
            "delay:60s",
            "--secret",
            SECRET,
        ],
        &[],
    );
    let sender = {
        let url = url.clone();
        std::thread::spawn(move || send(&url, &["--secret", SECRET, "--timeout", "50"]))
    };
    // Time for the request to arrive and be held (the delay is a minute).
    std::thread::sleep(Duration::from_secs(1));
    signal(child.id(), "TERM");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let (code, out) = sender.join().unwrap();
    assert_eq!(code, 0, "answered, not cut off: {out}");
    assert!(out.contains("200 ok"), "{out}");
    let history = Command::new(BIN)
        .args(["history", "--store", store])
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&history.stdout);
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("✓ customer.created"), "{lines}");
}

/// A headless run (with `args`) whose stdout is a pipe nobody reads until it has exited: 600
/// deliveries, far more than the pipe's 64 KiB of lines, then `stop`; it must end by itself
/// within its patience, say how many lines it dropped, and have printed whole lines only.
fn ends_without_a_reader(args: &[&str], stop: impl FnOnce(&Child)) {
    let mut all = vec!["--format", "json", "--secret", SECRET];
    all.extend_from_slice(args);
    let (mut child, url, mut stderr, _) = launch(&all, &[]);
    let (code, out) = send(&url, &["--secret", SECRET, "-n", "600", "-c", "8"]);
    assert_eq!(code, 0, "{out}");
    stop(&child);

    // The stop, then five seconds of patience with stdout: well inside thirty.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("still running 30 s after the sender was done");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "every delivery was verified");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let gave_up = rest
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "hookscope: stdout took nothing for 5 s after the run ended: gave up on the lines of ",
            )
        })
        .unwrap_or_else(|| panic!("no word of the lines given up on: {rest}"));
    let abandoned: usize = gave_up
        .strip_suffix(" answered deliveries")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{gave_up}"));
    // What did get out is whole lines (the pipe may end in part of one, which counts as
    // given up on), and with those given up on, every delivery.
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    let printed = whole
        .lines()
        .inspect(|l| {
            serde_json::from_str::<Value>(l).expect("a whole JSON line");
        })
        .count();
    assert!(abandoned > 0 && printed > 0, "{printed} {abandoned}");
    assert_eq!(printed + abandoned, 600);
}

#[test]
fn send_reads_only_the_start_of_an_endless_answer() {
    // A target that answers 200 with a body that never ends: `send` shows the first bytes and
    // moves on, instead of reading until its timeout (or its memory) runs out.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        use std::io::{Read as _, Write as _};
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let mut head = [0u8; 4096];
        let _ = conn.read(&mut head);
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
        // Until the client hangs up.
        while conn.write_all(chunk.as_bytes()).is_ok() {}
    });
    // Reading it all would end in the timeout: "errors 1".
    let (code, out) = send(&url, &["--secret", SECRET, "--timeout", "10"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("· 2xx 1 ·") && out.contains("errors 0"),
        "{out}"
    );
}

#[test]
fn replay_to_its_default_where_nothing_listens_asks_whether_hookscope_runs_elsewhere() {
    if std::net::TcpStream::connect("127.0.0.1:8787").is_ok() {
        eprintln!("skipped: something listens on 127.0.0.1:8787, replay's default");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("r.sqlite3");
    let mut b = hookscope::testing::Builder::new(&[SECRET], time::OffsetDateTime::now_utc());
    let d = b.signed(SECRET, "msg_r", &hookscope::testing::event("a.b", "evt_r"));
    hookscope::store::Store::open(&store)
        .unwrap()
        .insert(&[&d], "t")
        .unwrap();
    let replay = |to: Option<&str>| {
        let mut c = Command::new(BIN);
        c.args(["replay", "--store", store.to_str().unwrap()]);
        if let Some(to) = to {
            c.args(["--to", to]);
        }
        let o = c.output().unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = replay(None);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "http://127.0.0.1:8787/webhooks: nothing listens at 127.0.0.1:8787 (connection refused): is hookscope running there? (it listens on 127.0.0.1:8787 unless --port says otherwise)"
        ),
        "{err}"
    );
    // Sent to an app that is down: no word of hookscope.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, err) = replay(Some(&format!("http://127.0.0.1:{port}")));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("(connection refused)") && !err.contains("is hookscope running"),
        "{err}"
    );
}

#[test]
fn send_reports_an_unreachable_receiver() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, out) = send(&format!("http://127.0.0.1:{port}/"), &["--secret", SECRET]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("errors 1")
            && out.contains(&format!(
                "nothing listens at 127.0.0.1:{port} (connection refused): is hookscope running there?"
            )),
        "{out}"
    );
    assert!(
        !out.contains("req/s"),
        "no rate from a single request: {out}"
    );
    // The cause, not hyper's "client error (Connect)".
    assert!(!out.contains("client error"), "{out}");
    let (code, out) = send("ftp://example.ngrok.app/", &["--secret", SECRET]);
    assert_eq!(code, 2);
    assert!(
        out.contains("ftp:// is not supported: use http:// or https://"),
        "{out}"
    );
    let (code, out) = send(&format!("127.0.0.1:{port}/hooks"), &["--secret", SECRET]);
    assert_eq!(code, 2);
    assert!(
        out.contains(&format!("no scheme: write http://127.0.0.1:{port}/hooks")),
        "{out}"
    );
    let (code, out) = send(&format!("http://127.0.0.1:{port}/"), &[]);
    assert_eq!(code, 2);
    assert!(out.contains("no secret to sign with"), "{out}");
    // A receiver that takes the request and never answers: given up on after --timeout, a
    // duration like every other (a bare number is still seconds).
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/", silent.local_addr().unwrap());
    let (code, out) = send(&silent_url, &["--secret", SECRET, "--timeout", "300ms"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no answer within 300 ms (--timeout)") && out.contains("errors 1"),
        "{out}"
    );
    drop(silent);
    // Secrets given, but each for another path: said, not "no secret".
    let scoped = format!("/billing={SECRET}");
    let (code, out) = send(
        &format!("http://127.0.0.1:{port}/other?x=1"),
        &["--secret", &scoped],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("no secret given covers /other?x=1: the secret is for /billing only (send to a path under one"),
        "{out}"
    );
    let (code, out) = send(
        &format!("http://127.0.0.1:{port}/"),
        &["--secret", &scoped, "--secret", &format!("/shop={SECRET}")],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("the secrets are for /billing, /shop only"),
        "{out}"
    );
}

#[test]
fn send_data_from_a_file_is_sent_verbatim() {
    let h = Headless::start(&["--format", "json", "--secret", SECRET], &[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    // Odd spacing and key order: it must arrive byte for byte, not re-serialised.
    std::fs::write(
        &file,
        b"{ \"type\" : \"invoice.paid\",\n  \"id\":\"evt_file\" }\n",
    )
    .unwrap();
    let (code, out) = send(
        &h.url,
        &[
            "--secret",
            SECRET,
            "--data",
            &format!("@{}", file.display()),
            "--headers",
            "webhook",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let j = h.json();
    assert_eq!(j["verified"], true);
    assert_eq!(j["type"], "invoice.paid");
    assert_eq!(j["event_id"], "evt_file");
    assert_eq!(j["bytes"], 47);
    assert!(!out.contains("note:"), "{out}");
    // Not JSON: sent as given (how a receiver takes a bad body is worth a test), and said.
    for (body, note) in [
        (
            r#"{"type":"x.y","id":"evt_1""#,
            "note: the --data body is not valid JSON: EOF while parsing an object at line 1 column 26; sent as given",
        ),
        ("", "note: the --data body is empty; sent as given"),
    ] {
        let (code, out) = send(&h.url, &["--secret", SECRET, "--data", body]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains(note), "{out}");
        assert_eq!(h.json()["bytes"], body.len());
    }
    let (code, out) = send(
        &h.url,
        &["--secret", SECRET, "--data", "@/nonexistent/event.json"],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("reading --data file /nonexistent/event.json"),
        "{out}"
    );
    // `@-` reads stdin, as curl does.
    let mut child = Command::new(BIN)
        .args(["send", "--to", &h.url, "--secret", SECRET, "--data", "@-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"type":"piped.in","id":"evt_pipe"}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains(" piped.in · "), "{said}");
    let j = h.json();
    assert_eq!(
        (&j["type"], &j["event_id"]),
        (&"piped.in".into(), &"evt_pipe".into())
    );
    assert_eq!(j["verified"], true);
}

#[test]
fn ctrl_c_stops_send_with_the_totals_so_far() {
    let h = Headless::start(&["--format", "json", "--secret", SECRET], &[]);
    let mut child = Command::new(BIN)
        .args(["send", "--to", &h.url, "--secret", SECRET])
        .args(["-n", "1000", "--rate", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("200 ok · msg_"), "{first}");
    signal(child.id(), "INT");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    // 128 + SIGINT, as a shell reports a command Ctrl-C ended; the totals come first.
    assert_eq!(child.wait().unwrap().code(), Some(130), "{rest}");
    let totals = rest.lines().last().unwrap_or("");
    assert!(
        totals.starts_with("sent ") && totals.contains(" · stopped by Ctrl-C: 9"),
        "{first}{rest}"
    );
    let sent: u64 = totals["sent ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..1000).contains(&sent), "{totals}");
    assert_eq!(
        rest.lines().filter(|l| l.starts_with("200 ok")).count() as u64 + 1,
        sent,
        "every answer printed, and counted: {rest}"
    );
}

#[test]
fn send_rate_spaces_events_on_a_schedule() {
    let h = Headless::start(&["--format", "json", "--secret", SECRET], &[]);
    // Six workers could send all six at once; at 50/s the last leaves 100 ms after the first.
    let (code, out) = send(
        &h.url,
        &["--secret", SECRET, "-n", "6", "-c", "6", "--rate", "50"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sent 6 · 2xx 6"), "{out}");
    let times: Vec<time::OffsetDateTime> = (0..6)
        .map(|_| {
            let j = h.json();
            time::OffsetDateTime::parse(
                j["received_at"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap()
        })
        .collect();
    let spread = *times.iter().max().unwrap() - *times.iter().min().unwrap();
    assert!(
        spread >= time::Duration::milliseconds(90),
        "six events at 50/s arrived within {spread}"
    );

    let (code, out) = send(&h.url, &["--secret", SECRET, "--rate", "0"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not a positive rate"), "{out}");
}

#[test]
fn completion_scripts_complete_subcommands_flags_and_their_values() {
    // Every shell gets a script naming the subcommands and the newest flags: they are made
    // from the definitions clap parses with.
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).unwrap();
        for word in ["history", "replay", "max-body-memory"] {
            assert!(script.contains(word), "{shell}'s script lacks {word}");
        }
    }
    let unknown = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("possible values"));

    // bash's script, sourced, completes as a user typing Tab would see.
    let Ok(bash) = Command::new("bash").arg("--version").output() else {
        eprintln!("skipped the bash half: no bash here");
        return;
    };
    assert!(bash.status.success());
    let complete = |words: &str| {
        let script = format!(
            r#"source <("{BIN}" completions bash) || exit 9
words=({words})
COMP_WORDS=("${{words[@]}}"); COMP_CWORD=$((${{#words[@]}} - 1))
_hookscope hookscope "${{words[-1]}}" "${{words[-2]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
        );
        let out = Command::new("bash").args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "{words}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("hookscope hi"), "history\n");
    assert_eq!(complete("hookscope show --fo"), "--format\n");
    assert_eq!(complete("hookscope show --format ''"), "text\njson\nbody\n");
    assert_eq!(complete("hookscope --max-body-m"), "--max-body-memory\n");
}

/// hookscope started headless with a store under `sh -c "ulimit …"`: its stderr lines up to the
/// one saying what it verifies with, and the child.
fn under_ulimit(ulimit: &str, extra: &[&str]) -> (Child, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("d.sqlite3");
    let mut child = Command::new("sh")
        .args(["-c", &format!("{ulimit}; exec \"$0\" \"$@\""), BIN])
        .args(["--headless", "--port", "0", "--store"])
        .arg(&store)
        .args(extra)
        .env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "ended early: {lines:?}"
        );
        let last = line.starts_with("warning: no secret configured");
        lines.push(line.trim_end().to_owned());
        if last {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    // The store's folder lives as long as the run.
    std::mem::forget(dir);
    (child, lines)
}

#[test]
fn a_low_open_files_limit_is_raised_or_serves_fewer_connections_saying_so() {
    // A soft limit below what 1024 connections need, under a hard one that allows it: raised,
    // quietly. The first line is still the one scripts read for the port.
    let (mut child, lines) = under_ulimit("ulimit -Sn 100", &[]);
    assert!(
        lines[0].starts_with("listening on http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("storing deliveries in "), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("ulimit")), "{lines:?}");
    #[cfg(target_os = "linux")]
    {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
        let open = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        let soft: u64 = open.split_whitespace().nth(3).unwrap().parse().unwrap();
        assert_eq!(soft, 1024 + hookscope::descriptors::RESERVE, "{open}");
    }
    // `send` keeps to such a limit too, saying so, and every request gets through.
    let url = lines[0].trim_start_matches("listening on ");
    let sent = Command::new("sh")
        .args(["-c", "ulimit -n 100; exec \"$0\" \"$@\"", BIN])
        .args([
            "send", "--to", url, "-n", "300", "-c", "500", "-q", "--secret", SECRET,
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&sent.stderr);
    assert!(sent.status.success(), "{said}");
    assert!(
        said.contains("note: this process may open 100 files at once (ulimit -n), so 36 requests go at once, not --concurrency's 500"),
        "{said}"
    );
    assert!(
        String::from_utf8_lossy(&sent.stdout).contains("sent 300 · 2xx 300 · non-2xx 0 · errors 0"),
        "{sent:?}"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // A hard limit of 100 too: fewer connections, and a warning that says how to serve more.
    let (mut child, lines) = under_ulimit("ulimit -n 100", &["--forward-to", "http://127.0.0.1:9"]);
    let warning = lines
        .iter()
        .find(|l| l.contains("ulimit -n"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(
        warning,
        "warning: this process may open 100 files at once (ulimit -n), so hookscope serves 18 connections at once, not --max-connections's 1024; more wait until one closes (raise `ulimit -n` to serve more)"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_body_memory_below_the_body_limit_is_raised_saying_so() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(["--headless", "--no-store", "--port", "0", "--timeout", "1s"])
            .args(args)
            .env_remove("HOOKSCOPE_SECRET")
            .env_remove("PIVOTAL_WEBHOOK_SECRET")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["--max-body", "1GiB"]);
    assert!(
        err.contains("note: --max-body-memory (256 MiB) is below --max-body (1 GiB): up to 1 GiB of bodies are held at once instead, so one body of that size fits"),
        "{err}"
    );
    assert!(!run(&[]).contains("--max-body-memory"));
}
