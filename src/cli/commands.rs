//! The workspace commands: each opens the workspace, calls one service, prints.

use std::io::{IsTerminal, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::{
    AssignArgs, AuditCmd, CmdResult, Command, ExportFormat, Failure, MarkArgs, ModerateArgs,
    ModerationCmd, OutcomeArg, RoleArg, UserCmd,
};
use crate::app::Workspace;
use crate::app::audit::{Record, Stage, Verification};
use crate::app::mark::{Change, Sheet};
use crate::app::moderation::{Settle, Wait};
use crate::app::query::{Detail, Filter, Row};
use crate::domain::decision::Outcome;
use crate::domain::phase::Phase;
use crate::domain::role::Role;
use crate::domain::sanitize::{sanitize, sanitize_line};
use crate::domain::status::Status;

/// The workspace, which must exist (only `import`, `user add` and the workbench make one).
fn open(db: &Path, user: String) -> Result<Workspace, Failure> {
    Ok(Workspace::open_existing(db, user)?)
}

/// The workspace, made if there is none.
fn open_or_create(db: &Path, user: String) -> Result<Workspace, Failure> {
    Ok(Workspace::open(db, user)?)
}

pub fn run(cmd: Command, db: &Path, user: String) -> CmdResult {
    match cmd {
        Command::Import {
            paths,
            rubric,
            learner_id,
            id,
        } => {
            let leap = crate::domain::leap2a::Options {
                rubric: rubric.unwrap_or_default(),
                learner_id,
                portfolio_id: id,
            };
            import(&paths, &leap, db, user)
        }
        Command::List {
            status,
            rubric,
            json,
        } => list(open(db, user)?, status, rubric, json),
        Command::Show { id, json } => show(open(db, user)?, &id, json),
        Command::Search { query, json, limit } => {
            search(open(db, user)?, &query, json, limit as usize)
        }
        Command::Mark(args) => mark(&mut open(db, user)?, args, Phase::First),
        Command::Moderate(args) => moderate(&mut open(db, user)?, args),
        Command::Moderation(ModerationCmd::Sample { rubric, seed }) => {
            sample(open(db, user)?, rubric, seed)
        }
        Command::Link {
            id,
            evidence,
            criterion,
            remove,
        } => {
            let mut ws = open(db, user)?;
            let (changed, _) = ws.link(&id, &evidence, &criterion, !remove, None)?;
            let (e, c, p) = (
                sanitize_line(&evidence),
                sanitize_line(&criterion),
                sanitize_line(&id),
            );
            match (changed, remove) {
                (false, false) => println!("{p}: {e} was already linked to {c}"),
                (false, true) => println!("{p}: {e} was not linked to {c}"),
                (true, false) => println!("{p}: linked {e} to {c}"),
                (true, true) => println!("{p}: unlinked {e} from {c}"),
            }
            Ok(())
        }
        Command::Reopen { id, rationale } => {
            let mut ws = open(db, user)?;
            ws.reopen(&id, &rationale)?;
            println!(
                "reopened {}: back with its assessor, in progress",
                sanitize_line(&id)
            );
            Ok(())
        }
        Command::Release { rubric } => release(open(db, user)?, rubric),
        Command::Stats { rubric, json } => stats(open(db, user)?, rubric, json),
        Command::Export {
            format,
            out,
            rubric,
            all,
            force,
            sign,
        } => export(open(db, user)?, format, &out, rubric, all, force, sign),
        Command::Revoke { id, reason } => {
            super::credential_cmd::revoke(open(db, user)?, &id, &reason)
        }
        Command::Verify { files, keys } => super::credential_cmd::verify(&files, keys.as_deref()),
        Command::Issuer(cmd) => super::credential_cmd::issuer(cmd, db, user),
        Command::User(UserCmd::Add { name, role, key }) => {
            let key = key.as_deref().map(read_public_key).transpose()?;
            let mut ws = open_or_create(db, user)?;
            let role = match role {
                RoleArg::Assessor => Role::Assessor,
                RoleArg::Moderator => Role::Moderator,
                RoleArg::Lead => Role::Lead,
            };
            ws.add_user(&name, role, key.as_ref())?;
            match &key {
                Some(k) => println!(
                    "registered {} as {}, their records signed with {}",
                    sanitize_line(&name),
                    role.as_str(),
                    crate::domain::sshsig::fingerprint(k)
                ),
                None => println!("registered {} as {}", sanitize_line(&name), role.as_str()),
            }
            Ok(())
        }
        Command::User(UserCmd::Key { name, file, remove }) => {
            let key = match (&file, remove) {
                (Some(f), false) => Some(read_public_key(f)?),
                _ => None,
            };
            let mut ws = open(db, user)?;
            let changed = ws.set_key(&name, key.as_ref())?;
            match &key {
                Some(k) if !changed => println!(
                    "{}'s records are signed with {} already: nothing changed",
                    sanitize_line(&name),
                    crate::domain::sshsig::fingerprint(k)
                ),
                None if !changed => {
                    println!("{} has no key: nothing changed", sanitize_line(&name))
                }
                Some(k) => println!(
                    "{}'s records are signed with {} from now on",
                    sanitize_line(&name),
                    crate::domain::sshsig::fingerprint(k)
                ),
                None => println!(
                    "{} has no key now: their records are no longer signed",
                    sanitize_line(&name)
                ),
            }
            Ok(())
        }
        Command::User(UserCmd::List) => {
            let ws = open(db, user)?;
            let users = ws.users()?;
            if users.is_empty() {
                println!("nobody is registered: anyone may act in any role");
            }
            for (n, r) in users {
                match ws.key_of(&n)? {
                    Some(k) => println!(
                        "{:<24} {r:<10} {}",
                        sanitize_line(&n),
                        crate::domain::sshsig::fingerprint(&k)
                    ),
                    None => println!("{:<24} {r}", sanitize_line(&n)),
                }
            }
            Ok(())
        }
        Command::Assign(a) => assign(open(db, user)?, a),
        Command::Audit(AuditCmd::Verify) => {
            audit_verify(Workspace::open_to_verify(db, user).map_err(Failure::from)?)
        }
        Command::Audit(AuditCmd::Log { id }) => audit_log(open(db, user)?, id),
        Command::Audit(AuditCmd::Sig { seq, out }) => audit_sig(open(db, user)?, seq, &out),
        Command::Copy { from, to } => {
            let ws = Workspace::open_existing(&from, user)?;
            let bar = terminal_bar("copying {bar:40} {pos}/{len} rows");
            let copied = ws.copy_to(&to, &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            });
            bar.finish_and_clear();
            let copied = copied?;
            if !copied.target.problems.is_empty() {
                let mut lines = vec![format!(
                    "copied {} to {}, but the copy's audit chain does not verify:",
                    from.display(),
                    to.display()
                )];
                lines.extend(copied.target.problems.iter().map(|p| p.to_string()));
                return Err(Failure(lines));
            }
            println!(
                "copied {} to {}: {} audit records and {} rows, verified on both sides",
                from.display(),
                to.display(),
                copied.target.records,
                copied.target.rows
            );
            Ok(())
        }
        Command::Backup { file, force } => {
            let ws = open(db, user)?;
            ws.backup(&file, force)?;
            let copy = Workspace::open_existing(&file, ws.user.clone())?;
            let v = verify_with_progress(&copy)?;
            if !v.problems.is_empty() {
                let mut lines = vec![format!(
                    "backed up {} to {}, but the copy's audit chain does not verify:",
                    db.display(),
                    file.display()
                )];
                lines.extend(v.problems.iter().map(|p| p.to_string()));
                return Err(Failure(lines));
            }
            println!(
                "backed up {} to {} ({} audit records, {} rows and {} blobs verified against them)",
                db.display(),
                file.display(),
                v.records,
                v.rows,
                v.blobs
            );
            Ok(())
        }
        Command::Tui | Command::Rubric(_) => unreachable!("handled by the caller"),
    }
}

fn import(
    paths: &[std::path::PathBuf],
    leap: &crate::domain::leap2a::Options,
    db: &Path,
    user: String,
) -> CmdResult {
    let mut ws = open_or_create(db, user)?;
    let bar = indicatif::ProgressBar::hidden();
    let on_terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut shown = false;
    let summary = ws.import_with(paths, leap, &mut |done, total| {
        if on_terminal && !shown && total > 50 && started.elapsed().as_millis() > 300 {
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_length(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "importing {bar:40} {pos}/{len} portfolios  {per_sec}  eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            shown = true;
        }
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let mut err = std::io::stderr().lock();
    for lines in &summary.rejected {
        for l in lines {
            let l = sanitize(l);
            if l.contains(": error: ") {
                let _ = writeln!(err, "{l}");
            } else {
                let _ = writeln!(err, "error: {l}");
            }
        }
    }
    for r in &summary.refusals {
        let _ = writeln!(
            err,
            "error: {}",
            sanitize(&format!("{r}{}", super::advice(r)))
        );
    }
    for (id, from, notes) in &summary.converted {
        let _ = writeln!(
            err,
            "note: {}: converted from the LEAP2A export {}",
            sanitize_line(id),
            sanitize_line(from)
        );
        for n in notes {
            let _ = writeln!(err, "note: {}: {}", sanitize_line(id), sanitize_line(n));
        }
    }
    for (id, what) in &summary.flagged {
        let _ = writeln!(
            err,
            "warning: {}: evidence changed since marking began ({}); the marks are kept and the portfolio is flagged",
            sanitize_line(id),
            sanitize_line(what)
        );
    }
    for (id, what) in &summary.notes {
        let _ = writeln!(
            err,
            "warning: {}: revised while being marked: {}; the evidence is unchanged and the marks are kept",
            sanitize_line(id),
            sanitize_line(what)
        );
    }
    println!("{}", summary.line());
    if summary.rejected_count() > 0 {
        return Err(Failure::msg(format!(
            "{} item(s) rejected; see the messages above",
            summary.rejected_count()
        )));
    }
    Ok(())
}

/// JSON for the terminal. serde_json escapes C0 controls but writes DEL, C1 and bidi controls
/// as they are; those are escaped here too (`\u009b`, `\u202e`), which any JSON reader reads as
/// the same text but no terminal acts on. They can only occur inside strings.
fn json_text(v: &impl serde::Serialize) -> String {
    let s = serde_json::to_string_pretty(v).unwrap_or_default();
    if !s.chars().any(crate::domain::sanitize::is_forbidden_char) {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 32);
    for c in s.chars() {
        if crate::domain::sanitize::is_forbidden_char(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn row_json(r: &Row) -> Value {
    json!({
        "id": r.id, "learner_id": r.learner_id, "learner_name": r.learner_name,
        "rubric": r.rubric, "rubric_version": r.rubric_version, "submitted": r.submitted,
        "status": r.status, "assessor": r.assessor, "outcome": r.outcome, "grade": r.grade,
        "score": r.score, "evidence_changed": r.evidence_changed,
    })
}

fn list(ws: Workspace, status: Option<String>, rubric: Option<String>, as_json: bool) -> CmdResult {
    if let Some(s) = &status
        && Status::parse(s).is_none()
    {
        return Err(Failure::msg(format!(
            "unknown status `{}`; use one of {}",
            sanitize_line(s),
            Status::NAMES.join(", ")
        )));
    }
    let rows = ws.list(&Filter { status, rubric })?;
    let mut out = std::io::stdout().lock();
    if as_json {
        let v: Vec<Value> = rows.iter().map(row_json).collect();
        let _ = writeln!(out, "{}", json_text(&v));
        return Ok(());
    }
    let _ = writeln!(
        out,
        "{:<16} {:<24} {:<30} {:<10} {:<11} {:<8} {:<12} {:>6}  ASSESSOR",
        "ID", "LEARNER", "RUBRIC", "SUBMITTED", "STATUS", "OUTCOME", "GRADE", "SCORE"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<16} {:<24} {:<30} {:<10} {:<11} {:<8} {:<12} {:>6}  {}",
            sanitize_line(&r.id),
            clip(&sanitize_line(&r.learner_name), 24),
            clip(
                &sanitize_line(&format!("{}@{}", r.rubric, r.rubric_version)),
                30
            ),
            sanitize_line(&r.submitted),
            sanitize_line(&r.status),
            r.outcome
                .as_deref()
                .unwrap_or(if r.blind_hidden { "(blind)" } else { "-" }),
            clip(r.grade.as_deref().unwrap_or("-"), 12),
            r.score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into()),
            sanitize_line(r.assessor.as_deref().unwrap_or("-")),
        );
    }
    let _ = writeln!(out, "{} portfolio(s)", rows.len());
    Ok(())
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

fn sheet_json(s: &Sheet) -> Value {
    json!({
        "marker": s.marker,
        "marks": s.marks.iter().map(|(c, (l, f))| json!({"criterion": c, "level": l, "feedback": f})).collect::<Vec<_>>(),
        "gates": s.gates,
        "comment": s.comment,
        "choice": s.choice.map(|o| o.as_str()),
        "rationale": s.rationale,
        "submitted_at": s.submitted_at,
        "decision": s.decision,
    })
}

fn show(ws: Workspace, id: &str, as_json: bool) -> CmdResult {
    let d = ws.detail(id)?;
    let rubric = ws.rubric(d.row.rubric_pk)?;
    if as_json {
        let v = json!({
            "portfolio": row_json(&d.row),
            "learner_email": d.learner_email,
            "revision": d.revision,
            "statement": d.statement,
            "evidence": d.evidence,
            "first": d.first.as_ref().map(sheet_json),
            "first_hidden_by_blind_rule": d.first_hidden,
            "second": sheet_json(&d.second),
            "draw": d.draw.as_ref().map(|(drawn, reason)| json!({"drawn": drawn, "reason": reason})),
            "settlement": d.settlement,
            "decision_in_force": in_force_json(&d),
            "history": d.history,
        });
        println!("{}", json_text(&v));
        return Ok(());
    }
    print!("{}", sanitize(&render_detail(&ws, &d, &rubric)));
    Ok(())
}

fn render_detail(ws: &Workspace, d: &Detail, rubric: &crate::domain::rubric::Rubric) -> String {
    use std::fmt::Write as _;
    // Single-line text from a portfolio stays on its line; multi-line text is indented with a
    // gutter on every line, so that nothing in it can pass for a line of assay's own.
    let l = |s: &str| sanitize_line(s);
    let mut o = String::new();
    let r = &d.row;
    let _ = writeln!(
        o,
        "{} — {} ({})",
        r.id,
        l(&r.learner_name),
        l(&r.learner_id)
    );
    let _ = writeln!(o, "Rubric     {} ({})", l(&rubric.key()), l(&rubric.title));
    let _ = writeln!(
        o,
        "Submitted  {}   Status {}   Revision {}",
        r.submitted, r.status, d.revision
    );
    if let Some(a) = &r.assessor {
        let _ = writeln!(o, "Assessor   {}", l(a));
    }
    if r.evidence_changed {
        let _ = writeln!(o, "!! evidence changed since marking began");
    }
    if let Some(s) = &d.statement {
        let _ = writeln!(o, "\nReflective statement\n{}", indent(s.trim_end()));
    }
    let _ = writeln!(o, "\nEvidence");
    for e in &d.evidence {
        let _ = writeln!(
            o,
            "  {} {} [{}; {}; {}]",
            l(&e.id),
            l(&e.title),
            l(&e.kind),
            l(&e.date),
            if e.claims.is_empty() {
                "no claims".to_string()
            } else {
                format!("claims {}", l(&e.claims.join(", ")))
            }
        );
        if !e.linked.is_empty() {
            let _ = writeln!(
                o,
                "     linked by the assessor to {}",
                l(&e.linked.join(", "))
            );
        }
        if let Some(g) = &e.group {
            let _ = writeln!(o, "     in   {}", l(g));
        }
        if let Some(u) = &e.url {
            let _ = writeln!(o, "     url  {}", l(u));
        }
        if let Some(f) = &e.file {
            let _ = writeln!(
                o,
                "     file {} ({} bytes, sha256 {})",
                l(f),
                e.size.unwrap_or(0),
                e.sha256.as_deref().unwrap_or("-")
            );
        }
        if let Some(n) = &e.note {
            let _ = writeln!(o, "     note\n{}", indent(n));
        }
        if let Some(n) = &e.text_note {
            let _ = writeln!(o, "     text {}", l(n));
        }
        if let Some((sha, _)) = e.readable()
            && let Ok(Some(bytes)) = ws.blob(sha)
        {
            let text = crate::domain::sanitize::sanitize_bytes(&bytes);
            let _ = writeln!(o, "{}", indent(text.trim_end()));
        }
    }
    let sheet_text = |o: &mut String, title: &str, s: &Sheet, other: Option<&Sheet>| {
        let _ = writeln!(
            o,
            "\n{title}{}",
            s.marker
                .as_ref()
                .map(|m| format!(" — {}", l(m)))
                .unwrap_or_default()
        );
        for c in &rubric.criteria {
            let (l, f) = s.marks.get(&c.id).cloned().unwrap_or((None, None));
            let label = l
                .as_deref()
                .and_then(|l| c.level(l))
                .map(|(i, lv)| {
                    format!(
                        "{} ({}/{}, {} pts)",
                        lv.label,
                        i + 1,
                        c.levels.len(),
                        lv.points
                    )
                })
                .unwrap_or_else(|| "—".into());
            let differs =
                other.is_some_and(|o2| o2.marks.get(&c.id).and_then(|x| x.0.clone()) != l);
            // (a marking handed over carries marks by more than one person: each says whose)
            let author = s
                .authors
                .get(&c.id)
                .filter(|(by, _)| s.marker.as_deref() != Some(by.as_str()))
                .map(|(by, _)| format!("  (by {})", sanitize_line(by)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {}{:<8} {label}{author}",
                if differs { "≠ " } else { "  " },
                c.id
            );
            if let Some(f) = f {
                let _ = writeln!(o, "    feedback:\n{}", indent(&f));
            }
        }
        for g in &rubric.gates {
            let _ = writeln!(
                o,
                "    [{}] {}",
                if s.gates.contains(&g.id) { "x" } else { " " },
                g.id
            );
        }
        if let Some(c) = &s.comment {
            let _ = writeln!(o, "  comment:\n{}", indent(c));
        }
        if let Some(dc) = &s.decision {
            let _ = writeln!(
                o,
                "  decision: {} (rule gives {}){}, score {:.2}{}{}",
                dc.outcome,
                dc.computed,
                dc.grade
                    .as_ref()
                    .map(|g| format!(", grade {g}"))
                    .unwrap_or_default(),
                dc.score,
                if dc.borderline { ", borderline" } else { "" },
                dc.rationale
                    .as_ref()
                    .map(|r| format!("; rationale: {}", l(r)))
                    .unwrap_or_default()
            );
        }
    };
    match &d.first {
        Some(f) => sheet_text(
            &mut o,
            "First marking",
            f,
            if d.second.decision.is_some() {
                Some(&d.second)
            } else {
                None
            },
        ),
        None => {
            let _ = writeln!(
                o,
                "\nFirst marking\n  hidden: blind second marking; submit your second marks to see it"
            );
        }
    }
    if let Some((drawn, reason)) = &d.draw {
        let _ = writeln!(
            o,
            "\nModeration draw: {} ({})",
            if *drawn { "drawn" } else { "not drawn" },
            l(reason)
        );
    }
    if d.second.started() {
        let show_diff = d.first.as_ref().filter(|_| d.second.decision.is_some());
        sheet_text(&mut o, "Second marking", &d.second, show_diff);
    }
    if let Some(st) = &d.settlement {
        let _ = writeln!(
            o,
            "\nSettlement: {} by {} at {}",
            if st.amended() {
                "amended to the second marks"
            } else {
                "first decision confirmed"
            },
            l(&st.by),
            l(&st.at)
        );
        if let Some(r) = &st.rationale {
            let _ = writeln!(o, "  rationale (internal):\n{}", indent(r));
        }
    }
    if let Some(line) = in_force_line(d) {
        let _ = writeln!(o, "\n{line}");
    }
    let _ = writeln!(o, "\nHistory");
    for h in &d.history {
        let _ = writeln!(o, "  {}", record_line(h));
    }
    o
}

/// The decision in force, and where it comes from: the first marking, or the second where
/// moderation amended it.
fn in_force(d: &Detail) -> Option<(&'static str, &crate::app::mark::DecisionRec)> {
    let amended = d.settlement.as_ref().is_some_and(|s| s.amended());
    if amended {
        d.second.decision.as_ref().map(|x| ("second marking", x))
    } else {
        d.first
            .as_ref()
            .and_then(|f| f.decision.as_ref())
            .map(|x| ("first marking", x))
    }
}

fn in_force_line(d: &Detail) -> Option<String> {
    in_force(d).map(|(source, dec)| {
        format!(
            "Decision in force: {} — from the {source}, by {} at {}",
            dec.outcome,
            sanitize_line(&dec.by),
            sanitize_line(&dec.at)
        )
    })
}

fn in_force_json(d: &Detail) -> Value {
    match in_force(d) {
        Some((source, dec)) => json!({
            "source": if source == "first marking" { "first_marking" } else { "second_marking" },
            "outcome": dec.outcome, "grade": dec.grade, "score": dec.score,
            "by": dec.by, "at": dec.at,
        }),
        None => Value::Null,
    }
}

/// Untrusted multi-line text, each line behind a gutter (`    │ `).
fn indent(s: &str) -> String {
    sanitize(s)
        .lines()
        .map(|l| format!("    │ {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn record_line(h: &Record) -> String {
    let v = |x: &Option<Value>| match (h.action.as_str(), x) {
        (_, None) => "∅".to_string(),
        // An import says everything the portfolio holds; the line says what identifies it.
        ("import" | "import.revision", Some(a)) => {
            let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
            let learner = a
                .get("learner")
                .and_then(|l| l.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            let evidence = a
                .get("evidence")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let mut line = format!(
                "revision {}, rubric {}, learner {learner}, {evidence} evidence, content {}",
                a.get("revision").and_then(Value::as_i64).unwrap_or(0),
                s("rubric"),
                s("content_sha256").chars().take(12).collect::<String>()
            );
            if let Some(c) = a.get("changed").and_then(Value::as_str) {
                line.push_str(&format!("; changed: {c}"));
            }
            line
        }
        (_, Some(v)) => v.to_string(),
    };
    format!(
        "#{:<5} {} {:<12} {:<16} {} {} → {}{}",
        h.seq,
        h.at,
        sanitize_line(&h.actor),
        h.action,
        sanitize_line(&h.entity),
        sanitize_line(&v(&h.before)),
        sanitize_line(&v(&h.after)),
        if h.signed { "  [signed]" } else { "" }
    )
}

fn search(ws: Workspace, query: &str, as_json: bool, limit: usize) -> CmdResult {
    let hits = ws.search(query, limit)?;
    // (then the portfolios whose documents hold the words, those not found already)
    let all_docs = ws.search_documents(query, limit)?;
    // (a portfolio found both ways says where its documents hold the words too)
    let doc_of = |pk: i64| all_docs.iter().find(|d| d.row.pk == pk);
    let docs: Vec<_> = all_docs
        .iter()
        .filter(|d| !hits.iter().any(|(_, r)| r.pk == d.row.pk))
        .take(limit.saturating_sub(hits.len()))
        .collect();
    let mut out = std::io::stdout().lock();
    if as_json {
        let v: Vec<Value> = hits
            .iter()
            .map(|(s, r)| {
                let mut j = row_json(r);
                j["match"] = json!(s);
                if let Some(d) = doc_of(r.pk) {
                    j["evidence"] = json!(d.evidence);
                    j["excerpt"] = json!(d.excerpt);
                }
                j
            })
            .chain(docs.iter().map(|d| {
                let mut j = row_json(&d.row);
                j["match"] = json!("document");
                j["evidence"] = json!(d.evidence);
                j["excerpt"] = json!(d.excerpt);
                j
            }))
            .collect();
        let _ = writeln!(out, "{}", json_text(&v));
        return Ok(());
    }
    let line = |r: &crate::app::query::Row| {
        format!(
            "{:<16} {:<26} {:<30} {}",
            sanitize_line(&r.id),
            clip(&sanitize_line(&r.learner_name), 26),
            clip(
                &sanitize_line(&format!("{}@{}", r.rubric, r.rubric_version)),
                30
            ),
            sanitize_line(&r.status)
        )
    };
    let place = |out: &mut std::io::StdoutLock, d: &crate::app::query::DocumentHit| {
        let _ = writeln!(
            out,
            "    in {}: {}",
            sanitize_line(&d.evidence),
            clip(&d.excerpt, 100)
        );
    };
    for (_, r) in &hits {
        let _ = writeln!(out, "{}", line(r));
        if let Some(d) = doc_of(r.pk) {
            place(&mut out, d);
        }
    }
    for d in &docs {
        let _ = writeln!(out, "{}", line(&d.row));
        place(&mut out, d);
    }
    if hits.is_empty() && docs.is_empty() {
        let _ = writeln!(out, "no match for `{}`", sanitize_line(query));
    }
    Ok(())
}

fn split_pair<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), Failure> {
    s.split_once('=').ok_or_else(|| {
        Failure::msg(format!(
            "`{}` is not {what}; write it as NAME=VALUE",
            sanitize_line(s)
        ))
    })
}

fn outcome_of(o: OutcomeArg) -> Outcome {
    match o {
        OutcomeArg::Awarded => Outcome::Awarded,
        OutcomeArg::NotYet => Outcome::NotYet,
        OutcomeArg::Referred => Outcome::Referred,
    }
}

/// The changes a mark command asks for, in the order given by kind.
fn changes_of(a: &MarkArgs) -> Result<Vec<Change>, Failure> {
    let mut v = Vec::new();
    for l in &a.levels {
        let (c, lv) = split_pair(l, "C=LEVEL")?;
        v.push(Change::Level(c.into(), Some(lv.into())));
    }
    for g in &a.gates {
        let (g, on) = match g.split_once('=') {
            Some((g, val)) => (g, !matches!(val, "no" | "false" | "0" | "off")),
            None => (g.as_str(), true),
        };
        v.push(Change::Gate(g.into(), on));
    }
    for f in &a.feedback {
        let (c, t) = split_pair(f, "C=TEXT")?;
        v.push(Change::Feedback(c.into(), Some(t.into())));
    }
    if let Some(c) = &a.comment {
        v.push(Change::Comment(Some(c.clone())));
    }
    if let Some(o) = a.outcome {
        v.push(Change::Choice(Some(outcome_of(o)), a.rationale.clone()));
    }
    Ok(v)
}

fn mark(ws: &mut Workspace, a: MarkArgs, phase: Phase) -> CmdResult {
    mark_then(ws, a, phase, None)
}

/// Saves every option of a marking command, the submission and (for moderation) the
/// settlement in one change: all of them or, when any is refused, none.
fn mark_then(
    ws: &mut Workspace,
    a: MarkArgs,
    phase: Phase,
    settle: Option<(Settle, Option<String>)>,
) -> CmdResult {
    let changes = changes_of(&a)?;
    let submit = a
        .submit
        .then(|| (a.outcome.map(outcome_of), a.rationale.clone()));
    let settled = settle.as_ref().map(|(how, _)| *how);
    let applied = ws.apply(&a.id, phase, &changes, submit, settle, None)?;
    if let Some(s) = &applied.submitted {
        println!(
            "submitted {}: {}{} — score {} against pass mark {}; rule gives {}{}",
            sanitize_line(&a.id),
            s.outcome,
            s.evaluation
                .grade
                .as_ref()
                .filter(|_| s.outcome == Outcome::Awarded)
                .map(|g| format!(" ({g})"))
                .unwrap_or_default(),
            s.evaluation.score,
            s.evaluation
                .reasons
                .iter()
                .find_map(|r| match r {
                    crate::domain::decision::Reason::Score { pass_mark, .. } => {
                        Some(pass_mark.as_str())
                    }
                    _ => None,
                })
                .unwrap_or("—"),
            s.evaluation.outcome,
            if s.kind == "rule" {
                String::new()
            } else {
                format!(" ({})", s.kind)
            },
        );
        for r in &s.evaluation.reasons {
            println!("  - {}", sanitize_line(&r.to_string()));
        }
    } else if settled.is_none() {
        let (ev, sheet) = ws.preview(&a.id, phase)?;
        let marked = sheet.marks.values().filter(|(l, _)| l.is_some()).count();
        println!(
            "saved {} change(s) to {}: {} criteria marked, score {} now, rule gives {}{}",
            applied.changed,
            sanitize_line(&a.id),
            marked,
            ev.score,
            ev.outcome,
            if ev.unmarked.is_empty() {
                String::new()
            } else {
                format!("; unmarked: {}", ev.unmarked.join(", "))
            }
        );
        if applied.changed < changes.len() {
            println!(
                "  ({} of the options already held what they asked for: nothing to change)",
                changes.len() - applied.changed
            );
        }
        for g in &ev.open_gates {
            println!("  - gate {g} not confirmed");
        }
    }
    if let Some(how) = settled {
        println!(
            "{}: {}",
            sanitize_line(&a.id),
            if how == Settle::Amend {
                "amended to the second marks; moderated"
            } else {
                "first decision confirmed; moderated"
            }
        );
    }
    Ok(())
}

fn moderate(ws: &mut Workspace, a: ModerateArgs) -> CmdResult {
    let how = match (a.confirm, a.amend) {
        (true, _) => Some(Settle::Confirm),
        (_, true) => Some(Settle::Amend),
        _ => None,
    };
    match how {
        // The rationale of a settlement is the amendment's; the marks take none of it.
        Some(how) => {
            let rationale = a.mark.rationale.clone();
            let marks = MarkArgs {
                rationale: if a.mark.outcome.is_some() {
                    a.mark.rationale.clone()
                } else {
                    None
                },
                ..a.mark
            };
            mark_then(ws, marks, Phase::Second, Some((how, rationale)))
        }
        None => mark(ws, a.mark, Phase::Second),
    }
}

fn sample(mut ws: Workspace, rubric: Option<String>, seed: Option<u64>) -> CmdResult {
    let d = ws.draw_sample(rubric.as_deref(), seed)?;
    if d.picks.is_empty() {
        println!(
            "nothing to draw: no submitted decision waits for a draw (seed {})",
            d.seed
        );
        return Ok(());
    }
    let drawn = d.picks.iter().filter(|(_, p)| p.drawn).count();
    for (rk, p) in &d.picks {
        println!(
            "{:<8} {:<16} {:<32} {}",
            if p.drawn { "drawn" } else { "-" },
            p.id,
            rk,
            p.reason
        );
    }
    if d.seed_withheld {
        println!(
            "drew {drawn} of {} submitted decision(s); the seed is withheld under blind moderation (a lead sees it in the audit log)",
            d.picks.len()
        );
    } else {
        println!(
            "drew {drawn} of {} submitted decision(s) with seed {}",
            d.picks.len(),
            d.seed
        );
    }
    Ok(())
}

fn release(mut ws: Workspace, rubric: Option<String>) -> CmdResult {
    let r = ws.release(rubric.as_deref())?;
    for id in &r.released {
        println!("released {id}");
    }
    for w in &r.waiting {
        let advice = match w.why {
            Wait::Undrawn => " (run `assay moderation sample`)",
            _ => "",
        };
        println!("waiting  {:<16} {:<10} {}{advice}", w.id, w.status, w.why);
    }
    println!(
        "released {}, {} still waiting",
        r.released.len(),
        r.waiting.len()
    );
    Ok(())
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "—".into())
}

fn round3(v: Option<f64>) -> Value {
    match v {
        Some(x) => json!((x * 1e6).round() / 1e6),
        None => Value::Null,
    }
}

fn stats(ws: Workspace, rubric: Option<String>, as_json: bool) -> CmdResult {
    let all = ws.stats(rubric.as_deref())?;
    if as_json {
        let v: Vec<Value> = all
            .iter()
            .map(|s| {
                json!({
                    "rubric": s.rubric, "version": s.version, "pairs": s.pairs,
                    "criteria": s.criteria.iter().map(|c| json!({
                        "id": c.id, "n": c.stats.n, "exact": round3(c.stats.exact), "adjacent": round3(c.stats.adjacent),
                        "kappa": round3(c.stats.kappa), "weighted_kappa": round3(c.stats.weighted_kappa), "alpha": round3(c.stats.alpha),
                    })).collect::<Vec<_>>(),
                    "outcome": { "n": s.outcome.n, "exact": round3(s.outcome.exact), "kappa": round3(s.outcome.kappa) },
                    "assessors": s.assessors.iter().map(|a| json!({
                        "assessor": a.assessor, "marked": a.marked, "moderated": a.moderated,
                        "mean_score_difference": round3(a.mean_score_difference), "changed": round3(a.changed),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        println!("{}", json_text(&v));
        return Ok(());
    }
    if all.is_empty() {
        println!("no decisions yet");
    }
    for s in &all {
        println!("{}@{} — {} moderated pair(s)", s.rubric, s.version, s.pairs);
        println!(
            "  {:<10} {:>4} {:>7} {:>9} {:>7} {:>9} {:>7}",
            "criterion", "n", "exact", "adjacent", "kappa", "w.kappa", "alpha"
        );
        for c in &s.criteria {
            println!(
                "  {:<10} {:>4} {:>7} {:>9} {:>7} {:>9} {:>7}",
                c.id,
                c.stats.n,
                fmt_opt(c.stats.exact),
                fmt_opt(c.stats.adjacent),
                fmt_opt(c.stats.kappa),
                fmt_opt(c.stats.weighted_kappa),
                fmt_opt(c.stats.alpha)
            );
        }
        println!(
            "  {:<10} {:>4} {:>7} {:>9} {:>7}",
            "outcome",
            s.outcome.n,
            fmt_opt(s.outcome.exact),
            "",
            fmt_opt(s.outcome.kappa)
        );
        for a in &s.assessors {
            println!(
                "  assessor {:<16} marked {:>4}, moderated {:>3}, mean difference {:>7}, changed {}",
                sanitize_line(&a.assessor),
                a.marked,
                a.moderated,
                fmt_opt(a.mean_score_difference),
                fmt_opt(a.changed)
            );
        }
    }
    Ok(())
}

fn assign(mut ws: Workspace, a: AssignArgs) -> CmdResult {
    match (&a.to, &a.rubric) {
        (Some(to), None) => {
            if a.ids.is_empty() {
                return Err(Failure::msg(
                    "name the portfolios to allocate: assay assign ID… --to NAME",
                ));
            }
            let n = ws.assign(&a.ids, to)?;
            println!("allocated {n} portfolio(s) to {}", sanitize_line(to));
        }
        (None, Some(r)) => {
            for (who, n) in ws.assign_among(r, &a.among)? {
                println!("allocated {n} portfolio(s) to {}", sanitize_line(&who));
            }
        }
        _ => {
            return Err(Failure::msg(
                "use `assay assign ID… --to NAME` or `assay assign --rubric ID --among NAME,NAME…`",
            ));
        }
    }
    Ok(())
}

/// Verifies the workspace's chain and record, with a progress bar on a terminal.
fn verify_with_progress(ws: &Workspace) -> Result<Verification, Failure> {
    let bar = indicatif::ProgressBar::hidden();
    let on_terminal = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut stage = None;
    let v = ws.verify(&mut |s, done, total| {
        if !on_terminal || started.elapsed().as_millis() < 300 {
            return;
        }
        if stage != Some(s) {
            stage = Some(s);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            let what = match s {
                Stage::Chain => "audit records",
                Stage::Tables => "rows",
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "verifying {{bar:40}} {{pos}}/{{len}} {what}  eta {{eta}}"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_position(0);
        }
        bar.set_length(total.max(done));
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    Ok(v)
}

fn audit_verify(ws: Workspace) -> CmdResult {
    let v = verify_with_progress(&ws)?;
    if v.problems.is_empty() {
        println!(
            "audit chain ok: {} records; {} rows and {} blobs match it",
            v.records, v.rows, v.blobs
        );
        return Ok(());
    }
    let n = v.problems.len();
    let mut lines: Vec<String> = v.problems.iter().map(|p| p.to_string()).collect();
    lines.push(format!(
        "the record does not match its audit chain: {n} problem(s); the workspace was changed behind assay's back"
    ));
    Err(Failure(lines))
}

/// Reads a person's SSH public key from a file named on the command line.
fn read_public_key(path: &Path) -> Result<ssh_key::PublicKey, Failure> {
    let bytes = crate::app::files::read_regular(path, 64 * 1024)
        .map_err(|e| Failure::msg(format!("{}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    crate::domain::sshsig::parse_public_key(&text)
        .map_err(|e| Failure::msg(format!("{}:1:1: error: {e}", path.display())))
}

/// `assay audit sig SEQ --out DIR`: the record's exact text, its signature and an
/// `allowed_signers` file naming its author's key, for `ssh-keygen -Y verify`.
fn audit_sig(ws: Workspace, seq: i64, out: &Path) -> CmdResult {
    let (r, name) = ws.write_signed_record(seq, out)?;
    let d = out.display();
    println!("wrote {d}/{name}, {d}/{name}.sig and {d}/allowed_signers; check with:");
    println!(
        "  ssh-keygen -Y verify -f {d}/allowed_signers -I {} -n {} -s {d}/{name}.sig < {d}/{name}",
        sanitize_line(&r.actor),
        crate::domain::sshsig::NAMESPACE
    );
    println!("  sha256sum {d}/{name}   # {}", r.hash);
    Ok(())
}

fn audit_log(ws: Workspace, id: Option<String>) -> CmdResult {
    if let Some(id) = &id {
        ws.portfolio_pk(id)?;
    }
    let log = ws.history(id.as_deref())?;
    let mut out = std::io::stdout().lock();
    for r in &log {
        let _ = writeln!(out, "{}", record_line(r));
    }
    Ok(())
}

fn export(
    mut ws: Workspace,
    format: ExportFormat,
    out: &Path,
    rubric: Option<String>,
    all: bool,
    force: bool,
    sign: bool,
) -> CmdResult {
    use crate::app::export::Format as F;
    if sign && format != ExportFormat::Obv3 {
        return Err(Failure::msg(
            "--sign signs Open Badges credentials: use it with --format obv3 (--format obv3-jwt is always signed)",
        ));
    }
    let f = match format {
        ExportFormat::Obv3 if sign => F::Obv3Signed,
        ExportFormat::Obv3Jwt => F::Obv3Jwt,
        ExportFormat::Credly => F::Credly,
        ExportFormat::CanvasCredentials => F::Canvas,
        ExportFormat::Obv3 => crate::app::export::Format::Obv3,
        ExportFormat::Elm => crate::app::export::Format::Elm,
        ExportFormat::Csv => crate::app::export::Format::Csv,
        ExportFormat::Jsonl => crate::app::export::Format::Jsonl,
        ExportFormat::Feedback => crate::app::export::Format::Feedback,
    };
    let bar = terminal_bar("exporting {bar:40} {pos}/{len}");
    let r = ws.export(f, out, rubric.as_deref(), all, force, &mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    if r.count == 0 {
        println!(
            "nothing new to export in {} format{}; use --all to write every released decision again",
            f.as_str(),
            if f.awarded_only() {
                " (credentials are written for awarded decisions only)"
            } else {
                ""
            }
        );
        return Ok(());
    }
    println!(
        "exported {} decision(s) as {} to {} (batch {})",
        r.count,
        f.as_str(),
        out.display(),
        r.batch
    );
    Ok(())
}

/// A progress bar drawn on stderr in `template` when stderr is a terminal, hidden otherwise.
fn terminal_bar(template: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::hidden();
    if std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    }
    bar
}
