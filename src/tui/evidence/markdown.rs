//! Markdown evidence, rendered with pulldown-cmark into styled lines: headings, emphasis and
//! strong, inline code and code blocks, lists with markers and indentation, block quotes, links as
//! text followed by their address, tables as aligned grids. Every piece of text is sanitised as it
//! is taken from the parser. The lines do not depend on the pane's width: the view wraps them (a
//! list item's continuation rows hang under its text).

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::layout::{display, width};
use crate::domain::sanitize::{sanitize, sanitize_line_cow};

/// What a run of text is, for the theme to style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sty(pub u16);

impl Sty {
    pub const PLAIN: Sty = Sty(0);
    pub const BOLD: Sty = Sty(1);
    pub const ITALIC: Sty = Sty(1 << 1);
    pub const STRIKE: Sty = Sty(1 << 2);
    pub const CODE: Sty = Sty(1 << 3);
    pub const LINK: Sty = Sty(1 << 4);
    pub const URL: Sty = Sty(1 << 5);
    pub const H1: Sty = Sty(1 << 6);
    pub const H2: Sty = Sty(1 << 7);
    pub const H3: Sty = Sty(1 << 8);
    pub const QUOTE: Sty = Sty(1 << 9);
    pub const MARKER: Sty = Sty(1 << 10);
    pub const DIM: Sty = Sty(1 << 11);
    pub const BORDER: Sty = Sty(1 << 12);
    pub const HEADER: Sty = Sty(1 << 13);

    pub fn has(self, other: Sty) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Sty {
    type Output = Sty;
    fn bitor(self, o: Sty) -> Sty {
        Sty(self.0 | o.0)
    }
}

/// A styled run of a line's text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub start: u32,
    pub end: u32,
    pub sty: Sty,
}

/// One rendered line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RLine {
    /// The line's text, sanitised, its prefix (quote bars, list marker) included.
    pub text: String,
    pub runs: Vec<Run>,
    /// Drawn at the start of each wrapped continuation row (quote bars, the indentation of a list
    /// item), with its runs.
    pub cont: String,
    pub cont_runs: Vec<Run>,
    /// Whether the line may be wrapped (code and table lines scroll sideways instead).
    pub wrap: bool,
    /// A thematic break, drawn across the pane.
    pub rule: bool,
}

/// Deeper nesting than this is drawn at this depth (a hostile document nests thousands deep).
const MAX_DEPTH: usize = 12;
/// Table cells are clipped to this many columns.
const MAX_CELL: u64 = 40;

#[derive(Debug)]
enum Container {
    Quote,
    List {
        next: Option<u64>,
    },
    Item {
        marker: String,
        width: usize,
        fresh: bool,
    },
}

#[derive(Default)]
struct TableBuf {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<String>>,
    head_rows: usize,
    row: Vec<String>,
    cell: String,
}

#[derive(Default)]
struct Builder {
    out: Vec<RLine>,
    cur: Option<RLine>,
    inline: Vec<Sty>,
    containers: Vec<Container>,
    code: Option<String>,
    html: bool,
    table: Option<TableBuf>,
    /// For each open link: its address and where its text began in the current line.
    links: Vec<(String, usize)>,
    need_blank: bool,
    /// Text events not yet added: the parser splits text (at brackets, for instance), and an
    /// escape sequence split in two would leave half of itself visible.
    pending: String,
}

fn push_run(text: &mut String, runs: &mut Vec<Run>, s: &str, sty: Sty) {
    if s.is_empty() {
        return;
    }
    let a = text.len() as u32;
    text.push_str(s);
    let b = text.len() as u32;
    if sty == Sty::PLAIN {
        return;
    }
    if let Some(last) = runs.last_mut()
        && last.end == a
        && last.sty == sty
    {
        last.end = b;
        return;
    }
    runs.push(Run {
        start: a,
        end: b,
        sty,
    });
}

impl Builder {
    fn style(&self) -> Sty {
        self.inline.iter().fold(Sty::PLAIN, |a, &b| a | b)
    }

    /// The prefixes of the open containers for a new line: quote bars, and a fresh list item's
    /// marker once (when `first`) or its indentation.
    fn prefix(&mut self, first: bool) -> RLine {
        let mut line = RLine {
            wrap: true,
            ..RLine::default()
        };
        let depth = self.containers.len();
        for (i, c) in self.containers.iter_mut().enumerate() {
            // (past MAX_DEPTH only the innermost container is drawn)
            if i >= MAX_DEPTH && i + 1 < depth {
                continue;
            }
            match c {
                Container::Quote => {
                    push_run(&mut line.text, &mut line.runs, "│ ", Sty::QUOTE);
                    push_run(&mut line.cont, &mut line.cont_runs, "│ ", Sty::QUOTE);
                }
                Container::Item {
                    marker,
                    width,
                    fresh,
                } => {
                    let pad = " ".repeat(*width);
                    if *fresh && first {
                        *fresh = false;
                        push_run(&mut line.text, &mut line.runs, marker, Sty::MARKER);
                    } else {
                        line.text.push_str(&pad);
                    }
                    line.cont.push_str(&pad);
                }
                Container::List { .. } => {}
            }
        }
        line
    }

    /// The current line, started with the containers' prefixes if there is none.
    fn begin_line(&mut self) -> &mut RLine {
        if self.cur.is_none() {
            let line = self.prefix(true);
            self.cur = Some(line);
        }
        self.cur.as_mut().expect("begun")
    }

    fn flush(&mut self) {
        if let Some(mut line) = self.cur.take() {
            line.text.shrink_to_fit();
            line.runs.shrink_to_fit();
            self.out.push(line);
        }
    }

    /// Before a block: ends the current line, and leaves a blank line after the previous block.
    fn block_start(&mut self) {
        self.flush();
        if self.need_blank && !self.out.is_empty() {
            let mut blank = self.prefix(false);
            let trimmed = blank.text.trim_end().len();
            blank.text.truncate(trimmed);
            for r in &mut blank.runs {
                r.end = r.end.min(trimmed as u32);
            }
            blank.runs.retain(|r| r.start < r.end);
            self.out.push(blank);
        }
        self.need_blank = false;
    }

    fn flush_pending(&mut self) {
        if !self.pending.is_empty() {
            let t = std::mem::take(&mut self.pending);
            self.text(&t, Sty::PLAIN);
        }
    }

    fn text(&mut self, t: &str, extra: Sty) {
        if let Some(tb) = &mut self.table {
            tb.cell.push_str(&sanitize_line_cow(t));
            return;
        }
        let sty = self.style() | extra;
        let t = sanitize_line_cow(t);
        let line = self.begin_line();
        push_run(&mut line.text, &mut line.runs, &t, sty);
    }

    fn event(&mut self, ev: Event<'_>) {
        if let Event::Text(t) = &ev
            && self.code.is_none()
        {
            self.pending.push_str(t);
            return;
        }
        self.flush_pending();
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if let Some(code) = &mut self.code {
                    code.push_str(&t);
                } else {
                    self.text(&t, Sty::PLAIN);
                }
            }
            Event::Code(t) => self.text(&t, Sty::CODE),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t, Sty::CODE),
            Event::Html(t) | Event::InlineHtml(t) => {
                if self.html {
                    for l in t.lines() {
                        self.text(l, Sty::DIM);
                        self.flush();
                    }
                } else {
                    self.text(&t, Sty::DIM);
                }
            }
            Event::FootnoteReference(l) => self.text(&format!("[^{l}]"), Sty::LINK),
            Event::SoftBreak => self.text(" ", Sty::PLAIN),
            Event::HardBreak => {
                if let Some(tb) = &mut self.table {
                    tb.cell.push(' ');
                } else {
                    self.begin_line();
                    self.flush();
                }
            }
            Event::Rule => {
                self.block_start();
                self.out.push(RLine {
                    rule: true,
                    ..RLine::default()
                });
                self.need_blank = true;
            }
            Event::TaskListMarker(done) => {
                self.text(if done { "[x] " } else { "[ ] " }, Sty::MARKER)
            }
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => self.block_start(),
            Tag::Heading { level, .. } => {
                self.block_start();
                self.inline.push(match level {
                    HeadingLevel::H1 => Sty::H1,
                    HeadingLevel::H2 => Sty::H2,
                    _ => Sty::H3,
                });
            }
            Tag::BlockQuote(_) => {
                self.block_start();
                self.containers.push(Container::Quote);
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                if let CodeBlockKind::Fenced(lang) = kind
                    && !lang.is_empty()
                {
                    let lang = sanitize_line_cow(&lang).into_owned();
                    let line = self.begin_line();
                    push_run(
                        &mut line.text,
                        &mut line.runs,
                        &format!("  {lang}"),
                        Sty::DIM,
                    );
                    self.flush();
                }
                self.code = Some(String::new());
            }
            Tag::HtmlBlock => {
                self.block_start();
                self.html = true;
            }
            Tag::List(start) => {
                self.block_start();
                self.containers.push(Container::List { next: start });
            }
            Tag::Item => {
                self.block_start();
                let depth = self
                    .containers
                    .iter()
                    .filter(|c| matches!(c, Container::List { .. }))
                    .count();
                let marker = match self.containers.last_mut() {
                    Some(Container::List { next: Some(n) }) => {
                        let m = format!("{n}. ");
                        *n += 1;
                        m
                    }
                    _ => ["• ", "◦ ", "▪ "][depth.saturating_sub(1) % 3].to_string(),
                };
                let width = width(&marker) as usize;
                self.containers.push(Container::Item {
                    marker,
                    width,
                    fresh: true,
                });
            }
            Tag::FootnoteDefinition(label) => {
                self.block_start();
                let marker = format!("[^{}]: ", sanitize_line_cow(&label));
                let width = width(&marker) as usize;
                self.containers.push(Container::Item {
                    marker,
                    width,
                    fresh: true,
                });
            }
            Tag::Table(aligns) => {
                self.block_start();
                self.table = Some(TableBuf {
                    aligns,
                    ..TableBuf::default()
                });
            }
            Tag::TableHead | Tag::TableRow | Tag::TableCell => {}
            Tag::Emphasis => self.inline.push(Sty::ITALIC),
            Tag::Strong => self.inline.push(Sty::BOLD),
            Tag::Strikethrough => self.inline.push(Sty::STRIKE),
            Tag::Superscript | Tag::Subscript => self.inline.push(Sty::PLAIN),
            Tag::Link { dest_url, .. } => {
                let at = self.cur.as_ref().map_or(0, |l| l.text.len());
                self.links
                    .push((sanitize_line_cow(&dest_url).into_owned(), at));
                self.inline.push(Sty::LINK);
            }
            Tag::Image { dest_url, .. } => {
                self.text("[image: ", Sty::MARKER);
                self.links
                    .push((sanitize_line_cow(&dest_url).into_owned(), usize::MAX));
                self.inline.push(Sty::PLAIN);
            }
            Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_) => self.block_start(),
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
                self.need_blank = true;
            }
            TagEnd::Heading(_) => {
                self.inline.pop();
                self.flush();
                self.need_blank = true;
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.containers.pop();
                self.need_blank = true;
            }
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                let code = code.strip_suffix('\n').unwrap_or(&code);
                for l in code.split('\n') {
                    let l = l.strip_suffix('\r').unwrap_or(l);
                    let shown = sanitize(l);
                    let line = self.begin_line();
                    line.wrap = false;
                    line.text.push_str("    ");
                    push_run(&mut line.text, &mut line.runs, &shown, Sty::CODE);
                    self.flush();
                }
                self.need_blank = true;
            }
            TagEnd::HtmlBlock => {
                self.flush();
                self.html = false;
                self.need_blank = true;
            }
            TagEnd::List(_) => {
                self.flush();
                self.containers.pop();
                // (a list nested in an item is followed by the next item without a gap)
                self.need_blank = !self
                    .containers
                    .iter()
                    .any(|c| matches!(c, Container::Item { .. }));
            }
            TagEnd::Item | TagEnd::FootnoteDefinition => {
                // An empty item still shows its marker.
                if let Some(Container::Item { fresh: true, .. }) = self.containers.last() {
                    self.begin_line();
                }
                self.flush();
                self.containers.pop();
            }
            TagEnd::Table => {
                if let Some(tb) = self.table.take() {
                    self.table_lines(tb);
                }
                self.need_blank = true;
            }
            TagEnd::TableHead => {
                if let Some(tb) = &mut self.table {
                    let row = std::mem::take(&mut tb.row);
                    tb.rows.push(row);
                    tb.head_rows = tb.rows.len();
                }
            }
            TagEnd::TableRow => {
                if let Some(tb) = &mut self.table {
                    let row = std::mem::take(&mut tb.row);
                    tb.rows.push(row);
                }
            }
            TagEnd::TableCell => {
                if let Some(tb) = &mut self.table {
                    let cell = std::mem::take(&mut tb.cell);
                    tb.row.push(cell.trim().to_string());
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => {
                self.inline.pop();
            }
            TagEnd::Link => {
                self.inline.pop();
                if let Some((url, at)) = self.links.pop() {
                    let shown = self.cur.as_ref().map(|l| &l.text[at.min(l.text.len())..]);
                    let same = shown.is_some_and(|s| {
                        s == url || url.strip_prefix("mailto:").is_some_and(|u| u == s)
                    });
                    if !url.is_empty() && !same {
                        self.text(&format!(" <{url}>"), Sty::URL);
                    }
                }
            }
            TagEnd::Image => {
                self.inline.pop();
                self.text("]", Sty::MARKER);
                if let Some((url, _)) = self.links.pop()
                    && !url.is_empty()
                {
                    self.text(&format!(" <{url}>"), Sty::URL);
                }
            }
            TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
            | TagEnd::MetadataBlock(_) => {
                self.flush();
                self.need_blank = true;
            }
        }
    }

    /// A table as a grid: borders, a bold header row, cells aligned as the table says and clipped
    /// with an ellipsis.
    fn table_lines(&mut self, tb: TableBuf) {
        let cols = tb.rows.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 {
            return;
        }
        let mut widths = vec![1u64; cols];
        for row in &tb.rows {
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(width(c).min(MAX_CELL));
            }
        }
        let border = |l: &str, m: &str, r: &str| {
            let mut s = String::from(l);
            for (i, w) in widths.iter().enumerate() {
                if i > 0 {
                    s.push_str(m);
                }
                s.push_str(&"─".repeat(*w as usize + 2));
            }
            s.push_str(r);
            s
        };
        let mut lines = vec![(border("┌", "┬", "┐"), None)];
        for (ri, row) in tb.rows.iter().enumerate() {
            if ri == tb.head_rows && tb.head_rows > 0 {
                lines.push((border("├", "┼", "┤"), None));
            }
            lines.push((String::new(), Some((ri < tb.head_rows, row))));
        }
        lines.push((border("└", "┴", "┘"), None));
        for (text, row) in lines {
            let line = self.begin_line();
            line.wrap = false;
            match row {
                None => push_run(&mut line.text, &mut line.runs, &text, Sty::BORDER),
                Some((head, cells)) => {
                    push_run(&mut line.text, &mut line.runs, "│", Sty::BORDER);
                    for (i, w) in widths.iter().enumerate() {
                        let cell = cells.get(i).map_or("", String::as_str);
                        let shown = clip(cell, *w);
                        let pad = (*w - width(&shown)) as usize;
                        let (l, r) = match tb.aligns.get(i) {
                            Some(Alignment::Right) => (pad, 0),
                            Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                            _ => (0, pad),
                        };
                        line.text.push(' ');
                        line.text.push_str(&" ".repeat(l));
                        push_run(
                            &mut line.text,
                            &mut line.runs,
                            &shown,
                            if head { Sty::HEADER } else { Sty::PLAIN },
                        );
                        line.text.push_str(&" ".repeat(r));
                        line.text.push(' ');
                        push_run(&mut line.text, &mut line.runs, "│", Sty::BORDER);
                    }
                }
            }
            self.flush();
        }
    }
}

/// `text` clipped to `max` columns, with an ellipsis when cut.
pub fn clip(text: &str, max: u64) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    let (cut, _) = super::layout::byte_at_col(text, max.saturating_sub(1));
    format!("{}…", &text[..cut])
}

/// Renders Markdown source into lines.
pub fn render(source: &[u8]) -> Vec<RLine> {
    let text = String::from_utf8_lossy(source);
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_FOOTNOTES);
    let mut b = Builder::default();
    for ev in Parser::new_ext(&text, opts) {
        b.event(ev);
    }
    b.flush_pending();
    b.flush();
    b.out.shrink_to_fit();
    // Whatever the parser left unclosed (it closes everything, but be sure): nothing is lost.
    if let Some(code) = b.code.take() {
        for l in code.lines() {
            b.out.push(RLine {
                text: display(l.as_bytes()).into_owned(),
                ..RLine::default()
            });
        }
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        render(src.as_bytes()).into_iter().map(|l| l.text).collect()
    }

    fn styled(src: &str, needle: &str) -> Sty {
        for l in render(src.as_bytes()) {
            if let Some(at) = l.text.find(needle) {
                let at = at as u32;
                return l
                    .runs
                    .iter()
                    .find(|r| r.start <= at && at < r.end)
                    .map_or(Sty::PLAIN, |r| r.sty);
            }
        }
        panic!("{needle:?} not rendered");
    }

    #[test]
    fn blocks_render_as_lines() {
        let src = "# Title\n\nSome *emphasis* and **strong** and `code`.\n\n- one\n- two\n  - nested\n\n1. first\n2. second\n\n> quoted\n> text\n\n```rust\nfn main() {}\n```\n\n---\n\nSee [the guide](https://example.org/guide) or <https://x.org>.\n";
        let t = texts(src);
        assert_eq!(
            t,
            [
                "Title",
                "",
                "Some emphasis and strong and code.",
                "",
                "• one",
                "• two",
                "  ◦ nested",
                "",
                "1. first",
                "2. second",
                "",
                "│ quoted text",
                "",
                "  rust",
                "    fn main() {}",
                "",
                "",
                "",
                "See the guide <https://example.org/guide> or https://x.org.",
            ]
        );
        assert!(styled(src, "Title").has(Sty::H1));
        assert!(styled(src, "emphasis").has(Sty::ITALIC));
        assert!(styled(src, "strong").has(Sty::BOLD));
        assert!(styled(src, "code.").has(Sty::CODE) || styled(src, "code").has(Sty::CODE));
        assert!(styled(src, "•").has(Sty::MARKER));
        assert!(styled(src, "the guide").has(Sty::LINK));
        assert!(styled(src, "<https://example.org/guide>").has(Sty::URL));
        assert!(styled(src, "fn main").has(Sty::CODE));
        let lines = render(src.as_bytes());
        assert!(lines.iter().any(|l| l.rule));
        let code = lines.iter().find(|l| l.text.contains("fn main")).unwrap();
        assert!(!code.wrap);
        let item = lines.iter().find(|l| l.text == "  ◦ nested").unwrap();
        assert_eq!(item.cont, "    ");
        let quote = lines.iter().find(|l| l.text.contains("quoted")).unwrap();
        assert_eq!(quote.cont, "│ ");
    }

    #[test]
    fn tables_are_aligned_grids() {
        let src = "| Name | Score |\n|:-----|------:|\n| Aoife | 7 |\n| Bartholomew | 10 |\n";
        let t = texts(src);
        assert_eq!(
            t,
            [
                "┌─────────────┬───────┐",
                "│ Name        │ Score │",
                "├─────────────┼───────┤",
                "│ Aoife       │     7 │",
                "│ Bartholomew │    10 │",
                "└─────────────┴───────┘",
            ]
        );
        assert!(styled(src, "Name").has(Sty::HEADER));
        assert!(render(src.as_bytes()).iter().all(|l| !l.wrap));
    }

    #[test]
    fn hostile_markdown_is_sanitised() {
        let src = "# a\x1b]0;pwn\x07title\n\ntext \x1b[2J with \u{202e}bidi\n\n```\ncode\t\x1b[31mred\n```\n\n[x](javascript:\x1b[5m)\n";
        for l in render(src.as_bytes()) {
            assert!(
                !l.text
                    .chars()
                    .any(crate::domain::sanitize::is_forbidden_char),
                "{:?}",
                l.text
            );
            assert!(!l.text.contains('\t'));
        }
        let t = texts(src);
        assert_eq!(t[0], "a␛title");
        assert!(t.iter().any(|l| l == "    code    ␛red"), "{t:?}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let src = format!("{}deep\n", "> ".repeat(5000));
        let lines = render(src.as_bytes());
        let deep = lines.iter().find(|l| l.text.contains("deep")).unwrap();
        assert!(deep.text.len() < 200, "{}", deep.text.len());
    }

    #[test]
    fn task_lists_and_empty_items() {
        let t = texts("- [x] done\n- [ ] todo\n-\n");
        assert_eq!(t, ["• [x] done", "• [ ] todo", "• "]);
        // a tight list with a nested list has no gaps
        let t = texts("- a\n  - b\n- c\n");
        assert_eq!(t, ["• a", "  ◦ b", "• c"]);
    }
}
