//! The feedback letter: one Markdown letter per released decision, written to the learner.
//!
//! It names the credential (title, awarding body, ECTS, EQF level), says the outcome in plain
//! words with the grade and the score against the pass mark, and then, criterion by criterion,
//! gives the level reached with its descriptor, the next level's descriptor (what more would
//! have been needed; "Top level reached" at the top) and the assessor's feedback; then the
//! overall comment. A `not_yet` letter ends with what to add: every criterion below its
//! meeting level and every check not yet confirmed.
//!
//! Only what is written for the learner goes in: the feedback and the overall comment of the
//! marking in force (for an amended decision, the second marker's, with their levels). The
//! rationale of a referral or an override, the settlement's rationale and the reason a portfolio
//! was drawn are internal and never appear.
//!
//! Everything taken from the record (names, feedback, comments) is untrusted text:
//! it goes through [`sanitize`], which strips control
//! characters and terminal escape sequences visibly, and its `<` is escaped so that a
//! Markdown-to-HTML step cannot be handed raw HTML. Multi-line texts are set as block quotes,
//! so a heading or list inside them stays inside the quote. Assessor and moderator names are
//! not given.

use std::fmt::Write as _;

use super::ExportRecord;
use super::common;
use super::countries;
use crate::domain::decision::Outcome;
use crate::domain::rubric::{Criterion, Rubric};
use crate::domain::sanitize::{sanitize_for_file, sanitize_line};

/// Writes the learner's feedback letter for one released decision.
pub fn letter(rubric: &Rubric, rec: &ExportRecord) -> String {
    let mut s = String::new();
    let cr = &rubric.credential;
    let d = &rec.decision;
    let name = inline(rec.learner.name.trim());

    let _ = writeln!(s, "# Feedback on your portfolio for {}\n", rubric.title);
    if name.is_empty() {
        s.push_str("Dear learner,\n\n");
    } else {
        let _ = writeln!(s, "Dear {name},\n");
    }
    let _ = writeln!(
        s,
        "This letter explains the decision on your portfolio {} (submitted {}), criterion by criterion.\n",
        inline(&rec.portfolio_id),
        inline(&rec.submitted)
    );

    s.push_str("## The credential\n\n");
    let _ = writeln!(
        s,
        "- **Micro-credential:** {} ({}, version {})",
        rubric.title, rubric.id, rubric.version
    );
    let country = countries::by_alpha2(&cr.awarding_body.country)
        .map_or_else(|| cr.awarding_body.country.clone(), |(_, n)| n.to_string());
    let _ = writeln!(
        s,
        "- **Awarding body:** {}, {country}",
        cr.awarding_body.name
    );
    let hours = cr
        .workload_hours
        .map(|h| format!(" (about {h} hours of learning)"))
        .unwrap_or_default();
    let credits = if cr.ects == crate::domain::num::Milli::from_int(1) {
        "credit"
    } else {
        "credits"
    };
    let _ = writeln!(s, "- **Volume:** {} ECTS {credits}{hours}", cr.ects);
    let _ = writeln!(
        s,
        "- **Level:** EQF level {} of the European Qualifications Framework",
        cr.eqf_level
    );
    let _ = writeln!(
        s,
        "- **Decision released:** {}\n",
        inline(&common::date_of(&rec.released_at))
    );

    outcome_section(&mut s, rubric, rec);

    s.push_str("## Criterion by criterion\n");
    for (i, c) in rubric.criteria.iter().enumerate() {
        criterion_section(&mut s, i + 1, c, rec);
    }

    if let Some(comment) = rec.comment.as_deref().filter(|c| !c.trim().is_empty()) {
        s.push_str("\n## Overall comment\n\n");
        s.push_str(&quote(comment));
    }

    if d.outcome == Outcome::NotYet {
        what_to_add(&mut s, rubric, rec);
    }

    let _ = write!(
        s,
        "\n---\n\nThe criteria, the checks and the decision rule are those of rubric {} — the same text every assessor and moderator works from. {}\n",
        rubric.key(),
        common::decision_rule_text(rubric)
    );
    s
}

fn outcome_section(s: &mut String, rubric: &Rubric, rec: &ExportRecord) {
    let d = &rec.decision;
    s.push_str("## Outcome\n\n");
    match d.outcome {
        Outcome::Awarded => {
            match d.grade.as_deref().filter(|g| !g.trim().is_empty()) {
                Some(g) => {
                    let _ = writeln!(s, "**Awarded, with the grade {}.**", inline(g));
                }
                None => s.push_str("**Awarded.**\n"),
            }
            let _ = writeln!(
                s,
                "You have shown what the micro-credential *{}* asks for, and it is awarded to you.\n",
                rubric.title
            );
        }
        Outcome::NotYet => {
            s.push_str("**Not yet awarded.**\n");
            s.push_str(
                "Your portfolio does not yet show everything this micro-credential asks for. This is not a fail: the section *What to add* below lists what is missing, and you can add evidence and submit again.\n\n",
            );
        }
        Outcome::Referred => {
            s.push_str("**Referred for further review.**\n");
            s.push_str(
                "No award can be made on your portfolio as it stands; it has been referred for further review. The awarding body will contact you about the next steps.\n\n",
            );
        }
    }
    let _ = writeln!(
        s,
        "Your score is **{}%**; the pass mark is {}%.",
        common::score_text(d.score),
        rubric.decision.pass_mark
    );
    s.push('\n');
    // The reasons of a referral or an override are internal (they may name people, concerns of
    // integrity, what a panel will review): the letter says what the decision is and what
    // happens next, never why in the assessor's own words.
    if d.outcome != d.computed && d.outcome != Outcome::Referred {
        let _ = writeln!(
            s,
            "The rubric's rule on the marks alone gives *{}*; the assessors decided *{}* on the whole of your evidence, as the awarding body's procedures allow.\n",
            outcome_words(d.computed),
            outcome_words(d.outcome)
        );
    }
    if let Some(m) = &rec.moderation {
        let what = if m.settlement == "amended" {
            "the decision was settled on the second assessor's marks, which are the ones given below"
        } else {
            "the first decision was confirmed"
        };
        let _ = writeln!(
            s,
            "As part of quality assurance your portfolio was also marked by a second assessor; {what}.\n"
        );
    }
}

fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Awarded => "awarded",
        Outcome::NotYet => "not yet awarded",
        Outcome::Referred => "referred",
    }
}

fn criterion_section(s: &mut String, n: usize, c: &Criterion, rec: &ExportRecord) {
    let _ = writeln!(
        s,
        "\n### {n}. {}{}\n",
        c.title,
        if c.required { " (required)" } else { "" }
    );
    let mark = common::mark_for(rec, &c.id);
    match mark.map(|m| (m, common::level_of(c, m))) {
        None => s.push_str("- **Level reached:** not marked\n"),
        Some((m, None)) => {
            let _ = writeln!(
                s,
                "- **Level reached:** `{}` (not a level of this criterion)",
                inline(&m.level)
            );
        }
        Some((_, Some((i, level)))) => {
            let _ = writeln!(
                s,
                "- **Level reached:** {} ({} of {} points)",
                level.label,
                level.points,
                c.max_points()
            );
            let _ = writeln!(
                s,
                "- **What this level shows:** {}",
                level.descriptor.trim()
            );
            match c.levels.get(i + 1) {
                Some(next) => {
                    let _ = writeln!(
                        s,
                        "- **Next level, {}:** {}",
                        next.label,
                        next.descriptor.trim()
                    );
                }
                None => s.push_str("- **Next level:** Top level reached.\n"),
            }
        }
    }
    if let Some(f) = mark
        .and_then(|m| m.feedback.as_deref())
        .filter(|f| !f.trim().is_empty())
    {
        s.push_str("\nThe assessor's feedback:\n\n");
        s.push_str(&quote(f));
    }
}

fn what_to_add(s: &mut String, rubric: &Rubric, rec: &ExportRecord) {
    s.push_str("\n## What to add\n\n");
    let mut any = false;
    for c in &rubric.criteria {
        let Some(meet_at) = c.first_meeting() else {
            continue;
        };
        let meeting = &c.levels[meet_at];
        let reached = common::mark_for(rec, &c.id).and_then(|m| common::level_of(c, m));
        let below = match reached {
            Some((i, _)) => i < meet_at,
            None => true,
        };
        if !below {
            continue;
        }
        any = true;
        let now = match reached {
            Some((_, l)) => format!("you reached *{}*", l.label),
            None => "it has no level yet".to_string(),
        };
        let _ = writeln!(
            s,
            "- **{}**{}: {now}; it is demonstrated at *{}*: {}",
            c.title,
            if c.required {
                " (required for any award)"
            } else {
                ""
            },
            meeting.label,
            meeting.descriptor.trim()
        );
    }
    let open: Vec<&str> = rubric
        .gates
        .iter()
        .filter(|g| !rec.gates.iter().any(|x| x == &g.id))
        .map(|g| g.text.trim())
        .collect();
    if !open.is_empty() {
        any = true;
        s.push_str("- **Checks not yet confirmed** (all must be confirmed before an award):\n");
        for g in open {
            let _ = writeln!(s, "  - {g}");
        }
    }
    let pass = rubric.decision.pass_mark;
    if rec.decision.score * 1000.0 < pass.0 as f64 {
        any = true;
        let _ = writeln!(
            s,
            "- **Score:** {}% is below the pass mark of {pass}%; each criterion raised to a higher level adds to it.",
            common::score_text(rec.decision.score)
        );
    }
    if !any {
        s.push_str(
            "Every criterion and check is met on the rubric's rule; the assessor's reasons above say what is still needed.\n",
        );
    }
}

/// Untrusted single-line text, safe inside a Markdown line: control characters removed
/// visibly, Markdown punctuation that could change the line's meaning escaped.
fn inline(text: &str) -> String {
    let clean = sanitize_line(text);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if matches!(
            c,
            '\\' | '<' | '>' | '*' | '_' | '`' | '[' | ']' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Untrusted multi-line text as a Markdown block quote: control characters removed visibly,
/// `<` escaped (no raw HTML), every line prefixed with `> `.
fn quote(text: &str) -> String {
    let clean = sanitize_for_file(text.trim()).replace('<', "\\<");
    let mut out = String::new();
    for line in clean.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            out.push_str("> ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::testkit;

    #[test]
    fn awarded_letter() {
        let (r, rec) = testkit::dlp_awarded();
        let text = letter(&r, &rec);
        insta::assert_snapshot!("awarded_letter", text);
    }

    #[test]
    fn not_yet_letter() {
        let (r, rec) = testkit::dlp_not_yet();
        let text = letter(&r, &rec);
        insta::assert_snapshot!("not_yet_letter", text);
    }

    #[test]
    fn gives_the_next_level_descriptor() {
        let (r, rec) = testkit::dlp_awarded();
        let text = letter(&r, &rec);
        // C3 at "developing": the next level is the meeting level.
        let c3 = r.criterion("C3").unwrap();
        assert!(text.contains(&format!(
            "- **Next level, Demonstrated:** {}",
            c3.levels[2].descriptor.trim()
        )));
        // C2 at "meets": the next is "exceeds".
        let c2 = r.criterion("C2").unwrap();
        assert!(text.contains(&format!(
            "- **Next level, Demonstrated with distinction:** {}",
            c2.levels[3].descriptor.trim()
        )));
        // C1 and C4 at the top.
        assert_eq!(text.matches("Top level reached.").count(), 2);
        assert!(text.contains("**Awarded, with the grade Merit.**"));
        assert!(text.contains("Your score is **72.22%**; the pass mark is 60%."));
        assert!(text.contains("- **Awarding body:** Example Institute of Technology, Centre for Flexible Learning, Ireland"));
        assert!(text.contains("- **Volume:** 2 ECTS credits (about 50 hours of learning)"));
        assert!(text.contains("- **Level:** EQF level 5"));
        assert!(!text.contains("## What to add"));
    }

    #[test]
    fn strips_control_characters() {
        let (r, rec) = testkit::dlp_awarded();
        let text = letter(&r, &rec);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
        assert!(text.contains("> The dashboard answers the committee's question.␛"));
        assert!(!text.contains("pwned"));
    }

    #[test]
    fn not_yet_lists_what_to_add() {
        let (r, rec) = testkit::dlp_not_yet();
        let text = letter(&r, &rec);
        let add = &text[text.find("## What to add").expect("a what-to-add section")..];
        assert!(add.contains("- **Data preparation** (required for any award): you reached *Developing*; it is demonstrated at *Demonstrated*"));
        assert!(add.contains("- **Critical interpretation**: you reached *Not yet demonstrated*"));
        assert!(!add.contains("Visual communication"));
        assert!(add.contains("  - Evidence from an employer or client has been anonymised"));
        assert!(!add.contains("identity has been verified"));
        assert!(text.contains("**Not yet awarded.**"));
        // The letter still shows the next level everywhere.
        let c1 = r.criterion("C1").unwrap();
        assert!(text.contains(c1.levels[2].descriptor.trim()));
    }

    /// The reasons of a referral or an override are internal: the letter says the outcome and
    /// what happens next in plain words, and never quotes them.
    #[test]
    fn referred_and_overridden_letters_keep_internal_reasons_out() {
        let (r, mut rec) = testkit::dlp_not_yet();
        rec.decision.outcome = Outcome::Referred;
        rec.decision.rationale =
            Some("names of minors without consent; integrity panel to review".into());
        let text = letter(&r, &rec);
        assert!(text.contains("**Referred for further review.**"));
        assert!(text.contains("The awarding body will contact you about the next steps."));
        for internal in ["minors", "integrity panel", "decided otherwise", "reason"] {
            assert!(
                !text.contains(internal),
                "`{internal}` in the letter:\n{text}"
            );
        }
        assert!(!text.contains("## What to add"));

        let (r, mut rec) = testkit::she_awarded(false);
        rec.decision.outcome = Outcome::Awarded;
        rec.decision.computed = Outcome::NotYet;
        rec.decision.rationale = Some("Safety gate confirmed by phone.".into());
        rec.learner.name = "*Bold* <script>".into();
        let text = letter(&r, &rec);
        assert!(text.contains("**Awarded.**"));
        assert!(text.contains("The rubric's rule on the marks alone gives *not yet awarded*"));
        assert!(!text.contains("by phone"), "{text}");
        assert!(text.contains("Dear \\*Bold\\* \\<script\\>,"));
        assert!(!text.contains("Grades (of an award)"));
    }

    /// An amended decision's letter gives the adopted (second) marks with the second marker's
    /// own feedback, and the settlement's rationale never.
    #[test]
    fn an_amended_letter_gives_the_adopted_marks_and_their_authors_feedback() {
        let (r, mut rec) = testkit::adv_awarded();
        // the second marker wrote feedback on one criterion only
        for m in &mut rec.marks {
            m.feedback = (m.criterion == "pipeline").then(|| "SECOND-MARKER-FEEDBACK".into());
        }
        let text = letter(&r, &rec);
        assert!(text.contains("SECOND-MARKER-FEEDBACK"));
        assert_eq!(text.matches("The assessor's feedback").count(), 1, "{text}");
        assert!(!text.contains("pipeline level preferred"), "{text}");
    }

    #[test]
    fn moderation_is_mentioned_without_names() {
        let (r, rec) = testkit::adv_awarded();
        let text = letter(&r, &rec);
        assert!(text.contains("also marked by a second assessor; the decision was settled on the second assessor's marks"));
        assert!(!text.contains("moderator.two"));
        assert!(!text.contains("assessor.one"));
    }
}
