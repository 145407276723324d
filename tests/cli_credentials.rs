//! Signed credentials end to end on the built binary: issuer keys, `export --format obv3
//! --sign` and `obv3-jwt` verified by `assay verify` (and by Digital Bazaar's JavaScript
//! libraries when they are installed), tampering and revocation caught, the bulk-issue files of
//! Credly and Canvas Credentials.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;

const IDS: [&str; 3] = ["P-2026-0050", "P-2026-0051", "P-2026-0052"];

struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
    /// The issuer folder: apart from the workspace's (assay refuses keys inside it).
    _home: tempfile::TempDir,
    keys: PathBuf,
}

impl Env {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, user: &str, args: &[&str]) -> std::process::Output {
        assert_cmd::Command::cargo_bin("assay")
            .unwrap()
            .env("ASSAY_ISSUER_DIR", &self.keys)
            .arg("--db")
            .arg(&self.db)
            .args(["--as", user])
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, user: &str, args: &[&str]) -> String {
        let o = self.run(user, args);
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn fails(&self, user: &str, args: &[&str]) -> String {
        let o = self.run(user, args);
        assert_eq!(o.status.code(), Some(1), "{args:?} should fail: {o:?}");
        String::from_utf8(o.stderr).unwrap()
    }
}

/// The home-energy rubric with `extra` lines added to its `credential:` section, three of its
/// sample portfolios, decided (two awarded, one not yet) and released.
fn released(extra: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rubric =
        std::fs::read_to_string(root.join("rubrics/sustainable-home-energy.yaml")).unwrap();
    let rubric = rubric.replacen("credential:\n", &format!("credential:\n{extra}"), 1);
    let rpath = dir.path().join("rubric.yaml");
    std::fs::write(&rpath, rubric).unwrap();
    let mut paths = vec![rpath];
    for id in IDS {
        let to = dir.path().join(id);
        copy_dir(&root.join("samples/portfolios").join(id), &to);
        paths.push(to);
    }
    let db = dir.path().join("w.db");
    let mut ann = assay::app::Workspace::open(&db, "ann".into()).unwrap();
    let s = ann.import(&paths, &mut |_, _| {}).unwrap();
    assert!(s.rejected.is_empty(), "{:?}", s.rejected);
    common::decide_and_release(&db, &IDS);
    let home = tempfile::tempdir().unwrap();
    let keys = home.path().join("issuers");
    Env {
        dir,
        db,
        _home: home,
        keys,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

const SIGNED: &str = "  signing:\n    issuer: did:web:learn.example.org\n    key: energy\n  credly_template: 7d5c1f0e-2a4b-4c6d-9e8f-0a1b2c3d4e5f\n  canvas_badge_class: 65f803ac53ae0b2639ac0eba\n";

#[test]
fn signed_credentials_verify_and_tampering_or_revocation_is_caught() {
    let env = released(SIGNED);
    let init = env.ok(
        "ann",
        &[
            "issuer",
            "init",
            "energy",
            "--id",
            "did:web:learn.example.org",
            "--name",
            "Cork Energy",
        ],
    );
    let key_file = env.keys.join("energy.json");
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::metadata(&env.keys).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let secret = json(&key_file);
    let show = env.ok("ann", &["issuer", "show", "energy"]);
    for s in [&init, &show] {
        for k in ["ed25519", "p256"] {
            assert!(
                !s.contains(secret[k].as_str().unwrap()),
                "the private key was printed"
            );
        }
    }
    assert!(show.contains("did:web:learn.example.org#z6Mk"), "{show}");
    // an existing key is never replaced
    env.fails(
        "ann",
        &[
            "issuer",
            "init",
            "energy",
            "--id",
            "did:web:learn.example.org",
        ],
    );
    // nor are keys kept inside the workspace's folder
    let o = assert_cmd::Command::cargo_bin("assay")
        .unwrap()
        .env("ASSAY_ISSUER_DIR", env.path("keys"))
        .arg("--db")
        .arg(&env.db)
        .args(["issuer", "init", "--id", "did:web:learn.example.org"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("inside the workspace's folder"));

    let signed = env.path("signed");
    env.ok(
        "mo",
        &[
            "export",
            "--format",
            "obv3",
            "--sign",
            "--out",
            signed.to_str().unwrap(),
        ],
    );
    let creds = files(&signed, "json");
    assert_eq!(creds.len(), 2, "two awarded decisions");
    let v = common::ob_validator();
    for f in &creds {
        let c = json(f);
        let errors: Vec<String> = v.iter_errors(&c).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
        assert_eq!(c["issuer"]["id"], "did:web:learn.example.org");
        let p = &c["proof"][0];
        assert_eq!(p["type"], "DataIntegrityProof");
        assert_eq!(p["cryptosuite"], "eddsa-rdfc-2022");
        assert_eq!(p["proofPurpose"], "assertionMethod");
        assert_eq!(c["credentialStatus"]["type"], "BitstringStatusListEntry");
    }
    let jwts = env.path("jwt");
    env.ok(
        "mo",
        &[
            "export",
            "--format",
            "obv3-jwt",
            "--out",
            jwts.to_str().unwrap(),
        ],
    );
    let tokens = files(&jwts, "jwt");
    assert_eq!(tokens.len(), 2);
    let token = std::fs::read_to_string(&tokens[0]).unwrap();
    let parts: Vec<&str> = token.trim().split('.').collect();
    assert_eq!(parts.len(), 3);
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header: Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert!(
        header["kid"]
            .as_str()
            .unwrap()
            .starts_with("did:web:learn.example.org#zDn")
    );
    let payload: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(payload["iss"], "did:web:learn.example.org");
    assert_eq!(payload["jti"], payload["id"]);
    assert!(payload["nbf"].as_i64().unwrap() > 1_700_000_000);

    // without the published keys a did:web key is unknown; with them everything verifies
    let out = env.fails("ann", &["verify", creds[0].to_str().unwrap()]);
    assert!(out.contains("is not known"), "{out}");
    let publ = env.path("pub");
    env.ok(
        "ann",
        &[
            "issuer",
            "publish",
            "energy",
            "--out",
            publ.to_str().unwrap(),
        ],
    );
    assert!(publ.join("did.json").is_file());
    assert!(publ.join(".well-known/jwks.json").is_file());
    let keys = publ.to_str().unwrap();
    let ok = env.ok(
        "ann",
        &[
            "verify",
            signed.to_str().unwrap(),
            jwts.to_str().unwrap(),
            "--keys",
            keys,
        ],
    );
    assert!(ok.contains("4 credential(s) verified"), "{ok}");
    assert!(ok.contains("not revoked"), "{ok}");

    // a changed credential fails, naming the problem
    let mut forged = json(&creds[0]);
    forged["credentialSubject"]["achievement"]["name"] = Value::from("Nuclear Engineering");
    let f = env.path("forged.json");
    std::fs::write(&f, serde_json::to_vec(&forged).unwrap()).unwrap();
    let out = env.fails("ann", &["verify", f.to_str().unwrap(), "--keys", keys]);
    assert!(out.contains("signature does not match"), "{out}");
    // a JWT with a changed payload too
    let mut p2 = payload.clone();
    p2["name"] = Value::from("Forged");
    let forged_jwt = format!("{}.{}.{}", parts[0], b64.encode(p2.to_string()), parts[2]);
    let fj = env.path("forged.jwt");
    std::fs::write(&fj, forged_jwt).unwrap();
    let out = env.fails("ann", &["verify", fj.to_str().unwrap(), "--keys", keys]);
    assert!(out.contains("does not match"), "{out}");

    // revocation: the lead revokes, publishes; verify reports it
    let id = json(&creds[0])["id"].as_str().unwrap().to_string();
    env.ok(
        "ann",
        &["revoke", &id, "--reason", "Evidence found to be copied."],
    );
    let again = env.fails("ann", &["revoke", &id, "--reason", "twice"]);
    assert!(again.contains("already revoked"), "{again}");
    env.ok("ann", &["issuer", "publish", "energy", "--out", keys]);
    let out = env.fails(
        "ann",
        &[
            "verify",
            creds[0].to_str().unwrap(),
            tokens[0].to_str().unwrap(),
            creds[1].to_str().unwrap(),
            "--keys",
            keys,
        ],
    );
    assert!(out.contains("has been revoked"), "{out}");
    assert!(out.contains("2 of 3 credential(s) did not verify"), "{out}");
    let log = env.ok("ann", &["audit", "log"]);
    assert!(log.contains("credential.revoke"), "{log}");
    assert!(
        env.ok("ann", &["audit", "verify"])
            .contains("audit chain ok")
    );

    // an independent verifier (Digital Bazaar's jsonld-signatures), when installed
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sign-js");
    if js.join("node_modules").is_dir() {
        let did = json(&publ.join("did.json"));
        let mb = did["verificationMethod"][0]["publicKeyMultibase"]
            .as_str()
            .unwrap()
            .to_string();
        let lines: String = creds.iter().map(|f| json(f).to_string() + "\n").collect();
        let jl = env.path("signed.jsonl");
        std::fs::write(&jl, lines).unwrap();
        let o = std::process::Command::new("node")
            .arg(js.join("verify.mjs"))
            .args(["--public-key-multibase", &mb])
            .arg(&jl)
            .output()
            .unwrap();
        assert!(o.status.success(), "Digital Bazaar's verifier: {o:?}");
        let fl = env.path("forged.jsonl");
        std::fs::write(&fl, forged.to_string() + "\n").unwrap();
        let o = std::process::Command::new("node")
            .arg(js.join("verify.mjs"))
            .args(["--public-key-multibase", &mb])
            .arg(&fl)
            .output()
            .unwrap();
        assert!(
            !o.status.success(),
            "Digital Bazaar's verifier took a forged credential"
        );
    } else {
        eprintln!(
            "skipped: Digital Bazaar's verifier (run `npm ci` in scripts/sign-js to check assay's signatures with it too)"
        );
    }
}

#[test]
fn a_did_key_issuer_needs_nothing_published_and_mismatches_are_refused() {
    let env = released("  signing:\n    key: default\n");
    // did:key has no web address for status lists
    let e = env.fails("ann", &["issuer", "init", "--id", "did:key"]);
    assert!(e.contains("--status-url"), "{e}");
    env.ok(
        "ann",
        &[
            "issuer",
            "init",
            "--id",
            "did:key",
            "--status-url",
            "https://status.example.org/lists",
        ],
    );
    let out = env.path("dk");
    env.ok(
        "mo",
        &[
            "export",
            "--format",
            "obv3",
            "--sign",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let ok = env.ok("ann", &["verify", out.to_str().unwrap()]);
    assert!(ok.contains("2 credential(s) verified"), "{ok}");
    assert!(ok.contains("status not checked"), "{ok}");
    // JWTs need a P-256 key of the issuer: refused before anything is written
    let jwt = env.path("dk-jwt");
    let e = env.fails(
        "mo",
        &[
            "export",
            "--format",
            "obv3-jwt",
            "--out",
            jwt.to_str().unwrap(),
        ],
    );
    assert!(
        e.contains("did:key issuer signs Data Integrity proofs only"),
        "{e}"
    );
    assert!(!jwt.exists());
    // a key file others can read is refused
    let f = env.keys.join("default.json");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = env.fails(
        "mo",
        &[
            "export",
            "--format",
            "obv3",
            "--sign",
            "--all",
            "--out",
            env.path("x").to_str().unwrap(),
        ],
    );
    assert!(e.contains("can be read by others"), "{e}");
}

#[test]
fn the_rubric_names_the_issuer_and_rubric_check_checks_it() {
    let env = released(SIGNED);
    // the rubric says did:web:learn.example.org, the key "energy" is someone else's
    env.ok(
        "ann",
        &[
            "issuer",
            "init",
            "energy",
            "--id",
            "https://other.example.com/issuer",
        ],
    );
    let e = env.fails(
        "mo",
        &[
            "export",
            "--format",
            "obv3",
            "--sign",
            "--out",
            env.path("s").to_str().unwrap(),
        ],
    );
    assert!(
        e.contains("says its credentials are issued by did:web:learn.example.org"),
        "{e}"
    );
    assert!(!env.path("s").exists(), "nothing written");
    // an issuer id that cannot be one is a rubric error at its line
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rubric =
        std::fs::read_to_string(root.join("rubrics/sustainable-home-energy.yaml")).unwrap();
    let bad = rubric.replacen(
        "credential:\n",
        "credential:\n  signing:\n    issuer: Cork Energy\n",
        1,
    );
    let p = env.path("bad.yaml");
    std::fs::write(&p, bad).unwrap();
    let o = env.run("ann", &["rubric", "check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(err.contains("bad.yaml:13:13: error:"), "{err}");
    assert!(err.contains("cannot be an issuer id"), "{err}");
}

#[test]
fn bulk_files_for_credly_and_canvas_credentials() {
    let env = released(SIGNED);
    let credly = env.path("credly.csv");
    env.ok(
        "mo",
        &[
            "export",
            "--format",
            "credly",
            "--out",
            credly.to_str().unwrap(),
        ],
    );
    let mut r = csv::Reader::from_path(&credly).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        &header[..6],
        [
            "Badge Template ID",
            "Recipient Email",
            "First Name",
            "Middle Name",
            "Last Name",
            "Issued at date"
        ]
    );
    assert_eq!(header.len(), 18);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "awarded decisions only");
    for row in &rows {
        assert_eq!(&row[0], "7d5c1f0e-2a4b-4c6d-9e8f-0a1b2c3d4e5f");
        assert!(row[1].contains('@'));
        let d = &row[5];
        assert!(
            d.len() == 10 && &d[2..3] == "/" && &d[5..6] == "/",
            "MM/DD/YYYY: {d}"
        );
    }
    assert_eq!(&rows[0][2], "Björn");
    assert_eq!(&rows[0][4], "Åkesson");
    let canvas = env.path("canvas.csv");
    env.ok(
        "mo",
        &[
            "export",
            "--format",
            "canvas-credentials",
            "--out",
            canvas.to_str().unwrap(),
        ],
    );
    let mut r = csv::Reader::from_path(&canvas).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "Badge Class ID",
            "Identifier",
            "First Name",
            "Last Name",
            "Narrative",
            "Evidence Narrative",
            "Evidence URL",
            "Issue Date",
            "Expiration Date"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "65f803ac53ae0b2639ac0eba");
    assert_eq!(rows[0][7].len(), 10);
    assert_eq!(&rows[0][7][4..5], "-");
    // a rubric without the platform's id is refused, naming what to add
    let env = released("");
    let e = env.fails(
        "mo",
        &[
            "export",
            "--format",
            "credly",
            "--out",
            env.path("c.csv").to_str().unwrap(),
        ],
    );
    assert!(e.contains("credential.credly_template"), "{e}");
    assert!(!env.path("c.csv").exists());
}
