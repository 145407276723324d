//! European Learning Model 3.2: an unsigned European Digital Credential (EDC) in JSON-LD for
//! one awarded decision, shaped after the Commission's sample micro-credential
//! (`shared/schemas/examples/elm-microcredential-annex1.official.jsonld`). It conforms to the
//! official SHACL shapes `EDC-generic-no-cv` (checked with `shared/tools/elm_shacl.py`); the
//! issuing system (for example the EDC issuer) seals it.
//!
//! # Mapping
//!
//! | assay | ELM / EDC |
//! |---|---|
//! | workspace, portfolio, decision ids | credential `id` (`urn:uuid:` v5); every node of this credential gets a v5 id from them too |
//! | `portfolio_id` | credential `identifier` (`Identifier`, `schemeName` "assay portfolio") |
//! | — | `credentialProfiles`: the *Generic* profile, as the Commission's micro-credential sample; `credentialSchema`: the `edc-generic-no-cv` shapes (`ShaclValidator2017`) |
//! | `released_at` (UTC) | `issued`, `issuanceDate`, `validFrom`; `awardedBy.awardingDate` |
//! | `credential.awarding_body` | `issuer` and `awardedBy.awardingBody`: one `Organisation` — `legalName` = name; `eIDASIdentifier` = `LegalIdentifier` with `notation` = `awarding_body.id` and `spatial` = the country `Concept`; `location.address.countryCode` = the country `Concept` (EU country authority, alpha-3); `homepage` when the id is a web address |
//! | learner | `credentialSubject`: a `Person` with `fullName`, `identifier` (`notation` = learner id) and, when known, `contactPoint.emailAddress` (`mailto:`) |
//! | awarded decision | `credentialSubject.hasClaim`: a `LearningAchievement` (`title`, `description`, `creditReceived`) |
//! | rubric (`id@version`) | `hasClaim.specifiedBy`: a `Qualification` (ELM's subclass of `LearningAchievementSpecification`, and the only specification class the shapes give an `EQFLevel`; the Commission's micro-credential sample uses it the same way) |
//! | `title`, `summary` | `title`, `description` |
//! | `eqf_level` | `eqfLevel`: the Concept `http://data.europa.eu/snb/eqf/N` |
//! | `ects` | `creditPoint`: `CreditPoint` with `framework` = ECTS Concept and `point` as text |
//! | `workload_hours` | `volumeOfLearning` (`xsd:duration`, `PT50H`) |
//! | `participation` | `mode`: Online / Presential / Blended Concept (mode of learning and assessment) |
//! | `pathway` | `learningSetting`: formal (vertical) or non-formal (horizontal); diagonal, which recognises informal and non-formal learning through formal assessment, has no single value and gets none. The pathway itself is an `additionalNote` |
//! | learning outcomes | `learningOutcome[]`: `LearningOutcome` with `title` = outcome text |
//! | `prerequisites` | `entryRequirement` (`Note`) |
//! | `quality_assurance`, `stackability`, pathway | `additionalNote[]` of the specification, each `Note` starting with the element's name |
//! | `tags` | `category` |
//! | `assessment`, criteria, gates, decision rule | `provenBy`: `LearningAssessmentSpecification` (`description` = type of assessment, `gradingScheme` = the decision rule, `additionalNote` = supervision and identity verification) |
//! | grade, score | `hasClaim.provenBy`: `LearningAssessment` with `grade` (`Note`: the grade name, or "Awarded" when the rubric has no grades), `description` = score against the pass mark, `dateIssued` = decided_at |
//! | each criterion | `LearningAssessment.hasPart[]`: a `LearningAssessment` titled by the criterion with `grade` = the level's label and `description` = its descriptor |
//! | — | `displayParameter`: title, language English, and one page whose image is an SVG rendering of the credential (title, learner, awarding body, ECTS, EQF, grade, date) |
//!
//! Text is English (`en`): rubrics carry no language tag, and every sample is in English.
//!
//! `@context` is `["https://www.w3.org/2018/credentials/v1",
//! "http://data.europa.eu/snb/model/context/edc-ap"]`, exactly as in the Commission's sample.
//! The VC 1.1 context is the one that defines `issued` (`cred:issued`), which the shapes
//! require: the VC 2.0 context does not define it (it would fall to the issuer-dependent
//! vocabulary and the credential would no longer conform), and the offline SHACL tool replaces
//! only the 1.1 context with its local term map.

use serde_json::{Map, Value, json};

use super::ExportRecord;
use super::common::{self, urn};
use super::countries;
use crate::domain::decision::Outcome;
use crate::domain::num::Milli;
use crate::domain::rubric::{Participation, Pathway, Rubric};
use crate::domain::sanitize::sanitize_line;

/// The VC data model 1.1 context, as in the Commission's sample (see the module docs).
pub const VC_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";
/// The EDC application profile context.
pub const EDC_CONTEXT: &str = "http://data.europa.eu/snb/model/context/edc-ap";
/// The shapes this mapping conforms to, named as the credential's schema.
pub const SHAPES: &str = "http://data.europa.eu/snb/model/ap/edc-generic-no-cv";
/// Language of every text.
const LANG: &str = "en";

/// Maps one awarded decision to an unsigned European Digital Credential.
pub fn credential(rubric: &Rubric, rec: &ExportRecord) -> Value {
    debug_assert_eq!(
        rec.decision.outcome,
        Outcome::Awarded,
        "only awarded decisions become European Digital Credentials"
    );
    let ids = Ids::new(rec);
    let when = common::timestamp(&rec.released_at);
    let org = organisation(rubric);
    let awarding = json!({
        "id": ids.node("awarding-process"),
        "type": "AwardingProcess",
        "awardingBody": org,
        "awardingDate": when,
    });

    let achievement = json!({
        "id": ids.node("learning-achievement"),
        "type": "LearningAchievement",
        "title": lang(&rubric.title),
        "description": lang(description(rubric)),
        "awardedBy": awarding,
        "provenBy": assessment(rubric, rec, &ids, &awarding),
        "specifiedBy": qualification(rubric),
        "creditReceived": credit_point(rubric),
    });

    let mut person = Map::new();
    person.insert("id".into(), json!(ids.person()));
    person.insert("type".into(), json!("Person"));
    person.insert(
        "fullName".into(),
        lang(&sanitize_line(rec.learner.name.trim())),
    );
    person.insert(
        "identifier".into(),
        json!({
            "id": urn(&["elm", "learner-identifier", &rec.workspace_id, &rec.learner.id]),
            "type": "Identifier",
            "notation": sanitize_line(rec.learner.id.trim()),
            "schemeName": format!("Learner identifier of {}", rubric.credential.awarding_body.name),
        }),
    );
    if let Some(email) = rec.learner.email.as_deref().map(str::trim)
        && plausible_email(email)
    {
        person.insert(
            "contactPoint".into(),
            json!({
                "id": urn(&["elm", "contact-point", &rec.workspace_id, &rec.learner.id]),
                "type": "ContactPoint",
                "emailAddress": { "id": format!("mailto:{email}"), "type": "Mailbox" },
            }),
        );
    }
    person.insert("hasClaim".into(), achievement);

    let mut cred = Map::new();
    cred.insert("@context".into(), json!([VC_CONTEXT, EDC_CONTEXT]));
    cred.insert("id".into(), json!(ids.credential));
    cred.insert(
        "type".into(),
        json!(["VerifiableCredential", "EuropeanDigitalCredential"]),
    );
    cred.insert(
        "credentialProfiles".into(),
        json!([concept(
            "http://data.europa.eu/snb/credential/e34929035b",
            "http://data.europa.eu/snb/credential/25831c2",
            "Generic",
            None
        )]),
    );
    cred.insert(
        "credentialSchema".into(),
        json!({ "id": SHAPES, "type": "ShaclValidator2017" }),
    );
    cred.insert(
        "identifier".into(),
        json!({
            "id": ids.node("identifier"),
            "type": "Identifier",
            "notation": rec.portfolio_id,
            "schemeName": "assay portfolio",
        }),
    );
    cred.insert("issuer".into(), org);
    cred.insert("issued".into(), json!(when));
    cred.insert("issuanceDate".into(), json!(when));
    cred.insert("validFrom".into(), json!(when));
    cred.insert("credentialSubject".into(), Value::Object(person));
    cred.insert("displayParameter".into(), display(rubric, rec, &ids));
    Value::Object(cred)
}

/// Ids of one credential's nodes.
struct Ids {
    credential: String,
    parts: [String; 3],
    workspace: String,
    learner: String,
}

impl Ids {
    fn new(rec: &ExportRecord) -> Ids {
        let parts = common::decision_parts(rec);
        Ids {
            credential: urn(&["elm", "credential", &parts[0], &parts[1], &parts[2]]),
            parts,
            workspace: rec.workspace_id.clone(),
            learner: rec.learner.id.clone(),
        }
    }
    /// A node that belongs to this credential alone.
    fn node(&self, kind: &str) -> String {
        urn(&["elm", kind, &self.parts[0], &self.parts[1], &self.parts[2]])
    }
    /// A node of this credential that exists once per criterion.
    fn criterion_node(&self, kind: &str, criterion: &str) -> String {
        urn(&[
            "elm",
            kind,
            &self.parts[0],
            &self.parts[1],
            &self.parts[2],
            criterion,
        ])
    }
    /// The learner, the same in every credential of the workspace.
    fn person(&self) -> String {
        urn(&["elm", "person", &self.workspace, &self.learner])
    }
}

/// A node that belongs to the rubric: the same in every credential made against it.
fn rubric_node(rubric: &Rubric, kind: &str) -> String {
    urn(&["elm", kind, &rubric.id, &rubric.version])
}

fn lang(text: &str) -> Value {
    json!({ LANG: text })
}

fn note(id: String, text: &str) -> Value {
    json!({ "id": id, "type": "Note", "noteLiteral": lang(text) })
}

fn concept(id: &str, scheme: &str, label: &str, notation: Option<&str>) -> Value {
    let mut c = Map::new();
    c.insert("id".into(), json!(id));
    c.insert("type".into(), json!("Concept"));
    c.insert(
        "inScheme".into(),
        json!({ "id": scheme, "type": "ConceptScheme" }),
    );
    if let Some(n) = notation {
        c.insert("notation".into(), json!(n));
    }
    c.insert("prefLabel".into(), lang(label));
    Value::Object(c)
}

fn english() -> Value {
    concept(
        "http://publications.europa.eu/resource/authority/language/ENG",
        "http://publications.europa.eu/resource/authority/language",
        "English",
        Some("language"),
    )
}

/// The awarding body's country as a Concept of the EU country authority table. A code the
/// table does not know becomes the table's "provisional data" concept, labelled with the code.
fn country(code: &str) -> Value {
    let (id, label) = match countries::by_alpha2(code) {
        Some((a3, name)) => (a3, name.to_string()),
        None => ("OP_DATPRO", code.to_string()),
    };
    concept(
        &format!("http://publications.europa.eu/resource/authority/country/{id}"),
        "http://publications.europa.eu/resource/authority/country",
        &label,
        Some("country"),
    )
}

fn description(rubric: &Rubric) -> &str {
    common::summary_or_title(rubric)
}

fn organisation(rubric: &Rubric) -> Value {
    let body = &rubric.credential.awarding_body;
    let key = body.id.as_str();
    let mut o = Map::new();
    o.insert("id".into(), json!(urn(&["elm", "organisation", key])));
    o.insert("type".into(), json!("Organisation"));
    o.insert("legalName".into(), lang(&body.name));
    o.insert(
        "eIDASIdentifier".into(),
        json!({
            "id": urn(&["elm", "legal-identifier", key]),
            "type": "LegalIdentifier",
            "notation": body.id,
            "spatial": country(&body.country),
        }),
    );
    o.insert(
        "location".into(),
        json!({
            "id": urn(&["elm", "location", key]),
            "type": "Location",
            "address": {
                "id": urn(&["elm", "address", key]),
                "type": "Address",
                "countryCode": country(&body.country),
            },
        }),
    );
    if common::is_http_url(&body.id) {
        o.insert(
            "homepage".into(),
            json!({
                "id": urn(&["elm", "homepage", key]),
                "type": "WebResource",
                "contentURL": body.id,
            }),
        );
    }
    Value::Object(o)
}

fn credit_point(rubric: &Rubric) -> Value {
    json!({
        "id": rubric_node(rubric, "credit-point"),
        "type": "CreditPoint",
        "framework": concept(
            "http://data.europa.eu/snb/education-credit/6fcec5c5af",
            "http://data.europa.eu/snb/education-credit/25831c2",
            "European Credit Transfer System",
            None,
        ),
        "point": rubric.credential.ects.to_string(),
    })
}

fn eqf_level(level: u8) -> Value {
    concept(
        &format!("http://data.europa.eu/snb/eqf/{level}"),
        "http://data.europa.eu/snb/eqf/25831c2",
        &format!("Level {level}"),
        None,
    )
}

/// Mode of learning and assessment (`http://data.europa.eu/snb/learning-assessment/`).
fn mode(p: Participation) -> Value {
    let (id, label) = match p {
        Participation::Online => ("920fbb3cbe", "Online"),
        Participation::Onsite => ("9191af2ed9", "Presential"),
        Participation::Blended => ("e92d221e4d", "Blended"),
    };
    concept(
        &format!("http://data.europa.eu/snb/learning-assessment/{id}"),
        "http://data.europa.eu/snb/learning-assessment/25831c2",
        label,
        None,
    )
}

/// Learning setting (`http://data.europa.eu/snb/learning-setting/`): formal or non-formal.
fn learning_setting(p: Pathway) -> Option<Value> {
    let (id, label) = match p {
        Pathway::Vertical => ("6fd4685715", "formal learning"),
        Pathway::Horizontal => ("e207a81fc7", "non-formal learning"),
        Pathway::Diagonal => return None,
    };
    Some(concept(
        &format!("http://data.europa.eu/snb/learning-setting/{id}"),
        "http://data.europa.eu/snb/learning-setting/25831c2",
        label,
        None,
    ))
}

fn pathway_text(p: Pathway) -> &'static str {
    match p {
        Pathway::Vertical => {
            "vertical — formal and non-formal learning stacked with assessment, credit-bearing, counting towards a larger qualification"
        }
        Pathway::Horizontal => {
            "horizontal — short, life-wide learning, usually neither stackable nor credit-bearing"
        }
        Pathway::Diagonal => {
            "diagonal — informal and non-formal learning drawn together in a portfolio and formally assessed against transparent criteria"
        }
    }
}

/// `workload_hours` as an `xsd:duration` (`PT50H`, `PT12H30M`, `PT0H0M3.6S`).
fn duration(hours: Milli) -> String {
    // thousandths of an hour → tenths of a second: × 3600 s / 1000 × 10
    let tenths = hours.0.max(0) * 36;
    let (h, rest) = (tenths / 36_000, tenths % 36_000);
    let (m, t) = (rest / 600, rest % 600);
    let mut s = format!("PT{h}H");
    if m > 0 || t > 0 {
        s.push_str(&format!("{m}M"));
    }
    if t > 0 {
        if t % 10 == 0 {
            s.push_str(&format!("{}S", t / 10));
        } else {
            s.push_str(&format!("{}.{}S", t / 10, t % 10));
        }
    }
    s
}

fn qualification(rubric: &Rubric) -> Value {
    let cr = &rubric.credential;
    let mut q = Map::new();
    q.insert("id".into(), json!(rubric_node(rubric, "specification")));
    q.insert("type".into(), json!("Qualification"));
    q.insert("title".into(), lang(&rubric.title));
    q.insert("description".into(), lang(description(rubric)));
    q.insert("language".into(), english());
    q.insert("eqfLevel".into(), eqf_level(cr.eqf_level));
    q.insert("creditPoint".into(), credit_point(rubric));
    if let Some(h) = cr.workload_hours {
        q.insert("volumeOfLearning".into(), json!(duration(h)));
    }
    q.insert("mode".into(), mode(cr.participation));
    if let Some(s) = learning_setting(cr.pathway) {
        q.insert("learningSetting".into(), s);
    }
    q.insert(
        "learningOutcome".into(),
        Value::Array(
            rubric
                .outcomes
                .iter()
                .map(|o| {
                    json!({
                        "id": urn(&["elm", "learning-outcome", &rubric.id, &rubric.version, &o.id]),
                        "type": "LearningOutcome",
                        "title": lang(o.text.trim()),
                    })
                })
                .collect(),
        ),
    );
    if let Some(p) = cr
        .prerequisites
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        q.insert(
            "entryRequirement".into(),
            note(rubric_node(rubric, "entry-requirement"), p),
        );
    }
    let mut notes = vec![
        note(
            rubric_node(rubric, "note-pathway"),
            &format!("Pathway: {}.", pathway_text(cr.pathway)),
        ),
        note(
            rubric_node(rubric, "note-quality-assurance"),
            &format!("Type of quality assurance: {}", cr.quality_assurance.trim()),
        ),
    ];
    if let Some(s) = cr
        .stackability
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        notes.push(note(
            rubric_node(rubric, "note-stackability"),
            &format!("Integration and stackability: {s}"),
        ));
    }
    q.insert("additionalNote".into(), Value::Array(notes));
    if !cr.tags.is_empty() {
        q.insert("category".into(), json!({ LANG: cr.tags }));
    }
    q.insert("provenBy".into(), assessment_spec(rubric));
    Value::Object(q)
}

fn assessment_spec(rubric: &Rubric) -> Value {
    let cr = &rubric.credential;
    let mut s = Map::new();
    s.insert(
        "id".into(),
        json!(rubric_node(rubric, "assessment-specification")),
    );
    s.insert("type".into(), json!("LearningAssessmentSpecification"));
    s.insert(
        "title".into(),
        lang(&format!("Assessment: {}", rubric.title)),
    );
    s.insert("description".into(), lang(cr.assessment.trim()));
    s.insert("language".into(), english());
    s.insert(
        "gradingScheme".into(),
        json!({
            "id": rubric_node(rubric, "grading-scheme"),
            "type": "GradingScheme",
            "title": lang(&format!("Rubric {}", rubric.key())),
            "description": lang(&grading_text(rubric)),
        }),
    );
    if let Some(v) = cr
        .identity_verification
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        s.insert(
            "additionalNote".into(),
            json!([note(
                rubric_node(rubric, "note-identity-verification"),
                &format!("Supervision and identity verification: {v}"),
            )]),
        );
    }
    Value::Object(s)
}

/// The rubric's criteria, checks and decision rule in plain text.
fn grading_text(rubric: &Rubric) -> String {
    let mut parts = Vec::new();
    for c in &rubric.criteria {
        let levels: Vec<String> = c
            .levels
            .iter()
            .map(|l| format!("{} ({})", l.label, l.points))
            .collect();
        let meets = common::meeting_level(c)
            .map(|m| format!("; met at {} or above", m.label))
            .unwrap_or_default();
        parts.push(format!(
            "{} (weight {}{}{}): {}.",
            c.title,
            c.weight,
            if c.required { ", required" } else { "" },
            meets,
            levels.join(", ")
        ));
    }
    if !rubric.gates.is_empty() {
        let gates: Vec<&str> = rubric.gates.iter().map(|g| g.text.trim()).collect();
        parts.push(format!("Checks: {}", gates.join(" ")));
    }
    parts.push(common::decision_rule_text(rubric));
    parts.join("\n")
}

fn assessment(rubric: &Rubric, rec: &ExportRecord, ids: &Ids, awarding: &Value) -> Value {
    let grade = match (&rec.decision.grade, rubric.decision.grades.is_empty()) {
        (Some(g), false) => sanitize_line(g),
        _ => "Awarded".to_string(),
    };
    let mut parts = Vec::new();
    for c in &rubric.criteria {
        let Some((_, level)) = common::mark_for(rec, &c.id).and_then(|m| common::level_of(c, m))
        else {
            continue;
        };
        parts.push(json!({
            "id": ids.criterion_node("criterion-assessment", &c.id),
            "type": "LearningAssessment",
            "title": lang(&c.title),
            "description": lang(level.descriptor.trim()),
            "grade": note(ids.criterion_node("criterion-grade", &c.id), &level.label),
            "awardedBy": awarding,
        }));
    }
    let mut a = Map::new();
    a.insert("id".into(), json!(ids.node("learning-assessment")));
    a.insert("type".into(), json!("LearningAssessment"));
    a.insert(
        "title".into(),
        lang(&format!("Assessment: {}", rubric.title)),
    );
    a.insert(
        "description".into(),
        lang(&format!(
            "Score {}% against a pass mark of {}%.",
            common::score_text(rec.decision.score),
            rubric.decision.pass_mark
        )),
    );
    a.insert("grade".into(), note(ids.node("grade"), &grade));
    a.insert(
        "dateIssued".into(),
        json!(common::timestamp(&rec.decision.decided_at)),
    );
    a.insert("awardedBy".into(), awarding.clone());
    a.insert("specifiedBy".into(), assessment_spec(rubric));
    if !parts.is_empty() {
        a.insert("hasPart".into(), Value::Array(parts));
    }
    Value::Object(a)
}

fn plausible_email(e: &str) -> bool {
    e.len() <= 254
        && e.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '\\'))
}

fn display(rubric: &Rubric, rec: &ExportRecord, ids: &Ids) -> Value {
    let svg = display_svg(rubric, rec);
    json!({
        "id": ids.node("display-parameter"),
        "type": "DisplayParameter",
        "title": lang(&rubric.title),
        "description": lang(description(rubric)),
        "language": english(),
        "primaryLanguage": english(),
        "individualDisplay": {
            "id": ids.node("individual-display"),
            "type": "IndividualDisplay",
            "language": english(),
            "displayDetail": {
                "id": ids.node("display-detail"),
                "type": "DisplayDetail",
                "page": 1,
                "image": {
                    "id": ids.node("display-image"),
                    "type": "MediaObject",
                    "content": base64(svg.as_bytes()),
                    "contentEncoding": concept(
                        "http://data.europa.eu/snb/encoding/6146cde7dd",
                        "http://data.europa.eu/snb/encoding/25831c2",
                        "base64",
                        None,
                    ),
                    "contentType": concept(
                        "http://publications.europa.eu/resource/authority/file-type/SVG",
                        "http://publications.europa.eu/resource/authority/file-type",
                        "SVG",
                        Some("file-type"),
                    ),
                },
            },
        },
    })
}

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c => o.push(c),
        }
    }
    o
}

/// A one-page A4 landscape rendering of the credential, for `displayParameter`.
fn display_svg(rubric: &Rubric, rec: &ExportRecord) -> String {
    const W: usize = 1123;
    const H: usize = 794;
    let cr = &rubric.credential;
    // One line of centred text, shrunk to fit the width (about 0.55 em per character).
    let line = |y: usize, size: usize, weight: &str, text: &str| {
        let chars = text.chars().count().max(1);
        let fit = ((W - 160) as f64 / (chars as f64 * 0.55)) as usize;
        let size = size.min(fit).max(10);
        format!(
            "<text x=\"{}\" y=\"{y}\" font-size=\"{size}\" font-weight=\"{weight}\" text-anchor=\"middle\">{}</text>\n",
            W / 2,
            xml_escape(text)
        )
    };
    let grade = match (&rec.decision.grade, rubric.decision.grades.is_empty()) {
        (Some(g), false) => format!("Grade: {}", sanitize_line(g)),
        _ => "Awarded".to_string(),
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" fill=\"#1a1a1a\">\n\
         <rect width=\"{W}\" height=\"{H}\" fill=\"#ffffff\"/>\n\
         <rect x=\"24\" y=\"24\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"6\"/>\n",
        W - 48,
        H - 48
    );
    s.push_str(&line(130, 22, "normal", "Micro-credential"));
    s.push_str(&line(200, 44, "bold", &rubric.title));
    s.push_str(&line(270, 22, "normal", "awarded to"));
    s.push_str(&line(
        330,
        36,
        "bold",
        &sanitize_line(rec.learner.name.trim()),
    ));
    s.push_str(&line(
        400,
        22,
        "normal",
        &format!("by {}", cr.awarding_body.name),
    ));
    s.push_str(&line(
        470,
        22,
        "normal",
        &format!(
            "{} ECTS · EQF level {} · {}",
            cr.ects,
            cr.eqf_level,
            cr.participation.as_str()
        ),
    ));
    s.push_str(&line(520, 26, "bold", &grade));
    s.push_str(&line(
        640,
        18,
        "normal",
        &format!("Issued {}", common::date_of(&rec.released_at)),
    ));
    s.push_str("</svg>\n");
    s
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ABC[(n >> 18) as usize & 63] as char);
        out.push(ABC[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            ABC[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            ABC[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::process::Command;

    use super::*;
    use crate::domain::export::testkit;

    fn shacl_tool() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/elm_shacl.py")
    }

    fn pyshacl_available() -> bool {
        Command::new("python3")
            .args(["-c", "import pyshacl"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs the official SHACL shapes over every awarded record's credential when pyshacl is
    /// installed; says so and passes that part when it is not (CI has no pyshacl).
    #[test]
    fn conforms_to_the_official_shacl_shapes() {
        if !pyshacl_available() {
            eprintln!(
                "note: pyshacl is not installed; SHACL conformance not checked (pip install pyshacl)"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for (r, rec) in testkit::awarded().into_iter().chain([testkit::hostile()]) {
            let path = dir.path().join(format!("{}.json", rec.portfolio_id));
            let text = serde_json::to_string_pretty(&credential(&r, &rec)).unwrap();
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
        let out = Command::new("python3")
            .arg(shacl_tool())
            .args(&files)
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "SHACL validation failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout.matches("conforms (").count(),
            files.len(),
            "{stdout}"
        );
    }

    #[test]
    fn carries_the_micro_credential_elements() {
        for (r, rec) in testkit::awarded() {
            let doc = credential(&r, &rec);
            assert_eq!(doc["@context"], json!([VC_CONTEXT, EDC_CONTEXT]));
            assert_eq!(
                doc["type"],
                json!(["VerifiableCredential", "EuropeanDigitalCredential"])
            );
            assert_eq!(doc["issued"], "2026-03-20T09:00:00Z");
            assert_eq!(doc["validFrom"], doc["issued"]);
            let issuer = &doc["issuer"];
            assert_eq!(issuer["type"], "Organisation");
            assert_eq!(
                issuer["eIDASIdentifier"]["notation"],
                json!(r.credential.awarding_body.id)
            );
            assert_eq!(
                issuer["eIDASIdentifier"]["spatial"]["id"],
                "http://publications.europa.eu/resource/authority/country/IRL"
            );
            assert_eq!(
                issuer["location"]["address"]["countryCode"]["prefLabel"]["en"],
                "Ireland"
            );
            let subject = &doc["credentialSubject"];
            assert_eq!(subject["type"], "Person");
            assert_eq!(subject["fullName"]["en"], json!(rec.learner.name));
            let claim = &subject["hasClaim"];
            assert_eq!(claim["type"], "LearningAchievement");
            assert_eq!(claim["awardedBy"]["awardingBody"], *issuer);
            let spec = &claim["specifiedBy"];
            assert_eq!(spec["type"], "Qualification");
            assert_eq!(spec["title"]["en"], json!(r.title));
            assert_eq!(
                spec["eqfLevel"]["id"],
                json!(format!(
                    "http://data.europa.eu/snb/eqf/{}",
                    r.credential.eqf_level
                ))
            );
            assert_eq!(
                spec["creditPoint"]["point"],
                json!(r.credential.ects.to_string())
            );
            assert_eq!(
                spec["creditPoint"]["framework"]["prefLabel"]["en"],
                "European Credit Transfer System"
            );
            assert_eq!(
                spec["learningOutcome"].as_array().unwrap().len(),
                r.outcomes.len()
            );
            if let Some(h) = r.credential.workload_hours {
                assert_eq!(spec["volumeOfLearning"], json!(format!("PT{h}H")));
            }
            let assessment = &claim["provenBy"];
            assert_eq!(assessment["type"], "LearningAssessment");
            let grade = assessment["grade"]["noteLiteral"]["en"].as_str().unwrap();
            match &rec.decision.grade {
                Some(g) if !r.decision.grades.is_empty() => assert_eq!(grade, g),
                _ => assert_eq!(grade, "Awarded"),
            }
            let score = common::score_text(rec.decision.score);
            assert!(
                assessment["description"]["en"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("Score {score}% against a pass mark of")),
            );
            assert_eq!(
                assessment["hasPart"].as_array().unwrap().len(),
                rec.marks.len()
            );
            assert!(
                doc["displayParameter"]["individualDisplay"]["displayDetail"]["image"]["content"]
                    .is_string()
            );
        }
    }

    #[test]
    fn maps_the_dlp_specifics() {
        let (r, rec) = testkit::dlp_awarded();
        let doc = credential(&r, &rec);
        let subject = &doc["credentialSubject"];
        assert_eq!(
            subject["contactPoint"]["emailAddress"]["id"],
            "mailto:Aoife.NiBhriain@Example.org"
        );
        assert_eq!(subject["identifier"]["notation"], "L-1138");
        let spec = &subject["hasClaim"]["specifiedBy"];
        assert_eq!(spec["mode"]["prefLabel"]["en"], "Online");
        assert!(spec.get("learningSetting").is_none(), "diagonal has none");
        let notes: Vec<&str> = spec["additionalNote"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["noteLiteral"]["en"].as_str().unwrap())
            .collect();
        assert!(notes[0].starts_with("Pathway: diagonal"));
        assert!(notes[1].starts_with("Type of quality assurance: Institute QA policy"));
        assert!(notes[2].starts_with("Integration and stackability: Stand-alone."));
        assert!(
            spec["entryRequirement"]["noteLiteral"]["en"]
                .as_str()
                .unwrap()
                .starts_with("None formally.")
        );
        let parts = subject["hasClaim"]["provenBy"]["hasPart"]
            .as_array()
            .unwrap();
        assert_eq!(parts[0]["title"]["en"], "Data preparation");
        assert_eq!(
            parts[0]["grade"]["noteLiteral"]["en"],
            "Demonstrated with distinction"
        );
        // A learner without an email has no contact point.
        let (r, rec) = testkit::adv_awarded();
        let doc = credential(&r, &rec);
        assert!(doc["credentialSubject"].get("contactPoint").is_none());
        let spec = &doc["credentialSubject"]["hasClaim"]["specifiedBy"];
        assert_eq!(
            spec["learningSetting"]["prefLabel"]["en"],
            "formal learning"
        );
        assert_eq!(spec["mode"]["prefLabel"]["en"], "Blended");
    }

    #[test]
    fn awkward_learner_text_is_cleaned() {
        let (r, rec) = testkit::hostile();
        let doc = credential(&r, &rec);
        let subject = &doc["credentialSubject"];
        let name = subject["fullName"]["en"].as_str().unwrap();
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert!(
            name.contains("<b>Andromeda</b>"),
            "JSON carries text, not markup"
        );
        assert!(subject.get("contactPoint").is_none(), "not an email");
        assert_eq!(doc["issued"], "2026-03-20T09:00:00Z");
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let (r, rec) = testkit::dlp_awarded();
        let a = credential(&r, &rec);
        assert_eq!(a, credential(&r, &rec));
        let mut other = rec.clone();
        other.decision.id += 1;
        let b = credential(&r, &other);
        assert_ne!(a["id"], b["id"]);
        assert_ne!(
            a["credentialSubject"]["hasClaim"]["id"],
            b["credentialSubject"]["hasClaim"]["id"]
        );
        // The rubric's nodes and the learner are shared.
        assert_eq!(
            a["credentialSubject"]["hasClaim"]["specifiedBy"],
            b["credentialSubject"]["hasClaim"]["specifiedBy"]
        );
        assert_eq!(a["credentialSubject"]["id"], b["credentialSubject"]["id"]);
        // Not the Open Badges credential's id.
        assert_ne!(
            a["id"],
            crate::domain::export::obv3::credential(&r, &rec)["id"]
        );
    }

    #[test]
    fn durations_and_base64() {
        assert_eq!(duration(Milli::from_int(50)), "PT50H");
        assert_eq!(duration(Milli(12_500)), "PT12H30M");
        assert_eq!(duration(Milli(1)), "PT0H0M3.6S");
        assert_eq!(duration(Milli(1_010)), "PT1H0M36S");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn unknown_country_codes_get_the_provisional_concept() {
        let (mut r, rec) = testkit::she_awarded(true);
        r.credential.awarding_body.country = "XK".into();
        let doc = credential(&r, &rec);
        assert_eq!(
            doc["issuer"]["eIDASIdentifier"]["spatial"]["id"],
            "http://publications.europa.eu/resource/authority/country/OP_DATPRO"
        );
    }
}
