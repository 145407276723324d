//! The evidence document and its view: a self-contained component (state and pure functions,
//! Elm style, no I/O) that the assessment screen shows evidence with.
//!
//! - [`Doc`] is a document opened over its bytes ([`Source`]): plain text (never copied, never
//!   laid out whole), Markdown (rendered with pulldown-cmark), CSV/TSV (an aligned table).
//! - [`EvidenceView`] is where the reader is in it: the top row, sideways scroll, wrapping, the
//!   search. Operations take `&Doc`; [`render`] draws `(&EvidenceView, &Doc)` into a buffer.
//! - Long work for a huge document (counting display rows and matches, a far search) runs in
//!   bounded [`EvidenceView::step`]s that the caller runs between frames while
//!   [`EvidenceView::busy`]; nothing runs otherwise.
//!
//! Every piece of text shown went through [`crate::domain::sanitize`] (or is printable ASCII):
//! no control character or escape sequence reaches the terminal.

pub mod doc;
pub mod layout;
pub mod markdown;
pub mod matcher;
pub mod render;
pub mod source;
pub mod table;
pub mod text;
pub mod view;

#[cfg(test)]
mod tests;

pub use doc::{Doc, Kind, MARKDOWN_LIMIT, MatchPos, TABLE_LIMIT};
pub use render::render;
pub use source::Source;
pub use view::{EvidenceView, KEYS, Msg, Position, STEP_BUDGET, Top};
