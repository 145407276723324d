//! A registered person's role. The workspace stores it as text (`users.role`), which is
//! [`Role::as_str`]; [`Role::parse`] reads it back (`None` for a text that is no role).

use std::fmt;

/// What a registered person may do: mark first (assessor), moderate (moderator), or all of it
/// (lead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Assessor,
    Moderator,
    Lead,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Assessor, Role::Moderator, Role::Lead];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Assessor => "assessor",
            Role::Moderator => "moderator",
            Role::Lead => "lead",
        }
    }

    /// The role a stored text names, if any.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(Role::parse("Lead"), None);
    }
}
