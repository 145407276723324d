//! Case-insensitive literal matching over bytes, fast enough to scan a 100 MiB text in a few
//! frames: a query of ASCII characters is found by its rarest byte (`memchr2` of both cases) and
//! checked around it; any other query by its first character (all its cases' lead bytes) and
//! checked character by character, folding case with the simple (one character) lowercase
//! mappings. ASCII letters only match ASCII letters.

/// A compiled query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    /// The query as typed.
    query: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// All ASCII: lowercased bytes, and the offset and the (one or two) bytes of the rarest one.
    Ascii {
        needle: Vec<u8>,
        at: usize,
        b1: u8,
        b2: u8,
    },
    /// Folded characters, and the distinct lead bytes of the first character's cases.
    Unicode { chars: Vec<char>, leads: Vec<u8> },
}

/// How common a byte is in text, roughly (higher is more common): letters by English frequency.
fn commonness(b: u8) -> u32 {
    const ORDER: &[u8] = b"etaoinshrdlcumwfgypbvkjxqz";
    match b.to_ascii_lowercase() {
        b' ' => 1000,
        c @ b'a'..=b'z' => 900 - ORDER.iter().position(|&x| x == c).unwrap_or(25) as u32 * 30,
        b'0'..=b'9' => 150,
        b'.' | b',' | b'\n' => 400,
        b'-' | b'\'' | b'"' | b'(' | b')' | b':' | b';' => 60,
        _ => 20,
    }
}

/// Folds a character's case: ASCII to lowercase; others to their lowercase when that is a single
/// non-ASCII character.
#[inline]
pub fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(x), None) if !x.is_ascii() => x,
        _ => c,
    }
}

/// The character at `i` of `hay`, and its length (an invalid byte is one U+FFFD).
#[inline]
fn char_at(hay: &[u8], i: usize) -> (char, usize) {
    let b = hay[i];
    if b < 0x80 {
        return (b as char, 1);
    }
    let n = match b {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return ('\u{fffd}', 1),
    };
    match hay.get(i..i + n).and_then(|s| std::str::from_utf8(s).ok()) {
        Some(s) => (s.chars().next().unwrap_or('\u{fffd}'), n),
        None => ('\u{fffd}', 1),
    }
}

impl Matcher {
    /// A matcher for `query`; `None` when it is empty.
    pub fn new(query: &str) -> Option<Matcher> {
        if query.is_empty() {
            return None;
        }
        let kind = if query.is_ascii() {
            let needle = query.as_bytes().to_ascii_lowercase();
            let at = (0..needle.len())
                .min_by_key(|&i| commonness(needle[i]))
                .unwrap_or(0);
            let b = needle[at];
            Kind::Ascii {
                at,
                b1: b,
                b2: b.to_ascii_uppercase(),
                needle,
            }
        } else {
            let chars: Vec<char> = query.chars().map(fold).collect();
            let first = query.chars().next().unwrap_or(' ');
            let mut leads = Vec::new();
            let variants = std::iter::once(first)
                .chain(first.to_lowercase())
                .chain(first.to_uppercase());
            for v in variants {
                if fold(v) != chars[0] {
                    continue;
                }
                let mut buf = [0u8; 4];
                let lead = v.encode_utf8(&mut buf).as_bytes()[0];
                if !leads.contains(&lead) {
                    leads.push(lead);
                }
            }
            // (every character folding to chars[0] shares a lead byte with one of its cases in
            // practice; a query's first character that is its own fold keeps its own)
            leads.truncate(3);
            Kind::Unicode { chars, leads }
        };
        Some(Matcher {
            query: query.to_string(),
            kind,
        })
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    /// The longest a match can be, in bytes.
    pub fn max_len(&self) -> usize {
        match &self.kind {
            Kind::Ascii { needle, .. } => needle.len(),
            Kind::Unicode { chars, .. } => chars.len() * 4,
        }
    }

    /// The end of a match starting at `i`, if there is one.
    #[inline]
    fn matches_at(&self, hay: &[u8], i: usize) -> Option<usize> {
        match &self.kind {
            Kind::Ascii { needle, .. } => {
                let end = i + needle.len();
                (end <= hay.len() && hay[i..end].eq_ignore_ascii_case(needle)).then_some(end)
            }
            Kind::Unicode { chars, .. } => {
                let mut at = i;
                for &c in chars {
                    if at >= hay.len() {
                        return None;
                    }
                    let (h, n) = char_at(hay, at);
                    if fold(h) != c {
                        return None;
                    }
                    at += n;
                }
                Some(at)
            }
        }
    }

    /// The first match starting at or after `from`: (start, end).
    pub fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        let mut pos = from;
        match &self.kind {
            Kind::Ascii { at, b1, b2, .. } => {
                // candidates are where the rarest byte is, `at` bytes into a match
                let mut scan = pos + at;
                while scan < hay.len() {
                    let j = if b1 == b2 {
                        memchr::memchr(*b1, &hay[scan..])
                    } else {
                        memchr::memchr2(*b1, *b2, &hay[scan..])
                    }?;
                    let cand = scan + j;
                    let start = cand - at;
                    if let Some(end) = self.matches_at(hay, start) {
                        return Some((start, end));
                    }
                    scan = cand + 1;
                }
                None
            }
            Kind::Unicode { leads, .. } => {
                while pos < hay.len() {
                    let j = match leads.as_slice() {
                        [a] => memchr::memchr(*a, &hay[pos..]),
                        [a, b] => memchr::memchr2(*a, *b, &hay[pos..]),
                        [a, b, c, ..] => memchr::memchr3(*a, *b, *c, &hay[pos..]),
                        [] => None,
                    }?;
                    let start = pos + j;
                    if let Some(end) = self.matches_at(hay, start) {
                        return Some((start, end));
                    }
                    pos = start + 1;
                }
                None
            }
        }
    }

    /// The last match starting before `before`: (start, end).
    pub fn rfind(&self, hay: &[u8], before: usize) -> Option<(usize, usize)> {
        let before = before.min(hay.len());
        match &self.kind {
            Kind::Ascii { at, b1, b2, .. } => {
                // a match starting before `before` has its rarest byte before `before + at`
                let mut end = (before + at).min(hay.len());
                while end > 0 {
                    let j = if b1 == b2 {
                        memchr::memrchr(*b1, &hay[..end])
                    } else {
                        memchr::memrchr2(*b1, *b2, &hay[..end])
                    }?;
                    if j >= *at {
                        let start = j - at;
                        if start < before
                            && let Some(e) = self.matches_at(hay, start)
                        {
                            return Some((start, e));
                        }
                    }
                    end = j;
                }
                None
            }
            Kind::Unicode { leads, .. } => {
                let mut end = before;
                while end > 0 {
                    let j = match leads.as_slice() {
                        [a] => memchr::memrchr(*a, &hay[..end]),
                        [a, b] => memchr::memrchr2(*a, *b, &hay[..end]),
                        [a, b, c, ..] => memchr::memrchr3(*a, *b, *c, &hay[..end]),
                        [] => None,
                    }?;
                    if let Some(e) = self.matches_at(hay, j) {
                        return Some((j, e));
                    }
                    end = j;
                }
                None
            }
        }
    }

    /// The matches in `text`, in order, not overlapping.
    pub fn find_all(&self, text: &str) -> Vec<(usize, usize)> {
        let hay = text.as_bytes();
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((s, e)) = self.find(hay, at) {
            out.push((s, e));
            at = e.max(s + 1);
        }
        out
    }

    /// How many matches `text` has.
    pub fn count(&self, text: &str) -> u64 {
        let hay = text.as_bytes();
        let mut n = 0;
        let mut at = 0;
        while let Some((s, e)) = self.find(hay, at) {
            n += 1;
            at = e.max(s + 1);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(q: &str, hay: &str) -> Vec<(usize, usize)> {
        Matcher::new(q).unwrap().find_all(hay)
    }

    #[test]
    fn ascii_queries_ignore_case() {
        assert_eq!(
            all("Fox", "the fox, the FOX, the fOx"),
            [(4, 7), (13, 16), (22, 25)]
        );
        assert_eq!(all("zz", "zzzz"), [(0, 2), (2, 4)]);
        assert_eq!(all("a b", "A B a  b"), [(0, 3)]);
        assert_eq!(all("x", ""), []);
        assert!(Matcher::new("").is_none());
        // ASCII letters do not match the Kelvin sign
        assert_eq!(all("k", "\u{212a}k"), [(3, 4)]);
    }

    #[test]
    fn other_queries_fold_case() {
        assert_eq!(all("ÉTÉ", "un été, UN ÉTÉ"), [(3, 8), (13, 18)]);
        assert_eq!(all("привет", "Привет, ПРИВЕТ!"), [(0, 12), (14, 26)]);
        assert_eq!(all("日本", "こんにちは日本"), [(15, 21)]);
        // invalid bytes do not derail it
        let m = Matcher::new("é").unwrap();
        assert_eq!(m.find(b"\xc3\xff\xc3\xa9", 0), Some((2, 4)));
    }

    #[test]
    fn rfind_is_find_backwards() {
        let hay = "abc ABC xbc abc";
        for q in ["abc", "bc", "ABC", "c a"] {
            let m = Matcher::new(q).unwrap();
            let fwd = m.find_all(hay);
            for before in 0..=hay.len() {
                let want = fwd.iter().rev().find(|(s, _)| *s < before).copied();
                assert_eq!(m.rfind(hay.as_bytes(), before), want, "{q} before {before}");
            }
        }
        let m = Matcher::new("été").unwrap();
        assert_eq!(m.rfind("été ÉTÉ x".as_bytes(), 100), Some((6, 11)));
        assert_eq!(m.rfind("été ÉTÉ x".as_bytes(), 6), Some((0, 5)));
    }

    #[test]
    fn finds_from_an_offset() {
        let m = Matcher::new("needle").unwrap();
        let hay = b"needle hay needle";
        assert_eq!(m.find(hay, 1), Some((11, 17)));
        assert_eq!(m.find(hay, 12), None);
        assert_eq!(m.count("needle NEEDLE needle"), 3);
    }
}
