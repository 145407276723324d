//! Moderation through the built binary: drawing the sample, blind second marking, settling,
//! releasing, agreement statistics and reopening. Issue "moderation".
//!
//! `ann` is a lead and first-marks everything; `mo` is a moderator.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::*;

fn levels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(c, l)| (c.to_string(), l.to_string()))
        .collect()
}

fn all(criteria: &[&str], level: &str) -> Vec<(String, String)> {
    criteria
        .iter()
        .map(|c| (c.to_string(), level.to_string()))
        .collect()
}

const DATA: [&str; 5] = ["C1", "C2", "C3", "C4", "C5"];
const VIS: [&str; 6] = [
    "chart-accuracy",
    "encoding-choice",
    "accessibility",
    "pipeline",
    "audience",
    "user-evaluation",
];
const ENERGY: [&str; 4] = ["energy-use", "measures", "action", "sharing"];

/// `assay mark|moderate ID --level … --gate … [extra…] --submit` as `user`.
fn submit(
    ws: &Ws,
    user: &str,
    verb: &str,
    id: &str,
    lv: &[(String, String)],
    gates: &[&str],
    extra: &[&str],
) -> String {
    let mut args: Vec<String> = vec![verb.into(), id.into()];
    for (c, l) in lv {
        args.extend(["--level".into(), format!("{c}={l}")]);
    }
    for g in gates {
        args.extend(["--gate".into(), g.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push("--submit".into());
    ws.ok(user, &args)
}

/// Twelve submitted first decisions covering every sampling category: a copy of one workspace
/// built once for the whole file (marking is the slow part).
fn workspace() -> Ws {
    // (on a server, each test builds its own)
    if support::on_server() {
        return build_workspace();
    }
    static TEMPLATE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let bytes = TEMPLATE.get_or_init(|| {
        let t = build_workspace();
        // every assay process has ended, so the log is checkpointed into the file
        assert!(!t.path("w.db-wal").exists());
        std::fs::read(&t.db).unwrap()
    });
    let ws = Ws::new();
    std::fs::write(&ws.db, bytes).unwrap();
    ws
}

/// Builds the workspace of [`workspace`] from scratch.
fn build_workspace() -> Ws {
    let ws = Ws::new();
    ws.import_samples("ann");
    ws.ok("ann", &["user", "add", "ann", "--role", "lead"]);
    ws.ok("ann", &["user", "add", "mo", "--role", "moderator"]);
    let first = |id: &str, lv: Vec<(String, String)>, gates: &[&str], extra: &[&str]| {
        submit(&ws, "ann", "mark", id, &lv, gates, extra);
    };
    // data-literacy-practitioner (blind)
    first("P-2026-0041", all(&DATA, "exceeds"), &DATA_GATES, &[]); // 100: awarded
    first("P-2026-0042", all(&DATA, "meets"), &DATA_GATES, &[]); // 63.9: borderline
    ws.ok(
        "ann",
        &[
            "mark",
            "P-2026-0043",
            "--feedback",
            "C2=SECRET-FIRST-FEEDBACK",
            "--comment",
            "SECRET-FIRST-COMMENT",
        ],
    );
    let mut l43 = all(&DATA, "meets");
    l43[0].1 = "not-yet".into();
    first("P-2026-0043", l43, &DATA_GATES, &[]); // required C1 not met: not_yet
    let mut l44 = all(&DATA, "exceeds");
    l44[3].1 = "not-yet".into();
    first(
        "P-2026-0044",
        l44,
        &DATA_GATES,
        &[
            "--outcome",
            "awarded",
            "--rationale",
            "C4 is shown in the interview notes.",
        ],
    ); // override
    first(
        "P-2026-0045",
        all(&DATA, "exceeds"),
        &DATA_GATES,
        &[
            "--outcome",
            "referred",
            "--rationale",
            "Possible collusion.",
        ],
    ); // referred
    // applied-data-visualisation (not blind; 20 %, at least 2)
    first("P-2026-0046", all(&VIS, "distinction"), &VIS_GATES, &[]);
    let mut l47 = all(&VIS, "merit");
    l47[2].1 = "pass".into(); // accessibility has no merit level
    first("P-2026-0047", l47, &VIS_GATES, &[]); // 72.9: awarded
    first(
        "P-2026-0048",
        levels(&[
            ("chart-accuracy", "merit"),
            ("encoding-choice", "merit"),
            ("accessibility", "distinction"),
            ("pipeline", "insufficient"),
            ("audience", "merit"),
            ("user-evaluation", "insufficient"),
        ]),
        &VIS_GATES,
        &[],
    ); // not_yet
    first("P-2026-0049", all(&VIS, "pass"), &VIS_GATES, &[]); // 50: not borderline (±3)
    // sustainable-home-energy (moderation defaults: blind)
    first(
        "P-2026-0050",
        all(&ENERGY, "well-achieved"),
        &ENERGY_GATES,
        &[],
    );
    first("P-2026-0051", all(&ENERGY, "achieved"), &ENERGY_GATES, &[]); // 50 = pass: borderline
    first(
        "P-2026-0052",
        all(&ENERGY, "well-achieved"),
        &ENERGY_GATES,
        &[],
    );
    assert!(ws.list("ann").iter().all(|r| r["status"] == "submitted"));
    ws
}

/// Parses the lines `drawn|-  ID  RUBRIC@VERSION  REASON` of `moderation sample`.
fn picks(out: &str) -> BTreeMap<String, (bool, String)> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 4 && f[1].starts_with("P-"))
                .then(|| (f[1].to_string(), (f[0] == "drawn", f[3].to_string())))
        })
        .collect()
}

#[test]
fn the_sample_takes_every_flagged_decision_plus_a_random_share_reproducibly() {
    let ws = workspace();
    let n = ws.audit_len();
    // (the lead draws: under blind rubrics a moderator is not told why a decision was drawn)
    let out = ws.ok("ann", &["moderation", "sample", "--seed", "7"]);
    let p = picks(&out);
    assert_eq!(p.len(), 12, "{out}");
    let expect_always = [
        ("P-2026-0042", "always:borderline"),
        ("P-2026-0043", "always:not_yet"),
        ("P-2026-0044", "always:override"),
        ("P-2026-0045", "always:referred"),
        ("P-2026-0048", "always:not_yet"),
        ("P-2026-0051", "always:borderline"),
    ];
    for (id, reason) in expect_always {
        assert_eq!(p[id], (true, reason.to_string()), "{id}\n{out}");
    }
    // data-literacy: one left, at least 3 → it; energy: two left, at least 3 → both
    for id in ["P-2026-0041", "P-2026-0050", "P-2026-0052"] {
        assert_eq!(p[id], (true, "random".to_string()), "{id}\n{out}");
    }
    // visualisation: three left, max(ceil(20 % of 3), 2) = 2 drawn at random
    let vis: Vec<&(bool, String)> = ["P-2026-0046", "P-2026-0047", "P-2026-0049"]
        .iter()
        .map(|id| &p[*id])
        .collect();
    assert_eq!(
        vis.iter().filter(|(d, r)| *d && r == "random").count(),
        2,
        "{out}"
    );
    assert_eq!(
        vis.iter().filter(|(d, r)| !*d && r == "not_drawn").count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("drew 11 of 12") && out.contains("seed 7"),
        "{out}"
    );

    for (id, (drawn, _)) in &p {
        let want = if *drawn { "sampled" } else { "submitted" };
        assert_eq!(ws.row("ann", id)["status"], want, "{id}");
    }
    // one record of the draw itself, then one for each decision it considered
    assert_eq!(ws.audit_len(), n + 13);

    // again: nothing new is drawn, and nothing is written
    let draws = ws.count("SELECT count(*) FROM draws");
    let again = ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    assert!(again.contains("nothing to draw"), "{again}");
    assert!(picks(&again).is_empty());
    assert_eq!(ws.audit_len(), n + 13);
    let again = ws.ok("mo", &["moderation", "sample"]);
    assert!(again.contains("nothing to draw"), "{again}");
    assert_eq!(ws.count("SELECT count(*) FROM draws"), draws);

    // the same data and seed in a fresh workspace draw the same sample
    let other = build_workspace();
    let out2 = other.ok("ann", &["moderation", "sample", "--seed", "7"]);
    assert_eq!(out2, out);
    let statuses = |w: &Ws| {
        w.list("ann")
            .iter()
            .map(|r| (r["id"].to_string(), r["status"].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses(&other), statuses(&ws));
}

#[test]
fn the_sample_can_be_drawn_per_rubric() {
    let ws = workspace();
    let out = ws.ok(
        "mo",
        &[
            "moderation",
            "sample",
            "--rubric",
            "applied-data-visualisation",
            "--seed",
            "3",
        ],
    );
    let p = picks(&out);
    assert_eq!(
        p.keys().cloned().collect::<Vec<_>>(),
        ["P-2026-0046", "P-2026-0047", "P-2026-0048", "P-2026-0049"]
    );
    assert_eq!(ws.row("ann", "P-2026-0043")["status"], "submitted");
    let rest = ws.ok("mo", &["moderation", "sample", "--seed", "3"]);
    assert_eq!(picks(&rest).len(), 8, "{rest}");
    ws.refused(
        "mo",
        &["moderation", "sample", "--rubric", "no-such-rubric"],
    );
}

#[test]
fn blind_rubrics_hide_the_first_marking_from_the_moderator_until_second_marks_are_in() {
    let ws = workspace();
    let drew = ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    let id = "P-2026-0043"; // data-literacy-practitioner: blind

    // the moderator who draws is not told why a blind rubric's decision was drawn (the reason
    // tells the first outcome); a rubric that is not blind says it
    for l in drew.lines().filter(|l| l.contains("data-literacy")) {
        assert!(
            l.contains("withheld:blind") && !l.contains("always:"),
            "{drew}"
        );
    }
    assert!(
        drew.lines()
            .any(|l| l.contains("applied-data-visualisation") && l.contains("always:not_yet")),
        "{drew}"
    );

    // the moderator sees no first marks, feedback, comment, decision, score or draw reason
    let s = ws.show("mo", id);
    assert!(s["first"].is_null(), "{s}");
    assert_eq!(s["first_hidden_by_blind_rule"], true);
    for k in ["outcome", "grade", "score"] {
        assert!(s["portfolio"][k].is_null(), "{k}: {s}");
    }
    let text = s.to_string();
    for secret in ["SECRET-FIRST", "not_yet", "not-yet", "/first", "always:"] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaks to the moderator: {text}"
        );
    }
    let plain = ws.ok("mo", &["show", id]);
    assert!(plain.contains("hidden"), "{plain}");
    for secret in ["SECRET-FIRST", "not_yet", "Not yet demonstrated"] {
        assert!(!plain.contains(secret), "`{secret}` leaks: {plain}");
    }
    let row = ws.row("mo", id);
    assert_eq!(row["status"], "sampled");
    for k in ["outcome", "grade", "score"] {
        assert!(row[k].is_null(), "{k}: {row}");
    }
    let listed = ws.ok("mo", &["list"]);
    let line = listed.lines().find(|l| l.starts_with(id)).unwrap();
    assert!(!line.contains("not_yet"), "{line}");
    let found = ws.json("mo", &["search", "Zoë", "--json"]);
    let hit = found
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert!(hit["outcome"].is_null() && hit["score"].is_null(), "{hit}");
    // every drawn portfolio of a blind rubric hides its decision from mo
    for r in ws.list("mo") {
        if r["status"] == "sampled" && r["rubric"] != "applied-data-visualisation" {
            assert!(r["outcome"].is_null(), "{r}");
        }
    }

    // the first marker sees it all
    let s = ws.show("ann", id);
    assert_eq!(s["first"]["decision"]["outcome"], "not_yet");
    assert_eq!(s["first"]["comment"], "SECRET-FIRST-COMMENT");
    assert_eq!(s["portfolio"]["outcome"], "not_yet");
    assert_eq!(s["draw"]["reason"], "always:not_yet");
    assert_eq!(ws.row("ann", id)["outcome"], "not_yet");

    // not blind: the visualisation rubric shows the moderator the first decision
    let v = ws.show("mo", "P-2026-0048");
    assert_eq!(v["first"]["decision"]["outcome"], "not_yet");
    assert_eq!(v["first_hidden_by_blind_rule"], false);

    // once mo's second marks are submitted, mo sees the first marking
    submit(
        &ws,
        "mo",
        "moderate",
        id,
        &all(&DATA, "meets"),
        &DATA_GATES,
        &[],
    );
    let s = ws.show("mo", id);
    assert_eq!(s["first_hidden_by_blind_rule"], false);
    assert_eq!(s["first"]["decision"]["outcome"], "not_yet");
    assert_eq!(s["first"]["comment"], "SECRET-FIRST-COMMENT");
    assert_eq!(s["second"]["decision"]["outcome"], "awarded");
    assert_eq!(ws.row("mo", id)["outcome"], "not_yet");
    let plain = ws.ok("mo", &["show", id]);
    assert!(plain.contains("SECRET-FIRST-FEEDBACK"), "{plain}");
}

#[test]
fn second_marking_and_settlement_follow_the_rules() {
    let ws = workspace();
    let out = ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    let p = picks(&out);
    let not_drawn = p.iter().find(|(_, (d, _))| !d).unwrap().0.clone();
    let n = ws.audit_len();

    // nobody second-marks their own decision (ann is a lead, but first-marked them all)
    let mut args = vec!["moderate", "P-2026-0051"];
    for c in [
        "energy-use=achieved",
        "measures=achieved",
        "action=achieved",
        "sharing=achieved",
    ] {
        args.extend(["--level", c]);
    }
    args.push("--submit");
    let err = ws.refused("ann", &args);
    assert!(err.contains("first-marked"), "{err}");
    // a portfolio not drawn is not second-marked
    let err = ws.refused("mo", &["moderate", &not_drawn, "--level", "audience=pass"]);
    assert!(err.contains("not drawn"), "{err}");
    // nothing to settle before second marks are submitted
    let err = ws.refused("mo", &["moderate", "P-2026-0051", "--confirm"]);
    assert!(err.contains("second marks"), "{err}");
    assert_eq!(ws.audit_len(), n);

    // second marking saves as it goes, then submits
    ws.ok(
        "mo",
        &["moderate", "P-2026-0051", "--level", "energy-use=not-yet"],
    );
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "sampled");
    let sec = ws.show("mo", "P-2026-0051")["second"].clone();
    assert_eq!(sec["marker"], "mo");
    assert!(sec["decision"].is_null());
    let err = ws.refused("mo", &["moderate", "P-2026-0051", "--submit"]);
    assert!(err.contains("measures"), "{err}");
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0051",
        &levels(&[
            ("measures", "achieved"),
            ("action", "achieved"),
            ("sharing", "achieved"),
        ]),
        &ENERGY_GATES,
        &[],
    );
    // submitted second marks are final
    let err = ws.refused(
        "mo",
        &["moderate", "P-2026-0051", "--level", "sharing=not-yet"],
    );
    assert!(err.contains("settle"), "{err}");

    // the first marker does not settle; an amendment needs a rationale
    let err = ws.refused("ann", &["moderate", "P-2026-0051", "--confirm"]);
    assert!(err.contains("first-marked"), "{err}");
    let n = ws.audit_len();
    let err = ws.refused("mo", &["moderate", "P-2026-0051", "--amend"]);
    assert!(err.contains("rationale"), "{err}");
    let err = ws.refused(
        "mo",
        &["moderate", "P-2026-0051", "--amend", "--rationale", " "],
    );
    assert!(err.contains("rationale"), "{err}");
    assert_eq!(ws.audit_len(), n);
    assert_eq!(ws.row("ann", "P-2026-0051")["status"], "sampled");

    // amend: the second decision replaces the first
    ws.ok(
        "mo",
        &[
            "moderate",
            "P-2026-0051",
            "--amend",
            "--rationale",
            "Bills mix euro and kWh; energy use is not yet shown.",
        ],
    );
    let r = ws.row("ann", "P-2026-0051");
    assert_eq!(r["status"], "moderated");
    assert_eq!(r["outcome"], "not_yet");
    assert!(r["grade"].is_null());
    let s = ws.show("ann", "P-2026-0051");
    assert_eq!(s["settlement"]["action"], "amend");
    assert_eq!(s["settlement"]["by"], "mo");
    assert_eq!(s["first"]["decision"]["outcome"], "awarded"); // history is kept
    ws.refused("mo", &["moderate", "P-2026-0051", "--confirm"]);

    // confirm: the first decision stands
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0050",
        &all(&ENERGY, "achieved"),
        &ENERGY_GATES,
        &[],
    );
    ws.ok("mo", &["moderate", "P-2026-0050", "--confirm"]);
    let r = ws.row("ann", "P-2026-0050");
    assert_eq!(r["status"], "moderated");
    assert_eq!(r["outcome"], "awarded");
    assert_eq!(r["grade"], "Achieved with merit");
    assert_eq!(r["score"], 100.0);
    ws.ok("ann", &["audit", "verify"]);
}

#[test]
fn release_lets_settled_and_undrawn_decisions_go_and_says_what_waits() {
    let ws = workspace();
    let p = picks(&ws.ok("mo", &["moderation", "sample", "--seed", "7"]));
    let not_drawn = p.iter().find(|(_, (d, _))| !d).unwrap().0.clone();
    // settle the energy portfolios, second-mark 0048 without settling it
    for id in ["P-2026-0050", "P-2026-0051", "P-2026-0052"] {
        submit(
            &ws,
            "mo",
            "moderate",
            id,
            &all(&ENERGY, "achieved"),
            &ENERGY_GATES,
            &[],
        );
        ws.ok("mo", &["moderate", id, "--confirm"]);
    }
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0048",
        &all(&VIS, "pass"),
        &VIS_GATES,
        &[],
    );

    let out = ws.ok("mo", &["release"]);
    let released: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("released "))
        .filter(|l| l.starts_with("P-"))
        .collect();
    let mut want = vec![
        "P-2026-0050",
        "P-2026-0051",
        "P-2026-0052",
        not_drawn.as_str(),
    ];
    want.sort();
    let mut got = released.clone();
    got.sort();
    assert_eq!(got, want, "{out}");
    for id in &want {
        assert_eq!(ws.row("ann", id)["status"], "released", "{id}");
    }
    let waiting: BTreeMap<&str, &str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("waiting"))
        .map(|l| {
            let l = l.trim_start();
            (l.split_whitespace().next().unwrap(), l)
        })
        .collect();
    assert_eq!(waiting.len(), 12 - 4, "{out}");
    assert!(
        waiting["P-2026-0048"].contains("awaiting settlement"),
        "{out}"
    );
    assert!(
        waiting["P-2026-0043"].contains("awaiting second marks"),
        "{out}"
    );
    assert!(out.contains("released 4, 8 still waiting"), "{out}");

    // a decision not yet considered by a draw waits for one
    ws.ok(
        "ann",
        &["reopen", "P-2026-0043", "--rationale", "Wrong file marked."],
    );
    submit(
        &ws,
        "ann",
        "mark",
        "P-2026-0043",
        &all(&DATA, "meets"),
        &DATA_GATES,
        &[],
    );
    let out = ws.ok("mo", &["release", "--rubric", "data-literacy-practitioner"]);
    let line = out.lines().find(|l| l.contains("P-2026-0043")).unwrap();
    assert!(
        line.contains("moderation draw") && line.contains("assay moderation sample"),
        "{out}"
    );
    assert!(!out.contains("P-2026-0048"), "--rubric: {out}");
    // releasing again changes nothing
    let n = ws.audit_len();
    let again = ws.ok("mo", &["release"]);
    assert!(again.contains("released 0"), "{again}");
    assert_eq!(ws.audit_len(), n);
    ws.ok("ann", &["audit", "verify"]);

    // exported decisions stay consistent with the chain, also when written again with --all
    let csv = ws.path("out.csv");
    let args = [
        "export".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
        "--out".as_ref(),
        csv.as_os_str(),
    ];
    let out = ws.ok("mo", &args);
    assert!(out.contains("exported 4"), "{out}");
    assert_eq!(ws.row("ann", "P-2026-0050")["status"], "exported");
    let out = ws.ok("mo", &args);
    assert!(out.contains("nothing new"), "{out}");
    let mut all = args.to_vec();
    all.push("--all".as_ref());
    // (the file is there: written again only with --force)
    let err = ws.refused("mo", &all);
    assert!(err.contains("--force"), "{err}");
    all.push("--force".as_ref());
    ws.ok("mo", &all);
    ws.ok("ann", &["audit", "verify"]);
    // one rubric's decisions: only its rows, and only its criteria as columns
    let everything = std::fs::read_to_string(&csv).unwrap();
    let mut one = all.clone();
    one.extend::<[&std::ffi::OsStr; 2]>(["--rubric".as_ref(), "sustainable-home-energy".as_ref()]);
    ws.ok("mo", &one);
    let energy = std::fs::read_to_string(&csv).unwrap();
    let header = energy.lines().next().unwrap();
    assert!(
        header.ends_with(",energy-use,measures,action,sharing"),
        "{header}"
    );
    let rows: Vec<&str> = energy.lines().skip(1).collect();
    let want: Vec<&str> = everything
        .lines()
        .skip(1)
        .filter(|l| l.contains(",sustainable-home-energy,"))
        .collect();
    assert!(!rows.is_empty() && rows.len() < everything.lines().count() - 1);
    assert_eq!(rows.len(), want.len(), "{energy}");
    assert!(
        rows.iter().all(|l| l.contains(",sustainable-home-energy,")),
        "{energy}"
    );
    ws.ok("ann", &["audit", "verify"]);
}

fn assert_keys(v: &Value, keys: &[&str]) {
    let mut got: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    got.sort();
    let mut want = keys.to_vec();
    want.sort();
    assert_eq!(got, want, "{v}");
}

/// A figure is a number in range or null.
fn figure(v: &Value, lo: f64) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            assert!((lo..=1.0).contains(&x), "{x} out of range");
            Some(x)
        }
        other => panic!("not a number or null: {other}"),
    }
}

#[test]
fn stats_json_has_the_contract_shape_with_null_for_undefined_figures() {
    let ws = workspace();
    ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    // energy: 0050 and 0052 agree; 0051 differs by one level on energy-use (required), which
    // makes the second outcome not_yet
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0050",
        &all(&ENERGY, "well-achieved"),
        &ENERGY_GATES,
        &[],
    );
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0052",
        &all(&ENERGY, "well-achieved"),
        &ENERGY_GATES,
        &[],
    );
    let mut l51 = all(&ENERGY, "achieved");
    l51[0].1 = "not-yet".into();
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0051",
        &l51,
        &ENERGY_GATES,
        &[],
    );
    // visualisation: one pair, identical: every kappa is undefined
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0048",
        &levels(&[
            ("chart-accuracy", "merit"),
            ("encoding-choice", "merit"),
            ("accessibility", "distinction"),
            ("pipeline", "insufficient"),
            ("audience", "merit"),
            ("user-evaluation", "insufficient"),
        ]),
        &VIS_GATES,
        &[],
    );

    let o = ws.run("ann", &["stats", "--json"]);
    assert_eq!(o.code, Some(0), "{o:?}");
    assert!(
        !o.stdout.contains("NaN") && !o.stdout.contains("nan"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("inf"), "{}", o.stdout);
    let all_stats: Vec<Value> = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(all_stats.len(), 3);
    let by: BTreeMap<String, &Value> = all_stats
        .iter()
        .map(|s| (s["rubric"].as_str().unwrap().to_string(), s))
        .collect();
    for s in &all_stats {
        // the spec's fields, with `assessors` the one addition (see README: per assessor)
        let obj = s.as_object().unwrap();
        for k in ["rubric", "version", "pairs", "criteria", "outcome"] {
            assert!(obj.contains_key(k), "{k} missing: {s}");
        }
        for k in obj.keys() {
            assert!(
                [
                    "rubric",
                    "version",
                    "pairs",
                    "criteria",
                    "outcome",
                    "assessors"
                ]
                .contains(&k.as_str()),
                "unexpected key {k}: {s}"
            );
        }
        assert!(s["version"].is_string() && s["pairs"].is_u64());
        for c in s["criteria"].as_array().unwrap() {
            assert_keys(
                c,
                &[
                    "id",
                    "n",
                    "exact",
                    "adjacent",
                    "kappa",
                    "weighted_kappa",
                    "alpha",
                ],
            );
            assert!(c["id"].is_string() && c["n"].is_u64());
            figure(&c["exact"], 0.0);
            figure(&c["adjacent"], 0.0);
            figure(&c["kappa"], -1.0);
            figure(&c["weighted_kappa"], -1.0);
            figure(&c["alpha"], -1.0);
        }
        assert_keys(&s["outcome"], &["n", "exact", "kappa"]);
    }

    // energy: known figures
    let e = by["sustainable-home-energy"];
    assert_eq!(e["version"], "2026.1");
    assert_eq!(e["pairs"], 3);
    let crit = |id: &str| {
        e["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let close = |v: &Value, x: f64| (v.as_f64().unwrap() - x).abs() < 1e-4;
    let eu = crit("energy-use");
    assert_eq!(eu["n"], 3);
    // pairs (2,2) (1,0) (2,2): exact 2/3, adjacent 1, kappa 0.4, quadratic kappa 8/11
    assert!(close(&eu["exact"], 2.0 / 3.0), "{eu}");
    assert!(close(&eu["adjacent"], 1.0), "{eu}");
    assert!(close(&eu["kappa"], 0.4), "{eu}");
    assert!(close(&eu["weighted_kappa"], 8.0 / 11.0), "{eu}");
    assert!(eu["alpha"].is_number(), "{eu}");
    let m = crit("measures");
    assert!(close(&m["exact"], 1.0) && close(&m["kappa"], 1.0), "{m}");
    // outcomes (a,a) (a,n) (a,a): exact 2/3, kappa 0
    assert_eq!(e["outcome"]["n"], 3);
    assert!(close(&e["outcome"]["exact"], 2.0 / 3.0), "{e}");
    assert!(close(&e["outcome"]["kappa"], 0.0), "{e}");

    // visualisation: one identical pair; agreement is exact but kappa and alpha are undefined
    let v = by["applied-data-visualisation"];
    assert_eq!(v["pairs"], 1);
    for c in v["criteria"].as_array().unwrap() {
        assert_eq!(c["n"], 1, "{c}");
        assert_eq!(c["exact"], 1.0, "{c}");
        assert_eq!(c["adjacent"], 1.0, "{c}");
        assert!(c["kappa"].is_null(), "{c}");
        assert!(c["weighted_kappa"].is_null(), "{c}");
        assert!(c["alpha"].is_null(), "{c}");
    }
    assert_eq!(v["outcome"]["exact"], 1.0);
    assert!(v["outcome"]["kappa"].is_null());

    // data literacy: decisions but no pairs yet: everything undefined
    let d = by["data-literacy-practitioner"];
    assert_eq!(d["pairs"], 0);
    assert_eq!(d["criteria"].as_array().unwrap().len(), 5);
    for c in d["criteria"].as_array().unwrap() {
        assert_eq!(c["n"], 0);
        for k in ["exact", "adjacent", "kappa", "weighted_kappa", "alpha"] {
            assert!(c[k].is_null(), "{k}: {c}");
        }
    }
    assert_eq!(
        d["outcome"],
        serde_json::json!({"n": 0, "exact": null, "kappa": null})
    );

    // one rubric; and the text form never shows NaN either
    let one = ws.json(
        "ann",
        &["stats", "--json", "--rubric", "sustainable-home-energy"],
    );
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(&one[0], e);
    let text = ws.ok("ann", &["stats"]);
    assert!(
        !text.contains("NaN") && text.contains("sustainable-home-energy"),
        "{text}"
    );
}

#[test]
fn stats_of_an_empty_workspace_is_an_empty_array() {
    let ws = Ws::new();
    if support::on_server() {
        // (on a server the database is there: the first command gives it its schema)
        assert_eq!(ws.json("ann", &["stats", "--json"]), serde_json::json!([]));
    } else {
        // (no workspace yet: a reading command makes none, and says so)
        let err = ws.refused("ann", &["stats", "--json"]);
        assert!(err.contains("no workspace at"), "{err}");
        assert!(!ws.db.exists());
    }
    ws.import_some("ann", &["sustainable-home-energy"], &[]);
    assert_eq!(ws.json("ann", &["stats", "--json"]), serde_json::json!([]));
}

#[test]
fn a_lead_reopens_a_submitted_decision_with_a_rationale() {
    let ws = workspace();
    let id = "P-2026-0049";
    let marks_before = ws.show("ann", id)["first"]["marks"].clone();

    // not a moderator, not without a rationale, not an unsubmitted portfolio
    let n = ws.audit_len();
    let err = ws.refused("mo", &["reopen", id, "--rationale", "Recount."]);
    assert!(err.contains("lead"), "{err}");
    let err = ws.refused("ann", &["reopen", id, "--rationale", "  "]);
    assert!(err.contains("rationale"), "{err}");
    assert_eq!(ws.run("ann", &["reopen", id]).code, Some(2));
    assert_eq!(ws.audit_len(), n);

    ws.ok(
        "ann",
        &[
            "reopen",
            id,
            "--rationale",
            "Walkthrough video did not play.",
        ],
    );
    let r = ws.row("ann", id);
    assert_eq!(r["status"], "in_progress");
    assert!(r["outcome"].is_null() && r["score"].is_null() && r["grade"].is_null());
    let s = ws.show("ann", id);
    assert!(s["first"]["decision"].is_null());
    assert_eq!(s["first"]["marks"], marks_before, "marks are kept");
    let log = ws.ok("ann", &["audit", "log", id]);
    assert!(
        log.contains("reopen") && log.contains("Walkthrough video did not play."),
        "{log}"
    );
    let err = ws.refused("ann", &["reopen", id, "--rationale", "again"]);
    assert!(err.contains("in_progress"), "{err}");

    // the assessor marks again and resubmits
    ws.ok("ann", &["mark", id, "--gate", "walkthrough=no"]);
    ws.ok("ann", &["mark", id, "--submit"]);
    assert_eq!(ws.row("ann", id)["outcome"], "not_yet");

    // a drawn, second-marked decision reopened loses its draw and its second marking
    ws.ok("mo", &["moderation", "sample", "--seed", "7"]);
    submit(
        &ws,
        "mo",
        "moderate",
        "P-2026-0048",
        &all(&VIS, "pass"),
        &VIS_GATES,
        &[],
    );
    ws.ok(
        "ann",
        &[
            "reopen",
            "P-2026-0048",
            "--rationale",
            "Resubmitted pipeline.",
        ],
    );
    let s = ws.show("ann", "P-2026-0048");
    assert!(s["draw"].is_null(), "{s}");
    assert!(s["second"]["decision"].is_null() && s["second"]["marks"] == serde_json::json!([]));
    assert_eq!(s["portfolio"]["status"], "in_progress");
    ws.ok("ann", &["audit", "verify"]);
}
