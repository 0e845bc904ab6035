//! End to end in a real terminal: the real binary runs inside tmux, deliveries are fired with
//! `hookscope send`, and keys are typed with `send-keys` while `capture-pane` reads the screen.
//!
//! Needs tmux (`.ci/run` installs it). Outside CI the test is skipped, loudly, when tmux is
//! missing; under CI (CI=true) a missing tmux is a failure.
#![cfg(unix)]

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        let out = self.cmd(&args);
        assert!(
            out.status.success(),
            "send-keys: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn format(&self, fmt: &str) -> String {
        String::from_utf8_lossy(
            &self
                .cmd(&["display-message", "-p", "-t", "e2e", fmt])
                .stdout,
        )
        .trim()
        .to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn send(port: u16, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args([
            "send",
            "--to",
            &format!("http://127.0.0.1:{port}/hooks"),
            "--secret",
            SECRET,
        ])
        .args(extra)
        .output()
        .expect("run hookscope send");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tmux server with a plain shell (known prompt, no display, so copying must fall back to
/// OSC 52); `None` when tmux is missing outside CI.
fn shell(name: &str) -> Option<Tmux> {
    if !tmux_available() {
        assert!(
            std::env::var("CI").is_err(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED {name}: tmux is not installed (apt-get install tmux)");
        return None;
    }
    let tmux = Tmux {
        socket: format!("hookscope-{name}-{}", std::process::id()),
    };
    let shell = "env -u DISPLAY -u WAYLAND_DISPLAY -u NO_COLOR PS1='e2e$ ' TERM=xterm-256color bash --norc --noprofile";
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "120",
        "-y",
        "40",
        shell,
    ]);
    assert!(
        out.status.success(),
        "tmux new-session: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tmux.cmd(&["set-option", "-s", "escape-time", "0"]);
    // set-clipboard is left at tmux's default, `external`, which ignores an application's
    // own OSC 52: a copy must reach the buffer some other way.
    tmux.wait_for("the shell prompt", |s| s.contains("e2e$"));
    Some(tmux)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes an executable script `name` in `dir` (a stand-in editor or tool) and gives its path.
fn script(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Canonical mode is on again (raw mode left) in the pane's shell.
fn assert_cooked(tmux: &Tmux) {
    tmux.keys(&[
        "stty -a | grep -o ' icanon\\| -icanon' ; echo done",
        "Enter",
    ]);
    let s = tmux.wait_for("stty output", |s| s.lines().any(|l| l == "done"));
    let modes: Vec<&str> = s
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with("icanon"))
        .collect();
    assert_eq!(
        modes,
        vec!["icanon"],
        "canonical mode is back (raw mode left):\n{s}"
    );
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
}

#[test]
fn a_panic_in_a_background_task_restores_the_terminal() {
    let Some(tmux) = shell("panic") else { return };
    let port = free_port();
    tmux.keys(&[&format!("RUST_BACKTRACE=0 HOOKSCOPE_TEST_PANIC_IN_TASK=1 {BIN} --port {port} --no-tunnel --no-store; echo exit=$?"), "Enter"]);
    let s = tmux.wait_for("the process to end", |s| {
        s.lines().any(|l| l.starts_with("exit="))
    });
    assert!(s.contains("exit=101"), "{s}");
    assert!(
        s.contains("test panic in a background task"),
        "the panic message is readable:\n{s}"
    );
    assert_cooked(&tmux);
}

/// The pid of a process whose parent is `parent` (from /proc: no procps needed).
fn child_of(parent: &str) -> Option<String> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid = e.file_name().to_string_lossy().into_owned();
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // pid (comm) state ppid …: comm may hold spaces, so read after its closing paren.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
        (ppid == parent).then_some(pid)
    })
}

#[test]
fn being_signalled_to_stop_restores_the_terminal() {
    let Some(tmux) = shell("signals") else { return };
    let shell_pid = tmux.format("#{pane_pid}");
    for signal in ["TERM", "INT", "HUP"] {
        tmux.keys(&["clear", "Enter"]);
        let port = free_port();
        tmux.keys(&[
            &format!("{BIN} --port {port} --no-tunnel --no-store; echo exit=$?"),
            "Enter",
        ]);
        tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
        let pid = child_of(&shell_pid).expect("hookscope runs as the pane shell's child");
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let s = tmux.wait_for("the process to end", |s| {
            s.lines().any(|l| l.starts_with("exit="))
        });
        assert!(
            s.contains("exit=0"),
            "SIG{signal} ends the inspector cleanly:\n{s}"
        );
        assert_cooked(&tmux);
    }
}

#[test]
fn without_a_terminal_to_read_keys_from_the_inspector_says_so() {
    // Output to the pane, but no controlling terminal and stdin not one: no keys can come.
    let Some(tmux) = shell("nokeys") else { return };
    let port = free_port();
    tmux.keys(&[
        &format!("setsid -w {BIN} --port {port} --no-tunnel --no-store < /dev/null; echo exit=$?"),
        "Enter",
    ]);
    let s = tmux.wait_for("the process to end", |s| {
        s.lines().any(|l| l.starts_with("exit="))
    });
    assert!(s.contains("exit=2"), "{s}");
    assert!(
        s.replace('\n', "")
            .contains("cannot take keys from the terminal"),
        "{s}"
    );
    assert_cooked(&tmux);
}

/// The screen's words joined by single spaces: a status wrapped across rows reads whole.
fn flat(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Waits up to 20 s for process `pid` to end, after `what`.
fn wait_until_ended(pid: &str, what: &str) {
    let start = Instant::now();
    while !ended(pid) {
        if start.elapsed() >= Duration::from_secs(20) {
            // Not left behind (spinning, as one did) for the rest of the machine's day.
            let _ = Command::new("kill").args(["-9", pid]).status();
            panic!("still running 20 s after {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether process `pid` has ended (gone, or a zombie waiting to be reaped).
fn ended(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn closing_its_terminal_ends_the_inspector_and_closes_the_store() {
    // The terminal window closed, the ssh session dropped, the tmux pane killed: the inspector
    // must end by itself, letting go of its port and closing its store. It ran on after the
    // hang-up at full speed on one core, its input thread stuck in crossterm (crossterm#793).
    // As the shell's job it gets SIGHUP; under a shell that ignores SIGHUP (`trap '' HUP`,
    // zsh's `setopt nohup`) nothing signals it, and it must notice for itself.
    for (name, before) in [("hup-job", ""), ("hup-ignored", "trap '' HUP; ")] {
        let Some(tmux) = shell(name) else { return };
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.sqlite3");
        let err = dir.path().join("err.txt");
        let port = free_port();
        tmux.keys(&[
            &format!(
                "{before}{BIN} --port {port} --no-tunnel --secret {SECRET} --store {} 2>{}",
                store.display(),
                err.display()
            ),
            "Enter",
        ]);
        tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
        assert!(send(port, &["-n", "3"]).contains("sent 3 · 2xx 3"));
        tmux.wait_for("the deliveries", |s| s.contains("Deliveries 3"));
        let pid = child_of(&tmux.format("#{pane_pid}")).expect("hookscope runs in the pane");
        tmux.cmd(&["kill-server"]);
        wait_until_ended(&pid, &format!("{name}: its terminal closed"));
        // Closed cleanly: the write-ahead log folded into the one file, every delivery in it.
        let wal = dir.path().join("s.sqlite3-wal");
        assert!(!wal.exists(), "{name}: {} left behind", wal.display());
        let kept = hookscope::store::Store::open_existing(&store)
            .unwrap()
            .count()
            .unwrap();
        assert_eq!(kept, 3, "{name}");
        let said = std::fs::read_to_string(&err).unwrap();
        assert!(
            !said.contains("hookscope:"),
            "{name}: ended with an error: {said}"
        );
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "{name}: port held"
        );
    }
}

#[test]
fn a_terminal_that_hangs_up_while_it_draws_ends_it_quietly() {
    // Deliveries keep coming, so the inspector is drawing when the terminal goes: the write
    // fails (EIO) before the hang-up is read or signalled. That is the terminal gone, not an
    // error to report (to nobody) on the way out. It is a race: without the fix, five rounds
    // met it in about half the runs, ten in three runs of three.
    for round in 0..10 {
        let name = format!("hup-drawing-{round}");
        let Some(tmux) = shell(&name) else { return };
        let dir = tempfile::tempdir().unwrap();
        let err = dir.path().join("err.txt");
        let port = free_port();
        tmux.keys(&[
            &format!(
                "{BIN} --port {port} --no-tunnel --secret {SECRET} --no-store 2>{}",
                err.display()
            ),
            "Enter",
        ]);
        tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
        // Ended however the round ends: 100,000 at 400/s would outlive the test.
        let _sender = common::Running(
            Command::new(BIN)
                .args(["send", "--to", &format!("http://127.0.0.1:{port}/")])
                .args(["--secret", SECRET, "-n", "100000", "--rate", "400", "-q"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        tmux.wait_for("deliveries coming", |s| s.contains("Σ 5"));
        let pid = child_of(&tmux.format("#{pane_pid}")).expect("hookscope runs in the pane");
        tmux.cmd(&["kill-server"]);
        wait_until_ended(&pid, &format!("{name}: its terminal closed"));
        let said = std::fs::read_to_string(&err).unwrap();
        assert!(
            !said.contains("hookscope:") && !said.contains("Failed"),
            "{name}: ended with an error: {said}"
        );
    }
}

#[test]
fn inspector_in_a_real_terminal() {
    let Some(tmux) = shell("e2e") else { return };
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("e2e.sqlite3");
    let run = format!(
        "{BIN} --port {port} --secret {SECRET} --no-tunnel --store {}",
        store.display()
    );

    tmux.keys(&[&run, "Enter"]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "the inspector uses the alternate screen"
    );

    let out = send(port, &["-n", "2", "--type", "task.completed"]);
    assert!(out.contains("· 2xx 2 ·"), "{out}");
    let out = send(port, &["--tamper"]);
    assert!(out.contains("401 invalid signature"), "{out}");

    let s = tmux.wait_for("three deliveries", |s| {
        s.contains("Σ 3")
            && s.contains("✓ 2")
            && s.matches("task.completed").count() == 2
            && s.lines()
                .any(|l| l.contains("customer.created") && l.contains("401"))
    });
    assert!(s.contains("✓ 2") && s.contains("✗ 1"), "{s}");
    assert_eq!(s.matches("task.completed").count(), 2, "{s}");
    let failed_row = s
        .lines()
        .find(|l| l.contains("customer.created"))
        .expect("the tampered delivery's row");
    assert!(
        failed_row.contains('✗') && failed_row.contains("401"),
        "{failed_row}"
    );

    // The newest (the failure) is selected: Enter shows the reason.
    tmux.keys(&["Enter"]);
    // Wait for everything read below: a capture can land between two writes of one frame.
    let event_line = |s: &str| {
        s.lines()
            .find_map(|l| l.trim_start().strip_prefix("event"))
            .and_then(|rest| rest.split_whitespace().next())
            .filter(|id| id.starts_with("evt_") && id.len() > 20)
            .map(str::to_string)
    };
    let s = tmux.wait_for("the failure's overview", |s| {
        s.contains("no signature matched: 1 signature tried against 1 secret")
            && event_line(s).is_some()
    });
    assert!(
        s.contains("no signature matched: 1 signature tried against 1 secret"),
        "{s}"
    );
    let event_id = event_line(&s).expect("event line");

    // y copies the id; with no display it goes into a tmux paste buffer.
    tmux.keys(&["y"]);
    tmux.wait_for("the copy message", |s| {
        s.contains("copied event id") && s.contains("via tmux")
    });
    let start = Instant::now();
    let buffer = loop {
        let b = String::from_utf8_lossy(&tmux.cmd(&["show-buffer"]).stdout).into_owned();
        if b == event_id || start.elapsed() > Duration::from_secs(10) {
            break b;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(buffer, event_id, "tmux's paste buffer holds the event id");

    // Filter, then q: back at the shell, terminal restored.
    // Esc on its own: followed at once by another key, terminals report Alt+key.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the detail to close", |s| !s.contains("─ Overview ─"));
    tmux.keys(&["/", "t", "a", "s", "k", "Enter"]);
    tmux.wait_for("the filter", |s| s.contains("filter “task”: 2 matches"));
    tmux.keys(&["q"]);
    let s = tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
    assert!(
        s.contains("listening on http://127.0.0.1:"),
        "stderr shows after leaving the UI:\n{s}"
    );
    assert_cooked(&tmux);

    // History survives: started again on the same store, the three deliveries are back,
    // marked as from an earlier session, and their bodies load from the store.
    tmux.keys(&["clear", "Enter"]);
    tmux.keys(&[&run, "Enter"]);
    let s = tmux.wait_for("earlier deliveries", |s| {
        s.contains("3 from earlier sessions") && s.matches("task.completed").count() == 2
    });
    assert_eq!(s.matches("task.completed").count(), 2, "{s}");
    tmux.keys(&["G", "Enter", "Tab", "Tab"]);
    tmux.wait_for("the stored body", |s| {
        s.contains("\"type\": \"task.completed\"")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines()
            .filter(|l| l.starts_with("e2e$") && !l.contains(BIN))
            .count()
            >= 1
    });
}

#[test]
fn keys_are_answered_during_a_burst() {
    let Some(tmux) = shell("burst") else { return };
    let port = free_port();
    tmux.keys(&[
        &format!("{BIN} --port {port} --secret {SECRET} --no-tunnel --no-store"),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    let burst = std::thread::spawn(move || send(port, &["-n", "20000", "-c", "32", "-q"]));
    tmux.wait_for("the burst to start", |s| {
        s.contains("Deliveries") && !s.contains("Deliveries 0 ")
    });
    // While deliveries pour in, the help overlay opens and closes on demand.
    tmux.keys(&["?"]);
    tmux.wait_for("help during the burst", |s| s.contains("any key closes"));
    tmux.keys(&["j"]);
    tmux.wait_for("help to close", |s| !s.contains("any key closes"));
    let out = burst.join().expect("send finished");
    assert!(out.contains("sent 20000 · 2xx 20000"), "{out}");
    tmux.wait_for("every delivery counted", |s| s.contains("Σ 20000"));
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
}

#[test]
fn replay_and_answer_modes_from_the_keyboard() {
    let Some(tmux) = shell("replay") else { return };
    let port = free_port();
    tmux.keys(&[
        &format!("{BIN} --port {port} --secret {SECRET} --no-tunnel --no-store"),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    assert!(send(port, &[]).contains("· 2xx 1 ·"));
    tmux.wait_for("the delivery", |s| s.contains("Σ 1"));

    // r: replayed through the receiver, it arrives as a second attempt of the same message.
    tmux.keys(&["r"]);
    let s = tmux.wait_for("the replay", |s| {
        s.contains("Σ 2") && s.contains("answered 200") && s.contains("×2")
    });
    assert!(
        s.contains("×2"),
        "attempt count on the newest attempt:\n{s}"
    );
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the attempts timeline", |s| {
        s.contains("2 attempts of this message")
            && s.contains("(replay)")
            && s.contains("replay of")
    });
    assert!(s.contains("(replay)") && s.contains("replay of"), "{s}");
    tmux.keys(&["Enter"]);

    // m: the answer mode switches, shows in the header, and senders get it.
    tmux.keys(&["m"]);
    tmux.wait_for("the mode in the header", |s| {
        s.contains("answering status:500 (m)")
    });
    let out = send(port, &[]);
    assert!(
        out.contains("500 hookscope response mode status:500"),
        "{out}"
    );
    tmux.wait_for("the 500 in the list", |s| {
        s.contains("Σ 3") && s.contains(" 500")
    });
    tmux.keys(&["m", "m", "m", "m"]);
    tmux.wait_for("normal again", |s| {
        s.contains("answering senders: normal") && !s.contains("(m) ")
    });
    assert!(send(port, &[]).contains("· 2xx 1 ·"));

    // A delivery signed ten minutes ago, replayed as received, is refused again: the status
    // says why and which key re-signs it; R then gets it through.
    assert!(send(port, &["--stale"]).contains("401"));
    tmux.wait_for("the stale delivery", |s| s.contains("Σ 5"));
    tmux.keys(&["r"]);
    tmux.wait_for("the refused replay, with its reason", |s| {
        let s = flat(s);
        s.contains("answered 401 invalid signature (as received, it was signed 10m")
            && s.contains("past the 5m receivers allow: R re-signs it)")
    });
    tmux.keys(&["R"]);
    tmux.wait_for("the re-signed replay", |s| {
        flat(s).contains("replayed re-signed") && flat(s).contains("answered 200 ok")
    });

    // x twice: a fresh start, counts and all.
    tmux.keys(&["x"]);
    tmux.wait_for("the question", |s| {
        flat(s).contains("x again clears 7 deliveries")
    });
    tmux.keys(&["x"]);
    tmux.wait_for("the empty list", |s| {
        flat(s).contains("cleared 7 deliveries from the list")
            && s.contains("Σ 0")
            && s.contains("Waiting for deliveries")
    });
    assert!(send(port, &[]).contains("· 2xx 1 ·"));
    tmux.wait_for("the next round", |s| s.contains("Σ 1"));
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
}

/// An app on `listener` answering every request 200 after `delay`, one at a time on its own
/// thread, for the test's life: what the user starts once their handler is fixed.
fn app_answering_200(listener: std::net::TcpListener, delay: Duration) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                let lower = line.to_ascii_lowercase();
                if let Some(n) = lower.strip_prefix("content-length:") {
                    length = n.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            std::thread::sleep(delay);
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        }
    });
}

#[test]
fn f_twice_re_sends_what_failed_while_the_app_was_down() {
    let Some(tmux) = shell("resend") else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.sqlite3");
    let (port, app) = (free_port(), free_port());
    tmux.keys(&[
        &format!(
            "{BIN} --port {port} --secret {SECRET} --no-tunnel --store {} --forward-to http://127.0.0.1:{app}",
            path.display()
        ),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    // The app is down: two messages get 502; a third, signed ten minutes ago, too.
    assert!(send(port, &["-n", "2"]).contains("· non-2xx 2 ·"));
    assert!(send(port, &["--stale"]).contains("· non-2xx 1 ·"));
    tmux.wait_for("three failures", |s| s.matches(" 502").count() == 3);

    // The app is back, taking a second and a half over each.
    let listener = std::net::TcpListener::bind(("127.0.0.1", app)).unwrap();
    app_answering_200(listener, Duration::from_millis(1500));
    tmux.keys(&["F"]);
    tmux.wait_for("the question", |s| {
        flat(s).contains("F again re-sends the 3 messages still failing")
    });
    tmux.keys(&["F"]);
    tmux.wait_for("the run", |s| {
        flat(s).contains("re-sending the 3 messages still failing…")
    });
    // F twice during the run stops it once the one under way is answered.
    tmux.keys(&["F"]);
    tmux.wait_for("the offer to stop", |s| {
        flat(s).contains("already re-sending the failing messages: F again stops it")
    });
    tmux.keys(&["F"]);
    tmux.wait_for("the stop", |s| {
        flat(s).contains("stopped after 1 of 3: 2xx 1 · non-2xx 0 · errors 0")
    });
    tmux.keys(&["F"]);
    tmux.wait_for("the question", |s| {
        flat(s).contains("F again re-sends the 2 messages still failing")
    });
    tmux.keys(&["F"]);
    // Re-signed, the stale one verifies too; each arrives through the receiver and the app.
    // (The summary may show a frame before the last replay's row: the loop takes actions
    // before deliveries.)
    tmux.wait_for("the summary, and every replay listed", |s| {
        flat(s).contains("re-sent 2 messages: 2xx 2 · non-2xx 0 · errors 0") && s.contains("Σ 6")
    });
    tmux.keys(&["F"]);
    tmux.wait_for("nothing left", |s| {
        flat(s).contains("no message is failing: nothing to re-send")
    });
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
    let stored = hookscope::store::Store::open(&path)
        .unwrap()
        .query(&hookscope::store::Filter::default())
        .unwrap();
    let answered: Vec<u16> = stored.iter().map(|d| d.response.status).collect();
    assert_eq!(answered, [502, 502, 502, 200, 200, 200]);
    // Oldest first, each the message it re-sends, body and all (the list held them light).
    for (original, again) in stored[..3].iter().zip(&stored[3..]) {
        assert_eq!(again.replay_of, Some(original.seq));
        assert_eq!(again.verdict.verified(), Some(true));
        assert_eq!(
            (&again.msg_id, &again.body),
            (&original.msg_id, &original.body)
        );
    }
}

#[test]
fn e_edits_a_body_in_the_users_editor_and_sends_it_signed() {
    let Some(tmux) = shell("edit") else { return };
    let dir = tempfile::tempdir().unwrap();
    // A stand-in for vi that reads the terminal as vi does, raw: it asks for an email and
    // writes it into the body (the file is its last argument: EDITOR may carry options);
    // given nothing, it leaves the file as it was.
    let editor = script(
        dir.path(),
        "ed.sh",
        concat!(
            "#!/bin/bash\n",
            "printf 'new email? '\n",
            // As vi does: every key as it is typed, Ctrl-C a key too. Keys typed during
            // the second's sleep wait in the terminal for the editor (hookscope must not
            // take them).
            "stty raw -echo\n",
            "sleep 1\n",
            "email=\n",
            // One byte at a time, the terminal left raw (bash's `read -n1` would make it
            // cbreak, turning Enter into a newline and Ctrl-Z into a signal).
            "while c=$(dd bs=1 count=1 2>/dev/null) && [ -n \"$c\" ] && [ \"$c\" != $'\\r' ]; do\n",
            // Ctrl-C: the signal a terminal in cooked mode sends to its foreground
            // process group, hookscope and all; and the terminal left raw, as a crash
            // would leave it.
            "  [ \"$c\" = $'\\x03' ] && kill -INT 0\n",
            // Ctrl-Z, as vi takes it: the terminal put back, the whole process group
            // told to stop (hookscope too), and raw again once continued.
            "  if [ \"$c\" = $'\\x1a' ]; then stty sane; kill -TSTP 0; stty raw -echo; printf ' (continued) '; continue; fi\n",
            "  email+=$c\n",
            "done\n",
            "stty sane\n",
            "[ -z \"$email\" ] && exit 0\n",
            "sed -i \"s/ada@example.com/$email/\" \"${@: -1}\"\n",
        ),
    );
    let store = dir.path().join("e.sqlite3");
    let port = free_port();
    // Under a wrapper that does not exec it, as `make` or a script would run it: the wrapper
    // shares hookscope's process group, and a shell would see it stop with the editor.
    tmux.keys(&[
        &format!(
            "TMPDIR={} EDITOR='{} -e' bash -c '\"$@\"; echo wrapper ended' wrapper {BIN} --port {port} --secret {SECRET} --no-tunnel --store {}",
            dir.path().display(),
            editor.display(),
            store.display()
        ),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    assert!(send(port, &[]).contains("· 2xx 1 ·"));
    tmux.wait_for("the delivery", |s| s.contains("Σ 1"));

    tmux.keys(&["e"]);
    let s = tmux.wait_for("the editor", |s| s.contains("new email?"));
    assert!(s.contains("hookscope: #1's body is open in `"), "{s}");
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "0",
        "the screen is the editor's"
    );
    // Every key goes to the editor: q, j and x are commands to the inspector.
    tmux.keys(&["-l", "quit.jx@example.com"]);
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("the edit, sent and verified", |s| {
        flat(s).contains("sent #1 as edited, msg_") && s.contains("✓ 2")
    });
    assert!(flat(&s).contains(": answered 200 ok"), "{s}");
    assert_eq!(
        tmux.format("#{alternate_on}"),
        "1",
        "the inspector has its screen back"
    );
    // The scratch file is gone: payloads carry personal data.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("hookscope-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Ctrl-Z in the editor is refused as in the inspector: the editor carries on, and so
    // does the receiver (a shell's job, hookscope would otherwise stop with the editor).
    // Nothing typed then: nothing changed, nothing sent.
    tmux.keys(&["e"]);
    tmux.wait_for("the editor again", |s| s.contains("new email?"));
    tmux.keys(&["C-z"]);
    tmux.wait_for("the editor continued", |s| s.contains("(continued)"));
    assert!(
        send(port, &["--timeout", "5s"]).contains("· 2xx 1 ·"),
        "answered while the editor is open:\n{}",
        tmux.screen()
    );
    assert!(!tmux.screen().contains("Stopped"), "{}", tmux.screen());
    tmux.keys(&["Enter"]);
    tmux.wait_for("nothing sent", |s| {
        flat(s).contains("not sent: #2's body was not changed") && s.contains("Σ 3")
    });
    // Ctrl-C in the editor is the editor's.
    tmux.keys(&["e"]);
    tmux.wait_for("the editor again", |s| s.contains("new email?"));
    tmux.keys(&["C-c"]);
    let s = tmux.wait_for("the editor's end", |s| {
        flat(s).contains("not sent: the editor")
    });
    assert!(s.contains("Σ 3"), "still running, nothing more sent:\n{s}");
    // SIGTERM while the editor is open (raw): the editor goes with hookscope, and the
    // terminal is the shell's again, cooked, with no scratch file left.
    tmux.keys(&["e"]);
    tmux.wait_for("the editor again", |s| s.contains("new email?"));
    let pid = child_of(&tmux.format("#{pane_pid}"))
        .and_then(|wrapper| child_of(&wrapper))
        .expect("hookscope runs in the pane, under its wrapper");
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    wait_until_ended(&pid, "SIGTERM");
    tmux.wait_for("the wrapper's end", |s| s.contains("wrapper ended"));
    tmux.keys(&["Enter"]);
    assert_cooked(&tmux);
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .all(|e| !e.file_name().to_string_lossy().starts_with("hookscope-")),
        "no scratch file left"
    );

    // The store was closed on the way out. The edit went out as a new message, compact as
    // the original came, linked to it.
    let (ds, body) = {
        let store = hookscope::store::Store::open(&store).unwrap();
        let ds = store.query(&hookscope::store::Filter::default()).unwrap();
        let body = ds[1].body.clone();
        (ds, body)
    };
    assert_eq!(
        ds.len(),
        3,
        "the original, its edit, one sent while editing"
    );
    assert_eq!(ds[1].replay_of, Some(ds[0].seq));
    assert!(ds[1].edited, "marked as an edit, not a replay");
    assert_ne!(ds[1].msg_id, ds[0].msg_id);
    assert_eq!(
        String::from_utf8(body.to_vec()).unwrap(),
        String::from_utf8(ds[0].body.to_vec())
            .unwrap()
            .replace("ada@example.com", "quit.jx@example.com")
    );
}

#[test]
fn with_stdin_not_its_terminal_the_editor_still_reads_the_terminal() {
    let Some(tmux) = shell("edit-stdin") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // hookscope started with stdin elsewhere (`< /dev/null`) reads keys from /dev/tty; the
    // editor is handed the terminal as its stdin too (nano gives up on any other). This one
    // says what its stdin was, and changes nothing.
    let said = dir.path().join("stdin");
    let editor = script(
        dir.path(),
        "ed.sh",
        &format!(
            "#!/bin/sh\nif [ -t 0 ]; then echo terminal; else echo other; fi > {}\n",
            said.display()
        ),
    );
    let port = free_port();
    tmux.keys(&[
        &format!(
            "EDITOR={} {BIN} --port {port} --secret {SECRET} --no-tunnel --no-store < /dev/null",
            editor.display()
        ),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    assert!(send(port, &[]).contains("· 2xx 1 ·"));
    tmux.wait_for("the delivery", |s| s.contains("Σ 1"));
    tmux.keys(&["e"]);
    tmux.wait_for("the editor's end", |s| {
        flat(s).contains("not sent: #1's body was not changed")
    });
    assert_eq!(std::fs::read_to_string(&said).unwrap(), "terminal\n");
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
    assert_cooked(&tmux);
}

#[test]
fn headless_keeps_answering_while_its_terminal_is_stopped() {
    // Ctrl-S stops a terminal's output: a blocking write to it would stop the receiver too,
    // and senders would wait until their providers gave up.
    let Some(tmux) = shell("stopped") else { return };
    let log = tempfile::NamedTempFile::new().expect("temp file");
    // Everything the pane prints, in full (the screen holds only its last 40 lines).
    tmux.cmd(&[
        "pipe-pane",
        "-t",
        "e2e",
        &format!("cat >> {}", log.path().display()),
    ]);
    let port = free_port();
    tmux.keys(&[
        &format!("{BIN} --headless --port {port} --no-store --secret {SECRET}"),
        "Enter",
    ]);
    tmux.wait_for("the receiver", |s| s.contains("listening on"));
    tmux.keys(&["C-s"]);
    const N: usize = 1000;
    let (done, sent) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args = ["-n", &N.to_string(), "-c", "16", "-q", "--timeout", "5"];
        done.send(send(port, &args))
    });
    // Answered, this takes a second; stalled, the senders would wait out their timeouts.
    let sent = sent
        .recv_timeout(Duration::from_secs(60))
        .expect("senders still waiting while the terminal is stopped");
    assert!(
        sent.contains(&format!("sent {N} · 2xx {N} · non-2xx 0 · errors 0")),
        "{sent}"
    );
    tmux.keys(&["C-q"]);
    let start = Instant::now();
    let printed = loop {
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        let n = text.matches("✓ customer.created").count();
        if n >= N || start.elapsed() > Duration::from_secs(20) {
            break n;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        printed, N,
        "every delivery printed once the terminal moves again"
    );
    tmux.keys(&["C-c"]);
}

#[test]
fn the_inspector_starts_with_what_the_retention_keeps() {
    let Some(tmux) = shell("retention") else {
        return;
    };
    // A store holding three deliveries from a week ago and two from now.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite3");
    let now = time::OffsetDateTime::now_utc();
    let mut b = hookscope::testing::Builder::new(&[SECRET], now - time::Duration::days(7));
    let mut ds = Vec::new();
    for i in 0..3 {
        ds.push(b.signed(
            SECRET,
            &format!("msg_old{i}"),
            &hookscope::testing::event("invoice.paid", &format!("evt_old{i}")),
        ));
    }
    b.at = now - time::Duration::minutes(5);
    for i in 0..2 {
        ds.push(b.signed(
            SECRET,
            &format!("msg_new{i}"),
            &hookscope::testing::event("task.completed", &format!("evt_new{i}")),
        ));
    }
    let mut store = hookscope::store::Store::open(&path).unwrap();
    store
        .insert(&ds.iter().collect::<Vec<_>>(), "seed")
        .unwrap();
    drop(store);

    let port = free_port();
    tmux.keys(&[
        &format!(
            "{BIN} --port {port} --secret {SECRET} --no-tunnel --store {} --retain-days 1",
            path.display()
        ),
        "Enter",
    ]);
    // The week-old ones are not shown, though the writer may not have pruned them yet.
    let s = tmux.wait_for("the earlier deliveries", |s| {
        s.contains("2 from earlier sessions")
    });
    assert_eq!(s.matches("task.completed").count(), 2, "{s}");
    assert!(!s.contains("invoice.paid"), "{s}");
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
    // And the writer pruned them from the store.
    let left = hookscope::store::Store::open(&path)
        .unwrap()
        .query(&hookscope::store::Filter::default())
        .unwrap();
    assert_eq!(left.len(), 2);
}

#[test]
fn a_paste_is_searched_for_not_typed_as_commands() {
    let Some(tmux) = shell("paste") else { return };
    let port = free_port();
    tmux.keys(&[
        &format!("{BIN} --port {port} --secret {SECRET} --no-tunnel --no-store"),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    let out = send(port, &[]);
    assert!(out.contains("· 2xx 1 ·"), "{out}");
    tmux.wait_for("the delivery", |s| s.contains("customer.created"));
    // Pasted the way a terminal pastes (bracketed, as the inspector asks for): as keys, m would
    // change what senders are answered and q would quit.
    let set = tmux.cmd(&["set-buffer", "mq"]);
    assert!(set.status.success());
    let pasted = tmux.cmd(&["paste-buffer", "-p", "-t", "e2e"]);
    assert!(pasted.status.success());
    let s = tmux.wait_for("the paste in the filter", |s| s.contains("/ mq"));
    assert!(!s.contains("answering"), "{s}");
    // Esc on its own: read together with the q after it (a busy machine), it is Alt+q.
    tmux.keys(&["Escape"]);
    tmux.wait_for("the filter cleared", |s| !s.contains("/ mq"));
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
}

#[test]
fn characters_of_several_code_points_leave_nothing_behind() {
    let Some(tmux) = shell("clusters") else {
        return;
    };
    let port = free_port();
    tmux.keys(&[
        &format!("{BIN} --port {port} --secret {SECRET} --no-tunnel --no-store"),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    // Each a character that takes two cells and two code points that tmux puts one per cell:
    // a flag, a Devanagari conjunct, halfwidth kana with its sound mark, Thai; and the
    // emoji whose width terminals disagree on, which are shown escaped.
    let body = r#"{"type": "a.b", "flag": "x🇯🇵y", "hindi": "नमस्ते", "kana": "ﾀﾞﾊﾟ", "thai": "น้ำ", "heart": "❤️", "thumb": "👍🏽"}"#;
    let out = send(port, &["--data", body]);
    assert!(out.contains("· 2xx 1 ·"), "{out}");
    tmux.wait_for("the delivery", |s| s.contains("a.b"));
    tmux.keys(&["Enter", "Tab", "Tab"]);
    let s = tmux.wait_for("the body", |s| s.contains("\"thumb\""));
    for shown in ["x🇯🇵y", "नमस्ते", "ﾀﾞﾊﾟ", "น้ำ", "❤\\u{fe0f}", "👍\\u{1f3fd}"]
    {
        assert!(s.contains(shown), "{shown}:\n{s}");
    }
    // The answer's view has nothing where the body's lines were: none of their parts stay.
    tmux.keys(&["Tab"]);
    tmux.wait_for("the answer", |s| s.contains("answered the sender"));
    std::thread::sleep(Duration::from_millis(300));
    let s = tmux.screen();
    for part in ["🇯", "🇵", "न", "ते", "ﾀ", "ﾞ", "ﾟ", "น", "ำ", "❤", "👍"]
    {
        assert!(!s.contains(part), "{part} left over:\n{s}");
    }
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
}

#[test]
fn the_header_shows_a_tailscale_funnel_to_our_port() {
    let Some(tmux) = shell("funnel") else { return };
    let port = free_port();
    // A stand-in `tailscale` first on PATH, printing what `tailscale funnel --bg PORT` sets up;
    // no ngrok agent answers at the API given.
    let dir = tempfile::tempdir().unwrap();
    let status = format!(
        r#"{{"TCP":{{"443":{{"HTTPS":true}}}},"Web":{{"box.tail1234.ts.net:443":{{"Handlers":{{"/":{{"Proxy":"http://127.0.0.1:{port}"}}}}}}}},"AllowFunnel":{{"box.tail1234.ts.net:443":true}}}}"#
    );
    std::fs::write(dir.path().join("status.json"), status).unwrap();
    script(
        dir.path(),
        "tailscale",
        &format!("#!/bin/sh\ncat '{}/status.json'\n", dir.path().display()),
    );
    tmux.keys(&[
        &format!(
            "PATH={}:$PATH {BIN} --port {port} --no-store --ngrok-api http://127.0.0.1:{}",
            dir.path().display(),
            free_port()
        ),
        "Enter",
    ]);
    let s = tmux.wait_for("the funnel's URL in the header", |s| {
        s.contains("⇄ https://box.tail1234.ts.net")
    });
    assert!(
        s.contains(&format!("listening http://127.0.0.1:{port}")),
        "{s}"
    );
    tmux.keys(&["q"]);
    tmux.wait_for("the shell again", |s| {
        s.lines().any(|l| l.starts_with("e2e$") && !l.contains(BIN))
    });
}

#[test]
fn text_handed_to_tmux_lands_in_its_paste_buffer_whole() {
    let Some(tmux) = shell("to-tmux") else {
        return;
    };
    let socket = tmux.format("#{socket_path}");
    // $TMUX as tmux sets it in a pane: socket, server pid, session.
    let value = std::ffi::OsString::from(format!("{socket},1,0"));
    let text = format!(
        "{{\n  \"id\": \"evt_1\", \"quote\": \"it's $HOME `x` \\\\ é\"\n}}\n{}",
        "x".repeat(200_000)
    );
    use hookscope::clipboard::{OSC52_MAX, Onward, to_tmux};
    assert_eq!(to_tmux(&text, &value), Ok(Onward::Passed));
    let shown = tmux.cmd(&["show-buffer"]).stdout;
    assert_eq!(String::from_utf8_lossy(&shown), text);
    // Too large for the terminal's clipboard: still whole in the buffer.
    let large = "y".repeat(OSC52_MAX + 1);
    assert_eq!(to_tmux(&large, &value), Ok(Onward::TooLarge));
    assert_eq!(tmux.cmd(&["show-buffer"]).stdout.len(), large.len());
    // No server there: a clear error, for the OSC 52 fallback's message.
    let gone = std::ffi::OsString::from(format!("{socket}-gone,1,0"));
    let err = to_tmux("x", &gone).unwrap_err();
    assert!(err.contains("error connecting to"), "{err}");
}

#[test]
fn the_inspector_gives_back_the_body_memory_of_what_it_takes() {
    // The receiver counts what waits for the inspector against --max-body-memory; the
    // inspector gives each body back as it takes it. 60,000 bytes twice in 100 KiB: the second
    // gets in only once the first was given back.
    let Some(tmux) = shell("bodies") else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("big.json");
    let body = format!(
        r#"{{"id":"evt_big","type":"big.event","data":"{}"}}"#,
        "x".repeat(60_000 - 45)
    );
    assert_eq!(body.len(), 60_000);
    std::fs::write(&data, body).unwrap();
    let port = free_port();
    tmux.keys(&[
        &format!(
            "{BIN} --port {port} --secret {SECRET} --no-tunnel --no-store --max-body 64KiB --max-body-memory 100KiB"
        ),
        "Enter",
    ]);
    tmux.wait_for("the inspector", |s| s.contains("Waiting for deliveries"));
    let at = format!("@{}", data.display());
    for n in 1..=3 {
        let out = send(port, &["--data", &at]);
        assert!(out.contains("· 2xx 1 ·"), "delivery {n}: {out}");
        tmux.wait_for("the delivery listed", |s| s.contains(&format!("Σ {n}")));
    }
    tmux.keys(&["q"]);
}
