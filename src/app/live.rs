//! Others' changes as they happen, for an open workbench: a feed of the audit chain's head on a
//! connection of its own, and bringing the person's own connection back after a fault.

use std::path::Path;
use std::time::Duration;

use super::{Result, Workspace, server_uri};
use crate::store::Store;
use crate::store::live::Listener;

/// The head of the audit chain, as others move it.
pub struct Feed {
    listener: Listener,
}

impl Feed {
    /// Opens a feed on the workspace at `path` (a file that exists, or a server).
    pub fn open(path: &Path) -> Result<Feed> {
        let store = match server_uri(path) {
            Some(uri) => Store::open_server(uri)?,
            None => Store::open_existing(path)?,
        };
        Ok(Feed {
            listener: Listener::new(store)?,
        })
    }

    /// Waits at most `wait` for a change and returns the number of the chain's last record. An
    /// error means the workspace cannot be reached (a feed is then opened again).
    pub fn wait(&mut self, wait: Duration) -> Result<i64> {
        Ok(self.listener.wait(wait)?)
    }
}

impl Workspace {
    /// Connects to the server again when the connection was lost (nothing to do on a file).
    pub fn reconnect(&mut self) -> Result<()> {
        if self.store.server.is_some() {
            self.store.reconnect_in_place()?;
        }
        Ok(())
    }

    /// What the title bar calls the workspace: a file's name, or a server database's name and
    /// that it is on PostgreSQL.
    pub fn place_name(&self, path: &Path) -> String {
        match &self.store.server {
            Some(srv) => format!(
                "{} on PostgreSQL",
                srv.config.get_dbname().unwrap_or("the server")
            ),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// Whether the connection to the server is known to be gone.
    pub fn is_lost(&self) -> bool {
        self.store.is_lost()
    }

    /// The stored version of portfolio `id` (`None` when there is no such portfolio).
    pub fn portfolio_version(&self, id: &str) -> Result<Option<i64>> {
        use crate::store::db::OptionalExtension;
        Ok(self
            .conn()
            .query_row("SELECT version FROM portfolios WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }
}
