//! Draws the dialogs. Their footers are written from the key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::CHOICES;
use crate::domain::decision::Outcome;
use crate::domain::sanitize::sanitize_line;
use crate::tui::keys::{self, Ctx, PLACES, SYMBOLS, TABLE};
use crate::tui::model::{Assess, Dialog, EditTarget, Model};
use crate::tui::widgets::{centered, clip, tone_style, wrap, wrap_text};

/// The footer of a dialog: its keys from the table.
fn footer(m: &Model, ctx: Ctx) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, h, _) in keys::hints(ctx, &|_| true) {
        spans.push(Span::styled(format!(" {k} "), m.theme.key()));
        spans.push(Span::raw(format!("{h}  ")));
    }
    Line::from(spans)
}

/// A dialog box of `w` columns holding `lines` (wrapped), with a title and the keys below.
fn boxed(
    m: &Model,
    f: &mut Frame,
    area: Rect,
    w: u16,
    title: String,
    lines: Vec<Line<'static>>,
    ctx: Ctx,
) {
    let inner_w = w.saturating_sub(2).max(10) as usize;
    let mut all: Vec<Line<'static>> = Vec::new();
    for l in lines {
        all.extend(wrap(l.spans, inner_w, 2));
    }
    all.push(Line::from(""));
    all.extend(wrap(footer(m, ctx).spans, inner_w, 0));
    let h = (all.len() as u16 + 2).min(area.height.saturating_sub(2));
    let r = centered(area, w, h);
    f.render_widget(Clear, r);
    let block = Block::bordered().title(Span::styled(title, m.theme.title()));
    f.render_widget(Paragraph::new(all).block(block), r);
}

pub fn draw(m: &Model, d: &Dialog, f: &mut Frame, area: Rect) {
    let th = m.theme;
    match d {
        Dialog::Help { scroll, ctx } => help(m, *scroll, *ctx, f, area),
        Dialog::Messages { scroll } => {
            let r = centered(area, 100, area.height.saturating_sub(2));
            f.render_widget(Clear, r);
            let inner_w = r.width.saturating_sub(2) as usize;
            let mut lines: Vec<Line> = Vec::new();
            if m.log.is_empty() {
                lines.push(Line::from(Span::styled("no messages yet", th.dim())));
            }
            for (text, tone) in &m.log {
                lines.extend(wrap_text(
                    &format!("· {}", sanitize_line(text)),
                    tone_style(th, *tone),
                    inner_w,
                    2,
                ));
            }
            let h = r.height.saturating_sub(2) as usize;
            let max = lines.len().saturating_sub(h) as u16;
            let block = Block::bordered()
                .title(Span::styled(
                    " Messages of this session (newest last) ",
                    th.title(),
                ))
                .title_bottom(footer(m, Ctx::Messages));
            f.render_widget(
                Paragraph::new(lines)
                    .block(block)
                    .scroll(((*scroll).min(max), 0)),
                r,
            );
        }
        Dialog::Notice(text) => {
            let lines = text.lines().map(|l| Line::from(sanitize_line(l))).collect();
            boxed(m, f, area, 72, " assay ".into(), lines, Ctx::Notice);
        }
        Dialog::OfferSamples => {
            let lines = vec![
                Line::from("This workspace holds no rubrics and no portfolios yet."),
                Line::from(
                    "Load the built-in samples (their rubrics and a dozen portfolios) to try assay? They can stay beside your own work, or you can start afresh with a new workspace file.",
                ),
            ];
            boxed(
                m,
                f,
                area,
                70,
                " An empty workspace ".into(),
                lines,
                Ctx::OfferSamples,
            );
        }
        Dialog::Submit => {
            if let Some(a) = &m.assess {
                submit(m, a, f, area);
            }
        }
        Dialog::Bank {
            criterion,
            items,
            query,
            selected,
        } => {
            use crate::app::bank::Source;
            let r = centered(area, 90, area.height.saturating_sub(2));
            f.render_widget(Clear, r);
            let inner_w = r.width.saturating_sub(2).max(20) as usize;
            let shown = super::bank_visible(items, query);
            let mut lines: Vec<Line<'static>> = vec![Line::from(vec![
                Span::styled(" / ", th.key()),
                Span::raw(format!("{}▏", sanitize_line(query))),
                Span::styled(format!("   {} of {}", shown.len(), items.len()), th.dim()),
            ])];
            let h = r.height.saturating_sub(3) as usize;
            let off = selected.saturating_sub(h.saturating_sub(2));
            for (pos, &i) in shown.iter().enumerate().skip(off) {
                let c = &items[i];
                let from = match &c.source {
                    Source::Level(l) => format!("level {}", sanitize_line(l)),
                    Source::Criterion => "rubric".to_string(),
                    Source::Saved => "saved".to_string(),
                    Source::Mine(n) => format!("yours ×{n}"),
                };
                let style = if pos == *selected {
                    th.selected()
                } else {
                    Style::default()
                };
                let mut l = wrap(
                    vec![
                        Span::styled(
                            format!("{} ", crate::tui::widgets::pad(&from, 14)),
                            th.dim(),
                        ),
                        Span::styled(sanitize_line(&c.text), style),
                    ],
                    inner_w,
                    15,
                );
                // (a long comment shows its first three lines, and says it goes on)
                if l.len() > 3 {
                    l.truncate(3);
                    if let Some(last) = l.last_mut() {
                        last.spans.push(Span::styled("…", th.dim()));
                    }
                }
                lines.extend(l);
                if lines.len() > h {
                    break;
                }
            }
            let block = Block::bordered()
                .title(Span::styled(
                    format!(" Comment bank: {} ", sanitize_line(criterion)),
                    th.title(),
                ))
                .title_bottom(footer(m, Ctx::Bank));
            f.render_widget(Paragraph::new(lines).block(block), r);
        }
        Dialog::Confirm => {
            let Some(a) = &m.assess else { return };
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
                            .map(|g| format!(" ({})", sanitize_line(g)))
                            .unwrap_or_default(),
                        d.score
                    )
                })
                .unwrap_or_else(|| "—".into());
            let lines = vec![
                Line::from(format!(
                    "{} keeps the first marker's decision: {first}.",
                    a.id
                )),
                Line::from(
                    "The settlement is recorded in the audit chain under your name; the portfolio becomes moderated and may then be released.",
                ),
            ];
            boxed(
                m,
                f,
                area,
                70,
                " Confirm the first decision? ".into(),
                lines,
                Ctx::Confirm,
            );
        }
        Dialog::ConfirmRelease { count, waiting } => {
            let mut lines = vec![Line::from(format!(
                "Release {count} decision(s)? Released decisions are final: they can then be exported to the issuing system."
            ))];
            if *waiting > 0 {
                lines.push(Line::from(Span::styled(
                    format!("{waiting} other decision(s) wait (moderation not settled): they are not released."),
                    th.warn(),
                )));
            }
            boxed(
                m,
                f,
                area,
                70,
                " Release ".into(),
                lines,
                Ctx::ConfirmRelease,
            );
        }
        Dialog::ConfirmExport {
            format,
            count,
            target,
        } => {
            let lines = vec![
                Line::from(format!(
                    "Export {count} released decision(s) not yet exported as {} ({}).",
                    format.as_str(),
                    crate::tui::screen::export::about(*format)
                )),
                Line::from(format!("Files go to: {}", sanitize_line(target))),
                Line::from(Span::styled(
                    "The batch is recorded in the audit chain; the same decisions are not exported again in this format.",
                    th.dim(),
                )),
            ];
            boxed(m, f, area, 76, " Export ".into(), lines, Ctx::ConfirmExport);
        }
        Dialog::Refer { choice } => {
            let Some(a) = &m.assess else { return };
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
            lines.push(Line::from(Span::styled(
                "The rationale is internal: it is recorded, never sent to the learner.",
                th.dim(),
            )));
            boxed(
                m,
                f,
                area,
                72,
                " Refer or override ".into(),
                lines,
                Ctx::Refer,
            );
        }
        Dialog::Edit {
            target,
            area: ta,
            asking,
            ..
        } => {
            let r = centered(area, 76, 16);
            f.render_widget(Clear, r);
            let what = match target {
                EditTarget::Feedback(c) => format!(" Feedback on {c} (for the learner) "),
                EditTarget::Comment => " Overall comment (for the learner) ".to_string(),
                EditTarget::Rationale(o) => format!(" Rationale for {o} (internal) "),
                EditTarget::Amend => {
                    " Why amend the first decision to the second marks? (internal) ".to_string()
                }
            };
            let ctx = if *asking { Ctx::Discard } else { Ctx::Editor };
            let mut foot = footer(m, ctx);
            if !*asking {
                foot.spans.push(Span::styled("Enter new line", th.dim()));
            }
            let block = Block::bordered()
                .title(Span::styled(what, th.title()))
                .title_bottom(foot);
            let inner = block.inner(r);
            f.render_widget(block, r);
            let mut lines: Vec<Line> = Vec::new();
            if *asking {
                lines.push(Line::from(Span::styled(
                    "The text changed. Save it, discard the changes, or keep editing?",
                    th.warn(),
                )));
            }
            for (i, l) in ta.lines.iter().enumerate() {
                if i == ta.row && !*asking {
                    let b = l.char_indices().nth(ta.col).map_or(l.len(), |(i, _)| i);
                    let (before, after) = l.split_at(b);
                    let mut rest = after.chars();
                    let cur = rest
                        .next()
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| " ".into());
                    lines.push(Line::from(vec![
                        Span::raw(sanitize_line(before)),
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
                .saturating_sub(inner.height.saturating_sub(2) as usize);
            f.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((off as u16, 0)),
                inner,
            );
        }
    }
}

/// Help: the keys of where it was opened first, then every other place, then the symbols.
fn help(m: &Model, scroll: u16, here: Ctx, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let r = centered(area, 96, area.height.saturating_sub(2));
    f.render_widget(Clear, r);
    let inner_w = r.width.saturating_sub(2).max(20) as usize;
    let mut order: Vec<(Ctx, &str)> = PLACES.iter().copied().filter(|(c, _)| *c == here).collect();
    for p in keys::parents(here) {
        order.extend(PLACES.iter().copied().filter(|(c, _)| c == p));
    }
    let rest: Vec<(Ctx, &str)> = PLACES
        .iter()
        .copied()
        .filter(|(c, _)| !order.iter().any(|(o, _)| o == c))
        .collect();
    order.extend(rest);
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (i, (ctx, name)) in order.iter().enumerate() {
        let label = if i == 0 {
            format!("{name} — where you are")
        } else {
            name.to_string()
        };
        lines.push(Line::from(Span::styled(label, th.title())));
        // where help was opened, what does not work just now says so
        let here_too = *ctx == here || keys::parents(here).contains(ctx);
        for b in TABLE.iter().filter(|b| b.ctx == *ctx && !b.help.is_empty()) {
            let now = !here_too || crate::tui::update::on_screen(m, b.action);
            let mut spans = vec![
                Span::styled(
                    format!(" {:<12}", b.shown),
                    if now { th.key() } else { th.dim() },
                ),
                Span::styled(
                    b.help.to_string(),
                    if now { Style::default() } else { th.dim() },
                ),
            ];
            if !now {
                spans.push(Span::styled(" — not now".to_string(), th.dim()));
            }
            lines.extend(wrap(spans, inner_w, 14));
        }
        if *ctx == Ctx::Editor {
            lines.push(Line::from(
                " (typing) the text; Enter a new line; arrows, Home/End move",
            ));
        }
    }
    lines.push(Line::from(Span::styled("Symbols", th.title())));
    for (s, what) in SYMBOLS {
        lines.extend(wrap(
            vec![
                Span::styled(format!(" {s:<12}"), th.key()),
                Span::raw(what.to_string()),
            ],
            inner_w,
            14,
        ));
    }
    lines.extend(wrap_text(
        "Every change is saved the moment it is made; ✓ saved in the status line says the last one was committed.",
        th.dim(),
        inner_w,
        0,
    ));
    let h = r.height.saturating_sub(2) as usize;
    let max = lines.len().saturating_sub(h) as u16;
    let block = Block::bordered()
        .title(Span::styled(" Keys ", th.title()))
        .title_bottom(footer(m, Ctx::Help));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(max), 0)),
        r,
    );
}

fn submit(m: &Model, a: &Assess, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let e = &a.eval;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for c in &a.rubric.criteria {
        let (label, pts, meets) = match a.level_of(&c.id).and_then(|l| c.level(l)) {
            Some((i, l)) => (
                format!("{} ({}/{})", sanitize_line(&l.label), i + 1, c.levels.len()),
                l.points,
                l.meets,
            ),
            None => ("—".into(), 0, false),
        };
        lines.push(Line::from(vec![
            Span::raw(clip(
                &format!("{:<7} {}", c.id, sanitize_line(&c.title)),
                32,
            )),
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
                "You record {c} instead. Rationale (internal): {}",
                a.sheet
                    .rationale
                    .as_deref()
                    .map(sanitize_line)
                    .unwrap_or_else(|| "—".into())
            ),
            th.warn(),
        )));
    }
    boxed(
        m,
        f,
        area,
        78,
        format!(" Submit {}? Then it is frozen ", a.id),
        lines,
        Ctx::Submit,
    );
}
