//! The sample rubrics and portfolios built into the binary, for the workbench's first run.

use include_dir::{Dir, include_dir};

use super::import::Summary;
use super::{Result, Workspace};

static RUBRICS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rubrics");
static PORTFOLIOS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/samples/portfolios");

/// Writes the built-in samples to a temporary folder and imports them from there, through the
/// same importer as any other folder.
pub fn seed(ws: &mut Workspace) -> Result<Summary> {
    let tmp = tempfile::tempdir()?;
    let r = tmp.path().join("rubrics");
    let p = tmp.path().join("portfolios");
    std::fs::create_dir_all(&r)?;
    std::fs::create_dir_all(&p)?;
    RUBRICS.extract(&r)?;
    PORTFOLIOS.extract(&p)?;
    ws.import(&[r, p], &mut |_, _| {})
}
