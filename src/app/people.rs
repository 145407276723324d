//! People and their roles. While nobody is registered, anyone may act in any role (a one-person
//! workspace). Once someone is, only registered people act, in their roles; a lead may do all.

use crate::store::db::{Connection, OptionalExtension, params};
use serde_json::json;

use super::refusal::Refusal;
use super::{AppError, PortfolioRecord, Result, Workspace};
use crate::domain::rubric::valid_id;
use crate::domain::sanitize::sanitize_line;
use crate::domain::sshsig;
use crate::domain::status::Status;

/// At home in `domain`; re-exported here for callers that name it beside the people service.
pub use crate::domain::role::Role;

/// The columns of `portfolios` everyone registered reads on a server; the first decision's
/// outcome, grade and score come masked through the view `assay_portfolios` (pg_access.sql).
const UNMASKED_PORTFOLIO_COLUMNS: &str = "pk, id, rubric_pk, learner_id, learner_name, learner_email, submitted, revision, status, assessor, first_marker, evidence_changed, version, released_at, updated_at";

/// The registered role of `user`, if any.
pub(crate) fn role_of(conn: &Connection, user: &str) -> Result<Option<Role>> {
    let r: Option<String> = conn
        .prepare_cached("SELECT role FROM users WHERE name = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?;
    Ok(r.and_then(|s| Role::parse(&s)))
}

/// The SSH key `user` has registered, if any.
pub(crate) fn key_of(conn: &Connection, user: &str) -> Result<Option<ssh_key::PublicKey>> {
    let k: Option<String> = conn
        .prepare_cached("SELECT ssh_key FROM users WHERE name = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .flatten();
    k.map(|k| {
        sshsig::parse_public_key(&k).map_err(|why| {
            AppError::refused(format!(
                "the key registered for `{}` cannot be used ({why}); a lead can set another with `assay user key`",
                sanitize_line(user)
            ))
        })
    })
    .transpose()
}

pub(crate) fn anyone_registered(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM users)")?
        .query_row((), |r| r.get(0))?)
}

/// Whether `user` may act in `role` (open workspace, the role itself, or lead).
pub(crate) fn may(conn: &Connection, user: &str, role: Role) -> Result<bool> {
    // (one statement: on a server each is a round trip, inside the writers' lock)
    let (anyone, theirs): (bool, Option<String>) = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users), (SELECT role FROM users WHERE name = ?1)",
        )?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if !anyone {
        return Ok(true);
    }
    Ok(match theirs.as_deref().and_then(Role::parse) {
        None => false,
        Some(Role::Lead) => true,
        Some(r) => r == role,
    })
}

/// A registered lead (not merely anyone in an open workspace).
pub(crate) fn is_registered_lead(conn: &Connection, user: &str) -> Result<bool> {
    Ok(role_of(conn, user)? == Some(Role::Lead))
}

/// Refuses unless `user` may act in one of `roles`.
pub(crate) fn require(conn: &Connection, user: &str, roles: &[Role], doing: &str) -> Result<()> {
    for r in roles {
        if may(conn, user, *r)? {
            return Ok(());
        }
    }
    Err(Refusal::NotPermitted {
        who: user.to_string(),
        doing: doing.to_string(),
        needed: roles.to_vec(),
        registered_as: role_of(conn, user)?,
    }
    .into())
}

impl Workspace {
    pub fn role(&self) -> Result<Option<Role>> {
        role_of(self.conn(), &self.user)
    }

    pub fn anyone_registered(&self) -> Result<bool> {
        anyone_registered(self.conn())
    }

    pub fn require(&self, roles: &[Role], doing: &str) -> Result<()> {
        require(self.conn(), &self.user, roles, doing)
    }

    /// Registers a person (with the SSH key their records are to be signed with, if given).
    /// The first may be anyone; after that only a lead registers people.
    pub fn add_user(
        &mut self,
        name: &str,
        role: Role,
        key: Option<&ssh_key::PublicKey>,
    ) -> Result<()> {
        if !valid_id(name) {
            return Err(AppError::refused(format!(
                "`{}` is not a usable name: use letters, digits, `.`, `_` and `-` (at most 64)",
                sanitize_line(name)
            )));
        }
        if self.anyone_registered()? && self.role()? != Some(Role::Lead) {
            return Err(AppError::Denied(format!(
                "only a lead may register people; `{}` is not a lead",
                sanitize_line(&self.user)
            )));
        }
        self.check_key_unshared(name, key)?;
        let signer = self.own_key_signer(name, key)?;
        let line = key.map(sshsig::key_line);
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let before: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT role, ssh_key FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO users (name, role, added_by, added_at, ssh_key) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                 ssh_key = coalesce(excluded.ssh_key, users.ssh_key)",
            params![name, role.as_str(), user, tx.at(), line],
        )?;
        let before = before.map(|(r, k)| match (&line, k) {
            (Some(_), k) => json!({ "role": r, "key": k }),
            (None, _) => json!({ "role": r }),
        });
        let after = match &line {
            Some(k) => json!({ "role": role.as_str(), "key": k }),
            None => json!({ "role": role.as_str() }),
        };
        if tx.is_pg() {
            server_role(&tx, name, role)?;
        }
        tx.append(
            "user.add",
            format!("user/{name}"),
            None,
            before,
            Some(after),
        )?;
        tx.commit()?;
        if let Some(s) = signer {
            self.store.set_signer(name, s);
        }
        self.lead_cache.set(None);
        Ok(())
    }

    /// The signer for `key` when it is set for the person working (they prove it is theirs by
    /// signing with it, and sign with it from then on); `None` for anyone else's key.
    fn own_key_signer(
        &self,
        name: &str,
        key: Option<&ssh_key::PublicKey>,
    ) -> Result<Option<Box<dyn super::signing::RecordSigner>>> {
        match key {
            Some(k) if name == self.user => super::signing::signer_for(k).map(Some).map_err(|no| {
                Refusal::KeyNotHeld {
                    fingerprint: sshsig::fingerprint(k),
                    tried: no.tried,
                }
                .into()
            }),
            _ => Ok(None),
        }
    }

    /// Refuses `key` for `name` when someone else has it: whoever holds it could act as both.
    fn check_key_unshared(&self, name: &str, key: Option<&ssh_key::PublicKey>) -> Result<()> {
        let Some(line) = key.map(sshsig::key_line) else {
            return Ok(());
        };
        let other: Option<String> = self
            .conn()
            .query_row(
                "SELECT name FROM users WHERE ssh_key = ?1 AND name <> ?2 LIMIT 1",
                params![line, name],
                |r| r.get(0),
            )
            .optional()?;
        match other {
            Some(o) => Err(AppError::refused(format!(
                "that key is registered for `{}` already; one key is one person's (whoever holds it could act as both): give `{}` their own",
                sanitize_line(&o),
                sanitize_line(name)
            ))),
            None => Ok(()),
        }
    }

    /// Sets (or, with `None`, removes) the SSH key a person's records are signed with. A lead
    /// sets anyone's; anyone may set their own (holding it: see [`Workspace::own_key_signer`]).
    /// Recorded as `user.key`. Returns whether anything changed (the same key again records
    /// nothing).
    pub fn set_key(&mut self, name: &str, key: Option<&ssh_key::PublicKey>) -> Result<bool> {
        let unregistered = || {
            AppError::refused(format!(
                "`{}` is not registered; register them first (`assay user add {} --role … --key FILE`)",
                sanitize_line(name),
                sanitize_line(name)
            ))
        };
        if name != self.user && !self.anyone_registered()? {
            return Err(unregistered());
        }
        if name != self.user && self.role()? != Some(Role::Lead) {
            return Err(AppError::Denied(format!(
                "only a lead sets another person's key; `{}` is not a lead",
                sanitize_line(&self.user)
            )));
        }
        if role_of(self.conn(), name)?.is_none() {
            return Err(unregistered());
        }
        self.check_key_unshared(name, key)?;
        let line = key.map(sshsig::key_line);
        if key_of(self.conn(), name)
            .ok()
            .flatten()
            .map(|k| sshsig::key_line(&k))
            == line
        {
            // (nothing changes: nothing is recorded)
            return Ok(false);
        }
        let signer = self.own_key_signer(name, key)?;
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let before: Option<String> =
            tx.query_row("SELECT ssh_key FROM users WHERE name = ?1", [name], |r| {
                r.get(0)
            })?;
        tx.execute(
            "UPDATE users SET ssh_key = ?2 WHERE name = ?1",
            params![name, line],
        )?;
        tx.append(
            "user.key",
            format!("user/{name}"),
            None,
            Some(json!({ "key": before })),
            Some(json!({ "key": line })),
        )?;
        tx.commit()?;
        if let Some(s) = signer {
            self.store.set_signer(name, s);
        }
        Ok(true)
    }

    /// The SSH key registered for `name`, if any.
    pub fn key_of(&self, name: &str) -> Result<Option<ssh_key::PublicKey>> {
        key_of(self.conn(), name)
    }

    pub fn users(&self) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn()
            .prepare("SELECT name, role FROM users ORDER BY name")?;
        let rows = st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<crate::store::db::Result<_>>()?)
    }

    /// Allocates portfolios to an assessor, all or none. Refuses portfolios already submitted.
    pub fn assign(&mut self, ids: &[String], to: &str) -> Result<usize> {
        self.assign_all(&[(to.to_string(), ids.to_vec())])
    }

    /// Allocates each list of portfolios to its assessor, in one change: all or none.
    fn assign_all(&mut self, shares: &[(String, Vec<String>)]) -> Result<usize> {
        self.require(&[Role::Lead], "allocate portfolios")?;
        for (to, _) in shares {
            self.check_assignee(to)?;
        }
        let mut pks = Vec::new();
        for (to, ids) in shares {
            for id in ids {
                pks.push((self.portfolio_pk(id)?, id.clone(), to.clone()));
            }
        }
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        for (pk, id, to) in &pks {
            let (before, status): (Option<String>, String) = tx.query_row(
                "SELECT assessor, status FROM portfolios WHERE pk = ?1",
                [pk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if !matches!(
                Status::parse(&status),
                Some(Status::New | Status::InProgress)
            ) {
                return Err(Refusal::NotReallocated {
                    id: id.to_string(),
                    status,
                }
                .into());
            }
            // A reassigned portfolio whose first marking has begun passes to the new assessor,
            // who carries on with the marks saved so far.
            tx.execute(
                "UPDATE assessments SET marker = ?1 WHERE portfolio_pk = ?2 AND phase = 'first'",
                params![to, pk],
            )?;
            super::update_portfolio(
                &mut tx,
                *pk,
                "assessor = ?2, first_marker = CASE WHEN first_marker IS NULL THEN NULL ELSE ?2 END",
                params![to],
                PortfolioRecord {
                    action: "assign",
                    entity: format!("assign/{id}"),
                    portfolio: id,
                    before: Some(json!({ "assessor": before })),
                    after: Some(json!({ "assessor": to })),
                },
            )?;
            super::touch(&tx, *pk)?;
        }
        tx.commit()?;
        Ok(pks.len())
    }

    /// Shares the unallocated, unstarted portfolios of a rubric out evenly among assessors, in
    /// one change.
    pub fn assign_among(&mut self, rubric: &str, among: &[String]) -> Result<Vec<(String, usize)>> {
        self.require(&[Role::Lead], "allocate portfolios")?;
        if among.is_empty() {
            return Err(AppError::Refusal(Refusal::NoAssessorsNamed));
        }
        for a in among {
            self.check_assignee(a)?;
        }
        let rid = self.require_rubric(rubric)?;
        let (rid_text, _) = self.rubric_id_version(rid)?;
        let ids: Vec<String> = {
            let mut st = self.conn().prepare(
                "SELECT p.id FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
                 WHERE r.id = ?1 AND p.assessor IS NULL AND (p.status = 'new' OR p.status = 'in_progress') AND p.first_marker IS NULL
                 ORDER BY p.id",
            )?;
            st.query_map([&rid_text], |r| r.get(0))?
                .collect::<crate::store::db::Result<_>>()?
        };
        let mut shares: Vec<(String, Vec<String>)> =
            among.iter().map(|a| (a.clone(), Vec::new())).collect();
        let n = shares.len();
        for (i, id) in ids.into_iter().enumerate() {
            shares[i % n].1.push(id);
        }
        self.assign_all(&shares)?;
        Ok(shares.into_iter().map(|(who, l)| (who, l.len())).collect())
    }

    fn check_assignee(&self, to: &str) -> Result<()> {
        if self.anyone_registered()? {
            let role: Option<String> = self
                .conn()
                .query_row("SELECT role FROM users WHERE name = ?1", [to], |r| r.get(0))
                .optional()?;
            match role.as_deref() {
                Some(r) if matches!(Role::parse(r), Some(Role::Assessor | Role::Lead)) => {}
                Some(r) => {
                    return Err(AppError::refused(format!(
                        "`{}` is registered as {r}; portfolios are allocated to assessors",
                        sanitize_line(to)
                    )));
                }
                None => {
                    return Err(AppError::Refusal(Refusal::AssigneeNotRegistered {
                        who: to.to_string(),
                    }));
                }
            }
        } else if !valid_id(to) {
            return Err(AppError::refused(format!(
                "`{}` is not a usable name",
                sanitize_line(to)
            )));
        }
        Ok(())
    }

    pub fn rubric_id_version(&self, pk: i64) -> Result<(String, String)> {
        Ok(self
            .conn()
            .prepare_cached("SELECT id, version FROM rubrics WHERE pk = ?1")?
            .query_row([pk], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
}

/// On a server: makes (or maps) the login role `name` and grants it what a person of `role`
/// needs, in the registration's transaction. Everyone reads what row-level security lets them
/// and writes the working tables (each row of marking their own); the audit chain only through
/// `assay_append`; people and settings are a lead's, but for a person's own key. A lead gets
/// everything, with the right to grant it on.
fn server_role(tx: &crate::store::Tx<'_>, name: &str, role: Role) -> Result<()> {
    if name.len() > 63 {
        return Err(AppError::refused(format!(
            "`{}` is longer than a PostgreSQL role name may be (63 bytes)",
            sanitize_line(name)
        )));
    }
    // (names are letters, digits, `.`, `_` and `-`: quoted, they are exact)
    let who = format!("\"{name}\"");
    let exists = || -> Result<bool> {
        Ok(tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?1)",
            [name],
            |r| r.get(0),
        )?)
    };
    if !exists()? {
        // (roles belong to the whole cluster: another database's registration may make the
        // same one meanwhile, which is as good; the savepoint keeps the transaction usable)
        tx.execute_batch("SAVEPOINT assay_role")?;
        if let Err(e) = tx.execute_batch(&format!("CREATE ROLE {who} LOGIN")) {
            tx.execute_batch("ROLLBACK TO SAVEPOINT assay_role")?;
            if !exists()? {
                return Err(AppError::refused(format!(
                    "cannot make the database login `{name}`: {e}; a lead needs PostgreSQL's CREATEROLE to register people, or the database's administrator makes the role first (CREATE ROLE \"{name}\" LOGIN) and the lead maps it"
                )));
            }
        }
        tx.execute_batch("RELEASE SAVEPOINT assay_role")?;
    }
    let schema: String = tx.query_row("SELECT CAST(current_schema() AS TEXT)", (), |r| r.get(0))?;
    let schema = format!("\"{}\"", schema.replace('"', "\"\""));
    let owner: bool = tx.query_row(
        "SELECT session_user = ?1 OR EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit' AND tableowner = ?1)",
        [name],
        |r| r.get(0),
    )?;
    if owner {
        return Ok(());
    }
    let option = if role == Role::Lead {
        " WITH GRANT OPTION"
    } else {
        ""
    };
    let mut sql = format!(
        "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who};
         REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {who};
         GRANT USAGE ON SCHEMA {schema} TO {who}{option};
         GRANT EXECUTE ON FUNCTION assay_append(bigint, text, text, text, text, text, text, text, text, text, text) TO {who}{option};
         GRANT EXECUTE ON FUNCTION assay_draw_candidates(text) TO {who}{option};
         GRANT EXECUTE ON FUNCTION assay_second_decided() TO {who}{option};"
    );
    if role == Role::Lead {
        sql.push_str(&format!(
            "GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {who} WITH GRANT OPTION;
             GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO {who} WITH GRANT OPTION;
             REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit FROM {who};"
        ));
    } else {
        sql.push_str(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {who};
             REVOKE SELECT ON portfolios, draw_items FROM {who};
             GRANT SELECT ({}) ON portfolios TO {who};
             GRANT SELECT (draw_pk, portfolio_pk, drawn) ON draw_items TO {who};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who};
             GRANT INSERT, UPDATE, DELETE ON portfolios, marks, gates, assessments, decisions,
                 draws, draw_items, settlements, export_batches, export_items, search,
                 evidence_links, saved_comments, ui_state, revocations TO {who};
             GRANT UPDATE (ssh_key) ON users TO {who};",
            UNMASKED_PORTFOLIO_COLUMNS
        ));
    }
    tx.execute_batch(&sql).map_err(|e| {
        AppError::refused(format!(
            "cannot grant `{name}` what a {} needs: {e}",
            role.as_str()
        ))
    })?;
    Ok(())
}
