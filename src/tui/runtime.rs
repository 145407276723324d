//! The runtime: performs the commands `update` asks for against the workspace, and feeds the
//! answers back as messages. The terminal loop and the tests both drive the workbench through
//! it; only editing in `$EDITOR` and opening files with the system opener are left to the
//! terminal edge.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use super::model::{Assess, Cmd, Loaded, Lower, Model, Msg, Pane, QueueRow, Saved};
use super::update::update;
use crate::app::export::Format;
use crate::app::mark::{self, Phase, head};
use crate::app::query::{Filter, fuzzy_rank};
use crate::app::{AppError, Workspace};
use crate::domain::decision;
use crate::domain::sanitize::sanitize_bytes;

/// A request to the filter worker: generation, query, haystacks.
pub type FilterReq = (u64, String, Arc<Vec<String>>);
pub type FilterTx = Sender<FilterReq>;
/// The previous filter run: query, haystacks, matches.
pub type Previous = (String, Arc<Vec<String>>, Vec<usize>);

pub struct Runtime {
    pub ws: Workspace,
    pub model: Model,
    /// The haystacks of the loaded queue, shared with the filter worker.
    haystacks: Arc<Vec<String>>,
    /// When set, fuzzy filtering runs on a worker thread and answers through the channel.
    filter_tx: Option<FilterTx>,
    /// When set, exports run on a thread with their own connection to this database, and report
    /// progress through the channel.
    background: Option<(std::path::PathBuf, Sender<Msg>)>,
}

/// A fuzzy filter worker: always works on the newest request; narrows from the previous result
/// when the new query extends the old one.
pub fn spawn_filter_worker(out: Sender<Msg>) -> FilterTx {
    let (tx, rx): (FilterTx, Receiver<FilterReq>) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut last: Option<Previous> = None;
        while let Ok(mut req) = rx.recv() {
            while let Ok(newer) = rx.try_recv() {
                req = newer;
            }
            let (generation, query, hay) = req;
            let matched = filter(&query, &hay, last.as_ref());
            last = Some((query, hay, matched.clone()));
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
    tx
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
        if let Ok(Some(id)) = self.ws.meta(&self.remember_key())
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
            Cmd::LoadExport => match self.ws.ready(None) {
                Ok(r) => vec![Msg::ExportReady(r)],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
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

    fn load_queue(&mut self, select: Option<String>) -> Result<Msg, AppError> {
        let user = self.ws.user.clone();
        let list = self.ws.list(&Filter::default())?;
        let mut rows: Vec<QueueRow> = Vec::with_capacity(list.len());
        let mut hay: Vec<String> = Vec::with_capacity(list.len());
        let texts = self.ws.search_texts()?;
        for r in &list {
            let h = texts.get(&r.pk).cloned().unwrap_or_default();
            rows.push(QueueRow::from_row(r, &user, String::new()));
            hay.push(h);
        }
        // The current person's work first, then by status in workflow order, then by id.
        let order = |s: &str| {
            crate::app::query::STATUSES
                .iter()
                .position(|x| *x == s)
                .unwrap_or(99)
        };
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        idx.sort_by(|&a, &b| {
            let (x, y) = (&rows[a], &rows[b]);
            (!x.mine, order(&x.status), &x.id).cmp(&(!y.mine, order(&y.status), &y.id))
        });
        let rows: Vec<QueueRow> = idx.iter().map(|&i| rows[i].clone()).collect();
        let hay: Vec<String> = idx.iter().map(|&i| std::mem::take(&mut hay[i])).collect();
        self.haystacks = Arc::new(hay);
        let mut rubrics: Vec<String> = rows.iter().map(|r| r.rubric.clone()).collect();
        rubrics.sort();
        rubrics.dedup();
        Ok(Msg::QueueLoaded(Box::new(Loaded {
            rows,
            counts: self.ws.counts()?,
            rubrics,
            select,
        })))
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

    /// Writes an evidence blob to a private temporary file for the system opener.
    pub fn export_blob(&self, sha: &str, name: &str) -> Result<std::path::PathBuf, AppError> {
        let bytes = self
            .ws
            .blob(sha)?
            .ok_or_else(|| AppError::NotFound(format!("evidence {sha} is not in the workspace")))?;
        let dir = std::env::temp_dir().join(format!("assay-evidence-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(safe);
        std::fs::write(&path, bytes)?;
        Ok(path)
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
    match ws.export(f, out, None, false, progress) {
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
