//! Records for the export tests: every sample rubric in `rubrics/`, awarded and not, with and
//! without grades, moderated, with unicode names, with and without an email.

use std::collections::BTreeSet;

use super::{CriterionMark, DecisionInfo, EvidenceInfo, ExportRecord, Learner, ModerationInfo};
use crate::domain::decision::{self, Marks, Outcome};
use crate::domain::rubric::{self, Rubric};

pub(crate) fn dlp() -> Rubric {
    load(
        "data-literacy-practitioner.yaml",
        include_bytes!("../../../rubrics/data-literacy-practitioner.yaml"),
    )
}

pub(crate) fn adv() -> Rubric {
    load(
        "applied-data-visualisation.yaml",
        include_bytes!("../../../rubrics/applied-data-visualisation.yaml"),
    )
}

pub(crate) fn she() -> Rubric {
    load(
        "sustainable-home-energy.yaml",
        include_bytes!("../../../rubrics/sustainable-home-energy.yaml"),
    )
}

/// The community energy rubric with its grade bands removed: a rubric without grades.
pub(crate) fn she_ungraded() -> Rubric {
    let mut r = she();
    r.decision.grades.clear();
    r
}

fn load(name: &str, bytes: &[u8]) -> Rubric {
    rubric::load(name, bytes)
        .unwrap_or_else(|e| panic!("{name} loads: {e:?}"))
        .rubric
}

pub(crate) fn learner(id: &str, name: &str, email: Option<&str>) -> Learner {
    Learner {
        id: id.into(),
        name: name.into(),
        email: email.map(Into::into),
    }
}

pub(crate) fn evidence(
    id: &str,
    title: &str,
    kind: &str,
    url: Option<&str>,
    claims: &[&str],
    note: Option<&str>,
) -> EvidenceInfo {
    EvidenceInfo {
        id: id.into(),
        title: title.into(),
        kind: kind.into(),
        file: url.is_none().then(|| format!("evidence/{id}.md")),
        url: url.map(Into::into),
        sha256: Some("ab".repeat(32)),
        size: Some(2048),
        date: "2025-06".into(),
        hours: Some(12.0),
        claims: claims.iter().map(|c| (*c).into()).collect(),
        note: note.map(Into::into),
    }
}

/// A released record whose score, outcome and grade come from the rubric's own rule.
/// `levels` lists (criterion, level, feedback); `gates` the confirmed gates (`None`: all).
pub(crate) fn record(
    rubric: &Rubric,
    portfolio: &str,
    decision_id: i64,
    learner: Learner,
    levels: &[(&str, &str, &str)],
    gates: Option<&[&str]>,
    evidence: Vec<EvidenceInfo>,
) -> ExportRecord {
    let gates: Vec<String> = match gates {
        Some(g) => g.iter().map(|s| (*s).into()).collect(),
        None => rubric.gates.iter().map(|g| g.id.clone()).collect(),
    };
    let marks = Marks {
        levels: levels
            .iter()
            .map(|(c, l, _)| ((*c).into(), (*l).into()))
            .collect(),
        gates: gates.iter().cloned().collect::<BTreeSet<_>>(),
    };
    let ev = decision::evaluate(rubric, &marks);
    ExportRecord {
        workspace_id: "6f1c2a9e-3b7d-4c55-9e0a-2d8f4b1a7c30".into(),
        salt: "c0ffee-5a17".into(),
        portfolio_id: portfolio.into(),
        revision: 1,
        learner,
        submitted: "2026-03-02".into(),
        statement: Some("My reflective statement.".into()),
        evidence,
        marks: levels
            .iter()
            .map(|(c, l, f)| CriterionMark {
                criterion: (*c).into(),
                level: (*l).into(),
                feedback: (!f.is_empty()).then(|| (*f).into()),
                by: "assessor.one".into(),
                at: "2026-03-10T14:00:00Z".into(),
            })
            .collect(),
        gates,
        comment: Some("A clear, well organised portfolio.".into()),
        decision: DecisionInfo {
            id: decision_id,
            outcome: ev.outcome,
            computed: ev.outcome,
            grade: ev.grade.clone(),
            score: ev.score.rounded(),
            borderline: ev.borderline,
            rationale: None,
            source: super::Source::FirstMarking,
            decided_by: "assessor.one".into(),
            decided_at: "2026-03-10T14:05:00+00:00".into(),
            first_marker: "assessor.one".into(),
        },
        moderation: None,
        released_at: "2026-03-20T09:00:00Z".into(),
    }
}

/// Data Literacy Practitioner, awarded with Merit, moderated (confirmed); a learner with an
/// Irish name and an email in mixed case; feedback with a terminal escape sequence in it.
pub(crate) fn dlp_awarded() -> (Rubric, ExportRecord) {
    let r = dlp();
    let mut rec = record(
        &r,
        "P-2026-0041",
        41,
        learner(
            "L-1138",
            "Aoife Ní Bhriain",
            Some("Aoife.NiBhriain@Example.org"),
        ),
        &[
            (
                "C1",
                "exceeds",
                "The cleaning script and data dictionary are exemplary.",
            ),
            (
                "C2",
                "meets",
                "The dashboard answers the committee's question.\u{1b}]0;pwned\u{7}",
            ),
            (
                "C3",
                "developing",
                "Limitations are named but not tied to the conclusion.",
            ),
            ("C4", "exceeds", "Your anonymisation checklist is in use."),
            ("C5", "meets", ""),
        ],
        None,
        vec![
            evidence(
                "E1",
                "Three years of food bank records cleaned",
                "informal",
                None,
                &["C1", "C3"],
                Some("Report by Aoife Ní Bhriain (learner L-1138) for the committee."),
            ),
            evidence(
                "E3",
                "Certificate, Data Protection Essentials",
                "non-formal",
                None,
                &["C4"],
                None,
            ),
            evidence(
                "E4",
                "Public dashboard of food parcels",
                "informal",
                Some("https://public.example.org/views/food-parcels"),
                &["C2"],
                Some("Built from the cleaned table; write to aoife.nibhriain@example.org."),
            ),
        ],
    );
    rec.moderation = Some(ModerationInfo {
        moderator: "moderator.two".into(),
        second_marker: "moderator.two".into(),
        reason: "sample".into(),
        second_marks: rec.marks.clone(),
        second_comment: None,
        second_outcome: rec.decision.outcome,
        second_score: rec.decision.score,
        settlement: "confirmed".into(),
        rationale: None,
        settled_at: "2026-03-15T10:00:00Z".into(),
    });
    (r, rec)
}

/// Applied Data Visualisation, awarded after moderation amended the first marks; a learner
/// without an email whose name is Vietnamese.
pub(crate) fn adv_awarded() -> (Rubric, ExportRecord) {
    let r = adv();
    let mut rec = record(
        &r,
        "P-2026-0107",
        107,
        learner("S20261234", "Nguyễn Thị Minh Khai", None),
        &[
            ("chart-accuracy", "merit", "Direct labels work well."),
            ("encoding-choice", "pass", ""),
            (
                "accessibility",
                "distinction",
                "Screen reader test documented.",
            ),
            (
                "pipeline",
                "distinction",
                "Ran first time from a clean clone.",
            ),
            ("audience", "merit", ""),
            (
                "user-evaluation",
                "pass",
                "Three users, one change: enough.",
            ),
        ],
        None,
        vec![evidence(
            "E1",
            "Project repository",
            "formal",
            Some("https://git.example.edu/dataviz/project"),
            &["pipeline", "chart-accuracy"],
            None,
        )],
    );
    rec.moderation = Some(ModerationInfo {
        moderator: "moderator.two".into(),
        second_marker: "moderator.two".into(),
        reason: "borderline".into(),
        second_marks: rec.marks.clone(),
        second_comment: None,
        second_outcome: rec.decision.outcome,
        second_score: rec.decision.score,
        settlement: "amended".into(),
        rationale: Some("Second marker's pipeline level preferred.".into()),
        settled_at: "2026-03-16T10:00:00Z".into(),
    });
    rec.decision.source = super::Source::SecondMarking;
    rec.decision.decided_by = "moderator.two".into();
    (r, rec)
}

/// Sustainable Home Energy, awarded; with grades or (the rubric copy without bands) without.
pub(crate) fn she_awarded(graded: bool) -> (Rubric, ExportRecord) {
    let r = if graded { she() } else { she_ungraded() };
    let rec = record(
        &r,
        "P-2026-0201",
        201,
        learner(
            "CE-0077",
            "Seán Ó Briain-Müller",
            Some("sean.obm@example.ie"),
        ),
        &[
            ("energy-use", "well-achieved", "A full year of readings."),
            ("measures", "achieved", ""),
            ("action", "achieved", "Good before-and-after comparison."),
            ("sharing", "well-achieved", ""),
        ],
        None,
        vec![evidence(
            "E1",
            "Energy diary",
            "informal",
            None,
            &["energy-use", "action"],
            Some("Twelve months of meter readings."),
        )],
    );
    (r, rec)
}

/// Data Literacy Practitioner, not yet: a required criterion below its meeting level, another
/// criterion below it too, and one gate unconfirmed.
pub(crate) fn dlp_not_yet() -> (Rubric, ExportRecord) {
    let r = dlp();
    let rec = record(
        &r,
        "P-2026-0045",
        45,
        learner("L-2201", "Zoë O'Sullivan", Some("zoe@example.org")),
        &[
            (
                "C1",
                "developing",
                "Show the steps you took, not only the result.",
            ),
            ("C2", "meets", "A clear chart answering a real question."),
            ("C3", "not-yet", ""),
            ("C4", "meets", "Good pseudonymisation."),
            ("C5", "exceeds", "A thoughtful plan."),
        ],
        Some(&["identity", "authenticity", "currency"]),
        vec![evidence(
            "E1",
            "Monthly report spreadsheet",
            "informal",
            None,
            &["C1", "C2"],
            None,
        )],
    );
    assert_eq!(rec.decision.outcome, Outcome::NotYet);
    (r, rec)
}

/// Every awarded record the credential tests map.
pub(crate) fn awarded() -> Vec<(Rubric, ExportRecord)> {
    let all = vec![
        dlp_awarded(),
        adv_awarded(),
        she_awarded(true),
        she_awarded(false),
    ];
    for (_, rec) in &all {
        assert_eq!(
            rec.decision.outcome,
            Outcome::Awarded,
            "{} is awarded",
            rec.portfolio_id
        );
    }
    all
}

/// An awarded record full of awkward learner text: escape sequences, markup, a bad email, a
/// `javascript:` link, an unknown claim, a non-finite hours value, a released time with an
/// offset.
pub(crate) fn hostile() -> (Rubric, ExportRecord) {
    let (r, mut rec) = dlp_awarded();
    rec.portfolio_id = "P-2026-0099".into();
    rec.decision.id = 99;
    rec.learner = learner(
        "L-9\u{1b}[2J",
        "Ana \u{1b}]0;x\u{7}<b>Andromeda</b>\t",
        Some("  not an email  "),
    );
    rec.evidence = vec![EvidenceInfo {
        id: "E9".into(),
        title: String::new(),
        kind: "weird\u{7}".into(),
        file: None,
        url: Some("javascript:alert(1)".into()),
        sha256: None,
        size: None,
        date: "2025".into(),
        hours: Some(f64::NAN),
        claims: vec!["ZZ\u{9b}31m".into(), "C1".into()],
        note: Some("\u{202e}reversed\u{202c} and <script>alert(1)</script>".into()),
    }];
    rec.released_at = "2026-03-20T11:00:00+02:00".into();
    (r, rec)
}
