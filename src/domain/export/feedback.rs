//! placeholder (not committed)
use crate::domain::{export::ExportRecord, rubric::Rubric};
pub fn letter(_: &Rubric, _: &ExportRecord) -> String {
    String::new()
}
