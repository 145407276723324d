//! Reading one stored blob by range, without loading it: a large evidence file is shown a few
//! lines at a time. A reader has its own read-only connection and keeps the blob open on a thread
//! of its own (an open blob handle finds any offset at once; opening one per read would walk the
//! blob's pages from the start each time). Dropping the reader ends the thread.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::Result;

type Request = (u64, u64, SyncSender<Vec<u8>>);

/// Bytes read from the blob at once, and how many such pages are kept: what the view reads
/// next is mostly beside what it read last (the lines after, a chunk of a scan), so most reads
/// are answered from memory without asking the reader's thread.
const PAGE: u64 = 64 * 1024;
const PAGES: usize = 32;

/// A stored blob, read by range.
pub struct BlobReader {
    len: u64,
    tx: Mutex<Sender<Request>>,
    /// Recently read pages (page number, bytes), the newest last.
    pages: Mutex<Vec<(u64, std::sync::Arc<[u8]>)>>,
}

impl std::fmt::Debug for BlobReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobReader({} bytes)", self.len)
    }
}

impl BlobReader {
    /// Opens the blob with this SHA-256 in the workspace `main` is connected to; `None` when
    /// there is none (or the workspace is in memory).
    pub fn open(main: &super::db::Connection, sha: &str) -> Result<Option<BlobReader>> {
        // (on a server the blob is read whole, by the caller)
        let Some(main) = main.sqlite() else {
            return Ok(None);
        };
        let Some((rowid, len)) = main
            .query_row(
                "SELECT rowid, length(data) FROM blobs WHERE sha256 = ?1",
                [sha],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .optional()?
        else {
            return Ok(None);
        };
        let Some(path) = main.path().filter(|p| !p.is_empty()).map(str::to_string) else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(super::busy_timeout())?;
        // The handle is opened here, so a failure is reported now rather than as empty reads.
        let (ready_tx, ready_rx) = sync_channel::<std::result::Result<(), String>>(1);
        let (tx, rx): (Sender<Request>, Receiver<Request>) = channel();
        std::thread::Builder::new()
            .name("assay-blob".into())
            .spawn(move || {
                let blob = match conn.blob_open("main", "blobs", "data", rowid, true) {
                    Ok(b) => {
                        let _ = ready_tx.send(Ok(()));
                        b
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok((start, end, reply)) = rx.recv() {
                    let len = blob.len() as u64;
                    let end = end.min(len);
                    let start = start.min(end);
                    let mut buf = vec![0u8; (end - start) as usize];
                    if blob.read_at_exact(&mut buf, start as usize).is_err() {
                        buf.clear();
                    }
                    let _ = reply.send(buf);
                }
            })
            .map_err(super::StoreError::Io)?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                return Err(super::StoreError::Io(std::io::Error::other(format!(
                    "cannot read stored file {sha}: {e}"
                ))));
            }
            Err(_) => {
                return Err(super::StoreError::Io(std::io::Error::other(format!(
                    "cannot read stored file {sha}"
                ))));
            }
        }
        Ok(Some(BlobReader {
            len: len.max(0) as u64,
            tx: Mutex::new(tx),
            pages: Mutex::new(Vec::with_capacity(PAGES)),
        }))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes of `start..end` (clamped to the blob); empty if the read failed.
    pub fn read(&self, start: u64, end: u64) -> Vec<u8> {
        let end = end.min(self.len);
        let start = start.min(end);
        // large reads (a scan's chunk) go straight to the blob
        if end - start > PAGE * 4 {
            return self.read_direct(start, end);
        }
        let mut out = Vec::with_capacity((end - start) as usize);
        let mut at = start;
        while at < end {
            let n = at / PAGE;
            let Some(page) = self.page(n) else {
                return Vec::new();
            };
            let from = (at - n * PAGE) as usize;
            let to = ((end - n * PAGE) as usize).min(page.len());
            if from >= to {
                break;
            }
            out.extend_from_slice(&page[from..to]);
            at = n * PAGE + to as u64;
        }
        out
    }

    /// Page `n`, from the kept pages or read.
    fn page(&self, n: u64) -> Option<std::sync::Arc<[u8]>> {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pages.iter().position(|(k, _)| *k == n) {
            let p = pages.remove(i);
            let bytes = p.1.clone();
            pages.push(p);
            return Some(bytes);
        }
        let start = n * PAGE;
        let bytes: std::sync::Arc<[u8]> =
            self.read_direct(start, (start + PAGE).min(self.len)).into();
        if bytes.is_empty() && start < self.len {
            return None;
        }
        if pages.len() == PAGES {
            pages.remove(0);
        }
        pages.push((n, bytes.clone()));
        Some(bytes)
    }

    /// Reads `start..end` from the blob itself.
    fn read_direct(&self, start: u64, end: u64) -> Vec<u8> {
        let (reply, answer) = sync_channel(1);
        let sent = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send((start, end, reply));
        if sent.is_err() {
            return Vec::new();
        }
        answer.recv().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_read_across_pages_are_the_bytes_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BLOB)")
            .unwrap();
        let data: Vec<u8> = (0..(PAGE * 3 + 123)).map(|i| (i % 251) as u8).collect();
        conn.execute("INSERT INTO blobs VALUES ('x', ?1)", [&data])
            .unwrap();
        let conn = crate::store::db::Connection::from(conn);
        let r = BlobReader::open(&conn, "x").unwrap().unwrap();
        assert_eq!(r.len(), data.len() as u64);
        for (a, b) in [
            (0u64, 10u64),
            (PAGE - 5, PAGE + 5),
            (PAGE * 2 - 1, PAGE * 3 + 123),
            (5, PAGE * 3 + 200),
            (PAGE * 3 + 100, PAGE * 9),
            (7, 7),
        ] {
            let want = &data[(a as usize).min(data.len())..(b as usize).min(data.len())];
            assert_eq!(r.read(a, b), want, "{a}..{b}");
            // again, from the kept pages
            assert_eq!(r.read(a, b), want, "{a}..{b} again");
        }
        assert!(BlobReader::open(&conn, "missing").unwrap().is_none());
    }
}
