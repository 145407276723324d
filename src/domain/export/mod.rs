//! Export mapping: from a released decision to what the issuing system reads. Pure functions of
//! ([`Rubric`](crate::domain::rubric::Rubric), [`ExportRecord`]); writing files is the app layer's.

mod common;
mod countries;
pub mod elm;
pub mod feedback;
pub mod obv3;
#[cfg(test)]
mod testkit;

use serde::{Deserialize, Serialize};

use crate::domain::decision::Outcome;

/// The learner, as recorded on import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learner {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// One piece of evidence, described without its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceInfo {
    pub id: String,
    pub title: String,
    /// `formal`, `non-formal` or `informal`.
    pub kind: String,
    pub file: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: String,
    pub hours: Option<f64>,
    pub claims: Vec<String>,
    pub note: Option<String>,
}

/// The level a marker chose for one criterion, with their feedback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionMark {
    pub criterion: String,
    pub level: String,
    pub feedback: Option<String>,
}

/// The decision as it stands when released (after moderation, if any).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionInfo {
    /// The store's id of this decision; stable for the life of the workspace.
    pub id: i64,
    pub outcome: Outcome,
    /// What the rubric's rule gave for the final marks.
    pub computed: Outcome,
    pub grade: Option<String>,
    /// Score in percent, rounded to two decimals.
    pub score: f64,
    pub borderline: bool,
    /// Rationale of a referral or override.
    pub rationale: Option<String>,
    pub assessor: String,
    /// RFC 3339.
    pub decided_at: String,
}

/// Second marking and its settlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModerationInfo {
    pub moderator: String,
    pub reason: String,
    pub second_marks: Vec<CriterionMark>,
    /// `confirmed` (first decision kept) or `amended` (replaced by the second marks).
    pub settlement: String,
    pub rationale: Option<String>,
    /// RFC 3339.
    pub settled_at: String,
}

/// Everything an export needs about one released decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRecord {
    /// A random UUID made when the workspace was created; with the portfolio and decision ids it
    /// makes stable `urn:uuid` ids.
    pub workspace_id: String,
    /// A random salt of the workspace, for hashing learner identifiers.
    pub salt: String,
    pub portfolio_id: String,
    pub revision: i64,
    pub learner: Learner,
    /// `YYYY-MM-DD`
    pub submitted: String,
    pub statement: Option<String>,
    pub evidence: Vec<EvidenceInfo>,
    /// Final marks, one per criterion of the rubric, in rubric order.
    pub marks: Vec<CriterionMark>,
    pub gates: Vec<String>,
    pub comment: Option<String>,
    pub decision: DecisionInfo,
    pub moderation: Option<ModerationInfo>,
    /// RFC 3339.
    pub released_at: String,
}
