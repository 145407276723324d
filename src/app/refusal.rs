//! Why a service refused, as data: the facts of each refusal the workbench shows while marking
//! and settling. `Display` states the rule and the facts only — it names no command-line flag
//! and no key; each front end adds its own advice (`cli::advice`, `tui::screen::assess::advice`).

use std::fmt;

use crate::domain::phase::Phase;
use crate::domain::role::Role;
use crate::domain::sanitize::sanitize_line;

/// A rule that refused an action, with its facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A level given (by id or number) that the criterion does not have.
    NoSuchLevel {
        criterion: String,
        given: String,
        /// The criterion's level ids, lowest first (numbers run 1 to their count).
        levels: Vec<String>,
    },
    /// The portfolio's status freezes it: submitted (a lead could reopen it) or released
    /// and beyond (final).
    Frozen {
        id: String,
        status: String,
        lead_may_reopen: bool,
    },
    /// Allocated to someone else.
    AllocatedTo { id: String, who: String },
    /// Someone else is marking it in this phase.
    BeingMarked {
        id: String,
        who: String,
        phase: Phase,
    },
    /// Not registered, or registered in a role that may not do this.
    NotPermitted {
        who: String,
        doing: String,
        /// The roles that may (a lead may do all).
        needed: Vec<Role>,
        registered_as: Option<Role>,
    },
    /// Separation of duties: `who` took part in the first marking.
    Separation {
        id: String,
        who: String,
        rule: Separation,
    },
    /// Someone changed the portfolio since it was read (`by`: who and when, if known).
    Conflict {
        id: String,
        by: Option<(String, String)>,
    },
    /// A written rationale is missing for `what`.
    RationaleMissing { what: String },
    /// The second marks are submitted: what is left is settling it.
    SecondSubmitted { id: String },
    /// Settling needs the second marks submitted first.
    NoSecondMarks { id: String },
    /// Its first marking is over (its status says so): it is not reallocated.
    NotReallocated { id: String, status: String },
    /// No workspace at `path` (`folder_missing`: not even its folder).
    NoWorkspace {
        path: String,
        folder_missing: Option<String>,
    },
    /// `path` is an empty file, not a workspace.
    NotAWorkspace { path: String },
    /// No portfolio of that id in the workspace.
    NoSuchPortfolio { id: String },
    /// No rubric of that id (and version) in the workspace.
    NoSuchRubric { spec: String },
    /// A file (or, `in_folder`, a file of a folder export) is there already, and `what` (the
    /// export, the backup…) does not replace it unless told to.
    Exists {
        path: String,
        what: String,
        in_folder: bool,
    },
    /// Portfolios are shared out among assessors, and none was named.
    NoAssessorsNamed,
    /// Allocating to someone the workspace does not have registered.
    AssigneeNotRegistered { who: String },
    /// A re-import that changes `changed` of a portfolio decided (`status`) on the revision the
    /// workspace holds; `here` is the manifest it came from. A released decision is final; a
    /// submitted or moderated one a lead can withdraw.
    Decided {
        here: String,
        id: String,
        status: String,
        changed: String,
        released: bool,
    },
    /// `who` has a registered SSH key and no signer holds it: nobody acts as them without it.
    KeyRequired {
        who: String,
        fingerprint: String,
        /// Where a key was looked for, and why each would not do.
        tried: Vec<String>,
    },
    /// A key set for oneself that no signer holds (one proves a key is one's own by signing).
    /// On a server workspace, someone other than the database login was named.
    NotTheLogin { named: String, login: String },
    KeyNotHeld {
        fingerprint: String,
        tried: Vec<String>,
    },
}

/// Which separation-of-duties rule refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Separation {
    /// They first-marked it.
    FirstMarked,
    /// They authored part of its first marking (at `when`).
    AuthoredFirst { when: String },
}

impl std::error::Error for Refusal {}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::KeyRequired {
                who,
                fingerprint,
                tried,
            } => write!(
                f,
                "`{}` has a registered SSH key ({fingerprint}): acting as them needs its private key, and none could be used ({})",
                sanitize_line(who),
                sanitize_line(&tried.join("; "))
            ),
            Refusal::NotTheLogin { named, login } => write!(
                f,
                "on a server workspace you are the database login you connected as ({login}), not {named}: connect as {named} (the user of the URI, or PGUSER) to work as them"
            ),
            Refusal::KeyNotHeld { fingerprint, tried } => write!(
                f,
                "the key {fingerprint} is to sign your own records, so it must be at hand to sign with, and it is not ({})",
                sanitize_line(&tried.join("; "))
            ),
            Refusal::NoSuchLevel {
                criterion,
                given,
                levels,
            } => write!(
                f,
                "criterion {criterion} has no level `{}`; its levels are {} (or 1–{} counting from the lowest)",
                sanitize_line(given),
                levels.join(", "),
                levels.len()
            ),
            Refusal::Frozen {
                id,
                status,
                lead_may_reopen: false,
            } => write!(
                f,
                "portfolio {id} is {status}: its decision is final and gone out to the issuing system; it is no longer changed"
            ),
            Refusal::Frozen { id, status, .. } => write!(
                f,
                "portfolio {id} is {status}: its decision is submitted and frozen for its assessor; only moderation amends it, or a lead reopens it"
            ),
            Refusal::AllocatedTo { id, who } => write!(
                f,
                "portfolio {id} is allocated to {}; only they mark it, unless a lead reassigns it",
                sanitize_line(who)
            ),
            Refusal::BeingMarked {
                id,
                who,
                phase: Phase::First,
            } => write!(
                f,
                "portfolio {id} is being marked by {}; two people do not first-mark one portfolio",
                sanitize_line(who)
            ),
            Refusal::BeingMarked { id, who, .. } => write!(
                f,
                "portfolio {id} is being second-marked by {}",
                sanitize_line(who)
            ),
            Refusal::NotPermitted {
                who,
                doing,
                registered_as: None,
                ..
            } => write!(
                f,
                "`{}` is not registered in this workspace; only registered people may {doing}",
                sanitize_line(who)
            ),
            Refusal::NotPermitted {
                who,
                doing,
                needed,
                registered_as: Some(r),
            } => {
                // (a lead may do everything: said once)
                let mut need: Vec<&str> = needed
                    .iter()
                    .filter(|r| **r != crate::domain::role::Role::Lead)
                    .map(|r| r.as_str())
                    .collect();
                need.push("lead");
                write!(
                    f,
                    "`{}` is registered as {r}; to {doing} one must be {}",
                    sanitize_line(who),
                    need.join(" or ")
                )
            }
            Refusal::Separation {
                id,
                who,
                rule: Separation::FirstMarked,
            } => write!(
                f,
                "{} first-marked portfolio {id}; nobody second-marks or settles a portfolio they first-marked",
                sanitize_line(who)
            ),
            Refusal::Separation {
                id,
                who,
                rule: Separation::AuthoredFirst { when },
            } => write!(
                f,
                "{} authored first marking of portfolio {id} ({when}); nobody second-marks or settles a portfolio whose marks, gates or decision they authored, at any time",
                sanitize_line(who)
            ),
            Refusal::Conflict { id, by } => {
                let by = by
                    .as_ref()
                    .map(|(a, t)| format!(" by {} at {t}", sanitize_line(a)))
                    .unwrap_or_default();
                write!(
                    f,
                    "portfolio {id} was changed{by} since you opened it; your change was not saved — reload to see theirs"
                )
            }
            Refusal::RationaleMissing { what } => {
                write!(f, "{what} needs a written rationale")
            }
            Refusal::SecondSubmitted { id } => {
                write!(f, "the second marks of {id} are submitted; settle it")
            }
            Refusal::NoSecondMarks { id } => write!(
                f,
                "portfolio {id} has no submitted second marks yet; second-mark it"
            ),
            Refusal::NotReallocated { id, status } => write!(
                f,
                "portfolio {} is {status}: its first marking is over, so it is not reallocated; a lead reopens it first",
                sanitize_line(id)
            ),
            Refusal::NoWorkspace {
                path,
                folder_missing: Some(dir),
            } => write!(
                f,
                "no workspace at {}: the folder {} does not exist",
                sanitize_line(path),
                sanitize_line(dir)
            ),
            Refusal::NoWorkspace { path, .. } => write!(
                f,
                "no workspace at {}: the file does not exist",
                sanitize_line(path)
            ),
            Refusal::NotAWorkspace { path } => write!(
                f,
                "{} is an empty file, not an assay workspace",
                sanitize_line(path)
            ),
            Refusal::NoSuchPortfolio { id } => {
                write!(f, "no portfolio `{}` in the workspace", sanitize_line(id))
            }
            Refusal::NoSuchRubric { spec } => {
                write!(f, "no rubric `{}` in the workspace", sanitize_line(spec))
            }
            Refusal::Exists {
                path,
                what,
                in_folder: false,
            } => write!(
                f,
                "{} exists; {what} does not replace a file silently: give a new name",
                sanitize_line(path)
            ),
            Refusal::Exists { path, what, .. } => write!(
                f,
                "{} exists; {what} does not replace files silently: export to an empty folder",
                sanitize_line(path)
            ),
            Refusal::NoAssessorsNamed => {
                write!(
                    f,
                    "name at least one assessor to share the portfolios among"
                )
            }
            Refusal::AssigneeNotRegistered { who } => write!(
                f,
                "`{}` is not registered; portfolios are allocated to registered assessors",
                sanitize_line(who)
            ),
            Refusal::Decided {
                here,
                id,
                status,
                changed,
                released,
            } => {
                write!(
                    f,
                    "{}: portfolio {id} is {status}: its decision was made on the revision in the workspace, and this import changes {changed}; nothing was imported; ",
                    sanitize_line(here)
                )?;
                if *released {
                    write!(
                        f,
                        "a released decision is not changed: import the new work as a portfolio with its own id"
                    )
                } else {
                    write!(
                        f,
                        "a lead can withdraw the decision first (reopen it, with a rationale), then import again"
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_refusal_names_a_flag_or_a_key() {
        let all = [
            Refusal::Frozen {
                id: "P-1".into(),
                status: "submitted".into(),
                lead_may_reopen: true,
            },
            Refusal::RationaleMissing {
                what: "reopening".into(),
            },
            Refusal::SecondSubmitted { id: "P-1".into() },
            Refusal::NoSecondMarks { id: "P-1".into() },
            Refusal::NotReallocated {
                id: "P-1".into(),
                status: "submitted".into(),
            },
            Refusal::NotPermitted {
                who: "zed".into(),
                doing: "mark portfolios".into(),
                needed: vec![Role::Assessor],
                registered_as: None,
            },
            Refusal::NoSuchPortfolio { id: "P-9".into() },
            Refusal::NoWorkspace {
                path: "x/assay.db".into(),
                folder_missing: Some("x".into()),
            },
            Refusal::NoWorkspace {
                path: "assay.db".into(),
                folder_missing: None,
            },
            Refusal::NotAWorkspace {
                path: "assay.db".into(),
            },
            Refusal::NoSuchRubric { spec: "r@1".into() },
            Refusal::Exists {
                path: "out.csv".into(),
                what: "the export".into(),
                in_folder: false,
            },
            Refusal::Exists {
                path: "out/a.json".into(),
                what: "an export".into(),
                in_folder: true,
            },
            Refusal::NoAssessorsNamed,
            Refusal::AssigneeNotRegistered { who: "zed".into() },
            Refusal::Decided {
                here: "p/portfolio.yaml".into(),
                id: "P-1".into(),
                status: "submitted".into(),
                changed: "the learner's name".into(),
                released: false,
            },
        ];
        for r in all {
            let s = r.to_string();
            assert!(!s.contains("--") && !s.contains("`assay"), "{s}");
        }
    }
}
