//! Laying out one line of displayed text: what it shows (sanitised), how wide each grapheme is,
//! and where it wraps. Everything here works on one line (or one piece of a long line) at a time.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::domain::sanitize::{is_forbidden_char, sanitize};

/// A run of ASCII characters without a space at least this long makes a line "unbroken": it
/// scrolls sideways instead of being wrapped into rows of character soup (base64, minified code).
pub const UNBROKEN: usize = 4096;

/// Whether every byte is printable ASCII (`' '..='~'`): such text is its own display form, one
/// column per byte.
#[inline]
pub fn printable_ascii(raw: &[u8]) -> bool {
    // (written to vectorise: no early exit)
    raw.iter()
        .fold(true, |ok, &b| ok & (b.wrapping_sub(0x20) < 0x5f))
}

/// How raw line bytes (without their line break) are shown: invalid UTF-8 as U+FFFD, then through
/// [`sanitize`] (escape sequences and controls removed and shown visibly, tabs expanded).
/// Borrowed when there is nothing to change.
pub fn display(raw: &[u8]) -> Cow<'_, str> {
    if printable_ascii(raw) {
        // (printable ASCII is valid UTF-8)
        return Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(raw);
    if !text.chars().any(|c| {
        c == '\t' || c == '\n' || is_forbidden_char(c) || crate::domain::sanitize::reshaped(c)
    }) {
        return text;
    }
    // A line has no '\n' of its own; one inside a piece of text shown as one line (a table
    // cell) is made visible first.
    let text = if text.contains('\n') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\n', "↵"))
    } else {
        text
    };
    Cow::Owned(sanitize(&text))
}

/// The width of a grapheme as ratatui's buffer counts it (control characters: none; the
/// sanitised text has none).
#[inline]
fn grapheme_width(g: &str) -> u16 {
    if g.len() == 1 {
        return u16::from(g.as_bytes()[0] >= 0x20 && g.as_bytes()[0] != 0x7f);
    }
    if g.contains(char::is_control) {
        return 0;
    }
    u16::try_from(g.width()).unwrap_or(u16::MAX)
}

/// The width of a character that is a grapheme of its own.
#[inline]
fn char_width(c: char) -> u16 {
    if c.is_control() {
        return 0;
    }
    unicode_width::UnicodeWidthChar::width(c).map_or(0, |w| w as u16)
}

/// Calls `f(start, end, width)` for each grapheme of `text` (byte offsets), in order.
#[inline]
pub fn graphemes(text: &str, mut f: impl FnMut(usize, usize, u16)) {
    if text.is_ascii() {
        for (i, b) in text.bytes().enumerate() {
            f(i, i + 1, u16::from(b >= 0x20 && b != 0x7f));
        }
    } else if text.bytes().all(|b| b < 0xcc) {
        // Only characters below U+0300 (Latin, with Latin-1 and Latin Extended): each is a
        // grapheme of its own, so the (slower) segmentation is not needed.
        for (i, c) in text.char_indices() {
            f(i, i + c.len_utf8(), char_width(c));
        }
    } else {
        for (i, g) in text.grapheme_indices(true) {
            f(i, i + g.len(), grapheme_width(g));
        }
    }
}

/// The display width of `text`.
pub fn width(text: &str) -> u64 {
    if printable_ascii(text.as_bytes()) {
        return text.len() as u64;
    }
    let mut w = 0u64;
    graphemes(text, |_, _, gw| w += u64::from(gw));
    w
}

/// The byte offset in `text` where display column `col` begins (or `text.len()` past the end),
/// and the column that grapheme actually starts at (smaller when `col` falls inside a wide
/// grapheme).
pub fn byte_at_col(text: &str, col: u64) -> (usize, u64) {
    if printable_ascii(text.as_bytes()) {
        let b = (col as usize).min(text.len());
        return (b, b as u64);
    }
    let mut at = 0u64;
    let mut found = None;
    graphemes(text, |s, _, w| {
        if found.is_none() {
            if at + u64::from(w) > col && w > 0 {
                found = Some((s, at));
            }
            at += u64::from(w);
        }
    });
    found.unwrap_or((text.len(), at))
}

/// The column at which byte `byte` of `text` is shown.
pub fn col_of_byte(text: &str, byte: usize) -> u64 {
    let byte = byte.min(text.len());
    let mut end = byte;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    width(&text[..end])
}

/// How a line is laid out at a width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wrapped {
    /// The rows, as byte ranges of the text; one row when the line is not wrapped.
    pub rows: Vec<(u32, u32)>,
    /// The line is shown on one row that scrolls sideways.
    pub sideways: bool,
    /// Rows after the first start after this many columns of continuation prefix.
    pub cont: u16,
}

/// The continuation indent actually used at `width` (none when it would leave too little room).
pub fn cont_used(width: u16, cont: u16) -> u16 {
    if width >= cont.saturating_add(16) {
        cont
    } else {
        0
    }
}

/// Word-wraps `text` at `width` columns, rows after the first having `cont` columns less room (a
/// hanging indent the caller draws). `on_row(start, end)` is called for each row. Returns `false`
/// (and stops early) when the line has an unbroken run of [`UNBROKEN`] bytes: such a line is not
/// wrapped, and the rows given so far are to be dropped.
fn wrap_core(text: &str, width: u16, cont: u16, on_row: &mut impl FnMut(usize, usize)) -> bool {
    let width = u64::from(width.max(1));
    let cont = u64::from(cont_used(width as u16, cont));
    let bytes = text.as_bytes();
    let mut row_start = 0usize;
    let mut col = 0u64;
    let mut avail = width;
    // Where the next row would start after the last space of this row, and the column there.
    let mut brk: Option<(usize, u64)> = None;
    let mut run = 0usize;
    let mut unbroken = false;
    graphemes(text, |s, e, w| {
        if unbroken {
            return;
        }
        let w = u64::from(w);
        let b = bytes[s];
        if b == b' ' {
            run = 0;
            col += w;
            brk = Some((e, col));
            return;
        }
        if b.is_ascii() {
            run += 1;
            if run >= UNBROKEN {
                unbroken = true;
                return;
            }
        } else {
            run = 0;
        }
        if w == 0 {
            return;
        }
        if col + w > avail && s > row_start {
            match brk {
                Some((at, at_col)) if at > row_start => {
                    on_row(row_start, at);
                    row_start = at;
                    col -= at_col;
                    avail = width - cont;
                    if col + w > avail && s > row_start {
                        on_row(row_start, s);
                        row_start = s;
                        col = 0;
                    }
                }
                _ => {
                    on_row(row_start, s);
                    row_start = s;
                    col = 0;
                    avail = width - cont;
                }
            }
            brk = None;
        }
        col += w;
    });
    if unbroken {
        return false;
    }
    on_row(row_start, text.len());
    true
}

/// Lays out `text` at `width` (word-wrapped when `wrap`), with a hanging indent of `cont`.
pub fn wrap(text: &str, width: u16, cont: u16, wrap: bool) -> Wrapped {
    let cont = cont_used(width, cont);
    let whole = Wrapped {
        rows: vec![(0, text.len() as u32)],
        sideways: true,
        cont,
    };
    if !wrap {
        return whole;
    }
    let mut rows = Vec::new();
    if !wrap_core(text, width, cont, &mut |s, e| {
        rows.push((s as u32, e as u32))
    }) {
        return whole;
    }
    Wrapped {
        rows,
        sideways: false,
        cont,
    }
}

/// The number of rows [`wrap`] would make.
pub fn count_rows(text: &str, width: u16, cont: u16, wrap: bool) -> u32 {
    if !wrap || (text.len() <= usize::from(width) && printable_ascii(text.as_bytes())) {
        return 1;
    }
    let mut n = 0u32;
    if !wrap_core(text, width, cont, &mut |_, _| n += 1) {
        return 1;
    }
    n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, w: u16) -> Vec<&str> {
        let l = wrap(text, w, 0, true);
        l.rows
            .iter()
            .map(|&(s, e)| &text[s as usize..e as usize])
            .collect()
    }

    #[test]
    fn wraps_at_word_boundaries() {
        assert_eq!(
            rows("the quick brown fox jumps", 10),
            ["the quick ", "brown fox ", "jumps"]
        );
        assert_eq!(rows("abc", 10), ["abc"]);
        assert_eq!(rows("", 10), [""]);
        // a word longer than the width is broken
        assert_eq!(rows("abcdefghijkl mn", 5), ["abcde", "fghij", "kl mn"]);
        // the count agrees with the rows
        for t in [
            "the quick brown fox jumps",
            "abcdefghijkl mn",
            "",
            "a  b  c  d",
        ] {
            for w in 1..12 {
                assert_eq!(
                    count_rows(t, w, 0, true) as usize,
                    rows(t, w).len(),
                    "{t:?} at {w}"
                );
            }
        }
    }

    #[test]
    fn wide_characters_take_two_columns() {
        // 日本語 is 6 columns
        assert_eq!(rows("日本語日本語", 6), ["日本語", "日本語"]);
        assert_eq!(rows("日本語日本語", 5), ["日本", "語日", "本語"]);
        assert_eq!(width("日本語a"), 7);
        assert_eq!(byte_at_col("日本語a", 3), (3, 2));
        assert_eq!(byte_at_col("日本語a", 6), (9, 6));
        assert_eq!(col_of_byte("日本語a", 9), 6);
        // a width-one pane still makes progress with wide characters
        assert_eq!(rows("日本", 1), ["日", "本"]);
    }

    #[test]
    fn hanging_indent_narrows_continuation_rows() {
        let t = "• one two three four five six seven eight nine ten eleven twelve";
        let l = wrap(t, 20, 2, true);
        assert_eq!(l.cont, 2);
        let widths: Vec<u64> = l
            .rows
            .iter()
            .map(|&(s, e)| width(text_trim(&t[s as usize..e as usize])))
            .collect();
        assert!(widths[0] <= 20);
        assert!(widths[1..].iter().all(|&w| w <= 18), "{widths:?}");
        assert_eq!(count_rows(t, 20, 2, true) as usize, l.rows.len());
    }

    fn text_trim(s: &str) -> &str {
        s.trim_end_matches(' ')
    }

    #[test]
    fn unbroken_lines_are_sideways() {
        let long = "x".repeat(UNBROKEN + 10);
        let l = wrap(&long, 80, 0, true);
        assert!(l.sideways);
        assert_eq!(l.rows, vec![(0, long.len() as u32)]);
        assert_eq!(count_rows(&long, 80, 0, true), 1);
        // the same length with spaces wraps
        let spaced = "word ".repeat(UNBROKEN / 5 + 10);
        assert!(!wrap(&spaced, 80, 0, true).sideways);
        assert!(count_rows(&spaced, 80, 0, true) > 1);
        // and with wrapping off, everything is sideways
        assert!(wrap("a b c", 2, 0, false).sideways);
        assert_eq!(count_rows("a b c", 2, 0, false), 1);
    }

    #[test]
    fn the_latin_shortcut_agrees_with_segmentation() {
        let all: String = (0x20u32..0x300).filter_map(char::from_u32).collect();
        let mut fast = Vec::new();
        graphemes(&all, |s, e, w| fast.push((s, e, w)));
        let slow: Vec<(usize, usize, u16)> = all
            .grapheme_indices(true)
            .map(|(i, g)| (i, i + g.len(), grapheme_width(g)))
            .collect();
        assert_eq!(fast, slow);
    }

    #[test]
    fn display_is_sanitised_and_borrowed_when_clean() {
        assert!(matches!(display(b"plain text"), Cow::Borrowed(_)));
        assert!(matches!(display("café".as_bytes()), Cow::Borrowed(_)));
        assert_eq!(display(b"a\x1b[31mred\x1b[0m"), "a␛red␛");
        assert_eq!(display(b"a\tb"), "a   b");
        assert_eq!(display(b"bad \xff byte"), "bad \u{fffd} byte");
        assert_eq!(display("x\u{202e}y".as_bytes()), "x\u{fffd}y");
        assert_eq!(display(b"cell\r\nline"), "cell↵line");
        assert!(printable_ascii(b"hello ~"));
        assert!(!printable_ascii(b"tab\t"));
        assert!(!printable_ascii("é".as_bytes()));
    }
}
