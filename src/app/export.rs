//! `assay export`: released decisions out to the issuing system.
//!
//! Files are written first, each atomically (a temporary file in the target folder, renamed into
//! place), and only then is the batch recorded — in one transaction with its audit record and
//! the move to `exported`. An export interrupted midway leaves no half-written file and records
//! no batch.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::db::{OptionalExtension, params};
use serde_json::{Value, json};

use super::mark::{self, Phase};
use super::{AppError, Result, Workspace};
use crate::domain::decision::Outcome;
use crate::domain::export::{
    CriterionMark, DecisionInfo, EvidenceInfo, ExportRecord, Learner, ModerationInfo, Source, elm,
    feedback, obv3,
};
use crate::domain::role::Role;
use crate::domain::rubric::Rubric;

mod bulk;
mod csv_file;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Obv3,
    Elm,
    Csv,
    Jsonl,
    Feedback,
    /// OB 3.0 with a Data Integrity proof (`--format obv3 --sign`).
    Obv3Signed,
    /// OB 3.0 as VC-JWTs.
    Obv3Jwt,
    /// Credly's bulk issue CSV.
    Credly,
    /// Canvas Credentials' bulk award CSV.
    Canvas,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Obv3,
        Format::Elm,
        Format::Csv,
        Format::Jsonl,
        Format::Feedback,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Obv3 => "obv3",
            Format::Elm => "elm",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Feedback => "feedback",
            Format::Obv3Signed => "obv3-signed",
            Format::Obv3Jwt => "obv3-jwt",
            Format::Credly => "credly",
            Format::Canvas => "canvas-credentials",
        }
    }
    /// Whether the format takes only awarded decisions (credentials).
    pub fn awarded_only(self) -> bool {
        !matches!(self, Format::Csv | Format::Jsonl | Format::Feedback)
    }
    /// Whether `--out` names a folder (one file per decision) rather than one file.
    pub fn is_folder(self) -> bool {
        matches!(
            self,
            Format::Obv3 | Format::Elm | Format::Feedback | Format::Obv3Signed | Format::Obv3Jwt
        )
    }
    /// Whether the format's credentials are signed with the issuer's keys.
    pub fn is_signed(self) -> bool {
        matches!(self, Format::Obv3Signed | Format::Obv3Jwt)
    }
}

/// What an export did.
#[derive(Debug, Clone, Default)]
pub struct Exported {
    pub batch: i64,
    pub count: usize,
    pub files: Vec<PathBuf>,
}

/// One selected decision: the row facts needed to build its record.
#[derive(Debug, Clone)]
struct Selected {
    pk: i64,
    id: String,
    outcome: String,
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, renamed into place.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(&super::files::temp_prefix())
        .tempfile_in(&dir)?;
    {
        let mut buf = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        write(&mut buf)?;
        buf.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes the files that `make` hands to its `send` (path, content), each with
/// [`write_atomic`], on several threads: each file is synced before it is renamed into place,
/// and with several at once the disk's flushes overlap instead of following one another.
/// Returns the paths once every file is in place, or the first error (`send` says `false`
/// once a write has failed: `make` may stop).
fn write_files(
    make: impl FnOnce(&mut dyn FnMut(PathBuf, Vec<u8>) -> bool) -> Result<()>,
) -> Result<Vec<PathBuf>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    const WRITERS: usize = 8;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(4 * WRITERS);
    let rx = std::sync::Mutex::new(rx);
    let failed = AtomicBool::new(false);
    // The first write error; after it the writers go on taking (and dropping) what they are
    // sent, so that the sender never waits on a full channel nobody empties.
    let first_error: std::sync::Mutex<Option<std::io::Error>> = Default::default();
    let mut paths = Vec::new();
    let made = std::thread::scope(|scope| {
        for _ in 0..WRITERS {
            scope.spawn(|| {
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => {
                            failed.store(true, Ordering::Relaxed);
                            return;
                        }
                    };
                    let Ok((path, bytes)) = job else {
                        return;
                    };
                    if failed.load(Ordering::Relaxed) {
                        continue;
                    }
                    if let Err(e) = write_atomic(&path, |w| w.write_all(&bytes)) {
                        failed.store(true, Ordering::Relaxed);
                        let e = std::io::Error::new(
                            e.kind(),
                            format!("cannot write {}: {e}", path.display()),
                        );
                        if let Ok(mut first) = first_error.lock() {
                            first.get_or_insert(e);
                        }
                    }
                }
            });
        }
        let made = make(&mut |path, bytes| {
            if failed.load(Ordering::Relaxed) {
                return false;
            }
            paths.push(path.clone());
            tx.send((path, bytes)).is_ok()
        });
        drop(tx);
        made
    });
    // (every writer has finished: the scope waits for them)
    let written = match first_error.into_inner() {
        Ok(None) if !failed.load(Ordering::Relaxed) => Ok(()),
        Ok(Some(e)) => Err(e),
        _ => Err(std::io::Error::other("a file writer failed")),
    };
    // A failed export leaves none of its files behind: what nobody recorded was not exported.
    if made.is_err() || written.is_err() {
        remove_all(&paths);
    }
    made?;
    written?;
    Ok(paths)
}

/// Removes the files an export wrote when it is not recorded after all.
fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// Which released decisions an export takes: those of `format` not yet exported in it (unless
/// `all`), of one rubric or all.
struct Selection {
    rubric_id: Option<String>,
    all: bool,
    /// (the format's name, and whether it takes awarded decisions only, as parameters)
    name: &'static str,
    awarded: bool,
}

/// The condition of a [`Selection`] on the portfolio `p`, its parameters ?1 to ?4 those of
/// [`Selection::params`].
const SELECTED: &str = "p.status IN ('released', 'exported')
    AND (CAST(?1 AS TEXT) IS NULL OR p.rubric_pk IN (SELECT pk FROM rubrics WHERE id = CAST(?1 AS TEXT)))
    AND (CAST(?2 AS BOOLEAN) OR NOT EXISTS (SELECT 1 FROM export_items e WHERE e.portfolio_pk = p.pk AND e.format = ?3))
    AND (NOT CAST(?4 AS BOOLEAN) OR p.outcome = 'awarded')";

impl Selection {
    fn params(&self) -> [&dyn crate::store::db::ToSql; 4] {
        [&self.rubric_id, &self.all, &self.name, &self.awarded]
    }

    /// The selected decisions, by id.
    fn rows(&self, conn: &crate::store::db::Connection) -> Result<Vec<Selected>> {
        // One pass over the table (the status index would visit the rows out of order); sorted
        // by id here.
        let mut st = conn.prepare_cached(&format!(
            "SELECT p.pk, p.id, p.outcome FROM {} p NOT INDEXED WHERE {SELECTED}",
            super::portfolios_read(conn)
        ))?;
        let rows = st.query_map(&self.params()[..], |r| {
            Ok(Selected {
                pk: r.get(0)?,
                id: r.get(1)?,
                outcome: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })?;
        let mut selected: Vec<Selected> = rows.collect::<crate::store::db::Result<_>>()?;
        selected.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(selected)
    }

    /// How many decisions are selected.
    fn count(&self, conn: &crate::store::db::Connection) -> Result<usize> {
        let mut st = conn.prepare_cached(&format!(
            "SELECT count(*) FROM {} p NOT INDEXED WHERE {SELECTED}",
            super::portfolios_read(conn)
        ))?;
        Ok(st.query_row(&self.params()[..], |r| r.get::<_, i64>(0))? as usize)
    }

    /// The rubrics (row keys, in order) of the selected decisions; none when nothing is
    /// selected. Stops at the first decision of each rubric.
    fn rubrics(&self, conn: &crate::store::db::Connection) -> Result<Vec<i64>> {
        let mut st = conn.prepare_cached(&format!(
            "SELECT r.pk FROM rubrics r
             WHERE EXISTS (SELECT 1 FROM {} p WHERE p.rubric_pk = r.pk AND {SELECTED})
             ORDER BY r.pk",
            super::portfolios_read(conn)
        ))?;
        let rows = st.query_map(&self.params()[..], |r| r.get(0))?;
        Ok(rows.collect::<crate::store::db::Result<_>>()?)
    }
}

impl Workspace {
    fn selection(&self, format: Format, rubric: Option<&str>, all: bool) -> Result<Selection> {
        let rubric_id = self.rubric_filter(rubric)?;
        Ok(Selection {
            rubric_id,
            all,
            name: format.as_str(),
            awarded: format.awarded_only(),
        })
    }

    /// How many released decisions wait for each format: one count each, nothing read out.
    pub fn ready(&self, rubric: Option<&str>) -> Result<Vec<(Format, usize)>> {
        Format::ALL
            .iter()
            .map(|f| Ok((*f, self.selection(*f, rubric, false)?.count(self.conn())?)))
            .collect()
    }

    /// Builds the complete record of one released decision; also the rubric it was decided by.
    pub fn export_record(&self, pk: i64) -> Result<(ExportRecord, Value, Arc<Rubric>)> {
        let c = self.conn();
        let (id, learner_id, name, email, submitted, revision, released_at): (
            String,
            String,
            String,
            Option<String>,
            String,
            i64,
            Option<String>,
        ) = c
            .prepare_cached(
                "SELECT id, learner_id, learner_name, learner_email, submitted, revision, released_at FROM portfolios WHERE pk = ?1",
            )?
            .query_row([pk], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })?;
        let first = mark::sheet(c, pk, Phase::First)?;
        let second = mark::sheet(c, pk, Phase::Second)?;
        let settlement: Option<(String, Option<String>, String, String)> = c
            .prepare_cached(
                "SELECT action, rationale, by_user, at FROM settlements WHERE portfolio_pk = ?1",
            )?
            .query_row([pk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let reason: Option<String> = c
            .prepare_cached(&format!(
                "SELECT reason FROM {} WHERE portfolio_pk = ?1",
                super::draw_items_read(c)
            ))?
            .query_row([pk], |r| r.get(0))
            .optional()?;
        let amended = settlement.as_ref().is_some_and(|s| s.0 == "amend");
        let final_sheet = if amended { &second } else { &first };
        let d = final_sheet
            .decision
            .clone()
            .ok_or_else(|| AppError::refused(format!("{id} has no decision to export")))?;
        let first_decision = first
            .decision
            .clone()
            .ok_or_else(|| AppError::refused(format!("{id} has no first decision to export")))?;
        let rubric = self.rubric(self.decision_rubric(pk)?)?;
        // Each marking's levels with its own author's feedback, never another's.
        let marks_of = |s: &mark::Sheet| -> Vec<CriterionMark> {
            rubric
                .criteria
                .iter()
                .filter_map(|cr| {
                    let (l, f) = s.marks.get(&cr.id)?;
                    let (by, at) = s.authors.get(&cr.id).cloned().unwrap_or_default();
                    Some(CriterionMark {
                        criterion: cr.id.clone(),
                        level: l.clone()?,
                        feedback: f.clone(),
                        by,
                        at,
                    })
                })
                .collect()
        };
        let statement: Option<Vec<u8>> = c
            .prepare_cached(
                "SELECT b.data FROM revisions v JOIN blobs b ON b.sha256 = v.statement_sha WHERE v.portfolio_pk = ?1 AND v.revision = ?2",
            )?
            .query_row(params![pk, revision], |r| r.get(0))
            .optional()?;
        let evidence = self
            .evidence(pk, revision)?
            .into_iter()
            .map(|e| EvidenceInfo {
                id: e.id,
                title: e.title,
                kind: e.kind,
                file: e.file,
                url: e.url,
                sha256: e.sha256,
                size: e.size.map(|s| s as u64),
                date: e.date,
                hours: e.hours,
                claims: e.claims,
                note: e.note,
            })
            .collect();
        let rec = ExportRecord {
            workspace_id: self.meta("workspace_id")?.unwrap_or_default(),
            salt: self.meta("salt")?.unwrap_or_default(),
            portfolio_id: id.clone(),
            revision,
            learner: Learner {
                id: learner_id,
                name,
                email,
            },
            submitted,
            statement: statement.map(|b| String::from_utf8_lossy(&b).into_owned()),
            evidence,
            marks: marks_of(final_sheet),
            gates: final_sheet.gates.iter().cloned().collect(),
            comment: final_sheet.comment.clone(),
            decision: DecisionInfo {
                id: first_decision.pk,
                outcome: Outcome::parse(&d.outcome).unwrap_or(Outcome::NotYet),
                computed: Outcome::parse(&d.computed).unwrap_or(Outcome::NotYet),
                grade: d.grade.clone(),
                score: d.score,
                borderline: d.borderline,
                rationale: d.rationale.clone(),
                source: if amended {
                    Source::SecondMarking
                } else {
                    Source::FirstMarking
                },
                decided_by: d.by.clone(),
                decided_at: d.at.clone(),
                first_marker: first_decision.by.clone(),
            },
            moderation: match (&settlement, &second.decision) {
                (Some((action, rationale, by, at)), Some(sd)) => Some(ModerationInfo {
                    moderator: by.clone(),
                    second_marker: sd.by.clone(),
                    reason: reason.clone().unwrap_or_default(),
                    second_marks: marks_of(&second),
                    second_comment: second.comment.clone(),
                    second_outcome: Outcome::parse(&sd.outcome).unwrap_or(Outcome::NotYet),
                    second_score: sd.score,
                    settlement: if action == "amend" {
                        "amended"
                    } else {
                        "confirmed"
                    }
                    .into(),
                    rationale: rationale.clone(),
                    settled_at: at.clone(),
                }),
                _ => None,
            },
            released_at: released_at.unwrap_or_default(),
        };
        // The rest of the record, for JSON lines: both markings in full and the rubric's hash.
        let sheet = |s: &mark::Sheet| {
            json!({
                "marker": s.marker,
                "marks": s.marks.iter().map(|(c, (l, f))| json!({"criterion": c, "level": l, "feedback": f})).collect::<Vec<_>>(),
                "gates": s.gates, "comment": s.comment, "decision": s.decision,
            })
        };
        let extra = json!({
            "rubric": { "id": rubric.id, "version": rubric.version, "sha256": rubric.sha256 },
            "first": sheet(&first),
            "second": if second.started() { sheet(&second) } else { Value::Null },
        });
        Ok((rec, extra, rubric))
    }

    /// Exports released decisions in `format` to `out` and records the batch. `out` is never
    /// a device, FIFO, symbolic link or the workspace's own file; files there are replaced only
    /// with `force`. What an interrupted export left there is cleaned up first.
    pub fn export(
        &mut self,
        format: Format,
        out: &Path,
        rubric: Option<&str>,
        all: bool,
        force: bool,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Exported> {
        self.require(&[Role::Moderator], "export decisions")?;
        // An export is recorded, so a workspace that cannot be written cannot export: said before
        // a file is written.
        if self.read_only() {
            return Err(AppError::Store(crate::store::StoreError::ReadOnly {
                path: self
                    .store
                    .conn
                    .path()
                    .unwrap_or("the workspace")
                    .to_string(),
            }));
        }
        // (an existing file is refused further on, once there is something to write)
        super::files::check_output(out, "the export", true, format.is_folder(), &|p| {
            self.store.is_workspace_file(p)
        })?;
        let selection = self.selection(format, rubric, all)?;
        let folder = if format.is_folder() {
            Some(out.to_path_buf())
        } else {
            out.parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        p
                    }
                })
                .map(Path::to_path_buf)
        };
        // What interrupted exports left (in this folder, and in the folders of exports that
        // did not finish) goes first; this folder is noted until this export ends.
        self.clean_pending_exports(folder.as_deref());
        let pending_key = folder.as_ref().map(|d| {
            format!(
                "export.pending:{}",
                std::fs::canonicalize(d)
                    .unwrap_or_else(|_| d.clone())
                    .display()
            )
        });
        if let Some(k) = &pending_key {
            self.remember(k, Some("1"))?;
        }
        let result = self.export_to(format, out, force, &selection, progress);
        if let Some(k) = &pending_key {
            self.remember(k, None)?;
        }
        result
    }

    /// Removes the temporary files interrupted exports left: in `here`, and in every folder an
    /// export was writing to when it stopped.
    fn clean_pending_exports(&self, here: Option<&Path>) {
        if let Some(dir) = here {
            super::files::clean_stale(dir);
        }
        let pending: Vec<String> = self
            .conn()
            .prepare("SELECT key FROM ui_state WHERE key LIKE 'export.pending:%'")
            .and_then(|mut st| {
                st.query_map((), |r| r.get::<_, String>(0))?
                    .collect::<crate::store::db::Result<Vec<_>>>()
            })
            .unwrap_or_default();
        for key in pending {
            if let Some(dir) = key.strip_prefix("export.pending:") {
                super::files::clean_stale(Path::new(dir));
            }
            let _ = self.remember(&key, None);
        }
    }

    fn export_to(
        &mut self,
        format: Format,
        out: &Path,
        force: bool,
        selection: &Selection,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Exported> {
        let replace_file =
            || super::files::check_output(out, "the export", force, format.is_folder(), &|_| false);
        if format == Format::Csv {
            return self.export_csv(out, selection, &replace_file, progress);
        }
        let selected = selection.rows(self.conn())?;
        if selected.is_empty() {
            return Ok(Exported::default());
        }
        if matches!(format, Format::Credly | Format::Canvas) {
            replace_file()?;
            let files = self.export_bulk(format, out, &selected, progress)?;
            let batch = match self.record_batch(format, out, &selected) {
                Ok(b) => b,
                Err(e) => {
                    remove_all(&files);
                    return Err(e);
                }
            };
            return Ok(Exported {
                batch,
                count: selected.len(),
                files,
            });
        }
        replace_file()?;
        // Files already there: a special file or a link is refused before anything is written;
        // a regular file is replaced only with `force`, or when it holds exactly what would be
        // written (the files an interrupted run of the same export left).
        let mut existing = std::collections::HashSet::new();
        if format.is_folder() {
            let ext = match format {
                Format::Feedback => "md",
                Format::Obv3Jwt => "jwt",
                _ => "json",
            };
            for s in &selected {
                let file = out.join(format!("{}.{ext}", s.id));
                match super::files::Kind::of(&file) {
                    super::files::Kind::Missing => {}
                    super::files::Kind::File => {
                        existing.insert(file);
                    }
                    _ => {
                        super::files::check_file_in_folder(&file, force)?;
                    }
                }
            }
        }
        let replaces = |path: &Path, bytes: &[u8]| -> Result<bool> {
            if force || !existing.contains(path) {
                return Ok(true);
            }
            match std::fs::read(path) {
                Ok(old) if old == bytes => Ok(false),
                _ => Err(super::files::existing_in_folder(path)),
            }
        };
        let total = selected.len();
        let mut files = Vec::new();
        let written_now: Vec<PathBuf>;
        match format {
            Format::Obv3Signed | Format::Obv3Jwt => {
                // Every rubric's key is loaded and checked before anything is written.
                let mut signer = super::credentials::Signer::new();
                for pk in selection.rubrics(self.conn())? {
                    let issuer = signer.issuer_for(&*self.rubric(pk)?)?;
                    if format == Format::Obv3Jwt {
                        super::credentials::may_sign_jwts(&issuer)?;
                    }
                }
                std::fs::create_dir_all(out).map_err(|e| {
                    AppError::refused(format!("cannot create the folder {}: {e}", out.display()))
                })?;
                let mut kept = Vec::new();
                let ld = signer.ld.clone();
                files = write_files(|send| {
                    // Credentials are made here (they read the workspace) and signed in chunks on
                    // every core.
                    const CHUNK: usize = 256;
                    let mut done = 0;
                    for chunk in selected.chunks(CHUNK) {
                        let mut prepared = Vec::with_capacity(chunk.len());
                        for s in chunk {
                            let (rec, _, r) = self.export_record(s.pk)?;
                            let issuer = signer.issuer_for(&r)?;
                            prepared.push((
                                s.id.clone(),
                                super::credentials::prepare(&issuer, &r, &rec),
                                issuer,
                            ));
                        }
                        let signed = sign_all(&ld, format, prepared)?;
                        for (id, bytes) in signed {
                            let ext = if format == Format::Obv3Jwt {
                                "jwt"
                            } else {
                                "json"
                            };
                            let path = out.join(format!("{id}.{ext}"));
                            if replaces(&path, &bytes)? {
                                if !send(path, bytes) {
                                    return Ok(());
                                }
                            } else {
                                kept.push(path);
                            }
                            done += 1;
                            progress(done, total);
                        }
                    }
                    Ok(())
                })?;
                written_now = files.clone();
                files.extend(kept);
            }
            Format::Credly | Format::Canvas => {
                unreachable!("a bulk file is written by export_bulk")
            }
            Format::Obv3 | Format::Elm | Format::Feedback => {
                std::fs::create_dir_all(out).map_err(|e| {
                    AppError::refused(format!("cannot create the folder {}: {e}", out.display()))
                })?;
                let mut kept = Vec::new();
                files = write_files(|send| {
                    for (i, s) in selected.iter().enumerate() {
                        let (rec, _, r) = self.export_record(s.pk)?;
                        let (name, bytes) = match format {
                            Format::Obv3 => (
                                format!("{}.json", s.id),
                                pretty(&obv3::credential(&r, &rec)),
                            ),
                            Format::Elm => {
                                (format!("{}.json", s.id), pretty(&elm::credential(&r, &rec)))
                            }
                            _ => (
                                format!("{}.md", s.id),
                                feedback::letter(&r, &rec).into_bytes(),
                            ),
                        };
                        let path = out.join(name);
                        if replaces(&path, &bytes)? {
                            if !send(path, bytes) {
                                break;
                            }
                        } else {
                            kept.push(path);
                        }
                        progress(i + 1, total);
                    }
                    Ok(())
                })?;
                written_now = files.clone();
                files.extend(kept);
            }
            Format::Csv => unreachable!("a CSV export is written by export_csv"),
            Format::Jsonl => {
                let mut lines = Vec::with_capacity(selected.len());
                for (i, s) in selected.iter().enumerate() {
                    let (rec, extra, _) = self.export_record(s.pk)?;
                    let mut v =
                        serde_json::to_value(&rec).map_err(|e| AppError::refused(e.to_string()))?;
                    if let (Value::Object(m), Value::Object(x)) = (&mut v, extra) {
                        m.extend(x);
                    }
                    lines.push(v.to_string());
                    progress(i + 1, total);
                }
                write_atomic(out, |w| {
                    for l in &lines {
                        w.write_all(l.as_bytes())?;
                        w.write_all(b"\n")?;
                    }
                    Ok(())
                })?;
                files.push(out.to_path_buf());
                written_now = files.clone();
            }
        }
        let written_now = &written_now;
        let batch = match self.record_batch(format, out, &selected) {
            Ok(b) => b,
            Err(e) => {
                // (the files that were there before are kept; this run's go)
                remove_all(written_now);
                return Err(e);
            }
        };
        Ok(Exported {
            batch,
            count: selected.len(),
            files,
        })
    }

    fn decision_rubric(&self, pk: i64) -> Result<i64> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT rubric_pk FROM decisions WHERE portfolio_pk = ?1 AND phase = 'first'",
            )?
            .query_row([pk], |r| r.get(0))?)
    }

    fn record_batch(&mut self, format: Format, out: &Path, selected: &[Selected]) -> Result<i64> {
        let user = self.user.clone();
        let mut tx = self.store.begin(&user)?;
        let batch = record_batch_in(&mut tx, format, out, selected)?;
        tx.commit()?;
        Ok(batch)
    }

    /// The CSV export: the rows are read on a second, read-only connection from a snapshot of
    /// the workspace, while this connection selects them too and records the batch in a write
    /// transaction on another thread (another core); that transaction commits once the file is
    /// in place with as many rows as it recorded, and rolls back otherwise. A change by another
    /// process between the first look and the write lock is refused (run the export again).
    fn export_csv(
        &mut self,
        out: &Path,
        selection: &Selection,
        replace_file: &dyn Fn() -> Result<()>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Exported> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let head = crate::store::audit::head;
        let rubrics = self.all_rubrics()?;
        // Whether there is anything (and of which rubrics), and the last change seen (the head
        // of the audit chain), from one snapshot.
        let (seen, used) = {
            let _snapshot = self.conn().snapshot()?;
            (head(self.conn())?, selection.rubrics(self.conn())?)
        };
        if used.is_empty() {
            return Ok(Exported::default());
        }
        replace_file()?;
        let done = |batch, count| Exported {
            batch,
            count,
            files: vec![out.to_path_buf()],
        };
        let Some(reader) = crate::app::query::read_only_twin(self.conn()) else {
            // (a workspace in memory: one connection, one step after the other)
            let selected = selection.rows(self.conn())?;
            let total = AtomicUsize::new(selected.len());
            let written = csv_file::write(
                self.conn(),
                out,
                selection,
                &used,
                &rubrics,
                &total,
                progress,
            )?;
            if written != selected.len() {
                let _ = std::fs::remove_file(out);
                return Err(rows_differ(written, selected.len()));
            }
            let batch = self.record_batch(Format::Csv, out, &selected)?;
            return Ok(done(batch, selected.len()));
        };
        let changed = || {
            AppError::refused(
                "the workspace changed while the export was being prepared; run it again",
            )
        };
        reader.execute_batch("BEGIN")?;
        if head(&reader)? != seen {
            return Err(changed());
        }
        let user = self.user.clone();
        let store = &mut self.store;
        let total = AtomicUsize::new(0);
        // The rows written, once the file is in place (`None`: it is not).
        let (go, wait) = std::sync::mpsc::channel::<Option<usize>>();
        let (ready, started) = std::sync::mpsc::channel::<Result<()>>();
        std::thread::scope(|scope| {
            let total = &total;
            let recorder = scope.spawn(move || -> Result<(i64, usize)> {
                let abandoned = || AppError::refused("export abandoned");
                let mut tx = match store.begin(&user) {
                    Ok(tx) => tx,
                    Err(e) => {
                        let _ = ready.send(Err(e.into()));
                        return Err(abandoned());
                    }
                };
                let fresh = head(&tx)
                    .map_err(AppError::from)
                    .and_then(|h| if h == seen { Ok(()) } else { Err(changed()) });
                let failed = fresh.is_err();
                let _ = ready.send(fresh);
                if failed {
                    return Err(abandoned());
                }
                let selected = selection.rows(&tx)?;
                total.store(selected.len(), Ordering::Relaxed);
                let batch = record_batch_in(&mut tx, Format::Csv, out, &selected)?;
                match wait.recv() {
                    Ok(Some(n)) if n == selected.len() => {
                        tx.commit()?;
                        Ok((batch, n))
                    }
                    Ok(Some(n)) => Err(rows_differ(n, selected.len())),
                    _ => Err(abandoned()),
                }
            });
            // The recorder holds the write lock (and has checked that nothing changed) before
            // the file is written.
            let written = started
                .recv()
                .unwrap_or_else(|_| Err(AppError::refused("export abandoned")))
                .and_then(|()| {
                    csv_file::write(&reader, out, selection, &used, &rubrics, total, progress)
                });
            // (the snapshot is let go first, so that the commit's checkpoint can take every page)
            let _ = reader.execute_batch("COMMIT");
            let _ = go.send(written.as_ref().ok().copied());
            let recorded = recorder
                .join()
                .unwrap_or_else(|_| Err(AppError::refused("recording the export failed")));
            written?;
            match recorded {
                Ok((batch, count)) => Ok(done(batch, count)),
                Err(e) => {
                    // (the file is in place but the export is not recorded: no file either)
                    let _ = std::fs::remove_file(out);
                    Err(e)
                }
            }
        })
    }
}

/// The refusal when the file's rows are not the decisions selected (a released decision without
/// its first marking, in a workspace changed by hand).
fn rows_differ(rows: usize, selected: usize) -> AppError {
    AppError::refused(format!(
        "the file has {rows} rows but {selected} decisions were selected (a released decision without its first marking?); nothing recorded"
    ))
}

/// Records an export batch of `selected` in `tx`: the batch, its items, the move of released
/// decisions to `exported`, and the audit record.
fn record_batch_in(
    tx: &mut crate::store::Tx<'_>,
    format: Format,
    out: &Path,
    selected: &[Selected],
) -> Result<i64> {
    let target = out.display().to_string();
    let batch: i64 = tx.query_row(
        "INSERT INTO export_batches (format, by_user, at, count, target) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING pk",
        params![format.as_str(), tx.actor(), tx.at(), selected.len() as i64, target],
        |r| r.get(0),
    )?;
    // Set-based on SQLite: the row keys go to it as one array.
    let array: Option<std::rc::Rc<Vec<rusqlite::types::Value>>> = tx.sqlite().map(|_| {
        std::rc::Rc::new(
            selected
                .iter()
                .map(|s| rusqlite::types::Value::Integer(s.pk))
                .collect(),
        )
    });
    let mut pks: Vec<i64> = selected.iter().map(|s| s.pk).collect();
    pks.sort_unstable();
    match (tx.sqlite(), &array) {
        (Some(c), Some(a)) => {
            c.execute(
                "INSERT INTO export_items (batch_pk, portfolio_pk, format)
                 SELECT ?1, value, ?2 FROM rarray(?3) ORDER BY value",
                rusqlite::params![batch, format.as_str(), a],
            )
            .map_err(crate::store::StoreError::from)?;
        }
        _ => {
            // (on a server, one statement for them all: a statement a row was a round trip
            // each, a hundred thousand for as many decisions)
            tx.prepare_cached(
                "INSERT INTO export_items (batch_pk, portfolio_pk, format)
                 SELECT ?1, CAST(x AS BIGINT), ?2 FROM unnest(string_to_array(CAST(?3 AS TEXT), ',')) AS x
                 ORDER BY 2",
            )?
            .execute(params![batch, format.as_str(), pk_list(&pks)])?;
        }
    }
    let ids: Vec<&str> = selected.iter().map(|s| s.id.as_str()).collect();
    let outcomes: HashMap<&str, usize> = selected.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.outcome.as_str()).or_default() += 1;
        m
    });
    let seq = tx.append(
        "export",
        format!("export/{batch}"),
        None,
        None,
        Some(json!({
            "batch": batch, "format": format.as_str(), "target": target,
            "count": selected.len(), "outcomes": outcomes, "portfolios": ids,
        })),
    )?;
    match (tx.sqlite(), &array) {
        (Some(c), Some(a)) => {
            c.execute(
                "UPDATE portfolios SET status = 'exported', version = ?2, updated_at = ?3
                 WHERE status = 'released' AND pk IN rarray(?1)",
                rusqlite::params![a, seq, tx.at()],
            )
            .map_err(crate::store::StoreError::from)?;
        }
        _ => {
            tx.prepare_cached(
                "UPDATE portfolios SET status = 'exported', version = ?2, updated_at = ?3
                 WHERE status = 'released'
                   AND pk = ANY (CAST(string_to_array(CAST(?1 AS TEXT), ',') AS BIGINT[]))",
            )?
            .execute(params![pk_list(&pks), seq, tx.at()])?;
        }
    }
    Ok(batch)
}

/// Row keys as one text, separated by commas (for a server's `string_to_array`).
fn pk_list(pks: &[i64]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(pks.len() * 8);
    for (i, pk) in pks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{pk}");
    }
    out
}

/// Signs `prepared` credentials (id, credential, issuer) on every core, in order.
fn sign_all(
    ld: &crate::domain::credential::ld::Canonicalizer,
    format: Format,
    prepared: Vec<(
        String,
        Value,
        Arc<crate::domain::credential::issuer::Issuer>,
    )>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let sign_one = |(id, cred, issuer): &(
        String,
        Value,
        Arc<crate::domain::credential::issuer::Issuer>,
    )|
     -> Result<(String, Vec<u8>)> {
        let bytes = if format == Format::Obv3Jwt {
            let mut t = super::credentials::sign_jwt(issuer, cred)?.into_bytes();
            t.push(b'\n');
            t
        } else {
            pretty(&super::credentials::sign_data_integrity(ld, issuer, cred)?)
        };
        Ok((id.clone(), bytes))
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(prepared.len().max(1));
    if threads <= 1 {
        return prepared.iter().map(sign_one).collect();
    }
    let per = prepared.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(sign_one).collect::<Result<Vec<_>>>()))
            .collect();
        let mut out = Vec::with_capacity(prepared.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| AppError::refused("a signing thread failed"))??,
            );
        }
        Ok(out)
    })
}

pub(super) fn pretty(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every write failing late (after its sync, at the rename: the names are taken by
    /// folders) while more files keep coming: the export ends with the error naming a file
    /// instead of waiting forever on a full channel after the writers stopped.
    #[test]
    fn failing_writes_end_with_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_path_buf();
        for i in 0..200 {
            std::fs::create_dir(out.join(format!("taken-{i}.json"))).unwrap();
        }
        let (done, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let r = write_files(|send| {
                for i in 0..200 {
                    // (ignoring the refusal, as a careless producer would)
                    let _ = send(out.join(format!("taken-{i}.json")), vec![b'x'; 64]);
                }
                Ok(())
            });
            let _ = done.send(r.map(|p| p.len()));
        });
        let r = wait
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("write_files hung");
        let e = r.expect_err("the writes cannot succeed").to_string();
        assert!(e.contains("taken-"), "{e}");
    }

    /// The files handed over are all written, whole, on return.
    #[test]
    fn every_file_is_in_place_on_return() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_files(|send| {
            for i in 0..100 {
                assert!(send(
                    dir.path().join(format!("{i}.txt")),
                    i.to_string().into_bytes()
                ));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(paths.len(), 100);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(std::fs::read_to_string(p).unwrap(), i.to_string());
        }
    }
}
