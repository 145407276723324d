//! Where a person's audit records are signed: their SSH agent (`SSH_AUTH_SOCK`) or a private
//! key file named by `ASSAY_KEY`. The store asks a [`RecordSigner`] for the SSHSIG of each
//! record's text as it appends it (see `store::Tx::append`); nothing here keeps a secret beyond
//! the open workspace, and an agent's keys never leave the agent.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ssh_key::encoding::{Decode, Encode};
use ssh_key::{Algorithm, PrivateKey, PublicKey, Signature, SshSig};

use crate::domain::sshsig::{self, HASH, NAMESPACE};
pub use crate::store::RecordSigner;

/// Why no signer holds a person's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoKey {
    /// What was tried and what was wrong, one phrase each.
    pub tried: Vec<String>,
}

/// The signer that holds `key`: the file `ASSAY_KEY` names when it is set (it must be that
/// key), else the agent at `SSH_AUTH_SOCK` when it holds it. It has signed a challenge and the
/// signature was checked against `key` before it is returned.
pub fn signer_for(key: &PublicKey) -> Result<Box<dyn RecordSigner>, NoKey> {
    let mut tried = Vec::new();
    if let Some(file) = std::env::var_os("ASSAY_KEY").filter(|v| !v.is_empty()) {
        match FileSigner::load(Path::new(&file), key) {
            Ok(s) => return proven(Box::new(s), key, &mut tried),
            Err(why) => tried.push(format!("ASSAY_KEY={}: {why}", Path::new(&file).display())),
        }
    } else {
        tried.push("ASSAY_KEY is not set".into());
    }
    match std::env::var_os("SSH_AUTH_SOCK").filter(|v| !v.is_empty()) {
        None => tried.push("SSH_AUTH_SOCK is not set (no ssh-agent)".into()),
        Some(sock) => match AgentSigner::connect(PathBuf::from(&sock), key) {
            Ok(s) => return proven(Box::new(s), key, &mut tried),
            Err(why) => tried.push(format!(
                "the ssh-agent at {}: {why}",
                Path::new(&sock).display()
            )),
        },
    }
    Err(NoKey { tried })
}

/// `signer` once it has signed a challenge that `key` verifies.
fn proven(
    signer: Box<dyn RecordSigner>,
    key: &PublicKey,
    tried: &mut Vec<String>,
) -> Result<Box<dyn RecordSigner>, NoKey> {
    let challenge = format!("assay challenge {}", uuid::Uuid::new_v4());
    let ok = match signer.sign(challenge.as_bytes()) {
        Err(why) => Err(format!("it could not sign a challenge: {why}")),
        Ok(sig) => sshsig::check(key, challenge.as_bytes(), &sig)
            .map_err(|why| format!("its signature of a challenge did not verify: {why}")),
    };
    match ok {
        Ok(()) => Ok(signer),
        Err(why) => {
            tried.push(why);
            Err(NoKey {
                tried: std::mem::take(tried),
            })
        }
    }
}

/// A private key read from a file (OpenSSH format, unencrypted: an encrypted key belongs in
/// the agent, `ssh-add`, which asks for its passphrase once).
pub struct FileSigner {
    key: PrivateKey,
}

impl FileSigner {
    pub fn load(path: &Path, want: &PublicKey) -> Result<FileSigner, String> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| e.to_string())?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the private key file can be read by others (mode {:o}); `chmod 600` it, as ssh requires",
                    mode & 0o777
                ));
            }
        }
        let text = crate::app::files::read_regular(path, 64 * 1024).map_err(|e| e.to_string())?;
        let text = String::from_utf8(text).map_err(|_| "not an OpenSSH private key".to_string())?;
        if text.trim_start().starts_with("ssh-") || text.trim_start().starts_with("ecdsa-") {
            return Err(
                "that is a public key; ASSAY_KEY names the private key file (without `.pub`)"
                    .into(),
            );
        }
        let key = PrivateKey::from_openssh(text.trim_start())
            .map_err(|e| format!("not an OpenSSH private key ({e})"))?;
        if key.is_encrypted() {
            return Err(
                "the key is protected by a passphrase: add it to your ssh-agent (`ssh-add FILE`) and unset ASSAY_KEY"
                    .into(),
            );
        }
        if key.public_key().key_data() != want.key_data() {
            return Err(format!(
                "it holds the key {}, not the registered one ({})",
                sshsig::fingerprint(key.public_key()),
                sshsig::fingerprint(want)
            ));
        }
        if matches!(key.algorithm(), Algorithm::Rsa { .. }) {
            return Err(
                "RSA keys sign through the ssh-agent only (`ssh-add FILE`, then unset ASSAY_KEY)"
                    .into(),
            );
        }
        Ok(FileSigner { key })
    }
}

impl RecordSigner for FileSigner {
    fn sign(&self, msg: &[u8]) -> Result<String, String> {
        let sig = self
            .key
            .sign(NAMESPACE, HASH, msg)
            .map_err(|e| format!("signing failed: {e}"))?;
        sshsig::armor(&sig)
    }
}

/// The ssh-agent protocol's messages (draft-miller-ssh-agent).
const AGENT_FAILURE: u8 = 5;
const REQUEST_IDENTITIES: u8 = 11;
const IDENTITIES_ANSWER: u8 = 12;
const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
/// Sign-request flag: an RSA signature with SHA-512 (`rsa-sha2-512`), as `ssh-keygen -Y` makes.
const RSA_SHA2_512: u32 = 4;
/// How long an agent is given to answer.
pub const AGENT_WAIT: Duration = Duration::from_secs(15);
/// The longest answer read from an agent.
const MAX_ANSWER: usize = 256 * 1024;

/// A key held by an ssh-agent, signed with over its socket.
pub struct AgentSigner {
    path: PathBuf,
    key: PublicKey,
    /// The key as the agent names it (its wire encoding).
    blob: Vec<u8>,
    conn: Mutex<Option<UnixStream>>,
}

impl AgentSigner {
    /// Connects to the agent at `path` and finds `want` among its keys.
    pub fn connect(path: PathBuf, want: &PublicKey) -> Result<AgentSigner, String> {
        let mut conn = open_agent(&path)?;
        let answer = request(&mut conn, &[REQUEST_IDENTITIES])?;
        let mut r = answer.as_slice();
        if take_u8(&mut r)? != IDENTITIES_ANSWER {
            return Err("it did not list its keys".into());
        }
        let n = take_u32(&mut r)?;
        let blob = want.key_data().encode_vec().map_err(|e| e.to_string())?;
        let mut held = false;
        for _ in 0..n {
            let k = take_string(&mut r)?;
            let _comment = take_string(&mut r)?;
            held |= k == blob.as_slice();
        }
        if !held {
            return Err(format!(
                "it does not hold the registered key ({}); add it with `ssh-add`",
                sshsig::fingerprint(want)
            ));
        }
        Ok(AgentSigner {
            path,
            key: want.clone(),
            blob,
            conn: Mutex::new(Some(conn)),
        })
    }

    fn sign_once(&self, conn: &mut UnixStream, data: &[u8]) -> Result<Signature, AgentError> {
        let mut msg = vec![SIGN_REQUEST];
        put_string(&mut msg, &self.blob);
        put_string(&mut msg, data);
        let flags = if matches!(self.key.algorithm(), Algorithm::Rsa { .. }) {
            RSA_SHA2_512
        } else {
            0
        };
        msg.extend_from_slice(&flags.to_be_bytes());
        let answer = request(conn, &msg)?;
        let mut r = answer.as_slice();
        match take_u8(&mut r)? {
            SIGN_RESPONSE => {
                let mut blob = take_string(&mut r)?;
                Ok(Signature::decode(&mut blob).map_err(|e| format!("a bad signature: {e}"))?)
            }
            AGENT_FAILURE => Err(AgentError::from(
                "the agent refused to sign (a locked agent, or a key that asks for confirmation and was denied)",
            )),
            other => Err(AgentError::from(format!("an unexpected answer ({other})"))),
        }
    }
}

impl RecordSigner for AgentSigner {
    fn sign(&self, msg: &[u8]) -> Result<String, String> {
        let data = SshSig::signed_data(NAMESPACE, HASH, msg).map_err(|e| e.to_string())?;
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        // One reconnection: an agent restarted since (its keys re-added) keeps working.
        let mut last = String::new();
        for _ in 0..2 {
            if conn.is_none() {
                *conn = Some(open_agent(&self.path)?);
            }
            let c = conn.as_mut().expect("connected above");
            match self.sign_once(c, &data) {
                Ok(sig) => {
                    let sig = SshSig::new(self.key.key_data().clone(), NAMESPACE, HASH, sig)
                        .map_err(|e| e.to_string())?;
                    // (an agent that signs with another key, or signs something else, is
                    // caught here, before the record commits)
                    let armored = sshsig::armor(&sig)?;
                    sshsig::check(&self.key, msg, &armored).map_err(|why| {
                        format!(
                            "the ssh-agent at {} gave a signature that does not verify ({why})",
                            self.path.display()
                        )
                    })?;
                    return Ok(armored);
                }
                Err(e) => {
                    last = e.why;
                    *conn = None;
                    // (an agent that did not answer in time is not asked again: the write
                    // lock is held meanwhile)
                    if e.timed_out {
                        break;
                    }
                }
            }
        }
        Err(format!("the ssh-agent at {}: {last}", self.path.display()))
    }
}

fn open_agent(path: &Path) -> Result<UnixStream, String> {
    let c = UnixStream::connect(path).map_err(|e| format!("cannot connect ({e})"))?;
    // (an agent that asks a person to confirm, or a hardware key waiting for a touch, may take
    // a few seconds; one that hangs is given up on, the change not saved, so that the write
    // lock it holds meanwhile is not held for long)
    let wait = Some(AGENT_WAIT);
    c.set_read_timeout(wait).map_err(|e| e.to_string())?;
    c.set_write_timeout(wait).map_err(|e| e.to_string())?;
    Ok(c)
}

/// What went wrong talking to an agent, and whether it was that it did not answer in time.
struct AgentError {
    why: String,
    timed_out: bool,
}

impl From<String> for AgentError {
    fn from(why: String) -> Self {
        AgentError {
            why,
            timed_out: false,
        }
    }
}

impl From<&str> for AgentError {
    fn from(why: &str) -> Self {
        AgentError::from(why.to_string())
    }
}

impl From<AgentError> for String {
    fn from(e: AgentError) -> String {
        e.why
    }
}

/// Sends one message and reads the answer (both framed by a 4-byte length).
fn request(conn: &mut UnixStream, msg: &[u8]) -> Result<Vec<u8>, AgentError> {
    let mut framed = Vec::with_capacity(msg.len() + 4);
    framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    framed.extend_from_slice(msg);
    conn.write_all(&framed)
        .map_err(|e| format!("cannot write to it ({e})"))?;
    let mut len = [0u8; 4];
    conn.read_exact(&mut len).map_err(|e| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            AgentError {
                why: format!(
                    "no answer within {} s (a key waiting for a touch or a confirmation?)",
                    AGENT_WAIT.as_secs()
                ),
                timed_out: true,
            }
        } else {
            AgentError::from(format!("no answer ({e})"))
        }
    })?;
    let len = u32::from_be_bytes(len) as usize;
    if len == 0 || len > MAX_ANSWER {
        return Err(format!("an answer of {len} bytes").into());
    }
    let mut answer = vec![0u8; len];
    conn.read_exact(&mut answer)
        .map_err(|e| format!("a short answer ({e})"))?;
    Ok(answer)
}

fn take_u8(r: &mut &[u8]) -> Result<u8, String> {
    let (&b, rest) = r.split_first().ok_or("a short answer")?;
    *r = rest;
    Ok(b)
}

fn take_u32(r: &mut &[u8]) -> Result<u32, String> {
    if r.len() < 4 {
        return Err("a short answer".into());
    }
    let (n, rest) = r.split_at(4);
    *r = rest;
    Ok(u32::from_be_bytes(n.try_into().expect("4 bytes")))
}

fn take_string<'a>(r: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let n = take_u32(r)? as usize;
    if r.len() < n {
        return Err("a short answer".into());
    }
    let (s, rest) = r.split_at(n);
    *r = rest;
    Ok(s)
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}
