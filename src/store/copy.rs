//! A whole workspace copied between backends (a file to a server, a server to a file, or either
//! to its own kind): every row of every table, read at one snapshot of the source and written in
//! one transaction on the target, so that the copy's audit chain is the source's, record for
//! record, and verifies there.

use super::db::{Connection, Param, Value};
use super::{Result, Store, StoreError};

/// The tables in the order they are made (a table after those it refers to).
pub fn tables() -> Vec<&'static str> {
    include_str!("pg_schema.sql")
        .lines()
        .filter_map(|l| l.strip_prefix("CREATE TABLE "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|t| *t != "assay_schema")
        .collect()
}

/// Whether the workspace holds nothing at all (no row in any table).
pub fn is_empty(conn: &Connection) -> Result<bool> {
    for t in tables() {
        if t == "rubric_rules" && !conn.is_pg() {
            continue;
        }
        let any: bool = conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {t})"), (), |r| {
            r.get(0)
        })?;
        if any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copies every row of `from` into `to`, which must be empty; `progress` is told the rows
/// copied so far and the total. Returns the number of rows.
pub fn copy(from: &Store, to: &mut Store, progress: &mut dyn FnMut(u64, u64)) -> Result<u64> {
    let snapshot = from.conn.snapshot()?;
    // (the tables of a server only — rubric_rules — are made again from the rubrics by the
    // caller when the target is a server)
    let present = super::verify::table_names(&snapshot)?;
    let names: Vec<&str> = tables()
        .into_iter()
        .filter(|t| present.iter().any(|p| p == t))
        .filter(|t| *t != "rubric_rules")
        .collect();
    let mut total = 0u64;
    for t in &names {
        let n: i64 = snapshot.query_row(&format!("SELECT count(*) FROM {t}"), (), |r| r.get(0))?;
        total += n as u64;
    }
    let tx = to.conn.transaction()?;
    if !is_empty(&tx)? {
        return Err(StoreError::Server(
            "the target workspace is not empty: copy into a new file or an empty database"
                .to_string(),
        ));
    }
    let mut done = 0u64;
    progress(0, total);
    for t in &names {
        let cols = super::verify::columns(&snapshot, t)?;
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let marks = (1..=cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut read = snapshot.prepare(&format!("SELECT {list} FROM {t}"))?;
        let mut write = tx.prepare(&format!("INSERT INTO {t} ({list}) VALUES ({marks})"))?;
        let mut rows = read.query(())?;
        let mut vals: Vec<Value> = Vec::with_capacity(cols.len());
        while let Some(r) = rows.next()? {
            vals.clear();
            for i in 0..cols.len() {
                vals.push(r.get_ref(i)?.into());
            }
            let ps: Vec<Param<'_>> = vals.iter().map(super::db::ToSql::param).collect();
            write.execute(ps)?;
            done += 1;
            if done.is_multiple_of(1000) {
                progress(done, total);
            }
        }
    }
    if tx.is_pg() {
        // (the row keys made from here on follow the copied ones)
        for t in &names {
            let cols = super::verify::columns(&tx, t)?;
            if cols.first().map(String::as_str) == Some("pk") {
                tx.execute_batch(&format!(
                    "SELECT setval(pg_get_serial_sequence('{t}', 'pk'), max(pk)) FROM {t} HAVING max(pk) IS NOT NULL"
                ))?;
            }
        }
    }
    tx.commit()?;
    drop(snapshot);
    progress(done, total);
    Ok(done)
}
