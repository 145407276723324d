//! What goes out is exactly what was decided (issue "attribution"): random workflows — first
//! marking with or without feedback and a comment, a referral with an internal rationale or not,
//! a reopen and reassignment or not, a draw or not, blind second marking with or without the
//! moderator's own feedback, confirm or amend — are released and exported, and every exported
//! field is compared with what the audit chain recorded of who did what.

use std::collections::BTreeMap;
use std::path::Path;

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};
use assay::app::moderation::Settle;
use assay::app::people::Role;
use assay::domain::decision::Outcome;
use proptest::prelude::*;
use serde_json::Value;

// data-literacy-practitioner: blind; drawn by category and at random, so some decisions are
// passed over by the draw
const CRITERIA: [&str; 5] = ["C1", "C2", "C3", "C4", "C5"];
const GATES: [&str; 4] = ["identity", "authenticity", "currency", "confidentiality"];
const ID: &str = "P-2026-0041";
const OTHERS: [&str; 4] = ["P-2026-0042", "P-2026-0043", "P-2026-0044", "P-2026-0045"];

/// The `n`-th level of a criterion (C4 and C5 have three, the others four).
fn level(c: &str, n: usize) -> &'static str {
    let four = ["not-yet", "developing", "meets", "exceeds"];
    let three = ["not-yet", "meets", "exceeds"];
    if matches!(c, "C4" | "C5") {
        three[n % 3]
    } else {
        four[n % 4]
    }
}

/// One marking: a level per criterion, feedback on some, maybe a comment.
#[derive(Debug, Clone)]
struct Marking {
    levels: [usize; 5],
    feedback: [bool; 5],
    comment: bool,
}

#[derive(Debug, Clone)]
struct Flow {
    first: Marking,
    refer: bool,
    /// A lead reopens, and the portfolio goes to another assessor who re-marks some criteria.
    reopen: Option<[bool; 5]>,
    seed: u64,
    second: Marking,
    /// The second marker is not the one who settles.
    other_settler: bool,
    amend: bool,
}

fn marking() -> impl Strategy<Value = Marking> {
    (
        [1..4usize, 1..4usize, 1..4usize, 1..4usize, 1..4usize],
        prop::array::uniform5(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(|(levels, feedback, comment)| Marking {
            levels,
            feedback,
            comment,
        })
}

fn flow() -> impl Strategy<Value = Flow> {
    (
        marking(),
        any::<bool>(),
        prop::option::of(prop::array::uniform5(any::<bool>())),
        any::<u64>(),
        marking(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(first, refer, reopen, seed, second, other_settler, amend)| Flow {
                first,
                refer,
                reopen,
                seed,
                second,
                other_settler,
                amend,
            },
        )
}

fn changes(m: &Marking, tag: &str, gates: bool) -> Vec<Change> {
    let mut v = Vec::new();
    for (i, c) in CRITERIA.iter().enumerate() {
        v.push(Change::Level(
            c.to_string(),
            Some(level(c, m.levels[i]).into()),
        ));
        if m.feedback[i] {
            v.push(Change::Feedback(
                c.to_string(),
                Some(format!("{tag}-FEEDBACK-{c}")),
            ));
        }
    }
    if gates {
        for g in GATES {
            v.push(Change::Gate(g.into(), true));
        }
    }
    if m.comment {
        v.push(Change::Comment(Some(format!("{tag}-COMMENT"))));
    }
    v
}

fn as_user(ws: &mut Workspace, who: &str) {
    ws.user = who.to_string();
}

/// What the audit chain says of the portfolio: for each entity its last recorded value and who
/// wrote it when.
struct Chain {
    last: BTreeMap<String, (Option<Value>, String, String, String)>,
}

impl Chain {
    fn read(ws: &Workspace) -> Chain {
        let mut last = BTreeMap::new();
        for r in ws.history(Some(ID)).unwrap() {
            last.insert(r.entity.clone(), (r.after, r.actor, r.at, r.action));
        }
        Chain { last }
    }
    /// (level, feedback, author, time) of a mark as the chain last recorded it.
    fn mark(&self, phase: &str, c: &str) -> Option<(Value, Value, String, String)> {
        let (after, actor, at, _) = self.last.get(&format!("mark/{ID}/{phase}/{c}"))?;
        let a = after.as_ref()?;
        Some((
            a["level"].clone(),
            a["feedback"].clone(),
            actor.clone(),
            at.clone(),
        ))
    }
    fn comment(&self, phase: &str) -> Value {
        self.last
            .get(&format!("comment/{ID}/{phase}"))
            .and_then(|(a, ..)| a.as_ref())
            .map(|a| a["comment"].clone())
            .unwrap_or(Value::Null)
    }
    fn decision(&self, phase: &str) -> Option<(Value, String, String)> {
        let (after, actor, at, _) = self.last.get(&format!("decision/{ID}/{phase}"))?;
        Some((after.clone()?, actor.clone(), at.clone()))
    }
    fn settlement(&self) -> Option<(Value, String, String)> {
        let (after, actor, at, _) = self.last.get(&format!("settlement/{ID}"))?;
        Some((after.clone()?, actor.clone(), at.clone()))
    }
}

fn run(f: &Flow, dir: &Path) -> Result<(), TestCaseError> {
    let db = dir.join("w.db");
    let mut ws = Workspace::open(&db, "lee".into()).unwrap();
    let rubric = assay::app::seed::seed(&mut ws).unwrap();
    prop_assert!(rubric.rejected.is_empty());
    ws.add_user("lee", Role::Lead, None).unwrap();
    for (who, role) in [
        ("ann", Role::Assessor),
        ("bo", Role::Assessor),
        ("mo", Role::Moderator),
        ("mia", Role::Moderator),
    ] {
        ws.add_user(who, role, None).unwrap();
    }
    ws.assign(&[ID.to_string()], "ann").unwrap();
    // the rest of the rubric's portfolios, decided, so that the draw has a pool to choose from
    as_user(&mut ws, "bo");
    for other in OTHERS {
        let mut v: Vec<Change> = CRITERIA
            .iter()
            .map(|c| Change::Level(c.to_string(), Some(level(c, 2).into())))
            .collect();
        v.extend(GATES.iter().map(|g| Change::Gate(g.to_string(), true)));
        ws.apply(other, Phase::First, &v, Some((None, None)), None, None)
            .unwrap();
    }
    as_user(&mut ws, "ann");
    let submit = if f.refer {
        Some((
            Some(Outcome::Referred),
            Some("INTERNAL-REFERRAL: names of minors without consent".to_string()),
        ))
    } else {
        None
    };
    ws.apply(
        ID,
        Phase::First,
        &changes(&f.first, "FIRST", true),
        submit.clone().or(Some((None, None))),
        None,
        None,
    )
    .unwrap();
    if let Some(redo) = f.reopen {
        as_user(&mut ws, "lee");
        ws.reopen(ID, "INTERNAL-REOPEN: wrong file").unwrap();
        ws.assign(&[ID.to_string()], "bo").unwrap();
        as_user(&mut ws, "bo");
        let mut v = Vec::new();
        for (i, c) in CRITERIA.iter().enumerate() {
            if redo[i] {
                let l = f.first.levels[i] + 1;
                v.push(Change::Level(c.to_string(), Some(level(c, l).into())));
                v.push(Change::Feedback(
                    c.to_string(),
                    Some(format!("BO-FEEDBACK-{c}")),
                ));
            }
        }
        ws.apply(ID, Phase::First, &v, Some((None, None)), None, None)
            .unwrap();
    }
    as_user(&mut ws, "mo");
    ws.draw_sample(Some("data-literacy-practitioner"), Some(f.seed))
        .unwrap();
    let drawn = ws.detail(ID).unwrap().row.status == "sampled";
    if drawn {
        ws.apply(
            ID,
            Phase::Second,
            &changes(&f.second, "SECOND", true),
            Some((None, None)),
            None,
            None,
        )
        .unwrap();
        let settler = if f.other_settler { "mia" } else { "mo" };
        as_user(&mut ws, settler);
        let how = if f.amend {
            Settle::Amend
        } else {
            Settle::Confirm
        };
        let why = f
            .amend
            .then(|| "INTERNAL-SETTLEMENT: second marks preferred".to_string());
        ws.settle(ID, how, why, None).unwrap();
    }
    as_user(&mut ws, "mo");
    let released = ws.release(Some("data-literacy-practitioner")).unwrap();
    prop_assert!(released.released.iter().any(|r| r == ID), "{:?}", released);

    // The chain, read by the lead (who sees everything).
    as_user(&mut ws, "lee");
    let chain = Chain::read(&ws);
    let amended = drawn && f.amend;
    let phase = if amended { "second" } else { "first" };

    // JSON lines: every field of attribution.
    as_user(&mut ws, "mo");
    let out = dir.join("d.jsonl");
    ws.export(
        assay::app::export::Format::Jsonl,
        &out,
        None,
        true,
        true,
        &mut |_, _| {},
    )
    .unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let rec: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["portfolio_id"] == ID)
        .expect("the portfolio's line");
    for (i, c) in CRITERIA.iter().enumerate() {
        let (level, feedback, by, at) = chain.mark(phase, c).expect("a mark in force");
        let m = &rec["marks"][i];
        prop_assert_eq!(&m["criterion"], &Value::from(*c));
        prop_assert_eq!(&m["level"], &level);
        prop_assert_eq!(&m["feedback"], &feedback, "feedback of {} ({})", c, phase);
        prop_assert_eq!(&m["by"], &Value::from(by));
        prop_assert_eq!(&m["at"], &Value::from(at));
    }
    prop_assert_eq!(&rec["comment"], &chain.comment(phase));
    let (dec, dby, dat) = chain.decision(phase).expect("the decision in force");
    prop_assert_eq!(&rec["decision"]["decided_by"], &Value::from(dby));
    prop_assert_eq!(&rec["decision"]["decided_at"], &Value::from(dat));
    prop_assert_eq!(&rec["decision"]["outcome"], &dec["outcome"]);
    prop_assert_eq!(
        &rec["decision"]["source"],
        &Value::from(if amended {
            "second_marking"
        } else {
            "first_marking"
        })
    );
    let (_, first_by, _) = chain.decision("first").unwrap();
    prop_assert_eq!(&rec["decision"]["first_marker"], &Value::from(first_by));
    if drawn {
        let (s, sby, sat) = chain.settlement().expect("a settlement");
        let m = &rec["moderation"];
        prop_assert_eq!(&m["moderator"], &Value::from(sby));
        prop_assert_eq!(&m["settled_at"], &Value::from(sat));
        prop_assert_eq!(&m["rationale"], &s["rationale"]);
        prop_assert_eq!(
            &m["settlement"],
            &Value::from(if f.amend { "amended" } else { "confirmed" })
        );
        let (_, second_by, _) = chain.decision("second").unwrap();
        prop_assert_eq!(&m["second_marker"], &Value::from(second_by));
        for (i, c) in CRITERIA.iter().enumerate() {
            let (level, feedback, by, _) = chain.mark("second", c).unwrap();
            let sm = &m["second_marks"][i];
            prop_assert_eq!(&sm["level"], &level);
            // the moderator's own feedback, or none: never the first marker's
            prop_assert_eq!(&sm["feedback"], &feedback, "second feedback of {}", c);
            prop_assert_eq!(&sm["by"], &Value::from(by));
        }
        prop_assert_eq!(&m["second_comment"], &chain.comment("second"));
    } else {
        prop_assert!(rec["moderation"].is_null());
    }

    // The learner's letter: the marks in force with their authors' feedback; nothing internal.
    let letters = dir.join("letters");
    ws.export(
        assay::app::export::Format::Feedback,
        &letters,
        None,
        true,
        true,
        &mut |_, _| {},
    )
    .unwrap();
    let letter = std::fs::read_to_string(letters.join(format!("{ID}.md"))).unwrap();
    prop_assert!(
        !letter.contains("INTERNAL-"),
        "internal text in the letter:\n{}",
        letter
    );
    let other = if amended { "first" } else { "second" };
    for c in CRITERIA {
        if let Some((_, Value::String(fb), _, _)) = chain.mark(phase, c) {
            prop_assert!(letter.contains(&fb), "{} missing from the letter", fb);
        }
        if let Some((_, Value::String(fb), _, _)) = chain.mark(other, c) {
            let in_force = chain.mark(phase, c).map(|m| m.1);
            if in_force != Some(Value::String(fb.clone())) {
                prop_assert!(!letter.contains(&fb), "{} (not in force) in the letter", fb);
            }
        }
    }

    // The CSV row: decider, second marker, settlement, levels in force.
    let csv_path = dir.join("d.csv");
    ws.export(
        assay::app::export::Format::Csv,
        &csv_path,
        None,
        true,
        true,
        &mut |_, _| {},
    )
    .unwrap();
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let row = rd
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[col("portfolio")] == ID)
        .unwrap();
    let (_, dby, _) = chain.decision(phase).unwrap();
    prop_assert_eq!(&row[col("decided_by")], dby.as_str());
    for c in CRITERIA {
        let (level, ..) = chain.mark(phase, c).unwrap();
        prop_assert_eq!(Value::from(&row[col(c)]), level);
    }
    if drawn {
        let (_, sby, sat) = chain.settlement().unwrap();
        prop_assert_eq!(&row[col("moderator")], sby.as_str());
        prop_assert_eq!(&row[col("settled_at")], sat.as_str());
        prop_assert_eq!(
            &row[col("settlement")],
            if f.amend { "amended" } else { "confirmed" }
        );
    } else {
        prop_assert_eq!(&row[col("settlement")], "");
    }

    // Credentials carry no internal text.
    if rec["decision"]["outcome"] == "awarded" {
        let ob = dir.join("ob");
        ws.export(
            assay::app::export::Format::Obv3,
            &ob,
            None,
            true,
            true,
            &mut |_, _| {},
        )
        .unwrap();
        let cred = std::fs::read_to_string(ob.join(format!("{ID}.json"))).unwrap();
        prop_assert!(!cred.contains("INTERNAL-"));
        prop_assert!(!cred.contains("FEEDBACK"), "feedback in a credential");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_exported_field_is_what_the_chain_recorded(f in flow()) {
        let dir = tempfile::tempdir().unwrap();
        run(&f, dir.path())?;
    }
}
