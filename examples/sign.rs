//! Signs or verifies JSON lines of credentials with assay's `eddsa-rdfc-2022` code, for the
//! side-by-side comparison with Digital Bazaar's JavaScript libraries
//! (`scripts/sign-bench.sh`; the JavaScript side is `scripts/sign-js`).
//!
//! ```text
//! sign   --seed HEX32 --vm URL --created TIME [--threads N] IN.jsonl OUT.jsonl
//! verify --public-key-multibase Z… [--threads N] IN.jsonl
//! ```
//! Prints `signed N in X ms` / `verified N in X ms` (the whole work after reading the file).

use std::time::Instant;

use assay::domain::credential::keys::PublicKey;
use assay::domain::credential::ld::Canonicalizer;
use assay::domain::credential::proof;
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn positionals(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 1;
    while i < args.len() {
        if args[i].starts_with("--") {
            i += 2;
        } else {
            out.push(args[i].clone());
            i += 1;
        }
    }
    out
}

/// Runs `f` over `items` on `threads` threads, in order.
fn par<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let per = items.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let hs: Vec<_> = items
            .chunks(per)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = arg(&args, "--threads")
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pos = positionals(&args);
    let read = |p: &str| -> Vec<Value> {
        std::fs::read_to_string(p)
            .expect("the input file")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    let ld = Canonicalizer::new();
    match args.first().map(String::as_str) {
        Some("sign") => {
            let seed: [u8; 32] = hex::decode(arg(&args, "--seed").expect("--seed"))
                .expect("hex")
                .try_into()
                .expect("32 bytes");
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let vm = arg(&args, "--vm").expect("--vm");
            let created = arg(&args, "--created").expect("--created");
            let creds = read(&pos[0]);
            let t = Instant::now();
            let signed = par(&creds, threads, |c| {
                proof::sign(&ld, c, &key, &vm, &created).expect("signed")
            });
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let out: String = signed.iter().map(|s| s.to_string() + "\n").collect();
            std::fs::write(&pos[1], out).expect("the output file");
            eprintln!(
                "signed {} in {ms:.1} ms ({:.3} ms/credential, {threads} thread(s))",
                signed.len(),
                ms / signed.len().max(1) as f64
            );
        }
        Some("verify") => {
            let mb = arg(&args, "--public-key-multibase").expect("--public-key-multibase");
            let PublicKey::Ed25519(pk) = PublicKey::from_multibase(&mb).expect("a key") else {
                panic!("an Ed25519 key")
            };
            let creds = read(&pos[0]);
            let t = Instant::now();
            let results = par(&creds, threads, |c| proof::verify(&ld, c, &pk));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let bad = results.iter().filter(|r| r.is_err()).count();
            eprintln!(
                "verified {} in {ms:.1} ms ({:.3} ms/credential, {threads} thread(s)){}",
                creds.len() - bad,
                ms / creds.len().max(1) as f64,
                if bad > 0 {
                    format!("; {bad} FAILED")
                } else {
                    String::new()
                }
            );
            if bad > 0 {
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!(
                "usage: sign --seed HEX32 --vm URL --created TIME IN OUT | verify --public-key-multibase Z IN"
            );
            std::process::exit(2);
        }
    }
}
