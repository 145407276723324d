//! End to end: the real binary in a pseudo-terminal, driven by keys alone, killed with SIGKILL in
//! the middle of marking, reopened, finished and submitted; the decision read back with
//! `assay list --json`.

#![cfg(unix)]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Session {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Session {
    fn start(db: &std::path::Path, cols: u16, rows: u16) -> Session {
        Self::start_with(db, cols, rows, &[])
    }

    /// As [`Session::start`], with `env` set for the workbench (and `SSH_AUTH_SOCK`, `ASSAY_KEY`
    /// unset unless given).
    fn start_with(
        db: &std::path::Path,
        cols: u16,
        rows: u16,
        env: &[(&str, &std::path::Path)],
    ) -> Session {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_assay"));
        cmd.arg("--db");
        cmd.arg(db);
        cmd.env("ASSAY_USER", "ann");
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("EDITOR");
        cmd.env_remove("VISUAL");
        cmd.env_remove("SSH_AUTH_SOCK");
        cmd.env_remove("ASSAY_KEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("assay starts");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let s2 = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s2.lock().unwrap().process(&buf[..n]);
            }
        });
        Session {
            screen,
            writer,
            child,
            _master: pty.master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str) {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if self.text().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        panic!(
            "timed out waiting for {needle:?}; the screen shows:\n{}",
            self.text()
        );
    }

    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if ok(&self.text()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        panic!(
            "timed out waiting for {what}; the screen shows:\n{}",
            self.text()
        );
    }

    fn send(&mut self, keys: &str) {
        for c in keys.chars() {
            let mut b = [0u8; 4];
            self.writer
                .write_all(c.encode_utf8(&mut b).as_bytes())
                .unwrap();
            self.writer.flush().unwrap();
            // one key at a time, as a person types
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Writes `bytes` at once (an escape sequence, such as a key's, must arrive whole).
    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(25));
    }

    /// The first start on an empty workspace at 80×24: seeded with the samples, their notice
    /// dismissed, the queue shown.
    fn seeded(db: &std::path::Path) -> Session {
        let mut s = Session::start(db, 80, 24);
        s.wait_for("seeded with the built-in samples");
        s.send("x");
        s.wait_for("P-2026-0041");
        s
    }

    /// Finds P-2026-0051 with the fuzzy filter and opens it.
    fn open_0051(&mut self) {
        self.send("/0051");
        self.wait_for("match");
        self.send("\r\r");
        self.wait_for("P-2026-0051 · Marta");
    }

    /// Waits up to 10 s for the workbench to end.
    fn wait_exit(&mut self) {
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        let pid = self.child.process_id().expect("pid");
        let ok = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let _ = self.child.wait();
    }
}

/// A workspace in `dir` with the sample rubrics and one portfolio `id` of learner `learner`,
/// whose one evidence `file` (claimed for `energy-use`) holds `text`; imported with the binary.
fn one_evidence_portfolio(
    dir: &std::path::Path,
    id: &str,
    learner: &str,
    file: &str,
    text: &str,
) -> std::path::PathBuf {
    let folder = dir.join(id);
    std::fs::create_dir_all(folder.join("evidence")).unwrap();
    std::fs::write(
        folder.join("portfolio.yaml"),
        format!(
            "format: assay.portfolio/v1\nid: {id}\nrubric: sustainable-home-energy\nlearner: {{id: L-1, name: {learner}}}\nsubmitted: 2026-01-01\nevidence:\n  - {{id: E1, title: Evidence, kind: informal, file: evidence/{file}, date: 2025, claims: [energy-use]}}\n"
        ),
    )
    .unwrap();
    std::fs::write(folder.join("evidence").join(file), text).unwrap();
    let db = dir.join("w.db");
    let rubrics = concat!(env!("CARGO_MANIFEST_DIR"), "/rubrics");
    let st = assert_cmd::Command::cargo_bin("assay")
        .unwrap()
        .args([
            "--db",
            db.to_str().unwrap(),
            "import",
            rubrics,
            folder.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    db
}

#[test]
fn mark_from_keys_survive_kill_and_submit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut s = Session::seeded(&db);
    s.open_0051();
    s.send("2j2j");
    s.wait_until("two criteria saved", |t| {
        t.lines().filter(|l| l.contains("2/3")).count() == 2 && t.contains("✓ saved")
    });
    s.kill9();

    // reopen: the marks are there and the portfolio is open where it was left
    let mut s = Session::start(&db, 100, 30);
    s.wait_for("P-2026-0051 · Marta");
    assert!(s.text().contains("2/3"), "{}", s.text());
    s.send("2j2j");
    for _ in 0..4 {
        s.send(" j");
    }
    s.wait_until("every gate confirmed", |t| {
        t.lines().filter(|l| l.starts_with("│[x]")).count() == 4
    });
    s.send("S");
    s.wait_for("Submit P-2026-0051?");
    s.send("y");
    s.wait_for("submitted P-2026-0051");
    s.send("q");
    s.wait_exit();
    assert!(s.child.try_wait().unwrap().is_some(), "q quits");

    // (as ann, who marked it: the rubric is blind, so before moderation nobody else sees it)
    let out = assert_cmd::Command::cargo_bin("assay")
        .unwrap()
        .args([
            "--db",
            db.to_str().unwrap(),
            "--as",
            "ann",
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "P-2026-0051")
        .unwrap();
    assert_eq!(row["status"], "submitted");
    assert_eq!(row["outcome"], "awarded");
    assert_eq!(row["grade"], "Achieved");
    assert_eq!(row["score"], 50.0);
}

#[test]
fn hostile_evidence_never_reaches_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = one_evidence_portfolio(
        dir.path(),
        "P-EVIL",
        "Eve",
        "n.md",
        "title \x1b]0;PWNED-TITLE\x07 clip \x1b]52;c;cm0gLXJmIH4=\x07 clear \x1b[2J bidi \u{202e}gnp.exe sep \u{2028}line\u{2029}para\n",
    );
    // capture the raw bytes the workbench writes
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_assay"));
    cmd.args(["--db", db.to_str().unwrap()]);
    cmd.env("ASSAY_USER", "ann");
    cmd.env("TERM", "xterm-256color");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let raw = Arc::new(Mutex::new(Vec::<u8>::new()));
    let r2 = raw.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            r2.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    std::thread::sleep(Duration::from_millis(800));
    for k in ["/", "E", "V", "I", "L", "\r", "\r"] {
        writer.write_all(k.as_bytes()).unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(60));
    }
    std::thread::sleep(Duration::from_millis(800));
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let bytes = raw.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("clear"), "the evidence was shown");
    assert!(
        !text.contains("PWNED-TITLE"),
        "the whole title sequence was removed"
    );
    assert!(
        !text.contains("\x1b]0;PWNED"),
        "no title change reaches the terminal"
    );
    assert!(
        !text.contains("\x1b]52"),
        "no clipboard write reaches the terminal"
    );
    assert!(
        !text.contains('\u{202e}'),
        "no bidi override reaches the terminal"
    );
    assert!(
        !text.contains('\u{2028}') && !text.contains('\u{2029}'),
        "no line or paragraph separator reaches the terminal"
    );
    // the only screen clears are the workbench's own (entering the alternate screen)
    assert!(text.contains('␛'), "removed sequences are shown visibly");
}

/// A long text evidence (long lines wrapping into many screen lines) is read to its last line
/// with End, and a refusal is shown whole at 80 columns.
#[test]
fn end_reaches_the_last_line_and_refusals_are_shown_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for i in 1..=3000 {
        log.push_str(&format!(
            "entry {i}: {}\n",
            "reading the meter again ".repeat(1 + i % 9)
        ));
    }
    log.push_str("FINAL LINE OF THE LOG\n");
    let db = one_evidence_portfolio(dir.path(), "P-LONG", "Lena", "log.txt", &log);
    let mut s = Session::start(&db, 80, 24);
    s.wait_for("P-LONG");
    s.send("/P-LONG");
    s.wait_for("match");
    s.send("\r\r");
    s.wait_for("P-LONG · Lena");
    s.wait_for("entry 1:");
    // to the evidence pane, then End
    s.send("\t\t");
    s.send_raw(b"\x1b[F");
    s.wait_for("FINAL LINE OF THE LOG");
    s.wait_for("100%");
    // a refusal: a level the criterion does not have
    s.send("9");
    s.wait_until("the refusal, whole", |t| {
        t.lines()
            .any(|l| l.contains("energy-use has") && l.contains("levels: press 1–"))
    });
    // a long one wraps onto lines of its own, nothing cut
    s.send("S");
    s.wait_until("the submit refusal, whole", |t| {
        let joined: String = t.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        joined.contains("cannot submit yet: choose a level for")
            && t.lines().filter(|l| l.contains("cannot submit")).count() == 1
    });
    s.send("q");
}

/// An assessor with a registered SSH key: without the key the workbench does not open as her
/// (it says why); with it (`ASSAY_KEY`), a level chosen by key is shown saved and its record is
/// signed, and the chain verifies.
#[test]
fn a_keyed_assessor_marks_with_her_key_and_her_records_are_signed() {
    use ssh_key::{LineEnding, PrivateKey};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let mut s = Session::seeded(&db);
    s.send("q");
    s.wait_exit();
    let key = PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[9; 32]));
    let private = dir.path().join("ann");
    std::fs::write(&private, key.to_openssh(LineEnding::LF).unwrap().as_bytes()).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = dir.path().join("ann.pub");
    std::fs::write(&public, key.public_key().to_openssh().unwrap()).unwrap();
    let cli = |args: &[&str], with_key: bool| {
        let mut c = assert_cmd::Command::cargo_bin("assay").unwrap();
        c.env_remove("SSH_AUTH_SOCK").env_remove("ASSAY_KEY");
        if with_key {
            c.env("ASSAY_KEY", &private);
        }
        c.arg("--db")
            .arg(&db)
            .args(["--as", "ann"])
            .args(args)
            .output()
            .unwrap()
    };
    let o = cli(
        &[
            "user",
            "add",
            "ann",
            "--role",
            "lead",
            "--key",
            public.to_str().unwrap(),
        ],
        true,
    );
    assert!(o.status.success(), "{o:?}");

    // without the key: refused, saying why, before any screen
    let mut s = Session::start(&db, 80, 24);
    s.wait_for("registered SSH key");
    s.wait_exit();
    assert!(s.child.try_wait().unwrap().is_some(), "it ends");

    // with it: marking works, and what is shown saved is signed
    let mut s = Session::start_with(&db, 80, 24, &[("ASSAY_KEY", private.as_path())]);
    s.wait_for("P-2026-0041");
    s.open_0051();
    s.send("2j");
    s.wait_for("✓ saved");
    s.kill9();
    let c = rusqlite::Connection::open(&db).unwrap();
    let (marks, signed): (i64, i64) = c
        .query_row(
            "SELECT count(*), count(sig) FROM audit WHERE actor = 'ann' AND action LIKE 'mark.%'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(
        marks >= 1 && signed == marks,
        "{marks} marks, {signed} signed"
    );
    let o = cli(&["audit", "verify"], true);
    assert!(o.status.success(), "{o:?}");
}
