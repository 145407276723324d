//! The audit chain as the front ends see it: its records (`assay history`), what `audit verify`
//! finds, where the chain stands, and which portfolios changed since a point of it (for the
//! workbench, which re-reads only those).

use std::path::Path;

use super::{AppError, Result, Workspace};
use crate::domain::sanitize::sanitize_line;
use crate::domain::sshsig;

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

/// One record as its author signed it (see [`Workspace::signed_record`]).
#[derive(Debug, Clone)]
pub struct SignedRecord {
    pub seq: i64,
    pub actor: String,
    /// The exact bytes hashed and signed: the record's JSON array.
    pub text: Vec<u8>,
    pub hash: String,
    /// The armored SSHSIG, when it was signed.
    pub sig: Option<String>,
    /// The key its author had registered when it was written.
    pub key: Option<ssh_key::PublicKey>,
}

impl Workspace {
    /// Record `seq` as its author signed it, for checking on its own (`ssh-keygen -Y verify`).
    /// The text is exact, never masked, so only a lead or the record's own author gets it.
    pub fn signed_record(&self, seq: i64) -> Result<SignedRecord> {
        use crate::store::db::OptionalExtension;
        type Row = (
            (String, String, String, String),
            (Option<String>, Option<String>, Option<String>),
            (String, String, Option<String>),
        );
        let row: Option<Row> = self
            .conn()
            .query_row(
                "SELECT at, actor, action, entity, portfolio, before, after, prev, hash, sig
                   FROM audit WHERE seq = ?1",
                [seq],
                |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?),
                        (r.get(4)?, r.get(5)?, r.get(6)?),
                        (r.get(7)?, r.get(8)?, r.get(9)?),
                    ))
                },
            )
            .optional()
            .map_err(|e| match e {
                // (assay writes every column of a record as text)
                crate::store::db::Error::Type { .. } => {
                    AppError::refused(format!(
                        "record {seq} was changed behind assay's back (a column of it is not text); `assay audit verify` names it"
                    ))
                }
                e => e.into(),
            })?;
        let Some(((at, actor, action, entity), (portfolio, before, after), (prev, hash, sig))) =
            row
        else {
            return Err(AppError::NotFound(format!(
                "the audit chain has no record {seq} (its newest is {})",
                self.audit_head()?
            )));
        };
        let lead =
            !self.anyone_registered()? || self.role()? == Some(crate::domain::role::Role::Lead);
        if !lead && (actor != self.user || action == "workspace.init") {
            return Err(AppError::Denied(format!(
                "record {seq} is by {}: only a lead or its author takes a record out whole",
                sanitize_line(&actor)
            )));
        }
        let mut text = Vec::new();
        crate::store::audit::hash_bytes(
            &mut text,
            seq,
            &at,
            &actor,
            &action,
            &entity,
            portfolio.as_deref(),
            before.as_deref(),
            after.as_deref(),
            &prev,
        );
        // The author's key then: the last registration before it that set or removed one.
        let mut key = None;
        let mut st = self.conn().prepare(
            "SELECT after FROM audit WHERE entity = ?1 AND seq < ?2
               AND action IN ('user.add', 'user.key') ORDER BY seq DESC",
        )?;
        let mut rows = st.query(crate::store::db::params![format!("user/{actor}"), seq])?;
        while let Some(r) = rows.next()? {
            let after: Option<String> = r.get(0)?;
            let v: serde_json::Value = after
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default();
            if let Some(k) = v.get("key") {
                key = k.as_str().and_then(|k| sshsig::parse_public_key(k).ok());
                break;
            }
        }
        Ok(SignedRecord {
            seq,
            actor,
            text,
            hash,
            sig,
            key,
        })
    }

    /// Writes record `seq` into the folder `out` (made if missing) for checking with
    /// `ssh-keygen -Y verify`: `record-SEQ.json` (its exact text: its SHA-256 is its hash),
    /// `record-SEQ.json.sig` (its signature) and `allowed_signers` (its author and key then).
    /// Returns the record and the name of its text file.
    pub fn write_signed_record(&self, seq: i64, out: &Path) -> Result<(SignedRecord, String)> {
        let r = self.signed_record(seq)?;
        let (Some(sig), Some(key)) = (&r.sig, &r.key) else {
            return Err(AppError::refused(format!(
                "record {seq} is not signed: its author, {}, had no registered key when it was written",
                sanitize_line(&r.actor)
            )));
        };
        super::files::check_output(out, "the record", false, true, &|p| {
            self.store.is_workspace_file(p)
        })?;
        std::fs::create_dir_all(out)?;
        let name = format!("record-{seq}.json");
        let signers = format!(
            "{} namespaces=\"{}\" {}\n",
            r.actor,
            sshsig::NAMESPACE,
            sshsig::key_line(key)
        );
        let files: [(String, &[u8]); 3] = [
            (name.clone(), &r.text),
            (format!("{name}.sig"), sig.as_bytes()),
            ("allowed_signers".to_string(), signers.as_bytes()),
        ];
        // (every file checked before any is written: a refusal leaves nothing half written)
        for (f, _) in &files {
            super::files::check_file_in_folder(&out.join(f), true)?;
        }
        for (f, bytes) in files {
            std::fs::write(out.join(f), bytes)?;
        }
        Ok((r, name))
    }

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
                ("user.add" | "user.key" | "rubric.import", None) => {}
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
        ws.add_user("ann", Role::Lead, None).unwrap();
        ws.add_user("bob", Role::Assessor, None).unwrap();
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
