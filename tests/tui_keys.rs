//! The pure `update`, driven by key sequences alone: no database, no runtime. The model is
//! built by hand; the commands `update` returns are what the runtime would perform.

use std::sync::Arc;

use assay::app::mark::{Change, Phase, Sheet};
use assay::app::moderation::Stage;
use assay::app::query::{Access, EvidenceItem};
use assay::domain::decision::evaluate;
use assay::tui::keys::Ctx;
use assay::tui::model::{
    Assess, Cmd, Dialog, EditTarget, History, Lower, Model, Msg, Pane, Saved, Screen,
};
use assay::tui::theme::Theme;
use assay::tui::update::{ctx, update};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn rubric() -> Arc<assay::domain::rubric::Rubric> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rubrics/data-literacy-practitioner.yaml"
    );
    let bytes = std::fs::read(path).unwrap();
    Arc::new(assay::domain::rubric::load(path, &bytes).unwrap().rubric)
}

fn evidence(id: &str, claims: &[&str]) -> EvidenceItem {
    EvidenceItem {
        id: id.into(),
        title: format!("evidence {id}"),
        kind: "informal".into(),
        file: Some(format!("evidence/{id}.txt")),
        url: None,
        date: "2025".into(),
        hours: None,
        claims: claims.iter().map(|c| c.to_string()).collect(),
        note: None,
        sha256: Some(format!("{:0>64}", id.len())),
        size: Some(10),
        is_text: true,
        group: None,
        linked: Vec::new(),
        text_sha: None,
        text_note: None,
    }
}

fn assess(access: Access) -> Assess {
    let rubric = rubric();
    let sheet = Sheet::default();
    let eval = evaluate(&rubric, &sheet.to_marks());
    Assess {
        id: "P-1".into(),
        pk: 2,
        learner: "Lena".into(),
        learner_id: "L-1".into(),
        rubric,
        phase: Phase::First,
        access,
        stage: Stage::None,
        sheet,
        version: 7,
        eval,
        status: "in_progress".into(),
        evidence_changed: false,
        selected: 0,
        pane: Pane::Criteria,
        lower: Lower::Evidence,
        evidence: vec![evidence("E1", &["C1"]), evidence("E2", &["C1", "C2"])],
        evidence_pos: 0,
        all_evidence: false,
        levels_scroll: 0,
        scroll: 0,
        statement: Some("# Statement\n\nWhat I learnt.".into()),
        shown: None,
        recent: Vec::new(),
        loading: None,
        picture: None,
        picture_loading: None,
        zoom: false,
        grid: None,
        undo: Vec::new(),
        redo: Vec::new(),
        saved: Saved::Untouched,
        blind: false,
        first: None,
        settlement: None,
        superseded: None,
        draw_reason: None,
        settle_evidence: false,
        settle_scroll: 0,
    }
}

fn model(access: Access) -> Model {
    let mut m = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    update(&mut m, Msg::Resize(80, 24));
    let cmds = update(&mut m, Msg::Opened(Box::new(assess(access))));
    assert!(
        cmds.iter().any(|c| matches!(c, Cmd::LoadEvidence { .. })),
        "{cmds:?}"
    );
    m
}

fn key(m: &mut Model, code: KeyCode) -> Vec<Cmd> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(m: &mut Model, c: char) -> Vec<Cmd> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn typed(m: &mut Model, s: &str) -> Vec<Cmd> {
    let mut all = Vec::new();
    for c in s.chars() {
        all.extend(key(m, KeyCode::Char(c)));
    }
    all
}

#[test]
fn a_level_key_asks_to_save_with_the_version_seen_and_its_undo() {
    let mut m = model(Access::Mark);
    let cmds = typed(&mut m, "3");
    let level3 = m.assess.as_ref().unwrap().rubric.criteria[0].levels[2]
        .id
        .clone();
    assert_eq!(
        cmds,
        vec![Cmd::Save {
            id: "P-1".into(),
            phase: Phase::First,
            version: 7,
            change: Change::Level("C1".into(), Some(level3)),
            undo: Some(Change::Level("C1".into(), None)),
            history: History::New,
        }]
    );
    // nothing is called saved until the runtime says it committed
    assert_eq!(m.assess.as_ref().unwrap().saved, Saved::Saving);
    // a level the criterion does not have is refused, and says how many it has
    let cmds = typed(&mut m, "9");
    assert!(cmds.is_empty());
    let msg = m.message.clone().unwrap().0;
    assert!(msg.contains("C1 has 4 levels: press 1–4"), "{msg}");
}

#[test]
fn a_read_only_marking_refuses_every_marking_key_and_says_why() {
    let mut m = model(Access::Read("portfolio P-1 is submitted".into()));
    for k in ["3", " ", "e", "c", "S", "R", "u"] {
        let cmds = typed(&mut m, k);
        assert!(
            !cmds
                .iter()
                .any(|c| matches!(c, Cmd::Save { .. } | Cmd::Submit { .. })),
            "{k}: {cmds:?}"
        );
        assert!(m.dialog.is_none(), "{k} opened {:?}", m.dialog);
        let msg = m.message.clone().map(|x| x.0).unwrap_or_default();
        assert!(
            msg.contains("read only") && msg.contains("submitted"),
            "{k}: {msg}"
        );
    }
    // and the hints do not offer them
    let offered = assay::tui::keys::hints(ctx(&m), &|a| assay::tui::update::available(&m, a));
    assert!(
        !offered
            .iter()
            .any(|(k, _, _)| ["1–9", "S", "e", "R"].contains(k)),
        "{offered:?}"
    );
}

#[test]
fn the_editor_asks_before_dropping_changed_text() {
    let mut m = model(Access::Mark);
    typed(&mut m, "e");
    assert_eq!(ctx(&m), Ctx::Editor);
    typed(&mut m, "Clear steps");
    // Esc with changes: asked, the text kept
    key(&mut m, KeyCode::Esc);
    assert_eq!(ctx(&m), Ctx::Discard);
    // k keeps editing; Ctrl-C asks again; d discards
    typed(&mut m, "k");
    assert_eq!(ctx(&m), Ctx::Editor);
    typed(&mut m, ", logged");
    ctrl(&mut m, 'c');
    assert_eq!(ctx(&m), Ctx::Discard);
    let cmds = typed(&mut m, "s");
    match &cmds[..] {
        [
            Cmd::Save {
                change: Change::Feedback(c, Some(t)),
                ..
            },
        ] => {
            assert_eq!((c.as_str(), t.as_str()), ("C1", "Clear steps, logged"))
        }
        other => panic!("{other:?}"),
    }
    // unchanged text closes without asking, and says so
    let mut m = model(Access::Mark);
    typed(&mut m, "e");
    key(&mut m, KeyCode::Esc);
    assert!(m.dialog.is_none());
    assert!(m.message.clone().unwrap().0.contains("unchanged"));
    // from $EDITOR: an unchanged text is not saved
    let cmds = update(
        &mut m,
        Msg::Edited {
            target: EditTarget::Comment,
            text: String::new(),
        },
    );
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(m.message.clone().unwrap().0.contains("unchanged"));
}

#[test]
fn a_failing_editor_hands_the_text_to_the_built_in_one() {
    let mut m = model(Access::Mark);
    update(
        &mut m,
        Msg::EditorFailed {
            target: EditTarget::Feedback("C1".into()),
            text: "draft".into(),
            error: "cannot run the editor `nope`".into(),
        },
    );
    assert!(matches!(&m.dialog, Some(Dialog::Edit { area, .. }) if area.text() == "draft"));
    assert!(m.message.clone().unwrap().0.contains("built-in editor"));
}

#[test]
fn below_the_minimum_size_keys_wait_and_typed_text_is_kept() {
    let mut m = model(Access::Mark);
    typed(&mut m, "e");
    typed(&mut m, "half a sentence");
    update(&mut m, Msg::Resize(60, 20));
    let cmds = typed(&mut m, "xyz");
    assert!(cmds.is_empty());
    key(&mut m, KeyCode::Esc);
    update(&mut m, Msg::Resize(80, 24));
    match &m.dialog {
        Some(Dialog::Edit { area, asking, .. }) => {
            assert_eq!(area.text(), "half a sentence");
            assert!(!asking, "Esc below the minimum did nothing");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn save_failures_are_not_called_saved_and_other_errors_are_not_save_failures() {
    let mut m = model(Access::Mark);
    typed(&mut m, "2");
    update(&mut m, Msg::SaveFailed("the workspace is locked".into()));
    assert!(matches!(m.assess.as_ref().unwrap().saved, Saved::Failed(_)));
    let mut m = model(Access::Mark);
    update(&mut m, Msg::Failed("xdg-open is not installed".into()));
    assert_eq!(m.assess.as_ref().unwrap().saved, Saved::Untouched);
}

#[test]
fn panes_zoom_grid_and_the_message_log() {
    let mut m = model(Access::Mark);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.assess.as_ref().unwrap().pane, Pane::Levels);
    key(&mut m, KeyCode::Tab);
    assert_eq!(ctx(&m), Ctx::Evidence);
    typed(&mut m, "z");
    assert!(m.assess.as_ref().unwrap().zoom);
    key(&mut m, KeyCode::Esc);
    assert!(!m.assess.as_ref().unwrap().zoom);
    key(&mut m, KeyCode::Esc);
    assert_eq!(ctx(&m), Ctx::Assess);
    // the grid: l moves to level 2, Enter chooses it for C1
    typed(&mut m, "g");
    assert_eq!(ctx(&m), Ctx::Grid);
    typed(&mut m, "l");
    let cmds = key(&mut m, KeyCode::Enter);
    let level2 = m.assess.as_ref().unwrap().rubric.criteria[0].levels[1]
        .id
        .clone();
    assert!(
        matches!(&cmds[..], [Cmd::Save { change: Change::Level(c, Some(l)), .. }] if c == "C1" && *l == level2),
        "{cmds:?}"
    );
    typed(&mut m, "g");
    // the statement is a document of its own, built here
    typed(&mut m, "t");
    let a = m.assess.as_ref().unwrap();
    assert_eq!(a.lower, Lower::Statement);
    assert!(
        a.shown
            .as_ref()
            .is_some_and(|s| s.key == assay::tui::model::STATEMENT)
    );
    // every message is kept in the log; M opens it
    typed(&mut m, "9");
    typed(&mut m, "M");
    assert!(matches!(m.dialog, Some(Dialog::Messages { .. })));
    assert!(m.log.iter().any(|(t, _)| t.contains("levels")));
    assert_eq!(m.screen, Screen::Assess);
}

/// What the runtime answers to a save: the marks now, as if the workspace had committed it.
fn saved(m: &mut Model, cmds: Vec<Cmd>) {
    let [
        Cmd::Save {
            change,
            undo,
            history,
            ..
        },
    ] = &cmds[..]
    else {
        panic!("{cmds:?}")
    };
    let a = m.assess.as_ref().unwrap();
    let mut sheet = a.sheet.clone();
    if let Change::Level(c, l) = change {
        sheet.marks.entry(c.clone()).or_default().0 = l.clone();
    }
    let eval = evaluate(&a.rubric, &sheet.to_marks());
    let version = a.version + 1;
    update(
        m,
        Msg::Saved {
            version,
            sheet,
            eval,
            undo: undo.clone(),
            history: *history,
            note: None,
        },
    );
}

#[test]
fn undo_then_redo_and_a_new_change_forgets_the_redo() {
    let mut m = model(Access::Mark);
    let cmds = typed(&mut m, "3");
    saved(&mut m, cmds);
    let cmds = typed(&mut m, "u");
    assert!(
        matches!(
            &cmds[..],
            [Cmd::Save {
                change: Change::Level(_, None),
                history: History::Undo,
                ..
            }]
        ),
        "{cmds:?}"
    );
    saved(&mut m, cmds);
    assert_eq!(m.assess.as_ref().unwrap().level_of("C1"), None);
    let cmds = ctrl(&mut m, 'r');
    let level3 = m.assess.as_ref().unwrap().rubric.criteria[0].levels[2]
        .id
        .clone();
    assert!(
        matches!(&cmds[..], [Cmd::Save { change: Change::Level(_, Some(l)), history: History::Redo, .. }] if *l == level3),
        "{cmds:?}"
    );
    saved(&mut m, cmds);
    assert_eq!(
        m.assess.as_ref().unwrap().level_of("C1"),
        Some(level3.as_str())
    );
    // undo again, then a new change: nothing left to redo
    let cmds = typed(&mut m, "u");
    saved(&mut m, cmds);
    let cmds = typed(&mut m, "2");
    saved(&mut m, cmds);
    assert!(ctrl(&mut m, 'r').is_empty());
    assert!(m.message.clone().unwrap().0.contains("nothing to redo"));
}

/// Row `n` of a queue built by hand: portfolio `P-n`, row key `n + 1`, new.
fn queue_row(n: i64) -> assay::tui::model::QueueRow {
    assay::tui::model::QueueRow {
        pk: n + 1,
        id: format!("P-{n}").into(),
        learner: "L".into(),
        rubric: Arc::from("r@1"),
        submitted: "2026-01-01".into(),
        status: std::borrow::Cow::Borrowed("new"),
        outcome: std::borrow::Cow::Borrowed(""),
        mine: false,
        score: Default::default(),
        grade: Default::default(),
        assessor: Default::default(),
        second_done: false,
    }
}

#[test]
fn next_and_previous_portfolio_follow_the_queue_as_shown() {
    use assay::tui::model::Queue;
    let mut m = model(Access::Mark);
    m.queue = Queue::default();
    m.queue.set_rows((0..4).map(queue_row).collect());
    // a filter shows three of them, in this order
    m.queue.visible = vec![3, 1, 0].into();
    assert_eq!(typed(&mut m, "N"), vec![Cmd::Open { id: "P-0".into() }]);
    assert_eq!(typed(&mut m, "P"), vec![Cmd::Open { id: "P-3".into() }]);
    m.queue.visible = vec![1].into();
    assert!(typed(&mut m, "N").is_empty());
    assert!(m.message.clone().unwrap().0.contains("last portfolio"));
}

#[test]
fn the_next_portfolio_is_opened_by_its_row_key_when_its_row_is_not_read_yet() {
    use assay::tui::model::Queue;
    let mut m = model(Access::Mark);
    m.queue = Queue::default();
    m.queue.set_rows((0..4).map(queue_row).collect());
    // the workbench keeps only the rows near the screen: here, neither P-0 nor P-1 (open)
    m.queue.shown.remove(&1);
    m.queue.shown.remove(&2);
    m.queue.visible = vec![3, 1, 0].into();
    m.queue.selected = 0;
    assert_eq!(typed(&mut m, "N"), vec![Cmd::OpenPk { pk: 1 }]);
    assert_eq!(m.queue.selected, 2, "the queue's selection follows");
}

#[test]
fn refined_filter_results_keep_the_row_moved_to_and_a_new_query_selects_the_best() {
    let mut m = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    update(&mut m, Msg::Resize(80, 24));
    m.queue.set_rows((0..6).map(queue_row).collect());
    m.queue.filter = "p".into();
    m.queue.filter_gen = 1;
    let filtered = |m: &mut Model, generation: u64, matched: Vec<usize>, done: bool| {
        update(
            m,
            Msg::Filtered {
                generation,
                matched: matched.into(),
                done,
            },
        );
    };
    let selected_pk = |m: &Model| m.queue.key_at(m.queue.selected).unwrap().pk;
    filtered(&mut m, 1, vec![4, 2, 0], false);
    assert_eq!(selected_pk(&m), 5, "the first results select the best");
    key(&mut m, KeyCode::Down);
    assert_eq!(selected_pk(&m), 3);
    // the scan goes on: better matches come first, the row moved to stays selected
    filtered(&mut m, 1, vec![5, 1, 4, 2, 0], true);
    assert_eq!(selected_pk(&m), 3, "the row moved to is kept");
    // a new query's first results select its best
    m.queue.filter_gen = 2;
    filtered(&mut m, 2, vec![0, 1], false);
    assert_eq!(m.queue.selected, 0);
    assert_eq!(selected_pk(&m), 1);
}

#[test]
fn the_comment_bank_filters_as_you_type_and_puts_the_comment_in_the_editor() {
    use assay::app::bank::{Comment, Source};
    let mut m = model(Access::Mark);
    let cmds = typed(&mut m, "b");
    assert_eq!(
        cmds,
        vec![Cmd::LoadBank {
            id: "P-1".into(),
            criterion: "C1".into(),
            level: None
        }]
    );
    let items = vec![
        Comment {
            text: "Each cleaning step is logged.".into(),
            source: Source::Mine(3),
        },
        Comment {
            text: "Say which tool was used.".into(),
            source: Source::Criterion,
        },
    ];
    update(
        &mut m,
        Msg::BankLoaded {
            criterion: "C1".into(),
            items,
        },
    );
    assert_eq!(ctx(&m), Ctx::Bank);
    typed(&mut m, "tool");
    key(&mut m, KeyCode::Enter);
    match &m.dialog {
        Some(Dialog::Edit {
            target: EditTarget::Feedback(c),
            area,
            ..
        }) => {
            assert_eq!(c, "C1");
            assert_eq!(area.text(), "Say which tool was used.");
        }
        other => panic!("{other:?}"),
    }
    // saved like any feedback
    let cmds = ctrl(&mut m, 's');
    assert!(
        matches!(&cmds[..], [Cmd::Save { change: Change::Feedback(c, Some(t)), .. }] if c == "C1" && t == "Say which tool was used."),
        "{cmds:?}"
    );
    // an empty bank says so instead of opening
    update(
        &mut m,
        Msg::BankLoaded {
            criterion: "C2".into(),
            items: vec![],
        },
    );
    assert!(m.dialog.is_none());
    assert!(
        m.message
            .clone()
            .unwrap()
            .0
            .contains("no saved comments for C2")
    );
}

#[test]
fn an_export_goes_where_its_confirmation_said() {
    use assay::app::export::Format;
    let mut m = model(Access::Mark);
    m.dialog = Some(Dialog::ConfirmExport {
        format: Format::Csv,
        count: 2,
        target: "/tmp/exports/decisions-20260601T100000Z.csv".into(),
    });
    let cmds = typed(&mut m, "y");
    assert_eq!(
        cmds,
        vec![Cmd::RunExport {
            format: Format::Csv,
            target: "/tmp/exports/decisions-20260601T100000Z.csv".into(),
        }]
    );
}

#[test]
fn a_query_run_again_keeps_its_row_though_the_first_results_lack_it() {
    let mut m = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    update(&mut m, Msg::Resize(80, 24));
    m.queue.set_rows((0..6).map(queue_row).collect());
    m.queue.filter = "p".into();
    // (the rows changed under the filter: the same query runs again, row key 6 to keep)
    m.queue.filter_gen = 3;
    m.queue.hold = Some(6);
    let selected_pk = |m: &Model| m.queue.key_at(m.queue.selected).unwrap().pk;
    // the best of a first part only, without it
    update(
        &mut m,
        Msg::Filtered {
            generation: 3,
            matched: vec![0, 1].into(),
            done: false,
        },
    );
    assert_eq!(m.queue.selected, 0);
    // then with it
    update(
        &mut m,
        Msg::Filtered {
            generation: 3,
            matched: vec![0, 5, 1].into(),
            done: true,
        },
    );
    assert_eq!(selected_pk(&m), 6, "the row held is selected again");
    assert_eq!(m.queue.hold, None);
}
