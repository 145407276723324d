//! Two processes on one database: neither loses the other's writes, neither crashes on a lock;
//! past the bounded wait the message says what is blocking. Run against PostgreSQL too (see
//! `tests/support`): there each person connects as their own role.

mod support;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use support::Ws;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_assay"))
}

/// The workspace as each person names it (`--db`), made before any thread starts.
struct Db {
    ann: OsString,
    bob: OsString,
}

impl Db {
    fn of(&self, user: &str) -> &OsString {
        if user == "bob" { &self.bob } else { &self.ann }
    }
}

fn assay(db: &Db, user: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--db")
        .arg(db.of(user))
        .args(["--as", user])
        .args(args)
        .env_remove("ASSAY_USER")
        .output()
        .unwrap()
}

fn setup() -> (Ws, std::sync::Arc<Db>) {
    let ws = Ws::new();
    let db = std::sync::Arc::new(Db {
        ann: ws.db_for("ann"),
        bob: ws.db_for("bob"),
    });
    let out = assay(
        &db,
        "ann",
        &[
            "import",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rubrics"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/samples/portfolios"),
        ],
    );
    assert!(out.status.success());
    for (who, role) in [("ann", "lead"), ("bob", "assessor")] {
        let out = assay(&db, "ann", &["user", "add", who, "--role", role]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (ws, db)
}

#[test]
fn two_writers_lose_nothing() {
    let (_ws, db) = setup();
    let n = 25;
    let writer = |user: &'static str, id: &'static str, crit: &'static str| {
        let db = std::sync::Arc::clone(&db);
        std::thread::spawn(move || {
            for i in 0..n {
                let fb = format!("{crit}={user} note {i}");
                let out = assay(&db, user, &["mark", id, "--feedback", &fb]);
                assert!(
                    out.status.success(),
                    "{user} write {i} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        })
    };
    let a = writer("ann", "P-2026-0041", "C1");
    let b = writer("bob", "P-2026-0050", "measures");
    a.join().unwrap();
    b.join().unwrap();
    for (id, user) in [("P-2026-0041", "ann"), ("P-2026-0050", "bob")] {
        // (each read by its marker: under a blind rubric a marking in progress is theirs to see)
        let log = String::from_utf8(assay(&db, user, &["audit", "log", id]).stdout).unwrap();
        for i in 0..n {
            assert!(
                log.contains(&format!("{user} note {i}\"")),
                "{user}'s write {i} was lost"
            );
        }
    }
    let v = assay(&db, "ann", &["audit", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

#[test]
fn a_held_lock_gives_a_clear_message_after_a_bounded_wait() {
    let (_dir, db) = setup();
    // (another writer holds the lock: SQLite's, or on a server the writers' transaction lock)
    enum Holder {
        File(rusqlite::Connection),
        Server(postgres::Client),
    }
    let mut holder = match &_dir.server {
        None => {
            let c = rusqlite::Connection::open(&_dir.db).unwrap();
            c.execute_batch("BEGIN IMMEDIATE").unwrap();
            Holder::File(c)
        }
        Some(s) => {
            let mut c = s.admin(true);
            c.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7467337)")
                .unwrap();
            Holder::Server(c)
        }
    };
    let t = std::time::Instant::now();
    let out = Command::new(bin())
        .env("ASSAY_BUSY_TIMEOUT_MS", "300")
        .env_remove("ASSAY_USER")
        .arg("--db")
        .arg(db.of("ann"))
        .args(["--as", "ann", "mark", "P-2026-0041", "--level", "C1=meets"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("busy") && err.contains("write lock"), "{err}");
    assert!(!err.contains("panicked"));
    assert!(t.elapsed().as_secs() < 5);
    match &mut holder {
        Holder::File(c) => c.execute_batch("COMMIT").unwrap(),
        Holder::Server(c) => c.batch_execute("COMMIT").unwrap(),
    }
    let out = assay(&db, "ann", &["mark", "P-2026-0041", "--level", "C1=meets"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_second_person_cannot_take_over_a_portfolio_being_marked() {
    let (_ws, db) = setup();
    assert!(
        assay(&db, "ann", &["mark", "P-2026-0041", "--level", "C1=meets"])
            .status
            .success()
    );
    let out = assay(
        &db,
        "bob",
        &["mark", "P-2026-0041", "--level", "C1=exceeds"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ann"));
    let show = assay(&db, "ann", &["show", "P-2026-0041", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let c1 = v["first"]["marks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["criterion"] == "C1")
        .unwrap()
        .clone();
    assert_eq!(c1["level"], "meets");
}
