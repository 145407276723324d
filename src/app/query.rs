//! Reading the workspace: the queue, one portfolio in full, fuzzy search. Blind rules apply:
//! while a blind rubric's portfolio is drawn and its second marks are not submitted, nobody but
//! its first marker sees the first marks, feedback or decision.

use crate::store::db::{OptionalExtension, params};
use serde::Serialize;

use super::mark::{self, DecisionRec, Phase, Sheet, head};
use super::{AppError, Result, Workspace};
use crate::domain::rubric::Rubric;
use crate::domain::status::Status;
use crate::store::audit::{self, Record};
use std::collections::HashMap;
use std::sync::Arc;

mod fuzzy;

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
    /// The part of the portfolio it is in (an e-portfolio page or collection).
    pub group: Option<String>,
    /// Criteria an assessor linked it to (claims the learner did not make).
    pub linked: Vec<String>,
    /// A document's text (PDF, DOCX, ODT) taken at import: its blob.
    pub text_sha: Option<String>,
    /// What that text is (`PDF, 3 pages`), or why it could not be taken.
    pub text_note: Option<String>,
}

impl EvidenceItem {
    /// Whether it is evidence for `criterion`: claimed by the learner or linked by an assessor.
    pub fn shows(&self, criterion: &str) -> bool {
        self.claims.iter().any(|c| c == criterion) || self.linked.iter().any(|c| c == criterion)
    }

    /// What is read as text: the file itself when it is text, else a document's extracted
    /// text — its blob and a name for the reader (`report.pdf` → `report.pdf.txt`).
    pub fn readable(&self) -> Option<(&str, String)> {
        let name = self.file.as_deref().unwrap_or(&self.id);
        let base = name.rsplit('/').next().unwrap_or(name);
        match (&self.sha256, self.is_text, &self.text_sha) {
            (Some(sha), true, _) => Some((sha, base.to_string())),
            (_, false, Some(t)) => Some((t, format!("{base}.txt"))),
            _ => None,
        }
    }
}

/// The bytes of a stored file (see [`Workspace::evidence_bytes`]): in memory, or read from the
/// workspace by range as they are asked for.
#[derive(Debug, Clone)]
pub struct Bytes(Held);

#[derive(Debug, Clone)]
enum Held {
    Memory(Arc<[u8]>),
    Stored(Arc<crate::store::blob::BlobReader>),
}

impl Bytes {
    /// Files up to this size are read into memory when opened.
    pub const IN_MEMORY: usize = 4 << 20;

    pub fn len(&self) -> u64 {
        match &self.0 {
            Held::Memory(b) => b.len() as u64,
            Held::Stored(r) => r.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The bytes of `start..end`, clamped to the file.
    pub fn read(&self, start: u64, end: u64) -> std::borrow::Cow<'_, [u8]> {
        match &self.0 {
            Held::Memory(b) => {
                let end = (end as usize).min(b.len());
                let start = (start as usize).min(end);
                std::borrow::Cow::Borrowed(&b[start..end])
            }
            Held::Stored(r) => std::borrow::Cow::Owned(r.read(start, end)),
        }
    }
}

/// What the current person may do with an opened portfolio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Change the marking of `Opened::phase`.
    Mark,
    /// Settle it (second marks are in): confirm or amend.
    Settle,
    /// Read only, and why.
    Read(String),
}

/// A portfolio opened to work on (the workbench's assessment and settlement screens): what the
/// person may see of it, which marking is theirs, and what they may do. The one home of the
/// rules that decide it (which phase, may they mark, what is blind to them).
#[derive(Debug, Clone)]
pub struct Opened {
    pub detail: Detail,
    pub rubric: Arc<Rubric>,
    /// The marking the person works on (or, read only, looks at as theirs).
    pub phase: Phase,
    pub sheet: Sheet,
    pub eval: crate::domain::decision::Evaluation,
    pub access: Access,
    pub stage: super::moderation::Stage,
    /// The first marking is hidden from this person (blind second marking).
    pub blind: bool,
}

/// A settled moderation: how, why, by whom, when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settlement {
    /// `confirm` or `amend`.
    pub action: String,
    /// Internal: never in a letter or a credential.
    pub rationale: Option<String>,
    pub by: String,
    pub at: String,
}

impl Settlement {
    pub fn amended(&self) -> bool {
        self.action == "amend"
    }
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
    pub settlement: Option<Settlement>,
    pub history: Vec<Record>,
}

impl Workspace {
    /// Opens a portfolio to work on: a moderator who may second-mark a drawn portfolio (and did
    /// not first-mark it) works on the second marking; everyone else on the first. What they
    /// may do follows from the rules of marking and settling, asked here, once.
    pub fn open_portfolio(&self, id: &str) -> Result<Opened> {
        let h = head(self.conn(), id)?;
        let rubric = self.rubric(h.rubric_pk)?;
        let detail = self.detail(id)?;
        let second_done = detail.second.decision.is_some();
        let stage = super::moderation::Stage::of(&h.status, second_done);
        let authored_first = h.first_marker.as_deref() == Some(self.user.as_str())
            || mark::authored_first(self.conn(), &h.id, &self.user)?.is_some();
        let moderating = matches!(
            Status::parse(&h.status),
            Some(Status::Sampled | Status::Moderated)
        ) && !authored_first;
        let phase = if moderating {
            Phase::Second
        } else {
            Phase::First
        };
        let sheet = if phase == Phase::Second {
            detail.second.clone()
        } else {
            detail.first.clone().unwrap_or_default()
        };
        let access = if phase == Phase::Second
            && stage == super::moderation::Stage::AwaitingSettlement
        {
            match super::people::require(
                self.conn(),
                &self.user,
                &[crate::domain::role::Role::Moderator],
                "settle moderation",
            ) {
                Ok(()) => Access::Settle,
                Err(e) => Access::Read(e.lines().join(" ")),
            }
        } else {
            match mark::check_may_mark(self.conn(), &self.user, &h, phase, sheet.marker.as_deref())
            {
                Ok(()) => Access::Mark,
                Err(e) => Access::Read(e.lines().join(" ")),
            }
        };
        let eval = crate::domain::decision::evaluate(&rubric, &sheet.to_marks());
        let blind = detail.first_hidden;
        Ok(Opened {
            detail,
            rubric,
            phase,
            sheet,
            eval,
            access,
            stage,
            blind,
        })
    }

    /// Whether blind rules hide the first marking of this portfolio — its marks, feedback,
    /// outcome, score, grade, and the reason it was drawn — from the current person. Under a
    /// blind rubric, a first marking is hidden from everyone but its first marker(s) and a
    /// registered lead (who answers for the process) while it may yet be second-marked: while
    /// it is being made, once submitted before any draw, and once drawn until second marks are
    /// submitted. Once a draw has passed it over, or its second marks are in, it is shown.
    fn hides_first(
        &self,
        rubric_pk: i64,
        status: &str,
        first_marker: Option<&str>,
        pk: i64,
    ) -> Result<bool> {
        let second_done =
            status == Status::Sampled && mark::decision(self.conn(), pk, Phase::Second)?.is_some();
        if !self.may_be_hidden(rubric_pk, status, first_marker, second_done)? {
            return Ok(false);
        }
        self.hidden_after_lookup(pk, status)
    }

    /// The first, cheap part of [`Workspace::hides_first`]: from the row alone.
    fn may_be_hidden(
        &self,
        rubric_pk: i64,
        status: &str,
        first_marker: Option<&str>,
        second_done: bool,
    ) -> Result<bool> {
        // (first marks in progress too: the workbench saves every key, so a moderator could
        // otherwise watch a first marking being made)
        let open = match Status::parse(status) {
            Some(Status::InProgress | Status::Submitted) => true,
            Some(Status::Sampled) => !second_done,
            _ => false,
        };
        if !open || first_marker == Some(self.user.as_str()) {
            return Ok(false);
        }
        if !self.rubric(rubric_pk)?.moderation.blind {
            return Ok(false);
        }
        Ok(!self.viewer_is_lead()?)
    }

    /// The rest of [`Workspace::hides_first`], for a row that may be hidden: a submitted
    /// decision a draw passed over is shown, and so is one the viewer marked first themselves
    /// (before a reassignment, say).
    fn hidden_after_lookup(&self, pk: i64, status: &str) -> Result<bool> {
        self.hidden_after_lookup_of(pk, None, status)
    }

    /// [`Workspace::hidden_after_lookup`] for a row whose id is known (one query fewer).
    fn hidden_after_lookup_of(&self, pk: i64, id: Option<&str>, status: &str) -> Result<bool> {
        if status == Status::Submitted {
            let passed_over: bool = self
                .conn()
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM draw_items WHERE portfolio_pk = ?1 AND drawn = 0)",
                )?
                .query_row([pk], |r| r.get(0))?;
            if passed_over {
                return Ok(false);
            }
        }
        let id: String = match id {
            Some(id) => id.to_string(),
            None => self
                .conn()
                .prepare_cached("SELECT id FROM portfolios WHERE pk = ?1")?
                .query_row([pk], |r| r.get(0))?,
        };
        Ok(mark::authored_first(self.conn(), &id, &self.user)?.is_none())
    }

    fn viewer_is_lead(&self) -> Result<bool> {
        if let Some(lead) = self.lead_cache.get() {
            return Ok(lead);
        }
        let lead = super::people::is_registered_lead(self.conn(), &self.user)?;
        self.lead_cache.set(Some(lead));
        Ok(lead)
    }

    pub fn list(&self, filter: &Filter) -> Result<Vec<Row>> {
        let rubric_id = match &filter.rubric {
            Some(r) => Some(match self.find_rubric(r)? {
                Some(pk) => self.rubric_id_version(pk)?.0,
                None => r.split('@').next().unwrap_or(r).to_string(),
            }),
            None => None,
        };
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                    p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second'),
                    {}
             FROM {} p JOIN rubrics r ON r.pk = p.rubric_pk
             WHERE (CAST(?1 AS TEXT) IS NULL OR p.status = CAST(?1 AS TEXT)) AND (CAST(?2 AS TEXT) IS NULL OR r.id = CAST(?2 AS TEXT))
             ORDER BY p.id",
            self.first_hidden_read(),
            self.portfolios_read()
        ))?;
        let rows = st.query_map(params![filter.status, rubric_id], row_of)?;
        let mut out: Vec<Row> = rows.collect::<crate::store::db::Result<_>>()?;
        for r in &mut out {
            self.hide_blind(r)?;
        }
        Ok(out)
    }

    /// Hides from this person what blind moderation keeps from them in a row: the outcome,
    /// grade and score.
    fn hide_blind(&self, r: &mut Row) -> Result<()> {
        // (on a server the row was read through the view that answers the rule: `row_of`
        // put its answer in `blind_hidden`)
        let answered = self.conn().is_pg().then_some(r.blind_hidden);
        r.blind_hidden = false;
        if self.may_be_hidden(
            r.rubric_pk,
            &r.status,
            r.first_marker.as_deref(),
            r.second_done,
        )? && match answered {
            Some(hidden) => hidden,
            None => self.hidden_after_lookup_of(r.pk, Some(&r.id), &r.status)?,
        } {
            r.outcome = None;
            r.grade = None;
            r.score = None;
            r.blind_hidden = true;
        }
        Ok(())
    }

    /// Counts of portfolios per status.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut st = self
            .conn()
            // (kept by triggers beside the portfolios: a million are not counted again)
            .prepare_cached("SELECT status, n FROM status_counts WHERE n > 0 ORDER BY status")?;
        let rows = st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
        let mut v: Vec<(String, i64)> = rows.collect::<crate::store::db::Result<_>>()?;
        v.sort_by_key(|(s, _)| Status::order_of(s));
        Ok(v)
    }

    pub fn detail(&self, id: &str) -> Result<Detail> {
        let h = head(self.conn(), id)?;
        let row = self
            .conn()
            .prepare_cached(&format!(
                "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                        p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second'),
                    {}
                 FROM {} p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.pk = ?1",
                self.first_hidden_read(),
                self.portfolios_read()
            ))?
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
                &format!(
                    "SELECT drawn, reason FROM {} WHERE portfolio_pk = ?1",
                    self.draw_items_read()
                ),
                [h.pk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let settlement = self
            .conn()
            .query_row(
                "SELECT action, rationale, by_user, at FROM settlements WHERE portfolio_pk = ?1",
                [h.pk],
                |r| {
                    Ok(Settlement {
                        action: r.get(0)?,
                        rationale: r.get(1)?,
                        by: r.get(2)?,
                        at: r.get(3)?,
                    })
                },
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
        hide_salt(&mut log);
        let hidden: std::collections::HashSet<String> = {
            let mut st = self.conn().prepare(
                "SELECT pk, id, rubric_pk, status, first_marker FROM portfolios WHERE (status = 'in_progress' OR status = 'submitted' OR status = 'sampled') AND (CAST(?1 AS TEXT) IS NULL OR id = CAST(?1 AS TEXT))",
            )?;
            let rows: Vec<(i64, String, i64, String, Option<String>)> = st
                .query_map([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect::<crate::store::db::Result<_>>()?;
            let mut set = std::collections::HashSet::new();
            for (pk, pid, rpk, status, fm) in rows {
                if self.hides_first(rpk, &status, fm.as_deref(), pk)? {
                    set.insert(pid);
                }
            }
            set
        };
        if !hidden.is_empty() {
            // The draws that took a hidden portfolio: their seed is withheld too.
            let draws: std::collections::HashSet<i64> = log
                .iter()
                .filter(|r| {
                    r.action == "sample" && r.portfolio.as_ref().is_some_and(|p| hidden.contains(p))
                })
                .filter_map(|r| r.after.as_ref()?.get("draw")?.as_i64())
                .collect();
            for r in log.iter_mut().filter(|r| r.action == "draw") {
                if let Some(serde_json::Value::Object(after)) = &mut r.after
                    && after
                        .get("pk")
                        .and_then(|v| v.as_i64())
                        .is_some_and(|pk| draws.contains(&pk))
                {
                    after.insert("seed".into(), WITHHELD.into());
                }
            }
            mask_blind(&mut log, |r| {
                r.portfolio.as_ref().is_some_and(|p| hidden.contains(p))
            });
        }
        Ok(log)
    }

    pub fn evidence(&self, pk: i64, revision: i64) -> Result<Vec<EvidenceItem>> {
        let mut links: HashMap<String, Vec<String>> = HashMap::new();
        {
            let mut st = self.conn().prepare_cached(
                "SELECT evidence_id, criterion FROM evidence_links WHERE portfolio_pk = ?1 ORDER BY evidence_id, criterion",
            )?;
            let rows = st.query_map([pk], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            for row in rows {
                let (e, c) = row?;
                links.entry(e).or_default().push(c);
            }
        }
        let mut st = self.conn().prepare_cached(
            "SELECT id, title, kind, file, url, date, hours, claims, note, blob_sha, size, is_text, group_title, text_sha, text_note
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
                group: r.get(12)?,
                linked: Vec::new(),
                text_sha: r.get(13)?,
                text_note: r.get(14)?,
            })
        })?;
        let rows = rows.map(|r| {
            r.map(|mut e| {
                if let Some(l) = links.remove(&e.id) {
                    e.linked = l;
                }
                e
            })
        });
        Ok(rows.collect::<crate::store::db::Result<_>>()?)
    }

    /// The stored bytes of a blob (evidence file or statement).
    pub fn blob(&self, sha: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT data FROM blobs WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?)
    }

    /// Whether the workspace holds no rubric and no portfolio (the workbench then offers the
    /// built-in samples).
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.conn().query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM rubrics) AND NOT EXISTS (SELECT 1 FROM portfolios)",
            (),
            |r| r.get(0),
        )?)
    }

    /// The bytes of a stored file, to read by range: a small one in memory, a large one read
    /// from the workspace as it is shown (never loaded whole). `None` when it is not stored.
    pub fn evidence_bytes(&self, sha: &str) -> Result<Option<Bytes>> {
        let size: Option<i64> = self
            .conn()
            .prepare_cached("SELECT length(data) FROM blobs WHERE sha256 = ?1")?
            .query_row([sha], |r| r.get(0))
            .optional()?;
        let Some(size) = size else { return Ok(None) };
        if size <= Bytes::IN_MEMORY as i64 {
            return Ok(self.blob(sha)?.map(|b| Bytes(Held::Memory(b.into()))));
        }
        match crate::store::blob::BlobReader::open(self.conn(), sha)? {
            Some(r) => Ok(Some(Bytes(Held::Stored(Arc::new(r))))),
            // (a workspace in memory has no file to read from: load it)
            None => Ok(self.blob(sha)?.map(|b| Bytes(Held::Memory(b.into())))),
        }
    }

    /// The first decision, unless blind rules hide it.
    pub fn first_decision(&self, id: &str) -> Result<Option<DecisionRec>> {
        let d = self.detail(id)?;
        Ok(d.first.and_then(|s| s.decision))
    }

    /// Fuzzy search over portfolio ids, learner ids and names, rubric ids and evidence titles.
    /// Best first; ties by id.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<(i64, Row)>> {
        // The texts are ranked as they stream from the database (on a second connection too,
        // for the other half), never all held in memory.
        let mut second = read_only_twin(self.conn());
        // (on a server, a second connection of the person's own)
        let mut other = match (&second, self.store.server.is_some()) {
            (None, true) => self.store.reconnect().ok(),
            _ => None,
        };
        let hits = rank_search(
            self.conn(),
            second.as_mut().or(other.as_mut().map(|o| &mut o.conn)),
            query,
            |pk| Some(pk as u64),
            limit,
            None,
        )?;
        let mut out = Vec::new();
        for (score, pk) in hits {
            out.push((score, self.row_by_pk(pk as i64)?));
        }
        Ok(out)
    }

    /// One portfolio's row, with what blind moderation hides from this person hidden.
    fn row_by_pk(&self, pk: i64) -> Result<Row> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                    p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                    EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second'),
                    {}
             FROM {} p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.pk = ?1",
            self.first_hidden_read(),
            self.portfolios_read()
        ))?;
        let mut row = st.query_row([pk], row_of)?;
        self.hide_blind(&mut row)?;
        Ok(row)
    }

    /// The documents (portfolio pk, evidence id) the word index says hold every word of
    /// `query` (each as a word or the start of one, accents and case aside), in portfolio
    /// order: a range of the index's key for each word, the longest word first (the fewest
    /// documents), then the others' documents kept.
    fn documents_with_words(&self, query: &str) -> Result<Vec<(i64, String)>> {
        let mut words: Vec<String> = crate::domain::extract::folded_words(query).collect();
        words.sort_unstable();
        words.dedup();
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut st = self.conn().prepare_cached(
            "SELECT DISTINCT portfolio_pk, evidence_id FROM document_words
              WHERE word >= ?1 AND word < ?2 ORDER BY portfolio_pk, evidence_id",
        )?;
        let mut docs: Option<Vec<(i64, String)>> = None;
        for w in &words {
            let found: Vec<(i64, String)> = st
                .query_map([w.clone(), format!("{w}\u{7f}")], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<crate::store::db::Result<_>>()?;
            docs = Some(match docs {
                None => found,
                Some(before) => {
                    let now: std::collections::HashSet<&(i64, String)> = found.iter().collect();
                    before.into_iter().filter(|d| now.contains(d)).collect()
                }
            });
            if docs.as_ref().is_some_and(Vec::is_empty) {
                break;
            }
        }
        Ok(docs.unwrap_or_default())
    }

    /// The row keys of the portfolios (at most `limit`) whose documents the word index says hold
    /// every word of `query`, for the workbench's filter: the index only (which `audit verify`
    /// rebuilds from the vouched texts), no text read, so that a key stays cheap.
    pub fn portfolios_with_words(&self, query: &str, limit: usize) -> Result<Vec<i64>> {
        let mut pks: Vec<i64> = self
            .documents_with_words(query)?
            .into_iter()
            .map(|(pk, _)| pk)
            .collect();
        pks.dedup();
        pks.truncate(limit);
        Ok(pks)
    }

    /// Portfolios whose documents' texts (PDF, DOCX, ODT) hold every word of `query`, in
    /// portfolio order: the row, the evidence and an excerpt with the words in `[…]`. The index
    /// proposes; the text the record vouches for (its blob) decides and is quoted.
    pub fn search_documents(&self, query: &str, limit: usize) -> Result<Vec<DocumentHit>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut text_of = self.conn().prepare_cached(
            "SELECT substr(b.data, 1, 65536) FROM portfolios p
               JOIN evidence e ON e.portfolio_pk = p.pk AND e.revision = p.revision
               JOIN blobs b ON b.sha256 = e.text_sha
              WHERE p.pk = ?1 AND e.id = ?2",
        )?;
        let mut out: Vec<DocumentHit> = Vec::new();
        for (pk, evidence) in self.documents_with_words(query)? {
            // (a portfolio once, with its first document that holds the words)
            if out.iter().any(|h| h.row.pk == pk) {
                continue;
            }
            if out.len() == limit {
                break;
            }
            let text: Option<Vec<u8>> = text_of
                .query_row(params![pk, evidence], |r| r.get(0))
                .optional()?;
            let Some(excerpt) = text.and_then(|t| {
                let t = crate::domain::extract::learners_words(&String::from_utf8_lossy(&t));
                crate::domain::extract::excerpt(&t, query)
            }) else {
                continue;
            };
            out.push(DocumentHit {
                row: self.row_by_pk(pk)?,
                evidence,
                excerpt: crate::domain::sanitize::sanitize_line(&excerpt),
            });
        }
        Ok(out)
    }
}

/// A portfolio found by the words of a document's text.
#[derive(Debug, Clone)]
pub struct DocumentHit {
    pub row: Row,
    /// The evidence whose text holds the words.
    pub evidence: String,
    /// The words in their place (`[…]` around them), on one line.
    pub excerpt: String,
}

/// The matches of one pass over texts, kept for a ranking of the best `limit` (best first,
/// ties to the lower key). Once `limit` are held (when few are wanted), a text sure to score
/// below the lowest of them is given up on early; while the keys come in rising order, so is
/// one that could only tie it (it would lose the tie to all of them).
struct Ranking<K> {
    limit: usize,
    /// The scores of the best `limit` so far (kept only when few are wanted).
    best: std::collections::BinaryHeap<std::cmp::Reverse<i64>>,
    rising: bool,
    last: Option<K>,
    hits: Vec<(i64, K)>,
}

impl<K: Ord + Copy> Ranking<K> {
    fn new(limit: usize) -> Ranking<K> {
        Ranking {
            limit,
            best: Default::default(),
            rising: true,
            last: None,
            hits: Vec::new(),
        }
    }

    /// The lowest score a text must reach to be kept.
    fn min(&self) -> i64 {
        match self.best.peek() {
            Some(std::cmp::Reverse(s)) if self.best.len() == self.limit => {
                if self.rising {
                    s.saturating_add(1)
                } else {
                    *s
                }
            }
            _ => i64::MIN,
        }
    }

    /// Scores `text`, whose tie-break key is `key`, keeping it when it matches.
    fn offer(&mut self, m: &mut fuzzy::Matcher, text: &str, key: K) {
        self.rising &= self.last.is_none_or(|l| key > l);
        self.last = Some(key);
        if let Some(score) = m.score_at_least(text, self.min()) {
            if self.limit <= 4096 {
                self.best.push(std::cmp::Reverse(score));
                if self.best.len() > self.limit {
                    self.best.pop();
                }
            }
            self.hits.push((score, key));
        }
    }
}

/// The best `limit` of the matches `all` (score, key), best first, ties to the lower key.
/// The best `limit` of (score, key) pairs: highest score first, ties by key.
pub fn best_first<K: Ord>(mut all: Vec<(i64, K)>, limit: usize) -> Vec<(i64, K)> {
    let order = |a: &(i64, K), b: &(i64, K)| b.0.cmp(&a.0).then(a.1.cmp(&b.1));
    if limit < all.len() {
        // Only the best `limit` need sorting.
        all.select_nth_unstable_by(limit, order);
        all.truncate(limit);
    }
    all.sort_unstable_by(order);
    all
}

/// Ranks `items` against `query` with the skim fuzzy matcher (`SkimMatcherV2`, ignoring case,
/// computed by [`fuzzy::Matcher`]) on all cores; returns (score, index)
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
    let query = crate::domain::search::fold_query(query);
    let query = query.as_str();
    let all: Vec<(i64, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(ci, part)| {
                let text = &text;
                s.spawn(move || {
                    let mut m = fuzzy::Matcher::new(query);
                    let mut ranking = Ranking::new(limit);
                    for (i, it) in part.iter().enumerate() {
                        ranking.offer(&mut m, text(it), ci * chunk + i);
                    }
                    ranking.hits
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    best_first(all, limit)
}

/// Runs `f` with `conn`'s page cache kept small, then gives the cache its size back: for a
/// pass that reads each page once, where a large cache would only cost memory.
fn with_small_cache<T>(
    conn: &crate::store::db::Connection,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    if conn.is_pg() {
        return f();
    }
    let cache: i64 = conn.query_row("PRAGMA cache_size", (), |r| r.get(0))?;
    conn.execute_batch("PRAGMA cache_size = -512")?;
    let result = f();
    conn.execute_batch(&format!("PRAGMA cache_size = {cache}"))?;
    result
}

/// A connection of its own to the workspace file at `path`, read only, waiting for writers as
/// the store does.
fn open_read_only(path: &std::path::Path) -> Option<crate::store::db::Connection> {
    // (a server workspace: a connection of the person's own, as the database lets them read)
    if let Some(uri) = super::server_uri(path) {
        return crate::store::Store::open_server(uri).ok().map(|s| s.conn);
    }
    let c = crate::store::db::Connection::open_with_flags(
        path,
        crate::store::db::OpenFlags::SQLITE_OPEN_READ_ONLY
            | crate::store::db::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    c.busy_timeout(crate::store::busy_timeout()).ok()?;
    Some(c)
}

/// A second connection to the workspace file of `conn`, read only, with a small page cache:
/// for reading half of a table on another core. `None` for a database in memory.
pub(crate) fn read_only_twin(
    conn: &crate::store::db::Connection,
) -> Option<crate::store::db::Connection> {
    let c = open_read_only(std::path::Path::new(conn.path().filter(|p| !p.is_empty())?))?;
    c.execute_batch("PRAGMA cache_size = -2048").ok()?;
    Some(c)
}

/// Two read-only connections of their own to a workspace (a file, or a server), for ranking its search texts
/// off the main thread (the workbench's filter worker): [`SearchTexts::rank`] streams the texts
/// on both, one half of the row keys each, on two cores, and never holds them all.
pub struct SearchTexts {
    db: std::path::PathBuf,
    first: crate::store::db::Connection,
    second: crate::store::db::Connection,
}

impl SearchTexts {
    /// Opens the workspace at `db` (a file, or a server) twice for reading; `None` when it
    /// cannot be opened.
    pub fn open(db: &std::path::Path) -> Option<SearchTexts> {
        Some(SearchTexts {
            db: db.to_path_buf(),
            first: open_read_only(db)?,
            second: open_read_only(db)?,
        })
    }

    /// The workspace file these connections read.
    pub fn db(&self) -> &std::path::Path {
        &self.db
    }

    /// Ranks the search texts against `query` as they stream: `pick` says which portfolios (by
    /// row key) take part and the tie-break key of each (lower first); returns (score, key) of
    /// the best `limit`, best first, as `assay search` ranks them.
    pub fn rank(
        &mut self,
        query: &str,
        pick: impl Fn(i64) -> Option<u64> + Sync,
        limit: usize,
    ) -> Result<Vec<(i64, u64)>> {
        rank_search(
            &self.first,
            Some(&mut self.second),
            query,
            pick,
            limit,
            None,
        )
    }

    /// The smallest and largest row key of the search texts (`None`: there are none).
    pub fn key_range(&self) -> Result<Option<(i64, i64)>> {
        Ok(crate::store::key_range(
            &self.first,
            "search",
            "portfolio_pk",
        )?)
    }

    /// [`SearchTexts::rank`] over the texts whose row key is in `from..=to` only: a part of a
    /// scan whose results are shown as they come.
    pub fn rank_in(
        &mut self,
        query: &str,
        pick: impl Fn(i64) -> Option<u64> + Sync,
        limit: usize,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, u64)>> {
        rank_search(
            &self.first,
            Some(&mut self.second),
            query,
            pick,
            limit,
            Some((from, to)),
        )
    }
}

/// Ranks the search texts (table `search`) against `query` as they stream from the database:
/// the first half of the row keys on `first`, the second half on `second` (when given) on
/// another thread, each text scored by [`fuzzy::Matcher`] (exactly as `SkimMatcherV2` ignoring
/// case) without being kept. `pick` says which portfolios take part, and the tie-break key of
/// each (lower first); returns (score, key) of the best `limit`, best first. The same ranking
/// as [`fuzzy_rank`] over the texts in memory, in a fraction of the memory.
pub(crate) fn rank_search(
    first: &crate::store::db::Connection,
    second: Option<&mut crate::store::db::Connection>,
    query: &str,
    pick: impl Fn(i64) -> Option<u64> + Sync,
    limit: usize,
    range: Option<(i64, i64)>,
) -> Result<Vec<(i64, u64)>> {
    let range = match range {
        Some(r) => Some(r),
        None => crate::store::key_range(first, "search", "portfolio_pk")?,
    };
    let Some((lo, hi)) = range else {
        return Ok(Vec::new());
    };
    let query = crate::domain::search::fold_query(query);
    let query = query.as_str();
    // On a server the texts that cannot match are left there: a match needs the query's
    // characters in order, ASCII case aside (see `fuzzy`), which is what `ILIKE '%q%u%e%'`
    // asks of the folded texts, so only those that may match are sent.
    let like = first.is_pg().then(|| {
        let mut p = String::with_capacity(query.len() * 2 + 1);
        p.push('%');
        for c in query.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
            p.push('%');
        }
        p
    });
    let scan =
        |conn: &crate::store::db::Connection, from: i64, to: i64| -> Result<Vec<(i64, u64)>> {
            let mut m = fuzzy::Matcher::new(query);
            let mut ranking = Ranking::new(limit);
            with_small_cache(conn, || -> Result<()> {
                let mut st = conn.prepare_cached(match like {
                    Some(_) => {
                        "SELECT portfolio_pk, text FROM search
                 WHERE portfolio_pk >= ?1 AND portfolio_pk <= ?2 AND (text COLLATE \"C\") ILIKE ?3
                 ORDER BY portfolio_pk"
                    }
                    None => {
                        "SELECT portfolio_pk, text FROM search
                 WHERE portfolio_pk >= ?1 AND portfolio_pk <= ?2 ORDER BY portfolio_pk"
                    }
                })?;
                let mut rows = match &like {
                    Some(p) => st.query(crate::store::db::params![from, to, p])?,
                    None => st.query([from, to])?,
                };
                while let Some(r) = rows.next()? {
                    let pk: i64 = r.get(0)?;
                    if let Some(key) = pick(pk) {
                        let text = r.get_ref(1)?.as_str()?;
                        ranking.offer(&mut m, text, key);
                    }
                }
                Ok(())
            })?;
            Ok(ranking.hits)
        };
    let all = match second {
        Some(other) if hi > lo => {
            let mid = lo + (hi - lo) / 2;
            let scan = &scan;
            let (a, b) = std::thread::scope(|s| {
                let b = s.spawn(move || scan(other, mid + 1, hi));
                (scan(first, lo, mid), b.join())
            });
            let mut a = a?;
            a.extend(b.map_err(|_| AppError::refused("searching failed"))??);
            a
        }
        _ => scan(first, lo, hi)?,
    };
    Ok(best_first(all, limit))
}

/// What blind rules withhold from the history: the first marking's records, and the reason a
/// portfolio was drawn (`always:not_yet`, … tells the first decision).
const WITHHELD: &str = "withheld until your second marks are submitted (blind)";

/// The workspace's salt keeps the hashed learner ids of its credentials unguessable: its record
/// is shown without it.
fn hide_salt(history: &mut [Record]) {
    for r in history.iter_mut().filter(|r| r.action == "workspace.init") {
        if let Some(serde_json::Value::Object(after)) = &mut r.after
            && after.contains_key("salt")
        {
            after.insert("salt".into(), "(kept in the workspace, not shown)".into());
        }
    }
}

fn mask_blind(history: &mut Vec<Record>, applies: impl Fn(&Record) -> bool) {
    history.retain(|r| !(applies(r) && r.entity.contains("/first")));
    for r in history.iter_mut() {
        if applies(r)
            && let Some(serde_json::Value::Object(after)) = &mut r.after
        {
            // the reason tells the first outcome, and the seed (with the rule) the reasons
            for key in ["reason", "seed"] {
                if after.contains_key(key) {
                    after.insert(key.into(), WITHHELD.into());
                }
            }
        }
    }
}

fn row_of(r: &crate::store::db::Row<'_>) -> crate::store::db::Result<Row> {
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
        // (a server's answer to the blind rule, from its view; none on the local file)
        blind_hidden: r.get::<_, Option<bool>>(16)?.unwrap_or(false),
    })
}

/// What the queue keeps of a portfolio, as [`Workspace::for_each_queue_key`] reads it.
pub struct QueueKeyRow<'a> {
    pub pk: i64,
    pub id: &'a str,
    pub status: &'a str,
    pub rubric_pk: i64,
    /// Allocated to the person or first-marked by them.
    pub mine: bool,
}

impl Workspace {
    /// Every portfolio as [`Workspace::list`] gives it (blind rules applied), in row-key order,
    /// handed to `f` one at a time (the same `Row`, refilled): the workbench's queue. With `only`,
    /// just that portfolio. Nothing is collected, so that a large workspace is listed quickly and
    /// in little memory.
    pub fn for_each_queue_row(&self, only: Option<&str>, f: impl FnMut(&Row)) -> Result<()> {
        match only {
            Some(id) => self.queue_rows("WHERE id = ?1", &[&id], false, f),
            None => self.queue_rows("ORDER BY pk", &[], true, f),
        }
    }

    /// The first `limit` rows of the workbench's queue, in its order — the person's own work
    /// (allocated to them or first-marked by them) first, then by what needs doing (in progress,
    /// new, then the workflow's order), then id — without reading the others: what the first
    /// screen shows while the whole queue is read. Each part is a range of an index in the
    /// queue's order (schema 14), so the cost follows the screen, not the workspace.
    pub fn first_queue_rows(&self, limit: usize, mut f: impl FnMut(&Row)) -> Result<()> {
        let pks = self.first_queue_pks(limit)?;
        let mut rows: HashMap<i64, Row> = HashMap::with_capacity(pks.len());
        self.queue_rows_by_pk(&pks, |r| {
            rows.insert(r.pk, r.clone());
        })?;
        for pk in pks {
            if let Some(r) = rows.get(&pk) {
                f(r);
            }
        }
        Ok(())
    }

    /// The row keys of [`Workspace::first_queue_rows`], in the queue's order.
    fn first_queue_pks(&self, limit: usize) -> Result<Vec<i64>> {
        let conn = self.conn();
        // (ids in byte order, as the whole queue is sorted, whatever the server's collation)
        let id = if conn.is_pg() {
            "id COLLATE \"C\""
        } else {
            "id"
        };
        // (only the statuses some portfolio has, from the kept counts: a status none has is not
        // looked for)
        let counted = self.counts()?;
        let mut statuses: Vec<&str> = Status::NAMES
            .iter()
            .copied()
            .filter(|s| counted.iter().any(|(c, n)| c == s && *n > 0))
            .collect();
        statuses.sort_by_key(|s| Status::work_order_of(s));
        let user = self.user.as_str();
        let mut out: Vec<i64> = Vec::with_capacity(limit);
        // (a statement of the form "… ORDER BY id LIMIT n" over one index range each; the
        // status is written into it — one of the workflow's names — so that the planner sees
        // which partial index holds it)
        let ids =
            |sql: &str, bind: &[&dyn crate::store::db::ToSql]| -> Result<Vec<(String, i64)>> {
                let mut st = conn.prepare_cached(sql)?;
                let rows = st.query_map(bind, |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<crate::store::db::Result<_>>()?)
            };
        // The person's own work, a status at a time: allocated to them, or first-marked by
        // them, merged by id (a portfolio can be both).
        let mine_any: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM portfolios WHERE assessor = ?1)
                 OR EXISTS (SELECT 1 FROM portfolios WHERE first_marker = ?1)",
            [user],
            |r| r.get(0),
        )?;
        if mine_any {
            for status in &statuses {
                let rest = limit.saturating_sub(out.len());
                if rest == 0 {
                    break;
                }
                let n = rest as i64;
                let mut both = Vec::new();
                for col in ["assessor", "first_marker"] {
                    both.extend(ids(
                        &format!(
                            "SELECT {id}, pk FROM portfolios WHERE {col} = ?1 AND status = '{status}' ORDER BY {id} LIMIT ?2"
                        ),
                        &[&user, &n],
                    )?);
                }
                both.sort();
                both.dedup();
                out.extend(both.into_iter().take(rest).map(|(_, pk)| pk));
            }
        }
        // The others', a status at a time in the order of what needs doing.
        for status in &statuses {
            let rest = limit.saturating_sub(out.len());
            if rest == 0 {
                break;
            }
            let found = ids(
                &format!(
                    "SELECT {id}, pk FROM portfolios
                      WHERE status = '{status}'
                        AND NOT (coalesce(assessor = ?1, 0 = 1) OR coalesce(first_marker = ?1, 0 = 1))
                      ORDER BY {id} LIMIT ?2"
                ),
                &[&user, &(rest as i64)],
            )?;
            out.extend(found.into_iter().map(|(_, pk)| pk));
        }
        Ok(out)
    }

    /// Like [`Workspace::for_each_queue_row`], for the portfolios whose row key is in
    /// `from..=to`: a part of the queue, for reading it on two connections at once.
    pub fn for_each_queue_row_in(&self, from: i64, to: i64, f: impl FnMut(&Row)) -> Result<()> {
        self.queue_rows(
            "WHERE pk >= ?1 AND pk <= ?2 ORDER BY pk",
            &[&from, &to],
            true,
            f,
        )
    }

    /// What the workbench keeps of every portfolio to order and filter its queue — row key, id,
    /// status, rubric, whether it is the person's own work — for those whose row key is in
    /// `from..=to` (all when `None`), in row-key order, handed to `f` without collecting. Nothing
    /// here is hidden by blind rules (outcomes are not read); the rows shown come from
    /// [`Workspace::queue_rows_by_pk`].
    pub fn for_each_queue_key(
        &self,
        range: Option<(i64, i64)>,
        mut f: impl FnMut(&QueueKeyRow<'_>),
    ) -> Result<()> {
        let conn = self.conn();
        let Some((lo, hi)) = range.or(self.portfolio_key_range()?) else {
            return Ok(());
        };
        // (a server sends a statement's rows whole: read in ranges of row keys, so that a
        // million are never in memory at once)
        let step = if conn.is_pg() { 50_000 } else { i64::MAX };
        with_small_cache(conn, || {
            let mut st = conn.prepare_cached(
                "SELECT pk, id, status, rubric_pk, coalesce(assessor = ?3, 0 = 1) OR coalesce(first_marker = ?3, 0 = 1)
                 FROM portfolios WHERE pk >= ?1 AND pk <= ?2 ORDER BY pk",
            )?;
            let mut from = lo;
            while from <= hi {
                let to = from.saturating_add(step - 1).min(hi);
                let mut rows = st.query(params![from, to, self.user])?;
                while let Some(r) = rows.next()? {
                    f(&QueueKeyRow {
                        pk: r.get(0)?,
                        id: r.get_ref(1)?.as_str()?,
                        status: r.get_ref(2)?.as_str()?,
                        rubric_pk: r.get(3)?,
                        mine: r.get(4)?,
                    });
                }
                if to == hi {
                    break;
                }
                from = to + 1;
            }
            Ok(())
        })
    }

    /// The row keys of every portfolio in the order of their ids (byte order), through the id
    /// index.
    pub fn portfolios_by_id(&self) -> Result<Vec<i64>> {
        let conn = self.conn();
        let sql = if conn.is_pg() {
            "SELECT pk FROM portfolios ORDER BY id COLLATE \"C\""
        } else {
            "SELECT pk FROM portfolios ORDER BY id"
        };
        let mut st = conn.prepare_cached(sql)?;
        let rows = st.query_map((), |r| r.get(0))?;
        Ok(rows.collect::<crate::store::db::Result<_>>()?)
    }

    /// The rubrics' labels as the queue shows them (`id`, `version`), by row key.
    pub fn rubric_labels(&self) -> Result<Vec<(i64, String, String)>> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT pk, id, version FROM rubrics ORDER BY pk")?;
        let rows = st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<crate::store::db::Result<_>>()?)
    }

    /// The queue rows (as [`Workspace::list`] gives them, blind rules applied) of the portfolios
    /// with these row keys, in no particular order: the rows a screen of the queue shows.
    pub fn queue_rows_by_pk(&self, pks: &[i64], mut f: impl FnMut(&Row)) -> Result<()> {
        // (a chunk at a time, in one statement of a fixed number of parameters — padded with the
        // last key — so that it is prepared and planned once)
        const CHUNK: usize = 64;
        let marks: Vec<String> = (1..=CHUNK).map(|i| format!("?{i}")).collect();
        let list = marks.join(", ");
        for chunk in pks.chunks(CHUNK) {
            let mut keys: Vec<i64> = chunk.to_vec();
            let last = keys[keys.len() - 1];
            keys.resize(CHUNK, last);
            let mut st = self.conn().prepare_cached(&format!(
                "SELECT p.pk, p.id, p.learner_id, p.learner_name, r.id, r.version, p.submitted, p.status, p.assessor,
                        p.outcome, p.grade, p.score, p.evidence_changed, p.rubric_pk, p.first_marker,
                        EXISTS (SELECT 1 FROM decisions d WHERE d.portfolio_pk = p.pk AND d.phase = 'second'),
                        {}
                 FROM {} p JOIN rubrics r ON r.pk = p.rubric_pk WHERE p.pk IN ({})",
                self.first_hidden_read(),
                self.portfolios_read(),
                list
            ))?;
            let rows: Vec<Row> = st
                .query_map(keys.as_slice(), row_of)?
                .collect::<crate::store::db::Result<_>>()?;
            for mut r in rows {
                self.hide_blind(&mut r)?;
                f(&r);
            }
        }
        Ok(())
    }

    fn queue_rows(
        &self,
        filter: &str,
        bind: &[&dyn crate::store::db::ToSql],
        full_pass: bool,
        mut f: impl FnMut(&Row),
    ) -> Result<()> {
        let conn = self.conn();
        let rubrics: std::collections::HashMap<i64, (String, String, bool)> = {
            let mut st = conn.prepare_cached("SELECT pk, id, version FROM rubrics")?;
            let rows: Vec<(i64, String, String)> = st
                .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<crate::store::db::Result<_>>()?;
            let mut m = std::collections::HashMap::new();
            for (pk, id, version) in rows {
                let blind = self.rubric(pk)?.moderation.blind;
                m.insert(pk, (id, version, blind));
            }
            m
        };
        // Portfolios whose second marks are submitted (few): one pass instead of a probe a row,
        // sorted for a binary search (no hashing a row).
        let mut second: Vec<i64> = conn
            .prepare_cached(if conn.is_pg() {
                "SELECT * FROM assay_second_decided()"
            } else {
                "SELECT portfolio_pk FROM decisions WHERE phase = 'second'"
            })?
            .query_map((), |r| r.get(0))?
            .collect::<crate::store::db::Result<_>>()?;
        second.sort_unstable();
        // A full pass reads each page once: a large page cache would only cost memory.
        if full_pass {
            with_small_cache(conn, || {
                self.queue_rows_with(filter, bind, second, rubrics, &mut f)
            })
        } else {
            self.queue_rows_with(filter, bind, second, rubrics, &mut f)
        }
    }

    fn queue_rows_with(
        &self,
        filter: &str,
        bind: &[&dyn crate::store::db::ToSql],
        second: Vec<i64>,
        rubrics: std::collections::HashMap<i64, (String, String, bool)>,
        f: &mut impl FnMut(&Row),
    ) -> Result<()> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT pk, id, learner_id, learner_name, submitted, status, assessor, outcome, grade,
                    score, evidence_changed, rubric_pk, first_marker, {} FROM {} {filter}",
            self.first_hidden_read(),
            self.portfolios_read()
        ))?;
        let mut rows = st.query(bind)?;
        let mut row = Row {
            id: String::new(),
            learner_id: String::new(),
            learner_name: String::new(),
            rubric: String::new(),
            rubric_version: String::new(),
            submitted: String::new(),
            status: String::new(),
            assessor: None,
            outcome: None,
            grade: None,
            score: None,
            evidence_changed: false,
            pk: 0,
            rubric_pk: 0,
            first_marker: None,
            blind_hidden: false,
            second_done: false,
        };
        fn text(
            to: &mut String,
            v: crate::store::db::ValueRef<'_>,
        ) -> crate::store::db::Result<()> {
            to.clear();
            to.push_str(v.as_str()?);
            Ok(())
        }
        fn opt(
            to: &mut Option<String>,
            v: crate::store::db::ValueRef<'_>,
        ) -> crate::store::db::Result<()> {
            match v.as_str_or_null()? {
                None => *to = None,
                Some(t) => match to {
                    Some(s) => {
                        s.clear();
                        s.push_str(t);
                    }
                    None => *to = Some(t.to_string()),
                },
            }
            Ok(())
        }
        let mut rubric: Option<(i64, bool)> = None;
        let lead = self.viewer_is_lead()?;
        while let Some(r) = rows.next()? {
            row.pk = r.get(0)?;
            text(&mut row.id, r.get_ref(1)?)?;
            text(&mut row.learner_id, r.get_ref(2)?)?;
            text(&mut row.learner_name, r.get_ref(3)?)?;
            text(&mut row.submitted, r.get_ref(4)?)?;
            text(&mut row.status, r.get_ref(5)?)?;
            opt(&mut row.assessor, r.get_ref(6)?)?;
            opt(&mut row.outcome, r.get_ref(7)?)?;
            opt(&mut row.grade, r.get_ref(8)?)?;
            row.score = r.get(9)?;
            row.evidence_changed = r.get(10)?;
            row.rubric_pk = r.get(11)?;
            opt(&mut row.first_marker, r.get_ref(12)?)?;
            // (a server's answer to the blind rule, from its view; none on the local file)
            let answered: Option<bool> = r.get(13)?;
            // (rows of one rubric usually follow each other: looked up when it changes)
            if rubric.is_none_or(|(pk, _)| pk != row.rubric_pk) {
                let (id, version, is_blind) = rubrics
                    .get(&row.rubric_pk)
                    .ok_or_else(|| super::AppError::no_rubric(row.rubric_pk))?;
                row.rubric.clone_from(id);
                row.rubric_version.clone_from(version);
                rubric = Some((row.rubric_pk, *is_blind));
            }
            let blind = rubric.is_some_and(|(_, b)| b);
            row.second_done = second.binary_search(&row.pk).is_ok();
            // As `hides_first`: the cheap part from the row, the rest looked up for the few
            // rows it leaves.
            // (a marking in progress has no outcome for a row to hide)
            row.blind_hidden = blind
                && (row.status == Status::Submitted
                    || (row.status == Status::Sampled && !row.second_done))
                && row.first_marker.as_deref() != Some(self.user.as_str())
                && !lead
                && match answered {
                    Some(hidden) => hidden,
                    None => self.hidden_after_lookup_of(row.pk, Some(&row.id), &row.status)?,
                };
            if row.blind_hidden {
                row.outcome = None;
                row.grade = None;
                row.score = None;
            }
            f(&row);
        }
        Ok(())
    }

    /// The smallest and largest row key of the portfolios, `None` for none. Row keys are given
    /// in order and never reused, so the range bounds the number of portfolios and splits them
    /// into parts to read on several cores ([`Workspace::for_each_queue_row_in`]).
    pub fn portfolio_key_range(&self) -> Result<Option<(i64, i64)>> {
        Ok(crate::store::key_range(self.conn(), "portfolios", "pk")?)
    }

    /// The text the fuzzy filter matches, of every portfolio, handed to `f` as (row key, text)
    /// in row-key order without collecting; the page cache is kept small meanwhile (the table is
    /// read once, through).
    pub fn for_each_search_text(&self, mut f: impl FnMut(i64, &str)) -> Result<()> {
        let conn = self.conn();
        with_small_cache(conn, || {
            let mut st =
                conn.prepare_cached("SELECT portfolio_pk, text FROM search ORDER BY portfolio_pk")?;
            let mut rows = st.query(())?;
            while let Some(r) = rows.next()? {
                let text = r.get_ref(1)?.as_str()?;
                f(r.get(0)?, text);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best `limit` as `rank_search` gives them (streamed on two connections, texts given
    /// up on below the best so far, ties to the earlier row), and as `fuzzy_rank` gives them
    /// over the texts in memory, are the best `limit` of scoring every text: many ties
    /// included.
    #[test]
    fn streamed_ranking_is_the_full_ranking_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let words = [
            "kovacevic",
            "kova",
            "ko",
            "vic",
            "anna",
            "szabo",
            "k",
            "zofia",
            "kitchen",
        ];
        let mut texts = Vec::new();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for pk in 1..=600i64 {
            let mut t = Vec::new();
            for _ in 0..(1 + pk % 5) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                t.push(words[(seed % words.len() as u64) as usize]);
            }
            texts.push((pk, t.join(" ")));
        }
        {
            let c = crate::store::db::Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE search (portfolio_pk INTEGER PRIMARY KEY, text TEXT NOT NULL)",
            )
            .unwrap();
            for (pk, t) in &texts {
                c.execute(
                    "INSERT INTO search VALUES (?1, ?2)",
                    crate::store::db::params![pk, t],
                )
                .unwrap();
            }
        }
        let first = crate::store::db::Connection::open(&path).unwrap();
        let mut second = crate::store::db::Connection::open(&path).unwrap();
        for q in ["kovacevic", "ko", "k", "zo", "vic anna", "nothing"] {
            let mut m = fuzzy::Matcher::new(q);
            let mut full: Vec<(i64, u64)> = texts
                .iter()
                .filter_map(|(pk, t)| m.score(t).map(|s| (s, *pk as u64)))
                .collect();
            full.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for limit in [1, 3, 10, 1000] {
                let got = rank_search(
                    &first,
                    Some(&mut second),
                    q,
                    |pk| Some(pk as u64),
                    limit,
                    None,
                )
                .unwrap();
                let want: Vec<(i64, u64)> = full.iter().take(limit).copied().collect();
                assert_eq!(got, want, "{q:?}, limit {limit}");
                // The same ranking over the texts in memory (ties to the earlier text).
                let in_memory: Vec<(i64, u64)> =
                    fuzzy_rank(q, &texts, |(_, t): &(i64, String)| t.as_str(), limit)
                        .into_iter()
                        .map(|(score, i)| (score, texts[i].0 as u64))
                        .collect();
                assert_eq!(in_memory, want, "in memory: {q:?}, limit {limit}");
            }
        }
    }
}
