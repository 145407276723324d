//! One folder per screen: `mod.rs` holds what its keys do (pure `update` logic), `view.rs`
//! draws it (pure). Dialogs are a screen of their own.

pub mod assess;
pub mod dialogs;
pub mod export;
pub mod queue;
pub mod settle;
pub mod stats;
