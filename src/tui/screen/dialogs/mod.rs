//! Dialogs: help, the message log, confirmations (submit, settle, release, export), the
//! refer/override choice, the built-in editor (which never drops typed text), notices and the
//! offer of samples for an empty workspace. A dialog has the keyboard whole.

pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::mark::Change;
use crate::domain::decision::Outcome;
use crate::tui::editor::{Edit, TextArea};
use crate::tui::keys::{self, Action, Ctx};
use crate::tui::model::{Cmd, Dialog, EditTarget, Model, Saved};
use crate::tui::update::save;

/// The outcomes offered by the refer/override dialog, in order.
pub const CHOICES: [Outcome; 3] = [Outcome::Referred, Outcome::NotYet, Outcome::Awarded];

pub fn ctx(d: &Dialog) -> Ctx {
    match d {
        Dialog::Help { .. } => Ctx::Help,
        Dialog::Messages { .. } => Ctx::Messages,
        Dialog::Submit => Ctx::Submit,
        Dialog::Confirm => Ctx::Confirm,
        Dialog::Refer { .. } => Ctx::Refer,
        Dialog::Edit { asking: false, .. } => Ctx::Editor,
        Dialog::Edit { asking: true, .. } => Ctx::Discard,
        Dialog::ConfirmRelease { .. } => Ctx::ConfirmRelease,
        Dialog::ConfirmExport { .. } => Ctx::ConfirmExport,
        Dialog::Notice(_) => Ctx::Notice,
        Dialog::OfferSamples => Ctx::OfferSamples,
        Dialog::Bank { .. } => Ctx::Bank,
    }
}

pub fn available(_m: &Model, _d: &Dialog, _a: Action) -> bool {
    true
}

/// The text a target holds now (what an edit began with).
fn current(m: &Model, target: &EditTarget) -> String {
    let Some(a) = &m.assess else {
        return String::new();
    };
    match target {
        EditTarget::Feedback(c) => a.feedback_of(c).unwrap_or_default().to_string(),
        EditTarget::Comment => a.sheet.comment.clone().unwrap_or_default(),
        EditTarget::Rationale(o) if a.sheet.choice == Some(*o) => {
            a.sheet.rationale.clone().unwrap_or_default()
        }
        EditTarget::Rationale(_) | EditTarget::Amend => String::new(),
    }
}

/// An edit ended with `text` (from the built-in editor or `$EDITOR`): saved, unless unchanged.
pub fn finish_edit(
    m: &mut Model,
    target: EditTarget,
    text: String,
    _original: Option<String>,
) -> Vec<Cmd> {
    let text = text.trim_end().to_string();
    let before = current(m, &target);
    let change = match target {
        EditTarget::Amend => {
            if text.trim().is_empty() {
                m.bad("amending needs a written rationale; nothing changed");
                return vec![];
            }
            let Some(a) = &m.assess else { return vec![] };
            return vec![Cmd::Settle {
                id: a.id.clone(),
                version: a.version,
                amend: Some(text),
            }];
        }
        _ if text == before.trim_end() && !matches!(target, EditTarget::Rationale(_)) => {
            m.info("unchanged: nothing to save");
            return vec![];
        }
        EditTarget::Feedback(c) => Change::Feedback(c, (!text.is_empty()).then_some(text)),
        EditTarget::Comment => Change::Comment((!text.is_empty()).then_some(text)),
        EditTarget::Rationale(o) => {
            if text.trim().is_empty() {
                m.bad("a referral or override needs a written rationale; nothing changed");
                return vec![];
            }
            if m.assess.as_ref().is_some_and(|a| {
                a.sheet.choice == Some(o) && a.sheet.rationale.as_deref() == Some(text.as_str())
            }) {
                m.info("unchanged: nothing to save");
                return vec![];
            }
            Change::Choice(Some(o), Some(text))
        }
    };
    save(m, change)
}

fn open_rationale(m: &mut Model, o: Outcome) {
    let text = current(m, &EditTarget::Rationale(o));
    m.dialog = Some(Dialog::Edit {
        target: EditTarget::Rationale(o),
        area: TextArea::new(&text),
        original: text,
        asking: false,
    });
}

fn scroll(s: u16, a: Action) -> u16 {
    match a {
        Action::Down => s.saturating_add(1),
        Action::Up => s.saturating_sub(1),
        Action::PageDown => s.saturating_add(10),
        Action::PageUp => s.saturating_sub(10),
        _ => s,
    }
}

/// A key while dialog `d` has the keyboard (it was taken out of the model; put it back to keep
/// it open).
pub fn key(m: &mut Model, d: Dialog, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    // The editor takes every key but its own.
    if let Dialog::Edit {
        target,
        mut area,
        original,
        asking: false,
    } = d
    {
        let close = k.code == KeyCode::Esc || (ctrl && k.code == KeyCode::Char('c'));
        if close {
            if area.text() == original.trim_end() {
                m.info("edit closed: unchanged");
                return vec![];
            }
            m.dialog = Some(Dialog::Edit {
                target,
                area,
                original,
                asking: true,
            });
            return vec![];
        }
        return match area.key(k) {
            Edit::Save => finish_edit(m, target, area.text(), Some(original)),
            Edit::Continue | Edit::Cancel => {
                m.dialog = Some(Dialog::Edit {
                    target,
                    area,
                    original,
                    asking: false,
                });
                vec![]
            }
        };
    }
    // The comment bank: typing filters.
    if let Dialog::Bank {
        criterion,
        items,
        mut query,
        mut selected,
    } = d
    {
        let shown = bank_visible(&items, &query);
        match k.code {
            KeyCode::Esc => return vec![],
            KeyCode::Enter => {
                let Some(&i) = shown.get(selected) else {
                    m.dialog = Some(Dialog::Bank {
                        criterion,
                        items,
                        query,
                        selected,
                    });
                    return vec![];
                };
                let comment = items[i].text.clone();
                let before = m
                    .assess
                    .as_ref()
                    .and_then(|a| a.feedback_of(&criterion))
                    .unwrap_or_default()
                    .to_string();
                let text = if before.trim().is_empty() {
                    comment
                } else {
                    format!("{}\n{comment}", before.trim_end())
                };
                // the editor opens on it: read, adjust, save
                m.dialog = Some(Dialog::Edit {
                    target: EditTarget::Feedback(criterion),
                    area: TextArea::new(&text),
                    original: before,
                    asking: false,
                });
                return vec![];
            }
            KeyCode::Down | KeyCode::Tab => {
                selected = (selected + 1).min(shown.len().saturating_sub(1))
            }
            KeyCode::Up | KeyCode::BackTab => selected = selected.saturating_sub(1),
            KeyCode::Backspace => {
                query.pop();
                selected = 0;
            }
            KeyCode::Char('c') if ctrl => return vec![],
            KeyCode::Char(c) if !ctrl && !c.is_control() => {
                if query.chars().count() < 100 {
                    query.push(c);
                }
                selected = 0;
            }
            _ => {}
        }
        m.dialog = Some(Dialog::Bank {
            criterion,
            items,
            query,
            selected,
        });
        return vec![];
    }
    let c = ctx(&d);
    let Some(act) = keys::action(c, k) else {
        // Notices close on any key; other dialogs wait for one of theirs.
        if !matches!(d, Dialog::Notice(_)) {
            m.dialog = Some(d);
        }
        return vec![];
    };
    match d {
        Dialog::Help { scroll: s, ctx } => match act {
            Action::Back => vec![],
            a => {
                m.dialog = Some(Dialog::Help {
                    scroll: scroll(s, a),
                    ctx,
                });
                vec![]
            }
        },
        Dialog::Messages { scroll: s } => match act {
            Action::Back => vec![],
            a => {
                m.dialog = Some(Dialog::Messages {
                    scroll: scroll(s, a),
                });
                vec![]
            }
        },
        Dialog::Notice(_) => vec![],
        Dialog::Submit => match act {
            Action::Yes => {
                let Some(a) = &mut m.assess else {
                    return vec![];
                };
                a.saved = Saved::Saving;
                vec![Cmd::Submit {
                    id: a.id.clone(),
                    phase: a.phase,
                    version: a.version,
                }]
            }
            _ => {
                m.info("not submitted: go on marking");
                vec![]
            }
        },
        Dialog::Confirm => match act {
            Action::Yes => {
                let Some(a) = &m.assess else { return vec![] };
                vec![Cmd::Settle {
                    id: a.id.clone(),
                    version: a.version,
                    amend: None,
                }]
            }
            _ => {
                m.info("not settled");
                vec![]
            }
        },
        Dialog::ConfirmRelease { .. } => match act {
            Action::Yes => {
                m.export.running = Some(("releasing".into(), 0, 0));
                m.export.result = None;
                vec![Cmd::Release]
            }
            _ => {
                m.info("nothing released");
                vec![]
            }
        },
        Dialog::ConfirmExport {
            format,
            count,
            target,
        } => match act {
            Action::Yes => {
                m.export.running = Some((format!("exporting {}", format.as_str()), 0, count));
                m.export.result = None;
                vec![Cmd::RunExport { format, target }]
            }
            _ => {
                m.info("nothing exported");
                vec![]
            }
        },
        Dialog::OfferSamples => match act {
            Action::Yes => vec![Cmd::Seed],
            _ => {
                m.info("an empty workspace: import rubrics and portfolios with `assay import`");
                vec![]
            }
        },
        Dialog::Refer { choice } => match act {
            Action::Back => vec![],
            Action::Choice(n) if (1..=CHOICES.len() as u8).contains(&n) => {
                open_rationale(m, CHOICES[usize::from(n) - 1]);
                vec![]
            }
            Action::Open => {
                open_rationale(m, CHOICES[choice]);
                vec![]
            }
            Action::Down | Action::Up => {
                let n = CHOICES.len();
                let choice = if act == Action::Down {
                    (choice + 1) % n
                } else {
                    (choice + n - 1) % n
                };
                m.dialog = Some(Dialog::Refer { choice });
                vec![]
            }
            Action::ClearChoice => save(m, Change::Choice(None, None)),
            _ => {
                m.dialog = Some(Dialog::Refer { choice });
                vec![]
            }
        },
        Dialog::Edit {
            target,
            area,
            original,
            asking: true,
        } => match act {
            Action::Save => finish_edit(m, target, area.text(), Some(original)),
            Action::Discard => {
                m.info("changes discarded; nothing saved");
                vec![]
            }
            _ => {
                m.dialog = Some(Dialog::Edit {
                    target,
                    area,
                    original,
                    asking: false,
                });
                vec![]
            }
        },
        Dialog::Edit { .. } | Dialog::Bank { .. } => vec![],
    }
}

/// The bank's comments that match `query` (fuzzy, any case), best first; all of them in the
/// bank's order without a query.
pub fn bank_visible(items: &[crate::app::bank::Comment], query: &str) -> Vec<usize> {
    use fuzzy_matcher::FuzzyMatcher;
    if query.trim().is_empty() {
        return (0..items.len()).collect();
    }
    let matcher = fuzzy_matcher::skim::SkimMatcherV2::default().ignore_case();
    let mut scored: Vec<(i64, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, c)| matcher.fuzzy_match(&c.text, query.trim()).map(|s| (s, i)))
        .collect();
    scored.sort_by_key(|&(s, i)| (std::cmp::Reverse(s), i));
    scored.into_iter().map(|(_, i)| i).collect()
}
