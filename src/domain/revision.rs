//! What a new revision of a portfolio changes: who the learner is, the rubric, the dates, the
//! statement and each piece of evidence. The importer uses it to refuse a revision that would
//! rewrite what was assessed, and to say precisely what changed.

use super::sanitize::sanitize_line;

/// One piece of evidence as a revision holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceFacts {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub file: Option<String>,
    pub url: Option<String>,
    pub date: String,
    pub hours: Option<f64>,
    pub claims: Vec<String>,
    pub note: Option<String>,
    /// The file's SHA-256, when it has a file.
    pub sha256: Option<String>,
    /// The part of the portfolio it is in.
    pub group: Option<String>,
}

/// What a revision of a portfolio holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub learner_id: String,
    pub learner_name: String,
    pub learner_email: Option<String>,
    /// The rubric's key, `id@version`.
    pub rubric: String,
    pub submitted: String,
    /// The statement's SHA-256.
    pub statement: Option<String>,
    pub evidence: Vec<EvidenceFacts>,
}

/// What changed from one revision to the next.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// (field, before, after) of the learner's identity: `id`, `name`, `email`.
    pub learner: Vec<(&'static str, Option<String>, Option<String>)>,
    pub rubric: Option<(String, String)>,
    pub submitted: Option<(String, String)>,
    pub statement: bool,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Evidence present in both, with the fields that changed (`file` for its content).
    pub changed: Vec<(String, Vec<&'static str>)>,
}

impl Changes {
    pub fn between(old: &Facts, new: &Facts) -> Changes {
        let mut c = Changes::default();
        let pairs = [
            ("id", Some(&old.learner_id), Some(&new.learner_id)),
            ("name", Some(&old.learner_name), Some(&new.learner_name)),
            (
                "email",
                old.learner_email.as_ref(),
                new.learner_email.as_ref(),
            ),
        ];
        for (field, a, b) in pairs {
            if a != b {
                c.learner.push((field, a.cloned(), b.cloned()));
            }
        }
        if old.rubric != new.rubric {
            c.rubric = Some((old.rubric.clone(), new.rubric.clone()));
        }
        if old.submitted != new.submitted {
            c.submitted = Some((old.submitted.clone(), new.submitted.clone()));
        }
        c.statement = old.statement != new.statement;
        for e in &new.evidence {
            match old.evidence.iter().find(|o| o.id == e.id) {
                None => c.added.push(e.id.clone()),
                Some(o) => {
                    let mut fields = Vec::new();
                    if o.title != e.title {
                        fields.push("title");
                    }
                    if o.kind != e.kind {
                        fields.push("kind");
                    }
                    if o.file != e.file || o.sha256 != e.sha256 {
                        fields.push("file");
                    }
                    if o.url != e.url {
                        fields.push("url");
                    }
                    if o.date != e.date {
                        fields.push("date");
                    }
                    if o.hours != e.hours {
                        fields.push("hours");
                    }
                    if o.claims != e.claims {
                        fields.push("claims");
                    }
                    if o.note != e.note {
                        fields.push("note");
                    }
                    if o.group != e.group {
                        fields.push("group");
                    }
                    if !fields.is_empty() {
                        c.changed.push((e.id.clone(), fields));
                    }
                }
            }
        }
        for o in &old.evidence {
            if !new.evidence.iter().any(|e| e.id == o.id) {
                c.removed.push(o.id.clone());
            }
        }
        c
    }

    /// Whether the evidence (or the statement) changed: what an assessor judged.
    pub fn evidence_changed(&self) -> bool {
        self.statement
            || !self.added.is_empty()
            || !self.removed.is_empty()
            || !self.changed.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.learner.is_empty()
            && self.rubric.is_none()
            && self.submitted.is_none()
            && !self.evidence_changed()
    }

    /// One phrase per change, for a person: "the learner's name (`Ann` → `Bob`)", "evidence E2
    /// (file, title)", …
    pub fn describe(&self) -> Vec<String> {
        let q = |s: &Option<String>| match s {
            Some(s) => format!("`{}`", sanitize_line(s)),
            None => "none".to_string(),
        };
        let mut out = Vec::new();
        for (field, a, b) in &self.learner {
            let what = match *field {
                "id" => "the learner's id",
                "name" => "the learner's name",
                _ => "the learner's email",
            };
            out.push(format!("{what} ({} → {})", q(a), q(b)));
        }
        if let Some((a, b)) = &self.rubric {
            out.push(format!(
                "the rubric (`{}` → `{}`)",
                sanitize_line(a),
                sanitize_line(b)
            ));
        }
        if let Some((a, b)) = &self.submitted {
            out.push(format!(
                "the submission date ({} → {})",
                sanitize_line(a),
                sanitize_line(b)
            ));
        }
        if self.statement {
            out.push("the reflective statement".into());
        }
        for id in &self.added {
            out.push(format!("evidence {} (added)", sanitize_line(id)));
        }
        for id in &self.removed {
            out.push(format!("evidence {} (removed)", sanitize_line(id)));
        }
        for (id, fields) in &self.changed {
            out.push(format!(
                "evidence {} ({})",
                sanitize_line(id),
                fields.join(", ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            learner_id: "L-1".into(),
            learner_name: "Aoife Byrne".into(),
            learner_email: Some("aoife@example.org".into()),
            rubric: "r@1".into(),
            submitted: "2026-10-12".into(),
            statement: Some("aa".into()),
            evidence: vec![
                EvidenceFacts {
                    id: "E1".into(),
                    title: "Dashboard".into(),
                    kind: "informal".into(),
                    file: Some("e1.md".into()),
                    url: None,
                    date: "2025-05".into(),
                    hours: Some(20.0),
                    claims: vec!["C1".into()],
                    note: None,
                    sha256: Some("11".into()),
                    group: None,
                },
                EvidenceFacts {
                    id: "E2".into(),
                    title: "Course".into(),
                    kind: "formal".into(),
                    file: None,
                    url: Some("https://example.org".into()),
                    date: "2024".into(),
                    hours: None,
                    claims: vec![],
                    note: None,
                    sha256: None,
                    group: None,
                },
            ],
        }
    }

    #[test]
    fn nothing_changed() {
        let c = Changes::between(&facts(), &facts());
        assert!(c.is_empty(), "{c:?}");
        assert!(c.describe().is_empty());
    }

    #[test]
    fn a_name_alone_is_not_an_evidence_change() {
        let mut n = facts();
        n.learner_name = "Mallory".into();
        let c = Changes::between(&facts(), &n);
        assert!(!c.evidence_changed());
        assert!(!c.is_empty());
        assert_eq!(
            c.describe(),
            vec!["the learner's name (`Aoife Byrne` → `Mallory`)"]
        );
    }

    #[test]
    fn names_each_piece_of_evidence_and_what_changed_in_it() {
        let mut n = facts();
        n.evidence[0].sha256 = Some("22".into());
        n.evidence[0].title = "Dashboard v2".into();
        n.evidence.remove(1);
        n.evidence.push(EvidenceFacts {
            id: "E3".into(),
            ..facts().evidence[1].clone()
        });
        n.statement = None;
        let c = Changes::between(&facts(), &n);
        assert!(c.evidence_changed());
        assert_eq!(
            c.describe(),
            vec![
                "the reflective statement",
                "evidence E3 (added)",
                "evidence E2 (removed)",
                "evidence E1 (title, file)"
            ]
        );
    }

    #[test]
    fn rubric_email_and_date() {
        let mut n = facts();
        n.rubric = "r@2".into();
        n.learner_email = None;
        n.submitted = "2026-10-13".into();
        let d = Changes::between(&facts(), &n).describe();
        assert_eq!(
            d,
            vec![
                "the learner's email (`aoife@example.org` → none)",
                "the rubric (`r@1` → `r@2`)",
                "the submission date (2026-10-12 → 2026-10-13)"
            ]
        );
    }
}
