//! The awarding body's issuer keys: made by `assay issuer init`, kept in a file of their own
//! outside any workspace (readable by its owner only), never printed; and what `assay issuer
//! publish` writes for its web server.
//!
//! Key files live in the issuer folder: `$ASSAY_ISSUER_DIR`, else `$XDG_CONFIG_HOME/assay/issuers`,
//! else `~/.config/assay/issuers`; one file `NAME.json` per key (`default` unless a rubric's
//! `credential.signing.key` names another). The folder is made 0700 and each file 0600; a key
//! file that others can read is refused, as ssh refuses such a private key.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::{AppError, Result};
use crate::domain::credential::issuer::{self, IdKind, Issuer};
use crate::domain::rubric::key_name_problem;

/// The key file's contents.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    /// The format's version.
    assay_issuer_key: u32,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_base: Option<String>,
    /// The Ed25519 private key (its 32-byte seed), hex.
    ed25519: String,
    /// The P-256 private scalar, hex.
    p256: String,
    created: String,
}

/// The folder of issuer key files.
pub fn issuer_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("ASSAY_ISSUER_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("assay/issuers"));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".config/assay/issuers")),
        None => Err(AppError::refused(
            "there is no home folder for issuer keys: set ASSAY_ISSUER_DIR to a folder outside the workspace",
        )),
    }
}

/// The file of the key `name`.
pub fn key_path(name: &str) -> Result<PathBuf> {
    key_name_problem(name).map_err(AppError::refused)?;
    Ok(issuer_dir()?.join(format!("{name}.json")))
}

/// What `issuer init` is given.
pub struct NewIssuer<'a> {
    pub key: &'a str,
    /// An https URL, `did:web:…`, or `did:key` (made from the new key).
    pub id: &'a str,
    pub name: Option<&'a str>,
    pub url: Option<&'a str>,
    pub status_base: Option<&'a str>,
}

fn random32() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)
        .map_err(|e| AppError::refused(format!("the system gave no random bytes: {e}")))?;
    Ok(b)
}

/// The default folder of status lists for an issuer id.
fn default_status_base(id: &str) -> Option<String> {
    match issuer::id_kind(id).ok()? {
        IdKind::Https => Some(format!("{}/status", id.trim_end_matches('/'))),
        IdKind::DidWeb => {
            let url = issuer::did_web_url(id)?;
            let base = url
                .strip_suffix("/.well-known/did.json")
                .or_else(|| url.strip_suffix("/did.json"))?;
            Some(format!("{base}/status"))
        }
        IdKind::DidKey => None,
    }
}

/// Makes a new issuer key file. Refuses to replace one, and a folder inside `workspace_dir`.
pub fn init(new: &NewIssuer, workspace_dir: Option<&Path>) -> Result<(Issuer, PathBuf)> {
    let path = key_path(new.key)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    if path.exists() || path.symlink_metadata().is_ok() {
        return Err(AppError::refused(format!(
            "there is already an issuer key {} ({}); an issuer key is never replaced (give another name, or remove that file yourself)",
            new.key,
            path.display()
        )));
    }
    let ed = SigningKey::from_bytes(&random32()?);
    let p256 = loop {
        if let Ok(k) = p256::SecretKey::from_bytes(&random32()?.into()) {
            break k;
        }
    };
    let id = if new.id == "did:key" {
        Issuer::did_key_id(&ed)
    } else {
        issuer::id_kind(new.id).map_err(AppError::refused)?;
        if new.id.starts_with("did:key:") {
            return Err(AppError::refused(
                "a did:key is made from the new key: give --id did:key",
            ));
        }
        new.id.to_string()
    };
    let status_base = match new.status_base {
        Some(s) => {
            if !s.starts_with("https://") || s.contains(char::is_whitespace) {
                return Err(AppError::refused(format!(
                    "--status-url {s:?} must be an https:// URL"
                )));
            }
            Some(s.trim_end_matches('/').to_string())
        }
        None => default_status_base(&id),
    };
    let Some(status_base) = status_base else {
        return Err(AppError::refused(
            "a did:key issuer has no web address for its status lists: give --status-url https://… (where `assay issuer publish` output will be served)",
        ));
    };
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| AppError::refused(format!("cannot make {}: {e}", dir.display())))?;
    if let Some(ws) = workspace_dir {
        let inside = match (std::fs::canonicalize(&dir), std::fs::canonicalize(ws)) {
            (Ok(d), Ok(w)) => d.starts_with(&w),
            _ => false,
        };
        if inside {
            return Err(AppError::refused(format!(
                "the issuer folder {} is inside the workspace's folder {}: keep the keys apart from the workspace (set ASSAY_ISSUER_DIR elsewhere)",
                dir.display(),
                ws.display()
            )));
        }
    }
    let file = KeyFile {
        assay_issuer_key: 1,
        id: id.clone(),
        name: new.name.map(str::to_string),
        url: new.url.map(str::to_string),
        status_base: Some(status_base.clone()),
        ed25519: hex::encode(ed.to_bytes()),
        p256: hex::encode(p256.to_bytes()),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let bytes = serde_json::to_vec_pretty(&file).map_err(|e| AppError::refused(e.to_string()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| AppError::refused(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(&bytes)
        .and_then(|_| f.write_all(b"\n"))
        .and_then(|_| f.sync_all())
        .map_err(|e| AppError::refused(format!("cannot write {}: {e}", path.display())))?;
    Ok((
        Issuer {
            id,
            name: file.name,
            url: file.url,
            status_base: Some(status_base),
            ed25519: ed,
            p256,
        },
        path,
    ))
}

/// Reads the issuer key `name`.
pub fn load(name: &str) -> Result<(Issuer, PathBuf)> {
    let path = key_path(name)?;
    let meta = std::fs::metadata(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AppError::refused(format!(
                "there is no issuer key {name} ({}): make one with `assay issuer init{} --id ISSUER_ID`",
                path.display(),
                if name == "default" { String::new() } else { format!(" {name}") }
            ))
        } else {
            AppError::refused(format!("cannot read {}: {e}", path.display()))
        }
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(AppError::refused(format!(
            "the issuer key {} can be read by others (mode {:o}): `chmod 600 {}`, and consider the key exposed",
            path.display(),
            meta.permissions().mode() & 0o777,
            path.display()
        )));
    }
    let bad = |what: &str| {
        AppError::refused(format!(
            "the issuer key {} is not a key file assay wrote ({what})",
            path.display()
        ))
    };
    let bytes = super::files::read_regular(&path, 1 << 20).map_err(|e| bad(&e.to_string()))?;
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    if file.assay_issuer_key != 1 {
        return Err(bad("an unknown version"));
    }
    let seed: [u8; 32] = hex::decode(&file.ed25519)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("its ed25519 key"))?;
    let scalar: [u8; 32] = hex::decode(&file.p256)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("its p256 key"))?;
    let p256 = p256::SecretKey::from_bytes(&scalar.into()).map_err(|_| bad("its p256 key"))?;
    issuer::id_kind(&file.id).map_err(|e| bad(&e))?;
    Ok((
        Issuer {
            id: file.id,
            name: file.name,
            url: file.url,
            status_base: file.status_base,
            ed25519: SigningKey::from_bytes(&seed),
            p256,
        },
        path,
    ))
}
