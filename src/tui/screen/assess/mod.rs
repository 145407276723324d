//! The assessment screen: criteria, the selected criterion's levels (or the rubric grid), and
//! the evidence the learner claims for it — marked criterion by criterion, every key saved.

pub mod picture;
pub mod view;

use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::app::mark::Change;
use crate::app::refusal::Refusal;
use crate::tui::evidence::{self, Doc, EvidenceView, Kind};
use crate::tui::keys::{Action, Ctx};
use crate::tui::model::{
    Assess, Cmd, Dialog, Doing, EditTarget, History, Lower, Model, Pane, STATEMENT, Screen, Shown,
};
use crate::tui::update::{edit, save};

/// Documents kept open besides the one on show.
const RECENT: usize = 4;

/// The key of a document shown as its plain lines ends with this.
const RAW: &str = "#raw";

/// Swaps the document on show for the same bytes as plain lines, or back.
pub fn toggle_raw(a: &mut Assess) {
    let Some(s) = &a.shown else { return };
    let key = match s.key.strip_suffix(RAW) {
        Some(formatted) => formatted.to_string(),
        None => format!("{}{RAW}", s.key),
    };
    if let Some(pos) = a.recent.iter().position(|r| r.key == key) {
        park(a);
        a.shown = Some(a.recent.remove(pos));
        return;
    }
    if !s.key.ends_with(RAW) {
        let doc = Doc::open_as(s.doc.name(), Kind::Text, s.doc.source());
        let view = EvidenceView::new(&doc);
        park(a);
        a.shown = Some(Shown {
            key,
            doc: Arc::new(doc),
            view,
            said: None,
        });
    }
}

/// Where the keyboard is on this screen.
pub fn ctx(a: &Assess) -> Ctx {
    if a.grid.is_some() {
        Ctx::Grid
    } else if a.pane == Pane::Evidence || a.zoom {
        Ctx::Evidence
    } else {
        Ctx::Assess
    }
}

/// Whether an action works now on this screen (what does not is neither hinted nor silent:
/// its key says why).
pub fn available(a: &Assess, act: Action) -> bool {
    let marking = a.editable();
    match act {
        Action::Level(_) | Action::Choose => {
            marking && (a.selected_criterion().is_some() || a.grid.is_some())
        }
        Action::ToggleGate => marking && a.selected_gate().is_some(),
        Action::EditFeedback | Action::CommentBank => marking && a.selected_criterion().is_some(),
        Action::SaveComment => a
            .selected_criterion()
            .and_then(|ci| a.feedback_of(&a.rubric.criteria[ci].id))
            .is_some_and(|f| !f.trim().is_empty()),
        Action::EditComment | Action::Submit | Action::Refer => marking,
        Action::Undo => marking && !a.undo.is_empty(),
        Action::Redo => marking && !a.redo.is_empty(),
        Action::NextPortfolio | Action::PrevPortfolio => true,
        Action::NextEvidence | Action::PrevEvidence => a.claimed().len() > 1,
        Action::AllEvidence => a.selected_criterion().is_some() && !a.evidence.is_empty(),
        Action::Link => marking && a.selected_criterion().is_some() && a.shown_evidence().is_some(),
        Action::OpenExternal => a
            .shown_evidence()
            .is_some_and(|i| a.evidence[i].sha256.is_some() && a.evidence[i].file.is_some()),
        Action::Find
        | Action::FindNext
        | Action::FindPrev
        | Action::Wrap
        | Action::ScrollLeft
        | Action::ScrollRight => a.shown.is_some() || a.grid.is_some(),
        Action::Raw => a
            .shown
            .as_ref()
            .is_some_and(|s| s.doc.formatted() || s.key.ends_with(RAW)),
        Action::Confirm | Action::Amend | Action::Release => false,
        Action::CycleStatus
        | Action::CycleRubric
        | Action::ModerationView
        | Action::StatsScreen
        | Action::ExportScreen
        | Action::Refresh => false,
        _ => true,
    }
}

/// A refusal as the workbench shows it: what was refused, the service's reason, and what to do
/// here (keys) — worded from the refusal's facts, not by checking the rule again.
pub fn refused(doing: Doing, r: &Refusal) -> String {
    let what = match doing {
        Doing::Save => "",
        Doing::Submit => "not submitted: ",
        Doing::Settle => "not settled: ",
    };
    format!("{what}{r}{}", advice(doing, r))
}

/// The workbench's advice for a refusal, if it has any.
pub fn advice(doing: Doing, r: &Refusal) -> &'static str {
    match r {
        Refusal::Conflict { .. } if doing == Doing::Save => {
            "; the screen now shows the marking as it is stored"
        }
        Refusal::SecondSubmitted { .. } => " (C confirms the first decision, A amends it)",
        Refusal::NotPermitted {
            registered_as: None,
            ..
        } => " (a lead registers people)",
        _ => "",
    }
}

/// The portfolio was opened: show it, and open the document of its first evidence.
pub fn opened(m: &mut Model, mut a: Assess) -> Vec<Cmd> {
    // Reopening the same portfolio (after a save conflict, a submission, a settlement) keeps
    // the reader's place.
    if let Some(old) = m.assess.take()
        && old.id == a.id
    {
        a.selected = old.selected.min(a.items().saturating_sub(1));
        a.pane = old.pane;
        a.lower = old.lower;
        a.evidence_pos = old.evidence_pos;
        a.all_evidence = old.all_evidence;
        a.shown = old.shown;
        a.recent = old.recent;
        a.zoom = old.zoom;
        a.levels_scroll = old.levels_scroll;
        a.settle_evidence = old.settle_evidence;
        a.settle_scroll = old.settle_scroll;
    }
    let id = a.id.clone();
    // (a read-only marking says why in the header)
    m.assess = Some(a);
    m.screen = Screen::Assess;
    let mut cmds = vec![Cmd::Remember { open: Some(id) }];
    fit_evidence(m);
    cmds.extend(show_current(m));
    reveal_level(m);
    cmds
}

/// The document that belongs on show now (the statement, or the selected evidence when it is
/// stored text), from the recent ones or read from the workspace.
pub fn show_current(m: &mut Model) -> Vec<Cmd> {
    let mut cmds = show_picture(m);
    cmds.extend(show_text(m));
    cmds
}

/// The picture that belongs on show now (the selected evidence, when it is a photo or scan):
/// kept if it is the one on show, else read and decoded off the render path.
fn show_picture(m: &mut Model) -> Vec<Cmd> {
    let drawn = m.picker.is_some();
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    let want = match a.lower {
        Lower::Evidence => a.shown_evidence().and_then(|i| {
            let e = &a.evidence[i];
            let name = e.file.as_deref().unwrap_or("");
            e.sha256
                .clone()
                .filter(|_| drawn && picture::is_picture(name))
        }),
        _ => None,
    };
    let Some(sha) = want else {
        return vec![];
    };
    if a.picture.as_ref().is_some_and(|p| p.key == sha)
        || a.picture_loading.as_deref() == Some(sha.as_str())
    {
        return vec![];
    }
    a.picture_loading = Some(sha.clone());
    vec![Cmd::LoadPicture { sha }]
}

/// A picture the runtime read and decoded.
pub fn picture_loaded(m: &mut Model, key: String, image: Result<Arc<image::DynamicImage>, String>) {
    let Some(a) = &mut m.assess else { return };
    if a.picture_loading.as_deref() == Some(key.as_str()) {
        a.picture_loading = None;
    }
    a.picture = Some(picture::Picture::new(key, image));
    fit_evidence(m);
}

/// The text that belongs on show now.
fn show_text(m: &mut Model) -> Vec<Cmd> {
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    let want: Option<(String, String)> = match a.lower {
        Lower::Statement => Some((STATEMENT.into(), "statement.md".into())),
        Lower::Coverage => None,
        Lower::Evidence => a.shown_evidence().and_then(|i| {
            a.evidence[i]
                .readable()
                .map(|(sha, name)| (sha.to_string(), name))
        }),
    };
    let Some((key, name)) = want else {
        park(a);
        return vec![];
    };
    if a.shown
        .as_ref()
        .is_some_and(|s| s.key == key || s.key.strip_suffix(RAW) == Some(key.as_str()))
    {
        return vec![];
    }
    park(a);
    if let Some(pos) = a.recent.iter().position(|s| s.key == key) {
        a.shown = Some(a.recent.remove(pos));
        fit_evidence(m);
        return vec![];
    }
    if key == STATEMENT {
        let text = a
            .statement
            .clone()
            .unwrap_or_else(|| "*The learner gave no reflective statement.*".into());
        let doc = Doc::open_as(&name, Kind::Markdown, Arc::new(text));
        let view = EvidenceView::new(&doc);
        a.shown = Some(Shown {
            key,
            doc: Arc::new(doc),
            view,
            said: None,
        });
        fit_evidence(m);
        return vec![];
    }
    if a.loading.as_deref() == Some(key.as_str()) {
        return vec![];
    }
    a.loading = Some(key.clone());
    vec![Cmd::LoadEvidence { sha: key, name }]
}

/// Puts the document on show among the recent ones.
fn park(a: &mut Assess) {
    if let Some(s) = a.shown.take() {
        a.recent.retain(|r| r.key != s.key);
        a.recent.insert(0, s);
        a.recent.truncate(RECENT);
    }
}

/// A document the runtime read and opened.
pub fn evidence_loaded(m: &mut Model, shown: Shown) {
    let Some(a) = &mut m.assess else { return };
    if a.loading.as_deref() != Some(shown.key.as_str()) {
        // (the reader moved on meanwhile: keep it for later)
        a.recent.insert(0, shown);
        a.recent.truncate(RECENT);
        return;
    }
    a.loading = None;
    park(a);
    a.shown = Some(shown);
    fit_evidence(m);
}

/// Gives the evidence view its pane's size (the same geometry the view draws).
pub fn fit_evidence(m: &mut Model) {
    // (a document and a picture draw in the same place: under the lines that say what it is)
    let area = view::evidence_view_area(m);
    if let Some(a) = &mut m.assess
        && let Some(s) = &mut a.shown
        && let Some(r) = area
    {
        s.view.resize(&s.doc, r.width, r.height);
    }
    if let Some(a) = &mut m.assess
        && let Some(p) = &mut a.picture
        && let (Some(r), Some(picker)) = (area, &m.picker)
    {
        p.fit(picker, ratatui::layout::Size::new(r.width, r.height));
    }
}

/// A bounded step of the evidence view's long work (counting lines, searching).
pub fn step(m: &mut Model) {
    if let Some(a) = &mut m.assess
        && let Some(s) = &mut a.shown
    {
        s.view.step(&s.doc, evidence::STEP_BUDGET);
    }
    relay(m);
}

/// What the evidence view says (a search that went round the end, no match) goes to the
/// message line, whole, and into the log — once.
pub fn relay(m: &mut Model) {
    let Some(s) = m.assess.as_mut().and_then(|a| a.shown.as_mut()) else {
        return;
    };
    let now = s.view.message().map(str::to_string);
    if now == s.said {
        return;
    }
    s.said = now.clone();
    if let Some(t) = now {
        m.info(t);
    }
}

/// Whether the evidence view's search input has the keyboard.
pub fn typing_query(m: &Model) -> bool {
    m.assess
        .as_ref()
        .and_then(|a| a.shown.as_ref())
        .is_some_and(|s| s.view.input().is_some())
}

/// A key given to the evidence view as it is (while a query is typed).
pub fn view_key(m: &mut Model, k: KeyEvent) {
    if let Some(a) = &mut m.assess
        && let Some(s) = &mut a.shown
    {
        s.view.key(&s.doc, k);
    }
    relay(m);
}

pub fn paste(m: &mut Model, text: String) {
    if let Some(a) = &mut m.assess
        && let Some(s) = &mut a.shown
        && s.view.input().is_some()
    {
        s.view.update(&s.doc, evidence::Msg::Paste(text));
    }
}

/// The change that takes `change` back, given the marks before it.
pub fn inverse(a: &Assess, change: &Change) -> Option<Change> {
    Some(match change {
        Change::Level(c, _) => Change::Level(c.clone(), a.level_of(c).map(str::to_string)),
        Change::Feedback(c, _) => Change::Feedback(c.clone(), a.feedback_of(c).map(str::to_string)),
        Change::Gate(g, on) => Change::Gate(g.clone(), !on),
        Change::Comment(_) => Change::Comment(a.sheet.comment.clone()),
        Change::Choice(..) => Change::Choice(a.sheet.choice, a.sheet.rationale.clone()),
    })
}

/// An action of the evidence view, when the evidence has the keyboard.
fn evidence_msg(act: Action) -> Option<evidence::Msg> {
    use evidence::Msg as E;
    Some(match act {
        Action::Down => E::Down,
        Action::Up => E::Up,
        Action::PageDown => E::PageDown,
        Action::PageUp => E::PageUp,
        Action::Top => E::Home,
        Action::Bottom => E::End,
        Action::ScrollLeft => E::Left,
        Action::ScrollRight => E::Right,
        Action::Wrap => E::ToggleWrap,
        Action::Find => E::Find,
        Action::FindNext => E::FindNext,
        Action::FindPrev => E::FindPrev,
        _ => return None,
    })
}

/// Says why an unavailable action does nothing.
fn refuse(m: &mut Model, act: Action) {
    let Some(a) = &m.assess else { return };
    let why = if let Some(r) = a.readonly_reason() {
        format!("read only: {r}")
    } else {
        match act {
            Action::Level(_) => "a gate is selected: Space confirms it".into(),
            Action::ToggleGate => "Space confirms a gate: select one below the criteria".into(),
            Action::EditFeedback => {
                "feedback belongs to a criterion: select one (c edits the overall comment)".into()
            }
            Action::Undo => "nothing to undo".into(),
            Action::Redo => "nothing to redo".into(),
            Action::NextEvidence | Action::PrevEvidence => {
                "no other evidence is claimed for this criterion".into()
            }
            Action::OpenExternal => "no evidence file to open here".into(),
            Action::Find | Action::FindNext | Action::FindPrev | Action::Wrap => {
                "no text on show to search or wrap".into()
            }
            _ => return,
        }
    };
    m.info(why);
}

pub fn action(m: &mut Model, act: Action, _k: KeyEvent) -> Vec<Cmd> {
    let Some(a) = &m.assess else { return vec![] };
    if !available(a, act) {
        refuse(m, act);
        return vec![];
    }
    let before = a.selected;
    let cmds = act_on(m, act);
    // Remember where the marker is, so a restart returns to the same criterion.
    let mut cmds = cmds;
    if let Some(a) = &mut m.assess
        && a.selected != before
    {
        a.evidence_pos = 0;
        a.scroll = 0;
        cmds.extend(show_current(m));
        reveal_level(m);
        if let Some(a) = &m.assess
            && a.editable()
        {
            cmds.push(Cmd::SaveCursor {
                id: a.id.clone(),
                phase: a.phase,
                cursor: a.selected as i64,
            });
        }
    }
    cmds
}

/// Scrolls the levels pane so that the chosen level (or, none chosen, the first that meets the
/// criterion) is in view.
pub fn reveal_level(m: &mut Model) {
    let height = view::levels_inner(m).map_or(0, |r| r.height);
    let Some(a) = &mut m.assess else { return };
    let Some(ci) = a.selected_criterion() else {
        a.levels_scroll = 0;
        return;
    };
    let width = view::levels_inner_width(m);
    let Some(a) = &m.assess else { return };
    let c = &a.rubric.criteria[ci];
    let target = a
        .level_of(&c.id)
        .and_then(|l| c.level(l))
        .map(|(i, _)| i)
        .or_else(|| c.levels.iter().position(|l| l.meets))
        .unwrap_or(0);
    let (starts, total) = view::level_starts(a, ci, width);
    let start = starts.get(target).copied().unwrap_or(0);
    let end = starts.get(target + 1).copied().unwrap_or(total);
    let h = usize::from(height);
    // the whole level in view, as high up as the levels before it allow
    let scroll = if end <= h {
        0
    } else {
        start.min(total.saturating_sub(h))
    };
    if let Some(a) = &mut m.assess {
        a.levels_scroll = scroll as u16;
    }
}

fn act_on(m: &mut Model, act: Action) -> Vec<Cmd> {
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    // the rubric grid
    if let Some(col) = a.grid {
        let n_levels = a
            .selected_criterion()
            .map_or(0, |ci| a.rubric.criteria[ci].levels.len());
        match act {
            Action::ScrollLeft => a.grid = Some(col.saturating_sub(1)),
            Action::ScrollRight => a.grid = Some((col + 1).min(n_levels.saturating_sub(1))),
            Action::Down | Action::Up | Action::Top | Action::Bottom => {
                let nc = a.rubric.criteria.len().max(1);
                a.selected = match act {
                    Action::Down => (a.selected + 1).min(nc - 1),
                    Action::Up => a.selected.saturating_sub(1),
                    Action::Top => 0,
                    _ => nc - 1,
                };
                let n = a.rubric.criteria[a.selected].levels.len();
                a.grid = Some(col.min(n.saturating_sub(1)));
            }
            Action::Choose => return choose_level(m, col + 1),
            Action::Level(n) => {
                a.grid = Some(usize::from(n).saturating_sub(1));
                return choose_level(m, usize::from(n));
            }
            Action::Grid | Action::Back => a.grid = None,
            _ => return assess_action(m, act),
        }
        return vec![];
    }
    // the evidence pane
    if act == Action::Raw {
        toggle_raw(a);
        fit_evidence(m);
        return vec![];
    }
    if (a.pane == Pane::Evidence || a.zoom)
        && let Some(msg) = evidence_msg(act)
    {
        if let Some(s) = &mut a.shown {
            s.view.update(&s.doc, msg);
            relay(m);
        } else if a.lower == Lower::Coverage {
            a.scroll = match act {
                Action::Down => a.scroll.saturating_add(1),
                Action::Up => a.scroll.saturating_sub(1),
                Action::Top => 0,
                Action::Bottom => (a.rubric.criteria.len() as u16).saturating_sub(1),
                _ => a.scroll,
            };
        }
        return vec![];
    }
    assess_action(m, act)
}

/// Chooses level `n` (1 = lowest) of the selected criterion.
fn choose_level(m: &mut Model, n: usize) -> Vec<Cmd> {
    let Some(a) = &m.assess else { return vec![] };
    let Some(ci) = a.selected_criterion() else {
        m.info("a gate is selected: Space confirms it");
        return vec![];
    };
    let c = &a.rubric.criteria[ci];
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
        let label = c.levels[n - 1].label.clone();
        m.info(format!("{cid} is already at {label}: nothing changed"));
        return vec![];
    }
    save(m, Change::Level(cid, Some(lid)))
}

fn assess_action(m: &mut Model, act: Action) -> Vec<Cmd> {
    // The levels pane's size and its lines, laid out only for a key that scrolls it.
    let moves = matches!(
        act,
        Action::Down
            | Action::Up
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp
    );
    let scrolls_levels = moves
        && (matches!(act, Action::PageDown | Action::PageUp)
            || m.assess.as_ref().is_some_and(|a| a.pane == Pane::Levels));
    let (levels_h, levels_total) = if scrolls_levels {
        (
            view::levels_inner(m).map_or(1, |r| r.height.max(1)),
            view::levels_total(m) as u16,
        )
    } else {
        (1, 0)
    };
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    let items = a.items();
    let max_levels = levels_total.saturating_sub(levels_h);
    match act {
        Action::Down
        | Action::Up
        | Action::Top
        | Action::Bottom
        | Action::PageDown
        | Action::PageUp
            if a.pane == Pane::Levels =>
        {
            let page = levels_h.saturating_sub(1).max(1);
            a.levels_scroll = match act {
                Action::Down => a.levels_scroll.saturating_add(1),
                Action::Up => a.levels_scroll.saturating_sub(1),
                Action::PageDown => a.levels_scroll.saturating_add(page),
                Action::PageUp => a.levels_scroll.saturating_sub(page),
                Action::Top => 0,
                _ => max_levels,
            }
            .min(max_levels);
        }
        Action::Down => a.selected = (a.selected + 1).min(items.saturating_sub(1)),
        Action::Up => a.selected = a.selected.saturating_sub(1),
        Action::Top => a.selected = 0,
        Action::Bottom => a.selected = items.saturating_sub(1),
        // PgDn/PgUp on the criteria scroll the levels of the selected one
        Action::PageDown => {
            a.levels_scroll = a
                .levels_scroll
                .saturating_add(levels_h.saturating_sub(1).max(1))
                .min(max_levels)
        }
        Action::PageUp => {
            a.levels_scroll = a
                .levels_scroll
                .saturating_sub(levels_h.saturating_sub(1).max(1))
        }
        Action::NextPane => {
            a.pane = match a.pane {
                Pane::Criteria => Pane::Levels,
                Pane::Levels => Pane::Evidence,
                Pane::Evidence => Pane::Criteria,
            };
            if a.pane != Pane::Evidence {
                a.zoom = false;
            }
            fit_evidence(m);
        }
        Action::Open => {
            if a.selected_gate().is_some() {
                return assess_action(m, Action::ToggleGate);
            }
            a.pane = Pane::Evidence;
            a.lower = Lower::Evidence;
            fit_evidence(m);
            return show_current(m);
        }
        Action::Back => {
            if let Some(s) = &mut a.shown
                && s.view.search().is_some()
                && (a.pane == Pane::Evidence || a.zoom)
            {
                s.view.update(&s.doc, evidence::Msg::ClearSearch);
                return vec![];
            }
            if a.zoom {
                a.zoom = false;
                fit_evidence(m);
                return vec![];
            }
            if a.pane != Pane::Criteria {
                a.pane = Pane::Criteria;
                fit_evidence(m);
                return vec![];
            }
            if a.lower != Lower::Evidence {
                a.lower = Lower::Evidence;
                return show_current(m);
            }
            let id = a.id.clone();
            m.assess = None;
            m.screen = Screen::Queue;
            return vec![
                Cmd::Remember { open: None },
                Cmd::LoadQueue { select: Some(id) },
            ];
        }
        Action::Zoom => {
            a.zoom = !a.zoom;
            if a.zoom {
                a.pane = Pane::Evidence;
            }
            fit_evidence(m);
        }
        Action::Grid => {
            if a.rubric.criteria.is_empty() {
                return vec![];
            }
            if a.selected_criterion().is_none() {
                a.selected = 0;
            }
            let ci = a.selected;
            let c = &a.rubric.criteria[ci];
            let col = a
                .level_of(&c.id)
                .and_then(|l| c.level(l))
                .map(|(i, _)| i)
                .unwrap_or(0);
            a.grid = Some(col);
        }
        Action::Level(n) => return choose_level(m, usize::from(n)),
        Action::NextPortfolio | Action::PrevPortfolio => {
            // the queue's order as it is shown (its filters too), as SpeedGrader steps
            let q = &mut m.queue;
            // (the portfolio open is the one selected in the queue, unless the queue moved; it
            // is found by its row key, which every row of the queue has, read or not)
            let is_open = |p: usize| q.key_at(p).is_some_and(|k| k.pk == a.pk);
            let here = match is_open(q.selected) {
                true => Some(q.selected),
                false => (0..q.visible.len()).find(|&p| is_open(p)),
            };
            let to = match (here, act == Action::NextPortfolio) {
                (Some(p), true) => Some(p + 1),
                (Some(p), false) => p.checked_sub(1),
                (None, _) => Some(q.selected),
            };
            match to.and_then(|p| q.key_at(p).map(|k| (p, k.pk))) {
                Some((p, pk)) => {
                    q.selected = p;
                    return vec![match q.shown.get(&pk) {
                        Some(r) => Cmd::Open {
                            id: r.id.to_string(),
                        },
                        // (the runtime reads its row first)
                        None => Cmd::OpenPk { pk },
                    }];
                }
                None => m.info(if act == Action::NextPortfolio {
                    "this is the last portfolio in the queue (as filtered)"
                } else {
                    "this is the first portfolio in the queue (as filtered)"
                }),
            }
        }
        Action::ToggleGate => {
            let Some(gi) = a.selected_gate() else {
                return vec![];
            };
            let g = a.rubric.gates[gi].id.clone();
            let on = !a.sheet.gates.contains(&g);
            return save(m, Change::Gate(g, on));
        }
        Action::EditFeedback => {
            let Some(ci) = a.selected_criterion() else {
                return vec![];
            };
            let cid = a.rubric.criteria[ci].id.clone();
            let text = a.feedback_of(&cid).unwrap_or_default().to_string();
            return edit(m, EditTarget::Feedback(cid), text);
        }
        Action::SaveComment => {
            let Some(ci) = a.selected_criterion() else {
                return vec![];
            };
            let cid = a.rubric.criteria[ci].id.clone();
            let Some(text) = a.feedback_of(&cid).map(str::to_string) else {
                return vec![];
            };
            return vec![Cmd::SaveComment {
                id: a.id.clone(),
                criterion: cid,
                text,
            }];
        }
        Action::CommentBank => {
            let Some(ci) = a.selected_criterion() else {
                return vec![];
            };
            let cid = a.rubric.criteria[ci].id.clone();
            return vec![Cmd::LoadBank {
                id: a.id.clone(),
                level: a.level_of(&cid).map(str::to_string),
                criterion: cid,
            }];
        }
        Action::EditComment => {
            let text = a.sheet.comment.clone().unwrap_or_default();
            return edit(m, EditTarget::Comment, text);
        }
        Action::Refer => {
            let choice = a
                .sheet
                .choice
                .and_then(|c| super::dialogs::CHOICES.iter().position(|x| *x == c))
                .unwrap_or(0);
            m.dialog = Some(Dialog::Refer { choice });
        }
        Action::Undo | Action::Redo => {
            let (stack, history) = if act == Action::Undo {
                (&mut a.undo, History::Undo)
            } else {
                (&mut a.redo, History::Redo)
            };
            match stack.pop() {
                Some(c) => {
                    let inverse = inverse(a, &c);
                    a.saved = crate::tui::model::Saved::Saving;
                    return vec![Cmd::Save {
                        id: a.id.clone(),
                        phase: a.phase,
                        version: a.version,
                        change: c,
                        undo: inverse,
                        history,
                    }];
                }
                None => m.info(if act == Action::Undo {
                    "nothing to undo"
                } else {
                    "nothing to redo"
                }),
            }
        }
        Action::Submit => {
            if !a.eval.complete {
                let mut missing = Vec::new();
                if !a.eval.unmarked.is_empty() {
                    missing.push(format!("choose a level for {}", a.eval.unmarked.join(", ")));
                }
                let msg = format!("cannot submit yet: {}", missing.join("; "));
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
            a.lower = Lower::Evidence;
            return show_current(m);
        }
        Action::AllEvidence => {
            // (stay on the evidence on show, if the other list has it)
            let shown = a.shown_evidence();
            a.all_evidence = !a.all_evidence;
            a.evidence_pos = shown
                .and_then(|i| a.claimed().iter().position(|&j| j == i))
                .unwrap_or(0);
            a.lower = Lower::Evidence;
            return show_current(m);
        }
        Action::Link => {
            let (Some(ci), Some(ei)) = (a.selected_criterion(), a.shown_evidence()) else {
                return vec![];
            };
            let criterion = a.rubric.criteria[ci].id.clone();
            let e = &a.evidence[ei];
            if e.claims.contains(&criterion) {
                let msg = format!(
                    "the learner claims {} for {criterion} already; their claims are theirs (L links evidence they did not claim)",
                    e.id
                );
                m.bad(msg);
                return vec![];
            }
            return vec![Cmd::Link {
                id: a.id.clone(),
                evidence: e.id.clone(),
                on: !e.linked.contains(&criterion),
                criterion,
                version: a.version,
            }];
        }
        Action::Statement => {
            a.lower = if a.lower == Lower::Statement {
                Lower::Evidence
            } else {
                Lower::Statement
            };
            return show_current(m);
        }
        Action::Coverage => {
            a.lower = if a.lower == Lower::Coverage {
                Lower::Evidence
            } else {
                Lower::Coverage
            };
            a.scroll = 0;
            return show_current(m);
        }
        Action::OpenExternal => {
            let Some(e) = a.shown_evidence().map(|i| a.evidence[i].clone()) else {
                return vec![];
            };
            if let (Some(sha), Some(f)) = (&e.sha256, &e.file) {
                let name = f.rsplit('/').next().unwrap_or(f).to_string();
                return vec![Cmd::OpenExternal {
                    sha: sha.clone(),
                    name,
                }];
            }
        }
        _ => {}
    }
    vec![]
}
