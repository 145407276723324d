//! Fuzz target `rubric_load`: see fuzz/README.md. The checks live in
//! tests/fuzz_regressions/checks.rs, shared with `cargo test --test fuzz_regressions`, so a
//! kept input is replayed through exactly the same code.
#![no_main]

#[path = "../../tests/fuzz_regressions/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rubric_load(data));
