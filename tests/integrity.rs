//! The chain vouches for the whole record (issue "integrity"): in a fully worked workspace —
//! people and roles, allocation, first marks with feedback, gates, comments, a referral, blind
//! second marks, a confirmation and an amendment, a reopen, a second draw, release, exports —
//! every column of every table is edited behind assay's back, one edit at a time, and `assay
//! audit verify` must fail naming the table (and the column). The tables and columns come from
//! the schema itself, so a column added later is covered without touching this test.

mod support;

use std::path::{Path, PathBuf};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params_from_iter};
use support::*;

const DATA: [&str; 5] = ["C1", "C2", "C3", "C4", "C5"];

fn data_levels(level: &str) -> Vec<(&'static str, String)> {
    DATA.iter()
        .map(|c| {
            // C4 and C5 have no "developing" level
            let l = if matches!(*c, "C4" | "C5") && level == "developing" {
                "meets"
            } else {
                level
            };
            (*c, l.to_string())
        })
        .collect()
}

fn mark_args(cmd: &str, id: &str, levels: &[(&str, String)], gates: &[&str]) -> Vec<String> {
    let mut a = vec![cmd.to_string(), id.to_string()];
    for (c, l) in levels {
        a.push("--level".into());
        a.push(format!("{c}={l}"));
    }
    for g in gates {
        a.push("--gate".into());
        a.push((*g).into());
    }
    a
}

/// A workspace that has been through everything assay records.
fn worked() -> Ws {
    let ws = Ws::new();
    ws.import_samples("ann");
    ws.ok("ann", &["user", "add", "ann", "--role", "lead"]);
    for (who, role) in [
        ("bo", "assessor"),
        ("cy", "assessor"),
        ("mo", "moderator"),
        ("mia", "moderator"),
    ] {
        ws.ok("ann", &["user", "add", who, "--role", role]);
    }
    ws.ok(
        "ann",
        &["assign", "P-2026-0041", "P-2026-0042", "--to", "bo"],
    );
    ws.ok(
        "ann",
        &[
            "assign",
            "--rubric",
            "applied-data-visualisation",
            "--among",
            "bo,cy",
        ],
    );
    ws.ok(
        "ann",
        &[
            "assign",
            "P-2026-0043",
            "P-2026-0044",
            "P-2026-0045",
            "--to",
            "cy",
        ],
    );
    // an assessor's links of evidence to criteria the learner did not claim it for (one made
    // and taken away again, one kept)
    ws.ok("bo", &["link", "P-2026-0041", "E2", "C2"]);
    ws.ok("bo", &["link", "P-2026-0041", "E4", "C3"]);
    ws.ok("bo", &["link", "P-2026-0041", "E4", "C3", "--remove"]);
    ws.ok("bo", &["link", "P-2026-0041", "E5", "C3"]);
    // comments saved to a comment bank (one taken out again)
    {
        let mut bo = assay::app::Workspace::open(&ws.db, "bo".into()).unwrap();
        bo.save_comment("P-2026-0041", "C1", "Name the data set.", true)
            .unwrap();
        bo.save_comment("P-2026-0041", "C2", "Label the axes.", true)
            .unwrap();
        bo.save_comment("P-2026-0041", "C2", "Label the axes.", false)
            .unwrap();
    }
    // first marking: feedback, a comment, gates, a referral with its internal rationale
    let mut a = mark_args("mark", "P-2026-0041", &data_levels("meets"), &DATA_GATES);
    a.extend([
        "--feedback".into(),
        "C1=Clean, well documented preparation.".into(),
        "--comment".into(),
        "A careful portfolio.".into(),
        "--submit".into(),
    ]);
    ws.ok("bo", &a);
    let mut a = mark_args(
        "mark",
        "P-2026-0042",
        &data_levels("developing"),
        &DATA_GATES,
    );
    a.extend([
        "--outcome".into(),
        "referred".into(),
        "--rationale".into(),
        "names of minors without consent; integrity panel to review".into(),
        "--submit".into(),
    ]);
    ws.ok("bo", &a);
    for (id, level) in [
        ("P-2026-0043", "exceeds"),
        ("P-2026-0044", "not-yet"),
        ("P-2026-0045", "meets"),
    ] {
        let mut a = mark_args("mark", id, &data_levels(level), &DATA_GATES);
        a.push("--submit".into());
        ws.ok("cy", &a);
    }
    // one left in progress
    ws.ok("bo", &["mark", "P-2026-0046", "--level", "audience=pass"]);
    ws.ok(
        "mo",
        &[
            "moderation",
            "sample",
            "--rubric",
            "data-literacy-practitioner",
            "--seed",
            "7",
        ],
    );
    // blind second marking with feedback; a confirmation and an amendment
    let mut a = mark_args(
        "moderate",
        "P-2026-0041",
        &data_levels("meets"),
        &DATA_GATES,
    );
    a.extend([
        "--feedback".into(),
        "C2=Agreed: the cleaning log is complete.".into(),
        "--comment".into(),
        "Second look agrees.".into(),
        "--submit".into(),
    ]);
    ws.ok("mo", &a);
    ws.ok("mo", &["moderate", "P-2026-0041", "--confirm"]);
    let mut a = mark_args(
        "moderate",
        "P-2026-0042",
        &data_levels("meets"),
        &DATA_GATES,
    );
    a.push("--submit".into());
    ws.ok("mia", &a);
    ws.ok(
        "mia",
        &[
            "moderate",
            "P-2026-0042",
            "--amend",
            "--rationale",
            "The evidence meets every criterion.",
        ],
    );
    // a reopen and a new decision
    ws.ok(
        "ann",
        &[
            "reopen",
            "P-2026-0043",
            "--rationale",
            "Wrong learner file attached.",
        ],
    );
    let mut a = mark_args("mark", "P-2026-0043", &data_levels("meets"), &DATA_GATES);
    a.push("--submit".into());
    ws.ok("cy", &a);
    // the rest of the sample is second-marked and settled
    for id in ["P-2026-0044", "P-2026-0045"] {
        let status = ws.row("ann", id)["status"].clone();
        if status == "sampled" {
            let mut a = mark_args("moderate", id, &data_levels("meets"), &DATA_GATES);
            a.push("--submit".into());
            ws.ok("mo", &a);
            ws.ok("mo", &["moderate", id, "--confirm"]);
        }
    }
    ws.ok(
        "mo",
        &[
            "moderation",
            "sample",
            "--rubric",
            "data-literacy-practitioner",
            "--seed",
            "8",
        ],
    );
    if ws.row("ann", "P-2026-0043")["status"] == "sampled" {
        let mut a = mark_args(
            "moderate",
            "P-2026-0043",
            &data_levels("meets"),
            &DATA_GATES,
        );
        a.push("--submit".into());
        ws.ok("mia", &a);
        ws.ok("mia", &["moderate", "P-2026-0043", "--confirm"]);
    }
    ws.ok("mo", &["release", "--rubric", "data-literacy-practitioner"]);
    let out = ws.path("out");
    std::fs::create_dir_all(&out).unwrap();
    for (format, target) in [
        ("csv", out.join("d.csv")),
        ("jsonl", out.join("d.jsonl")),
        ("obv3", out.join("obv3")),
    ] {
        let mut a: Vec<std::ffi::OsString> =
            vec!["export".into(), "--format".into(), format.into()];
        a.push("--out".into());
        a.push(target.into_os_string());
        ws.ok("mo", &a);
    }
    // a released credential revoked by the lead
    ws.ok(
        "ann",
        &[
            "revoke",
            "P-2026-0041",
            "--reason",
            "The learner withdrew consent.",
        ],
    );
    let ok = ws.ok("ann", &["audit", "verify"]);
    assert!(ok.contains("audit chain ok"), "{ok}");
    // every table the record has holds rows
    for t in [
        "users",
        "rubrics",
        "blobs",
        "portfolios",
        "revisions",
        "evidence",
        "assessments",
        "marks",
        "gates",
        "decisions",
        "draws",
        "draw_items",
        "settlements",
        "export_batches",
        "export_items",
        "meta",
    ] {
        assert!(
            ws.count(&format!("SELECT count(*) FROM {t}")) > 0,
            "the worked workspace has no {t}"
        );
    }
    // the log is folded into the database file, so that a copy of the file is the workspace
    let c = Connection::open(&ws.db).unwrap();
    c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    ws
}

/// A copy of the workspace file, to edit.
fn copy_of(ws: &Ws, name: &str) -> PathBuf {
    let to = ws.path(&format!("edit-{name}.db"));
    std::fs::copy(&ws.db, &to).unwrap();
    to
}

/// A connection as someone editing behind assay's back opens one: foreign keys and checks not
/// enforced.
fn editor(db: &Path) -> Connection {
    let c = Connection::open(db).unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF; PRAGMA ignore_check_constraints = ON;")
        .unwrap();
    c
}

fn verify(ws: &Ws, db: &Path) -> Out {
    let mut c = ws.bare();
    c.arg("--db")
        .arg(db)
        .args(["--as", "ann", "audit", "verify"]);
    Ws::exec(c)
}

/// (name, is part of the key) of each column of `table`.
fn columns(c: &Connection, table: &str) -> Vec<(String, bool)> {
    let mut st = c
        .prepare(&format!("PRAGMA table_info(\"{table}\")"))
        .unwrap();
    st.query_map([], |r| {
        Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)? > 0))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn tables(c: &Connection) -> Vec<String> {
    let mut st = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// What is left aside on purpose: the search index, the workbench's settings, where a marker
/// was in a portfolio.
fn aside(table: &str, column: &str) -> bool {
    index(table) || (table, column) == ("assessments", "cursor")
}

/// Tables that hold no fact: the fuzzy search's texts and the workbench's settings. (The
/// documents' word index is derived from vouched texts and checked by verify: not aside.)
fn index(table: &str) -> bool {
    matches!(table, "search" | "ui_state")
}

/// Another value of the same type (for a key: one no other row has).
fn other(v: &SqlValue, key: bool) -> SqlValue {
    match v {
        SqlValue::Null => SqlValue::Text("forged".into()),
        SqlValue::Integer(i) if key => SqlValue::Integer(i + 1_000_000),
        SqlValue::Integer(0) => SqlValue::Integer(1),
        SqlValue::Integer(i) => SqlValue::Integer(i + 1),
        SqlValue::Real(r) => SqlValue::Real(r + 0.25),
        SqlValue::Text(t) => SqlValue::Text(format!("{t}x")),
        SqlValue::Blob(b) => {
            let mut b = b.clone();
            b.push(0);
            SqlValue::Blob(b)
        }
    }
}

/// The key columns of `table` and their values in one row where `column` is not NULL (any row
/// when there is none), or `None` for an empty table.
fn a_row(c: &Connection, table: &str, column: &str) -> Option<(Vec<(String, SqlValue)>, SqlValue)> {
    let cols = columns(c, table);
    let mut key: Vec<String> = cols
        .iter()
        .filter(|(_, k)| *k)
        .map(|(n, _)| n.clone())
        .collect();
    if key.is_empty() {
        key = cols.iter().map(|(n, _)| n.clone()).collect();
    }
    let list = key
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    for filter in [format!("WHERE \"{column}\" IS NOT NULL"), String::new()] {
        let sql = format!("SELECT {list}, \"{column}\" FROM \"{table}\" {filter} LIMIT 1");
        let row = c
            .query_row(&sql, [], |r| {
                let mut vals = Vec::new();
                for i in 0..=key.len() {
                    vals.push(r.get::<_, SqlValue>(i)?);
                }
                Ok(vals)
            })
            .ok();
        if let Some(mut vals) = row {
            let value = vals.pop().unwrap();
            return Some((key.iter().cloned().zip(vals).collect(), value));
        }
    }
    None
}

fn where_of(key: &[(String, SqlValue)]) -> (String, Vec<SqlValue>) {
    let cond = key
        .iter()
        .enumerate()
        .map(|(i, (k, _))| format!("\"{k}\" IS ?{}", i + 2))
        .collect::<Vec<_>>()
        .join(" AND ");
    (cond, key.iter().map(|(_, v)| v.clone()).collect())
}

#[test]
fn every_column_of_every_table_is_vouched_for() {
    let ws = worked();
    let c = Connection::open(&ws.db).unwrap();
    let mut checked = 0;
    let mut missed = Vec::new();
    for table in tables(&c) {
        for (column, is_key) in columns(&c, &table) {
            let Some((key, value)) = a_row(&c, &table, &column) else {
                continue;
            };
            let db = copy_of(&ws, &format!("{table}-{column}"));
            let e = editor(&db);
            let (cond, args) = where_of(&key);
            let update = |v: SqlValue| {
                let mut all = vec![v];
                all.extend(args.iter().cloned());
                e.execute(
                    &format!("UPDATE \"{table}\" SET \"{column}\" = ?1 WHERE {cond}"),
                    params_from_iter(all),
                )
            };
            // (a column under a UNIQUE constraint takes a value no other row has)
            let n = update(other(&value, is_key))
                .or_else(|_| update(other(&value, true)))
                .unwrap_or_else(|err| panic!("{table}.{column}: {err}"));
            assert_eq!(n, 1, "{table}.{column}: edited {n} rows");
            drop(e);
            let o = verify(&ws, &db);
            if aside(&table, &column) {
                assert_eq!(o.code, Some(0), "{table}.{column} is left aside: {o:?}");
                continue;
            }
            checked += 1;
            if o.code != Some(1) {
                missed.push(format!("{table}.{column}: {o:?}"));
                continue;
            }
            assert_clean_refusal(&o);
            let named = if table == "audit" {
                o.stderr.contains("audit record")
            } else if is_key {
                o.stderr.contains(&format!("{table} row"))
            } else {
                o.stderr.contains(&format!("{table} row")) && o.stderr.contains(&column)
            };
            if !named {
                missed.push(format!(
                    "{table}.{column}: found, but not named: {}",
                    o.stderr
                ));
            }
            let _ = std::fs::remove_file(&db);
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
    assert!(checked > 100, "only {checked} columns checked");
    // every table of facts held a row to edit
    for table in tables(&c) {
        let n: i64 = c
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                r.get(0)
            })
            .unwrap();
        let facts = !matches!(table.as_str(), "ui_state");
        assert!(n > 0 || !facts, "the worked workspace holds no {table} row");
    }
}

#[test]
fn a_deleted_row_of_any_table_is_found() {
    let ws = worked();
    let c = Connection::open(&ws.db).unwrap();
    let mut missed = Vec::new();
    for table in tables(&c) {
        let cols = columns(&c, &table);
        let Some((key, _)) = a_row(&c, &table, &cols[0].0) else {
            continue;
        };
        let db = copy_of(&ws, &format!("del-{table}"));
        let e = editor(&db);
        let (cond, args) = where_of(&key);
        // (the placeholders of `where_of` start at 2)
        let mut all = vec![SqlValue::Null];
        all.extend(args);
        e.execute(
            &format!("DELETE FROM \"{table}\" WHERE ?1 IS NULL AND {cond}"),
            params_from_iter(all),
        )
        .unwrap();
        drop(e);
        let o = verify(&ws, &db);
        if index(&table) {
            assert_eq!(o.code, Some(0), "{table}: {o:?}");
        } else if o.code != Some(1)
            || !(o.stderr.contains(&format!("{table} row")) || o.stderr.contains("audit record"))
        {
            missed.push(format!("{table}: {o:?}"));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn a_forged_evidence_blob_is_found_by_its_bytes() {
    let ws = worked();
    let db = copy_of(&ws, "blob");
    let e = editor(&db);
    let sha: String = e
        .query_row(
            "SELECT blob_sha FROM evidence WHERE blob_sha IS NOT NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    e.execute(
        "UPDATE blobs SET data = CAST('I wrote this myself.' AS BLOB), size = 20 WHERE sha256 = ?1",
        [&sha],
    )
    .unwrap();
    drop(e);
    let o = verify(&ws, &db);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("blobs row") && o.stderr.contains(&sha) && o.stderr.contains("data"),
        "{o:?}"
    );
}

/// A record's text is what assay wrote: the same text stored as bytes, or bytes that are not
/// UTF-8 where a U+FFFD was (both would read as the same text), are found.
#[test]
fn a_record_column_that_is_not_text_is_found() {
    let ws = worked();
    for (name, edit) in [
        (
            "as-blob",
            "UPDATE audit SET actor = CAST(actor AS BLOB) WHERE seq = 3",
        ),
        (
            "not-utf8",
            "UPDATE audit SET actor = CAST(X'616E6EFF' AS TEXT) WHERE seq = 3",
        ),
    ] {
        let db = copy_of(&ws, name);
        let e = editor(&db);
        e.execute(edit, []).unwrap();
        drop(e);
        let o = verify(&ws, &db);
        assert_clean_refusal(&o);
        assert!(
            o.stderr.contains("audit record 3") && o.stderr.contains("`actor` is not UTF-8 text"),
            "{name}: {o:?}"
        );
    }
}

#[test]
fn a_table_added_behind_assays_back_is_named() {
    let ws = worked();
    let db = copy_of(&ws, "table");
    let e = editor(&db);
    e.execute_batch("CREATE TABLE overrides (id TEXT, outcome TEXT); INSERT INTO overrides VALUES ('P-2026-0044', 'awarded');")
        .unwrap();
    drop(e);
    let o = verify(&ws, &db);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("table overrides"), "{o:?}");
}

/// A workspace an older assay wrote (schema 8, whose records did not yet say everything they
/// vouch for: made by the release before this one with a lead, a moderator, a submitted
/// decision with feedback and a comment, a portfolio in progress and a draw) verifies once
/// opened: a baseline of its rows is recorded, and from then on an edit is found as anywhere.
#[test]
fn an_older_workspace_is_vouched_for_from_its_baseline_on() {
    let ws = Ws::new();
    std::fs::copy(root().join("tests/fixtures/workspace-schema8.db"), &ws.db).unwrap();
    let ok = ws.ok("ann", &["audit", "verify"]);
    assert!(ok.contains("audit chain ok"), "{ok}");
    assert!(ws.count("SELECT count(*) FROM audit WHERE action = 'baseline'") > 0);
    // work goes on, and is vouched for
    ws.ok("ann", &["mark", "P-2026-0042", "--level", "C2=meets"]);
    ws.ok("ann", &["audit", "verify"]);
    // an edit of a row only the baseline vouches for is found
    let c = Connection::open(&ws.db).unwrap();
    c.execute(
        "UPDATE portfolios SET learner_name = 'Someone Else' WHERE id = 'P-2026-0043'",
        [],
    )
    .unwrap();
    drop(c);
    let o = verify(&ws, &ws.db);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("portfolios row portfolio P-2026-0043")
            && o.stderr.contains("learner_name")
            && o.stderr.contains("baseline"),
        "{o:?}"
    );
}
