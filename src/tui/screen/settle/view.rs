//! Draws the settlement screen: both markings per criterion and gate, the decisions, a correct
//! count of what differs, then the selected row's feedback from both markers and every
//! rationale — or, on Enter, the evidence claimed for it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::mark::Sheet;
use crate::app::moderation::Stage;
use crate::domain::rubric::Criterion;
use crate::domain::sanitize::sanitize_line;
use crate::tui::model::{Assess, Model};
use crate::tui::widgets::{clip, pad, pane, wrap};

/// Rows of the comparison table: a header, criteria and gates, a gap, the decisions.
fn table_height(a: &Assess) -> u16 {
    (a.items() + 2) as u16
}

/// Splits the body: the comparison above, the detail (or the evidence) below.
fn split(a: &Assess, body: Rect) -> (Rect, Rect) {
    let want = table_height(a) + 2;
    let top = if a.settle_evidence {
        want.min(body.height * 2 / 5).max(5)
    } else {
        want.min(body.height.saturating_sub(6)).max(5)
    };
    let [t, b] = Layout::vertical([Constraint::Length(top), Constraint::Min(3)]).areas(body);
    (t, b)
}

/// The pane the evidence is shown in, when it is open.
pub fn evidence_area(a: &Assess, body: Rect) -> Option<Rect> {
    if !a.settle_evidence {
        return None;
    }
    if a.zoom {
        return Some(body);
    }
    Some(split(a, body).1)
}

fn level(s: &Sheet, c: &Criterion) -> String {
    s.marks
        .get(&c.id)
        .and_then(|(l, _)| l.as_deref())
        .and_then(|l| c.level(l))
        .map(|(i, l)| {
            format!(
                "{}/{} {} pts {}",
                i + 1,
                c.levels.len(),
                l.points,
                sanitize_line(&l.label)
            )
        })
        .unwrap_or_else(|| "—".into())
}

fn decision(s: &Sheet) -> String {
    s.decision
        .as_ref()
        .map(|d| {
            format!(
                "{}{} · {:.2}",
                d.outcome,
                d.grade
                    .as_ref()
                    .map(|g| format!(" ({})", sanitize_line(g)))
                    .unwrap_or_default(),
                d.score
            )
        })
        .unwrap_or_else(|| "—".into())
}

/// Whether both markings chose the same level (or none) for a criterion.
fn same_level(x: &Sheet, y: &Sheet, criterion: &str) -> bool {
    x.marks.get(criterion).map(|v| &v.0) == y.marks.get(criterion).map(|v| &v.0)
}

/// Whether both decisions have the same outcome (or neither is made).
fn same_outcome(x: &Sheet, y: &Sheet) -> bool {
    x.decision.as_ref().map(|d| &d.outcome) == y.decision.as_ref().map(|d| &d.outcome)
}

/// How many criteria and gates differ between the two markings.
pub fn differences(a: &Assess) -> usize {
    let empty = Sheet::default();
    let first = a.first.as_ref().unwrap_or(&empty);
    let crit = a
        .rubric
        .criteria
        .iter()
        .filter(|c| !same_level(first, &a.sheet, &c.id))
        .count();
    let gates = a
        .rubric
        .gates
        .iter()
        .filter(|g| first.gates.contains(&g.id) != a.sheet.gates.contains(&g.id))
        .count();
    crit + gates
}

pub fn draw(m: &Model, a: &Assess, f: &mut Frame, body: Rect) {
    if a.settle_evidence && a.zoom {
        crate::tui::screen::assess::view::evidence_pane(m, a, f, body, true);
        return;
    }
    let th = m.theme;
    let (top, bottom) = split(a, body);
    let empty = Sheet::default();
    let first = a.first.as_ref().unwrap_or(&empty);
    let who = |s: &Sheet, fallback: &str| {
        s.marker
            .as_deref()
            .map(sanitize_line)
            .unwrap_or_else(|| fallback.to_string())
    };
    let differ = differences(a);
    let same_outcome = same_outcome(first, &a.sheet);
    let summary = format!(
        " {differ} of {} criteria and gates differ (≠) · the outcomes {} ",
        a.items(),
        if same_outcome { "agree" } else { "differ" }
    );
    let block = pane(
        th,
        !a.settle_evidence,
        " Settlement: the first marking beside the second ".into(),
    )
    .title_bottom(Span::styled(
        summary,
        if differ == 0 && same_outcome {
            th.good()
        } else {
            th.warn()
        },
    ));
    let inner = block.inner(top);
    f.render_widget(block, top);
    let w = inner.width as usize;
    let name_w = if w >= 110 { 30 } else { 16 };
    let side = (w.saturating_sub(name_w + 2 + 2)) / 2;
    let row = |mark: &str, name: &str, x: &str, y: &str| {
        format!(
            "{}{} {} {}",
            pad(mark, 2),
            pad(name, name_w),
            pad(x, side),
            pad(y, side)
        )
    };
    let mut lines: Vec<Line> = vec![Line::from(Span::styled(
        row(
            "",
            "criterion",
            &format!("first — {}", who(first, "assessor")),
            &format!("second — {}", who(&a.sheet, "moderator")),
        ),
        th.dim().add_modifier(Modifier::BOLD),
    ))];
    let sel = |i: usize, style: Style| {
        if i == a.selected && !a.settle_evidence {
            th.selected()
        } else if i == a.selected {
            th.selected_idle()
        } else {
            style
        }
    };
    for (i, c) in a.rubric.criteria.iter().enumerate() {
        let same = same_level(first, &a.sheet, &c.id);
        let text = row(
            if same { "" } else { "≠" },
            &format!("{} {}", c.id, sanitize_line(&c.title)),
            &level(first, c),
            &level(&a.sheet, c),
        );
        lines.push(Line::from(Span::styled(
            text,
            sel(i, if same { Style::default() } else { th.warn() }),
        )));
    }
    for (gi, g) in a.rubric.gates.iter().enumerate() {
        let i = a.rubric.criteria.len() + gi;
        let (x, y) = (first.gates.contains(&g.id), a.sheet.gates.contains(&g.id));
        let yes = |b: bool| {
            if b {
                "[x] confirmed"
            } else {
                "[ ] not confirmed"
            }
        };
        let text = row(
            if x == y { "" } else { "≠" },
            &format!("gate {}", g.id),
            yes(x),
            yes(y),
        );
        lines.push(Line::from(Span::styled(
            text,
            sel(i, if x == y { Style::default() } else { th.warn() }),
        )));
    }
    let decision_line = Line::from(Span::styled(
        row(
            if same_outcome { "" } else { "≠" },
            "decision · score",
            &decision(first),
            &decision(&a.sheet),
        ),
        if same_outcome { th.good() } else { th.bad() }.add_modifier(Modifier::BOLD),
    ));
    // the header and the decisions stay in view; the rows between scroll to the selection
    let header = lines.remove(0);
    let h = inner.height.saturating_sub(2) as usize;
    let off = (a.selected + 1).saturating_sub(h);
    let [head_r, rows_r, dec_r] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    f.render_widget(Paragraph::new(header), head_r);
    f.render_widget(Paragraph::new(lines).scroll((off as u16, 0)), rows_r);
    f.render_widget(Paragraph::new(decision_line), dec_r);
    if a.settle_evidence {
        crate::tui::screen::assess::view::evidence_pane(m, a, f, bottom, true);
    } else {
        detail(m, a, f, bottom);
    }
}

/// The selected row in full: both markers' levels and feedback; then every rationale.
fn detail(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let empty = Sheet::default();
    let first = a.first.as_ref().unwrap_or(&empty);
    let block = pane(
        th,
        false,
        " Feedback and rationales (PgDn/PgUp scroll) ".into(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let who = |s: &Sheet| {
        s.marker
            .as_deref()
            .map(sanitize_line)
            .unwrap_or_else(|| "—".into())
    };
    if let Some(ci) = a.selected_criterion() {
        let c = &a.rubric.criteria[ci];
        for (label, s) in [("first", first), ("second", &a.sheet)] {
            let fb = s
                .marks
                .get(&c.id)
                .and_then(|(_, f)| f.as_deref())
                .map(sanitize_line)
                .unwrap_or_else(|| "no feedback".into());
            lines.extend(wrap(
                vec![
                    Span::styled(format!("{label} ({}) ", who(s)), th.key()),
                    Span::styled(
                        format!("{}: ", level(s, c)),
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(fb),
                ],
                w,
                2,
            ));
        }
        let n = a.claimed().len();
        lines.push(Line::from(Span::styled(
            format!(
                "{n} piece(s) of evidence claimed for {} — Enter shows {}",
                c.id,
                if n == 1 { "it" } else { "them" }
            ),
            th.dim(),
        )));
    } else if let Some(gi) = a.selected_gate() {
        let g = &a.rubric.gates[gi];
        lines.extend(wrap(
            vec![
                Span::styled(format!("gate {}: ", g.id), th.key()),
                Span::raw(sanitize_line(g.text.trim())),
            ],
            w,
            2,
        ));
    }
    let mut said = false;
    let mut say = |lines: &mut Vec<Line<'static>>, what: String, text: String| {
        said = true;
        lines.extend(wrap(
            vec![
                Span::styled(what, th.key()),
                Span::raw(sanitize_line(&text)),
            ],
            w,
            2,
        ));
    };
    let at = lines.len();
    if let Some(s) = &a.settlement {
        let how = if s.amended() {
            "amended to the second marks"
        } else {
            "first decision confirmed"
        };
        say(
            &mut lines,
            format!("settled by {} at {}: {how}", sanitize_line(&s.by), s.at),
            s.rationale
                .as_ref()
                .map(|r| format!(" — {r}"))
                .unwrap_or_default(),
        );
    }
    // the settlement first: it is what the screen now says
    let end = lines.len();
    lines[..end].rotate_right(end - at);
    for (label, s) in [("first", first), ("second", &a.sheet)] {
        if let Some(c) = &s.comment {
            say(&mut lines, format!("{label} marker's comment: "), c.clone());
        }
        if let Some(d) = &s.decision
            && let Some(r) = &d.rationale
        {
            say(
                &mut lines,
                format!("{label} marker's rationale ({}): ", d.outcome),
                r.clone(),
            );
        }
    }
    if let Some(r) = &a.draw_reason {
        say(&mut lines, "drawn: ".into(), r.clone());
    }
    if !said {
        lines.push(Line::from(Span::styled(
            "no comments or rationales",
            th.dim(),
        )));
    }
    let h = inner.height as usize;
    let scroll = usize::from(a.settle_scroll).min(lines.len().saturating_sub(h));
    f.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner);
}

pub fn status(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let text = match (&a.stage, &a.settlement) {
        (Stage::Settled, Some(s)) => {
            let adopted = if s.amended() {
                &a.sheet
            } else {
                a.first.as_ref().unwrap_or(&a.sheet)
            };
            format!(
                " settled ({}) · the decision now: {} ",
                if s.amended() { "amended" } else { "confirmed" },
                decision(adopted)
            )
        }
        _ => match &a.access {
            crate::app::query::Access::Settle => {
                " awaiting settlement: C keeps the first decision, A adopts the second marks "
                    .to_string()
            }
            crate::app::query::Access::Read(why) => format!(" read only: {} ", sanitize_line(why)),
            _ => " second marking ".to_string(),
        },
    };
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            clip(&text, area.width as usize),
            th.status_bar().add_modifier(Modifier::BOLD),
        )))
        .style(th.status_bar()),
        area,
    );
}
