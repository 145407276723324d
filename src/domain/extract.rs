//! The text of the documents learners send — PDF, Word (DOCX) and OpenDocument (ODT) — for the
//! assessor to read beside the descriptors. Pure: bytes in, text out. A PDF is read with
//! `pdf-extract`, whose parser can be slow or fail on a malformed file: the application runs
//! [`pdf_pages`] in a child process with a time and memory budget (see `app::extract`). DOCX
//! and ODT are zip archives whose one XML part is read with quick-xml; nothing else in them is
//! opened (no relationships, so no external reference is ever followed), no DTD is processed.

use std::io::Read;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Most bytes of extracted text kept (the rest is cut, and the note says so).
pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes a document's XML part may unpack to.
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;
/// Most a part may unpack to per packed byte (a zip bomb's ratio is far above).
const MAX_RATIO: u64 = 200;

/// The kinds of document whose text assay extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    Pdf,
    Docx,
    Odt,
}

impl Doc {
    /// The kind of `name` with these `bytes`: by extension, confirmed by the bytes (a PDF's
    /// `%PDF-`, a zip's `PK`), so that a renamed file is not taken for what it is not.
    pub fn of(name: &str, bytes: &[u8]) -> Option<Doc> {
        let lower = name.to_ascii_lowercase();
        let zip = bytes.starts_with(b"PK\x03\x04");
        if lower.ends_with(".pdf") {
            // (the header may follow a few bytes of junk, as readers allow)
            let head = &bytes[..bytes.len().min(1024)];
            return memchr::memmem::find(head, b"%PDF-").map(|_| Doc::Pdf);
        }
        if lower.ends_with(".docx") && zip {
            return Some(Doc::Docx);
        }
        if lower.ends_with(".odt") && zip {
            return Some(Doc::Odt);
        }
        None
    }

    /// The kind a file's name claims, whatever its bytes.
    pub fn named(name: &str) -> Option<Doc> {
        let lower = name.to_ascii_lowercase();
        [(".pdf", Doc::Pdf), (".docx", Doc::Docx), (".odt", Doc::Odt)]
            .into_iter()
            .find(|(e, _)| lower.ends_with(e))
            .map(|(_, d)| d)
    }

    pub fn name(self) -> &'static str {
        match self {
            Doc::Pdf => "PDF",
            Doc::Docx => "Word document",
            Doc::Odt => "OpenDocument text",
        }
    }
}

/// The text taken from a document, and a line that says what it is (`PDF, 3 pages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub text: String,
    pub note: String,
}

/// A PDF's text, page by page. May be slow or panic on hostile input: run it isolated.
pub fn pdf_pages(bytes: &[u8]) -> Result<Vec<String>, String> {
    pdf_extract::extract_text_from_mem_by_pages(bytes).map_err(|e| e.to_string())
}

/// The text shown for a PDF's pages: each page under a line naming it, so that the assessor
/// can cite "page 3".
pub fn pdf_text(pages: &[String]) -> Extracted {
    let n = pages.len();
    let mut text = String::new();
    for (i, p) in pages.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!("── page {} of {n} ──\n\n", i + 1));
        let body = tidy(p);
        if body.is_empty() {
            text.push_str(NO_TEXT);
            text.push('\n');
        } else {
            text.push_str(&body);
            text.push('\n');
        }
    }
    let words = pages
        .iter()
        .map(|p| p.split_whitespace().count())
        .sum::<usize>();
    let mut note = format!("PDF, {n} page{}", if n == 1 { "" } else { "s" });
    if words == 0 {
        note.push_str(", no text (a scan?)");
    }
    capped(text, note)
}

/// The learner's own words of an extracted text: without the lines assay writes into it (a
/// PDF's page lines and what it says of a page without text), for the search index.
pub fn learners_words(text: &str) -> String {
    text.lines()
        .filter(|l| !(l.starts_with("── page ") && l.ends_with(" ──")) && *l != NO_TEXT)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where `text` holds every word of `query` (each as a word or the start of one, case and
/// accents aside): an excerpt around the first, the words in `[…]`; `None` if one is missing.
/// The search index only proposes; this, on the text the record vouches for, decides and
/// quotes — so a word planted in the index behind assay's back is never shown as the learner's.
pub fn excerpt(text: &str, query: &str) -> Option<String> {
    // (words folded as the index folds them: `folded_words`)
    let wanted: Vec<String> = folded_words(query).collect();
    if wanted.is_empty() {
        return None;
    }
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let folded: Vec<Vec<String>> = tokens.iter().map(|t| folded_words(t).collect()).collect();
    let holds = |i: usize, w: &str| folded[i].iter().any(|p| p.starts_with(w));
    let hit = |i: usize| wanted.iter().any(|w| holds(i, w));
    if !wanted
        .iter()
        .all(|w| (0..tokens.len()).any(|i| holds(i, w)))
    {
        return None;
    }
    let first = (0..tokens.len()).position(hit)?;
    let from = first.saturating_sub(5);
    let to = (first + 8).min(tokens.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    for (i, t) in tokens.iter().enumerate().take(to).skip(from) {
        if i > from {
            out.push(' ');
        }
        if hit(i) {
            out.push('[');
            out.push_str(t);
            out.push(']');
        } else {
            out.push_str(t);
        }
    }
    if to < tokens.len() {
        out.push('…');
    }
    Some(out)
}

/// Most bytes of a document's text whose words are indexed for search.
pub const WORDS_BYTES: usize = 64 * 1024;

/// Longest word indexed (a longer run of letters is no word a person searches for).
const MAX_WORD: usize = 64;

/// A text's words as search folds them: lower-case ASCII (`Café's` → `cafe`, `s`), split at
/// everything that is not a letter or digit.
pub fn folded_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            let f = deunicode::deunicode(w).to_lowercase();
            f.split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|p| !p.is_empty() && p.len() <= MAX_WORD)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
}

/// The distinct words a document's text gives the search index, sorted: the learner's words
/// (not assay's page lines) of its first [`WORDS_BYTES`], folded.
pub fn search_words(text: &str) -> Vec<String> {
    let mut t = learners_words(text);
    t.truncate(t.floor_char_boundary(WORDS_BYTES));
    let mut words: Vec<String> = folded_words(&t).collect();
    words.sort_unstable();
    words.dedup();
    words
}

/// What a PDF's page without text says.
const NO_TEXT: &str = "(no text on this page: a scan or a picture?)";

/// Lines trimmed at their ends, runs of blank lines made one, no blank start or end.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = false;
    for l in s.lines().map(str::trim_end) {
        if l.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(l);
    }
    out
}

fn capped(mut text: String, mut note: String) -> Extracted {
    if text.len() > MAX_TEXT_BYTES {
        text.truncate(text.floor_char_boundary(MAX_TEXT_BYTES));
        text.push_str("\n\n(the text goes on: only its first 16 MiB are kept)\n");
        note.push_str(", text cut at 16 MiB");
    }
    Extracted { text, note }
}

/// One part of a zip archive (a DOCX's `word/document.xml`, an ODT's `content.xml`), with a
/// size and a ratio limit.
fn zip_part(bytes: &[u8], part: &str) -> Result<Vec<u8>, String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a zip archive that can be read: {e}"))?;
    let mut f = z
        .by_name(part)
        .map_err(|_| format!("it has no `{part}`: not a document of this kind"))?;
    if f.encrypted() {
        return Err("it is encrypted".into());
    }
    let packed = f.compressed_size().max(1);
    let size = f.size();
    if size > MAX_PART_BYTES || size / packed > MAX_RATIO {
        return Err(format!(
            "its `{part}` unpacks to {size} bytes from {packed}: too large (at most {} MiB, {MAX_RATIO} times its packed size)",
            MAX_PART_BYTES / (1024 * 1024)
        ));
    }
    let mut out = Vec::with_capacity(size as usize);
    // (the size in the archive's directory may lie: never read past the limit)
    (&mut f)
        .take(MAX_PART_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("its `{part}` cannot be unpacked: {e}"))?;
    if out.len() as u64 > MAX_PART_BYTES || out.len() as u64 / packed > MAX_RATIO {
        return Err(format!(
            "its `{part}` unpacks to more than it says: refused"
        ));
    }
    Ok(out)
}

/// What an element of a document's XML does to the text.
enum Act {
    /// The end of a paragraph, heading or list item.
    Paragraph,
    /// A tab.
    Tab,
    /// A table's cell: its paragraphs run on one line, cells apart by ` | `.
    Cell,
    /// A table's row: one line.
    Row,
    /// A line break inside a paragraph.
    Break,
    /// `n` spaces (ODT's `text:s`).
    Spaces(usize),
    /// Text inside is not shown (deleted text, notes' anchors, field codes).
    Skip,
    /// Text inside is the document's text.
    Text,
    Other,
}

/// The text of an XML part, with `act` saying what each element (by its local name and
/// attributes) does; quick-xml reads no DTD and expands only XML's own five entities.
fn xml_text(
    xml: &[u8],
    what: &str,
    // (ODT: a paragraph's own text is text; DOCX: only `w:t`'s)
    para_text: bool,
    act: impl Fn(&str, &quick_xml::events::BytesStart<'_>) -> Act,
) -> Result<String, String> {
    let mut r = Reader::from_reader(xml);
    r.config_mut().trim_text(false);
    let mut out = String::new();
    let mut buf = Vec::new();
    let mut skip = 0usize;
    let mut text_depth = 0usize;
    let mut cells = 0usize;
    loop {
        let ev = r.read_event_into(&mut buf).map_err(|e| {
            format!(
                "its {what} is not well-formed XML at byte {}: {e}",
                r.buffer_position()
            )
        })?;
        match ev {
            Event::DocType(_) => {
                return Err(format!(
                    "its {what} has a document type declaration (DTD), which assay never processes"
                ));
            }
            Event::Start(e) => match act(e.local_name().as_ref(), &e) {
                _ if skip > 0 => skip += 1,
                Act::Skip => skip += 1,
                Act::Text => text_depth += 1,
                Act::Paragraph if para_text => text_depth += 1,
                Act::Cell => cells += 1,
                _ => {}
            },
            Event::Empty(e) if skip == 0 => match act(e.local_name().as_ref(), &e) {
                Act::Tab => out.push('\t'),
                Act::Break | Act::Paragraph => out.push('\n'),
                Act::Spaces(n) => out.extend(std::iter::repeat_n(' ', n.min(1000))),
                _ => {}
            },
            Event::End(e) => {
                let name = e.local_name();
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                // (the start is what says what an element does; the end is matched by name)
                let start = quick_xml::events::BytesStart::new(name.as_ref());
                match act(name.as_ref(), &start) {
                    Act::Paragraph => {
                        out.push(if cells > 0 { ' ' } else { '\n' });
                        if para_text {
                            text_depth = text_depth.saturating_sub(1);
                        }
                    }
                    Act::Cell => {
                        cells = cells.saturating_sub(1);
                        let kept = out.trim_end_matches(' ').len();
                        out.truncate(kept);
                        out.push_str(" | ");
                    }
                    Act::Row => {
                        let kept = out.trim_end_matches([' ', '|']).len();
                        out.truncate(kept);
                        out.push('\n');
                    }
                    Act::Tab => out.push('\t'),
                    Act::Text => text_depth = text_depth.saturating_sub(1),
                    _ => {}
                }
            }
            Event::Text(t) if skip == 0 && text_depth > 0 => {
                out.push_str(&t.xml10_content());
            }
            Event::GeneralRef(g) if skip == 0 && text_depth > 0 => {
                let name: &str = g.as_ref();
                match quick_xml::escape::resolve_predefined_entity(name) {
                    Some(s) => out.push_str(s),
                    None => match g.resolve_char_ref() {
                        Ok(Some(c)) => out.push(c),
                        _ => {
                            return Err(format!(
                                "its {what} refers to the entity `&{name};`, which assay never expands"
                            ));
                        }
                    },
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
        if out.len() > MAX_TEXT_BYTES + 1 {
            break;
        }
    }
    Ok(tidy(&out))
}

/// A Word document's text: its paragraphs, tabs and breaks (`word/document.xml`).
pub fn docx_text(bytes: &[u8]) -> Result<Extracted, String> {
    let xml = zip_part(bytes, "word/document.xml")?;
    let text = xml_text(&xml, "word/document.xml", false, |name, _| match name {
        "p" => Act::Paragraph,
        "tab" => Act::Tab,
        "tc" => Act::Cell,
        "tr" => Act::Row,
        "br" | "cr" => Act::Break,
        "t" => Act::Text,
        // deleted text, field instructions
        "delText" | "instrText" => Act::Skip,
        _ => Act::Other,
    })?;
    let words = text.split_whitespace().filter(|w| *w != "|").count();
    Ok(capped(text, format!("Word document, {words} words")))
}

/// An OpenDocument text's text: headings, paragraphs, list items, spaces and tabs
/// (`content.xml`).
pub fn odt_text(bytes: &[u8]) -> Result<Extracted, String> {
    let xml = zip_part(bytes, "content.xml")?;
    let text = xml_text(&xml, "content.xml", true, |name, e| match name {
        "p" | "h" => Act::Paragraph,
        "tab" => Act::Tab,
        "table-cell" => Act::Cell,
        "table-row" => Act::Row,
        "line-break" => Act::Break,
        "s" => {
            let n = e
                .attributes()
                .flatten()
                .find(|a| a.key.local_name().as_ref() == "c")
                .and_then(|a| a.value.trim().parse().ok())
                .unwrap_or(1);
            Act::Spaces(n)
        }
        // notes' bodies and tracked changes are not the running text
        "note" | "tracked-changes" | "annotation" => Act::Skip,
        "span" | "a" => Act::Text,
        _ => Act::Other,
    })?;
    let words = text.split_whitespace().filter(|w| *w != "|").count();
    Ok(capped(text, format!("OpenDocument text, {words} words")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zipped(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in parts {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn kinds_are_known_by_name_and_bytes() {
        assert_eq!(Doc::of("a.PDF", b"%PDF-1.7\n"), Some(Doc::Pdf));
        assert_eq!(Doc::of("a.pdf", b"not a pdf"), None);
        assert_eq!(Doc::of("a.docx", b"PK\x03\x04...."), Some(Doc::Docx));
        assert_eq!(Doc::of("a.docx", b"plain"), None);
        assert_eq!(Doc::of("a.odt", b"PK\x03\x04"), Some(Doc::Odt));
        assert_eq!(Doc::of("a.txt", b"%PDF-"), None);
    }

    #[test]
    fn a_docx_reads_as_its_paragraphs() {
        let doc = r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Energy report</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Loft: </w:t></w:r><w:r><w:t>2.1 kW</w:t><w:tab/><w:t>&amp; after</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>rows before</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>10412</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><w:delText>removed</w:delText><w:t>kept</w:t><w:br/><w:t>next line</w:t></w:r></w:p>
</w:body></w:document>"#;
        let e = docx_text(&zipped(&[("word/document.xml", doc)])).unwrap();
        assert_eq!(
            e.text,
            "Energy report\nLoft: 2.1 kW\t& after\nrows before | 10412\nkept\nnext line"
        );
        assert_eq!(e.note, "Word document, 13 words");
    }

    #[test]
    fn an_odt_reads_with_its_spaces_and_headings() {
        let doc = r#"<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>
<text:h text:outline-level="1">Heat loss</text:h><text:p>a<text:s text:c="3"/>b<text:tab/>c</text:p>
<text:p>with a note<text:note><text:note-body><text:p>not this</text:p></text:note-body></text:note></text:p>
</office:text></office:body></office:document-content>"#;
        let e = odt_text(&zipped(&[("content.xml", doc)])).unwrap();
        assert_eq!(e.text, "Heat loss\na   b\tc\nwith a note");
    }

    #[test]
    fn hostile_documents_are_refused_with_a_reason() {
        // a DTD (an entity bomb would need one)
        let dtd = r#"<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaa">]><w:document xmlns:w="x"><w:p><w:t>&a;</w:t></w:p></w:document>"#;
        let e = docx_text(&zipped(&[("word/document.xml", dtd)])).unwrap_err();
        assert!(e.contains("DTD"), "{e}");
        // not the part it needs
        let e = docx_text(&zipped(&[("content.xml", "<a/>")])).unwrap_err();
        assert!(e.contains("word/document.xml"), "{e}");
        // not a zip
        assert!(odt_text(b"PK\x03\x04garbage").is_err());
        // a bomb: 60 MiB of one letter packs to a few hundred KiB
        let big = "a".repeat(60 * 1024 * 1024);
        let bomb = {
            let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            w.start_file(
                "content.xml",
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated),
            )
            .unwrap();
            w.write_all(big.as_bytes()).unwrap();
            w.finish().unwrap().into_inner()
        };
        let e = odt_text(&bomb).unwrap_err();
        assert!(e.contains("too large"), "{e}");
        // malformed XML
        let e = docx_text(&zipped(&[("word/document.xml", "<w:p><w:t>x</w:p>")])).unwrap_err();
        assert!(e.contains("not well-formed"), "{e}");
    }

    #[test]
    fn an_excerpt_needs_every_word_and_marks_them() {
        let t = "We measured the loft insulation before and after. The Café's books.";
        assert_eq!(
            excerpt(t, "LOFT insul").as_deref(),
            Some("We measured the [loft] [insulation] before and after. The Café's books.")
        );
        assert_eq!(
            excerpt(t, "cafe").as_deref(),
            Some("…insulation before and after. The [Café's] books.")
        );
        assert_eq!(excerpt(t, "loft okapi"), None);
        assert_eq!(excerpt(t, "  "), None);
    }

    #[test]
    fn search_words_are_folded_distinct_and_sorted() {
        assert_eq!(
            search_words("Café's café, CAFE 2.1 kW — Łódź"),
            ["1", "2", "cafe", "kw", "lodz", "s"]
        );
    }

    #[test]
    fn the_search_words_are_the_learners_only() {
        let e = pdf_text(&["Armadillo notes".into(), "".into()]);
        assert_eq!(
            learners_words(&e.text)
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["Armadillo", "notes"]
        );
    }

    #[test]
    fn pdf_pages_are_named_and_empty_pages_said() {
        let e = pdf_text(&["First page\n\n\n\nmore".into(), "  \n".into()]);
        assert_eq!(
            e.text,
            "── page 1 of 2 ──\n\nFirst page\n\nmore\n\n── page 2 of 2 ──\n\n(no text on this page: a scan or a picture?)\n"
        );
        assert_eq!(e.note, "PDF, 2 pages");
        assert!(pdf_text(&[String::new()]).note.contains("no text"));
    }
}
