//! What the fuzz targets check, for one input each.
//!
//! This file is compiled twice: by the fuzz targets in `fuzz/fuzz_targets/` (libFuzzer calls
//! one of these functions per generated input) and by `tests/fuzz_regressions.rs`, which replays
//! every kept input under `tests/fuzz_regressions/<target>/` through the same function. A check
//! that fails panics; so does any panic inside assay, which is what the fuzzer looks for.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use assay::domain::decision::{self, Marks, Outcome};
use assay::domain::portfolio;
use assay::domain::rubric::{self, Rubric};
use assay::domain::sanitize::{
    has_control, is_forbidden_char, sanitize as sanitize_text, sanitize_bytes, sanitize_line,
};
use assay::domain::yaml::Diagnostics;

/// The name the loaders put in front of every diagnostic.
const FILE: &str = "fuzz.yaml";

/// The sample rubrics, against which a loaded manifest's claims are checked.
static RUBRIC_FILES: [&[u8]; 3] = [
    include_bytes!("../../rubrics/data-literacy-practitioner.yaml"),
    include_bytes!("../../rubrics/applied-data-visualisation.yaml"),
    include_bytes!("../../rubrics/sustainable-home-energy.yaml"),
];

fn sample_rubrics() -> &'static [Rubric] {
    static RUBRICS: OnceLock<Vec<Rubric>> = OnceLock::new();
    RUBRICS.get_or_init(|| {
        RUBRIC_FILES
            .iter()
            .map(|bytes| match rubric::load("sample.yaml", bytes) {
                Ok(l) => l.rubric,
                Err(d) => panic!("a sample rubric does not load:\n{d}"),
            })
            .collect()
    })
}

/// Output that may be written to a terminal: no forbidden character, no ESC, CR or tab.
#[track_caller]
fn assert_terminal_safe(out: &str) {
    if let Some(c) = out.chars().find(|&c| is_forbidden_char(c)) {
        panic!("forbidden char {c:?} in output {out:?}");
    }
    assert!(!out.contains('\u{1b}'), "ESC in output {out:?}");
    assert!(!out.contains('\r'), "CR in output {out:?}");
    assert!(!out.contains('\t'), "tab in output {out:?}");
    assert!(!has_control(out), "has_control on output {out:?}");
}

/// A refusal always says why, at a 1-based place, and its text can be shown once sanitised
/// (which is how every front end prints diagnostics).
#[track_caller]
fn check_refusal(d: &Diagnostics) {
    assert!(d.has_errors(), "refused without an error: {d:?}");
    check_diagnostics(d);
}

#[track_caller]
fn check_diagnostics(d: &Diagnostics) {
    for diag in &d.0 {
        assert!(
            diag.pos.line >= 1 && diag.pos.col >= 1,
            "diagnostic at {:?} is not 1-based: {diag:?}",
            diag.pos
        );
        assert_eq!(diag.file, FILE);
        assert_terminal_safe(&sanitize_text(&diag.to_string()));
    }
}

/// Target `rubric_load`: arbitrary bytes as a rubric file.
///
/// Loading must not panic, a refusal must carry an error, and an accepted rubric must be one the
/// decision rule can apply: top levels with every gate confirmed are awarded, nothing marked is
/// not.
pub fn rubric_load(data: &[u8]) {
    match rubric::load(FILE, data) {
        Err(d) => check_refusal(&d),
        Ok(loaded) => {
            assert!(
                loaded.warnings.iter().all(|w| !w.is_error()),
                "accepted with errors: {:?}",
                loaded.warnings
            );
            check_diagnostics(&Diagnostics(loaded.warnings.clone()));
            check_rubric(&loaded.rubric);
        }
    }
}

fn check_rubric(r: &Rubric) {
    assert!(!r.criteria.is_empty(), "accepted a rubric without criteria");
    assert!(!r.outcomes.is_empty(), "accepted a rubric without outcomes");
    for c in &r.criteria {
        assert!(c.levels.len() >= 2, "criterion {} has < 2 levels", c.id);
        assert!(
            c.levels.windows(2).all(|w| w[0].points < w[1].points),
            "criterion {} levels are not strictly increasing",
            c.id
        );
        assert!(c.weight.0 > 0, "criterion {} weight is not positive", c.id);
    }

    // Nothing marked: not yet, every criterion unmarked.
    let none = decision::evaluate(r, &Marks::default());
    assert_eq!(none.outcome, Outcome::NotYet);
    assert_eq!(none.unmarked.len(), r.criteria.len());
    assert!(!none.complete);

    // Lowest levels: complete, never above the top.
    let mut low = Marks::default();
    for c in &r.criteria {
        low.levels.insert(c.id.clone(), c.levels[0].id.clone());
    }
    let e = decision::evaluate(r, &low);
    assert!(e.complete);
    assert!(e.score.den > 0 && e.score.num >= 0 && e.score.num <= e.score.den);

    // Top levels and every gate: 100 %, awarded.
    let top = Marks {
        levels: r
            .criteria
            .iter()
            .map(|c| (c.id.clone(), c.levels[c.levels.len() - 1].id.clone()))
            .collect(),
        gates: r
            .gates
            .iter()
            .map(|g| g.id.clone())
            .collect::<BTreeSet<_>>(),
    };
    let e = decision::evaluate(r, &top);
    assert_eq!(e.score.num, e.score.den, "top levels do not score 100%");
    assert_eq!(
        e.outcome,
        Outcome::Awarded,
        "top levels with all gates not awarded: {:?}",
        e.reasons
    );
    for reason in &e.reasons {
        let _ = reason.to_string();
    }
}

/// Target `portfolio_load`: arbitrary bytes as a portfolio manifest.
///
/// Loading must not panic, a refusal must carry an error, an accepted manifest must hold only
/// paths that stay inside the portfolio folder and no control characters in its text, and its
/// claims can be checked against each sample rubric without panicking.
pub fn portfolio_load(data: &[u8]) {
    let m = match portfolio::load(FILE, data) {
        Err(d) => return check_refusal(&d),
        Ok(m) => m,
    };
    assert!(
        !m.evidence.is_empty(),
        "accepted a manifest without evidence"
    );
    assert!(!has_control(&m.id) && !has_control(&m.learner.name));
    if let Some(s) = &m.statement {
        assert!(portfolio::path_stays_inside(s), "statement path {s:?}");
    }
    for e in &m.evidence {
        assert!(e.file.is_some() || e.url.is_some());
        if let Some(f) = &e.file {
            assert!(portfolio::path_stays_inside(f), "evidence path {f:?}");
            assert!(!has_control(f));
        }
        assert!(!has_control(&e.title), "control in title {:?}", e.title);
        assert!(e.claims.iter().all(|c| !has_control(c)));
        assert!(portfolio::valid_partial_date(&e.date), "date {:?}", e.date);
    }
    for r in sample_rubrics() {
        let d = portfolio::check_claims(FILE, data, &m, r);
        check_diagnostics(&d);
        let claims = m.evidence.iter().flat_map(|e| &e.claims);
        let unknown = claims.filter(|c| r.criterion(c).is_none()).count();
        assert_eq!(d.errors().count(), unknown, "one error per unknown claim");
    }
}

/// Target `sanitize`: arbitrary bytes as untrusted evidence text.
///
/// The output of every function is terminal-safe (no forbidden character, ESC, CR or tab),
/// single-line output has no newline, sanitising is idempotent, `has_control` agrees with
/// `is_forbidden_char`, and text with nothing to remove passes through unchanged.
pub fn sanitize(data: &[u8]) {
    let out = sanitize_bytes(data);
    assert_terminal_safe(&out);
    assert_eq!(
        sanitize_bytes(out.as_bytes()),
        out,
        "sanitize_bytes not idempotent"
    );

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert_eq!(
        out,
        sanitize_text(text),
        "sanitize_bytes differs on valid UTF-8"
    );
    assert_eq!(has_control(text), text.chars().any(is_forbidden_char));

    let multi = sanitize_text(text);
    assert_terminal_safe(&multi);
    assert_eq!(sanitize_text(&multi), multi, "sanitize not idempotent");

    let line = sanitize_line(text);
    assert_terminal_safe(&line);
    assert!(
        !line.contains('\n'),
        "newline in sanitize_line output {line:?}"
    );
    assert_eq!(sanitize_line(&line), line, "sanitize_line not idempotent");
    assert_eq!(sanitize_text(&line), line);

    if !has_control(text) && !text.contains('\t') {
        assert_eq!(multi, text, "clean text changed");
        if !text.contains('\n') {
            assert_eq!(line, text, "clean line changed");
        }
    }
}
