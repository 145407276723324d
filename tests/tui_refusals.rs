//! The workbench words a service's refusal from its facts, with its own keys and no flags.

use assay::app::refusal::Refusal;
use assay::tui::model::{Doing, Model, Msg};
use assay::tui::theme::Theme;
use assay::tui::update::update;

fn shown(doing: Doing, refusal: Refusal) -> String {
    let mut m = Model::new("ann".into(), "w.db".into(), Theme { mono: true }, false);
    update(&mut m, Msg::Refused { doing, refusal });
    m.message.expect("a message").0
}

#[test]
fn refusals_are_worded_with_keys_not_flags() {
    let s = shown(Doing::Settle, Refusal::SecondSubmitted { id: "P-1".into() });
    assert!(s.starts_with("not settled: the second marks of P-1"), "{s}");
    assert!(s.contains("C confirms") && s.contains("A amends"), "{s}");
    let s = shown(
        Doing::Save,
        Refusal::Conflict {
            id: "P-1".into(),
            by: Some(("bob".into(), "2026-01-01T00:00:00Z".into())),
        },
    );
    assert!(
        s.contains("by bob") && s.ends_with("as it is stored"),
        "{s}"
    );
    let s = shown(
        Doing::Submit,
        Refusal::RationaleMissing {
            what: "a referral".into(),
        },
    );
    assert_eq!(s, "not submitted: a referral needs a written rationale");
    for s in [
        shown(
            Doing::Save,
            Refusal::Frozen {
                id: "P-1".into(),
                status: "submitted".into(),
                lead_may_reopen: true,
            },
        ),
        shown(
            Doing::Save,
            Refusal::NotPermitted {
                who: "zed".into(),
                doing: "mark portfolios".into(),
                needed: vec![assay::domain::role::Role::Assessor],
                registered_as: None,
            },
        ),
    ] {
        assert!(!s.contains("--") && !s.contains("assay "), "{s}");
    }
}
