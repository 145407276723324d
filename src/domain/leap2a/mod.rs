//! LEAP2A, the export of e-portfolio systems (Mahara, Moodle's portfolio export, PebblePad):
//! an Atom feed with LEAP2A's `leap2:` and `categories:` vocabularies. [`parse`] reads the feed
//! (both the namespaces of the 2010-07 specification and those Mahara writes, including its
//! web.archive.org copies, and the 2009-03 draft's); [`convert`] maps it onto an assay portfolio
//! (see `docs/leap2a.md`).
//!
//! The reader never processes a DTD: a document type declaration is refused, and so is any
//! entity other than XML's five predefined ones and character references. Every refusal names
//! the line and column.

pub mod html;
mod map;

pub use map::{Conversion, Options, convert};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::sanitize::has_control;

/// The feed's own namespace.
const ATOM: &str = "http://www.w3.org/2005/Atom";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Most entries a feed may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// Deepest nesting of elements read.
const MAX_DEPTH: usize = 256;

/// A LEAP2A namespace, whichever spelling an exporter used: the 2010-07 `terms.leapspecs.org`,
/// Mahara's archived copy of it, or the 2009-03 draft's predicates.
fn is_leap2(ns: &str) -> bool {
    let n = strip_archive(ns).trim_end_matches(['/', '#']);
    n == "http://terms.leapspecs.org"
        || n == "https://terms.leapspecs.org"
        || n == "http://wiki.cetis.ac.uk/2009-03/LEAP2A_predicates"
}

/// Mahara's namespace for its own extensions (any of the spellings it has used).
fn is_mahara(ns: &str) -> bool {
    let n = strip_archive(ns);
    n.contains("wiki.mahara.org") && n.contains("LEAP_Extensions")
}

/// `https://web.archive.org/web/20100503000634/http://x` → `http://x`.
fn strip_archive(ns: &str) -> &str {
    for p in [
        "https://web.archive.org/web/",
        "http://web.archive.org/web/",
    ] {
        if let Some(rest) = ns.strip_prefix(p)
            && let Some(i) = rest.find('/')
        {
            return &rest[i + 1..];
        }
    }
    ns
}

/// The last part of a term written as a CURIE or an address: `leap2:selection`,
/// `http://terms.leapspecs.org/selection`, `categories:selection_type#` → `selection`,
/// `selection_type`.
pub fn term(s: &str) -> &str {
    let s = s.trim().trim_end_matches(['#', '/']);
    s.rsplit([':', '/', '#']).next().unwrap_or(s)
}

/// A place in the feed, 1-based.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct At {
    pub line: usize,
    pub col: usize,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Why a feed was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub at: At,
    pub message: String,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: error: {}", self.at, self.message)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Feed {
    pub id: String,
    pub title: String,
    pub updated: String,
    pub author_name: String,
    pub author_email: Option<String>,
    pub entries: Vec<Entry>,
    /// The `leap2:version` the feed declares, if any.
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub at: At,
    pub id: String,
    pub title: String,
    pub published: Option<String>,
    pub updated: Option<String>,
    /// `rdf:type` terms: `entry`, `resource`, `selection`, `person`, `activity`, …
    pub types: Vec<String>,
    /// The summary's readable text.
    pub summary: String,
    /// The content's readable text.
    pub content: String,
    /// `content src`: a file of the export, or an address.
    pub content_src: Option<String>,
    pub links: Vec<Link>,
    pub categories: Vec<Category>,
    /// `leap2:date` (`point`, value): `start`, `end`, `target`.
    pub dates: Vec<(String, String)>,
    /// Mahara's `mahara:view mahara:type` of a page: `portfolio`, `profile`, `dashboard`, …
    pub view_type: Option<String>,
}

impl Entry {
    pub fn is(&self, t: &str) -> bool {
        self.types.iter().any(|x| x == t)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Link {
    pub at: At,
    /// The relation's term: `has_part`, `is_part_of`, `enclosure`, `related`, `alternate`, …
    pub rel: String,
    pub href: String,
    pub mime: Option<String>,
    pub display_order: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Category {
    /// The scheme's term (`selection_type`, `resource_type`, …); empty for a plain tag.
    pub scheme: String,
    pub term: String,
    pub label: Option<String>,
}

/// Line and column (in characters) of byte `pos` of `bytes`, which need not all be UTF-8.
pub fn position(bytes: &[u8], pos: usize) -> At {
    let before = &bytes[..pos.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    At { line, col }
}

fn at(text: &str, pos: usize) -> At {
    position(text.as_bytes(), pos)
}

/// Which text an element's characters go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    None,
    FeedId,
    FeedTitle,
    FeedUpdated,
    AuthorName,
    AuthorEmail,
    Version,
    Title,
    Id,
    Published,
    Updated,
    Date,
    /// Summary or content, of type text, html or xhtml.
    Summary(Kind),
    Content(Kind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Html,
    Xhtml,
}

struct Reader<'a> {
    text: &'a str,
    feed: Feed,
    entry: Option<Entry>,
    /// Element names from the root: (namespace, local name).
    stack: Vec<(String, String)>,
    sink: Sink,
    /// Depth of the element whose characters the sink takes.
    sink_depth: usize,
    buf: String,
    in_author: bool,
}

fn fail<T>(text: &str, pos: usize, message: impl Into<String>) -> Result<T, Error> {
    Err(Error {
        at: at(text, pos),
        message: message.into(),
    })
}

/// Reads a LEAP2A feed.
pub fn parse(text: &str) -> Result<Feed, Error> {
    let mut r = NsReader::from_str(text);
    r.config_mut().expand_empty_elements = true;
    r.config_mut().check_end_names = true;
    let mut me = Reader {
        text,
        feed: Feed::default(),
        entry: None,
        stack: Vec::new(),
        sink: Sink::None,
        sink_depth: 0,
        buf: String::new(),
        in_author: false,
    };
    // (XML allows no NUL anywhere: a feed holding one is damaged)
    if let Some(p) = memchr::memchr(0, text.as_bytes()) {
        return fail(
            text,
            p,
            "malformed XML: a NUL character, which XML does not allow (the file is damaged)",
        );
    }
    let mut saw_root = false;
    loop {
        let pos = r.buffer_position() as usize;
        let (ns, ev) = match r.read_resolved_event() {
            Ok((ResolveResult::Unknown(prefix), Event::Start(_))) => {
                return fail(
                    text,
                    pos,
                    format!(
                        "malformed XML: the prefix `{}` is not bound to a namespace",
                        crate::domain::sanitize::sanitize_line(&prefix)
                    ),
                );
            }
            Ok((ns, ev)) => (ns_text(&ns), ev),
            Err(e) => {
                let p = r.error_position() as usize;
                return fail(text, p, format!("malformed XML: {e}"));
            }
        };
        match ev {
            Event::DocType(_) => {
                return fail(
                    text,
                    pos,
                    "the feed has a document type declaration (DTD); assay never processes DTDs or their entities: export the feed without one",
                );
            }
            Event::GeneralRef(g) => {
                let name: &str = &g;
                let c = match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => match g.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => None,
                    },
                };
                match c {
                    Some(c) => me.chars(&c.to_string(), pos)?,
                    None => {
                        return fail(
                            text,
                            pos,
                            format!(
                                "entity `&{}` is not one of XML's five predefined entities; assay expands no other entities (no DTDs)",
                                crate::domain::sanitize::sanitize_line(name)
                            ),
                        );
                    }
                }
            }
            Event::Start(e) => {
                if me.stack.len() >= MAX_DEPTH {
                    return fail(text, pos, "elements nest too deeply");
                }
                let local = e.local_name().as_ref().to_string();
                if me.stack.is_empty() {
                    if saw_root {
                        return fail(text, pos, "a second root element");
                    }
                    saw_root = true;
                    if !(ns == ATOM && local == "feed") {
                        return fail(
                            text,
                            pos,
                            format!(
                                "the root element is `{}`, not an Atom `feed`: this is not a LEAP2A export",
                                crate::domain::sanitize::sanitize_line(&local)
                            ),
                        );
                    }
                }
                me.start(&r, &ns, &local, &e, pos)?;
                me.stack.push((ns, local));
            }
            Event::End(_) => {
                me.end(pos)?;
            }
            Event::Text(t) => {
                let s = t.xml_content(quick_xml::XmlVersion::Implicit1_0);
                if me.stack.is_empty() && !s.trim().is_empty() {
                    return fail(
                        text,
                        pos,
                        if saw_root {
                            "malformed XML: text after the feed's end"
                        } else {
                            "malformed XML: text before the feed begins"
                        },
                    );
                }
                me.chars(&s, pos)?;
            }
            Event::CData(t) => {
                let s = t.xml_content(quick_xml::XmlVersion::Implicit1_0);
                me.chars(&s, pos)?;
            }
            Event::Eof => {
                if let Some((_, open)) = me.stack.last() {
                    return fail(
                        text,
                        text.len(),
                        format!(
                            "malformed XML: the feed is cut off — it ends before `</{}>` (export it again)",
                            crate::domain::sanitize::sanitize_line(open)
                        ),
                    );
                }
                break;
            }
            _ => {}
        }
    }
    if !saw_root {
        return fail(text, 0, "the file holds no XML element: not a LEAP2A feed");
    }
    if me.feed.author_name.trim().is_empty() {
        return fail(
            text,
            0,
            "the feed names no author (`feed/author/name`): the learner is not known",
        );
    }
    Ok(me.feed)
}

fn ns_text(ns: &ResolveResult<'_>) -> String {
    match ns {
        ResolveResult::Bound(n) => n.0.to_string(),
        _ => String::new(),
    }
}

impl Reader<'_> {
    fn depth(&self) -> usize {
        self.stack.len()
    }

    fn attr(
        &self,
        r: &NsReader<&[u8]>,
        e: &BytesStart<'_>,
        want_ns: Option<fn(&str) -> bool>,
        want: &str,
        pos: usize,
    ) -> Result<Option<String>, Error> {
        for a in e.attributes() {
            let a = match a {
                Ok(a) => a,
                Err(err) => return fail(self.text, pos, format!("malformed attribute: {err}")),
            };
            let (ans, local) = r.resolver().resolve_attribute(a.key);
            let ns_ok = match (&ans, want_ns) {
                (ResolveResult::Bound(n), Some(f)) => f(n.0),
                (ResolveResult::Unbound, None) => true,
                _ => false,
            };
            if ns_ok && local.as_ref() == want {
                let v = match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                    Ok(v) => v.into_owned(),
                    Err(err) => {
                        return fail(
                            self.text,
                            pos,
                            format!(
                                "attribute `{want}`: {err} (assay expands no entities but XML's five predefined ones)"
                            ),
                        );
                    }
                };
                if has_control(&v) {
                    return fail(
                        self.text,
                        pos,
                        format!("attribute `{want}` holds control characters; remove them"),
                    );
                }
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    fn start(
        &mut self,
        r: &NsReader<&[u8]>,
        ns: &str,
        local: &str,
        e: &BytesStart<'_>,
        pos: usize,
    ) -> Result<(), Error> {
        let d = self.depth();
        // Inside XHTML content: the markup is kept as text for the converter.
        if matches!(
            self.sink,
            Sink::Content(Kind::Xhtml) | Sink::Summary(Kind::Xhtml)
        ) && d > self.sink_depth
        {
            self.buf.push('<');
            self.buf.push_str(local);
            for name in ["href", "alt", "src"] {
                if let Some(v) = self.attr(r, e, None, name, pos)? {
                    self.buf
                        .push_str(&format!(" {name}=\"{}\"", v.replace('"', "&quot;")));
                }
            }
            self.buf.push('>');
            return Ok(());
        }
        let parent = self.stack.last().map(|(n, l)| (n.as_str(), l.as_str()));
        let atom = ns == ATOM;
        match (parent, atom, local) {
            (Some((ATOM, "feed")), true, "entry") => {
                if self.feed.entries.len() >= MAX_ENTRIES {
                    return fail(
                        self.text,
                        pos,
                        format!("the feed holds more than {MAX_ENTRIES} entries"),
                    );
                }
                self.entry = Some(Entry {
                    at: at(self.text, pos),
                    ..Entry::default()
                });
            }
            (Some((ATOM, "feed")), true, "author") => self.in_author = true,
            (Some((ATOM, "author")), true, "name") if self.in_author => {
                self.sink_to(Sink::AuthorName, d)
            }
            (Some((ATOM, "author")), true, "email") if self.in_author => {
                self.sink_to(Sink::AuthorEmail, d)
            }
            (Some((ATOM, "feed")), true, "id") => self.sink_to(Sink::FeedId, d),
            (Some((ATOM, "feed")), true, "title") => self.sink_to(Sink::FeedTitle, d),
            (Some((ATOM, "feed")), true, "updated") => self.sink_to(Sink::FeedUpdated, d),
            (Some((ATOM, "feed")), false, "version") if is_leap2(ns) => {
                self.sink_to(Sink::Version, d)
            }
            (Some((ATOM, "entry")), true, "title") => self.sink_to(Sink::Title, d),
            (Some((ATOM, "entry")), true, "id") => self.sink_to(Sink::Id, d),
            (Some((ATOM, "entry")), true, "published") => self.sink_to(Sink::Published, d),
            (Some((ATOM, "entry")), true, "updated") => self.sink_to(Sink::Updated, d),
            (Some((ATOM, "entry")), true, "summary" | "content") => {
                let ty = self.attr(r, e, None, "type", pos)?;
                let kind = match ty.as_deref().map(str::trim) {
                    None | Some("text") | Some("text/plain") => Kind::Text,
                    Some("html") | Some("text/html") => Kind::Html,
                    Some("xhtml") | Some("application/xhtml+xml") => Kind::Xhtml,
                    // (another media type: the text is what `src` points to)
                    Some(_) => Kind::Text,
                };
                if local == "content" {
                    let src = self.attr(r, e, None, "src", pos)?;
                    if let (Some(entry), Some(src)) = (self.entry.as_mut(), src)
                        && !src.trim().is_empty()
                    {
                        entry.content_src = Some(src.trim().to_string());
                    }
                    self.sink_to(Sink::Content(kind), d);
                } else {
                    self.sink_to(Sink::Summary(kind), d);
                }
            }
            (Some((ATOM, "entry")), true, "link") => {
                let rel = self.attr(r, e, None, "rel", pos)?.unwrap_or_default();
                let href = self.attr(r, e, None, "href", pos)?.unwrap_or_default();
                let mime = self.attr(r, e, None, "type", pos)?;
                let order = self.attr(r, e, Some(is_leap2), "display_order", pos)?;
                let display_order = match order {
                    Some(o) => match o.trim().parse::<i64>() {
                        Ok(n) => Some(n),
                        Err(_) => {
                            return fail(
                                self.text,
                                pos,
                                format!(
                                    "`leap2:display_order` is `{}`, not a whole number",
                                    crate::domain::sanitize::sanitize_line(&o)
                                ),
                            );
                        }
                    },
                    None => None,
                };
                let at = at(self.text, pos);
                if let Some(entry) = self.entry.as_mut() {
                    entry.links.push(Link {
                        at,
                        rel: term(&rel).to_string(),
                        href: href.trim().to_string(),
                        mime,
                        display_order,
                    });
                }
            }
            (Some((ATOM, "entry")), true, "category") => {
                let t = self.attr(r, e, None, "term", pos)?.unwrap_or_default();
                let scheme = self.attr(r, e, None, "scheme", pos)?.unwrap_or_default();
                let label = self.attr(r, e, None, "label", pos)?;
                if let Some(entry) = self.entry.as_mut() {
                    entry.categories.push(Category {
                        scheme: if scheme.trim().is_empty() {
                            String::new()
                        } else {
                            term(&scheme).to_string()
                        },
                        term: t.trim().to_string(),
                        label,
                    });
                }
            }
            (Some((ATOM, "entry")), false, "type") if ns == RDF => {
                let res = self
                    .attr(r, e, Some(|n| n == RDF), "resource", pos)?
                    .unwrap_or_default();
                if let Some(entry) = self.entry.as_mut() {
                    entry.types.push(term(&res).to_string());
                }
            }
            (Some((ATOM, "entry")), false, "view") if is_mahara(ns) => {
                let ty = self.attr(r, e, Some(is_mahara), "type", pos)?;
                if let Some(entry) = self.entry.as_mut() {
                    entry.view_type = ty.map(|t| t.trim().to_lowercase());
                }
            }
            (Some((ATOM, "entry")), false, "date") if is_leap2(ns) => {
                let point = self
                    .attr(r, e, Some(is_leap2), "point", pos)?
                    .unwrap_or_default();
                if let Some(entry) = self.entry.as_mut() {
                    entry.dates.push((point.trim().to_string(), String::new()));
                }
                self.sink_to(Sink::Date, d);
            }
            _ => {}
        }
        Ok(())
    }

    fn sink_to(&mut self, s: Sink, depth: usize) {
        self.sink = s;
        self.sink_depth = depth;
        self.buf.clear();
    }

    fn chars(&mut self, s: &str, pos: usize) -> Result<(), Error> {
        if self.sink == Sink::None {
            return Ok(());
        }
        // (the texts of summaries and contents become evidence files, which may hold anything
        // and are shown through the sanitiser; names, titles, ids and dates may not)
        let body = matches!(self.sink, Sink::Summary(_) | Sink::Content(_));
        if !body && has_control(s) {
            return fail(
                self.text,
                pos,
                "the text holds control characters (terminal escapes or the like); remove them",
            );
        }
        if matches!(
            self.sink,
            Sink::Content(Kind::Xhtml) | Sink::Summary(Kind::Xhtml)
        ) {
            // (kept as markup for the converter: escape what could read as a tag)
            self.buf
                .push_str(&s.replace('&', "&amp;").replace('<', "&lt;"));
        } else {
            self.buf.push_str(s);
        }
        Ok(())
    }

    fn end(&mut self, pos: usize) -> Result<(), Error> {
        let Some((ns, local)) = self.stack.pop() else {
            return Ok(());
        };
        let d = self.depth();
        if self.sink != Sink::None && d > self.sink_depth {
            if matches!(
                self.sink,
                Sink::Content(Kind::Xhtml) | Sink::Summary(Kind::Xhtml)
            ) {
                self.buf.push_str(&format!("</{local}>"));
            }
            return Ok(());
        }
        if self.sink != Sink::None && d == self.sink_depth {
            let text = std::mem::take(&mut self.buf);
            let single = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
            let sink = std::mem::replace(&mut self.sink, Sink::None);
            let readable = |k: Kind, t: &str| match k {
                Kind::Text => t.trim().to_string(),
                Kind::Html | Kind::Xhtml => html::to_text(t),
            };
            match (sink, self.entry.as_mut()) {
                (Sink::FeedId, _) => self.feed.id = single(&text),
                (Sink::FeedTitle, _) => self.feed.title = single(&text),
                (Sink::FeedUpdated, _) => self.feed.updated = single(&text),
                (Sink::AuthorName, _) => self.feed.author_name = single(&text),
                (Sink::AuthorEmail, _) => {
                    let e = single(&text);
                    self.feed.author_email = (!e.is_empty()).then_some(e);
                }
                (Sink::Version, _) => self.feed.version = Some(single(&text)),
                (Sink::Title, Some(e)) => e.title = single(&text),
                (Sink::Id, Some(e)) => e.id = single(&text),
                (Sink::Published, Some(e)) => e.published = Some(single(&text)),
                (Sink::Updated, Some(e)) => e.updated = Some(single(&text)),
                (Sink::Date, Some(e)) => {
                    if let Some(last) = e.dates.last_mut() {
                        last.1 = single(&text);
                    }
                }
                (Sink::Summary(k), Some(e)) => e.summary = readable(k, &text),
                (Sink::Content(k), Some(e)) => e.content = readable(k, &text),
                _ => {}
            }
            return Ok(());
        }
        if ns == ATOM && local == "entry" {
            if let Some(e) = self.entry.take() {
                if e.id.is_empty() {
                    return fail(
                        self.text,
                        pos,
                        format!(
                            "the entry that starts on line {} has no `id`; every Atom entry needs one",
                            e.at.line
                        ),
                    );
                }
                self.feed.entries.push(e);
            }
        } else if ns == ATOM && local == "author" {
            self.in_author = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
