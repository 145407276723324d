//! Where an evidence document's bytes come from.
//!
//! The view never copies or lays out the whole text: it asks its [`Source`] for the few ranges it
//! needs (the lines on screen, a chunk to scan). Bytes already in memory are borrowed, so a
//! 100 MiB text costs no copy; a caller with a text too large to hold (a file, a database blob)
//! implements [`Source`] over it and reads ranges on demand.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

/// The bytes of one evidence document, read by range.
///
/// `read` is called with ranges inside `0..len()` (the view clamps them); it should return the
/// bytes borrowed where it can. Reads are bounded: the view asks for at most [`CHUNK`] bytes at a
/// time when it scans, and for one line (or one piece of a long line) when it draws. For the
/// Markdown and table views the whole document is read once when it is opened (those views have
/// size limits: [`super::MARKDOWN_LIMIT`], [`super::TABLE_LIMIT`]).
pub trait Source: Send + Sync {
    /// The length in bytes. It must not change while a document reads from it.
    fn len(&self) -> u64;
    /// The bytes in `range`.
    fn read(&self, range: Range<u64>) -> Cow<'_, [u8]>;
    /// Whether the source has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The most bytes a scan reads at once.
pub const CHUNK: u64 = 1 << 20;

fn slice(bytes: &[u8], r: Range<u64>) -> Cow<'_, [u8]> {
    let len = bytes.len() as u64;
    let end = r.end.min(len);
    let start = r.start.min(end);
    Cow::Borrowed(&bytes[start as usize..end as usize])
}

macro_rules! in_memory {
    ($($t:ty),*) => {$(
        impl Source for $t {
            fn len(&self) -> u64 {
                <[u8]>::len(self.as_ref()) as u64
            }
            fn read(&self, range: Range<u64>) -> Cow<'_, [u8]> {
                slice(self.as_ref(), range)
            }
        }
    )*};
}

in_memory!(Vec<u8>, Box<[u8]>, Arc<[u8]>, Arc<Vec<u8>>, &'static [u8]);

impl Source for String {
    fn len(&self) -> u64 {
        String::len(self) as u64
    }
    fn read(&self, range: Range<u64>) -> Cow<'_, [u8]> {
        slice(self.as_bytes(), range)
    }
}

impl Source for Arc<str> {
    fn len(&self) -> u64 {
        str::len(self) as u64
    }
    fn read(&self, range: Range<u64>) -> Cow<'_, [u8]> {
        slice(self.as_bytes(), range)
    }
}

/// A source's bytes in `range`, clamped to its length.
pub(crate) fn read(src: &dyn Source, range: Range<u64>) -> Cow<'_, [u8]> {
    let len = src.len();
    let end = range.end.min(len);
    let start = range.start.min(end);
    if start == end {
        return Cow::Borrowed(&[]);
    }
    src.read(start..end)
}

/// The position of the first `needle` at or after `from` and before `until`, reading in chunks.
pub(crate) fn find_byte(src: &dyn Source, needle: u8, from: u64, until: u64) -> Option<u64> {
    let mut at = from;
    while at < until {
        let end = (at + CHUNK).min(until);
        let chunk = read(src, at..end);
        if chunk.is_empty() {
            return None;
        }
        if let Some(i) = memchr::memchr(needle, &chunk) {
            return Some(at + i as u64);
        }
        at += chunk.len() as u64;
    }
    None
}

/// The position of the last `needle` before `before` and at or after `floor`, reading backward in
/// chunks.
pub(crate) fn rfind_byte(src: &dyn Source, needle: u8, floor: u64, before: u64) -> Option<u64> {
    let mut end = before;
    while end > floor {
        let start = end.saturating_sub(CHUNK).max(floor);
        let chunk = read(src, start..end);
        if chunk.is_empty() {
            return None;
        }
        if let Some(i) = memchr::memrchr(needle, &chunk) {
            return Some(start + i as u64);
        }
        end = start;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out copies, as one over a file would, to check nothing relies on
    /// borrowing.
    struct Copying(Vec<u8>);
    impl Source for Copying {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }
        fn read(&self, range: Range<u64>) -> Cow<'_, [u8]> {
            Cow::Owned(self.0[range.start as usize..range.end as usize].to_vec())
        }
    }

    #[test]
    fn finds_bytes_across_chunks() {
        let mut v = vec![b'a'; (CHUNK * 2 + 10) as usize];
        v[(CHUNK + 5) as usize] = b'\n';
        v[(CHUNK * 2 + 3) as usize] = b'\n';
        let src = Copying(v);
        let len = src.len();
        assert_eq!(find_byte(&src, b'\n', 0, len), Some(CHUNK + 5));
        assert_eq!(find_byte(&src, b'\n', CHUNK + 6, len), Some(CHUNK * 2 + 3));
        assert_eq!(find_byte(&src, b'\n', CHUNK * 2 + 4, len), None);
        assert_eq!(rfind_byte(&src, b'\n', 0, len), Some(CHUNK * 2 + 3));
        assert_eq!(rfind_byte(&src, b'\n', 0, CHUNK * 2 + 3), Some(CHUNK + 5));
        assert_eq!(rfind_byte(&src, b'\n', 0, CHUNK + 5), None);
        assert_eq!(rfind_byte(&src, b'\n', CHUNK + 6, CHUNK * 2), None);
    }

    #[test]
    fn reads_are_clamped() {
        let src: Vec<u8> = b"hello".to_vec();
        assert_eq!(&*read(&src, 3..99), b"lo");
        assert_eq!(&*read(&src, 9..99), b"");
    }
}
