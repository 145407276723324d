//! Open Badges 3.0: an unsigned `OpenBadgeCredential` (W3C VC data model 2.0) for one awarded
//! decision. It validates against 1EdTech's JSON Schema
//! (`shared/schemas/ob_v3p0_achievementcredential.schema.json`); the issuing system signs it.
//!
//! # Mapping
//!
//! | assay | Open Badges 3.0 |
//! |---|---|
//! | workspace, portfolio, decision ids | credential `id`: `urn:uuid:` + UUID v5 in assay's fixed export namespace `4bbba1f8-0df9-4ed0-977a-c59045b79db6` |
//! | `released_at` | `validFrom`, `awardedDate` (UTC) |
//! | `credential.awarding_body` | `issuer` and `achievement.creator`: a `Profile` whose `id` is `awarding_body.id` when it is an `http(s)`, `urn:` or `did:` URI, else a v5 `urn:uuid` derived from it (then the raw id also goes in `otherIdentifier`); `url` when it is a web address; `address.addressCountryCode` = `country` |
//! | rubric `id`, `version` | `achievement.id` (v5 from both), `humanCode` (`id@version`), `version` |
//! | `title`, `summary` | `name` (credential and achievement), `description` (summary, else title) |
//! | learning outcomes, criteria, gates, decision rule | `criteria.narrative`, in Markdown |
//! | `ects` | `achievement.creditsAvailable`, `credentialSubject.creditsEarned` |
//! | `eqf_level` | an `alignment` to the EQF concept `http://data.europa.eu/snb/eqf/N`, and the extension |
//! | `tags` | `tag` |
//! | each criterion | a `resultDescription` (`RubricCriterionLevel`, one `rubricCriterionLevel` per level: `name` = label, `description` = descriptor, `level` = level id, `points` as text; `requiredLevel` = the meeting level when the criterion is required) and a `result` whose `achievedLevel` is the level reached |
//! | score | a `Percent` `resultDescription` (`requiredValue` = pass mark) and a `result` whose `value` is the score |
//! | grade bands, grade | a `LetterGrade` `resultDescription` (`allowedValue`: lowest first) and a `result` with the grade |
//! | learner email, else learner id | `credentialSubject.identifier[0]`: `IdentityObject`, `hashed: true`, `identityHash` = `sha256$` + hex(SHA-256(identifier ‖ salt)), `identityType` `emailAddress` or `identifier` |
//! | evidence items | `evidence[]`: `name` = title, `narrative` = note, claimed criteria, date and hours, `genre` = kind of learning, `id` = the url when it is one |
//!
//! The learner's name, id and email never appear in clear: the subject carries only the salted
//! hash, and the learner's own texts (evidence titles and notes) have any occurrence of them
//! replaced by `[the learner]`. Assessor and moderator names are not exported either.
//!
//! The hash appends the salt to the identifier, as the OB 3.0 `IdentityHash` type prescribes
//! (its example: `a@example.com` salted with `Kosher` hashes `a@example.comKosher`). The email
//! is trimmed and lower-cased first, so a verifier who types it in another case still matches.
//!
//! # EU micro-credential elements
//!
//! Open Badges has no field for most elements of the Council Recommendation's Annex I. Where
//! one fits they use it (ECTS → `creditsAvailable`, country → issuer `address`, EQF level →
//! `alignment`); all of them are also carried, together, in one extension object on the
//! `Achievement` under the key [`EXT_KEY`] (`assay:euMicroCredential`):
//!
//! ```json
//! "assay:euMicroCredential": {
//!   "assay:eqfLevel": 5, "assay:ects": 2, "assay:workloadHours": 50,
//!   "assay:pathway": "diagonal", "assay:participation": "online",
//!   "assay:assessment": "…", "assay:qualityAssurance": "…",
//!   "assay:prerequisites": "…", "assay:identityVerification": "…", "assay:stackability": "…",
//!   "assay:awardingBodyCountry": "IE",
//!   "assay:rubricId": "…", "assay:rubricVersion": "…", "assay:rubricSha256": "…",
//!   "assay:moderated": true, "assay:decisionSource": "first-marking",
//!   "assay:settlement": "confirmed"
//! }
//! ```
//!
//! Why there and in that form: the schema's `Achievement` has `additionalProperties: true`
//! (only `IdentityObject`, `IdentifierEntry` and `Image` are closed), so an extra property on
//! the achievement validates; and the schema lets `@context` carry objects after its first two
//! entries, so the prefix `assay` is defined by an inline context object appended to
//! `@context` (`{"assay": EXT_NS}`). Every key of the extension is then a compact IRI that
//! expands to a full IRI in [`EXT_NS`] under JSON-LD processing, without redefining any
//! protected term of the VC or OB contexts. Optional elements the rubric leaves out are left
//! out. [`EXT_NS`] sits under the reserved `.example` domain because the project has no domain
//! of its own yet: replace it with an IRI the project controls before production use.

use serde_json::{Map, Value, json};

use super::ExportRecord;
use super::common::{self, urn};
use super::countries;
use crate::domain::decision::Outcome;
use crate::domain::rubric::{Criterion, Rubric};
use crate::domain::sanitize::sanitize_line;

/// The W3C Verifiable Credentials 2.0 context, first in `@context`.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
/// The Open Badges 3.0.3 context, second in `@context`.
pub const OB_CONTEXT: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// The namespace of assay's extension terms (see the module documentation).
pub const EXT_NS: &str = "https://assay.example/ns/eu-microcredential#";
/// The key of the EU micro-credential extension object on the achievement.
pub const EXT_KEY: &str = "assay:euMicroCredential";

/// Maps one awarded decision to an unsigned `OpenBadgeCredential`. Only awarded decisions are
/// exported in this format; the caller filters.
pub fn credential(rubric: &Rubric, rec: &ExportRecord) -> Value {
    debug_assert_eq!(
        rec.decision.outcome,
        Outcome::Awarded,
        "only awarded decisions become Open Badges credentials"
    );
    let id = credential_id(rec);
    let issuer = profile(rubric);
    let when = common::timestamp(&rec.released_at);
    let description = common::summary_or_title(rubric);

    let (identity, identity_type) = common::learner_identity(rec);
    let mut subject = Map::new();
    subject.insert("type".into(), json!(["AchievementSubject"]));
    subject.insert(
        "identifier".into(),
        json!([{
            "type": "IdentityObject",
            "identityHash": common::identity_hash(&identity, &rec.salt),
            "identityType": identity_type,
            "hashed": true,
            "salt": rec.salt,
        }]),
    );
    subject.insert("achievement".into(), achievement(rubric, rec, &issuer));
    subject.insert("creditsEarned".into(), json!(rubric.credential.ects));
    subject.insert("result".into(), Value::Array(results(rubric, rec)));

    let mut cred = Map::new();
    cred.insert(
        "@context".into(),
        json!([VC_CONTEXT, OB_CONTEXT, { "assay": EXT_NS }]),
    );
    cred.insert("id".into(), json!(id));
    cred.insert(
        "type".into(),
        json!(["VerifiableCredential", "OpenBadgeCredential"]),
    );
    cred.insert("name".into(), json!(rubric.title));
    cred.insert("description".into(), json!(description));
    cred.insert("issuer".into(), issuer);
    cred.insert("validFrom".into(), json!(when));
    cred.insert("awardedDate".into(), json!(when));
    cred.insert("credentialSubject".into(), Value::Object(subject));
    let evidence = evidence(rubric, rec);
    if !evidence.is_empty() {
        cred.insert("evidence".into(), Value::Array(evidence));
    }
    Value::Object(cred)
}

/// The credential's id: a v5 `urn:uuid` of the workspace, portfolio and decision ids.
pub fn credential_id(rec: &ExportRecord) -> String {
    let [ws, portfolio, decision] = common::decision_parts(rec);
    credential_id_of(&ws, &portfolio, decision.parse().unwrap_or_default())
}

/// [`credential_id`] from its parts.
pub fn credential_id_of(workspace: &str, portfolio: &str, decision: i64) -> String {
    urn(&[
        "obv3",
        "credential",
        workspace,
        portfolio,
        &decision.to_string(),
    ])
}

/// The awarding body as an OB `Profile`.
fn profile(rubric: &Rubric) -> Value {
    let body = &rubric.credential.awarding_body;
    let mut p = Map::new();
    let raw_is_uri = common::is_uri(&body.id);
    let id = if raw_is_uri {
        body.id.clone()
    } else {
        urn(&["awarding-body", &body.id])
    };
    p.insert("id".into(), json!(id));
    p.insert("type".into(), json!(["Profile"]));
    p.insert("name".into(), json!(body.name));
    if common::is_http_url(&body.id) {
        p.insert("url".into(), json!(body.id));
    }
    let mut address = Map::new();
    address.insert("type".into(), json!(["Address"]));
    address.insert("addressCountryCode".into(), json!(body.country));
    if let Some((_, name)) = countries::by_alpha2(&body.country) {
        address.insert("addressCountry".into(), json!(name));
    }
    p.insert("address".into(), Value::Object(address));
    if !raw_is_uri {
        p.insert(
            "otherIdentifier".into(),
            json!([{
                "type": "IdentifierEntry",
                "identifier": body.id,
                "identifierType": "identifier",
            }]),
        );
    }
    Value::Object(p)
}

fn criterion_rd_id(rubric: &Rubric, c: &Criterion) -> String {
    urn(&["criterion", &rubric.id, &rubric.version, &c.id])
}

fn level_id(rubric: &Rubric, c: &Criterion, level: &str) -> String {
    urn(&["level", &rubric.id, &rubric.version, &c.id, level])
}

fn score_rd_id(rubric: &Rubric) -> String {
    urn(&["score", &rubric.id, &rubric.version])
}

fn grade_rd_id(rubric: &Rubric) -> String {
    urn(&["grade", &rubric.id, &rubric.version])
}

fn achievement(rubric: &Rubric, rec: &ExportRecord, issuer: &Value) -> Value {
    let cr = &rubric.credential;
    let mut a = Map::new();
    a.insert(
        "id".into(),
        json!(urn(&["achievement", &rubric.id, &rubric.version])),
    );
    a.insert("type".into(), json!(["Achievement"]));
    a.insert("achievementType".into(), json!("MicroCredential"));
    a.insert("name".into(), json!(rubric.title));
    a.insert(
        "description".into(),
        json!(common::summary_or_title(rubric)),
    );
    a.insert("criteria".into(), json!({ "narrative": narrative(rubric) }));
    a.insert("creditsAvailable".into(), json!(cr.ects));
    a.insert("humanCode".into(), json!(rubric.key()));
    a.insert("version".into(), json!(rubric.version));
    a.insert("creator".into(), issuer.clone());
    if !cr.tags.is_empty() {
        a.insert("tag".into(), json!(cr.tags));
    }
    a.insert(
        "alignment".into(),
        json!([{
            "type": ["Alignment"],
            "targetName": format!("EQF level {}", cr.eqf_level),
            "targetDescription": format!(
                "Level {} of the European Qualifications Framework for lifelong learning.",
                cr.eqf_level
            ),
            "targetFramework": "European Qualifications Framework (EQF)",
            "targetCode": cr.eqf_level.to_string(),
            "targetUrl": format!("http://data.europa.eu/snb/eqf/{}", cr.eqf_level),
        }]),
    );
    a.insert(
        "resultDescription".into(),
        Value::Array(result_descriptions(rubric)),
    );
    a.insert(EXT_KEY.into(), eu_extension(rubric, rec));
    Value::Object(a)
}

/// The EU micro-credential elements that Open Badges has no field for (see the module docs).
fn eu_extension(rubric: &Rubric, rec: &ExportRecord) -> Value {
    let cr = &rubric.credential;
    let mut e = Map::new();
    let mut put = |k: &str, v: Value| {
        e.insert(format!("assay:{k}"), v);
    };
    put("eqfLevel", json!(cr.eqf_level));
    put("ects", json!(cr.ects));
    if let Some(h) = cr.workload_hours {
        put("workloadHours", json!(h));
    }
    put("pathway", json!(cr.pathway.as_str()));
    put("participation", json!(cr.participation.as_str()));
    put("assessment", json!(cr.assessment.trim()));
    put("qualityAssurance", json!(cr.quality_assurance.trim()));
    for (k, v) in [
        ("prerequisites", &cr.prerequisites),
        ("identityVerification", &cr.identity_verification),
        ("stackability", &cr.stackability),
    ] {
        if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            put(k, json!(v));
        }
    }
    put("awardingBodyCountry", json!(cr.awarding_body.country));
    put("rubricId", json!(rubric.id));
    put("rubricVersion", json!(rubric.version));
    put("rubricSha256", json!(rubric.sha256));
    put("moderated", json!(rec.moderation.is_some()));
    // Which marking the award rests on, and how moderation settled it (no names: staff are not
    // named in a credential; no rationale: that is internal).
    put(
        "decisionSource",
        json!(match rec.decision.source {
            super::Source::FirstMarking => "first-marking",
            super::Source::SecondMarking => "second-marking",
        }),
    );
    if let Some(m) = &rec.moderation {
        put("settlement", json!(m.settlement));
    }
    Value::Object(e)
}

fn result_descriptions(rubric: &Rubric) -> Vec<Value> {
    let mut out = Vec::new();
    for c in &rubric.criteria {
        let levels: Vec<Value> = c
            .levels
            .iter()
            .map(|l| {
                json!({
                    "id": level_id(rubric, c, &l.id),
                    "type": ["RubricCriterionLevel"],
                    "name": l.label,
                    "description": l.descriptor.trim(),
                    "level": l.id,
                    "points": l.points.to_string(),
                })
            })
            .collect();
        let mut rd = Map::new();
        rd.insert("id".into(), json!(criterion_rd_id(rubric, c)));
        rd.insert("type".into(), json!(["ResultDescription"]));
        rd.insert("name".into(), json!(c.title));
        rd.insert("resultType".into(), json!("RubricCriterionLevel"));
        rd.insert("rubricCriterionLevel".into(), Value::Array(levels));
        if c.required
            && let Some(m) = common::meeting_level(c)
        {
            rd.insert("requiredLevel".into(), json!(level_id(rubric, c, &m.id)));
        }
        out.push(Value::Object(rd));
    }
    out.push(json!({
        "id": score_rd_id(rubric),
        "type": ["ResultDescription"],
        "name": "Weighted score (percent)",
        "resultType": "Percent",
        "valueMin": "0",
        "valueMax": "100",
        "requiredValue": rubric.decision.pass_mark.to_string(),
    }));
    if !rubric.decision.grades.is_empty() {
        let allowed: Vec<&str> = common::grades_low_to_high(rubric)
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        out.push(json!({
            "id": grade_rd_id(rubric),
            "type": ["ResultDescription"],
            "name": "Grade",
            "resultType": "LetterGrade",
            "allowedValue": allowed,
        }));
    }
    out
}

fn results(rubric: &Rubric, rec: &ExportRecord) -> Vec<Value> {
    let mut out = Vec::new();
    for c in &rubric.criteria {
        let Some(mark) = common::mark_for(rec, &c.id) else {
            continue;
        };
        let Some((_, level)) = common::level_of(c, mark) else {
            continue;
        };
        out.push(json!({
            "type": ["Result"],
            "resultDescription": criterion_rd_id(rubric, c),
            "achievedLevel": level_id(rubric, c, &level.id),
        }));
    }
    out.push(json!({
        "type": ["Result"],
        "resultDescription": score_rd_id(rubric),
        "value": common::score_text(rec.decision.score),
    }));
    if let Some(g) = &rec.decision.grade
        && !rubric.decision.grades.is_empty()
    {
        out.push(json!({
            "type": ["Result"],
            "resultDescription": grade_rd_id(rubric),
            "value": g,
        }));
    }
    out
}

/// What had to be shown, in Markdown: outcomes, criteria with their meeting level, checks and
/// the decision rule.
fn narrative(rubric: &Rubric) -> String {
    let cr = &rubric.credential;
    let mut s = String::new();
    s.push_str(&format!(
        "**{}** — {} ECTS, EQF level {}, awarded by {}.\n\n",
        rubric.title, cr.ects, cr.eqf_level, cr.awarding_body.name
    ));
    s.push_str("## Learning outcomes\n\nThe holder has shown that they can:\n\n");
    for o in &rubric.outcomes {
        s.push_str(&format!("- **{}** {}\n", o.id, o.text.trim()));
    }
    s.push_str(&format!(
        "\n## Assessment\n\n{}\n\n## Criteria\n\n",
        cr.assessment.trim()
    ));
    s.push_str(
        "Each criterion is judged against its level descriptors. A criterion is demonstrated at its meeting level or any level above it.\n",
    );
    for (i, c) in rubric.criteria.iter().enumerate() {
        let mut tags = Vec::new();
        if c.required {
            tags.push("required".to_string());
        }
        tags.push(format!("weight {}", c.weight));
        tags.push(format!("outcomes {}", c.outcomes.join(", ")));
        s.push_str(&format!(
            "\n### {}. {} ({})\n\n",
            i + 1,
            c.title,
            tags.join("; ")
        ));
        match common::meeting_level(c) {
            Some(m) => s.push_str(&format!(
                "To meet it — **{}** ({} of {} points): {}\n\n",
                m.label,
                m.points,
                c.max_points(),
                m.descriptor.trim()
            )),
            None => s.push_str("No level of this criterion is marked as meeting it; its points count towards the score.\n\n"),
        }
        let levels: Vec<String> = c
            .levels
            .iter()
            .map(|l| format!("{} ({})", l.label, l.points))
            .collect();
        s.push_str(&format!("Levels, lowest first: {}.\n", levels.join(" · ")));
    }
    if !rubric.gates.is_empty() {
        s.push_str("\n## Checks\n\nEvery check must be confirmed before an award:\n\n");
        for g in &rubric.gates {
            s.push_str(&format!("- {}\n", g.text.trim()));
        }
    }
    s.push_str(&format!(
        "\n## Decision\n\n{}\n",
        common::decision_rule_text(rubric)
    ));
    s
}

/// The portfolio's evidence, described without its content.
fn evidence(rubric: &Rubric, rec: &ExportRecord) -> Vec<Value> {
    rec.evidence
        .iter()
        .map(|e| {
            let mut parts = Vec::new();
            if let Some(n) = e.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                parts.push(crate::domain::sanitize::sanitize_for_file(n));
            }
            if !e.claims.is_empty() {
                let claims: Vec<String> = e
                    .claims
                    .iter()
                    .map(|c| match rubric.criterion(c) {
                        Some(cr) => format!("{} ({})", cr.title, cr.id),
                        None => sanitize_line(c),
                    })
                    .collect();
                parts.push(format!("Offered for: {}.", claims.join("; ")));
            }
            let mut when = format!("Dated {}.", sanitize_line(&e.date));
            if let Some(h) = e.hours.filter(|h| h.is_finite() && *h > 0.0) {
                when.push_str(&format!(
                    " About {} hours of learning.",
                    common::score_text(h)
                ));
            }
            parts.push(when);
            let mut ev = Map::new();
            if let Some(url) = e.url.as_deref().map(str::trim)
                && common::is_http_url(url)
                && !mentions_learner(url, rec)
            {
                ev.insert("id".into(), json!(url));
            }
            ev.insert("type".into(), json!(["Evidence"]));
            ev.insert("name".into(), json!(redact(&sanitize_line(&e.title), rec)));
            ev.insert("narrative".into(), json!(redact(&parts.join("\n\n"), rec)));
            ev.insert("genre".into(), json!(common::learning_kind(&e.kind)));
            Value::Object(ev)
        })
        .collect()
}

/// The learner's identifying strings worth looking for in free text.
fn learner_needles(rec: &ExportRecord) -> Vec<String> {
    let mut v = Vec::new();
    for s in [
        Some(rec.learner.name.as_str()),
        Some(rec.learner.id.as_str()),
        rec.learner.email.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        let s = s.trim();
        if s.chars().count() >= 3 {
            v.push(s.to_string());
        }
    }
    // Longest first, so an email is replaced before a name inside it.
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}

fn mentions_learner(text: &str, rec: &ExportRecord) -> bool {
    let hay = text.to_ascii_lowercase();
    learner_needles(rec)
        .iter()
        .any(|n| hay.contains(&n.to_ascii_lowercase()))
}

/// Replaces every occurrence (ASCII case-insensitive) of the learner's name, id or email in
/// `text` with `[the learner]`.
fn redact(text: &str, rec: &ExportRecord) -> String {
    let mut out = text.to_string();
    for needle in learner_needles(rec) {
        let n = needle.to_ascii_lowercase();
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        // ASCII lower-casing keeps byte offsets, so positions found in the lowered copy are
        // valid in the original.
        loop {
            let lower = rest.to_ascii_lowercase();
            match lower.find(&n) {
                Some(i) => {
                    result.push_str(&rest[..i]);
                    result.push_str("[the learner]");
                    rest = &rest[i + n.len()..];
                }
                None => {
                    result.push_str(rest);
                    break;
                }
            }
        }
        out = result;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::testkit;

    const SCHEMA: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/schemas/ob_v3p0_achievementcredential.schema.json"
    ));

    fn validator() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the OB schema is JSON");
        // Every `$ref` in the schema is local (`#/$defs/…`) and its `$schema` is draft 2019-09,
        // whose meta-schema jsonschema bundles: nothing is fetched. Formats (`date-time`) are
        // checked too.
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the OB schema compiles offline")
    }

    fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
        v.iter_errors(doc)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }

    #[test]
    fn every_awarded_record_validates_against_the_ob_schema() {
        let v = validator();
        for (r, rec) in testkit::awarded() {
            let doc = credential(&r, &rec);
            let errs = errors(&v, &doc);
            assert!(
                errs.is_empty(),
                "{} does not validate:\n{}",
                rec.portfolio_id,
                errs.join("\n")
            );
        }
    }

    #[test]
    fn the_validator_rejects_what_the_schema_forbids() {
        // The schema check is not vacuous: a closed object with an extra key, a wrong
        // identityType and a missing validFrom are each refused.
        let v = validator();
        let (r, rec) = testkit::dlp_awarded();
        let good = credential(&r, &rec);
        let mut bad = good.clone();
        bad["credentialSubject"]["identifier"][0]["name"] = json!("x");
        assert!(!errors(&v, &bad).is_empty());
        let mut bad = good.clone();
        bad["credentialSubject"]["identifier"][0]["identityType"] = json!("email");
        assert!(!errors(&v, &bad).is_empty());
        let mut bad = good.clone();
        bad.as_object_mut().unwrap().remove("validFrom");
        assert!(!errors(&v, &bad).is_empty());
        let mut bad = good;
        bad["validFrom"] = json!("20 March 2026");
        assert!(!errors(&v, &bad).is_empty());
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let (r, rec) = testkit::dlp_awarded();
        let a = credential(&r, &rec);
        let b = credential(&r, &rec);
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let mut other = rec.clone();
        other.decision.id += 1;
        let c = credential(&r, &other);
        assert_ne!(a["id"], c["id"]);
        // The achievement and its result descriptions belong to the rubric, not the decision.
        assert_eq!(
            a["credentialSubject"]["achievement"],
            c["credentialSubject"]["achievement"]
        );
        let mut other_ws = rec.clone();
        other_ws.workspace_id = "another-workspace".into();
        assert_ne!(a["id"], credential(&r, &other_ws)["id"]);
        assert!(a["id"].as_str().unwrap().starts_with("urn:uuid:"));
    }

    #[test]
    fn no_learner_identifier_appears_in_clear() {
        for (r, rec) in testkit::awarded() {
            let text = serde_json::to_string_pretty(&credential(&r, &rec)).unwrap();
            let lower = text.to_lowercase();
            let mut needles = vec![rec.learner.name.clone(), rec.learner.id.clone()];
            needles.extend(rec.learner.email.clone());
            for n in needles {
                assert!(
                    !lower.contains(&n.to_lowercase()),
                    "{} appears in the credential of {}",
                    n,
                    rec.portfolio_id
                );
            }
        }
    }

    #[test]
    fn subject_identifies_by_salted_hash() {
        let (r, rec) = testkit::dlp_awarded();
        let doc = credential(&r, &rec);
        let id = &doc["credentialSubject"]["identifier"][0];
        assert_eq!(id["identityType"], "emailAddress");
        assert_eq!(id["hashed"], true);
        assert_eq!(id["salt"], rec.salt);
        // Email trimmed and lower-cased, then the salt appended.
        let expected = common::identity_hash("aoife.nibhriain@example.org", &rec.salt);
        assert_eq!(id["identityHash"], json!(expected));

        let (r, rec) = testkit::adv_awarded();
        let id = &credential(&r, &rec)["credentialSubject"]["identifier"][0];
        assert_eq!(id["identityType"], "identifier");
        assert_eq!(
            id["identityHash"],
            json!(common::identity_hash("S20261234", &rec.salt))
        );
    }

    #[test]
    fn results_point_at_the_levels_reached() {
        let (r, rec) = testkit::dlp_awarded();
        let doc = credential(&r, &rec);
        let ach = &doc["credentialSubject"]["achievement"];
        let rds = ach["resultDescription"].as_array().unwrap();
        let results = doc["credentialSubject"]["result"].as_array().unwrap();
        for m in &rec.marks {
            let c = r.criterion(&m.criterion).unwrap();
            let rd = rds
                .iter()
                .find(|rd| rd["name"] == json!(c.title))
                .expect("a result description per criterion");
            assert_eq!(rd["resultType"], "RubricCriterionLevel");
            let levels = rd["rubricCriterionLevel"].as_array().unwrap();
            assert_eq!(levels.len(), c.levels.len());
            let reached = levels
                .iter()
                .find(|l| l["level"] == json!(m.level))
                .unwrap();
            assert!(reached["points"].is_string());
            let res = results
                .iter()
                .find(|x| x["resultDescription"] == rd["id"])
                .expect("a result per criterion");
            assert_eq!(res["achievedLevel"], reached["id"]);
        }
        // C1 is required: its meeting level is the required level.
        let c1 = rds
            .iter()
            .find(|rd| rd["name"] == "Data preparation")
            .unwrap();
        let meets = c1["rubricCriterionLevel"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["level"] == "meets")
            .unwrap();
        assert_eq!(c1["requiredLevel"], meets["id"]);
        // The grade.
        let grade_rd = rds
            .iter()
            .find(|rd| rd["resultType"] == "LetterGrade")
            .unwrap();
        assert_eq!(
            grade_rd["allowedValue"],
            json!(["Pass", "Merit", "Distinction"])
        );
        let grade = results
            .iter()
            .find(|x| x["resultDescription"] == grade_rd["id"])
            .unwrap();
        assert_eq!(grade["value"], json!(rec.decision.grade.clone().unwrap()));
        // The score against the pass mark.
        let score_rd = rds.iter().find(|rd| rd["resultType"] == "Percent").unwrap();
        assert_eq!(score_rd["requiredValue"], "60");
        let score = results
            .iter()
            .find(|x| x["resultDescription"] == score_rd["id"])
            .unwrap();
        assert_eq!(
            score["value"],
            json!(common::score_text(rec.decision.score))
        );
    }

    #[test]
    fn ungraded_rubric_has_no_grade() {
        let (r, rec) = testkit::she_awarded(false);
        assert!(rec.decision.grade.is_none());
        let doc = credential(&r, &rec);
        let rds = doc["credentialSubject"]["achievement"]["resultDescription"]
            .as_array()
            .unwrap();
        assert!(rds.iter().all(|rd| rd["resultType"] != "LetterGrade"));
        assert!(
            doc["credentialSubject"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["resultDescription"] != json!(grade_rd_id(&r)))
        );
    }

    #[test]
    fn carries_the_credential_elements() {
        let (r, rec) = testkit::dlp_awarded();
        let doc = credential(&r, &rec);
        assert_eq!(doc["@context"][0], VC_CONTEXT);
        assert_eq!(doc["@context"][1], OB_CONTEXT);
        assert_eq!(doc["@context"][2], json!({ "assay": EXT_NS }));
        assert_eq!(doc["validFrom"], "2026-03-20T09:00:00Z");
        assert_eq!(
            doc["issuer"]["id"],
            "https://example.edu/flexible-learning/"
        );
        assert_eq!(doc["issuer"]["address"]["addressCountryCode"], "IE");
        let ach = &doc["credentialSubject"]["achievement"];
        assert_eq!(ach["achievementType"], "MicroCredential");
        assert_eq!(ach["creditsAvailable"], json!(2));
        assert_eq!(ach["humanCode"], "data-literacy-practitioner@2026.1");
        assert_eq!(ach["tag"][0], "data");
        assert_eq!(
            ach["alignment"][0]["targetUrl"],
            "http://data.europa.eu/snb/eqf/5"
        );
        let ext = &ach[EXT_KEY];
        assert_eq!(ext["assay:eqfLevel"], 5);
        assert_eq!(ext["assay:workloadHours"], json!(50));
        assert_eq!(ext["assay:pathway"], "diagonal");
        assert_eq!(ext["assay:participation"], "online");
        assert_eq!(ext["assay:awardingBodyCountry"], "IE");
        assert_eq!(ext["assay:rubricSha256"], json!(r.sha256));
        assert_eq!(ext["assay:moderated"], true);
        assert!(
            ext["assay:qualityAssurance"]
                .as_str()
                .unwrap()
                .contains("QQI")
        );
        assert!(ext["assay:stackability"].is_string());
        let narrative = ach["criteria"]["narrative"].as_str().unwrap();
        for needle in [
            "## Learning outcomes",
            "**LO4** Handle data lawfully",
            "### 1. Data preparation (required; weight 2; outcomes LO1)",
            "To meet it — **Demonstrated** (2 of 3 points): Cleans a real data set",
            "## Checks",
            "the score is at least the pass mark of 60%",
            "Distinction from 85%",
        ] {
            assert!(
                narrative.contains(needle),
                "narrative lacks {needle:?}:\n{narrative}"
            );
        }
    }

    #[test]
    fn evidence_is_described_without_content_or_learner() {
        let (r, rec) = testkit::dlp_awarded();
        let doc = credential(&r, &rec);
        let ev = doc["evidence"].as_array().unwrap();
        assert_eq!(ev.len(), rec.evidence.len());
        assert_eq!(ev[0]["genre"], "Informal learning");
        assert_eq!(ev[1]["genre"], "Non-formal learning");
        assert!(ev[0].get("id").is_none(), "a file is not a URL");
        assert_eq!(ev[2]["id"], "https://public.example.org/views/food-parcels");
        let n0 = ev[0]["narrative"].as_str().unwrap();
        assert!(n0.contains("Report by [the learner] (learner [the learner]) for the committee."));
        assert!(n0.contains("Offered for: Data preparation (C1); Critical interpretation (C3)."));
        assert!(n0.contains("Dated 2025-06. About 12 hours of learning."));
        assert!(
            ev[2]["narrative"]
                .as_str()
                .unwrap()
                .contains("write to [the learner].")
        );
    }

    #[test]
    fn awkward_learner_text_still_validates_and_stays_hidden() {
        let (r, rec) = testkit::hostile();
        let doc = credential(&r, &rec);
        let errs = errors(&validator(), &doc);
        assert!(errs.is_empty(), "{}", errs.join("\n"));
        assert_eq!(doc["validFrom"], "2026-03-20T09:00:00Z");
        let ev = &doc["evidence"][0];
        assert!(ev.get("id").is_none(), "a javascript: link is not evidence");
        let narrative = ev["narrative"].as_str().unwrap();
        assert!(!narrative.chars().any(|c| c.is_control() && c != '\n'));
        assert!(!narrative.contains('\u{202e}'));
        assert!(narrative.contains("Data preparation (C1)"));
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains("Andromeda"));
        assert!(!text.contains("not an email"));
    }

    #[test]
    fn a_non_uri_awarding_body_id_gets_a_urn() {
        let (mut r, rec) = testkit::she_awarded(true);
        r.credential.awarding_body.id = "QQI-PROVIDER-0042".into();
        let doc = credential(&r, &rec);
        let id = doc["issuer"]["id"].as_str().unwrap();
        assert!(id.starts_with("urn:uuid:"));
        assert_eq!(
            doc["issuer"]["otherIdentifier"][0]["identifier"],
            "QQI-PROVIDER-0042"
        );
        assert!(doc["issuer"].get("url").is_none());
        assert!(errors(&validator(), &doc).is_empty());
    }
}
