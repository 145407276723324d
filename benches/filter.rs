//! Fuzzy filtering of the queue over 100,000 portfolios (`ASSAY_BENCH_N` to change), in memory:
//! the haystacks the importer would store for the generated workload, ranked as the workbench's
//! filter ranks them (`assay::tui::runtime::filter`), from scratch and narrowing from the
//! previous keystroke's result. The same ranking streamed from a workspace is in `workbench`.
//!
//! `cargo bench --bench filter`

use std::hint::black_box;
use std::sync::Arc;

use assay::tui::runtime::filter;
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "../examples/workload/mod.rs"]
mod workload;

fn queue_filter(c: &mut Criterion) {
    let n = workload::bench_n(100_000);
    let hay: Arc<Vec<String>> = Arc::new((0..n).map(workload::search_text).collect());
    let mut g = c.benchmark_group(format!("queue_filter_{n}"));
    g.sample_size(10);
    for q in ["kovacevic", "zofia", "P-27-0421", "a"] {
        g.bench_function(q, |b| b.iter(|| filter(black_box(q), &hay, None).len()));
    }
    // Typing the last letter: narrowing from the result of "kovacevi".
    let prev = (
        "kovacevi".to_string(),
        hay.clone(),
        filter("kovacevi", &hay, None),
    );
    g.bench_function("kovacevi_then_c", |b| {
        b.iter(|| filter(black_box("kovacevic"), &hay, Some(&prev)).len())
    });
    g.finish();
}

criterion_group!(benches, queue_filter);
criterion_main!(benches);
