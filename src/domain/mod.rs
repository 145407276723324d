//! The pure core of assay. Nothing here touches a terminal, a database or the clock: every
//! function takes values and returns values, so it is tested directly.

pub mod agreement;
pub mod decision;
pub mod num;
pub mod rubric;
pub mod sanitize;
pub mod yaml;
pub mod export;
