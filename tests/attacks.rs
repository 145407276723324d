//! The integrity issue's attacks, on the built binary: re-imports that would rewrite what was
//! assessed, separation of duties over history, blind marking before the draw, one command one
//! transaction, files outside a portfolio and special files, outputs that would destroy
//! something, numbers, messages, spreadsheets and terminals, and times along the chain.

mod support;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use support::*;

const ENERGY: [&str; 4] = ["energy-use", "measures", "action", "sharing"];

fn all(level: &str) -> Vec<(&'static str, &str)> {
    ENERGY.iter().map(|c| (*c, level)).collect()
}

/// A copy of a sample portfolio folder to change.
fn folder(ws: &Ws, id: &str) -> PathBuf {
    let to = ws.path(&format!("in/{id}"));
    copy_dir(&sample(id), &to);
    to
}

fn edit(dir: &Path, from: &str, to: &str) {
    let p = dir.join("portfolio.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{from} not in the manifest");
    std::fs::write(&p, text.replace(from, to)).unwrap();
}

fn import(ws: &Ws, user: &str, dir: &Path) -> Out {
    ws.run(user, &["import".as_ref(), dir.as_os_str()])
}

fn energy_workspace() -> (Ws, PathBuf) {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    let dir = folder(&ws, "P-2026-0051");
    assert_eq!(import(&ws, "ann", &dir).code, Some(0));
    (ws, dir)
}

#[test]
fn a_decided_portfolio_is_not_rewritten_by_a_reimport() {
    let (ws, dir) = energy_workspace();
    ws.mark_submit("ann", "P-2026-0051", &all("achieved"), &ENERGY_GATES);
    let n = ws.audit_len();
    edit(&dir, "name: Marta Kovačević", "name: Mallory Forger");
    edit(&dir, "marta.kovacevic@example.org", "mallory@example.org");
    let o = import(&ws, "ann", &dir);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("the learner's name")
            && o.stderr.contains("the learner's email")
            && o.stderr.contains("Mallory Forger")
            && o.stderr.contains("submitted")
            && o.stderr.contains("assay reopen P-2026-0051"),
        "{o:?}"
    );
    assert!(!o.stderr.contains("evidence changed"), "{o:?}");
    assert_eq!(ws.audit_len(), n);
    assert_eq!(
        ws.row("ann", "P-2026-0051")["learner_name"],
        "Marta Kovačević"
    );
    // nor its evidence
    let dir2 = dir.clone();
    edit(&dir2, "name: Mallory Forger", "name: Marta Kovačević");
    edit(&dir2, "mallory@example.org", "marta.kovacevic@example.org");
    std::fs::write(dir2.join("evidence/renter-plan.md"), "# Forged\n").unwrap();
    let o = import(&ws, "ann", &dir2);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("evidence E2 (file)"), "{o:?}");
    assert_eq!(ws.audit_len(), n);
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn a_released_portfolio_cannot_be_reimported_under_another_learner() {
    let (ws, dir) = energy_workspace();
    ws.mark_submit("ann", "P-2026-0051", &all("achieved"), &ENERGY_GATES);
    ws.ok("ann", &["moderation", "sample", "--seed", "1"]);
    if ws.row("ann", "P-2026-0051")["status"] == "sampled" {
        let mut a: Vec<String> = vec!["moderate".into(), "P-2026-0051".into()];
        for c in ENERGY {
            a.push("--level".into());
            a.push(format!("{c}=achieved"));
        }
        a.push("--submit".into());
        ws.ok("mo", &a);
        ws.ok("mo", &["moderate", "P-2026-0051", "--confirm"]);
    }
    ws.ok("ann", &["release"]);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "released");
    edit(&dir, "name: Marta Kovačević", "name: Someone Else");
    let o = import(&ws, "ann", &dir);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("released") && o.stderr.contains("own id"),
        "{o:?}"
    );
    assert_eq!(
        ws.row("ann", "P-2026-0051")["learner_name"],
        "Marta Kovačević"
    );
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn a_revision_in_marking_says_exactly_what_changed() {
    let (ws, dir) = energy_workspace();
    ws.ok(
        "ann",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    // only the name: said as such, the marks kept, no evidence flag
    edit(&dir, "name: Marta Kovačević", "name: Marta Kovačević-Byrne");
    let o = import(&ws, "ann", &dir);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(
        o.stderr.contains("the learner's name") && !o.stderr.contains("evidence changed"),
        "{o:?}"
    );
    assert_eq!(ws.row("ann", "P-2026-0051")["evidence_changed"], false);
    // one evidence file changed: named, the marks kept, the portfolio flagged
    std::fs::write(dir.join("evidence/renter-plan.md"), "# A new plan\n").unwrap();
    let o = import(&ws, "ann", &dir);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(
        o.stderr.contains("evidence changed since marking began")
            && o.stderr.contains("evidence E2 (file)")
            && !o.stderr.contains("E1")
            && !o.stderr.contains("E3"),
        "{o:?}"
    );
    let row = ws.row("ann", "P-2026-0051");
    assert_eq!(row["evidence_changed"], true);
    let s = ws.show("ann", "P-2026-0051");
    assert_eq!(s["first"]["marks"][0]["level"], "achieved", "{s}");
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn nobody_moderates_what_they_ever_first_marked() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    ws.ok("ann", &["user", "add", "ann", "--role", "lead"]);
    ws.ok("ann", &["user", "add", "bo", "--role", "assessor"]);
    ws.ok("ann", &["user", "add", "mo", "--role", "moderator"]);
    // ann (a lead) first-marks, reopens, hands it to bo, who decides
    ws.mark_submit("ann", "P-2026-0051", &all("achieved"), &ENERGY_GATES);
    ws.ok(
        "ann",
        &["reopen", "P-2026-0051", "--rationale", "hand over"],
    );
    ws.ok("ann", &["assign", "P-2026-0051", "--to", "bo"]);
    ws.mark_submit("bo", "P-2026-0051", &all("well-achieved"), &ENERGY_GATES);
    ws.ok("mo", &["moderation", "sample", "--seed", "1"]);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "sampled");
    let n = ws.audit_len();
    let err = ws.refused(
        "ann",
        &["moderate", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    assert!(
        err.contains("authored first marking") && err.contains("nobody second-marks or settles"),
        "{err}"
    );
    assert_eq!(ws.audit_len(), n);
    // mo second-marks; ann may not settle either
    let mut a: Vec<String> = vec!["moderate".into(), "P-2026-0051".into()];
    for c in ENERGY {
        a.push("--level".into());
        a.push(format!("{c}=achieved"));
    }
    a.push("--submit".into());
    ws.ok("mo", &a);
    let err = ws.refused("ann", &["moderate", "P-2026-0051", "--confirm"]);
    assert!(err.contains("authored first marking"), "{err}");
    ws.ok("mo", &["moderate", "P-2026-0051", "--confirm"]);
}

#[test]
fn blind_holds_before_the_draw_and_in_every_output() {
    let ws = Ws::new();
    ws.import_some("ann", &["data-literacy-practitioner"], &["P-2026-0043"]);
    ws.ok("ann", &["user", "add", "lee", "--role", "lead"]);
    ws.ok("lee", &["user", "add", "ann", "--role", "assessor"]);
    ws.ok("lee", &["user", "add", "mo", "--role", "moderator"]);
    let mut a: Vec<String> = vec!["mark".into(), "P-2026-0043".into()];
    for c in ["C1", "C2", "C3", "C4", "C5"] {
        a.push("--level".into());
        a.push(format!("{c}=not-yet"));
        a.push("--feedback".into());
        a.push(format!("{c}=SECRET-FEEDBACK-{c}"));
    }
    for g in DATA_GATES {
        a.push("--gate".into());
        a.push(g.into());
    }
    a.extend([
        "--comment".into(),
        "SECRET-COMMENT".into(),
        "--submit".into(),
    ]);
    ws.ok("ann", &a);
    let id = "P-2026-0043";
    let secrets = ["SECRET-", "not_yet", "Not yet", "always:"];
    let check = |when: &str| {
        let row = ws.row("mo", id);
        for k in ["outcome", "grade", "score"] {
            assert!(row[k].is_null(), "{when}: list shows {k}: {row}");
        }
        for out in [
            ws.ok("mo", &["show", id]),
            ws.ok("mo", &["show", id, "--json"]),
            ws.ok("mo", &["list"]),
            ws.ok("mo", &["list", "--json"]),
            ws.ok("mo", &["search", "P-2026-0043", "--json"]),
            ws.ok("mo", &["audit", "log"]),
            ws.ok("mo", &["audit", "log", id]),
        ] {
            for s in secrets {
                assert!(
                    !out.contains(s),
                    "{when}: `{s}` leaks to the moderator:\n{out}"
                );
            }
        }
    };
    check("before the draw");
    let drew = ws.ok("mo", &["moderation", "sample", "--seed", "1"]);
    for s in secrets {
        assert!(!drew.contains(s), "the draw's output leaks `{s}`: {drew}");
    }
    check("after the draw");
    // the lead sees everything, and the first marker sees their own
    assert_eq!(ws.row("lee", id)["outcome"], "not_yet");
    assert_eq!(ws.row("ann", id)["outcome"], "not_yet");
    assert!(
        ws.ok("lee", &["audit", "log", id])
            .contains("SECRET-COMMENT")
    );
}

#[test]
fn a_refused_submission_saves_none_of_its_command() {
    let (ws, _) = energy_workspace();
    let n = ws.audit_len();
    // two levels given, two missing: the submission is refused, and so are the two levels
    let err = ws.refused(
        "ann",
        &[
            "mark",
            "P-2026-0051",
            "--level",
            "energy-use=achieved",
            "--level",
            "measures=achieved",
            "--comment",
            "half done",
            "--submit",
        ],
    );
    assert!(err.contains("without a level"), "{err}");
    assert_eq!(ws.audit_len(), n, "a refused command saved part of itself");
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "new");
}

#[cfg(unix)]
#[test]
fn files_outside_and_special_files_are_refused_by_path() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    let outside = ws.path("secret.yaml");
    std::fs::write(
        &outside,
        std::fs::read(sample("P-2026-0051").join("portfolio.yaml")).unwrap(),
    )
    .unwrap();
    // a manifest that is a link out of the folder
    let a = folder(&ws, "P-2026-0051");
    std::fs::remove_file(a.join("portfolio.yaml")).unwrap();
    std::os::unix::fs::symlink(&outside, a.join("portfolio.yaml")).unwrap();
    let o = import(&ws, "ann", &a);
    assert_clean_refusal(&o);
    assert!(
        o.stderr
            .contains(&*a.join("portfolio.yaml").to_string_lossy())
            && o.stderr.contains("out of the portfolio folder"),
        "{o:?}"
    );
    // a FIFO as manifest: refused at once, never waited on
    let b = folder(&ws, "P-2026-0050");
    std::fs::remove_file(b.join("portfolio.yaml")).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(b.join("portfolio.yaml"))
            .status()
            .unwrap()
            .success()
    );
    let o = import(&ws, "ann", &b);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("not a regular file"), "{o:?}");
    // a folder named portfolio.yaml: not a clean import of nothing
    let c = ws.path("in/odd");
    std::fs::create_dir_all(c.join("portfolio.yaml")).unwrap();
    let o = import(&ws, "ann", &c);
    assert_clean_refusal(&o);
    assert!(o.stdout.contains("1 rejected"), "{o:?}");
    // an evidence file that is a FIFO or /dev/zero
    let d = folder(&ws, "P-2026-0052");
    let ev = d.join("evidence");
    let name = std::fs::read_dir(&ev)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    std::fs::remove_file(ev.join(&name)).unwrap();
    std::os::unix::fs::symlink("/dev/zero", ev.join(&name)).unwrap();
    let o = import(&ws, "ann", &d);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("out of the portfolio folder"), "{o:?}");
    // command-line files: a FIFO, a device, a folder
    let fifo = ws.path("rubric.yaml");
    std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    for f in [fifo.as_path(), Path::new("/dev/zero"), ws.dir.path()] {
        let o = ws.run("ann", &["rubric".as_ref(), "check".as_ref(), f.as_os_str()]);
        assert_clean_refusal(&o);
        // (`rubric check` says each problem on stdout, FILE:LINE:COL: error: …)
        assert!(
            o.stdout
                .contains(&format!("{}:1:1: error: is ", f.display()))
                && o.stdout.contains("not a regular file"),
            "{f:?}: {o:?}"
        );
    }
    assert_eq!(ws.count("SELECT count(*) FROM portfolios"), 0);
}

#[cfg(unix)]
#[test]
fn outputs_never_replace_what_they_must_not() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    ws.mark_submit("ann", "P-2026-0051", &all("well-achieved"), &ENERGY_GATES);
    ws.ok("ann", &["moderation", "sample", "--seed", "5"]);
    if ws.row("ann", "P-2026-0051")["status"] == "sampled" {
        let mut a: Vec<String> = vec!["moderate".into(), "P-2026-0051".into()];
        for c in ENERGY {
            a.push("--level".into());
            a.push(format!("{c}=well-achieved"));
        }
        a.push("--submit".into());
        ws.ok("mo", &a);
        ws.ok("mo", &["moderate", "P-2026-0051", "--confirm"]);
    }
    ws.ok("ann", &["release"]);
    let export = |out: &Path, extra: &[&str]| {
        let mut a: Vec<std::ffi::OsString> = vec![
            "export".into(),
            "--format".into(),
            "csv".into(),
            "--out".into(),
        ];
        a.push(out.into());
        a.extend(extra.iter().map(|e| e.into()));
        ws.run("ann", &a)
    };
    let victim = ws.path("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let link = ws.path("link.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let fifo = ws.path("fifo.csv");
    std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    for (target, says) in [
        (link.as_path(), "symbolic link"),
        (fifo.as_path(), "FIFO"),
        (Path::new("/dev/null"), "device"),
        (ws.db.as_path(), "workspace database itself"),
        (ws.path("w.db-wal").as_path(), "workspace database itself"),
        (victim.as_path(), "--force"),
    ] {
        for force in [&[][..], &["--force"][..]] {
            if says == "--force" && !force.is_empty() {
                continue;
            }
            let o = export(target, force);
            assert_clean_refusal(&o);
            assert!(o.stderr.contains(says), "{target:?} {force:?}: {o:?}");
        }
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // a leftover of an interrupted export goes; --force replaces a regular file
    let stale = ws.path(".assay-export-999999999-abc");
    std::fs::write(&stale, "half").unwrap();
    let o = export(&victim, &["--force"]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(!stale.exists(), "a stale temporary file was left");
    assert!(
        std::fs::read_to_string(&victim)
            .unwrap()
            .starts_with("portfolio,")
    );
    // backup: the same rules
    for (target, says) in [
        (link.as_path(), "symbolic link"),
        (fifo.as_path(), "FIFO"),
        (ws.db.as_path(), "workspace database itself"),
        (victim.as_path(), "--force"),
    ] {
        let o = ws.run("ann", &["backup".as_ref(), target.as_os_str()]);
        assert_clean_refusal(&o);
        assert!(o.stderr.contains(says), "backup {target:?}: {o:?}");
    }
    let o = ws.run(
        "ann",
        &["backup".as_ref(), victim.as_os_str(), "--force".as_ref()],
    );
    assert_eq!(o.code, Some(0), "{o:?}");
}

#[test]
fn numbers_are_exact_or_refused_for_what_they_are() {
    let ws = Ws::new();
    let text = std::fs::read_to_string(rubric_file("sustainable-home-energy")).unwrap();
    for (value, says) in [
        ("50.0000000000000000001", "more decimals than assay keeps"),
        (".nan", "not a number"),
        ("0x32", "hexadecimal"),
        ("0o62", "octal"),
        ("1e400", "out of range"),
    ] {
        let f = ws.path("r.yaml");
        std::fs::write(
            &f,
            text.replace("  pass_mark: 50", &format!("  pass_mark: {value}")),
        )
        .unwrap();
        let o = ws.run("ann", &["rubric".as_ref(), "check".as_ref(), f.as_os_str()]);
        assert_clean_refusal(&o);
        let line = text
            .lines()
            .position(|l| l.starts_with("  pass_mark:"))
            .unwrap()
            + 1;
        assert!(
            o.stdout.contains(&format!("r.yaml:{line}:")) && o.stdout.contains(says),
            "{value}: {o:?}"
        );
    }
    let o = ws.run("ann", &["search", "x", "--limit", "0"]);
    assert_eq!(o.code, Some(2), "{o:?}");
    let missing = ws.path("no/such/folder/w.db");
    let mut c = ws.bare();
    c.arg("--db").arg(&missing).args(["--as", "ann", "list"]);
    let o = Ws::exec(c);
    assert_clean_refusal(&o);
    assert!(
        o.stderr
            .contains(&*ws.path("no/such/folder").to_string_lossy()),
        "{o:?}"
    );
    assert!(!missing.exists());
}

/// A reading command works where the workspace cannot be written, and a writing one says it
/// is read-only (as root the test runs the binary as `nobody`, for whom the folder is read-only).
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_location_reads_and_refuses_writes_as_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &["P-2026-0051"]);
    let ro = ws.path("ro");
    std::fs::create_dir(&ro).unwrap();
    let db = ro.join("w.db");
    std::fs::copy(&ws.db, &db).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(ws.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = unsafe { libc::geteuid() } == 0;
    let run = |args: &[&str]| -> Out {
        let bin = assert_cmd::cargo::cargo_bin("assay");
        let mut c = if root {
            let mut c = assert_cmd::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(bin);
            c
        } else {
            assert_cmd::Command::new(bin)
        };
        c.current_dir("/")
            .env("NO_COLOR", "1")
            .arg("--db")
            .arg(&db)
            .args(["--as", "ann"]);
        c.args(args);
        Ws::exec(c)
    };
    let o = run(&["list"]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(o.stdout.contains("P-2026-0051"), "{o:?}");
    let o = run(&["audit", "verify"]);
    assert_eq!(o.code, Some(0), "{o:?}");
    let o = run(&["mark", "P-2026-0051", "--level", "energy-use=achieved"]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("read-only"), "{o:?}");
    // an export is recorded: refused before any file is written
    let out = ws.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    let target = out.join("c.csv");
    let o = run(&[
        "export",
        "--format",
        "csv",
        "--all",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("read-only"), "{o:?}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "a refused export left files"
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn spreadsheets_and_terminals_see_only_text() {
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    let dir = folder(&ws, "P-2026-0051");
    edit(
        &dir,
        "name: Marta Kovačević",
        "name: \"=HYPERLINK(\\\"http://x\\\");a;@SUM(1)\"",
    );
    edit(
        &dir,
        "title: Message to the residents' group in my building",
        "title: \"Message\\nimported: 99 rubrics, 0 portfolios\"",
    );
    let o = import(&ws, "ann", &dir);
    assert_eq!(o.code, Some(0), "{o:?}");
    // no line of output begins with the text a portfolio supplied
    for out in [
        ws.ok("ann", &["show", "P-2026-0051"]),
        ws.ok("ann", &["list"]),
    ] {
        assert!(
            !out.lines().any(|l| l.starts_with("imported:")),
            "a portfolio faked a line of output:\n{out}"
        );
        assert_terminal_safe("show/list", out.as_bytes());
    }
    ws.mark_submit("ann", "P-2026-0051", &all("well-achieved"), &ENERGY_GATES);
    ws.ok("ann", &["moderation", "sample", "--seed", "3"]);
    if ws.row("ann", "P-2026-0051")["status"] == "sampled" {
        let mut a: Vec<String> = vec!["moderate".into(), "P-2026-0051".into()];
        for c in ENERGY {
            a.push("--level".into());
            a.push(format!("{c}=well-achieved"));
        }
        a.push("--submit".into());
        ws.ok("mo", &a);
        ws.ok("mo", &["moderate", "P-2026-0051", "--confirm"]);
    }
    ws.ok("ann", &["release"]);
    let csv = ws.path("d.csv");
    ws.ok(
        "ann",
        &[
            "export".as_ref(),
            "--format".as_ref(),
            "csv".as_ref(),
            "--out".as_ref(),
            csv.as_os_str(),
        ],
    );
    let mut r = csv::Reader::from_path(&csv).unwrap();
    let name_col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "learner_name")
        .unwrap();
    let row = r.records().next().unwrap().unwrap();
    let cell = &row[name_col];
    assert!(cell.starts_with("'="), "{cell}");
    // under any separator a spreadsheet may split at, no part begins a formula
    for sep in [',', ';', '|', '\t'] {
        for part in cell.split(sep) {
            let t = part.trim_start_matches([' ', '"']);
            assert!(
                !t.starts_with(['=', '+', '-', '@']),
                "`{part}` of {cell:?} begins a formula when split at {sep:?}"
            );
        }
    }
}

#[test]
fn times_never_go_backwards_along_the_chain() {
    let (ws, _) = energy_workspace();
    ws.ok(
        "ann",
        &["mark", "P-2026-0051", "--level", "energy-use=achieved"],
    );
    ws.ok(
        "ann",
        &["mark", "P-2026-0051", "--level", "measures=achieved"],
    );
    let n = ws.audit_len();
    // A forger redates a record and rebuilds every hash from there: the chain is whole, but a
    // record now comes before the one it follows.
    let c = Connection::open(&ws.db).unwrap();
    c.execute(
        "UPDATE audit SET at = '2001-01-01T00:00:00Z' WHERE seq = ?1",
        [n - 1],
    )
    .unwrap();
    rechain(&c, n - 1);
    drop(c);
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains(&format!("audit record {}", n - 1))
            && o.stderr.contains("never go backwards"),
        "{o:?}"
    );
    // and a time that is not one
    let c = Connection::open(&ws.db).unwrap();
    c.execute("UPDATE audit SET at = 'yesterday' WHERE seq = ?1", [n])
        .unwrap();
    rechain(&c, n);
    drop(c);
    let o = ws.run("ann", &["audit", "verify"]);
    assert!(o.stderr.contains("not an RFC 3339 time"), "{o:?}");
}

/// seq, at, actor, action, entity, portfolio, before, after
type AuditRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Recomputes the hashes of the records from `from` on, as a forger would.
fn rechain(c: &Connection, from: i64) {
    let mut prev: String = c
        .query_row("SELECT hash FROM audit WHERE seq = ?1", [from - 1], |r| {
            r.get(0)
        })
        .unwrap();
    let rows: Vec<AuditRow> = {
        let mut st = c
            .prepare("SELECT seq, at, actor, action, entity, portfolio, before, after FROM audit WHERE seq >= ?1 ORDER BY seq")
            .unwrap();
        st.query_map([from], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    };
    for (seq, at, actor, action, entity, portfolio, before, after) in rows {
        let h = assay::store::audit::hash_of(
            seq,
            &at,
            &actor,
            &action,
            &entity,
            portfolio.as_deref(),
            before.as_deref(),
            after.as_deref(),
            &prev,
        );
        c.execute(
            "UPDATE audit SET prev = ?2, hash = ?3 WHERE seq = ?1",
            rusqlite::params![seq, prev, h],
        )
        .unwrap();
        prev = h;
    }
}

/// An evidence file swapped between a regular file and a link to a file outside the folder,
/// as fast as a thread can, while the folder is imported again and again: the outside file's
/// bytes never reach the workspace.
#[cfg(unix)]
#[test]
fn a_file_swapped_for_a_link_during_import_is_never_read() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let ws = Ws::new();
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    let secret = ws.path("secret.md");
    let secret_text = "TOP SECRET: the outside file";
    std::fs::write(&secret, secret_text).unwrap();
    let dir = folder(&ws, "P-2026-0051");
    let target = dir.join("evidence/renter-plan.md");
    let honest = dir.join("evidence/honest.md");
    std::fs::copy(&target, &honest).unwrap();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let link = dir.join("evidence/.link");
            let copy = dir.join("evidence/.copy");
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if i.is_multiple_of(2) {
                    let _ = std::fs::remove_file(&link);
                    let _ = std::os::unix::fs::symlink(&secret, &link);
                    let _ = std::fs::rename(&link, &target);
                } else {
                    // a hard link is made as fast as a symbolic one, so that each state
                    // lasts about as long as the other
                    let _ = std::fs::remove_file(&copy);
                    let _ = std::fs::hard_link(&honest, &copy);
                    let _ = std::fs::rename(&copy, &target);
                }
                i += 1;
            }
        });
        // At least 40 rounds, and on until some import has gone through (a slow machine can
        // meet the link on every one of the first 40), but never more than 2000.
        let mut imported = 0;
        let mut round = 0;
        while round < 2000 && (round < 40 || imported < 3) {
            // each round a new content hash, so that the import writes again
            edit_note(&dir, round);
            if import(&ws, "ann", &dir).code == Some(0) {
                imported += 1;
            }
            round += 1;
        }
        stop.store(true, Ordering::Relaxed);
    });
    let c = ws.sql();
    let leaked: i64 = c
        .query_row(
            "SELECT count(*) FROM blobs WHERE instr(data, CAST(?1 AS BLOB)) > 0",
            [secret_text],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        leaked, 0,
        "the file outside the folder was read into the workspace"
    );
    assert!(
        ws.count("SELECT count(*) FROM revisions") >= 1,
        "no import succeeded at all"
    );
}

fn edit_note(dir: &Path, round: usize) {
    let p = dir.join("portfolio.yaml");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.retain(|l| !l.starts_with("# round"));
    lines.push(format!("# round {round}"));
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
}

/// Found by an independent pass: lowering the schema version must not make assay write a
/// baseline over rows changed behind its back.
#[test]
fn a_lowered_schema_version_does_not_launder_an_edit() {
    let (ws, _) = energy_workspace();
    ws.mark_submit("ann", "P-2026-0051", &all("not-yet"), &ENERGY_GATES);
    let c = Connection::open(&ws.db).unwrap();
    c.execute_batch(
        "UPDATE decisions SET outcome = 'awarded'; UPDATE portfolios SET outcome = 'awarded' WHERE id = 'P-2026-0051'; PRAGMA user_version = 8;",
    )
    .unwrap();
    drop(c);
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("decisions row"), "{o:?}");
    assert_eq!(
        ws.count("SELECT count(*) FROM audit WHERE action = 'baseline'"),
        0
    );
}

#[test]
fn objects_added_to_the_schema_are_named() {
    let (ws, _) = energy_workspace();
    let c = Connection::open(&ws.db).unwrap();
    c.execute_batch(
        "CREATE TRIGGER t_hide AFTER INSERT ON marks BEGIN UPDATE marks SET level = 'well-achieved'; END;
         CREATE VIEW v AS SELECT 1;",
    )
    .unwrap();
    drop(c);
    let o = ws.run("ann", &["audit", "verify"]);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("trigger t_hide") && o.stderr.contains("view v"),
        "{o:?}"
    );
}

#[test]
fn a_first_marking_in_progress_is_blind_too() {
    let ws = Ws::new();
    ws.import_some("lee", &["sustainable-home-energy"], &["P-2026-0051"]);
    ws.ok("lee", &["user", "add", "lee", "--role", "lead"]);
    ws.ok("lee", &["user", "add", "ann", "--role", "assessor"]);
    ws.ok("lee", &["user", "add", "mo", "--role", "moderator"]);
    ws.ok(
        "ann",
        &[
            "mark",
            "P-2026-0051",
            "--level",
            "energy-use=well-achieved",
            "--feedback",
            "energy-use=SECRET-IN-PROGRESS",
        ],
    );
    for args in [
        vec!["show", "P-2026-0051"],
        vec!["show", "P-2026-0051", "--json"],
        vec!["audit", "log", "P-2026-0051"],
        vec!["audit", "log"],
    ] {
        let out = ws.ok("mo", &args);
        assert!(
            !out.contains("SECRET") && !out.contains("well-achieved"),
            "{args:?} shows the marking in progress:\n{out}"
        );
    }
    assert!(
        ws.ok("ann", &["show", "P-2026-0051"])
            .contains("SECRET-IN-PROGRESS")
    );
    assert!(
        ws.ok("lee", &["show", "P-2026-0051"])
            .contains("SECRET-IN-PROGRESS")
    );
}

#[cfg(unix)]
#[test]
fn special_files_and_links_named_or_met_in_a_folder_are_rejected() {
    let ws = Ws::new();
    let fifo = ws.path("f.yaml");
    std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    let o = ws.run("ann", &["import".as_ref(), fifo.as_os_str()]);
    assert_clean_refusal(&o);
    assert!(
        o.stderr.contains("FIFO") && o.stdout.contains("1 rejected"),
        "{o:?}"
    );
    let dir = ws.path("d");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(sample("P-2026-0051"), dir.join("evil")).unwrap();
    let o = ws.run("ann", &["import".as_ref(), dir.as_os_str()]);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("symbolic link inside a folder"), "{o:?}");
    let o = ws.run(
        "ann",
        &["rubric".as_ref(), "show".as_ref(), fifo.as_os_str()],
    );
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("not a regular file"), "{o:?}");
}

#[test]
fn look_alike_versions_huge_seeds_and_empty_files_are_refused() {
    let ws = Ws::new();
    let text = std::fs::read_to_string(rubric_file("sustainable-home-energy")).unwrap();
    let f = ws.path("r.yaml");
    std::fs::write(
        &f,
        text.replace("version: \"2026.1\"", "version: \"2026.1\\u200b\""),
    )
    .unwrap();
    assert_ne!(
        std::fs::read_to_string(&f).unwrap(),
        text,
        "the version line was not found"
    );
    let o = ws.run("ann", &["rubric".as_ref(), "check".as_ref(), f.as_os_str()]);
    assert_clean_refusal(&o);
    assert!(o.stdout.contains("may hold only letters"), "{o:?}");
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    let o = ws.run(
        "ann",
        &["moderation", "sample", "--seed", "18446744073709551615"],
    );
    assert_eq!(o.code, Some(2), "{o:?}");
    let empty = ws.path("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let mut c = ws.bare();
    c.arg("--db").arg(&empty).args(["--as", "ann", "list"]);
    let o = Ws::exec(c);
    assert_clean_refusal(&o);
    assert!(o.stderr.contains("empty file"), "{o:?}");
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "list made a workspace"
    );
}

#[test]
fn show_says_whose_each_mark_is_after_a_handover() {
    let ws = Ws::new();
    ws.import_some("lee", &["sustainable-home-energy"], &["P-2026-0051"]);
    ws.ok("lee", &["user", "add", "lee", "--role", "lead"]);
    ws.ok("lee", &["user", "add", "zed", "--role", "assessor"]);
    ws.ok("lee", &["user", "add", "bob", "--role", "assessor"]);
    ws.mark_submit("zed", "P-2026-0051", &all("achieved"), &ENERGY_GATES);
    ws.ok(
        "lee",
        &["reopen", "P-2026-0051", "--rationale", "hand over"],
    );
    ws.ok("lee", &["assign", "P-2026-0051", "--to", "bob"]);
    ws.ok(
        "bob",
        &["mark", "P-2026-0051", "--level", "sharing=well-achieved"],
    );
    let out = ws.ok("lee", &["show", "P-2026-0051"]);
    assert!(out.contains("First marking — bob"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("energy-use") && l.contains("(by zed)")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("sharing") && !l.contains("(by")),
        "{out}"
    );
}
