//! The store on real files in a temporary folder.

use super::*;
use crate::testing::{Builder, event};
use crate::verify::Verdict;
use time::macros::datetime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("deliveries.sqlite3");
    (dir, path)
}

fn sample(b: &mut Builder) -> Vec<Delivery> {
    let mut out = Vec::new();
    b.advance(1000);
    out.push(b.signed(SECRET, "msg_a", &event("customer.created", "evt_a")));
    b.advance(1000);
    out.push(b.signed(OTHER, "msg_b", &event("task.completed", "evt_b")));
    b.advance(1000);
    let mut headers =
        crate::testing::signed_headers(SECRET, "msg_c", b.at.unix_timestamp(), b"\xff\x00bin");
    headers.insert(0, ("x-first".into(), b"\x01\xfe".to_vec()));
    out.push(b.request("POST", "/bin?x=1", headers, b"\xff\x00bin"));
    b.advance(1000);
    out.push(b.request("GET", "/favicon.ico", vec![], b""));
    out
}

fn builder() -> Builder {
    Builder::new(&[SECRET], datetime!(2026-11-27 10:00:00 UTC))
}

fn same(a: &Delivery, b: &Delivery) {
    assert_eq!(a.received_at, b.received_at);
    assert_eq!(a.method, b.method);
    assert_eq!(a.path, b.path);
    assert_eq!(a.version, b.version);
    assert_eq!(a.remote, b.remote);
    assert_eq!(a.headers, b.headers);
    assert_eq!(a.body, b.body);
    assert_eq!(a.body_size, b.body_size);
    assert_eq!(a.msg_id, b.msg_id);
    assert_eq!(a.event_id, b.event_id);
    assert_eq!(a.event_type, b.event_type);
    assert_eq!(a.verdict, b.verdict);
    assert_eq!(a.response, b.response);
}

#[test]
fn round_trips_everything_the_receiver_recorded() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let ds = sample(&mut builder());
    let ids = store.insert(&ds.iter().collect::<Vec<_>>(), "s1").unwrap();
    assert_eq!(ids.len(), 4);
    let back = store.query(&Filter::default()).unwrap();
    assert_eq!(back.len(), 4);
    for (a, b) in ds.iter().zip(&back) {
        same(a, b);
        assert!(b.stored);
    }
    assert_eq!(back[0].seq, ids[0] as u64);
    assert!(matches!(back[1].verdict, Verdict::Failed(_)));
    // Light rows carry everything but the body.
    let light = store.query_light(&Filter::default()).unwrap();
    assert!(light.iter().all(|d| d.body.is_empty()));
    assert_eq!(light[0].event_id.as_deref(), Some("evt_a"));
    assert_eq!(light[2].body_size, 5);
    assert_eq!(
        store.get(ids[2]).unwrap().map(|d| d.body).as_deref(),
        Some(&b"\xff\x00bin"[..])
    );
}

#[cfg(unix)]
#[test]
fn the_file_and_folder_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    store.insert(&[&sample(&mut builder())[0]], "s").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    let wal = path.with_extension("sqlite3-wal");
    let wal_mode = std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        wal_mode, 0o600,
        "SQLite gives the WAL the database file's permissions"
    );
}

#[test]
fn filters() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let ds = sample(&mut builder());
    store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();
    let q = |f: Filter| {
        let all = store.query(&f).unwrap();
        // What an export streams is what a query returns, in full and in the same order.
        let mut streamed = Vec::new();
        store
            .for_each(&f, |d| {
                streamed.push(d);
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(streamed.len(), all.len(), "{f:?}");
        for (a, b) in all.iter().zip(&streamed) {
            assert_eq!((a.seq, &a.headers, &a.body), (b.seq, &b.headers, &b.body));
        }
        all.into_iter()
            .map(|d| d.msg_id.unwrap_or(d.path))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        q(Filter {
            event_type: Some("task.completed".into()),
            ..Default::default()
        }),
        vec!["msg_b"]
    );
    assert_eq!(
        q(Filter {
            failed: true,
            ..Default::default()
        }),
        vec!["msg_b", "/favicon.ico"]
    );
    assert_eq!(
        q(Filter {
            limit: Some(2),
            ..Default::default()
        }),
        vec!["msg_c", "/favicon.ico"]
    );
    assert_eq!(
        q(Filter {
            since: Some(datetime!(2026-11-27 10:00:02.5 UTC)),
            ..Default::default()
        }),
        vec!["msg_c", "/favicon.ico"]
    );
    assert_eq!(
        q(Filter {
            text: Some("ADA@EXAMPLE".into()),
            ..Default::default()
        }),
        vec!["msg_a", "msg_b"]
    );
    assert_eq!(
        q(Filter {
            text: Some("favicon".into()),
            ..Default::default()
        }),
        vec!["/favicon.ico"]
    );
    assert_eq!(store.search_ids("evt_b").unwrap().len(), 1);
    // The limit counts after the other filters, as in a query.
    assert_eq!(
        q(Filter {
            failed: true,
            limit: Some(1),
            ..Default::default()
        }),
        vec!["/favicon.ico"]
    );
    assert_eq!(
        q(Filter {
            event_type: Some("nothing.such".into()),
            limit: Some(3),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    // A pattern picks a family of types; without one, a type is matched whole.
    assert_eq!(
        q(Filter {
            event_type: Some("customer.*".into()),
            ..Default::default()
        }),
        vec!["msg_a"]
    );
    assert_eq!(
        q(Filter {
            event_type: Some("customer.".into()),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        q(Filter {
            event_type: Some("Customer.*".into()),
            ..Default::default()
        }),
        Vec::<String>::new()
    );
    // What a --type that matched nothing could have been: the most frequent first.
    assert_eq!(
        store.types(10).unwrap(),
        vec![
            ("customer.created".to_string(), 1),
            ("task.completed".to_string(), 1)
        ]
    );
    assert_eq!(store.types(1).unwrap().len(), 1);
    // The one handed deliveries can stop it, with its own error.
    let mut seen = 0;
    let stopped = store.for_each(&Filter::default(), |_| {
        seen += 1;
        if seen == 2 {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    });
    assert!(matches!(stopped, Err(StoreError::Closed)));
    assert_eq!(seen, 2);
}

#[test]
fn find_by_store_id_message_id_or_event_id() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let ds = sample(&mut builder());
    let ids = store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();
    assert_eq!(
        store
            .find(&ids[1].to_string())
            .unwrap()
            .unwrap()
            .msg_id
            .as_deref(),
        Some("msg_b")
    );
    assert_eq!(store.find("msg_a").unwrap().unwrap().seq, ids[0] as u64);
    assert_eq!(store.find("evt_b").unwrap().unwrap().seq, ids[1] as u64);
    assert!(store.find("evt_nope").unwrap().is_none());
}

#[test]
fn retention_prunes_by_count_and_age() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let ds: Vec<Delivery> = (0..50)
        .map(|i| {
            b.advance(3_600_000); // an hour apart
            b.signed(SECRET, &format!("m{i}"), b"{}")
        })
        .collect();
    store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();
    let now = b.at;
    let removed = store
        .prune(
            Retention {
                max_count: Some(30),
                max_days: None,
            },
            now,
        )
        .unwrap();
    assert_eq!((removed, store.count().unwrap()), (20, 30));
    let left = store.query(&Filter::default()).unwrap();
    assert_eq!(left[0].msg_id.as_deref(), Some("m20"), "the oldest went");
    let removed = store
        .prune(
            Retention {
                max_count: None,
                max_days: Some(1),
            },
            now,
        )
        .unwrap();
    assert_eq!(store.count().unwrap(), 25, "{removed} removed");
    assert_eq!(
        store
            .prune(
                Retention {
                    max_count: Some(100),
                    max_days: None
                },
                now
            )
            .unwrap(),
        0
    );
}

/// The one text column `sql` selects, every row of it.
fn names(store: &Store, sql: &str) -> Vec<String> {
    store
        .conn
        .prepare(sql)
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn migrates_a_store_from_the_first_schema() {
    let (_dir, path) = temp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::migrate_to(&conn, 1).unwrap();
        let d = &sample(&mut builder())[0];
        let row = codec::Row::from_delivery(d, "old");
        let v1_params: Vec<_> = row.params().into_iter().take(17).collect();
        conn.execute(codec::INSERT_V1, rusqlite::params_from_iter(v1_params))
            .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
    }
    let store = Store::open(&path).unwrap();
    let v: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::LATEST);
    let back = store.query(&Filter::default()).unwrap();
    assert_eq!(back.len(), 1);
    same(&back[0], &sample(&mut builder())[0]);
    let cols = names(&store, "SELECT name FROM pragma_table_info('deliveries')");
    assert!(cols.contains(&"forward".to_string()) && cols.contains(&"replay_of".to_string()));
}

#[test]
fn the_fourth_schema_puts_bodies_last_and_keeps_every_row_and_id() {
    let (_dir, path) = temp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ds = sample(&mut builder());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        schema::migrate_to(&conn, 3).unwrap();
        for d in &ds {
            let row = codec::Row::from_delivery(d, "old");
            conn.execute(codec::INSERT, rusqlite::params_from_iter(row.params()))
                .unwrap();
        }
        // The newest was deleted: its id must not be given out again.
        conn.execute("DELETE FROM deliveries WHERE id = 4", [])
            .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let cols = names(&store, "SELECT name FROM pragma_table_info('deliveries')");
    assert_eq!(cols[cols.len() - 2..], ["headers", "body"], "{cols:?}");
    let back = store.query(&Filter::default()).unwrap();
    assert_eq!(back.iter().map(|d| d.seq).collect::<Vec<_>>(), [1, 2, 3]);
    for (a, b) in ds.iter().zip(&back) {
        same(a, b);
    }
    let indexes = names(
        &store,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' ORDER BY name",
    );
    assert_eq!(
        indexes,
        [
            "deliveries_event_id",
            "deliveries_id",
            "deliveries_msg_id",
            "deliveries_received_at"
        ]
    );
    let ids = store.insert(&[&ds[0]], "new").unwrap();
    assert_eq!(ids, [5], "after the deleted 4, as before the migration");
}

#[test]
fn refuses_stores_it_cannot_use_with_advice() {
    let (_dir, path) = temp();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        b"this is not a database, it is a text file that is long enough to have a header page....",
    )
    .unwrap();
    let err = Store::open(&path).err().expect("garbage refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("move it aside"), "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap()[..4],
        *b"this",
        "the file is left untouched"
    );

    let folder = path.with_file_name("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let err = Store::open(&folder).err().expect("a folder refused");
    assert_eq!(
        err.to_string(),
        format!(
            "the store {0} is a folder: --store takes a file in it (e.g. {0}/deliveries.sqlite3)",
            folder.display()
        )
    );
    assert!(matches!(
        Store::open_existing(&folder),
        Err(StoreError::Folder { .. })
    ));
    // `--store /dev/null` for "keep nothing": said, and --no-store named, not "disk I/O error".
    #[cfg(unix)]
    for open in [Store::open, Store::open_existing] {
        let err = open(std::path::Path::new("/dev/null"))
            .err()
            .expect("refused");
        assert!(matches!(err, StoreError::NotAFile { .. }), "{err}");
        assert!(err.to_string().contains("use --no-store"), "{err}");
    }

    let newer = path.with_file_name("newer.sqlite3");
    {
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    let err = Store::open(&newer).err().expect("newer schema refused");
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );

    let err = Store::open_existing(&path.with_file_name("missing.sqlite3"))
        .err()
        .unwrap();
    assert!(err.to_string().contains("no store at"), "{err}");

    let blocked = path.parent().unwrap().join("file-not-dir");
    std::fs::write(&blocked, b"x").unwrap();
    let err = Store::open(&blocked.join("store.sqlite3")).err().unwrap();
    assert!(
        matches!(err, StoreError::Open { .. } | StoreError::CreateDir { .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_answers_every_concurrent_append() {
    let (_dir, path) = temp();
    let (writer, _closing) =
        Writer::start(Store::open(&path).unwrap(), Retention::default()).unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = builder();
            let mut ids = Vec::new();
            for i in 0..50 {
                ids.push(
                    writer
                        .append(b.signed(SECRET, &format!("t{t}-{i}"), b"{}"))
                        .await
                        .unwrap(),
                );
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 400);
    assert_eq!(Store::open(&path).unwrap().count().unwrap(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_writer_keeps_the_store_near_its_retention() {
    let (_dir, path) = temp();
    let retention = Retention {
        max_count: Some(1000),
        max_days: None,
    };
    let (writer, _closing) = Writer::start(Store::open(&path).unwrap(), retention).unwrap();
    let mut tasks = Vec::new();
    for t in 0..8 {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = builder();
            for i in 0..500 {
                writer
                    .append(b.signed(SECRET, &format!("t{t}-{i}"), b"{}"))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let held = Store::open(&path).unwrap().count().unwrap();
    // Pruned in steps of 256 here: never fewer than asked, never more than a step over.
    assert!((1000..=1256).contains(&held), "{held} held");
}

#[test]
fn pruning_to_a_count_is_exact_when_ids_have_gaps() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let ds: Vec<Delivery> = (0..50)
        .map(|i| b.signed(SECRET, &format!("m{i}"), b"{}"))
        .collect();
    store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();
    // Rows removed from the middle (by another tool, say): 40 left, ids still span 50.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("DELETE FROM deliveries WHERE id BETWEEN 11 AND 20", [])
        .unwrap();
    let keep = |n| Retention {
        max_count: Some(n),
        max_days: None,
    };
    assert_eq!(store.prune(keep(45), b.at).unwrap(), 0);
    assert_eq!(store.count().unwrap(), 40);
    assert_eq!(store.prune(keep(30), b.at).unwrap(), 10);
    let left = store.query(&Filter::default()).unwrap();
    assert_eq!(left.len(), 30);
    assert_eq!(left[0].msg_id.as_deref(), Some("m20"), "the oldest went");
}

#[test]
fn two_writers_on_one_file_do_not_corrupt_it() {
    let (_dir, path) = temp();
    Store::open(&path).unwrap();
    let handles: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&path).unwrap();
                let mut b = builder();
                for i in 0..100 {
                    let d = b.signed(SECRET, &format!("w{w}-{i}"), b"{}");
                    store.insert(&[&d], "s").unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.count().unwrap(), 200);
    store.check_integrity().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_wal_stays_bounded_under_a_steady_stream_of_writes() {
    // Passive checkpoints alone never catch up with a WAL that is always being appended to,
    // and SQLite only rewinds a fully checkpointed WAL: it grew by every byte written.
    let (_dir, path) = temp();
    let retention = Retention {
        max_count: Some(200),
        max_days: None,
    };
    let (writer, _closing) = Writer::start(Store::open(&path).unwrap(), retention).unwrap();
    let body = format!(
        r#"{{"id":"evt_w","type":"a","pad":"{}"}}"#,
        "x".repeat(128 << 10)
    );
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (writer, body) = (writer.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut b = builder();
            // 8 × 300 × 128 KiB: ~300 MiB through the WAL, without a pause.
            for i in 0..300 {
                writer
                    .append(b.signed(SECRET, &format!("t{t}-{i}"), body.as_bytes()))
                    .await
                    .unwrap();
            }
        }));
    }
    let wal = path.with_extension("sqlite3-wal");
    let mut largest = 0;
    for t in tasks {
        while !t.is_finished() {
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        t.await.unwrap();
    }
    // The limit, plus what arrives while a checkpoint runs.
    assert!(
        largest < 2 * WAL_LIMIT,
        "the WAL reached {} MiB",
        largest >> 20
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_reader_does_not_hold_commits_while_the_wal_is_rewound() {
    // A rewind waits for readers of the WAL to finish while holding off writers. A reader on an
    // old snapshot for seconds (a long search on the inspector's read connection) must not
    // hold every commit, and so every answer, for as long.
    let (_dir, path) = temp();
    let retention = Retention {
        max_count: Some(100),
        max_days: None,
    };
    let (writer, _closing) = Writer::start(Store::open(&path).unwrap(), retention).unwrap();
    let mut b = builder();
    writer
        .append(b.signed(SECRET, "msg_first", b"{}"))
        .await
        .unwrap();
    let reader = Store::open(&path).unwrap();
    // The reader holds its snapshot until the writes are done (or 20 s).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let held = std::thread::spawn(move || {
        reader.conn.execute_batch("BEGIN").unwrap();
        let n: i64 = reader
            .conn
            .query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))
            .unwrap();
        let _ = finished.recv_timeout(std::time::Duration::from_secs(20));
        reader.conn.execute_batch("COMMIT").unwrap();
        n
    });
    let body = format!(r#"{{"id":"evt_r","pad":"{}"}}"#, "x".repeat(256 << 10));
    let mut slowest = std::time::Duration::ZERO;
    // Twice the WAL limit: the checkpointer tries to rewind while the reader holds.
    for i in 0..2 * WAL_LIMIT / (256 << 10) {
        let d = b.signed(SECRET, &format!("msg_{i}"), body.as_bytes());
        let asked = std::time::Instant::now();
        writer.append(d).await.unwrap();
        slowest = slowest.max(asked.elapsed());
    }
    let _ = done.send(());
    assert_eq!(held.join().unwrap(), 1);
    assert!(
        slowest < std::time::Duration::from_secs(1),
        "a commit waited {slowest:?} for the reader"
    );
}

#[test]
fn a_connection_waits_for_a_lock_held_briefly_then_proceeds() {
    let (_dir, path) = temp();
    let holder = Store::open(&path).unwrap();
    let mut waiter = Store::open(&path).unwrap();
    holder.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        holder.conn.execute_batch("COMMIT").unwrap();
    });
    // Blocked for ~100 ms by the holder's write lock: the busy handler keeps trying.
    let mut b = builder();
    let ids = waiter
        .insert(&[&b.signed(SECRET, "msg_w", b"{}")], "s")
        .expect("insert once the lock is free");
    assert_eq!(ids.len(), 1);
    release.join().unwrap();
    assert!(!wait_briefly(20_000), "gives up after 5 s of tries");
}

#[test]
fn a_refused_head_round_trips_even_without_a_request_line() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let mut seen = b.request(
        "POST",
        "/evil",
        vec![("svix-id".into(), b"m\x1b".to_vec())],
        b"",
    );
    let mut unseen = b.request("", "", vec![], b"");
    unseen.version = "".into();
    for (d, status) in [(&mut seen, 400), (&mut unseen, 431)] {
        d.verdict = Verdict::Unchecked(crate::verify::Unchecked::Malformed {
            reason: "the header `svix-id` holds byte 0x1b".into(),
        });
        d.response = crate::delivery::ResponseRecord {
            status,
            body: "".into(),
        };
    }
    // And a head that never ended, which nothing answered.
    let mut stalled = b.request("POST", "/half", vec![], b"");
    stalled.verdict = Verdict::Unchecked(crate::verify::Unchecked::HeadIncomplete {
        received: 30,
        ms: 30_000,
    });
    stalled.response.status = 0;
    store.insert(&[&seen, &unseen, &stalled], "s1").unwrap();
    let back = store.query(&Filter::default()).unwrap();
    same(&seen, &back[0]);
    same(&unseen, &back[1]);
    same(&stalled, &back[2]);
    assert_eq!(back[1].target(), "(request line not seen)");
}

#[test]
fn hookscopes_opening_a_new_store_at_once_all_open_it() {
    // Two terminals started together on the default store: one created the file under the
    // other (File exists), or asked for WAL mode while the other held the file (SQLite
    // answers that at once, without waiting), and the second refused to start: "busy".
    for _ in 0..30 {
        let (_dir, path) = temp();
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            let opened: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        Store::open(&path).map(|_| ())
                    })
                })
                .collect();
            for o in opened {
                o.join().unwrap().unwrap();
            }
        });
    }
}

#[test]
fn a_search_can_be_stopped_from_another_thread() {
    // Enough bodies that a search of them takes a while: 120 of 512 KiB.
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let body = vec![b'x'; 512 * 1024];
    let ds: Vec<Delivery> = (0..120)
        .map(|i| b.request("POST", &format!("/{i}"), vec![], &body))
        .collect();
    store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();
    let searcher = Store::open(&path).unwrap();
    let interrupter = searcher.interrupter();
    // Nothing runs yet: stopping now stops nothing that comes later.
    interrupter.interrupt();
    assert_eq!(
        searcher.search_ids("no such text").unwrap(),
        Vec::<i64>::new()
    );
    let done = std::sync::atomic::AtomicBool::new(false);
    let (found, searcher) = std::thread::scope(|s| {
        let search = s.spawn(|| {
            let found = searcher.search_ids("no such text");
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            (found, searcher)
        });
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            interrupter.interrupt();
            std::thread::sleep(Duration::from_micros(200));
        }
        search.join().unwrap()
    });
    assert!(matches!(found, Err(StoreError::Interrupted)), "{found:?}");
    // The connection serves the next search as usual, and the loads' connection never noticed.
    assert_eq!(
        searcher.search_ids("no such text").unwrap(),
        Vec::<i64>::new()
    );
    assert_eq!(store.count().unwrap(), 120);
}

#[test]
fn an_import_keeps_all_once_committed_and_nothing_if_not() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    // One delivery there before: imported ids shift past it.
    store.insert(&[&sample(&mut b)[0]], "before").unwrap();
    let mut exported = sample(&mut b);
    for (i, d) in exported.iter_mut().enumerate() {
        d.seq = 10 + i as u64;
    }
    // A replay of the second, and one of a delivery the import does not hold.
    exported[2].replay_of = Some(11);
    exported[3].replay_of = Some(99);

    // Dropped before commit: as if it never began, though every add had gone in.
    let mut importer = store.importer("import:a").unwrap();
    for d in &exported {
        importer.add(d.clone()).unwrap();
    }
    drop(importer);
    assert_eq!(store.query(&Filter::default()).unwrap().len(), 1);

    let mut importer = store.importer("import:b").unwrap();
    let ids: Vec<i64> = exported
        .iter()
        .map(|d| match importer.add(d.clone()).unwrap() {
            Imported::Added(id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        importer.commit().unwrap(),
        ImportSummary {
            added: 4,
            ids: Some((ids[0], ids[3])),
            already: 0
        }
    );
    let back = store.query(&Filter::default()).unwrap();
    assert_eq!(back.len(), 5);
    for (d, e) in back[1..].iter().zip(&exported) {
        same(d, e);
    }
    assert!(ids[0] > 1, "{ids:?}");
    assert_eq!(
        back[3].replay_of,
        Some(ids[1] as u64),
        "moved to the new id"
    );
    assert_eq!(back[4].replay_of, None, "not left pointing at store id 99");

    // An empty import says it gave no ids.
    assert_eq!(
        store.importer("import:c").unwrap().commit().unwrap(),
        ImportSummary {
            added: 0,
            ids: None,
            already: 0
        }
    );

    // The same file again: nothing stored twice, and a replay in it still links to its
    // original, found where it already was.
    let mut importer = store.importer("import:d").unwrap();
    let again: Vec<Imported> = exported
        .iter()
        .map(|d| importer.add(d.clone()).unwrap())
        .collect();
    assert_eq!(
        again,
        ids.iter()
            .map(|&id| Imported::AlreadyStored(id))
            .collect::<Vec<_>>()
    );
    assert_eq!(importer.commit().unwrap().already, 4);
    assert_eq!(store.count().unwrap(), 5);
    // One part changed (the body) is another delivery; so is the same one received again.
    let mut importer = store.importer("import:e").unwrap();
    let mut other_body = exported[0].clone();
    other_body.body = b"{}".to_vec().into();
    let mut later = exported[0].clone();
    later.received_at += time::Duration::nanoseconds(1);
    assert!(matches!(
        importer.add(other_body).unwrap(),
        Imported::Added(_)
    ));
    assert!(matches!(importer.add(later).unwrap(), Imported::Added(_)));
    // A new replay of an original the import holds but the store already had links to the
    // one stored.
    assert_eq!(
        importer.add(exported[1].clone()).unwrap(),
        Imported::AlreadyStored(ids[1])
    );
    let mut replay = exported[2].clone();
    replay.received_at += time::Duration::seconds(5);
    let Imported::Added(id) = importer.add(replay).unwrap() else {
        panic!("a later replay is new");
    };
    importer.commit().unwrap();
    assert_eq!(
        store.get(id).unwrap().unwrap().replay_of,
        Some(ids[1] as u64)
    );
}

#[test]
fn a_delivery_nothing_answered_is_a_failure() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let ok = b.signed(SECRET, "msg_ok", &event("a.b", "evt_ok"));
    let mut stalled = b.request("POST", "/half", vec![], b"");
    stalled.verdict = Verdict::Unchecked(crate::verify::Unchecked::HeadIncomplete {
        received: 30,
        ms: 30_000,
    });
    stalled.response.status = 0;
    store.insert(&[&ok, &stalled], "s").unwrap();
    let failed = store
        .query(&Filter {
            failed: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        failed.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        ["/half"]
    );
}

#[test]
fn an_edit_is_told_from_a_replay_in_full_and_light_rows() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let original = b.signed(SECRET, "msg_o", &event("a.b", "evt_o"));
    let id = store.insert(&[&original], "s").unwrap()[0] as u64;
    // As the receiver records them: the mark among the headers, the link and the flag set.
    let resent = |b: &mut Builder, msg: &str, mark: &str, edited: bool| {
        let mut d = b.signed(SECRET, msg, &event("a.b", "evt_o"));
        d.headers.push((mark.into(), id.to_string().into_bytes()));
        d.replay_of = Some(id);
        d.edited = edited;
        d
    };
    let replay = resent(&mut b, "msg_o", crate::forward::REPLAY_HEADER, false);
    let edit = resent(&mut b, "msg_e", crate::forward::EDIT_HEADER, true);
    // A mark with no link (an import that dropped it) is no edit of anything.
    let mut unlinked = resent(&mut b, "msg_u", crate::forward::EDIT_HEADER, true);
    unlinked.replay_of = None;
    store.insert(&[&replay, &edit, &unlinked], "s").unwrap();
    let full: Vec<bool> = store
        .query(&Filter::default())
        .unwrap()
        .iter()
        .map(|d| d.edited)
        .collect();
    let light: Vec<bool> = store
        .query_light(&Filter::default())
        .unwrap()
        .iter()
        .map(|d| d.edited)
        .collect();
    assert_eq!(full, [false, false, true, false]);
    assert_eq!(light, full);
}

#[test]
fn the_failing_messages_are_those_whose_newest_delivery_failed() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let mut ds = Vec::new();
    // Before the window: failed, and not asked about; and one that fails again in it.
    ds.push(b.signed(OTHER, "msg_old", &event("a.b", "evt_old")));
    ds.push(b.signed(OTHER, "msg_early", &event("a.b", "evt_early")));
    b.advance(60_000);
    let since = b.at;
    // Failed, then a retry got through: recovered.
    ds.push(b.signed(OTHER, "msg_fixed", &event("a.b", "evt_fixed")));
    b.advance(1000);
    ds.push(b.signed(SECRET, "msg_fixed", &event("a.b", "evt_fixed")));
    // Verified, then the app answered 500 to a retry: failing.
    b.advance(1000);
    ds.push(b.signed(SECRET, "msg_app", &event("order.paid", "evt_app")));
    b.advance(1000);
    let mut app500 = b.signed(SECRET, "msg_app", &event("order.paid", "evt_app"));
    app500.response.status = 500;
    ds.push(app500);
    // Rejected: failing. And one that never got an answer.
    b.advance(1000);
    ds.push(b.signed(OTHER, "msg_bad", &event("a.b", "evt_bad")));
    b.advance(1000);
    let mut unanswered = b.signed(SECRET, "msg_gone", &event("a.b", "evt_gone"));
    unanswered.response.status = 0;
    ds.push(unanswered);
    // Verified: fine. A GET has no message to recover.
    ds.push(b.signed(SECRET, "msg_ok", &event("a.b", "evt_ok")));
    ds.push(b.request("GET", "/favicon.ico", vec![], b""));
    b.advance(1000);
    ds.push(b.signed(OTHER, "msg_early", &event("a.b", "evt_early")));
    let ids = store.insert(&ds.iter().collect::<Vec<_>>(), "s").unwrap();

    let failing = |filter: Filter| -> Vec<i64> {
        store
            .failing_messages(&filter)
            .unwrap()
            .iter()
            .map(|d| d.seq as i64)
            .collect()
    };
    let since = Filter {
        since: Some(since),
        ..Filter::default()
    };
    assert_eq!(failing(since.clone()), [ids[5], ids[6], ids[7], ids[10]]);
    // Over the whole store: the old message too.
    assert_eq!(
        failing(Filter::default()),
        [ids[0], ids[5], ids[6], ids[7], ids[10]]
    );
    let typed = Filter {
        event_type: Some("order.*".into()),
        ..since
    };
    assert_eq!(failing(typed), [ids[5]]);
    // `failed` is implied either way: the newest attempt decides, not any failed one.
    let also_failed = Filter {
        failed: true,
        ..Filter::default()
    };
    assert_eq!(
        failing(also_failed),
        [ids[0], ids[5], ids[6], ids[7], ids[10]]
    );
}

/// `history --failed` (SQL) and the inspector's `f` (Rust) must pick the same deliveries:
/// verified or not, answered 2xx, 3xx, 4xx, 5xx (hookscope's, a mode's or the app's) or not
/// at all.
#[test]
fn the_failed_filter_and_delivery_failed_agree() {
    let (_dir, path) = temp();
    let mut store = Store::open(&path).unwrap();
    let mut b = builder();
    let mut ds = sample(&mut b);
    for (secret, status) in [
        (SECRET, 502),
        (SECRET, 0),
        (SECRET, 302),
        (SECRET, 410),
        (OTHER, 200),
    ] {
        b.advance(1000);
        let mut d = b.signed(secret, &format!("msg_{status}"), b"{}");
        d.response.status = status;
        ds.push(d);
    }
    store.insert(&ds.iter().collect::<Vec<_>>(), "s1").unwrap();
    let name = |d: &Delivery| d.msg_id.clone().unwrap_or_else(|| d.path.clone());
    let all = store.query(&Filter::default()).unwrap();
    assert_eq!(all.len(), 9);
    let sql = store
        .query(&Filter {
            failed: true,
            ..Default::default()
        })
        .unwrap();
    let sql = sql.iter().map(name).collect::<Vec<_>>();
    assert_eq!(
        sql,
        vec![
            "msg_b",
            "/favicon.ico",
            "msg_502",
            "msg_0",
            "msg_410",
            "msg_200"
        ]
    );
    let rust = all
        .iter()
        .filter(|d| d.failed())
        .map(name)
        .collect::<Vec<_>>();
    assert_eq!(rust, sql);
}
