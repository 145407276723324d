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

use crate::store::db::{OptionalExtension, params};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::files::{Folder, Refused};
use super::refusal::Refusal;
use super::{AppError, Result, Workspace};
use crate::domain::portfolio::{self, Manifest};
use crate::domain::revision::{Changes, EvidenceFacts, Facts};
use crate::domain::rubric::{self, Rubric, sha256_hex};
use crate::domain::sanitize::sanitize_line;
use crate::domain::search;
use crate::domain::status::Status;
use crate::store::Tx;

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
    /// Portfolios whose assessment had begun and whose evidence changed: (id, what changed).
    pub flagged: Vec<(String, String)>,
    /// Other revisions of portfolios in marking worth saying: (id, what changed).
    pub notes: Vec<(String, String)>,
    /// Items a rule refused, with its facts (counted with `rejected`).
    pub refusals: Vec<Refusal>,
    /// Portfolios converted from LEAP2A exports: (id, the export, what to know of the
    /// conversion).
    pub converted: Vec<(String, String, Vec<String>)>,
}

impl Summary {
    pub fn portfolios(&self) -> usize {
        self.new + self.revised + self.unchanged
    }
    /// Items not imported.
    pub fn rejected_count(&self) -> usize {
        self.rejected.len() + self.refusals.len()
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
            self.rejected_count()
        )
    }
}

/// What the given paths hold.
#[derive(Debug, Default)]
struct Found {
    rubrics: Vec<PathBuf>,
    portfolios: Vec<PathBuf>,
    /// LEAP2A exports (zip files, or folders holding a feed).
    exports: Vec<PathBuf>,
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
    if (meta.is_file() || (depth == 0 && p.is_file())) && super::leap2a::is_export(p) {
        found.exports.push(p.to_path_buf());
        return;
    }
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
        // Nothing is passed over in silence: a link inside a folder is not followed (it could
        // lead anywhere), and a FIFO or a device is not read; each is said.
        let what = super::files::Kind::of(p);
        let why = if depth == 0 {
            format!("is {}, not a rubric file nor a folder", what.describe())
        } else if what == super::files::Kind::Symlink {
            "is a symbolic link inside a folder: not followed; import what it points to by its own path".to_string()
        } else {
            format!("is {}: not read", what.describe())
        };
        found.problems.push(vec![format!("{}: {why}", p.display())]);
        return;
    }
    // A `portfolio.yaml` of any kind (a link, a FIFO, a folder) makes this a portfolio folder:
    // reading it then says what is wrong, rather than the folder being passed over in silence.
    if std::fs::symlink_metadata(p.join("portfolio.yaml")).is_ok() {
        found.portfolios.push(p.to_path_buf());
        return;
    }
    if super::leap2a::is_export(p) {
        found.exports.push(p.to_path_buf());
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
    /// A document's text (PDF, DOCX, ODT), or why it could not be taken.
    text: Option<TextOf>,
}

/// The text taken from a document: its blob (`None`: it could not be taken) and what it is.
struct TextOf {
    sha: Option<String>,
    data: Vec<u8>,
    note: String,
}

/// A portfolio folder that passed every check, ready to write.
struct Prepared {
    /// The manifest's name in messages.
    here: String,
    dir: PathBuf,
    /// What the person importing should know of it (from a conversion).
    notes: Vec<String>,
    /// Converted from a LEAP2A export (at `dir`).
    export: bool,
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

/// Reads `rel` from the portfolio folder, refusing anything that leaves the folder (also
/// through symbolic links), is missing, is not a regular file, or is too large; the file is
/// opened once, inside the folder, and what is checked is what is read.
fn read_inside(folder: &Folder, rel: &str) -> std::result::Result<FileData, String> {
    let data = folder.read(rel, MAX_EVIDENCE_BYTES).map_err(|r| match r {
        Refused::Missing => format!(
            "file `{}` does not exist in the portfolio folder; add it or correct the path",
            sanitize_line(rel)
        ),
        Refused::Outside => format!(
            "file `{}` is a symbolic link (or passes through one) that points out of the portfolio folder; copy the file into the folder instead",
            sanitize_line(rel)
        ),
        Refused::NotRegular(what) => format!(
            "`{}` is {what}, not a regular file; put the evidence itself in the folder",
            sanitize_line(rel)
        ),
        Refused::TooLarge(n) => format!(
            "file `{}` is {n} bytes; evidence files are limited to {} MiB",
            sanitize_line(rel),
            MAX_EVIDENCE_BYTES / (1024 * 1024)
        ),
        Refused::Io(e) => format!("file `{}` cannot be read: {e}", sanitize_line(rel)),
    })?;
    Ok(file_data(rel, data))
}

fn file_data(rel: &str, data: Vec<u8>) -> FileData {
    let is_text = is_text_name(rel) && std::str::from_utf8(&data).is_ok();
    let text = (!is_text)
        .then(|| super::extract::document(rel, &data))
        .flatten()
        .map(|(doc, r)| match r {
            Ok(e) => TextOf {
                sha: Some(sha256_hex(e.text.as_bytes())),
                data: e.text.into_bytes(),
                note: e.note,
            },
            Err(why) => TextOf {
                sha: None,
                data: Vec::new(),
                note: format!("{}: could not extract its text: {why}", doc.name()),
            },
        });
    FileData {
        sha: sha256_hex(&data),
        size: data.len() as u64,
        is_text,
        data,
        text,
    }
}

fn prepare(
    dir: &Path,
    rubrics: &HashMap<String, Vec<KnownRubric>>,
) -> std::result::Result<Prepared, Vec<String>> {
    let mpath = dir.join("portfolio.yaml");
    let name = mpath.display().to_string();
    let folder = Folder::open(dir).map_err(|e| vec![format!("{}: {e}", dir.display())])?;
    let bytes = folder
        .read("portfolio.yaml", crate::domain::yaml::MAX_BYTES as u64)
        .map_err(|r| {
            vec![match r {
                Refused::Missing => format!("{name}: no such file"),
                Refused::Outside => format!(
                    "{name}: is a symbolic link that points out of the portfolio folder; put the manifest itself in the folder"
                ),
                Refused::NotRegular(what) => {
                    format!("{name}: is {what}, not a regular file; the manifest must be a file")
                }
                Refused::TooLarge(n) => format!(
                    "{name}:1:1: error: file is {n} bytes; the limit is 1 MiB: split it or remove what is not needed"
                ),
                Refused::Io(e) => format!("{name}: {e}"),
            }]
        })?;
    prepare_manifest(
        name,
        dir.to_path_buf(),
        bytes,
        &|rel| read_inside(&folder, rel),
        rubrics,
    )
}

/// A LEAP2A export read, converted and checked like a portfolio folder.
fn prepare_export(
    path: &Path,
    opts: &crate::domain::leap2a::Options,
    rubrics: &HashMap<String, Vec<KnownRubric>>,
) -> std::result::Result<Prepared, Vec<String>> {
    if opts.rubric.is_empty() {
        return Err(vec![format!(
            "{}: a LEAP2A export names no rubric: give the rubric it is assessed against with --rubric ID[@VERSION]",
            path.display()
        )]);
    }
    let export = super::leap2a::read(path, opts)?;
    let name = format!("{} (as converted)", export.name);
    let mut p = prepare_manifest(
        name.clone(),
        path.to_path_buf(),
        export.conversion.manifest.clone(),
        &|rel| export.read(rel).map(|d| file_data(rel, d)),
        rubrics,
    )
    .map_err(|errors| {
        // (a line and column of the converted manifest, which nobody sees, say nothing: the
        // export and the file are named instead)
        errors
            .into_iter()
            .map(|e| match e.strip_prefix(&format!("{name}:")) {
                Some(rest) => {
                    let rest = rest
                        .trim_start_matches(|c: char| c.is_ascii_digit() || c == ':')
                        .trim_start();
                    format!("{}: {rest}", export.name)
                }
                None => e,
            })
            .collect::<Vec<_>>()
    })?;
    p.notes = export.conversion.notes.clone();
    p.export = true;
    Ok(p)
}

/// Checks a manifest (`name` in messages) and reads the files it names through `read`.
fn prepare_manifest(
    name: String,
    dir: PathBuf,
    bytes: Vec<u8>,
    read: &dyn Fn(&str) -> std::result::Result<FileData, String>,
    rubrics: &HashMap<String, Vec<KnownRubric>>,
) -> std::result::Result<Prepared, Vec<String>> {
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
    let statement = match &manifest.statement {
        Some(s) => match read(s) {
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
            Some(f) => match read(f) {
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
        here: name,
        dir,
        notes: Vec::new(),
        export: false,
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
    /// A new revision; for one in marking, what changed (and whether its evidence did).
    Revised {
        flagged: bool,
        note: Option<String>,
    },
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
        self.import_with(paths, &crate::domain::leap2a::Options::default(), progress)
    }

    /// [`Self::import`], with what a LEAP2A export does not say itself: the rubric, and if
    /// wanted the learner's and the portfolio's ids.
    pub fn import_with(
        &mut self,
        paths: &[PathBuf],
        leap: &crate::domain::leap2a::Options,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Summary> {
        // Once people are registered, only they import (in any role).
        self.require(
            &[
                crate::domain::role::Role::Assessor,
                crate::domain::role::Role::Moderator,
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
        if found.portfolios.is_empty() && found.exports.is_empty() {
            return Ok(summary);
        }
        if found.exports.len() > 1 && (leap.learner_id.is_some() || leap.portfolio_id.is_some()) {
            summary.rejected.push(vec![format!(
                "--learner-id and --id name one learner's portfolio, and {} LEAP2A exports were given; import them one at a time",
                found.exports.len()
            )]);
            return Ok(summary);
        }
        let rubrics = self.known_rubrics()?;
        let items: Vec<(PathBuf, bool)> = found
            .portfolios
            .iter()
            .map(|p| (p.clone(), false))
            .chain(found.exports.iter().map(|p| (p.clone(), true)))
            .collect();
        let total = items.len();
        let dirs = &items;
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
                        let (path, export) = &dirs[i];
                        let prepared = if *export {
                            prepare_export(path, leap, rubrics)
                        } else {
                            prepare(path, rubrics)
                        };
                        if tx.send((i, prepared)).is_err() {
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
                let user = ws.user.clone();
                let mut txn = ws.store.begin(&user)?;
                for p in batch.drain(..) {
                    let id = p.manifest.id.clone();
                    let result = txn.savepoint(|t| write_portfolio(t, &p));
                    if p.export && matches!(result, Ok(Written::New | Written::Revised { .. })) {
                        summary.converted.push((
                            id.clone(),
                            p.dir.display().to_string(),
                            p.notes.clone(),
                        ));
                    }
                    match result {
                        Ok(Written::New) => summary.new += 1,
                        Ok(Written::Revised { flagged, note }) => {
                            summary.revised += 1;
                            match (flagged, note) {
                                (true, Some(n)) => summary.flagged.push((id, n)),
                                (false, Some(n)) => summary.notes.push((id, n)),
                                _ => {}
                            }
                        }
                        Ok(Written::Unchanged) => summary.unchanged += 1,
                        Err(AppError::Refused(lines)) => summary.rejected.push(lines),
                        Err(AppError::Refusal(r)) => summary.refusals.push(r),
                        Err(AppError::Store(e)) if !is_fatal(&e) => summary
                            .rejected
                            .push(vec![format!("{}: not imported: {e}", p.dir.display())]),
                        Err(e) => return Err(e),
                    }
                }
                txn.commit()?;
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
                                    p.here,
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
            st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<crate::store::db::Result<_>>()?
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
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
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
        let pk: i64 = tx.query_row(
            "INSERT INTO rubrics (id, version, sha256, title, bytes, imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING pk",
            params![r.id, r.version, r.sha256, r.title, bytes, tx.at()],
            |row| row.get(0),
        )?;
        if tx.is_pg() {
            // (what the database's own blind rules read: see store/pg_access.sql)
            tx.execute(
                "INSERT INTO rubric_rules (rubric_pk, blind) VALUES (?1, ?2)",
                params![pk, r.moderation.blind],
            )?;
        }
        tx.append(
            "rubric.import",
            format!("rubric/{}@{}", r.id, r.version),
            None,
            None,
            Some(json!({
                "pk": pk, "id": r.id, "version": r.version, "sha256": r.sha256, "title": r.title,
            })),
        )?;
        tx.commit()?;
        Ok(true)
    }
}

/// A store failure that ends the whole import (the disk, the lock) rather than one portfolio.
fn is_fatal(e: &crate::store::StoreError) -> bool {
    !matches!(e, crate::store::StoreError::Sql(_))
}

fn put_blob(tx: &Tx<'_>, f: &FileData) -> crate::store::db::Result<()> {
    let mut ins =
        tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, size, data) VALUES (?1, ?2, ?3)")?;
    ins.execute(params![f.sha, f.size as i64, f.data])?;
    if let Some(TextOf {
        sha: Some(sha),
        data,
        ..
    }) = &f.text
    {
        ins.execute(params![sha, data.len() as i64, data])?;
    }
    Ok(())
}

/// What the workspace holds of a portfolio's current revision, to compare a new one with.
fn current_facts(tx: &Tx<'_>, pk: i64, revision: i64) -> Result<Facts> {
    let (learner_id, learner_name, learner_email, submitted, rubric, statement): (
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    ) = tx
        .prepare_cached(
            "SELECT p.learner_id, p.learner_name, p.learner_email, p.submitted, r.id || '@' || r.version, v.statement_sha
             FROM portfolios p JOIN rubrics r ON r.pk = p.rubric_pk
             JOIN revisions v ON v.portfolio_pk = p.pk AND v.revision = ?2 WHERE p.pk = ?1",
        )?
        .query_row(params![pk, revision], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
    let mut st = tx.prepare_cached(
        "SELECT id, title, kind, file, url, date, hours, claims, note, blob_sha, group_title FROM evidence
         WHERE portfolio_pk = ?1 AND revision = ?2 ORDER BY ord",
    )?;
    let evidence = st
        .query_map(params![pk, revision], |r| {
            let claims: String = r.get(7)?;
            Ok(EvidenceFacts {
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
                group: r.get(10)?,
            })
        })?
        .collect::<crate::store::db::Result<_>>()?;
    Ok(Facts {
        learner_id,
        learner_name,
        learner_email,
        rubric,
        submitted,
        statement,
        evidence,
    })
}

/// What a prepared portfolio holds, as [`Facts`].
fn new_facts(p: &Prepared) -> Facts {
    let m = &p.manifest;
    Facts {
        learner_id: m.learner.id.clone(),
        learner_name: m.learner.name.clone(),
        learner_email: m.learner.email.clone(),
        rubric: p.rubric_key.clone(),
        submitted: m.submitted.clone(),
        statement: p.statement.as_ref().map(|s| s.sha.clone()),
        evidence: m
            .evidence
            .iter()
            .zip(&p.files)
            .map(|(e, f)| EvidenceFacts {
                id: e.id.clone(),
                title: e.title.clone(),
                kind: e.kind.as_str().to_string(),
                file: e.file.clone(),
                url: e.url.clone(),
                date: e.date.clone(),
                hours: e.hours,
                claims: e.claims.clone(),
                note: e.note.clone(),
                sha256: f.as_ref().map(|f| f.sha.clone()),
                group: e.group.clone(),
            })
            .collect(),
    }
}

fn write_portfolio(tx: &mut Tx<'_>, p: &Prepared) -> Result<Written> {
    let m = &p.manifest;
    let current: Option<(i64, i64, String, String)> = tx
        .prepare_cached(
            "SELECT p.pk, p.revision, r.content_sha256, p.status FROM portfolios p
             JOIN revisions r ON r.portfolio_pk = p.pk AND r.revision = p.revision WHERE p.id = ?1",
        )?
        .query_row([&m.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    if let Some((_, _, sha, _)) = &current
        && *sha == p.content_sha
    {
        return Ok(Written::Unchanged);
    }
    let here = p.here.clone();
    // What a revision changes, and whether it may.
    let mut flagged = false;
    let mut note = None;
    if let Some((pk, rev, _, status)) = &current {
        let changes = Changes::between(&current_facts(tx, *pk, *rev)?, &new_facts(p));
        let what = changes.describe();
        let started: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM assessments WHERE portfolio_pk = ?1)")?
            .query_row([pk], |r| r.get(0))?;
        let id = sanitize_line(&m.id);
        match status.as_str() {
            s if matches!(Status::parse(s), Some(Status::New | Status::InProgress)) => {
                if started && changes.rubric.is_some() {
                    return Err(AppError::refused(format!(
                        "{here}: portfolio {id} is being marked against its rubric; this revision changes {}; a revision under another rubric would leave its marks against other criteria: keep the rubric, or import it as a new portfolio with its own id",
                        what.join(", ")
                    )));
                }
                if started && !what.is_empty() {
                    flagged = changes.evidence_changed();
                    note = Some(what.join(", "));
                }
            }
            decided => {
                let released = matches!(
                    Status::parse(decided),
                    Some(Status::Released | Status::Exported)
                );
                let changed = if what.is_empty() {
                    "the manifest".to_string()
                } else {
                    what.join(", ")
                };
                return Err(AppError::Refusal(Refusal::Decided {
                    here,
                    id: id.to_string(),
                    status: decided.to_string(),
                    changed,
                    released,
                }));
            }
        }
    }
    for f in p.statement.iter().chain(p.files.iter().flatten()) {
        put_blob(tx, f)?;
    }
    let search = search::search_text(
        &m.id,
        &m.learner.id,
        &m.learner.name,
        &p.rubric_key,
        m.evidence.iter().map(|e| e.title.as_str()),
    );
    let (pk, revision) = match &current {
        None => {
            let pk: i64 = tx
                .prepare_cached(
                    "INSERT INTO portfolios (id, rubric_pk, learner_id, learner_name, learner_email, submitted, revision, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) RETURNING pk",
                )?
                .query_row(
                    params![m.id, p.rubric_pk, m.learner.id, m.learner.name, m.learner.email, m.submitted, tx.at()],
                    |r| r.get(0),
                )?;
            (pk, 1)
        }
        Some((pk, rev, _, _)) => {
            tx.prepare_cached(
                "UPDATE portfolios SET rubric_pk = ?2, learner_id = ?3, learner_name = ?4, learner_email = ?5, submitted = ?6,
                 revision = ?7, evidence_changed = CASE WHEN ?8 THEN 1 ELSE evidence_changed END WHERE pk = ?1",
            )?
            .execute(params![pk, p.rubric_pk, m.learner.id, m.learner.name, m.learner.email, m.submitted, rev + 1, flagged])?;
            (*pk, rev + 1)
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
        tx.at()
    ])?;
    // The words of its documents' texts, for search (the revision's, none of an earlier one).
    tx.prepare_cached("DELETE FROM document_words WHERE portfolio_pk = ?1")?
        .execute([pk])?;
    for (e, f) in m.evidence.iter().zip(&p.files) {
        if let Some(TextOf {
            sha: Some(_), data, ..
        }) = f.as_ref().and_then(|f| f.text.as_ref())
        {
            // (the lines assay writes — a PDF's page lines, "no text on this page" — are not
            // the learner's words)
            let text = String::from_utf8_lossy(data);
            let words = crate::domain::extract::search_words(&text);
            if tx.sqlite().is_some() {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO document_words (word, portfolio_pk, evidence_id) VALUES (?1, ?2, ?3)",
                )?;
                for w in words {
                    ins.execute(params![w, pk, e.id])?;
                }
            } else {
                // On a server, one statement for all of a document's words (a statement a word
                // was a round trip each: hundreds for a page of text). A word has no line break.
                let all = words
                    .iter()
                    .map(String::as_str)
                    .filter(|w| !w.contains('\n'))
                    .collect::<Vec<_>>()
                    .join("\n");
                if !all.is_empty() {
                    tx.prepare_cached(
                        "INSERT INTO document_words (word, portfolio_pk, evidence_id)
                         SELECT w, ?2, ?3 FROM unnest(string_to_array(CAST(?1 AS TEXT), E'\\n')) AS w
                         ON CONFLICT DO NOTHING",
                    )?
                    .execute(params![all, pk, e.id])?;
                }
            }
        }
    }
    let mut evidence = Vec::with_capacity(m.evidence.len());
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO evidence (portfolio_pk, revision, ord, id, title, kind, file, url, date, hours, claims, note, blob_sha, size, is_text, group_title, text_sha, text_note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        )?;
        for (i, (e, f)) in m.evidence.iter().zip(&p.files).enumerate() {
            let is_text = f.as_ref().is_some_and(|f| f.is_text);
            let text = f.as_ref().and_then(|f| f.text.as_ref());
            let text_sha = text.and_then(|t| t.sha.as_ref());
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
                is_text,
                e.group,
                text_sha,
                text.map(|t| &t.note),
            ])?;
            let mut item = json!({
                "id": e.id, "title": e.title, "kind": e.kind.as_str(), "file": e.file, "url": e.url,
                "date": e.date, "hours": e.hours, "claims": e.claims, "note": e.note,
                "sha256": f.as_ref().map(|f| &f.sha), "size": f.as_ref().map(|f| f.size),
                "is_text": is_text,
            });
            // (only where there is one: records from before groups stay as they were)
            if let Some(g) = &e.group {
                item["group"] = json!(g);
            }
            // (a document's text: its blob, if it could be taken, and what it is)
            if let Some(t) = text {
                item["text_note"] = json!(t.note);
                if let Some(sha) = &t.sha {
                    item["text_sha256"] = json!(sha);
                    item["text_size"] = json!(t.data.len());
                }
            }
            evidence.push(item);
        }
    }
    tx.append(
        if revision == 1 {
            "import"
        } else {
            "import.revision"
        },
        format!("portfolio/{}", m.id),
        Some(&m.id),
        None,
        Some(json!({
            "pk": pk,
            "revision": revision,
            "rubric_pk": p.rubric_pk,
            "rubric": p.rubric_key,
            "learner": { "id": m.learner.id, "name": m.learner.name, "email": m.learner.email },
            "submitted": m.submitted,
            "content_sha256": p.content_sha,
            "manifest_sha256": sha256_hex(&p.manifest_bytes),
            "statement": p.statement.as_ref().map(|s| json!({
                "file": m.statement, "sha256": s.sha, "size": s.size,
            })),
            "evidence": evidence,
            "evidence_changed_since_marking_began": flagged,
            "changed": note,
        })),
    )?;
    super::touch(tx, pk)?;
    Ok(match current {
        None => Written::New,
        Some(_) => Written::Revised { flagged, note },
    })
}
