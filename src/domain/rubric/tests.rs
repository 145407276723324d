use super::*;

/// A valid rubric; tests replace one line at a time to break it.
const BASE: &str = r#"format: assay.rubric/v1
id: data-literacy
version: "2026.1"
title: Data Literacy Practitioner
summary: Recognises working data skills.
credential:
  awarding_body:
    name: Example Institute
    id: https://example.edu/
    country: IE
  eqf_level: 5
  ects: 2
  workload_hours: 50
  pathway: diagonal
  participation: online
  assessment: portfolio
  quality_assurance: Institute QA policy
  tags: [data]
learning_outcomes:
  - id: LO1
    text: Clean a data set.
  - id: LO2
    text: Explain a chart.
gates:
  - id: identity
    text: Identity verified.
criteria:
  - id: C1
    title: Data preparation
    outcomes: [LO1]
    weight: 2
    required: true
    levels:
      - id: not-yet
        label: Not yet
        points: 0
        descriptor: Nothing shown.
      - id: meets
        label: Demonstrated
        points: 2
        meets: true
        descriptor: Cleans a data set.
      - id: exceeds
        label: Distinction
        points: 3
        descriptor: Automates it.
  - id: C2
    title: Visualisation
    outcomes: [LO2]
    levels:
      - id: not-yet
        label: Not yet
        points: 0
        descriptor: Nothing shown.
      - id: meets
        label: Demonstrated
        points: 1
        descriptor: A fitting chart.
decision:
  pass_mark: 60
  grades:
    - { name: Distinction, min: 85 }
    - { name: Pass, min: 60 }
moderation:
  sample_percent: 10
  sample_min: 3
  always: [not_yet, referred, override, borderline]
  borderline_margin: 5
  blind: true
"#;

/// BASE with line `line` (1-based) replaced by `with` (which may hold several lines).
fn edit(line: usize, with: &str) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    assert!(line >= 1 && line <= lines.len());
    lines[line - 1] = with;
    lines.join("\n") + "\n"
}

fn line_of(needle: &str) -> usize {
    BASE.lines().position(|l| l == needle).expect(needle) + 1
}

fn errors(text: &str) -> Vec<String> {
    match load("r.yaml", text.as_bytes()) {
        Ok(_) => vec![],
        Err(d) => d.errors().map(|e| e.to_string()).collect(),
    }
}

/// Asserts that loading fails with an error on `line` whose message contains `needle`.
#[track_caller]
fn refused_at(text: &str, line: usize, needle: &str) {
    let errs = errors(text);
    assert!(
        errs.iter()
            .any(|e| e.starts_with(&format!("r.yaml:{line}:")) && e.contains(needle)),
        "expected an error on line {line} containing {needle:?}, got {errs:#?}"
    );
}

#[test]
fn base_is_valid() {
    let l = load("r.yaml", BASE.as_bytes()).unwrap_or_else(|d| panic!("{d}"));
    let r = l.rubric;
    assert!(l.warnings.is_empty());
    assert_eq!(r.key(), "data-literacy@2026.1");
    assert_eq!(r.criteria[0].weight, Milli(2000));
    assert_eq!(r.criteria[1].weight, Milli(1000));
    // meets resolution: C1 from the flagged level, C2 (none flagged) all but the lowest
    let m: Vec<bool> = r.criteria[0].levels.iter().map(|l| l.meets).collect();
    assert_eq!(m, [false, true, true]);
    let m: Vec<bool> = r.criteria[1].levels.iter().map(|l| l.meets).collect();
    assert_eq!(m, [false, true]);
    assert_eq!(r.decision.grades[0].name, "Distinction");
    assert_eq!(r.sha256.len(), 64);
}

#[test]
fn format_must_be_exact() {
    refused_at(&edit(1, "format: assay.rubric/v2"), 1, "assay.rubric/v1");
}

#[test]
fn unknown_fields_get_did_you_mean() {
    let l = line_of("    weight: 2");
    refused_at(&edit(l, "    wieght: 2"), l, "did you mean `weight`");
    refused_at(&edit(4, "titel: X"), 4, "did you mean `title`");
    let l = line_of("  eqf_level: 5");
    refused_at(
        &edit(l, "  eqf_level: 5\n  colour: blue"),
        l + 1,
        "unknown field `colour`",
    );
}

#[test]
fn all_problems_are_collected_in_one_pass() {
    let l1 = line_of("    wieght: 2".replace("wieght", "weight").as_str());
    let mut text = edit(l1, "    wieght: 2");
    text = text.replace("country: IE", "country: ie");
    text = text.replace("pass_mark: 60", "pass_mark: 160");
    let errs = errors(&text);
    assert!(errs.len() >= 3, "{errs:#?}");
}

#[test]
fn unknown_outcome_is_located() {
    let l = line_of("    outcomes: [LO2]");
    refused_at(
        &edit(l, "    outcomes: [LO3]"),
        l,
        "unknown learning outcome `LO3`",
    );
}

#[test]
fn every_outcome_must_be_assessed() {
    let text = BASE.replace("    outcomes: [LO2]", "    outcomes: [LO1]");
    refused_at(&text, line_of("  - id: LO2"), "assessed by no criterion");
}

#[test]
fn duplicate_ids_are_located() {
    let text = BASE.replace("  - id: C2", "  - id: C1");
    refused_at(&text, line_of("  - id: C2"), "duplicate criterion id `C1`");
    let text = BASE.replace("  - id: LO2", "  - id: LO1");
    refused_at(
        &text,
        line_of("  - id: LO2"),
        "duplicate learning outcome id",
    );
    let l = line_of("      - id: exceeds");
    refused_at(
        &edit(l, "      - id: meets"),
        l,
        "duplicate level id `meets`",
    );
}

#[test]
fn bad_ids_are_refused() {
    refused_at(&edit(2, "id: -bad id"), 2, "not a valid id");
    let long = format!("id: {}", "a".repeat(65));
    refused_at(&edit(2, &long), 2, "not a valid id");
}

#[test]
fn level_points_rules() {
    let l = line_of("        points: 3");
    refused_at(&edit(l, "        points: 2"), l, "strictly increasing");
    refused_at(&edit(l, "        points: 2.5"), l, "whole numbers");
    let l0 = line_of("        points: 0");
    refused_at(&edit(l0, "        points: -1"), l0, "whole numbers");
}

#[test]
fn a_criterion_needs_two_levels() {
    let start = line_of("  - id: C2");
    let mut lines: Vec<&str> = BASE.lines().collect();
    // drop C2's second level (the five lines after its first level)
    let second = start
        + lines[start..]
            .iter()
            .position(|l| *l == "      - id: meets")
            .unwrap()
        + 1;
    lines.drain(second - 1..second + 3);
    let text = lines.join("\n") + "\n";
    refused_at(&text, start + 3, "at least two");
}

#[test]
fn one_meets_flag_at_most() {
    let l = line_of("        descriptor: Automates it.");
    refused_at(
        &edit(l, "        descriptor: Automates it.\n        meets: true"),
        l + 1,
        "more than one level with `meets: true`",
    );
}

#[test]
fn required_criterion_needs_a_meeting_level() {
    // A meeting level always exists under the resolution rule unless the only flagged one is
    // impossible; so check the rule by flagging none on a one-level criterion: that is refused
    // for having fewer than two levels, and the required check is covered in unit form here.
    let l = line_of("        meets: true");
    let ok = edit(l, "        meets: false");
    assert!(errors(&ok).is_empty(), "{:?}", errors(&ok));
}

#[test]
fn decision_numbers_are_checked() {
    let l = line_of("  pass_mark: 60");
    refused_at(&edit(l, "  pass_mark: 101"), l, "0..100");
    refused_at(&edit(l, "  pass_mark: 60.0001"), l, "three decimals");
    let g = line_of("    - { name: Pass, min: 60 }");
    refused_at(
        &edit(g, "    - { name: Distinction, min: 60 }"),
        g,
        "used twice",
    );
    refused_at(&edit(g, "    - { name: Pass, min: 85 }"), g, "used twice");
    // a grade below the pass mark is a warning only
    let l = load(
        "r.yaml",
        edit(g, "    - { name: Pass, min: 50 }").as_bytes(),
    )
    .expect("loads");
    assert_eq!(l.warnings.len(), 1);
    assert!(
        l.warnings[0]
            .to_string()
            .starts_with(&format!("r.yaml:{g}:"))
    );
    assert!(l.warnings[0].to_string().contains("warning:"));
}

#[test]
fn credential_elements_are_checked() {
    let l = line_of("  eqf_level: 5");
    refused_at(&edit(l, "  eqf_level: 9"), l, "1 to 8");
    refused_at(&edit(l, "  eqf_level: 4.5"), l, "1 to 8");
    let l = line_of("  ects: 2");
    refused_at(&edit(l, "  ects: 0"), l, "greater than 0");
    let l = line_of("    country: IE");
    refused_at(&edit(l, "    country: Ireland"), l, "two capital letters");
    let l = line_of("  pathway: diagonal");
    refused_at(
        &edit(l, "  pathway: sideways"),
        l,
        "vertical, horizontal, diagonal",
    );
    let l = line_of("  participation: online");
    refused_at(
        &edit(l, "  participation: remote"),
        l,
        "online, onsite, blended",
    );
}

#[test]
fn weights_are_positive_with_three_decimals() {
    let l = line_of("    weight: 2");
    refused_at(&edit(l, "    weight: 0"), l, "greater than 0");
    refused_at(&edit(l, "    weight: 0.0001"), l, "three decimals");
    assert!(errors(&edit(l, "    weight: 0.125")).is_empty());
}

#[test]
fn control_characters_in_text_are_refused() {
    refused_at(
        &edit(4, "title: \"Data \\e]0;pwn\\a\""),
        4,
        "control character",
    );
    let text = BASE.replace(
        "text: Clean a data set.",
        "text: \"Clean \\u202E a data set.\"",
    );
    refused_at(
        &text,
        line_of("    text: Clean a data set."),
        "control character",
    );
}

#[test]
fn moderation_categories_are_checked() {
    let l = line_of("  always: [not_yet, referred, override, borderline]");
    refused_at(
        &edit(l, "  always: [not_yet, sometimes]"),
        l,
        "not a sampling category",
    );
}

#[test]
fn type_errors_are_located() {
    let l = line_of("    required: true");
    refused_at(&edit(l, "    required: maybe"), l, "invalid type");
    refused_at(&edit(3, "version: [1]"), 3, "invalid type");
    let errs = errors(&BASE.replace("title: Data Literacy Practitioner\n", ""));
    assert!(
        errs.iter().any(|e| e.contains("missing field `title`")),
        "{errs:?}"
    );
}

#[test]
fn hostile_files_are_refused_quickly() {
    for bytes in [
        Vec::new(),
        b"\xff\xfe\x00".to_vec(),
        b"[1, 2, 3]".to_vec(),
        vec![b'#'; 2 * 1024 * 1024],
        format!("a: {}", "[".repeat(10_000)).into_bytes(),
        b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n".to_vec(),
    ] {
        let t = std::time::Instant::now();
        let err = load("r.yaml", &bytes).expect_err("refused");
        assert!(err.has_errors());
        assert!(err.to_string().starts_with("r.yaml:"), "{err}");
        assert!(t.elapsed().as_secs() < 2);
    }
}

#[test]
fn duplicate_keys_are_located() {
    refused_at(&edit(4, "title: A\ntitle: B"), 5, "written twice");
    let l = line_of("    weight: 2");
    refused_at(
        &edit(l, "    weight: 2\n    weight: 3"),
        l + 1,
        "written twice",
    );
}

#[test]
fn an_unquoted_version_keeps_its_exact_text() {
    let l = load("r.yaml", edit(3, "version: 2026.10").as_bytes()).expect("loads");
    assert_eq!(l.rubric.version, "2026.10");
    refused_at(&edit(3, "version: [1]"), 3, "invalid type");
}

#[test]
fn comments_for_the_bank_are_read_per_criterion_and_level() {
    let text = edit(
        line_of("    required: true"),
        "    required: true\n    comments:\n      - Each cleaning step is logged.\n      - \"Say which tool was used.\"",
    );
    let text = text.replacen(
        "        descriptor: Cleans a data set.\n",
        "        descriptor: Cleans a data set.\n        comments: [The steps could be repeated by a colleague.]\n",
        1,
    );
    let r = load("r.yaml", text.as_bytes())
        .unwrap_or_else(|d| panic!("{d}"))
        .rubric;
    assert_eq!(
        r.criteria[0].comments,
        ["Each cleaning step is logged.", "Say which tool was used."]
    );
    assert_eq!(
        r.criteria[0].levels[1].comments,
        ["The steps could be repeated by a colleague."]
    );
    assert!(r.criteria[1].comments.is_empty());
    // without comments the rubric's JSON is as before
    assert!(
        !serde_json::to_string(&r.criteria[1])
            .unwrap()
            .contains("comments")
    );
    // a comment given twice, or empty, is refused at its line
    let twice = edit(
        line_of("    required: true"),
        "    required: true\n    comments: [Logged., Logged.]",
    );
    refused_at(&twice, line_of("    required: true") + 1, "listed twice");
    let empty = edit(
        line_of("    required: true"),
        "    required: true\n    comments: [\"  \"]",
    );
    refused_at(
        &empty,
        line_of("    required: true") + 1,
        "comment is empty",
    );
}
