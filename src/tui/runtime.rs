//! The runtime: performs the commands `update` asks for against the workspace, and feeds the
//! answers back as messages. The terminal loop and the tests both drive the workbench through
//! it; only editing in `$EDITOR` and opening files with the system opener are left to the
//! terminal edge.

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use super::model::{Assess, Cmd, Loaded, Lower, Model, Msg, Pane, QueueRow, Saved};
use super::update::update;
use crate::app::export::Format;
use crate::app::mark::{self, Phase, head};
use crate::app::query::fuzzy_rank;
use crate::app::{AppError, Workspace};
use crate::domain::decision;
use crate::domain::sanitize::sanitize_bytes;

/// A request to the filter worker: generation, query, haystacks.
pub type FilterReq = (u64, String, Arc<Vec<String>>);
/// The previous filter run: query, haystacks, matches.
pub type Previous = (String, Arc<Vec<String>>, Vec<usize>);

/// The way to the filter worker: its requests, and the slot through which it learns the order of
/// the workbench's queue (see [`Runtime`]).
pub struct FilterTx {
    tx: Sender<FilterReq>,
    slot: Arc<Mutex<Option<Arc<QueueOrder>>>>,
}

impl FilterTx {
    pub fn send(&self, req: FilterReq) -> Result<(), std::sync::mpsc::SendError<FilterReq>> {
        self.tx.send(req)
    }
    fn set_order(&self, order: Option<Arc<QueueOrder>>) {
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = order;
    }
    fn order(&self) -> Option<Arc<QueueOrder>> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The workbench's queue as the filter worker needs it: the workspace file, and the row key of
/// the portfolio at each position of the queue. The worker ranks the search texts as they stream
/// from the database instead of keeping them all in memory.
struct QueueOrder {
    db: std::path::PathBuf,
    pks: Vec<i64>,
}

pub struct Runtime {
    pub ws: Workspace,
    pub model: Model,
    /// The haystacks of the loaded queue, shared with the filter worker (left empty when the
    /// worker streams them from the database).
    haystacks: Arc<Vec<String>>,
    /// When set, fuzzy filtering runs on a worker thread and answers through the channel.
    filter_tx: Option<FilterTx>,
    /// When set, exports run on a thread with their own connection to this database, and report
    /// progress through the channel.
    background: Option<(std::path::PathBuf, Sender<Msg>)>,
    /// The last audit record the loaded queue reflects: returning to the queue re-reads only the
    /// portfolios recorded since.
    queue_seq: Option<i64>,
    /// Where copies of evidence for the system's opener go: made on first use, removed with
    /// everything in it when the workbench ends.
    private: Option<crate::app::files::PrivateDir>,
}

/// What the worker keeps for a queue order: (row key, position) by row key.
struct Streaming {
    order: Arc<QueueOrder>,
    by_pk: Vec<(i64, u32)>,
}

/// A fuzzy filter worker: always works on the newest request; narrows from the previous result
/// when the new query extends the old one. In the workbench (when the runtime has given it the
/// queue's order) it ranks the search texts as they stream from the database, on two
/// connections, so the haystacks of 100,000 portfolios are never all in memory; otherwise it
/// ranks the haystacks sent with the request.
pub fn spawn_filter_worker(out: Sender<Msg>) -> FilterTx {
    let (tx, rx): (Sender<FilterReq>, Receiver<FilterReq>) = std::sync::mpsc::channel();
    let slot: Arc<Mutex<Option<Arc<QueueOrder>>>> = Arc::default();
    let ftx = FilterTx {
        tx,
        slot: slot.clone(),
    };
    std::thread::spawn(move || {
        let mut last: Option<Previous> = None;
        let mut streamed: Option<(String, Arc<QueueOrder>, Vec<usize>)> = None;
        let mut streaming: Option<Streaming> = None;
        let mut conns: Option<(
            std::path::PathBuf,
            rusqlite::Connection,
            rusqlite::Connection,
        )> = None;
        while let Ok(mut req) = rx.recv() {
            while let Ok(newer) = rx.try_recv() {
                req = newer;
            }
            let (generation, query, hay) = req;
            let order = slot.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let matched = match order {
                Some(order) => {
                    let prev = streamed.take().filter(|(q, o, _)| {
                        Arc::ptr_eq(o, &order) && query.starts_with(q.as_str()) && !q.is_empty()
                    });
                    let m = filter_streaming(
                        &query,
                        &order,
                        prev.as_ref().map(|(_, _, m)| m.as_slice()),
                        &mut streaming,
                        &mut conns,
                    );
                    streamed = Some((query, order, m.clone()));
                    m
                }
                None => {
                    let m = filter(&query, &hay, last.as_ref());
                    last = Some((query, hay, m.clone()));
                    m
                }
            };
            if out
                .send(Msg::Filtered {
                    generation,
                    matched,
                })
                .is_err()
            {
                break;
            }
        }
    });
    ftx
}

/// [`filter`] over the search texts in the database, for the queue in `order`: the same ranking
/// (ties by queue position, or, when narrowing from `prev`, by the order of `prev`).
fn filter_streaming(
    query: &str,
    order: &Arc<QueueOrder>,
    prev: Option<&[usize]>,
    streaming: &mut Option<Streaming>,
    conns: &mut Option<(
        std::path::PathBuf,
        rusqlite::Connection,
        rusqlite::Connection,
    )>,
) -> Vec<usize> {
    if !streaming
        .as_ref()
        .is_some_and(|s| Arc::ptr_eq(&s.order, order))
    {
        let mut by_pk: Vec<(i64, u32)> = order
            .pks
            .iter()
            .enumerate()
            .map(|(i, &pk)| (pk, i as u32))
            .collect();
        by_pk.sort_unstable();
        *streaming = Some(Streaming {
            order: order.clone(),
            by_pk,
        });
    }
    let Some(s) = streaming.as_ref() else {
        return Vec::new();
    };
    if conns.as_ref().is_none_or(|(db, _, _)| *db != order.db) {
        let open = || {
            let c = rusqlite::Connection::open_with_flags(
                &order.db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .ok()?;
            c.busy_timeout(crate::store::busy_timeout()).ok()?;
            Some(c)
        };
        *conns = match (open(), open()) {
            (Some(a), Some(b)) => Some((order.db.clone(), a, b)),
            _ => None,
        };
    }
    let Some((_, first, second)) = conns.as_mut() else {
        return Vec::new();
    };
    // When narrowing: each candidate's place in the previous result, which breaks ties.
    let rank: Option<Vec<u32>> = prev.map(|p| {
        let mut r = vec![0u32; order.pks.len()];
        for (k, &pos) in p.iter().enumerate() {
            if let Some(x) = r.get_mut(pos) {
                *x = k as u32 + 1;
            }
        }
        r
    });
    let pick = |pk: i64| -> Option<u64> {
        let i = s.by_pk.binary_search_by_key(&pk, |&(k, _)| k).ok()?;
        let pos = s.by_pk[i].1;
        match &rank {
            Some(r) => match r[pos as usize] {
                0 => None,
                k => Some(u64::from(k - 1)),
            },
            None => Some(u64::from(pos)),
        }
    };
    match crate::app::query::rank_search(first, Some(second), query, pick, usize::MAX) {
        Ok(hits) => hits
            .into_iter()
            .map(|(_, key)| match prev {
                Some(p) => p[key as usize],
                None => key as usize,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Ranks the haystacks against the query, best first. Narrows from a previous result when the
/// query only grew (every match of "abc" is a match of "ab").
pub fn filter(query: &str, hay: &Arc<Vec<String>>, prev: Option<&Previous>) -> Vec<usize> {
    let candidates: Option<&Vec<usize>> = prev
        .filter(|(q, h, _)| Arc::ptr_eq(h, hay) && query.starts_with(q.as_str()) && !q.is_empty())
        .map(|(_, _, m)| m);
    match candidates {
        Some(c) => {
            let subset: Vec<(usize, &str)> = c.iter().map(|&i| (i, hay[i].as_str())).collect();
            fuzzy_rank(query, &subset, |(_, t)| t, usize::MAX)
                .into_iter()
                .map(|(_, k)| subset[k].0)
                .collect()
        }
        None => fuzzy_rank(query, hay.as_slice(), |t| t.as_str(), usize::MAX)
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
    }
}

impl Runtime {
    pub fn new(ws: Workspace, model: Model) -> Runtime {
        Runtime {
            ws,
            model,
            haystacks: Arc::new(Vec::new()),
            filter_tx: None,
            background: None,
            queue_seq: None,
            private: None,
        }
    }

    pub fn with_filter_worker(mut self, tx: FilterTx) -> Runtime {
        self.filter_tx = Some(tx);
        self
    }

    /// Runs exports off the render path, on their own connection to `db`.
    pub fn with_background(mut self, db: std::path::PathBuf, tx: Sender<Msg>) -> Runtime {
        self.background = Some((db, tx));
        self
    }

    /// Loads the queue and returns to the portfolio that was open when the workbench last closed.
    pub fn start(&mut self) -> Vec<Cmd> {
        let mut deferred = self.dispatch_cmds(vec![Cmd::LoadQueue { select: None }]);
        if let Ok(Some(id)) = self.ws.recalled(&self.remember_key())
            && self.ws.portfolio_pk(&id).is_ok()
        {
            deferred.extend(self.dispatch_cmds(vec![Cmd::Open { id }]));
        }
        deferred
    }

    fn remember_key(&self) -> String {
        format!("ui.open.{}", self.ws.user)
    }

    /// Feeds a message through `update` and performs the resulting commands. Returns the
    /// commands only the terminal edge can perform (external editor, system opener, quit).
    pub fn dispatch(&mut self, msg: Msg) -> Vec<Cmd> {
        let cmds = update(&mut self.model, msg);
        self.dispatch_cmds(cmds)
    }

    fn dispatch_cmds(&mut self, cmds: Vec<Cmd>) -> Vec<Cmd> {
        let mut deferred = Vec::new();
        for c in cmds {
            match c {
                Cmd::EditExternal { .. } | Cmd::OpenExternal { .. } | Cmd::Quit => deferred.push(c),
                other => {
                    for msg in self.perform(other) {
                        deferred.extend(self.dispatch(msg));
                    }
                }
            }
        }
        deferred
    }

    fn perform(&mut self, cmd: Cmd) -> Vec<Msg> {
        match cmd {
            Cmd::LoadQueue { select } => match self.load_queue(select) {
                Ok(m) => vec![m],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::Filter { generation, query } => match &self.filter_tx {
                Some(tx) => {
                    let _ = tx.send((generation, query, self.haystacks.clone()));
                    vec![]
                }
                None => vec![Msg::Filtered {
                    generation,
                    matched: filter(&query, &self.haystacks, None),
                }],
            },
            Cmd::Open { id } => match self.open(&id) {
                Ok(a) => vec![Msg::Opened(Box::new(a))],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::Save { change, undo } => {
                let Some(a) = &self.model.assess else {
                    return vec![];
                };
                let (id, phase, version) = (a.id.clone(), a.phase, a.version);
                match self.ws.save(&id, phase, &change, Some(version)) {
                    Ok(v) => match self.ws.preview(&id, phase) {
                        Ok((eval, sheet)) => vec![Msg::Saved {
                            version: v,
                            sheet,
                            eval,
                            undo,
                            note: Some(saved_note(&change)),
                        }],
                        Err(e) => vec![Msg::Failed(e.lines().join("; "))],
                    },
                    Err(AppError::Conflict(msg)) => {
                        let mut out = vec![Msg::Failed(msg)];
                        if let Ok(a) = self.open(&id) {
                            out.insert(0, Msg::Opened(Box::new(a)));
                        }
                        out
                    }
                    Err(e) => vec![Msg::Failed(e.lines().join("; "))],
                }
            }
            Cmd::SaveCursor { cursor } => {
                if let Some(a) = &self.model.assess {
                    let (id, phase) = (a.id.clone(), a.phase);
                    let _ = self.ws.save_cursor(&id, phase, cursor);
                }
                vec![]
            }
            Cmd::Submit => {
                let Some(a) = &self.model.assess else {
                    return vec![];
                };
                let (id, phase, version) = (a.id.clone(), a.phase, a.version);
                match self.ws.submit(&id, phase, None, None, Some(version)) {
                    Ok(s) => {
                        let summary = format!(
                            "submitted {id}: {}{} — score {}",
                            s.outcome,
                            s.evaluation
                                .grade
                                .as_ref()
                                .filter(|_| s.outcome == decision::Outcome::Awarded)
                                .map(|g| format!(" ({g})"))
                                .unwrap_or_default(),
                            s.evaluation.score
                        );
                        let mut out = Vec::new();
                        if let Ok(a) = self.open(&id) {
                            out.push(Msg::Opened(Box::new(a)));
                        }
                        out.push(Msg::Submitted { summary });
                        out
                    }
                    Err(e) => vec![Msg::Failed(e.lines().join("; "))],
                }
            }
            Cmd::LoadStats => match self.ws.stats(None) {
                Ok(s) => vec![Msg::StatsLoaded(s)],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::LoadExport => {
                let counted = |ws: &Workspace| match ws.ready(None) {
                    Ok(r) => Msg::ExportReady(r),
                    Err(e) => Msg::Failed(e.lines().join("; ")),
                };
                match &self.background {
                    // (counting a large workspace takes a moment: on another core, the
                    // screen shows the counts when they come)
                    Some((db, tx)) => {
                        let (db, tx, user) = (db.clone(), tx.clone(), self.ws.user.clone());
                        std::thread::spawn(move || {
                            let msg = match Workspace::open(&db, user) {
                                Ok(ws) => counted(&ws),
                                Err(e) => Msg::Failed(e.lines().join("; ")),
                            };
                            let _ = tx.send(msg);
                        });
                        vec![]
                    }
                    None => vec![counted(&self.ws)],
                }
            }
            Cmd::RunExport(format) => {
                let out = self.export_target(format);
                match &self.background {
                    Some((db, tx)) => {
                        let (db, tx, user) = (db.clone(), tx.clone(), self.ws.user.clone());
                        std::thread::spawn(move || {
                            let msg = match Workspace::open(&db, user) {
                                Ok(mut ws) => {
                                    run_export(&mut ws, format, &out, &mut |done, total| {
                                        let _ = tx.send(Msg::ExportProgress { done, total });
                                    })
                                }
                                Err(e) => Msg::ExportDone(e.lines().join("; "), false),
                            };
                            let _ = tx.send(msg);
                        });
                        vec![]
                    }
                    None => vec![run_export(&mut self.ws, format, &out, &mut |_, _| {})],
                }
            }
            Cmd::Settle { amend } => {
                let Some(a) = &self.model.assess else {
                    return vec![];
                };
                let (id, version) = (a.id.clone(), a.version);
                let how = if amend.is_some() {
                    crate::app::moderation::Settle::Amend
                } else {
                    crate::app::moderation::Settle::Confirm
                };
                let amended = amend.is_some();
                match self.ws.settle(&id, how, amend, Some(version)) {
                    Ok(()) => {
                        let mut out = Vec::new();
                        if let Ok(a) = self.open(&id) {
                            out.push(Msg::Opened(Box::new(a)));
                        }
                        out.push(Msg::Settled(format!(
                            "{id} moderated: {}",
                            if amended {
                                "amended to the second marks"
                            } else {
                                "first decision confirmed"
                            }
                        )));
                        out
                    }
                    Err(e) => vec![Msg::Failed(e.lines().join("; "))],
                }
            }
            Cmd::Remember { open } => {
                let key = self.remember_key();
                let _ = self.ws.remember(&key, open.as_deref());
                vec![]
            }
            Cmd::EditExternal { .. } | Cmd::OpenExternal { .. } | Cmd::Quit => vec![],
        }
    }

    /// Loads the queue. Returning to it re-reads only what changed (see
    /// [`Runtime::refresh_queue`]). Otherwise every portfolio is read — a large workspace in two
    /// halves, the second on a connection of its own — without the search texts: with a filter
    /// worker those stream from the database as it ranks them, so they are never all in memory.
    fn load_queue(&mut self, select: Option<String>) -> Result<Msg, AppError> {
        if select.is_some()
            && let Some(since) = self.queue_seq
            && let Some(msg) = self.refresh_queue(since, &select)?
        {
            return Ok(msg);
        }
        let seq = crate::store::audit::head(self.ws.conn())?;
        let user = self.ws.user.clone();
        // Row keys are given in order and never reused: their range bounds the number of rows.
        let range = crate::store::key_range(self.ws.conn(), "portfolios", "pk")?;
        let n = range.map_or(0, |(lo, hi)| {
            usize::try_from(hi - lo + 1).unwrap_or(0).min(1 << 20)
        });
        // A large queue is read in two halves of the row keys, the second on a connection of
        // its own on another core.
        let halves = match (&self.background, range) {
            (Some(_), Some(range)) if n >= 20_000 => Some(range),
            _ => None,
        };
        let parts = match (&self.background, halves) {
            (Some((db, _)), Some((lo, hi))) if hi > lo => {
                let mid = lo + (hi - lo) / 2;
                let (db, who) = (db.clone(), user.clone());
                let second = std::thread::spawn(move || {
                    let ws = Workspace::open(&db, who.clone())?;
                    read_queue(&ws, &who, Some((mid + 1, hi)))
                });
                let first = read_queue(&self.ws, &user, Some((lo, mid)))?;
                let other = second
                    .join()
                    .map_err(|_| AppError::refused("reading the queue failed"))??;
                vec![first, other]
            }
            _ => vec![read_queue(&self.ws, &user, None)?],
        };
        let (rows, pks, counted) = in_queue_order(parts);
        match (&self.filter_tx, &self.background) {
            // The worker ranks the texts as they stream from the database.
            (Some(ftx), Some((db, _))) => {
                ftx.set_order(Some(Arc::new(QueueOrder {
                    db: db.clone(),
                    pks,
                })));
                self.haystacks = Arc::new(Vec::new());
            }
            _ => self.haystacks = Arc::new(read_haystacks(&self.ws, &pks)?),
        }
        self.queue_seq = Some(seq);
        let mut rubrics: std::collections::BTreeSet<&str> = Default::default();
        let mut last = None;
        for r in &rows {
            if last != Some(&*r.rubric) {
                rubrics.insert(&*r.rubric);
                last = Some(&*r.rubric);
            }
        }
        let rubrics: Vec<String> = rubrics.into_iter().map(str::to_string).collect();
        // As `Workspace::counts`: by status, in workflow order.
        let mut counts: Vec<(String, i64)> = counted.into_iter().collect();
        counts.sort_by_key(|(s, _)| status_order(s));
        Ok(Msg::QueueLoaded(Box::new(Loaded {
            rows,
            counts,
            rubrics,
            select,
        })))
    }

    /// Brings the loaded queue up to date by re-reading only the portfolios that the audit chain
    /// records as changed since `since` (every change to a portfolio appends a record naming
    /// it), moving each to its place (and its haystack, or for the filter worker its row key,
    /// with it). `None` when a full load is needed instead: an import or an export since, many
    /// changes, or haystacks that someone else holds just now.
    fn refresh_queue(
        &mut self,
        since: i64,
        select: &Option<String>,
    ) -> Result<Option<Msg>, AppError> {
        let mut changed: Vec<String> = Vec::new();
        let mut seq = since;
        {
            let mut st = self.ws.conn().prepare_cached(
                "SELECT seq, action, portfolio FROM audit WHERE seq > ?1 ORDER BY seq",
            )?;
            let mut recs = st.query([since])?;
            while let Some(r) = recs.next()? {
                seq = r.get(0)?;
                let action: String = r.get(1)?;
                match (action.as_str(), r.get::<_, Option<String>>(2)?) {
                    ("import" | "import.revision", _) => return Ok(None),
                    (_, Some(p)) => {
                        if !changed.contains(&p) {
                            changed.push(p);
                        }
                        if changed.len() > 64 {
                            return Ok(None);
                        }
                    }
                    ("user.add" | "rubric.import", None) => {}
                    (_, None) => return Ok(None),
                }
            }
        }
        let user = self.ws.user.clone();
        let mut fresh: Vec<QueueRow> = Vec::with_capacity(changed.len());
        for id in &changed {
            self.ws
                .for_each_queue_row(Some(id), |r| fresh.push(QueueRow::from_row(r, &user)))?;
        }
        if fresh.len() != changed.len() || self.model.queue.rows.is_empty() {
            return Ok(None);
        }
        // The haystacks (or, for the worker, the row keys) move with their rows.
        let streaming = match (&self.filter_tx, &self.background) {
            (Some(ftx), Some(_)) => Some(ftx),
            _ => None,
        };
        let mut hay: Option<Vec<String>> = None;
        let mut order: Option<QueueOrder> = None;
        if !fresh.is_empty() {
            match streaming {
                Some(ftx) => match ftx.order() {
                    Some(o) if o.pks.len() == self.model.queue.rows.len() => {
                        order = Some(QueueOrder {
                            db: o.db.clone(),
                            pks: o.pks.clone(),
                        })
                    }
                    _ => return Ok(None),
                },
                None => match Arc::try_unwrap(std::mem::take(&mut self.haystacks)) {
                    Ok(v) if v.len() == self.model.queue.rows.len() => hay = Some(v),
                    Ok(v) => {
                        self.haystacks = Arc::new(v);
                        return Ok(None);
                    }
                    Err(h) => {
                        self.haystacks = h;
                        return Ok(None);
                    }
                },
            }
        }
        let q = &mut self.model.queue;
        let mut rows = std::mem::take(&mut q.rows);
        let mut counts = q.counts.clone();
        for new in fresh {
            let Some(old) = rows.iter().position(|r| r.id == new.id) else {
                // Not in the queue yet (cannot happen without an import): read it all.
                q.rows = rows;
                if let Some(v) = hay {
                    self.haystacks = Arc::new(v);
                }
                return Ok(None);
            };
            bump(&mut counts, &rows[old].status, -1);
            bump(&mut counts, &new.status, 1);
            // Where it goes among the others, kept in (key, id) order.
            let k = (queue_key(&new), new.id.as_str());
            let before = rows.partition_point(|r| (queue_key(r), r.id.as_str()) < k);
            let at = if old < before { before - 1 } else { before };
            if at >= old {
                rows[old..=at].rotate_left(1);
                if let Some(v) = &mut hay {
                    v[old..=at].rotate_left(1);
                }
                if let Some(o) = &mut order {
                    o.pks[old..=at].rotate_left(1);
                }
            } else {
                rows[at..=old].rotate_right(1);
                if let Some(v) = &mut hay {
                    v[at..=old].rotate_right(1);
                }
                if let Some(o) = &mut order {
                    o.pks[at..=old].rotate_right(1);
                }
            }
            rows[at] = new;
        }
        let rubrics = q.rubrics.clone();
        if let Some(v) = hay {
            self.haystacks = Arc::new(v);
        }
        if let (Some(o), Some(ftx)) = (order, streaming) {
            // A new order (a new `Arc`): the worker does not narrow from results on the old one.
            ftx.set_order(Some(Arc::new(o)));
        }
        self.queue_seq = Some(seq);
        Ok(Some(Msg::QueueLoaded(Box::new(Loaded {
            rows,
            counts,
            rubrics,
            select: select.clone(),
        }))))
    }

    /// Reads one portfolio for the assessment screen, choosing the phase the person works in.
    pub fn open(&self, id: &str) -> Result<Assess, AppError> {
        let ws = &self.ws;
        let user = ws.user.clone();
        let h = head(ws.conn(), id)?;
        let rubric = ws.rubric(h.rubric_pk)?;
        let second_done = mark::decision(ws.conn(), h.pk, Phase::Second)?.is_some();
        let phase = if h.status == "sampled" && h.first_marker.as_deref() != Some(user.as_str()) {
            Phase::Second
        } else {
            Phase::First
        };
        let sheet = mark::sheet(ws.conn(), h.pk, phase)?;
        let check = mark::check_may_mark(ws.conn(), &user, &h, phase, sheet.marker.as_deref());
        let (editable, readonly_reason) = match check {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.lines().join(" "))),
        };
        let detail = ws.detail(id)?;
        let blind = phase == Phase::Second && rubric.moderation.blind && !second_done;
        let first = if phase == Phase::Second && !blind {
            detail.first.clone()
        } else {
            None
        };
        let mut texts = std::collections::HashMap::new();
        for e in &detail.evidence {
            if e.is_text
                && let Some(sha) = &e.sha256
                && let Some(bytes) = ws.blob(sha)?
            {
                texts.insert(sha.clone(), sanitize_bytes(&bytes));
            }
        }
        let eval = decision::evaluate(&rubric, &sheet.to_marks());
        let items = rubric.criteria.len() + rubric.gates.len();
        let selected = usize::try_from(sheet.cursor)
            .unwrap_or(0)
            .min(items.saturating_sub(1));
        Ok(Assess {
            id: h.id.clone(),
            learner: crate::domain::sanitize::sanitize_line(&detail.row.learner_name),
            learner_id: crate::domain::sanitize::sanitize_line(&detail.row.learner_id),
            rubric,
            phase,
            editable,
            readonly_reason,
            sheet,
            version: detail.version,
            eval,
            status: h.status.clone(),
            evidence_changed: h.evidence_changed,
            selected,
            pane: Pane::Criteria,
            lower: Lower::Evidence,
            evidence: detail.evidence,
            evidence_pos: 0,
            scroll: 0,
            statement: detail.statement.map(|s| sanitize_bytes(s.as_bytes())),
            texts,
            undo: Vec::new(),
            saved: Saved::Saved,
            blind,
            first,
        })
    }

    /// Where the workbench writes an export: `exports/` beside the database.
    fn export_target(&self, f: Format) -> std::path::PathBuf {
        let base = self
            .background
            .as_ref()
            .and_then(|(db, _)| db.parent().map(|p| p.to_path_buf()))
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::PathBuf::from("."))
            .join("exports");
        let stamp = crate::app::now().replace([':', '-'], "");
        match f {
            Format::Csv => base.join(format!("decisions-{stamp}.csv")),
            Format::Jsonl => base.join(format!("decisions-{stamp}.jsonl")),
            other => base.join(other.as_str()),
        }
    }

    /// Writes an evidence blob for the system opener into the workbench's private folder (mode
    /// 0700, made fresh, removed when the workbench ends; the file new, mode 0600).
    pub fn export_blob(&mut self, sha: &str, name: &str) -> Result<std::path::PathBuf, AppError> {
        let bytes = self
            .ws
            .blob(sha)?
            .ok_or_else(|| AppError::NotFound(format!("evidence {sha} is not in the workspace")))?;
        if self.private.is_none() {
            self.private = Some(crate::app::files::PrivateDir::new()?);
        }
        let dir = self.private.as_ref().expect("made above");
        Ok(dir.write(name, &bytes)?)
    }
}

/// Runs one export and says how it went.
fn run_export(
    ws: &mut Workspace,
    f: Format,
    out: &std::path::Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Msg {
    if let Some(dir) = if f.is_folder() {
        Some(out)
    } else {
        out.parent()
    } && let Err(e) = std::fs::create_dir_all(dir)
    {
        return Msg::ExportDone(format!("cannot create {}: {e}", dir.display()), false);
    }
    match ws.export(f, out, None, false, false, progress) {
        Ok(r) if r.count == 0 => {
            Msg::ExportDone(format!("nothing new to export as {}", f.as_str()), true)
        }
        Ok(r) => Msg::ExportDone(
            format!(
                "exported {} decision(s) as {} to {} (batch {})",
                r.count,
                f.as_str(),
                out.display(),
                r.batch
            ),
            true,
        ),
        Err(e) => Msg::ExportDone(e.lines().join("; "), false),
    }
}

/// The queue's groups, in the order they are shown: the current person's work first, then by
/// status in workflow order (any status not of the workflow last). A row's place is its
/// group's, then its id's.
const GROUPS: usize = 2 * 8;

fn group_of(r: &QueueRow) -> usize {
    let (others, status) = queue_key(r);
    usize::from(others) * 8 + status.min(7)
}

/// Queue rows of one group, with their row keys, as read.
#[derive(Default)]
struct Group {
    rows: Vec<QueueRow>,
    pks: Vec<i64>,
    /// Each row's id is greater than the one before (true of a workspace read in row-key
    /// order whose ids were given in order, as an import does).
    in_id_order: bool,
}

/// Queue rows read from the workspace, by group, and the count of each status.
struct QueuePart {
    groups: Vec<Group>,
    counted: std::collections::BTreeMap<String, i64>,
}

impl QueuePart {
    fn new() -> QueuePart {
        QueuePart {
            groups: (0..GROUPS)
                .map(|_| Group {
                    in_id_order: true,
                    ..Group::default()
                })
                .collect(),
            counted: Default::default(),
        }
    }

    /// Adds the row of portfolio `pk` to its group and counts its status (as the row shows it,
    /// the key `bump` uses when a row changes).
    fn push(&mut self, q: QueueRow, pk: i64) {
        match self.counted.get_mut(&*q.status) {
            Some(c) => *c += 1,
            None => {
                self.counted.insert(q.status.to_string(), 1);
            }
        }
        let g = &mut self.groups[group_of(&q)];
        if g.rows.last().is_some_and(|last| last.id >= q.id) {
            g.in_id_order = false;
        }
        g.rows.push(q);
        g.pks.push(pk);
    }
}

/// Reads the queue rows (those whose row key is in `range`, when given), in row-key order,
/// each into its group.
fn read_queue(
    ws: &Workspace,
    user: &str,
    range: Option<(i64, i64)>,
) -> Result<QueuePart, AppError> {
    let mut part = QueuePart::new();
    // The "rubric@version" label, sanitised once per rubric rather than once per row.
    let mut labels: std::collections::HashMap<i64, Arc<str>> = Default::default();
    let add = |r: &crate::app::query::Row| {
        let label = labels
            .entry(r.rubric_pk)
            .or_insert_with(|| QueueRow::label(r));
        part.push(QueueRow::with_label(r, user, label.clone()), r.pk);
    };
    match range {
        Some((from, to)) => ws.for_each_queue_row_in(from, to, add)?,
        None => ws.for_each_queue_row(None, add)?,
    }
    Ok(part)
}

/// The rows of `parts` (read from consecutive ranges of row keys) in queue order, with their
/// row keys and the count of each status. When every group's ids rise from part to part (the
/// usual case) the groups are only put one after the other; otherwise the rows are sorted.
fn in_queue_order(
    parts: Vec<QueuePart>,
) -> (
    Vec<QueueRow>,
    Vec<i64>,
    std::collections::BTreeMap<String, i64>,
) {
    let mut counted = std::collections::BTreeMap::new();
    let mut groups: Vec<Vec<Group>> = (0..GROUPS).map(|_| Vec::new()).collect();
    for part in parts {
        for (status, c) in part.counted {
            *counted.entry(status).or_default() += c;
        }
        for (i, g) in part.groups.into_iter().enumerate() {
            if !g.rows.is_empty() {
                groups[i].push(g);
            }
        }
    }
    let ordered = groups.iter().all(|gs| {
        gs.iter().all(|g| g.in_id_order)
            && gs
                .windows(2)
                .all(|w| match (w[0].rows.last(), w[1].rows.first()) {
                    (Some(a), Some(b)) => a.id < b.id,
                    _ => true,
                })
    });
    let total: usize = groups.iter().flatten().map(|g| g.rows.len()).sum();
    let (mut rows, mut pks) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for g in groups.iter_mut().flatten() {
        rows.append(&mut g.rows);
        pks.append(&mut g.pks);
    }
    if !ordered {
        // (rows already grouped; sorted within by id)
        let mut idx: Vec<u32> = (0..rows.len() as u32).collect();
        idx.sort_by(|&a, &b| {
            let (a, b) = (&rows[a as usize], &rows[b as usize]);
            (group_of(a), &a.id).cmp(&(group_of(b), &b.id))
        });
        permute(&mut rows, &mut pks, &idx);
    }
    (rows, pks, counted)
}

/// Where a row goes in the queue: the current person's work first, then by status in workflow
/// order (then by id).
fn queue_key(r: &QueueRow) -> (bool, usize) {
    (!r.mine, status_order(&r.status))
}

fn status_order(s: &str) -> usize {
    crate::app::query::STATUSES
        .iter()
        .position(|x| *x == s)
        .unwrap_or(99)
}

/// Adds `delta` to the count of `status`, keeping the counts as `Workspace::counts` gives them:
/// by status in workflow order, none at zero.
fn bump(counts: &mut Vec<(String, i64)>, status: &str, delta: i64) {
    match counts.iter().position(|(s, _)| s == status) {
        Some(i) => {
            counts[i].1 += delta;
            if counts[i].1 <= 0 {
                counts.remove(i);
            }
        }
        None if delta > 0 => {
            let k = (status_order(status), status);
            let at = counts.partition_point(|(s, _)| (status_order(s), s.as_str()) < k);
            counts.insert(at, (status.to_string(), delta));
        }
        None => {}
    }
}

/// The haystacks of the queue's rows (given by row key, in queue order), from the workspace.
fn read_haystacks(ws: &Workspace, pks: &[i64]) -> Result<Vec<String>, AppError> {
    let at: std::collections::HashMap<i64, usize> =
        pks.iter().enumerate().map(|(i, &pk)| (pk, i)).collect();
    let mut hay = vec![String::new(); pks.len()];
    ws.for_each_search_text(|pk, text| {
        if let Some(&i) = at.get(&pk) {
            hay[i] = text.to_string();
        }
    })?;
    Ok(hay)
}

/// Puts `a` and `b` in the order `idx` gives (the element at position `p` becomes the one that
/// was at `idx[p]`), in place, following the permutation's cycles.
fn permute<A, B>(a: &mut [A], b: &mut [B], idx: &[u32]) {
    let mut done = vec![false; idx.len()];
    for i in 0..idx.len() {
        let mut j = i;
        while !done[j] {
            done[j] = true;
            let k = idx[j] as usize;
            if k == i {
                break;
            }
            a.swap(j, k);
            b.swap(j, k);
            j = k;
        }
    }
}

fn saved_note(c: &mark::Change) -> String {
    use mark::Change::*;
    match c {
        Level(cid, Some(l)) => format!("saved: {cid} → {l}"),
        Level(cid, None) => format!("saved: {cid} cleared"),
        Feedback(cid, _) => format!("saved: feedback on {cid}"),
        Gate(g, true) => format!("saved: gate {g} confirmed"),
        Gate(g, false) => format!("saved: gate {g} withdrawn"),
        Comment(_) => "saved: overall comment".into(),
        Choice(Some(o), _) => {
            format!("saved: outcome {o} chosen over the rule's (applies on submit)")
        }
        Choice(None, _) => "saved: back to the rule's outcome".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn queue_row(id: &str, status: &'static str, mine: bool) -> QueueRow {
        QueueRow {
            id: id.into(),
            learner: "L".into(),
            rubric: Arc::from("r@1"),
            submitted: "2026-01-01".into(),
            status: Cow::Borrowed(status),
            outcome: Cow::Borrowed(""),
            mine,
            second_done: false,
        }
    }

    /// A part as `read_queue` makes it from rows given in row-key order (row key = position).
    fn part(rows: &[(&str, &'static str, bool)], first_pk: i64) -> QueuePart {
        let mut part = QueuePart::new();
        for (i, (id, status, mine)) in rows.iter().enumerate() {
            part.push(queue_row(id, status, *mine), first_pk + i as i64);
        }
        part
    }

    fn order(parts: Vec<QueuePart>) -> Vec<(String, i64)> {
        let (rows, pks, _) = in_queue_order(parts);
        rows.iter().map(|r| r.id.to_string()).zip(pks).collect()
    }

    #[test]
    fn queue_order_is_mine_first_then_status_then_id_from_either_path() {
        let a = [
            ("P-1", "released", false),
            ("P-2", "new", false),
            ("P-3", "in_progress", true),
            ("P-4", "new", false),
        ];
        let b = [
            ("P-5", "submitted", true),
            ("P-6", "new", false),
            ("P-7", "odd", false),
        ];
        let expected: Vec<(String, i64)> = [
            ("P-3", 3),
            ("P-5", 5),
            ("P-2", 2),
            ("P-4", 4),
            ("P-6", 6),
            ("P-1", 1),
            ("P-7", 7),
        ]
        .iter()
        .map(|(id, pk)| (id.to_string(), *pk))
        .collect();
        // Ids rising with the row keys: the groups are put one after the other.
        assert_eq!(order(vec![part(&a, 1), part(&b, 5)]), expected);
        // The same rows read with ids out of order (renamed): sorted instead.
        let shuffled_a = [a[3], a[2], a[1], a[0]];
        let shuffled_b = [b[2], b[1], b[0]];
        let (rows, pks, counted) = in_queue_order(vec![part(&shuffled_b, 5), part(&shuffled_a, 1)]);
        let got: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            got,
            expected
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
        );
        // Each row keeps its own row key through the sort.
        for (r, pk) in rows.iter().zip(&pks) {
            let i = shuffled_a
                .iter()
                .position(|x| x.0 == r.id)
                .map(|p| 1 + p as i64)
                .or_else(|| {
                    shuffled_b
                        .iter()
                        .position(|x| x.0 == r.id)
                        .map(|p| 5 + p as i64)
                });
            assert_eq!(Some(*pk), i, "{}", r.id);
        }
        assert_eq!(counted["new"], 3);
    }
}
