//! The decision rule: from a rubric, the chosen levels and the confirmed gates to a score, an
//! outcome, a grade and the reasons behind them. Pure and exact: no floats decide anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::num::Milli;
use super::rubric::Rubric;

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Awarded,
    NotYet,
    Referred,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Awarded => "awarded",
            Outcome::NotYet => "not_yet",
            Outcome::Referred => "referred",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "awarded" => Some(Outcome::Awarded),
            "not_yet" => Some(Outcome::NotYet),
            "referred" => Some(Outcome::Referred),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a marker has chosen so far: criterion id → level id, and the confirmed gate ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marks {
    pub levels: BTreeMap<String, String>,
    pub gates: BTreeSet<String>,
}

/// An exact score: `100 × num / den` percent, where `num = Σ w·p` and `den = Σ w·m` in
/// thousandths of weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Score {
    pub num: i128,
    pub den: i128,
}

impl Score {
    /// The score in percent, for display only.
    pub fn percent(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            100.0 * self.num as f64 / self.den as f64
        }
    }
    /// Rounded to two decimals, for display and export.
    pub fn rounded(self) -> f64 {
        (self.percent() * 100.0).round() / 100.0
    }
    /// `score ≥ mark`, exactly.
    pub fn reaches(self, mark: Milli) -> bool {
        // 100·num/den ≥ mark/1000  ⇔  100 000·num ≥ mark·den (den > 0)
        100_000 * self.num >= i128::from(mark.0) * self.den
    }
    /// `|score − mark| ≤ margin`, exactly.
    pub fn within(self, mark: Milli, margin: Milli) -> bool {
        let diff = (100_000 * self.num - i128::from(mark.0) * self.den).abs();
        diff <= i128::from(margin.0) * self.den
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.rounded();
        if r.fract() == 0.0 {
            write!(f, "{r:.0}")
        } else {
            let s = format!("{r:.2}");
            f.write_str(s.trim_end_matches('0'))
        }
    }
}

/// Why the rule gives the outcome it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// A criterion has no level yet.
    Unmarked { criterion: String },
    /// A gate is not confirmed.
    GateOpen { gate: String },
    /// A required criterion is below its meeting level.
    RequiredNotMet { criterion: String, level: String },
    /// The score against the pass mark.
    Score {
        score: String,
        pass_mark: String,
        reached: bool,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unmarked { criterion } => write!(f, "{criterion} has no level yet"),
            Reason::GateOpen { gate } => write!(f, "gate {gate} is not confirmed"),
            Reason::RequiredNotMet { criterion, level } => write!(
                f,
                "required criterion {criterion} is at `{level}`, below its meeting level"
            ),
            Reason::Score {
                score,
                pass_mark,
                reached: true,
            } => write!(f, "score {score} reaches the pass mark {pass_mark}"),
            Reason::Score {
                score, pass_mark, ..
            } => write!(f, "score {score} is below the pass mark {pass_mark}"),
        }
    }
}

/// The rule's verdict on a set of marks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub score: Score,
    /// What the rule gives now (`awarded` or `not_yet`).
    pub outcome: Outcome,
    pub grade: Option<String>,
    pub borderline: bool,
    /// Every criterion has a level.
    pub complete: bool,
    pub reasons: Vec<Reason>,
    pub unmarked: Vec<String>,
    pub open_gates: Vec<String>,
}

impl Evaluation {
    /// Reasons that stand in the way of an award (all but a reached score).
    pub fn blockers(&self) -> impl Iterator<Item = &Reason> {
        self.reasons
            .iter()
            .filter(|r| !matches!(r, Reason::Score { reached: true, .. }))
    }
}

/// Applies the rubric's rule. Unmarked criteria count as zero points (so a running score can be
/// shown while marking) and make the outcome `not_yet`. Levels or gates the rubric does not know
/// are ignored.
pub fn evaluate(rubric: &Rubric, marks: &Marks) -> Evaluation {
    let mut num: i128 = 0;
    let mut den: i128 = 0;
    let mut reasons = Vec::new();
    let mut unmarked = Vec::new();
    let mut open_gates = Vec::new();
    let mut required_ok = true;
    for c in &rubric.criteria {
        let w = i128::from(c.weight.0);
        den += w * i128::from(c.max_points());
        match marks.levels.get(&c.id).and_then(|l| c.level(l)) {
            Some((_, level)) => {
                num += w * i128::from(level.points);
                if c.required && !level.meets {
                    required_ok = false;
                    reasons.push(Reason::RequiredNotMet {
                        criterion: c.id.clone(),
                        level: level.id.clone(),
                    });
                }
            }
            None => {
                unmarked.push(c.id.clone());
                reasons.push(Reason::Unmarked {
                    criterion: c.id.clone(),
                });
            }
        }
    }
    for g in &rubric.gates {
        if !marks.gates.contains(&g.id) {
            open_gates.push(g.id.clone());
            reasons.push(Reason::GateOpen { gate: g.id.clone() });
        }
    }
    let score = Score { num, den };
    let reached = den > 0 && score.reaches(rubric.decision.pass_mark);
    reasons.push(Reason::Score {
        score: score.to_string(),
        pass_mark: rubric.decision.pass_mark.to_string(),
        reached,
    });
    let complete = unmarked.is_empty();
    let awarded = complete && open_gates.is_empty() && required_ok && reached;
    let outcome = if awarded {
        Outcome::Awarded
    } else {
        Outcome::NotYet
    };
    let grade = if awarded {
        rubric
            .decision
            .grades
            .iter()
            .filter(|g| score.reaches(g.min))
            .max_by_key(|g| g.min)
            .map(|g| g.name.clone())
    } else {
        None
    };
    let borderline = den > 0
        && score.within(
            rubric.decision.pass_mark,
            rubric.moderation.borderline_margin,
        );
    Evaluation {
        score,
        outcome,
        grade,
        borderline,
        complete,
        reasons,
        unmarked,
        open_gates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rubric::load;
    use proptest::prelude::*;

    fn rubric(weights: [&str; 3], pass: &str, required_first: bool) -> Rubric {
        let text = format!(
            r#"format: assay.rubric/v1
id: r
version: "1"
title: T
credential:
  awarding_body: {{name: B, id: https://b.example/, country: IE}}
  eqf_level: 5
  ects: 2
  pathway: diagonal
  participation: online
  assessment: portfolio
  quality_assurance: QA
learning_outcomes:
  - {{id: LO1, text: x}}
gates:
  - {{id: identity, text: x}}
criteria:
  - id: C1
    title: a
    outcomes: [LO1]
    weight: {w0}
    required: {required_first}
    levels:
      - {{id: no, label: No, points: 0, descriptor: d}}
      - {{id: yes, label: Yes, points: 1, meets: true, descriptor: d}}
      - {{id: top, label: Top, points: 3, descriptor: d}}
  - id: C2
    title: b
    outcomes: [LO1]
    weight: {w1}
    levels:
      - {{id: no, label: No, points: 0, descriptor: d}}
      - {{id: yes, label: Yes, points: 2, descriptor: d}}
  - id: C3
    title: c
    outcomes: [LO1]
    weight: {w2}
    levels:
      - {{id: no, label: No, points: 0, descriptor: d}}
      - {{id: yes, label: Yes, points: 1, descriptor: d}}
decision:
  pass_mark: {pass}
  grades:
    - {{name: Distinction, min: 85}}
    - {{name: Pass, min: {pass}}}
"#,
            w0 = weights[0],
            w1 = weights[1],
            w2 = weights[2],
        );
        load("t.yaml", text.as_bytes())
            .unwrap_or_else(|d| panic!("{d}"))
            .rubric
    }

    fn marks(levels: &[(&str, &str)], gates: &[&str]) -> Marks {
        Marks {
            levels: levels
                .iter()
                .map(|(c, l)| (c.to_string(), l.to_string()))
                .collect(),
            gates: gates.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn exactly_at_pass_mark_passes_with_decimal_weights() {
        // weights 0.1, 0.2, 0.3; max = 0.1·3 + 0.2·2 + 0.3·1 = 1.0
        // C1 top (0.3) + C2 yes (0.4) + C3 no (0) = 0.7 → exactly 70 %.
        let r = rubric(["0.1", "0.2", "0.3"], "70", false);
        let e = evaluate(
            &r,
            &marks(&[("C1", "top"), ("C2", "yes"), ("C3", "no")], &["identity"]),
        );
        assert_eq!(e.outcome, Outcome::Awarded, "{:?}", e.reasons);
        assert_eq!(e.score.to_string(), "70");
        assert_eq!(e.grade.as_deref(), Some("Pass"));
        assert!(e.borderline);
        // In floats 0.1·3 + 0.2·2 = 0.7000000000000001 and 0.1·3+0.2·2+0.3 = 1.0000000000000002:
        // the exact rule must not depend on that.
        let r = rubric(["0.1", "0.2", "0.3"], "70.001", false);
        let e = evaluate(
            &r,
            &marks(&[("C1", "top"), ("C2", "yes"), ("C3", "no")], &["identity"]),
        );
        assert_eq!(e.outcome, Outcome::NotYet);
    }

    #[test]
    fn reasons_name_gates_required_and_score() {
        let r = rubric(["1", "1", "1"], "50", true);
        let e = evaluate(
            &r,
            &marks(&[("C1", "no"), ("C2", "yes"), ("C3", "yes")], &[]),
        );
        assert_eq!(e.outcome, Outcome::NotYet);
        let text: Vec<String> = e.reasons.iter().map(|r| r.to_string()).collect();
        assert!(
            text.contains(&"gate identity is not confirmed".to_string()),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.starts_with("required criterion C1")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("reaches the pass mark 50")),
            "{text:?}"
        );
        assert_eq!(e.grade, None);
        let e = evaluate(&r, &marks(&[("C1", "yes")], &["identity"]));
        assert!(!e.complete);
        assert_eq!(e.unmarked, vec!["C2", "C3"]);
        assert_eq!(e.outcome, Outcome::NotYet);
    }

    #[test]
    fn grade_is_highest_band_reached() {
        let r = rubric(["1", "1", "1"], "50", false);
        let e = evaluate(
            &r,
            &marks(
                &[("C1", "top"), ("C2", "yes"), ("C3", "yes")],
                &["identity"],
            ),
        );
        assert_eq!(e.score.to_string(), "100");
        assert_eq!(e.grade.as_deref(), Some("Distinction"));
        assert!(!e.borderline);
    }

    fn level_ids(c: usize) -> &'static [&'static str] {
        match c {
            0 => &["no", "yes", "top"],
            _ => &["no", "yes"],
        }
    }

    proptest! {
        #[test]
        fn raising_a_level_never_lowers_the_score(
            w in proptest::array::uniform3(1u32..5000),
            picks in proptest::array::uniform3(0usize..3),
            which in 0usize..3,
            gates in any::<bool>(),
        ) {
            let ws: Vec<String> = w.iter().map(|x| Milli(i64::from(*x)).to_string()).collect();
            let r = rubric([&ws[0], &ws[1], &ws[2]], "60", true);
            let pick = |c: usize, p: usize| level_ids(c)[p.min(level_ids(c).len() - 1)];
            let levels: Vec<(&str, &str)> = (0..3).map(|c| (["C1","C2","C3"][c], pick(c, picks[c]))).collect();
            let g: &[&str] = if gates { &["identity"] } else { &[] };
            let before = evaluate(&r, &marks(&levels, g));
            let mut raised = levels.clone();
            let cur = level_ids(which).iter().position(|l| *l == raised[which].1).unwrap();
            if cur + 1 < level_ids(which).len() {
                raised[which].1 = level_ids(which)[cur + 1];
            }
            let after = evaluate(&r, &marks(&raised, g));
            prop_assert!(after.score.num * before.score.den >= before.score.num * after.score.den);
            prop_assert!(before.score.percent() >= 0.0 && before.score.percent() <= 100.0);
            prop_assert!(after.score.percent() >= 0.0 && after.score.percent() <= 100.0);
        }

        #[test]
        fn all_top_levels_and_gates_award(w in proptest::array::uniform3(1u32..100_000), pass in 0u32..=84) {
            let ws: Vec<String> = w.iter().map(|x| Milli(i64::from(*x)).to_string()).collect();
            let r = rubric([&ws[0], &ws[1], &ws[2]], &pass.to_string(), true);
            let e = evaluate(&r, &marks(&[("C1", "top"), ("C2", "yes"), ("C3", "yes")], &["identity"]));
            prop_assert_eq!(e.outcome, Outcome::Awarded);
            prop_assert_eq!(e.score.to_string(), "100");
        }
    }
}
