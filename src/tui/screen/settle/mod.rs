//! The settlement screen: the moderator compares both markings and confirms (`C`) or amends
//! (`A`, with a rationale); the evidence claimed for the selected criterion is a key away.

pub mod view;

use crossterm::event::KeyEvent;

use crate::app::moderation::Stage;
use crate::app::query::Access;
use crate::tui::editor::TextArea;
use crate::tui::evidence;
use crate::tui::keys::Action;
use crate::tui::model::{Assess, Cmd, Dialog, EditTarget, Lower, Model, Pane, Screen};

use super::assess::{fit_evidence, show_current};

pub fn available(a: &Assess, act: Action) -> bool {
    let may_settle = a.access == Access::Settle && a.stage == Stage::AwaitingSettlement;
    match act {
        Action::Confirm | Action::Amend => may_settle,
        Action::NextEvidence | Action::PrevEvidence => a.settle_evidence && a.claimed().len() > 1,
        Action::Zoom => a.settle_evidence,
        Action::Find
        | Action::FindNext
        | Action::FindPrev
        | Action::Wrap
        | Action::ScrollLeft
        | Action::ScrollRight => a.settle_evidence && a.shown.is_some(),
        Action::Up
        | Action::Down
        | Action::Top
        | Action::Bottom
        | Action::PageUp
        | Action::PageDown
        | Action::Open
        | Action::Back
        | Action::Search
        | Action::Help
        | Action::Quit
        | Action::Messages => true,
        _ => false,
    }
}

fn refuse(m: &mut Model, act: Action) {
    let Some(a) = &m.assess else { return };
    let why = match act {
        Action::Confirm | Action::Amend => match (&a.stage, &a.access) {
            (Stage::Settled, _) => "already settled: the settled decision is shown".to_string(),
            (_, Access::Read(why)) => format!("read only: {why}"),
            _ => "the second marks are not submitted yet".to_string(),
        },
        Action::Level(_)
        | Action::ToggleGate
        | Action::EditFeedback
        | Action::EditComment
        | Action::Submit
        | Action::Refer
        | Action::Undo => {
            "the second marks are submitted: settle with C (confirm) or A (amend)".into()
        }
        Action::NextEvidence | Action::PrevEvidence | Action::Zoom => {
            "Enter shows the evidence claimed for the selected criterion first".into()
        }
        _ => return,
    };
    m.info(why);
}

pub fn action(m: &mut Model, act: Action, _k: KeyEvent) -> Vec<Cmd> {
    let Some(a) = &mut m.assess else {
        return vec![];
    };
    if !available(a, act) {
        refuse(m, act);
        return vec![];
    }
    let items = a.items();
    let before = a.selected;
    // the evidence, when it is open, takes the moving keys
    if a.settle_evidence
        && let Some(s) = &mut a.shown
    {
        use evidence::Msg as E;
        let msg = match act {
            Action::Down => Some(E::Down),
            Action::Up => Some(E::Up),
            Action::PageDown => Some(E::PageDown),
            Action::PageUp => Some(E::PageUp),
            Action::Top => Some(E::Home),
            Action::Bottom => Some(E::End),
            Action::ScrollLeft => Some(E::Left),
            Action::ScrollRight => Some(E::Right),
            Action::Wrap => Some(E::ToggleWrap),
            Action::Find => Some(E::Find),
            Action::FindNext => Some(E::FindNext),
            Action::FindPrev => Some(E::FindPrev),
            _ => None,
        };
        if let Some(msg) = msg {
            s.view.update(&s.doc, msg);
            super::assess::relay(m);
            return vec![];
        }
    }
    match act {
        Action::Down => a.selected = (a.selected + 1).min(items.saturating_sub(1)),
        Action::Up => a.selected = a.selected.saturating_sub(1),
        Action::Top => a.selected = 0,
        Action::Bottom => a.selected = items.saturating_sub(1),
        Action::PageDown => a.settle_scroll = a.settle_scroll.saturating_add(3),
        Action::PageUp => a.settle_scroll = a.settle_scroll.saturating_sub(3),
        Action::Open => {
            a.settle_evidence = !a.settle_evidence;
            a.zoom = false;
            a.lower = Lower::Evidence;
            a.pane = if a.settle_evidence {
                Pane::Evidence
            } else {
                Pane::Criteria
            };
            fit_evidence(m);
            return show_current(m);
        }
        Action::NextEvidence | Action::PrevEvidence => {
            let n = a.claimed().len().max(1);
            a.evidence_pos = if act == Action::NextEvidence {
                (a.evidence_pos + 1) % n
            } else {
                (a.evidence_pos + n - 1) % n
            };
            return show_current(m);
        }
        Action::Zoom => {
            a.zoom = !a.zoom;
            fit_evidence(m);
        }
        Action::Confirm => m.dialog = Some(Dialog::Confirm),
        Action::Amend => {
            m.dialog = Some(Dialog::Edit {
                target: EditTarget::Amend,
                area: TextArea::new(""),
                original: String::new(),
                asking: false,
            })
        }
        Action::Back => {
            if let Some(s) = &mut a.shown
                && a.settle_evidence
                && s.view.search().is_some()
            {
                s.view.update(&s.doc, evidence::Msg::ClearSearch);
                return vec![];
            }
            if a.zoom {
                a.zoom = false;
                fit_evidence(m);
                return vec![];
            }
            if a.settle_evidence {
                a.settle_evidence = false;
                a.pane = Pane::Criteria;
                return vec![];
            }
            let id = a.id.clone();
            m.assess = None;
            m.screen = Screen::Queue;
            return vec![
                Cmd::Remember { open: None },
                Cmd::LoadQueue { select: Some(id) },
            ];
        }
        _ => {}
    }
    if let Some(a) = &mut m.assess
        && a.selected != before
    {
        a.evidence_pos = 0;
        a.settle_scroll = 0;
        if a.settle_evidence {
            return show_current(m);
        }
    }
    vec![]
}
