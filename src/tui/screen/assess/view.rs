//! Draws the assessment screen: criteria on the left; the selected criterion's levels, its
//! outcomes, guidance and feedback above; the evidence below (or, zoomed, everywhere); the
//! rubric grid instead when it is open. The geometry is a function of the model, so `update`
//! knows the panes' sizes too.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::decision::Outcome;
use crate::domain::phase::Phase;
use crate::domain::sanitize::sanitize_line;
use crate::tui::evidence;
use crate::tui::model::{Assess, Lower, Model, Pane, Saved, Screen};
use crate::tui::theme::Theme;
use crate::tui::view::areas;
use crate::tui::widgets::{clip, pad, pane, width, wrap, wrap_text};

pub fn title(a: &Assess) -> String {
    let phase = match (a.phase, a.blind) {
        (Phase::First, _) => "first marking",
        (Phase::Second, true) => "second marking (blind)",
        (Phase::Second, false) => "second marking",
    };
    let settled = a.stage == crate::app::moderation::Stage::Settled;
    let mode = match (&a.access, a.settling(), settled) {
        (_, true, true) => " · settled",
        (crate::app::query::Access::Read(_), _, _) => " · read only",
        _ => "",
    };
    // (what the person is doing first: a long rubric name is what gets cut)
    let phase = match (&a.access, a.settling()) {
        (_, true) => "settlement",
        (crate::app::query::Access::Read(_), false) => match a.phase {
            Phase::First => "reading the first marking",
            Phase::Second => "reading the second marking",
        },
        _ => phase,
    };
    format!(
        "{phase}{mode} · {} · {} ({}) · {}",
        a.id,
        a.learner,
        a.learner_id,
        a.rubric.key()
    )
}

/// The panes of the screen.
pub struct Panes {
    pub criteria: Rect,
    pub levels: Rect,
    pub lower: Rect,
}

pub fn panes(a: &Assess, body: Rect) -> Panes {
    if a.zoom {
        return Panes {
            criteria: Rect::default(),
            levels: Rect::default(),
            lower: body,
        };
    }
    let left_w = if body.width >= 110 { 38 } else { 30 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(left_w), Constraint::Min(20)]).areas(body);
    let h = body.height;
    let upper_h = match a.pane {
        Pane::Levels => h * 2 / 3,
        Pane::Evidence => (h / 3).max(6),
        Pane::Criteria => h / 2,
    }
    .clamp(5.min(h), h.saturating_sub(5));
    let [upper, lower] =
        Layout::vertical([Constraint::Length(upper_h), Constraint::Min(4)]).areas(right);
    Panes {
        criteria: left,
        levels: upper,
        lower,
    }
}

fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x + 1,
        y: r.y + 1,
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

/// The text area of the levels pane (None off the assessment screen).
pub fn levels_inner(m: &Model) -> Option<Rect> {
    let a = m.assess.as_ref().filter(|_| m.screen == Screen::Assess)?;
    Some(inner(panes(a, areas(m).body).levels))
}

pub fn levels_inner_width(m: &Model) -> u16 {
    levels_inner(m).map_or(40, |r| r.width.max(10))
}

/// The area the evidence view draws in (its text and status row, or a picture), when a
/// document or picture is on show.
pub fn evidence_view_area(m: &Model) -> Option<Rect> {
    let a = m.assess.as_ref().filter(|_| m.screen == Screen::Assess)?;
    let body = areas(m).body;
    let lower = if a.settling() {
        crate::tui::screen::settle::view::evidence_area(a, body)?
    } else {
        panes(a, body).lower
    };
    let i = inner(lower);
    // (lines above the view say what the evidence is)
    let h = meta_lines(a, i.width, m.theme).len() as u16;
    Some(Rect {
        y: i.y + h,
        height: i.height.saturating_sub(h),
        ..i
    })
}

/// What the document on show is (kind, date, the learner's note, a link), wrapped to at most
/// three lines.
fn meta_lines(a: &Assess, width: u16, th: Theme) -> Vec<Line<'static>> {
    let text = if a.lower == Lower::Statement {
        "the learner's own account of their learning".to_string()
    } else {
        let Some(e) = a.shown_evidence().map(|i| &a.evidence[i]) else {
            return vec![Line::from("")];
        };
        evidence_meta(a, e)
    };
    let mut lines = wrap_text(&text, th.dim(), width.max(10) as usize, 2);
    if lines.len() > 3 {
        lines.truncate(3);
        if let Some(l) = lines.last_mut() {
            l.spans.push(Span::styled("…", th.dim()));
        }
    }
    lines
}

/// What the evidence on show is: its group, whose claim it is for the selected criterion, its
/// kind and date, note and address.
fn evidence_meta(a: &Assess, e: &crate::app::query::EvidenceItem) -> String {
    let mut meta = String::new();
    if let Some(g) = &e.group {
        meta.push_str(&format!("in {} · ", sanitize_line(g)));
    }
    if let Some(ci) = a.selected_criterion() {
        let c = &a.rubric.criteria[ci].id;
        if e.claims.contains(c) {
            if a.all_evidence {
                meta.push_str(&format!("claimed for {c} · "));
            }
        } else if e.linked.contains(c) {
            meta.push_str(&format!("linked to {c} by the assessor · "));
        } else {
            meta.push_str(&format!("not claimed for {c} (L links it) · "));
        }
    }
    meta.push_str(&format!("{} · {}", e.kind, e.date));
    if a.picture
        .as_ref()
        .is_some_and(|p| e.sha256.as_deref() == Some(&p.key) && p.image.is_ok())
    {
        meta.push_str(" · a picture (o: the original)");
    }
    if !e.is_text
        && e.text_sha.is_some()
        && let Some(n) = &e.text_note
    {
        meta.push_str(&format!(
            " · {}, its text (o: the original)",
            sanitize_line(n)
        ));
    }
    if let Some(n) = &e.note {
        meta.push_str(&format!(" · note: {}", sanitize_line(n)));
    }
    if let Some(u) = &e.url {
        meta.push_str(&format!(" · {}", sanitize_line(u)));
    }
    meta
}

/// The levels pane's lines for criterion `ci` at `w` columns, and where each level begins.
fn level_lines(a: &Assess, ci: usize, w: usize, th: Theme) -> (Vec<Line<'static>>, Vec<usize>) {
    let c = &a.rubric.criteria[ci];
    let chosen = a.level_of(&c.id);
    let other = a
        .first
        .as_ref()
        .and_then(|s| s.marks.get(&c.id))
        .and_then(|(l, _)| l.clone());
    let mut lines = Vec::new();
    let mut starts = Vec::new();
    for (i, l) in c.levels.iter().enumerate() {
        starts.push(lines.len());
        let is = chosen == Some(l.id.as_str());
        let marker = if is { "●" } else { "○" };
        let meets = if l.meets { "" } else { " · does not meet" };
        let first_mark = if other.as_deref() == Some(l.id.as_str()) {
            " · ◆ first marker"
        } else {
            ""
        };
        let head = vec![
            Span::styled(format!("{} ", i + 1), th.key()),
            Span::styled(
                format!("{marker} {} ", sanitize_line(&l.label)),
                if is {
                    th.chosen()
                } else {
                    Style::default().add_modifier(Modifier::BOLD)
                },
            ),
            Span::styled(format!("· {} pts{meets}{first_mark}", l.points), th.dim()),
        ];
        lines.extend(wrap(head, w, 4));
        let mut d = wrap_text(
            &format!("    {}", sanitize_line(l.descriptor.trim())),
            if is { th.chosen() } else { Style::default() },
            w,
            4,
        );
        lines.append(&mut d);
    }
    let outcomes: Vec<String> = c
        .outcomes
        .iter()
        .map(|o| match a.rubric.outcome(o) {
            Some(lo) => format!("{o}: {}", lo.text.trim()),
            None => o.clone(),
        })
        .collect();
    if !outcomes.is_empty() {
        lines.extend(wrap(
            vec![
                Span::styled("Outcomes ".to_string(), th.key()),
                Span::styled(sanitize_line(&outcomes.join(" · ")), Style::default()),
            ],
            w,
            2,
        ));
    }
    if let Some(g) = &c.guidance {
        lines.extend(wrap(
            vec![
                Span::styled("Guidance ".to_string(), th.key()),
                Span::raw(sanitize_line(g.trim())),
            ],
            w,
            2,
        ));
    }
    match a.feedback_of(&c.id) {
        Some(fb) => lines.extend(wrap(
            vec![
                Span::styled("Feedback ".to_string(), th.key()),
                Span::raw(sanitize_line(fb)),
            ],
            w,
            2,
        )),
        None => lines.push(Line::from(Span::styled(
            if a.editable() {
                "Feedback none yet (e writes it)"
            } else {
                "Feedback none"
            },
            th.dim(),
        ))),
    }
    if let Some(first) = &a.first
        && let Some((_, Some(fb))) = first.marks.get(&c.id)
    {
        lines.extend(wrap(
            vec![
                Span::styled("First marker's feedback ".to_string(), th.dim()),
                Span::raw(sanitize_line(fb)),
            ],
            w,
            2,
        ));
    }
    (lines, starts)
}

/// Where each level of criterion `ci` begins in the levels pane at `width`, and its lines.
pub fn level_starts(a: &Assess, ci: usize, width: u16) -> (Vec<usize>, usize) {
    let (lines, starts) = level_lines(a, ci, usize::from(width), Theme { mono: true });
    (starts, lines.len())
}

/// Lines in the levels pane as it is now.
pub fn levels_total(m: &Model) -> usize {
    let Some(a) = m.assess.as_ref() else { return 0 };
    match a.selected_criterion() {
        Some(ci) => level_starts(a, ci, levels_inner_width(m)).1,
        None => 0,
    }
}

pub fn draw(m: &Model, a: &Assess, f: &mut Frame, body: Rect) {
    if a.grid.is_some() {
        grid(m, a, f, body);
        return;
    }
    let p = panes(a, body);
    if !a.zoom {
        criteria_list(m, a, f, p.criteria);
        match a.selected_criterion() {
            Some(ci) => levels(m, a, ci, f, p.levels),
            None => gate_detail(m, a, f, p.levels),
        }
    }
    let focused = a.pane == Pane::Evidence || a.zoom;
    match a.lower {
        Lower::Coverage => coverage(m, a, f, p.lower, focused),
        _ => evidence_pane(m, a, f, p.lower, focused),
    }
}

fn criteria_list(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let block = pane(th, a.pane == Pane::Criteria, " Criteria ".into());
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
        let name_w = w.saturating_sub(width(&badge) + 2);
        let name = pad(
            &format!("{req}{} {}", c.id, sanitize_line(&c.title)),
            name_w,
        );
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
            Span::styled(name, style),
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
            let text = pad(&format!("[{}] {}", if on { "x" } else { " " }, g.id), w);
            lines.push(Line::from(Span::styled(text, style)));
        }
    }
    let h = inner.height as usize;
    let sel_line = if a.selected < a.rubric.criteria.len() {
        a.selected
    } else {
        a.selected + 1
    };
    let off = sel_line.saturating_sub(h.saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((off as u16, 0)), inner);
}

fn levels(m: &Model, a: &Assess, ci: usize, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let c = &a.rubric.criteria[ci];
    let mut title = format!(
        " {} · {} · weight {}",
        c.id,
        sanitize_line(&c.title),
        c.weight
    );
    if c.required {
        title.push_str(" · required");
    }
    title.push(' ');
    let inner_r = inner(area);
    let (lines, _) = level_lines(a, ci, inner_r.width.max(10) as usize, th);
    let total = lines.len();
    let h = inner_r.height as usize;
    let scroll = usize::from(a.levels_scroll).min(total.saturating_sub(h));
    let mut block = pane(
        th,
        a.pane == Pane::Levels,
        clip(&title, area.width.saturating_sub(4) as usize),
    );
    if total > h {
        let more = format!(
            " lines {}–{} of {}{} ",
            scroll + 1,
            (scroll + h).min(total),
            total,
            if scroll + h < total {
                " · ↓ more (Tab, then j/PgDn)"
            } else {
                ""
            }
        );
        block = block.title_bottom(Span::styled(more, th.dim()));
    }
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)), inner_r);
}

fn gate_detail(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let gi = a.selected_gate().unwrap_or(0);
    let Some(g) = a.rubric.gates.get(gi) else {
        return;
    };
    let block = pane(th, a.pane == Pane::Levels, format!(" gate {} ", g.id));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let on = a.sheet.gates.contains(&g.id);
    let lines = vec![
        Line::from(sanitize_line(g.text.trim())),
        Line::from(""),
        Line::from(if on {
            Span::styled(
                if a.editable() {
                    "[x] confirmed — Space withdraws it"
                } else {
                    "[x] confirmed"
                },
                th.good(),
            )
        } else {
            Span::styled(
                if a.editable() {
                    "[ ] not confirmed — Space confirms it"
                } else {
                    "[ ] not confirmed"
                },
                th.warn(),
            )
        }),
        Line::from(Span::styled(
            "Every gate must be confirmed before an award.",
            th.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

pub fn human_size(n: i64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    }
}

/// The evidence pane: a line naming the evidence, then the document (or what the file is).
pub fn evidence_pane(m: &Model, a: &Assess, f: &mut Frame, area: Rect, focused: bool) {
    let th = m.theme;
    if a.lower == Lower::Statement {
        let block = pane(
            th,
            focused,
            " Reflective statement (t: back to the evidence) ".into(),
        );
        let inner = block.inner(area);
        f.render_widget(block, area);
        document(m, a, f, inner);
        return;
    }
    let claimed = a.claimed();
    let Some(ei) = a.shown_evidence() else {
        let block = pane(th, focused, " Evidence ".into());
        let inner = block.inner(area);
        f.render_widget(block, area);
        let what = match a.selected_criterion() {
            Some(ci) => format!(
                "No evidence is claimed for {}. a shows all the portfolio's evidence (L on one links it to this criterion); t the reflective statement; v the coverage of all criteria.",
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
        " {} {pos}/{} · {} {} ",
        if a.all_evidence {
            "All evidence"
        } else {
            "Evidence"
        },
        claimed.len(),
        e.id,
        sanitize_line(&e.title),
    );
    let block = pane(
        th,
        focused,
        clip(&title, area.width.saturating_sub(4) as usize),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let meta = evidence_meta(a, e);
    let is_picture =
        m.picker.is_some() && super::picture::is_picture(e.file.as_deref().unwrap_or(""));
    match (&e.sha256, e.readable().is_some()) {
        (Some(_), true) => document(m, a, f, inner),
        (Some(sha), false) if is_picture => picture(m, a, sha, f, inner),
        (Some(sha), false) => {
            let mut lines = vec![
                Line::from(Span::styled(clip(&meta, inner.width as usize), th.dim())),
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
            ];
            // (a document whose text could not be taken says why, plainly)
            if let Some(n) = &e.text_note {
                lines.push(Line::from(Span::styled(sanitize_line(n), th.warn())));
            }
            lines.push(Line::from(Span::styled(
                "Not text: o opens it with the system's opener (on this machine's desktop).",
                th.key(),
            )));
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
        (None, _) => {
            let lines = vec![
                Line::from(Span::styled(clip(&meta, inner.width as usize), th.dim())),
                Line::from(Span::styled(
                    "a link only: the learner gave no file",
                    th.dim(),
                )),
            ];
            f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        }
    }
}

/// A picture in the pane: what it is, then the picture (or that it is being read, or why it
/// cannot be drawn).
fn picture(m: &Model, a: &Assess, sha: &str, f: &mut Frame, inner: Rect) {
    let th = m.theme;
    let meta = meta_lines(a, inner.width, th);
    let [head, rest] =
        Layout::vertical([Constraint::Length(meta.len() as u16), Constraint::Min(1)]).areas(inner);
    f.render_widget(Paragraph::new(meta), head);
    match a.picture.as_ref().filter(|p| p.key == sha) {
        Some(p) => match &p.image {
            Ok(_) => p.render(rest, f.buffer_mut()),
            Err(e) => f.render_widget(
                Paragraph::new(vec![
                    Line::from(Span::styled(
                        format!("The picture cannot be shown: {}", sanitize_line(e)),
                        th.warn(),
                    )),
                    Line::from(Span::styled(
                        "o opens the original with the system's opener.",
                        th.key(),
                    )),
                ])
                .wrap(Wrap { trim: false }),
                rest,
            ),
        },
        None => f.render_widget(
            Paragraph::new(Span::styled("reading the picture…", th.dim())),
            rest,
        ),
    }
}

/// A document in the pane: what it is, then the evidence view (or that it is being read).
fn document(m: &Model, a: &Assess, f: &mut Frame, inner: Rect) {
    let th = m.theme;
    let meta = meta_lines(a, inner.width, th);
    let [head, rest] =
        Layout::vertical([Constraint::Length(meta.len() as u16), Constraint::Min(1)]).areas(inner);
    f.render_widget(Paragraph::new(meta), head);
    match &a.shown {
        Some(s) => evidence::render(&s.view, &s.doc, rest, f.buffer_mut(), &th),
        None => f.render_widget(
            Paragraph::new(Span::styled("reading the evidence…", th.dim())),
            rest,
        ),
    }
}

fn coverage(m: &Model, a: &Assess, f: &mut Frame, area: Rect, focused: bool) {
    let th = m.theme;
    let block = pane(
        th,
        focused,
        " Coverage: evidence per criterion (v: back) ".into(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines = Vec::new();
    for c in &a.rubric.criteria {
        // (the assessor's links marked `+`: claims the learner did not make)
        let ids: Vec<String> = a
            .evidence
            .iter()
            .filter(|e| e.shows(&c.id))
            .map(|e| {
                if e.claims.contains(&c.id) {
                    e.id.clone()
                } else {
                    format!("{}+", e.id)
                }
            })
            .collect();
        let (mark, style) = if ids.is_empty() {
            ("✗", th.bad())
        } else {
            ("✓", th.good())
        };
        lines.extend(wrap(
            vec![
                Span::styled(format!("{mark} {:<8} ", c.id), style),
                Span::raw(if ids.is_empty() {
                    "no evidence claimed".to_string()
                } else {
                    ids.join(", ")
                }),
            ],
            inner.width as usize,
            11,
        ));
    }
    if a.evidence.iter().any(|e| !e.linked.is_empty()) {
        lines.push(Line::from(Span::styled(
            "  + linked by the assessor (L on the evidence)",
            th.dim(),
        )));
    }
    // The portfolio's own parts (an e-portfolio's pages and collections).
    if a.evidence.iter().any(|e| e.group.is_some()) {
        lines.push(Line::from(""));
        let mut last: Option<&str> = None;
        for e in &a.evidence {
            let g = e.group.as_deref().unwrap_or("(in no group)");
            if last != Some(g) {
                lines.extend(wrap(
                    vec![Span::styled(sanitize_line(g), th.title())],
                    inner.width as usize,
                    2,
                ));
                last = Some(g);
            }
            lines.extend(wrap(
                vec![Span::raw(format!("  {} {}", e.id, sanitize_line(&e.title)))],
                inner.width as usize,
                4,
            ));
        }
    }
    f.render_widget(Paragraph::new(lines).scroll((a.scroll, 0)), inner);
}

/// The rubric grid: a row per criterion, a column per level, the chosen level marked, the
/// cursor on one cell; its descriptor in full below.
fn grid(m: &Model, a: &Assess, f: &mut Frame, body: Rect) {
    let th = m.theme;
    let col = a.grid.unwrap_or(0);
    let title = if a.editable() {
        " Rubric grid: criteria × levels (●: chosen · ▶: cursor · Enter or 1–9 chooses · g: back) "
    } else {
        " Rubric grid: criteria × levels (●: chosen · ▶: cursor · g: back) "
    };
    let block = pane(th, true, clip(title, body.width.saturating_sub(4) as usize));
    let inner = block.inner(body);
    f.render_widget(block, body);
    let max_levels = a
        .rubric
        .criteria
        .iter()
        .map(|c| c.levels.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let name_w = if inner.width >= 110 { 22 } else { 12 };
    let cell_w = ((inner.width as usize).saturating_sub(name_w) / max_levels).max(6);
    let [table, detail] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(6.min(inner.height / 3)),
    ])
    .areas(inner);
    let mut lines: Vec<Line> = Vec::new();
    for (ci, c) in a.rubric.criteria.iter().enumerate() {
        let chosen = a.level_of(&c.id).and_then(|l| c.level(l)).map(|(i, _)| i);
        let mut spans = vec![Span::styled(
            pad(
                &format!(
                    "{}{} {}",
                    if c.required { "*" } else { " " },
                    c.id,
                    sanitize_line(&c.title)
                ),
                name_w,
            ),
            if ci == a.selected {
                th.title()
            } else {
                Style::default()
            },
        )];
        for (li, l) in c.levels.iter().enumerate() {
            let here = ci == a.selected && li == col;
            let mark = if chosen == Some(li) { "●" } else { "○" };
            let cur = if here { "▶" } else { " " };
            let text = pad(
                &format!("{cur}{mark} {} {}", li + 1, sanitize_line(&l.label)),
                cell_w,
            );
            let style = if here {
                th.selected()
            } else if chosen == Some(li) {
                th.chosen()
            } else if l.meets {
                Style::default()
            } else {
                th.dim()
            };
            spans.push(Span::styled(text, style));
        }
        lines.push(Line::from(spans));
    }
    let h = table.height as usize;
    let off = a.selected.saturating_sub(h.saturating_sub(1));
    f.render_widget(Paragraph::new(lines).scroll((off as u16, 0)), table);
    if let Some(c) = a.rubric.criteria.get(a.selected)
        && let Some(l) = c.levels.get(col)
    {
        let text = format!(
            "{} level {} · {} · {} pts{} — {}",
            c.id,
            col + 1,
            sanitize_line(&l.label),
            l.points,
            if l.meets { "" } else { " · does not meet" },
            sanitize_line(l.descriptor.trim())
        );
        f.render_widget(
            Paragraph::new(wrap_text(&text, Style::default(), detail.width as usize, 2)),
            detail,
        );
    }
}

pub fn status(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let e = &a.eval;
    let mut spans = Vec::new();
    let saved = match &a.saved {
        Saved::Untouched => None,
        Saved::Saved => Some((" ✓ saved ", th.good())),
        Saved::Saving => Some((" … saving ", th.warn())),
        Saved::Failed(_) => Some((" ✗ not saved ", th.bad())),
    };
    if let Some((t, s)) = saved {
        spans.push(Span::styled(t.to_string(), s));
    }
    spans.push(Span::styled(
        format!(" score {} / pass {} ", e.score, a.rubric.decision.pass_mark),
        th.status_bar().add_modifier(Modifier::BOLD),
    ));
    let decided = a.sheet.decision.as_ref();
    let grade = |g: &Option<String>| g.as_ref().map(|g| format!(" ({g})")).unwrap_or_default();
    let (otext, ostyle) = match (decided, &a.superseded) {
        (Some(d), Some(_)) => (
            format!(
                " submitted {}{} — superseded (above) ",
                d.outcome,
                grade(&d.grade)
            ),
            th.warn(),
        ),
        (Some(d), None) => (
            format!(" submitted: {}{} ", d.outcome, grade(&d.grade)),
            th.good(),
        ),
        (None, _) => {
            let rule = match e.outcome {
                Outcome::Awarded => format!("awarded{}", grade(&e.grade)),
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
    if a.evidence_changed {
        spans.push(Span::styled(
            " evidence changed since marking began ",
            th.bad(),
        ));
    }
    if decided.is_none() {
        let mut missing: Vec<String> = Vec::new();
        if !e.unmarked.is_empty() {
            missing.push(format!("{} unmarked", e.unmarked.len()));
        }
        if !e.open_gates.is_empty() {
            missing.push(format!("{} gate(s) open", e.open_gates.len()));
        }
        if !missing.is_empty() {
            spans.push(Span::styled(
                format!(" {} ", missing.join(" · ")),
                th.status_bar(),
            ));
        }
    }
    let spans = crate::tui::widgets::fit_spans(spans, area.width as usize);
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.status_bar()),
        area,
    );
}
