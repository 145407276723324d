//! Small drawing helpers shared by the screens: clipping with an ellipsis, word wrapping to
//! exact line counts (so a pane's scroll is known in `update` as in `view`), dialog placement.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;
use unicode_width::UnicodeWidthChar;

use super::model::Tone;
use super::theme::Theme;

/// Display width of a text.
pub fn width(s: &str) -> usize {
    // (as ratatui measures a span)
    unicode_width::UnicodeWidthStr::width(s)
}

/// `s` cut to `n` columns, an ellipsis where it was cut.
pub fn clip(s: &str, n: usize) -> String {
    if width(s) <= n {
        return s.to_string();
    }
    if n == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > n - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` padded with spaces (or clipped) to exactly `n` columns.
pub fn pad(s: &str, n: usize) -> String {
    let c = clip(s, n);
    let w = width(&c);
    format!("{c}{}", " ".repeat(n.saturating_sub(w)))
}

/// Spans cut to `n` columns in all, an ellipsis where they were cut.
pub fn fit_spans(spans: Vec<Span<'static>>, n: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut used = 0;
    for s in spans {
        let w = width(&s.content);
        if used + w <= n {
            used += w;
            out.push(s);
            continue;
        }
        let room = n.saturating_sub(used);
        if room > 0 {
            out.push(Span::styled(clip(&s.content, room), s.style));
        }
        break;
    }
    out
}

/// A rectangle of `w`×`h` centred in `area` (shrunk to fit).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn tone_style(th: Theme, t: Tone) -> Style {
    match t {
        Tone::Info => th.status_bar(),
        Tone::Good => th.good(),
        Tone::Bad => th.bad(),
    }
}

/// A bordered pane, its border and title bright when it has the keyboard.
pub fn pane(th: Theme, focused: bool, title: String) -> Block<'static> {
    Block::bordered()
        .border_style(th.border(focused))
        .title(Span::styled(
            title,
            if focused { th.title() } else { th.dim() },
        ))
}

/// Word-wraps styled text to `width` columns; continuation lines begin with `indent` spaces.
/// Words longer than a line are broken. Line breaks in the text start new lines. The count of
/// lines returned is what the pane shows, so scrolling can be bounded exactly.
pub fn wrap(spans: Vec<Span<'static>>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let indent = indent.min(width / 2);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut used = 0usize;
    // pieces: (text, style), words with their following spaces
    let mut pieces: Vec<(String, Style, bool)> = Vec::new(); // (word, style, newline-before)
    for s in spans {
        let style = s.style;
        let mut first = true;
        for part in s.content.split('\n') {
            if !first {
                pieces.push((String::new(), style, true));
            }
            first = false;
            let mut word = String::new();
            for c in part.chars() {
                word.push(c);
                if c == ' ' {
                    pieces.push((std::mem::take(&mut word), style, false));
                }
            }
            if !word.is_empty() {
                pieces.push((word, style, false));
            }
        }
    }
    let flush = |lines: &mut Vec<Line<'static>>, cur: &mut Vec<Span<'static>>| {
        lines.push(Line::from(std::mem::take(cur)));
    };
    for (word, style, newline) in pieces {
        if newline {
            flush(&mut lines, &mut cur);
            cur.push(Span::raw(" ".repeat(indent)));
            used = indent;
            continue;
        }
        let w = self::width(&word);
        let trimmed = self::width(word.trim_end());
        if used + trimmed > width && used > indent {
            flush(&mut lines, &mut cur);
            cur.push(Span::raw(" ".repeat(indent)));
            used = indent;
            if word.trim().is_empty() {
                continue;
            }
        }
        if used + trimmed <= width {
            cur.push(Span::styled(word, style));
            used += w;
            continue;
        }
        // a word longer than the line: broken
        let mut chunk = String::new();
        for c in word.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width {
                cur.push(Span::styled(std::mem::take(&mut chunk), style));
                flush(&mut lines, &mut cur);
                cur.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            chunk.push(c);
            used += cw;
        }
        if !chunk.is_empty() {
            cur.push(Span::styled(chunk, style));
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        flush(&mut lines, &mut cur);
    }
    lines
}

/// Wraps plain text in one style.
pub fn wrap_text(text: &str, style: Style, width: usize, indent: usize) -> Vec<Line<'static>> {
    wrap(vec![Span::styled(text.to_string(), style)], width, indent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(l: &Line) -> String {
        l.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let t = "The learner explains how consent was obtained and records each step in a log that anyone can read";
        for w in [10, 17, 30, 80] {
            let lines = wrap_text(t, Style::default(), w, 2);
            for l in &lines {
                assert!(width(text(l).trim_end()) <= w, "{w}: {:?}", text(l));
            }
            let joined: String = lines.iter().map(|l| text(l)).collect::<Vec<_>>().join(" ");
            for word in t.split(' ') {
                assert!(joined.contains(word), "{word} lost at {w}");
            }
        }
        let long = wrap_text(&"x".repeat(25), Style::default(), 10, 0);
        assert_eq!(long.len(), 3);
        assert_eq!(wrap_text("a\nb", Style::default(), 10, 0).len(), 2);
    }

    #[test]
    fn clipping_says_so() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(pad("ab", 4), "ab  ");
    }
}
