//! The assessor's links between evidence and criteria: claims the learner did not make (a
//! LEAP2A export makes none; a native portfolio may have missed one). Whoever may mark the
//! portfolio now links and unlinks, and each link is recorded like every change. Links are
//! shown beside the learner's claims, never mixed with them.

use crate::store::db::params;
use serde_json::json;

use super::mark::{check_may_mark, check_version, head, marker_of};
use super::query::Access;
use super::{AppError, Result, Workspace};
use crate::domain::sanitize::sanitize_line;

impl Workspace {
    /// Links evidence `evidence` of portfolio `id` to `criterion` (or, `on` false, removes the
    /// link), for the marking the person works on; `expected` is the portfolio version they
    /// saw. Returns whether anything changed, and the portfolio's version after it.
    pub fn link(
        &mut self,
        id: &str,
        evidence: &str,
        criterion: &str,
        on: bool,
        expected: Option<i64>,
    ) -> Result<(bool, i64)> {
        let opened = self.open_portfolio(id)?;
        if let Access::Read(why) = &opened.access {
            return Err(AppError::Denied(why.clone()));
        }
        let criteria: Vec<&str> = opened
            .rubric
            .criteria
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        if !criteria.contains(&criterion) {
            return Err(AppError::refused(format!(
                "rubric {} has no criterion `{}`; its criteria are {}",
                opened.rubric.key(),
                sanitize_line(criterion),
                criteria.join(", ")
            )));
        }
        let ev = &opened.detail.evidence;
        if !ev.iter().any(|e| e.id == evidence) {
            let ids: Vec<&str> = ev.iter().map(|e| e.id.as_str()).collect();
            return Err(AppError::refused(format!(
                "portfolio {id} has no evidence `{}`; its evidence is {}",
                sanitize_line(evidence),
                ids.join(", ")
            )));
        }
        let phase = opened.phase;
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let h = head(&tx, id)?;
        let marker = marker_of(&tx, h.pk, phase)?;
        check_may_mark(&tx, &user, &h, phase, marker.as_deref())?;
        check_version(&tx, &h, expected)?;
        let linked: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM evidence_links WHERE portfolio_pk = ?1 AND evidence_id = ?2 AND criterion = ?3)",
            params![h.pk, evidence, criterion],
            |r| r.get(0),
        )?;
        if linked == on {
            return Ok((false, h.version));
        }
        if on {
            tx.execute(
                "INSERT INTO evidence_links (portfolio_pk, evidence_id, criterion, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![h.pk, evidence, criterion, user, tx.at()],
            )?;
        } else {
            tx.execute(
                "DELETE FROM evidence_links WHERE portfolio_pk = ?1 AND evidence_id = ?2 AND criterion = ?3",
                params![h.pk, evidence, criterion],
            )?;
        }
        let mark = json!({ "linked": true });
        tx.append(
            "link",
            format!("link/{id}/{evidence}/{criterion}"),
            Some(id),
            (!on).then(|| mark.clone()),
            on.then_some(mark),
        )?;
        let version = super::touch(&tx, h.pk)?;
        tx.commit()?;
        Ok((true, version))
    }
}
