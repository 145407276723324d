//! The comment bank: the rubric's comments, then the person's own feedback on the criterion,
//! the most used first; nobody else's.

use assay::app::Workspace;
use assay::app::bank::Source;
use assay::app::mark::{Change, Phase};

#[test]
fn own_feedback_is_offered_most_used_first_and_nobody_elses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut ann = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ann).unwrap();
    let fb = |t: &str| Change::Feedback("C1".into(), Some(t.into()));
    for id in ["P-2026-0041", "P-2026-0042"] {
        ann.save(id, Phase::First, &fb("Each cleaning step is logged."), None)
            .unwrap();
    }
    ann.save(
        "P-2026-0043",
        Phase::First,
        &fb("Say which tool was used."),
        None,
    )
    .unwrap();
    let bank = ann.comment_bank("P-2026-0044", "C1", None).unwrap();
    let mine: Vec<(&str, &Source)> = bank
        .iter()
        .filter(|c| matches!(c.source, Source::Mine(_)))
        .map(|c| (c.text.as_str(), &c.source))
        .collect();
    assert_eq!(
        mine,
        [
            ("Each cleaning step is logged.", &Source::Mine(2)),
            ("Say which tool was used.", &Source::Mine(1)),
        ]
    );
    // another person gets none of ann's words
    let bob = Workspace::open(&db, "bob".into()).unwrap();
    let theirs = bob.comment_bank("P-2026-0044", "C1", None).unwrap();
    assert!(
        theirs.iter().all(|c| !matches!(c.source, Source::Mine(_))),
        "{theirs:?}"
    );
    // another criterion's feedback is not offered for this one
    assert!(
        ann.comment_bank("P-2026-0044", "C2", None)
            .unwrap()
            .iter()
            .all(|c| c.text != "Say which tool was used.")
    );
}

/// "Save this as a comment": a saved comment is offered first among one's own, for that
/// criterion of the rubric, to its owner only; it is recorded and vouched for, and can be
/// taken out again.
#[test]
fn a_saved_comment_is_offered_first_recorded_and_removable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut ann = Workspace::open(&db, "ann".into()).unwrap();
    assay::app::seed::seed(&mut ann).unwrap();
    let text = "Name the data set and its size.";
    assert!(ann.save_comment("P-2026-0041", "C1", text, true).unwrap());
    assert!(
        !ann.save_comment("P-2026-0041", "C1", text, true).unwrap(),
        "saved once"
    );
    assert!(ann.save_comment("P-2026-0041", "C1", "  ", true).is_err());
    assert!(ann.save_comment("P-2026-0041", "C9", text, true).is_err());
    // offered in another portfolio of the rubric, after the rubric's own, before feedback
    ann.save(
        "P-2026-0042",
        Phase::First,
        &Change::Feedback("C1".into(), Some("Say which tool was used.".into())),
        None,
    )
    .unwrap();
    let bank = ann.comment_bank("P-2026-0044", "C1", None).unwrap();
    let at = |t: &str| bank.iter().position(|c| c.text == t).unwrap();
    assert_eq!(bank[at(text)].source, Source::Saved);
    assert!(at(text) < at("Say which tool was used."), "{bank:?}");
    assert!(
        bank.iter()
            .take(at(text))
            .all(|c| matches!(c.source, Source::Criterion | Source::Level(_))),
        "{bank:?}"
    );
    // not for another criterion, not for another person
    assert!(
        ann.comment_bank("P-2026-0044", "C2", None)
            .unwrap()
            .iter()
            .all(|c| c.text != text)
    );
    let bob = Workspace::open(&db, "bob".into()).unwrap();
    assert!(
        bob.comment_bank("P-2026-0044", "C1", None)
            .unwrap()
            .iter()
            .all(|c| c.text != text)
    );
    // recorded and vouched for: an edit behind assay's back is found
    let problems = |ws: &Workspace| ws.verify(&mut |_, _, _| {}).unwrap().problems;
    assert!(problems(&ann).is_empty(), "{:?}", problems(&ann));
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute("UPDATE saved_comments SET text = 'Forged.'", [])
        .unwrap();
    let found = problems(&ann);
    assert!(
        found.iter().any(|p| p.message.contains("saved_comments")),
        "{found:?}"
    );
    c.execute("UPDATE saved_comments SET text = ?1", [text])
        .unwrap();
    assert!(problems(&ann).is_empty());
    // taken out again
    assert!(ann.save_comment("P-2026-0041", "C1", text, false).unwrap());
    let bank = ann.comment_bank("P-2026-0044", "C1", None).unwrap();
    assert!(bank.iter().all(|c| c.source != Source::Saved), "{bank:?}");
    assert!(problems(&ann).is_empty(), "{:?}", problems(&ann));
}
