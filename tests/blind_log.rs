//! Blind rules also hold in the history: `assay audit log` does not show a moderator the first
//! marks, decision or draw reason of a drawn portfolio before their own second marks are in.
//! And once people are registered, only they import.

use std::path::Path;

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};

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

#[test]
fn audit_log_is_blind_for_the_moderator() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    {
        let mut ann = Workspace::open(&db, "ann".into()).unwrap();
        assay::app::seed::seed(&mut ann).unwrap();
        for (c, l) in ["C1", "C2", "C3", "C4", "C5"].iter().zip([
            "developing",
            "developing",
            "not-yet",
            "not-yet",
            "not-yet",
        ]) {
            ann.save(
                "P-2026-0043",
                Phase::First,
                &Change::Level(c.to_string(), Some(l.into())),
                None,
            )
            .unwrap();
        }
        ann.save(
            "P-2026-0043",
            Phase::First,
            &Change::Feedback("C1".into(), Some("SECRET-FEEDBACK".into())),
            None,
        )
        .unwrap();
        ann.submit("P-2026-0043", Phase::First, None, None, None)
            .unwrap();
        ann.draw_sample(None, Some(1)).unwrap();
    }
    let mo = String::from_utf8(assay(&db, "mo", &["audit", "log", "P-2026-0043"]).stdout).unwrap();
    assert!(!mo.contains("SECRET-FEEDBACK"), "{mo}");
    assert!(!mo.contains("always:not_yet"), "{mo}");
    assert!(!mo.contains("decision/P-2026-0043/first"), "{mo}");
    let all = String::from_utf8(assay(&db, "mo", &["audit", "log"]).stdout).unwrap();
    assert!(!all.contains("SECRET-FEEDBACK"));
    // the first marker sees their own history
    let ann =
        String::from_utf8(assay(&db, "ann", &["audit", "log", "P-2026-0043"]).stdout).unwrap();
    assert!(ann.contains("SECRET-FEEDBACK"));
}

#[test]
fn only_registered_people_import_once_someone_is() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    assert!(
        assay(&db, "lee", &["user", "add", "lee", "--role", "lead"])
            .status
            .success()
    );
    let rubrics = concat!(env!("CARGO_MANIFEST_DIR"), "/rubrics");
    let out = assay(&db, "eve", &["import", rubrics]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not registered"));
    assert!(assay(&db, "lee", &["import", rubrics]).status.success());
}
