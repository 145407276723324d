//! Draws release and export: what release would do, the formats with what is ready and where
//! the files go, the gauge of the run under way and the summary of the last.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Wrap};

use super::about;
use crate::domain::sanitize::sanitize_line;
use crate::tui::model::Model;
use crate::tui::widgets::{clip, pad, pane};

pub fn draw(m: &Model, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let e = &m.export;
    let rel_h = 4;
    let [rel, list, gauge, result] = Layout::vertical([
        Constraint::Length(rel_h),
        Constraint::Length(e.ready.len().max(1) as u16 + 4),
        Constraint::Length(3),
        Constraint::Min(1),
    ])
    .areas(area);
    // release
    let block = pane(th, false, " Release (l) ".into());
    let inner = block.inner(rel);
    f.render_widget(block, rel);
    let text = match &e.release {
        None => vec![Line::from(Span::styled("counting…", th.dim()))],
        Some((ready, waiting)) => {
            let mut l = vec![Line::from(format!(
                "{} decision(s) ready to release{}",
                ready.len(),
                if ready.is_empty() {
                    ""
                } else {
                    ": l releases them (asks first)"
                }
            ))];
            if !waiting.is_empty() {
                l.push(Line::from(Span::styled(
                    clip(
                        &format!(
                            "{} wait: {}",
                            waiting.len(),
                            waiting
                                .iter()
                                .take(4)
                                .map(|w| format!("{} ({})", w.id, w.why))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        inner.width as usize,
                    ),
                    th.warn(),
                )));
            }
            l
        }
    };
    f.render_widget(Paragraph::new(text), inner);
    // formats
    let block = pane(
        th,
        true,
        " Export: released decisions not yet exported, per format (Enter exports, asks first) "
            .into(),
    );
    let inner = block.inner(list);
    f.render_widget(block, list);
    let w = inner.width as usize;
    let mut lines = vec![Line::from(Span::styled(
        format!("{} {} {}", pad("format", 9), pad("new", 9), "what · where"),
        th.dim().add_modifier(Modifier::BOLD),
    ))];
    if e.ready.is_empty() {
        lines.push(Line::from(Span::styled("counting…", th.dim())));
    }
    for (i, (fmt, n)) in e.ready.iter().enumerate() {
        let target = e
            .targets
            .iter()
            .find(|(g, _)| g == fmt)
            .map(|(_, t)| sanitize_line(t))
            .unwrap_or_default();
        let text = format!(
            "{} {} {}",
            pad(fmt.as_str(), 9),
            pad(&format!("{n} ready"), 9),
            clip(&format!("{} → {target}", about(*fmt)), w.saturating_sub(20))
        );
        let style = if i == e.selected {
            th.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(Span::styled(pad(&text, w), style)));
    }
    if let Some((fmt, _)) = e.ready.get(e.selected)
        && let Some((_, t)) = e.targets.iter().find(|(g, _)| g == fmt)
    {
        lines.push(Line::from(Span::styled(
            clip(
                &format!("{} files go to: {}", fmt.as_str(), sanitize_line(t)),
                w,
            ),
            th.dim(),
        )));
    }
    f.render_widget(Paragraph::new(lines), inner);
    if let Some((what, done, total)) = &e.running {
        let ratio = if *total == 0 {
            0.0
        } else {
            *done as f64 / *total as f64
        };
        let g = Gauge::default()
            .block(Block::bordered().title(format!(" {what} ")))
            .gauge_style(th.good())
            .ratio(ratio.clamp(0.0, 1.0))
            .label(if *total == 0 {
                "working…".to_string()
            } else {
                format!("{done}/{total}")
            });
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
