//! An evidence document: its bytes, its kind, and the lines it shows.
//!
//! Every kind is a sequence of *lines* named by a `u64`: for plain text the byte offset where the
//! line begins, for Markdown the index of a rendered line, for a table the byte offset where a
//! record begins. The view walks lines with `first`/`next`/`prev`/`last`, asks how many rows
//! each takes at a width, and searches through *regions* (a line, a piece of a long line, a
//! record) found by scanning the raw bytes.

use std::borrow::Cow;
use std::sync::Arc;

use super::layout::{self, Wrapped, count_rows, width};
use super::markdown::{self, RLine, Run};
use super::matcher::Matcher;
use super::source::{CHUNK, Source, read};
use super::table::{NotTable, Table};
use super::text::{PIECE, Text, shown};
use crate::domain::sanitize::sanitize_line;

/// Markdown larger than this is shown as plain text (it is rendered whole when opened).
pub const MARKDOWN_LIMIT: u64 = 2 << 20;
/// CSV or TSV larger than this is shown as plain text (it is indexed whole when opened).
pub const TABLE_LIMIT: u64 = 64 << 20;

/// What a document is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Markdown,
    Csv,
    Tsv,
}

impl Kind {
    /// The kind a file name says (by extension, any case): `.md`/`.markdown`, `.csv`, `.tsv`/`.tab`;
    /// anything else is text.
    pub fn from_name(name: &str) -> Kind {
        let ext = name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "md" | "markdown" => Kind::Markdown,
            "csv" => Kind::Csv,
            "tsv" | "tab" => Kind::Tsv,
            _ => Kind::Text,
        }
    }
}

/// How the lines are laid out: the width of the text area and whether wrapping is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    pub width: u16,
    pub wrap: bool,
}

pub(crate) enum Body {
    Text(Text),
    Markdown(Vec<RLine>),
    Table(Table, Text),
}

/// An opened evidence document. Immutable once opened (apart from a small cache of long lines'
/// ends), so it can be shared (`Arc<Doc>`) and drawn from `&Doc`.
pub struct Doc {
    name: String,
    src: Arc<dyn Source>,
    pub(crate) body: Body,
    note: Option<String>,
    /// The last line, found once (a text of one 100 MiB line would be scanned back on every
    /// key otherwise).
    last: std::sync::OnceLock<Option<u64>>,
}

impl std::fmt::Debug for Doc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doc")
            .field("name", &self.name)
            .field("len", &self.src.len())
            .field("kind", &self.label())
            .field("note", &self.note)
            .finish()
    }
}

/// A line as the renderer draws it.
pub(crate) enum Laid<'a> {
    /// Text laid out whole: wrapped rows, or one row that scrolls sideways.
    Lines {
        text: Cow<'a, str>,
        runs: &'a [Run],
        cont: &'a str,
        cont_runs: &'a [Run],
        wrapped: Wrapped,
        rule: bool,
    },
    /// A plain line longer than [`PIECE`]: one sideways row, drawn piece by piece.
    Long { l: u64, end: u64 },
    /// A table record.
    Record { cells: Vec<String> },
}

/// Where a raw scan stands: a position, and the start of the line containing it (plain text;
/// `UNKNOWN` when not known; other kinds: the position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub pos: u64,
    pub line: u64,
}

pub(crate) const UNKNOWN: u64 = u64::MAX;

/// A place whose shown text may hold matches: a line, a piece of a long line, a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub line: u64,
    /// The segments (pieces, cells) to look in.
    pub segs: (u32, u32),
    /// Where a forward scan goes on after it.
    pub next: Cursor,
    /// Where a backward scan goes on before it.
    pub prev: Cursor,
}

/// A match: the line, the segment (piece of a long line, table cell; else 0), and its byte range
/// in that segment's shown text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MatchPos {
    pub line: u64,
    pub seg: u32,
    pub start: u32,
    pub end: u32,
}

/// The result of a bounded scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    Hit(Region),
    /// Nothing yet; go on from here.
    More(Cursor),
    /// Nothing before the bound.
    End,
}

impl Doc {
    /// Opens a document named `name` (its extension decides the kind) over `src`.
    pub fn open(name: &str, src: impl Source + 'static) -> Doc {
        Self::open_as(name, Kind::from_name(name), Arc::new(src))
    }

    /// Opens a document as `kind`, whatever its name.
    pub fn open_as(name: &str, kind: Kind, src: Arc<dyn Source>) -> Doc {
        let text = Text::new(&*src);
        let len = src.len();
        let (body, note) = match kind {
            Kind::Text => (Body::Text(text), None),
            Kind::Markdown if len <= MARKDOWN_LIMIT => {
                let bytes = read(&*src, text.start..len);
                (Body::Markdown(markdown::render(&bytes)), None)
            }
            Kind::Markdown => (
                Body::Text(text),
                Some(format!(
                    "Markdown over {} MiB: shown as plain text",
                    MARKDOWN_LIMIT >> 20
                )),
            ),
            Kind::Csv | Kind::Tsv if len <= TABLE_LIMIT => {
                let (delim, quoting) = if kind == Kind::Tsv {
                    (b'\t', false)
                } else {
                    let sample = read(&*src, text.start..(text.start + 64 * 1024).min(len));
                    (super::table::sniff(&sample), true)
                };
                match Table::open(&*src, text.start, delim, quoting) {
                    Ok(t) => (Body::Table(t, text), None),
                    Err(NotTable::LongRecord(n)) => (
                        Body::Text(text),
                        Some(format!(
                            "record {n} is over {} KiB: shown as plain text",
                            super::table::RECORD_MAX >> 10
                        )),
                    ),
                }
            }
            Kind::Csv | Kind::Tsv => (
                Body::Text(text),
                Some(format!(
                    "table over {} MiB: shown as plain text",
                    TABLE_LIMIT >> 20
                )),
            ),
        };
        Doc {
            name: sanitize_line(name),
            src,
            body,
            note,
            last: std::sync::OnceLock::new(),
        }
    }

    /// The bytes it is read from (to open the same bytes as another kind: the source of a
    /// Markdown file, a table's lines).
    pub fn source(&self) -> Arc<dyn Source> {
        self.src.clone()
    }

    /// Whether it is shown formatted (Markdown rendered, a table) rather than as its lines.
    pub fn formatted(&self) -> bool {
        !matches!(self.body, Body::Text(_))
    }

    /// The document's name, sanitised.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How the document is shown: `text`, `Markdown`, `CSV ,`, `CSV ;`, `TSV`.
    pub fn label(&self) -> String {
        match &self.body {
            Body::Text(_) => "text".into(),
            Body::Markdown(_) => "Markdown".into(),
            Body::Table(t, _) if t.delim == b'\t' => "TSV".into(),
            Body::Table(t, _) => format!("CSV {}", t.delim as char),
        }
    }

    /// Why the document is not shown as its kind, if it is not.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    pub fn len(&self) -> u64 {
        self.src.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first().is_none()
    }

    pub(crate) fn src(&self) -> &dyn Source {
        &*self.src
    }

    pub(crate) fn table(&self) -> Option<&Table> {
        match &self.body {
            Body::Table(t, _) => Some(t),
            _ => None,
        }
    }

    /// Bytes of memory the document holds besides its source: the rendered Markdown, the table
    /// index, the long-line cache.
    pub fn memory_bytes(&self) -> usize {
        match &self.body {
            Body::Text(t) => t.cache_bytes(),
            Body::Markdown(lines) => {
                lines.capacity() * std::mem::size_of::<RLine>()
                    + lines
                        .iter()
                        .map(|l| {
                            l.text.capacity()
                                + l.cont.capacity()
                                + (l.runs.capacity() + l.cont_runs.capacity())
                                    * std::mem::size_of::<Run>()
                        })
                        .sum::<usize>()
            }
            Body::Table(t, x) => t.index_bytes() + x.cache_bytes(),
        }
    }

    // ---- lines ----------------------------------------------------------------------------

    pub(crate) fn first(&self) -> Option<u64> {
        match &self.body {
            Body::Text(t) => t.first(),
            Body::Markdown(v) => (!v.is_empty()).then_some(0),
            Body::Table(t, _) => t.first_row(self.src()),
        }
    }

    pub(crate) fn last(&self) -> Option<u64> {
        *self.last.get_or_init(|| match &self.body {
            Body::Text(t) => t.last(self.src()),
            Body::Markdown(v) => v.len().checked_sub(1).map(|n| n as u64),
            Body::Table(t, _) => t.last_row(self.src()),
        })
    }

    pub(crate) fn next(&self, l: u64) -> Option<u64> {
        match &self.body {
            Body::Text(t) => t.next(self.src(), l),
            Body::Markdown(v) => (l + 1 < v.len() as u64).then_some(l + 1),
            Body::Table(t, _) => t.next(self.src(), l),
        }
    }

    pub(crate) fn prev(&self, l: u64) -> Option<u64> {
        match &self.body {
            Body::Text(t) => t.prev(self.src(), l),
            Body::Markdown(_) => l.checked_sub(1),
            Body::Table(t, _) => t.prev(self.src(), l),
        }
    }

    /// How far into the document line `l` is, from 0 to 1 (by bytes, or by lines for Markdown).
    pub(crate) fn frac(&self, l: u64) -> f64 {
        let (at, start, end) = match &self.body {
            Body::Text(t) => (l, t.start, t.len),
            Body::Markdown(v) => (l, 0, v.len() as u64),
            Body::Table(t, _) => (l, t.header, self.len()),
        };
        if end <= start {
            return 1.0;
        }
        (at.saturating_sub(start)) as f64 / (end - start) as f64
    }

    /// The line `f` (0 to 1) of the way in.
    pub(crate) fn line_at_fraction(&self, f: f64) -> Option<u64> {
        self.first()?;
        match &self.body {
            Body::Text(t) => {
                let at = t.start + ((t.len - t.start) as f64 * f) as u64;
                Some(t.line_of(self.src(), at.min(t.len.saturating_sub(1))))
            }
            Body::Markdown(v) => Some(((v.len() - 1) as f64 * f) as u64),
            Body::Table(t, _) => {
                let first = t.first_row(self.src())?;
                let at = first + ((self.len() - first) as f64 * f) as u64;
                Some(t.record_at(self.src(), at.min(self.len() - 1)).0.max(first))
            }
        }
    }

    /// The number of rows the plain line `l..end` (its text) takes.
    pub(crate) fn text_rows(&self, l: u64, end: u64, p: Params) -> u32 {
        let n = end - l;
        if !p.wrap || n > PIECE {
            return 1;
        }
        let raw = read(self.src(), l..end);
        // (shown text is never wider than its bytes, but for tabs)
        if n <= u64::from(p.width) && !raw.contains(&b'\t') {
            return 1;
        }
        count_rows(&layout::display(&raw), p.width, 0, true)
    }

    /// The number of rows line `l` takes.
    pub(crate) fn rows(&self, l: u64, p: Params) -> u32 {
        match &self.body {
            Body::Text(t) => {
                if !p.wrap {
                    return 1;
                }
                self.text_rows(l, t.content_end(self.src(), l), p)
            }
            Body::Markdown(v) => {
                let line = &v[l as usize];
                if line.rule {
                    return 1;
                }
                count_rows(
                    &line.text,
                    p.width,
                    width(&line.cont) as u16,
                    p.wrap && line.wrap,
                )
            }
            Body::Table(..) => 1,
        }
    }

    /// Line `l` laid out for drawing.
    pub(crate) fn laid(&self, l: u64, p: Params) -> Laid<'_> {
        match &self.body {
            Body::Text(t) => {
                let src = self.src();
                let end = t.content_end(src, l);
                if Text::is_long(end - l) {
                    return Laid::Long { l, end };
                }
                let text = shown(src, l..end);
                let wrapped = layout::wrap(&text, p.width, 0, p.wrap);
                Laid::Lines {
                    text,
                    runs: &[],
                    cont: "",
                    cont_runs: &[],
                    wrapped,
                    rule: false,
                }
            }
            Body::Markdown(v) => {
                let line = &v[l as usize];
                let cont = width(&line.cont) as u16;
                let wrapped = layout::wrap(&line.text, p.width, cont, p.wrap && line.wrap);
                Laid::Lines {
                    text: Cow::Borrowed(&line.text),
                    runs: &line.runs,
                    cont: &line.cont,
                    cont_runs: &line.cont_runs,
                    wrapped,
                    rule: line.rule,
                }
            }
            Body::Table(t, _) => Laid::Record {
                cells: t.cells(self.src(), l),
            },
        }
    }

    /// The long-line helper of a plain text document.
    pub(crate) fn text(&self) -> Option<&Text> {
        match &self.body {
            Body::Text(t) => Some(t),
            _ => None,
        }
    }

    // ---- search ---------------------------------------------------------------------------

    /// Where scans begin and end (raw positions).
    pub(crate) fn scan_bounds(&self) -> (u64, u64) {
        match &self.body {
            Body::Text(t) => (t.start, t.len),
            Body::Markdown(v) => (0, v.len() as u64),
            Body::Table(t, _) => (t.first_row(self.src()).unwrap_or(self.len()), self.len()),
        }
    }

    /// A cursor at the start of line `l`.
    pub(crate) fn cursor_at(&self, l: u64) -> Cursor {
        Cursor { pos: l, line: l }
    }

    /// The region of line `l` that holds segment `seg`.
    pub(crate) fn region_at(&self, l: u64, seg: u32) -> Region {
        match &self.body {
            Body::Text(t) => self.text_region(t, l, Some(seg), l),
            Body::Markdown(_) => Region {
                line: l,
                segs: (0, 1),
                next: self.cursor_at(l + 1),
                prev: self.cursor_at(l),
            },
            Body::Table(t, _) => {
                let e = t.end_of(self.src(), l);
                Region {
                    line: l,
                    segs: (0, u32::MAX),
                    next: self.cursor_at(e),
                    prev: self.cursor_at(l),
                }
            }
        }
    }

    /// The region of the plain line at `l` holding piece `seg` (or byte `at` when `seg` is
    /// `None`).
    fn text_region(&self, t: &Text, l: u64, seg: Option<u32>, at: u64) -> Region {
        let src = self.src();
        let end = t.content_end(src, l);
        let line_end = t.end(src, l);
        let after = Cursor {
            pos: (line_end + 1).min(t.len),
            line: (line_end + 1).min(t.len),
        };
        if !Text::is_long(end - l) {
            return Region {
                line: l,
                segs: (0, 1),
                next: after,
                prev: Cursor {
                    pos: l,
                    line: UNKNOWN,
                },
            };
        }
        let n = Text::pieces(l, end);
        let k = seg
            .unwrap_or_else(|| Text::piece_of_byte(src, l, end, at))
            .min(n - 1);
        let b0 = Text::boundary(src, l, end, k);
        let b1 = Text::boundary(src, l, end, k + 1);
        Region {
            line: l,
            segs: (k, k + 1),
            next: if k + 1 >= n {
                after
            } else {
                Cursor { pos: b1, line: l }
            },
            prev: Cursor {
                pos: b0,
                line: if k > 0 { l } else { UNKNOWN },
            },
        }
    }

    /// The region holding a raw hit at `at`, given where the scan stood.
    fn region_of_hit(&self, at: u64, from: Cursor, forward: bool) -> Option<Region> {
        match &self.body {
            Body::Text(t) => {
                let src = self.src();
                let l = if forward && from.line != UNKNOWN {
                    match super::source::rfind_byte(src, b'\n', from.pos, at) {
                        Some(p) => p + 1,
                        None => from.line,
                    }
                } else if !forward && from.line != UNKNOWN && at >= from.line {
                    from.line
                } else {
                    t.line_of(src, at)
                };
                Some(self.text_region(t, l, None, at))
            }
            Body::Markdown(_) => Some(self.region_at(at, 0)),
            Body::Table(t, _) => {
                let src = self.src();
                // From the record the scan stands at, when it is known (it is after a region),
                // else from the marks.
                if forward && from.line != UNKNOWN && from.line <= at {
                    let mut r = from.line;
                    loop {
                        let e = t.end_of(src, r);
                        if e > at || e >= self.len() {
                            return (r > t.header).then(|| self.region_at(r, 0));
                        }
                        r = e;
                    }
                }
                let (r, n) = t.record_at(src, at);
                (n > 0).then(|| self.region_at(r, 0))
            }
        }
    }

    /// Scans forward from `from` for a raw match starting before `until`, reading at most about
    /// `limit` bytes.
    pub(crate) fn scan_fwd(&self, m: &Matcher, from: Cursor, until: u64, limit: u64) -> Scan {
        if let Body::Markdown(v) = &self.body {
            let mut l = from.pos;
            let mut spent = 0u64;
            while l < until.min(v.len() as u64) {
                let text = &v[l as usize].text;
                if m.find(text.as_bytes(), 0).is_some() {
                    return Scan::Hit(self.region_at(l, 0));
                }
                spent += text.len() as u64 + 16;
                l += 1;
                if spent >= limit {
                    return Scan::More(self.cursor_at(l));
                }
            }
            return Scan::End;
        }
        let src = self.src();
        let until = until.min(self.len());
        let stop = from.pos.saturating_add(limit.max(1)).min(until);
        let overlap = m.max_len().saturating_sub(1) as u64;
        let mut at = from.pos;
        let mut cur = from;
        while at < stop {
            let chunk_end = (at + CHUNK).min(until);
            let chunk = read(src, at..(chunk_end + overlap).min(self.len()));
            let mut i = 0usize;
            while let Some((s, _)) = m.find(&chunk, i) {
                let hit = at + s as u64;
                if hit >= chunk_end {
                    break;
                }
                match self.region_of_hit(hit, cur, true) {
                    Some(r) => return Scan::Hit(r),
                    None => {
                        // (a hit in a table's header: go on after it)
                        i = s + 1;
                    }
                }
            }
            // The line at the chunk's end: known if the chunk had no line break (plain text; a
            // table's records are not found by line breaks alone).
            cur = Cursor {
                pos: chunk_end,
                line: match memchr::memrchr(b'\n', &chunk[..(chunk_end - at) as usize]) {
                    _ if self.table().is_some() => UNKNOWN,
                    Some(p) => at + p as u64 + 1,
                    None => cur.line,
                },
            };
            at = chunk_end;
        }
        if at >= until {
            Scan::End
        } else {
            Scan::More(cur)
        }
    }

    /// Scans backward from `before` for a raw match starting at or after `floor`, reading at most
    /// about `limit` bytes.
    pub(crate) fn scan_back(&self, m: &Matcher, before: Cursor, floor: u64, limit: u64) -> Scan {
        if let Body::Markdown(v) = &self.body {
            let mut l = before.pos.min(v.len() as u64);
            let mut spent = 0u64;
            while l > floor {
                l -= 1;
                let text = &v[l as usize].text;
                if m.find(text.as_bytes(), 0).is_some() {
                    return Scan::Hit(self.region_at(l, 0));
                }
                spent += text.len() as u64 + 16;
                if spent >= limit {
                    return Scan::More(self.cursor_at(l));
                }
            }
            return Scan::End;
        }
        let src = self.src();
        let floor = floor.min(before.pos);
        let stop = before.pos.saturating_sub(limit.max(1)).max(floor);
        let overlap = m.max_len().saturating_sub(1) as u64;
        let mut end = before.pos;
        while end > stop {
            let start = end.saturating_sub(CHUNK).max(floor);
            let chunk = read(src, start..(end + overlap).min(self.len()));
            let mut upto = (end - start) as usize;
            while let Some((s, _)) = m.rfind(&chunk, upto) {
                let hit = start + s as u64;
                match self.region_of_hit(hit, before, false) {
                    Some(r) => return Scan::Hit(r),
                    None => upto = s,
                }
            }
            end = start;
        }
        if end <= floor {
            Scan::End
        } else {
            Scan::More(Cursor {
                pos: end,
                line: UNKNOWN,
            })
        }
    }

    /// The shown text of segment `seg` of line `l`.
    pub(crate) fn seg_text(&self, l: u64, seg: u32) -> Cow<'_, str> {
        match &self.body {
            Body::Text(t) => {
                let src = self.src();
                let end = t.content_end(src, l);
                if Text::is_long(end - l) {
                    Text::piece(src, l, end, seg)
                } else {
                    shown(src, l..end)
                }
            }
            Body::Markdown(v) => Cow::Borrowed(&v[l as usize].text),
            Body::Table(t, _) => Cow::Owned(
                t.cells(self.src(), l)
                    .into_iter()
                    .nth(seg as usize)
                    .unwrap_or_default(),
            ),
        }
    }

    /// The matches in a region, in order.
    pub(crate) fn region_matches(&self, r: &Region, m: &Matcher) -> Vec<MatchPos> {
        let mut out = Vec::new();
        let mut add = |seg: u32, text: &str| {
            for (s, e) in m.find_all(text) {
                out.push(MatchPos {
                    line: r.line,
                    seg,
                    start: s as u32,
                    end: e as u32,
                });
            }
        };
        match &self.body {
            Body::Table(t, _) => {
                for (i, c) in t.cells(self.src(), r.line).iter().enumerate() {
                    add(i as u32, c);
                }
            }
            _ => {
                for seg in r.segs.0..r.segs.1 {
                    add(seg, &self.seg_text(r.line, seg));
                }
            }
        }
        out
    }
}
