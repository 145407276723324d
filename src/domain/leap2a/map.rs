//! A LEAP2A feed as an assay portfolio: the manifest (`assay.portfolio/v1`, with each
//! evidence's `group`) and the texts written for entries, beside the export's own files. The
//! mapping is described in `docs/leap2a.md`.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{At, Entry, Error, Feed, term};
use crate::domain::portfolio::{path_stays_inside, valid_full_date, valid_partial_date};
use crate::domain::rubric::{sha256_hex, valid_id};
use crate::domain::sanitize::sanitize_line;

/// What the person importing says of the export.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `ID` or `ID@VERSION` of the rubric the portfolio is assessed against.
    pub rubric: String,
    /// The learner's id at the institution (else one derived from the email).
    pub learner_id: Option<String>,
    /// The portfolio's id (else one derived from the learner and the rubric).
    pub portfolio_id: Option<String>,
}

/// The portfolio made of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub portfolio_id: String,
    /// The manifest, as YAML.
    pub manifest: Vec<u8>,
    /// Files written for the portfolio (entries' texts, the statement): (path, bytes).
    pub written: Vec<(String, Vec<u8>)>,
    /// Files of the export the manifest names (paths relative to the feed's folder).
    pub files: Vec<String>,
    /// What the person importing should know (no statement, entries left out, …).
    pub notes: Vec<String>,
}

#[derive(Serialize)]
struct ManifestOut<'a> {
    format: &'a str,
    id: &'a str,
    rubric: &'a str,
    learner: LearnerOut<'a>,
    submitted: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<&'a str>,
    evidence: Vec<EvidenceOut>,
}

#[derive(Serialize)]
struct LearnerOut<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

#[derive(Serialize)]
struct EvidenceOut {
    id: String,
    title: String,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Tags (category terms or labels) that mark the entry holding the reflective statement.
const STATEMENT_TAGS: &[&str] = &[
    "statement",
    "reflective statement",
    "reflective-statement",
    "reflective_statement",
    "assay:statement",
];

/// Mahara's pages that are not the learner's work: the profile page and the dashboards.
const NOT_WORK_PAGES: &[&str] = &["profile", "dashboard", "grouphomepage"];

fn not_work_page(e: &Entry) -> bool {
    e.view_type
        .as_deref()
        .is_some_and(|t| NOT_WORK_PAGES.contains(&t))
}

/// A page (a selection) whose own text is evidence: Mahara writes the text blocks of a page
/// only into the page's content, and that content is the page as the learner composed it.
fn page_has_text(e: &Entry) -> bool {
    e.is("selection") && !e.content.trim().is_empty() && !not_work_page(e)
}

fn is_statement(e: &Entry) -> bool {
    e.categories.iter().any(|c| {
        let t = c.term.trim().to_lowercase();
        let l = c.label.as_deref().unwrap_or("").trim().to_lowercase();
        STATEMENT_TAGS.contains(&t.as_str()) || STATEMENT_TAGS.contains(&l.as_str())
    })
}

fn err<T>(at: At, message: impl Into<String>) -> Result<T, Error> {
    Err(Error {
        at,
        message: message.into(),
    })
}

/// A date of an Atom or LEAP2A field as assay writes it: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
fn date_of(s: &str) -> Option<String> {
    let s = s.trim();
    [10, 7, 4]
        .into_iter()
        .filter_map(|n| s.get(..n))
        .find(|d| valid_partial_date(d))
        .map(str::to_string)
}

/// An evidence id from an entry's Atom id (`portfolio:artefact123` → `artefact123`), unique in
/// the portfolio.
fn evidence_id(atom_id: &str, n: usize, taken: &mut HashSet<String>) -> String {
    let tail: String = term(atom_id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(48)
        .collect();
    let tail = tail.trim_start_matches(['.', '_', '-']).to_string();
    let mut id = if valid_id(&tail) {
        tail
    } else {
        format!("E{n}")
    };
    if taken.contains(&id) {
        let mut k = 2;
        while taken.contains(&format!("{id}-{k}")) {
            k += 1;
        }
        id = format!("{id}-{k}");
    }
    taken.insert(id.clone());
    id
}

/// `%20` and the like decoded, for file names an exporter wrote as addresses.
fn percent_decoded(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn is_web(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// Maps `feed` onto a portfolio. `exists(path)` says whether the export holds a file at `path`
/// (relative to the feed's folder).
pub fn convert(
    feed: &Feed,
    opts: &Options,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Conversion, Error> {
    let top = At { line: 1, col: 1 };
    let mut notes = Vec::new();
    // The learner.
    let email = feed.author_email.as_deref().map(str::trim);
    if let Some(e) = email {
        let ok = e
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !e.contains(' '));
        if !ok {
            return err(
                top,
                format!(
                    "the feed's author email `{}` is not an email address",
                    sanitize_line(e)
                ),
            );
        }
    }
    let learner_id = match (&opts.learner_id, email) {
        (Some(id), _) => id.clone(),
        (None, Some(e)) => format!("L-{}", &sha256_hex(e.to_lowercase().as_bytes())[..12]),
        (None, None) => {
            return err(
                top,
                "the feed's author has no email, so no learner id can be derived from it: give --learner-id",
            );
        }
    };
    let portfolio_id = match &opts.portfolio_id {
        Some(id) => id.clone(),
        None => {
            let rubric_id = opts.rubric.split('@').next().unwrap_or("");
            format!(
                "P-L2A-{}",
                &sha256_hex(format!("{learner_id}\0{rubric_id}").as_bytes())[..10]
            )
        }
    };
    let submitted = feed
        .updated
        .get(..10)
        .filter(|d| valid_full_date(d))
        .map(str::to_string)
        .or_else(|| {
            feed.entries
                .iter()
                .filter_map(|e| e.updated.as_deref().and_then(|u| u.get(..10)))
                .filter(|d| valid_full_date(d))
                .max()
                .map(str::to_string)
        });
    let Some(submitted) = submitted else {
        return err(
            top,
            "the feed has no `updated` date (YYYY-MM-DD…): when it was exported is not known",
        );
    };
    let feed_date = submitted.clone();

    // Selections group the other entries: has_part from the selection, is_part_of from the
    // part, in display order.
    let index: HashMap<&str, usize> = feed
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    let mut children: Vec<Vec<(Option<i64>, usize)>> = vec![Vec::new(); feed.entries.len()];
    let mut has_parent = vec![false; feed.entries.len()];
    for (i, e) in feed.entries.iter().enumerate() {
        for l in &e.links {
            match l.rel.as_str() {
                "has_part" if e.is("selection") => {
                    if let Some(&j) = index.get(l.href.as_str())
                        && j != i
                    {
                        children[i].push((l.display_order, j));
                        has_parent[j] = true;
                    }
                }
                "is_part_of" => {
                    if let Some(&j) = index.get(l.href.as_str())
                        && j != i
                        && feed.entries[j].is("selection")
                    {
                        children[j].push((l.display_order, i));
                        has_parent[i] = true;
                    }
                }
                _ => {}
            }
        }
    }
    for c in &mut children {
        // display order first (those without one after), then feed order; each part once
        c.sort_by_key(|&(o, j)| (o.is_none(), o.unwrap_or(0), j));
        let mut seen = HashSet::new();
        c.retain(|&(_, j)| seen.insert(j));
    }
    // Each entry's group (the path of selection titles from the outermost) and place.
    let mut group: Vec<Option<(String, usize)>> = vec![None; feed.entries.len()];
    let mut place = 0usize;
    fn visit(
        feed: &Feed,
        children: &[Vec<(Option<i64>, usize)>],
        s: usize,
        path: &str,
        group: &mut [Option<(String, usize)>],
        place: &mut usize,
        on_path: &mut Vec<usize>,
    ) {
        if on_path.contains(&s) || on_path.len() > 16 {
            return;
        }
        on_path.push(s);
        let title = feed.entries[s].title.trim();
        let title = if title.is_empty() {
            "(untitled)"
        } else {
            title
        };
        let here = if path.is_empty() {
            title.to_string()
        } else {
            format!("{path} › {title}")
        };
        // (the page's own text first, then its parts)
        if page_has_text(&feed.entries[s]) && group[s].is_none() {
            group[s] = Some((here.clone(), *place));
            *place += 1;
        }
        for &(_, j) in &children[s] {
            if feed.entries[j].is("selection") {
                visit(feed, children, j, &here, group, place, on_path);
            } else if group[j].is_none() {
                group[j] = Some((here.clone(), *place));
                *place += 1;
            }
        }
        on_path.pop();
    }
    for (i, e) in feed.entries.iter().enumerate() {
        if e.is("selection") && !has_parent[i] {
            visit(
                feed,
                &children,
                i,
                "",
                &mut group,
                &mut place,
                &mut Vec::new(),
            );
        }
    }

    // The statement.
    let statements: Vec<usize> = feed
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.is("selection") && is_statement(e))
        .map(|(i, _)| i)
        .collect();
    let mut written = Vec::new();
    let statement = match statements.first() {
        Some(&i) => {
            let e = &feed.entries[i];
            let text = if e.content.trim().is_empty() {
                &e.summary
            } else {
                &e.content
            };
            written.push((
                "statement.md".to_string(),
                format!("# {}\n\n{}\n", e.title.trim(), text.trim()).into_bytes(),
            ));
            if statements.len() > 1 {
                notes.push(format!(
                    "{} entries are tagged as the statement; the first (line {}) is, the others are evidence",
                    statements.len(),
                    e.at.line
                ));
            }
            Some("statement.md")
        }
        None => {
            notes.push(
                "no entry is tagged `statement`: the reflective statement is left empty".into(),
            );
            None
        }
    };

    // The evidence, grouped entries first in their selections' order, then the rest in feed
    // order.
    let mut order: Vec<usize> = (0..feed.entries.len())
        .filter(|&i| {
            let e = &feed.entries[i];
            (!e.is("selection") || page_has_text(e))
                && !e.is("person")
                && statements.first() != Some(&i)
        })
        .collect();
    order.sort_by_key(|&i| (group[i].is_none(), group[i].as_ref().map_or(0, |g| g.1), i));
    let mut taken: HashSet<String> = HashSet::new();
    let mut evidence = Vec::new();
    let mut files = Vec::new();
    let mut files_seen: HashSet<String> = HashSet::new();
    let people = feed.entries.iter().filter(|e| e.is("person")).count();
    for (n, &i) in order.iter().enumerate() {
        let e = &feed.entries[i];
        let title = {
            let t = e.title.trim();
            if t.is_empty() {
                "(untitled entry)".to_string()
            } else {
                t.to_string()
            }
        };
        let date = e
            .dates
            .iter()
            .find(|(p, _)| term(p) == "start")
            .and_then(|(_, d)| date_of(d))
            .or_else(|| e.published.as_deref().and_then(date_of))
            .or_else(|| e.updated.as_deref().and_then(date_of))
            .unwrap_or_else(|| feed_date.clone());
        let kind = e
            .categories
            .iter()
            .find_map(|c| {
                let t = c.term.trim().to_lowercase();
                ["formal", "non-formal", "informal"]
                    .contains(&t.as_str())
                    .then_some(t)
            })
            .unwrap_or_else(|| "informal".to_string());
        let url = e
            .links
            .iter()
            .find(|l| l.rel == "alternate" && is_web(&l.href))
            .map(|l| l.href.clone())
            .or_else(|| e.content_src.clone().filter(|s| is_web(s)));
        let grp = group[i].as_ref().map(|g| g.0.clone());
        // Its files: enclosures, and `content src` naming a file of the export.
        let mut refs: Vec<(At, String)> = e
            .links
            .iter()
            .filter(|l| l.rel == "enclosure" && !is_web(&l.href) && !l.href.is_empty())
            .map(|l| (l.at, l.href.clone()))
            .collect();
        if let Some(src) = &e.content_src
            && !is_web(src)
            && !src.starts_with("portfolio:")
        {
            refs.push((e.at, src.clone()));
        }
        let mut found = Vec::new();
        for (at, href) in refs {
            let path = if exists(&href) {
                href.clone()
            } else {
                match percent_decoded(&href).filter(|d| exists(d)) {
                    Some(d) => d,
                    None if !path_stays_inside(&href) => {
                        return err(
                            at,
                            format!(
                                "entry `{}` names the file `{}`, which is outside the export; an export's files stay in its folder",
                                sanitize_line(&e.id),
                                sanitize_line(&href)
                            ),
                        );
                    }
                    None => {
                        return err(
                            at,
                            format!(
                                "entry `{}` names the file `{}`, which the export does not hold; export it again with its files",
                                sanitize_line(&e.id),
                                sanitize_line(&href)
                            ),
                        );
                    }
                }
            };
            if !path_stays_inside(&path) {
                return err(
                    at,
                    format!(
                        "entry `{}` names the file `{}`, which is outside the export",
                        sanitize_line(&e.id),
                        sanitize_line(&path)
                    ),
                );
            }
            if !found.contains(&path) {
                found.push(path);
            }
        }
        let summary_note = {
            let s = e.summary.split_whitespace().collect::<Vec<_>>().join(" ");
            let s: String = s.chars().take(400).collect();
            (!s.is_empty()).then_some(s)
        };
        let base = evidence_id(&e.id, n + 1, &mut taken);
        let has_text = !e.content.trim().is_empty() || (found.is_empty() && url.is_none());
        let mut ids = vec![base.clone()];
        if has_text {
            let path = format!("entries/{base}.md");
            let mut body = format!("# {title}\n\n");
            if !e.summary.trim().is_empty() && !e.content.trim().is_empty() {
                body.push_str(e.summary.trim());
                body.push_str("\n\n");
            }
            let text = if e.content.trim().is_empty() {
                e.summary.trim()
            } else {
                e.content.trim()
            };
            if !text.is_empty() {
                body.push_str(text);
                body.push('\n');
            }
            let tags: Vec<&str> = e
                .categories
                .iter()
                .filter(|c| c.scheme.is_empty())
                .map(|c| c.label.as_deref().unwrap_or(&c.term))
                .collect();
            if !tags.is_empty() {
                body.push_str(&format!("\nTags: {}\n", tags.join(", ")));
            }
            written.push((path.clone(), body.into_bytes()));
            evidence.push(EvidenceOut {
                id: base.clone(),
                title: title.clone(),
                kind: kind.clone(),
                file: Some(path),
                url: url.clone(),
                date: date.clone(),
                group: grp.clone(),
                note: None,
            });
        }
        for (k, path) in found.iter().enumerate() {
            let id = if !has_text && k == 0 {
                base.clone()
            } else {
                let id = evidence_id(&format!("{base}-file{}", k + 1), n + 1, &mut taken);
                ids.push(id.clone());
                id
            };
            let name = path.rsplit('/').next().unwrap_or(path);
            let t = if found.len() > 1 || has_text {
                format!("{title} — {name}")
            } else {
                title.clone()
            };
            if files_seen.insert(path.clone()) {
                files.push(path.clone());
            }
            evidence.push(EvidenceOut {
                id,
                title: t,
                kind: kind.clone(),
                file: Some(path.clone()),
                url: if has_text { None } else { url.clone() },
                date: date.clone(),
                group: grp.clone(),
                note: summary_note.clone(),
            });
        }
        if !has_text && found.is_empty() {
            // (only an address)
            evidence.push(EvidenceOut {
                id: base,
                title,
                kind,
                file: None,
                url,
                date,
                group: grp,
                note: summary_note,
            });
        }
    }
    if evidence.is_empty() {
        return err(
            top,
            "the export holds no entry that could be evidence (only collections and pages without text, the learner's profile or the statement)",
        );
    }
    let pages_left = feed
        .entries
        .iter()
        .filter(|e| e.is("selection") && not_work_page(e))
        .count();
    if pages_left > 0 {
        notes.push(format!(
            "{pages_left} Mahara page{} left out (the profile page, dashboards): they are not the learner's evidence",
            if pages_left == 1 { "" } else { "s" }
        ));
    }
    if people > 0 {
        notes.push(format!(
            "{people} profile entr{} (leap2:person) left out: the learner is the feed's author",
            if people == 1 { "y" } else { "ies" }
        ));
    }
    let m = ManifestOut {
        format: crate::domain::portfolio::FORMAT,
        id: &portfolio_id,
        rubric: &opts.rubric,
        learner: LearnerOut {
            id: &learner_id,
            name: feed.author_name.trim(),
            email,
        },
        submitted: &submitted,
        statement,
        evidence,
    };
    let yaml = serde_yaml::to_string(&m).map_err(|e| Error {
        at: top,
        message: format!("the portfolio could not be written: {e}"),
    })?;
    let manifest = format!(
        "# Converted by assay from a LEAP2A export ({}): the feed's entries are the evidence.\n{yaml}",
        sanitize_line(feed.title.trim())
    )
    .into_bytes();
    Ok(Conversion {
        portfolio_id,
        manifest,
        written,
        files,
        notes,
    })
}
