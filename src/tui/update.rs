//! `update`: the workbench's only state transition. It takes a message, changes the model and
//! returns the effects to perform. No I/O happens here (the evidence view reads the bytes of a
//! document already opened), so tests drive it directly, with key sequences alone.
//!
//! This file routes: a key goes to the dialog that has the keyboard, else to the screen's
//! handler in `screen/…`; the answers of effects are applied here.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::editor::{Edit, TextArea};
use super::keys::{self, Action, Ctx};
use super::model::{
    Cmd, Dialog, EditTarget, History, Loaded, Model, Msg, Refreshed, Saved, Screen, shift,
};
use super::screen::{assess, dialogs, export, queue, settle, stats};
use super::view::{MIN_H, MIN_W};
use crate::app::mark::Change;

pub use super::screen::dialogs::CHOICES;

pub fn update(m: &mut Model, msg: Msg) -> Vec<Cmd> {
    match msg {
        Msg::Key(k) => {
            if k.kind != KeyEventKind::Press {
                return vec![];
            }
            if m.width < MIN_W || m.height < MIN_H {
                return too_small(m, k);
            }
            key(m, k)
        }
        Msg::Paste(text) => paste(m, text),
        Msg::Resize(w, h) => {
            m.width = w;
            m.height = h;
            assess::fit_evidence(m);
            vec![]
        }
        Msg::QueueLoaded(loaded) => loaded_queue(m, *loaded),
        Msg::QueueRefreshed(r) => refreshed_queue(m, *r),
        Msg::Filtered {
            generation,
            matched,
            done,
        } => {
            let q = &mut m.queue;
            if generation == q.filter_gen {
                q.filtering = !done;
                q.matched = Some(with_documents(matched, &q.in_documents, q.keys.len()));
                // The first results of a new query select the best; those that refine them keep
                // the row the person moved to, and a query run again after the rows changed
                // keeps the row selected before (held until a result holds it: the first
                // results of a large queue are the best of its first part only).
                let first = q.results_gen != generation;
                if first {
                    q.results_gen = generation;
                    q.selected = 0;
                }
                let keep = match q.hold {
                    Some(pk) => Some(pk),
                    None if !first => moved_to(q),
                    None => None,
                };
                queue::recompute(m);
                select_pk(m, keep);
                let q = &mut m.queue;
                if done
                    || q.hold
                        .is_some_and(|h| q.key_at(q.selected).is_some_and(|k| k.pk == h))
                {
                    q.hold = None;
                }
            }
            vec![]
        }
        Msg::InDocuments { generation, pks } => {
            if generation == m.queue.filter_gen {
                m.queue.in_documents = positions_of(&m.queue.keys, &pks);
                if let Some(matched) = m.queue.matched.take() {
                    let keep = moved_to(&m.queue);
                    m.queue.matched = Some(with_documents(
                        matched,
                        &m.queue.in_documents,
                        m.queue.keys.len(),
                    ));
                    queue::recompute(m);
                    select_pk(m, keep);
                }
            }
            vec![]
        }
        Msg::Opened(a) => assess::opened(m, *a),
        Msg::Saved {
            version,
            sheet,
            eval,
            undo,
            history,
            note,
        } => {
            // (a change committed: the workspace is reachable)
            m.connection = None;
            if let Some(a) = &mut m.assess {
                a.version = version;
                a.sheet = sheet;
                a.eval = eval;
                match (history, undo) {
                    (History::New, u) => {
                        a.undo.extend(u);
                        a.redo.clear();
                    }
                    (History::Undo, u) => a.redo.extend(u),
                    (History::Redo, u) => a.undo.extend(u),
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
        Msg::Linked { summary } => {
            m.good(summary);
            vec![]
        }
        Msg::Refused { doing, refusal } => {
            let e = assess::refused(doing, &refusal);
            if let Some(a) = &mut m.assess {
                a.saved = Saved::Failed(e.clone());
            }
            m.bad(e);
            vec![]
        }
        Msg::SaveFailed(e) => {
            if let Some(a) = &mut m.assess {
                a.saved = Saved::Failed(e.clone());
            }
            m.bad(e);
            vec![]
        }
        // (heard from the server while the banner says it is away: connect again first)
        Msg::Live { .. } if m.connection.is_some() => {
            m.connection = None;
            vec![Cmd::Reconnect]
        }
        Msg::Live { head } => vec![Cmd::CatchUp { head }],
        // (the runtime puts a whole queue in place and passes it on as `QueueLoaded`)
        Msg::QueueRead(_) | Msg::QueueReadFailed(_) => vec![],
        Msg::Connection(Some(why)) => {
            if m.connection.is_none() {
                m.bad(format!(
                    "connection lost — reconnecting; nothing is saved until it is back ({why})"
                ));
            }
            m.connection = Some(why);
            vec![]
        }
        Msg::Connection(None) => match m.connection.take() {
            Some(_) => {
                let failed = m
                    .assess
                    .as_ref()
                    .is_some_and(|a| matches!(a.saved, crate::tui::model::Saved::Failed(_)));
                m.good(if failed {
                    "connection back: the screen shows what is stored; the last change was not saved, make it again"
                } else {
                    "connection back: the screen shows what is stored"
                });
                vec![Cmd::Reconnect]
            }
            None => vec![],
        },
        Msg::Failed(e) => {
            m.bad(e);
            vec![]
        }
        Msg::EvidenceLoaded(shown) => {
            assess::evidence_loaded(m, *shown);
            vec![]
        }
        Msg::PictureLoaded { key, image } => {
            assess::picture_loaded(m, key, image);
            vec![]
        }
        Msg::EvidenceFailed { key, error } => {
            if let Some(a) = &mut m.assess
                && a.loading.as_deref() == Some(key.as_str())
            {
                a.loading = None;
            }
            m.bad(error);
            vec![]
        }
        Msg::Step => {
            assess::step(m);
            vec![]
        }
        Msg::Edited { target, text } => dialogs::finish_edit(m, target, text, None),
        Msg::EditorFailed {
            target,
            text,
            error,
        } => {
            m.bad(format!("{error}; the built-in editor has the text instead"));
            m.dialog = Some(Dialog::Edit {
                target,
                area: TextArea::new(&text),
                original: text,
                asking: false,
            });
            vec![]
        }
        Msg::Done(n) => {
            m.good(n);
            vec![]
        }
        Msg::Notice(n) => {
            m.dialog = Some(Dialog::Notice(n));
            vec![]
        }
        Msg::OfferSamples => {
            m.dialog = Some(Dialog::OfferSamples);
            vec![]
        }
        Msg::StatsLoaded(s) => {
            m.stats = s;
            m.stats_pos = m.stats_pos.min(m.stats.len().saturating_sub(1));
            vec![]
        }
        Msg::ExportReady { ready, targets } => {
            m.export.ready = ready;
            m.export.targets = targets;
            vec![]
        }
        Msg::ReleaseReady(ready, waiting) => {
            m.export.release = Some((ready, waiting));
            vec![]
        }
        Msg::ExportProgress { done, total } => {
            if let Some((_, d, t)) = &mut m.export.running {
                *d = done;
                *t = total;
            }
            vec![]
        }
        Msg::ExportDone(text, ok) | Msg::Released(text, ok) => {
            m.export.running = None;
            m.export.result = Some((text.clone(), ok));
            if ok {
                m.good(text)
            } else {
                m.bad(text)
            }
            vec![Cmd::LoadExport]
        }
        Msg::BankLoaded { criterion, items } => {
            if items.is_empty() {
                m.info(format!(
                    "no saved comments for {criterion} yet: the rubric lists none, and the feedback you write on it is offered here from then on"
                ));
            } else {
                m.dialog = Some(Dialog::Bank {
                    criterion,
                    items,
                    query: String::new(),
                    selected: 0,
                });
            }
            vec![]
        }
        Msg::Settled(text) => {
            m.good(text);
            vec![]
        }
    }
}

/// Below the minimum size the screen shows only how to enlarge it, so keys would act unseen:
/// input pauses (text in the editor is kept), except `q` on a screen without a dialog.
fn too_small(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let quit = k.code == KeyCode::Char('q')
        || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL));
    if quit && m.dialog.is_none() {
        m.quit = true;
        return vec![Cmd::Quit];
    }
    vec![]
}

fn paste(m: &mut Model, text: String) -> Vec<Cmd> {
    if let Some(Dialog::Edit { area, .. }) = &mut m.dialog {
        area.insert_str(&text);
        return vec![];
    }
    if m.dialog.is_some() {
        return vec![];
    }
    if m.screen == Screen::Queue && m.queue.typing {
        m.queue.filter.push_str(&text.replace(['\n', '\r'], " "));
        return queue::refilter(m);
    }
    if m.screen == Screen::Assess {
        assess::paste(m, text);
    }
    vec![]
}

fn loaded_queue(m: &mut Model, loaded: Loaded) -> Vec<Cmd> {
    let Loaded {
        rows,
        keys,
        counts,
        rubrics,
        select,
    } = loaded;
    let q = &mut m.queue;
    let keep = match select {
        Some(id) => Keep::Id(id),
        None => q.key_at(q.selected).map_or(Keep::None, |k| Keep::Pk(k.pk)),
    };
    match keys {
        Some((keys, names)) => {
            q.keys = keys;
            q.names = names;
            q.shown = rows.into_iter().map(|r| (r.pk, r)).collect();
        }
        None => q.set_rows(rows),
    }
    q.counts = counts;
    q.rubrics = rubrics;
    reselect(m, keep)
}

/// The row to select again once the queue's rows changed.
enum Keep {
    None,
    Pk(i64),
    Id(String),
}

/// Moves the changed rows into place (the runtime has checked that each is in the queue and
/// moved what it keeps beside the rows the same way).
fn refreshed_queue(m: &mut Model, refreshed: Refreshed) -> Vec<Cmd> {
    let Refreshed {
        moves,
        counts,
        select,
        selected_row,
    } = refreshed;
    let q = &mut m.queue;
    if let Some(row) = selected_row {
        q.shown.insert(row.pk, row);
    }
    let keep = match select {
        Some(id) => Keep::Id(id),
        None => q.key_at(q.selected).map_or(Keep::None, |k| Keep::Pk(k.pk)),
    };
    for mv in moves {
        if mv.from >= q.keys.len() || mv.to >= q.keys.len() {
            continue;
        }
        let rank = q.keys[mv.from].rank;
        shift(&mut q.keys, mv.from, mv.to);
        q.keys[mv.to] = q.key_of(&mv.row, rank);
        q.shown.insert(mv.row.pk, mv.row);
    }
    q.counts = counts;
    reselect(m, keep)
}

/// After the queue's rows changed: forgets the filter's result, recomputes what is shown and
/// selects `keep` again if it is shown; the filter runs again if one is set.
fn reselect(m: &mut Model, keep: Keep) -> Vec<Cmd> {
    m.queue.matched = None;
    queue::recompute(m);
    let q = &m.queue;
    let pk = match keep {
        Keep::None => None,
        Keep::Pk(pk) => Some(pk),
        // (the runtime reads the row of a portfolio it asks to select)
        Keep::Id(id) => q.shown.values().find(|r| r.id == id).map(|r| r.pk),
    };
    select_pk(m, pk);
    if m.queue.filter.is_empty() {
        vec![]
    } else {
        let cmds = queue::refilter(m);
        // (the same query runs again: its first results select this row again)
        m.queue.hold = pk.or_else(|| m.queue.key_at(m.queue.selected).map(|k| k.pk));
        cmds
    }
}

/// The portfolio the person moved to (a row below the first), which refined results keep
/// selected.
fn moved_to(q: &super::model::Queue) -> Option<i64> {
    (q.selected > 0)
        .then(|| q.key_at(q.selected).map(|k| k.pk))
        .flatten()
}

/// Selects the row of portfolio `pk` if it is shown.
fn select_pk(m: &mut Model, pk: Option<i64>) {
    let q = &m.queue;
    if let Some(pk) = pk
        && let Some(pos) = q.visible.iter().position(|i| q.keys[i].pk == pk)
    {
        m.queue.selected = pos;
    }
}

/// Where the keyboard is: the dialog on top, else the screen (and on the assessment screen the
/// pane or view that has it).
pub fn ctx(m: &Model) -> Ctx {
    if let Some(d) = &m.dialog {
        return dialogs::ctx(d);
    }
    match m.screen {
        Screen::Queue if m.queue.typing => Ctx::Filter,
        Screen::Queue => Ctx::Queue,
        Screen::Assess => match &m.assess {
            Some(a) if a.settling() => {
                if a.settle_evidence {
                    Ctx::SettleEvidence
                } else {
                    Ctx::Settle
                }
            }
            Some(a) => assess::ctx(a),
            None => Ctx::Queue,
        },
        Screen::Stats => Ctx::Stats,
        Screen::Export => Ctx::Export,
    }
}

/// Whether an action works just now: what is not available is not hinted, and pressing its
/// key says why.
pub fn available(m: &Model, a: Action) -> bool {
    match a {
        Action::Help | Action::Quit | Action::Messages => return true,
        _ => {}
    }
    if let Some(d) = &m.dialog {
        return dialogs::available(m, d, a);
    }
    on_screen(m, a)
}

/// Whether an action works on the screen beneath any dialog (help marks those that do not).
pub fn on_screen(m: &Model, a: Action) -> bool {
    match m.screen {
        Screen::Queue => queue::available(m, a),
        Screen::Assess => match &m.assess {
            Some(x) if x.settling() => settle::available(x, a),
            Some(x) => assess::available(x, a),
            None => false,
        },
        Screen::Stats => stats::available(m, a),
        Screen::Export => export::available(m, a),
    }
}

fn key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    // A message is kept until the next action.
    m.message = None;
    if let Some(d) = m.dialog.take() {
        return dialogs::key(m, d, k);
    }
    let ctx = ctx(m);
    // The evidence view's search input takes every key while a query is typed.
    if matches!(ctx, Ctx::Evidence | Ctx::SettleEvidence) && assess::typing_query(m) {
        assess::view_key(m, k);
        return vec![];
    }
    if ctx == Ctx::Filter {
        return queue::filter_key(m, k);
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
            m.dialog = Some(Dialog::Help { scroll: 0, ctx });
            return vec![];
        }
        Action::Messages => {
            let lines = m.log.len() as u16;
            m.dialog = Some(Dialog::Messages {
                scroll: lines.saturating_sub(1),
            });
            return vec![];
        }
        // `/` finds a portfolio from any screen: back to the queue with the filter open.
        Action::Search if m.screen != Screen::Queue => return queue::search_from_elsewhere(m),
        _ => {}
    }
    match m.screen {
        Screen::Queue => queue::action(m, action),
        Screen::Assess => {
            if m.assess.as_ref().is_some_and(|a| a.settling()) {
                settle::action(m, action, k)
            } else {
                assess::action(m, action, k)
            }
        }
        Screen::Stats => stats::action(m, action),
        Screen::Export => export::action(m, action),
    }
}

/// Rows a page moves in a list.
pub fn page(m: &Model) -> usize {
    usize::from(m.height.saturating_sub(9)).max(1)
}

/// Saves a change to the marking on screen, remembering how to undo it; refused (and said
/// why) when the person may not change it.
pub fn save(m: &mut Model, change: Change) -> Vec<Cmd> {
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    if let Some(why) = a.readonly_reason().map(str::to_string) {
        m.bad(why);
        return vec![];
    }
    let undo = assess::inverse(a, &change);
    a.saved = Saved::Saving;
    vec![Cmd::Save {
        id: a.id.clone(),
        phase: a.phase,
        version: a.version,
        change,
        undo,
        history: History::New,
    }]
}

/// Opens the built-in editor on `text` (or `$EDITOR`, when set and the target is long text).
pub fn edit(m: &mut Model, target: EditTarget, text: String) -> Vec<Cmd> {
    if m.external_editor {
        return vec![Cmd::EditExternal { target, text }];
    }
    m.dialog = Some(Dialog::Edit {
        target,
        area: TextArea::new(&text),
        original: text,
        asking: false,
    });
    vec![]
}

/// What the editor's key did, for the dialog handler.
pub fn editor_key(area: &mut TextArea, k: KeyEvent) -> Edit {
    area.key(k)
}

/// The positions in `keys` of the portfolios `pks` (a few hundred at most), in key order: one
/// pass over the keys, each asked of a bit a row key (a million keys in a millisecond or two,
/// on the key's own frame; a hash set asked a million times took ten or twenty).
fn positions_of(keys: &[super::model::QueueKey], pks: &[i64]) -> Vec<usize> {
    let (Some(&lo), Some(&hi)) = (pks.iter().min(), pks.iter().max()) else {
        return Vec::new();
    };
    let span = hi.saturating_sub(lo);
    if span >= 1 << 26 {
        // (row keys far apart: a search among them, sorted)
        let mut sorted = pks.to_vec();
        sorted.sort_unstable();
        return keys
            .iter()
            .enumerate()
            .filter(|(_, k)| sorted.binary_search(&k.pk).is_ok())
            .map(|(i, _)| i)
            .collect();
    }
    let mut bits = super::model::Bits::new(span as usize + 1);
    for &pk in pks {
        bits.set((pk - lo) as usize);
    }
    keys.iter()
        .enumerate()
        .filter(|(_, k)| k.pk >= lo && k.pk <= hi && bits.get((k.pk - lo) as usize))
        .map(|(i, _)| i)
        .collect()
}

/// The fuzzy matches, then the rows found by their documents' words that are not among them.
fn with_documents(
    matched: std::sync::Arc<Vec<usize>>,
    in_documents: &[usize],
    n: usize,
) -> std::sync::Arc<Vec<usize>> {
    if !in_documents.is_empty() {
        let mut matched = std::sync::Arc::unwrap_or_clone(matched);
        // (a bit a row: a million matches are marked in a few ms)
        let mut have = super::model::Bits::new(n);
        for &i in &matched {
            have.set(i);
        }
        matched.extend(in_documents.iter().copied().filter(|&i| !have.get(i)));
        return std::sync::Arc::new(matched);
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::positions_of;
    use crate::tui::model::QueueKey;

    #[test]
    fn the_positions_of_row_keys_are_found_near_or_far_apart() {
        let key = |pk: i64| QueueKey {
            pk,
            rank: 0,
            status: 0,
            rubric: 0,
            mine: false,
        };
        let keys: Vec<QueueKey> = [7, 3, 1 << 40, 12, 5, -4].into_iter().map(key).collect();
        assert_eq!(positions_of(&keys, &[]), Vec::<usize>::new());
        assert_eq!(positions_of(&keys, &[5, 3, 99]), vec![1, 4]);
        assert_eq!(positions_of(&keys, &[-4, 12]), vec![3, 5]);
        // (a span too wide for one bit a key)
        assert_eq!(positions_of(&keys, &[1 << 40, 7, -4]), vec![0, 2, 5]);
    }
}
