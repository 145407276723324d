//! Makes untrusted text (learners' portfolio files, manifest fields) safe to
//! show on a terminal.
//!
//! ratatui drops control characters from `Span` text but leaves the rest of an
//! escape sequence behind as visible junk (`ESC ] 0 ; pwn BEL` shows as
//! `]0;pwn`), and it passes bidirectional controls straight through. This
//! module therefore removes *whole* escape sequences, in both their 7-bit
//! (`ESC …`) and 8-bit (C1) forms, and then every remaining control character,
//! replacing each removed sequence or character with exactly one visible
//! marker so the reader can see that something was there:
//!
//! * `␛` (U+241B) for an escape sequence;
//! * the Unicode Control Pictures symbol for a lone C0 control (`␇` for BEL,
//!   `␍` for a lone CR, …) and `␡` for DEL;
//! * `�` (U+FFFD) for a lone C1 control or a bidi control.
//!
//! Everything else — emoji, CJK, combining accents, zero-width joiners — is
//! passed through unchanged. All functions run in time linear in the input:
//! every character is examined a bounded number of times and nothing is ever
//! rescanned.

use std::iter::Peekable;
use std::str::Chars;

/// ESC (U+001B), the 7-bit introducer of every escape sequence.
const ESC: char = '\u{1b}';
/// BEL (U+0007), which also terminates an OSC string.
const BEL: char = '\u{07}';
/// DEL (U+007F).
const DEL: char = '\u{7f}';

/// 8-bit (C1) CSI, "Control Sequence Introducer".
const C1_CSI: char = '\u{9b}';
/// 8-bit (C1) OSC, "Operating System Command".
const C1_OSC: char = '\u{9d}';
/// 8-bit (C1) DCS, "Device Control String".
const C1_DCS: char = '\u{90}';
/// 8-bit (C1) SOS, "Start Of String".
const C1_SOS: char = '\u{98}';
/// 8-bit (C1) PM, "Privacy Message".
const C1_PM: char = '\u{9e}';
/// 8-bit (C1) APC, "Application Program Command".
const C1_APC: char = '\u{9f}';
/// 8-bit (C1) ST, "String Terminator".
const C1_ST: char = '\u{9c}';

/// Shown in place of a removed escape sequence: `␛` SYMBOL FOR ESCAPE.
const ESCAPE_MARKER: char = '\u{241b}';
/// Shown in place of DEL: `␡` SYMBOL FOR DELETE.
const DEL_MARKER: char = '\u{2421}';
/// Shown in place of a C1 or bidi control: `�` REPLACEMENT CHARACTER.
const REPLACEMENT_MARKER: char = '\u{fffd}';
/// Start of the Control Pictures block: U+2400 + code is the picture of a C0
/// control.
const CONTROL_PICTURES_BASE: u32 = 0x2400;

/// Distance between tab stops when `sanitize` expands `'\t'`.
const TAB_WIDTH: usize = 4;

/// How line breaks and tabs are treated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// Multi-line text: keep `'\n'`, expand `'\t'` to the next tab stop.
    MultiLine,
    /// Single-line text: `'\n'` and `'\t'` each become one space.
    SingleLine,
    /// Multi-line text for a file (a letter, a credential), not a terminal: as
    /// [`Mode::MultiLine`], but emoji sequences and flags are kept as they are.
    File,
}

/// Makes untrusted text safe to put on a terminal. Removes whole escape
/// sequences and control characters, showing what was removed visibly, so
/// nothing can change the title, write the clipboard, clear the screen, move
/// the cursor or reorder text.
///
/// For multi-line text: `'\n'` is kept, `'\t'` is expanded to spaces up to the
/// next tab stop (every 4 columns from the start of the line, counted in
/// characters of the output), `"\r\n"` becomes `'\n'` and a lone `'\r'` is
/// shown as `␍`.
#[must_use]
pub fn sanitize(input: &str) -> String {
    sanitize_with(input, Mode::MultiLine).into_owned()
}

/// Like [`sanitize`], for text written to a file rather than a terminal (a learner's letter):
/// the same controls and escape sequences removed, but emoji joined into one, presentation
/// selectors and flags kept as they are (see [`reshaped`]).
#[must_use]
pub fn sanitize_for_file(input: &str) -> String {
    sanitize_with(input, Mode::File).into_owned()
}

/// Like [`sanitize`], for single-line text such as titles and names: `'\n'`
/// (including the one of a `"\r\n"` pair) and `'\t'` each become a single
/// space, so the output never contains a line break.
#[must_use]
pub fn sanitize_line(input: &str) -> String {
    sanitize_line_cow(input).into_owned()
}

/// [`sanitize_line`], borrowing the text when there is nothing to change.
#[must_use]
pub fn sanitize_line_cow(input: &str) -> std::borrow::Cow<'_, str> {
    sanitize_with(input, Mode::SingleLine)
}

/// Sanitizes bytes read from a file: invalid UTF-8 sequences are shown as
/// U+FFFD, then the text goes through [`sanitize`].
#[must_use]
pub fn sanitize_bytes(input: &[u8]) -> String {
    sanitize(&String::from_utf8_lossy(input))
}

/// Whether the text contains any character for which [`is_forbidden_char`]
/// holds: a C0 control other than `'\n'` and `'\t'`, DEL, a C1 control or a
/// bidi control. Meant for validating manifest fields.
#[must_use]
pub fn has_control(input: &str) -> bool {
    input.chars().any(is_forbidden_char)
}

/// Whether `c` is a character that must never reach the terminal: a C0
/// control (U+0000–U+001F) other than `'\n'` and `'\t'`, DEL (U+007F), a C1
/// control (U+0080–U+009F), or a bidi control (U+061C, U+200E, U+200F,
/// U+202A–U+202E, U+2066–U+2069), or a line or paragraph separator (U+2028, U+2029: a terminal
/// may move the cursor for them, and the layout would no longer be what was drawn).
#[must_use]
pub fn is_forbidden_char(c: char) -> bool {
    matches!(
        c,
        '\u{00}'..='\u{08}'
            | '\u{0b}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `sanitize_with(input, mode)` would change `input`.
fn needs_work(input: &str, mode: Mode) -> bool {
    input.chars().any(|c| {
        c == '\t'
            || (mode == Mode::SingleLine && c == '\n')
            || is_forbidden_char(c)
            || (mode != Mode::File && reshaped(c))
    })
}

/// Whether `c` is shown otherwise than as itself, so that every terminal lays the text out as it
/// was drawn: terminals disagree on the width of emoji joined by a zero-width joiner, of emoji
/// or text presentation selectors and of flags (pairs of regional indicators), and a cell drawn
/// one column off leaves stray glyphs behind. Joiners and selectors are left out (each emoji is
/// shown alone), regional indicators become their letters (🇮🇪 → IE).
pub fn reshaped(c: char) -> bool {
    matches!(
        c,
        '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' | '\u{1f1e6}'..='\u{1f1ff}'
    )
}

/// Output buffer that tracks the column (in characters) for tab expansion.
struct Output {
    text: String,
    column: usize,
}

impl Output {
    fn push(&mut self, c: char) {
        self.text.push(c);
        self.column += 1;
    }

    fn newline(&mut self) {
        self.text.push('\n');
        self.column = 0;
    }

    fn tab(&mut self) {
        let spaces = TAB_WIDTH - self.column % TAB_WIDTH;
        for _ in 0..spaces {
            self.push(' ');
        }
    }
}

/// The text as `mode` shows it: borrowed when there is nothing to change.
fn sanitize_with(input: &str, mode: Mode) -> std::borrow::Cow<'_, str> {
    if !needs_work(input, mode) {
        return input.into();
    }
    let mut out = Output {
        text: String::with_capacity(input.len() + input.len() / 8),
        column: 0,
    };
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => match mode {
                Mode::MultiLine | Mode::File => out.newline(),
                Mode::SingleLine => out.push(' '),
            },
            '\t' => match mode {
                Mode::MultiLine | Mode::File => out.tab(),
                Mode::SingleLine => out.push(' '),
            },
            // The '\n' of a "\r\n" pair is handled on the next iteration.
            '\r' if chars.peek() == Some(&'\n') => {}
            ESC => {
                skip_escape(&mut chars);
                out.push(ESCAPE_MARKER);
            }
            C1_CSI => {
                skip_csi(&mut chars);
                out.push(ESCAPE_MARKER);
            }
            C1_OSC => {
                skip_string(&mut chars, true);
                out.push(ESCAPE_MARKER);
            }
            C1_DCS | C1_SOS | C1_PM | C1_APC => {
                skip_string(&mut chars, false);
                out.push(ESCAPE_MARKER);
            }
            c if is_forbidden_char(c) => out.push(marker_for(c)),
            '\u{200d}' | '\u{fe0e}' | '\u{fe0f}' if mode != Mode::File => {}
            c @ '\u{1f1e6}'..='\u{1f1ff}' if mode != Mode::File => {
                out.push(char::from(b'A' + (u32::from(c) - 0x1f1e6) as u8))
            }
            c => out.push(c),
        }
    }
    out.text.into()
}

/// The visible stand-in for a lone forbidden character.
fn marker_for(c: char) -> char {
    match c {
        '\u{00}'..='\u{1f}' => {
            char::from_u32(CONTROL_PICTURES_BASE + u32::from(c)).unwrap_or(REPLACEMENT_MARKER)
        }
        DEL => DEL_MARKER,
        _ => REPLACEMENT_MARKER,
    }
}

/// Consumes the rest of a 7-bit escape sequence whose ESC has just been read.
///
/// Anything that cannot continue the sequence is left unread, so it is
/// processed as ordinary input: a lone ESC, or one followed by a character
/// that does not start a sequence, is removed on its own.
fn skip_escape(chars: &mut Peekable<Chars<'_>>) {
    let Some(&next) = chars.peek() else {
        return;
    };
    match next {
        '[' => {
            chars.next();
            skip_csi(chars);
        }
        ']' => {
            chars.next();
            skip_string(chars, true);
        }
        'P' | 'X' | '^' | '_' => {
            chars.next();
            skip_string(chars, false);
        }
        // Intermediate bytes (e.g. `ESC ( B`), then one final byte.
        '\u{20}'..='\u{2f}' => {
            chars.next();
            while let Some(&c) = chars.peek() {
                match c {
                    '\u{20}'..='\u{2f}' => {
                        chars.next();
                    }
                    '\u{30}'..='\u{7e}' => {
                        chars.next();
                        return;
                    }
                    _ => return,
                }
            }
        }
        // Two-character sequences such as `ESC c`, `ESC 7` or `ESC \`.
        '\u{30}'..='\u{7e}' => {
            chars.next();
        }
        _ => {}
    }
}

/// Consumes the body of a CSI sequence (after `ESC [` or U+009B): parameter
/// and intermediate bytes (0x20–0x3F) up to and including the final byte
/// (0x40–0x7E). Any other character ends the sequence early and is left
/// unread.
fn skip_csi(chars: &mut Peekable<Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        match c {
            '\u{20}'..='\u{3f}' => {
                chars.next();
            }
            '\u{40}'..='\u{7e}' => {
                chars.next();
                return;
            }
            _ => return,
        }
    }
}

/// Consumes the body of a control string (OSC, DCS, SOS, PM, APC) up to and
/// including its terminator: ST, either `ESC \` or U+009C, and also BEL when
/// `bel_terminates` (OSC). An unterminated string runs to the end of input.
fn skip_string(chars: &mut Peekable<Chars<'_>>, bel_terminates: bool) {
    while let Some(c) = chars.next() {
        match c {
            C1_ST => return,
            BEL if bel_terminates => return,
            ESC if chars.peek() == Some(&'\\') => {
                chars.next();
                return;
            }
            _ => {}
        }
    }
}

/// What makes a spreadsheet read a cell as a formula when it begins a cell (OWASP's CSV
/// injection list, with the full-width forms some spreadsheets also take).
fn formula_start(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
    )
}

/// The characters a spreadsheet may split a line into cells at (the comma of a CSV file, and
/// the semicolon, tab and bar other locales and importers use), and line breaks.
fn cell_separator(c: char) -> bool {
    matches!(c, ',' | ';' | '\t' | '|' | '\n' | '\r')
}

/// Makes a CSV cell inert for spreadsheets, as OWASP recommends: wherever a cell could begin —
/// at its start and after every separator a spreadsheet may use — a formula character (after
/// any spaces or quotes) gets a `'` before it, so that the text is read as text. Returned
/// borrowed when nothing needs changing. (Invalid UTF-8 is neutralised byte by byte on ASCII.)
pub fn spreadsheet_cell(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let Ok(text) = std::str::from_utf8(cell) else {
        return spreadsheet_bytes(cell);
    };
    // Where cells may begin: the start, and just after each separator.
    let starts = std::iter::once(0).chain(
        text.char_indices()
            .filter(|(_, c)| cell_separator(*c))
            .map(|(i, c)| i + c.len_utf8()),
    );
    let mut marks = Vec::new();
    for at in starts {
        let rest = &text[at..];
        let lead = rest
            .char_indices()
            .find(|(_, c)| !matches!(c, ' ' | '"' | '\''));
        if let Some((_, c)) = lead
            && formula_start(c)
        {
            marks.push(at);
        }
    }
    if marks.is_empty() {
        return cell.into();
    }
    let mut out = Vec::with_capacity(cell.len() + marks.len());
    let mut from = 0;
    for at in marks {
        out.extend_from_slice(&cell[from..at]);
        out.push(b'\'');
        from = at;
    }
    out.extend_from_slice(&cell[from..]);
    out.into()
}

fn spreadsheet_bytes(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let is_start = |b: u8| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r');
    let is_sep = |b: u8| matches!(b, b',' | b';' | b'\t' | b'|' | b'\n' | b'\r');
    let mut out = Vec::with_capacity(cell.len() + 1);
    let mut at_start = true;
    let mut changed = false;
    for &b in cell {
        if at_start && is_start(b) {
            out.push(b'\'');
            changed = true;
        }
        at_start = is_sep(b) || (at_start && matches!(b, b' ' | b'"' | b'\''));
        out.push(b);
    }
    if changed { out.into() } else { cell.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // ---- escape sequences -------------------------------------------------

    #[test]
    fn joined_emoji_selectors_and_flags_are_shown_so_every_terminal_agrees_on_their_width() {
        assert_eq!(
            sanitize("family 👩\u{200d}👩\u{200d}👧 flag 🇮🇪 heart ❤\u{fe0f}"),
            "family 👩👩👧 flag IE heart ❤"
        );
        // plain emoji and combining marks are left as they are
        assert_eq!(sanitize("ok 😀 é"), "ok 😀 é");
    }

    #[test]
    fn osc_title_change_terminated_by_bel() {
        assert_eq!(sanitize("a\u{1b}]0;pwned\u{07}b"), "a\u{241b}b");
    }

    #[test]
    fn osc_title_change_terminated_by_st() {
        assert_eq!(sanitize("a\u{1b}]0;pwned\u{1b}\\b"), "a\u{241b}b");
        assert_eq!(sanitize("a\u{1b}]2;pwned\u{9c}b"), "a\u{241b}b");
    }

    #[test]
    fn osc_52_clipboard_write() {
        assert_eq!(
            sanitize("before\u{1b}]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u{07}after"),
            "before\u{241b}after"
        );
        assert_eq!(sanitize_line("x\u{1b}]52;c;aGk=\u{1b}\\y"), "x\u{241b}y");
    }

    #[test]
    fn csi_clear_screen() {
        assert_eq!(sanitize("x\u{1b}[2Jy"), "x\u{241b}y");
        assert_eq!(sanitize("\u{1b}[H\u{1b}[2J"), "\u{241b}\u{241b}");
    }

    #[test]
    fn csi_with_parameters_and_intermediates() {
        assert_eq!(sanitize("\u{1b}[1;31mred\u{1b}[0m"), "\u{241b}red\u{241b}");
        assert_eq!(sanitize("\u{1b}[?1049h"), "\u{241b}");
        // DECSCUSR: intermediate SP before the final byte.
        assert_eq!(sanitize("a\u{1b}[4 qb"), "a\u{241b}b");
        // Cursor movement.
        assert_eq!(sanitize("a\u{1b}[10;20Hb"), "a\u{241b}b");
    }

    #[test]
    fn csi_interrupted_by_non_csi_character() {
        // The sequence ends at the newline; the newline itself is kept.
        assert_eq!(sanitize("a\u{1b}[12\nb"), "a\u{241b}\nb");
        // A new ESC ends the first sequence and starts another.
        assert_eq!(sanitize("\u{1b}[\u{1b}[31mx"), "\u{241b}\u{241b}x");
        assert_eq!(sanitize("\u{1b}[1é"), "\u{241b}é");
    }

    #[test]
    fn eight_bit_csi() {
        assert_eq!(sanitize("a\u{9b}2Jb"), "a\u{241b}b");
        assert_eq!(sanitize("\u{9b}1;31mred"), "\u{241b}red");
        assert_eq!(sanitize("end\u{9b}"), "end\u{241b}");
    }

    #[test]
    fn dcs() {
        assert_eq!(sanitize("\u{1b}Pq#0;2;0;0;0\u{1b}\\done"), "\u{241b}done");
        assert_eq!(sanitize("\u{90}1$r\u{9c}x"), "\u{241b}x");
        // BEL does not end a DCS.
        assert_eq!(sanitize("\u{1b}Pa\u{07}b\u{1b}\\c"), "\u{241b}c");
    }

    #[test]
    fn apc_sos_pm() {
        assert_eq!(sanitize("\u{1b}_Gf=100;AAAA\u{1b}\\img"), "\u{241b}img");
        assert_eq!(sanitize("\u{9f}payload\u{9c}img"), "\u{241b}img");
        assert_eq!(sanitize("\u{1b}Xsos\u{1b}\\a"), "\u{241b}a");
        assert_eq!(sanitize("\u{1b}^pm\u{9c}a"), "\u{241b}a");
        assert_eq!(
            sanitize("\u{98}sos\u{9c}\u{9e}pm\u{9c}a"),
            "\u{241b}\u{241b}a"
        );
    }

    #[test]
    fn unterminated_osc_consumes_to_end() {
        assert_eq!(
            sanitize("keep\u{1b}]0;title never ends\nmore\tlines"),
            "keep\u{241b}"
        );
        assert_eq!(sanitize("keep\u{9d}0;x"), "keep\u{241b}");
        assert_eq!(sanitize("keep\u{1b}]"), "keep\u{241b}");
        // An ESC at the very end of the string does not terminate it.
        assert_eq!(sanitize("keep\u{1b}]0;x\u{1b}"), "keep\u{241b}");
    }

    #[test]
    fn esc_at_end_of_input() {
        assert_eq!(sanitize("end\u{1b}"), "end\u{241b}");
        assert_eq!(sanitize("\u{1b}"), "\u{241b}");
        assert_eq!(sanitize("end\u{1b}["), "end\u{241b}");
        assert_eq!(sanitize("end\u{1b}[12;"), "end\u{241b}");
        assert_eq!(sanitize("end\u{1b}("), "end\u{241b}");
    }

    #[test]
    fn other_escape_sequences_removed_whole() {
        assert_eq!(sanitize("a\u{1b}cb"), "a\u{241b}b"); // RIS, full reset
        assert_eq!(sanitize("a\u{1b}7b\u{1b}8c"), "a\u{241b}b\u{241b}c"); // save/restore cursor
        assert_eq!(sanitize("a\u{1b}(Bb"), "a\u{241b}b"); // designate G0
        assert_eq!(sanitize("a\u{1b} Fb"), "a\u{241b}b"); // S7C1T
        assert_eq!(sanitize("a\u{1b}\\b"), "a\u{241b}b"); // stray ST
    }

    #[test]
    fn lone_esc_before_non_sequence_character() {
        assert_eq!(sanitize("a\u{1b}\nb"), "a\u{241b}\nb");
        assert_eq!(sanitize("a\u{1b}\u{1b}b"), "a\u{241b}\u{241b}");
        assert_eq!(sanitize("a\u{1b}日"), "a\u{241b}日");
    }

    // ---- lone control characters -------------------------------------------

    #[test]
    fn lone_controls_become_visible() {
        assert_eq!(sanitize("a\u{07}b"), "a\u{2407}b"); // ␇
        assert_eq!(sanitize("a\u{00}b"), "a\u{2400}b"); // ␀
        assert_eq!(sanitize("a\u{08}b"), "a\u{2408}b"); // ␈
        assert_eq!(sanitize("a\u{7f}b"), "a\u{2421}b"); // ␡
        assert_eq!(sanitize("a\u{85}b"), "a\u{fffd}b"); // NEL (C1)
        assert_eq!(sanitize("a\u{9c}b"), "a\u{fffd}b"); // stray 8-bit ST
    }

    #[test]
    fn bidi_override_in_name() {
        let name = "invoice\u{202e}fdp.exe";
        assert!(has_control(name));
        assert_eq!(sanitize_line(name), "invoice\u{fffd}fdp.exe");
        assert_eq!(
            sanitize("\u{2066}a\u{2069}\u{200e}\u{200f}\u{061c}"),
            "\u{fffd}a\u{fffd}\u{fffd}\u{fffd}\u{fffd}"
        );
    }

    // ---- line endings and tabs ---------------------------------------------

    #[test]
    fn crlf_becomes_lf() {
        assert_eq!(sanitize("a\r\nb\r\n"), "a\nb\n");
        assert_eq!(sanitize_line("a\r\nb"), "a b");
        assert_eq!(sanitize("a\r\r\nb"), "a\u{240d}\nb");
    }

    #[test]
    fn lone_cr_is_visible() {
        assert_eq!(sanitize("a\rb"), "a\u{240d}b");
        assert_eq!(sanitize("a\r"), "a\u{240d}");
        assert_eq!(sanitize_line("a\rb"), "a\u{240d}b");
    }

    #[test]
    fn tabs_expand_to_stops_of_four() {
        assert_eq!(sanitize("\tx"), "    x");
        assert_eq!(sanitize("a\tb"), "a   b");
        assert_eq!(sanitize("abc\td"), "abc d");
        assert_eq!(sanitize("abcd\te"), "abcd    e");
        assert_eq!(sanitize("a\t\tb"), "a       b");
        assert_eq!(sanitize("ab\n\tc"), "ab\n    c");
        assert_eq!(sanitize("日本\tx"), "日本  x");
        // A marker counts as one column.
        assert_eq!(sanitize("\u{1b}[1m\tx"), "\u{241b}   x");
    }

    #[test]
    fn single_line_turns_newline_and_tab_into_space() {
        assert_eq!(sanitize_line("a\tb\nc"), "a b c");
        assert_eq!(sanitize_line("a\n\n"), "a  ");
    }

    // ---- text that must pass through ----------------------------------------

    #[test]
    fn emoji_and_cjk_unchanged() {
        // (for a terminal, joiners, selectors and flags are reshaped: see the test below)
        let text = "👩💻 日本語のテキスト 한국어 café e\u{301} ❤";
        assert_eq!(sanitize(text), text);
        assert_eq!(sanitize_line(text), text);
        assert!(!has_control(text));
        // written to a file, everything is kept
        let joined = "👩\u{200d}💻 日本語のテキスト 한국어 café e\u{301} 🇫🇷 ❤\u{fe0f}";
        assert_eq!(sanitize_for_file(joined), joined);
        assert!(!has_control(joined));
    }

    #[test]
    fn plain_ascii_unchanged() {
        let text = "Hello, world! [1;31m] ]0; ESC \\ 0123456789 ~";
        assert_eq!(sanitize(text), text);
        assert_eq!(sanitize_line(text), text);
        let multi = "line one\nline two\n";
        assert_eq!(sanitize(multi), multi);
        assert_eq!(sanitize(""), "");
    }

    // ---- bytes and predicates ----------------------------------------------

    #[test]
    fn bytes_invalid_utf8_shown_as_replacement() {
        assert_eq!(
            sanitize_bytes(b"ok\xff\x1b[31mred\xc3"),
            "ok\u{fffd}\u{241b}red\u{fffd}"
        );
        // A raw 0x9B byte is invalid UTF-8, not an 8-bit CSI.
        assert_eq!(sanitize_bytes(b"a\x9b2Jb"), "a\u{fffd}2Jb");
        assert_eq!(sanitize_bytes("日本\r\n".as_bytes()), "日本\n");
    }

    #[test]
    fn forbidden_char_predicate() {
        assert!(!is_forbidden_char('\n'));
        assert!(!is_forbidden_char('\t'));
        assert!(!is_forbidden_char(' '));
        assert!(!is_forbidden_char('\u{200d}')); // ZWJ
        assert!(!is_forbidden_char('\u{a0}'));
        for c in [
            '\u{0}', '\r', '\u{1b}', '\u{7f}', '\u{80}', '\u{9f}', '\u{202a}', '\u{2069}',
        ] {
            assert!(is_forbidden_char(c), "{c:?}");
        }
        assert!(!has_control("a\tb\nc"));
        assert!(has_control("a\rb"));
    }

    #[test]
    fn adversarial_input_is_linear() {
        // Quadratic behaviour would make these take minutes even in debug mode.
        let n = 200_000;
        let csi = "\u{1b}[".repeat(n);
        assert_eq!(sanitize(&csi).chars().count(), n);
        let osc = "\u{1b}]".repeat(n);
        assert_eq!(sanitize(&osc), "\u{241b}");
        let esc = "\u{1b}".repeat(n);
        assert_eq!(sanitize(&esc).chars().count(), n);
        let c1 = "\u{9b}".repeat(n);
        assert_eq!(sanitize(&c1).chars().count(), n);
        let params = format!("\u{1b}[{}", "1;".repeat(n));
        assert_eq!(sanitize(&params), "\u{241b}");
    }

    // ---- properties ----------------------------------------------------------

    /// Characters that exercise the escape parser, mixed with arbitrary ones.
    fn hostile_char() -> impl Strategy<Value = char> {
        prop_oneof![
            3 => any::<char>(),
            4 => prop::sample::select(vec![
                '\u{1b}', '[', ']', 'P', 'X', '^', '_', '\\', '(', ' ', '0', '1', ';', '?',
                'm', 'J', 'a', '\u{07}', '\u{9b}', '\u{9d}', '\u{90}', '\u{98}', '\u{9e}',
                '\u{9f}', '\u{9c}', '\u{85}', '\u{7f}', '\u{00}', '\r', '\n', '\t', '\u{202e}',
                '\u{2066}', '\u{200d}', '日', '👩',
            ]),
        ]
    }

    fn hostile_string() -> impl Strategy<Value = String> {
        prop::collection::vec(hostile_char(), 0..64).prop_map(|v| v.into_iter().collect())
    }

    fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                2 => any::<u8>(),
                1 => prop::sample::select(vec![
                    0x1b, b'[', b']', b'\\', b'P', 0x07, b'\r', b'\n', b'\t', 0xc2, 0x9b, 0x9d,
                    0x9c, 0xe2, 0x80, 0xae,
                ]),
            ],
            0..128,
        )
    }

    fn assert_safe(out: &str) -> Result<(), TestCaseError> {
        prop_assert!(
            !out.chars().any(is_forbidden_char),
            "forbidden char in {out:?}"
        );
        prop_assert!(!out.contains(ESC), "ESC in {out:?}");
        prop_assert!(!out.contains('\t'));
        prop_assert!(!out.contains('\r'));
        Ok(())
    }

    fn check_string(input: &str) -> Result<(), TestCaseError> {
        let out = sanitize(input);
        assert_safe(&out)?;
        prop_assert!(!has_control(&out));
        prop_assert_eq!(sanitize(&out), out.clone());

        let line = sanitize_line(input);
        assert_safe(&line)?;
        prop_assert!(!line.contains('\n'));
        prop_assert_eq!(sanitize_line(&line), line.clone());
        prop_assert_eq!(sanitize(&line), line);
        Ok(())
    }

    /// Removes everything that `sanitize` would change.
    fn clean(input: &str) -> String {
        input
            .chars()
            .filter(|&c| c != '\t' && !is_forbidden_char(c) && !reshaped(c))
            .collect()
    }

    proptest! {
        #[test]
        fn prop_arbitrary_string_is_safe_and_idempotent(input in any::<String>()) {
            check_string(&input)?;
        }

        #[test]
        fn prop_hostile_string_is_safe_and_idempotent(input in hostile_string()) {
            check_string(&input)?;
        }

        #[test]
        fn prop_arbitrary_bytes_are_safe(input in prop::collection::vec(any::<u8>(), 0..256)) {
            let out = sanitize_bytes(&input);
            assert_safe(&out)?;
            prop_assert_eq!(sanitize(&out), out);
        }

        #[test]
        fn prop_hostile_bytes_are_safe(input in hostile_bytes()) {
            let out = sanitize_bytes(&input);
            assert_safe(&out)?;
            prop_assert_eq!(sanitize(&out), out);
        }

        #[test]
        fn prop_clean_text_passes_through(input in any::<String>()) {
            let text = clean(&input);
            prop_assert!(!has_control(&text));
            prop_assert_eq!(sanitize(&text), text.clone());
            let one_line = text.replace('\n', "");
            prop_assert_eq!(sanitize_line(&one_line), one_line);
        }

        #[test]
        fn prop_clean_hostile_text_passes_through(input in hostile_string()) {
            let text = clean(&input);
            prop_assert_eq!(sanitize(&text), text.clone());
            prop_assert_eq!(sanitize_bytes(text.as_bytes()), text.clone());
            let one_line = text.replace('\n', "");
            prop_assert_eq!(sanitize_line(&one_line), one_line);
        }

        #[test]
        fn prop_has_control_matches_predicate(input in hostile_string()) {
            prop_assert_eq!(has_control(&input), input.chars().any(is_forbidden_char));
        }
    }

    #[test]
    fn spreadsheet_cells_never_begin_a_formula() {
        let c = |t: &str| String::from_utf8(spreadsheet_cell(t.as_bytes()).into_owned()).unwrap();
        assert_eq!(c("Aoife Byrne"), "Aoife Byrne");
        assert!(matches!(
            spreadsheet_cell(b"plain"),
            std::borrow::Cow::Borrowed(_)
        ));
        for (input, want) in [
            ("=1+1", "'=1+1"),
            ("+44 20", "'+44 20"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            // (a tab is both: a cell may begin before it and after it)
            ("\t=x", "'\t'=x"),
            ("  =HYPERLINK(\"http://x\")", "'  =HYPERLINK(\"http://x\")"),
            ("\"=cmd", "'\"=cmd"),
            ("a;=cmd|' /C calc'!A0", "a;'=cmd|' /C calc'!A0"),
            ("a,b;c|@x", "a,b;c|'@x"),
            ("line\n=2+2", "line\n'=2+2"),
            ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
            ("x; -1", "x;' -1"),
        ] {
            assert_eq!(c(input), want, "{input:?}");
        }
        // invalid UTF-8 is handled on its ASCII bytes
        assert_eq!(
            spreadsheet_cell(b"\xff;=1").into_owned(),
            b"\xff;'=1".to_vec()
        );
    }
}
