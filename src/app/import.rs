//! `assay import`: rubric files, rubric folders, portfolio folders and folders of them.
//!
//! Each portfolio is validated completely (manifest, claims against its rubric, paths, symbolic
//! links, files) before anything is written, then written in its own savepoint: imported whole or
//! not at all. Evidence is copied into the database, content-addressed by SHA-256. Reading,
//! hashing and validating run on all cores; writing runs on one, in large transactions.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{AppError, Result, Workspace, now};
use crate::domain::portfolio::{self, Manifest};
use crate::domain::rubric::{self, Rubric, sha256_hex};
use crate::domain::sanitize::sanitize_line;
use crate::domain::search;
use crate::store::audit;

/// Largest evidence file accepted.
pub const MAX_EVIDENCE_BYTES: u64 = 100 * 1024 * 1024;
/// Portfolios written per transaction.
const BATCH: usize = 500;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rubrics: usize,
    pub rubrics_new: usize,
    pub new: usize,
    pub revised: usize,
    pub unchanged: usize,
    /// One entry per rejected item: its lines of explanation.
    pub rejected: Vec<Vec<String>>,
    /// Portfolios whose assessment had begun and whose evidence changed.
    pub flagged: Vec<String>,
}

impl Summary {
    pub fn portfolios(&self) -> usize {
        self.new + self.revised + self.unchanged
    }
    /// The one line the spec gives.
    pub fn line(&self) -> String {
        format!(
            "imported: {} rubrics, {} portfolios ({} new, {} revised, {} unchanged), {} rejected",
            self.rubrics,
            self.portfolios(),
            self.new,
            self.revised,
            self.unchanged,
            self.rejected.len()
        )
    }
}

/// What the given paths hold.
#[derive(Debug, Default)]
struct Found {
    rubrics: Vec<PathBuf>,
    portfolios: Vec<PathBuf>,
    problems: Vec<Vec<String>>,
}

fn is_yaml(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

fn walk(p: &Path, depth: usize, found: &mut Found) {
    let meta = match std::fs::symlink_metadata(p) {
        Ok(m) => m,
        Err(e) => {
            found.problems.push(vec![format!("{}: {e}", p.display())]);
            return;
        }
    };
    if meta.is_file() || (meta.file_type().is_symlink() && depth == 0 && p.is_file()) {
        if p.file_name().and_then(|n| n.to_str()) == Some("portfolio.yaml") {
            if let Some(parent) = p.parent() {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                found.portfolios.push(parent.to_path_buf());
            }
        } else if is_yaml(p) {
            found.rubrics.push(p.to_path_buf());
        } else if depth == 0 {
            found.problems.push(vec![format!(
                "{}: not a rubric file (.yaml) nor a folder",
                p.display()
            )]);
        }
        return;
    }
    if !(meta.is_dir() || (depth == 0 && p.is_dir())) {
        return; // symbolic links inside folders are not followed
    }
    if p.join("portfolio.yaml").is_file() {
        found.portfolios.push(p.to_path_buf());
        return;
    }
    if depth >= 4 {
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(p) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            found.problems.push(vec![format!("{}: {e}", p.display())]);
            return;
        }
    };
    entries.sort();
    for e in entries {
        let name = e.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        walk(&e, depth + 1, found);
    }
}

/// A rubric the workspace holds, for resolving manifests.
#[derive(Clone)]
struct KnownRubric {
    pk: i64,
    version: String,
    rubric: Arc<Rubric>,
}

/// One evidence file or statement, read and hashed.
struct FileData {
    sha: String,
    size: u64,
    is_text: bool,
    data: Vec<u8>,
}

/// A portfolio folder that passed every check, ready to write.
struct Prepared {
    dir: PathBuf,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
    rubric_pk: i64,
    rubric_key: String,
    statement: Option<FileData>,
    files: Vec<Option<FileData>>,
    content_sha: String,
}

fn is_text_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".md", ".txt", ".csv", ".json", ".yaml", ".yml", ".markdown"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Reads `rel` inside `root`, refusing anything that leaves the folder (also through symbolic
/// links), is missing, is not a regular file, or is too large.
fn read_inside(root_canon: &Path, dir: &Path, rel: &str) -> std::result::Result<FileData, String> {
    let full = dir.join(rel);
    let canon = std::fs::canonicalize(&full).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "file `{}` does not exist in the portfolio folder; add it or correct the path",
            sanitize_line(rel)
        ),
        _ => format!("file `{}` cannot be read: {e}", sanitize_line(rel)),
    })?;
    if !canon.starts_with(root_canon) {
        return Err(format!(
            "file `{}` is a symbolic link (or passes through one) that points out of the portfolio folder; copy the file into the folder instead",
            sanitize_line(rel)
        ));
    }
    let meta = std::fs::metadata(&canon).map_err(|e| format!("`{}`: {e}", sanitize_line(rel)))?;
    if !meta.is_file() {
        return Err(format!("`{}` is not a regular file", sanitize_line(rel)));
    }
    if meta.len() > MAX_EVIDENCE_BYTES {
        return Err(format!(
            "file `{}` is {} bytes; evidence files are limited to {} MiB",
            sanitize_line(rel),
            meta.len(),
            MAX_EVIDENCE_BYTES / (1024 * 1024)
        ));
    }
    let data = std::fs::read(&canon).map_err(|e| format!("`{}`: {e}", sanitize_line(rel)))?;
    let is_text = is_text_name(rel) && std::str::from_utf8(&data).is_ok();
    Ok(FileData {
        sha: sha256_hex(&data),
        size: data.len() as u64,
        is_text,
        data,
    })
}

fn prepare(
    dir: &Path,
    rubrics: &HashMap<String, Vec<KnownRubric>>,
) -> std::result::Result<Prepared, Vec<String>> {
    let mpath = dir.join("portfolio.yaml");
    let name = mpath.display().to_string();
    let bytes = super::read_limited(&mpath).map_err(|e| vec![e])?;
    let manifest = portfolio::load(&name, &bytes).map_err(|d| {
        d.errors()
            .map(|e| crate::domain::sanitize::sanitize(&e.to_string()))
            .collect::<Vec<_>>()
    })?;
    let doc_pos = |p: crate::domain::yaml::Pos, msg: String| {
        format!("{name}:{}:{}: error: {msg}", p.line, p.col)
    };
    // The rubric.
    let versions = rubrics.get(&manifest.rubric.id);
    let known = versions.and_then(|vs| match &manifest.rubric.version {
        Some(v) => vs.iter().find(|k| &k.version == v),
        None => vs.last(),
    });
    let Some(known) = known else {
        let pos = crate::domain::yaml::parse(&name, &bytes)
            .map(|d| d.pos("rubric"))
            .unwrap_or_default();
        let mut have: Vec<String> = rubrics.values().flatten().map(|k| k.rubric.key()).collect();
        have.sort();
        return Err(vec![doc_pos(
            pos,
            format!(
                "rubric `{}` is not loaded; import it first (loaded: {})",
                sanitize_line(&format!(
                    "{}{}",
                    manifest.rubric.id,
                    manifest
                        .rubric
                        .version
                        .as_deref()
                        .map(|v| format!("@{v}"))
                        .unwrap_or_default()
                )),
                if have.is_empty() {
                    "none".to_string()
                } else {
                    have.join(", ")
                }
            ),
        )]);
    };
    let mut errors: Vec<String> = portfolio::check_claims(&name, &bytes, &manifest, &known.rubric)
        .errors()
        .map(|e| e.to_string())
        .collect();
    let root_canon =
        std::fs::canonicalize(dir).map_err(|e| vec![format!("{}: {e}", dir.display())])?;
    let statement = match &manifest.statement {
        Some(s) => match read_inside(&root_canon, dir, s) {
            Ok(f) => Some(f),
            Err(m) => {
                errors.push(doc_pos(manifest.statement_pos, m));
                None
            }
        },
        None => None,
    };
    let mut files = Vec::new();
    for e in &manifest.evidence {
        match &e.file {
            Some(f) => match read_inside(&root_canon, dir, f) {
                Ok(d) => files.push(Some(d)),
                Err(m) => {
                    errors.push(doc_pos(e.file_pos, m));
                    files.push(None);
                }
            },
            None => files.push(None),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut h = Sha256::new();
    h.update(&bytes);
    h.update(known.rubric.sha256.as_bytes());
    if let Some(s) = &statement {
        h.update(b"\0statement\0");
        h.update(s.sha.as_bytes());
    }
    for (e, f) in manifest.evidence.iter().zip(&files) {
        if let Some(f) = f {
            h.update(b"\0");
            h.update(e.id.as_bytes());
            h.update(b"\0");
            h.update(f.sha.as_bytes());
        }
    }
    Ok(Prepared {
        dir: dir.to_path_buf(),
        manifest,
        manifest_bytes: bytes,
        rubric_pk: known.pk,
        rubric_key: known.rubric.key(),
        statement,
        files,
        content_sha: hex::encode(h.finalize()),
    })
}

/// How a portfolio fared.
enum Written {
    New,
    Revised { flagged: bool },
    Unchanged,
}

impl Workspace {
    /// Imports everything under `paths`. Rejected items are reported in the summary; the rest
    /// are imported. `progress(done, total)` is called as portfolios are written.
    pub fn import(
        &mut self,
        paths: &[PathBuf],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Summary> {
        // Once people are registered, only they import (in any role).
        self.require(
            &[
                super::people::Role::Assessor,
                super::people::Role::Moderator,
            ],
            "import rubrics and portfolios",
        )?;
        let mut found = Found::default();
        for p in paths {
            walk(p, 0, &mut found);
        }
        let mut summary = Summary {
            rejected: std::mem::take(&mut found.problems),
            ..Summary::default()
        };
        for r in &found.rubrics {
            match self.import_rubric(r) {
                Ok(new) => {
                    summary.rubrics += 1;
                    if new {
                        summary.rubrics_new += 1;
                    }
                }
                Err(AppError::Refused(lines)) => summary.rejected.push(lines),
                Err(e) => return Err(e),
            }
        }
        if found.portfolios.is_empty() {
            return Ok(summary);
        }
        let rubrics = self.known_rubrics()?;
        let total = found.portfolios.len();
        let dirs = &found.portfolios;
        let next = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(1, 8);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(
            usize,
            std::result::Result<Prepared, Vec<String>>,
        )>(256);
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        let result: Result<()> = std::thread::scope(|s| {
            for _ in 0..workers {
                let tx = tx.clone();
                let next = &next;
                let rubrics = &rubrics;
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= dirs.len() {
                            break;
                        }
                        if tx.send((i, prepare(&dirs[i], rubrics))).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            // Write in folder order, whatever order the workers finish in.
            let mut pending: BTreeMap<usize, std::result::Result<Prepared, Vec<String>>> =
                BTreeMap::new();
            let mut want = 0usize;
            let mut batch: Vec<Prepared> = Vec::new();
            let flush = |ws: &mut Workspace,
                         batch: &mut Vec<Prepared>,
                         summary: &mut Summary|
             -> Result<()> {
                if batch.is_empty() {
                    return Ok(());
                }
                let at = now();
                let user = ws.user.clone();
                let txn = ws.store.write()?;
                for p in batch.drain(..) {
                    let id = p.manifest.id.clone();
                    match write_portfolio(&txn, &p, &at, &user) {
                        Ok(Written::New) => summary.new += 1,
                        Ok(Written::Revised { flagged }) => {
                            summary.revised += 1;
                            if flagged {
                                summary.flagged.push(id);
                            }
                        }
                        Ok(Written::Unchanged) => summary.unchanged += 1,
                        Err(AppError::Refused(lines)) => summary.rejected.push(lines),
                        Err(e) => return Err(e),
                    }
                }
                txn.commit().map_err(crate::store::StoreError::from)?;
                Ok(())
            };
            for (i, r) in rx {
                pending.insert(i, r);
                while let Some(r) = pending.remove(&want) {
                    want += 1;
                    match r {
                        Ok(p) => {
                            if let Some(other) = seen.get(&p.manifest.id) {
                                summary.rejected.push(vec![format!(
                                    "{}: portfolio id `{}` is also used by {} in this import; give each portfolio its own id",
                                    p.dir.join("portfolio.yaml").display(),
                                    p.manifest.id,
                                    other.display()
                                )]);
                                continue;
                            }
                            seen.insert(p.manifest.id.clone(), p.dir.clone());
                            batch.push(p);
                        }
                        Err(lines) => summary.rejected.push(lines),
                    }
                    if batch.len() >= BATCH {
                        flush(self, &mut batch, &mut summary)?;
                    }
                    progress(want, total);
                }
            }
            flush(self, &mut batch, &mut summary)?;
            Ok(())
        });
        result?;
        progress(total, total);
        Ok(summary)
    }

    fn known_rubrics(&self) -> Result<HashMap<String, Vec<KnownRubric>>> {
        let rows: Vec<(i64, String, String)> = {
            let mut st = self
                .conn()
                .prepare("SELECT pk, id, version FROM rubrics ORDER BY pk")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut out: HashMap<String, Vec<KnownRubric>> = HashMap::new();
        for (pk, id, version) in rows {
            let rubric = self.rubric(pk)?;
            out.entry(id).or_default().push(KnownRubric {
                pk,
                version,
                rubric,
            });
        }
        Ok(out)
    }

    /// Imports one rubric file. `Ok(true)` when new, `Ok(false)` when the same bytes were
    /// already loaded; refused when other bytes are loaded under the same id and version.
    pub fn import_rubric(&mut self, path: &Path) -> Result<bool> {
        let name = path.display().to_string();
        let bytes = super::read_limited(path).map_err(|e| AppError::Refused(vec![e]))?;
        self.import_rubric_bytes(&name, &bytes)
    }

    pub fn import_rubric_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<bool> {
        let loaded = rubric::load(name, bytes).map_err(|d| {
            AppError::Refused(
                d.errors()
                    .map(|e| crate::domain::sanitize::sanitize(&e.to_string()))
                    .collect(),
            )
        })?;
        let r = loaded.rubric;
        let at = now();
        let user = self.user.clone();
        let tx = self.store.write()?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT sha256 FROM rubrics WHERE id = ?1 AND version = ?2",
                params![r.id, r.version],
                |row| row.get(0),
            )
            .optional()?;
        match existing {
            Some(sha) if sha == r.sha256 => return Ok(false),
            Some(_) => {
                return Err(AppError::refused(format!(
                    "{name}:1:1: error: rubric {} version {} is already loaded with different content; decisions made under it must keep their rubric, so give the changed file a new `version`",
                    r.id, r.version
                )));
            }
            None => {}
        }
        tx.execute(
            "INSERT INTO rubrics (id, version, sha256, title, bytes, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![r.id, r.version, r.sha256, r.title, bytes, at],
        )?;
        audit::append(
            &tx,
            audit::Entry {
                at: &at,
                actor: &user,
                action: "rubric.import",
                entity: format!("rubric/{}@{}", r.id, r.version),
                portfolio: None,
                before: None,
                after: Some(json!({ "sha256": r.sha256, "title": r.title })),
            },
        )?;
        tx.commit().map_err(crate::store::StoreError::from)?;
        Ok(true)
    }
}

fn put_blob(tx: &Transaction<'_>, f: &FileData) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?1, ?2, ?3)")?
        .execute(params![f.sha, f.size as i64, f.data])?;
    Ok(())
}

fn write_portfolio(tx: &Transaction<'_>, p: &Prepared, at: &str, user: &str) -> Result<Written> {
    let m = &p.manifest;
    let current: Option<(i64, i64, String)> = tx
        .prepare_cached(
            "SELECT p.pk, p.revision, r.content_sha256 FROM portfolios p
             JOIN revisions r ON r.portfolio_pk = p.pk AND r.revision = p.revision WHERE p.id = ?1",
        )?
        .query_row([&m.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((_, _, sha)) = &current
        && *sha == p.content_sha
    {
        return Ok(Written::Unchanged);
    }
    tx.execute_batch("SAVEPOINT portfolio")?;
    let r = (|| -> Result<Written> {
        if let Some(s) = &p.statement {
            put_blob(tx, s)?;
        }
        for f in p.files.iter().flatten() {
            put_blob(tx, f)?;
        }
        let search = search::search_text(
            &m.id,
            &m.learner.id,
            &m.learner.name,
            &p.rubric_key,
            m.evidence.iter().map(|e| e.title.as_str()),
        );
        let (pk, revision, written) = match current {
            None => {
                let pk: i64 = tx
                    .prepare_cached(
                        "INSERT INTO portfolios (id, rubric_pk, learner_id, learner_name, learner_email, submitted, revision, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) RETURNING pk",
                    )?
                    .query_row(
                        params![m.id, p.rubric_pk, m.learner.id, m.learner.name, m.learner.email, m.submitted, at],
                        |r| r.get(0),
                    )?;
                (pk, 1, Written::New)
            }
            Some((pk, rev, _)) => {
                let started: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM assessments WHERE portfolio_pk = ?1)",
                    )?
                    .query_row([pk], |r| r.get(0))?;
                tx.prepare_cached(
                    "UPDATE portfolios SET rubric_pk = ?2, learner_id = ?3, learner_name = ?4, learner_email = ?5, submitted = ?6,
                     revision = ?7, updated_at = ?8, version = version + 1,
                     evidence_changed = CASE WHEN ?9 THEN 1 ELSE evidence_changed END WHERE pk = ?1",
                )?
                .execute(params![pk, p.rubric_pk, m.learner.id, m.learner.name, m.learner.email, m.submitted, rev + 1, at, started])?;
                (pk, rev + 1, Written::Revised { flagged: started })
            }
        };
        tx.prepare_cached(
            "INSERT INTO search (portfolio_pk, text) VALUES (?1, ?2)
             ON CONFLICT (portfolio_pk) DO UPDATE SET text = excluded.text",
        )?
        .execute(params![pk, search])?;
        tx.prepare_cached(
            "INSERT INTO revisions (portfolio_pk, revision, content_sha256, manifest, statement_sha, statement_file, imported_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            pk,
            revision,
            p.content_sha,
            p.manifest_bytes,
            p.statement.as_ref().map(|s| &s.sha),
            m.statement,
            at
        ])?;
        let mut ins = tx.prepare_cached(
            "INSERT INTO evidence (portfolio_pk, revision, ord, id, title, kind, file, url, date, hours, claims, note, blob_sha, size, is_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        for (i, (e, f)) in m.evidence.iter().zip(&p.files).enumerate() {
            ins.execute(params![
                pk,
                revision,
                i as i64,
                e.id,
                e.title,
                e.kind.as_str(),
                e.file,
                e.url,
                e.date,
                e.hours,
                serde_json::to_string(&e.claims).unwrap_or_else(|_| "[]".into()),
                e.note,
                f.as_ref().map(|f| &f.sha),
                f.as_ref().map(|f| f.size as i64),
                f.as_ref().is_some_and(|f| f.is_text),
            ])?;
        }
        let flagged = matches!(written, Written::Revised { flagged: true });
        audit::append(
            tx,
            audit::Entry {
                at,
                actor: user,
                action: if revision == 1 {
                    "import"
                } else {
                    "import.revision"
                },
                entity: format!("portfolio/{}", m.id),
                portfolio: Some(&m.id),
                before: None,
                after: Some(json!({
                    "revision": revision,
                    "content_sha256": p.content_sha,
                    "rubric": p.rubric_key,
                    "evidence_changed_since_marking_began": flagged,
                })),
            },
        )?;
        Ok(written)
    })();
    match r {
        Ok(w) => {
            tx.execute_batch("RELEASE portfolio")?;
            Ok(w)
        }
        Err(e) => {
            tx.execute_batch("ROLLBACK TO portfolio; RELEASE portfolio")?;
            match e {
                AppError::Store(s) => Err(AppError::Refused(vec![format!(
                    "{}: not imported: {s}",
                    p.dir.display()
                )])),
                other => Err(other),
            }
        }
    }
}
