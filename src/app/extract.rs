//! Text extraction at import, with a budget. DOCX and ODT are read here (bounded by the zip
//! limits of `domain::extract`); a PDF is read by a child process — the assay binary itself,
//! started as `assay __extract-pdf` — that gets the file on its standard input, may use at
//! most [`PDF_MEMORY`] bytes of memory and [`PDF_SECONDS`] seconds, and is killed past them: a
//! PDF that loops, explodes or crashes the parser is "could not extract", never a hung import.
//! (Run from a binary that is not assay — a test harness — the PDF is read on a thread with
//! the same time limit.)

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::domain::extract::{self, Doc, Extracted};

/// How long a PDF may take.
pub const PDF_SECONDS: u64 = 10;
/// How much memory the PDF reader may map.
pub const PDF_MEMORY: u64 = 2 << 30;
/// The hidden command the child runs.
pub const PDF_COMMAND: &str = "__extract-pdf";

/// The text of `name` if it is a document assay reads: `None` for any other file; an error
/// says plainly why the text could not be taken (the original stays as it is).
pub fn document(name: &str, bytes: &[u8]) -> Option<(Doc, Result<Extracted, String>)> {
    let doc = Doc::of(name, bytes)?;
    let r = match doc {
        Doc::Docx => extract::docx_text(bytes),
        Doc::Odt => extract::odt_text(bytes),
        Doc::Pdf => pdf(bytes).and_then(|pages| {
            if pages.is_empty() {
                Err("it has no page that can be read (its page tree is broken)".into())
            } else {
                Ok(extract::pdf_text(&pages))
            }
        }),
    };
    Some((doc, r))
}

/// The child's side: a PDF on standard input, its pages as JSON on standard output; exit 0,
/// or 1 with the reason on standard error.
pub fn pdf_child() -> i32 {
    let mut bytes = Vec::new();
    if std::io::stdin()
        .take(crate::app::import::MAX_EVIDENCE_BYTES + 1)
        .read_to_end(&mut bytes)
        .is_err()
    {
        eprintln!("the PDF could not be read");
        return 1;
    }
    // (a panic in the parser is the parent's "could not extract"; its message stays short)
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(|| extract::pdf_pages(&bytes)) {
        Ok(Ok(pages)) => {
            let out = serde_json::to_vec(&pages).unwrap_or_default();
            let mut o = std::io::stdout().lock();
            if o.write_all(&out).and_then(|_| o.flush()).is_err() {
                return 1;
            }
            0
        }
        Ok(Err(e)) => {
            eprintln!("{e}");
            1
        }
        Err(_) => {
            eprintln!(
                "the PDF reader failed on this file (it is malformed or uses what it does not know)"
            );
            1
        }
    }
}

fn is_assay(exe: &std::path::Path) -> bool {
    exe.file_stem().is_some_and(|s| s == "assay")
}

fn pdf(bytes: &[u8]) -> Result<Vec<String>, String> {
    match std::env::current_exe() {
        Ok(exe) if is_assay(&exe) => pdf_in_child(&exe, bytes),
        _ => pdf_on_thread(bytes),
    }
}

fn pdf_on_thread(bytes: &[u8]) -> Result<Vec<String>, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = bytes.to_vec();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| extract::pdf_pages(&owned))
            .unwrap_or_else(|_| Err("the PDF reader failed on this file".into()));
        let _ = tx.send(r);
    });
    rx.recv_timeout(Duration::from_secs(PDF_SECONDS))
        .unwrap_or_else(|_| Err(format!("reading it took more than {PDF_SECONDS} s")))
}

fn pdf_in_child(exe: &std::path::Path, bytes: &[u8]) -> Result<Vec<String>, String> {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(exe);
    cmd.arg(PDF_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_clear();
    // SAFETY: between fork and exec only async-signal-safe calls (setrlimit) are made.
    unsafe {
        cmd.pre_exec(|| {
            let lim = |r, n: u64| {
                let l = libc::rlimit {
                    rlim_cur: n as libc::rlim_t,
                    rlim_max: n as libc::rlim_t,
                };
                libc::setrlimit(r, &l);
            };
            lim(libc::RLIMIT_AS, PDF_MEMORY);
            lim(libc::RLIMIT_CPU, PDF_SECONDS + 1);
            lim(libc::RLIMIT_CORE, 0);
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("the PDF reader could not be started: {e}"))?;
    // Feed it and read it on threads, so that neither pipe can fill and stall the other.
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let input = bytes.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let limit = (extract::MAX_TEXT_BYTES as u64) * 4;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(limit + 1).read_to_end(&mut out);
        out
    });
    let errs = std::thread::spawn(move || {
        let mut e = String::new();
        let _ = (&mut stderr).take(4096).read_to_string(&mut e);
        e
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > Duration::from_secs(PDF_SECONDS) => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let _ = feeder.join();
    let out = reader.join().unwrap_or_default();
    let err = errs.join().unwrap_or_default();
    match status {
        None => Err(format!("reading it took more than {PDF_SECONDS} s")),
        Some(s) if s.success() => {
            if out.len() as u64 > limit {
                return Err("its text is larger than assay keeps".into());
            }
            serde_json::from_slice(&out).map_err(|_| "the PDF reader's answer was cut off".into())
        }
        Some(_) => {
            let e = crate::domain::sanitize::sanitize_line(err.trim());
            Err(if e.is_empty() {
                "the PDF reader stopped on this file (it ran out of its memory or time budget, or the file is malformed)".into()
            } else {
                e
            })
        }
    }
}
