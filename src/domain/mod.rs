//! The pure core of assay. Nothing here touches a terminal, a database or the clock: every
//! function takes values and returns values, so it is tested directly.

pub mod agreement;
pub mod audit;
pub mod credential;
pub mod decision;
pub mod export;
pub mod extract;
pub mod leap2a;
pub mod num;
pub mod phase;
pub mod portfolio;
pub mod revision;
pub mod role;
pub mod rubric;
pub mod sampling;
pub mod sanitize;
pub mod search;
pub mod sshsig;
pub mod status;
pub mod yaml;
