//! The watcher: a thread with a connection of its own that hears of every change to the
//! workspace (see `app::live`) and tells the workbench — the chain's new head, or that the
//! workspace cannot be reached and, later, that it can again.

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::app::live::Feed;
use crate::tui::model::Msg;

/// The longest a wait for a notification lasts before the head is read anyway (which also
/// finds a connection that died quietly).
const WAIT: Duration = Duration::from_millis(1000);
/// How long after a failed attempt the workspace is tried again.
const RETRY: Duration = Duration::from_millis(500);

/// Starts watching the workspace at `db`; the thread ends when the workbench stops listening.
pub fn spawn_watcher(db: PathBuf, tx: Sender<Msg>) {
    std::thread::spawn(move || watch(&db, &tx));
}

fn watch(db: &std::path::Path, tx: &Sender<Msg>) {
    let mut feed: Option<Feed> = None;
    let mut last: Option<i64> = None;
    let mut lost = false;
    loop {
        let f = match &mut feed {
            Some(f) => f,
            None => match Feed::open(db) {
                Ok(f) => feed.insert(f),
                Err(e) => {
                    if !lost {
                        lost = true;
                        if tx
                            .send(Msg::Connection(Some(e.lines().join("; "))))
                            .is_err()
                        {
                            return;
                        }
                    }
                    std::thread::sleep(RETRY);
                    continue;
                }
            },
        };
        let said = match f.wait(WAIT) {
            Ok(head) => {
                let mut said = Ok(());
                if lost {
                    lost = false;
                    // (the runtime connects again and catches up from what it last read)
                    said = tx.send(Msg::Connection(None));
                } else if last != Some(head) {
                    said = tx.send(Msg::Live { head });
                }
                last = Some(head);
                said
            }
            Err(e) => {
                feed = None;
                let mut said = Ok(());
                if !lost {
                    lost = true;
                    said = tx.send(Msg::Connection(Some(e.lines().join("; "))));
                }
                std::thread::sleep(RETRY);
                said
            }
        };
        if said.is_err() {
            return;
        }
    }
}
