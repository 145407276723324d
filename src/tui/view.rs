//! `view`: draws the model. Pure — the same model always draws the same frame. All text from
//! portfolios was sanitised when it entered the model.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

use super::keys::{self, Ctx, TABLE};
use super::model::{Assess, Dialog, EditTarget, Lower, Model, Pane, Saved, Screen, Tone};
use super::theme::Theme;
use super::update::CHOICES;
use crate::app::mark::Phase;
use crate::domain::decision::Outcome;
use crate::domain::sanitize::sanitize_line;

pub const MIN_W: u16 = 80;
pub const MIN_H: u16 = 24;

pub fn view(m: &Model, f: &mut Frame) {
    let area = f.area();
    if area.width < MIN_W || area.height < MIN_H {
        let msg = Paragraph::new(vec![
            Line::from(Span::styled(
                "assay needs a larger terminal",
                m.theme.title(),
            )),
            Line::from(format!(
                "at least {MIN_W}×{MIN_H}; this one is {}×{}",
                area.width, area.height
            )),
            Line::from("enlarge the window, or press q to quit (all work is saved)"),
        ])
        .wrap(Wrap { trim: true });
        f.render_widget(msg, area);
        return;
    }
    let [title, body, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    match (m.screen, &m.assess) {
        (Screen::Assess, Some(a)) => {
            title_bar(m, f, title, &assess_title(a));
            if a.settling() {
                settlement(m, a, f, body);
            } else {
                assess(m, a, f, body);
            }
            assess_status(m, a, f, status);
            hint_bar(m, f, hints, Ctx::Assess);
        }
        (Screen::Stats, _) => {
            title_bar(
                m,
                f,
                title,
                "assay · agreement between first and second marks",
            );
            stats_screen(m, f, body);
            plain_status(m, f, status);
            hint_bar(m, f, hints, Ctx::Stats);
        }
        (Screen::Export, _) => {
            title_bar(m, f, title, "assay · export released decisions");
            export_screen(m, f, body);
            plain_status(m, f, status);
            hint_bar(m, f, hints, Ctx::Export);
        }
        _ => {
            title_bar(m, f, title, &format!("assay · queue · {}", m.db_name));
            queue(m, f, body);
            queue_status(m, f, status);
            hint_bar(m, f, hints, Ctx::Queue);
        }
    }
    if let Some(d) = &m.dialog {
        dialog(m, d, f, area);
    }
}

fn assess_title(a: &Assess) -> String {
    let phase = match (a.phase, a.blind) {
        (Phase::First, _) => "first marking",
        (Phase::Second, true) => "second marking (blind)",
        (Phase::Second, false) => "second marking",
    };
    format!(
        "{} · {} ({}) · {} · {phase}",
        a.id,
        a.learner,
        a.learner_id,
        a.rubric.key()
    )
}

fn title_bar(m: &Model, f: &mut Frame, area: Rect, text: &str) {
    let user = format!(" {} ", sanitize_line(&m.user));
    let w = area.width as usize;
    let room = w.saturating_sub(user.chars().count() + 1);
    let t = clip(&format!(" {text}"), room);
    let pad = w.saturating_sub(t.chars().count() + user.chars().count());
    let line = Line::from(vec![
        Span::styled(t, m.theme.title()),
        Span::raw(" ".repeat(pad)),
        Span::styled(user, m.theme.dim()),
    ]);
    f.render_widget(Paragraph::new(line).style(m.theme.status_bar()), area);
}

fn hint_bar(m: &Model, f: &mut Frame, area: Rect, ctx: Ctx) {
    let mut spans = Vec::new();
    let settling = m.screen == Screen::Assess && m.assess.as_ref().is_some_and(|a| a.settling());
    let hints: Vec<(&str, &str)> = if m.screen == Screen::Queue && m.queue.typing {
        vec![
            ("type", "filter"),
            ("Enter", "keep"),
            ("Esc", "clear"),
            ("↓/↑", "move"),
        ]
    } else if settling {
        vec![
            ("C", "confirm first decision"),
            ("A", "amend to second marks"),
            ("Esc", "back"),
            ("?", "help"),
            ("q", "quit"),
        ]
    } else {
        keys::hints(ctx)
    };
    let mut used = 0usize;
    for (k, h) in hints {
        let len = k.chars().count() + h.chars().count() + 3;
        if used + len > area.width as usize {
            break;
        }
        used += len;
        spans.push(Span::styled(format!(" {k}"), m.theme.key()));
        spans.push(Span::raw(format!(" {h} ")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else if n == 0 {
        String::new()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

// ---------------------------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------------------------

fn queue(m: &Model, f: &mut Frame, area: Rect) {
    let q = &m.queue;
    let th = m.theme;
    let show_filter = q.typing || !q.filter.is_empty();
    let [filter_area, table_area] = Layout::vertical([
        Constraint::Length(if show_filter { 1 } else { 0 }),
        Constraint::Min(1),
    ])
    .areas(area);
    if show_filter {
        let state = if q.filtering {
            "filtering…".to_string()
        } else {
            format!("{} match(es)", q.visible.len())
        };
        let cursor = if q.typing { "▏" } else { "" };
        let line = Line::from(vec![
            Span::styled(" / ", th.key()),
            Span::raw(format!("{}{cursor}", sanitize_line(&q.filter))),
            Span::styled(format!("   {state}"), th.dim()),
        ]);
        f.render_widget(Paragraph::new(line), filter_area);
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(th.dim())
        .title(Span::styled(
            format!(
                " portfolios · status {} · rubric {} ",
                q.status_filter.as_deref().unwrap_or("all"),
                q.rubric_filter.as_deref().unwrap_or("all")
            ),
            th.dim(),
        ));
    let inner = block.inner(table_area);
    f.render_widget(block, table_area);
    if q.visible.is_empty() {
        let msg = if q.rows.is_empty() {
            "The workspace holds no portfolios yet. Import some with `assay import FOLDER`."
        } else if q.filtering {
            "filtering…"
        } else {
            "Nothing matches. Esc clears the filter."
        };
        f.render_widget(Paragraph::new(msg).style(th.dim()), inner);
        return;
    }
    let rows_h = inner.height.saturating_sub(1) as usize;
    // Only the rows on screen are built, whatever the size of the queue.
    let offset = q.selected.saturating_sub(rows_h.saturating_sub(1));
    let wide = inner.width >= 110;
    let rows: Vec<Row> = q
        .visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows_h)
        .map(|(pos, &i)| {
            let r = &q.rows[i];
            let style = if pos == q.selected {
                th.selected()
            } else {
                Style::default()
            };
            let mark = if r.mine { "•" } else { " " };
            let outcome_style = match &*r.outcome {
                "awarded" => th.good(),
                "not_yet" => th.warn(),
                "referred" => th.bad(),
                _ => th.dim(),
            };
            let last = if q.moderation {
                Cell::from(r.stage())
            } else {
                Cell::from(Span::styled(
                    r.outcome.clone(),
                    if pos == q.selected {
                        style
                    } else {
                        outcome_style
                    },
                ))
            };
            let cells = vec![
                Cell::from(format!("{mark}{}", r.id)),
                Cell::from(r.learner.as_str()),
                Cell::from(&*r.rubric),
                Cell::from(r.submitted.as_str()),
                Cell::from(r.status.clone()),
                last,
            ];
            Row::new(cells).style(style)
        })
        .collect();
    let header = vec![
        " ID",
        "LEARNER",
        "RUBRIC",
        "SUBMITTED",
        "STATUS",
        if q.moderation { "STAGE" } else { "OUTCOME" },
    ];
    let last_w = if q.moderation { 21 } else { 9 };
    let widths: Vec<Constraint> = if q.moderation {
        vec![
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(last_w),
        ]
    } else if wide {
        vec![
            Constraint::Length(15),
            Constraint::Fill(2),
            Constraint::Fill(3),
            Constraint::Length(10),
            Constraint::Length(11),
            Constraint::Length(9),
        ]
    } else {
        vec![
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(11),
            Constraint::Length(8),
        ]
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(th.dim().add_modifier(Modifier::BOLD)))
        .column_spacing(1);
    f.render_widget(table, inner);
}

fn queue_status(m: &Model, f: &mut Frame, area: Rect) {
    let q = &m.queue;
    let th = m.theme;
    let mut spans = vec![Span::styled(
        format!(
            " {}/{} ",
            if q.visible.is_empty() {
                0
            } else {
                q.selected + 1
            },
            q.visible.len()
        ),
        th.status_bar().add_modifier(Modifier::BOLD),
    )];
    let counts: Vec<String> = q.counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
    spans.push(Span::styled(
        format!(" {} ", counts.join(" · ")),
        th.status_bar(),
    ));
    if let Some((msg, tone)) = &m.message {
        spans.push(Span::styled(
            format!(" {} ", sanitize_line(msg)),
            tone_style(th, *tone),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.status_bar()),
        area,
    );
}

fn tone_style(th: Theme, t: Tone) -> Style {
    match t {
        Tone::Info => th.status_bar(),
        Tone::Good => th.good(),
        Tone::Bad => th.bad(),
    }
}

// ---------------------------------------------------------------------------------------------
// Assessment
// ---------------------------------------------------------------------------------------------

fn assess(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let left_w = if area.width >= 100 { 38 } else { 30 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(20)]).areas(area);
    criteria_list(m, a, f, left);
    let upper_h = (area.height * 9 / 20).max(6);
    let [upper, lower] =
        Layout::vertical([Constraint::Length(upper_h), Constraint::Min(4)]).areas(right);
    match a.selected_criterion() {
        Some(ci) => criterion_detail(m, a, ci, f, upper),
        None => gate_detail(m, a, f, upper),
    }
    match a.lower {
        Lower::Evidence => evidence(m, a, f, lower),
        Lower::Statement => statement(m, a, f, lower),
        Lower::Coverage => coverage(m, a, f, lower),
    }
}

fn pane_block(m: &Model, a: &Assess, pane: Pane, title: String) -> Block<'static> {
    let focused = a.pane == pane;
    Block::bordered()
        .border_style(m.theme.border(focused))
        .title(Span::styled(
            title,
            if focused {
                m.theme.title()
            } else {
                m.theme.dim()
            },
        ))
}

fn criteria_list(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let block = pane_block(m, a, Pane::Criteria, " Criteria ".into());
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    let sel_style = if a.pane == Pane::Criteria {
        th.selected()
    } else {
        th.selected_idle()
    };
    for (i, c) in a.rubric.criteria.iter().enumerate() {
        let level = a.level_of(&c.id).and_then(|l| c.level(l));
        let badge = match level {
            Some((li, _)) => format!("{}/{}", li + 1, c.levels.len()),
            None => "—".into(),
        };
        let req = if c.required { "*" } else { " " };
        let fb = if a.feedback_of(&c.id).is_some() {
            "✎"
        } else {
            " "
        };
        let name_w = w.saturating_sub(badge.chars().count() + 4);
        let name = clip(&format!("{req}{} {}", c.id, c.title), name_w);
        let pad = w.saturating_sub(name.chars().count() + badge.chars().count() + 2);
        let style = if i == a.selected {
            sel_style
        } else {
            Style::default()
        };
        let badge_style = if i == a.selected {
            style
        } else if let Some((_, l)) = level {
            if l.meets { th.good() } else { th.warn() }
        } else {
            th.dim()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{name}{}", " ".repeat(pad)), style),
            Span::styled(fb.to_string(), style),
            Span::styled(format!(" {badge}"), badge_style),
        ]));
    }
    if !a.rubric.gates.is_empty() {
        lines.push(Line::from(Span::styled("Gates", th.dim())));
        for (gi, g) in a.rubric.gates.iter().enumerate() {
            let i = a.rubric.criteria.len() + gi;
            let on = a.sheet.gates.contains(&g.id);
            let style = if i == a.selected {
                sel_style
            } else if on {
                th.good()
            } else {
                Style::default()
            };
            let text = clip(&format!("[{}] {}", if on { "x" } else { " " }, g.id), w);
            let pad = w.saturating_sub(text.chars().count());
            lines.push(Line::from(Span::styled(
                format!("{text}{}", " ".repeat(pad)),
                style,
            )));
        }
    }
    // keep the selection in view
    let h = inner.height as usize;
    let sel_line = if a.selected < a.rubric.criteria.len() {
        a.selected
    } else {
        a.selected + 1
    };
    let off = sel_line.saturating_sub(h.saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((off as u16, 0)), inner);
}

fn criterion_detail(m: &Model, a: &Assess, ci: usize, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let c = &a.rubric.criteria[ci];
    let mut title = format!(" {} · {} · weight {}", c.id, c.title, c.weight);
    if c.required {
        title.push_str(" · required");
    }
    title.push(' ');
    let block = pane_block(m, a, Pane::Levels, title);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    let chosen = a.level_of(&c.id);
    let other = a
        .first
        .as_ref()
        .and_then(|s| s.marks.get(&c.id))
        .and_then(|(l, _)| l.clone());
    for (i, l) in c.levels.iter().enumerate() {
        let is = chosen == Some(l.id.as_str());
        let marker = if is { "●" } else { "○" };
        let meets = if l.meets { "" } else { " (does not meet)" };
        let first_mark = if other.as_deref() == Some(l.id.as_str()) {
            "  ◆ first marker"
        } else {
            ""
        };
        let head = Line::from(vec![
            Span::styled(format!("{} ", i + 1), th.key()),
            Span::styled(
                format!("{marker} {} ", l.label),
                if is {
                    th.chosen()
                } else {
                    Style::default().add_modifier(Modifier::BOLD)
                },
            ),
            Span::styled(format!("{} pts{meets}{first_mark}", l.points), th.dim()),
        ]);
        lines.push(head);
        lines.push(Line::from(Span::styled(
            format!("    {}", l.descriptor.trim()),
            if is { th.chosen() } else { Style::default() },
        )));
    }
    let outcomes: Vec<String> = c
        .outcomes
        .iter()
        .map(|o| match a.rubric.outcome(o) {
            Some(lo) => format!("{o}: {}", lo.text.trim()),
            None => o.clone(),
        })
        .collect();
    lines.push(Line::from(Span::styled(
        format!("Outcomes  {}", outcomes.join(" · ")),
        th.dim(),
    )));
    if let Some(g) = &c.guidance {
        lines.push(Line::from(Span::styled(
            format!("Guidance  {}", g.trim()),
            th.dim(),
        )));
    }
    match a.feedback_of(&c.id) {
        Some(fb) => lines.push(Line::from(vec![
            Span::styled("Feedback  ", th.key()),
            Span::raw(fb.replace('\n', " ⏎ ")),
        ])),
        None => lines.push(Line::from(Span::styled(
            "Feedback  none yet (e to write)",
            th.dim(),
        ))),
    }
    let scroll = if a.pane == Pane::Levels { a.scroll } else { 0 };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

fn gate_detail(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let gi = a.selected_gate().unwrap_or(0);
    let Some(g) = a.rubric.gates.get(gi) else {
        return;
    };
    let block = pane_block(m, a, Pane::Levels, format!(" gate {} ", g.id));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let on = a.sheet.gates.contains(&g.id);
    let lines = vec![
        Line::from(g.text.trim().to_string()),
        Line::from(""),
        Line::from(if on {
            Span::styled("[x] confirmed — Space withdraws it", th.good())
        } else {
            Span::styled("[ ] not confirmed — Space confirms it", th.warn())
        }),
        Line::from(Span::styled(
            "Every gate must be confirmed before an award.",
            th.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn human_size(n: i64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    }
}

fn evidence(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let claimed = a.claimed();
    let Some(ei) = a.shown_evidence() else {
        let block = pane_block(m, a, Pane::Evidence, " Evidence ".into());
        let inner = block.inner(area);
        f.render_widget(block, area);
        let what = match a.selected_criterion() {
            Some(ci) => format!(
                "The learner claims no evidence for {}. t shows the reflective statement; v the coverage of all criteria.",
                a.rubric.criteria[ci].id
            ),
            None => "This portfolio lists no evidence.".into(),
        };
        f.render_widget(
            Paragraph::new(Span::styled(what, th.warn())).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    };
    let e = &a.evidence[ei];
    let pos = a.evidence_pos.min(claimed.len().saturating_sub(1)) + 1;
    let title = format!(
        " Evidence {pos}/{} · {} {} · {} · {} ",
        claimed.len(),
        e.id,
        sanitize_line(&e.title),
        e.kind,
        e.date
    );
    let block = pane_block(
        m,
        a,
        Pane::Evidence,
        clip(&title, area.width.saturating_sub(4) as usize),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut head: Vec<Line> = Vec::new();
    if let Some(n) = &e.note {
        head.push(Line::from(Span::styled(
            format!("note: {}", sanitize_line(n)),
            th.dim(),
        )));
    }
    if let Some(u) = &e.url {
        head.push(Line::from(Span::styled(
            format!("url: {}", sanitize_line(u)),
            th.dim(),
        )));
    }
    let body: Text = match (&e.sha256, e.is_text) {
        (Some(sha), true) => Text::from(a.texts.get(sha).cloned().unwrap_or_default()),
        (Some(sha), false) => Text::from(vec![
            Line::from(format!(
                "{} — {} file, {}",
                sanitize_line(e.file.as_deref().unwrap_or("")),
                e.file
                    .as_deref()
                    .and_then(|f| f.rsplit('.').next())
                    .unwrap_or("binary")
                    .to_uppercase(),
                human_size(e.size.unwrap_or(0))
            )),
            Line::from(format!("sha256 {sha}")),
            Line::from(Span::styled(
                "o opens it with the system's opener",
                th.key(),
            )),
        ]),
        (None, _) => Text::from(Line::from(Span::styled(
            "a link only: the learner gave no file",
            th.dim(),
        ))),
    };
    let mut all = head;
    all.extend(body.lines);
    let scroll = a.scroll.min(u16::try_from(all.len()).unwrap_or(u16::MAX));
    f.render_widget(
        Paragraph::new(all)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

fn statement(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let block = pane_block(
        m,
        a,
        Pane::Evidence,
        " Reflective statement (t: back to evidence) ".into(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let text = a
        .statement
        .clone()
        .unwrap_or_else(|| "The learner gave no reflective statement.".into());
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((a.scroll, 0)),
        inner,
    );
}

fn coverage(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let block = pane_block(
        m,
        a,
        Pane::Evidence,
        " Coverage: claimed evidence per criterion (v: back) ".into(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = Vec::new();
    for c in &a.rubric.criteria {
        let ids: Vec<&str> = a
            .evidence
            .iter()
            .filter(|e| e.claims.iter().any(|x| x == &c.id))
            .map(|e| e.id.as_str())
            .collect();
        let (mark, style) = if ids.is_empty() {
            ("✗", th.bad())
        } else {
            ("✓", th.good())
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} {:<10}", c.id), style),
            Span::raw(if ids.is_empty() {
                "no evidence claimed".to_string()
            } else {
                ids.join(", ")
            }),
        ]));
    }
    f.render_widget(Paragraph::new(lines).scroll((a.scroll, 0)), inner);
}

fn assess_status(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let e = &a.eval;
    let mut spans = Vec::new();
    let (save_text, save_style) = match &a.saved {
        Saved::Saved => (" ✓ saved ".to_string(), th.good()),
        Saved::Saving => (" … saving ".to_string(), th.warn()),
        Saved::Failed(_) => (" ✗ NOT saved ".to_string(), th.bad()),
    };
    spans.push(Span::styled(save_text, save_style));
    spans.push(Span::styled(
        format!(" score {} / pass {} ", e.score, a.rubric.decision.pass_mark),
        th.status_bar().add_modifier(Modifier::BOLD),
    ));
    let decided = a.sheet.decision.as_ref();
    let (otext, ostyle) = match decided {
        Some(d) => (
            format!(
                " decided: {}{} ",
                d.outcome,
                d.grade
                    .as_ref()
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_default()
            ),
            th.good(),
        ),
        None => {
            let rule = match e.outcome {
                Outcome::Awarded => format!(
                    "awarded{}",
                    e.grade
                        .as_ref()
                        .map(|g| format!(" ({g})"))
                        .unwrap_or_default()
                ),
                o => o.as_str().to_string(),
            };
            let choice = a
                .sheet
                .choice
                .map(|c| format!(" → {c} chosen"))
                .unwrap_or_default();
            (
                format!(
                    " rule: {rule}{choice}{} ",
                    if e.borderline { " · borderline" } else { "" }
                ),
                if e.outcome == Outcome::Awarded {
                    th.good()
                } else {
                    th.warn()
                },
            )
        }
    };
    spans.push(Span::styled(otext, ostyle));
    let mut missing: Vec<String> = Vec::new();
    if !e.unmarked.is_empty() {
        missing.push(format!("unmarked {}", e.unmarked.join(",")));
    }
    if !e.open_gates.is_empty() {
        missing.push(format!("gates {}", e.open_gates.join(",")));
    }
    if decided.is_none() && !missing.is_empty() {
        spans.push(Span::styled(
            format!(" missing: {} ", missing.join("; ")),
            th.status_bar(),
        ));
    }
    if a.evidence_changed {
        spans.push(Span::styled(
            " evidence changed since marking began ",
            th.bad(),
        ));
    }
    if let Some((msg, tone)) = &m.message {
        spans.push(Span::styled(
            format!(" {} ", sanitize_line(msg)),
            tone_style(th, *tone),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.status_bar()),
        area,
    );
}

// ---------------------------------------------------------------------------------------------
// Dialogs
// ---------------------------------------------------------------------------------------------

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn dialog(m: &Model, d: &Dialog, f: &mut Frame, area: Rect) {
    let th = m.theme;
    match d {
        Dialog::Help { scroll } => {
            let r = centered(area, 78, area.height.saturating_sub(2));
            f.render_widget(Clear, r);
            let block = Block::bordered()
                .title(Span::styled(" Keys ", th.title()))
                .title_bottom(Span::styled(
                    " j/k scroll · any other key closes ",
                    th.dim(),
                ));
            let mut lines: Vec<Line> = Vec::new();
            for (ctx, name) in [
                (Ctx::Global, "Everywhere"),
                (Ctx::Queue, "Queue"),
                (Ctx::Assess, "Assessment"),
            ] {
                lines.push(Line::from(Span::styled(name, th.title())));
                for b in TABLE.iter().filter(|b| b.ctx == ctx) {
                    lines.push(Line::from(vec![
                        Span::styled(format!(" {:<10}", b.keys), th.key()),
                        Span::raw(b.help),
                    ]));
                }
            }
            lines.push(Line::from(Span::styled(
                "Every change is saved the moment it is made; ✓ saved in the status line says so.",
                th.dim(),
            )));
            // Wrapped lines are few here; count them at the dialog's inner width.
            let inner_w = r.width.saturating_sub(2).max(1) as usize;
            let total: usize = lines
                .iter()
                .map(|l| l.width().div_ceil(inner_w).max(1))
                .sum();
            let max_scroll = total.saturating_sub(r.height.saturating_sub(2) as usize) as u16;
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false })
                    .scroll(((*scroll).min(max_scroll), 0)),
                r,
            );
        }
        Dialog::Notice(text) => {
            let r = centered(area, 70, 9);
            f.render_widget(Clear, r);
            let block = Block::bordered().title(Span::styled(" assay ", th.title()));
            let mut lines: Vec<Line> = text.lines().map(|l| Line::from(l.to_string())).collect();
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled("any key continues", th.dim())));
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Dialog::Submit => {
            let Some(a) = &m.assess else { return };
            submit_dialog(m, a, f, area);
        }
        Dialog::Confirm => {
            let Some(a) = &m.assess else { return };
            let r = centered(area, 64, 8);
            f.render_widget(Clear, r);
            let block =
                Block::bordered().title(Span::styled(" Confirm the first decision? ", th.title()));
            let first = a
                .first
                .as_ref()
                .and_then(|s| s.decision.as_ref())
                .map(|d| {
                    format!(
                        "{}{}, score {:.2}",
                        d.outcome,
                        d.grade
                            .as_ref()
                            .map(|g| format!(" ({g})"))
                            .unwrap_or_default(),
                        d.score
                    )
                })
                .unwrap_or_else(|| "—".into());
            let lines = vec![
                Line::from(format!("{} keeps the assessor's decision: {first}.", a.id)),
                Line::from(
                    "The settlement is recorded in the audit chain; the portfolio becomes moderated.",
                ),
                Line::from(""),
                Line::from(vec![
                    Span::styled(" y ", th.key()),
                    Span::raw("confirm   "),
                    Span::styled(" n/Esc ", th.key()),
                    Span::raw("cancel"),
                ]),
            ];
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Dialog::Refer { choice } => {
            let Some(a) = &m.assess else { return };
            let r = centered(area, 64, 11);
            f.render_widget(Clear, r);
            let block = Block::bordered().title(Span::styled(" Refer or override ", th.title()));
            let mut lines = vec![Line::from(format!(
                "The rule gives {}. Choose what to record instead:",
                a.eval.outcome
            ))];
            let labels = [
                "referred — an integrity or other concern, for a decision elsewhere",
                "not_yet — override the rule",
                "awarded — override the rule",
            ];
            for (i, (o, l)) in CHOICES.iter().zip(labels).enumerate() {
                let style = if i == *choice {
                    th.selected()
                } else {
                    Style::default()
                };
                let now = if a.sheet.choice == Some(*o) {
                    "  (chosen)"
                } else {
                    ""
                };
                lines.push(Line::from(Span::styled(
                    format!(" {} {l}{now}", i + 1),
                    style,
                )));
            }
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(
                "Enter or 1–3: write the rationale · x: back to the rule · Esc: cancel",
                th.dim(),
            )));
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .wrap(Wrap { trim: false }),
                r,
            );
        }
        Dialog::Edit { target, area: ta } => {
            let r = centered(area, 72, 14);
            f.render_widget(Clear, r);
            let what = match target {
                EditTarget::Feedback(c) => format!(" Feedback on {c} "),
                EditTarget::Comment => " Overall comment ".to_string(),
                EditTarget::Rationale(o) => format!(" Rationale for {o} "),
                EditTarget::Amend => {
                    " Why amend the first decision to the second marks? ".to_string()
                }
            };
            let block = Block::bordered()
                .title(Span::styled(what, th.title()))
                .title_bottom(Span::styled(
                    " Ctrl-S save · Esc cancel · Enter new line ",
                    th.dim(),
                ));
            let inner = block.inner(r);
            f.render_widget(block, r);
            let mut lines: Vec<Line> = Vec::new();
            for (i, l) in ta.lines.iter().enumerate() {
                if i == ta.row {
                    let (before, after) = split_at_char(l, ta.col);
                    let mut rest = after.chars();
                    let cur = rest
                        .next()
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| " ".into());
                    lines.push(Line::from(vec![
                        Span::raw(sanitize_line(&before)),
                        Span::styled(
                            sanitize_line(&cur),
                            Style::default().add_modifier(Modifier::REVERSED),
                        ),
                        Span::raw(sanitize_line(rest.as_str())),
                    ]));
                } else {
                    lines.push(Line::from(sanitize_line(l)));
                }
            }
            let off = ta
                .row
                .saturating_sub(inner.height.saturating_sub(1) as usize);
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((off as u16, 0)),
                inner,
            );
        }
    }
}

fn split_at_char(s: &str, col: usize) -> (String, String) {
    let b = s.char_indices().nth(col).map_or(s.len(), |(i, _)| i);
    (s[..b].to_string(), s[b..].to_string())
}

fn submit_dialog(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let e = &a.eval;
    let h = (a.rubric.criteria.len() + a.rubric.gates.len() + a.eval.reasons.len() + 8) as u16;
    let r = centered(area, 76, h);
    f.render_widget(Clear, r);
    let block = Block::bordered().title(Span::styled(format!(" Submit {}? ", a.id), th.title()));
    let mut lines: Vec<Line> = Vec::new();
    for c in &a.rubric.criteria {
        let (label, pts, meets) = match a.level_of(&c.id).and_then(|l| c.level(l)) {
            Some((i, l)) => (
                format!("{} ({}/{})", l.label, i + 1, c.levels.len()),
                l.points,
                l.meets,
            ),
            None => ("—".into(), 0, false),
        };
        lines.push(Line::from(vec![
            Span::raw(clip(&format!("{:<7} {}", c.id, c.title), 34)),
            Span::raw(" "),
            Span::styled(
                format!("{label} · {pts}/{} pts", c.max_points()),
                if meets { th.good() } else { th.warn() },
            ),
        ]));
    }
    for g in &a.rubric.gates {
        let on = a.sheet.gates.contains(&g.id);
        lines.push(Line::from(Span::styled(
            format!("[{}] {}", if on { "x" } else { " " }, g.id),
            if on { th.good() } else { th.bad() },
        )));
    }
    lines.push(Line::from(""));
    let rule = match &e.grade {
        Some(g) => format!("{} ({g})", e.outcome),
        None => e.outcome.to_string(),
    };
    lines.push(Line::from(vec![
        Span::styled(
            format!(
                "Score {} · pass mark {} · ",
                e.score, a.rubric.decision.pass_mark
            ),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("rule gives {rule}"),
            if e.outcome == Outcome::Awarded {
                th.good()
            } else {
                th.warn()
            },
        ),
        Span::raw(if e.borderline { " · borderline" } else { "" }),
    ]));
    for reason in e.reasons.iter() {
        lines.push(Line::from(Span::styled(format!("  · {reason}"), th.dim())));
    }
    if let Some(c) = a.sheet.choice {
        lines.push(Line::from(Span::styled(
            format!(
                "You record {c} instead. Rationale: {}",
                a.sheet.rationale.as_deref().unwrap_or("—")
            ),
            th.warn(),
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", th.key()),
        Span::raw("submit (then frozen)   "),
        Span::styled(" n/Esc ", th.key()),
        Span::raw("keep marking"),
    ]));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        r,
    );
}

// ---------------------------------------------------------------------------------------------
// Settlement, statistics, export
// ---------------------------------------------------------------------------------------------

/// The moderator's side-by-side view: first and second marks per criterion, differences marked.
fn settlement(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let block = Block::bordered()
        .border_style(th.border(true))
        .title(Span::styled(
            " Settlement: first marks beside second marks ",
            th.title(),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let empty = crate::app::mark::Sheet::default();
    let first = a.first.as_ref().unwrap_or(&empty);
    let label = |s: &crate::app::mark::Sheet, c: &crate::domain::rubric::Criterion| {
        s.marks
            .get(&c.id)
            .and_then(|(l, _)| l.as_deref())
            .and_then(|l| c.level(l))
            .map(|(i, l)| {
                format!(
                    "{} {}/{} ({} pts)",
                    clip(&l.label, 18),
                    i + 1,
                    c.levels.len(),
                    l.points
                )
            })
            .unwrap_or_else(|| "—".into())
    };
    let mut rows: Vec<Row> = Vec::new();
    let mut differ = 0;
    for c in &a.rubric.criteria {
        let (x, y) = (label(first, c), label(&a.sheet, c));
        let same = first.marks.get(&c.id).map(|v| &v.0) == a.sheet.marks.get(&c.id).map(|v| &v.0);
        if !same {
            differ += 1;
        }
        let style = if same { Style::default() } else { th.warn() };
        rows.push(
            Row::new(vec![
                Cell::from(if same { "  " } else { "≠ " }),
                Cell::from(clip(&format!("{} {}", c.id, c.title), 30)),
                Cell::from(x),
                Cell::from(y),
            ])
            .style(style),
        );
    }
    for g in &a.rubric.gates {
        let (x, y) = (first.gates.contains(&g.id), a.sheet.gates.contains(&g.id));
        let yes = |b: bool| {
            if b {
                "[x] confirmed"
            } else {
                "[ ] not confirmed"
            }
        };
        rows.push(
            Row::new(vec![
                Cell::from(if x == y { "  " } else { "≠ " }),
                Cell::from(format!("gate {}", g.id)),
                Cell::from(yes(x)),
                Cell::from(yes(y)),
            ])
            .style(if x == y { Style::default() } else { th.warn() }),
        );
    }
    let dec = |s: &crate::app::mark::Sheet| {
        s.decision
            .as_ref()
            .map(|d| {
                format!(
                    "{}{} · {:.2}",
                    d.outcome,
                    d.grade
                        .as_ref()
                        .map(|g| format!(" ({g})"))
                        .unwrap_or_default(),
                    d.score
                )
            })
            .unwrap_or_else(|| "—".into())
    };
    let same_outcome = first.decision.as_ref().map(|d| &d.outcome)
        == a.sheet.decision.as_ref().map(|d| &d.outcome);
    rows.push(Row::new(vec![
        Cell::from(""),
        Cell::from(""),
        Cell::from(""),
        Cell::from(""),
    ]));
    rows.push(
        Row::new(vec![
            Cell::from(if same_outcome { "  " } else { "≠ " }),
            Cell::from("decision · score"),
            Cell::from(dec(first)),
            Cell::from(dec(&a.sheet)),
        ])
        .style(if same_outcome { th.good() } else { th.bad() }),
    );
    let who = |s: &crate::app::mark::Sheet, fallback: &str| {
        s.marker
            .clone()
            .map(|m| sanitize_line(&m))
            .unwrap_or_else(|| fallback.to_string())
    };
    let header = Row::new(vec![
        "".to_string(),
        "criterion".to_string(),
        format!("first — {}", who(first, "assessor")),
        format!("second — {}", who(&a.sheet, "moderator")),
    ])
    .style(th.dim().add_modifier(Modifier::BOLD));
    let [table_area, foot] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(inner);
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Fill(3),
            Constraint::Fill(3),
            Constraint::Fill(3),
        ],
    )
    .header(header)
    .column_spacing(1);
    f.render_widget(table, table_area);
    let summary = vec![
        Line::from(Span::styled(
            format!(
                "{differ} criterion/gate difference(s); outcomes {}.",
                if same_outcome { "agree" } else { "differ" }
            ),
            if differ == 0 && same_outcome {
                th.good()
            } else {
                th.warn()
            },
        )),
        Line::from(vec![
            Span::styled(" C ", th.key()),
            Span::raw("confirm the first decision   "),
            Span::styled(" A ", th.key()),
            Span::raw("amend it to the second marks (with a rationale)"),
        ]),
    ];
    f.render_widget(Paragraph::new(summary).wrap(Wrap { trim: false }), foot);
}

fn plain_status(m: &Model, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let mut spans = vec![Span::styled(
        format!(" {} ", sanitize_line(&m.user)),
        th.status_bar(),
    )];
    if let Some((msg, tone)) = &m.message {
        spans.push(Span::styled(
            format!(" {} ", sanitize_line(msg)),
            tone_style(th, *tone),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.status_bar()),
        area,
    );
}

fn pct(v: Option<f64>) -> u64 {
    v.map(|x| (x.clamp(0.0, 1.0) * 100.0).round() as u64)
        .unwrap_or(0)
}

fn fig(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
}

/// Agreement per criterion as bar charts, the outcome's agreement, and each assessor's severity
/// or leniency as a bar either side of zero.
fn stats_screen(m: &Model, f: &mut Frame, area: Rect) {
    use ratatui::widgets::{Bar, BarChart, BarGroup};
    let th = m.theme;
    let Some(s) = m.stats.get(m.stats_pos) else {
        f.render_widget(
            Paragraph::new("No decisions yet: statistics appear once portfolios are submitted and second-marked.")
                .style(th.dim())
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let [head, charts, assessors] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(8),
        Constraint::Length((s.assessors.len() as u16 + 2).min(area.height / 3).max(3)),
    ])
    .areas(area);
    let head_lines = vec![
        Line::from(vec![
            Span::styled(format!(" {}@{} ", s.rubric, s.version), th.title()),
            Span::raw(format!(
                "· {} moderated pair(s) · rubric {}/{} (] [ to change)",
                s.pairs,
                m.stats_pos + 1,
                m.stats.len()
            )),
        ]),
        Line::from(Span::styled(
            format!(
                " outcome: exact {} · kappa {}   (Landis & Koch: 0.41–0.60 moderate, 0.61–0.80 substantial, > 0.80 almost perfect)",
                fig(s.outcome.exact),
                fig(s.outcome.kappa)
            ),
            th.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(head_lines), head);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(charts);
    // Two bars a criterion, a gap between groups; values written on the bars when they fit.
    let n = s.criteria.len().max(1) as u16;
    let inner_w = left.width.saturating_sub(2);
    let bar_w = (inner_w.saturating_sub(n * 2) / (n * 2)).clamp(1, 6);
    let bar_gap = u16::from(bar_w >= 3);
    let show = |v: Option<f64>| if bar_w >= 4 { fig(v) } else { String::new() };
    // One chart of two figures per criterion, each bar in its own style.
    let chart = |title: &str,
                 figures: &dyn Fn(&crate::app::moderation::CriterionStats) -> [Option<f64>; 2],
                 styles: [Style; 2]| {
        let mut chart = BarChart::default()
            .block(Block::bordered().title(Span::styled(title.to_string(), th.dim())))
            .bar_width(bar_w)
            .bar_gap(bar_gap)
            .group_gap(1)
            .max(100);
        for c in &s.criteria {
            let [a, b] = figures(c);
            chart = chart.data(
                BarGroup::default()
                    .label(Line::from(clip(&c.id, (bar_w * 2) as usize)))
                    .bars(&[
                        Bar::default()
                            .value(pct(a))
                            .text_value(show(a))
                            .style(styles[0]),
                        Bar::default()
                            .value(pct(b))
                            .text_value(show(b))
                            .style(styles[1]),
                    ]),
            );
        }
        chart
    };
    f.render_widget(
        chart(
            " exact (green) / adjacent agreement ",
            &|c| [c.stats.exact, c.stats.adjacent],
            [th.good(), th.dim()],
        ),
        left,
    );
    f.render_widget(
        chart(
            " weighted kappa / Krippendorff's alpha ",
            &|c| [c.stats.weighted_kappa, c.stats.alpha],
            [th.title(), th.warn()],
        ),
        right,
    );
    // assessors: mean score difference from the moderators, a bar either side of zero
    let block = Block::bordered().title(Span::styled(
        " assessors: mean score difference from moderators (right = lenient, left = severe) · share changed ",
        th.dim(),
    ));
    let inner = block.inner(assessors);
    f.render_widget(block, assessors);
    let half = (inner.width.saturating_sub(44) / 2).max(4) as f64;
    let lines: Vec<Line> = s
        .assessors
        .iter()
        .map(|a| {
            let d = a.mean_score_difference.unwrap_or(0.0);
            let n = ((d.abs() / 20.0).min(1.0) * half).round() as usize;
            let (l, r) = if d < 0.0 {
                (
                    format!("{}{}", " ".repeat(half as usize - n), "█".repeat(n)),
                    " ".repeat(half as usize),
                )
            } else {
                (
                    " ".repeat(half as usize),
                    format!("{}{}", "█".repeat(n), " ".repeat(half as usize - n)),
                )
            };
            Line::from(vec![
                Span::raw(format!("{:<14}", clip(&sanitize_line(&a.assessor), 14))),
                Span::styled(l, th.bad()),
                Span::raw("│"),
                Span::styled(r, th.good()),
                Span::raw(format!(
                    " {:>+6} · {} moderated of {} · changed {}",
                    a.mean_score_difference
                        .map(|x| format!("{x:.1}"))
                        .unwrap_or_else(|| "—".into()),
                    a.moderated,
                    a.marked,
                    a.changed
                        .map(|x| format!("{:.0}%", x * 100.0))
                        .unwrap_or_else(|| "—".into())
                )),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn export_screen(m: &Model, f: &mut Frame, area: Rect) {
    use ratatui::widgets::Gauge;
    let th = m.theme;
    let e = &m.export;
    let [list, gauge, result] = Layout::vertical([
        Constraint::Length(e.ready.len().max(1) as u16 + 3),
        Constraint::Length(3),
        Constraint::Min(1),
    ])
    .areas(area);
    let about = |f: crate::app::export::Format| match f {
        crate::app::export::Format::Obv3 => {
            "Open Badges 3.0 credentials, one JSON file per awarded decision"
        }
        crate::app::export::Format::Elm => {
            "European Learning Model credentials, one JSON-LD file per awarded decision"
        }
        crate::app::export::Format::Csv => "one CSV row per decision, for student records",
        crate::app::export::Format::Jsonl => "one complete JSON record per line",
        crate::app::export::Format::Feedback => "one Markdown letter per learner",
    };
    let counts: Vec<String> = e.ready.iter().map(|(_, n)| format!("{n} ready")).collect();
    let mut rows: Vec<Row> = e
        .ready
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, ((f, _), n))| {
            let style = if i == e.selected {
                th.selected()
            } else {
                Style::default()
            };
            Row::new(vec![
                Cell::from(f.as_str()),
                Cell::from(n.as_str()),
                Cell::from(about(*f)),
            ])
            .style(style)
        })
        .collect();
    if rows.is_empty() {
        // (the counts come from another core; a large workspace takes a moment)
        rows.push(Row::new(vec!["", "counting…", ""]).style(th.dim()));
    }
    let widest = counts.iter().map(|c| c.len()).max().unwrap_or(0);
    let table = Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Length(widest.max(10) as u16),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(vec!["format", "new", "what"]).style(th.dim().add_modifier(Modifier::BOLD)))
    .block(Block::bordered().title(Span::styled(
        " released decisions not yet exported, per format ",
        th.dim(),
    )));
    f.render_widget(table, list);
    if let Some((done, total)) = e.running {
        let ratio = if total == 0 {
            0.0
        } else {
            done as f64 / total as f64
        };
        let g = Gauge::default()
            .block(Block::bordered().title(" exporting "))
            .gauge_style(th.good())
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("{done}/{total}"));
        f.render_widget(g, gauge);
    }
    if let Some((text, ok)) = &e.result {
        f.render_widget(
            Paragraph::new(sanitize_line(text))
                .style(if *ok { th.good() } else { th.bad() })
                .wrap(Wrap { trim: true }),
            result,
        );
    }
}
