//! The audit chain: every change appends a record of who, when, what, and the before and after
//! values, hashed together with the previous record's hash (SHA-256). `verify` walks the chain
//! and also checks that the current marks, gates, comments, decisions and settlements equal what
//! the chain last recorded for them, so an edit made behind assay's back — to the history or to
//! the current state — is found and named.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The hash before the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One record of the chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub portfolio: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev: String,
    pub hash: String,
}

fn text(v: &Option<Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

/// The hash of a record: SHA-256 over an unambiguous JSON array of its fields and `prev`.
#[allow(clippy::too_many_arguments)]
pub fn hash_of(
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    portfolio: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
    prev: &str,
) -> String {
    let body = serde_json::to_string(&(
        seq, at, actor, action, entity, portfolio, before, after, prev,
    ))
    .expect("strings serialise");
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// What to append; `append` fills in the sequence number and the hashes.
pub struct Entry<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: String,
    pub portfolio: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Who acts, when, and on which portfolio: what the records of one change share.
pub struct Author<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub portfolio: Option<&'a str>,
}

impl<'a> Author<'a> {
    /// A record of this author's change.
    pub fn entry(
        &self,
        entity: String,
        action: &'a str,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Entry<'a> {
        Entry {
            at: self.at,
            actor: self.actor,
            action,
            entity,
            portfolio: self.portfolio,
            before,
            after,
        }
    }
}

/// The sequence number of the newest record (0 for none): every change appends one, so two
/// reads that see the same head saw the same workspace.
pub fn head(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM audit", [], |r| r.get(0))
}

/// Appends a record inside the caller's transaction.
pub fn append(conn: &Connection, e: Entry<'_>) -> rusqlite::Result<i64> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let before = text(&e.before);
    let after = text(&e.after);
    let hash = hash_of(
        seq,
        e.at,
        e.actor,
        e.action,
        &e.entity,
        e.portfolio,
        before.as_deref(),
        after.as_deref(),
        &prev,
    );
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, entity, portfolio, before, after, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        seq,
        e.at,
        e.actor,
        e.action,
        e.entity,
        e.portfolio,
        before,
        after,
        prev,
        hash
    ])?;
    Ok(seq)
}

fn parse_json(s: Option<String>) -> Option<Value> {
    s.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

/// Records, oldest first; only those of one portfolio when `portfolio` is given.
pub fn log(conn: &Connection, portfolio: Option<&str>) -> rusqlite::Result<Vec<Record>> {
    // Two statements rather than `?1 IS NULL OR portfolio = ?1`, which SQLite cannot answer
    // from the `audit_portfolio` index: one portfolio's history is then found without reading
    // the whole chain.
    let mut st = match portfolio {
        Some(_) => conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash FROM audit
             WHERE portfolio = ?1 ORDER BY seq",
        )?,
        None => conn.prepare_cached(
            "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash FROM audit
             WHERE ?1 IS NULL ORDER BY seq",
        )?,
    };
    let rows = st.query_map(params![portfolio], |r| {
        Ok(Record {
            seq: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            portfolio: r.get(5)?,
            before: parse_json(r.get(6)?),
            after: parse_json(r.get(7)?),
            prev: r.get(8)?,
            hash: r.get(9)?,
        })
    })?;
    rows.collect()
}

// ---------------------------------------------------------------------------------------------
// Entities: the names and canonical values of the state the chain vouches for.
// ---------------------------------------------------------------------------------------------

pub fn mark_entity(pid: &str, phase: &str, criterion: &str) -> String {
    format!("mark/{pid}/{phase}/{criterion}")
}
pub fn gate_entity(pid: &str, phase: &str, gate: &str) -> String {
    format!("gate/{pid}/{phase}/{gate}")
}
pub fn comment_entity(pid: &str, phase: &str) -> String {
    format!("comment/{pid}/{phase}")
}
pub fn decision_entity(pid: &str, phase: &str) -> String {
    format!("decision/{pid}/{phase}")
}
pub fn settlement_entity(pid: &str) -> String {
    format!("settlement/{pid}")
}

/// The canonical value of a mark row.
pub fn mark_value(level: Option<&str>, feedback: Option<&str>) -> Value {
    json!({ "level": level, "feedback": feedback })
}

/// Every vouched-for entity and its current value, read from the tables.
fn current_state(conn: &Connection) -> rusqlite::Result<HashMap<String, Value>> {
    let mut out = HashMap::new();
    let mut st = conn.prepare(
        "SELECT p.id, m.phase, m.criterion, m.level, m.feedback FROM marks m JOIN portfolios p ON p.pk = m.portfolio_pk",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (pid, phase, c): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let (l, f): (Option<String>, Option<String>) = (r.get(3)?, r.get(4)?);
        let v = mark_value(l.as_deref(), f.as_deref());
        if l.is_some() || f.is_some() {
            out.insert(mark_entity(&pid, &phase, &c), v);
        }
    }
    let mut st = conn.prepare(
        "SELECT p.id, g.phase, g.gate FROM gates g JOIN portfolios p ON p.pk = g.portfolio_pk",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (pid, phase, g): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        out.insert(gate_entity(&pid, &phase, &g), json!({ "confirmed": true }));
    }
    let mut st = conn.prepare(
        "SELECT p.id, a.phase, a.comment FROM assessments a JOIN portfolios p ON p.pk = a.portfolio_pk WHERE a.comment IS NOT NULL",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (pid, phase, c): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        out.insert(comment_entity(&pid, &phase), json!({ "comment": c }));
    }
    let mut st = conn.prepare(
        "SELECT p.id, d.phase, d.score_num, d.score_den, d.computed, d.outcome, d.grade, d.borderline, d.kind, d.rationale, d.by_user, d.rubric_sha
         FROM decisions d JOIN portfolios p ON p.pk = d.portfolio_pk",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let pid: String = r.get(0)?;
        let phase: String = r.get(1)?;
        let v = decision_value(&DecisionRow {
            score_num: r.get(2)?,
            score_den: r.get(3)?,
            computed: r.get(4)?,
            outcome: r.get(5)?,
            grade: r.get(6)?,
            borderline: r.get(7)?,
            kind: r.get(8)?,
            rationale: r.get(9)?,
            by_user: r.get(10)?,
            rubric_sha: r.get(11)?,
        });
        out.insert(decision_entity(&pid, &phase), v);
    }
    let mut st = conn.prepare(
        "SELECT p.id, s.action, s.rationale, s.by_user FROM settlements s JOIN portfolios p ON p.pk = s.portfolio_pk",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let pid: String = r.get(0)?;
        let v = settlement_value(&r.get::<_, String>(1)?, r.get(2)?, &r.get::<_, String>(3)?);
        out.insert(settlement_entity(&pid), v);
    }
    Ok(out)
}

/// The stored fields of a decision that the chain vouches for.
#[derive(Debug, Clone)]
pub struct DecisionRow {
    pub score_num: String,
    pub score_den: String,
    pub computed: String,
    pub outcome: String,
    pub grade: Option<String>,
    pub borderline: bool,
    pub kind: String,
    pub rationale: Option<String>,
    pub by_user: String,
    pub rubric_sha: String,
}

pub fn decision_value(d: &DecisionRow) -> Value {
    json!({
        "score_num": d.score_num, "score_den": d.score_den, "computed": d.computed,
        "outcome": d.outcome, "grade": d.grade, "borderline": d.borderline, "kind": d.kind,
        "rationale": d.rationale, "by": d.by_user, "rubric_sha256": d.rubric_sha,
    })
}

pub fn settlement_value(action: &str, rationale: Option<String>, by: &str) -> Value {
    json!({ "action": action, "rationale": rationale, "by": by })
}

/// A problem `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The audit record concerned, when there is one.
    pub seq: Option<i64>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(s) => write!(f, "audit record {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Result of walking the chain.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub records: usize,
    pub entities: usize,
    pub problems: Vec<Problem>,
}

/// Walks the chain and compares the current state with it.
pub fn verify(conn: &Connection) -> rusqlite::Result<Verification> {
    let mut v = Verification::default();
    // entity → (seq of the last record, value it recorded)
    let mut last: HashMap<String, (i64, Option<Value>)> = HashMap::new();
    let mut st = conn.prepare(
        "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash FROM audit ORDER BY seq",
    )?;
    let mut rows = st.query([])?;
    let mut prev_hash = GENESIS.to_string();
    let mut expect_seq = 1i64;
    // portfolio id → (seq of the record that set it, the status the chain says it has)
    let mut statuses: HashMap<String, (i64, String)> = HashMap::new();
    while let Some(r) = rows.next()? {
        v.records += 1;
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let action: String = r.get(3)?;
        let entity: String = r.get(4)?;
        let portfolio: Option<String> = r.get(5)?;
        let before: Option<String> = r.get(6)?;
        let after: Option<String> = r.get(7)?;
        let prev: String = r.get(8)?;
        let hash: String = r.get(9)?;
        if seq != expect_seq {
            v.problems.push(Problem {
                seq: Some(seq),
                message: format!(
                    "records {expect_seq}..{} are missing from the chain (deleted)",
                    seq - 1
                ),
            });
        }
        if prev != prev_hash {
            v.problems.push(Problem {
                seq: Some(seq),
                message: "does not follow the record before it (its previous-hash does not match): a record before it was changed or deleted".into(),
            });
        }
        let h = hash_of(
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
        if h != hash {
            v.problems.push(Problem {
                seq: Some(seq),
                message: format!(
                    "({action} {entity}) was altered: its content does not match its hash"
                ),
            });
        }
        let after = parse_json(after);
        replay_status(
            &mut statuses,
            seq,
            &action,
            &entity,
            portfolio.as_deref(),
            after.as_ref(),
        );
        if is_vouched(&entity) {
            last.insert(entity, (seq, after));
        }
        prev_hash = hash;
        expect_seq = seq + 1;
    }
    drop(rows);
    drop(st);
    let current = current_state(conn)?;
    let mut keys: Vec<&String> = last.keys().chain(current.keys()).collect();
    keys.sort();
    keys.dedup();
    v.entities = keys.len();
    for k in keys {
        let recorded = last
            .get(k)
            .and_then(|(_, a)| a.clone())
            .filter(|a| !a.is_null());
        let now = current.get(k).cloned();
        if recorded != now {
            let seq = last.get(k).map(|(s, _)| *s);
            let what = match (&recorded, &now) {
                (Some(r), Some(n)) => {
                    format!("{k} is {n} in the database but the chain last recorded {r}")
                }
                (None, Some(n)) => {
                    format!("{k} is {n} in the database but the chain never recorded it")
                }
                (Some(r), None) => {
                    format!("{k} is missing from the database but the chain last recorded {r}")
                }
                (None, None) => continue,
            };
            v.problems.push(Problem { seq, message: what });
        }
    }
    derived_problems(conn, &last, &statuses, &mut v.problems)?;
    v.problems.sort_by_key(|p| p.seq.unwrap_or(i64::MAX));
    Ok(v)
}

/// Follows a portfolio's status through the chain: what each recorded action leaves it at.
fn replay_status(
    statuses: &mut HashMap<String, (i64, String)>,
    seq: i64,
    action: &str,
    entity: &str,
    portfolio: Option<&str>,
    after: Option<&Value>,
) {
    let set = |statuses: &mut HashMap<String, (i64, String)>, id: &str, status: &str| {
        statuses.insert(id.to_string(), (seq, status.to_string()));
    };
    match (action, portfolio) {
        ("import", Some(p)) => set(statuses, p, "new"),
        ("sample", Some(p))
            if after.and_then(|a| a.get("drawn")).and_then(Value::as_bool) == Some(true) =>
        {
            set(statuses, p, "sampled")
        }
        ("moderate.confirm" | "moderate.amend", Some(p)) => set(statuses, p, "moderated"),
        ("export", _) => {
            let ids = after
                .and_then(|a| a.get("portfolios"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for id in ids.iter().filter_map(Value::as_str) {
                if statuses.get(id).is_some_and(|(_, s)| s == "released") {
                    set(statuses, id, "exported");
                }
            }
        }
        (_, Some(p)) if entity.starts_with("status/") => {
            let status = match after {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Object(o)) => o.get("status").and_then(Value::as_str),
                _ => None,
            };
            if let Some(s) = status {
                set(statuses, p, s);
            }
        }
        _ => {}
    }
}

/// State kept beside the vouched entities and derived from them or from the chain: each
/// portfolio's status, the outcome, grade and score shown for it, and each decision's score.
/// None of these may differ from what the chain and the vouched rows say.
fn derived_problems(
    conn: &Connection,
    last: &HashMap<String, (i64, Option<Value>)>,
    statuses: &HashMap<String, (i64, String)>,
    problems: &mut Vec<Problem>,
) -> rusqlite::Result<()> {
    let seq_of = |entity: &str| last.get(entity).map(|(s, _)| *s);
    // Each decision's score (a REAL, for display and export) is its exact fraction, rounded.
    let mut st = conn.prepare(
        "SELECT p.id, d.phase, d.score_num, d.score_den, d.score FROM decisions d JOIN portfolios p ON p.pk = d.portfolio_pk",
    )?;
    let mut rows = st.query([])?;
    while let Some(r) = rows.next()? {
        let (pid, phase, num, den, score): (String, String, String, String, f64) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        let exact = match (num.parse::<i128>(), den.parse::<i128>()) {
            (Ok(num), Ok(den)) => Some(crate::domain::decision::Score { num, den }.rounded()),
            _ => None,
        };
        if exact.is_none_or(|x| (x - score).abs() > 1e-9) {
            let entity = decision_entity(&pid, &phase);
            problems.push(Problem {
                seq: seq_of(&entity),
                message: format!(
                    "{entity} has score {score} in the database but its recorded fraction {num}/{den} gives {}",
                    exact.map_or("no number".to_string(), |x| x.to_string())
                ),
            });
        }
    }
    drop(rows);
    drop(st);
    // Each portfolio shows the outcome of its decision in force: the first, or the second
    // where moderation amended it.
    type Shown = (Option<String>, Option<String>, Option<f64>);
    let mut st = conn.prepare(
        "SELECT p.id, p.status, p.outcome, p.grade, p.score,
                f.outcome, f.grade, f.score, s.outcome, s.grade, s.score, st.action
         FROM portfolios p
         LEFT JOIN decisions f ON f.portfolio_pk = p.pk AND f.phase = 'first'
         LEFT JOIN decisions s ON s.portfolio_pk = p.pk AND s.phase = 'second'
         LEFT JOIN settlements st ON st.portfolio_pk = p.pk
         ORDER BY p.id",
    )?;
    let mut rows = st.query([])?;
    let mut seen = std::collections::HashSet::new();
    while let Some(r) = rows.next()? {
        let pid: String = r.get(0)?;
        let status: String = r.get(1)?;
        let shown: Shown = (r.get(2)?, r.get(3)?, r.get(4)?);
        let first: Shown = (r.get(5)?, r.get(6)?, r.get(7)?);
        let second: Shown = (r.get(8)?, r.get(9)?, r.get(10)?);
        let amended = r.get::<_, Option<String>>(11)?.as_deref() == Some("amend");
        let (in_force, entity) = if amended {
            (second, settlement_entity(&pid))
        } else {
            (first, decision_entity(&pid, "first"))
        };
        let same_score = match (shown.2, in_force.2) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9,
            (a, b) => a.is_none() && b.is_none(),
        };
        if shown.0 != in_force.0 || shown.1 != in_force.1 || !same_score {
            let show = |s: &Shown| {
                format!(
                    "outcome {}, grade {}, score {}",
                    s.0.as_deref().unwrap_or("none"),
                    s.1.as_deref().unwrap_or("none"),
                    s.2.map_or("none".to_string(), |x| x.to_string())
                )
            };
            problems.push(Problem {
                seq: seq_of(&entity),
                message: format!(
                    "portfolio {pid} shows {} in the database but its decision in force ({entity}) has {}",
                    show(&shown),
                    show(&in_force)
                ),
            });
        }
        match statuses.get(&pid) {
            Some((_, s)) if *s == status => {}
            Some((seq, s)) => problems.push(Problem {
                seq: Some(*seq),
                message: format!(
                    "portfolio {pid} is `{status}` in the database but the chain last recorded `{s}`"
                ),
            }),
            None => problems.push(Problem {
                seq: None,
                message: format!(
                    "portfolio {pid} is in the database but the chain never recorded its import"
                ),
            }),
        }
        seen.insert(pid);
    }
    for (pid, (seq, _)) in statuses {
        if !seen.contains(pid) {
            problems.push(Problem {
                seq: Some(*seq),
                message: format!(
                    "portfolio {pid} is missing from the database but the chain recorded it"
                ),
            });
        }
    }
    Ok(())
}

fn is_vouched(entity: &str) -> bool {
    ["mark/", "gate/", "comment/", "decision/", "settlement/"]
        .iter()
        .any(|p| entity.starts_with(p))
}
