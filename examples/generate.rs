//! Generates a benchmark workload:
//!
//! ```sh
//! cargo run --release --example generate -- N DIR [--profile mixed|released|new] [--files-only] [--small] [--db WORKSPACE (a file or a postgres:// URI; default DIR/assay.db)]
//! ```
//!
//! writes `DIR/rubrics/workplace-digital-skills.yaml`, `N` portfolio folders under
//! `DIR/portfolios/` (manifest, reflective statement and three evidence files each), and —
//! unless `--files-only` — the workspace `DIR/assay.db`: the rubric and portfolios imported with
//! `Workspace::import`, then marks, gates, feedback, comments, referrals, overrides, submissions,
//! moderation draws, blind second marks, settlements, releases and an export, every one through
//! the application services (`Workspace::save`, `submit`, `draw_sample`, `settle`, `release`,
//! `export`), so the audit chain is the one real use writes and `assay audit verify` passes.
//!
//! `--small` writes the same files with a few hundred bytes each (a million portfolios then fit
//! on an ordinary disk; the workbench's and the queue's figures do not depend on evidence size).
//!
//! Profiles: `mixed` (default) spreads the portfolios over every status; `released` marks,
//! moderates and releases every one (for the export figures); `new` only imports.
//!
//! The generator's own connection runs with `PRAGMA synchronous = OFF` (each service call still
//! commits its own transaction, but without waiting for the disk); the finished file is
//! checkpointed, so it is an ordinary workspace.

mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use assay::app::Workspace;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo run --release --example generate -- N DIR [--profile mixed|released|new] [--files-only] [--small] [--db WORKSPACE (a file or a postgres:// URI; default DIR/assay.db)]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let mut profile = workload::Profile::Mixed;
    let mut files_only = false;
    let mut small = false;
    let mut target: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--profile" => match it.next().and_then(|p| workload::Profile::parse(p)) {
                Some(p) => profile = p,
                None => return usage(),
            },
            "--files-only" => files_only = true,
            "--small" => small = true,
            "--db" => match it.next() {
                Some(t) => target = Some(t.clone()),
                None => return usage(),
            },
            _ => pos.push(a.clone()),
        }
    }
    let [n, dir] = pos.as_slice() else {
        return usage();
    };
    let Ok(n) = n.replace('_', "").parse::<usize>() else {
        return usage();
    };
    let dir = PathBuf::from(dir);
    match run(n, &dir, profile, files_only, small, target) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    n: usize,
    dir: &std::path::Path,
    profile: workload::Profile,
    files_only: bool,
    small: bool,
    target: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let db = target
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("assay.db"));
    if !files_only && db.exists() {
        return Err(format!(
            "{} exists already; remove it (and its -wal and -shm files) first",
            db.display()
        )
        .into());
    }
    let t = Instant::now();
    let (rubric, portfolios) = workload::write_files_sized(dir, n, small)?;
    eprintln!(
        "wrote {n} portfolio folders and a rubric under {} in {:.1}s",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    if files_only {
        return Ok(());
    }
    let mut ws = Workspace::open(&db, "lead".into())?;
    ws.skip_fsync()?;
    let t = Instant::now();
    let summary = ws.import(&[rubric, portfolios], &mut |_, _| {})?;
    eprintln!("{} in {:.1}s", summary.line(), t.elapsed().as_secs_f64());
    if !summary.rejected.is_empty() {
        return Err(format!("rejected: {:?}", &summary.rejected[..1]).into());
    }
    let t = Instant::now();
    let filled = workload::fill(&mut ws, n, profile, &dir.join("exports"), &mut |l| {
        eprintln!("{l}")
    })?;
    eprintln!(
        "filled through the services in {:.1}s: {filled:?}",
        t.elapsed().as_secs_f64()
    );
    ws.checkpoint(true)?;
    let counts = ws.counts()?;
    let t = Instant::now();
    let v = ws.verify(&mut |_, _, _| {})?;
    eprintln!(
        "audit chain: {} records, {} rows, {} problems (verified in {:.1}s)",
        v.records,
        v.rows,
        v.problems.len(),
        t.elapsed().as_secs_f64()
    );
    if let Some(p) = v.problems.first() {
        return Err(format!("audit verification failed: {p}").into());
    }
    let counts: Vec<String> = counts.iter().map(|(s, k)| format!("{s} {k}")).collect();
    println!("{}: {}", db.display(), counts.join(", "));
    Ok(())
}
