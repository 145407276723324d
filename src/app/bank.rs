//! The comment bank: saved comments for a criterion's feedback — from the rubric file (per
//! criterion, and per level), the comments the person saved ("save this as a comment": kept in
//! `saved_comments`, recorded as `bank.save` / `bank.remove`), and the person's own feedback on
//! that criterion in any portfolio of the rubric, the most used first (derived from the marks
//! they wrote, recorded and vouched for like every mark).

use crate::store::db::params;

use super::mark::head;
use super::{Result, Workspace};

/// Where a saved comment comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The rubric's comments for this level (its label).
    Level(String),
    /// The rubric's comments for the criterion.
    Criterion,
    /// A comment the person saved.
    Saved,
    /// The person's own feedback, used this many times.
    Mine(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub source: Source,
}

/// The most of one's own comments offered.
const MINE: usize = 50;

impl Workspace {
    /// The saved comments for `criterion` of portfolio `id`'s rubric: the rubric's for `level`
    /// (when one is chosen) and for the criterion, then the current person's own feedback on
    /// that criterion in the rubric's portfolios, the most used first. Nobody else's feedback
    /// is offered (under blind rules, a moderator must not see the first marker's words).
    pub fn comment_bank(
        &self,
        id: &str,
        criterion: &str,
        level: Option<&str>,
    ) -> Result<Vec<Comment>> {
        let h = head(self.conn(), id)?;
        let rubric = self.rubric(h.rubric_pk)?;
        let mut out: Vec<Comment> = Vec::new();
        let push = |out: &mut Vec<Comment>, text: &str, source: Source| {
            if !out.iter().any(|c| c.text == text) {
                out.push(Comment {
                    text: text.to_string(),
                    source,
                });
            }
        };
        if let Some(c) = rubric.criterion(criterion) {
            if let Some((_, l)) = level.and_then(|l| c.level(l)) {
                for t in &l.comments {
                    push(&mut out, t, Source::Level(l.label.clone()));
                }
            }
            for t in &c.comments {
                push(&mut out, t, Source::Criterion);
            }
        }
        {
            let mut st = self.conn().prepare_cached(
                "SELECT text FROM saved_comments WHERE owner = ?1 AND rubric_pk = ?2 AND criterion = ?3
                 ORDER BY at DESC, text",
            )?;
            let rows = st.query_map(params![self.user, h.rubric_pk, criterion], |r| {
                r.get::<_, String>(0)
            })?;
            for r in rows {
                push(&mut out, &r?, Source::Saved);
            }
        }
        let mut st = self.conn().prepare_cached(
            "SELECT m.feedback, count(*) AS n, max(m.at) AS last
               FROM marks m JOIN portfolios p ON p.pk = m.portfolio_pk
              WHERE p.rubric_pk = ?1 AND m.criterion = ?2 AND m.by_user = ?3
                AND m.feedback IS NOT NULL AND trim(m.feedback) <> ''
              GROUP BY m.feedback
              ORDER BY n DESC, last DESC
              LIMIT ?4",
        )?;
        let rows = st.query_map(
            params![h.rubric_pk, criterion, self.user, MINE as i64],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        for r in rows {
            let (text, n) = r?;
            let text = text.trim().to_string();
            push(
                &mut out,
                &text,
                Source::Mine(usize::try_from(n).unwrap_or(0)),
            );
        }
        Ok(out)
    }

    /// Saves `text` as a comment of the person's bank for `criterion` of portfolio `id`'s
    /// rubric (`on` false: takes it out). Returns whether anything changed.
    pub fn save_comment(
        &mut self,
        id: &str,
        criterion: &str,
        text: &str,
        on: bool,
    ) -> Result<bool> {
        let text = text.trim();
        if text.is_empty() {
            return Err(super::AppError::refused(
                "there is no feedback to save as a comment: write some first",
            ));
        }
        let h = head(self.conn(), id)?;
        let rubric = self.rubric(h.rubric_pk)?;
        if rubric.criterion(criterion).is_none() {
            return Err(super::AppError::refused(format!(
                "rubric {} has no criterion `{}`",
                rubric.key(),
                crate::domain::sanitize::sanitize_line(criterion)
            )));
        }
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let saved: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM saved_comments WHERE owner = ?1 AND rubric_pk = ?2 AND criterion = ?3 AND text = ?4)",
            params![user, h.rubric_pk, criterion, text],
            |r| r.get(0),
        )?;
        if saved == on {
            return Ok(false);
        }
        let value = serde_json::json!({ "text": text });
        if on {
            tx.execute(
                "INSERT INTO saved_comments (owner, rubric_pk, criterion, text, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user, h.rubric_pk, criterion, text, tx.at()],
            )?;
        } else {
            tx.execute(
                "DELETE FROM saved_comments WHERE owner = ?1 AND rubric_pk = ?2 AND criterion = ?3 AND text = ?4",
                params![user, h.rubric_pk, criterion, text],
            )?;
        }
        tx.append(
            if on { "bank.save" } else { "bank.remove" },
            format!("comment/{}/{criterion}", h.rubric_pk),
            None,
            (!on).then(|| value.clone()),
            Some(value),
        )?;
        tx.commit()?;
        Ok(true)
    }
}
