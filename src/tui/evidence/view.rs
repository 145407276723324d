//! The state of one evidence view and the operations on it: scrolling by display row, by page,
//! to either end and sideways; wrapping; search. Pure functions of the view, the document and
//! the pane's size. Work that can be long for a huge document (counting the rows of all lines,
//! counting matches, a search for a far match) is done in bounded steps: an operation does a
//! bounded amount and leaves the rest to [`EvidenceView::step`], which the caller runs between
//! frames while [`EvidenceView::busy`].

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::doc::{Cursor, Doc, Laid, MatchPos, Params, Region, Scan, UNKNOWN};
use super::layout::{col_of_byte, width};
use super::matcher::Matcher;

/// How long an operation may search before it leaves the rest to [`EvidenceView::step`].
pub const KEY_BUDGET: Duration = Duration::from_millis(6);
/// A good budget for one [`EvidenceView::step`] between frames.
pub const STEP_BUDGET: Duration = Duration::from_millis(8);
/// Pieces of a long line an operation measures before it leaves the rest to steps.
const REVEAL_PIECES: u32 = 16;
/// Columns that Left/Right scroll text by.
pub const HSTEP: u64 = 8;
/// Bytes a scan reads between looks at the clock.
const SCAN_SLICE: u64 = 4 << 20;
/// The row-count pass keeps a mark at least every this many lines…
pub const MARK_LINES: u64 = 1024;
/// …and every this many bytes (plain text).
pub const MARK_BYTES: u64 = 16 * 1024;
/// The match count keeps a mark every this many bytes (plain text, tables) or lines (Markdown).
const COUNT_GAP_BYTES: u64 = 64 * 1024;
const COUNT_GAP_LINES: u64 = 512;
/// The longest search query.
const MAX_QUERY: usize = 200;

/// The first row on screen: a line and a row of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Top {
    pub line: u64,
    pub row: u32,
}

/// A mark of the row-count pass: line `line` is source line `line_no` (from 0) and begins at
/// display row `row` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    line: u64,
    line_no: u64,
    row: u64,
}

/// Counts the display rows of every line at the current width, in steps.
#[derive(Debug, Clone)]
struct Pass {
    params: Params,
    marks: Vec<Mark>,
    /// The next line to count; `None` when done.
    next: Option<u64>,
    line_no: u64,
    row: u64,
    block_lines: u64,
    block_start: u64,
    started: bool,
}

impl Pass {
    fn new(params: Params) -> Pass {
        Pass {
            params,
            marks: Vec::new(),
            next: None,
            line_no: 0,
            row: 0,
            block_lines: 0,
            block_start: 0,
            started: false,
        }
    }
    fn done(&self) -> bool {
        self.started && self.next.is_none()
    }
}

/// Counts the matches of the search, in steps; marks let the rank of a match be found quickly.
#[derive(Debug, Clone)]
struct Count {
    cursor: Cursor,
    done: bool,
    n: u64,
    /// (cursor, matches before it), in order.
    marks: Vec<(Cursor, u64)>,
}

/// A search for a match that is still going on.
#[derive(Debug, Clone)]
struct Seek {
    forward: bool,
    cursor: Cursor,
    /// Where it began; matches must come after it (before it, backward)…
    origin: MatchPos,
    /// …or may be it, when `inclusive`.
    inclusive: bool,
    origin_region: Region,
    wrapped: bool,
    /// The match that was current when it began.
    was: Option<MatchPos>,
}

/// The search in the evidence.
#[derive(Debug, Clone)]
pub struct Search {
    matcher: Matcher,
    current: Option<MatchPos>,
    /// The rank of the current match (from 1), once known.
    rank: Option<u64>,
    seek: Option<Seek>,
    count: Count,
    /// No match anywhere.
    none: bool,
}

impl Search {
    pub fn query(&self) -> &str {
        self.matcher.query()
    }
    pub fn current(&self) -> Option<MatchPos> {
        self.current
    }
    /// (rank of the current match if known, matches so far, whether the count is complete).
    pub fn counts(&self) -> (Option<u64>, u64, bool) {
        (self.rank, self.count.n, self.count.done)
    }
    pub fn seeking(&self) -> bool {
        self.seek.is_some()
    }
}

/// The keys [`EvidenceView::msg_for_key`] binds, for the key table and the help: (keys, what
/// they do).
pub const KEYS: &[(&str, &str)] = &[
    ("j/k ↓/↑", "scroll the evidence by one display row"),
    ("PgUp/PgDn", "scroll the evidence by a page (one row kept)"),
    ("Home/End", "the evidence's first / last line"),
    ("h/l ←/→", "scroll sideways (by column in a table)"),
    ("w", "wrap long lines on / off"),
    (
        "f  Ctrl-F",
        "find in the evidence: type, Enter searches, Esc cancels",
    ),
    (
        ". ,  F3 Shift-F3",
        "next / previous match (round the end, as the status row says)",
    ),
    (
        "Esc",
        "forget the search in the evidence (when there is one)",
    ),
];

/// What the view does, whatever key is bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Left,
    Right,
    ToggleWrap,
    /// Start typing a search query.
    Find,
    FindNext,
    FindPrev,
    /// Forget the search (and its highlights).
    ClearSearch,
    /// While typing a query:
    Type(char),
    /// Text pasted into the query (line breaks and controls dropped).
    Paste(String),
    Backspace,
    ClearInput,
    Submit,
    Cancel,
}

/// The view of one evidence document.
#[derive(Debug, Clone)]
pub struct EvidenceView {
    /// The pane: text rows and the status row.
    width: u16,
    height: u16,
    top: Top,
    /// Byte offset, in the top line's shown text, where the top row begins (kept across resizes).
    top_byte: u32,
    /// Columns scrolled sideways (text, Markdown) or the first column shown (tables).
    hscroll: u64,
    wrap: bool,
    pass: Pass,
    search: Option<Search>,
    /// The query being typed, if it is.
    input: Option<String>,
    /// A message for the status row until the next operation.
    message: Option<String>,
    /// A match in a long line whose column is still being measured (in steps), to scroll to.
    pending_reveal: Option<MatchPos>,
}

/// The default pane until the caller gives one: an 80×24 terminal's.
const DEFAULT_SIZE: (u16, u16) = (78, 11);

impl EvidenceView {
    /// A view of `doc` at its top, wrapping, for a pane of the default size.
    pub fn new(doc: &Doc) -> EvidenceView {
        let (width, height) = DEFAULT_SIZE;
        let params = Params { width, wrap: true };
        EvidenceView {
            width,
            height,
            top: Top {
                line: doc.first().unwrap_or(0),
                row: 0,
            },
            top_byte: 0,
            hscroll: 0,
            wrap: true,
            pass: Pass::new(params),
            search: None,
            input: None,
            message: None,
            pending_reveal: None,
        }
    }

    // ---- reading the state ----------------------------------------------------------------

    pub fn top(&self) -> Top {
        self.top
    }
    pub fn hscroll(&self) -> u64 {
        self.hscroll
    }
    pub fn wrap(&self) -> bool {
        self.wrap
    }
    pub fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }
    pub fn search(&self) -> Option<&Search> {
        self.search.as_ref()
    }
    /// The query being typed, when the search input has the keyboard.
    pub fn input(&self) -> Option<&str> {
        self.input.as_deref()
    }
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    /// Whether a match was found in a long line and its column is still being measured (in
    /// steps) to scroll sideways to it.
    pub fn revealing(&self) -> bool {
        self.pending_reveal.is_some()
    }

    /// Whether [`Self::step`] has work to do (the caller then polls without waiting).
    pub fn busy(&self) -> bool {
        self.pending_reveal.is_some()
            || !self.pass.done()
            || self.search.as_ref().is_some_and(|s| {
                s.seek.is_some() || !s.count.done || s.rank.is_none() && s.current.is_some()
            })
    }

    pub(crate) fn params(&self) -> Params {
        Params {
            width: self.width.max(1),
            wrap: self.wrap,
        }
    }

    /// Rows of text (the status row excluded; for a table, the header row too).
    pub fn body_rows(&self, doc: &Doc) -> u16 {
        let h = self.height.saturating_sub(1);
        if doc.table().is_some() {
            h.saturating_sub(1)
        } else {
            h
        }
        .max(1)
    }

    pub(crate) fn highlight(&self) -> Option<Matcher> {
        match &self.input {
            Some(q) => Matcher::new(q),
            None => self.search.as_ref().map(|s| s.matcher.clone()),
        }
    }

    // ---- the pane -------------------------------------------------------------------------

    /// Sets the pane's size (the area given to `render`: text and status row). Cheap when the
    /// size is unchanged; otherwise only the top line is laid out again, and the row count is
    /// begun again at the new width.
    pub fn resize(&mut self, doc: &Doc, width: u16, height: u16) {
        if (width, height) == (self.width, self.height) {
            return;
        }
        self.width = width.max(1);
        self.height = height.max(2);
        self.relayout(doc);
    }

    /// Lays the top line out again after the width or wrapping changed, keeping its place.
    fn relayout(&mut self, doc: &Doc) {
        let byte = self.top_byte;
        self.top.row = self.row_of_byte(doc, self.top.line, byte);
        self.top = self.clamp(doc, self.top);
        self.top_byte = self.row_start(doc, self.top);
        self.fix_hscroll(doc);
        if self.pass_key(self.params()) != self.pass_key(self.pass.params) {
            self.pass = Pass::new(self.params());
        }
    }

    fn pass_key(&self, p: Params) -> Params {
        if p.wrap {
            p
        } else {
            Params {
                width: 0,
                wrap: false,
            }
        }
    }

    // ---- rows -----------------------------------------------------------------------------

    fn rows(&self, doc: &Doc, l: u64) -> u32 {
        doc.rows(l, self.params()).max(1)
    }

    /// The row of line `l` that shows byte `byte` of its text.
    fn row_of_byte(&self, doc: &Doc, l: u64, byte: u32) -> u32 {
        if self.rows(doc, l) == 1 {
            return 0;
        }
        match doc.laid(l, self.params()) {
            Laid::Lines { wrapped, .. } => wrapped
                .rows
                .iter()
                .rposition(|&(s, _)| s <= byte)
                .unwrap_or(0) as u32,
            _ => 0,
        }
    }

    /// The byte where row `t.row` of line `t.line` begins.
    fn row_start(&self, doc: &Doc, t: Top) -> u32 {
        if t.row == 0 {
            return 0;
        }
        match doc.laid(t.line, self.params()) {
            Laid::Lines { wrapped, .. } => wrapped.rows.get(t.row as usize).map_or(0, |&(s, _)| s),
            _ => 0,
        }
    }

    /// `n` rows further down (stopping at the last row).
    fn advance(&self, doc: &Doc, mut p: Top, mut n: u64) -> Top {
        while n > 0 {
            let r = u64::from(self.rows(doc, p.line));
            if u64::from(p.row) + n < r {
                p.row += n as u32;
                return p;
            }
            n -= r - u64::from(p.row);
            match doc.next(p.line) {
                Some(l) => p = Top { line: l, row: 0 },
                None => {
                    p.row = (r - 1) as u32;
                    return p;
                }
            }
        }
        p
    }

    /// `n` rows further up (stopping at the first row).
    fn retreat(&self, doc: &Doc, mut p: Top, mut n: u64) -> Top {
        while n > 0 {
            if n <= u64::from(p.row) {
                p.row -= n as u32;
                return p;
            }
            n -= u64::from(p.row) + 1;
            match doc.prev(p.line) {
                Some(l) => {
                    p = Top {
                        line: l,
                        row: self.rows(doc, l) - 1,
                    }
                }
                None => {
                    p.row = 0;
                    return p;
                }
            }
        }
        p
    }

    /// The top that shows the last row at the bottom of the pane.
    fn end_top(&self, doc: &Doc) -> Top {
        let Some(last) = doc.last() else {
            return Top { line: 0, row: 0 };
        };
        let bottom = Top {
            line: last,
            row: self.rows(doc, last) - 1,
        };
        self.retreat(doc, bottom, u64::from(self.body_rows(doc)) - 1)
    }

    fn clamp(&self, doc: &Doc, mut t: Top) -> Top {
        if doc.is_empty() {
            return Top { line: 0, row: 0 };
        }
        t.row = t.row.min(self.rows(doc, t.line) - 1);
        t.min(self.end_top(doc))
    }

    fn set_top(&mut self, doc: &Doc, t: Top) {
        self.top = self.clamp(doc, t);
        self.top_byte = self.row_start(doc, self.top);
    }

    /// The last row on screen.
    pub fn bottom(&self, doc: &Doc) -> Top {
        self.advance(doc, self.top, u64::from(self.body_rows(doc)) - 1)
    }

    // ---- operations -----------------------------------------------------------------------

    pub fn scroll_down(&mut self, doc: &Doc, n: u64) {
        let t = self.advance(doc, self.top, n);
        self.set_top(doc, t);
    }

    pub fn scroll_up(&mut self, doc: &Doc, n: u64) {
        let t = self.retreat(doc, self.top, n);
        self.set_top(doc, t);
    }

    /// A page: the pane's rows less one, kept for context.
    fn page(&self, doc: &Doc) -> u64 {
        u64::from(self.body_rows(doc)).saturating_sub(1).max(1)
    }

    pub fn page_down(&mut self, doc: &Doc) {
        self.scroll_down(doc, self.page(doc));
    }

    pub fn page_up(&mut self, doc: &Doc) {
        self.scroll_up(doc, self.page(doc));
    }

    pub fn home(&mut self, doc: &Doc) {
        self.hscroll = 0;
        self.set_top(
            doc,
            Top {
                line: doc.first().unwrap_or(0),
                row: 0,
            },
        );
    }

    /// Shows the last line at the bottom of the pane.
    pub fn end(&mut self, doc: &Doc) {
        let t = self.end_top(doc);
        self.set_top(doc, t);
    }

    /// The widest sideways row on screen, in columns (a long line: its length in bytes).
    fn visible_width(&self, doc: &Doc) -> u64 {
        let mut widest = 0u64;
        let mut l = Some(self.top.line);
        let mut rows = 0u64;
        let body = u64::from(self.body_rows(doc));
        while let Some(at) = l {
            if rows >= body {
                break;
            }
            let w = match doc.laid(at, self.params()) {
                Laid::Lines { text, wrapped, .. } if wrapped.sideways => width(&text),
                Laid::Long { l, end } => end - l,
                _ => 0,
            };
            widest = widest.max(w);
            rows += u64::from(self.rows(doc, at));
            l = doc.next(at);
        }
        widest
    }

    fn max_hscroll(&self, doc: &Doc) -> u64 {
        match doc.table() {
            Some(t) => (t.widths.len().max(t.head.len()) as u64).saturating_sub(1),
            None => self
                .visible_width(doc)
                .saturating_sub(u64::from(self.width).saturating_sub(1)),
        }
    }

    fn fix_hscroll(&mut self, doc: &Doc) {
        if doc.table().is_some() {
            self.hscroll = self.hscroll.min(self.max_hscroll(doc));
        }
    }

    pub fn scroll_right(&mut self, doc: &Doc) {
        let step = if doc.table().is_some() { 1 } else { HSTEP };
        self.hscroll = (self.hscroll + step).min(self.max_hscroll(doc).max(self.hscroll));
    }

    pub fn scroll_left(&mut self, doc: &Doc) {
        let step = if doc.table().is_some() { 1 } else { HSTEP };
        self.hscroll = self.hscroll.saturating_sub(step);
    }

    pub fn toggle_wrap(&mut self, doc: &Doc) {
        self.wrap = !self.wrap;
        self.relayout(doc);
        self.message = Some(if self.wrap {
            "wrapping long lines".into()
        } else {
            "not wrapping: ←/→ scroll sideways".into()
        });
    }

    /// Handles a message; see [`Msg`].
    pub fn update(&mut self, doc: &Doc, msg: Msg) {
        self.message = None;
        self.pending_reveal = None;
        match msg {
            Msg::Up => self.scroll_up(doc, 1),
            Msg::Down => self.scroll_down(doc, 1),
            Msg::PageUp => self.page_up(doc),
            Msg::PageDown => self.page_down(doc),
            Msg::Home => self.home(doc),
            Msg::End => self.end(doc),
            Msg::Left => self.scroll_left(doc),
            Msg::Right => self.scroll_right(doc),
            Msg::ToggleWrap => self.toggle_wrap(doc),
            Msg::Find => self.input = Some(String::new()),
            Msg::FindNext => self.find(doc, true),
            Msg::FindPrev => self.find(doc, false),
            Msg::ClearSearch => self.search = None,
            Msg::Type(c) => self.update_input(c),
            Msg::Paste(text) => {
                for c in text.chars() {
                    let c = if c == '\n' || c == '\t' { ' ' } else { c };
                    self.update_input(c);
                }
            }
            Msg::Backspace => {
                if let Some(q) = &mut self.input {
                    q.pop();
                }
            }
            Msg::ClearInput => {
                if let Some(q) = &mut self.input {
                    q.clear();
                }
            }
            Msg::Cancel => self.input = None,
            Msg::Submit => {
                if let Some(q) = self.input.take() {
                    self.set_query(doc, &q);
                }
            }
        }
    }

    fn update_input(&mut self, c: char) {
        if let Some(q) = &mut self.input
            && !c.is_control()
            && !crate::domain::sanitize::is_forbidden_char(c)
            && q.chars().count() < MAX_QUERY
        {
            q.push(c);
        }
    }

    /// The message for a key, as this component binds keys (see the module's documentation);
    /// `None` for keys it leaves to the caller. While a query is typed every key is taken.
    pub fn msg_for_key(&self, k: KeyEvent) -> Option<Msg> {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        if self.input.is_some() {
            return match k.code {
                KeyCode::Enter => Some(Msg::Submit),
                KeyCode::Esc => Some(Msg::Cancel),
                KeyCode::Backspace => Some(Msg::Backspace),
                KeyCode::Char('u') if ctrl => Some(Msg::ClearInput),
                KeyCode::Char(c) if !ctrl => Some(Msg::Type(c)),
                _ => None,
            };
        }
        if ctrl {
            return match k.code {
                KeyCode::Char('f') => Some(Msg::Find),
                _ => None,
            };
        }
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Msg::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Msg::Down),
            KeyCode::PageUp => Some(Msg::PageUp),
            KeyCode::PageDown => Some(Msg::PageDown),
            KeyCode::Home => Some(Msg::Home),
            KeyCode::End => Some(Msg::End),
            KeyCode::Left | KeyCode::Char('h') => Some(Msg::Left),
            KeyCode::Right | KeyCode::Char('l') => Some(Msg::Right),
            KeyCode::Char('w') => Some(Msg::ToggleWrap),
            KeyCode::Char('f') => Some(Msg::Find),
            KeyCode::Char('.') | KeyCode::F(3) if !k.modifiers.contains(KeyModifiers::SHIFT) => {
                Some(Msg::FindNext)
            }
            KeyCode::Char(',') | KeyCode::F(3) => Some(Msg::FindPrev),
            KeyCode::Esc if self.search.is_some() => Some(Msg::ClearSearch),
            _ => None,
        }
    }

    /// Handles a key if this component binds it; returns whether it did. While a query is
    /// typed it takes every key (those it has no use for do nothing).
    pub fn key(&mut self, doc: &Doc, k: KeyEvent) -> bool {
        match self.msg_for_key(k) {
            Some(m) => {
                self.update(doc, m);
                true
            }
            None => self.input.is_some(),
        }
    }

    // ---- search ---------------------------------------------------------------------------

    /// Searches for `query` (literal, any case) from the top of the pane; an empty query ends
    /// the search.
    pub fn set_query(&mut self, doc: &Doc, query: &str) {
        let Some(matcher) = Matcher::new(query) else {
            self.search = None;
            return;
        };
        let (start, _) = doc.scan_bounds();
        self.search = Some(Search {
            matcher,
            current: None,
            rank: None,
            seek: None,
            count: Count {
                cursor: doc.cursor_at(start),
                done: false,
                n: 0,
                marks: Vec::new(),
            },
            none: false,
        });
        self.find(doc, true);
    }

    /// Whether match `m` is on screen.
    fn on_screen(&self, doc: &Doc, m: MatchPos) -> bool {
        let row = self.match_row(doc, m);
        let at = Top { line: m.line, row };
        self.top <= at && at <= self.bottom(doc)
    }

    /// The row of its line that match `m` is on.
    fn match_row(&self, doc: &Doc, m: MatchPos) -> u32 {
        if doc.table().is_some() || doc.text().is_some_and(|_| m.seg > 0) {
            return 0;
        }
        self.row_of_byte(doc, m.line, m.start)
    }

    /// Where the row `t` ends: (segment, byte) in its line, for a search from the bottom of the
    /// pane (a row that is a whole line ends after everything in it).
    fn row_end(&self, doc: &Doc, t: Top) -> (u32, u32) {
        match doc.laid(t.line, self.params()) {
            Laid::Lines { wrapped, .. } if !wrapped.sideways => wrapped
                .rows
                .get(t.row as usize)
                .map_or((u32::MAX, u32::MAX), |&(_, e)| (0, e)),
            _ => (u32::MAX, u32::MAX),
        }
    }

    /// Starts looking for the next (or previous) match: from the current match if it is on
    /// screen, else from the top of the pane (forward) or its bottom (backward).
    fn find(&mut self, doc: &Doc, forward: bool) {
        let Some(s) = &self.search else {
            self.message = Some("no search: f to search the evidence".into());
            return;
        };
        let current = s.current;
        let (origin, inclusive) = match current {
            Some(m) if self.on_screen(doc, m) => (m, false),
            _ if forward => (
                MatchPos {
                    line: self.top.line,
                    seg: 0,
                    start: self.top_byte,
                    end: self.top_byte,
                },
                true,
            ),
            _ => {
                let bottom = self.bottom(doc);
                let (seg, start) = self.row_end(doc, bottom);
                (
                    MatchPos {
                        line: bottom.line,
                        seg,
                        start,
                        end: start,
                    },
                    false,
                )
            }
        };
        let Some(s) = &mut self.search else { return };
        s.seek = None;
        let was = current;
        let region = doc.region_at(origin.line, origin.seg);
        let matches = doc.region_matches(&region, &s.matcher);
        let key = |m: &MatchPos| (m.seg, m.start);
        let okey = key(&origin);
        let found = if forward {
            matches
                .iter()
                .find(|m| key(m) > okey || inclusive && key(m) == okey)
                .copied()
        } else {
            matches.iter().rev().find(|m| key(m) < okey).copied()
        };
        if let Some(m) = found {
            self.found(doc, m, false, was);
            return;
        }
        let cursor = if forward { region.next } else { region.prev };
        if let Some(s) = &mut self.search {
            s.seek = Some(Seek {
                forward,
                cursor,
                origin,
                inclusive,
                origin_region: region,
                wrapped: false,
                was,
            });
        }
        self.run(doc, Instant::now() + KEY_BUDGET);
        if self.search.as_ref().is_some_and(|s| s.seek.is_some()) {
            self.message = Some("searching…".into());
        }
    }

    /// A match was found: it becomes current and is brought on screen.
    fn found(&mut self, doc: &Doc, m: MatchPos, wrapped: bool, was: Option<MatchPos>) {
        let forward = self
            .search
            .as_ref()
            .and_then(|s| s.seek.as_ref())
            .is_none_or(|k| k.forward);
        if let Some(s) = &mut self.search {
            s.current = Some(m);
            s.seek = None;
            s.none = false;
            s.rank = None;
        }
        self.message = if was == Some(m) {
            Some("the only match".into())
        } else if wrapped {
            Some(if forward {
                "search reached the end: continued from the top".into()
            } else {
                "search reached the top: continued from the end".into()
            })
        } else {
            None
        };
        self.reveal(doc, m);
        self.rank_current(doc);
    }

    /// Scrolls so that match `m` is on screen, sideways too.
    fn reveal(&mut self, doc: &Doc, m: MatchPos) {
        let row = self.match_row(doc, m);
        let at = Top { line: m.line, row };
        if !(self.top <= at && at <= self.bottom(doc)) {
            let context = u64::from(self.body_rows(doc) / 3);
            let t = self.retreat(doc, at, context);
            self.set_top(doc, t);
        }
        let w = u64::from(self.width);
        if let Some(t) = doc.table() {
            let col = u64::from(m.seg);
            if col < self.hscroll {
                self.hscroll = col;
            } else {
                // the first column from which `col` fits
                let mut first = col;
                let mut used = t.width_of(col as usize) + 3;
                while first > self.hscroll && used + t.width_of(first as usize - 1) + 3 <= w {
                    first -= 1;
                    used += t.width_of(first as usize) + 3;
                }
                if first > self.hscroll {
                    self.hscroll = first;
                }
            }
            return;
        }
        let (col, mw) = match doc.laid(m.line, self.params()) {
            Laid::Lines { text, wrapped, .. } if wrapped.sideways => {
                let c = col_of_byte(&text, m.start as usize);
                (c, col_of_byte(&text, m.end as usize) - c)
            }
            Laid::Long { l, end } => {
                let Some(t) = doc.text() else { return };
                // (measuring a long line up to a far piece is left to steps)
                let Some(c0) = t.piece_col_within(doc.src(), l, end, m.seg, REVEAL_PIECES) else {
                    self.pending_reveal = Some(m);
                    return;
                };
                self.pending_reveal = None;
                let piece = doc.seg_text(m.line, m.seg);
                let c = c0 + col_of_byte(&piece, m.start as usize);
                (c, width(&piece[m.start as usize..m.end as usize]))
            }
            _ => return,
        };
        if col < self.hscroll || col + mw > self.hscroll + w.saturating_sub(1) {
            self.hscroll = col.saturating_sub(w / 3);
        }
    }

    /// Works on the pending search until `deadline`.
    fn run(&mut self, doc: &Doc, deadline: Instant) {
        loop {
            let Some(s) = &mut self.search else { return };
            let Some(k) = &mut s.seek else { return };
            let (start, end) = doc.scan_bounds();
            let scan = if k.forward {
                let until = if k.wrapped {
                    k.origin_region.prev.pos
                } else {
                    end
                };
                doc.scan_fwd(&s.matcher, k.cursor, until, SCAN_SLICE)
            } else {
                let floor = if k.wrapped {
                    k.origin_region.next.pos
                } else {
                    start
                };
                doc.scan_back(&s.matcher, k.cursor, floor, SCAN_SLICE)
            };
            match scan {
                Scan::Hit(r) => {
                    let ms = doc.region_matches(&r, &s.matcher);
                    let pick = if k.forward { ms.first() } else { ms.last() };
                    match pick {
                        Some(&m) => {
                            let (wrapped, was) = (k.wrapped, k.was);
                            self.found(doc, m, wrapped, was);
                            return;
                        }
                        None => k.cursor = if k.forward { r.next } else { r.prev },
                    }
                }
                Scan::More(c) => k.cursor = c,
                Scan::End if !k.wrapped => {
                    k.wrapped = true;
                    k.cursor = if k.forward {
                        doc.cursor_at(start)
                    } else {
                        Cursor {
                            pos: end,
                            line: UNKNOWN,
                        }
                    };
                }
                Scan::End => {
                    // Back where it began: the origin's region, whole.
                    let ms = doc.region_matches(&k.origin_region, &s.matcher);
                    let pick = if k.forward { ms.first() } else { ms.last() };
                    let _ = (k.origin, k.inclusive);
                    match pick.copied() {
                        Some(m) => {
                            let was = k.was;
                            self.found(doc, m, true, was);
                        }
                        None => {
                            s.seek = None;
                            s.none = true;
                            s.current = None;
                            s.count.done = true;
                            s.count.n = 0;
                            self.message = Some(format!("no match for “{}”", s.matcher.query()));
                        }
                    }
                    return;
                }
            }
            if Instant::now() >= deadline {
                return;
            }
        }
    }

    /// Finds the rank of the current match if the count has gone past it.
    fn rank_current(&mut self, doc: &Doc) {
        let Some(s) = &mut self.search else { return };
        let Some(m) = s.current else { return };
        if s.rank.is_some() {
            return;
        }
        let region = doc.region_at(m.line, m.seg);
        let r0 = region.prev.pos;
        if !(s.count.done || s.count.cursor.pos > r0) {
            return;
        }
        let i = s.count.marks.partition_point(|(c, _)| c.pos <= r0);
        let (mut c, mut n) = match i {
            0 => (doc.cursor_at(doc.scan_bounds().0), 0),
            _ => s.count.marks[i - 1],
        };
        loop {
            match doc.scan_fwd(&s.matcher, c, r0, u64::MAX) {
                Scan::Hit(r) => {
                    n += doc.region_matches(&r, &s.matcher).len() as u64;
                    c = r.next;
                }
                Scan::More(next) => c = next,
                Scan::End => break,
            }
        }
        let before = doc
            .region_matches(&region, &s.matcher)
            .iter()
            .filter(|x| (x.seg, x.start) < (m.seg, m.start))
            .count() as u64;
        s.rank = Some(n + before + 1);
    }

    /// One bounded step of the match count.
    fn count_step(&mut self, doc: &Doc, deadline: Instant) {
        let gap = if doc.text().is_none() && doc.table().is_none() {
            COUNT_GAP_LINES
        } else {
            COUNT_GAP_BYTES
        };
        let Some(s) = &mut self.search else { return };
        let end = doc.scan_bounds().1;
        while !s.count.done {
            match doc.scan_fwd(&s.matcher, s.count.cursor, end, SCAN_SLICE) {
                Scan::Hit(r) => {
                    s.count.n += doc.region_matches(&r, &s.matcher).len() as u64;
                    s.count.cursor = r.next;
                }
                Scan::More(c) => s.count.cursor = c,
                Scan::End => s.count.done = true,
            }
            let last = s.count.marks.last().map_or(0, |(c, _)| c.pos);
            if !s.count.done && s.count.cursor.pos >= last + gap {
                s.count.marks.push((s.count.cursor, s.count.n));
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }

    // ---- the row count --------------------------------------------------------------------

    /// One bounded step of the row count.
    fn pass_step(&mut self, doc: &Doc, deadline: Instant) {
        if doc.table().is_some() {
            self.pass.started = true;
            self.pass.next = None;
            return;
        }
        let p = self.pass.params;
        let pass = &mut self.pass;
        if !pass.started {
            pass.started = true;
            pass.next = doc.first();
            if let Some(l) = pass.next {
                pass.marks.push(Mark {
                    line: l,
                    line_no: 0,
                    row: 0,
                });
                pass.block_start = l;
            }
        }
        if let Some(t) = doc.text() {
            // Plain text: the lines of a chunk at a time, from one memchr pass.
            while let Some(from) = pass.next {
                pass.next = t.each_line(doc.src(), from, 1 << 20, |l, end| {
                    if pass.block_lines >= MARK_LINES || l - pass.block_start >= MARK_BYTES {
                        pass.marks.push(Mark {
                            line: l,
                            line_no: pass.line_no,
                            row: pass.row,
                        });
                        pass.block_lines = 0;
                        pass.block_start = l;
                    }
                    pass.row += u64::from(doc.text_rows(l, end, p).max(1));
                    pass.line_no += 1;
                    pass.block_lines += 1;
                });
                if Instant::now() >= deadline {
                    break;
                }
            }
            return;
        }
        let mut n = 0u32;
        while let Some(l) = pass.next {
            if pass.block_lines >= MARK_LINES
                || (doc.text().is_some() && l - pass.block_start >= MARK_BYTES)
            {
                pass.marks.push(Mark {
                    line: l,
                    line_no: pass.line_no,
                    row: pass.row,
                });
                pass.block_lines = 0;
                pass.block_start = l;
            }
            pass.row += u64::from(doc.rows(l, p).max(1));
            pass.line_no += 1;
            pass.block_lines += 1;
            pass.next = doc.next(l);
            n += 1;
            if n.is_multiple_of(64) && Instant::now() >= deadline {
                break;
            }
        }
    }

    /// The display row (from 0) at which line `l` begins, when the row count has gone past it.
    pub fn row_of_line(&self, doc: &Doc, l: u64) -> Option<u64> {
        if let Some(t) = doc.table() {
            return Some(t.number(doc.src(), l).saturating_sub(1));
        }
        if self.pass_key(self.params()) != self.pass_key(self.pass.params) {
            return None;
        }
        let passed = self.pass.done() || self.pass.started && self.pass.next.is_some_and(|n| l < n);
        if !passed {
            return None;
        }
        let i = self.pass.marks.partition_point(|m| m.line <= l);
        let mark = self.pass.marks.get(i.checked_sub(1)?)?;
        let mut row = mark.row;
        let mut at = mark.line;
        while at < l {
            row += u64::from(self.rows(doc, at));
            at = doc.next(at)?;
        }
        Some(row)
    }

    /// The total of display rows, when counted.
    pub fn total_rows(&self, doc: &Doc) -> Option<u64> {
        if let Some(t) = doc.table() {
            return Some(t.records.saturating_sub(1));
        }
        (self.pass.done() && self.pass_key(self.params()) == self.pass_key(self.pass.params))
            .then_some(self.pass.row)
    }

    /// Source lines (records for a table), when counted.
    pub fn total_lines(&self, doc: &Doc) -> Option<u64> {
        if let Some(t) = doc.table() {
            return Some(t.records.saturating_sub(1));
        }
        self.pass.done().then_some(self.pass.line_no)
    }

    /// Does bounded work — a pending search first, then the row count, then the match count —
    /// until `budget` has passed (at least one small unit of work is done). Returns whether
    /// work remains.
    pub fn step(&mut self, doc: &Doc, budget: Duration) -> bool {
        let deadline = Instant::now() + budget;
        if let Some(m) = self.pending_reveal {
            while self.pending_reveal.is_some() {
                self.reveal(doc, m);
                if Instant::now() >= deadline {
                    break;
                }
            }
        } else if self.search.as_ref().is_some_and(|s| s.seek.is_some()) {
            self.run(doc, deadline);
        } else if !self.pass.done() {
            self.pass_step(doc, deadline);
        } else if self.search.as_ref().is_some_and(|s| !s.count.done) {
            self.count_step(doc, deadline);
            self.rank_current(doc);
        } else {
            self.rank_current(doc);
        }
        self.busy()
    }

    /// Runs [`Self::step`] until nothing is left (for tests and small documents).
    pub fn finish(&mut self, doc: &Doc) {
        while self.busy() {
            self.step(doc, Duration::from_millis(50));
        }
    }

    /// Bytes of memory the view holds: the marks of the row count and of the match count.
    pub fn memory_bytes(&self) -> usize {
        self.pass.marks.capacity() * std::mem::size_of::<Mark>()
            + self.search.as_ref().map_or(0, |s| {
                s.count.marks.capacity() * std::mem::size_of::<(Cursor, u64)>()
            })
    }

    /// Shows the line `fraction` (0 to 1) of the way into the document (by bytes; by lines for
    /// Markdown) at the top.
    pub fn jump_to_fraction(&mut self, doc: &Doc, fraction: f64) {
        let f = fraction.clamp(0.0, 1.0);
        let Some(l) = doc.line_at_fraction(f) else {
            return;
        };
        self.set_top(doc, Top { line: l, row: 0 });
    }

    // ---- position ---------------------------------------------------------------------------

    /// Where the pane is: the first and last display rows shown (from 1) and the total, when
    /// known; else how far in, by bytes, as a percentage.
    pub fn position(&self, doc: &Doc) -> Position {
        if doc.is_empty() {
            return Position::Empty;
        }
        let bottom = self.bottom(doc);
        let first = self
            .row_of_line(doc, self.top.line)
            .map(|r| r + u64::from(self.top.row) + 1);
        let last = self
            .row_of_line(doc, bottom.line)
            .map(|r| r + u64::from(bottom.row) + 1);
        match (first, last, self.total_rows(doc)) {
            (Some(a), Some(b), Some(t)) => Position::Rows {
                first: a,
                last: b,
                total: t,
            },
            _ => {
                let at_end = bottom.line == doc.last().unwrap_or(0)
                    && bottom.row + 1 >= self.rows(doc, bottom.line);
                let pct = if at_end {
                    100
                } else {
                    (doc.frac(self.top.line) * 100.0).floor() as u8
                };
                Position::Percent { first, pct }
            }
        }
    }
}

/// Where a view is, for the status row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Empty,
    /// Display rows `first..=last` of `total` are shown.
    Rows {
        first: u64,
        last: u64,
        total: u64,
    },
    /// The total is still being counted: the first row shown, if known, and how far in by bytes.
    Percent {
        first: Option<u64>,
        pct: u8,
    },
}
