//! Reading the workspace: the queue, one portfolio in full, fuzzy search. Blind rules apply:
//! while a blind rubric's portfolio is drawn and its second marks are not submitted, nobody but
//! its first marker sees the first marks, feedback or decision.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::mark::{self, DecisionRec, Phase, Sheet, head};
use super::{Result, Workspace};
use crate::store::audit::{self, Record};

/// One portfolio in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub id: String,
    pub learner_id: String,
    pub learner_name: String,
    pub rubric: String,
    pub rubric_version: String,
    pub submitted: String,
    pub status: String,
    pub assessor: Option<String>,
    pub outcome: Option<String>,
    pub grade: Option<String>,
    pub score: Option<f64>,
    pub evidence_changed: bool,
    #[serde(skip)]
    pub pk: i64,
    #[serde(skip)]
    pub rubric_pk: i64,
    #[serde(skip)]
    pub first_marker: Option<String>,
    #[serde(skip)]
    pub blind_hidden: bool,
    /// Second marks are submitted (moderation awaits settlement).
    #[serde(skip)]
    pub second_done: bool,
}

/// Filters of `list`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<String>,
    pub rubric: Option<String>,
}

pub const STATUSES: [&str; 7] = [
    "new",
    "in_progress",
    "submitted",
    "sampled",
    "moderated",
    "released",
    "exported",
];

/// One piece of evidence, with its text when it is a text file.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceItem {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub file: Option<String>,
    pub url: Option<String>,
    pub date: String,
    pub hours: Option<f64>,
    pub claims: Vec<String>,
    pub note: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<i64>,
    pub is_text: bool,
}

/// Everything about one portfolio that the viewer may see.
#[derive(Debug, Clone)]
pub struct Detail {
    pub row: Row,
    pub learner_email: Option<String>,
    pub revision: i64,
    pub version: i64,
    pub statement: Option<String>,
    pub evidence: Vec<EvidenceItem>,
    /// `None` while blind rules hide the first marking from the viewer.
    pub first: Option<Sheet>,
    pub first_hidden: bool,
    pub second: Sheet,
    pub draw: Option<(bool, String)>,
    pub settlement: Option<(String, Option<String>, String)>,
    pub history: Vec<Record>,
}

impl Workspace {
    /// Whether blind rules hide the first marking of this portfolio from the current person.
    fn hides_first(
        &self,
        rubric_pk: i64,
        status: &str,
        first_marker: Option<&str>,
        pk: i64,
    ) -> Result<bool> {
        if status != "sampled" || first_marker == Some(self.user.as_str()) {
            return Ok(false);
        }
        if !self.rubric(rubric_pk)?.moderation.blind {
            return Ok(false);
        }
        Ok(mark::decision(self.conn(), pk, Phase::Second)?.is_none())
    }

    pub fn list(&self, filter: &Filter) -> Result<Vec<Row>> {
        let rubric_id = match &filter.rubric {
            Some(r) => Some(match self.find_rubric(r)? {
                Some(pk) => self.rubric_id_version(pk)?.0,
                None => r.split('@').next().unwrap_or(r).to_string(),
            }),
            None => None,
        };
        let mut st = self.conn().prepare_cached(
            "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                    p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second')
             FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
             WHERE (?1 IS NULL OR p.status = ?1) AND (?2 IS NULL OR r.id = ?2)
             ORDER BY p.id",
        )?;
        let rows = st.query_map(params![filter.status, rubric_id], row_of)?;
        let mut out: Vec<Row> = rows.collect::<rusqlite::Result<_>>()?;
        for r in &mut out {
            if r.status == "sampled"
                && self.hides_first(r.rubric_pk, &r.status, r.first_marker.as_deref(), r.pk)?
            {
                r.outcome = None;
                r.grade = None;
                r.score = None;
                r.blind_hidden = true;
            }
        }
        Ok(out)
    }

    /// Counts of portfolios per status.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT status, count(*) FROM portfolios GROUP BY status")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut v: Vec<(String, i64)> = rows.collect::<rusqlite::Result<_>>()?;
        v.sort_by_key(|(s, _)| STATUSES.iter().position(|x| x == s).unwrap_or(99));
        Ok(v)
    }

    pub fn detail(&self, id: &str) -> Result<Detail> {
        let h = head(self.conn(), id)?;
        let row = self
            .conn()
            .prepare_cached(
                "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                        p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second')
                 FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.pk = ?1",
            )?
            .query_row([h.pk], row_of)?;
        let (email, revision, version): (Option<String>, i64, i64) = self.conn().query_row(
            "SELECT learner_email, revision, version FROM portfolios WHERE pk = ?1",
            [h.pk],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let statement: Option<Vec<u8>> = self
            .conn()
            .query_row(
                "SELECT b.data FROM revisions v JOIN blobs b ON b.sha256 = v.statement_sha WHERE v.portfolio_pk = ?1 AND v.revision = ?2",
                params![h.pk, revision],
                |r| r.get(0),
            )
            .optional()?;
        let evidence = self.evidence(h.pk, revision)?;
        let hidden = self.hides_first(h.rubric_pk, &h.status, h.first_marker.as_deref(), h.pk)?;
        let mut row = row;
        if hidden {
            row.outcome = None;
            row.grade = None;
            row.score = None;
            row.blind_hidden = true;
        }
        let first = if hidden {
            None
        } else {
            Some(mark::sheet(self.conn(), h.pk, Phase::First)?)
        };
        let second = mark::sheet(self.conn(), h.pk, Phase::Second)?;
        let draw = self
            .conn()
            .query_row(
                "SELECT drawn, reason FROM draw_items WHERE portfolio_pk = ?1",
                [h.pk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let settlement = self
            .conn()
            .query_row(
                "SELECT action, rationale, by_user FROM settlements WHERE portfolio_pk = ?1",
                [h.pk],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let mut history = audit::log(self.conn(), Some(&h.id))?;
        let draw = if hidden {
            draw.map(|(drawn, _): (bool, String)| (drawn, WITHHELD.to_string()))
        } else {
            draw
        };
        if hidden {
            mask_blind(&mut history, |_| true);
        }
        Ok(Detail {
            row,
            learner_email: email,
            revision,
            version,
            statement: statement.map(|b| String::from_utf8_lossy(&b).into_owned()),
            evidence,
            first,
            first_hidden: hidden,
            second,
            draw,
            settlement,
            history,
        })
    }

    /// The audit history (of one portfolio, or all), with what blind rules hide from the current
    /// person left out.
    pub fn history(&self, id: Option<&str>) -> Result<Vec<Record>> {
        let mut log = audit::log(self.conn(), id)?;
        let hidden: std::collections::HashSet<String> = {
            let mut st = self.conn().prepare(
                "SELECT pk, id, rubric_pk, status, first_marker FROM portfolios WHERE status = 'sampled' AND (?1 IS NULL OR id = ?1)",
            )?;
            let rows: Vec<(i64, String, i64, String, Option<String>)> = st
                .query_map([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut set = std::collections::HashSet::new();
            for (pk, pid, rpk, status, fm) in rows {
                if self.hides_first(rpk, &status, fm.as_deref(), pk)? {
                    set.insert(pid);
                }
            }
            set
        };
        if !hidden.is_empty() {
            mask_blind(&mut log, |r| {
                r.portfolio.as_ref().is_some_and(|p| hidden.contains(p))
            });
        }
        Ok(log)
    }

    pub fn evidence(&self, pk: i64, revision: i64) -> Result<Vec<EvidenceItem>> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, title, kind, file, url, date, hours, claims, note, blob_sha, size, is_text
             FROM evidence WHERE portfolio_pk = ?1 AND revision = ?2 ORDER BY ord",
        )?;
        let rows = st.query_map(params![pk, revision], |r| {
            let claims: String = r.get(7)?;
            Ok(EvidenceItem {
                id: r.get(0)?,
                title: r.get(1)?,
                kind: r.get(2)?,
                file: r.get(3)?,
                url: r.get(4)?,
                date: r.get(5)?,
                hours: r.get(6)?,
                claims: serde_json::from_str(&claims).unwrap_or_default(),
                note: r.get(8)?,
                sha256: r.get(9)?,
                size: r.get(10)?,
                is_text: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored bytes of a blob (evidence file or statement).
    pub fn blob(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT data FROM blobs WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?)
    }

    /// The first decision, unless blind rules hide it.
    pub fn first_decision(&self, id: &str) -> Result<Option<DecisionRec>> {
        let d = self.detail(id)?;
        Ok(d.first.and_then(|s| s.decision))
    }

    /// The text the fuzzy filter matches for every portfolio, by row key.
    pub fn search_texts(&self) -> Result<std::collections::HashMap<i64, String>> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT pk, search_text FROM portfolios")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Fuzzy search over portfolio ids, learner ids and names, rubric ids and evidence titles.
    /// Best first; ties by id.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(i64, Row)>> {
        let items: Vec<(i64, String)> = {
            let mut st = self
                .conn()
                .prepare_cached("SELECT pk, search_text FROM portfolios")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let hits = fuzzy_rank(query, &items, |(_, t)| t.as_str(), limit);
        let mut out = Vec::new();
        let mut st = self.conn().prepare_cached(
            "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                    p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second')
             FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.pk = ?1",
        )?;
        for (score, i) in hits {
            let mut row = st.query_row([items[i].0], row_of)?;
            if row.status == "sampled"
                && self.hides_first(
                    row.rubric_pk,
                    &row.status,
                    row.first_marker.as_deref(),
                    row.pk,
                )?
            {
                row.outcome = None;
                row.grade = None;
                row.score = None;
                row.blind_hidden = true;
            }
            out.push((score, row));
        }
        Ok(out)
    }
}

/// Ranks `items` against `query` with the skim fuzzy matcher on all cores; returns (score, index)
/// of the best `limit` matches, best first, ties in input order.
pub fn fuzzy_rank<T: Sync>(
    query: &str,
    items: &[T],
    text: impl Fn(&T) -> &str + Sync,
    limit: usize,
) -> Vec<(i64, usize)> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(1);
    let mut all: Vec<(i64, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                let text = &text;
                s.spawn(move || {
                    let m = SkimMatcherV2::default().ignore_case();
                    part.iter()
                        .enumerate()
                        .filter_map(|(i, it)| {
                            m.fuzzy_match(text(it), query)
                                .map(|sc| (sc, ci * chunk + i))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    all.truncate(limit);
    all
}

/// What blind rules withhold from the history: the first marking's records, and the reason a
/// portfolio was drawn (`always:not_yet`, … tells the first decision).
const WITHHELD: &str = "withheld until your second marks are submitted (blind)";

fn mask_blind(history: &mut Vec<Record>, applies: impl Fn(&Record) -> bool) {
    history.retain(|r| !(applies(r) && r.entity.contains("/first")));
    for r in history.iter_mut() {
        if applies(r)
            && let Some(serde_json::Value::Object(after)) = &mut r.after
            && after.contains_key("reason")
        {
            after.insert("reason".into(), WITHHELD.into());
        }
    }
}

fn row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        pk: r.get(0)?,
        id: r.get(1)?,
        learner_id: r.get(2)?,
        learner_name: r.get(3)?,
        rubric: r.get(4)?,
        rubric_version: r.get(5)?,
        submitted: r.get(6)?,
        status: r.get(7)?,
        assessor: r.get(8)?,
        outcome: r.get(9)?,
        grade: r.get(10)?,
        score: r.get(11)?,
        evidence_changed: r.get(12)?,
        rubric_pk: r.get(13)?,
        first_marker: r.get(14)?,
        second_done: r.get(15)?,
        blind_hidden: false,
    })
}
