//! `update`: the workbench's only state transition. It takes a message, changes the model and
//! returns the effects to perform. No I/O happens here, so tests drive it directly.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::editor::{Edit, TextArea};
use super::keys::{self, Action, Ctx};
use super::model::{
    Assess, Cmd, Dialog, EditTarget, Loaded, Lower, Model, Msg, Pane, Saved, Screen,
};
use crate::app::mark::Change;
use crate::app::query::STATUSES;
use crate::domain::decision::Outcome;

/// The outcomes offered by the refer/override dialog, in order.
pub const CHOICES: [Outcome; 3] = [Outcome::Referred, Outcome::NotYet, Outcome::Awarded];

pub fn update(m: &mut Model, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(k) => {
            if k.kind != KeyEventKind::Press {
                return vec![];
            }
            key(m, k)
        }
        Msg::Paste(text) => {
            if let Some(Dialog::Edit { area, .. }) = &mut m.dialog {
                area.insert_str(&text);
                vec![]
            } else if m.screen == Screen::Queue && m.queue.typing {
                m.queue.filter.push_str(&text.replace(['\n', '\r'], " "));
                refilter(m)
            } else {
                vec![]
            }
        }
        Msg::Resize(w, h) => {
            m.width = w;
            m.height = h;
            vec![]
        }
        Msg::QueueLoaded(loaded) => {
            let Loaded {
                rows,
                counts,
                rubrics,
                select,
            } = *loaded;
            let q = &mut m.queue;
            let keep = select.or_else(|| {
                q.visible
                    .get(q.selected)
                    .and_then(|i| q.rows.get(*i))
                    .map(|r| r.id.to_string())
            });
            q.rows = rows;
            q.counts = counts;
            q.rubrics = rubrics;
            q.matched = None;
            recompute(m);
            if let Some(id) = keep
                && let Some(pos) = m
                    .queue
                    .visible
                    .iter()
                    .position(|&i| m.queue.rows[i].id == id)
            {
                m.queue.selected = pos;
            }
            if m.queue.filter.is_empty() {
                vec![]
            } else {
                refilter(m)
            }
        }
        Msg::Filtered {
            generation,
            matched,
        } => {
            if generation == m.queue.filter_gen {
                m.queue.filtering = false;
                m.queue.matched = Some(matched);
                m.queue.selected = 0;
                recompute(m);
            }
            vec![]
        }
        Msg::Opened(a) => {
            let id = a.id.clone();
            let note = if a.editable {
                None
            } else {
                a.readonly_reason.clone()
            };
            m.assess = Some(*a);
            m.screen = Screen::Assess;
            if let Some(n) = note {
                m.info(n);
            }
            vec![Cmd::Remember { open: Some(id) }]
        }
        Msg::Saved {
            version,
            sheet,
            eval,
            undo,
            note,
        } => {
            if let Some(a) = &mut m.assess {
                a.version = version;
                a.sheet = sheet;
                a.eval = eval;
                if let Some(u) = undo {
                    a.undo.push(u);
                }
                a.saved = Saved::Saved;
            }
            m.good(note.unwrap_or_else(|| "saved".into()));
            vec![]
        }
        Msg::Submitted { summary } => {
            m.dialog = None;
            m.good(summary);
            vec![]
        }
        Msg::Failed(e) => {
            if let Some(a) = &mut m.assess {
                a.saved = Saved::Failed(e.clone());
            }
            m.bad(e);
            vec![]
        }
        Msg::Edited { target, text } => finish_edit(m, target, text),
        Msg::Notice(n) => {
            m.dialog = Some(Dialog::Notice(n));
            vec![]
        }
        Msg::StatsLoaded(s) => {
            m.stats = s;
            m.stats_pos = m.stats_pos.min(m.stats.len().saturating_sub(1));
            vec![]
        }
        Msg::ExportReady(r) => {
            m.export.ready = r;
            vec![]
        }
        Msg::ExportProgress { done, total } => {
            m.export.running = Some((done, total));
            vec![]
        }
        Msg::ExportDone(text, ok) => {
            m.export.running = None;
            m.export.result = Some((text.clone(), ok));
            if ok {
                m.good(text)
            } else {
                m.bad(text)
            }
            vec![Cmd::LoadExport]
        }
        Msg::Settled(text) => {
            m.good(text);
            vec![]
        }
    }
}

fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    if let Some(d) = m.dialog.take() {
        return dialog_key(m, d, k);
    }
    if m.screen == Screen::Queue && m.queue.typing {
        return filter_key(m, k);
    }
    let ctx = match m.screen {
        Screen::Queue => Ctx::Queue,
        Screen::Assess => Ctx::Assess,
        Screen::Stats => Ctx::Stats,
        Screen::Export => Ctx::Export,
    };
    // `/` finds a portfolio from any screen: back to the queue with the filter open.
    if k.code == KeyCode::Char('/') && m.screen != Screen::Queue {
        let select = m.assess.as_ref().map(|a| a.id.clone());
        m.assess = None;
        m.screen = Screen::Queue;
        m.message = None;
        m.queue.typing = true;
        // a new search: what was typed to find the last portfolio is not kept
        let mut cmds = vec![Cmd::Remember { open: None }, Cmd::LoadQueue { select }];
        if !m.queue.filter.is_empty() {
            m.queue.filter.clear();
            cmds.extend(refilter(m));
        }
        return cmds;
    }
    let Some(action) = keys::action(ctx, k) else {
        return vec![];
    };
    match action {
        Action::Quit => {
            m.quit = true;
            return vec![Cmd::Quit];
        }
        Action::Help => {
            m.dialog = Some(Dialog::Help { scroll: 0 });
            return vec![];
        }
        _ => {}
    }
    match m.screen {
        Screen::Queue => queue_action(m, action),
        Screen::Assess => assess_action(m, action),
        Screen::Stats => stats_action(m, action),
        Screen::Export => export_action(m, action),
    }
}

fn dialog_key(m: &mut Model, d: Dialog, k: KeyEvent) -> Vec<Cmd> {
    match d {
        Dialog::Help { scroll } => {
            let s = match k.code {
                KeyCode::Char('j') | KeyCode::Down => Some(scroll.saturating_add(1)),
                KeyCode::Char('k') | KeyCode::Up => Some(scroll.saturating_sub(1)),
                KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll.saturating_add(10)),
                KeyCode::PageUp => Some(scroll.saturating_sub(10)),
                _ => None,
            };
            if let Some(scroll) = s {
                m.dialog = Some(Dialog::Help {
                    scroll: scroll.min(60),
                });
            }
            vec![]
        }
        Dialog::Notice(_) => vec![],
        Dialog::Confirm => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => vec![Cmd::Settle { amend: None }],
            KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => vec![],
            _ => {
                m.dialog = Some(Dialog::Confirm);
                vec![]
            }
        },
        Dialog::Submit => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                if let Some(a) = &mut m.assess {
                    a.saved = Saved::Saving;
                }
                vec![Cmd::Submit]
            }
            KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
                m.info("not submitted");
                vec![]
            }
            _ => {
                m.dialog = Some(Dialog::Submit);
                vec![]
            }
        },
        Dialog::Refer { choice } => match k.code {
            KeyCode::Esc | KeyCode::Char('q') => vec![],
            KeyCode::Char(c @ '1'..='3') => {
                open_rationale(m, CHOICES[(c as u8 - b'1') as usize]);
                vec![]
            }
            KeyCode::Char('j') | KeyCode::Down | KeyCode::Tab => {
                m.dialog = Some(Dialog::Refer {
                    choice: (choice + 1) % CHOICES.len(),
                });
                vec![]
            }
            KeyCode::Char('k') | KeyCode::Up => {
                m.dialog = Some(Dialog::Refer {
                    choice: (choice + CHOICES.len() - 1) % CHOICES.len(),
                });
                vec![]
            }
            KeyCode::Enter => {
                open_rationale(m, CHOICES[choice]);
                vec![]
            }
            KeyCode::Char('0') | KeyCode::Char('x') => {
                // back to the rule's outcome
                save(m, Change::Choice(None, None))
            }
            _ => {
                m.dialog = Some(Dialog::Refer { choice });
                vec![]
            }
        },
        Dialog::Edit { target, mut area } => match area.key(k) {
            Edit::Continue => {
                m.dialog = Some(Dialog::Edit { target, area });
                vec![]
            }
            Edit::Cancel => {
                m.info("edit cancelled; nothing changed");
                vec![]
            }
            Edit::Save => finish_edit(m, target, area.text()),
        },
    }
}

fn open_rationale(m: &mut Model, o: Outcome) {
    let current = m
        .assess
        .as_ref()
        .and_then(|a| a.sheet.rationale.clone())
        .unwrap_or_default();
    m.dialog = Some(Dialog::Edit {
        target: EditTarget::Rationale(o),
        area: TextArea::new(&current),
    });
}

fn finish_edit(m: &mut Model, target: EditTarget, text: String) -> Vec<Cmd> {
    let text = text.trim_end().to_string();
    let change = match target {
        EditTarget::Feedback(c) => Change::Feedback(c, Some(text)),
        EditTarget::Comment => Change::Comment(Some(text)),
        EditTarget::Amend => {
            if text.trim().is_empty() {
                m.bad("amending needs a written rationale; nothing changed");
                return vec![];
            }
            return vec![Cmd::Settle { amend: Some(text) }];
        }
        EditTarget::Rationale(o) => {
            if text.trim().is_empty() {
                m.bad("a referral or override needs a written rationale; nothing changed");
                return vec![];
            }
            Change::Choice(Some(o), Some(text))
        }
    };
    save(m, change)
}

fn filter_key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let q = &mut m.queue;
    match k.code {
        KeyCode::Enter => {
            q.typing = false;
            vec![]
        }
        KeyCode::Esc => {
            q.typing = false;
            q.filter.clear();
            refilter(m)
        }
        KeyCode::Backspace => {
            q.filter.pop();
            refilter(m)
        }
        KeyCode::Down => queue_action(m, Action::Down),
        KeyCode::Up => queue_action(m, Action::Up),
        KeyCode::Char(c) if !c.is_control() => {
            if q.filter.chars().count() < 200 {
                q.filter.push(c);
            }
            refilter(m)
        }
        _ => vec![],
    }
}

/// Starts a new fuzzy filter run; an empty filter shows everything at once.
fn refilter(m: &mut Model) -> Vec<Cmd> {
    let q = &mut m.queue;
    q.filter_gen += 1;
    if q.filter.trim().is_empty() {
        q.matched = None;
        q.filtering = false;
        q.selected = 0;
        recompute(m);
        return vec![];
    }
    q.filtering = true;
    vec![Cmd::Filter {
        generation: q.filter_gen,
        query: q.filter.clone(),
    }]
}

/// Applies the fuzzy result and the status and rubric filters.
pub fn recompute(m: &mut Model) {
    let q = &mut m.queue;
    let base: Box<dyn Iterator<Item = usize>> = match &q.matched {
        Some(v) => Box::new(v.clone().into_iter()),
        None => Box::new(0..q.rows.len()),
    };
    let (st, rb) = (q.status_filter.clone(), q.rubric_filter.clone());
    let moderation = q.moderation;
    let rows = &q.rows;
    q.visible = base
        .filter(|&i| {
            let r = &rows[i];
            st.as_ref().is_none_or(|s| &r.status == s)
                && rb.as_ref().is_none_or(|x| *r.rubric == **x)
                && (!moderation || r.status == "sampled")
        })
        .collect();
    q.selected = q.selected.min(q.visible.len().saturating_sub(1));
}

fn page(m: &Model) -> usize {
    usize::from(m.height.saturating_sub(8)).max(1)
}

fn queue_action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let n = m.queue.visible.len();
    let pg = page(m);
    let q = &mut m.queue;
    match a {
        Action::Down => q.selected = (q.selected + 1).min(n.saturating_sub(1)),
        Action::Up => q.selected = q.selected.saturating_sub(1),
        Action::Top => q.selected = 0,
        Action::Bottom => q.selected = n.saturating_sub(1),
        Action::PageDown => q.selected = (q.selected + pg).min(n.saturating_sub(1)),
        Action::PageUp => q.selected = q.selected.saturating_sub(pg),
        Action::Open => {
            if let Some(&i) = q.visible.get(q.selected) {
                return vec![Cmd::Open {
                    id: q.rows[i].id.to_string(),
                }];
            }
        }
        Action::Search => {
            q.typing = true;
        }
        Action::Back => {
            if !q.filter.is_empty() {
                q.filter.clear();
                return refilter(m);
            }
            if q.status_filter.is_some() || q.rubric_filter.is_some() {
                q.status_filter = None;
                q.rubric_filter = None;
                recompute(m);
            }
        }
        Action::CycleStatus => {
            let next = match &q.status_filter {
                None => Some(STATUSES[0].to_string()),
                Some(s) => STATUSES
                    .iter()
                    .position(|x| x == s)
                    .and_then(|i| STATUSES.get(i + 1))
                    .map(|s| s.to_string()),
            };
            q.status_filter = next;
            let label = q.status_filter.clone().unwrap_or_else(|| "all".into());
            recompute(m);
            m.info(format!("status: {label}"));
        }
        Action::CycleRubric => {
            let next = match &q.rubric_filter {
                None => q.rubrics.first().cloned(),
                Some(s) => q
                    .rubrics
                    .iter()
                    .position(|x| x == s)
                    .and_then(|i| q.rubrics.get(i + 1))
                    .cloned(),
            };
            q.rubric_filter = next;
            let label = q.rubric_filter.clone().unwrap_or_else(|| "all".into());
            recompute(m);
            m.info(format!("rubric: {label}"));
        }
        Action::Refresh => return vec![Cmd::LoadQueue { select: None }],
        Action::ModerationView => {
            q.moderation = !q.moderation;
            q.selected = 0;
            let on = q.moderation;
            recompute(m);
            m.info(if on {
                "moderator's queue: drawn portfolios awaiting second marks or settlement (m: all)"
            } else {
                "all portfolios"
            });
        }
        Action::StatsScreen => {
            m.screen = Screen::Stats;
            m.message = None;
            return vec![Cmd::LoadStats];
        }
        Action::ExportScreen => {
            m.screen = Screen::Export;
            m.message = None;
            m.export.result = None;
            return vec![Cmd::LoadExport];
        }
        _ => {}
    }
    vec![]
}

fn stats_action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let n = m.stats.len().max(1);
    match a {
        Action::NextEvidence | Action::Down => m.stats_pos = (m.stats_pos + 1) % n,
        Action::PrevEvidence | Action::Up => m.stats_pos = (m.stats_pos + n - 1) % n,
        Action::Refresh => return vec![Cmd::LoadStats],
        Action::Back => m.screen = Screen::Queue,
        _ => {}
    }
    vec![]
}

fn export_action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let e = &mut m.export;
    let n = e.ready.len();
    match a {
        Action::Down => e.selected = (e.selected + 1).min(n.saturating_sub(1)),
        Action::Up => e.selected = e.selected.saturating_sub(1),
        Action::Refresh => return vec![Cmd::LoadExport],
        Action::Back if e.running.is_none() => {
            m.screen = Screen::Queue;
            return vec![Cmd::LoadQueue { select: None }];
        }
        Action::Open if e.running.is_none() => {
            if let Some((f, k)) = e.ready.get(e.selected).copied() {
                if k == 0 {
                    let msg = format!("nothing new to export as {}", f.as_str());
                    m.info(msg);
                    return vec![];
                }
                e.running = Some((0, k));
                e.result = None;
                return vec![Cmd::RunExport(f)];
            }
        }
        _ => {}
    }
    vec![]
}

/// Saves a change, remembering how to undo it.
fn save(m: &mut Model, change: Change) -> Vec<Cmd> {
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    if !a.editable {
        let why = a
            .readonly_reason
            .clone()
            .unwrap_or_else(|| "this marking cannot be changed".into());
        m.bad(why);
        return vec![];
    }
    let undo = inverse(a, &change);
    a.saved = Saved::Saving;
    vec![Cmd::Save { change, undo }]
}

/// The change that takes `change` back, given the marks before it.
fn inverse(a: &Assess, change: &Change) -> Option<Change> {
    Some(match change {
        Change::Level(c, _) => Change::Level(c.clone(), a.level_of(c).map(str::to_string)),
        Change::Feedback(c, _) => Change::Feedback(c.clone(), a.feedback_of(c).map(str::to_string)),
        Change::Gate(g, on) => Change::Gate(g.clone(), !on),
        Change::Comment(_) => Change::Comment(a.sheet.comment.clone()),
        Change::Choice(..) => Change::Choice(a.sheet.choice, a.sheet.rationale.clone()),
    })
}

fn assess_action(m: &mut Model, act: Action) -> Vec<Cmd> {
    let pg = page(m) as u16;
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    let items = a.items();
    let before = a.selected;
    match act {
        Action::Down
        | Action::Up
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp
            if a.pane == Pane::Evidence =>
        {
            a.scroll = match act {
                Action::Down => a.scroll.saturating_add(1),
                Action::Up => a.scroll.saturating_sub(1),
                Action::PageDown => a.scroll.saturating_add(pg),
                Action::PageUp => a.scroll.saturating_sub(pg),
                Action::Top => 0,
                _ => u16::MAX / 2,
            };
        }
        Action::Down => a.selected = (a.selected + 1).min(items.saturating_sub(1)),
        Action::Up => a.selected = a.selected.saturating_sub(1),
        Action::Top => a.selected = 0,
        Action::Bottom => a.selected = items.saturating_sub(1),
        Action::PageDown => a.scroll = a.scroll.saturating_add(pg),
        Action::PageUp => a.scroll = a.scroll.saturating_sub(pg),
        Action::NextPane => {
            a.pane = match a.pane {
                Pane::Criteria => Pane::Levels,
                Pane::Levels => Pane::Evidence,
                Pane::Evidence => Pane::Criteria,
            }
        }
        Action::Open => {
            if a.selected_gate().is_some() {
                return assess_action(m, Action::ToggleGate);
            }
            a.pane = Pane::Evidence;
            a.lower = Lower::Evidence;
        }
        Action::Back => {
            if a.pane != Pane::Criteria {
                a.pane = Pane::Criteria;
                return vec![];
            }
            if a.lower != Lower::Evidence {
                a.lower = Lower::Evidence;
                return vec![];
            }
            let id = a.id.clone();
            m.assess = None;
            m.screen = Screen::Queue;
            m.message = None;
            return vec![
                Cmd::Remember { open: None },
                Cmd::LoadQueue { select: Some(id) },
            ];
        }
        Action::Level(n) => {
            let Some(ci) = a.selected_criterion() else {
                m.info("a gate is selected: Space confirms it");
                return vec![];
            };
            let c = &a.rubric.criteria[ci];
            let n = usize::from(n);
            if n == 0 || n > c.levels.len() {
                let msg = format!(
                    "{} has {} levels: press 1–{}",
                    c.id,
                    c.levels.len(),
                    c.levels.len()
                );
                m.bad(msg);
                return vec![];
            }
            let (cid, lid) = (c.id.clone(), c.levels[n - 1].id.clone());
            if a.level_of(&cid) == Some(lid.as_str()) {
                return vec![];
            }
            return save(m, Change::Level(cid, Some(lid)));
        }
        Action::ToggleGate => {
            let Some(gi) = a.selected_gate() else {
                m.info("Space confirms a gate: select one below the criteria");
                return vec![];
            };
            let g = a.rubric.gates[gi].id.clone();
            let on = !a.sheet.gates.contains(&g);
            return save(m, Change::Gate(g, on));
        }
        Action::EditFeedback | Action::EditComment => {
            if !a.editable {
                let why = a.readonly_reason.clone().unwrap_or_default();
                m.bad(why);
                return vec![];
            }
            let (target, text) = if act == Action::EditComment {
                (
                    EditTarget::Comment,
                    a.sheet.comment.clone().unwrap_or_default(),
                )
            } else {
                let Some(ci) = a.selected_criterion() else {
                    m.info(
                        "feedback belongs to a criterion: select one (c edits the overall comment)",
                    );
                    return vec![];
                };
                let cid = a.rubric.criteria[ci].id.clone();
                let text = a.feedback_of(&cid).unwrap_or_default().to_string();
                (EditTarget::Feedback(cid), text)
            };
            if m.external_editor {
                return vec![Cmd::EditExternal { target, text }];
            }
            m.dialog = Some(Dialog::Edit {
                target,
                area: TextArea::new(&text),
            });
        }
        Action::Refer => {
            if !a.editable {
                let why = a.readonly_reason.clone().unwrap_or_default();
                m.bad(why);
                return vec![];
            }
            let choice = a
                .sheet
                .choice
                .and_then(|c| CHOICES.iter().position(|x| *x == c))
                .unwrap_or(0);
            m.dialog = Some(Dialog::Refer { choice });
        }
        Action::Undo => {
            if !a.editable {
                let why = a.readonly_reason.clone().unwrap_or_default();
                m.bad(why);
                return vec![];
            }
            match a.undo.pop() {
                Some(c) => {
                    a.saved = Saved::Saving;
                    return vec![Cmd::Save {
                        change: c,
                        undo: None,
                    }];
                }
                None => m.info("nothing to undo"),
            }
        }
        Action::Submit => {
            if !a.editable {
                let why = a.readonly_reason.clone().unwrap_or_default();
                m.bad(why);
                return vec![];
            }
            if !a.eval.complete {
                let msg = format!(
                    "cannot submit yet: choose a level for {}",
                    a.eval.unmarked.join(", ")
                );
                m.bad(msg);
                return vec![];
            }
            m.dialog = Some(Dialog::Submit);
        }
        Action::NextEvidence | Action::PrevEvidence => {
            let n = a.claimed().len().max(1);
            a.evidence_pos = if act == Action::NextEvidence {
                (a.evidence_pos + 1) % n
            } else {
                (a.evidence_pos + n - 1) % n
            };
            a.scroll = 0;
            a.lower = Lower::Evidence;
        }
        Action::Statement => {
            a.lower = if a.lower == Lower::Statement {
                Lower::Evidence
            } else {
                Lower::Statement
            };
            a.scroll = 0;
        }
        Action::Coverage => {
            a.lower = if a.lower == Lower::Coverage {
                Lower::Evidence
            } else {
                Lower::Coverage
            };
            a.scroll = 0;
        }
        Action::OpenExternal => {
            let Some(e) = a.shown_evidence().map(|i| a.evidence[i].clone()) else {
                m.info("no evidence file to open here");
                return vec![];
            };
            match (&e.sha256, &e.file) {
                (Some(sha), Some(f)) => {
                    let name = f.rsplit('/').next().unwrap_or(f).to_string();
                    return vec![Cmd::OpenExternal {
                        sha: sha.clone(),
                        name,
                    }];
                }
                _ => {
                    let msg = match &e.url {
                        Some(u) => format!(
                            "{} is a link, not a file: {}",
                            e.id,
                            crate::domain::sanitize::sanitize_line(u)
                        ),
                        None => format!("{} has no file", e.id),
                    };
                    m.info(msg);
                }
            }
        }
        Action::Confirm | Action::Amend => {
            if !a.settling() {
                m.info("C and A settle a second-marked portfolio: submit the second marks first");
                return vec![];
            }
            if act == Action::Confirm {
                m.dialog = Some(Dialog::Confirm);
            } else {
                m.dialog = Some(Dialog::Edit {
                    target: EditTarget::Amend,
                    area: TextArea::new(""),
                });
            }
        }
        Action::Search
        | Action::CycleStatus
        | Action::CycleRubric
        | Action::Refresh
        | Action::ModerationView
        | Action::StatsScreen
        | Action::ExportScreen => {}
        Action::Quit | Action::Help => {}
    }
    // Remember where the marker is, so a restart returns to the same criterion.
    if let Some(a) = &mut m.assess
        && a.selected != before
    {
        a.evidence_pos = 0;
        a.scroll = 0;
        if a.editable {
            return vec![Cmd::SaveCursor {
                cursor: a.selected as i64,
            }];
        }
    }
    vec![]
}
