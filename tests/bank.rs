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
