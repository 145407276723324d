//! The pure core: loading (parsing and validating) a rubric, and the decision rule.
//!
//! `cargo bench --bench domain`

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;

use assay::domain::decision::{self, Marks};
use assay::domain::rubric::{self, Rubric};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../examples/workload/mod.rs"]
mod workload;

fn sample_rubric() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rubrics/data-literacy-practitioner.yaml"
    ))
    .expect("the sample rubric")
}

fn load(name: &str, bytes: &[u8]) -> Rubric {
    match rubric::load(name, bytes) {
        Ok(l) => l.rubric,
        Err(d) => panic!(
            "{name}: {:?}",
            d.errors().map(|e| e.to_string()).collect::<Vec<_>>()
        ),
    }
}

/// Marks that award: every criterion at its highest level, every gate confirmed.
fn marks(r: &Rubric) -> Marks {
    Marks {
        levels: r
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.levels.last().expect("levels").id.clone()))
            .collect::<BTreeMap<_, _>>(),
        gates: r
            .gates
            .iter()
            .map(|g| g.id.clone())
            .collect::<BTreeSet<_>>(),
    }
}

fn rubric_load(c: &mut Criterion) {
    let sample = sample_rubric();
    let generated = workload::rubric_yaml().into_bytes();
    let large = workload::large_rubric_yaml(230).into_bytes();
    let mut g = c.benchmark_group("rubric_load");
    for (name, bytes) in [
        ("sample_data_literacy", &sample),
        ("workload_5_criteria", &generated),
        ("large_230_criteria", &large),
    ] {
        load(name, bytes);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| rubric::load(name, black_box(bytes)).map(|l| l.rubric.criteria.len()))
        });
    }
    g.finish();
}

fn decision_rule(c: &mut Criterion) {
    let sample = load("sample", &sample_rubric());
    let large = load("large", workload::large_rubric_yaml(230).as_bytes());
    let mut g = c.benchmark_group("decision");
    for (name, r) in [
        ("sample_data_literacy", &sample),
        ("large_230_criteria", &large),
    ] {
        let m = marks(r);
        assert_eq!(
            decision::evaluate(r, &m).outcome,
            decision::Outcome::Awarded,
            "{name}"
        );
        g.bench_function(name, |b| {
            b.iter(|| decision::evaluate(black_box(r), black_box(&m)))
        });
    }
    g.finish();
}

criterion_group!(benches, rubric_load, decision_rule);
criterion_main!(benches);
