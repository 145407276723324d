//! The one place YAML enters assay.
//!
//! A document is read twice: once by an event parser that keeps the position of every node (so
//! that semantic errors can name `FILE:LINE:COL`, and unknown fields can all be reported in one
//! pass), and once by serde into typed structs. Size, encoding, nesting depth and alias expansion
//! are checked before serde ever sees the text.

use std::collections::HashMap;
use std::fmt;

use serde::de::DeserializeOwned;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Largest YAML file accepted (rubrics and manifests alike).
pub const MAX_BYTES: usize = 1024 * 1024;
/// Deepest nesting accepted; real rubrics need six or seven levels.
pub const MAX_DEPTH: usize = 64;
/// Largest number of nodes a document may expand to once aliases are followed.
pub const MAX_EXPANDED_NODES: u64 = 200_000;

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a file, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    pub pos: Pos,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            pos,
            message: message.into(),
        }
    }
    pub fn warning(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, pos, message)
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.pos.line, self.pos.col, kind, self.message
        )
    }
}

/// Diagnostics of one file, errors and warnings together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.is_error())
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| !d.is_error())
    }
    pub fn sort(&mut self) {
        self.0.sort_by_key(|d| (d.pos.line, d.pos.col));
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A YAML node with the position where it starts.
#[derive(Debug, Clone)]
pub enum Node {
    /// A scalar's text and position, and whether it was written plain (not quoted, not a
    /// block): only a plain scalar can be a number.
    Scalar(String, Pos, bool),
    Seq(Vec<Node>, Pos),
    /// Entries: key text, key position, value.
    Map(Vec<(String, Pos, Node)>, Pos),
    Alias(Pos),
}

impl Node {
    pub fn pos(&self) -> Pos {
        match self {
            Node::Scalar(_, p, _) | Node::Seq(_, p) | Node::Map(_, p) | Node::Alias(p) => *p,
        }
    }

    /// The value at a key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }

    /// The position of a key of a mapping (where the key itself stands).
    pub fn key_pos(&self, key: &str) -> Option<Pos> {
        match self {
            Node::Map(entries, _) => entries.iter().find(|(k, _, _)| k == key).map(|e| e.1),
            _ => None,
        }
    }

    pub fn index(&self, i: usize) -> Option<&Node> {
        match self {
            Node::Seq(items, _) => items.get(i),
            _ => None,
        }
    }
}

/// Finds positions by path in a parsed document: `criteria[2].levels[0].points`.
#[derive(Debug, Clone)]
pub struct Locator {
    root: Node,
}

impl Locator {
    pub fn root(&self) -> &Node {
        &self.root
    }

    /// The position of the value at `path`, or of the nearest ancestor that exists (a missing
    /// field is reported where its mapping starts).
    pub fn pos(&self, path: &str) -> Pos {
        self.walk(path, false)
    }

    /// Like [`Locator::pos`], but for the last segment the position of the key, not the value.
    pub fn key_pos(&self, path: &str) -> Pos {
        self.walk(path, true)
    }

    fn walk(&self, path: &str, want_key: bool) -> Pos {
        let segs = split_path(path);
        let mut node = &self.root;
        let n = segs.len();
        for (i, seg) in segs.iter().enumerate() {
            let next = match seg {
                Seg::Key(k) => {
                    if want_key && i + 1 == n {
                        return node.key_pos(k).unwrap_or(node.pos());
                    }
                    node.get(k)
                }
                Seg::Index(ix) => node.index(*ix),
            };
            match next {
                Some(nx) => node = nx,
                None => return node.pos(),
            }
        }
        node.pos()
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|s| !s.is_empty()) {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Seg::Key(name));
        }
        for ix in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = ix.trim_end_matches(']').parse() {
                out.push(Seg::Index(i));
            }
        }
    }
    out
}

/// What the document is expected to look like, for finding unknown fields.
pub enum Shape {
    /// A mapping with these known fields.
    Map(&'static [(&'static str, &'static Shape)]),
    /// A sequence of items of one shape.
    Seq(&'static Shape),
    /// Anything (a scalar, or a value whose type serde checks).
    Any,
    /// A number field: its literal is checked as written (see [`crate::domain::num::Field`]).
    Num(crate::domain::num::Field),
}

pub static ANY: Shape = Shape::Any;

/// A document read from text: the position tree, ready for typed decoding.
pub struct Document<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub locator: Locator,
}

/// Reads bytes as a YAML document whose top level is a mapping. Refuses (with a located
/// diagnostic) files that are too large, not UTF-8, empty, too deep, alias bombs or syntax errors.
pub fn parse<'a>(file: &'a str, bytes: &'a [u8]) -> Result<Document<'a>, Diagnostics> {
    let start = Pos { line: 1, col: 1 };
    let fail = |pos: Pos, msg: String| Err(Diagnostics(vec![Diagnostic::error(file, pos, msg)]));
    if bytes.len() > MAX_BYTES {
        return fail(
            start,
            format!(
                "file is {} bytes; the limit is {} bytes (1 MiB): split it or remove what is not needed",
                bytes.len(),
                MAX_BYTES
            ),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let before = &bytes[..at];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let col = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            return fail(
                Pos { line, col },
                format!(
                    "the file is not valid UTF-8 (byte 0x{:02X}); save it as UTF-8",
                    bytes[at]
                ),
            );
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return fail(start, "the file is empty; it must be a YAML mapping".into());
    }
    // YAML allows no raw control characters but tab and line breaks; say where one is.
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
            || c == '\u{7f}'
            || (('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}')
    }) {
        let before = &text[..i];
        let line_start = before.rfind('\n').map_or(0, |j| j + 1);
        return fail(
            Pos {
                line: before.matches('\n').count() + 1,
                col: before[line_start..].chars().count() + 1,
            },
            format!(
                "the file holds the control character U+{:04X} here, which YAML does not allow; remove it",
                c as u32
            ),
        );
    }
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    // Event by event rather than `Parser::load`, which recurses once per level of nesting: a
    // 100 KB line of `- - - …` overflowed the stack before the builder's depth limit could stop it.
    let loaded = loop {
        match parser.next_token() {
            Ok((Event::StreamEnd, _)) => break Ok(()),
            Ok((ev, mark)) => {
                builder.on_event(ev, mark);
                if builder.failure.is_some() {
                    break Ok(());
                }
            }
            Err(e) => break Err(e),
        }
    };
    // A problem the builder found comes before any later syntax error.
    if let Some((pos, msg)) = builder.failure {
        return fail(pos, msg);
    }
    if let Err(e) = loaded {
        let m = e.marker();
        let msg = if e.info().contains("recursion limit") {
            format!("the document nests deeper than {MAX_DEPTH} levels; flatten it")
        } else {
            format!(
                "YAML syntax: {}; check the quotes, brackets, colons and indentation here and just before",
                e.info()
            )
        };
        return fail(
            Pos {
                line: m.line(),
                col: m.col() + 1,
            },
            msg,
        );
    }
    let root = match builder.root {
        Some(r) => r,
        None => {
            return fail(
                start,
                "the file is empty (it holds no YAML document); it must be a YAML mapping".into(),
            );
        }
    };
    if builder.expanded > MAX_EXPANDED_NODES {
        return fail(
            start,
            format!(
                "YAML anchors and aliases expand to more than {MAX_EXPANDED_NODES} nodes; write the content out instead of repeating aliases"
            ),
        );
    }
    if !matches!(root, Node::Map(..)) {
        return fail(
            root.pos(),
            "the document must be a mapping of fields (`format: …`, `id: …`), not a list or a single value".into(),
        );
    }
    Ok(Document {
        file,
        text,
        locator: Locator { root },
    })
}

impl Document<'_> {
    /// Every field not in `shape`, with a "did you mean" hint where a known field is close.
    pub fn unknown_fields(&self, shape: &Shape) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        check_shape(self.file, self.locator.root(), shape, &mut out);
        out
    }

    /// Keys written twice in one mapping, each reported where it is written again.
    pub fn duplicate_keys(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut stack = vec![self.locator.root()];
        while let Some(n) = stack.pop() {
            match n {
                Node::Map(entries, _) => {
                    // A map from key to its first place, not a scan of the keys before each
                    // one: a hostile file can hold 100 000 keys in one mapping.
                    let mut seen: HashMap<&str, Pos> = HashMap::with_capacity(entries.len());
                    for (k, kp, v) in entries {
                        if let Some(first) = seen.get(k.as_str()) {
                            out.push(Diagnostic::error(
                                self.file,
                                *kp,
                                format!(
                                    "`{}` is written twice in this mapping (first on line {}); keep one",
                                    crate::domain::sanitize::sanitize_line(k),
                                    first.line
                                ),
                            ));
                        } else {
                            seen.insert(k, *kp);
                        }
                        stack.push(v);
                    }
                }
                Node::Seq(items, _) => stack.extend(items.iter()),
                _ => {}
            }
        }
        out
    }

    /// The structural pass every loader shares: unknown fields and duplicate keys collected, then
    /// serde decoding. Returns the typed value with the diagnostics found so far, or every
    /// diagnostic when decoding fails.
    pub fn decode_checked<T: DeserializeOwned>(
        &self,
        shape: &Shape,
    ) -> Result<(T, Vec<Diagnostic>), Diagnostics> {
        let mut diags = self.unknown_fields(shape);
        let dups = self.duplicate_keys();
        let has_dups = !dups.is_empty();
        diags.extend(dups);
        match self.decode() {
            Ok(v) => Ok((v, diags)),
            Err(d) => {
                // serde reports a duplicate at the top of the document; ours names the line;
                // and a number literal refused above says better than serde what is wrong.
                let said = diags.iter().any(|x| x.pos == d.pos);
                if !(said || has_dups && d.message.starts_with("duplicate field")) {
                    diags.push(d);
                }
                let mut all = Diagnostics(diags);
                all.sort();
                all.0.dedup();
                Err(all)
            }
        }
    }

    /// Decodes the document into typed structs with serde; a failure names its place.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        serde_yaml::from_str(self.text).map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos {
                    line: l.line(),
                    col: l.column(),
                })
                .unwrap_or(Pos { line: 1, col: 1 });
            Diagnostic::error(self.file, pos, humanise_serde(&e.to_string()))
        })
    }

    pub fn pos(&self, path: &str) -> Pos {
        self.locator.pos(path)
    }
    pub fn key_pos(&self, path: &str) -> Pos {
        self.locator.key_pos(path)
    }
}

/// serde's messages end with " at line L column C"; the position is already in front.
fn humanise_serde(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let msg = msg.trim_start_matches(|c: char| c == '.' || c.is_whitespace());
    // Strip the path prefix serde_yaml adds ("criteria[0].levels: invalid type…").
    let msg = match msg.find(": ") {
        Some(i) if !msg[..i].contains(' ') => &msg[i + 2..],
        _ => msg,
    };
    let mut m = msg
        .replace("expected f64", "expected a number")
        .replace("expected u32", "expected a whole number")
        .replace("expected i64", "expected a whole number")
        .replace("expected a boolean", "expected true or false");
    if m.starts_with("missing field") {
        m.push_str(": add it");
    } else if m.starts_with("invalid type") && m.contains("expected a string") {
        m.push_str("; put the value in quotes, for example \"2026.1\"");
    } else if m.starts_with("invalid type") {
        m.push_str("; change the value to that type");
    }
    m
}

fn check_shape(file: &str, node: &Node, shape: &Shape, out: &mut Vec<Diagnostic>) {
    match (shape, node) {
        (Shape::Map(fields), Node::Map(entries, _)) => {
            for (key, kpos, value) in entries {
                match fields.iter().find(|(name, _)| name == key) {
                    Some((_, sub)) => check_shape(file, value, sub, out),
                    None => {
                        let names: Vec<&str> = fields.iter().map(|(n, _)| *n).collect();
                        let mut msg = format!("unknown field `{key}`");
                        match did_you_mean(key, &names) {
                            Some(best) => msg.push_str(&format!("; did you mean `{best}`?")),
                            None => msg.push_str(&format!(
                                "; remove it (known fields here: {})",
                                names.join(", ")
                            )),
                        }
                        out.push(Diagnostic::error(file, *kpos, msg));
                    }
                }
            }
        }
        (Shape::Seq(item), Node::Seq(items, _)) => {
            for it in items {
                check_shape(file, it, item, out);
            }
        }
        (Shape::Num(field), Node::Scalar(text, pos, true)) => {
            if let Err(m) = crate::domain::num::check_literal(text, *field) {
                out.push(Diagnostic::error(file, *pos, m));
            }
        }
        _ => {}
    }
}

/// How many "did you mean" hints one file gets. Finding the closest of the known names costs
/// time for every unknown one, and a hostile file can name 100 000 unknown ids.
pub const MAX_HINTS: usize = 20;
/// Longest name [`did_you_mean`] compares (ids are at most 64 characters): comparing two strings
/// costs the product of their lengths.
const HINT_MAX_LEN: usize = 64;
/// Most known names [`did_you_mean`] looks through.
const HINT_MAX_KNOWN: usize = 1000;
/// Most names [`name_list`] writes out.
const LIST_MAX: usize = 12;

/// The known name closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    if word.len() > HINT_MAX_LEN || known.len() > HINT_MAX_KNOWN {
        return None;
    }
    let w = word.to_lowercase();
    known
        .iter()
        .filter(|k| k.len() <= HINT_MAX_LEN)
        .map(|k| (strsim::jaro_winkler(&w, &k.to_lowercase()), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Names for a message, comma-separated: the first few, then how many there are in all.
pub fn name_list(names: &[&str]) -> String {
    let mut out = names
        .iter()
        .take(LIST_MAX)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LIST_MAX {
        out.push_str(&format!(", … ({} in all)", names.len()));
    }
    out
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    /// Expanded size of each anchored node, by anchor id.
    anchors: HashMap<usize, u64>,
    expanded: u64,
    failure: Option<(Pos, String)>,
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
        size: u64,
    },
    Map {
        entries: Vec<(String, Pos, Node)>,
        pending_key: Option<(String, Pos)>,
        pos: Pos,
        anchor: usize,
        size: u64,
    },
}

impl Builder {
    fn push_node(&mut self, node: Node, size: u64) {
        self.expanded = self.expanded.saturating_add(size);
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, size: s, .. }) => {
                items.push(node);
                *s = s.saturating_add(size);
            }
            Some(Frame::Map {
                entries,
                pending_key,
                size: s,
                ..
            }) => {
                *s = s.saturating_add(size);
                match pending_key.take() {
                    None => {
                        let key = match &node {
                            Node::Scalar(t, _, _) => t.clone(),
                            _ => String::from("<complex key>"),
                        };
                        *pending_key = Some((key, node.pos()));
                    }
                    Some((k, kp)) => entries.push((k, kp, node)),
                }
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.failure.is_some() {
            return;
        }
        let pos = Pos {
            line: mark.line(),
            col: mark.col() + 1,
        };
        match ev {
            Event::Scalar(value, style, anchor, _) => {
                if anchor > 0 {
                    self.anchors.insert(anchor, 1);
                }
                let plain = matches!(style, yaml_rust2::scanner::TScalarStyle::Plain);
                self.push_node(Node::Scalar(value, pos, plain), 1);
            }
            Event::Alias(id) => {
                let size = self.anchors.get(&id).copied().unwrap_or(1);
                if self.expanded.saturating_add(size) > MAX_EXPANDED_NODES {
                    self.failure = Some((
                        pos,
                        format!(
                            "YAML aliases expand to more than {MAX_EXPANDED_NODES} nodes; write the content out instead of repeating aliases"
                        ),
                    ));
                    return;
                }
                self.push_node(Node::Alias(pos), size);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.failure = Some((
                        pos,
                        format!("the document nests deeper than {MAX_DEPTH} levels; flatten it"),
                    ));
                    return;
                }
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        pos,
                        anchor,
                        size: 1,
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        pending_key: None,
                        pos,
                        anchor,
                        size: 1,
                    }
                };
                self.stack.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (node, anchor, size) = match frame {
                    Frame::Seq {
                        items,
                        pos,
                        anchor,
                        size,
                    } => (Node::Seq(items, pos), anchor, size),
                    Frame::Map {
                        entries,
                        pos,
                        anchor,
                        size,
                        ..
                    } => (Node::Map(entries, pos), anchor, size),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, size);
                }
                // The children were already counted as they arrived.
                self.expanded = self.expanded.saturating_sub(size.saturating_sub(1));
                self.push_node(node, size);
            }
            Event::DocumentStart if self.root.is_some() => {
                self.failure = Some((
                    pos,
                    "the file holds more than one YAML document; keep one".into(),
                ));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        let text = "a: 1\nb:\n  - x: 2\n    y: 3\n";
        let doc = parse("f.yaml", text.as_bytes()).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(doc.pos("a"), Pos { line: 1, col: 4 });
        assert_eq!(doc.key_pos("b"), Pos { line: 2, col: 1 });
        assert_eq!(doc.pos("b[0].y"), Pos { line: 4, col: 8 });
        assert_eq!(doc.key_pos("b[0].y"), Pos { line: 4, col: 5 });
        // a missing field points at its mapping
        assert_eq!(doc.pos("b[0].z").line, 3);
    }

    #[test]
    fn refuses_empty_non_mapping_and_bad_utf8() {
        for (text, needle) in [
            (&b""[..], "empty"),
            (&b"   \n# only a comment\n"[..], "empty"),
            (&b"- a\n- b\n"[..], "mapping"),
            (&b"just text"[..], "mapping"),
            (&b"a: \xff\xfe\n"[..], "UTF-8"),
            (&b"a: [1, 2\n"[..], "YAML syntax"),
            (&b"a: 1\n---\nb: 2\n"[..], "more than one"),
        ] {
            let err = parse("f.yaml", text).err().expect("refused");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn refuses_oversized_and_alias_bombs_and_deep_nesting() {
        let big = vec![b'a'; MAX_BYTES + 1];
        assert!(parse("f", &big).is_err());
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g'] {
            bomb.push_str(&format!(
                "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = name;
        }
        let t = std::time::Instant::now();
        let err = parse("f", bomb.as_bytes()).err().expect("bomb refused");
        assert!(err.to_string().contains("aliases"), "{err}");
        assert!(t.elapsed().as_secs() < 5);
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        let err = parse("f", deep.as_bytes()).err().expect("deep refused");
        assert!(err.to_string().contains("nests"), "{err}");
        // small aliases are fine
        assert!(parse("f", b"a: &x {k: 1}\nb: *x\n").is_ok());
    }

    #[test]
    fn unknown_fields_are_all_reported_with_hints() {
        static INNER: Shape = Shape::Map(&[("points", &ANY), ("label", &ANY)]);
        static LIST: Shape = Shape::Seq(&INNER);
        static ROOT: Shape = Shape::Map(&[("title", &ANY), ("levels", &LIST)]);
        let doc = parse(
            "f.yaml",
            b"titel: x\nlevels:\n  - pionts: 1\n    colour: red\n",
        )
        .unwrap();
        let errs = doc.unknown_fields(&ROOT);
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 3, "{text:?}");
        assert!(
            text[0].starts_with("f.yaml:1:1: error: unknown field `titel`; did you mean `title`?")
        );
        assert!(
            text[1]
                .starts_with("f.yaml:3:5: error: unknown field `pionts`; did you mean `points`?")
        );
        assert!(text[2].contains("4:5") && text[2].contains("known fields here"));
    }
}
