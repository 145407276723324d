//! CSV and TSV evidence as an aligned table: a header row, column widths from a sample of rows,
//! cells clipped with an ellipsis, quoted fields with embedded line breaks.
//!
//! Opening a table scans it once for where its records begin (quote-aware, so a line break inside
//! a quoted field does not end a record) and keeps one mark every [`MARK_RECORDS`] records or
//! [`MARK_BYTES`] bytes; a record is parsed (by the `csv` crate) only when it is drawn or searched.

use super::layout::{display, width};
use super::source::{CHUNK, Source, read};

/// A mark is kept at least every this many records…
pub const MARK_RECORDS: u64 = 32;
/// …and every this many bytes.
pub const MARK_BYTES: u64 = 16 * 1024;
/// A record longer than this is not a table row: the document is shown as text.
pub const RECORD_MAX: u64 = 64 * 1024;
/// Column widths come from the header and this many records.
const SAMPLE: usize = 200;
/// A column is at most this wide; longer cells are clipped.
pub const MAX_COL: u64 = 32;
/// The width of a column beyond those of the sample (a ragged row).
const EXTRA_COL: u64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

/// Finds where records end, as the `csv` crate reads them: a line break ends a record unless it is
/// inside a quoted field; a quote only opens a quoted field at the start of a field.
#[derive(Debug, Clone, Copy)]
struct Scanner {
    state: State,
    delim: u8,
    quoting: bool,
}

impl Scanner {
    fn new(delim: u8, quoting: bool) -> Scanner {
        Scanner {
            state: State::StartField,
            delim,
            quoting,
        }
    }

    /// The offset in `chunk` just after the line break that ends the current record, if the
    /// record ends in it; the state carries over to the next chunk otherwise.
    #[inline]
    fn next_end(&mut self, chunk: &[u8], mut i: usize) -> Option<usize> {
        let (d, q) = (self.delim, self.quoting);
        while i < chunk.len() {
            match self.state {
                State::Quoted => match memchr::memchr(b'"', &chunk[i..]) {
                    Some(j) => {
                        i += j + 1;
                        self.state = State::QuoteInQuoted;
                    }
                    None => return None,
                },
                State::Unquoted => match memchr::memchr2(d, b'\n', &chunk[i..]) {
                    Some(j) => {
                        i += j;
                        let b = chunk[i];
                        i += 1;
                        self.state = State::StartField;
                        if b == b'\n' {
                            return Some(i);
                        }
                    }
                    None => return None,
                },
                State::StartField | State::QuoteInQuoted => {
                    let b = chunk[i];
                    i += 1;
                    let was = self.state;
                    self.state = if b == b'\n' || b == d {
                        State::StartField
                    } else if b == b'"'
                        && (q && was == State::StartField || was == State::QuoteInQuoted)
                    {
                        State::Quoted
                    } else {
                        State::Unquoted
                    };
                    if b == b'\n' {
                        return Some(i);
                    }
                }
            }
        }
        None
    }
}

/// The fields of one record (without its line break), as the `csv` crate reads them: a field
/// that begins with a quote runs to the closing quote (`""` inside is one quote, line breaks are
/// kept); anything after the closing quote, and a quote inside an unquoted field, is text.
pub fn split(raw: &[u8], delim: u8, quoting: bool) -> Vec<Vec<u8>> {
    let mut fields = Vec::new();
    let mut field = Vec::new();
    let mut st = State::StartField;
    for &b in raw {
        st = match st {
            State::StartField | State::Unquoted if b == delim => {
                fields.push(std::mem::take(&mut field));
                State::StartField
            }
            State::StartField if quoting && b == b'"' => State::Quoted,
            State::StartField | State::Unquoted => {
                field.push(b);
                State::Unquoted
            }
            State::Quoted if b == b'"' => State::QuoteInQuoted,
            State::Quoted => {
                field.push(b);
                State::Quoted
            }
            State::QuoteInQuoted if b == b'"' => {
                field.push(b'"');
                State::Quoted
            }
            State::QuoteInQuoted if b == delim => {
                fields.push(std::mem::take(&mut field));
                State::StartField
            }
            State::QuoteInQuoted => {
                field.push(b);
                State::Unquoted
            }
        };
    }
    fields.push(field);
    fields
}

/// The delimiter of a `.csv` file: a comma or a semicolon, whichever splits the first records
/// into a steady number of fields (a comma when in doubt).
pub fn sniff(sample: &[u8]) -> u8 {
    let score = |d: u8| {
        // fields per record over the first 20 records
        let mut counts = Vec::new();
        let mut fields = 1usize;
        let mut st = State::StartField;
        for &b in sample {
            if st == State::Quoted {
                if b == b'"' {
                    st = State::QuoteInQuoted;
                }
                continue;
            }
            if b == b'\n' {
                counts.push(fields);
                fields = 1;
                st = State::StartField;
                if counts.len() == 20 {
                    break;
                }
            } else if b == d {
                fields += 1;
                st = State::StartField;
            } else if b == b'"' && st != State::Unquoted {
                st = State::Quoted;
            } else {
                st = State::Unquoted;
            }
        }
        if counts.is_empty() {
            counts.push(fields);
        }
        let first = counts[0];
        let steady = counts.iter().filter(|&&c| c == first).count();
        if first < 2 { 0 } else { steady * 1000 + first }
    };
    if score(b';') > score(b',') {
        b';'
    } else {
        b','
    }
}

/// A table's records, indexed.
#[derive(Debug, Clone)]
pub struct Table {
    pub delim: u8,
    pub quoting: bool,
    /// Where the header record begins (after a byte order mark).
    pub header: u64,
    /// (offset, record number) of marked records, in order; the first is the header's.
    marks: Vec<(u64, u64)>,
    /// Records, the header included.
    pub records: u64,
    /// The document's length.
    len: u64,
    /// The header's cells, shown.
    pub head: Vec<String>,
    /// Column widths, from the sample.
    pub widths: Vec<u64>,
    /// Columns whose sampled cells are all numbers (drawn right-aligned).
    pub numeric: Vec<bool>,
}

/// Why a document could not be shown as a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotTable {
    LongRecord(u64),
}

impl Table {
    /// Indexes the records of `src` (one pass) and measures the columns.
    pub fn open(src: &dyn Source, start: u64, delim: u8, quoting: bool) -> Result<Table, NotTable> {
        let len = src.len();
        let mut marks = vec![(start, 0u64)];
        let mut records = 0u64;
        let mut rec_start = start;
        let mut last_mark = start;
        let mut scanner = Scanner::new(delim, quoting);
        let mut at = start;
        while at < len {
            let end = (at + CHUNK).min(len);
            let chunk = read(src, at..end);
            let mut i = 0usize;
            while let Some(e) = scanner.next_end(&chunk, i) {
                let next = at + e as u64;
                if next - rec_start > RECORD_MAX {
                    return Err(NotTable::LongRecord(records + 1));
                }
                records += 1;
                rec_start = next;
                if next < len
                    && (records.is_multiple_of(MARK_RECORDS) || next - last_mark >= MARK_BYTES)
                {
                    marks.push((next, records));
                    last_mark = next;
                }
                i = e;
            }
            at = end;
            if at - rec_start > RECORD_MAX {
                return Err(NotTable::LongRecord(records + 1));
            }
        }
        if rec_start < len {
            // the last record has no line break
            records += 1;
        }
        let mut t = Table {
            delim,
            quoting,
            header: start,
            marks,
            records,
            len,
            head: Vec::new(),
            widths: Vec::new(),
            numeric: Vec::new(),
        };
        t.measure(src);
        Ok(t)
    }

    fn measure(&mut self, src: &dyn Source) {
        if self.records == 0 {
            return;
        }
        self.head = self.cells(src, self.header);
        let mut widths: Vec<u64> = self
            .head
            .iter()
            .map(|c| width(c).clamp(1, MAX_COL))
            .collect();
        let mut numeric: Vec<Option<bool>> = vec![None; widths.len()];
        // the first records and the last ones (a total or a long name at the end is measured too)
        let mut sample: Vec<u64> = Vec::with_capacity(2 * SAMPLE);
        let mut r = self.next(src, self.header);
        for _ in 0..SAMPLE {
            let Some(at) = r else { break };
            sample.push(at);
            r = self.next(src, at);
        }
        let mut r = self.last_row(src);
        for _ in 0..SAMPLE {
            let Some(at) = r else { break };
            if sample.contains(&at) || at == self.header {
                break;
            }
            sample.push(at);
            r = self.prev(src, at);
        }
        for at in sample {
            for (i, c) in self.cells(src, at).iter().enumerate() {
                if i >= widths.len() {
                    widths.push(1);
                    numeric.push(None);
                }
                widths[i] = widths[i].max(width(c).min(MAX_COL));
                let t = c.trim();
                if !t.is_empty() {
                    let num = t
                        .trim_end_matches('%')
                        .replace(',', "")
                        .parse::<f64>()
                        .is_ok();
                    numeric[i] = Some(numeric[i].unwrap_or(true) && num);
                }
            }
        }
        self.widths = widths;
        self.numeric = numeric.into_iter().map(|n| n == Some(true)).collect();
    }

    /// The width of column `i`.
    pub fn width_of(&self, i: usize) -> u64 {
        self.widths.get(i).copied().unwrap_or(EXTRA_COL)
    }

    /// Where the record beginning at `start` ends (after its line break).
    pub fn end_of(&self, src: &dyn Source, start: u64) -> u64 {
        let mut s = Scanner::new(self.delim, self.quoting);
        let mut at = start;
        while at < self.len {
            let end = (at + RECORD_MAX + 1).min(self.len);
            let chunk = read(src, at..end);
            if let Some(e) = s.next_end(&chunk, 0) {
                return at + e as u64;
            }
            at = end;
        }
        self.len
    }

    /// The record after the one at `start`.
    pub fn next(&self, src: &dyn Source, start: u64) -> Option<u64> {
        let e = self.end_of(src, start);
        (e < self.len).then_some(e)
    }

    /// The mark at or before `at`.
    fn mark_before(&self, at: u64) -> (u64, u64) {
        let i = self.marks.partition_point(|&(o, _)| o <= at);
        self.marks[i.saturating_sub(1)]
    }

    /// The start and number of the record containing byte `at`.
    pub fn record_at(&self, src: &dyn Source, at: u64) -> (u64, u64) {
        let (mut r, mut n) = self.mark_before(at);
        loop {
            let e = self.end_of(src, r);
            if e > at || e >= self.len {
                return (r, n);
            }
            r = e;
            n += 1;
        }
    }

    /// The record before the one at `start` (never the header).
    pub fn prev(&self, src: &dyn Source, start: u64) -> Option<u64> {
        if start <= self.header {
            return None;
        }
        let (r, n) = self.record_at(src, start - 1);
        (n > 0).then_some(r)
    }

    /// The number of the record at `start` (the header is 0).
    pub fn number(&self, src: &dyn Source, start: u64) -> u64 {
        self.record_at(src, start).1
    }

    /// The first record after the header.
    pub fn first_row(&self, src: &dyn Source) -> Option<u64> {
        if self.records < 2 {
            return None;
        }
        self.next(src, self.header)
    }

    /// The last record (not the header).
    pub fn last_row(&self, src: &dyn Source) -> Option<u64> {
        if self.records < 2 {
            return None;
        }
        let (r, n) = self.record_at(src, self.len.saturating_sub(1));
        (n > 0).then_some(r)
    }

    /// The cells of the record at `start`, shown (sanitised; line breaks inside a cell as `↵`).
    pub fn cells(&self, src: &dyn Source, start: u64) -> Vec<String> {
        let end = self.end_of(src, start);
        let raw = read(src, start..end);
        let mut raw: &[u8] = &raw;
        raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            return Vec::new();
        }
        split(raw, self.delim, self.quoting)
            .iter()
            .map(|f| display(f).into_owned())
            .collect()
    }

    /// Bytes of memory the index holds.
    pub fn index_bytes(&self) -> usize {
        self.marks.capacity() * std::mem::size_of::<(u64, u64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &str, delim: u8) -> (Vec<u8>, Table) {
        let src = text.as_bytes().to_vec();
        let t = Table::open(&src, 0, delim, delim != b'\t').unwrap();
        (src, t)
    }

    fn rows(src: &Vec<u8>, t: &Table) -> Vec<Vec<String>> {
        let mut out = vec![t.head.clone()];
        let mut r = t.first_row(src);
        while let Some(at) = r {
            out.push(t.cells(src, at));
            r = t.next(src, at);
        }
        out
    }

    #[test]
    fn quoted_fields_keep_their_line_breaks() {
        let (src, t) = open(
            "name,comment\nAoife,\"first line\nsecond, line\"\nBea,\"say \"\"hi\"\"\"\r\nCal,5\" screen\n",
            b',',
        );
        assert_eq!(t.records, 4);
        assert_eq!(
            rows(&src, &t),
            [
                vec!["name", "comment"],
                vec!["Aoife", "first line↵second, line"],
                vec!["Bea", "say \"hi\""],
                vec!["Cal", "5\" screen"],
            ]
        );
        let last = t.last_row(&src).unwrap();
        assert_eq!(t.cells(&src, last), ["Cal", "5\" screen"]);
        let prev = t.prev(&src, last).unwrap();
        assert_eq!(t.cells(&src, prev)[0], "Bea");
        let first = t.prev(&src, prev).unwrap();
        assert_eq!(t.cells(&src, first)[0], "Aoife");
        assert_eq!(t.prev(&src, first), None);
        assert_eq!(t.number(&src, last), 3);
    }

    #[test]
    fn index_agrees_with_csv_over_many_records() {
        let mut text = String::from("a,b,c\n");
        for i in 0..5000 {
            if i % 7 == 0 {
                text.push_str(&format!("{i},\"multi\nline {i}\",x\n"));
            } else if i % 11 == 0 {
                text.push_str(&format!("{i},\"say \"\"so\"\"\"after,a\"b\n"));
            } else if i % 13 == 0 {
                text.push_str(&format!("{i},,\"\"\n"));
            } else {
                text.push_str(&format!("{i},plain,\"q,{i}\"\n"));
            }
        }
        text.push_str("last,row,no-newline");
        let (src, t) = open(&text, b',');
        assert_eq!(t.records, 5002);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let want: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(|f| f.replace('\n', "↵")).collect())
            .collect();
        assert_eq!(rows(&src, &t), want);
        // walking back from the end visits every row
        let mut n = 0;
        let mut r = t.last_row(&src);
        while let Some(at) = r {
            n += 1;
            r = t.prev(&src, at);
        }
        assert_eq!(n, 5001);
    }

    #[test]
    fn sniffs_the_delimiter() {
        assert_eq!(sniff(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff(b"a;b;c\n1,5;2,5;3\n4;5;6\n"), b';');
        assert_eq!(sniff(b"name;note\n\"x, y\";z\n"), b';');
        assert_eq!(sniff(b"just one column\n"), b',');
    }

    #[test]
    fn widths_come_from_the_sample_and_numbers_align_right() {
        let (_, t) = open("id\tname\tscore\n1\tAoife Byrne\t7.5\n2\tB\t10\n", b'\t');
        assert_eq!(t.widths, [2, 11, 5]);
        assert_eq!(t.numeric, [true, false, true]);
    }

    #[test]
    fn a_longer_value_near_the_end_widens_its_column() {
        let mut text = String::from("id,name\n");
        for i in 0..300 {
            text.push_str(&format!("{i},ab\n"));
        }
        text.push_str("300,A-LONGER-NAME-AT-THE-END\n");
        let (_, t) = open(&text, b',');
        assert_eq!(t.widths[1], "A-LONGER-NAME-AT-THE-END".len() as u64);
    }

    #[test]
    fn long_records_are_not_a_table() {
        let text = format!("a,b\n\"{}\n", "x".repeat(RECORD_MAX as usize + 10));
        let src = text.into_bytes();
        assert!(matches!(
            Table::open(&src, 0, b',', true),
            Err(NotTable::LongRecord(2))
        ));
    }
}
