//! Crash safety: the real binary killed with SIGKILL at random moments, many times, while it
//! marks, imports and exports. Afterwards the database passes `PRAGMA integrity_check` (on the
//! local file), the audit chain verifies, every change reported as saved is present, no
//! portfolio is half imported, no export file is half written and no batch is recorded for an
//! unfinished export. Run against PostgreSQL too (see `tests/support`).

#![cfg(unix)]

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Ws;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_assay"))
}

/// A small deterministic generator; the seed is printed so a failure can be replayed.
struct Rng(u64);
impl Rng {
    fn from_time() -> Rng {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("CRASH_SEED={seed}");
        Rng(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn assay(db: &OsStr, user: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .arg("--db")
        .arg(db)
        .args(["--as", user])
        .args(args)
        .output()
        .unwrap()
}

/// Runs the command and kills it with SIGKILL after `after`; returns whether it finished
/// successfully on its own before that.
fn run_and_kill(db: &OsStr, args: &[&str], after: Duration) -> bool {
    let mut child = Command::new(bin())
        .arg("--db")
        .arg(db)
        .args(["--as", "ann"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while t.elapsed() < after {
        if let Some(st) = child.try_wait().unwrap() {
            return st.success();
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    let _ = Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    let st = child.wait().unwrap();
    st.success()
}

/// How many credential files (`*.json`) the folder holds (none when there is no folder).
fn json_files(dir: &Path) -> usize {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))
            })
            .count(),
        Err(_) => 0,
    }
}

/// A count from the workspace's database, read behind assay's back.
fn count(ws: &Ws, sql: &str) -> i64 {
    match &ws.server {
        Some(s) => s.count(sql),
        None => rusqlite::Connection::open(&ws.db)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
    }
}

fn check_integrity(ws: &Ws) {
    // (PostgreSQL keeps its own pages whole; the file is checked page by page)
    if ws.server.is_none() {
        let c = rusqlite::Connection::open(&ws.db).unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
    }
    let db = ws.db_for("ann");
    let db = db.as_os_str();
    let v = assay(db, "ann", &["audit", "verify"]);
    assert!(
        v.status.success(),
        "audit verify failed: {}",
        String::from_utf8_lossy(&v.stderr)
    );
}

fn rubrics() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/rubrics")
}

fn samples() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/samples/portfolios")
}

#[test]
fn marking_killed_at_random_keeps_every_reported_save() {
    let ws = Ws::new();
    let db = ws.db_for("ann");
    let db = db.as_os_str();
    assert!(
        assay(db, "ann", &["import", rubrics(), samples()])
            .status
            .success()
    );
    let mut rng = Rng::from_time();
    let levels = ["not-yet", "developing", "meets", "exceeds"];
    let mut reported: Vec<usize> = Vec::new();
    let attempts = 40;
    for i in 0..attempts {
        let level = format!("C1={}", levels[i % 4]);
        let fb = format!("C1=attempt {i}");
        // Kill anywhere from before start-up to after the commit.
        let after = Duration::from_micros(rng.below(40_000));
        if run_and_kill(
            db,
            &["mark", "P-2026-0041", "--level", &level, "--feedback", &fb],
            after,
        ) {
            reported.push(i);
        }
    }
    eprintln!(
        "{} of {attempts} saves finished before their kill",
        reported.len()
    );
    check_integrity(&ws);
    // Every save reported as done is in the history; the current feedback is the last reported
    // one or a later attempt that committed just before its kill.
    let log = String::from_utf8(assay(db, "ann", &["audit", "log", "P-2026-0041"]).stdout).unwrap();
    for i in &reported {
        assert!(
            log.contains(&format!("attempt {i}\"")),
            "save {i} was reported but is missing"
        );
    }
    let show = assay(db, "ann", &["show", "P-2026-0041", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let fb = v["first"]["marks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["criterion"] == "C1")
        .map(|m| m["feedback"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    if let Some(last) = reported.last() {
        let n: usize = fb.trim_start_matches("attempt ").parse().unwrap();
        assert!(
            n >= *last,
            "current feedback {fb:?} is older than the last reported save {last}"
        );
    }
}

/// Writes `n` small portfolios for the sustainable-home-energy rubric.
fn write_portfolios(root: &Path, n: usize) {
    for i in 0..n {
        let d = root.join(format!("P-{i:05}"));
        std::fs::create_dir_all(d.join("evidence")).unwrap();
        let mut m = format!(
            "format: assay.portfolio/v1\nid: P-{i:05}\nrubric: sustainable-home-energy\nlearner: {{id: L-{i}, name: Learner {i}}}\nsubmitted: 2026-01-01\nevidence:\n"
        );
        for e in 0..3 {
            std::fs::write(
                d.join(format!("evidence/e{e}.md")),
                format!(
                    "# Evidence {e} of portfolio {i}\n{}\n",
                    "reading ".repeat(200)
                ),
            )
            .unwrap();
            m.push_str(&format!(
                "  - {{id: E{e}, title: Evidence {e}, kind: informal, file: evidence/e{e}.md, date: 2025, claims: [energy-use]}}\n"
            ));
        }
        std::fs::write(d.join("portfolio.yaml"), m).unwrap();
    }
}

#[test]
fn import_killed_midway_leaves_no_half_portfolio() {
    let ws = Ws::new();
    let db = ws.db_for("ann");
    let db = db.as_os_str();
    let folder = ws.path("portfolios");
    write_portfolios(&folder, 300);
    assert!(assay(db, "ann", &["import", rubrics()]).status.success());
    let mut rng = Rng::from_time();
    for _ in 0..6 {
        let after = Duration::from_millis(20 + rng.below(400));
        run_and_kill(db, &["import", folder.to_str().unwrap()], after);
        check_integrity(&ws);
        // every portfolio present has its revision and all three evidence rows and blobs
        let bad = count(
            &ws,
            "SELECT count(*) FROM portfolios p WHERE
               (SELECT count(*) FROM evidence e WHERE e.portfolio_pk = p.pk AND e.revision = p.revision) != 3
               OR NOT EXISTS (SELECT 1 FROM revisions r WHERE r.portfolio_pk = p.pk AND r.revision = p.revision)
               OR EXISTS (SELECT 1 FROM evidence e WHERE e.portfolio_pk = p.pk AND e.blob_sha NOT IN (SELECT sha256 FROM blobs))",
        );
        assert_eq!(bad, 0, "a portfolio was half imported");
    }
    // finishing the import afterwards brings in the rest, and the first ones are unchanged
    let out = assay(db, "ann", &["import", folder.to_str().unwrap()]);
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert!(line.contains("300 portfolios"), "{line}");
    assert!(line.contains("0 revised"), "{line}");
}

#[test]
fn export_killed_midway_leaves_no_half_file_and_no_batch() {
    use assay::app::Workspace;
    use assay::app::mark::{Change, Phase};
    let ws = Ws::new();
    let db = ws.db_for("ann");
    let db = db.as_os_str();
    let folder = ws.path("portfolios");
    write_portfolios(&folder, 150);
    // A rubric that samples nothing, so every submitted decision is released at once.
    let rubric =
        std::fs::read_to_string(format!("{}/sustainable-home-energy.yaml", rubrics())).unwrap();
    let rubric = rubric.replace("version: \"2026.1\"", "version: \"2026.1-nosample\"");
    let rubric = format!(
        "{}\nmoderation: {{sample_percent: 0, sample_min: 0, always: []}}\n",
        rubric.trim_end()
    );
    assert!(
        !rubric.contains("\nmoderation:\n"),
        "the sample rubric has no moderation block"
    );
    let rpath = ws.path("r.yaml");
    std::fs::write(&rpath, rubric).unwrap();
    {
        let mut w = Workspace::open(Path::new(db), "ann".into()).unwrap();
        w.import(&[rpath, folder.clone()], &mut |_, _| {}).unwrap();
        for i in 0..150 {
            let id = format!("P-{i:05}");
            for c in ["energy-use", "measures", "action", "sharing"] {
                w.save(
                    &id,
                    Phase::First,
                    &Change::Level(c.into(), Some("achieved".into())),
                    None,
                )
                .unwrap();
            }
            for g in ["identity", "authenticity", "currency", "safety"] {
                w.save(&id, Phase::First, &Change::Gate(g.into(), true), None)
                    .unwrap();
            }
            w.submit(&id, Phase::First, None, None, None).unwrap();
        }
        w.draw_sample(None, Some(1)).unwrap();
        let r = w.release(None).unwrap();
        assert_eq!(r.released.len(), 150);
    }
    let out = ws.path("badges");
    let mut rng = Rng::from_time();
    let mut finished = false;
    for _ in 0..6 {
        let after = Duration::from_millis(5 + rng.below(250));
        finished = run_and_kill(
            db,
            &["export", "--format", "obv3", "--out", out.to_str().unwrap()],
            after,
        );
        check_integrity(&ws);
        let batches = count(&ws, "SELECT count(*) FROM export_batches");
        // every credential file present is whole
        if out.exists() {
            for e in std::fs::read_dir(&out).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "json") {
                    let bytes = std::fs::read(&p).unwrap();
                    serde_json::from_slice::<serde_json::Value>(&bytes)
                        .unwrap_or_else(|e| panic!("{} is half written: {e}", p.display()));
                }
            }
        }
        // A batch is recorded only for a whole export: every file in place. (A kill can land
        // after the commit, while the process closes the database: the export is done then.)
        let whole = json_files(&out) == 150;
        if finished || batches > 0 {
            assert_eq!(batches, 1);
            assert!(whole, "a batch was recorded for an unfinished export");
            finished = true;
            break;
        }
    }
    if !finished {
        assert!(
            assay(
                db,
                "ann",
                &["export", "--format", "obv3", "--out", out.to_str().unwrap()]
            )
            .status
            .success()
        );
    }
    assert_eq!(json_files(&out), 150);
}
