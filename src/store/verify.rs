//! `assay audit verify`: the chain vouches for the whole record.
//!
//! Three steps. (1) The chain is walked in order: every record's hash, its link to the one
//! before, its number, and its time (valid RFC 3339, never before the record it follows). As it
//! is walked it is *replayed*: each record says what its change wrote, and the replay keeps, for
//! every row of every table, the digest of what the row must hold now. (2) Every table is read
//! (every column, also ones assay does not know: an added column is a difference too), and each
//! row's digest is compared with the replay's; blobs are hashed again. (3) Only when something
//! differs, the chain is replayed once more keeping the full rows concerned, so that each problem
//! names the table, the row, the columns and both values.
//!
//! Not vouched for: the search index (`search`, rebuilt from the portfolio rows), the place a
//! marker was at (`assessments.cursor`) and the workbench's remembered settings (`ui_state`).
//!
//! What each record says (its `after`, with the record's own actor and time):
//!
//! | action | entity | after |
//! |---|---|---|
//! | `workspace.init` | `workspace` | `{workspace_id, salt, created_at}` |
//! | `user.add` | `user/NAME` | `{role}` (the person's first registration gives `added_by`/`added_at`) |
//! | `rubric.import` | `rubric/ID@VERSION` | `{pk, id, version, sha256, title}` (`sha256` of the stored bytes) |
//! | `import`, `import.revision` | `portfolio/ID` | `{pk, revision, rubric_pk, rubric, learner {id, name, email}, submitted, content_sha256, manifest_sha256, statement {file, sha256, size} or null, evidence [{id, title, kind, file, url, date, hours, claims, note, sha256, size, is_text, group (if any)}], evidence_changed_since_marking_began, changed}` |
//! | `assign` | `assign/ID` | `{assessor}` |
//! | `link` | `link/ID/EVIDENCE/CRITERION` | `{linked: true}`, or null (unlinked): the assessor's link of evidence to a criterion |
//! | `mark.level`, `mark.feedback` | `mark/ID/PHASE/CRITERION` | `{level, feedback}` or null (removed) |
//! | `mark.gate` | `gate/ID/PHASE/GATE` | `{confirmed: true}` or null |
//! | `mark.comment` | `comment/ID/PHASE` | `{comment}` or null |
//! | `mark.choice` | `choice/ID/PHASE` | `{outcome, rationale}` |
//! | `status` | `status/ID` | the new status |
//! | `submit`, `moderate.submit` | `decision/ID/PHASE` | `{pk, rubric_pk, rubric_sha256, score_num, score_den, computed, outcome, grade, borderline, kind, rationale, by}` |
//! | `draw` | `draws/PK` | `{pk, rubric_pk, seed}` |
//! | `sample` | `draw/ID` | `{draw, seed, drawn, reason}` |
//! | `moderate.confirm`, `moderate.amend` | `settlement/ID` | `{action, rationale, by}` |
//! | `reopen` | the marks, gates, comment, decisions, settlement withdrawn (after null), then `status/ID` | `{status: "in_progress", rationale}` |
//! | `release` | `status/ID` | `"released"` |
//! | `export` | `export/BATCH` | `{batch, format, target, count, outcomes, portfolios [ids]}` |
//!
//! Derived, and rebuilt by the replay: a portfolio's status, assessor, first marker, evidence
//! flag, release time, the outcome, grade and score of its decision in force (the first, or the
//! second where moderation amended it), each decision's rounded score, and a portfolio's
//! `version` and `updated_at` (the number and time of the last record that changed it).

use std::collections::{HashMap, HashSet};

use crate::store::db::Connection;
use crate::store::db::ValueRef;
use serde_json::Value;
use sha2::{Digest, Sha256};

mod json;
use json::J;

use super::audit::{GENESIS, hash_texts};
use super::clock;

/// A column's value as verify compares it: a blob by its SHA-256.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob([u8; 32]),
}

impl V<'_> {
    fn owned(self) -> Val {
        match self {
            V::Null => Val::Null,
            V::Int(i) => Val::Int(i),
            V::Real(r) => Val::Real(r),
            V::Text(t) => Val::Text(t.to_string()),
            V::Blob(b) => Val::Blob(b),
        }
    }
}

/// [`V`], owned: what a problem report keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob([u8; 32]),
}

impl Val {
    fn as_v(&self) -> V<'_> {
        match self {
            Val::Null => V::Null,
            Val::Int(i) => V::Int(*i),
            Val::Real(r) => V::Real(*r),
            Val::Text(t) => V::Text(t),
            Val::Blob(b) => V::Blob(*b),
        }
    }
}

impl std::fmt::Display for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Null => f.write_str("NULL"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Real(r) => write!(f, "{r:?}"),
            Val::Text(t) => {
                let shown: String = t.chars().take(120).collect();
                let shown = crate::domain::sanitize::sanitize_line(&shown);
                if t.chars().count() > 120 {
                    write!(f, "{shown:?}…")
                } else {
                    write!(f, "{shown:?}")
                }
            }
            Val::Blob(b) => write!(f, "bytes with SHA-256 {}", hex::encode(b)),
        }
    }
}

fn v_of(v: ValueRef<'_>) -> V<'_> {
    match v {
        ValueRef::Null => V::Null,
        ValueRef::Integer(i) => V::Int(i),
        ValueRef::Real(r) => V::Real(r),
        // Text that is not UTF-8 (written behind assay's back) is compared by its bytes.
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => V::Text(s),
            Err(_) => V::Blob(Sha256::digest(t).into()),
        },
        ValueRef::Blob(b) => V::Blob(Sha256::digest(b).into()),
    }
}

/// Appends a typed value to the bytes a digest is taken of.
fn feed(buf: &mut Vec<u8>, v: &V<'_>) {
    match v {
        V::Null => buf.push(0),
        V::Int(i) => {
            buf.push(1);
            buf.extend_from_slice(&i.to_le_bytes());
        }
        V::Real(r) => {
            buf.push(2);
            buf.extend_from_slice(&r.to_bits().to_le_bytes());
        }
        V::Text(t) => {
            buf.push(3);
            buf.extend_from_slice(&(t.len() as u64).to_le_bytes());
            buf.extend_from_slice(t.as_bytes());
        }
        V::Blob(b) => {
            buf.push(4);
            buf.extend_from_slice(b);
        }
    }
}

/// The first 128 bits of the SHA-256 of `bytes`.
fn digest_of(bytes: &[u8]) -> u128 {
    let d = Sha256::digest(bytes);
    u128::from_le_bytes(d[..16].try_into().expect("16 bytes"))
}

/// Appends a column (name and typed value) to the bytes of a row's digest.
fn feed_column(buf: &mut Vec<u8>, name: &str, v: &V<'_>) {
    buf.extend_from_slice(&(name.len() as u64).to_le_bytes());
    buf.extend_from_slice(name.as_bytes());
    feed(buf, v);
}

/// The digest of a row's key: its table and key values.
fn key_digest(table: &str, key: &[V<'_>], buf: &mut Vec<u8>) -> u128 {
    buf.clear();
    buf.extend_from_slice(table.as_bytes());
    buf.push(0);
    for v in key {
        feed(buf, v);
    }
    digest_of(buf)
}

/// A table the chain vouches for: its key columns and the columns it leaves out.
struct TableDef {
    name: &'static str,
    key: &'static [&'static str],
    skip: &'static [&'static str],
}

const fn def(
    name: &'static str,
    key: &'static [&'static str],
    skip: &'static [&'static str],
) -> TableDef {
    TableDef { name, key, skip }
}

#[rustfmt::skip]
const TABLES: &[TableDef] = &[
    def("meta", &["key"], &[]),
    def("users", &["name"], &[]),
    def("rubrics", &["pk"], &[]),
    def("blobs", &["sha256"], &[]),
    def("portfolios", &["pk"], &[]),
    def("revisions", &["portfolio_pk", "revision"], &[]),
    def("evidence", &["portfolio_pk", "revision", "ord"], &[]),
    def("assessments", &["portfolio_pk", "phase"], &["cursor"]),
    def("marks", &["portfolio_pk", "phase", "criterion"], &[]),
    def("gates", &["portfolio_pk", "phase", "gate"], &[]),
    def("decisions", &["pk"], &[]),
    def("draws", &["pk"], &[]),
    def("draw_items", &["draw_pk", "portfolio_pk"], &[]),
    def("settlements", &["portfolio_pk"], &[]),
    def("export_batches", &["pk"], &[]),
    def("export_items", &["batch_pk", "portfolio_pk", "format"], &[]),
    def("evidence_links", &["portfolio_pk", "evidence_id", "criterion"], &[]),
    def("saved_comments", &["owner", "rubric_pk", "criterion", "text"], &[]),
    def("revocations", &["decision_pk"], &[]),
];

/// Tables that are not facts: the chain itself, the search index, the workbench's settings.
const NOT_FACTS: &[&str] = &[
    "audit",
    "search",
    "ui_state",
    // (checked on its own: see document_words_problems)
    "document_words",
    // (a server workspace's schema version, and its rubrics' blind flags, derived and
    // compared with the rubrics by rubric_rules_problems)
    "assay_schema",
    "rubric_rules",
    // (derived from the portfolios, counted again by status_counts_problems)
    "status_counts",
];

/// The tables of the workspace, by name: SQLite's catalogue, or the current schema's on a
/// server.
pub(crate) fn table_names(conn: &Connection) -> crate::store::db::Result<Vec<String>> {
    let sql = if conn.is_pg() {
        "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    } else {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    };
    let mut st = conn.prepare(sql)?;
    st.query_map((), |r| r.get(0))?.collect()
}

fn table_def(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// What `verify` finds, and where it is (defined in `domain`, where the front ends read them).
pub use crate::domain::audit::{Problem, Stage, Verification};

/// Where a vouched table is in [`TABLES`].
fn table_index(name: &str) -> usize {
    TABLES
        .iter()
        .position(|t| t.name == name)
        .expect("a vouched table")
}

/// The most key columns a vouched table has.
const MAX_KEY: usize = 4;

// ---------------------------------------------------------------------------------------------
// The replay
// ---------------------------------------------------------------------------------------------

/// One decision, as far as the portfolio row shows it.
#[derive(Debug, Clone)]
struct Dec {
    pk: i64,
    outcome: String,
    grade: Option<String>,
    score: f64,
}

#[derive(Debug, Clone)]
struct Assess {
    /// The record that last changed the row, and those that set the marker, comment, choice
    /// and submission.
    seq: i64,
    seq_marker: i64,
    seq_comment: i64,
    seq_choice: i64,
    seq_submitted: i64,
    marker: String,
    comment: Option<String>,
    choice: Option<String>,
    rationale: Option<String>,
    started_at: String,
    submitted_at: Option<String>,
}

/// What the chain says of one portfolio's own row and its assessments.
#[derive(Debug, Clone)]
struct Port {
    pk: i64,
    id: String,
    rubric_pk: i64,
    learner_id: String,
    learner_name: String,
    learner_email: Option<String>,
    submitted: String,
    revision: i64,
    status: String,
    assessor: Option<String>,
    first_marker: Option<String>,
    evidence_changed: bool,
    version: i64,
    updated_at: String,
    released_at: Option<String>,
    decisions: [Option<Dec>; 2],
    settlement: Option<String>,
    draw: Option<i64>,
    assess: [Option<Assess>; 2],
    /// The records that last set: the learner and revision, the status, the assessor and
    /// first marker, the decision in force, the release.
    seq_import: i64,
    seq_status: i64,
    seq_assessor: i64,
    seq_outcome: i64,
    seq_release: i64,
}

/// A hasher for keys that are digests already: their low bits are the hash.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

type ByKey<T> = HashMap<u128, T, std::hash::BuildHasherDefault<KeyHasher>>;
type ByText<T> = HashMap<String, T, foldhash::fast::RandomState>;

/// A write of the replay: the row of key `key` holds what `digest` says, as record `seq`
/// wrote it, in table `table` (its index in [`TABLES`]); or, with `table` [`GONE`], the row
/// was removed.
#[derive(Debug, Clone, Copy)]
struct Write {
    key: u128,
    digest: u128,
    seq: i64,
    table: u8,
}

/// The table of a [`Write`] that removed its row.
const GONE: u8 = u8::MAX;

/// A record as the replay reads it.
struct Rec<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    portfolio: Option<&'a str>,
    after: Option<&'a J<'a>>,
}

type Image = Vec<(String, Val)>;

#[derive(Default)]
struct Replay {
    /// Every write, in the order made.
    rows: Vec<Write>,
    ports: Vec<Port>,
    by_id: ByText<usize>,
    by_pk: HashMap<i64, usize, foldhash::fast::RandomState>,
    /// user → (role, added_by, added_at, ssh_key)
    users: ByText<(String, String, String, Option<String>)>,
    /// Keys whose full rows are kept (the second pass), and those rows with the record that
    /// wrote each column.
    keep: Option<HashSet<u128>>,
    kept: ByKey<Vec<(String, Val, i64)>>,
    problems: Vec<Problem>,
    /// Records before the workspace's baseline (written by an assay whose records did not yet
    /// say everything) are checked as links of the chain but not replayed.
    baseline_at: Option<i64>,
    /// The chain began with the workspace's own record: it vouched for everything from its start.
    vouched_from_start: bool,
    /// Scratch space for digests.
    buf: Vec<u8>,
    /// For each table, the last list of column names put and their order by name.
    orders: [ColumnOrder; TABLES.len()],
}

/// The order by name of a list of columns, and where their names are (those of a put are
/// the same literals each time it runs: its order is found once).
#[derive(Default)]
struct ColumnOrder {
    names: Vec<(usize, usize)>,
    order: Vec<u8>,
}

/// The digest of a row: its columns in name order, each name and typed value (`buf` is
/// scratch space, reused); the order is found through `known`.
fn digest_in_order(
    known: &mut ColumnOrder,
    cols: &[(&'static str, V<'_>)],
    buf: &mut Vec<u8>,
) -> u128 {
    // (the same address and length: the same name, a `'static` text never changes)
    let same = known.names.len() == cols.len()
        && known
            .names
            .iter()
            .zip(cols)
            .all(|(&(at, len), (n, _))| at == n.as_ptr() as usize && len == n.len());
    if !same {
        known.names = cols
            .iter()
            .map(|(n, _)| (n.as_ptr() as usize, n.len()))
            .collect();
        let mut order: Vec<u8> = (0..cols.len() as u8).collect();
        order.sort_unstable_by(|&a, &b| cols[a as usize].0.cmp(cols[b as usize].0));
        known.order = order;
    }
    buf.clear();
    for &i in &known.order {
        let (name, v) = &cols[i as usize];
        feed_column(buf, name, v);
    }
    digest_of(buf)
}

fn phase_index(p: &str) -> Option<usize> {
    match p {
        "first" => Some(0),
        "second" => Some(1),
        _ => None,
    }
}

const PHASES: [&str; 2] = ["first", "second"];

/// Field readers: `Err` names the field a record lacks.
fn get<'a>(v: Option<&'a J<'a>>, k: &str) -> Result<&'a J<'a>, String> {
    v.and_then(|v| v.get(k))
        .ok_or_else(|| format!("lacks `{k}`"))
}
fn text<'a>(v: Option<&'a J<'a>>, k: &str) -> Result<&'a str, String> {
    get(v, k)?
        .as_str()
        .ok_or_else(|| format!("`{k}` is not a text"))
}
fn opt_text<'a>(v: Option<&'a J<'a>>, k: &str) -> Result<Option<&'a str>, String> {
    match get(v, k)? {
        J::Null => Ok(None),
        J::Str(s) => Ok(Some(s)),
        _ => Err(format!("`{k}` is not a text")),
    }
}
/// A text that records written before the field existed leave out.
fn text_if_any<'a>(v: Option<&'a J<'a>>, k: &str) -> Result<Option<&'a str>, String> {
    match v.and_then(|v| v.get(k)) {
        None | Some(J::Null) => Ok(None),
        Some(J::Str(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{k}` is not a text")),
    }
}
fn int(v: Option<&J<'_>>, k: &str) -> Result<i64, String> {
    get(v, k)?
        .as_i64()
        .ok_or_else(|| format!("`{k}` is not an integer"))
}
fn opt_int(v: Option<&J<'_>>, k: &str) -> Result<Option<i64>, String> {
    match get(v, k)? {
        J::Null => Ok(None),
        x => x
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("`{k}` is not an integer")),
    }
}
fn flag(v: Option<&J<'_>>, k: &str) -> Result<bool, String> {
    get(v, k)?
        .as_bool()
        .ok_or_else(|| format!("`{k}` is not true or false"))
}
fn opt_real(v: Option<&J<'_>>, k: &str) -> Result<Option<f64>, String> {
    match get(v, k)? {
        J::Null => Ok(None),
        x => x
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("`{k}` is not a number")),
    }
}
fn sha(s: &str) -> Result<[u8; 32], String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| format!("`{s}` is not a SHA-256"))?;
    Ok(out)
}

fn t(s: &str) -> V<'_> {
    V::Text(s)
}
fn ot(s: Option<&str>) -> V<'_> {
    s.map_or(V::Null, V::Text)
}

/// The segments of an entity: `mark/P-1/first/C1` → ["mark", "P-1", "first", "C1"]. Ids are
/// checked by assay never to contain `/`.
fn parts(entity: &str) -> Vec<&str> {
    entity.split('/').collect()
}

impl Replay {
    fn put(&mut self, table: &'static str, seq: i64, cols: &mut [(&'static str, V<'_>)]) {
        self.put_seqs(table, seq, cols, &|_| None);
    }

    /// As [`Replay::put`], with the record that wrote each column where it is not `seq`.
    fn put_seqs(
        &mut self,
        table: &'static str,
        seq: i64,
        cols: &mut [(&'static str, V<'_>)],
        col_seq: &dyn Fn(&str) -> Option<i64>,
    ) {
        let ti = table_index(table);
        let def = &TABLES[ti];
        let mut key = [V::Null; MAX_KEY];
        for (slot, k) in key.iter_mut().zip(def.key) {
            if let Some((_, v)) = cols.iter().find(|(n, _)| n == k) {
                *slot = *v;
            }
        }
        let k = key_digest(table, &key[..def.key.len()], &mut self.buf);
        if let Some(keep) = &self.keep
            && keep.contains(&k)
        {
            self.kept.insert(
                k,
                cols.iter()
                    .map(|(n, v)| (n.to_string(), v.owned(), col_seq(n).unwrap_or(seq)))
                    .collect(),
            );
        }
        let digest = digest_in_order(&mut self.orders[ti], cols, &mut self.buf);
        self.rows.push(Write {
            key: k,
            digest,
            seq,
            table: ti as u8,
        });
    }

    /// Puts the row of a person as the replay knows them.
    fn put_user(&mut self, name: &str, seq: i64) {
        let Some((role, by, at, key)) = self.users.get(name).cloned() else {
            return;
        };
        self.put(
            "users",
            seq,
            &mut [
                ("name", t(name)),
                ("role", t(&role)),
                ("added_by", t(&by)),
                ("added_at", t(&at)),
                ("ssh_key", ot(key.as_deref())),
            ],
        );
    }

    fn remove(&mut self, table: &'static str, key: &[V<'_>]) {
        let k = key_digest(table, key, &mut self.buf);
        self.rows.push(Write {
            key: k,
            digest: 0,
            seq: 0,
            table: GONE,
        });
        if self.keep.is_some() {
            self.kept.remove(&k);
        }
    }

    /// What the rows must hold, by key, once the chain is replayed (and [`Replay::finish`]ed):
    /// the last write of each row that was not removed after it.
    fn expected(&mut self) -> Vec<Write> {
        let mut rows = std::mem::take(&mut self.rows);
        // (stable: the writes of a row stay in the order they were made)
        rows.sort_by_key(|w| w.key);
        let mut out: Vec<Write> = Vec::with_capacity(rows.len());
        let mut i = 0;
        while i < rows.len() {
            let mut last = i;
            while last + 1 < rows.len() && rows[last + 1].key == rows[i].key {
                last += 1;
            }
            if rows[last].table != GONE {
                out.push(rows[last]);
            }
            i = last + 1;
        }
        out
    }

    fn port(&mut self, id: &str) -> Result<&mut Port, String> {
        let i = *self
            .by_id
            .get(id)
            .ok_or_else(|| format!("names portfolio {id}, which the chain never imported"))?;
        Ok(&mut self.ports[i])
    }

    /// Marks a portfolio's row changed by record `seq` at `at`.
    fn touch(&mut self, id: &str, seq: i64, at: &str) -> Result<(), String> {
        let p = self.port(id)?;
        p.version = seq;
        p.updated_at = at.to_string();
        Ok(())
    }

    /// The chain's first baseline is record `seq`: the records before it were replayed, as
    /// if none did, but are links of the chain only. Starts the replay again (keeping whether
    /// the chain began with the workspace's own record, and the rows to keep).
    fn restart_at(&mut self, seq: i64) {
        let vouched_from_start = self.vouched_from_start;
        let reserved = self.rows.capacity();
        *self = Replay {
            keep: self.keep.take(),
            baseline_at: Some(seq),
            vouched_from_start,
            ..Replay::default()
        };
        self.rows.reserve(reserved);
    }

    fn record(&mut self, r: &Rec<'_>) {
        if self.baseline_at.is_some_and(|b| r.seq < b) {
            // (a chain that began with the workspace's own record never takes a baseline)
            if r.action == "workspace.init" {
                self.vouched_from_start = true;
            }
            return;
        }
        if let Err(m) = self.apply(r) {
            self.problems.push(Problem {
                seq: Some(r.seq),
                message: format!("({} {}) {m}", r.action, r.entity),
            });
        }
    }

    fn apply(&mut self, r: &Rec<'_>) -> Result<(), String> {
        let a = r.after;
        let seg = parts(r.entity);
        match r.action {
            "workspace.init" => {
                self.vouched_from_start = true;
                for k in ["workspace_id", "salt", "created_at"] {
                    let v = text(a, k)?;
                    self.put("meta", r.seq, &mut [("key", t(k)), ("value", t(v))]);
                }
            }
            "user.add" => {
                let name = seg.get(1).ok_or("has no person in its entity")?;
                let role = text(a, "role")?.to_string();
                let key = text_if_any(a, "key")?;
                let entry = self.users.entry(name.to_string()).or_insert_with(|| {
                    (String::new(), r.actor.to_string(), r.at.to_string(), None)
                });
                entry.0 = role;
                if let Some(k) = key {
                    entry.3 = Some(k.to_string());
                }
                self.put_user(name, r.seq);
            }
            "user.key" => {
                let name = seg.get(1).ok_or("has no person in its entity")?;
                let key = opt_text(a, "key")?.map(str::to_string);
                let entry = self
                    .users
                    .get_mut(*name)
                    .ok_or("sets the key of a person who is not registered")?;
                entry.3 = key;
                self.put_user(name, r.seq);
            }
            "rubric.import" => {
                let digest = sha(text(a, "sha256")?)?;
                self.put(
                    "rubrics",
                    r.seq,
                    &mut [
                        ("pk", V::Int(int(a, "pk")?)),
                        ("id", t(text(a, "id")?)),
                        ("version", t(text(a, "version")?)),
                        ("sha256", t(text(a, "sha256")?)),
                        ("title", t(text(a, "title")?)),
                        ("bytes", V::Blob(digest)),
                        ("imported_at", t(r.at)),
                    ],
                );
            }
            "import" | "import.revision" => self.import(r)?,
            "assign" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let to = text(a, "assessor")?.to_string();
                let p = self.port(id)?;
                p.assessor = Some(to.clone());
                if p.first_marker.is_some() {
                    p.first_marker = Some(to.clone());
                }
                if let Some(first) = &mut p.assess[0] {
                    first.marker = to;
                    first.seq = r.seq;
                    first.seq_marker = r.seq;
                }
                p.seq_assessor = r.seq;
                self.touch(id, r.seq, r.at)?;
            }
            "mark.level" | "mark.feedback" | "mark.gate" | "mark.comment" | "mark.choice" => {
                self.mark(r, &seg)?
            }
            "link" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let e = *seg.get(2).ok_or("names no evidence")?;
                let c = *seg.get(3).ok_or("names no criterion")?;
                let pk = self.port(id)?.pk;
                if a.is_some_and(|v| !v.is_null()) {
                    self.put(
                        "evidence_links",
                        r.seq,
                        &mut [
                            ("portfolio_pk", V::Int(pk)),
                            ("evidence_id", t(e)),
                            ("criterion", t(c)),
                            ("by_user", t(r.actor)),
                            ("at", t(r.at)),
                        ],
                    );
                } else {
                    self.remove("evidence_links", &[V::Int(pk), t(e), t(c)]);
                }
                self.touch(id, r.seq, r.at)?;
            }
            "bank.save" | "bank.remove" => {
                // comment/RUBRIC_PK/CRITERION, the text in the value
                let rubric = seg
                    .get(1)
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or("names no rubric")?;
                let c = *seg.get(2).ok_or("names no criterion")?;
                // (a removal's value says what was removed)
                let text = text(a, "text")?;
                if r.action == "bank.save" {
                    self.put(
                        "saved_comments",
                        r.seq,
                        &mut [
                            ("owner", t(r.actor)),
                            ("rubric_pk", V::Int(rubric)),
                            ("criterion", t(c)),
                            ("text", t(text)),
                            ("at", t(r.at)),
                        ],
                    );
                } else {
                    self.remove(
                        "saved_comments",
                        &[t(r.actor), V::Int(rubric), t(c), t(text)],
                    );
                }
            }
            "credential.revoke" => {
                // credential/DECISION_PK, the credential's id and the reason in the value
                let pk = seg
                    .get(1)
                    .and_then(|s| s.parse::<i64>().ok())
                    .ok_or("names no decision")?;
                self.put(
                    "revocations",
                    r.seq,
                    &mut [
                        ("decision_pk", V::Int(pk)),
                        ("credential_id", t(text(a, "credential")?)),
                        ("reason", t(text(a, "reason")?)),
                        ("by_user", t(r.actor)),
                        ("at", t(r.at)),
                    ],
                );
            }
            "status" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let s = a
                    .and_then(J::as_str)
                    .ok_or("does not give the new status")?
                    .to_string();
                let p = self.port(id)?;
                p.status = s;
                p.seq_status = r.seq;
                self.touch(id, r.seq, r.at)?;
            }
            "submit" | "moderate.submit" => self.submit(r, &seg)?,
            "draw" => {
                self.put(
                    "draws",
                    r.seq,
                    &mut [
                        ("pk", V::Int(int(a, "pk")?)),
                        (
                            "rubric_pk",
                            opt_int(a, "rubric_pk")?.map_or(V::Null, V::Int),
                        ),
                        ("seed", V::Int(int(a, "seed")?)),
                        ("by_user", t(r.actor)),
                        ("at", t(r.at)),
                    ],
                );
            }
            "sample" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let draw = int(a, "draw")?;
                let drawn = flag(a, "drawn")?;
                let reason = text(a, "reason")?;
                let p = self.port(id)?;
                let pk = p.pk;
                p.draw = Some(draw);
                if drawn {
                    p.status = "sampled".into();
                    p.seq_status = r.seq;
                }
                self.put(
                    "draw_items",
                    r.seq,
                    &mut [
                        ("draw_pk", V::Int(draw)),
                        ("portfolio_pk", V::Int(pk)),
                        ("drawn", V::Int(drawn as i64)),
                        ("reason", t(reason)),
                    ],
                );
                self.touch(id, r.seq, r.at)?;
            }
            "moderate.confirm" | "moderate.amend" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let action = text(a, "action")?;
                let rationale = opt_text(a, "rationale")?;
                let by = text(a, "by")?;
                if by != r.actor {
                    return Err(format!(
                        "says it was settled by {by} but was recorded by {}",
                        r.actor
                    ));
                }
                let p = self.port(id)?;
                let pk = p.pk;
                p.settlement = Some(action.to_string());
                p.status = "moderated".into();
                p.seq_status = r.seq;
                p.seq_outcome = r.seq;
                self.put(
                    "settlements",
                    r.seq,
                    &mut [
                        ("portfolio_pk", V::Int(pk)),
                        ("action", t(action)),
                        ("rationale", ot(rationale)),
                        ("by_user", t(r.actor)),
                        ("at", t(r.at)),
                    ],
                );
                self.touch(id, r.seq, r.at)?;
            }
            "reopen" => self.reopen(r, &seg)?,
            "baseline" => {
                if self.vouched_from_start {
                    return Err("is a baseline in a chain that vouched for everything from its first record: a baseline is only ever written once, when an older assay's workspace is first opened (was the workspace's schema version lowered behind assay's back?)".into());
                }
                self.baseline(r)?
            }
            "release" => {
                let id = r.portfolio.ok_or("names no portfolio")?;
                let p = self.port(id)?;
                p.status = "released".into();
                p.released_at = Some(r.at.to_string());
                p.seq_status = r.seq;
                p.seq_release = r.seq;
                self.touch(id, r.seq, r.at)?;
            }
            "export" => {
                let batch = int(a, "batch")?;
                let format = text(a, "format")?;
                self.put(
                    "export_batches",
                    r.seq,
                    &mut [
                        ("pk", V::Int(batch)),
                        ("format", t(format)),
                        ("by_user", t(r.actor)),
                        ("at", t(r.at)),
                        ("count", V::Int(int(a, "count")?)),
                        ("target", t(text(a, "target")?)),
                    ],
                );
                let ids = get(a, "portfolios")?
                    .as_array()
                    .ok_or("`portfolios` is not a list")?;
                for id in ids {
                    let id = id
                        .as_str()
                        .ok_or("lists a portfolio id that is not a text")?;
                    let p = self.port(id)?;
                    let pk = p.pk;
                    if p.status == "released" {
                        p.status = "exported".into();
                        p.seq_status = r.seq;
                        p.version = r.seq;
                        p.updated_at = r.at.to_string();
                    }
                    self.put(
                        "export_items",
                        r.seq,
                        &mut [
                            ("batch_pk", V::Int(batch)),
                            ("portfolio_pk", V::Int(pk)),
                            ("format", t(format)),
                        ],
                    );
                }
            }
            other => return Err(format!("is of an action assay does not know (`{other}`)")),
        }
        Ok(())
    }

    fn import(&mut self, r: &Rec<'_>) -> Result<(), String> {
        let a = r.after;
        let id = r.portfolio.ok_or("names no portfolio")?;
        let pk = int(a, "pk")?;
        let revision = int(a, "revision")?;
        let learner = get(a, "learner")?;
        let learner = Some(learner);
        let flagged = flag(a, "evidence_changed_since_marking_began")?;
        let fields = (
            int(a, "rubric_pk")?,
            text(learner, "id")?.to_string(),
            text(learner, "name")?.to_string(),
            opt_text(learner, "email")?.map(str::to_string),
            text(a, "submitted")?.to_string(),
        );
        match self.by_id.get(id) {
            None => {
                if r.action != "import" || revision != 1 {
                    return Err("revises a portfolio the chain never imported".into());
                }
                let i = self.ports.len();
                self.ports.push(Port {
                    pk,
                    id: id.to_string(),
                    rubric_pk: fields.0,
                    learner_id: fields.1,
                    learner_name: fields.2,
                    learner_email: fields.3,
                    submitted: fields.4,
                    revision,
                    status: "new".into(),
                    assessor: None,
                    first_marker: None,
                    evidence_changed: false,
                    version: r.seq,
                    updated_at: r.at.to_string(),
                    released_at: None,
                    decisions: [None, None],
                    settlement: None,
                    draw: None,
                    assess: [None, None],
                    seq_import: r.seq,
                    seq_status: r.seq,
                    seq_assessor: r.seq,
                    seq_outcome: r.seq,
                    seq_release: r.seq,
                });
                self.by_id.insert(id.to_string(), i);
                if self.by_pk.insert(pk, i).is_some() {
                    return Err(format!("gives row key {pk}, which another portfolio has"));
                }
            }
            Some(&i) => {
                let p = &mut self.ports[i];
                if p.pk != pk {
                    return Err(format!(
                        "gives portfolio {id} row key {pk}; it was imported with {}",
                        p.pk
                    ));
                }
                (
                    p.rubric_pk,
                    p.learner_id,
                    p.learner_name,
                    p.learner_email,
                    p.submitted,
                ) = fields;
                p.revision = revision;
                p.evidence_changed |= flagged;
                p.seq_import = r.seq;
                p.version = r.seq;
                p.updated_at = r.at.to_string();
            }
        }
        let statement = get(a, "statement")?;
        let (st_sha, st_file) = match statement {
            J::Null => (None, None),
            s => {
                let s = Some(s);
                let digest = text(s, "sha256")?;
                let size = int(s, "size")?;
                self.put(
                    "blobs",
                    r.seq,
                    &mut [
                        ("sha256", t(digest)),
                        ("size", V::Int(size)),
                        ("data", V::Blob(sha(digest)?)),
                    ],
                );
                (Some(digest), Some(text(s, "file")?))
            }
        };
        self.put(
            "revisions",
            r.seq,
            &mut [
                ("portfolio_pk", V::Int(pk)),
                ("revision", V::Int(revision)),
                ("content_sha256", t(text(a, "content_sha256")?)),
                ("manifest", V::Blob(sha(text(a, "manifest_sha256")?)?)),
                ("statement_sha", ot(st_sha)),
                ("statement_file", ot(st_file)),
                ("imported_at", t(r.at)),
            ],
        );
        let evidence = get(a, "evidence")?
            .as_array()
            .ok_or("`evidence` is not a list")?;
        for (ord, e) in evidence.iter().enumerate() {
            let e = Some(e);
            let claims = get(e, "claims")?;
            let claims = claims.to_canonical();
            let blob = opt_text(e, "sha256")?;
            let size = opt_int(e, "size")?;
            if let (Some(b), Some(n)) = (blob, size) {
                self.put(
                    "blobs",
                    r.seq,
                    &mut [
                        ("sha256", t(b)),
                        ("size", V::Int(n)),
                        ("data", V::Blob(sha(b)?)),
                    ],
                );
            }
            // (a document's text, from schema 11)
            let text_sha = text_if_any(e, "text_sha256")?;
            if let Some(b) = text_sha {
                self.put(
                    "blobs",
                    r.seq,
                    &mut [
                        ("sha256", t(b)),
                        ("size", V::Int(int(e, "text_size")?)),
                        ("data", V::Blob(sha(b)?)),
                    ],
                );
            }
            self.put(
                "evidence",
                r.seq,
                &mut [
                    ("portfolio_pk", V::Int(pk)),
                    ("revision", V::Int(revision)),
                    ("ord", V::Int(ord as i64)),
                    ("id", t(text(e, "id")?)),
                    ("title", t(text(e, "title")?)),
                    ("kind", t(text(e, "kind")?)),
                    ("file", ot(opt_text(e, "file")?)),
                    ("url", ot(opt_text(e, "url")?)),
                    ("date", t(text(e, "date")?)),
                    ("hours", opt_real(e, "hours")?.map_or(V::Null, V::Real)),
                    ("claims", t(&claims)),
                    ("note", ot(opt_text(e, "note")?)),
                    ("blob_sha", ot(blob)),
                    ("size", size.map_or(V::Null, V::Int)),
                    ("is_text", V::Int(flag(e, "is_text")? as i64)),
                    ("group_title", ot(text_if_any(e, "group")?)),
                    ("text_sha", ot(text_sha)),
                    ("text_note", ot(text_if_any(e, "text_note")?)),
                ],
            );
        }
        Ok(())
    }

    fn mark(&mut self, r: &Rec<'_>, seg: &[&str]) -> Result<(), String> {
        let id = r.portfolio.ok_or("names no portfolio")?;
        let phase = *seg.get(2).ok_or("names no phase")?;
        let ph = phase_index(phase).ok_or("names no known phase")?;
        let a = r.after;
        let p = self.port(id)?;
        let pk = p.pk;
        // The first change of a marking begins it.
        if p.assess[ph].is_none() {
            p.assess[ph] = Some(Assess {
                seq: r.seq,
                seq_marker: r.seq,
                seq_comment: r.seq,
                seq_choice: r.seq,
                seq_submitted: r.seq,
                marker: r.actor.to_string(),
                comment: None,
                choice: None,
                rationale: None,
                started_at: r.at.to_string(),
                submitted_at: None,
            });
        }
        if ph == 0 && (p.assessor.is_none() || p.first_marker.is_none()) {
            p.assessor.get_or_insert_with(|| r.actor.to_string());
            p.first_marker.get_or_insert_with(|| r.actor.to_string());
            p.seq_assessor = r.seq;
        }
        let present = a.is_some_and(|v| !v.is_null());
        match r.action {
            "mark.level" | "mark.feedback" => {
                let c = *seg.get(3).ok_or("names no criterion")?;
                if present {
                    self.put(
                        "marks",
                        r.seq,
                        &mut [
                            ("portfolio_pk", V::Int(pk)),
                            ("phase", t(phase)),
                            ("criterion", t(c)),
                            ("level", ot(opt_text(a, "level")?)),
                            ("feedback", ot(opt_text(a, "feedback")?)),
                            ("by_user", t(r.actor)),
                            ("at", t(r.at)),
                        ],
                    );
                } else {
                    self.remove("marks", &[V::Int(pk), t(phase), t(c)]);
                }
            }
            "mark.gate" => {
                let g = *seg.get(3).ok_or("names no gate")?;
                if present {
                    self.put(
                        "gates",
                        r.seq,
                        &mut [
                            ("portfolio_pk", V::Int(pk)),
                            ("phase", t(phase)),
                            ("gate", t(g)),
                            ("by_user", t(r.actor)),
                            ("at", t(r.at)),
                        ],
                    );
                } else {
                    self.remove("gates", &[V::Int(pk), t(phase), t(g)]);
                }
            }
            "mark.comment" => {
                let c = if present {
                    Some(text(a, "comment")?.to_string())
                } else {
                    None
                };
                let p = self.port(id)?;
                if let Some(s) = &mut p.assess[ph] {
                    s.comment = c;
                    s.seq = r.seq;
                    s.seq_comment = r.seq;
                }
            }
            _ => {
                let o = opt_text(a, "outcome")?.map(str::to_string);
                let why = opt_text(a, "rationale")?.map(str::to_string);
                let p = self.port(id)?;
                if let Some(s) = &mut p.assess[ph] {
                    s.choice = o;
                    s.rationale = why;
                    s.seq = r.seq;
                    s.seq_choice = r.seq;
                }
            }
        }
        self.touch(id, r.seq, r.at)
    }

    fn submit(&mut self, r: &Rec<'_>, seg: &[&str]) -> Result<(), String> {
        let id = r.portfolio.ok_or("names no portfolio")?;
        let phase = *seg.get(2).ok_or("names no phase")?;
        let ph = phase_index(phase).ok_or("names no known phase")?;
        let a = r.after;
        let by = text(a, "by")?;
        if by != r.actor {
            return Err(format!(
                "says the decision is {by}'s but it was recorded by {}",
                r.actor
            ));
        }
        let (num, den) = (text(a, "score_num")?, text(a, "score_den")?);
        let score = match (num.parse::<i128>(), den.parse::<i128>()) {
            (Ok(num), Ok(den)) => crate::domain::decision::Score { num, den }.rounded(),
            _ => return Err(format!("has a score {num}/{den} that is not a fraction")),
        };
        let dpk = int(a, "pk")?;
        let outcome = text(a, "outcome")?;
        let grade = opt_text(a, "grade")?;
        let p = self.port(id)?;
        let pk = p.pk;
        p.decisions[ph] = Some(Dec {
            pk: dpk,
            outcome: outcome.to_string(),
            grade: grade.map(str::to_string),
            score,
        });
        if let Some(s) = &mut p.assess[ph] {
            s.submitted_at = Some(r.at.to_string());
            s.seq = r.seq;
            s.seq_submitted = r.seq;
        }
        if ph == 0 {
            p.seq_outcome = r.seq;
        }
        self.put(
            "decisions",
            r.seq,
            &mut [
                ("pk", V::Int(dpk)),
                ("portfolio_pk", V::Int(pk)),
                ("phase", t(phase)),
                ("rubric_pk", V::Int(int(a, "rubric_pk")?)),
                ("rubric_sha", t(text(a, "rubric_sha256")?)),
                ("score_num", t(num)),
                ("score_den", t(den)),
                ("score", V::Real(score)),
                ("computed", t(text(a, "computed")?)),
                ("outcome", t(outcome)),
                ("grade", ot(grade)),
                ("borderline", V::Int(flag(a, "borderline")? as i64)),
                ("kind", t(text(a, "kind")?)),
                ("rationale", ot(opt_text(a, "rationale")?)),
                ("by_user", t(r.actor)),
                ("at", t(r.at)),
            ],
        );
        self.touch(id, r.seq, r.at)
    }

    fn reopen(&mut self, r: &Rec<'_>, seg: &[&str]) -> Result<(), String> {
        let id = r.portfolio.ok_or("names no portfolio")?;
        let p = self.port(id)?;
        let pk = p.pk;
        match seg.first().copied() {
            Some("mark") => {
                let (ph, c) = (*seg.get(2).ok_or("names no phase")?, seg.get(3));
                self.remove(
                    "marks",
                    &[V::Int(pk), t(ph), t(c.ok_or("names no criterion")?)],
                );
            }
            Some("gate") => {
                let (ph, g) = (*seg.get(2).ok_or("names no phase")?, seg.get(3));
                self.remove("gates", &[V::Int(pk), t(ph), t(g.ok_or("names no gate")?)]);
            }
            Some("comment") => {}
            Some("decision") => {
                let ph = phase_index(seg.get(2).ok_or("names no phase")?)
                    .ok_or("names no known phase")?;
                if let Some(d) = p.decisions[ph].take() {
                    self.remove("decisions", &[V::Int(d.pk)]);
                }
            }
            Some("settlement") => {
                p.settlement = None;
                self.remove("settlements", &[V::Int(pk)]);
            }
            Some("status") => {
                p.status = "in_progress".into();
                p.assess[1] = None;
                if let Some(first) = &mut p.assess[0] {
                    first.submitted_at = None;
                    first.seq = r.seq;
                    first.seq_submitted = r.seq;
                }
                p.seq_status = r.seq;
                p.seq_outcome = r.seq;
                p.decisions = [None, None];
                p.settlement = None;
                if let Some(draw) = p.draw.take() {
                    self.remove("draw_items", &[V::Int(draw), V::Int(pk)]);
                }
                self.remove("settlements", &[V::Int(pk)]);
            }
            _ => return Err("withdraws something assay does not know".into()),
        }
        self.touch(id, r.seq, r.at)
    }

    /// A baseline record: rows of one table as they stood when this assay first opened a
    /// workspace an older one had written (see [`append_baseline`]).
    fn baseline(&mut self, r: &Rec<'_>) -> Result<(), String> {
        let a = r.after;
        let table = text(a, "table")?;
        let def = table_def(table).ok_or_else(|| format!("names no vouched table ({table})"))?;
        let cols: Vec<&str> = get(a, "columns")?
            .as_array()
            .ok_or("`columns` is not a list")?
            .iter()
            .map(|c| c.as_str().ok_or("a column name is not a text"))
            .collect::<Result<_, _>>()?;
        let rows = get(a, "rows")?.as_array().ok_or("`rows` is not a list")?;
        for row in rows {
            let vals = row.as_array().ok_or("a row is not a list")?;
            if vals.len() != cols.len() {
                return Err("a row does not have a value for each column".into());
            }
            let vals: Vec<V<'_>> = vals.iter().map(untag).collect::<Result<_, _>>()?;
            let col = |n: &str| {
                cols.iter()
                    .position(|c| *c == n)
                    .map(|i| vals[i])
                    .unwrap_or(V::Null)
            };
            let txt = |n: &str| match col(n) {
                V::Text(t) => Some(t.to_string()),
                _ => None,
            };
            let int_of = |n: &str| match col(n) {
                V::Int(i) => i,
                _ => 0,
            };
            let by_pk = |me: &mut Replay, pk: i64| me.by_pk.get(&pk).copied();
            match def.name {
                "portfolios" => {
                    let pk = int_of("pk");
                    let id = txt("id").unwrap_or_default();
                    let i = self.ports.len();
                    self.ports.push(Port {
                        pk,
                        id: id.clone(),
                        rubric_pk: int_of("rubric_pk"),
                        learner_id: txt("learner_id").unwrap_or_default(),
                        learner_name: txt("learner_name").unwrap_or_default(),
                        learner_email: txt("learner_email"),
                        submitted: txt("submitted").unwrap_or_default(),
                        revision: int_of("revision"),
                        status: txt("status").unwrap_or_default(),
                        assessor: txt("assessor"),
                        first_marker: txt("first_marker"),
                        evidence_changed: int_of("evidence_changed") != 0,
                        version: int_of("version"),
                        updated_at: txt("updated_at").unwrap_or_default(),
                        released_at: txt("released_at"),
                        decisions: [None, None],
                        settlement: None,
                        draw: None,
                        assess: [None, None],
                        seq_import: r.seq,
                        seq_status: r.seq,
                        seq_assessor: r.seq,
                        seq_outcome: r.seq,
                        seq_release: r.seq,
                    });
                    self.by_id.insert(id, i);
                    self.by_pk.insert(pk, i);
                    // (its row is put from this state at the end, like every portfolio's)
                    continue;
                }
                "assessments" => {
                    if let Some(i) = by_pk(self, int_of("portfolio_pk"))
                        && let Some(ph) = txt("phase").as_deref().and_then(phase_index)
                    {
                        self.ports[i].assess[ph] = Some(Assess {
                            seq: r.seq,
                            seq_marker: r.seq,
                            seq_comment: r.seq,
                            seq_choice: r.seq,
                            seq_submitted: r.seq,
                            marker: txt("marker").unwrap_or_default(),
                            comment: txt("comment"),
                            choice: txt("choice"),
                            rationale: txt("rationale"),
                            started_at: txt("started_at").unwrap_or_default(),
                            submitted_at: txt("submitted_at"),
                        });
                    }
                    continue;
                }
                "decisions" => {
                    if let Some(i) = by_pk(self, int_of("portfolio_pk"))
                        && let Some(ph) = txt("phase").as_deref().and_then(phase_index)
                    {
                        self.ports[i].decisions[ph] = Some(Dec {
                            pk: int_of("pk"),
                            outcome: txt("outcome").unwrap_or_default(),
                            grade: txt("grade"),
                            score: match col("score") {
                                V::Real(x) => x,
                                V::Int(x) => x as f64,
                                _ => 0.0,
                            },
                        });
                    }
                }
                "settlements" => {
                    if let Some(i) = by_pk(self, int_of("portfolio_pk")) {
                        self.ports[i].settlement = txt("action");
                    }
                }
                "draw_items" => {
                    if let Some(i) = by_pk(self, int_of("portfolio_pk")) {
                        self.ports[i].draw = Some(int_of("draw_pk"));
                    }
                }
                "users" => {
                    self.users.insert(
                        txt("name").unwrap_or_default(),
                        (
                            txt("role").unwrap_or_default(),
                            txt("added_by").unwrap_or_default(),
                            txt("added_at").unwrap_or_default(),
                            txt("ssh_key"),
                        ),
                    );
                    // (a baseline made before people had keys (schema 13) lists none)
                    let name = txt("name").unwrap_or_default();
                    if !cols.contains(&"ssh_key") {
                        self.put_user(&name, r.seq);
                        continue;
                    }
                }
                _ => {}
            }
            let mut image: Vec<(&'static str, V<'_>)> = cols
                .iter()
                .zip(&vals)
                .filter_map(|(c, v)| column_name(def, c).map(|n| (n, *v)))
                .collect();
            self.put(def.name, r.seq, &mut image);
        }
        Ok(())
    }

    /// The rows kept in the portfolio structures: each portfolio's row and its assessments.
    fn finish(&mut self) {
        let ports = std::mem::take(&mut self.ports);
        for p in &ports {
            let in_force = match (&p.decisions[0], p.settlement.as_deref()) {
                (Some(_), Some("amend")) => p.decisions[1].as_ref(),
                (first, _) => first.as_ref(),
            };
            let col_seq = |c: &str| match c {
                "rubric_pk" | "learner_id" | "learner_name" | "learner_email" | "submitted"
                | "revision" | "evidence_changed" | "id" | "pk" => Some(p.seq_import),
                "status" => Some(p.seq_status),
                "assessor" | "first_marker" => Some(p.seq_assessor),
                "outcome" | "grade" | "score" => Some(p.seq_outcome),
                "released_at" => Some(p.seq_release),
                _ => None,
            };
            self.put_seqs(
                "portfolios",
                p.version,
                &mut [
                    ("pk", V::Int(p.pk)),
                    ("id", t(&p.id)),
                    ("rubric_pk", V::Int(p.rubric_pk)),
                    ("learner_id", t(&p.learner_id)),
                    ("learner_name", t(&p.learner_name)),
                    ("learner_email", ot(p.learner_email.as_deref())),
                    ("submitted", t(&p.submitted)),
                    ("revision", V::Int(p.revision)),
                    ("status", t(&p.status)),
                    ("assessor", ot(p.assessor.as_deref())),
                    ("first_marker", ot(p.first_marker.as_deref())),
                    ("outcome", ot(in_force.map(|d| d.outcome.as_str()))),
                    ("grade", ot(in_force.and_then(|d| d.grade.as_deref()))),
                    ("score", in_force.map_or(V::Null, |d| V::Real(d.score))),
                    ("evidence_changed", V::Int(p.evidence_changed as i64)),
                    ("version", V::Int(p.version)),
                    ("released_at", ot(p.released_at.as_deref())),
                    ("updated_at", t(&p.updated_at)),
                ],
                &col_seq,
            );
            for (ph, a) in p.assess.iter().enumerate() {
                if let Some(a) = a {
                    let col_seq = |c: &str| match c {
                        "marker" => Some(a.seq_marker),
                        "comment" => Some(a.seq_comment),
                        "choice" | "rationale" => Some(a.seq_choice),
                        "submitted_at" => Some(a.seq_submitted),
                        _ => None,
                    };
                    self.put_seqs(
                        "assessments",
                        a.seq,
                        &mut [
                            ("portfolio_pk", V::Int(p.pk)),
                            ("phase", t(PHASES[ph])),
                            ("marker", t(&a.marker)),
                            ("comment", ot(a.comment.as_deref())),
                            ("choice", ot(a.choice.as_deref())),
                            ("rationale", ot(a.rationale.as_deref())),
                            ("started_at", t(&a.started_at)),
                            ("submitted_at", ot(a.submitted_at.as_deref())),
                        ],
                        &col_seq,
                    );
                }
            }
        }
        self.ports = ports;
    }

    fn portfolio_id(&self, pk: i64) -> Option<&str> {
        self.by_pk.get(&pk).map(|&i| self.ports[i].id.as_str())
    }
}

/// A value of a baseline row: `{"i": 1}`, `{"r": 0.5}`, `{"t": "text"}`, `{"b": "sha256"}`
/// (a blob by its hash), or null.
fn untag<'a>(v: &'a J<'a>) -> Result<V<'a>, String> {
    match v {
        J::Null => Ok(V::Null),
        J::Obj(_) => match v.first_entry() {
            Some(("i", x)) => x.as_i64().map(V::Int).ok_or("a bad integer".into()),
            Some(("r", x)) => x.as_f64().map(V::Real).ok_or("a bad number".into()),
            Some(("t", x)) => x.as_str().map(V::Text).ok_or("a bad text".into()),
            Some(("b", x)) => sha(x.as_str().ok_or("a bad blob hash")?).map(V::Blob),
            _ => Err("a value of no known kind".into()),
        },
        _ => Err("a value of no known kind".into()),
    }
}

fn tag(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => serde_json::json!({ "i": i }),
        ValueRef::Real(r) => serde_json::json!({ "r": r }),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => serde_json::json!({ "t": s }),
            Err(_) => serde_json::json!({ "b": hex::encode(Sha256::digest(t)) }),
        },
        ValueRef::Blob(b) => serde_json::json!({ "b": hex::encode(Sha256::digest(b)) }),
    }
}

/// A column of `def` by name, as the `'static` name the images use; `None` for one the
/// baseline should not have (left aside, or unknown).
fn column_name(def: &TableDef, name: &str) -> Option<&'static str> {
    if def.skip.contains(&name) {
        return None;
    }
    KNOWN_COLUMNS.iter().find(|c| **c == name).copied()
}

/// Every column of the vouched tables.
const KNOWN_COLUMNS: &[&str] = &[
    "key",
    "value",
    "name",
    "role",
    "added_by",
    "added_at",
    "ssh_key",
    "pk",
    "id",
    "version",
    "sha256",
    "title",
    "bytes",
    "imported_at",
    "size",
    "data",
    "rubric_pk",
    "learner_id",
    "learner_name",
    "learner_email",
    "submitted",
    "revision",
    "status",
    "assessor",
    "first_marker",
    "outcome",
    "grade",
    "score",
    "evidence_changed",
    "released_at",
    "updated_at",
    "portfolio_pk",
    "content_sha256",
    "manifest",
    "statement_sha",
    "statement_file",
    "ord",
    "kind",
    "file",
    "url",
    "date",
    "hours",
    "claims",
    "note",
    "blob_sha",
    "is_text",
    "group_title",
    "text_sha",
    "text_note",
    "owner",
    "text",
    "evidence_id",
    "phase",
    "marker",
    "comment",
    "choice",
    "rationale",
    "started_at",
    "submitted_at",
    "criterion",
    "level",
    "feedback",
    "by_user",
    "at",
    "gate",
    "rubric_sha",
    "score_num",
    "score_den",
    "computed",
    "borderline",
    "seed",
    "draw_pk",
    "drawn",
    "reason",
    "action",
    "format",
    "count",
    "target",
    "batch_pk",
];

/// Rows a baseline record holds.
const BASELINE_ROWS: usize = 2000;

/// When an older assay's workspace is first opened (schema 9), its records did not yet say
/// everything they vouch for: the rows of every vouched table are recorded as they stand, in
/// `baseline` records by `assay` at the end of the chain, inside the migration's transaction.
/// From them on, the chain vouches for everything; the records before are still checked as
/// links of the chain. A blob is vouched for by its hash (its bytes must match it), and a
/// rubric's bytes by the hash it was stored with. Returns the records written.
pub(crate) fn append_baseline(conn: &Connection) -> crate::store::db::Result<usize> {
    use crate::store::db::OptionalExtension;
    let head: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((mut seq, mut prev, last_at)) = head else {
        return Ok(0);
    };
    // A chain that has vouched for everything from its start (its first record is the
    // workspace's own, written by an assay of schema 9 or later) never gets a baseline: a lowered
    // schema version must not let assay vouch for rows changed behind its back.
    let vouched: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM audit WHERE action = 'workspace.init' OR action = 'baseline')",
        (),
        |r| r.get(0),
    )?;
    if vouched {
        return Ok(0);
    }
    let at = clock::after(Some(&last_at));
    let mut written = 0;
    for def in TABLES {
        let cols: Vec<String> = columns(conn, def.name)?
            .into_iter()
            .filter(|c| !def.skip.contains(&c.as_str()))
            .collect();
        let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
        let mut st = conn.prepare(&format!("SELECT {} FROM \"{}\"", list.join(", "), def.name))?;
        let mut rows = st.query(())?;
        let mut chunk: Vec<Value> = Vec::new();
        let mut n = 0usize;
        let mut flush = |chunk: &mut Vec<Value>, n: &mut usize| -> crate::store::db::Result<()> {
            if chunk.is_empty() {
                return Ok(());
            }
            seq += 1;
            *n += 1;
            let after = serde_json::json!({
                "table": def.name,
                "columns": cols,
                "rows": std::mem::take(chunk),
            });
            prev = super::audit::insert(
                conn,
                &super::audit::Entry {
                    seq,
                    at: &at,
                    actor: "assay",
                    action: "baseline",
                    entity: &format!("baseline/{}/{n}", def.name),
                    portfolio: None,
                    before: None,
                    after: Some(&after),
                    prev: &prev,
                },
                None,
            )
            .map_err(|e| match e {
                super::StoreError::Sql(e) => e,
                e => crate::store::db::Error::Other(e.to_string()),
            })?;
            written += 1;
            Ok(())
        };
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(cols.len());
            for (i, c) in cols.iter().enumerate() {
                let v = r.get_ref(i)?;
                // blobs by the hash they are kept under; a rubric's bytes by its stored hash
                let tagged = match (def.name, c.as_str()) {
                    ("blobs", "data") => serde_json::json!({ "b": r.get::<_, String>(0)? }),
                    ("rubrics", "bytes") => {
                        let at_sha = cols.iter().position(|c| c == "sha256").unwrap_or(0);
                        serde_json::json!({ "b": r.get::<_, String>(at_sha)? })
                    }
                    _ => tag(v),
                };
                row.push(tagged);
            }
            chunk.push(Value::Array(row));
            if chunk.len() >= BASELINE_ROWS {
                flush(&mut chunk, &mut n)?;
            }
        }
        flush(&mut chunk, &mut n)?;
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// Walking the chain
// ---------------------------------------------------------------------------------------------

/// Walks the chain, checking it and replaying it into `replay`. With `check`, each record's
/// hash is checked on another thread (see [`check_hashes`]) while this one checks the links,
/// numbers and times and replays; the problems are put in the order of the records, and of
/// the checks of each record (number, link, hash, time, JSON), as if all were made here.
fn walk(
    conn: &Connection,
    replay: &mut Replay,
    check: bool,
    problems: &mut Vec<Problem>,
    progress: &mut dyn FnMut(Stage, u64, u64),
) -> crate::store::db::Result<usize> {
    let mut found: Vec<(usize, u8, Problem)> = Vec::new();
    let walked = if check {
        std::thread::scope(|s| {
            let (to_check, batches) = std::sync::mpsc::sync_channel::<HashBatch>(8);
            let (give_back, returned) = std::sync::mpsc::channel::<HashBatch>();
            let checker = s.spawn(move || check_hashes(batches, give_back));
            let walked = walk_records(
                conn,
                replay,
                Some((to_check, returned)),
                &mut found,
                progress,
            );
            // (the sender went with the walk: the checker ends after the last batch)
            match checker.join() {
                Ok(altered) => {
                    found.extend(altered.into_iter().map(|(n, p)| (n, 2, p)));
                    walked
                }
                Err(_) => walked.and(Err(crate::store::db::Error::Other(
                    "the checker thread failed".into(),
                ))),
            }
        })
    } else {
        walk_records(conn, replay, None, &mut found, progress)
    };
    // (stable: the checks of one record stay in the order made)
    found.sort_by_key(|(n, stage, _)| (*n, *stage));
    problems.extend(found.into_iter().map(|(_, _, p)| p));
    walked
}

/// Records sent to [`check_hashes`]: their texts one after the other in `bytes`.
#[derive(Default)]
struct HashBatch {
    bytes: Vec<u8>,
    records: Vec<ToHash>,
}

/// One record to hash: where it is in the walk, its number, and where each of its texts is in
/// the batch's bytes (at, actor, action, entity, portfolio, before, after, prev, then the
/// hash it holds), as start and length (`u32::MAX`: none).
struct ToHash {
    n: usize,
    seq: i64,
    texts: [(u32, u32); 10],
    /// The key its author had registered: its signature (the tenth text) is checked with it.
    key: Option<std::sync::Arc<ssh_key::PublicKey>>,
}

/// A batch is sent when it holds this many records or bytes.
const BATCH_RECORDS: usize = 2048;
const BATCH_BYTES: usize = 1 << 20;

impl HashBatch {
    fn push(
        &mut self,
        n: usize,
        seq: i64,
        texts: [Option<&str>; 10],
        key: Option<std::sync::Arc<ssh_key::PublicKey>>,
    ) {
        let mut at = [(0u32, u32::MAX); 10];
        for (slot, t) in at.iter_mut().zip(texts) {
            if let Some(t) = t {
                *slot = (self.bytes.len() as u32, t.len() as u32);
                self.bytes.extend_from_slice(t.as_bytes());
            }
        }
        self.records.push(ToHash {
            n,
            seq,
            texts: at,
            key,
        });
    }

    fn full(&self) -> bool {
        self.records.len() >= BATCH_RECORDS || self.bytes.len() >= BATCH_BYTES
    }

    fn text(&self, (start, len): (u32, u32)) -> Option<&[u8]> {
        (len != u32::MAX).then(|| &self.bytes[start as usize..start as usize + len as usize])
    }
}

/// Checks the hash of every record it is sent: the problem of each whose content does not
/// match its hash, with where it is in the walk. Batches done are given back to be filled
/// again.
fn check_hashes(
    batches: std::sync::mpsc::Receiver<HashBatch>,
    give_back: std::sync::mpsc::Sender<HashBatch>,
) -> Vec<(usize, Problem)> {
    let mut altered = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    for mut batch in batches {
        for r in &batch.records {
            let t = |i: usize| batch.text(r.texts[i]);
            let texts = [t(0), t(1), t(2), t(3), t(4), t(5), t(6), t(7)];
            let h = hash_texts(&mut buf, r.seq, &texts);
            let mut hex_of = [0u8; 64];
            hex::encode_to_slice(h, &mut hex_of).expect("32 bytes are 64 digits");
            let text = |i: usize| String::from_utf8_lossy(t(i).unwrap_or_default());
            if let (Some(key), Some(sig)) = (&r.key, t(9)) {
                let sig = std::str::from_utf8(sig).unwrap_or_default();
                if let Err(why) = crate::domain::sshsig::check(key, &buf, sig) {
                    altered.push((
                        r.n,
                        Problem {
                            seq: Some(r.seq),
                            message: format!(
                                "({} {}) claims {} as its author, but {why}",
                                text(2),
                                text(3),
                                crate::domain::sanitize::sanitize_line(&text(1))
                            ),
                        },
                    ));
                }
            }
            if hex_of[..] != *t(8).unwrap_or_default() {
                altered.push((
                    r.n,
                    Problem {
                        seq: Some(r.seq),
                        message: format!(
                            "({} {}) was altered: its content does not match its hash",
                            text(2),
                            text(3)
                        ),
                    },
                ));
            }
        }
        batch.bytes.clear();
        batch.records.clear();
        let _ = give_back.send(batch);
    }
    altered
}

/// [`walk`] on this thread; with `hashing`, each record is sent there to have its hash
/// checked. Problems are found with where the record is in the walk and which check found
/// them.
fn walk_records(
    conn: &Connection,
    replay: &mut Replay,
    hashing: Option<(
        std::sync::mpsc::SyncSender<HashBatch>,
        std::sync::mpsc::Receiver<HashBatch>,
    )>,
    problems: &mut Vec<(usize, u8, Problem)>,
    progress: &mut dyn FnMut(Stage, u64, u64),
) -> crate::store::db::Result<usize> {
    let check = hashing.is_some();
    let mut batch = HashBatch::default();

    let total: i64 = conn.query_row("SELECT count(*) FROM audit", (), |r| r.get(0))?;
    // (a workspace has about one and a half writes of rows a record)
    replay.rows.reserve((total as usize).saturating_mul(2));
    let mut st = conn.prepare(
        "SELECT seq, at, actor, action, entity, portfolio, before, after, prev, hash, sig FROM audit ORDER BY seq",
    )?;
    // Each person's registered key as the chain has it so far: their records are signed.
    let mut keys: HashMap<String, std::sync::Arc<ssh_key::PublicKey>> = HashMap::new();
    let mut rows = st.query(())?;
    let mut prev_hash = GENESIS.to_string();
    let mut prev_at: Option<chrono::DateTime<chrono::Utc>> = None;
    let mut expect_seq = 1i64;
    let mut n = 0usize;
    while let Some(r) = rows.next()? {
        n += 1;
        if n.is_multiple_of(4096) {
            progress(Stage::Chain, n as u64, total as u64);
        }
        let seq: i64 = r.get(0)?;
        // (borrowed from the row; a value that is not text, written behind assay's back, is
        // read as the text it would print as, and its hash will not match)
        // (assay writes every column of a record as UTF-8 text: anything else — bytes that are not
        // UTF-8, which would read as the same U+FFFD, or a value of another type with the same
        // text — is reported, whatever its hash says)
        let not_text = std::cell::Cell::new(None::<usize>);
        let text_of = |i: usize| -> crate::store::db::Result<Option<std::borrow::Cow<'_, str>>> {
            Ok(match r.get_ref(i)? {
                ValueRef::Null => None,
                ValueRef::Text(t) => Some(match std::str::from_utf8(t) {
                    Ok(s) => std::borrow::Cow::Borrowed(s),
                    Err(_) => {
                        not_text.set(Some(i));
                        String::from_utf8_lossy(t)
                    }
                }),
                ValueRef::Blob(t) => {
                    not_text.set(Some(i));
                    Some(String::from_utf8_lossy(t))
                }
                ValueRef::Integer(v) => {
                    not_text.set(Some(i));
                    Some(v.to_string().into())
                }
                ValueRef::Real(f) => {
                    not_text.set(Some(i));
                    Some(f.to_string().into())
                }
            })
        };
        let at = text_of(1)?.unwrap_or_default();
        let actor = text_of(2)?.unwrap_or_default();
        let action = text_of(3)?.unwrap_or_default();
        let entity = text_of(4)?.unwrap_or_default();
        let portfolio = text_of(5)?;
        let before = text_of(6)?;
        let after = text_of(7)?;
        let prev = text_of(8)?.unwrap_or_default();
        let hash = text_of(9)?.unwrap_or_default();
        let sig = text_of(10)?;
        let key = keys.get(&*actor).cloned();
        // (whether a signature is there at all; the signature itself is checked with the hash)
        let who = crate::domain::sanitize::sanitize_line(&actor);
        let misplaced = match (&key, &sig) {
            (None, Some(_)) => Some(format!(
                "({action} {entity}) carries a signature, but its author {who} had no registered key then: assay signs only the records of people with keys"
            )),
            (Some(_), None) => Some(format!(
                "({action} {entity}) claims {who} as its author, who has a registered key, but it is unsigned"
            )),
            _ => None,
        };
        if check && let Some(message) = misplaced {
            problems.push((
                n,
                2,
                Problem {
                    seq: Some(seq),
                    message,
                },
            ));
        }
        if let Some((to_check, returned)) = &hashing {
            batch.push(
                n,
                seq,
                [
                    Some(&at),
                    Some(&actor),
                    Some(&action),
                    Some(&entity),
                    portfolio.as_deref(),
                    before.as_deref(),
                    after.as_deref(),
                    Some(&prev),
                    Some(&hash),
                    sig.as_deref(),
                ],
                key,
            );
            if batch.full() {
                let next = returned.try_recv().unwrap_or_default();
                // (a checker that is gone has panicked: `walk` says so)
                let _ = to_check.send(std::mem::replace(&mut batch, next));
            }
        }
        if check && let Some(i) = not_text.get() {
            const NAMES: [&str; 11] = [
                "seq",
                "at",
                "actor",
                "action",
                "entity",
                "portfolio",
                "before",
                "after",
                "prev",
                "hash",
                "sig",
            ];
            problems.push((
                n,
                4,
                Problem {
                    seq: Some(seq),
                    message: format!(
                        "was altered: its `{}` is not UTF-8 text as assay writes it",
                        NAMES[i]
                    ),
                },
            ));
        }
        if check {
            if seq != expect_seq {
                problems.push((
                    n,
                    0,
                    Problem {
                        seq: Some(seq),
                        message: if seq > expect_seq {
                            format!(
                                "records {expect_seq}..{} are missing from the chain (deleted)",
                                seq - 1
                            )
                        } else {
                            format!("is numbered {seq} but follows record {}", expect_seq - 1)
                        },
                    },
                ));
            }
            if prev != prev_hash {
                problems.push((
                    n,
                    1,
                    Problem {
                        seq: Some(seq),
                        message: "does not follow the record before it (its previous-hash does not match): a record before it was changed or deleted".into(),
                    },
                ));
            }
            // (its hash: checked on the other thread, stage 2)
            match clock::parse(&at) {
                None => problems.push((
                    n,
                    3,
                    Problem {
                        seq: Some(seq),
                        message: format!("has the time {at:?}, which is not an RFC 3339 time"),
                    },
                )),
                Some(t) => {
                    if let Some(p) = prev_at
                        && t < p
                    {
                        problems.push((
                            n,
                            3,
                            Problem {
                                seq: Some(seq),
                                message: format!(
                                    "is dated {at}, before the record it follows ({}): times along the chain never go backwards",
                                    clock::format(p)
                                ),
                            },
                        ));
                    }
                    prev_at = Some(t);
                }
            }
        }
        let after_v: Option<J<'_>> = match after.as_deref() {
            None => None,
            Some(s) => match J::parse(s) {
                Ok(v) => Some(v),
                Err(_) => {
                    problems.push((
                        n,
                        4,
                        Problem {
                            seq: Some(seq),
                            message: "holds a value that is not JSON".into(),
                        },
                    ));
                    None
                }
            },
        };
        if matches!(&*action, "user.add" | "user.key")
            && let Some(name) = entity.strip_prefix("user/")
        {
            let key = match after_v
                .as_ref()
                .and_then(|a| a.get("key"))
                .and_then(|k| k.as_str())
            {
                None => None,
                Some(k) => match crate::domain::sshsig::parse_public_key(k) {
                    Ok(k) => Some(k),
                    Err(why) => {
                        problems.push((
                            n,
                            4,
                            Problem {
                                seq: Some(seq),
                                message: format!("registers a key that cannot be used: {why}"),
                            },
                        ));
                        None
                    }
                },
            };
            match key {
                Some(k) => {
                    keys.insert(name.to_string(), std::sync::Arc::new(k));
                }
                None if action == "user.key" => {
                    keys.remove(name);
                }
                None => {}
            }
        }
        // The first baseline record (walked in order of `seq`): the records before it were
        // checked as links only; what the replay made of them is dropped.
        if action == "baseline" && replay.baseline_at.is_none() {
            replay.restart_at(seq);
        }
        replay.record(&Rec {
            seq,
            at: &at,
            actor: &actor,
            action: &action,
            entity: &entity,
            portfolio: portfolio.as_deref(),
            after: after_v.as_ref(),
        });
        prev_hash = hash.into_owned();
        expect_seq = seq + 1;
    }
    if let Some((to_check, _)) = hashing {
        let _ = to_check.send(batch);
    }
    progress(Stage::Chain, n as u64, total as u64);
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Reading the tables
// ---------------------------------------------------------------------------------------------

/// A row that differs from what the chain says: its key and what it holds.
struct Differs {
    key: u128,
    table: &'static str,
    /// The row as it is (`None`: missing, or not kept).
    actual: Option<Image>,
    present: bool,
}

/// The columns of `table`, in their order.
pub(crate) fn columns(conn: &Connection, table: &str) -> crate::store::db::Result<Vec<String>> {
    if conn.is_pg() {
        let mut st = conn.prepare(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
        )?;
        return st.query_map([table], |r| r.get(0))?.collect();
    }
    let mut st = conn.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let names = st.query_map((), |r| r.get::<_, String>(1))?;
    names.collect()
}

/// A row as it is: its key's digest, its own, its table (index into [`TABLES`]) and where it
/// was read (the rows of all tables counted in the order read).
#[derive(Debug, Clone, Copy)]
struct Actual {
    key: u128,
    digest: u128,
    table: u8,
    at: u32,
}

/// What reading the tables found, before comparing with the replay.
struct Scanned {
    rows: Vec<Actual>,
    problems: Vec<Problem>,
    blobs: usize,
}

impl Scanned {
    /// The rows sorted by key (those of one key in the order read), as [`compare`] takes them.
    fn by_key(mut self) -> Scanned {
        self.rows.sort_by_key(|a| a.key);
        self
    }
}

/// The columns of `def` verify reads (all but those left aside), and where its key columns
/// are among them; `None` when the table lacks a key column.
fn table_columns(
    conn: &Connection,
    def: &TableDef,
) -> crate::store::db::Result<Option<(Vec<String>, Vec<usize>)>> {
    let cols: Vec<String> = columns(conn, def.name)?
        .into_iter()
        .filter(|c| !def.skip.contains(&c.as_str()))
        .collect();
    let key_at: Option<Vec<usize>> = def
        .key
        .iter()
        .map(|k| cols.iter().position(|c| c == k))
        .collect();
    Ok(key_at.map(|k| (cols, k)))
}

/// Where [`scan_tables`] hands the full rows it was asked to keep: key, table, row.
type KeptRow<'a> = dyn FnMut(u128, &'static str, Image) + 'a;

/// Reads every row of every vouched table (blobs hashed again), reporting tables that are not
/// assay's or lack their keys. `done` counts rows as they are read. With `keep`, the full rows
/// whose keys are in it are handed to `kept` too.
fn scan_tables(
    conn: &Connection,
    done: &std::sync::atomic::AtomicU64,
    keep: Option<(&HashSet<u128>, &mut KeptRow<'_>)>,
) -> crate::store::db::Result<Scanned> {
    use std::sync::atomic::Ordering;
    let mut out = Scanned {
        rows: Vec::new(),
        problems: Vec::new(),
        blobs: 0,
    };
    let tables: Vec<String> = table_names(conn)?;
    for t in &tables {
        if table_def(t).is_none() && !NOT_FACTS.contains(&t.as_str()) {
            out.problems.push(Problem {
                seq: None,
                message: format!(
                    "table {} is not part of an assay workspace (made behind assay's back)",
                    crate::domain::sanitize::sanitize_line(t)
                ),
            });
        }
    }
    let mut keep = keep;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    for (ti, def) in TABLES.iter().enumerate() {
        if !tables.iter().any(|t| t == def.name) {
            out.problems.push(Problem {
                seq: None,
                message: format!("table {} is missing from the workspace", def.name),
            });
            continue;
        }
        let Some((cols, key_at)) = table_columns(conn, def)? else {
            out.problems.push(Problem {
                seq: None,
                message: format!(
                    "table {} lacks its key columns ({}): its columns were changed behind assay's back",
                    def.name,
                    def.key.join(", ")
                ),
            });
            continue;
        };
        // The digest takes the columns in name order: sorted once for the table.
        let mut order: Vec<usize> = (0..cols.len()).collect();
        order.sort_by(|&a, &b| cols[a].cmp(&cols[b]));
        let list: Vec<String> = cols.iter().map(|c| format!("\"{c}\"")).collect();
        let mut st = conn.prepare(&format!("SELECT {} FROM \"{}\"", list.join(", "), def.name))?;
        let mut rows = st.query(())?;
        while let Some(r) = rows.next()? {
            let mut vals: Vec<V<'_>> = Vec::with_capacity(cols.len());
            for i in 0..cols.len() {
                vals.push(v_of(r.get_ref(i)?));
            }
            let key: Vec<V<'_>> = key_at.iter().map(|&i| vals[i]).collect();
            let k = key_digest(def.name, &key, &mut buf);
            buf.clear();
            for &i in &order {
                feed_column(&mut buf, &cols[i], &vals[i]);
            }
            out.rows.push(Actual {
                key: k,
                digest: digest_of(&buf),
                table: ti as u8,
                at: out.rows.len() as u32,
            });
            if def.name == "blobs" {
                out.blobs += 1;
            }
            done.fetch_add(1, Ordering::Relaxed);
            if let Some((wanted, sink)) = keep.as_mut()
                && wanted.contains(&k)
            {
                let image: Image = cols
                    .iter()
                    .zip(vals.iter())
                    .map(|(n, x)| (n.clone(), x.owned()))
                    .collect();
                sink(k, def.name, image);
            }
        }
    }
    Ok(out)
}

/// Compares the rows as they are (sorted by key, rows of one key in the order read) with what
/// the replay expects (sorted by key): the rows that differ, those read first in the order
/// read, then those missing. A row read twice under one key differs the second time.
fn compare(expected: &[Write], actual: &[Actual]) -> Vec<Differs> {
    let mut present: Vec<(u32, Differs)> = Vec::new();
    let mut missing = Vec::new();
    let gone = |e: &Write| Differs {
        key: e.key,
        table: TABLES[e.table as usize].name,
        actual: None,
        present: false,
    };
    let differs = |a: &Actual| {
        (
            a.at,
            Differs {
                key: a.key,
                table: TABLES[a.table as usize].name,
                actual: None,
                present: true,
            },
        )
    };
    let (mut i, mut j) = (0, 0);
    while i < expected.len() || j < actual.len() {
        match (expected.get(i), actual.get(j)) {
            (Some(e), Some(a)) if e.key == a.key => {
                if e.digest != a.digest || e.table != a.table {
                    present.push(differs(a));
                }
                i += 1;
                j += 1;
                while let Some(again) = actual.get(j)
                    && again.key == e.key
                {
                    present.push(differs(again));
                    j += 1;
                }
            }
            (Some(e), Some(a)) if a.key < e.key => {
                present.push(differs(a));
                j += 1;
            }
            (Some(e), _) => {
                missing.push(gone(e));
                i += 1;
            }
            (None, Some(a)) => {
                present.push(differs(a));
                j += 1;
            }
            (None, None) => unreachable!("one of the two lists is left"),
        }
    }
    present.sort_unstable_by_key(|(at, _)| *at);
    present.into_iter().map(|(_, d)| d).chain(missing).collect()
}

/// Rows that differ beyond this many are counted, not described.
const MAX_DETAILED: usize = 200;

/// How a row is named in a report: its table and key, with the portfolio's id (and phase) where
/// the key does not say it.
fn row_name(replay: &Replay, table: &str, image: &Image) -> String {
    let def = table_def(table).expect("a vouched table");
    let col = |k: &str| image.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let portfolio = |pk: &Val| match pk {
        Val::Int(pk) => match replay.portfolio_id(*pk) {
            Some(id) => format!("portfolio {}", crate::domain::sanitize::sanitize_line(id)),
            None => format!("portfolio_pk {pk}"),
        },
        other => format!("portfolio_pk {other}"),
    };
    let mut parts = Vec::new();
    for k in def.key {
        let v = col(k).unwrap_or(Val::Null);
        parts.push(match *k {
            "portfolio_pk" => portfolio(&v),
            "pk" if table == "portfolios" => format!("{} (pk {v})", portfolio(&v)),
            _ => format!("{k} {v}"),
        });
    }
    if !def.key.contains(&"portfolio_pk")
        && table != "portfolios"
        && let Some(v) = col("portfolio_pk")
    {
        parts.push(format!("of {}", portfolio(&v)));
        if let Some(ph) = col("phase") {
            parts.push(format!("phase {ph}"));
        }
    }
    format!("{table} row {}", parts.join(", "))
}

/// The documents' word index is derived from the texts the record vouches for: its rows must be
/// exactly the distinct words of each current revision's document text (`search_words`), no
/// more, no fewer. Any other row, and any missing one, is reported with its columns.
fn document_words_problems(conn: &Connection) -> crate::store::db::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let exists = table_names(conn)?.iter().any(|t| t == "document_words");
    if !exists {
        out.push(Problem {
            seq: None,
            message: "table document_words is missing from the workspace".into(),
        });
        return Ok(out);
    }
    let problem = |m: String| Problem {
        seq: None,
        message: m,
    };
    let l = |s: &str| crate::domain::sanitize::sanitize_line(s);
    // What the texts give.
    let mut want: HashSet<(String, i64, String)> = HashSet::new();
    {
        let mut st = conn.prepare(
            "SELECT e.portfolio_pk, e.id, b.data
               FROM portfolios p
               JOIN evidence e ON e.portfolio_pk = p.pk AND e.revision = p.revision
               JOIN blobs b ON b.sha256 = e.text_sha
              WHERE e.text_sha IS NOT NULL",
        )?;
        let mut rows = st.query(())?;
        while let Some(r) = rows.next()? {
            let pk: i64 = r.get(0)?;
            let id: String = r.get(1)?;
            let text = match r.get_ref(2)? {
                ValueRef::Blob(b) | ValueRef::Text(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            };
            for w in crate::domain::extract::search_words(&text) {
                want.insert((w, pk, id.clone()));
            }
        }
    }
    // What the index holds.
    let mut st = conn.prepare("SELECT word, portfolio_pk, evidence_id FROM document_words")?;
    let mut rows = st.query(())?;
    let show = |v: ValueRef<'_>| match v {
        ValueRef::Text(t) => format!("`{}`", l(&String::from_utf8_lossy(t))),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Null => "NULL".into(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Blob(b) => format!("{} bytes", b.len()),
    };
    while let Some(r) = rows.next()? {
        let (w, pk, id) = (r.get_ref(0)?, r.get_ref(1)?, r.get_ref(2)?);
        let key = match (w, pk, id) {
            (ValueRef::Text(w), ValueRef::Integer(pk), ValueRef::Text(id)) => Some((
                String::from_utf8_lossy(w).into_owned(),
                pk,
                String::from_utf8_lossy(id).into_owned(),
            )),
            _ => None,
        };
        if !key.as_ref().is_some_and(|k| want.remove(k)) {
            out.push(problem(format!(
                "document_words row (word {}, portfolio_pk {}, evidence_id {}) is not a word of that document's text as the record holds it (changed behind assay's back)",
                show(w),
                show(pk),
                show(id)
            )));
        }
    }
    let mut missing: Vec<_> = want.into_iter().collect();
    missing.sort();
    for (w, pk, id) in missing.iter().take(50) {
        out.push(problem(format!(
            "document_words row (word `{}`, portfolio_pk {pk}, evidence_id `{}`) is missing: a word of that document's text was removed from the index behind assay's back",
            l(w),
            l(id)
        )));
    }
    if missing.len() > 50 {
        out.push(problem(format!(
            "document_words: {} more rows are missing",
            missing.len() - 50
        )));
    }
    Ok(out)
}

/// The CPU time of the calling thread (for `ASSAY_VERIFY_TIMING`).
fn thread_cpu() -> std::time::Duration {
    #[cfg(target_os = "linux")]
    {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage fills the struct it is given.
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
        std::time::Duration::new(ru.ru_utime.tv_sec as u64, ru.ru_utime.tv_usec as u32 * 1000)
    }
    #[cfg(not(target_os = "linux"))]
    {
        std::time::Duration::ZERO
    }
}

/// The count of each status the workbench reads (kept by triggers) against the portfolios
/// counted again.
fn status_counts_problems(conn: &Connection) -> crate::store::db::Result<Vec<Problem>> {
    let read = |sql: &str| -> crate::store::db::Result<Vec<(String, i64)>> {
        let mut st = conn.prepare(sql)?;
        st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
    };
    let kept = read("SELECT status, n FROM status_counts WHERE n <> 0 ORDER BY status")?;
    let counted = read("SELECT status, count(*) FROM portfolios GROUP BY status ORDER BY status")?;
    let mut out = Vec::new();
    let statuses: std::collections::BTreeSet<&String> =
        kept.iter().chain(&counted).map(|(s, _)| s).collect();
    let of = |v: &[(String, i64)], s: &str| v.iter().find(|(x, _)| x == s).map_or(0, |(_, n)| *n);
    for s in statuses {
        let (k, c) = (of(&kept, s), of(&counted, s));
        if k != c {
            out.push(Problem {
                seq: None,
                message: format!(
                    "status_counts row {}: n is {k}, but {c} portfolio(s) have that status: changed behind assay's back (the workbench shows these counts)",
                    crate::domain::sanitize::sanitize_line(s)
                ),
            });
        }
    }
    Ok(out)
}

/// The schema itself: every table, index, view and trigger of the workspace must be one assay's
/// migrations make, with the same definition (a trigger or a view added behind assay's back can
/// rewrite or hide what is read and written).
fn schema_problems(conn: &Connection) -> crate::store::db::Result<Vec<Problem>> {
    if conn.is_pg() {
        return server_schema_problems(conn);
    }
    type Object = (String, String, Option<String>);
    let read = |c: &Connection| -> crate::store::db::Result<Vec<Object>> {
        let mut st = c.prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )?;
        let rows = st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    };
    let reference = super::Store::memory().map_err(|e| match e {
        super::StoreError::Sql(e) => e,
        other => crate::store::db::Error::Other(other.to_string()),
    })?;
    let want = read(&reference.conn)?;
    let have = read(conn)?;
    let mut out = Vec::new();
    for (t, n, sql) in &have {
        match want.iter().find(|(wt, wn, _)| wt == t && wn == n) {
            None if t == "table" => {} // (reported with the tables' rows)
            None => out.push(Problem {
                seq: None,
                message: format!(
                    "the schema holds {t} {} that assay does not make (added behind assay's back): {}",
                    crate::domain::sanitize::sanitize_line(n),
                    crate::domain::sanitize::sanitize_line(sql.as_deref().unwrap_or(""))
                ),
            }),
            Some((_, _, wsql)) if wsql != sql => out.push(Problem {
                seq: None,
                message: format!(
                    "the definition of {t} {} was changed behind assay's back: it is {}",
                    crate::domain::sanitize::sanitize_line(n),
                    crate::domain::sanitize::sanitize_line(sql.as_deref().unwrap_or(""))
                ),
            }),
            Some(_) => {}
        }
    }
    for (t, n, _) in &want {
        if t != "table" && !have.iter().any(|(ht, hn, _)| ht == t && hn == n) {
            out.push(Problem {
                seq: None,
                message: format!(
                    "{t} {n} is missing from the workspace (dropped behind assay's back)"
                ),
            });
        }
    }
    Ok(out)
}

/// On a server: assay makes no trigger, rule, view or function, so any in the workspace's schema
/// was added behind its back (each can rewrite or hide what is read and written); its indexes
/// are those of its schema.
fn server_schema_problems(conn: &Connection) -> crate::store::db::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let mut st = conn.prepare(
        "SELECT 'trigger', CAST(t.tgname AS TEXT), CAST(c.relname AS TEXT) FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE NOT t.tgisinternal AND n.nspname = current_schema()
            AND NOT (c.relname = 'portfolios'
                     AND t.tgname IN ('status_counts_insert_delete', 'status_counts_update'))
         UNION ALL
         SELECT 'rule', CAST(rulename AS TEXT), CAST(tablename AS TEXT) FROM pg_rules
          WHERE schemaname = current_schema()
         UNION ALL
         SELECT 'view', CAST(viewname AS TEXT), '' FROM pg_views WHERE schemaname = current_schema()
            AND viewname NOT IN ('assay_portfolios', 'assay_draw_items', 'assay_first_hidden_set',
                                 'assay_first_hidden_ids')
         UNION ALL
         SELECT 'function', CAST(p.proname AS TEXT), '' FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()
            AND p.proname NOT IN ('assay_is_lead', 'assay_is_person', 'assay_first_hidden',
                                  'assay_first_hidden_id', 'assay_head', 'assay_append',
                                  'assay_draw_candidates', 'assay_second_decided',
                                  'assay_count_status')
         ORDER BY 1, 2",
    )?;
    let found: Vec<(String, String, String)> = st
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<crate::store::db::Result<_>>()?;
    for (kind, name, on) in found {
        let on = if on.is_empty() {
            String::new()
        } else {
            format!(" on {}", crate::domain::sanitize::sanitize_line(&on))
        };
        out.push(Problem {
            seq: None,
            message: format!(
                "the schema holds {kind} {}{on} that assay does not make (added behind assay's back)",
                crate::domain::sanitize::sanitize_line(&name)
            ),
        });
    }
    out.extend(server_definition_problems(conn)?);
    // The rubrics' blind flags the database's rules read, against the rubrics themselves.
    let mut st = conn.prepare(
        "SELECT r.pk, r.id, r.version, r.bytes, b.blind FROM rubrics r
           LEFT JOIN rubric_rules b ON b.rubric_pk = r.pk ORDER BY r.pk",
    )?;
    type Rule = (i64, String, String, Vec<u8>, Option<bool>);
    let rules: Vec<Rule> = st
        .query_map((), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<crate::store::db::Result<_>>()?;
    for (_, id, version, bytes, blind) in rules {
        let want = crate::domain::rubric::load("(stored)", &bytes)
            .map(|l| l.rubric.moderation.blind)
            .unwrap_or(false);
        if blind != Some(want) {
            out.push(Problem {
                seq: None,
                message: format!(
                    "rubric_rules says rubric {}@{} is {} but its file says {}: changed behind assay's back (the database's blind rules read it)",
                    crate::domain::sanitize::sanitize_line(&id),
                    crate::domain::sanitize::sanitize_line(&version),
                    match blind {
                        Some(true) => "blind",
                        Some(false) => "not blind",
                        None => "missing",
                    },
                    if want { "blind" } else { "not blind" }
                ),
            });
        }
    }
    let want: HashSet<&str> = server_sql()
        .flat_map(str::lines)
        .filter_map(|l| l.strip_prefix("CREATE INDEX "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut st = conn.prepare(
        "SELECT CAST(i.indexname AS TEXT) FROM pg_indexes i
          WHERE i.schemaname = current_schema()
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
          ORDER BY 1",
    )?;
    let have: Vec<String> = st
        .query_map((), |r| r.get(0))?
        .collect::<crate::store::db::Result<_>>()?;
    for n in &have {
        if !want.contains(n.as_str()) {
            out.push(Problem {
                seq: None,
                message: format!(
                    "the schema holds index {} that assay does not make (added behind assay's back)",
                    crate::domain::sanitize::sanitize_line(n)
                ),
            });
        }
    }
    for n in want {
        if !have.iter().any(|h| h == n) {
            out.push(Problem {
                seq: None,
                message: format!(
                    "index {n} is missing from the workspace (dropped behind assay's back)"
                ),
            });
        }
    }
    Ok(out)
}

/// The SQL that makes a server workspace, in the order it is run: its schema, its access
/// rules, then each migration.
fn server_sql() -> impl Iterator<Item = &'static str> {
    [include_str!("pg_schema.sql"), include_str!("pg_access.sql")]
        .into_iter()
        .chain(super::SERVER_MIGRATIONS.iter().map(|(_, sql)| *sql))
}

/// The bodies of the functions assay makes on a server, by name: the last definition of each in
/// its schema files (the text between `AS $$` and `$$`, which PostgreSQL keeps as `prosrc`).
fn server_function_bodies() -> HashMap<&'static str, &'static str> {
    let mut out = HashMap::new();
    for sql in server_sql() {
        let mut rest = sql;
        while let Some(at) = rest.find("CREATE FUNCTION ") {
            rest = &rest[at + "CREATE FUNCTION ".len()..];
            let Some(name) = rest.split('(').next() else {
                break;
            };
            let Some(open) = rest.find("$$") else { break };
            let body = &rest[open + 2..];
            let Some(close) = body.find("$$") else { break };
            out.insert(name.trim(), &body[..close]);
            rest = &body[close + 2..];
        }
    }
    out
}

/// On a server: assay's own functions and triggers as assay made them. A function must run with
/// its owner's rights, search the workspace's schema and then pg_temp, and hold the body of its
/// schema files (one rewritten could let anyone write anything, or hide what it checks); the
/// triggers that keep the status counts must be there, enabled, after the change, on each row,
/// and call the counting function.
fn server_definition_problems(conn: &Connection) -> crate::store::db::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let bodies = server_function_bodies();
    let mut st = conn.prepare(
        "SELECT CAST(p.proname AS TEXT), p.prosecdef,
                coalesce(array_to_string(p.proconfig, ';'), '') =
                    'search_path=' || quote_ident(current_schema()) || ', pg_temp',
                p.prosrc
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema() ORDER BY 1",
    )?;
    let found: Vec<(String, bool, bool, String)> = st
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<crate::store::db::Result<_>>()?;
    for (name, definer, path, body) in &found {
        // (a function assay does not make is reported with the schema's other additions)
        let Some(want) = bodies.get(name.as_str()) else {
            continue;
        };
        let what = if body != want {
            "its body"
        } else if !definer {
            "the rights it runs with"
        } else if !path {
            "its search path"
        } else {
            continue;
        };
        out.push(Problem {
            seq: None,
            message: format!(
                "function {} was changed behind assay's back ({what} is not what assay made)",
                crate::domain::sanitize::sanitize_line(name)
            ),
        });
    }
    let mut names: Vec<&&str> = bodies.keys().collect();
    names.sort();
    for name in names {
        if !found.iter().any(|f| f.0 == **name) {
            out.push(Problem {
                seq: None,
                message: format!(
                    "function {name} is missing from the workspace (dropped behind assay's back)"
                ),
            });
        }
    }
    // The functions whose use is revoked from everyone (the owner's own, or a trigger's) must
    // still be: one granted back could let anyone write through it.
    let revoked: Vec<&str> = server_sql()
        .flat_map(str::lines)
        .filter_map(|l| l.strip_prefix("REVOKE ALL ON FUNCTION "))
        .filter_map(|l| l.split('(').next())
        .collect();
    let mut st = conn.prepare(
        "SELECT CAST(p.proname AS TEXT) FROM pg_proc p
           JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = current_schema() AND has_function_privilege('public', p.oid, 'EXECUTE')
          ORDER BY 1",
    )?;
    let open: Vec<String> = st
        .query_map((), |r| r.get(0))?
        .collect::<crate::store::db::Result<_>>()?;
    for name in open.iter().filter(|n| revoked.contains(&n.as_str())) {
        out.push(Problem {
            seq: None,
            message: format!(
                "function {} may be run by anyone (granted behind assay's back; assay revokes it from PUBLIC)",
                crate::domain::sanitize::sanitize_line(name)
            ),
        });
    }
    // (type bits: 1 each row, 2 before, 4 insert, 8 delete, 16 update; and the definition, for
    // the column it watches and its condition)
    let mut st = conn.prepare(
        "SELECT CAST(t.tgname AS TEXT), CAST(t.tgenabled AS TEXT), CAST(p.proname AS TEXT),
                CAST(t.tgtype AS INTEGER), pg_get_triggerdef(t.oid)
           FROM pg_trigger t
           JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND c.relname = 'portfolios'",
    )?;
    type Trigger = (String, String, String, i32, String);
    let triggers: Vec<Trigger> = st
        .query_map((), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<crate::store::db::Result<_>>()?;
    // (what pg_get_triggerdef says of each, around the table's qualified name)
    for (name, kind, head, tail) in [
        (
            "status_counts_insert_delete",
            1 | 4 | 8,
            "AFTER INSERT OR DELETE ON ",
            " FOR EACH ROW EXECUTE FUNCTION assay_count_status()",
        ),
        (
            "status_counts_update",
            1 | 16,
            "AFTER UPDATE OF status ON ",
            " FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION assay_count_status()",
        ),
    ] {
        let problem = match triggers.iter().find(|t| t.0 == name) {
            None => "is missing (dropped behind assay's back)",
            Some((_, enabled, _, _, _)) if enabled != "O" => {
                "is disabled (behind assay's back: the status counts are no longer kept)"
            }
            Some((_, _, f, k, def))
                if f != "assay_count_status"
                    || *k != kind
                    || !def.contains(head)
                    || !def.ends_with(tail) =>
            {
                "was changed behind assay's back (it is not the trigger assay made)"
            }
            Some(_) => continue,
        };
        out.push(Problem {
            seq: None,
            message: format!("trigger {name} on portfolios {problem}"),
        });
    }
    Ok(out)
}

/// A second, read-only connection to the workspace file of `conn` whose snapshot is the one
/// `conn` reads (the same head of the chain); `None` for a database in memory, or when the
/// workspace keeps changing.
fn twin_at(conn: &Connection, head: i64) -> Option<Connection> {
    let path = conn.path().filter(|p| !p.is_empty())?;
    for _ in 0..3 {
        let c = Connection::open_with_flags(
            path,
            crate::store::db::OpenFlags::SQLITE_OPEN_READ_ONLY
                | crate::store::db::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        c.busy_timeout(super::busy_timeout()).ok()?;
        c.execute_batch(&format!(
            "PRAGMA cache_size = -16000; PRAGMA mmap_size = {VERIFY_MMAP}; BEGIN DEFERRED"
        ))
        .ok()?;
        if super::audit::head(&c).ok()? == head {
            return Some(c);
        }
    }
    None
}

/// How much of the workspace file verify maps into memory (bytes).
const VERIFY_MMAP: i64 = 1 << 40;

/// Walks the chain, checks it, and compares every table with what it says. `progress` is told
/// how far each stage has come.
pub fn verify(
    conn: &Connection,
    progress: &mut dyn FnMut(Stage, u64, u64),
) -> crate::store::db::Result<Verification> {
    let mut v = Verification::default();
    // The whole file is read once: mapped, its pages are not copied into the page cache (SQLite
    // caps the map at its own limit; the rest is read as usual). Put back as it was after.
    // (a database in memory has no map: nothing to set)
    let mmap: Option<i64> = match conn.is_pg() {
        true => None,
        false => {
            use crate::store::db::OptionalExtension;
            conn.query_row("PRAGMA mmap_size", (), |r| r.get(0))
                .optional()?
        }
    };
    if mmap.is_some() {
        conn.execute_batch(&format!("PRAGMA mmap_size = {VERIFY_MMAP}"))?;
    }
    // One snapshot for the whole check: a change committed meanwhile is not half seen.
    let begin = match conn.is_pg() {
        true => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        false => "BEGIN DEFERRED",
    };
    let r = conn.execute_batch(begin).and_then(|()| {
        let r = verify_in(conn, &mut v, progress);
        let _ = conn.execute_batch("COMMIT");
        r
    });
    if let Some(mmap) = mmap {
        let _ = conn.execute_batch(&format!("PRAGMA mmap_size = {mmap}"));
    }
    r?;
    v.problems.sort_by_key(|p| p.seq.unwrap_or(i64::MAX));
    Ok(v)
}

fn verify_in(
    conn: &Connection,
    v: &mut Verification,
    progress: &mut dyn FnMut(Stage, u64, u64),
) -> crate::store::db::Result<()> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let head = super::audit::head(conn)?;
    let mut replay = Replay::default();
    let mut problems = Vec::new();
    let done = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    // The tables are read on a second connection at the same snapshot (the same head of the
    // chain: every change appends a record), on another core, while this one walks the chain.
    let twin = twin_at(conn, head);
    let timing = std::env::var_os("ASSAY_VERIFY_TIMING").is_some();
    let t0 = std::time::Instant::now();
    let (walked, scanned, expected) = std::thread::scope(|s| {
        let scanner = twin.map(|c| {
            let (done, finished) = (&done, &finished);
            s.spawn(move || {
                // (the documents' word index is checked at the same snapshot, on this core too)
                let r = scan_tables(&c, done, None)
                    .map(Scanned::by_key)
                    .and_then(|mut sc| {
                        sc.problems.extend(document_words_problems(&c)?);
                        Ok(sc)
                    });
                finished.store(true, Ordering::Relaxed);
                r
            })
        });
        let walked = walk(conn, &mut replay, true, &mut problems, progress);
        if timing {
            eprintln!(
                "walk {:?} ({:?} of this thread's CPU; {} writes of rows)",
                t0.elapsed(),
                thread_cpu(),
                replay.rows.len()
            );
        }
        // (what the replay expects does not wait for the tables: it is made while they are
        // still being read)
        replay.finish();
        let expected = replay.expected();
        if timing {
            eprintln!("expected rows {:?}", t0.elapsed());
        }
        let scanned = match scanner {
            Some(h) => {
                while !finished.load(Ordering::Relaxed) {
                    progress(Stage::Tables, done.load(Ordering::Relaxed), 0);
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                h.join().unwrap_or_else(|_| {
                    Err(crate::store::db::Error::Other(
                        "the scanning thread failed".into(),
                    ))
                })
            }
            None => scan_tables(conn, &done, None)
                .map(Scanned::by_key)
                .and_then(|mut sc| {
                    sc.problems.extend(document_words_problems(conn)?);
                    Ok(sc)
                }),
        };
        (walked, scanned, expected)
    });
    v.records = walked?;
    let scanned = scanned?;
    problems.extend(schema_problems(conn)?);
    problems.extend(status_counts_problems(conn)?);
    if timing {
        eprintln!("walk and scan {:?}", t0.elapsed());
    }
    problems.append(&mut replay.problems);
    problems.extend(scanned.problems);
    v.rows = scanned.rows.len();
    v.blobs = scanned.blobs;
    let mut differs = compare(&expected, &scanned.rows);
    drop(expected);
    drop(scanned.rows);
    progress(Stage::Tables, v.rows as u64, v.rows as u64);
    if timing {
        eprintln!("compared {:?}", t0.elapsed());
    }
    if !differs.is_empty() {
        // Once more, keeping the rows concerned whole, to say what differs: as they are, and as
        // the chain says they must be.
        let keep: HashSet<u128> = differs.iter().take(MAX_DETAILED).map(|d| d.key).collect();
        let mut images: HashMap<u128, Image> = HashMap::new();
        scan_tables(
            conn,
            &AtomicU64::new(0),
            Some((&keep, &mut |k, _, image| {
                images.insert(k, image);
            })),
        )?;
        for d in differs.iter_mut() {
            d.actual = images.remove(&d.key);
        }
        let mut detail = Replay {
            keep: Some(keep),
            ..Replay::default()
        };
        let mut ignored = Vec::new();
        walk(conn, &mut detail, false, &mut ignored, &mut |_, _, _| {})?;
        detail.finish();
        let detail_rows = detail.expected();
        let shown = differs.len().min(MAX_DETAILED);
        let mut row_problems = Vec::new();
        for d in differs.iter().take(shown) {
            let expected = detail.kept.get(&d.key);
            let mut seq = detail_rows
                .binary_search_by_key(&d.key, |w| w.key)
                .ok()
                .map(|i| detail_rows[i].seq);
            let message = match (expected, &d.actual) {
                (Some(want), Some(have)) => {
                    let mut diffs = Vec::new();
                    for (n, hv) in have {
                        match want.iter().find(|(m, _, _)| m == n) {
                            Some((_, wv, _)) if wv.as_v() == hv.as_v() => {}
                            Some((_, wv, s)) => {
                                if diffs.is_empty() {
                                    seq = Some(*s);
                                }
                                diffs.push(format!(
                                    "{n} is {hv} in the database but the chain recorded {wv}"
                                ))
                            }
                            None => diffs
                                .push(format!("{n} holds {hv}, which the chain never recorded")),
                        }
                    }
                    for (m, wv, _) in want {
                        if !have.iter().any(|(n, _)| n == m) {
                            diffs.push(format!(
                                "{m} is missing from the table; the chain recorded {wv}"
                            ));
                        }
                    }
                    if diffs.is_empty() {
                        diffs.push("differs from what the chain recorded".into());
                    }
                    format!("{}: {}", row_name(&detail, d.table, have), diffs.join("; "))
                }
                (None, Some(have)) => format!(
                    "{} is in the database but the chain never recorded it (added behind assay's back)",
                    row_name(&detail, d.table, have)
                ),
                (Some(want), None) => {
                    let want: Image = want
                        .iter()
                        .map(|(n, v, _)| (n.clone(), v.clone()))
                        .collect();
                    format!(
                        "{} is missing from the database but the chain recorded it (deleted behind assay's back)",
                        row_name(&detail, d.table, &want)
                    )
                }
                (None, None) if d.present => {
                    format!("a row of {} differs from the chain", d.table)
                }
                (None, None) => format!("a row of {} is missing from the database", d.table),
            };
            row_problems.push(Problem { seq, message });
        }
        // Each row problem names the record that last wrote the row, and what it was.
        let mut st = conn.prepare_cached("SELECT action, entity FROM audit WHERE seq = ?1")?;
        for p in &mut row_problems {
            if let Some(seq) = p.seq
                && let Ok((action, entity)) = st.query_row([seq], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
            {
                p.message = format!(
                    "({} {}) {}",
                    crate::domain::sanitize::sanitize_line(&action),
                    crate::domain::sanitize::sanitize_line(&entity),
                    p.message
                );
            }
        }
        problems.append(&mut row_problems);
        if differs.len() > shown {
            problems.push(Problem {
                seq: None,
                message: format!(
                    "and {} more rows differ from what the chain recorded",
                    differs.len() - shown
                ),
            });
        }
    }
    v.problems.append(&mut problems);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hashes are checked on another thread, in batches: a record whose content or hash
    /// was changed is found wherever it is (first, last, across batches), and its problems
    /// come in the order of the checks of one record.
    #[test]
    fn a_forged_record_is_found_in_any_batch() {
        let mut store = super::super::Store::memory().unwrap();
        let start = super::super::audit::head(&store.conn).unwrap();
        let mut tx = store.begin("lead").unwrap();
        let n = 3 * BATCH_RECORDS as i64 + 17;
        for i in 0..n {
            tx.append(
                "user.add",
                format!("user/u{i}"),
                None,
                None,
                Some(serde_json::json!({ "role": "assessor" })),
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let last = start + n;
        let altered = |store: &super::super::Store| -> Vec<Problem> {
            verify(&store.conn, &mut |_, _, _| {})
                .unwrap()
                .problems
                .into_iter()
                .filter(|p| {
                    p.message.contains("was altered")
                        || p.message.contains("does not follow")
                        || p.message.contains("RFC 3339")
                })
                .collect()
        };
        assert_eq!(altered(&store), vec![]);
        let mid = start + BATCH_RECORDS as i64 + 1;
        let forged_hash = start + 2 * BATCH_RECORDS as i64;
        let bad_time = start + 2 * BATCH_RECORDS as i64 + 5;
        for seq in [1, mid, last] {
            store
                .conn
                .execute(
                    "UPDATE audit SET after = '{\"role\":\"lead\"}' WHERE seq = ?1",
                    [seq],
                )
                .unwrap();
        }
        store
            .conn
            .execute(
                "UPDATE audit SET hash = ?1 WHERE seq = ?2",
                crate::store::db::params!["0".repeat(64), forged_hash],
            )
            .unwrap();
        store
            .conn
            .execute(
                "UPDATE audit SET at = 'yesterday' WHERE seq = ?1",
                [bad_time],
            )
            .unwrap();
        let found: Vec<(Option<i64>, bool)> = altered(&store)
            .iter()
            .map(|p| (p.seq, p.message.contains("was altered")))
            .collect();
        assert_eq!(
            found,
            vec![
                (Some(1), true),
                (Some(mid), true),
                (Some(forged_hash), true),
                (Some(forged_hash + 1), false),
                (Some(bad_time), true),
                (Some(bad_time), false),
                (Some(last), true),
            ]
        );
        let first = altered(&store).remove(0);
        assert!(
            first
                .message
                .starts_with("(workspace.init workspace) was altered")
                || first
                    .message
                    .contains(") was altered: its content does not match its hash"),
            "{first}"
        );
    }
}
