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

fn key(rt: &mut Runtime, c: KeyCode) {
    rt.dispatch(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

/// The queue's rows (id, status, mine) and its counts.
type Shown = (Vec<(String, String, bool)>, Vec<(String, i64)>);

fn queue(rt: &Runtime) -> Shown {
    let q = &rt.model.queue;
    let rows = q
        .rows
        .iter()
        .map(|r| (r.id.to_string(), r.status.to_string(), r.mine))
        .collect();
    (rows, q.counts.clone())
}

#[test]
fn changed_portfolios_move_into_place_as_a_full_load_puts_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut ws = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ws).unwrap();
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
        q.rows[q.visible[q.selected]].id, open,
        "the open one stays selected"
    );
}
