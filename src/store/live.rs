//! Hearing of others' changes: every change appends an audit record, so the chain's head is
//! the one number to watch. On PostgreSQL the append notifies channel `assay_audit` when its
//! writer commits (see `pg_access.sql`); the listener waits on it and reads the head. On the
//! local file there is no notification across processes: the head is read every few hundred
//! milliseconds on a connection of its own (an indexed lookup).

use std::time::Duration;

use super::db::Connection;
use super::{Store, StoreError};

/// A connection that waits for changes to the workspace.
pub struct Listener {
    store: Store,
}

/// How often the local file's head is looked at.
const FILE_POLL: Duration = Duration::from_millis(300);

impl Listener {
    /// Starts listening on `store` (a connection of the listener's own).
    pub fn new(store: Store) -> Result<Listener, StoreError> {
        if let Connection::Pg(c) = &store.conn {
            c.borrow_mut()
                .client
                .batch_execute("LISTEN assay_audit")
                .map_err(lost)?;
        }
        Ok(Listener { store })
    }

    /// Waits at most `wait` for a change (less on the local file), then returns the number of
    /// the last record now in the chain. An error means the connection is gone.
    pub fn wait(&mut self, wait: Duration) -> Result<i64, StoreError> {
        match &self.store.conn {
            Connection::Pg(c) => {
                use postgres::fallible_iterator::FallibleIterator;
                let mut conn = c.borrow_mut();
                let mut n = conn.client.notifications();
                // (the first notification ends the wait; those queued with it are read too)
                let first = n.timeout_iter(wait).next().map(|_| ());
                let heard = first.and_then(|()| {
                    let mut pending = n.iter();
                    while pending.next()?.is_some() {}
                    Ok(())
                });
                if let Err(e) = heard {
                    return Err(lost(e));
                }
            }
            Connection::Sqlite(_) => std::thread::sleep(wait.min(FILE_POLL)),
        }
        Ok(super::audit::head(&self.store.conn)?)
    }
}

fn lost(e: postgres::Error) -> StoreError {
    StoreError::Server(format!("the connection to the workspace was lost: {e}"))
}
