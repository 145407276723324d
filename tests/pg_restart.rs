//! The server goes away while people are marking, and comes back: commands in between fail with a
//! clear message and exit 1, no save reported as done is lost, and work resumes by itself — in
//! the workbench too, which says the connection is lost and connects again once it is back.
//!
//! Needs a server this test may stop and start: `scripts/pg-test.sh` sets `ASSAY_TEST_PG` and
//! `ASSAY_TEST_PG_CTL`. Without them it says it was skipped. (Its own test binary: nothing else
//! runs against the server while it is down.)

mod support;

use std::time::{Duration, Instant};

use assay::app::Workspace;
use assay::tui::model::{Model, Msg, Saved};
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::Ws;

fn ctl(what: &str) {
    let script = std::env::var("ASSAY_TEST_PG_CTL").unwrap();
    let st = std::process::Command::new(script)
        .arg(what)
        .status()
        .unwrap();
    assert!(st.success(), "pg_ctl {what}");
}

/// The tests stop the one server: one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn server(test: &str) -> Option<Ws> {
    if std::env::var("ASSAY_TEST_PG_CTL").map_or(true, |v| v.is_empty()) {
        eprintln!("skipped {test}: no PostgreSQL to restart (run it through scripts/pg-test.sh)");
        return None;
    }
    let ws = Ws::server_only(test)?;
    ws.ok(
        "ann",
        &[
            "import",
            concat!(env!("CARGO_MANIFEST_DIR"), "/rubrics"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/samples/portfolios"),
        ],
    );
    Some(ws)
}

#[test]
fn a_restart_while_marking_loses_no_reported_save_and_work_resumes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ws) = server("a_restart_while_marking_loses_no_reported_save_and_work_resumes") else {
        return;
    };
    let db = ws.db_for("ann");
    let levels = ["not-yet", "developing", "meets", "exceeds"];
    let marker = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut done = Vec::new();
            let mut failed = Vec::new();
            let t = Instant::now();
            let mut i = 0;
            while t.elapsed() < Duration::from_secs(6) {
                let o = assert_cmd::Command::cargo_bin("assay")
                    .unwrap()
                    .arg("--db")
                    .arg(&db)
                    .args(["mark", "P-2026-0041", "--level"])
                    .arg(format!("C1={}", levels[i % 4]))
                    .arg("--feedback")
                    .arg(format!("C1=attempt {i}"))
                    .env_remove("ASSAY_USER")
                    .output()
                    .unwrap();
                let err = String::from_utf8_lossy(&o.stderr).into_owned();
                match o.status.code() {
                    Some(0) => done.push(i),
                    code => failed.push((i, code, err)),
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(40));
            }
            (done, failed)
        })
    };
    std::thread::sleep(Duration::from_millis(1200));
    ctl("stop");
    std::thread::sleep(Duration::from_millis(1500));
    ctl("start");
    let (done, failed) = marker.join().unwrap();
    assert!(!failed.is_empty(), "some saves fell in the downtime");
    for (i, code, err) in &failed {
        assert_eq!(*code, Some(1), "attempt {i}: {err}");
        assert!(!err.contains("panicked"), "attempt {i}: {err}");
        assert!(
            err.lines().all(|l| l.starts_with("error: ")),
            "attempt {i}: {err}"
        );
        assert!(
            err.contains("cannot connect") || err.contains("connection"),
            "attempt {i} says why: {err}"
        );
    }
    let last_failed = failed.iter().map(|(i, _, _)| *i).max().unwrap();
    assert!(
        done.iter().any(|&i| i > last_failed),
        "saves succeed again once the server is back (done {done:?}, failed up to {last_failed})"
    );
    let log = ws.ok("ann", &["audit", "log", "P-2026-0041"]);
    for i in &done {
        assert!(
            log.contains(&format!("attempt {i}\"")),
            "save {i} was reported but is missing"
        );
    }
    ws.ok("ann", &["audit", "verify"]);
}

fn key(rt: &mut Runtime, c: KeyCode) {
    rt.dispatch(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

#[test]
fn the_workbench_says_the_connection_is_lost_and_resumes_when_it_is_back() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ws) = server("the_workbench_says_the_connection_is_lost_and_resumes_when_it_is_back")
    else {
        return;
    };
    let db = ws.db_for("ann");
    let w = Workspace::open(std::path::Path::new(&db), "ann".into()).unwrap();
    let model = Model::new("ann".into(), "w".into(), Theme { mono: true }, false);
    let mut rt = Runtime::new(w, model);
    rt.dispatch(Msg::Resize(100, 30));
    rt.start();
    key(&mut rt, KeyCode::Enter);
    key(&mut rt, KeyCode::Char('2'));
    let a = rt.model.assess.as_ref().unwrap();
    assert_eq!(a.saved, Saved::Saved, "{:?}", rt.model.message);
    let saved_version = a.version;

    // The watcher hears nothing from a stopped server; it says so.
    let (tx, rx) = std::sync::mpsc::channel();
    assay::tui::runtime::spawn_watcher(std::path::PathBuf::from(&db), tx);
    ctl("stop");
    let lost = wait_for(&rx, |m| matches!(m, Msg::Connection(Some(_))));
    rt.dispatch(lost);
    assert!(rt.model.connection.is_some());
    // A level chosen meanwhile is not saved, and not shown as saved.
    key(&mut rt, KeyCode::Down);
    key(&mut rt, KeyCode::Char('3'));
    let a = rt.model.assess.as_ref().unwrap();
    assert!(matches!(a.saved, Saved::Failed(_)), "{:?}", a.saved);
    assert_eq!(a.version, saved_version);

    ctl("start");
    let back = wait_for(&rx, |m| matches!(m, Msg::Connection(None)));
    rt.dispatch(back);
    assert!(rt.model.connection.is_none());
    let said = &rt.model.message.as_ref().unwrap().0;
    assert!(said.contains("make it again"), "{said}");
    // Marking goes on on the connection made again.
    key(&mut rt, KeyCode::Char('3'));
    let a = rt.model.assess.as_ref().unwrap();
    assert_eq!(a.saved, Saved::Saved, "{:?}", rt.model.message);
    assert!(a.version > saved_version);
    ws.ok("ann", &["audit", "verify"]);
}

/// The first message from the watcher that `want` accepts (others are dropped).
fn wait_for(rx: &std::sync::mpsc::Receiver<Msg>, want: impl Fn(&Msg) -> bool) -> Msg {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if let Ok(m) = rx.recv_timeout(Duration::from_millis(200))
            && want(&m)
        {
            return m;
        }
    }
    panic!("the watcher did not say so within 20 s");
}
