//! The audit chain as the front ends see it: its records (`assay history`), what `audit verify`
//! finds, where the chain stands, and which portfolios changed since a point of it (for the
//! workbench, which re-reads only those).

use super::{Result, Workspace};

/// One record of the chain, as [`Workspace::history`] gives it.
pub use crate::domain::audit::Record;
/// What [`Workspace::verify`] finds, and the stages it reports progress through.
pub use crate::domain::audit::{Problem, Stage, Verification};

/// Above this many portfolios changed since a point of the chain, [`Workspace::changed_since`]
/// says to read everything again rather than each of them.
pub const MAX_CHANGED: usize = 64;

/// The portfolios the chain records as changed since a point of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Their ids, each once, in the order of their first record since.
    pub portfolios: Vec<String>,
    /// The number of the last record read (the point itself when there is none since): the
    /// point to ask from next time.
    pub head: i64,
}

impl Workspace {
    /// The number of the chain's newest record (0 for none).
    pub fn audit_head(&self) -> Result<i64> {
        Ok(crate::store::audit::head(self.conn())?)
    }

    /// The portfolios changed since record `since` (every change to a portfolio appends a record
    /// naming it). `None` when what changed is more than a list of portfolios and everything
    /// should be read again: an import (`import`, `import.revision`), a record that names no
    /// portfolio (but for `user.add` and `rubric.import`, which change no portfolio), or more
    /// than [`MAX_CHANGED`] portfolios.
    pub fn changed_since(&self, since: i64) -> Result<Option<Changes>> {
        let mut portfolios: Vec<String> = Vec::new();
        let mut head = since;
        let mut st = self.conn().prepare_cached(
            "SELECT seq, action, portfolio FROM audit WHERE seq > ?1 ORDER BY seq",
        )?;
        let mut recs = st.query([since])?;
        while let Some(r) = recs.next()? {
            head = r.get(0)?;
            let action: String = r.get(1)?;
            match (action.as_str(), r.get::<_, Option<String>>(2)?) {
                ("import" | "import.revision", _) => return Ok(None),
                (_, Some(p)) => {
                    if !portfolios.contains(&p) {
                        portfolios.push(p);
                    }
                    if portfolios.len() > MAX_CHANGED {
                        return Ok(None);
                    }
                }
                ("user.add" | "rubric.import", None) => {}
                (_, None) => return Ok(None),
            }
        }
        Ok(Some(Changes { portfolios, head }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    /// What the workbench re-reads after a change: the portfolios it names, each once; everything
    /// after an import, a record naming no portfolio (but a person's registration), or too many.
    #[test]
    fn changed_since_names_the_changed_portfolios_or_asks_for_everything() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.db"), "ann".into()).unwrap();
        let start = ws.audit_head().unwrap();
        assert_eq!(start, 1, "the workspace's identity is the first record");
        crate::app::seed::seed(&mut ws).unwrap();
        assert_eq!(ws.changed_since(start).unwrap(), None, "an import");
        let head = ws.audit_head().unwrap();
        assert_eq!(
            ws.changed_since(head).unwrap(),
            Some(Changes {
                portfolios: vec![],
                head
            })
        );
        ws.add_user("ann", Role::Lead).unwrap();
        ws.add_user("bob", Role::Assessor).unwrap();
        let ids: Vec<String> = ws
            .list(&Default::default())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert!(ids.len() >= 3);
        ws.assign(&ids[..2], "bob").unwrap();
        ws.assign(&ids[..1], "ann").unwrap();
        let now = ws.audit_head().unwrap();
        assert_eq!(now, head + 5);
        assert_eq!(
            ws.changed_since(head).unwrap(),
            Some(Changes {
                portfolios: ids[..2].to_vec(),
                head: now
            })
        );
        // A record naming no portfolio (an export, say): everything.
        let append = |ws: &mut Workspace, action: &str, portfolio: Option<&str>| {
            let mut tx = ws.store.begin("ann").unwrap();
            tx.append(action, "test".into(), portfolio, None, None)
                .unwrap();
            tx.commit().unwrap();
        };
        append(&mut ws, "export", None);
        assert_eq!(ws.changed_since(now).unwrap(), None);
        let now = ws.audit_head().unwrap();
        // As many portfolios as may be re-read one by one, but no more.
        for i in 0..MAX_CHANGED {
            append(&mut ws, "assign", Some(&format!("P-{i}")));
        }
        append(&mut ws, "assign", Some("P-0"));
        let c = ws.changed_since(now).unwrap().unwrap();
        assert_eq!(c.portfolios.len(), MAX_CHANGED);
        assert_eq!(c.head, now + MAX_CHANGED as i64 + 1);
        append(&mut ws, "assign", Some("P-one-more"));
        assert_eq!(ws.changed_since(now).unwrap(), None);
    }
}
