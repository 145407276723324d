//! The one key table. It maps key presses to actions per screen, and the same table writes the
//! status-line hints and the help overlay, so the three never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a key is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    /// Everywhere (unless a dialog or text input has the keyboard).
    Global,
    Queue,
    Assess,
    /// The agreement statistics screen.
    Stats,
    /// The export screen.
    Export,
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
    NextEvidence,
    PrevEvidence,
    Statement,
    Coverage,
    OpenExternal,
    Refresh,
    ModerationView,
    StatsScreen,
    ExportScreen,
    Confirm,
    Amend,
}

/// How a key is written in the help and hints.
pub struct Binding {
    pub ctx: Ctx,
    pub keys: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// Shown in the status-line hints (short label).
    pub hint: Option<&'static str>,
}

macro_rules! b {
    ($ctx:ident, $keys:expr, $action:expr, $help:expr) => {
        Binding {
            ctx: Ctx::$ctx,
            keys: $keys,
            action: $action,
            help: $help,
            hint: None,
        }
    };
    ($ctx:ident, $keys:expr, $action:expr, $help:expr, $hint:expr) => {
        Binding {
            ctx: Ctx::$ctx,
            keys: $keys,
            action: $action,
            help: $help,
            hint: Some($hint),
        }
    };
}

#[rustfmt::skip]
pub static TABLE: &[Binding] = &[
    b!(Global, "j/k ↓/↑", Action::Down, "move down / up"),
    b!(Global, "Home/End", Action::Top, "jump to the first / last"),
    b!(Global, "PgUp/PgDn", Action::PageDown, "page up / down (scrolls evidence in the evidence pane)"),
    b!(Global, "?  F1", Action::Help, "this help", "help"),
    b!(Global, "q", Action::Quit, "quit (every change is already saved)", "quit"),
    b!(Global, "Esc", Action::Back, "back one screen, close a dialog, clear a filter"),
    b!(Global, "/", Action::Search, "find a portfolio (from any screen: back to the queue, filter open)"),
    b!(Queue, "Enter", Action::Open, "open the selected portfolio", "open"),
    b!(Queue, "/", Action::Search, "fuzzy filter: narrows as you type; Enter keeps it, Esc clears it", "filter"),
    b!(Queue, "s", Action::CycleStatus, "filter by status (cycles)", "status"),
    b!(Queue, "r", Action::CycleRubric, "filter by rubric (cycles)", "rubric"),
    b!(Queue, "m", Action::ModerationView, "moderator's queue: drawn portfolios and their stage (m again: all)", "moderation"),
    b!(Queue, "a", Action::StatsScreen, "agreement statistics, with charts", "stats"),
    b!(Queue, "x", Action::ExportScreen, "export released decisions", "export"),
    b!(Queue, "g", Action::Refresh, "reload the queue from the workspace"),
    b!(Assess, "1–9", Action::Level(0), "choose the selected criterion's level (1 = lowest)", "level"),
    b!(Assess, "Space", Action::ToggleGate, "confirm / withdraw the selected gate", "gate"),
    b!(Assess, "S", Action::Submit, "submit: shows every level, the score and the outcome first", "submit"),
    b!(Assess, "Tab", Action::NextPane, "next pane: criteria, levels, evidence"),
    b!(Assess, "Enter", Action::Open, "open: from a criterion to its evidence"),
    b!(Assess, "] [", Action::NextEvidence, "next / previous piece of claimed evidence", "evidence"),
    b!(Assess, "t", Action::Statement, "the learner's reflective statement (t again: evidence)"),
    b!(Assess, "v", Action::Coverage, "coverage: which criteria have claimed evidence"),
    b!(Assess, "o", Action::OpenExternal, "open the evidence file with the system's opener"),
    b!(Assess, "e", Action::EditFeedback, "edit the criterion's feedback ($EDITOR, or the built-in editor)", "feedback"),
    b!(Assess, "c", Action::EditComment, "edit the overall comment"),
    b!(Assess, "R", Action::Refer, "refer, or override the rule's outcome, with a written rationale"),
    b!(Assess, "u", Action::Undo, "undo the last change (before submission)", "undo"),
    b!(Assess, "C", Action::Confirm, "settlement: confirm the first decision"),
    b!(Assess, "A", Action::Amend, "settlement: amend to the second marks, with a rationale"),
    b!(Stats, "] [", Action::NextEvidence, "next / previous rubric", "rubric"),
    b!(Stats, "g", Action::Refresh, "recompute"),
    b!(Export, "Enter", Action::Open, "export the selected format (written under exports/ beside the database)", "export"),
    b!(Export, "g", Action::Refresh, "recount what is ready"),
];

/// The action of a key press in a context, if any.
pub fn action(ctx: Ctx, k: KeyEvent) -> Option<Action> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && k.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    let global = match k.code {
        KeyCode::Char('j') | KeyCode::Down => Some(Action::Down),
        KeyCode::Char('k') | KeyCode::Up => Some(Action::Up),
        KeyCode::Home => Some(Action::Top),
        KeyCode::End => Some(Action::Bottom),
        KeyCode::PageUp => Some(Action::PageUp),
        KeyCode::PageDown => Some(Action::PageDown),
        KeyCode::Char('?') | KeyCode::F(1) => Some(Action::Help),
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Esc => Some(Action::Back),
        _ => None,
    };
    if global.is_some() {
        return global;
    }
    match ctx {
        Ctx::Queue => match k.code {
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Char('/') => Some(Action::Search),
            KeyCode::Char('s') => Some(Action::CycleStatus),
            KeyCode::Char('r') => Some(Action::CycleRubric),
            KeyCode::Char('g') => Some(Action::Refresh),
            KeyCode::Char('m') => Some(Action::ModerationView),
            KeyCode::Char('a') => Some(Action::StatsScreen),
            KeyCode::Char('x') => Some(Action::ExportScreen),
            _ => None,
        },
        Ctx::Stats => match k.code {
            KeyCode::Char(']') | KeyCode::Char('n') | KeyCode::Tab => Some(Action::NextEvidence),
            KeyCode::Char('[') | KeyCode::Char('p') => Some(Action::PrevEvidence),
            KeyCode::Char('g') => Some(Action::Refresh),
            _ => None,
        },
        Ctx::Export => match k.code {
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Char('g') => Some(Action::Refresh),
            _ => None,
        },
        Ctx::Assess => match k.code {
            KeyCode::Char(c @ '1'..='9') => Some(Action::Level(c as u8 - b'0')),
            KeyCode::Char(' ') => Some(Action::ToggleGate),
            KeyCode::Tab | KeyCode::BackTab => Some(Action::NextPane),
            KeyCode::Enter => Some(Action::Open),
            KeyCode::Char(']') | KeyCode::Char('n') => Some(Action::NextEvidence),
            KeyCode::Char('[') | KeyCode::Char('p') => Some(Action::PrevEvidence),
            KeyCode::Char('t') => Some(Action::Statement),
            KeyCode::Char('v') => Some(Action::Coverage),
            KeyCode::Char('o') => Some(Action::OpenExternal),
            KeyCode::Char('e') => Some(Action::EditFeedback),
            KeyCode::Char('c') => Some(Action::EditComment),
            KeyCode::Char('R') => Some(Action::Refer),
            KeyCode::Char('u') => Some(Action::Undo),
            KeyCode::Char('S') => Some(Action::Submit),
            KeyCode::Char('C') => Some(Action::Confirm),
            KeyCode::Char('A') => Some(Action::Amend),
            _ => None,
        },
        Ctx::Global => None,
    }
}

/// The hints for the status line of a screen.
pub fn hints(ctx: Ctx) -> Vec<(&'static str, &'static str)> {
    // Help first, so it is never cut off; then the screen's own keys; then the global ones.
    let help = TABLE.iter().filter(|b| b.action == Action::Help);
    let own = TABLE.iter().filter(|b| b.ctx == ctx);
    let global = TABLE
        .iter()
        .filter(|b| b.ctx == Ctx::Global && ctx != Ctx::Global && b.action != Action::Help);
    help.chain(own)
        .chain(global)
        .filter_map(|b| b.hint.map(|h| (short_key(b.keys), h)))
        .collect()
}

fn short_key(keys: &'static str) -> &'static str {
    match keys {
        "j/k ↓/↑" => "j/k",
        "?  F1" => "?",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    /// Every binding in the table is reachable through `action`, so help never lies.
    #[test]
    fn table_and_dispatch_agree() {
        for b in TABLE {
            let first = match b.keys {
                "/" => "/",
                k => k.split([' ', '/']).next().unwrap_or(""),
            };
            let code = match first {
                "Enter" => KeyCode::Enter,
                "Esc" => KeyCode::Esc,
                "Home" => KeyCode::Home,
                "PgUp" => KeyCode::PageUp,
                "Space" => KeyCode::Char(' '),
                "Tab" => KeyCode::Tab,
                "1–9" => KeyCode::Char('1'),
                s => KeyCode::Char(s.chars().next().unwrap_or(' ')),
            };
            let ctx = if b.ctx == Ctx::Global {
                Ctx::Queue
            } else {
                b.ctx
            };
            let got = action(ctx, key(code));
            let want = match b.action {
                Action::Level(_) => Action::Level(1),
                Action::PageDown => Action::PageUp,
                a => a,
            };
            assert_eq!(got, Some(want), "binding {:?} ({})", b.action, b.keys);
        }
    }
}
