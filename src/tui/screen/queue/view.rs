//! Draws the queue: the filter line, the table of portfolios (only the rows on screen are
//! built), and its status line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::domain::sanitize::sanitize_line;
use crate::tui::model::{Model, QueueRow};
use crate::tui::widgets::{clip, pad};

/// A column: header, width (None: shares what is left, by weight), and the cell of a row.
struct Col {
    head: &'static str,
    width: Option<usize>,
    weight: usize,
    cell: fn(&QueueRow) -> String,
}

fn columns(width: usize, moderation: bool) -> Vec<Col> {
    let id = Col {
        head: " ID",
        width: Some(13),
        weight: 0,
        cell: |r| format!("{}{}", if r.mine { "•" } else { " " }, r.id),
    };
    let learner = Col {
        head: "LEARNER",
        width: None,
        weight: 3,
        cell: |r| r.learner.to_string(),
    };
    let rubric = Col {
        head: "RUBRIC",
        width: None,
        weight: 3,
        cell: |r| r.rubric.to_string(),
    };
    let submitted = Col {
        head: "SUBMITTED",
        width: Some(10),
        weight: 0,
        cell: |r| r.submitted.to_string(),
    };
    let status = Col {
        head: "STATUS",
        width: Some(11),
        weight: 0,
        cell: |r| r.status.to_string(),
    };
    let outcome = Col {
        head: "OUTCOME",
        width: Some(8),
        weight: 0,
        cell: |r| r.outcome.to_string(),
    };
    let stage = Col {
        head: "STAGE",
        width: Some(21),
        weight: 0,
        cell: |r| r.stage().to_string(),
    };
    let score = Col {
        head: "SCORE",
        width: Some(6),
        weight: 0,
        cell: |r| r.score.map(|x| format!("{x:.2}")).unwrap_or_default(),
    };
    let grade = Col {
        head: "GRADE",
        width: Some(11),
        weight: 0,
        cell: |r| r.grade.to_string(),
    };
    let assessor = Col {
        head: "ASSESSOR",
        width: None,
        weight: 2,
        cell: |r| r.assessor.to_string(),
    };
    let mut cols = vec![id, learner, rubric];
    if moderation {
        cols.extend([status, stage]);
        if width >= 110 {
            cols.push(assessor);
        }
        return cols;
    }
    if width >= 100 {
        cols.push(submitted);
    }
    cols.extend([status, outcome]);
    if width >= 100 {
        cols.push(score);
    }
    if width >= 120 {
        cols.push(grade);
    }
    if width >= 100 {
        cols.push(assessor);
    }
    cols
}

/// The widths of the columns for `total` columns of screen (one space between columns).
fn widths(cols: &[Col], total: usize) -> Vec<usize> {
    let fixed: usize = cols.iter().filter_map(|c| c.width).sum::<usize>() + cols.len() - 1;
    let left = total.saturating_sub(fixed);
    let weights: usize = cols
        .iter()
        .filter(|c| c.width.is_none())
        .map(|c| c.weight)
        .sum();
    // the columns that share what is left, by weight; what rounding leaves over goes one
    // column each to the first of them
    let share = |c: &Col| left * c.weight / weights.max(1);
    let given: usize = cols.iter().filter(|c| c.width.is_none()).map(share).sum();
    let mut extra = left.saturating_sub(given);
    cols.iter()
        .map(|c| match c.width {
            Some(w) => w,
            None => {
                let bonus = usize::from(extra > 0);
                extra -= bonus;
                (share(c) + bonus).max(4)
            }
        })
        .collect()
}

pub fn draw(m: &Model, f: &mut Frame, area: Rect) {
    let q = &m.queue;
    let th = m.theme;
    let show_filter = q.typing || !q.filter.is_empty();
    let [filter_area, table_area] = Layout::vertical([
        Constraint::Length(if show_filter { 1 } else { 0 }),
        Constraint::Min(1),
    ])
    .areas(area);
    if show_filter {
        let state = if q.filtering && q.results_gen == q.filter_gen {
            format!("{} match(es) so far, filtering…", q.visible.len())
        } else if q.filtering {
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
    let title = format!(
        " {} · status {} · rubric {} ",
        if q.moderation {
            "moderation: drawn portfolios"
        } else {
            "portfolios"
        },
        q.status_filter.as_deref().unwrap_or("all"),
        q.rubric_filter.as_deref().unwrap_or("all")
    );
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(th.dim())
        .title(Span::styled(
            clip(&title, table_area.width.saturating_sub(2) as usize),
            th.dim(),
        ));
    let inner = block.inner(table_area);
    f.render_widget(block, table_area);
    if q.visible.is_empty() {
        let msg = if q.keys.is_empty() {
            "The workspace holds no portfolios yet. Import some with `assay import FOLDER` (see `assay import --help`)."
        } else if q.filtering {
            "filtering…"
        } else {
            "Nothing matches. Esc clears the filters."
        };
        f.render_widget(
            Paragraph::new(msg)
                .style(th.dim())
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let w = inner.width as usize;
    let cols = columns(w, q.moderation);
    let ws = widths(&cols, w);
    let mut lines: Vec<Line> = Vec::new();
    let head: Vec<String> = cols.iter().zip(&ws).map(|(c, w)| pad(c.head, *w)).collect();
    lines.push(Line::from(Span::styled(
        head.join(" "),
        th.dim().add_modifier(Modifier::BOLD),
    )));
    let rows_h = inner.height.saturating_sub(1) as usize;
    // Only the rows on screen are built, whatever the size of the queue.
    let offset = q.selected.saturating_sub(rows_h.saturating_sub(1));
    for (pos, i) in q.visible.iter().enumerate().skip(offset).take(rows_h) {
        let selected = pos == q.selected;
        // (a row not read yet — the runtime reads the screen's rows before it is drawn)
        let Some(r) = q.shown.get(&q.keys[i].pk) else {
            let line = Line::from(Span::styled(" …", th.dim()));
            lines.push(if selected {
                line.style(th.selected())
            } else {
                line
            });
            continue;
        };
        let mut spans = Vec::new();
        for (k, (c, w)) in cols.iter().zip(&ws).enumerate() {
            if k > 0 {
                spans.push(Span::raw(" "));
            }
            let text = pad(&(c.cell)(r), *w);
            let style = if selected {
                Style::default()
            } else if c.head == "OUTCOME" {
                match &*r.outcome {
                    "awarded" => th.good(),
                    "not_yet" => th.warn(),
                    "referred" => th.bad(),
                    _ => th.dim(),
                }
            } else {
                Style::default()
            };
            spans.push(Span::styled(text, style));
        }
        let mut line = Line::from(spans);
        if selected {
            line = line.style(th.selected());
        }
        lines.push(line);
    }
    f.render_widget(Paragraph::new(lines), inner);
}

pub fn status(m: &Model, f: &mut Frame, area: Rect) {
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
    let (label, counts) = match &q.shown_counts {
        Some(c) => ("shown: ", c),
        None => ("", &q.counts),
    };
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
    let total: i64 = q.counts.iter().map(|(_, n)| n).sum();
    let mut text = format!(" {label}{}", counts.join(" · "));
    if q.shown_counts.is_some() {
        text.push_str(&format!(" (of {total})"));
    }
    spans.push(Span::styled(
        clip(&text, (area.width as usize).saturating_sub(12)),
        th.status_bar(),
    ));
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(th.status_bar()),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width_exactly() {
        for w in [78usize, 80, 100, 118, 120, 200] {
            for moderation in [false, true] {
                let cols = columns(w, moderation);
                let ws = widths(&cols, w);
                let used: usize = ws.iter().sum::<usize>() + ws.len() - 1;
                assert!(used <= w, "{w} {moderation}: {used}");
            }
        }
        let wide: Vec<&str> = columns(120, false).iter().map(|c| c.head).collect();
        for h in ["SCORE", "GRADE", "ASSESSOR"] {
            assert!(wide.contains(&h), "{wide:?}");
        }
    }
}
