//! Application services: the operations a person performs (import, mark, submit, sample,
//! moderate, release, export, …), each one transaction with its audit records. Both the command
//! line and the workbench call these; neither holds a business rule of its own.

pub mod audit;
pub mod bank;
pub mod credentials;
pub mod export;
pub mod extract;
pub mod files;
pub mod import;
pub mod issuer;
pub mod leap2a;
pub mod links;
pub mod live;
pub mod mark;
pub mod moderation;
pub mod people;
pub mod query;
pub mod refusal;
pub mod seed;
pub mod signing;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::db::{OptionalExtension, params};

use crate::domain::rubric::{self, Rubric};
use crate::store::{Store, StoreError};

/// What can go wrong in a service. Every variant but `Store` is the person's to fix.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Invalid input or a rule that refuses the action; one line per problem.
    #[error("{}", .0.join("\n"))]
    Refused(Vec<String>),
    /// The person may not do this.
    #[error("{0}")]
    Denied(String),
    /// Someone else changed the record since it was read.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A rule refused, with its facts (each front end adds its own advice).
    #[error(transparent)]
    Refusal(refusal::Refusal),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Missing { path } => AppError::Refusal(refusal::Refusal::NoWorkspace {
                folder_missing: crate::store::missing_folder(&path),
                path,
            }),
            StoreError::Empty { path } => {
                AppError::Refusal(refusal::Refusal::NotAWorkspace { path })
            }
            e => AppError::Store(e),
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Store(e.into())
    }
}

impl From<crate::store::db::Error> for AppError {
    fn from(e: crate::store::db::Error) -> Self {
        AppError::Store(e.into())
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Store(StoreError::Io(e))
    }
}

impl From<refusal::Refusal> for AppError {
    fn from(r: refusal::Refusal) -> Self {
        AppError::Refusal(r)
    }
}

impl AppError {
    pub fn refused(m: impl Into<String>) -> AppError {
        AppError::Refused(vec![m.into()])
    }
    /// A rubric row key the workspace does not hold (a workspace changed by hand).
    pub fn no_rubric(pk: i64) -> AppError {
        AppError::NotFound(format!("no rubric with key {pk}"))
    }
    /// The lines to show a person.
    pub fn lines(&self) -> Vec<String> {
        match self {
            AppError::Refused(v) => v.clone(),
            other => other.to_string().lines().map(str::to_string).collect(),
        }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

/// The database path from `--db`, `ASSAY_DB`, else `./assay.db`.
pub fn resolve_db(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("ASSAY_DB").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("assay.db"))
}

/// Who is working, from `--as`, `ASSAY_USER`, else the OS login name.
pub fn resolve_user(flag: Option<String>) -> String {
    flag.filter(|s| !s.trim().is_empty())
        .or_else(|| {
            std::env::var("ASSAY_USER")
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .or_else(|| std::env::var("USER").ok().filter(|s| !s.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|s| !s.is_empty()))
        .or_else(login_name)
        .unwrap_or_else(|| "assessor".to_string())
}

/// The login name of the process's user, from the password database.
fn login_name() -> Option<String> {
    #[cfg(unix)]
    {
        // SAFETY: getpwuid returns a pointer into static storage or null; it is read at once.
        unsafe {
            let pw = libc::getpwuid(libc::getuid());
            if pw.is_null() || (*pw).pw_name.is_null() {
                return None;
            }
            let name = std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
            (!name.is_empty()).then_some(name)
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Reads a file named on the command line for loading (a rubric, a manifest): a regular file,
/// refused over the YAML size limit before it is read whole.
pub fn read_limited(path: &Path) -> std::result::Result<Vec<u8>, String> {
    files::read_regular(path, crate::domain::yaml::MAX_BYTES as u64)
        .map_err(|e| format!("{}:1:1: error: {e}", path.display()))
}

/// The clock's time now, RFC 3339 in UTC (for what is not a record: file names, display).
/// Records take the time of their change, [`crate::store::Tx::at`].
pub fn now() -> String {
    crate::store::clock::format(crate::store::clock::now())
}

/// An open workspace and the person working in it.
pub struct Workspace {
    pub(crate) store: Store,
    pub user: String,
    rubrics: RefCell<HashMap<i64, Arc<Rubric>>>,
    /// Whether the person is a registered lead, once asked.
    pub(crate) lead_cache: std::cell::Cell<Option<bool>>,
}

impl Workspace {
    /// Opens the workspace at `path`, making a new one there if there is none.
    pub fn open(path: &Path, user: String) -> Result<Workspace> {
        if let Some(uri) = server_uri(path) {
            return Self::with_store(Store::open_server(uri)?, user);
        }
        let store = Store::open(path)?;
        let created = store.created;
        Self::with_store(store, user).inspect_err(|_| {
            // (a workspace that could not be given its identity is not left half made)
            if created {
                crate::store::remove_workspace_files(path);
            }
        })
    }

    /// Opens the workspace at `path`, which must exist: for every command but those that make
    /// one (import, user add, the workbench). A location that cannot be written is opened for
    /// reading.
    pub fn open_existing(path: &Path, user: String) -> Result<Workspace> {
        if let Some(uri) = server_uri(path) {
            return Self::with_store(Store::open_server(uri)?, user);
        }
        let store = Store::open_existing(path)?;
        Self::with_store(store, user)
    }

    /// As [`Workspace::open_existing`], for `audit verify`: when the key registered for the
    /// person is not a key at all (changed behind assay's back), the workspace still opens —
    /// nobody can prove to be them, so nothing can be changed as them, and verify names the
    /// edit. A usable key is asked for as always.
    pub fn open_to_verify(path: &Path, user: String) -> Result<Workspace> {
        if let Some(uri) = server_uri(path) {
            return Self::with_store_checked(Store::open_server(uri)?, user, true);
        }
        let store = Store::open_existing(path)?;
        Self::with_store_checked(store, user, true)
    }

    /// Whether the workspace was opened for reading only.
    pub fn read_only(&self) -> bool {
        self.store.read_only
    }

    /// Whether opening it made the workspace (there was none at its path).
    pub fn created(&self) -> bool {
        self.store.created
    }

    /// For tools that build large workspaces to measure with (the examples, the benchmarks):
    /// from now on this connection commits without waiting for the disk (`PRAGMA synchronous =
    /// OFF`), so a crash may lose its last commits. Never for a workspace in use.
    /// Keeps this connection's page cache small (4 MiB on a file; a server keeps its own): for
    /// the workbench, whose reads are the rows of a screen and one portfolio at a time, so that its
    /// memory does not grow with the workspace.
    pub fn small_page_cache(&self) -> Result<()> {
        if self.conn().is_pg() {
            return Ok(());
        }
        Ok(self.conn().execute_batch("PRAGMA cache_size = -4096")?)
    }

    /// Moves the checkpoints of the workspace file's write-ahead log off this connection: a
    /// thread of its own, on a connection of its own, copies the log into the file at most once
    /// a second after it changed (a passive checkpoint: it waits for nobody and nobody waits for
    /// it), and this connection stops doing it after the commit that filled 1,000 pages. For the
    /// workbench, whose every saved key commits: the checkpoint SQLite runs after such a commit
    /// made a save's frame late now and then over a large workspace. The log file is kept at no
    /// more than 4 MiB once reset. Nothing on a server, or when the thread's connection cannot
    /// be opened (checkpoints then stay where they were).
    pub fn checkpoint_in_background(&self) -> Result<()> {
        if self.conn().is_pg() {
            return Ok(());
        }
        let Some(path) = self
            .conn()
            .path()
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
        else {
            return Ok(());
        };
        let Ok(own) = crate::store::db::Connection::open_with_flags(
            &path,
            crate::store::db::OpenFlags::SQLITE_OPEN_READ_WRITE
                | crate::store::db::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) else {
            return Ok(());
        };
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        std::thread::spawn(move || {
            const EVERY: std::time::Duration = std::time::Duration::from_secs(1);
            // (the log's last change as the file system tells it: a commit writes the log)
            let stamp = |p: &Path| {
                std::fs::metadata(p)
                    .ok()
                    .map(|m| (m.len(), m.modified().ok()))
            };
            let mut done = None;
            loop {
                std::thread::sleep(EVERY);
                let now = stamp(&wal);
                if now.is_some() && now != done {
                    let _ = own.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                    done = stamp(&wal);
                }
            }
        });
        Ok(self
            .conn()
            .execute_batch("PRAGMA journal_size_limit = 4194304; PRAGMA wal_autocheckpoint = 0")?)
    }

    pub fn skip_fsync(&self) -> Result<()> {
        if self.conn().is_pg() {
            return Ok(self.conn().execute_batch("SET synchronous_commit = off")?);
        }
        Ok(self.conn().execute_batch("PRAGMA synchronous = OFF")?)
    }

    /// Moves the write-ahead log into the database file and empties it (`PRAGMA
    /// wal_checkpoint(TRUNCATE)`), then, with `optimize`, lets SQLite bring its query planner's
    /// statistics up to date (`PRAGMA optimize`): for a workspace built in bulk, before it is
    /// measured or handed on.
    pub fn checkpoint(&self, optimize: bool) -> Result<()> {
        if self.conn().is_pg() {
            if optimize {
                self.conn().execute_batch("ANALYZE")?;
            }
            return Ok(());
        }
        self.conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        if optimize {
            self.conn().execute_batch("PRAGMA optimize")?;
        }
        Ok(())
    }

    pub(crate) fn with_store(store: Store, user: String) -> Result<Workspace> {
        Self::with_store_checked(store, user, false)
    }

    fn with_store_checked(mut store: Store, user: String, verifying: bool) -> Result<Workspace> {
        let user = if store.conn.is_pg() {
            server_person(&store, user)?
        } else {
            user
        };
        if !store.read_only {
            ensure_identity(&mut store, &user)?;
        }
        // Nobody acts as a person with a registered key without it (reading included: what a
        // person may see is theirs too).
        let key = match people::key_of(&store.conn, &user) {
            Err(AppError::Refused(_)) if verifying => None,
            k => k?,
        };
        if let Some(key) = key {
            match signing::signer_for(&key) {
                Ok(s) => store.set_signer(&user, s),
                Err(no) => {
                    return Err(refusal::Refusal::KeyRequired {
                        who: user,
                        fingerprint: crate::domain::sshsig::fingerprint(&key),
                        tried: no.tried,
                    }
                    .into());
                }
            }
        }
        Ok(Workspace {
            store,
            user,
            rubrics: RefCell::new(HashMap::new()),
            lead_cache: std::cell::Cell::new(None),
        })
    }

    pub(crate) fn conn(&self) -> &crate::store::db::Connection {
        &self.store.conn
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Remembers a setting of the workbench (not a fact of the record: no audit record).
    pub fn remember(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.conn().execute(
                "INSERT INTO ui_state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, v],
            )?,
            None => self.conn().execute("DELETE FROM ui_state WHERE key = ?1", [key])?,
        };
        Ok(())
    }

    /// A setting of the workbench remembered with [`Workspace::remember`].
    pub fn recalled(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM ui_state WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Checks the audit chain and every stored fact against it (`assay audit verify`);
    /// `progress` hears how far each stage has come.
    pub fn verify(
        &self,
        progress: &mut dyn FnMut(audit::Stage, u64, u64),
    ) -> Result<audit::Verification> {
        // (on a server the database hides blind first marks from all but their markers and
        // leads, so only a lead reads the whole chain)
        if self.conn().is_pg()
            && self.anyone_registered()?
            && !people::is_registered_lead(self.conn(), &self.user)?
        {
            return Err(AppError::refused(format!(
                "on a server workspace the whole chain is a lead's to verify (the database keeps blind first marks from others); `{}` is not a lead",
                self.user
            )));
        }
        Ok(crate::store::verify::verify(self.conn(), progress)?)
    }

    /// Copies the whole workspace to `to` (a new or empty file, or an empty database on a
    /// server), a lead's work: the source's chain is verified first, the copy's after.
    /// `progress` is told rows copied and the total.
    pub fn copy_to(&self, to: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<Copied> {
        if !people::is_registered_lead(self.conn(), &self.user)? {
            return Err(AppError::refused(format!(
                "only a lead copies a whole workspace; `{}` is not a lead",
                self.user
            )));
        }
        let source = self.verify(&mut |_, _, _| {})?;
        if !source.problems.is_empty() {
            let mut lines = vec![format!(
                "the workspace's audit chain does not verify ({} problem(s)), so it is not copied; `assay audit verify` names them:",
                source.problems.len()
            )];
            lines.extend(source.problems.iter().take(5).map(|p| p.to_string()));
            return Err(AppError::Refused(lines));
        }
        let made_file = server_uri(to).is_none() && !to.exists();
        let mut target = match server_uri(to) {
            Some(uri) => Store::open_server(uri)?,
            None => {
                files::check_output(to, "the copy", true, false, &|p| {
                    self.store.is_workspace_file(p)
                })?;
                Store::open(to)?
            }
        };
        let refused = |e: crate::store::StoreError| -> AppError {
            match e {
                crate::store::StoreError::Server(m) if m.contains("not empty") => {
                    AppError::refused(format!("{}: {m}", to.display()))
                }
                e => e.into(),
            }
        };
        if let Err(e) = crate::store::copy::copy(&self.store, &mut target, progress) {
            drop(target);
            if made_file {
                crate::store::remove_workspace_files(to);
            }
            return Err(refused(e));
        }
        if target.conn.is_pg() {
            let rubrics: Vec<(i64, Vec<u8>)> = target
                .conn
                .prepare("SELECT pk, bytes FROM rubrics ORDER BY pk")?
                .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<crate::store::db::Result<_>>()?;
            for (pk, bytes) in rubrics {
                let blind = rubric::load("(stored)", &bytes)
                    .map(|l| l.rubric.moderation.blind)
                    .unwrap_or(false);
                target.conn.execute(
                    "INSERT INTO rubric_rules (rubric_pk, blind) VALUES (?1, ?2)",
                    params![pk, blind],
                )?;
            }
        }
        let copy = Workspace::with_store(target, self.user.clone())?;
        let target = copy.verify(&mut |_, _, _| {})?;
        Ok(Copied {
            rows: source.rows as u64,
            source,
            target,
        })
    }

    /// Writes a verified-to-be-consistent copy of the workspace to `dest`: never over the
    /// workspace itself, a device, a FIFO or a symbolic link, and over an existing file only with
    /// `force`.
    pub fn backup(&self, dest: &Path, force: bool) -> Result<()> {
        files::check_output(dest, "the backup", force, false, &|p| {
            self.store.is_workspace_file(p)
        })?;
        if self.conn().is_pg() {
            // (a server workspace is copied into a new local file)
            if dest.exists() {
                std::fs::remove_file(dest)?;
            }
            return self.copy_to(dest, &mut |_, _| {}).map(|_| ());
        }
        self.store.backup_to(dest).map_err(|e| {
            AppError::refused(format!(
                "cannot write the backup {}: {e}; give a file in a folder that exists and that you may write to",
                dest.display()
            ))
        })
    }

    /// The rubric stored under `pk`, parsed once and cached.
    pub fn rubric(&self, pk: i64) -> Result<Arc<Rubric>> {
        if let Some(r) = self.rubrics.borrow().get(&pk) {
            return Ok(r.clone());
        }
        let (id, bytes): (String, Vec<u8>) = self
            .conn()
            .prepare_cached("SELECT id, bytes FROM rubrics WHERE pk = ?1")?
            .query_row([pk], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| AppError::no_rubric(pk))?;
        let loaded = rubric::load(&format!("{id} (stored)"), &bytes)
            .map_err(|d| AppError::Refused(d.errors().map(|e| e.to_string()).collect()))?;
        let r = Arc::new(loaded.rubric);
        self.rubrics.borrow_mut().insert(pk, r.clone());
        Ok(r)
    }

    /// Every stored rubric, by key.
    pub fn all_rubrics(&self) -> Result<HashMap<i64, Arc<Rubric>>> {
        let pks: Vec<i64> = {
            let mut st = self.conn().prepare_cached("SELECT pk FROM rubrics")?;
            st.query_map((), |r| r.get(0))?
                .collect::<crate::store::db::Result<_>>()?
        };
        pks.into_iter()
            .map(|pk| Ok((pk, self.rubric(pk)?)))
            .collect()
    }

    /// Finds a stored rubric by `id` or `id@version` (the newest loaded when no version).
    pub fn find_rubric(&self, spec: &str) -> Result<Option<i64>> {
        let (id, version) = match spec.split_once('@') {
            Some((i, v)) => (i, Some(v)),
            None => (spec, None),
        };
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT pk FROM rubrics WHERE id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR version = CAST(?2 AS TEXT)) ORDER BY pk DESC LIMIT 1",
            )?
            .query_row(params![id, version], |r| r.get(0))
            .optional()?)
    }

    /// Like [`Workspace::find_rubric`] but refuses when there is none.
    pub fn require_rubric(&self, spec: &str) -> Result<i64> {
        self.find_rubric(spec)?.ok_or_else(|| {
            AppError::Refusal(refusal::Refusal::NoSuchRubric {
                spec: spec.to_string(),
            })
        })
    }

    /// The id (without version) of the rubric a `--rubric` option names, refusing one the
    /// workspace does not hold; `None` for no option (every rubric).
    pub fn rubric_filter(&self, spec: Option<&str>) -> Result<Option<String>> {
        spec.map(|r| Ok(self.rubric_id_version(self.require_rubric(r)?)?.0))
            .transpose()
    }

    /// The portfolio's row key from its id.
    pub fn portfolio_pk(&self, id: &str) -> Result<i64> {
        self.conn()
            .prepare_cached("SELECT pk FROM portfolios WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                AppError::Refusal(refusal::Refusal::NoSuchPortfolio { id: id.to_string() })
            })
    }
}

/// Records that a change touched portfolio `pk`: its version becomes the number of the change's
/// newest record, its `updated_at` the change's time (both derived from the chain by `audit
/// verify`). Call it after appending the portfolio's records.
pub(crate) fn touch(tx: &crate::store::Tx<'_>, pk: i64) -> Result<i64> {
    tx.prepare_cached("UPDATE portfolios SET version = ?2, updated_at = ?3 WHERE pk = ?1")?
        .execute(params![pk, tx.seq(), tx.at()])?;
    Ok(tx.seq())
}

/// The audit record of one change to a portfolio, for [`update_portfolio`].
pub(crate) struct PortfolioRecord<'a> {
    pub action: &'a str,
    pub entity: String,
    /// The portfolio's id.
    pub portfolio: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// One step of a change to portfolio `pk`: its row is updated by `set` (SQL `column = ?n`
/// assignments, `?1` being the row key and `params` `?2` on), then `record` is appended; returns
/// the record's number. Call [`touch`] after the portfolio's last record.
pub(crate) fn update_portfolio(
    tx: &mut crate::store::Tx<'_>,
    pk: i64,
    set: &str,
    params: &[&dyn crate::store::db::ToSql],
    record: PortfolioRecord<'_>,
) -> Result<i64> {
    let mut bind: Vec<&dyn crate::store::db::ToSql> = Vec::with_capacity(params.len() + 1);
    bind.push(&pk);
    bind.extend_from_slice(params);
    tx.prepare_cached(&format!("UPDATE portfolios SET {set} WHERE pk = ?1"))?
        .execute(bind.as_slice())?;
    Ok(tx.append(
        record.action,
        record.entity,
        Some(record.portfolio),
        record.before,
        record.after,
    )?)
}

/// What [`Workspace::copy_to`] did: the rows copied and both sides' verification.
pub struct Copied {
    pub rows: u64,
    pub source: audit::Verification,
    pub target: audit::Verification,
}

/// Whether there may be a workspace at `db`: a file that exists, or any server.
pub fn may_hold_workspace(db: &Path) -> bool {
    server_uri(db).is_some() || db.exists()
}

/// What portfolios' rows are read from: the table, or on a server the view that masks the first
/// decision's outcome, grade and score while blind moderation hides them from the person (see
/// `pg_access.sql`; those columns themselves are not granted to them there).
pub(crate) fn portfolios_read(conn: &crate::store::db::Connection) -> &'static str {
    if conn.is_pg() {
        "assay_portfolios"
    } else {
        "portfolios"
    }
}

/// What draws' items are read from: as [`portfolios_read`], for the reasons they give.
pub(crate) fn draw_items_read(conn: &crate::store::db::Connection) -> &'static str {
    if conn.is_pg() {
        "assay_draw_items"
    } else {
        "draw_items"
    }
}

impl Workspace {
    /// The column that says, on a server, whether blind moderation hides a portfolio's first
    /// marking from the person (the masking view answers it, set by set); on the local file
    /// `NULL`, and the rule is asked row by row.
    pub(crate) fn first_hidden_read(&self) -> &'static str {
        if self.conn().is_pg() {
            "first_hidden"
        } else {
            "NULL"
        }
    }

    pub(crate) fn portfolios_read(&self) -> &'static str {
        portfolios_read(self.conn())
    }
    pub(crate) fn draw_items_read(&self) -> &'static str {
        draw_items_read(self.conn())
    }
}

/// Whether `path` names a workspace on a server (a `postgres://` URI) rather than a file.
pub fn is_server(path: &Path) -> bool {
    server_uri(path).is_some()
}

/// The server URI a `--db` value is, if it is one.
fn server_uri(path: &Path) -> Option<&str> {
    path.to_str().filter(|p| crate::store::server::is_uri(p))
}

/// On a server the person is the database login (`session_user`): naming anyone else (with
/// `--as` or `ASSAY_USER`) is refused; the operating system's login name, the default when
/// nobody is named, gives way to it.
fn server_person(store: &Store, named: String) -> Result<String> {
    let login: String = store
        .conn
        .query_row("SELECT CAST(session_user AS TEXT)", (), |r| r.get(0))?;
    if named == login || (named == resolve_user(None) && !user_named()) {
        return Ok(login);
    }
    Err(refusal::Refusal::NotTheLogin { named, login }.into())
}

/// Whether a person was named in `ASSAY_USER`.
fn user_named() -> bool {
    std::env::var("ASSAY_USER").is_ok_and(|v| !v.trim().is_empty())
}

/// Gives a new workspace its id and salt (used for stable export ids and hashed learner ids),
/// recorded as the chain's first record.
fn ensure_identity(store: &mut Store, user: &str) -> Result<()> {
    let has: Option<String> = store
        .conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'workspace_id'",
            (),
            |r| r.get(0),
        )
        .optional()?;
    if has.is_some() {
        return Ok(());
    }
    let mut tx = store.begin(user)?;
    let id = uuid::Uuid::new_v4().to_string();
    let salt = hex::encode(uuid::Uuid::new_v4().as_bytes());
    let at = tx.at().to_string();
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('workspace_id', ?1), ('salt', ?2), ('created_at', ?3)",
        params![id, salt, at],
    )?;
    tx.append(
        "workspace.init",
        "workspace".into(),
        None,
        None,
        Some(serde_json::json!({ "workspace_id": id, "salt": salt, "created_at": at })),
    )?;
    tx.commit()?;
    Ok(())
}
