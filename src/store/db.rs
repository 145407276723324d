//! One interface over the two databases a workspace lives in: a local SQLite file (rusqlite) or a
//! PostgreSQL server (the synchronous `postgres` crate). The services write their SQL once, in the
//! dialect both accept (`?N` parameters, `ON CONFLICT … DO …`, `IS NOT DISTINCT FROM`, explicit
//! `CAST`s where PostgreSQL cannot infer a parameter's type); this module binds the parameters and
//! reads the rows of either, with the shapes of rusqlite's API (`query_row`, `prepare_cached`,
//! `query_map`, `optional`) so that a service reads the same on both.
//!
//! On PostgreSQL a statement's text is rewritten once (`?N` → `$N`, `INSERT OR IGNORE` →
//! `ON CONFLICT DO NOTHING`) and prepared once per connection; rows are fetched whole (a query's
//! rows are a `Vec` before the first is read, so another statement may run while they are read).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

pub use rusqlite::OpenFlags;

/// A database error, from either backend, or a value that is not of the type asked for.
#[derive(Debug)]
pub enum Error {
    Sqlite(rusqlite::Error),
    Pg(postgres::Error),
    /// A query that must return a row returned none.
    NoRows,
    /// Column `index` holds a value that is not a `wanted`.
    Type {
        index: usize,
        wanted: &'static str,
        found: &'static str,
    },
    /// Anything else, said in words (a function's error, a parameter PostgreSQL cannot take).
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => e.fmt(f),
            Error::Pg(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}", db.message()),
                None => e.fmt(f),
            },
            Error::NoRows => f.write_str("query returned no rows"),
            Error::Type {
                index,
                wanted,
                found,
            } => write!(f, "column {index} holds {found}, not {wanted}"),
            Error::Other(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sqlite(e) => Some(e),
            Error::Pg(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Pg(e)
    }
}

impl From<std::str::Utf8Error> for Error {
    fn from(e: std::str::Utf8Error) -> Self {
        Error::Other(format!("text that is not UTF-8: {e}"))
    }
}

impl Error {
    /// The SQLite error code, when it is an SQLite error.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            Error::Sqlite(e) => e.sqlite_error_code(),
            _ => None,
        }
    }

    /// The SQLSTATE, when it is a PostgreSQL error from the server.
    pub fn pg_code(&self) -> Option<&postgres::error::SqlState> {
        match self {
            Error::Pg(e) => e.code(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Result<T>` → `Result<Option<T>>`: no row is `None`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A parameter's value, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// What can be bound as a parameter.
pub trait ToSql {
    fn param(&self) -> Param<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn param(&self) -> Param<'_> {
                Param::Int(*self as i64)
            }
        }
    )*};
}
int_param!(i64, i32, i16, i8, u32, u16, u8, usize, u64, isize);

impl ToSql for bool {
    fn param(&self) -> Param<'_> {
        Param::Int(*self as i64)
    }
}
impl ToSql for f64 {
    fn param(&self) -> Param<'_> {
        Param::Real(*self)
    }
}
impl ToSql for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToSql for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToSql for compact_str::CompactString {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToSql for std::borrow::Cow<'_, str> {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}
impl ToSql for [u8] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl ToSql for Vec<u8> {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<const N: usize> ToSql for [u8; N] {
    fn param(&self) -> Param<'_> {
        Param::Blob(self)
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}
impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn param(&self) -> Param<'_> {
        match self {
            Some(v) => v.param(),
            None => Param::Null,
        }
    }
}
impl ToSql for Param<'_> {
    fn param(&self) -> Param<'_> {
        *self
    }
}
impl ToSql for Value {
    fn param(&self) -> Param<'_> {
        match self {
            Value::Null => Param::Null,
            Value::Integer(i) => Param::Int(*i),
            Value::Real(r) => Param::Real(*r),
            Value::Text(s) => Param::Text(s),
            Value::Blob(b) => Param::Blob(b),
        }
    }
}

/// A statement's parameters: `()`, an array or slice of values, a tuple, or `params![…]`.
pub trait Params {
    fn collect(&self) -> Vec<Param<'_>>;
}

impl Params for () {
    fn collect(&self) -> Vec<Param<'_>> {
        Vec::new()
    }
}
impl<T: ToSql, const N: usize> Params for [T; N] {
    fn collect(&self) -> Vec<Param<'_>> {
        self.iter().map(ToSql::param).collect()
    }
}
impl<T: ToSql> Params for &[T] {
    fn collect(&self) -> Vec<Param<'_>> {
        self.iter().map(ToSql::param).collect()
    }
}
impl<T: ToSql> Params for Vec<T> {
    fn collect(&self) -> Vec<Param<'_>> {
        self.iter().map(ToSql::param).collect()
    }
}
impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn collect(&self) -> Vec<Param<'_>> {
        self.iter().map(ToSql::param).collect()
    }
}
macro_rules! tuple_params {
    ($($n:tt $t:ident),*) => {
        impl<$($t: ToSql),*> Params for ($($t,)*) {
            fn collect(&self) -> Vec<Param<'_>> {
                vec![$(self.$n.param()),*]
            }
        }
    };
}
tuple_params!(0 A);
tuple_params!(0 A, 1 B);
tuple_params!(0 A, 1 B, 2 C);
tuple_params!(0 A, 1 B, 2 C, 3 D);
tuple_params!(0 A, 1 B, 2 C, 3 D, 4 E);
tuple_params!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);

/// Parameters of several types: `params![a, b, c]`.
#[macro_export]
macro_rules! db_params {
    () => { &[] as &[&dyn $crate::store::db::ToSql] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::db::ToSql),+] as &[&dyn $crate::store::db::ToSql] };
}
pub use crate::db_params as params;

/// A value read, borrowed from its row (rusqlite's shape: text as bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    pub fn as_str(&self) -> Result<&'a str> {
        match self {
            ValueRef::Text(t) => Ok(std::str::from_utf8(t)?),
            other => Err(Error::Type {
                index: 0,
                wanted: "text",
                found: other.kind(),
            }),
        }
    }
    pub fn as_str_or_null(&self) -> Result<Option<&'a str>> {
        match self {
            ValueRef::Null => Ok(None),
            _ => self.as_str().map(Some),
        }
    }
    pub fn as_bytes_or_null(&self) -> Result<Option<&'a [u8]>> {
        match self {
            ValueRef::Null => Ok(None),
            ValueRef::Text(b) | ValueRef::Blob(b) => Ok(Some(b)),
            other => Err(Error::Type {
                index: 0,
                wanted: "text",
                found: other.kind(),
            }),
        }
    }
    pub fn as_i64(&self) -> Result<i64> {
        match self {
            ValueRef::Integer(i) => Ok(*i),
            other => Err(Error::Type {
                index: 0,
                wanted: "an integer",
                found: other.kind(),
            }),
        }
    }
    pub fn as_blob(&self) -> Result<&'a [u8]> {
        match self {
            ValueRef::Blob(b) => Ok(b),
            other => Err(Error::Type {
                index: 0,
                wanted: "a blob",
                found: other.kind(),
            }),
        }
    }
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }
}

/// A value, owned.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

/// What a column can be read as.
pub trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str>;
    const WANTED: &'static str;
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            const WANTED: &'static str = "an integer";
            fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i).map_err(|_| "an integer out of range"),
                    o => Err(o.kind()),
                }
            }
        }
    )*};
}
int_from!(i64, i32, u32, u16, u8, usize, u64);

impl FromSql for bool {
    const WANTED: &'static str = "a boolean";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            o => Err(o.kind()),
        }
    }
}
impl FromSql for f64 {
    const WANTED: &'static str = "a number";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Integer(i) => Ok(i as f64),
            ValueRef::Real(r) => Ok(r),
            o => Err(o.kind()),
        }
    }
}
impl FromSql for String {
    const WANTED: &'static str = "text";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(str::to_string)
                .map_err(|_| "text that is not UTF-8"),
            o => Err(o.kind()),
        }
    }
}
impl FromSql for compact_str::CompactString {
    const WANTED: &'static str = "text";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Text(t) => std::str::from_utf8(t)
                .map(compact_str::CompactString::from)
                .map_err(|_| "text that is not UTF-8"),
            o => Err(o.kind()),
        }
    }
}
impl FromSql for Vec<u8> {
    const WANTED: &'static str = "a blob";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(b.to_vec()),
            o => Err(o.kind()),
        }
    }
}
impl FromSql for Value {
    const WANTED: &'static str = "a value";
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        Ok(v.into())
    }
}
impl<T: FromSql> FromSql for Option<T> {
    const WANTED: &'static str = T::WANTED;
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, &'static str> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

/// A row of a result.
pub enum Row<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

/// A column's number (rusqlite's shape: `get::<_, T>(0)`).
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

impl Row<'_> {
    /// Column `i` as a `T`.
    pub fn get<I: RowIndex, T: FromSql>(&self, i: I) -> Result<T> {
        let i = i.index();
        let v = self.get_ref(i)?;
        T::from_sql(v).map_err(|found| Error::Type {
            index: i,
            wanted: T::WANTED,
            found,
        })
    }

    /// Column `i`, borrowed.
    pub fn get_ref<I: RowIndex>(&self, i: I) -> Result<ValueRef<'_>> {
        let i = i.index();
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(i) => ValueRef::Integer(i),
                rusqlite::types::ValueRef::Real(f) => ValueRef::Real(f),
                rusqlite::types::ValueRef::Text(t) => ValueRef::Text(t),
                rusqlite::types::ValueRef::Blob(b) => ValueRef::Blob(b),
            }),
            Row::Pg(r) => pg::cell(r, i),
        }
    }

    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Pg(r) => r.len(),
        }
    }
}

/// An open database connection.
pub enum Connection {
    Sqlite(rusqlite::Connection),
    Pg(Box<RefCell<pg::PgConn>>),
}

impl From<rusqlite::Connection> for Connection {
    fn from(c: rusqlite::Connection) -> Self {
        Connection::Sqlite(c)
    }
}

impl Connection {
    pub fn open_in_memory() -> Result<Connection> {
        Ok(Connection::Sqlite(rusqlite::Connection::open_in_memory()?))
    }

    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Connection> {
        Ok(Connection::Sqlite(rusqlite::Connection::open(path)?))
    }

    pub fn open_with_flags(path: impl AsRef<std::path::Path>, flags: OpenFlags) -> Result<Self> {
        Ok(Connection::Sqlite(rusqlite::Connection::open_with_flags(
            path, flags,
        )?))
    }

    /// The SQLite connection, on a local workspace.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Some(c),
            Connection::Pg(_) => None,
        }
    }

    pub fn is_pg(&self) -> bool {
        matches!(self, Connection::Pg(_))
    }

    /// The file of a local workspace (`None` in memory or on a server).
    pub fn path(&self) -> Option<&str> {
        match self {
            Connection::Sqlite(c) => c.path(),
            Connection::Pg(_) => None,
        }
    }

    /// How long SQLite waits for another writer (PostgreSQL's waits are bounded by its
    /// `lock_timeout`, set when it connects).
    pub fn busy_timeout(&self, d: std::time::Duration) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.busy_timeout(d)?),
            Connection::Pg(_) => Ok(()),
        }
    }

    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Pg(c) => Ok(c.borrow_mut().client.batch_execute(sql)?),
        }
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match self {
            Connection::Sqlite(c) => Ok(Statement::Sqlite(c.prepare(sql)?)),
            Connection::Pg(c) => pg::prepare(c, sql),
        }
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match self {
            Connection::Sqlite(c) => Ok(Statement::SqliteCached(c.prepare_cached(sql)?)),
            Connection::Pg(c) => pg::prepare(c, sql),
        }
    }

    /// Starts a transaction that writes: on SQLite `BEGIN IMMEDIATE` (the write lock now), on
    /// PostgreSQL `BEGIN` (read committed; the chain head's row lock serialises writers).
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        // (on a server, writers queue for one lock held to the end of the transaction, so the
        // chain head each one reads is the last one committed; a wait is bounded by the
        // session's lock_timeout)
        let sql = match self {
            Connection::Sqlite(_) => "BEGIN IMMEDIATE",
            Connection::Pg(_) => "BEGIN; SELECT pg_advisory_xact_lock(7467337)",
        };
        self.execute_batch(sql)?;
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    /// A read snapshot: everything read through it until it ends sees one state of the
    /// workspace. It never writes (it is rolled back).
    pub fn snapshot(&self) -> Result<Transaction<'_>> {
        let sql = match self {
            Connection::Sqlite(_) => "BEGIN DEFERRED",
            Connection::Pg(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        self.execute_batch(sql)?;
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }
}

/// A transaction: rolled back when dropped, unless committed.
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("ROLLBACK")
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// A prepared statement.
pub enum Statement<'c> {
    Sqlite(rusqlite::Statement<'c>),
    SqliteCached(rusqlite::CachedStatement<'c>),
    Pg {
        conn: &'c RefCell<pg::PgConn>,
        stmt: postgres::Statement,
    },
}

fn bind_sqlite(st: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> Result<()> {
    for (i, p) in params.iter().enumerate() {
        st.raw_bind_parameter(i + 1, SqliteParam(*p))?;
    }
    Ok(())
}

struct SqliteParam<'a>(Param<'a>);

impl rusqlite::ToSql for SqliteParam<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as V};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Param::Null => V::Null,
            Param::Int(i) => V::Integer(i),
            Param::Real(r) => V::Real(r),
            Param::Text(t) => V::Text(t.as_bytes()),
            Param::Blob(b) => V::Blob(b),
        }))
    }
}

impl<'c> Statement<'c> {
    fn sqlite(&mut self) -> Option<&mut rusqlite::Statement<'c>> {
        match self {
            Statement::Sqlite(s) => Some(s),
            Statement::SqliteCached(s) => Some(s),
            Statement::Pg { .. } => None,
        }
    }

    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let ps = params.collect();
        if let Some(st) = self.sqlite() {
            st.clear_bindings();
            check_count(st.parameter_count(), ps.len())?;
            bind_sqlite(st, &ps)?;
            return Ok(st.raw_execute()?);
        }
        let Statement::Pg { conn, stmt } = self else {
            unreachable!()
        };
        let args: Vec<pg::PgParam<'_>> = pg::args(&ps).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = args
            .iter()
            .map(|a| a as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let n = conn.borrow_mut().client.execute(&*stmt, &refs)?;
        Ok(n as usize)
    }

    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let ps = params.collect();
        let st: &mut rusqlite::Statement<'c> = match self {
            Statement::Sqlite(s) => s,
            Statement::SqliteCached(s) => s,
            Statement::Pg { conn, stmt } => {
                let rows = pg::query(conn, stmt, &ps)?;
                return Ok(Rows::Pg {
                    rows,
                    next: 0,
                    current: None,
                });
            }
        };
        st.clear_bindings();
        check_count(st.parameter_count(), ps.len())?;
        bind_sqlite(st, &ps)?;
        Ok(Rows::Sqlite(st.raw_query()))
    }

    pub fn query_row<T, P: Params>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }

    pub fn query_map<T, P: Params, F: FnMut(&Row<'_>) -> Result<T>>(
        &mut self,
        params: P,
        f: F,
    ) -> Result<MappedRows<'_, F>> {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }
}

fn check_count(want: usize, got: usize) -> Result<()> {
    if want != got {
        return Err(Error::Other(format!(
            "the statement takes {want} parameters, {got} were given"
        )));
    }
    Ok(())
}

/// The rows of a query.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Pg {
        rows: Vec<postgres::Row>,
        next: usize,
        current: Option<usize>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(r) => Ok(r.next()?.map(Row::Sqlite)),
            Rows::Pg {
                rows,
                next,
                current,
            } => {
                if *next >= rows.len() {
                    *current = None;
                    return Ok(None);
                }
                *current = Some(*next);
                *next += 1;
                Ok(Some(Row::Pg(&rows[*next - 1])))
            }
        }
    }
}

/// The rows of a query, each read by a function.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        let f = &mut self.f;
        match self.rows.next() {
            Ok(Some(r)) => Some(f(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// The PostgreSQL side: statements rewritten and prepared once, parameters encoded for the type
/// the server infers, every column read as one of the five SQLite kinds.
pub mod pg {
    use super::*;
    use bytes::BytesMut;
    use postgres::types::{IsNull, Type, to_sql_checked};

    pub struct PgConn {
        pub client: postgres::Client,
        cache: HashMap<String, postgres::Statement>,
    }

    impl PgConn {
        pub fn new(client: postgres::Client) -> PgConn {
            PgConn {
                client,
                cache: HashMap::new(),
            }
        }
    }

    pub(super) fn prepare<'c>(c: &'c RefCell<PgConn>, sql: &str) -> Result<Statement<'c>> {
        let mut conn = c.borrow_mut();
        if let Some(s) = conn.cache.get(sql) {
            return Ok(Statement::Pg {
                conn: c,
                stmt: s.clone(),
            });
        }
        let text = rewrite(sql);
        let stmt = match conn.client.prepare(&text) {
            Ok(s) => s,
            // (a debug build names the statement the server refused)
            Err(e) if cfg!(debug_assertions) && e.as_db_error().is_some() => {
                return Err(Error::Other(format!("{}: in {text}", Error::Pg(e))));
            }
            Err(e) => return Err(e.into()),
        };
        if conn.cache.len() > 512 {
            conn.cache.clear();
        }
        conn.cache.insert(sql.to_string(), stmt.clone());
        Ok(Statement::Pg { conn: c, stmt })
    }

    pub(super) fn query(
        c: &RefCell<PgConn>,
        stmt: &postgres::Statement,
        ps: &[Param<'_>],
    ) -> Result<Vec<postgres::Row>> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut conn = c.borrow_mut();
        let it = conn.client.query_raw(stmt, args(ps))?;
        Ok(it.collect()?)
    }

    pub(super) fn args<'a>(ps: &'a [Param<'a>]) -> impl ExactSizeIterator<Item = PgParam<'a>> {
        ps.iter().map(|p| PgParam(*p))
    }

    /// `?N` → `$N` and `?` → the next `$N` (outside quotes); `INSERT OR IGNORE` →
    /// `INSERT … ON CONFLICT DO NOTHING`.
    pub fn rewrite(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut chars = sql.chars().peekable();
        let mut quote: Option<char> = None;
        let mut top = 0usize;
        while let Some(c) = chars.next() {
            if let Some(q) = quote {
                out.push(c);
                if c == q {
                    quote = None;
                }
                continue;
            }
            match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        n.push(*d);
                        chars.next();
                    }
                    // (a bare `?` is one more than the largest number so far, as in SQLite)
                    if n.is_empty() {
                        n = (top + 1).to_string();
                    }
                    top = top.max(n.parse().unwrap_or(0));
                    out.push('$');
                    out.push_str(&n);
                }
                _ => out.push(c),
            }
        }
        // (SQLite's index hints mean nothing to PostgreSQL's planner)
        if out.contains(" NOT INDEXED") {
            out = out.replace(" NOT INDEXED", "");
        }
        while let Some(i) = out.find(" INDEXED BY ") {
            let rest = &out[i + 12..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.replace_range(i..i + 12 + end, "");
        }
        let trimmed = out.trim_start();
        if trimmed.len() >= 16 && trimmed[..16].eq_ignore_ascii_case("INSERT OR IGNORE") {
            let rest = &trimmed[16..];
            let (body, returning) = match rest.to_ascii_uppercase().find("RETURNING") {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            out = format!(
                "INSERT{} ON CONFLICT DO NOTHING {returning}",
                body.trim_end()
            );
        }
        out
    }

    #[derive(Debug)]
    pub(super) struct PgParam<'a>(Param<'a>);

    impl postgres::types::ToSql for PgParam<'_> {
        fn to_sql(
            &self,
            ty: &Type,
            out: &mut BytesMut,
        ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
            use bytes::BufMut;
            let bad = |what: &str| -> Box<dyn std::error::Error + Sync + Send> {
                format!("a parameter of {what} where the server wants {ty}").into()
            };
            match (self.0, ty) {
                (Param::Null, _) => return Ok(IsNull::Yes),
                (Param::Int(i), &Type::INT8) => out.put_i64(i),
                (Param::Int(i), &Type::INT4) => {
                    out.put_i32(i32::try_from(i).map_err(|_| bad("an integer out of range"))?)
                }
                (Param::Int(i), &Type::INT2) => {
                    out.put_i16(i16::try_from(i).map_err(|_| bad("an integer out of range"))?)
                }
                (Param::Int(i), &Type::BOOL) => out.put_u8((i != 0) as u8),
                (Param::Int(i), &Type::FLOAT8) => out.put_f64(i as f64),
                (Param::Int(i), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => {
                    out.put_slice(i.to_string().as_bytes())
                }
                (Param::Real(r), &Type::FLOAT8) => out.put_f64(r),
                (Param::Real(r), &Type::FLOAT4) => out.put_f32(r as f32),
                (Param::Real(r), &Type::TEXT | &Type::VARCHAR) => {
                    out.put_slice(r.to_string().as_bytes())
                }
                (
                    Param::Text(t),
                    &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN,
                ) => out.put_slice(t.as_bytes()),
                (Param::Text(t), &Type::JSON) => out.put_slice(t.as_bytes()),
                (Param::Text(t), &Type::JSONB) => {
                    out.put_u8(1);
                    out.put_slice(t.as_bytes())
                }
                (Param::Text(t), &Type::BYTEA) => out.put_slice(t.as_bytes()),
                (Param::Blob(b), &Type::BYTEA) => out.put_slice(b),
                (Param::Int(_), _) => return Err(bad("an integer")),
                (Param::Real(_), _) => return Err(bad("a real")),
                (Param::Text(_), _) => return Err(bad("text")),
                (Param::Blob(_), _) => return Err(bad("a blob")),
            }
            Ok(IsNull::No)
        }

        fn accepts(_: &Type) -> bool {
            true
        }

        to_sql_checked!();
    }

    /// A column's bytes as they came from the server, whatever its type.
    struct Raw<'a>(Option<&'a [u8]>);

    impl<'a> postgres::types::FromSql<'a> for Raw<'a> {
        fn from_sql(
            _: &Type,
            raw: &'a [u8],
        ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Raw(Some(raw)))
        }
        fn from_sql_null(
            _: &Type,
        ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
            Ok(Raw(None))
        }
        fn accepts(_: &Type) -> bool {
            true
        }
    }

    pub(super) fn cell(r: &postgres::Row, i: usize) -> Result<ValueRef<'_>> {
        if i >= r.len() {
            return Err(Error::Other(format!("no column {i}")));
        }
        let ty = r.columns()[i].type_();
        let raw: Raw<'_> = r.try_get(i)?;
        let Some(b) = raw.0 else {
            return Ok(ValueRef::Null);
        };
        let int = |n: usize| -> Result<i64> {
            if b.len() != n {
                return Err(Error::Other(format!("a {ty} of {} bytes", b.len())));
            }
            Ok(match n {
                8 => i64::from_be_bytes(b.try_into().unwrap()),
                4 => i32::from_be_bytes(b.try_into().unwrap()) as i64,
                2 => i16::from_be_bytes(b.try_into().unwrap()) as i64,
                _ => b[0] as i64,
            })
        };
        Ok(match *ty {
            Type::INT8 => ValueRef::Integer(int(8)?),
            Type::INT4 | Type::OID => ValueRef::Integer(int(4)?),
            Type::INT2 => ValueRef::Integer(int(2)?),
            Type::BOOL => ValueRef::Integer(int(1)?),
            Type::FLOAT8 => ValueRef::Real(f64::from_bits(int(8)? as u64)),
            Type::FLOAT4 => ValueRef::Real(f32::from_bits(int(4)? as u32) as f64),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                ValueRef::Text(b)
            }
            Type::JSONB => ValueRef::Text(b.get(1..).unwrap_or_default()),
            Type::BYTEA => ValueRef::Blob(b),
            Type::NUMERIC => numeric(b)?,
            _ => return Err(Error::Other(format!("column {i} is of type {ty}"))),
        })
    }

    /// PostgreSQL's binary NUMERIC: an integer when it has no fraction, else a real.
    fn numeric(b: &[u8]) -> Result<ValueRef<'static>> {
        let bad = || Error::Other("a malformed numeric".to_string());
        let h = |i: usize| -> Result<i16> {
            Ok(i16::from_be_bytes(
                b.get(i..i + 2).ok_or_else(bad)?.try_into().unwrap(),
            ))
        };
        let (n, weight, sign, scale) = (h(0)? as usize, h(2)?, h(4)? as u16, h(6)?);
        if sign == 0xC000 {
            return Ok(ValueRef::Null);
        }
        let mut v = 0f64;
        let mut int: Option<i64> = Some(0);
        for k in 0..n {
            let d = h(8 + 2 * k)? as i64;
            let power = weight as i32 - k as i32;
            v += d as f64 * 10000f64.powi(power);
            if power < 0 {
                if d != 0 {
                    int = None;
                }
            } else {
                int = int.and_then(|x| {
                    x.checked_add(d.checked_mul(10000i64.checked_pow(power as u32)?)?)
                });
            }
        }
        let neg = sign == 0x4000;
        Ok(match int {
            Some(i) if scale >= 0 => ValueRef::Integer(if neg { -i } else { i }),
            _ => ValueRef::Real(if neg { -v } else { v }),
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parameters_are_numbered_and_quotes_left_alone() {
            assert_eq!(
                rewrite("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?"),
                "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $2"
            );
            assert_eq!(
                rewrite("INSERT OR IGNORE INTO t (a) VALUES (?1)"),
                "INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING "
            );
            assert_eq!(
                rewrite("SELECT a FROM t INDEXED BY t_a ORDER BY a"),
                "SELECT a FROM t ORDER BY a"
            );
        }

        #[test]
        fn numerics_are_read_exactly_when_whole() {
            // 12345678 = [1234, 5678], weight 1
            let b = [0, 2, 0, 1, 0, 0, 0, 0, 0x04, 0xD2, 0x16, 0x2E];
            assert_eq!(numeric(&b).unwrap(), ValueRef::Integer(12345678));
            // -1.5 = [1, 5000], weight 0, scale 1
            let b = [0, 2, 0, 0, 0x40, 0, 0, 1, 0, 1, 0x13, 0x88];
            assert_eq!(numeric(&b).unwrap(), ValueRef::Real(-1.5));
        }
    }
}
