//! Helpers shared by the export mappings: stable ids, identifier hashing, dates and numbers in
//! the forms the issuing formats want, and the small lookups every mapping makes.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CriterionMark, ExportRecord};
use crate::domain::rubric::{Criterion, Level, Rubric};

/// The namespace of every UUID v5 that assay's exports derive. Fixed for ever: changing it would
/// change the id of every credential already handed to an issuing system.
pub(crate) const NAMESPACE: Uuid = Uuid::from_u128(0x4bbb_a1f8_0df9_4ed0_977a_c590_45b7_9db6);

/// `urn:uuid:` + the UUID v5 of `parts` in [`NAMESPACE`]. Each part is length-prefixed, so no
/// two different lists of parts give the same name (`["a:b", "c"]` vs `["a", "b:c"]`).
pub(crate) fn urn(parts: &[&str]) -> String {
    let mut name = String::new();
    for p in parts {
        name.push_str(&p.len().to_string());
        name.push(':');
        name.push_str(p);
        name.push(';');
    }
    format!("urn:uuid:{}", Uuid::new_v5(&NAMESPACE, name.as_bytes()))
}

/// The credential's own parts of a name: workspace, portfolio and decision.
pub(crate) fn decision_parts(rec: &ExportRecord) -> [String; 3] {
    [
        rec.workspace_id.clone(),
        rec.portfolio_id.clone(),
        rec.decision.id.to_string(),
    ]
}

/// Whether `s` is an absolute URI that can stand as a JSON-LD node id: an `http(s)://` URL with
/// a host, or a `urn:` or `did:` name. Other `scheme:rest` strings (`VAT:IE123`) are treated as
/// plain identifiers, not URIs.
pub(crate) fn is_uri(s: &str) -> bool {
    let clean = !s.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'));
    clean && (is_http_url(s) || urn_or_did(s))
}

fn urn_or_did(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["urn:", "did:"].iter().any(|p| {
        lower.starts_with(p) && {
            let rest = &s[p.len()..];
            // `urn:NID:NSS` / `did:method:id`: a name part, a colon, something after it.
            rest.split_once(':')
                .is_some_and(|(nid, nss)| !nid.is_empty() && !nss.is_empty())
        }
    })
}

/// Whether `s` is an `http://` or `https://` URL with a non-empty host and no whitespace.
pub(crate) fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty()
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
}

/// An Open Badges `IdentityHash` of a learner identifier: `sha256$` + lowercase hex of
/// SHA-256 over the UTF-8 identifier **followed by** the salt — the order the Open Badges 3.0
/// specification fixes ("a hash across an identifier and an optionally appended salt string";
/// its example hashes `a@example.comKosher`), so that a verifier given the learner's email can
/// check it.
pub(crate) fn identity_hash(identifier: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(identifier.as_bytes());
    h.update(salt.as_bytes());
    format!("sha256${}", hex::encode(h.finalize()))
}

/// The learner identifier that a credential hashes, with its Open Badges `identityType`:
/// the email (trimmed, lower-cased so that a verifier typing it in another case still matches)
/// when there is one, else the institution's learner id (trimmed).
pub(crate) fn learner_identity(rec: &ExportRecord) -> (String, &'static str) {
    match rec.learner.email.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => (e.to_lowercase(), "emailAddress"),
        _ => (rec.learner.id.trim().to_string(), "identifier"),
    }
}

/// An RFC 3339 timestamp normalised to UTC with whole seconds (`2026-03-02T09:30:00Z`), the
/// form both the OB schema (`date-time`) and ELM (`xsd:dateTime`) accept. A date alone
/// (`YYYY-MM-DD`) becomes midnight UTC. Text that is neither is passed through unchanged.
pub(crate) fn timestamp(s: &str) -> String {
    let t = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return dt
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
    }
    s.to_string()
}

/// The date part (`YYYY-MM-DD`) of an RFC 3339 timestamp, in UTC.
pub(crate) fn date_of(s: &str) -> String {
    let t = timestamp(s);
    match t.split_once('T') {
        Some((d, _)) if d.len() == 10 => d.to_string(),
        _ => t,
    }
}

/// A score in percent as the record holds it (rounded to two decimals), printed without
/// trailing zeros: `72.5`, `60`, `66.67`.
pub(crate) fn score_text(score: f64) -> String {
    let s = format!("{score:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The rubric's summary, or its title when it has none: the description of the credential.
pub(crate) fn summary_or_title(rubric: &Rubric) -> &str {
    rubric
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&rubric.title)
}

/// The final mark of a criterion, if the record has one.
pub(crate) fn mark_for<'r>(rec: &'r ExportRecord, criterion: &str) -> Option<&'r CriterionMark> {
    rec.marks.iter().find(|m| m.criterion == criterion)
}

/// The level a mark names, with its index, if the criterion knows it.
pub(crate) fn level_of<'c>(c: &'c Criterion, mark: &CriterionMark) -> Option<(usize, &'c Level)> {
    c.level(&mark.level)
}

/// The criterion's lowest meeting level, if it has one.
pub(crate) fn meeting_level(c: &Criterion) -> Option<&Level> {
    c.first_meeting().map(|i| &c.levels[i])
}

/// The rubric's grade bands lowest first.
pub(crate) fn grades_low_to_high(rubric: &Rubric) -> Vec<&crate::domain::rubric::GradeBand> {
    let mut g: Vec<_> = rubric.decision.grades.iter().collect();
    g.sort_by_key(|b| b.min);
    g
}

/// The decision rule in one sentence, shared by the credential narratives and the letter.
pub(crate) fn decision_rule_text(rubric: &Rubric) -> String {
    let mut s = String::from(
        "The score is 100 × Σ(weight × points of the level reached) ÷ Σ(weight × points of the top level). ",
    );
    let mut conditions = Vec::new();
    if !rubric.gates.is_empty() {
        conditions.push("every check is confirmed".to_string());
    }
    if rubric.criteria.iter().any(|c| c.required) {
        conditions.push("every required criterion reaches its meeting level".to_string());
    }
    conditions.push(format!(
        "the score is at least the pass mark of {}%",
        rubric.decision.pass_mark
    ));
    s.push_str("The micro-credential is awarded when ");
    s.push_str(&join_and(&conditions));
    s.push('.');
    if !rubric.decision.grades.is_empty() {
        let bands: Vec<String> = rubric
            .decision
            .grades
            .iter()
            .map(|g| format!("{} from {}%", g.name, g.min))
            .collect();
        s.push_str(" Grades (of an award): ");
        s.push_str(&bands.join(", "));
        s.push('.');
    }
    s
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Human words for a kind of learning: `non-formal` → `Non-formal learning`.
pub(crate) fn learning_kind(kind: &str) -> String {
    match kind {
        "formal" => "Formal learning".into(),
        "non-formal" => "Non-formal learning".into(),
        "informal" => "Informal learning".into(),
        other => crate::domain::sanitize::sanitize_line(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_are_stable_and_unambiguous() {
        let a = urn(&["a:b", "c"]);
        assert_eq!(a, urn(&["a:b", "c"]));
        assert_ne!(a, urn(&["a", "b:c"]));
        assert!(a.starts_with("urn:uuid:"));
        let u = Uuid::parse_str(&a["urn:uuid:".len()..]).unwrap();
        assert_eq!(u.get_version_num(), 5);
    }

    #[test]
    fn identity_hash_matches_the_open_badges_example() {
        // OB 3.0 §B.7 IdentityHash: 'a@example.com' salted with 'Kosher'.
        assert_eq!(
            identity_hash("a@example.com", "Kosher"),
            "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
        );
    }

    #[test]
    fn recognises_uris() {
        assert!(is_uri("https://example.edu/"));
        assert!(is_uri("urn:uuid:1234"));
        assert!(is_uri("did:web:example.edu"));
        assert!(!is_uri("IE-12345"));
        assert!(!is_uri("VAT:IE123"));
        assert!(!is_uri("https://"));
        assert!(!is_uri("https://exa mple.edu/"));
        assert!(is_http_url("http://example.org/x?y#z"));
        assert!(!is_http_url("ftp://example.org/"));
    }

    #[test]
    fn normalises_times_and_scores() {
        assert_eq!(
            timestamp("2026-03-02T10:30:00.123+01:00"),
            "2026-03-02T09:30:00Z"
        );
        assert_eq!(timestamp("2026-03-02"), "2026-03-02T00:00:00Z");
        assert_eq!(timestamp("garbage"), "garbage");
        assert_eq!(date_of("2026-03-02T23:30:00-02:00"), "2026-03-03");
        assert_eq!(score_text(72.5), "72.5");
        assert_eq!(score_text(60.0), "60");
        assert_eq!(score_text(66.67), "66.67");
        assert_eq!(score_text(0.0), "0");
    }

    #[test]
    fn joins_with_and() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(join_and(&v(&["a"])), "a");
        assert_eq!(join_and(&v(&["a", "b"])), "a and b");
        assert_eq!(join_and(&v(&["a", "b", "c"])), "a, b and c");
    }
}
