//! Signed credentials: the issuer keys a rubric's credentials are signed with, revocation
//! (`assay revoke`) and the status lists `assay issuer publish` writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::db::{OptionalExtension, params};
use serde_json::{Value, json};

use super::{AppError, Result, Workspace};
use crate::domain::credential::issuer::{IdKind, Issuer};
use crate::domain::credential::ld::Canonicalizer;
use crate::domain::credential::{jwt, proof, status};
use crate::domain::decision::Outcome;
use crate::domain::export::{ExportRecord, obv3};
use crate::domain::role::Role;
use crate::domain::rubric::Rubric;

/// The issuers that sign an export's credentials, by key name, and the JSON-LD processor.
pub struct Signer {
    pub ld: Arc<Canonicalizer>,
    issuers: HashMap<String, Arc<Issuer>>,
}

impl Signer {
    pub fn new() -> Signer {
        Signer {
            ld: Arc::new(Canonicalizer::new()),
            issuers: HashMap::new(),
        }
    }

    /// The issuer that signs `rubric`'s credentials: its key loaded, its id checked against
    /// the rubric's `credential.signing.issuer`.
    pub fn issuer_for(&mut self, rubric: &Rubric) -> Result<Arc<Issuer>> {
        let name = rubric.credential.key_name().to_string();
        if let Some(i) = self.issuers.get(&name) {
            check_issuer(rubric, i)?;
            return Ok(i.clone());
        }
        let (issuer, _) = super::issuer::load(&name)?;
        check_issuer(rubric, &issuer)?;
        let issuer = Arc::new(issuer);
        self.issuers.insert(name, issuer.clone());
        Ok(issuer)
    }
}

impl Default for Signer {
    fn default() -> Self {
        Self::new()
    }
}

fn check_issuer(rubric: &Rubric, issuer: &Issuer) -> Result<()> {
    if let Some(want) = rubric
        .credential
        .signing
        .as_ref()
        .and_then(|s| s.issuer.as_ref())
        && *want != issuer.id
    {
        return Err(AppError::refused(format!(
            "rubric {} says its credentials are issued by {want}, but its issuer key {} is {}'s: name the right key in credential.signing.key, or correct credential.signing.issuer",
            rubric.key(),
            rubric.credential.key_name(),
            issuer.id
        )));
    }
    Ok(())
}

/// The credential of `rec` as `issuer` signs it: its issuer's id, and its status entry.
pub fn prepare(issuer: &Issuer, rubric: &Rubric, rec: &ExportRecord) -> Value {
    let mut cred = obv3::credential(rubric, rec);
    cred["issuer"]["id"] = json!(issuer.id);
    if let Some(Value::Object(ach)) = cred.pointer_mut("/credentialSubject/achievement")
        && let Some(Value::Object(creator)) = ach.get_mut("creator")
    {
        creator.insert("id".into(), json!(issuer.id));
    }
    if let Some(base) = &issuer.status_base {
        let (url, bit) = status::place(base, &rec.workspace_id, rec.decision.id as u64);
        cred["credentialStatus"] = status::entry(&url, bit);
    }
    cred
}

/// Signs `cred` with a Data Integrity proof made at its `validFrom` (so that the same
/// credential signed again is the same file).
pub fn sign_data_integrity(ld: &Canonicalizer, issuer: &Issuer, cred: &Value) -> Result<Value> {
    let created = cred
        .get("validFrom")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00Z")
        .to_string();
    proof::sign_as_list(
        ld,
        cred,
        &issuer.ed25519,
        &issuer.ed25519_method(),
        &created,
    )
    .map_err(|e| AppError::refused(format!("cannot sign {}: {e}", cred["id"])))
}

/// The VC-JWT of `cred`.
pub fn sign_jwt(issuer: &Issuer, cred: &Value) -> Result<String> {
    may_sign_jwts(issuer)?;
    jwt::sign(cred, &issuer.p256, &issuer.p256_method()).map_err(AppError::refused)
}

/// Whether `issuer` can sign VC-JWTs (a did:key issuer cannot).
pub fn may_sign_jwts(issuer: &Issuer) -> Result<()> {
    if issuer.kind() == Ok(IdKind::DidKey) {
        return Err(AppError::refused(
            "a did:key issuer signs Data Integrity proofs only (--format obv3 --sign): its did:key is an Ed25519 key, and JWTs are signed with P-256; give the issuer an https or did:web id for JWTs",
        ));
    }
    Ok(())
}

/// What `revoke` did.
pub struct Revoked {
    pub credential: String,
    pub portfolio: String,
}

impl Workspace {
    /// Revokes the credential of a released, awarded decision: given by the credential's id
    /// (`urn:uuid:…`) or its portfolio's id. A lead's act, recorded.
    pub fn revoke(&mut self, what: &str, reason: &str) -> Result<Revoked> {
        self.require(&[Role::Lead], "revoke a credential")?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::refused(
                "say why the credential is revoked: --reason TEXT (kept in the audit record)",
            ));
        }
        let ws = self.meta("workspace_id")?.unwrap_or_default();
        let released: Vec<(i64, String, i64)> = self
            .conn()
            .prepare(
                "SELECT p.pk, p.id, d.pk FROM portfolios p JOIN decisions d ON d.portfolio_pk = p.pk AND d.phase = 'first'
                 WHERE p.status IN ('released', 'exported') ORDER BY p.pk",
            )?
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<crate::store::db::Result<_>>()?;
        let found = released
            .iter()
            .find(|(_, id, d)| id == what || obv3::credential_id_of(&ws, id, *d) == what);
        let Some((ppk, pid, dpk)) = found.cloned() else {
            return Err(AppError::NotFound(format!(
                "no released credential is {}: give the id of a released portfolio or of its credential (urn:uuid:…, as in the exported file)",
                crate::domain::sanitize::sanitize_line(what)
            )));
        };
        let (rec, _, _) = self.export_record(ppk)?;
        if rec.decision.outcome != Outcome::Awarded {
            return Err(AppError::refused(format!(
                "portfolio {pid} was not awarded: it has no credential to revoke"
            )));
        }
        let credential = obv3::credential_id(&rec);
        let earlier: Option<(String, String)> = self
            .conn()
            .query_row(
                "SELECT by_user, at FROM revocations WHERE decision_pk = ?1",
                [dpk],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((by, at)) = earlier {
            return Err(AppError::refused(format!(
                "the credential of portfolio {pid} was already revoked, by {by} at {at}"
            )));
        }
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        tx.execute(
            "INSERT INTO revocations (decision_pk, credential_id, reason, by_user, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![dpk, credential, reason, user, tx.at()],
        )?;
        tx.append(
            "credential.revoke",
            format!("credential/{dpk}"),
            Some(&pid),
            None,
            Some(json!({ "credential": credential, "reason": reason })),
        )?;
        tx.commit()?;
        Ok(Revoked {
            credential,
            portfolio: pid,
        })
    }

    /// The signed status list credentials of this workspace for `issuer`: as many lists as its
    /// decisions need, the revoked ones' bits set.
    pub fn status_lists(
        &self,
        issuer: &Issuer,
        ld: &Canonicalizer,
        now: &str,
    ) -> Result<Vec<(String, Value)>> {
        let Some(base) = &issuer.status_base else {
            return Ok(Vec::new());
        };
        let ws = self.meta("workspace_id")?.unwrap_or_default();
        let max: Option<i64> = self
            .conn()
            .query_row("SELECT max(pk) FROM decisions", (), |r| r.get(0))?;
        let revoked: Vec<i64> = self
            .conn()
            .prepare("SELECT decision_pk FROM revocations ORDER BY decision_pk")?
            .query_map((), |r| r.get(0))?
            .collect::<crate::store::db::Result<_>>()?;
        let lists = (max.unwrap_or(0).max(0) as u64) / status::LIST_BITS + 1;
        let mut out = Vec::new();
        for n in 0..lists {
            let (url, _) = status::place(base, &ws, n * status::LIST_BITS);
            let bits = revoked
                .iter()
                .map(|&d| d as u64)
                .filter(|d| d / status::LIST_BITS == n)
                .map(|d| d % status::LIST_BITS);
            let list = status::list_credential(&url, &issuer.id, now, status::encode(bits));
            let signed = proof::sign(ld, &list, &issuer.ed25519, &issuer.ed25519_method(), now)
                .map_err(|e| {
                    AppError::refused(format!("cannot sign the status list {url}: {e}"))
                })?;
            out.push((url, signed));
        }
        Ok(out)
    }
}

/// What `publish` wrote: each file and the URL it is to be served at.
pub struct Published {
    pub files: Vec<(PathBuf, String)>,
}

/// Writes the issuer's public documents (and, with a workspace, its status lists) into `out`.
pub fn publish(ws: Option<&Workspace>, issuer: &Issuer, out: &Path) -> Result<Published> {
    let ld = Canonicalizer::new();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut files: Vec<(PathBuf, String, Vec<u8>)> = Vec::new();
    let pretty = super::export::pretty;
    let kind = issuer.kind().map_err(AppError::refused)?;
    match kind {
        IdKind::Https => files.push((
            out.join("profile.json"),
            issuer.id.clone(),
            pretty(&issuer.profile()),
        )),
        IdKind::DidWeb => {
            let url =
                crate::domain::credential::issuer::did_web_url(&issuer.id).unwrap_or_default();
            files.push((out.join("did.json"), url, pretty(&issuer.did_document())));
        }
        IdKind::DidKey => files.push((
            out.join("did.json"),
            format!(
                "(nothing to serve: {} is resolved from the key itself)",
                issuer.id
            ),
            pretty(&issuer.did_document()),
        )),
    }
    if kind != IdKind::DidKey {
        let origin = match kind {
            IdKind::Https => issuer.id.clone(),
            _ => crate::domain::credential::issuer::did_web_url(&issuer.id).unwrap_or_default(),
        };
        let host = origin
            .strip_prefix("https://")
            .and_then(|r| r.split('/').next())
            .unwrap_or("");
        files.push((
            out.join(".well-known/jwks.json"),
            format!("https://{host}/.well-known/jwks.json"),
            pretty(&issuer.jwks()),
        ));
    }
    if let Some(ws) = ws {
        let wsid = ws.meta("workspace_id")?.unwrap_or_default();
        for (url, list) in ws.status_lists(issuer, &ld, &now)? {
            let name = url.rsplit('/').next().unwrap_or("1.json").to_string();
            files.push((
                out.join("status").join(&wsid).join(name),
                url,
                pretty(&list),
            ));
        }
    }
    for (path, _, bytes) in &files {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                AppError::refused(format!("cannot make the folder {}: {e}", dir.display()))
            })?;
        }
        super::export::write_atomic(path, |w| w.write_all(bytes))
            .map_err(|e| AppError::refused(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(Published {
        files: files.into_iter().map(|(p, u, _)| (p, u)).collect(),
    })
}
