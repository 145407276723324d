//! A portfolio's place in the workflow. The workspace stores it as text (`portfolios.status`),
//! which is [`Status::as_str`]; reading a stored text back is [`Status::parse`], which gives
//! `None` for a text not of the workflow (a workspace changed by hand, which `audit verify`
//! names), so that callers keep showing such a row rather than failing on it.

use std::fmt;

/// A portfolio's status, in workflow order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Imported, not yet marked.
    New,
    /// First marks begun.
    InProgress,
    /// First marks submitted: the first decision is made.
    Submitted,
    /// Drawn for moderation: second marks, then a settlement.
    Sampled,
    /// Moderation settled.
    Moderated,
    /// The decision is released to the learner.
    Released,
    /// The released decision has been exported.
    Exported,
}

impl Status {
    /// Every status, in workflow order.
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::InProgress,
        Status::Submitted,
        Status::Sampled,
        Status::Moderated,
        Status::Released,
        Status::Exported,
    ];

    /// The stored text of every status, in workflow order.
    pub const NAMES: [&'static str; 7] = {
        let mut names = [""; 7];
        let mut i = 0;
        while i < names.len() {
            names[i] = Status::ALL[i].as_str();
            i += 1;
        }
        names
    };

    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::InProgress => "in_progress",
            Status::Submitted => "submitted",
            Status::Sampled => "sampled",
            Status::Moderated => "moderated",
            Status::Released => "released",
            Status::Exported => "exported",
        }
    }

    /// The status a stored text names; `None` for one not of the workflow.
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Where a stored text comes in workflow order (for sorting by status): a text not of the
    /// workflow comes after every status.
    pub fn order_of(text: &str) -> usize {
        Status::parse(text).map_or(99, |s| s as usize)
    }

    /// Where a stored text comes in the order of what needs doing (the workbench's queue): in
    /// progress first, then not started, then submitted and later in workflow order; a text not
    /// of the workflow after every status.
    pub fn work_order_of(text: &str) -> usize {
        match Status::parse(text) {
            Some(Status::InProgress) => 0,
            Some(Status::New) => 1,
            _ => Status::order_of(text),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status text compared with a status: `row.status == Status::Sampled`.
impl PartialEq<Status> for str {
    fn eq(&self, other: &Status) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Status> for String {
    fn eq(&self, other: &Status) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Status> for &str {
    fn eq(&self, other: &Status) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_needs_doing_comes_first() {
        let mut texts = vec![
            "exported",
            "odd",
            "new",
            "submitted",
            "in_progress",
            "sampled",
        ];
        texts.sort_by_key(|t| Status::work_order_of(t));
        assert_eq!(
            texts,
            [
                "in_progress",
                "new",
                "submitted",
                "sampled",
                "exported",
                "odd"
            ]
        );
    }

    #[test]
    fn stored_texts_are_today_s_and_parse_back() {
        assert_eq!(
            Status::NAMES,
            [
                "new",
                "in_progress",
                "submitted",
                "sampled",
                "moderated",
                "released",
                "exported"
            ]
        );
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(Status::order_of(s.as_str()), s as usize);
        }
        assert_eq!(Status::parse("Sampled"), None);
        assert_eq!(Status::order_of("odd"), 99);
        let stored: String = "new".to_string();
        assert!("sampled" == Status::Sampled && stored == Status::New);
        assert!("new" != Status::InProgress);
    }
}
