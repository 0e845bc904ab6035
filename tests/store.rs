//! The store through the real binary: durability under SIGKILL, history/show, export → import
//! round trips (byte-exact), HAR 1.2 structure, and clear errors for unusable files.

mod common;

use common::{OTHER_SECRET, SECRET};
use hookscope::delivery::Delivery;
use hookscope::store::{Filter, Store};
use hookscope::testing::{Builder, event, signed_headers};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use time::macros::datetime;

const BIN: &str = env!("CARGO_BIN_EXE_hookscope");

/// `hookscope import FILE --store STORE`: its exit status and stderr (where it reports).
fn import(file: &Path, store: &Path) -> (i32, String) {
    let (code, _, err) = hookscope(&[
        "import",
        file.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    (code, err)
}

fn export(store: &Path, format: &str, file: &Path) -> (i32, String) {
    let (code, _, err) = hookscope(&[
        "export",
        "--store",
        store.to_str().unwrap(),
        "--format",
        format,
        "-o",
        file.to_str().unwrap(),
    ]);
    (code, err)
}

fn hookscope(args: &[&str]) -> (i32, String, String) {
    let (code, out, err) = hookscope_bytes(args);
    (code, String::from_utf8_lossy(&out).into_owned(), err)
}

/// [`hookscope`] with stdout as bytes.
fn hookscope_bytes(args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET")
        // Local times (history's lines, --since) read the same on every machine.
        .env("TZ", "UTC")
        .output()
        .expect("run hookscope");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A store holding a mix: verified, rejected, binary body with odd headers, a GET.
fn seeded(path: &Path) -> Vec<Delivery> {
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    let mut ds = Vec::new();
    b.advance(1_000);
    ds.push(b.signed(SECRET, "msg_a", &event("customer.created", "evt_a")));
    b.advance(1_000);
    ds.push(b.signed(OTHER_SECRET, "msg_b", &event("task.completed", "evt_b")));
    b.advance(1_000);
    let body = b"\xff\x00{\"bin\":1}\r\n";
    let mut headers = signed_headers(SECRET, "msg_c", b.at.unix_timestamp(), body);
    headers.insert(0, ("host".into(), b"abc.ngrok-free.app".to_vec()));
    headers.push(("x-odd".into(), b"caf\xe9 \x01".to_vec()));
    headers.push(("x-odd".into(), b"second".to_vec()));
    ds.push(b.request("POST", "/hooks/bin?a=1&b=two", headers, body));
    b.advance(1_000);
    ds.push(b.request("GET", "/favicon.ico", vec![], b""));
    let mut store = Store::open(path).unwrap();
    store
        .insert(&ds.iter().collect::<Vec<_>>(), "seed")
        .unwrap();
    store.query(&Filter::default()).unwrap()
}

fn same(a: &Delivery, b: &Delivery) {
    assert_eq!(a.received_at, b.received_at, "time");
    assert_eq!(
        (&a.method, &a.path, &a.version),
        (&b.method, &b.path, &b.version)
    );
    assert_eq!(a.remote, b.remote, "remote");
    assert_eq!(a.headers, b.headers, "headers byte-exact, in order");
    assert_eq!(a.body, b.body, "body byte-exact");
    assert_eq!(a.body_size, b.body_size);
    assert_eq!(
        (&a.msg_id, &a.event_id, &a.event_type),
        (&b.msg_id, &b.event_id, &b.event_type)
    );
    assert_eq!(a.verdict, b.verdict, "verdict with its reason and hints");
    assert_eq!(a.response, b.response);
}

#[test]
fn every_acknowledged_delivery_survives_sigkill_during_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("kill.sqlite3");
    let store_arg = store.to_str().unwrap().to_string();
    let (mut server, url) =
        common::spawn_listening(&mut common::headless_json(&["--store", &store_arg]));
    let mut sender = Command::new(BIN)
        .args([
            "send",
            "--to",
            &url,
            "--secret",
            SECRET,
            "-n",
            "4000",
            "-c",
            "32",
            "--timeout",
            "5",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let sent_lines = BufReader::new(sender.stdout.take().unwrap());
    let reader = std::thread::spawn(move || {
        sent_lines
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.starts_with("200 "))
            .filter_map(|l| {
                l.split(" · ")
                    .nth(1)
                    .and_then(|m| m.split_whitespace().next())
                    .map(str::to_string)
            })
            .collect::<HashSet<String>>()
    });
    // Kill it mid-burst, once a few hundred have been answered.
    let mut seen = 0;
    let stdout = BufReader::new(server.stdout.take().unwrap());
    let start = Instant::now();
    for _ in stdout.lines().map_while(Result::ok) {
        seen += 1;
        if seen >= 300 || start.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    server.kill().unwrap(); // SIGKILL: no chance to flush anything
    server.wait().unwrap();
    let _ = sender.wait();
    let acknowledged = reader.join().unwrap();
    assert!(
        acknowledged.len() >= 100,
        "only {} acknowledged before the kill: the test did not exercise a burst",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() < 4000,
        "the kill came too late to test anything"
    );

    let store = Store::open(&store).unwrap();
    store.check_integrity().unwrap();
    let stored: HashSet<String> = store
        .query(&Filter::default())
        .unwrap()
        .into_iter()
        .filter_map(|d| d.msg_id)
        .collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged deliveries lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}

#[test]
fn a_clean_exit_leaves_one_self_contained_store_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("clean.sqlite3");
    let (mut server, url) = common::spawn_listening(&mut common::headless_json(&[
        "--store",
        store.to_str().unwrap(),
    ]));
    let (code, _, err) = hookscope(&["send", "--to", &url, "--secret", SECRET, "-n", "5"]);
    assert_eq!(code, 0, "{err}");
    let lines = BufReader::new(server.stdout.take().unwrap());
    // A keep-alive connection left open must not hold the store open past the exit either.
    let idle = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    common::signal(server.id(), "TERM");
    assert_eq!(lines.lines().count(), 5);
    assert!(server.wait().unwrap().success());
    drop(idle);

    // SQLite folds the write-ahead log into the database when its last connection closes: a
    // log left behind would hold the latest deliveries, and a copy of the file alone (a
    // backup, a bug report) would miss them.
    for suffix in ["-wal", "-shm"] {
        let side = dir.path().join(format!("clean.sqlite3{suffix}"));
        assert!(!side.exists(), "{} left behind", side.display());
    }
    let copy = tempfile::tempdir().unwrap();
    let alone = copy.path().join("copy.sqlite3");
    std::fs::copy(&store, &alone).unwrap();
    let stored = Store::open_existing(&alone)
        .unwrap()
        .query(&Filter::default())
        .unwrap();
    assert_eq!(stored.len(), 5);
}

#[test]
fn history_says_when_it_left_older_deliveries_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.sqlite3");
    let p = path.to_str().unwrap();
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    let ds: Vec<Delivery> = (0..51)
        .map(|i| {
            b.advance(1_000);
            b.signed(
                SECRET,
                &format!("msg_{i}"),
                &event("a.b", &format!("evt_{i}")),
            )
        })
        .collect();
    let mut store = Store::open(&path).unwrap();
    // Nothing found is said on stderr, stdout left empty for scripts.
    let (code, out, err) = hookscope(&["history", "--store", p]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(err, format!("hookscope: {p} holds no deliveries yet\n"));
    // `show` without an id has no newest to show: said, and a failure for scripts.
    let (code, out, err) = hookscope(&["show", "--store", p]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err, format!("hookscope: {p} holds no deliveries yet\n"));
    // 50 first: exactly the default's worth leaves nothing out.
    store
        .insert(&ds[..50].iter().collect::<Vec<_>>(), "t")
        .unwrap();
    let (code, out, err) = hookscope(&["history", "--store", p]);
    assert_eq!((code, out.lines().count(), err.as_str()), (0, 50, ""));

    store.insert(&[&ds[50]], "t").unwrap();
    let (code, out, err) = hookscope(&["history", "--store", p]);
    assert_eq!((code, out.lines().count()), (0, 50), "{err}");
    assert!(
        out.starts_with("2  2026-11-27 10:00:02  ✓ a.b · evt_1 (msg_1)"),
        "the newest 50, oldest first: {out}"
    );
    assert!(
        out.ends_with("51  2026-11-27 10:00:51  ✓ a.b · evt_50 (msg_50)\n"),
        "{out}"
    );
    assert_eq!(
        err,
        "hookscope: the newest 50 shown; older ones match too (--limit N, or --all)\n"
    );
    for (flags, lines) in [
        (&["--all"][..], 51),
        (&["--limit", "51"], 51),
        (&["--limit", "3"], 3),
    ] {
        let (code, out, err) = hookscope(&[&["history", "--store", p], flags].concat());
        assert_eq!(
            (code, out.lines().count(), err.as_str()),
            (0, lines, ""),
            "{flags:?}"
        );
    }
    let (code, _, err) = hookscope(&["history", "--store", p, "--all", "--limit", "3"]);
    assert_eq!(code, 2, "{err}");
    for (flags, said) in [
        (
            &["--type", "nope"][..],
            "hookscope: none of the 51 stored deliveries matches; stored types: a.b (51)\n",
        ),
        (
            &["--type", "a.*", "--since", "2999-01-01"],
            "hookscope: nothing matches: --since is in the future\n",
        ),
        (
            &["--failed"],
            "hookscope: none of the 51 stored deliveries matches\n",
        ),
        (
            &["--since", "2999-01-01"],
            "hookscope: nothing matches: --since is in the future\n",
        ),
    ] {
        let (code, out, err) = hookscope(&[&["history", "--store", p], flags].concat());
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "", said),
            "{flags:?}"
        );
    }
}

#[test]
fn history_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite3");
    let ds = seeded(&path);
    let p = path.to_str().unwrap();

    let (code, out, err) = hookscope(&["history", "--store", p]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with(&format!(
            "{}  2026-11-27 10:00:01  ✓ customer.created · evt_a (msg_a)",
            ds[0].seq
        )),
        "{out}"
    );
    assert!(lines[1].contains("✗ bad_signature · msg_b"), "{out}");

    let (_, out, _) = hookscope(&["history", "--store", p, "--failed", "--format", "json"]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["failure"], "bad_signature");
    assert_eq!(rows[1]["status"], 405);
    let (_, out, _) = hookscope(&[
        "history",
        "--store",
        p,
        "--type",
        "task.completed",
        "--limit",
        "5",
    ]);
    assert_eq!(out.lines().count(), 1);
    let (_, out, _) = hookscope(&["history", "--store", p, "--since", "2026-11-27T10:00:02.5Z"]);
    assert_eq!(out.lines().count(), 2);
    // Text anywhere a support ticket would quote it from: the body (either case), an id, the
    // path; with the other filters.
    let contains = |flags: &[&str]| {
        let (code, out, err) = hookscope(&[&["history", "--store", p], flags].concat());
        let ids: Vec<String> = out
            .lines()
            .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
            .collect();
        (code, ids, err)
    };
    let id = |i: usize| ds[i].seq.to_string();
    assert_eq!(contains(&["--contains", "ADA@example"]).1, [id(0), id(1)]);
    assert_eq!(contains(&["--contains", "evt_b"]).1, [id(1)]);
    assert_eq!(contains(&["--contains", "{\"BIN\""]).1, [id(2)]);
    assert_eq!(contains(&["--contains", "favicon"]).1, [id(3)]);
    assert_eq!(
        contains(&["--contains", "ada@example", "--failed"]).1,
        [id(1)]
    );
    let (code, out, _) = hookscope(&["export", "--store", p, "--contains", "evt_b"]);
    assert_eq!(code, 0);
    let exported: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported.len(), 1, "export takes it too: {out}");
    assert_eq!(exported[0]["msg_id"], "msg_b");
    let (code, ids, err) = contains(&["--contains", "grace@example"]);
    assert_eq!((code, ids.len()), (0, 0));
    assert_eq!(
        err,
        "hookscope: none of the 4 stored deliveries matches (--contains `grace@example` looks in the type, ids, path and body, letters in either case)\n"
    );

    let (code, out, _) = hookscope(&["show", "evt_b", "--store", p]);
    assert_eq!(code, 0);
    assert!(
        out.contains("verdict   bad_signature: no signature matched"),
        "{out}"
    );
    assert!(out.contains("svix-signature: v1,"), "{out}");
    assert!(
        out.contains("  \"type\": \"task.completed\","),
        "pretty body:\n{out}"
    );
    let (_, by_msg, _) = hookscope(&["show", "msg_b", "--store", p]);
    let (_, by_id, _) = hookscope(&["show", &ds[1].seq.to_string(), "--store", p]);
    assert_eq!(by_msg, out);
    assert_eq!(by_id, out);
    let (_, out, _) = hookscope(&["show", "msg_c", "--store", p]);
    assert!(
        out.contains("x-odd: caf\\xe9 \\x01"),
        "escaped header:\n{out}"
    );
    let (code, _, err) = hookscope(&["show", "evt_missing", "--store", p]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no delivery with id, message id or event id `evt_missing`"),
        "{err}"
    );
    // One id, one delivery: nothing said. A provider's retry of msg_b: the newest is shown,
    // and stderr says which others carry the id.
    let (_, _, err) = hookscope(&["show", "msg_b", "--store", p]);
    assert_eq!(err, "");
    let mut retry = ds[1].clone();
    retry.received_at += time::Duration::seconds(30);
    let mut store = Store::open(&path).unwrap();
    store.insert(&[&retry], "retry").unwrap();
    let newest = store.count().unwrap();
    drop(store);
    for key in ["msg_b", "evt_b"] {
        let (code, out, err) = hookscope(&["show", key, "--store", p]);
        assert_eq!(code, 0);
        assert!(out.starts_with("✗ bad_signature"), "{out}");
        assert_eq!(
            err,
            format!(
                "hookscope: 2 deliveries carry {key}: this is the newest, #{newest} (before it: #{}; give the store's id for another)\n",
                ds[1].seq
            )
        );
    }
    let (_, _, err) = hookscope(&["show", &ds[1].seq.to_string(), "--store", p]);
    assert_eq!(err, "", "asked for by the store's id");
    // Without an id: the newest, and stderr says which it is.
    let (code, out, err) = hookscope(&["show", "--store", p]);
    assert_eq!(code, 0, "{err}");
    let (_, by_id, _) = hookscope(&["show", &newest.to_string(), "--store", p]);
    assert_eq!(out, by_id);
    assert_eq!(
        err,
        format!(
            "hookscope: the newest delivery, #{newest} (give an id, msg_… or evt_… for another)\n"
        )
    );
}

#[test]
fn show_prints_the_body_or_one_json_object_for_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let ds = seeded(&path);
    let p = path.to_str().unwrap();
    let bytes_of = hookscope_bytes;
    // The body as received: not UTF-8, a NUL, CRLF; nothing said (stdout is a pipe here).
    let (code, out, err) = bytes_of(&["show", "msg_c", "--format", "body", "--store", p]);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, b"\xff\x00{\"bin\":1}\r\n");
    let (_, out, _) = bytes_of(&["show", "evt_a", "--format", "body", "--store", p]);
    assert_eq!(out, &ds[0].body[..]);
    // A GET has an empty body: nothing printed, and that is not an error.
    let (code, out, _) = bytes_of(&["show", "--format", "body", "--store", p]);
    assert_eq!((code, out.len()), (0, 0));

    // One JSON object, as export writes it: the body byte for byte, base64 where not UTF-8.
    let (code, out, _) = bytes_of(&["show", "msg_c", "--format", "json", "--store", p]);
    assert_eq!(code, 0);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["id"], ds[2].seq);
    assert_eq!(v["msg_id"], "msg_c");
    assert_eq!(v["path"], "/hooks/bin?a=1&b=two");
    assert_eq!(v["body"], Value::Null);
    let body = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        v["body_base64"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(body, b"\xff\x00{\"bin\":1}\r\n");
    let (_, out, _) = bytes_of(&["show", "evt_b", "--format", "json", "--store", p]);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["failure"], "bad_signature");
    let payload: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
    assert_eq!(payload["type"], "task.completed");
}

#[test]
fn show_with_a_secret_verifies_again_as_of_when_it_came() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.sqlite3");
    seeded(&path);
    let p = path.to_str().unwrap();
    // msg_b was signed with another secret than the one configured: is OTHER_SECRET the
    // endpoint's? Its timestamp is days old by now, but it is checked as of when it came.
    let (code, out, err) = hookscope(&["show", "msg_b", "--store", p]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("✗ bad_signature"), "{out}");
    let (code, out, err) = hookscope(&["show", "msg_b", "--store", p, "--secret", OTHER_SECRET]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\nverdict   verified with "), "{out}");
    assert_eq!(
        err,
        "hookscope: #2's verdict worked out again with --secret, as of when it came (its own: bad_signature)\n"
    );
    let (_, out, _) = hookscope(&[
        "show",
        "msg_b",
        "--store",
        p,
        "--format",
        "json",
        "--secret",
        OTHER_SECRET,
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], true);
    // And the one it got, with the secret that verified it, fails with another.
    let (_, out, _) = hookscope(&["show", "msg_a", "--store", p, "--secret", OTHER_SECRET]);
    assert!(out.starts_with("✗ bad_signature"), "{out}");
    // A GET has nothing to verify: said, and nothing printed.
    let (code, out, err) = hookscope(&["show", "--store", p, "--secret", SECRET]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.ends_with(
            "hookscope: #4 cannot be verified again: it is a GET, and only POSTs are verified\n"
        ),
        "{err}"
    );
    // The environment's secret is not taken for one given.
    let out = Command::new(BIN)
        .args(["show", "msg_b", "--store", p])
        .env("HOOKSCOPE_SECRET", OTHER_SECRET)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("✗ bad_signature"));
}

/// Adds a forwarded delivery (the app answered 202 with JSON), a replay of `first` and an edit
/// of it to the store at `path`; returns them as stored.
fn forwarded_and_replayed(path: &Path, first: &Delivery) -> Vec<Delivery> {
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:10 UTC));
    let mut forwarded = b.signed(SECRET, "msg_f", &event("order.paid", "evt_f"));
    forwarded.forward = Some(hookscope::forward::ForwardResult {
        url: "http://localhost:3000/webhooks".into(),
        status: Some(202),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-app".into(), "yes".into()),
        ],
        body: bytes::Bytes::from_static(b"{\"queued\":true}"),
        ms: 12,
        error: None,
        body_cut: false,
    });
    forwarded.response = hookscope::delivery::ResponseRecord {
        status: 202,
        body: "{\"queued\":true}".into(),
    };
    b.advance(1_000);
    let mut replay = first.clone();
    replay.received_at = b.at;
    replay.replay_of = Some(first.seq);
    replay.headers.push((
        hookscope::forward::REPLAY_HEADER.into(),
        first.seq.to_string().into(),
    ));
    b.advance(1_000);
    let mut edit = b.signed(SECRET, "msg_edit", &event("customer.created", "evt_edit"));
    edit.replay_of = Some(first.seq);
    edit.edited = true;
    edit.headers.push((
        hookscope::forward::EDIT_HEADER.into(),
        first.seq.to_string().into(),
    ));
    let mut store = Store::open(path).unwrap();
    store.insert(&[&forwarded, &replay, &edit], "seed").unwrap();
    let all = store.query(&Filter::default()).unwrap();
    all[all.len() - 3..].to_vec()
}

fn round_trip(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sqlite3");
    let b = dir.path().join("b.sqlite3");
    let file = dir.path().join(format!("out.{format}"));
    let mut original = seeded(&a);
    original.extend(forwarded_and_replayed(&a, &original[0]));
    // The importing store has a delivery already: imported ids shift, and a replay's link must
    // follow its original there.
    let mut b_store = Store::open(&b).unwrap();
    let mut earlier = original[1].clone();
    earlier.received_at -= time::Duration::minutes(1);
    b_store.insert(&[&earlier], "earlier").unwrap();
    drop(b_store);
    let (code, err) = export(&a, format, &file);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("exported 7 deliveries"), "{err}");
    if format == "har" {
        // The forwarded delivery's answer is the app's, as the sender got it.
        let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        let entry = &doc["log"]["entries"][4];
        assert_eq!(entry["response"]["status"], 202);
        assert_eq!(entry["response"]["content"]["mimeType"], "application/json");
        assert_eq!(entry["response"]["headers"][1]["name"], "x-app");
        assert_eq!(
            (&entry["time"], &entry["timings"]["wait"]),
            (&12.into(), &12.into())
        );
        let plain = &doc["log"]["entries"][0]["response"];
        assert_eq!(plain["content"]["mimeType"], "text/plain; charset=utf-8");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (code, err) = import(&file, &b);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("imported 7 deliveries"), "{err}");
    let imported = Store::open(&b).unwrap().query(&Filter::default()).unwrap();
    let imported = &imported[1..];
    assert_eq!(imported.len(), original.len());
    for (x, y) in original.iter().zip(imported) {
        same(x, y);
        assert_eq!(x.forward, y.forward, "what the app answered");
    }
    let [.., replay, edit] = imported else {
        unreachable!()
    };
    for re_sent in [replay, edit] {
        assert_eq!(
            re_sent.replay_of,
            Some(imported[0].seq),
            "linked to the original's new id"
        );
    }
    assert!(!replay.edited && edit.edited, "an edit is still one");
    let (code, history, _) = hookscope(&["history", "--store", b.to_str().unwrap()]);
    assert_eq!(code, 0);
    let of = format!("[replay of #{}]", imported[0].seq);
    assert!(
        history.lines().nth_back(1).unwrap().ends_with(&of),
        "{history}"
    );
    let of = format!("[edit of #{}]", imported[0].seq);
    assert!(history.lines().last().unwrap().ends_with(&of), "{history}");
    assert_ne!(imported[0].seq, original[0].seq, "the ids did shift");
    // The same file again stores nothing twice, and says so; so does an export imported into
    // the store it came from.
    for (store, held) in [(&b, "all 7 deliveries"), (&a, "all 7 deliveries")] {
        let (code, err) = import(&file, store);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            err,
            format!(
                "nothing imported: {} already holds {held} from {}\n",
                store.display(),
                file.display()
            )
        );
    }
    assert_eq!(Store::open(&b).unwrap().count().unwrap(), 8);
    assert_eq!(Store::open(&a).unwrap().count().unwrap(), 7);
    // Exporting refuses to overwrite.
    let (code, _, err) = hookscope(&[
        "export",
        "--store",
        a.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("already exists: export writes a new file"),
        "{err}"
    );
    let nowhere = file.with_file_name("no-such-folder").join("x.jsonl");
    let (code, _, err) = hookscope(&[
        "export",
        "--store",
        a.to_str().unwrap(),
        "-o",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("its folder does not exist"), "{err}");
    // /proc exists and makes no files: its "not found" is not about a missing folder.
    #[cfg(target_os = "linux")]
    {
        let (code, _, err) = hookscope(&[
            "export",
            "--store",
            a.to_str().unwrap(),
            "-o",
            "/proc/hookscope-export.jsonl",
        ]);
        assert_eq!(code, 2);
        assert!(
            err.starts_with("hookscope: cannot create /proc/hookscope-export.jsonl: ")
                && !err.contains("its folder does not exist"),
            "{err}"
        );
    }
}

/// An export that fails partway (here a file size limit, standing in for a full disk) leaves
/// no half file behind; `-o -` is stdout, and `-` imports from stdin.
#[cfg(unix)]
#[test]
fn an_export_that_fails_leaves_no_file_and_dash_means_the_standard_streams() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sqlite3");
    let mut store = Store::open(&a).unwrap();
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    // Control characters take six bytes each in the export (\u0001), one in the store: the
    // export outgrows the limit long before the store reaches it.
    let big = format!(
        "{{\"id\":\"evt_big\",\"pad\":\"{}\"}}",
        "\u{1}".repeat(300_000)
    );
    let ds: Vec<Delivery> = (0..3)
        .map(|i| b.signed(SECRET, &format!("msg_{i}"), big.as_bytes()))
        .collect();
    store
        .insert(&ds.iter().collect::<Vec<_>>(), "seed")
        .unwrap();
    drop(store);
    let file = dir.path().join("out.jsonl");
    // An ignored SIGXFSZ is inherited across exec: writes past the limit then fail with EFBIG.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f 1500; exec '{BIN}' export --store '{}' -o '{}'",
            a.display(),
            file.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("(the incomplete file: removed)") && err.contains("File too large"),
        "{err}"
    );
    assert!(!file.exists(), "no half export left behind");
    // `-o -` writes to stdout, not to a file named `-`.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["export", "--store", a.to_str().unwrap(), "-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.iter().filter(|&&c| c == b'\n').count(), 3);
    assert!(!dir.path().join("-").exists());
    // And `import -` reads stdin.
    let c = dir.path().join("c.sqlite3");
    let mut import = Command::new(BIN)
        .args(["import", "--store", c.to_str().unwrap(), "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut import.stdin.take().unwrap(), &out.stdout).unwrap();
    let done = import.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&done.stderr);
    assert!(said.contains("imported 3 deliveries"), "{said}");
    assert_eq!(
        Store::open(&c)
            .unwrap()
            .query(&Filter::default())
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn an_import_that_is_not_utf8_says_where_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (file, store) = (dir.path().join("bad.jsonl"), dir.path().join("s.sqlite3"));
    // The first line is a good delivery, read and stored before the second is: still nothing
    // is kept.
    std::fs::write(
        &file,
        b"{\"method\": \"POST\", \"path\": \"/\", \"headers\": [], \"received_at\": \"2026-11-27T10:00:00Z\"}\n{\"path\": \"/\xff\"}\n",
    )
    .unwrap();
    let (code, err) = import(&file, &store);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 2: not UTF-8 (byte 0xff at column 12)"),
        "{err}"
    );
    assert!(
        !store.exists()
            || Store::open(&store)
                .unwrap()
                .query(&Filter::default())
                .unwrap()
                .is_empty()
    );
}

#[test]
fn jsonl_export_import_round_trip_is_byte_exact() {
    round_trip("jsonl");
}

#[test]
fn a_body_refused_unread_keeps_its_size_through_export_and_import() {
    // Nothing of such a body is kept but its size (announced, or counted until it was
    // refused), which the list shows: both formats carry it back.
    use hookscope::verify::{Unchecked, Verdict};
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.sqlite3");
    let mut b = Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC));
    let mut refused = Vec::new();
    for (i, verdict) in [
        Unchecked::BodyTooLarge {
            limit: 16 << 20,
            size: 1 << 30,
            declared: true,
        },
        Unchecked::NoRoom {
            limit: 256 << 20,
            size: 70_000,
            declared: false,
        },
    ]
    .into_iter()
    .enumerate()
    {
        b.advance(1_000);
        let size = match verdict {
            Unchecked::BodyTooLarge { size, .. } | Unchecked::NoRoom { size, .. } => size,
            _ => unreachable!(),
        };
        let mut d = b.request("POST", &format!("/refused/{i}"), vec![], b"");
        d.body_size = size;
        d.verdict = Verdict::Unchecked(verdict);
        refused.push(d);
    }
    let mut store = Store::open(&a).unwrap();
    store
        .insert(&refused.iter().collect::<Vec<_>>(), "seed")
        .unwrap();
    let original = store.query(&Filter::default()).unwrap();
    drop(store);
    for format in ["jsonl", "har"] {
        let file = dir.path().join(format!("out.{format}"));
        let (code, err) = export(&a, format, &file);
        assert_eq!(code, 0, "{err}");
        let into = dir.path().join(format!("{format}.sqlite3"));
        let (code, err) = import(&file, &into);
        assert_eq!(code, 0, "{err}");
        let imported = Store::open(&into)
            .unwrap()
            .query(&Filter::default())
            .unwrap();
        assert_eq!(imported.len(), 2, "{format}");
        for (x, y) in original.iter().zip(&imported) {
            same(x, y);
        }
    }
}

#[test]
fn har_export_import_round_trip_is_byte_exact() {
    round_trip("har");
}

fn is_str(v: &Value) -> bool {
    v.is_string()
}

fn is_num(v: &Value) -> bool {
    v.is_number()
}

/// The required fields and types of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/).
fn validate_har(doc: &Value) {
    let log = &doc["log"];
    assert_eq!(log["version"], "1.2");
    assert!(is_str(&log["creator"]["name"]) && is_str(&log["creator"]["version"]));
    let entries = log["entries"].as_array().expect("entries");
    assert!(!entries.is_empty());
    let name_values = |v: &Value| {
        v.as_array()
            .expect("a list")
            .iter()
            .all(|nv| is_str(&nv["name"]) && is_str(&nv["value"]))
    };
    for e in entries {
        assert!(
            time::OffsetDateTime::parse(
                e["startedDateTime"].as_str().unwrap(),
                &time::format_description::well_known::Rfc3339
            )
            .is_ok()
        );
        assert!(is_num(&e["time"]));
        let r = &e["request"];
        assert!(is_str(&r["method"]) && is_str(&r["url"]) && is_str(&r["httpVersion"]));
        assert!(r["url"].as_str().unwrap().starts_with("http://"));
        assert!(
            r["cookies"].is_array() && name_values(&r["headers"]) && name_values(&r["queryString"])
        );
        assert!(is_num(&r["headersSize"]) && is_num(&r["bodySize"]));
        if let Some(pd) = r.get("postData") {
            assert!(is_str(&pd["mimeType"]) && is_str(&pd["text"]));
        }
        let s = &e["response"];
        assert!(is_num(&s["status"]) && is_str(&s["statusText"]) && is_str(&s["httpVersion"]));
        assert!(s["cookies"].is_array() && name_values(&s["headers"]));
        assert!(is_num(&s["content"]["size"]) && is_str(&s["content"]["mimeType"]));
        assert!(is_str(&s["redirectURL"]) && is_num(&s["headersSize"]) && is_num(&s["bodySize"]));
        assert!(e["cache"].is_object());
        for t in ["send", "wait", "receive"] {
            assert!(is_num(&e["timings"][t]), "timings.{t}");
        }
    }
}

#[test]
fn har_output_has_the_har_1_2_structure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite3");
    seeded(&path);
    let (code, out, _) = hookscope(&[
        "export",
        "--store",
        path.to_str().unwrap(),
        "--format",
        "har",
    ]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    validate_har(&doc);
    let bin = &doc["log"]["entries"][2]["request"];
    assert_eq!(bin["url"], "http://abc.ngrok-free.app/hooks/bin?a=1&b=two");
    assert_eq!(bin["queryString"][1]["value"], "two");
}

#[test]
fn a_har_from_another_tool_is_verified_on_import_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let body = String::from_utf8(event("customer.created", "evt_h")).unwrap();
    let ts = 1_795_773_600; // 2026-11-27T10:00:00Z
    // A browser's HAR of an HTTP/2 request lists the request line as pseudo-headers.
    let pseudo = [
        (":authority", "x.example"),
        (":method", "POST"),
        (":path", "/hooks?a=1"),
        (":scheme", "https"),
    ];
    let headers: Vec<Value> = pseudo
        .iter()
        .map(|(n, v)| serde_json::json!({"name": n, "value": v}))
        .chain(
            signed_headers(SECRET, "msg_h", ts, body.as_bytes())
                .into_iter()
                .map(
                    |(n, v)| serde_json::json!({"name": n, "value": String::from_utf8(v).unwrap()}),
                ),
        )
        .collect();
    let har = serde_json::json!({"log": {"version": "1.2", "creator": {"name": "devtools", "version": "1"}, "entries": [{
        "startedDateTime": "2026-11-27T10:00:01Z", "time": 3,
        "request": {"method": "POST", "url": "https://x.example/hooks?a=1", "httpVersion": "http/2.0", "cookies": [],
            "headers": headers, "queryString": [], "headersSize": -1, "bodySize": body.len(),
            "postData": {"mimeType": "application/json", "text": body}},
        "response": {"status": 200, "statusText": "", "httpVersion": "http/2.0", "cookies": [], "headers": [],
            "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}]}});
    let file = dir.path().join("devtools.har");
    std::fs::write(&file, serde_json::to_vec(&har).unwrap()).unwrap();
    let store = dir.path().join("s.sqlite3");
    let (code, _, err) = hookscope(&[
        "import",
        file.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--secret",
        SECRET,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("imported 1 delivery into"), "{err}");
    let d = &Store::open(&store)
        .unwrap()
        .query(&Filter::default())
        .unwrap()[0];
    assert_eq!(d.path, "/hooks?a=1");
    // The HAR's answer has no body: `show` says the status's reason.
    let (_, out, _) = hookscope(&["show", "msg_h", "--store", store.to_str().unwrap()]);
    assert!(out.contains("\nanswered  200 OK\n"), "{out}");
    assert_eq!(
        d.verdict.verified(),
        Some(true),
        "verified as of when it was received: {:?}",
        d.verdict
    );
    // Replayed, it is a plain HTTP/1 request: no header named `:authority` (which hyper cannot
    // send, so the replay failed with "invalid HTTP header name").
    let app = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = format!("http://{}", app.local_addr().unwrap());
    let seen = std::thread::spawn(move || {
        let (mut conn, _) = app.accept().unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while !got.ends_with(body.as_bytes()) {
            let n = std::io::Read::read(&mut conn, &mut buf).unwrap();
            assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        std::io::Write::write_all(&mut conn, b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .unwrap();
        String::from_utf8(got).unwrap()
    });
    let (code, out, err) = hookscope(&[
        "replay",
        "msg_h",
        "--to",
        &to,
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let request = seen.join().unwrap();
    assert!(
        request.starts_with("POST /hooks?a=1 HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request.contains("svix-id: msg_h\r\n"), "{request}");
    assert!(!request.contains("\n:"), "{request}");
    // A broken file says where.
    std::fs::write(&file, b"{\"id\":1}\nnot json\n").unwrap();
    let (code, err) = import(&file, &store);
    assert_eq!(code, 2);
    assert!(err.contains("line 1") || err.contains("line 2"), "{err}");
    // An empty one says so rather than "imported 0 deliveries (ids 0–0)".
    std::fs::write(&file, b"").unwrap();
    let (code, err) = import(&file, &store);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("holds no deliveries: nothing imported"),
        "{err}"
    );
    // A folder is not read as one.
    let folder = file.parent().unwrap();
    let (code, err) = import(folder, &store);
    assert_eq!(code, 2);
    assert!(
        err.contains("is a folder: import takes a file written by export"),
        "{err}"
    );
}

#[test]
fn an_unusable_store_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.sqlite3");
    std::fs::write(&bad, vec![b'x'; 4096]).unwrap();
    let (code, _, err) = hookscope(&[
        "--headless",
        "--port",
        "0",
        "--store",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.sqlite3") && err.contains("move it aside"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&bad).unwrap(),
        vec![b'x'; 4096],
        "left as it was"
    );
    let (code, _, err) = hookscope(&[
        "history",
        "--store",
        dir.path().join("none.sqlite3").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no store at"), "{err}");
}

#[test]
fn two_hookscope_processes_share_one_store_without_corrupting_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shared.sqlite3");
    let store_arg = store.to_str().unwrap().to_string();
    let mut servers = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let (child, url) = common::spawn_listening(
            common::headless_json(&["--store", &store_arg]).stdout(Stdio::null()),
        );
        urls.push(url);
        servers.push(child);
    }
    let senders: Vec<_> = urls
        .iter()
        .map(|url| {
            Command::new(BIN)
                .args([
                    "send", "--to", url, "--secret", SECRET, "-n", "300", "-c", "16", "-q",
                ])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for s in senders {
        let out = s.wait_with_output().unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("· 2xx 300 ·"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let store = Store::open(&store).unwrap();
    store.check_integrity().unwrap();
    assert_eq!(store.count().unwrap(), 600);
}

/// 60 signed bodies of 20 KiB sent to a headless hookscope (lines in `format`) whose store
/// cannot grow past 200 KiB: a file-size limit (ulimit -f, in 512-byte blocks for sh) stands
/// in for a full disk, SQLite's writes past it failing (SIGXFSZ ignored, so they fail rather
/// than kill). Returns what `send` printed, hookscope's 60 lines, and the store's message ids.
fn sixty_into_a_full_store(format: &str) -> (String, Vec<String>, HashSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("full.sqlite3");
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "ulimit -f 400; trap '' XFSZ; exec \"$0\" \"$@\"", BIN])
        .args([
            "--headless",
            "--port",
            "0",
            "--secret",
            SECRET,
            "--format",
            format,
        ])
        .args(["--store", store.to_str().unwrap()])
        .env_remove("HOOKSCOPE_SECRET")
        .env_remove("PIVOTAL_WEBHOOK_SECRET")
        .stdout(Stdio::piped());
    let (mut server, url) = common::spawn_listening(&mut cmd);
    let body = dir.path().join("big.json");
    let payload =
        serde_json::json!({"id": "evt_big", "type": "big.event", "data": "x".repeat(20_000)});
    std::fs::write(&body, payload.to_string()).unwrap();
    let sent = Command::new(BIN)
        .args(["send", "--to", &url, "--secret", SECRET, "-n", "60"])
        .args(["--data", &format!("@{}", body.display())])
        .output()
        .unwrap();
    let lines: Vec<String> = BufReader::new(server.stdout.take().unwrap())
        .lines()
        .take(60)
        .map_while(Result::ok)
        .collect();
    server.kill().unwrap();
    server.wait().unwrap();
    let stored = Store::open(&store)
        .unwrap()
        .query(&Filter::default())
        .unwrap()
        .into_iter()
        .filter_map(|d| d.msg_id)
        .collect();
    (
        String::from_utf8_lossy(&sent.stdout).into_owned(),
        lines,
        stored,
    )
}

#[test]
fn a_store_that_cannot_write_refuses_with_503_says_why_and_loses_nothing_acknowledged() {
    let (said, lines, stored) = sixty_into_a_full_store("human");
    let answered = |status: &str| -> Vec<String> {
        said.lines()
            .filter(|l| l.starts_with(status))
            .filter_map(|l| l.split(" · ").nth(1)?.split_whitespace().next())
            .map(str::to_string)
            .collect()
    };
    let (ok, refused) = (
        answered("200 "),
        answered("503 could not store the delivery: "),
    );
    assert!(!refused.is_empty(), "the limit was never reached: {said}");
    assert_eq!(ok.len() + refused.len(), 60, "{said}");
    // Each refused one's line says what its sender got and why, though its signature verified.
    let flagged = lines
        .iter()
        .filter(|l| {
            l.starts_with("✓ big.event")
                && l.contains(" · answered 503: could not store the delivery: ")
        })
        .count();
    assert_eq!(flagged, refused.len(), "{lines:#?}");
    // Every delivery answered 200 is in the store.
    let lost: Vec<&String> = ok.iter().filter(|m| !stored.contains(*m)).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
}

#[test]
fn a_delivery_the_store_could_not_keep_has_no_id() {
    // Its number in the run could be the store's id of another delivery (a replay of it would
    // be linked to that one): seq 0. The stored ones carry their store ids, each once.
    let (said, lines, stored) = sixty_into_a_full_store("json");
    let json: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (refused, kept): (Vec<&Value>, Vec<&Value>) = json.iter().partition(|j| j["status"] == 503);
    assert!(!refused.is_empty() && !kept.is_empty(), "{said}");
    assert!(refused.iter().all(|j| j["seq"] == 0), "{refused:#?}");
    // And says why, where a verified one answered as its verdict says has no answer text.
    assert!(
        refused.iter().all(|j| j["answer"]
            .as_str()
            .is_some_and(|a| a.starts_with("could not store the delivery: "))),
        "{refused:#?}"
    );
    assert!(kept.iter().all(|j| j["answer"].is_null()), "{kept:#?}");
    let ids: HashSet<u64> = kept.iter().map(|j| j["seq"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), kept.len(), "{kept:#?}");
    assert!(!ids.contains(&0));
    assert_eq!(stored.len(), kept.len());
}

#[test]
fn the_secret_is_in_nothing_hookscope_writes() {
    // Every kind of verdict goes through the real binary; then its stdout, the store file, what
    // history, show and both export formats write are searched for the secret: its text (any 8
    // characters of it in a row: the masked label shows 4 and 3) and its key's bytes.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.sqlite3");
    let p = store.to_str().unwrap();
    let (mut server, url) = common::spawn_listening(&mut common::headless_json(&["--store", p]));
    for fault in [
        None,
        Some("--tamper"),
        Some("--stale"),
        Some("--wrong-secret"),
    ] {
        let mut args = vec!["send", "--to", &url, "--secret", SECRET];
        args.extend(fault);
        hookscope(&args);
    }
    let (_, sent, _) = hookscope(&[
        "send",
        "--to",
        &url,
        "--secret",
        SECRET,
        "--headers",
        "webhook",
    ]);
    assert!(sent.starts_with("200 ok"), "{sent}");
    common::signal(server.id(), "TERM");
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut server.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(server.wait().unwrap().success());
    assert_eq!(stdout.lines().count(), 5, "{stdout}");

    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), stdout.into_bytes()),
        ("store".into(), std::fs::read(&store).unwrap()),
    ];
    for args in [
        &["history", "--store", p][..],
        &["history", "--store", p, "--format", "json"],
        &["export", "--store", p],
        &["export", "--store", p, "--format", "har"],
    ] {
        let (code, out, err) = hookscope(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        written.push((format!("{args:?}"), (out + &err).into_bytes()));
    }
    for id in 1..=5 {
        let (code, out, err) = hookscope(&["show", &id.to_string(), "--store", p]);
        assert_eq!(code, 0, "{err}");
        written.push((format!("show {id}"), (out + &err).into_bytes()));
    }
    let text = SECRET.strip_prefix("whsec_").unwrap().as_bytes();
    let key = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
    for (what, bytes) in &written {
        for window in text.windows(8) {
            assert!(
                !bytes.windows(8).any(|w| w == window),
                "{what} holds part of the secret: {}",
                String::from_utf8_lossy(window)
            );
        }
        assert!(
            !bytes.windows(key.len()).any(|w| w == key),
            "{what} holds the secret's key bytes"
        );
    }
    // The masked label is there: the check above is not passing for want of anything written.
    assert!(String::from_utf8_lossy(&written[0].1).contains("whsec_MfKQ…aSw"));
}
