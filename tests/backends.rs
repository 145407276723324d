//! A team workspace on PostgreSQL, beyond what the suites run on both backends check
//! (`ASSAY_TEST_BACKEND=postgres`): the person is the database login, the database's own rules
//! hold for someone who connects with another client, a superuser's edit is found by `audit
//! verify`, a newer schema is refused, a workspace is copied file → server → file whole, and an
//! open workbench hears of others' changes.
//! Each test says it was skipped without a server (`scripts/pg-test.sh` starts one).

mod support;

use support::*;

const ENERGY: [&str; 4] = ["energy-use", "measures", "action", "sharing"];

/// ann (lead, the database's owner) imports the samples and registers mo (moderator) and bob
/// (assessor); bob first-marks P-2026-0051 (a blind rubric's portfolio) in progress.
fn team(test: &str) -> Option<Ws> {
    let ws = Ws::server_only(test)?;
    ws.import_samples("ann");
    ws.ok("ann", &["user", "add", "ann", "--role", "lead"]);
    ws.ok("ann", &["user", "add", "mo", "--role", "moderator"]);
    ws.ok("ann", &["user", "add", "bob", "--role", "assessor"]);
    ws.ok(
        "bob",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    Some(ws)
}

/// A connection as `user`, as psql would make it.
fn connect_as(ws: &Ws, user: &str) -> postgres::Client {
    let s = ws.server.as_ref().unwrap();
    postgres::Client::connect(&s.uri_as(user), postgres::NoTls).unwrap()
}

#[test]
fn the_person_is_the_database_login() {
    let Some(ws) = team("the_person_is_the_database_login") else {
        return;
    };
    let s = ws.server.as_ref().unwrap();
    // connected as mo, naming bob
    let o = Ws::exec({
        let mut c = ws.bare();
        c.arg("--db")
            .arg(s.uri_as("mo"))
            .args(["--as", "bob", "list"]);
        c
    });
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("database login") && o.stderr.contains("(mo)"),
        "{o:?}"
    );
    // user add made the role, with nothing more than a moderator needs
    let mut c = s.admin(true);
    let may_insert_audit: bool = c
        .query_one("SELECT has_table_privilege('mo', 'audit', 'INSERT')", &[])
        .unwrap()
        .get(0);
    assert!(!may_insert_audit);
}

#[test]
fn the_rules_hold_in_the_database_itself() {
    let Some(ws) = team("the_rules_hold_in_the_database_itself") else {
        return;
    };
    let mut mo = connect_as(&ws, "mo");
    // blind: bob's first marks in progress are not there for mo
    let n: i64 = mo
        .query_one("SELECT count(*) FROM marks WHERE phase = 'first'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a moderator read blind first marks");
    let n: i64 = mo
        .query_one(
            "SELECT count(*) FROM audit WHERE entity LIKE 'mark/P-2026-0051/first/%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a moderator read blind first marks in the chain");
    // but bob reads his own
    let mut bob = connect_as(&ws, "bob");
    let n: i64 = bob
        .query_one("SELECT count(*) FROM marks WHERE phase = 'first'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // nobody changes another's marks
    let changed = mo
        .execute("UPDATE marks SET level = 'not-yet'", &[])
        .unwrap_or(0);
    assert_eq!(changed, 0);
    let mut ann_assessor = connect_as(&ws, "mo");
    let e = ann_assessor
        .execute(
            "INSERT INTO marks (portfolio_pk, phase, criterion, level, by_user, at) VALUES (1, 'first', 'x', 'y', 'bob', 'now')",
            &[],
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("row-level security") || e.code().is_some(),
        "{e}"
    );
    // the chain only through the append path
    let e = bob
        .execute(
            "INSERT INTO audit (seq, at, actor, action, entity, prev, hash) VALUES (999, 'now', 'bob', 'x', 'x', 'x', 'x')",
            &[],
        )
        .unwrap_err();
    assert!(
        e.to_string().contains("permission denied") || e.code().is_some(),
        "{e}"
    );
    assert!(bob.execute("DELETE FROM audit", &[]).is_err());
    let e = bob
        .execute(
            "SELECT assay_append(999, 'now', 'ann', 'x', 'x', NULL, NULL, NULL, 'x', 'x', NULL)",
            &[],
        )
        .unwrap_err();
    assert!(format!("{e:?}").contains("person connected"), "{e:?}");
    // what went through assay still verifies
    let v = ws.ok("ann", &["audit", "verify"]);
    assert!(v.contains("audit chain ok"), "{v}");
}

#[test]
fn a_superusers_edit_is_found_by_verify() {
    let Some(ws) = team("a_superusers_edit_is_found_by_verify") else {
        return;
    };
    let s = ws.server.as_ref().unwrap();
    s.admin(true)
        .batch_execute("UPDATE marks SET level = 'well-achieved' WHERE criterion = 'energy-use'")
        .unwrap();
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("energy-use"), "{o:?}");
    // a non-lead may not verify the whole chain (blind records are kept from them)
    let e = ws.refused("bob", &["audit", "verify"]);
    assert!(e.contains("lead"), "{e}");
}

#[test]
fn a_temporary_table_cannot_stand_in_for_assays_own() {
    let Some(ws) = team("a_temporary_table_cannot_stand_in_for_assays_own") else {
        return;
    };
    // bob (an assessor) makes himself a lead in a temporary table called users, which a
    // function with the owner's rights would read before the real one were pg_temp not last in
    // its search path
    let mut bob = connect_as(&ws, "bob");
    bob.batch_execute(
        "CREATE TEMP TABLE users (name text, role text);
         INSERT INTO users VALUES (session_user, 'lead');
         CREATE TEMP TABLE status_counts (status text PRIMARY KEY, n bigint);
         GRANT ALL ON pg_temp.users, pg_temp.status_counts TO PUBLIC;",
    )
    .unwrap();
    let lead: bool = bob.query_one("SELECT assay_is_lead()", &[]).unwrap().get(0);
    assert!(!lead, "a temporary table made bob a lead");
    // the counts a status change keeps are the real ones
    bob.batch_execute("DELETE FROM pg_temp.status_counts")
        .unwrap();
    drop(bob);
    ws.ok("ann", &["audit", "verify"]);
    // what a superuser changes of assay's functions and triggers is found
    let s = ws.server.as_ref().unwrap();
    for (change, found) in [
        (
            "ALTER FUNCTION assay_is_lead() SET search_path = public",
            "function assay_is_lead was changed",
        ),
        (
            "CREATE OR REPLACE FUNCTION assay_is_person() RETURNS boolean LANGUAGE sql STABLE \
             SECURITY DEFINER SET search_path = public, pg_temp AS $$ SELECT true $$",
            "function assay_is_person was changed",
        ),
        (
            "ALTER TABLE portfolios DISABLE TRIGGER status_counts_update",
            "trigger status_counts_update on portfolios is disabled",
        ),
        (
            "GRANT EXECUTE ON FUNCTION assay_count_status() TO PUBLIC",
            "function assay_count_status may be run by anyone",
        ),
        (
            "DROP TRIGGER status_counts_insert_delete ON portfolios; \
             CREATE TRIGGER status_counts_insert_delete AFTER INSERT OR DELETE ON portfolios \
             FOR EACH ROW WHEN (false) EXECUTE FUNCTION assay_count_status()",
            "trigger status_counts_insert_delete on portfolios was changed",
        ),
    ] {
        s.admin(true).batch_execute(change).unwrap();
        let o = ws.run("ann", &["audit", "verify"]);
        assert_clean_refusal(&o);
        assert!(
            o.stderr.contains(found) || o.stdout.contains(found),
            "{change}: {o:?}"
        );
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(ws) = team("a_newer_schema_is_refused") else {
        return;
    };
    let s = ws.server.as_ref().unwrap();
    s.admin(true)
        .batch_execute("UPDATE assay_schema SET version = 999")
        .unwrap();
    let e = ws.refused("ann", &["list"]);
    assert!(e.contains("newer assay") && e.contains("999"), "{e}");
}

/// A server workspace of version 13 (before the queue's indexes and counts) is brought up to the
/// current version by its versioned migration when it is next opened, and verifies.
#[test]
fn a_server_workspace_of_version_13_is_migrated() {
    let Some(ws) = team("a_server_workspace_of_version_13_is_migrated") else {
        return;
    };
    let s = ws.server.as_ref().unwrap();
    // (as version 13 left it: no counts, no queue indexes, the status index on status alone,
    // and the functions' search path the creating session's)
    s.admin(true)
        .batch_execute(
            "DROP TRIGGER status_counts_insert_delete ON portfolios;
             DROP TRIGGER status_counts_update ON portfolios;
             DROP FUNCTION assay_count_status();
             DROP TABLE status_counts;
             DROP INDEX portfolios_open, portfolios_assessor_open, portfolios_marker_open,
                        portfolios_assessor, portfolios_marker, portfolios_id_c,
                        portfolios_released;
             CREATE INDEX portfolios_open ON portfolios (status)
             WHERE status = 'new' OR status = 'in_progress' OR status = 'submitted' OR status = 'sampled'
                OR status = 'moderated';
             ALTER FUNCTION assay_is_lead() SET search_path = \"$user\", public;
             DELETE FROM assay_schema;
             INSERT INTO assay_schema (version) VALUES (13);",
        )
        .unwrap();
    // only the tables' owner may bring the schema up; anyone else is told who must
    let e = ws.refused("bob", &["list"]);
    assert!(
        e.contains("its owner, the role ann, must open it once"),
        "{e}"
    );
    ws.ok("ann", &["list"]);
    let mut c = s.admin(true);
    let version: i64 = c
        .query_one("SELECT max(version) FROM assay_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, assay::store::SCHEMA_VERSION);
    let counted: i64 = c
        .query_one("SELECT coalesce(sum(n), 0)::bigint FROM status_counts", &[])
        .unwrap()
        .get(0);
    assert_eq!(counted, 12, "the counts made from the portfolios there");
    // the functions' search path names pg_temp last (version 15)
    let path: String = c
        .query_one(
            "SELECT array_to_string(proconfig, ';') FROM pg_proc WHERE proname = 'assay_is_lead'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(path.ends_with(", pg_temp"), "{path}");
    // and kept from then on
    ws.ok(
        "bob",
        &["mark", "P-2026-0051", "--level", "measures=achieved"],
    );
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn a_workspace_is_copied_file_to_server_to_file_whole() {
    let Some(server) = Ws::server_only("a_workspace_is_copied_file_to_server_to_file_whole") else {
        return;
    };
    let file = Ws::new();
    assert!(file.server.is_none() || on_server());
    let local = file.path("local.db");
    let run = |args: &[&std::ffi::OsStr]| {
        let mut c = file.bare();
        c.args(["--as", "ann"]).args(args);
        Ws::exec(c)
    };
    let db = |p: &std::path::Path| -> std::ffi::OsString {
        let mut s = std::ffi::OsString::from("--db=");
        s.push(p);
        s
    };
    let o = run(&[
        db(&local).as_os_str(),
        "import".as_ref(),
        rubrics_dir().as_os_str(),
        samples_dir().as_os_str(),
    ]);
    assert_eq!(o.code, Some(0), "{o:?}");
    let o = run(&[
        db(&local).as_os_str(),
        "user".as_ref(),
        "add".as_ref(),
        "ann".as_ref(),
        "--role".as_ref(),
        "lead".as_ref(),
    ]);
    assert_eq!(o.code, Some(0), "{o:?}");
    for c in ENERGY {
        let lv = format!("{c}=achieved");
        run(&[
            db(&local).as_os_str(),
            "mark".as_ref(),
            "P-2026-0051".as_ref(),
            "--level".as_ref(),
            lv.as_ref(),
        ]);
    }
    let uri = server.db_for("ann");
    let o = run(&["copy".as_ref(), local.as_os_str(), uri.as_os_str()]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stdout.contains("verified on both sides"), "{o:?}");
    // a non-empty target is refused
    let o = run(&["copy".as_ref(), local.as_os_str(), uri.as_os_str()]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("not empty"), "{o:?}");
    let back = file.path("back.db");
    let o = run(&["copy".as_ref(), uri.as_os_str(), back.as_os_str()]);
    assert_eq!(o.code, Some(0), "{o:?}");
    // the same history, the same answers
    for args in [
        &["audit", "log"][..],
        &["list", "--json"][..],
        &["show", "P-2026-0051", "--json"][..],
    ] {
        let a = run(&[
            &[db(&local).as_os_str()][..],
            &args.iter().map(|s| s.as_ref()).collect::<Vec<_>>(),
        ]
        .concat());
        let b = run(&[
            &[db(&back).as_os_str()][..],
            &args.iter().map(|s| s.as_ref()).collect::<Vec<_>>(),
        ]
        .concat());
        let mut srv = file.bare();
        srv.arg("--db").arg(&uri).args(["--as", "ann"]).args(args);
        let c = Ws::exec(srv);
        assert_eq!(a.stdout, b.stdout, "{args:?}");
        assert_eq!(a.stdout, c.stdout, "{args:?}");
    }
    // a server workspace's backup is a verified local file
    let bk = file.path("bk.db");
    let mut c = file.bare();
    c.arg("--db")
        .arg(&uri)
        .args(["--as", "ann", "backup"])
        .arg(&bk);
    let o = Ws::exec(c);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(bk.exists());
}

/// An open workbench hears of a change someone else commits (LISTEN/NOTIFY on the append):
/// mo's watcher is told the chain's new head when bob saves a mark.
#[test]
fn an_open_workbench_hears_of_anothers_change() {
    use assay::tui::model::Msg;
    let Some(ws) = team("an_open_workbench_hears_of_anothers_change") else {
        return;
    };
    let (tx, rx) = std::sync::mpsc::channel();
    assay::tui::runtime::spawn_watcher(std::path::PathBuf::from(ws.db_for("mo")), tx);
    let wait = std::time::Duration::from_secs(10);
    let first = match rx.recv_timeout(wait).unwrap() {
        Msg::Live { head } => head,
        other => panic!("{other:?}"),
    };
    let t = std::time::Instant::now();
    ws.ok(
        "bob",
        &["mark", "P-2026-0051", "--level", "measures=achieved"],
    );
    match rx.recv_timeout(wait).unwrap() {
        Msg::Live { head } => assert!(head > first, "{head} after {first}"),
        other => panic!("{other:?}"),
    }
    eprintln!(
        "heard of the change {:.0} ms after the command started",
        t.elapsed().as_secs_f64() * 1e3
    );
}

/// A blind first decision is hidden in the database too: a moderator connecting with another
/// client reads neither its outcome, grade and score (not in `decisions`, masked in the
/// portfolios' view, the columns not granted) nor the reason a draw gave; the assessor reads
/// their own and a lead everything; and the moderator still draws through assay.
#[test]
fn a_blind_first_decision_is_hidden_in_the_database() {
    let Some(ws) = team("a_blind_first_decision_is_hidden_in_the_database") else {
        return;
    };
    let mut args: Vec<String> = vec!["mark".into(), "P-2026-0051".into()];
    for c in ENERGY {
        args.extend(["--level".into(), format!("{c}=achieved")]);
    }
    for g in ["identity", "authenticity", "currency", "safety"] {
        args.extend(["--gate".into(), g.into()]);
    }
    args.push("--submit".into());
    ws.ok("bob", &args);
    let mut mo = connect_as(&ws, "mo");
    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    assert_eq!(
        one(
            &mut mo,
            "SELECT count(*) FROM decisions WHERE phase = 'first'"
        ),
        0,
        "a moderator read a blind first decision"
    );
    let r = mo
        .query_one(
            "SELECT outcome, grade, score FROM assay_portfolios WHERE id = 'P-2026-0051'",
            &[],
        )
        .unwrap();
    let (o, g, s): (Option<String>, Option<String>, Option<f64>) = (r.get(0), r.get(1), r.get(2));
    assert_eq!((o, g, s), (None, None, None), "masked for the moderator");
    for sql in [
        "SELECT outcome FROM portfolios",
        "SELECT score FROM portfolios",
        "SELECT * FROM portfolios",
        "SELECT reason FROM draw_items",
    ] {
        let e = mo.query(sql, &[]).unwrap_err();
        assert!(
            format!("{e:?}").contains("permission denied"),
            "{sql}: {e:?}"
        );
    }
    // the assessor reads their own decision, a lead everything
    let mut bob = connect_as(&ws, "bob");
    assert_eq!(
        one(
            &mut bob,
            "SELECT count(*) FROM decisions WHERE phase = 'first'"
        ),
        1
    );
    let mut ann = connect_as(&ws, "ann");
    let o: Option<String> = ann
        .query_one(
            "SELECT outcome FROM portfolios WHERE id = 'P-2026-0051'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(o.is_some());
    // the moderator draws through assay, and still is not told the reasons
    let out = ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    assert!(out.contains("P-2026-0051"), "{out}");
    let r: Vec<String> = mo
        .query(
            "SELECT reason FROM assay_draw_items i JOIN assay_portfolios p ON p.pk = i.portfolio_pk WHERE p.status = 'sampled'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(r.iter().all(|x| x == "withheld:blind"), "{r:?}");
    ws.ok("ann", &["audit", "verify"]);
}

/// The workbench's fuzzy filter ranks the search texts as they stream from the server (its
/// worker opens connections of its own there too), as `assay search` does.
#[test]
fn the_workbench_filter_finds_portfolios_on_a_server() {
    use assay::tui::model::{Model, Msg};
    use assay::tui::runtime::{Runtime, spawn_filter_worker};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let Some(ws) = team("the_workbench_filter_finds_portfolios_on_a_server") else {
        return;
    };
    let db = std::path::PathBuf::from(ws.db_for("ann"));
    let w = assay::app::Workspace::open(&db, "ann".into()).unwrap();
    let model = Model::new(
        "ann".into(),
        "w".into(),
        assay::tui::theme::Theme { mono: true },
        false,
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = spawn_filter_worker(tx.clone());
    let mut rt = Runtime::new(w, model)
        .with_filter_worker(worker)
        .with_background(db, tx);
    rt.dispatch(Msg::Resize(100, 30));
    rt.start();
    for c in "/kovac".chars() {
        rt.dispatch(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    let t = std::time::Instant::now();
    while rt.model.queue.filtering && t.elapsed() < std::time::Duration::from_secs(20) {
        if let Ok(m) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
            rt.dispatch(m);
        }
    }
    let q = &rt.model.queue;
    let shown: Vec<&str> = (0..q.visible.len())
        .map(|p| &*q.row_at(p).unwrap().id)
        .collect();
    assert_eq!(
        shown.first(),
        Some(&"P-2026-0051"),
        "Marta Kovačević's first: {shown:?}"
    );
    // the same portfolios as `assay search` finds
    let cli = ws.ok("ann", &["search", "kovac"]);
    let found: Vec<&str> = cli
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.starts_with("P-"))
        .collect();
    let mut a = shown.clone();
    let mut b = found.clone();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b, "{cli}");
}

/// On a server too, the first rows read alone (what the first screen shows while the whole queue
/// is read) are the queue's first rows in its order, for each person.
#[test]
fn the_first_rows_read_alone_are_the_queues_first_rows_on_a_server() {
    use assay::tui::model::{Model, Msg};
    use assay::tui::runtime::Runtime;
    let Some(ws) = team("the_first_rows_read_alone_are_the_queues_first_rows_on_a_server") else {
        return;
    };
    ws.ok(
        "ann",
        &["assign", "P-2026-0046", "P-2026-0050", "--to", "bob"],
    );
    for who in ["ann", "bob", "mo"] {
        let db = std::path::PathBuf::from(ws.db_for(who));
        let w = assay::app::Workspace::open(&db, who.into()).unwrap();
        let model = Model::new(
            who.into(),
            "w".into(),
            assay::tui::theme::Theme { mono: true },
            false,
        );
        let mut rt = Runtime::new(w, model);
        rt.dispatch(Msg::Resize(100, 30));
        rt.start();
        let q = &rt.model.queue;
        let whole: Vec<String> = q
            .keys
            .iter()
            .map(|k| q.shown[&k.pk].id.to_string())
            .collect();
        assert_eq!(whole.len(), 12);
        for limit in [1, 3, 12, 40] {
            let mut first = Vec::new();
            rt.ws
                .first_queue_rows(limit, |r| first.push(r.id.clone()))
                .unwrap();
            assert_eq!(first, whole[..limit.min(whole.len())], "{who}, {limit}");
        }
    }
}
