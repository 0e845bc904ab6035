//! Bounded load through the real binary on loopback (the full-size run is `scripts/load.sh`):
//! every request answered, every one recorded — the sender's counts, the headless JSON lines
//! and the store rows match exactly — memory stays bounded, and an interrupt mid-burst still
//! prints every delivery a sender saw acknowledged.

mod common;

use common::SECRET;
use hookscope::store::{Filter, Store};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");

/// Valid deliveries per run: enough for many 64-wide waves, small enough for any CI machine.
const N: usize = 3000;
/// Tampered deliveries sent alongside (answered 401, recorded all the same).
const TAMPERED: usize = 300;

struct Server {
    child: common::Running,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    fn start(store: &[&str]) -> Server {
        Server::start_reading_after(store, None)
    }

    /// Like `start`, but nothing reads its stdout until `go` says so (or is dropped).
    fn start_reading_after(store: &[&str], go: Option<mpsc::Receiver<()>>) -> Server {
        let (mut child, url) = common::spawn_listening(&mut common::headless_json(store));
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            if let Some(go) = go {
                let _ = go.recv();
            }
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { child, url, lines }
    }

    fn rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    /// The signal (`INT`, `TERM`), then every line it printed, to the end of its output.
    fn signal_and_collect(mut self, signal: &str) -> Vec<Value> {
        common::signal(self.child.id(), signal);
        let mut out = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(30)) {
            out.push(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}")));
        }
        let exit = self.child.wait().expect("wait for hookscope");
        assert!(
            exit.success(),
            "an interrupted headless run exits 0: {exit}"
        );
        out
    }
}

fn send(url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "send",
            "--to",
            url,
            "--secret",
            SECRET,
            "-q",
            "--timeout",
            "20",
        ])
        .args(args)
        .env_remove("HOOKSCOPE_SECRET")
        .output()
        .expect("run send");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn msg_ids(lines: &[Value]) -> HashSet<String> {
    lines
        .iter()
        .filter_map(|j| j["msg_id"].as_str().map(str::to_string))
        .collect()
}

fn bounded_load(store: Option<&std::path::Path>) {
    let store_args: Vec<&str> = match store {
        Some(p) => vec!["--store", p.to_str().expect("utf-8 temp path")],
        None => vec!["--no-store"],
    };
    let server = Server::start(&store_args);
    let (n, tampered) = (N.to_string(), TAMPERED.to_string());
    let url = server.url.clone();
    let valid = std::thread::spawn(move || send(&url, &["-n", &n, "-c", "64"]));
    let bad = send(&server.url, &["-n", &tampered, "-c", "16", "--tamper"]);
    let valid = valid.join().expect("sender thread");
    assert!(
        valid.contains(&format!("sent {N} · 2xx {N} · non-2xx 0 · errors 0")),
        "{valid}"
    );
    assert!(
        bad.contains(&format!(
            "sent {TAMPERED} · 2xx 0 · non-2xx {TAMPERED} · errors 0"
        )),
        "{bad}"
    );
    let rss = server.rss_kib();
    // Ctrl-C from a person, SIGTERM from a CI runner or `timeout`.
    let lines = server.signal_and_collect(if store.is_some() { "TERM" } else { "INT" });

    assert_eq!(lines.len(), N + TAMPERED, "one JSON line per delivery");
    let seqs: HashSet<u64> = lines.iter().filter_map(|j| j["seq"].as_u64()).collect();
    assert_eq!(
        seqs.len(),
        N + TAMPERED,
        "every line is a different delivery"
    );
    let verified = lines.iter().filter(|j| j["verified"] == true).count();
    let rejected = lines
        .iter()
        .filter(|j| j["failure"] == "bad_signature" && j["status"] == 401)
        .count();
    assert_eq!((verified, rejected), (N, TAMPERED));
    assert_eq!(msg_ids(&lines).len(), N + TAMPERED);
    // Bounded: the server holds no per-delivery state without the store (the store keeps
    // bodies on disk); generous, because allocators keep freed memory for reuse.
    assert!(rss > 0 && rss < 256 * 1024, "server RSS {rss} KiB");

    if let Some(path) = store {
        let store = Store::open(path).expect("open the store");
        assert_eq!(store.count().expect("count rows"), (N + TAMPERED) as u64);
        let stored: HashSet<String> = store
            .query_light(&Filter::default())
            .expect("read rows")
            .iter()
            .filter_map(|d| d.msg_id.clone())
            .collect();
        assert_eq!(stored, msg_ids(&lines), "the store holds what was printed");
    }
}

#[test]
fn a_bounded_load_without_the_store_loses_nothing() {
    bounded_load(None);
}

#[test]
fn a_bounded_load_with_the_store_loses_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    bounded_load(Some(&dir.path().join("load.sqlite3")));
}

#[test]
fn a_stalled_stdout_does_not_stop_the_receiver_answering() {
    // Nobody reads stdout (a paused pager, a terminal stopped with Ctrl-S) while far more
    // lines arrive than a pipe holds (64 KiB, ~200 lines): senders are still answered, the
    // deliveries waiting for the printer do not hold their bodies, and once stdout moves again
    // every line comes out.
    const SMALL: usize = 2000;
    const LARGE: usize = 300;
    let dir = tempfile::tempdir().expect("temp dir");
    let large = dir.path().join("large.json");
    let padding = "x".repeat(512 * 1024);
    std::fs::write(
        &large,
        format!(r#"{{"type":"invoice.paid","id":"evt_large","data":"{padding}"}}"#),
    )
    .expect("write the large payload");
    let data = format!("@{}", large.display());

    let (go, gate) = mpsc::channel();
    let server = Server::start_reading_after(&["--no-store"], Some(gate));
    let url = server.url.clone();
    let (done, sent) = mpsc::channel();
    std::thread::spawn(move || {
        let small = send(&url, &["-n", &SMALL.to_string(), "-c", "16"]);
        let large = send(
            &url,
            &["-n", &LARGE.to_string(), "-c", "16", "--data", &data],
        );
        done.send((small, large))
    });
    // Answered, this takes a few seconds. Stalled, the senders would wait out their
    // timeouts for many minutes: the bound only turns that into a failure without the wait.
    let (small, large) = sent
        .recv_timeout(Duration::from_secs(90))
        .expect("senders still waiting for answers while stdout is stalled");
    assert!(
        small.contains(&format!(
            "sent {SMALL} · 2xx {SMALL} · non-2xx 0 · errors 0"
        )),
        "{small}"
    );
    assert!(
        large.contains(&format!(
            "sent {LARGE} · 2xx {LARGE} · non-2xx 0 · errors 0"
        )),
        "{large}"
    );
    // 150 MiB of bodies went by; the queue holds only their summaries.
    let rss = server.rss_kib();
    assert!(
        rss > 0 && rss < 64 * 1024,
        "server RSS {rss} KiB while stalled"
    );

    go.send(()).expect("reader thread waiting");
    let lines = server.signal_and_collect("INT");
    assert_eq!(lines.len(), SMALL + LARGE, "one JSON line per delivery");
    assert_eq!(msg_ids(&lines).len(), SMALL + LARGE);
    let large_lines = lines.iter().filter(|j| j["event_id"] == "evt_large");
    assert!(
        large_lines
            .clone()
            .all(|j| j["bytes"].as_u64() > Some(512 * 1024))
    );
    assert_eq!(large_lines.count(), LARGE);
}

#[test]
fn a_second_interrupt_ends_a_run_whose_stdout_nobody_reads() {
    // The first interrupt waits to print what was answered; with stdout never read that is
    // for ever, so the second gives up (exit 130) rather than leave the user stuck.
    let (_never, gate) = mpsc::channel::<()>();
    let mut server = Server::start_reading_after(&["--no-store"], Some(gate));
    let sent = send(&server.url, &["-n", "1000", "-c", "16"]);
    assert!(
        sent.contains("sent 1000 · 2xx 1000 · non-2xx 0 · errors 0"),
        "{sent}"
    );
    let pid = server.child.id();
    let interrupt = || common::signal(pid, "INT");
    interrupt();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait().expect("poll hookscope").is_none(),
        "exited after one interrupt with ~1000 lines unprinted"
    );
    interrupt();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("poll hookscope") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running after a second interrupt"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{status}");
}

#[test]
fn an_interrupt_mid_burst_still_prints_every_acknowledged_delivery() {
    // What is at stake is the handful of deliveries queued for the printer at the instant of
    // the interrupt; a few rounds make it near certain that some are.
    for _ in 0..4 {
        interrupt_mid_burst(None);
    }
}

#[test]
fn a_sigterm_mid_burst_with_the_store_prints_exactly_what_was_stored() {
    // With the store, a delivery in progress at the signal is stored and answered 200 even
    // once the printer's queue is closed: the printer stops the receiver first and prints
    // what it finishes, so the lines and the rows still match exactly.
    for _ in 0..2 {
        let dir = tempfile::tempdir().expect("temp dir");
        interrupt_mid_burst(Some(&dir.path().join("burst.sqlite3")));
    }
}

/// Interrupts (SIGINT; SIGTERM with a store) a headless run mid-burst and checks that every
/// delivery a sender saw acknowledged was printed, and with a store that the store holds
/// exactly the deliveries printed.
fn interrupt_mid_burst(store: Option<&std::path::Path>) {
    let server = match store {
        // Every row kept, however many come before the signal.
        Some(p) => Server::start(&[
            "--store",
            p.to_str().expect("utf-8 temp path"),
            "--retain",
            "1000000",
        ]),
        None => Server::start(&["--no-store"]),
    };
    let mut sender = Command::new(BIN)
        .args([
            "send",
            "--to",
            &server.url,
            "--secret",
            SECRET,
            "-n",
            "50000",
            "-c",
            "32",
            "--timeout",
            "5",
        ])
        .env_remove("HOOKSCOPE_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn send");
    let sent = BufReader::new(sender.stdout.take().expect("piped stdout"));
    let acknowledged = std::thread::spawn(move || {
        sent.lines()
            .map_while(Result::ok)
            .filter(|l| l.starts_with("200 "))
            .filter_map(|l| {
                Some(
                    l.split(" · ")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .to_string(),
                )
            })
            .collect::<HashSet<String>>()
    });
    // Interrupt once the burst is well under way.
    let mut first = Vec::new();
    while first.len() < 500 {
        let line = server
            .lines
            .recv_timeout(Duration::from_secs(30))
            .expect("deliveries are printed during the burst");
        first.push(serde_json::from_str::<Value>(&line).expect("a JSON line"));
    }
    let mut printed = first;
    printed.extend(server.signal_and_collect(if store.is_some() { "TERM" } else { "INT" }));
    let _ = sender.wait();
    let acknowledged = acknowledged.join().expect("reader thread");
    assert!(
        acknowledged.len() >= 500 && acknowledged.len() < 50_000,
        "the interrupt came mid-burst: {} acknowledged",
        acknowledged.len()
    );
    let lines = printed.len();
    let printed = msg_ids(&printed);
    assert_eq!(printed.len(), lines, "one line per delivery");
    let missing: Vec<&String> = acknowledged.difference(&printed).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged deliveries have no line, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    if let Some(path) = store {
        let stored: HashSet<String> = Store::open(path)
            .expect("open the store")
            .query_light(&Filter::default())
            .expect("read rows")
            .iter()
            .filter_map(|d| d.msg_id.clone())
            .collect();
        let unprinted = stored.difference(&printed).count();
        assert_eq!(unprinted, 0, "stored deliveries without a line");
        assert_eq!(stored.len(), printed.len());
    }
}
