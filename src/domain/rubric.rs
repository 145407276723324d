//! The rubric: `assay.rubric/v1` files, their validation and the typed model the rest of assay uses.
//!
//! See `shared/spec/rubric-format.md`. Loading never panics: every problem becomes a
//! [`Diagnostic`] naming `FILE:LINE:COL` and what to change, all of them collected in one pass.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::num::{Field, Milli};
use super::sanitize::has_control;
use super::yaml::{self, ANY, Diagnostic, Diagnostics, Document, Shape};

pub const FORMAT: &str = "assay.rubric/v1";

// ---------------------------------------------------------------------------------------------
// The file as written (serde), before validation.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RubricDoc {
    format: String,
    id: String,
    version: String,
    title: String,
    summary: Option<String>,
    credential: CredentialDoc,
    learning_outcomes: Vec<OutcomeDoc>,
    #[serde(default)]
    gates: Vec<GateDoc>,
    criteria: Vec<CriterionDoc>,
    decision: DecisionDoc,
    moderation: Option<ModerationDoc>,
}

#[derive(Debug, Deserialize)]
struct CredentialDoc {
    awarding_body: AwardingBodyDoc,
    eqf_level: f64,
    ects: f64,
    workload_hours: Option<f64>,
    pathway: String,
    participation: String,
    assessment: String,
    quality_assurance: String,
    prerequisites: Option<String>,
    identity_verification: Option<String>,
    stackability: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    signing: Option<SigningDoc>,
    credly_template: Option<String>,
    canvas_badge_class: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SigningDoc {
    issuer: Option<String>,
    key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AwardingBodyDoc {
    name: String,
    id: String,
    country: String,
}

#[derive(Debug, Deserialize)]
struct OutcomeDoc {
    id: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct GateDoc {
    id: String,
    text: String,
}

#[derive(Debug, Deserialize)]
struct CriterionDoc {
    id: String,
    title: String,
    outcomes: Vec<String>,
    weight: Option<f64>,
    #[serde(default)]
    required: bool,
    guidance: Option<String>,
    levels: Vec<LevelDoc>,
    #[serde(default)]
    comments: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct LevelDoc {
    id: String,
    label: String,
    points: f64,
    #[serde(default)]
    meets: bool,
    descriptor: String,
    #[serde(default)]
    comments: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DecisionDoc {
    pass_mark: f64,
    #[serde(default)]
    grades: Vec<GradeDoc>,
}

#[derive(Debug, Deserialize)]
struct GradeDoc {
    name: String,
    min: f64,
}

#[derive(Debug, Deserialize)]
struct ModerationDoc {
    sample_percent: Option<f64>,
    sample_min: Option<f64>,
    always: Option<Vec<String>>,
    borderline_margin: Option<f64>,
    blind: Option<bool>,
}

static DECIMAL: Shape = Shape::Num(Field::Decimal);
/// Level points: whole numbers that fit the decision rule's exact arithmetic.
static POINTS: Shape = Shape::Num(Field::Whole {
    min: 0,
    max: (u32::MAX / 1000) as i64,
});
static EQF: Shape = Shape::Num(Field::Whole { min: 1, max: 8 });
static COUNT: Shape = Shape::Num(Field::Whole {
    min: 0,
    max: 1_000_000_000,
});
static LEVEL: Shape = Shape::Map(&[
    ("id", &ANY),
    ("label", &ANY),
    ("points", &POINTS),
    ("meets", &ANY),
    ("descriptor", &ANY),
    ("comments", &ANY),
]);
static LEVELS: Shape = Shape::Seq(&LEVEL);
static CRITERION: Shape = Shape::Map(&[
    ("id", &ANY),
    ("title", &ANY),
    ("outcomes", &ANY),
    ("weight", &DECIMAL),
    ("required", &ANY),
    ("guidance", &ANY),
    ("levels", &LEVELS),
    ("comments", &ANY),
]);
static CRITERIA: Shape = Shape::Seq(&CRITERION);
static ID_TEXT: Shape = Shape::Map(&[("id", &ANY), ("text", &ANY)]);
static ID_TEXT_LIST: Shape = Shape::Seq(&ID_TEXT);
static AWARDING_BODY: Shape = Shape::Map(&[("name", &ANY), ("id", &ANY), ("country", &ANY)]);
static CREDENTIAL: Shape = Shape::Map(&[
    ("awarding_body", &AWARDING_BODY),
    ("eqf_level", &EQF),
    ("ects", &DECIMAL),
    ("workload_hours", &DECIMAL),
    ("pathway", &ANY),
    ("participation", &ANY),
    ("assessment", &ANY),
    ("quality_assurance", &ANY),
    ("prerequisites", &ANY),
    ("identity_verification", &ANY),
    ("stackability", &ANY),
    ("tags", &ANY),
    ("signing", &SIGNING),
    ("credly_template", &ANY),
    ("canvas_badge_class", &ANY),
]);
static SIGNING: Shape = Shape::Map(&[("issuer", &ANY), ("key", &ANY)]);
static GRADE: Shape = Shape::Map(&[("name", &ANY), ("min", &DECIMAL)]);
static GRADES: Shape = Shape::Seq(&GRADE);
static DECISION: Shape = Shape::Map(&[("pass_mark", &DECIMAL), ("grades", &GRADES)]);
static MODERATION: Shape = Shape::Map(&[
    ("sample_percent", &DECIMAL),
    ("sample_min", &COUNT),
    ("always", &ANY),
    ("borderline_margin", &DECIMAL),
    ("blind", &ANY),
]);
static ROOT: Shape = Shape::Map(&[
    ("format", &ANY),
    ("id", &ANY),
    ("version", &ANY),
    ("title", &ANY),
    ("summary", &ANY),
    ("credential", &CREDENTIAL),
    ("learning_outcomes", &ID_TEXT_LIST),
    ("gates", &ID_TEXT_LIST),
    ("criteria", &CRITERIA),
    ("decision", &DECISION),
    ("moderation", &MODERATION),
]);

// ---------------------------------------------------------------------------------------------
// The validated model.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pathway {
    Vertical,
    Horizontal,
    Diagonal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Participation {
    Online,
    Onsite,
    Blended,
}

impl Pathway {
    pub fn as_str(self) -> &'static str {
        match self {
            Pathway::Vertical => "vertical",
            Pathway::Horizontal => "horizontal",
            Pathway::Diagonal => "diagonal",
        }
    }
}

impl Participation {
    pub fn as_str(self) -> &'static str {
        match self {
            Participation::Online => "online",
            Participation::Onsite => "onsite",
            Participation::Blended => "blended",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwardingBody {
    pub name: String,
    pub id: String,
    pub country: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credential {
    pub awarding_body: AwardingBody,
    pub eqf_level: u8,
    pub ects: Milli,
    pub workload_hours: Option<Milli>,
    pub pathway: Pathway,
    pub participation: Participation,
    pub assessment: String,
    pub quality_assurance: String,
    pub prerequisites: Option<String>,
    pub identity_verification: Option<String>,
    pub stackability: Option<String>,
    pub tags: Vec<String>,
    /// Who signs its credentials, and with which key (`credential.signing`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing: Option<Signing>,
    /// Credly's badge template id, for `--format credly`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credly_template: Option<String>,
    /// Canvas Credentials' badge class id, for `--format canvas-credentials`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canvas_badge_class: Option<String>,
}

/// `credential.signing`: the issuer id signed credentials name and the issuer key that signs
/// them (a name given to `assay issuer init`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signing {
    pub issuer: Option<String>,
    pub key: String,
}

impl Credential {
    /// The issuer key's name (`default` unless the rubric names one).
    pub fn key_name(&self) -> &str {
        self.signing.as_ref().map_or("default", |s| s.key.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    pub id: String,
    pub label: String,
    pub points: u32,
    /// Whether this level demonstrates the criterion (resolved from the `meets` rule).
    pub meets: bool,
    pub descriptor: String,
    /// Saved comments for feedback at this level (the comment bank), from the rubric file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub id: String,
    pub title: String,
    pub outcomes: Vec<String>,
    pub weight: Milli,
    pub required: bool,
    pub guidance: Option<String>,
    pub levels: Vec<Level>,
    /// Saved comments for this criterion's feedback (the comment bank), from the rubric file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
}

impl Criterion {
    pub fn max_points(&self) -> u32 {
        self.levels.last().map_or(0, |l| l.points)
    }
    pub fn level(&self, id: &str) -> Option<(usize, &Level)> {
        self.levels.iter().enumerate().find(|(_, l)| l.id == id)
    }
    /// Index of the lowest meeting level.
    pub fn first_meeting(&self) -> Option<usize> {
        self.levels.iter().position(|l| l.meets)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradeBand {
    pub name: String,
    pub min: Milli,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRule {
    pub pass_mark: Milli,
    /// Highest minimum first.
    pub grades: Vec<GradeBand>,
}

/// The categories of decisions every moderation sample takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Always {
    NotYet,
    Referred,
    Override,
    Borderline,
}

impl Always {
    pub const ALL: [Always; 4] = [
        Always::NotYet,
        Always::Referred,
        Always::Override,
        Always::Borderline,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Always::NotYet => "not_yet",
            Always::Referred => "referred",
            Always::Override => "override",
            Always::Borderline => "borderline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModerationRule {
    pub sample_percent: Milli,
    pub sample_min: u32,
    pub always: Vec<Always>,
    pub borderline_margin: Milli,
    pub blind: bool,
}

impl Default for ModerationRule {
    fn default() -> Self {
        ModerationRule {
            sample_percent: Milli::from_int(10),
            sample_min: 3,
            always: Always::ALL.to_vec(),
            borderline_margin: Milli::from_int(5),
            blind: true,
        }
    }
}

/// A validated rubric. `sha256` is the hash of the exact file bytes it was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rubric {
    pub id: String,
    pub version: String,
    pub title: String,
    pub summary: Option<String>,
    pub credential: Credential,
    pub outcomes: Vec<Outcome>,
    pub gates: Vec<Gate>,
    pub criteria: Vec<Criterion>,
    pub decision: DecisionRule,
    pub moderation: ModerationRule,
    pub sha256: String,
}

impl Rubric {
    pub fn criterion(&self, id: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.id == id)
    }
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.gates.iter().find(|g| g.id == id)
    }
    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.outcomes.iter().find(|o| o.id == id)
    }
    /// `id@version`
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// A successfully loaded rubric with its warnings.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub rubric: Rubric,
    pub warnings: Vec<Diagnostic>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `id` is a valid id: `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 64 characters.
pub fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Reads and validates a rubric from the bytes of a file. `file` is the name used in messages.
pub fn load(file: &str, bytes: &[u8]) -> Result<Loaded, Diagnostics> {
    let doc = yaml::parse(file, bytes)?;
    let (raw, diags): (RubricDoc, _) = doc.decode_checked(&ROOT)?;
    let mut v = Validator { doc: &doc, diags };
    let rubric = v.validate(raw, sha256_hex(bytes));
    let mut all = Diagnostics(v.diags);
    all.sort();
    if all.has_errors() {
        return Err(all);
    }
    Ok(Loaded {
        rubric: rubric.expect("a rubric is built whenever there are no errors"),
        warnings: all.0,
    })
}

struct Validator<'d, 'a> {
    doc: &'d Document<'a>,
    diags: Vec<Diagnostic>,
}

impl Validator<'_, '_> {
    fn err(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.doc.pos(path);
        // (a value already refused where it stands, as a literal, is not refused twice)
        if self.diags.iter().any(|d| d.pos == pos && d.is_error()) {
            return;
        }
        self.diags.push(Diagnostic::error(self.doc.file, pos, msg));
    }
    fn err_key(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.doc.key_pos(path);
        self.diags.push(Diagnostic::error(self.doc.file, pos, msg));
    }
    fn warn(&mut self, path: &str, msg: impl Into<String>) {
        let pos = self.doc.pos(path);
        self.diags
            .push(Diagnostic::warning(self.doc.file, pos, msg));
    }

    fn text(&mut self, path: &str, value: &str, what: &str) {
        if has_control(value) {
            self.err(
                path,
                format!("{what} contains a control character; remove it (only newline and tab are allowed)"),
            );
        }
    }

    fn nonempty(&mut self, path: &str, value: &str, what: &str) {
        if value.trim().is_empty() {
            self.err(path, format!("{what} is empty; write it out"));
        }
        self.text(path, value, what);
    }

    fn id(&mut self, path: &str, value: &str, what: &str) {
        if !valid_id(value) {
            self.err(
                path,
                format!(
                    "{what} `{}` is not a valid id: use letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters",
                    crate::domain::sanitize::sanitize_line(value)
                ),
            );
        }
    }

    /// Ids must be unique within their list.
    fn unique_ids<'x>(&mut self, list: &str, ids: impl Iterator<Item = &'x str>, what: &str) {
        // Index of each id's first use (a map, not a scan: lists can be 50 000 long).
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, id) in ids.enumerate() {
            if let Some(&first) = seen.get(id) {
                let first_line = self.doc.pos(&format!("{list}[{first}].id")).line;
                self.err(
                    &format!("{list}[{i}].id"),
                    format!(
                        "duplicate {what} id `{id}` (first used on line {first_line}); give each {what} its own id"
                    ),
                );
            } else {
                seen.insert(id, i);
            }
        }
    }

    fn milli(&mut self, path: &str, v: f64, what: &str) -> Option<Milli> {
        let m = Milli::from_f64(v);
        if m.is_none() {
            self.err(
                path,
                format!("{what} `{v}` has more than three decimals; round it to at most three"),
            );
        }
        m
    }

    fn validate(&mut self, raw: RubricDoc, sha256: String) -> Option<Rubric> {
        if raw.format != FORMAT {
            self.err(
                "format",
                format!(
                    "format is `{}`; it must be exactly `{FORMAT}`",
                    crate::domain::sanitize::sanitize_line(&raw.format)
                ),
            );
        }
        self.id("id", &raw.id, "rubric id");
        if raw.version.trim().is_empty() {
            self.err(
                "version",
                "version is empty; give the rubric a version such as \"2026.1\"",
            );
        }
        self.text("version", &raw.version, "version");
        // A version names the rubric people mark against: it must read as what it is (no
        // spaces, no invisible or look-alike characters that would make two versions seem one).
        if !raw.version.is_empty()
            && !raw
                .version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        {
            self.err(
                "version",
                format!(
                    "version `{}` may hold only letters, digits, `.`, `_`, `-` and `+` (no spaces or invisible characters)",
                    crate::domain::sanitize::sanitize_line(&raw.version).escape_default()
                ),
            );
        }
        if raw.version.len() > 64 {
            self.err(
                "version",
                "version is longer than 64 characters; shorten it",
            );
        }
        self.nonempty("title", &raw.title, "title");
        if let Some(s) = &raw.summary {
            self.text("summary", s, "summary");
        }

        let credential = self.credential(&raw.credential);

        // Learning outcomes.
        if raw.learning_outcomes.is_empty() {
            self.err(
                "learning_outcomes",
                "at least one learning outcome is needed; add one",
            );
        }
        for (i, o) in raw.learning_outcomes.iter().enumerate() {
            self.id(&format!("learning_outcomes[{i}].id"), &o.id, "outcome");
            self.nonempty(
                &format!("learning_outcomes[{i}].text"),
                &o.text,
                "outcome text",
            );
        }
        self.unique_ids(
            "learning_outcomes",
            raw.learning_outcomes.iter().map(|o| o.id.as_str()),
            "learning outcome",
        );

        // Gates.
        for (i, g) in raw.gates.iter().enumerate() {
            self.id(&format!("gates[{i}].id"), &g.id, "gate");
            self.nonempty(&format!("gates[{i}].text"), &g.text, "gate text");
        }
        self.unique_ids("gates", raw.gates.iter().map(|g| g.id.as_str()), "gate");

        // Criteria.
        if raw.criteria.is_empty() {
            self.err("criteria", "at least one criterion is needed; add one");
        }
        let outcome_ids: Vec<&str> = raw
            .learning_outcomes
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        let known_outcomes: HashSet<&str> = outcome_ids.iter().copied().collect();
        let mut assessed: HashSet<&str> = HashSet::new();
        let mut hints_left = yaml::MAX_HINTS;
        let mut criteria = Vec::new();
        for (i, c) in raw.criteria.iter().enumerate() {
            let p = format!("criteria[{i}]");
            self.id(&format!("{p}.id"), &c.id, "criterion");
            self.nonempty(&format!("{p}.title"), &c.title, "criterion title");
            if let Some(g) = &c.guidance {
                self.text(&format!("{p}.guidance"), g, "guidance");
            }
            if c.outcomes.is_empty() {
                self.err(
                    &format!("{p}.outcomes"),
                    format!(
                        "criterion `{}` names no learning outcome; list at least one",
                        c.id
                    ),
                );
            }
            for (j, o) in c.outcomes.iter().enumerate() {
                if known_outcomes.contains(o.as_str()) {
                    assessed.insert(o.as_str());
                } else {
                    let hint = if hints_left == 0 {
                        String::new()
                    } else {
                        hints_left -= 1;
                        match yaml::did_you_mean(o, &outcome_ids) {
                            Some(b) => format!("; did you mean `{b}`?"),
                            None => format!(
                                "; use one of the listed outcomes ({})",
                                yaml::name_list(&outcome_ids)
                            ),
                        }
                    };
                    self.err(
                        &format!("{p}.outcomes[{j}]"),
                        format!(
                            "criterion `{}` names unknown learning outcome `{}`{hint}",
                            c.id,
                            crate::domain::sanitize::sanitize_line(o)
                        ),
                    );
                }
            }
            let weight = match c.weight {
                None => Some(Milli::from_int(1)),
                Some(w) => {
                    let m = self.milli(&format!("{p}.weight"), w, "weight");
                    if let Some(m) = m
                        && m.0 <= 0
                    {
                        self.err(
                            &format!("{p}.weight"),
                            format!("weight is {w}; it must be greater than 0"),
                        );
                    }
                    m
                }
            };
            criteria.push(self.criterion(&p, c, weight.unwrap_or(Milli(1000))));
        }
        self.unique_ids(
            "criteria",
            raw.criteria.iter().map(|c| c.id.as_str()),
            "criterion",
        );
        for (i, o) in raw.learning_outcomes.iter().enumerate() {
            if !assessed.contains(o.id.as_str()) && valid_id(&o.id) {
                self.err(
                    &format!("learning_outcomes[{i}].id"),
                    format!(
                        "learning outcome `{}` is assessed by no criterion; add it to a criterion's `outcomes`",
                        o.id
                    ),
                );
            }
        }

        let decision = self.decision(&raw.decision);
        let moderation = self.moderation(raw.moderation.as_ref());

        if self.diags.iter().any(Diagnostic::is_error) {
            return None;
        }
        Some(Rubric {
            id: raw.id,
            version: raw.version,
            title: raw.title,
            summary: raw.summary,
            credential: credential?,
            outcomes: raw
                .learning_outcomes
                .into_iter()
                .map(|o| Outcome {
                    id: o.id,
                    text: o.text,
                })
                .collect(),
            gates: raw
                .gates
                .into_iter()
                .map(|g| Gate {
                    id: g.id,
                    text: g.text,
                })
                .collect(),
            criteria,
            decision: decision?,
            moderation: moderation?,
            sha256,
        })
    }

    fn credential(&mut self, c: &CredentialDoc) -> Option<Credential> {
        let p = "credential";
        self.nonempty(
            &format!("{p}.awarding_body.name"),
            &c.awarding_body.name,
            "awarding body name",
        );
        self.nonempty(
            &format!("{p}.awarding_body.id"),
            &c.awarding_body.id,
            "awarding body id",
        );
        let country = &c.awarding_body.country;
        if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
            self.err(
                &format!("{p}.awarding_body.country"),
                format!(
                    "country `{}` must be two capital letters (ISO 3166-1 alpha-2), such as IE or DE",
                    crate::domain::sanitize::sanitize_line(country)
                ),
            );
        }
        let eqf = c.eqf_level;
        let eqf_ok = eqf.fract() == 0.0 && (1.0..=8.0).contains(&eqf);
        if !eqf_ok {
            self.err(
                &format!("{p}.eqf_level"),
                format!("eqf_level is {eqf}; it must be a whole number from 1 to 8"),
            );
        }
        let ects = self.milli(&format!("{p}.ects"), c.ects, "ects");
        if let Some(e) = ects
            && e.0 <= 0
        {
            self.err(
                &format!("{p}.ects"),
                format!("ects is {}; it must be greater than 0", c.ects),
            );
        }
        let hours = match c.workload_hours {
            Some(h) => {
                let m = self.milli(&format!("{p}.workload_hours"), h, "workload_hours");
                if let Some(m) = m
                    && m.0 <= 0
                {
                    self.err(
                        &format!("{p}.workload_hours"),
                        "workload_hours must be greater than 0",
                    );
                }
                Some(m)
            }
            None => None,
        };
        let pathway = match c.pathway.as_str() {
            "vertical" => Some(Pathway::Vertical),
            "horizontal" => Some(Pathway::Horizontal),
            "diagonal" => Some(Pathway::Diagonal),
            other => {
                self.err(
                    &format!("{p}.pathway"),
                    format!(
                        "pathway `{}` is not one of vertical, horizontal, diagonal",
                        crate::domain::sanitize::sanitize_line(other)
                    ),
                );
                None
            }
        };
        let participation = match c.participation.as_str() {
            "online" => Some(Participation::Online),
            "onsite" => Some(Participation::Onsite),
            "blended" => Some(Participation::Blended),
            other => {
                self.err(
                    &format!("{p}.participation"),
                    format!(
                        "participation `{}` is not one of online, onsite, blended",
                        crate::domain::sanitize::sanitize_line(other)
                    ),
                );
                None
            }
        };
        self.nonempty(&format!("{p}.assessment"), &c.assessment, "assessment");
        self.nonempty(
            &format!("{p}.quality_assurance"),
            &c.quality_assurance,
            "quality_assurance",
        );
        for (name, v) in [
            ("prerequisites", &c.prerequisites),
            ("identity_verification", &c.identity_verification),
            ("stackability", &c.stackability),
        ] {
            if let Some(v) = v {
                self.text(&format!("{p}.{name}"), v, name);
            }
        }
        for (i, t) in c.tags.iter().enumerate() {
            self.text(&format!("{p}.tags[{i}]"), t, "tag");
        }
        let signing = c.signing.as_ref().map(|sg| {
            if let Some(id) = &sg.issuer
                && let Err(e) = crate::domain::credential::issuer::id_kind(id)
            {
                self.err(
                    &format!("{p}.signing.issuer"),
                    crate::domain::sanitize::sanitize_line(&e),
                );
            }
            let key = sg.key.clone().unwrap_or_else(|| "default".into());
            if let Err(e) = key_name_problem(&key) {
                self.err(&format!("{p}.signing.key"), e);
            }
            Signing {
                issuer: sg.issuer.clone(),
                key,
            }
        });
        for (name, v) in [
            ("credly_template", &c.credly_template),
            ("canvas_badge_class", &c.canvas_badge_class),
        ] {
            if let Some(v) = v {
                self.nonempty(&format!("{p}.{name}"), v, name);
                self.text(&format!("{p}.{name}"), v, name);
            }
        }
        Some(Credential {
            awarding_body: AwardingBody {
                name: c.awarding_body.name.clone(),
                id: c.awarding_body.id.clone(),
                country: country.clone(),
            },
            eqf_level: if eqf_ok { eqf as u8 } else { return None },
            ects: ects?,
            workload_hours: match hours {
                Some(h) => Some(h?),
                None => None,
            },
            pathway: pathway?,
            participation: participation?,
            assessment: c.assessment.clone(),
            quality_assurance: c.quality_assurance.clone(),
            prerequisites: c.prerequisites.clone(),
            identity_verification: c.identity_verification.clone(),
            stackability: c.stackability.clone(),
            tags: c.tags.clone(),
            signing,
            credly_template: c.credly_template.clone(),
            canvas_badge_class: c.canvas_badge_class.clone(),
        })
    }

    fn criterion(&mut self, p: &str, c: &CriterionDoc, weight: Milli) -> Criterion {
        if c.levels.len() < 2 {
            self.err_key(
                &format!("{p}.levels"),
                format!(
                    "criterion `{}` has {} level(s); it needs at least two, lowest first",
                    c.id,
                    c.levels.len()
                ),
            );
        }
        let mut levels = Vec::new();
        let mut prev: Option<f64> = None;
        for (j, l) in c.levels.iter().enumerate() {
            let lp = format!("{p}.levels[{j}]");
            self.id(&format!("{lp}.id"), &l.id, "level");
            self.nonempty(&format!("{lp}.label"), &l.label, "level label");
            self.nonempty(
                &format!("{lp}.descriptor"),
                &l.descriptor,
                "level descriptor",
            );
            let pts = l.points;
            if pts.fract() != 0.0 || pts < 0.0 || pts > f64::from(u32::MAX / 1000) {
                self.err(
                    &format!("{lp}.points"),
                    format!("points is {pts}; level points must be whole numbers of 0 or more"),
                );
            } else if let Some(pr) = prev
                && pts <= pr
            {
                self.err(
                    &format!("{lp}.points"),
                    format!(
                        "points {pts} is not above the previous level's {pr}; list levels lowest first with strictly increasing points"
                    ),
                );
            }
            prev = Some(pts);
            levels.push(Level {
                id: l.id.clone(),
                label: l.label.clone(),
                points: if pts >= 0.0 { pts as u32 } else { 0 },
                meets: l.meets,
                descriptor: l.descriptor.clone(),
                comments: self.comments(&lp, &l.comments),
            });
        }
        self.unique_ids(
            &format!("{p}.levels"),
            c.levels.iter().map(|l| l.id.as_str()),
            "level",
        );
        let flagged: Vec<usize> = c
            .levels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.meets)
            .map(|(j, _)| j)
            .collect();
        if flagged.len() > 1 {
            for &j in &flagged[1..] {
                self.err_key(
                    &format!("{p}.levels[{j}].meets"),
                    format!(
                        "criterion `{}` has more than one level with `meets: true`; keep it only on the lowest meeting level (every higher level meets too)",
                        c.id
                    ),
                );
            }
        }
        // Resolve: from the flagged level upward; with none flagged, every level but the lowest.
        let from = flagged.first().copied().unwrap_or(1);
        for (j, l) in levels.iter_mut().enumerate() {
            l.meets = j >= from;
        }
        if c.required && !levels.iter().any(|l| l.meets) {
            self.err_key(
                &format!("{p}.required"),
                format!(
                    "required criterion `{}` has no meeting level; mark one level `meets: true`",
                    c.id
                ),
            );
        }
        Criterion {
            id: c.id.clone(),
            title: c.title.clone(),
            outcomes: c.outcomes.clone(),
            weight,
            required: c.required,
            guidance: c.guidance.clone(),
            levels,
            comments: self.comments(p, &c.comments),
        }
    }

    /// A list of saved comments: each a non-empty text without control characters, none twice.
    fn comments(&mut self, p: &str, list: &[String]) -> Vec<String> {
        let mut seen = HashSet::new();
        for (k, c) in list.iter().enumerate() {
            let path = format!("{p}.comments[{k}]");
            self.nonempty(&path, c, "comment");
            if !seen.insert(c.trim()) {
                self.err(
                    &path,
                    format!("the comment `{}` is listed twice; keep one", c.trim()),
                );
            }
        }
        list.iter().map(|c| c.trim().to_string()).collect()
    }

    fn percent(&mut self, path: &str, v: f64, what: &str) -> Option<Milli> {
        let m = self.milli(path, v, what)?;
        if m.0 < 0 || m.0 > 100_000 {
            self.err(path, format!("{what} is {v}; it must lie in 0..100"));
            return None;
        }
        Some(m)
    }

    fn decision(&mut self, d: &DecisionDoc) -> Option<DecisionRule> {
        let pass = self.percent("decision.pass_mark", d.pass_mark, "pass_mark");
        let mut grades = Vec::new();
        for (i, g) in d.grades.iter().enumerate() {
            let gp = format!("decision.grades[{i}]");
            self.nonempty(&format!("{gp}.name"), &g.name, "grade name");
            if let Some(min) = self.percent(&format!("{gp}.min"), g.min, "grade min") {
                if let Some(pm) = pass
                    && min < pm
                {
                    self.warn(
                        &format!("{gp}.min"),
                        format!(
                            "grade `{}` starts at {min}, below the pass mark {pm}; it can never be given",
                            g.name
                        ),
                    );
                }
                grades.push(GradeBand {
                    name: g.name.clone(),
                    min,
                });
            }
        }
        // First grade of each name and of each minimum (maps, not scans of the grades before).
        let mut names: HashMap<&str, usize> = HashMap::new();
        let mut mins: HashMap<u64, usize> = HashMap::new();
        for (i, g) in d.grades.iter().enumerate() {
            if let Some(&j) = names.get(g.name.as_str()) {
                let line = self.doc.pos(&format!("decision.grades[{j}].name")).line;
                self.err(
                    &format!("decision.grades[{i}].name"),
                    format!(
                        "grade name `{}` is used twice (also line {line}); names must be unique",
                        g.name
                    ),
                );
            } else {
                names.insert(&g.name, i);
            }
            // NaN equals nothing, as with `==`; `+ 0.0` makes -0 and 0 one key.
            if !g.min.is_nan() {
                let key = (g.min + 0.0).to_bits();
                if let Some(&j) = mins.get(&key) {
                    let line = self.doc.pos(&format!("decision.grades[{j}].min")).line;
                    self.err(
                        &format!("decision.grades[{i}].min"),
                        format!("grade minimum {} is used twice (also line {line}); minimums must be unique", g.min),
                    );
                } else {
                    mins.insert(key, i);
                }
            }
        }
        grades.sort_by_key(|g| std::cmp::Reverse(g.min));
        Some(DecisionRule {
            pass_mark: pass?,
            grades,
        })
    }

    fn moderation(&mut self, m: Option<&ModerationDoc>) -> Option<ModerationRule> {
        let mut rule = ModerationRule::default();
        let Some(m) = m else {
            return Some(rule);
        };
        let p = "moderation";
        if let Some(v) = m.sample_percent {
            rule.sample_percent =
                self.percent(&format!("{p}.sample_percent"), v, "sample_percent")?;
        }
        if let Some(v) = m.sample_min {
            if v.fract() != 0.0 || !(0.0..=1e9).contains(&v) {
                self.err(
                    &format!("{p}.sample_min"),
                    format!("sample_min is {v}; it must be a whole number of 0 or more"),
                );
                return None;
            }
            rule.sample_min = v as u32;
        }
        if let Some(list) = &m.always {
            let mut out = Vec::new();
            for (i, a) in list.iter().enumerate() {
                match Always::ALL.iter().find(|x| x.as_str() == a) {
                    Some(x) if !out.contains(x) => out.push(*x),
                    Some(_) => {}
                    None => {
                        let names: Vec<&str> = Always::ALL.iter().map(|x| x.as_str()).collect();
                        self.err(
                            &format!("{p}.always[{i}]"),
                            format!(
                                "`{}` is not a sampling category; use any of {}",
                                crate::domain::sanitize::sanitize_line(a),
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
            rule.always = out;
        }
        if let Some(v) = m.borderline_margin {
            rule.borderline_margin =
                self.percent(&format!("{p}.borderline_margin"), v, "borderline_margin")?;
        }
        if let Some(b) = m.blind {
            rule.blind = b;
        }
        Some(rule)
    }
}

#[cfg(test)]
mod tests;

/// Why `name` cannot name an issuer key (a file name: letters, digits, `-`, `_`, `.`).
pub fn key_name_problem(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the issuer key name `{}` must be 1 to 64 letters, digits, `-`, `_` or `.`, not starting with `.`",
            crate::domain::sanitize::sanitize_line(name)
        ))
    }
}
