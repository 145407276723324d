//! The CSV file of an export: one row per released decision, streamed from the database.
//!
//! The rows come from four scans in row-key order, merged here rather than joined in SQL: the
//! selected portfolios (their table), the decisions (the `decisions_export` index: marker and
//! time), the settlements (their table, keyed by portfolio) and the final levels (the
//! `marks_levels` index). Each is read from start to end once; nothing is looked up row by row,
//! sorted or kept, and no field is copied but into the output.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::store::db::Connection;
use crate::store::db::ValueRef;

use super::{SELECTED, Selection, write_atomic};
use crate::app::{AppError, Result};
use crate::domain::rubric::Rubric;

/// The columns before the criteria's levels.
const HEADER: [&str; 20] = [
    "portfolio",
    "learner_id",
    "learner_name",
    "learner_email",
    "rubric",
    "rubric_version",
    "outcome",
    "grade",
    "score",
    "ects",
    "eqf_level",
    "assessor",
    "moderator",
    "decided_at",
    "released_at",
    "decided_by",
    "second_marker",
    "settlement",
    "settled_at",
    "settlement_rationale",
];

/// Neutralises what a spreadsheet would read as a formula, at the cell's start and after any
/// separator a spreadsheet may use (see [`crate::domain::sanitize::spreadsheet_cell`]).
fn csv_safe(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    crate::domain::sanitize::spreadsheet_cell(cell)
}

/// The text (or nothing) of a column, as bytes.
fn text<'r>(v: ValueRef<'r>) -> crate::store::db::Result<&'r [u8]> {
    Ok(v.as_bytes_or_null()?.unwrap_or_default())
}

/// Rows of one query in order of their first column (a portfolio's row key), consumed
/// alongside the portfolios: `read` copies what is needed of a row into `T`, reusing it.
struct Merged<'s, T, F> {
    rows: crate::store::db::Rows<'s>,
    read: F,
    /// The key of the row in `held`, when one is held.
    key: Option<i64>,
    held: T,
    ended: bool,
}

impl<'s, T, F> Merged<'s, T, F>
where
    T: Default,
    F: FnMut(&crate::store::db::Row<'_>, &mut T) -> crate::store::db::Result<()>,
{
    fn new(rows: crate::store::db::Rows<'s>, read: F) -> Self {
        Merged {
            rows,
            read,
            key: None,
            held: T::default(),
            ended: false,
        }
    }

    /// Calls `each` with every row of portfolio `pk`, passing over the rows before it (of
    /// portfolios not written).
    fn take(&mut self, pk: i64, mut each: impl FnMut(&T)) -> crate::store::db::Result<()> {
        loop {
            if self.key.is_none() {
                if self.ended {
                    return Ok(());
                }
                match self.rows.next()? {
                    Some(r) => {
                        (self.read)(&r, &mut self.held)?;
                        self.key = Some(r.get(0)?);
                    }
                    None => {
                        self.ended = true;
                        return Ok(());
                    }
                }
            }
            match self.key {
                Some(k) if k < pk => self.key = None,
                Some(k) if k == pk => {
                    each(&self.held);
                    self.key = None;
                }
                _ => return Ok(()),
            }
        }
    }
}

/// A decision: second phase, marker, time.
#[derive(Default)]
struct Decision {
    second: bool,
    by: Vec<u8>,
    at: Vec<u8>,
}

/// A settlement: amended, moderator, time, rationale.
#[derive(Default)]
struct Settlement {
    amended: bool,
    by: Vec<u8>,
    at: Vec<u8>,
    rationale: Vec<u8>,
}

/// A mark: second phase, column of its criterion (none when not a column), level (empty
/// when not chosen).
#[derive(Default)]
struct Mark {
    second: bool,
    column: Option<usize>,
    level: Vec<u8>,
}

fn set(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.clear();
    buf.extend_from_slice(bytes);
}

/// Writes the selected decisions to `out` from `conn`; returns how many rows it wrote. `used`
/// are the rubrics of the selection (their criteria are the level columns, in first-seen
/// order); `total` the number of rows for the progress, once known (0 before).
pub(super) fn write(
    conn: &Connection,
    out: &Path,
    selection: &Selection,
    used: &[i64],
    rubrics: &HashMap<i64, Arc<Rubric>>,
    total: &AtomicUsize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<usize> {
    let mut columns: Vec<&str> = Vec::new();
    for pk in used {
        let rubric = rubrics.get(pk).ok_or_else(|| AppError::no_rubric(*pk))?;
        for c in &rubric.criteria {
            if !columns.contains(&c.id.as_str()) {
                columns.push(&c.id);
            }
        }
    }
    // Criterion → column, looked up by binary search (a handful of criteria, a mark each).
    let mut column_of: Vec<(&[u8], usize)> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_bytes(), i))
        .collect();
    column_of.sort_unstable();
    // What is written once per rubric: id, version, ECTS, EQF level.
    let fixed: HashMap<i64, [String; 4]> = rubrics
        .iter()
        .map(|(pk, r)| {
            let c = &r.credential;
            let fields = [
                r.id.clone(),
                r.version.clone(),
                c.ects.to_string(),
                c.eqf_level.to_string(),
            ];
            (*pk, fields)
        })
        .collect();

    let mut portfolios = conn.prepare(&format!(
        "SELECT p.pk, p.id, p.learner_id, p.learner_name, p.learner_email, p.outcome, p.grade,
                p.score, p.rubric_pk, p.released_at
         FROM {} p NOT INDEXED WHERE {SELECTED} ORDER BY p.pk",
        crate::app::portfolios_read(conn)
    ))?;
    let mut decisions = conn.prepare(
        "SELECT portfolio_pk, phase = 'second', by_user, at FROM decisions INDEXED BY decisions_export
         ORDER BY portfolio_pk, phase",
    )?;
    let mut settlements = conn.prepare(
        "SELECT portfolio_pk, action = 'amend', by_user, at, rationale FROM settlements ORDER BY portfolio_pk",
    )?;
    let mut marks = conn.prepare(
        "SELECT portfolio_pk, phase = 'second', criterion, level FROM marks INDEXED BY marks_levels
         ORDER BY portfolio_pk",
    )?;
    let mut decisions = Merged::new(decisions.query(())?, |r, d: &mut Decision| {
        d.second = r.get(1)?;
        set(&mut d.by, text(r.get_ref(2)?)?);
        set(&mut d.at, text(r.get_ref(3)?)?);
        Ok(())
    });
    let mut settlements = Merged::new(settlements.query(())?, |r, s: &mut Settlement| {
        s.amended = r.get(1)?;
        set(&mut s.by, text(r.get_ref(2)?)?);
        set(&mut s.at, text(r.get_ref(3)?)?);
        set(&mut s.rationale, text(r.get_ref(4)?)?);
        Ok(())
    });
    let mut marks = Merged::new(marks.query(())?, |r, m: &mut Mark| {
        m.second = r.get(1)?;
        let criterion = text(r.get_ref(2)?)?;
        m.column = column_of
            .binary_search_by(|(c, _)| (*c).cmp(criterion))
            .ok()
            .map(|i| column_of[i].1);
        set(&mut m.level, text(r.get_ref(3)?)?);
        Ok(())
    });

    let mut failed: Option<AppError> = None;
    let mut done = 0usize;
    let written = write_atomic(out, |w| {
        // (a buffer as large as the file's own, which then passes its writes straight through)
        let mut wr = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(w);
        let mut go = || -> Result<()> {
            let header = HEADER.iter().copied().chain(columns.iter().copied());
            wr.write_record(header).map_err(csv_error)?;
            let mut rows = portfolios.query(&selection.params()[..])?;
            // The facts of the portfolio being written, from the other scans: who decided
            // first, when each decision was made, who settled.
            let (mut assessor, mut first_at, mut second_at) = (Vec::new(), Vec::new(), Vec::new());
            let (mut moderator, mut second_by, mut settled_at, mut why) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut levels: Vec<Vec<u8>> = vec![Vec::new(); columns.len()];
            let mut score = String::new();
            while let Some(row) = rows.next()? {
                let pk: i64 = row.get(0)?;
                let mut has_first = false;
                second_at.clear();
                second_by.clear();
                decisions.take(pk, |d| {
                    if d.second {
                        set(&mut second_at, &d.at);
                        set(&mut second_by, &d.by);
                    } else {
                        set(&mut assessor, &d.by);
                        set(&mut first_at, &d.at);
                        has_first = true;
                    }
                })?;
                let mut amended = false;
                let mut settled = false;
                moderator.clear();
                settled_at.clear();
                why.clear();
                settlements.take(pk, |s| {
                    amended = s.amended;
                    settled = true;
                    set(&mut moderator, &s.by);
                    set(&mut settled_at, &s.at);
                    set(&mut why, &s.rationale);
                })?;
                levels.iter_mut().for_each(Vec::clear);
                marks.take(pk, |m| {
                    if m.second == amended
                        && let Some(i) = m.column
                    {
                        set(&mut levels[i], &m.level);
                    }
                })?;
                if !has_first {
                    // (as an inner join would: a released decision always has a first marking;
                    // the row count check refuses the file otherwise)
                    continue;
                }
                score.clear();
                if let Some(s) = row.get::<_, Option<f64>>(7)? {
                    use std::fmt::Write as _;
                    let _ = write!(score, "{s}");
                }
                let rubric_pk: i64 = row.get(8)?;
                let [rubric, version, ects, eqf] = fixed
                    .get(&rubric_pk)
                    .ok_or_else(|| AppError::no_rubric(rubric_pk))?;
                let decided_at: &[u8] = if amended { &second_at } else { &first_at };
                let decided_by: &[u8] = if amended { &second_by } else { &assessor };
                let settlement: &[u8] = match (settled, amended) {
                    (false, _) => b"",
                    (true, true) => b"amended",
                    (true, false) => b"confirmed",
                };
                let cells: [std::borrow::Cow<'_, [u8]>; 20] = [
                    csv_safe(text(row.get_ref(1)?)?),
                    csv_safe(text(row.get_ref(2)?)?),
                    csv_safe(text(row.get_ref(3)?)?),
                    csv_safe(text(row.get_ref(4)?)?),
                    csv_safe(rubric.as_bytes()),
                    csv_safe(version.as_bytes()),
                    text(row.get_ref(5)?)?.into(),
                    csv_safe(text(row.get_ref(6)?)?),
                    score.as_bytes().into(),
                    ects.as_bytes().into(),
                    eqf.as_bytes().into(),
                    csv_safe(&assessor),
                    csv_safe(&moderator),
                    decided_at.into(),
                    text(row.get_ref(9)?)?.into(),
                    csv_safe(decided_by),
                    csv_safe(&second_by),
                    settlement.into(),
                    settled_at.as_slice().into(),
                    csv_safe(&why),
                ];
                for c in cells.iter() {
                    wr.write_field(c).map_err(csv_error)?;
                }
                for l in &levels {
                    wr.write_field(csv_safe(l)).map_err(csv_error)?;
                }
                wr.write_record(None::<&[u8]>).map_err(csv_error)?;
                done += 1;
                let total = total.load(Ordering::Relaxed);
                if total > 0 && (done.is_multiple_of(1024) || done == total) {
                    progress(done, total);
                }
            }
            wr.flush()?;
            Ok(())
        };
        go().map_err(|e| {
            failed = Some(e);
            std::io::Error::other("export failed")
        })
    });
    match (written, failed) {
        (_, Some(e)) => return Err(e),
        (Err(e), None) => return Err(e.into()),
        _ => {}
    }
    progress(done, done);
    Ok(done)
}

fn csv_error(e: csv::Error) -> AppError {
    AppError::refused(format!("writing the CSV file: {e}"))
}
