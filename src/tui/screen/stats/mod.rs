//! Agreement statistics: per criterion and per assessor, for each rubric.

pub mod view;

use crate::tui::keys::Action;
use crate::tui::model::{Cmd, Model, Screen};

pub fn available(m: &Model, a: Action) -> bool {
    match a {
        Action::NextEvidence | Action::PrevEvidence => m.stats.len() > 1,
        Action::Refresh | Action::Back | Action::Search => true,
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => true,
        _ => false,
    }
}

pub fn action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let n = m.stats.len().max(1);
    match a {
        Action::NextEvidence => {
            m.stats_pos = (m.stats_pos + 1) % n;
            m.stats_scroll = 0;
        }
        Action::PrevEvidence => {
            m.stats_pos = (m.stats_pos + n - 1) % n;
            m.stats_scroll = 0;
        }
        Action::Down => m.stats_scroll = m.stats_scroll.saturating_add(1),
        Action::Up => m.stats_scroll = m.stats_scroll.saturating_sub(1),
        Action::PageDown => m.stats_scroll = m.stats_scroll.saturating_add(10),
        Action::PageUp => m.stats_scroll = m.stats_scroll.saturating_sub(10),
        Action::Top => m.stats_scroll = 0,
        Action::Bottom => m.stats_scroll = u16::MAX,
        Action::Refresh => return vec![Cmd::LoadStats],
        Action::Back => m.screen = Screen::Queue,
        _ => {}
    }
    vec![]
}
