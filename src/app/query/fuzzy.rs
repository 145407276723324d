//! The fuzzy score of `fuzzy-matcher`'s `SkimMatcherV2::default().ignore_case()`, computed the
//! same way — the same two-row score matrix, the same order of updates, the same integers — but
//! several times faster, for ranking 100,000 haystacks on every keystroke:
//!
//! - a pattern of ASCII characters is first looked for as a subsequence of the haystack's bytes
//!   (a non-ASCII character never equals an ASCII one, ignoring ASCII case, so this rejects
//!   exactly the haystacks that `SkimMatcherV2` rejects), before any character is decoded;
//! - the buffers live in the [`Matcher`], one per thread, instead of thread-local caches;
//! - the matrix is kept as plain `i32` rows.
//!
//! The score is that of a new `SkimMatcherV2` for each haystack. (A `SkimMatcherV2` used for
//! several haystacks in turn can, rarely, carry a bonus over from one haystack's matrix into the
//! next one's, so its scores then depend on what it scored before; see the tests.)
//!
//! `SkimMatcherV2`'s compressed (score-only) matrix has a quirk that is kept here on purpose:
//! a row is computed only from the first possible match of its pattern character onwards, so
//! the cells before that still hold what the row two pattern characters earlier left there, and
//! they take part in the result. The tests compare every score with `SkimMatcherV2`'s.

/// Score of a match, as `SkimMatcherV2` reports it.
pub type Score = i64;

const SCORE_MATCH: i32 = 16;
const GAP_START: i32 = -3;
const GAP_EXTENSION: i32 = -1;
const BONUS_FIRST_CHAR_MULTIPLIER: i32 = 2;
const BONUS_HEAD: i32 = SCORE_MATCH / 2;
const BONUS_BREAK: i32 = SCORE_MATCH / 2 + GAP_EXTENSION;
const BONUS_CAMEL: i32 = SCORE_MATCH / 2 + 2 * GAP_EXTENSION;
const BONUS_CONSECUTIVE: i32 = -(GAP_START + GAP_EXTENSION);
const PENALTY_CASE_MISMATCH: i32 = GAP_EXTENSION * 2;
const NEG_INFINITY: i32 = i16::MIN as i32;
/// The most one more matched pattern character can add to the best value in the matrix, after
/// the first: a match and the largest bonus past the first column.
const MAX_STEP: Score = (SCORE_MATCH + BONUS_HEAD) as Score;

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharType {
    Empty,
    Upper,
    Lower,
    Number,
    HardSep,
    SoftSep,
}

const fn char_type(ch: char) -> CharType {
    match ch {
        '\0' => CharType::Empty,
        ' ' | '/' | '\\' | '|' | '(' | ')' | '[' | ']' | '{' | '}' => CharType::HardSep,
        '!'..='\'' | '*'..='.' | ':'..='@' | '^'..='`' | '~' => CharType::SoftSep,
        '0'..='9' => CharType::Number,
        'A'..='Z' => CharType::Upper,
        _ => CharType::Lower,
    }
}

/// The score of the haystack character `c` matching the pattern character `p` (equal but for
/// ASCII case): a match, less a penalty when the case differs.
#[inline(always)]
fn match_score(c: char, p: char) -> i32 {
    if c == p {
        SCORE_MATCH
    } else {
        (SCORE_MATCH + PENALTY_CASE_MISMATCH).max(0)
    }
}

/// The in-place bonus of the character at `j`: its role after the one before it (the very
/// first character's counts double).
#[inline(always)]
fn bonus_at<C: Ch>(choice: &[C], j: usize) -> i32 {
    if j == 0 {
        in_place_bonus(CharType::Empty, choice[0].kind()) * BONUS_FIRST_CHAR_MULTIPLIER
    } else {
        in_place_bonus(choice[j - 1].kind(), choice[j].kind())
    }
}

fn in_place_bonus(prev: CharType, cur: CharType) -> i32 {
    match (prev, cur) {
        (CharType::Empty, _) | (CharType::HardSep, _) => BONUS_HEAD,
        (CharType::SoftSep, _) => BONUS_BREAK,
        (CharType::Lower, CharType::Upper) | (CharType::Number, CharType::Upper) => BONUS_CAMEL,
        _ => 0,
    }
}

/// One row of the matrix: per column the best score ending in a match (`m`), the best score
/// with the column skipped (`p`), and the carried consecutive bonus.
#[derive(Default)]
struct Row {
    m: Vec<i32>,
    p: Vec<i32>,
    bonus: Vec<i32>,
}

impl Row {
    /// Makes the row `cols` long, reset from column `from` on (the columns before are never
    /// read).
    fn reset(&mut self, from: usize, cols: usize) {
        for v in [&mut self.m, &mut self.p] {
            v.resize(cols, NEG_INFINITY);
            v[from..].fill(NEG_INFINITY);
        }
        self.bonus.resize(cols, 0);
        self.bonus[from..].fill(0);
    }
}

/// A haystack character: a byte of an all-ASCII haystack (no decoding, a quarter of the
/// memory) or a `char` of any other.
trait Ch: Copy {
    fn ch(self) -> char;
    fn kind(self) -> CharType;
    /// The places in `hay` of `c`, ignoring ASCII case, in order.
    fn positions(hay: &[Self], c: char) -> impl Iterator<Item = usize>;
}

/// [`char_type`] of every ASCII byte.
const ASCII_TYPES: [CharType; 128] = {
    let mut t = [CharType::Lower; 128];
    let mut b = 0;
    while b < 128 {
        t[b] = char_type(b as u8 as char);
        b += 1;
    }
    t
};

impl Ch for u8 {
    #[inline(always)]
    fn ch(self) -> char {
        self as char
    }
    #[inline(always)]
    fn kind(self) -> CharType {
        ASCII_TYPES[(self & 0x7f) as usize]
    }
    fn positions(hay: &[u8], c: char) -> impl Iterator<Item = usize> {
        let (lower, upper) = (c.to_ascii_lowercase(), c.to_ascii_uppercase());
        // (an ASCII haystack holds no other character)
        let (lower, upper) = (lower as u32 as u8, upper as u32 as u8);
        memchr::memchr2_iter(lower, upper, hay)
    }
}

impl Ch for char {
    #[inline(always)]
    fn ch(self) -> char {
        self
    }
    #[inline(always)]
    fn kind(self) -> CharType {
        char_type(self)
    }
    fn positions(hay: &[char], c: char) -> impl Iterator<Item = usize> {
        let fold = c.to_ascii_lowercase();
        hay.iter()
            .enumerate()
            .filter(move |(_, h)| h.to_ascii_lowercase() == fold)
            .map(|(j, _)| j)
    }
}

/// Scores haystacks against one pattern; keeps its buffers between calls.
pub struct Matcher {
    pattern: Vec<char>,
    /// The pattern, ASCII-lower-cased.
    folded: Vec<char>,
    /// The pattern's bytes, ASCII-lower-cased, when it is all ASCII (for the byte prefilter).
    ascii: Option<Vec<u8>>,
    choice: Vec<char>,
    first: Vec<usize>,
    rows: [Row; 2],
}

impl Matcher {
    pub fn new(pattern: &str) -> Matcher {
        let pattern: Vec<char> = pattern.chars().collect();
        Matcher {
            folded: pattern.iter().map(|c| c.to_ascii_lowercase()).collect(),
            ascii: pattern.iter().all(char::is_ascii).then(|| {
                pattern
                    .iter()
                    .map(|c| c.to_ascii_lowercase() as u8)
                    .collect()
            }),
            pattern,
            choice: Vec::new(),
            first: Vec::new(),
            rows: [Row::default(), Row::default()],
        }
    }

    /// `SkimMatcherV2::default().ignore_case().fuzzy_match(choice, pattern)`.
    #[cfg(test)]
    pub fn score(&mut self, choice: &str) -> Option<Score> {
        self.score_at_least(choice, Score::MIN)
    }

    /// Like [`Matcher::score`], but gives up (`None`) as soon as the score is sure to be below
    /// `min`: for keeping only the best few. Each pattern character matched after the first
    /// adds at most [`MAX_STEP`] to the best value in the matrix (a match scores 16, and no
    /// bonus after the first column exceeds 8), so after row `i` the result cannot exceed the
    /// best value of the last two rows plus `MAX_STEP` per row still to come.
    pub fn score_at_least(&mut self, choice: &str, min: Score) -> Option<Score> {
        if self.pattern.is_empty() {
            return Some(0);
        }
        if choice.is_ascii() {
            let bytes = choice.as_bytes();
            let Some(p) = &self.ascii else {
                // (a character that is not ASCII is never one that is, ignoring ASCII case)
                return None;
            };
            // The first row's bound is one pass over the haystack, and rules out most when
            // few are wanted; then the pattern as a subsequence (its places are bytes, and
            // here characters: the first matches).
            if !ascii_subsequence(bytes, p, &mut self.first)
                || !self.first_row_reaches(bytes, self.first[0], min)
            {
                return None;
            }
            return self.score_chars(bytes, true, min);
        }
        if let Some(p) = &self.ascii
            && !ascii_subsequence(choice.as_bytes(), p, &mut self.first)
        {
            return None;
        }
        let mut chars = std::mem::take(&mut self.choice);
        chars.clear();
        chars.extend(choice.chars());
        let score = self.score_chars(&chars, false, min);
        self.choice = chars;
        score
    }

    /// Whether the first row's best value, from the bonuses alone (each match of the first
    /// pattern character at `from` or later scores a skip, its bonus and the match), leaves
    /// `min` within reach: when even a perfect rest cannot reach it, no row need be computed.
    fn first_row_reaches<C: Ch>(&self, choice: &[C], from: usize, min: Score) -> bool {
        let rows_left = (self.pattern.len() - 1) as Score;
        if min == Score::MIN || rows_left == 0 {
            return true;
        }
        let (p_ch, p_fold) = (self.pattern[0], self.folded[0]);
        let mut best0 = GAP_EXTENSION;
        for j in C::positions(&choice[from..], p_fold).map(|j| j + from) {
            best0 =
                best0.max(GAP_EXTENSION + bonus_at(choice, j) + match_score(choice[j].ch(), p_ch));
        }
        i64::from(best0) + MAX_STEP * rows_left >= min
    }

    /// The score of `choice`; `first_known` when `self.first` already holds the first match
    /// of each pattern character, greedily from the left, and the first row was found to
    /// reach `min` ([`Matcher::first_row_reaches`]).
    fn score_chars<C: Ch>(&mut self, choice: &[C], first_known: bool, min: Score) -> Option<Score> {
        if !first_known {
            self.first.clear();
            let mut k = 0;
            for (j, c) in choice.iter().enumerate() {
                if k == self.folded.len() {
                    break;
                }
                if c.ch().to_ascii_lowercase() == self.folded[k] {
                    self.first.push(j);
                    k += 1;
                }
            }
            if k < self.folded.len() {
                return None;
            }
        }
        let n = choice.len();
        let cols = n + 1;
        // Nothing left of the first character's first match is ever read: the bonuses, and
        // both rows, are only made from there on (column `from` on).
        let from = self.first[0];
        if !first_known && !self.first_row_reaches(choice, from, min) {
            return None;
        }
        // Row 0 starts as "nothing matched yet" (a skip costs one gap extension); row 1's cell
        // before the first character's first match is reset.
        let [r0, r1] = &mut self.rows;
        r0.reset(from, cols);
        r0.p[from..].fill(GAP_EXTENSION);
        r1.reset(from, cols);
        // Before the first row, only the skips of "nothing matched yet" (one gap extension).
        let mut row_best = GAP_EXTENSION;
        for i in 0..self.pattern.len() {
            let (p_ch, p_fold) = (self.pattern[i], self.folded[i]);
            let (prev, cur) = if i % 2 == 0 {
                let [a, b] = &mut self.rows;
                (&*a, b)
            } else {
                let [a, b] = &mut self.rows;
                (&*b, a)
            };
            // Columns skip+1..cols; slices cut to the same length so that the loop indexes
            // without checks. `j` is the column minus skip+1.
            let skip = self.first[i];
            let len = n - skip;
            let whole = choice;
            let choice = &choice[skip..n];
            let prev_m = &prev.m[skip..n];
            let prev_p = &prev.p[skip..n];
            let cur_m = &mut cur.m[skip..cols];
            let cur_p = &mut cur.p[skip..cols];
            let cur_bonus = &mut cur.bonus[skip..cols];
            let (mut m_left, mut p_left) = (cur_m[0], cur_p[0]);
            let mut best = NEG_INFINITY;
            // Column by column from match to match of the pattern character: a run of columns
            // that do not match gets no match score, a bonus of 0 carried to the column after
            // each, and skips that only lose a gap extension each — written in bulk.
            let mut j = 0;
            let matches = C::positions(choice, p_fold).chain(std::iter::once(len));
            for h in matches {
                if h > j {
                    let run = j + 1..h + 1;
                    cur_bonus[run.clone()].fill(0);
                    cur_m[run.clone()].fill(NEG_INFINITY);
                    let p0 = (GAP_START + GAP_EXTENSION + m_left).max(GAP_EXTENSION + p_left);
                    let floor = GAP_START + GAP_EXTENSION + NEG_INFINITY;
                    for (k, p) in cur_p[run].iter_mut().enumerate() {
                        *p = (p0 + GAP_EXTENSION * k as i32).max(floor);
                    }
                    best = best.max(p0);
                    m_left = NEG_INFINITY;
                    p_left = cur_p[h];
                }
                if h == len {
                    break;
                }
                let score = match_score(choice[h].ch(), p_ch);
                let bonus = bonus_at(whole, skip + h);
                let consecutive = cur_bonus[h].max(bonus.max(BONUS_CONSECUTIVE));
                cur_bonus[h] = consecutive;
                let m = (prev_m[h] + consecutive).max(prev_p[h] + bonus) + score;
                let p = (GAP_START + GAP_EXTENSION + m_left).max(GAP_EXTENSION + p_left);
                cur_m[h + 1] = m;
                cur_p[h + 1] = p;
                m_left = m;
                p_left = p;
                best = best.max(m.max(p));
                j = h + 1;
            }
            // Every value of the next row comes from this row or the one before (whose values
            // live on in the next row's cells left of its first match), plus at most one step;
            // the result is at most the best of the last two rows plus a step per row to come.
            let reach = best.max(row_best);
            row_best = best;
            let rows_left = (self.pattern.len() - 1 - i) as i64;
            if rows_left > 0 && min > Score::MIN && i64::from(reach) + MAX_STEP * rows_left < min {
                return None;
            }
        }
        let last = &self.rows[self.pattern.len() % 2];
        let from = self.first[self.pattern.len() - 1];
        last.m[from..].iter().max().map(|&s| Score::from(s))
    }
}

/// Whether `pattern` (ASCII, lower case) occurs in `hay` as a subsequence, ignoring ASCII case;
/// `first` is left holding the place of each pattern byte, greedily from the left.
fn ascii_subsequence(hay: &[u8], pattern: &[u8], first: &mut Vec<usize>) -> bool {
    first.clear();
    let mut at = 0;
    for &p in pattern {
        let rest = &hay[at..];
        let upper = p.to_ascii_uppercase();
        let found = if upper == p {
            memchr::memchr(p, rest)
        } else {
            memchr::memchr2(p, upper, rest)
        };
        match found {
            Some(i) => {
                first.push(at + i);
                at += i + 1;
            }
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use fuzzy_matcher::FuzzyMatcher;
    use fuzzy_matcher::skim::SkimMatcherV2;
    use proptest::prelude::*;

    use super::*;

    fn skim(choice: &str, pattern: &str) -> Option<i64> {
        SkimMatcherV2::default()
            .ignore_case()
            .fuzzy_match(choice, pattern)
    }

    #[test]
    fn a_reused_skim_matcher_carries_state_over_but_this_one_does_not() {
        let (first, second) = (
            "ÉğéX.ÉßÉA_ğ0ÉXéğa Xa...C_A(_x(ßÉé_(x x",
            "ğa(éğxXÉÉxX_0_axc é_ğßß.x",
        );
        let reused = SkimMatcherV2::default().ignore_case();
        reused.fuzzy_match(first, "xxC");
        assert_eq!(reused.fuzzy_match(second, "xxC"), Some(48));
        assert_eq!(skim(second, "xxC"), Some(46));
        let mut ours = Matcher::new("xxC");
        ours.score(first);
        assert_eq!(ours.score(second), Some(46));
    }

    #[test]
    fn scores_as_skim_on_examples() {
        let hay = [
            "P-2026-0051 L-1412 Marta Kovačević sustainable-home-energy@2026.1 Energy diary Marta Kovacevic",
            "P-27-000000 L-1000000 Sarah Dvořák workplace-digital-skills@2027.1 Course certificate, spreadsheet skills (Sevilla)",
            "abab",
            "aaaa",
            "AbAbAB",
            "",
            "x",
            "Foo/BarBaz_qux-Quux 123Abc",
            "ÉCOLE école Ecole",
            "straße STRASSE",
        ];
        let patterns = [
            "",
            "a",
            "ab",
            "aba",
            "abab",
            "kovacevic",
            "marta kov",
            "P-27",
            "2027",
            "éc",
            "É",
            "ss",
            "fbb",
            "Q",
            "zzz",
            "skills",
            "ß",
        ];
        for h in hay {
            for p in patterns {
                let mut m = Matcher::new(p);
                assert_eq!(m.score(h), skim(h, p), "{p:?} in {h:?}");
                // the buffers carry nothing over from one haystack to the next
                assert_eq!(m.score(h), skim(h, p), "{p:?} in {h:?}, again");
            }
        }
    }

    /// `ours` scores `c` as a new `SkimMatcherV2` does, and giving up early under each of `mins`
    /// never drops a score that reaches it.
    fn agrees_with_skim(
        ours: &mut Matcher,
        c: &str,
        pattern: &str,
        mins: &[i64],
    ) -> Result<(), TestCaseError> {
        let want = skim(c, pattern);
        prop_assert_eq!(ours.score(c), want, "{:?} in {:?}", pattern, c);
        for &min in mins {
            let bounded = ours.score_at_least(c, min);
            match want {
                Some(s) if s >= min => prop_assert_eq!(bounded, Some(s)),
                _ => prop_assert!(bounded.is_none() || bounded == want),
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Long ASCII haystacks (search texts are ASCII and scored byte by byte) with few
        /// distinct letters, so that patterns match in many places.
        #[test]
        fn scores_ascii_as_skim(
            choices in proptest::collection::vec("[abkKoOvV -/(.0@]{0,300}", 1..4),
            pattern in "[abkoKOv -]{1,9}",
        ) {
            let mut ours = Matcher::new(&pattern);
            for c in &choices {
                // minimums about the true score
                let top = skim(c, &pattern).unwrap_or(0);
                agrees_with_skim(&mut ours, c, &pattern, &[top - 30, top - 1, top, top + 1, top + 25])?;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10000))]
        #[test]
        fn scores_as_skim(
            choices in proptest::collection::vec("[aAbBcC xX/_.-0é É(ßğ]{0,40}", 1..6),
            pattern in "[abcABC xé/.-]{0,7}",
        ) {
            // One matcher over several haystacks in turn, as the ranking uses it, against a new
            // `SkimMatcherV2` for each haystack. (A `SkimMatcherV2` used for several haystacks
            // can carry a bonus over from one to the next, e.g. "xxC" in
            // "ğa(éğxXÉÉxX_0_axc é_ğßß.x" scores 48 after "ÉğéX.ÉßÉA_ğ0ÉXéğa Xa...C_A(_x(ßÉé_(x x"
            // but 46 on its own; the score of a haystack here never depends on the one before.)
            let mut ours = Matcher::new(&pattern);
            for c in &choices {
                agrees_with_skim(&mut ours, c, &pattern, &[-10, 0, 20, 40, 60, 90, 120])?;
            }
        }
    }
}
