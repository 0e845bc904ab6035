//! The schema and its migrations. `PRAGMA user_version` holds the version; each migration runs
//! in its own transaction, so a store is never left half-migrated.

use rusqlite::Connection;

/// Each entry takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at_ns INTEGER NOT NULL,
        session TEXT NOT NULL,
        remote TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        version TEXT NOT NULL,
        headers BLOB NOT NULL,
        body BLOB NOT NULL,
        body_size INTEGER NOT NULL,
        msg_id TEXT,
        event_id TEXT,
        event_type TEXT,
        verified INTEGER,
        failure TEXT,
        status INTEGER NOT NULL,
        response_body TEXT NOT NULL,
        verdict TEXT NOT NULL
    );
    CREATE INDEX deliveries_msg_id ON deliveries(msg_id);
    CREATE INDEX deliveries_event_id ON deliveries(event_id);",
    // 2: room for forwarding results and replay links. (Time and type filters scan: every
    // index costs each insert, and retention keeps the table small.)
    "ALTER TABLE deliveries ADD COLUMN forward TEXT;
    ALTER TABLE deliveries ADD COLUMN replay_of INTEGER;",
    // Pruning by age and `--since` read a time range instead of the whole table. The index on
    // the rowid only looks redundant: walking ids in order through it reads ~10 bytes a row
    // instead of whole rows with their bodies, and pruning to a count walks `--retain` of them
    // (50 times faster at 1 KiB bodies).
    "CREATE INDEX deliveries_received_at ON deliveries(received_at_ns);
    CREATE INDEX deliveries_id ON deliveries(id);",
    // 4: headers and body last, the answers and verdict just before them. SQLite stores a row's
    // columns in order and spills what does not fit a page onto a chain of overflow pages, so
    // reading any column after a large body meant reading the whole body too: the inspector's
    // list at start-up, `history` and pruning read every stored payload (0.36 s for 300 of
    // 1 MiB from a cold cache, and start-up loads the list before listening). The table is
    // copied once; ids and the id sequence are kept, so an id is never given out twice.
    "CREATE TABLE deliveries_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at_ns INTEGER NOT NULL,
        session TEXT NOT NULL,
        remote TEXT,
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        version TEXT NOT NULL,
        body_size INTEGER NOT NULL,
        msg_id TEXT,
        event_id TEXT,
        event_type TEXT,
        verified INTEGER,
        failure TEXT,
        status INTEGER NOT NULL,
        replay_of INTEGER,
        verdict TEXT NOT NULL,
        forward TEXT,
        response_body TEXT NOT NULL,
        headers BLOB NOT NULL,
        body BLOB NOT NULL
    );
    INSERT INTO deliveries_v4 (id, received_at_ns, session, remote, method, path, version,
        body_size, msg_id, event_id, event_type, verified, failure, status, replay_of, verdict,
        forward, response_body, headers, body)
    SELECT id, received_at_ns, session, remote, method, path, version, body_size, msg_id,
        event_id, event_type, verified, failure, status, replay_of, verdict, forward,
        response_body, headers, body
    FROM deliveries ORDER BY id;
    DELETE FROM sqlite_sequence WHERE name = 'deliveries_v4';
    INSERT INTO sqlite_sequence (name, seq)
        SELECT 'deliveries_v4', seq FROM sqlite_sequence WHERE name = 'deliveries';
    DROP TABLE deliveries;
    ALTER TABLE deliveries_v4 RENAME TO deliveries;
    CREATE INDEX deliveries_msg_id ON deliveries(msg_id);
    CREATE INDEX deliveries_event_id ON deliveries(event_id);
    CREATE INDEX deliveries_received_at ON deliveries(received_at_ns);
    CREATE INDEX deliveries_id ON deliveries(id);",
];

/// The version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

#[derive(Debug)]
pub enum MigrateError {
    TooNew { found: i64, known: i64 },
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sqlite(e)
    }
}

/// Brings the schema to [`LATEST`].
pub fn migrate(conn: &Connection) -> Result<(), MigrateError> {
    migrate_to(conn, LATEST)
}

/// Brings the schema to `target` (tests build older stores with this).
pub fn migrate_to(conn: &Connection, target: i64) -> Result<(), MigrateError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > LATEST {
        return Err(MigrateError::TooNew {
            found,
            known: LATEST,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(found as usize)
        .take((target - found).max(0) as usize)
    {
        let next = i as i64 + 1;
        // BEGIN IMMEDIATE: two hookscopes opening a new store at once migrate one after the other.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current >= next {
            conn.execute_batch("COMMIT")?;
            continue;
        }
        let result = conn
            .execute_batch(sql)
            .and_then(|_| conn.execute_batch(&format!("PRAGMA user_version = {next}")));
        match result {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        }
    }
    Ok(())
}
