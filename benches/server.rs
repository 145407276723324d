//! A team on one PostgreSQL server: simulated assessors (20), each on a connection and a
//! database role of their own, save levels (500 each) as fast as they can, all at once, each
//! save committed with its audit record before the next. Reported: every save's latency (p50,
//! p90, p99, max), the throughput, that no update was lost (each portfolio's stored version
//! moved once per save, each mark is the last level its assessor saved) and that the audit
//! chain verifies with exactly one record per save.
//!
//! Needs a server to run against: a superuser's URI in `ASSAY_BENCH_PG` (or `ASSAY_TEST_PG`),
//! as `scripts/pg-test.sh` sets it:
//!
//! ```text
//! cargo build --release --benches
//! scripts/pg-test.sh cargo bench --bench server
//! ```
//!
//! `ASSAY_BENCH_ASSESSORS` and `ASSAY_BENCH_SAVES` change the 20 and the 500. Without a server
//! it says it was skipped.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use assay::app::Workspace;
use assay::app::mark::{Change, Phase};
use assay::domain::role::Role;

#[path = "../examples/workload/mod.rs"]
mod workload;

/// Portfolios each assessor marks (their saves go round them).
const PER_ASSESSOR: usize = 5;

fn env_n(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// `admin` with another user and database.
fn uri(admin: &str, user: &str, db: &str) -> String {
    let q = admin.split_once('?').map(|(_, q)| q).unwrap_or("");
    format!("postgresql://{user}@/{db}?{q}")
}

fn marker(i: usize) -> String {
    format!("marker{:02}", i + 1)
}

fn main() {
    // (cargo bench passes `--bench`; a filter argument is not used here)
    let Some(admin) = ["ASSAY_BENCH_PG", "ASSAY_TEST_PG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    else {
        println!(
            "server: skipped — no PostgreSQL (set ASSAY_BENCH_PG, or run `scripts/pg-test.sh cargo bench --bench server`)"
        );
        return;
    };
    let assessors = env_n("ASSAY_BENCH_ASSESSORS", 20);
    let saves = env_n("ASSAY_BENCH_SAVES", 500);
    // Milliseconds an assessor reads between saves, on average (uniform from 0 to twice it);
    // 0: every assessor saves again the moment the last save returns.
    let think = env_n("ASSAY_BENCH_THINK_MS", 0) as u64;
    let db = format!("assay_bench_{}", std::process::id());
    let mut c = postgres::Client::connect(&admin, postgres::NoTls).expect("connect as the admin");
    for who in std::iter::once("lead".to_string()).chain((0..assessors).map(marker)) {
        let exists = c
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&who])
            .expect("roles")
            .is_some();
        if !exists {
            c.batch_execute(&format!("CREATE ROLE \"{who}\" LOGIN CREATEROLE"))
                .expect("create role");
        }
    }
    c.batch_execute(&format!(
        "CREATE DATABASE {db} OWNER lead LOCALE 'C' TEMPLATE template0"
    ))
    .expect("create the database");

    // The workspace: the portfolios imported, the people registered, each assessor allocated
    // their own.
    let t = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let n = assessors * PER_ASSESSOR;
    let (rubric, portfolios) =
        workload::write_files_sized(dir.path(), n, true).expect("files written");
    let lead_uri = uri(&admin, "lead", &db);
    let mut lead = Workspace::open(lead_uri.as_ref(), "lead".into()).expect("workspace");
    lead.add_user("lead", Role::Lead, None).expect("lead");
    let s = lead
        .import(&[rubric, portfolios], &mut |_, _| {})
        .expect("import");
    assert!(s.rejected.is_empty());
    let mut own: Vec<Vec<String>> = vec![Vec::new(); assessors];
    for i in 0..n {
        own[i % assessors].push(workload::portfolio_id(i));
    }
    for (a, ids) in own.iter().enumerate() {
        lead.add_user(&marker(a), Role::Assessor, None)
            .expect("assessor");
        lead.assign(ids, &marker(a)).expect("assign");
    }
    let head_before = lead.audit_head().expect("head");
    eprintln!(
        "server: {n} portfolios, {assessors} assessors set up in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    // Everyone marks at once.
    let start = Arc::new(Barrier::new(assessors + 1));
    let threads: Vec<_> = own
        .into_iter()
        .enumerate()
        .map(|(a, ids)| {
            let start = start.clone();
            let u = uri(&admin, &marker(a), &db);
            std::thread::spawn(move || {
                let mut ws = Workspace::open(u.as_ref(), marker(a)).expect("open");
                let mut version: BTreeMap<String, i64> = ids
                    .iter()
                    .map(|id| (id.clone(), ws.portfolio_version(id).unwrap().unwrap()))
                    .collect();
                let mut last: BTreeMap<(String, String), String> = BTreeMap::new();
                let mut took = Vec::with_capacity(saves);
                start.wait();
                let mut rng = workload::rng_for(a, 0x7417);
                for k in 0..saves {
                    if think > 0 {
                        // (an assessor reads before choosing the next level)
                        std::thread::sleep(Duration::from_millis(rng.below(2 * think + 1)));
                    }
                    let id = &ids[k % ids.len()];
                    let round = k / ids.len();
                    let (criterion, levels) = workload::CRITERIA[round % workload::CRITERIA.len()];
                    let level = levels[(round / workload::CRITERIA.len() + a) % levels.len()];
                    let change = Change::Level(criterion.into(), Some(level.into()));
                    let t = Instant::now();
                    let v = ws
                        .save(id, Phase::First, &change, Some(version[id]))
                        .unwrap_or_else(|e| panic!("{} saving {id}: {}", marker(a), e));
                    took.push(t.elapsed());
                    version.insert(id.clone(), v);
                    last.insert((id.clone(), criterion.to_string()), level.to_string());
                }
                (ws, took, last, version)
            })
        })
        .collect();
    start.wait();
    let wall = Instant::now();
    let mut all: Vec<Duration> = Vec::with_capacity(assessors * saves);
    let mut lost = 0usize;
    let mut checked = 0usize;
    let mut finished = Vec::new();
    for th in threads {
        finished.push(th.join().expect("an assessor's thread"));
    }
    let wall = wall.elapsed();
    let mut versions_wrong = 0;
    for (ws, took, last, version) in &finished {
        // Nobody else wrote their portfolios: each is at the version its last save returned.
        for (id, v) in version {
            if lead.portfolio_version(id).unwrap() != Some(*v) {
                versions_wrong += 1;
            }
        }
        all.extend(took);
        // Each mark is the last level its assessor saved.
        for ((id, criterion), level) in last {
            let (_, sheet) = ws.preview(id, Phase::First).expect("read back");
            let stored = sheet.marks.get(criterion).and_then(|(l, _)| l.clone());
            if stored.as_deref() != Some(level.as_str()) {
                lost += 1;
            }
            checked += 1;
        }
    }
    let head_after = lead.audit_head().expect("head");
    let v = lead.verify(&mut |_, _, _| {}).expect("verify");
    all.sort();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1e3
    };
    let total = all.len();
    println!(
        "server: {assessors} assessors × {saves} saves (think time {think} ms) = {total} saves in {:.2}s ({:.0} saves/s)",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64()
    );
    println!(
        "server: save latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "server: lost updates {lost} of {checked} marks checked, {versions_wrong} portfolio versions wrong; {} audit records for {total} saves; chain {}",
        head_after - head_before,
        if v.problems.is_empty() {
            "verifies".to_string()
        } else {
            format!("FAILS: {:?}", v.problems.first())
        }
    );
    drop(finished);
    drop(lead);
    let _ = c.batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"));
    assert_eq!(lost, 0, "lost updates");
    assert_eq!(versions_wrong, 0, "portfolio versions");
    // (one per save, and one the first time each portfolio is opened for marking)
    assert_eq!(
        head_after - head_before,
        (total + n) as i64,
        "a record per save"
    );
    assert!(v.problems.is_empty(), "the chain verifies");
}
