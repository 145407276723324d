//! assay — a keyboard-only terminal workbench for judging micro-credential portfolios
//! against transparent rubrics.
//!
//! The crate is split by concern; each folder is one room of the house:
//!
//! - [`domain`] — the pure core: rubric and portfolio models and their validation, the decision
//!   rule, moderation sampling, agreement statistics, export mapping, text sanitising. It knows
//!   nothing of terminals or SQL.
//! - [`store`] — the SQLite workspace: migrations, transactions, the audit chain.
//! - [`app`] — application services (import, mark, submit, sample, moderate, release, export)
//!   used by both front ends.
//! - [`cli`] — the command line front end.
//! - [`tui`] — the workbench front end (Elm style: state, messages, update, view).

pub mod app;
pub mod cli;
pub mod domain;
pub mod store;
pub mod tui;
