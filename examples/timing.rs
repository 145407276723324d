//! Throwaway timing harness (not part of the deliverable).
use std::time::Instant;

use assay::app::Workspace;
use assay::tui::model::Model;
use assay::tui::runtime::Runtime;
use assay::tui::theme::Theme;

fn rss() -> String {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("rank") {
        let text = std::fs::read_to_string("/work/bench/search_text.txt").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let q = std::env::args().nth(2).unwrap();
        let t = Instant::now();
        for _ in 0..5 {
            let ours = assay::app::query::fuzzy_rank(&q, &lines, |s| s, usize::MAX);
            std::hint::black_box(ours);
        }
        eprintln!("{q}: {:?} per rank", t.elapsed() / 5);
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("verify") {
        use fuzzy_matcher::FuzzyMatcher;
        let text = std::fs::read_to_string("/work/bench/search_text.txt").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for q in [
            "kovacevic",
            "zofia",
            "szabo",
            "a",
            "P-27-0001",
            "Dvořák",
            "ab",
            "gdansk",
            "mm",
            "e e",
            "Lu Sz",
        ] {
            let t = Instant::now();
            let ours = assay::app::query::fuzzy_rank(q, &lines, |s| s, usize::MAX);
            let ours_t = t.elapsed();
            let t = Instant::now();
            let m = fuzzy_matcher::skim::SkimMatcherV2::default().ignore_case();
            let mut theirs: Vec<(i64, usize)> = lines
                .iter()
                .enumerate()
                .filter_map(|(i, l)| m.fuzzy_match(l, q).map(|s| (s, i)))
                .collect();
            theirs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let theirs_t = t.elapsed();
            assert_eq!(ours, theirs, "{q}");
            eprintln!(
                "{q:>10}: {} matches, identical; ours {ours_t:?} (2 threads), skim {theirs_t:?} (1 thread)",
                ours.len()
            );
        }
        return;
    }
    let db = std::env::args().nth(1).unwrap();
    let what = std::env::args().nth(2).unwrap_or_default();
    let t = Instant::now();
    let ws = Workspace::open(std::path::Path::new(&db), "assessor01".into()).unwrap();
    eprintln!("open {:?} {}", t.elapsed(), rss());
    if what == "search" {
        let t = Instant::now();
        let r = ws.search("kovacevic", 20).unwrap();
        eprintln!("search {:?} {} {}", t.elapsed(), r.len(), rss());
        return;
    }
    if what == "texts" {
        let t = Instant::now();
        let mut n = 0usize;
        let mut v = Vec::new();
        ws.for_each_search_text(|_, s| {
            n += s.len();
            v.push(s.to_string())
        })
        .unwrap();
        eprintln!("texts {:?} {n} {}", t.elapsed(), rss());
        return;
    }
    if what == "tui" || what == "tui-mem" {
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = assay::tui::runtime::spawn_filter_worker(tx.clone());
        let model = Model::new("assessor01".into(), "x".into(), Theme::from_env(), false);
        let mut rt = Runtime::new(ws, model).with_filter_worker(worker);
        if what == "tui" {
            rt = rt.with_background(db.clone().into(), tx);
        }
        let t = Instant::now();
        rt.start();
        eprintln!("start {:?} {}", t.elapsed(), rss());
        if std::env::var_os("ONLY_START").is_some() {
            return;
        }
        use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
        let key = |c| assay::tui::model::Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
        rt.dispatch(key(KeyCode::Char('/')));
        let q = std::env::var("Q").unwrap_or_else(|_| "kovacevic".into());
        for c in q.chars() {
            rt.dispatch(key(KeyCode::Char(c)));
            let t = Instant::now();
            while let Ok(m) = rx.recv() {
                let done = matches!(m, assay::tui::model::Msg::Filtered { .. });
                rt.dispatch(m);
                if done {
                    break;
                }
            }
            eprintln!(
                "filtered {c} {:?} {} {}",
                t.elapsed(),
                rt.model.queue.visible.len(),
                rss()
            );
        }
        return;
    }
    if what == "rows" {
        let t = Instant::now();
        let mut v = Vec::with_capacity(100_000);
        ws.for_each_queue_row(None, |r| {
            v.push(assay::tui::model::QueueRow::from_row(
                r,
                "assessor01",
                String::new(),
            ))
        })
        .unwrap();
        eprintln!("rows {:?} {} {}", t.elapsed(), v.len(), rss());
        let t = Instant::now();
        drop(v);
        eprintln!("drop {:?}", t.elapsed());
        return;
    }
    if what == "stream" {
        let t = Instant::now();
        let mut n = 0usize;
        ws.for_each_queue_row(None, |_| n += 1).unwrap();
        eprintln!("stream {:?} {n} {}", t.elapsed(), rss());
        return;
    }
    let model = Model::new("assessor01".into(), "x".into(), Theme::from_env(), false);
    let mut rt = Runtime::new(ws, model);
    let t = Instant::now();
    rt.start();
    eprintln!("start {:?} {}", t.elapsed(), rss());
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let t = Instant::now();
    term.draw(|f| assay::tui::view::view(&rt.model, f)).unwrap();
    eprintln!("draw {:?} {}", t.elapsed(), rss());
}
