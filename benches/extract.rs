//! Text extraction of the documents learners send, and an import of portfolios that hold them:
//!
//! ```sh
//! cargo bench --bench extract
//! ```
//!
//! `docx` / `odt` / `pdf`: one fixture's text (`tests/fixtures/documents`), in this process
//! (the PDF's parse alone, without the child process import starts for it). `import`: 50
//! portfolios of a PDF, a Word document and an OpenDocument text each, imported into a new
//! workspace — in a bench binary the PDF is read on a thread (the child process is the assay
//! binary's own: see the README for the whole-process figure).

use std::path::{Path, PathBuf};

use assay::app::Workspace;
use assay::domain::extract;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents")
            .join(name),
    )
    .unwrap()
}

fn portfolios(dir: &Path, n: usize) -> Vec<PathBuf> {
    let files = ["report.pdf", "log.docx", "record.odt"];
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| fixture(f)).collect();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("P-{i:04}"));
            std::fs::create_dir_all(p.join("evidence")).unwrap();
            let mut m = format!(
                "format: assay.portfolio/v1\nid: P-{i:04}\nrubric: data-literacy-practitioner\nlearner: {{id: L-{i}, name: Learner {i}}}\nsubmitted: 2026-05-30\nevidence:\n"
            );
            for (k, (f, b)) in files.iter().zip(&bytes).enumerate() {
                std::fs::write(p.join("evidence").join(f), b).unwrap();
                m.push_str(&format!(
                    "  - {{id: E{k}, title: {f}, kind: formal, file: evidence/{f}, date: 2026-04, claims: [C1]}}\n"
                ));
            }
            std::fs::write(p.join("portfolio.yaml"), m).unwrap();
            p
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let docx = fixture("log.docx");
    let odt = fixture("record.odt");
    let pdf = fixture("report.pdf");
    c.bench_function("docx", |b| b.iter(|| extract::docx_text(&docx).unwrap()));
    c.bench_function("odt", |b| b.iter(|| extract::odt_text(&odt).unwrap()));
    c.bench_function("pdf", |b| b.iter(|| extract::pdf_pages(&pdf).unwrap()));

    let dir = tempfile::tempdir().unwrap();
    let paths = portfolios(dir.path(), 50);
    let rubric =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rubrics/data-literacy-practitioner.yaml");
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.bench_function("50 portfolios x (pdf, docx, odt)", |b| {
        b.iter_batched(
            || {
                let d = tempfile::tempdir().unwrap();
                let mut ws = Workspace::open(&d.path().join("w.db"), "lead".into()).unwrap();
                ws.import(std::slice::from_ref(&rubric), &mut |_, _| {})
                    .unwrap();
                (d, ws)
            },
            |(d, mut ws)| {
                let s = ws.import(&paths, &mut |_, _| {}).unwrap();
                assert_eq!(s.new, 50);
                (d, ws)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
