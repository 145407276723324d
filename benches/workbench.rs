//! The workbench over a workspace of 100,000 portfolios (`ASSAY_BENCH_N` to change): the first
//! frame (workspace opened, queue loaded, drawn), one frame of the queue and of the assessment
//! screen (ratatui `TestBackend`, 120×40), a key press to the next frame (a move; choosing a
//! level, which commits the mark), the fuzzy filter streamed from the workspace as the
//! workbench's filter worker ranks it, and `Workspace::search` as `assay search` runs it.
//!
//! The workspace is built once per run: portfolio folders with small evidence files, imported
//! with `Workspace::import`, and a few portfolios marked by `assessor01` (whose work the queue
//! lists first). `ASSAY_BENCH_DATA=DIR` uses a copy of `DIR/assay.db` instead, e.g. one made
//! by `cargo run --release --example generate -- 100000 DIR`.
//!
//! `cargo bench --bench workbench`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assay::app::Workspace;
use assay::app::query::SearchTexts;
use assay::tui::model::{Model, Msg, Screen};
use assay::tui::runtime::{Runtime, spawn_filter_worker};
use assay::tui::theme::Theme;
use assay::tui::view::view;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "../examples/workload/mod.rs"]
mod workload;

const USER: &str = "assessor01";

struct Data {
    _dir: tempfile::TempDir,
    db: PathBuf,
    n: usize,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| {
        if let Some(src) = std::env::var_os("ASSAY_BENCH_DATA") {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let db = dir.path().join("assay.db");
            std::fs::copy(Path::new(&src).join("assay.db"), &db).expect("a copy of the workspace");
            let n = Workspace::open(&db, USER.into())
                .and_then(|ws| Ok(ws.counts()?.iter().map(|(_, k)| *k as usize).sum()))
                .expect("the workspace");
            return Data { _dir: dir, db, n };
        }
        let built = workload::build(workload::bench_n(100_000), workload::Profile::New, true);
        // Some work of assessor01's in progress, so that the queue has their portfolios first
        // and one to open.
        let mut ws = Workspace::open(&built.db, "lead".into()).expect("workspace");
        workload::register_people(&mut ws).expect("people");
        let mut filled = workload::Filled::default();
        for i in (0..built.n).step_by(workload::ASSESSORS).take(20) {
            workload::first_mark(&mut ws, i, false, &mut filled).expect("marks");
        }
        Data {
            db: built.db,
            n: built.n,
            _dir: built.dir,
        }
    })
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// A runtime as the workbench sets it up: with the fuzzy filter worker (which streams the search
/// texts from the workspace) and a background connection for long work. Messages from them are
/// dropped here.
fn runtime(db: &Path) -> Runtime {
    let ws = Workspace::open(db, USER.into()).expect("workspace");
    let model = Model::new(USER.into(), "assay.db".into(), Theme::from_env(), false);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || while rx.recv().is_ok() {});
    let mut rt = Runtime::new(ws, model)
        .with_filter_worker(spawn_filter_worker(tx.clone()))
        .with_background(db.to_path_buf(), tx);
    rt.dispatch(Msg::Resize(120, 40));
    rt
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(120, 40)).expect("terminal")
}

fn frames(c: &mut Criterion) {
    let d = data();
    let mut g = c.benchmark_group(format!("workbench_{}", d.n));
    g.sample_size(10);
    // Start to first frame: open the workspace, load the queue, draw it.
    g.bench_function("first_frame", |b| {
        b.iter_batched(
            terminal,
            |mut t| {
                let mut rt = runtime(&d.db);
                rt.start();
                t.draw(|f| view(&rt.model, f)).expect("drawn");
                rt.model.queue.keys.len()
            },
            BatchSize::PerIteration,
        )
    });
    g.sample_size(50);
    let mut rt = runtime(&d.db);
    rt.start();
    assert_eq!(rt.model.screen, Screen::Queue);
    let mut t = terminal();
    g.bench_function("queue_frame", |b| {
        b.iter(|| {
            t.draw(|f| view(black_box(&rt.model), f))
                .expect("drawn")
                .area
        })
    });
    let mut down = true;
    g.bench_function("key_move_to_frame", |b| {
        b.iter(|| {
            rt.dispatch(key(if down {
                KeyCode::Char('j')
            } else {
                KeyCode::Char('k')
            }));
            down = !down;
            t.draw(|f| view(&rt.model, f)).expect("drawn").area
        })
    });
    // The first row is assessor01's work in progress.
    rt.dispatch(key(KeyCode::Home));
    rt.dispatch(key(KeyCode::Enter));
    assert_eq!(rt.model.screen, Screen::Assess, "{:?}", rt.model.message);
    g.bench_function("assessment_frame", |b| {
        b.iter(|| {
            t.draw(|f| view(black_box(&rt.model), f))
                .expect("drawn")
                .area
        })
    });
    // Back to the queue (only what changed is read again) and open the portfolio again.
    g.bench_function("key_back_to_queue_and_open", |b| {
        b.iter(|| {
            rt.dispatch(key(KeyCode::Esc));
            t.draw(|f| view(&rt.model, f)).expect("drawn");
            rt.dispatch(key(KeyCode::Enter));
            t.draw(|f| view(&rt.model, f)).expect("drawn").area
        })
    });
    // Choosing a level: saved and committed (synchronous = FULL), then the frame.
    let mut level = '1';
    g.bench_function("key_choose_level_to_frame", |b| {
        b.iter(|| {
            level = if level == '1' { '2' } else { '1' };
            rt.dispatch(key(KeyCode::Char(level)));
            t.draw(|f| view(&rt.model, f)).expect("drawn").area
        })
    });
    assert!(
        rt.model.assess.as_ref().is_some_and(|a| a.version > 0),
        "{:?}",
        rt.model.message
    );
    g.finish();
}

fn search(c: &mut Criterion) {
    let d = data();
    let ws = Workspace::open(&d.db, USER.into()).expect("workspace");
    let mut g = c.benchmark_group(format!("search_{}", d.n));
    g.sample_size(10);
    for q in ["kovacevic", "zofia"] {
        // As the workbench's filter worker ranks: every match, streamed on two connections.
        let mut texts = SearchTexts::open(&d.db).expect("search texts");
        g.bench_function(format!("filter_streamed/{q}"), |b| {
            b.iter(|| {
                texts
                    .rank(q, |pk| Some(pk as u64), usize::MAX)
                    .expect("ranked")
                    .len()
            })
        });
        // As `assay search` ranks: the best 20.
        g.bench_function(format!("search_top20/{q}"), |b| {
            b.iter(|| ws.search(black_box(q), 20).expect("searched").len())
        });
    }
    g.finish();
}

criterion_group!(benches, frames, search);
criterion_main!(benches);
