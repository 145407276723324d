//! Hostile input through the built binary: rubric files and portfolio folders that are broken,
//! huge, deep, explosive, mis-encoded, mis-shaped, laced with terminal escape sequences, or that
//! try to read outside their folder. Each one is refused with exit 1, a message that names the
//! file (and its line and column) and says what to change, no panic, nothing imported, within a
//! second. Evidence files may hold anything, but none of it reaches the terminal.
//! Issue "reliability".
//!
//! The corpus in `tests/hostile/` holds the small hostile files; big, binary, control-character
//! and symbolic-link cases are made at test time.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::*;

fn corpus() -> PathBuf {
    root().join("tests/hostile")
}

/// The five sequences put into every text field, written as YAML double-quoted escapes.
const SEQUENCES: [(&str, &str); 5] = [
    ("osc0-title", r"\e]0;pwned\a"),
    ("osc52-clipboard", r"\e]52;c;cm0gLXJmIH4K\a"),
    ("csi-clear", r"\e[2J\e[H"),
    ("bidi-rlo", r"\u202E"),
    ("c1-csi", r"\u009B31m"),
];

/// Imports `paths` and requires each to be refused: exit 1, a clean message naming
/// `FILE:LINE:` (for each expected place) with `hint` (what to change), terminal-safe stderr,
/// no panic, within a second.
#[track_caller]
fn refused_import(ws: &Ws, paths: &[PathBuf], places: &[(PathBuf, Option<usize>, &str)]) -> Out {
    let mut args = vec![std::ffi::OsString::from("import")];
    args.extend(paths.iter().map(|p| p.clone().into_os_string()));
    let o = ws.run("ann", &args);
    assert_clean_refusal(&o);
    assert!(
        o.elapsed < Duration::from_secs(1),
        "took {:?}: {:?}",
        o.elapsed,
        paths
    );
    assert_terminal_safe("stderr", o.stderr.as_bytes());
    assert_terminal_safe("stdout", o.stdout.as_bytes());
    for (file, line, hint) in places {
        let prefix = match line {
            Some(l) => format!("{}:{l}:", file.display()),
            None => file.display().to_string(),
        };
        let hit = o
            .stderr
            .lines()
            .find(|l| l.starts_with(&prefix) && l.contains(hint));
        assert!(
            hit.is_some(),
            "no line starting {prefix:?} with {hint:?}:\n{}",
            o.stderr
        );
        if line.is_some() {
            let l = hit.unwrap();
            let rest = &l[prefix.len()..];
            let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
            assert!(
                !col.is_empty() && rest[col.len()..].starts_with(": error: "),
                "not FILE:LINE:COL: error: {l:?}"
            );
        }
    }
    assert!(
        o.stdout.contains(&format!("{} rejected", places.len())),
        "{}",
        o.stdout
    );
    o
}

// ---------------------------------------------------------------------------------------------
// Rubric files
// ---------------------------------------------------------------------------------------------

/// Each committed hostile rubric, with the line it is refused at and a fragment of what to change.
const RUBRIC_CORPUS: &[(&str, usize, &str)] = &[
    ("alias-bomb.yaml", 8, "write the content out"),
    ("bad-indent.yaml", 24, "check the quotes, brackets"),
    ("bidi-descriptor.yaml", 43, "remove it"),
    ("comment-only.yaml", 1, "must be a YAML mapping"),
    ("deep.yaml", 3, "flatten it"),
    ("duplicate-key.yaml", 4, "keep one"),
    ("list.yaml", 1, "must be a mapping"),
    ("malformed.yaml", 22, "check the quotes, brackets"),
    ("osc0-title.yaml", 4, "remove it"),
    ("points-not-increasing.yaml", 41, "strictly increasing"),
    ("scalar.yaml", 1, "must be a mapping"),
    ("two-documents.yaml", 52, "keep one"),
    ("unknown-field.yaml", 4, "did you mean `title`"),
    (
        "wrong-format.yaml",
        1,
        "it must be exactly `assay.rubric/v1`",
    ),
    ("wrong-type.yaml", 11, "change the value"),
];

/// Each located message says what to change.
#[track_caller]
fn assert_advice(stderr: &str) {
    for l in stderr.lines().filter(|l| l.contains(": error: ")) {
        assert!(
            [
                "remove it",
                "use ",
                "must be",
                "one of",
                "did you mean",
                "give ",
                "write ",
                "add "
            ]
            .iter()
            .any(|h| l.contains(h)),
            "no advice: {l}"
        );
    }
}

fn assert_nothing_imported(ws: &Ws) {
    if ws.db.exists() {
        // (a new workspace's own first record, and nothing after it)
        assert_eq!(
            ws.count("SELECT count(*) FROM audit WHERE action <> 'workspace.init'"),
            0,
            "something was recorded"
        );
        assert!(ws.audit_len() <= 1);
        assert_eq!(ws.count("SELECT count(*) FROM rubrics"), 0);
        assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0);
    }
}

#[test]
fn the_base_rubric_and_portfolio_of_the_corpus_are_valid() {
    // so that every refusal below is caused by the one hostile change
    let ws = Ws::new();
    let folder = portfolio_folder(&ws, "base", &base_portfolio());
    ws.ok(
        "ann",
        &[
            "import".as_ref(),
            corpus().join("base-rubric.yaml").as_os_str(),
            rubric_file("sustainable-home-energy").as_os_str(),
            folder.as_os_str(),
        ],
    );
    assert_eq!(ws.list("ann").len(), 1);
    assert_eq!(ws.count("SELECT count(*) FROM rubrics"), 2);
}

#[test]
fn every_rubric_in_the_corpus_is_refused_where_it_is_wrong() {
    let dir = corpus().join("rubrics");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<&str> = RUBRIC_CORPUS.iter().map(|c| c.0).collect();
    assert_eq!(files, listed, "every corpus file has an expectation");
    let ws = Ws::new();
    for (name, line, hint) in RUBRIC_CORPUS {
        let f = dir.join(name);
        refused_import(
            &ws,
            std::slice::from_ref(&f),
            &[(f.clone(), Some(*line), hint)],
        );
        // `rubric check` agrees, and touches no database
        let o = Ws::exec({
            let mut c = ws.bare();
            c.args(["rubric", "check"]).arg(&f);
            c
        });
        assert_eq!(o.code, Some(1), "{o:?}");
        assert!(
            o.stdout.contains(&format!("{}:{line}:", f.display())),
            "{o:?}"
        );
        assert!(!o.stderr.contains("panicked"));
        assert_terminal_safe("rubric check", o.stdout.as_bytes());
    }
    assert_nothing_imported(&ws);
    assert!(!ws.path("assay.db").exists());
}

#[test]
fn generated_hostile_rubrics_are_refused() {
    let ws = Ws::new();
    let base = base_rubric();
    let write = |name: &str, bytes: &[u8]| {
        let p = ws.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // huge: over 1 MiB
    let mut huge = base.clone();
    huge.push_str(&format!("# {}\n", "x".repeat(1024 * 1024)));
    let huge = write("huge.yaml", huge.as_bytes());
    // one huge value
    let huge_value = write(
        "huge-value.yaml",
        base.replace(
            "summary: A small rubric for the hostile-input tests.",
            &format!("summary: \"{}\"", "ab".repeat(600 * 1024)),
        )
        .as_bytes(),
    );
    // empty
    let empty = write("empty.yaml", b"");
    let blank = write("blank.yaml", b"   \n\n\t\n");
    // not UTF-8 (Latin-1 é on line 5)
    let latin1 = write(
        "latin1.yaml",
        &base
            .replace("title: Hostile Base", "title: Hostile Bas\u{e9}")
            .chars()
            .map(|c| c as u32 as u8)
            .collect::<Vec<u8>>(),
    );
    // UTF-16 as Windows editors save it, with its byte-order mark
    let utf16 = write(
        "utf16.yaml",
        &std::iter::once(0xFEFFu16)
            .chain(base.encode_utf16())
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    // raw escape sequences and BEL, not YAML escapes
    let raw = write(
        "raw-controls.yaml",
        base.replace(
            "title: Hostile Base",
            "title: Hostile \x1b]0;pwned\x07 Base",
        )
        .as_bytes(),
    );
    let nul = write(
        "nul.yaml",
        base.replace("label: Done", "label: Do\0ne").as_bytes(),
    );
    // very deep: far past any recursion limit
    let deep = write(
        "very-deep.yaml",
        format!(
            "format: assay.rubric/v1\na: {}{}\n",
            "[".repeat(300_000),
            "]".repeat(300_000)
        )
        .as_bytes(),
    );
    let deep_maps = write(
        "very-deep-maps.yaml",
        format!(
            "format: assay.rubric/v1\na: {}1{}\n",
            "{a: ".repeat(100_000),
            "}".repeat(100_000)
        )
        .as_bytes(),
    );
    // a wider alias bomb: few lines, astronomically many nodes
    let mut bomb = String::from(
        "format: assay.rubric/v1\nl0: &l0 [x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..30 {
        bomb.push_str(&format!(
            "l{i}: &l{i} [{}]\n",
            vec![format!("*l{}", i - 1); 16].join(", ")
        ));
    }
    let bomb = write("wide-bomb.yaml", bomb.as_bytes());
    let cases = [
        (huge, 1, "split it or remove"),
        (huge_value, 1, "split it or remove"),
        (empty, 1, "empty"),
        (blank, 1, "empty"),
        (latin1, 4, "save it as UTF-8"),
        (utf16, 1, "save it as UTF-8"),
        (raw, 4, "U+001B"),
        (nul, 40, "U+0000"),
        (deep, 2, "flatten it"),
        (deep_maps, 2, "flatten it"),
        (bomb, 6, "write the content out"),
    ];
    for (f, line, hint) in &cases {
        refused_import(
            &ws,
            std::slice::from_ref(f),
            &[(f.clone(), Some(*line), hint)],
        );
    }
    assert_nothing_imported(&ws);
}

#[test]
fn escape_sequences_in_any_text_field_of_a_rubric_are_refused() {
    let base = base_rubric();
    let lines: Vec<&str> = base.lines().collect();
    // (line as written, the value to wrap) for every text field, id and list item
    let fields: &[(&str, &str)] = &[
        ("format: assay.rubric/v1", "assay.rubric/v1"),
        ("id: hostile-base", "hostile-base"),
        ("version: \"1\"", "\"1\""),
        ("title: Hostile Base", "Hostile Base"),
        (
            "summary: A small rubric for the hostile-input tests.",
            "A small rubric for the hostile-input tests.",
        ),
        ("    name: Example Institute", "Example Institute"),
        ("    id: https://example.org/", "https://example.org/"),
        ("    country: IE", "IE"),
        ("  pathway: horizontal", "horizontal"),
        ("  participation: online", "online"),
        ("  assessment: Portfolio", "Portfolio"),
        ("  quality_assurance: Internal QA", "Internal QA"),
        ("  prerequisites: None", "None"),
        ("  identity_verification: Video call", "Video call"),
        ("  stackability: Stand-alone", "Stand-alone"),
        ("  tags: [test, hostile]", "hostile"),
        ("  - id: LO1", "LO1"),
        ("    text: Do the thing.", "Do the thing."),
        ("  - id: identity", "identity"),
        ("    text: Identity is confirmed.", "Identity is confirmed."),
        ("  - id: C1", "C1"),
        ("    title: The thing", "The thing"),
        ("    outcomes: [LO1]", "LO1"),
        ("    guidance: Look for the thing.", "Look for the thing."),
        ("      - id: not-yet", "not-yet"),
        ("        label: Not yet", "Not yet"),
        (
            "        descriptor: The thing is not done.",
            "The thing is not done.",
        ),
        ("      - id: done", "done"),
        ("        label: Done", "Done"),
        (
            "        descriptor: The thing is done.",
            "The thing is done.",
        ),
        ("    - name: Pass", "Pass"),
        ("  always: [not_yet]", "not_yet"),
    ];
    let ws = Ws::new();
    for (line_text, value) in fields {
        let idx = lines
            .iter()
            .position(|l| l == line_text)
            .unwrap_or_else(|| panic!("{line_text:?} not in the base rubric"));
        let inner = value.trim_matches('"');
        let mut paths = Vec::new();
        let mut places = Vec::new();
        for (name, seq) in SEQUENCES {
            let half = inner.len() / 2;
            let hostile = format!("\"{}{seq}{}\"", &inner[..half], &inner[half..]);
            let new_line = line_text.replacen(value, &hostile, 1);
            let mut ls = lines.clone();
            ls[idx] = &new_line;
            let text = ls.join("\n") + "\n";
            let p = ws.path(&format!("r{idx}-{name}.yaml"));
            std::fs::write(&p, text).unwrap();
            places.push((p.clone(), Some(idx + 1), "error"));
            paths.push(p);
        }
        let o = refused_import(&ws, &paths, &places);
        assert_advice(&o.stderr);
    }
    assert_nothing_imported(&ws);
}

// ---------------------------------------------------------------------------------------------
// Portfolio folders
// ---------------------------------------------------------------------------------------------

fn base_rubric() -> String {
    let t = std::fs::read_to_string(corpus().join("base-rubric.yaml")).unwrap();
    // without the leading comment, so that lines count as in the corpus files
    t.split_once('\n').unwrap().1.to_string()
}

fn base_portfolio() -> String {
    std::fs::read_to_string(corpus().join("base-portfolio.yaml")).unwrap()
}

/// Makes a portfolio folder `name` in the workspace's folder with `manifest`, a statement and
/// an evidence file; returns its path.
fn portfolio_folder(ws: &Ws, name: &str, manifest: &str) -> PathBuf {
    let d = ws.path(&format!("in/{name}"));
    std::fs::create_dir_all(d.join("evidence")).unwrap();
    std::fs::write(d.join("portfolio.yaml"), manifest).unwrap();
    std::fs::write(
        d.join("statement.md"),
        "I kept a diary of my meter readings.\n",
    )
    .unwrap();
    std::fs::write(
        d.join("evidence/notes.md"),
        "# Notes\n\nReadings every Sunday, in kWh.\n",
    )
    .unwrap();
    d
}

/// A workspace holding the rubric the hostile portfolios are written for: two audit records
/// (the workspace's own and the rubric's).
fn portfolio_workspace() -> Ws {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    assert_eq!(ws.audit_len(), 2);
    ws
}

fn assert_no_portfolio(ws: &Ws) {
    assert_eq!(ws.list("ann"), Vec::<serde_json::Value>::new());
    assert_eq!(ws.audit_len(), 2, "something was recorded");
    assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0);
    assert_eq!(ws.count("SELECT count(*) FROM blobs"), 0);
    assert!(!ws.ok("ann", &["audit", "log"]).contains("P-HOSTILE"));
}

/// Each committed hostile portfolio manifest, with the line it is refused at and a fragment of
/// what to change.
const PORTFOLIO_CORPUS: &[(&str, usize, &str)] = &[
    ("absolute", 14, "use a relative path inside it"),
    ("alias-bomb", 8, "write the content out"),
    ("bad-evidence-date", 15, "write YYYY, YYYY-MM or YYYY-MM-DD"),
    (
        "bad-evidence-date-text",
        15,
        "write YYYY, YYYY-MM or YYYY-MM-DD",
    ),
    ("bad-submitted-date", 8, "write it as YYYY-MM-DD"),
    ("bidi-id", 11, "remove it"),
    ("c1-csi-title", 12, "remove it"),
    ("comment-only", 1, "must be a YAML mapping"),
    ("csi-clear-note", 18, "remove it"),
    ("deep", 3, "flatten it"),
    ("dotdot", 14, "use a relative path inside it"),
    ("dotdot-hidden", 14, "use a relative path inside it"),
    ("dotdot-statement", 9, "use a relative path inside it"),
    ("duplicate-evidence-id", 19, "give each item its own id"),
    ("duplicate-key", 7, "keep one"),
    ("list", 1, "must be a mapping"),
    ("malformed", 18, "check the quotes, brackets"),
    ("missing-file", 14, "add it or correct the path"),
    ("no-evidence", 10, "add at least one item"),
    ("osc0-title", 12, "remove it"),
    ("osc52-name", 6, "remove it"),
    ("scalar", 1, "must be a mapping"),
    ("two-documents", 19, "keep one"),
    ("unknown-claim", 17, "the rubric's criteria are"),
    ("unknown-field", 17, "remove it"),
    ("unknown-rubric", 3, "import it first"),
    ("unknown-rubric-version", 3, "import it first"),
    ("wrong-type", 17, "change the value"),
];

#[test]
fn every_portfolio_in_the_corpus_is_refused_where_it_is_wrong() {
    let dir = corpus().join("portfolios");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let listed: Vec<&str> = PORTFOLIO_CORPUS.iter().map(|c| c.0).collect();
    assert_eq!(names, listed, "every corpus folder has an expectation");
    let ws = portfolio_workspace();
    for (name, line, hint) in PORTFOLIO_CORPUS {
        let manifest = std::fs::read_to_string(dir.join(name).join("portfolio.yaml")).unwrap();
        let folder = portfolio_folder(&ws, name, &manifest);
        let m = folder.join("portfolio.yaml");
        refused_import(
            &ws,
            std::slice::from_ref(&folder),
            &[(m, Some(*line), hint)],
        );
    }
    assert_no_portfolio(&ws);
    // all at once: every one rejected, each explained
    let o = refused_import(
        &ws,
        &[ws.path("in")],
        &PORTFOLIO_CORPUS
            .iter()
            .map(|(n, l, h)| (ws.path(&format!("in/{n}/portfolio.yaml")), Some(*l), *h))
            .collect::<Vec<_>>(),
    );
    assert!(
        o.stdout
            .contains(&format!("{} rejected", PORTFOLIO_CORPUS.len()))
    );
    assert_no_portfolio(&ws);
}

#[test]
fn generated_hostile_portfolios_are_refused() {
    let ws = portfolio_workspace();
    let base = base_portfolio();
    let mut cases: Vec<(PathBuf, Option<usize>, &str)> = Vec::new();
    let mut add = |name: &str, manifest: &[u8], line: Option<usize>, hint: &'static str| {
        let d = portfolio_folder(&ws, name, "");
        std::fs::write(d.join("portfolio.yaml"), manifest).unwrap();
        cases.push((d.join("portfolio.yaml"), line, hint));
    };
    let mut huge = base.clone();
    huge.push_str(&format!("# {}\n", "y".repeat(1024 * 1024 + 10)));
    add("huge", huge.as_bytes(), Some(1), "split it or remove");
    let long_note = base.replace(
        "note: A winter of meter readings.",
        &format!("note: {}", "z".repeat(1024 * 1024)),
    );
    add(
        "huge-note",
        long_note.as_bytes(),
        Some(1),
        "split it or remove",
    );
    add("empty", b"", Some(1), "empty");
    let latin1: Vec<u8> = base
        .replace("name: Test Learner", "name: Tést Learner")
        .chars()
        .map(|c| c as u32 as u8)
        .collect();
    add("latin1", &latin1, Some(6), "save it as UTF-8");
    add(
        "raw-osc",
        base.replace("name: Test Learner", "name: Test \x1b]0;pwned\x07Learner")
            .as_bytes(),
        Some(6),
        "U+001B",
    );
    add(
        "raw-c1",
        base.replace("title: Energy diary", "title: Energy \u{9b}2J diary")
            .as_bytes(),
        Some(12),
        "U+009B",
    );
    add(
        "raw-bidi",
        base.replace("title: Energy diary", "title: Energy \u{202e}yraid")
            .as_bytes(),
        Some(12),
        "remove it",
    );
    add(
        "raw-del",
        base.replace("note: A winter", "note: A win\x7fter")
            .as_bytes(),
        Some(19),
        "U+007F",
    );
    add(
        "very-deep",
        format!(
            "format: assay.portfolio/v1\nevidence: {}{}\n",
            "[".repeat(300_000),
            "]".repeat(300_000)
        )
        .as_bytes(),
        Some(2),
        "flatten it",
    );
    let mut bomb = String::from("format: assay.portfolio/v1\nl0: &l0 [x, x, x, x, x, x, x, x]\n");
    for i in 1..40 {
        bomb.push_str(&format!(
            "l{i}: &l{i} [*l{0}, *l{0}, *l{0}, *l{0}, *l{0}, *l{0}, *l{0}, *l{0}]\n",
            i - 1
        ));
    }
    add("bomb", bomb.as_bytes(), Some(7), "write the content out");
    add(
        "bad-dates",
        base.replace("submitted: 2026-03-01", "submitted: 01/03/2026")
            .replace("date: 2026-01", "date: 2026-00")
            .as_bytes(),
        Some(8),
        "YYYY-MM-DD",
    );
    let paths: Vec<PathBuf> = cases
        .iter()
        .map(|(m, _, _)| m.parent().unwrap().to_path_buf())
        .collect();
    for (p, c) in paths.iter().zip(&cases) {
        refused_import(&ws, std::slice::from_ref(p), std::slice::from_ref(c));
    }
    // the second bad date is reported too
    let o = ws.run(
        "ann",
        &["import".as_ref(), ws.path("in/bad-dates").as_os_str()],
    );
    assert!(
        o.stderr.contains(&format!(
            "{}:16:",
            ws.path("in/bad-dates/portfolio.yaml").display()
        )),
        "{o:?}"
    );
    assert_no_portfolio(&ws);
}

#[test]
fn escape_sequences_in_any_text_field_of_a_manifest_are_refused() {
    let base = base_portfolio();
    let lines: Vec<&str> = base.lines().collect();
    let fields: &[(&str, &str)] = &[
        ("format: assay.portfolio/v1", "assay.portfolio/v1"),
        ("id: P-HOSTILE-BASE", "P-HOSTILE-BASE"),
        ("rubric: sustainable-home-energy", "sustainable-home-energy"),
        ("  id: L-9001", "L-9001"),
        ("  name: Test Learner", "Test Learner"),
        (
            "  email: test.learner@example.org",
            "test.learner@example.org",
        ),
        ("submitted: 2026-03-01", "2026-03-01"),
        ("statement: statement.md", "statement.md"),
        ("  - id: E1", "E1"),
        ("    title: Energy diary", "Energy diary"),
        ("    kind: informal", "informal"),
        ("    file: evidence/notes.md", "evidence/notes.md"),
        (
            "    url: https://example.org/diary",
            "https://example.org/diary",
        ),
        ("    date: 2026-01", "2026-01"),
        ("    claims: [energy-use, action]", "action"),
        (
            "    note: A winter of meter readings.",
            "A winter of meter readings.",
        ),
    ];
    let ws = portfolio_workspace();
    for (line_text, value) in fields {
        let idx = lines
            .iter()
            .position(|l| l == line_text)
            .unwrap_or_else(|| panic!("{line_text:?} not in the base manifest"));
        let mut folders = Vec::new();
        let mut places = Vec::new();
        for (name, seq) in SEQUENCES {
            let half = value.len() / 2;
            let hostile = format!("\"{}{seq}{}\"", &value[..half], &value[half..]);
            let new_line = line_text.replacen(value, &hostile, 1);
            let mut ls = lines.clone();
            ls[idx] = &new_line;
            let d = portfolio_folder(&ws, &format!("f{idx}-{name}"), &(ls.join("\n") + "\n"));
            places.push((d.join("portfolio.yaml"), Some(idx + 1), "error"));
            folders.push(d);
        }
        let o = refused_import(&ws, &folders, &places);
        assert_advice(&o.stderr);
    }
    assert_no_portfolio(&ws);
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_folder_are_refused() {
    use std::os::unix::fs::symlink;
    let ws = portfolio_workspace();
    let base = base_portfolio();
    let outside = ws.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.md"), "SECRET-OUTSIDE\n").unwrap();

    let mut cases = Vec::new();
    // the evidence file is a link to a file outside
    let d = portfolio_folder(
        &ws,
        "link-file",
        &base.replace("P-HOSTILE-BASE", "P-LINK-1"),
    );
    std::fs::remove_file(d.join("evidence/notes.md")).unwrap();
    symlink(outside.join("secret.md"), d.join("evidence/notes.md")).unwrap();
    cases.push((d, 14));
    // … to an absolute system file
    let d = portfolio_folder(
        &ws,
        "link-passwd",
        &base.replace("P-HOSTILE-BASE", "P-LINK-2"),
    );
    std::fs::remove_file(d.join("evidence/notes.md")).unwrap();
    symlink("/etc/passwd", d.join("evidence/notes.md")).unwrap();
    cases.push((d, 14));
    // a relative link that climbs out
    let d = portfolio_folder(
        &ws,
        "link-relative",
        &base.replace("P-HOSTILE-BASE", "P-LINK-3"),
    );
    std::fs::remove_file(d.join("evidence/notes.md")).unwrap();
    symlink("../../../outside/secret.md", d.join("evidence/notes.md")).unwrap();
    cases.push((d, 14));
    // the evidence folder is a link to a folder outside
    let d = portfolio_folder(&ws, "link-dir", &base.replace("P-HOSTILE-BASE", "P-LINK-4"));
    std::fs::remove_dir_all(d.join("evidence")).unwrap();
    std::fs::write(outside.join("notes.md"), "SECRET-OUTSIDE\n").unwrap();
    symlink(&outside, d.join("evidence")).unwrap();
    cases.push((d, 14));
    // the statement is a link out
    let d = portfolio_folder(
        &ws,
        "link-statement",
        &base.replace("P-HOSTILE-BASE", "P-LINK-5"),
    );
    std::fs::remove_file(d.join("statement.md")).unwrap();
    symlink(outside.join("secret.md"), d.join("statement.md")).unwrap();
    cases.push((d, 9));
    // a dangling link
    let d = portfolio_folder(
        &ws,
        "link-dangling",
        &base.replace("P-HOSTILE-BASE", "P-LINK-6"),
    );
    std::fs::remove_file(d.join("evidence/notes.md")).unwrap();
    symlink(outside.join("gone.md"), d.join("evidence/notes.md")).unwrap();
    cases.push((d, 14));
    // a statement that is a folder
    let d = portfolio_folder(
        &ws,
        "statement-dir",
        &base.replace("P-HOSTILE-BASE", "P-LINK-7"),
    );
    std::fs::remove_file(d.join("statement.md")).unwrap();
    std::fs::create_dir(d.join("statement.md")).unwrap();
    cases.push((d, 9));

    for (d, line) in &cases {
        refused_import(
            &ws,
            std::slice::from_ref(d),
            &[(d.join("portfolio.yaml"), Some(*line), "")],
        );
    }
    let o = ws.run("ann", &["import".as_ref(), cases[0].0.as_os_str()]);
    assert!(
        o.stderr.contains("symbolic link") && o.stderr.contains("copy the file into the folder"),
        "{o:?}"
    );
    assert_no_portfolio(&ws);
    assert_eq!(ws.count("SELECT count(*) FROM blobs"), 0);

    // a link that stays inside the folder is fine
    let d = portfolio_folder(
        &ws,
        "link-inside",
        &base.replace("P-HOSTILE-BASE", "P-LINK-OK"),
    );
    std::fs::rename(d.join("evidence/notes.md"), d.join("evidence/real.md")).unwrap();
    symlink("real.md", d.join("evidence/notes.md")).unwrap();
    ws.ok("ann", &["import".as_ref(), d.as_os_str()]);
    assert!(
        ws.ok("ann", &["show", "P-LINK-OK"])
            .contains("Readings every Sunday")
    );
}

#[test]
fn a_refused_folder_does_not_stop_the_others() {
    let ws = portfolio_workspace();
    let good = portfolio_folder(
        &ws,
        "good",
        &base_portfolio().replace("P-HOSTILE-BASE", "P-GOOD"),
    );
    let bad = portfolio_folder(
        &ws,
        "bad",
        &base_portfolio().replace("P-HOSTILE-BASE", "P-BAD").replace(
            "claims: [energy-use, action]",
            "claims: [energy-use, actoin]",
        ),
    );
    let o = ws.run("ann", &["import".as_ref(), ws.path("in").as_os_str()]);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains(&*bad.display().to_string())
            && o.stderr.contains("did you mean `action`"),
        "{o:?}"
    );
    assert!(
        !o.stderr
            .contains(&*good.join("portfolio.yaml").display().to_string()),
        "{o:?}"
    );
    assert_eq!(
        o.stdout.lines().last(),
        Some("imported: 0 rubrics, 1 portfolios (1 new, 0 revised, 0 unchanged), 1 rejected")
    );
    let ids: Vec<String> = ws
        .list("ann")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["P-GOOD"]);
    // an unknown path is explained too
    let o = ws.run("ann", &["import", "no/such/folder"]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("no/such/folder"), "{o:?}");
}

// ---------------------------------------------------------------------------------------------
// Evidence files may hold anything; the terminal sees none of it
// ---------------------------------------------------------------------------------------------

const EVIL: &str = "Before \x1b]0;PWNED-TITLE\x07 title, \x1b]52;c;cm0gLXJmIH4K\x07 clipboard, \
\x1b[2J\x1b[H clear, \x1b[31mred\x1b[0m, \u{202e}gnp.exe bidi, \u{2066}isolate\u{2069}, \
\u{9b}31m C1 CSI, \u{9d}0;c1-title\u{9c}, bell\x07, del\x7f, nul\0, cr\rlone, \
\x1bP dcs \x1b\\, \x1b_apc\x1b\\ After";

/// The same, for command-line arguments (which cannot hold NUL).
fn evil_arg() -> String {
    EVIL.replace('\0', "")
}

fn assert_output_safe(what: &str, out: &str) {
    assert_terminal_safe(what, out.as_bytes());
    assert!(!out.contains("PWNED-TITLE\u{7}"), "{what}");
}

#[test]
fn escape_sequences_in_evidence_files_never_reach_the_terminal() {
    let ws = portfolio_workspace();
    let d = portfolio_folder(
        &ws,
        "evil",
        &base_portfolio().replace("P-HOSTILE-BASE", "P-EVIL"),
    );
    std::fs::write(d.join("evidence/notes.md"), format!("# Notes\n\n{EVIL}\n")).unwrap();
    std::fs::write(d.join("statement.md"), format!("Statement. {EVIL}\n")).unwrap();
    let o = ws.run("ann", &["import".as_ref(), d.as_os_str()]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert_output_safe("import", &(o.stdout + &o.stderr));

    let show = ws.ok("ann", &["show", "P-EVIL"]);
    assert_output_safe("show", &show);
    // the text around the sequences is still there, with a visible mark where they were
    assert!(show.contains("Before") && show.contains("After"), "{show}");
    assert!(show.contains("\u{241b}"), "no escape marker: {show}");
    assert!(show.contains("Statement."), "{show}");

    let json = ws.ok("ann", &["show", "P-EVIL", "--json"]);
    assert_output_safe("show --json", &json);
    // … and the JSON still carries the learner's statement exactly
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["statement"], format!("Statement. {EVIL}\n"));

    // what an assessor types goes the same way
    ws.ok(
        "\x1b]0;evil-user\x07ann",
        &[
            "mark",
            "P-EVIL",
            "--comment",
            &format!("comment {}", evil_arg()),
            "--feedback",
            &format!("energy-use=feedback {}", evil_arg()),
        ],
    );
    for args in [
        vec!["show", "P-EVIL"],
        vec!["show", "P-EVIL", "--json"],
        vec!["list"],
        vec!["list", "--json"],
        vec!["search", "evil", "--json"],
        vec!["search", "Test"],
        vec!["audit", "log"],
        vec!["audit", "log", "P-EVIL"],
        vec!["user", "list"],
    ] {
        let o = ws.run("ann", &args);
        assert_eq!(o.code, Some(0), "{args:?}: {o:?}");
        assert_output_safe(&format!("{args:?}"), &(o.stdout + &o.stderr));
    }
    // and a refusal that echoes what was typed
    let o = ws.run(
        "ann",
        &[
            "mark",
            "P-EVIL",
            "--level",
            &format!("energy-use={}", evil_arg()),
        ],
    );
    assert_clean_refusal(&o);
    assert_output_safe("refusal", &o.stderr);
    let o = ws.run("ann", &["show", &format!("P-{}", evil_arg())]);
    assert_clean_refusal(&o);
    assert_output_safe("refusal", &o.stderr);
}

#[test]
fn binary_evidence_is_listed_not_shown() {
    let ws = portfolio_workspace();
    let d = portfolio_folder(
        &ws,
        "binary",
        &base_portfolio()
            .replace("P-HOSTILE-BASE", "P-BIN")
            .replace("evidence/notes.md", "evidence/scan.md"),
    );
    // a .md that is not UTF-8, full of raw controls
    let bytes: Vec<u8> = (0u8..=255).cycle().take(4096).collect();
    std::fs::write(d.join("evidence/scan.md"), &bytes).unwrap();
    ws.ok("ann", &["import".as_ref(), d.as_os_str()]);
    let show = ws.ok("ann", &["show", "P-BIN"]);
    assert_output_safe("show", &show);
    assert!(show.contains("4096 bytes"), "{show}");
    let e = &ws.show("ann", "P-BIN")["evidence"][0];
    assert_eq!(e["is_text"], false);
    assert_eq!(e["size"], 4096);
}
