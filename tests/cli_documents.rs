//! The documents learners send, imported on the built binary: a PDF of three pages (one a
//! picture), a Word document with a table, an OpenDocument text (made with reportlab,
//! python-docx and odfpy: `tests/fixtures/documents/make.py`), pictures; and hostile ones — a
//! PDF whose page tree contains itself, a PDF broken past its header, a DOCX whose
//! relationships point outside, a PNG that says it is 60,000 pixels a side
//! (`make_hostile.py`). Import never hangs or fails on them: the text of each document is
//! kept (or why it could not be taken is), and the record vouches for it.

mod support;

use std::path::PathBuf;

use support::*;

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/documents").join(name)
}

const FILES: [(&str, &str, &str); 9] = [
    ("E1", "report.pdf", "formal"),
    ("E2", "log.docx", "informal"),
    ("E3", "record.odt", "non-formal"),
    ("E4", "meter.png", "informal"),
    ("E5", "site.jpg", "informal"),
    ("E6", "loop.pdf", "informal"),
    ("E7", "broken.pdf", "informal"),
    ("E8", "external.docx", "informal"),
    ("E9", "huge.png", "informal"),
];

fn portfolio(ws: &Ws) -> PathBuf {
    let p = ws.path("P-DOC-1");
    std::fs::create_dir_all(p.join("evidence")).unwrap();
    let mut manifest = String::from(
        "format: assay.portfolio/v1\nid: P-DOC-1\nrubric: data-literacy-practitioner\nlearner: {id: L-77, name: Dana Docherty}\nsubmitted: 2026-05-30\nevidence:\n",
    );
    for (id, f, kind) in FILES {
        std::fs::copy(fixture(f), p.join("evidence").join(f)).unwrap();
        manifest.push_str(&format!(
            "  - {{id: {id}, title: {f}, kind: {kind}, file: evidence/{f}, date: 2026-04, claims: [C1]}}\n"
        ));
    }
    std::fs::write(p.join("portfolio.yaml"), manifest).unwrap();
    p
}

#[test]
fn documents_are_read_and_vouched_for() {
    if support::file_only("it reads and edits the SQLite file's document tables") {
        return;
    }
    let ws = Ws::new();
    ws.ok(
        "lead",
        &["import".into(), rubric_file("data-literacy-practitioner")],
    );
    let p = portfolio(&ws);
    let out = ws.ok("lead", &[std::ffi::OsStr::new("import"), p.as_os_str()]);
    assert!(out.contains("1 new"), "{out}");
    let show = ws.ok("lead", &["show", "P-DOC-1"]);
    // the PDF, page by page, the picture page said
    for want in [
        "text PDF, 3 pages",
        "── page 1 of 3 ──",
        "We measured the loft insulation before and after.",
        "── page 2 of 3 ──",
        "Before: 2.1 kW. After: 1.2 kW.",
        "(no text on this page: a scan or a picture?)",
        // Word, with its table on one line
        "text Word document, 19 words",
        "rows before | 10412",
        // OpenDocument
        "text OpenDocument text, 10 words",
        "Ran the repair café's spreadsheet for a year.",
        // the hostile ones: said plainly
        "PDF: could not extract its text: it has no page that can be read",
        "PDF: could not extract its text:",
    ] {
        assert!(show.contains(want), "missing {want:?} in\n{show}");
    }
    // a DOCX's outside references are never followed: its text is its own
    assert!(!show.contains("root:"), "{show}");
    let j = ws.show("lead", "P-DOC-1");
    let ev = j["evidence"].as_array().unwrap();
    let note = |id: &str| {
        ev.iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .get("text_note")
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(note("E1"), "PDF, 3 pages");
    assert!(note("E4").is_null(), "a picture has no text");
    // search finds a portfolio by the words of its documents (accents and case aside, a word
    // or the start of one), saying where
    let found = ws.ok("lead", &["search", "LOFT insul"]);
    assert!(found.contains("P-DOC-1"), "{found}");
    assert!(found.contains("in E1: "), "{found}");
    assert!(found.contains("[loft] [insulation]"), "{found}");
    let found = ws.ok("lead", &["search", "cafe", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&found).unwrap();
    assert_eq!(v[0]["id"], "P-DOC-1", "{found}");
    assert_eq!(v[0]["evidence"], "E3", "{found}");
    assert!(
        v[0]["excerpt"].as_str().unwrap().contains("[café's]"),
        "{found}"
    );
    let none = ws.ok("lead", &["search", "zzyzx"]);
    assert!(none.contains("no match"), "{none}");
    // the index only proposes: words planted in it behind assay's back are never shown as the
    // learner's (the excerpt is made from the text the record vouches for)
    let c = rusqlite::Connection::open(&ws.db).unwrap();
    c.execute(
        "INSERT INTO document_words (word, portfolio_pk, evidence_id)
         SELECT 'okapi', pk, 'E1' FROM portfolios WHERE id = 'P-DOC-1'",
        [],
    )
    .unwrap();
    drop(c);
    let planted = ws.ok("lead", &["search", "okapi"]);
    assert!(planted.contains("no match"), "{planted}");
    // and verify finds the planted word: the index is rebuilt from the vouched texts
    let o = ws.run("lead", &["audit", "verify"]);
    assert_eq!(o.code, Some(1), "{o:?}");
    assert!(
        o.stderr.contains("document_words row (word `okapi`"),
        "{}",
        o.stderr
    );
    let c = rusqlite::Connection::open(&ws.db).unwrap();
    c.execute("DELETE FROM document_words WHERE word = 'okapi'", [])
        .unwrap();
    drop(c);
    // the record vouches for the texts: an edit of one is found
    ws.ok("lead", &["audit", "verify"]);
    let c = rusqlite::Connection::open(&ws.db).unwrap();
    c.execute(
        "UPDATE blobs SET data = CAST(replace(CAST(data AS TEXT), '2.1 kW', '0.1 kW') AS BLOB)
         WHERE sha256 = (SELECT text_sha FROM evidence WHERE id = 'E1')",
        [],
    )
    .unwrap();
    drop(c);
    let o = ws.run("lead", &["audit", "verify"]);
    assert_eq!(o.code, Some(1), "{o:?}");
    assert!(o.stderr.contains("blobs row"), "{}", o.stderr);
}

/// A PDF that hangs the reader is stopped after its time and one that crashes it is said so;
/// the import goes on with the next PDF (a new reader), and nothing hangs. (The two PDFs are
/// recognised by debug builds only, as tests' stand-ins for a parser that loops or dies.)
#[test]
fn a_pdf_that_hangs_or_crashes_the_reader_does_not_stop_import() {
    let ws = Ws::new();
    ws.ok(
        "lead",
        &["import".into(), rubric_file("data-literacy-practitioner")],
    );
    let p = ws.path("P-HANG");
    std::fs::create_dir_all(p.join("e")).unwrap();
    std::fs::write(p.join("e/hang.pdf"), b"%PDF-assay-test-hang\n").unwrap();
    std::fs::write(p.join("e/crash.pdf"), b"%PDF-assay-test-crash\n").unwrap();
    std::fs::copy(fixture("report.pdf"), p.join("e/report.pdf")).unwrap();
    std::fs::write(
        p.join("portfolio.yaml"),
        "format: assay.portfolio/v1\nid: P-HANG\nrubric: data-literacy-practitioner\nlearner: {id: L-1, name: Hang Test}\nsubmitted: 2026-05-30\nevidence:\n  - {id: E1, title: Hangs, kind: formal, file: e/hang.pdf, date: 2026-04, claims: [C1]}\n  - {id: E2, title: Crashes, kind: formal, file: e/crash.pdf, date: 2026-04, claims: [C1]}\n  - {id: E3, title: Report, kind: formal, file: e/report.pdf, date: 2026-04, claims: [C1]}\n",
    )
    .unwrap();
    // (a hang would be stopped by the harness's 60 s limit on the command, and fail)
    let out = ws.ok("lead", &[std::ffi::OsStr::new("import"), p.as_os_str()]);
    assert!(out.contains("1 new"), "{out}");
    let show = ws.ok("lead", &["show", "P-HANG"]);
    assert!(
        show.contains("could not extract its text: reading it took more than 10 s"),
        "{show}"
    );
    assert!(
        show.contains("could not extract its text: the PDF reader stopped"),
        "{show}"
    );
    assert!(show.contains("text PDF, 3 pages"), "{show}");
    ws.ok("lead", &["audit", "verify"]);
}
