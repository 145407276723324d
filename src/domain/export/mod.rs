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

/// The level a marker chose for one criterion, with their own feedback (never another
/// marker's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionMark {
    pub criterion: String,
    pub level: String,
    pub feedback: Option<String>,
    /// Who saved this mark, and when (RFC 3339).
    pub by: String,
    pub at: String,
}

/// Which marking the decision in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The first marking (moderation, if any, confirmed it).
    FirstMarking,
    /// The second marking, adopted when moderation amended the first decision.
    SecondMarking,
}

/// The decision in force when released (the first, or the second where moderation amended it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionInfo {
    /// The store's id of the first decision; stable for the life of the workspace (credential
    /// ids derive from it, so an amendment does not change a credential's id).
    pub id: i64,
    pub outcome: Outcome,
    /// What the rubric's rule gave for the final marks.
    pub computed: Outcome,
    pub grade: Option<String>,
    /// Score in percent, rounded to two decimals.
    pub score: f64,
    pub borderline: bool,
    /// Rationale of a referral or override: internal, never in a letter or a credential.
    pub rationale: Option<String>,
    /// Which marking it is.
    pub source: Source,
    /// Who made it: the first marker, or (amended) the second marker.
    pub decided_by: String,
    /// RFC 3339: when that marking was submitted.
    pub decided_at: String,
    /// Who first-marked the portfolio (whatever moderation did).
    pub first_marker: String,
}

/// Second marking and its settlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModerationInfo {
    /// Who settled: confirmed or amended.
    pub moderator: String,
    /// Who second-marked.
    pub second_marker: String,
    /// Why the draw took it (`always:not_yet`, `random`, …): internal.
    pub reason: String,
    /// The second marks, each with the second marker's own feedback (none where they wrote
    /// none).
    pub second_marks: Vec<CriterionMark>,
    /// The second marker's overall comment.
    pub second_comment: Option<String>,
    /// The second marking's outcome and score.
    pub second_outcome: Outcome,
    pub second_score: f64,
    /// `confirmed` (first decision kept) or `amended` (replaced by the second marks).
    pub settlement: String,
    /// The settlement's rationale: internal, never in a letter or a credential.
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
    /// Final marks — those of the marking in force, each with its author's feedback — one per
    /// criterion of the rubric, in rubric order.
    pub marks: Vec<CriterionMark>,
    pub gates: Vec<String>,
    /// The overall comment of the marking in force (for the learner).
    pub comment: Option<String>,
    pub decision: DecisionInfo,
    pub moderation: Option<ModerationInfo>,
    /// RFC 3339.
    pub released_at: String,
}
