//! The audit chain's records and what `audit verify` finds, as plain values: the store writes
//! and checks the chain (`store::audit`, `store::verify`); the services hand these to the front
//! ends.

use serde_json::Value;

/// One record of the chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub portfolio: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub prev: String,
    pub hash: String,
    /// Its author signed it (with the SSH key they had registered: see `sshsig`).
    pub signed: bool,
}

/// A problem `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The audit record concerned, when there is one.
    pub seq: Option<i64>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(s) => write!(f, "audit record {s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    pub records: usize,
    /// Rows compared with what the chain says they hold.
    pub rows: usize,
    /// Blobs hashed again.
    pub blobs: usize,
    pub problems: Vec<Problem>,
}

/// Where `verify` is: walking the chain (records done of all), then reading the tables (rows
/// done of all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Chain,
    Tables,
}
