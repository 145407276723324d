//! The runtime: performs the commands `update` asks for against the workspace, and feeds the
//! answers back as messages. The terminal loop and the tests both drive the workbench through
//! it; only editing in `$EDITOR` and opening files with the system opener are left to the
//! terminal edge.

mod filter;
mod queue;
mod watch;

use std::sync::Arc;
use std::sync::mpsc::Sender;

use filter::QueueOrder;
pub use filter::{FilterReq, FilterTx, Previous, filter, spawn_filter_worker};
use queue::{BaseNames, bump, in_queue_order, read_haystacks, read_keys, read_rows};
pub use watch::spawn_watcher;

use super::evidence::{self, Doc, EvidenceView, Kind};
use super::model::{
    Assess, Cmd, Doing, Loaded, Lower, Model, Moved, Msg, Pane, QueueRow, Refreshed, Saved, Shown,
    shift,
};
use super::update::update;
use crate::app::audit::Changes;
use crate::app::export::Format;
use crate::app::mark;
use crate::app::query::Bytes;
use crate::app::refusal::Refusal;
use crate::app::{AppError, Workspace};
use crate::domain::decision;
use crate::domain::phase::Phase;
use crate::domain::sanitize::sanitize_bytes;

/// The workspace's stored bytes, as the evidence view reads them.
impl evidence::Source for Bytes {
    fn len(&self) -> u64 {
        Bytes::len(self)
    }
    fn read(&self, range: std::ops::Range<u64>) -> std::borrow::Cow<'_, [u8]> {
        Bytes::read(self, range.start, range.end)
    }
}

/// Reads a stored evidence file and opens it as a document (a large one is read by range as it
/// is shown; a CSV is indexed here, off the render path when there is a background).
fn load_evidence(ws: &Workspace, sha: &str, name: &str) -> Msg {
    match ws.evidence_bytes(sha) {
        Ok(Some(bytes)) => {
            let doc = Doc::open_as(name, Kind::from_name(name), Arc::new(bytes));
            let view = EvidenceView::new(&doc);
            Msg::EvidenceLoaded(Box::new(Shown {
                key: sha.to_string(),
                doc: Arc::new(doc),
                view,
                said: None,
            }))
        }
        Ok(None) => Msg::EvidenceFailed {
            key: sha.to_string(),
            error: format!("{name} is not stored in the workspace (sha256 {sha})"),
        },
        Err(e) => Msg::EvidenceFailed {
            key: sha.to_string(),
            error: format!("cannot read {name}: {}", e.lines().join("; ")),
        },
    }
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
    /// The whole queue is being read on a thread (the first screen shows meanwhile); a whole
    /// queue read here since makes that one stale.
    whole_pending: bool,
    /// The worker's order is to be made again from the queue's keys once `update` has moved
    /// them (see [`Runtime::order_again`]).
    order_stale: bool,
    /// The highest head of the chain the watcher told of: caught up to once a queue read
    /// earlier arrives.
    heard: i64,
    /// Where copies of evidence for the system's opener go: made on first use, removed with
    /// everything in it when the workbench ends.
    private: Option<crate::app::files::PrivateDir>,
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
            whole_pending: false,
            order_stale: false,
            heard: 0,
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
        let mut deferred = match self.start_with_first_screen() {
            Some(first) => self.dispatch(first),
            None => self.dispatch_cmds(vec![Cmd::LoadQueue { select: None }]),
        };
        if self.ws.is_empty().unwrap_or(false) {
            deferred.extend(self.dispatch(Msg::OfferSamples));
            return deferred;
        }
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
        // (the whole queue, read on a thread: the runtime keeps what goes beside its rows)
        let msg = match msg {
            // (stale when the queue was read whole here since)
            Msg::QueueRead(_) | Msg::QueueReadFailed(_) if !self.whole_pending => return vec![],
            // The thread could not read it: read here (once), or say why.
            Msg::QueueReadFailed(why) => {
                self.whole_pending = false;
                match self.load_queue(None) {
                    Ok(m) => m,
                    Err(e) => Msg::Failed(format!(
                        "the queue could not be read: {why}; {}",
                        e.lines().join("; ")
                    )),
                }
            }
            Msg::QueueRead(whole) => {
                self.whole_pending = false;
                let seq = whole.seq;
                let loaded = self.take_whole(*whole, None);
                let cmds = update(&mut self.model, loaded);
                let mut deferred = self.dispatch_cmds(cmds);
                self.fill_window();
                // what changed while it was being read (here too: the person's own saves)
                let head = self.heard.max(self.ws.audit_head().unwrap_or(0));
                if head > seq {
                    for m in self.catch_up(head) {
                        deferred.extend(self.dispatch(m));
                    }
                }
                return deferred;
            }
            other => other,
        };
        let cmds = update(&mut self.model, msg);
        self.order_again();
        let deferred = self.dispatch_cmds(cmds);
        self.fill_window();
        deferred
    }

    /// After `update` moved changed rows into place: the worker's order made again from the
    /// queue's keys (a new `Arc`, so that the worker does not narrow from results on the old
    /// one), before any filter is asked of it.
    fn order_again(&mut self) {
        if !std::mem::take(&mut self.order_stale) {
            return;
        }
        if let (Some(ftx), Some((db, _))) = (&self.filter_tx, &self.background) {
            let keys = &self.model.queue.keys;
            ftx.set_order(Some(Arc::new(QueueOrder::new(
                db.clone(),
                keys.iter().map(|k| k.pk),
            ))));
        }
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
        // (a server connection that dropped is made again before anything else is asked of it;
        // if the server is still away, the command fails and says so)
        if self.ws.is_lost() {
            let _ = self.ws.reconnect();
        }
        match cmd {
            // (while the whole queue is being read on its thread nothing is read here: what
            // changed since is caught up when it comes)
            Cmd::LoadQueue { .. } if self.whole_pending => vec![],
            Cmd::LoadQueue { select } => match self.load_queue(select) {
                Ok(m) => vec![m],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            // (a filter cleared: only the worker is told, to let go of its last result)
            Cmd::Filter { query, .. } if query.trim().is_empty() => {
                if let Some(tx) = &self.filter_tx {
                    let _ = tx.send((0, query, Arc::new(Vec::new())));
                }
                vec![]
            }
            Cmd::Filter { generation, query } => {
                // (the words of documents: an indexed lookup, a millisecond or so)
                let pks: Vec<i64> = if query.trim().chars().count() >= 3 {
                    self.ws
                        .portfolios_with_words(&query, 500)
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut out = vec![Msg::InDocuments { generation, pks }];
                match &self.filter_tx {
                    Some(tx) => {
                        let _ = tx.send((generation, query, self.haystacks.clone()));
                    }
                    None => out.push(Msg::Filtered {
                        generation,
                        matched: Arc::new(filter(&query, &self.haystacks, None)),
                        done: true,
                    }),
                }
                out
            }
            Cmd::Open { id } => match self.open(&id) {
                Ok(a) => vec![Msg::Opened(Box::new(a))],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::OpenPk { pk } => match read_rows(&self.ws, &[pk])
                .map_err(|e| e.lines().join("; "))
                .and_then(|rows| {
                    rows.into_iter()
                        .next()
                        .ok_or_else(|| "that portfolio is no longer in the workspace".to_string())
                })
                .and_then(|row| self.open(&row.id).map_err(|e| e.lines().join("; ")))
            {
                Ok(a) => vec![Msg::Opened(Box::new(a))],
                Err(e) => vec![Msg::Failed(e)],
            },
            Cmd::Save {
                id,
                phase,
                version,
                change,
                undo,
                history,
            } => match self.ws.save(&id, phase, &change, Some(version)) {
                Ok(v) => match self.ws.preview(&id, phase) {
                    Ok((eval, sheet)) => vec![Msg::Saved {
                        version: v,
                        sheet,
                        eval,
                        undo,
                        history,
                        note: Some(saved_note(&change, history)),
                    }],
                    // (the change is committed; only reading it back failed)
                    Err(e) => vec![Msg::Failed(e.lines().join("; "))],
                },
                Err(AppError::Conflict(msg)) => {
                    let mut out = Vec::new();
                    if let Ok(a) = self.open(&id) {
                        out.push(Msg::Opened(Box::new(a)));
                    }
                    out.push(Msg::SaveFailed(format!(
                        "{msg}; the screen now shows the marking as it is stored"
                    )));
                    out
                }
                Err(AppError::Refusal(refusal)) => {
                    let mut out = Vec::new();
                    if matches!(refusal, Refusal::Conflict { .. })
                        && let Ok(a) = self.open(&id)
                    {
                        out.push(Msg::Opened(Box::new(a)));
                    }
                    out.push(Msg::Refused {
                        doing: Doing::Save,
                        refusal,
                    });
                    out
                }
                Err(e) => vec![Msg::SaveFailed(e.lines().join("; "))],
            },
            Cmd::SaveCursor { id, phase, cursor } => {
                let _ = self.ws.save_cursor(&id, phase, cursor);
                vec![]
            }
            Cmd::Link {
                id,
                evidence,
                criterion,
                on,
                version,
            } => match self.ws.link(&id, &evidence, &criterion, on, Some(version)) {
                Ok((changed, _)) => {
                    let summary = match (changed, on) {
                        (true, true) => format!("linked {evidence} to {criterion} (recorded)"),
                        (true, false) => format!("took the link of {evidence} to {criterion} away"),
                        (false, true) => format!("{evidence} was linked to {criterion} already"),
                        (false, false) => format!("{evidence} was not linked to {criterion}"),
                    };
                    let mut out = Vec::new();
                    if let Ok(a) = self.open(&id) {
                        out.push(Msg::Opened(Box::new(a)));
                    }
                    out.push(Msg::Linked { summary });
                    out
                }
                Err(AppError::Refusal(refusal)) => vec![Msg::Refused {
                    doing: Doing::Save,
                    refusal,
                }],
                Err(e) => vec![Msg::SaveFailed(format!(
                    "not linked: {}",
                    e.lines().join(" ")
                ))],
            },
            Cmd::Submit { id, phase, version } => {
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
                    Err(AppError::Refusal(refusal)) => vec![Msg::Refused {
                        doing: Doing::Submit,
                        refusal,
                    }],
                    Err(e) => vec![Msg::SaveFailed(format!(
                        "not submitted: {}",
                        e.lines().join("; ")
                    ))],
                }
            }
            Cmd::LoadPicture { sha } => {
                let key = sha.clone();
                self.off_path(
                    move |ws, _| {
                        let image = match ws.blob(&sha) {
                            Ok(Some(bytes)) => {
                                crate::tui::screen::assess::picture::decode(&bytes).map(Arc::new)
                            }
                            Ok(None) => Err("it is not stored in the workspace".into()),
                            Err(e) => Err(e.lines().join("; ")),
                        };
                        vec![Msg::PictureLoaded { key: sha, image }]
                    },
                    move |error| Msg::PictureLoaded {
                        key,
                        image: Err(error),
                    },
                )
            }
            Cmd::LoadEvidence { sha, name } => {
                let key = sha.clone();
                self.off_path(
                    move |ws, _| vec![load_evidence(ws, &sha, &name)],
                    move |error| Msg::EvidenceFailed { key, error },
                )
            }
            Cmd::Seed => match crate::app::seed::seed(&mut self.ws) {
                Ok(s) => {
                    let mut out = vec![Msg::Notice(format!(
                        "Loaded the built-in samples: {} rubrics and {} portfolios. Press ? at any time for the keys.",
                        s.rubrics,
                        s.portfolios()
                    ))];
                    self.queue_seq = None;
                    if let Ok(m) = self.load_queue(None) {
                        out.insert(0, m);
                    }
                    out
                }
                Err(e) => vec![Msg::Failed(format!(
                    "the samples could not be loaded: {}",
                    e.lines().join("; ")
                ))],
            },
            Cmd::CatchUp { head } => self.catch_up(head),
            Cmd::Reconnect => match self.ws.reconnect().and_then(|()| self.ws.audit_head()) {
                Ok(head) => self.catch_up(head),
                Err(e) => vec![Msg::Connection(Some(e.lines().join("; ")))],
            },
            Cmd::LoadStats => match self.ws.stats(None) {
                Ok(s) => vec![Msg::StatsLoaded(s)],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::LoadExport => {
                let targets: Vec<(Format, String)> = Format::ALL
                    .iter()
                    .map(|f| (*f, self.export_target(*f).display().to_string()))
                    .collect();
                let counted = move |ws: &Workspace| -> Vec<Msg> {
                    let mut out = vec![match ws.ready(None) {
                        Ok(ready) => Msg::ExportReady {
                            ready,
                            targets: targets.clone(),
                        },
                        Err(e) => Msg::Failed(e.lines().join("; ")),
                    }];
                    out.push(match ws.release_preview(None) {
                        Ok(r) => Msg::ReleaseReady(r.released, r.waiting),
                        Err(e) => Msg::Failed(e.lines().join("; ")),
                    });
                    out
                };
                // (counting a large workspace takes a moment: on another core, the screen shows
                // the counts when they come)
                self.off_path(move |ws, _| counted(ws), Msg::Failed)
            }
            Cmd::Release => {
                let run = |ws: &mut Workspace, _: &dyn Fn(Msg)| {
                    vec![match ws.release(None) {
                        Ok(r) => Msg::Released(
                            format!(
                                "released {} decision(s){}",
                                r.released.len(),
                                if r.waiting.is_empty() {
                                    String::new()
                                } else {
                                    format!("; {} wait (moderation not settled)", r.waiting.len())
                                }
                            ),
                            true,
                        ),
                        Err(e) => Msg::Released(
                            format!("nothing released: {}", e.lines().join("; ")),
                            false,
                        ),
                    }]
                };
                self.off_path(run, |e| Msg::Released(e, false))
            }
            Cmd::RunExport { format, target } => {
                // (where the confirmation said: a file's name carries the time it was asked)
                let out = std::path::PathBuf::from(target);
                self.off_path(
                    move |ws, send| {
                        vec![run_export(ws, format, &out, &mut |done, total| {
                            send(Msg::ExportProgress { done, total })
                        })]
                    },
                    |e| Msg::ExportDone(e, false),
                )
            }
            Cmd::Settle { id, version, amend } => {
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
                                "amended to the second marks, which are now the decision"
                            } else {
                                "the first decision is confirmed"
                            }
                        )));
                        out
                    }
                    Err(AppError::Refusal(refusal)) => vec![Msg::Refused {
                        doing: Doing::Settle,
                        refusal,
                    }],
                    Err(e) => vec![Msg::SaveFailed(format!(
                        "not settled: {}",
                        e.lines().join("; ")
                    ))],
                }
            }
            Cmd::SaveComment {
                id,
                criterion,
                text,
            } => match self.ws.save_comment(&id, &criterion, &text, true) {
                Ok(true) => vec![Msg::Done(format!(
                    "saved to your comment bank for {criterion}: b offers it first among yours"
                ))],
                Ok(false) => vec![Msg::Done(format!(
                    "already in your comment bank for {criterion}"
                ))],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
            Cmd::LoadBank {
                id,
                criterion,
                level,
            } => match self.ws.comment_bank(&id, &criterion, level.as_deref()) {
                Ok(items) => vec![Msg::BankLoaded { criterion, items }],
                Err(e) => vec![Msg::Failed(e.lines().join("; "))],
            },
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
        let db = self.background.as_ref().map(|(db, _)| db.clone());
        let whole = read_whole(&self.ws, db.as_deref())?;
        self.whole_pending = false;
        Ok(self.take_whole(whole, select))
    }

    /// Puts a queue read whole in place: the filter's texts (or their order, for the worker
    /// that streams them), the point of the chain it reflects, the rubrics and counts. The rows
    /// of the screen are read once `update` has placed the selection ([`Runtime::fill_window`]).
    fn take_whole(&mut self, whole: Whole, select: Option<String>) -> Msg {
        let Whole { ordered, seq } = whole;
        let pks: Vec<i64> = ordered.keys.iter().map(|k| k.pk).collect();
        match (&self.filter_tx, &self.background) {
            // The worker ranks the texts as they stream from the database.
            (Some(ftx), Some((db, _))) => {
                ftx.set_order(Some(Arc::new(QueueOrder::new(
                    db.clone(),
                    pks.iter().copied(),
                ))));
                self.haystacks = Arc::new(Vec::new());
            }
            _ => match read_haystacks(&self.ws, &pks) {
                Ok(h) => self.haystacks = Arc::new(h),
                Err(e) => return Msg::Failed(e.lines().join("; ")),
            },
        }
        self.queue_seq = Some(seq);
        // (the row to select is read now: `update` finds it by its id)
        let rows: Vec<QueueRow> = select
            .as_deref()
            .and_then(|id| self.row_of(id))
            .into_iter()
            .collect();
        Msg::QueueLoaded(Box::new(Loaded {
            rows,
            keys: Some((ordered.keys, ordered.names)),
            counts: ordered.counts,
            rubrics: ordered.rubrics,
            select,
        }))
    }

    /// The queue's row of portfolio `id`, when it can be read.
    fn row_of(&self, id: &str) -> Option<QueueRow> {
        let pk = self.ws.portfolio_pk(id).ok()?;
        read_rows(&self.ws, &[pk]).ok()?.into_iter().next()
    }

    /// Reads the rows the queue's screen may show that are not read yet (see
    /// [`crate::tui::model::Queue::window`]), forgetting the others' once many are kept.
    fn fill_window(&mut self) {
        let q = &self.model.queue;
        if q.visible.is_empty() {
            return;
        }
        let window = q.window(self.model.height);
        let want: Vec<i64> = q
            .visible
            .slice(window.clone())
            .map(|i| q.keys[i].pk)
            .filter(|pk| !q.shown.contains_key(pk))
            .collect();
        if want.is_empty() {
            return;
        }
        let Ok(rows) = read_rows(&self.ws, &want) else {
            // (the rows show as "…" until they can be read)
            return;
        };
        let q = &mut self.model.queue;
        if q.shown.len() + rows.len() > SHOWN_ROWS {
            let keep: std::collections::HashSet<i64> =
                q.visible.slice(window).map(|i| q.keys[i].pk).collect();
            q.shown.retain(|pk, _| keep.contains(pk));
        }
        for r in rows {
            q.shown.insert(r.pk, r);
        }
    }

    /// With a background and a large queue: the first screen's rows and the counts at once,
    /// and the whole queue's keys read on a thread of their own, put in place when they come
    /// (`Msg::QueueRead`). `None` when the queue is read whole here instead.
    fn start_with_first_screen(&mut self) -> Option<Msg> {
        let (db, tx) = self.background.clone()?;
        let range = self.ws.portfolio_key_range().ok()??;
        if range.1 - range.0 < LARGE_QUEUE {
            return None;
        }
        let user = self.ws.user.clone();
        let limit = usize::from(self.model.height).max(50) * 2;
        let mut rows = Vec::with_capacity(limit);
        self.ws
            .first_queue_rows(limit, |r| rows.push(QueueRow::from_row(r, &user)))
            .ok()?;
        let counts = self.ws.counts().ok()?;
        self.whole_pending = true;
        std::thread::spawn(move || {
            give_way();
            // (a panic here is said too: the runtime must not wait for this read for ever)
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Workspace::open_existing(&db, user).and_then(|ws| read_whole(&ws, Some(&db)))
            }));
            let msg = match read {
                Ok(Ok(whole)) => Msg::QueueRead(Box::new(whole)),
                Ok(Err(e)) => Msg::QueueReadFailed(e.lines().join("; ")),
                Err(_) => Msg::QueueReadFailed("the thread reading it stopped".into()),
            };
            let _ = tx.send(msg);
        });
        Some(Msg::QueueLoaded(Box::new(Loaded {
            rows,
            keys: None,
            counts,
            rubrics: Vec::new(),
            select: None,
        })))
    }

    /// Brings the screen up to date with a chain whose head is now `head`: the queue's rows
    /// changed since it was read, and the open portfolio when someone else saved it (its stored
    /// version is not the one on screen). The reader's place stays.
    fn catch_up(&mut self, head: i64) -> Vec<Msg> {
        self.heard = self.heard.max(head);
        let mut out = Vec::new();
        if let Some(since) = self.queue_seq
            && since < head
        {
            let refreshed = match self.refresh_queue(since, &None) {
                Ok(Some(m)) => Ok(Some(m)),
                // (the whole queue is being read on its thread: caught up when it comes)
                Ok(None) if self.whole_pending => Ok(None),
                Ok(None) => self.load_queue(None).map(Some),
                Err(e) => Err(e),
            };
            match refreshed {
                Ok(Some(m)) => out.push(m),
                Ok(None) => {}
                Err(e) => out.push(Msg::Failed(e.lines().join("; "))),
            }
        }
        let m = &self.model;
        if m.screen == super::model::Screen::Assess
            && m.dialog.is_none()
            && let Some(a) = &m.assess
            && let Ok(Some(version)) = self.ws.portfolio_version(&a.id)
            && version != a.version
        {
            let id = a.id.clone();
            if let Ok(opened) = self.open(&id) {
                out.push(Msg::Opened(Box::new(opened)));
                out.push(Msg::Done(format!(
                    "{id} was changed by someone else; the screen shows it as stored now"
                )));
            }
        }
        out
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
        let Some(Changes {
            portfolios: changed,
            head: seq,
        }) = self.ws.changed_since(since)?
        else {
            return Ok(None);
        };
        // (each by its row key, as the screen's rows are read: no pass over other portfolios)
        let mut pks = Vec::with_capacity(changed.len());
        for id in &changed {
            match self.ws.portfolio_pk(id) {
                Ok(pk) => pks.push(pk),
                // (gone, or never there: read it all)
                Err(_) => return Ok(None),
            }
        }
        let mut by_pk: std::collections::HashMap<i64, QueueRow> = read_rows(&self.ws, &pks)?
            .into_iter()
            .map(|r| (r.pk, r))
            .collect();
        let fresh: Vec<QueueRow> = pks.iter().filter_map(|pk| by_pk.remove(pk)).collect();
        if fresh.len() != changed.len() || self.model.queue.keys.is_empty() {
            return Ok(None);
        }
        let n = self.model.queue.keys.len();
        // The haystacks (or, for the worker, the row keys) move with their rows.
        let streaming = match (&self.filter_tx, &self.background) {
            (Some(ftx), Some(_)) => Some(ftx),
            _ => None,
        };
        let mut hay: Option<Vec<String>> = None;
        if !fresh.is_empty() {
            match streaming {
                // (the worker's order is made again from the keys once `update` has moved them:
                // `Runtime::order_stale`)
                Some(ftx) => match ftx.order() {
                    Some(o) if o.len() == n => self.order_stale = true,
                    _ => return Ok(None),
                },
                None => match Arc::try_unwrap(std::mem::take(&mut self.haystacks)) {
                    Ok(v) if v.len() == n => hay = Some(v),
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
        // The moves are worked out against the model's keys as they stand (read, not changed):
        // a position in the queue as the moves so far left it is traced back to a key of the
        // model's or to a changed row. `update` makes the moves (`Msg::QueueRefreshed`).
        let q = &self.model.queue;
        let keys = &q.keys;
        // A place in the queue: (group, place of the id among the ids).
        let place_of_key = |k: &super::model::QueueKey| {
            (
                super::model::QueueKey::group(k.mine, q.name(k.status)),
                k.rank,
            )
        };
        let mut counts = q.counts.clone();
        let mut moves: Vec<(usize, usize)> = Vec::with_capacity(fresh.len());
        // (each changed row's own place: its group now, its id's place as before)
        let mut places: Vec<(usize, u32)> = Vec::with_capacity(fresh.len());
        for new in &fresh {
            let Some(mut old) = keys.iter().position(|k| k.pk == new.pk) else {
                // Not in the queue yet (cannot happen without an import): read it all.
                if let Some(v) = hay {
                    self.haystacks = Arc::new(v);
                }
                return Ok(None);
            };
            let rank = keys[old].rank;
            // Where the earlier moves took it.
            for &(from, to) in &moves {
                if from < old && old <= to {
                    old -= 1;
                } else if to <= old && old < from {
                    old += 1;
                }
            }
            // What is at position `p` now: (place, status).
            let at_now = |mut p: usize| -> ((usize, u32), &str) {
                for (i, &(from, to)) in moves.iter().enumerate().rev() {
                    if p == to {
                        return (places[i], &fresh[i].status);
                    } else if from <= p && p < to {
                        p += 1;
                    } else if to < p && p <= from {
                        p -= 1;
                    }
                }
                (place_of_key(&keys[p]), q.name(keys[p].status))
            };
            let was = at_now(old).1.to_string();
            bump(&mut counts, &was, -1);
            bump(&mut counts, &new.status, 1);
            // Where it goes among the others, kept in (group, id) order.
            let k = (super::model::QueueKey::group(new.mine, &new.status), rank);
            let (mut lo, mut hi) = (0, n);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if at_now(mid).0 < k {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let before = lo;
            let at = if old < before { before - 1 } else { before };
            if let Some(v) = &mut hay {
                shift(v, old, at);
            }
            moves.push((old, at));
            places.push(k);
        }
        if let Some(v) = hay {
            self.haystacks = Arc::new(v);
        }
        self.queue_seq = Some(seq);
        // (the row to select, when it did not change, is read too: `update` finds it by its id,
        // and it may be far from the rows the screen showed)
        let selected_row = select
            .as_deref()
            .filter(|id| !fresh.iter().any(|r| r.id == *id))
            .and_then(|id| self.row_of(id));
        let moves = moves
            .into_iter()
            .zip(fresh)
            .map(|((from, to), row)| Moved { from, to, row })
            .collect();
        Ok(Some(Msg::QueueRefreshed(Box::new(Refreshed {
            moves,
            counts,
            select: select.clone(),
            selected_row,
        }))))
    }

    /// Reads one portfolio for the assessment (or settlement) screen: which marking is the
    /// person's and what they may do with it come from the service.
    pub fn open(&self, id: &str) -> Result<Assess, AppError> {
        let o = self.ws.open_portfolio(id)?;
        let d = o.detail;
        let items = o.rubric.criteria.len() + o.rubric.gates.len();
        let selected = usize::try_from(o.sheet.cursor)
            .unwrap_or(0)
            .min(items.saturating_sub(1));
        let first = if o.phase == Phase::Second && !o.blind {
            d.first.clone()
        } else {
            None
        };
        let draw_reason = d
            .draw
            .as_ref()
            .filter(|_| !o.blind)
            .map(|(_, why)| crate::domain::sanitize::sanitize_line(why));
        let superseded = match (&d.settlement, o.phase) {
            (Some(s), Phase::First) if s.amended() => d.second.decision.as_ref().map(|x| {
                format!(
                    "amended by {}: in force the second marking's {}{} · {:.2}",
                    crate::domain::sanitize::sanitize_line(&s.by),
                    x.outcome,
                    x.grade
                        .as_ref()
                        .map(|g| format!(" ({})", crate::domain::sanitize::sanitize_line(g)))
                        .unwrap_or_default(),
                    x.score
                )
            }),
            _ => None,
        };
        Ok(Assess {
            superseded,
            id: d.row.id.clone(),
            pk: d.row.pk,
            learner: crate::domain::sanitize::sanitize_line(&d.row.learner_name),
            learner_id: crate::domain::sanitize::sanitize_line(&d.row.learner_id),
            rubric: o.rubric,
            phase: o.phase,
            access: o.access,
            stage: o.stage,
            sheet: o.sheet,
            version: d.version,
            eval: o.eval,
            status: d.row.status.clone(),
            evidence_changed: d.row.evidence_changed,
            selected,
            pane: Pane::Criteria,
            lower: Lower::Evidence,
            evidence: d.evidence,
            evidence_pos: 0,
            all_evidence: false,
            levels_scroll: 0,
            scroll: 0,
            statement: d.statement.map(|s| sanitize_bytes(s.as_bytes())),
            shown: None,
            recent: Vec::new(),
            loading: None,
            picture: None,
            picture_loading: None,
            zoom: false,
            grid: None,
            undo: Vec::new(),
            redo: Vec::new(),
            saved: Saved::Untouched,
            blind: o.blind,
            first,
            settlement: d.settlement,
            draw_reason,
            settle_evidence: false,
            settle_scroll: 0,
        })
    }

    /// Runs `work` off the render path — on a thread with a workspace connection of its own,
    /// its messages sent through the channel as they come (`send` passes on progress) — when
    /// the runtime has a background; here otherwise (progress then dropped). `failed` words a
    /// workspace that could not be opened.
    fn off_path(
        &mut self,
        work: impl FnOnce(&mut Workspace, &dyn Fn(Msg)) -> Vec<Msg> + Send + 'static,
        failed: impl FnOnce(String) -> Msg + Send + 'static,
    ) -> Vec<Msg> {
        let Some((db, tx)) = &self.background else {
            return work(&mut self.ws, &|_| {});
        };
        let (db, tx, user) = (db.clone(), tx.clone(), self.ws.user.clone());
        std::thread::spawn(move || {
            let send = |m: Msg| {
                let _ = tx.send(m);
            };
            let msgs = match Workspace::open_existing(&db, user) {
                Ok(mut ws) => work(&mut ws, &send),
                Err(e) => vec![failed(e.lines().join("; "))],
            };
            for m in msgs {
                send(m);
            }
        });
        vec![]
    }

    /// Where the workbench writes an export: `exports/` beside the database.
    fn export_target(&self, f: Format) -> std::path::PathBuf {
        let base = self
            .background
            .as_ref()
            // (beside a file; a server's exports go to the current folder)
            .filter(|(db, _)| !crate::app::is_server(db))
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

fn saved_note(c: &mark::Change, history: super::model::History) -> String {
    use mark::Change::*;
    let note = match c {
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
    };
    match history {
        super::model::History::New => note,
        super::model::History::Undo => format!("undone — {note}"),
        super::model::History::Redo => format!("redone — {note}"),
    }
}

/// From how many portfolios (by the range of their row keys) a queue is large: read in two
/// halves on two connections, and on a server shown from its first screen while it is read.
const LARGE_QUEUE: i64 = 20_000;

/// Makes the calling thread (and the threads it starts) give way to the rest of the process: the
/// workbench's filter and its reading of the whole queue run so, so that a key's frame is drawn
/// at once even while they keep every core busy.
pub(crate) fn give_way() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread (a thread id on Linux), nothing shared.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// How many rows' texts the workbench keeps before it forgets those far from the screen.
const SHOWN_ROWS: usize = 4096;

/// The whole queue as read: every portfolio's key in queue order with the names they use, the
/// count of each status and the rubrics, and the last record of the chain it reflects.
#[derive(Clone)]
pub struct Whole {
    ordered: queue::Ordered,
    seq: i64,
}

impl std::fmt::Debug for Whole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Whole({} rows at {})", self.ordered.keys.len(), self.seq)
    }
}

/// Reads every portfolio's key of `ws` — a large workspace in two halves, the second on a
/// connection of its own to `db` (when given) on another core — without the rows' texts.
fn read_whole(ws: &Workspace, db: Option<&std::path::Path>) -> Result<Whole, AppError> {
    let seq = ws.audit_head()?;
    let base = BaseNames::read(ws)?;
    // Row keys are given in order and never reused: their range bounds the number of rows.
    let range = ws.portfolio_key_range()?;
    let n = range.map_or(0, |(lo, hi)| {
        usize::try_from(hi - lo + 1).unwrap_or(0).min(1 << 20)
    });
    let parts = match (db, range) {
        (Some(db), Some((lo, hi))) if n >= LARGE_QUEUE as usize && hi > lo => {
            let mid = lo + (hi - lo) / 2;
            let (db, who, b) = (db.to_path_buf(), ws.user.clone(), base.clone());
            let second = std::thread::spawn(move || {
                let ws = Workspace::open(&db, who)?;
                read_keys(&ws, &b, Some((mid + 1, hi)))
            });
            let first = read_keys(ws, &base, Some((lo, mid)))?;
            let other = second
                .join()
                .map_err(|_| AppError::refused("reading the queue failed"))??;
            vec![first, other]
        }
        _ => vec![read_keys(ws, &base, None)?],
    };
    Ok(Whole {
        ordered: in_queue_order(parts, || ws.portfolios_by_id())?,
        seq,
    })
}
