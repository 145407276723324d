//! The portfolio manifest, `assay.portfolio/v1` (`shared/spec/portfolio-format.md`).
//!
//! This module checks everything that can be checked from the manifest's text and the rubric:
//! fields, ids, dates, kinds, claims, and the lexical path rules. Whether a file exists, and
//! whether a symbolic link leaves the folder, is checked by the importer, which reports it at
//! the positions kept here.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path};

use serde::Deserialize;

use super::rubric::{Rubric, valid_id};
use super::sanitize::{has_control, sanitize_line};
use super::yaml::{self, ANY, Diagnostic, Diagnostics, Document, Pos, Shape};

pub const FORMAT: &str = "assay.portfolio/v1";

#[derive(Debug, Deserialize)]
struct ManifestDoc {
    format: String,
    id: String,
    rubric: String,
    learner: LearnerDoc,
    submitted: String,
    statement: Option<String>,
    evidence: Vec<EvidenceDoc>,
}

#[derive(Debug, Deserialize)]
struct LearnerDoc {
    id: String,
    name: String,
    email: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EvidenceDoc {
    id: String,
    title: String,
    kind: String,
    file: Option<String>,
    url: Option<String>,
    date: DateText,
    hours: Option<f64>,
    #[serde(default)]
    claims: Vec<String>,
    note: Option<String>,
    group: Option<String>,
}

/// Dates may be written as `2025` (an integer to YAML) or `2025-05` (a string).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DateText {
    Int(i64),
    Text(String),
}

impl DateText {
    fn text(&self) -> String {
        match self {
            DateText::Int(i) => i.to_string(),
            DateText::Text(t) => t.clone(),
        }
    }
}

static LEARNER: Shape = Shape::Map(&[("id", &ANY), ("name", &ANY), ("email", &ANY)]);
static HOURS: Shape = Shape::Num(super::num::Field::Number);
static EVIDENCE: Shape = Shape::Map(&[
    ("id", &ANY),
    ("title", &ANY),
    ("kind", &ANY),
    ("file", &ANY),
    ("url", &ANY),
    ("date", &ANY),
    ("hours", &HOURS),
    ("claims", &ANY),
    ("note", &ANY),
    ("group", &ANY),
]);
static EVIDENCE_LIST: Shape = Shape::Seq(&EVIDENCE);
static ROOT: Shape = Shape::Map(&[
    ("format", &ANY),
    ("id", &ANY),
    ("rubric", &ANY),
    ("learner", &LEARNER),
    ("submitted", &ANY),
    ("statement", &ANY),
    ("evidence", &EVIDENCE_LIST),
]);

/// Which rubric a portfolio is for: `id`, or `id@version` to pin one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RubricRef {
    pub id: String,
    pub version: Option<String>,
}

impl RubricRef {
    pub fn parse(s: &str) -> RubricRef {
        match s.split_once('@') {
            Some((id, v)) => RubricRef {
                id: id.to_string(),
                version: Some(v.to_string()),
            },
            None => RubricRef {
                id: s.to_string(),
                version: None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerInfo {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
}

/// The kind of learning a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Formal,
    NonFormal,
    Informal,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Formal => "formal",
            Kind::NonFormal => "non-formal",
            Kind::Informal => "informal",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "formal" => Some(Kind::Formal),
            "non-formal" => Some(Kind::NonFormal),
            "informal" => Some(Kind::Informal),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub file: Option<String>,
    /// Where `file` is written in the manifest.
    pub file_pos: Pos,
    pub url: Option<String>,
    pub date: String,
    pub hours: Option<f64>,
    pub claims: Vec<String>,
    pub note: Option<String>,
    /// The part of the portfolio it belongs to (an e-portfolio's page or collection), shown as a
    /// heading over its evidence.
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub id: String,
    pub rubric: RubricRef,
    pub learner: LearnerInfo,
    pub submitted: String,
    pub statement: Option<String>,
    pub statement_pos: Pos,
    pub evidence: Vec<Evidence>,
}

/// First pass: reads and checks the manifest on its own. The rubric it names is resolved by the
/// caller, then [`check_claims`] checks the claims against it.
pub fn load(file: &str, bytes: &[u8]) -> Result<Manifest, Diagnostics> {
    let doc = yaml::parse(file, bytes)?;
    let (raw, diags): (ManifestDoc, _) = doc.decode_checked(&ROOT)?;
    let mut c = Checker { doc: &doc, diags };
    let manifest = c.check(raw);
    let mut all = Diagnostics(c.diags);
    all.sort();
    if all.has_errors() {
        return Err(all);
    }
    Ok(manifest)
}

/// Where the claim `claims[j]` of evidence `i` stands, for messages.
pub fn claim_path(i: usize, j: usize) -> String {
    format!("evidence[{i}].claims[{j}]")
}

/// Checks every claim against the rubric's criteria. Positions come from the manifest text.
pub fn check_claims(file: &str, bytes: &[u8], m: &Manifest, rubric: &Rubric) -> Diagnostics {
    let mut out = Vec::new();
    let Ok(doc) = yaml::parse(file, bytes) else {
        return Diagnostics(out);
    };
    let ids: Vec<&str> = rubric.criteria.iter().map(|c| c.id.as_str()).collect();
    let known: HashSet<&str> = ids.iter().copied().collect();
    let mut hints_left = yaml::MAX_HINTS;
    for (i, e) in m.evidence.iter().enumerate() {
        for (j, claim) in e.claims.iter().enumerate() {
            if !known.contains(claim.as_str()) {
                let hint = if hints_left == 0 {
                    "check the rubric's criteria".to_string()
                } else {
                    hints_left -= 1;
                    match yaml::did_you_mean(claim, &ids) {
                        Some(b) => format!("did you mean `{b}`?"),
                        None => format!("the rubric's criteria are {}", yaml::name_list(&ids)),
                    }
                };
                out.push(Diagnostic::error(
                    file,
                    doc.pos(&claim_path(i, j)),
                    format!(
                        "evidence `{}` claims `{}`, which is not a criterion of rubric {}; {hint}",
                        e.id,
                        sanitize_line(claim),
                        rubric.key()
                    ),
                ));
            }
        }
    }
    Diagnostics(out)
}

/// Whether a relative path stays inside its folder, lexically: not absolute, no `..` that climbs
/// out, no empty path.
pub fn path_stays_inside(p: &str) -> bool {
    if p.is_empty() || p.contains('\\') || p.contains('\0') {
        return false;
    }
    let path = Path::new(p);
    let mut depth: i64 = 0;
    for c in path.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            Component::RootDir | Component::Prefix(_) => return false,
        }
    }
    depth > 0
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, with a real month and day.
pub fn valid_partial_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |t: &str, len: usize| t.len() == len && t.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => num(y, 4),
        [y, m] => num(y, 4) && num(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [_, _, _] => valid_full_date(s),
        _ => false,
    }
}

/// `YYYY-MM-DD`, a real calendar day.
pub fn valid_full_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

struct Checker<'d, 'a> {
    doc: &'d Document<'a>,
    diags: Vec<Diagnostic>,
}

impl Checker<'_, '_> {
    fn err(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.doc.pos(path);
        // (a value already refused where it stands, as a literal, is not refused twice)
        if self.diags.iter().any(|d| d.pos == pos && d.is_error()) {
            return;
        }
        self.diags.push(Diagnostic::error(self.doc.file, pos, msg));
    }

    fn text(&mut self, path: &str, v: &str, what: &str, required: bool) {
        if required && v.trim().is_empty() {
            self.err(path, format!("{what} is empty; write it out"));
        }
        if has_control(v) {
            self.err(
                path,
                format!("{what} contains a control character or escape sequence; remove it (only newline and tab are allowed)"),
            );
        }
    }

    fn id(&mut self, path: &str, v: &str, what: &str) {
        if has_control(v) {
            self.text(path, v, what, false);
        } else if !valid_id(v) {
            self.err(
                path,
                format!(
                    "{what} `{}` is not a valid id: use letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters",
                    sanitize_line(v)
                ),
            );
        }
    }

    fn check(&mut self, raw: ManifestDoc) -> Manifest {
        if raw.format != FORMAT {
            self.err(
                "format",
                format!(
                    "format is `{}`; it must be exactly `{FORMAT}`",
                    sanitize_line(&raw.format)
                ),
            );
        }
        self.id("id", &raw.id, "portfolio id");
        let rubric = RubricRef::parse(&raw.rubric);
        self.id("rubric", &rubric.id, "rubric id");
        if let Some(v) = &rubric.version {
            self.text("rubric", v, "rubric version", true);
        }
        self.id("learner.id", &raw.learner.id, "learner id");
        self.text("learner.name", &raw.learner.name, "learner name", true);
        if let Some(e) = &raw.learner.email {
            self.text("learner.email", e, "email", true);
            let ok = e
                .split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !e.contains(' '));
            if !ok {
                self.err(
                    "learner.email",
                    format!(
                        "email `{}` is not an email address; write it as name@example.org or leave it out",
                        sanitize_line(e)
                    ),
                );
            }
        }
        if !valid_full_date(&raw.submitted) {
            self.err(
                "submitted",
                format!(
                    "submitted `{}` is not a date; write it as YYYY-MM-DD, for example 2026-10-12",
                    sanitize_line(&raw.submitted)
                ),
            );
        }
        if let Some(s) = &raw.statement {
            self.path("statement", s, "statement");
        }
        if raw.evidence.is_empty() {
            self.err(
                "evidence",
                "the portfolio lists no evidence; add at least one item",
            );
        }
        let mut evidence = Vec::new();
        // Index of each evidence id's first use (a map, not a scan of the items before).
        let mut first_use: HashMap<&str, usize> = HashMap::new();
        for (i, e) in raw.evidence.iter().enumerate() {
            let p = format!("evidence[{i}]");
            self.id(&format!("{p}.id"), &e.id, "evidence id");
            if let Some(&j) = first_use.get(e.id.as_str()) {
                let line = self.doc.pos(&format!("evidence[{j}].id")).line;
                self.err(
                    &format!("{p}.id"),
                    format!(
                        "duplicate evidence id `{}` (first used on line {line}); give each item its own id",
                        sanitize_line(&e.id)
                    ),
                );
            } else {
                first_use.insert(&e.id, i);
            }
            self.text(&format!("{p}.title"), &e.title, "evidence title", true);
            let kind = Kind::parse(&e.kind);
            if kind.is_none() {
                self.err(
                    &format!("{p}.kind"),
                    format!(
                        "kind `{}` is not one of formal, non-formal, informal",
                        sanitize_line(&e.kind)
                    ),
                );
            }
            if e.file.is_none() && e.url.is_none() {
                self.err(
                    &p,
                    format!(
                        "evidence `{}` has neither `file` nor `url`; give at least one",
                        sanitize_line(&e.id)
                    ),
                );
            }
            if let Some(f) = &e.file {
                self.path(&format!("{p}.file"), f, "file");
            }
            if let Some(u) = &e.url {
                self.text(&format!("{p}.url"), u, "url", true);
                if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(' ') {
                    self.err(
                        &format!("{p}.url"),
                        format!(
                            "url `{}` is not an http(s) address; write it in full, starting with https://",
                            sanitize_line(u)
                        ),
                    );
                }
            }
            let date = e.date.text();
            if !valid_partial_date(&date) {
                self.err(
                    &format!("{p}.date"),
                    format!(
                        "date `{}` is not a date; write YYYY, YYYY-MM or YYYY-MM-DD",
                        sanitize_line(&date)
                    ),
                );
            }
            if let Some(h) = e.hours
                && !(0.0..1e6).contains(&h)
            {
                self.err(
                    &format!("{p}.hours"),
                    format!("hours is {h}; it must be a number of 0 or more"),
                );
            }
            for (j, c) in e.claims.iter().enumerate() {
                self.text(&claim_path(i, j), c, "claim", true);
            }
            if let Some(n) = &e.note {
                self.text(&format!("{p}.note"), n, "note", false);
            }
            if let Some(g) = &e.group {
                self.text(&format!("{p}.group"), g, "group", true);
            }
            evidence.push(Evidence {
                id: e.id.clone(),
                title: e.title.clone(),
                kind: kind.unwrap_or(Kind::Informal),
                file: e.file.clone(),
                file_pos: self.doc.pos(&format!("{p}.file")),
                url: e.url.clone(),
                date,
                hours: e.hours,
                claims: e.claims.clone(),
                note: e.note.clone(),
                group: e.group.clone(),
            });
        }
        Manifest {
            id: raw.id,
            rubric,
            learner: LearnerInfo {
                id: raw.learner.id,
                name: raw.learner.name,
                email: raw.learner.email,
            },
            submitted: raw.submitted,
            statement: raw.statement,
            statement_pos: self.doc.pos("statement"),
            evidence,
        }
    }

    fn path(&mut self, path: &str, v: &str, what: &str) {
        self.text(path, v, what, true);
        if !path_stays_inside(v) {
            self.err(
                path,
                format!(
                    "{what} path `{}` leaves the portfolio folder; use a relative path inside it, without `..` or a leading `/`",
                    sanitize_line(v)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "format: assay.portfolio/v1
id: P-1
rubric: data-literacy@2026.1
learner:
  id: L-1
  name: Aoife Byrne
  email: aoife@example.org
submitted: 2026-10-12
statement: statement.md
evidence:
  - id: E1
    title: Dashboard
    kind: informal
    file: evidence/a.md
    date: 2025-05
    hours: 20
    claims: [C1]
  - id: E2
    title: Course
    kind: formal
    url: https://example.org/x
    date: 2024
    claims: [C2]
";

    fn errs(text: &str) -> Vec<String> {
        match load("p.yaml", text.as_bytes()) {
            Ok(_) => vec![],
            Err(d) => d.errors().map(|e| e.to_string()).collect(),
        }
    }

    #[track_caller]
    fn refused_at(text: &str, line: usize, needle: &str) {
        let e = errs(text);
        assert!(
            e.iter()
                .any(|x| x.starts_with(&format!("p.yaml:{line}:")) && x.contains(needle)),
            "wanted line {line} {needle:?}: {e:#?}"
        );
    }

    #[test]
    fn base_loads() {
        let m = load("p.yaml", BASE.as_bytes()).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(m.rubric.version.as_deref(), Some("2026.1"));
        assert_eq!(m.evidence[1].date, "2024");
        assert_eq!(m.evidence[0].file_pos.line, 14);
    }

    #[test]
    fn paths_that_escape_are_refused() {
        refused_at(
            &BASE.replace("evidence/a.md", "../x.md"),
            14,
            "leaves the portfolio folder",
        );
        refused_at(&BASE.replace("evidence/a.md", "/etc/passwd"), 14, "leaves");
        refused_at(
            &BASE.replace("evidence/a.md", "evidence/../../x"),
            14,
            "leaves",
        );
        refused_at(&BASE.replace("statement.md", "../s.md"), 9, "leaves");
        assert!(errs(&BASE.replace("evidence/a.md", "evidence/../a.md")).is_empty());
    }

    #[test]
    fn bad_fields_are_located() {
        refused_at(&BASE.replace("date: 2025-05", "date: 2025-13"), 15, "YYYY");
        refused_at(
            &BASE.replace("submitted: 2026-10-12", "submitted: 2026-02-30"),
            8,
            "YYYY-MM-DD",
        );
        refused_at(
            &BASE.replace("kind: informal", "kind: casual"),
            13,
            "formal, non-formal",
        );
        refused_at(
            &BASE.replace("  - id: E2", "  - id: E1"),
            18,
            "duplicate evidence id",
        );
        refused_at(
            &BASE.replace("    url: https://example.org/x\n", ""),
            18,
            "neither",
        );
        refused_at(
            &BASE.replace("name: Aoife Byrne", "name: \"Aoife \\e]0;x\\a\""),
            6,
            "control",
        );
        refused_at(
            &BASE.replace("  name: Aoife", "  nmae: Aoife"),
            6,
            "did you mean `name`",
        );
        refused_at(&BASE.replace("hours: 20", "hours: -3"), 16, "0 or more");
    }

    #[test]
    fn lexical_paths() {
        assert!(path_stays_inside("a/b.md"));
        assert!(path_stays_inside("./a.md"));
        assert!(!path_stays_inside("a/../.."));
        assert!(!path_stays_inside("."));
        assert!(!path_stays_inside(""));
        assert!(!path_stays_inside("a\\..\\..\\b"));
    }
}
