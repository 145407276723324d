//! Drawing an evidence view: the text (wrapped rows, or sideways rows with a marker where a line
//! goes on past the edge), a table with its header row kept on top, search highlights, and one
//! status row. Only what is on screen is laid out.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use super::doc::{Doc, Laid, MatchPos, Params};
use super::layout::{graphemes, width};
use super::markdown::{Run, Sty, clip};
use super::matcher::Matcher;
use super::text::Text;
use super::view::{EvidenceView, Position, Top};
use crate::tui::theme::Theme;

/// Drawn at the left edge of a row scrolled sideways, and at the right edge of a row that goes on.
pub const MORE_LEFT: &str = "‹";
pub const MORE_RIGHT: &str = "›";

/// The styles of the evidence view under a theme. Highlights never rely on colour alone: a match
/// is underlined, the current match reversed and bold.
pub struct Styles {
    pub base: Style,
    pub dim: Style,
    pub marker: Style,
    pub matched: Style,
    pub current: Style,
    pub header: Style,
    pub status: Style,
    pub status_key: Style,
}

impl Styles {
    pub fn of(t: &Theme) -> Styles {
        if t.mono {
            Styles {
                base: Style::default(),
                dim: Style::default(),
                marker: Style::default().add_modifier(Modifier::REVERSED),
                matched: Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
                current: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
                header: Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                status: t.status_bar(),
                status_key: t.status_bar().add_modifier(Modifier::BOLD),
            }
        } else {
            Styles {
                base: Style::default(),
                dim: t.dim(),
                marker: Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                matched: Style::default()
                    .bg(Color::Yellow)
                    .fg(Color::Black)
                    .add_modifier(Modifier::UNDERLINED),
                current: Style::default()
                    .bg(Color::LightRed)
                    .fg(Color::Black)
                    .add_modifier(Modifier::REVERSED | Modifier::BOLD),
                header: Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                status: t.status_bar(),
                status_key: t.status_bar().add_modifier(Modifier::BOLD),
            }
        }
    }

    /// The style of a Markdown run.
    fn md(&self, s: Sty, mono: bool) -> Style {
        let mut st = Style::default();
        let fg = |c: Color| {
            if mono {
                Style::default()
            } else {
                Style::default().fg(c)
            }
        };
        if s.has(Sty::H1) {
            st = st
                .patch(fg(Color::Cyan))
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
        }
        if s.has(Sty::H2) {
            st = st.patch(fg(Color::Cyan)).add_modifier(Modifier::BOLD);
        }
        if s.has(Sty::H3) {
            st = st.add_modifier(Modifier::BOLD);
        }
        if s.has(Sty::BOLD) {
            st = st.add_modifier(Modifier::BOLD);
        }
        if s.has(Sty::ITALIC) {
            st = st.add_modifier(Modifier::ITALIC);
        }
        if s.has(Sty::STRIKE) {
            st = st.add_modifier(Modifier::CROSSED_OUT);
        }
        if s.has(Sty::CODE) {
            st = st.patch(fg(Color::LightYellow));
        }
        if s.has(Sty::LINK) {
            st = st
                .patch(fg(Color::LightBlue))
                .add_modifier(Modifier::UNDERLINED);
        }
        if s.has(Sty::URL) || s.has(Sty::DIM) || s.has(Sty::BORDER) {
            st = st.patch(self.dim);
        }
        if s.has(Sty::QUOTE) {
            st = st.patch(fg(Color::Green));
        }
        if s.has(Sty::MARKER) {
            st = st.patch(fg(Color::Yellow)).add_modifier(Modifier::BOLD);
        }
        if s.has(Sty::HEADER) {
            st = st.add_modifier(Modifier::BOLD);
        }
        st
    }
}

/// A highlight: a byte range of a text and whether it is the current match.
type Hl = (u32, u32, bool);

/// Draws `text[range]` on row `y` from column `x`, `w` columns wide, skipping its first `skip`
/// columns; styled by `runs` (Markdown) and highlights. Returns (whether something was cut on the
/// left, whether something goes on past the right edge, the columns drawn).
#[allow(clippy::too_many_arguments)]
fn draw_text(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    w: u16,
    text: &str,
    range: (u32, u32),
    skip: u64,
    runs: &[Run],
    hls: &[Hl],
    st: &Styles,
    mono: bool,
) -> (bool, bool, u16) {
    let (a, b) = (range.0 as usize, range.1 as usize);
    let part = &text[a..b];
    let mut col = 0u64;
    let mut cut_left = false;
    let mut more = false;
    let mut drawn = 0u16;
    let mut ri = 0usize;
    let limit = skip + u64::from(w);
    graphemes(part, |s, e, gw| {
        if more || gw == 0 {
            return;
        }
        let gw64 = u64::from(gw);
        let c = col;
        col += gw64;
        if c < skip {
            cut_left = true;
            if c + gw64 > skip {
                // a wide character cut by the left edge: its visible half is blank
                drawn = (c + gw64 - skip) as u16;
            }
            return;
        }
        if c + gw64 > limit {
            more = true;
            return;
        }
        let at = (a + s) as u32;
        while ri < runs.len() && runs[ri].end <= at {
            ri += 1;
        }
        let mut style = st.base;
        if let Some(r) = runs.get(ri)
            && r.start <= at
        {
            style = style.patch(st.md(r.sty, mono));
        }
        for &(hs, he, cur) in hls {
            if hs <= at && at < he {
                style = style.patch(if cur { st.current } else { st.matched });
            }
        }
        let cx = x + (c - skip) as u16;
        buf.set_stringn(cx, y, &part[s..e], usize::from(gw), style);
        drawn = (c + gw64 - skip) as u16;
    });
    (cut_left, more, drawn)
}

/// The highlights of matches of `m` in `text` (segment `seg` of line `l`).
fn highlights(
    m: Option<&Matcher>,
    text: &str,
    l: u64,
    seg: u32,
    current: Option<MatchPos>,
) -> Vec<Hl> {
    let Some(m) = m else { return Vec::new() };
    m.find_all(text)
        .into_iter()
        .map(|(s, e)| {
            let cur = current.is_some_and(|c| c.line == l && c.seg == seg && c.start as usize == s);
            (s as u32, e as u32, cur)
        })
        .collect()
}

fn marker(buf: &mut Buffer, x: u16, y: u16, s: &str, st: &Styles) {
    buf.set_stringn(x, y, s, 1, st.marker);
}

/// Draws the view of `doc` in `area`: text rows, then one status row.
pub fn render(view: &EvidenceView, doc: &Doc, area: Rect, buf: &mut Buffer, theme: &Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let st = Styles::of(theme);
    buf.set_style(area, st.base);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            buf[(x, y)].set_symbol(" ");
        }
    }
    let text_h = area.height.saturating_sub(1);
    let body = Rect {
        height: text_h,
        ..area
    };
    let status = Rect {
        y: area.y + text_h,
        height: 1,
        ..area
    };
    let matcher = view.highlight();
    let current = if view.input().is_some() {
        None
    } else {
        view.search().and_then(|s| s.current())
    };
    if doc.is_empty() {
        buf.set_stringn(body.x, body.y, "(empty)", usize::from(body.width), st.dim);
    } else if doc.table().is_some() {
        draw_table(view, doc, body, buf, &st, matcher.as_ref(), current);
    } else {
        draw_lines(
            view,
            doc,
            body,
            buf,
            &st,
            theme.mono,
            matcher.as_ref(),
            current,
        );
    }
    draw_status(view, doc, status, buf, &st);
}

#[allow(clippy::too_many_arguments)]
fn draw_lines(
    view: &EvidenceView,
    doc: &Doc,
    body: Rect,
    buf: &mut Buffer,
    st: &Styles,
    mono: bool,
    m: Option<&Matcher>,
    current: Option<MatchPos>,
) {
    let p = Params {
        width: body.width,
        wrap: view.wrap(),
    };
    let w = body.width;
    let skip = view.hscroll();
    let Top { line, row } = view.top();
    let mut l = Some(line);
    let mut first_row = row;
    let mut y = body.y;
    while let Some(at) = l {
        if y >= body.bottom() {
            break;
        }
        match doc.laid(at, p) {
            Laid::Lines {
                text,
                runs,
                cont,
                cont_runs,
                wrapped,
                rule,
            } => {
                if rule {
                    let bar = "─".repeat(usize::from(w));
                    buf.set_stringn(body.x, y, &bar, usize::from(w), st.dim);
                    y += 1;
                } else {
                    let hls = highlights(m, &text, at, 0, current);
                    let start = (first_row as usize).min(wrapped.rows.len().saturating_sub(1));
                    for (i, &r) in wrapped.rows.iter().enumerate().skip(start) {
                        if y >= body.bottom() {
                            break;
                        }
                        if wrapped.sideways {
                            let has_left = width(&text) > 0;
                            sideways(
                                buf,
                                st,
                                (body.x, y, w),
                                skip,
                                has_left,
                                |buf, x, room, skip| {
                                    draw_text(buf, x, y, room, &text, r, skip, runs, &hls, st, mono)
                                        .1
                                },
                            );
                        } else {
                            let mut x = body.x;
                            let mut room = w;
                            if i > 0 && wrapped.cont > 0 {
                                let cw = wrapped.cont.min(w);
                                let clen = cont.len() as u32;
                                draw_text(
                                    buf,
                                    x,
                                    y,
                                    cw,
                                    cont,
                                    (0, clen),
                                    0,
                                    cont_runs,
                                    &[],
                                    st,
                                    mono,
                                );
                                x += cw;
                                room -= cw;
                            }
                            draw_text(buf, x, y, room, &text, r, 0, runs, &hls, st, mono);
                        }
                        y += 1;
                    }
                }
            }
            Laid::Long { l: ls, end } => {
                sideways(buf, st, (body.x, y, w), skip, true, |buf, x, room, skip| {
                    long_pieces(
                        doc,
                        buf,
                        (ls, end),
                        (x, y, room),
                        skip,
                        st,
                        mono,
                        m,
                        current,
                    )
                });
                y += 1;
            }
            Laid::Record { .. } => {}
        }
        first_row = 0;
        l = doc.next(at);
    }
}

/// Clears `w` cells of row `y` from `x`.
fn clear(buf: &mut Buffer, x: u16, y: u16, w: u16) {
    for cx in x..x + w {
        buf[(cx, y)].reset();
    }
}

/// Draws a row that scrolls sideways, `skip` columns in: `draw(buf, x, room, skip)` draws the
/// text and says whether more goes on past `room`. A marker takes the first column when the row
/// is scrolled (and has text), and the last one when the text goes on.
fn sideways(
    buf: &mut Buffer,
    st: &Styles,
    (x, y, w): (u16, u16, u16),
    skip: u64,
    has_left: bool,
    mut draw: impl FnMut(&mut Buffer, u16, u16, u64) -> bool,
) {
    if w == 0 {
        return;
    }
    let left = u16::from(skip > 0 && has_left && w > 1);
    let (x0, room, skip0) = (x + left, w - left, skip + u64::from(left));
    let more = draw(buf, x0, room, skip0);
    if more && room > 1 {
        clear(buf, x0, y, room);
        draw(buf, x0, room - 1, skip0);
    }
    if left == 1 {
        marker(buf, x, y, MORE_LEFT, st);
    }
    if more {
        marker(buf, x + w - 1, y, MORE_RIGHT, st);
    }
}

/// Draws, from column `skip` of the long line `l..end`, the pieces that fill `room` columns;
/// says whether the line goes on past them.
#[allow(clippy::too_many_arguments)]
fn long_pieces(
    doc: &Doc,
    buf: &mut Buffer,
    (l, end): (u64, u64),
    (x, y, room): (u16, u16, u16),
    skip: u64,
    st: &Styles,
    mono: bool,
    m: Option<&Matcher>,
    current: Option<MatchPos>,
) -> bool {
    let Some(t) = doc.text() else { return false };
    let src = doc.src();
    let n = Text::pieces(l, end);
    let (mut k, col_k) = t.piece_at_col(src, l, end, skip);
    let mut piece_skip = skip.saturating_sub(col_k);
    let mut cx = x;
    let mut left = room;
    while k < n && left > 0 {
        let piece = Text::piece(src, l, end, k);
        let hls = highlights(m, &piece, l, k, current);
        let len = piece.len() as u32;
        let (_, more, drawn) = draw_text(
            buf,
            cx,
            y,
            left,
            &piece,
            (0, len),
            piece_skip,
            &[],
            &hls,
            st,
            mono,
        );
        cx += drawn;
        left -= drawn.min(left);
        piece_skip = piece_skip.saturating_sub(width(&piece));
        k += 1;
        if more {
            return true;
        }
    }
    // (the room is full: more if any piece with text is left)
    k < n && (k..n).any(|j| !Text::piece(src, l, end, j).is_empty())
}

/// Draws a table: the header row, then records from the top, columns from the first shown.
#[allow(clippy::too_many_arguments)]
fn draw_table(
    view: &EvidenceView,
    doc: &Doc,
    body: Rect,
    buf: &mut Buffer,
    st: &Styles,
    m: Option<&Matcher>,
    current: Option<MatchPos>,
) {
    let Some(t) = doc.table() else { return };
    if body.height == 0 {
        return;
    }
    let first_col = view.hscroll() as usize;
    let row = |buf: &mut Buffer, y: u16, cells: &[String], l: Option<u64>| {
        let head = l.is_none();
        let mut x = 0u64;
        let w = u64::from(body.width);
        let ncols = cells.len().max(t.widths.len());
        let mut more = false;
        for (i, c) in (first_col..ncols).map(|i| (i, cells.get(i).map_or("", String::as_str))) {
            if x >= w {
                more = true;
                break;
            }
            let cw = t.width_of(i);
            let shown = clip(c, cw);
            let cut = if shown.len() == c.len() {
                c.len()
            } else {
                shown.len() - "…".len()
            };
            let pad = cw - width(&shown);
            let lead = if t.numeric.get(i) == Some(&true) && !head {
                pad
            } else {
                0
            };
            let mut hls: Vec<Hl> = Vec::new();
            if let (Some(m), Some(l)) = (m, l) {
                for (s, e) in m.find_all(c) {
                    let cur = current
                        .is_some_and(|k| k.line == l && k.seg == i as u32 && k.start as usize == s);
                    if s < cut {
                        hls.push((s as u32, e.min(cut) as u32, cur));
                    } else {
                        hls.push((cut as u32, shown.len() as u32, cur));
                    }
                }
            }
            let cell_x = x + 1 + lead;
            let style = if head { st.header } else { st.base };
            if cell_x < w {
                let room = (w - cell_x).min(cw) as u16;
                let len = shown.len() as u32;
                let (_, cut_more, _) = draw_text(
                    buf,
                    body.x + cell_x as u16,
                    y,
                    room,
                    &shown,
                    (0, len),
                    0,
                    &[],
                    &hls,
                    st,
                    false,
                );
                if head {
                    let span = Rect {
                        x: body.x + cell_x as u16,
                        y,
                        width: room.min(width(&shown) as u16),
                        height: 1,
                    };
                    buf.set_style(span, style);
                }
                more |= cut_more || cell_x + cw > w;
            }
            let sep_x = x + cw + 2;
            if sep_x < w {
                buf.set_stringn(body.x + sep_x as u16, y, "│", 1, st.dim);
            } else {
                more |= i + 1 < ncols || sep_x > w;
            }
            x += cw + 3;
        }
        if first_col > 0 {
            marker(buf, body.x, y, MORE_LEFT, st);
        }
        if more {
            marker(buf, body.x + body.width - 1, y, MORE_RIGHT, st);
        }
    };
    row(buf, body.y, &t.head, None);
    let mut l = Some(view.top().line);
    let mut y = body.y + 1;
    while let Some(at) = l {
        if y >= body.bottom() {
            break;
        }
        if let Laid::Record { cells } = doc.laid(at, view_params(view, body.width)) {
            row(buf, y, &cells, Some(at));
        }
        y += 1;
        l = doc.next(at);
    }
}

fn view_params(view: &EvidenceView, width: u16) -> Params {
    Params {
        width,
        wrap: view.wrap(),
    }
}

/// `n` with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The status row's text: (left part, right part).
pub fn status_text(view: &EvidenceView, doc: &Doc) -> (String, String) {
    let table = doc.table().is_some();
    let unit = if table { "rows" } else { "lines" };
    let pos = match view.position(doc) {
        Position::Empty => "empty".to_string(),
        Position::Rows { first, last, total } => {
            let pct = (last * 100).checked_div(total).unwrap_or(100);
            format!(
                "{unit} {}–{}/{} {pct}%",
                thousands(first),
                thousands(last),
                thousands(total)
            )
        }
        Position::Percent { first, pct } => match first {
            Some(a) => format!("{} {}… {pct}%", unit.trim_end_matches('s'), thousands(a)),
            None => format!("{pct}% (counting lines…)"),
        },
    };
    let mut left = format!(" {pos}");
    if let Some(q) = view.input() {
        left.push_str(&format!(" │ find: {q}▏ Enter search · Esc cancel"));
    } else if let Some(s) = view.search() {
        let q = s.query();
        let (rank, n, done) = s.counts();
        let what = if s.seeking() {
            "searching…".to_string()
        } else if view.revealing() {
            "finding its column in the long line…".to_string()
        } else if s.current().is_none() {
            if done && n == 0 {
                "no match".to_string()
            } else {
                "no match here".to_string()
            }
        } else {
            match (rank, done) {
                (Some(k), true) => format!("{} of {}", thousands(k), thousands(n)),
                (Some(k), false) => format!("{} of {}+", thousands(k), thousands(n)),
                (None, _) => format!("match ({}+ so far)", thousands(n)),
            }
        };
        left.push_str(&format!(" │ “{q}” {what}"));
    }
    // (the view's messages are the caller's to show: the workbench puts them on its message
    // line, where they are never cut)
    let mut right = doc.label();
    if !table {
        right.push_str(if view.wrap() {
            " · wrap"
        } else {
            " · no wrap"
        });
    }
    if let Some(n) = doc.note() {
        right = format!("{n} · {right}");
    }
    (left, format!("{right} "))
}

fn draw_status(view: &EvidenceView, doc: &Doc, area: Rect, buf: &mut Buffer, st: &Styles) {
    buf.set_style(area, st.status);
    let (left, right) = status_text(view, doc);
    let w = u64::from(area.width);
    let (lw, rw) = (width(&left), width(&right));
    buf.set_stringn(
        area.x,
        area.y,
        &left,
        usize::from(area.width),
        st.status_key,
    );
    if lw + rw < w {
        let x = area.x + (w - rw) as u16;
        buf.set_stringn(x, area.y, &right, rw as usize, st.status);
    }
}
