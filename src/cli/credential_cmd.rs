//! `assay issuer …`, `assay revoke` and `assay verify`: signing keys, revocation and checking
//! credentials offline.

use std::path::{Path, PathBuf};

use super::{CmdResult, Failure, IssuerCmd};
use crate::app::{AppError, Workspace, credentials, issuer};
use crate::domain::credential::issuer::IdKind;
use crate::domain::credential::ld::Canonicalizer;
use crate::domain::credential::verify::{self, Form, KeySet, Status};
use crate::domain::sanitize::sanitize_line;

pub fn issuer(cmd: IssuerCmd, db: &Path, user: String) -> CmdResult {
    match cmd {
        IssuerCmd::Init {
            key,
            id,
            name,
            url,
            status_url,
        } => {
            let ws_dir = std::fs::canonicalize(db)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .or_else(|| std::env::current_dir().ok());
            let (i, path) = issuer::init(
                &issuer::NewIssuer {
                    key: &key,
                    id: &id,
                    name: name.as_deref(),
                    url: url.as_deref(),
                    status_base: status_url.as_deref(),
                },
                ws_dir.as_deref(),
            )?;
            println!(
                "made the issuer key {key} in {} (readable by you only; keep a copy somewhere safe)",
                path.display()
            );
            print_public(&i);
            println!(
                "next: `assay issuer publish{} --out DIR` and put DIR's files on the web server as listed",
                if key == "default" {
                    String::new()
                } else {
                    format!(" {key}")
                }
            );
            Ok(())
        }
        IssuerCmd::Show { key } => {
            let (i, path) = issuer::load(&key)?;
            println!("key file  {}", path.display());
            print_public(&i);
            Ok(())
        }
        IssuerCmd::Publish { key, out } => {
            let (i, _) = issuer::load(&key)?;
            let ws = match Workspace::open_existing(db, user) {
                Ok(ws) => Some(ws),
                Err(AppError::Refusal(
                    crate::app::refusal::Refusal::NoWorkspace { .. }
                    | crate::app::refusal::Refusal::NotAWorkspace { .. },
                )) => None,
                Err(e) => return Err(e.into()),
            };
            let published = credentials::publish(ws.as_ref(), &i, &out)?;
            println!("wrote, for the web server:");
            for (file, url) in &published.files {
                println!("  {}  ->  {url}", file.display());
            }
            if ws.is_none() {
                println!(
                    "(no workspace at {}: no status lists written; run it where the workspace is, or give --db)",
                    db.display()
                );
            }
            Ok(())
        }
    }
}

fn print_public(i: &crate::domain::credential::issuer::Issuer) {
    println!("issuer    {}", i.id);
    if let Some(n) = &i.name {
        println!("name      {}", sanitize_line(n));
    }
    println!(
        "Ed25519   {}  (Data Integrity, eddsa-rdfc-2022)",
        i.ed25519_method()
    );
    println!(
        "          publicKeyMultibase {}",
        i.ed25519_public().multibase()
    );
    if i.kind() != Ok(IdKind::DidKey) {
        println!("P-256     {}  (VC-JWT, ES256)", i.p256_method());
        if let Some(jwk) = i.p256_public().jwk(None) {
            println!("          JWK {jwk}");
        }
    }
    match i.kind() {
        Ok(IdKind::Https) => println!("profile   served at {} (issuer publish writes it)", i.id),
        Ok(IdKind::DidWeb) => println!(
            "did.json  served at {}",
            crate::domain::credential::issuer::did_web_url(&i.id).unwrap_or_default()
        ),
        _ => println!("did:key   nothing to publish for the key itself"),
    }
    if let Some(s) = &i.status_base {
        println!("status    lists served under {s}/");
    }
}

pub fn revoke(mut ws: Workspace, id: &str, reason: &str) -> CmdResult {
    let r = ws.revoke(id, reason)?;
    println!(
        "revoked {} (portfolio {}); publish the status list again (`assay issuer publish --out DIR`) and put it on the web server",
        r.credential,
        sanitize_line(&r.portfolio)
    );
    Ok(())
}

/// The files to check: each file given, and the `.json` and `.jwt` files of each folder.
fn credential_files(args: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(a)
                .map_err(|e| Failure::msg(format!("cannot read {}: {e}", a.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json" || e == "jwt"))
                .collect();
            inner.sort();
            out.extend(inner);
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// Every JSON document under `dir` (its folders too, to a depth of 8).
fn load_keys(dir: &Path, keys: &mut KeySet, depth: usize) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::msg(format!("cannot read --keys {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(_) => continue,
        };
        if meta.is_dir() && depth < 8 {
            load_keys(&p, keys, depth + 1)?;
        } else if meta.is_file() && p.extension().is_some_and(|e| e == "json") {
            let bytes = crate::app::files::read_regular(&p, 16 << 20)
                .map_err(|e| Failure::msg(format!("cannot read {}: {e}", p.display())))?;
            match serde_json::from_slice(&bytes) {
                Ok(v) => keys.add(v),
                Err(e) => {
                    return Err(Failure::msg(format!(
                        "{}: not JSON ({e}); --keys takes a folder of published documents",
                        p.display()
                    )));
                }
            }
        }
    }
    Ok(())
}

pub fn verify(files: &[PathBuf], keys_dir: Option<&Path>) -> CmdResult {
    let mut keys = KeySet::default();
    if let Some(d) = keys_dir {
        load_keys(d, &mut keys, 0)?;
    }
    let files = credential_files(files)?;
    if files.is_empty() {
        return Err(Failure::msg(
            "there are no .json or .jwt files to verify there",
        ));
    }
    let ld = Canonicalizer::new();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut failed = Vec::new();
    let mut ok = 0usize;
    let mut unchecked = 0usize;
    // Checked on every core, reported in the order given.
    let check = |f: &PathBuf| -> Result<verify::Verified, String> {
        let bytes = crate::app::files::read_regular(f, 16 << 20)
            .map_err(|e| format!("cannot read it: {e}"))?;
        verify::verify(&ld, &String::from_utf8_lossy(&bytes), &keys, &now)
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<verify::Verified, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(per)
            .map(|part| s.spawn(|| part.iter().map(check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("the check failed".to_string())])
            })
            .collect()
    });
    for (f, r) in files.iter().zip(results) {
        match r {
            Ok(v) => {
                ok += 1;
                let status = match &v.status {
                    Status::None => "no status entry".to_string(),
                    Status::Valid => "not revoked".to_string(),
                    Status::NotChecked(url) => {
                        unchecked += 1;
                        format!(
                            "status not checked ({} is not in --keys)",
                            sanitize_line(url)
                        )
                    }
                };
                println!(
                    "ok  {}  {} — {} ({}; {status})",
                    f.display(),
                    sanitize_line(&v.name),
                    sanitize_line(&v.issuer),
                    match v.form {
                        Form::DataIntegrity => "Data Integrity eddsa-rdfc-2022",
                        Form::Jwt => "VC-JWT",
                    }
                );
            }
            Err(e) => failed.push(format!("{}: {}", f.display(), sanitize_line(&e))),
        }
    }
    if unchecked > 0 {
        eprintln!(
            "note: {unchecked} credential(s) name a status list not given: add the published status lists to --keys to check revocation"
        );
    }
    if failed.is_empty() {
        println!("{ok} credential(s) verified");
        Ok(())
    } else {
        let n = failed.len();
        failed.push(format!(
            "{n} of {} credential(s) did not verify",
            files.len()
        ));
        Err(Failure(failed))
    }
}
