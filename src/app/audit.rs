//! The audit chain as the front ends see it: its records (`assay history`), what `audit verify`
//! finds, where the chain stands, and which portfolios changed since a point of it (for the
//! workbench, which re-reads only those).

use super::{Result, Workspace};

/// One record of the chain, as [`Workspace::history`] gives it.
pub use crate::store::audit::Record;
/// What [`Workspace::verify`] finds, and the stages it reports progress through.
pub use crate::store::verify::{Problem, Stage, Verification};

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
