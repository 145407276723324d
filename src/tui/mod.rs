//! The workbench (in progress).
use std::path::Path;

pub fn run(_db: &Path, _user: String) -> Result<(), crate::app::AppError> {
    Err(crate::app::AppError::refused(
        "the workbench is not built yet; use the commands in `assay --help`",
    ))
}
