//! The one key table, as data: for each place (screen or dialog) the keys, what they do, their
//! status-line hint and their help text. `action` dispatches from it, the status line and the
//! dialogs' footers are written from it, and the help overlay lists it — so the three never
//! disagree. Whether an action is available just now (a read-only portfolio, a submitted
//! decision) is asked of `update::available`, and only what is available is hinted.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// Everywhere (unless a dialog or a text input has the keyboard).
    Global,
    Queue,
    /// Typing the queue's filter.
    Filter,
    Assess,
    /// The evidence pane (or the zoomed evidence view) has the keyboard; the marking keys
    /// still work there.
    Evidence,
    /// The rubric grid: criteria × levels.
    Grid,
    /// Settling a second-marked portfolio.
    Settle,
    /// The settlement screen's evidence: the evidence keys, then the settlement's.
    SettleEvidence,
    Stats,
    /// Release and export.
    Export,
    // dialogs
    Help,
    Submit,
    Confirm,
    Refer,
    Editor,
    /// The editor, asked whether to keep changed text.
    Discard,
    ConfirmRelease,
    ConfirmExport,
    Notice,
    Messages,
    OfferSamples,
    /// The comment bank's picker.
    Bank,
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    Quit,
    Help,
    Search,
    CycleStatus,
    CycleRubric,
    NextPane,
    Level(u8),
    ToggleGate,
    EditFeedback,
    EditComment,
    Submit,
    Refer,
    Undo,
    Redo,
    NextPortfolio,
    PrevPortfolio,
    NextEvidence,
    PrevEvidence,
    AllEvidence,
    Link,
    Statement,
    Coverage,
    OpenExternal,
    Refresh,
    ModerationView,
    StatsScreen,
    ExportScreen,
    Confirm,
    Amend,
    Messages,
    Release,
    Zoom,
    Grid,
    Find,
    FindNext,
    FindPrev,
    ScrollLeft,
    ScrollRight,
    Wrap,
    /// The document as its plain lines (Markdown source, a table's records), or formatted again.
    Raw,
    /// The comment bank.
    CommentBank,
    SaveComment,
    /// Choose the level under the grid's cursor.
    Choose,
    // dialog answers
    Yes,
    No,
    Save,
    Discard,
    KeepEditing,
    Choice(u8),
    ClearChoice,
}

/// A key as the table writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K {
    C(char),
    Code(KeyCode),
    Ctrl(char),
    /// `1`–`9`: [`Action::Level`] (or [`Action::Choice`]) with the digit.
    Digits,
}

/// One binding: keys, how they are written, the action, a short hint for the status line (with
/// its priority: lower is kept first when the line is short), and the help text.
pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static [K],
    pub shown: &'static str,
    pub action: Action,
    pub hint: Option<(&'static str, u8)>,
    pub help: &'static str,
}

macro_rules! b {
    ($ctx:ident, [$($k:expr),*], $shown:expr, $action:expr, $help:expr) => {
        Binding { ctx: Ctx::$ctx, keys: &[$($k),*], shown: $shown, action: $action, hint: None, help: $help }
    };
    ($ctx:ident, [$($k:expr),*], $shown:expr, $action:expr, $help:expr, $hint:expr, $prio:expr) => {
        Binding { ctx: Ctx::$ctx, keys: &[$($k),*], shown: $shown, action: $action, hint: Some(($hint, $prio)), help: $help }
    };
}

use Action as A;
use K::{C, Code, Ctrl};

#[rustfmt::skip]
pub static TABLE: &[Binding] = &[
    b!(Global, [C('j'), Code(KeyCode::Down)], "j/k ↓/↑", A::Down, "move down / up"),
    b!(Global, [C('k'), Code(KeyCode::Up)], "", A::Up, ""),
    b!(Global, [Code(KeyCode::Home)], "Home/End", A::Top, "jump to the first / last"),
    b!(Global, [Code(KeyCode::End)], "", A::Bottom, ""),
    b!(Global, [Code(KeyCode::PageDown)], "PgUp/PgDn", A::PageDown, "page up / down (in the pane that has the keyboard)"),
    b!(Global, [Code(KeyCode::PageUp)], "", A::PageUp, ""),
    b!(Global, [C('?'), Code(KeyCode::F(1))], "?  F1", A::Help, "this help: the keys of the screen you are on, then the others", "help", 0),
    b!(Global, [C('M')], "M", A::Messages, "the messages of this session, newest last", "messages", 8),
    b!(Global, [C('q'), Ctrl('c')], "q", A::Quit, "quit (every change is already saved)", "quit", 1),
    b!(Global, [Code(KeyCode::Esc)], "Esc", A::Back, "back one screen, close a dialog, clear a filter", "back", 1),
    b!(Global, [C('/')], "/", A::Search, "find a portfolio (from any screen: back to the queue, filter open)"),

    b!(Queue, [Code(KeyCode::Enter)], "Enter", A::Open, "open the selected portfolio", "open", 1),
    b!(Queue, [C('/')], "/", A::Search, "fuzzy filter: narrows as you type; Enter keeps it, Esc clears it", "filter", 1),
    b!(Queue, [C('s')], "s", A::CycleStatus, "filter by status (cycles)", "status", 3),
    b!(Queue, [C('r')], "r", A::CycleRubric, "filter by rubric (cycles)", "rubric", 3),
    b!(Queue, [C('m')], "m", A::ModerationView, "moderator's queue: drawn portfolios and their stage (m again: all)", "moderation", 4),
    b!(Queue, [C('a')], "a", A::StatsScreen, "agreement statistics", "stats", 5),
    b!(Queue, [C('x')], "x", A::ExportScreen, "release and export decisions", "release/export", 5),
    b!(Queue, [C('g')], "g", A::Refresh, "reload the queue from the workspace"),

    b!(Filter, [Code(KeyCode::Enter)], "Enter", A::Open, "keep the filter and move in the results", "keep", 1),
    b!(Filter, [Code(KeyCode::Esc)], "Esc", A::Back, "clear the filter", "clear", 1),
    b!(Filter, [Code(KeyCode::Down)], "↓/↑", A::Down, "move in the results while typing", "move", 2),
    b!(Filter, [Code(KeyCode::Up)], "", A::Up, ""),

    b!(Assess, [K::Digits], "1–9", A::Level(0), "choose the selected criterion's level (1 = lowest)", "level", 0),
    b!(Assess, [C(' ')], "Space", A::ToggleGate, "confirm / withdraw the selected gate", "gate", 3),
    b!(Assess, [C('e')], "e", A::EditFeedback, "write the selected criterion's feedback ($EDITOR, or the built-in editor)", "feedback", 2),
    b!(Assess, [C('c')], "c", A::EditComment, "write the overall comment", "comment", 3),
    b!(Assess, [C('B')], "B", A::SaveComment, "save this criterion's feedback as a comment in your comment bank (recorded; offered first next time)", "save comment", 7),
    b!(Assess, [C('b')], "b", A::CommentBank, "the comment bank: the rubric's comments for the criterion (and its level), then those you saved (B), then your own feedback on it, most used first; Enter puts one into the feedback", "bank", 6),
    b!(Assess, [C('S')], "S", A::Submit, "submit: shows every level, the score and the outcome first", "submit", 1),
    b!(Assess, [C('R')], "R", A::Refer, "refer, or override the rule's outcome, with a written rationale", "refer", 4),
    b!(Assess, [C('u')], "u", A::Undo, "undo the last change (before submission)", "undo", 5),
    b!(Assess, [Ctrl('r'), C('U')], "Ctrl-R", A::Redo, "redo what was undone (a new change forgets it)", "redo", 7),
    b!(Assess, [C('N')], "N P", A::NextPortfolio, "the next / previous portfolio in the queue's order (as filtered)", "next/prev portfolio", 6),
    b!(Assess, [C('P')], "", A::PrevPortfolio, ""),
    b!(Assess, [Code(KeyCode::Tab), Code(KeyCode::BackTab)], "Tab", A::NextPane, "next pane: criteria, levels, evidence", "pane", 2),
    b!(Assess, [Code(KeyCode::Enter)], "Enter", A::Open, "from a criterion to its evidence; on a gate, confirm it"),
    b!(Assess, [C(']'), C('n')], "] [", A::NextEvidence, "next / previous piece of claimed evidence", "evidence", 4),
    b!(Assess, [C('['), C('p')], "", A::PrevEvidence, ""),
    b!(Assess, [C('a')], "a", A::AllEvidence, "all the portfolio's evidence, in its groups (a again: the criterion's claimed and linked evidence)", "all evidence", 5),
    b!(Assess, [C('L')], "L", A::Link, "link the evidence on show to the selected criterion, or take the link away (recorded; the learner's own claims stay as they are)", "link", 6),
    b!(Assess, [C('t')], "t", A::Statement, "the learner's reflective statement (t again: evidence)", "statement", 4),
    b!(Assess, [C('v')], "v", A::Coverage, "coverage: each criterion's evidence (the learner's claims, and + the assessor's links) and the portfolio's groups (v again: evidence)", "coverage", 4),
    b!(Assess, [C('o')], "o", A::OpenExternal, "open the evidence file with the system's opener", "open file", 6),
    b!(Assess, [C('z')], "z", A::Zoom, "the evidence fills the screen (z again: back)", "zoom", 2),
    b!(Assess, [C('g')], "g", A::Grid, "the rubric grid: every criterion's levels at once; choose from it (g again: back)", "grid", 5),

    b!(Evidence, [C('j'), Code(KeyCode::Down)], "j/k ↓/↑", A::Down, "scroll the evidence one display line", "scroll", 3),
    b!(Evidence, [C('k'), Code(KeyCode::Up)], "", A::Up, ""),
    b!(Evidence, [Code(KeyCode::PageDown), C(' ')], "PgDn/PgUp", A::PageDown, "scroll a page (one line kept)", "", 9),
    b!(Evidence, [Code(KeyCode::PageUp)], "", A::PageUp, ""),
    b!(Evidence, [Code(KeyCode::Home)], "Home/End", A::Top, "the first / the last line of the evidence"),
    b!(Evidence, [Code(KeyCode::End)], "", A::Bottom, ""),
    b!(Evidence, [C('h'), Code(KeyCode::Left)], "h/l ←/→", A::ScrollLeft, "scroll sideways (a table: by column)", "", 9),
    b!(Evidence, [C('l'), Code(KeyCode::Right)], "", A::ScrollRight, ""),
    b!(Evidence, [C('w')], "w", A::Wrap, "wrap long lines on / off", "wrap", 6),
    b!(Evidence, [C('r')], "r", A::Raw, "the document as plain lines: a Markdown file's source, a table's records whole (r again: formatted)", "raw", 7),
    b!(Evidence, [C('f'), Ctrl('f')], "f", A::Find, "find in the evidence: type, Enter searches, Esc cancels", "find", 2),
    b!(Evidence, [C('.'), Code(KeyCode::F(3))], ". ,", A::FindNext, "next / previous match (highlighted; the status row counts them)", "match", 3),
    b!(Evidence, [C(',')], "", A::FindPrev, ""),

    b!(Grid, [C('h'), Code(KeyCode::Left)], "h/l ←/→", A::ScrollLeft, "move between levels", "level", 1),
    b!(Grid, [C('l'), Code(KeyCode::Right)], "", A::ScrollRight, ""),
    b!(Grid, [Code(KeyCode::Enter), C(' ')], "Enter", A::Choose, "choose the level under the cursor for that criterion", "choose", 1),
    b!(Grid, [K::Digits], "1–9", A::Level(0), "choose that level for the criterion under the cursor", "level", 2),
    b!(Grid, [C('g')], "g", A::Grid, "back to the assessment screen", "close grid", 1),

    b!(Settle, [C('C')], "C", A::Confirm, "confirm the first decision (it stands; recorded as moderated)", "confirm", 1),
    b!(Settle, [C('A')], "A", A::Amend, "amend: the second marks' decision replaces the first (with a rationale)", "amend", 1),
    b!(Settle, [Code(KeyCode::Enter)], "Enter", A::Open, "the evidence the learner claims for the selected criterion (Enter again: back)", "evidence", 2),
    b!(Settle, [C(']'), C('n')], "] [", A::NextEvidence, "next / previous piece of that evidence", "next evidence", 4),
    b!(Settle, [C('z')], "z", A::Zoom, "the evidence fills the screen (z again: back)", "zoom", 2),
    b!(Settle, [C('['), C('p')], "", A::PrevEvidence, ""),

    b!(Stats, [C(']'), C('n'), Code(KeyCode::Tab)], "] [", A::NextEvidence, "next / previous rubric", "rubric", 1),
    b!(Stats, [C('['), C('p')], "", A::PrevEvidence, ""),
    b!(Stats, [C('g')], "g", A::Refresh, "recompute", "recompute", 4),

    b!(Export, [C('l')], "l", A::Release, "release every decision that is ready (asks first, says how many)", "release", 1),
    b!(Export, [Code(KeyCode::Enter)], "Enter", A::Open, "export the selected format (asks first: how many, where)", "export", 1),
    b!(Export, [C('g')], "g", A::Refresh, "recount what is ready", "recount", 4),

    b!(Help, [C('j'), Code(KeyCode::Down)], "j/k", A::Down, "scroll", "scroll", 1),
    b!(Help, [C('k'), Code(KeyCode::Up)], "", A::Up, ""),
    b!(Help, [Code(KeyCode::PageDown), C(' ')], "PgDn", A::PageDown, "page down", "page", 2),
    b!(Help, [Code(KeyCode::PageUp)], "", A::PageUp, ""),
    b!(Help, [Code(KeyCode::Esc), C('q'), C('?')], "Esc", A::Back, "close", "close", 0),

    b!(Messages, [C('j'), Code(KeyCode::Down)], "j/k", A::Down, "scroll", "scroll", 1),
    b!(Messages, [C('k'), Code(KeyCode::Up)], "", A::Up, ""),
    b!(Messages, [Code(KeyCode::Esc), C('q'), C('M')], "Esc", A::Back, "close", "close", 0),

    b!(Submit, [C('y'), C('Y')], "y", A::Yes, "submit (the decision is then frozen)", "submit", 0),
    b!(Submit, [C('n'), Code(KeyCode::Esc), C('q')], "n/Esc", A::No, "keep marking", "keep marking", 0),

    b!(Confirm, [C('y'), C('Y')], "y", A::Yes, "confirm the first decision", "confirm", 0),
    b!(Confirm, [C('n'), Code(KeyCode::Esc), C('q')], "n/Esc", A::No, "cancel", "cancel", 0),

    b!(ConfirmRelease, [C('y'), C('Y')], "y", A::Yes, "release them", "release", 0),
    b!(ConfirmRelease, [C('n'), Code(KeyCode::Esc), C('q')], "n/Esc", A::No, "cancel", "cancel", 0),

    b!(ConfirmExport, [C('y'), C('Y')], "y", A::Yes, "export", "export", 0),
    b!(ConfirmExport, [C('n'), Code(KeyCode::Esc), C('q')], "n/Esc", A::No, "cancel", "cancel", 0),

    b!(Refer, [K::Digits], "1–3", A::Choice(0), "choose, then write the rationale", "choose", 0),
    b!(Refer, [Code(KeyCode::Enter)], "Enter", A::Open, "choose the highlighted one", "", 9),
    b!(Refer, [C('j'), Code(KeyCode::Down), Code(KeyCode::Tab)], "j/k", A::Down, "move", "", 9),
    b!(Refer, [C('k'), Code(KeyCode::Up)], "", A::Up, ""),
    b!(Refer, [C('x'), C('0')], "x", A::ClearChoice, "back to the rule's outcome", "rule's outcome", 1),
    b!(Refer, [Code(KeyCode::Esc), C('q')], "Esc", A::Back, "cancel", "cancel", 0),

    b!(Editor, [Ctrl('s')], "Ctrl-S", A::Save, "save", "save", 0),
    b!(Editor, [Code(KeyCode::Esc), Ctrl('c')], "Esc", A::Back, "close (asks when the text changed)", "close", 0),

    b!(Discard, [C('s'), C('y'), Ctrl('s')], "s", A::Save, "save the text", "save", 0),
    b!(Discard, [C('d')], "d", A::Discard, "discard the changes", "discard", 0),
    b!(Discard, [C('k'), Code(KeyCode::Esc)], "k/Esc", A::KeepEditing, "keep editing", "keep editing", 0),

    b!(Bank, [Code(KeyCode::Enter)], "Enter", A::Open, "put the comment into the feedback (the editor opens on it)", "insert", 0),
    b!(Bank, [Code(KeyCode::Down), Code(KeyCode::Tab)], "↓/↑", A::Down, "move", "move", 1),
    b!(Bank, [Code(KeyCode::Up), Code(KeyCode::BackTab)], "", A::Up, ""),
    b!(Bank, [Code(KeyCode::Esc)], "Esc", A::Back, "close", "close", 0),

    b!(OfferSamples, [C('y'), C('Y')], "y", A::Yes, "load the built-in sample rubrics and portfolios", "load samples", 0),
    b!(OfferSamples, [C('n'), Code(KeyCode::Esc), C('q')], "n/Esc", A::No, "start empty (import with `assay import`)", "no", 0),

    b!(Notice, [Code(KeyCode::Enter), Code(KeyCode::Esc), C(' ')], "any key", A::Back, "continue", "continue", 0),
];

impl K {
    fn matches(self, k: KeyEvent) -> Option<Option<u8>> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            K::C(c) => (!ctrl && k.code == KeyCode::Char(c)).then_some(None),
            K::Code(code) => (k.code == code).then_some(None),
            K::Ctrl(c) => (ctrl && k.code == KeyCode::Char(c)).then_some(None),
            K::Digits => match k.code {
                KeyCode::Char(d @ '1'..='9') if !ctrl => Some(Some(d as u8 - b'0')),
                _ => None,
            },
        }
    }
}

/// The bindings of a place.
pub fn of(ctx: Ctx) -> impl Iterator<Item = &'static Binding> {
    TABLE.iter().filter(move |b| b.ctx == ctx)
}

/// Whether the global keys also work in a place (dialogs take the keyboard whole).
pub fn takes_global(ctx: Ctx) -> bool {
    matches!(
        ctx,
        Ctx::Queue
            | Ctx::Assess
            | Ctx::Evidence
            | Ctx::Grid
            | Ctx::Settle
            | Ctx::SettleEvidence
            | Ctx::Stats
            | Ctx::Export
    )
}

/// The places whose keys also work in `ctx` (after its own, in order): the evidence pane keeps
/// the marking keys; the grid, those that do not move; the settlement's evidence, the evidence
/// keys and the settlement's.
pub fn parents(ctx: Ctx) -> &'static [Ctx] {
    match ctx {
        Ctx::Evidence | Ctx::Grid => &[Ctx::Assess],
        Ctx::SettleEvidence => &[Ctx::Evidence, Ctx::Settle],
        _ => &[],
    }
}

/// The bindings that work in `ctx`: its own, its parents', then (in a screen) the global ones.
fn chain(ctx: Ctx) -> impl Iterator<Item = &'static Binding> {
    let own = of(ctx);
    let parent = parents(ctx).iter().flat_map(|p| of(*p)).filter(move |b| {
        ctx != Ctx::Grid
            || !matches!(
                b.action,
                Action::Down | Action::Up | Action::NextPane | Action::Open
            )
    });
    let global = of(Ctx::Global).filter(move |_| takes_global(ctx));
    own.chain(parent).chain(global)
}

/// The action of a key press in a place: its own bindings first, then (in a screen) the
/// global ones.
pub fn action(ctx: Ctx, k: KeyEvent) -> Option<Action> {
    for b in chain(ctx) {
        for key in b.keys {
            if let Some(digit) = key.matches(k) {
                return Some(match (b.action, digit) {
                    (Action::Level(_), Some(d)) => Action::Level(d),
                    (Action::Choice(_), Some(d)) => Action::Choice(d),
                    (a, _) => a,
                });
            }
        }
    }
    None
}

/// The hints of a place, in table order, each with its priority; `available` says which
/// actions work just now (the others are not offered).
pub fn hints(
    ctx: Ctx,
    available: &dyn Fn(Action) -> bool,
) -> Vec<(&'static str, &'static str, u8)> {
    let mut seen: Vec<&'static str> = Vec::new();
    chain(ctx)
        .filter(|b| available(b.action))
        .filter(|b| {
            // a key bound in a place and again in its parent is hinted once
            let fresh = !seen.contains(&b.shown);
            seen.push(b.shown);
            fresh
        })
        .filter_map(|b| {
            let (hint, prio) = b.hint?;
            (!hint.is_empty()).then_some((short_key(b.shown), hint, prio))
        })
        .collect()
}

/// Lays hints out on `lines` lines of `width` columns: the most important first when they do
/// not all fit, shown in table order. Each line is a list of (key, hint).
pub fn fit(
    hints: &[(&'static str, &'static str, u8)],
    width: usize,
    lines: usize,
) -> Vec<Vec<(&'static str, &'static str)>> {
    let cost = |k: &str, h: &str| k.chars().count() + h.chars().count() + 3;
    let mut by_prio: Vec<usize> = (0..hints.len()).collect();
    by_prio.sort_by_key(|&i| (hints[i].2, i));
    // the most important that fit in the budget; then, while the laid-out lines overflow,
    // the least important of those dropped
    let mut keep = vec![false; hints.len()];
    let mut used = 0;
    for &i in &by_prio {
        let c = cost(hints[i].0, hints[i].1);
        if used + c <= width * lines {
            keep[i] = true;
            used += c;
        }
    }
    loop {
        let mut out: Vec<Vec<(&str, &str)>> = vec![Vec::new()];
        let mut line_used = 0;
        let mut overflow = false;
        for (i, (k, h, _)) in hints.iter().enumerate() {
            if !keep[i] {
                continue;
            }
            let c = cost(k, h);
            if line_used + c > width && !out.last().is_some_and(|l| l.is_empty()) {
                if out.len() == lines {
                    overflow = true;
                    break;
                }
                out.push(Vec::new());
                line_used = 0;
            }
            out.last_mut().expect("a line").push((k, h));
            line_used += c;
        }
        if !overflow {
            return out;
        }
        match by_prio.iter().rev().find(|&&i| keep[i]) {
            Some(&i) => keep[i] = false,
            None => return out,
        }
    }
}

fn short_key(keys: &'static str) -> &'static str {
    match keys {
        "j/k ↓/↑" => "j/k",
        "?  F1" => "?",
        other => other,
    }
}

/// The places the help overlay covers, in order, with their names.
pub const PLACES: [(Ctx, &str); 21] = [
    (Ctx::Global, "Everywhere"),
    (Ctx::Queue, "Queue"),
    (Ctx::Filter, "Queue: typing a filter"),
    (Ctx::Assess, "Assessment (marking)"),
    (
        Ctx::Evidence,
        "Assessment: the evidence pane (the marking keys work here too)",
    ),
    (Ctx::Grid, "Assessment: the rubric grid"),
    (Ctx::Settle, "Settlement (moderation)"),
    (
        Ctx::SettleEvidence,
        "Settlement: the evidence (the evidence keys, and C, A, Enter)",
    ),
    (Ctx::Stats, "Agreement statistics"),
    (Ctx::Export, "Release and export"),
    (Ctx::Submit, "Dialog: submit"),
    (Ctx::Confirm, "Dialog: confirm the first decision"),
    (Ctx::Refer, "Dialog: refer or override"),
    (
        Ctx::Editor,
        "Dialog: the built-in editor (Enter a new line; arrows, Home/End move)",
    ),
    (Ctx::Discard, "Dialog: the editor's text changed"),
    (Ctx::ConfirmRelease, "Dialog: release"),
    (Ctx::ConfirmExport, "Dialog: export"),
    (Ctx::Messages, "Dialog: messages"),
    (Ctx::OfferSamples, "Dialog: an empty workspace"),
    (Ctx::Bank, "Dialog: the comment bank (type to filter)"),
    (Ctx::Notice, "Dialog: a notice"),
];

/// What the symbols on screen mean, for the help overlay.
pub const SYMBOLS: &[(&str, &str)] = &[
    (
        "•",
        "queue: your own work (allocated to you, or you first-marked it)",
    ),
    (
        "*",
        "criterion: required — it must reach its meeting level for an award",
    ),
    ("✎", "criterion: has feedback"),
    (
        "n/m",
        "criterion: level n of its m levels chosen; — none yet",
    ),
    ("● ○", "level: chosen / not chosen"),
    (
        "◆",
        "level: the first marker's choice (settlement and second marking once visible)",
    ),
    ("≠", "settlement: first and second marks differ here"),
    ("[x] [ ]", "gate: confirmed / not confirmed"),
    ("▶", "grid: the level under the cursor"),
    (
        "‹ ›",
        "evidence: more text to the left / right (h/l scroll)",
    ),
    (
        "✓ saved",
        "status line: everything on screen is committed to the workspace",
    ),
    ("… saving", "status line: a change is being committed"),
    (
        "✗ not saved",
        "status line: the last change failed; nothing of it was written",
    ),
    (
        "read only",
        "title: you may look but not change this marking (the reason follows)",
    ),
    (
        "(blind)",
        "queue: the first decision is hidden from you until your second marks are in",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    /// Every key of the table dispatches to its own action: the help never lies.
    #[test]
    fn every_binding_dispatches_to_its_action() {
        for b in TABLE {
            for k in b.keys {
                let ev = match k {
                    K::C(c) => key(KeyCode::Char(*c)),
                    K::Code(c) => key(*c),
                    K::Ctrl(c) => KeyEvent::new(KeyCode::Char(*c), KeyModifiers::CONTROL),
                    K::Digits => key(KeyCode::Char('3')),
                };
                let ctx = if b.ctx == Ctx::Global {
                    Ctx::Queue
                } else {
                    b.ctx
                };
                let want = match b.action {
                    Action::Level(_) => Action::Level(3),
                    Action::Choice(_) => Action::Choice(3),
                    a => a,
                };
                // (a screen's own binding of a key wins over the global one)
                let got = action(ctx, ev);
                if b.ctx == Ctx::Global && of(ctx).any(|o| o.keys.contains(k)) {
                    continue;
                }
                assert_eq!(got, Some(want), "{:?} {k:?} in {ctx:?}", b.action);
            }
        }
    }

    #[test]
    fn hints_keep_the_important_and_fit_the_width() {
        let all = hints(Ctx::Assess, &|_| true);
        for width in [80usize, 120, 200] {
            let lines = fit(&all, width, 2);
            assert!(lines.len() <= 2);
            for l in &lines {
                let w: usize = l
                    .iter()
                    .map(|(k, h)| k.chars().count() + h.chars().count() + 3)
                    .sum();
                assert!(w <= width, "{w} > {width}: {l:?}");
            }
            let shown: Vec<&str> = lines.iter().flatten().map(|(k, _)| *k).collect();
            for must in ["?", "1–9", "S", "Tab", "Esc", "q", "t", "v", "c", "R"] {
                assert!(
                    shown.contains(&must),
                    "{must} missing at {width}: {shown:?}"
                );
            }
        }
        // what is not available is not offered
        let read_only = hints(Ctx::Assess, &|a| {
            !matches!(a, Action::Level(_) | Action::Submit)
        });
        assert!(!read_only.iter().any(|(k, _, _)| *k == "1–9" || *k == "S"));
    }
}
