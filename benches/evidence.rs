//! The evidence view over large documents: a 100 MiB generated text (opening it and drawing the
//! first frame; a key — down, page down, End, page up — and the frame after it; a search for a
//! far match: the key, and until the match is on screen; counting every display row and every
//! match in the steps the caller runs between frames), a 20 MiB CSV and a 2 MiB Markdown file.
//! Frames are drawn into a 120×40 terminal's evidence pane (118×18).
//!
//! `cargo bench --bench evidence`; the figures for memory and for the steps are printed first
//! (`ASSAY_BENCH_NO_FIGURES=1` leaves them out); `ASSAY_BENCH_GROUPS=text,csv,markdown` picks
//! the groups to build and run (the text group's setup counts its rows and matches in full).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use assay::tui::evidence::{Doc, EvidenceView, Msg, STEP_BUDGET, render};
use assay::tui::theme::Theme;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const PANE: Rect = Rect {
    x: 0,
    y: 0,
    width: 118,
    height: 18,
};
const MIB: usize = 1 << 20;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "the",
    "learner",
    "evidence",
    "shows",
    "a",
    "clear",
    "grasp",
    "of",
    "criteria",
    "and",
    "reflects",
    "on",
    "practice",
    "with",
    "examples",
    "from",
    "placement",
    "work",
    "assessor",
    "notes",
    "that",
    "portfolio",
    "is",
    "complete",
    "well",
    "structured",
    "über",
    "naïve",
];

fn words(r: &mut Rng, out: &mut Vec<u8>, n: usize) {
    let end = out.len() + n;
    while out.len() < end {
        out.extend_from_slice(WORDS[r.below(WORDS.len() as u64) as usize].as_bytes());
        out.push(b' ');
    }
    out.pop();
}

/// About `size` bytes of text: mostly short lines, some paragraphs of a few hundred bytes to
/// 2 KB (which wrap), empty lines, one unbroken 1 MiB line halfway, and the word "xylophone"
/// once, at 95%.
fn big_text(size: usize) -> Vec<u8> {
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::with_capacity(size + 4096);
    let mut long_done = false;
    let mut marker_done = false;
    while out.len() < size {
        match r.below(20) {
            0 => {}
            1..=5 => {
                let n = 300 + r.below(1700) as usize;
                words(&mut r, &mut out, n);
            }
            _ => {
                let n = 20 + r.below(70) as usize;
                words(&mut r, &mut out, n);
            }
        }
        out.push(b'\n');
        if !long_done && out.len() > size / 2 {
            for i in 0..MIB / 8 {
                out.extend_from_slice(
                    format!("{:08x}", (i as u64).wrapping_mul(0x9e37_79b9)).as_bytes(),
                );
            }
            out.push(b'\n');
            long_done = true;
        }
        if !marker_done && out.len() > size / 100 * 95 {
            out.extend_from_slice(b"here the assessor wrote xylophone once\n");
            marker_done = true;
        }
    }
    out
}

fn big_csv(size: usize) -> Vec<u8> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = b"id,learner,unit,date,comment,score\n".to_vec();
    let mut i = 0u64;
    while out.len() < size {
        i += 1;
        out.extend_from_slice(
            format!(
                "{i},Learner {},U{},2026-11-{:02},",
                r.below(5000),
                r.below(40),
                1 + r.below(28)
            )
            .as_bytes(),
        );
        if i.is_multiple_of(9) {
            out.push(b'"');
            words(&mut r, &mut out, 40);
            out.extend_from_slice(b"\n\"\"quoted\"\", on two lines\"");
        } else {
            let n = 10 + r.below(60) as usize;
            words(&mut r, &mut out, n);
        }
        out.extend_from_slice(format!(",{}\n", r.below(101)).as_bytes());
    }
    out
}

fn big_markdown(size: usize) -> Vec<u8> {
    let mut r = Rng(7);
    let mut out = Vec::new();
    let mut s = 0;
    while out.len() < size {
        s += 1;
        out.extend_from_slice(format!("## Section {s}\n\nSome *emphasis* and **strong** text, `code`, and a [link](https://example.org/{s}). ").as_bytes());
        words(&mut r, &mut out, 400);
        out.extend_from_slice(b"\n\n- one item\n- another item with more words in it\n  1. nested\n\n> a quote\n\n```\nlet x = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n");
    }
    out
}

fn frame(v: &EvidenceView, doc: &Doc) -> Buffer {
    let mut buf = Buffer::empty(PANE);
    render(v, doc, PANE, &mut buf, &Theme { mono: false });
    buf
}

fn opened(name: &str, bytes: &Arc<[u8]>) -> (Doc, EvidenceView) {
    let doc = Doc::open(name, bytes.clone());
    let mut v = EvidenceView::new(&doc);
    v.resize(&doc, PANE.width, PANE.height);
    (doc, v)
}

/// Steps until the view is idle, as the caller's frame loop would; the time and the steps.
fn settle(v: &mut EvidenceView, doc: &Doc) -> (Duration, u32) {
    let t = Instant::now();
    let mut n = 0;
    while v.busy() {
        v.step(doc, STEP_BUDGET);
        n += 1;
    }
    (t.elapsed(), n)
}

fn report(text: &Arc<[u8]>) {
    let (doc, mut v) = opened("big.txt", text);
    let t = Instant::now();
    let mut longest = Duration::ZERO;
    let mut steps = 0;
    while v.busy() {
        let s = Instant::now();
        v.step(&doc, STEP_BUDGET);
        longest = longest.max(s.elapsed());
        steps += 1;
    }
    let mib = text.len() as f64 / MIB as f64;
    eprintln!(
        "100 MiB text: rows counted in {:.0} ms over {steps} steps (longest step {:.1} ms); view index {} KiB ({:.1} KiB per MiB), document cache {} KiB",
        t.elapsed().as_secs_f64() * 1e3,
        longest.as_secs_f64() * 1e3,
        v.memory_bytes() / 1024,
        v.memory_bytes() as f64 / 1024.0 / mib,
        doc.memory_bytes() / 1024
    );
    v.set_query(&doc, "portfolio");
    let (d, n) = settle(&mut v, &doc);
    eprintln!(
        "100 MiB text: {:?} matches of “portfolio” counted in {:.0} ms over {n} steps; view index now {} KiB",
        v.search().map(|s| s.counts()),
        d.as_secs_f64() * 1e3,
        v.memory_bytes() / 1024
    );
}

/// Whether the group is wanted (`ASSAY_BENCH_GROUPS`, all by default).
fn wanted(group: &str) -> bool {
    std::env::var("ASSAY_BENCH_GROUPS").map_or(true, |g| g.split(',').any(|x| x.trim() == group))
}

fn text(c: &mut Criterion) {
    if !wanted("text") {
        return;
    }
    let bytes: Arc<[u8]> = big_text(100 * MIB).into();
    if std::env::var_os("ASSAY_BENCH_NO_FIGURES").is_none() {
        report(&bytes);
    }
    let mut g = c.benchmark_group("evidence_text_100MiB");
    g.sample_size(20);
    g.bench_function("open_and_first_frame", |b| {
        b.iter(|| {
            let (doc, v) = opened("big.txt", &bytes);
            black_box(frame(&v, &doc));
        })
    });
    let (doc, mut mid) = opened("big.txt", &bytes);
    settle(&mut mid, &doc);
    mid.jump_to_fraction(&doc, 0.4);
    let mut top = mid.clone();
    top.update(&doc, Msg::Home);
    let mut end = mid.clone();
    end.update(&doc, Msg::End);
    for (name, start, msg) in [
        ("down_and_frame", &mid, Msg::Down),
        ("page_down_and_frame", &mid, Msg::PageDown),
        ("end_and_frame", &top, Msg::End),
        ("page_up_at_end_and_frame", &end, Msg::PageUp),
        ("home_and_frame", &end, Msg::Home),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || start.clone(),
                |mut v| {
                    v.update(&doc, msg.clone());
                    black_box(frame(&v, &doc));
                },
                BatchSize::SmallInput,
            )
        });
    }
    // A search for a word found once, at 95%: the key (bounded), and until it is on screen.
    g.bench_function("search_far_key_and_frame", |b| {
        b.iter_batched(
            || top.clone(),
            |mut v| {
                v.set_query(&doc, "xylophone");
                black_box(frame(&v, &doc));
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("search_far_until_shown", |b| {
        b.iter_batched(
            || top.clone(),
            |mut v| {
                v.set_query(&doc, "xylophone");
                while v.search().is_some_and(|s| s.seeking()) || v.revealing() {
                    v.step(&doc, STEP_BUDGET);
                }
                black_box(frame(&v, &doc));
            },
            BatchSize::SmallInput,
        )
    });
    let mut found = top.clone();
    found.set_query(&doc, "xylophone");
    settle(&mut found, &doc);
    g.bench_function("search_next_on_a_far_match_key_and_frame", |b| {
        b.iter_batched(
            || {
                let mut v = found.clone();
                v.update(&doc, Msg::Home);
                v
            },
            |mut v| {
                v.update(&doc, Msg::FindNext);
                black_box(frame(&v, &doc));
            },
            BatchSize::SmallInput,
        )
    });
    g.sample_size(10);
    g.bench_function("count_all_rows_in_steps", |b| {
        b.iter_batched(
            || opened("big.txt", &bytes),
            |(doc, mut v)| black_box(settle(&mut v, &doc)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn csv(c: &mut Criterion) {
    if !wanted("csv") {
        return;
    }
    let bytes: Arc<[u8]> = big_csv(20 * MIB).into();
    let mut g = c.benchmark_group("evidence_csv_20MiB");
    g.sample_size(20);
    g.bench_function("open_and_first_frame", |b| {
        b.iter(|| {
            let (doc, v) = opened("big.csv", &bytes);
            black_box(frame(&v, &doc));
        })
    });
    let (doc, top) = opened("big.csv", &bytes);
    eprintln!(
        "20 MiB CSV: {}; table index {} KiB",
        doc.label(),
        doc.memory_bytes() / 1024
    );
    if std::env::var_os("ASSAY_BENCH_NO_FIGURES").is_none() {
        let mut v = top.clone();
        v.set_query(&doc, "learner");
        let (d, n) = settle(&mut v, &doc);
        eprintln!(
            "20 MiB CSV: {:?} cells matching “learner” counted in {:.0} ms over {n} steps",
            v.search().map(|s| s.counts()),
            d.as_secs_f64() * 1e3
        );
    }
    let mut mid = top.clone();
    mid.jump_to_fraction(&doc, 0.5);
    for (name, start, msg) in [
        ("down_and_frame", &mid, Msg::Down),
        ("page_down_and_frame", &mid, Msg::PageDown),
        ("end_and_frame", &top, Msg::End),
        ("right_and_frame", &mid, Msg::Right),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || start.clone(),
                |mut v| {
                    v.update(&doc, msg.clone());
                    black_box(frame(&v, &doc));
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.bench_function("search_far_until_shown", |b| {
        b.iter_batched(
            || top.clone(),
            |mut v| {
                v.set_query(&doc, "Learner 4999,");
                while v.search().is_some_and(|s| s.seeking()) || v.revealing() {
                    v.step(&doc, STEP_BUDGET);
                }
                black_box(frame(&v, &doc));
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn markdown(c: &mut Criterion) {
    if !wanted("markdown") {
        return;
    }
    let bytes: Arc<[u8]> = big_markdown(2 * MIB - 4096).into();
    let mut g = c.benchmark_group("evidence_markdown_2MiB");
    g.sample_size(10);
    g.bench_function("open_and_first_frame", |b| {
        b.iter(|| {
            let (doc, v) = opened("big.md", &bytes);
            black_box(frame(&v, &doc));
        })
    });
    let (doc, top) = opened("big.md", &bytes);
    eprintln!(
        "2 MiB Markdown: {}; rendered lines {} MiB",
        doc.label(),
        doc.memory_bytes() / MIB
    );
    g.bench_function("end_and_frame", |b| {
        b.iter_batched(
            || top.clone(),
            |mut v| {
                v.update(&doc, Msg::End);
                black_box(frame(&v, &doc));
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// The worst shapes of 100 MiB: one line without a line break, and nothing but line breaks.
fn worst(c: &mut Criterion) {
    if !wanted("worst") {
        return;
    }
    let mut one = Vec::with_capacity(100 * MIB);
    let mut r = Rng(3);
    while one.len() < 100 * MIB {
        one.extend_from_slice(WORDS[r.below(WORDS.len() as u64) as usize].as_bytes());
        one.push(if r.below(9) == 0 { b',' } else { b'-' });
    }
    one.extend_from_slice(b"xylophone");
    let one: Arc<[u8]> = one.into();
    let breaks: Arc<[u8]> = vec![b'\n'; 100 * MIB].into();
    let mut g = c.benchmark_group("evidence_worst_100MiB");
    g.sample_size(10);
    for (what, bytes) in [("one_line", &one), ("only_line_breaks", &breaks)] {
        g.bench_function(format!("{what}/open_and_first_frame"), |b| {
            b.iter(|| {
                let (doc, v) = opened("w.txt", bytes);
                black_box(frame(&v, &doc));
            })
        });
        let (doc, top) = opened("w.txt", bytes);
        let mut far = top.clone();
        far.jump_to_fraction(&doc, 1.0);
        for (name, start, msg) in [
            ("end_and_frame", &top, Msg::End),
            ("down_and_frame", &top, Msg::Down),
            ("right_and_frame", &top, Msg::Right),
            ("up_at_end_and_frame", &far, Msg::Up),
        ] {
            g.bench_function(format!("{what}/{name}"), |b| {
                b.iter_batched(
                    || start.clone(),
                    |mut v| {
                        v.update(&doc, msg.clone());
                        black_box(frame(&v, &doc));
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        if std::env::var_os("ASSAY_BENCH_NO_FIGURES").is_none() {
            let mut v = top.clone();
            let (d, n) = settle(&mut v, &doc);
            eprintln!(
                "100 MiB {what}: rows counted in {:.0} ms over {n} steps; view index {} KiB, document cache {} KiB",
                d.as_secs_f64() * 1e3,
                v.memory_bytes() / 1024,
                doc.memory_bytes() / 1024
            );
            let t = Instant::now();
            v.set_query(&doc, "xylophone");
            let key = t.elapsed();
            while v.search().is_some_and(|s| s.seeking()) || v.revealing() {
                v.step(&doc, STEP_BUDGET);
            }
            let mut buf = frame(&v, &doc);
            black_box(&mut buf);
            eprintln!(
                "100 MiB {what}: search for the last word: key {:.1} ms, on screen after {:.0} ms ({:?})",
                key.as_secs_f64() * 1e3,
                t.elapsed().as_secs_f64() * 1e3,
                v.search().and_then(|s| s.current()).is_some()
            );
        }
    }
    g.finish();
}

criterion_group!(benches, text, csv, markdown, worst);
criterion_main!(benches);
