//! Writing to the workspace: saving one mark (committed, `synchronous = FULL`), importing 1,000
//! portfolio folders into a new workspace, and exporting 10,000 released decisions to CSV and
//! to Open Badges 3.0 (`ASSAY_BENCH_N` changes the 10,000).
//!
//! `save_mark_signed_agent` saves the same mark as a person with a registered SSH key, each
//! record signed through a real `ssh-agent` (skipped when OpenSSH is not installed).
//!
//! `cargo bench --bench store`

use std::hint::black_box;

use assay::app::Workspace;
use assay::app::export::Format;
use assay::app::mark::{Change, Phase};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

#[path = "../examples/workload/mod.rs"]
mod workload;

fn save_mark(c: &mut Criterion) {
    let built = workload::build(200, workload::Profile::New, true);
    let mut ws = Workspace::open(&built.db, "assessor01".into()).expect("workspace");
    bench_saves(c, "save_mark_committed", &mut ws);
}

/// Saves one level of portfolio 7, alternating between two, as `ws`'s person.
fn bench_saves(c: &mut Criterion, name: &str, ws: &mut Workspace) {
    let id = workload::portfolio_id(7);
    let mut high = false;
    c.bench_function(name, |b| {
        b.iter(|| {
            high = !high;
            let level = if high { "proficient" } else { "competent" };
            let change = Change::Level("digital-tools".into(), Some(level.into()));
            ws.save(black_box(&id), Phase::First, &change, None)
                .expect("saved")
        })
    });
}

/// An ssh-agent of its own, holding a new Ed25519 key, stopped when dropped.
struct Agent {
    dir: tempfile::TempDir,
    pid: String,
}

impl Agent {
    fn start() -> Option<Agent> {
        use std::process::Command;
        let dir = tempfile::tempdir().ok()?;
        let key = dir.path().join("id");
        let made = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .ok()?;
        let sock = dir.path().join("agent.sock");
        let out = Command::new("ssh-agent")
            .arg("-a")
            .arg(&sock)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text
            .split("SSH_AGENT_PID=")
            .nth(1)?
            .split(';')
            .next()?
            .to_string();
        let added = Command::new("ssh-add")
            .arg("-q")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &sock)
            .status()
            .ok()?;
        (made.success() && added.success()).then_some(Agent { dir, pid })
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").arg(&self.pid).status();
    }
}

fn save_mark_signed(c: &mut Criterion) {
    let Some(agent) = Agent::start() else {
        eprintln!("save_mark_signed_agent skipped: ssh-keygen, ssh-agent and ssh-add are needed");
        return;
    };
    let built = workload::build(200, workload::Profile::New, true);
    let line = std::fs::read_to_string(agent.dir.path().join("id.pub")).expect("the public key");
    let key = assay::domain::sshsig::parse_public_key(&line).expect("a key");
    let mut lead = Workspace::open(&built.db, "lead".into()).expect("workspace");
    if lead.role().expect("role").is_none() {
        lead.add_user("lead", assay::domain::role::Role::Lead, None)
            .expect("lead registered");
    }
    lead.add_user(
        "assessor01",
        assay::domain::role::Role::Assessor,
        Some(&key),
    )
    .expect("key registered");
    drop(lead);
    // SAFETY: set before any thread of this benchmark reads the environment.
    unsafe { std::env::set_var("SSH_AUTH_SOCK", agent.dir.path().join("agent.sock")) };
    let mut ws = Workspace::open(&built.db, "assessor01".into()).expect("workspace");
    bench_saves(c, "save_mark_signed_agent", &mut ws);
}

fn import(c: &mut Criterion) {
    let files = tempfile::tempdir().expect("a temporary folder");
    let (rubric, portfolios) = workload::write_files(files.path(), 1000).expect("files");
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.bench_function("import_1000_portfolios", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("a temporary folder"),
            |dir| {
                let mut ws =
                    Workspace::open(&dir.path().join("assay.db"), "lead".into()).expect("open");
                let s = ws
                    .import(&[rubric.clone(), portfolios.clone()], &mut |_, _| {})
                    .expect("import");
                assert_eq!(s.new, 1000);
                dir
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn export(c: &mut Criterion) {
    let n = workload::bench_n(10_000);
    let built = workload::build(n, workload::Profile::Released, true);
    let mut ws = Workspace::open(&built.db, "moderator1".into()).expect("workspace");
    let out = built.dir.path().join("out");
    std::fs::create_dir_all(&out).expect("a folder for the files");
    let mut g = c.benchmark_group(format!("export_{n}"));
    g.sample_size(10);
    // `--all`: every released decision each time (each run is recorded as a batch, as it is).
    g.bench_function("csv", |b| {
        b.iter(|| {
            let e = ws.export(
                Format::Csv,
                &out.join("decisions.csv"),
                None,
                true,
                true,
                &mut |_, _| {},
            );
            assert_eq!(e.expect("exported").count, n);
        })
    });
    g.bench_function("obv3", |b| {
        b.iter(|| {
            let e = ws.export(
                Format::Obv3,
                &out.join("obv3"),
                None,
                true,
                true,
                &mut |_, _| {},
            );
            assert!(e.expect("exported").count > n / 2);
        })
    });
    g.finish();
}

criterion_group!(benches, save_mark, save_mark_signed, import, export);
criterion_main!(benches);
