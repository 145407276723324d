//! The queue: every portfolio, the person's own work first; filters by fuzzy text, status and
//! rubric; the moderator's view of drawn portfolios.

pub mod view;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::status::Status;
use crate::tui::keys::Action;
use crate::tui::model::{Bits, Cmd, Model, Screen, Visible};
use crate::tui::update::page;

/// Longest filter text kept.
const MAX_FILTER: usize = 200;

pub fn available(m: &Model, a: Action) -> bool {
    let q = &m.queue;
    match a {
        Action::Open => !q.visible.is_empty(),
        Action::Back => {
            !q.filter.is_empty()
                || q.status_filter.is_some()
                || q.rubric_filter.is_some()
                || q.moderation
        }
        Action::CycleRubric => q.rubrics.len() > 1 || q.rubric_filter.is_some(),
        _ => true,
    }
}

/// A key while the filter input has the keyboard.
pub fn filter_key(m: &mut Model, k: KeyEvent) -> Vec<Cmd> {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
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
        KeyCode::Char('u') if ctrl => {
            q.filter.clear();
            refilter(m)
        }
        KeyCode::Char('c') if ctrl => {
            m.quit = true;
            vec![Cmd::Quit]
        }
        KeyCode::Down => action(m, Action::Down),
        KeyCode::Up => action(m, Action::Up),
        KeyCode::PageDown => action(m, Action::PageDown),
        KeyCode::PageUp => action(m, Action::PageUp),
        KeyCode::Char(c) if !ctrl && !c.is_control() => {
            if q.filter.chars().count() < MAX_FILTER
                && !crate::domain::sanitize::is_forbidden_char(c)
            {
                q.filter.push(c);
            }
            refilter(m)
        }
        _ => vec![],
    }
}

/// Starts a new fuzzy filter run; an empty filter shows everything at once.
pub fn refilter(m: &mut Model) -> Vec<Cmd> {
    let q = &mut m.queue;
    q.filter_gen += 1;
    q.hold = None;
    if q.filter.trim().is_empty() {
        q.matched = None;
        q.filtering = false;
        q.selected = 0;
        recompute(m);
        // (the worker lets go of what it kept to narrow the next query from)
        return vec![Cmd::Filter {
            generation: m.queue.filter_gen,
            query: String::new(),
        }];
    }
    q.filtering = true;
    vec![Cmd::Filter {
        generation: q.filter_gen,
        query: q.filter.clone(),
    }]
}

/// Applies the fuzzy result and the status and rubric filters; counts what is shown by status
/// when a filter narrows the queue.
pub fn recompute(m: &mut Model) {
    let q = &mut m.queue;
    let (st, rb) = (q.status_filter.as_deref(), q.rubric_filter.as_deref());
    let moderation = q.moderation;
    // (each name asked once, not once a row: a million rows are filtered in a few ms)
    let names: Vec<(bool, bool, bool)> = q
        .names
        .iter()
        .map(|n| {
            (
                st.is_none_or(|s| **n == *s),
                rb.is_none_or(|x| **n == *x),
                !moderation
                    || matches!(Status::parse(n), Some(Status::Sampled | Status::Moderated)),
            )
        })
        .collect();
    let name = |i: u32| names.get(i as usize).copied().unwrap_or_default();
    let keys = &q.keys;
    let filtered = st.is_some() || rb.is_some() || moderation;
    // Which keys pass the status, rubric and moderation filters: one bit a key, worked out in
    // one pass in key order (a fuzzy result is in score order: asking a million keys in that
    // order would miss the cache on nearly every one; its bits stay in it).
    let pass = filtered.then(|| {
        let mut bits = Bits::new(keys.len());
        for (i, k) in keys.iter().enumerate() {
            let (status_ok, _, drawn) = name(k.status);
            if status_ok && drawn && name(k.rubric).1 {
                bits.set(i);
            }
        }
        bits
    });
    q.visible = match (&q.matched, &pass) {
        (Some(v), Some(p)) => {
            Visible::from(v.iter().copied().filter(|&i| p.get(i)).collect::<Vec<_>>())
        }
        (Some(v), None) => Visible::These(v.clone()),
        (None, Some(p)) => Visible::from((0..keys.len()).filter(|&i| p.get(i)).collect::<Vec<_>>()),
        (None, None) => Visible::All(keys.len()),
    };
    q.selected = q.selected.min(q.visible.len().saturating_sub(1));
    q.shown_counts = if q.matched.is_some() || filtered {
        // (the rows shown marked, then counted in key order, for the same reason)
        let shown = match (&q.matched, pass) {
            (None, Some(p)) => p,
            _ => {
                let mut bits = Bits::new(keys.len());
                for i in q.visible.iter() {
                    bits.set(i);
                }
                bits
            }
        };
        let mut by_name = vec![0i64; q.names.len()];
        for (i, k) in keys.iter().enumerate() {
            if shown.get(i)
                && let Some(n) = by_name.get_mut(k.status as usize)
            {
                *n += 1;
            }
        }
        let mut counts: Vec<(String, i64)> = by_name
            .into_iter()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .map(|(i, n)| (q.names[i].to_string(), n))
            .collect();
        counts.sort_by_key(|(s, _)| Status::order_of(s));
        Some(counts)
    } else {
        None
    };
}

/// `/` from another screen: back to the queue with a fresh filter open.
pub fn search_from_elsewhere(m: &mut Model) -> Vec<Cmd> {
    let select = m.assess.as_ref().map(|a| a.id.clone());
    m.assess = None;
    m.screen = Screen::Queue;
    m.queue.typing = true;
    let mut cmds = vec![Cmd::Remember { open: None }, Cmd::LoadQueue { select }];
    if !m.queue.filter.is_empty() {
        m.queue.filter.clear();
        cmds.extend(refilter(m));
    }
    cmds
}

pub fn action(m: &mut Model, a: Action) -> Vec<Cmd> {
    let n = m.queue.visible.len();
    let pg = page(m);
    let q = &mut m.queue;
    let last = n.saturating_sub(1);
    match a {
        Action::Down => q.selected = (q.selected + 1).min(last),
        Action::Up => q.selected = q.selected.saturating_sub(1),
        Action::Top => q.selected = 0,
        Action::Bottom => q.selected = last,
        Action::PageDown => q.selected = (q.selected + pg).min(last),
        Action::PageUp => q.selected = q.selected.saturating_sub(pg),
        Action::Open => match (q.key_at(q.selected), q.row_at(q.selected)) {
            (Some(_), Some(r)) => {
                return vec![Cmd::Open {
                    id: r.id.to_string(),
                }];
            }
            (Some(_), None) => m.info("that row is still being read; try again"),
            (None, _) => m.info("nothing to open: the queue shows no portfolio"),
        },
        Action::Search => q.typing = true,
        Action::Back => {
            if !q.filter.is_empty() {
                q.filter.clear();
                return refilter(m);
            }
            if q.status_filter.is_some() || q.rubric_filter.is_some() || q.moderation {
                q.status_filter = None;
                q.rubric_filter = None;
                q.moderation = false;
                recompute(m);
                m.info("filters cleared: every portfolio");
            }
        }
        Action::CycleStatus => {
            q.status_filter = match &q.status_filter {
                None => Some(Status::ALL[0].as_str().to_string()),
                Some(s) => Status::parse(s)
                    .and_then(|x| Status::ALL.get(x as usize + 1))
                    .map(|x| x.as_str().to_string()),
            };
            let label = q.status_filter.clone().unwrap_or_else(|| "all".into());
            recompute(m);
            m.info(format!("status: {label} (s: next)"));
        }
        Action::CycleRubric => {
            q.rubric_filter = match &q.rubric_filter {
                None => q.rubrics.first().cloned(),
                Some(s) => q
                    .rubrics
                    .iter()
                    .position(|x| x == s)
                    .and_then(|i| q.rubrics.get(i + 1))
                    .cloned(),
            };
            let label = q.rubric_filter.clone().unwrap_or_else(|| "all".into());
            recompute(m);
            m.info(format!("rubric: {label} (r: next)"));
        }
        Action::Refresh => return vec![Cmd::LoadQueue { select: None }],
        Action::ModerationView => {
            q.moderation = !q.moderation;
            q.selected = 0;
            let on = q.moderation;
            recompute(m);
            m.info(if on {
                "moderator's queue: drawn portfolios and their stage (m: all)"
            } else {
                "all portfolios"
            });
        }
        Action::StatsScreen => {
            m.screen = Screen::Stats;
            return vec![Cmd::LoadStats];
        }
        Action::ExportScreen => {
            m.screen = Screen::Export;
            m.export.result = None;
            return vec![Cmd::LoadExport];
        }
        _ => {}
    }
    vec![]
}
