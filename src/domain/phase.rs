//! Whose marking of a portfolio: the assessor's (first) or the moderator's (second). The
//! workspace stores it as text (`marks.phase`, `decisions.phase`, the audit entities), which is
//! [`Phase::as_str`].

use std::fmt;

/// Whose marking: the assessor's (first) or the moderator's (second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    First,
    Second,
}

impl Phase {
    /// Both phases, in marking order.
    pub const ALL: [Phase; 2] = [Phase::First, Phase::Second];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::First => "first",
            Phase::Second => "second",
        }
    }

    /// The phase a stored text names, if any.
    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            assert_eq!(p.to_string(), p.as_str());
        }
        assert_eq!(Phase::parse("third"), None);
    }
}
