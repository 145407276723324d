//! Plain text, line by line, straight from its [`Source`]: lines are found with `memchr` around
//! the place on screen, never indexed up front. A line longer than [`PIECE`] bytes is never
//! wrapped; it scrolls sideways and is laid out one piece at a time, so a 10 MB line costs no
//! more to draw than a short one.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;

use super::layout::{display, printable_ascii, width};
use super::source::{Source, find_byte, read, rfind_byte};

/// Lines longer than this are laid out in pieces of this size (and are not wrapped).
pub const PIECE: u64 = 64 * 1024;
/// How many long lines' ends and piece widths are remembered.
const LONG_CACHE: usize = 256;

/// What is known of one long line.
#[derive(Debug, Clone)]
struct Long {
    /// Where the line ends (its line break, or the end of the text).
    end: u64,
    /// The column at which each piece begins, for the pieces measured so far (`cols[0] == 0`).
    cols: Vec<u64>,
}

/// A plain text document's lines.
#[derive(Debug)]
pub struct Text {
    /// Where the first line begins (after a byte order mark).
    pub start: u64,
    pub len: u64,
    long: Mutex<HashMap<u64, Long>>,
}

/// The display text of raw bytes read from a source, borrowed from the source when it can be.
pub fn shown<'a>(src: &'a dyn Source, range: std::ops::Range<u64>) -> Cow<'a, str> {
    match read(src, range) {
        Cow::Borrowed(b) => display(b),
        Cow::Owned(v) => Cow::Owned(display(&v).into_owned()),
    }
}

impl Text {
    pub fn new(src: &dyn Source) -> Text {
        let start = if read(src, 0..3).as_ref() == b"\xef\xbb\xbf" {
            3
        } else {
            0
        };
        Text {
            start,
            len: src.len(),
            long: Mutex::new(HashMap::new()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Long>> {
        self.long.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn first(&self) -> Option<u64> {
        (self.len > self.start).then_some(self.start)
    }

    /// Where the line beginning at `l` ends: its line break, or the end of the text.
    pub fn end(&self, src: &dyn Source, l: u64) -> u64 {
        let probe = (l + PIECE + 2).min(self.len);
        if let Some(p) = find_byte(src, b'\n', l, probe) {
            return p;
        }
        if probe >= self.len {
            return self.len;
        }
        if let Some(long) = self.cache().get(&l) {
            return long.end;
        }
        let end = find_byte(src, b'\n', probe, self.len).unwrap_or(self.len);
        let mut cache = self.cache();
        if cache.len() >= LONG_CACHE {
            cache.clear();
        }
        cache.insert(l, Long { end, cols: vec![0] });
        end
    }

    /// Where the line's text ends (before a `\r` of a CRLF line break).
    pub fn content_end(&self, src: &dyn Source, l: u64) -> u64 {
        let e = self.end(src, l);
        if e > l && e < self.len && read(src, e - 1..e).as_ref() == b"\r" {
            e - 1
        } else {
            e
        }
    }

    /// The line after the one at `l` (a final line break ends the last line, it does not begin
    /// an empty one).
    pub fn next(&self, src: &dyn Source, l: u64) -> Option<u64> {
        let e = self.end(src, l);
        (e + 1 < self.len).then_some(e + 1)
    }

    /// The start of the line containing byte `at`.
    pub fn line_of(&self, src: &dyn Source, at: u64) -> u64 {
        match rfind_byte(src, b'\n', self.start, at.min(self.len)) {
            Some(p) => p + 1,
            None => self.start,
        }
    }

    pub fn prev(&self, src: &dyn Source, l: u64) -> Option<u64> {
        (l > self.start).then(|| self.line_of(src, l - 1))
    }

    pub fn last(&self, src: &dyn Source) -> Option<u64> {
        self.first()?;
        let mut e = self.len;
        if read(src, e - 1..e).as_ref() == b"\n" {
            e -= 1;
        }
        Some(self.line_of(src, e))
    }

    /// Whether a line of `len` bytes is laid out in pieces.
    pub fn is_long(len: u64) -> bool {
        len > PIECE
    }

    /// The number of pieces of the line at `l` ending (its text) at `end`.
    pub fn pieces(l: u64, end: u64) -> u32 {
        u32::try_from((end - l).div_ceil(PIECE).max(1)).unwrap_or(u32::MAX)
    }

    /// Where piece `k` of the line `l..end` begins: `k` pieces in, moved forward to the start of
    /// a character.
    pub fn boundary(src: &dyn Source, l: u64, end: u64, k: u32) -> u64 {
        if k == 0 {
            return l;
        }
        let mut p = l + u64::from(k) * PIECE;
        if p >= end {
            return end;
        }
        let probe = read(src, p..(p + 3).min(end));
        for &b in probe.iter() {
            if b & 0xc0 != 0x80 {
                break;
            }
            p += 1;
        }
        p.min(end)
    }

    /// Piece `k` of the line `l..end`, shown.
    pub fn piece<'a>(src: &'a dyn Source, l: u64, end: u64, k: u32) -> Cow<'a, str> {
        shown(
            src,
            Self::boundary(src, l, end, k)..Self::boundary(src, l, end, k + 1),
        )
    }

    fn piece_width(src: &dyn Source, l: u64, end: u64, k: u32) -> u64 {
        let r = Self::boundary(src, l, end, k)..Self::boundary(src, l, end, k + 1);
        let raw = read(src, r);
        if printable_ascii(&raw) {
            raw.len() as u64
        } else {
            width(&display(&raw))
        }
    }

    /// The column at which piece `k` of the long line at `l` (its text ending at `end`) begins.
    pub fn piece_col(&self, src: &dyn Source, l: u64, end: u64, k: u32) -> u64 {
        self.measure(src, l, end, |cols| cols.len() > k as usize);
        self.cache()
            .get(&l)
            .and_then(|c| c.cols.get(k as usize).copied())
            .unwrap_or_else(|| {
                // (the cache was cleared meanwhile: measure without it)
                (0..k).map(|j| Self::piece_width(src, l, end, j)).sum()
            })
    }

    /// The piece of the long line at `l` in which column `col` falls, and that piece's first
    /// column.
    pub fn piece_at_col(&self, src: &dyn Source, l: u64, end: u64, col: u64) -> (u32, u64) {
        let n = Self::pieces(l, end);
        self.measure(src, l, end, |cols| {
            cols.last().is_some_and(|&c| c > col) || cols.len() > n as usize
        });
        let cache = self.cache();
        let Some(c) = cache.get(&l) else {
            return (0, 0);
        };
        let i = c.cols.partition_point(|&x| x <= col).saturating_sub(1);
        let k = (i as u32).min(n - 1);
        (k, c.cols[k as usize])
    }

    /// Extends the measured pieces of the long line at `l` until `enough` holds (or all are).
    fn measure(&self, src: &dyn Source, l: u64, end: u64, enough: impl Fn(&[u64]) -> bool) {
        let n = Self::pieces(l, end);
        let line_end = self.end(src, l);
        let mut cols = {
            let mut cache = self.cache();
            let entry = cache.entry(l).or_insert_with(|| Long {
                end: line_end,
                cols: vec![0],
            });
            if enough(&entry.cols) || entry.cols.len() > n as usize {
                return;
            }
            entry.cols.clone()
        };
        while !enough(&cols) && cols.len() <= n as usize {
            let k = (cols.len() - 1) as u32;
            let w = Self::piece_width(src, l, end, k);
            cols.push(cols[k as usize] + w);
        }
        if let Some(entry) = self.cache().get_mut(&l)
            && entry.cols.len() < cols.len()
        {
            entry.cols = cols;
        }
    }

    /// The piece of the long line `l..end` that byte `at` is in.
    pub fn piece_of_byte(src: &dyn Source, l: u64, end: u64, at: u64) -> u32 {
        let n = Self::pieces(l, end);
        let mut k = u32::try_from((at.saturating_sub(l)) / PIECE)
            .unwrap_or(u32::MAX)
            .min(n - 1);
        while k > 0 && Self::boundary(src, l, end, k) > at {
            k -= 1;
        }
        while k + 1 < n && Self::boundary(src, l, end, k + 1) <= at {
            k += 1;
        }
        k
    }

    /// Bytes of memory the long-line cache holds.
    pub fn cache_bytes(&self) -> usize {
        let c = self.cache();
        c.capacity() * (std::mem::size_of::<(u64, Long)>() + 8)
            + c.values().map(|l| l.cols.capacity() * 8).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8]) -> Vec<(u64, u64)> {
        let src = text.to_vec();
        let t = Text::new(&src);
        let mut out = Vec::new();
        let mut l = t.first();
        while let Some(at) = l {
            out.push((at, t.content_end(&src, at)));
            l = t.next(&src, at);
        }
        // and backwards
        let mut back = Vec::new();
        let mut l = t.last(&src);
        while let Some(at) = l {
            back.push((at, t.content_end(&src, at)));
            l = t.prev(&src, at);
        }
        back.reverse();
        assert_eq!(out, back);
        out
    }

    #[test]
    fn lines_forward_and_back() {
        assert_eq!(lines(b"a\nbb\nccc"), [(0, 1), (2, 4), (5, 8)]);
        assert_eq!(lines(b"a\nbb\n"), [(0, 1), (2, 4)]);
        assert_eq!(lines(b"a\r\n\r\nb\r\n"), [(0, 1), (3, 3), (5, 6)]);
        assert_eq!(lines(b"\n"), [(0, 0)]);
        assert_eq!(lines(b"\n\n"), [(0, 0), (1, 1)]);
        assert_eq!(lines(b""), []);
        assert_eq!(lines(b"\xef\xbb\xbfbom\nx"), [(3, 6), (7, 8)]);
    }

    #[test]
    fn long_lines_are_cut_into_pieces_at_characters() {
        // a long line of 3-byte characters: piece boundaries fall on character starts
        let mut text = "é日".repeat(30_000).into_bytes();
        text.extend_from_slice(b"\nshort\n");
        let src = text.clone();
        let t = Text::new(&src);
        let end = t.end(&src, 0);
        assert_eq!(end, 150_000);
        assert!(Text::is_long(end));
        let n = Text::pieces(0, end);
        assert_eq!(n, 3);
        let mut joined = String::new();
        for k in 0..n {
            let b = Text::boundary(&src, 0, end, k);
            assert!(std::str::from_utf8(&text[b as usize..end as usize]).is_ok());
            joined.push_str(&Text::piece(&src, 0, end, k));
        }
        assert_eq!(joined, "é日".repeat(30_000));
        // columns: é is one, 日 two
        assert_eq!(t.piece_col(&src, 0, end, 0), 0);
        let c1 = t.piece_col(&src, 0, end, 1);
        assert_eq!(c1, width(&Text::piece(&src, 0, end, 0)));
        let (k, at) = t.piece_at_col(&src, 0, end, c1 + 5);
        assert_eq!((k, at), (1, c1));
        let (k, _) = t.piece_at_col(&src, 0, end, u64::MAX / 2);
        assert_eq!(k, 2);
        for at in [0, 65_535, 65_536, 65_538, 131_072, 149_999] {
            let k = Text::piece_of_byte(&src, 0, end, at);
            assert!(Text::boundary(&src, 0, end, k) <= at);
            assert!(at < Text::boundary(&src, 0, end, k + 1));
        }
        assert_eq!(t.next(&src, 0), Some(150_001));
    }
}
