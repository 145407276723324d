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
}
