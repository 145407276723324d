//! Replays the inputs kept from fuzzing (and a few hand-made nasty ones) through the same checks
//! the fuzz targets run (`tests/fuzz_regressions/checks.rs`). See `fuzz/README.md`.
//!
//! Every file under `tests/fuzz_regressions/<target>/` is one input for that target; a crash the
//! fuzzer found is fixed in `src/` and its input is dropped in the folder, so it stays fixed.

#[path = "fuzz_regressions/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An input taking longer than this in a debug build is reported on stderr (libFuzzer's limit was
/// 1 s in release). Not an assertion: a test never fails on the machine's speed; how long the
/// loaders take on these inputs is measured by `cargo bench --bench domain`.
const SLOW: Duration = Duration::from_secs(20);

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files
}

#[track_caller]
fn run(name: &str, data: &[u8], check: fn(&[u8])) {
    let t = Instant::now();
    if let Err(e) = std::panic::catch_unwind(|| check(data)) {
        let msg = e
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| e.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        panic!("{name}: {msg}");
    }
    let took = t.elapsed();
    if took > SLOW {
        eprintln!("slow: {name} took {took:?}");
    }
}

fn replay(target: &str, check: fn(&[u8])) {
    for path in inputs(target) {
        let data = std::fs::read(&path).expect("read input");
        run(&path.display().to_string(), &data, check);
    }
}

#[test]
fn rubric_load_inputs() {
    replay("rubric_load", checks::rubric_load);
}

#[test]
fn portfolio_load_inputs() {
    replay("portfolio_load", checks::portfolio_load);
}

#[test]
fn sanitize_inputs() {
    replay("sanitize", checks::sanitize);
}

/// Inputs too large to keep as files, built here, for the targets named.
fn generated() -> Vec<(&'static [&'static str], &'static str, Vec<u8>)> {
    const ALL: &[&str] = &["rubric_load", "portfolio_load", "sanitize"];
    const RUBRIC: &[&str] = &["rubric_load"];
    const PORTFOLIO: &[&str] = &["portfolio_load"];
    let mut out = Vec::new();
    // Nesting far past the depth limit, in flow and block style.
    let deep = format!("a: {}{}", "[".repeat(100_000), "]".repeat(100_000));
    out.push((ALL, "deep-flow", deep.into_bytes()));
    out.push((ALL, "deep-open", "a: {a: ".repeat(50_000).into_bytes()));
    let mut block = String::new();
    for i in 0..1_000 {
        block.push_str(&" ".repeat(i));
        block.push_str("- \n");
    }
    out.push((ALL, "deep-block", block.into_bytes()));
    // Compact nested block sequences, 400 000 levels in 800 KB: the YAML parser's `load`
    // recursed once per level and overflowed the stack (SIGSEGV).
    let compact = format!("a:\n  {}x\n", "- ".repeat(400_000));
    out.push((ALL, "compact-deep-seq", compact.into_bytes()));
    // Nested block mappings, one more space of indentation each.
    let mut maps = String::new();
    for i in 0..1_000 {
        maps.push_str(&" ".repeat(i));
        maps.push_str("a:\n");
    }
    out.push((ALL, "deep-block-map", maps.into_bytes()));
    // A billion-laughs alias bomb.
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    let mut prev = "a";
    for n in ["b", "c", "d", "e", "f", "g", "h", "i", "j"] {
        let refs = vec![format!("*{prev}"); 10].join(",");
        bomb.push_str(&format!("{n}: &{n} [{refs}]\n"));
        prev = n;
    }
    out.push((ALL, "alias-bomb", bomb.into_bytes()));
    // A huge scalar just under the size limit, and a file just over it.
    let mut huge = b"format: ".to_vec();
    huge.resize(1024 * 1024 - 1, b'x');
    huge.push(b'\n');
    out.push((ALL, "huge-scalar", huge));
    out.push((ALL, "over-limit", vec![b'a'; 1024 * 1024 + 1]));
    // Long runs of escape-sequence introducers.
    out.push((ALL, "many-csi", "\u{1b}[".repeat(200_000).into_bytes()));
    out.push((ALL, "many-osc", "\u{1b}]".repeat(200_000).into_bytes()));

    // Inputs that took quadratic time before the fixes (see fuzz/README.md, "Findings").
    // 40 000 distinct keys in one mapping: the duplicate-key check compared each with all before.
    let keys: String = (0..40_000).map(|i| format!("k{i:06}: 1\n")).collect();
    out.push((ALL, "many-keys", keys.into_bytes()));
    let head = "format: assay.rubric/v1\nid: r\nversion: '1'\ntitle: T\ncredential: {awarding_body: {name: B, id: b, country: IE}, eqf_level: 5, ects: 2, pathway: diagonal, participation: online, assessment: a, quality_assurance: q}\n";
    let criterion = |outcomes: &str, levels: &str| {
        format!(
            "criteria:\n  - id: C1\n    title: a\n    outcomes: [{outcomes}]\n    levels:\n{levels}"
        )
    };
    let two_levels = "      - {id: a, label: A, points: 0, descriptor: d}\n      - {id: b, label: B, points: 1, descriptor: d}\n";
    // 4 000 outcomes and 10 000 unknown references: a hint (closest id, and the whole list of
    // ids) was built for every reference.
    let outcomes: String = (0..4_000)
        .map(|i| format!("  - {{id: o{i}, text: t}}\n"))
        .collect();
    let refs: Vec<String> = (0..10_000).map(|i| format!("z{i}")).collect();
    out.push((
        RUBRIC,
        "unknown-outcome-refs",
        format!(
            "{head}learning_outcomes:\n{outcomes}{}decision: {{pass_mark: 50}}\n",
            criterion(&refs.join(","), two_levels)
        )
        .into_bytes(),
    ));
    // One long outcome id and one long unknown reference: the typo hint compared them in time
    // proportional to the product of their lengths.
    let long_a = "a".repeat(200_000);
    let long_b = "b".repeat(200_000);
    out.push((
        RUBRIC,
        "long-outcome-ids",
        format!(
            "{head}learning_outcomes:\n  - {{id: LO1, text: t}}\n  - {{id: {long_a}, text: t}}\n{}decision: {{pass_mark: 50}}\n",
            criterion(&format!("LO1, {long_b}"), two_levels)
        )
        .into_bytes(),
    ));
    // 15 000 grades, 15 000 levels and 20 000 outcomes: uniqueness was checked by scanning.
    let grades: String = (0..15_000)
        .map(|i| format!("    - {{name: g{i}, min: {}.{:03}}}\n", i / 1000, i % 1000))
        .collect();
    out.push((
        RUBRIC,
        "many-grades",
        format!(
            "{head}learning_outcomes:\n  - {{id: LO1, text: t}}\n{}decision:\n  pass_mark: 50\n  grades:\n{grades}",
            criterion("LO1", two_levels)
        )
        .into_bytes(),
    ));
    let levels: String = (0..10_000)
        .map(|i| format!("      - {{id: l{i}, label: A, points: {i}, descriptor: d}}\n"))
        .collect();
    out.push((
        RUBRIC,
        "many-levels",
        format!(
            "{head}learning_outcomes:\n  - {{id: LO1, text: t}}\n{}decision: {{pass_mark: 50}}\n",
            criterion("LO1", &levels)
        )
        .into_bytes(),
    ));
    let outcomes: String = (0..20_000)
        .map(|i| format!("  - {{id: o{i}, text: t}}\n"))
        .collect();
    out.push((
        RUBRIC,
        "many-outcomes",
        format!(
            "{head}learning_outcomes:\n  - {{id: LO1, text: t}}\n{outcomes}{}decision: {{pass_mark: 50}}\n",
            criterion("LO1", two_levels)
        )
        .into_bytes(),
    ));
    // A manifest with 8 000 evidence items, and one with 60 000 unknown claims.
    let manifest = "format: assay.portfolio/v1\nid: P\nrubric: r\nlearner: {id: L, name: N}\nsubmitted: 2026-01-01\nevidence:\n";
    let items: String = (0..8_000)
        .map(|i| {
            format!("  - {{id: E{i}, title: t, kind: formal, url: 'https://x.y', date: 2024}}\n")
        })
        .collect();
    out.push((
        PORTFOLIO,
        "many-evidence",
        format!("{manifest}{items}").into_bytes(),
    ));
    let claims: Vec<String> = (0..60_000).map(|i| format!("z{i}")).collect();
    out.push((
        PORTFOLIO,
        "many-unknown-claims",
        format!(
            "{manifest}  - {{id: E1, title: t, kind: formal, url: 'https://x.y', date: 2024, claims: [{}]}}\n",
            claims.join(",")
        )
        .into_bytes(),
    ));
    out
}

#[test]
fn generated_inputs() {
    for (targets, name, data) in generated() {
        for &target in targets {
            let check: fn(&[u8]) = match target {
                "rubric_load" => checks::rubric_load,
                "portfolio_load" => checks::portfolio_load,
                _ => checks::sanitize,
            };
            run(&format!("{target}/{name}"), &data, check);
        }
    }
}

/// The fuzzers' seeds, the sample rubrics and manifests, are accepted and pass the checks, so the
/// checks on an accepted rubric or manifest (decision rule, claims) run in `cargo test` too.
#[test]
fn seeds_are_accepted_and_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut rubrics = 0;
    for entry in std::fs::read_dir(root.join("rubrics")).expect("rubrics/") {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("read rubric");
        assert!(
            assay::domain::rubric::load("seed.yaml", &data).is_ok(),
            "{}",
            path.display()
        );
        run(&path.display().to_string(), &data, checks::rubric_load);
        rubrics += 1;
    }
    let mut manifests = 0;
    for entry in std::fs::read_dir(root.join("samples/portfolios")).expect("samples/portfolios/") {
        let path = entry.expect("entry").path().join("portfolio.yaml");
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        assert!(
            assay::domain::portfolio::load("seed.yaml", &data).is_ok(),
            "{}",
            path.display()
        );
        run(&path.display().to_string(), &data, checks::portfolio_load);
        manifests += 1;
    }
    assert!(rubrics > 0 && manifests > 0);
}
