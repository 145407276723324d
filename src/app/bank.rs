//! The comment bank: saved comments for a criterion's feedback — from the rubric file (per
//! criterion, and per level) and from the person's own feedback on that criterion in any
//! portfolio of the rubric, the most used first. The person's own comments are derived from
//! the marks they wrote (recorded and vouched for like every mark), so the bank adds no state of
//! its own: writing feedback is what saves a comment.

use rusqlite::params;

use super::mark::head;
use super::{Result, Workspace};

/// Where a saved comment comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The rubric's comments for this level (its label).
    Level(String),
    /// The rubric's comments for the criterion.
    Criterion,
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
}
