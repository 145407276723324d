//! `assay export` end to end on the built binary: OB 3.0 files validated against the official
//! schema, the CSV read back with a CSV reader (formula cells neutralised), the JSON lines
//! round-tripped, batches recorded, idempotence and `--all`.

use std::path::Path;

mod common;

use assay::app::Workspace;
use serde_json::Value;

fn assay(db: &Path, user: &str, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("assay")
        .unwrap()
        .arg("--db")
        .arg(db)
        .args(["--as", user])
        .args(args)
        .output()
        .unwrap()
}

/// `assay export --format FORMAT --out OUT` (and `extra`) as the moderator `mo`.
fn export(db: &Path, format: &str, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["export", "--format", format, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    assay(db, "mo", &args)
}

/// How many export batches the workspace records.
fn batches(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM export_batches", [], |r| r.get(0))
        .unwrap()
}

/// Sample data plus one portfolio whose learner name would be a spreadsheet formula; every
/// home-energy portfolio marked, submitted, drawn, second-marked where drawn, settled, released.
fn released(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("w.db");
    let evil = dir.join("P-FORMULA");
    std::fs::create_dir_all(evil.join("evidence")).unwrap();
    std::fs::write(evil.join("evidence/a.md"), "# Diary\n").unwrap();
    std::fs::write(
        evil.join("portfolio.yaml"),
        "format: assay.portfolio/v1\nid: P-FORMULA\nrubric: sustainable-home-energy\nlearner: {id: L-9, name: \"=HYPERLINK(\\\"http://x\\\")\", email: eve@example.org}\nsubmitted: 2026-01-01\nevidence:\n  - {id: E1, title: \"+Diary\", kind: informal, file: evidence/a.md, date: 2025, claims: [energy-use]}\n",
    )
    .unwrap();
    let mut ann = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ann).unwrap();
    let s = ann.import(&[evil], &mut |_, _| {}).unwrap();
    assert!(s.rejected.is_empty(), "{:?}", s.rejected);
    common::decide_and_release(
        &db,
        &["P-2026-0050", "P-2026-0051", "P-2026-0052", "P-FORMULA"],
    );
    db
}

#[test]
fn every_format_writes_released_decisions_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = released(dir.path());

    // Open Badges: one file per awarded decision, each valid against the official schema.
    let ob = dir.path().join("ob");
    let out = export(&db, "obv3", &ob, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = common::ob_validator();
    let mut files: Vec<_> = std::fs::read_dir(&ob)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["P-2026-0050.json", "P-2026-0051.json", "P-FORMULA.json"],
        "awarded only"
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let errs: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errs.is_empty(), "{}: {errs:?}", f.display());
        assert!(
            !text.contains("eve@example.org") && !text.contains("L-9"),
            "learner in clear"
        );
    }
    // the same decision exported again (--all) gets the same ids
    let first = std::fs::read_to_string(&files[0]).unwrap();
    let again = export(&db, "obv3", &ob, &[]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing new"));
    assert!(export(&db, "obv3", &ob, &["--all"]).status.success());
    assert_eq!(
        std::fs::read_to_string(&files[0]).unwrap(),
        first,
        "stable ids"
    );

    // CSV: every released decision, awarded and not, read back with a CSV reader.
    let csv_path = dir.path().join("d.csv");
    assert!(export(&db, "csv", &csv_path, &[]).status.success());
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    for col in [
        "portfolio",
        "learner_id",
        "learner_name",
        "learner_email",
        "rubric",
        "rubric_version",
        "outcome",
        "grade",
        "score",
        "ects",
        "eqf_level",
        "assessor",
        "moderator",
        "decided_at",
        "released_at",
        "energy-use",
        "measures",
        "action",
        "sharing",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "missing column {col}: {header:?}"
        );
    }
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let evil = rows
        .iter()
        .find(|r| &r[col("portfolio")] == "P-FORMULA")
        .unwrap();
    assert!(
        evil[col("learner_name")].starts_with("'="),
        "formula neutralised: {:?}",
        &evil[col("learner_name")]
    );
    let not_yet = rows
        .iter()
        .find(|r| &r[col("portfolio")] == "P-2026-0052")
        .unwrap();
    assert_eq!(&not_yet[col("outcome")], "not_yet");
    assert_eq!(&not_yet[col("energy-use")], "not-yet");
    for r in &rows {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unsafe cell {cell:?}"
            );
        }
    }

    // JSON lines: one complete record per line that reads back.
    let jl = dir.path().join("d.jsonl");
    assert!(export(&db, "jsonl", &jl, &[]).status.success());
    let text = std::fs::read_to_string(&jl).unwrap();
    let recs: Vec<assay::domain::export::ExportRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 4);
    for (line, rec) in text.lines().zip(&recs) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["rubric"]["sha256"].as_str().unwrap().len(), 64);
        assert_eq!(rec.marks.len(), 4);
        assert!(v["first"]["marks"].is_array());
        // round trip: the record re-serialises to the same fields
        let back = serde_json::to_value(rec).unwrap();
        for (k, val) in back.as_object().unwrap() {
            assert_eq!(&v[k], val, "field {k}");
        }
    }

    // Every export is a batch in the audit chain; decisions moved to exported.
    let log = String::from_utf8(assay(&db, "mo", &["audit", "log"]).stdout).unwrap();
    assert!(log.matches(" export ").count() >= 4, "{log}");
    let list: Value =
        serde_json::from_slice(&assay(&db, "mo", &["list", "--json"]).stdout).unwrap();
    let exported = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "exported")
        .count();
    assert_eq!(exported, 4);
    assert!(assay(&db, "mo", &["audit", "verify"]).status.success());
}

#[test]
fn feedback_letters_show_the_next_level() {
    let dir = tempfile::tempdir().unwrap();
    let db = released(dir.path());
    let out = dir.path().join("letters");
    assert!(export(&db, "feedback", &out, &[]).status.success());
    let letter = std::fs::read_to_string(out.join("P-2026-0052.md")).unwrap();
    assert!(letter.contains("Not yet awarded"), "{letter}");
    // the next level's descriptor of a criterion at not-yet
    assert!(
        letter.contains("Summarises at least three months of readings"),
        "{letter}"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4);
}

/// The export screen's counts are what each export then writes: per format (awarded decisions
/// only for credentials), none once written, per rubric.
#[test]
fn ready_counts_are_what_an_export_writes() {
    use assay::app::export::Format;
    let dir = tempfile::tempdir().unwrap();
    let db = released(dir.path());
    let mut mo = Workspace::open(&db, "mo".into()).unwrap();
    let ready = mo.ready(None).unwrap();
    assert_eq!(ready.len(), Format::ALL.len());
    assert_eq!(mo.ready(Some("sustainable-home-energy")).unwrap(), ready);
    let other = mo.ready(Some("data-literacy-practitioner")).unwrap();
    assert!(other.iter().all(|(_, n)| *n == 0), "{other:?}");
    for (format, n) in ready {
        let out = dir.path().join(format!("out-{}", format.as_str()));
        let done = mo
            .export(format, &out, None, false, false, &mut |_, _| {})
            .unwrap();
        assert_eq!(done.count, n, "{format:?}");
        assert!(n > 0, "{format:?}");
        let after = mo.ready(None).unwrap();
        assert!(after.iter().any(|(f, m)| *f == format && *m == 0));
    }
    assert!(mo.ready(None).unwrap().iter().all(|(_, n)| *n == 0));
}

/// A credential that cannot be written (its name taken by a folder) fails the export: the
/// error says so, the exit status is not zero and no batch is recorded; a second run once the
/// way is clear writes them all.
#[test]
fn a_file_that_cannot_be_written_fails_the_export_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = released(dir.path());
    let ob = dir.path().join("ob");
    std::fs::create_dir_all(ob.join("P-2026-0050.json")).unwrap();
    let out = export(&db, "obv3", &ob, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("P-2026-0050.json"), "{err}");
    assert_eq!(batches(&db), 0, "{err}");
    std::fs::remove_dir(ob.join("P-2026-0050.json")).unwrap();
    let out = export(&db, "obv3", &ob, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ob.join("P-2026-0050.json").is_file());
}

/// A released decision whose first marking is gone (a workspace changed by hand) is not written
/// as a half row: the CSV export refuses, says why, and records (and leaves) nothing.
#[test]
fn csv_export_refuses_a_released_decision_without_its_marking() {
    let dir = tempfile::tempdir().unwrap();
    let db = released(dir.path());
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute(
            "DELETE FROM decisions WHERE phase = 'first' AND portfolio_pk = (SELECT pk FROM portfolios WHERE id = 'P-2026-0051')",
            [],
        )
        .unwrap();
    }
    let csv_path = dir.path().join("out.csv");
    let out = export(&db, "csv", &csv_path, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing recorded"), "{err}");
    assert!(
        !csv_path.exists(),
        "a file was left for an export not recorded"
    );
    assert_eq!(batches(&db), 0);
}
