//! Verifiable credentials: canonical JSON-LD, Data Integrity proofs (`eddsa-rdfc-2022`), keys
//! (Multikey, `did:key`, JWK), VC-JWTs and Bitstring status lists. Pure: keys come in as bytes,
//! documents as JSON values; nothing here reads a file or the network.

pub mod issuer;
pub mod jwt;
pub mod keys;
pub mod ld;
pub mod proof;
pub mod status;
pub mod verify;
