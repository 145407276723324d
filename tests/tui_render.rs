//! Rendering snapshots of the workbench with ratatui's TestBackend, at 80×24 and 120×40.

use assay::app::Workspace;
use assay::tui::model::{Model, Msg};
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;
use assay::tui::view::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn runtime(dir: &std::path::Path, w: u16, h: u16) -> Runtime {
    let db = dir.join("w.db");
    let mut ws = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ws).unwrap();
    let model = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    rt.dispatch(Msg::Resize(w, h));
    rt.start();
    rt
}

fn keys(rt: &mut Runtime, s: &str) {
    for c in s.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        rt.dispatch(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }
}

fn draw(rt: &Runtime, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(&rt.model, f)).unwrap();
    t
}

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

#[test]
fn queue() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path(), w, h);
        insta::assert_snapshot!(format!("queue_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn queue_filtered() {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), 80, 24);
    keys(&mut rt, "/home energy");
    insta::assert_snapshot!("queue_filter_80x24", draw(&rt, 80, 24).backend());
}

/// P-2026-0041 opened, two criteria marked, one gate confirmed, the second criterion selected.
fn marked(w: u16, h: u16) -> (tempfile::TempDir, Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let mut rt = runtime(dir.path(), w, h);
    keys(&mut rt, "/P-2026-0041\n\n4j3");
    (dir, rt)
}

#[test]
fn assessment() {
    for (w, h) in SIZES {
        let (_d, rt) = marked(w, h);
        insta::assert_snapshot!(format!("assess_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn help_overlay() {
    for (w, h) in SIZES {
        let (_d, mut rt) = marked(w, h);
        keys(&mut rt, "?");
        insta::assert_snapshot!(format!("help_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn submit_dialog() {
    for (w, h) in SIZES {
        let (_d, mut rt) = marked(w, h);
        keys(&mut rt, "j3j2j2j2     ");
        // confirm every gate
        for _ in 0..4 {
            keys(&mut rt, " j");
        }
        keys(&mut rt, "S");
        insta::assert_snapshot!(format!("submit_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn too_small_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(dir.path(), 60, 20);
    let t = draw(&rt, 60, 20);
    let text = format!("{}", t.backend());
    assert!(text.contains("at least 80×24"), "{text}");
}

#[test]
fn help_scrolls_to_the_end() {
    let (_d, mut rt) = marked(80, 24);
    keys(&mut rt, "?");
    for _ in 0..3 {
        rt.dispatch(Msg::Key(KeyEvent::new(
            KeyCode::PageDown,
            KeyModifiers::NONE,
        )));
    }
    insta::assert_snapshot!("help_80x24_scrolled", draw(&rt, 80, 24).backend());
}

/// A workspace where ann has submitted two data-literacy decisions and mo drew both; mo has
/// second-marked P-2026-0042 (levels apart on C1 and C5).
fn moderated(w: u16, h: u16) -> (tempfile::TempDir, Runtime) {
    use assay::app::mark::{Change, Phase};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    {
        let mut ann = Workspace::open(&db, "ann".into()).unwrap();
        assay::app::seed::seed(&mut ann).unwrap();
        let marks = [
            (
                "P-2026-0042",
                ["exceeds", "meets", "meets", "meets", "meets"],
            ),
            (
                "P-2026-0043",
                ["developing", "developing", "not-yet", "not-yet", "not-yet"],
            ),
        ];
        for (id, levels) in marks {
            for (c, l) in ["C1", "C2", "C3", "C4", "C5"].iter().zip(levels) {
                let change = Change::Level(c.to_string(), Some(l.into()));
                ann.save(id, Phase::First, &change, None).unwrap();
            }
            for g in ["identity", "authenticity", "currency", "confidentiality"] {
                ann.save(id, Phase::First, &Change::Gate(g.into(), true), None)
                    .unwrap();
            }
            ann.submit(id, Phase::First, None, None, None).unwrap();
        }
        let mut mo = Workspace::open(&db, "mo".into()).unwrap();
        mo.draw_sample(Some("data-literacy-practitioner"), Some(7))
            .unwrap();
        let second = ["meets", "meets", "meets", "meets", "exceeds"];
        for (c, l) in ["C1", "C2", "C3", "C4", "C5"].iter().zip(second) {
            let change = Change::Level(c.to_string(), Some(l.into()));
            mo.save("P-2026-0042", Phase::Second, &change, None)
                .unwrap();
        }
        for g in ["identity", "authenticity", "currency", "confidentiality"] {
            mo.save(
                "P-2026-0042",
                Phase::Second,
                &Change::Gate(g.into(), true),
                None,
            )
            .unwrap();
        }
        mo.submit("P-2026-0042", Phase::Second, None, None, None)
            .unwrap();
    }
    let ws = Workspace::open(&db, "mo".into()).unwrap();
    let model = Model::new("mo".into(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    rt.dispatch(Msg::Resize(w, h));
    rt.start();
    (dir, rt)
}

#[test]
fn moderation_screens() {
    for (w, h) in SIZES {
        let (_d, mut rt) = moderated(w, h);
        keys(&mut rt, "m");
        insta::assert_snapshot!(
            format!("moderation_queue_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        // the drawn portfolio without second marks opens blind
        keys(&mut rt, "j\n");
        let a = rt.model.assess.as_ref().unwrap();
        assert_eq!(a.id, "P-2026-0043");
        assert!(a.blind && a.first.is_none());
        insta::assert_snapshot!(format!("blind_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\u{1b}k\n");
        assert!(rt.model.assess.as_ref().unwrap().settling());
        insta::assert_snapshot!(format!("settlement_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn statistics_and_export_screens() {
    for (w, h) in SIZES {
        let (_d, mut rt) = moderated(w, h);
        keys(&mut rt, "a");
        insta::assert_snapshot!(format!("stats_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\u{1b}x");
        insta::assert_snapshot!(format!("export_{w}x{h}"), draw(&rt, w, h).backend());
        // Before the counts come (in the workbench, from another core): a counting line.
        rt.dispatch(Msg::ExportReady(Vec::new()));
        insta::assert_snapshot!(
            format!("export_counting_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
    }
}
