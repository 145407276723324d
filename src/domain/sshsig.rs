//! Signed records: a person's SSH public key and the SSHSIG signatures (the format of
//! `ssh-keygen -Y sign` and git's SSH signing) that vouch for the audit records they author.
//! Pure: parsing and checking only; signing happens where the private key is (an agent or a
//! key file: `app::signing`).

use ssh_key::{HashAlg, LineEnding, PublicKey, SshSig};

/// The SSHSIG namespace of an audit record: a signature made for anything else (a git commit,
/// a file) never passes for one.
pub const NAMESPACE: &str = "assay-audit";

/// The hash SSHSIG applies to the message before it is signed (what `ssh-keygen -Y sign` uses).
pub const HASH: HashAlg = HashAlg::Sha512;

/// Key types accepted for people: what `ssh-keygen` makes by default and what hardware keys and
/// agents commonly hold. (DSA is refused: OpenSSH itself no longer signs with it.)
fn usable(key: &PublicKey) -> Result<(), String> {
    use ssh_key::Algorithm;
    match key.algorithm() {
        Algorithm::Ed25519 => Ok(()),
        Algorithm::Ecdsa {
            curve: ssh_key::EcdsaCurve::NistP256,
        } => Ok(()),
        Algorithm::Rsa { .. } => {
            let bits = key
                .key_data()
                .rsa()
                .map(|k| k.n().as_positive_bytes().map_or(0, |b| b.len() * 8))
                .unwrap_or(0);
            if bits < 2048 {
                Err(format!(
                    "an RSA key of {bits} bits is too weak; use one of at least 2048 bits, or Ed25519"
                ))
            } else {
                Ok(())
            }
        }
        other => Err(format!(
            "{} keys are not supported; use an Ed25519 (`ssh-keygen -t ed25519`), ECDSA P-256 or RSA key",
            other.as_str()
        )),
    }
}

/// Reads a public key in OpenSSH's one-line form (`ssh-ed25519 AAAA… comment`, as in a `.pub`
/// file or `authorized_keys`); the comment is dropped. Anything else is refused with what to give.
pub fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines
        .next()
        .ok_or("it holds no key: give the public key file (`~/.ssh/id_ed25519.pub`)")?;
    if line.starts_with("---- BEGIN SSH2 PUBLIC KEY")
        || (line.starts_with("-----BEGIN") && line.contains("PUBLIC KEY"))
    {
        return Err(
            "that is a public key in PEM or RFC 4716 form: give it in OpenSSH's one-line form (the `.pub` file ssh-keygen writes; `ssh-keygen -i -f FILE` converts RFC 4716, `ssh-keygen -i -m PKCS8 -f FILE` or `-m PEM` a PEM key)"
                .into(),
        );
    }
    if line.starts_with("-----BEGIN") {
        return Err(
            "that is a private key: give its public half (the `.pub` file beside it); a private key never goes into the workspace"
                .into(),
        );
    }
    let key = PublicKey::from_openssh(line)
        .map_err(|e| format!("it is not an OpenSSH public key line (`ssh-ed25519 AAAA…`): {e}"))?;
    usable(&key)?;
    if lines.next().is_some() {
        return Err("it holds more than one line: give one person's one public key".into());
    }
    Ok(PublicKey::new(key.key_data().clone(), ""))
}

/// A key as stored: its one-line OpenSSH form without a comment.
pub fn key_line(key: &PublicKey) -> String {
    key.to_openssh().unwrap_or_default()
}

/// The key's SHA-256 fingerprint, as `ssh-keygen -l` prints it (`SHA256:…`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The armored form of a signature (`-----BEGIN SSH SIGNATURE-----`), as stored and as
/// `ssh-keygen -Y verify -s` reads it.
pub fn armor(sig: &SshSig) -> Result<String, String> {
    sig.to_pem(LineEnding::LF).map_err(|e| e.to_string())
}

/// Whether `armored` is a signature by `key` over `msg` in the audit namespace; the reason when
/// it is not.
pub fn check(key: &PublicKey, msg: &[u8], armored: &str) -> Result<(), String> {
    let sig = SshSig::from_pem(armored.as_bytes())
        .map_err(|e| format!("its signature is not an SSH signature ({e})"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "its signature was made for {:?}, not for an assay record",
            sig.namespace()
        ));
    }
    if sig.public_key() != key.key_data() {
        return Err(format!(
            "it is signed by another key ({}), not its author's ({})",
            PublicKey::new(sig.public_key().clone(), "").fingerprint(HashAlg::Sha256),
            fingerprint(key)
        ));
    }
    key.verify(NAMESPACE, msg, &sig)
        .map_err(|_| "its signature does not match its content".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOEbHnKpNb4zgnAsWf7JSVW7A4M3yFNS/4I6XfS+FDIB ann@example";

    #[test]
    fn a_public_key_line_is_read_and_its_comment_dropped() {
        let k = parse_public_key(&format!("\n# ann's key\n{ED}\n")).unwrap();
        assert_eq!(
            key_line(&k),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOEbHnKpNb4zgnAsWf7JSVW7A4M3yFNS/4I6XfS+FDIB"
        );
        assert!(fingerprint(&k).starts_with("SHA256:"));
    }

    #[test]
    fn what_is_not_a_public_key_is_refused_with_what_to_give() {
        assert!(parse_public_key("").unwrap_err().contains("no key"));
        assert!(
            parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n")
                .unwrap_err()
                .contains("private key")
        );
        assert!(parse_public_key("ssh-ed25519 notbase64").is_err());
        for pem in [
            "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----",
            "---- BEGIN SSH2 PUBLIC KEY ----",
        ] {
            let e = parse_public_key(&format!("{pem}\nAAAA\n")).unwrap_err();
            assert!(e.contains("PEM or RFC 4716"), "{pem}: {e}");
        }
    }

    #[test]
    fn a_signature_is_checked_against_key_namespace_and_content() {
        use ssh_key::PrivateKey;
        let key = |n: u8| PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[n; 32]));
        let (a, b) = (key(1), key(2));
        let msg = b"[1,\"2026-12-03T10:00:00Z\",\"ann\"]";
        let sig = armor(&a.sign(NAMESPACE, HASH, msg).unwrap()).unwrap();
        check(a.public_key(), msg, &sig).unwrap();
        assert!(
            check(a.public_key(), b"[1,\"x\"]", &sig)
                .unwrap_err()
                .contains("does not match")
        );
        assert!(
            check(b.public_key(), msg, &sig)
                .unwrap_err()
                .contains("another key")
        );
        let git = armor(&a.sign("git", HASH, msg).unwrap()).unwrap();
        assert!(
            check(a.public_key(), msg, &git)
                .unwrap_err()
                .contains("git")
        );
        assert!(check(a.public_key(), msg, "junk").is_err());
    }
}
