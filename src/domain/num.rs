//! Exact decimal numbers with up to three decimals, stored as thousandths.
//!
//! Rubric weights, pass marks and grade minimums are written by people as `0.1`, `62.5` or `60`;
//! decisions compare them exactly, never with a float tolerance.

use std::fmt;

/// A non-negative or negative decimal with at most three decimals, as an integer of thousandths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Milli(pub i64);

impl Milli {
    pub const fn from_int(v: i64) -> Milli {
        Milli(v * 1000)
    }

    /// Converts a number read from YAML. `None` when it has more than three decimals, is not
    /// finite or is out of range.
    pub fn from_f64(v: f64) -> Option<Milli> {
        if !v.is_finite() || v.abs() > 1e12 {
            return None;
        }
        // Rust prints the shortest text that reads back as the same f64: "0.1", "62.5".
        let text = format!("{v}");
        Milli::parse(&text)
    }

    /// Parses decimal text such as `-12.345`.
    pub fn parse(text: &str) -> Option<Milli> {
        let (neg, t) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > 3 {
            return None;
        }
        let i: i64 = int.parse().ok()?;
        let mut f: i64 = 0;
        for (k, b) in frac.bytes().enumerate() {
            f += i64::from(b - b'0') * 10i64.pow(2 - k as u32);
        }
        let v = i.checked_mul(1000)?.checked_add(f)?;
        Some(Milli(if neg { -v } else { v }))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn is_whole(self) -> bool {
        self.0 % 1000 == 0
    }
}

/// How a number field is written in a YAML file: what assay keeps of it, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// A decimal with at most three decimals (weights, pass marks, percentages, credits).
    Decimal,
    /// A whole number from `min` to `max` (points, levels, counts).
    Whole { min: i64, max: i64 },
    /// A number of any precision (hours spent), finite and written in decimal.
    Number,
}

/// The largest magnitude a [`Field::Decimal`] may have.
pub const MAX_DECIMAL: i64 = 1_000_000_000_000;

/// Checks the text of a plain YAML scalar in a number field, as written: `Err` says what is wrong
/// with it in words for the person who wrote it (never "more than three decimals" for `.nan`).
pub fn check_literal(text: &str, field: Field) -> Result<(), String> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if unsigned == ".nan" {
        return Err(format!("`{t}` is not a number; write a number such as 50"));
    }
    if unsigned == ".inf" {
        return Err(format!("`{t}` is infinite; write a finite number"));
    }
    for (prefix, base) in [
        ("0x", "a hexadecimal"),
        ("0o", "an octal"),
        ("0b", "a binary"),
    ] {
        if unsigned.starts_with(prefix) {
            return Err(format!(
                "`{t}` is {base} literal; write the number in decimal digits"
            ));
        }
    }
    let digits = unsigned.split(['.', 'e']).next().unwrap_or("");
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!(
            "`{t}` has a leading zero, which some YAML readers take for an octal number: write it without the zero"
        ));
    }
    let Some(d) = Exact::parse(t) else {
        return Err(format!(
            "`{t}` is not a number: change the value to a number such as 50"
        ));
    };
    match field {
        Field::Decimal => {
            if d.decimals() > 3 {
                return Err(format!(
                    "`{t}` has more decimals than assay keeps: write it with at most three decimals (assay computes exactly, in thousandths, and never rounds a rubric's numbers)"
                ));
            }
            if !d.within(MAX_DECIMAL) {
                return Err(format!(
                    "`{t}` is out of range: write a number between -{MAX_DECIMAL} and {MAX_DECIMAL}"
                ));
            }
        }
        Field::Whole { min, max } => {
            if d.decimals() > 0 {
                return Err(format!(
                    "`{t}` is not a whole number: use one of the whole numbers from {min} to {max}"
                ));
            }
            match d.whole() {
                Some(v) if (min..=max).contains(&v) => {}
                _ => {
                    return Err(format!(
                        "`{t}` is out of range: use one of the whole numbers from {min} to {max}"
                    ));
                }
            }
        }
        Field::Number => {
            if !d.within(MAX_DECIMAL) {
                return Err(format!(
                    "`{t}` is out of range: write a number between -{MAX_DECIMAL} and {MAX_DECIMAL}"
                ));
            }
        }
    }
    Ok(())
}

/// A decimal literal held exactly: its digits (no leading zeros) and a power of ten.
struct Exact {
    neg: bool,
    digits: Vec<u8>,
    /// value = digits × 10^exp
    exp: i64,
}

impl Exact {
    /// Reads `[+-]digits[.digits][(e|E)[+-]digits]`, the decimal forms of YAML's core schema.
    fn parse(t: &str) -> Option<Exact> {
        let (neg, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exp) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        if exp.unsigned_abs() > 100_000 {
            // (far beyond any range checked here; keeps the arithmetic small)
            return Some(Exact {
                neg,
                digits: vec![1],
                exp: exp.signum() * 100_000,
            });
        }
        let mut digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let mut exp = exp - frac.len() as i64;
        // trailing zeros move into the exponent; leading ones go
        while digits.len() > 1 && digits.last() == Some(&0) {
            digits.pop();
            exp += 1;
        }
        let lead = digits.iter().take_while(|&&d| d == 0).count();
        digits.drain(..lead.min(digits.len().saturating_sub(1)));
        if digits == [0] {
            exp = 0;
        }
        Some(Exact { neg, digits, exp })
    }

    /// How many decimals it really has.
    fn decimals(&self) -> u64 {
        if self.exp < 0 {
            self.exp.unsigned_abs()
        } else {
            0
        }
    }

    /// Whether |value| ≤ `max`.
    fn within(&self, max: i64) -> bool {
        // number of digits before the decimal point
        let int_digits = self.digits.len() as i64 + self.exp;
        let max_digits = max.to_string().len() as i64;
        if int_digits < max_digits {
            return true;
        }
        if int_digits > max_digits {
            return false;
        }
        self.whole_part().is_some_and(|v| v.abs() <= max)
    }

    fn whole_part(&self) -> Option<i64> {
        let mut v: i64 = 0;
        let keep = (self.digits.len() as i64 + self.exp.min(0)).max(0) as usize;
        for d in &self.digits[..keep.min(self.digits.len())] {
            v = v.checked_mul(10)?.checked_add(i64::from(*d))?;
        }
        for _ in 0..self.exp.max(0) {
            v = v.checked_mul(10)?;
        }
        Some(if self.neg { -v } else { v })
    }

    fn whole(&self) -> Option<i64> {
        if self.exp < 0 {
            return None;
        }
        self.whole_part()
    }
}

impl fmt::Display for Milli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let (i, frac) = (a / 1000, a % 1000);
        if frac == 0 {
            write!(f, "{sign}{i}")
        } else {
            let s = format!("{frac:03}");
            write!(f, "{sign}{i}.{}", s.trim_end_matches('0'))
        }
    }
}

impl serde::Serialize for Milli {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.is_whole() {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.as_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(Milli::from_f64(0.1), Some(Milli(100)));
        assert_eq!(Milli::from_f64(62.5), Some(Milli(62_500)));
        assert_eq!(Milli::from_f64(60.0), Some(Milli(60_000)));
        assert_eq!(Milli::from_f64(0.125), Some(Milli(125)));
        assert_eq!(Milli::from_f64(0.1234), None);
        assert_eq!(Milli::from_f64(f64::NAN), None);
        assert_eq!(Milli::from_f64(-2.5), Some(Milli(-2500)));
        assert_eq!(Milli(62_500).to_string(), "62.5");
        assert_eq!(Milli(60_000).to_string(), "60");
        assert_eq!(Milli(125).to_string(), "0.125");
        assert_eq!(Milli(-2500).to_string(), "-2.5");
    }

    #[test]
    fn literals_are_kept_exactly_or_refused_for_what_they_are() {
        let dec = Field::Decimal;
        for ok in [
            "50",
            "62.5",
            "0.125",
            "50.000",
            "5e1",
            "0.5E1",
            "+3",
            "-2.5",
            "1000000000000",
        ] {
            assert_eq!(check_literal(ok, dec), Ok(()), "{ok}");
        }
        let msg = |t: &str, f: Field| check_literal(t, f).unwrap_err();
        assert!(msg("50.0000000000000000001", dec).contains("more decimals"));
        assert!(msg("0.1234", dec).contains("at most three"));
        assert!(msg("1e-4", dec).contains("more decimals"));
        assert!(msg(".nan", dec).contains("not a number"));
        assert!(msg(".NaN", dec).contains("not a number"));
        assert!(msg("-.inf", dec).contains("infinite"));
        assert!(msg("0x32", dec).contains("hexadecimal"));
        assert!(msg("0o62", dec).contains("octal"));
        assert!(msg("062", dec).contains("leading zero"));
        assert!(msg("-007.5", dec).contains("leading zero"));
        assert_eq!(check_literal("0.5", dec), Ok(()));
        assert_eq!(check_literal("0", dec), Ok(()));
        assert!(msg("1e400", dec).contains("out of range"));
        assert!(msg("99999999999999999999", dec).contains("out of range"));
        let whole = Field::Whole {
            min: 0,
            max: 4_294_967,
        };
        assert_eq!(check_literal("2", whole), Ok(()));
        assert_eq!(check_literal("2.0", whole), Ok(()));
        assert_eq!(check_literal("1e3", whole), Ok(()));
        assert!(msg("2.5", whole).contains("not a whole number"));
        let m = msg("99999999999999999999", whole);
        assert!(
            m.contains("out of range") && m.contains("from 0 to 4294967"),
            "{m}"
        );
        assert!(msg("-1", whole).contains("from 0 to"));
        assert_eq!(check_literal("1.23456", Field::Number), Ok(()));
        assert!(msg(".inf", Field::Number).contains("infinite"));
        assert!(msg("twenty", Field::Number).contains("not a number"));
    }
}
