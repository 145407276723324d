//! Moderation: draw a sample of submitted decisions, settle second marks against first, reopen,
//! release, and agreement statistics.

use std::collections::BTreeMap;

use crate::store::db::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::mark::{self, Phase, check_version, head};
use super::people;
use super::refusal::{Refusal, Separation};
use super::{AppError, PortfolioRecord, Result, Workspace};
use crate::domain::agreement::{self, OutcomeStats, PairStats};
use crate::domain::role::Role;
use crate::domain::sampling::{self, Candidate, Pick};
use crate::domain::status::Status;
use crate::store::audit;

/// An amendment needs its rationale; a blank one is none.
pub(crate) fn check_rationale(how: Settle, rationale: Option<String>) -> Result<Option<String>> {
    let rationale = rationale.filter(|r| !r.trim().is_empty());
    if how == Settle::Amend && rationale.is_none() {
        return Err(Refusal::RationaleMissing {
            what: "amending a decision".into(),
        }
        .into());
    }
    Ok(rationale)
}

/// Settles portfolio `h` inside `tx` (the caller checked the version): keep the first decision
/// or replace it by the second.
pub(crate) fn settle_in(
    tx: &mut crate::store::Tx<'_>,
    h: &mark::Head,
    how: Settle,
    rationale: Option<String>,
) -> Result<()> {
    let user = tx.actor().to_string();
    people::require(tx, &user, &[Role::Moderator], "settle moderation")?;
    if h.first_marker.as_deref() == Some(user.as_str()) {
        return Err(Refusal::Separation {
            id: h.id.clone(),
            who: user,
            rule: Separation::FirstMarked,
        }
        .into());
    }
    if let Some(when) = mark::authored_first(tx, &h.id, &user)? {
        return Err(Refusal::Separation {
            id: h.id.clone(),
            who: user,
            rule: Separation::AuthoredFirst { when },
        }
        .into());
    }
    if h.status != Status::Sampled {
        return Err(AppError::refused(format!(
            "portfolio {} is {}; only a drawn portfolio with submitted second marks is settled",
            h.id, h.status
        )));
    }
    let Some(second) = mark::decision(tx, h.pk, Phase::Second)? else {
        return Err(Refusal::NoSecondMarks { id: h.id.clone() }.into());
    };
    let first = mark::decision(tx, h.pk, Phase::First)?
        .ok_or_else(|| AppError::refused(format!("portfolio {} has no first decision", h.id)))?;
    let action = match how {
        Settle::Confirm => "confirm",
        Settle::Amend => "amend",
    };
    tx.execute(
        "INSERT INTO settlements (portfolio_pk, action, rationale, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![h.pk, action, rationale, user, tx.at()],
    )?;
    let final_ = if how == Settle::Amend {
        &second
    } else {
        &first
    };
    super::update_portfolio(
        tx,
        h.pk,
        "status = 'moderated', outcome = ?2, grade = ?3, score = ?4",
        params![final_.outcome, final_.grade, final_.score],
        PortfolioRecord {
            action: if how == Settle::Amend {
                "moderate.amend"
            } else {
                "moderate.confirm"
            },
            entity: audit::settlement_entity(&h.id),
            portfolio: &h.id,
            before: Some(
                json!({ "outcome": first.outcome, "grade": first.grade, "score": first.score }),
            ),
            after: Some(audit::settlement_value(action, rationale, &user)),
        },
    )?;
    super::touch(tx, h.pk)?;
    Ok(())
}

/// (portfolio key, first outcome, first score, second outcome, second score, assessor, settlement)
type Pair = (i64, String, f64, String, f64, String, Option<String>);

/// What a draw did, per rubric.
#[derive(Debug, Clone)]
pub struct Draw {
    pub seed: u64,
    /// The seed is not shown: a blind rubric's draw, by someone who is not a lead and did not
    /// choose the seed (with it and the rule, the drawn set would tell which were drawn for
    /// their category, which tells their outcome).
    pub seed_withheld: bool,
    pub picks: Vec<(String, Pick)>,
}

/// Where a portfolio stands in moderation: the one place the stages are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Not (or not yet) drawn: no moderation in progress.
    None,
    /// Drawn: second marking awaited or in progress.
    AwaitingSecondMarks,
    /// Second marks submitted: a moderator confirms or amends.
    AwaitingSettlement,
    /// Settled (confirmed or amended).
    Settled,
}

impl Stage {
    /// From a portfolio's status and whether its second marks are submitted.
    pub fn of(status: &str, second_done: bool) -> Stage {
        match (Status::parse(status), second_done) {
            (Some(Status::Sampled), false) => Stage::AwaitingSecondMarks,
            (Some(Status::Sampled), true) => Stage::AwaitingSettlement,
            (Some(Status::Moderated), _) => Stage::Settled,
            _ => Stage::None,
        }
    }

    /// How the moderator's queue says it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::None => "",
            Stage::AwaitingSecondMarks => "awaiting second marks",
            Stage::AwaitingSettlement => "awaiting settlement",
            Stage::Settled => "settled",
        }
    }
}

/// The reason shown for a pick of a blind rubric (to anyone but a lead).
pub const BLIND_REASON: &str = "withheld:blind";

/// How a moderator settles a portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Keep the first decision.
    Confirm,
    /// Replace it with the second marks' decision.
    Amend,
}

/// Why a decision is not released yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Waiting {
    pub id: String,
    pub status: String,
    pub why: Wait,
}

/// Why a decision waits to be released (as data; written out as a sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Submitted, and no moderation draw has considered it yet.
    Undrawn,
    /// Drawn for moderation; no second marks yet.
    AwaitingSecond,
    /// Second-marked; the settlement (confirm or amend) is still to come.
    AwaitingSettlement,
    /// In no state a release takes.
    NotReady,
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wait::Undrawn => "not yet considered by a moderation draw",
            Wait::AwaitingSecond => "drawn for moderation, awaiting second marks",
            Wait::AwaitingSettlement => "second-marked, awaiting settlement (confirm or amend)",
            Wait::NotReady => "not ready",
        })
    }
}

impl Serialize for Wait {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A decided portfolio in a release plan: row key, id, status, and why it waits (`None`: it may
/// be released).
type Planned = (i64, String, String, Option<Wait>);

/// Each decided portfolio (of one rubric, or all) with why it may not be released yet (`None`:
/// it may): the one statement of the release rule, for the release and its preview.
fn release_plan(
    conn: &crate::store::db::Connection,
    rubric_id: Option<&str>,
) -> Result<Vec<Planned>> {
    let rows: Vec<(i64, String, String, Option<bool>, bool)> = {
        let mut st = conn.prepare(
            "SELECT p.pk, p.id, p.status, i.drawn,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second')
             FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
             LEFT JOIN draw_items i ON i.portfolio_pk = p.pk
             WHERE (p.status = 'submitted' OR p.status = 'sampled' OR p.status = 'moderated') AND (CAST(?1 AS TEXT) IS NULL OR r.id = CAST(?1 AS TEXT))
             ORDER BY p.id",
        )?;
        st.query_map(params![rubric_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<crate::store::db::Result<_>>()?
    };
    Ok(rows
        .into_iter()
        .map(|(pk, id, status, drawn, second)| {
            let why = match (Status::parse(&status), drawn) {
                (Some(Status::Submitted), None) => Some(Wait::Undrawn),
                (Some(Status::Submitted), Some(false)) | (Some(Status::Moderated), _) => None,
                (Some(Status::Sampled), _) if !second => Some(Wait::AwaitingSecond),
                (Some(Status::Sampled), _) => Some(Wait::AwaitingSettlement),
                _ => Some(Wait::NotReady),
            };
            (pk, id, status, why)
        })
        .collect())
}

#[derive(Debug, Clone, Default)]
pub struct Release {
    pub released: Vec<String>,
    pub waiting: Vec<Waiting>,
}

/// Agreement of one criterion.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionStats {
    pub id: String,
    #[serde(flatten)]
    pub stats: PairStats,
}

/// One assessor's record against the moderators.
#[derive(Debug, Clone, Serialize)]
pub struct AssessorStats {
    pub assessor: String,
    /// Decisions submitted.
    pub marked: usize,
    /// Of those, second-marked.
    pub moderated: usize,
    /// Mean of (first score − second score): positive is lenient, negative severe.
    pub mean_score_difference: Option<f64>,
    /// Share of moderated decisions that were amended.
    pub changed: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RubricStats {
    pub rubric: String,
    pub version: String,
    pub pairs: usize,
    pub criteria: Vec<CriterionStats>,
    pub outcome: OutcomeStats,
    pub assessors: Vec<AssessorStats>,
}

impl Workspace {
    /// Draws from submitted decisions not yet considered by a draw, by each rubric's rules.
    pub fn draw_sample(&mut self, rubric: Option<&str>, seed: Option<u64>) -> Result<Draw> {
        self.require(&[Role::Moderator], "draw moderation samples")?;
        let rubric_id = self.rubric_filter(rubric)?;
        let chosen = seed.is_some();
        let seed = seed.unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
            sampling::SplitMix64::new(t ^ u64::from(std::process::id())).next_u64() >> 11
        });
        let user = self.user.clone();
        let rubrics = self.all_rubrics()?;
        let lead = people::is_registered_lead(self.conn(), &user)?;
        let mut tx = self.store.begin(&user)?;
        // candidates grouped by rubric version
        let mut groups: BTreeMap<i64, Vec<(i64, Candidate)>> = BTreeMap::new();
        {
            // (on a server the first decisions may be hidden from the person: the draw reads what
            // it needs of them through a function of the database's, see pg_access.sql)
            let mut st = tx.prepare(if tx.is_pg() {
                "SELECT pk, id, rubric_pk, outcome, kind, borderline FROM assay_draw_candidates(CAST(?1 AS TEXT))"
            } else {
                "SELECT p.pk, p.id, p.rubric_pk, d.outcome, d.kind, d.borderline
                 FROM portfolios p JOIN decisions d ON d.portfolio_pk = p.pk AND d.phase = 'first'
                 JOIN rubrics r ON r.pk = p.rubric_pk
                 WHERE p.status = 'submitted' AND NOT EXISTS (SELECT 1 FROM draw_items i WHERE i.portfolio_pk = p.pk)
                   AND (CAST(?1 AS TEXT) IS NULL OR r.id = CAST(?1 AS TEXT))
                 ORDER BY p.id"
            })?;
            let rows = st.query_map(params![rubric_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(2)?,
                    Candidate {
                        id: r.get(1)?,
                        outcome: r.get(3)?,
                        kind: r.get(4)?,
                        borderline: r.get(5)?,
                    },
                ))
            })?;
            for row in rows {
                let (pk, rpk, c) = row?;
                groups.entry(rpk).or_default().push((pk, c));
            }
        }
        if groups.is_empty() {
            // Nothing to draw: nothing is recorded (no empty draw without an audit record).
            return Ok(Draw {
                seed,
                seed_withheld: false,
                picks: Vec::new(),
            });
        }
        let (draw_pk, draw_rubric): (i64, Option<i64>) = tx.query_row(
            "INSERT INTO draws (rubric_pk, seed, by_user, at) VALUES ((SELECT pk FROM rubrics WHERE id = ?1 ORDER BY pk DESC LIMIT 1), ?2, ?3, ?4) RETURNING pk, rubric_pk",
            params![rubric_id, seed as i64, user, tx.at()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.append(
            "draw",
            format!("draws/{draw_pk}"),
            None,
            None,
            Some(json!({ "pk": draw_pk, "rubric_pk": draw_rubric, "seed": seed as i64 })),
        )?;
        let mut out = Vec::new();
        for (rpk, cands) in groups {
            let rubric = rubrics[&rpk].clone();
            let list: Vec<Candidate> = cands.iter().map(|(_, c)| c.clone()).collect();
            let pk_of: BTreeMap<&str, i64> =
                cands.iter().map(|(pk, c)| (c.id.as_str(), *pk)).collect();
            // Each rubric draws with its own stream, derived from the seed and the rubric.
            let sub = seed ^ u64::from_str_radix(&rubric.sha256[..16], 16).unwrap_or(0);
            for pick in sampling::draw(&list, &rubric.moderation, sub) {
                let pk = pk_of[pick.id.as_str()];
                tx.execute(
                    "INSERT INTO draw_items (draw_pk, portfolio_pk, drawn, reason) VALUES (?1, ?2, ?3, ?4)",
                    params![draw_pk, pk, pick.drawn, pick.reason],
                )?;
                let record = super::PortfolioRecord {
                    action: "sample",
                    entity: format!("draw/{}", pick.id),
                    portfolio: &pick.id,
                    before: None,
                    after: Some(
                        json!({ "draw": draw_pk, "seed": seed as i64, "drawn": pick.drawn, "reason": pick.reason }),
                    ),
                };
                if pick.drawn {
                    let sampled = Status::Sampled.as_str();
                    super::update_portfolio(&mut tx, pk, "status = ?2", &[&sampled], record)?;
                } else {
                    tx.append(
                        record.action,
                        record.entity,
                        Some(record.portfolio),
                        record.before,
                        record.after,
                    )?;
                }
                super::touch(&tx, pk)?;
                // Under a blind rubric the reason (`always:not_yet`, …) tells the first
                // decision: the chain keeps it, the moderator who drew is not shown it.
                let shown = if rubric.moderation.blind && !lead {
                    Pick {
                        reason: BLIND_REASON.to_string(),
                        ..pick
                    }
                } else {
                    pick
                };
                out.push((rubric.key(), shown));
            }
        }
        tx.commit()?;
        let blind = out.iter().any(|(_, p)| p.reason == BLIND_REASON);
        Ok(Draw {
            seed,
            seed_withheld: blind && !chosen,
            picks: out,
        })
    }

    /// Settles a second-marked portfolio: keep the first decision or replace it by the second.
    pub fn settle(
        &mut self,
        id: &str,
        how: Settle,
        rationale: Option<String>,
        expected: Option<i64>,
    ) -> Result<()> {
        let rationale = check_rationale(how, rationale)?;
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let h = head(&tx, id)?;
        check_version(&tx, &h, expected)?;
        settle_in(&mut tx, &h, how, rationale)?;
        tx.commit()?;
        Ok(())
    }

    /// A lead reopens a submitted decision (before release) with a rationale: the decision, any
    /// draw and any second marking are withdrawn and the assessor may mark again.
    pub fn reopen(&mut self, id: &str, rationale: &str) -> Result<()> {
        if rationale.trim().is_empty() {
            return Err(Refusal::RationaleMissing {
                what: "reopening".into(),
            }
            .into());
        }
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        people::require(&tx, &user, &[Role::Lead], "reopen a decision")?;
        let h = head(&tx, id)?;
        if !matches!(
            Status::parse(&h.status),
            Some(Status::Submitted | Status::Sampled | Status::Moderated)
        ) {
            return Err(AppError::refused(format!(
                "portfolio {} is {}; only a submitted, sampled or moderated (not yet released) decision is reopened",
                h.id, h.status
            )));
        }
        let pid = h.id.as_str();
        // Withdraw the second marking wholly, then the decisions.
        let second = mark::sheet(&tx, h.pk, Phase::Second)?;
        for (c, (l, f)) in &second.marks {
            tx.append(
                "reopen",
                audit::mark_entity(pid, Phase::Second.as_str(), c),
                Some(pid),
                Some(audit::mark_value(l.as_deref(), f.as_deref())),
                None,
            )?;
        }
        for g in &second.gates {
            tx.append(
                "reopen",
                audit::gate_entity(pid, Phase::Second.as_str(), g),
                Some(pid),
                Some(json!({ "confirmed": true })),
                None,
            )?;
        }
        if let Some(c) = &second.comment {
            tx.append(
                "reopen",
                audit::comment_entity(pid, Phase::Second.as_str()),
                Some(pid),
                Some(json!({ "comment": c })),
                None,
            )?;
        }
        for phase in [Phase::Second.as_str(), Phase::First.as_str()] {
            let d: Option<String> = tx
                .query_row(
                    "SELECT outcome FROM decisions WHERE portfolio_pk = ?1 AND phase = ?2",
                    params![h.pk, phase],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(o) = d {
                tx.append(
                    "reopen",
                    audit::decision_entity(pid, phase),
                    Some(pid),
                    Some(json!({ "outcome": o })),
                    None,
                )?;
            }
        }
        let settled: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM settlements WHERE portfolio_pk = ?1)",
            [h.pk],
            |r| r.get(0),
        )?;
        if settled {
            tx.append(
                "reopen",
                audit::settlement_entity(pid),
                Some(pid),
                Some(json!("settled")),
                None,
            )?;
        }
        tx.execute(
            "DELETE FROM marks WHERE portfolio_pk = ?1 AND phase = 'second'",
            [h.pk],
        )?;
        tx.execute(
            "DELETE FROM gates WHERE portfolio_pk = ?1 AND phase = 'second'",
            [h.pk],
        )?;
        tx.execute(
            "DELETE FROM assessments WHERE portfolio_pk = ?1 AND phase = 'second'",
            [h.pk],
        )?;
        tx.execute("DELETE FROM decisions WHERE portfolio_pk = ?1", [h.pk])?;
        tx.execute("DELETE FROM settlements WHERE portfolio_pk = ?1", [h.pk])?;
        tx.execute("DELETE FROM draw_items WHERE portfolio_pk = ?1", [h.pk])?;
        tx.execute("UPDATE assessments SET submitted_at = NULL WHERE portfolio_pk = ?1 AND phase = 'first'", [h.pk])?;
        super::update_portfolio(
            &mut tx,
            h.pk,
            "status = 'in_progress', outcome = NULL, grade = NULL, score = NULL",
            params![],
            PortfolioRecord {
                action: "reopen",
                entity: format!("status/{pid}"),
                portfolio: pid,
                before: Some(json!(h.status)),
                after: Some(
                    json!({ "status": Status::InProgress.as_str(), "rationale": rationale }),
                ),
            },
        )?;
        super::touch(&tx, h.pk)?;
        tx.commit()?;
        Ok(())
    }

    /// Releases every decision a draw considered that, if drawn, is moderated.
    /// What [`Self::release`] would do now, writing nothing: the decisions it would release and
    /// those that wait, with why. The workbench asks before releasing.
    pub fn release_preview(&self, rubric: Option<&str>) -> Result<Release> {
        self.require(&[Role::Moderator], "release decisions")?;
        let rubric_id = self.rubric_filter(rubric)?;
        let mut out = Release::default();
        for (_, id, status, why) in release_plan(self.conn(), rubric_id.as_deref())? {
            match why {
                Some(why) => out.waiting.push(Waiting { id, status, why }),
                None => out.released.push(id),
            }
        }
        Ok(out)
    }

    pub fn release(&mut self, rubric: Option<&str>) -> Result<Release> {
        self.require(&[Role::Moderator], "release decisions")?;
        let rubric_id = self.rubric_filter(rubric)?;
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let mut out = Release::default();
        for (pk, id, status, why) in release_plan(&tx, rubric_id.as_deref())? {
            match why {
                Some(why) => out.waiting.push(Waiting { id, status, why }),
                None => {
                    let at = tx.at().to_string();
                    super::update_portfolio(
                        &mut tx,
                        pk,
                        "status = 'released', released_at = ?2",
                        params![at],
                        PortfolioRecord {
                            action: "release",
                            entity: format!("status/{id}"),
                            portfolio: &id,
                            before: Some(json!(status)),
                            after: Some(json!(Status::Released.as_str())),
                        },
                    )?;
                    super::touch(&tx, pk)?;
                    out.released.push(id);
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Agreement between first and second marks of second-marked portfolios, per rubric version.
    pub fn stats(&self, rubric: Option<&str>) -> Result<Vec<RubricStats>> {
        let rubric_id = self.rubric_filter(rubric)?;
        let conn = self.conn();
        let mut out = Vec::new();
        let rubric_pks: Vec<i64> = {
            let mut st = conn
                .prepare("SELECT pk FROM rubrics WHERE (CAST(?1 AS TEXT) IS NULL OR id = CAST(?1 AS TEXT)) ORDER BY id, pk")?;
            st.query_map(params![rubric_id], |r| r.get(0))?
                .collect::<crate::store::db::Result<_>>()?
        };
        for rpk in rubric_pks {
            let rubric = self.rubric(rpk)?;
            // pairs: portfolios with both decisions under this rubric version
            let pairs: Vec<Pair> = {
                let mut st = conn.prepare(
                    "SELECT p.pk, f.outcome, f.score, s.outcome, s.score, f.by_user, st.action
                     FROM portfolios p
                     JOIN decisions f ON f.portfolio_pk = p.pk AND f.phase = 'first'
                     JOIN decisions s ON s.portfolio_pk = p.pk AND s.phase = 'second'
                     LEFT JOIN settlements st ON st.portfolio_pk = p.pk
                     WHERE f.rubric_pk = ?1 ORDER BY p.id",
                )?;
                st.query_map([rpk], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })?
                .collect::<crate::store::db::Result<_>>()?
            };
            let marked: Vec<(String, i64)> = {
                let mut st = conn.prepare(
                    "SELECT by_user, count(*) FROM decisions WHERE phase = 'first' AND rubric_pk = ?1 GROUP BY by_user ORDER BY by_user",
                )?;
                st.query_map([rpk], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<crate::store::db::Result<_>>()?
            };
            if pairs.is_empty() && marked.is_empty() {
                continue;
            }
            let mut per_crit: Vec<Vec<(usize, usize)>> = vec![Vec::new(); rubric.criteria.len()];
            let mut mark_st = conn.prepare_cached(
                "SELECT f.criterion, f.level, s.level FROM marks f JOIN marks s
                 ON s.portfolio_pk = f.portfolio_pk AND s.criterion = f.criterion AND s.phase = 'second'
                 WHERE f.portfolio_pk = ?1 AND f.phase = 'first'",
            )?;
            let outcome_index = |o: &str| match o {
                "awarded" => 0usize,
                "not_yet" => 1,
                _ => 2,
            };
            let mut outcome_pairs = Vec::new();
            for (pk, fo, _, so, _, _, _) in &pairs {
                outcome_pairs.push((outcome_index(fo), outcome_index(so)));
                let rows = mark_st.query_map([pk], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })?;
                for row in rows {
                    let (c, fl, sl) = row?;
                    if let Some(ci) = rubric.criteria.iter().position(|x| x.id == c)
                        && let (Some(fl), Some(sl)) = (fl, sl)
                    {
                        let cr = &rubric.criteria[ci];
                        if let (Some((a, _)), Some((b, _))) = (cr.level(&fl), cr.level(&sl)) {
                            per_crit[ci].push((a, b));
                        }
                    }
                }
            }
            let criteria = rubric
                .criteria
                .iter()
                .zip(&per_crit)
                .map(|(c, p)| CriterionStats {
                    id: c.id.clone(),
                    stats: agreement::pair_stats(p, c.levels.len()),
                })
                .collect();
            let mut assessors = Vec::new();
            for (who, n) in marked {
                let mine: Vec<&Pair> = pairs.iter().filter(|p| p.5 == who).collect();
                let m = mine.len();
                let diff = (m > 0).then(|| mine.iter().map(|p| p.2 - p.4).sum::<f64>() / m as f64);
                let changed = (m > 0).then(|| {
                    mine.iter()
                        .filter(|p| p.6.as_deref() == Some("amend"))
                        .count() as f64
                        / m as f64
                });
                assessors.push(AssessorStats {
                    assessor: who,
                    marked: n as usize,
                    moderated: m,
                    mean_score_difference: diff,
                    changed,
                });
            }
            out.push(RubricStats {
                rubric: rubric.id.clone(),
                version: rubric.version.clone(),
                pairs: pairs.len(),
                criteria,
                outcome: agreement::outcome_stats(&outcome_pairs, 3),
                assessors,
            });
        }
        Ok(out)
    }
}
