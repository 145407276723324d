//! The workbench driven without a terminal: key messages through `update` and the runtime, with
//! a real workspace database in a temporary folder.

use assay::app::Workspace;
use assay::app::mark::Phase;
use assay::tui::model::{Cmd, Dialog, Model, Msg, Saved, Screen};
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn runtime(dir: &std::path::Path, user: &str) -> Runtime {
    let db = dir.join("w.db");
    let fresh = !db.exists();
    let mut ws = Workspace::open(&db, user.into()).unwrap();
    if fresh {
        assay::app::seed::seed(&mut ws).unwrap();
    }
    let model = Model::new(user.into(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    rt.dispatch(Msg::Resize(80, 24));
    rt.start();
    rt
}

fn key(rt: &mut Runtime, c: KeyCode) -> Vec<Cmd> {
    rt.dispatch(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
}

fn chars(rt: &mut Runtime, s: &str) {
    for c in s.chars() {
        key(rt, KeyCode::Char(c));
    }
}

fn open(rt: &mut Runtime, query: &str) {
    key(rt, KeyCode::Char('/'));
    chars(rt, query);
    key(rt, KeyCode::Enter);
    key(rt, KeyCode::Enter);
    assert_eq!(rt.model.screen, Screen::Assess, "{:?}", rt.model.message);
}

#[test]
fn filter_narrows_live_and_esc_clears() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    assert_eq!(rt.model.queue.visible.len(), 12);
    key(&mut rt, KeyCode::Char('/'));
    chars(&mut rt, "kovacevic");
    assert!(rt.model.queue.visible.len() < 12);
    assert_eq!(rt.model.queue.row_at(0).unwrap().id, "P-2026-0051");
    key(&mut rt, KeyCode::Enter);
    assert!(!rt.model.queue.typing);
    assert!(rt.model.queue.visible.len() < 12, "Enter keeps the filter");
    key(&mut rt, KeyCode::Esc);
    assert_eq!(rt.model.queue.visible.len(), 12, "Esc clears it");
}

#[test]
fn status_filter_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    key(&mut rt, KeyCode::Char('s'));
    assert_eq!(rt.model.queue.status_filter.as_deref(), Some("new"));
    assert_eq!(rt.model.queue.visible.len(), 12);
    key(&mut rt, KeyCode::Char('s'));
    assert_eq!(rt.model.queue.visible.len(), 0);
}

#[test]
fn marks_from_keys_are_saved_and_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    open(&mut rt, "P-2026-0051");
    // four criteria at level 2 (achieved), then the four gates
    for _ in 0..4 {
        key(&mut rt, KeyCode::Char('2'));
        key(&mut rt, KeyCode::Char('j'));
    }
    for _ in 0..4 {
        key(&mut rt, KeyCode::Char(' '));
        key(&mut rt, KeyCode::Char('j'));
    }
    let a = rt.model.assess.as_ref().unwrap();
    assert_eq!(a.saved, Saved::Saved);
    assert!(a.eval.complete);
    assert_eq!(a.eval.score.to_string(), "50");
    // saved in the database before the screen says so
    let (ev, sheet) = rt.ws.preview("P-2026-0051", Phase::First).unwrap();
    assert_eq!(sheet.marks.len(), 4);
    assert_eq!(sheet.gates.len(), 4);
    assert_eq!(ev.outcome, assay::domain::decision::Outcome::Awarded);
    // undo takes the last gate back
    key(&mut rt, KeyCode::Char('u'));
    let (_, sheet) = rt.ws.preview("P-2026-0051", Phase::First).unwrap();
    assert_eq!(sheet.gates.len(), 3);
    key(&mut rt, KeyCode::Char(' '));
    // submit: confirmation first, n cancels, y records
    key(&mut rt, KeyCode::Char('S'));
    assert!(matches!(rt.model.dialog, Some(Dialog::Submit)));
    key(&mut rt, KeyCode::Char('n'));
    assert!(rt.model.dialog.is_none());
    assert!(rt.ws.first_decision("P-2026-0051").unwrap().is_none());
    key(&mut rt, KeyCode::Char('S'));
    key(&mut rt, KeyCode::Char('y'));
    let d = rt
        .ws
        .first_decision("P-2026-0051")
        .unwrap()
        .expect("decision recorded");
    assert_eq!(d.outcome, "awarded");
    assert_eq!(d.grade.as_deref(), Some("Achieved"));
    // frozen afterwards
    let a = rt.model.assess.as_ref().unwrap();
    assert!(!a.editable());
    key(&mut rt, KeyCode::Char('1'));
    let (_, sheet) = rt.ws.preview("P-2026-0051", Phase::First).unwrap();
    assert_eq!(sheet.marks["energy-use"].0.as_deref(), Some("achieved"));
}

#[test]
fn submit_refuses_while_unmarked() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    open(&mut rt, "P-2026-0050");
    key(&mut rt, KeyCode::Char('2'));
    key(&mut rt, KeyCode::Char('S'));
    assert!(rt.model.dialog.is_none());
    let msg = rt.model.message.clone().unwrap().0;
    assert!(msg.contains("measures"), "{msg}");
}

#[test]
fn reopening_returns_to_the_portfolio_and_criterion() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut rt = runtime(dir.path(), "ann");
        open(&mut rt, "P-2026-0052");
        key(&mut rt, KeyCode::Char('3'));
        key(&mut rt, KeyCode::Char('j'));
        key(&mut rt, KeyCode::Char('j'));
        // dropped without quitting, as after kill -9
    }
    let rt = runtime(dir.path(), "ann");
    assert_eq!(rt.model.screen, Screen::Assess);
    let a = rt.model.assess.as_ref().unwrap();
    assert_eq!(a.id, "P-2026-0052");
    assert_eq!(a.selected, 2);
    assert_eq!(a.level_of("energy-use"), Some("well-achieved"));
}

#[test]
fn feedback_with_the_built_in_editor_and_refer_with_rationale() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    open(&mut rt, "P-2026-0050");
    key(&mut rt, KeyCode::Char('e'));
    assert!(matches!(rt.model.dialog, Some(Dialog::Edit { .. })));
    chars(&mut rt, "Clear diary.");
    key(&mut rt, KeyCode::Enter);
    chars(&mut rt, "Good.");
    rt.dispatch(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    let (_, sheet) = rt.ws.preview("P-2026-0050", Phase::First).unwrap();
    assert_eq!(
        sheet.marks["energy-use"].1.as_deref(),
        Some("Clear diary.\nGood.")
    );
    // with $EDITOR the runtime hands editing to the terminal edge
    rt.model.external_editor = true;
    let cmds = key(&mut rt, KeyCode::Char('c'));
    assert!(
        matches!(cmds.as_slice(), [Cmd::EditExternal { .. }]),
        "{cmds:?}"
    );
    // refer: choose referred, write a rationale
    key(&mut rt, KeyCode::Char('R'));
    key(&mut rt, KeyCode::Char('1'));
    chars(&mut rt, "Two reports share identical text.");
    rt.dispatch(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    let (_, sheet) = rt.ws.preview("P-2026-0050", Phase::First).unwrap();
    assert_eq!(
        sheet.choice,
        Some(assay::domain::decision::Outcome::Referred)
    );
    assert!(sheet.rationale.unwrap().contains("identical"));
}

#[test]
fn a_concurrent_change_is_told_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    open(&mut rt, "P-2026-0050");
    key(&mut rt, KeyCode::Char('2'));
    // someone else (same person, another process) changes the portfolio meanwhile
    let mut other = Workspace::open(&dir.path().join("w.db"), "ann".into()).unwrap();
    other
        .save(
            "P-2026-0050",
            Phase::First,
            &assay::app::mark::Change::Level("energy-use".into(), Some("not-yet".into())),
            None,
        )
        .unwrap();
    key(&mut rt, KeyCode::Char('3'));
    let msg = rt.model.message.clone().unwrap().0;
    assert!(msg.contains("changed"), "{msg}");
    let (_, sheet) = rt.ws.preview("P-2026-0050", Phase::First).unwrap();
    assert_eq!(
        sheet.marks["energy-use"].0.as_deref(),
        Some("not-yet"),
        "the later write did not overwrite"
    );
    // the screen was reloaded with their change
    assert_eq!(
        rt.model.assess.as_ref().unwrap().level_of("energy-use"),
        Some("not-yet")
    );
}

#[test]
fn slash_finds_a_portfolio_from_the_assessment_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), "ann");
    open(&mut rt, "P-2026-0050");
    key(&mut rt, KeyCode::Char('2'));
    // typing a search from inside a portfolio does not mark it
    open(&mut rt, "P-2026-0052");
    assert_eq!(rt.model.assess.as_ref().unwrap().id, "P-2026-0052");
    let (_, sheet) = rt.ws.preview("P-2026-0050", Phase::First).unwrap();
    assert_eq!(sheet.marks.len(), 1);
    let (_, sheet) = rt.ws.preview("P-2026-0052", Phase::First).unwrap();
    assert!(sheet.marks.is_empty());
}
