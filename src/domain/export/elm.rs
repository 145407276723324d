//! placeholder until the mapping lands (not committed)
use crate::domain::{export::ExportRecord, rubric::Rubric};
pub fn credential(_: &Rubric, _: &ExportRecord) -> serde_json::Value {
    serde_json::Value::Null
}
