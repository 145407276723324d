//! Signed records on the built binary: a person with a registered SSH key acts only with its
//! private key (a key file named by `ASSAY_KEY`, or an `ssh-agent`), every record they author
//! carries an SSHSIG that `ssh-keygen -Y verify` accepts, and `audit verify` fails on a record
//! of theirs that is unsigned, signed by another key, or altered — and on a key removed behind
//! assay's back. The agent and `ssh-keygen` checks run when OpenSSH is installed and say so
//! when it is not.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use ssh_key::{LineEnding, PrivateKey};

const ID: &str = "P-2026-0050";

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn cmd(&self, user: &str, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
        let mut c = assert_cmd::Command::cargo_bin("assay").unwrap();
        c.env_remove("SSH_AUTH_SOCK").env_remove("ASSAY_KEY");
        for (k, v) in env {
            c.env(k, v);
        }
        c.arg("--db")
            .arg(&self.db)
            .args(["--as", user])
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, user: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
        let o = self.cmd(user, args, env);
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn fails(&self, user: &str, args: &[&str], env: &[(&str, &Path)]) -> String {
        let o = self.cmd(user, args, env);
        assert_eq!(o.status.code(), Some(1), "{args:?} should fail: {o:?}");
        String::from_utf8(o.stderr).unwrap()
    }

    /// A copy of the workspace changed by `sql` behind assay's back, and what `audit verify`
    /// says of it (it must fail).
    fn tampered(&self, name: &str, sql: &str) -> String {
        let copy = self.path(name);
        std::fs::copy(&self.db, &copy).unwrap();
        let c = rusqlite::Connection::open(&copy).unwrap();
        c.execute_batch(sql).unwrap();
        drop(c);
        let o = assert_cmd::Command::cargo_bin("assay")
            .unwrap()
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("ASSAY_KEY")
            .arg("--db")
            .arg(&copy)
            .args(["--as", "lead", "audit", "verify"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{sql}: {o:?}");
        String::from_utf8(o.stderr).unwrap()
    }
}

/// A workspace with the home-energy rubric and one sample portfolio, a lead and an assessor
/// `ann` registered (nobody keyed yet).
fn workspace() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let db = dir.path().join("w.db");
    let env = Env { dir, db };
    env.ok("lead", &["user", "add", "lead", "--role", "lead"], &[]);
    env.ok("lead", &["user", "add", "ann", "--role", "assessor"], &[]);
    let rubric = root.join("rubrics/sustainable-home-energy.yaml");
    let portfolio = root.join("samples/portfolios").join(ID);
    env.ok(
        "lead",
        &[
            "import",
            rubric.to_str().unwrap(),
            portfolio.to_str().unwrap(),
        ],
        &[],
    );
    env.ok("lead", &["assign", ID, "--to", "ann"], &[]);
    env
}

/// An Ed25519 key pair from `seed`, written as `NAME` (private, mode 0600) and `NAME.pub`.
fn key_files(dir: &Path, name: &str, seed: u8) -> (PathBuf, PathBuf) {
    let key = PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]));
    let private = dir.join(name);
    std::fs::write(&private, key.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(&public, key.public_key().to_openssh().unwrap() + "\n").unwrap();
    (private, public)
}

fn openssh() -> bool {
    ["ssh-keygen", "ssh-agent", "ssh-add"]
        .iter()
        .all(|t| Command::new(t).arg("-?").output().is_ok())
}

#[test]
fn a_keyed_person_acts_only_with_their_key_and_every_record_of_theirs_is_signed() {
    let env = workspace();
    let (ann_key, ann_pub) = key_files(env.dir.path(), "ann", 1);
    let (other_key, _) = key_files(env.dir.path(), "other", 2);
    let said = env.ok(
        "lead",
        &["user", "key", "ann", ann_pub.to_str().unwrap()],
        &[],
    );
    assert!(said.contains("SHA256:"), "{said}");
    assert!(
        env.ok("lead", &["user", "list"], &[]).contains("SHA256:"),
        "the list shows the key's fingerprint"
    );

    // Without her key nobody acts as ann, reading included; another key will not do.
    let mark = ["mark", ID, "--level", "energy-use=achieved"];
    for args in [
        &mark[..],
        &["list"][..],
        &["audit", "log"][..],
        &["audit", "verify"][..],
    ] {
        let e = env.fails("ann", args, &[]);
        assert!(e.contains("registered SSH key"), "{e}");
        assert!(e.contains("ssh-add"), "says what to do: {e}");
    }
    let e = env.fails("ann", &mark, &[("ASSAY_KEY", &other_key)]);
    assert!(e.contains("not the registered one"), "{e}");
    // A key file others can read is refused, as ssh refuses it.
    let loose = env.path("loose");
    std::fs::copy(&ann_key, &loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = env.fails("ann", &mark, &[("ASSAY_KEY", &loose)]);
    assert!(e.contains("chmod 600"), "{e}");

    // With it, her marks are saved and each of her records is signed.
    env.ok("ann", &mark, &[("ASSAY_KEY", &ann_key)]);
    env.ok(
        "ann",
        &[
            "mark",
            ID,
            "--level",
            "measures=achieved",
            "--gate",
            "identity",
        ],
        &[("ASSAY_KEY", &ann_key)],
    );
    let c = rusqlite::Connection::open(&env.db).unwrap();
    let rows: Vec<(i64, String, Option<String>)> = c
        .prepare("SELECT seq, actor, sig FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ann_records: Vec<_> = rows.iter().filter(|r| r.1 == "ann").collect();
    assert!(ann_records.len() >= 3, "{rows:?}");
    assert!(
        ann_records.iter().all(|r| r
            .2
            .as_deref()
            .is_some_and(|s| s.starts_with("-----BEGIN SSH SIGNATURE-----"))),
        "every record ann authored is signed: {rows:?}"
    );
    assert!(
        rows.iter().filter(|r| r.1 == "lead").all(|r| r.2.is_none()),
        "the lead has no key: her records are not"
    );
    let ok = env.ok("lead", &["audit", "verify"], &[]);
    assert!(ok.contains("audit chain ok"), "{ok}");
    let log = env.ok("lead", &["audit", "log"], &[]);
    let signed_lines: Vec<&str> = log.lines().filter(|l| l.ends_with("[signed]")).collect();
    assert_eq!(signed_lines.len(), ann_records.len(), "{log}");
    assert!(signed_lines.iter().all(|l| l.contains(" ann ")), "{log}");

    // Behind assay's back: an unsigned record, a signature moved from another record, a
    // record altered under its signature, and a key removed — each is found.
    let (first, second) = (ann_records[0].0, ann_records[1].0);
    let e = env.tampered(
        "t1.db",
        &format!("UPDATE audit SET sig = NULL WHERE seq = {first}"),
    );
    assert!(
        e.contains(&format!("record {first}")) && e.contains("unsigned"),
        "{e}"
    );
    let e = env.tampered(
        "t2.db",
        &format!(
            "UPDATE audit SET sig = (SELECT sig FROM audit WHERE seq = {first}) WHERE seq = {second}"
        ),
    );
    assert!(
        e.contains(&format!("record {second}")) && e.contains("does not match its content"),
        "{e}"
    );
    let e = env.tampered(
        "t5.db",
        &format!("UPDATE audit SET sig = CAST(sig AS BLOB) WHERE seq = {first}"),
    );
    assert!(e.contains(&format!("record {first}")), "{e}");
    let o = assert_cmd::Command::cargo_bin("assay")
        .unwrap()
        .arg("--db")
        .arg(env.path("t5.db"))
        .args(["--as", "lead", "audit", "sig", &first.to_string(), "--out"])
        .arg(env.path("out5"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.code() == Some(1) && said.contains("changed behind assay's back"),
        "{o:?}"
    );
    let e = env.tampered(
        "t3.db",
        "UPDATE users SET ssh_key = NULL WHERE name = 'ann'",
    );
    assert!(e.contains("ssh_key"), "{e}");
    // A record forged as ann with a correct hash, chained on, but without her key.
    let head: (i64, String, String) = c
        .query_row(
            "SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let seq = head.0 + 1;
    let after = r#"{"level":"not-yet","feedback":null}"#;
    let entity = format!("note/{ID}");
    let hash = assay::store::audit::hash_of(
        seq,
        &head.2,
        "ann",
        "note",
        &entity,
        Some(ID),
        None,
        Some(after),
        &head.1,
    );
    let e = env.tampered(
        "t4.db",
        &format!(
            "INSERT INTO audit (seq, at, actor, action, entity, portfolio, before, after, prev, hash)
             VALUES ({seq}, '{}', 'ann', 'note', '{entity}', '{ID}', NULL, '{after}', '{}', '{hash}')",
            head.2, head.1
        ),
    );
    assert!(
        e.contains(&format!("record {seq}")) && e.contains("unsigned"),
        "{e}"
    );

    // Registering one's own key needs it at hand; an assessor sets nobody else's.
    let (_, other_pub) = key_files(env.dir.path(), "other2", 3);
    let e = env.fails(
        "ann",
        &["user", "key", "ann", other_pub.to_str().unwrap()],
        &[("ASSAY_KEY", &ann_key)],
    );
    assert!(e.contains("must be at hand"), "{e}");
    let e = env.fails(
        "ann",
        &["user", "key", "lead", other_pub.to_str().unwrap()],
        &[("ASSAY_KEY", &ann_key)],
    );
    assert!(e.contains("only a lead"), "{e}");
    // The same key again changes nothing and records nothing.
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap()
    };
    let before = count(&c);
    let said = env.ok(
        "lead",
        &["user", "key", "ann", ann_pub.to_str().unwrap()],
        &[],
    );
    assert!(said.contains("nothing changed"), "{said}");
    assert_eq!(count(&c), before);
    // One key is one person's; a file of two keys is refused.
    env.ok("lead", &["user", "add", "cy", "--role", "assessor"], &[]);
    let e = env.fails(
        "lead",
        &["user", "key", "cy", ann_pub.to_str().unwrap()],
        &[],
    );
    assert!(e.contains("registered for `ann` already"), "{e}");
    let two = env.path("two.pub");
    let both =
        std::fs::read_to_string(&ann_pub).unwrap() + &std::fs::read_to_string(&other_pub).unwrap();
    std::fs::write(&two, both).unwrap();
    let e = env.fails("lead", &["user", "key", "cy", two.to_str().unwrap()], &[]);
    assert!(e.contains("more than one"), "{e}");
    // A private key is never taken for a public one.
    let e = env.fails(
        "lead",
        &["user", "key", "ann", ann_key.to_str().unwrap()],
        &[],
    );
    assert!(e.contains("private key"), "{e}");
}

#[test]
fn records_signed_through_an_agent_pass_ssh_keygen_verify() {
    if !openssh() {
        eprintln!("skipped: OpenSSH (ssh-keygen, ssh-agent, ssh-add) is not installed");
        return;
    }
    let env = workspace();
    let dir = env.dir.path();
    // Keys made by OpenSSH itself: Ed25519 for the assessor, RSA for the lead.
    for (name, t) in [("ann", "ed25519"), ("lead", "rsa")] {
        let s = Command::new("ssh-keygen")
            .args(["-q", "-t", t, "-N", "", "-C", name, "-f"])
            .arg(dir.join(name))
            .status()
            .unwrap();
        assert!(s.success());
    }
    let sock = dir.join("agent.sock");
    let out = Command::new("ssh-agent")
        .arg("-a")
        .arg(&sock)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let pid: String = text
        .split("SSH_AGENT_PID=")
        .nth(1)
        .and_then(|t| t.split(';').next())
        .unwrap()
        .to_string();
    struct Kill(String);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = Command::new("kill").arg(&self.0).status();
        }
    }
    let _agent = Kill(pid);
    for name in ["ann", "lead"] {
        let s = Command::new("ssh-add")
            .arg("-q")
            .arg(dir.join(name))
            .env("SSH_AUTH_SOCK", &sock)
            .status()
            .unwrap();
        assert!(s.success());
    }
    let agent = [("SSH_AUTH_SOCK", sock.as_path())];
    let ann_pub = dir.join("ann.pub");
    let lead_pub = dir.join("lead.pub");
    env.ok(
        "lead",
        &["user", "key", "ann", ann_pub.to_str().unwrap()],
        &[],
    );
    // The lead sets her own key: the agent proves she holds it, and signs from then on.
    env.ok(
        "lead",
        &["user", "key", "lead", lead_pub.to_str().unwrap()],
        &agent,
    );
    env.ok(
        "ann",
        &["mark", ID, "--level", "energy-use=achieved"],
        &agent,
    );
    env.ok("lead", &["assign", ID, "--to", "ann"], &agent);
    assert!(
        env.ok("lead", &["audit", "verify"], &agent)
            .contains("audit chain ok")
    );

    let c = rusqlite::Connection::open(&env.db).unwrap();
    let signed: Vec<(i64, String)> = c
        .prepare("SELECT seq, actor FROM audit WHERE sig IS NOT NULL ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(signed.iter().any(|r| r.1 == "ann") && signed.iter().any(|r| r.1 == "lead"));
    for (seq, actor) in &signed {
        let out = dir.join(format!("rec{seq}"));
        let said = env.ok(
            "lead",
            &[
                "audit",
                "sig",
                &seq.to_string(),
                "--out",
                out.to_str().unwrap(),
            ],
            &agent,
        );
        assert!(said.contains("ssh-keygen -Y verify"), "{said}");
        let name = format!("record-{seq}.json");
        let check = |message: &Path| {
            Command::new("ssh-keygen")
                .args(["-Y", "verify", "-f"])
                .arg(out.join("allowed_signers"))
                .args(["-I", actor, "-n", "assay-audit", "-s"])
                .arg(out.join(format!("{name}.sig")))
                .stdin(std::fs::File::open(message).unwrap())
                .output()
                .unwrap()
        };
        let o = check(&out.join(&name));
        assert!(o.status.success(), "record {seq}: {o:?}");
        // ssh-keygen rejects the record changed by one byte.
        let mut text = std::fs::read(out.join(&name)).unwrap();
        let last = text.len() - 3;
        text[last] ^= 1;
        std::fs::write(dir.join("changed.json"), &text).unwrap();
        assert!(!check(&dir.join("changed.json")).status.success());
        // The file is the record's text: its SHA-256 is the hash in the chain.
        let hash: String = c
            .query_row("SELECT hash FROM audit WHERE seq = ?1", [seq], |r| r.get(0))
            .unwrap();
        use sha2::Digest;
        let bytes = std::fs::read(out.join(&name)).unwrap();
        assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), hash);
    }
    // An assessor does not take another's record out whole.
    let lead_seq = signed.iter().find(|r| r.1 == "lead").unwrap().0;
    let e = env.fails(
        "ann",
        &[
            "audit",
            "sig",
            &lead_seq.to_string(),
            "--out",
            dir.join("x").to_str().unwrap(),
        ],
        &agent,
    );
    assert!(e.contains("only a lead or its author"), "{e}");
}
