//! Draws the agreement statistics: every figure `assay stats` prints, as values with bars
//! beside them (the bars are shapes, readable without colour).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::sanitize::sanitize_line;
use crate::tui::model::Model;
use crate::tui::widgets::{clip, pad, pane};

/// A figure with two decimals, or `—` when there are too few pairs.
pub fn fig(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
}

/// A bar of `w` cells for a share in 0..1 (eighths of a cell).
pub fn bar(v: Option<f64>, w: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let Some(x) = v else {
        return " ".repeat(w);
    };
    let eighths = (x.clamp(0.0, 1.0) * (w * 8) as f64).round() as usize;
    let full = eighths / 8;
    let mut s = "█".repeat(full);
    if full < w {
        s.push_str(PARTS[eighths % 8]);
    }
    pad(&s, w)
}

/// A signed figure with one decimal: `+0.9`, `-2.5`.
pub fn signed(v: Option<f64>) -> String {
    v.map(|x| format!("{x:+.1}")).unwrap_or_else(|| "—".into())
}

pub fn draw(m: &Model, f: &mut Frame, area: Rect) {
    let th = m.theme;
    let Some(s) = m.stats.get(m.stats_pos) else {
        f.render_widget(
            Paragraph::new(
                "No decisions yet: statistics appear once portfolios are submitted and second-marked.",
            )
            .style(th.dim())
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let block = pane(
        th,
        true,
        clip(
            &format!(
                " {}@{} · {} moderated pair(s){} ",
                sanitize_line(&s.rubric),
                sanitize_line(&s.version),
                s.pairs,
                if m.stats.len() > 1 {
                    format!(
                        " · rubric {}/{} (] [ change)",
                        m.stats_pos + 1,
                        m.stats.len()
                    )
                } else {
                    String::new()
                }
            ),
            area.width.saturating_sub(4) as usize,
        ),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bw = if inner.width >= 110 { 10 } else { 4 };
    let head = th.dim().add_modifier(Modifier::BOLD);
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::from(Span::styled(
        format!(
            "{}{:>4}  {}  {}  {:>5}  {}  {}",
            pad("criterion", 10),
            "n",
            pad("exact", 5 + bw),
            pad("adjacent", 5 + bw),
            "kappa",
            pad("w.kappa", 5 + bw),
            pad("alpha", 5 + bw),
        ),
        head,
    )));
    for c in &s.criteria {
        let p = &c.stats;
        let cell = |v: Option<f64>| format!("{:>4} {}", fig(v), bar(v, bw));
        lines.push(Line::from(vec![
            Span::raw(pad(&sanitize_line(&c.id), 10)),
            Span::raw(format!("{:>4}  ", p.n)),
            Span::styled(cell(p.exact), th.good()),
            Span::raw("  "),
            Span::styled(cell(p.adjacent), th.dim()),
            Span::raw(format!("  {:>5}  ", fig(p.kappa))),
            Span::styled(cell(p.weighted_kappa), th.title()),
            Span::raw("  "),
            Span::styled(cell(p.alpha), th.warn()),
        ]));
    }
    lines.push(Line::from(format!(
        "outcome: n {} · exact {} · kappa {}",
        s.outcome.n,
        fig(s.outcome.exact),
        fig(s.outcome.kappa)
    )));
    lines.push(Line::from(Span::styled(
        format!(
            "bars: a full bar is 1.00 (each █ is {:.2}); — too few pairs. Kappa: 0.41–0.60 moderate, 0.61–0.80 substantial, over 0.80 almost perfect.",
            1.0 / bw as f64
        ),
        th.dim(),
    )));
    lines.push(Line::from(""));
    let half = if inner.width >= 110 { 12 } else { 6 };
    lines.push(Line::from(Span::styled(
        format!(
            "{}{:>7} {:>9} {:>10}  {:>7}  {:>half$}│{}",
            pad("assessor", 14),
            "marked",
            "moderated",
            "mean diff",
            "changed",
            "severe",
            "lenient",
        ),
        head,
    )));
    for a in &s.assessors {
        let d = a.mean_score_difference;
        // a bar either side of zero: 20 points of difference fill a side
        let n = d
            .map(|x| ((x.abs() / 20.0).min(1.0) * half as f64).round() as usize)
            .unwrap_or(0);
        let (l, r) = match d {
            Some(x) if x < 0.0 => (
                format!(
                    "{}{}",
                    " ".repeat(half - n),
                    "◀".repeat(n.min(1)) + &"█".repeat(n.saturating_sub(1))
                ),
                " ".repeat(half),
            ),
            Some(_) => (
                " ".repeat(half),
                format!(
                    "{}{}",
                    "█".repeat(n.saturating_sub(1)) + &"▶".repeat(n.min(1)),
                    " ".repeat(half - n)
                ),
            ),
            None => (" ".repeat(half), " ".repeat(half)),
        };
        lines.push(Line::from(vec![
            Span::raw(pad(&sanitize_line(&a.assessor), 14)),
            Span::raw(format!(
                "{:>7} {:>9} {:>10}  {:>7}  ",
                a.marked,
                a.moderated,
                signed(d),
                a.changed
                    .map(|x| format!("{:.0}%", x * 100.0))
                    .unwrap_or_else(|| "—".into())
            )),
            Span::styled(l, th.bad()),
            Span::raw("│"),
            Span::styled(r, th.good()),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "mean diff: the first marker's score minus the moderator's (+ lenient, − severe); changed: the share of their moderated decisions amended.",
        th.dim(),
    )));
    let h = inner.height as usize;
    let scroll = usize::from(m.stats_scroll).min(lines.len().saturating_sub(h));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll as u16, 0)),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_keep_their_sign_and_bars_their_width() {
        assert_eq!(signed(Some(0.9)), "+0.9");
        assert_eq!(signed(Some(-2.46)), "-2.5");
        assert_eq!(signed(None), "—");
        for v in [0.0, 0.33, 0.5, 1.0, 7.0] {
            assert_eq!(crate::tui::widgets::width(&bar(Some(v), 4)), 4);
        }
        assert_eq!(bar(Some(1.0), 4), "████");
    }
}
