//! Rendering snapshots of the workbench with ratatui's TestBackend, at 80×24 and 120×40.

use assay::app::Workspace;
use assay::tui::model::{Model, Msg};
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;
use assay::tui::view::view;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// A fixed clock (debug builds read `ASSAY_NOW`): times and file names in the snapshots stay put.
/// Every test sets the same value, so tests running at once agree.
fn fixed_clock() {
    // SAFETY: every thread of this test binary writes the same value before reading it.
    unsafe { std::env::set_var("ASSAY_NOW", "2026-06-01T10:00:00Z") };
}

fn runtime(dir: &std::path::Path, w: u16, h: u16) -> Runtime {
    fixed_clock();
    let db = dir.join("w.db");
    let mut ws = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ws).unwrap();
    workbench(ws, w, h)
}

/// The workbench on `ws`, for its person, at `w`×`h`, started.
fn workbench(ws: Workspace, w: u16, h: u16) -> Runtime {
    let model = Model::new(ws.user.clone(), "w.db".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(ws, model);
    rt.dispatch(Msg::Resize(w, h));
    rt.start();
    rt
}

/// Types `s`: `\n` Enter, `\u{1b}` Esc, `\t` Tab, `^` End, `~` Home, `\u{13}` Ctrl-S; then
/// lets the evidence view finish its counting (the terminal loop runs those steps between keys).
fn keys(rt: &mut Runtime, s: &str) {
    for c in s.chars() {
        let (code, mods) = match c {
            '\n' => (KeyCode::Enter, KeyModifiers::NONE),
            '\u{1b}' => (KeyCode::Esc, KeyModifiers::NONE),
            '\t' => (KeyCode::Tab, KeyModifiers::NONE),
            '^' => (KeyCode::End, KeyModifiers::NONE),
            '~' => (KeyCode::Home, KeyModifiers::NONE),
            '\u{13}' => (KeyCode::Char('s'), KeyModifiers::CONTROL),
            c => (KeyCode::Char(c), KeyModifiers::NONE),
        };
        rt.dispatch(Msg::Key(KeyEvent::new(code, mods)));
    }
    idle(rt);
}

fn idle(rt: &mut Runtime) {
    for _ in 0..10_000 {
        let busy = rt
            .model
            .assess
            .as_ref()
            .and_then(|a| a.shown.as_ref())
            .is_some_and(|s| s.view.busy());
        if !busy {
            return;
        }
        rt.dispatch(Msg::Step);
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
    fixed_clock();
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
            let fb = Change::Feedback(
                "C1".into(),
                Some("Clear cleaning steps, each one logged.".into()),
            );
            ann.save(id, Phase::First, &fb, None).unwrap();
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
        mo.save(
            "P-2026-0042",
            Phase::Second,
            &Change::Feedback(
                "C5".into(),
                Some("The reflection on the second iteration shows what changed and why.".into()),
            ),
            None,
        )
        .unwrap();
        mo.submit("P-2026-0042", Phase::Second, None, None, None)
            .unwrap();
        // people registered from here on: the roles decide who may do what
        ann.add_user("lead", assay::app::people::Role::Lead, None)
            .unwrap();
        let mut lead = Workspace::open(&db, "lead".into()).unwrap();
        lead.add_user("ann", assay::app::people::Role::Assessor, None)
            .unwrap();
        lead.add_user("mo", assay::app::people::Role::Moderator, None)
            .unwrap();
    }
    let mut rt = workbench(Workspace::open(&db, "mo".into()).unwrap(), w, h);
    idle(&mut rt);
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
        rt.dispatch(Msg::ExportReady {
            ready: Vec::new(),
            targets: Vec::new(),
        });
        insta::assert_snapshot!(
            format!("export_counting_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
    }
}

fn moderated_as(user: &str, w: u16, h: u16) -> (tempfile::TempDir, Runtime) {
    let (dir, rt) = moderated(w, h);
    drop(rt);
    let ws = Workspace::open(&dir.path().join("w.db"), user.into()).unwrap();
    let mut rt = workbench(ws, w, h);
    idle(&mut rt);
    (dir, rt)
}

/// The moderator settles: the screen before, after confirming, after amending.
#[test]
fn settlement_confirmed_and_amended() {
    for (w, h) in SIZES {
        let (_d, mut rt) = moderated(w, h);
        keys(&mut rt, "/P-2026-0042\n\n");
        assert!(rt.model.assess.as_ref().unwrap().settling());
        // the row of C5, where the moderator wrote feedback
        keys(&mut rt, "jjjj");
        insta::assert_snapshot!(format!("settle_detail_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\n");
        insta::assert_snapshot!(
            format!("settle_evidence_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "\u{1b}Cy");
        insta::assert_snapshot!(
            format!("settled_confirmed_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        let (_d, mut rt) = moderated(w, h);
        keys(&mut rt, "/P-2026-0042\n\nA");
        insta::assert_snapshot!(
            format!("amend_rationale_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "C5 evidence supports the higher level\u{13}");
        let a = rt.model.assess.as_ref().unwrap();
        assert!(
            a.settlement.as_ref().is_some_and(|s| s.amended()),
            "{:?}",
            rt.model.message
        );
        insta::assert_snapshot!(
            format!("settled_amended_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
    }
}

/// A portfolio opened by someone who may not mark it says why, and offers only reading keys.
#[test]
fn read_only() {
    for (w, h) in SIZES {
        let (_d, mut rt) = moderated_as("mo", w, h);
        keys(&mut rt, "/P-2026-0045\n\n");
        let a = rt.model.assess.as_ref().unwrap();
        assert!(!a.editable());
        let screen = draw(&rt, w, h);
        let text = format!("{}", screen.backend());
        assert!(text.contains("read only"), "{text}");
        assert!(!text.contains("1–9 level"), "{text}");
        insta::assert_snapshot!(format!("read_only_{w}x{h}"), screen.backend());
        // a marking key says why instead of doing nothing
        keys(&mut rt, "2");
        let msg = rt.model.message.clone().unwrap().0;
        assert!(msg.contains("read only"), "{msg}");
        insta::assert_snapshot!(
            format!("read_only_refusal_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
    }
}

/// Markdown rendered, CSV as a table, the end of the text reachable, zoomed.
#[test]
fn evidence_kinds() {
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let mut rt = runtime(dir.path(), w, h);
        keys(&mut rt, "/P-2026-0043\n\n\t\t");
        insta::assert_snapshot!(
            format!("evidence_markdown_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "^");
        insta::assert_snapshot!(
            format!("evidence_markdown_end_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "]");
        insta::assert_snapshot!(format!("evidence_csv_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "z");
        insta::assert_snapshot!(format!("evidence_zoom_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "z\u{1b}t\t\t");
        insta::assert_snapshot!(format!("statement_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

#[test]
fn rubric_grid() {
    for (w, h) in SIZES {
        let (_d, mut rt) = marked(w, h);
        keys(&mut rt, "gl");
        insta::assert_snapshot!(format!("grid_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\n");
        let a = rt.model.assess.as_ref().unwrap();
        assert_eq!(
            a.level_of("C2"),
            Some(a.rubric.criteria[1].levels[3].id.as_str())
        );
    }
}

/// The editor asks before it drops changed text; the message log keeps every message.
#[test]
fn editor_and_messages() {
    for (w, h) in SIZES {
        let (_d, mut rt) = marked(w, h);
        keys(&mut rt, "eClear chart\u{1b}");
        insta::assert_snapshot!(format!("editor_discard_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "k\u{1b}d");
        keys(&mut rt, "M");
        insta::assert_snapshot!(format!("messages_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

/// Release and export each ask first, saying how many and where.
#[test]
fn release_and_export_confirmations() {
    for (w, h) in SIZES {
        let (_d, mut rt) = moderated_as("mo", w, h);
        keys(&mut rt, "/P-2026-0042\n\nCy\u{1b}\u{1b}x");
        keys(&mut rt, "l");
        insta::assert_snapshot!(
            format!("confirm_release_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "y");
        insta::assert_snapshot!(format!("released_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\n");
        insta::assert_snapshot!(format!("confirm_export_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

/// An empty workspace offers the samples.
#[test]
fn empty_workspace_offers_samples() {
    fixed_clock();
    for (w, h) in SIZES {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(&dir.path().join("w.db"), "ann".into()).unwrap();
        let mut rt = workbench(ws, w, h);
        insta::assert_snapshot!(format!("offer_samples_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "y");
        assert_eq!(rt.model.queue.keys.len(), 12);
    }
}

/// The remaining dialogs and views: refer, the settlement's confirmation, a notice, the editor
/// while typing, coverage, the levels pane scrolled with the keyboard, a gate.
#[test]
fn other_dialogs_and_views() {
    for (w, h) in SIZES {
        let (_d, mut rt) = marked(w, h);
        keys(&mut rt, "R");
        insta::assert_snapshot!(format!("refer_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "1Names of minors without consent");
        insta::assert_snapshot!(format!("editor_typing_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\u{13}v");
        insta::assert_snapshot!(format!("coverage_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "v\tjjjj");
        insta::assert_snapshot!(
            format!("levels_scrolled_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "\u{1b}jjjjj");
        insta::assert_snapshot!(format!("gate_{w}x{h}"), draw(&rt, w, h).backend());
        rt.dispatch(Msg::BankLoaded {
            criterion: "C2".into(),
            items: vec![
                assay::app::bank::Comment {
                    text: "The chart answers the question asked; say why a bar chart suits it."
                        .into(),
                    source: assay::app::bank::Source::Level("Demonstrated".into()),
                },
                assay::app::bank::Comment {
                    text: "Label both axes and give the units.".into(),
                    source: assay::app::bank::Source::Mine(4),
                },
            ],
        });
        insta::assert_snapshot!(format!("bank_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "\u{1b}");
        rt.dispatch(Msg::Notice(
            "Welcome to assay. A new workspace was created.\nPress ? at any time for the keys."
                .into(),
        ));
        insta::assert_snapshot!(format!("notice_{w}x{h}"), draw(&rt, w, h).backend());
        let (_d, mut rt) = moderated(w, h);
        keys(&mut rt, "/P-2026-0042\n\nC");
        insta::assert_snapshot!(format!("confirm_settle_{w}x{h}"), draw(&rt, w, h).backend());
    }
}

/// A portfolio from a Mahara LEAP2A export: no claims, so the evidence pane says how to see all
/// the evidence; `a` shows it in its pages; `L` links the one on show to the criterion; the
/// coverage view shows the link and the pages.
#[test]
fn leap2a_portfolio_links_and_groups() {
    for (w, h) in SIZES {
        fixed_clock();
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.db"), "ann".into()).unwrap();
        assay::app::seed::seed(&mut ws).unwrap();
        let export =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/leap2a/mahara");
        let s = ws
            .import_with(
                &[export],
                &assay::domain::leap2a::Options {
                    rubric: "sustainable-home-energy".into(),
                    ..Default::default()
                },
                &mut |_, _| {},
            )
            .unwrap();
        assert_eq!(s.new, 1, "{s:?}");
        let mut rt = workbench(ws, w, h);
        keys(&mut rt, "/siobhan\n\n");
        insta::assert_snapshot!(
            format!("leap2a_unclaimed_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
        keys(&mut rt, "a");
        insta::assert_snapshot!(format!("leap2a_all_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "L");
        insta::assert_snapshot!(format!("leap2a_linked_{w}x{h}"), draw(&rt, w, h).backend());
        keys(&mut rt, "v");
        insta::assert_snapshot!(
            format!("leap2a_coverage_{w}x{h}"),
            draw(&rt, w, h).backend()
        );
    }
}

/// A portfolio of the documents learners send: a PDF's text page by page, a Word document's,
/// a picture in half-blocks, and plainly why a picture too large or a broken PDF is not shown.
#[test]
fn documents_and_pictures() {
    for (w, h) in SIZES {
        fixed_clock();
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("w.db"), "ann".into()).unwrap();
        assay::app::seed::seed(&mut ws).unwrap();
        let p = dir.path().join("P-DOC-1");
        std::fs::create_dir_all(p.join("evidence")).unwrap();
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/documents");
        for f in [
            "report.pdf",
            "log.docx",
            "meter.png",
            "huge.png",
            "broken.pdf",
        ] {
            std::fs::copy(fixtures.join(f), p.join("evidence").join(f)).unwrap();
        }
        std::fs::write(
            p.join("portfolio.yaml"),
            "format: assay.portfolio/v1\nid: P-DOC-1\nrubric: data-literacy-practitioner\nlearner: {id: L-77, name: Dana Docherty}\nsubmitted: 2026-05-30\nevidence:\n  - {id: E1, title: Heat loss report, kind: formal, file: evidence/report.pdf, date: 2026-04, claims: [C1]}\n  - {id: E2, title: Reflective log, kind: informal, file: evidence/log.docx, date: 2026-04, claims: [C1]}\n  - {id: E3, title: Meter photo, kind: informal, file: evidence/meter.png, date: 2026-04, claims: [C1]}\n  - {id: E4, title: Roof survey, kind: informal, file: evidence/huge.png, date: 2026-04, claims: [C1]}\n  - {id: E5, title: Old certificate, kind: formal, file: evidence/broken.pdf, date: 2026-04, claims: [C1]}\n",
        )
        .unwrap();
        let s = ws.import(&[p], &mut |_, _| {}).unwrap();
        assert_eq!(s.new, 1, "{s:?}");
        let mut rt = workbench(ws, w, h);
        rt.model.picker = Some(ratatui_image::picker::Picker::halfblocks());
        keys(&mut rt, "/docherty\n\n");
        for name in ["pdf", "docx", "picture", "picture_too_large", "pdf_broken"] {
            insta::assert_snapshot!(
                format!("documents_{name}_{w}x{h}"),
                draw(&rt, w, h).backend()
            );
            keys(&mut rt, "]");
        }
        // `/` finds it by a word of its PDF
        keys(&mut rt, "\u{1b}\u{1b}/insulation");
        let shown = format!("{:?}", draw(&rt, w, h).backend());
        assert!(shown.contains("P-DOC-1"), "{shown}");
    }
}
