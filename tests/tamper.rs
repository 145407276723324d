//! Tamper evidence: after a real workflow the database is edited behind assay's back with
//! SQLite; `assay audit verify` must then fail and name the record or the entity concerned.
//! Issue "tamper evidence".

mod support;

use rusqlite::{Connection, params};
use support::*;

const ALL: [&str; 4] = ["energy-use", "measures", "action", "sharing"];

/// A small real workflow: 0051 submitted (awarded, with a comment), 0052 submitted (not_yet),
/// 0050 in progress with its last change a mark.
fn workflow() -> Ws {
    let ws = Ws::new();
    ws.import_some(
        "ann",
        &["sustainable-home-energy"],
        &["P-2026-0050", "P-2026-0051", "P-2026-0052"],
    );
    ws.ok(
        "ann",
        &["mark", "P-2026-0051", "--comment", "Careful and honest."],
    );
    let lv = |l: &'static str| ALL.iter().map(|c| (*c, l)).collect::<Vec<_>>();
    ws.mark_submit("ann", "P-2026-0051", &lv("achieved"), &ENERGY_GATES);
    ws.mark_submit("ann", "P-2026-0052", &lv("not-yet"), &ENERGY_GATES);
    ws.ok(
        "ann",
        &["mark", "P-2026-0050", "--level", "energy-use=achieved"],
    );
    ws.ok(
        "ann",
        &["mark", "P-2026-0050", "--level", "measures=well-achieved"],
    );
    let out = ws.ok("ann", &["audit", "verify"]);
    assert!(out.contains("audit chain ok"), "{out}");
    ws
}

/// at, actor, action, entity, portfolio, before, after, prev
type AuditRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn rw(ws: &Ws) -> Connection {
    Connection::open(&ws.db).unwrap()
}

fn pk(c: &Connection, id: &str) -> i64 {
    c.query_row("SELECT pk FROM portfolios WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

/// The sequence number of the last record about `entity`.
fn last_seq(ws: &Ws, entity: &str) -> i64 {
    ws.sql()
        .query_row(
            "SELECT max(seq) FROM audit WHERE entity = ?1",
            [entity],
            |r| r.get(0),
        )
        .unwrap()
}

/// Runs `audit verify`, requires a refusal and returns stderr.
#[track_caller]
fn verify_fails(ws: &Ws) -> String {
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(
        o.stdout.is_empty() || !o.stdout.contains("audit chain ok"),
        "{o:?}"
    );
    o.stderr
}

#[test]
fn a_changed_mark_level_is_found() {
    let ws = workflow();
    let entity = "mark/P-2026-0051/first/energy-use";
    let seq = last_seq(&ws, entity);
    let c = rw(&ws);
    let n = c
        .execute(
            "UPDATE marks SET level = 'well-achieved' WHERE portfolio_pk = ?1 AND phase = 'first' AND criterion = 'energy-use'",
            [pk(&c, "P-2026-0051")],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.contains(entity) && err.contains(&format!("audit record {seq}")),
        "{err}"
    );
    assert!(err.contains("well-achieved"), "{err}");
}

#[test]
fn a_changed_decision_outcome_is_found() {
    let ws = workflow();
    let entity = "decision/P-2026-0052/first";
    let seq = last_seq(&ws, entity);
    let c = rw(&ws);
    c.execute(
        "UPDATE decisions SET outcome = 'awarded' WHERE portfolio_pk = ?1 AND phase = 'first'",
        [pk(&c, "P-2026-0052")],
    )
    .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.contains(entity) && err.contains(&format!("audit record {seq}")),
        "{err}"
    );
}

#[test]
fn a_deleted_decision_is_found() {
    let ws = workflow();
    let c = rw(&ws);
    c.execute(
        "DELETE FROM decisions WHERE portfolio_pk = ?1",
        [pk(&c, "P-2026-0052")],
    )
    .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.contains("decision/P-2026-0052/first") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn a_changed_outcome_in_the_queue_is_found() {
    // The outcome shown by `list` and used to choose what is exported as a badge is kept on the
    // portfolio row beside the decision; changing it alone must not go unnoticed.
    let ws = workflow();
    let c = rw(&ws);
    c.execute(
        "UPDATE portfolios SET outcome = 'awarded', grade = 'Achieved with merit', score = 100 WHERE id = 'P-2026-0052'",
        [],
    )
    .unwrap();
    drop(c);
    assert_eq!(ws.row("ann", "P-2026-0052")["outcome"], "awarded");
    let err = verify_fails(&ws);
    assert!(err.contains("P-2026-0052"), "{err}");
}

#[test]
fn a_changed_status_is_found() {
    // Moving a portfolio past moderation by its status alone must not go unnoticed.
    let ws = workflow();
    let c = rw(&ws);
    c.execute(
        "UPDATE portfolios SET status = 'released' WHERE id = 'P-2026-0051'",
        [],
    )
    .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.contains("P-2026-0051") && err.contains("released") && err.contains("submitted"),
        "{err}"
    );
}

#[test]
fn a_changed_decision_score_is_found() {
    let ws = workflow();
    let c = rw(&ws);
    c.execute(
        "UPDATE decisions SET score = 99.5 WHERE portfolio_pk = ?1 AND phase = 'first'",
        [pk(&c, "P-2026-0051")],
    )
    .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(err.contains("P-2026-0051"), "{err}");
}

#[test]
fn a_changed_audit_after_value_is_found_even_when_rehashed() {
    let ws = workflow();
    // a record in the middle: the comment on 0051
    let seq = last_seq(&ws, "comment/P-2026-0051/first");
    let total = ws.audit_len();
    assert!(seq > 1 && seq < total);
    let c = rw(&ws);
    c.execute(
        "UPDATE audit SET after = ?2 WHERE seq = ?1",
        params![seq, r#"{"comment":"Careless."}"#],
    )
    .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    let first_line = err.lines().next().unwrap();
    assert!(
        first_line.contains(&format!("audit record {seq}")) && first_line.contains("altered"),
        "{err}"
    );
    assert!(err.contains("comment/P-2026-0051/first"), "{err}");

    // recomputing that record's hash only moves the break to the next record
    let c = rw(&ws);
    let (at, actor, action, entity, portfolio, before, after, prev): AuditRow = c
        .query_row(
            "SELECT at, actor, action, entity, portfolio, before, after, prev FROM audit WHERE seq = ?1",
            [seq],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )
        .unwrap();
    let h = assay::store::audit::hash_of(
        seq,
        &at,
        &actor,
        &action,
        &entity,
        portfolio.as_deref(),
        before.as_deref(),
        after.as_deref(),
        &prev,
    );
    c.execute("UPDATE audit SET hash = ?2 WHERE seq = ?1", params![seq, h])
        .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.lines()
            .any(|l| l.contains(&format!("audit record {}", seq + 1))
                && l.contains("does not follow")),
        "{err}"
    );
    // and the comment it claims no longer matches the one in the database
    assert!(
        err.lines()
            .any(|l| l.contains(&format!("audit record {seq}"))
                && l.contains("comment/P-2026-0051/first")),
        "{err}"
    );
}

#[test]
fn a_record_deleted_in_the_middle_is_found() {
    let ws = workflow();
    let seq = last_seq(&ws, "decision/P-2026-0051/first");
    let total = ws.audit_len();
    assert!(seq > 1 && seq < total);
    let c = rw(&ws);
    c.execute("DELETE FROM audit WHERE seq = ?1", [seq])
        .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(err.contains(&format!("audit record {}", seq + 1)), "{err}");
    assert!(
        err.contains(&format!("{seq}")) && err.contains("missing"),
        "{err}"
    );
    // the decision it vouched for is now unvouched
    assert!(
        err.lines().any(|l| l.contains("decisions row")
            && l.contains("P-2026-0051")
            && l.contains("first")
            && l.contains("never recorded")),
        "{err}"
    );
}

#[test]
fn the_last_record_deleted_when_it_is_a_mark_is_found() {
    let ws = workflow();
    let total = ws.audit_len();
    let (action, entity): (String, String) = ws
        .sql()
        .query_row(
            "SELECT action, entity FROM audit WHERE seq = ?1",
            [total],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(action, "mark.level");
    assert_eq!(entity, "mark/P-2026-0050/first/measures");
    let c = rw(&ws);
    c.execute("DELETE FROM audit WHERE seq = ?1", [total])
        .unwrap();
    drop(c);
    let err = verify_fails(&ws);
    assert!(
        err.lines()
            .any(|l| l.contains("marks row portfolio P-2026-0050")
                && l.contains("\"measures\"")
                && l.contains("never recorded")),
        "{err}"
    );
}

#[test]
fn a_backup_of_a_live_database_verifies() {
    let ws = workflow();
    // Keep the workspace live: another connection holds it open with a write transaction in
    // progress, so the write-ahead log is neither checkpointed nor removed.
    let live = rw(&ws);
    live.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value WHERE key = 'salt';")
        .unwrap();
    assert!(ws.path("w.db-wal").exists());
    let copy = ws.path("backup/copy.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let out = ws.ok("ann", &["backup".as_ref(), copy.as_os_str()]);
    assert!(out.contains("verified against them"), "{out}");
    live.execute_batch("ROLLBACK").unwrap();
    drop(live);

    let records = ws.audit_len();
    let mut c = ws.bare();
    c.arg("--db")
        .arg(&copy)
        .args(["--as", "ann", "audit", "verify"]);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(
        o.stdout
            .contains(&format!("audit chain ok: {records} records")),
        "{o:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(m & 0o777, 0o600, "backup mode {:o}", m & 0o777);
    }
    // the copy is a whole workspace
    let mut c = ws.bare();
    c.arg("--db")
        .arg(&copy)
        .args(["--as", "ann", "list", "--json"]);
    let o = Ws::exec(c);
    let rows: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
    // and a tampered copy fails while the original still verifies
    let c = Connection::open(&copy).unwrap();
    c.execute(
        "UPDATE marks SET level = 'not-yet' WHERE criterion = 'measures'",
        [],
    )
    .unwrap();
    drop(c);
    let mut c = ws.bare();
    c.arg("--db")
        .arg(&copy)
        .args(["--as", "ann", "audit", "verify"]);
    assert_eq!(Ws::exec(c).code, Some(1));
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn a_backup_never_replaces_the_live_database() {
    let ws = workflow();
    let records = ws.audit_len();
    // someone is working: a live connection with a write in the log, not checkpointed
    let live = rw(&ws);
    live.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    // (the workbench's settings: a table the chain leaves aside, so the probes are not a
    // change behind assay's back)
    live.execute(
        "INSERT INTO ui_state (key, value) VALUES ('probe-1', 'x')",
        [],
    )
    .unwrap();
    for target in [
        ws.db.clone(),
        ws.path("./w.db"),
        ws.path("backup/../w.db"),
        ws.path("w.db-wal"),
        ws.path("w.db-shm"),
    ] {
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        let err = ws.refused("ann", &["backup".as_ref(), target.as_os_str()]);
        assert!(err.contains("workspace database itself"), "{err}");
    }
    // the live connection's work is intact and goes on
    live.execute(
        "INSERT INTO ui_state (key, value) VALUES ('probe-2', 'y')",
        [],
    )
    .unwrap();
    drop(live);
    assert_eq!(
        ws.count("SELECT count(*) FROM ui_state WHERE key LIKE 'probe-%'"),
        2
    );
    assert_eq!(ws.audit_len(), records);
    ws.ok("ann", &["audit", "verify"]);
    // a folder that does not exist is named
    let missing = ws.path("no/such/folder/copy.db");
    let err = ws.refused("ann", &["backup".as_ref(), missing.as_os_str()]);
    assert!(err.contains(&*missing.to_string_lossy()), "{err}");
}
