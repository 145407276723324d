//! Returning to the queue re-reads only the portfolios changed since it was loaded and moves
//! them into place through `update`: the queue is then as a full load reads it.

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};
use assay::tui::model::{Model, Msg, Screen};
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn runtime(db: &std::path::Path, user: &str) -> Runtime {
    let ws = Workspace::open(db, user.into()).unwrap();
    let model = Model::new(user.into(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    rt.dispatch(Msg::Resize(80, 24));
    rt.start();
    rt
}

/// A workspace file seeded with the built-in samples, open as ann.
fn seeded() -> (tempfile::TempDir, std::path::PathBuf, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut ws = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ws).unwrap();
    (dir, db, ws)
}

fn key(rt: &mut Runtime, c: KeyCode) {
    rt.dispatch(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

/// The queue's rows (id, status, mine) and its counts.
type Shown = (Vec<(String, String, bool)>, Vec<(String, i64)>);

fn queue(rt: &Runtime) -> Shown {
    let q = &rt.model.queue;
    // (a small queue: every row is on screen, so every row has been read)
    let rows = q
        .keys
        .iter()
        .map(|k| &q.shown[&k.pk])
        .map(|r| (r.id.to_string(), r.status.to_string(), r.mine))
        .collect();
    (rows, q.counts.clone())
}

#[test]
fn changed_portfolios_move_into_place_as_a_full_load_puts_them() {
    let (_dir, db, mut ws) = seeded();
    let mut rt = runtime(&db, "ann");
    let (before, _) = queue(&rt);
    assert_eq!(before.len(), 12);
    // Open the first, then (elsewhere) change some from the end, the middle and the start.
    key(&mut rt, KeyCode::Enter);
    assert_eq!(rt.model.screen, Screen::Assess, "{:?}", rt.model.message);
    let open = rt.model.assess.as_ref().unwrap().id.clone();
    for i in [11, 5, 8, 0, 2] {
        let id = &before[i].0;
        ws.save(
            id,
            Phase::First,
            &Change::Comment(Some(format!("note {i}"))),
            None,
        )
        .unwrap();
    }
    key(&mut rt, KeyCode::Esc);
    assert_eq!(rt.model.screen, Screen::Queue);
    let (after, counts) = queue(&rt);
    assert_ne!(after, before, "the changes are seen");
    let full = runtime(&db, "ann");
    assert_eq!((after, counts), queue(&full));
    let q = &rt.model.queue;
    assert_eq!(
        q.row_at(q.selected).unwrap().id,
        open,
        "the open one stays selected"
    );
}

/// The chain's head as the workspace stands.
fn head(ws: &Workspace) -> i64 {
    ws.audit_head().unwrap()
}

/// A comment saved on portfolio `id`'s first marking by `other` (another process's change).
fn comment_elsewhere(other: &mut Workspace, id: &str) {
    other
        .save(
            id,
            Phase::First,
            &Change::Comment(Some("seen elsewhere".into())),
            None,
        )
        .unwrap();
}

#[test]
fn others_changes_reach_an_open_queue_without_a_key() {
    let (_dir, db, ws) = seeded();
    let mut rt = runtime(&db, "ann");
    let (before, _) = queue(&rt);
    let selected = rt.model.queue.selected;
    let mut other = Workspace::open(&db, "bob".into()).unwrap();
    for i in [3, 7] {
        comment_elsewhere(&mut other, &before[i].0);
    }
    // (what the watcher sends when it hears of the change)
    rt.dispatch(Msg::Live { head: head(&ws) });
    let (after, counts) = queue(&rt);
    assert_ne!(after, before, "the changes are seen");
    assert_eq!((after, counts), queue(&runtime(&db, "ann")));
    assert_eq!(rt.model.screen, Screen::Queue, "the screen stays");
    let q = &rt.model.queue;
    assert_eq!(
        q.row_at(q.selected).unwrap().id,
        before[selected].0,
        "the selected portfolio stays selected"
    );
}

#[test]
fn an_open_portfolio_someone_else_saved_is_shown_as_stored() {
    let (_dir, db, mut ws) = seeded();
    let mut rt = runtime(&db, "ann");
    key(&mut rt, KeyCode::Enter);
    let a = rt.model.assess.as_ref().unwrap();
    let (id, version) = (a.id.clone(), a.version);
    // The same person on another machine adds a comment.
    let v = ws
        .save(
            &id,
            Phase::First,
            &Change::Comment(Some("from the other machine".into())),
            Some(version),
        )
        .unwrap();
    assert_ne!(v, version);
    rt.dispatch(Msg::Live { head: head(&ws) });
    let a = rt.model.assess.as_ref().unwrap();
    assert_eq!(a.version, v, "the stored version is on screen");
    assert_eq!(rt.model.screen, Screen::Assess);
    let said = &rt.model.message.as_ref().unwrap().0;
    assert!(said.contains("changed by someone else"), "{said}");
    // Nothing changed since: another notice of the same head changes nothing.
    rt.dispatch(Msg::Live { head: head(&ws) });
    assert_eq!(rt.model.assess.as_ref().unwrap().version, v);
}

#[test]
fn a_lost_connection_is_said_until_it_is_back() {
    let (_dir, db, mut ws) = seeded();
    let mut rt = runtime(&db, "ann");
    rt.dispatch(Msg::Connection(Some("server closed the connection".into())));
    assert!(rt.model.connection.is_some());
    let said = &rt.model.message.as_ref().unwrap().0;
    assert!(said.starts_with("connection lost — reconnecting"), "{said}");
    // (while it is away, changes made elsewhere are caught up once it is back)
    let (before, _) = queue(&rt);
    ws.save(
        &before[0].0,
        Phase::First,
        &Change::Comment(Some("while away".into())),
        None,
    )
    .unwrap();
    rt.dispatch(Msg::Connection(None));
    assert!(rt.model.connection.is_none());
    assert_eq!(queue(&rt), queue(&runtime(&db, "ann")));
}

#[test]
fn the_watcher_hears_of_a_change_made_by_another_process() {
    let (_dir, db, mut ws) = seeded();
    let (tx, rx) = std::sync::mpsc::channel();
    assay::tui::runtime::spawn_watcher(db.clone(), tx);
    let wait = std::time::Duration::from_secs(10);
    let first = match rx.recv_timeout(wait).unwrap() {
        Msg::Live { head } => head,
        other => panic!("{other:?}"),
    };
    assert_eq!(first, head(&ws));
    let id = queue(&runtime(&db, "ann")).0[0].0.clone();
    ws.save(&id, Phase::First, &Change::Comment(Some("x".into())), None)
        .unwrap();
    match rx.recv_timeout(wait).unwrap() {
        Msg::Live { head: h } => assert_eq!(h, head(&ws)),
        other => panic!("{other:?}"),
    }
}

/// The first screen a large server workspace shows while its whole queue is read holds the
/// queue's first rows, in its order, for the person (their own work first).
#[test]
fn the_first_rows_read_alone_are_the_queues_first_rows() {
    let (_dir, db, mut ws) = seeded();
    let ids: Vec<String> = queue(&runtime(&db, "ann"))
        .0
        .iter()
        .map(|r| r.0.clone())
        .collect();
    ws.assign(&[ids[5].clone(), ids[9].clone()], "bob").unwrap();
    for who in ["ann", "bob"] {
        let whole: Vec<String> = queue(&runtime(&db, who))
            .0
            .iter()
            .map(|r| r.0.clone())
            .collect();
        let w = Workspace::open(&db, who.into()).unwrap();
        for limit in [1, 2, 3, 7, 12, 40] {
            let mut first = Vec::new();
            w.first_queue_rows(limit, |r| first.push(r.id.clone()))
                .unwrap();
            assert_eq!(first, whole[..limit.min(whole.len())], "{who}, {limit}");
        }
    }
}

/// The queue keeps every portfolio's key, but reads the rows' texts only for the rows the
/// screen may show (the selection, a screen's height and more each side): moving reads more,
/// and every row shown is the one a full read gives.
#[test]
fn only_the_rows_near_the_screen_are_read_and_moving_reads_the_rest() {
    let (_dir, db, _ws) = seeded();
    let full = runtime(&db, "ann");
    let ws = Workspace::open(&db, "ann".into()).unwrap();
    let model = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    // (a screen of 2 lines: the rows read are the selection's and 4 each side)
    rt.dispatch(Msg::Resize(80, 2));
    rt.start();
    let q = &rt.model.queue;
    assert_eq!(q.keys.len(), 12);
    assert_eq!(
        q.keys, full.model.queue.keys,
        "the same order as a full read"
    );
    let read = |rt: &Runtime| -> Vec<usize> {
        let q = &rt.model.queue;
        (0..q.visible.len())
            .filter(|&p| q.row_at(p).is_some())
            .collect()
    };
    assert_eq!(read(&rt), (0..5).collect::<Vec<_>>());
    // (too small a screen takes no keys: the selection is moved as `End` moves it)
    rt.model.queue.selected = 11;
    rt.dispatch(Msg::Resize(80, 2));
    assert!((7..12).all(|p| read(&rt).contains(&p)), "{:?}", read(&rt));
    // every row read is the one a full read shows there
    let (a, b) = (&rt.model.queue, &full.model.queue);
    for p in read(&rt) {
        assert_eq!(a.row_at(p), b.row_at(p), "row {p}");
    }
    // Enter opens the row selected (read), Esc comes back to it
    rt.dispatch(Msg::Resize(80, 24));
    key(&mut rt, KeyCode::Enter);
    assert_eq!(rt.model.screen, Screen::Assess);
    let open = rt.model.assess.as_ref().unwrap().id.clone();
    assert_eq!(open, b.row_at(11).unwrap().id.as_str());
    key(&mut rt, KeyCode::Esc);
    assert_eq!(rt.model.queue.selected, 11);
}

#[test]
fn returning_from_a_portfolio_opened_away_from_the_selection_selects_it() {
    let (_dir, db, _ws) = seeded();
    let mut rt = runtime(&db, "ann");
    assert_eq!(rt.model.queue.selected, 0);
    // a portfolio opened other than from its row (the one recalled at start, or `/` from the
    // assessment screen), whose row the queue no longer keeps (far from the screen's rows)
    let last = rt.model.queue.key_at(11).unwrap().pk;
    let id = rt.model.queue.row_at(11).unwrap().id.to_string();
    let a = rt.open(&id).unwrap();
    rt.dispatch(Msg::Opened(Box::new(a)));
    assert_eq!(rt.model.screen, Screen::Assess);
    rt.model.queue.shown.remove(&last);
    key(&mut rt, KeyCode::Esc);
    assert_eq!(rt.model.screen, Screen::Queue);
    assert_eq!(
        rt.model.queue.selected, 11,
        "the portfolio just closed is selected"
    );
    assert_eq!(rt.model.queue.row_at(11).unwrap().id.as_str(), id);
}

#[test]
fn the_workbench_checkpoints_its_log_on_a_thread_of_its_own() {
    let (_dir, db, ws) = seeded();
    drop(ws);
    let ws = Workspace::open(&db, "ann".into()).unwrap();
    ws.checkpoint_in_background().unwrap();
    let file = || std::fs::metadata(&db).unwrap().len();
    let before = file();
    // more than 4 MiB of log; this connection no longer copies it into the file itself
    let big = "x".repeat(6 << 20);
    ws.remember("test.big", Some(&big)).unwrap();
    assert_eq!(
        file(),
        before,
        "not checkpointed by the connection that committed"
    );
    let mut grown = false;
    for _ in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        if file() > before + (4 << 20) {
            grown = true;
            break;
        }
    }
    assert!(grown, "the thread copied the log into the file");
}

#[test]
fn a_filter_after_others_changes_moved_rows_shows_the_portfolios_it_matched() {
    use assay::tui::runtime::spawn_filter_worker;
    let (_dir, db, ws) = seeded();
    let w = Workspace::open(&db, "ann".into()).unwrap();
    let model = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut rt = Runtime::new(w, model)
        .with_filter_worker(spawn_filter_worker(tx.clone()))
        .with_background(db.clone(), tx);
    rt.dispatch(Msg::Resize(100, 30));
    rt.start();
    let settle = |rt: &mut Runtime| {
        let t = std::time::Instant::now();
        while t.elapsed() < std::time::Duration::from_secs(10) {
            match rx.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(m) => {
                    rt.dispatch(m);
                }
                Err(_) if !rt.model.queue.filtering => break,
                Err(_) => {}
            }
        }
    };
    settle(&mut rt);
    let (before, _) = queue(&rt);
    // the portfolios that match and a few others are marked elsewhere (another window of the
    // same person's): they move up the queue, and the rows between them shift
    let mut other = Workspace::open(&db, "ann".into()).unwrap();
    let hits = ws.search("kovac", 100).unwrap();
    let matching: Vec<usize> = before
        .iter()
        .enumerate()
        .filter(|(_, r)| hits.iter().any(|(_, f)| f.id == r.0))
        .map(|(i, _)| i)
        .collect();
    assert!(!matching.is_empty());
    for i in matching.into_iter().chain([5, 11]) {
        comment_elsewhere(&mut other, &before[i].0);
    }
    rt.dispatch(Msg::Live { head: head(&ws) });
    let (after, _) = queue(&rt);
    let at = |rows: &[(String, String, bool)]| -> Vec<usize> {
        rows.iter()
            .enumerate()
            .filter(|(_, r)| r.0 == "P-2026-0051")
            .map(|(i, _)| i)
            .collect()
    };
    assert_ne!(at(&before), at(&after), "a portfolio that matches moved");
    assert_ne!(after, before, "the rows moved");
    // the filter's matches are the portfolios whose texts hold the query, wherever they moved
    key(&mut rt, KeyCode::Char('/'));
    for c in "kovac".chars() {
        key(&mut rt, KeyCode::Char(c));
    }
    settle(&mut rt);
    let q = &rt.model.queue;
    let mut shown: Vec<String> = (0..q.visible.len())
        .map(|p| q.row_at(p).unwrap().id.to_string())
        .collect();
    // (what `assay search` finds, by their texts or their documents' words)
    let mut found: Vec<String> = ws
        .search("kovac", 100)
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.id)
        .chain(
            ws.search_documents("kovac", 100)
                .unwrap()
                .into_iter()
                .map(|d| d.row.id),
        )
        .collect();
    assert!(!shown.is_empty());
    shown.sort();
    found.sort();
    found.dedup();
    assert_eq!(shown, found, "the rows shown are the portfolios matched");
}
