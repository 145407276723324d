//! `assay rubric check` and `assay rubric show`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::{CmdResult, Failure};
use crate::app::read_limited;
use crate::domain::rubric::{self, Rubric};
use crate::domain::sanitize::sanitize;

pub fn check(files: &[PathBuf]) -> CmdResult {
    let mut bad = 0usize;
    for f in files {
        let name = f.display().to_string();
        let bytes = match read_limited(f) {
            Ok(b) => b,
            Err(e) => {
                println!("{}", sanitize(&e));
                bad += 1;
                continue;
            }
        };
        match rubric::load(&name, &bytes) {
            Ok(l) => {
                for w in &l.warnings {
                    println!("{}", sanitize(&w.to_string()));
                }
                println!(
                    "{}: ok ({} {}, {} criteria)",
                    sanitize(&name),
                    l.rubric.id,
                    l.rubric.version,
                    l.rubric.criteria.len()
                );
            }
            Err(d) => {
                bad += 1;
                for line in d.0 {
                    println!("{}", sanitize(&line.to_string()));
                }
            }
        }
    }
    if bad > 0 {
        return Err(Failure::msg(format!(
            "{bad} of {} rubric file(s) have errors; fix the lines named above",
            files.len()
        )));
    }
    Ok(())
}

pub fn show(arg: &str, db: &Path, user: String) -> CmdResult {
    let path = Path::new(arg);
    // Anything by that name is read as a file (and a FIFO, a device or a folder is said to be
    // one); otherwise the workspace is asked for the id.
    if std::fs::symlink_metadata(path).is_ok() {
        let bytes = read_limited(path)?;
        let loaded = rubric::load(arg, &bytes)
            .map_err(|d| Failure(d.errors().map(|e| sanitize(&e.to_string())).collect()))?;
        print!("{}", render(&loaded.rubric));
        return Ok(());
    }
    if crate::app::may_hold_workspace(db) {
        let ws = crate::app::Workspace::open_existing(db, user)?;
        if let Some(pk) = ws.find_rubric(arg)? {
            let r = ws.rubric(pk)?;
            print!("{}", render(&r));
            return Ok(());
        }
    }
    Err(Failure::msg(format!(
        "no rubric file `{}` and no rubric `{}` in the workspace {}; give a file path or an ID[@VERSION] that `assay import` loaded",
        sanitize(arg),
        sanitize(arg),
        db.display()
    )))
}

/// The rubric as a person reads it.
pub fn render(r: &Rubric) -> String {
    let mut o = String::new();
    let c = &r.credential;
    let _ = writeln!(o, "{} — {} (version {})", r.title, r.id, r.version);
    let _ = writeln!(o, "sha256 {}", r.sha256);
    if let Some(s) = &r.summary {
        let _ = writeln!(o, "\n{}", s.trim());
    }
    let _ = writeln!(o, "\nCredential");
    let _ = writeln!(
        o,
        "  Awarding body     {} ({}), {}",
        c.awarding_body.name, c.awarding_body.id, c.awarding_body.country
    );
    let _ = writeln!(o, "  EQF level         {}", c.eqf_level);
    let hours = c
        .workload_hours
        .map(|h| format!(" ({h} hours)"))
        .unwrap_or_default();
    let _ = writeln!(o, "  Workload          {} ECTS{hours}", c.ects);
    let _ = writeln!(o, "  Pathway           {}", c.pathway.as_str());
    let _ = writeln!(o, "  Participation     {}", c.participation.as_str());
    let _ = writeln!(o, "  Assessment        {}", c.assessment.trim());
    let _ = writeln!(o, "  Quality assurance {}", c.quality_assurance.trim());
    for (label, v) in [
        ("Prerequisites    ", &c.prerequisites),
        ("Identity checked ", &c.identity_verification),
        ("Stackability     ", &c.stackability),
    ] {
        if let Some(v) = v {
            let _ = writeln!(o, "  {label} {}", v.trim());
        }
    }
    if !c.tags.is_empty() {
        let _ = writeln!(o, "  Tags              {}", c.tags.join(", "));
    }
    let _ = writeln!(o, "\nLearning outcomes");
    for lo in &r.outcomes {
        let _ = writeln!(o, "  {:<6} {}", lo.id, lo.text.trim());
    }
    if !r.gates.is_empty() {
        let _ = writeln!(o, "\nGates (each must be confirmed before an award)");
        for g in &r.gates {
            let _ = writeln!(o, "  [ ] {:<14} {}", g.id, g.text.trim());
        }
    }
    let _ = writeln!(o, "\nCriteria");
    for cr in &r.criteria {
        let mut flags = vec![format!("weight {}", cr.weight)];
        if cr.required {
            flags.push("required".into());
        }
        flags.push(format!("outcomes {}", cr.outcomes.join(", ")));
        let _ = writeln!(o, "\n  {} {} ({})", cr.id, cr.title, flags.join("; "));
        if let Some(g) = &cr.guidance {
            let _ = writeln!(o, "    Guidance: {}", g.trim());
        }
        for (i, l) in cr.levels.iter().enumerate() {
            let meets = if l.meets { " meets" } else { "" };
            let _ = writeln!(
                o,
                "    {}. {:<28} {:>3} pts{meets}",
                i + 1,
                format!("{} [{}]", l.label, l.id),
                l.points
            );
            let _ = writeln!(o, "       {}", l.descriptor.trim());
        }
    }
    let d = &r.decision;
    let _ = writeln!(o, "\nDecision");
    let _ = writeln!(
        o,
        "  score = 100 × Σ weight × points / Σ weight × highest points"
    );
    let mut rule = String::from("  Awarded when ");
    let mut parts = Vec::new();
    if !r.gates.is_empty() {
        parts.push("every gate is confirmed".to_string());
    }
    let req: Vec<&str> = r
        .criteria
        .iter()
        .filter(|c| c.required)
        .map(|c| c.id.as_str())
        .collect();
    if !req.is_empty() {
        parts.push(format!(
            "the required criteria ({}) reach a meeting level",
            req.join(", ")
        ));
    }
    parts.push(format!("the score is at least {}", d.pass_mark));
    rule.push_str(&parts.join(", "));
    let _ = writeln!(o, "{rule}; otherwise not yet.");
    if !d.grades.is_empty() {
        let bands: Vec<String> = d
            .grades
            .iter()
            .map(|g| format!("{} from {}", g.name, g.min))
            .collect();
        let _ = writeln!(o, "  Grades: {}.", bands.join(", "));
    }
    let m = &r.moderation;
    let always: Vec<&str> = m.always.iter().map(|a| a.as_str()).collect();
    let _ = writeln!(o, "\nModeration");
    let _ = writeln!(
        o,
        "  Sample {}% (at least {}) plus every {}; borderline is within {} points of the pass mark; {}.",
        m.sample_percent,
        m.sample_min,
        if always.is_empty() {
            "—".to_string()
        } else {
            always.join(", ")
        },
        m.borderline_margin,
        if m.blind {
            "second marking is blind"
        } else {
            "second markers see the first marks"
        }
    );
    sanitize(&o)
}
