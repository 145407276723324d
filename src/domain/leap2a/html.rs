//! HTML and XHTML from an e-portfolio turned into readable text (Markdown-like): paragraphs and
//! line breaks kept, list items as `- `, headings as `#`, links as `text (address)`, images as
//! `[image: alt]`; scripts and styles dropped. Markup is never rendered: the result is plain
//! text, which the workbench still passes through its sanitiser like any evidence.

/// Elements that end a block of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "table",
    "tr",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "address",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
];

struct Out {
    text: String,
    /// Inside `<pre>`: whitespace kept as it is.
    pre: usize,
    /// The address of the link being read, and where its text began.
    link: Option<(String, usize)>,
}

impl Out {
    fn push_text(&mut self, s: &str) {
        if self.pre > 0 {
            self.text.push_str(s);
            return;
        }
        for c in s.chars() {
            if c.is_whitespace() {
                if !self.text.is_empty() && !self.text.ends_with([' ', '\n']) {
                    self.text.push(' ');
                }
            } else {
                self.text.push(c);
            }
        }
    }
    fn line_break(&mut self) {
        trim_end_spaces(&mut self.text);
        if !self.text.is_empty() {
            self.text.push('\n');
        }
    }
    fn block_break(&mut self) {
        trim_end_spaces(&mut self.text);
        if self.text.is_empty() {
            return;
        }
        while !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }
}

fn trim_end_spaces(s: &mut String) {
    while s.ends_with(' ') {
        s.pop();
    }
}

/// The readable text of an HTML (or XHTML) fragment.
pub fn to_text(html: &str) -> String {
    let mut out = Out {
        text: String::with_capacity(html.len()),
        pre: 0,
        link: None,
    };
    let mut rest = html;
    while !rest.is_empty() {
        match rest.find('<') {
            None => {
                out.push_text(&decode_entities(rest));
                break;
            }
            Some(i) => {
                out.push_text(&decode_entities(&rest[..i]));
                rest = &rest[i..];
            }
        }
        // `rest` starts with `<`.
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |j| &after[j + 3..]);
            continue;
        }
        let Some(end) = tag_end(rest) else {
            // A `<` that starts no tag is text.
            out.push_text("<");
            rest = &rest[1..];
            continue;
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let body = tag.trim_start_matches('/');
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
            .collect::<String>()
            .to_ascii_lowercase();
        // (an XHTML element may carry a prefix: `html:p`)
        let name = name.rsplit(':').next().unwrap_or("").to_string();
        if name.is_empty() {
            continue;
        }
        if !closing && (name == "script" || name == "style") {
            let close = format!("</{name}");
            rest = find_ci(rest, &close)
                .map(|j| {
                    let after = &rest[j..];
                    after.find('>').map_or("", |k| &after[k + 1..])
                })
                .unwrap_or("");
            continue;
        }
        match (closing, name.as_str()) {
            (false, "br") => out.line_break(),
            (false, "li") => {
                out.line_break();
                out.text.push_str("- ");
            }
            (false, h)
                if h.len() == 2 && h.starts_with('h') && h.as_bytes()[1].is_ascii_digit() =>
            {
                out.block_break();
                let n = (h.as_bytes()[1] - b'0').clamp(1, 6) as usize;
                out.text.push_str(&"#".repeat(n));
                out.text.push(' ');
            }
            (false, "pre") => {
                out.block_break();
                out.pre += 1;
            }
            (true, "pre") => {
                out.pre = out.pre.saturating_sub(1);
                out.block_break();
            }
            (false, "td") | (false, "th")
                if !out.text.trim_end_matches(' ').is_empty()
                    && !out.text.trim_end_matches(' ').ends_with('\n') =>
            {
                trim_end_spaces(&mut out.text);
                out.text.push_str(" | ");
            }
            (false, "img") => {
                let alt = attribute(body, "alt").unwrap_or_default();
                let alt = alt.trim();
                out.push_text(&format!(
                    "[image{}{alt}]",
                    if alt.is_empty() { "" } else { ": " }
                ));
            }
            (false, "a") => {
                out.link = attribute(body, "href").map(|h| (h, out.text.len()));
            }
            (true, "a") => {
                if let Some((href, start)) = out.link.take() {
                    let label = out.text.get(start..).unwrap_or("").trim().to_string();
                    let web = href.starts_with("http://") || href.starts_with("https://");
                    if web && label != href {
                        out.push_text(&format!(" ({href})"));
                    }
                }
            }
            (_, b) if BLOCKS.contains(&b) => out.block_break(),
            _ => {}
        }
    }
    let mut text = out.text;
    trim_end_spaces(&mut text);
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut tidy = String::with_capacity(text.len());
    let mut blank = 0;
    for l in lines {
        // (an empty heading or list item — Mahara writes an empty `h3` above every block —
        // is a blank line)
        let bare = l.trim().trim_start_matches('#').trim();
        if bare.is_empty() || bare == "-" {
            blank += 1;
            continue;
        }
        if !tidy.is_empty() {
            tidy.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        tidy.push_str(l);
    }
    tidy
}

/// Where the tag that `s` starts with ends (its `>`), outside quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.len() < 2 || !(b[1].is_ascii_alphabetic() || b[1] == b'/' || b[1] == b'!' || b[1] == b'?')
    {
        return None;
    }
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(1) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    hay.to_ascii_lowercase().find(&needle.to_ascii_lowercase())
}

/// The value of attribute `name` in a tag's text (`a href="…"`), entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let start = tag.len() - after.len() + 1;
        let v = tag[start..].trim_start();
        let value = match v.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &v[1..];
                &inner[..inner.find(q).unwrap_or(inner.len())]
            }
            _ => {
                let end = v
                    .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .unwrap_or(v.len());
                &v[..end]
            }
        };
        return Some(decode_entities(value));
    }
    None
}

/// Decodes HTML character references: the XML five, numeric ones and the few named ones
/// e-portfolio editors write; an unknown one is left as it is.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(';').filter(|&j| j <= 12).map(|j| j + 1);
        let Some(end) = end else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            "ndash" => Some('–'),
            "mdash" => Some('—'),
            "hellip" => Some('…'),
            "lsquo" => Some('‘'),
            "rsquo" => Some('’'),
            "ldquo" => Some('“'),
            "rdquo" => Some('”'),
            "copy" => Some('©'),
            "eacute" => Some('é'),
            "euro" => Some('€'),
            n if n.starts_with("#x") || n.starts_with("#X") => u32::from_str_radix(&n[2..], 16)
                .ok()
                .and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_lists_headings_and_links_read_as_text() {
        let t = to_text(
            "<h2>What I did</h2><p>Rebuilt the <b>weekly</b> report.</p><ul><li>one</li><li>two</li></ul>\
             <p>See <a href=\"https://example.org/x\">the demo</a><br/>next line</p>",
        );
        assert_eq!(
            t,
            "## What I did\n\nRebuilt the weekly report.\n\n- one\n- two\n\nSee the demo (https://example.org/x)\nnext line"
        );
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped_and_entities_decoded() {
        let t = to_text(
            "<style>p{}</style><script>alert(1)</script><!-- x --><p>a &amp; b &lt;c&gt; &#8212; &#x41;&nbsp;&bogus;</p>",
        );
        assert_eq!(t, "a & b <c> — A &bogus;");
    }

    #[test]
    fn markup_is_never_kept_and_a_lone_angle_is_text() {
        let t = to_text(
            "1 < 2 and <img src=x alt='chart of sales'> <table><tr><td>a</td> <td>b</td></tr></table>",
        );
        assert_eq!(t, "1 < 2 and [image: chart of sales]\n\na | b");
        assert!(!to_text("<p onclick=\"x>y\">hi</p>").contains('<'));
    }

    #[test]
    fn empty_headings_and_list_items_are_left_out() {
        assert_eq!(
            to_text("<h3 class=\"title\">\n  </h3><div>Block</div><ul><li></li><li>one</li></ul>"),
            "Block\n\n- one"
        );
    }

    #[test]
    fn pre_keeps_its_spacing() {
        assert_eq!(to_text("<pre>a  b\n  c</pre>"), "a  b\n  c");
    }
}
