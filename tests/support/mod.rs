//! Shared helpers for the command-line integration tests: a temporary workspace and the built
//! `assay` binary run against it. Every test makes its own workspace; nothing is shared between
//! tests but the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The crate's root folder (where `rubrics/` and `samples/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn rubrics_dir() -> PathBuf {
    root().join("rubrics")
}

pub fn rubric_file(id: &str) -> PathBuf {
    rubrics_dir().join(format!("{id}.yaml"))
}

pub fn samples_dir() -> PathBuf {
    root().join("samples/portfolios")
}

pub fn sample(id: &str) -> PathBuf {
    samples_dir().join(id)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Out {
    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

/// Checks that a failure looks like the contract says: no panic, and every stderr line either
/// begins `error: ` or names a place (`FILE…: error: …`), or is a warning.
#[track_caller]
pub fn assert_clean_refusal(o: &Out) {
    assert_eq!(o.code, Some(1), "expected exit 1: {}", o.describe());
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("RUST_BACKTRACE"),
        "panic: {}",
        o.describe()
    );
    assert!(!o.stderr.trim().is_empty(), "no message: {}", o.describe());
    for l in o.stderr.lines() {
        assert!(
            l.starts_with("error: ") || l.contains(": error: ") || l.starts_with("warning: "),
            "stderr line neither `error: …` nor `FILE:LINE:COL: error: …`: {l:?}\n{}",
            o.describe()
        );
    }
}

/// A temporary workspace: a folder holding the database file — or, when the suite is run with
/// `ASSAY_TEST_BACKEND=postgres` and `ASSAY_TEST_PG` (see `scripts/pg-test.sh`), a new database
/// of its own on that server, each person connecting as their own login role.
pub struct Ws {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub server: Option<Server>,
}

/// The server side of a [`Ws`]: the superuser's URI, the database's name, and where to connect.
pub struct Server {
    pub admin: String,
    pub name: String,
    pub host: String,
    pub port: String,
    made: std::cell::Cell<bool>,
}

/// For a test of the local file itself (its mode, its bytes, its SQLite schema): on a run
/// against PostgreSQL it says it is skipped, and why, and returns true.
pub fn file_only(why: &str) -> bool {
    if on_server() {
        eprintln!("skipped on PostgreSQL: {why}");
        return true;
    }
    false
}

/// Whether this run of the suite is against PostgreSQL.
pub fn on_server() -> bool {
    std::env::var("ASSAY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
        && std::env::var("ASSAY_TEST_PG").is_ok_and(|u| !u.is_empty())
}

fn query_param<'a>(uri: &'a str, key: &str) -> Option<&'a str> {
    uri.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

impl Server {
    fn new() -> Server {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = std::env::var("ASSAY_TEST_PG").unwrap();
        let name = format!(
            "t_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        Server {
            host: query_param(&admin, "host")
                .unwrap_or("localhost")
                .to_string(),
            port: query_param(&admin, "port").unwrap_or("5432").to_string(),
            admin,
            name,
            made: std::cell::Cell::new(false),
        }
    }

    /// The superuser's connection to the server (`db`: to this workspace's database).
    pub fn admin(&self, db: bool) -> postgres::Client {
        let mut uri = self.admin.clone();
        if db {
            let (base, q) = uri.split_once('?').unwrap_or((&uri, ""));
            let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
            uri = format!("{base}/{}?{q}", self.name);
        }
        postgres::Client::connect(&uri, postgres::NoTls).expect("connect to the test server")
    }

    /// The URI `user` connects with; the first person to connect owns the database (as a
    /// team's first lead does), the others get a login role as a DBA would make them.
    pub fn uri_for(&self, user: &str) -> String {
        let mut c = self.admin(false);
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let exists = c
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&user])
            .unwrap()
            .is_some();
        if !exists && !user.is_empty() {
            let _ = c.batch_execute(&format!("CREATE ROLE {} LOGIN CREATEROLE", q(user)));
        }
        if !self.made.get() {
            c.batch_execute(&format!(
                "CREATE DATABASE {} OWNER {} LOCALE 'C' TEMPLATE template0",
                self.name,
                q(user)
            ))
            .expect("create the test database");
            self.made.set(true);
        }
        self.uri_as(user)
    }

    pub fn uri_as(&self, user: &str) -> String {
        let enc: String = user
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!(
            "postgres://{enc}@/{}?host={}&port={}",
            self.name, self.host, self.port
        )
    }

    pub fn count(&self, sql: &str) -> i64 {
        let mut c = self.admin(true);
        let row = c
            .query_one(&format!("SELECT CAST(({sql}) AS BIGINT)"), &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.get(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.made.get() {
            let mut c = self.admin(false);
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

impl Default for Ws {
    fn default() -> Self {
        Self::new()
    }
}

impl Ws {
    pub fn new() -> Ws {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("w.db");
        let server = on_server().then(Server::new);
        Ws { dir, db, server }
    }

    /// A workspace on the PostgreSQL server of `ASSAY_TEST_PG` whatever the backend of the run;
    /// `None` (saying the test is skipped) without one.
    pub fn server_only(test: &str) -> Option<Ws> {
        if std::env::var("ASSAY_TEST_PG").map_or(true, |u| u.is_empty()) {
            eprintln!(
                "skipped {test}: no PostgreSQL (run it through scripts/pg-test.sh, which sets ASSAY_TEST_PG)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("w.db");
        Some(Ws {
            dir,
            db,
            server: Some(Server::new()),
        })
    }

    /// The workspace as `--db` names it for `user`.
    pub fn db_for(&self, user: &str) -> std::ffi::OsString {
        match &self.server {
            Some(s) => s.uri_for(user).into(),
            None => self.db.clone().into(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The binary with a clean environment (no `ASSAY_*` from the caller), run in the temporary
    /// folder, without `--db` or `--as`.
    pub fn bare(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("assay").expect("the assay binary is built");
        c.current_dir(self.dir.path())
            .env_remove("ASSAY_DB")
            .env_remove("ASSAY_USER")
            .env_remove("ASSAY_NOW")
            .env_remove("ASSAY_BUSY_TIMEOUT_MS")
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(60));
        c
    }

    /// The binary on this workspace, as `user`.
    pub fn cmd(&self, user: &str) -> assert_cmd::Command {
        let mut c = self.bare();
        c.arg("--db").arg(self.db_for(user)).args(["--as", user]);
        c
    }

    pub fn exec(mut c: assert_cmd::Command) -> Out {
        let t = Instant::now();
        let o = c.output().expect("runs");
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            elapsed: t.elapsed(),
        }
    }

    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, user: &str, args: &[S]) -> Out {
        let mut c = self.cmd(user);
        c.args(args);
        Self::exec(c)
    }

    /// Runs and requires exit 0; returns stdout.
    #[track_caller]
    pub fn ok<S: AsRef<std::ffi::OsStr>>(&self, user: &str, args: &[S]) -> String {
        let o = self.run(user, args);
        assert_eq!(o.code, Some(0), "expected success: {}", o.describe());
        assert!(!o.stderr.contains("panicked"), "{}", o.describe());
        o.stdout
    }

    /// Runs and requires a clean refusal (exit 1, `error:` lines, no panic); returns stderr.
    #[track_caller]
    pub fn refused<S: AsRef<std::ffi::OsStr>>(&self, user: &str, args: &[S]) -> String {
        let o = self.run(user, args);
        assert_clean_refusal(&o);
        o.stderr
    }

    /// Runs a `--json` command and parses its output.
    #[track_caller]
    pub fn json<S: AsRef<std::ffi::OsStr>>(&self, user: &str, args: &[S]) -> Value {
        let out = self.ok(user, args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// `list --json` as seen by `user`.
    #[track_caller]
    pub fn list(&self, user: &str) -> Vec<Value> {
        match self.json(user, &["list", "--json"]) {
            Value::Array(a) => a,
            other => panic!("list --json is not an array: {other}"),
        }
    }

    /// One row of `list --json` as seen by `user`.
    #[track_caller]
    pub fn row(&self, user: &str, id: &str) -> Value {
        self.list(user)
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
    }

    /// `show ID --json` as seen by `user`.
    #[track_caller]
    pub fn show(&self, user: &str, id: &str) -> Value {
        self.json(user, &["show", id, "--json"])
    }

    /// Imports the three sample rubrics and the twelve sample portfolios.
    #[track_caller]
    pub fn import_samples(&self, user: &str) {
        let out = self.ok(
            user,
            &[
                "import".as_ref(),
                rubrics_dir().as_os_str(),
                samples_dir().as_os_str(),
            ],
        );
        assert!(
            out.contains(
                "imported: 3 rubrics, 12 portfolios (12 new, 0 revised, 0 unchanged), 0 rejected"
            ),
            "{out}"
        );
    }

    /// Imports the given rubric ids and sample portfolio ids.
    #[track_caller]
    pub fn import_some(&self, user: &str, rubrics: &[&str], portfolios: &[&str]) {
        let mut args: Vec<PathBuf> = vec![PathBuf::from("import")];
        args.extend(rubrics.iter().map(|r| rubric_file(r)));
        args.extend(portfolios.iter().map(|p| sample(p)));
        self.ok(user, &args);
    }

    /// A read-only connection to the workspace, for looking behind the command line.
    pub fn sql(&self) -> rusqlite::Connection {
        assert!(
            self.server.is_none(),
            "this test reads the workspace file itself: a local workspace only"
        );
        rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open the workspace read-only")
    }

    pub fn count(&self, sql: &str) -> i64 {
        if let Some(s) = &self.server {
            return s.count(sql);
        }
        self.sql()
            .query_row(sql, [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Number of audit records.
    pub fn audit_len(&self) -> i64 {
        self.count("SELECT count(*) FROM audit")
    }

    /// Marks every criterion and confirms every gate of a sample portfolio with the given levels,
    /// then submits; returns stdout.
    #[track_caller]
    pub fn mark_submit(
        &self,
        user: &str,
        id: &str,
        levels: &[(&str, &str)],
        gates: &[&str],
    ) -> String {
        let mut args: Vec<String> = vec!["mark".into(), id.into()];
        for (c, l) in levels {
            args.push("--level".into());
            args.push(format!("{c}={l}"));
        }
        for g in gates {
            args.push("--gate".into());
            args.push((*g).into());
        }
        args.push("--submit".into());
        self.ok(user, &args)
    }
}

/// The gates of each sample rubric.
pub const ENERGY_GATES: [&str; 4] = ["identity", "authenticity", "currency", "safety"];
pub const DATA_GATES: [&str; 4] = ["identity", "authenticity", "currency", "confidentiality"];
pub const VIS_GATES: [&str; 4] = ["identity", "authenticity", "currency", "walkthrough"];

/// Copies a folder tree (no symbolic links expected).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Whether a character must never reach a terminal: C0 controls but newline and tab, DEL, C1,
/// bidi controls.
pub fn is_terminal_hostile(c: char) -> bool {
    matches!(
        c,
        '\u{00}'..='\u{08}'
            | '\u{0b}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// Asserts that raw output bytes hold nothing that a terminal would act on.
#[track_caller]
pub fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    assert!(!bytes.contains(&0x1b), "{what}: ESC reached the output");
    assert!(!bytes.contains(&0x07), "{what}: BEL reached the output");
    let text = String::from_utf8_lossy(bytes);
    if let Some((i, c)) = text.char_indices().find(|(_, c)| is_terminal_hostile(*c)) {
        panic!(
            "{what}: control U+{:04X} at byte {i}: …{}…",
            c as u32,
            text[i.saturating_sub(40)..]
                .chars()
                .take(80)
                .collect::<String>()
        );
    }
}
