//! Helpers shared by the test suites.
#![allow(dead_code)]

use std::path::Path;

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};

/// The levels given to the home-energy portfolios, by position (the fourth is also used for
/// any further id): three awarded, one not yet.
const LEVELS: [[&str; 4]; 4] = [
    [
        "well-achieved",
        "well-achieved",
        "well-achieved",
        "well-achieved",
    ],
    ["achieved", "achieved", "achieved", "achieved"],
    ["not-yet", "achieved", "not-yet", "not-yet"],
    ["achieved", "well-achieved", "achieved", "achieved"],
];

/// Marks the home-energy portfolios `ids` (as `ann`, with a formula-like feedback), submits
/// them, draws the sample (as `mo`), second-marks and confirms what is drawn, and releases all.
pub fn decide_and_release(db: &Path, ids: &[&str]) {
    let mut ann = Workspace::open(db, "ann".into()).unwrap();
    let crits = ["energy-use", "measures", "action", "sharing"];
    let levels = |i: usize| LEVELS[i.min(3)];
    for (i, id) in ids.iter().enumerate() {
        for (c, l) in crits.iter().zip(levels(i)) {
            ann.save(
                id,
                Phase::First,
                &Change::Level(c.to_string(), Some(l.into())),
                None,
            )
            .unwrap();
        }
        ann.save(
            id,
            Phase::First,
            &Change::Feedback("measures".into(), Some("=cmd|' /C calc'!A0".into())),
            None,
        )
        .unwrap();
        for g in ["identity", "authenticity", "currency", "safety"] {
            ann.save(id, Phase::First, &Change::Gate(g.into(), true), None)
                .unwrap();
        }
        ann.submit(id, Phase::First, None, None, None).unwrap();
    }
    let mut mo = Workspace::open(db, "mo".into()).unwrap();
    let draw = mo.draw_sample(None, Some(11)).unwrap();
    for (_, p) in draw.picks.iter().filter(|(_, p)| p.drawn) {
        let i = ids.iter().position(|x| *x == p.id).unwrap();
        for (c, l) in crits.iter().zip(levels(i)) {
            mo.save(
                &p.id,
                Phase::Second,
                &Change::Level(c.to_string(), Some(l.into())),
                None,
            )
            .unwrap();
        }
        for g in ["identity", "authenticity", "currency", "safety"] {
            mo.save(&p.id, Phase::Second, &Change::Gate(g.into(), true), None)
                .unwrap();
        }
        mo.submit(&p.id, Phase::Second, None, None, None).unwrap();
        mo.settle(&p.id, assay::app::moderation::Settle::Confirm, None, None)
            .unwrap();
    }
    let r = mo.release(None).unwrap();
    assert_eq!(r.released.len(), ids.len(), "{:?}", r.waiting);
}

/// The official Open Badges 3.0 schema, with formats checked.
pub fn ob_validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/schemas/ob_v3p0_achievementcredential.schema.json"
    )))
    .unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}
