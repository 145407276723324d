//! Marking: levels, gates, feedback and comments saved one change at a time, then a submitted
//! decision computed by the rubric's rule. The same code serves first marking (assessors) and
//! blind second marking (moderators).

use std::collections::{BTreeMap, BTreeSet};

use crate::store::db::{Connection, OptionalExtension, params};
use serde_json::json;

use super::people::{self, Role};
use super::refusal::{Refusal, Separation};
use super::{AppError, PortfolioRecord, Result, Workspace};
use crate::domain::decision::{self, Evaluation, Marks, Outcome};
use crate::domain::rubric::Rubric;
use crate::domain::sanitize::sanitize_line;
use crate::domain::status::Status;
use crate::store::Tx;
use crate::store::audit::{self, DecisionRow};

/// At home in `domain`; re-exported here for callers that name it beside the marking service.
pub use crate::domain::phase::Phase;

/// One change a marker makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Choose a level (by id), or clear it with `None`.
    Level(String, Option<String>),
    Feedback(String, Option<String>),
    Gate(String, bool),
    Comment(Option<String>),
    /// An outcome chosen over the rule's (a referral or an override) with its rationale; `None`
    /// goes back to the rule's outcome. Applied when the decision is submitted.
    Choice(Option<Outcome>, Option<String>),
}

/// The row-level facts about a portfolio that the rules look at.
#[derive(Debug, Clone)]
pub struct Head {
    pub pk: i64,
    pub id: String,
    pub rubric_pk: i64,
    pub status: String,
    pub assessor: Option<String>,
    pub first_marker: Option<String>,
    pub version: i64,
    pub evidence_changed: bool,
}

pub(crate) fn head(conn: &Connection, id: &str) -> Result<Head> {
    conn.prepare_cached(
        "SELECT pk, id, rubric_pk, status, assessor, first_marker, version, evidence_changed FROM portfolios WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Head {
            pk: r.get(0)?,
            id: r.get(1)?,
            rubric_pk: r.get(2)?,
            status: r.get(3)?,
            assessor: r.get(4)?,
            first_marker: r.get(5)?,
            version: r.get(6)?,
            evidence_changed: r.get(7)?,
        })
    })
    .optional()?
    .ok_or_else(|| {
        AppError::Refusal(super::refusal::Refusal::NoSuchPortfolio { id: id.to_string() })
    })
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecisionRec {
    pub pk: i64,
    pub phase: String,
    pub score: f64,
    pub computed: String,
    pub outcome: String,
    pub grade: Option<String>,
    pub borderline: bool,
    pub kind: String,
    pub rationale: Option<String>,
    pub by: String,
    pub at: String,
    pub rubric_sha256: String,
}

/// One marker's work on a portfolio as it stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub marker: Option<String>,
    /// criterion → (level, feedback)
    pub marks: BTreeMap<String, (Option<String>, Option<String>)>,
    /// criterion → (who saved its mark last, when): a reassigned marking carries marks by
    /// more than one person.
    pub authors: BTreeMap<String, (String, String)>,
    pub gates: BTreeSet<String>,
    pub comment: Option<String>,
    /// An outcome chosen over the rule's, with its rationale.
    pub choice: Option<Outcome>,
    pub rationale: Option<String>,
    pub cursor: i64,
    pub submitted_at: Option<String>,
    pub decision: Option<DecisionRec>,
}

impl Sheet {
    pub fn to_marks(&self) -> Marks {
        Marks {
            levels: self
                .marks
                .iter()
                .filter_map(|(c, (l, _))| l.clone().map(|l| (c.clone(), l)))
                .collect(),
            gates: self.gates.clone(),
        }
    }
    pub fn started(&self) -> bool {
        self.marker.is_some()
    }
}

pub(crate) fn decision(conn: &Connection, pk: i64, phase: Phase) -> Result<Option<DecisionRec>> {
    Ok(conn
        .prepare_cached(
            "SELECT pk, phase, score, computed, outcome, grade, borderline, kind, rationale, by_user, at, rubric_sha
             FROM decisions WHERE portfolio_pk = ?1 AND phase = ?2",
        )?
        .query_row(params![pk, phase.as_str()], |r| {
            Ok(DecisionRec {
                pk: r.get(0)?,
                phase: r.get(1)?,
                score: r.get(2)?,
                computed: r.get(3)?,
                outcome: r.get(4)?,
                grade: r.get(5)?,
                borderline: r.get(6)?,
                kind: r.get(7)?,
                rationale: r.get(8)?,
                by: r.get(9)?,
                at: r.get(10)?,
                rubric_sha256: r.get(11)?,
            })
        })
        .optional()?)
}

pub(crate) fn sheet(conn: &Connection, pk: i64, phase: Phase) -> Result<Sheet> {
    let mut s = Sheet::default();
    type AssessmentRow = (
        String,
        Option<String>,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let row: Option<AssessmentRow> = conn
        .prepare_cached(
            "SELECT marker, comment, cursor, submitted_at, choice, rationale FROM assessments WHERE portfolio_pk = ?1 AND phase = ?2",
        )?
        .query_row(params![pk, phase.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })
        .optional()?;
    if let Some((marker, comment, cursor, sub, choice, rationale)) = row {
        s.marker = Some(marker);
        s.comment = comment;
        s.cursor = cursor;
        s.submitted_at = sub;
        s.choice = choice.and_then(|c| Outcome::parse(&c));
        s.rationale = rationale;
    }
    let mut st = conn.prepare_cached(
        "SELECT criterion, level, feedback, by_user, at FROM marks WHERE portfolio_pk = ?1 AND phase = ?2",
    )?;
    let rows = st.query_map(params![pk, phase.as_str()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    for row in rows {
        let (c, l, f, by, at) = row?;
        s.authors.insert(c.clone(), (by, at));
        s.marks.insert(c, (l, f));
    }
    let mut st =
        conn.prepare_cached("SELECT gate FROM gates WHERE portfolio_pk = ?1 AND phase = ?2")?;
    let rows = st.query_map(params![pk, phase.as_str()], |r| r.get::<_, String>(0))?;
    for g in rows {
        s.gates.insert(g?);
    }
    s.decision = decision(conn, pk, phase)?;
    Ok(s)
}

/// What a submission recorded.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub evaluation: Evaluation,
    pub outcome: Outcome,
    pub kind: &'static str,
    pub version: i64,
}

fn level_of(rubric: &Rubric, criterion: &str, level: &str) -> Result<String> {
    let c = rubric.criterion(criterion).ok_or_else(|| {
        let ids: Vec<&str> = rubric.criteria.iter().map(|c| c.id.as_str()).collect();
        AppError::refused(format!(
            "rubric {} has no criterion `{}`; its criteria are {}",
            rubric.key(),
            sanitize_line(criterion),
            ids.join(", ")
        ))
    })?;
    if let Some((_, l)) = c.level(level) {
        return Ok(l.id.clone());
    }
    if let Ok(n) = level.parse::<usize>()
        && (1..=c.levels.len()).contains(&n)
    {
        return Ok(c.levels[n - 1].id.clone());
    }
    Err(Refusal::NoSuchLevel {
        criterion: c.id.clone(),
        given: level.to_string(),
        levels: c.levels.iter().map(|l| l.id.clone()).collect(),
    }
    .into())
}

/// When `user` authored any of the first marking of portfolio `id` — a mark, gate, comment,
/// chosen outcome or the decision, at any time (also withdrawn since by a reopen) — what and
/// when, from the audit chain.
pub(crate) fn authored_first(conn: &Connection, id: &str, user: &str) -> Result<Option<String>> {
    let mut st = conn.prepare_cached(
        "SELECT action, entity, at FROM audit WHERE portfolio = ?1 AND actor = ?2 ORDER BY seq",
    )?;
    let mut rows = st.query(params![id, user])?;
    while let Some(r) = rows.next()? {
        let (action, entity, at): (String, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let mut parts = entity.split('/');
        let kind = parts.next().unwrap_or("");
        let phase = parts.nth(1).unwrap_or("");
        let first_marking = matches!(kind, "mark" | "gate" | "comment" | "choice" | "decision")
            && Phase::parse(phase) == Some(Phase::First)
            && action != "reopen";
        if first_marking {
            let what = match kind {
                "decision" => "the first decision",
                "gate" => "a first-marking gate",
                "comment" => "the first marking's comment",
                "choice" => "the first marking's outcome",
                _ => "first marks",
            };
            return Ok(Some(format!("{what}, at {at}")));
        }
    }
    Ok(None)
}

/// Who began the marking `phase` of portfolio `pk`, if anyone has.
pub(crate) fn marker_of(conn: &Connection, pk: i64, phase: Phase) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT marker FROM assessments WHERE portfolio_pk = ?1 AND phase = ?2",
            params![pk, phase.as_str()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Checks that `user` may mark `h` in `phase` now.
pub(crate) fn check_may_mark(
    conn: &Connection,
    user: &str,
    h: &Head,
    phase: Phase,
    sheet_marker: Option<&str>,
) -> Result<()> {
    let role = people::role_of(conn, user)?;
    let lead = role == Some(Role::Lead);
    match phase {
        Phase::First => {
            // (a registered assessor or lead may: asked of the database only otherwise)
            if !matches!(role, Some(Role::Assessor | Role::Lead)) {
                people::require(conn, user, &[Role::Assessor], "mark portfolios")?;
            }
            if matches!(
                Status::parse(&h.status),
                Some(Status::Released | Status::Exported)
            ) {
                return Err(Refusal::Frozen {
                    id: h.id.clone(),
                    status: h.status.clone(),
                    lead_may_reopen: false,
                }
                .into());
            }
            if !matches!(
                Status::parse(&h.status),
                Some(Status::New | Status::InProgress)
            ) {
                return Err(Refusal::Frozen {
                    id: h.id.clone(),
                    status: h.status.clone(),
                    lead_may_reopen: true,
                }
                .into());
            }
            if let Some(a) = &h.assessor
                && a != user
                && !lead
            {
                return Err(Refusal::AllocatedTo {
                    id: h.id.clone(),
                    who: a.clone(),
                }
                .into());
            }
            if let Some(m) = sheet_marker
                && m != user
                && !lead
            {
                return Err(Refusal::BeingMarked {
                    id: h.id.clone(),
                    who: m.to_string(),
                    phase: Phase::First,
                }
                .into());
            }
        }
        Phase::Second => {
            people::require(conn, user, &[Role::Moderator], "second-mark portfolios")?;
            if h.first_marker.as_deref() == Some(user) {
                return Err(Refusal::Separation {
                    id: h.id.clone(),
                    who: user.to_string(),
                    rule: Separation::FirstMarked,
                }
                .into());
            }
            if let Some(when) = authored_first(conn, &h.id, user)? {
                return Err(Refusal::Separation {
                    id: h.id.clone(),
                    who: user.to_string(),
                    rule: Separation::AuthoredFirst { when },
                }
                .into());
            }
            if h.status != Status::Sampled {
                return Err(AppError::refused(format!(
                    "portfolio {} is {}, not drawn for moderation; only sampled portfolios are second-marked",
                    h.id, h.status
                )));
            }
            if decision(conn, h.pk, Phase::Second)?.is_some() {
                return Err(Refusal::SecondSubmitted { id: h.id.clone() }.into());
            }
            if let Some(m) = sheet_marker
                && m != user
                && !lead
            {
                return Err(Refusal::BeingMarked {
                    id: h.id.clone(),
                    who: m.to_string(),
                    phase: Phase::Second,
                }
                .into());
            }
        }
    }
    Ok(())
}

impl Workspace {
    /// Validates changes against the rubric, without saving.
    pub fn check_changes(&self, id: &str, changes: &[Change]) -> Result<()> {
        let h = head(self.conn(), id)?;
        let rubric = self.rubric(h.rubric_pk)?;
        let mut errs = Vec::new();
        for c in changes {
            let r = match c {
                Change::Level(cr, Some(l)) => level_of(&rubric, cr, l).map(|_| ()),
                Change::Level(cr, None) | Change::Feedback(cr, _) => {
                    level_of(&rubric, cr, "\u{0}").map(|_| ()).or_else(|e| {
                        if rubric.criterion(cr).is_some() {
                            Ok(())
                        } else {
                            Err(e)
                        }
                    })
                }
                Change::Gate(g, _) => {
                    if rubric.gate(g).is_some() {
                        Ok(())
                    } else {
                        let ids: Vec<&str> = rubric.gates.iter().map(|g| g.id.as_str()).collect();
                        Err(AppError::refused(format!(
                            "rubric {} has no gate `{}`; its gates are {}",
                            rubric.key(),
                            sanitize_line(g),
                            if ids.is_empty() {
                                "none".to_string()
                            } else {
                                ids.join(", ")
                            }
                        )))
                    }
                }
                // A referral or an override is chosen with its written rationale, never without.
                Change::Choice(Some(o), rationale)
                    if rationale.as_deref().is_none_or(|r| r.trim().is_empty()) =>
                {
                    Err(Refusal::RationaleMissing {
                        what: format!("choosing `{}` over the rule's outcome", o.as_str()),
                    }
                    .into())
                }
                Change::Comment(_) | Change::Choice(..) => Ok(()),
            };
            if let Err(e) = r {
                errs.push(e);
            }
        }
        match errs.len() {
            0 => Ok(()),
            // One refusal keeps its facts.
            1 => Err(errs.remove(0)),
            _ => Err(AppError::Refused(
                errs.iter().flat_map(AppError::lines).collect(),
            )),
        }
    }

    /// Saves one change, committed before it returns. `expected` is the portfolio version the
    /// caller last saw: when someone else changed the portfolio since, nothing is written and
    /// `Conflict` says who. Returns the new version (the same when the change changes nothing).
    pub fn save(
        &mut self,
        id: &str,
        phase: Phase,
        change: &Change,
        expected: Option<i64>,
    ) -> Result<i64> {
        Ok(self
            .apply(
                id,
                phase,
                std::slice::from_ref(change),
                None,
                None,
                expected,
            )?
            .version)
    }

    /// Saves `changes`; with `submit` (an outcome over the rule's and a rationale) records the
    /// decision; with `settle` (second marking only) settles the moderation: all in one
    /// transaction, so that either all of it is saved or none (a refusal of the submission saves
    /// none of the changes either).
    pub fn apply(
        &mut self,
        id: &str,
        phase: Phase,
        changes: &[Change],
        submit: Option<(Option<Outcome>, Option<String>)>,
        settle: Option<(super::moderation::Settle, Option<String>)>,
        expected: Option<i64>,
    ) -> Result<Applied> {
        let settle = match settle {
            Some((how, why)) => Some((how, super::moderation::check_rationale(how, why)?)),
            None => None,
        };
        let user = self.user.clone();
        let h0 = head(self.conn(), id)?;
        let rubric = self.rubric(h0.rubric_pk)?;
        // Every change is checked (all problems said at once) before any is written.
        self.check_changes(id, changes)?;
        let changes: Vec<Change> = changes
            .iter()
            .map(|c| match c {
                Change::Level(cr, Some(l)) => {
                    Ok(Change::Level(cr.clone(), Some(level_of(&rubric, cr, l)?)))
                }
                other => Ok(other.clone()),
            })
            .collect::<Result<_>>()?;
        let mut tx = self.store.begin(&user)?;
        // Re-read inside the write lock: the rules and the version check see the latest state.
        let h = head(&tx, id)?;
        if h.rubric_pk != h0.rubric_pk {
            return Err(AppError::Conflict(format!(
                "portfolio {} was revised under another rubric since you opened it; nothing was saved — reload it",
                h.id
            )));
        }
        let marker = marker_of(&tx, h.pk, phase)?;
        // (settling alone is not marking: `settle_in` checks what it needs)
        if !changes.is_empty() || submit.is_some() || settle.is_none() {
            check_may_mark(&tx, &user, &h, phase, marker.as_deref())?;
        }
        check_version(&tx, &h, expected)?;
        let mut begun = marker.is_some();
        let mut changed = 0usize;
        for change in &changes {
            if write_change(&mut tx, &h, phase, change, &mut begun)? {
                changed += 1;
            }
        }
        let mut status = h.status.clone();
        if changed > 0 {
            // The first marker (and, if none was allocated, the assessor) is whoever first
            // changes the first marking: derived from the marks' records.
            const FIRST: &str = "status = ?2, assessor = coalesce(assessor, ?3), first_marker = coalesce(first_marker, ?3)";
            if phase == Phase::First && status == Status::New {
                status = Status::InProgress.as_str().into();
                super::update_portfolio(
                    &mut tx,
                    h.pk,
                    FIRST,
                    &[&status, &user],
                    super::PortfolioRecord {
                        action: "status",
                        entity: format!("status/{}", h.id),
                        portfolio: &h.id,
                        before: Some(json!(h.status)),
                        after: Some(json!(status)),
                    },
                )?;
            } else if phase == Phase::First {
                tx.execute(
                    &format!("UPDATE portfolios SET {FIRST} WHERE pk = ?1"),
                    params![h.pk, status, user],
                )?;
            }
        }
        let submitted = match submit {
            Some((outcome, rationale)) => Some(submit_in(
                &mut tx, &rubric, &h, &status, phase, outcome, rationale,
            )?),
            None => None,
        };
        let settled = settle.is_some();
        if let Some((how, why)) = settle {
            // (settling reads the portfolio as the changes and the submission left it)
            let h = head(&tx, id)?;
            super::moderation::settle_in(&mut tx, &h, how, why)?;
        }
        if changed == 0 && submitted.is_none() && !settled {
            // Nothing changes: nothing is written (not even the assessment row begun).
            return Ok(Applied {
                version: h.version,
                changed: 0,
                submitted: None,
            });
        }
        let version = super::touch(&tx, h.pk)?;
        tx.commit()?;
        Ok(Applied {
            version,
            changed,
            submitted,
        })
    }

    /// Remembers where the marker was (the selected criterion), so the portfolio reopens there.
    /// Not a mark: no audit record, no version change.
    pub fn save_cursor(&mut self, id: &str, phase: Phase, cursor: i64) -> Result<()> {
        let h = head(self.conn(), id)?;
        self.conn().execute(
            "UPDATE assessments SET cursor = ?3 WHERE portfolio_pk = ?1 AND phase = ?2 AND marker = ?4",
            params![h.pk, phase.as_str(), cursor, self.user],
        )?;
        Ok(())
    }

    /// The rule's verdict on the current marks, without recording anything.
    pub fn preview(&self, id: &str, phase: Phase) -> Result<(Evaluation, Sheet)> {
        let h = head(self.conn(), id)?;
        let rubric = self.rubric(h.rubric_pk)?;
        let s = sheet(self.conn(), h.pk, phase)?;
        Ok((decision::evaluate(&rubric, &s.to_marks()), s))
    }

    /// Records the decision. Refuses, recording nothing, while a criterion has no level, or when
    /// a referral or an override comes without a rationale.
    pub fn submit(
        &mut self,
        id: &str,
        phase: Phase,
        outcome: Option<Outcome>,
        rationale: Option<String>,
        expected: Option<i64>,
    ) -> Result<Submitted> {
        let applied = self.apply(id, phase, &[], Some((outcome, rationale)), None, expected)?;
        let mut s = applied
            .submitted
            .expect("a submission records its decision");
        s.version = applied.version;
        Ok(s)
    }
}

/// What [`Workspace::apply`] did.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The portfolio's version after it.
    pub version: i64,
    /// How many of the changes changed something.
    pub changed: usize,
    pub submitted: Option<Submitted>,
}

/// Writes one change and its record; `false` when it changes nothing. `begun` says whether the
/// marker's assessment row exists (it is made before the first change that changes something).
fn write_change(
    tx: &mut Tx<'_>,
    h: &Head,
    phase: Phase,
    change: &Change,
    begun: &mut bool,
) -> Result<bool> {
    let ph = phase.as_str();
    let id = h.id.as_str();
    // (old value, new value) of what the change touches; equal: nothing to do.
    let begin = |tx: &mut Tx<'_>, begun: &mut bool| -> Result<()> {
        if !*begun {
            tx.execute(
                "INSERT INTO assessments (portfolio_pk, phase, marker, started_at) VALUES (?1, ?2, ?3, ?4)",
                params![h.pk, ph, tx.actor(), tx.at()],
            )?;
            *begun = true;
        }
        Ok(())
    };
    match change {
        Change::Level(c, _) | Change::Feedback(c, _) => {
            let old: Option<(Option<String>, Option<String>)> = tx
                .query_row(
                    "SELECT level, feedback FROM marks WHERE portfolio_pk = ?1 AND phase = ?2 AND criterion = ?3",
                    params![h.pk, ph, c],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (ol, of) = old.clone().unwrap_or((None, None));
            let (nl, nf) = match change {
                Change::Level(_, l) => (l.clone(), of.clone()),
                Change::Feedback(_, f) => (ol.clone(), f.clone().filter(|t| !t.trim().is_empty())),
                _ => unreachable!("a level or feedback"),
            };
            if (&nl, &nf) == (&ol, &of) {
                return Ok(false);
            }
            begin(tx, begun)?;
            if nl.is_none() && nf.is_none() {
                tx.execute(
                    "DELETE FROM marks WHERE portfolio_pk = ?1 AND phase = ?2 AND criterion = ?3",
                    params![h.pk, ph, c],
                )?;
            } else {
                tx.execute(
                    "INSERT INTO marks (portfolio_pk, phase, criterion, level, feedback, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (portfolio_pk, phase, criterion) DO UPDATE SET level = excluded.level, feedback = excluded.feedback, by_user = excluded.by_user, at = excluded.at",
                    params![h.pk, ph, c, nl, nf, tx.actor(), tx.at()],
                )?;
            }
            let before = old.map(|(l, f)| audit::mark_value(l.as_deref(), f.as_deref()));
            let after = (nl.is_some() || nf.is_some())
                .then(|| audit::mark_value(nl.as_deref(), nf.as_deref()));
            let action = if matches!(change, Change::Level(..)) {
                "mark.level"
            } else {
                "mark.feedback"
            };
            tx.append(
                action,
                audit::mark_entity(id, ph, c),
                Some(id),
                before,
                after,
            )?;
        }
        Change::Gate(g, on) => {
            let was: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM gates WHERE portfolio_pk = ?1 AND phase = ?2 AND gate = ?3)",
                params![h.pk, ph, g],
                |r| r.get(0),
            )?;
            if was == *on {
                return Ok(false);
            }
            begin(tx, begun)?;
            if *on {
                tx.execute(
                    "INSERT INTO gates (portfolio_pk, phase, gate, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![h.pk, ph, g, tx.actor(), tx.at()],
                )?;
            } else {
                tx.execute(
                    "DELETE FROM gates WHERE portfolio_pk = ?1 AND phase = ?2 AND gate = ?3",
                    params![h.pk, ph, g],
                )?;
            }
            let v = |b: bool| b.then(|| json!({ "confirmed": true }));
            tx.append(
                "mark.gate",
                audit::gate_entity(id, ph, g),
                Some(id),
                v(was),
                v(*on),
            )?;
        }
        Change::Comment(text) => {
            let text = text.clone().filter(|t| !t.trim().is_empty());
            let old: Option<String> = tx
                .query_row(
                    "SELECT comment FROM assessments WHERE portfolio_pk = ?1 AND phase = ?2",
                    params![h.pk, ph],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            if old == text {
                return Ok(false);
            }
            begin(tx, begun)?;
            tx.execute(
                "UPDATE assessments SET comment = ?3 WHERE portfolio_pk = ?1 AND phase = ?2",
                params![h.pk, ph, text],
            )?;
            let v = |t: &Option<String>| t.as_ref().map(|c| json!({ "comment": c }));
            tx.append(
                "mark.comment",
                audit::comment_entity(id, ph),
                Some(id),
                v(&old),
                v(&text),
            )?;
        }
        Change::Choice(outcome, rationale) => {
            let rationale = rationale.clone().filter(|t| !t.trim().is_empty());
            let old: (Option<String>, Option<String>) = tx
                .query_row(
                    "SELECT choice, rationale FROM assessments WHERE portfolio_pk = ?1 AND phase = ?2",
                    params![h.pk, ph],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .unwrap_or((None, None));
            let new = (outcome.map(|o| o.as_str().to_string()), rationale);
            if old == new {
                return Ok(false);
            }
            begin(tx, begun)?;
            tx.execute(
                "UPDATE assessments SET choice = ?3, rationale = ?4 WHERE portfolio_pk = ?1 AND phase = ?2",
                params![h.pk, ph, new.0, new.1],
            )?;
            let v =
                |t: &(Option<String>, Option<String>)| json!({ "outcome": t.0, "rationale": t.1 });
            tx.append(
                "mark.choice",
                format!("choice/{id}/{ph}"),
                Some(id),
                Some(v(&old)),
                Some(v(&new)),
            )?;
        }
    }
    Ok(true)
}

/// Records the decision of `phase` inside `tx`, from the marks as they now stand.
fn submit_in(
    tx: &mut Tx<'_>,
    rubric: &Rubric,
    h: &Head,
    status: &str,
    phase: Phase,
    outcome: Option<Outcome>,
    rationale: Option<String>,
) -> Result<Submitted> {
    let rationale = rationale.filter(|r| !r.trim().is_empty());
    let s = sheet(tx, h.pk, phase)?;
    if s.decision.is_some() {
        return Err(AppError::refused(format!(
            "the {phase} decision of {} is already submitted",
            h.id
        )));
    }
    let ev = decision::evaluate(rubric, &s.to_marks());
    if !ev.complete {
        return Err(AppError::refused(format!(
            "cannot submit {}: criteria without a level: {}; choose a level for each",
            h.id,
            ev.unmarked.join(", ")
        )));
    }
    let rationale = rationale.or_else(|| s.rationale.clone());
    let chosen = outcome.or(s.choice).unwrap_or(ev.outcome);
    let kind = match chosen {
        Outcome::Referred => "referred",
        o if o == ev.outcome => "rule",
        _ => "override",
    };
    if kind != "rule" && rationale.is_none() {
        return Err(Refusal::RationaleMissing {
            what: if kind == "referred" {
                "a referral"
            } else {
                "a decision that departs from the rule (override)"
            }
            .to_string(),
        }
        .into());
    }
    let grade = if chosen == Outcome::Awarded {
        ev.grade.clone().or_else(|| {
            // An override to awarded takes the band the score reaches, if any.
            rubric
                .decision
                .grades
                .iter()
                .find(|g| ev.score.reaches(g.min))
                .map(|g| g.name.clone())
        })
    } else {
        None
    };
    let user = tx.actor().to_string();
    let row = DecisionRow {
        score_num: ev.score.num.to_string(),
        score_den: ev.score.den.to_string(),
        computed: ev.outcome.as_str().into(),
        outcome: chosen.as_str().into(),
        grade: grade.clone(),
        borderline: ev.borderline,
        kind: kind.into(),
        rationale: rationale.clone(),
        by_user: user.clone(),
        rubric_sha: rubric.sha256.clone(),
    };
    let dpk: i64 = tx.query_row(
        "INSERT INTO decisions (portfolio_pk, phase, rubric_pk, rubric_sha, score_num, score_den, score, computed, outcome, grade, borderline, kind, rationale, by_user, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) RETURNING pk",
        params![
            h.pk, phase.as_str(), h.rubric_pk, row.rubric_sha, row.score_num, row.score_den, ev.score.rounded(),
            row.computed, row.outcome, row.grade, row.borderline, row.kind, row.rationale, user, tx.at()
        ],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE assessments SET submitted_at = ?3 WHERE portfolio_pk = ?1 AND phase = ?2",
        params![h.pk, phase.as_str(), tx.at()],
    )?;
    let mut value = audit::decision_value(&row);
    value["pk"] = json!(dpk);
    value["rubric_pk"] = json!(h.rubric_pk);
    tx.append(
        if phase == Phase::First {
            "submit"
        } else {
            "moderate.submit"
        },
        audit::decision_entity(&h.id, phase.as_str()),
        Some(&h.id),
        None,
        Some(value),
    )?;
    if phase == Phase::First {
        super::update_portfolio(
            tx,
            h.pk,
            "status = 'submitted', outcome = ?2, grade = ?3, score = ?4",
            params![chosen.as_str(), grade, ev.score.rounded()],
            PortfolioRecord {
                action: "status",
                entity: format!("status/{}", h.id),
                portfolio: &h.id,
                before: Some(json!(status)),
                after: Some(json!(Status::Submitted.as_str())),
            },
        )?;
    }
    Ok(Submitted {
        evaluation: ev,
        outcome: chosen,
        kind: match kind {
            "rule" => "rule",
            "override" => "override",
            _ => "referred",
        },
        version: 0,
    })
}

/// Refuses when the portfolio changed since the caller read it at version `expected`.
pub(crate) fn check_version(tx: &Connection, h: &Head, expected: Option<i64>) -> Result<()> {
    if let Some(v) = expected
        && v != h.version
    {
        let who: Option<(String, String)> = tx
            .query_row(
                "SELECT actor, at FROM audit WHERE portfolio = ?1 ORDER BY seq DESC LIMIT 1",
                [&h.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        return Err(Refusal::Conflict {
            id: h.id.clone(),
            by: who,
        }
        .into());
    }
    Ok(())
}
