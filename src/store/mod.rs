//! The workspace database: SQLite in WAL mode with versioned migrations, foreign keys, a busy
//! timeout, write transactions taken up front (`BEGIN IMMEDIATE`) and an append-only audit chain.

pub mod audit;
pub mod blob;
pub mod clock;
pub mod copy;
pub mod db;
pub mod live;
pub mod server;
pub mod verify;

use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use rusqlite::ErrorCode;

use crate::store::db::{Connection, OpenFlags, Transaction};
use serde_json::Value;

/// Migrations, in order. The database's `PRAGMA user_version` is the number applied.
pub const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("002_indexes.sql"),
    include_str!("003_search_table.sql"),
    include_str!("004_search_folded.sql"),
    include_str!("005_marks_levels.sql"),
    include_str!("006_export_items_one_tree.sql"),
    include_str!("007_decisions_export.sql"),
    include_str!("008_open_status_index.sql"),
    include_str!("009_vouched_record.sql"),
    include_str!("010_evidence_groups_links.sql"),
    include_str!("011_evidence_text.sql"),
    include_str!("012_revocations.sql"),
    include_str!("013_signed_records.sql"),
    include_str!("014_queue_order.sql"),
    include_str!("015_definer_path.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// A server workspace's migrations after version 13 (pg_schema.sql and pg_access.sql make
/// version 13), each with the version it brings the schema to: applied in order, in one
/// transaction with the version recorded, to a workspace of an earlier version (and all of
/// them, after those two files, when a workspace is made).
pub const SERVER_MIGRATIONS: &[(i64, &str)] = &[
    (14, include_str!("pg_014_queue_order.sql")),
    (15, include_str!("pg_015_definer_path.sql")),
];

/// The smallest and largest `column` (an integer key) of `table`, `None` when it is empty:
/// bounds for reading the table in parts. (Two subqueries: SQLite looks a lone min() or max()
/// up in the index, but scans the whole table for the two together.)
pub fn key_range(
    conn: &Connection,
    table: &str,
    column: &str,
) -> crate::store::db::Result<Option<(i64, i64)>> {
    let (lo, hi): (Option<i64>, Option<i64>) = conn.query_row(
        &format!("SELECT (SELECT min({column}) FROM {table}), (SELECT max({column}) FROM {table})"),
        (),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(lo.zip(hi))
}

/// The application's functions that migrations call: `assay_search_text(portfolio id, learner
/// id, learner name, rubric key, JSON array of evidence titles)` is
/// [`crate::domain::search::search_text`].
fn register_functions(c: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    c.create_scalar_function(
        "assay_search_text",
        5,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let field = |i| ctx.get::<String>(i);
            let titles: Vec<String> = match ctx.get::<Option<String>>(4)? {
                Some(json) => serde_json::from_str(&json)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))?,
                None => Vec::new(),
            };
            Ok(crate::domain::search::search_text(
                &field(0)?,
                &field(1)?,
                &field(2)?,
                &field(3)?,
                titles.iter().map(String::as_str),
            ))
        },
    )
}

/// How long a writer waits for another process's transaction before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait in force: [`BUSY_TIMEOUT`], or `ASSAY_BUSY_TIMEOUT_MS` when set (for tests and for
/// sites that prefer to fail fast).
pub fn busy_timeout() -> Duration {
    std::env::var("ASSAY_BUSY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(BUSY_TIMEOUT)
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the workspace {path} was written by a newer assay (schema {found}; this assay knows {known}); use a newer assay"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "the workspace database is busy: another process has held its write lock for over {:.1}s (an import, an export or a long write in another assay); wait for it to finish, then try again",
        busy_timeout().as_secs_f64()
    )]
    Busy,
    #[error("cannot open the workspace {path}: {source}")]
    Open { path: String, source: db::Error },
    #[error(
        "{path} is not an assay workspace database (it has no assay schema and holds other tables)"
    )]
    Foreign { path: String },
    #[error("{}", missing_message(path))]
    Missing { path: String },
    #[error("{path} is an empty file, not an assay workspace")]
    Empty { path: String },
    #[error(
        "the workspace {path} is read-only here (its file or its folder cannot be written): reading works, but this change needs write access; nothing was saved"
    )]
    ReadOnly { path: String },
    #[error(
        "disk full: the workspace could not be written (no space left where {path} is); nothing was saved; free some space and try again"
    )]
    Full { path: String },
    #[error(
        "`{actor}` has a registered SSH key, so every change they make is signed with it, and this assay holds no signer for it; nothing was saved"
    )]
    Unsigned { actor: String },
    #[error("the record could not be signed: {0}; nothing was saved")]
    Sign(String),
    /// A server workspace that cannot be reached or used, said in full.
    #[error("{0}")]
    Server(String),
    #[error("workspace database: {0}")]
    Sql(db::Error),
    #[error("{}", io_message(.0))]
    Io(#[from] std::io::Error),
}

/// `ALTER TABLE table ADD COLUMN column decl`, unless the table has the column already.
fn add_column_if_missing(
    c: &Connection,
    table: &str,
    column: &str,
    decl: &str,
) -> crate::store::db::Result<()> {
    let has: bool = c.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM pragma_table_info('{table}') WHERE name = ?1)"),
        [column],
        |r| r.get(0),
    )?;
    if !has {
        c.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

fn missing_message(path: &str) -> String {
    match missing_folder(path) {
        Some(dir) => format!("no workspace at {path}: the folder {dir} does not exist"),
        None => format!("no workspace at {path}: the file does not exist"),
    }
}

/// The folder of a workspace path when it is that folder that does not exist.
pub fn missing_folder(path: &str) -> Option<String> {
    let p = Path::new(path);
    p.parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
        .map(|d| d.display().to_string())
}

fn io_message(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::StorageFull {
        format!("disk full: {e}; nothing was saved; free some space and try again")
    } else {
        e.to_string()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        db::Error::from(e).into()
    }
}

impl From<db::Error> for StoreError {
    fn from(e: db::Error) -> Self {
        if let Some(code) = e.pg_code() {
            use postgres::error::SqlState;
            if *code == SqlState::LOCK_NOT_AVAILABLE {
                return StoreError::Busy;
            }
            if *code == SqlState::INSUFFICIENT_PRIVILEGE {
                let why = match &e {
                    db::Error::Pg(p) => p.as_db_error().map(|d| d.message().to_string()),
                    _ => None,
                }
                .unwrap_or_else(|| e.to_string());
                return StoreError::Server(format!(
                    "the database refused this ({why}): on a server workspace a person acts once a lead has registered them (`assay user add`), and only as their own role allows; nothing was saved"
                ));
            }
            if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
                return StoreError::ReadOnly {
                    path: current_path(),
                };
            }
            if *code == SqlState::DISK_FULL {
                return StoreError::Full {
                    path: current_path(),
                };
            }
        }
        if let db::Error::Pg(p) = &e
            && p.is_closed()
        {
            return StoreError::Server(format!(
                "the connection to {} was lost; nothing more was saved",
                current_path()
            ));
        }
        if is_busy(&e) {
            StoreError::Busy
        } else {
            match e.sqlite_error_code() {
                Some(ErrorCode::ReadOnly) => StoreError::ReadOnly {
                    path: current_path(),
                },
                Some(ErrorCode::DiskFull) => StoreError::Full {
                    path: current_path(),
                },
                // SQLite says "disk I/O error" when a write finds no byte left at all.
                Some(ErrorCode::SystemIoFailure) if no_space_left() => StoreError::Full {
                    path: current_path(),
                },
                _ => StoreError::Sql(e),
            }
        }
    }
}

thread_local! {
    /// The workspace this thread has open, for naming it in errors that come without a path.
    static CURRENT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Whether the file system of the open workspace has no space left.
fn no_space_left() -> bool {
    let path = CURRENT.with(|c| c.borrow().clone());
    let dir = Path::new(&path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
            return false;
        };
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: `c` is a valid C string and `st` a statvfs to fill.
        if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
            return false;
        }
        st.f_bavail == 0
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

fn current_path() -> String {
    CURRENT.with(|c| {
        let p = c.borrow();
        if p.is_empty() {
            "the workspace".to_string()
        } else {
            p.clone()
        }
    })
}

pub fn is_busy(e: &db::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked)
    )
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Signs the records of the person whose SSH key it holds (an agent or a key file: see
/// `app::signing`): the armored SSHSIG, namespace [`crate::domain::sshsig::NAMESPACE`], of a
/// record's text (the bytes its hash is taken over).
pub trait RecordSigner: Send + Sync {
    fn sign(&self, msg: &[u8]) -> std::result::Result<String, String>;
}

/// An open workspace database.
pub struct Store {
    pub conn: Connection,
    pub created: bool,
    /// Opened for reading only (the location cannot be written).
    pub read_only: bool,
    /// Who signs, and with what: the records of a person with a registered key are appended
    /// only when this signs for them.
    signer: Option<(String, Box<dyn RecordSigner>)>,
    /// Where a server workspace is, for the connections of other threads.
    pub server: Option<server::Server>,
}

impl Store {
    /// Connects to the workspace on a PostgreSQL server (`postgres://…`), making its schema in
    /// an empty database.
    pub fn open_server(uri: &str) -> Result<Store> {
        let srv = server::parse(uri)?;
        let client = server::connect(&srv, busy_timeout())?;
        let conn = Connection::Pg(Box::new(std::cell::RefCell::new(db::pg::PgConn::new(
            client,
        ))));
        CURRENT.with(|c| *c.borrow_mut() = srv.shown.clone());
        let mut store = Store {
            conn,
            created: false,
            read_only: false,
            signer: None,
            server: Some(srv),
        };
        store.migrate_server()?;
        Ok(store)
    }

    /// Another connection to the same server workspace (for a thread of its own).
    pub fn reconnect(&self) -> Result<Store> {
        let Some(srv) = &self.server else {
            return Err(StoreError::Server("not a server workspace".into()));
        };
        let client = server::connect(srv, busy_timeout())?;
        Ok(Store {
            conn: Connection::Pg(Box::new(std::cell::RefCell::new(db::pg::PgConn::new(
                client,
            )))),
            created: false,
            read_only: false,
            signer: None,
            server: Some(srv.clone()),
        })
    }

    /// Connects again in place, after the server was restarted or the connection dropped:
    /// the signer and everything else stay.
    pub fn reconnect_in_place(&mut self) -> Result<()> {
        let fresh = self.reconnect()?;
        self.conn = fresh.conn;
        Ok(())
    }

    /// Whether the connection to the server is known to be gone (never on the local file).
    pub fn is_lost(&self) -> bool {
        match &self.conn {
            Connection::Pg(p) => p.borrow().client.is_closed(),
            Connection::Sqlite(_) => false,
        }
    }

    fn migrate_server(&mut self) -> Result<()> {
        let shown = self
            .server
            .as_ref()
            .map(|s| s.shown.clone())
            .unwrap_or_default();
        let tx = self.conn.transaction()?;
        // The functions made here record the search path of this transaction (`SET search_path
        // FROM CURRENT`): the workspace's schema, then pg_temp named last, so that nobody's
        // temporary table can stand in for one of assay's in a function that runs with its
        // owner's rights.
        tx.execute_batch(
            "SELECT set_config('search_path', quote_ident(current_schema()) || ', pg_temp', true)",
        )?;
        let has: bool =
            tx.query_row("SELECT to_regclass('assay_schema') IS NOT NULL", (), |r| {
                r.get(0)
            })?;
        if !has {
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()",
                (),
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::Foreign { path: shown });
            }
            tx.execute_batch(include_str!("pg_schema.sql"))?;
            tx.execute_batch(include_str!("pg_access.sql"))?;
            for m in SERVER_MIGRATIONS {
                tx.execute_batch(m.1)?;
            }
            tx.execute(
                "INSERT INTO assay_schema (version) VALUES (?1)",
                [SCHEMA_VERSION],
            )?;
            tx.commit()?;
            self.created = true;
            return Ok(());
        }
        let found: i64 = tx.query_row("SELECT max(version) FROM assay_schema", (), |r| {
            r.get::<_, Option<i64>>(0).map(|v| v.unwrap_or(0))
        })?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: shown,
                found,
                known: SCHEMA_VERSION,
            });
        }
        // (versions before the first server migration were never released)
        let first = SERVER_MIGRATIONS
            .first()
            .map_or(SCHEMA_VERSION, |m| m.0 - 1);
        if found < first {
            return Err(StoreError::Server(format!(
                "{shown}: the workspace's schema is version {found}, which this assay cannot bring up to {SCHEMA_VERSION}"
            )));
        }
        if found < SCHEMA_VERSION {
            // (only the tables' owner may change them: anyone else is told who must)
            let owner: Option<String> = tx.query_row(
                "SELECT CASE WHEN pg_has_role(current_user, c.relowner, 'USAGE') THEN NULL
                             ELSE CAST(pg_get_userbyid(c.relowner) AS TEXT) END
                   FROM pg_class c WHERE c.oid = to_regclass('portfolios')",
                (),
                |r| r.get(0),
            )?;
            if let Some(owner) = owner {
                return Err(StoreError::Server(format!(
                    "{shown}: the workspace's schema is version {found} and this assay writes version {SCHEMA_VERSION}; its owner, the role {owner}, must open it once with this assay to bring it up (then everyone can)"
                )));
            }
        }
        for (version, sql) in SERVER_MIGRATIONS.iter().filter(|m| m.0 > found) {
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO assay_schema (version) VALUES (?1)", [*version])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Opens (creating if needed, mode 0600) and migrates the workspace at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        // (an empty file, left by a creation that was interrupted, is made a workspace)
        let empty = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0);
        if empty {
            std::fs::remove_file(path)?;
        }
        if path.exists() {
            return Store::open_existing(path);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        create_private(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
                StoreError::ReadOnly {
                    path: path.display().to_string(),
                }
            }
            _ => StoreError::Io(e),
        })?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let mut store = Store {
            conn,
            created: true,
            read_only: false,
            signer: None,
            server: None,
        };
        if let Err(e) = store.configure(path) {
            // (a workspace that could not be made leaves nothing behind)
            drop(store);
            remove_workspace_files(path);
            return Err(e);
        }
        Ok(store)
    }

    /// Opens the workspace at `path`, which must exist (reading commands never make one). Where
    /// it cannot be written (a read-only file, folder or medium) it is opened for reading: reading
    /// works, and a change is refused as read-only.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.display().to_string(),
            });
        }
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(StoreError::Empty {
                path: path.display().to_string(),
            });
        }
        CURRENT.with(|c| *c.borrow_mut() = path.display().to_string());
        let open = |flags| {
            Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(
                |source| StoreError::Open {
                    path: path.display().to_string(),
                    source,
                },
            )
        };
        let writable = std::fs::OpenOptions::new().write(true).open(path).is_ok()
            && path
                .parent()
                .map(|d| {
                    if d.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        d
                    }
                })
                .is_some_and(dir_writable);
        if writable {
            let conn = open(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
            let mut store = Store {
                conn,
                created: false,
                read_only: false,
                signer: None,
                server: None,
            };
            store.configure(path)?;
            return Ok(store);
        }
        // Read only. The log files of a WAL database cannot be made here, so the file is read
        // as it is (nobody can be writing to it where it cannot be written).
        let uri = format!(
            "file:{}?immutable=1",
            path.display()
                .to_string()
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23")
        );
        let conn = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let store = Store {
            conn,
            created: false,
            read_only: true,
            signer: None,
            server: None,
        };
        store.configure_read_only(path)?;
        Ok(store)
    }

    /// An in-memory workspace, for tests and benchmarks.
    pub fn memory() -> Result<Store> {
        let conn = Connection::open_in_memory()?;
        let mut store = Store {
            conn,
            created: true,
            read_only: false,
            signer: None,
            server: None,
        };
        store.configure(Path::new(":memory:"))?;
        Ok(store)
    }

    fn configure(&mut self, path: &Path) -> Result<()> {
        CURRENT.with(|c| *c.borrow_mut() = path.display().to_string());
        let c = self.conn.sqlite().expect("a local workspace");
        c.busy_timeout(busy_timeout())?;
        // A new workspace gets 16 KiB pages: the queue, search and export read whole tables,
        // a quarter of the reads of the default 4 KiB (the size is fixed once the file is
        // made; an older workspace keeps its own). Cache size in KiB below, so the same memory.
        if self.created {
            c.execute_batch("PRAGMA page_size = 16384")?;
        }
        // WAL survives kill -9 and lets readers work while one process writes; synchronous=FULL
        // makes each commit durable on power loss too.
        let _: String = c.query_row("PRAGMA journal_mode = WAL", (), |r| r.get(0))?;
        c.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;",
        )?;
        c.set_prepared_statement_cache_capacity(64);
        register_functions(c)?;
        // `rarray(?)`: a list of row keys bound as one parameter, for set-based statements.
        rusqlite::vtab::array::load_module(c)?;
        self.migrate(path)
    }

    /// The settings of a read-only connection: no migration (one that is needed is refused).
    fn configure_read_only(&self, path: &Path) -> Result<()> {
        let c = self.conn.sqlite().expect("a local workspace");
        c.execute_batch(
            "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32000;",
        )?;
        c.set_prepared_statement_cache_capacity(64);
        register_functions(c)?;
        rusqlite::vtab::array::load_module(c)?;
        let found: i64 = c.query_row("PRAGMA user_version", (), |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::ReadOnly {
                path: path.display().to_string(),
            });
        }
        Ok(())
    }

    fn migrate(&mut self, path: &Path) -> Result<()> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", (), |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.display().to_string(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        let tx = self.write()?;
        if found == 0 {
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                (),
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::Foreign {
                    path: path.display().to_string(),
                });
            }
        }
        for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            if i + 1 == 10 {
                add_column_if_missing(&tx, "evidence", "group_title", "TEXT")?;
            }
            if i + 1 == 11 {
                add_column_if_missing(&tx, "evidence", "text_sha", "TEXT")?;
                add_column_if_missing(&tx, "evidence", "text_note", "TEXT")?;
            }
            if i + 1 == 13 {
                add_column_if_missing(&tx, "users", "ssh_key", "TEXT")?;
                add_column_if_missing(&tx, "audit", "sig", "TEXT")?;
            }
            tx.execute_batch(m)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        }
        // A workspace whose records were written before the chain vouched for everything
        // (schema 9) gets a baseline of what it holds.
        if found > 0 && found < 9 {
            verify::append_baseline(&tx)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Starts a write transaction, taking the write lock at once so that two processes queue
    /// instead of deadlocking; waits up to [`BUSY_TIMEOUT`]. For changes outside the record
    /// (migrations); every change a person makes goes through [`Store::begin`].
    pub fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self.conn.transaction()?)
    }

    /// Starts one person's change: a write transaction (as [`Store::write`]) that knows the head
    /// of the audit chain, so that its records follow it, and the time of the change (the
    /// clock's, never before the head's: see [`clock`]). Every row the change writes carries
    /// [`Tx::at`]; its records are appended with [`Tx::append`] and commit with it or not at all.
    ///
    /// A person with a registered SSH key acts only through the signer given for them
    /// ([`Store::set_signer`]): each of their records is signed as it is appended.
    pub fn begin(&mut self, actor: &str) -> Result<Tx<'_>> {
        let inner = self.conn.transaction()?;
        // Whether the actor signs, and the head of the chain, in one statement (on a server
        // each is a round trip, inside the writers' lock); on a server some records may be
        // hidden from the person, so the head is read whole.
        let head_sql = match inner.is_pg() {
            true => {
                "SELECT coalesce((SELECT ssh_key IS NOT NULL FROM users WHERE name = ?1), false), h.seq, h.hash, h.at FROM (SELECT 1) AS one LEFT JOIN assay_head() AS h ON true"
            }
            false => {
                "SELECT coalesce((SELECT ssh_key IS NOT NULL FROM users WHERE name = ?1), 0), h.seq, h.hash, h.at FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1) AS h ON 1"
            }
        };
        let (keyed, head): (bool, Option<(i64, String, String)>) =
            inner.prepare_cached(head_sql)?.query_row([actor], |r| {
                let seq: Option<i64> = r.get(1)?;
                Ok((
                    r.get(0)?,
                    match seq {
                        Some(s) => Some((s, r.get(2)?, r.get(3)?)),
                        None => None,
                    },
                ))
            })?;
        // (only a keyed person's records are signed: verify expects no signature on others')
        let signer = match &self.signer {
            Some((who, s)) if keyed && who == actor => Some(&**s),
            _ if keyed => {
                return Err(StoreError::Unsigned {
                    actor: actor.to_string(),
                });
            }
            _ => None,
        };
        let (seq, hash, previous) = match head {
            Some((s, h, a)) => (s, h, Some(a)),
            None => (0, audit::GENESIS.to_string(), None),
        };
        Ok(Tx {
            signer,
            at: clock::after(previous.as_deref()),
            actor: actor.to_string(),
            seq,
            hash,
            depth: 0,
            inner,
        })
    }

    /// From now on the records of `actor` are signed by `signer` (which the caller has seen
    /// sign for their registered key).
    pub fn set_signer(&mut self, actor: &str, signer: Box<dyn RecordSigner>) {
        self.signer = Some((actor.to_string(), signer));
    }

    /// Whether `p` names the live database or one of its files (`-wal`, `-shm`, `-journal`),
    /// however it is spelled.
    pub fn is_workspace_file(&self, p: &Path) -> bool {
        let Some(live) = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .and_then(|l| std::fs::canonicalize(l).ok())
        else {
            return false;
        };
        let target = std::fs::canonicalize(p).ok().or_else(|| {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
        });
        target.is_some_and(|t| {
            ["", "-wal", "-shm", "-journal"].iter().any(|suffix| {
                let mut f = live.clone().into_os_string();
                f.push(suffix);
                t == Path::new(&f)
            })
        })
    }

    /// A consistent copy of the live database, made with SQLite's online backup API, at
    /// `dest` (which the caller has checked: see `app::files::check_output`); an existing
    /// regular file there is replaced.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        // Never over the live database or its log: removing those under a running assay
        // loses its work.
        if self.is_workspace_file(dest) {
            return Err(StoreError::Io(std::io::Error::other(
                "that is the workspace database itself (or one of its files); back it up to another file",
            )));
        }
        if std::fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_file()) {
            std::fs::remove_file(dest)?;
        }
        create_private(dest)?;
        let Some(live) = self.conn.sqlite() else {
            return Err(StoreError::Io(std::io::Error::other(
                "a workspace on a server is backed up with `assay copy`",
            )));
        };
        let mut out = rusqlite::Connection::open(dest)?;
        {
            let b = rusqlite::backup::Backup::new(live, &mut out)?;
            b.run_to_completion(256, Duration::from_millis(5), None)?;
        }
        Ok(())
    }
}

/// One person's change in progress (see [`Store::begin`]): reads and writes go through it as
/// through a connection; its audit records are appended with [`Tx::append`].
pub struct Tx<'c> {
    inner: Transaction<'c>,
    signer: Option<&'c dyn RecordSigner>,
    at: String,
    actor: String,
    /// The newest record's sequence number and hash (the head, or what this change appended).
    seq: i64,
    hash: String,
    depth: usize,
}

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.inner
    }
}

impl Tx<'_> {
    /// The time of this change, RFC 3339 (UTC, seconds).
    pub fn at(&self) -> &str {
        &self.at
    }

    /// Who makes this change.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The sequence number of the newest record, this change's own included (0: none).
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Appends a record of this change to the audit chain; returns its sequence number.
    pub fn append(
        &mut self,
        action: &str,
        entity: String,
        portfolio: Option<&str>,
        before: Option<Value>,
        after: Option<Value>,
    ) -> Result<i64> {
        let seq = self.seq + 1;
        let hash = audit::insert(
            &self.inner,
            &audit::Entry {
                seq,
                at: &self.at,
                actor: &self.actor,
                action,
                entity: &entity,
                portfolio,
                before: before.as_ref(),
                after: after.as_ref(),
                prev: &self.hash,
            },
            self.signer,
        )?;
        self.seq = seq;
        self.hash = hash;
        Ok(seq)
    }

    /// Runs `f` in a savepoint: what it writes (records included) stays when it returns `Ok`
    /// and is undone when it returns `Err`, the rest of the change going on.
    pub fn savepoint<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&mut Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let name = format!("assay_{}", self.depth);
        self.inner
            .execute_batch(&format!("SAVEPOINT {name}"))
            .map_err(StoreError::from)?;
        let (seq, hash) = (self.seq, self.hash.clone());
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        match r {
            Ok(v) => {
                self.inner
                    .execute_batch(&format!("RELEASE {name}"))
                    .map_err(StoreError::from)?;
                Ok(v)
            }
            Err(e) => {
                self.inner
                    .execute_batch(&format!("ROLLBACK TO {name}; RELEASE {name}"))
                    .map_err(StoreError::from)?;
                self.seq = seq;
                self.hash = hash;
                Err(e)
            }
        }
    }

    pub fn commit(self) -> Result<()> {
        Ok(self.inner.commit()?)
    }
}

/// Removes a workspace file and its log files (after a creation that failed).
pub fn remove_workspace_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut f = path.as_os_str().to_owned();
        f.push(suffix);
        let _ = std::fs::remove_file(f);
    }
}

/// Whether files can be made in `dir` (a WAL database needs its log files beside it).
fn dir_writable(dir: &Path) -> bool {
    tempfile::Builder::new()
        .prefix(".assay-probe-")
        .tempfile_in(dir)
        .is_ok()
}

/// Creates an empty file readable and writable by its owner only.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_private_wal_database_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.db");
        let s = Store::open(&p).unwrap();
        assert!(s.created);
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", (), |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = s
            .conn
            .query_row("PRAGMA foreign_keys", (), |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let page: i64 = s
            .conn
            .query_row("PRAGMA page_size", (), |r| r.get(0))
            .unwrap();
        assert_eq!(page, 16384);
        drop(s);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o600);
        }
        let s = Store::open(&p).unwrap();
        assert!(!s.created);
    }

    #[test]
    fn migrates_an_older_database_keeping_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("old.db");
        {
            // a workspace as version 1 left it
            let c = Connection::open(&p).unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.execute_batch("PRAGMA user_version = 1").unwrap();
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('kept', 'yes'), ('workspace_id', 'w')",
                (),
            )
            .unwrap();
        }
        let s = Store::open(&p).unwrap();
        let v: i64 = s
            .conn
            .query_row("PRAGMA user_version", (), |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // A remembered setting of the workbench moved to `ui_state` (schema 9); the workspace's
        // identity stayed in `meta`.
        let kept: String = s
            .conn
            .query_row("SELECT value FROM ui_state WHERE key = 'kept'", (), |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, "yes");
        let id: String = s
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'workspace_id'",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(id, "w");
        let idx: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'decisions_rubric'",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(idx, 1);
    }

    #[test]
    fn status_index_holds_open_work_only_and_serves_its_lookups() {
        let s = Store::memory().unwrap();
        s.conn
            .execute_batch(
                "INSERT INTO rubrics (pk, id, version, sha256, title, bytes, imported_at)
                 VALUES (1, 'r', '1', 'x', 't', x'', 'now');
                 INSERT INTO portfolios (pk, id, rubric_pk, learner_id, learner_name, submitted, revision, status, updated_at)
                 VALUES (1, 'a', 1, 'l', 'n', 'd', 1, 'submitted', 'now'),
                        (2, 'b', 1, 'l', 'n', 'd', 1, 'released', 'now'),
                        (3, 'c', 1, 'l', 'n', 'd', 1, 'exported', 'now'),
                        (4, 'd', 1, 'l', 'n', 'd', 1, 'new', 'now');",
            )
            .unwrap();
        let indexed: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM portfolios INDEXED BY portfolios_open WHERE status = 'submitted' OR status = 'new'",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 2);
        let plan: String = s
            .conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT pk FROM portfolios WHERE status = 'sampled'",
                (),
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("portfolios_open"), "{plan}");
        // Moving a decision from released to exported leaves the index as it was.
        s.conn
            .execute("UPDATE portfolios SET status = 'exported' WHERE pk = 2", ())
            .unwrap();
        let check: String = s
            .conn
            .query_row("PRAGMA integrity_check", (), |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }

    #[test]
    fn refuses_newer_and_foreign_databases() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.db");
        drop(Store::open(&p).unwrap());
        let c = Connection::open(&p).unwrap();
        c.execute_batch("PRAGMA user_version = 99").unwrap();
        drop(c);
        let e = Store::open(&p).err().unwrap().to_string();
        assert!(e.contains("newer assay"), "{e}");

        let q = dir.path().join("other.db");
        let c = Connection::open(&q).unwrap();
        c.execute_batch("CREATE TABLE x (a)").unwrap();
        drop(c);
        let e = Store::open(&q).err().unwrap().to_string();
        assert!(e.contains("not an assay workspace"), "{e}");
    }
}
