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
/// How many long lines' ends are remembered (16 bytes each).
const ENDS_CACHE: usize = 4096;
/// How many long lines' piece columns are remembered (the most recently used).
const COLS_CACHE: usize = 64;

/// What is known of long lines.
#[derive(Debug, Default)]
struct Caches {
    /// Where each long line ends (its line break, or the end of the text), by its start.
    ends: HashMap<u64, u64>,
    /// The column at which each piece begins, for the pieces measured so far (`cols[0] == 0`),
    /// by the line's start; the most recently used last.
    cols: Vec<(u64, Vec<u64>)>,
}

/// A plain text document's lines.
#[derive(Debug)]
pub struct Text {
    /// Where the first line begins (after a byte order mark).
    pub start: u64,
    pub len: u64,
    caches: Mutex<Caches>,
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
            caches: Mutex::new(Caches::default()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().unwrap_or_else(|e| e.into_inner())
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
        if let Some(&end) = self.cache().ends.get(&l) {
            return end;
        }
        let end = find_byte(src, b'\n', probe, self.len).unwrap_or(self.len);
        let mut cache = self.cache();
        if cache.ends.len() >= ENDS_CACHE {
            cache.ends.clear();
        }
        cache.ends.insert(l, end);
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

    /// Calls `f(start, end)` for the lines from the one at `from` (`end`: where its text ends,
    /// before a CRLF's `\r`) until about `budget` bytes are behind; returns where the next line
    /// begins (`None` after the last).
    pub fn each_line(
        &self,
        src: &dyn Source,
        from: u64,
        budget: u64,
        mut f: impl FnMut(u64, u64),
    ) -> Option<u64> {
        let stop = from.saturating_add(budget.max(1));
        let mut s = from;
        while s < self.len && s < stop {
            let chunk_end = (s + super::source::CHUNK).min(self.len);
            let chunk = read(src, s..chunk_end);
            let base = s;
            for p in memchr::memchr_iter(b'\n', &chunk) {
                let nl = base + p as u64;
                let cr = nl > s
                    && if p > 0 {
                        chunk[p - 1] == b'\r'
                    } else {
                        read(src, nl - 1..nl).as_ref() == b"\r"
                    };
                let ce = if cr { nl - 1 } else { nl };
                f(s, ce);
                s = nl + 1;
                if s >= stop {
                    break;
                }
            }
            if s >= stop {
                break;
            }
            if s < chunk_end {
                // a line running past the chunk: found the long way
                if s >= self.len {
                    break;
                }
                let e = self.end(src, s);
                f(s, self.content_end(src, s));
                s = e + 1;
            }
        }
        (s < self.len).then_some(s)
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
        self.measure(src, l, end, |cols| cols.len() > k as usize, u32::MAX);
        self.piece_col_known(l, k)
            .unwrap_or_else(|| (0..k).map(|j| Self::piece_width(src, l, end, j)).sum())
    }

    /// [`Self::piece_col`], measuring at most `budget` more pieces: `None` if that is not enough
    /// (the pieces measured are kept, so calling again goes on).
    pub fn piece_col_within(
        &self,
        src: &dyn Source,
        l: u64,
        end: u64,
        k: u32,
        budget: u32,
    ) -> Option<u64> {
        self.measure(src, l, end, |cols| cols.len() > k as usize, budget);
        self.piece_col_known(l, k)
    }

    fn piece_col_known(&self, l: u64, k: u32) -> Option<u64> {
        let cache = self.cache();
        let (_, cols) = cache.cols.iter().find(|(at, _)| *at == l)?;
        cols.get(k as usize).copied()
    }

    /// The piece of the long line at `l` in which column `col` falls, and that piece's first
    /// column.
    pub fn piece_at_col(&self, src: &dyn Source, l: u64, end: u64, col: u64) -> (u32, u64) {
        let n = Self::pieces(l, end);
        self.measure(
            src,
            l,
            end,
            |cols| cols.last().is_some_and(|&c| c > col),
            u32::MAX,
        );
        let cache = self.cache();
        let Some((_, cols)) = cache.cols.iter().find(|(at, _)| *at == l) else {
            return (0, 0);
        };
        let i = cols.partition_point(|&x| x <= col).saturating_sub(1);
        let k = (i as u32).min(n - 1);
        (k, cols[k as usize])
    }

    /// Measures more pieces of the long line at `l` (at most `budget`) until `enough` holds or
    /// all are measured; returns whether that was reached.
    fn measure(
        &self,
        src: &dyn Source,
        l: u64,
        end: u64,
        enough: impl Fn(&[u64]) -> bool,
        budget: u32,
    ) -> bool {
        let n = Self::pieces(l, end) as usize;
        let mut cols = {
            let mut cache = self.cache();
            match cache.cols.iter().position(|(at, _)| *at == l) {
                Some(i) => {
                    let entry = cache.cols.remove(i);
                    if enough(&entry.1) || entry.1.len() > n {
                        cache.cols.push(entry);
                        return true;
                    }
                    entry.1
                }
                None => vec![0],
            }
        };
        let mut spent = 0;
        while !enough(&cols) && cols.len() <= n && spent < budget {
            let k = (cols.len() - 1) as u32;
            let w = Self::piece_width(src, l, end, k);
            cols.push(cols[k as usize] + w);
            spent += 1;
        }
        let done = enough(&cols) || cols.len() > n;
        let mut cache = self.cache();
        cache.cols.retain(|(at, _)| *at != l);
        if cache.cols.len() >= COLS_CACHE {
            cache.cols.remove(0);
        }
        cache.cols.push((l, cols));
        done
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

    /// Bytes of memory the long-line caches hold.
    pub fn cache_bytes(&self) -> usize {
        let c = self.cache();
        c.ends.capacity() * 24
            + c.cols
                .iter()
                .map(|(_, v)| 32 + v.capacity() * 8)
                .sum::<usize>()
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
    fn each_line_agrees_with_walking() {
        let mut text = Vec::new();
        for i in 0..3000 {
            text.extend_from_slice(format!("line {i}").as_bytes());
            text.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
            if i == 1500 {
                text.extend_from_slice(&vec![b'x'; 3 << 20]);
                text.extend_from_slice(b"\r\n");
            }
        }
        text.extend_from_slice(b"no break");
        let src = text.clone();
        let t = Text::new(&src);
        let mut walked = Vec::new();
        let mut l = t.first();
        while let Some(at) = l {
            walked.push((at, t.content_end(&src, at)));
            l = t.next(&src, at);
        }
        for budget in [1, 100, 70_000, u64::MAX / 4] {
            let mut got = Vec::new();
            let mut from = t.first();
            while let Some(at) = from {
                from = t.each_line(&src, at, budget, |s, e| got.push((s, e)));
            }
            assert_eq!(got, walked, "budget {budget}");
        }
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
