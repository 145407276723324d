//! Bulk-issue files for the platforms awarding bodies already issue badges from: Credly's bulk
//! issue CSV and Canvas Credentials' (Badgr's) bulk award CSV. One row per awarded decision; the
//! badge template / badge class comes from the rubric (`credential.credly_template`,
//! `credential.canvas_badge_class`); every cell is neutralised against spreadsheet formulas.

use std::path::{Path, PathBuf};

use super::{AppError, Format, Result, Selected, Workspace};
use crate::domain::export::ExportRecord;
use crate::domain::rubric::Rubric;
use crate::domain::sanitize::spreadsheet_cell;

/// Credly's columns: the required ones first, then every optional one (Credly refuses a file
/// whose headers were removed; empty cells are fine).
pub const CREDLY_HEADER: [&str; 18] = [
    "Badge Template ID",
    "Recipient Email",
    "First Name",
    "Middle Name",
    "Last Name",
    "Issued at date",
    "Expiration Date",
    "Issuer Earner ID",
    "Group Tag",
    "Country",
    "State or Province",
    "Evidence Name",
    "Evidence URL",
    "Text Evidence Title",
    "Text Evidence Description",
    "ID Evidence Title",
    "ID Evidence Description",
    "Locale",
];

/// Credly takes at most this many rows in one upload.
pub const CREDLY_ROWS: usize = 5_000;

/// Canvas Credentials' columns, in the order of its bulk award template.
pub const CANVAS_HEADER: [&str; 9] = [
    "Badge Class ID",
    "Identifier",
    "First Name",
    "Last Name",
    "Narrative",
    "Evidence Narrative",
    "Evidence URL",
    "Issue Date",
    "Expiration Date",
];

/// First, middle and last names from one name: the first word, the words between, the last
/// word (a single word is both first and last name: both platforms require them).
pub fn split_name(name: &str) -> (String, String, String) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => (String::new(), String::new(), String::new()),
        [one] => (one.to_string(), String::new(), one.to_string()),
        [first, middle @ .., last] => (first.to_string(), middle.join(" "), last.to_string()),
    }
}

/// `MM/DD/YYYY` (Credly's dates) and `YYYY-MM-DD` of an RFC 3339 time.
fn dates(rfc3339: &str) -> (String, String) {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => {
            let t = t.with_timezone(&chrono::Utc);
            (
                t.format("%m/%d/%Y").to_string(),
                t.format("%Y-%m-%d").to_string(),
            )
        }
        Err(_) => (String::new(), rfc3339.get(..10).unwrap_or("").to_string()),
    }
}

/// What the learner was assessed on, for the evidence narrative.
fn assessed(r: &Rubric, rec: &ExportRecord) -> String {
    let mut s = format!(
        "Portfolio {} assessed against the published rubric {} ({}, version {}): score {:.2}%",
        rec.portfolio_id, r.title, r.id, r.version, rec.decision.score
    );
    if let Some(g) = &rec.decision.grade {
        s.push_str(&format!(", grade {g}"));
    }
    if rec.moderation.is_some() {
        s.push_str(", moderated");
    }
    s.push('.');
    s
}

fn row(format: Format, r: &Rubric, rec: &ExportRecord) -> Vec<String> {
    let (first, middle, last) = split_name(&rec.learner.name);
    let (us, iso) = dates(&rec.released_at);
    let email = rec.learner.email.clone().unwrap_or_default();
    match format {
        Format::Credly => vec![
            r.credential.credly_template.clone().unwrap_or_default(),
            email,
            first,
            middle,
            last,
            us,
            String::new(),
            rec.learner.id.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            "Assessment".into(),
            assessed(r, rec),
            "Portfolio".into(),
            rec.portfolio_id.clone(),
            String::new(),
        ],
        _ => vec![
            r.credential.canvas_badge_class.clone().unwrap_or_default(),
            email,
            first,
            last,
            r.summary.clone().unwrap_or_else(|| r.title.clone()),
            assessed(r, rec),
            String::new(),
            iso,
            String::new(),
        ],
    }
}

/// The files of a bulk export of `rows` rows into `out`: `out` itself, then `NAME-2.csv`, … for
/// each further 5,000 rows (Credly's limit).
fn file_names(out: &Path, parts: usize) -> Vec<PathBuf> {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credly".into());
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (0..parts)
        .map(|i| {
            if i == 0 {
                out.to_path_buf()
            } else {
                out.with_file_name(format!("{stem}-{}{ext}", i + 1))
            }
        })
        .collect()
}

impl Workspace {
    /// Writes a Credly or Canvas Credentials file (several for Credly beyond 5,000 rows).
    /// Refused before anything is written when a rubric has no template / badge class, or a
    /// learner has no email address.
    pub(super) fn export_bulk(
        &mut self,
        format: Format,
        out: &Path,
        selected: &[Selected],
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<PathBuf>> {
        let (header, key): (&[&str], &str) = match format {
            Format::Credly => (&CREDLY_HEADER, "credly_template"),
            _ => (&CANVAS_HEADER, "canvas_badge_class"),
        };
        let mut rows = Vec::with_capacity(selected.len());
        let mut no_email = Vec::new();
        for (i, s) in selected.iter().enumerate() {
            let (rec, _, r) = self.export_record(s.pk)?;
            let has_id = match format {
                Format::Credly => r.credential.credly_template.is_some(),
                _ => r.credential.canvas_badge_class.is_some(),
            };
            if !has_id {
                return Err(AppError::refused(format!(
                    "rubric {} has no credential.{key}: add the platform's id of its badge to the rubric (`assay rubric add` its new version) before exporting in {} format",
                    r.key(),
                    format.as_str()
                )));
            }
            if rec
                .learner
                .email
                .as_deref()
                .is_none_or(|e| e.trim().is_empty())
            {
                no_email.push(rec.portfolio_id.clone());
            }
            rows.push(row(format, &r, &rec));
            progress(i + 1, selected.len() * 2);
        }
        if !no_email.is_empty() {
            let n = no_email.len();
            no_email.truncate(5);
            return Err(AppError::refused(format!(
                "{n} learner(s) have no email address, which {} needs to issue a badge: {}{}",
                format.as_str(),
                no_email.join(", "),
                if n > 5 { ", …" } else { "" }
            )));
        }
        let per = if format == Format::Credly {
            CREDLY_ROWS
        } else {
            usize::MAX
        };
        let parts = rows.len().div_ceil(per).max(1);
        let names = file_names(out, parts);
        for (i, name) in names.iter().enumerate().skip(1) {
            super::super::files::check_output(name, "the export", false, false, &|_| false)
                .map_err(|e| AppError::refused(format!("{e} (a part of the export: {i} more)")))?;
        }
        let mut written = Vec::new();
        for (chunk, path) in rows.chunks(per.min(rows.len().max(1))).zip(&names) {
            let r = super::write_atomic(path, |w| {
                let mut csv = csv::Writer::from_writer(w);
                csv.write_record(header).map_err(std::io::Error::other)?;
                for row in chunk {
                    csv.write_record(row.iter().map(|c| spreadsheet_cell(c.as_bytes())))
                        .map_err(std::io::Error::other)?;
                }
                csv.flush()
            });
            if let Err(e) = r {
                super::remove_all(&written);
                return Err(AppError::refused(format!(
                    "cannot write {}: {e}",
                    path.display()
                )));
            }
            written.push(path.clone());
        }
        progress(selected.len() * 2, selected.len() * 2);
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_first_middle_last() {
        assert_eq!(
            split_name("Ada King Lovelace"),
            ("Ada".into(), "King".into(), "Lovelace".into())
        );
        assert_eq!(
            split_name("  Ada   Lovelace "),
            ("Ada".into(), "".into(), "Lovelace".into())
        );
        assert_eq!(
            split_name("Plato"),
            ("Plato".into(), "".into(), "Plato".into())
        );
        assert_eq!(
            dates("2026-03-04T23:30:00Z"),
            ("03/04/2026".into(), "2026-03-04".into())
        );
    }

    #[test]
    fn parts_are_named_after_the_first() {
        let n = file_names(Path::new("/x/credly.csv"), 3);
        assert_eq!(n[1], Path::new("/x/credly-2.csv"));
        assert_eq!(n[2], Path::new("/x/credly-3.csv"));
    }
}
