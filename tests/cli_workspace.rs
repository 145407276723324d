//! The workspace database through the built binary: where it lives, who works in it, importing,
//! listing, searching, first marking, people and allocation, and the audit history.
//! Issue "workspace database".

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::*;

const ALL_ACHIEVED: [(&str, &str); 4] = [
    ("energy-use", "achieved"),
    ("measures", "achieved"),
    ("action", "achieved"),
    ("sharing", "achieved"),
];

/// P-2026-0048 as its evidence reads: polished charts (merit), an accessible palette
/// (distinction), no reproducible pipeline and no testing with readers. The score passes; the
/// required `pipeline` criterion does not.
const P48_LEVELS: [(&str, &str); 6] = [
    ("chart-accuracy", "merit"),
    ("encoding-choice", "merit"),
    ("accessibility", "distinction"),
    ("pipeline", "insufficient"),
    ("audience", "merit"),
    ("user-evaluation", "insufficient"),
];

// ---------------------------------------------------------------------------------------------
// Where the workspace is and who is working
// ---------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn database_is_created_readable_by_its_owner_only() {
    if support::file_only("it checks the file's mode") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    assert!(!ws.db.exists());
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    let mode = std::fs::metadata(&ws.db).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "database mode {:o}", mode & 0o777);
    // SQLite's side files take the database's permissions.
    for side in ["w.db-wal", "w.db-shm"] {
        let p = ws.path(side);
        if p.exists() {
            let m = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(
                m & 0o077,
                0,
                "{side} is readable by others: {:o}",
                m & 0o777
            );
        }
    }
}

#[test]
fn db_flag_beats_env_which_beats_the_current_folder() {
    let ws = Ws::new();
    let flag = ws.path("flag.db");
    let env = ws.path("env.db");
    let rubric = rubric_file("sustainable-home-energy");

    // --db wins over ASSAY_DB (an import makes the workspace where it is told)
    let mut c = ws.bare();
    c.env("ASSAY_DB", &env)
        .arg("--db")
        .arg(&flag)
        .args(["--as", "ann", "import"])
        .arg(&rubric);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(flag.exists());
    assert!(!env.exists());

    // ASSAY_DB when there is no --db
    let mut c = ws.bare();
    c.env("ASSAY_DB", &env)
        .args(["--as", "ann", "import"])
        .arg(&rubric);
    assert_eq!(Ws::exec(c).code, Some(0));
    assert!(env.exists());
    assert!(!ws.path("assay.db").exists());

    // ./assay.db when there is neither; a reading command there makes no workspace
    let mut c = ws.bare();
    c.args(["--as", "ann", "list"]);
    let o = Ws::exec(c);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("no workspace at assay.db"), "{o:?}");
    assert!(!ws.path("assay.db").exists());
    let mut c = ws.bare();
    c.args(["--as", "ann", "import"]).arg(&rubric);
    assert_eq!(Ws::exec(c).code, Some(0));
    assert!(ws.path("assay.db").exists());

    // global options are accepted after the command too
    let mut c = ws.bare();
    c.args(["list", "--json", "--db"])
        .arg(&flag)
        .args(["--as", "ann"]);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert_eq!(o.stdout.trim(), "[]");
}

#[test]
fn as_flag_beats_assay_user() {
    if support::file_only("on a server the person is the login (tested in tests/backends.rs)") {
        return;
    }
    let ws = Ws::new();
    ws.import_some(
        "ann",
        &["sustainable-home-energy"],
        &["P-2026-0050", "P-2026-0051", "P-2026-0052"],
    );
    // --as wins over ASSAY_USER
    let mut c = ws.bare();
    c.env("ASSAY_USER", "from-env")
        .arg("--db")
        .arg(&ws.db)
        .args(["mark", "P-2026-0050", "--level", "energy-use=achieved"])
        .args(["--as", "from-flag"]);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");
    // ASSAY_USER when there is no --as
    let mut c = ws.bare();
    c.env("ASSAY_USER", "from-env")
        .arg("--db")
        .arg(&ws.db)
        .args(["mark", "P-2026-0051", "--level", "energy-use=achieved"]);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");

    // the login name when there is neither
    let mut c = ws.bare();
    c.env("USER", "from-login")
        .env("LOGNAME", "from-login")
        .arg("--db")
        .arg(&ws.db)
        .args(["mark", "P-2026-0052", "--level", "energy-use=achieved"]);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");

    assert_eq!(ws.row("x", "P-2026-0050")["assessor"], "from-flag");
    assert_eq!(ws.row("x", "P-2026-0051")["assessor"], "from-env");
    assert_eq!(ws.row("x", "P-2026-0052")["assessor"], "from-login");
    let log = ws.ok("x", &["audit", "log", "P-2026-0051"]);
    assert!(log.contains("from-env"), "{log}");
    assert!(!log.contains("from-flag"), "{log}");
}

#[test]
fn a_database_from_a_newer_assay_is_refused() {
    if support::file_only("it writes the file's user_version (tested in tests/backends.rs)") {
        return;
    }
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    {
        let c = rusqlite::Connection::open(&ws.db).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        c.pragma_update(None, "user_version", v + 1).unwrap();
    }
    for args in [
        vec!["list"],
        vec!["show", "P-2026-0051"],
        vec!["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    ] {
        let err = ws.refused("ann", &args);
        assert!(
            err.contains("newer assay") && err.contains(&*ws.db.to_string_lossy()),
            "{args:?}: {err}"
        );
    }
    // nothing was changed by the refused commands
    let c = rusqlite::Connection::open(&ws.db).unwrap();
    let marks: i64 = c
        .query_row("SELECT count(*) FROM marks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(marks, 0);
}

// ---------------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------------

#[test]
fn import_prints_the_summary_and_reimporting_unchanged_changes_nothing() {
    let ws = Ws::new();
    let args = [
        std::ffi::OsString::from("import"),
        rubrics_dir().into_os_string(),
        samples_dir().into_os_string(),
    ];
    let out = ws.ok("ann", &args);
    assert_eq!(
        out.lines().last(),
        Some("imported: 3 rubrics, 12 portfolios (12 new, 0 revised, 0 unchanged), 0 rejected"),
        "{out}"
    );
    let records = ws.audit_len();
    let revisions = ws.count("SELECT count(*) FROM revisions");
    // the workspace's own first record, then one a rubric and one a portfolio
    assert_eq!(records, 1 + 3 + 12);
    assert_eq!(revisions, 12);

    let out = ws.ok("ann", &args);
    assert_eq!(
        out.lines().last(),
        Some("imported: 3 rubrics, 12 portfolios (0 new, 0 revised, 12 unchanged), 0 rejected"),
        "{out}"
    );
    assert_eq!(
        ws.audit_len(),
        records,
        "an unchanged import wrote audit records"
    );
    assert_eq!(ws.count("SELECT count(*) FROM revisions"), revisions);
    assert_eq!(ws.count("SELECT count(*) FROM rubrics"), 3);
    assert!(ws.list("ann").iter().all(|r| r["status"] == "new"));
}

#[test]
fn a_changed_evidence_file_is_a_new_revision_flagged_once_marking_began() {
    let ws = Ws::new();
    let p50 = ws.path("in/P-2026-0050");
    let p51 = ws.path("in/P-2026-0051");
    copy_dir(&sample("P-2026-0050"), &p50);
    copy_dir(&sample("P-2026-0051"), &p51);
    ws.ok(
        "ann",
        &[
            "import".as_ref(),
            rubric_file("sustainable-home-energy").as_os_str(),
            ws.path("in").as_os_str(),
        ],
    );
    ws.ok(
        "ann",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    assert_eq!(ws.show("ann", "P-2026-0051")["revision"], 1);

    let append = |p: &PathBuf, rel: &str, text: &str| {
        let f = p.join(rel);
        let mut s = std::fs::read_to_string(&f).unwrap();
        s.push_str(text);
        std::fs::write(f, s).unwrap();
    };
    append(
        &p50,
        "evidence/action-plan.md",
        "\nAdded later: REVISED-0050\n",
    );
    append(
        &p51,
        "evidence/bills-summary.md",
        "\nAdded later: REVISED-0051\n",
    );

    let o = ws.run("ann", &["import".as_ref(), ws.path("in").as_os_str()]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert_eq!(
        o.stdout.lines().last(),
        Some("imported: 0 rubrics, 2 portfolios (0 new, 2 revised, 0 unchanged), 0 rejected")
    );
    assert!(
        o.stderr.contains("P-2026-0051") && o.stderr.contains("evidence changed"),
        "{o:?}"
    );
    assert!(!o.stderr.contains("P-2026-0050"), "{o:?}");

    let row51 = ws.row("ann", "P-2026-0051");
    assert_eq!(row51["evidence_changed"], true);
    assert_eq!(row51["status"], "in_progress");
    let show51 = ws.show("ann", "P-2026-0051");
    assert_eq!(show51["portfolio"]["evidence_changed"], true);
    assert_eq!(show51["revision"], 2);
    // the assessment is kept
    let marks = show51["first"]["marks"].as_array().unwrap();
    assert!(
        marks
            .iter()
            .any(|m| m["criterion"] == "energy-use" && m["level"] == "achieved"),
        "{marks:?}"
    );
    // the new text is what is shown
    assert!(
        ws.ok("ann", &["show", "P-2026-0051"])
            .contains("REVISED-0051")
    );
    assert!(
        ws.ok("ann", &["show", "P-2026-0051"])
            .contains("evidence changed since marking began")
    );

    // not started: revised, not flagged
    let row50 = ws.row("ann", "P-2026-0050");
    assert_eq!(row50["evidence_changed"], false);
    assert_eq!(ws.show("ann", "P-2026-0050")["revision"], 2);
    assert!(
        ws.ok("ann", &["show", "P-2026-0050"])
            .contains("REVISED-0050")
    );
    assert_eq!(ws.count("SELECT count(*) FROM revisions"), 4);
}

#[test]
fn same_rubric_bytes_are_a_no_op_and_changed_bytes_need_a_new_version() {
    let ws = Ws::new();
    let original = std::fs::read_to_string(rubric_file("sustainable-home-energy")).unwrap();
    let file = ws.path("energy.yaml");
    std::fs::write(&file, &original).unwrap();
    let import = |f: &PathBuf| ws.run("ann", &["import".as_ref(), f.as_os_str()]);

    assert_eq!(import(&file).code, Some(0));
    let records = ws.audit_len();
    // the workspace's own first record, and the rubric's
    assert_eq!(records, 2);

    // the same bytes again: nothing changes
    let o = import(&file);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert_eq!(ws.audit_len(), records);
    assert_eq!(ws.count("SELECT count(*) FROM rubrics"), 1);

    // other bytes under the same (id, version): refused, asking for a new version
    let changed = original.replace(
        "title: Sustainable Home Energy",
        "title: Sustainable Home Energy (edited)",
    );
    assert_ne!(changed, original);
    std::fs::write(&file, &changed).unwrap();
    let o = import(&file);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains(&*file.to_string_lossy())
            && o.stderr.contains("new `version`")
            && o.stderr.contains("sustainable-home-energy"),
        "{o:?}"
    );
    assert!(o.stdout.contains("1 rejected"), "{o:?}");
    assert_eq!(ws.audit_len(), records);
    let shown = ws.ok("ann", &["rubric", "show", "sustainable-home-energy@2026.1"]);
    assert!(!shown.contains("(edited)"), "{shown}");

    // with a new version it is a new rubric beside the old
    std::fs::write(
        &file,
        changed.replace("version: \"2026.1\"", "version: \"2026.2\""),
    )
    .unwrap();
    assert_eq!(import(&file).code, Some(0));
    assert_eq!(ws.count("SELECT count(*) FROM rubrics"), 2);
    assert!(
        ws.ok("ann", &["rubric", "show", "sustainable-home-energy@2026.2"])
            .contains("(edited)")
    );
}

#[test]
fn evidence_is_read_from_the_database_after_the_folder_is_gone() {
    let ws = Ws::new();
    let folder = ws.path("copy/P-2026-0051");
    copy_dir(&sample("P-2026-0051"), &folder);
    let evidence_line = std::fs::read_to_string(folder.join("evidence/bills-summary.md"))
        .unwrap()
        .lines()
        .map(str::trim)
        .find(|l| l.len() > 30)
        .unwrap()
        .to_string();
    let statement_line = std::fs::read_to_string(folder.join("statement.md"))
        .unwrap()
        .lines()
        .map(str::trim)
        .find(|l| l.len() > 30)
        .unwrap()
        .to_string();
    ws.ok(
        "ann",
        &[
            "import".as_ref(),
            rubric_file("sustainable-home-energy").as_os_str(),
            folder.as_os_str(),
        ],
    );
    std::fs::remove_dir_all(ws.path("copy")).unwrap();
    let out = ws.ok("ann", &["show", "P-2026-0051"]);
    assert!(
        out.contains(&evidence_line),
        "{evidence_line:?} not in\n{out}"
    );
    assert!(
        out.contains(&statement_line),
        "{statement_line:?} not in\n{out}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading: list and search
// ---------------------------------------------------------------------------------------------

#[test]
fn list_json_has_the_contract_keys() {
    let ws = Ws::new();
    ws.import_samples("ann");
    let rows = ws.list("ann");
    assert_eq!(rows.len(), 12);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    for r in &rows {
        for k in [
            "id",
            "learner_id",
            "learner_name",
            "rubric",
            "rubric_version",
            "status",
            "assessor",
            "outcome",
            "grade",
            "score",
        ] {
            assert!(r.get(k).is_some(), "key {k} missing: {r}");
        }
        for k in [
            "id",
            "learner_id",
            "learner_name",
            "rubric",
            "rubric_version",
        ] {
            assert!(r[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {r}");
        }
        assert_eq!(r["status"], "new");
        for k in ["assessor", "outcome", "grade", "score"] {
            assert!(r[k].is_null(), "{k}: {r}");
        }
    }
    let r = rows.iter().find(|r| r["id"] == "P-2026-0051").unwrap();
    assert_eq!(r["learner_id"], "L-1412");
    assert_eq!(r["learner_name"], "Marta Kovačević");
    assert_eq!(r["rubric"], "sustainable-home-energy");
    assert_eq!(r["rubric_version"], "2026.1");

    ws.mark_submit("ann", "P-2026-0051", &ALL_ACHIEVED, &ENERGY_GATES);
    let r = ws.row("ann", "P-2026-0051");
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["assessor"], "ann");
    assert_eq!(r["outcome"], "awarded");
    assert_eq!(r["grade"], "Achieved");
    assert_eq!(r["score"], 50.0);

    // filters
    let submitted = ws.json("ann", &["list", "--json", "--status", "submitted"]);
    assert_eq!(submitted.as_array().unwrap().len(), 1);
    let energy = ws.json(
        "ann",
        &["list", "--json", "--rubric", "sustainable-home-energy"],
    );
    assert_eq!(energy.as_array().unwrap().len(), 3);
    let err = ws.refused("ann", &["list", "--status", "finished"]);
    assert!(err.contains("in_progress"), "{err}");
}

#[test]
fn search_finds_learners_by_fuzzy_fragments_best_first() {
    let ws = Ws::new();
    ws.import_samples("ann");
    let hits = |q: &str, limit: Option<&str>| -> Vec<Value> {
        let mut args = vec!["search", q, "--json"];
        if let Some(l) = limit {
            args.extend(["--limit", l]);
        }
        ws.json("ann", &args).as_array().unwrap().clone()
    };
    // accents are optional, letters may be skipped
    for q in ["kovacevic", "Kovačević", "kvcvc", "marta kov"] {
        let h = hits(q, None);
        assert_eq!(
            h.first().map(|r| &r["id"]),
            Some(&Value::from("P-2026-0051")),
            "{q}: {h:?}"
        );
    }
    let h = hits("popescu", None);
    assert_eq!(h[0]["id"], "P-2026-0048");
    assert_eq!(h[0]["learner_name"], "Dragoș Popescu");
    // best first
    let h = hits("data", None);
    assert!(h.len() > 1);
    let scores: Vec<i64> = h.iter().map(|r| r["match"].as_i64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // the limit
    assert_eq!(hits("data", Some("2")).len(), 2);
    assert_eq!(hits("data", Some("1"))[0]["id"], h[0]["id"]);
    // learner ids, portfolio ids and evidence titles
    assert_eq!(hits("L-1412", None)[0]["id"], "P-2026-0051");
    assert_eq!(hits("P-2026-0046", None)[0]["id"], "P-2026-0046");
    // nothing
    assert!(hits("zzzzqqqxxx", None).is_empty());
    let text = ws.ok("ann", &["search", "kovacevic", "--limit", "1"]);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("P-2026-0051"), "{text}");
}

#[test]
fn an_older_workspace_gets_the_folded_search_text_when_opened() {
    if support::file_only("it rewrites an SQLite schema") {
        return;
    }
    let ws = Ws::new();
    ws.import_samples("ann");
    let folded: String = ws
        .sql()
        .query_row(
            "SELECT s.text FROM search s JOIN portfolios p ON p.pk = s.portfolio_pk WHERE p.id = 'P-2026-0051'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        folded.is_ascii() && folded.contains("Marta Kovacevic"),
        "{folded}"
    );
    // Schema 3 kept the text as written and its folded copy; put one back and open the
    // workspace with this assay.
    {
        let c = rusqlite::Connection::open(&ws.db).unwrap();
        c.execute_batch(
            "UPDATE search SET text = 'P-2026-0051 L-1412 Marta Kovačević … P-2026-0051 L-1412 Marta Kovacevic ...'
             WHERE portfolio_pk = (SELECT pk FROM portfolios WHERE id = 'P-2026-0051');
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let h = ws.json("ann", &["search", "Kovačević", "--json"]);
    assert_eq!(h[0]["id"], "P-2026-0051", "{h}");
    let (text, version): (String, i64) = ws
        .sql()
        .query_row(
            "SELECT s.text, (SELECT user_version FROM pragma_user_version) FROM search s
             JOIN portfolios p ON p.pk = s.portfolio_pk WHERE p.id = 'P-2026-0051'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(text, folded);
    assert!(version >= 4);
    assert_eq!(
        ws.count("SELECT count(*) FROM search"),
        ws.count("SELECT count(*) FROM portfolios")
    );
    ws.ok("ann", &["audit", "verify"]);
}

// ---------------------------------------------------------------------------------------------
// First marking
// ---------------------------------------------------------------------------------------------

fn first(ws: &Ws, id: &str) -> Value {
    ws.show("ann", id)["first"].clone()
}

/// The first marker's mark of one criterion (`null` when there is none).
fn mark_of(ws: &Ws, id: &str, criterion: &str) -> Value {
    first(ws, id)["marks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["criterion"] == criterion)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn mark_saves_each_option_as_given() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    let id = "P-2026-0051";
    let before = ws.audit_len();

    ws.ok("ann", &["mark", id, "--level", "energy-use=achieved"]);
    assert_eq!(ws.row("ann", id)["status"], "in_progress");
    assert_eq!(ws.row("ann", id)["assessor"], "ann");
    let f = first(&ws, id);
    assert_eq!(f["marks"][0]["criterion"], "energy-use");
    assert_eq!(f["marks"][0]["level"], "achieved");
    assert!(f["decision"].is_null());

    // a level by its number from the lowest
    ws.ok("ann", &["mark", id, "--level", "measures=3"]);
    ws.ok("ann", &["mark", id, "--gate", "identity"]);
    ws.ok(
        "ann",
        &["mark", id, "--feedback", "energy-use=Clear kWh summary."],
    );
    ws.ok(
        "ann",
        &["mark", id, "--comment", "A careful renter's plan."],
    );
    let f = first(&ws, id);
    let level_of = |c: &str| mark_of(&ws, id, c);
    assert_eq!(level_of("measures")["level"], "well-achieved");
    assert_eq!(level_of("energy-use")["feedback"], "Clear kWh summary.");
    assert_eq!(level_of("energy-use")["level"], "achieved");
    assert_eq!(f["gates"], serde_json::json!(["identity"]));
    assert_eq!(f["comment"], "A careful renter's plan.");
    assert_eq!(ws.row("ann", id)["status"], "in_progress");

    // each option is one audit record (plus the status change of the first)
    let log = ws.ok("ann", &["audit", "log", id]);
    for action in [
        "mark.level",
        "mark.gate",
        "mark.feedback",
        "mark.comment",
        "status",
    ] {
        assert!(log.contains(action), "{action} not in\n{log}");
    }
    assert_eq!(ws.audit_len(), before + 6);

    // a gate withdrawn
    ws.ok("ann", &["mark", id, "--gate", "identity=no"]);
    assert_eq!(first(&ws, id)["gates"], serde_json::json!([]));

    // every option is checked before any is saved
    let n = ws.audit_len();
    let err = ws.refused(
        "ann",
        &[
            "mark",
            id,
            "--level",
            "action=achieved",
            "--level",
            "sharing=brilliant",
            "--gate",
            "moon",
        ],
    );
    assert!(
        err.contains("brilliant") && err.contains("not-yet, achieved, well-achieved"),
        "{err}"
    );
    assert!(err.contains("moon") && err.contains("identity"), "{err}");
    assert_eq!(ws.audit_len(), n);
    assert!(level_of("action").is_null());
    let err = ws.refused("ann", &["mark", id, "--level", "nosuch=1"]);
    assert!(
        err.contains("energy-use, measures, action, sharing"),
        "{err}"
    );
    let err = ws.refused("ann", &["mark", "P-9999", "--level", "energy-use=1"]);
    assert!(
        err.contains("P-9999") && err.contains("assay list"),
        "{err}"
    );
    assert_eq!(ws.audit_len(), n);
}

#[test]
fn a_change_that_changes_nothing_begins_nothing() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0050"]);
    let id = "P-2026-0050";
    let n = ws.audit_len();
    for args in [
        vec!["mark", id, "--gate", "identity=no"],
        vec!["mark", id, "--feedback", "energy-use="],
        vec!["mark", id, "--comment", " "],
    ] {
        // (on a server, nobody unregistered acts but the database's owner)
        ws.ok(if support::on_server() { "ann" } else { "zed" }, &args);
    }
    assert_eq!(ws.audit_len(), n);
    assert_eq!(ws.row("ann", id)["status"], "new");
    assert!(first(&ws, id)["marker"].is_null());
    assert_eq!(ws.count("SELECT count(*) FROM assessments"), 0);
    // so it is not locked to zed: someone else may begin it
    if support::on_server() {
        ws.ok("ann", &["user", "add", "bob", "--role", "assessor"]);
    }
    ws.ok("bob", &["mark", id, "--level", "energy-use=achieved"]);
    assert_eq!(ws.row("ann", id)["assessor"], "bob");
}

#[test]
fn submit_with_a_criterion_unmarked_records_nothing() {
    let ws = Ws::new();
    ws.import_some(
        "ann",
        &["sustainable-home-energy"],
        &["P-2026-0050", "P-2026-0051"],
    );
    // in progress, one criterion short
    ws.ok(
        "ann",
        &[
            "mark",
            "P-2026-0051",
            "--level",
            "energy-use=achieved",
            "--level",
            "measures=achieved",
            "--level",
            "action=achieved",
        ],
    );
    let n = ws.audit_len();
    let err = ws.refused("ann", &["mark", "P-2026-0051", "--submit"]);
    assert!(err.contains("sharing"), "{err}");
    assert_eq!(ws.audit_len(), n);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "in_progress");
    assert!(ws.row("ann", "P-2026-0051")["outcome"].is_null());
    assert!(first(&ws, "P-2026-0051")["decision"].is_null());
    assert_eq!(ws.count("SELECT count(*) FROM decisions"), 0);

    // not started at all
    let err = ws.refused("ann", &["mark", "P-2026-0050", "--submit"]);
    assert!(err.contains("energy-use"), "{err}");
    assert_eq!(ws.audit_len(), n);
    assert_eq!(ws.row("ann", "P-2026-0050")["status"], "new");
    assert_eq!(ws.count("SELECT count(*) FROM decisions"), 0);
}

#[test]
fn exactly_at_the_pass_mark_is_awarded() {
    let ws = Ws::new();
    ws.import_some(
        "ann",
        &["sustainable-home-energy"],
        &["P-2026-0050", "P-2026-0051"],
    );
    let out = ws.mark_submit("ann", "P-2026-0051", &ALL_ACHIEVED, &ENERGY_GATES);
    assert!(out.contains("awarded"), "{out}");
    let r = ws.row("ann", "P-2026-0051");
    assert_eq!(r["status"], "submitted");
    assert_eq!(r["outcome"], "awarded");
    assert_eq!(r["grade"], "Achieved");
    assert_eq!(r["score"], 50.0);
    let d = &first(&ws, "P-2026-0051")["decision"];
    assert_eq!(d["outcome"], "awarded");
    assert_eq!(d["computed"], "awarded");
    assert_eq!(d["kind"], "rule");
    assert_eq!(d["borderline"], true);
    assert_eq!(d["by"], "ann");

    // the same marks with a gate unconfirmed do not pass
    ws.mark_submit("ann", "P-2026-0050", &ALL_ACHIEVED, &ENERGY_GATES[..3]);
    let r = ws.row("ann", "P-2026-0050");
    assert_eq!(r["outcome"], "not_yet");
    assert!(r["grade"].is_null());
}

#[test]
fn a_required_criterion_below_meeting_fails_a_passing_score() {
    let ws = Ws::new();
    ws.import_some("ann", &["applied-data-visualisation"], &["P-2026-0048"]);
    let out = ws.mark_submit("ann", "P-2026-0048", &P48_LEVELS, &VIS_GATES);
    assert!(out.contains("not_yet") && out.contains("pipeline"), "{out}");
    let r = ws.row("ann", "P-2026-0048");
    assert_eq!(r["outcome"], "not_yet");
    assert!(r["grade"].is_null());
    // 11 of 24 weighted points: above the pass mark of 40
    let score = r["score"].as_f64().unwrap();
    assert!((score - 100.0 * 11.0 / 24.0).abs() < 0.01, "{score}");
    assert!(score > 40.0);
    let d = &first(&ws, "P-2026-0048")["decision"];
    assert_eq!(d["computed"], "not_yet");
    assert_eq!(d["kind"], "rule");
}

#[test]
fn a_referral_needs_a_rationale() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0050"]);
    let id = "P-2026-0050";
    ws.ok("ann", &["mark", id, "--level", "energy-use=achieved"]);
    let n = ws.audit_len();

    // without --submit: the choice alone is refused and not saved
    let err = ws.refused("ann", &["mark", id, "--outcome", "referred"]);
    assert!(err.contains("rationale"), "{err}");
    assert_eq!(ws.audit_len(), n);
    assert!(first(&ws, id)["choice"].is_null());

    // with --submit and every level: refused, no decision
    let mut args: Vec<String> = vec!["mark".into(), id.into()];
    for (c, l) in ALL_ACHIEVED {
        args.extend(["--level".into(), format!("{c}={l}")]);
    }
    for g in ENERGY_GATES {
        args.extend(["--gate".into(), g.into()]);
    }
    let mut no_rationale = args.clone();
    no_rationale.extend(["--outcome".into(), "referred".into(), "--submit".into()]);
    let err = ws.refused("ann", &no_rationale);
    assert!(err.contains("rationale"), "{err}");
    assert!(first(&ws, id)["decision"].is_null());
    assert_eq!(ws.row("ann", id)["status"], "in_progress");
    assert!(first(&ws, id)["choice"].is_null());
    let blank = ws.refused(
        "ann",
        &[
            "mark",
            id,
            "--outcome",
            "referred",
            "--rationale",
            "  ",
            "--submit",
        ],
    );
    assert!(blank.contains("rationale"), "{blank}");
    assert!(first(&ws, id)["decision"].is_null());

    // with a rationale
    let mut with = args.clone();
    with.extend([
        "--outcome".into(),
        "referred".into(),
        "--rationale".into(),
        "The diary repeats another learner's figures.".into(),
        "--submit".into(),
    ]);
    ws.ok("ann", &with);
    let d = &first(&ws, id)["decision"];
    assert_eq!(d["kind"], "referred");
    assert_eq!(d["outcome"], "referred");
    assert_eq!(d["computed"], "awarded");
    assert_eq!(
        d["rationale"],
        "The diary repeats another learner's figures."
    );
    assert_eq!(ws.row("ann", id)["outcome"], "referred");
    assert_eq!(ws.row("ann", id)["status"], "submitted");
}

#[test]
fn an_override_is_recorded_as_one() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0052"]);
    let mut args = vec!["mark".to_string(), "P-2026-0052".into()];
    for (c, l) in ALL_ACHIEVED {
        args.extend(["--level".into(), format!("{c}={l}")]);
    }
    for g in ENERGY_GATES {
        args.extend(["--gate".into(), g.into()]);
    }
    let mut bare = args.clone();
    bare.extend(["--outcome".into(), "not_yet".into(), "--submit".into()]);
    ws.refused("ann", &bare);
    assert_eq!(ws.count("SELECT count(*) FROM decisions"), 0);
    args.extend([
        "--outcome".into(),
        "not_yet".into(),
        "--rationale".into(),
        "The action was carried out by a contractor without the learner.".into(),
        "--submit".into(),
    ]);
    ws.ok("ann", &args);
    let d = &first(&ws, "P-2026-0052")["decision"];
    assert_eq!(d["kind"], "override");
    assert_eq!(d["computed"], "awarded");
    assert_eq!(d["outcome"], "not_yet");
    assert!(d["grade"].is_null());
}

#[test]
fn a_submitted_decision_is_frozen_for_its_assessor() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    ws.mark_submit("ann", "P-2026-0051", &ALL_ACHIEVED, &ENERGY_GATES);
    let n = ws.audit_len();
    let before = first(&ws, "P-2026-0051");
    for args in [
        vec!["mark", "P-2026-0051", "--level", "energy-use=not-yet"],
        vec!["mark", "P-2026-0051", "--gate", "identity=no"],
        vec!["mark", "P-2026-0051", "--comment", "second thoughts"],
        vec!["mark", "P-2026-0051", "--feedback", "sharing=more"],
        vec!["mark", "P-2026-0051", "--submit"],
    ] {
        let err = ws.refused("ann", &args);
        assert!(err.contains("submitted") && err.contains("reopen"), "{err}");
    }
    assert_eq!(ws.audit_len(), n);
    assert_eq!(first(&ws, "P-2026-0051"), before);
    assert_eq!(ws.row("ann", "P-2026-0051")["outcome"], "awarded");
}

// ---------------------------------------------------------------------------------------------
// People and allocation
// ---------------------------------------------------------------------------------------------

#[test]
fn people_act_only_in_their_roles_once_anyone_is_registered() {
    let ws = Ws::new();
    ws.import_samples("zed");
    // open workspace: anyone does anything
    ws.ok(
        "zed",
        &["mark", "P-2026-0050", "--level", "energy-use=achieved"],
    );
    assert!(
        ws.ok("zed", &["user", "list"])
            .contains("nobody is registered")
    );

    // the first person registered may be anyone, registered by anyone
    ws.ok("zed", &["user", "add", "ann", "--role", "lead"]);
    // after that only a lead registers
    let err = ws.refused("zed", &["user", "add", "bob", "--role", "assessor"]);
    assert!(err.contains("lead"), "{err}");
    ws.ok("ann", &["user", "add", "bob", "--role", "assessor"]);
    ws.ok("ann", &["user", "add", "mo", "--role", "moderator"]);
    let err = ws.refused("bob", &["user", "add", "eve", "--role", "lead"]);
    assert!(err.contains("only a lead"), "{err}");
    let err = ws.refused("mo", &["user", "add", "bob", "--role", "lead"]);
    assert!(err.contains("only a lead"), "{err}");
    let users = ws.ok("ann", &["user", "list"]);
    assert!(
        users.contains("ann")
            && users.contains("bob")
            && users.contains("mo")
            && !users.contains("eve"),
        "{users}"
    );

    // unregistered people no longer act (zed even on the portfolio zed began)
    let n = ws.audit_len();
    let err = ws.refused(
        "zed",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    assert!(err.contains("not registered"), "{err}");
    let err = ws.refused(
        "zed",
        &["mark", "P-2026-0050", "--level", "measures=achieved"],
    );
    assert!(err.contains("not registered"), "{err}");
    // a moderator does not first-mark
    let err = ws.refused(
        "mo",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    assert!(err.contains("moderator"), "{err}");
    assert_eq!(ws.audit_len(), n);
    // an assessor does, and a lead does
    ws.ok(
        "bob",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    ws.ok(
        "ann",
        &["mark", "P-2026-0052", "--level", "energy-use=achieved"],
    );

    // an assessor does not draw samples, allocate, release or reopen
    ws.mark_submit("bob", "P-2026-0051", &ALL_ACHIEVED, &ENERGY_GATES);
    let n = ws.audit_len();
    let err = ws.refused("bob", &["moderation", "sample", "--seed", "1"]);
    assert!(err.contains("assessor"), "{err}");
    ws.refused("bob", &["assign", "P-2026-0041", "--to", "bob"]);
    ws.refused("bob", &["release"]);
    ws.refused("bob", &["reopen", "P-2026-0051", "--rationale", "mine"]);
    ws.refused("zed", &["moderation", "sample", "--seed", "1"]);
    assert_eq!(ws.audit_len(), n);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "submitted");
    // a moderator draws
    ws.ok("mo", &["moderation", "sample", "--seed", "1"]);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "sampled");
    // reading stays open
    assert_eq!(ws.list("zed").len(), 12);
}

#[test]
fn portfolios_are_allocated_explicitly_or_shared_out_evenly() {
    let ws = Ws::new();
    ws.import_samples("ann");
    ws.ok("ann", &["user", "add", "ann", "--role", "lead"]);
    for a in ["a1", "a2", "a3"] {
        ws.ok("ann", &["user", "add", a, "--role", "assessor"]);
    }
    ws.ok("ann", &["user", "add", "mo", "--role", "moderator"]);

    let out = ws.ok(
        "ann",
        &["assign", "P-2026-0041", "P-2026-0042", "--to", "a1"],
    );
    assert!(out.contains("2") && out.contains("a1"), "{out}");
    assert_eq!(ws.row("ann", "P-2026-0041")["assessor"], "a1");
    assert_eq!(ws.row("ann", "P-2026-0042")["assessor"], "a1");
    // not to a moderator, not to a stranger
    ws.refused("ann", &["assign", "P-2026-0043", "--to", "mo"]);
    ws.refused("ann", &["assign", "P-2026-0043", "--to", "nobody"]);
    assert!(ws.row("ann", "P-2026-0043")["assessor"].is_null());

    // an allocated portfolio is marked by its assessor only
    let err = ws.refused("a2", &["mark", "P-2026-0041", "--level", "C1=meets"]);
    assert!(err.contains("allocated to a1"), "{err}");
    assert!(first(&ws, "P-2026-0041")["marker"].is_null());
    ws.ok("a1", &["mark", "P-2026-0041", "--level", "C1=meets"]);

    // the rest of the rubric's unallocated portfolios shared out evenly
    ws.ok(
        "ann",
        &[
            "assign",
            "--rubric",
            "data-literacy-practitioner",
            "--among",
            "a2,a3",
        ],
    );
    let rows = ws.json(
        "ann",
        &["list", "--json", "--rubric", "data-literacy-practitioner"],
    );
    let by = |who: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["assessor"] == who)
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(by("a1"), ["P-2026-0041", "P-2026-0042"]);
    let (n2, n3) = (by("a2").len(), by("a3").len());
    assert_eq!(n2 + n3, 3, "{rows}");
    assert!(n2.abs_diff(n3) <= 1, "{n2} vs {n3}");
    // other rubrics untouched
    assert!(ws.row("ann", "P-2026-0050")["assessor"].is_null());
    let a2_first = by("a2")[0].clone();
    ws.refused("a3", &["mark", &a2_first, "--level", "C1=meets"]);
    ws.ok("a2", &["mark", &a2_first, "--level", "C1=meets"]);
    // a lead may mark anything
    ws.ok("ann", &["mark", "P-2026-0042", "--level", "C1=meets"]);

    // a lead reassigns a portfolio whose marking has begun: the new assessor carries on with
    // the marks saved so far, the old one no longer marks it
    ws.ok("ann", &["assign", "P-2026-0041", "--to", "a3"]);
    assert_eq!(ws.row("ann", "P-2026-0041")["assessor"], "a3");
    let err = ws.refused("a1", &["mark", "P-2026-0041", "--level", "C2=meets"]);
    assert!(err.contains("allocated to a3"), "{err}");
    ws.ok("a3", &["mark", "P-2026-0041", "--level", "C2=meets"]);
    assert_eq!(mark_of(&ws, "P-2026-0041", "C1")["level"], "meets");
    assert_eq!(mark_of(&ws, "P-2026-0041", "C2")["level"], "meets");

    // a submitted decision is not reallocated
    let levels = [
        ("C1", "meets"),
        ("C2", "meets"),
        ("C3", "meets"),
        ("C4", "meets"),
        ("C5", "meets"),
    ];
    ws.mark_submit("a3", "P-2026-0041", &levels, &DATA_GATES);
    assert_eq!(first(&ws, "P-2026-0041")["decision"]["by"], "a3");
    let n = ws.audit_len();
    let err = ws.refused("ann", &["assign", "P-2026-0041", "--to", "a1"]);
    assert!(err.contains("submitted") && err.contains("reopen"), "{err}");
    assert_eq!(ws.row("ann", "P-2026-0041")["assessor"], "a3");
    assert_eq!(ws.audit_len(), n);
    ws.ok("ann", &["audit", "verify"]);
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

#[test]
fn audit_log_prints_the_history_and_verify_passes() {
    if support::file_only("it edits the SQLite file behind assay's back") {
        return;
    }
    let ws = Ws::new();
    ws.import_some(
        "ann",
        &["sustainable-home-energy"],
        &["P-2026-0050", "P-2026-0051"],
    );
    ws.ok("ann", &["mark", "P-2026-0051", "--comment", "first look"]);
    ws.mark_submit("ann", "P-2026-0051", &ALL_ACHIEVED, &ENERGY_GATES);
    ws.ok(
        "ann",
        &["mark", "P-2026-0050", "--level", "energy-use=achieved"],
    );
    let log = ws.ok("ann", &["audit", "log", "P-2026-0051"]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(
        lines[0].contains("import") && lines[0].contains("portfolio/P-2026-0051"),
        "{log}"
    );
    assert!(lines.iter().any(|l| l.contains("mark.comment")), "{log}");
    assert!(
        lines.last().unwrap().contains("status") && lines.last().unwrap().contains("submitted"),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("submit ") && l.contains("decision/P-2026-0051/first")),
        "{log}"
    );
    assert!(!log.contains("P-2026-0050"), "{log}");
    // oldest first
    let seqs: Vec<i64> = lines
        .iter()
        .map(|l| {
            l.trim_start_matches('#')
                .split_whitespace()
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // the whole history holds both portfolios and the rubric
    let all = ws.ok("ann", &["audit", "log"]);
    let mut first = all.lines();
    assert!(
        first.next().unwrap().contains("workspace.init")
            && first.next().unwrap().contains("rubric.import"),
        "{all}"
    );
    // the workspace's salt (it keeps hashed learner ids unguessable) is not printed
    let salt: String = ws
        .sql()
        .query_row("SELECT value FROM meta WHERE key = 'salt'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!all.contains(&salt), "{all}");
    assert!(all.contains("P-2026-0050"));
    assert_eq!(all.lines().count() as i64, ws.audit_len());
    // show carries the same history
    let hist = ws.show("ann", "P-2026-0051")["history"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(hist, lines.len());

    let out = ws.ok("ann", &["audit", "verify"]);
    assert!(out.contains("audit chain ok"), "{out}");
    ws.refused("ann", &["audit", "log", "P-0000"]);
}

#[test]
fn a_wrong_command_line_exits_2() {
    let ws = Ws::new();
    for args in [
        vec!["frobnicate"],
        vec!["mark"],
        vec!["list", "--nope"],
        vec!["user", "add", "x", "--role", "king"],
        vec!["search", "x", "--limit", "many"],
    ] {
        let o = ws.run("ann", &args);
        assert_eq!(o.code, Some(2), "{args:?}: {o:?}");
        assert!(!o.stderr.contains("panicked"));
    }
    assert!(!ws.db.exists(), "a wrong command line created the database");
}

/// A PostgreSQL URI is not taken for a file path: with no server there, the command fails saying
/// it cannot connect to which database as whom, and nothing is made (no folder, no file named
/// after it).
#[test]
fn a_postgresql_uri_is_a_server_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    for uri in [
        "postgres://nobody@127.0.0.1:1/assay?sslmode=disable",
        "postgresql://nobody@/assay?host=/nonexistent-socket-folder",
    ] {
        for args in [&["list"][..], &["user", "add", "x", "--role", "lead"][..]] {
            let o = assert_cmd::Command::cargo_bin("assay")
                .unwrap()
                .current_dir(dir.path())
                .args(["--db", uri])
                .args(args)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{o:?}");
            let e = String::from_utf8_lossy(&o.stderr);
            assert!(
                e.contains("cannot connect to the workspace database assay")
                    && e.contains("as nobody"),
                "{e}"
            );
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing made"
    );
}
