//! Tests of the evidence view from the outside: documents, key sequences, what reaches the
//! buffer.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;

use super::layout::{self, UNBROKEN};
use super::render::{MORE_LEFT, MORE_RIGHT, status_text};
use super::*;
use crate::domain::sanitize::is_forbidden_char;
use crate::tui::theme::Theme;

const COLOUR: Theme = Theme { mono: false };
const MONO: Theme = Theme { mono: true };

/// Deterministic words.
struct Words(u64);
impl Words {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn word(&mut self) -> &'static str {
        const W: &[&str] = &[
            "the",
            "learner",
            "evidence",
            "shows",
            "a",
            "clear",
            "grasp",
            "of",
            "criteria",
            "and",
            "reflects",
            "on",
            "practice",
            "with",
            "examples",
            "from",
            "placement",
            "work",
            "assessor",
            "notes",
            "that",
            "portfolio",
            "is",
            "complete",
            "well",
            "structured",
        ];
        W[(self.next() % W.len() as u64) as usize]
    }
    /// A line of about `n` bytes of words.
    fn line(&mut self, n: usize) -> String {
        let mut s = String::new();
        while s.len() < n {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(self.word());
        }
        s
    }
}

fn open(name: &str, bytes: impl Into<Vec<u8>>) -> Doc {
    Doc::open(name, bytes.into())
}

/// A view of `doc` for a pane of `w`×`h` (text rows and the status row), counted.
fn view(doc: &Doc, w: u16, h: u16) -> EvidenceView {
    let mut v = EvidenceView::new(doc);
    v.resize(doc, w, h);
    v.finish(doc);
    v
}

fn draw(v: &EvidenceView, doc: &Doc, w: u16, h: u16, theme: &Theme) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    render(v, doc, area, &mut buf, theme);
    buf
}

fn rows_of(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (a.top()..a.bottom())
        .map(|y| {
            let mut s = String::new();
            let mut x = a.left();
            while x < a.right() {
                let c = &buf[(x, y)];
                s.push_str(c.symbol());
                // (the cells a wide character covers are not drawn)
                x += unicode_width::UnicodeWidthStr::width(c.symbol()).max(1) as u16;
            }
            s.trim_end().to_string()
        })
        .collect()
}

fn screen(v: &EvidenceView, doc: &Doc, w: u16, h: u16) -> Vec<String> {
    rows_of(&draw(v, doc, w, h, &COLOUR))
}

fn key(v: &mut EvidenceView, doc: &Doc, code: KeyCode) -> bool {
    v.key(doc, KeyEvent::new(code, KeyModifiers::NONE))
}

fn keys(v: &mut EvidenceView, doc: &Doc, codes: &[KeyCode]) {
    for &c in codes {
        assert!(key(v, doc, c), "{c:?} not handled");
        v.finish(doc);
    }
}

fn type_query(v: &mut EvidenceView, doc: &Doc, q: &str) {
    keys(v, doc, &[KeyCode::Char('f')]);
    for c in q.chars() {
        keys(v, doc, &[KeyCode::Char(c)]);
    }
    keys(v, doc, &[KeyCode::Enter]);
}

/// All display rows of a plain text, laid out independently of the view: the lines split with
/// `split`, each wrapped by `layout::wrap`.
fn all_rows(text: &str, width: u16, wrap: bool) -> Vec<String> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let shown = layout::display(line.as_bytes());
        let w = layout::wrap(&shown, width, 0, wrap);
        for (s, e) in w.rows {
            let row = &shown[s as usize..e as usize];
            if w.sideways && layout::width(row) > u64::from(width) {
                // the last column says the line goes on
                let (cut, at) = layout::byte_at_col(row, u64::from(width) - 1);
                let pad = " ".repeat((u64::from(width) - 1 - at) as usize);
                out.push(format!("{}{pad}{MORE_RIGHT}", &row[..cut]));
            } else {
                out.push(row.trim_end().to_string());
            }
        }
    }
    out
}

/// The text rows of the screen (the status row left out).
fn text_rows(v: &EvidenceView, doc: &Doc, w: u16, h: u16) -> Vec<String> {
    let mut r = screen(v, doc, w, h);
    r.pop();
    r
}

fn status(v: &EvidenceView, doc: &Doc) -> String {
    let (l, r) = status_text(v, doc);
    format!("{l} … {r}")
}

/// A text of `lines` paragraphs of about `len` bytes each, the last ending "THE END".
fn paragraphs(lines: usize, len: usize, seed: u64) -> String {
    let mut w = Words(seed);
    let mut s = String::new();
    for i in 0..lines {
        s.push_str(&w.line(len));
        if i + 1 == lines {
            s.push_str(" THE END");
        }
        s.push('\n');
    }
    s
}

// ---- layout and scrolling ----------------------------------------------------------------

#[test]
fn end_shows_the_last_line_of_wrapped_text() {
    let text = paragraphs(40, 900, 1);
    let doc = open("essay.txt", text.clone());
    let (w, h) = (78, 11);
    let mut v = view(&doc, w, h);
    let all = all_rows(&text, w, true);
    // the long lines wrap into far more rows than there are lines
    assert!(all.len() > 40 * 10, "{}", all.len());
    keys(&mut v, &doc, &[KeyCode::End]);
    let shown = text_rows(&v, &doc, w, h);
    assert_eq!(shown, all[all.len() - 10..], "End shows the last ten rows");
    assert!(shown[9].ends_with("THE END"), "{shown:?}");
    let total = all.len() as u64;
    assert_eq!(
        v.position(&doc),
        Position::Rows {
            first: total - 9,
            last: total,
            total
        }
    );
    assert!(status(&v, &doc).contains(&format!(
        "lines {}–{}/{} 100%",
        render::thousands(total - 9),
        render::thousands(total),
        render::thousands(total)
    )));
}

#[test]
fn paging_walks_every_row_once_with_one_of_context() {
    // a 228 KB file of long lines: PgDn from the top reaches its end, one row kept each time
    let text = paragraphs(120, 1900, 2);
    assert!((220_000..240_000).contains(&text.len()), "{}", text.len());
    let doc = open("long.txt", text.clone());
    let (w, h) = (78, 11);
    let mut v = view(&doc, w, h);
    let all = all_rows(&text, w, true);
    assert_eq!(text_rows(&v, &doc, w, h), all[..10]);
    let last_top = all.len() - 10;
    let mut top = 0;
    let mut pages = 0;
    while top < last_top {
        keys(&mut v, &doc, &[KeyCode::PageDown]);
        pages += 1;
        // one row of context: the last row of the previous page is the first of this one
        top = (top + 9).min(last_top);
        assert_eq!(
            text_rows(&v, &doc, w, h),
            all[top..top + 10],
            "page {pages}"
        );
    }
    let before = v.top();
    keys(&mut v, &doc, &[KeyCode::PageDown]);
    assert_eq!(v.top(), before, "PgDn stops at the end");
    let seen = text_rows(&v, &doc, w, h);
    assert!(seen[9].ends_with("THE END"));
    assert_eq!(pages, last_top.div_ceil(9));
    // and PgUp walks back to the top
    for _ in 0..pages {
        keys(&mut v, &doc, &[KeyCode::PageUp]);
    }
    assert_eq!(text_rows(&v, &doc, w, h), all[..10]);
    assert_eq!(v.top().row, 0);
}

#[test]
fn up_and_down_move_by_display_rows() {
    let text = paragraphs(5, 400, 3);
    let doc = open("a.txt", text.clone());
    let (w, h) = (40, 6);
    let mut v = view(&doc, w, h);
    let all = all_rows(&text, w, true);
    for (i, row) in all.iter().enumerate().skip(1).take(12) {
        keys(&mut v, &doc, &[KeyCode::Down]);
        assert_eq!(&text_rows(&v, &doc, w, h)[0], row, "after {i} downs");
    }
    keys(&mut v, &doc, &[KeyCode::Char('k'), KeyCode::Up]);
    assert_eq!(text_rows(&v, &doc, w, h)[0], all[10]);
    // down stops at the end
    for _ in 0..all.len() + 5 {
        key(&mut v, &doc, KeyCode::Char('j'));
    }
    assert_eq!(text_rows(&v, &doc, w, h), all[all.len() - 5..]);
    keys(&mut v, &doc, &[KeyCode::Home]);
    assert_eq!(text_rows(&v, &doc, w, h), all[..5]);
}

#[test]
fn walking_agrees_with_an_independent_layout() {
    // lines of every sort: empty, short, long, CRLF, tabs, wide characters, a final line
    // without a line break
    let mut w = Words(9);
    let mut text = String::new();
    for i in 0..140 {
        match i % 7 {
            0 => text.push('\n'),
            1 => text.push_str(&format!("{}\r\n", w.line(30))),
            2 => text.push_str(&format!("\t{}\n", w.line(150))),
            3 => text.push_str(&format!("日本語のテキスト {}\n", w.line(90))),
            4 => text.push_str(&format!("{}\n", w.line(700))),
            _ => text.push_str(&format!("{}\n", w.line(12))),
        }
    }
    text.push_str("last line without a break");
    let doc = open("mixed.txt", text.clone());
    for (w, h) in [(78u16, 11u16), (33, 7), (120, 40), (9, 4)] {
        for wrap in [true, false] {
            let mut v = view(&doc, w, h);
            if !wrap {
                keys(&mut v, &doc, &[KeyCode::Char('w')]);
                v.finish(&doc);
            }
            let all = all_rows(&text, w, wrap);
            let body = usize::from(h - 1);
            assert_eq!(
                v.total_rows(&doc),
                Some(all.len() as u64),
                "{w}x{h} wrap {wrap}"
            );
            // from the top, one row at a time, to the end
            for i in 0..all.len() - body {
                let rows = text_rows(&v, &doc, w, h);
                assert_eq!(rows[..], all[i..i + body], "{w}x{h} wrap {wrap} row {i}");
                if i % 13 == 0 {
                    assert_eq!(
                        v.position(&doc),
                        Position::Rows {
                            first: i as u64 + 1,
                            last: (i + body) as u64,
                            total: all.len() as u64
                        }
                    );
                }
                v.update(&doc, Msg::Down);
            }
            v.update(&doc, Msg::Down);
            assert_eq!(text_rows(&v, &doc, w, h), all[all.len() - body..]);
            // End from the top is the same place
            v.update(&doc, Msg::Home);
            v.update(&doc, Msg::End);
            assert_eq!(text_rows(&v, &doc, w, h), all[all.len() - body..]);
            // and back up one row at a time (at one size: the walk is the same code)
            if w != 33 {
                continue;
            }
            for i in (0..all.len() - body).rev() {
                v.update(&doc, Msg::Up);
                assert_eq!(text_rows(&v, &doc, w, h)[0], all[i], "{w}x{h} up to {i}");
            }
        }
    }
}

#[test]
fn a_short_text_shows_whole_and_end_does_not_move_it() {
    let doc = open("short.txt", "one\ntwo\n");
    let mut v = view(&doc, 40, 6);
    keys(
        &mut v,
        &doc,
        &[KeyCode::End, KeyCode::PageDown, KeyCode::Down],
    );
    assert_eq!(text_rows(&v, &doc, 40, 6)[..3], ["one", "two", ""]);
    assert_eq!(
        v.position(&doc),
        Position::Rows {
            first: 1,
            last: 2,
            total: 2
        }
    );
    let empty = open("empty.txt", "");
    let v = view(&empty, 40, 6);
    assert_eq!(v.position(&empty), Position::Empty);
    assert_eq!(text_rows(&v, &empty, 40, 6)[0], "(empty)");
}

#[test]
fn the_position_is_a_percentage_until_the_rows_are_counted() {
    let text = paragraphs(20_000, 200, 4);
    let doc = open("big.txt", text.clone());
    let mut v = EvidenceView::new(&doc);
    v.resize(&doc, 78, 11);
    assert!(v.busy());
    assert!(matches!(v.position(&doc), Position::Percent { pct: 0, .. }));
    assert!(status(&v, &doc).contains("0%"), "{}", status(&v, &doc));
    v.update(&doc, Msg::End);
    assert_eq!(
        v.position(&doc),
        Position::Percent {
            first: None,
            pct: 100
        }
    );
    // one small step counts some rows, not all
    v.step(&doc, std::time::Duration::ZERO);
    assert!(v.busy());
    v.finish(&doc);
    assert!(!v.busy());
    let total = all_rows(&text, 78, true).len() as u64;
    assert_eq!(
        v.position(&doc),
        Position::Rows {
            first: total - 9,
            last: total,
            total
        }
    );
    // a resize starts the count again at the new width
    v.resize(&doc, 60, 11);
    assert!(v.busy());
    v.finish(&doc);
    assert_eq!(
        v.total_rows(&doc),
        Some(all_rows(&text, 60, true).len() as u64)
    );
}

#[test]
fn a_resize_keeps_the_place() {
    let text = paragraphs(30, 600, 5);
    let doc = open("r.txt", text);
    let mut v = view(&doc, 78, 11);
    for _ in 0..40 {
        v.update(&doc, Msg::Down);
    }
    let before = text_rows(&v, &doc, 78, 11)[0].clone();
    let word = before.split(' ').next().unwrap().to_string();
    v.resize(&doc, 50, 11);
    let after = text_rows(&v, &doc, 50, 11);
    assert_eq!(v.top().line, {
        let mut v2 = view(&doc, 78, 11);
        for _ in 0..40 {
            v2.update(&doc, Msg::Down);
        }
        v2.top().line
    });
    assert!(
        after[0].starts_with(&word) || after[0].contains(&word),
        "{before:?} → {after:?}"
    );
}

// ---- sideways ----------------------------------------------------------------------------

#[test]
fn lines_scroll_sideways_with_markers() {
    let long = (0..60)
        .map(|i| format!("{i:03}"))
        .collect::<Vec<_>>()
        .join("-");
    let text = format!("short\n{long}\n");
    let doc = open("s.txt", text);
    let (w, h) = (40, 5);
    let mut v = view(&doc, w, h);
    // wrapped: the long line takes several rows
    assert_eq!(text_rows(&v, &doc, w, h)[1], &long[..40]);
    keys(&mut v, &doc, &[KeyCode::Char('w')]);
    let rows = text_rows(&v, &doc, w, h);
    assert_eq!(rows[1], format!("{}{MORE_RIGHT}", &long[..39]));
    assert!(!rows[0].contains(MORE_LEFT));
    keys(&mut v, &doc, &[KeyCode::Right, KeyCode::Char('l')]);
    let rows = text_rows(&v, &doc, w, h);
    assert_eq!(v.hscroll(), 16);
    assert_eq!(rows[1], format!("{MORE_LEFT}{}{MORE_RIGHT}", &long[17..55]));
    // the short line is scrolled out of view: only the marker says there is something left
    assert_eq!(rows[0], MORE_LEFT);
    // right stops once the end of the longest line is on screen
    for _ in 0..100 {
        key(&mut v, &doc, KeyCode::Right);
    }
    let rows = text_rows(&v, &doc, w, h);
    assert!(rows[1].ends_with(&long[long.len() - 10..]), "{rows:?}");
    assert!(!rows[1].ends_with(MORE_RIGHT));
    keys(&mut v, &doc, &[KeyCode::Home]);
    assert_eq!(v.hscroll(), 0);
}

#[test]
fn unbroken_lines_scroll_sideways_even_when_wrapping() {
    let blob = "QUJD".repeat(UNBROKEN / 4 + 100);
    let text = format!("before\n{blob}\nafter\n");
    let doc = open("b64.txt", text);
    let mut v = view(&doc, 40, 6);
    let rows = text_rows(&v, &doc, 40, 6);
    assert_eq!(
        rows[..3],
        [
            "before".to_string(),
            format!("{}{MORE_RIGHT}", &blob[..39]),
            "after".to_string()
        ]
    );
    assert_eq!(v.total_rows(&doc), Some(3));
    keys(&mut v, &doc, &[KeyCode::Right]);
    assert_eq!(
        text_rows(&v, &doc, 40, 6)[1],
        format!("{MORE_LEFT}{}{MORE_RIGHT}", &blob[9..47])
    );
}

#[test]
fn a_ten_megabyte_line_is_drawn_piece_by_piece() {
    // 10 MB without spaces, with a marker word far to the right
    let mut line = String::with_capacity(10_000_100);
    let mut i = 0u64;
    while line.len() < 10_000_000 {
        line.push_str(&format!("{:08x}", i.wrapping_mul(0x9e37_79b9)));
        i += 1;
    }
    line.replace_range(9_000_000..9_000_006, "NEEDLE");
    let text = format!("head\n{line}\ntail\n");
    let doc = open("huge-line.txt", text);
    let (w, h) = (78, 6);
    let mut v = view(&doc, w, h);
    let rows = text_rows(&v, &doc, w, h);
    assert_eq!(rows[1], format!("{}{MORE_RIGHT}", &line[..77]));
    assert_eq!(rows[2], "tail");
    type_query(&mut v, &doc, "needle");
    let s = v.search().unwrap();
    assert_eq!(s.counts(), (Some(1), 1, true));
    // the match is on screen, sideways, and highlighted as the current one
    let buf = draw(&v, &doc, w, h, &COLOUR);
    let rows = rows_of(&buf);
    let at = rows[1].find("NEEDLE").expect("match on screen");
    let x = rows[1][..at].chars().count() as u16;
    let col = v.hscroll();
    assert!(col > 8_900_000 && col < 9_000_000, "{col}");
    assert!(buf[(x, 1)].modifier.contains(Modifier::REVERSED));
    assert!(!buf[(x - 1, 1)].modifier.contains(Modifier::REVERSED));
    assert_eq!(
        rows[1],
        format!(
            "{MORE_LEFT}{}{MORE_RIGHT}",
            &line[col as usize + 1..col as usize + 77]
        )
    );
}

// ---- hostile text --------------------------------------------------------------------------

fn assert_clean(buf: &Buffer) {
    for c in buf.content() {
        let s = c.symbol();
        assert!(
            !s.chars()
                .any(|ch| is_forbidden_char(ch) || ch == '\t' || ch == '\n'),
            "{s:?}"
        );
    }
}

#[test]
fn hostile_text_never_reaches_the_buffer_raw() {
    let mut text = Vec::new();
    text.extend_from_slice(b"title \x1b]0;pwned\x07 here\n");
    text.extend_from_slice(b"clear \x1b[2J\x1b[H and colour \x1b[31mred\x1b[0m\n");
    text.extend_from_slice("bidi \u{202e}txet desrever\u{202c} \u{2066}iso\u{2069}\n".as_bytes());
    text.extend_from_slice(b"invalid \xff\xfe \xc3( bytes\n");
    text.extend_from_slice(b"c1 \xc2\x9b31m csi \xc2\x9d0;x\xc2\x9c osc\n");
    text.extend_from_slice(b"nul \x00 bel \x07 del \x7f cr \r mid\n");
    text.extend_from_slice(b"tab\there\n");
    let mut long = vec![b'x'; 10_000_000];
    long[5_000_000] = 0x1b;
    long[5_000_001] = b'[';
    long[5_000_002] = b'2';
    long[5_000_003] = b'J';
    text.extend_from_slice(&long);
    text.push(b'\n');
    for name in ["h.txt", "h.md", "h.csv"] {
        let doc = open(name, text.clone());
        let mut v = view(&doc, 78, 12);
        assert_clean(&draw(&v, &doc, 78, 12, &COLOUR));
        assert_clean(&draw(&v, &doc, 120, 40, &MONO));
        v.update(&doc, Msg::ToggleWrap);
        for _ in 0..3 {
            v.update(&doc, Msg::Right);
        }
        assert_clean(&draw(&v, &doc, 78, 12, &COLOUR));
        v.update(&doc, Msg::End);
        assert_clean(&draw(&v, &doc, 78, 12, &COLOUR));
    }
    let doc = open("h.txt", text);
    let v = view(&doc, 78, 12);
    let rows = text_rows(&v, &doc, 78, 12);
    assert_eq!(rows[0], "title ␛ here");
    assert_eq!(rows[1], "clear ␛␛ and colour ␛red␛");
    assert_eq!(rows[2], "bidi �txet desrever� �iso�");
    assert_eq!(rows[3], "invalid �� �( bytes");
    assert_eq!(rows[4], "c1 ␛ csi ␛ osc");
    assert_eq!(rows[5], "nul ␀ bel ␇ del ␡ cr ␍ mid");
    assert_eq!(rows[6], "tab here");
}

// ---- search ------------------------------------------------------------------------------

#[test]
fn search_next_previous_and_around() {
    let mut text = String::new();
    for i in 0..200 {
        if [10, 60, 150].contains(&i) {
            text.push_str(&format!("line {i} has the Needle in it\n"));
        } else {
            text.push_str(&format!("line {i} is plain\n"));
        }
    }
    let doc = open("s.txt", text);
    let (w, h) = (60, 8);
    let mut v = view(&doc, w, h);
    type_query(&mut v, &doc, "needle");
    let at = |v: &EvidenceView| {
        let m = v.search().unwrap().current().unwrap();
        let t = doc.seg_text(m.line, m.seg).into_owned();
        t.split(' ').nth(1).unwrap().parse::<u32>().unwrap()
    };
    assert_eq!(at(&v), 10);
    assert_eq!(v.search().unwrap().counts(), (Some(1), 3, true));
    assert!(
        status(&v, &doc).contains("“needle” 1 of 3"),
        "{}",
        status(&v, &doc)
    );
    // the match is on screen and highlighted
    assert!(
        text_rows(&v, &doc, w, h)
            .iter()
            .any(|r| r == "line 10 has the Needle in it")
    );
    keys(&mut v, &doc, &[KeyCode::Char('.')]);
    assert_eq!(at(&v), 60);
    assert!(
        text_rows(&v, &doc, w, h)
            .iter()
            .any(|r| r.starts_with("line 60 "))
    );
    keys(&mut v, &doc, &[KeyCode::F(3)]);
    assert_eq!(at(&v), 150);
    assert_eq!(v.message(), None);
    keys(&mut v, &doc, &[KeyCode::Char('.')]);
    assert_eq!(at(&v), 10);
    assert_eq!(
        v.message(),
        Some("search reached the end: continued from the top")
    );
    keys(&mut v, &doc, &[KeyCode::Char(',')]);
    assert_eq!(at(&v), 150);
    assert_eq!(
        v.message(),
        Some("search reached the top: continued from the end")
    );
    assert!(status(&v, &doc).contains("3 of 3"));
    keys(&mut v, &doc, &[KeyCode::Char(',')]);
    assert_eq!(at(&v), 60);
    // Esc forgets the search
    keys(&mut v, &doc, &[KeyCode::Esc]);
    assert!(v.search().is_none());
    // and Esc is then the caller's
    assert!(!key(&mut v, &doc, KeyCode::Esc));
}

#[test]
fn search_from_the_screen_after_scrolling_away() {
    let mut text = String::new();
    for i in 0..100 {
        text.push_str(&format!(
            "row {i}{}\n",
            if i % 20 == 5 { " mark" } else { "" }
        ));
    }
    let doc = open("s.txt", text);
    let mut v = view(&doc, 40, 6);
    type_query(&mut v, &doc, "mark");
    assert_eq!(
        doc.seg_text(v.search().unwrap().current().unwrap().line, 0),
        "row 5 mark"
    );
    // scroll away, and next goes on from the screen, not from the old match
    for _ in 0..50 {
        v.update(&doc, Msg::Down);
    }
    keys(&mut v, &doc, &[KeyCode::Char('.')]);
    assert_eq!(
        doc.seg_text(v.search().unwrap().current().unwrap().line, 0),
        "row 65 mark"
    );
    assert_eq!(v.search().unwrap().counts(), (Some(4), 5, true));
}

#[test]
fn a_single_match_and_no_match() {
    let doc = open("s.txt", "alpha\nbeta\ngamma\n");
    let mut v = view(&doc, 40, 6);
    type_query(&mut v, &doc, "BETA");
    keys(&mut v, &doc, &[KeyCode::Char('.')]);
    assert_eq!(v.message(), Some("the only match"));
    assert_eq!(v.search().unwrap().counts(), (Some(1), 1, true));
    type_query(&mut v, &doc, "delta");
    assert_eq!(v.message(), Some("no match for “delta”"));
    assert!(v.search().unwrap().current().is_none());
    assert!(status(&v, &doc).contains("“delta” no match"));
    // typing shows the input on the status row, and backspace edits it
    keys(
        &mut v,
        &doc,
        &[
            KeyCode::Char('f'),
            KeyCode::Char('x'),
            KeyCode::Char('y'),
            KeyCode::Backspace,
        ],
    );
    assert_eq!(v.input(), Some("x"));
    assert!(status(&v, &doc).contains("find: x▏"));
    // while typing, every key is the input's: j is a letter, not a scroll
    keys(&mut v, &doc, &[KeyCode::Char('j')]);
    assert_eq!(v.input(), Some("xj"));
    keys(&mut v, &doc, &[KeyCode::Esc]);
    assert_eq!(v.input(), None);
}

#[test]
fn every_match_is_highlighted_and_the_current_one_differently() {
    let doc = open("s.txt", "a fox and a fox\nno\nfox\n");
    let mut v = view(&doc, 40, 6);
    type_query(&mut v, &doc, "FOX");
    for theme in [COLOUR, MONO] {
        let buf = draw(&v, &doc, 40, 6, &theme);
        let cur = buf[(2, 0)].style();
        let other = buf[(12, 0)].style();
        let third = buf[(0, 2)].style();
        let plain = buf[(0, 0)].style();
        assert_ne!(cur, other);
        assert_eq!(other, third);
        assert_ne!(other, plain);
        // never colour alone
        assert!(cur.add_modifier.contains(Modifier::REVERSED));
        assert!(other.add_modifier.contains(Modifier::UNDERLINED));
        assert!(plain.add_modifier.is_empty());
    }
    let buf = draw(&v, &doc, 40, 6, &MONO);
    assert!(buf.content().iter().all(|c| c.fg == ratatui::style::Color::Reset
        && (c.bg == ratatui::style::Color::Reset)));
}

#[test]
fn search_counts_many_matches_in_a_large_text_incrementally() {
    let text = paragraphs(50_000, 120, 6);
    let doc = open("big.txt", text.clone());
    let mut v = view(&doc, 78, 11);
    v.update(&doc, Msg::Find);
    for c in "portfolio".chars() {
        v.update(&doc, Msg::Type(c));
    }
    v.update(&doc, Msg::Submit);
    // the first match is found at once; the count goes on in steps
    assert!(v.search().unwrap().current().is_some());
    let (_, _, done) = v.search().unwrap().counts();
    assert!(!done);
    assert!(v.busy());
    v.finish(&doc);
    let want = text.matches("portfolio").count() as u64;
    assert_eq!(v.search().unwrap().counts(), (Some(1), want, true));
    // End, then previous: the last match, ranked n of n
    v.update(&doc, Msg::End);
    v.update(&doc, Msg::FindPrev);
    v.finish(&doc);
    assert_eq!(v.search().unwrap().counts(), (Some(want), want, true));
    v.update(&doc, Msg::FindPrev);
    v.finish(&doc);
    assert_eq!(v.search().unwrap().counts().0, Some(want - 1));
}

#[test]
fn search_folds_case_beyond_ascii() {
    let doc = open("fr.txt", "un été chaud\nÉTÉ\nhiver\n");
    let mut v = view(&doc, 40, 6);
    type_query(&mut v, &doc, "été");
    assert_eq!(v.search().unwrap().counts(), (Some(1), 2, true));
    keys(&mut v, &doc, &[KeyCode::Char('.')]);
    assert_eq!(v.search().unwrap().current().unwrap().line, 15);
}

// ---- Markdown ------------------------------------------------------------------------------

const MD: &str = "# Reflective account\n\nI worked on **three** projects with *care*; see `notes.md`.\n\n## Projects\n\n- Placement at the *clinic*, where I led the weekly review of cases and wrote the summary that the team still uses\n- A survey\n  1. designed\n  2. piloted\n\n> Supervisor: the learner was reliable.\n\n```\nlet x = 1;\n```\n\n| Task | Hours |\n|------|------:|\n| Review | 12 |\n| Survey | 30 |\n\nMore at [the portal](https://example.org/p).\n";

#[test]
fn markdown_is_rendered_and_wrapped_with_hanging_indents() {
    let doc = open("account.md", MD);
    assert_eq!(doc.label(), "Markdown");
    let (w, h) = (48, 30);
    let v = view(&doc, w, h);
    let rows = text_rows(&v, &doc, w, h);
    assert_eq!(rows[0], "Reflective account");
    assert_eq!(rows[2], "I worked on three projects with care; see");
    assert_eq!(rows[3], "notes.md.");
    let i = rows
        .iter()
        .position(|r| r.starts_with("• Placement"))
        .unwrap();
    // continuation rows of a list item hang under its text
    assert!(
        rows[i + 1].starts_with("  ") && !rows[i + 1].starts_with("   "),
        "{:?}",
        rows[i + 1]
    );
    assert!(rows.iter().any(|r| r == "  1. designed"));
    assert!(
        rows.iter()
            .any(|r| r == "│ Supervisor: the learner was reliable.")
    );
    assert!(rows.iter().any(|r| r == "    let x = 1;"));
    assert!(rows.iter().any(|r| r == "│ Review │    12 │"));
    assert!(
        rows.iter()
            .any(|r| r == "More at the portal <https://example.org/p>.")
    );
    let buf = draw(&v, &doc, w, h, &MONO);
    assert!(
        buf[(0, 0)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    let x = rows[2].find("three").unwrap() as u16;
    assert!(buf[(x, 2)].modifier.contains(Modifier::BOLD));
    let x = rows[2].find("care").unwrap() as u16;
    assert!(buf[(x, 2)].modifier.contains(Modifier::ITALIC));
}

#[test]
fn markdown_end_shows_the_last_line() {
    let mut md = String::new();
    for i in 0..100 {
        md.push_str(&format!("Paragraph {i}: {}\n\n", Words(i + 1).line(300)));
    }
    md.push_str("Last words.\n");
    let doc = open("long.md", md);
    let mut v = view(&doc, 78, 11);
    keys(&mut v, &doc, &[KeyCode::End]);
    let rows = text_rows(&v, &doc, 78, 11);
    assert_eq!(rows[9], "Last words.");
    let Position::Rows { last, total, .. } = v.position(&doc) else {
        panic!("counted")
    };
    assert_eq!(last, total);
    // search finds rendered text, not markup
    let doc = open("a.md", MD);
    let mut v = view(&doc, 78, 11);
    type_query(&mut v, &doc, "three projects");
    assert_eq!(v.search().unwrap().counts(), (Some(1), 1, true));
}

#[test]
fn large_markdown_falls_back_to_text_and_says_so() {
    let md = format!(
        "# big\n{}",
        "word ".repeat((MARKDOWN_LIMIT as usize) / 5 + 10)
    );
    let doc = open("big.md", md);
    assert_eq!(doc.label(), "text");
    let v = view(&doc, 78, 11);
    assert!(
        status(&v, &doc).contains("Markdown over 2 MiB: shown as plain text"),
        "{}",
        status(&v, &doc)
    );
    assert_eq!(text_rows(&v, &doc, 78, 11)[0], "# big");
}

// ---- tables --------------------------------------------------------------------------------

fn csv(n: usize) -> String {
    let mut s = String::from("id;learner;unit;comment;score\n");
    let mut w = Words(11);
    for i in 1..=n {
        let comment = if i % 10 == 3 {
            format!("\"{}\n{}\"", w.line(20), w.line(10))
        } else {
            w.line(15 + i % 40)
        };
        s.push_str(&format!(
            "{i};Learner {i};U{};{comment};{}\n",
            i % 7,
            i * 3 % 100
        ));
    }
    s
}

#[test]
fn csv_is_an_aligned_table_with_its_header_kept() {
    let doc = open("marks.csv", csv(500));
    assert_eq!(doc.label(), "CSV ;");
    let (w, h) = (78, 12);
    let mut v = view(&doc, w, h);
    let rows = text_rows(&v, &doc, w, h);
    assert!(
        rows[0].starts_with(" id  │ learner     │ unit │ comment"),
        "{:?}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("   1 │ Learner 1   │ U1   │"),
        "{:?}",
        rows[1]
    );
    // the quoted cell with a line break stays on its row
    assert!(
        rows[3].starts_with("   3 │ Learner 3   │ U3   │") && rows[3].contains('↵')
            || rows[3].contains('…'),
        "{:?}",
        rows[3]
    );
    // the header is bold and underlined
    let buf = draw(&v, &doc, w, h, &MONO);
    assert!(
        buf[(2, 0)]
            .modifier
            .contains(Modifier::BOLD | Modifier::UNDERLINED)
    );
    keys(&mut v, &doc, &[KeyCode::PageDown, KeyCode::PageDown]);
    let rows = text_rows(&v, &doc, w, h);
    assert!(
        rows[0].starts_with(" id  │ learner"),
        "the header stays: {:?}",
        rows[0]
    );
    assert!(rows[1].starts_with("  19 │"), "{:?}", rows[1]);
    keys(&mut v, &doc, &[KeyCode::End]);
    let rows = text_rows(&v, &doc, w, h);
    assert!(rows[10].starts_with(" 500 │ Learner 500"), "{:?}", rows[10]);
    assert_eq!(
        v.position(&doc),
        Position::Rows {
            first: 491,
            last: 500,
            total: 500
        }
    );
    assert!(status(&v, &doc).contains("rows 491–500/500 100%"));
    // sideways by column
    keys(&mut v, &doc, &[KeyCode::Right]);
    let rows = text_rows(&v, &doc, w, h);
    assert!(
        rows[0].starts_with(&format!("{MORE_LEFT}learner")),
        "{:?}",
        rows[0]
    );
    keys(
        &mut v,
        &doc,
        &[
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Right,
            KeyCode::Right,
        ],
    );
    assert_eq!(v.hscroll(), 4);
    assert!(text_rows(&v, &doc, w, h)[0].contains("score"));
}

#[test]
fn csv_search_finds_cells_and_brings_their_column_on_screen() {
    let mut s = String::from("a,b,c,d,e,f,g,h\n");
    // (widths are measured on the first 200 records and the last 200: record 250 of 500 is in
    // neither)
    for i in 0..500 {
        let last = match i {
            150 => "the target cell".to_string(),
            250 => "a cell past the sample and clipped".to_string(),
            _ => format!("v{i}"),
        };
        s.push_str(&format!(
            "{i},{},{},{},{},{},{},{last}\n",
            "x".repeat(20),
            "y".repeat(20),
            "z".repeat(20),
            "w".repeat(20),
            "u".repeat(20),
            "t".repeat(20)
        ));
    }
    let doc = open("wide.csv", s);
    let (w, h) = (60, 10);
    let mut v = view(&doc, w, h);
    type_query(&mut v, &doc, "TARGET");
    let m = v.search().unwrap().current().unwrap();
    assert_eq!(m.seg, 7);
    let rows = text_rows(&v, &doc, w, h);
    assert!(
        rows.iter().any(|r| r.contains("the target cell")),
        "{rows:?}"
    );
    assert!(rows[0].contains('h'));
    assert_eq!(v.search().unwrap().counts(), (Some(1), 1, true));
    // a match in the clipped part of a cell highlights its ellipsis
    type_query(&mut v, &doc, "clipped");
    let m = v.search().unwrap().current().unwrap();
    assert_eq!(m.seg, 7);
    let buf = draw(&v, &doc, w, h, &MONO);
    let rows = rows_of(&buf);
    let y = rows
        .iter()
        .position(|r| r.contains("a cell past th…"))
        .expect("clipped cell") as u16;
    let at = rows[y as usize].find('…').unwrap();
    let x = rows[y as usize][..at].chars().count() as u16;
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    // the header is not a row to find
    type_query(&mut v, &doc, "a");
    let m = v.search().unwrap().current().unwrap();
    assert!(doc.table().unwrap().number(doc.src(), m.line) >= 1);
}

#[test]
fn tsv_without_quoting() {
    let doc = open("t.tsv", "name\tnote\nA\t\"quoted\ttab\nB\tplain\n");
    assert_eq!(doc.label(), "TSV");
    let v = view(&doc, 60, 6);
    let rows = text_rows(&v, &doc, 60, 6);
    // (the ragged row's extra column is drawn for every row)
    assert_eq!(rows[0], " name │ note    │     │");
    assert_eq!(rows[1], " A    │ \"quoted │ tab │");
    assert_eq!(rows[2], " B    │ plain   │     │");
}

// ---- key sequences -------------------------------------------------------------------------

#[test]
fn keys_the_component_leaves_to_the_caller() {
    let doc = open("a.txt", "text\n");
    let mut v = view(&doc, 40, 6);
    for code in [
        KeyCode::Char('q'),
        KeyCode::Tab,
        KeyCode::Char('n'),
        KeyCode::Char('1'),
        KeyCode::Esc,
        KeyCode::Char('z'),
    ] {
        assert!(!key(&mut v, &doc, code), "{code:?}");
    }
    assert!(v.key(
        &doc,
        KeyEvent::new(KeyCode::Char('f'), KeyModifiers::CONTROL)
    ));
    assert_eq!(v.input(), Some(""));
    // while typing, every key is the component's, even those it has no use for
    for code in [KeyCode::Tab, KeyCode::Char('q'), KeyCode::F(5)] {
        assert!(key(&mut v, &doc, code), "{code:?}");
    }
    assert_eq!(v.input(), Some("q"));
    v.update(&doc, Msg::Paste("ex\nt\u{1b}".into()));
    assert_eq!(v.input(), Some("qex t"));
    keys(&mut v, &doc, &[KeyCode::Enter]);
    assert_eq!(v.message(), Some("no match for “qex t”"));
}

/// Every key in the table is bound, and to what it says.
#[test]
fn the_key_table_is_what_the_keys_do() {
    let doc = open("a.txt", "text\n");
    let v = view(&doc, 40, 6);
    let k = |c| v.msg_for_key(KeyEvent::new(c, KeyModifiers::NONE));
    let shift = |c| v.msg_for_key(KeyEvent::new(c, KeyModifiers::SHIFT));
    assert_eq!(KEYS.len(), 8);
    assert_eq!(
        (k(KeyCode::Char('j')), k(KeyCode::Up)),
        (Some(Msg::Down), Some(Msg::Up))
    );
    assert_eq!(
        (k(KeyCode::PageUp), k(KeyCode::PageDown)),
        (Some(Msg::PageUp), Some(Msg::PageDown))
    );
    assert_eq!(
        (k(KeyCode::Home), k(KeyCode::End)),
        (Some(Msg::Home), Some(Msg::End))
    );
    assert_eq!(
        (k(KeyCode::Char('h')), k(KeyCode::Right)),
        (Some(Msg::Left), Some(Msg::Right))
    );
    assert_eq!(k(KeyCode::Char('w')), Some(Msg::ToggleWrap));
    assert_eq!(k(KeyCode::Char('f')), Some(Msg::Find));
    assert_eq!(
        (k(KeyCode::Char('.')), k(KeyCode::Char(','))),
        (Some(Msg::FindNext), Some(Msg::FindPrev))
    );
    assert_eq!(
        (k(KeyCode::F(3)), shift(KeyCode::F(3))),
        (Some(Msg::FindNext), Some(Msg::FindPrev))
    );
    // Esc only while there is a search
    assert_eq!(k(KeyCode::Esc), None);
}

// ---- snapshots -----------------------------------------------------------------------------

/// The evidence pane as the assessment screen frames it: a bordered block in the lower part of
/// the terminal (at 80×24 the pane inside is 78×10).
fn framed(
    doc: &Doc,
    v: &mut EvidenceView,
    w: u16,
    h: u16,
) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    framed_as(doc, v, w, h, &COLOUR)
}

fn framed_as(
    doc: &Doc,
    v: &mut EvidenceView,
    w: u16,
    h: u16,
    theme: &Theme,
) -> ratatui::Terminal<ratatui::backend::TestBackend> {
    use ratatui::widgets::{Block, Widget};
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    let upper = h - h / 2;
    let pane = Rect::new(0, upper, w, h - upper);
    let inner = Block::bordered().inner(pane);
    v.resize(doc, inner.width, inner.height);
    v.finish(doc);
    term.draw(|f| {
        let title = format!(" Evidence · {} ", doc.name());
        Block::bordered().title(title).render(pane, f.buffer_mut());
        Block::bordered()
            .title(" Criteria ")
            .render(Rect::new(0, 0, w, upper), f.buffer_mut());
        render(v, doc, inner, f.buffer_mut(), theme);
    })
    .unwrap();
    term
}

/// The screen with its highlights written out (under the monochrome theme): `[…]` around
/// reversed cells (the current match, markers, the status row), `_…_` around underlined ones
/// (other matches).
fn annotated(buf: &Buffer) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in a.top()..a.bottom() {
        let (mut rev, mut und) = (false, false);
        let mut x = a.left();
        while x < a.right() {
            let c = &buf[(x, y)];
            let (r, u) = (
                c.modifier.contains(Modifier::REVERSED),
                c.modifier.contains(Modifier::UNDERLINED),
            );
            if und && !u {
                out.push('_');
            }
            if rev && !r {
                out.push(']');
            }
            if r && !rev {
                out.push('[');
            }
            if u && !und {
                out.push('_');
            }
            (rev, und) = (r, u);
            out.push_str(c.symbol());
            x += unicode_width::UnicodeWidthStr::width(c.symbol()).max(1) as u16;
        }
        if und {
            out.push('_');
        }
        if rev {
            out.push(']');
        }
        out.push('\n');
    }
    out
}

#[test]
fn snapshots() {
    let essay = open("essay.txt", paragraphs(12, 500, 21));
    let md = open("account.md", MD);
    let table = open("marks.csv", csv(200));
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut v = EvidenceView::new(&essay);
        insta::assert_snapshot!(
            format!("text_{w}x{h}"),
            framed(&essay, &mut v, w, h).backend()
        );
        v.update(&essay, Msg::End);
        insta::assert_snapshot!(
            format!("text_end_{w}x{h}"),
            framed(&essay, &mut v, w, h).backend()
        );
        let mut v = EvidenceView::new(&md);
        insta::assert_snapshot!(
            format!("markdown_{w}x{h}"),
            framed(&md, &mut v, w, h).backend()
        );
        let mut v = EvidenceView::new(&table);
        insta::assert_snapshot!(
            format!("csv_{w}x{h}"),
            framed(&table, &mut v, w, h).backend()
        );
        v.update(&table, Msg::Right);
        v.update(&table, Msg::PageDown);
        insta::assert_snapshot!(
            format!("csv_scrolled_{w}x{h}"),
            framed(&table, &mut v, w, h).backend()
        );
        let mut v = EvidenceView::new(&essay);
        framed(&essay, &mut v, w, h);
        v.set_query(&essay, "portfolio");
        v.update(&essay, Msg::FindNext);
        insta::assert_snapshot!(
            format!("search_{w}x{h}"),
            framed(&essay, &mut v, w, h).backend()
        );
        let term = framed_as(&essay, &mut v, w, h, &MONO);
        insta::assert_snapshot!(
            format!("search_styles_{w}x{h}"),
            annotated(term.backend().buffer())
        );
        v.update(&essay, Msg::ToggleWrap);
        for _ in 0..3 {
            v.update(&essay, Msg::FindNext);
        }
        let term = framed_as(&essay, &mut v, w, h, &MONO);
        insta::assert_snapshot!(
            format!("search_sideways_{w}x{h}"),
            annotated(term.backend().buffer())
        );
        let mut v = EvidenceView::new(&essay);
        framed(&essay, &mut v, w, h);
        v.update(&essay, Msg::Find);
        v.update(&essay, Msg::Type('l'));
        v.update(&essay, Msg::Type('e'));
        insta::assert_snapshot!(
            format!("typing_{w}x{h}"),
            framed(&essay, &mut v, w, h).backend()
        );
    }
}
